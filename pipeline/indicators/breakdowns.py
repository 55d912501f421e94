"""Indicator tables: project figures and the breakdowns by batch, unit, city, industry and nature; fixed-asset
investment by region; 主要指标情况表, 招商引资, 十大工程项目 and 典型做法 tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline import schemas
from pipeline.frames import equals, in_order, is_true, positions
from pipeline.indicators.formulas import (
    _DONE,
    _NOT_DONE,
    ACCELERATING,
    BASE,
    BATCH_ORDER,
    CITY,
    CONCENTRATED,
    DEPARTMENT,
    NATURE_ORDER,
    OTHER_INDUSTRY,
    PRACTICE_KEYS,
    PUSHING,
    REGION_TOTAL_NAMES,
    SCOPE_ALL,
    SCOPE_KEY,
    SUBSTANTIVE,
    UNDER_CONSTRUCTION,
    UNKNOWN,
    _norm,
    accel_pp,
    completion_rate_pct,
    flag,
    is_missing,
    nine_industry,
    project_city,
    round_areas,
    round_time_progress,
    share_pct,
    start_base_mask,
    start_rate_pct,
    unit_kind,
    vs_time_progress_pp,
    wan_to_yi,
    yoy_pct,
)
from pipeline.rounds import Round

# =========================================================================== projects: totals and breakdowns

FIGURE_COLUMNS = ["projects", "started", "not_started", "start_base", "start_base_started", "start_rate_pct",
                  "plan_yi", "completed_yi", "completion_rate_pct", "vs_time_progress_pp"]


def project_figures(projects: pd.DataFrame, time_progress: float, base: str = "new", as_of=None) -> dict[str, Any]:
    """The figures of a group of projects: counts, 开工率, 年度计划, 完成投资, 投资完成率, gap to 时间进度.

    An empty group has zero counts and amounts and None rates. as_of: the cut-off, for base planned.
    """
    return _figures(flag(projects["started"]), start_base_mask(projects, base, as_of), projects["annual_plan"],
                    projects["completed"], time_progress)


def _figures(started: pd.Series, in_base: pd.Series, plan_wan: pd.Series, completed_wan: pd.Series,
             time_progress: float) -> dict[str, Any]:
    """project_figures from the group's columns already turned into flags (started, in the 开工率 base)."""
    plan = float(plan_wan.sum())
    completed = float(completed_wan.sum())
    rate = completion_rate_pct(completed, plan)
    return {
        "projects": int(len(started)),
        "started": int(started.sum()),
        "not_started": int(len(started) - started.sum()),
        "start_base": int(in_base.sum()),
        "start_base_started": int((started & in_base).sum()),
        "start_rate_pct": start_rate_pct(int((started & in_base).sum()), int(in_base.sum())),
        "plan_yi": wan_to_yi(plan),
        "completed_yi": wan_to_yi(completed),
        "completion_rate_pct": rate,
        "vs_time_progress_pp": vs_time_progress_pp(rate, time_progress),
    }


def breakdown(projects: pd.DataFrame, round_: Round, by: str) -> pd.DataFrame:
    """The project figures by batch, unit, city, industry or nature (建设性质), for all and for key projects.

    One row per (scope, group). The fixed groups (both batches, every unit of
    round.yml, every city, the three natures) are always listed, empty or not.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; one of {', '.join(BREAKDOWNS)}")
    labels, fixed = BREAKDOWNS[by](projects, round_)
    tp = round_time_progress(round_)
    columns = (flag(projects["started"]), start_base_mask(projects, round_.start_rate_base, round_.as_of),
               projects["annual_plan"], projects["completed"])
    frames = []
    scopes = ((SCOPE_ALL, np.ones(len(projects), dtype=bool)), (SCOPE_KEY, flag(projects["is_key"]).to_numpy()))
    for scope, mask in scopes:
        groups = _group_positions(labels.to_numpy()[mask], np.flatnonzero(mask))
        extra = sorted((g for g in groups if g not in fixed), key=lambda g: -float(columns[2].iloc[groups[g]].sum()))
        empty = np.array([], dtype=np.intp)
        rows = [{"scope": scope, by: group, **_figures(*(c.iloc[groups.get(group, empty)] for c in columns), tp)}
                for group in [*fixed, *extra]]
        frames.append(pd.DataFrame(rows, columns=["scope", by, *FIGURE_COLUMNS]))
    out = pd.concat(frames, ignore_index=True)
    if by == "unit":
        out.insert(2, "unit_kind", out["unit"].map(unit_kind))
    return float_columns(out)


def _group_positions(labels: np.ndarray, positions: np.ndarray) -> dict[Any, np.ndarray]:
    """Each label (in order of first appearance) with the positions of its rows, in row order."""
    codes, uniques = pd.factorize(labels, use_na_sentinel=False)
    return {group: positions[codes == k] for k, group in enumerate(uniques)}


def _by_batch(projects, round_):
    return projects["batch"].astype("string").fillna(UNKNOWN), list(BATCH_ORDER)


def _by_unit(projects, round_):
    return projects["unit"].astype("string").fillna(UNKNOWN), list(round_.units)


def _by_city(projects, round_):
    areas = round_areas(round_)
    return project_city(projects, areas), areas


def _by_industry(projects, round_):
    return projects["industry"].astype("string").fillna(UNKNOWN), []


def _by_nature(projects, round_):
    return projects["nature"].astype("string").fillna(UNKNOWN), list(NATURE_ORDER)


BREAKDOWNS = {"batch": _by_batch, "unit": _by_unit, "city": _by_city, "industry": _by_industry, "nature": _by_nature}


def float_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rate and amount columns as float64 (None -> NaN) so the tables plot and save alike."""
    floats = [c for c in frame.columns if c.endswith(("_pct", "_pp", "_yi", "_wan"))]
    return frame.astype({c: "float64" for c in floats})


# =========================================================================== fixed-asset investment


def fai_by_region(fai: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """Each region's FAI at its latest month up to the cut-off month: 累计完成额, 增速, 加快/回落.

    The region total (全区) comes first, then the cities of the round, then any other region.
    """
    columns = ["region", "month", "total_yi", "yoy_pct", "last_yoy_pct", "accel_pp"]
    if fai.empty:
        return pd.DataFrame(columns=columns).pipe(float_columns)
    data = fai.assign(region=fai["region"].astype("string").str.strip(), month=fai["month"].astype("Int64"))
    data = data[data["month"].notna() & data["region"].notna()]  # a month or region not read places no row
    upto = data[data["month"] <= round_.as_of.month]
    data = upto if not upto.empty else data
    latest = (data.sort_values(["region", "month"], kind="stable")
              .assign(_filled=lambda d: d[["cum_value", "yoy_pct"]].notna().sum(axis=1))
              .sort_values(["region", "month", "_filled"], ascending=[True, False, False], kind="stable")
              .drop_duplicates("region"))
    rows = [{
        "region": r.region, "month": int(r.month), "total_yi": wan_to_yi(_num(r.cum_value)),
        "yoy_pct": _num(r.yoy_pct), "last_yoy_pct": _num(r.last_yoy_pct),
        "accel_pp": accel_pp(_num(r.yoy_pct), _num(r.last_yoy_pct)),
    } for r in latest.itertuples()]
    out = pd.DataFrame(rows, columns=columns)
    out = in_order(out, "region", [*REGION_TOTAL_NAMES, *round_areas(round_)])
    return out.reset_index(drop=True).pipe(float_columns)


def _num(value) -> float | None:
    return None if is_missing(value) else float(value)


# =========================================================================== 主要指标情况表


def indicator_by_unit(indicators: pd.DataFrame, unit_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """The 主要指标情况表 of every unit with its 同比 (NaN when last year is missing or zero),
    units in round.yml order, indicators in the order of schemas.KNOWN_INDICATORS."""
    columns = ["unit", "indicator", "measure_unit", "current", "last_year", "yoy_pct"]
    if indicators.empty:
        return pd.DataFrame(columns=columns).pipe(float_columns)
    out = indicators[["unit", "indicator", "measure_unit", "current", "last_year"]].copy()
    out["yoy_pct"] = [yoy_pct(_num(current), _num(last)) for current, last in zip(out["current"], out["last_year"])]
    units = {u: i for i, u in enumerate(unit_order)}
    names = {n: i for i, n in enumerate(schemas.KNOWN_INDICATORS)}
    out = out.assign(_u=out["unit"].map(lambda u: units.get(u, len(units))),
                     _n=out["indicator"].map(lambda n: names.get(n, len(names))))
    out = out.sort_values(["_u", "unit", "_n"], kind="stable").drop(columns=["_u", "_n"])
    return out.reset_index(drop=True).astype({"current": "float64", "last_year": "float64"}).pipe(float_columns)


@dataclass(frozen=True)
class UnitFigure:
    """One unit's row of an indicator, chosen by the attribution rule (see the module docstring)."""

    unit: str | None
    current: float | None
    last_year: float | None
    measure_unit: str | None
    reason: str | None = None  # why there is no figure


def attributed(indicators: pd.DataFrame, indicator: str, prefer: str | None, unit: str | None = None) -> UnitFigure:
    """The figure of `indicator` for the report: from `unit` if given, else by the attribution rule.

    prefer: a unit name (or part of it, e.g. 发展改革委), "市" (cities) or "基地" (bases).
    Among preferred reporters, else among all, the largest 本期累计 is taken.
    """
    label = f"“{indicator}”"
    rows = indicators[equals(indicators["indicator"], indicator)]
    rows = rows[rows["current"].notna()]
    if unit is not None:
        rows = rows[equals(rows["unit"], unit)]
        if rows.empty:
            return UnitFigure(unit, None, None, None, f"{unit}未报送{label}")
    if rows.empty:
        return UnitFigure(None, None, None, None, f"本轮没有单位报送{label}（主要指标情况表）")
    if prefer in (CITY, BASE, DEPARTMENT):
        preferred = rows[rows["unit"].map(unit_kind) == prefer]
    elif prefer:
        preferred = rows[is_true(rows["unit"].astype("string").str.contains(prefer, regex=False))]
    else:
        preferred = rows
    pool = preferred if not preferred.empty else rows
    chosen = pool.sort_values("current", ascending=False, kind="stable").iloc[0]
    factor = 0.0001 if _norm(chosen["measure_unit"]) == "元" else 1.0  # 元 -> 万元
    last = _num(chosen["last_year"])
    return UnitFigure(str(chosen["unit"]), float(chosen["current"]) * factor,
                      None if last is None else last * factor, _norm(chosen["measure_unit"]) or None)


# =========================================================================== 招商引资


def attraction_frame(attraction: pd.DataFrame) -> pd.DataFrame:
    """The attraction projects with their 九大重点产业 (or 其他) and plain flags."""
    categories = list(attraction["industry"])
    looked = {c: nine_industry(c) for c in dict.fromkeys(categories)}  # each 产业类别 once: they repeat
    industries = [looked[c] for c in categories]
    return attraction.assign(
        nine_industry=[i or OTHER_INDUSTRY for i in industries],
        nine=[i is not None for i in industries],
        concentrated=equals(attraction["sign_mode"], CONCENTRATED),
        chain=flag(attraction["is_chain"]),
    )


def attraction_by_unit(attraction: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """Per reporting unit: attraction projects, 集中签约, contract and funds in 亿元, 九大产业 share (by count),
    延链补链强链."""
    columns = ["unit", "projects", "concentrated_projects", "contract_yi", "funds_in_place_yi",
               "nine_projects", "nine_share_pct", "chain_projects"]
    data = attraction_frame(attraction)
    units = [u for u in round_.units if u in set(data["unit"])] + sorted(set(data["unit"]) - set(round_.units))
    rows = []
    for unit in units:
        mine = data[data["unit"] == unit]
        rows.append({
            "unit": unit, "projects": len(mine), "concentrated_projects": int(mine["concentrated"].sum()),
            "contract_yi": wan_to_yi(float(mine["contract_investment"].sum())),
            "funds_in_place_yi": wan_to_yi(_num(mine["funds_in_place"].sum(min_count=1))),
            "nine_projects": int(mine["nine"].sum()), "nine_share_pct": share_pct(int(mine["nine"].sum()), len(mine)),
            "chain_projects": int(mine["chain"].sum()),
        })
    return pd.DataFrame(rows, columns=columns).pipe(float_columns)


def attraction_by_industry(attraction: pd.DataFrame) -> pd.DataFrame:
    """Per 九大重点产业 (in the official order) and 其他: projects, contract and funds in 亿元, share of projects."""
    columns = ["industry", "nine", "projects", "contract_yi", "funds_in_place_yi", "share_pct"]
    data = attraction_frame(attraction)
    rows = []
    for industry in [*schemas.NINE_INDUSTRIES, OTHER_INDUSTRY]:
        mine = data[data["nine_industry"] == industry]
        rows.append({
            "industry": industry, "nine": industry != OTHER_INDUSTRY, "projects": len(mine),
            "contract_yi": wan_to_yi(float(mine["contract_investment"].sum())),
            "funds_in_place_yi": wan_to_yi(_num(mine["funds_in_place"].sum(min_count=1))),
            "share_pct": share_pct(len(mine), len(data)),
        })
    return pd.DataFrame(rows, columns=columns).pipe(float_columns)


# =========================================================================== 十大工程项目


def milestone_done(status) -> bool | None:
    """Whether a milestone's 完成情况 says it is done (已完成, 已批复, 获批…); None when left blank.

    Words of not yet (未, 尚未, 推进中, 滞后…) win over words of done.
    """
    text = _norm(status)
    if not text:
        return None
    if _NOT_DONE.search(text):
        return False
    return bool(_DONE.search(text))


def major_work_category(stage, done: bool | None) -> str:
    """The report's status category of a major engineering project.

    在建 or 建成 -> 加快推进; 前期 with its milestone done -> 前期工作取得实质性进展;
    前期 otherwise (milestone not done, or none given) -> 前期工作加紧推进.
    """
    if stage in UNDER_CONSTRUCTION:
        return ACCELERATING
    return SUBSTANTIVE if done else PUSHING


def major_works_status(major_works: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """One row per major engineering project: stage, status category, milestone (done, overdue), investment progress.

    A milestone is overdue when its 节点时间 is before 数据截至日期 and it is not done.
    Investment progress (投资完成率 and gap to 时间进度) is given for projects under construction.
    """
    columns = ["project_name", "lead_unit", "leader", "stage", "category", "milestone", "milestone_date",
               "milestone_status", "milestone_done", "milestone_overdue", "total_investment_yi", "plan_yi",
               "completed_yi", "completion_rate_pct", "vs_time_progress_pp", "progress", "problems"]
    tp = round_time_progress(round_)
    cut_off = pd.Timestamp(round_.as_of)
    rows = []
    for r in major_works.itertuples():
        done = milestone_done(r.milestone_status)
        date = r.milestone_date if not pd.isna(r.milestone_date) else None
        stage = None if pd.isna(r.stage) else r.stage
        building = stage in UNDER_CONSTRUCTION
        rate = completion_rate_pct(_num(r.completed), _num(r.annual_plan)) if building else None
        rows.append({
            "project_name": r.project_name, "lead_unit": r.lead_unit, "leader": r.leader, "stage": r.stage,
            "category": major_work_category(stage, done), "milestone": r.milestone, "milestone_date": date,
            "milestone_status": r.milestone_status, "milestone_done": done,
            "milestone_overdue": bool(date is not None and date < cut_off and done is not True),
            "total_investment_yi": wan_to_yi(_num(r.total_investment)), "plan_yi": wan_to_yi(_num(r.annual_plan)),
            "completed_yi": wan_to_yi(_num(r.completed)), "completion_rate_pct": rate,
            "vs_time_progress_pp": vs_time_progress_pp(rate, tp), "progress": r.progress, "problems": r.problems,
        })
    out = pd.DataFrame(rows, columns=columns)
    out["milestone_date"] = pd.to_datetime(out["milestone_date"])
    out["milestone_done"] = out["milestone_done"].astype("boolean")
    out["milestone_overdue"] = out["milestone_overdue"].astype(bool)
    order = {c: i for i, c in enumerate((ACCELERATING, SUBSTANTIVE, PUSHING))}
    out = out.assign(_o=out["category"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    return out.reset_index(drop=True).pipe(float_columns)


# =========================================================================== 典型做法


def practices_by_section(practices: pd.DataFrame, units: tuple[str, ...] = ()) -> pd.DataFrame:
    """The units' 典型做法 in the report's section order; within a section, units in round.yml order,
    each unit's items in the order it wrote them."""
    columns = ["section", "section_key", "unit", "content"]
    if practices.empty:
        return pd.DataFrame(columns=columns)
    out = practices.assign(
        section_key=practices["section"].map(lambda s: PRACTICE_KEYS.get(s, "other")),
        _s=positions(practices["section"], list(PRACTICE_KEYS)),
        _u=positions(practices["unit"], units),
        _i=range(len(practices)),
    ).sort_values(["_s", "_u", "_i"], kind="stable")
    return out[columns].reset_index(drop=True)


