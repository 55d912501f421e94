"""report.docx's tables and figures come from the same model report.html's are written from (pipeline/report/model.py),
not from the HTML's cells and data URIs."""
from __future__ import annotations

import pandas as pd

from pipeline.report import render as report
from pipeline.report import word
from pipeline.report.model import Embedded, Para, Picture, Run, Table

COLUMNS = [report.Col("unit", "单位", "short"), report.Col("note", "说明"),
           report.Col("plan_wan", "年度计划(万元)", "wan"), report.Col("rate_pct", "开工率(%)", "pct")]


def frame() -> pd.DataFrame:
    """Text as units write it: a line break inside a cell, runs of spaces, a missing rate, a big amount."""
    return pd.DataFrame({"unit": ["银川市", "宁东基地"], "note": ["已开工\n待入统", "两处  空格"],
                         "plan_wan": [123456.4, 80.0], "rate_pct": [97.15, None]})


def test_a_tables_model_is_what_its_html_shows_and_the_docx_takes_the_model():
    embedded = Embedded()
    # as a part is rendered: its template's line breaks dropped (render._compact)
    html = report._compact(str(report.html_table(frame(), COLUMNS, "各单位情况", "注：按单位排列。", decimals=1,
                                                 embedded=embedded)))
    assert 'data-block="0"' in html
    table, note = embedded.blocks[0]
    assert table == Table("各单位情况", ["单位", "说明", "年度计划(万元)", "开工率(%)"],
                          [["银川市", "已开工\n待入统", "123,456", "97.2"], ["宁东基地", "两处  空格", "80", "—"]],
                          [False, False, True, True])
    assert note == Para("table-note", [Run("注：按单位排列。")])
    # the docx says what the HTML shows (the part's line breaks dropped, spaces collapsed), from the model …
    shown = word.html_blocks(html, embedded)
    assert shown == word.html_blocks(html)
    assert shown[0].rows[0][1] == "已开工待入统" and shown[0].rows[1][1] == "两处 空格"
    # … and not from the HTML: a cell changed in the HTML alone does not reach the docx
    changed = html.replace("123,456", "999")
    assert word.html_blocks(changed, embedded)[0].rows[0][2] == "123,456"
    assert word.html_blocks(changed)[0].rows[0][2] == "999"


def test_an_empty_table_and_a_figure_are_models_too():
    embedded = Embedded()
    empty = str(report.html_table(frame().iloc[:0], COLUMNS, "各单位情况", empty="本轮无此类项目", embedded=embedded))
    assert embedded.blocks[0] == [Para("table-note", [Run("各单位情况：", bold=True), Run("本轮无此类项目")])]
    assert word.html_blocks(empty, embedded) == word.html_blocks(empty)
    png = b"\x89PNG\r\n\x1a\n" + b"1" * 30
    figure = str(report.figure_html("fai_growth", "图1　全区固定资产投资增速", png,
                                    embedded.add([Picture("fai_growth", png, "图1　全区固定资产投资增速")])))
    assert word.html_blocks(figure, embedded) == [Picture("fai_growth", png, "图1　全区固定资产投资增速")]
    assert word.html_blocks(figure, embedded) == word.html_blocks(figure)
    no_caption = Embedded()
    html = str(report.html_table(frame().iloc[:0], COLUMNS, embedded=no_caption))
    assert word.html_blocks(html, no_caption) == word.html_blocks(html) == [Para("table-note", [Run("（无）")])]


def test_a_parts_notes_are_a_model_numbered_as_the_text_refers_to_them():
    reasons = {"a": "本轮未收到固定资产投资情况表", "b": "没有应开工的项目（开工率分母为0）"}
    notes = report.Notes(reasons, prefix="overall")
    first, second, unused = notes.ref("a"), notes.ref("b"), notes.ref(reason="模板算出后未用的数字")
    # the text refers to 注2 before 注1 and never to the third: after renumber, 注1 is b's reason and there is no 注3
    html = notes.renumber(report._compact(f"<p>开工率—{second}，全区固定资产投资—{first}。</p>{notes.html()}"))
    assert notes.shown == ["没有应开工的项目（开工率分母为0）", "本轮未收到固定资产投资情况表"]
    embedded = Embedded(notes=notes.shown)
    blocks = word.html_blocks(html, embedded)
    assert blocks[1:] == [Para("note", [Run("注1：没有应开工的项目（开工率分母为0）")]),
                          Para("note", [Run("注2：本轮未收到固定资产投资情况表")])]
    assert blocks == word.html_blocks(html)
    assert word.html_blocks(html.replace("注1：没有", "注1：改过"), embedded) == blocks  # the model, not the HTML
    assert str(unused)  # a reference made and left out of the text
