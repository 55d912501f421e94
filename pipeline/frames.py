"""Small pandas idioms every stage uses, written once: missing values, equality with missing as no, order by a list.

Shared like paths, rounds and schemas: any stage may import it, and it imports none of them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd


def is_missing(value: Any) -> bool:
    """None, pandas' NA and NaT, and a float NaN; anything else (text, a list, 0) is a value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (str, list, tuple, dict, set)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def equals(series: pd.Series, value: Any) -> pd.Series:
    """A bool mask: the column as text equals value (a missing cell is no match, never NA)."""
    return series.astype("string").eq(str(value)).fillna(False).astype(bool)


def is_true(mask: pd.Series) -> pd.Series:
    """A nullable bool mask as plain bools: missing counts as no."""
    return mask.astype("boolean").fillna(False).astype(bool)


def positions(series: pd.Series, order: Sequence[Any]) -> pd.Series:
    """Each value's position in order; values not in it come after every listed one."""
    index = {value: i for i, value in enumerate(order)}
    return series.map(lambda v: index.get(v, len(index)))


def in_order(frame: pd.DataFrame, column: str, order: Sequence[Any], then: Iterable[str] = ()) -> pd.DataFrame:
    """Rows sorted by the position of `column`'s value in order (unlisted values last, by name), then by `then`."""
    then = list(then)
    keyed = frame.assign(_position=positions(frame[column], order))
    keyed = keyed.sort_values(["_position", column, *then], kind="stable", na_position="last")
    return keyed.drop(columns="_position")
