"""The files of step 1 a person opens, in Chinese: 台账.xlsx (the ledger) and 隔离行.xlsx (the quarantine).

ledger.csv and quarantine.parquet stay as the chain reads them (English column names: machine-readable files,
see docs/returns.md); what the analyst opens in Excel or WPS has Chinese headers, declared once here.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import paths
from pipeline.excel import write_workbook

# ledger.csv's columns as 台账.xlsx names them (every column: a ledger column nobody named is an error, not English).
LEDGER_LABELS = {
    "file": "文件", "sheet": "工作表", "unit": "填报单位", "return_kind": "报表类型", "data_rows": "数据行",
    "kept": "采用", "kept_with_problems": "采用（其中有存疑取值）", "quarantined": "隔离",
    "skipped_rows": "跳过的非数据行",
    "blank_rows": "空行", "money_raw_wan": "金额：原始(万元)", "money_kept_wan": "金额：采用(万元)",
    "money_set_aside_wan": "金额：存疑未计入(万元)", "money_quarantined_wan": "金额：隔离(万元)", "status": "读取情况",
    "note": "说明", "corrected": "应用的更正(条)",
}
LEDGER_NOTE = ("每个文件、每个工作表一行：数据行＝采用＋隔离；金额“原始＝采用＋隔离”（万元）。"
               "同一内容供程序读取的文件是 ledger.csv（英文列名）。")
# The quarantine's columns besides those of cleaning.QUARANTINE_LABELS.
QUARANTINE_EXTRA = {"duplicate": "重复填报"}


def ledger_table(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger with Chinese headers, in ledger.csv's order; a column without a label raises (declare it above)."""
    unnamed = [c for c in ledger.columns if c not in LEDGER_LABELS]
    if unnamed:
        raise KeyError(f"ledger columns without a Chinese label in LEDGER_LABELS: {unnamed}")
    return ledger.rename(columns=LEDGER_LABELS)


def save_ledger_workbook(ledger: pd.DataFrame, out_dir: Path, *, background: bool = False) -> Path:
    """data/processed/<round>/台账.xlsx."""
    return write_workbook(Path(out_dir) / paths.LEDGER_WORKBOOK, {"台账": ledger_table(ledger)},
                          notes={"台账": LEDGER_NOTE}, background=background)


def quarantine_table(quarantine: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The quarantine with Chinese headers only: labels (cleaning's) and QUARANTINE_EXTRA; 是/否 for flags."""
    return quarantine.rename(columns={**labels, **QUARANTINE_EXTRA})


# The ledger as notebook 1 shows it: one short row per file and sheet (the full ledger is 台账.xlsx).
COMPACT_LEDGER = ("file", "sheet", "unit", "return_kind", "data_rows", "kept", "quarantined", "skipped_rows",
                  "money_raw_wan", "status")


def compact_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger for a reviewer's screen: the columns that reconcile, Chinese headers, 万元 rounded to whole
    numbers."""
    columns = [c for c in COMPACT_LEDGER if c in ledger]
    money = [c for c in columns if c.startswith("money_")]
    return ledger[columns].assign(**{c: ledger[c].round(0) for c in money}).pipe(ledger_table)


def shown_files(written) -> list[str]:
    """The files a step wrote, by name (not as Path objects): what a notebook cell shows after saving."""
    return [Path(p).name for p in written]
