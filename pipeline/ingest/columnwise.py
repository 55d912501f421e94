"""Parsing a sheet's data cells column by column instead of cell by cell.

`parse_columns` reads every data row of one column at once:

- a number or money column: the cells that are plain finite numbers (what Excel
  gives for almost every amount, a float or, from calamine, an int) or empty are read with numpy over the whole
  column (an amount times its unit's factor to 万元, exactly the product the cell
  parser computes);
- every other cell, and every cell of the other columns, is read by the column's
  own cell parser once per distinct value of the column (是/否, 第一批, the same
  county or date repeat row after row).

The result is what the cell parsers give, cell for cell: a clean value, or the
cell parser's `Parsed` where it found a problem (its value is then None). This is
the only way data cells are read; tests/test_columnwise.py holds it to the cell
parsers, column by column, over the hand-built corpus, and to values written by hand.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from pipeline import schemas
from pipeline.ingest.parsing import MONEY_FACTORS, Parsed

_NUMERIC = (schemas.MONEY, schemas.NUMBER)


def column_values(grid: list[list[Any]], rows: Sequence[int], index: int) -> list[Any]:
    """The cells of one sheet column in the given rows (None past a row's end)."""
    return [row[index] if index < len(row) else None for row in (grid[i] for i in rows)]


def parse_column(values: list[Any], type_: str, unit: str | None, parse: Callable[[Any], Parsed]) -> list[Any]:
    """Each cell's clean value, or the cell parser's Parsed where the cell has a problem."""
    if type_ in _NUMERIC and values:
        return _numbers(values, unit if type_ == schemas.MONEY else None, type_ == schemas.MONEY, parse)
    return _by_distinct_value(values, parse)


def _numbers(values: list[Any], unit: str | None, money: bool, parse) -> list[Any]:
    """Plain finite floats, integers and empty cells over the whole column; the rest through the cell parser."""
    objects = np.empty(len(values), dtype=object)
    objects[:] = values
    types = np.fromiter(map(type, values), dtype=object, count=len(values))
    is_float = np.equal(types, float)
    is_int = np.equal(types, int)  # calamine gives a whole number as int (bool is its own type)
    numbers = np.zeros(len(values), dtype=np.float64)
    numbers[is_float] = objects[is_float].astype(np.float64)
    if is_int.any():
        try:  # float(raw), as parse_number reads an int
            numbers[is_int] = objects[is_int].astype(np.float64)
        except OverflowError:  # an integer beyond a float: the cell parser says so
            is_int[:] = False
    fast = (is_float & np.isfinite(numbers)) | is_int
    if money:  # parse_money: float(raw) * MONEY_FACTORS.get(unit or "万元", 1.0), the same IEEE product
        numbers = numbers * MONEY_FACTORS.get(unit or "万元", 1.0)
    out = np.where(fast, numbers, None).tolist() if fast.any() else [None] * len(values)
    empty = np.equal(types, type(None)) | (is_float & np.isnan(numbers))  # None and NaN parse as EMPTY
    for k in np.flatnonzero(~(fast | empty)).tolist():
        out[k] = _result(parse(values[k]))
    return out


def _by_distinct_value(values: list[Any], parse) -> list[Any]:
    """The cell parser once per distinct (type, value) of the column; 1, 1.0 and True stay apart by type."""
    seen: dict[tuple[type, Any], Any] = {}
    out = []
    for value in values:
        key = (value.__class__, value)
        if value.__class__ is float and value == 0.0:
            key = (float, str(value))  # 0.0 and -0.0 apart
        try:
            hit = seen.get(key, _MISSING)
        except TypeError:  # an unhashable value is parsed on its own
            out.append(_result(parse(value)))
            continue
        if hit is _MISSING:
            hit = seen[key] = _result(parse(value))
        out.append(hit)
    return out


_MISSING = object()


def _result(parsed: Parsed) -> Any:
    return parsed if parsed.problem else parsed.value
