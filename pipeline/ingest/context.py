"""What a sheet says around its table: the batch, the reporting unit, the year and the money unit.

Units often state these only once, outside the columns: in the title row
("2022年第一批集中开工重大项目进展情况表"), a unit row ("单位：亿元", sometimes at the far
right, sometimes in a note below the table), the sheet name (one sheet per batch:
第一批, 第二批) or the file name. Each value found is kept with where it came from,
so the 表头对照 output can show it; a value in a column always wins over these.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pipeline import schemas
from pipeline.ingest.headers import Header, cell_text

# Where a value was found, as the 表头对照 output names it.
FROM_SHEET, FROM_TITLE, FROM_FILE, FROM_UNIT_ROW, FROM_NOTE, FROM_DEFAULT = (
    "工作表名", "表格上方的标题", "文件名", "表格上方的单位行", "表格下方的注释", "默认")

_BATCH = re.compile(r"第([一二三四五六七八九十\d]+)批")
_BATCH_NUMBERS = {"一": "第一批", "1": "第一批", "二": "第二批", "2": "第二批", "三": "第三批", "3": "第三批"}
_YEAR = re.compile(r"(20\d{2})年")
_UNITS = schemas.MONEY_UNIT_PATTERN
_MONEY_UNIT = re.compile(rf"(?:金额)?单位[:：]\s*({_UNITS})|[(（]\s*({_UNITS})\s*[)）]")
# Rows of notes below a table that may state the money unit: 注：单位为亿元, 说明：金额单位亿元.
_NOTE_UNIT = re.compile(rf"(?:单位(?:为|是|:|：)?\s*|以)({_UNITS})(?:计|为单位)?")
DEFAULT_MONEY_UNIT = schemas.DEFAULT_MONEY_UNIT


@dataclass(frozen=True)
class Found:
    """One value found around the table, and where."""

    value: Any
    source: str
    text: str = ""  # the text it was read from, for the 表头对照 output


@dataclass
class SheetContext:
    batch: Found | None = None
    year: Found | None = None
    money_unit: Found = field(default_factory=lambda: Found(DEFAULT_MONEY_UNIT, FROM_DEFAULT))

    def rows(self) -> list[tuple[str, str, str]]:
        """(标准列, 取值, 来源) for each value found, for the 表头对照 output."""
        out = []
        for label, found in (("批次", self.batch), ("年份", self.year), ("金额单位", self.money_unit)):
            if found is not None:
                where = found.source + (f"“{found.text}”" if found.text else "")
                out.append((label, str(found.value), where))
        return out


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def batch_in(text: str) -> str | None:
    """The one batch a text names (第一批, 第2批 …); None when it names none, or more than one."""
    names = {_BATCH_NUMBERS.get(n, f"第{n}批") for n in _BATCH.findall(_nfkc(text))}
    return names.pop() if len(names) == 1 else None


def _title_texts(rows: list[list[Any]], header: Header) -> list[str]:
    """The texts above the table: title and unit rows, and header cells that are not a known column
    (a title read as the top level of a header)."""
    known = {text for c in header.known for text in c.levels}
    return [t for row in rows[: header.last_row + 1] for t in (cell_text(v) for v in row) if t and t not in known]


def _first(found: list[Found | None]) -> Found | None:
    return next((f for f in found if f is not None and f.value is not None), None)


def _found_batch(text: str, source: str) -> Found | None:
    batch = batch_in(text)
    return Found(batch, source, text) if batch else None


def sheet_context(rows: list[list[Any]], header: Header, sheet_name: str, file_name: str,
                  below: list[str] = ()) -> SheetContext:
    """The batch, year and money unit a sheet states outside its columns.

    below: the texts of the rows after the table (notes, footers), where a money
    unit is sometimes stated ("注：本表金额单位为亿元").
    """
    titles = _title_texts(rows, header)
    batch = _first([_found_batch(sheet_name, FROM_SHEET), *(_found_batch(t, FROM_TITLE) for t in titles),
                    _found_batch(file_name, FROM_FILE)])
    years = [Found(int(m.group(1)), FROM_TITLE, t) for t in titles for m in [_YEAR.search(_nfkc(t))] if m]
    return SheetContext(batch=batch, year=_first(years), money_unit=_money_unit(titles, below, sheet_name))


def _money_unit(titles: list[str], below: list[str], sheet_name: str) -> Found:
    for text in titles:
        m = _MONEY_UNIT.search(_nfkc(text))
        if m:
            return Found(m.group(1) or m.group(2), FROM_UNIT_ROW, text)
    for text in below:
        norm = _nfkc(text)
        m = _MONEY_UNIT.search(norm) or (_NOTE_UNIT.search(norm) if norm.startswith(("注", "说明", "备注")) else None)
        if m:
            return Found(next(g for g in m.groups() if g), FROM_NOTE, text)
    m = _MONEY_UNIT.search(_nfkc(sheet_name))
    if m:
        return Found(m.group(1) or m.group(2), FROM_SHEET, sheet_name)
    return Found(DEFAULT_MONEY_UNIT, FROM_DEFAULT)
