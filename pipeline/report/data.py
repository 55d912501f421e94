"""The data a report is made from: the round, indicators.json, step 2's tables (checked against their declaration),
the cleaning records and the figures' folder, read once (``load_report_data``)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import indicators as ind
from pipeline import paths
from pipeline.figures import charts as figures
from pipeline.indicators import tables as declared_tables
from pipeline.ingest import artifacts, quality
from pipeline.ingest import corrections as fixes
from pipeline.report.numbers import ReportError
from pipeline.report.summaries import (
    analyst_notices,
    batches_with_projects,
    corrections_applied,
    coverage_lines,
    files_not_read,
    industry_rates,
    most_red,
    open_items_table,
    quality_totals,
    quarantine_by_reason,
    returns_by_unit,
    start_problems,
    track_summary,
    warning_summary,
)
from pipeline.rounds import Round, load_round


@dataclass(frozen=True)
class ReportData:
    """Everything the report reads: the round, indicators.json, the tables of step 2, the cleaning records, the
    figures."""

    round: Round
    values: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    ledger: pd.DataFrame
    problems: pd.DataFrame
    quarantine: pd.DataFrame
    outputs_dir: Path
    data_quality: quality.Quality | None = None  # what the figures leave out (None: assessed from ledger and problems)
    corrections: pd.DataFrame | None = None  # applied in cleaning (corrections.APPLIED_COLUMNS); None: none

    def __repr__(self) -> str:  # what the notebook shows
        keys = [k for k in self.values if k not in ("notes", "sources", "gaps")]
        nulls = sum(self.values[k] is None for k in keys)
        keys = len(keys)
        return (f"轮次 {self.round.id}：{self.round.title}（数据截至 {self.round.as_of:%Y-%m-%d}）；"
                f"指标 {keys} 项，其中无法计算 {nulls} 项；表 {len(self.tables)} 张；"
                f"台账 {len(self.ledger)} 行，隔离行 {len(self.quarantine)} 行")

    @functools.cached_property
    def summaries(self) -> dict[str, Any]:
        """The tables and totals the parts share (督办 summary, 报送情况, 隔离行, …): computed once, on first use."""
        track = self.tables["track_list"]
        return {
            "track_summary": track_summary(track, self.round.units), "start_problems": start_problems(track),
            "quality": quality_totals(self.ledger, self.round.units),
            "returns": returns_by_unit(self.ledger, self.problems, self.round.units),
            "quarantined": quarantine_by_reason(self.quarantine, self.problems),
            "not_read": files_not_read(self.ledger),
            "analyst_notices": analyst_notices(self.problems),
            "corrections": corrections_applied(self.corrections),
            "batches": batches_with_projects(self.tables["by_batch"]),
            "dq": self.quality,
            "dq_findings": quality.findings(self.quality),
            "dq_coverage": coverage_lines(self.values),
            "warnings": warning_summary(self.tables["warning_by_unit"]),
            "most_red": most_red(self.tables["warning_by_unit"]),
            "industries": industry_rates(self.tables.get("by_industry")),
            "fai_months": figures.fai_months(self.tables.get("fai"), self.round.as_of.month),
            "fai_regions": figures.fai_regions(self.tables["fai_by_region"],
                                               figures.unit_order(self.tables["unit_ranking"], self.round.units)),
            "open_by_reason": open_items_table(self.values),
        }

    @functools.cached_property
    def quality(self) -> quality.Quality:
        if self.data_quality is not None:
            return self.data_quality
        return quality.assess(self.ledger, self.problems, self.quarantine, {}, self.round.units)


def load_report_data(round_id: str, root: Path | None = None) -> ReportData:
    """Read what steps 1–3 left for the round (indicators.json, tables, ledger, problems, quarantine, figures)."""
    root = Path(root) if root else None
    round_ = load_round(round_id, root)
    processed = paths.processed_round_dir(round_id, root)
    outputs = paths.outputs_round_dir(round_id, root)
    try:
        values = ind.load_indicators(outputs)
        tables = {**ind.load_report_tables(processed), "fai": figures.load_fai(processed)}
        ledger = artifacts.load_ledger(processed)  # step 1's artifacts, each read by its one loader
        problems = artifacts.load_problems(processed)
        quarantine = artifacts.load_quarantine(processed)
        data_quality = quality.load_quality(processed, round_.units)
        applied = fixes.load_applied(processed)
    except FileNotFoundError as exc:
        raise ReportError(f"找不到 {exc.filename}：请先运行第1步（清洗报表）和第2步（计算指标），"
                          f"例如 make report ROUND={round_id}。") from None
    except artifacts.ArtifactError as exc:
        raise ReportError(str(exc)) from None
    except declared_tables.TableError as exc:
        raise ReportError(f"{exc}请重新运行第2步（计算指标），例如 make report ROUND={round_id}。") from None
    return ReportData(round_, values, tables, ledger, problems, quarantine, outputs, data_quality, applied)
