"""The model of step 2: what it computes once per round (``Basis``) and what it gives (``Indicators``).

Several figures, tables and sources of step 2 rest on the same few frames: each project's progress (its 投资完成率,
gap to 时间进度, city and 三色预警 light), the by-unit breakdown (the ranking, the 通报 list and the comparison with
the previous round read it) and the previous round's ranking. ``basis_of`` computes each of them once;
``pipeline/indicators/builder.py`` hands the one ``Basis`` to indicators.json's figures (assembly.compute_indicators),
the report tables (assembly.report_tables) and 数字来源.xlsx (sources.compute_sources), and returns one
``Indicators``, which notebook 02 shows and saves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.indicators import breakdowns as bd
from pipeline.indicators import findings
from pipeline.indicators.formulas import require_planned_start
from pipeline.rounds import Round

TRACK_KEEP = ("sheet",)  # the track list keeps each row's sheet, for 数字来源.xlsx (dropped in the report table)


@dataclass(frozen=True)
class Basis:
    """What several figures, tables and sources share, each computed once per round (``basis_of``)."""

    progress: pd.DataFrame  # findings.project_progress: every project with its rates, city and light
    breakdowns: dict[str, pd.DataFrame]  # bd.breakdown by batch, unit, city, industry and nature (bd.BREAKDOWNS)
    track: pd.DataFrame  # findings.track_list, with TRACK_KEEP
    ranking: pd.DataFrame  # findings.unit_ranking, with the change since the previous round (with_rank_change)
    notify: pd.DataFrame  # findings.notify_list
    prev_by_unit: pd.DataFrame | None  # the previous round's by-unit breakdown (None without a previous round)
    matched: pd.DataFrame | None  # findings.matched_previous (None without a previous round or projects)

    @property
    def by_unit(self) -> pd.DataFrame:
        return self.breakdowns["unit"]


def basis_of(round_: Round, projects: pd.DataFrame, previous: findings.Previous | None = None) -> Basis:
    """Each project's progress, the breakdowns, the track list, this round's and the previous round's ranking, the
    通报 list and the match with the previous round's projects: each computed once."""
    require_planned_start(projects, round_)
    progress = findings.project_progress(projects, round_)
    breakdowns = {by: bd.breakdown(projects, round_, by) for by in bd.BREAKDOWNS}
    by_unit = breakdowns["unit"]
    prev_by_unit = prev_ranking = matched = None
    if previous is not None and previous.projects is not None:
        prev_by_unit = bd.breakdown(previous.projects, findings.previous_round_like(round_, previous), "unit")
        prev_ranking = findings.previous_ranking(previous, round_, prev_by_unit)
        if not projects.empty:
            matched = findings.matched_previous(projects, round_, previous)
    return Basis(
        progress=progress,
        breakdowns=breakdowns,
        track=findings.track_list(projects, round_, progress, keep=TRACK_KEEP),
        ranking=findings.with_rank_change(findings.unit_ranking(projects, round_, by_unit), prev_ranking),
        notify=findings.notify_list(projects, round_, by_unit),
        prev_by_unit=prev_by_unit,
        matched=matched,
    )


@dataclass(frozen=True)
class Indicators:
    """Everything step 2 gives for a round (builder.build).

    values: indicators.json without its sources — every key of keys.csv, ``notes`` (why a value is null) and
    ``gaps`` (what a partial figure leaves out); tables: every report table by name (saved to data/processed/<轮次>/
    for the figures and the report); sources: indicators.json's ``sources`` (each number's formula, inputs and rows);
    sheets: the sheets of 数字来源.xlsx, the rows behind the figures.
    """

    values: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    sources: dict[str, dict]
    sheets: dict[str, pd.DataFrame]

    @property
    def notes(self) -> dict[str, str]:
        return self.values["notes"]
