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

Keys: declared once, as data, in ``keys.csv`` (section, key, meaning, unit; see keys.py), which
docs/indicators.md's tables are generated from.

Tables
======
``report_tables`` returns the report tables, by name; ``save_tables`` writes each to
``data/processed/<round>/<name>.parquet`` (English column names) and ``load_report_tables`` reads them back, each
checked against its declaration. The tables — their columns, dtypes, Chinese labels and display kinds — are
declared once, as data, in ``tables.csv`` and ``table_columns.csv`` (see tables.py), which docs/indicators.md's
list of tables and ``labelled``'s Chinese headers are generated from. NaN in a rate column means "cannot be
computed".
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import conventions as conv_
from pipeline import schemas
from pipeline.frames import is_true
from pipeline.indicators import coverage, early_warning, findings, model
from pipeline.indicators.breakdowns import (
    _num,
    attraction_by_industry,
    attraction_by_unit,
    fai_by_region,
    indicator_by_unit,
    major_works_status,
    practices_by_section,
    project_figures,
)
from pipeline.indicators.formulas import (
    BASE,
    CITY,
    DEPARTMENT,
    INDICATORS_FILE,
    PRACTICE_KEYS,
    REGION_TOTAL_NAMES,
    Missing,
    completion_rate_pct,
    flag,
    is_missing,
    require_planned_start,
    round_time_progress,
    unit_kind,
    value_or_missing,
    wan_to_yi,
)
from pipeline.indicators.keys import KEYS, SECTIONS  # noqa: F401  (re-exported)
from pipeline.indicators.other_returns import attraction_values, major_values, unit_indicator_values
from pipeline.indicators.tables import SAVED as TABLE_NAMES
from pipeline.indicators.tables import check as check_table
from pipeline.indicators.tables import labelled  # noqa: F401  (re-exported)
from pipeline.indicators.tables import typed as typed_table
from pipeline.ingest import quality
from pipeline.rounds import Round


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
        "batch.funds_rate_pct": value_or_missing(funds_rate_pct(in_place, planned),
                                                 "计划到位资金合计为0，不计算资金到位率"),
    }


def completed_on_time(projects: pd.DataFrame) -> pd.Series:
    """按期竣工: 竣工时间 on or before 计划竣工时间; with no 竣工时间, 是否竣工 = 是 counts (the return does not
    say when)."""
    planned = pd.to_datetime(projects["planned_completion_date"])
    done_at = pd.to_datetime(projects["completion_date"])
    dated = done_at.notna() & is_true(done_at.le(planned))
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
        why = "重大项目进展情况表中没有“计划竣工时间”列（或该列全部为空），不计算按期竣工率"
        return {k: Missing(why) for k in keys}
    if projects["is_completed"].isna().all() and projects["completion_date"].isna().all():
        return {k: Missing("重大项目进展情况表中没有“是否竣工”或“竣工时间”列，不计算按期竣工率") for k in keys}
    due = is_true(pd.to_datetime(projects["planned_completion_date"]).le(pd.Timestamp(as_of)))
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



def compute_indicators(round_: Round, tables: dict[str, pd.DataFrame], previous=None,
                       data_quality: quality.Quality | None = None,
                       corrections: pd.DataFrame | None = None, basis: model.Basis | None = None) -> dict[str, Any]:
    """Every indicators.json key for a round, unrounded; null values carry their reason in ``notes``.

    tables: the clean tables (cleaning.load_clean_tables); previous: findings.Previous (or None);
    data_quality: what the figures leave out (quality.load_quality), for the data_quality.* keys;
    corrections: the corrections applied in cleaning (corrections.load_applied), None when not read;
    basis: model.basis_of(round_, projects, previous) when the caller has it (builder.build shares one).
    """
    projects = tables["projects"]
    basis = model.basis_of(round_, projects, previous) if basis is None else basis
    parts = [
        meta_values(round_),
        fai_values(tables["fai"], round_),
        project_values(projects, round_),
        practice_values(tables["practices"], round_),
        unit_indicator_values(tables["indicators"]),
        attraction_values(tables["attraction"], tables["indicators"], round_),
        major_values(tables["major_works"], round_),
        findings.finding_values(projects, round_, basis.progress, basis.track, basis.ranking, basis.notify),
        findings.change_values(projects, round_, previous, basis.ranking, basis.progress, basis.matched),
        quality_key_values(data_quality),
        correction_values(corrections),
    ]
    values: dict[str, Any] = {"data_quality.partial_keys": []}
    notes: dict[str, str] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, Missing):
                values[key], notes[key] = None, value.reason
            else:
                values[key] = _plain(value)
    gaps = covered(values, notes, round_, tables, data_quality)
    missing = [k for k in KEYS if k not in values]
    extra = [k for k in values if k not in KEYS]
    if missing or extra:  # the documented key list and the computation must agree
        raise AssertionError(f"indicators.json keys out of step with KEYS: missing {missing}, undocumented {extra}")
    return {**{k: values[k] for k in KEYS}, "notes": notes, "gaps": gaps}


def covered(values: dict[str, Any], notes: dict[str, str], round_: Round, tables: dict[str, pd.DataFrame],
            data_quality: quality.Quality | None) -> dict[str, list]:
    """Coverage (coverage.py): null the figures no return fed, list and note the partial ones, and say the data
    is complete only when no figure is partial or missing for a reason in the returns. The gaps per partial key
    are returned for the report's caveats."""
    q = data_quality
    found = coverage.sources(tables, q.header_map if q else None, q.missing_units if q else (),
                             q.rejected if q else None, q.ledger if q else None)
    done = coverage.apply(values, notes, round_.start_rate_base, found)
    values["data_quality.partial_keys"] = done.partial
    if values.get("data_quality.complete") and (done.partial or done.nulled):
        values["data_quality.complete"] = False
    return done.gaps


def quality_key_values(data_quality: quality.Quality | None) -> dict[str, Any]:
    """The data_quality.* keys from pipeline/ingest/quality.py; all Missing when no cleaning record was given."""
    if data_quality is None:
        keys = [k for k in KEYS if k.startswith("data_quality.")
                and k not in ("data_quality.corrections", "data_quality.partial_keys")]
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


def report_tables(round_: Round, tables: dict[str, pd.DataFrame], previous=None,
                  basis: model.Basis | None = None) -> dict[str, pd.DataFrame]:
    """Every table notebook 2 shows and the report stage reads, by file name (see the module docstring).

    basis: model.basis_of(round_, projects, previous) when the caller has it (builder.build shares one)."""
    projects = tables["projects"]
    basis = model.basis_of(round_, projects, previous) if basis is None else basis
    out = {f"by_{by}": frame for by, frame in basis.breakdowns.items()}
    out.update({
        "fai_by_region": fai_by_region(tables["fai"], round_),
        "indicator_by_unit": indicator_by_unit(tables["indicators"], round_.units),
        "attraction_by_unit": attraction_by_unit(tables["attraction"], round_),
        "attraction_by_industry": attraction_by_industry(tables["attraction"]),
        "major_works_status": major_works_status(tables["major_works"], round_),
        "practices_by_section": practices_by_section(tables["practices"], round_.units),
        "track_list": basis.track.drop(columns=list(model.TRACK_KEEP)),
        "project_lights": findings.project_lights(projects, round_, basis.progress),
        "warning_by_unit": early_warning.lights_by_unit(basis.progress, round_.units),
        "unit_ranking": basis.ranking,
        "notify_list": basis.notify,
        "rate_changes": findings.rate_changes(projects, round_, previous, basis.by_unit, basis.prev_by_unit),
        "started_since": findings.started_since(projects, previous, basis.matched),
        "not_started_both": findings.not_started_both(projects, previous, basis.matched),
    })
    return out


def save_tables(report: dict[str, pd.DataFrame], processed_dir: Path) -> list[Path]:
    """Write each report table to data/processed/<round>/<name>.parquet."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in report.items():
        if name in schemas.RETURN_KINDS:  # never overwrite a clean table
            raise ValueError(f"report table {name!r} would overwrite the clean table of the same name")
        path = processed_dir / f"{name}.parquet"
        typed_table(name, frame).to_parquet(path, index=False)
        written.append(path)
    return written


def load_report_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The saved report tables, for notebooks 3 and 4, each checked against its declaration (tables.py)."""
    return {name: check_table(name, pd.read_parquet(Path(processed_dir) / f"{name}.parquet"), "读取")
            for name in TABLE_NAMES}


# =========================================================================== display in the notebook

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
    return conv.gap_text(None if is_missing(pp) else float(pp))


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
    return pd.DataFrame([{"报表": schemas.RETURN_KINDS[k].label if k in schemas.RETURN_KINDS else k,
                          "表": k, "行数": len(v)}
                         for k, v in tables.items()])
