"""Coverage: which returns could have fed each figure of indicators.json, and which did.

What each figure needs is declared once, as data, in ``needs.csv`` beside keys.csv: the return kind it is
computed from, the columns it needs (``a|b``: either will do; ``{start_base}``: the column the round's
开工率 base reads — 建设性质 for new, 计划开工时间 for planned, none for all) and how it is covered:

- ``all``: the figure adds up every return of its kind (counts, sums, rates): every return must feed it;
- ``any``: the figure is one value one return gives (全区固定资产投资): one is enough;
- ``city``, ``base`` or a unit's name (发展改革委): the figure is one unit's, taken from the preferred units
  (the 主要指标 “XX市…”, “发展改革委争取…” figures): every return of those units must feed it; when none of
  them sent the kind, every return of the kind, as ``all``.

A return *could* feed a figure when it is a sheet of the figure's kind (read, with rows kept), a unit of
round.yml that sent nothing but is expected to send that kind, or a file that could not be read (its kind is
unknown). It *did* feed it when its sheet had every column the figure needs with at least one readable value.

No return fed it → the figure is null, with the reason (``notes[key]``): “各单位报表均无可识别的“是否开工”列
（银川市：表头“开工状态”未能识别）”. Some did → the figure is computed from those, listed in
``data_quality.partial_keys``, and ``notes[key]`` names what is left out: “不含银川市（报表中没有可识别的“签约方式”列；
表头“签约形式”未能识别）”. The report states the caveat beside the figure and lists it in the red box.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import schemas

NEEDS_FILE = Path(__file__).with_name("needs.csv")
ALL, ANY = "all", "any"
START_BASE_COLUMN = {"new": ("nature",), "planned": ("planned_start_date",), "all": ()}
OUTSIDE_HOW = "表外信息"  # the header map's rows read around the table, not headers (cleaning.header_mapping)
# The ledger's statuses of a file nothing could be read from (quality.REJECTED_STATUSES).
REJECTED_STATUSES = ("无法读取", "处理失败", "未读取")


@dataclass(frozen=True)
class Need:
    key: str
    kind: str  # a return kind (schemas.RETURN_KINDS); "" for a figure not computed from the returns
    columns: tuple[tuple[str, ...], ...]  # each slot: the columns any one of which will do
    mode: str  # ALL or ANY


def load_needs(path: Path = NEEDS_FILE) -> dict[str, Need]:
    """Every row of needs.csv, checked against the return schemas."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    needs = {}
    for row in rows:
        kind = row["return_kind"]
        slots = tuple(tuple(token.split("|")) for token in row["columns"].split())
        if kind:
            names = {c.name for c in schemas.RETURN_KINDS[kind].columns}
            unknown = [c for slot in slots for c in slot if c not in names and c != "{start_base}"]
            if unknown or not row["coverage"]:
                raise ValueError(f"{path.name}: {row['key']}: unknown column {unknown} or coverage {row['coverage']!r}")
        needs[row["key"]] = Need(row["key"], kind, slots, row["coverage"])
    return needs


NEEDS: dict[str, Need] = load_needs()


@dataclass
class Source:
    """One return that could feed figures of its kind: a sheet read, or a unit that sent nothing."""

    unit: str
    kind: str
    file: str = ""
    sheet: str = ""
    status: str = ""  # "" for a sheet read; 未报送; 未能读取
    fed: set[str] = field(default_factory=set)  # columns with at least one readable value
    recognised: set[str] = field(default_factory=set)  # columns its header was mapped to
    unread: list[str] = field(default_factory=list)  # headers the header map could not map


@dataclass
class KeyCoverage:
    key: str
    fed: list[Source]
    gaps: list[tuple[str, str]]  # (unit, why) for each return that could feed it and did not
    seen: list[Source] = field(default_factory=list)  # every return that could feed it

    @property
    def none(self) -> bool:
        return bool(self.gaps) and not self.fed

    @property
    def partial(self) -> bool:
        return bool(self.gaps) and bool(self.fed)


def sources(tables: dict[str, pd.DataFrame], header_map: pd.DataFrame | None = None,
            missing_units=(), rejected: pd.DataFrame | None = None,
            ledger: pd.DataFrame | None = None) -> dict[str, list[Source]]:
    """The returns that could feed each kind's figures: every sheet in the clean tables (with the columns it
    has readable values in), every sheet read whose rows were all set aside, each unit that sent nothing (for
    the kinds its type sends), each unread file."""
    out: dict[str, list[Source]] = {kind: [] for kind in schemas.RETURN_KINDS}
    kinds = {k.label: k.name for k in schemas.RETURN_KINDS.values()}
    if ledger is not None:
        lost = ledger[(ledger["status"] == "已读取") & (ledger["kept"] == 0) & (ledger["data_rows"] > 0)
                      & ~ledger["note"].fillna("").str.contains("取代", regex=False)]
        for r in lost.itertuples(index=False):
            if r.return_kind in kinds:
                out[kinds[r.return_kind]].append(Source(str(r.unit), kinds[r.return_kind], str(r.file), str(r.sheet),
                                                        "未采用"))
    mapped = _header_map_by_sheet(header_map)
    for kind, table in tables.items():
        if table.empty or "file" not in table:
            continue
        columns = [c.name for c in schemas.RETURN_KINDS[kind].columns if c.name in table]
        for (unit, file, sheet), rows in table.groupby(["unit", "file", "sheet"], sort=False, dropna=False):
            recognised, unread = mapped.get((file, sheet), (set(columns), []))
            fed = {c for c in columns if rows[c].notna().any()}
            out[kind].append(Source(str(unit), kind, str(file), str(sheet), "", fed, recognised, unread))
    for unit in missing_units:
        for kind in schemas.EXPECTED_KINDS[schemas.unit_kind(unit)]:
            out[kind].append(Source(str(unit), kind, status="未报送"))
    if rejected is not None:
        for r in rejected.itertuples(index=False):
            for kind in out:
                out[kind].append(Source(str(r.unit), kind, str(r.file), str(r.sheet or ""), "未能读取"))
    return out


def _header_map_by_sheet(header_map: pd.DataFrame | None) -> dict[tuple[str, str], tuple[set[str], list[str]]]:
    if header_map is None or header_map.empty:
        return {}
    out: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    for (file, sheet), rows in header_map.groupby(["file", "sheet"], sort=False):
        recognised = {str(c) for c in rows["column"].dropna() if c}
        unread = [str(w) for w, c, how in zip(rows["written"], rows["column"], rows["how"])
                  if is_unread(c, how) and str(w).strip()]
        out[(str(file), str(sheet))] = (recognised, unread)
    return out


def is_unread(column, how) -> bool:
    """A header of the 表头对照 no column was taken from: not recognised, or only close (近似，未采用)."""
    return (column is None or column != column or not str(column)) and how != OUTSIDE_HOW


def resolve(need: Need, start_rate_base: str) -> tuple[tuple[str, ...], ...]:
    """The need's column slots with {start_base} replaced by the round's 开工率 base column (if any)."""
    slots = []
    for slot in need.columns:
        if slot == ("{start_base}",):
            slots += [(c,) for c in START_BASE_COLUMN.get(start_rate_base, ())]
        else:
            slots.append(slot)
    return tuple(slots)


def label(kind: str, column: str) -> str:
    return schemas.RETURN_KINDS[kind].column(column).label


def why_not(source: Source, slots: tuple[tuple[str, ...], ...]) -> str | None:
    """Why a return did not feed a figure needing these columns; None when it did."""
    if source.status == "未报送":
        return "未报送"
    if source.status == "未采用":
        return f"报表“{source.file}”的数据行均未采用（已隔离）"
    if source.status:
        return f"文件“{source.file}”未能读取"
    lacking = [slot for slot in slots if not any(c in source.fed for c in slot)]
    if not lacking:
        return None
    absent = [s for s in lacking if not any(c in source.recognised for c in s)]
    empty = [s for s in lacking if s not in absent]
    words = "或".join
    parts = []
    if absent:
        parts.append("报表中没有可识别的" + "、".join(f"“{words(label(source.kind, c) for c in s)}”" for s in absent)
                     + "列")
    if empty:
        parts.append("报表的" + "、".join(f"“{words(label(source.kind, c) for c in s)}”" for s in empty)
                     + "列均为空或无法识别")
    if absent and source.unread:
        parts.append("表头" + "、".join(f"“{w}”" for w in source.unread[:3]) + "未能识别")
    return "，".join(parts)


def in_scope(need: Need, kind_sources: list[Source]) -> list[Source]:
    """The returns a figure is taken from: the preferred units' (city, base, a named unit), else all."""
    if need.mode in (ALL, ANY):
        return kind_sources
    prefer = {"city": schemas.CITY, "base": schemas.BASE}
    mine = [s for s in kind_sources if (schemas.unit_kind(s.unit) == prefer[need.mode] if need.mode in prefer
                                        else s.unit == need.mode)]
    return mine or kind_sources


def cover(need: Need, kind_sources: list[Source], start_rate_base: str) -> KeyCoverage:
    slots = resolve(need, start_rate_base)
    kind_sources = in_scope(need, kind_sources)
    fed, gaps = [], []
    for source in kind_sources:
        reason = why_not(source, slots)
        if reason is None:
            fed.append(source)
        else:
            gaps.append((source.unit, reason))
    if need.mode == ANY and fed:
        gaps = []
    return KeyCoverage(need.key, fed, list(dict.fromkeys(gaps)), kind_sources)


def gap_text(gaps) -> str:
    """“银川市：报表中没有可识别的“签约方式”列；农业农村厅：未报送”: each unit once, its reasons joined."""
    by_unit: dict[str, list[str]] = {}
    for unit, why in gaps:
        by_unit.setdefault(unit, [])
        if why not in by_unit[unit]:
            by_unit[unit].append(why)
    return "；".join(f"{unit}：{'，'.join(whys)}" for unit, whys in by_unit.items())


def none_text(need: Need, coverage: KeyCoverage, start_rate_base: str) -> str:
    """The reason of a figure no return could feed."""
    slots = resolve(need, start_rate_base)
    read = [s for s in coverage.seen if not s.status]
    lacking = [slot for slot in slots if not any(any(c in s.fed for c in slot) for s in read)] or slots
    names = "、".join(f"“{'或'.join(label(need.kind, c) for c in s)}”" for s in lacking) or "所需"
    return f"各单位报表均无可识别的{names}列，无法计算（{gap_text(coverage.gaps)}）"


def _names_a_column(reason: str, coverage: KeyCoverage) -> bool:
    """Whether an earlier reason already names a column the returns lack (kept: it says the same, shorter)."""
    return any(f"“{column}”" in reason for _, why in coverage.gaps for column in re.findall(r"“([^”]+)”", why))


@dataclass
class Applied:
    """What apply() did: the partial keys, their gaps (for the report's caveats), the keys it made null."""

    partial: list[str] = field(default_factory=list)
    gaps: dict[str, list[list[str]]] = field(default_factory=dict)
    nulled: list[str] = field(default_factory=list)


def apply(values: dict[str, Any], notes: dict[str, str], start_rate_base: str, found: dict[str, list[Source]],
          needs: dict[str, Need] = NEEDS) -> Applied:
    """Null the figures no return fed (keeping an earlier reason for one already null), note the partial ones;
    values and notes are changed in place."""
    done = Applied()
    for key, need in needs.items():
        if not need.kind or key not in values:
            continue
        kind_sources = in_scope(need, found.get(need.kind, []))
        coverage = cover(need, kind_sources, start_rate_base)
        if coverage.none and any(s.status in ("", "未采用") for s in kind_sources):
            if values[key] is not None or not _names_a_column(notes.get(key, ""), coverage):
                notes[key] = none_text(need, coverage, start_rate_base)
            values[key] = None
            done.nulled.append(key)
        elif coverage.partial and values[key] is not None:
            done.partial.append(key)
            notes[key] = f"不含{gap_text(coverage.gaps)}"
            done.gaps[key] = [list(g) for g in coverage.gaps]
    return done
