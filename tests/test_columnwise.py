"""Data cells are read a column at a time (pipeline/ingest/columnwise.py), the only way cleaning reads them.

What holds that path to account, now that the old one (every cell through its parser, one by one) is gone:
- every column cleaning reads, over the hand-built corpus (tests/layouts.py), the fixtures and the bundled
  sample rounds, gives cell for cell what the column's own cell parser gives (the same value, of the same
  type and sign, or the same problem);
- a sheet of cells chosen to fall off the fast path (text around numbers, infinities, booleans, dates in
  number columns …) cleans to the values and problems written below by hand;
- the whole sample rounds are compared with their committed outputs by tests/test_golden_round.py.
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
from pipeline.ingest import cleaning, columnwise, parsing
from pipeline.ingest.rows import memo_parser

FIXTURES = Path(__file__).parent / "fixtures"


def _as_parsed(result) -> parsing.Parsed:
    return result if result.__class__ is parsing.Parsed else parsing.Parsed(result)


def assert_same_result(a: cleaning.RoundResult, b: cleaning.RoundResult) -> None:
    """Every clean table, the quarantine, every problem (text, row, value, order), the ledger and the header map.

    Shared with the tests that must change nothing but the time (the cache, files cleaned side by side)."""
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    for frame in ("quarantine", "problems", "ledger", "header_map", "corrections"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame), check_exact=True, obj=frame)
    assert a.missing_units == b.missing_units


@pytest.fixture
def columns_checked(monkeypatch) -> list[int]:
    """Check every column cleaning parses against its cell parser, cell by cell; counts the cells checked."""
    real = columnwise.parse_column
    checked = [0]

    def parse_column(values, type_, unit, parse):
        got = real(values, type_, unit, parse)
        assert len(got) == len(values)
        for value, result in zip(values, got):
            want = parse(value)
            # repr: the same value of the same type (1 is not 1.0, -0.0 is not 0.0), or the same problem and fix
            assert repr(_as_parsed(result)) == repr(want), (type_, unit, value)
        checked[0] += len(values)
        return got

    monkeypatch.setattr(columnwise, "parse_column", parse_column)
    return checked


def _clean(round_: rounds.Round) -> cleaning.RoundResult:
    # one process: the check above is patched into this one
    return cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, processes=1)


@pytest.mark.parametrize("round_id", ["2021-12", "2021-09"])
def test_every_column_of_the_bundled_rounds_reads_as_its_cell_parser(columns_checked, round_id):
    result = _clean(rounds.load_round(round_id))
    assert sum(len(t) for t in result.tables.values()) > 100 and columns_checked[0] > 5_000


def _write_corpus(raw: Path) -> None:
    """Every layout of tests/layouts.py in a folder of its own, in one round."""
    for name, write in sorted(layouts.PROJECT_LAYOUTS.items()):
        write(raw / name)
    for name in ("hidden_stale_sheet", "corrected_resend", "formulas", "fai_percent_cells",
                 "indicators_this_and_last_year", "started_with_dash"):
        getattr(layouts, name)(raw / name)
    for fixture in FIXTURES.glob("*.xlsx"):
        shutil.copy2(fixture, raw / fixture.name)


def test_every_column_of_the_hand_built_corpus_reads_as_its_cell_parser(tmp_path, columns_checked):
    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    result = _clean(rounds.load_round("r", tmp_path))
    assert result.ledger["data_rows"].sum() > 100 and (result.problems["code"] == "unreadable").any()
    assert columns_checked[0] > 1_000


# Cells a plain-number fast path must not read: each one takes the cell parser's word for it.
AWKWARD = ["1,234.5", "１２３４", "12.5%", "约500", "500万", float("inf"), float("-inf"), True, False, 7, -3,
           dt.datetime(2021, 3, 15), "—", "无", " 88 ", "\u200b66", "1e3", "nan", "", None, 0.0, -0.0, 1e300, "是"]

# What each of them is in a 总投资 column of a sheet in 千元, written by hand, in AWKWARD's order: the amount in
# 万元 (a tenth of it), None for a cell read as empty, or the problem's code (the amount is then left out).
# An xlsx cannot hold an infinity: those two cells arrive empty.
TOTAL_IN_QIANYUAN = [123.45, 123.4, "bad_money", "bad_money", "bad_money", None, None, "bad_money",
                     "bad_money", 0.7, "negative_amount", "bad_money", None, None, 8.8, 6.6, 100.0, None, None, None,
                     0.0, -0.0, 1e299, "bad_money"]
# And in a 是否开工 column, by position in AWKWARD: yes, no, empty (a required column: required_empty) or not a
# yes/no (bad_bool).
STARTED = {7: True, 8: False, 23: True, 20: False, 21: False, 12: "required_empty", 13: "required_empty",
           18: "required_empty", 19: "required_empty", 0: "bad_bool", 3: "bad_bool", 9: "bad_bool"}


def test_awkward_cells_clean_to_the_values_written_by_hand(tmp_path):
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
    result = cleaning.clean_round(rounds.load_round("r", tmp_path), schemas.load_aliases(), echo=lambda *_: None)
    table = result.tables["projects"].set_index("row")
    assert len(table) == len(AWKWARD) and result.quarantine.empty  # every row kept: a name is all a row needs
    codes = result.problems.groupby(["row", "column"])["code"].agg(set)
    for k, value in enumerate(AWKWARD):
        row = k + 3
        # 累计完成投资 holds plain numbers: 千元 to 万元 on the fast path, the same IEEE product as the cell parser
        assert table.loc[row, "completed"] == (1200.5 + k) * 0.1
        want = TOTAL_IN_QIANYUAN[k]
        got = table.loc[row, "total_investment"]
        if isinstance(want, str):
            assert pd_isna(got) and want in codes.get((row, "总投资"), set()), (value, got)
        elif want is None:
            assert pd_isna(got) and (row, "总投资") not in codes, (value, got)
        else:
            assert got == pytest.approx(want, rel=1e-12) and (row, "总投资") not in codes, (value, got)
            assert str(got) == str(want) or want != 0.0  # -0.0 keeps its sign
        if k in STARTED:
            want = STARTED[k]
            got = table.loc[row, "started"]
            if isinstance(want, str):
                assert pd_isna(got) and want in codes.get((row, "是否开工"), set()), (value, got)
            else:
                assert got == want and (row, "是否开工") not in codes, (value, got)
    assert (result.problems["code"] == "invisible_characters").sum() == 1  # the zero-width space, told once


def pd_isna(value) -> bool:
    return bool(pd.isna(value))


def test_a_money_column_reads_plain_numbers_as_the_cell_parser_does():
    values = [1.5, None, float("nan"), 2.0, "3", float("inf"), True, 10, "—", 0.1]
    parse = memo_parser(schemas.RETURN_KINDS["projects"].column("total_investment"), "亿元")
    got = columnwise.parse_column(values, schemas.MONEY, "亿元", parse)
    want = [parsing.parse_money(v, "亿元") for v in values]
    assert [_as_parsed(g) for g in got] == want
    assert got[0] == 15_000.0 and got[9] == 0.1 * 10_000  # the same IEEE product as the cell parser's


@pytest.mark.parametrize("type_", [schemas.MONEY, schemas.NUMBER])
def test_whole_numbers_as_calamine_gives_them_read_as_the_cell_parser_does(type_):
    """calamine gives a whole number as an int: read over the column, a float as the cell parser makes it; an int
    beyond a float, and a bool, still through the cell parser."""
    column = schemas.RETURN_KINDS["projects"].column("total_investment" if type_ == schemas.MONEY else "seq")
    parse = memo_parser(column, "千元") if type_ == schemas.MONEY else parsing.parse_number
    cell = (lambda v: parsing.parse_money(v, "千元")) if type_ == schemas.MONEY else parsing.parse_number
    for values in ([1997, -3, 0, 2**60 + 1, 7.25, None, False, "12"], [10**400, 5, True], [3, 4]):
        got = columnwise.parse_column(values, type_, "千元", parse)
        assert [_as_parsed(g) for g in got] == [cell(v) for v in values]
        assert all(g.__class__ is float for g, v in zip(got, values) if v.__class__ is int and abs(v) < 2**100)
