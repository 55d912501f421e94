"""The figures of the other returns: the "XX市…" figures of the 主要指标情况表 (（二）（三）（四）), 招商引资 (（四）)
and 十大工程 (（五）), for indicators.json (assembly.compute_indicators; the keys are declared in keys.csv).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.frames import equals
from pipeline.indicators.breakdowns import UnitFigure, _num, attraction_frame, attributed, major_works_status
from pipeline.indicators.formulas import (
    ACCELERATING,
    BASE,
    CITY,
    PUSHING,
    SUBSTANTIVE,
    UNDER_CONSTRUCTION,
    YI,
    Missing,
    completion_rate_pct,
    share_pct,
    unit_kind,
    value_or_missing,
    wan_to_yi,
    yoy_pct,
)
from pipeline.rounds import Round

# (key prefix, indicator, preferred units, value suffix, factor from the stored unit, with 同比?)
UNIT_FIGURES: tuple[tuple[str, str, str | None, str, float, bool], ...] = (
    ("measures.reward_paid", "奖励资金兑现", CITY, "wan", 1.0, False),
    ("measures.renovation", "企业更新改造投资", BASE, "yi", 1 / YI, True),
    ("support.industry_reward", "重点产业奖励资金", "发展改革委", "yi", 1 / YI, False),
    ("support.central_budget", "中央预算内资金", "发展改革委", "yi", 1 / YI, True),
    ("support.budget_coordination", "预算内统筹资金", "发展改革委", "yi", 1 / YI, False),
    ("land.approved", "已批准用地项目", "自然资源厅", "count", 1.0, False),
    ("land.prereview", "通过用地预审项目", "自然资源厅", "count", 1.0, False),
    ("land.new_supply", "新增供地", BASE, "mu", 1.0, False),
    ("planning.city", "谋划储备项目", CITY, "projects", 1.0, False),
)
# Figures read from the same unit as the first one of the group.
UNIT_GROUPS: tuple[tuple[str, str, tuple[tuple[str, str, float], ...]], ...] = (
    ("business_env", CITY, (("measures", "营商环境改革措施条数", 1.0), ("aspects", "营商环境改革措施方面", 1.0))),
    ("planning.water", "水利厅", (("projects", "谋划储备项目", 1.0), ("categories", "谋划项目大类", 1.0))),
    ("planning.transport", "交通运输厅",
     (("projects", "谋划储备项目", 1.0), ("investment_yi", "谋划储备项目总投资", 1 / YI))),
)


def unit_indicator_values(indicators: pd.DataFrame) -> dict[str, Any]:
    """（二）（三）（四）: the 主要指标 figures the report attributes to one unit, with their 同比."""
    out: dict[str, Any] = {}
    for prefix, indicator, prefer, suffix, factor, with_yoy in UNIT_FIGURES:
        fig = attributed(indicators, indicator, prefer)
        out[f"{prefix}.unit"] = value_or_missing(fig.unit, fig.reason or "")
        current = None if fig.current is None else fig.current * factor
        out[f"{prefix}.{suffix}"] = value_or_missing(current, fig.reason or "")
        if with_yoy:
            last = None if fig.last_year is None else fig.last_year * factor
            out[f"{prefix}.last_year_{suffix}"] = value_or_missing(
                last, fig.reason or f"{fig.unit}未填报“{indicator}”上年同期数")
            out[f"{prefix}.yoy_pct"] = value_or_missing(yoy_pct(fig.current, fig.last_year),
                                                        fig.reason or _yoy_reason(fig, indicator))
    for prefix, prefer, figures in UNIT_GROUPS:
        (first_key, first_indicator, _), *_ = figures
        lead = attributed(indicators, first_indicator, prefer)
        out[f"{prefix}.unit"] = value_or_missing(lead.unit, lead.reason or "")
        for key, indicator, factor in figures:
            fig = lead if lead.unit is None else attributed(indicators, indicator, None, unit=lead.unit)
            current = None if fig.current is None else fig.current * factor
            out[f"{prefix}.{key}"] = value_or_missing(current, fig.reason or "")
    total = indicators.loc[equals(indicators["indicator"], "谋划储备项目"), "current"]
    out["planning.projects_total"] = value_or_missing(_num(total.sum(min_count=1)), "本轮没有单位报送“谋划储备项目”")
    return out


def _yoy_reason(fig: UnitFigure, indicator: str) -> str:
    if fig.last_year is None:
        return f"{fig.unit}未填报“{indicator}”上年同期数，不计算同比"
    return f"{fig.unit}“{indicator}”上年同期为0，不计算同比"


def attraction_values(attraction: pd.DataFrame, indicators: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """（四）: contracted projects, 集中签约, 九大重点产业 share (by count), 延链补链强链, funds in place; the
    city with the most 集中签约, the city with the most projects, and the base's chain projects and funds."""
    keys = ["attraction.projects", "attraction.contract_yi", "attraction.funds_in_place_yi",
            "attraction.concentrated.projects", "attraction.concentrated.contract_yi", "attraction.nine.projects",
            "attraction.nine_share_pct", "attraction.nine_share_by_investment_pct", "attraction.chain_projects",
            "attraction.signing_city.unit", "attraction.signing_city.projects", "attraction.signing_city.contract_yi",
            "attraction.signing_city.nine_share_pct", "attraction.busiest_city.unit",
            "attraction.busiest_city.projects"]
    data = attraction_frame(attraction)
    out: dict[str, Any] = {}
    if data.empty:
        out.update({k: Missing("本轮未收到招商引资项目情况表") for k in keys})
    else:
        contract = float(data["contract_investment"].sum())
        nine = data[data["nine"]]
        conc = data[data["concentrated"]]
        out.update({
            "attraction.projects": len(data),
            "attraction.contract_yi": wan_to_yi(contract),
            "attraction.funds_in_place_yi": value_or_missing(wan_to_yi(_num(data["funds_in_place"].sum(min_count=1))),
                                                             "各单位均未填报本年到位资金"),
            "attraction.concentrated.projects": len(conc),
            "attraction.concentrated.contract_yi": wan_to_yi(float(conc["contract_investment"].sum())),
            "attraction.nine.projects": len(nine),
            "attraction.nine_share_pct": share_pct(len(nine), len(data)),
            "attraction.nine_share_by_investment_pct": value_or_missing(
                share_pct(float(nine["contract_investment"].sum()), contract),
                "合同投资额合计为0，无法按投资额计算占比"),
            "attraction.chain_projects": int(data["chain"].sum()),
        })
        out.update(_signing_and_busiest_city(data))
    out.update(_base_attraction(data, indicators, round_))
    return out


def _signing_and_busiest_city(data: pd.DataFrame) -> dict[str, Any]:
    cities = data[data["unit"].map(unit_kind) == CITY]
    conc = cities[cities["concentrated"]]
    out: dict[str, Any] = {}
    if conc.empty:
        why = "各市均无集中签约项目"
        out.update({f"attraction.signing_city.{k}": Missing(why)
                    for k in ("unit", "projects", "contract_yi", "nine_share_pct")})
        signing = None
    else:
        per_city = conc.groupby("unit").agg(n=("unit", "size"), money=("contract_investment", "sum"),
                                            nine=("nine", "sum"))
        per_city = per_city.sort_values(["n", "money"], ascending=False, kind="stable")
        signing, best = per_city.index[0], per_city.iloc[0]
        out.update({
            "attraction.signing_city.unit": signing,
            "attraction.signing_city.projects": int(best["n"]),
            "attraction.signing_city.contract_yi": wan_to_yi(float(best["money"])),
            "attraction.signing_city.nine_share_pct": share_pct(int(best["nine"]), int(best["n"])),
        })
    others = cities[cities["unit"] != signing] if cities["unit"].nunique() > 1 else cities
    if others.empty:
        out.update({"attraction.busiest_city.unit": Missing("各市均未报送招商引资项目"),
                    "attraction.busiest_city.projects": Missing("各市均未报送招商引资项目")})
    else:
        counts = others.groupby("unit").agg(n=("unit", "size"), money=("contract_investment", "sum"))
        counts = counts.sort_values(["n", "money"], ascending=False, kind="stable")
        out.update({"attraction.busiest_city.unit": counts.index[0],
                    "attraction.busiest_city.projects": int(counts.iloc[0]["n"])})
    return out


def _base_attraction(data: pd.DataFrame, indicators: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """The base of "XX基地…新引进延链补链强链项目XX个，招商引资到位资金XXX亿元，同比增长XX％"."""
    fig = attributed(indicators, "招商引资到位资金", BASE)
    unit = fig.unit
    if unit is None:
        bases = [u for u in round_.units if unit_kind(u) == BASE and u in set(data.get("unit", []))]
        unit = bases[0] if bases else None
    if unit is None:
        why = "没有基地报送招商引资到位资金或招商引资项目"
        return {f"attraction.base.{k}": Missing(why) for k in
                ("unit", "chain_projects", "funds_in_place_yi", "funds_last_year_yi", "funds_yoy_pct")}
    mine = data[data["unit"] == unit] if not data.empty else data
    funds, last = fig.current, fig.last_year
    funds_reason = f"{unit}未报送招商引资到位资金"
    if funds is None and not mine.empty:
        funds = _num(mine["funds_in_place"].sum(min_count=1))
    return {
        "attraction.base.unit": unit,
        "attraction.base.chain_projects": value_or_missing(int(mine["chain"].sum()) if not mine.empty else None,
                                                           f"{unit}未报送招商引资项目"),
        "attraction.base.funds_in_place_yi": value_or_missing(wan_to_yi(funds), funds_reason),
        "attraction.base.funds_last_year_yi": value_or_missing(wan_to_yi(last),
                                                               f"{unit}未填报“招商引资到位资金”上年同期数"),
        "attraction.base.funds_yoy_pct": value_or_missing(yoy_pct(fig.current, last),
                                                          _yoy_reason(fig, "招商引资到位资金") if fig.unit
                                                          else f"{unit}未报送“招商引资到位资金”，不计算同比"),
    }


def major_values(major_works: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """（五）: the ten projects by status category, overdue milestones, investment progress of those under
    construction."""
    table = major_works_status(major_works, round_)
    if table.empty:
        keys = ["major.projects", *(f"major.{c}.{k}" for c in ("accelerating", "substantive", "pushing", "overdue")
                                    for k in ("names", "count")),
                "major.construction.projects", "major.construction.plan_yi", "major.construction.completed_yi",
                "major.construction.completion_rate_pct"]
        return {k: Missing("本轮未收到十大工程项目推进情况表") for k in keys}
    out: dict[str, Any] = {"major.projects": len(table)}
    for key, category in (("accelerating", ACCELERATING), ("substantive", SUBSTANTIVE), ("pushing", PUSHING)):
        names = table.loc[table["category"] == category, "project_name"].astype(str).tolist()
        out[f"major.{key}.names"], out[f"major.{key}.count"] = names, len(names)
    overdue = table.loc[table["milestone_overdue"], "project_name"].astype(str).tolist()
    out["major.overdue.names"], out["major.overdue.count"] = overdue, len(overdue)
    building = major_works[major_works["stage"].isin(UNDER_CONSTRUCTION)]
    plan, done = _num(building["annual_plan"].sum(min_count=1)), _num(building["completed"].sum(min_count=1))
    out.update({
        "major.construction.projects": len(building),
        "major.construction.plan_yi": value_or_missing(wan_to_yi(plan), "在建工程均未填报年度计划投资"),
        "major.construction.completed_yi": value_or_missing(wan_to_yi(done), "在建工程均未填报累计完成投资"),
        "major.construction.completion_rate_pct": value_or_missing(completion_rate_pct(done, plan),
                                                                   "在建工程年度计划投资为0或未填报"),
    })
    return out
