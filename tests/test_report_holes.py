"""Sentences without holes (issue 23): a round built by hand the way a clerk builds one — three units, only
重大项目进展情况表 returns (one .xlsx, one .xls, one GB18030 .csv), no inspection dates and no groups in round.yml —
goes through notebooks 01–04. The report says what did not arrive in one sentence per kind of return, leaves out
what it cannot state (no “—注1”), draws no empty figure, and the console says what round.yml could still give.
"""
from __future__ import annotations

import atexit
import datetime as dt
import functools
import re
import shutil
import tempfile
from pathlib import Path

import lxml.html
import pytest
from office import (
    PROJECT_HEADER_TOP,
    project_row,
    project_sheet,
    write_csv,
    write_round,
    write_xls,
    write_xlsx,
)

from pipeline import paths as config
from pipeline.report import export
from pipeline.report import render as report
from pipeline.run import runner

ROUND = "2022-06"
UNITS = ["银川市", "吴忠市", "交通运输厅"]


def _projects(prefix: str, n: int, start: int = 0) -> list[list]:
    return [project_row(i + 1, f"{prefix}-{i}", f"{prefix}项目{i}", batch="第一批" if i % 2 else "第二批",
                        key="是" if i % 3 == 0 else "否", plan=800 + 10 * i, done=300 + 5 * i,
                        started="否" if i == start else "是", start=None if i == start else dt.date(2022, 3, 15),
                        in_stats="是")
            for i in range(n)]


@functools.cache
def holes_chain():
    root = Path(tempfile.mkdtemp(prefix="report-holes-")).resolve()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "data").mkdir()
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    raw = write_round(root / "data" / "raw" / ROUND, UNITS, as_of="2022-05-31", title="2022年上半年重大项目督查")
    grid, merges = project_sheet(_projects("YC", 6))
    write_xlsx(raw / "银川市重大项目表.xlsx", {"项目": grid}, {"项目": merges})
    grid, merges = project_sheet(_projects("WZ", 5), footer="填报单位：吴忠市发展和改革委员会")
    write_xls(raw / "吴忠市重大项目表.xls", {"Sheet1": grid}, {"Sheet1": merges})
    header = [h if h else "完成" if i == 10 else h for i, h in enumerate(PROJECT_HEADER_TOP)]
    header[9] = "年度计划投资"
    header[10] = "累计完成投资"
    write_csv(raw / "交通运输厅重大项目.csv", [header, *_projects("JT", 4)])
    messages: list[str] = []
    runner.run_round(ROUND, root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=messages.append, progress=False)
    written = export.export_report(ROUND, root, pdf=False)
    return root, written["html"].read_text(encoding="utf-8"), "\n".join(messages)


@pytest.fixture(scope="module")
def chain():
    return holes_chain()


def body_text(html: str) -> str:
    """The report as printed: <main> without the table of contents and what is on screen only (数字来源)."""
    main = lxml.html.fromstring(html).find(".//main")
    for el in main.xpath(".//nav | .//style | .//footer | .//*[contains(concat(' ', @class, ' '), ' screen-only ')]"):
        el.drop_tree()
    return main.text_content()


def test_no_placeholder_in_the_body(chain):
    _, html, _ = chain
    text = body_text(html)
    assert "两批次集中开工重大项目15个" in text  # the report is there
    assert not re.findall(r"注\d", text), re.findall(r".{12}注\d.{4}", text)
    assert report.DASH + "个" not in text and "：—" not in text


def test_the_opening_sentence_reads_without_dates_and_groups(chain):
    text = body_text(chain[1])
    assert "自治区政府督查室会同党委督查室、发展改革委，组成督查组，深入2个地级市和相关区直部门" in text
    assert re.search(r"现将有关情况报告如下：", text)


def test_a_kind_of_return_not_received_is_said_once_in_one_sentence(chain):
    text = body_text(chain[1])
    for sentence in ("本轮未收到十大工程项目推进情况表。", "本轮未收到招商引资项目情况表。",
                     "本轮未收到主要指标情况表。", "本轮未收到固定资产投资情况。"):
        assert text.count(sentence) == 1, sentence
    assert "全区固定资产投资完成" not in text and "争取中央预算内资金" not in text and "谋划重大水利项目" not in text
    assert "本轮招商引资合同项目中" not in text and "各单位目前报送谋划储备项目" not in text
    assert "资金到位率" not in text.split("附录二")[0] and "按期竣工率" not in text.split("附录二")[0]


def test_a_figure_with_no_data_is_left_out(chain):
    page = lxml.html.fromstring(chain[1])
    shown = {f.get("id").removeprefix("fig-") for f in page.xpath("//figure")}
    assert shown == {"projects_by_batch", "unit_rates", "industry_completion", "warning_lights"}
    assert not page.xpath('//*[@data-table="major_works_status" or @data-table="attraction_by_unit"]')


def test_the_industry_chart_has_its_numbers_in_the_text(chain):
    text = body_text(chain[1])
    sentence = re.search(r"分行业看，投资完成率[^。]*。", text)
    assert sentence and "工业" in sentence.group() and "%" in sentence.group()


def test_the_console_says_what_round_yml_could_add_before_the_report(chain):
    console = chain[2]
    hint = next(line for line in console.splitlines() if "报告开头" in line)
    assert "inspection_start" in hint and "inspection_end" in hint and "groups" in hint
    assert console.index(hint) < console.index("[4/4]")
