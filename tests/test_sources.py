"""Every number traceable (pipeline/indicators/sources.py): indicators.json "sources", 数字来源.xlsx, and the links of report.html.

On the sample chain of tests/test_report.py (notebooks 01–04 once per session): the listed rows of each
headline figure add up to it, every row points at the unit's own return, every number of the report
body links to its entry in 附录三, and hover text and appendix say what indicators.json says.
"""
from __future__ import annotations

import math

import lxml.html
import pandas as pd
import pytest

from pipeline import paths as config, indicators as ind
from pipeline.indicators import sources
from pipeline.ingest import readers
from pipeline.report import render as report
from test_report import ROUND, sample_chain


@pytest.fixture(scope="module")
def chain():
    return sample_chain()


@pytest.fixture(scope="module")
def srcs(chain) -> dict:
    return chain.values[sources.SOURCES_KEY]


@pytest.fixture(scope="module")
def workbook(chain) -> dict[str, pd.DataFrame]:
    # Row 1 of each sheet says which figures it lists; the table starts on row 2.
    return pd.read_excel(chain.out / sources.SOURCES_FILE, sheet_name=None, header=1, dtype={"Excel行号": "Int64"},
                         engine="openpyxl")


def yes(frame: pd.DataFrame, columns) -> pd.Series:
    columns = [columns] if isinstance(columns, str) else columns
    return frame[columns].eq("是").all(axis=1)


def from_rows(key: str, source: dict, frame: pd.DataFrame) -> float:
    """The figure as the inspector would get it from the listed rows, by rows.how."""
    rows = source["rows"]
    how = rows["how"]
    if "键" in frame:  # a sheet shared by several figures: the rows of this one
        frame = frame[frame["键"].str.split("、").map(lambda keys: key in keys)]
    if how == "rows":
        return len(frame)
    if how == "yes":
        return int(yes(frame, rows["column"]).sum())
    if how == "no":
        return int(frame[rows["column"]].eq("否").sum())
    if how == "value":
        assert len(frame) == 1
        return float(frame[rows["column"]].iloc[0] * frame["换算系数"].iloc[0])
    if how == "sum_yi":
        return float(frame[rows["column"]].sum()) / 10_000
    raise AssertionError(how)


HEADLINE = ([f"{p}.{name}" for p in ("batch", "key") for name in ind.FIGURE_COLUMNS]
            + ["track.projects", "track.not_started", "track.zero_investment", "track.not_in_stats", "track.behind"])


def unit_keys(chain) -> list[str]:
    from pipeline.rounds import load_round

    units = load_round(ROUND, chain.root).units
    return [f"unit.{u}.{name}" for u in units for name in ("start_rate_pct", "completion_rate_pct")]


def test_every_headline_figure_has_a_source_with_its_rows_listed(chain, srcs, workbook):
    for key in HEADLINE + unit_keys(chain):
        assert key in srcs, key
        rows = srcs[key]["rows"]
        assert rows["count"] is not None, key
        if rows["count"]:
            assert rows["file"] == sources.SOURCES_FILE and rows["sheet"] in workbook, key
            assert len(workbook[rows["sheet"]]) == rows["count"], key
    for key in HEADLINE:
        assert srcs[key]["value"] == chain.values[key], key


def test_each_headline_number_is_the_sum_of_its_rows(chain, srcs, workbook):
    checked = 0
    for key, source in srcs.items():
        rows = source["rows"]
        if not rows.get("how") or not rows["sheet"]:
            continue
        assert from_rows(key, source, workbook[rows["sheet"]]) == pytest.approx(source["value"], abs=1e-6), key
        checked += 1
    assert checked >= 2 * 7 + 5 + 3  # batch and key: 7 counted or summed figures each; track: 5; fai: 3 (and 主要指标)


def test_each_rate_is_its_inputs_and_its_inputs_are_the_rows(chain, srcs, workbook):
    tp = chain.values["time_progress_pct"]
    for key, source in srcs.items():
        sheet = source["rows"]["sheet"]
        if sheet is None or not key.endswith(("start_rate_pct", "completion_rate_pct", "vs_time_progress_pp")):
            continue
        frame = workbook[sheet]
        plan, done = frame["年度计划投资(万元)"].sum(), frame["累计完成投资(万元)"].sum()
        base, started = yes(frame, "计入开工率分母").sum(), yes(frame, ["计入开工率分母", "已开工"]).sum()
        expected = {"start_rate_pct": started / base * 100 if base else None,
                    "completion_rate_pct": done / plan * 100 if plan else None,
                    "vs_time_progress_pp": done / plan * 100 - tp if plan else None}[key.rsplit(".", 1)[1]]
        value = source["value"]
        assert (value is None) == (expected is None), key
        if value is not None:
            assert value == pytest.approx(expected, rel=1e-9), key
            a, b = (item["value"] for item in source["inputs"])
            assert value == pytest.approx(a / b * 100 if "÷" in source["formula"] else a - b, rel=1e-9), key


def test_unit_rates_are_the_by_unit_table(chain, srcs):
    by_unit = pd.read_parquet(chain.root / "data" / "processed" / ROUND / "by_unit.parquet")
    for r in by_unit[by_unit["scope"] == ind.SCOPE_ALL].itertuples():
        for name in ("start_rate_pct", "completion_rate_pct"):
            value, table = srcs[f"unit.{r.unit}.{name}"]["value"], getattr(r, name)
            assert (value is None and math.isnan(table)) or value == pytest.approx(table), (r.unit, name)


def test_listed_rows_point_at_the_units_own_returns(chain, workbook):
    """Open the unit's file at the sheet and Excel row given: the project named there is the project listed."""
    raw = config.raw_round_dir(ROUND, chain.root)
    rows = workbook["两批次项目"]
    assert rows[["单位", "文件", "工作表", "Excel行号"]].notna().all().all()
    grids = {}
    sample_rows = rows.groupby("文件", sort=False).head(3)
    for r in sample_rows.itertuples():
        if r.文件 not in grids:
            grids[r.文件] = {s.name: s.rows for s in readers.read_return(raw / r.文件, r.文件)}
        cells = [str(c) for c in grids[r.文件][r.工作表][r.Excel行号 - 1]]
        assert r.项目名称 in cells, (r.文件, r.工作表, r.Excel行号)
    assert len(sample_rows) >= 10


# =========================================================================== report.html: every number links to its source


@pytest.fixture(scope="module")
def page(chain):
    return lxml.html.fromstring(chain.html)


def body_numbers(page):
    """The numbers of the report body filled in from indicators.json (class "v"), outside 附录三 itself."""
    return [el for el in page.xpath('//*[contains(concat(" ", @class, " "), " v ")]')
            if not el.xpath('ancestor::section[@id="appendix_sources"]')]


def test_every_number_in_the_report_body_has_a_source(page, srcs):
    numbers = body_numbers(page)
    assert len(numbers) > 60
    for el in numbers:
        assert el.tag == "a", lxml.html.tostring(el, encoding="unicode")
        key = el.get("href").removeprefix("#src-")
        assert key in srcs, key
        target = page.get_element_by_id(f"src-{key}")
        assert target.xpath('ancestor::section[@id="appendix_sources"]'), key


def test_hover_text_agrees_with_indicators_json(page, srcs, chain):
    for el in body_numbers(page):
        key = el.get("href").removeprefix("#src-")
        assert el.get("title") == report.source_hover(key, srcs[key]), key
        assert el.get("title").startswith(f"{key} = ")
    v = chain.values
    link = page.xpath('//a[@href="#src-batch.completion_rate_pct"]')[0]
    assert link.get("title") == (f"batch.completion_rate_pct = 累计完成投资{report.number(v['batch.completed_yi'])}亿元 ÷ "
                                 f"年度计划投资{report.number(v['batch.plan_yi'])}亿元（{v['batch.projects']}个项目）")
    assert link.text_content() == report.number(v["batch.completion_rate_pct"])


def test_appendix_lists_every_source_as_indicators_json_has_it(page, srcs):
    section = page.get_element_by_id("appendix_sources")
    assert section.xpath(".//h2")[0].text_content() == "附录三　数字来源"
    entries = section.xpath(".//dt")
    assert [dt.get("id") for dt in entries] == [f"src-{k}" for k in srcs]
    for dt in entries:
        key = dt.get("id").removeprefix("src-")
        source, text = srcs[key], dt.getnext().text_content()
        assert key in dt.text_content() and source["label"] in dt.text_content()
        assert source["formula"] in text and report.source_expression(source) in text, key
        rows = source["rows"]
        if rows["count"] is not None:
            assert f"依据{rows['count']}{rows['what']}" in text, key
        if rows["sheet"]:
            assert f"{sources.SOURCES_FILE} 的工作表“{rows['sheet']}”" in text, key


def test_growth_and_acceleration_are_their_inputs(srcs, chain):
    checked = 0
    for key, source in srcs.items():
        if not key.endswith(("yoy_pct", "accel_pp")) or not source["inputs"] or source["value"] is None:
            continue
        (now, before) = (item["value"] for item in source["inputs"])
        assert [item["value"] for item in source["inputs"]] == [chain.values[item["key"]] for item in source["inputs"]], key
        expected = now - before if key.endswith("accel_pp") else (now - before) / before * 100
        assert source["value"] == pytest.approx(expected, rel=1e-9) and source["value"] == chain.values[key], key
        checked += 1
    assert checked >= 3  # fai.accel_pp and the 主要指标 同比 of the sample round
