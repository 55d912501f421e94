"""Findings: projects to track, rankings, 通报 candidates, round-over-round changes and the 督办清单 workbook."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from conftest import clean_and_save
from test_indicators import build_full_round, empty_tables, make_round, projects_frame

from pipeline import indicators as ind
from pipeline import rounds, schemas
from pipeline.indicators import findings
from pipeline.ingest import cleaning

OCT = dt.date(2021, 10, 31)  # 时间进度 83.33%


# --------------------------------------------------------------------------- projects to track


def test_each_reason_to_track_a_project():
    projects = projects_frame([
        {"project_name": "好", "annual_plan": 100.0, "completed": 80.0},
        {"project_name": "未开工", "started": False, "annual_plan": 100.0, "completed": 0.0, "in_stats": False},
        {"project_name": "零投资", "annual_plan": 100.0, "completed": 0.0},
        {"project_name": "未入统", "annual_plan": 100.0, "completed": 90.0, "in_stats": False},
        {"project_name": "入统未填", "annual_plan": 100.0, "completed": 90.0, "in_stats": None},
        {"project_name": "滞后", "annual_plan": 100.0, "completed": 63.0},  # 63 − 83.3 = −20.3 points
        {"project_name": "刚好", "annual_plan": 100.0, "completed": 64.0},  # −19.3: within the margin
        {"project_name": "无计划", "annual_plan": 0.0, "completed": 5.0},
    ])
    track = findings.track_list(projects, make_round(as_of=OCT)).set_index("project_name")
    assert set(track.index) == {"未开工", "零投资", "未入统", "滞后"}
    assert track.loc["未开工", "reasons"].startswith("未开工；投资完成率0.0%，低于时间进度83.3个百分点")
    assert not track.loc["未开工", "not_in_stats"]  # 入统 is asked of started projects only
    assert track.loc["零投资", "zero_investment"] and "真实开工" in track.loc["零投资", "reasons"]
    assert track.loc["未入统", "reasons"] == findings.REASON_NOT_IN_STATS
    assert track.loc["滞后", "behind"] and track.loc["滞后", "vs_time_progress_pp"] == pytest.approx(63 - 250 / 3)
    assert "低于时间进度20.3个百分点（滞后超过20个百分点）" in track.loc["滞后", "reasons"]


def test_the_margin_comes_from_round_yml_and_the_list_is_grouped_by_unit():
    projects = projects_frame([
        {"unit": "交通运输厅", "project_name": "甲", "annual_plan": 100.0, "completed": 75.0},
        {"unit": "银川市", "project_name": "乙", "annual_plan": 100.0, "completed": 75.0},
        {"unit": "银川市", "project_name": "丙", "started": False, "completed": 0.0},
    ])
    assert findings.track_list(projects, make_round(as_of=OCT))["project_name"].tolist() == ["丙"]
    track = findings.track_list(projects, make_round(as_of=OCT, behind_margin_pp=5))
    assert track["unit"].tolist() == ["银川市", "银川市", "交通运输厅"]  # round.yml order
    assert track["project_name"].tolist() == ["丙", "乙", "甲"]  # two reasons before one


def test_no_projects_no_list():
    track = findings.track_list(projects_frame([]), make_round())
    assert track.empty and list(track.columns) == findings.TRACK_COLUMNS


# --------------------------------------------------------------------------- ranking and 通报


def test_composite_score():
    assert findings.composite_score(80.0, 60.0) == 70.0
    assert findings.composite_score(100.0, 130.0) == 100.0  # over-completion does not count beyond 100
    assert findings.composite_score(None, 60.0) == 60.0
    assert findings.composite_score(None, None) is None


def ranked_units() -> pd.DataFrame:
    rows = []
    # (unit, started, not started, plan, completed): 银川 best … 自然资源厅 worst; 水利厅 has no project.
    for unit, started, idle, plan, done in [("银川市", 4, 0, 400.0, 380.0), ("石嘴山市", 3, 1, 400.0, 360.0),
                                            ("宁东基地", 4, 0, 400.0, 200.0), ("发展改革委", 2, 2, 400.0, 300.0),
                                            ("交通运输厅", 1, 3, 400.0, 100.0), ("自然资源厅", 1, 3, 400.0, 40.0)]:
        rows += [{"unit": unit, "started": True, "annual_plan": plan / (started + idle),
                  "completed": done / started}] * started
        rows += [{"unit": unit, "started": False, "annual_plan": plan / (started + idle), "completed": 0.0}] * idle
    return projects_frame([{**r, "project_name": f"{r['unit']}{i}"} for i, r in enumerate(rows)])


def test_unit_ranking_showcase_and_exposure():
    ranking = findings.unit_ranking(ranked_units(), make_round(as_of=OCT))
    scores = dict(zip(ranking["unit"], ranking["score"]))
    assert scores["银川市"] == pytest.approx((100 + 95) / 2)
    assert scores["宁东基地"] == pytest.approx((100 + 50) / 2)
    assert ranking["unit"].tolist() == ["银川市", "石嘴山市", "宁东基地", "发展改革委", "交通运输厅", "自然资源厅",
                                        "水利厅"]
    assert ranking["rank"].tolist()[:6] == [1, 2, 3, 4, 5, 6] and pd.isna(ranking["rank"].iloc[6])
    assert ranking["board"].tolist() == ["展示台"] * 3 + ["曝光台"] * 3 + [""]
    assert ranking.iloc[6]["note"] == "无项目，不参与排名"
    values = findings.finding_values(ranked_units(), make_round(as_of=OCT))
    assert values["ranking.showcase"] == ["银川市", "石嘴山市", "宁东基地"]
    assert values["ranking.exposure"] == ["发展改革委", "交通运输厅", "自然资源厅"]


def test_few_units_are_not_on_both_boards():
    projects = projects_frame([{"unit": "银川市"}, {"unit": "石嘴山市", "completed": 10.0}])
    ranking = findings.unit_ranking(projects, make_round())
    assert ranking.loc[ranking["rank"].notna(), "board"].tolist() == ["展示台", "展示台"]


def test_notify_candidates_trail_time_progress_by_more_than_the_margin():
    notify = findings.notify_list(ranked_units(), make_round(as_of=OCT))
    # 交通运输厅 25% and 自然资源厅 10% trail 83.3% by more than 20 points; 宁东基地 at 50% too.
    assert notify["unit"].tolist() == ["自然资源厅", "交通运输厅", "宁东基地"]
    first = notify.iloc[0]
    assert first["vs_time_progress_pp"] == pytest.approx(10 - 250 / 3)
    assert first["catch_up_yi"] == pytest.approx(0.04 * (250 / 3) / 100 - 0.004)  # 亿元 to reach 时间进度
    assert first["remaining_yi"] == pytest.approx(0.036)
    assert "有完不成年度目标任务的风险" in first["reason"]


# --------------------------------------------------------------------------- the previous round


def test_match_by_code_then_by_name():
    now = projects_frame([{"project_code": "P1", "project_name": "甲"},
                          {"project_code": "P2", "project_name": "乙（一期）"},
                          {"project_code": None, "project_name": "丙"}, {"project_code": "P9", "project_name": "新"}])
    before = projects_frame([{"project_code": "P1", "project_name": "甲改名", "started": False},
                             {"project_code": None, "project_name": "乙(一期)", "started": False, "completed": 7.0},
                             {"project_code": "P3", "project_name": "丙", "started": True}])
    matched = findings.match_previous(now, before)
    assert matched["prev_started"].tolist()[:3] == [False, False, True]
    assert pd.isna(matched["prev_started"].iloc[3]) and matched["prev_completed_wan"].iloc[1] == 7.0


def test_no_previous_round_says_so():
    previous = findings.load_previous(make_round(), None)
    assert previous.tables is None and "previous" in previous.note
    values = findings.change_values(projects_frame([{}]), make_round(), previous)
    assert all(isinstance(v, ind.Missing) for v in values.values())
    assert findings.started_since(projects_frame([{}]), previous).empty
    assert findings.rate_changes(projects_frame([{}]), make_round(), previous).empty


def test_previous_round_folder_missing(tmp_path):
    round_ = make_round(previous="2021-09")
    previous = findings.load_previous(round_, tmp_path)
    assert previous.id == "2021-09" and previous.tables is None and "找不到上一轮 2021-09" in previous.note
    values = ind.compute_indicators(round_, {**empty_tables(), "projects": projects_frame([{}])}, previous)
    assert values["previous.round"] == "2021-09" and values["change.batch.start_rate_pp"] is None
    assert "找不到上一轮" in values["notes"]["change.batch.start_rate_pp"]


def test_previous_round_read_from_its_clean_tables_and_compared(tmp_path):
    build_full_round(tmp_path)
    clean_and_save("2021-09", tmp_path)
    round_ = rounds.load_round("2021-12", tmp_path)
    tables = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None).tables
    previous = findings.load_previous(round_, tmp_path)
    assert previous.round.as_of == dt.date(2021, 8, 31) and len(previous.projects) == 4
    changes = findings.rate_changes(tables["projects"], round_, previous).set_index("unit")
    assert changes.loc["全区", "projects"] == 6 and changes.loc["全区", "prev_projects"] == 4
    # 全区 before: 甲 and 丁 started of 甲, 丙, 丁 (乙 is 续建); now 4 of 5.
    assert changes.loc["全区", "prev_start_rate_pct"] == pytest.approx(200 / 3)
    assert changes.loc["全区", "start_rate_change_pp"] == pytest.approx(80 - 200 / 3)
    assert changes.loc["银川市", "completed_change_yi"] == pytest.approx(0.09 - 0.16)
    assert pd.isna(changes.loc["水利厅", "start_rate_change_pp"])


# --------------------------------------------------------------------------- 督办清单.xlsx


def test_supervision_workbook_summary_and_one_sheet_per_unit(tmp_path):
    projects = projects_frame([
        {"unit": "交通运输厅", "project_name": "=HYPERLINK(\"http://x\",\"点我\")", "started": False, "completed": 0.0,
         "responsible_unit": "某公司", "leader": "张三"},
        {"unit": "银川市", "project_code": "YC-1", "project_name": "甲", "completed": 0.0,
         "responsible_unit": "银川某局",
         "leader": "李四", "row": 7, "file": "银川市/项目.xlsx"},
        {"unit": "银川市", "project_name": "乙", "in_stats": False, "completed": 90.0},
    ])
    round_ = make_round(as_of=OCT)
    path = findings.write_supervision_list(findings.track_list(projects, round_), round_, tmp_path)
    assert path.name == "督办清单.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "预警项目", "银川市", "交通运输厅"]
    summary = list(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary[0] == tuple(findings.SUMMARY_COLUMNS)
    # 甲 (0% done, 83.3 points behind) is red; 乙 (started, not 入统, no 开工时间) is green with its rule not judged.
    assert summary[1] == ("银川市", 2, 0, 1, 1, 1, 1, 0, 1)
    yc = list(book["银川市"].iter_rows(min_row=2, values_only=True))
    header = yc[0]
    for label in ("序号", "填报单位", "责任单位", "包抓领导", "督办原因", "年度计划投资(万元)", "投资完成率(%)"):
        assert label in header
    first = dict(zip(header, yc[1]))
    assert (first["项目名称"], first["责任单位"], first["包抓领导"], first["行号"]) == ("甲", "银川某局", "李四", 7)
    assert "真实开工" in first["督办原因"] and first["投资完成率(%)"] == 0.0
    cell = book["交通运输厅"].cell(row=3, column=list(header).index("项目名称") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")  # text, never a formula


def test_supervision_workbook_with_nothing_to_track(tmp_path):
    round_ = make_round()
    path = findings.write_supervision_list(findings.track_list(projects_frame([]), round_), round_, tmp_path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "预警项目"] and "没有需要督办的项目" in book["汇总"]["A1"].value

