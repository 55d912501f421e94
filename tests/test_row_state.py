"""A row's state while ingest carries it is declared once (pipeline/ingest/records.py): nothing else rides on a row.

The hand-built corpus (tests/layouts.py, the fixtures) and a round with corrections and a twice-reported project
are cleaned; every private key on every row that reaches the tables must be declared in ROW_STATE (or be a
`_bad_<column>` mark of a schema column), and the state read as columns has the declared dtypes.
"""
from __future__ import annotations

import layouts
from office import project_row, project_sheet, write_round, write_xlsx
from test_columnwise import _write_corpus

from pipeline import paths, rounds, schemas
from pipeline.ingest import cleaning, records


def _rows_reaching_the_tables(round_: rounds.Round, monkeypatch) -> tuple[list[dict], cleaning.RoundResult]:
    seen: list[dict] = []
    real = cleaning.assemble

    def spy(rows, *args):
        seen.extend(rows)
        return real(rows, *args)

    monkeypatch.setattr(cleaning, "assemble", spy)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, processes=1)
    return seen, result


def _undeclared(rows: list[dict]) -> set[str]:
    columns = {c.name for kind in schemas.RETURN_KINDS.values() for c in kind.columns}
    return {key for row in rows for key in row if key.startswith("_") and key not in records.STATE_KEYS
            and not (key.startswith(records.BAD) and key[len(records.BAD):] in columns)}


def test_the_corpus_rows_carry_only_declared_state(tmp_path, monkeypatch):
    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    rows, result = _rows_reaching_the_tables(rounds.load_round("r", tmp_path), monkeypatch)
    assert len(rows) == result.ledger["data_rows"].sum() > 100
    assert not _undeclared(rows)
    used = {key for row in rows for key in row if key in records.STATE_KEYS}
    # the corpus exercises the state: quarantined copies, hidden sheets
    assert {"_reasons", "_issues", "_set_aside_wan", "_duplicate", "_hidden_sheet", "_source"} <= used
    state = records.state_frame(rows)
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
    assert not _undeclared(rows)
    assert all(records.unit_doubted(r) for r in rows)  # every row of the sheet whose unit is in doubt
    assert {"_unit_doubted", "_aside"} <= {key for row in rows for key in row if key in records.STATE_KEYS}
    assert (result.problems["code"] == "implausible_unit").any()
    deleted = [r for r in rows if r["row"] == 6]  # title, unit line, two header rows: data from row 5
    assert len(deleted) == 1 and records.is_quarantined(deleted[0]) and len(result.quarantine) == 1
