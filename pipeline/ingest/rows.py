"""One data row as a record: each cell through its column's parser, the cell facts (formula without value,
Excel error, percent format), the values found around the table, then the row checks (checks.py).

The cells come already parsed a column at a time (columnwise.py, through sheet._SheetWalk); the row takes each
cell's value, or its Parsed with a problem, from there. A cell's own parser (cell_parser) reads only what the
columns could not: a percent-formatted cell, and the cells columnwise hands back to it.
"""
from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from pipeline import schemas
from pipeline.ingest import indicator_names, readers
from pipeline.ingest.checks import PLACEHOLDER_CODE, RowContext, apply_checks, bad_cell
from pipeline.ingest.headers import Header, cell_text
from pipeline.ingest.parsing import (
    Parsed,
    parse_bool,
    parse_choice,
    parse_date,
    parse_money,
    parse_month,
    parse_number,
    parse_text,
)
from pipeline.ingest.problems import ERROR
from pipeline.ingest.records import is_bad, keep_source, new_record, source
from pipeline.ingest.values import parser_for as concept_parser


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


def _by_row(cells: set[tuple[int, int]]) -> dict[int, set[int]]:
    """{row: {columns}} of a set of (row, column) cells."""
    rows: dict[int, set[int]] = {}
    for r, j in cells:
        rows.setdefault(r, set()).add(j)
    return rows


class CellReader(NamedTuple):
    """How one column of a sheet is read: where, under which header, as which schema column, with which parser."""

    index: int
    written: str
    name: str | None  # canonical column; None for a header the alias table does not know
    type: str | None
    parse: Callable[[Any], Parsed] | None
    unit: str | None = None  # the money unit the column's amounts are in (its header's, else the sheet's)
    parse_each: Callable[[Any], Parsed] | None = None  # the parser without parse's memo (columnwise keeps its own)


def cell_readers(header: Header, sheet_unit: str) -> list[CellReader]:
    readers_ = []
    for col in header.columns:
        column = header.kind.column(col.column) if col.column else None
        each = cell_parser(column, col.unit or sheet_unit) if column else None
        parse = memo_parser(column, col.unit or sheet_unit, each) if column else None
        readers_.append(CellReader(col.index, col.written, col.column, column.type if column else None, parse,
                                    col.unit or sheet_unit, each))
    return readers_


def memo_parser(column: schemas.Column, unit: str | None, parse_one=None) -> Callable[[Any], Parsed]:
    """cell_parser for one column (parse_one, when made already), computed once per distinct value: a column
    repeats its values (是/否, 第一批, the same county) row after row, and parsers are pure."""
    memo: dict[tuple[type, Any], Parsed] = {}
    parse_one = parse_one or cell_parser(column, unit)

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
class CellFacts:
    """What the reader knows about a sheet's cells beyond their values, by row (0-based)."""

    uncomputed: dict[int, set[int]]  # formulas saved without a value
    errors: dict[int, dict[int, str]]  # Excel error values (#DIV/0!)
    percent: dict[int, set[int]]  # cells formatted as a percentage (Excel stores 0.085, shows 8.5%)

    @classmethod
    def of(cls, sheet: readers.Sheet) -> "CellFacts":
        errors: dict[int, dict[int, str]] = {}
        for (r, j), text in sheet.error_cells.items():
            errors.setdefault(r, {})[j] = text
        return cls(_by_row(sheet.formulas_without_value), errors, _by_row(sheet.percent_cells))

    def row(self, i: int) -> "RowFacts":
        return RowFacts(self.uncomputed.get(i, frozenset()), self.errors.get(i, {}), self.percent.get(i, frozenset()))


class RowFacts(NamedTuple):
    uncomputed: set[int] = frozenset()
    errors: dict[int, str] = {}
    percent: set[int] = frozenset()


def parse_row(raw: list, excel_row: int, parsed: tuple, facts: RowFacts, rows: RowContext) -> dict:
    """One data row as a record. A cell that cannot be read is left empty (and reported); the row is kept.

    parsed: the row's cells as _SheetWalk.parse_columns read them (a value, or a Parsed with a problem), in
    the order of rows.cells.
    """
    kind, problem = rows.header.kind, rows.problem
    record = new_record(kind)
    extra = {}
    width = len(raw)
    for pos, (index, written, name, type_, parse, _, _) in enumerate(rows.cells):
        value = raw[index] if index < width else None
        if name is None:
            if cell_text(value):
                extra[written] = cell_text(value)
            continue
        if index in facts.uncomputed or index in facts.errors:
            _unreadable_cell(record, name, written, facts.errors.get(index), excel_row, problem)
            continue
        if index in facts.percent and value.__class__ in (int, float):  # 100% in an .xls is an integer (RK record)
            value = _percent_cell(record, name, written, value, type_, excel_row, problem)
            result = parse(value)
        else:
            result = parsed[pos]
            if result.__class__ is not Parsed:  # a clean value
                record[name] = result
                continue
        if result.problem:
            bad_cell(record, name, f"{written}：{result.problem}")
            problem(excel_row, written, value, result.problem, result.fix, ERROR, f"bad_{type_}")
        record[name] = result.value
    if record.get("project_code") and PLACEHOLDER_CODE.match(record["project_code"]):
        record["project_code"] = None  # 待赋码 is no code: the project is known by its name
    for name, value in rows.defaults.items():  # a value found around the table fills an empty cell
        if record.get(name) is None and not is_bad(record, name):
            record[name] = value
    apply_checks(record, raw, excel_row, rows)
    if kind.name == "indicators":
        _normalise_indicator(record)
    if kind.name == "practices":
        record["section"] = _canonical_name(record["section"], schemas.PRACTICE_SECTIONS)
    record["extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
    keep_source(record, raw, rows.header)
    return record


def _unreadable_cell(record: dict, name: str, written: str, error: str | None, excel_row: int, problem) -> None:
    """A formula saved without its value, or an Excel error value: the cell is left out and the unit told what it
    holds."""
    if error:
        bad_cell(record, name, f"{written}：单元格是公式错误 {error}")
        problem(excel_row, written, error, f"单元格是公式错误 {error}，无法读取数值",
                "请改正公式或直接填写数值后重新报送", ERROR, "excel_error")
        return
    bad_cell(record, name, f"{written}：公式没有计算结果")
    problem(excel_row, written, "（公式）", "公式没有保存计算结果，无法读取数值",
            "请在 Excel 中打开文件，重新计算（F9）并保存后再发送，或改填数值", ERROR, "formula_no_value")


def _percent_cell(record: dict, name: str, written: str, value: float | int, type_: str, excel_row: int, problem):
    """A percent-formatted cell: a rate column reads it as the percentage it shows; a money column must not hold one."""
    if type_ == schemas.NUMBER:
        return value * 100  # 0.085 shown as 8.5% is 8.5 (%), as if the unit had typed 8.5
    if type_ == schemas.MONEY:
        problem(excel_row, written, f"{value:.2%}", "金额栏的单元格是百分比格式", "请填写金额并把单元格格式改为“数值”",
                ERROR, "bad_money")
        bad_cell(record, name, f"{written}：金额栏的单元格是百分比格式")
        return None
    return value


def original(record: dict) -> str:
    """The row as the unit wrote it, header by header: what the quarantine keeps."""
    raw, header = source(record)
    return json.dumps({c.written: cell_text(raw[c.index]) if c.index < len(raw) else "" for c in header.columns},
                      ensure_ascii=False)


def _normalise_indicator(record: dict) -> None:
    """Canonical 指标名称 by concept and the row's own unit converting its amounts (indicator_names.py)."""
    indicator_names.normalise(record)
