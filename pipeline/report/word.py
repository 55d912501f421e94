"""The report as an editable Word 公文: ``outputs/<round>/report.docx``, made from the same parts as report.html.

Notebook 04 calls ``save_docx(data, root, background=True)`` after the parts of the report. It renders every part
once with ``report.render_blocks``, as report.html's parts are rendered: the part's prose (model.py: headings,
paragraphs of text, numbers, emphasis and notes' numbers, lists, defined terms) and the models of what it embeds (each
table's caption, headers, cell texts and numeric columns; each chart's PNG and caption; the part's notes). The
document's blocks (``prose_blocks``) are written from those, never read back from the HTML: report.html and
report.docx are two writers of the same blocks (prose_html.py and this module).

公文 typography (GB/T 9704, as far as fonts allow)
    A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right. Title 方正小标宋简体 二号 (22 pt),
    centred. Body 仿宋 三号 (16 pt), fixed line spacing 28.95 pt (22 lines a page), first line
    indented two characters. 一、 headings 黑体, （一） headings 楷体, lower headings 仿宋 bold.
    Page numbers "— 1 —" in 宋体 四号 at the bottom outside corner (odd pages right, even left).
    The fonts are named as East Asian fonts (``w:eastAsia``), so Word on a government PC uses its
    own 仿宋 and 小标宋; Latin letters and digits of the body are Times New Roman. Where those fonts
    are missing (Linux), ``render_pdf`` maps them to Noto Serif CJK SC / Noto Sans CJK SC with a
    fontconfig file (``templates/report_docx/fonts.conf``).
    Tables are Word tables (小五) whose header row repeats on every page; figures are PNGs redrawn at
    300 dpi from the same tables as report.html's, with their captions "图N …". When the round is
    sample data the page header says so on every page. The data sentences under the seed's text and the
    red box are 小四, the notes 四号, 附录一 and 附录二 五号 (a defined term and its definition one
    paragraph): so the 公文 of the sample round stays within 20 A4 pages. What report.html shows on
    screen only (class ``screen-only``: the section 数字来源, names of files and settings) is left out.

python-docx has no API for three things used here: East Asian font names, a repeating table
header row and a PAGE field. They are set in ``_east_asian_fonts``, ``_repeat_header`` and
``_page_field`` through python-docx's oxml helpers; nothing else touches the XML.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

from pipeline import paths, workers
from pipeline.figures import charts as figures
from pipeline.report import export
from pipeline.report import render as report
from pipeline.report.model import (
    Block,
    Box,
    Embed,
    Embedded,
    Heading,
    Items,
    NotesList,
    PageStyle,
    Para,
    Paragraph,
    Phrase,
    Picture,
    Prose,
    Run,
    Span,
    Table,
    Terms,
)

DOCX_FILE = paths.REPORT_DOCX
SAMPLE_NOTICE = "示例数据 · 虚构内容，不代表真实情况"

# ---------------------------------------------------------------------------- fonts and sizes (pt)

TITLE_FONT = "方正小标宋简体"
BODY_FONT, BODY_LATIN = "仿宋", "Times New Roman"
H1_FONT, H2_FONT = "黑体", "楷体"
PAGE_NUMBER_FONT = "宋体"
SIZE_TITLE, SIZE_BODY, SIZE_NOTE, SIZE_TABLE, SIZE_HEADER = 22, 16, 14, 9, 10.5  # tables 小五, header 五号
SIZE_APPENDIX, APPENDIX_PITCH = 10.5, 18  # 附录一、附录二: 五号
SIZE_DATA, DATA_PITCH = 12, 20  # the data sentences under the seed's text and the red box: 小四
LINE_PITCH = 28.95  # pt: 22 lines on the A4 text area, as GB/T 9704 asks
NOTE_PITCH = 22
TEXT_WIDTH_MM = 210 - 28 - 26
FIGURE_WIDTH_MM = 80  # the charts with the tables beside them: the 公文 stays within 20 pages


# =========================================================================== the prose model -> blocks


SKIP_BOXES = {"nav"}  # the table of contents: the 公文 has none
HEADING_KINDS = {1: "title", 2: "h1", 3: "h2", 4: "h3"}
# figure-data: a chart's numbers in words, under the chart (set like a table's note: they are the chart's own data)
CLASS_KINDS = {"doc-kind": "doc-kind", "meta": "meta", "sample-banner": "banner", "table-note": "table-note",
               "figure-data": "table-note",
               "table-empty": "table-note", "notes": "note",
               "appendix": "appendix", "data-note": "data", "dq-box": "data"}
# The data sentences under the seed's text and the red box in 小四, 附录一 and 附录二 in
# 五号: 三号 is for the body of the report, and the 公文 stays within 20 pages (tests/test_report_docx.py)
SCREEN_ONLY = "screen-only"  # report.html shows it on screen only (数字来源, file and setting names): not in the 公文


def prose_blocks(part: report.RenderedPart) -> list[Block]:
    """One rendered part (render.render_blocks) as a flat list of paragraphs, tables and pictures, in order: the
    prose from its blocks, each table, figure and list of notes from its model (part.embedded)."""
    out: list[Block] = []
    _walk(part.blocks, out, "body", part.embedded)
    return [b for b in out if not (isinstance(b, Para) and not b.text.strip())]


def _kind(classes: list[str], inherited: str) -> str:
    for css in classes:
        if css in CLASS_KINDS:
            return inherited if inherited == "appendix" and css == "data-note" else CLASS_KINDS[css]
    return inherited


def _walk(children: list, out: list[Block], kind: str, embedded: Embedded) -> None:
    """Blocks become blocks; text and spans between them become paragraphs."""
    pending: list[Run] = []
    for child in children:
        if isinstance(child, (str, Span, Phrase)):
            _runs(Phrase(child), pending, {})
            continue
        if pending:
            out.append(Para(kind, pending.copy()))
            pending.clear()
        _block(child, out, kind, embedded)
    if pending:
        out.append(Para(kind, pending))


def _block(block: Prose, out: list[Block], kind: str, embedded: Embedded) -> None:
    if isinstance(block, Box):
        if block.tag not in SKIP_BOXES and SCREEN_ONLY not in block.classes:
            _walk(block.children, out, _kind(block.classes, kind), embedded)
    elif isinstance(block, Embed):
        if block.block:
            out.extend(_as_shown(b) for b in embedded.blocks[int(block.block)])
    elif isinstance(block, NotesList):
        out.extend(_as_shown(Para("note", [Run(f"注{n}：{text}")])) for n, text in enumerate(embedded.notes, 1))
    elif isinstance(block, Heading):
        out.append(Para(HEADING_KINDS[block.level], _phrase_runs(block.text)))
    elif isinstance(block, Paragraph):
        out.append(Para(_kind(block.css.split(), kind), _phrase_runs(block.text)))
    elif isinstance(block, Items):
        for item in block.items:
            out.append(Para(kind, _phrase_runs(item.text)))
            if item.sub is not None:
                _block(item.sub, out, kind, embedded)
    elif isinstance(block, Terms):
        for term, definition, _ in block.terms:
            out += [Para("dt", _phrase_runs(term)), Para(kind, _phrase_runs(definition))]
    elif not isinstance(block, PageStyle):  # the printed page's CSS: report.html's only
        raise TypeError(f"not a block of the report: {block!r}")


def _phrase_runs(phrase: Phrase) -> list[Run]:
    runs: list[Run] = []
    _runs(phrase, runs, {})
    return runs


def _runs(phrase: Phrase, runs: list[Run], style: dict) -> None:
    """A phrase's runs: strong bold, a note's number superscript, what is shown on screen only left out."""
    text = ""
    for piece in phrase.parts:
        if isinstance(piece, str):
            text += piece
            continue
        _text(text, runs, style)
        text = ""
        if piece.kind == "screen":
            continue
        inner = dict(style)
        if piece.kind in ("strong", "strong-na"):
            inner["bold"] = True
        if piece.kind == "ref":
            _text(f"注{piece.number}", runs, {**inner, "superscript": True})
        else:
            _runs(Phrase(*piece.parts), runs, inner)
    _text(text, runs, style)


def _text(text: str, runs: list[Run], style: dict) -> None:
    if text:
        text = _shown(text)
        if runs and runs[-1] == Run(runs[-1].text, **style) and runs[-1].text != "\n":
            runs[-1].text += text
        else:
            runs.append(Run(text, **style))


HTML_SPACE = re.compile(r"[ \t\r\n\f]+")  # what HTML collapses (not the ideographic space of 附录一　数据质量)


def _shown(text: str) -> str:
    """Text as report.html shows it: the part's line breaks dropped (prose_html.blocks_html), runs of white space one
    space (HTML)."""
    return HTML_SPACE.sub(" ", re.sub(r"\s*\n\s*", "", text))


def _as_shown(block: Block) -> Block:
    """An embedded block with its text as the HTML shows it, so that report.docx says what report.html says."""
    if isinstance(block, Table):
        return Table(_shown(block.caption).strip(" "), [_shown(h).strip(" ") for h in block.header],
                     [[_shown(c).strip(" ") for c in row] for row in block.rows], list(block.numeric))
    if isinstance(block, Picture):
        return Picture(block.key, block.png, _shown(block.caption).strip(" "))
    return Para(block.kind, [Run(_shown(r.text), r.bold, r.italic, r.superscript) for r in block.runs])


# =========================================================================== blocks -> docx


def build_document(blocks: list[Block], *, title: str, sample: bool, picture=None):
    """A python-docx Document of the blocks in 公文 layout; picture(Picture) -> PNG bytes to embed (default: its
    own)."""
    from docx import Document

    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = "督查报表处理流水线"
    doc.core_properties.language = "zh-CN"
    _page_setup(doc)
    _styles(doc)
    _header_footer(doc, sample)
    ids = _paragraph_style_ids(doc)
    for block in blocks:
        if isinstance(block, Para):
            _add_para(doc, block, ids)
        elif isinstance(block, Table):
            _add_table(doc, block, ids)
        else:
            _add_picture(doc, block, (picture or (lambda p: p.png))(block), ids)
    return doc


def _paragraph_style_ids(doc) -> dict[str, str | None]:
    """Each paragraph style's id by its name, as python-docx's ``paragraph.style = name`` sets it (None for the
    default style), looked up once: python-docx looks every assignment up again, walking all the styles twice."""
    from docx.enum.style import WD_STYLE_TYPE

    default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    return {style.name: (None if style == default else style.style_id)
            for style in doc.styles if style.type == WD_STYLE_TYPE.PARAGRAPH}


def _styled_paragraph(doc, ids: dict[str, str | None], style: str, text: str | None = None):
    """doc.add_paragraph(text, style=style), without the style lookup (see _paragraph_style_ids)."""
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = ids[style]
    return paragraph


def _page_setup(doc) -> None:
    from docx.shared import Mm

    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(23)


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    black = RGBColor(0, 0, 0)

    def setup(name, *, east, latin=None, size=SIZE_BODY, bold=False, align=None, indent=True, pitch=LINE_PITCH,
              before=0, after=0, keep=False, base=None):
        styles = doc.styles
        style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base:
            style.base_style = styles[base]
        font = style.font
        _east_asian_fonts(style.element, latin or east, east)
        font.size, font.bold, font.italic, font.color.rgb = Pt(size), bold, False, black
        fmt = style.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY if pitch else WD_LINE_SPACING.SINGLE
        if pitch:
            fmt.line_spacing = Pt(pitch)
        fmt.first_line_indent = Pt(2 * size) if indent else Pt(0)
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        fmt.alignment = align if align is not None else WD_ALIGN_PARAGRAPH.JUSTIFY
        fmt.keep_with_next = keep
        fmt.widow_control = True
        return style

    _east_asian_fonts(doc.styles.element.find(_qn("w:docDefaults")), BODY_LATIN, BODY_FONT)
    setup("Normal", east=BODY_FONT, latin=BODY_LATIN)
    setup("公文标题", east=TITLE_FONT, size=SIZE_TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=None,
          after=SIZE_BODY, base="Normal")
    setup("Heading 1", east=H1_FONT, latin=H1_FONT, keep=True, base="Normal")
    setup("Heading 2", east=H2_FONT, latin=H2_FONT, keep=True, base="Normal")
    setup("Heading 3", east=BODY_FONT, latin=BODY_LATIN, bold=True, keep=True, base="Normal")
    setup("条目", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_NOTE, bold=True, pitch=NOTE_PITCH, keep=True,
          base="Normal")
    setup("公文说明", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_NOTE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          pitch=NOTE_PITCH, base="Normal")
    setup("注释", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_NOTE, pitch=NOTE_PITCH, base="Normal")
    setup("表题", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_NOTE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, pitch=None, before=6, after=3, keep=True, base="Normal")
    setup("图题", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_NOTE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          pitch=None, after=6, base="Normal")
    setup("图", east=BODY_FONT, size=SIZE_NOTE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=None, before=6,
          keep=True, base="Normal")
    setup("数据说明", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_DATA, pitch=DATA_PITCH, base="Normal")
    setup("附录文字", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_APPENDIX, pitch=APPENDIX_PITCH, base="Normal")
    setup("表注", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_HEADER, indent=False, pitch=None, base="Normal")
    setup("表格文字", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_TABLE, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False,
          pitch=None, base="Normal")
    setup("页码", east=PAGE_NUMBER_FONT, latin=PAGE_NUMBER_FONT, size=SIZE_NOTE, indent=False, pitch=None,
          base="Normal")
    setup("页眉文字", east=BODY_FONT, latin=BODY_LATIN, size=SIZE_HEADER, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          pitch=None, base="Normal")


PARA_STYLES = {"title": "公文标题", "h1": "Heading 1", "h2": "Heading 2", "h3": "Heading 3", "body": "Normal",
               "doc-kind": "公文说明", "meta": "公文说明", "banner": "注释", "note": "注释", "table-note": "表注",
               "caption": "图题", "dt": "条目", "appendix": "附录文字", "data": "数据说明"}


def _add_para(doc, block: Para, ids: dict[str, str | None]) -> None:
    paragraph = _styled_paragraph(doc, ids, PARA_STYLES.get(block.kind, "Normal"))
    _add_runs(paragraph, block.runs)


def _add_runs(paragraph, runs: list[Run]) -> None:
    for run in runs:
        if run.text == "\n":
            paragraph.add_run().add_break()
            continue
        r = paragraph.add_run(run.text)
        r.bold = run.bold or None
        r.italic = run.italic or None
        r.font.superscript = run.superscript or None


def _add_table(doc, block: Table, ids: dict[str, str | None]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    if block.caption:
        _styled_paragraph(doc, ids, "表题", block.caption)
    columns = max([len(block.header), *(len(r) for r in block.rows)], default=0)
    table = doc.add_table(rows=1 + len(block.rows), cols=columns)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Mm(w) for w in _column_widths([block.header, *block.rows], columns)]
    numeric = block.numeric + [False] * (columns - len(block.numeric))
    for i, (row, cells) in enumerate(zip(table.rows, [block.header, *block.rows])):
        for j, cell in enumerate(row.cells):  # row.cells once per row: each call walks the row's grid
            cell.width = widths[j]
            paragraph = cell.paragraphs[0]
            paragraph._p.style = ids["表格文字"]
            run = paragraph.add_run(cells[j] if j < len(cells) else "")
            if i == 0:
                run.bold = True
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif numeric[j]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _repeat_header(table.rows[0])


def _column_widths(rows: list[list[str]], columns: int) -> list[float]:
    """Column widths in mm over the text width, by the longest cell of each column (CJK counts double), bounded."""
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    need = [min(24, max(4, max((width(r[j]) for r in rows if j < len(r)), default=4))) for j in range(columns)]
    total = sum(need) or 1
    return [TEXT_WIDTH_MM * n / total for n in need]


def _add_picture(doc, block: Picture, png: bytes, ids: dict[str, str | None]) -> None:
    from docx.shared import Mm

    paragraph = _styled_paragraph(doc, ids, "图")
    paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(FIGURE_WIDTH_MM))
    _styled_paragraph(doc, ids, "图题", block.caption)


def _header_footer(doc, sample: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc.settings.odd_and_even_pages_header_footer = True  # page numbers at the outside corner
    section = doc.sections[0]
    for header in (section.header, section.even_page_header):
        paragraph = header.paragraphs[0]
        paragraph.style = doc.styles["页眉文字"]
        if sample:
            run = paragraph.add_run(SAMPLE_NOTICE)
            run.font.color.rgb = RGBColor(0xB4, 0x53, 0x09)
    for footer, align, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
        paragraph = footer.paragraphs[0]
        paragraph.style = doc.styles["页码"]
        paragraph.alignment = align
        indent = Pt(SIZE_NOTE)  # 空一字 from the edge of the text area
        if side == "right":
            paragraph.paragraph_format.right_indent = indent
        else:
            paragraph.paragraph_format.left_indent = indent
        paragraph.add_run("— ")
        _page_field(paragraph)
        paragraph.add_run(" —")


# ---------------------------------------------------------------------------- what python-docx has no API for


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _east_asian_fonts(element, latin: str, east_asia: str) -> None:
    """Name the fonts of a style (or the document defaults) for Latin and East Asian text, and the language zh-CN.

    Theme font attributes are removed: in Word they win over named fonts.
    """
    from docx.oxml import OxmlElement

    if element.tag == _qn("w:docDefaults"):
        rpr = element.find(f"{_qn('w:rPrDefault')}/{_qn('w:rPr')}")
    else:
        rpr = element.get_or_add_rPr()
    fonts = rpr.find(_qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(_qn(attr), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(_qn(attr), name)
    fonts.set(_qn("w:hint"), "eastAsia")
    lang = rpr.find(_qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(_qn("w:val"), "en-US")
    lang.set(_qn("w:eastAsia"), "zh-CN")


def _repeat_header(row) -> None:
    """Mark a table row as a header row that Word repeats at the top of each page (w:tblHeader)."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(_qn("w:val"), "true")
    tr_pr.append(header)


def _page_field(paragraph) -> None:
    """A PAGE field (the page number) at the end of the paragraph: w:fldSimple with "1" as its shown value."""
    from docx.oxml import OxmlElement

    fld = OxmlElement("w:fldSimple")
    fld.set(_qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


# =========================================================================== the report's docx


def report_blocks(data: report.ReportData) -> list[Block]:
    """Every part of the report (report.PARTS, in order) as blocks, from the same prose blocks and models as
    report.html."""
    return run_in_terms([block for name in report.PARTS for block in prose_blocks(report.render_blocks(data, name))])


def run_in_terms(blocks: list[Block]) -> list[Block]:
    """A defined term and its definition (附录二's dt and dd) as one paragraph, the term in bold: “开工率　已开工…”."""
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if isinstance(block, Para) and isinstance(previous, Para) and previous.kind == "dt" and block.kind != "dt":
            term = [Run(r.text, True, r.italic, r.superscript) for r in previous.runs]
            out[-1] = Para(block.kind, [*term, Run("\u3000"), *block.runs])
        else:
            out.append(block)
    return out


def print_pictures(round_id: str, root: Path | None):
    """picture(Picture) -> PNG bytes: the chart's print PNG that step 3 saved (figures.PRINT_DPI); the HTML's own
    PNG for a picture that is not a chart, or when step 3 has not saved one (results of an older version)."""
    out_dir = paths.outputs_round_dir(round_id, root)

    def picture(block: Picture) -> bytes:
        saved = figures.figure_paths(out_dir, block.key)["print_png"] if block.key else None
        return saved.read_bytes() if saved is not None and saved.is_file() else block.png

    return picture


def save_docx(data: report.ReportData, root: Path | None = None, *, background: bool = False) -> Path:
    """Write outputs/<round>/report.docx: the report's parts in 公文 layout (see the module docstring).

    background=True (notebook 04): built and written by a detached writer (workers.in_background, where the
    platform can fork) while the runner prints report.pdf beside it; the runner waits for it, and stops the run with
    its reason if it failed, before the run's results are published."""
    root = Path(root) if root else None
    path = paths.outputs_round_dir(data.round.id, root) / DOCX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if background:
        workers.in_background(path, lambda target: _write_docx(data, root, Path(target)))
        return path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _write_docx(data, root, Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_docx(data: report.ReportData, root: Path | None, target: Path) -> None:
    blocks = report_blocks(data)
    doc = build_document(blocks, title=report.report_title(data.round), sample=bool(data.values.get("sample")),
                         picture=print_pictures(data.round.id, root))
    doc.save(target)
    os.chmod(target, 0o644)


# ================================================================ rendering with LibreOffice (tests, screenshot)

FONTS_CONF = paths.TEMPLATES_DIR / "report_docx" / "fonts.conf"
SOFFICE_NAMES = ("soffice", "libreoffice")
SOFFICE_TIMEOUT_S = 240


def find_soffice() -> str | None:
    """LibreOffice's soffice (Debian libreoffice-writer-nogui), or None. SOFFICE=/path overrides the search."""
    return export.find_executable(SOFFICE_NAMES, "SOFFICE")


def render_pdf(docx: Path, out_dir: Path, soffice: str) -> Path:
    """Convert a docx to PDF with headless LibreOffice, in a throwaway profile, with the 公文 font fallbacks."""
    docx, out_dir = Path(docx).resolve(), Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-soffice-") as profile:
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": profile}
        command = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S, env=env,
                                check=False)
    pdf = out_dir / f"{docx.stem}.pdf"
    if result.returncode != 0 or not pdf.is_file():
        raise report.ReportError(f"LibreOffice 未能把 {docx.name} 转换为 PDF（退出码 {result.returncode}）："
                                 f"{(result.stderr or result.stdout).strip()[-200:]}")
    return pdf
