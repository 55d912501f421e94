"""The row checks: what is wrong with a parsed record, and what that does to the row.

A row that cannot be counted at all (no project name) is quarantined (its ``_reasons``); otherwise the row is
kept and the wrong value set aside (left out of every sum, remembered in ``_aside`` so a 保留 correction can put it
back) or kept as written, and the unit is asked to fix it either way (``_issues``). Also: a sheet whose money unit
is in doubt has every amount set aside (leave_out_money). The row's state is changed through records.py, where
it is declared.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

from pipeline import schemas
from pipeline.ingest.headers import Header
from pipeline.ingest.problems import ERROR
from pipeline.ingest.records import (
    add_issue,
    doubt_unit,
    is_bad,
    kind_of,
    mark_bad,
    quarantine,
    remember_aside,
    rules_of,
)
from pipeline.rounds import Round
from pipeline.schemas import ReturnKind

# 项目编号 written where the project has no code yet: no code, so never the identity of a project.
PLACEHOLDER_CODE = re.compile(r"^\s*(?:待赋码|未赋码|暂未赋码|待赋|待申请|申请中|待定|暂无|"
                              r"未取得|无编号|无代码|[-—－/\\]+)\s*$")


# What a row check does to the value it finds wrong. Only a row that cannot be counted at all
# (no project name) is quarantined; otherwise the row is kept and the value set aside (left out
# of every sum) or kept as written, and the unit is asked to fix it either way.
QUARANTINE, SET_ASIDE, KEEP = "quarantine", "set_aside", "keep"


def check_row(record: dict, kind: ReturnKind, as_of, absent: frozenset[str] = frozenset()):
    """The row checks: (column, problem, fix, code, action) for each thing wrong with a parsed record.

    absent: required columns the sheet does not have (reported once for the sheet, not on every row).
    """
    found = []
    rules = rules_of(kind)
    for name in rules.required:
        if record.get(name) is None and not is_bad(record, name) and name not in absent:
            found.extend(_empty_required(record, kind, name))
    for name in rules.money:
        if (record.get(name) or 0) < 0:
            found.append((name, "金额为负数，未计入合计", "请填写不小于0的金额", "negative_amount", SET_ASIDE))
    total, completed, plan = record.get("total_investment"), record.get("completed"), record.get("annual_plan")
    if total is not None and completed is not None and completed > total:
        found.append(("completed", f"累计完成投资（{completed:,.2f}万元）大于总投资（{total:,.2f}万元）",
                      "请核对累计完成投资和总投资，注意金额单位是否一致", "completed_over_total", KEEP))
    if total is not None and plan is not None and plan > total:
        found.append(("annual_plan", f"年度计划投资（{plan:,.2f}万元）大于总投资（{total:,.2f}万元）",
                      "请核对年度计划投资和总投资，注意金额单位是否一致", "plan_over_total", KEEP))
    for name in rules.dates:
        day = record.get(name)
        if day is not None and day > as_of and not kind.column(name).planned:
            found.append((name, f"{kind.column(name).label}（{day:%Y年%m月%d日}）"
                                f"晚于数据截至日期（{as_of:%Y年%m月%d日}）",
                          "请核对日期；尚未发生的请不要填写", "date_after_cutoff", SET_ASIDE))
    if kind.name == "fai" and record.get("cum_value") is None and record.get("yoy_pct") is None:
        found.append(("cum_value", "累计完成额和累计增速都未填写", "请至少填写其中一项", "required_empty", KEEP))
    return found


def _empty_required(record: dict, kind: ReturnKind, name: str):
    """A required cell left empty: the row goes to the quarantine only when it cannot be counted without it.

    累计完成投资 left empty (or “—”, “无”) in a project marked not started is evidently 0.
    """
    column = kind.column(name)
    if name == "completed" and record.get("started") is False:
        record[name] = 0.0
        return []
    label = column.label
    if name in kind.identity:
        return [(name, f"{label}未填写，无法作为一行数据统计", f"请填写{label}", "required_empty", QUARANTINE)]
    fix = f"请填写{label}" + ("（没有请填0）" if column.type == schemas.MONEY else "")
    if name == "completed":
        fix = "该项目已开工或开工情况未填，完成投资不能视为0：请填写累计完成投资"
    return [(name, f"{label}未填写", fix, "required_empty", KEEP)]


def bad_cell(record: dict, name: str, issue: str) -> None:
    mark_bad(record, name)
    add_issue(record, issue)


def absent_required(header: Header, defaults: dict[str, Any]) -> frozenset[str]:
    """The required columns the sheet lacks and no value around the table fills."""
    return frozenset(m for m in header.missing_required if m not in defaults)


@dataclass(frozen=True)
class RowContext:
    """What every data row of one sheet is read and checked with, worked out once for the sheet."""

    header: Header
    cells: tuple  # how each column is read (rows.CellReader), in the sheet's order
    problem: Callable[..., None]  # the sheet's problem(row, column, value, text, fix, severity, code)
    as_of: dt.date  # the round's 数据截至日期: a date after it has not happened yet
    defaults: dict[str, Any]  # values found around the table that fill an empty cell (the batch of a sheet)
    absent: frozenset[str]  # required columns the sheet lacks and no default fills (absent_required)

    @classmethod
    def of(cls, header: Header, cells, problem, round_: Round, defaults: dict[str, Any]) -> "RowContext":
        return cls(header, tuple(cells), problem, round_.as_of, defaults, absent_required(header, defaults))


def apply_checks(record: dict, raw: list, excel_row: int, rows: RowContext) -> None:
    """Run the row checks on one parsed record: report each finding, and quarantine the row, set the value aside
    or keep it as the check says."""
    header, kind = rows.header, rows.header.kind
    for name, text, fix, code, action in check_row(record, kind, rows.as_of, rows.absent):
        label = next((c.written for c in rows.cells if c.name == name), kind.column(name).label)
        rows.problem(excel_row, label, _raw_of(raw, header, name), text, fix, ERROR, code)
        if action == QUARANTINE:
            quarantine(record, f"{label}：{text}")
            continue
        add_issue(record, f"{label}：{text}")
        if action == SET_ASIDE:
            set_aside(record, name, kind, label)


def set_aside(record: dict, name: str, kind: ReturnKind, written: str | None = None) -> None:
    """Leave one value of a kept row out of every sum: an amount is counted as set aside in the ledger.

    The value is remembered (with the header it was written under), so a 保留 correction can put it back.
    """
    value = record.get(name)
    money = isinstance(value, float) and name in rules_of(kind).money
    remember_aside(record, name, value, money, written or kind.column(name).label)


def _raw_of(raw, header: Header, name: str):
    col = next((c for c in header.columns if c.column == name), None)
    return raw[col.index] if col and col.index < len(raw) else ""


def leave_out_money(record: dict) -> None:
    """Set aside every amount of a row whose money unit is in doubt; the round-level checks then pass it by."""
    kind = kind_of(record)
    for name in rules_of(kind).money:
        if record.get(name) is not None:
            set_aside(record, name, kind)
    doubt_unit(record)
