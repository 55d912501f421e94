"""A row's state is declared once: while a file is read, on its dict (pipeline/ingest/records.py, ROW_STATE); when
it leaves the file's cleaning and while the round is settled, as the typed columns of rowtable.ROW_SCHEMA.

The hand-built corpus (tests/layouts.py, the fixtures) and a round with corrections and a twice-reported project
are cleaned; the round's rows that reach the tables have exactly the declared columns and types, and the state
read as columns has the declared dtypes. A row with an undeclared private key cannot leave its file's cleaning.
"""
from __future__ import annotations

import layouts
import pandas as pd
import pyarrow as pa
import pytest
from office import project_row, project_sheet, write_round, write_xlsx
from test_columnwise import _write_corpus

from pipeline import paths, rounds, schemas
from pipeline.ingest import cleaning, records, rowtable


def _rows_reaching_the_tables(round_: rounds.Round, monkeypatch) -> tuple[pd.DataFrame, cleaning.RoundResult]:
    seen: list[pd.DataFrame] = []
    real = cleaning.assemble

    def spy(rows, *args):
        seen.append(rows.copy())
        return real(rows, *args)

    monkeypatch.setattr(cleaning, "assemble", spy)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, processes=1)
    (rows,) = seen
    return rows, result


def _declared(rows: pd.DataFrame) -> bool:
    """The round's frame has the declared columns, in order, each of which converts to its declared type."""
    assert list(rows.columns) == rowtable.ROW_SCHEMA.names
    table = pa.Table.from_pandas(rows, schema=rowtable.ROW_SCHEMA, preserve_index=False)
    return rowtable.check(table).num_rows == len(rows)


def test_the_corpus_rows_carry_only_declared_state(tmp_path, monkeypatch):
    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    rows, result = _rows_reaching_the_tables(rounds.load_round("r", tmp_path), monkeypatch)
    assert len(rows) == result.ledger["data_rows"].sum() > 100
    assert _declared(rows)
    # the corpus exercises the state: quarantined copies, hidden sheets, the cells as written
    assert rows["reasons"].map(bool).any() and rows["issues"].map(bool).any() and rows["duplicate"].any()
    assert rows["hidden_sheet"].any()
    assert (rows["source_cells"].list.len() > 0).all() and (rows["source_header"] != "[]").all()
    state = rowtable.state_of(rows)
    assert list(state.columns) == list(records.STATE_COLUMNS)
    assert {c: str(t) for c, t in state.dtypes.items()} == {c: d for c, (d, _) in records.STATE_COLUMNS.items()}
    assert state["quarantined"].sum() == len(result.quarantine)
    assert state["duplicate"].sum() == result.quarantine["duplicate"].sum() > 0


def test_a_sheet_in_doubt_and_a_deleted_row_are_declared_state(tmp_path, monkeypatch):
    raw = paths.RoundPaths(tmp_path, "r").raw
    # amounts a hundredth of a plausible project: 亿元 written under 万元 (the whole sheet is in doubt)
    grid, merges = project_sheet([project_row(k, f"P{k}", f"项目{k}", total=1.5 + k, plan=1, done=1)
                                  for k in range(1, 6)])
    write_xlsx(raw / "银川市.xlsx", {"项目": grid}, {"项目": merges})
    write_round(raw, ["银川市"], as_of="2021-11-30")
    (raw / "corrections.csv").write_text("文件,工作表,行号,列,原值,修正值,依据\n银川市.xlsx,项目,6,,,删除行,单位来电\n",
                                         encoding="utf-8")
    rows, result = _rows_reaching_the_tables(rounds.load_round("r", tmp_path), monkeypatch)
    assert _declared(rows)
    assert rows["unit_doubted"].all()  # every row of the sheet whose unit is in doubt
    assert all(any(a["column"] == "total_investment" and a["money"] for a in aside) for aside in rows["aside"])
    assert all("total_investment" in bad for bad in rows["bad"]) and (rows["set_aside_wan"] > 0).all()
    assert (result.problems["code"] == "implausible_unit").any()
    deleted = rows[rows["row"] == 6]  # title, unit line, two header rows: data from row 5
    assert len(deleted) == 1 and deleted["reasons"].iloc[0] and len(result.quarantine) == 1


def test_a_row_with_an_undeclared_key_cannot_leave_its_file():
    row = records.new_record(schemas.RETURN_KINDS["projects"])
    row.update(unit="银川市", file="银川市.xlsx", sheet="项目", row=5, return_kind="projects", project_name="甲")
    assert rowtable.to_table([row]).num_rows == 1
    for stray in ({"_scratch": 1}, {"not_a_column": "x"}, {"_bad_total_investment": True}, {"region": "银川市"}):
        with pytest.raises(rowtable.ShapeError):
            rowtable.to_table([{**row, **stray}])
    with pytest.raises(rowtable.ShapeError):
        rowtable.check(rowtable.to_table([row]).drop_columns(["bad"]))


def test_a_file_table_comes_back_from_its_buffer_as_written():
    """What a worker sends and the cache keeps: every declared type, a value set aside, a bad mark."""
    import datetime

    row = records.new_record(schemas.RETURN_KINDS["projects"])
    row.update(unit="银川市", file="银川市.xlsx", sheet="项目", row=5, return_kind="projects", project_name="甲",
               total_investment=12.5, is_key=True, start_date=datetime.date(2021, 3, 1), extra='{"备注": "x"}')
    records.remember_aside(row, "annual_plan", 3.0, True, "年度计划(万元)")
    records.quarantine(row, "重复", duplicate=True)
    fai = records.new_record(schemas.RETURN_KINDS["fai"])
    fai.update(unit="银川市", file="银川市.xlsx", sheet="固投", row=4, return_kind="fai", region="银川市", month=3)
    table = rowtable.from_ipc(rowtable.to_ipc([row, fai]))
    assert table.column("month").to_pylist() == [None, 3]
    assert table.column("start_date").to_pylist() == [datetime.date(2021, 3, 1), None]
    assert table.column("aside").to_pylist()[0] == [{"column": "annual_plan", "written": "年度计划(万元)",
                                                      "money": True, "amount": 3.0}]
    assert table.column("bad").to_pylist() == [["annual_plan"], []]
    assert table.column("set_aside_wan").to_pylist() == [3.0, 0.0]
    assert table.column("reasons").to_pylist() == [["重复"], []]
    assert table.column("duplicate").to_pylist() == [True, False]


def test_the_quarantine_original_is_made_from_the_cells_that_crossed(tmp_path, monkeypatch):
    """The cells a file's table carries give back, for every row, the `original` made from the row as read."""
    from pipeline.ingest.rows import original

    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    pairs = []
    real = rowtable.to_table

    def spy(rows):
        table = real(rows)
        pairs.extend(zip([original(r) for r in rows], table.column("source_cells").to_pylist(),
                         table.column("source_header").to_pylist()))
        return table

    monkeypatch.setattr(rowtable, "to_table", spy)
    cleaning.clean_round(rounds.load_round("r", tmp_path), schemas.load_aliases(), echo=lambda *_: None, processes=1)
    assert len(pairs) > 100
    assert all(rowtable.original_of(cells, header) == expected for expected, cells, header in pairs)
