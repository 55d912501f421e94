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
from pipeline.ingest.concepts import ConceptTable, default_concepts
from pipeline.ingest.parsing import is_empty
from pipeline.schemas import AliasTable, ReturnKind

# How far down a sheet the header may start (title and unit rows come first).
HEADER_SEARCH_ROWS = 30

# A text holding a Chinese character that no _TOTAL label has is not a 合计 label.


@dataclass
class HeaderColumn:
    index: int
    written: str  # header text as the unit wrote it, line breaks collapsed
    row: int  # Excel row number of the header cell
    column: str | None  # canonical column, None if unknown
    unit: str | None  # money unit written in the header
    duplicate_of: str | None = None  # header of an earlier column with the same meaning
    match: schemas.HeaderMatch | None = None  # how the header was matched, for the 表头对照 output
    levels: tuple[str, ...] = ()  # each header level's text, top first (one for a one-row header)


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
    def _row_checks(self) -> tuple[list[tuple[int, frozenset[str]]], frozenset[str], int, list[int]]:
        """What row_role compares every row with, worked out once per header: the known columns'
        (index, header texts of any level), all those texts as a set, how many must repeat for a
        repeated header, and the indices of the known columns other than 序号."""
        known = self.known
        pairs = [(c.index, frozenset(c.levels or (c.written,))) for c in known]
        meaningful = [c.index for c in known if c.column != "seq"]
        return pairs, frozenset().union(*(t for _, t in pairs)), max(2, len(known) // 2), meaningful

    @functools.cached_property
    def _role_columns(self) -> tuple[int | None, int | None, list[int]]:
        """For row roles: the 序号 column, the name column, and the columns only a data row fills
        (yes/no, choices, dates, codes)."""
        status_types = (schemas.BOOL, schemas.CHOICE, schemas.DATE, schemas.MONTH)
        kind = self.kind
        status = [c.index for c in self.known
                  if kind.column(c.column).type in status_types or c.column == "project_code"
                  or (c.column in kind.required and c.column not in kind.identity
                      and kind.column(c.column).type == schemas.TEXT)]
        return self.index_of("seq"), self.index_of(kind.identity[0]), status

    def index_of(self, column: str) -> int | None:
        """The sheet column (0-based) holding a canonical column, if the header has it."""
        return next((c.index for c in self.columns if c.column == column), None)


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


def find_header(rows: list[list[Any]], aliases: AliasTable, hidden_cols: frozenset[int] = frozenset(),
                concepts: ConceptTable | None = None) -> Header | None:
    """The header of a sheet: the one to three rows whose cells best match one return kind.

    Rows read together when a group header is merged over sub-headers ("2021年投资"
    over "计划" and "完成"); each level is normalised on its own and the levels are
    joined (`schemas.join_levels`) before they are looked up.

    A header the alias table does not name is matched by concept (concepts.py); an alias row always wins.
    Every (top row, height) is scored against every kind; the header cells of
    one (top, height) are the same for every kind, so they are built once
    (`_candidates`), and only the winner is turned into a Header.
    """
    concepts = concepts or default_concepts()
    # The search starts at the first filled row: a second table of a sheet (layout.split_tables) has only blank
    # rows above its title.
    first = next((i for i, row in enumerate(rows) if any(v is not None and v != "" for v in row)), 0)
    region = tuple(tuple(row_texts(row)) for row in rows[first: first + HEADER_SEARCH_ROWS + MAX_HEADER_ROWS])
    return _found.get((first, region, frozenset(hidden_cols)), aliases, concepts, _search)


def _search(key: tuple, aliases: AliasTable, concepts: ConceptTable) -> Header | None:
    """find_header proper, on the texts of the rows it may read (the search region) and nothing else."""
    first, region, hidden_cols = key
    normalise = _memo_normalise()
    texts = [()] * first + list(region)
    rows = texts  # only its length and the region are read below
    best, best_score = None, (0, 0, 0, 0)
    single = _single_rows(texts, first, normalise, aliases, concepts)
    candidate_rows = {r for r, (_, hits) in single.items()
                      if max(hits.values(), default=0) >= 2 or _has_month(texts[r])}
    for top in range(first, min(len(rows), first + HEADER_SEARCH_ROWS)):
        for height in range(1, MAX_HEADER_ROWS + 1):
            if top + height > len(rows) or not any(texts[top + height - 1]):
                continue
            if height == 1:
                candidates, kinds_hit = single[top]
            elif not any(r in candidate_rows for r in range(top, top + height)):
                continue  # no row of it could be a header row: data rows (and titles) read together
            else:
                candidates = _candidates(texts, top, height, normalise)
                kinds_hit = _kinds_hit(candidates, aliases, concepts)
            for kind in schemas.RETURN_KINDS.values():
                if kinds_hit.get(kind.name, 0) < 2:
                    continue  # fewer than two header cells name a column of this kind: it cannot win
                resolved = _resolve(candidates, kind, aliases, concepts=concepts)[0]
                known = {m.column for m in resolved if m.column}
                required_hit = sum(1 for r in kind.required if r in known)
                months = sum(1 for m in resolved if m.how == schemas.MATCH_MONTH)
                # On a tie, the header that reads month sub-headers as such wins; then fewer header rows win:
                # a title row is not a group header.
                score = (len(known), required_hit, months, -height)
                if required_hit and len(known) >= 2 and score > best_score:
                    best, best_score = (top, height, kind, candidates), score
    if best is None:
        return None
    top, height, kind, candidates = best
    return _header(candidates, top, height, kind, aliases, frozenset(hidden_cols), concepts)


# A header has at most this many rows (a title over a group over sub-headers).
MAX_HEADER_ROWS = 3


def _kinds_hit(candidates: list[_Candidate], aliases: AliasTable, concepts: ConceptTable) -> dict[str, int]:
    """{kind: how many header cells name a column of it (by alias or by concept)}. A header is known by at least
    two columns (see _search), and a cell can be known as a column of a kind only if it names one."""
    hits: dict[str, int] = {}
    for c in candidates:
        for k in aliases.kinds_of(c.tries) | concepts.kinds_of(c.keys, c.unit):
            hits[k] = hits.get(k, 0) + 1
    return hits


def _single_rows(texts: list, first: int, normalise, aliases: AliasTable, concepts: ConceptTable) -> dict:
    """Each filled row of the search region read as a one-row header: {row: (its header cells, _kinds_hit of
    them)}.

    The candidate header rows are those that alone name two columns of one kind, or hold month sub-headers
    (1月 … 8月): a header of two or three rows is tried only when one of its rows is such a row (a group header's
    row names 序号 and 项目名称 beside the group; a title's header row names its columns). So the data rows below
    a header, most of the search region, are read once each, alone, and never in pairs and threes."""
    return {r: (found, _kinds_hit(found, aliases, concepts))
            for r in range(first, len(texts)) if any(texts[r])
            for found in [_candidates(texts, r, 1, normalise)]}


def _has_month(row) -> bool:
    return any(text and is_month(text) for text in row)


class _Found:
    """The last few headers found, by the texts of their search region: a sheet is searched three times on its
    way (layout.split_tables, layout.monthly_columns, cleaning.clean_sheet), and its header depends on those texts,
    the hidden columns and the two tables only. The tables are kept with each entry and compared by identity."""

    SIZE = 16

    def __init__(self):
        self.entries: dict[tuple, tuple[AliasTable, ConceptTable, Header | None]] = {}

    def get(self, key: tuple, aliases: AliasTable, concepts: ConceptTable, search) -> Header | None:
        hit = self.entries.get(key)
        if hit is not None and hit[0] is aliases and hit[1] is concepts:
            return hit[2]
        header = search(key, aliases, concepts)
        self.entries.pop(key, None)
        if len(self.entries) >= self.SIZE:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = (aliases, concepts, header)
        return header


_found = _Found()


def _memo_normalise():
    """schemas.normalize_header, computed once per distinct text of a sheet."""
    memo: dict[str, tuple[str, str | None]] = {}

    def normalise(text: str) -> tuple[str, str | None]:
        hit = memo.get(text)
        if hit is None:
            hit = memo[text] = schemas.normalize_header(text)
        return hit

    return normalise


@dataclass(frozen=True)
class _Candidate:
    """One header column before its kind is known: where it is, what it says, the keys to try."""

    index: int
    levels: tuple[tuple[str, int], ...]  # (text as written, Excel row) of each level, top first
    tries: list[str]
    unit: str | None
    keys: tuple[str, ...] = ()  # each level normalised, top first: what the concepts read


def _levels_of(rows: list[list[str]], j: int, groups: list[str]) -> list[tuple[str, int]]:
    """The header levels over column j; a blank cell under a merged group header takes the group."""
    found = []
    for k, row in enumerate(rows):
        text = row[j] if j < len(row) else ""
        below = any(r[j] for r in rows[k + 1:] if j < len(r))
        if text:
            groups[k] = text
        elif not below:
            groups[k] = ""
        text = text or (groups[k] if below else "")
        if text and (not found or found[-1][0] != text):
            found.append((text, k))
    return found


def _candidates(texts: list[list[str]], top: int, height: int, normalise) -> list[_Candidate]:
    if height == 1:
        return _one_row_candidates(texts[top], top, normalise)
    rows = texts[top: top + height]
    width = max(len(r) for r in rows)
    groups = [""] * height
    found = []
    for j in range(width):
        levels = _levels_of(rows, j, groups)
        if not levels:
            continue
        normalised = [normalise(text) for text, _ in levels]
        tries = schemas.join_levels([key for key, _ in normalised])
        unit = next((u for _, u in reversed(normalised) if u), None)  # the lowest level that states one
        found.append(_Candidate(j, tuple((text, top + k + 1) for text, k in levels), tries, unit,
                                tuple(key for key, _ in normalised)))
    return found


def _one_row_candidates(row, top: int, normalise) -> list[_Candidate]:
    """_candidates of a one-row header: every filled cell is one level (what _levels_of gives for one row)."""
    found = []
    for j, text in enumerate(row):
        if text:
            key, unit = normalise(text)
            found.append(_Candidate(j, ((text, top + 1),), [key] if key else [], unit, (key,)))
    return found


def _resolve(candidates: list[_Candidate], kind: ReturnKind, aliases: AliasTable, hidden: frozenset[int] = frozenset(),
             concepts: ConceptTable | None = None):
    """Per column, its HeaderMatch for one kind, and {index: earlier header} for a second column of the same meaning.

    Of two columns with the same meaning the first is read, except that a visible column wins over a
    hidden one (a hidden stale column, last month's figures, placed before the live one), and a column
    the alias table names wins over one matched by concept (which then becomes a suggestion).
    """
    matches = {c.index: _match(c, kind, aliases, concepts) for c in candidates}
    seen, duplicates = {}, {}
    by_concept = schemas.MATCH_CONCEPT
    for c in sorted(candidates, key=lambda c: (c.index in hidden, matches[c.index].how == by_concept)):
        m = matches[c.index]
        if m.column and m.column in seen and m.how == by_concept:
            matches[c.index] = schemas.HeaderMatch(None, m.key, schemas.MATCH_SUGGEST, suggestion=m.column,
                                                   score=m.score, words=m.words)
        elif m.column and m.column in seen:
            duplicates[c.index] = seen[m.column]
            matches[c.index] = schemas.HeaderMatch(None, m.key, m.how, m.alias)
        elif m.column:
            seen[m.column] = _written(c)
    return [matches[c.index] for c in candidates], duplicates


_MONTH = re.compile(r"^(?:\d{1,2}|[一二三四五六七八九十]{1,3})月份?$")


def is_month(text: str) -> bool:
    """A header naming one month (8月, 八月份): under a parent it is a month's own figure, never the parent's."""
    return bool(_MONTH.match(unicodedata.normalize("NFKC", text or "").replace(" ", "")))


def _match(c: _Candidate, kind: ReturnKind, aliases: AliasTable, concepts: ConceptTable | None) -> schemas.HeaderMatch:
    """The alias table's match (the analyst's override), else the concept's when it is adopted; a month under a
    parent is a month (MATCH_MONTH), whatever its parent says."""
    if len(c.levels) > 1 and is_month(c.levels[-1][0]):
        return schemas.HeaderMatch(None, c.tries[0] if c.tries else "", schemas.MATCH_MONTH)
    m = aliases.match(c.tries, kind.name)
    if m.column or concepts is None:
        return m
    found = concepts.match(c.keys, c.unit, kind.name)
    if found.adopted:
        return schemas.HeaderMatch(found.column, m.key, schemas.MATCH_CONCEPT, score=found.score, words=found.words)
    return m


def _written(c: _Candidate) -> str:
    """A header as the unit wrote it, levels joined with '/', line breaks collapsed."""
    return "/".join(collapse_lines(text) for text, _ in c.levels)


def _header(candidates: list[_Candidate], top: int, height: int, kind: ReturnKind, aliases: AliasTable,
            hidden: frozenset[int] = frozenset(), concepts: ConceptTable | None = None) -> Header:
    resolved, duplicates = _resolve(candidates, kind, aliases, hidden, concepts)
    taken = {m.column for m in resolved if m.column}
    columns = []
    for c, m in zip(candidates, resolved):
        if m.column is None and c.index not in duplicates and m.how not in (schemas.MATCH_SUGGEST, schemas.MATCH_MONTH):
            m = _suggestion(c, m, kind, aliases, concepts, taken)
        columns.append(HeaderColumn(c.index, _written(c), c.levels[-1][1], m.column, c.unit,
                                    duplicates.get(c.index), m, tuple(collapse_lines(t) for t, _ in c.levels)))
    return Header(kind=kind, first_row=top, last_row=top + height - 1, columns=columns)


def _suggestion(c: _Candidate, m: schemas.HeaderMatch, kind: ReturnKind, aliases: AliasTable,
                concepts: ConceptTable | None, taken: set[str]) -> schemas.HeaderMatch:
    """An unknown header's closest column: the alias table's suggestion (close to an alias), else the best column by
    concept when it scored too low, or too close to another, to be adopted."""
    suggestion = aliases.suggest(m.key, kind.name, taken)
    if suggestion:
        return schemas.HeaderMatch(None, m.key, schemas.MATCH_SUGGEST, suggestion=suggestion)
    found = concepts.match(c.keys, c.unit, kind.name) if concepts is not None else None
    if found is not None and found.suggested and found.column not in taken:
        return schemas.HeaderMatch(None, m.key, schemas.MATCH_SUGGEST, suggestion=found.column, score=found.score,
                                   words=found.words)
    return m


# --------------------------------------------------------------------------- row roles


# Row roles. A row that is not data is one of:
#   total      合计, 总计, 汇总, 全县合计, 合计（5个）: checked against all the data rows
#   subtotal   小计, 兴庆区小计: checked against the rows since the last 小计 or group heading
#   breakdown  其中：集中签约 — a part of the row above, never counted
#   group      一、产业项目（12个）, （一）利通区: a group heading, checked like a 小计 where it carries amounts
#   footer     填报单位：…, 填报人：…, 注：…, 说明：… below the table
#   header     the header repeated (a table printed over several pages)
#   blank      nothing, or only a 序号 left over from the template
_TOTAL = re.compile(r"^(?P<prefix>.{0,12}?)(?P<word>总?合计|总计|小计|汇总)(?:\(.{0,15}\))?[:：]?$")
_PLAIN_TOTAL = re.compile(r"^(?:总?合计|总计|小计|汇总|全[县市区省州盟]?(?:合计|总计)|本页合计)")
# A label starting with 合计/全县合计 is a total only while short: “合计（不含续建）” is, a project name is not.
PLAIN_TOTAL_MAX_CHARS = 8
_BREAKDOWN = re.compile(r"^其中[:：,，]?")
_NUMERAL = "一二三四五六七八九十"
_GROUP_MARK = re.compile(rf"^(?:[{_NUMERAL}]+[、.]|\([{_NUMERAL}]+\))")
_SEQ_GROUP = re.compile(rf"^(?:[{_NUMERAL}]+[、.]?|\([{_NUMERAL}]+\)[、.]?)$")
_GROUP_COUNT = re.compile(r"\((?:共|计)?\d+(?:个|项)(?:项目)?\)$")
_FOOTER = re.compile(r"^(填报单位|填表单位|报送单位|填报人|填表人|联系人|联系电话|审核人|审核|制表人?|"
                     r"单位负责人|负责人|备注|注[:：]|注\d|说明|填表说明|填报说明|填报日期|(?:金额|计量)?单位[:：])")
_COLON_OR_PHONE = re.compile(r"[:：]|\d{3,4}-?\d{7,8}|1[3-9]\d{9}")
# A footer row fills few cells; a row that fills more is a project whose name starts like a footer word.
FOOTER_MAX_CELLS = 3


@functools.lru_cache(maxsize=8192)
def _label(text: str) -> str:  # cached: row_role reads the same two or three cells of a row up to six times
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def group_level(label: str, seq: str = "") -> int | None:
    """1 for 一、…, 2 for （一）…, 3 for a heading known only by its count (产业项目（12个）); None if not a group."""
    seq, label = _label(seq or ""), _label(label or "")
    if seq and _SEQ_GROUP.match(seq):
        return 2 if seq.startswith("(") else 1
    if label and _GROUP_MARK.match(label):
        return 2 if label.startswith("(") else 1
    return 3 if label and _GROUP_COUNT.search(label) else None


_NUMBERED = re.compile(r"^(?:\((?P<paren>\d{1,3})\)|(?P<plain>\d{1,3})(?:[、.](?!\d)|$))")


def numbered_heading(text: str) -> tuple[int, int] | None:
    """(number, level) of a text numbered like a heading in Arabic digits: 1、/1./1 -> level 3, （1） -> level 4.

    Alone this does not make a row a heading (projects are numbered 1, 2, 3 too): the rows under it must be
    sub-numbered (layout.numbered_groups)."""
    m = _NUMBERED.match(_label(text or ""))
    if not m:
        return None
    return (int(m.group("paren")), 4) if m.group("paren") else (int(m.group("plain")), 3)


def total_word(label: str) -> str | None:
    """total, subtotal or breakdown when a label names one (合计, 兴庆区小计, 其中：…), else None."""
    if "计" not in label and "汇总" not in label and "其中" not in label:
        return None  # the common case, settled without a regex
    if _BREAKDOWN.match(label):
        return "breakdown"
    m = _TOTAL.match(label)
    if m:
        return "subtotal" if m.group("word") == "小计" else "total"
    return "total" if _PLAIN_TOTAL.match(label) and len(label) <= PLAIN_TOTAL_MAX_CHARS else None


def row_role(values: list[str], header: Header) -> str:
    """The role of a row below the header (see the list above). values: each cell's text, as cell_text gives it."""
    filled = [v for v in values if v]
    if not filled:
        return "blank"
    seq_i, name_i, status = header._role_columns
    width = len(values)
    first = _label(filled[0])
    if _FOOTER.match(first) and (len(filled) <= FOOTER_MAX_CELLS or any(_COLON_OR_PHONE.search(v) for v in filled)):
        return "footer"
    has_status = any(j < width and values[j] for j in status)
    labels = dict.fromkeys(_label(values[j]) for j in (seq_i, name_i) if j is not None and j < width and values[j])
    for text in (*labels, first):
        role = total_word(text)
        # A name that merely ends in 汇总 (数据汇总平台) with its status filled in is a project.
        if role and not (has_status and not _PLAIN_TOTAL.match(text) and role != "breakdown"):
            return role
    seq = _label(values[seq_i]) if seq_i is not None and seq_i < width else ""
    name = _label(values[name_i]) if name_i is not None and name_i < width and values[name_i] else first
    if not has_status and (group_level(name, seq) or group_level(first)):
        return "group"
    if _repeats_header(values, header):
        return "header"
    meaningful = header._row_checks[3]
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
    return sum(1 for j, texts_ in pairs if j < width and values[j] and collapse_lines(values[j]) in texts_) >= needed
