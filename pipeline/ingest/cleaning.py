"""Cleaning: grids of raw cells to clean tables, the quarantine, the problems and the ledger.

A sheet travels through four steps:
1. find the header (one row, or two rows with merged cells) and the return kind
   it belongs to, through the alias table;
2. give every row below it one role: data, blank, total (合计/小计), footer;
3. parse every data row's cells by the schema, and validate the row;
4. keep the row, or quarantine it with its reasons.
Then, across the round, a project reported twice is kept once and the other
copy quarantined with the reason. Every data row ends in exactly one place,
and the ledger counts them per file and sheet.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

import pandas as pd

from pipeline import paths, schemas, workers
from pipeline.ingest import (
    cache,
    columnwise,
    corrections,
    dedup,
    indicator_names,
    layout,
    plausibility,
    provenance,
    quality,
    readers,
    units,
)
from pipeline.ingest.concepts import concept_note
from pipeline.ingest.context import SheetContext, sheet_context
from pipeline.ingest.headers import Header, cell_text, find_header, row_role, row_texts
from pipeline.ingest.parsing import (
    INVISIBLE,
    Parsed,
    parse_bool,
    parse_choice,
    parse_date,
    parse_money,
    parse_month,
    parse_number,
    parse_text,
)
from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.totals import TotalsCheck
from pipeline.ingest.values import parser_for as concept_parser
from pipeline.rounds import Round
from pipeline.schemas import AliasTable, ReturnKind

UNKNOWN_UNIT = "未识别单位"

PROVENANCE = ["unit", "file", "sheet", "row"]
PROVENANCE_LABELS = {"unit": "填报单位", "file": "文件", "sheet": "工作表", "row": "行号"}

# Parse a sheet's data cells column by column (columnwise.py); False: every cell through its parser, one by one.
# Both give the same tables and problems (tests/test_columnwise.py compares them); the flag keeps the old path.
COLUMNWISE = True

# --------------------------------------------------------------------------- results


@dataclass
class SheetResult:
    records: list[dict] = field(default_factory=list)  # parsed rows, kept or not
    problems: list[Problem] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    kind: str | None = None
    mapping: list[dict] = field(default_factory=list)  # the 表头对照 rows


HEADER_MAP_COLUMNS = ["file", "sheet", "return_kind", "excel_row", "written", "column", "label", "how", "note",
                      "score", "words"]
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


# --------------------------------------------------------------------------- values


def cell_parser(column: schemas.Column, unit: str | None) -> Callable[[Any], Parsed]:
    """The parser of one column's cells, chosen by the column's type once, not per cell."""
    by_concept = concept_parser(column)  # yes/no and state values read by their words (values.py)
    if by_concept is not None:
        return by_concept
    if column.type == schemas.MONEY:
        return functools.partial(parse_money, unit=unit)
    if column.type == schemas.NUMBER:
        return parse_number
    if column.type == schemas.BOOL:
        return parse_bool
    if column.type == schemas.DATE:
        return parse_date
    if column.type == schemas.MONTH:
        return parse_month
    if column.type == schemas.CHOICE:
        return functools.partial(parse_choice, choices=column.choices, label=column.label)
    return parse_text  # TEXT and SEQ


def _canonical_name(text: str | None, table: dict[str, tuple[str, ...]]) -> str | None:
    """Map a written name onto its canonical form (指标名称, 板块); unknown names stay as written."""
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", text).replace(" ", "")
    for canonical, synonyms in table.items():
        forms = {unicodedata.normalize("NFKC", s).replace(" ", "") for s in (canonical, *synonyms)}
        if key in forms:
            return canonical
    return text


@dataclass(frozen=True)
class _Rules:
    """What the row checks need from a kind's schema, looked up once instead of on every row."""

    kind: ReturnKind
    names: tuple[str, ...]
    required: tuple[str, ...]
    money: tuple[str, ...]
    dates: tuple[str, ...]


_RULES: dict[str, _Rules] = {}


def _rules(kind: ReturnKind) -> _Rules:
    rules = _RULES.get(kind.name)
    if rules is None or rules.kind is not kind:
        rules = _RULES[kind.name] = _Rules(kind, tuple(c.name for c in kind.columns), kind.required,
                                           kind.names_of(schemas.MONEY), kind.names_of(schemas.DATE))
    return rules


# 项目编号 written where the project has no code yet: no code, so never the identity of a project.
PLACEHOLDER_CODE = re.compile(r"^\s*(?:待赋码|未赋码|暂未赋码|待赋|待申请|申请中|待定|暂无|"
                              r"未取得|无编号|无代码|[-—－/\\]+)\s*$")


# What a row check does to the value it finds wrong. Only a row that cannot be counted at all
# (no project name) is quarantined; otherwise the row is kept and the value set aside (left out
# of every sum) or kept as written, and the unit is asked to fix it either way.
QUARANTINE, SET_ASIDE, KEEP = "quarantine", "set_aside", "keep"


def _check_row(record: dict, kind: ReturnKind, as_of, absent: frozenset[str] = frozenset()):
    """The row checks: (column, problem, fix, code, action) for each thing wrong with a parsed record.

    absent: required columns the sheet does not have (reported once for the sheet, not on every row).
    """
    found = []
    rules = _rules(kind)
    for name in rules.required:
        if record.get(name) is None and not record.get(f"_bad_{name}") and name not in absent:
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


# --------------------------------------------------------------------------- one sheet


def clean_sheet(sheet: readers.Sheet, unit: str, round_: Round, aliases: AliasTable) -> SheetResult:
    """Parse one sheet into records; every data row becomes exactly one record."""
    result = SheetResult()
    texts = [row_texts(row) for row in sheet.rows]  # each cell's text, computed once per sheet
    nonblank = sum(1 for values in texts if any(values))
    result.ledger = ledger = dict(
        file=sheet.file, sheet=sheet.name, unit=unit, return_kind="", status="", data_rows=0, kept=0,
        kept_with_problems=0, quarantined=0, skipped_rows=nonblank, blank_rows=len(sheet.rows) - nonblank,
        money_raw_wan=0.0, note="")

    def problem(row, column, value, text, fix, severity=ERROR, code=""):
        result.problems.append(Problem(unit, sheet.file, sheet.name, row, column, cell_text(value), text, fix,
                                       severity, code))

    header = find_header(sheet.rows, aliases, frozenset(sheet.hidden_cols))
    if header is None:
        if nonblank == 0:
            ledger.update(status="空工作表", note="工作表没有内容")
        else:
            ledger.update(status="未识别", note="未找到可识别的表头")
            problem(None, "", "", "未找到可识别的表头，不是本轮任何一种报表",
                    "请使用下发的报表模板；如是说明页可忽略本条", HINT, "not_a_return")
        return result
    result.kind = header.kind.name
    ledger["return_kind"] = header.kind.label
    grid = _fill_merged_down(sheet, header, problem)
    if grid is not sheet.rows:  # a merged text cell was copied down: those rows read differently now
        texts = texts[: header.last_row + 1] + [row_texts(row) for row in grid[header.last_row + 1:]]
    roles = {i: row_role(texts[i], header) for i in range(header.last_row + 1, len(grid))}
    roles = layout.numbered_groups(roles, texts, header)  # （1） over 1.1, 1.2 is a heading
    below = [t for i, role in roles.items() if role == "footer" for t in texts[i] if t]
    context = sheet_context(grid, header, sheet.name, sheet.file, below)
    result.mapping = header_mapping(header, context, sheet.file, sheet.name)
    _report_header(header, problem, context, sheet.hidden_cols)
    if context.year and context.year.value != round_.as_of.year:
        problem(None, "", context.year.text,
                f"表格标题中的年份为{context.year.value}年，"
                f"与本轮数据截至日期的年份（{round_.as_of.year}年）不符",
                "请确认报送的是本年度的报表", HINT, "other_year")
    walk = _SheetWalk(sheet, header, context, round_, problem, unit)
    if COLUMNWISE:
        walk.parse_columns(grid, [i for i, role in roles.items() if role == "data"])
    for i, role in roles.items():
        walk.row(i, grid[i], texts[i], role)
    result.records = walk.finish()
    ledger.update(status="已读取", data_rows=len(result.records), skipped_rows=nonblank - len(result.records),
                  money_raw_wan=walk.money_raw, note=_skipped_note(roles, header, sheet))
    return result


def _skipped_note(roles: dict[int, str], header: Header, sheet: readers.Sheet) -> str:
    """What the ledger's skipped rows were: 标题和表头3行、合计1行、分组2行、落款2行."""
    counts = {"标题和表头": header.last_row + 1}
    for role in roles.values():
        label = ROLE_LABELS.get(role)
        if label:
            counts[label] = counts.get(label, 0) + 1
    note = "跳过：" + "、".join(f"{label}{n}行" for label, n in counts.items() if n)
    return ("隐藏工作表；" if sheet.hidden else "") + note


ROLE_LABELS = {"total": "合计", "subtotal": "小计", "breakdown": "“其中”", "group": "分组", "footer": "落款和注释",
               "header": "重复表头"}


class _SheetWalk:
    """The rows below a header, in order: data rows become records, total rows are checked against them."""

    def __init__(self, sheet: readers.Sheet, header: Header, context: SheetContext, round_: Round, problem, unit: str):
        self.sheet, self.header, self.round, self.problem, self.unit = sheet, header, round_, problem, unit
        self.money_unit = context.money_unit.value
        self.cells = _cell_readers(header, self.money_unit)
        money = {c.index for c in header.known if header.kind.column(c.column).type == schemas.MONEY}
        self.money_of = {c.index: c.parse for c in self.cells if c.index in money}
        self.defaults = _context_defaults(header, context)
        self.absent = _absent(header, self.defaults)  # the same for every row: worked out once
        self.totals = TotalsCheck.for_header(header, self.money_of, problem)
        self.facts = _CellFacts.of(sheet)
        self.records: list[dict] = []
        self.hidden: list[int] = []
        self.invisible: list[int] = []  # rows with zero-width characters, removed before parsing
        self.money_raw = 0.0
        self.parsed: dict[int, tuple] = {}  # row -> its cells as parse_columns read them, in self.cells' order
        self.money_at = [k for k, c in enumerate(self.cells) if c.index in money]
        missing = [m for m in header.missing_required if m not in self.defaults]
        self.unusable = (f"缺少必填列：{'、'.join(header.kind.column(m).label for m in missing)}"
                         if any(m in header.kind.identity for m in missing) else None)

    def parse_columns(self, grid: list[list[Any]], data_rows: list[int]) -> None:
        """Parse the data rows' cells a column at a time; _parse_row then takes each cell's result from here."""
        columns = [columnwise.parse_column(columnwise.column_values(grid, data_rows, c.index), c.type, c.unit, c.parse)
                   if c.parse else [None] * len(data_rows) for c in self.cells]
        self.parsed = dict(zip(data_rows, zip(*columns))) if columns else {}

    def row(self, i: int, raw: list, values: list[str], role: str) -> None:
        excel_row = i + 1
        label = next((v for v in values if v), "")
        if role == "total":
            self.totals.total(raw, excel_row, label)
        elif role == "subtotal":
            self.totals.subtotal(raw, excel_row, label)
        elif role == "group":
            seq_i = self.header.index_of("seq")
            name_i = self.header.index_of(self.header.kind.identity[0])
            seq = values[seq_i] if seq_i is not None and seq_i < len(values) else ""
            name = values[name_i] if name_i is not None and name_i < len(values) and values[name_i] else label
            self.totals.group(raw, excel_row, name if name != seq else label, seq)
        elif role == "data":
            self._data(i, raw, excel_row)

    def _data(self, i: int, raw: list, excel_row: int) -> None:
        parsed = self.parsed.get(i)
        record = _parse_row(raw, self.header, self.cells, excel_row, self.problem, self.round,
                            self.facts.row(i), self.defaults, parsed, self.absent)
        if i in self.sheet.hidden_rows:
            self.hidden.append(excel_row)
        record.update(unit=self.unit, file=self.sheet.file, sheet=self.sheet.name, row=excel_row,
                      return_kind=self.header.kind.name, _hidden_sheet=self.sheet.hidden)
        if self.unusable:
            record["_reasons"].append(self.unusable)
        if parsed is None:
            self.money_raw += sum(v for j, parse in self.money_of.items() if j < len(raw)
                                  for v in [parse(raw[j]).value] if v is not None)
        else:  # the same values in the same order (a cell with a problem is a Parsed whose value is None)
            self.money_raw += sum(v for k in self.money_at for v in [parsed[k]]
                                  if v is not None and v.__class__ is not Parsed)
        if INVISIBLE.search("".join(v for v in raw if v.__class__ is str)):
            self.invisible.append(excel_row)
        self.records.append(record)
        self.totals.data(record)

    def finish(self) -> list[dict]:
        self.totals.finish()
        if self.hidden:
            self.problem(self.hidden[0], "", "", f"第{'、'.join(map(str, self.hidden))}行是隐藏行，已按正常数据读入",
                         "请取消隐藏并核对这些行；不应报送的行请删除", HINT, "hidden_rows")
        if self.invisible:
            self.problem(self.invisible[0], "", "", f"第{'、'.join(map(str, self.invisible[:10]))}行"
                         f"{'等' if len(self.invisible) > 10 else ''}含有看不见的字符（零宽空格等），已去除后读取",
                         "这类字符多由网页或聊天软件复制带入，请在原表中删除", HINT, "invisible_characters")
        if not self.records:
            self.problem(self.header.last_row + 2, "", "", "只有表头，没有数据行",
                         "请填写数据后重新报送；确无数据请注明“无”", HINT, "no_rows")
        _check_plausible_unit(self.records, self.header, self.money_unit, self.problem)
        return self.records


def _context_defaults(header: Header, context: SheetContext) -> dict[str, Any]:
    """Values found around the table that fill a column left empty (or absent): the batch of a projects sheet."""
    if header.kind.name == "projects" and context.batch is not None:
        return {"batch": context.batch.value}
    return {}


def header_mapping(header: Header, context: SheetContext, file: str, sheet: str) -> list[dict]:
    """The 表头对照 rows of one sheet: every header as written, the standard column, how it matched;
    then each value read from around the table and where."""
    kind = header.kind
    rows = []
    for col in header.columns:
        m = col.match
        label = kind.column(col.column).label if col.column else ""
        how, note = (m.how if m else schemas.MATCH_UNKNOWN), ""
        if col.duplicate_of:
            how, note = "重复列（未读取）", f"与“{col.duplicate_of}”含义相同"
        elif m and m.how == schemas.MATCH_PATTERN:
            note = f"别名表中的模式：{m.alias}"
        elif m and m.how == schemas.MATCH_CONCEPT:
            note = concept_note(m, label)
        elif m and m.suggestion:
            note = (f"是否为“{kind.column(m.suggestion).label}”？可在别名表中加一行："
                    f"{schemas.alias_line(kind.name, m.suggestion, col.written)}")
        rows.append(dict(file=file, sheet=sheet, return_kind=kind.label, excel_row=col.row, written=col.written,
                         column=col.column or "", label=label, how=how, note=note,
                         score=m.score if m else None, words="、".join(m.words) if m else ""))
    for label, value, where in context.rows():
        rows.append(dict(file=file, sheet=sheet, return_kind=kind.label, excel_row=None, written=f"（表外）{value}",
                         column="", label=label, how="表外信息", note=f"取自{where}"))
    return rows


def _report_header(header: Header, problem, context: SheetContext, hidden_cols=frozenset()) -> None:
    """The header's own problems: a column given twice, a header not in the alias table, a required column missing."""
    kind = header.kind
    for col in header.columns:
        if col.duplicate_of and col.index in hidden_cols:
            problem(col.row, col.written, col.written,
                    f"隐藏列“{col.written}”与“{col.duplicate_of}”含义相同，已读取未隐藏的列",
                    "请删除不再使用的隐藏列", HINT, "hidden_duplicate_column")
        elif col.duplicate_of:
            problem(col.row, col.written, col.written,
                    f"列“{col.written}”与前面的“{col.duplicate_of}”含义相同，只读取前一列",
                    "请删除重复的列，或核对两列内容后只保留一列", ERROR, "duplicate_column")
        elif col.column is None and not (col.match and col.match.how == schemas.MATCH_MONTH):
            suggestion = col.match.suggestion if col.match else None
            text = f"表头“{col.written}”无法识别，该列未读入清洗表（原值保留在“其他列”中）"
            fix = "请按模板表头填写"  # the alias table is the analyst's: 表头对照 and the run summary name it
            if suggestion:
                text = f"表头“{col.written}”无法识别，是否为“{kind.column(suggestion).label}”？"
                fix = f"如是，请按模板改为“{kind.column(suggestion).label}”；否则请按模板表头填写"
            problem(col.row, col.written, col.written, text, fix, HINT, "unknown_header")
    missing = [m for m in header.missing_required if not (m == "batch" and context.batch)]
    if missing:
        labels = "、".join(kind.column(m).label for m in missing)
        if any(m in kind.identity for m in missing):
            text = f"缺少必填列：{labels}，本表数据行全部暂不采用"
        else:
            text = f"缺少必填列：{labels}，本表各行的{labels}无法统计，相关指标不含本表的这一项"
        problem(header.last_row + 1, labels, "", text, f"请在表中补充“{labels}”列并逐行填写", ERROR, "missing_column")


def _by_row(cells: set[tuple[int, int]]) -> dict[int, set[int]]:
    """{row: {columns}} of a set of (row, column) cells."""
    rows: dict[int, set[int]] = {}
    for r, j in cells:
        rows.setdefault(r, set()).add(j)
    return rows


# A major project, a signed investment or one of the ten projects worth under 100
# 万元 (一百万) is not plausible: a sheet whose typical amount is that small was
# almost certainly filled in 亿元 while saying (or defaulting to) 万元. The unit is
# asked; nothing is rescaled silently.
# The typical (median) amount of a sheet, in 万元, outside which its money unit is not plausible:
# a major project, a signed investment or one of the ten projects under 100 万元 was almost
# certainly filled in 亿元; over 1,000,000 万元 (100亿元) for a typical one, in 元 or 千元. The unit
# is asked, the sheet's amounts are left out of the sums; nothing is rescaled silently.
PLAUSIBLE_MEDIAN_WAN = {"projects": ("total_investment", 100.0, 1_000_000.0),
                        "major_works": ("total_investment", 100.0, 10_000_000.0),
                        "attraction": ("contract_investment", 100.0, 1_000_000.0)}
PLAUSIBLE_MIN_ROWS = 3


def _check_plausible_unit(records: list[dict], header: Header, sheet_unit: str, problem) -> None:
    rule = PLAUSIBLE_MEDIAN_WAN.get(header.kind.name)
    if not rule:
        return
    column, floor, ceiling = rule
    col = next((c for c in header.known if c.column == column), None)
    values = sorted(r[column] for r in records if r.get(column))
    if col is None or len(values) < PLAUSIBLE_MIN_ROWS:
        return
    median = values[len(values) // 2]
    unit = col.unit or sheet_unit
    if median < floor and unit == "万元":
        guess, fix = "疑似按亿元填写", "如为亿元，请在表头写“（亿元）”或在表上方注明“单位：亿元”"
    elif median > ceiling:
        guess, fix = (f"按{unit}计已超过{ceiling / 10_000:,.0f}亿元，疑似按元或千元填写",
                      "如为元或千元，请在表上方注明“单位：元”（或千元）")
    else:
        return
    problem(header.last_row + 1, col.written, "", f"金额单位存疑：{col.written}的中位数为{median:,.2f}万元，{guess}",
            f"请确认金额单位；{fix}后重新报送", ERROR, "implausible_unit")
    for record in records:
        _leave_out_money(record)
        record["_issues"].append(corrections.DOUBTFUL_UNIT_ISSUE)


def _leave_out_money(record: dict) -> None:
    """Set aside every amount of a row whose money unit is in doubt; the round-level checks then pass it by."""
    kind = kind_of(record)
    for name in _rules(kind).money:
        if record.get(name) is not None:
            set_aside(record, name, kind)
    record["_unit_doubted"] = True


def _fill_merged_down(sheet: readers.Sheet, header: Header, problem) -> list[list[Any]]:
    """Copy a text cell merged down across data rows (责任单位 over three projects) into each row.

    An amount merged across rows is not copied: that would count it once per
    row. It stays in the first row, and the unit is told.
    """
    grid = sheet.rows
    by_index = {c.index: c for c in header.known}
    for (r1, c1), (r2, c2) in sheet.merged:
        if r2 <= r1 or r1 <= header.last_row or c1 not in by_index:
            continue
        column = header.kind.column(by_index[c1].column)
        if column.type in (schemas.MONEY, schemas.NUMBER):
            problem(r1 + 1, by_index[c1].written, grid[r1][c1] if c1 < len(grid[r1]) else "",
                    f"金额单元格跨第{r1 + 1}至{r2 + 1}行合并，只计入第{r1 + 1}行",
                    "请取消合并，把金额分别填入各行", HINT, "merged_amount")
            continue
        if grid is sheet.rows:
            grid = [list(row) for row in sheet.rows]
        for r in range(r1 + 1, min(r2, len(grid) - 1) + 1):
            while len(grid[r]) <= c1:
                grid[r].append("")
            grid[r][c1] = grid[r1][c1]
    return grid


class _CellReader(NamedTuple):
    """How one column of a sheet is read: where, under which header, as which schema column, with which parser."""

    index: int
    written: str
    name: str | None  # canonical column; None for a header the alias table does not know
    type: str | None
    parse: Callable[[Any], Parsed] | None
    unit: str | None = None  # the money unit the column's amounts are in (its header's, else the sheet's)


def _cell_readers(header: Header, sheet_unit: str) -> list[_CellReader]:
    readers_ = []
    for col in header.columns:
        column = header.kind.column(col.column) if col.column else None
        parse = _memo_parser(column, col.unit or sheet_unit) if column else None
        readers_.append(_CellReader(col.index, col.written, col.column, column.type if column else None, parse,
                                    col.unit or sheet_unit))
    return readers_


def _memo_parser(column: schemas.Column, unit: str | None) -> Callable[[Any], Parsed]:
    """cell_parser for one column, computed once per distinct value: a column repeats its values
    (是/否, 第一批, the same county) row after row, and parsers are pure."""
    memo: dict[tuple[type, Any], Parsed] = {}
    parse_one = cell_parser(column, unit)

    def parse(value: Any) -> Parsed:
        key = (value.__class__, value)  # 1, 1.0 and True are equal as keys; their type tells them apart
        if value.__class__ is float and value == 0.0:
            key = (float, str(value))  # and 0.0 and -0.0 by their sign (a -0.0 amount is shown as -0.00)
        try:
            hit = memo.get(key)
        except TypeError:  # an unhashable value is parsed every time
            return parse_one(value)
        if hit is None:
            hit = memo[key] = parse_one(value)
        return hit

    return parse


@dataclass(frozen=True)
class _CellFacts:
    """What the reader knows about a sheet's cells beyond their values, by row (0-based)."""

    uncomputed: dict[int, set[int]]  # formulas saved without a value
    errors: dict[int, dict[int, str]]  # Excel error values (#DIV/0!)
    percent: dict[int, set[int]]  # cells formatted as a percentage (Excel stores 0.085, shows 8.5%)

    @classmethod
    def of(cls, sheet: readers.Sheet) -> "_CellFacts":
        errors: dict[int, dict[int, str]] = {}
        for (r, j), text in sheet.error_cells.items():
            errors.setdefault(r, {})[j] = text
        return cls(_by_row(sheet.formulas_without_value), errors, _by_row(sheet.percent_cells))

    def row(self, i: int) -> "_RowFacts":
        return _RowFacts(self.uncomputed.get(i, frozenset()), self.errors.get(i, {}), self.percent.get(i, frozenset()))


class _RowFacts(NamedTuple):
    uncomputed: set[int] = frozenset()
    errors: dict[int, str] = {}
    percent: set[int] = frozenset()


def _parse_row(raw, header: Header, cells: list[_CellReader], excel_row: int, problem, round_: Round,
               facts: _RowFacts = _RowFacts(), defaults: dict[str, Any] | None = None, parsed: tuple | None = None,
               absent: frozenset[str] | None = None) -> dict:
    """One data row as a record. A cell that cannot be read is left empty (and reported); the row is kept.

    parsed: the row's cells as _SheetWalk.parse_columns read them (a value, or a Parsed with a problem), in
    cells' order; None parses each cell here. absent: _absent(header, defaults), if worked out already.
    """
    kind = header.kind
    record: dict = dict.fromkeys(_rules(kind).names)
    record.update(_reasons=[], _issues=[], _set_aside_wan=0.0)
    extra = {}
    width = len(raw)
    for pos, (index, written, name, type_, parse, _) in enumerate(cells):
        value = raw[index] if index < width else None
        if name is None:
            if cell_text(value):
                extra[written] = cell_text(value)
            continue
        if index in facts.uncomputed or index in facts.errors:
            _unreadable_cell(record, name, written, facts.errors.get(index), excel_row, problem)
            continue
        if index in facts.percent and isinstance(value, float):
            value = _percent_cell(record, name, written, value, type_, excel_row, problem)
            result = parse(value)
        elif parsed is not None:
            result = parsed[pos]
            if result.__class__ is not Parsed:  # a clean value
                record[name] = result
                continue
        else:
            result = parse(value)
        if result.problem:
            _bad_cell(record, name, f"{written}：{result.problem}")
            problem(excel_row, written, value, result.problem, result.fix, ERROR, f"bad_{type_}")
        record[name] = result.value
    if record.get("project_code") and PLACEHOLDER_CODE.match(record["project_code"]):
        record["project_code"] = None  # 待赋码 is no code: the project is known by its name
    for name, value in (defaults or {}).items():  # a value found around the table fills an empty cell
        if record.get(name) is None and not record.get(f"_bad_{name}"):
            record[name] = value
    _apply_checks(record, raw, header, cells, excel_row, problem, round_, defaults or {}, absent)
    if kind.name == "indicators":
        _normalise_indicator(record)
    if kind.name == "practices":
        record["section"] = _canonical_name(record["section"], schemas.PRACTICE_SECTIONS)
    record["extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
    record["_source"] = (raw, header)  # `original` is written only for the rows that end in the quarantine
    return record


def _unreadable_cell(record: dict, name: str, written: str, error: str | None, excel_row: int, problem) -> None:
    """A formula saved without its value, or an Excel error value: the cell is left out and the unit told what it
    holds."""
    if error:
        _bad_cell(record, name, f"{written}：单元格是公式错误 {error}")
        problem(excel_row, written, error, f"单元格是公式错误 {error}，无法读取数值",
                "请改正公式或直接填写数值后重新报送", ERROR, "excel_error")
        return
    _bad_cell(record, name, f"{written}：公式没有计算结果")
    problem(excel_row, written, "（公式）", "公式没有保存计算结果，无法读取数值",
            "请在 Excel 中打开文件，重新计算（F9）并保存后再发送，或改填数值", ERROR, "formula_no_value")


def _percent_cell(record: dict, name: str, written: str, value: float, type_: str, excel_row: int, problem):
    """A percent-formatted cell: a rate column reads it as the percentage it shows; a money column must not hold one."""
    if type_ == schemas.NUMBER:
        return value * 100  # 0.085 shown as 8.5% is 8.5 (%), as if the unit had typed 8.5
    if type_ == schemas.MONEY:
        problem(excel_row, written, f"{value:.2%}", "金额栏的单元格是百分比格式", "请填写金额并把单元格格式改为“数值”",
                ERROR, "bad_money")
        _bad_cell(record, name, f"{written}：金额栏的单元格是百分比格式")
        return None
    return value


def _bad_cell(record: dict, name: str, issue: str) -> None:
    record[f"_bad_{name}"] = True
    record["_issues"].append(issue)


def _absent(header: Header, defaults: dict[str, Any]) -> frozenset[str]:
    """The required columns the sheet lacks and no value around the table fills."""
    return frozenset(m for m in header.missing_required if m not in defaults)


def _apply_checks(record, raw, header: Header, cells, excel_row: int, problem, round_: Round, defaults,
                  absent: frozenset[str] | None = None) -> None:
    kind = header.kind
    absent = _absent(header, defaults) if absent is None else absent
    for name, text, fix, code, action in _check_row(record, kind, round_.as_of, absent):
        label = next((c.written for c in cells if c.name == name), kind.column(name).label)
        problem(excel_row, label, _raw_of(raw, header, name), text, fix, ERROR, code)
        if action == QUARANTINE:
            record["_reasons"].append(f"{label}：{text}")
            continue
        record["_issues"].append(f"{label}：{text}")
        if action == SET_ASIDE:
            set_aside(record, name, kind, label)


def set_aside(record: dict, name: str, kind: ReturnKind, written: str | None = None) -> None:
    """Leave one value of a kept row out of every sum: an amount is counted as set aside in the ledger.

    The value is remembered (with the header it was written under), so a 保留 correction can put it back.
    """
    value = record.get(name)
    money = isinstance(value, float) and name in _rules(kind).money
    if money:
        record["_set_aside_wan"] += value
    record.setdefault("_aside", {})[name] = (value, money, written or kind.column(name).label)
    record[name] = None
    record[f"_bad_{name}"] = True


def _original(record: dict) -> str:
    """The row as the unit wrote it, header by header: what the quarantine keeps."""
    raw, header = record["_source"]
    return json.dumps({c.written: cell_text(raw[c.index]) if c.index < len(raw) else "" for c in header.columns},
                      ensure_ascii=False)


def _raw_of(raw, header: Header, name: str):
    col = next((c for c in header.columns if c.column == name), None)
    return raw[col.index] if col and col.index < len(raw) else ""


def _normalise_indicator(record: dict) -> None:
    """Canonical 指标名称 by concept and the row's own unit converting its amounts (indicator_names.py)."""
    indicator_names.normalise(record)


# --------------------------------------------------------------------------- the round


def clean_round(round_: Round, aliases: AliasTable, echo=print, cache_dir: Path | None = None,
                previous: dict[str, pd.DataFrame] | None = None, processes: int | None = None,
                error_log: Path | None = None) -> RoundResult:
    """Read and clean every return of a round. Files that cannot be read are reported, not fatal.

    cache_dir: where each file's cleaned result is kept between runs (RoundPaths.cache; see cache.py), so that
    only the files that changed are read and cleaned again; None reads and cleans every file.
    previous: the previous round's clean tables (cleaned_tables), which amounts are checked against (after the
    per-file phase, so never cached).
    processes: how many files are read and cleaned side by side (None: one per core; see _clean_files).
    error_log: where the detail of an unforeseen error is written (RoundPaths.error_log); the console and the
    ledger get one Chinese line.
    """
    files = readers.list_round_files(round_.raw_dir)
    if error_log is not None:
        error_log.unlink(missing_ok=True)  # this run's errors only
    store = cache.FileCache(cache_dir, round_, aliases)
    fixes = corrections.load(round_.raw_dir)
    records: list[dict] = []
    problems: list[Problem] = []
    ledger: list[dict] = []
    mapping: list[dict] = []
    for path in files.other:
        rel = path.relative_to(round_.raw_dir).as_posix()
        unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "", "", "不是 Excel 或 CSV 文件，未读取",
                                "请另存为 .xlsx 后重新发送；与报表无关的文件请移出轮次文件夹", ERROR, "not_a_table"))
        ledger.append(_file_ledger(rel, unit, "未读取", "不是 Excel 或 CSV 文件"))
    problems += [_leftover_notice(path.relative_to(round_.raw_dir).as_posix(), round_) for path in files.lock_files]
    returns, copies = identical_files(files.returns)
    for path, first in copies.items():
        rel, kept = (p.relative_to(round_.raw_dir).as_posix() for p in (path, first))
        unit = _unit_from_path(kept, round_) or _unit_from_path(rel, round_) or UNKNOWN_UNIT
        note = f"与“{kept}”内容完全相同，只读取一份"
        problems.append(Problem(unit, rel, "", None, "", "", f"“{rel}”{note}",
                                "无需处理；如其中一份本应是另一份报表，请向单位索取", HINT, "identical_file"))
        ledger.append(_file_ledger(rel, unit, "相同文件", note))
    for path, outcome in zip(returns, _clean_files(returns, round_, aliases, fixes, store, processes)):
        rel = path.relative_to(round_.raw_dir).as_posix()
        try:
            file_records, file_problems, file_ledger, file_mapping = _result_of(outcome)
        except readers.ReadError as exc:
            unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
            problems.append(Problem(unit, rel, "", None, "", "", exc.problem, exc.fix, ERROR, "unreadable"))
            ledger.append(_file_ledger(rel, unit, "无法读取", exc.problem))
            echo(f"  无法读取 {rel}：{exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one file the cleaner cannot handle must not stop the round
            unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
            problems.append(provenance.unforeseen(unit, rel))
            ledger.append(_file_ledger(rel, unit, "处理失败", provenance.UNFORESEEN))
            echo(f"  处理失败 {rel}：{provenance.UNFORESEEN}{provenance.log_unforeseen(error_log, rel, exc)}")
            continue
        records.extend(file_records)
        problems.extend(file_problems)
        ledger.extend(file_ledger)
        mapping.extend(file_mapping)
    store.prune()
    problems += fixes.unsettled(lambda rel: _unit_from_path(rel, round_) or UNKNOWN_UNIT)
    problems = units.first_of_each(problems)
    problems = _supersede_originals(records, problems, ledger)
    records, problems = dedup.deduplicate(records, problems)
    _apply_doubts(plausibility.check_round(records, previous, round_.previous), fixes, problems)
    result = _assemble(records, problems, ledger, round_)
    result.header_map = pd.DataFrame(mapping, columns=HEADER_MAP_COLUMNS).astype(
        {"excel_row": "Int64", "score": "Float64"})
    result.corrections = fixes.applied_frame()
    return result


def _leftover_notice(rel: str, round_: Round) -> Problem:
    """A lock file (~$x.xlsx, .~lock.x#) or a desktop leftover (Thumbs.db): skipped, a notice for the analyst."""
    name = rel.rsplit("/", 1)[-1]
    lock = readers.is_lock_file(name)
    what = "Excel/WPS 打开文件时留下的临时锁定文件" if lock else "Windows/macOS 在文件夹中自动生成的系统文件"
    return Problem(_unit_from_path(rel, round_) or UNKNOWN_UNIT, rel, "", None, "", "", f"这是{what}，已跳过",
                   "无需处理" + ("；请确认对应的报表已保存、关闭" if lock else ""), HINT,
                   "lock_file" if lock else "desk_leftover")


def identical_files(paths: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """The files to read, and each byte-identical copy with the file read in its place (the shortest name:
    “甲.xlsx” before “甲(1).xlsx”, “甲 - 副本.xlsx”)."""
    by_content: dict[str, list[Path]] = {}
    for path in paths:
        digest = str(path)  # a link is never compared (read_return decides on it), nor a file that cannot be read
        if not path.is_symlink():
            try:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:
                pass
        by_content.setdefault(digest, []).append(path)
    copies: dict[Path, Path] = {}
    for same in by_content.values():
        first = min(same, key=lambda p: (len(p.name), str(p)))
        copies.update({p: first for p in same if p != first})
    return [p for p in paths if p not in copies], copies


def _apply_doubts(doubts: list[plausibility.Doubt], fixes: corrections.RoundCorrections, problems: list[Problem]):
    """Ask about amounts in doubt across the round; leave them out of the sums unless a 保留 line accepts them."""
    for doubt in doubts:
        kept = fixes.keep_for(doubt.problem, problems) if doubt.records else None
        if kept:
            doubt.problem.severity = HINT
            doubt.problem.problem = f"{doubt.problem.problem}（已按更正记录保留原值，依据：{kept.basis or '未注明'}）"
        for record in [] if kept else doubt.records:
            _leave_out_money(record)
            record["_issues"].append(doubt.issue)
        problems.append(doubt.problem)


def _clean_files(paths: list[Path], round_: Round, aliases: AliasTable, fixes: corrections.RoundCorrections,
                 store: cache.FileCache, processes: int | None = None) -> list[workers.Outcome]:
    """Every return file's records, problems, ledger rows and 表头对照 rows (all or nothing per file), in the
    order of paths: for each, the outcome of reading and cleaning it (_result_of gives them, or raises what
    cleaning that file raised).

    From the store for a file it holds as the file is now (a file with corrections is always cleaned afresh);
    the others are read and cleaned side by side, each in a forked worker (workers.run_forked), `processes` at
    a time, which changes nothing but the time: each file's cleaning depends on that file alone, and the results
    are taken in the order of paths.
    """
    outcomes: list[workers.Outcome | None] = []
    todo: list[_Job] = []
    for path in paths:
        rel = path.relative_to(round_.raw_dir).as_posix()
        own_fixes = fixes.for_file(rel)
        key = store.key(path, rel) if not own_fixes.items else None
        cached = store.get(key)
        outcomes.append(None if cached is None else workers.Outcome(value=cached))
        if cached is None:
            todo.append(_Job(len(outcomes) - 1, key, (path, rel, own_fixes, round_, aliases)))
    processes = workers.cores() if processes is None else processes
    # A file with corrections records what was applied in the round's corrections (FileCorrections.settle):
    # it is cleaned in this process, where that record is kept.
    forked = [job for job in todo if not job.args[2].items] if processes > 1 and len(todo) > 1 else []
    done = {} if not forked else dict(zip(
        (job.index for job in forked),
        workers.run_forked(_read_and_clean_file, [job.args for job in forked], processes=processes)))
    for job in todo:
        outcome = done[job.index] if job.index in done else _in_this_process(job.args)
        if outcome.ok:
            store.put(job.key, outcome.value)
        outcomes[job.index] = outcome
    return outcomes


class _Job(NamedTuple):
    index: int  # in the round's list of files
    key: str | None  # in the cache
    args: tuple  # of _read_and_clean_file


def _in_this_process(job: tuple) -> workers.Outcome:
    try:
        return workers.Outcome(value=_read_and_clean_file(*job))
    except Exception as exc:  # noqa: BLE001 - raised again where the file's turn comes (_result_of)
        return workers.Outcome(error=exc)


def _result_of(outcome: workers.Outcome) -> tuple:
    if outcome.error is not None:
        raise outcome.error
    if not outcome.ok:  # the worker died: out of memory (killed), or crashed
        raise (MemoryError if outcome.memory else SystemError)("the worker cleaning this file died")
    return outcome.value


@provenance.carries_detail
def _read_and_clean_file(path: Path, rel: str, own_fixes: corrections.FileCorrections, round_: Round,
                         aliases: AliasTable):
    sheets = readers.read_return(path, rel)
    sheets, file_fixes = corrections.apply(sheets, own_fixes, aliases)
    found = units.of_file(rel, sheets, round_.units)
    problems: list[Problem] = units.unit_notices(rel, found, units.named_texts(rel, sheets), round_.units)
    unit = found.unit if found else None
    if unit is None:
        unit = UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "填报单位", "", "无法确定填报单位",
                                "请在表尾填写“填报单位：XX”，或把文件放入以单位命名的文件夹", ERROR, "unknown_unit"))
    sheets = layout.arrange(sheets, aliases, round_.as_of)  # several tables in one sheet; monthly columns
    results = [clean_sheet(sheet, unit, round_, aliases) for sheet in sheets]
    for sheet, result in zip(sheets, results):  # which reader read it, and what its formatting pass missed
        problems += provenance.note_reading(sheet, result.ledger, result.mapping, unit, bool(result.kind))
    recognised = any(r.kind for r in results)
    records = [record for result in results for record in result.records]
    # A sheet that is not a return matters only beside sheets that are; otherwise the file is the problem.
    problems += [p for result in results for p in result.problems if recognised or p.code != "not_a_return"]
    if not recognised:
        problems.append(Problem(unit, rel, "", None, "", "", "文件中没有可识别的报表（工作表为空或不是报表）",
                                "请使用下发的报表模板填写后重新发送", ERROR, "no_return_in_file"))
    records, problems = file_fixes.settle(records, problems, [result.ledger for result in results], unit)
    return records, problems, [result.ledger for result in results], [m for result in results for m in result.mapping]


# ----------------------------------------------------------------------------- which copy wins
#
# A unit's return can arrive in more than one copy. The rules a person would use:
# - a revised file (修改版, 更正, 修订, v2 …) wins over the original beside it, which is then not used;
# - then, project by project (_deduplicate below): a copy on a visible sheet wins over one on a hidden
#   sheet (a hidden stale sheet, last month's, often sits before the live one), then the copy from
#   the unit whose city the project is in, then the first one read.
# The copy that loses is quarantined with the reason; it is counted elsewhere, so it is no loss.


def _set_aside_copies(records: list[dict], reason: str) -> None:
    for record in records:
        record["_reasons"].append(reason)
        record["_duplicate"] = True


_REVISED = re.compile(r"修改版?|修订版?|更正版?|修正版?|调整版|最新版?|终版|定稿|(?<![a-zA-Z])[vV]\d+")


def revision_base(rel: str) -> tuple[str, bool]:
    """A file's name without its revision mark, and whether it has one: “甲（修改版）.xlsx” -> (“甲.xlsx”, True)."""
    folder, _, name = unicodedata.normalize("NFKC", rel).rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    base = _REVISED.sub("", stem)
    base = re.sub(r"\(\s*\)|[_\-\s]+$", "", base).strip()
    return f"{folder}/{base}.{suffix.lower()}" if dot else f"{folder}/{base}", base != stem.strip()


def _supersede_originals(records: list[dict], problems: list[Problem], ledger: list[dict]) -> list[Problem]:
    """An original file beside its revised copy (“（修改版）”) is not used: its rows are quarantined as
    superseded, its problems withdrawn, and the unit told which file was used."""
    files = dict.fromkeys(entry["file"] for entry in ledger if entry["status"] == "已读取")
    revised = {revision_base(f)[0]: f for f in files if revision_base(f)[1]}
    superseded = {f: revised[base] for f in files for base, is_revised in [revision_base(f)]
                  if not is_revised and base in revised}
    if not superseded:
        return problems
    for f, newer in superseded.items():
        _set_aside_copies([r for r in records if r["file"] == f], f"已采用修改版“{newer}”，原文件的数据未采用")
    for entry in ledger:
        if entry["file"] in superseded:
            entry["note"] = f"已被修改版“{superseded[entry['file']]}”取代，未采用"
    kept = [p for p in problems if p.file not in superseded]
    units = {r["file"]: r["unit"] for r in records}
    return kept + [Problem(units.get(f, UNKNOWN_UNIT), f, "", None, "", "", f"已采用修改版“{newer}”，本文件未采用",
                           "无需处理；如修改版并非最终版本，请重新报送", HINT, "superseded_by_revision")
                   for f, newer in superseded.items()]


def _unit_from_path(rel: str, round_: Round) -> str | None:
    """The unit from the folder a file sits in, else from the file name (units.from_path)."""
    hit = units.from_path(rel, round_.units)
    return hit.unit if hit else None


def _file_ledger(rel: str, unit: str, status: str, note: str) -> dict:
    return dict(file=rel, sheet="", unit=unit, return_kind="", status=status, data_rows=0, kept=0, kept_with_problems=0,
                quarantined=0, skipped_rows=0, blank_rows=0, money_raw_wan=0.0, note=note)


def kind_of(record: dict) -> ReturnKind:
    return schemas.RETURN_KINDS[record["return_kind"]]


def _assemble(records: list[dict], problems: list[Problem], ledger: list[dict], round_: Round) -> RoundResult:
    tables = {}
    kept_rows, quarantined_rows = [], []
    for record in records:
        (quarantined_rows if record["_reasons"] else kept_rows).append(record)
        record["issues"] = "；".join(record["_issues"]) or None
        record["set_aside_wan"] = record["_set_aside_wan"]
    for name, kind in schemas.RETURN_KINDS.items():
        columns = PROVENANCE + [c.name for c in kind.columns if c.type != schemas.SEQ] + ["extra", *ROW_QUALITY]
        rows = [r for r in kept_rows if r["return_kind"] == name]
        tables[name] = _typed(_records_frame(rows, columns), kind)
    q_columns = PROVENANCE + ["return_kind", "reasons", "original"]
    quarantine = pd.DataFrame(
        [{**{c: r.get(c) for c in PROVENANCE}, "return_kind": schemas.RETURN_KINDS[r["return_kind"]].label,
          "reasons": "；".join(r["_reasons"]), "original": _original(r),
          "money_wan": _money_total(r) + r["_set_aside_wan"], "duplicate": bool(r.get("_duplicate"))}
         for r in quarantined_rows],
        columns=q_columns + ["money_wan", "duplicate"],
    )
    ledger_frame = _ledger(ledger, records)
    received = set(ledger_frame.loc[ledger_frame["status"] != "", "unit"])
    missing = [u for u in round_.units if u not in received]
    for unit in missing:
        problems.append(Problem(unit, "", "", None, "", "", "未报送", "请按要求报送本轮报表", ERROR, "missing_return"))
    problem_frame = pd.DataFrame([p.__dict__ for p in problems], columns=list(Problem.__dataclass_fields__))
    problem_frame["row"] = problem_frame["row"].astype("Int64")
    return RoundResult(tables=tables, quarantine=quarantine, problems=problem_frame, ledger=ledger_frame,
                       missing_units=missing)


# Per kept row: what was wrong with its cells (None when nothing), and the amount of the cells left out of the sums.
ROW_QUALITY = ["issues", "set_aside_wan"]


def _records_frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    """The given columns of dict records as a frame, built column by column (much faster than row by row)."""
    if not records:
        return pd.DataFrame([], columns=columns)
    return pd.DataFrame({c: [r.get(c) for r in records] for c in columns}, columns=columns)


def _money_total(record: dict) -> float:
    return float(sum(record.get(n) or 0 for n in _rules(kind_of(record)).money))


LEDGER_COLUMNS = ["file", "sheet", "unit", "return_kind", "data_rows", "kept", "kept_with_problems", "quarantined",
                  "skipped_rows", "blank_rows", "money_raw_wan", "money_kept_wan", "money_set_aside_wan",
                  "money_quarantined_wan", "status", "note", "corrected"]
_LEDGER_COUNTS = ["kept", "kept_with_problems", "quarantined"]
_LEDGER_MONEY = ["money_kept_wan", "money_set_aside_wan", "money_quarantined_wan"]


def _ledger(ledger: list[dict], records: list[dict]) -> pd.DataFrame:
    """One row per file and sheet: rows read, kept (and of those with a problem), quarantined, skipped;
    money as read = money used + money set aside (quarantined rows and cells left out of the sums)."""
    frame = pd.DataFrame(ledger, columns=[c for c in LEDGER_COLUMNS if c not in _LEDGER_COUNTS + _LEDGER_MONEY])
    rows = []
    for r in records:
        q, money = bool(r["_reasons"]), _money_total(r)
        rows.append({"file": r["file"], "sheet": r["sheet"], "kept": not q,
                     "kept_with_problems": not q and bool(r["_issues"]),
                     "quarantined": q, "money_kept_wan": 0.0 if q else money,
                     "money_set_aside_wan": r["_set_aside_wan"] + (money if q else 0.0),
                     "money_quarantined_wan": r["_set_aside_wan"] + money if q else 0.0})
    out = _records_frame(rows, ["file", "sheet", *_LEDGER_COUNTS, *_LEDGER_MONEY])
    counts = out.groupby(["file", "sheet"], as_index=False)[_LEDGER_COUNTS + _LEDGER_MONEY].sum()
    frame = frame.merge(counts, on=["file", "sheet"], how="left")
    frame[_LEDGER_COUNTS] = frame[_LEDGER_COUNTS].fillna(0).astype(int)
    frame["corrected"] = frame["corrected"].fillna(0).astype(int)
    frame[_LEDGER_MONEY] = frame[_LEDGER_MONEY].astype(float).fillna(0.0)
    return frame[LEDGER_COLUMNS]


def _typed(frame: pd.DataFrame, kind: ReturnKind) -> pd.DataFrame:
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


# --------------------------------------------------------------------------- saving and loading


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


def load_clean_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The clean tables a later notebook reads: {kind name: DataFrame}."""
    return {name: pd.read_parquet(Path(processed_dir) / f"{name}.parquet") for name in schemas.RETURN_KINDS}


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


def cleaned_tables(round_id: str, root: Path | None = None) -> dict[str, pd.DataFrame] | None:
    """A round's clean tables as its step 1 wrote them (data/processed/<round>/); None when it was not cleaned.

    The previous round is read this way, never cleaned again in memory: the runner cleans it first.
    """

    where = paths.round_paths(round_id, root)
    if not all(where.clean_table(kind).is_file() for kind in schemas.RETURN_KINDS):
        return None
    return load_clean_tables(where.processed)
