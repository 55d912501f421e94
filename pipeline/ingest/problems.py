"""One thing for a unit (or the analyst) to fix: the record every check of the cleaning stage writes.

Shared by the cleaning and the corrections it applies, so that both join one problem list,
the one 退回修改清单.xlsx is made from.
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR, HINT = "错误", "提示"

# Notices for the analyst, never for a unit's list or its counts: the analyst's own desk and round.yml
# (lock files and other leftovers, a file saved twice, a unit name round.yml spells differently, a loose match).
ANALYST_CODES = frozenset({"lock_file", "desk_leftover", "identical_file", "unit_not_in_round", "loose_unit"})


@dataclass
class Problem:
    """One thing to fix. Row is the Excel row number the unit sees (None for a file- or sheet-level problem)."""

    unit: str
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    problem: str
    fix: str
    severity: str = ERROR
    code: str = ""
