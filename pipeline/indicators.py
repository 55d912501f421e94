"""Indicators: every figure the report states, computed from a round's clean tables.

Each indicator is a small named function whose docstring states the official
definition it implements (numerator, denominator, unit, rounding). Nothing is
rounded here: rounding happens only when a number is displayed (the report
shows 亿元 and percentages to one decimal, counts as integers), and every
difference (超过/低于时间进度, 加快/回落) is taken between unrounded values.
A value that cannot be computed — a zero denominator, an empty group, a return
that did not arrive, a last-year figure left blank — is None, never an error,
and the assembly records why.

indicators.json
===============
``outputs/<round>/indicators.json`` is ONE flat JSON object with dotted key
names (``data["batch.start_rate_pct"]``). Every key listed below is always
present. Its value is a number, a string, a list of names, or null. The extra
key ``notes`` maps each key whose value is null to the Chinese reason, so the
report can print "—" and say why. Conventions:

* ``_yi`` amounts are in 亿元, ``_wan`` in 万元, ``_mu`` in 亩 (the clean tables
  hold 万元; 亿元 = 万元 / 10000);
* ``_pct`` is a percentage (97.2 means 97.2%); ``_pp`` is a difference of two
  percentages in points, positive = 超过/加快/提高, negative = 低于/回落/下降;
* ``.unit`` is the reporting unit a figure belongs to, for the report's
  "XX市…" / "XX基地…" sentences; ``.names`` / ``.units`` are lists;
* ``batch.`` is the two concentrated-start batches together (all projects of
  the 重大项目进展情况表), ``key.`` the 重点项目 among them.

Which unit a "XX市/XX基地…" figure is taken from (data-driven): among the units
that reported the indicator, the preferred ones (a named department, or the
cities, or the bases — given per figure below) are tried first and the one
with the largest 本期累计 is taken; when no preferred unit reported it, the
largest of all reporters is taken. ``.unit`` always names the unit used.

Keys (section — key — meaning):

本轮与督查安排
- `round` — 轮次编号
- `title` — 轮次标题
- `as_of` — 数据截至日期（YYYY-MM-DD）
- `as_of_month` — 数据截至月份（"截至X月底"）
- `year` — 年度
- `sample` — 是否示例数据（true 时报告须注明）
- `time_progress_pct` — 时间进度（%）= 截至月份 / 12 × 100
- `start_rate_base` — 开工率口径：new（续建项目不计入分母）、all 或 planned（计划开工时间在截至日期之前的项目）
- `conventions.time_progress` — 时间进度算法：months（截至月份÷12）、days（已过天数÷全年天数）或12个逐月累计目标（序时进度）
- `conventions.time_progress_name` — 报告中时间进度的称谓（时间进度、序时进度、时序进度、均衡进度）
- `conventions.progress_words` — 高于/低于时间进度的用词，如 [超过, 低于]、[快于, 慢于]
- `conventions.decimals` — 报告中百分比和百分点保留的小数位数（1 或 2；本文件中的数值不取舍）
- `conventions.start_rate_base` — 开工率口径（同 start_rate_base）
- `behind_margin_pp` — 滞后标准：低于时间进度超过该百分点数即列入督办/通报
- `inspection.start` — 督查开始日期（round.yml 的 inspection_start）
- `inspection.end` — 督查结束日期（round.yml 的 inspection_end）
- `inspection.groups` — 督查组数（round.yml 的 groups）
- `inspection.cities` — 督查涉及的地级市数（应报送单位中名称以“市”结尾的）
- `inspection.bases` — 督查涉及的基地数（名称以“基地”结尾的）
- `inspection.base_names` — 基地名称列表（"XX基地"）
- `inspection.departments` — 督查涉及的区直部门数（其余单位）

一、总体情况
- `fai.region` — 固定资产投资所用的全区行名称（如“全区”）
- `fai.month` — 固定资产投资数据的月份（1—该月累计）
- `fai.total_yi` — 全区固定资产投资累计完成额（亿元）
- `fai.yoy_pct` — 全区固定资产投资累计同比增长（%），统计部门报送值
- `fai.last_yoy_pct` — 上年同期累计增速（%）
- `fai.accel_pp` — 比上年同期加快（正）/回落（负）的百分点
- `batch.projects` — 两批次集中开工重大项目个数
- `batch.started` — 其中已开工个数（含续建）
- `batch.not_started` — 其中未开工个数
- `batch.start_base` — 开工率分母：应开工项目个数（口径见 start_rate_base）
- `batch.start_base_started` — 开工率分子：应开工项目中已开工个数
- `batch.start_rate_pct` — 开工率（%）
- `batch.plan_yi` — 年度计划投资（亿元）
- `batch.completed_yi` — 累计完成投资（亿元）
- `batch.completion_rate_pct` — 投资完成率（%）
- `batch.vs_time_progress_pp` — 投资完成率与时间进度之差（正=超过，负=低于）
- `key.projects` — 重点项目个数
- `key.started` — 重点项目已开工个数
- `key.not_started` — 重点项目未开工个数
- `key.start_base` — 重点项目开工率分母
- `key.start_base_started` — 重点项目开工率分子
- `key.start_rate_pct` — 重点项目开工率（%）
- `key.plan_yi` — 重点项目年度计划投资（亿元）
- `key.completed_yi` — 重点项目累计完成投资（亿元）
- `key.completion_rate_pct` — 重点项目投资完成率（%）
- `key.vs_time_progress_pp` — 重点项目投资完成率与时间进度之差
- `batch.funds_planned_yi` — 资金到位率分母：计划到位资金（亿元；重大项目进展情况表“计划到位资金”列，可选）
- `batch.funds_in_place_yi` — 资金到位率分子：实际到位资金（亿元；“实际到位资金”列，填报了计划到位资金的项目）
- `batch.funds_rate_pct` — 资金到位率（%）= 实际到位资金 ÷ 计划到位资金；无该两列时为 null
- `batch.due_completion` — 按期竣工率分母：计划竣工时间在数据截至日期之前的项目个数（“计划竣工时间”列，可选）
- `batch.completed_on_time` — 按期竣工率分子：其中竣工时间不晚于计划竣工时间的项目个数（无竣工时间时按“是否竣工”）
- `batch.on_time_completion_rate_pct` — 按期竣工率（%）；无计划竣工时间或是否竣工/竣工时间列时为 null

典型做法（各节"XX市…"的做法由工作举措与典型做法表引用）
- `practices.count` — 收到的典型做法条数
- `practices.awareness.units` — （一）抓项目的意识：报送做法的单位（按 round.yml 的单位顺序）
- `practices.measures.units` — （二）项目推进措施：报送做法的单位
- `practices.support.units` — （三）项目要素保障：报送做法的单位
- `practices.planning.units` — （四）项目谋划招引：报送做法的单位
- `practices.major_works.units` — （五）十大工程项目：报送做法的单位

（二）项目推进措施
- `measures.reward_paid.unit` — 兑现奖励资金最多的市（优先：市）
- `measures.reward_paid.wan` — 该市兑现奖励资金（万元）
- `measures.renovation.unit` — 企业更新改造投资的单位（优先：基地）
- `measures.renovation.yi` — 企业更新改造投资（亿元）
- `measures.renovation.last_year_yi` — 上年同期（亿元）
- `measures.renovation.yoy_pct` — 企业更新改造投资同比增长（%）

（三）项目要素保障
- `support.industry_reward.unit` — 九大重点产业奖励资金的报送单位（优先：发展改革委）
- `support.industry_reward.yi` — 设立的重点产业奖励资金（亿元）
- `support.central_budget.unit` — 中央预算内资金的报送单位（优先：发展改革委）
- `support.central_budget.yi` — 争取中央预算内资金（亿元）
- `support.central_budget.last_year_yi` — 上年同期（亿元）
- `support.central_budget.yoy_pct` — 中央预算内资金同比增长（%）
- `support.budget_coordination.unit` — 预算内统筹资金的报送单位（优先：发展改革委）
- `support.budget_coordination.yi` — 安排预算内统筹资金（亿元）
- `land.approved.unit` — 已批准用地项目的报送单位（优先：自然资源厅）
- `land.approved.count` — 已批准用地项目（个）
- `land.prereview.unit` — 通过用地预审项目的报送单位（优先：自然资源厅）
- `land.prereview.count` — 通过用地预审项目（个）
- `land.new_supply.unit` — 新增供地的单位（优先：基地）
- `land.new_supply.mu` — 新增供地（亩）
- `business_env.unit` — 营商环境改革措施条数最多的市（优先：市）
- `business_env.aspects` — 该市营商环境改革措施涉及的方面数（个）
- `business_env.measures` — 该市营商环境改革措施条数（条）

（四）项目谋划招引
- `planning.water.unit` — 谋划水利项目的单位（优先：水利厅）
- `planning.water.categories` — 谋划项目大类数（X大类）
- `planning.water.projects` — 谋划项目数（XX项）
- `planning.transport.unit` — 交通储备项目的单位（优先：交通运输厅）
- `planning.transport.projects` — 储备项目个数
- `planning.transport.investment_yi` — 储备项目总投资（亿元）
- `planning.city.unit` — 谋划储备项目最多的市
- `planning.city.projects` — 该市谋划储备项目个数
- `planning.projects_total` — 各单位报送的谋划储备项目个数之和（各单位口径，可能有重叠）
- `attraction.projects` — 全区实施招商引资合同项目个数（招商引资项目情况表的行数，跨单位已去重）
- `attraction.contract_yi` — 合同投资额合计（亿元）
- `attraction.funds_in_place_yi` — 本年到位资金合计（亿元）
- `attraction.concentrated.projects` — 集中签约项目个数
- `attraction.concentrated.contract_yi` — 集中签约项目合同投资额（亿元）
- `attraction.nine.projects` — 九大重点产业项目个数
- `attraction.nine_share_pct` — 九大重点产业项目占比（%），按项目个数计（报告应注明“按个数”）
- `attraction.nine_share_by_investment_pct` — 九大重点产业项目占比（%），按合同投资额计（参考）
- `attraction.chain_projects` — 延链补链强链项目个数
- `attraction.signing_city.unit` — 集中签约项目最多的市（并列时取合同投资额大的）
- `attraction.signing_city.projects` — 该市集中签约项目个数
- `attraction.signing_city.contract_yi` — 该市集中签约项目合同投资额（亿元）
- `attraction.signing_city.nine_share_pct` — 该市集中签约项目中九大重点产业项目占比（%，按个数）
- `attraction.busiest_city.unit` — 除上一市外，招商引资项目最多的市（只有一个市有项目时即为该市）
- `attraction.busiest_city.projects` — 该市招商引资项目个数
- `attraction.base.unit` — 招商引资到位资金的基地（优先：基地）
- `attraction.base.chain_projects` — 该基地延链补链强链项目个数
- `attraction.base.funds_in_place_yi` — 该基地招商引资到位资金（亿元；主要指标表，缺时为招商项目表本年到位资金之和）
- `attraction.base.funds_last_year_yi` — 上年同期（亿元）
- `attraction.base.funds_yoy_pct` — 招商引资到位资金同比增长（%）

（五）十大工程项目
- `major.projects` — 十大工程项目个数
- `major.accelerating.names` — 加快推进的工程（在建、建成）
- `major.accelerating.count` — 加快推进的个数
- `major.substantive.names` — 前期工作取得实质性进展的工程（前期，节点已完成）
- `major.substantive.count` — 个数
- `major.pushing.names` — 前期工作加紧推进的工程（前期，节点未完成或未填）
- `major.pushing.count` — 个数
- `major.overdue.names` — 计划节点已逾期未完成的工程
- `major.overdue.count` — 个数
- `major.construction.projects` — 在建（含建成）工程个数
- `major.construction.plan_yi` — 其年度计划投资（亿元）
- `major.construction.completed_yi` — 其累计完成投资（亿元）
- `major.construction.completion_rate_pct` — 其投资完成率（%）

二、工作建议（规则见 pipeline/findings.py）
- `track.projects` — 需逐一跟踪督办的项目个数（督办清单行数）
- `track.not_started` — 其中未开工
- `track.zero_investment` — 其中已开工但累计完成投资为0
- `track.not_in_stats` — 其中已开工未入统
- `track.behind` — 其中投资完成率低于时间进度超过滞后标准
- `ranking.ranked_units` — 参与排名的单位数
- `ranking.showcase` — 展示台：综合得分前3名单位
- `ranking.exposure` — 曝光台：综合得分后3名单位
- `notify.count` — 拟通报单位数
- `notify.units` — 拟通报单位：投资完成率低于时间进度超过滞后标准
- `warning.red` — 三色预警：红色预警项目个数（两批次全部项目，规则见 pipeline/early_warning.py）
- `warning.yellow` — 黄色预警项目个数
- `warning.green` — 绿色（无预警）项目个数
- `warning.by_unit` — 各单位预警项目个数：[{unit, red, yellow, green}, …]，按 round.yml 的单位顺序

与上轮比较
- `previous.round` — 上一轮编号
- `previous.as_of` — 上一轮数据截至日期
- `previous.batch.start_rate_pct` — 上一轮开工率（%）
- `previous.batch.completion_rate_pct` — 上一轮投资完成率（%）
- `previous.key.start_rate_pct` — 上一轮重点项目开工率（%）
- `previous.key.completion_rate_pct` — 上一轮重点项目投资完成率（%）
- `change.batch.start_rate_pp` — 开工率较上轮变化（百分点）
- `change.batch.completion_rate_pp` — 投资完成率较上轮变化（百分点）
- `change.batch.completed_yi` — 累计完成投资较上轮增加（亿元）
- `change.key.start_rate_pp` — 重点项目开工率较上轮变化（百分点）
- `change.key.completion_rate_pp` — 重点项目投资完成率较上轮变化（百分点）
- `change.started_since` — 上轮未开工、本轮已开工的项目个数
- `change.not_started_both` — 两轮均未开工的项目个数
- `change.new_projects` — 本轮新出现（上轮没有）的项目个数
- `change.warning.improving` — 预警好转的项目个数（与上轮匹配的项目中，红→黄、红→绿、黄→绿）
- `change.warning.worsening` — 预警变差的项目个数（绿→黄、绿→红、黄→红）
- `change.ranking` — 各单位排名变化：[{unit, rank, previous_rank, change, trend}, …]，change 为上升的名次数（正=上升），trend 为上升/下降/持平

数据质量（规则见 pipeline/quality.py）
- `data_quality.complete` — 本轮数据是否完整：没有未报送单位、未采用的文件、缺少的必填列、隔离行或未计入的金额时为 true
- `data_quality.excluded_units` — 数据全部或部分未计入的单位（含未报送单位）
- `data_quality.excluded_rows` — 未计入的数据行数（隔离行，不含已按一次统计的重复行）
- `data_quality.excluded_wan` — 未计入的金额（万元）：隔离行的金额和采用行中无法识别或存疑的金额
- `data_quality.missing_units` — 未报送单位
- `data_quality.rejected_files` — 未能采用的文件和工作表个数
- `data_quality.affected` — 受影响的数字（按报表类型）
- `data_quality.corrections` — 按更正记录（data/raw/<轮次>/corrections.csv）应用的更正条数（含“删除行”“保留”；未应用的不计）

Tables
======
``report_tables`` returns these DataFrames; ``save_tables`` writes each to
``data/processed/<round>/<name>.parquet`` (English column names; ``labelled``
gives the Chinese headers). NaN in a rate column means "cannot be computed".

- ``by_batch``, ``by_unit``, ``by_city``, ``by_industry``, ``by_nature`` —
  columns: ``scope`` (全部项目 / 重点项目), the group (``batch`` / ``unit`` /
  ``city`` / ``industry`` / ``nature``), ``projects, started, not_started,
  start_base, start_base_started, start_rate_pct, plan_yi, completed_yi,
  completion_rate_pct, vs_time_progress_pp``. by_unit lists every unit of
  round.yml (a unit without projects has 0 and NaN rates) and adds
  ``unit_kind`` (市/基地/部门). by_city: a project's city is its unit when the
  unit is a city, else the city or base its 所在市/县区 starts with, else its
  unit when that is a base, else 未注明所在市; every city and base is listed.
- ``fai_by_region`` — ``region, month, total_yi, yoy_pct, last_yoy_pct, accel_pp``
  (全区 first, then the cities), each region at its latest month up to the cut-off.
- ``indicator_by_unit`` — ``unit, indicator, measure_unit, current, last_year,
  yoy_pct`` (the 主要指标情况表, money in 万元).
- ``attraction_by_unit`` — ``unit, projects, concentrated_projects, contract_yi,
  funds_in_place_yi, nine_projects, nine_share_pct, chain_projects``.
- ``attraction_by_industry`` — ``industry`` (a 九大重点产业 or 其他), ``nine`` (bool),
  ``projects, contract_yi, funds_in_place_yi, share_pct`` (share of projects).
- ``major_works_status`` — see ``major_works_status``.
- ``practices_by_section`` — ``section, section_key, unit, content`` in the
  order the report quotes them.
- ``track_list``, ``project_lights``, ``unit_ranking``, ``notify_list``, ``rate_changes``,
  ``started_since``, ``not_started_both`` — see pipeline/findings.py.
- ``warning_by_unit`` — ``unit, red, yellow, green``: projects per 三色预警 light
  (pipeline/early_warning.py), every unit of round.yml.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import conventions as conv_, quality, schemas
from pipeline.rounds import Round

INDICATORS_FILE = "indicators.json"
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
    if completed_wan is None or plan_wan is None or is_missing(completed_wan) or is_missing(plan_wan) or plan_wan == 0:
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
    if current is None or last_year is None or is_missing(current) or is_missing(last_year) or last_year == 0:
        return None
    return (current - last_year) / last_year * 100


def accel_pp(growth_pct: float | None, last_growth_pct: float | None) -> float | None:
    """比上年同期加快（正）/回落（负）的百分点 = 本年累计增速 − 上年同期累计增速."""
    if growth_pct is None or last_growth_pct is None or is_missing(growth_pct) or is_missing(last_growth_pct):
        return None
    return growth_pct - last_growth_pct


def share_pct(part: float | None, whole: float | None) -> float | None:
    """占比（%）= 部分 / 总体 × 100; None when the whole is zero or missing."""
    if part is None or whole is None or is_missing(part) or is_missing(whole) or whole == 0:
        return None
    return part / whole * 100


def wan_to_yi(wan: float | None) -> float | None:
    """万元 -> 亿元 (1 亿元 = 10,000 万元)."""
    return None if wan is None or is_missing(wan) else wan / YI


def change_pp(now: float | None, before: float | None) -> float | None:
    """较上轮变化（百分点）= 本轮比率 − 上轮比率."""
    if now is None or before is None or is_missing(now) or is_missing(before):
        return None
    return now - before


def is_missing(value) -> bool:
    try:
        return value is pd.NA or math.isnan(value)
    except TypeError:
        return False


# =========================================================================== units, cities, flags


unit_kind = schemas.unit_kind


def round_areas(round_: Round) -> list[str]:
    """The places a project can be in for "by city": the round's cities, then its bases (宁东基地)."""
    return [u for u in round_.units if unit_kind(u) == CITY] + [u for u in round_.units if unit_kind(u) == BASE]


def flag(series: pd.Series) -> pd.Series:
    """A nullable yes/no column as plain bools: missing counts as no."""
    return series.astype("boolean").fillna(False).astype(bool)


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
        return planned.le(pd.Timestamp(as_of)).fillna(False).astype(bool)
    return ~projects["nature"].astype("string").eq(CONTINUING).fillna(False).astype(bool)


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
    if text is None or is_missing(text):
        return ""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", str(text)))


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
    for scope, mask in ((SCOPE_ALL, np.ones(len(projects), dtype=bool)), (SCOPE_KEY, flag(projects["is_key"]).to_numpy())):
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
    order = {name: i for i, name in enumerate([*REGION_TOTAL_NAMES, *round_areas(round_)])}
    out = out.assign(_order=out["region"].map(lambda r: order.get(r, len(order)))).sort_values(["_order", "region"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True).pipe(float_columns)


def _num(value) -> float | None:
    return None if value is None or is_missing(value) else float(value)


# =========================================================================== 主要指标情况表


def indicator_by_unit(indicators: pd.DataFrame, unit_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """The 主要指标情况表 of every unit with its 同比 (NaN when last year is missing or zero),
    units in round.yml order, indicators in the order of schemas.KNOWN_INDICATORS."""
    columns = ["unit", "indicator", "measure_unit", "current", "last_year", "yoy_pct"]
    if indicators.empty:
        return pd.DataFrame(columns=columns).pipe(float_columns)
    out = indicators[["unit", "indicator", "measure_unit", "current", "last_year"]].copy()
    out["yoy_pct"] = [yoy_pct(_num(c), _num(l)) for c, l in zip(out["current"], out["last_year"])]
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
    rows = indicators[indicators["indicator"].astype("string").eq(indicator).fillna(False).astype(bool)]
    rows = rows[rows["current"].notna()]
    if unit is not None:
        rows = rows[rows["unit"].astype("string").eq(unit).fillna(False).astype(bool)]
        if rows.empty:
            return UnitFigure(unit, None, None, None, f"{unit}未报送{label}")
    if rows.empty:
        return UnitFigure(None, None, None, None, f"本轮没有单位报送{label}（主要指标情况表）")
    if prefer in (CITY, BASE, DEPARTMENT):
        preferred = rows[rows["unit"].map(unit_kind) == prefer]
    elif prefer:
        preferred = rows[rows["unit"].astype("string").str.contains(prefer, regex=False).fillna(False).astype(bool)]
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
    industries = [nine_industry(c) for c in attraction["industry"]]
    return attraction.assign(
        nine_industry=[i or OTHER_INDUSTRY for i in industries],
        nine=[i is not None for i in industries],
        concentrated=attraction["sign_mode"].astype("string").eq(CONCENTRATED).fillna(False).astype(bool),
        chain=flag(attraction["is_chain"]),
    )


def attraction_by_unit(attraction: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """Per reporting unit: attraction projects, 集中签约, contract and funds in 亿元, 九大产业 share (by count), 延链补链强链."""
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
        building = r.stage in UNDER_CONSTRUCTION
        rate = completion_rate_pct(_num(r.completed), _num(r.annual_plan)) if building else None
        rows.append({
            "project_name": r.project_name, "lead_unit": r.lead_unit, "leader": r.leader, "stage": r.stage,
            "category": major_work_category(r.stage, done), "milestone": r.milestone, "milestone_date": date,
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
    sections = {s: i for i, s in enumerate(PRACTICE_KEYS)}
    unit_order = {u: i for i, u in enumerate(units)}
    out = practices.assign(
        section_key=practices["section"].map(lambda s: PRACTICE_KEYS.get(s, "other")),
        _s=practices["section"].map(lambda s: sections.get(s, len(sections))),
        _u=practices["unit"].map(lambda u: unit_order.get(u, len(unit_order))),
        _i=range(len(practices)),
    ).sort_values(["_s", "_u", "_i"], kind="stable")
    return out[columns].reset_index(drop=True)


# =========================================================================== indicators.json: the assembly


@dataclass(frozen=True)
class Missing:
    """A value that cannot be computed, and why (Chinese, for the report)."""

    reason: str


def value_or_missing(value, reason: str):
    """The value, or Missing(reason) when it is None."""
    return Missing(reason) if value is None or (isinstance(value, float) and math.isnan(value)) else value


def meta_values(round_: Round) -> dict[str, Any]:
    """Round metadata and the opening paragraph's 督查安排."""
    not_set = "round.yml 未填写 {}"
    return {
        "round": round_.id,
        "title": round_.title,
        "as_of": round_.as_of.isoformat(),
        "as_of_month": round_.as_of.month,
        "year": round_.year,
        "sample": round_.sample,
        "time_progress_pct": round_time_progress(round_),
        "start_rate_base": round_.start_rate_base,
        "behind_margin_pp": round_.behind_margin_pp,
        **convention_values(round_),
        "inspection.start": value_or_missing(round_.inspection_start and round_.inspection_start.isoformat(),
                                not_set.format("inspection_start（督查开始日期）")),
        "inspection.end": value_or_missing(round_.inspection_end and round_.inspection_end.isoformat(),
                              not_set.format("inspection_end（督查结束日期）")),
        "inspection.groups": value_or_missing(round_.groups, not_set.format("groups（督查组数）")),
        "inspection.cities": sum(unit_kind(u) == CITY for u in round_.units),
        "inspection.bases": sum(unit_kind(u) == BASE for u in round_.units),
        "inspection.base_names": [u for u in round_.units if unit_kind(u) == BASE],
        "inspection.departments": sum(unit_kind(u) == DEPARTMENT for u in round_.units),
    }


def convention_values(round_: Round) -> dict[str, Any]:
    """conventions.*: how this round counts and words its figures (round.yml, pipeline/conventions.py)."""
    conv = conv_.conventions_of(round_)
    return {
        "conventions.time_progress": conv.time_progress_setting,
        "conventions.time_progress_name": conv.time_progress_name,
        "conventions.progress_words": list(conv.progress_words),
        "conventions.decimals": conv.decimals,
        "conventions.start_rate_base": round_.start_rate_base,
    }


def fai_values(fai: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """一、总体情况: 全区固定资产投资 total, 同比, 加快/回落."""
    keys = ("fai.region", "fai.month", "fai.total_yi", "fai.yoy_pct", "fai.last_yoy_pct", "fai.accel_pp")
    table = fai_by_region(fai, round_)
    total = table[table["region"].isin(REGION_TOTAL_NAMES)]
    if total.empty:
        why = "本轮未收到固定资产投资情况表" if fai.empty else "固定资产投资情况表中没有全区的数据（地区应为“全区”）"
        return {k: Missing(why) for k in keys}
    row = total.iloc[0]
    return {
        "fai.region": row["region"],
        "fai.month": int(row["month"]),
        "fai.total_yi": value_or_missing(_num(row["total_yi"]), "统计部门未报送全区累计完成额"),
        "fai.yoy_pct": value_or_missing(_num(row["yoy_pct"]), "统计部门未报送全区累计增速"),
        "fai.last_yoy_pct": value_or_missing(_num(row["last_yoy_pct"]), "统计部门未报送上年同期增速"),
        "fai.accel_pp": value_or_missing(_num(row["accel_pp"]), "缺少本年或上年同期累计增速，无法计算加快/回落"),
    }


def project_values(projects: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """一、总体情况: batch.* for both batches together and key.* for 重点项目, and the other two of the 四率."""
    require_planned_start(projects, round_)
    tp = round_time_progress(round_)
    out: dict[str, Any] = {}
    for prefix, subset in (("batch", projects), ("key", projects[flag(projects["is_key"])])):
        figures = project_figures(subset, tp, round_.start_rate_base, round_.as_of)
        what = "重点项目" if prefix == "key" else "集中开工重大项目"
        reasons = {
            "start_rate_pct": f"没有应开工的{what}（开工率分母为0）",
            "completion_rate_pct": f"{what}年度计划投资为0，无法计算投资完成率",
            "vs_time_progress_pp": f"{what}年度计划投资为0，无法与时间进度比较",
        }
        if projects.empty:
            reasons = dict.fromkeys(reasons, "本轮未收到重大项目进展情况表")
        for name, value in figures.items():
            out[f"{prefix}.{name}"] = value_or_missing(value, reasons.get(name, "无法计算"))
    out.update(funds_values(projects))
    out.update(on_time_completion_values(projects, round_.as_of))
    return out


def funds_rate_pct(in_place_wan: float | None, planned_wan: float | None) -> float | None:
    """资金到位率（%）= 实际到位资金 / 计划到位资金 × 100; None when the planned funds are zero or missing."""
    return completion_rate_pct(in_place_wan, planned_wan)


def funds_values(projects: pd.DataFrame) -> dict[str, Any]:
    """资金到位率 over the projects that give 计划到位资金 (实际到位资金 left blank counts as 0)."""
    keys = ("batch.funds_planned_yi", "batch.funds_in_place_yi", "batch.funds_rate_pct")
    given = projects[projects["funds_planned"].notna()] if "funds_planned" in projects else projects.iloc[:0]
    if given.empty:
        why = ("本轮未收到重大项目进展情况表" if projects.empty else
               "重大项目进展情况表中没有“计划到位资金”列（或该列全部为空），不计算资金到位率")
        return {k: Missing(why) for k in keys}
    planned = float(given["funds_planned"].sum())
    in_place = float(given["funds_in_place"].fillna(0).sum())
    return {
        "batch.funds_planned_yi": wan_to_yi(planned),
        "batch.funds_in_place_yi": wan_to_yi(in_place),
        "batch.funds_rate_pct": value_or_missing(funds_rate_pct(in_place, planned), "计划到位资金合计为0，不计算资金到位率"),
    }


def completed_on_time(projects: pd.DataFrame) -> pd.Series:
    """按期竣工: 竣工时间 on or before 计划竣工时间; with no 竣工时间, 是否竣工 = 是 counts (the return does not say when)."""
    planned = pd.to_datetime(projects["planned_completion_date"])
    done_at = pd.to_datetime(projects["completion_date"])
    dated = done_at.notna() & done_at.le(planned).fillna(False).astype(bool)
    undated = done_at.isna() & flag(projects["is_completed"])
    return (dated | undated).astype(bool)


def on_time_completion_rate_pct(on_time: int, due: int) -> float | None:
    """按期竣工率（%）= 按期竣工项目数 / 计划竣工时间在数据截至日期之前的项目数 × 100; None when none is due."""
    return on_time / due * 100 if due else None


def on_time_completion_values(projects: pd.DataFrame, as_of) -> dict[str, Any]:
    """按期竣工率 of the projects planned to complete by the cut-off (计划竣工时间, 是否竣工 / 竣工时间)."""
    keys = ("batch.due_completion", "batch.completed_on_time", "batch.on_time_completion_rate_pct")
    if projects.empty:
        return {k: Missing("本轮未收到重大项目进展情况表") for k in keys}
    if projects["planned_completion_date"].isna().all():
        return {k: Missing("重大项目进展情况表中没有“计划竣工时间”列（或该列全部为空），不计算按期竣工率") for k in keys}
    if projects["is_completed"].isna().all() and projects["completion_date"].isna().all():
        return {k: Missing("重大项目进展情况表中没有“是否竣工”或“竣工时间”列，不计算按期竣工率") for k in keys}
    due = pd.to_datetime(projects["planned_completion_date"]).le(pd.Timestamp(as_of)).fillna(False).astype(bool)
    on_time = int((due & completed_on_time(projects)).sum())
    return {
        "batch.due_completion": int(due.sum()),
        "batch.completed_on_time": on_time,
        "batch.on_time_completion_rate_pct": value_or_missing(on_time_completion_rate_pct(on_time, int(due.sum())),
                                                              "没有计划竣工时间在数据截至日期之前的项目，不计算按期竣工率"),
    }


def practice_values(practices: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """Which units sent a 典型做法 for each section (the report's "XX市…" sentences), in round.yml order."""
    table = practices_by_section(practices, round_.units)
    out: dict[str, Any] = {"practices.count": len(table)}
    for section, key in PRACTICE_KEYS.items():
        units = list(dict.fromkeys(table.loc[table["section"] == section, "unit"].astype(str)))
        out[f"practices.{key}.units"] = units
    return out


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
    ("planning.transport", "交通运输厅", (("projects", "谋划储备项目", 1.0), ("investment_yi", "谋划储备项目总投资", 1 / YI))),
)


def unit_indicator_values(indicators: pd.DataFrame) -> dict[str, Any]:
    """（二）（三）（四）: the 主要指标 figures the report attributes to one unit, with their 同比."""
    out: dict[str, Any] = {}
    for prefix, indicator, prefer, suffix, factor, with_yoy in UNIT_FIGURES:
        fig = attributed(indicators, indicator, prefer)
        out[f"{prefix}.unit"] = value_or_missing(fig.unit, fig.reason or "")
        out[f"{prefix}.{suffix}"] = value_or_missing(None if fig.current is None else fig.current * factor, fig.reason or "")
        if with_yoy:
            last = None if fig.last_year is None else fig.last_year * factor
            out[f"{prefix}.last_year_{suffix}"] = value_or_missing(last, fig.reason or f"{fig.unit}未填报“{indicator}”上年同期数")
            out[f"{prefix}.yoy_pct"] = value_or_missing(yoy_pct(fig.current, fig.last_year), fig.reason or _yoy_reason(fig, indicator))
    for prefix, prefer, figures in UNIT_GROUPS:
        (first_key, first_indicator, _), *_ = figures
        lead = attributed(indicators, first_indicator, prefer)
        out[f"{prefix}.unit"] = value_or_missing(lead.unit, lead.reason or "")
        for key, indicator, factor in figures:
            fig = lead if lead.unit is None else attributed(indicators, indicator, None, unit=lead.unit)
            out[f"{prefix}.{key}"] = value_or_missing(None if fig.current is None else fig.current * factor, fig.reason or "")
    total = indicators.loc[indicators["indicator"].astype("string").eq("谋划储备项目").fillna(False).astype(bool), "current"]
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
            "attraction.signing_city.nine_share_pct", "attraction.busiest_city.unit", "attraction.busiest_city.projects"]
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
            "attraction.funds_in_place_yi": value_or_missing(wan_to_yi(_num(data["funds_in_place"].sum(min_count=1))), "各单位均未填报本年到位资金"),
            "attraction.concentrated.projects": len(conc),
            "attraction.concentrated.contract_yi": wan_to_yi(float(conc["contract_investment"].sum())),
            "attraction.nine.projects": len(nine),
            "attraction.nine_share_pct": share_pct(len(nine), len(data)),
            "attraction.nine_share_by_investment_pct": value_or_missing(share_pct(float(nine["contract_investment"].sum()), contract),
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
        out.update({f"attraction.signing_city.{k}": Missing(why) for k in ("unit", "projects", "contract_yi", "nine_share_pct")})
        signing = None
    else:
        per_city = conc.groupby("unit").agg(n=("unit", "size"), money=("contract_investment", "sum"), nine=("nine", "sum"))
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
        out.update({"attraction.busiest_city.unit": counts.index[0], "attraction.busiest_city.projects": int(counts.iloc[0]["n"])})
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
        "attraction.base.chain_projects": value_or_missing(int(mine["chain"].sum()) if not mine.empty else None, f"{unit}未报送招商引资项目"),
        "attraction.base.funds_in_place_yi": value_or_missing(wan_to_yi(funds), funds_reason),
        "attraction.base.funds_last_year_yi": value_or_missing(wan_to_yi(last), f"{unit}未填报“招商引资到位资金”上年同期数"),
        "attraction.base.funds_yoy_pct": value_or_missing(yoy_pct(fig.current, last),
                                             _yoy_reason(fig, "招商引资到位资金") if fig.unit else f"{unit}未报送“招商引资到位资金”，不计算同比"),
    }


def major_values(major_works: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """（五）: the ten projects by status category, overdue milestones, investment progress of those under construction."""
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
        "major.construction.completion_rate_pct": value_or_missing(completion_rate_pct(done, plan), "在建工程年度计划投资为0或未填报"),
    })
    return out


def compute_indicators(round_: Round, tables: dict[str, pd.DataFrame], previous=None,
                       data_quality: quality.Quality | None = None,
                       corrections: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every indicators.json key for a round, unrounded; null values carry their reason in ``notes``.

    tables: the clean tables (cleaning.load_clean_tables); previous: findings.Previous (or None);
    data_quality: what the figures leave out (quality.load_quality), for the data_quality.* keys;
    corrections: the corrections applied in cleaning (corrections.load_applied), None when not read.
    """
    from pipeline import findings  # findings builds on the functions above

    projects = tables["projects"]
    parts = [
        meta_values(round_),
        fai_values(tables["fai"], round_),
        project_values(projects, round_),
        practice_values(tables["practices"], round_),
        unit_indicator_values(tables["indicators"]),
        attraction_values(tables["attraction"], tables["indicators"], round_),
        major_values(tables["major_works"], round_),
        findings.finding_values(projects, round_),
        findings.change_values(projects, round_, previous),
        quality_key_values(data_quality),
        correction_values(corrections),
    ]
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, Missing):
                values[key], notes[key] = None, value.reason
            else:
                values[key] = _plain(value)
    missing = [k for k in KEYS if k not in values]
    extra = [k for k in values if k not in KEYS]
    if missing or extra:  # the documented key list and the computation must agree
        raise AssertionError(f"indicators.json keys out of step with KEYS: missing {missing}, undocumented {extra}")
    return {**{k: values[k] for k in KEYS}, "notes": notes}


def quality_key_values(data_quality: quality.Quality | None) -> dict[str, Any]:
    """The data_quality.* keys from pipeline/quality.py; all Missing when no cleaning record was given."""
    if data_quality is None:
        keys = [k for k in KEYS if k.startswith("data_quality.") and k != "data_quality.corrections"]
        return {k: Missing("未提供第1步的台账和问题清单，无法判断数据是否完整") for k in keys}
    return quality.quality_values(data_quality)


def correction_values(corrections: pd.DataFrame | None) -> dict[str, Any]:
    """data_quality.corrections: how many corrections of corrections.csv the cleaning applied."""
    if corrections is None:
        return {"data_quality.corrections": Missing("未读取更正记录（data/processed/<轮次>/corrections.parquet）")}
    return {"data_quality.corrections": len(corrections)}


def _plain(value):
    """JSON-safe: numpy numbers to Python numbers, NaN to None."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def save_indicators(values: dict[str, Any], out_dir: Path) -> Path:
    """Write outputs/<round>/indicators.json (UTF-8, Chinese kept readable)."""
    path = Path(out_dir) / INDICATORS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def load_indicators(out_dir: Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / INDICATORS_FILE).read_text(encoding="utf-8"))


# =========================================================================== tables for the report stage


def report_tables(round_: Round, tables: dict[str, pd.DataFrame], previous=None) -> dict[str, pd.DataFrame]:
    """Every table notebook 2 shows and the report stage reads, by file name (see the module docstring)."""
    from pipeline import early_warning, findings

    projects = tables["projects"]
    require_planned_start(projects, round_)
    progress = findings.project_progress(projects, round_)  # once: the track list and the lights
    out = {f"by_{by}": breakdown(projects, round_, by) for by in BREAKDOWNS}
    out.update({
        "fai_by_region": fai_by_region(tables["fai"], round_),
        "indicator_by_unit": indicator_by_unit(tables["indicators"], round_.units),
        "attraction_by_unit": attraction_by_unit(tables["attraction"], round_),
        "attraction_by_industry": attraction_by_industry(tables["attraction"]),
        "major_works_status": major_works_status(tables["major_works"], round_),
        "practices_by_section": practices_by_section(tables["practices"], round_.units),
        "track_list": findings.track_list(projects, round_, progress),
        "project_lights": findings.project_lights(projects, round_, progress),
        "warning_by_unit": early_warning.lights_by_unit(progress, round_.units),
        "unit_ranking": findings.with_rank_change(findings.unit_ranking(projects, round_, out["by_unit"]),
                                                  findings.previous_ranking(previous, round_)),
        "notify_list": findings.notify_list(projects, round_, out["by_unit"]),
        "rate_changes": findings.rate_changes(projects, round_, previous),
        "started_since": findings.started_since(projects, previous),
        "not_started_both": findings.not_started_both(projects, previous),
    })
    return out


TABLE_NAMES = ("by_batch", "by_unit", "by_city", "by_industry", "by_nature", "fai_by_region", "indicator_by_unit",
               "attraction_by_unit", "attraction_by_industry", "major_works_status", "practices_by_section",
               "track_list", "project_lights", "warning_by_unit", "unit_ranking", "notify_list", "rate_changes",
               "started_since", "not_started_both")


def save_tables(report: dict[str, pd.DataFrame], processed_dir: Path) -> list[Path]:
    """Write each report table to data/processed/<round>/<name>.parquet."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in report.items():
        if name in schemas.RETURN_KINDS:  # never overwrite a clean table
            raise ValueError(f"report table {name!r} would overwrite the clean table of the same name")
        path = processed_dir / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def load_report_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The saved report tables, for notebooks 3 and 4."""
    return {name: pd.read_parquet(Path(processed_dir) / f"{name}.parquet") for name in TABLE_NAMES}


# =========================================================================== display in the notebook

SECTIONS = ("本轮与督查安排", "一、总体情况", "典型做法", "（二）项目推进措施", "（三）项目要素保障", "（四）项目谋划招引",
            "（五）十大工程项目", "二、工作建议", "与上轮比较", "数据质量")


def _documented_keys() -> dict[str, tuple[str, str]]:
    """key -> (section, meaning), read from this module's docstring: the one place keys are documented."""
    keys: dict[str, tuple[str, str]] = {}
    section = ""
    for line in (__doc__ or "").splitlines():
        heading = next((s for s in SECTIONS if line.startswith(s)), None)
        if heading:
            section = heading
            continue
        m = re.match(r"^- `([a-z0-9_.]+)` — (.+)$", line)
        if m and section:
            keys[m.group(1)] = (section, m.group(2))
    return keys


KEYS: dict[str, tuple[str, str]] = _documented_keys()
if not KEYS:
    raise ImportError("pipeline.indicators reads its key list from its docstring: do not run Python with -OO")


def key_table(values: dict[str, Any], section: str | None = None) -> pd.DataFrame:
    """indicators.json as a table to read: 指标, 键, 数值 (unrounded), 说明 (why a value is missing)."""
    notes = values.get("notes", {})
    rows = [{"板块": sec, "指标": meaning, "键": key, "数值": _show(values.get(key)), "说明": notes.get(key, "")}
            for key, (sec, meaning) in KEYS.items() if section is None or sec == section]
    return pd.DataFrame(rows, columns=["板块", "指标", "键", "数值", "说明"])


def gap_text(pp: float | None, against: str = "时间进度", conventions: conv_.Conventions | None = None) -> str:
    """超过/低于/持平 in words, rounded half up for display only: 13.82… -> "超过时间进度13.8个百分点".

    With conventions, their word for time progress, their progress words and decimals:
    12.505 -> "快于序时进度12.51个百分点".
    """
    conv = conventions or conv_.Conventions(time_progress_name=against)
    return conv.gap_text(None if pp is None or is_missing(pp) else float(pp))


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "、".join(_show_item(v) for v in value) or "（无）"
    return str(value)


def _show_item(value) -> str:
    """A list item as text: a {unit, red, …} record as 银川市（red 1，yellow 2）."""
    if isinstance(value, dict):
        head = next(iter(value.values()), "")
        return f"{head}（{'，'.join(f'{k} {v}' for k, v in list(value.items())[1:])}）"
    return str(value)


def table_sizes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per clean table, with the return's Chinese name."""
    return pd.DataFrame([{"报表": schemas.RETURN_KINDS[k].label if k in schemas.RETURN_KINDS else k, "表": k, "行数": len(v)}
                         for k, v in tables.items()])


COLUMN_LABELS = {
    "scope": "范围", "batch": "批次", "unit": "单位", "unit_kind": "单位类型", "city": "所在市(基地)", "industry": "行业/产业",
    "nature": "建设性质", "projects": "项目数", "started": "已开工", "not_started": "未开工",
    "start_base": "应开工项目数", "start_base_started": "应开工中已开工", "start_rate_pct": "开工率(%)",
    "plan_yi": "年度计划投资(亿元)", "completed_yi": "累计完成投资(亿元)", "completion_rate_pct": "投资完成率(%)",
    "vs_time_progress_pp": "与时间进度差(百分点)", "region": "地区", "month": "月份", "total_yi": "累计完成额(亿元)",
    "yoy_pct": "同比增长(%)", "last_yoy_pct": "上年同期增速(%)", "accel_pp": "加快/回落(百分点)",
    "indicator": "指标名称", "measure_unit": "计量单位", "current": "本期累计", "last_year": "上年同期",
    "concentrated_projects": "集中签约项目数", "contract_yi": "合同投资额(亿元)", "funds_in_place_yi": "本年到位资金(亿元)",
    "nine_projects": "九大重点产业项目数", "nine_share_pct": "九大重点产业占比(%,按个数)", "chain_projects": "延链补链强链项目数",
    "nine": "是否九大重点产业", "share_pct": "项目数占比(%)", "project_name": "项目名称", "lead_unit": "牵头单位",
    "leader": "包抓领导", "stage": "所处阶段", "category": "推进情况分类", "milestone": "计划节点", "milestone_date": "节点时间",
    "milestone_status": "完成情况", "milestone_done": "节点已完成", "milestone_overdue": "节点逾期",
    "total_investment_yi": "总投资(亿元)", "progress": "进展情况", "problems": "存在问题", "section": "板块",
    "section_key": "板块代码", "content": "内容",
}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table with Chinese column headers, for reading in the notebook."""
    from pipeline.findings import FINDING_LABELS

    return frame.rename(columns={**COLUMN_LABELS, **FINDING_LABELS})
