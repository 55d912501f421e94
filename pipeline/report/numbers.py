"""How the report writes numbers, dates and names, its notes (注1…) and its tables as HTML (see render.py's
docstring for the rules)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

import pandas as pd
from markupsafe import Markup

from pipeline.frames import is_missing
from pipeline.report.model import BLOCK_ATTRIBUTE, NOTES_BLOCK, Block, Embedded, Para, Phrase, Run, Span, Table

DASH = "—"


class ReportError(RuntimeError):
    """The report cannot be made; the message (Chinese) says what to do."""


# =========================================================================== numbers and words


def rounded(value: float, digits: int = 1) -> Decimal:
    """四舍五入 (half up) to `digits` decimals, on the value as written (97.15 -> 97.2)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def months_to(month: int) -> str:
    """A cumulative span of months as the statistics bureau writes it: 1月, 1—2月, … 1—11月."""
    return f"1—{month}月" if month > 1 else "1月"


def number(value: Any, digits: int = 1, thousands: bool = False) -> str:
    """A number as the report writes it: `digits` decimals, half up; "—" when missing."""
    if is_missing(value):
        return DASH
    shown = rounded(value, digits)
    if shown == 0:
        shown = abs(shown)  # never "-0.0"
    return f"{shown:,.{digits}f}" if thousands else f"{shown:.{digits}f}"


def signed_word(value: Any, up: str, down: str, digits: int = 1) -> tuple[str, str]:
    """(word, magnitude) by the sign of the value as displayed: (增长, "15.0"), (下降, "3.2"), ("", "0.0") when it shows
    as zero."""
    shown = rounded(value, digits)
    if shown == 0:
        return "", f"{abs(shown):.{digits}f}"
    return (up if shown > 0 else down), f"{abs(shown):.{digits}f}"


def join_names(names: Iterable[Any]) -> str:
    return "、".join(str(n) for n in names if not is_missing(n))


def chinese_date(iso: str | None, with_year: bool = True) -> str:
    """2021-11-30 -> 2021年11月30日."""
    if not iso:
        return DASH
    y, m, d = (int(x) for x in str(iso)[:10].split("-"))
    return f"{y}年{m}月{d}日" if with_year else f"{m}月{d}日"


def date_span(start: str | None, end: str | None) -> str | None:
    """12月6日—10日 (same month), 11月29日—12月3日 (two months); None when a date is missing."""
    if not start or not end:
        return None
    (sy, sm, sd), (ey, em, ed) = ((int(x) for x in str(d)[:10].split("-")) for d in (start, end))
    if (sy, sm, sd) == (ey, em, ed):
        return f"{sm}月{sd}日"
    return f"{sm}月{sd}日—{ed}日" if (sy, sm) == (ey, em) else f"{sm}月{sd}日—{em}月{ed}日"


# =========================================================================== notes and the text helper


@dataclass
class Notes:
    """The numbered notes of one part: why a value shows as "—"."""

    reasons: dict[str, str]
    prefix: str = "note"  # the part's name: note anchors unique in the report and the same on every run
    items: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # the notes listed after renumber: report.docx's (model.py)

    def ref(self, key: str | None = None, reason: str | None = None) -> Phrase:
        text = reason or self.reasons.get(key or "", "") or "无法计算"
        if text not in self.items:
            self.items.append(text)
        n = self.items.index(text) + 1
        return Phrase(Span("ref", href=self.anchor(n), note=n, number=n))

    def anchor(self, n: int) -> str:
        return f"{self.prefix}-note-{n}"

    def html(self, items: list[str] | None = None) -> Markup:
        items = self.items if items is None else items
        if not items:
            return Markup("")
        rows = Markup("").join(Markup('<li id="{}">注{}：{}</li>').format(self.anchor(i), i, text)
                               for i, text in enumerate(items, 1))
        return Markup('<ol class="notes" aria-label="注" {}="{}">{}</ol>').format(BLOCK_ATTRIBUTE, NOTES_BLOCK, rows)

    def renumber(self, refs: list[Span]) -> None:
        """Number the notes in the order the text refers to them (refs: the part's spans, in order), and list only
        those: a figure the part computed and then left out (a clause of a unit nobody reported) leaves no note
        behind."""
        refs = [s for s in refs if s.kind == "ref"]
        used = list(dict.fromkeys(s.note for s in refs))
        self.shown = [self.items[old - 1] for old in used]
        new = {old: n for n, old in enumerate(used, 1)}
        for span in refs:
            span.number = new[span.note]
            span.href = self.anchor(span.number)


@dataclass(frozen=True)
class Col:
    """A table column: source column, Chinese header, kind (text, count, yi, wan, pct, pp, date, flag)."""

    name: str
    label: str
    kind: str = "text"


NUMERIC_KINDS = {"count": 0, "yi": 1, "wan": 0, "pct": 1, "pp": 1, "mu": 0}
NOWRAP_KINDS = {"short", "date"}  # short words (单位, 批次) and dates stay on one line


PERCENT_KINDS = {"pct", "pp"}  # shown to the round's ``decimals``


def cell_text(value: Any, kind: str, decimals: int | None = None) -> str:
    if kind in NUMERIC_KINDS:
        digits = decimals if decimals is not None and kind in PERCENT_KINDS else NUMERIC_KINDS[kind]
        return number(value, digits, thousands=True)
    if is_missing(value):
        return DASH if kind != "text" else ""
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "flag":
        return "是" if bool(value) else "否"
    return str(value)


def _css_class(col: Col) -> Markup:
    if col.kind in NUMERIC_KINDS:
        return Markup(' class="num"')
    return Markup(' class="nowrap"') if col.kind in NOWRAP_KINDS else Markup("")


def table_model(frame: pd.DataFrame, columns: list[Col], caption: str = "", decimals: int | None = None) -> Table:
    """The table as the report shows it: its caption, headers, each cell's text (cell_text) and which columns are
    numbers. html_table writes it as HTML, word.py as a Word table."""
    rows = [[cell_text(row[c.name], c.kind, decimals) for c in columns] for _, row in frame.iterrows()]
    return Table(caption, [c.label for c in columns], rows, [c.kind in NUMERIC_KINDS for c in columns])


def table_blocks(model: Table, note: str = "", empty: str = "（无）") -> list[Block]:
    """The blocks of a table as the report embeds it: the table and the note under it, or the line saying it is
    empty."""
    if not model.rows:
        return [Para("table-note", ([Run(model.caption + "：", bold=True)] if model.caption else []) + [Run(empty)])]
    return [model] + ([Para("table-note", [Run(note)])] if note else [])


def html_table(frame: pd.DataFrame, columns: list[Col], caption: str = "", note: str = "",
               empty: str = "（无）", css: str = "", decimals: int | None = None, link=None, name: str = "",
               embedded: Embedded | None = None) -> Markup:
    """A DataFrame as an HTML table: escaped text, right-aligned numbers with thousands separators.

    decimals: places for percentages and points (the round's convention; default one).
    link(row, col, text) -> Markup or None: a numeric cell's content, linked to its source (see ``cell_link``);
    name: the table's name, as data-table (for readers and tests that find a table by what it is);
    embedded: where the table's model is kept for report.docx (model.py), its place marked by data-block."""
    model = table_model(frame, columns, caption, decimals)
    block = (Markup(' {}="{}"').format(BLOCK_ATTRIBUTE, embedded.add(table_blocks(model, note, empty)))
             if embedded is not None else "")
    if frame.empty:
        return Markup('<p class="table-empty"{}><strong>{}</strong>{}</p>').format(
            block, caption + "：" if caption else "", empty)

    def cell(row, col: Col, text: str) -> Markup:
        linked = link(row, col, text) if link is not None and col.kind in NUMERIC_KINDS else None
        return Markup('<td{}>{}</td>').format(_css_class(col), text if linked is None else linked)

    head = Markup("").join(Markup('<th scope="col"{}>{}</th>').format(_css_class(c), c.label) for c in columns)
    body = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(cell(row, c, text)
                                                                       for c, text in zip(columns, texts)))
                           for (_, row), texts in zip(frame.iterrows(), model.rows))
    cap = Markup("<caption>{}</caption>").format(caption) if caption else ""
    foot = Markup('<p class="table-note">{}</p>').format(note) if note else ""
    data = Markup(' data-table="{}"').format(name) if name else ""
    return Markup('<div class="table-wrap"{}><table class="data {}"{}>{}<thead><tr>{}</tr></thead><tbody>{}</tbody>'
                  '</table>{}</div>').format(block, css, data, cap, head, body, foot)
