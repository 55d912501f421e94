"""Where each number of the report comes from: its formula in words, its inputs, and the rows behind it.

``builder.build`` computes the sources with the round's other figures (``compute_sources``); notebook 02 calls
``save_sources`` once, which writes indicators.json with a ``sources`` object and ``outputs/<round>/数字来源.xlsx``:

``sources[key]`` (key: an indicators.json key, or ``unit.<单位>.start_rate_pct`` /
``unit.<单位>.completion_rate_pct`` for each unit's rates)::

    {"label": "投资完成率（%）", "value": 87.63…,           # unrounded, as in indicators.json
     "formula": "累计完成投资 ÷ 年度计划投资",               # in words
     "inputs": [{"name": "累计完成投资", "key": "batch.completed_yi", "value": 486.19…,
                 "kind": "yi", "unit": "亿元"}, …],          # kind as report.NUMERIC_KINDS
     "rows": {"count": 593, "what": "个项目", "sheet": "两批次项目", "file": "数字来源.xlsx",
              "column": "累计完成投资(万元)", "how": "sum_yi"} # or count: null and "origin" (round.yml …)}

``rows.how`` says how the listed rows give the figure: ``rows`` (the number of rows), ``yes``
(the rows whose ``column`` — or every column of a list — is 是), ``no`` (is 否), ``value`` (the
one row's ``column`` × its 换算系数), ``sum_yi`` (the sum of ``column`` in 万元 ÷ 10000); a rate
has no ``how``: it is its inputs' quotient (or difference), and its inputs are listed rows.

The headline figures have their rows listed, one sheet of 数字来源.xlsx per set of rows, each row
with the unit, file, sheet and Excel row of the unit's own return and the values used:
the two batches (``batch.*``, sheet 两批次项目), key projects (``key.*``, 重点项目), each unit's
rates (``unit.<单位>.*``, 单位_<单位>) and the track list (``track.*``, 督办项目). So do the figures
read from one row of a return: 固定资产投资 (``fai.*``) and the "XX市…" figures of the 主要指标情况表
(sheet 主要指标, whose 所给数字 column names the figure each row gives, by its label), and the three-colour warning
lights (``warning.red`` / ``yellow`` / ``green``, sheet 三色预警: every project with its light, the
rules that fired and those not judged). Every other number of indicators.json
(招商引资, 十大工程, rankings, the previous round) gets its formula (its meaning, from
pipeline/indicators/assembly.py) and where it is taken from (``rows.origin``), without listed rows.

The report's tables have one entry each, ``sources["table.<name>"]`` (``TABLE_SOURCES``): a
per-table entry rather than one per cell, because a cell's formula is its column's and its rows
are its row's group, so one entry says it for every cell without multiplying indicators.json by
the size of the tables. The entry gives the table's formula, its listed rows (a sheet of
数字来源.xlsx; ``rows.by`` names the column whose value is the table row's label, e.g. 单位) or
its origin, and per numeric column its formula and, where the listed rows give it directly, its
``how`` and sheet ``column`` (as for a figure, within the row's group). ``cell_key`` names the
figure-level entry a cell has when there is one (``unit.{row}.{column}``: each unit's rates).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import indicators as ind
from pipeline import paths
from pipeline.conventions import conventions_of
from pipeline.excel import write_workbook
from pipeline.frames import equals, is_true
from pipeline.indicators import early_warning as ew
from pipeline.indicators import findings, model
from pipeline.indicators import tables as declared_tables
from pipeline.rounds import Round

SOURCES_FILE = paths.SOURCES
SOURCES_KEY = "sources"  # in indicators.json

# Keys whose value is a name, a list, a date or a setting: no number, no source.
NOT_NUMBERS = ("round", "title", "as_of", "sample", "start_rate_base", "inspection.start", "inspection.end",
               "inspection.base_names", "fai.region", "ranking.showcase", "ranking.exposure", "notify.units",
               "previous.round", "previous.as_of")
NOT_NUMBER_SUFFIXES = (".unit", ".units", ".names")
NOT_NUMBER_PREFIXES = ("conventions.",)  # the round's settings (算法、称谓、小数位数): words, not figures

# Column names of the row sheets (Chinese: the workbook is for inspectors).
UNIT, FILE, SHEET, ROW = "单位", "文件", "工作表", "Excel行号"
FIGURE = "所给数字"  # in a sheet whose rows give several figures: the figures (their labels, joined by ；) a row gives
PLAN, DONE = "年度计划投资(万元)", "累计完成投资(万元)"
STARTED, IN_BASE, KEY = "已开工", "计入开工率分母", "重点项目"
TRACK_FLAGS = {"not_started": "未开工", "zero_investment": "已开工零投资", "not_in_stats": "已开工未入统",
               "behind": "进度滞后"}


@dataclass
class Source:
    key: str
    label: str
    formula: str
    value: Any
    inputs: list[dict] = field(default_factory=list)
    sheet: str | None = None  # the sheet of 数字来源.xlsx listing the rows
    column: str | list[str] | None = None
    how: str | None = None
    count: int | None = None
    what: str = "个项目"
    origin: str = ""

    def as_json(self) -> dict:
        rows = {"count": self.count, "what": self.what, "sheet": self.sheet,
                "file": SOURCES_FILE if self.sheet else None}
        if self.column:
            rows["column"] = self.column
        if self.how:
            rows["how"] = self.how
        if self.origin:
            rows["origin"] = self.origin
        return {"label": self.label, "value": self.value, "formula": self.formula, "inputs": self.inputs, "rows": rows}


def _input(name: str, key: str, value: Any, kind: str, unit: str | None = None) -> dict:
    """An input of a formula; unit: what follows its value (by kind unless given: 个, 亿元, …; "" for a bare number)."""
    units = {"yi": "亿元", "pct": "%", "pp": "个百分点", "count": "个", "wan": "万元", "mu": "亩"}
    return {"name": name, "key": key, "value": value, "kind": kind, "unit": units[kind] if unit is None else unit}


# =========================================================================== the rows behind the figures


def project_rows(projects: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """The projects as inspectors check them: where each row is in the unit's return, and the values the rates use."""
    return pd.DataFrame({
        UNIT: projects["unit"].astype("string"), FILE: projects["file"].astype("string"),
        SHEET: projects["sheet"].astype("string"), ROW: projects["row"].astype("Int64"),
        "项目编号": projects["project_code"].astype("string"),
        "项目名称": projects["project_name"].astype("string"),
        "批次": projects["batch"].astype("string"), KEY: ind.flag(projects["is_key"]),
        "建设性质": projects["nature"].astype("string"),
        IN_BASE: ind.start_base_mask(projects, round_.start_rate_base).astype(bool),
        STARTED: ind.flag(projects["started"]),
        PLAN: projects["annual_plan"].astype("float64"), DONE: projects["completed"].astype("float64"),
    }).reset_index(drop=True)


def _labelled(table: str, frame: pd.DataFrame, *columns: str) -> dict[str, pd.Series]:
    """Columns of a report table under their declared Chinese labels (tables.py), text as strings."""
    declared = declared_tables.DECLARED[table]
    return {declared.labels[c]: frame[c].astype("string") if declared.column(c).dtype == "string" else frame[c]
            for c in columns}


def track_rows(projects: pd.DataFrame, round_: Round, track: pd.DataFrame | None = None) -> pd.DataFrame:
    """The track list (督办清单) with the sheet of each project's row, in the order of the rows.

    track: findings.track_list(..., keep=("sheet",)) when the caller has it (model.Basis.track)."""
    track = findings.track_list(projects, round_, keep=("sheet",)) if track is None else track
    out = pd.DataFrame({
        UNIT: track["unit"].astype("string"), FILE: track["file"].astype("string"),
        SHEET: track["sheet"].astype("string"), ROW: track["row"].astype("Int64"),
        **_labelled("track_list", track, "project_name", "batch", "annual_plan_wan", "completed_wan",
                    "completion_rate_pct", "vs_time_progress_pp"),
        **{label: track[flag].astype(bool) for flag, label in TRACK_FLAGS.items()},
        **_labelled("track_list", track, "reasons"),
    })
    return out.sort_values([UNIT, FILE, SHEET, ROW], kind="stable").reset_index(drop=True)


# =========================================================================== sources of the headline figures


def group_sources(prefix: str, what: str, sheet: str, rows: pd.DataFrame, figures: dict[str, Any]) -> list[Source]:
    """batch.* / key.* / unit.<单位>.*: the figures of a group of projects and the rows they are summed from."""
    def k(name: str) -> str:
        return f"{prefix}.{name}"

    n = len(rows)
    listed = dict(sheet=sheet if n else None, count=n)
    out = [
        Source(k("projects"), "项目个数", "所列项目的个数（同一项目只计一次）", figures["projects"], how="rows",
               **listed),
        Source(k("started"), "已开工个数", f"“{STARTED}”为是的项目个数", figures["started"], column=STARTED,
               how="yes", **listed),
        Source(k("not_started"), "未开工个数", f"“{STARTED}”为否的项目个数", figures["not_started"], column=STARTED,
               how="no", **listed),
        Source(k("start_base"), "开工率分母：应开工项目个数", f"“{IN_BASE}”为是的项目个数", figures["start_base"],
               column=IN_BASE, how="yes", **listed),
        Source(k("start_base_started"), "开工率分子：应开工项目中已开工个数",
               f"“{IN_BASE}”和“{STARTED}”都为是的项目个数",
               figures["start_base_started"], column=[IN_BASE, STARTED], how="yes", **listed),
        Source(k("start_rate_pct"), "开工率（%）", "应开工项目中已开工 ÷ 应开工项目", figures["start_rate_pct"],
               [_input("应开工项目中已开工", k("start_base_started"), figures["start_base_started"], "count"),
                _input("应开工项目", k("start_base"), figures["start_base"], "count")], **listed),
        Source(k("plan_yi"), "年度计划投资（亿元）", f"“{PLAN}”之和 ÷ 10000", figures["plan_yi"],
               [_input(f"“{PLAN}”之和", "", _times(figures["plan_yi"], ind.YI), "wan")], column=PLAN, how="sum_yi",
               **listed),
        Source(k("completed_yi"), "累计完成投资（亿元）", f"“{DONE}”之和 ÷ 10000", figures["completed_yi"],
               [_input(f"“{DONE}”之和", "", _times(figures["completed_yi"], ind.YI), "wan")], column=DONE, how="sum_yi",
               **listed),
        Source(k("completion_rate_pct"), "投资完成率（%）", "累计完成投资 ÷ 年度计划投资",
               figures["completion_rate_pct"],
               [_input("累计完成投资", k("completed_yi"), figures["completed_yi"], "yi"),
                _input("年度计划投资", k("plan_yi"), figures["plan_yi"], "yi")], **listed),
        Source(k("vs_time_progress_pp"), "投资完成率与时间进度之差（百分点）", "投资完成率 − 时间进度",
               figures["vs_time_progress_pp"],
               [_input("投资完成率", k("completion_rate_pct"), figures["completion_rate_pct"], "pct"),
                _input("时间进度", "time_progress_pct", None, "pct")], **listed),
    ]
    for source in out:
        source.label = f"{what}：{source.label}"
    return out


def headline_sources(values: dict[str, Any], round_: Round, projects: pd.DataFrame, by_unit: pd.DataFrame,
                     track: pd.DataFrame | None = None) -> tuple[list[Source], dict[str, pd.DataFrame]]:
    """The sources of the two batches, key projects, each unit's rates and the track list, and their row sheets."""
    rows = project_rows(projects, round_)
    key_rows = rows[rows[KEY]].reset_index(drop=True)
    sheets = {"两批次项目": rows, "重点项目": key_rows}
    sources = []
    for prefix, what, sheet, frame in (("batch", "两批次集中开工重大项目", "两批次项目", rows),
                                       ("key", "重点项目", "重点项目", key_rows)):
        figures = {name: values[f"{prefix}.{name}"] for name in ind.FIGURE_COLUMNS}
        sources += group_sources(prefix, what, sheet, frame, figures)
    units = by_unit[by_unit["scope"] == ind.SCOPE_ALL]
    for r in units.itertuples():
        mine = rows[rows[UNIT] == r.unit].reset_index(drop=True)
        sheet = f"单位_{r.unit}"[:31]
        if len(mine):
            sheets[sheet] = mine
        figures = {name: _plain(getattr(r, name)) for name in ind.FIGURE_COLUMNS}
        unit_sources = group_sources(f"unit.{r.unit}", f"{r.unit}报送的项目", sheet, mine, figures)
        sources += [s for s in unit_sources if s.key.endswith(("start_rate_pct", "completion_rate_pct"))]
    for s in sources:  # the time progress each gap is taken from
        for item in s.inputs:
            if item["key"] == "time_progress_pct":
                item["value"] = values["time_progress_pct"]
    track = track_rows(projects, round_, track)
    sheets["督办项目"] = track
    listed = dict(sheet="督办项目", count=len(track))
    sources.append(Source("track.projects", "需逐一跟踪督办的项目个数", "督办清单的项目个数（一个项目只列一次）",
                          values["track.projects"], how="rows", **listed))
    for flag, label in TRACK_FLAGS.items():
        sources.append(Source(f"track.{flag}", f"其中{label}的项目个数", f"“{label}”为是的督办项目个数",
                              values[f"track.{flag}"], column=label, how="yes", **listed))
    return sources, sheets


# ====================================================================== one row of a return: 主要指标, 固定资产投资


def _row_frame(rows: pd.DataFrame, extra: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame({UNIT: rows["unit"].astype("string"), FILE: rows["file"].astype("string"),
                         SHEET: rows["sheet"].astype("string"), ROW: rows["row"].astype("Int64"),
                         **extra}).reset_index(drop=True)


def indicator_row(indicators: pd.DataFrame, indicator: str, unit: Any) -> pd.DataFrame:
    """The 主要指标情况表 row a "XX市…" figure is read from: that unit's row of the indicator, the largest 本期累计
    first (as indicators.attributed chooses)."""
    if unit is None or indicators.empty:
        return indicators.iloc[0:0]
    rows = indicators[equals(indicators["indicator"], indicator)
                      & equals(indicators["unit"], unit)
                      & indicators["current"].notna()]
    return rows.sort_values("current", ascending=False, kind="stable").head(1)


def indicator_sources(values: dict[str, Any], indicators: pd.DataFrame) -> tuple[list[Source], pd.DataFrame]:
    """（二）（三）（四）: each figure read from one unit's row of the 主要指标情况表 (sheet 主要指标, one row per
    key)."""
    wanted = []  # (key, label, indicator, unit, column, factor)
    for prefix, indicator, _, suffix, factor, with_yoy in ind.UNIT_FIGURES:
        unit = values[f"{prefix}.unit"]
        wanted.append((f"{prefix}.{suffix}", indicator, unit, "current", factor))
        if with_yoy:
            wanted.append((f"{prefix}.last_year_{suffix}", indicator, unit, "last_year", factor))
    for prefix, _, group in ind.UNIT_GROUPS:
        wanted += [(f"{prefix}.{key}", indicator, values[f"{prefix}.unit"], "current", factor)
                   for key, indicator, factor in group]
    frames, out = [], []
    for key, indicator, unit, column, factor in wanted:
        row = indicator_row(indicators, indicator, unit)
        if row.empty:
            continue
        factor *= 0.0001 if ind._norm(row["measure_unit"].iloc[0]) == "元" else 1.0  # 元 -> 万元, as attributed does
        label = "本期累计" if column == "current" else "上年同期"
        name = reader_label(key) if column == "current" else f"{reader_label(key.replace('last_year_', ''))}：上年同期"
        frames.append(_row_frame(row, {FIGURE: name, "指标名称": row["indicator"].astype("string"),
                                       "计量单位": row["measure_unit"].astype("string"), "本期累计": row["current"],
                                       "上年同期": row["last_year"], "换算系数": factor}))
        words = f"{unit}报送的“{indicator}”{label}" + ("" if factor == 1 else f" × {factor:g}")
        out.append(Source(key, name, words, values[key], sheet="主要指标",
                          column=label, how="value", count=1, what="行"))
    for prefix, indicator, _, suffix, _, with_yoy in ind.UNIT_FIGURES:
        now, before = f"{prefix}.{suffix}", f"{prefix}.last_year_{suffix}"
        if with_yoy and any(o.key == now for o in out):
            kind = suffix if suffix in ("yi", "wan", "mu") else "count"
            out.append(Source(f"{prefix}.yoy_pct", reader_label(f"{prefix}.yoy_pct"),
                              "（本期累计 − 上年同期）÷ 上年同期", values[f"{prefix}.yoy_pct"],
                              [_input("本期累计", now, values[now], kind),
                               _input("上年同期", before, values[before], kind)],
                              sheet="主要指标", count=1, what="行"))
    sheet = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out, sheet


FAI_LABELS = {"fai.total_yi": "全区固定资产投资累计完成额（亿元）", "fai.yoy_pct": "全区固定资产投资累计同比增长（%）",
              "fai.last_yoy_pct": "上年同期累计增速（%）", "fai.accel_pp": "比上年同期加快（回落）的百分点"}


def reader_label(key: str) -> str:
    """A figure's label as keys.csv words it for readers: its XX placeholders as ××, without the description of a
    JSON value (“：[{unit, rank, …}]…”) or a bracket that names fields or settings (“（同 start_rate_base）”)."""
    label = re.sub(r"X+", lambda m: "×" * max(2, len(m.group())), ind.KEYS[key][1])
    label = re.split(r"[：:]?\s*\[", label)[0]
    return re.sub(r"（[^（）]*[A-Za-z_]{3,}[^（）]*）", "", label).strip()


def fai_sources(values: dict[str, Any], fai: pd.DataFrame) -> tuple[list[Source], pd.DataFrame]:
    """一、总体情况: the 固定资产投资 figures read from the region's row at its month (sheet 固定资产投资)."""
    region, month = values["fai.region"], values["fai.month"]
    if region is None or month is None or fai.empty:
        return [], pd.DataFrame()
    rows = fai[equals(fai["region"].astype("string").str.strip(), region)
               & is_true(fai["month"].astype("Int64").eq(int(month)))]
    filled = rows[["cum_value", "yoy_pct"]].notna().sum(axis=1)
    row = rows.assign(_f=filled).sort_values("_f", ascending=False, kind="stable").head(1)
    sheet = _row_frame(row, {FIGURE: "；".join(FAI_LABELS.values()),
                             "地区": row["region"].astype("string"), "月份": row["month"].astype("Int64"),
                             "累计完成额(万元)": row["cum_value"], "累计增速(%)": row["yoy_pct"],
                             "上年同期增速(%)": row["last_yoy_pct"], "换算系数": 1.0})
    listed = dict(sheet="固定资产投资", count=1, what="行", how="value")
    out = [Source("fai.total_yi", FAI_LABELS["fai.total_yi"],
                  f"{region}1—{month}月“累计完成额(万元)” ÷ 10000",
                  values["fai.total_yi"], column="累计完成额(万元)", **{**listed, "how": "sum_yi"}),
           Source("fai.yoy_pct", FAI_LABELS["fai.yoy_pct"],
                  f"{region}1—{month}月“累计增速(%)”（统计部门报送值）",
                  values["fai.yoy_pct"], column="累计增速(%)", **listed),
           Source("fai.last_yoy_pct", FAI_LABELS["fai.last_yoy_pct"], f"{region}1—{month}月“上年同期增速(%)”",
                  values["fai.last_yoy_pct"], column="上年同期增速(%)", **listed),
           Source("fai.accel_pp", FAI_LABELS["fai.accel_pp"], "本年累计增速 − 上年同期累计增速",
                  values["fai.accel_pp"],
                  [_input("本年累计增速", "fai.yoy_pct", values["fai.yoy_pct"], "pct"),
                   _input("上年同期累计增速", "fai.last_yoy_pct", values["fai.last_yoy_pct"], "pct")],
                  sheet="固定资产投资", count=1, what="行")]
    out[0].inputs = [_input("“累计完成额(万元)”", "", _times(values["fai.total_yi"], ind.YI), "wan")]
    if values["fai.total_yi"] is None:
        out = out[1:]
    return out, sheet


# =========================================================================== every other number


SETTINGS = "轮次设置（round.yml）"
ROUND_YML = {"as_of_month": "数据截至日期的月份", "year": "数据截至日期的年份",
             "behind_margin_pp": "进度滞后的标准（未设置时为20个百分点）", "inspection.groups": "督查组数",
             "inspection.cities": "应报送单位中名称以“市”结尾的单位个数",
             "inspection.bases": "应报送单位中名称以“基地”结尾的单位个数",
             "inspection.departments": "应报送单位中其余单位（区直部门）的个数"}
UNIT_ROW = "单位报送的主要指标情况表（该单位一行）"
FROM_UNIT_RATES = "各单位开工和投资完成情况（各单位的开工率、投资完成率另有逐单位的来源）"
ORIGINS = (("fai.", "统计部门报送的固定资产投资情况表（全区一行）"), ("measures.", UNIT_ROW), ("support.", UNIT_ROW),
           ("land.", UNIT_ROW), ("business_env.", UNIT_ROW), ("planning.", "单位报送的主要指标情况表"),
           ("attraction.", "各单位报送的招商引资项目情况表（及主要指标情况表）"), ("major.", "十大工程项目推进情况表"),
           ("practices.", "工作举措与典型做法表"), ("ranking.", FROM_UNIT_RATES), ("notify.", FROM_UNIT_RATES),
           ("previous.", "上一轮的清洗结果"), ("change.", "本轮和上一轮的重大项目进展情况表"))


def time_progress_source(values: dict[str, Any], round_: Round) -> Source:
    """时间进度 as the round works it out: 截至月份11 ÷ 12, days elapsed ÷ days of the year, or the plan's target."""
    conv = conventions_of(round_)
    label = f"{conv.time_progress_name}（%）"
    if conv.time_progress_mode == "months":
        return Source("time_progress_pct", label, "截至月份 ÷ 12", values["time_progress_pct"],
                      [_input("截至月份", "as_of_month", values["as_of_month"], "count", unit="")],
                      origin=SETTINGS, what="行")
    if conv.time_progress_mode == "days":
        return Source("time_progress_pct", label, "截至日已过天数 ÷ 全年天数", values["time_progress_pct"],
                      origin=SETTINGS, what="行")
    return Source("time_progress_pct", label, "年度计划逐月累计目标中截至当月的目标", values["time_progress_pct"],
                  origin=SETTINGS, what="行")


def other_source(key: str, values: dict[str, Any], round_: Round) -> Source:
    """A number without listed rows: its meaning as the formula, and where it is taken from."""
    if key == "time_progress_pct":
        return time_progress_source(values, round_)
    label = reader_label(key)
    if key in ROUND_YML:
        return Source(key, label, ROUND_YML[key], values[key], origin=SETTINGS, what="行")
    origin = next((text for prefix, text in ORIGINS if key.startswith(prefix)), "清洗后的报表")
    return Source(key, label, label, values[key], origin=origin, what="行")


def numeric_keys(keys) -> list[str]:
    return [k for k in keys if k not in NOT_NUMBERS and not k.endswith(NOT_NUMBER_SUFFIXES)
            and not k.startswith(NOT_NUMBER_PREFIXES)]


def compute_sources(values: dict[str, Any], round_: Round, tables: dict[str, pd.DataFrame],
                    report: dict[str, pd.DataFrame], basis: model.Basis | None = None
                    ) -> tuple[dict[str, dict], dict[str, pd.DataFrame]]:
    """(sources for indicators.json, the row sheets of 数字来源.xlsx): every number of indicators.json, and each unit's
    rates. basis: the round's model.Basis when the caller has it (builder.build)."""
    headline, sheets = headline_sources(values, round_, tables["projects"], report["by_unit"],
                                        None if basis is None else basis.track)
    by_key = {s.key: s for s in headline}
    for found, sheet, name in (fai_sources(values, tables["fai"]) + ("固定资产投资",),
                               indicator_sources(values, tables["indicators"]) + ("主要指标",)):
        if not sheet.empty:
            sheets[name] = sheet
            by_key.update({s.key: s for s in found})
    lights = light_rows(tables["projects"], round_, None if basis is None else basis.progress)
    sheets[LIGHTS_SHEET] = lights
    by_key.update({s.key: s for s in light_sources(values, lights)})
    sheets.update(listed_tables(tables, report))
    if "两轮均未开工" in sheets:
        by_key["change.not_started_both"] = Source(
            "change.not_started_both", "两轮督查均未开工的项目个数", "上轮未开工、本轮仍未开工的项目个数",
            values["change.not_started_both"], sheet="两轮均未开工", count=len(sheets["两轮均未开工"]), how="rows")
    for key in numeric_keys(ind.KEYS):
        by_key.setdefault(key, other_source(key, values, round_))
    ordered = [k for k in ind.KEYS if k in by_key] + [k for k in by_key if k not in ind.KEYS]
    return {**{k: _json(by_key[k].as_json()) for k in ordered}, **table_sources(sheets)}, sheets


def _times(value, factor: float):
    return None if ind.is_missing(value) else value * factor


def _plain(value):
    return None if ind.is_missing(value) else (value.item() if hasattr(value, "item") else value)


def _json(obj):
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json(v) for v in obj]
    return _plain(obj) if not isinstance(obj, str) else obj


# ======================================================================== 三色预警: the lights and the rows behind them

LIGHTS_SHEET = "三色预警"
LIGHT_FLAGS = {"red": "红色预警", "yellow": "黄色预警", "green": "绿色（无预警）"}


def light_rows(projects: pd.DataFrame, round_: Round, progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every project of the two batches with its light (pipeline/indicators/early_warning.py) and the rules behind
    it. progress: findings.project_progress when the caller has it (model.Basis.progress)."""
    progress = findings.project_progress(projects, round_) if progress is None else progress
    light = progress["warning"].astype("string")
    out = pd.DataFrame({
        UNIT: progress["unit"].astype("string"), FILE: progress["file"].astype("string"),
        SHEET: progress["sheet"].astype("string"), ROW: progress["row"].astype("Int64"),
        **_labelled("project_lights", progress, "project_name", "batch", "completion_rate_pct",
                    "vs_time_progress_pp"),
        "灯色": light,
        **{label: equals(light, ew.LIGHTS[i]) for i, label in enumerate(LIGHT_FLAGS.values())},
        **_labelled("project_lights", progress, "warning_reasons"),
        "未判断的规则": progress["warning_not_judged"].astype("string"),
    })
    return out.reset_index(drop=True)


def light_sources(values: dict[str, Any], rows: pd.DataFrame) -> list[Source]:
    """warning.red / yellow / green: the projects of sheet 三色预警 whose light is that colour."""
    listed = dict(sheet=LIGHTS_SHEET, count=len(rows))
    return [Source(f"warning.{name}", f"三色预警：{label}项目个数",
                   f"“{label}”为是的项目个数（每个项目取最严重的一条规则）",
                   values[f"warning.{name}"], column=label, how="yes", **listed)
            for name, label in LIGHT_FLAGS.items()]


# =========================================================================== the report's tables

TABLE_PREFIX = "table."


@dataclass(frozen=True)
class TableSource:
    """Where a table of the report comes from: the rows behind it (a sheet of 数字来源.xlsx, grouped by a column) or
    where it is taken from, and what each numeric column is. columns: column -> (formula, how, sheet column)."""

    label: str
    formula: str
    sheet: str | None = None
    by: tuple[str, str] | None = None  # (the sheet's column, the table's column) whose value labels a row
    origin: str = ""
    columns: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    cell_key: str | None = None  # a per-cell source that exists for some cells, e.g. unit.{row}.{column}


def declared_sources() -> dict[str, TableSource]:
    """TABLE_SOURCES from the tables' declaration (pipeline/indicators/tables.csv, table_columns.csv): every table the
    report shows has a formula there."""
    return {t.name: TableSource(t.label, t.formula, t.sheet or None, (t.by, t.by_field) if t.by else None, t.origin,
                                {c.name: (c.formula, c.how or None, c.sheet_column or None)
                                 for c in t.columns if c.formula},
                                t.cell_key or None)
            for t in declared_tables.DECLARED.values() if t.formula}


TABLE_SOURCES: dict[str, TableSource] = declared_sources()


def table_sources(sheets: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """sources["table.<name>"] for every table of the report: a per-table entry (see the module docstring)."""
    out = {}
    for name, spec in TABLE_SOURCES.items():
        listed = spec.sheet in sheets
        rows = {"count": len(sheets[spec.sheet]) if listed else None, "what": "行",
                "sheet": spec.sheet if listed else None, "file": SOURCES_FILE if listed else None}
        if listed and spec.by:
            rows["by"], rows["by_field"] = spec.by
        if not listed:
            rows["origin"] = spec.origin or "本轮没有可逐行列出的数据"
        grouped = listed and spec.by is not None
        columns = {c: {"formula": f, **({"how": how} if how and grouped else {}), **({"column": col} if col else {})}
                   for c, (f, how, col) in spec.columns.items()}
        out[TABLE_PREFIX + name] = {"label": f"表：{spec.label}", "value": None, "formula": spec.formula, "inputs": [],
                                    "rows": rows, "columns": columns,
                                    **({"cell_key": spec.cell_key} if spec.cell_key else {})}
    return out


def listed_tables(tables: dict[str, pd.DataFrame], report: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sheets of the tables whose rows are not listed elsewhere: 十大工程, 招商引资项目, 两轮均未开工."""
    sheets = {}
    works = tables.get("major_works")
    if works is not None and len(works):
        sheets["十大工程"] = _row_frame(works, {"工程名称": works["project_name"].astype("string"),
                                            "牵头单位": works["lead_unit"].astype("string"),
                                            "总投资(万元)": works["total_investment"], PLAN: works["annual_plan"],
                                            DONE: works["completed"]})
    attraction = tables.get("attraction")
    if attraction is not None and len(attraction):
        sheets["招商引资项目"] = _row_frame(attraction, {"项目名称": attraction["project_name"].astype("string"),
                                                  "签约方式": attraction["sign_mode"].astype("string"),
                                                  "产业": attraction["industry"].astype("string"),
                                                  "合同投资额(万元)": attraction["contract_investment"],
                                                  "本年到位资金(万元)": attraction["funds_in_place"]})
    both = report.get("not_started_both")
    if both is not None and len(both):
        sheets["两轮均未开工"] = pd.DataFrame({
            UNIT: both["unit"].astype("string"), "项目编号": both["project_code"].astype("string"),
            "项目名称": both["project_name"].astype("string"), "批次": both["batch"].astype("string"),
            "责任单位": both["responsible_unit"].astype("string"), PLAN: both["annual_plan_wan"],
            "上轮累计完成(万元)": both["prev_completed_wan"]}).reset_index(drop=True)
    return sheets


# ========================================================================= the edge: indicators.json and 数字来源.xlsx


def sheet_notes(sources: dict[str, dict]) -> dict[str, str]:
    """One line above each sheet: which figures its rows give, by their labels (no indicators.json key)."""
    notes: dict[str, list[str]] = {}
    for source in sources.values():
        sheet = source["rows"]["sheet"]
        if sheet:
            notes.setdefault(sheet, []).append(source["label"].removeprefix("表："))
    return {sheet: "本表各行是以下数字的来源：" + "；".join(dict.fromkeys(labels)) for sheet, labels in notes.items()}


def save_sources(built: model.Indicators, out_dir: Path, *, background: bool = False) -> pd.DataFrame:
    """Write outputs/<round>/indicators.json (with ``sources``) and 数字来源.xlsx from builder.build's result; returns
    the list of sources to show. background: 数字来源.xlsx, which no later step reads, is written in the background
    (excel.write_workbook)."""
    sources, out_dir = built.sources, Path(out_dir)
    write_workbook(out_dir / SOURCES_FILE, built.sheets, notes=sheet_notes(sources), background=background)
    ind.save_indicators({**built.values, SOURCES_KEY: sources}, out_dir)
    return pd.DataFrame([{"含义": s["label"], "公式": s["formula"], "行数": s["rows"]["count"],
                          "工作表": s["rows"]["sheet"] or "", "来源": s["rows"].get("origin", "")}
                         for k, s in sources.items()])
