"""Cleaning real returns: each kind of messiness the brief lists, in real xlsx, xls and csv files."""
import datetime as dt

import pandas as pd
import pytest
from office import project_row, project_sheet, write_csv, write_round, write_xls, write_xlsx

from pipeline import rounds, schemas
from pipeline.ingest import cleaning


@pytest.fixture
def aliases():
    return schemas.load_aliases()


def clean(tmp_path, aliases, units=("银川市", "交通运输厅"), **round_extra):
    """Clean the test round; whatever the case, the ledger must reconcile (check_ledger raises otherwise)."""
    if not (tmp_path / "data/raw/r/round.yml").exists():
        write_round(tmp_path / "data" / "raw" / "r", list(units), **round_extra)
    result = cleaning.clean_round(rounds.load_round("r", tmp_path), aliases, echo=lambda *_: None)
    cleaning.check_ledger(result)
    return result


def raw_dir(tmp_path):
    return tmp_path / "data" / "raw" / "r"


def assert_ledger_reconciles(result):
    """Every data row kept or quarantined, money as read = used + set aside, on every ledger row; returns the ledger."""
    ledger = result.ledger
    assert (ledger["data_rows"] == ledger["kept"] + ledger["quarantined"]).all()
    assert (ledger["kept_with_problems"] <= ledger["kept"]).all()
    assert ledger["money_raw_wan"].sum() == pytest.approx(
        (ledger["money_kept_wan"] + ledger["money_set_aside_wan"]).sum())
    for _, row in ledger.iterrows():
        assert row["money_raw_wan"] == pytest.approx(row["money_kept_wan"] + row["money_set_aside_wan"])
    kept = sum(len(t) for t in result.tables.values())
    assert kept == ledger["kept"].sum()
    assert len(result.quarantine) == ledger["quarantined"].sum()
    # The clean tables' own amounts add up to the money the ledger says was used.
    used = sum(float(t[[c for c in t if c in MONEY_COLUMNS]].sum().sum()) for t in result.tables.values())
    assert used == pytest.approx(ledger["money_kept_wan"].sum())
    return ledger


MONEY_COLUMNS = {c.name for k in schemas.RETURN_KINDS.values() for c in k.columns if c.type == schemas.MONEY}


def test_two_row_merged_header_title_unit_total_and_footer_xlsx(tmp_path, aliases):
    grid, merges = project_sheet(
        [project_row(1, "P1", "甲项目", plan="1,200", done="８００"),
         project_row(2, "P2", "乙项目", plan=300, done=100)],
        total=["合计", None, None, None, None, None, None, None, 2000, 1500, 900],
    )
    write_xlsx(raw_dir(tmp_path) / "附件1.xlsx", {"第一批": grid}, {"第一批": merges})
    result = clean(tmp_path, aliases)

    projects = result.tables["projects"]
    assert list(projects["project_name"]) == ["甲项目", "乙项目"]
    assert list(projects["annual_plan"]) == [1200.0, 300.0]
    assert list(projects["completed"]) == [800.0, 100.0]
    assert list(projects["row"]) == [5, 6]  # title, unit row and two header rows come first
    assert set(projects["unit"]) == {"银川市"}  # from the 填报单位 footer
    ledger = result.ledger.iloc[0]
    assert (ledger["data_rows"], ledger["kept"], ledger["quarantined"]) == (2, 2, 0)
    assert ledger["skipped_rows"] == 6  # title, unit, 2 header rows, 合计, footer
    assert not (result.problems["code"] == "total_mismatch").any()
    assert_ledger_reconciles(result)


def test_legacy_xls_with_merges_reads_the_same(tmp_path, aliases):
    grid, merges = project_sheet([project_row(1, "P1", "甲项目", start="2021.3.15"),
                                  project_row(2, "P2", "乙项目", started="×", start=None)])
    write_xls(raw_dir(tmp_path) / "附件2.xls", {"Sheet1": grid}, {"Sheet1": merges})
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"]
    assert list(projects["started"]) == [True, False]
    assert projects["start_date"].iloc[0] == pd.Timestamp(2021, 3, 15)
    assert list(projects["annual_plan"]) == [500.0, 500.0]
    assert_ledger_reconciles(result)


def test_gb18030_csv_in_yi_with_one_row_header_and_full_width_text(tmp_path, aliases):
    rows = [
        ["2021年第二批集中开工重大项目进展情况表"],
        ["单位：亿元"],
        ["序号", "项目名称", "批次", "总投资", "本年计划投资", "1-11月完成投资", "是否开工", "开工时间"],
        ["1", "丙项目", "第二批", "１２.５", "2.5", "1.25", "√", "2021年5月6日"],
        ["2", "丁项目", "二批", "3", "1", "0", "×", "/"],
        ["3", "戊项目", "第二批", "3", "1", "—", "×", "/"],
        ["填报单位：交通运输厅"],
    ]
    write_csv(raw_dir(tmp_path) / "附件3.csv", rows, encoding="gb18030")
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"].set_index("project_name")
    assert projects.loc["丙项目", "total_investment"] == 125_000.0
    assert projects.loc["丙项目", "completed"] == 12_500.0
    assert projects.loc["丙项目", "start_date"] == pd.Timestamp(2021, 5, 6)
    assert projects.loc["丁项目", "batch"] == "第二批"
    assert projects.loc["丁项目", "started"] == False  # noqa: E712 - a nullable boolean
    assert pd.isna(projects.loc["丁项目", "start_date"])
    assert set(projects["unit"]) == {"交通运输厅"}
    # 戊项目 is not started and left 累计完成投资 as "—": evidently 0, kept, and nothing to fix.
    assert result.quarantine.empty
    assert projects.loc["戊项目", "completed"] == 0.0
    assert not (result.problems["row"] == 6).any()
    assert_ledger_reconciles(result)


def test_unit_in_header_line_breaks_and_full_width_brackets(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "总投资\n（亿元）", "年度计划投资（万元）", "本年完成投资\n(万元)",
             "是否开工"],
            [1, "戊项目", "第一批", 2, 5000, 2500, "是"],
            ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "戊.xlsx", {"表": rows})
    result = clean(tmp_path, aliases)
    row = result.tables["projects"].iloc[0]
    assert (row["total_investment"], row["annual_plan"], row["completed"]) == (20_000.0, 5000.0, 2500.0)


def test_bad_values_keep_their_project_and_are_reported_at_their_cell(tmp_path, aliases):
    grid, merges = project_sheet([
        project_row(1, "P1", "好项目"),
        project_row(2, "P2", "文字金额", done="约500"),
        project_row(3, "P3", "超总投资", total=100, done=300),
        project_row(4, "P4", "未来开工", start=dt.date(2021, 12, 20)),
        project_row(5, "P5", "待定开工", started="待定"),
        project_row(6, "P6", None, plan=700),
        project_row(7, "P7", "坏日期", start="2021.13.45"),
        project_row(8, "P8", "负数", plan=-5),
    ])
    write_xlsx(raw_dir(tmp_path) / "银川市" / "项目.xlsx", {"第一批": grid}, {"第一批": merges})
    result = clean(tmp_path, aliases)

    # Only the row without a project name cannot be counted: every other project stays in the counts.
    projects = result.tables["projects"].set_index("row")
    assert projects["project_name"].tolist() == ["好项目", "文字金额", "超总投资", "未来开工", "待定开工", "坏日期",
                                                 "负数"]
    assert result.quarantine["row"].tolist() == [10]
    assert "项目名称未填写" in result.quarantine.iloc[0]["reasons"]
    # The bad value is left out of the sums it would enter; the rest of the row is used.
    assert pd.isna(projects.loc[6, "completed"]) and projects.loc[6, "annual_plan"] == 500.0
    assert projects.loc[7, "completed"] == 300.0  # completed > total: both kept, the unit asked
    assert pd.isna(projects.loc[8, "start_date"]) and projects.loc[8, "started"]
    assert pd.isna(projects.loc[9, "started"])
    assert pd.isna(projects.loc[11, "start_date"])
    assert pd.isna(projects.loc[12, "annual_plan"]) and projects.loc[12, "set_aside_wan"] == -5.0
    issues = projects["issues"].fillna("")
    assert "不是有效数字" in issues[6] and "大于总投资" in issues[7] and "晚于数据截至日期" in issues[8]
    assert "应填“是”或“否”" in issues[9] and "日期不存在" in issues[11] and "金额为负数" in issues[12]
    assert pd.isna(projects.loc[5, "issues"])
    problems = result.problems.set_index("row")
    assert problems.loc[6, "column"] == "2021年投资/完成" and problems.loc[6, "value"] == "约500"
    assert problems.loc[9, "column"] == "是否开工" and problems.loc[9, "value"] == "待定"
    assert (result.problems.loc[result.problems["row"].notna(), "severity"] == "错误").all()
    assert (result.problems.loc[result.problems["row"].notna(), "unit"] == "银川市").all()
    ledger = assert_ledger_reconciles(result)
    assert ledger["kept_with_problems"].sum() == 6
    # Set aside: the negative plan, and the whole quarantined row (total 1000 + plan 700 + done 300).
    assert ledger["money_set_aside_wan"].sum() == pytest.approx(-5.0 + 1000 + 700 + 300)


def test_a_total_that_disagrees_with_its_rows_is_a_finding(tmp_path, aliases):
    grid, merges = project_sheet([project_row(1, "P1", "甲"), project_row(2, "P2", "乙")],
                                 total=["合计", None, None, None, None, None, None, None, 2000, 1000, 999])
    write_xlsx(raw_dir(tmp_path) / "银川市.xlsx", {"S": grid}, {"S": merges})
    result = clean(tmp_path, aliases)
    mismatch = result.problems[result.problems["code"] == "total_mismatch"]
    assert len(mismatch) == 1
    assert mismatch.iloc[0]["row"] == 7 and "相差399.00万元" in mismatch.iloc[0]["problem"]
    assert len(result.tables["projects"]) == 2


def test_subtotals_are_checked_against_their_own_section(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            [1, "甲", "第一批", 100, 50, "是"], ["小计", None, None, 100, 50],
            [2, "乙", "第二批", 200, 80, "是"], ["小计", None, None, 200, 85],
            ["合计", None, None, 300, 130], ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    mismatch = result.problems[result.problems["code"] == "total_mismatch"]
    assert mismatch["row"].tolist() == [5]
    assert result.ledger.iloc[0]["skipped_rows"] == 5


def test_same_project_from_two_units_is_counted_once_and_reported(tmp_path, aliases):
    city, merges = project_sheet([project_row(1, "G001", "银昆高速某段", city="银川市永宁县", plan=900)])
    dept, _ = project_sheet([project_row(1, "G001", "银昆高速某段", city="银川市永宁县", plan=900)],
                            footer="填报单位：自治区交通运输厅")
    write_xlsx(raw_dir(tmp_path) / "a_交通.xlsx", {"S": dept}, {"S": merges})
    write_xlsx(raw_dir(tmp_path) / "b_银川.xlsx", {"S": city}, {"S": merges})
    result = clean(tmp_path, aliases)
    projects = result.tables["projects"]
    assert len(projects) == 1 and projects.iloc[0]["unit"] == "银川市"  # the project's own city keeps it
    dup = result.problems[result.problems["code"] == "duplicate"]
    assert len(dup) == 1 and dup.iloc[0]["unit"] == "交通运输厅" and dup.iloc[0]["severity"] == cleaning.HINT
    assert "已按一次统计" in result.quarantine.iloc[0]["reasons"]
    assert_ledger_reconciles(result)


def test_same_code_twice_in_one_unit_is_a_mistake(tmp_path, aliases):
    grid, merges = project_sheet([project_row(1, "P1", "甲"), project_row(2, "P1", "甲")])
    write_xlsx(raw_dir(tmp_path) / "银川市.xlsx", {"S": grid}, {"S": merges})
    result = clean(tmp_path, aliases)
    dup = result.problems[result.problems["code"] == "duplicate"].iloc[0]
    assert (dup["severity"], dup["row"], dup["column"], dup["value"]) == (cleaning.ERROR, 6, "项目编号", "P1")


def test_unknown_header_is_reported_and_its_values_kept(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工", "联系人电话"],
            [1, "甲", "第一批", 100, 50, "是", "13900000000"], ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    unknown = result.problems[result.problems["code"] == "unknown_header"].iloc[0]
    assert (unknown["column"], unknown["row"], unknown["severity"]) == ("联系人电话", 1, cleaning.HINT)
    assert "13900000000" in result.tables["projects"].iloc[0]["extra"]


def test_missing_required_column_keeps_the_projects_and_says_which(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资"], [1, "甲", "第一批", 100, 50],
            ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert result.tables["projects"]["project_name"].tolist() == ["甲"]
    assert pd.isna(result.tables["projects"]["started"].iloc[0])
    missing = result.problems[result.problems["code"] == "missing_column"]
    assert len(missing) == 1 and "是否开工" in missing.iloc[0]["problem"]
    assert "相关指标不含本表" in missing.iloc[0]["problem"]
    assert not (result.problems["code"] == "required_empty").any()  # said once for the sheet, not per row
    assert_ledger_reconciles(result)


def test_missing_name_column_quarantines_the_rows_they_cannot_be_counted(tmp_path, aliases):
    rows = [["序号", "批次", "年度计划投资", "累计完成投资", "是否开工"], [1, "第一批", 100, 50, "是"],
            ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert result.tables["projects"].empty
    assert "缺少必填列：项目名称" in result.quarantine.iloc[0]["reasons"]
    assert_ledger_reconciles(result)


def test_unreadable_file_and_non_return_are_reported_and_the_rest_is_processed(tmp_path, aliases):
    write_xlsx(raw_dir(tmp_path) / "银川市" / "好.xlsx", {"S": project_sheet([project_row(1, "P1", "甲")])[0]})
    (raw_dir(tmp_path) / "交通运输厅").mkdir(parents=True)
    (raw_dir(tmp_path) / "交通运输厅" / "坏.xlsx").write_bytes(b"PK\x03\x04 truncated")
    write_xlsx(raw_dir(tmp_path) / "银川市" / "通知.xlsx",
               {"通知": [["关于报送项目进展的通知"], ["各单位：请于11月30日前报送。"]]})
    (raw_dir(tmp_path) / "银川市" / "说明.pdf").write_bytes(b"%PDF-1.4")
    result = clean(tmp_path, aliases)
    assert len(result.tables["projects"]) == 1
    by_file = result.problems.set_index("file")
    assert by_file.loc["交通运输厅/坏.xlsx", "unit"] == "交通运输厅"
    assert "损坏" in by_file.loc["交通运输厅/坏.xlsx", "problem"]
    assert "没有可识别的报表" in by_file.loc["银川市/通知.xlsx", "problem"]
    assert "不是 Excel 或 CSV 文件" in by_file.loc["银川市/说明.pdf", "problem"]
    statuses = dict(zip(result.ledger["file"], result.ledger["status"]))
    assert statuses["交通运输厅/坏.xlsx"] == "无法读取" and statuses["银川市/说明.pdf"] == "未读取"
    assert result.missing_units == []  # a corrupt file is a return to fix, not a missing one


def test_units_with_no_return_are_missing(tmp_path, aliases):
    write_xlsx(raw_dir(tmp_path) / "银川市.xlsx", {"S": project_sheet([project_row(1, "P1", "甲")])[0]})
    result = clean(tmp_path, aliases, units=("银川市", "交通运输厅", "水利厅"))
    assert result.missing_units == ["交通运输厅", "水利厅"]
    missing = result.problems[result.problems["code"] == "missing_return"]
    assert missing["unit"].tolist() == ["交通运输厅", "水利厅"] and (missing["problem"] == "未报送").all()


def test_unit_comes_from_footer_then_folder_then_file_name(tmp_path, aliases):
    no_footer = project_sheet([project_row(1, "P1", "甲")], footer="填报人：王五")[0]
    write_xlsx(raw_dir(tmp_path) / "水利厅" / "附件1.xlsx", {"S": no_footer})
    write_xlsx(raw_dir(tmp_path) / "交通运输厅项目表.xlsx",
               {"S": project_sheet([project_row(1, "P2", "乙")], footer="填报人：王五")[0]})
    write_xlsx(raw_dir(tmp_path) / "水利厅" / "附件2.xlsx",
               {"S": project_sheet([project_row(1, "P3", "丙")], footer="填报单位：银川市发展和改革委员会")[0]})
    write_xlsx(raw_dir(tmp_path) / "附件9.xlsx",
               {"S": project_sheet([project_row(1, "P4", "丁")], footer="填报人：王五")[0]})
    result = clean(tmp_path, aliases, units=("银川市", "交通运输厅", "水利厅"))
    units = dict(zip(result.ledger["file"], result.ledger["unit"]))
    assert units == {"水利厅/附件1.xlsx": "水利厅", "交通运输厅项目表.xlsx": "交通运输厅",
                     "水利厅/附件2.xlsx": "银川市", "附件9.xlsx": cleaning.UNKNOWN_UNIT}
    assert "无法确定填报单位" in result.problems.set_index("file").loc["附件9.xlsx", "problem"]


@pytest.mark.parametrize("rows, kind", [
    ([["工程名称", "牵头单位", "所处阶段", "总投资", "计划节点", "完成情况"],
      ["银昆高速", "交通运输厅", "在建", 100, "主体完工", "未完成"]], "major_works"),
    ([["项目名称", "签约时间", "签约方式", "产业类别", "合同投资额（亿元）", "本年到位资金（亿元）"],
      ["枸杞深加工", "2021.5.1", "集中签约", "枸杞", 1.5, 0.5]], "attraction"),
    ([["指标名称", "计量单位", "本期累计", "上年同期"], ["争取中央预算内资金", "亿元", 12.5, 10]], "indicators"),
    ([["地区", "月份", "累计完成额（亿元）", "累计增速(%)", "上年同期增速(%)"],
      ["全区", "1-11月", 1800.5, "4.5%", "3.1"]], "fai"),
    ([["序号", "板块", "内容"], [1, "推进措施", "建立会商制度精准服务重大项目建设"]], "practices"),
])
def test_each_return_kind_is_recognised_from_its_header(tmp_path, aliases, rows, kind):
    write_xlsx(raw_dir(tmp_path) / "附件.xlsx", {"S": [["某某情况表"], *rows, ["填报单位：银川市"]]})
    result = clean(tmp_path, aliases)
    assert len(result.tables[kind]) == 1, result.problems
    assert result.ledger.iloc[0]["return_kind"] == schemas.RETURN_KINDS[kind].label


def test_indicator_names_and_units_are_normalised(tmp_path, aliases):
    rows = [["指标名称", "计量单位", "本期累计", "上年同期"], ["争取中央预算内资金", "亿元", 12.5, 10],
            ["新增供地", "亩", 350, None]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows + [["填报单位：银川市"]]})
    table = clean(tmp_path, aliases).tables["indicators"].set_index("indicator")
    assert table.loc["中央预算内资金", "current"] == 125_000.0 and table.loc["中央预算内资金", "measure_unit"] == "万元"
    assert table.loc["新增供地", "current"] == 350.0 and pd.isna(table.loc["新增供地", "last_year"])


def test_fai_amounts_and_rates(tmp_path, aliases):
    rows = [["地区", "月份", "累计完成额（亿元）", "累计增速(%)", "上年同期增速(%)"],
            ["全区", "1-11月", "1,800.5", "4.5%", "3.1"], ["银川市", 11, None, "-2.0", "1.0"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows + [["填报单位：银川市"]]})
    fai = clean(tmp_path, aliases).tables["fai"].set_index("region")
    assert fai.loc["全区", "cum_value"] == pytest.approx(18_005_000.0)
    assert (fai.loc["全区", "month"], fai.loc["全区", "yoy_pct"]) == (11, 4.5)
    assert fai.loc["银川市", "yoy_pct"] == -2.0


def test_hidden_sheets_are_read_and_noted(tmp_path, aliases):
    grid = project_sheet([project_row(1, "P1", "甲")])[0]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": grid, "隐藏": project_sheet([project_row(1, "P9", "藏")])[0]},
               hidden=("隐藏",))
    result = clean(tmp_path, aliases)
    assert set(result.tables["projects"]["project_name"]) == {"甲", "藏"}
    assert result.ledger.set_index("sheet").loc["隐藏", "note"].startswith("隐藏工作表")


def test_a_round_with_no_returns_lists_every_unit_as_missing(tmp_path, aliases):
    raw_dir(tmp_path).mkdir(parents=True)
    result = clean(tmp_path, aliases, units=("银川市", "水利厅"))
    assert result.missing_units == ["银川市", "水利厅"]
    assert result.ledger.empty and list(result.ledger.columns[:9]) == [
        "file", "sheet", "unit", "return_kind", "data_rows", "kept", "kept_with_problems", "quarantined",
        "skipped_rows"]
    assert all(table.empty for table in result.tables.values())
    cleaning.check_ledger(result)


def test_fai_rows_are_one_per_region_and_month(tmp_path, aliases):
    rows = [["地区", "月份", "累计完成额（亿元）", "累计增速(%)"]] + [
        [region, f"1-{m}月", 100 * m, 3.0] for region in ("全区", "银川市") for m in (1, 2, 3)] + [
        ["全区", "1-3月", 300, 3.0]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows + [["填报单位：银川市"]]})
    result = clean(tmp_path, aliases)
    assert len(result.tables["fai"]) == 6
    assert result.quarantine["row"].tolist() == [8]  # only the real repeat of 全区 1-3月
    dup = result.problems[result.problems["code"] == "duplicate"].iloc[0]
    assert (dup["column"], dup["value"]) == ("地区、月份", "全区|3")


def test_a_total_right_under_the_header_totals_the_rows_below(tmp_path, aliases):
    rows = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
            ["合计", None, None, 300, 130], [1, "甲", "第一批", 100, 50, "是"], [2, "乙", "第二批", 200, 80, "是"],
            ["填报单位：银川市"]]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    result = clean(tmp_path, aliases)
    assert not (result.problems["code"] == "total_mismatch").any()
    assert len(result.tables["projects"]) == 2

    rows[1] = ["合计", None, None, 300, 999]
    write_xlsx(raw_dir(tmp_path) / "a.xlsx", {"S": rows})
    mismatch = clean(tmp_path, aliases).problems.query("code == 'total_mismatch'")
    assert mismatch["row"].tolist() == [2]
