"""report.docx: the same content as report.html, as a Word 公文 (pipeline/report/word.py).

The chain of tests/test_report.py (papermill 01→04 on the sample round, once per session) writes it;
these tests open it with python-docx and compare it with the report.html of the same run, and render
it with LibreOffice where that is installed.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from PIL import Image
from test_report import SECTION_HEADINGS, sample_chain

from pipeline.figures import charts as figures
from pipeline.report import word as report_docx
from pipeline.report.model import (
    Box,
    Embed,
    Embedded,
    Heading,
    Item,
    Items,
    NotesList,
    PageStyle,
    Paragraph,
    Phrase,
    Span,
    Terms,
)
from pipeline.report.render import RenderedPart
from pipeline.report.word import Para, Picture, Run, Table

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


@pytest.fixture(scope="module")
def chain():
    return sample_chain()


@pytest.fixture(scope="module")
def docx_path(chain) -> Path:
    return chain.out / report_docx.DOCX_FILE


@pytest.fixture(scope="module")
def doc(docx_path):
    return Document(str(docx_path))


def html_body(html: str):
    """The report's body in report.html as printed: <main> without the table of contents, styles, the page footer and
    what is on screen only (数字来源, names of files and settings)."""
    main = lxml.html.fromstring(html).find(".//main")
    for el in main.xpath(".//nav | .//style | .//script | .//footer | .//*[contains(concat(' ', @class, ' '),"
                         " ' screen-only ')]"):
        el.drop_tree()
    return main


def docx_body_text(doc) -> str:
    """Every paragraph and table cell of the document body, in order (not the page header and footer)."""
    parts = []
    for item in doc.iter_inner_content():
        if isinstance(item, DocxTable):
            parts += [cell.text for row in item.rows for cell in row.cells]
        else:
            parts.append(item.text)
    return "\n".join(parts)


# =========================================================================== the prose model -> blocks


def test_the_prose_becomes_headings_paragraphs_tables_and_pictures():
    png = (b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    embedded = Embedded(notes=["原因"])
    table = Table("分批次", ["批次", "项目数"], [["第一批", "1,325"]], [False, True])
    table_at = embedded.add([table, Para("table-note", [Run("注：说明")])])
    figure_at = embedded.add([Picture("fai_growth", png, "图1　增速")])
    note = Span("ref", href="n", note=1, number=1)
    blocks = [Box("section", (("class", "part"),), [
        Heading(2, Phrase("一、总体情况")), Box("nav", (("class", "toc"),), [Items([Item(Phrase("目录"))])]),
        PageStyle("p{}"),
        Box("div", (("class", "prose"),), [Paragraph(Phrase(
            "完成", Span("v", ["486.2"], href="s"), "亿元，", Span("strong", ["完善推进机制。"]),
            Span("practice", ["压实责任"], title="甲报送的典型做法"), Span("screen", ["（见 ledger.csv）"]), note))]),
        Heading(3, Phrase("（一）抓项目")), Embed("<table>不读</table>", table_at), Embed("<figure/>", figure_at),
        Paragraph(Phrase("分行业看…"), "figure-data data-note"), NotesList()])]
    shown = report_docx.prose_blocks(RenderedPart("overall", blocks, embedded, ""))
    assert shown[0] == Para("h1", [Run("一、总体情况")])
    para = shown[1]
    assert para.kind == "body" and para.text == "完成486.2亿元，完善推进机制。压实责任注1"
    assert Run("完善推进机制。", bold=True) in para.runs and Run("注1", superscript=True) in para.runs
    assert shown[2] == Para("h2", [Run("（一）抓项目")])
    assert shown[3] == table and shown[4] == Para("table-note", [Run("注：说明")])
    assert shown[5] == Picture("fai_growth", png, "图1　增速")
    assert shown[6] == Para("table-note", [Run("分行业看…")])
    assert shown[7] == Para("note", [Run("注1：原因")])
    assert len(shown) == 8  # the table of contents, the page's CSS and what is on screen only are left out


def test_defined_terms_lists_and_appendix_paragraphs_keep_their_kinds():
    blocks = [Box("section", (("class", "part appendix"),), [
        Terms([(Phrase("开工率"), Phrase("已开工项目数÷应开工项目数。", Span("screen", ["round.yml"])), "")]),
        Paragraph(Phrase("资料来源：…"), "data-note")]),
        Box("aside", (("class", "dq-box"),), [Items([Item(Phrase("甲未报送")), Item(Phrase("乙部分未计入"))])]),
        Box("section", (("class", "part appendix screen-only"),), [Paragraph(Phrase("数字来源"))])]
    shown = report_docx.prose_blocks(RenderedPart("x", blocks, Embedded(), ""))
    assert shown == [Para("dt", [Run("开工率")]), Para("appendix", [Run("已开工项目数÷应开工项目数。")]),
                     Para("appendix", [Run("资料来源：…")]), Para("data", [Run("甲未报送")]),
                     Para("data", [Run("乙部分未计入")])]
    assert report_docx.run_in_terms(shown)[0] == Para("appendix", [Run("开工率", bold=True), Run("\u3000"),
                                                                   Run("已开工项目数÷应开工项目数。")])


def test_not_sample_data_has_no_notice_in_the_header():
    doc = report_docx.build_document([Para("body", [Run("正文")])], title="t", sample=False)
    assert all(not p.text for p in doc.sections[0].header.paragraphs)
    doc = report_docx.build_document([Para("body", [Run("正文")])], title="t", sample=True)
    assert report_docx.SAMPLE_NOTICE in doc.sections[0].header.paragraphs[0].text


def test_pictures_are_the_print_pngs_step_3_saved_else_the_htmls_own(tmp_path):
    saved = figures.figure_paths(tmp_path / "outputs" / "r", "fai_growth")["print_png"]
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"\x89PNG print")
    picture = report_docx.print_pictures("r", tmp_path)
    assert picture(Picture("fai_growth", b"\x89PNG screen", "图1")) == b"\x89PNG print"
    assert picture(Picture("unit_rates", b"\x89PNG screen", "图3")) == b"\x89PNG screen"  # step 3 saved none
    assert picture(Picture("", b"\x89PNG other", "图")) == b"\x89PNG other"  # not one of the charts


# =========================================================================== the sample round's report.docx


def test_step_4_writes_report_docx(chain, docx_path):
    assert docx_path.is_file() and docx_path.read_bytes()[:2] == b"PK"


def test_every_section_heading_is_there_in_order(doc):
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    found = [next((i for i, h in enumerate(headings) if h == s), -1) for s in SECTION_HEADINGS]
    assert -1 not in found, [s for s, i in zip(SECTION_HEADINGS, found) if i < 0]
    assert found == sorted(found)
    title = [p.text for p in doc.paragraphs if p.style.name == "公文标题"]
    assert len(title) == 1 and title[0].startswith("关于") and title[0].endswith("情况的报告")


def test_every_paragraph_has_the_style_of_its_kind(doc):
    # Styles are set by id, looked up once (word._paragraph_style_ids): python-docx must read back each one's name.
    cells = [p for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    assert cells and {p.style.name for p in cells} == {"表格文字"}
    names = Counter(p.style.name for p in doc.paragraphs)
    assert names["Normal"] > 10 and names["数据说明"] > 10  # the seed's text; the data sentences and red box
    assert names["表题"] == len(doc.tables) and names["图"] == names["图题"] > 0
    assert set(names) <= {*report_docx.PARA_STYLES.values(), "表题", "图", "图题"}, set(names)


def test_every_number_of_the_html_body_is_in_the_docx_body(chain, doc):
    # Each text node on its own: table cells sit side by side in the HTML with nothing between them.
    html_numbers = Counter(NUMBER.findall("\n".join(html_body(chain.html).itertext())))
    docx_numbers = Counter(NUMBER.findall(docx_body_text(doc)))
    assert sum(html_numbers.values()) > 300  # the report is full of numbers
    assert html_numbers - docx_numbers == Counter(), "in report.html but not in report.docx"
    assert docx_numbers - html_numbers == Counter(), "in report.docx but not in report.html"


def test_the_text_of_the_html_is_the_text_of_the_docx(chain, doc):
    def squash(text: str) -> str:
        return re.sub(r"\s+", "", text)

    assert squash(docx_body_text(doc)) == squash(html_body(chain.html).text_content())


def test_page_is_a4_with_the_gongwen_margins(doc):
    for section in doc.sections:
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
        assert [round(m.mm) for m in margins] == [37, 35, 28, 26]


def east_asian_font(style) -> str | None:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    assert not any(fonts.get(qn(a)) for a in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme")), style.name
    return fonts.get(qn("w:eastAsia"))


def test_fonts_sizes_and_line_spacing_are_set(doc):
    styles = doc.styles
    assert east_asian_font(styles["Normal"]) == "仿宋" and styles["Normal"].font.size.pt == 16
    assert east_asian_font(styles["公文标题"]) == "方正小标宋简体" and styles["公文标题"].font.size.pt == 22
    assert east_asian_font(styles["Heading 1"]) == "黑体" and styles["Heading 1"].font.size.pt == 16
    assert east_asian_font(styles["Heading 2"]) == "楷体" and styles["Heading 2"].font.size.pt == 16
    body = styles["Normal"].paragraph_format
    assert body.line_spacing_rule == 4  # WD_LINE_SPACING.EXACTLY
    assert 28 <= body.line_spacing.pt <= 29
    defaults = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert defaults.get(qn("w:eastAsia")) == "仿宋" and defaults.get(qn("w:eastAsiaTheme")) is None


def test_tables_are_word_tables_with_repeating_header_rows(chain, doc):
    html_tables = html_body(chain.html).xpath(".//table")
    assert len(doc.tables) == len(html_tables) >= 8
    for html_table, table in zip(html_tables, doc.tables):
        first = table.rows[0]
        header = first._tr.trPr.find(qn("w:tblHeader"))
        assert header is not None and header.get(qn("w:val")) == "true"
        assert [c.text for c in first.cells] == [th.text_content().strip() for th in html_table.xpath(".//thead//th")]
        assert len(table.rows) == len(html_table.xpath(".//tr"))


def test_figures_are_embedded_at_print_resolution_with_captions(doc):
    shapes = doc.inline_shapes
    assert len(shapes) == len(figures.FIGURES)
    for shape in shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = Image.open(io.BytesIO(doc.part.related_parts[blip.embed].blob))
        assert image.format == "PNG"
        assert image.width / shape.width.inches >= 290, "not print resolution"
    captions = [p.text for p in doc.paragraphs if p.style.name == "图题"]
    assert captions == [f"图{spec.number}　{spec.title}" for spec in figures.FIGURES]


def test_sample_notice_in_the_header_and_page_numbers_at_the_outside_corner(doc):
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for header in (section.header, section.even_page_header):
        assert report_docx.SAMPLE_NOTICE in header.paragraphs[0].text
    for footer, align in ((section.footer, 2), (section.even_page_footer, 0)):  # right on odd pages, left on even
        paragraph = footer.paragraphs[0]
        assert paragraph.alignment == align
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        fields = paragraph._p.findall(qn("w:fldSimple"))
        assert [f.get(qn("w:instr")) for f in fields] == ["PAGE"]


# An identifier a reader should not meet: batch.start_rate_pct, round.yml, ledger.csv, start_rate_base.
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+")


def test_the_gongwen_has_no_identifiers_and_ends_with_the_two_appendices(doc):
    visible = [docx_body_text(doc)] + [p.text for s in doc.sections
                                       for part in (s.header, s.even_page_header, s.footer, s.even_page_footer)
                                       for p in part.paragraphs]
    assert not IDENTIFIER.findall("\n".join(visible))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-2:] == ["附录一　数据质量", "附录二　指标口径"]
    assert "数字来源" not in headings and not any("数字来源" in h for h in headings)


def test_identifiers_are_found_by_the_check():
    text = "round.yml 中 start_rate_base、batch.start_rate_pct 与 ledger.csv；486.2亿元、2021-12、A4、数字来源.xlsx"
    assert IDENTIFIER.findall(text) == ["round.yml", "start_rate_base", "batch.start_rate_pct", "ledger.csv"]


# =========================================================================== LibreOffice: the docx as pages

MAX_PAGES = 20  # report.docx and report.pdf at the sample round: a report leaders read, not a listing

SOFFICE = report_docx.find_soffice()


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


@pytest.mark.skipif(SOFFICE is None,
                    reason="没有安装 LibreOffice（Debian：libreoffice-writer-nogui，"
                           "scripts/install-system-deps.sh 安装）")
def test_libreoffice_renders_it_in_about_as_many_pages_as_the_html_pdf(chain, docx_path, tmp_path):
    if "pdf" not in chain.written:
        pytest.skip("没有安装 Chromium，没有 report.pdf 可比较")
    pdf = report_docx.render_pdf(docx_path, tmp_path, SOFFICE)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes)
    # The 公文 sets 16 pt type on 28.95 pt lines over a 156 mm measure, the HTML's print 10.5 pt on about
    # 18 pt lines over 182 mm: the same text needs about (16/10.5) × (28.95/18) × (182/156) ≈ 2.9 times the
    # area of text, less where figures and tables (smaller type in both) fill the page. So 1.3–3.2 times.
    docx_pages, html_pages = pdf_pages(pdf), pdf_pages(chain.written["pdf"])
    assert html_pages > 3
    assert 1.1 * html_pages <= docx_pages <= 3.2 * html_pages, (docx_pages, html_pages)
    assert docx_pages <= MAX_PAGES and html_pages <= MAX_PAGES, (docx_pages, html_pages)
