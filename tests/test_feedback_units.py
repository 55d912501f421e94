"""One 退回修改 list per unit: only that unit's rows, a covering sheet, none for clean units; 汇总 and the run
summary name them."""
from __future__ import annotations

import shutil

import openpyxl
import pytest
from office import project_row, project_sheet, write_csv, write_round, write_xlsx

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.ingest import cleaning, corrections, feedback
from pipeline.report.summaries import returns_by_unit

UNITS = ["银川市", "吴忠市", "石嘴山市", "固原市"]


@pytest.fixture
def result(tmp_path):
    """银川市 with two errors, 吴忠市 clean, 石嘴山市 with errors in a csv and a stale correction, 固原市 missing."""
    raw = write_round(tmp_path / "data" / "raw" / "r", UNITS, feedback_due="2021-12-15")
    grid, merges = project_sheet([project_row(1, "P1", "甲项目", done="约3000"),
                                  project_row(2, "P2", "乙项目", started="待定")])
    write_xlsx(raw / "银川市" / "重大项目.xlsx", {"重大项目": grid}, {"重大项目": merges})
    write_csv(raw / "吴忠市" / "附件1.csv", [["项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
                                          ["丙项目", "第一批", "1000", "200", "是"]])
    write_csv(raw / "石嘴山市" / "附件1.csv", [["项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
                                            ["丁项目", "第三批", "1000", "200", "是"]])
    (raw / "corrections.csv").write_text("文件,工作表,行号,列,原值,修正值\n"
                                         "石嘴山市/附件1.csv,附件1,2,批次,第四批,第一批\n", encoding="utf-8")
    shutil.copy(config.HEADER_ALIASES_FILE, tmp_path / "data" / "header_aliases.csv")
    round_ = rounds.load_round("r", tmp_path)
    cleaned = cleaning.clean_round(round_, schemas.load_aliases(tmp_path / "data" / "header_aliases.csv"),
                                   echo=lambda *_: None)
    out = tmp_path / "outputs" / "r"
    feedback.write_feedback(cleaned, round_, out)
    return cleaned, round_, out


def problem_rows(ws) -> list[list]:
    header = next(i for i, row in enumerate(ws.iter_rows(values_only=True), start=1) if row[0] == "单位")
    return [list(row) for row in ws.iter_rows(min_row=header + 1, values_only=True) if any(row)]


def test_each_unit_with_errors_gets_its_own_list_and_clean_units_none(result):
    cleaned, round_, out = result
    assert sorted(p.name for p in (out / "退回修改").iterdir()) == ["固原市.xlsx", "石嘴山市.xlsx", "银川市.xlsx"]
    assert not (out / "退回修改" / "吴忠市.xlsx").exists()


def test_a_units_list_holds_only_its_own_rows(result):
    cleaned, _, out = result
    for unit in ("银川市", "石嘴山市"):
        rows = problem_rows(openpyxl.load_workbook(out / "退回修改" / f"{unit}.xlsx")["问题清单"])
        problems = cleaned.problems
        mine = problems[(problems["unit"] == unit) & (problems["code"] != corrections.NOT_APPLIED)]
        assert len(rows) == len(mine) > 0
        assert {r[0] for r in rows} == {unit}
    yinchuan = problem_rows(openpyxl.load_workbook(out / "退回修改" / "银川市.xlsx")["问题清单"])
    assert [(r[3], r[5]) for r in yinchuan if r[8] == "错误"] == [(5, "约3000"), (6, "待定")]
    shizuishan = problem_rows(openpyxl.load_workbook(out / "退回修改" / "石嘴山市.xlsx")["问题清单"])
    assert not any("更正未应用" in (r[6] or "") for r in shizuishan)  # the analyst's note stays in the combined list
    combined = problem_rows(openpyxl.load_workbook(out / feedback.FEEDBACK_FILE)["问题清单"])
    assert any(r[0] == "石嘴山市" and "更正未应用" in r[6] for r in combined)


def test_the_covering_sheet_says_round_cut_off_what_and_by_when(result):
    cleaned, round_, out = result
    ws = openpyxl.load_workbook(out / "退回修改" / "银川市.xlsx")["说明"]
    cover = {row[0]: row[1] for row in ws.iter_rows(min_row=3, values_only=True) if row[0]}
    assert cover["督查轮次"] == "测试轮次（r）"
    assert cover["数据截至日期"] == "2021年11月30日"
    assert cover["单位"] == "银川市"
    assert cover["需修改的错误"] == "2条"
    assert cover["涉及文件"] == "银川市/重大项目.xlsx"
    assert cover["报送期限"] == "2021年12月15日前"
    missing = openpyxl.load_workbook(out / "退回修改" / "固原市.xlsx")["说明"]
    assert ("涉及文件", "（本轮未报送）") in [row[:2] for row in missing.iter_rows(values_only=True)]


def test_without_feedback_due_the_cover_asks_for_soon(tmp_path):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市"])
    round_ = rounds.load_round("r", tmp_path)
    assert round_.feedback_due is None
    cover = feedback.cover_sheet(round_, "银川市", feedback.problem_list(cleaning.clean_round(
        round_, schemas.load_aliases(), echo=lambda *_: None)))
    assert cover.set_index("项目").loc["报送期限", "内容"].startswith("请尽快")


def test_a_bad_feedback_due_is_explained(tmp_path):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市"], feedback_due="12月15日")
    with pytest.raises(rounds.RoundError, match="feedback_due（退回修改截止日期）不是有效日期"):
        rounds.load_round("r", tmp_path)


def test_the_summary_sheet_and_the_run_summary_name_the_unit_files(result):
    cleaned, _, out = result
    ws = openpyxl.load_workbook(out / feedback.FEEDBACK_FILE)["汇总"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    header = list(rows[0])
    column = header.index("分单位清单")
    by_unit = {r[0]: r[column] for r in rows[1:]}
    assert by_unit == {"银川市": "退回修改/银川市.xlsx", "吴忠市": None, "石嘴山市": "退回修改/石嘴山市.xlsx",
                       "固原市": "退回修改/固原市.xlsx"}
    summary = feedback.run_summary(cleaned)
    assert "分单位退回修改清单 3 份：" in summary
    for name in ("退回修改/银川市.xlsx", "退回修改/石嘴山市.xlsx", "退回修改/固原市.xlsx"):
        assert name in summary
    assert "吴忠市.xlsx" not in summary


def test_a_unit_clean_now_loses_last_runs_list(result):
    cleaned, round_, out = result
    clean_now = cleaned.problems[cleaned.problems["unit"] != "银川市"].reset_index(drop=True)
    feedback.write_feedback(cleaning.RoundResult(cleaned.tables, cleaned.quarantine, clean_now, cleaned.ledger,
                                                 cleaned.missing_units), round_, out)
    assert not (out / "退回修改" / "银川市.xlsx").exists()
    assert (out / "退回修改" / "石嘴山市.xlsx").exists()


def test_a_stale_correction_is_the_analysts_not_counted_against_the_unit(result):
    cleaned, round_, out = result
    summary = {r[0]: r for r in openpyxl.load_workbook(out / feedback.FEEDBACK_FILE)["汇总"].iter_rows(
        min_row=3, values_only=True)}
    own = cleaned.problems[(cleaned.problems["unit"] == "石嘴山市")
                           & (cleaned.problems["code"] != corrections.NOT_APPLIED)]
    header = [c.value for c in next(openpyxl.load_workbook(out / feedback.FEEDBACK_FILE)["汇总"].iter_rows(
        min_row=2, max_row=2))]
    assert summary["石嘴山市"][header.index("提示")] == int((own["severity"] != "错误").sum())
    by_unit = returns_by_unit(cleaned.ledger, cleaned.problems, UNITS).set_index("unit")
    assert by_unit.loc["石嘴山市", "hints"] == int((own["severity"] != "错误").sum())
    text = feedback.run_summary(cleaned)
    analyst_part = text.split("给分析人员的提示（不发给单位）：")[1]
    assert "更正未应用（corrections.csv 第2行）" in analyst_part
    assert text.count("更正未应用（corrections.csv 第2行）") == 1
