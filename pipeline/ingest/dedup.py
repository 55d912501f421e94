"""The same row reported twice: one copy kept, the other quarantined with its reason.

Within one unit a second copy is a mistake the unit fixes; across units (a city and a department both report a
project) it is expected, and the project is counted once. A row's identity is the first key alternative of its return
kind (schemas) whose columns are all filled.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from pipeline import schemas
from pipeline.ingest import rowtable
from pipeline.ingest.problems import ERROR, HINT, Problem

_IGNORED = re.compile(r"[\s()（）\"“”]")


def _dedup_keys(rows: pd.DataFrame) -> list[str | None]:
    """Each row's identity: the first key alternative of its kind whose columns are all filled, as one string
    ("project_code:X", "region+month:银川市|3"); None when no alternative is filled. Computed per kind, column by
    column."""
    keys: list[str | None] = [None] * len(rows)
    kinds = rows["return_kind"].to_numpy()
    found: dict[str, list] = {}
    for name, kind in schemas.RETURN_KINDS.items():
        mine = np.flatnonzero(kinds == name)
        if not len(mine) or not kind.key:
            continue
        texts = {}
        for column in dict.fromkeys(c for alternative in kind.key for c in alternative):
            if column not in found:
                found[column] = rowtable.values(rows, column)
            texts[column] = [None if v is None or v == "" else _IGNORED.sub("", unicodedata.normalize("NFKC", str(v)))
                             for v in map(found[column].__getitem__, mine)]
        for n, i in enumerate(mine):
            for alternative in kind.key:
                parts = [texts[c][n] for c in alternative]
                if all(p is not None for p in parts):
                    keys[i] = f"{'+'.join(alternative)}:{'|'.join(parts)}"
                    break
    return keys


# Kinds whose rows describe one project: the same project from two units is counted once.
# Indicator and FAI rows are per unit, so they are only de-duplicated within a unit.
_ACROSS_UNITS = {"projects", "major_works", "attraction"}


class _Columns(dict):
    """The round's columns as Python values (rowtable.values), each read when first asked for."""

    def __init__(self, rows: pd.DataFrame):
        super().__init__()
        self.rows = rows

    def __missing__(self, name: str) -> list:
        self[name] = rowtable.values(self.rows, name)
        return self[name]


def deduplicate(rows: pd.DataFrame, problems: list[Problem]) -> list[Problem]:
    """Keep one copy of a project reported twice; quarantine the other copy with the reason.

    Within one unit a second copy is a mistake (错误). Across units it is expected
    (a city and a department both report a project): the copy from the unit whose
    city the project is in is kept, else the first one read, and both units are told (提示).
    The rows are grouped by their identity; only a group of more than one live row is looked at row by row.
    """
    if rows.empty:
        return problems
    col = _Columns(rows)
    keys = _dedup_keys(rows)
    live = ~rowtable.quarantined(rows).to_numpy()
    home = np.array([bool(loc) and unit in loc for loc, unit in zip(col["location"], col["unit"])])
    order = np.lexsort((np.arange(len(rows)), ~home, rows["hidden_sheet"].to_numpy()))
    kinds, units = col["return_kind"], col["unit"]
    scopes = [None if key is None or not alive else (kind, key) if kind in _ACROSS_UNITS else (kind, unit, key)
              for key, alive, kind, unit in zip(keys, live, kinds, units)]
    seen = pd.Series([scopes[i] for i in order], dtype=object)
    repeated = seen.notna() & seen.duplicated(keep=False)
    hidden = rows["hidden_sheet"].to_numpy()
    first_seen: dict[tuple, int] = {}
    for i in order[repeated.to_numpy()]:
        kept = first_seen.setdefault(scopes[i], i)
        if kept == i:
            continue
        problems += _settle_copy(i, kept, keys[i], col, hidden, rows)
    return problems


def _settle_copy(i: int, kept: int, key: str, col: _Columns, hidden, rows: pd.DataFrame) -> list[Problem]:
    """Row i repeats row kept: quarantine it with the reason, or ask both units when only a name agrees."""
    if col["unit"][kept] != col["unit"][i] and key.startswith("project_name:") and not _same_project(col, kept, i):
        return _same_name_problems(col, kept, i)  # a name alone does not make two units' projects one
    where = f"{col['file'][kept]}（{col['sheet'][kept]}）第{col['row'][kept]}行"
    name = col["project_name"][i] or col["indicator"][i] or col["region"][i] or ""
    if hidden[i] and not hidden[kept]:
        text = f"隐藏工作表中的旧数据：项目“{name}”已按未隐藏的 {where} 统计"
        fix, severity = "请删除不再使用的隐藏工作表", HINT
    elif col["unit"][kept] == col["unit"][i]:
        text, fix, severity = f"与本单位 {where} 重复填报同一项目“{name}”", "请删除重复行或修改项目编号", ERROR
    else:
        text = f"与{col['unit'][kept]}重复填报同一项目“{name}”，已按一次统计（采用{col['unit'][kept]}的数据）"
        fix, severity = "请与对方单位核实，由项目所在地单位填报", HINT
    rowtable.quarantine(rows, [i], text, duplicate=True)
    kind = schemas.RETURN_KINDS[col["return_kind"][i]]
    column = "、".join(kind.column(name).label for name in key.split(":")[0].split("+"))
    return [Problem(col["unit"][i], col["file"][i], col["sheet"][i], col["row"][i], column,
                    key.split(":", 1)[1], text, fix, severity, "duplicate")]


# Two units' projects known only by name are one project when more than the name agrees: the same
# place, or total investments within 1% of each other.
SAME_PROJECT_TOLERANCE = 0.01


def _same_project(col: _Columns, a: int, b: int) -> bool:
    place_a, place_b = (re.sub(r"\s", "", unicodedata.normalize("NFKC", str(col["location"][r] or ""))) for r in (a, b))
    if place_a and place_b and (place_a in place_b or place_b in place_a):
        return True
    total_a, total_b = col["total_investment"][a], col["total_investment"][b]
    if total_a and total_b:
        return abs(total_a - total_b) <= SAME_PROJECT_TOLERANCE * max(total_a, total_b)
    return False


def _same_name_problems(col: _Columns, a: int, b: int) -> list[Problem]:
    """Both units are asked to confirm two same-named projects; both stay counted until they do."""
    name = col["project_name"][a] or ""
    found = []
    for mine, other in ((a, b), (b, a)):
        text = (f"与{col['unit'][other]}填报的项目同名“{name}”，"
                "但所在地和总投资不一致，无法确认是否同一项目，两条均已计入")
        found.append(Problem(col["unit"][mine], col["file"][mine], col["sheet"][mine], col["row"][mine], "项目名称",
                             name, text,
                             "请两单位核实：如为同一项目，由项目所在地单位填报；如不是，请在项目名称中注明区别（如地点）",
                             ERROR, "same_name_unconfirmed"))
    return found
