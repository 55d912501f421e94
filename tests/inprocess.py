"""Steps 1–4 of the chain in this process, calling what the notebooks call, in their order (without papermill,
which costs seconds per step): for tests that run many small rounds."""
from __future__ import annotations

from pathlib import Path

from pipeline import indicators, paths, rounds, schemas
from pipeline.figures import charts as figures
from pipeline.indicators import builder, findings, sources
from pipeline.ingest import cleaning, corrections, feedback, quality
from pipeline.report import render as report


def clean(root: Path, round_id: str):
    """Step 1 (01_clean): the round's returns to clean tables, 退回修改清单 and the run summary."""
    where = paths.RoundPaths(Path(root), round_id)
    round_ = rounds.load_round(round_id, where.root)
    result = cleaning.clean_round(round_, schemas.load_aliases(where.aliases), echo=lambda *_: None, processes=1)
    cleaning.save_clean(result, where.processed)
    feedback.write_feedback(result, round_, where.outputs)
    feedback.save_run_summary(result, where.summary("01_clean"))
    return result


def compute(root: Path, round_id: str) -> dict:
    """Step 2 (02_indicators): indicators.json (with its sources), 数字来源.xlsx and the report tables."""
    where = paths.RoundPaths(Path(root), round_id)
    round_ = rounds.load_round(round_id, where.root)
    tables = cleaning.load_clean_tables(where.processed)
    previous = findings.load_previous(round_, where.root)
    data_quality = quality.load_quality(where.processed, round_.units)
    built = builder.build(round_, tables, previous, data_quality, corrections.load_applied(where.processed))
    sources.save_sources(built, where.outputs)
    indicators.save_tables(built.tables, where.processed)
    return built.values


def draw(root: Path, round_id: str) -> None:
    """Step 3 (03_figures): every chart, drawn in this process."""
    where = paths.RoundPaths(Path(root), round_id)
    figures.apply_theme()
    figures.draw_and_save(figures.load_figure_inputs(round_id, where.root), where.outputs, processes=1)


def render(root: Path, round_id: str) -> str:
    """Step 4 (04_report) without the Word and PDF copies: every part of the report as HTML, joined."""
    data = report.load_report_data(round_id, Path(root))
    return "\n".join(report.render_part(data, name) for name in report.PARTS)


def run(root: Path, round_id: str, draw_figures: bool = True) -> tuple[dict, str]:
    """Steps 1–4; draw_figures=False keeps the charts already in outputs/<round>/figures/ (drawn by an earlier run
    of the same round), for tests that change nothing a chart shows beyond what step 2 already checks."""
    clean(root, round_id)
    values = compute(root, round_id)
    if draw_figures:
        draw(root, round_id)
    return values, render(root, round_id)
