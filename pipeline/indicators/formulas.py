"""Indicator formulas: rates, time progress, shares and changes; units, cities and flags; the Missing marker.

The definitions each function implements are documented in ``pipeline.indicators`` (assembly.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from pipeline import conventions as conv_
from pipeline import paths, schemas
from pipeline.frames import equals, is_missing, is_true  # noqa: F401  (is_missing re-exported: fm.is_missing)
from pipeline.rounds import Round

INDICATORS_FILE = paths.INDICATORS
YI = 10_000.0  # 万元 per 亿元

SCOPE_ALL, SCOPE_KEY = "全部项目", "重点项目"
UNKNOWN = "未注明"
UNKNOWN_CITY = "未注明所在市"
CITY, BASE, DEPARTMENT = schemas.CITY, schemas.BASE, schemas.DEPARTMENT
BATCH_ORDER = ("第一批", "第二批")
NATURE_ORDER = ("新建", "续建", "改扩建")
CONTINUING = "续建"
CONCENTRATED = "集中签约"

# The row of the 固定资产投资 return that is the whole region.
REGION_TOTAL_NAMES = ("全区", "全自治区", "自治区", "全区合计", "宁夏", "全省")

# 九大重点产业: how units write each industry in 产业类别. A category matches the
# first industry one of whose words it contains; anything else is 其他.
NINE_INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "枸杞": ("枸杞",),
    "葡萄酒": ("葡萄酒", "葡萄"),
    "奶产业": ("奶产业", "奶业", "奶牛", "乳"),
    "肉牛和滩羊": ("肉牛", "滩羊"),
    "电子信息": ("电子信息", "电子", "信息产业", "数字经济"),
    "新型材料": ("新型材料", "新材料"),
    "绿色食品": ("绿色食品", "食品"),
    "清洁能源": ("清洁能源", "新能源", "光伏", "风电", "氢能", "储能"),
    "文化旅游": ("文化旅游", "文旅", "旅游"),
}
OTHER_INDUSTRY = "其他"

# PRACTICE_SECTIONS key -> the short key used in indicators.json.
PRACTICE_KEYS = {
    "抓项目的意识": "awareness",
    "项目推进措施": "measures",
    "项目要素保障": "support",
    "项目谋划招引": "planning",
    "十大工程项目": "major_works",
}

# 十大工程项目: stages and milestone words.
UNDER_CONSTRUCTION = ("在建", "建成")
ACCELERATING, SUBSTANTIVE, PUSHING = "加快推进", "前期工作取得实质性进展", "前期工作加紧推进"
_NOT_DONE = re.compile(r"未|尚未|没有|滞后|推进中|正在|进行中|待")
_DONE = re.compile(r"已|完成|获批|批复|取得|通过|开工|建成")


# =========================================================================== indicator functions


def time_progress_pct(as_of, conventions: conv_.Conventions | None = None) -> float:
    """时间进度（%）at the data cut-off, by round.yml's ``time_progress`` (pipeline/conventions.py).

    months (default): the cut-off month m: m / 12 × 100 (2021-10-31 -> 10 -> 83.33…%);
    days: the cut-off's day of the year ÷ days in the year (2024-02-29 -> 60 / 366);
    a schedule of 12 cumulative targets (序时进度): the cut-off month's target (80 at the end of August).
    Unrounded; the report shows ``decimals`` places.
    """
    return conv_.time_progress_pct(as_of, conventions)


def round_time_progress(round_: Round) -> float:
    """The round's 时间进度 (%) with its own conventions."""
    return time_progress_pct(round_.as_of, conv_.conventions_of(round_))


def start_rate_pct(started: int, planned: int) -> float | None:
    """开工率（%）= 已开工项目数 / 计划开工项目数 × 100.

    For a concentrated-start batch the planned projects are the whole batch
    (start_rate_base all) or the batch without 续建 projects (new, the default).
    None when no project was planned to start.
    """
    return started / planned * 100 if planned else None


def completion_rate_pct(completed_wan: float | None, plan_wan: float | None) -> float | None:
    """投资完成率（%）= 本年累计完成投资 / 年度计划投资 × 100 (both in the same money unit).

    None when the annual plan is zero or missing. Unrounded.
    """
    if is_missing(completed_wan) or is_missing(plan_wan) or plan_wan == 0:
        return None
    return completed_wan / plan_wan * 100


def vs_time_progress_pp(completion_pct: float | None, time_progress: float | None) -> float | None:
    """超过（正）/低于（负）时间进度的百分点 = 投资完成率 − 时间进度, from unrounded values.

    647.4亿元 plan, 629.0亿元 done to October: 97.157…% − 83.333…% = 13.82… -> "超过时间进度13.8个百分点".
    """
    if completion_pct is None or time_progress is None:
        return None
    return completion_pct - time_progress


def yoy_pct(current: float | None, last_year: float | None) -> float | None:
    """同比增长（%）= (本期 − 上年同期) / 上年同期 × 100.

    None when the same-period figure of last year is missing or zero (the 同比
    is then omitted and the reason given).
    """
    if is_missing(current) or is_missing(last_year) or last_year == 0:
        return None
    return (current - last_year) / last_year * 100


def accel_pp(growth_pct: float | None, last_growth_pct: float | None) -> float | None:
    """比上年同期加快（正）/回落（负）的百分点 = 本年累计增速 − 上年同期累计增速."""
    if is_missing(growth_pct) or is_missing(last_growth_pct):
        return None
    return growth_pct - last_growth_pct


def share_pct(part: float | None, whole: float | None) -> float | None:
    """占比（%）= 部分 / 总体 × 100; None when the whole is zero or missing."""
    if is_missing(part) or is_missing(whole) or whole == 0:
        return None
    return part / whole * 100


def wan_to_yi(wan: float | None) -> float | None:
    """万元 -> 亿元 (1 亿元 = 10,000 万元)."""
    return None if is_missing(wan) else wan / YI


def change_pp(now: float | None, before: float | None) -> float | None:
    """较上轮变化（百分点）= 本轮比率 − 上轮比率."""
    if is_missing(now) or is_missing(before):
        return None
    return now - before


# =========================================================================== units, cities, flags


unit_kind = schemas.unit_kind


def round_areas(round_: Round) -> list[str]:
    """The places a project can be in for "by city": the round's cities, then its bases (宁东基地)."""
    return [u for u in round_.units if unit_kind(u) == CITY] + [u for u in round_.units if unit_kind(u) == BASE]


def flag(series: pd.Series) -> pd.Series:
    """A nullable yes/no column as plain bools: missing counts as no."""
    return is_true(series)


def project_city(projects: pd.DataFrame, areas: list[str] | tuple[str, ...]) -> pd.Series:
    """The city (or base) of each project, for "by city" breakdowns.

    The unit when it is a city; else the city or base its 所在市/县区 starts with (银川市兴庆区 or
    银川兴庆区 -> 银川市, 宁东基地煤化工园区 -> 宁东基地); else the unit when it is a base; else 未注明所在市.
    """
    by_length = [(area, re.sub(r"(市|基地)$", "", area)) for area in sorted(areas, key=len, reverse=True)]

    def city_of(unit, location) -> str:
        if isinstance(unit, str) and unit_kind(unit) == CITY:
            return unit
        text = _norm(location)
        for area, core in by_length:
            if text.startswith(area) or (len(core) >= 2 and text.startswith(core)):
                return area
        if isinstance(unit, str) and unit in areas and unit_kind(unit) == BASE:
            return unit
        return UNKNOWN_CITY

    pairs = list(zip(projects["unit"], projects["location"]))
    cities = {pair: city_of(*pair) for pair in dict.fromkeys(pairs)}  # each (unit, 所在市/县区) once: they repeat
    return pd.Series([cities[pair] for pair in pairs], index=projects.index, dtype="string")


def start_base_mask(projects: pd.DataFrame, base: str, as_of=None) -> pd.Series:
    """Projects in the 开工率 denominator: all of them (all), all but 续建 (new; unknown 建设性质 counts),
    or those whose 计划开工时间 is on or before the cut-off as_of (planned; no planned date: not counted)."""
    if base == "all":
        return pd.Series(True, index=projects.index)
    if base == "planned":
        if as_of is None:
            raise ValueError("start_rate_base planned needs the cut-off date")
        planned = pd.to_datetime(projects["planned_start_date"])
        return is_true(planned.le(pd.Timestamp(as_of)))
    return ~equals(projects["nature"], CONTINUING)


def require_planned_start(projects: pd.DataFrame, round_: Round) -> None:
    """Stop with a Chinese message when start_rate_base is planned and no return gives 计划开工时间."""
    if round_.start_rate_base != "planned" or projects.empty:
        return
    if "planned_start_date" not in projects or projects["planned_start_date"].isna().all():
        raise conv_.ConventionsError(
            "round.yml 中 start_rate_base: planned 以计划开工时间在数据截至日期之前的项目为开工率分母，"
            "但本轮重大项目进展情况表中没有“计划开工时间”列（或该列全部为空）：请在报表中填报计划开工时间，"
            "或把 start_rate_base 改为 new 或 all 后重新运行。")


def nine_industry(category) -> str | None:
    """The 九大重点产业 a 产业类别 belongs to, or None (其他)."""
    text = _norm(category)
    if not text:
        return None
    for industry, words in NINE_INDUSTRY_WORDS.items():
        if any(w in text for w in words):
            return industry
    return None


def _norm(text) -> str:
    if is_missing(text):
        return ""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", str(text)))



# =========================================================================== indicators.json: the assembly


@dataclass(frozen=True)
class Missing:
    """A value that cannot be computed, and why (Chinese, for the report)."""

    reason: str


def value_or_missing(value, reason: str):
    """The value, or Missing(reason) when it is None."""
    return Missing(reason) if is_missing(value) else value


