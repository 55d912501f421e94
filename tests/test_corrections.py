"""Corrections (data/raw/<round>/corrections.csv): applied on the raw cell before parsing, never on the raw file.

Each case is a small round of real xlsx/csv files in a temporary project; the
last tests run the real chain (notebooks 01–04) to see the ledger, indicators.json
and the report's data-quality appendix.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from office import project_row, project_sheet, write_csv, write_round, write_xlsx

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.ingest import cleaning, corrections
from pipeline.run import runner

FILE = "银川市/银川市重大项目进展情况表（11月）.xlsx"
HEADER = ["文件", "工作表", "行号", "列", "原值", "修正值", "依据", "修正人", "日期"]


def make_round(root: Path) -> Path:
    """银川市's project return: row 5 甲 (fine), row 6 乙 with 完成 '约3000', row 7 丙 started after the cut-off,
    row 8 丁 with 是否开工 '待定'. The header has two rows: 2021年投资 over 计划 / 完成."""
    raw = write_round(root / "data" / "raw" / "r", ["银川市", "吴忠市"], as_of="2021-11-30")
    grid, merges = project_sheet([
        project_row(1, "P1", "甲项目", total=20000, plan=6000, done=5000),
        project_row(2, "P2", "乙项目", total=9000, plan=4000, done="约3000"),
        project_row(3, "P3", "丙项目", total=8000, plan=3000, done=1000, start=dt.date(2021, 12, 20)),
        project_row(4, "P4", "丁项目", total=7000, plan=2000, done=500, started="待定"),
    ])
    write_xlsx(raw / FILE, {"重大项目": grid}, {"重大项目": merges})
    write_csv(raw / "吴忠市" / "附件1.csv", [["项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"],
                                          ["戊项目", "第一批", "1000", "约200", "是"]])
    return raw


def write_corrections(raw: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    path = raw / corrections.CORRECTIONS_FILE
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def clean(root: Path) -> cleaning.RoundResult:
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    aliases = schemas.load_aliases(root / "data" / "header_aliases.csv")
    return cleaning.clean_round(rounds.load_round("r", root), aliases, echo=lambda *_: None)


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def project(result, name: str) -> pd.Series:
    table = result.tables["projects"]
    return table[table["project_name"] == name].iloc[0]


def errors_at(result, row: int) -> pd.DataFrame:
    p = result.problems
    return p[(p["file"] == FILE) & (p["row"] == row) & (p["severity"] == "错误")]


def not_applied(result) -> list[str]:
    p = result.problems
    return list(p.loc[p["code"] == corrections.NOT_APPLIED, "problem"])


# --------------------------------------------------------------------------- applied


@pytest.mark.parametrize("sheet, column", [
    ("重大项目", "2021年投资/完成"),  # as 退回修改清单 shows it
    ("重大项目 ", "2021年投资\n/完成"),  # a line break and a trailing space, as copied from Excel
    ("重大项目", "累计完成投资"),  # the standard name of the same column
])
def test_a_correction_replaces_the_raw_cell_before_parsing(tmp_path, sheet, column):
    raw = make_round(tmp_path)
    write_corrections(raw,
                      [[FILE, sheet, 6, column, "约3000", "3000", "2021-12-08 电话核实（王某）", "李某", "2021-12-08"]])
    before = digest(raw)

    result = clean(tmp_path)

    assert project(result, "乙项目")["completed"] == 3000
    assert errors_at(result, 6).empty
    assert not_applied(result) == []
    applied = result.corrections
    assert applied[["unit", "file", "sheet", "row", "old", "new", "basis", "by"]].values.tolist() == [
        ["银川市", FILE, "重大项目", 6, "约3000", "3000", "2021-12-08 电话核实（王某）", "李某"]]
    assert digest(raw) == before  # the raw return is never written


def test_the_ledger_counts_corrections_per_file_and_sheet(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3000", "电话", "李某", ""],
                            [FILE, "重大项目", 8, "是否开工", "待定", "是", "电话", "李某", ""],
                            ["吴忠市/附件1.csv", "附件1", 2, "累计完成投资", "约200", "200", "电话", "李某", ""]])
    result = clean(tmp_path)
    cleaning.check_ledger(result)
    ledger = result.ledger.set_index("file")
    assert ledger.loc[FILE, "corrected"] == 2
    assert ledger.loc["吴忠市/附件1.csv", "corrected"] == 1
    assert list(result.ledger.columns) == cleaning.LEDGER_COLUMNS and cleaning.LEDGER_COLUMNS[-1] == "corrected"
    assert project(result, "丁项目")["started"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_corrections_csv_in_the_encodings_offices_save(tmp_path, encoding):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3000", "电话核实", "李某", ""]],
                      encoding)
    assert project(clean(tmp_path), "乙项目")["completed"] == 3000


def test_corrections_csv_is_not_read_as_a_return(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [])
    result = clean(tmp_path)
    assert "corrections.csv" not in set(result.ledger["file"])


# --------------------------------------------------------------------------- not applied


@pytest.mark.parametrize("row, why", [
    ([FILE, "重大项目", 6, "2021年投资/完成", "约300", "300"], "原值不符：表中现为“约3000”"),
    (["银川市/旧文件.xlsx", "重大项目", 6, "2021年投资/完成", "约3000", "3000"],
     "本轮文件夹中没有文件“银川市/旧文件.xlsx”"),
    ([FILE, "第二批", 6, "2021年投资/完成", "约3000", "3000"], "文件中没有工作表“第二批”"),
    ([FILE, "重大项目", 99, "2021年投资/完成", "约3000", "3000"], "没有第99行"),
    ([FILE, "重大项目", 3, "项目名称", "项目名称", "名称"], "第3行在表头或表头之上"),
    ([FILE, "重大项目", "六", "2021年投资/完成", "约3000", "3000"], "行号“六”不是正整数"),
    ([FILE, "重大项目", 6, "完成投资额（亿元）", "约3000", "3000"], "没有列“完成投资额（亿元）”"),
])
def test_a_stale_or_unknown_correction_is_not_applied_and_is_reported_in_chinese(tmp_path, row, why):
    raw = make_round(tmp_path)
    write_corrections(raw, [[*row, "电话", "李某", ""]])

    result = clean(tmp_path)

    assert len(errors_at(result, 6)) == 1  # 约3000 is still an error
    assert result.corrections.empty
    [notice] = not_applied(result)
    assert notice.startswith("更正未应用（corrections.csv 第2行）") and why in notice, notice
    listed = result.problems[result.problems["code"] == corrections.NOT_APPLIED].iloc[0]
    assert listed["severity"] == "提示" and listed["unit"] == "银川市"


def test_two_corrections_of_one_cell_apply_neither(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3000", "电话", "李某", ""],
                            [FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3100", "复核", "王某", ""]])
    result = clean(tmp_path)
    notices = not_applied(result)
    assert len(notices) == 2 and all("同一单元格有2条更正（第2、3行），均未应用" in n for n in notices)
    assert result.corrections.empty and len(errors_at(result, 6)) == 1


def test_a_bad_corrections_file_stops_with_a_chinese_message(tmp_path):
    raw = make_round(tmp_path)
    (raw / corrections.CORRECTIONS_FILE).write_text("文件,行号,修正值\na,1,2\n", encoding="utf-8")
    with pytest.raises(corrections.CorrectionsError, match="corrections.csv 缺少列：工作表、列、原值"):
        clean(tmp_path)


# --------------------------------------------------------------------------- 删除行 and 保留


def test_delete_row_quarantines_the_row_with_the_reason_and_the_basis(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 8, "", "", "删除行", "单位来函：该项目已调出", "李某", "2021-12-08"]])

    result = clean(tmp_path)

    assert "丁项目" not in set(result.tables["projects"]["project_name"])
    quarantined = result.quarantine[result.quarantine["row"] == 8].iloc[0]
    assert "按更正记录删除此行（依据：单位来函：该项目已调出）" in quarantined["reasons"]
    assert errors_at(result, 8).empty  # nothing is left for the unit to fix in a deleted row
    assert result.corrections["new"].tolist() == ["删除行"]
    cleaning.check_ledger(result)


def test_keep_accepts_a_flagged_value_as_written(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 7, "开工时间", "2021-12-20", "保留", "已核实：提前进场", "李某", ""]])

    result = clean(tmp_path)

    kept = project(result, "丙项目")
    assert kept["start_date"] == pd.Timestamp("2021-12-20")
    assert errors_at(result, 7).empty
    hint = result.problems[(result.problems["row"] == 7) & (result.problems["code"] == "date_after_cutoff")].iloc[0]
    assert hint["severity"] == "提示" and "已按更正记录保留原值，依据：已核实：提前进场" in hint["problem"]
    assert result.corrections["new"].tolist() == ["保留"]


def test_keep_cannot_accept_a_value_that_cannot_be_read(tmp_path):
    raw = make_round(tmp_path)
    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "保留", "电话", "李某", ""]])
    result = clean(tmp_path)
    assert "不能保留，请填写修正值" in not_applied(result)[0]
    assert len(errors_at(result, 6)) == 1 and result.corrections.empty


# --------------------------------------------------------------------------- the skeleton


def test_the_skeleton_has_one_row_per_error_with_the_value_filled_in_and_reads_back(tmp_path, capsys, monkeypatch):
    make_round(tmp_path)
    result = clean(tmp_path)
    cleaning.save_clean(result, config.processed_round_dir("r", tmp_path))
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    from pipeline import __main__ as cli

    assert cli.main(["corrections", "r"]) == 0
    assert "已生成更正记录底稿 outputs/r/corrections.csv" in capsys.readouterr().out
    path = tmp_path / "outputs" / "r" / "corrections.csv"
    assert not (tmp_path / "data" / "raw" / "r" / "corrections.csv").exists()
    skeleton = pd.read_csv(path, encoding="utf-8-sig", dtype=str).fillna("")
    cell_errors = result.problems[(result.problems["severity"] == "错误") & result.problems["row"].notna()
                                  & (result.problems["code"] != "missing_return")]
    assert len(skeleton) == len(cell_errors) == 4
    assert ["银川市/银川市重大项目进展情况表（11月）.xlsx", "重大项目", "6", "2021年投资/完成", "约3000", ""] in \
        skeleton[["文件", "工作表", "行号", "列", "原值", "修正值"]].values.tolist()
    assert corrections.read_csv(path) == []  # nothing filled in: nothing to apply

    skeleton.loc[skeleton["原值"] == "约3000", ["修正值", "依据"]] = ["3000", "电话核实"]
    skeleton.to_csv(tmp_path / "data" / "raw" / "r" / "corrections.csv", index=False, encoding="utf-8-sig")
    again = clean(tmp_path)
    assert project(again, "乙项目")["completed"] == 3000 and not_applied(again) == []


# ----------------------------------------------------------------------- the chain: ledger, indicators, appendix, rerun


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("corrections-chain")
    raw = make_round(root)
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3000", "2021-12-08 电话核实（王某）",
                             "李某", ""],
                            [FILE, "重大项目", 8, "", "", "删除行", "单位来函", "李某", ""]])
    first: list[str] = []
    runner.run_round("r", root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=first.append, progress=False)
    return root, raw, first


def test_the_chain_records_corrections_in_ledger_indicators_and_the_appendix(chain):
    root, _, messages = chain
    ledger = pd.read_csv(root / "data" / "processed" / "r" / "ledger.csv").set_index("file")
    assert ledger.loc[FILE, "corrected"] == 2
    values = json.loads((root / "outputs" / "r" / "indicators.json").read_text(encoding="utf-8"))
    assert values["data_quality.corrections"] == 2
    html = (root / "outputs" / "r" / "report.html").read_text(encoding="utf-8")
    appendix = html.split('id="appendix_quality"', 1)[1]
    table = appendix.split("<caption>按更正记录应用的更正</caption>", 1)[1].split("</table>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1])]
    assert rows == [["银川市", FILE, "重大项目", "6", "2021年投资/完成", "约3000", "3000",
                     "2021-12-08 电话核实（王某）"],
                    ["银川市", FILE, "重大项目", "8", "", "", "删除行", "单位来函"]]
    assert any("更正记录（corrections.csv）：应用 2 条，未应用 0 条" in m for m in messages)


def test_a_changed_corrections_csv_reruns_from_the_first_step(chain):
    root, raw, _ = chain
    unchanged: list[str] = []
    runner.run_round("r", root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=unchanged.append, progress=False)
    assert sum("输入、参数和代码均未变化，跳过" in m for m in unchanged) == 4

    write_corrections(raw, [[FILE, "重大项目", 6, "2021年投资/完成", "约3000", "3000", "复核", "李某", ""]])
    lines: list[str] = []
    runner.run_round("r", root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=lines.append, progress=False)

    assert "      运行原因：corrections.csv 有变化。" in lines
    assert not any("跳过" in m for m in lines)
    values = json.loads((root / "outputs" / "r" / "indicators.json").read_text(encoding="utf-8"))
    assert values["data_quality.corrections"] == 1


def test_every_cell_error_of_the_sample_round_can_be_settled_from_the_skeleton(tmp_path):
    """The analyst's loop on the sample round: skeleton, 修正值 typed in, copied to data/raw: every correction
    applies."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copytree(config.raw_round_dir(config.SAMPLE_ROUND), tmp_path / "data" / "raw" / config.SAMPLE_ROUND)
    shutil.copy(config.HEADER_ALIASES_FILE, tmp_path / "data" / "header_aliases.csv")
    aliases = schemas.load_aliases(tmp_path / "data" / "header_aliases.csv")
    round_ = rounds.load_round(config.SAMPLE_ROUND, tmp_path)
    before = cleaning.clean_round(round_, aliases, echo=lambda *_: None)
    cleaning.save_clean(before, config.processed_round_dir(config.SAMPLE_ROUND, tmp_path))
    path, rows = corrections.write_skeleton(config.SAMPLE_ROUND, tmp_path)
    skeleton = pd.read_csv(path, encoding="utf-8-sig", dtype=str).fillna("")
    by_problem = {"晚于数据截至日期": "保留", "日期不存在": "2021-03-15", "项目名称未填写": "补填的项目",
                  "金额为负数": "19332",
                  "应填“是”或“否”": "是", "大于总投资": "保留", "与明细之和不符": "保留", "不是有效数字": "236600",
                  "重复填报": "删除行"}
    skeleton["修正值"] = [next((v for k, v in by_problem.items() if k in p), None) for p in skeleton["问题"]]
    assert skeleton["修正值"].notna().all(), f"a planted mistake this test does not know: {list(skeleton['问题'])}"
    skeleton["依据"] = "电话核实"
    skeleton.to_csv(round_.raw_dir / "corrections.csv", index=False, encoding="utf-8-sig")

    after = cleaning.clean_round(round_, aliases, echo=lambda *_: None)

    assert rows == len(skeleton) == len(after.corrections) > 5
    assert not_applied(after) == []
    assert list(after.problems.loc[after.problems["severity"] == "错误", "code"]) == ["missing_return"]  # 农业农村厅
    cleaning.check_ledger(after)
    assert after.ledger["corrected"].sum() == rows


def test_keep_accepts_a_doubtful_money_unit_for_the_whole_sheet(tmp_path):
    """Small amounts in 万元 look like 亿元 typed as 万元: the unit confirms they are 万元 indeed."""
    raw = write_round(tmp_path / "data" / "raw" / "r", ["银川市"])
    grid, merges = project_sheet([project_row(i, f"S{i}", f"小项目{i}", total=60, plan=30, done=10)
                                  for i in range(1, 4)])
    write_xlsx(raw / FILE, {"重大项目": grid}, {"重大项目": merges})
    waiting = clean(tmp_path).tables["projects"]  # counted, but no amount of theirs enters a sum until the unit answers
    assert len(waiting) == 3 and waiting["total_investment"].isna().all()
    write_corrections(raw, [[FILE, "重大项目", 4, "总投资", "", "保留", "电话确认确为万元", "李某", ""]])

    result = clean(tmp_path)

    assert len(result.tables["projects"]) == 3 and result.quarantine.empty
    assert result.tables["projects"]["total_investment"].tolist() == [60.0] * 3
    assert result.tables["projects"]["set_aside_wan"].sum() == 0 and result.tables["projects"]["issues"].isna().all()
    doubt = result.problems[result.problems["code"] == "implausible_unit"].iloc[0]
    assert doubt["severity"] == "提示" and "电话确认确为万元" in doubt["problem"]
