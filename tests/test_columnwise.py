"""Column-by-column parsing changes no output: every round cleaned both ways gives the same tables and problems.

sheet.COLUMNWISE = False sends every cell through its cell parser one by one (the old path); True reads
whole columns (pipeline/ingest/columnwise.py). The rounds compared: the bundled sample rounds, every layout
of the hand-built corpus (tests/layouts.py) together in one round, the fixtures, and a sheet of values
chosen to fall off the fast path (text around numbers, infinities, booleans, dates in number columns …).
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import layouts
import pandas as pd
import pytest
from office import write_round, write_xlsx

from pipeline import paths, rounds, schemas
from pipeline.ingest import cleaning, columnwise, parsing, sheet
from pipeline.ingest.rows import memo_parser

FIXTURES = Path(__file__).parent / "fixtures"


def clean_both_ways(round_: rounds.Round, monkeypatch,
                    aliases=None) -> tuple[cleaning.RoundResult, cleaning.RoundResult]:
    aliases = aliases or schemas.load_aliases()
    monkeypatch.setattr(sheet, "COLUMNWISE", False)
    per_cell = cleaning.clean_round(round_, aliases, echo=lambda *_: None)
    monkeypatch.setattr(sheet, "COLUMNWISE", True)
    by_column = cleaning.clean_round(round_, aliases, echo=lambda *_: None)
    return per_cell, by_column


def assert_same_result(a: cleaning.RoundResult, b: cleaning.RoundResult) -> None:
    """Every clean table, the quarantine, every problem (text, row, value, order), the ledger and the header map."""
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    for frame in ("quarantine", "problems", "ledger", "header_map", "corrections"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame), check_exact=True, obj=frame)
    assert a.missing_units == b.missing_units


@pytest.mark.parametrize("round_id", ["2021-12", "2021-09"])
def test_the_bundled_rounds_clean_the_same_column_by_column(monkeypatch, round_id):
    per_cell, by_column = clean_both_ways(rounds.load_round(round_id), monkeypatch)
    assert sum(len(t) for t in per_cell.tables.values()) > 100 and len(per_cell.problems) > 0
    assert_same_result(per_cell, by_column)


def _write_corpus(raw: Path) -> None:
    """Every layout of tests/layouts.py in a folder of its own, in one round."""
    for name, write in sorted(layouts.PROJECT_LAYOUTS.items()):
        write(raw / name)
    for name in ("hidden_stale_sheet", "corrected_resend", "formulas", "fai_percent_cells",
                 "indicators_this_and_last_year", "started_with_dash"):
        getattr(layouts, name)(raw / name)
    for fixture in FIXTURES.glob("*.xlsx"):
        shutil.copy2(fixture, raw / fixture.name)


def test_the_hand_built_corpus_cleans_the_same_column_by_column(tmp_path, monkeypatch):
    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    per_cell, by_column = clean_both_ways(rounds.load_round("r", tmp_path), monkeypatch)
    assert per_cell.ledger["data_rows"].sum() > 100 and (per_cell.problems["code"] == "unreadable").any()
    assert_same_result(per_cell, by_column)


# Cells a plain-number fast path must not read: each one takes the cell parser's word for it.
AWKWARD = ["1,234.5", "１２３４", "12.5%", "约500", "500万", float("inf"), float("-inf"), True, False, 7, -3,
           dt.datetime(2021, 3, 15), "—", "无", " 88 ", "\u200b66", "1e3", "nan", "", None, 0.0, -0.0, 1e300, "是"]


def test_awkward_cells_in_every_column_type_clean_the_same(tmp_path, monkeypatch):
    header = ["序号", "项目名称", "批次", "总投资", "年度计划投资（亿元）", "累计完成投资", "是否开工", "开工时间",
              "建设性质"]
    rows = [["单位：千元"], header]
    for k, value in enumerate(AWKWARD):
        shifted = AWKWARD[(k + 5) % len(AWKWARD)]
        rows.append([k + 1, f"项目{k}", value if k % 3 else "第一批", value, shifted, 1200.5 + k, value, shifted,
                     value])
    raw = paths.RoundPaths(tmp_path, "r").raw
    write_xlsx(raw / "银川市.xlsx", {"项目": rows})
    write_round(raw, ["银川市"], as_of="2021-11-30")
    per_cell, by_column = clean_both_ways(rounds.load_round("r", tmp_path), monkeypatch)
    assert (per_cell.problems["code"] == "bad_money").sum() >= 5
    assert_same_result(per_cell, by_column)


def test_a_money_column_reads_plain_numbers_as_the_cell_parser_does():
    values = [1.5, None, float("nan"), 2.0, "3", float("inf"), True, 10, "—", 0.1]
    parse = memo_parser(schemas.RETURN_KINDS["projects"].column("total_investment"), "亿元")
    got = columnwise.parse_column(values, schemas.MONEY, "亿元", parse)
    want = [parsing.parse_money(v, "亿元") for v in values]
    assert [g if g.__class__ is parsing.Parsed else parsing.Parsed(g) for g in got] == want
    assert got[0] == 15_000.0 and got[9] == 0.1 * 10_000  # the same IEEE product as the cell parser's
