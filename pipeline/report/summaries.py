"""The tables and totals the report makes from the cleaning records and step 2's tables (pure: frames in,
frames out), the tables it shows (declared in pipeline/indicators/table_columns.csv) and how long listings are cut."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from pipeline import indicators as ind
from pipeline.frames import in_order, is_missing
from pipeline.indicators import sources
from pipeline.indicators import tables as declared_tables
from pipeline.ingest import quality
from pipeline.ingest.problems import ANALYST_CODES, REPORT_LABELS
from pipeline.report.numbers import Col, join_names

# =========================================================================== pure tables for the report


def track_summary(track: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """Projects to track per unit: total and by reason (a project may have several reasons)."""
    columns = ["unit", "projects", "not_started", "zero_investment", "not_in_stats", "behind"]
    if track.empty:
        return pd.DataFrame(columns=columns)
    out = (track.groupby("unit", sort=False)
           .agg(projects=("unit", "size"), not_started=("not_started", "sum"),
                zero_investment=("zero_investment", "sum"), not_in_stats=("not_in_stats", "sum"),
                behind=("behind", "sum"))
           .reset_index())
    out = in_order(out, "unit", units)
    total = pd.DataFrame([{"unit": "合计", **{c: int(out[c].sum()) for c in columns[1:]}}])
    return pd.concat([out, total], ignore_index=True)[columns]


def warning_summary(by_unit: pd.DataFrame) -> pd.DataFrame:
    """三色预警 per unit with projects (warning_by_unit), with the number of projects and a 合计 row."""
    columns = ["unit", "red", "yellow", "green", "projects"]
    rows = by_unit.assign(projects=by_unit[["red", "yellow", "green"]].sum(axis=1))
    rows = rows[rows["projects"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    total = pd.DataFrame([{"unit": "合计", **{c: int(rows[c].sum()) for c in columns[1:]}}])
    return pd.concat([rows[columns], total], ignore_index=True)


# How many names of uncomputable items one console line or table cell lists before “等”.
SUMMARY_NAMES = 6


def open_items_table(values: dict[str, Any]) -> pd.DataFrame:
    """The values that could not be computed (null in indicators.json, with their reason in its notes), one row per
    reason: how many, which."""
    columns = ["reason", "count", "items"]
    notes = {k: why for k, why in values.get("notes", {}).items() if values.get(k) is None}
    if not notes:
        return pd.DataFrame(columns=columns)
    rows: dict[str, list[str]] = {}
    for key, reason in notes.items():
        label = sources.reader_label(key) if key in ind.KEYS else key
        rows.setdefault(str(reason).rstrip("。"), []).append(label)
    def names(labels: list[str]) -> str:
        labels = list(dict.fromkeys(labels))
        return "、".join(labels[:SUMMARY_NAMES]) + (f"等{len(labels)}项" if len(labels) > SUMMARY_NAMES else "")

    return pd.DataFrame([{"reason": reason, "count": len(labels), "items": names(labels)}
                         for reason, labels in rows.items()], columns=columns)


def industry_rates(by_industry: pd.DataFrame | None) -> pd.DataFrame:
    """The industry chart's numbers (图4) for the text: industry, 投资完成率 and its gap to 时间进度, all projects, the
    highest rate first; industries without a rate are left out, as the chart leaves them out."""
    columns = ["industry", "completion_rate_pct", "vs_time_progress_pp"]
    if by_industry is None or by_industry.empty:
        return pd.DataFrame(columns=columns)
    rows = by_industry[(by_industry["scope"] == ind.SCOPE_ALL) & (by_industry["projects"] > 0)]
    rows = rows.dropna(subset=["completion_rate_pct"]).sort_values("completion_rate_pct", ascending=False,
                                                                    kind="stable")
    return rows[columns].reset_index(drop=True)


def most_red(by_unit: pd.DataFrame, top: int = 3) -> list[tuple[str, int]]:
    """The units with the most red lights (at most `top`, ties by round.yml order): [(unit, red), …]."""
    rows = by_unit[by_unit["red"] > 0].sort_values("red", ascending=False, kind="stable").head(top)
    return [(str(u), int(n)) for u, n in zip(rows["unit"], rows["red"])]


def start_problems(track: pd.DataFrame) -> pd.DataFrame:
    """The projects to track for not being started, started with no investment, or not in the statistics
    (真实开工、及时入统), with their reasons in short (``flags``): 未开工；已开工零投资；已开工未入统；进度滞后."""
    if track.empty:
        return track.assign(flags=pd.Series(dtype="string"))
    rows = track[track["not_started"] | track["zero_investment"] | track["not_in_stats"]].reset_index(drop=True)
    names = (("not_started", "未开工"), ("zero_investment", "已开工零投资"), ("not_in_stats", "已开工未入统"),
             ("behind", "进度滞后"))
    flags = pd.Series("", index=rows.index, dtype=object)
    for column, label in names:
        flags = flags + np.where(rows[column].astype(bool), label + "；", "").astype(object)
    return rows.assign(flags=flags.str.removesuffix("；"))


# 附录一's 隔离原因 by problem code, from the catalogue (pipeline/ingest/problems.csv, label_in_report).
REASON_LABELS = REPORT_LABELS


def reason_label(code: Any, problem: Any) -> str:
    """A short category for a quarantine reason: by problem code, else the problem text without its values."""
    code = "" if is_missing(code) else str(code)
    text = "" if is_missing(problem) else str(problem)
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    if "重复" in text:
        return REASON_LABELS["duplicate"]
    stripped = re.sub(r"（[^）]*）|\([^)]*\)|“[^”]*”|\"[^\"]*\"|[0-9０-９,.，]+", "", text.split("；")[0])
    stripped = stripped.split("：")[-1].strip(" ：，。")
    return stripped or "其他"


def quarantine_by_reason(quarantine: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per reason category: rows, units, money (万元). A row with two reasons counts under each."""
    columns = ["reason", "rows", "units", "money_wan"]
    if quarantine.empty:
        return pd.DataFrame(columns=columns)
    keys = ["file", "sheet", "row"]
    as_keys = {"file": "string", "sheet": "string", "row": "int64"}
    probs = problems.dropna(subset=["row"]).astype(as_keys)[[*keys, "code", "problem"]]
    rows = quarantine.reset_index(drop=True).astype(as_keys).assign(_i=lambda d: range(len(d)))
    merged = rows.merge(probs, on=keys, how="left")
    merged["reason"] = [reason_label(c, p if not is_missing(p) else r)
                        for c, p, r in zip(merged["code"], merged["problem"], merged["reasons"])]
    merged = merged.drop_duplicates(["_i", "reason"])
    out = (merged.groupby("reason", sort=False)
           .agg(rows=("_i", "nunique"), units=("unit", lambda s: join_names(dict.fromkeys(s))),
                money_wan=("money_wan", "sum"))
           .reset_index().sort_values("rows", ascending=False, kind="stable"))
    return out[columns].reset_index(drop=True)


def returns_by_unit(ledger: pd.DataFrame, problems: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """Per expected unit: 报送情况, files, sheets, data rows, kept, quarantined, problems to fix and hints."""
    columns = ["unit", "status", "files", "sheets", "data_rows", "kept", "quarantined", "errors", "hints"]
    units = list(units)
    received = ledger[ledger["status"].fillna("") != ""]
    others = [u for u in dict.fromkeys(received["unit"].astype(str)) if u not in units]
    rows = []
    real = problems[~problems["code"].fillna("").isin({"missing_return", *ANALYST_CODES})]
    for unit in [*units, *others]:
        mine = received[received["unit"] == unit]
        mine_p = real[real["unit"] == unit]
        rows.append({
            "unit": unit, "status": "已报送" if len(mine) else "未报送", "files": mine["file"].nunique(),
            "sheets": len(mine), "data_rows": int(mine["data_rows"].sum()), "kept": int(mine["kept"].sum()),
            "quarantined": int(mine["quarantined"].sum()), "errors": int((mine_p["severity"] == "错误").sum()),
            "hints": int((mine_p["severity"] != "错误").sum()),
        })
    return pd.DataFrame(rows, columns=columns)


def corrections_applied(applied: pd.DataFrame | None) -> pd.DataFrame:
    """Every correction of corrections.csv applied in cleaning: unit, file, row, column, from, to, basis."""
    columns = ["unit", "file", "sheet", "row", "column", "old", "new", "basis"]
    if applied is None or applied.empty:
        return pd.DataFrame(columns=columns)
    frame = applied.reindex(columns=columns).copy()
    frame["row"] = frame["row"].map(lambda r: "" if pd.isna(r) else str(int(r)))
    return frame.sort_values(["unit", "file", "sheet"], kind="stable").reset_index(drop=True)


def analyst_notices(problems: pd.DataFrame) -> pd.DataFrame:
    """The notices for the analyst alone (problems.ANALYST_CODES): leftovers of the desk skipped, a file saved
    twice read once, a unit name of the returns that round.yml's units spell differently."""
    notes = problems[problems["code"].fillna("").isin(ANALYST_CODES)]
    text = [p if f in p else f"{f}：{p}" for f, p in zip(notes["file"].astype(str), notes["problem"].astype(str))]
    fix = notes["fix"].astype(str).tolist()
    return pd.DataFrame({"notice": text, "fix": fix}, columns=["notice", "fix"])


# A report section's number (一、, （二）), left out where the red box names sections: the headings are the report's.
SECTION_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
# How many figures one console line names before “等”.
BOX_NAMES = 6


def coverage_lines(values: dict[str, Any]) -> list[str]:
    """The red box's lines on coverage, one per reason (notes): the figures computed from part of the returns
    and those no return could feed — a single figure by its name, several by the report sections they are in:
    “总体情况、工作建议中的52个数字只据部分报表计算（不含农业农村厅：未报送）” (the sections' numbers left out:
    the headings are the report's own)."""
    notes = values.get("notes", {})
    partial = values.get("data_quality.partial_keys") or []
    unfed = [k for k, why in notes.items() if values.get(k) is None and why.startswith("各单位报表均无可识别的")]
    lines = []
    for keys, words in ((partial, "只据部分报表计算（{}）"), (unfed, "无法计算：{}")):
        by_reason: dict[str, list[str]] = {}
        for key in keys:
            by_reason.setdefault(notes.get(key, ""), []).append(key)
        for reason, group in by_reason.items():
            if len(group) == 1:
                what = sources.reader_label(group[0]) if group[0] in ind.KEYS else group[0]
            else:
                sections = "、".join(dict.fromkeys(SECTION_NUMBER.sub("", ind.KEYS[k][0]) for k in group
                                                   if k in ind.KEYS))
                what = f"{sections}中的{len(group)}个数字"
            lines.append(f"{what}{words.format(reason)}")
    return lines


def files_not_read(ledger: pd.DataFrame) -> pd.DataFrame:
    """Files and sheets that were not read as a return (unreadable, not a return, empty), with the reason."""
    bad = ledger[ledger["status"].fillna("") != "已读取"]
    return bad[["unit", "file", "sheet", "status", "note"]].reset_index(drop=True)


def batches_with_projects(by_batch: pd.DataFrame) -> list[str]:
    """The batches (第一批, 第二批, …) that have projects, in order."""
    rows = by_batch[(by_batch["scope"] == ind.SCOPE_ALL) & (by_batch["projects"] > 0)]
    return rows["batch"].astype(str).tolist()


def quality_totals(ledger: pd.DataFrame, units: Iterable[str]) -> dict[str, Any]:
    units = list(units)
    received = ledger[ledger["status"].fillna("") != ""]
    got = [u for u in units if u in set(received["unit"].astype(str))]
    return {
        "expected": len(units), "received": len(got), "missing": [u for u in units if u not in got],
        "files": received["file"].nunique(), "sheets": len(received),
        "data_rows": int(received["data_rows"].sum()), "kept": int(received["kept"].sum()),
        "quarantined": int(received["quarantined"].sum()), "skipped": int(received["skipped_rows"].sum()),
        "money_raw_wan": float(received["money_raw_wan"].sum()),
        "money_kept_wan": float(received["money_kept_wan"].sum()),
        "money_quarantined_wan": float(received["money_quarantined_wan"].sum()),
        "reconciled": ledger_reconciles(received),
    }


def units_with_status(by_unit: pd.DataFrame, q: quality.Quality, kind: str = "projects") -> pd.DataFrame:
    """The by-unit table with each unit's data status: a unit whose return was not used (or that sent nothing)
    shows as 报表未采用 (未报送), its figures as “—”, not as zero projects."""
    status = by_unit["unit"].astype(str).map(lambda u: quality.unit_status(q, u, kind))
    blank = status.isin(["报表未采用", "未报送"]) & (by_unit["projects"] == 0)
    figures_ = [c for c in ind.FIGURE_COLUMNS if c in by_unit]
    out = by_unit.assign(data_status=status)
    out[figures_] = out[figures_].astype(float).mask(blank)
    return out


def ledger_reconciles(ledger: pd.DataFrame) -> bool:
    """Every file and sheet: data rows = kept + quarantined, and money as read = used + set aside."""
    return not quality.ledger_discrepancies(ledger)


# The tables the report shows, by name: their shown columns, as declared (pipeline/indicators/table_columns.csv).
TABLES: dict[str, list[Col]] = {t.name: [Col(c.name, c.label, c.kind) for c in t.shown]
                                for t in declared_tables.DECLARED.values() if t.shown}


# =========================================================================== listings: a report, not a list

# The tables that list projects or files one by one: at most LISTING_LIMIT rows in the report, the worst
# first by the rule stated under the table, then where the full list is. name -> (rule, sort, where).
LISTING_LIMIT = 10  # the 公文 and the printed report stay within 20 A4 pages (tests/test_report_docx.py)
SOURCES_BOOK = "《数字来源》（数字来源.xlsx）"


@dataclass(frozen=True)
class Listing:
    rule: str  # how the rows shown are chosen, in words
    by: tuple[str, ...] = ()  # sort columns, worst first ((): keep the table's order)
    ascending: tuple[bool, ...] = ()
    where: str = ""  # where the full list is; {round} is the round


LISTINGS: dict[str, Listing] = {
    "start_problems": Listing("按未开工、已开工零投资、已开工未入统的顺序，同类按年度计划投资从大到小",
                              ("not_started", "zero_investment", "not_in_stats", "annual_plan_wan"), (False,) * 4,
                              f"《督办清单》（督办清单.xlsx）各单位的工作表和{SOURCES_BOOK}的“督办项目”表"),
    "not_started_both": Listing("按年度计划投资从大到小", ("annual_plan_wan",), (False,),
                                f"{SOURCES_BOOK}的“两轮均未开工”表"),
    "corrections_applied": Listing("按单位和文件的顺序",
                                   where="本轮的更正记录文件和第1步笔记本"),
    "files_not_read": Listing("按单位和文件的顺序",
                              where="第1步的台账和《退回修改清单》（退回修改清单.xlsx）"),
}


def capped(name: str, frame: pd.DataFrame, round_id: str = "", limit: int = LISTING_LIMIT) -> tuple[pd.DataFrame, str]:
    """(the rows to show, the note saying how many more there are and where they are); a short list is kept as it is."""
    listing = LISTINGS.get(name)
    if listing is None or len(frame) <= limit:
        return frame, ""
    ordered = frame
    if listing.by:
        ordered = frame.sort_values(list(listing.by), ascending=list(listing.ascending), kind="stable",
                                    na_position="last")
    more = len(frame) - limit
    note = (f"共{len(frame)}项，此处{listing.rule}列出前{limit}项，还有{more}项未列出；"
            f"完整名单见{listing.where.format(round=round_id or '<轮次>')}。")
    return ordered.head(limit), note
