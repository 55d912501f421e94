"""The statistics bureau's wide FAI table (regions × months) read as the FAI return, on real files."""
from __future__ import annotations

from pathlib import Path

import layouts
import pytest
from office import write_round, write_xls, write_xlsx

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, fai_wide

UNIT = "统计局"


def clean(root: Path):
    write_round(root / "data" / "raw" / "r", [UNIT], as_of="2022-08-31")
    return cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)


def folder(root: Path) -> Path:
    return root / "data" / "raw" / "r" / UNIT


GROWTH_ONLY = [["2022年全区分市固定资产投资增速（%）"],
               ["地区", "1-6月", "1-7月", "1-8月"],
               ["全区合计", "7.9%", "8.2%", "8.5%"],
               ["银 川 市", 6.1, 6.5, 7.0],
               ["石嘴山市", "-1.2%", "-0.8%", "-0.5%"],
               ["吴忠市合计", 9.0, 9.5, 10.25]]
EXPECTED_GROWTH = {"全区": 8.5, "银川市": 7.0, "石嘴山市": -0.5, "吴忠市": 10.25}


def assert_growth(result) -> None:
    fai = result.tables["fai"].set_index("region")
    assert fai["yoy_pct"].to_dict() == pytest.approx(EXPECTED_GROWTH)
    assert set(fai["month"]) == {8}  # the latest month only
    assert fai["row"].tolist() == [3, 4, 5, 6]  # Excel rows kept
    assert not (result.problems["code"] == "not_a_return").any()


def test_growth_only_with_text_percentages(tmp_path):
    write_xlsx(folder(tmp_path) / "固定资产投资.xlsx", {"分市": GROWTH_ONLY})
    assert_growth(clean(tmp_path))


def test_growth_only_resaved_by_libreoffice(tmp_path):
    layouts.resaved_by_libreoffice(lambda path: write_xlsx(path, {"分市": GROWTH_ONLY}), "固定资产投资.xlsx",
                                   folder(tmp_path), "ods")
    assert_growth(clean(tmp_path))


def test_percent_formatted_cells_read_as_shown(tmp_path):
    import openpyxl

    path = write_xlsx(folder(tmp_path) / "固定资产投资.xlsx",
                      {"分市": [["地区", "1-7月", "1-8月"], ["全区", 0.082, 0.085], ["银川市", 0.065, 0.07]]})
    book = openpyxl.load_workbook(path)
    for row in book["分市"].iter_rows(min_row=2, min_col=2):
        for cell in row:
            cell.number_format = "0.0%"
    book.save(path)
    fai = clean(tmp_path).tables["fai"].set_index("region")
    assert fai["yoy_pct"].to_dict() == pytest.approx({"全区": 8.5, "银川市": 7.0})


def test_amount_and_growth_under_each_month(tmp_path):
    rows = [["2022年固定资产投资完成情况"], ["单位：亿元"],
            ["地区", "1-7月", None, "1-8月", None],
            [None, "绝对额", "增速(%)", "绝对额", "增速(%)"],
            ["全区", 1200, 8.2, 1380, 8.5], ["银川市", 500, 6.5, 560, 7.0]]
    merges = [(2, 1, 2, 2), (2, 3, 2, 4), (2, 0, 3, 0)]
    write_xls(folder(tmp_path) / "固定资产投资.xls", {"分市": rows}, {"分市": merges})
    fai = clean(tmp_path).tables["fai"].set_index("region")
    assert fai["cum_value"].to_dict() == {"全区": 13_800_000, "银川市": 5_600_000}  # 亿元 -> 万元
    assert fai["yoy_pct"].to_dict() == {"全区": 8.5, "银川市": 7.0}


@pytest.mark.parametrize("written, expected", [("全区合计", "全区"), ("银 川 市", "银川市"), ("固原市总计", "固原市"),
                                               ("中卫市", "中卫市")])
def test_region_names_are_normalised(written, expected):
    assert fai_wide.region_name(written) == expected
