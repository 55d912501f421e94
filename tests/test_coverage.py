"""Never state what the returns do not say: the examples of issue 20, each with two variants, on real files.

- a figure no return can feed is null with its reason (开工率 without any readable 是否开工);
- a figure fed by part of the returns keeps its value, is listed in data_quality.partial_keys and is caveated where
  the report states it (集中签约 without one city's readable 签约方式);
- a 十大工程 return without a readable 所处阶段 does not stop the round.
Steps 1–4 run in this process (tests/inprocess.py).
"""
from __future__ import annotations

import re
import shutil

import inprocess
import pytest
from office import write_csv, write_round, write_xlsx

from pipeline import paths as config
from pipeline.report import render as report

ROUND = "2021-12"
UNITS = ["银川市", "石嘴山市", "宁东基地"]


def new_round(tmp_path):
    raw = write_round(tmp_path / "data" / "raw" / ROUND, UNITS, title="测试轮次")
    shutil.copy(config.HEADER_ALIASES_FILE, tmp_path / "data" / "header_aliases.csv")
    return raw


def projects(unit: str, header: list[str], started: list) -> list[list]:
    """A unit's 重大项目进展情况表 of three projects with the given header for the start-status column (None: no
    column)."""
    head = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资"]
    rows = [[1, f"{unit}甲项目", "第一批", "新建", 1000, 800], [2, f"{unit}乙项目", "第一批", "新建", 500, 0],
            [3, f"{unit}丙项目", "第二批", "续建", 400, 100]]
    if header:
        head += header
        rows = [r + [s] for r, s in zip(rows, started)]
    return [["重大项目进展情况表"], head, *rows]


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize("header, values", [
    (None, None),  # no column at all
    (["开工状态代码"], ["A", "B", "A"]),  # a header nobody reads, its values unread too
    (["是否开工"], ["待定", "？", "不详"]),  # the column, but no value readable
])
def test_a_start_rate_no_return_supports_is_null_with_its_reason(tmp_path, header, values):
    raw = new_round(tmp_path)
    for unit in UNITS:
        write_xlsx(raw / unit / "项目.xlsx", {"S": projects(unit, header, values)})
    values_, html = inprocess.run(tmp_path, ROUND)
    for key in ("batch.start_rate_pct", "key.start_rate_pct", "batch.started", "batch.not_started"):
        assert values_[key] is None, key
        assert "各单位报表均无可识别的“是否开工”列" in values_["notes"][key] or values_[key] is None
    why = values_["notes"]["batch.start_rate_pct"]
    assert "是否开工" in why and "银川市" in why
    if header and header[0] == "开工状态代码":
        assert "表头“开工状态代码”未能识别" in why
        summary = report.save_summary(report.load_report_data(ROUND, tmp_path), tmp_path / "summary.txt")
        console = summary.read_text(encoding="utf-8")
        assert "未能识别的表头（按文件；详见《表头对照》）：" in console
        assert re.search(r"银川市/项目.xlsx（S）：“开工状态代码”；可能影响：[^\n]*开工率", console), console
    assert values_["batch.projects"] == 9 and values_["batch.plan_yi"] == pytest.approx(0.57)
    assert values_["batch.start_base"] == 6  # what is known is still stated: 续建 are not in the base
    assert values_["data_quality.complete"] is False
    text = text_of(html)
    assert "开工率0.0%" not in text and "开工率—" in text
    assert why in text  # the note beside the dash (and the red box)


def attraction(header: str, modes: list) -> list[list]:
    rows = [[i + 1, f"{header}项目{i + 1}{len(modes)}", mode, "枸杞", "是", 10_000] for i, mode in enumerate(modes)]
    return [["招商引资项目情况表"], ["序号", "项目名称", header, "产业类别", "是否延链补链强链", "合同投资额"], *rows]


@pytest.mark.parametrize("yinchuan", [
    ("签约形式代码", ["集中签约", "集中签约", "单独签约"]),  # a header nobody reads
    ("签约方式", [None, None, None]),  # the column left empty
    ("签约方式", ["甲类", "乙类", "甲类"]),  # values nobody reads
])
def test_concentrated_signing_from_part_of_the_returns_is_listed_and_caveated(tmp_path, yinchuan):
    raw = new_round(tmp_path)
    write_xlsx(raw / "银川市" / "招商.xlsx", {"S": attraction(*yinchuan)})
    write_xlsx(raw / "石嘴山市" / "招商.xlsx", {"S": attraction("签约方式", ["集中签约", "单独签约"])})
    write_csv(raw / "宁东基地" / "招商.csv", attraction("签约方式", ["集中签约", "集中签约"])[1:])
    values, html = inprocess.run(tmp_path, ROUND)
    assert values["attraction.concentrated.projects"] == 3  # 石嘴山市 1 + 宁东基地 2: what was read
    assert "attraction.concentrated.projects" in values["data_quality.partial_keys"]
    note = values["notes"]["attraction.concentrated.projects"]
    assert note.startswith("不含银川市：") and "签约方式" in note and "石嘴山市" not in note
    assert values["attraction.projects"] == 7 and "attraction.projects" not in values["data_quality.partial_keys"]
    assert values["data_quality.complete"] is False
    text = text_of(html)
    stated = re.search(r"其中集中签约项目3个（不含银川市：[^）]*签约方式[^）]*）", text.replace("””", "”"))
    assert stated, re.search(r"其中集中签约项目.{0,80}", text).group(0)
    assert "只据部分报表计算" in text and note in text  # the red box


MAJOR_HEADER = ["序号", "工程名称", "牵头单位", "所处阶段", "年度计划投资", "累计完成投资", "计划节点", "完成情况"]


@pytest.mark.parametrize("stage_header, stages", [
    (None, None),  # no stage column
    ("所处阶段", [None, None]),  # the column left empty
    ("所处阶段", ["？", "待定"]),  # values nobody reads
])
def test_major_works_without_a_readable_stage_do_not_stop_the_round(tmp_path, stage_header, stages):
    raw = new_round(tmp_path)
    header = [h for h in MAJOR_HEADER if h != "所处阶段" or stage_header]
    rows = []
    for i, name in enumerate(["银昆高速", "河东机场改扩建"]):
        row = [i + 1, name, "发展改革委", *([stages[i]] if stage_header else []), 50_000, 20_000, "主体完工", "推进中"]
        rows.append(row)
    write_xlsx(raw / "银川市" / "十大工程.xlsx", {"S": [["十大工程项目推进情况表"], header, *rows]})
    write_xlsx(raw / "银川市" / "项目.xlsx", {"S": projects("银川市", ["是否开工"], ["是", "否", "是"])})
    values, html = inprocess.run(tmp_path, ROUND)
    assert values["major.projects"] == 2
    for key in ("major.accelerating.count", "major.construction.projects", "major.construction.completion_rate_pct"):
        assert values[key] is None and "所处阶段" in values["notes"][key], key
    assert "十大工程" in text_of(html)
