"""What a round's figures leave out, and the words that say so (pipeline/ingest/quality.py), from real returns."""
import pandas as pd
from office import write_round, write_xlsx

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, quality
from pipeline.report import render as report

HEADER = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]


def clean(root, units):
    write_round(root / "data" / "raw" / "r", list(units), as_of="2021-11-30")
    result = cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)
    return result, quality.assess(result.ledger, result.problems, result.quarantine, result.tables, units)


def raw(root):
    return root / "data" / "raw" / "r"


def test_a_complete_round_says_nothing(tmp_path):
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": [HEADER, [1, "甲", "第一批", 100, 50, "是"]]})
    _, q = clean(tmp_path, ("银川市",))
    assert q.complete and quality.findings(q) == [] and quality.warning_lines(q) == []
    assert quality.caveat(q, "projects", ("银川市",)) == ""
    assert quality.quality_values(q)["data_quality.complete"] is True


def test_a_missing_unit_is_named_only_where_a_unit_of_its_kind_reports(tmp_path):
    units = ("银川市", "吴忠市", "农业农村厅")
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": [HEADER, [1, "甲", "第一批", 100, 50, "是"]]})
    _, q = clean(tmp_path, units)
    assert q.missing_units == ["吴忠市", "农业农村厅"]
    assert quality.caveat(q, "projects", units) == "（不含吴忠市、农业农村厅报表）"
    assert quality.caveat(q, "attraction", units) == "（不含吴忠市报表）"  # a department sends no 招商引资 return
    assert quality.caveat(q, "fai", units) == ""  # nor does any unit send the statistics bureau's FAI
    assert "固定资产投资完成额和增速" not in " ".join(quality.warning_lines(q))


def test_a_rejected_file_a_missing_column_and_a_bad_cell_are_each_named_with_rows_and_money(tmp_path):
    units = ("银川市", "吴忠市", "交通运输厅")
    write_xlsx(raw(tmp_path) / "银川市.xlsx",
               {"S": [HEADER, [1, "甲", "第一批", 100, "约50", "是"], [2, None, "第一批", 300, 90, "是"]]})
    write_xlsx(raw(tmp_path) / "吴忠市.xlsx", {"S": [HEADER[:-1], [1, "乙", "第一批", 200, 80]]})
    (raw(tmp_path) / "交通运输厅.xlsx").write_bytes(b"%PDF-1.4 not a workbook")
    result, q = clean(tmp_path, units)
    values = quality.quality_values(q)
    assert values["data_quality.complete"] is False
    assert values["data_quality.excluded_units"] == ["交通运输厅", "吴忠市", "银川市"]
    assert values["data_quality.excluded_rows"] == 1 and values["data_quality.excluded_wan"] == 390  # the nameless row
    text = "\n".join(quality.findings(q))
    assert "交通运输厅：交通运输厅.xlsx未能采用" in text and "缺少必填列“是否开工”" in text
    assert "银川市：1行重大项目进展情况表数据无法统计，已隔离（涉及金额0.04亿元）" in text
    assert "银川市：1行重大项目进展情况表有无法识别或存疑的取值" in text
    assert quality.unit_status(q, "交通运输厅", "projects") == "报表未采用"
    assert quality.unit_status(q, "吴忠市", "projects") == "部分数据未计入"


def test_the_unit_table_shows_a_rejected_return_as_not_used_not_as_zero_projects(tmp_path):
    units = ("银川市", "交通运输厅")
    write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": [HEADER, [1, "甲", "第一批", 100, 50, "是"]]})
    (raw(tmp_path) / "交通运输厅.xlsx").write_bytes(b"%PDF-1.4 not a workbook")
    _, q = clean(tmp_path, units)
    by_unit = pd.DataFrame({"unit": list(units), "projects": [1, 0], "started": [1, 0], "plan_yi": [0.01, 0.0]})
    shown = report.units_with_status(by_unit, q).set_index("unit")
    assert shown.loc["交通运输厅", "data_status"] == "报表未采用" and pd.isna(shown.loc["交通运输厅", "projects"])
    assert shown.loc["银川市", "data_status"] == "" and shown.loc["银川市", "projects"] == 1


def test_uncomputable_values_are_grouped_by_reason_one_line_each():
    items = pd.DataFrame({"指标": [f"指标{i}" for i in range(8)] + ["甲"],
                          "键": [f"k{i}" for i in range(9)],
                          "原因": ["本轮未收到十大工程项目推进情况表。"] * 8 + ["round.yml 未填写督查日期"]})
    lines = report.open_items_by_reason(items)
    assert lines == ["  本轮未收到十大工程项目推进情况表：8项无法计算（指标0、指标1、指标2、指标3、指标4、指标5等）",
                     "  round.yml 未填写督查日期：1项无法计算（甲）"]
