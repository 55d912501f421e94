"""Layouts of issue 21 on real files: several tables in one sheet; group headings with sub-numbered rows."""
from __future__ import annotations

from pathlib import Path

import layouts
import pytest
from office import write_round, write_xls, write_xlsx

from pipeline import rounds, schemas
from pipeline.ingest import cleaning

HEADER = ["序号", "项目名称", "年度计划投资", "累计完成投资", "是否开工"]


def clean(root: Path, units=("吴忠市",)):
    write_round(root / "data" / "raw" / "r", list(units), as_of="2022-08-31")
    return cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)


def raw(root: Path) -> Path:
    return root / "data" / "raw" / "r"


def assert_reconciles(result) -> None:
    for _, row in result.ledger.iterrows():
        assert row["data_rows"] == row["kept"] + row["quarantined"]
        assert row["money_raw_wan"] == pytest.approx(row["money_kept_wan"] + row["money_set_aside_wan"], abs=0.01)


def two_tables() -> list[list]:
    return [["吴忠市2022年第一批集中开工重大项目进展情况表"], ["单位：万元"], HEADER,
            [1, "甲", 100, 40, "是"], [2, "乙", 200, 0, "否"], ["合计", None, 300, 40],
            [],
            ["吴忠市2022年第二批集中开工重大项目进展情况表"], ["单位：亿元"], HEADER,
            [1, "丙", 3, 0.9, "是"], [2, "丁", 1, 0, "否"], [3, "戊", 2, 1, "是"],
            [], ["填报单位：吴忠市发展和改革委员会"]]


def assert_two_tables(result) -> None:
    projects = result.tables["projects"].set_index("project_name")
    first, second = "第一批", "第二批"
    assert projects["batch"].to_dict() == {"甲": first, "乙": first, "丙": second, "丁": second, "戊": second}
    # each table's own money unit: the second is in 亿元
    assert projects["annual_plan"].to_dict() == {"甲": 100, "乙": 200, "丙": 30000, "丁": 10000, "戊": 20000}
    assert projects["row"].tolist() == [4, 5, 11, 12, 13]  # Excel row numbers kept
    assert result.quarantine.empty
    assert not result.problems["code"].isin(["total_mismatch", "missing_column"]).any()
    assert_reconciles(result)
    ledger = result.ledger[result.ledger["data_rows"] > 0]
    assert ledger["data_rows"].tolist() == [2, 3]


def test_two_tables_one_under_the_other_each_with_its_title(tmp_path):
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"Sheet1": two_tables()})
    assert_two_tables(clean(tmp_path))


def test_two_tables_with_merged_titles_in_an_xls(tmp_path):
    rows = two_tables()
    write_xls(raw(tmp_path) / "吴忠市.xls", {"Sheet1": rows}, {"Sheet1": [(0, 0, 0, 4), (7, 0, 7, 4)]})
    assert_two_tables(clean(tmp_path))


def test_two_tables_resaved_by_libreoffice_as_ods(tmp_path):
    layouts.resaved_by_libreoffice(lambda path: write_xlsx(path, {"Sheet1": two_tables()}), "吴忠市.xlsx",
                                   raw(tmp_path), "ods")
    assert_two_tables(clean(tmp_path))


def test_a_header_repeated_without_a_title_is_still_one_table(tmp_path):
    rows = [["吴忠市2022年第一批集中开工重大项目进展情况表"], HEADER, [1, "甲", 100, 40, "是"], [2, "乙", 200, 0, "否"],
            HEADER, [3, "丙", 300, 90, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"Sheet1": rows})
    result = clean(tmp_path)
    projects = result.tables["projects"]
    assert projects["batch"].tolist() == ["第一批"] * 3 and len(result.ledger[result.ledger["data_rows"] > 0]) == 1


# --------------------------------------------------------------------------- group headings by numbering

PLAN_HEADER = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]


@pytest.mark.parametrize("first, second, sub", [
    ("（1）", "（2）", "{n}.{k}"),  # （1） over 1.1, 1.2
    ("1、", "2、", "{n}-{k}"),  # 1、 over 1-1, 1-2
    ("1", "2", "{n}.{k}"),  # a bare 1 over 1.1: the numbering, not the mark, says it is a heading
])
def test_group_headings_known_by_the_numbering_under_them(tmp_path, first, second, sub):
    rows = [PLAN_HEADER,
            [first, "产业项目（2个）", None, 300, 120, None],
            [sub.format(n=1, k=1), "甲", "第一批", 100, 40, "是"],
            [sub.format(n=1, k=2), "乙", "第一批", 200, 80, "是"],
            [second, "基础设施项目", None, 500, None, None],
            [sub.format(n=2, k=1), "丙", "第一批", 500, 100, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    result = clean(tmp_path)
    projects = result.tables["projects"]
    assert projects["project_name"].tolist() == ["甲", "乙", "丙"]
    assert projects["annual_plan"].sum() == 800
    assert not result.problems["code"].isin(["total_mismatch", "group_count_mismatch"]).any(), \
        result.problems[["row", "problem"]]
    assert result.ledger.iloc[0]["note"] == "跳过：标题和表头1行、分组2行"
    assert_reconciles(result)


def test_a_numbered_heading_whose_amounts_disagree_is_a_finding(tmp_path):
    rows = [PLAN_HEADER,
            ["（1）", "产业项目（3个）", None, 350, 120, None],
            ["1.1", "甲", "第一批", 100, 40, "是"], ["1.2", "乙", "第一批", 200, 80, "是"],
            ["（2）", "民生项目", None, 90, 10, None],
            ["2.1", "丙", "第二批", 100, 10, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    result = clean(tmp_path)
    found = result.problems.dropna(subset=["row"]).groupby("row")["code"].apply(list).to_dict()
    assert found == {2: ["total_mismatch", "group_count_mismatch"], 5: ["total_mismatch"]}  # 350≠300, 3个≠2, 90≠100


def test_projects_numbered_one_two_three_stay_projects(tmp_path):
    rows = [PLAN_HEADER, [1, "甲", "第一批", 100, 40, "是"], [2, "乙", "第一批", 200, 80, "是"],
            ["3", "丙", "第一批", 300, 0, "否"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    assert clean(tmp_path).tables["projects"]["project_name"].tolist() == ["甲", "乙", "丙"]


# --------------------------------------------------------------------------- monthly columns

MONTHS = [f"{k}月" for k in range(1, 9)]


def monthly_rows(with_total: bool, months=MONTHS) -> tuple[list[list], list]:
    """序号, 项目名称, 批次, 年度计划投资, then 2022年完成投资 merged over one column per month (and 累计)."""
    top = ["序号", "项目名称", "批次", "年度计划投资", "2022年完成投资", *[None] * (len(months) - 1 + with_total),
           "是否开工"]
    sub = [None] * 4 + months + (["累计"] if with_total else []) + [None]
    a = [10, 20, 30, 40, 50, 60, 70, 80][: len(months)]
    b = [5] * len(months)
    rows = [["吴忠市2022年重大项目月度进展表"], top, sub,
            [1, "甲", "第一批", 1000, *a, *([sum(a)] if with_total else []), "是"],
            [2, "乙", "第一批", 500, *b, *([sum(b)] if with_total else []), "是"],
            [3, "丙", "第一批", 300, *[None] * len(months), *([None] if with_total else []), "否"]]
    last = 4 + len(months) - 1 + with_total
    merges = [(0, 0, 0, last + 1), (1, 4, 1, last)] + [(1, j, 2, j) for j in (0, 1, 2, 3, last + 1)]
    return rows, merges


def test_monthly_columns_with_a_cumulative_column_read_the_cumulative(tmp_path):
    rows, merges = monthly_rows(with_total=True)
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows}, {"S": merges})
    result = clean(tmp_path)
    projects = result.tables["projects"].set_index("project_name")
    assert projects["completed"].to_dict() == {"甲": 360, "乙": 40, "丙": 0}
    hm = result.header_map.set_index("written")
    assert hm.loc["2022年完成投资/累计", "column"] == "completed"
    assert hm.loc["2022年完成投资/1月", "how"] == schemas.MATCH_MONTH  # the parent is never the first month's
    assert not (result.problems["code"] == "unknown_header").any()
    assert len(projects) == 3  # the month row is a header row, not data


@pytest.mark.parametrize("months, as_of, expected", [
    (MONTHS, "2022-08-31", {"甲": 360, "乙": 40}),  # every month up to the cut-off
    (MONTHS, "2022-06-30", {"甲": 210, "乙": 30}),  # months after the cut-off are not this return's
    (["一月", "二月", "三月"], "2022-08-31", {"甲": 60, "乙": 15}),
])
def test_monthly_columns_without_a_cumulative_column_are_summed_to_the_cut_off(tmp_path, months, as_of, expected):
    rows, merges = monthly_rows(with_total=False, months=months)
    write_xls(raw(tmp_path) / "吴忠市.xls", {"S": rows}, {"S": merges})
    write_round(raw(tmp_path), ["吴忠市"], as_of=as_of)
    result = cleaning.clean_round(rounds.load_round("r", tmp_path), schemas.load_aliases(), echo=lambda *_: None)
    projects = result.tables["projects"].set_index("project_name")
    assert {k: projects.loc[k, "completed"] for k in expected} == expected
    assert projects.loc["丙", "completed"] == 0  # not started, no month filled
    cut = int(as_of[5:7])
    written = f"2022年完成投资/累计（1-{cut}月各月相加）"
    hm = result.header_map.set_index("written")
    assert hm.loc[written, "column"] == "completed" and "各月相加" in hm.loc[written, "words"]
    assert not result.problems["code"].isin(["missing_column", "unknown_header"]).any()
