"""The ledger (台账): one row per file and sheet, rows and money as read, kept, set aside and quarantined."""
from __future__ import annotations

import pandas as pd


def unread_file(rel: str, unit: str, status: str, note: str) -> dict:
    return dict(file=rel, sheet="", unit=unit, return_kind="", status=status, data_rows=0, kept=0, kept_with_problems=0,
                quarantined=0, skipped_rows=0, blank_rows=0, money_raw_wan=0.0, note=note)


LEDGER_COLUMNS = ["file", "sheet", "unit", "return_kind", "data_rows", "kept", "kept_with_problems", "quarantined",
                  "skipped_rows", "blank_rows", "money_raw_wan", "money_kept_wan", "money_set_aside_wan",
                  "money_quarantined_wan", "status", "note", "corrected"]
_LEDGER_COUNTS = ["kept", "kept_with_problems", "quarantined"]
_LEDGER_MONEY = ["money_kept_wan", "money_set_aside_wan", "money_quarantined_wan"]


def ledger_frame(ledger: list[dict], state: pd.DataFrame) -> pd.DataFrame:
    """One row per file and sheet: rows read, kept (and of those with a problem), quarantined, skipped;
    money as read = money used + money set aside (quarantined rows and cells left out of the sums).

    ledger: each sheet's (and each unread file's) entry as cleaning wrote it; state: the round's rows
    (rowtable.state_of), whose columns give the counts and the money."""
    frame = pd.DataFrame(ledger, columns=[c for c in LEDGER_COLUMNS if c not in _LEDGER_COUNTS + _LEDGER_MONEY])
    q, money, aside = state["quarantined"], state["money_wan"], state["set_aside_wan"]
    out = pd.DataFrame({"file": state["file"], "sheet": state["sheet"], "kept": ~q,
                        "kept_with_problems": ~q & state["issues"].notna(), "quarantined": q,
                        "money_kept_wan": money.where(~q, 0.0), "money_set_aside_wan": aside + money.where(q, 0.0),
                        "money_quarantined_wan": (aside + money).where(q, 0.0)})
    counts = out.groupby(["file", "sheet"], as_index=False)[_LEDGER_COUNTS + _LEDGER_MONEY].sum()
    frame = frame.merge(counts, on=["file", "sheet"], how="left")
    frame[_LEDGER_COUNTS] = frame[_LEDGER_COUNTS].fillna(0).astype(int)
    frame["corrected"] = frame["corrected"].fillna(0).astype(int)
    frame[_LEDGER_MONEY] = frame[_LEDGER_MONEY].astype(float).fillna(0.0)
    return frame[LEDGER_COLUMNS]
