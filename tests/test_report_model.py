"""report.html and report.docx are two writers of one model (pipeline/report/model.py): the prose as blocks of
phrases, the tables and figures as the models the text helper made. Nothing is read back from the HTML."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.report import render as report
from pipeline.report import word
from pipeline.report.model import (
    Box,
    Embed,
    Embedded,
    Heading,
    NotesList,
    Para,
    Paragraph,
    Phrase,
    Picture,
    Run,
    Span,
    Table,
    spans,
)
from pipeline.report.prose_html import blocks_html

COLUMNS = [report.Col("unit", "单位", "short"), report.Col("note", "说明"),
           report.Col("plan_wan", "年度计划(万元)", "wan"), report.Col("rate_pct", "开工率(%)", "pct")]


def frame() -> pd.DataFrame:
    """Text as units write it: a line break inside a cell, runs of spaces, a missing rate, a big amount."""
    return pd.DataFrame({"unit": ["银川市", "宁东基地"], "note": ["已开工\n待入统", "两处  空格"],
                         "plan_wan": [123456.4, 80.0], "rate_pct": [97.15, None]})


def docx_of(blocks: list, embedded: Embedded) -> list:
    return word.prose_blocks(report.RenderedPart("overall", blocks, embedded, ""))


def test_a_tables_model_is_what_its_html_shows_and_the_docx_takes_the_model():
    embedded = Embedded()
    html = str(report.html_table(frame(), COLUMNS, "各单位情况", "注：按单位排列。", decimals=1, embedded=embedded))
    assert 'data-block="0"' in html and "123,456" in html and "<td class=\"num\">97.2</td>" in html
    table, note = embedded.blocks[0]
    assert table == Table("各单位情况", ["单位", "说明", "年度计划(万元)", "开工率(%)"],
                          [["银川市", "已开工\n待入统", "123,456", "97.2"], ["宁东基地", "两处  空格", "80", "—"]],
                          [False, False, True, True])
    assert note == Para("table-note", [Run("注：按单位排列。")])
    # the docx says what the HTML shows (the part's line breaks dropped, spaces collapsed), from the model …
    shown = docx_of([Embed(html, "0")], embedded)
    assert shown[0].rows[0][1] == "已开工待入统" and shown[0].rows[1][1] == "两处 空格"
    # … and not from the HTML: a cell changed in the HTML alone does not reach the docx
    assert docx_of([Embed(html.replace("123,456", "999"), "0")], embedded)[0].rows[0][2] == "123,456"


def test_an_empty_table_and_a_figure_are_models_too():
    embedded = Embedded()
    empty = str(report.html_table(frame().iloc[:0], COLUMNS, "各单位情况", empty="本轮无此类项目", embedded=embedded))
    assert embedded.blocks[0] == [Para("table-note", [Run("各单位情况：", bold=True), Run("本轮无此类项目")])]
    assert docx_of([Embed(empty, "0")], embedded) == embedded.blocks[0]
    png = b"\x89PNG\r\n\x1a\n" + b"1" * 30
    at = embedded.add([Picture("fai_growth", png, "图1　全区固定资产投资增速")])
    figure = str(report.figure_html("fai_growth", "图1　全区固定资产投资增速", png, at))
    assert f'data-block="{at}"' in figure
    assert docx_of([Embed(figure, at)], embedded) == [Picture("fai_growth", png, "图1　全区固定资产投资增速")]


def test_a_parts_notes_are_numbered_as_the_text_refers_to_them_in_both_outputs():
    reasons = {"a": "本轮未收到固定资产投资情况表", "b": "没有应开工的项目（开工率分母为0）"}
    notes = report.Notes(reasons, prefix="overall")
    first, second, unused = notes.ref("a"), notes.ref("b"), notes.ref(reason="算出后未用的数字")
    # the text refers to 注2 before 注1 and never to the third: after renumbering, 注1 is b's reason, no 注3
    blocks = [Paragraph(Phrase("开工率—", second, "，全区固定资产投资—", first, "。")), NotesList()]
    notes.renumber(spans(blocks))
    assert notes.shown == ["没有应开工的项目（开工率分母为0）", "本轮未收到固定资产投资情况表"]
    html = blocks_html(blocks, lambda: notes.html(notes.shown))
    assert html == ('<p>开工率—<sup class="note-ref"><a href="#overall-note-1">注1</a></sup>，全区固定资产投资—'
                    '<sup class="note-ref"><a href="#overall-note-2">注2</a></sup>。</p>'
                    '<ol class="notes" aria-label="注" data-block="notes"><li id="overall-note-1">注1：没有应开工的项目'
                    '（开工率分母为0）</li><li id="overall-note-2">注2：本轮未收到固定资产投资情况表</li></ol>')
    shown = docx_of(blocks, Embedded(notes=notes.shown))
    assert shown == [Para("body", [Run("开工率—"), Run("注1", superscript=True), Run("，全区固定资产投资—"),
                                   Run("注2", superscript=True), Run("。")]),
                     Para("note", [Run("注1：没有应开工的项目（开工率分母为0）")]),
                     Para("note", [Run("注2：本轮未收到固定资产投资情况表")])]
    assert unused  # a reference made and left out of the text


def test_text_from_the_returns_is_escaped_in_the_html_and_kept_as_written_in_the_docx():
    unit, practice = "<b>甲&乙</b>", '压实"责任"\n  到人'
    blocks = [Box("section", (("class", "part"), ("id", "x")), [
        Heading(3, Phrase("（一）抓项目")),
        Paragraph(Phrase(Span("unit", [unit]), Span("practice", [practice], title=f"{unit}报送的典型做法"), "。"))])]
    html = blocks_html(blocks, lambda: "")
    escaped = "&lt;b&gt;甲&amp;乙&lt;/b&gt;"
    assert html == (f'<section class="part" id="x"><h3>（一）抓项目</h3><p><span class="unit">{escaped}</span>'
                    f'<q class="practice" title="{escaped}报送的典型做法">压实&#34;责任&#34;到人</q>。</p></section>')
    assert docx_of(blocks, Embedded())[1] == Para("body", [Run('<b>甲&乙</b>压实"责任"到人。')])


def test_the_word_writer_reads_no_html():
    """word.py writes the blocks; it has no HTML parser to read report.html back with."""
    source = Path(word.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(?:import|from)\s+(?:lxml|html\.parser|bs4|xml\.etree)\b", source, re.M)
    assert "fromstring" not in source and "data-block" not in source
