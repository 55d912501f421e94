"""One place for the project's paths.

Everything else derives its locations from here, so a round's inputs and
outputs can be found without reading any other module.
"""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PACKAGE_DIR = Path(__file__).resolve().parent

# The header alias table: data an analyst extends when a unit writes a header
# the pipeline does not know yet.
HEADER_ALIASES_FILE = DATA_DIR / "header_aliases.csv"

# The bundled sample round that `make report` runs.
SAMPLE_ROUND = "2021-12"


def raw_round_dir(round_id: str, root: Path | None = None) -> Path:
    return (root / "data" / "raw" if root else RAW_DATA_DIR) / round_id


def processed_round_dir(round_id: str, root: Path | None = None) -> Path:
    return (root / "data" / "processed" if root else PROCESSED_DATA_DIR) / round_id


def outputs_round_dir(round_id: str, root: Path | None = None) -> Path:
    return (root / "outputs" if root else OUTPUTS_DIR) / round_id


def step_summary_path(round_id: str, notebook_stem: str, root: Path | None = None) -> Path:
    """Where a notebook leaves the few Chinese lines the runner prints after its step."""
    return outputs_round_dir(round_id, root) / "summaries" / f"{notebook_stem}.txt"
