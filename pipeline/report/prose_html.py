"""The report's prose (model.py) written as HTML: what report.html shows. word.py writes the same blocks as Word."""
from __future__ import annotations

import re

from markupsafe import escape

from pipeline.report.model import (
    Box,
    Embed,
    Heading,
    Items,
    NotesList,
    PageStyle,
    Paragraph,
    Phrase,
    Span,
    Terms,
)

# span kind -> (tag, class)
SPAN_TAGS = {"v": ("span", "v"), "na": ("span", "na"), "caveat": ("span", "caveat"), "unit": ("span", "unit"),
             "practice": ("q", "practice"), "strong": ("strong", ""), "strong-na": ("strong", "na"),
             "screen": ("span", "screen-only"), "sep": ("span", "sep"), "code": ("code", ""), "link": ("a", ""),
             "hint": ("span", "summary-hint")}


def span_html(span: Span) -> str:
    inner = "".join(piece_html(p) for p in span.parts)
    if span.kind == "ref":
        return f'<sup class="note-ref"><a href="#{escape(span.href)}">注{span.number}</a></sup>'
    tag, css = SPAN_TAGS[span.kind]
    if span.kind == "v" and span.href:
        tag = "a"
    attrs = (f' class="{css}"' if css else "") + (f' href="#{escape(span.href)}"' if span.href else "")
    attrs += f' title="{escape(span.title)}"' if span.title else ""
    return f"<{tag}{attrs}>{inner}</{tag}>"


def piece_html(piece) -> str:
    return span_html(piece) if isinstance(piece, Span) else str(escape(piece))


def phrase_html(phrase: Phrase) -> str:
    return "".join(piece_html(p) for p in phrase.parts)


def _attrs(pairs) -> str:
    return "".join(f' {k}="{escape(v)}"' for k, v in pairs if v)


def block_html(block, notes_html) -> str:
    """One block as HTML; notes_html() writes the part's list of notes."""
    if isinstance(block, (Phrase, Span, str)):
        return phrase_html(Phrase(block))
    if isinstance(block, Heading):
        return f"<h{block.level}{_attrs([('id', block.id)])}>{phrase_html(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p{_attrs([('class', block.css)]) if block.css else ''}>{phrase_html(block.text)}</p>"
    if isinstance(block, Items):
        tag = "ol" if block.ordered else "ul"
        items = "".join(f"<li>{phrase_html(i.text)}{block_html(i.sub, notes_html) if i.sub else ''}</li>"
                        for i in block.items)
        return f"<{tag}>{items}</{tag}>"
    if isinstance(block, Terms):
        terms = "".join(f"<dt{_attrs([('id', anchor)])}>{phrase_html(term)}</dt><dd>{phrase_html(text)}</dd>"
                        for term, text, anchor in block.terms)
        return f'<dl{_attrs([("class", block.css)]) if block.css else ""}>{terms}</dl>'
    if isinstance(block, Box):
        inner = "".join(block_html(child, notes_html) for child in block.children)
        return f"<{block.tag}{_attrs(block.attrs)}>{inner}</{block.tag}>"
    if isinstance(block, Embed):
        return block.html
    if isinstance(block, NotesList):
        return str(notes_html())
    if isinstance(block, PageStyle):
        return f"<style>{block.css}</style>"
    raise TypeError(f"not a block of the report: {block!r}")


def blocks_html(blocks: list, notes_html) -> str:
    """The blocks as HTML, the line breaks of the text dropped (a line break between Chinese characters would show
    as a space)."""
    return re.sub(r"\s*\n\s*", "", "".join(block_html(b, notes_html) for b in blocks)).strip()
