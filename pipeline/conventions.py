"""Conventions: how an office counts and words its progress figures, read from round.yml.

Offices do not all count the same way. These settings make the pipeline reproduce an
office's own published figures and wording without a code change:

    time_progress: months        # months (default): cut-off month ÷ 12
                                 # days: days elapsed (cut-off day of the year) ÷ days in the year
                                 # or 12 cumulative target percentages (序时进度 set by the annual plan),
                                 # e.g. [10, 20, …, 120]: the cut-off month's value is the time progress
    time_progress_name: 时间进度  # or 序时进度, 时序进度, 均衡进度: the word the report uses
    progress_words: [超过, 低于]  # or [快于, 慢于], [高于, 低于]
    decimals: 1                  # 1 (default) or 2: percentages and points in the text and tables
    start_rate_base: new         # new (default; 续建 not in the denominator), all, or planned
                                 # (projects whose 计划开工时间 is on or before the cut-off)
    warning:                     # 三色预警 thresholds (defaults: a published city rule)
      start_late_yellow_months: 0
      start_late_red_months: 3
      behind_yellow_pp: 10
      behind_red_pp: 30
      stats_yellow_months: 1
      stats_red_months: 2

``parse_conventions`` checks them before anything runs and raises ``ConventionsError``
(a ``RoundError``) with a Chinese message naming the key and the allowed values.

``RoundError`` itself is defined here, not in rounds.py, so that this module needs no
import of rounds.py (which imports it): rounds.py re-exports it as ``rounds.RoundError``.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

TIME_PROGRESS_MODES = ("months", "days")
TIME_PROGRESS_NAMES = ("时间进度", "序时进度", "时序进度", "均衡进度")
PROGRESS_WORDS = (("超过", "低于"), ("快于", "慢于"), ("高于", "低于"))
DECIMALS = (1, 2)
START_RATE_BASES = ("new", "all", "planned")
TARGETS = "targets"  # the mode of a 12-value schedule
MAX_TARGET_PCT = 200.0  # a schedule may aim above 100% (惠东县: 120% for the year)

# round.yml keys read here (rounds.py adds them to the keys it accepts).
CONVENTION_KEYS = frozenset({"time_progress", "time_progress_name", "progress_words", "decimals", "start_rate_base",
                             "warning"})


class RoundError(ValueError):
    """A round that cannot run; the message (Chinese) says what to fix."""


class ConventionsError(RoundError):
    """A convention in round.yml has a value that is not allowed."""


@dataclass(frozen=True)
class WarningThresholds:
    """三色预警 thresholds (round.yml ``warning:``); months are whole months, points are 百分点."""

    start_late_yellow_months: float = 0  # not started although the planned start has passed → 黄
    start_late_red_months: float = 3  # this many months late or more → 红
    behind_yellow_pp: float = 10  # 投资完成率 this many points or more below time progress → 黄
    behind_red_pp: float = 30  # more than this many points below → 红
    stats_yellow_months: float = 1  # started, not 入统 this many months after the start date → 黄
    stats_red_months: float = 2  # … this many months → 红


WARNING_KEYS = {
    "start_late_yellow_months": "未按计划开工滞后月数（黄）", "start_late_red_months": "未按计划开工滞后月数（红）",
    "behind_yellow_pp": "低于时间进度百分点（黄）", "behind_red_pp": "低于时间进度百分点（红）",
    "stats_yellow_months": "开工后未入统月数（黄）", "stats_red_months": "开工后未入统月数（红）",
}


@dataclass(frozen=True)
class Conventions:
    """The conventions of one round (defaults: the seed report's own)."""

    time_progress_mode: str = "months"  # months, days or targets
    time_progress_targets: tuple[float, ...] = ()  # the 12 cumulative targets (%) when the mode is targets
    time_progress_name: str = "时间进度"
    progress_words: tuple[str, str] = ("超过", "低于")
    decimals: int = 1
    start_rate_base: str = "new"
    warning: WarningThresholds = field(default_factory=WarningThresholds)

    @property
    def time_progress_setting(self) -> str | list[float]:
        """As written in round.yml (and recorded in indicators.json): "months", "days" or the 12 targets."""
        return list(self.time_progress_targets) if self.time_progress_mode == TARGETS else self.time_progress_mode

    def time_progress_pct(self, as_of: dt.date) -> float:
        """时间进度 (%) at the cut-off, unrounded; see ``time_progress_pct``."""
        return time_progress_pct(as_of, self)

    def number(self, value: float) -> str:
        """A percentage or a difference in points as written: ``decimals`` places, half up."""
        return half_up(value, self.decimals)

    def gap_text(self, pp: float | None, subject: str = "") -> str:
        """“快于序时进度12.51个百分点” / “低于时间进度5.0个百分点” / “与时间进度持平”; "—" when missing."""
        if pp is None or (isinstance(pp, float) and math.isnan(pp)):  # no pandas here: rounds stays light
            return "—"
        shown = self.number(abs(pp))
        if Decimal(shown) == 0:
            return f"{subject}与{self.time_progress_name}持平"
        up, down = self.progress_words
        return f"{subject}{up if pp > 0 else down}{self.time_progress_name}{shown}个百分点"


def half_up(value: float, digits: int = 1) -> str:
    """四舍五入 to `digits` decimals on the value as written (12.505 -> 12.51), never "-0.0"."""
    shown = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{abs(shown) if shown == 0 else shown:.{digits}f}"


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def time_progress_pct(as_of: dt.date, conventions: Conventions | None = None) -> float:
    """时间进度 (%) at the data cut-off, unrounded.

    months: cut-off month ÷ 12 (2021-10-31 -> 83.33…);
    days: the cut-off's day of the year ÷ days in the year (2024-02-29 -> 60 ÷ 366 = 16.39…);
    targets: the cut-off month's value of the 12 cumulative targets (序时进度 of the annual plan).
    """
    conv = conventions or Conventions()
    if conv.time_progress_mode == "days":
        return as_of.timetuple().tm_yday / days_in_year(as_of.year) * 100
    if conv.time_progress_mode == TARGETS:
        return float(conv.time_progress_targets[as_of.month - 1])
    return as_of.month / 12 * 100


# --------------------------------------------------------------------------- parsing round.yml


def parse_conventions(raw: dict, as_of: dt.date | None = None) -> Conventions:
    """The conventions of round.yml's mapping `raw`, checked; ConventionsError (Chinese) on a bad value.

    as_of, when given, only makes the message about a target schedule say which value the round uses.
    """
    mode, targets = _time_progress(raw.get("time_progress", "months"), as_of)
    name = _choice(raw, "time_progress_name", "时间进度", TIME_PROGRESS_NAMES)
    words = raw.get("progress_words", ["超过", "低于"])
    if not isinstance(words, (list, tuple)) or tuple(str(w).strip() for w in words) not in PROGRESS_WORDS:
        allowed = "、".join(f"[{a}, {b}]" for a, b in PROGRESS_WORDS)
        raise ConventionsError(f"round.yml 中 progress_words（高于/低于时间进度的用词）只能是 {allowed} 之一，"
                               f"现为 {words!r}。")
    decimals = raw.get("decimals", 1)
    if isinstance(decimals, bool) or decimals not in DECIMALS:
        raise ConventionsError(f"round.yml 中 decimals（百分比和百分点保留的小数位数）只能是 1 或 2，"
                               f"现为 {decimals!r}。")
    base = _choice(raw, "start_rate_base", "new", START_RATE_BASES,
                   "new（续建项目不计入开工率分母）、all（全部项目）或 planned（计划开工时间在数据截至日期之前的项目）")
    return Conventions(time_progress_mode=mode, time_progress_targets=targets, time_progress_name=name,
                       progress_words=tuple(str(w).strip() for w in words), decimals=int(decimals),
                       start_rate_base=base, warning=_warning(raw.get("warning")))


def _choice(raw: dict, key: str, default: str, allowed: tuple[str, ...], described: str | None = None) -> str:
    value = raw.get(key, default)
    if str(value).strip() not in allowed:
        raise ConventionsError(f"round.yml 中 {key} 只能是 {described or '、'.join(allowed)}，现为“{value}”。")
    return str(value).strip()


def _time_progress(value, as_of: dt.date | None) -> tuple[str, tuple[float, ...]]:
    if isinstance(value, str) and value.strip() in TIME_PROGRESS_MODES:
        return value.strip(), ()
    hint = ("round.yml 中 time_progress（时间进度的算法）只能是 months（截至月份÷12）、days（已过天数÷全年天数），"
            "或12个逐月累计目标百分比，如 [5, 12, 22, 32, 42, 50, 58, 66, 75, 85, 95, 100]")
    if not isinstance(value, list):
        raise ConventionsError(f"{hint}；现为“{value}”。")
    numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if len(value) != 12 or len(numbers) != 12:
        not_numbers = "" if len(numbers) == len(value) else "，其中有不是数字的"
        raise ConventionsError(f"{hint}；现在写了{len(value)}个值{not_numbers}。")
    if any(not 0 <= v <= MAX_TARGET_PCT for v in numbers):
        raise ConventionsError(f"round.yml 中 time_progress 的逐月目标应在 0 到 {MAX_TARGET_PCT:g} 之间（百分比）。")
    if any(b < a for a, b in zip(numbers, numbers[1:])):
        month = next(i for i, (a, b) in enumerate(zip(numbers, numbers[1:]), start=2) if b < a)
        used = f"（本轮数据截至{as_of.month}月，取第{as_of.month}个值）" if as_of else ""
        raise ConventionsError(f"round.yml 中 time_progress 的逐月目标是累计值，不应减少："
                               f"第{month}个值小于前一个{used}。")
    return TARGETS, tuple(float(v) for v in numbers)


def _warning(value) -> WarningThresholds:
    if value is None:
        return WarningThresholds()
    if not isinstance(value, dict):
        raise ConventionsError("round.yml 中 warning（三色预警标准）应为“键: 值”的形式，可用的键："
                               f"{'、'.join(WARNING_KEYS)}。")
    unknown = sorted(set(map(str, value)) - set(WARNING_KEYS))
    if unknown:
        raise ConventionsError(f"round.yml 中 warning 有无法识别的设置项：{'、'.join(unknown)}。"
                               f"可用的设置项：{'、'.join(WARNING_KEYS)}。")
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 100:
            raise ConventionsError(f"round.yml 中 warning.{key}（{WARNING_KEYS[key]}）应为 0 到 100 之间的数字，"
                                   f"现为 {number!r}。")
    thresholds = WarningThresholds(**{k: float(v) for k, v in value.items()})
    for rule in ("start_late", "behind", "stats"):
        unit = "pp" if rule == "behind" else "months"
        yellow, red = getattr(thresholds, f"{rule}_yellow_{unit}"), getattr(thresholds, f"{rule}_red_{unit}")
        if red < yellow:
            raise ConventionsError(f"round.yml 中 warning.{rule}_red_{unit}（{red:g}）小于 warning.{rule}_yellow_{unit}"
                                   f"（{yellow:g}）：红色预警的标准应不低于黄色预警。")
    return thresholds


def conventions_of(round_) -> Conventions:
    """A round's conventions; a Round built without them (tests, older callers) gets the defaults with its
    start_rate_base."""
    conv = getattr(round_, "conventions", None)
    if conv is None:
        return Conventions(start_rate_base=getattr(round_, "start_rate_base", "new"))
    return conv
