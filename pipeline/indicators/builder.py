"""Step 2 in one call: ``build`` computes every figure of indicators.json, every report table and the source of
every number from one ``model.Basis`` — each project's progress, the by-unit breakdown and the previous round's
ranking computed once — and returns them as one ``model.Indicators``.

Notebook 02 (and tests/inprocess.py) call it once, show its parts and save them: ``sources.save_sources`` writes
indicators.json (with its ``sources``) and 数字来源.xlsx, ``assembly.save_tables`` the report tables that the
figures (step 3), the report and report.docx (step 4) read.
"""
from __future__ import annotations

import pandas as pd

from pipeline.indicators import assembly, model, sources
from pipeline.indicators.findings import Previous
from pipeline.ingest.quality import Quality
from pipeline.rounds import Round


def build(round_: Round, tables: dict[str, pd.DataFrame], previous: Previous | None = None,
          data_quality: Quality | None = None, applied: pd.DataFrame | None = None) -> model.Indicators:
    """Everything step 2 gives for a round.

    tables: the clean tables (cleaning.load_clean_tables); previous: findings.load_previous (or None);
    data_quality: quality.load_quality (None: the data_quality.* figures are null, with the reason);
    applied: the corrections applied in cleaning (corrections.load_applied; None when not read).
    """
    basis = model.basis_of(round_, tables["projects"], previous)
    values = assembly.compute_indicators(round_, tables, previous, data_quality, applied, basis)
    report = assembly.report_tables(round_, tables, previous, basis)
    found, sheets = sources.compute_sources(values, round_, tables, report, basis)
    return model.Indicators(values=values, tables=report, sources=found, sheets=sheets)
