"""A parsed row as a file's cleaning carries it, and its state, declared once.

While a file's sheets are read (sheet.py, rows.py, checks.py, totals.py, corrections.FileCorrections.settle), a
row is a dict: its schema columns, its provenance (unit, file, sheet, row, return_kind) and its state under the
private keys declared in ROW_STATE. The file's rows then leave its cleaning as one typed table whose columns carry
the same state (rowtable.ROW_SCHEMA, rowtable.STATE_FIELDS): the round is settled on those columns (revisions,
dedup, plausibility, the doubts), and its state read as STATE_COLUMNS gives the clean tables, the quarantine and
the ledger (rowtable.state_of, tables.py, ledger.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pipeline import schemas
from pipeline.schemas import ReturnKind


@dataclass(frozen=True)
class Rules:
    """What the row checks need from a kind's schema, looked up once instead of on every row."""

    kind: ReturnKind
    names: tuple[str, ...]
    required: tuple[str, ...]
    money: tuple[str, ...]
    dates: tuple[str, ...]


_RULES: dict[str, Rules] = {}


def rules_of(kind: ReturnKind) -> Rules:
    rules = _RULES.get(kind.name)
    if rules is None or rules.kind is not kind:
        rules = _RULES[kind.name] = Rules(kind, tuple(c.name for c in kind.columns), kind.required,
                                           kind.names_of(schemas.MONEY), kind.names_of(schemas.DATE))
    return rules


def kind_of(record: dict) -> ReturnKind:
    return schemas.RETURN_KINDS[record["return_kind"]]


@dataclass(frozen=True)
class State:
    """One piece of a row's state: its key on the record, what a record without the key means, who sets it."""

    key: str
    default: Any  # the value a record without the key has (never changed in place)
    new: Callable[[], Any] | None  # what a new record starts with (an accumulator); None: set only when it applies
    meaning: str


ROW_STATE = (
    State("_reasons", [], list, "why the row is quarantined, one reason each (checks, corrections, dedup, "
                                "revisions); none: the row is kept"),
    State("_issues", [], list, "what is wrong with its cells, for the unit; a kept row's `issues`"),
    State("_set_aside_wan", 0.0, float, "the amount (万元) of its cells left out of every sum (checks.set_aside)"),
    State("_aside", {}, None, "the values set aside, by column: (value, whether money, header as written); "
                              "a 保留 correction puts them back (corrections.keep_values)"),
    State("_duplicate", False, None, "quarantined as a copy counted elsewhere (revisions, dedup)"),
    State("_unit_doubted", False, None, "every amount set aside: the money unit is in doubt (checks.leave_out_money)"),
    State("_hidden_sheet", False, None, "read from a hidden sheet: a copy there loses to a visible one (dedup)"),
    State("_source", None, None, "the row's cells as written and its header: the quarantine's `original`"),
    State("_bad", [], None, "the columns whose cell was unreadable or whose value was set aside, in the order "
                            "marked: a value found around the table (a default) never fills them, and a sum over "
                            "such a column is known to lack it (totals.py)"),
)
STATE_KEYS = frozenset(s.key for s in ROW_STATE)


def new_record(kind: ReturnKind) -> dict:
    """A record of the kind's schema columns, all empty, with the state every row starts with."""
    record: dict = dict.fromkeys(rules_of(kind).names)
    record.update({s.key: s.new() for s in ROW_STATE if s.new is not None})
    return record


# --------------------------------------------------------------------------- reading and changing the state
# Every stage changes a row's state through these, so the keys above are spelled here only.


def quarantine(record: dict, reason: str, duplicate: bool = False) -> None:
    """Give the row a reason to be quarantined; duplicate: it is a copy counted elsewhere."""
    record["_reasons"].append(reason)
    if duplicate:
        record["_duplicate"] = True


def is_quarantined(record: dict) -> bool:
    return bool(record["_reasons"])


def add_issue(record: dict, issue: str) -> None:
    """Tell the unit what is wrong with one of the row's cells (the kept row's `issues`)."""
    record["_issues"].append(issue)


def drop_issue(record: dict, issue: str) -> None:
    record["_issues"][:] = [x for x in record["_issues"] if x != issue]


def mark_bad(record: dict, name: str) -> None:
    """The column's cell was unreadable or its value set aside: no default fills it, no sum counts on it."""
    bad = record.setdefault("_bad", [])
    if name not in bad:
        bad.append(name)


def is_bad(record: dict, name: str) -> bool:
    return name in record.get("_bad", ())


def remember_aside(record: dict, name: str, value: Any, money: bool, written: str) -> None:
    """Leave the value out (set_aside), remembering it, whether it is money and the header it was written under."""
    if money:
        record["_set_aside_wan"] += value
    record.setdefault("_aside", {})[name] = (value, money, written)
    record[name] = None
    mark_bad(record, name)


def put_back(record: dict, column_matches: Callable[[str], bool]) -> None:
    """Put back every value set aside whose header matches (a 保留 correction)."""
    for name, (value, money, written) in list(record.get("_aside", {}).items()):
        if column_matches(written):
            record[name] = value
            if name in record.get("_bad", ()):
                record["_bad"].remove(name)
            if money:
                record["_set_aside_wan"] -= value
            del record["_aside"][name]


def doubt_unit(record: dict) -> None:
    record["_unit_doubted"] = True


def unit_doubted(record: dict) -> bool:
    return bool(record.get("_unit_doubted"))


HIDDEN_SHEET = "_hidden_sheet"  # set when the row is read (sheet._SheetWalk)


def on_hidden_sheet(record: dict) -> bool:
    return bool(record.get(HIDDEN_SHEET, False))


def keep_source(record: dict, raw: list, header: Any) -> None:
    """The row's cells as written and its header: `original` is written only for the rows that end in the
    quarantine."""
    record["_source"] = (raw, header)


def source(record: dict) -> tuple[list, Any]:
    return record["_source"]


# The row state as typed columns, one row per record in the round's order: what the clean tables, the
# quarantine and the ledger are computed from. name: (dtype, meaning).
STATE_COLUMNS = {
    "unit": ("str", "填报单位"),
    "file": ("str", "the file, relative to the round's folder"),
    "sheet": ("str", "the sheet's name"),
    "row": ("int64", "the Excel row"),
    "return_kind": ("str", "the return kind's name (schemas.RETURN_KINDS)"),
    "quarantined": ("bool", "the row has a reason to be quarantined"),
    "reasons": ("str", "its reasons, joined with “；”"),
    "issues": ("object", "what is wrong with its cells, joined with “；”; None when nothing"),
    "set_aside_wan": ("float64", "the amount of its cells left out of every sum"),
    "money_wan": ("float64", "its amounts still counted (rowtable.money_total)"),
    "duplicate": ("bool", "quarantined as a copy counted elsewhere"),
}
