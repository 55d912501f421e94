"""Headers matched by meaning, context read from around the table, rows that are not data — on real files."""
import shutil

import openpyxl
import pandas as pd
import pytest
from office import write_csv, write_round, write_xls, write_xlsx
from test_cleaning import assert_ledger_reconciles

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.ingest import cleaning, feedback


@pytest.fixture
def aliases():
    return schemas.load_aliases()


def clean(root, aliases, units=("银川市", "吴忠市", "交通运输厅"), as_of="2022-08-31"):
    write_round(root / "data" / "raw" / "r", list(units), as_of=as_of)
    return cleaning.clean_round(rounds.load_round("r", root), aliases, echo=lambda *_: None)


def raw(root):
    return root / "data" / "raw" / "r"


def mapped(result, written):
    """The standard column a header (as written) was mapped to, and how."""
    rows = result.header_map[result.header_map["written"] == written]
    assert len(rows), f"{written!r} not in the 表头对照: {result.header_map['written'].tolist()}"
    return rows.iloc[0]["column"], rows.iloc[0]["how"]


# --------------------------------------------------------------------------- headers


def test_year_and_month_spans_under_a_merged_parent_are_read_level_by_level(tmp_path, aliases):
    rows = [["2019年重点项目进展情况表"],
            ["序号", "项目名称", "批次", "2019年投资", None, "是否开工"],
            [None, None, None, "年度计划", "1-10月完成", None],
            [1, "甲", "第一批", 1000, 800, "是"], [2, "乙", "第二批", 500, 0, "否"]]
    merges = [(0, 0, 0, 5), (1, 3, 1, 4), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 2, 2), (1, 5, 2, 5)]
    write_xls(raw(tmp_path) / "银川市.xls", {"S": rows}, {"S": merges})
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"]
    assert projects["annual_plan"].sum() == 1500 and projects["completed"].sum() == 800
    assert mapped(result, "2019年投资/1-10月完成")[0] == "completed"
    assert mapped(result, "2019年投资/年度计划")[0] == "annual_plan"
    assert_ledger_reconciles(result)


@pytest.mark.parametrize("parent, child", [("2022年投资完成情况", "1-8月完成"), ("2022年", "1—8月完成投资"),
                                           ("截至8月底", "完成投资"), ("今年投资", "完成")])
def test_this_years_completion_under_any_parent(tmp_path, aliases, parent, child):
    rows = [["序号", "项目名称", "批次", "2022年", parent, "开工情况"],
            [None, None, None, "计划投资", child, None],
            [1, "甲", "第一批", 1000, 600, "已开工"], [2, "乙", "第一批", 400, None, "未开工"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows},
               {"S": [(0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 5, 1, 5)]})
    result = clean(tmp_path, aliases, units=("吴忠市",))
    projects = result.tables["projects"].set_index("project_name")
    assert projects.loc["甲", "completed"] == 600 and projects.loc["乙", "completed"] == 0  # not started, empty: 0
    assert projects["annual_plan"].sum() == 1400
    assert projects["started"].tolist() == [True, False]
    assert not (result.problems["severity"] == "错误").any(), result.problems[["column", "problem"]]


@pytest.mark.parametrize("first, second, first_column, second_column", [
    ("完成率(%)", "累计完成投资", "stated_completion_pct", "completed"),
    ("总投资", "年度计划", "total_investment", "annual_plan"),
    ("计划开工时间", "开工时间", "planned_start_date", "start_date"),
])
def test_neighbouring_columns_are_never_taken_for_each_other(tmp_path, aliases, first, second, first_column,
                                                             second_column):
    header = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]
    for name in (first, second):
        if name not in header:
            header.append(name)
    row = {"序号": 1, "项目名称": "甲", "批次": "第一批", "年度计划投资": 100, "累计完成投资": 50, "是否开工": "是",
           "完成率(%)": 50, "总投资": 900, "年度计划": 100, "计划开工时间": "2022.3.1", "开工时间": "2022.4.1"}
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": [header, [row[h] for h in header]]})
    result = clean(tmp_path, aliases)
    assert mapped(result, first)[0] == first_column
    mapping = result.header_map.set_index("written")["column"]
    assert (mapping == second_column).sum() == 1  # the second keeps its own meaning, read once
    projects = result.tables["projects"]
    assert projects["completed"].tolist() == [50.0]


def test_this_period_and_last_year_are_kept_apart(tmp_path, aliases):
    rows = [["主要指标情况表"], ["序号", "指标名称", "计量单位", "本期", "上年同期"],
            [1, "中央预算内资金", "亿元", 12.5, 10], [2, "新增供地", "亩", 300, 250]]
    write_xlsx(raw(tmp_path) / "交通运输厅.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    table = result.tables["indicators"].set_index("indicator")
    assert table.loc["中央预算内资金", "current"] == 125_000 and table.loc["中央预算内资金", "last_year"] == 100_000
    assert table.loc["新增供地", "current"] == 300 and table.loc["新增供地", "last_year"] == 250


def test_one_pattern_row_covers_every_month_span(tmp_path):
    table = tmp_path / "aliases.csv"
    table.write_text("报表类型,标准列名,表头写法\nprojects,completed,{期间}完成投资\n", encoding="utf-8")
    aliases = schemas.load_aliases(table)
    for written in [f"1-{n}月完成投资" for n in range(1, 13)] + ["截至8月底完成投资", "2022年1—8月完成投资",
                                                                 "本年完成投资"]:
        key, _ = schemas.normalize_header(written)
        match = aliases.match(schemas.join_levels([key]), "projects")
        assert (match.column, match.how) == ("completed", schemas.MATCH_PATTERN), written
    assert aliases.match(["上年完成投资"], "projects").column is None  # last year's is not this year's


def test_alias_table_saved_by_excel_on_chinese_windows_is_read(tmp_path):
    table = tmp_path / "aliases.csv"
    table.write_bytes("报表类型,标准列名,表头写法\nprojects,location,项目所属区域\n".encode("gb18030"))
    aliases = schemas.load_aliases(table)
    assert aliases.lookup("项目所属区域") == {"projects": "location"}
    table.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(schemas.AliasTableError, match="编码无法识别"):
        schemas.load_aliases(table)


def test_a_close_but_unknown_header_gets_a_suggestion_and_the_line_to_add(tmp_path, aliases):
    # 建设地市区 carries none of the location concept's words (所在, 地点, 县区…), so it is not adopted by concept;
    # it is close to the alias 建设地点, so it is suggested.
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工", "建设地市区"],
            [1, "甲", "第一批", 100, 50, "是", "银川市"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    column, how = mapped(result, "建设地市区")
    assert column == "" and how == schemas.MATCH_SUGGEST
    problem = result.problems[result.problems["code"] == "unknown_header"].iloc[0]
    assert "是否为“所在市/县区”" in problem["problem"]  # the alias line is the analyst's: in the run summary
    assert "projects,location,建设地市区" in feedback.run_summary(result)


def test_the_header_map_is_written_as_a_workbook(tmp_path, aliases):
    rows = [["2022年第一批集中开工重大项目进展情况表"], ["单位：亿元"],
            ["序号", "项目名称", "年度计划投资", "1-8月完成投资", "是否开工", "备用"], [1, "甲", 1, 0.5, "是", "x"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    cleaning.save_clean(result, tmp_path / "out")
    sheet = openpyxl.load_workbook(tmp_path / "out" / "表头对照.xlsx")["表头对照"]
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells[0][:6] == ["文件", "工作表", "报表类型", "表头所在行", "表头原文", "标准列名"]
    by_written = {row[4]: row for row in cells[1:]}
    assert by_written["1-8月完成投资"][5] == "completed" and by_written["1-8月完成投资"][7] == schemas.MATCH_ALIAS
    assert by_written["备用"][7] == schemas.MATCH_UNKNOWN
    outside = [row for row in cells[1:] if row[7] == "表外信息"]
    assert {row[6] for row in outside} == {"批次", "年份", "金额单位"}
    assert any("第一批" in row[4] and "标题" in row[8] for row in outside)


# --------------------------------------------------------------------------- context around the table


def test_one_sheet_per_batch_without_a_batch_column(tmp_path, aliases):
    header = ["序号", "项目名称", "年度计划投资", "累计完成投资", "是否开工"]
    first = [["2022年第一批集中开工重大项目进展情况表"], header, [1, "甲", 100, 40, "是"], [2, "乙", 200, 0, "否"]]
    second = [["2022年第二批集中开工重大项目进展情况表"], header, [1, "丙", 300, 90, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市" / "重大项目.xlsx", {"第一批": first, "第二批": second})
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"].set_index("project_name")
    assert projects["batch"].to_dict() == {"甲": "第一批", "乙": "第一批", "丙": "第二批"}
    assert not (result.problems["code"] == "missing_column").any()
    assert_ledger_reconciles(result)


def test_batch_from_the_file_name_and_a_column_value_wins(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            [1, "甲", None, 100, 40, "是"], [2, "乙", "第一批", 200, 10, "是"]]
    write_csv(raw(tmp_path) / "银川市第二批重大项目.csv", rows, encoding="gb18030")
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"].set_index("project_name")
    assert projects["batch"].to_dict() == {"甲": "第二批", "乙": "第一批"}


@pytest.mark.parametrize("note", ["注：本表金额单位为亿元。", "说明：以亿元为单位", "单位：亿元"])
def test_money_unit_stated_below_the_table(tmp_path, aliases, note):
    rows = [["地区", "月份", "累计完成额", "累计增速(%)"], ["全区", "1-8月", 1234.5, 8.5],
            ["银川市", "1-8月", 600, 7.0],
            [note]]
    write_xlsx(raw(tmp_path) / "交通运输厅" / "固定资产投资.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    fai = result.tables["fai"].set_index("region")
    assert fai.loc["全区", "cum_value"] == 12_345_000.0  # 1234.5亿元 in 万元
    assert ("金额单位", "亿元") in {(r["label"], r["written"].replace("（表外）", ""))
                                    for _, r in result.header_map.iterrows()}


def test_unit_from_the_title_when_the_file_says_nothing_else(tmp_path, aliases):
    rows = [["吴忠市2022年重大项目进展情况表"],
            ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            [1, "甲", "第一批", 100, 40, "是"]]
    write_xlsx(raw(tmp_path) / "附件2.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert result.tables["projects"]["unit"].tolist() == ["吴忠市"]


# --------------------------------------------------------------------------- rows that are not data


def test_group_headings_subtotals_and_breakdowns_are_never_projects(tmp_path, aliases):
    header = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [header,
            ["合计", None, None, 700, 300],
            ["一", "产业项目（3个）", None, 600, 260],
            ["（一）", "利通区", None, 400, 200],
            [1, "甲", "第一批", 300, 150, "是"], [2, "乙", "第一批", 100, 50, "是"],
            [None, "利通区小计", None, 400, 200],
            ["（二）", "青铜峡市", None, None, None],
            [3, "丙", "第二批", 200, 60, "是"],
            ["二、基础设施项目（1个）", None, None, 100, 40],
            [4, "丁", "第二批", 100, 40, "是"],
            [None, "其中：新建项目", None, 100, 40],
            ["填报单位：吴忠市", None, "填报人：张三", None, "联系电话：0953-1234567"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"]
    assert projects["project_name"].tolist() == ["甲", "乙", "丙", "丁"]
    assert projects["annual_plan"].sum() == 700 and projects["completed"].sum() == 300
    assert not (result.problems["code"].isin(["total_mismatch", "group_count_mismatch"])).any(), \
        result.problems[["row", "problem"]]
    assert_ledger_reconciles(result)


def test_a_group_heading_that_disagrees_with_its_rows_is_a_finding(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            ["一", "产业项目（3个）", None, 500, 200],
            [1, "甲", "第一批", 300, 150, "是"], [2, "乙", "第一批", 100, 50, "是"],
            ["二", "基础设施项目", None, 90, None],
            [3, "丙", "第二批", 100, 40, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    found = result.problems.dropna(subset=["row"]).groupby("row")["code"].apply(list).to_dict()
    assert found == {2: ["total_mismatch", "group_count_mismatch"], 5: ["total_mismatch"]}  # 500≠400, 3个≠2, 90≠100
    assert len(result.tables["projects"]) == 3


@pytest.mark.parametrize("name", ["审核中心改造项目", "说明书印刷厂扩建", "制表机厂搬迁"])
def test_a_project_whose_name_starts_like_a_footer_is_data(tmp_path, aliases, name):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            [1, "甲", "第一批", 100, 50, "是"], [None, name, "第一批", 200, 80, "是"],
            ["审核：李四", None, None, None, None, None], ["填报单位：银川市"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert result.tables["projects"]["project_name"].tolist() == ["甲", name]


@pytest.mark.parametrize("label", ["合计（5个）", "全县合计", "汇总", "其中：集中签约"])
def test_total_rows_in_an_attraction_return_are_not_projects(tmp_path, aliases, label):
    rows = [["序号", "项目名称", "签约时间", "签约方式", "合同投资额"],
            [1, "甲", "2022.3.1", "集中签约", 30000], [2, "乙", "2022.4.1", "单独签约", 20000],
            [None, label, None, None, 50000]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    attraction = result.tables["attraction"]
    assert attraction["project_name"].tolist() == ["甲", "乙"]
    assert attraction["contract_investment"].sum() == 50000
    assert_ledger_reconciles(result)


def test_a_project_whose_name_ends_in_a_total_word_is_still_a_project(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            [1, "大数据汇总", "第一批", 100, 50, "是"], ["合计", None, None, 100, 50]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert result.tables["projects"]["project_name"].tolist() == ["大数据汇总"]


def test_rows_that_are_not_data_are_counted_by_role_in_the_ledger(tmp_path, aliases):
    rows = [["填表说明：金额单位为万元"], ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            ["一", "产业项目", None, None, None], [1, "甲", "第一批", 100, 50, "是"], ["合计", None, None, 100, 50],
            ["注：数据截至8月底"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    row = result.ledger.iloc[0]
    assert (row["data_rows"], row["skipped_rows"]) == (1, 5)
    assert row["note"] == "跳过：标题和表头2行、分组1行、合计1行、落款和注释1行"


def test_the_sample_round_header_map_reads_every_header(tmp_path):
    """Every header of the bundled sample round is mapped or deliberately unknown (a planted mistake)."""
    root = tmp_path / "p"
    shutil.copytree(config.RAW_DATA_DIR / config.SAMPLE_ROUND, root / "data" / "raw" / config.SAMPLE_ROUND)
    result = cleaning.clean_round(rounds.load_round(config.SAMPLE_ROUND, root), schemas.load_aliases(),
                                  echo=lambda *_: None)
    unknown = result.header_map[result.header_map["how"].isin([schemas.MATCH_UNKNOWN, schemas.MATCH_SUGGEST])]
    planted = pd.read_json(config.RAW_DATA_DIR / config.SAMPLE_ROUND / "planted_mistakes.json")
    planted_headers = set(planted.loc[planted["kind"] == "unknown_header", "column"])
    assert set(unknown["written"]) <= planted_headers, set(unknown["written"]) - planted_headers
