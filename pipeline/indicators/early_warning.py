"""三色预警: a red, yellow or green light for each project of the two batches, with the rule that set it.

Supervision platforms (重点项目智能管理平台, three-colour warning systems) run on these lights.
The rules follow a published city rule; every threshold comes from round.yml's ``warning:``
(``conventions.WarningThresholds``), and the words and decimals of the reasons from the
round's conventions (时间进度/序时进度, 低于/慢于, one or two decimals).

Rules (each a function below; a rule either fires 黄 or 红, does not fire, or cannot be judged)
    1. 开工滞后 (``start_late_rule``) — not started although its 计划开工时间 lies before the
       cut-off: 黄 when late by at least start_late_yellow_months whole months (0: any delay),
       红 when late by start_late_red_months or more. No 计划开工时间: not judged.
    2. 进度滞后 (``behind_rule``) — 投资完成率 below time progress by behind_yellow_pp points
       or more: 黄; by more than behind_red_pp: 红 (unrounded values). No annual plan: not judged.
    3. 入统滞后 (``stats_rule``) — started, 是否入统 = 否, and stats_yellow_months whole months or
       more since 开工时间: 黄; stats_red_months or more: 红. No 开工时间 or 是否入统 left blank:
       not judged.
    A project's light is the worst of its rules (红 over 黄 over 绿; 绿 when none fires). Each rule
    that fired is written out as a reason, e.g. “投资完成率低于时间进度34.2个百分点（超过30，红）”;
    each rule that could not be judged says why, e.g. “无计划开工时间，未判断开工是否滞后”.

Whole months between two dates count a month when the day of the month is reached again
(3-15 -> 5-15: 2 months, 3-15 -> 5-14: 1 month); a cut-off on a month's last day reaches any day.

Against the previous round: a project whose light is better now (红→黄, 红→绿, 黄→绿) is
improving, one whose light is worse (绿→黄, 绿→红, 黄→红) is worsening (``light_changes``).

Pure functions on values and DataFrames; nothing here reads or writes files.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from pipeline.conventions import Conventions, half_up

RED, YELLOW, GREEN = "红", "黄", "绿"
LIGHTS = (RED, YELLOW, GREEN)
SEVERITY = {GREEN: 0, YELLOW: 1, RED: 2}
# Fill colours of the lights in workbooks and figures.
LIGHT_COLORS = {RED: "#E06666", YELLOW: "#FFD966", GREEN: "#93C47D"}

NO_PLANNED_START = "无计划开工时间，未判断开工是否滞后"
NO_PLAN = "无年度计划投资，未判断投资进度是否滞后"
NO_START_DATE = "无开工时间，未判断入统是否滞后"
NO_STATS = "未填报是否入统，未判断入统是否滞后"

LIGHT_COLUMNS = ["warning", "warning_reasons", "warning_not_judged"]


@dataclass(frozen=True)
class RuleResult:
    """One rule for one project: the light it sets (红/黄, or None), and its reason or why it was not judged."""

    light: str | None = None
    reason: str = ""
    judged: bool = True


NOT_FIRED = RuleResult()


def whole_months(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (negative when end is before start); see the module docstring."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    month_end = end.day == calendar.monthrange(end.year, end.month)[1]
    if end.day < start.day and not month_end:
        months -= 1
    return months


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (not isinstance(value, (dt.date, str)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _months_text(months: int) -> str:
    return f"{months}个月" if months >= 1 else "不足1个月"


def start_late_rule(started: bool, planned_start, as_of: dt.date, conv: Conventions) -> RuleResult:
    """开工滞后: not started although its planned start has passed (黄), start_late_red_months or more late (红)."""
    if started:
        return NOT_FIRED
    planned = _date(planned_start)
    if planned is None:
        return RuleResult(reason=NO_PLANNED_START, judged=False)
    if planned >= as_of:
        return NOT_FIRED
    late = max(whole_months(planned, as_of), 0)
    th = conv.warning
    head = f"计划{_chinese(planned)}开工，截至{_chinese(as_of)}仍未开工，已滞后{_months_text(late)}"
    why = "计划开工时间已过" if th.start_late_yellow_months == 0 else None
    return _by_months(head, late, th.start_late_yellow_months, th.start_late_red_months, why)


def _by_months(head: str, months: int, yellow: float, red: float, yellow_why: str | None = None) -> RuleResult:
    """红 from `red` months on, 黄 from `yellow`; the reason says which threshold was reached."""
    if months >= red:
        return RuleResult(RED, f"{head}（达到{red:g}个月，红）")
    if months >= yellow:
        return RuleResult(YELLOW, f"{head}（{yellow_why or f'达到{yellow:g}个月'}，黄）")
    return NOT_FIRED


def behind_rule(completion_pct, gap_pp, conv: Conventions) -> RuleResult:
    """进度滞后: 投资完成率 behind_yellow_pp or more points below time progress (黄), more than behind_red_pp (红)."""
    if completion_pct is None or pd.isna(completion_pct) or gap_pp is None or pd.isna(gap_pp):
        return RuleResult(reason=NO_PLAN, judged=False)
    behind = -float(gap_pp)
    th = conv.warning
    if not (behind > th.behind_red_pp or behind >= th.behind_yellow_pp):
        return NOT_FIRED  # before writing the text: most projects are not behind
    text = f"投资完成率{conv.progress_words[1]}{conv.time_progress_name}{half_up(behind, conv.decimals)}个百分点"
    if behind > th.behind_red_pp:
        return RuleResult(RED, f"{text}（超过{th.behind_red_pp:g}，红）")
    if behind >= th.behind_yellow_pp:
        return RuleResult(YELLOW, f"{text}（{th.behind_yellow_pp:g}—{th.behind_red_pp:g}，黄）")
    return NOT_FIRED


def stats_rule(started: bool, in_stats, start_date, as_of: dt.date, conv: Conventions) -> RuleResult:
    """入统滞后: started and not 入统 stats_yellow_months after its 开工时间 (黄), stats_red_months (红)."""
    if not started or (in_stats is not None and not pd.isna(in_stats) and bool(in_stats)):
        return NOT_FIRED
    if in_stats is None or pd.isna(in_stats):
        return RuleResult(reason=NO_STATS, judged=False)
    start = _date(start_date)
    if start is None:
        return RuleResult(reason=NO_START_DATE, judged=False)
    months = max(whole_months(start, as_of), 0)
    th = conv.warning
    head = f"{_chinese(start)}开工，{_months_text(months)}仍未入统"
    return _by_months(head, months, th.stats_yellow_months, th.stats_red_months)


def worst(lights: Iterable[str | None]) -> str:
    """The worst of some lights: 红 over 黄 over 绿; 绿 when none is given."""
    return max((light for light in lights if light), key=SEVERITY.__getitem__, default=GREEN)


def project_light(row, as_of: dt.date, conv: Conventions) -> tuple[str, str, str]:
    """(light, the reasons of the rules that fired, the rules not judged and why) for one project row."""
    results = [
        start_late_rule(bool(row.started), row.planned_start_date, as_of, conv),
        behind_rule(row.completion_rate_pct, row.vs_time_progress_pp, conv),
        stats_rule(bool(row.started), row.in_stats, row.start_date, as_of, conv),
    ]
    fired = [r for r in results if r.light]
    fired.sort(key=lambda r: -SEVERITY[r.light])  # red reasons first
    not_judged = [r.reason for r in results if not r.judged]
    return worst(r.light for r in fired), "；".join(r.reason for r in fired), "；".join(not_judged)


# The columns of a project row project_light reads.
_LIGHT_INPUTS = ("started", "planned_start_date", "completion_rate_pct", "vs_time_progress_pp", "in_stats",
                 "start_date")


def project_lights(progress: pd.DataFrame, as_of: dt.date, conv: Conventions) -> pd.DataFrame:
    """Each project's light and reasons (LIGHT_COLUMNS), same index as `progress`.

    progress: one row per project with started (bool), planned_start_date, start_date, in_stats
    (nullable bool), completion_rate_pct and vs_time_progress_pp (unrounded, NaN when no plan).
    """
    used = progress[list(_LIGHT_INPUTS)]  # iterating only these: the other columns' text costs most of the time
    quiet = quiet_projects(used, conv)
    rows: list[tuple[str, str, str]] = [QUIET] * len(used)
    for i, r in zip(np.flatnonzero(~quiet), used[~quiet].itertuples(index=False)):
        rows[i] = project_light(r, as_of, conv)
    return pd.DataFrame(rows, columns=LIGHT_COLUMNS, index=progress.index, dtype=object).astype("string")


QUIET = (GREEN, "", "")  # project_light of a project on which no rule fires and every rule is judged


def quiet_projects(used: pd.DataFrame, conv: Conventions) -> np.ndarray:
    """The projects project_light would give QUIET, found column by column: started (rule 1 silent), 投资完成率
    and its gap known and not behind by behind_yellow_pp (rule 2 silent), 是否入统 = 是 (rule 3 silent). The
    others go through the rules one by one. Columns of other types than project_progress gives: none is quiet."""
    flags, rates = used[["started", "in_stats"]], used[["completion_rate_pct", "vs_time_progress_pp"]]
    if not (all(pd.api.types.is_bool_dtype(t) for t in flags.dtypes) and all(t == "float64" for t in rates.dtypes)):
        return np.zeros(len(used), dtype=bool)
    th = conv.warning
    behind = -used["vs_time_progress_pp"].to_numpy()
    known = rates.notna().all(axis=1).to_numpy()
    with np.errstate(invalid="ignore"):
        silent = known & ~((behind > th.behind_red_pp) | (behind >= th.behind_yellow_pp))
    started, in_stats = (flags[c].astype("boolean").fillna(False).to_numpy(dtype=bool) for c in flags)
    return started & in_stats & silent


def lights_by_unit(lights: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """unit, red, yellow, green: projects per light for every unit of round.yml (then any other unit)."""
    units = list(units)
    names = lights["unit"].astype(str)
    present = [u for u in dict.fromkeys(names) if u not in units]
    rows = []
    for unit in [*units, *present]:
        mine = lights.loc[names == unit, "warning"]
        rows.append({"unit": unit, "red": int((mine == RED).sum()), "yellow": int((mine == YELLOW).sum()),
                     "green": int((mine == GREEN).sum())})
    return pd.DataFrame(rows, columns=["unit", "red", "yellow", "green"])


def light_changes(now: pd.Series, before: pd.Series) -> tuple[int, int]:
    """(improving, worsening): projects whose light is better / worse than at the previous round.

    now, before: lights of the same projects (aligned); a project without a previous light is not counted.
    """
    known = before.notna() & now.notna()
    new = now[known].map(SEVERITY)
    old = before[known].map(SEVERITY)
    return int((new < old).sum()), int((new > old).sum())
