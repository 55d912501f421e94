"""The statistics bureau's wide FAI table: regions in rows, months in columns, read as the FAI return.

    地区      1-6月   1-7月   1-8月            地区   1-7月          1-8月
    全区合计   7.9%    8.2%    8.5%      or           绝对额  增速   绝对额  增速
    银 川 市   6.1     6.5     7.0              全区   1200   8.2    1380   8.5

The latest month is taken: one column per month is its 累计增速; a month over two sub-columns gives the
amount (绝对额, 完成额) and the growth (增速, 增长, %). Each region row keeps its Excel row number and is
rewritten in place as 地区 / 月份 / 累计完成额 / 累计增速(%), the header row likewise, so cleaning reads it as
any FAI return. Region names are normalised (spaces and a 合计/总计 suffix go: 全区合计 -> 全区). A
percent-formatted cell (0.085 shown as 8.5%) stays marked as such in its new column.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata

from pipeline.ingest.headers import HEADER_SEARCH_ROWS, row_texts
from pipeline.ingest.parsing import parse_month
from pipeline.ingest.sheets import Sheet

_REGION = re.compile(r"^(?:地区|区域|地区名称|市县区|市县|县区|地市|区县|单位|地区/月份)$")
_SPAN = re.compile(r"^(?:\d{4}年)?(?:1[-~—–至到])?\d{1,2}月(?:份|底|末)?$")
_GROWTH = re.compile(r"增|速|%|比")
_REGION_SUFFIX = re.compile(r"(?:合计|总计|小计)$")
LONG_HEADER = ["地区", "月份", "累计完成额", "累计增速(%)"]
# At least this many month columns make a wide table.
MIN_MONTHS = 2


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "")


def _month(text: str) -> int | None:
    t = _norm(text)
    return parse_month(t).value if t and _SPAN.match(t) else None


def region_name(text: str) -> str:
    """银 川 市 -> 银川市; 全区合计 -> 全区; 银川市合计 -> 银川市."""
    t = _norm(text)
    return _REGION_SUFFIX.sub("", t) or t


def to_long(sheet: Sheet) -> Sheet:
    """A wide FAI sheet rewritten as the long FAI return (latest month); any other sheet unchanged."""
    found = _wide_header(sheet.rows)
    if found is None:
        return sheet
    h, region_col, months = found
    month = max(months.values())
    first = min(j for j, m in months.items() if m == month)
    later = [j for j in months if j > first]
    span = range(first, min(later) if later else first + 2)
    amount_col, growth_col = _columns_under(sheet.rows, h, span)
    label = next(t for t in row_texts(sheet.rows[h]) if _month(t) == month)
    data_from = h + 2 if amount_col is not None and amount_col != growth_col else h + 1
    rows = [list(r) for r in sheet.rows]
    rows[h] = list(LONG_HEADER)
    for k in range(h + 1, data_from):
        rows[k] = []
    percent = set()
    for k in range(data_from, len(rows)):
        texts = row_texts(sheet.rows[k])
        region = texts[region_col] if region_col < len(texts) else ""
        if not region:
            continue
        raw = sheet.rows[k]
        pick = (lambda j: raw[j] if j is not None and j < len(raw) else None)  # noqa: E731
        rows[k] = [region_name(region), label, pick(amount_col if amount_col != growth_col else None),
                   pick(growth_col)]
        if (k, growth_col) in sheet.percent_cells:
            percent.add((k, 3))
    return dataclasses.replace(sheet, rows=rows, percent_cells=percent, merged=[],
                               error_cells={(r, 3): e for (r, c), e in sheet.error_cells.items() if c == growth_col})


def _wide_header(rows: list[list]) -> tuple[int, int, dict[int, int]] | None:
    """(header row, region column, {column: month}) of a wide table, or None."""
    for h in range(min(len(rows), HEADER_SEARCH_ROWS)):
        texts = row_texts(rows[h])
        region = next((j for j, t in enumerate(texts) if t and _REGION.match(_norm(t))), None)
        months = {j: m for j, t in enumerate(texts) if (m := _month(t)) is not None}
        if region is not None and len(months) >= MIN_MONTHS:
            return h, region, months
    return None


def _columns_under(rows: list[list], h: int, span: range) -> tuple[int | None, int]:
    """(amount column or None, growth column) of the latest month: its sub-headers, or its one column."""
    below = row_texts(rows[h + 1]) if h + 1 < len(rows) else []
    subs = {j: _norm(below[j]) for j in span if j < len(below) and below[j] and not _number(below[j])}
    if len(subs) < 2:
        return None, span.start
    growth = next((j for j, t in subs.items() if _GROWTH.search(t)), max(subs))
    amount = next((j for j in subs if j != growth), None)
    return amount, growth


def _number(text: str) -> bool:
    return bool(re.match(r"^[+-]?\d+(?:\.\d+)?%?$", _norm(text)))
