"""Amounts in the wrong money unit that no single sheet can show: checks across the round and against the last one.

A sheet checks its own amounts (sheet._check_plausible_unit: a typical project under
100万元 or over 100亿元). A sheet filled in 千元 and read as 万元 is ten times too big
and still looks plausible on its own. Three comparisons catch what it cannot:

- against the previous round: the same projects' total investment, which rarely changes
  between rounds. When most of a sheet's projects are about 10, 1,000 or 10,000 times
  (or a tenth, a thousandth …) what the same projects were last round, the sheet's unit
  is in doubt; one project about 1,000 or 10,000 times its last figure is in doubt alone;
- against the other units: a sheet whose typical amount is several hundred times the
  typical amount of the same return from every other unit;
- within a project: an annual plan a ten-thousandth of the project's total investment
  (asked, and kept as written, like a plan over the total investment).

And one about percentages: an .xlsb file does not tell which cells are formatted as a
percentage (Excel stores 8.5% as 0.085), so a rate column of an .xlsb whose every value
is a fraction is asked about (提示) rather than silently read as 0.085%.

A doubtful sheet or row is never rescaled and never summed silently: the unit is asked
(错误 in 退回修改清单), its amounts are set aside (left out of the sums, counted in the
ledger as set aside, so the report's data-quality box names them), and a 保留 line in
corrections.csv accepts them as written, as for every other doubtful amount.

The checks are pure: they return Doubts, and cleaning applies them.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import pandas as pd

from pipeline import schemas
from pipeline.ingest import rowtable
from pipeline.ingest.problems import ERROR, HINT, Problem

# The return kinds whose rows are projects with a total investment to compare, and the amount
# each sheet's typical size is judged by.
AMOUNT_OF_KIND = {"projects": "total_investment", "major_works": "total_investment",
                  "attraction": "contract_investment"}
# A sheet is judged on at least this many comparable projects (as cleaning's own check).
MIN_ROWS = 3
# A ratio is "about 10^k" when its log10 is within this of k.
LOG_TOLERANCE = 0.15
# The share of a sheet's matched projects that must agree on the same factor.
AGREEING_SHARE = 2 / 3
# A sheet's typical amount this many times (10^2.5 ≈ 316) that of the other units' is in doubt,
# judged against at least OTHER_SHEETS other sheets of the same return.
UNITS_LOG_FACTOR = 2.5
OTHER_SHEETS = 3
# An annual plan under total investment ÷ 10^3.5 (≈ 1/3162) was almost surely written in another unit.
PLAN_LOG_FACTOR = 3.5

DOUBT_FIX = "请确认金额单位（元、千元、万元、亿元）并在表头或表上方注明后重新报送；如数据无误，请书面说明"


@dataclass
class Doubt:
    """Amounts in doubt: the problem to send, and the rows (positions in the round's frame) whose amounts are left
    out (none: kept, only asked)."""

    problem: Problem
    rows: list[int] = field(default_factory=list)
    issue: str = ""


# The columns the checks read, as Python values (rowtable.values): r[name][i] is row i's value.
_READ = ("unit", "file", "sheet", "row", "return_kind", "project_code", "project_name", "total_investment",
         "contract_investment", "annual_plan", "yoy_pct", "last_yoy_pct", "stated_completion_pct")


class _Rows:
    """The round's rows a check reads: `r.get(i, name)` is row i's value of a column (None when missing)."""

    def __init__(self, frame: pd.DataFrame):
        self.columns = {c: rowtable.values(frame, c) for c in _READ}

    def get(self, i: int, name: str):
        return self.columns[name][i]


def check_round(rows: pd.DataFrame, previous: dict[str, pd.DataFrame] | None, previous_id: str | None) -> list[Doubt]:
    """Every doubt about money units across the round's kept rows (those not quarantined nor already in doubt)."""
    r = _Rows(rows)
    live = [int(i) for i in (~rowtable.quarantined(rows) & ~rows["unit_doubted"]).to_numpy().nonzero()[0]]
    sheets = _by_sheet(r, live, AMOUNT_OF_KIND)
    doubts = []
    if previous:
        doubts += _against_previous(r, sheets, previous, previous_id or "")
    doubted = {i for d in doubts for i in d.rows}
    doubts += _against_units(r, {key: mine for key, mine in sheets.items() if not doubted & set(mine)})
    doubts += _plan_against_total(r, live)
    doubts += _fractions_in_xlsb(r, _by_sheet(r, live, RATE_COLUMNS))
    return doubts


def factor_text(log_ratio: int) -> str:
    """10^k in words: 10 → “10倍”, 10,000 → “1万倍”, 1/1000 → “千分之一”."""
    words = {1: "10倍", 2: "100倍", 3: "1000倍", 4: "1万倍", 5: "10万倍", 8: "1亿倍"}
    parts = {1: "十分之一", 2: "百分之一", 3: "千分之一", 4: "万分之一", 5: "十万分之一", 8: "亿分之一"}
    if log_ratio > 0:
        return words.get(log_ratio, f"10的{log_ratio}次方倍")
    return parts.get(-log_ratio, f"10的{log_ratio}次方")


# --------------------------------------------------------------------------- against the previous round


def _by_sheet(r: _Rows, live: list[int], kinds=None) -> dict[tuple[str, str], list[int]]:
    """{(file, sheet): its rows}, of the given return kinds only (every kind when None), in the round's order."""
    sheets: dict[tuple[str, str], list[int]] = {}
    kind, file, sheet = r.columns["return_kind"], r.columns["file"], r.columns["sheet"]
    for i in live:
        if kinds is None or kind[i] in kinds:
            sheets.setdefault((file[i], sheet[i]), []).append(i)
    return sheets


def _against_previous(r: _Rows, sheets: dict, previous: dict[str, pd.DataFrame], previous_id: str) -> list[Doubt]:
    lookup = {kind: _previous_totals(previous.get(kind)) for kind in ("projects", "major_works")}
    doubts = []
    for rows in sheets.values():
        kind = r.get(rows[0], "return_kind")
        if kind not in lookup:
            continue
        pairs = [(i, before) for i in rows
                 if (before := _previous_total(r, i, lookup[kind])) and r.get(i, "total_investment")]
        logs = [math.log10(r.get(i, "total_investment") / before) for i, before in pairs]
        factor = _common_factor(logs)
        if factor:
            doubts.append(_sheet_doubt_previous(r, rows, pairs, logs, factor, previous_id))
            continue
        doubts += [_row_doubt_previous(r, i, before, log, previous_id) for (i, before), log in zip(pairs, logs)
                   if _near_power(log) and abs(round(log)) >= 3]
    return doubts


_key = schemas.round_key


def _previous_totals(frame: pd.DataFrame | None) -> dict[str, float]:
    """{"code:<code>" or "name:<unit>|<name>": total investment} of the previous round's rows."""
    if frame is None or frame.empty or "total_investment" not in frame:
        return {}
    totals: dict[str, float] = {}
    codes = frame["project_code"] if "project_code" in frame else pd.Series([None] * len(frame), index=frame.index)
    for code, unit, name, total in zip(codes, frame["unit"], frame["project_name"], frame["total_investment"]):
        if pd.isna(total) or total <= 0:
            continue
        if _key(code):
            totals.setdefault(f"code:{_key(code)}", float(total))
        totals.setdefault(f"name:{_key(unit)}|{_key(name)}", float(total))
    return totals


def _previous_total(r: _Rows, i: int, totals: dict[str, float]) -> float | None:
    code = _key(r.get(i, "project_code"))
    if code and f"code:{code}" in totals:
        return totals[f"code:{code}"]
    return totals.get(f"name:{_key(r.get(i, 'unit'))}|{_key(r.get(i, 'project_name'))}")


def _near_power(log: float) -> bool:
    """About 10^k for a k other than 0."""
    return round(log) != 0 and abs(log - round(log)) <= LOG_TOLERANCE


def _common_factor(logs: list[float]) -> int | None:
    """The power of ten most of a sheet's projects changed by since last round, when it is not 1."""
    if len(logs) < MIN_ROWS:
        return None
    k = round(statistics.median(logs))
    agreeing = sum(1 for log in logs if round(log) == k and abs(log - k) <= LOG_TOLERANCE)
    return k if k != 0 and agreeing >= AGREEING_SHARE * len(logs) else None


def _sheet_doubt_previous(r: _Rows, rows: list[int], pairs: list[tuple[int, float]], logs: list[float], k: int,
                          previous_id: str) -> Doubt:
    first = rows[0]
    same = sum(1 for log in logs if round(log) == k)
    text = (f"金额单位存疑：本表与上一轮（{previous_id}）相同的{len(pairs)}个项目中，{same}个的总投资约为上一轮的"
            f"{factor_text(k)}，疑似金额单位与上一轮不一致，本表金额未计入合计")
    problem = Problem(r.get(first, "unit"), r.get(first, "file"), r.get(first, "sheet"),
                      min(r.get(i, "row") for i in rows), "总投资", "", text, DOUBT_FIX, ERROR,
                      "implausible_vs_previous")
    return Doubt(problem, list(rows), "金额单位存疑（与上一轮相比），本表金额未计入合计，待单位确认")


def _row_doubt_previous(r: _Rows, i: int, before: float, log: float, previous_id: str) -> Doubt:
    k = round(log)
    total = r.get(i, "total_investment")
    text = (f"金额单位存疑：总投资{total:,.2f}万元，约为上一轮（{previous_id}）同一项目"
            f"（{before:,.2f}万元）的{factor_text(k)}，本行金额未计入合计")
    problem = Problem(r.get(i, "unit"), r.get(i, "file"), r.get(i, "sheet"), r.get(i, "row"), "总投资",
                      f"{total:g}", text, DOUBT_FIX, ERROR, "implausible_row")
    return Doubt(problem, [i], "金额单位存疑（与上一轮相比），本行金额未计入合计，待单位确认")


# --------------------------------------------------------------------------- against the other units


def _against_units(r: _Rows, sheets: dict) -> list[Doubt]:
    medians: dict[tuple[str, str], tuple[str, float]] = {}
    for key, rows in sheets.items():
        kind = r.get(rows[0], "return_kind")
        values = [v for i in rows if (v := r.get(i, AMOUNT_OF_KIND[kind]))]
        if len(values) >= MIN_ROWS:
            medians[key] = (kind, statistics.median(values))
    doubts = []
    for key, (kind, median) in medians.items():
        others = [m for other, (k, m) in medians.items() if k == kind and other != key and m > 0]
        if len(others) < OTHER_SHEETS or median <= 0:
            continue
        typical = statistics.median(others)
        log = math.log10(median / typical)
        if abs(log) >= UNITS_LOG_FACTOR:
            doubts.append(_sheet_doubt_units(r, sheets[key], kind, median, typical, len(others), log))
    return doubts


def _sheet_doubt_units(r: _Rows, rows: list[int], kind: str, median: float, typical: float, others: int,
                       log: float) -> Doubt:
    first = rows[0]
    column = "合同投资额" if kind == "attraction" else "总投资"
    text = (f"金额单位存疑：本表{column}的中位数为{median:,.2f}万元，约为其他{others}份同类报表中位数"
            f"（{typical:,.2f}万元）的{factor_text(round(log))}，疑似金额单位有误，本表金额未计入合计")
    problem = Problem(r.get(first, "unit"), r.get(first, "file"), r.get(first, "sheet"),
                      min(r.get(i, "row") for i in rows), column, "", text, DOUBT_FIX, ERROR, "implausible_vs_units")
    return Doubt(problem, list(rows), "金额单位存疑（与其他单位相比），本表金额未计入合计，待单位确认")


# --------------------------------------------------------------------------- within a project


def _plan_against_total(r: _Rows, live: list[int]) -> list[Doubt]:
    doubts = []
    for i in live:
        plan, total = r.get(i, "annual_plan"), r.get(i, "total_investment")
        if r.get(i, "return_kind") != "projects" or not plan or not total or plan <= 0:
            continue
        if math.log10(total / plan) >= PLAN_LOG_FACTOR:
            text = (f"年度计划投资{plan:,.2f}万元仅为总投资（{total:,.2f}万元）的{plan / total:.5%}，"
                    "疑似两列金额单位不一致")
            problem = Problem(r.get(i, "unit"), r.get(i, "file"), r.get(i, "sheet"), r.get(i, "row"),
                              "年度计划投资", f"{plan:g}", text,
                              "请核对年度计划投资和总投资的金额单位后重新报送；如数据无误，请书面说明", ERROR,
                              "plan_far_below_total")
            doubts.append(Doubt(problem))
    return doubts


# --------------------------------------------------------------------------- percentages in .xlsb

# The rate columns of each kind, as cleaning reads them: percentages (8.5 means 8.5%).
RATE_COLUMNS = {"fai": ("yoy_pct", "last_yoy_pct"), "projects": ("stated_completion_pct",)}
RATE_LABELS = {"yoy_pct": "累计增速(%)", "last_yoy_pct": "上年同期增速(%)", "stated_completion_pct": "完成率(%)"}


def _fractions_in_xlsb(r: _Rows, sheets: dict) -> list[Doubt]:
    doubts = []
    for (file, sheet), rows in sheets.items():
        if not file.lower().endswith(".xlsb"):
            continue
        for name in RATE_COLUMNS.get(r.get(rows[0], "return_kind"), ()):
            values = [v for i in rows if isinstance(v := r.get(i, name), float) and v != 0]
            if len(values) >= 2 and all(abs(v) < 1 for v in values):
                text = (f"{RATE_LABELS[name]}的数值都小于1（如{values[0]:g}），.xlsb 文件无法判断是否设置了百分比格式："
                        f"已按{values[0]:g}%读取；如表中显示为{values[0] * 100:g}%，请另存为 .xlsx 后重新报送")
                doubts.append(Doubt(Problem(r.get(rows[0], "unit"), file, sheet, min(r.get(i, "row") for i in rows),
                                            RATE_LABELS[name], "", text,
                                            "请另存为 .xlsx 后重新报送，或直接填写百分数（如8.5）",
                                            HINT, "percent_unknown_xlsb")))
    return doubts
