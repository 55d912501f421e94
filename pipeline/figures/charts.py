"""Figures: the charts that sit beside the report's text, drawn from the indicator tables.

``load_figure_inputs`` reads what step 2 wrote (indicators.json and the report tables under
data/processed/<round>/, the clean FAI table); from there every chart is a pure function —
tables in, a matplotlib Figure out, nothing read or written — listed in ``FIGURES`` in the
order the report shows them, with its number, its Chinese title (the caption), the report
section it belongs to and the data it is drawn from (``FigureSpec.tables``, ``.values``, ``.facts``: it is given
those only, ``FigureInputs.only``). ``draw_and_save`` writes each to ``outputs/<round>/figures/``
as PNG (what report.html embeds), SVG (text as paths, so it shows the same on a machine without
the font) and a PNG at PRINT_DPI (what report.docx embeds), drawn once per file, the charts side by side on every
core (pipeline/workers.py); a chart whose data, code and fonts are as at its last drawing keeps its files
(pipeline/figures/reuse.py). ``draw_figures`` and ``save_figures`` draw and save in this process.

The look (pipeline/figures/theme.py): seaborn's whitegrid theme with the Chinese font of ``fonts.cjk_font()``
first, one colour per unit in every chart, units by their rank (综合得分).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import matplotlib
import matplotlib.image
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from pipeline import indicators as ind
from pipeline import paths, workers
from pipeline.conventions import Conventions, conventions_of
from pipeline.figures import reuse
from pipeline.figures import theme as look
from pipeline.figures.fonts import cjk_font
from pipeline.frames import is_missing
from pipeline.indicators import early_warning as ew
from pipeline.ingest import artifacts
from pipeline.rounds import Round, load_round

# The look (pipeline/figures/theme.py), also as figures.* (notebook 03 calls figures.apply_theme).
OTHER_COLOR, UNIT_PALETTE, theme, theme_rc, apply_theme = (look.OTHER_COLOR, look.UNIT_PALETTE, look.theme,
                                                           look.theme_rc, look.apply_theme)
unit_colors, unit_order = look.unit_colors, look.unit_order
FIGURES_DIR = paths.FIGURES  # under outputs/<round>/
# The pictures of report.docx (A4 print): each chart also saved at this resolution.
PRINT_DPI = 300
# What a chart may know of the round besides the tables and values: the cut-off date, the units' order (by rank) and
# colours, the time progress and the round's conventions (how it is named and rounded).
FACTS = ("as_of", "order", "colors", "time_progress", "conventions")

# The charts' colours (a unit's own colour: theme.unit_colors).
THIS_YEAR, LAST_YEAR = "#1f4e79", "#a6a6a6"
TIME_PROGRESS_COLOR = "#c00000"
STARTED_COLOR, NOT_STARTED_COLOR = "#2e75b6", "#f4b183"
SCOPE_COLORS = {ind.SCOPE_ALL: "#2e75b6", ind.SCOPE_KEY: "#c55a11"}
CATEGORY_COLORS = {ind.ACCELERATING: "#548235", ind.SUBSTANTIVE: "#2e75b6", ind.PUSHING: "#bf9000"}
NINE_COLOR, OTHER_INDUSTRY_COLOR = "#2e75b6", OTHER_COLOR
AHEAD_COLOR, BEHIND_COLOR = "#2e75b6", "#f4b183"

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class FigureInputs:
    """What the charts are drawn from: the round, indicators.json and the tables of step 2 (plus the clean FAI
    table). ``only(spec)`` is what one chart is given: its declared tables, values and facts, nothing else."""

    round: Round
    values: Mapping
    tables: dict[str, pd.DataFrame]
    facts: frozenset[str] | None = None  # the FACTS a chart may read (None: all)
    ranked: tuple[str, ...] | None = None  # the units' order, kept when the ranking table is not among the tables

    def fact(self, name: str) -> Any:
        if self.facts is not None and name not in self.facts:
            raise reuse.UndeclaredInput(f"a figure reads {name!r}, which its FigureSpec.facts does not declare")
        if name == "as_of":
            return self.round.as_of
        if name == "order":
            return list(self.ranked) if self.ranked is not None else unit_order(self.tables["unit_ranking"],
                                                                                  self.round.units)
        if name == "colors":
            return unit_colors(self.round.units)
        if name == "time_progress":
            return ind.round_time_progress(self.round)
        if name == "conventions":
            return conventions_of(self.round)
        raise ValueError(f"no such fact: {name!r}")

    @property
    def as_of(self):
        return self.fact("as_of")

    @property
    def time_progress(self) -> float:
        return self.fact("time_progress")

    @property
    def conventions(self) -> Conventions:
        return self.fact("conventions")

    @property
    def colors(self) -> dict[str, tuple]:
        return self.fact("colors")

    @property
    def order(self) -> list[str]:
        return self.fact("order")

    def color(self, unit: str) -> tuple:
        return self.colors.get(unit, OTHER_COLOR)

    def only(self, spec: FigureSpec) -> FigureInputs:
        """What the chart of spec is drawn from, and nothing else (reading anything else raises UndeclaredInput)."""
        return FigureInputs(self.round, reuse.DeclaredValues(self.values, spec.values, spec.key),
                            reuse.DeclaredTables(self.tables, spec.tables, spec.key), frozenset(spec.facts),
                            tuple(self.order) if "order" in spec.facts else None)

    def data_digest(self) -> str:
        """The digest of the declared data (call on ``only(spec)``)."""
        facts = {name: self.fact(name) for name in sorted(FACTS if self.facts is None else self.facts)}
        values = self.values if isinstance(self.values, reuse.DeclaredValues) else reuse.DeclaredValues(
            self.values, [(key,) for key in self.values], "")
        return reuse.data_digest(self.tables, values, facts)


def load_figure_inputs(round_id: str, root: Path | None = None) -> FigureInputs:
    """Read the round, indicators.json and the saved tables of step 2 (notebook 02_indicators)."""
    root = Path(root) if root else None
    processed = paths.processed_round_dir(round_id, root)
    tables = {**ind.load_report_tables(processed), "fai": load_fai(processed)}
    values = ind.load_indicators(paths.outputs_round_dir(round_id, root))
    return FigureInputs(load_round(round_id, root), values, tables)


FAI_COLUMNS = ["region", "month", "cum_value", "yoy_pct", "last_yoy_pct"]  # what 图1 reads of the clean FAI table


def load_fai(processed: Path) -> pd.DataFrame:
    """Step 1's clean FAI table (图1 draws its months), empty when the round has none."""
    fai = processed / "fai.parquet"  # read by its loader (ingest/artifacts.py), which checks its columns
    return artifacts.load_clean_table(processed, "fai") if fai.is_file() else pd.DataFrame(columns=FAI_COLUMNS)


# --------------------------------------------------------------------------- helpers


def _subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs):
    """A figure and its axes without pyplot: nothing global to close, nothing shown by accident in a notebook."""
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _label(value, digits: int = 1, suffix: str = "") -> str:
    return "—" if is_missing(value) else f"{value:,.{digits}f}{suffix}"


def _empty(ax, text: str) -> None:
    """An axis that says why it has nothing to show."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35", wrap=True)


def _bar_labels(ax, bars, labels: list[str]) -> None:
    for bar, text in zip(bars, labels):
        width = bar.get_width()
        ax.annotate(text, (width if not is_missing(width) else 0, bar.get_y() + bar.get_height() / 2),
                    xytext=(3, 0), textcoords="offset points", va="center", ha="left", fontsize=8, color="0.2")


def _categories_on_y(*axes) -> None:
    """Horizontal bars: grid lines along the values only."""
    for ax in axes:
        ax.grid(axis="y", visible=False)


def _legend_below(fig, handles=None, labels=None, ncols: int = 3) -> None:
    """One legend for the whole figure, under the charts, where it covers nothing."""
    if handles is None:
        handles, labels = [], []
        for ax in fig.axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                if label not in labels:
                    handles.append(handle)
                    labels.append(label)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, fontsize=8)


def _time_progress_line(ax, inputs: FigureInputs, vertical: bool = True) -> None:
    """The time-progress line, named and rounded as the round's conventions say (时间进度 66.7% / 序时进度 80.00%)."""
    line = ax.axvline if vertical else ax.axhline
    tp, conv = inputs.time_progress, inputs.conventions
    line(tp, color=TIME_PROGRESS_COLOR, linestyle="--", linewidth=1.2,
         label=f"{conv.time_progress_name} {conv.number(tp)}%")


def _all_projects(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["scope"] == ind.SCOPE_ALL]


# --------------------------------------------------------------------------- the charts


def fai_months(fai: pd.DataFrame | None, month: int) -> pd.DataFrame:
    """图1's left half, also stated in the report's text: the 全区 rows up to the round's month, one per month
    (none when the round has no clean FAI table)."""
    if fai is None:
        return pd.DataFrame(columns=FAI_COLUMNS)
    total = fai[fai["region"].astype("string").isin(ind.REGION_TOTAL_NAMES).fillna(False).astype(bool)]
    total = total[total["month"] <= month] if not total.empty else total
    return total.sort_values("month").drop_duplicates("month", keep="last")


def fai_regions(by_region: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """图1's right half, also stated in the report's text: each region's latest growth, in round.yml's order."""
    regions = by_region[~by_region["region"].isin(ind.REGION_TOTAL_NAMES)].dropna(subset=["yoy_pct"])
    rank = {u: i for i, u in enumerate(order)}
    return regions.assign(_o=regions["region"].map(lambda r: rank.get(r, len(rank)))).sort_values(["_o", "region"])


def fai_growth(inputs: FigureInputs) -> Figure:
    """全区固定资产投资累计增速 by month, this year against last year; and each region's latest growth."""
    fai, by_region = inputs.tables["fai"], inputs.tables["fai_by_region"]
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, 3.6), width_ratios=[1.1, 1])
        total = fai_months(fai, inputs.as_of.month)
        if total.empty or total[["yoy_pct", "last_yoy_pct"]].isna().all().all():
            _empty(left, "本轮未收到全区固定资产投资增速")
        else:
            months = total["month"].astype(int).tolist()
            left.plot(months, total["yoy_pct"], marker="o", color=THIS_YEAR, label=f"{inputs.as_of.year}年")
            left.plot(months, total["last_yoy_pct"], marker="s", color=LAST_YEAR,
                      label=f"{inputs.as_of.year - 1}年同期")
            left.axhline(0, color="0.4", linewidth=0.8)
            left.set_xticks(months, [f"1-{m}月" if m > 1 else "1月" for m in months],
                            rotation=45 if len(months) > 4 else 0)
            left.set_ylabel("累计增速（%）")
            left.set_title("全区逐月累计增速")
        regions = fai_regions(by_region, inputs.order)
        if regions.empty:
            _empty(right, "未收到各地区固定资产投资增速")
        else:
            names = regions["region"].astype(str).tolist()[::-1]
            yoy = regions["yoy_pct"].astype(float).tolist()[::-1]
            last = regions["last_yoy_pct"].astype(float).tolist()[::-1]  # a column nobody could read is all NaN
            bars = right.barh(names, yoy, color=[inputs.color(n) for n in names], height=0.6, label="本年累计增速")
            if not all(math.isnan(v) for v in last):
                right.scatter(last, names, marker="|", s=120, color="0.25", zorder=3, label="上年同期增速")
            right.axvline(0, color="0.4", linewidth=0.8)
            _bar_labels(right, bars, [_label(v) for v in yoy])
            right.set_xlabel("累计增速（%）")
            right.set_title("各地区累计增速")
            _categories_on_y(right)
        _legend_below(fig, ncols=4)
        return fig


def unit_rates(inputs: FigureInputs) -> Figure:
    """开工率 and 投资完成率 of each unit, ranked, with the 时间进度 line."""
    by_unit = _all_projects(inputs.tables["by_unit"]).set_index("unit")
    units = [u for u in inputs.order if u in by_unit.index and by_unit.loc[u, "projects"] > 0]
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, max(3.0, 0.36 * len(units) + 1.3)), sharey=True)
        if not units:
            _empty(left, "本轮没有重大项目数据")
            right.set_axis_off()
            return fig
        names = units[::-1]
        colors = [inputs.color(u) for u in names]
        start = by_unit.loc[names, "start_rate_pct"].tolist()
        done = by_unit.loc[names, "completion_rate_pct"].tolist()
        bars = left.barh(names, [0 if is_missing(v) else v for v in start], color=colors, height=0.65)
        _bar_labels(left, bars, [_label(v) for v in start])
        left.set_title("开工率（%）")
        left.set_xlim(0, 118)
        bars = right.barh(names, [0 if is_missing(v) else v for v in done], color=colors, height=0.65)
        _bar_labels(right, bars, [_label(v) for v in done])
        _time_progress_line(right, inputs)
        right.set_title("投资完成率（%）")
        right.set_xlim(0, max(118, max((v for v in done if not is_missing(v)), default=0) * 1.15))
        _categories_on_y(left, right)
        _legend_below(fig)
        return fig


def projects_by_batch(inputs: FigureInputs) -> Figure:
    """Projects of each batch, started or not; and 投资完成率 of each batch, all projects and key projects."""
    table = inputs.tables["by_batch"]
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, 3.3))
        data = _all_projects(table)
        data = data[data["projects"] > 0]
        if data.empty:
            _empty(left, "本轮没有重大项目数据")
            right.set_axis_off()
            return fig
        batches = data["batch"].astype(str).tolist()
        started, waiting = data["started"].tolist(), data["not_started"].tolist()
        left.bar(batches, started, color=STARTED_COLOR, label="已开工", width=0.55)
        left.bar(batches, waiting, bottom=started, color=NOT_STARTED_COLOR, label="未开工", width=0.55)
        for x, (s, w) in enumerate(zip(started, waiting)):
            left.text(x, s / 2, f"{s}", ha="center", va="center", color="white", fontsize=9)
            left.text(x, s + w, f"未开工 {w}", ha="center", va="bottom", fontsize=8, color="0.25")
        left.set_ylabel("项目数（个）")
        left.yaxis.set_major_locator(MaxNLocator(integer=True))
        left.set_title("各批次项目开工情况")
        rates = table[table["projects"] > 0].pivot_table(index="batch", columns="scope", values="completion_rate_pct",
                                                         aggfunc="first", sort=False)
        width = 0.38
        for i, scope in enumerate([s for s in (ind.SCOPE_ALL, ind.SCOPE_KEY) if s in rates.columns]):
            values = [rates.loc[b, scope] if b in rates.index else float("nan") for b in batches]
            xs = [x + (i - 0.5) * width for x in range(len(batches))]
            bars = right.bar(xs, [0 if is_missing(v) else v for v in values], width=width, color=SCOPE_COLORS[scope],
                             label=scope)
            for bar, v in zip(bars, values):
                right.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), _label(v), ha="center", va="bottom",
                           fontsize=8)
        right.set_xticks(range(len(batches)), batches)
        _time_progress_line(right, inputs, vertical=False)
        right.set_ylim(0, max(110, float(rates.max().max()) * 1.15 if rates.notna().any().any() else 110))
        right.set_title("投资完成率（%）")
        _legend_below(fig, ncols=5)
        return fig


def industry_completion(inputs: FigureInputs) -> Figure:
    """投资完成率 by 行业领域 of the concentrated-start projects, against 时间进度."""
    data = _all_projects(inputs.tables["by_industry"])
    data = data[data["projects"] > 0].dropna(subset=["completion_rate_pct"]).sort_values("completion_rate_pct")
    with theme():
        fig, ax = _subplots(figsize=(6.8, max(2.8, 0.3 * len(data) + 1.2)))
        if data.empty:
            _empty(ax, "本轮没有可计算投资完成率的行业")
            return fig
        tp = inputs.time_progress
        rates = data["completion_rate_pct"].tolist()
        colors = [AHEAD_COLOR if r >= tp else BEHIND_COLOR for r in rates]
        bars = ax.barh(data["industry"].astype(str), rates, color=colors, height=0.65)
        _bar_labels(ax, bars, [f"{r:.1f}（计划{p:,.1f}亿元）" for r, p in zip(rates, data["plan_yi"])])
        _time_progress_line(ax, inputs)
        ax.set_xlim(0, max(rates) * 1.35)
        ax.set_xlabel("投资完成率（%）")
        ax.set_title("分行业投资完成率")
        _categories_on_y(ax)
        handles = [Rectangle((0, 0), 1, 1, color=AHEAD_COLOR), Rectangle((0, 0), 1, 1, color=BEHIND_COLOR),
                   *ax.get_legend_handles_labels()[0]]
        name = inputs.conventions.time_progress_name
        _legend_below(fig, handles, [f"不低于{name}", f"低于{name}", *ax.get_legend_handles_labels()[1]])
        return fig


def major_works_progress(inputs: FigureInputs) -> Figure:
    """The ten major engineering projects: total investment, status category, 投资完成率 of those under construction."""
    data = inputs.tables["major_works_status"]
    with theme():
        fig, ax = _subplots(figsize=(6.8, max(2.8, 0.38 * len(data) + 1.2)))
        if data.empty:
            _empty(ax, "本轮未收到十大工程项目推进情况表")
            return fig
        data = data.iloc[::-1]
        names = data["project_name"].astype(str).tolist()
        totals = [0 if is_missing(v) else v for v in data["total_investment_yi"]]
        colors = [CATEGORY_COLORS.get(c, OTHER_COLOR) for c in data["category"]]
        bars = ax.barh(names, totals, color=colors, height=0.65)
        labels = []
        for r in data.itertuples():
            text = "总投资未填报" if is_missing(r.total_investment_yi) else f"{r.total_investment_yi:,.1f}亿元"
            if not is_missing(r.completion_rate_pct):
                text += f"，年度投资完成{r.completion_rate_pct:.1f}%"
            if bool(r.milestone_overdue):
                text += "，节点逾期"
            labels.append(text)
        _bar_labels(ax, bars, labels)
        ax.set_xlim(0, max(max(totals), 1) * 1.7)
        ax.set_xlabel("总投资（亿元）")
        ax.set_title("十大工程项目推进情况")
        _categories_on_y(ax)
        handles = [Rectangle((0, 0), 1, 1, color=c) for c in CATEGORY_COLORS.values()]
        _legend_below(fig, handles, list(CATEGORY_COLORS))
        return fig


def attraction_industries(inputs: FigureInputs) -> Figure:
    """招商引资项目 by 九大重点产业 (and 其他): number of projects (the share is by count) and contract investment."""
    data = inputs.tables["attraction_by_industry"]
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, 3.8), sharey=True)
        if data.empty or data["projects"].sum() == 0:
            _empty(left, "本轮未收到招商引资项目情况表")
            right.set_axis_off()
            return fig
        data = data.iloc[::-1]
        names = data["industry"].astype(str).tolist()
        colors = [NINE_COLOR if nine else OTHER_INDUSTRY_COLOR for nine in data["nine"]]
        bars = left.barh(names, data["projects"], color=colors, height=0.65)
        _bar_labels(left, bars, [f"{n}（{_label(s)}%）" for n, s in zip(data["projects"], data["share_pct"])])
        left.set_xlim(0, data["projects"].max() * 1.6)
        left.set_title("项目个数（占比按个数）")
        bars = right.barh(names, data["contract_yi"].fillna(0), color=colors, height=0.65)
        _bar_labels(right, bars, [_label(v) for v in data["contract_yi"]])
        right.set_xlim(0, max(data["contract_yi"].max(), 1) * 1.35)
        right.set_title("合同投资额（亿元）")
        _categories_on_y(left, right)
        handles = [Rectangle((0, 0), 1, 1, color=NINE_COLOR), Rectangle((0, 0), 1, 1, color=OTHER_INDUSTRY_COLOR)]
        _legend_below(fig, handles, ["九大重点产业", "其他产业"])
        return fig


def attraction_units(inputs: FigureInputs) -> Figure:
    """招商引资 by unit: projects and funds in place (本年到位资金), units in rank order and colours."""
    data = inputs.tables["attraction_by_unit"]
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, max(2.8, 0.38 * len(data) + 1.2)), sharey=True)
        if data.empty:
            _empty(left, "本轮未收到招商引资项目情况表")
            right.set_axis_off()
            return fig
        rank = {u: i for i, u in enumerate(inputs.order)}
        data = data.assign(_o=data["unit"].map(lambda u: rank.get(u, len(rank)))).sort_values(["_o", "unit"]).iloc[::-1]
        names = data["unit"].astype(str).tolist()
        colors = [inputs.color(u) for u in names]
        bars = left.barh(names, data["projects"], color=colors, height=0.65)
        _bar_labels(left, bars, [f"{p}（集中签约{c}）"
                                 for p, c in zip(data["projects"], data["concentrated_projects"])])
        left.set_xlim(0, data["projects"].max() * 1.7)
        left.set_title("招商引资项目（个）")
        funds = data["funds_in_place_yi"]
        bars = right.barh(names, funds.fillna(0), color=colors, height=0.65)
        _bar_labels(right, bars, [_label(v) for v in funds])
        right.set_xlim(0, max(funds.max() if funds.notna().any() else 0, 1) * 1.35)
        right.set_title("本年到位资金（亿元）")
        _categories_on_y(left, right)
        return fig


def change_since_previous(inputs: FigureInputs) -> Figure:
    """开工率 and 投资完成率 of 全区 and each unit at the previous round and now."""
    data = inputs.tables["rate_changes"].dropna(subset=["completion_rate_pct", "prev_completion_rate_pct"], how="all")
    with theme():
        fig, (left, right) = _subplots(1, 2, figsize=(6.8, max(3.0, 0.3 * len(data) + 1.4)), sharey=True)
        if data.empty:
            why = inputs.values.get("notes", {}).get("previous.batch.completion_rate_pct", "本轮不作与上轮比较")
            _empty(left, why)
            right.set_axis_off()
            return fig
        rank = {u: i for i, u in enumerate(["全区", *inputs.order])}
        data = data.assign(_o=data["unit"].map(lambda u: rank.get(u, len(rank)))).sort_values(["_o", "unit"]).iloc[::-1]
        names = data["unit"].astype(str).tolist()
        prev_label = f"上轮（{inputs.values.get('previous.round') or '上一轮'}）"
        for ax, now_col, prev_col, title in (
                (left, "start_rate_pct", "prev_start_rate_pct", "开工率（%）"),
                (right, "completion_rate_pct", "prev_completion_rate_pct", "投资完成率（%）")):
            for y, (now, before) in enumerate(zip(data[now_col], data[prev_col])):
                if not is_missing(now) and not is_missing(before):
                    ax.plot([before, now], [y, y], color="0.75", linewidth=2, zorder=1)
            ax.scatter(data[prev_col], range(len(names)), color=LAST_YEAR, s=28, zorder=2)
            ax.scatter(data[now_col], range(len(names)),
                       color=[THIS_YEAR if n == "全区" else inputs.color(n) for n in names], s=36, zorder=3)
            ax.set_title(title)
        left.set_yticks(range(len(names)), names)
        _time_progress_line(right, inputs)
        _categories_on_y(left, right)
        dot = dict(marker="o", linestyle="", markersize=6)
        handles = [Line2D([], [], color=LAST_YEAR, **dot), Line2D([], [], color=THIS_YEAR, **dot),
                   *right.get_legend_handles_labels()[0]]
        _legend_below(fig, handles, [prev_label, "本轮（各单位颜色同其他图）", *right.get_legend_handles_labels()[1]])
        return fig


def warning_lights(inputs: FigureInputs) -> Figure:
    """三色预警 per unit: projects with a red, yellow and green light, stacked, units in rank order."""
    data = inputs.tables["warning_by_unit"]
    data = data[data[["red", "yellow", "green"]].sum(axis=1) > 0]
    with theme():
        fig, ax = _subplots(figsize=(6.8, max(2.6, 0.36 * len(data) + 1.3)))
        if data.empty:
            _empty(ax, "本轮没有重大项目数据，未作三色预警")
            return fig
        rank = {u: i for i, u in enumerate(inputs.order)}
        data = data.assign(_o=data["unit"].map(lambda u: rank.get(u, len(rank)))).sort_values(["_o", "unit"]).iloc[::-1]
        names = data["unit"].astype(str).tolist()
        left = [0] * len(names)
        for column, light, label in (("red", ew.RED, "红色预警"), ("yellow", ew.YELLOW, "黄色预警"),
                                     ("green", ew.GREEN, "绿色")):
            counts = data[column].astype(int).tolist()
            bars = ax.barh(names, counts, left=left, color=ew.LIGHT_COLORS[light], height=0.65, label=label,
                           edgecolor="white", linewidth=0.6)
            for bar, n in zip(bars, counts):
                if n:
                    ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(n),
                            ha="center", va="center", fontsize=8, color="0.15")
            left = [a + b for a, b in zip(left, counts)]
        ax.set_xlabel("项目数（个）")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("各单位项目三色预警")
        _categories_on_y(ax)
        _legend_below(fig)
        return fig


# --------------------------------------------------------------------------- the list, drawing and saving


@dataclass(frozen=True)
class FigureSpec:
    key: str  # identifier used by the report
    number: int  # 图N in the report
    title: str  # caption, Chinese
    section: str  # where the report shows it
    draw: Callable[[FigureInputs], Figure]
    tables: tuple[str, ...] = ()  # the tables it is drawn from (report tables of step 2, and "fai")
    values: tuple[tuple[str, ...], ...] = ()  # the values of indicators.json it reads, as key paths
    facts: tuple[str, ...] = ()  # what it knows of the round (FACTS)

    @property
    def file_stem(self) -> str:
        return f"图{self.number}_{self.title}"


_UNITS = ("order", "colors")  # units in rank order, each in its colour
_TIME = ("time_progress", "conventions")  # the time-progress line, named and rounded as the round says
FIGURES: tuple[FigureSpec, ...] = tuple(FigureSpec(key, n, title, section, draw, tables, values, facts)
                                        for n, (key, title, section, draw, tables, values, facts) in enumerate((
    ("fai_growth", "全区固定资产投资累计增速", "一、总体情况", fai_growth,
     ("fai", "fai_by_region"), (), ("as_of", *_UNITS)),
    ("projects_by_batch", "两批次集中开工重大项目开工和投资完成情况", "一、总体情况", projects_by_batch,
     ("by_batch",), (), _TIME),
    ("unit_rates", "各单位开工率和投资完成率", "一、总体情况", unit_rates, ("by_unit",), (), (*_UNITS, *_TIME)),
    ("industry_completion", "分行业投资完成率", "一、总体情况", industry_completion, ("by_industry",), (), _TIME),
    ("attraction_industries", "招商引资项目产业分布", "（四）项目谋划招引有序开展", attraction_industries,
     ("attraction_by_industry",), (), ()),
    ("attraction_units", "各地招商引资项目和到位资金", "（四）项目谋划招引有序开展", attraction_units,
     ("attraction_by_unit",), (), _UNITS),
    ("major_works_progress", "十大工程项目推进情况", "（五）“十大工程项目”稳步推进", major_works_progress,
     ("major_works_status",), (), ()),
    ("warning_lights", "各单位项目三色预警", "二、工作建议", warning_lights, ("warning_by_unit",), (), ("order",)),
    ("change_since_previous", "开工率和投资完成率与上轮比较", "二、工作建议", change_since_previous,
     ("rate_changes",), (("previous.round",), ("notes", "previous.batch.completion_rate_pct")), (*_UNITS, *_TIME)),
), start=1))
FIGURES_BY_KEY = {spec.key: spec for spec in FIGURES}


def draw_figures(inputs: FigureInputs) -> dict[str, Figure]:
    """Every chart of FIGURES, by key, each drawn from its declared data."""
    return {spec.key: spec.draw(inputs.only(spec)) for spec in FIGURES}


def figure_paths(out_dir: Path, key: str) -> dict[str, Path]:
    """Where a chart is saved: {'png': …, 'svg': …, 'print_png': …} under out_dir/figures/."""
    stem = FIGURES_BY_KEY[key].file_stem
    folder = Path(out_dir) / FIGURES_DIR
    return {"png": folder / f"{stem}.png", "svg": folder / f"{stem}.svg", "print_png": folder / f"{stem}_打印.png"}


def figure_digests(inputs: FigureInputs) -> dict[str, str]:
    """Each chart's digest: its declared data and how every chart is drawn (code, libraries, fonts, settings)."""
    with theme():
        drawing = reuse.drawing_digest(cjk_font())
    return {spec.key: reuse.figure_digest(spec.key, inputs.only(spec).data_digest(), drawing) for spec in FIGURES}


def draw_and_save(inputs: FigureInputs, out_dir: Path, processes: int | None = None, *,
                  keep_unchanged: bool = True) -> pd.DataFrame:
    """Draw the charts of FIGURES and save them (save_figures' files and table, with 本次: redrawn or kept),
    `processes` charts at a time in forked workers (None: one per core). A chart whose digest (figure_digests) and
    files are as recorded at its last drawing keeps its files (keep_unchanged=False: every chart is drawn). Each
    chart is drawn from the same inputs by the same code wherever it is drawn, so the files are the same either way;
    a chart that fails raises here, with its own error."""
    out_dir = Path(out_dir)
    (out_dir / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    digests = figure_digests(inputs)
    record = reuse.load_record(out_dir) if keep_unchanged else {}
    kept = [key for key, digest in digests.items() if reuse.still_good(record.get(key), digest,
                                                                        figure_paths(out_dir, key))]
    files = {key: record[key]["files"] for key in kept}
    files |= _draw_and_save([spec for spec in FIGURES if spec.key not in kept], inputs, out_dir,
                            workers.cores() if processes is None else processes)
    for key in kept:  # kept files count as written by this step, as the runner tells by their times (run/rerun.py)
        for path in figure_paths(out_dir, key).values():
            os.utime(path)
    reuse.save_record(out_dir, {key: {"digest": digests[key], "files": files[key]} for key in digests})
    return _saved_table(list(digests), kept)


def _draw_and_save(specs: list[FigureSpec], inputs: FigureInputs, out_dir: Path,
                   processes: int) -> dict[str, dict[str, str]]:
    """Draw and save these charts; the digests of the files each wrote, by key."""
    jobs = [(inputs, spec.key, out_dir) for spec in specs]
    if processes < 2 or len(jobs) < 2:
        return {spec.key: _draw_and_save_one(*job) for spec, job in zip(specs, jobs)}
    written = {}
    for spec, outcome in zip(specs, workers.run_forked(_draw_and_save_one, jobs, processes=processes)):
        if outcome.error is not None:
            raise outcome.error
        if not outcome.ok:
            raise RuntimeError(f"绘制图{spec.number}（{spec.title}）的进程意外退出")
        written[spec.key] = outcome.value
    return written


def _draw_and_save_one(inputs: FigureInputs, key: str, out_dir: Path) -> dict[str, str]:
    spec, files = FIGURES_BY_KEY[key], figure_paths(out_dir, key)
    with theme():
        save_once(spec.draw(inputs.only(spec)), **files)
    return reuse.files_digests(files)


def save_figures(figures: dict[str, Figure], out_dir: Path) -> pd.DataFrame:
    """Write each chart as PNG, SVG and print PNG to out_dir/figures/; returns the list of files (图, 标题, PNG,
    SVG)."""
    (Path(out_dir) / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    for key, fig in figures.items():
        with theme():
            save_once(fig, **figure_paths(out_dir, key))
    return _saved_table(list(figures))


KEPT, REDRAWN = "所用数据未变，沿用上次的文件", "已绘制"  # the table's 本次 column


def _saved_table(keys: list[str], kept: list[str] = ()) -> pd.DataFrame:
    rows = []
    for key in keys:
        spec, files = FIGURES_BY_KEY[key], figure_paths(Path(), key)
        rows.append({"图": f"图{spec.number}", "标题": spec.title, "PNG": files["png"].name, "SVG": files["svg"].name,
                     "本次": KEPT if key in kept else REDRAWN})
    return pd.DataFrame(rows, columns=["图", "标题", "PNG", "SVG", "本次"])


def save_once(fig: Figure, png: Path, svg: Path, print_png: Path | None = None) -> None:
    """One chart to PNG, SVG and (print_png) a PNG at PRINT_DPI, with its layout computed once.

    ``savefig`` lays a constrained-layout figure out with a full draw before each real one, so each
    savefig call draws it twice. Here the Agg canvas draws it once (layout and pixels together),
    the PNG is written from that buffer as savefig's own PNG writer does, and the SVG and the print PNG
    are drawn with the layout then fixed and no layout engine left (with one, even a placeholder, savefig draws the
    figure once more first): one draw each, and every file shows the same layout. SVG text
    stays as paths (``svg.fonttype``): the file shows the same on a machine without the Chinese font.
    """
    dpi = matplotlib.rcParams["savefig.dpi"]
    fig.set_dpi(dpi)
    fig.set_facecolor("white")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    matplotlib.image.imsave(png, canvas.buffer_rgba(), format="png", origin="upper", dpi=dpi,
                            metadata=_metadata("png"))
    # Keep the positions the draw above computed, with no layout engine at all: "none" leaves a placeholder engine,
    # and savefig draws a figure that has one an extra time before drawing it (a figure is drawn once per file).
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    fig.savefig(svg, format="svg", facecolor="white", metadata=_metadata("svg"))
    if print_png is not None:
        fig.savefig(print_png, format="png", dpi=PRINT_DPI, facecolor="white", metadata=_metadata("png"))


def _metadata(kind: str) -> dict:
    # No software version or date in the files: the same data gives the same files.
    return {"Software": None} if kind == "png" else {"Date": None, "Creator": None}


def gallery(out_dir: Path):
    """The saved PNGs with their numbers and titles, as one HTML block to look at in the notebook."""
    import base64
    import html

    from IPython.display import HTML

    items = []
    for spec in FIGURES:
        png = figure_paths(out_dir, spec.key)["png"]
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        caption = html.escape(f"图{spec.number}　{spec.title}（{spec.section}）")
        items.append(f'<figure style="margin:0 0 24px"><figcaption><b>{caption}</b></figcaption>'
                     f'<img src="data:image/png;base64,{data}" style="width:100%;max-width:760px" alt="{caption}">'
                     '</figure>')
    return HTML("".join(items))


def save_summary(table: pd.DataFrame, out_dir: Path, path: Path) -> Path:
    """The lines the runner prints after this step: how many charts, and where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Where the charts are once the run is published, relative to the project root (the run writes them in a staging
    # copy that is gone when the line is read): outputs/<round>/figures/.
    folder = f"{paths.OUTPUTS_DIR.name}/{Path(out_dir).name}/{FIGURES_DIR}/"
    kept = int((table["本次"] == KEPT).sum()) if "本次" in table else 0
    how = f"；其中 {kept} 张所用的数据未变，沿用上次的文件" if kept else ""
    path.write_text(f"已绘制图表 {len(table)} 张（PNG、SVG 和打印用 PNG 各一份{how}），保存在 {folder}\n",
                    encoding="utf-8")
    return path
