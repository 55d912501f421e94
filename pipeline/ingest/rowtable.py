"""A file's rows, and the round's, as one typed table whose columns are declared once (ROW_SCHEMA).

A worker cleans one file with its rows as dicts (records.py), then hands them on as this table, an Arrow IPC
buffer (to_ipc), which is also what the per-file cache keeps; the parent settles the round on the files' tables
put together (round_frame): revisions, dedup, plausibility, the doubts, the clean tables and the ledger are
computed from its columns. The columns, in order:

- provenance: unit, file, sheet, row, return_kind;
- every return kind's schema columns (schemas.RETURN_KINDS), with the Arrow type of the dtype declared on
  `schemas.Column` (SCHEMA_TYPES; a row of another kind leaves them null), and `extra`;
- the row state (records.ROW_STATE) as typed columns (STATE_FIELDS).
"""
from __future__ import annotations

import itertools
import json
import operator
from typing import Any

import pandas as pd
import pyarrow as pa

from pipeline import schemas
from pipeline.ingest import records as rec
from pipeline.ingest.headers import row_texts

# The Arrow type of each schema column type (schemas.Column.type).
SCHEMA_TYPES = {schemas.TEXT: pa.string(), schemas.CHOICE: pa.string(), schemas.SEQ: pa.string(),
                schemas.MONEY: pa.float64(), schemas.NUMBER: pa.float64(), schemas.BOOL: pa.bool_(),
                schemas.DATE: pa.date32(), schemas.MONTH: pa.int64()}

PROVENANCE_FIELDS = (pa.field("unit", pa.string()), pa.field("file", pa.string(), nullable=False),
                     pa.field("sheet", pa.string(), nullable=False), pa.field("row", pa.int64(), nullable=False),
                     pa.field("return_kind", pa.string(), nullable=False))

ASIDE = pa.struct([("column", pa.string()), ("written", pa.string()), ("money", pa.bool_()),
                   ("amount", pa.float64())])

# The row state as columns: (field, the ROW_STATE key it carries or None, meaning).
STATE_FIELDS = (
    (pa.field("reasons", pa.list_(pa.string()), nullable=False), "_reasons",
     "why the row is quarantined (none: kept)"),
    (pa.field("issues", pa.list_(pa.string()), nullable=False), "_issues", "what is wrong with its cells"),
    (pa.field("set_aside_wan", pa.float64(), nullable=False), "_set_aside_wan",
     "the amount (万元) of its cells left out of every sum"),
    (pa.field("aside", pa.list_(ASIDE), nullable=False), "_aside",
     "the values set aside: column, header as written, whether money, and the amount when money"),
    (pa.field("duplicate", pa.bool_(), nullable=False), "_duplicate", "quarantined as a copy counted elsewhere"),
    (pa.field("unit_doubted", pa.bool_(), nullable=False), "_unit_doubted", "every amount set aside"),
    (pa.field("hidden_sheet", pa.bool_(), nullable=False), "_hidden_sheet", "read from a hidden sheet"),
    (pa.field("source_cells", pa.list_(pa.string()), nullable=False), "_source",
     "the row's cells as the unit sees them (headers.cell_text), one per column of its header"),
    (pa.field("source_header", pa.dictionary(pa.int32(), pa.string()), nullable=False), "_source",
     "its header's columns as written, a JSON list (one value per sheet): with the cells, the quarantine's "
     "`original` (original_of)"),
    (pa.field("bad", pa.list_(pa.string()), nullable=False), "_bad",
     "the columns whose cell was unreadable or set aside (records.mark_bad)"),
)


def _schema_columns() -> dict[str, pa.DataType]:
    columns: dict[str, pa.DataType] = {}
    for kind in schemas.RETURN_KINDS.values():
        for column in kind.columns:
            type_ = SCHEMA_TYPES[column.type]
            if columns.setdefault(column.name, type_) != type_:
                raise TypeError(f"column {column.name} is declared with two types")
    return columns


SCHEMA_COLUMNS = _schema_columns()
ROW_SCHEMA = pa.schema([*PROVENANCE_FIELDS, *(pa.field(n, t) for n, t in SCHEMA_COLUMNS.items()),
                        pa.field("extra", pa.string()), *(f for f, _, _ in STATE_FIELDS)])
_PLAIN = [f.name for f in PROVENANCE_FIELDS] + [*SCHEMA_COLUMNS, "extra"]
_KNOWN = frozenset(_PLAIN) | rec.STATE_KEYS


class ShapeError(TypeError):
    """A row or a table is not of the declared shape (a bug in cleaning, never the user's doing)."""


def check(table: pa.Table) -> pa.Table:
    """The table, when it has the declared columns and types; ShapeError otherwise."""
    if not table.schema.equals(ROW_SCHEMA):
        raise ShapeError(f"not the declared row table: {table.schema}")
    return table


def to_table(records: list[dict]) -> pa.Table:
    """A file's records as the declared table, in their order (ShapeError on an undeclared key)."""
    n = len(records)
    kinds = {r["return_kind"] for r in records}
    filled = {c.name for k in kinds if k in schemas.RETURN_KINDS for c in schemas.RETURN_KINDS[k].columns}
    # a column of no kind in the file is null throughout: a key that is neither declared nor a column of a kind
    # in the file would be lost, and is refused
    allowed = _KNOWN - (SCHEMA_COLUMNS.keys() - filled)
    unknown = set().union(*(r.keys() - allowed for r in records))
    if unknown:
        raise ShapeError(f"undeclared keys on a row: {sorted(unknown)}")
    columns = _plain_columns(records, filled)
    columns += [[r["_reasons"] for r in records], [r["_issues"] for r in records],
                [r["_set_aside_wan"] for r in records], [_aside(r) if "_aside" in r else [] for r in records],
                [bool(r.get("_duplicate")) for r in records], [bool(r.get("_unit_doubted")) for r in records],
                [bool(r.get(rec.HIDDEN_SHEET)) for r in records], *_sources(records),
                [r.get("_bad", ()) for r in records]]
    return pa.Table.from_arrays([pa.nulls(n, f.type) if c is None else c if isinstance(c, pa.Array)
                                 else pa.array(c, type=f.type)
                                 for c, f in zip(columns, ROW_SCHEMA)], schema=ROW_SCHEMA)


def _plain_columns(records: list[dict], filled: set[str]) -> list[list | None]:
    """The provenance, schema and `extra` columns, None for a column no row can fill. Rows of one kind carry every
    column of their kind (records.new_record): they are read a row at a time and turned round in C."""
    wanted = [c for c in _PLAIN if c in filled or c not in SCHEMA_COLUMNS]
    try:
        found = dict(zip(wanted, zip(*map(operator.itemgetter(*wanted), records))))
        if records:
            return [list(found[c]) if c in found else None for c in _PLAIN]
    except KeyError:  # rows of several kinds: each column read on its own
        pass
    return [[r.get(c) for r in records] if c in filled or c not in SCHEMA_COLUMNS else None for c in _PLAIN]


def _aside(record: dict) -> list[dict[str, Any]]:
    return [{"column": name, "written": written, "money": money, "amount": value if money else None}
            for name, (value, money, written) in record.get("_aside", {}).items()]


def _sources(records: list[dict]) -> tuple[pa.Array, list[str]]:
    """Each row's cells as the unit sees them, and its header's written names (a JSON list, made once per header):
    the quarantine's `original` is made from them only for the rows that end there (original_of). The cells of
    every row are picked and turned to text in one pass, then cut into rows by their headers' widths."""
    picked, widths, headers, written = [], [], [], {}
    for record in records:
        raw, header = record.get("_source") or ([], None)
        if header is None:
            widths.append(0)
            headers.append("[]")
            continue
        known = written.get(id(header))
        if known is None:  # (the header is kept alive with it, so that its id is not reused)
            indices = [c.index for c in header.columns]
            known = written[id(header)] = (header, json.dumps([c.written for c in header.columns], ensure_ascii=False),
                                           indices, max(indices, default=-1),
                                           operator.itemgetter(*indices) if len(indices) > 1 else None)
        _, names, indices, last, pick = known
        if pick is not None and last < len(raw):
            picked.extend(pick(raw))
        else:
            picked.extend(raw[i] if i < len(raw) else "" for i in indices)
        widths.append(len(indices))
        headers.append(names)
    offsets = pa.array(itertools.accumulate(widths, initial=0), type=pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.array(row_texts(picked), type=pa.string())), headers


def original_of(cells: list[str], header: str) -> str:
    """The row as the unit wrote it, header by header (rows.original): what the quarantine keeps."""
    return json.dumps(dict(zip(json.loads(header), cells)), ensure_ascii=False)


def to_ipc(records: list[dict]) -> bytes:
    """A file's records as an Arrow IPC stream: what a worker sends back and the cache keeps."""
    sink = pa.BufferOutputStream()
    table = to_table(records)
    with pa.ipc.new_stream(sink, ROW_SCHEMA) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_ipc(buffer: bytes) -> pa.Table:
    """The table a worker sent or the cache kept, checked against the declared shape."""
    return check(pa.ipc.open_stream(pa.py_buffer(buffer)).read_all())


LIST_STATE = ("reasons", "issues", "aside", "bad")


def round_frame(tables: list[pa.Table]) -> pd.DataFrame:
    """The files' tables, in order, as one frame the round is settled on: the schema columns as pandas gives them
    (a missing number NaN, a missing text or date None, dates as datetime.date), the list state as Python lists
    (the round-level steps add to them); the cells as written stay in Arrow (only a quarantined row's are read)."""
    table = pa.concat_tables(tables) if tables else ROW_SCHEMA.empty_table()
    frame = table.drop_columns([*LIST_STATE, "source_cells"]).to_pandas(date_as_object=True)
    for name in LIST_STATE:
        frame[name] = table.column(name).to_pylist()
    frame["source_cells"] = pd.Series(pd.arrays.ArrowExtensionArray(table.column("source_cells")), index=frame.index)
    return frame[ROW_SCHEMA.names]


_INTS = frozenset(f.name for f in ROW_SCHEMA if pa.types.is_integer(f.type))


def values(frame: pd.DataFrame, name: str) -> list:
    """A column of the round's frame as Python values, as the cleaning wrote them: None where missing (not NaN),
    an integer column's values as int."""
    found = [None if v is None or v != v else v for v in frame[name].tolist()]
    return [None if v is None else int(v) for v in found] if name in _INTS else found


def quarantine(frame: pd.DataFrame, positions, reason: str, duplicate: bool = False) -> None:
    """Give the rows at these positions a reason to be quarantined (records.quarantine, on the round's frame)."""
    reasons = frame["reasons"]
    for i in positions:
        reasons.iat[i].append(reason)
    if duplicate:
        frame.iloc[list(positions), frame.columns.get_loc("duplicate")] = True


def quarantined(frame: pd.DataFrame) -> pd.Series:
    return frame["reasons"].map(bool)


def leave_out_money(frame: pd.DataFrame, i: int, issue: str) -> None:
    """Set aside every amount of the row at position i, whose money unit is in doubt (checks.leave_out_money, on
    the round's frame), and tell the unit why."""
    kind = schemas.RETURN_KINDS[frame["return_kind"].iat[i]]
    for name in rec.rules_of(kind).money:
        j = frame.columns.get_loc(name)
        value = frame.iat[i, j]
        if value is None or value != value:
            continue
        value = float(value)
        frame.iat[i, frame.columns.get_loc("set_aside_wan")] += value
        frame["aside"].iat[i].append({"column": name, "written": kind.column(name).label, "money": True,
                                      "amount": value})
        frame.iat[i, j] = float("nan")
        if name not in frame["bad"].iat[i]:
            frame["bad"].iat[i].append(name)
    frame.iat[i, frame.columns.get_loc("unit_doubted")] = True
    frame["issues"].iat[i].append(issue)


def money_total(frame: pd.DataFrame) -> pd.Series:
    """Each row's amounts still counted (records.money_total): its kind's money columns, summed in their order."""
    total = pd.Series(0.0, index=frame.index)
    for name, kind in schemas.RETURN_KINDS.items():
        mine = frame["return_kind"] == name
        if not mine.any():
            continue
        acc = pd.Series(0.0, index=frame.index[mine])
        for column in rec.rules_of(kind).money:
            acc = acc + frame.loc[mine, column].astype(float).fillna(0.0)
        total[mine] = acc
    return total


def state_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The row state of the round's frame as records.STATE_COLUMNS, in its order."""
    state = pd.DataFrame({
        **{c: frame[c] for c in ("unit", "file", "sheet", "row", "return_kind")},
        "quarantined": quarantined(frame),
        "reasons": ["；".join(r) for r in frame["reasons"]],
        "issues": ["；".join(r) or None for r in frame["issues"]],
        "set_aside_wan": frame["set_aside_wan"],
        "money_wan": money_total(frame),
        "duplicate": frame["duplicate"],
    }, columns=list(rec.STATE_COLUMNS)).reset_index(drop=True)
    return state.astype({name: dtype for name, (dtype, _) in rec.STATE_COLUMNS.items()})


def warm() -> None:
    """Make a table once, so that Arrow's one-time set-up (tens of milliseconds) is done before the workers are
    forked, not once in each of them."""
    row = rec.new_record(schemas.RETURN_KINDS["projects"])
    row.update(unit="", file="", sheet="", row=0, return_kind="projects", extra=None)
    rec.remember_aside(row, "total_investment", 1.0, True, "")
    from_ipc(to_ipc([row]))
