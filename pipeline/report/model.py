"""The report's model: the blocks report.html's tables, figures and notes are written from, and report.docx too.

A part of the report is rendered once (render.render_model): its HTML, and the model of each table and figure the
part embeds (``Embedded``), made by the text helper from the same objects the HTML is written from — the table's
frame, its declared columns and each cell's text as cell_text writes it; the chart's PNG and caption; the part's
notes, numbered as the text refers to them. The HTML marks
where each is (``data-block``); the Word writer (word.py) takes the model there, never the HTML's cells or image.
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
