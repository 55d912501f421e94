"""The same row reported twice: one copy kept, the other quarantined with its reason.

Within one unit a second copy is a mistake the unit fixes; across units (a city and a department both report a
project) it is expected, and the project is counted once. A row's identity is the first key alternative of its return
kind (schemas) whose columns are all filled.
"""
from __future__ import annotations

import re
import unicodedata

from pipeline import schemas
from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.records import is_quarantined, on_hidden_sheet, quarantine
from pipeline.schemas import ReturnKind


def _kind_of(record: dict) -> ReturnKind:
    return schemas.RETURN_KINDS[record["return_kind"]]


def _dedup_key(record: dict) -> str | None:
    """The identity of a row: the first key alternative whose columns are all filled, as one string."""
    for columns in _kind_of(record).key:
        values = [record.get(name) for name in columns]
        if all(v is not None and v != "" for v in values):
            text = "|".join(re.sub(r"[\s()（）\"“”]", "", unicodedata.normalize("NFKC", str(v))) for v in values)
            return f"{'+'.join(columns)}:{text}"
    return None


# Kinds whose rows describe one project: the same project from two units is counted once.
# Indicator and FAI rows are per unit, so they are only de-duplicated within a unit.
_ACROSS_UNITS = {"projects", "major_works", "attraction"}


def deduplicate(records: list[dict], problems: list[Problem]) -> tuple[list[dict], list[Problem]]:
    """Keep one copy of a project reported twice; quarantine the other copy with the reason.

    Within one unit a second copy is a mistake (错误). Across units it is expected
    (a city and a department both report a project): the copy from the unit whose
    city the project is in is kept, else the first one read, and both units are told (提示).
    """
    first_seen: dict[tuple, dict] = {}
    order = sorted(range(len(records)),
                   key=lambda i: (on_hidden_sheet(records[i]), not _is_home(records[i]), i))
    for i in order:
        record = records[i]
        if is_quarantined(record):
            continue
        key = _dedup_key(record)
        if key is None:
            continue
        scope = ((record["return_kind"], key) if record["return_kind"] in _ACROSS_UNITS
                 else (record["return_kind"], record["unit"], key))
        kept = first_seen.setdefault(scope, record)
        if kept is record:
            continue
        if kept["unit"] != record["unit"] and key.startswith("project_name:") and not _same_project(kept, record):
            problems += _same_name_problems(kept, record)  # a name alone does not make two units' projects one
            continue
        where = f"{kept['file']}（{kept['sheet']}）第{kept['row']}行"
        name = record.get("project_name") or record.get("indicator") or record.get("region") or ""
        if on_hidden_sheet(record) and not on_hidden_sheet(kept):
            text = f"隐藏工作表中的旧数据：项目“{name}”已按未隐藏的 {where} 统计"
            fix, severity = "请删除不再使用的隐藏工作表", HINT
        elif kept["unit"] == record["unit"]:
            text, fix, severity = f"与本单位 {where} 重复填报同一项目“{name}”", "请删除重复行或修改项目编号", ERROR
        else:
            text = f"与{kept['unit']}重复填报同一项目“{name}”，已按一次统计（采用{kept['unit']}的数据）"
            fix, severity = "请与对方单位核实，由项目所在地单位填报", HINT
        quarantine(record, text, duplicate=True)
        column = "、".join(_kind_of(record).column(name).label for name in key.split(":")[0].split("+"))
        problems.append(Problem(record["unit"], record["file"], record["sheet"], record["row"], column,
                                key.split(":", 1)[1], text, fix, severity, "duplicate"))
    return records, problems


# Two units' projects known only by name are one project when more than the name agrees: the same
# place, or total investments within 1% of each other.
SAME_PROJECT_TOLERANCE = 0.01


def _same_project(a: dict, b: dict) -> bool:
    place_a, place_b = (re.sub(r"\s", "", unicodedata.normalize("NFKC", str(r.get("location") or ""))) for r in (a, b))
    if place_a and place_b and (place_a in place_b or place_b in place_a):
        return True
    total_a, total_b = a.get("total_investment"), b.get("total_investment")
    if total_a and total_b:
        return abs(total_a - total_b) <= SAME_PROJECT_TOLERANCE * max(total_a, total_b)
    return False


def _same_name_problems(a: dict, b: dict) -> list[Problem]:
    """Both units are asked to confirm two same-named projects; both stay counted until they do."""
    name = a.get("project_name") or ""
    found = []
    for mine, other in ((a, b), (b, a)):
        text = (f"与{other['unit']}填报的项目同名“{name}”，但所在地和总投资不一致，无法确认是否同一项目，两条均已计入")
        found.append(Problem(mine["unit"], mine["file"], mine["sheet"], mine["row"], "项目名称", name, text,
                             "请两单位核实：如为同一项目，由项目所在地单位填报；如不是，请在项目名称中注明区别（如地点）",
                             ERROR, "same_name_unconfirmed"))
    return found


def _is_home(record: dict) -> bool:
    location = record.get("location") or ""
    return bool(location) and record["unit"] in location
