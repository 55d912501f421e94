"""Layouts: several tables in one sheet, and group headings known by their numbering.

Several tables in one sheet: each table is read on its own, with its own title, header and context.

A sheet with a 第一批 table followed, lower down, by a 第二批 table with its own title and header row is
split into one sheet per table before cleaning. The second table is known by its header row repeating
the first table's (the name column's header again) with a title row right above it; a header repeated
without a title (a table printed over several pages) stays one table. The second part is listed as
“Sheet1（第2个表）” (the ledger, the lists), and its rows keep their Excel row numbers: the rows of the
other tables are left blank in it.

Monthly columns: a parent (2022年完成投资) merged over one column per month is a parent, never a month; its
累计 column is read, or, without one, the months up to the cut-off are added up (monthly_columns).

Group headings numbered in Arabic digits (（1）产业项目, 1、产业项目) are told from projects numbered 1, 2, 3 by
the rows under them: numbered 1.1, 1.2 (or 1-1, 1-2), they are sub-items of the heading (numbered_groups).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

from pipeline.ingest import fai_wide, narrative
from pipeline.ingest.headers import (
    Header,
    collapse_lines,
    find_header,
    is_month,
    numbered_heading,
    row_role,
    row_texts,
    total_word,
)
from pipeline.ingest.parsing import parse_number
from pipeline.ingest.sheets import Sheet
from pipeline.schemas import AliasTable

# A title row: one filled cell (a merged title), long enough to be a title rather than a leftover 序号.
TITLE_MIN_CHARS = 6
# How many rows above a repeated header may hold its title, unit row and blank rows.
TITLE_ROWS_ABOVE = 4


def split_tables(sheets: list[Sheet], aliases: AliasTable) -> list[Sheet]:
    """Every sheet, the ones holding several tables as one sheet per table (in order)."""
    out: list[Sheet] = []
    for sheet in sheets:
        out.extend(_tables_of(sheet, aliases))
    return out


def _tables_of(sheet: Sheet, aliases: AliasTable) -> list[Sheet]:
    header = find_header(sheet.rows, aliases, frozenset(sheet.hidden_cols))
    if header is None:
        return [sheet]
    starts = [0]
    for i in _repeated_headers(sheet.rows, header):
        start = _title_start(sheet.rows, i, header)
        if start is not None and start > starts[-1]:
            starts.append(start)
    if len(starts) == 1:
        return [sheet]
    ends = [*starts[1:], len(sheet.rows)]
    return [_part(sheet, start, end, k) for k, (start, end) in enumerate(zip(starts, ends), start=1)]


def _repeated_headers(rows: list[list], header: Header) -> list[int]:
    """The rows below the header whose name cell repeats the name column's header text (then checked whole)."""
    name = next((c for c in header.known if c.column == header.kind.identity[0]), None)
    if name is None:
        return []
    texts = set(name.levels or (name.written,))
    j = name.index
    found = []
    for i in range(header.last_row + 1, len(rows)):
        row = rows[i]
        value = row[j] if j < len(row) else None
        if value.__class__ is str and collapse_lines(value) in texts and row_role(row_texts(row), header) == "header":
            found.append(i)
    return found


def _title_start(rows: list[list], i: int, header: Header) -> int | None:
    """The first row of the title block right above a repeated header, or None when it has no title."""
    start = None
    for k in range(i - 1, max(header.last_row, i - 1 - TITLE_ROWS_ABOVE), -1):
        values = [v for v in row_texts(rows[k]) if v]
        if not values:
            continue
        if len(values) == 1 and len(values[0]) >= TITLE_MIN_CHARS and not total_word(values[0]):
            start = k
            continue
        if row_role(row_texts(rows[k]), header) in ("data", "total", "subtotal", "group", "breakdown", "header"):
            break
        # a unit row (单位：万元) between the title and the header is inside the block; a footer of the
        # table above (填报单位：…) above the title stays with that table
    return start


def part_name(sheet: str, k: int) -> str:
    """The name the k-th table of a sheet is listed under (the first keeps the sheet's name): Sheet1（第2个表）."""
    return sheet if k == 1 else f"{sheet}（第{k}个表）"


def _part(sheet: Sheet, start: int, end: int, k: int) -> Sheet:
    """The sheet with only rows start..end-1 filled; every other row blank, every row number kept."""
    def inside(cell) -> bool:
        return start <= cell[0] < end

    return dataclasses.replace(
        sheet,
        name=part_name(sheet.name, k),
        rows=[row if start <= k < end else [] for k, row in enumerate(sheet.rows)],
        merged=[m for m in sheet.merged if start <= m[0][0] < end],
        hidden_rows={r for r in sheet.hidden_rows if start <= r < end},
        formulas_without_value={c for c in sheet.formulas_without_value if inside(c)},
        percent_cells={c for c in sheet.percent_cells if inside(c)},
        error_cells={c: e for c, e in sheet.error_cells.items() if inside(c)},
    )


# --------------------------------------------------------------------------- group headings by their numbering

_SUB_NUMBER = r"^{n}[.\-－—_](\d{{1,3}})$"
_SUB_MARKS = ".-－—_"


def numbered_groups(roles: dict[int, str], texts: list[list[str]], header: Header) -> dict[int, str]:
    """roles with every data row numbered like a heading (（1）, 1、, 1) whose next data row is numbered under it
    (1.1, 1-1) turned into a group heading: it is checked like a 小计 where it carries amounts, never counted."""
    seq_i, name_i = header.index_of("seq"), header.index_of(header.kind.identity[0])
    data = [i for i, role in roles.items() if role == "data"]
    out = dict(roles)
    for i, nxt in zip(data, data[1:]):
        below = _cell(texts[nxt], seq_i) or _cell(texts[nxt], name_i)
        if not any(mark in below for mark in _SUB_MARKS):
            continue  # the common case (the next row is numbered 2, 3 …), settled without a regex
        number = _heading_number(texts[i], seq_i, name_i)
        if number is not None and re.match(_SUB_NUMBER.format(n=number), _nfkc(below)):
            out[i] = "group"
    return out


def _heading_number(values: list[str], seq_i: int | None, name_i: int | None) -> int | None:
    for text in (_cell(values, seq_i), _cell(values, name_i)):
        numbered = numbered_heading(text) if text else None
        if numbered:
            return numbered[0]
    return None


def _cell(values: list[str], j: int | None) -> str:
    return values[j] if j is not None and j < len(values) else ""


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "")


# --------------------------------------------------------------------------- monthly columns

_CUMULATIVE = re.compile(r"累计|合计|小计|总计")


def monthly_columns(sheet: Sheet, aliases: AliasTable, as_of: dt.date) -> Sheet:
    """A sheet whose amounts are given month by month under a parent (2022年完成投资 / 1月 … 8月).

    With a 累计 column under the parent, the header reads it (headers: months are months) and the sheet is
    unchanged. Without one, a column is added at the right: the parent over “累计（1-N月各月相加）”, each row's
    months of this year up to the cut-off month N added up, so that 表头对照 says where the figure comes from.
    A month cell that is not a number is carried over as written, for the unit to fix.
    """
    header = find_header(sheet.rows, aliases, frozenset(sheet.hidden_cols))
    if header is None:
        return sheet
    m = _month_row(sheet.rows, header)
    if m is None or m == 0:
        return sheet
    row = row_texts(sheet.rows[m])
    months = {j: _month_number(t) for j, t in enumerate(row) if is_month(t)}
    first, last = min(months), max(months)
    if any(_CUMULATIVE.search(t) for t in row[first: last + 3] if t):
        return sheet
    parent = _parent_text(sheet, m - 1, first)
    if not parent:
        return sheet
    return _with_sum_column(sheet, m, parent, {j for j, n in months.items() if n <= as_of.month}, as_of.month)


def _month_row(rows: list[list], header: Header) -> int | None:
    """The row of month sub-headers: the header's last row, or the row right under a one-row header."""
    for k in (header.last_row, header.last_row + 1):
        if k < len(rows) and sum(1 for t in row_texts(rows[k]) if is_month(t)) >= MIN_MONTHS:
            return k
    return None


# At least this many month sub-headers make a monthly layout.
MIN_MONTHS = 2


_MONTH_WORDS = {w: k for k, w in enumerate("一 二 三 四 五 六 七 八 九 十 十一 十二".split(), start=1)}


def _month_number(text: str) -> int:
    """8月 -> 8, 十一月份 -> 11 (the text is a month, is_month)."""
    word = re.sub(r"月份?$", "", unicodedata.normalize("NFKC", text).replace(" ", ""))
    return int(word) if word.isdigit() else _MONTH_WORDS.get(word, 13)


def _parent_text(sheet: Sheet, r: int, c: int) -> str:
    """The text over column c in row r: its own cell, or the merged range's that covers it."""
    for (r1, c1), (r2, c2) in sheet.merged:
        if r1 <= r <= r2 and c1 <= c <= c2:
            r, c = r1, c1
            break
    row = sheet.rows[r] if r < len(sheet.rows) else []
    return row_texts(row)[c] if c < len(row) else ""


def _with_sum_column(sheet: Sheet, m: int, parent: str, summed: set[int], cutoff: int) -> Sheet:
    width = max(len(r) for r in sheet.rows)
    rows = []
    for k, row in enumerate(sheet.rows):
        cell = None
        if k == m - 1:
            cell = parent
        elif k == m:
            cell = f"累计（1-{cutoff}月各月相加）"
        elif k > m:
            cell = _sum_of(row, summed)
        rows.append([*row, *[None] * (width - len(row)), cell])
    return dataclasses.replace(sheet, rows=rows)


def _sum_of(row: list, columns: set[int]):
    """The months' sum; None when all are empty; the first unreadable cell as written when one is."""
    total, seen = 0.0, False
    for j in sorted(columns):
        value = row[j] if j < len(row) else None
        parsed = parse_number(value)
        if parsed.problem:
            return value
        if parsed.value is not None:
            total, seen = total + parsed.value, True
    return total if seen else None


def arrange(sheets: list[Sheet], aliases: AliasTable, as_of: dt.date) -> list[Sheet]:
    """The layouts this module reads, in order: the wide FAI table (fai_wide.py), a narrative in one big cell
    (narrative.py), several tables per sheet, then monthly columns of each table."""
    sheets = [narrative.from_big_cell(fai_wide.to_long(s)) for s in sheets]
    return [monthly_columns(s, aliases, as_of) for s in split_tables(sheets, aliases)]
