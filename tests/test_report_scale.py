"""A report stays a report at national scale (issue 12): the body lists at most report.LISTING_LIMIT rows of each
listing, says how many more there are and where the full list is, in report.html and report.docx alike, and
the printed report stays short.

The input is the sample chain's round (tests/test_report.py) with its track list and its list of projects not
started in either round blown up to the size of 100,000 projects (about a third of them tracked).
"""
from __future__ import annotations

import dataclasses
import re

import lxml.html
import nbformat
import pandas as pd
import pytest
from test_report import ROUND, sample_chain

from pipeline.report import export, word
from pipeline.report import render as report

BIG = 30_000  # rows of the track list at 100,000 projects
MAX_PAGES = 40


def inflate(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """`rows` rows made from the frame's own, each with its own project name and a different annual plan."""
    times = -(-rows // len(frame))
    big = pd.concat([frame] * times, ignore_index=True).head(rows)
    n = pd.Series(range(rows)).astype(str)
    return big.assign(project_name=big["project_name"].astype(str) + "（" + n + "）",
                      annual_plan_wan=big["annual_plan_wan"].astype(float) + pd.Series(range(rows)) % 997)


@pytest.fixture(scope="module")
def big():
    chain = sample_chain()
    data = report.load_report_data(ROUND, chain.root)
    tables = dict(data.tables)
    assert len(tables["track_list"]) and len(tables["not_started_both"])
    tables["track_list"] = inflate(tables["track_list"], BIG)
    tables["not_started_both"] = inflate(tables["not_started_both"], BIG // 3)
    data = dataclasses.replace(data, tables=tables)
    parts = {name: report.render_part(data, name) for name in report.PARTS}
    return data, parts


def listing(html: str, name: str):
    return lxml.html.fromstring(html).xpath(f'//table[@data-table="{name}"]')[0]


@pytest.mark.parametrize("name, part", [("start_problems", "advice_progress"), ("not_started_both", "advice_progress")])
def test_listings_are_capped_and_say_how_many_more_and_where(big, name, part):
    data, parts = big
    full = len(data.summaries["start_problems"]) if name == "start_problems" else len(data.tables[name])
    assert full > 5 * report.LISTING_LIMIT
    table = listing(parts[part], name)
    assert len(table.xpath("./tbody/tr")) == report.LISTING_LIMIT
    note = table.getparent().xpath('./p[@class="table-note"]')[0].text_content()
    assert f"共{full}项" in note and f"还有{full - report.LISTING_LIMIT}项" in note
    assert "完整名单见" in note and ("督办清单.xlsx" in note or "数字来源.xlsx" in note)


def test_the_worst_come_first_by_the_rule_stated(big):
    data, parts = big
    rows = listing(parts["advice_progress"], "start_problems").xpath("./tbody/tr")
    reasons = [tr.xpath("./td")[-1].text_content() for tr in rows]
    everyone = data.summaries["start_problems"]
    if everyone["not_started"].sum() >= report.LISTING_LIMIT:
        assert all(r.startswith("未开工") for r in reasons)
    plans = [float(tr.xpath("./td")[4].text_content().replace(",", "")) for tr in rows]
    not_started = [p for p, r in zip(plans, reasons) if r.startswith("未开工")]
    assert not_started == sorted(not_started, reverse=True)
    biggest = everyone[everyone["not_started"]]["annual_plan_wan"].max()
    assert plans[0] == pytest.approx(round(biggest))


def test_unit_counts_stay_whole(big):
    data, parts = big
    summary = listing(parts["advice_progress"], "track_summary")
    total = summary.xpath("./tbody/tr")[-1].xpath("./td")
    assert total[0].text_content() == "合计"
    assert int(total[1].text_content().replace(",", "")) == BIG


LISTING_CAPTIONS = {"未开工、已开工零投资、已开工未入统的项目", "两轮督查均未开工的项目", "按更正记录应用的更正",
                    "未作为报表读取的文件和工作表"}


def test_the_docx_lists_the_same_capped_rows(big):
    data, _ = big
    blocks = [b for name in report.PARTS for b in word.prose_blocks(report.render_blocks(data, name))]
    tables = [b for b in blocks if isinstance(b, word.Table)]
    listings = [t for t in tables if t.caption in LISTING_CAPTIONS]
    assert listings and max(len(t.rows) for t in listings) == report.LISTING_LIMIT
    assert max(len(t.rows) for t in tables) <= max(report.LISTING_LIMIT, 13) + 1  # by unit (13 units) + a 合计 row
    text = "".join(b.text for b in blocks if isinstance(b, word.Para))
    assert re.search(r"还有\d+项未列出", text)


def test_the_printed_report_is_a_report_not_a_listing(big, tmp_path):
    chromium = export.find_chromium()
    if chromium is None:
        pytest.skip("没有安装 Chromium，无法打印 PDF")
    _, parts = big
    nb = nbformat.v4.new_notebook()
    for name in report.PARTS:
        cell = nbformat.v4.new_code_cell(f'report.part(data, "{name}")', metadata={"tags": [report.REPORT_TAG]})
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": parts[name]})]
        nb.cells.append(cell)
    executed = tmp_path / report.REPORT_NOTEBOOK
    nbformat.write(nb, executed)
    html = export.export_html(executed, tmp_path / report.HTML_FILE, "大规模报告")
    pdf = export.print_pdf(html, tmp_path / report.PDF_FILE, chromium).read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert 5 < pages <= MAX_PAGES, pages
