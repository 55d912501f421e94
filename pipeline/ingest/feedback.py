"""What goes back to the units: 退回修改清单.xlsx, one list per unit (退回修改/<单位>.xlsx), and the run's own
summary."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from pipeline import paths
from pipeline.excel import write_workbook
from pipeline.ingest import provenance, quality
from pipeline.ingest.cleaning import ERROR, UNKNOWN_UNIT, RoundResult
from pipeline.ingest.corrections import NOT_APPLIED
from pipeline.ingest.problems import ANALYST_CODES, SUMMARY_CODES
from pipeline.rounds import Round

FEEDBACK_FILE = paths.FEEDBACK
UNIT_FEEDBACK_DIR = paths.UNIT_FEEDBACK  # outputs/<round>/退回修改/<单位>.xlsx
PROBLEM_LABELS = {
    "unit": "单位", "file": "文件", "sheet": "工作表", "row": "行号", "column": "列（表头）",
    "value": "填报值", "problem": "问题", "fix": "修改建议", "severity": "级别",
}


def problem_list(result: RoundResult) -> pd.DataFrame:
    """Every problem, 错误 before 提示 within a unit, in the order the unit reads its files."""
    return _listed(result.problems)


def _listed(problems: pd.DataFrame) -> pd.DataFrame:
    frame = problems.copy()
    frame["_order"] = (frame["severity"] != ERROR).astype(int)
    frame = frame.sort_values(["unit", "_order", "file", "sheet", "row"], na_position="first", kind="stable")
    return frame[list(PROBLEM_LABELS)].rename(columns=PROBLEM_LABELS).reset_index(drop=True)


def unit_summary(result: RoundResult, round_: Round) -> pd.DataFrame:
    """Per expected unit: reported or not, files, rows kept and quarantined, problems to fix."""
    ledger, problems = result.ledger, units_own(result.problems)
    units = list(round_.units) + sorted(set(ledger["unit"]) - set(round_.units))
    rows = []
    for unit in units:
        mine = ledger[ledger["unit"] == unit]
        issues = problems[problems["unit"] == unit]
        rows.append({
            "单位": unit,
            "报送情况": ("未报送" if unit in result.missing_units
                         else ("已报送" if unit in round_.units else "名单外单位")),
            "文件数": mine["file"].nunique(),
            "数据行": int(mine["data_rows"].sum()),
            "采用行": int(mine["kept"].sum()),
            "隔离行": int(mine["quarantined"].sum()),
            "需修改（错误）": int((issues["severity"] == ERROR).sum()),
            "提示": int((issues["severity"] != ERROR).sum()),
        })
    frame = pd.DataFrame(rows)
    sent = set(units_with_list(result))
    frame["分单位清单"] = [unit_file_name(u) if u in sent else "" for u in frame["单位"]]
    return frame


def write_feedback(result: RoundResult, round_: Round, out_dir: Path) -> Path:
    """outputs/<round>/退回修改清单.xlsx: a summary per unit, every problem, and the units that did not report."""
    summary = unit_summary(result, round_)
    missing = summary.loc[summary["报送情况"] == "未报送", ["单位", "报送情况"]]
    write_unit_lists(result, round_, out_dir)
    return write_workbook(
        Path(out_dir) / FEEDBACK_FILE,
        {"汇总": summary, "问题清单": problem_list(result), "未报送单位": missing},
        notes={
            "汇总": f"{round_.title}（数据截至{round_.as_of:%Y年%m月%d日}）：各单位报送与问题情况；"
                    f"“分单位清单”列为发给该单位的清单（在 {UNIT_FEEDBACK_DIR}/ 文件夹中），空白表示无需修改",
            "问题清单": "行号为单位在 Excel 中看到的行号；“错误”需修改后重新报送，“提示”请核实。",
        },
    )


def run_summary(result: RoundResult) -> str:
    """A few Chinese lines for the run's output: what was read, kept and quarantined, and what failed."""
    ledger, problems = result.ledger, result.problems
    own = units_own(problems)
    lines = [
        f"读取文件 {ledger['file'].nunique()} 个、工作表 {int((ledger['status'] == '已读取').sum())} 个；"
        f"数据行 {int(ledger['data_rows'].sum())} 行，采用 {int(ledger['kept'].sum())} 行，"
        f"隔离 {int(ledger['quarantined'].sum())} 行。",
        f"问题 {int((own['severity'] == ERROR).sum())} 条需单位修改，"
        f"提示 {int((own['severity'] != ERROR).sum())} 条。",
    ]
    if result.missing_units:
        lines.append(f"未报送：{'、'.join(result.missing_units)}。")
    sent = units_with_list(result)
    if sent:
        lines.append(f"分单位退回修改清单 {len(sent)} 份：{'、'.join(unit_file_name(u) for u in sent)}。")
    else:
        lines.append("各单位都没有需修改的错误，未生成分单位退回修改清单。")
    applied = 0 if result.corrections is None else len(result.corrections)
    stale = problems[problems["code"] == NOT_APPLIED]
    if applied or len(stale):
        lines.append(f"更正记录（corrections.csv）：应用 {applied} 条，未应用 {len(stale)} 条。")
    file_level = problems["code"].isin(SUMMARY_CODES)  # a whole file, sheet or column unused (problems.csv)
    for _, p in problems[file_level & (problems["severity"] == ERROR)].iterrows():
        where = f"{p['file']}" + (f"（{p['sheet']}）" if p["sheet"] else "")
        fix = f"详情见本轮输出文件夹中的 {paths.ERROR_LOG}" if p["code"] == provenance.UNFORESEEN_CODE else p["fix"]
        lines.append(f"  {p['severity']}：{where}：{p['problem']}。{fix}")
    lines += header_suggestions(result.header_map)
    lines += analyst_lines(problems)
    units = list(dict.fromkeys([*ledger["unit"].astype(str), *result.missing_units]))
    lines += quality.warning_lines(quality.assess(ledger, problems, result.quarantine, result.tables, units))
    return "\n".join(lines)


def units_own(problems: pd.DataFrame) -> pd.DataFrame:
    """The problems that are the units' own: the analyst's notices (problems.ANALYST_CODES: the desk's
    leftovers, unit names, corrections.csv lines not applied, files the program failed on) left out."""
    return problems[~problems["code"].isin(ANALYST_CODES)]


def analyst_notices(problems: pd.DataFrame) -> pd.DataFrame:
    """The notices for the analyst alone (problems.ANALYST_CODES)."""
    return problems[problems["code"].isin(ANALYST_CODES)]


def analyst_lines(problems: pd.DataFrame) -> list[str]:
    """The analyst's notices as console lines (never in a unit's list); those about a whole file are named
    with the files above (SUMMARY_CODES)."""
    notices = analyst_notices(problems)
    notices = notices[~notices["code"].isin(SUMMARY_CODES)]
    if notices.empty:
        return []
    lines = ["给分析人员的提示（不发给单位）："]
    for _, p in notices.iterrows():
        text = p["problem"] if p["file"] in p["problem"] else f"{p['file']}：{p['problem']}"
        if p["code"] == "unit_not_in_round":
            text += "请核对 round.yml"
        lines.append(f"  {text}")
    return lines


def header_suggestions(header_map: pd.DataFrame) -> list[str]:
    """For the analyst: unknown headers close to a known one, once per header text, with the alias line to add
    (from 表头对照; the unit's list asks the unit to follow the template instead)."""
    close = header_map[header_map["note"].fillna("").str.startswith("是否为")]
    if close.empty:
        return []
    lines = ["表头近似但未识别（确认后在 data/header_aliases.csv 中加一行即可）："]
    for _, m in close.drop_duplicates("written").iterrows():
        lines.append(f"  表头“{m['written']}”（{m['file']}）{m['note']}")
    return lines


def save_run_summary(result: RoundResult, path: Path) -> Path:
    """Leave the run summary where the runner prints it after the cleaning step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run_summary(result) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one list per unit


def units_with_list(result: RoundResult) -> list[str]:
    """The units that get their own list: every named unit with at least one 错误 to fix, in the order of the
    problems."""
    problems = units_own(result.problems)
    errors = problems[(problems["severity"] == ERROR) & (problems["unit"] != UNKNOWN_UNIT)]
    return list(dict.fromkeys(errors["unit"]))


def unit_file_name(unit: str) -> str:
    """退回修改/<单位>.xlsx, relative to outputs/<round>/."""
    safe = "".join("_" if ch in '\\/:*?"<>|' else ch for ch in unit)
    return f"{UNIT_FEEDBACK_DIR}/{safe}.xlsx"


def unit_problems(result: RoundResult, unit: str) -> pd.DataFrame:
    """One unit's problems, as in 问题清单 (the analyst's notices left out)."""
    own = units_own(result.problems)
    mine = own[own["unit"] == unit]
    return _listed(mine)


def cover_sheet(round_: Round, unit: str, problems: pd.DataFrame) -> pd.DataFrame:
    """The covering sheet of a unit's list: round, cut-off date, what to fix, by when."""
    errors = problems[problems["级别"] == ERROR]
    files = [f for f in dict.fromkeys(problems["文件"]) if f]
    due = f"{round_.feedback_due:%Y年%m月%d日}前" if round_.feedback_due else "请尽快（具体时间以督查室通知为准）"
    rows = [
        ("督查轮次", f"{round_.title}（{round_.id}）"),
        ("数据截至日期", f"{round_.as_of:%Y年%m月%d日}"),
        ("单位", unit),
        ("需修改的错误", f"{len(errors)}条"),
        ("请核实的提示", f"{len(problems) - len(errors)}条"),
        ("涉及文件", "、".join(files) or "（本轮未报送）"),
        ("修改要求", "请按“问题清单”逐条修改原表（行号为 Excel 中看到的行号），改好后把整个文件重新报送；"
                  "“提示”请核实，无误的可不修改。电话说明的，督查室将记录在更正记录中。"),
        ("报送期限", due),
    ]
    return pd.DataFrame(rows, columns=["项目", "内容"])


def write_unit_lists(result: RoundResult, round_: Round, out_dir: Path) -> list[Path]:
    """outputs/<round>/退回修改/<单位>.xlsx for each unit with an error to fix; lists of an earlier run are removed."""
    folder = Path(out_dir) / UNIT_FEEDBACK_DIR
    if folder.is_dir():
        shutil.rmtree(folder)  # a unit that is clean now must not keep last run's list
    written = []
    for unit in units_with_list(result):
        problems = unit_problems(result, unit)
        written.append(write_workbook(
            Path(out_dir) / unit_file_name(unit),
            {"说明": cover_sheet(round_, unit, problems), "问题清单": problems},
            notes={"说明": f"{unit}：{round_.title}退回修改清单",
                   "问题清单": "行号为 Excel 中看到的行号；“错误”需修改后重新报送，“提示”请核实。"},
        ))
    return written
