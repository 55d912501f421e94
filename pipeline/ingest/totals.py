"""The rows a unit adds up in its own return — 合计, 小计, group headings — checked against their data rows.

None of them is ever counted as data. Each states amounts the unit computed;
where a stated amount disagrees with the sum of the rows it covers, that is a
finding for the unit (合计与明细之和不符), not something to ignore:
- a 合计 (total) covers every data row of the sheet, wherever it stands — a 合计
  right under the header covers the rows below it;
- a 小计 (subtotal) covers the rows since the last 小计 or group heading, or, when
  that does not add up, a whole open group (产业项目小计 after its sub-groups);
- a group heading (一、产业项目（12个）, （一）利通区) covers the rows until the next
  heading of its level or higher; its stated count (12个) is checked too.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from pipeline.ingest.headers import Header, group_level, numbered_heading
from pipeline.ingest.records import is_bad

# A stated total may differ from the sum of its rows by rounding: at most 1 万元
# or 0.05% of the total, whichever is larger.
TOTAL_TOLERANCE_WAN = 1.0
TOTAL_TOLERANCE_SHARE = 0.0005

_COUNT = re.compile(r"\((?:共|计)?(\d+)(?:个|项)")


@dataclass
class _Group:
    level: int
    raw: list
    label: str
    excel_row: int
    rows: list[dict] = field(default_factory=list)


@dataclass
class TotalsCheck:
    """Walks a sheet's rows in order and reports every stated total that does not add up.

    money: (index, column name, header text, parse) of each money column;
    problem: the sheet's problem callback (row, column, value, text, fix, severity, code).
    """

    money: list[tuple[int, str, str, Callable[[Any], Any]]]
    problem: Callable[..., None]
    all_rows: list[dict] = field(default_factory=list)
    section: list[dict] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    leading: list[tuple[list, int, str]] = field(default_factory=list)

    @classmethod
    def for_header(cls, header: Header, parsers: dict[int, Callable], problem) -> "TotalsCheck":
        money = [(c.index, c.column, c.written, parsers[c.index]) for c in header.known if c.index in parsers]
        return cls(money, problem)

    def data(self, record: dict) -> None:
        self.all_rows.append(record)
        self.section.append(record)
        for group in self.groups:
            group.rows.append(record)

    def total(self, raw: list, excel_row: int, label: str) -> None:
        if not self.all_rows:  # a 合计 right under the header totals the rows below it
            self.leading.append((raw, excel_row, label))
            return
        self._check(raw, excel_row, label, [self.all_rows])

    def subtotal(self, raw: list, excel_row: int, label: str) -> None:
        candidates = [self.section] + [g.rows for g in reversed(self.groups)]
        self._check(raw, excel_row, label, candidates)
        self.section = []

    def group(self, raw: list, excel_row: int, label: str, seq: str) -> None:
        level = group_level(label, seq) or 3
        numbered = numbered_heading(seq) or numbered_heading(label)  # （1） over 1.1, 1.2 (layout.numbered_groups)
        if numbered and level not in (1, 2):  # its number, not its count (产业项目（2个）), gives its level
            level = numbered[1]
        self._close(level)
        self.groups.append(_Group(level, raw, label, excel_row))
        self.section = []

    def finish(self) -> None:
        self._close(0)
        for raw, excel_row, label in self.leading:
            self._check(raw, excel_row, label, [self.all_rows])

    def _close(self, level: int) -> None:
        while self.groups and self.groups[-1].level >= level:
            group = self.groups.pop()
            self._check(group.raw, group.excel_row, group.label, [group.rows])
            self._check_count(group)

    def _check(self, raw: list, excel_row: int, label: str, candidates: list[list[dict]]) -> None:
        """Report each money column whose stated amount matches none of the candidate row sets."""
        for index, column, written, parse in self.money:
            stated = parse(raw[index]).value if index < len(raw) else None
            if stated is None:
                continue
            sums = [_sum(rows, column) for rows in candidates]
            if any(s is None or _close_enough(stated, s) for s in sums):
                continue  # None: an unreadable detail cell, reported on its own row already
            summed = sums[0]
            self.problem(excel_row, written, raw[index],
                         f"“{label}”行与明细之和不符：该行为{stated:,.2f}万元，明细之和为{summed:,.2f}万元，"
                         f"相差{stated - summed:,.2f}万元", "请核对该行或明细数据", "错误", "total_mismatch")

    def _check_count(self, group: _Group) -> None:
        m = _COUNT.search(unicodedata.normalize("NFKC", group.label))
        if m and int(m.group(1)) != len(group.rows):
            self.problem(group.excel_row, "", group.label,
                         f"分组行“{group.label}”写明{m.group(1)}个，其下实际有{len(group.rows)}行数据",
                         "请核对分组的项目个数或明细行", "错误", "group_count_mismatch")


def _sum(rows: list[dict], column: str) -> float | None:
    if any(is_bad(r, column) for r in rows):
        return None
    return sum(r.get(column) or 0 for r in rows)


def _close_enough(stated: float, summed: float) -> bool:
    return abs(stated - summed) <= max(TOTAL_TOLERANCE_WAN, TOTAL_TOLERANCE_SHARE * abs(stated))
