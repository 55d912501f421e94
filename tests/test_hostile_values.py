"""Values that would distort a figure silently: wrong money units, percent cells, error values, invisible
characters, same-named projects and revised files — each a real file, each with the ledger checked."""
import openpyxl
import pandas as pd
import pytest
import xlwt
from layouts import libreoffice_convert, soffice
from office import write_csv, write_round, write_xlsx
from test_cleaning import assert_ledger_reconciles
from test_hostile_files import write_xlsb

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, quality

HEADER = ["序号", "项目名称", "批次", "总投资", "年度计划投资", "累计完成投资", "是否开工"]
UNITS = ("银川市", "吴忠市", "交通运输厅")


def raw(root):
    return root / "data" / "raw" / "r"


def clean(root, units=UNITS):
    """Clean the round, and prove the raw files were only read."""
    write_round(raw(root), list(units), as_of="2021-11-30")
    before = {p: p.read_bytes() for p in raw(root).rglob("*") if p.is_file()}
    result = cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)
    assert {p: p.read_bytes() for p in raw(root).rglob("*") if p.is_file()} == before
    return result


def codes(result, row=None):
    rows = result.problems if row is None else result.problems[result.problems["row"] == row]
    return list(rows["code"])


# --------------------------------------------------------------------------- money in the wrong unit


@pytest.mark.parametrize("factor, note", [(10_000, "元"), (10, "千元")])
def test_amounts_typed_in_yuan_in_a_wan_sheet_are_asked_about_and_left_out(tmp_path, factor, note):
    """A city's plan in 元 read as 万元 would be 80,000亿元: the sheet is counted but none of its amounts summed."""
    rows = [HEADER] + [[i, f"项目{i}", "第一批", total * factor * 10_000, plan * factor * 10_000,
                        done * factor * 10_000, "是"]
                       for i, (total, plan, done) in enumerate([(12.5, 3, 1.2), (8, 2, 0.5), (20, 5, 2.5)], start=1)]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path)
    projects = result.tables["projects"]
    assert len(projects) == 3 and projects[["total_investment", "annual_plan", "completed"]].isna().all().all()
    doubt = result.problems[result.problems["code"] == "implausible_unit"].iloc[0]
    assert "疑似按元或千元填写" in doubt["problem"] and doubt["severity"] == "错误"
    assert_ledger_reconciles(result)
    q = quality.assess(result.ledger, result.problems, result.quarantine, result.tables, UNITS)
    assert not q.complete and "银川市" in q.excluded_units and q.excluded_wan > 0
    assert any("未计入相应的合计" in line and "未计入的金额" in line for line in quality.findings(q))


@pytest.mark.parametrize("where", ["unit_row", "header"])
def test_qianyuan_stated_in_a_unit_row_or_a_header_is_converted(tmp_path, where):
    header = [h + ("（千元）" if where == "header" and h in ("年度计划投资", "累计完成投资", "总投资") else "")
              for h in HEADER]
    unit_row = [["单位：千元"]] if where == "unit_row" else []
    rows = unit_row + [header, [1, "甲", "第一批", 90_000, 30_000, 12_000, "是"]]
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": rows})
    project = clean(tmp_path).tables["projects"].iloc[0]
    assert (project["total_investment"], project["annual_plan"], project["completed"]) == (9_000, 3_000, 1_200)


def test_a_percentage_typed_in_a_money_column_is_an_error_not_an_amount(tmp_path):
    rows = [HEADER, [1, "甲", "第一批", 1000, 500, "85%", "是"], [2, "乙", "第一批", 1000, 500, 300, "是"]]
    write_csv(raw(tmp_path) / "银川市.csv", rows, encoding="gb18030")
    result = clean(tmp_path)
    projects = result.tables["projects"].set_index("project_name")
    assert pd.isna(projects.loc["甲", "completed"]) and projects["completed"].sum() == 300
    assert "金额栏填写了百分比" in result.problems.loc[result.problems["code"] == "bad_money", "problem"].iloc[0]


# --------------------------------------------------------------------------- cells that are not what they show


def percent_book(path, cells):
    """An FAI return whose growth cells are typed as 0.085 in a 0.0% format, as Excel stores them."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["地区", "月份", "累计完成额", "累计增速", "上年同期增速"])
    for region, cum, now, last in cells:
        ws.append([region, "1-11月", cum, now, last])
        ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
        ws.cell(row=ws.max_row, column=5).number_format = "0.00%"
    book.save(path)


def test_percent_cells_in_rate_columns_read_as_shown_and_a_percent_cell_in_money_is_an_error(tmp_path):
    path = raw(tmp_path) / "交通运输厅" / "固投.xlsx"
    path.parent.mkdir(parents=True)
    percent_book(path, [("全区", 1200.5, 0.085, -0.021), ("银川市", 600, 0.1, 0.05)])
    book = openpyxl.load_workbook(path)
    book.active.cell(row=3, column=3).number_format = "0%"  # an amount formatted as a percentage by mistake
    book.save(path)
    result = clean(tmp_path)
    fai = result.tables["fai"].set_index("region")
    assert fai.loc["全区", "yoy_pct"] == pytest.approx(8.5) and fai.loc["全区", "last_yoy_pct"] == pytest.approx(-2.1)
    assert pd.isna(fai.loc["银川市", "cum_value"])
    assert "百分比格式" in result.problems.loc[(result.problems["row"] == 3), "problem"].iloc[0]


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_percent_and_error_cells_of_a_libreoffice_file_read_as_shown(tmp_path, fmt):
    """The same FAI return saved by LibreOffice (as .ods, or as .xls): 8.5% still 8.5, a #DIV/0! still an error."""
    source = tmp_path / "src" / "固投.xlsx"
    source.parent.mkdir()
    percent_book(source, [("全区", 1200.5, 0.085, -0.021), ("银川市", 600, 0.1, 0.05)])
    book = openpyxl.load_workbook(source)
    book.active["D3"] = "=1/0"  # 银川市's growth: a formula LibreOffice computes to #DIV/0!
    book.save(source)
    (raw(tmp_path) / "交通运输厅").mkdir(parents=True)
    libreoffice_convert(source, raw(tmp_path) / "交通运输厅", fmt)
    result = clean(tmp_path)
    fai = result.tables["fai"].set_index("region")
    assert fai.loc["全区", "yoy_pct"] == pytest.approx(8.5) and fai.loc["全区", "last_yoy_pct"] == pytest.approx(-2.1)
    assert pd.isna(fai.loc["银川市", "yoy_pct"]) and fai.loc["银川市", "last_yoy_pct"] == pytest.approx(5)
    problem = result.problems[result.problems["code"] == "excel_error"].iloc[0]
    assert problem["problem"] == "单元格是公式错误 #DIV/0!，无法读取数值" and problem["row"] == 3
    assert_ledger_reconciles(result)


def test_fractions_in_the_rate_column_of_an_xlsb_are_asked_about(tmp_path):
    """An .xlsb does not say which cells are formatted as percentages: 0.085 is read as typed, and the unit asked."""
    rows = [["地区", "月份", "累计完成额", "累计增速(%)"], ["全区", "1-11月", 1200.5, 0.085],
            ["银川市", "1-11月", 600, -0.021]]
    (raw(tmp_path) / "交通运输厅").mkdir(parents=True)
    write_xlsb(raw(tmp_path) / "交通运输厅" / "固投.xlsb", "固投", rows)
    result = clean(tmp_path)
    assert result.tables["fai"]["yoy_pct"].tolist() == [0.085, -0.021]
    hint = result.problems[result.problems["code"] == "percent_unknown_xlsb"].iloc[0]
    assert hint["severity"] == "提示" and hint["column"] == "累计增速(%)"
    assert "已按0.085%读取；如表中显示为8.5%，请另存为 .xlsx" in hint["problem"]


def test_percentages_typed_as_numbers_in_an_xlsb_are_not_asked_about(tmp_path):
    rows = [["地区", "月份", "累计完成额", "累计增速(%)"], ["全区", "1-11月", 1200.5, 8.5],
            ["银川市", "1-11月", 600, 0.4]]
    (raw(tmp_path) / "交通运输厅").mkdir(parents=True)
    write_xlsb(raw(tmp_path) / "交通运输厅" / "固投.xlsb", "固投", rows)
    result = clean(tmp_path)
    assert result.tables["fai"]["yoy_pct"].tolist() == [8.5, 0.4]
    assert "percent_unknown_xlsb" not in codes(result)


@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#VALUE!"])
def test_excel_error_values_say_what_the_cell_holds(tmp_path, error):
    path = raw(tmp_path) / "银川市.xlsx"
    write_xlsx(path,
               {"S": [HEADER, [1, "甲", "第一批", 1000, 500, 0, "是"], [2, "乙", "第一批", 1000, 500, 200, "是"]]})
    book = openpyxl.load_workbook(path)
    cell = book["S"].cell(row=2, column=6)
    cell.value, cell.data_type = error, "e"
    book.save(path)
    result = clean(tmp_path)
    problem = result.problems[result.problems["code"] == "excel_error"].iloc[0]
    assert problem["problem"] == f"单元格是公式错误 {error}，无法读取数值" and problem["row"] == 2
    projects = result.tables["projects"].set_index("project_name")
    assert pd.isna(projects.loc["甲", "completed"]) and len(projects) == 2  # kept, its amount unknown
    assert not (result.problems["code"] == "required_empty").any()  # not “未填写”: the unit did fill it
    assert_ledger_reconciles(result)


def test_invisible_characters_around_numbers_and_names_are_removed_with_a_hint(tmp_path):
    rows = [HEADER, [1, "\u200b甲项目\u200b", "第一批", "1,000\u200b", "\ufeff500", "300", "是"],
            [2, "乙项目", "第一批", 800, 400, "\u2060200", "是"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path)
    projects = result.tables["projects"].set_index("project_name")
    assert projects.loc["甲项目", "total_investment"] == 1000 and projects.loc["甲项目", "annual_plan"] == 500
    assert projects.loc["乙项目", "completed"] == 200
    hint = result.problems[result.problems["code"] == "invisible_characters"].iloc[0]
    assert hint["severity"] == "提示" and "第2、3行" in hint["problem"]


# --------------------------------------------------------------------------- which copy wins


@pytest.mark.parametrize("code", ["待赋码", "待定", "暂无"])
def test_placeholder_codes_are_no_codes(tmp_path, code):
    header = ["序号", "项目编号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [header, [1, code, "甲", "第一批", 100, 50, "是"], [2, code, "乙", "第一批", 200, 80, "是"],
            [3, "2021-640100-1", "丙", "第一批", 300, 90, "是"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["甲", "乙", "丙"] and result.quarantine.empty


def same_named(root, city_place, dept_place, dept_total):
    header = ["序号", "项目名称", "批次", "所在市/县区", "总投资", "年度计划投资", "累计完成投资", "是否开工"]
    write_xlsx(raw(root) / "吴忠市.xlsx",
               {"S": [header, [1, "光伏发电项目", "第一批", city_place, 50_000, 10_000, 4_000, "是"]]})
    write_xlsx(raw(root) / "交通运输厅.xlsx",
               {"S": [header, [1, "光伏发电项目", "第一批", dept_place, dept_total, 8_000, 3_000, "是"]]})


def test_two_units_generic_names_are_not_merged_on_the_name_alone(tmp_path):
    same_named(tmp_path, "吴忠市利通区", "石嘴山市大武口区", 80_000)
    result = clean(tmp_path)
    assert len(result.tables["projects"]) == 2 and result.quarantine.empty  # both counted until the units confirm
    asked = result.problems[result.problems["code"] == "same_name_unconfirmed"]
    assert set(asked["unit"]) == {"吴忠市", "交通运输厅"} and (asked["severity"] == "错误").all()


@pytest.mark.parametrize("dept_place, dept_total", [("吴忠市利通区", 80_000), ("", 50_200)])
def test_same_name_with_the_same_place_or_total_is_one_project(tmp_path, dept_place, dept_total):
    same_named(tmp_path, "吴忠市利通区", dept_place, dept_total)
    result = clean(tmp_path)
    assert result.tables["projects"]["unit"].tolist() == ["吴忠市"]  # the home city's copy
    assert result.quarantine["duplicate"].tolist() == [True]
    q = quality.assess(result.ledger, result.problems, result.quarantine, result.tables, ("吴忠市", "交通运输厅"))
    assert q.complete  # a copy counted once is not a loss


@pytest.mark.parametrize("revised",
                         ["银川市重大项目（11月）更正.xlsx", "银川市重大项目（11月）_v2.xlsx",
                          "银川市重大项目（11月）（修订版）.xlsx"])
def test_a_revised_file_replaces_the_original(tmp_path, revised):
    rows = [HEADER, [1, "甲", "第一批", 1000, 500, 100, "是"], [2, "乙", "第一批", 800, 400, 50, "否"]]
    write_xlsx(raw(tmp_path) / "银川市" / "银川市重大项目（11月）.xlsx", {"S": rows})
    fixed = [HEADER, [1, "甲", "第一批", 1000, 500, 300, "是"], [2, "乙", "第一批", 800, 400, 120, "是"]]
    write_xlsx(raw(tmp_path) / "银川市" / revised, {"S": fixed})
    result = clean(tmp_path)
    projects = result.tables["projects"]
    assert set(projects["file"]) == {f"银川市/{revised}"} and projects["completed"].sum() == 420
    told = result.problems[result.problems["code"] == "superseded_by_revision"].iloc[0]
    assert told["file"] == "银川市/银川市重大项目（11月）.xlsx" and "已采用修改版" in told["problem"]
    assert_ledger_reconciles(result)
    assert quality.assess(result.ledger, result.problems, result.quarantine, result.tables, ("银川市",)).complete


def test_a_hidden_stale_column_in_an_xls_loses_to_the_visible_one(tmp_path):
    path = raw(tmp_path) / "银川市.xls"
    path.parent.mkdir(parents=True)
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("S")
    header = ["序号", "项目名称", "批次", "年度计划投资", "1-10月完成投资", "1-11月完成投资", "是否开工"]
    for r, row in enumerate([header, [1, "甲", "第一批", 100, 40, 60, "是"], [2, "乙", "第一批", 200, 70, 90, "是"]]):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    ws.col(4).hidden = True
    book.save(str(path))
    result = clean(tmp_path)
    assert result.tables["projects"]["completed"].sum() == 150
    assert "hidden_duplicate_column" in codes(result)


def test_a_project_on_a_hidden_sheet_that_the_live_sheet_lacks_is_still_counted(tmp_path):
    stale = [HEADER, [1, "甲", "第一批", 1000, 500, 100, "是"], [2, "旧项目", "第一批", 300, 100, 10, "是"]]
    live = [HEADER, [1, "甲", "第一批", 1000, 500, 300, "是"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"10月": stale, "11月": live}, hidden=("10月",))
    result = clean(tmp_path)
    projects = result.tables["projects"].set_index("project_name")
    assert projects.loc["甲", "sheet"] == "11月" and projects.loc["甲", "completed"] == 300
    assert "旧项目" in projects.index  # nothing silently dropped: only the copy the live sheet has loses
    problems = result.problems
    stale_copy = problems[(problems["code"] == "duplicate") & (problems["sheet"] == "10月")].iloc[0]
    assert stale_copy["severity"] == "提示" and "隐藏工作表中的旧数据" in stale_copy["problem"]


def test_a_plan_over_the_total_investment_and_a_title_of_another_year_are_pointed_out(tmp_path):
    rows = [["2020年重大项目进展情况表"], HEADER, [1, "甲", "第一批", 1000, 50_000, 300, "是"],
            [2, "乙", "第一批", 800, 400, 100, "是"]]
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": rows})
    result = clean(tmp_path)
    over = result.problems[result.problems["code"] == "plan_over_total"].iloc[0]
    assert over["row"] == 3 and "年度计划投资（50,000.00万元）大于总投资（1,000.00万元）" in over["problem"]
    assert result.tables["projects"]["annual_plan"].sum() == 50_400  # asked, not changed
    year = result.problems[result.problems["code"] == "other_year"].iloc[0]
    assert year["severity"] == "提示" and "2020年" in year["problem"] and "2021年" in year["problem"]
