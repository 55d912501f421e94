"""Finding a sheet's header and the role of every row below it.

The header is the row (or pair of rows, when a group header is merged over
sub-headers) whose cells best match one return kind through the alias table.
Below it each row is data, blank, a total (合计/小计), a footer (填报单位…) or a
repeated header.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pipeline import schemas
from pipeline.parsing import is_empty
from pipeline.schemas import AliasTable, ReturnKind

# How far down a sheet the header may start (title and unit rows come first).
HEADER_SEARCH_ROWS = 30

_TOTAL = re.compile(r"^(总?合计|总计|小计|全区合计|全市合计|本页合计|合\s*计)[:：]?$")
_FOOTER = re.compile(r"^(填报单位|填表单位|报送单位|填报人|填表人|联系人|联系电话|审核人|审核|制表人?|单位负责人|负责人|备注|注[:：]|说明|填报日期)")
_UNIT_ROW = re.compile(r"单位[:：]\s*(万元|亿元|元)")


@dataclass
class HeaderColumn:
    index: int
    written: str  # header text as the unit wrote it, line breaks collapsed
    row: int  # Excel row number of the header cell
    column: str | None  # canonical column, None if unknown
    unit: str | None  # money unit written in the header
    duplicate_of: str | None = None  # header of an earlier column with the same meaning


@dataclass
class Header:
    kind: ReturnKind
    first_row: int  # 0-based index of the first header row
    last_row: int  # 0-based index of the last header row
    columns: list[HeaderColumn]

    @property
    def known(self) -> list[HeaderColumn]:
        return [c for c in self.columns if c.column]

    @property
    def missing_required(self) -> list[str]:
        present = {c.column for c in self.columns}
        return [name for name in self.kind.required if name not in present]



def cell_text(value: Any) -> str:
    if is_empty(value) and not (isinstance(value, str) and value.strip()):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def collapse_lines(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", "", text).strip()


def find_header(rows: list[list[Any]], aliases: AliasTable) -> Header | None:
    """The header of a sheet: the row (or pair of rows) whose cells best match one return kind.

    Two header rows are read together when a group header is merged over
    sub-headers ("2021年投资" over "计划" and "完成"); each column is then looked
    up as "group/sub", then "sub", then "group".
    """
    best: Header | None = None
    best_score = (0, 0, 0)
    for top in range(min(len(rows), HEADER_SEARCH_ROWS)):
        for height in (1, 2):
            if top + height > len(rows):
                continue
            for kind in schemas.RETURN_KINDS.values():
                header = _match_header(rows, top, height, kind, aliases)
                known = {c.column for c in header.known}
                required_hit = sum(1 for r in kind.required if r in known)
                # On a tie, the single header row wins: a title row is not a group header.
                score = (len(known), required_hit, -height)
                if required_hit and len(known) >= 2 and score > best_score:
                    best, best_score = header, score
    return best


def _match_header(rows, top: int, height: int, kind: ReturnKind, aliases: AliasTable) -> Header:
    width = max(len(rows[top + i]) for i in range(height))
    upper = [cell_text(v) for v in rows[top]] + [""] * width
    lower = [cell_text(v) for v in rows[top + 1]] + [""] * width if height == 2 else [""] * (width * 2)
    columns, seen, group = [], {}, ""
    for j in range(width):
        if upper[j]:
            group = upper[j]
        elif not lower[j]:
            group = ""
        # A blank upper cell with a sub-header below sits under a merged group header.
        parent = upper[j] or (group if lower[j] else "")
        candidates = []
        if parent and lower[j]:
            candidates.append((f"{parent}/{lower[j]}", top + 2))
        if lower[j]:
            candidates.append((lower[j], top + 2))
        if upper[j]:
            candidates.append((upper[j], top + 1))
        if not candidates:
            continue
        column, unit, written, row = None, None, candidates[0][0], candidates[0][1]
        for text, excel_row in candidates:
            hit = aliases.lookup(text).get(kind.name)
            if hit:
                column, written, row = hit, text, excel_row
                break
        for text, _ in candidates:  # a unit may sit in either header row
            unit = unit or schemas.normalize_header(text)[1]
        duplicate_of = seen.get(column) if column else None
        if duplicate_of:
            column = None  # a second column with the same meaning is not read twice
        elif column:
            seen[column] = collapse_lines(written)
        columns.append(HeaderColumn(j, collapse_lines(written), row, column, unit, duplicate_of))
    return Header(kind=kind, first_row=top, last_row=top + height - 1, columns=columns)


def sheet_money_unit(rows: list[list[Any]], header: Header) -> str:
    """The money unit a sheet states above its header ("单位：亿元"); 万元 if none."""
    for row in rows[: header.last_row + 1]:
        for value in row:
            m = _UNIT_ROW.search(unicodedata.normalize("NFKC", cell_text(value)))
            if m:
                return m.group(1)
    return "万元"


# --------------------------------------------------------------------------- row roles


def row_role(values: list[str], header: Header) -> str:
    """data, blank, total, subtotal, footer or header (a repeated header row)."""
    filled = [v for v in values if v]
    if not filled:
        return "blank"
    first = unicodedata.normalize("NFKC", filled[0]).replace(" ", "")
    if _FOOTER.match(first):
        return "footer"
    labels = [unicodedata.normalize("NFKC", v).replace(" ", "") for v in filled[:3]]
    for label in labels:
        if _TOTAL.match(label):
            return "subtotal" if label.startswith("小计") else "total"
    known = header.known
    if sum(1 for c in known if c.index < len(values) and values[c.index] and collapse_lines(values[c.index]) == c.written) >= max(2, len(known) // 2):
        return "header"
    meaningful = [c for c in known if c.column != "seq"]
    if not any(c.index < len(values) and values[c.index] for c in meaningful):
        return "blank"  # only a 序号 left over from the template
    return "data"
