"""The report: number formatting and word choice, escaping, the data tables, and the whole chain
(papermill 01→04, then export_report) on the sample round with hostile text planted in its returns.

The chain runs once per test session (``sample_chain``); tests/test_browser.py opens the same report.
"""
from __future__ import annotations

import atexit
import functools
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from office import project_row, project_sheet, write_csv, write_xlsx

from pipeline import paths as config
from pipeline.devtools import sample
from pipeline.figures import charts as figures
from pipeline.indicators import coverage
from pipeline.report import export
from pipeline.report import render as report
from pipeline.report.prose_html import phrase_html
from pipeline.report.render import Col, ReportData, Text, html_table, number, signed_word
from pipeline.run import runner

ROUND = config.SAMPLE_ROUND
HOSTILE_PROJECT = "<script>alert(1)</script>"
HOSTILE_PRACTICE = "<img src=x onerror=alert(2)>压实责任&nbsp;<b>加粗</b>"
SECTION_HEADINGS = ["一、总体情况", "（一）抓项目的意识逐步提高", "（二）项目推进措施不断优化",
                    "（三）项目要素保障持续跟进", "（四）项目谋划招引有序开展", "（五）“十大工程项目”稳步推进",
                    "二、工作建议", "（一）加快建设抓进度", "（二）统筹协调优保障", "（三）招商引资扩投资",
                    "（四）谋划储备增后劲", "（五）督查考核促落实",
                    "附录一　数据质量", "附录二　指标口径"]


# =========================================================================== the chain, once per session


@dataclass(frozen=True)
class Chain:
    root: Path
    out: Path  # outputs/<round>/
    values: dict
    written: dict  # export_report's result
    messages: list

    @property
    def html(self) -> str:
        return self.written["html"].read_text(encoding="utf-8")


def plant_hostile_text(raw: Path) -> None:
    """A not-started project and a 典型做法 whose text is HTML, in returns 银川市 sends."""
    grid, merges = project_sheet([project_row(1, "HOSTILE-1", HOSTILE_PROJECT, started="否", start=None, done=0,
                                              plan=80_000)])  # large: first of the not started listed
    write_xlsx(raw / "银川市" / "补报项目.xlsx", {"补报": grid}, {"补报": merges})
    write_csv(raw / "银川市" / "补报典型做法.csv", [["板块", "内容"], ["抓项目的意识", HOSTILE_PRACTICE]])


@functools.cache
def sample_chain() -> Chain:
    """The sample rounds (fewer projects, for speed) plus hostile text, through notebooks 01–04 and export_report."""
    root = Path(tempfile.mkdtemp(prefix="report-chain-")).resolve()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "data").mkdir()
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    sample.write_sample_rounds(root / "data" / "raw", n_projects=200)
    plant_hostile_text(root / "data" / "raw" / ROUND)
    messages: list[str] = []
    runner.run_round(ROUND, root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=messages.append, progress=False)
    written = export.export_report(ROUND, root)
    out = config.outputs_round_dir(ROUND, root)
    values = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    return Chain(root, out, values, written, messages)


@pytest.fixture(scope="module")
def chain() -> Chain:
    return sample_chain()


# =========================================================================== numbers and words


@pytest.mark.parametrize("value, digits, shown", [
    (97.15, 1, "97.2"), (0.25, 1, "0.3"), (-4.04, 1, "-4.0"), (-0.04, 1, "0.0"), (715.0, 0, "715"),
    (2.5, 0, "3"), (13.8200001, 1, "13.8"), (None, 1, "—"), (float("nan"), 1, "—"),
])
def test_numbers_are_rounded_half_up_and_missing_is_a_dash(value, digits, shown):
    assert number(value, digits) == shown


def test_tables_use_thousands_separators():
    assert number(1245.6212, 1, thousands=True) == "1,245.6"
    assert number(108258.0, 0, thousands=True) == "108,258"


@pytest.mark.parametrize("value, word, size", [(15.0, "增长", "15.0"), (-3.24, "下降", "3.2"), (0.04, "", "0.0"),
                                               (-0.049, "", "0.0")])
def test_word_follows_the_sign_of_the_displayed_value(value, word, size):
    assert signed_word(value, "增长", "下降") == (word, size)


def test_dates_in_chinese():
    assert report.chinese_date("2021-11-30") == "2021年11月30日"
    assert report.date_span("2021-12-06", "2021-12-10") == "12月6日—10日"
    assert report.date_span("2021-11-29", "2021-12-03") == "11月29日—12月3日"
    assert report.date_span(None, "2021-12-03") is None


# =========================================================================== Text: the helpers the templates call


def data_with(values: dict, tables: dict | None = None) -> ReportData:
    empty = pd.DataFrame()
    practices = pd.DataFrame(columns=["section", "section_key", "unit", "content"])
    return ReportData(round=None, values={"notes": {}, **values},
                      tables={"practices_by_section": practices, **(tables or {})},
                      ledger=empty, problems=empty, quarantine=empty, outputs_dir=Path("."))


def plain(markup) -> str:
    return re.sub(r"<[^>]+>", "", str(markup))


def test_words_chosen_by_the_data():
    t = Text(data_with({"up": 14.97, "down": -2.04, "flat": 0.01, "gap": 13.82, "behind": -4.04}))
    assert plain(t.growth("up")) == "同比增长15.0%"
    assert plain(t.growth("down")) == "同比下降2.0%"
    assert plain(t.growth("flat")) == "与上年同期持平"
    assert plain(t.accel("up")) == "比上年同期加快15.0个百分点"
    assert plain(t.accel("down")) == "比上年同期回落2.0个百分点"
    assert plain(t.vs_time("gap")) == "超过时间进度13.8个百分点"
    assert plain(t.vs_time("behind")) == "低于时间进度4.0个百分点"
    assert plain(t.change("down")) == "降低2.0个百分点"


def test_units_and_formats():
    t = Text(data_with({"a": 486.1918, "b": 92.5675, "n": 593, "w": 715.0, "m": 882.0, "land": 180.0}))
    assert plain(t.yi("a")) == "486.2亿元"
    assert plain(t.pct("b")) == "92.6%"
    assert plain(t.count("n")) == "593个"
    assert plain(t.count("land")) == "180个"
    assert plain(t.wan("w")) == "715万元"
    assert plain(t.mu("m")) == "882亩"


def test_a_null_value_is_a_dash_with_its_reason_as_a_note():
    t = Text(data_with({"inspection.groups": None, "x": None,
                        "notes": {"inspection.groups": "round.yml 未填写 groups（督查组数）",
                                  "x": "本轮未收到固定资产投资情况表"}}))
    assert plain(t.count("inspection.groups")) == "—注1个"
    assert plain(t.yi("x")) == "—注2"
    assert plain(t.growth("x")) == "同比—注2"  # the same reason keeps its number
    notes = plain(t.notes_html())
    assert "注1：round.yml 未填写 groups（督查组数）" in notes and "注2：本轮未收到固定资产投资情况表" in notes


def test_an_unknown_key_is_an_error_not_a_silent_blank():
    with pytest.raises(KeyError):
        Text(data_with({})).yi("no.such.key")


def practices_table(rows):
    return pd.DataFrame(rows, columns=["section", "section_key", "unit", "content"])


def test_practices_quote_units_departments_first_and_join_their_figures():
    table = practices_table([
        ("项目推进措施", "measures", "石嘴山市", "安排专项资金进行考核奖励。"),
        ("项目推进措施", "measures", "固原市", "固原市“清单式”管理抓开工"),
        ("项目推进措施", "measures", "住房城乡建设厅", "建立按月评估调度工作机制"),
    ])
    t = Text(data_with({"measures.reward_paid.unit": "石嘴山市", "measures.reward_paid.wan": 715.0,
                        "measures.renovation.unit": "宁东基地", "measures.renovation.yi": 83.6},
                       {"practices_by_section": table}))
    t.clause("measures.reward_paid.unit", t.wan("measures.reward_paid.wan"))
    t.clause("measures.renovation.unit", t.yi("measures.renovation.yi"))
    text = plain(t.practices("measures"))
    assert text == ("住房城乡建设厅建立按月评估调度工作机制。石嘴山市安排专项资金进行考核奖励，715万元。"
                    "固原市“清单式”管理抓开工。宁东基地83.6亿元。")


def test_practice_text_from_returns_is_escaped():
    table = practices_table([("抓项目的意识", "awareness", "银川市", HOSTILE_PRACTICE)])
    html = phrase_html(Text(data_with({}, {"practices_by_section": table})).practices("awareness"))
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&amp;nbsp;" in html  # an entity in a return is text, not an entity


def test_html_table_escapes_text_and_right_aligns_numbers():
    frame = pd.DataFrame({"name": [HOSTILE_PROJECT, "乙"], "plan": [108258.0, float("nan")]})
    html = str(html_table(frame, [Col("name", "项目名称"), Col("plan", "计划(万元)", "wan")], caption="表<1>"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "表&lt;1&gt;" in html
    assert '<td class="num">108,258</td>' in html and '<td class="num">—</td>' in html
    assert '<th scope="col" class="num">计划(万元)</th>' in html


def test_empty_table_says_so():
    table = html_table(pd.DataFrame(), [Col("a", "甲")], caption="隔离行", empty="本轮没有隔离的数据行")
    assert "本轮没有" in str(table)


# =========================================================================== pure tables of the report


def test_track_summary_counts_each_reason_and_totals():
    track = pd.DataFrame({"unit": ["乙市", "甲市", "甲市"], "not_started": [True, False, True],
                          "zero_investment": [False, True, False], "not_in_stats": [False, False, False],
                          "behind": [True, True, True]})
    out = report.track_summary(track, ["甲市", "乙市"])
    assert out["unit"].tolist() == ["甲市", "乙市", "合计"]
    assert out.set_index("unit").loc["合计"].tolist() == [3, 2, 1, 0, 3]


def test_start_problems_keeps_start_and_statistics_issues_with_short_reasons():
    track = pd.DataFrame({"unit": ["甲", "甲", "乙"], "not_started": [True, False, False],
                          "zero_investment": [False, False, True], "not_in_stats": [False, False, False],
                          "behind": [True, True, True]})
    out = report.start_problems(track)
    assert out["flags"].tolist() == ["未开工；进度滞后", "已开工零投资；进度滞后"]


def test_quarantine_by_reason_uses_problem_codes_and_falls_back_to_the_text():
    quarantine = pd.DataFrame({"unit": ["甲", "甲", "乙"], "file": ["a.xlsx"] * 3, "sheet": ["S"] * 3, "row": [5, 6, 7],
                               "reasons": ["…", "…", "累计完成投资（14,038.00万元）大于总投资（11,230.00万元）"],
                               "money_wan": [10.0, 20.0, 30.0]})
    problems = pd.DataFrame({"file": ["a.xlsx", "a.xlsx", "a.xlsx"], "sheet": ["S"] * 3,
                             "row": pd.array([5, 6, 6], "Int64"), "code": ["duplicate", "bad_date", "bad_money"],
                             "problem": ["重复", "日期不存在", "不是有效数字"]})
    out = report.quarantine_by_reason(quarantine, problems).set_index("reason")
    assert out.loc["重复填报（同一项目只计一次）", "rows"] == 1
    assert out.loc["日期无法识别或不存在", "money_wan"] == 20.0
    assert out.loc["金额无法识别", "rows"] == 1
    assert out.loc["累计完成投资大于总投资", "units"] == "乙"


def test_returns_by_unit_lists_missing_units():
    ledger = pd.DataFrame({"file": ["a.xlsx", "a.xlsx"], "sheet": ["S1", "S2"], "unit": ["甲市", "甲市"],
                           "status": ["已读取", "未识别"], "data_rows": [3, 0], "kept": [2, 0], "quarantined": [1, 0]})
    problems = pd.DataFrame({"unit": ["甲市", "乙市"], "severity": ["错误", "错误"],
                             "code": ["bad_date", "missing_return"]})
    out = report.returns_by_unit(ledger, problems, ["甲市", "乙市"]).set_index("unit")
    columns = ["status", "files", "sheets", "kept", "quarantined", "errors"]
    assert out.loc["甲市", columns].tolist() == ["已报送", 1, 2, 2, 1, 1]
    assert out.loc["乙市", "status"] == "未报送"


# =========================================================================== the notebook


def test_report_notebook_shows_every_part_in_order_in_cells_tagged_report():
    nb = nbformat.read(config.NOTEBOOKS_DIR / report.REPORT_NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if report.REPORT_TAG in c.metadata.get("tags", [])]
    assert cells == [f'report.part(data, "{name}")' for name in report.PARTS]


def test_notebooks_3_and_4_stay_thin():
    for name in ("03_figures.ipynb", "04_report.ipynb"):
        nb = nbformat.read(config.NOTEBOOKS_DIR / name, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert all(len(src.splitlines()) <= 4 for src in code), name
        assert not any(re.search(r"^\s*(def|for|while|class)\b", src, re.M) for src in code), name


# =========================================================================== the whole chain


def test_chain_runs_all_four_steps_and_writes_the_report(chain):
    assert any("绘制图表" in m for m in chain.messages) and any("生成报告" in m for m in chain.messages)
    assert chain.written["html"] == chain.out / "report.html"
    for name in ("01_clean", "02_indicators", "03_figures", "04_report"):
        assert (chain.out / "notebooks" / f"{name}.ipynb").is_file()


def test_figures_are_saved_as_png_and_svg(chain):
    for spec in figures.FIGURES:
        paths = figures.figure_paths(chain.out, spec.key)
        assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", spec.key
        assert b"<svg" in paths["svg"].read_bytes()[:2000], spec.key


def test_no_missing_glyph_while_drawing(chain):
    nb = nbformat.read(chain.out / "notebooks" / "03_figures.ipynb", as_version=4)
    streams = " ".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                       if o.get("output_type") == "stream")
    assert "missing from font" not in streams and "Glyph" not in streams


def test_html_has_no_code_prompts_parameters_or_scripts(chain):
    html = chain.html
    assert "<script" not in html.lower()
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert "round_id" not in html and "injected-parameters" not in html and "report.part(" not in html
    assert "jp-InputArea" not in html and "highlight" not in html


def test_html_makes_no_network_request(chain):
    html = chain.html
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html, flags=re.I)
    assert refs, "the figures should be there"
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:60] for r in refs if not r.startswith(("data:", "#"))]
    assert not re.search(r"url\((?!data:)", html), "CSS must not load anything"
    assert "@import" not in html
    assert html.count("data:image/png;base64,") == len(figures.FIGURES)


def test_html_follows_the_seed_structure(chain):
    body = re.sub(r"<nav.*?</nav>", "", chain.html, flags=re.S)  # the table of contents lists them too
    text = re.sub(r"<[^>]+>", "", body)
    positions = [text.find(h) for h in SECTION_HEADINGS]
    assert all(p >= 0 for p in positions), [h for h, p in zip(SECTION_HEADINGS, positions) if p < 0]
    assert positions == sorted(positions)
    assert "XX" not in text and "ＸＸ" not in text


def test_every_number_comes_from_indicators_json(chain):
    # The headline's caveat (what the figure leaves out) sits between a number and its words: read around it.
    v, text = chain.values, re.sub(r"<[^>]+>", "", re.sub(r'<span class="caveat">.*?</span>', "", chain.html))
    expected = [
        f"两批次集中开工重大项目{v['batch.projects']}个，开工率{number(v['batch.start_rate_pct'])}%",
        f"完成投资{number(v['batch.completed_yi'])}亿元，投资完成率{number(v['batch.completion_rate_pct'])}%",
        f"{v['key.projects']}个重点项目开工率{number(v['key.start_rate_pct'])}%",
        f"全区实施招商引资合同项目{v['attraction.projects']}个",
        f"占比{number(v['attraction.nine_share_pct'])}%（按项目个数计",
        f"需跟踪督办的项目{v['track.projects']}个",
        f"时间进度{number(v['time_progress_pct'])}%",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, missing
    word = "超过" if float(number(v["batch.vs_time_progress_pp"])) > 0 else "低于"
    assert f"{word}时间进度{number(abs(v['batch.vs_time_progress_pp']))}个百分点" in text
    word = "增长" if v["fai.yoy_pct"] > 0 else "下降"
    assert f"同比{word}{number(abs(v['fai.yoy_pct']))}%" in text


def test_the_sample_round_states_as_partial_the_figures_its_missing_return_affects(chain):
    """The sample's planted 未报送 (农业农村厅, a department that sends 重大项目, 主要指标 and 典型做法) leaves every
    project figure, the 典型做法 lists and the sum of all units' 谋划储备项目 partial, and nothing else."""
    v = chain.values
    partial = set(v["data_quality.partial_keys"])
    project_keys = {k for k, need in coverage.NEEDS.items() if need.kind == "projects"}
    assert project_keys - {k for k in project_keys if v[k] is None} <= partial
    assert {k for k in partial if not k.startswith(("batch.", "key.", "track.", "ranking.", "notify.", "warning.",
                                                    "change.", "practices."))} == {"planning.projects_total"}
    assert all(v["notes"][k] == "不含农业农村厅：未报送" for k in partial)
    assert v["data_quality.complete"] is False
    text = re.sub(r"<[^>]+>", "", chain.html)
    assert re.search(r"两批次集中开工重大项目\d+个（不含农业农村厅：未报送；[^）]*部分数据未计入）", text)


def test_null_values_show_a_dash_and_their_reason(chain):
    text = re.sub(r"<[^>]+>", "", chain.html)
    for key, reason in chain.values["notes"].items():
        assert reason in text, key


def test_practices_and_lists_are_in_the_report(chain):
    text = re.sub(r"<[^>]+>", "", chain.html)
    practices = pd.read_parquet(chain.root / "data" / "processed" / ROUND / "practices_by_section.parquet")
    assert all(str(c).rstrip("。")[:12] in text for c in practices["content"] if "<" not in str(c))
    for key in ("ranking.showcase", "ranking.exposure", "notify.units"):
        assert all(unit in text for unit in chain.values[key]), key
    assert "展示台" in text and "曝光台" in text and "与上轮督查" in text


def test_sample_round_says_it_is_sample_data(chain):
    assert 'class="sample-banner"' in chain.html and "示例数据" in chain.html


def test_text_from_returns_is_escaped_in_the_html(chain):
    html = chain.html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "the hostile project should be listed, as text"
    assert "<img src=x" not in html and "onerror=alert(2)&gt;" in html
    assert not re.search(r"<(img|b)\b[^>]*onerror", html)


def test_appendix_accounts_for_returns_and_quarantine(chain):
    text = re.sub(r"<[^>]+>", "", chain.html)
    ledger = pd.read_csv(chain.root / "data" / "processed" / ROUND / "ledger.csv")
    assert f"隔离{int(ledger['quarantined'].sum())}行" in text
    assert f"未报送1个（{sample.MISSING_UNIT}）" in text
    assert "核对，每一数据行或采用或隔离" in text


def test_pdf_is_a4_when_chromium_is_present(chain):
    if "pdf" not in chain.written:
        pytest.skip("没有安装 Chromium，未生成 PDF（scripts/install-system-deps.sh 安装）")
    data = chain.written["pdf"].read_bytes()
    assert data[:5] == b"%PDF-"
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes)


def test_export_without_the_executed_notebook_is_a_clear_error(tmp_path):
    raw = tmp_path / "data" / "raw" / "r1"
    raw.mkdir(parents=True)
    (raw / "round.yml").write_text("title: t\nas_of: 2021-11-30\nunits: [银川市]\n", encoding="utf-8")
    with pytest.raises(report.ReportError, match="请先运行第4步"):
        export.export_report("r1", tmp_path)



def test_readme_shows_a_screenshot_of_the_report():
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/report-screenshot.png)" in readme
    png = (config.PROJECT_ROOT / "docs" / "report-screenshot.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_an_incomplete_round_says_so_on_the_first_screen_and_in_the_headline(chain):
    """The sample round carries planted mistakes: its report must not pass the counted part off as the whole."""
    v = chain.values
    assert v["data_quality.complete"] is False and v["data_quality.excluded_units"]
    head = chain.html[: chain.html.find('id="overall"')]
    box = re.search(r'<aside class="dq-box".*?</aside>', head, flags=re.S)
    assert box, "the data-quality box must stand above 一、总体情况"
    box_text = re.sub(r"<[^>]+>", "", box.group(0))
    for unit in v["data_quality.missing_units"]:
        assert unit in box_text
    assert "受影响的数字" in box_text and "亿元" in box_text
    overall = chain.html[chain.html.find('id="overall"'):]
    headline = re.search(r"两批次集中开工重大项目<(?:span|a) class=\"v\"[^>]*>\d+</(?:span|a)>个"
                         r"(<span class=\"caveat\">(.*?)</span>)?", overall)
    assert headline and headline.group(2) and headline.group(2).startswith("（")
def test_the_lights_rank_changes_and_conventions_are_in_the_report(chain):
    v, text = chain.values, re.sub(r"<[^>]+>", "", chain.html)
    uncaveated = re.sub(r"（不含[^）]*）", "", text)  # the lights are partial: 农业农村厅 sent nothing
    assert (f"红色预警项目{v['warning.red']}个、黄色预警项目{v['warning.yellow']}个、"
            f"绿色（无预警）项目{v['warning.green']}个") in uncaveated
    assert f"红色预警项目{v['warning.red']}个（不含农业农村厅：未报送）" in text
    assert f"好转（如红转黄、黄转绿）的项目{v['change.warning.improving']}个" in text
    assert f"变差（如绿转黄、红）的项目{v['change.warning.worsening']}个" in text
    assert "各单位三色预警项目" in text and "图8　各单位项目三色预警" in text
    ranked = [r for r in v["change.ranking"] if r["trend"]]
    assert ranked and "名次较上轮" in text
    risen = [r["unit"] for r in ranked if r["change"] > 0]
    if risen:
        assert f"名次上升的有{'、'.join(risen)}" in text
    appendix = text.split("附录二　指标口径", 2)[-1]
    assert "数据截至月份÷12（round.yml 中 time_progress: months）" in appendix
    assert "三色预警" in appendix and "投资完成率低于时间进度10至30个百分点为黄" in appendix
    assert "资金到位率" in appendix and "按期竣工率" in appendix
