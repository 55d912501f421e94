"""What step 1 leaves in data/processed/<round>/ for the later steps: each artifact's columns, declared once, and
its one loader, which checks them.

| artifact | columns | loader |
|---|---|---|
| ledger.csv | ledger.LEDGER_COLUMNS | load_ledger |
| problems.parquet | PROBLEM_COLUMNS (problems.Problem's fields) | load_problems |
| quarantine.parquet | QUARANTINE_COLUMNS | load_quarantine |
| header_map.parquet | HEADER_MAP_COLUMNS | load_header_map |
| <kind>.parquet (the clean tables) | clean_columns(kind) | load_clean_table, load_clean_tables |

tables.save_clean writes them; quality, the report, the figures, the templates and the corrections skeleton read
them here, never with a read_csv or read_parquet of their own. A file whose columns are not the declared ones (written
by an older version, or edited by hand) stops the reader with a Chinese message saying to run step 1 again.
(corrections.parquet has its own loader beside the corrections: corrections.load_applied.)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import paths, schemas
from pipeline.ingest.ledger import LEDGER_COLUMNS
from pipeline.ingest.problems import Problem
from pipeline.schemas import ReturnKind

# Where each row of a clean table or the quarantine came from.
PROVENANCE = ["unit", "file", "sheet", "row"]
# Per kept row: what was wrong with its cells (None when nothing), and the amount of the cells left out of the sums.
ROW_QUALITY = ["issues", "set_aside_wan"]
QUARANTINE_COLUMNS = [*PROVENANCE, "return_kind", "reasons", "original", "money_wan", "duplicate"]
PROBLEM_COLUMNS = list(Problem.__dataclass_fields__)
HEADER_MAP_COLUMNS = ["file", "sheet", "return_kind", "excel_row", "written", "column", "label", "how", "note",
                      "score", "words"]


def clean_columns(kind: ReturnKind) -> list[str]:
    """A clean table's columns: provenance, the return's columns (序号 aside), other columns, the row's quality."""
    return [*PROVENANCE, *(c.name for c in kind.columns if c.type != schemas.SEQ), "extra", *ROW_QUALITY]


class ArtifactError(ValueError):
    """A file of step 1 is not what step 1 writes; the message (Chinese) says which columns and what to do."""


def _checked(frame: pd.DataFrame, columns: list[str], path: Path) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        said = "；".join(part for part in (f"缺少列：{'、'.join(missing)}" if missing else "",
                                            f"多出列：{'、'.join(map(str, extra))}" if extra else "") if part)
        raise ArtifactError(f"{path} 与第1步（清洗报表）写出的格式不符（{said}），可能由旧版本程序写出或被改动过："
                            f"请重新运行第1步，例如 make report ROUND={path.parent.name}。")
    return frame


def load_ledger(processed_dir: Path) -> pd.DataFrame:
    """ledger.csv: one row per file and sheet. Only an empty cell is missing (a sheet named “NA” stays “NA”)."""
    path = Path(processed_dir) / paths.LEDGER
    return _checked(pd.read_csv(path, keep_default_na=False, na_values=[""]), LEDGER_COLUMNS, path)


def load_problems(processed_dir: Path) -> pd.DataFrame:
    """problems.parquet: every problem of the round (退回修改清单's rows)."""
    path = Path(processed_dir) / paths.PROBLEMS
    return _checked(pd.read_parquet(path), PROBLEM_COLUMNS, path)


def load_quarantine(processed_dir: Path) -> pd.DataFrame:
    """quarantine.parquet: the rows set aside, with their reasons and the row as written."""
    path = Path(processed_dir) / paths.QUARANTINE
    return _checked(pd.read_parquet(path), QUARANTINE_COLUMNS, path)


def load_header_map(processed_dir: Path) -> pd.DataFrame | None:
    """header_map.parquet (表头对照); None for a round cleaned before step 1 wrote it."""
    path = Path(processed_dir) / paths.HEADER_MAP
    return _checked(pd.read_parquet(path), HEADER_MAP_COLUMNS, path) if path.is_file() else None


def load_clean_table(processed_dir: Path, kind: str) -> pd.DataFrame:
    """One clean table, <kind>.parquet."""
    path = Path(processed_dir) / f"{kind}.parquet"
    return _checked(pd.read_parquet(path), clean_columns(schemas.RETURN_KINDS[kind]), path)


def load_clean_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The clean tables a later notebook reads: {kind name: DataFrame}."""
    return {name: load_clean_table(processed_dir, name) for name in schemas.RETURN_KINDS}


def cleaned_tables(round_id: str, root: Path | None = None) -> dict[str, pd.DataFrame] | None:
    """A round's clean tables as its step 1 wrote them (data/processed/<round>/); None when it was not cleaned.

    The previous round is read this way, never cleaned again in memory: the runner cleans it first.
    """
    where = paths.round_paths(round_id, root)
    if not all(where.clean_table(kind).is_file() for kind in schemas.RETURN_KINDS):
        return None
    return load_clean_tables(where.processed)
