"""The ledger (台账): one row per file and sheet, rows and money as read, kept, set aside and quarantined."""
from __future__ import annotations

import pandas as pd

from pipeline.ingest.checks import money_total
from pipeline.ingest.records import records_frame


def unread_file(rel: str, unit: str, status: str, note: str) -> dict:
    return dict(file=rel, sheet="", unit=unit, return_kind="", status=status, data_rows=0, kept=0, kept_with_problems=0,
                quarantined=0, skipped_rows=0, blank_rows=0, money_raw_wan=0.0, note=note)


LEDGER_COLUMNS = ["file", "sheet", "unit", "return_kind", "data_rows", "kept", "kept_with_problems", "quarantined",
                  "skipped_rows", "blank_rows", "money_raw_wan", "money_kept_wan", "money_set_aside_wan",
                  "money_quarantined_wan", "status", "note", "corrected"]
_LEDGER_COUNTS = ["kept", "kept_with_problems", "quarantined"]
_LEDGER_MONEY = ["money_kept_wan", "money_set_aside_wan", "money_quarantined_wan"]


def ledger_frame(ledger: list[dict], records: list[dict]) -> pd.DataFrame:
    """One row per file and sheet: rows read, kept (and of those with a problem), quarantined, skipped;
    money as read = money used + money set aside (quarantined rows and cells left out of the sums)."""
    frame = pd.DataFrame(ledger, columns=[c for c in LEDGER_COLUMNS if c not in _LEDGER_COUNTS + _LEDGER_MONEY])
    rows = []
    for r in records:
        q, money = bool(r["_reasons"]), money_total(r)
        rows.append({"file": r["file"], "sheet": r["sheet"], "kept": not q,
                     "kept_with_problems": not q and bool(r["_issues"]),
                     "quarantined": q, "money_kept_wan": 0.0 if q else money,
                     "money_set_aside_wan": r["_set_aside_wan"] + (money if q else 0.0),
                     "money_quarantined_wan": r["_set_aside_wan"] + money if q else 0.0})
    out = records_frame(rows, ["file", "sheet", *_LEDGER_COUNTS, *_LEDGER_MONEY])
    counts = out.groupby(["file", "sheet"], as_index=False)[_LEDGER_COUNTS + _LEDGER_MONEY].sum()
    frame = frame.merge(counts, on=["file", "sheet"], how="left")
    frame[_LEDGER_COUNTS] = frame[_LEDGER_COUNTS].fillna(0).astype(int)
    frame["corrected"] = frame["corrected"].fillna(0).astype(int)
    frame[_LEDGER_MONEY] = frame[_LEDGER_MONEY].astype(float).fillna(0.0)
    return frame[LEDGER_COLUMNS]
