"""主要指标 sheets in other words: names matched by concept to the report's indicators, units per row."""
from __future__ import annotations

from pathlib import Path

import layouts
import pytest
from office import write_round, write_xlsx

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, indicator_names

ROWS = [["发展改革委主要指标完成情况"],
        ["序次", "指标项目", "单位", "截至本期累计", "去年同期数"],
        [1, "争取中央预算内投资（亿元）", None, 12.5, 10],
        [2, "安排预算内统筹资金", "元", 25_000_000, None],
        [3, "设立九大重点产业奖励资金", "万元", 8000, None],
        [4, "新增供应土地", "亩", 300, 250],
        [5, "谋划储备项目", "个", 53, None],
        [6, "企业技术改造投资", "千元", 1_000_000, 900_000],
        [7, "其他自定指标", "项", 4, 3]]


def clean(root: Path):
    write_round(root / "data" / "raw" / "r", ["发展改革委"], as_of="2022-08-31")
    return cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)


def assert_indicators(result) -> None:
    table = result.tables["indicators"].set_index("indicator")
    assert table.loc["中央预算内资金", ["measure_unit", "current", "last_year"]].tolist() == ["万元", 125_000, 100_000]
    assert table.loc["预算内统筹资金", "current"] == pytest.approx(2500)  # 元 -> 万元
    assert table.loc["重点产业奖励资金", "current"] == 8000
    assert table.loc["新增供地", ["measure_unit", "current"]].tolist() == ["亩", 300]  # a count stays a count
    assert table.loc["谋划储备项目", "current"] == 53
    assert table.loc["企业更新改造投资", "current"] == pytest.approx(100_000)  # 千元 -> 万元
    assert table.loc["其他自定指标", "current"] == 4  # no indicator of the report: kept as written
    assert not (result.problems["code"] == "missing_column").any()


def test_indicator_names_and_units_per_row(tmp_path):
    write_xlsx(tmp_path / "data" / "raw" / "r" / "发展改革委" / "主要指标.xlsx", {"指标": ROWS})
    assert_indicators(clean(tmp_path))


def test_indicator_sheet_resaved_by_libreoffice_as_xls(tmp_path):
    layouts.resaved_by_libreoffice(lambda path: write_xlsx(path, {"指标": ROWS}), "主要指标.xlsx",
                                   tmp_path / "data" / "raw" / "r" / "发展改革委", "xls")
    assert_indicators(clean(tmp_path))


@pytest.mark.parametrize("written, expected", [
    ("争取中央预算内资金", "中央预算内资金"), ("中央预算内投资（亿元）", "中央预算内资金"),
    ("中 央 预 算 内 资 金", "中央预算内资金"),
    ("安排自治区预算内统筹资金", "预算内统筹资金"), ("批准用地项目", "已批准用地项目"), ("新增供地（亩）", "新增供地"),
    ("营商环境“改革措施”条数", "营商环境改革措施条数"), ("某某专项", "某某专项"),
])
def test_indicator_names_by_concept(written, expected):
    assert indicator_names.canonical(written) == expected
