"""Finding a sheet's header and the role of every row below it.

The header is the row (or pair of rows, when a group header is merged over
sub-headers) whose cells best match one return kind through the alias table.
Below it each row is data, blank, a total (合计/小计), a footer (填报单位…) or a
repeated header.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pipeline import schemas
from pipeline.parsing import han_other_than, is_empty
from pipeline.schemas import AliasTable, ReturnKind

# How far down a sheet the header may start (title and unit rows come first).
HEADER_SEARCH_ROWS = 30

_TOTAL = re.compile(r"^(总?合计|总计|小计|全区合计|全市合计|本页合计|合\s*计)[:：]?$")
_FOOTER = re.compile(r"^(填报单位|填表单位|报送单位|填报人|填表人|联系人|联系电话|审核人|审核|制表人?|单位负责人|负责人|备注|注[:：]|说明|填报日期)")
_UNIT_ROW = re.compile(r"单位[:：]\s*(万元|亿元|元)")
# A text holding a Chinese character that no _TOTAL label has is not a 合计 label.
_NOT_TOTAL = han_other_than("总合计小全区市本页")


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

    @functools.cached_property
    def _row_checks(self) -> tuple[list[tuple[int, str]], frozenset[str], int, list[int]]:
        """What row_role compares every row with, worked out once per header: the known columns'
        (index, header text), those texts as a set, how many must repeat for a repeated header,
        and the indices of the known columns other than 序号."""
        known = self.known
        pairs = [(c.index, c.written) for c in known]
        meaningful = [c.index for c in known if c.column != "seq"]
        return pairs, frozenset(w for _, w in pairs), max(2, len(known) // 2), meaningful



def cell_text(value: Any) -> str:
    """A cell as the text the unit sees: stripped, an integer-valued float without .0, "" for empty."""
    if value.__class__ is str:  # the common cases first: a string is its stripped self,
        return value.strip()
    if value.__class__ is float and value == value:  # a number (not NaN) its digits
        return str(int(value)) if value.is_integer() else str(value)
    if is_empty(value) and not (isinstance(value, str) and value.strip()):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def row_texts(row: list[Any]) -> list[str]:
    """cell_text of every cell of a row (the loop the cleaning runs on every row, kept tight)."""
    return [v.strip() if v.__class__ is str else cell_text(v) for v in row]


def collapse_lines(text: str) -> str:
    if "\n" not in text and "\r" not in text:
        return text.strip()
    return re.sub(r"\s*[\r\n]+\s*", "", text).strip()


def find_header(rows: list[list[Any]], aliases: AliasTable) -> Header | None:
    """The header of a sheet: the row (or pair of rows) whose cells best match one return kind.

    Two header rows are read together when a group header is merged over
    sub-headers ("2021年投资" over "计划" and "完成"); each column is then looked
    up as "group/sub", then "sub", then "group".

    Every (top row, height) is scored against every kind; the header cells of
    one (top, height) are the same for every kind, so they are built and looked
    up once (`_candidates`), and only the winner is turned into a Header.
    """
    lookup = _memo_lookup(aliases)
    texts = [row_texts(row) for row in rows[: HEADER_SEARCH_ROWS + 1]]
    best, best_score = None, (0, 0, 0)
    for top in range(min(len(rows), HEADER_SEARCH_ROWS)):
        for height in (1, 2):
            if top + height > len(rows):
                continue
            candidates = _candidates(texts, top, height, lookup)
            kinds_hit = {k for _, tries, _ in candidates for _, _, hits in tries for k in hits}
            for kind in schemas.RETURN_KINDS.values():
                if kind.name not in kinds_hit:
                    continue  # no header cell of this kind: no known column, cannot score
                known = {column for column, _, _ in _resolve(candidates, kind)[0] if column}
                required_hit = sum(1 for r in kind.required if r in known)
                # On a tie, the single header row wins: a title row is not a group header.
                score = (len(known), required_hit, -height)
                if required_hit and len(known) >= 2 and score > best_score:
                    best, best_score = (top, height, kind, candidates), score
    if best is None:
        return None
    top, height, kind, candidates = best
    return _header(candidates, top, height, kind)


def _memo_lookup(aliases: AliasTable):
    """aliases.lookup and the unit written in a header, each computed once per distinct text."""
    memo: dict[str, tuple[dict[str, str], str | None]] = {}

    def lookup(text: str) -> tuple[dict[str, str], str | None]:
        hit = memo.get(text)
        if hit is None:
            hit = memo[text] = (aliases.lookup(text), schemas.normalize_header(text)[1])
        return hit

    return lookup


# One header column before its kind is known: its index and the header texts to
# try, in order, each with its Excel row and its lookup result.
_Candidate = tuple[int, list[tuple[str, int, dict[str, str]]], str | None]


def _candidates(texts: list[list[str]], top: int, height: int, lookup) -> list[_Candidate]:
    rows = texts[top: top + height]
    width = max(len(r) for r in rows)
    upper = rows[0] + [""] * width
    lower = rows[1] + [""] * width if height == 2 else [""] * (width * 2)
    found, group = [], ""
    for j in range(width):
        if upper[j]:
            group = upper[j]
        elif not lower[j]:
            group = ""
        # A blank upper cell with a sub-header below sits under a merged group header.
        parent = upper[j] or (group if lower[j] else "")
        tries = []
        if parent and lower[j]:
            tries.append((f"{parent}/{lower[j]}", top + 2))
        if lower[j]:
            tries.append((lower[j], top + 2))
        if upper[j]:
            tries.append((upper[j], top + 1))
        if not tries:
            continue
        looked_up = [(text, row, *lookup(text)) for text, row in tries]
        unit = next((written_unit for *_, written_unit in looked_up if written_unit), None)  # in either header row
        found.append((j, [(text, row, hits) for text, row, hits, _ in looked_up], unit))
    return found


def _resolve(candidates: list[_Candidate], kind: ReturnKind) -> tuple[list[tuple[str | None, str, int]], dict[str, str]]:
    """Per column, (canonical column or None, header text used, its Excel row) for one kind.

    A second column with the same meaning is not read twice: its canonical
    column is None, and `duplicates` maps its index to the earlier header.
    """
    resolved, seen, duplicates = [], {}, {}
    for j, tries, _ in candidates:
        column, written, row = None, tries[0][0], tries[0][1]
        for text, excel_row, hits in tries:
            hit = hits.get(kind.name)
            if hit:
                column, written, row = hit, text, excel_row
                break
        duplicate_of = seen.get(column) if column else None
        if duplicate_of:
            duplicates[j] = duplicate_of
            column = None
        elif column:
            seen[column] = collapse_lines(written)
        resolved.append((column, written, row))
    return resolved, duplicates


def _header(candidates: list[_Candidate], top: int, height: int, kind: ReturnKind) -> Header:
    resolved, duplicates = _resolve(candidates, kind)
    columns = [HeaderColumn(j, collapse_lines(written), row, column, unit, duplicates.get(j))
               for (j, _, unit), (column, written, row) in zip(candidates, resolved)]
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
    """data, blank, total, subtotal, footer or header (a repeated header row).

    values: the text of each cell of the row, as cell_text gives it.
    """
    filled = [v for v in values if v]
    if not filled:
        return "blank"
    first = unicodedata.normalize("NFKC", filled[0]).replace(" ", "")
    if _FOOTER.match(first):
        return "footer"
    for k, text in enumerate(filled[:3]):
        if _NOT_TOTAL.search(text):
            continue  # a project name, say: saves normalising it
        label = first if k == 0 else unicodedata.normalize("NFKC", text).replace(" ", "")
        if _TOTAL.match(label):
            return "subtotal" if label.startswith("小计") else "total"
    if _repeats_header(values, header):
        return "header"
    meaningful = header._row_checks[3]
    width = len(values)
    if not any(j < width and values[j] for j in meaningful):
        return "blank"  # only a 序号 left over from the template
    return "data"


def _repeats_header(values: list[str], header: Header) -> bool:
    """At least half of the known columns (and two) hold their own header text again."""
    pairs, texts, needed, _ = header._row_checks
    joined = "\x1f".join(values)
    # Texts without line breaks are their own collapse_lines: with none equal to a
    # header text, nothing repeats. This settles almost every data row at once.
    if "\n" not in joined and "\r" not in joined and texts.isdisjoint(values):
        return False
    width = len(values)
    return sum(1 for j, text in pairs if j < width and values[j] and collapse_lines(values[j]) == text) >= needed
