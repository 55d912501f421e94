"""One place for the project's paths.

Everything else derives its locations from here, so a round's inputs and
outputs can be found without reading any other module. ``RoundPaths(root,
round_id)`` names every path of one round; the module-level names are the
project's own folders (``root`` defaults to the project itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PACKAGE_DIR = Path(__file__).resolve().parent

# The report's templates (Jinja2 text, the nbconvert HTML template, the docx fonts.conf): package data.
TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"

# Developer tooling (pipeline/devtools/: the sample generator, the benchmark); not pipeline code, so editing it
# does not rerun a round (pipeline/run/runner.py leaves this folder out of the code digest of the rerun manifest).
DEVTOOLS = ("devtools",)

# The header alias table: data an analyst extends when a unit writes a header
# the pipeline does not know yet.
ALIASES_NAME = "header_aliases.csv"
HEADER_ALIASES_FILE = DATA_DIR / ALIASES_NAME

# The bundled sample round that `make report` runs.
SAMPLE_ROUND = "2021-12"

# Names inside outputs/<round>/.
EXECUTED_NOTEBOOKS = "notebooks"
FIGURES = "figures"
SUMMARIES = "summaries"
MANIFEST = "run_manifest.json"


@dataclass(frozen=True)
class RoundPaths:
    """Every path of one round under a project root (the project itself, a staging folder or a test's tmp_path)."""

    root: Path
    round_id: str

    @property
    def raw(self) -> Path:
        return Path(self.root) / "data" / "raw" / self.round_id

    @property
    def processed(self) -> Path:
        return Path(self.root) / "data" / "processed" / self.round_id

    @property
    def outputs(self) -> Path:
        return Path(self.root) / "outputs" / self.round_id

    @property
    def notebooks(self) -> Path:
        """The chain's notebooks (the unexecuted sources, shared by every round)."""
        return Path(self.root) / "notebooks"

    @property
    def executed(self) -> Path:
        """The executed copies of the notebooks, one per step."""
        return self.outputs / EXECUTED_NOTEBOOKS

    @property
    def aliases(self) -> Path:
        return Path(self.root) / "data" / ALIASES_NAME

    @property
    def manifest(self) -> Path:
        return self.outputs / MANIFEST

    @property
    def figures(self) -> Path:
        return self.outputs / FIGURES

    @property
    def summaries(self) -> Path:
        return self.outputs / SUMMARIES

    def summary(self, notebook_stem: str) -> Path:
        """Where a notebook leaves the few Chinese lines the runner prints after its step."""
        return self.summaries / f"{notebook_stem}.txt"


def round_paths(round_id: str, root: Path | None = None) -> RoundPaths:
    """A round's paths; under the project itself unless root is given."""
    return RoundPaths(Path(root) if root else PROJECT_ROOT, round_id)


def raw_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).raw if root else RAW_DATA_DIR / round_id


def processed_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).processed if root else PROCESSED_DATA_DIR / round_id


def outputs_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).outputs if root else OUTPUTS_DIR / round_id


def step_summary_path(round_id: str, notebook_stem: str, root: Path | None = None) -> Path:
    """Where a notebook leaves the few Chinese lines the runner prints after its step."""
    return RoundPaths(root, round_id).summary(notebook_stem) if root else (
        OUTPUTS_DIR / round_id / SUMMARIES / f"{notebook_stem}.txt")
