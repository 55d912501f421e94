"""Findings: the data behind 二、工作建议, and the supervision list (督办清单) that goes to the units.

Every rule here is data-driven; the thresholds come from round.yml.

Projects to track one by one (``track_list``, the rows of 督办清单.xlsx)
    A project of the 重大项目进展情况表 is listed once, with every reason that applies:
    1. 未开工 — 是否开工 = 否;
    2. 已开工零投资 — 是否开工 = 是 and 累计完成投资 = 0 (确保真实开工);
    3. 已开工未入统 — 是否开工 = 是 and 是否入统 = 否 (a blank 是否入统 is not flagged);
    4. 进度滞后 — 投资完成率 − 时间进度 < −behind_margin_pp (round.yml, default 20 points),
       from unrounded values; not judged when 年度计划投资 is 0.
    Sorted by unit (the order of round.yml, then any other unit), then by the number
    of reasons (most first), then by 投资完成率 (lowest first).

三色预警 (``project_lights``; the rules are in pipeline/indicators/early_warning.py)
    Every project of the two batches has a light (红/黄/绿), the reasons of the rules that
    fired and the rules that could not be judged and why; the 督办清单 carries them
    (预警 filled in its colour, 预警原因 beside it, 红/黄/绿 counted per unit on 汇总, every
    red and yellow project on 预警项目). Against the previous round (matched as below) the
    projects whose light got better or worse are counted.

Unit ranking (``unit_ranking``: 展示台 and 曝光台)
    Per reporting unit with at least one project and a non-zero annual plan:
    综合得分 = (min(开工率, 100) + min(投资完成率, 100)) / 2, both in %. Each rate is
    capped at 100 so over-completing the plan does not make up for projects not
    started. A unit with no project to start (all 续建 under start_rate_base new)
    is scored on 投资完成率 alone. Ties: higher 投资完成率, then larger annual plan.
    展示台 = the top BOARD_SIZE (3); 曝光台 = the bottom 3 of the units not on the
    展示台. Units without projects or plan are listed unranked, with the reason.
    With a previous round, each unit's rank there (ranked by the same rule on its
    data) and the change: 上升N位 / 下降N位 / 持平 (``with_rank_change``).

通报 candidates (``notify_list``)
    Units whose 投资完成率 trails 时间进度 by more than behind_margin_pp points
    (投资完成率 − 时间进度 < −behind_margin_pp): at risk of missing the annual target.
    With the amount needed to catch up with 时间进度 and to finish the annual plan.

Against the previous round (``rate_changes``, ``started_since``, ``not_started_both``)
    Projects are matched by 项目编号 where both rounds have one, else by 项目名称
    (full-width/half-width, spaces and brackets ignored). started_since: not
    started then, started now; not_started_both: not started in either round.
    rate_changes: 全区 and each unit, this round's and the previous round's 开工率
    and 投资完成率 and the change in points. No previous round: empty tables, and
    indicators.json says why.

Table columns
    track_list: unit, city, project_code, project_name, batch, is_key, industry,
        nature, responsible_unit, leader, annual_plan_wan, completed_wan,
        completion_rate_pct, vs_time_progress_pp, started, start_date, in_stats,
        not_started, zero_investment, not_in_stats, behind, reasons, warning,
        warning_reasons, warning_not_judged, file, row
    project_lights: unit, city, project_code, project_name, batch, is_key,
        responsible_unit, leader, annual_plan_wan, completed_wan, completion_rate_pct,
        vs_time_progress_pp, started, planned_start_date, start_date, in_stats, warning,
        warning_reasons, warning_not_judged, file, row (every project; red first in each unit)
    unit_ranking: rank, unit, unit_kind, projects, start_rate_pct,
        completion_rate_pct, vs_time_progress_pp, score, board, note, prev_rank,
        rank_change (places risen; negative = fallen), rank_trend (上升N位/下降N位/持平)
    notify_list: unit, unit_kind, projects, plan_yi, completed_yi,
        completion_rate_pct, vs_time_progress_pp, catch_up_yi, remaining_yi, reason
    rate_changes: unit, projects, prev_projects, start_rate_pct, prev_start_rate_pct,
        start_rate_change_pp, completion_rate_pct, prev_completion_rate_pct,
        completion_rate_change_pp, completed_yi, prev_completed_yi, completed_change_yi
    started_since, not_started_both: unit, project_code, project_name, batch, is_key,
        start_date, prev_completed_wan, annual_plan_wan, completed_wan,
        responsible_unit, leader
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import paths, schemas
from pipeline.conventions import conventions_of
from pipeline.excel import write_workbook
from pipeline.frames import in_order, is_true, positions
from pipeline.indicators import breakdowns as bd
from pipeline.indicators import early_warning as ew
from pipeline.indicators import formulas as fm
from pipeline.ingest import cleaning
from pipeline.rounds import Round, RoundError, load_round

SUPERVISION_FILE = paths.SUPERVISION
BOARD_SIZE = 3
SHOWCASE, EXPOSURE = "展示台", "曝光台"
REGION = "全区"

REASON_NOT_STARTED = "未开工"
REASON_ZERO = "已开工但累计完成投资为0，请核实是否真实开工"
REASON_NOT_IN_STATS = "已开工未入统，请及时入统"

TRACK_COLUMNS = ["unit", "city", "project_code", "project_name", "batch", "is_key", "industry", "nature",
                 "responsible_unit", "leader", "annual_plan_wan", "completed_wan", "completion_rate_pct",
                 "vs_time_progress_pp", "started", "start_date", "in_stats", "not_started", "zero_investment",
                 "not_in_stats", "behind", "reasons", "warning", "warning_reasons", "warning_not_judged", "file", "row"]
LIGHT_TABLE_COLUMNS = ["unit", "city", "project_code", "project_name", "batch", "is_key", "responsible_unit", "leader",
                       "annual_plan_wan", "completed_wan", "completion_rate_pct", "vs_time_progress_pp", "started",
                       "planned_start_date", "start_date", "in_stats", "warning", "warning_reasons",
                       "warning_not_judged", "file", "row"]
CHANGE_LIST_COLUMNS = ["unit", "project_code", "project_name", "batch", "is_key", "start_date", "prev_completed_wan",
                       "annual_plan_wan", "completed_wan", "responsible_unit", "leader"]


# =========================================================================== projects to track


def project_progress(projects: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """Every project with its city, amounts in 万元, 投资完成率, gap to time progress (unrounded) and 三色预警 light."""
    tp = fm.round_time_progress(round_)
    completed = projects["completed"].astype("float64")
    rates = [fm.completion_rate_pct(c, p) for c, p in zip(completed, projects["annual_plan"].astype("float64"))]
    gaps = [fm.vs_time_progress_pp(r, tp) for r in rates]
    data = projects.assign(
        city=fm.project_city(projects, fm.round_areas(round_)),
        annual_plan_wan=projects["annual_plan"].astype("float64"),
        completed_wan=completed,
        completion_rate_pct=pd.Series(rates, index=projects.index, dtype="float64"),
        vs_time_progress_pp=pd.Series(gaps, index=projects.index, dtype="float64"),
    )
    lights = ew.project_lights(data.assign(started=fm.flag(projects["started"])), round_.as_of, conventions_of(round_))
    return data.join(lights)


def project_lights(projects: pd.DataFrame, round_: Round, progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """三色预警 of every project (rules in pipeline/indicators/early_warning.py), in the order of the track list."""
    data = project_progress(projects, round_) if progress is None else progress
    data = data.assign(_unit=positions(data["unit"], round_.units),
                       _light=data["warning"].map(lambda light: -ew.SEVERITY.get(light, 0)))
    data = data.sort_values(["_unit", "unit", "_light", "completion_rate_pct", "project_name"], kind="stable",
                            na_position="last")
    return data.reindex(columns=LIGHT_TABLE_COLUMNS).reset_index(drop=True)


def track_list(projects: pd.DataFrame, round_: Round, progress: pd.DataFrame | None = None,
               keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """The projects to track one by one, each once with all its reasons (rules in the module docstring).

    keep: columns of project_progress kept beside TRACK_COLUMNS (the sheet of each row, for 数字来源.xlsx)."""
    margin = round_.behind_margin_pp
    data = project_progress(projects, round_) if progress is None else progress
    started = fm.flag(data["started"])
    in_stats_no = is_true(data["in_stats"].astype("boolean").eq(False))
    gaps = data["vs_time_progress_pp"]
    data = data.assign(
        not_started=~started,
        zero_investment=started & data["completed_wan"].fillna(0).eq(0),
        not_in_stats=started & in_stats_no,
        behind=gaps.notna() & (gaps < -margin),
    )
    flags = ["not_started", "zero_investment", "not_in_stats", "behind"]
    data = data[data[flags].any(axis=1)]
    conv = conventions_of(round_)
    data = data.assign(reasons=[_reasons(r, margin, conv) for r in data.itertuples()])
    data = data.assign(
        _unit=positions(data["unit"], round_.units),
        _n=-data[flags].sum(axis=1),
    ).sort_values(["_unit", "unit", "_n", "completion_rate_pct", "project_name"], kind="stable", na_position="last")
    out = data.reindex(columns=TRACK_COLUMNS + list(keep)).reset_index(drop=True)
    return out.astype({f: bool for f in flags})


def _reasons(row, margin: float, conv) -> str:
    reasons = []
    if row.not_started:
        reasons.append(REASON_NOT_STARTED)
    if row.zero_investment:
        reasons.append(REASON_ZERO)
    if row.not_in_stats:
        reasons.append(REASON_NOT_IN_STATS)
    if row.behind:
        reasons.append(f"投资完成率{conv.number(row.completion_rate_pct)}%，{conv.gap_text(row.vs_time_progress_pp)}"
                       f"（滞后超过{margin:g}个百分点）")
    return "；".join(reasons)


# =========================================================================== ranking and 通报


def composite_score(start_rate: float | None, completion_rate: float | None) -> float | None:
    """综合得分 = (min(开工率, 100) + min(投资完成率, 100)) / 2, in points out of 100.

    With only one of the two rates (no project to start, say), the score is that
    rate (capped at 100); with neither, None: the unit is not ranked.
    """
    rates = [min(r, 100.0) for r in (start_rate, completion_rate) if not fm.is_missing(r)]
    return sum(rates) / len(rates) if rates else None


def unit_ranking(projects: pd.DataFrame, round_: Round, by_unit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every unit of the round ranked by 综合得分, with 展示台 (top 3) and 曝光台 (bottom 3); see the module docstring.

    by_unit: bd.breakdown(projects, round_, "unit") when the caller has it already.
    """
    columns = ["rank", "unit", "unit_kind", "projects", "start_rate_pct", "completion_rate_pct",
               "vs_time_progress_pp", "score", "board", "note"]
    units = _unit_figures(projects, round_, by_unit)
    rows = []
    for r in units.itertuples():
        completion = None if pd.isna(r.completion_rate_pct) else r.completion_rate_pct
        start = None if pd.isna(r.start_rate_pct) else r.start_rate_pct
        score = composite_score(start, completion) if completion is not None else None
        if r.projects == 0:
            note = "无项目，不参与排名"
        elif completion is None:
            note = "年度计划投资为0，不参与排名"
        elif start is None:
            note = "无应开工项目，仅按投资完成率计分"
        else:
            note = ""
        rows.append({"unit": r.unit, "unit_kind": r.unit_kind, "projects": r.projects, "start_rate_pct": start,
                     "completion_rate_pct": completion, "vs_time_progress_pp": r.vs_time_progress_pp,
                     "score": score, "note": note, "_plan": r.plan_yi})
    frame = pd.DataFrame(rows, columns=[c for c in columns if c not in ("rank", "board")] + ["_plan"])
    ranked = frame[frame["score"].notna()].sort_values(["score", "completion_rate_pct", "_plan"], ascending=False,
                                                       kind="stable")
    unranked = frame[frame["score"].isna()]
    ranked = ranked.assign(rank=range(1, len(ranked) + 1))
    top = min(BOARD_SIZE, len(ranked))
    bottom = min(BOARD_SIZE, len(ranked) - top)
    board = [SHOWCASE] * top + [""] * (len(ranked) - top - bottom) + [EXPOSURE] * bottom
    ranked = ranked.assign(board=board)
    out = pd.concat([ranked, unranked.assign(board="")], ignore_index=True)
    out["rank"] = out["rank"].astype("Int64")
    return out[columns].pipe(bd.float_columns).astype({"score": "float64"})


RISEN, FALLEN, STEADY = "上升", "下降", "持平"


def rank_trend(rank, previous_rank) -> str:
    """上升N位 / 下降N位 / 持平 from this round's and the previous round's rank; "" when either is missing."""
    if rank is None or previous_rank is None or pd.isna(rank) or pd.isna(previous_rank):
        return ""
    change = int(previous_rank) - int(rank)
    return STEADY if change == 0 else f"{RISEN if change > 0 else FALLEN}{abs(change)}位"


def with_rank_change(ranking: pd.DataFrame, previous_ranking: pd.DataFrame | None) -> pd.DataFrame:
    """The ranking with prev_rank, rank_change (places risen, negative = fallen) and rank_trend (上升/下降/持平)."""
    if previous_ranking is None or previous_ranking.empty:
        prev = pd.Series(pd.NA, index=ranking.index, dtype="Int64")
    else:
        prev = ranking["unit"].map(dict(zip(previous_ranking["unit"], previous_ranking["rank"]))).astype("Int64")
    change = (prev - ranking["rank"]).astype("Int64")
    trend = [rank_trend(r, p) for r, p in zip(ranking["rank"], prev)]
    return ranking.assign(prev_rank=prev, rank_change=change, rank_trend=trend)


def notify_list(projects: pd.DataFrame, round_: Round, by_unit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Units whose 投资完成率 trails 时间进度 by more than behind_margin_pp points (通报 candidates).

    by_unit: bd.breakdown(projects, round_, "unit") when the caller has it already.
    """
    columns = ["unit", "unit_kind", "projects", "plan_yi", "completed_yi", "completion_rate_pct",
               "vs_time_progress_pp", "catch_up_yi", "remaining_yi", "reason"]
    tp = fm.round_time_progress(round_)
    conv = conventions_of(round_)
    margin = round_.behind_margin_pp
    units = _unit_figures(projects, round_, by_unit)
    behind = units[units["vs_time_progress_pp"].notna() & (units["vs_time_progress_pp"] < -margin)]
    behind = behind.sort_values("vs_time_progress_pp", kind="stable")
    out = behind.assign(
        catch_up_yi=behind["plan_yi"] * tp / 100 - behind["completed_yi"],
        remaining_yi=behind["plan_yi"] - behind["completed_yi"],
        reason=[f"投资完成率{conv.number(r)}%，{conv.gap_text(g)}（超过{margin:g}个百分点），有完不成年度目标任务的风险"
                for r, g in zip(behind["completion_rate_pct"], behind["vs_time_progress_pp"])],
    )
    return out.reindex(columns=columns).reset_index(drop=True).pipe(bd.float_columns)


def _unit_figures(projects: pd.DataFrame, round_: Round, by_unit: pd.DataFrame | None = None) -> pd.DataFrame:
    if by_unit is None:
        by_unit = bd.breakdown(projects, round_, "unit")
    return by_unit[by_unit["scope"] == fm.SCOPE_ALL].drop(columns="scope").reset_index(drop=True)


def finding_values(projects: pd.DataFrame, round_: Round, progress: pd.DataFrame | None = None,
                   track: pd.DataFrame | None = None, ranking: pd.DataFrame | None = None,
                   notify: pd.DataFrame | None = None) -> dict[str, Any]:
    """indicators.json keys track.*, ranking.*, notify.*, warning.*.

    progress, track, ranking, notify: project_progress, track_list, unit_ranking and notify_list when the caller
    has them already (the builder computes them once per round: pipeline/indicators/model.py)."""
    progress = project_progress(projects, round_) if progress is None else progress
    track = track_list(projects, round_, progress) if track is None else track
    if ranking is None or notify is None:
        by_unit = bd.breakdown(projects, round_, "unit")  # once, for the ranking and the 通报 list
        ranking = unit_ranking(projects, round_, by_unit) if ranking is None else ranking
        notify = notify_list(projects, round_, by_unit) if notify is None else notify
    out: dict[str, Any] = {
        "track.projects": len(track),
        "track.not_started": int(track["not_started"].sum()),
        "track.zero_investment": int(track["zero_investment"].sum()),
        "track.not_in_stats": int(track["not_in_stats"].sum()),
        "track.behind": int(track["behind"].sum()),
        "ranking.ranked_units": int(ranking["rank"].notna().sum()),
        "ranking.showcase": ranking.loc[ranking["board"] == SHOWCASE, "unit"].astype(str).tolist(),
        "ranking.exposure": ranking.loc[ranking["board"] == EXPOSURE, "unit"].astype(str).tolist(),
        "notify.count": len(notify),
        "notify.units": notify["unit"].astype(str).tolist(),
        **warning_values(progress, round_),
    }
    if projects.empty:
        why = fm.Missing("本轮未收到重大项目进展情况表")
        out.update({k: why for k in out})
    return out


def warning_values(progress: pd.DataFrame, round_: Round) -> dict[str, Any]:
    """warning.red / yellow / green (projects per light) and warning.by_unit ([{unit, red, yellow, green}])."""
    lights = progress["warning"]
    by_unit = ew.lights_by_unit(progress, round_.units)
    return {
        "warning.red": int((lights == ew.RED).sum()),
        "warning.yellow": int((lights == ew.YELLOW).sum()),
        "warning.green": int((lights == ew.GREEN).sum()),
        "warning.by_unit": [{k: (int(v) if k != "unit" else str(v)) for k, v in row.items()}
                            for row in by_unit.to_dict("records")],
    }


# =========================================================================== the previous round


@dataclass(frozen=True)
class Previous:
    """The previous round for comparisons: its id, its Round (when its round.yml is readable), its clean tables.

    note says why there is nothing to compare with (Chinese), when tables is None.
    """

    id: str | None
    round: Round | None = field(default=None, repr=False)
    tables: dict[str, pd.DataFrame] | None = field(default=None, repr=False)
    note: str | None = None

    @property
    def projects(self) -> pd.DataFrame | None:
        return None if self.tables is None else self.tables["projects"]


def load_previous(round_: Round, root: Path | None = None) -> Previous:
    """The previous round named in round.yml, from the clean tables its step 1 wrote (never cleaned here)."""
    prev_id = round_.previous
    if not prev_id:
        return Previous(None, note="round.yml 未设置上一轮（previous），本轮不作与上轮比较")
    tables = cleaning.cleaned_tables(prev_id, Path(root) if root else None)
    if tables is None:
        return Previous(prev_id, note=previous_missing_note(prev_id, root))
    try:
        prev_round = load_round(prev_id, Path(root) if root else None)
    except RoundError:
        prev_round = None  # only processed tables are left: compare without its metadata
    return Previous(prev_id, prev_round, tables)


def previous_missing_note(prev_id: str, root: Path | None = None) -> str:
    """Why there is nothing to compare with: the previous round is not there, or was not cleaned (Chinese)."""
    if paths.round_paths(prev_id, root).raw.is_dir():
        return (f"上一轮 {prev_id} 尚未清洗（data/processed/{prev_id}/ 中没有清洗表），本轮不作与上轮比较："
                f"请用 make report 运行本轮（会先清洗上一轮），或先运行 make report ROUND={prev_id}")
    return (f"找不到上一轮 {prev_id} 的数据（data/raw/{prev_id}/ 和 data/processed/{prev_id}/ 都不存在），"
            "本轮不作与上轮比较")


_key = schemas.round_key


def match_previous(projects: pd.DataFrame, prev_projects: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """This round's projects with the previous round's 是否开工 and 累计完成投资 (prev_started, prev_completed_wan),
    and any `extra` columns of prev_projects as prev_<name>.

    Matched by 项目编号 where both have one, else by 项目名称; unmatched projects have prev_started NA.
    """
    cur = projects.assign(_code=projects["project_code"].map(_key), _name=projects["project_name"].map(_key),
                          _i=range(len(projects)))
    prev = prev_projects.assign(_code=prev_projects["project_code"].map(_key),
                                _name=prev_projects["project_name"].map(_key))
    prev = prev[["_code", "_name", "started", "completed", *extra]].rename(
        columns={"started": "prev_started", "completed": "prev_completed_wan", **{c: f"prev_{c}" for c in extra}})
    by_code = cur[cur["_code"] != ""].merge(prev[prev["_code"] != ""].drop_duplicates("_code").drop(columns="_name"),
                                            on="_code", how="inner")
    rest = cur[~cur["_i"].isin(by_code["_i"])]
    by_name = rest.merge(prev[~prev["_code"].isin(by_code["_code"]) | (prev["_code"] == "")]
                         .drop_duplicates("_name").drop(columns="_code"), on="_name", how="inner")
    found = pd.concat([by_code, by_name], ignore_index=True)[["_i", "prev_started", "prev_completed_wan",
                                                              *(f"prev_{c}" for c in extra)]]
    out = cur.merge(found, on="_i", how="left").sort_values("_i").drop(columns=["_code", "_name", "_i"])
    out.index = projects.index
    return out.astype({"prev_started": "boolean", "prev_completed_wan": "float64"})


def _change_list(projects: pd.DataFrame, previous: Previous | None, now_started: bool,
                 matched: pd.DataFrame | None = None) -> pd.DataFrame:
    if previous is None or previous.projects is None or projects.empty:
        return pd.DataFrame(columns=CHANGE_LIST_COLUMNS).pipe(bd.float_columns)
    return _changes(match_previous(projects, previous.projects) if matched is None else matched, now_started)


def _changes(data: pd.DataFrame, now_started: bool) -> pd.DataFrame:
    """From match_previous: the projects not started at the previous round and (not) started now."""
    was_not = is_true(data["prev_started"].eq(False))
    now = fm.flag(data["started"]) if now_started else ~fm.flag(data["started"])
    data = data[was_not & now].assign(annual_plan_wan=lambda d: d["annual_plan"].astype("float64"),
                                      completed_wan=lambda d: d["completed"].astype("float64"))
    data = data.reindex(columns=CHANGE_LIST_COLUMNS)
    return data.sort_values(["unit", "project_name"], kind="stable").reset_index(drop=True)


def started_since(projects: pd.DataFrame, previous: Previous | None,
                  matched: pd.DataFrame | None = None) -> pd.DataFrame:
    """Projects not started at the previous round and started now. matched: match_previous (or matched_previous)
    of these projects when the caller has it already."""
    return _change_list(projects, previous, True, matched)


def not_started_both(projects: pd.DataFrame, previous: Previous | None,
                     matched: pd.DataFrame | None = None) -> pd.DataFrame:
    """Projects not started at the previous round and still not started now (matched: as for started_since)."""
    return _change_list(projects, previous, False, matched)


def rate_changes(projects: pd.DataFrame, round_: Round, previous: Previous | None,
                 by_unit: pd.DataFrame | None = None, prev_by_unit: pd.DataFrame | None = None) -> pd.DataFrame:
    """全区 and each unit: 开工率 and 投资完成率 this round and last, and the change in points.

    by_unit, prev_by_unit: the by-unit breakdowns of this round and the previous one when the caller has them."""
    columns = ["unit", "projects", "prev_projects", "start_rate_pct", "prev_start_rate_pct", "start_rate_change_pp",
               "completion_rate_pct", "prev_completion_rate_pct", "completion_rate_change_pp", "completed_yi",
               "prev_completed_yi", "completed_change_yi"]
    if previous is None or previous.projects is None:
        return pd.DataFrame(columns=columns).pipe(bd.float_columns)
    prev_round = previous_round_like(round_, previous)
    now = _with_region(projects, round_, by_unit)
    before = _with_region(previous.projects, prev_round, prev_by_unit).add_prefix("prev_")
    before = before.rename(columns={"prev_unit": "unit"})
    merged = now.merge(before, on="unit", how="outer")
    merged = in_order(merged, "unit", [REGION, *round_.units])
    merged["start_rate_change_pp"] = [fm.change_pp(a, b) for a, b in
                                      zip(merged["start_rate_pct"], merged["prev_start_rate_pct"])]
    merged["completion_rate_change_pp"] = [fm.change_pp(a, b) for a, b in
                                           zip(merged["completion_rate_pct"], merged["prev_completion_rate_pct"])]
    merged["completed_change_yi"] = merged["completed_yi"] - merged["prev_completed_yi"]
    return merged.reindex(columns=columns).reset_index(drop=True).pipe(bd.float_columns)


def _with_region(projects: pd.DataFrame, round_: Round, by_unit: pd.DataFrame | None = None) -> pd.DataFrame:
    tp = fm.round_time_progress(round_)
    region = {"unit": REGION, **bd.project_figures(projects, tp, round_.start_rate_base, round_.as_of)}
    units = _unit_figures(projects, round_, by_unit)
    keep = ["unit", "projects", "start_rate_pct", "completion_rate_pct", "completed_yi"]
    return pd.concat([pd.DataFrame([region])[keep], units[keep]], ignore_index=True)


def previous_round_like(round_: Round, previous: Previous) -> Round:
    """The previous round's own settings when its round.yml is readable, else this round's units and base."""
    return previous.round or round_


def change_values(projects: pd.DataFrame, round_: Round, previous: Previous | None,
                  ranking: pd.DataFrame | None = None, progress: pd.DataFrame | None = None,
                  matched: pd.DataFrame | None = None) -> dict[str, Any]:
    """indicators.json keys previous.* and change.*; all null, with the reason, when there is no previous round.

    ranking (with_rank_change), progress (project_progress) and matched (matched_previous): when the caller has
    them already."""
    keys = ["previous.round", "previous.as_of", "previous.batch.start_rate_pct", "previous.batch.completion_rate_pct",
            "previous.key.start_rate_pct", "previous.key.completion_rate_pct", "change.batch.start_rate_pp",
            "change.batch.completion_rate_pp", "change.batch.completed_yi", "change.key.start_rate_pp",
            "change.key.completion_rate_pp", "change.started_since", "change.not_started_both", "change.new_projects",
            "change.warning.improving", "change.warning.worsening", "change.ranking"]
    if previous is None or previous.projects is None:
        why = (previous.note if previous is not None and previous.note else "本轮未设置上一轮，不作与上轮比较")
        out = {k: fm.Missing(why) for k in keys}
        if previous is not None and previous.id:
            out["previous.round"] = previous.id
        return out
    prev_round = previous_round_like(round_, previous)
    prev_projects = previous.projects
    out: dict[str, Any] = {
        "previous.round": previous.id,
        "previous.as_of": fm.value_or_missing(previous.round and previous.round.as_of.isoformat(),
                                              f"上一轮 {previous.id} 的 round.yml 无法读取"),
    }
    tp_now, tp_prev = fm.round_time_progress(round_), fm.round_time_progress(prev_round)
    for prefix in ("batch", "key"):
        now_p = projects if prefix == "batch" else projects[fm.flag(projects["is_key"])]
        prev_p = prev_projects if prefix == "batch" else prev_projects[fm.flag(prev_projects["is_key"])]
        now = bd.project_figures(now_p, tp_now, round_.start_rate_base, round_.as_of)
        before = bd.project_figures(prev_p, tp_prev, prev_round.start_rate_base, prev_round.as_of)
        what = "重点项目" if prefix == "key" else "项目"
        out[f"previous.{prefix}.start_rate_pct"] = fm.value_or_missing(before["start_rate_pct"],
                                                                       f"上一轮没有应开工的{what}")
        out[f"previous.{prefix}.completion_rate_pct"] = fm.value_or_missing(before["completion_rate_pct"],
                                                                            f"上一轮{what}年度计划投资为0")
        out[f"change.{prefix}.start_rate_pp"] = fm.value_or_missing(
            fm.change_pp(now["start_rate_pct"], before["start_rate_pct"]), f"本轮或上一轮{what}开工率无法计算")
        out[f"change.{prefix}.completion_rate_pp"] = fm.value_or_missing(
            fm.change_pp(now["completion_rate_pct"], before["completion_rate_pct"]),
            f"本轮或上一轮{what}投资完成率无法计算")
        if prefix == "batch":
            out["change.batch.completed_yi"] = now["completed_yi"] - before["completed_yi"]
    if ranking is None:
        ranking = with_rank_change(unit_ranking(projects, round_), previous_ranking(previous, round_))
    out["change.ranking"] = rank_change_records(ranking)
    if projects.empty:
        out.update({"change.started_since": 0, "change.not_started_both": 0, "change.new_projects": 0,
                    "change.warning.improving": 0, "change.warning.worsening": 0})
        return out
    now_lights = (project_progress(projects, round_) if progress is None else progress)["warning"]
    matched = matched_previous(projects, round_, previous) if matched is None else matched
    out["change.started_since"] = len(_changes(matched, now_started=True))
    out["change.not_started_both"] = len(_changes(matched, now_started=False))
    out["change.new_projects"] = int(matched["prev_started"].isna().sum())
    improving, worsening = ew.light_changes(now_lights, matched["prev_warning"])
    out["change.warning.improving"], out["change.warning.worsening"] = improving, worsening
    return out


def matched_previous(projects: pd.DataFrame, round_: Round, previous: Previous) -> pd.DataFrame:
    """match_previous with the previous round's 三色预警 light (prev_warning): for started_since, not_started_both
    and the lights that got better or worse, matched once."""
    prev_lights = project_progress(previous.projects, previous_round_like(round_, previous))["warning"]
    return match_previous(projects, previous.projects.assign(warning=prev_lights), extra=("warning",))


def previous_ranking(previous: Previous | None, round_: Round,
                     by_unit: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The previous round's unit ranking (for 上升/下降/持平), or None without a previous round.

    by_unit: the previous round's by-unit breakdown when the caller has it."""
    if previous is None or previous.projects is None:
        return None
    return unit_ranking(previous.projects, previous_round_like(round_, previous), by_unit)


def rank_change_records(ranking: pd.DataFrame) -> list[dict[str, Any]]:
    """change.ranking: [{unit, rank, previous_rank, change, trend}] for the ranked units of this round."""
    rows = ranking[ranking["rank"].notna()]
    return [{"unit": str(r.unit), "rank": int(r.rank),
             "previous_rank": None if pd.isna(r.prev_rank) else int(r.prev_rank),
             "change": None if pd.isna(r.rank_change) else int(r.rank_change), "trend": r.rank_trend or None}
            for r in rows.itertuples()]


# =========================================================================== 督办清单.xlsx

SUPERVISION_COLUMNS = {
    "unit": "填报单位", "city": "所在市(基地)", "project_code": "项目编号", "project_name": "项目名称", "batch": "批次",
    "is_key": "是否重点项目", "responsible_unit": "责任单位", "leader": "包抓领导", "warning": "预警",
    "warning_text": "预警原因", "reasons": "督办原因",
    "annual_plan_wan": "年度计划投资(万元)", "completed_wan": "累计完成投资(万元)",
    "completion_rate_pct": "投资完成率(%)", "vs_time_progress_pp": "与时间进度差(百分点)",
    "started": "是否开工", "start_date": "开工时间", "in_stats": "是否入统",
    "file": "来源文件", "row": "行号",
}
SUMMARY_COLUMNS = ["单位", "督办项目数", "未开工", "已开工零投资", "已开工未入统", "投资进度滞后",
                   "红色预警", "黄色预警", "绿色"]
WARNED_SHEET = "预警项目"
LIGHT_FILLS = {ew.RED: ew.LIGHT_COLORS[ew.RED], ew.YELLOW: ew.LIGHT_COLORS[ew.YELLOW],
               ew.GREEN: ew.LIGHT_COLORS[ew.GREEN]}


def warning_text(frame: pd.DataFrame) -> pd.Series:
    """预警原因 as the workbook shows it: the rules that fired, then the rules not judged and why."""
    parts = frame[["warning_reasons", "warning_not_judged"]].astype("string").fillna("")
    return pd.Series(["；".join(p for p in pair if p) for pair in zip(parts.iloc[:, 0], parts.iloc[:, 1])],
                     index=frame.index, dtype=object)


def _readable(rows: pd.DataFrame, columns: dict[str, str], decimals: int) -> pd.DataFrame:
    """Rows for a sheet: rounded for reading (万元 to 2 decimals, rates to the round's decimals), Chinese headers,
    序号."""
    sheet = (rows.assign(warning_text=warning_text(rows))[list(columns)]
             .assign(annual_plan_wan=lambda d: d["annual_plan_wan"].round(2),
                     completed_wan=lambda d: d["completed_wan"].round(2),
                     completion_rate_pct=lambda d: d["completion_rate_pct"].round(decimals),
                     vs_time_progress_pp=lambda d: d["vs_time_progress_pp"].round(decimals))
             .rename(columns=columns))
    sheet.insert(0, "序号", range(1, len(sheet) + 1))
    return sheet.reset_index(drop=True)


def supervision_sheets(track: pd.DataFrame, round_: Round, lights: pd.DataFrame | None = None
                       ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The 督办清单 as sheets: 汇总 (one row per unit), 预警项目 (every red and yellow project), then one sheet per
    unit with its projects to track, units in round.yml order.

    lights: project_lights of every project (the 汇总 counts 红/黄/绿 over them); without it, over the track list.
    Figures are rounded for reading; the unrounded values are in track_list.parquet and project_lights.parquet.
    """
    conv = conventions_of(round_)
    name = conv.time_progress_name
    lights = track if lights is None else lights
    head = (f"{round_.title}督办清单（数据截至{round_.as_of:%Y年%m月%d日}，"
            f"{name}{conv.number(fm.round_time_progress(round_))}%，"
            f"投资完成率{conv.progress_words[1]}{name}超过{round_.behind_margin_pp:g}个百分点列为进度滞后；"
            f"预警：红、黄、绿，规则见“预警原因”）")
    units = list(dict.fromkeys([*(u for u in round_.units if u in set(lights["unit"].astype(str))),
                                *track["unit"].astype(str), *lights["unit"].astype(str)]))
    summary = pd.DataFrame([{
        "单位": unit,
        "督办项目数": int((track["unit"] == unit).sum()),
        "未开工": int(track.loc[track["unit"] == unit, "not_started"].sum()),
        "已开工零投资": int(track.loc[track["unit"] == unit, "zero_investment"].sum()),
        "已开工未入统": int(track.loc[track["unit"] == unit, "not_in_stats"].sum()),
        "投资进度滞后": int(track.loc[track["unit"] == unit, "behind"].sum()),
        **{label: int(((lights["unit"] == unit) & (lights["warning"] == light)).sum())
           for label, light in (("红色预警", ew.RED), ("黄色预警", ew.YELLOW), ("绿色", ew.GREEN))},
    } for unit in units], columns=SUMMARY_COLUMNS)
    columns = {k: v.replace("时间进度", name) for k, v in SUPERVISION_COLUMNS.items()}
    sheets = {"汇总": summary}
    notes = {"汇总": head if len(track) else head + "：本轮没有需要督办的项目"}
    warned = lights[is_true(lights["warning"].isin([ew.RED, ew.YELLOW]))]
    warned_columns = {k: v for k, v in columns.items() if k != "reasons"}
    sheets[WARNED_SHEET] = _readable(warned, warned_columns, conv.decimals)
    red, yellow = int((warned["warning"] == ew.RED).sum()), int((warned["warning"] == ew.YELLOW).sum())
    notes[WARNED_SHEET] = f"红色预警项目{red}个、黄色预警项目{yellow}个。{head}"
    for unit in dict.fromkeys(track["unit"].astype(str)):
        sheets[unit] = _readable(track[track["unit"] == unit], columns, conv.decimals)
        notes[unit] = f"{unit}：需逐一跟踪督办的项目{len(sheets[unit])}个。{head}"
    return sheets, notes


def write_supervision_list(track: pd.DataFrame, round_: Round, out_dir: Path,
                           lights: pd.DataFrame | None = None, *, background: bool = False) -> Path:
    """outputs/<round>/督办清单.xlsx: 汇总, 预警项目 and one sheet per unit, through excel_out.write_workbook;
    the 预警 cells filled red, yellow or green. background: written in the background (no later step reads it)."""
    sheets, notes = supervision_sheets(track, round_, lights)
    fills = {name: {"预警": LIGHT_FILLS} for name in sheets if name != "汇总"}
    return write_workbook(Path(out_dir) / SUPERVISION_FILE, sheets, notes=notes, fills=fills, background=background)
