"""builder.build: step 2's figures, report tables and sources from one model, each shared frame computed once.

The round is test_indicators' small round of real xlsx and csv returns with its previous round, cleaned and saved
as step 1 does; step 2 runs as notebook 02 runs it (tests/inprocess.compute).
"""
from __future__ import annotations

import json
import sys
from collections import Counter

import pandas as pd
import pytest
from inprocess import clean, compute
from test_indicators import UNITS, build_full_round

from pipeline import indicators as ind
from pipeline import paths, rounds
from pipeline.indicators import breakdowns, builder, findings, sources
from pipeline.ingest import cleaning, corrections, quality

ROUND, PREVIOUS = "2021-12", "2021-09"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("builder")
    build_full_round(root)
    clean(root, PREVIOUS)
    clean(root, ROUND)
    return root


def counted(monkeypatch, module, name: str) -> list[tuple]:
    """Record every call of module.name, wherever the pipeline has bound the function (``from x import name``
    too); returns the list the calls' arguments are appended to."""
    original = getattr(module, name)
    calls: list[tuple] = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    for loaded in [m for n, m in sys.modules.items() if n.startswith("pipeline")]:
        if getattr(loaded, name, None) is original:
            monkeypatch.setattr(loaded, name, wrapper)
    return calls


def per_round(calls: list[tuple], by=None) -> Counter:
    """How many calls were made with each round's projects (told apart by the Round passed with them)."""
    return Counter(args[1].id if by is None else (args[1].id, args[2]) for args in calls
                   if by is None or args[2] == by)


def test_step_2_computes_progress_the_by_unit_breakdown_and_the_previous_ranking_once(root, monkeypatch):
    progress = counted(monkeypatch, findings, "project_progress")
    breakdown = counted(monkeypatch, breakdowns, "breakdown")
    ranking = counted(monkeypatch, findings, "unit_ranking")
    matches = counted(monkeypatch, findings, "match_previous")
    values = compute(root, ROUND)
    assert values["previous.round"] == PREVIOUS and values["change.ranking"]  # the previous round was compared
    assert per_round(progress) == {ROUND: 1, PREVIOUS: 1}  # this round's, and the previous lights
    assert per_round(breakdown, "unit") == {(ROUND, "unit"): 1, (PREVIOUS, "unit"): 1}
    assert Counter(args[2] for args in breakdown if args[1].id == ROUND) == dict.fromkeys(breakdowns.BREAKDOWNS, 1)
    assert per_round(ranking) == {ROUND: 1, PREVIOUS: 1}  # this round's ranking and the previous round's
    assert len(matches) == 1


def test_the_old_separate_calls_did_recompute(root, monkeypatch):
    """The counting itself can fail: compute_indicators and report_tables each on their own compute the shared
    frames again."""
    progress = counted(monkeypatch, findings, "project_progress")
    where = paths.RoundPaths(root, ROUND)
    round_ = rounds.load_round(ROUND, root)
    tables = cleaning.load_clean_tables(where.processed)
    ind.compute_indicators(round_, tables, findings.load_previous(round_, root))
    ind.report_tables(round_, tables, findings.load_previous(round_, root))
    assert per_round(progress) == {ROUND: 2, PREVIOUS: 2}


def test_build_gives_what_the_separate_computations_give(root):
    where = paths.RoundPaths(root, ROUND)
    round_ = rounds.load_round(ROUND, root)
    tables = cleaning.load_clean_tables(where.processed)
    previous = findings.load_previous(round_, root)
    data_quality = quality.load_quality(where.processed, round_.units)
    applied = corrections.load_applied(where.processed)
    built = builder.build(round_, tables, previous, data_quality, applied)
    alone = ind.compute_indicators(round_, tables, previous, data_quality, applied)
    assert json.dumps(built.values, ensure_ascii=False) == json.dumps(alone, ensure_ascii=False)
    assert built.notes == alone["notes"] and built.notes
    report = ind.report_tables(round_, tables, previous)
    assert list(built.tables) == list(report) and set(report) == set(ind.TABLE_NAMES)
    for name, frame in report.items():
        pd.testing.assert_frame_equal(built.tables[name], frame, check_exact=True, obj=name)
    found, sheets = sources.compute_sources(alone, round_, tables, report)
    assert json.dumps(built.sources, ensure_ascii=False) == json.dumps(found, ensure_ascii=False)
    assert list(built.sheets) == list(sheets)
    for name, frame in sheets.items():
        pd.testing.assert_frame_equal(built.sheets[name], frame, check_exact=True, obj=name)
    assert built.tables["unit_ranking"]["prev_rank"].notna().any()  # ranked against the previous round
    assert built.sheets["督办项目"]["工作表"].notna().all()  # the track list kept each row's sheet
    assert "sheet" not in built.tables["track_list"]  # …which the report table leaves out


def test_step_2_saves_indicators_json_with_sources_and_the_tables_it_built(root):
    values = compute(root, ROUND)
    where = paths.RoundPaths(root, ROUND)
    saved = json.loads((where.outputs / paths.INDICATORS).read_text(encoding="utf-8"))
    assert {k: saved[k] for k in values} == json.loads(json.dumps(values))
    assert saved[sources.SOURCES_KEY]["batch.completion_rate_pct"]["value"] == values["batch.completion_rate_pct"]
    assert (where.outputs / sources.SOURCES_FILE).is_file()
    loaded = ind.load_report_tables(where.processed)
    assert loaded["by_unit"]["unit"].tolist()[: len(UNITS)] == list(UNITS)
    assert loaded["not_started_both"]["project_name"].tolist() == ["丙项目"]
