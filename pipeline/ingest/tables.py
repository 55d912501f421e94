"""The round's rows to the clean tables, the quarantine, the problems and the ledger; typing and saving them
(their columns are declared, and they are loaded, in artifacts.py), and the check that nothing was lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import paths, schemas
from pipeline.ingest import corrections, quality
from pipeline.ingest.artifacts import HEADER_MAP_COLUMNS, PROVENANCE, QUARANTINE_COLUMNS, ROW_QUALITY, clean_columns
from pipeline.ingest.ledger import ledger_frame
from pipeline.ingest.problems import ERROR, Problem
from pipeline.ingest.rowtable import original_of, state_of
from pipeline.rounds import Round
from pipeline.schemas import ReturnKind

PROVENANCE_LABELS = {"unit": "填报单位", "file": "文件", "sheet": "工作表", "row": "行号"}


HEADER_MAP_LABELS = {"file": "文件", "sheet": "工作表", "return_kind": "报表类型", "excel_row": "表头所在行",
                     "written": "表头原文", "column": "标准列名", "label": "标准列", "how": "匹配方式", "note": "说明",
                     "score": "含义得分", "words": "依据的词"}


@dataclass
class RoundResult:
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    problems: pd.DataFrame
    ledger: pd.DataFrame
    missing_units: list[str]
    header_map: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HEADER_MAP_COLUMNS))
    corrections: pd.DataFrame | None = None  # the corrections applied (corrections.APPLIED_COLUMNS)


def assemble(rows: pd.DataFrame, problems: list[Problem], ledger: list[dict], round_: Round) -> RoundResult:
    """The settled round's rows (rowtable.round_frame) to the clean tables (kept rows, by kind), the quarantine,
    the ledger and the problem list, column by column; the row state is read once (rowtable.state_of)."""
    state = state_of(rows)
    quarantined = state["quarantined"].to_numpy()
    kinds = state["return_kind"].to_numpy()
    tables = {}
    for name, kind in schemas.RETURN_KINDS.items():
        columns = [c for c in clean_columns(kind) if c not in ROW_QUALITY]
        mine = ~quarantined & (kinds == name)
        frame = rows.loc[mine, columns].reset_index(drop=True)
        for column in ROW_QUALITY:  # the row's quality, from the state's columns
            frame[column] = state[column].to_numpy()[mine]
        tables[name] = typed(frame, kind)
    q_rows = state[quarantined]
    quarantine = pd.DataFrame({
        **{c: q_rows[c] for c in PROVENANCE},
        "return_kind": q_rows["return_kind"].map(lambda n: schemas.RETURN_KINDS[n].label),
        "reasons": q_rows["reasons"],
        "original": [original_of(cells, header) for cells, header in
                     zip(rows["source_cells"][quarantined].tolist(), rows["source_header"][quarantined])],
        "money_wan": q_rows["money_wan"] + q_rows["set_aside_wan"],
        "duplicate": q_rows["duplicate"],
    }, columns=QUARANTINE_COLUMNS).reset_index(drop=True)
    ledger_table = ledger_frame(ledger, state)
    received = set(ledger_table.loc[ledger_table["status"] != "", "unit"])
    missing = [u for u in round_.units if u not in received]
    for unit in missing:
        problems.append(Problem(unit, "", "", None, "", "", "未报送", "请按要求报送本轮报表", ERROR, "missing_return"))
    problem_frame = pd.DataFrame([p.__dict__ for p in problems], columns=list(Problem.__dataclass_fields__))
    problem_frame["row"] = problem_frame["row"].astype("Int64")
    return RoundResult(tables=tables, quarantine=quarantine, problems=problem_frame, ledger=ledger_table,
                       missing_units=missing)


def typed(frame: pd.DataFrame, kind: ReturnKind) -> pd.DataFrame:
    """Give each column of a clean table its schema type (nullable where values may be missing)."""
    types = {}
    for column in kind.columns:
        if column.name not in frame:
            continue
        if column.type in (schemas.MONEY, schemas.NUMBER):
            types[column.name] = "float64"
        elif column.type == schemas.BOOL:
            types[column.name] = "boolean"
        elif column.type == schemas.MONTH:
            types[column.name] = "Int64"
        elif column.type != schemas.DATE:
            types[column.name] = "string"
    types |= {"unit": "string", "file": "string", "sheet": "string", "row": "int64", "extra": "string",
              "issues": "string", "set_aside_wan": "float64"}
    frame = frame.astype({c: t for c, t in types.items() if c in frame})
    for column in kind.names_of(schemas.DATE):
        frame[column] = pd.to_datetime(frame[column])
    return frame


# --------------------------------------------------------------------------- saving


def save_clean(result: RoundResult, out_dir: Path, *, background: bool = False) -> list[Path]:
    """Write the clean tables (parquet for the chain, xlsx for people), the quarantine, the problems and ledger.csv.

    background: 清洗数据.xlsx, which no later step reads, is written by a background writer (see
    excel.write_workbook) while the chain goes on; the runner waits for it before publishing the run."""
    from pipeline.excel import write_workbook
    from pipeline.ingest import workbooks

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result.tables.items():
        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
        written.append(out_dir / f"{name}.parquet")
    result.quarantine.to_parquet(out_dir / paths.QUARANTINE, index=False)
    result.problems.to_parquet(out_dir / paths.PROBLEMS, index=False)
    result.ledger.to_csv(out_dir / paths.LEDGER, index=False, encoding="utf-8")
    corrections.save_applied(result.corrections, out_dir)
    sheets = {schemas.RETURN_KINDS[n].label: _labelled(f, schemas.RETURN_KINDS[n]) for n, f in result.tables.items()}
    written.append(write_workbook(out_dir / paths.CLEAN_WORKBOOK, sheets, background=background))
    result.header_map.to_parquet(out_dir / paths.HEADER_MAP, index=False)
    written.append(write_workbook(out_dir / paths.HEADER_MAP_WORKBOOK, {"表头对照": header_map_table(result)},
                                  notes={"表头对照": "每个文件、每个工作表的每个表头如何对应到标准列；"
                                                     "“表外信息”为从标题、单位行、工作表名或文件名读到的内容。"}))
    written.append(workbooks.save_ledger_workbook(result.ledger, out_dir))
    written.append(write_workbook(out_dir / paths.QUARANTINE_WORKBOOK,
                                  {"隔离行": workbooks.quarantine_table(result.quarantine, QUARANTINE_LABELS)},
                                  notes={"隔离行": "以下数据行未进入清洗表，原因见“隔离原因”；原始内容原样保留。"}))
    return written + [out_dir / name for name in (paths.QUARANTINE, paths.PROBLEMS, paths.LEDGER, paths.HEADER_MAP)]


def header_map_table(result: RoundResult) -> pd.DataFrame:
    """The 表头对照 with Chinese column names, as notebook 1 and 表头对照.xlsx show it."""
    return result.header_map.rename(columns=HEADER_MAP_LABELS)


QUARANTINE_LABELS = {**PROVENANCE_LABELS, "return_kind": "报表类型", "reasons": "隔离原因", "original": "原始内容",
                     "money_wan": "可读金额合计(万元)"}


def _labelled(frame: pd.DataFrame, kind: ReturnKind) -> pd.DataFrame:
    labels = {**PROVENANCE_LABELS, "extra": "其他列"}
    labels.update({c.name: c.label + ("(万元)" if c.type == schemas.MONEY else "") for c in kind.columns})
    return frame.rename(columns=labels)


class LedgerError(AssertionError):
    """The ledger does not reconcile: a row or an amount went missing between raw and clean."""


def check_ledger(result: RoundResult) -> pd.DataFrame:
    """Prove nothing was lost: per file and sheet, data rows = kept + quarantined, and money as read =
    money used + money set aside; and the clean tables and the quarantine hold the rows the ledger counts.

    Returns the ledger; raises LedgerError naming the file and sheet otherwise.
    """
    ledger = result.ledger
    found = quality.ledger_discrepancies(ledger)
    if found:
        raise LedgerError("；".join(found))
    kept = sum(len(t) for t in result.tables.values())
    if kept != ledger["kept"].sum() or len(result.quarantine) != ledger["quarantined"].sum():
        raise LedgerError(f"台账不平：清洗表{kept}行、隔离表{len(result.quarantine)}行，与台账合计不符")
    return ledger
