"""Indicators: each official definition against a hand-computed case, the published case through real
return files, and every number the seed report redacts present in indicators.json."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import clean_and_save
from office import project_row, project_sheet, write_csv, write_round, write_xlsx

from pipeline import indicators as ind
from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.indicators import findings, keys
from pipeline.ingest import cleaning
from pipeline.ingest.tables import typed

UNITS = ("银川市", "石嘴山市", "宁东基地", "发展改革委", "交通运输厅", "水利厅", "自然资源厅")


# --------------------------------------------------------------------------- helpers shared with test_findings


def make_round(as_of=dt.date(2021, 10, 31), units=UNITS, **kw) -> rounds.Round:
    return rounds.Round(id="r", title="测试轮次", as_of=as_of, units=tuple(units), raw_dir=Path("."), **kw)


PROJECT_COLUMNS = [c.name for c in schemas.PROJECTS.columns if c.type != schemas.SEQ]


def projects_frame(rows: list[dict]) -> pd.DataFrame:
    """A clean projects table (the contract of notebook 1) from a few dicts; unspecified columns are empty."""
    base = {"unit": "银川市", "file": "f.xlsx", "sheet": "S", "row": 5, "batch": "第一批", "is_key": False,
            "nature": "新建", "started": True, "in_stats": True, "annual_plan": 100.0, "completed": 50.0}
    frame = pd.DataFrame([{**base, **r} for r in rows], columns=cleaning.PROVENANCE + PROJECT_COLUMNS + ["extra"])
    if "project_name" not in frame or frame["project_name"].isna().any():
        frame["project_name"] = [r.get("project_name", f"项目{i}") for i, r in enumerate(rows)]
    return typed(frame, schemas.PROJECTS)


def empty_tables() -> dict[str, pd.DataFrame]:
    def columns(kind):
        return cleaning.PROVENANCE + [c.name for c in kind.columns if c.type != schemas.SEQ] + ["extra"]
    return {name: typed(pd.DataFrame(columns=columns(kind)), kind)
            for name, kind in schemas.RETURN_KINDS.items()}


def indicators_frame(rows: list[tuple]) -> pd.DataFrame:
    """(unit, indicator, measure_unit, current, last_year) rows as a clean 主要指标 table."""
    frame = pd.DataFrame([{"unit": u, "file": "f", "sheet": "S", "row": 3, "indicator": i, "measure_unit": m,
                           "current": c, "last_year": last} for u, i, m, c, last in rows],
                         columns=cleaning.PROVENANCE + ["indicator", "measure_unit", "current", "last_year", "extra"])
    return typed(frame, schemas.INDICATORS)


# --------------------------------------------------------------------------- the indicator functions


def test_time_progress_is_the_cut_off_month_over_twelve():
    assert ind.time_progress_pct(dt.date(2021, 10, 31)) == pytest.approx(83.3333333)
    assert ind.time_progress_pct(dt.date(2021, 12, 31)) == 100.0
    assert ind.time_progress_pct(dt.date(2021, 6, 15)) == 50.0


def test_start_rate():
    assert ind.start_rate_pct(3, 4) == 75.0
    assert ind.start_rate_pct(0, 0) is None


def test_completion_rate_and_gap_to_time_progress_the_published_case():
    rate = ind.completion_rate_pct(6_290_000.0, 6_474_000.0)
    assert rate == pytest.approx(97.15786, abs=1e-5)
    gap = ind.vs_time_progress_pp(rate, ind.time_progress_pct(dt.date(2021, 10, 31)))
    assert gap == pytest.approx(13.82453, abs=1e-5)
    assert f"{rate:.1f}" == "97.2" and ind.gap_text(gap) == "超过时间进度13.8个百分点"


def test_completion_rate_with_no_plan_is_none():
    assert ind.completion_rate_pct(10.0, 0.0) is None
    assert ind.completion_rate_pct(None, 100.0) is None
    assert ind.completion_rate_pct(float("nan"), 100.0) is None
    assert ind.vs_time_progress_pp(None, 83.3) is None
    assert ind.gap_text(None) == "—"


def test_gap_text_words_follow_the_sign_after_rounding():
    assert ind.gap_text(-5.04) == "低于时间进度5.0个百分点"
    assert ind.gap_text(0.04) == "与时间进度持平"


def test_yoy_growth_and_missing_last_year():
    assert ind.yoy_pct(120.0, 100.0) == pytest.approx(20.0)
    assert ind.yoy_pct(80.0, 100.0) == pytest.approx(-20.0)
    assert ind.yoy_pct(80.0, None) is None
    assert ind.yoy_pct(80.0, 0.0) is None


def test_acceleration_is_the_difference_of_growth_rates():
    assert ind.accel_pp(4.5, 3.1) == pytest.approx(1.4)
    assert ind.accel_pp(2.0, 3.5) == pytest.approx(-1.5)
    assert ind.accel_pp(2.0, None) is None


def test_share_money_and_change():
    assert ind.share_pct(3, 4) == 75.0 and ind.share_pct(1, 0) is None
    assert ind.wan_to_yi(6_474_000.0) == pytest.approx(647.4) and ind.wan_to_yi(None) is None
    assert ind.change_pp(80.0, 70.5) == pytest.approx(9.5) and ind.change_pp(80.0, None) is None


@pytest.mark.parametrize("category, industry", [
    ("枸杞", "枸杞"), ("葡萄酒", "葡萄酒"), ("新材料", "新型材料"), ("光伏 新能源", "清洁能源"),
    ("肉牛养殖", "肉牛和滩羊"),
    ("文旅", "文化旅游"), ("装备制造", None), (None, None), ("其他", None),
])
def test_nine_industries(category, industry):
    assert ind.nine_industry(category) == industry


def test_unit_kind_and_project_city():
    assert [ind.unit_kind(u) for u in ("银川市", "宁东基地", "交通运输厅")] == ["市", "基地", "部门"]
    frame = pd.DataFrame({"unit": ["石嘴山市", "交通运输厅", "交通运输厅", "宁东基地", "水利厅", "水利厅", "水利厅"],
                          "location": ["银川市兴庆区", "银川永宁县", "灵武市", None, "石嘴山市大武口区",
                                       "宁东镇", None]})
    assert ind.project_city(frame, ["银川市", "石嘴山市", "宁东基地"]).tolist() == [
        "石嘴山市", "银川市", ind.UNKNOWN_CITY, "宁东基地", "石嘴山市", "宁东基地", ind.UNKNOWN_CITY]


def four_projects() -> pd.DataFrame:
    return projects_frame([
        {"project_name": "甲", "nature": "新建", "started": True, "annual_plan": 400.0, "completed": 300.0,
         "is_key": True},
        {"project_name": "乙", "nature": "新建", "started": False, "annual_plan": 100.0, "completed": 0.0},
        {"project_name": "丙", "nature": "续建", "started": True, "annual_plan": 300.0, "completed": 250.0},
        {"project_name": "丁", "nature": None, "started": True, "annual_plan": 200.0, "completed": 50.0,
         "batch": "第二批"},
    ])


def test_project_figures_hand_computed_new_base():
    figures = ind.project_figures(four_projects(), time_progress=50.0, base="new")
    # 续建 丙 is not in the 开工率 denominator: 甲, 乙, 丁 planned to start, 甲 and 丁 started.
    assert (figures["projects"], figures["started"], figures["not_started"]) == (4, 3, 1)
    assert (figures["start_base"], figures["start_base_started"]) == (3, 2)
    assert figures["start_rate_pct"] == pytest.approx(200 / 3)
    assert figures["plan_yi"] == pytest.approx(0.1) and figures["completed_yi"] == pytest.approx(0.06)
    assert figures["completion_rate_pct"] == pytest.approx(60.0)
    assert figures["vs_time_progress_pp"] == pytest.approx(10.0)


def test_project_figures_all_base_and_empty_group():
    assert ind.project_figures(four_projects(), 50.0, base="all")["start_rate_pct"] == pytest.approx(75.0)
    empty = ind.project_figures(four_projects().iloc[0:0], 50.0)
    assert empty["projects"] == 0 and empty["plan_yi"] == 0.0
    assert (empty["start_rate_pct"] is None and empty["completion_rate_pct"] is None
            and empty["vs_time_progress_pp"] is None)


def test_breakdown_lists_fixed_groups_even_when_empty():
    round_ = make_round(as_of=dt.date(2021, 6, 30))
    by_batch = ind.breakdown(four_projects(), round_, "batch")
    assert by_batch["scope"].tolist() == [ind.SCOPE_ALL] * 2 + [ind.SCOPE_KEY] * 2
    first = by_batch.iloc[0]
    assert (first["batch"], first["projects"], first["completion_rate_pct"]) == (
        "第一批", 3, pytest.approx(550 / 800 * 100))
    key_second = by_batch.iloc[3]
    assert (key_second["batch"] == "第二批" and key_second["projects"] == 0
            and pd.isna(key_second["completion_rate_pct"]))
    by_unit = ind.breakdown(four_projects(), round_, "unit")
    assert by_unit.loc[by_unit["scope"] == ind.SCOPE_ALL, "unit"].tolist() == list(UNITS)
    assert (by_unit.loc[1, "unit_kind"] == "市" and by_unit.loc[1, "projects"] == 0
            and pd.isna(by_unit.loc[1, "start_rate_pct"]))
    by_nature = ind.breakdown(four_projects(), round_, "nature")
    assert by_nature.loc[by_nature["scope"] == ind.SCOPE_ALL, "nature"].tolist() == ["新建", "续建", "改扩建",
                                                                                     ind.UNKNOWN]
    with pytest.raises(ValueError):
        ind.breakdown(four_projects(), round_, "colour")


# --------------------------------------------------------------------------- FAI, 主要指标, attraction, 十大工程


def fai_frame(rows):
    frame = pd.DataFrame([{"unit": "发展改革委", "file": "f", "sheet": "S", "row": 3, "region": r, "month": m,
                           "cum_value": v, "yoy_pct": y, "last_yoy_pct": last} for r, m, v, y, last in rows],
                         columns=cleaning.PROVENANCE + ["region", "month", "cum_value", "yoy_pct", "last_yoy_pct",
                                                        "extra"])
    return typed(frame, schemas.FAI)


def test_fai_takes_the_region_total_at_the_cut_off_month():
    fai = fai_frame([("全区", 9, 15_000_000.0, 3.0, 2.0), ("全区", 10, 17_000_000.0, 4.5, 3.1),
                     ("全区", 11, 19_000_000.0, 5.0, 3.0), ("银川市", 10, 8_000_000.0, -2.0, 1.0)])
    values = ind.fai_values(fai, make_round())  # as_of October: November is not used
    assert values["fai.month"] == 10 and values["fai.total_yi"] == pytest.approx(1700.0)
    assert values["fai.yoy_pct"] == 4.5 and values["fai.accel_pp"] == pytest.approx(1.4)
    table = ind.fai_by_region(fai, make_round())
    assert table["region"].tolist() == ["全区", "银川市"] and table.loc[1, "accel_pp"] == pytest.approx(-3.0)


def test_fai_without_last_year_growth_omits_the_acceleration_and_says_why():
    values = ind.fai_values(fai_frame([("全区", 10, 17_000_000.0, 4.5, None)]), make_round())
    assert values["fai.yoy_pct"] == 4.5
    assert isinstance(values["fai.accel_pp"], ind.Missing) and "上年同期" in values["fai.accel_pp"].reason


def test_fai_without_a_region_row():
    values = ind.fai_values(fai_frame([("银川市", 10, 8_000_000.0, -2.0, 1.0)]), make_round())
    assert all(isinstance(v, ind.Missing) for v in values.values())
    assert "全区" in values["fai.total_yi"].reason


def test_attribution_prefers_the_named_unit_then_the_largest():
    table = indicators_frame([
        ("银川市", "中央预算内资金", "万元", 30_000.0, None),
        ("发展改革委", "中央预算内资金", "万元", 125_000.0, 100_000.0),
        ("银川市", "奖励资金兑现", "万元", 500.0, None),
        ("石嘴山市", "奖励资金兑现", "万元", 800.0, None),
        ("宁东基地", "奖励资金兑现", "万元", 9_000.0, None),
    ])
    assert ind.attributed(table, "中央预算内资金", "发展改革委").unit == "发展改革委"
    assert ind.attributed(table, "奖励资金兑现", "市").unit == "石嘴山市"  # the base is larger, but a city is preferred
    assert ind.attributed(table, "中央预算内资金", "水利厅").unit == "发展改革委"  # no preferred reporter: the largest
    missing = ind.attributed(table, "新增供地", "基地")
    assert missing.unit is None and "新增供地" in missing.reason


def test_unit_indicator_values_hand_computed_with_missing_last_year():
    table = indicators_frame([
        ("发展改革委", "中央预算内资金", "万元", 125_000.0, 100_000.0),
        ("宁东基地", "企业更新改造投资", "万元", 800_000.0, None),
        ("银川市", "营商环境改革措施条数", "条", 50.0, None),
        ("银川市", "营商环境改革措施方面", "个", 8.0, None),
        ("石嘴山市", "营商环境改革措施条数", "条", 20.0, None),
        ("石嘴山市", "营商环境改革措施方面", "个", 30.0, None),
    ])
    values = ind.unit_indicator_values(table)
    assert values["support.central_budget.yi"] == pytest.approx(12.5)
    assert values["support.central_budget.yoy_pct"] == pytest.approx(25.0)
    assert values["measures.renovation.unit"] == "宁东基地" and values["measures.renovation.yi"] == pytest.approx(80.0)
    assert isinstance(values["measures.renovation.yoy_pct"], ind.Missing)
    reason = values["measures.renovation.yoy_pct"].reason
    assert "上年同期" in reason and "不计算同比" in reason
    # Aspects and measures come from the same city: the one with the most measures.
    assert (values["business_env.unit"], values["business_env.measures"], values["business_env.aspects"]) == (
        "银川市", 50.0, 8.0)
    assert isinstance(values["land.new_supply.mu"], ind.Missing)


def attraction_frame(rows):
    frame = pd.DataFrame([{"unit": u, "file": "f", "sheet": "S", "row": 3, "project_name": n, "sign_mode": m,
                           "industry": i, "is_chain": c, "contract_investment": v, "funds_in_place": f}
                          for u, n, m, i, c, v, f in rows],
                         columns=cleaning.PROVENANCE + [c.name for c in schemas.ATTRACTION.columns
                                                        if c.type != schemas.SEQ] + ["extra"])
    return typed(frame, schemas.ATTRACTION)


def test_attraction_hand_computed():
    table = attraction_frame([
        ("银川市", "A1", "集中签约", "枸杞", False, 10_000.0, 2_000.0),
        ("银川市", "A2", "集中签约", "装备制造", False, 20_000.0, 5_000.0),
        ("银川市", "A3", "单独签约", "葡萄酒", True, 5_000.0, None),
        ("石嘴山市", "A4", "单独签约", "新材料", True, 30_000.0, 3_000.0),
        ("宁东基地", "A5", "单独签约", "清洁能源", True, 100_000.0, 40_000.0),
    ])
    indicators = indicators_frame([("宁东基地", "招商引资到位资金", "万元", 600_000.0, 500_000.0)])
    values = ind.attraction_values(table, indicators, make_round())
    assert values["attraction.projects"] == 5 and values["attraction.contract_yi"] == pytest.approx(16.5)
    assert values["attraction.nine.projects"] == 4 and values["attraction.nine_share_pct"] == pytest.approx(80.0)
    assert values["attraction.nine_share_by_investment_pct"] == pytest.approx(145 / 165 * 100)
    assert values["attraction.chain_projects"] == 3 and values["attraction.funds_in_place_yi"] == pytest.approx(5.0)
    assert (values["attraction.signing_city.unit"], values["attraction.signing_city.projects"]) == ("银川市", 2)
    assert values["attraction.signing_city.contract_yi"] == pytest.approx(3.0)
    assert values["attraction.signing_city.nine_share_pct"] == pytest.approx(50.0)
    assert (values["attraction.busiest_city.unit"], values["attraction.busiest_city.projects"]) == ("石嘴山市", 1)
    assert values["attraction.base.unit"] == "宁东基地" and values["attraction.base.chain_projects"] == 1
    assert values["attraction.base.funds_in_place_yi"] == pytest.approx(60.0)
    assert values["attraction.base.funds_yoy_pct"] == pytest.approx(20.0)


def test_no_attraction_return_gives_reasons_not_zeros():
    values = ind.attraction_values(attraction_frame([]), indicators_frame([]), make_round())
    assert isinstance(values["attraction.projects"], ind.Missing)
    assert "招商引资项目情况表" in values["attraction.projects"].reason


@pytest.mark.parametrize("status, done", [("已完成", True), ("已批复", True), ("完成", True), ("未完成", False),
                                          ("推进中", False), ("尚未获批", False), (None, None), ("", None)])
def test_milestone_done(status, done):
    assert ind.milestone_done(status) is done


def major_frame(rows):
    frame = pd.DataFrame([{"unit": "发展改革委", "file": "f", "sheet": "S", "row": 3, "project_name": n, "stage": s,
                           "annual_plan": p, "completed": c, "milestone": "节点", "milestone_date": d,
                           "milestone_status": st}
                          for n, s, p, c, d, st in rows],
                         columns=cleaning.PROVENANCE + [c.name for c in schemas.MAJOR_WORKS.columns
                                                        if c.type != schemas.SEQ] + ["extra"])
    return typed(frame, schemas.MAJOR_WORKS)


def test_major_works_categories_overdue_and_progress():
    table = major_frame([
        ("银昆高速", "在建", 50_000.0, 40_000.0, pd.Timestamp(2021, 12, 31), "推进中"),
        ("机场改扩建", "前期", None, None, pd.Timestamp(2021, 9, 1), "已批复"),
        ("地下轨道交通", "前期", None, None, pd.Timestamp(2021, 9, 30), "未完成"),
        ("供水一体化", "建成", 10_000.0, 10_000.0, None, None),
    ])
    status = ind.major_works_status(table, make_round())
    cats = dict(zip(status["project_name"], status["category"]))
    assert cats == {"银昆高速": ind.ACCELERATING, "供水一体化": ind.ACCELERATING, "机场改扩建": ind.SUBSTANTIVE,
                    "地下轨道交通": ind.PUSHING}
    assert status.loc[status["milestone_overdue"], "project_name"].tolist() == ["地下轨道交通"]
    assert status.set_index("project_name").loc["银昆高速", "completion_rate_pct"] == pytest.approx(80.0)
    values = ind.major_values(table, make_round())
    assert values["major.accelerating.names"] == ["银昆高速", "供水一体化"] and values["major.pushing.count"] == 1
    assert values["major.construction.completion_rate_pct"] == pytest.approx(50_000 / 60_000 * 100)


# --------------------------------------------------------------------------- the published case, through real files


def test_published_case_through_real_return_files(tmp_path):
    """647.4亿元 planned, 629.0亿元 done by the end of October -> 97.2%, 超过时间进度13.8个百分点."""
    raw = write_round(tmp_path / "data" / "raw" / "pub", ["银川市", "交通运输厅"], as_of="2021-10-31")
    grid, merges = project_sheet([
        project_row(1, "YC1", "银川甲项目", plan="2,000,000", done=1_950_000, total=5_000_000,
                    start=dt.date(2021, 3, 1)),
        project_row(2, "YC2", "银川乙项目", plan=1_000_000, done="９５００００", total=2_000_000, key="是",
                    start=dt.date(2021, 4, 1)),
    ], total=["合计", None, None, None, None, None, None, None, 7_000_000, 3_000_000, 2_900_000])
    write_xlsx(raw / "银川市" / "重大项目进展情况表（10月）.xlsx", {"第一批": grid}, {"第一批": merges})
    write_csv(raw / "附件2.csv", [
        ["2021年第二批集中开工重大项目进展情况表"], ["单位：亿元"],
        ["序号", "项目名称", "批次", "总投资", "年度计划投资", "1-10月完成投资", "是否开工", "开工时间"],
        ["1", "交通丙项目", "第二批", "500", "347.4", "339.0", "√", "2021.5.6"],
        ["填报单位：自治区交通运输厅"],
    ])
    round_ = rounds.load_round("pub", tmp_path)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    assert result.quarantine.empty, result.quarantine
    values = ind.compute_indicators(round_, result.tables)

    assert values["batch.plan_yi"] == pytest.approx(647.4)
    assert values["batch.completed_yi"] == pytest.approx(629.0)
    assert values["time_progress_pct"] == pytest.approx(250 / 3)
    assert values["batch.completion_rate_pct"] == pytest.approx(629.0 / 647.4 * 100)
    assert values["batch.vs_time_progress_pp"] == pytest.approx(629.0 / 647.4 * 100 - 250 / 3)
    assert f"{values['batch.completion_rate_pct']:.1f}" == "97.2"
    assert ind.gap_text(values["batch.vs_time_progress_pp"]) == "超过时间进度13.8个百分点"
    assert (values["batch.projects"], values["batch.started"], values["batch.start_rate_pct"]) == (3, 3, 100.0)
    assert values["key.projects"] == 1 and values["key.completion_rate_pct"] == pytest.approx(95.0)


# --------------------------------------------------------------------------- a whole round through real files


def _sheet(title: str, header: list, rows: list[list], unit: str, unit_row: str | None = None) -> list[list]:
    return [[title], *([[unit_row]] if unit_row else []), header, *rows, [], [f"填报单位：{unit}    填报人：王五"]]


MAJOR_HEADER = ["序号", "工程名称", "牵头单位", "包抓领导", "所处阶段", "总投资", "年度计划投资", "累计完成投资",
                "计划节点", "节点时间", "完成情况", "进展情况", "存在问题"]
ATTRACTION_HEADER = ["序号", "项目名称", "签约时间", "签约方式", "产业类别", "是否延链补链强链", "合同投资额",
                     "本年到位资金", "项目状态"]
INDICATOR_HEADER = ["序号", "指标名称", "计量单位", "本期累计", "上年同期"]


def build_full_round(root: Path, round_id: str = "2021-12", previous: str | None = "2021-09") -> Path:
    """A small round with every kind of return, in real xlsx and csv files, and its previous round."""
    raw = root / "data" / "raw" / round_id
    raw.mkdir(parents=True, exist_ok=True)
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    extra = {"previous": previous} if previous else {}
    write_round(raw, list(UNITS), as_of="2021-11-30", inspection_start=dt.date(2021, 12, 6),
                inspection_end=dt.date(2021, 12, 10), groups=3, **extra)
    yc, merges = project_sheet([
        project_row(1, "P1", "甲项目", key="是", plan=1000, done=900, total=5000),
        project_row(2, "P2", "乙项目", nature="续建", plan=500, done=0, in_stats="否"),
        project_row(3, "P3", "丙项目", batch="第二批", plan=400, done=0, started="否", start=None, in_stats="否"),
    ], footer="填报单位：银川市发展和改革委员会")
    write_xlsx(raw / "银川市" / "项目进展.xlsx", {"项目": yc}, {"项目": merges})
    szs, _ = project_sheet([project_row(1, "P4", "丁项目", key="是", batch="第二批", nature="改扩建", city="石嘴山市",
                                        plan=2000, done=1900, total=9000)], footer="填报单位：石嘴山市")
    write_xlsx(raw / "石嘴山市" / "项目进展.xlsx", {"项目": szs}, {"项目": merges})
    jt, _ = project_sheet([project_row(1, "P5", "戊项目", city="石嘴山市大武口区", plan=100, done=50)],
                          footer="填报单位：交通运输厅")
    write_xlsx(raw / "交通运输厅" / "项目进展.xlsx", {"项目": jt}, {"项目": merges})
    nd, _ = project_sheet([project_row(1, "P6", "己项目", city="宁东基地", plan=600, done=550)],
                          footer="填报单位：宁东基地管委会")
    write_xlsx(raw / "宁东基地" / "项目进展.xlsx", {"项目": nd}, {"项目": merges})

    write_xlsx(raw / "发展改革委" / "十大工程.xlsx", {"十大工程": _sheet("十大工程项目推进情况表", MAJOR_HEADER, [
        [1, "银昆高速宁夏段", "交通运输厅", "张副主席", "在建", 3_000_000, 500_000, 420_000, "主体完工",
         dt.date(2021, 12, 31), "推进中", "路基施工", None],
        [2, "银川河东国际机场改扩建", "发展改革委", "李副主席", "前期", 1_000_000, None, None, "可研批复",
         dt.date(2021, 9, 1), "已批复", "可研已批复", None],
        [3, "银川市城市地下轨道交通", "银川市", "王副主席", "前期", 5_000_000, None, None, "规划报批",
         dt.date(2021, 9, 30), "未完成", "规划编制", "规划待批"],
    ], "发展改革委", "单位：万元")})

    attraction = {
        "银川市": [[1, "枸杞深加工", dt.date(2021, 5, 1), "集中签约", "枸杞", "否", 10_000, 2_000, "开工"],
                 [2, "装备制造园", dt.date(2021, 5, 1), "集中签约", "装备制造", "否", 20_000, 5_000, "签约"],
                 [3, "酒庄项目", dt.date(2021, 6, 1), "单独签约", "葡萄酒", "是", 5_000, 1_000, "开工"]],
        "石嘴山市": [[1, "新材料基地", dt.date(2021, 4, 1), "单独签约", "新材料", "是", 30_000, 3_000, "开工"],
                  [2, "光伏电站", dt.date(2021, 7, 1), "集中签约", "清洁能源", "否", 8_000, 0, "签约"]],
        "宁东基地": [[1, "煤制烯烃配套", dt.date(2021, 3, 1), "单独签约", "新型材料", "是", 100_000, 40_000, "开工"],
                  [2, "氢能项目", dt.date(2021, 8, 1), "单独签约", "清洁能源", "是", 50_000, 20_000, "签约"]],
    }
    for unit, rows in attraction.items():
        write_xlsx(raw / unit / "招商引资.xlsx",
                   {"招商": _sheet("招商引资项目情况表", ATTRACTION_HEADER, rows, unit, "单位：万元")})

    indicator_rows = {
        "发展改革委": [[1, "争取中央预算内资金", "亿元", 12.5, 10], [2, "安排预算内统筹资金", "亿元", 3.2, None],
                  [3, "九大重点产业奖励资金", "亿元", 5, None]],
        "自然资源厅": [[1, "已批准用地项目", "个", 45, None], [2, "通过用地预审项目", "个", 30, None]],
        "宁东基地": [[1, "企业更新改造投资", "亿元", 80, 64], [2, "新增供地", "亩", 1200, None],
                     [3, "招商引资到位资金", "亿元", 60, 50]],
        "银川市": [[1, "兑现奖励资金", "万元", 500, None], [2, "营商环境政策措施方面", "个", 8, None],
                [3, "营商环境改革措施", "条", 50, None], [4, "谋划储备项目", "个", 120, None]],
        "石嘴山市": [[1, "考核奖励资金", "万元", 300, None], [2, "谋划项目", "个", 80, None]],
        "水利厅": [[1, "谋划项目大类", "类", 5, None], [2, "谋划储备项目", "项", 36, None]],
        "交通运输厅": [[1, "储备项目", "个", 8, None], [2, "储备项目总投资", "亿元", 150, None]],
    }
    for unit, rows in indicator_rows.items():
        write_xlsx(raw / unit / "主要指标.xlsx", {"指标": _sheet("主要指标情况表", INDICATOR_HEADER, rows, unit)})

    write_xlsx(raw / "发展改革委" / "固定资产投资.xlsx", {"固投": _sheet("固定资产投资情况", [
        "地区", "月份", "累计完成额（亿元）", "累计增速(%)", "上年同期增速(%)"], [
        ["全区", "1-11月", "1,900.5", "5.2%", "3.1"], ["银川市", "1-11月", 800, -1.0, 2.0]],
        "发展改革委")})

    practices = {
        "银川市": [[1, "压实责任", "银川市压实各级各部门一把手带头抓项目责任"],
                   [2, "推进机制", "银川市完善重大项目三级包抓机制"]],
        "石嘴山市": [[1, "抓项目意识", "石嘴山市出台重点项目管理办法"],
                     [2, "谋划招引", "石嘴山市谋划扩大有效投资新项目"]],
        "宁东基地": [[1, "要素保障", "宁东基地协调解决重点项目土地问题"]],
        "交通运输厅": [[1, "十大工程", "交通运输厅成立银昆高速工作专班"]],
    }
    for unit, rows in practices.items():
        write_xlsx(raw / unit / "典型做法.xlsx",
                   {"做法": _sheet("工作举措与典型做法", ["序号", "板块", "内容"], rows, unit)})

    if previous:
        prev = write_round(root / "data" / "raw" / previous, list(UNITS), as_of="2021-08-31")
        before, _ = project_sheet([
            project_row(1, "P1", "甲项目", key="是", plan=1000, done=600, total=5000),
            project_row(2, "P2", "乙项目", nature="续建", plan=500, done=0, started="否", start=None, in_stats="否"),
            project_row(3, "P3", "丙项目", batch="第二批", plan=400, done=0, started="否", start=None, in_stats="否"),
            project_row(4, None, "丁项目", key="是", batch="第二批", nature="改扩建", plan=2000, done=1000, total=9000),
        ], footer="填报单位：银川市")
        write_xlsx(prev / "银川市" / "项目进展.xlsx", {"项目": before}, {"项目": merges})
    return raw


@pytest.fixture
def full_round(tmp_path):
    build_full_round(tmp_path)
    clean_and_save("2021-09", tmp_path)
    round_ = rounds.load_round("2021-12", tmp_path)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    assert result.quarantine.empty, result.quarantine[["file", "row", "reasons"]].to_string()
    previous = findings.load_previous(round_, tmp_path)
    return round_, result.tables, previous


def test_full_round_hand_computed_figures(full_round):
    round_, tables, previous = full_round
    v = ind.compute_indicators(round_, tables, previous)
    assert (v["inspection.start"], v["inspection.end"], v["inspection.groups"]) == ("2021-12-06", "2021-12-10", 3)
    assert (v["inspection.cities"], v["inspection.bases"], v["inspection.base_names"]) == (2, 1, ["宁东基地"])
    assert v["inspection.departments"] == 4
    assert (v["fai.month"], v["fai.total_yi"], v["fai.yoy_pct"]) == (11, pytest.approx(1900.5), 5.2)
    assert v["fai.accel_pp"] == pytest.approx(2.1)
    assert (v["batch.projects"], v["batch.started"], v["batch.start_base"], v["batch.start_base_started"]) == (
        6, 5, 5, 4)
    assert v["batch.plan_yi"] == pytest.approx(0.46) and v["batch.completed_yi"] == pytest.approx(0.34)
    assert v["batch.completion_rate_pct"] == pytest.approx(3400 / 4600 * 100)
    assert v["batch.vs_time_progress_pp"] == pytest.approx(3400 / 4600 * 100 - 1100 / 12)
    assert (v["key.projects"], v["key.completion_rate_pct"]) == (2, pytest.approx(2800 / 3000 * 100))
    assert v["measures.reward_paid.unit"] == "银川市" and v["measures.reward_paid.wan"] == 500.0
    assert v["measures.renovation.yoy_pct"] == pytest.approx(25.0)
    assert v["support.central_budget.yi"] == pytest.approx(12.5)
    assert v["support.central_budget.yoy_pct"] == pytest.approx(25.0)
    assert v["support.industry_reward.yi"] == pytest.approx(5.0)
    assert (v["land.approved.count"], v["land.prereview.count"], v["land.new_supply.mu"]) == (45.0, 30.0, 1200.0)
    assert (v["business_env.unit"], v["business_env.aspects"], v["business_env.measures"]) == ("银川市", 8.0, 50.0)
    assert (v["planning.water.unit"], v["planning.water.categories"], v["planning.water.projects"]) == (
        "水利厅", 5.0, 36.0)
    assert (v["planning.transport.projects"], v["planning.transport.investment_yi"]) == (8.0, pytest.approx(150.0))
    assert (v["planning.city.unit"], v["planning.city.projects"]) == ("银川市", 120.0)
    assert v["planning.projects_total"] == 244.0
    assert (v["attraction.projects"], v["attraction.signing_city.unit"], v["attraction.busiest_city.unit"]) == (
        7, "银川市", "石嘴山市")
    assert v["attraction.nine_share_pct"] == pytest.approx(600 / 7)
    assert (v["attraction.base.unit"], v["attraction.base.chain_projects"]) == ("宁东基地", 2)
    assert v["attraction.base.funds_yoy_pct"] == pytest.approx(20.0)
    assert v["major.accelerating.names"] == ["银昆高速宁夏段"]
    assert v["major.substantive.names"] == ["银川河东国际机场改扩建"]
    assert v["major.pushing.names"] == ["银川市城市地下轨道交通"]
    assert v["major.overdue.names"] == ["银川市城市地下轨道交通"]
    assert v["practices.awareness.units"] == ["银川市", "石嘴山市"]
    assert v["practices.major_works.units"] == ["交通运输厅"]
    # 乙 (zero investment, not 入统, behind) and 丙 (not started, behind); 戊 at 50% is 41.7 points behind too.
    assert (v["track.projects"], v["track.not_started"], v["track.zero_investment"], v["track.not_in_stats"]) == (
        3, 1, 1, 1)
    assert v["previous.round"] == "2021-09" and v["previous.as_of"] == "2021-08-31"
    assert (v["change.started_since"], v["change.not_started_both"], v["change.new_projects"]) == (1, 1, 2)
    assert v["change.batch.completed_yi"] == pytest.approx(0.34 - 0.16)


def test_indicators_json_is_valid_json_with_nulls_and_reasons(full_round, tmp_path):
    round_, tables, _ = full_round
    values = ind.compute_indicators(round_, {**tables, "fai": tables["fai"].iloc[0:0]}, None)
    path = ind.save_indicators(values, tmp_path / "outputs" / "2021-12")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert list(loaded) == [*ind.KEYS, "notes", "gaps"]
    assert loaded["fai.total_yi"] is None and "固定资产投资" in loaded["notes"]["fai.total_yi"]
    assert loaded["change.batch.start_rate_pp"] is None and "上一轮" in loaded["notes"]["change.batch.start_rate_pp"]
    assert set(loaded["notes"]) == {k for k in ind.KEYS if loaded[k] is None} | set(loaded["data_quality.partial_keys"])
    assert set(loaded["gaps"]) == set(loaded["data_quality.partial_keys"])


def test_report_tables_are_saved_beside_the_clean_tables_without_overwriting_them(full_round, tmp_path):
    round_, tables, previous = full_round
    report = ind.report_tables(round_, tables, previous)
    assert set(report) == set(ind.TABLE_NAMES)  # each checked against its declaration when saved
    assert not set(report) & set(schemas.RETURN_KINDS)
    out = tmp_path / "processed"
    ind.save_tables(report, out)
    loaded = ind.load_report_tables(out)
    assert loaded["by_unit"]["unit"].tolist()[: len(UNITS)] == list(UNITS)
    assert loaded["started_since"]["project_name"].tolist() == ["乙项目"]
    assert loaded["not_started_both"]["project_name"].tolist() == ["丙项目"]
    by_city = loaded["by_city"][loaded["by_city"]["scope"] == ind.SCOPE_ALL].set_index("city")
    assert by_city.index.tolist() == ["银川市", "石嘴山市", "宁东基地"]  # 己项目 (宁东基地) is in the base
    assert by_city.loc["石嘴山市", "projects"] == 2 and by_city.loc["宁东基地", "projects"] == 1
    with pytest.raises(ValueError):
        ind.save_tables({"projects": report["by_unit"]}, out)


def test_a_round_with_no_returns_at_all_gives_reasons_not_errors():
    values = ind.compute_indicators(make_round(), empty_tables(), None)
    assert values["batch.projects"] == 0
    for key in ("batch.start_rate_pct", "batch.completion_rate_pct", "fai.total_yi", "attraction.projects",
                "major.projects", "support.central_budget.yi", "track.projects", "previous.batch.start_rate_pct"):
        assert values[key] is None and values["notes"][key], key
    assert ind.report_tables(make_round(), empty_tables(), None)["by_unit"]["projects"].sum() == 0


# --------------------------------------------------------------------------- the keys are documented


def test_every_key_is_declared_once_as_data_and_the_docs_are_generated_from_it():
    assert len(ind.KEYS) > 100
    for required in ("round", "as_of", "time_progress_pct", "fai.total_yi", "fai.yoy_pct", "fai.accel_pp"):
        assert required in ind.KEYS
    for name in ("projects", "started", "start_rate_pct", "plan_yi", "completed_yi", "completion_rate_pct",
                 "vs_time_progress_pp"):
        assert f"batch.{name}" in ind.KEYS and f"key.{name}" in ind.KEYS
    declared = keys.load()
    assert all(k.section in ind.SECTIONS and k.meaning and k.unit for k in declared.values())
    assert {k.key: k.unit for k in declared.values() if k.key.endswith(("_yi", "_pct", "_pp"))} == {
        key: {"_yi": "亿元", "_pct": "%", "_pp": "百分点"}[key[key.rindex("_"):]]
        for key in declared if key.endswith(("_yi", "_pct", "_pp"))}
    docs = (config.PROJECT_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert keys.with_generated(docs) == docs, "docs/indicators.md is out of date: run make docs"
    listed = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", docs, flags=re.M))
    assert listed >= set(ind.KEYS)
    assert set(ind.TABLE_NAMES) <= set(re.findall(r"`([a-z_]+)`", docs))
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/indicators.md" in readme


def test_the_keys_load_without_docstrings():
    """python -OO strips docstrings: the declaration is data, so the key list survives."""
    code = "from pipeline import indicators as ind; print(len(ind.KEYS), len(ind.SECTIONS))"
    out = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(ind.KEYS)), str(len(ind.SECTIONS))]


def test_every_table_is_documented():
    docs = (config.PROJECT_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    for name in ind.TABLE_NAMES:
        assert f"### `{name}` " in docs, name


# --------------------------------------------------------------------------- the seed: every redacted number has a key

# The seed report's sentences with their redacted runs (X, XX, XXX), and for each run, in order, the
# indicators.json key that fills it. QUOTED marks a run inside a unit's own 典型做法 text, which the
# report quotes as written (宝丰XX万吨, 抢抓XX列入…): not a figure the pipeline computes.
QUOTED = "(quoted from the practice text)"
SEED_SLOTS: dict[str, list[tuple[str, list[str]]]] = {
    "开头": [
        ("12月X日—X日，自治区政府督查室会同党委督查室、发展改革委，组成X个督查组，深入X个地级市、XX基地和相关区直部门",
         ["inspection.start", "inspection.end", "inspection.groups", "inspection.cities", "inspection.base_names"]),
    ],
    "一、总体情况": [
        ("全区固定资产投资完成XXX亿元，同比增长XX％，比上年同期加快XX个百分点",
         ["fai.total_yi", "fai.yoy_pct", "fai.accel_pp"]),
        ("两批次集中开工重大项目XXX个，开工率XX％，完成投资XXX亿元，投资完成率XX％",
         ["batch.projects", "batch.start_rate_pct", "batch.completed_yi", "batch.completion_rate_pct"]),
        ("XX个重点项目开工率XX％，投资完成率XX％", ["key.projects", "key.start_rate_pct", "key.completion_rate_pct"]),
    ],
    "（一）抓项目的意识逐步提高": [
        ("XX市压实各级各部门一把手带头抓项目责任，XX市出台重点项目管理办法",
         ["practices.awareness.units", "practices.awareness.units"]),
    ],
    "（二）项目推进措施不断优化": [
        ("XX市完善重大项目三级包抓、专班推进、定期调度工作机制，XX市建立会商制度",
         ["practices.measures.units", "practices.measures.units"]),
        ("XX市“清单式”管理抓开工", ["practices.measures.units"]),
        ("XX市安排专项资金对项目推进较快的县区和市直部门进行考核奖励，一季度兑现奖励资金XXX万元",
         ["measures.reward_paid.unit", "measures.reward_paid.wan"]),
        ("XX基地紧盯节点抓进度，定期调度项目进展，企业更新改造投资同比增长XX％",
         ["measures.renovation.unit", "measures.renovation.yoy_pct"]),
    ],
    "（三）项目要素保障持续跟进": [
        ("设立X亿元奖励资金支持重点产业发展", ["support.industry_reward.yi"]),
        ("发展改革委争取中央预算内资金XX亿元，同比增长XX％，安排预算内统筹资金XX亿元",
         ["support.central_budget.yi", "support.central_budget.yoy_pct", "support.budget_coordination.yi"]),
        ("已批准用地项目XX个，通过用地预审项目XX个", ["land.approved.count", "land.prereview.count"]),
        ("XX市出台优化营商环境3.0版政策措施，明确XX个方面XX条改革措施",
         ["business_env.unit", "business_env.aspects", "business_env.measures"]),
        ("XX市积极解决中国电信数据中心", ["practices.support.units"]),
        ("XX基地协调解决宝丰XX万吨煤制烯烃、晓星氨纶等多个重点项目土地问题，新增供地XXX亩",
         ["land.new_supply.unit", QUOTED, "land.new_supply.mu"]),
    ],
    "（四）项目谋划招引有序开展": [
        ("谋划重大水利项目X大类XX项", ["planning.water.categories", "planning.water.projects"]),
        ("下半年计划开工储备项目X个，总投资XX亿元",
         ["planning.transport.projects", "planning.transport.investment_yi"]),
        ("农业农村厅抢抓XX列入国家葡萄及葡萄酒产业开放发展综合试验区重大机遇", [QUOTED]),
        ("XX市谋划扩大有效投资强后劲新项目XXX个", ["planning.city.unit", "planning.city.projects"]),
        ("截至X月底，全区实施招商引资合同项目XXX个", ["as_of_month", "attraction.projects"]),
        ("XX市组织开展全民招商月活动，集中签约XX个，总投资XX亿元，其中“九大产业”项目占比达到XX％以上",
         ["attraction.signing_city.unit", "attraction.signing_city.projects", "attraction.signing_city.contract_yi",
          "attraction.signing_city.nine_share_pct"]),
        ("XX市完善招商引资项目管家服务，成立工作专班对接项目落地，实施招商引资项目XXX个",
         ["attraction.busiest_city.unit", "attraction.busiest_city.projects"]),
        ("XX基地围绕清洁能源、新型材料等产业，新引进延链补链强链项目XX个，招商引资到位资金XXX亿元，同比增长XX％以上",
         ["attraction.base.unit", "attraction.base.chain_projects", "attraction.base.funds_in_place_yi",
          "attraction.base.funds_yoy_pct"]),
    ],
    "（五）“十大工程项目”稳步推进": [
        ("银昆高速XX段、“三山”生态保护和修复工程、城乡供水一体化工程加快推进", ["major.accelerating.names"]),
        ("XX河东国际机场改扩建项目、青铜峡抽水蓄能电站、XX至华中特高压直流输电及配套新能源项目、黄河XX段治理工程等项目前期工作取得实质性进展",
         ["major.substantive.names"] * 3),
        ("黄河XX河段开发、XX至太原高铁、XX市城市地下轨道交通项目前期工作加紧推进", ["major.pushing.names"] * 3),
    ],
}
SEED_FILE = config.PROJECT_ROOT.parent / "shared" / "seed" / "000_aadd1571eb43910b.txt"
REDACTED = re.compile(r"X+")


@pytest.mark.parametrize("section", list(SEED_SLOTS))
def test_each_redacted_run_of_the_seed_has_a_key(section):
    for sentence, slot_keys in SEED_SLOTS[section]:
        assert len(REDACTED.findall(sentence)) == len(slot_keys), sentence
        for key in slot_keys:
            assert key == QUOTED or key in ind.KEYS, key


def test_the_slot_list_covers_the_whole_seed():
    if not SEED_FILE.is_file():
        pytest.skip(f"the seed report is not beside this checkout ({SEED_FILE})")
    text = SEED_FILE.read_text(encoding="utf-8")
    sentences = [s for slots in SEED_SLOTS.values() for s, _ in slots]
    for sentence in sentences:
        assert sentence in text, sentence
    assert len(REDACTED.findall(text)) == sum(len(REDACTED.findall(s)) for s in sentences)


def test_every_seed_key_has_a_value_for_a_full_round(full_round):
    round_, tables, previous = full_round
    values = ind.compute_indicators(round_, tables, previous)
    missing = {key: values["notes"].get(key) for slots in SEED_SLOTS.values() for _, keys in slots for key in keys
               if key != QUOTED and values[key] in (None, [])}
    assert not missing, missing


# --------------------------------------------------------------------------- round.yml: the inspection keys


def test_round_yml_inspection_keys(tmp_path):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市"], inspection_start="2021-12-06",
                inspection_end=dt.date(2021, 12, 10), groups=5)
    round_ = rounds.load_round("r", tmp_path)
    assert (round_.inspection_start, round_.inspection_end, round_.groups) == (
        dt.date(2021, 12, 6), dt.date(2021, 12, 10), 5)
    assert rounds.parse_round("r", {"as_of": "2021-11-30", "units": ["银川市"]}, tmp_path).groups is None


@pytest.mark.parametrize("extra, message", [
    ({"inspection_start": "12月6日"}, "inspection_start（督查开始日期）不是有效日期"),
    ({"inspection_start": "2021-12-10", "inspection_end": "2021-12-06"}, "早于"),
    ({"groups": 0}, "groups（督查组数）应为正整数"),
    ({"groups": "五"}, "groups（督查组数）应为正整数"),
])
def test_round_yml_inspection_keys_are_checked(tmp_path, extra, message):
    with pytest.raises(rounds.RoundError, match=re.escape(message)):
        rounds.parse_round("r", {"as_of": "2021-11-30", "units": ["银川市"], **extra}, tmp_path)
