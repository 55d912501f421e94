"""三色预警: each rule at and around its thresholds, the worst-of rule, rules that cannot be judged, the
counts in indicators.json, the lights in the 督办清单 (filled cells) and the counts against the previous round."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from test_indicators import empty_tables, make_round, projects_frame

from pipeline import indicators as ind
from pipeline.conventions import Conventions, WarningThresholds, parse_conventions
from pipeline.indicators import early_warning as ew
from pipeline.indicators import findings

AS_OF = dt.date(2022, 8, 31)  # 时间进度 8/12 = 66.67%
DEFAULT = Conventions()


# --------------------------------------------------------------------------- whole months


@pytest.mark.parametrize("start, end, months", [
    (dt.date(2022, 3, 15), dt.date(2022, 5, 15), 2),
    (dt.date(2022, 3, 15), dt.date(2022, 5, 14), 1),
    (dt.date(2022, 5, 31), dt.date(2022, 8, 31), 3),
    (dt.date(2022, 5, 31), dt.date(2022, 6, 30), 1),  # a cut-off on the month's last day reaches any day
    (dt.date(2021, 11, 20), dt.date(2022, 2, 28), 3),
    (dt.date(2022, 8, 1), dt.date(2022, 8, 31), 0),
])
def test_whole_months(start, end, months):
    assert ew.whole_months(start, end) == months


# --------------------------------------------------------------------------- rule 1: 开工滞后


@pytest.mark.parametrize("planned, light, words", [
    (dt.date(2022, 8, 10), ew.YELLOW, ["计划2022年8月10日开工", "已滞后不足1个月", "计划开工时间已过，黄"]),
    (dt.date(2022, 6, 1), ew.YELLOW, ["已滞后2个月（计划开工时间已过，黄）"]),
    (dt.date(2022, 5, 31), ew.RED, ["已滞后3个月（达到3个月，红）"]),  # exactly 3 months: red
    (dt.date(2022, 6, 1), ew.YELLOW, ["黄"]),  # 2 months and 30 days: still yellow
    (dt.date(2021, 12, 1), ew.RED, ["已滞后8个月", "红"]),
    (dt.date(2022, 8, 31), None, []),  # planned for the cut-off day itself: not late yet
    (dt.date(2022, 10, 1), None, []),
])
def test_start_late_rule_and_its_thresholds(planned, light, words):
    result = ew.start_late_rule(False, pd.Timestamp(planned), AS_OF, DEFAULT)
    assert result.light == light and result.judged
    for word in words:
        assert word in result.reason, result.reason


def test_start_late_rule_uses_the_thresholds_of_round_yml():
    strict = parse_conventions({"warning": {"start_late_yellow_months": 1, "start_late_red_months": 2}})
    assert ew.start_late_rule(False, dt.date(2022, 8, 10), AS_OF, strict).light is None  # under a month: not yet
    assert ew.start_late_rule(False, dt.date(2022, 7, 10), AS_OF, strict).reason.endswith("（达到1个月，黄）")
    assert ew.start_late_rule(False, dt.date(2022, 6, 30), AS_OF, strict).light == ew.RED


def test_start_late_rule_not_judged_without_a_planned_start_and_silent_once_started():
    result = ew.start_late_rule(False, None, AS_OF, DEFAULT)
    assert (result.light, result.judged, result.reason) == (None, False, "无计划开工时间，未判断开工是否滞后")
    assert ew.start_late_rule(False, pd.NaT, AS_OF, DEFAULT).reason == ew.NO_PLANNED_START
    assert ew.start_late_rule(True, None, AS_OF, DEFAULT) == ew.NOT_FIRED


# --------------------------------------------------------------------------- rule 2: 进度滞后


@pytest.mark.parametrize("gap, light, reason", [
    (-34.2, ew.RED, "投资完成率低于时间进度34.2个百分点（超过30，红）"),  # the example
    (-30.04, ew.RED, "投资完成率低于时间进度30.0个百分点（超过30，红）"),  # more than 30 before rounding
    (-30.0, ew.YELLOW, "投资完成率低于时间进度30.0个百分点（10—30，黄）"),  # exactly 30: not more than 30
    (-10.0, ew.YELLOW, "投资完成率低于时间进度10.0个百分点（10—30，黄）"),
    (-9.99, None, ""),
    (5.0, None, ""),
])
def test_behind_rule_and_its_thresholds(gap, light, reason):
    result = ew.behind_rule(66.67 + gap, gap, DEFAULT)
    assert (result.light, result.reason) == (light, reason)


def test_behind_rule_words_decimals_and_thresholds_follow_the_conventions():
    conv = parse_conventions({"progress_words": ["快于", "慢于"], "time_progress_name": "序时进度", "decimals": 2,
                              "warning": {"behind_yellow_pp": 5, "behind_red_pp": 15}})
    assert ew.behind_rule(60.0, -16.005, conv).reason == "投资完成率慢于序时进度16.01个百分点（超过15，红）"
    assert ew.behind_rule(60.0, -5.0, conv).reason == "投资完成率慢于序时进度5.00个百分点（5—15，黄）"


def test_behind_rule_not_judged_without_an_annual_plan():
    result = ew.behind_rule(None, None, DEFAULT)
    assert (result.light, result.judged, result.reason) == (None, False, "无年度计划投资，未判断投资进度是否滞后")
    assert ew.behind_rule(float("nan"), float("nan"), DEFAULT).judged is False


# --------------------------------------------------------------------------- rule 3: 入统滞后


@pytest.mark.parametrize("start, light, words", [
    (dt.date(2022, 8, 1), None, []),  # started this month: not yet a month
    (dt.date(2022, 7, 31), ew.YELLOW, ["2022年7月31日开工，1个月仍未入统（达到1个月，黄）"]),
    (dt.date(2022, 6, 30), ew.RED, ["2个月仍未入统（达到2个月，红）"]),
    (dt.date(2022, 3, 1), ew.RED, ["5个月仍未入统"]),
])
def test_stats_rule_and_its_thresholds(start, light, words):
    result = ew.stats_rule(True, False, pd.Timestamp(start), AS_OF, DEFAULT)
    assert result.light == light
    for word in words:
        assert word in result.reason, result.reason


def test_stats_rule_inputs_missing_or_not_applicable():
    assert ew.stats_rule(True, False, None, AS_OF, DEFAULT).reason == "无开工时间，未判断入统是否滞后"
    rule = ew.stats_rule(True, pd.NA, dt.date(2022, 1, 1), AS_OF, DEFAULT)
    assert rule.reason == "未填报是否入统，未判断入统是否滞后"
    assert ew.stats_rule(True, True, dt.date(2022, 1, 1), AS_OF, DEFAULT) == ew.NOT_FIRED
    assert ew.stats_rule(False, False, None, AS_OF, DEFAULT) == ew.NOT_FIRED
    lenient = Conventions(warning=WarningThresholds(stats_yellow_months=2, stats_red_months=4))
    assert ew.stats_rule(True, False, dt.date(2022, 6, 30), AS_OF, lenient).light == ew.YELLOW


# --------------------------------------------------------------------------- a project's light: the worst of its rules


def test_worst_of():
    assert ew.worst([None, ew.YELLOW, ew.RED]) == ew.RED
    assert ew.worst([ew.YELLOW, None]) == ew.YELLOW
    assert ew.worst([None, None]) == ew.GREEN and ew.worst([]) == ew.GREEN


def light_projects() -> pd.DataFrame:
    """Hand-computed lights at 2022-08-31 (时间进度 66.67%), annual plan 100 each.

    | 项目 | 开工 | 计划开工 | 开工时间 | 入统 | 完成 | rules fired → light |
    | 甲 | 否 | 2022-04-30 | — | — | 0 | start 红 (4 months), behind 红 (66.7) → 红 |
    | 乙 | 是 | — | 2022-07-20 | 否 | 60 | stats 黄 (1 month); behind 6.7: no → 黄 |
    | 丙 | 是 | — | 2022-01-10 | 是 | 50 | behind 16.7 → 黄 |
    | 丁 | 是 | — | 2022-02-01 | 是 | 70 | none → 绿 |
    | 戊 | 否 | — | — | — | 0 | start not judged, behind 红 → 红 |
    | 己 | 是 | — | — | 否 | 0, plan 0 | behind and stats not judged → 绿 |
    """
    rows = [
        {"project_name": "甲", "started": False, "planned_start_date": dt.date(2022, 4, 30), "in_stats": None,
         "completed": 0.0},
        {"project_name": "乙", "started": True, "start_date": dt.date(2022, 7, 20), "in_stats": False,
         "completed": 60.0},
        {"project_name": "丙", "started": True, "start_date": dt.date(2022, 1, 10), "completed": 50.0,
         "unit": "石嘴山市"},
        {"project_name": "丁", "started": True, "start_date": dt.date(2022, 2, 1), "completed": 70.0,
         "unit": "石嘴山市"},
        {"project_name": "戊", "started": False, "in_stats": None, "completed": 0.0, "unit": "交通运输厅"},
        {"project_name": "己", "started": True, "in_stats": False, "completed": 0.0, "annual_plan": 0.0,
         "unit": "交通运输厅"},
    ]
    return projects_frame(rows)


def test_each_project_gets_the_worst_light_with_every_reason():
    progress = findings.project_progress(light_projects(), make_round(as_of=AS_OF)).set_index("project_name")
    assert progress["warning"].to_dict() == {"甲": "红", "乙": "黄", "丙": "黄", "丁": "绿", "戊": "红", "己": "绿"}
    assert progress.loc["甲", "warning_reasons"] == ("计划2022年4月30日开工，截至2022年8月31日仍未开工，"
                                                   "已滞后4个月（达到3个月，红）；"
                                                   "投资完成率低于时间进度66.7个百分点（超过30，红）")
    assert progress.loc["乙", "warning_reasons"] == "2022年7月20日开工，1个月仍未入统（达到1个月，黄）"
    assert progress.loc["丙", "warning_reasons"] == "投资完成率低于时间进度16.7个百分点（10—30，黄）"
    assert progress.loc["丁", "warning_reasons"] == "" and progress.loc["丁", "warning_not_judged"] == ""
    assert progress.loc["戊", "warning_not_judged"] == "无计划开工时间，未判断开工是否滞后"
    assert progress.loc["己", "warning_not_judged"] == ("无年度计划投资，未判断投资进度是否滞后；"
                                                      "无开工时间，未判断入统是否滞后")


def edge_progress() -> pd.DataFrame:
    """Projects at the edges of the quiet path (ew.quiet_projects): gaps exactly at the thresholds (10 and 30
    points behind, default conventions), just inside them, ahead of time progress; 入统 blank, 否 and 是; started
    or not; no plan (NaN rate) or a rate without a gap."""
    rows = []
    for gap in (-30.0, -30.000001, -10.0, -9.999999, -0.0, 0.0, 25.5, float("nan")):
        for in_stats in (True, False, None):
            for started in (True, False):
                rows.append({"started": started, "planned_start_date": dt.date(2022, 5, 1),
                             "start_date": dt.date(2022, 3, 1) if started else None, "in_stats": in_stats,
                             "completion_rate_pct": 66.0 + gap, "vs_time_progress_pp": gap})
    rows.append({"started": True, "planned_start_date": None, "start_date": None, "in_stats": True,
                 "completion_rate_pct": float("nan"), "vs_time_progress_pp": 5.0})
    frame = pd.DataFrame(rows)
    return frame.astype({"in_stats": "boolean", "completion_rate_pct": "float64", "vs_time_progress_pp": "float64"})


@pytest.mark.parametrize("conv", [DEFAULT, parse_conventions({"decimals": 2, "warning": {"behind_yellow_pp": 0,
                                                                                          "behind_red_pp": 10}})])
def test_the_quiet_path_gives_what_the_rules_give_one_by_one(conv):
    progress = edge_progress()
    lights = ew.project_lights(progress, AS_OF, conv)
    one_by_one = [ew.project_light(r, AS_OF, conv) for r in progress.itertuples(index=False)]
    assert [tuple(r) for r in lights.itertuples(index=False)] == one_by_one
    quiet = ew.quiet_projects(progress, conv)
    assert 0 < quiet.sum() < len(progress)  # both paths were taken
    assert all(one_by_one[i] == ew.QUIET for i in range(len(progress)) if quiet[i])


def test_columns_of_other_types_take_the_rules_one_by_one():
    progress = edge_progress().astype({"vs_time_progress_pp": object})
    assert not ew.quiet_projects(progress, DEFAULT).any()
    lights = ew.project_lights(progress, AS_OF, DEFAULT)
    assert [tuple(r) for r in lights.itertuples(index=False)] == [
        ew.project_light(r, AS_OF, DEFAULT) for r in progress.itertuples(index=False)]


def test_warning_counts_and_by_unit_in_indicators_json():
    round_ = make_round(as_of=AS_OF)
    values = ind.compute_indicators(round_, {**empty_tables(), "projects": light_projects()})
    assert (values["warning.red"], values["warning.yellow"], values["warning.green"]) == (2, 2, 2)
    by_unit = {r["unit"]: (r["red"], r["yellow"], r["green"]) for r in values["warning.by_unit"]}
    assert by_unit["银川市"] == (1, 1, 0) and by_unit["石嘴山市"] == (0, 1, 1) and by_unit["交通运输厅"] == (1, 0, 1)
    assert by_unit["宁东基地"] == (0, 0, 0)  # every unit of round.yml is listed
    assert [r["unit"] for r in values["warning.by_unit"]][:3] == ["银川市", "石嘴山市", "宁东基地"]


def test_no_projects_no_lights_and_the_reason():
    values = ind.compute_indicators(make_round(), empty_tables())
    assert values["warning.red"] is None and values["notes"]["warning.red"] == "本轮未收到重大项目进展情况表"


def test_supervision_list_has_filled_lights_reasons_and_counts_per_unit(tmp_path):
    round_ = make_round(as_of=AS_OF)
    report = ind.report_tables(round_, {**empty_tables(), "projects": light_projects()})
    path = findings.write_supervision_list(report["track_list"], round_, tmp_path, report["project_lights"])
    book = openpyxl.load_workbook(path)
    summary = {r[0]: r for r in book["汇总"].iter_rows(min_row=3, values_only=True)}
    header = [c.value for c in book["汇总"][2]]
    assert header[-3:] == ["红色预警", "黄色预警", "绿色"]
    assert summary["银川市"][-3:] == (1, 1, 0) and summary["石嘴山市"][-3:] == (0, 1, 1)
    warned = book["预警项目"]
    head = [c.value for c in warned[2]]
    col = head.index("预警") + 1
    cells = {warned.cell(row=r, column=head.index("项目名称") + 1).value: warned.cell(row=r, column=col)
             for r in range(3, warned.max_row + 1)}
    assert set(cells) == {"甲", "乙", "丙", "戊"}  # red and yellow only
    assert cells["甲"].value == "红" and cells["甲"].fill.fgColor.rgb == "FF" + ew.LIGHT_COLORS[ew.RED].lstrip("#")
    assert cells["乙"].value == "黄" and cells["乙"].fill.fgColor.rgb == "FF" + ew.LIGHT_COLORS[ew.YELLOW].lstrip("#")
    assert cells["甲"].data_type == "s"
    name_column, reason_column = head.index("项目名称") + 1, head.index("预警原因") + 1
    reasons = {warned.cell(row=r, column=name_column).value: warned.cell(row=r, column=reason_column).value
               for r in range(3, warned.max_row + 1)}
    assert reasons["戊"] == "投资完成率低于时间进度66.7个百分点（超过30，红）；无计划开工时间，未判断开工是否滞后"
    unit_sheet = book["交通运输厅"]
    head = [c.value for c in unit_sheet[2]]
    lights = [unit_sheet.cell(row=r, column=head.index("预警") + 1) for r in range(3, unit_sheet.max_row + 1)]
    assert {c.value for c in lights} == {"红", "绿"}
    assert all(c.fill.fgColor.rgb == "FF" + ew.LIGHT_COLORS[c.value].lstrip("#") for c in lights)


# --------------------------------------------------------------------------- against the previous round


def test_light_changes_count_better_and_worse_lights():
    now = pd.Series(["黄", "绿", "黄", "红", "绿", "红", None])
    before = pd.Series(["红", "红", "绿", "黄", "绿", None, "红"])
    assert ew.light_changes(now, before) == (2, 2)  # 红→黄, 红→绿 better; 绿→黄, 黄→红 worse; unmatched not counted


def test_round_over_round_counts_and_rank_change():
    """The previous round (2022-07-31, 时间进度 58.33%): 甲 红 (not started, 58.3 behind) → still 红;
    乙 红 (started, 0 done) → 黄; 丙 绿 (60 done) → 黄; 丁 黄 (40 done, 18.3 behind) → 绿; 戊 new.
    Improving: 乙, 丁 = 2; worsening: 丙 = 1."""
    prev_rows = [
        {"project_name": "甲", "started": False, "completed": 0.0},
        {"project_name": "乙", "started": True, "start_date": dt.date(2022, 7, 20), "completed": 0.0},
        {"project_name": "丙", "started": True, "completed": 60.0, "unit": "石嘴山市"},
        {"project_name": "丁", "started": True, "completed": 40.0, "unit": "石嘴山市"},
        {"project_name": "己", "started": True, "completed": 90.0, "unit": "交通运输厅"},
    ]
    prev_round = make_round(as_of=dt.date(2022, 7, 31))
    previous = findings.Previous("2022-07", prev_round, {**empty_tables(), "projects": projects_frame(prev_rows)})
    values = ind.compute_indicators(make_round(as_of=AS_OF), {**empty_tables(), "projects": light_projects()}, previous)
    assert (values["change.warning.improving"], values["change.warning.worsening"]) == (2, 1)
    ranks = {r["unit"]: r for r in values["change.ranking"]}
    # before: 交通运输厅 (90%) 1st, 银川市 (0% done, 50% started) 3rd… recomputed from the same rule as this round
    before = findings.unit_ranking(projects_frame(prev_rows), prev_round).set_index("unit")["rank"]
    now = findings.unit_ranking(light_projects(), make_round(as_of=AS_OF)).set_index("unit")["rank"]
    for unit, r in ranks.items():
        assert (r["rank"], r["previous_rank"]) == (now[unit], before[unit])
        assert r["change"] == before[unit] - now[unit]
        assert r["trend"] == ("持平" if r["change"] == 0
                              else ("上升" if r["change"] > 0 else "下降") + f"{abs(r['change'])}位")
    assert {r["trend"][:2] for r in ranks.values()} >= {"上升", "下降"}


def test_rank_trend_words():
    assert findings.rank_trend(2, 5) == "上升3位"
    assert findings.rank_trend(4, 1) == "下降3位"
    assert findings.rank_trend(3, 3) == "持平"
    assert findings.rank_trend(3, None) == "" and findings.rank_trend(pd.NA, 2) == ""


def test_without_a_previous_round_the_changes_are_null_with_the_reason():
    values = ind.compute_indicators(make_round(as_of=AS_OF), {**empty_tables(), "projects": light_projects()})
    for key in ("change.warning.improving", "change.warning.worsening", "change.ranking"):
        assert values[key] is None and "上一轮" in values["notes"][key]
