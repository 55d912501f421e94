"""What goes back to the units: 退回修改清单.xlsx, and the run's own summary of the cleaning."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import quality
from pipeline.cleaning import ERROR, RoundResult
from pipeline.excel_out import write_workbook
from pipeline.rounds import Round

FEEDBACK_FILE = "退回修改清单.xlsx"
PROBLEM_LABELS = {
    "unit": "单位", "file": "文件", "sheet": "工作表", "row": "行号", "column": "列（表头）",
    "value": "填报值", "problem": "问题", "fix": "修改建议", "severity": "级别",
}


def problem_list(result: RoundResult) -> pd.DataFrame:
    """Every problem, 错误 before 提示 within a unit, in the order the unit reads its files."""
    frame = result.problems.copy()
    frame["_order"] = (frame["severity"] != ERROR).astype(int)
    frame = frame.sort_values(["unit", "_order", "file", "sheet", "row"], na_position="first", kind="stable")
    return frame[list(PROBLEM_LABELS)].rename(columns=PROBLEM_LABELS).reset_index(drop=True)


def unit_summary(result: RoundResult, round_: Round) -> pd.DataFrame:
    """Per expected unit: reported or not, files, rows kept and quarantined, problems to fix."""
    ledger, problems = result.ledger, result.problems
    units = list(round_.units) + sorted(set(ledger["unit"]) - set(round_.units))
    rows = []
    for unit in units:
        mine = ledger[ledger["unit"] == unit]
        issues = problems[problems["unit"] == unit]
        rows.append({
            "单位": unit,
            "报送情况": "未报送" if unit in result.missing_units else ("已报送" if unit in round_.units else "名单外单位"),
            "文件数": mine["file"].nunique(),
            "数据行": int(mine["data_rows"].sum()),
            "采用行": int(mine["kept"].sum()),
            "隔离行": int(mine["quarantined"].sum()),
            "需修改（错误）": int((issues["severity"] == ERROR).sum()),
            "提示": int((issues["severity"] != ERROR).sum()),
        })
    return pd.DataFrame(rows)


def write_feedback(result: RoundResult, round_: Round, out_dir: Path) -> Path:
    """outputs/<round>/退回修改清单.xlsx: a summary per unit, every problem, and the units that did not report."""
    summary = unit_summary(result, round_)
    missing = summary.loc[summary["报送情况"] == "未报送", ["单位", "报送情况"]]
    return write_workbook(
        Path(out_dir) / FEEDBACK_FILE,
        {"汇总": summary, "问题清单": problem_list(result), "未报送单位": missing},
        notes={
            "汇总": f"{round_.title}（数据截至{round_.as_of:%Y年%m月%d日}）：各单位报送与问题情况",
            "问题清单": "行号为单位在 Excel 中看到的行号；“错误”需修改后重新报送，“提示”请核实。",
        },
    )


def run_summary(result: RoundResult) -> str:
    """A few Chinese lines for the run's output: what was read, kept and quarantined, and what failed."""
    ledger, problems = result.ledger, result.problems
    lines = [
        f"读取文件 {ledger['file'].nunique()} 个、工作表 {int((ledger['status'] == '已读取').sum())} 个；"
        f"数据行 {int(ledger['data_rows'].sum())} 行，采用 {int(ledger['kept'].sum())} 行，隔离 {int(ledger['quarantined'].sum())} 行。",
        f"问题 {int((problems['severity'] == ERROR).sum())} 条需单位修改，提示 {int((problems['severity'] != ERROR).sum())} 条。",
    ]
    if result.missing_units:
        lines.append(f"未报送：{'、'.join(result.missing_units)}。")
    file_level = problems["code"].isin(["unreadable", "missing_column", "unknown_unit", "no_return_in_file", "not_a_table",
                                         "cleaner_failed"])
    for _, p in problems[file_level & (problems["severity"] == ERROR)].iterrows():
        where = f"{p['file']}" + (f"（{p['sheet']}）" if p["sheet"] else "")
        lines.append(f"  {p['severity']}：{where}：{p['problem']}。{p['fix']}")
    lines += header_suggestions(problems)
    units = list(dict.fromkeys([*ledger["unit"].astype(str), *result.missing_units]))
    lines += quality.warning_lines(quality.assess(ledger, problems, result.quarantine, result.tables, units))
    return "\n".join(lines)


def header_suggestions(problems: pd.DataFrame) -> list[str]:
    """Unknown headers that are close to a known one, once per header text, with the alias line to add."""
    close = problems[(problems["code"] == "unknown_header") & problems["problem"].str.contains("是否为", regex=False)]
    if close.empty:
        return []
    lines = ["表头近似但未识别（确认后在 data/header_aliases.csv 中加一行即可）："]
    for _, p in close.drop_duplicates("problem").iterrows():
        lines.append(f"  {p['problem']}（{p['file']}）{p['fix']}")
    return lines


def save_run_summary(result: RoundResult, path: Path) -> Path:
    """Leave the run summary where the runner prints it after the cleaning step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run_summary(result) + "\n", encoding="utf-8")
    return path
