"""The report's model: the blocks report.html and report.docx are both written from.

A part of the report is built once (render.render_blocks, from parts.py): its prose — headings, paragraphs of phrases
(text and spans: a number with its source, a dash, a note's number, emphasis, a unit's 典型做法, what is shown on
screen only), lists, defined terms, the boxes of the page — and the model of each table and figure it embeds
(``Embedded``), made by the text helper from the same objects the HTML is written from: the table's frame, its
declared columns and each cell's text as cell_text writes it; the chart's PNG and caption; the part's notes, numbered
as the text refers to them. prose_html.py writes the blocks as HTML; word.py writes them as Word paragraphs, tables
and pictures (Para, Run, Table, Picture below), never reading the HTML.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    superscript: bool = False


@dataclass
class Para:
    """A paragraph; kind is one of title, h1, h2, h3, body, doc-kind, meta, banner, note, table-note, caption, dt."""

    kind: str
    runs: list[Run] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass
class Picture:
    key: str  # figures.FIGURES key ("" when the figure is not one of them)
    png: bytes
    caption: str


Block = Para | Table | Picture
BLOCK_ATTRIBUTE = "data-block"  # on the HTML element an embedded block is written as: its index in Embedded
NOTES_BLOCK = "notes"  # … or this, on the part's list of notes


@dataclass
class Embedded:
    """The blocks a part embeds (tables with their notes, figures), in the order the text helper made them."""

    blocks: list[list[Block]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the part's notes (注1, 注2, …) as the text numbers them

    def add(self, blocks: list[Block]) -> str:
        """Keep the blocks; the value of the HTML element's data-block attribute that marks where they go."""
        self.blocks.append(blocks)
        return str(len(self.blocks) - 1)


# =========================================================================== the prose


@dataclass
class Span:
    """A piece of a sentence that is more than text. kind: v (a number, linked to its entry in 数字来源 when href is
    set, the formula in title), na (“—”), ref (a note's number: note is its index among the part's notes, renumbered
    in the order the text refers to them), caveat, unit, practice (a unit's 典型做法 as it wrote it; title: who),
    strong, strong-na, screen (shown on screen only: not printed, not in report.docx), sep, code, link (href),
    hint."""

    kind: str
    parts: list = field(default_factory=list)  # str | Span
    href: str = ""
    title: str = ""
    note: int = 0  # ref: the note as first numbered (1-based) …
    number: int = 0  # … and as the part shows it, after renumbering


def span_text(span: Span) -> str:
    if span.kind == "ref":
        return f"注{span.number}"
    return "".join(p if isinstance(p, str) else span_text(p) for p in span.parts)


class Phrase:
    """A run of text and spans: what the text helper returns and a paragraph holds. Empty when it says nothing."""

    __slots__ = ("parts",)

    def __init__(self, *pieces) -> None:
        self.parts: list = []
        for piece in pieces:
            if isinstance(piece, Phrase):
                self.parts.extend(piece.parts)
            elif isinstance(piece, Span) or (isinstance(piece, str) and piece):
                self.parts.append(piece if isinstance(piece, Span) else str(piece))
            elif piece not in (None, ""):
                raise TypeError(f"not a piece of a phrase: {piece!r}")

    def __bool__(self) -> bool:
        return bool(self.parts)

    def __add__(self, other) -> Phrase:
        return Phrase(self, other)

    def __radd__(self, other) -> Phrase:
        return Phrase(other, self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Phrase) and self.parts == other.parts

    def join(self, phrases) -> Phrase:
        """The phrases with this one between them (like str.join)."""
        out: list = []
        for i, phrase in enumerate(phrases):
            out += [self, phrase] if i else [phrase]
        return Phrase(*out)

    def __str__(self) -> str:
        """The text a reader sees (a note's number as 注N); prose_html.phrase_html writes it as HTML."""
        return "".join(p if isinstance(p, str) else span_text(p) for p in self.parts)

    def __repr__(self) -> str:
        return f"Phrase({self.parts!r})"


@dataclass
class Heading:
    level: int  # 1 (the title) … 4
    text: Phrase
    id: str = ""


@dataclass
class Paragraph:
    text: Phrase
    css: str = ""  # doc-kind, meta, lead, data-note, figure-data data-note, dq-title …: how it is set


@dataclass
class Item:
    text: Phrase
    sub: Items | None = None


@dataclass
class Items:
    """A list (ul, or ol when ordered)."""

    items: list[Item]
    ordered: bool = False


@dataclass
class Terms:
    """Defined terms (dl): (term, definition, the term's anchor or "")."""

    terms: list[tuple[Phrase, Phrase, str]]
    css: str = ""


@dataclass
class Box:
    """A part of the page holding blocks (and text): section, header, aside, nav, div, details, summary; attrs in
    the order the page writes them. class screen-only: on screen only."""

    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    children: list = field(default_factory=list)  # Prose blocks, Phrase, Span or str

    @property
    def classes(self) -> list[str]:
        return dict(self.attrs).get("class", "").split()


@dataclass
class Embed:
    """A table or figure the text helper wrote (its HTML), with the index of its model in Embedded ("" when it has
    none)."""

    html: str
    block: str = ""


@dataclass
class NotesList:
    """The part's notes (注1 …), as the text numbers them."""


@dataclass
class PageStyle:
    """CSS for the printed page (report.html only)."""

    css: str


Prose = Heading | Paragraph | Items | Terms | Box | Embed | NotesList | PageStyle


def spans(blocks) -> list[Span]:
    """Every span of the blocks, in the order they are written (lists of notes aside)."""
    out: list[Span] = []

    def walk(node) -> None:
        if isinstance(node, Span):
            out.append(node)
            for p in node.parts:
                walk(p)
        elif isinstance(node, Phrase):
            for p in node.parts:
                walk(p)
        elif isinstance(node, (Heading, Paragraph)):
            walk(node.text)
        elif isinstance(node, Items):
            for item in node.items:
                walk(item.text)
                walk(item.sub)
        elif isinstance(node, Terms):
            for term, definition, _ in node.terms:
                walk(term)
                walk(definition)
        elif isinstance(node, (Box, list)):
            for child in (node.children if isinstance(node, Box) else node):
                walk(child)

    walk(blocks)
    return out
