"""Any column may be absent, empty or unreadable, and the chain still finishes (a property, on real files).

For each return kind and each column its hand-built files have, the column is, in three of the kind's files,
dropped (header and values cleared), blanked (values cleared) and filled with junk; 固定资产投资, which comes
in one file, is run once per way. Steps 1–4 then run in this process (tests/inprocess.py). Each run must
finish; every figure that needs the column (needs.csv, plus the kind's identity columns, without which a row
is no row) must be null, or partial with each modified unit named in its reason; every other figure must be
as in the unmodified round.

Run i modifies the i-th column of every kind at once (kinds feed disjoint figures), so the property takes
as many runs as the longest column list. Charts are drawn in every third run and the last (all drawn, it
also passes, in about twice the time); the other runs reuse the unmodified round's charts.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import inprocess
import openpyxl
import pandas as pd
import pytest
from office import write_xlsx
from test_indicators import MAJOR_HEADER, _sheet, build_full_round

from pipeline import paths, rounds, schemas
from pipeline.indicators import coverage

ROUND = "2021-12"
DROP, BLANK, JUNK = "drop", "blank", "junk"
JUNK_VALUE = "？？待核"
MAJOR_ROWS = [
    [1, "银昆高速宁夏段", "交通运输厅", "张副主席", "在建", 3_000_000, 500_000, 420_000, "主体完工",
     "2021-12-31", "推进中", "路基施工", None],
    [2, "银川河东国际机场改扩建", "发展改革委", "李副主席", "前期", 1_000_000, None, None, "可研批复",
     "2021-09-01", "已批复", "可研已批复", None],
    [3, "银川市城市地下轨道交通", "银川市", "王副主席", "前期", 5_000_000, None, None, "规划报批",
     "2021-09-30", "未完成", "规划编制", "规划待批"],
]
# Values that carry no figure (compared as-is would differ by construction): the data-quality keys.
NOT_COMPARED = ("data_quality.",)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The unmodified round, run once: its folder, values and header map."""
    root = tmp_path_factory.mktemp("base")
    build_full_round(root, ROUND, previous=None)
    raw = root / "data" / "raw" / ROUND
    (raw / "发展改革委" / "十大工程.xlsx").unlink()  # one engineering project per file: three files to modify
    for i, row in enumerate(MAJOR_ROWS, 1):
        write_xlsx(raw / "发展改革委" / f"十大工程{i}.xlsx",
                   {"十大工程": _sheet("十大工程项目推进情况表", MAJOR_HEADER, [row], "发展改革委", "单位：万元")})
    values, html = inprocess.run(root, ROUND)
    assert html
    header_map = pd.read_parquet(paths.processed_round_dir(ROUND, root) / paths.HEADER_MAP)
    return root, values, header_map


def columns_of(header_map: pd.DataFrame) -> list[tuple[str, str]]:
    kinds = {k.label: k.name for k in schemas.RETURN_KINDS.values()}
    found = header_map[header_map["column"].fillna("") != ""]
    pairs = {(kinds[k], c) for k, c in zip(found["return_kind"], found["column"]) if c != "seq"}
    return sorted(pairs)


COLUMNS = {
    "projects": ("project_code", "project_name", "batch", "is_key", "location", "industry", "nature",
                 "total_investment", "annual_plan", "completed", "started", "start_date", "in_stats",
                 "responsible_unit", "leader"),
    "major_works": ("project_name", "lead_unit", "leader", "stage", "total_investment", "annual_plan", "completed",
                    "milestone", "milestone_date", "milestone_status", "progress", "problems"),
    "attraction": ("project_name", "sign_date", "sign_mode", "industry", "is_chain", "contract_investment",
                   "funds_in_place", "status"),
    "indicators": ("indicator", "measure_unit", "current", "last_year"),
    "practices": ("section", "content"),
}
# 固定资产投资 comes in one file: each way is a run of its own.
FAI_CASES = [(c, way) for c in ("region", "month", "cum_value", "yoy_pct", "last_yoy_pct")
             for way in (DROP, BLANK, JUNK)]
# Run i modifies the i-th column of every kind (and the i-th FAI case): kinds feed disjoint figures, so one run
# checks one column of each, and the whole property takes as many runs as the longest list.
RUNS = max(len(FAI_CASES), *(len(c) for c in COLUMNS.values()))


def test_every_column_the_files_have_is_a_case(base):
    _, _, header_map = base
    cases = {(k, c) for k, columns in COLUMNS.items() for c in columns} | {("fai", c) for c, _ in FAI_CASES}
    assert set(columns_of(header_map)) == cases


def files_of(header_map: pd.DataFrame, kind: str, column: str) -> list[tuple[str, str, int, str]]:
    """(file, sheet, excel row, header text) of the column in each file of the kind, in file order."""
    label = schemas.RETURN_KINDS[kind].label
    rows = header_map[(header_map["return_kind"] == label) & (header_map["column"] == column)]
    return [(r.file, r.sheet, int(r.excel_row), str(r.written)) for r in rows.itertuples()]


def modify(raw: Path, file: str, sheet: str, header_row: int, written: str, way: str) -> None:
    """Drop, blank or fill with junk one column of one sheet, in the xlsx as an office would save it."""
    path = raw / file
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    texts = {str(c.value or "").strip(): c.column for c in ws[header_row]}
    col = texts.get(written) or texts[written.split("/")[-1]]  # a lower header level: “2021年投资/计划”
    if way == DROP:
        ws.cell(row=header_row, column=col).value = None
    for r in range(header_row + 1, ws.max_row + 1):
        cell = ws.cell(row=r, column=col)
        if cell.coordinate in ws.merged_cells or not any(ws.cell(row=r, column=c).value for c in (2, 3)):
            continue
        if str(ws.cell(row=r, column=1).value or "").startswith("填报单位"):
            continue
        cell.value = JUNK_VALUE if way == JUNK else None
    book.save(path)


def needing(kind: str, column: str, start_rate_base: str) -> set[str]:
    identity = set(schemas.RETURN_KINDS[kind].identity)
    out = set()
    for key, need in coverage.NEEDS.items():
        if need.kind != kind:
            continue
        slots = coverage.resolve(need, start_rate_base)
        if column in identity or any(slot == (column,) for slot in slots):
            out.add(key)
    return out


def changes_of(base, i: int) -> list[tuple[str, str, list]]:
    """(kind, column, [(file position, way)]) of run i."""
    _, _, header_map = base
    out = []
    for kind, columns in COLUMNS.items():
        if i < len(columns):
            files = files_of(header_map, kind, columns[i])[:3]
            assert len(files) == 3, (kind, columns[i], files)
            out.append((kind, columns[i], list(zip(files, (DROP, BLANK, JUNK)))))
    if i < len(FAI_CASES):
        column, way = FAI_CASES[i]
        (only,) = files_of(header_map, "fai", column)
        out.append(("fai", column, [(only, way)]))
    return out


def readable_junk(kind: str, column: str) -> bool:
    """Junk in a text column is still text: the figures read it as written."""
    return schemas.RETURN_KINDS[kind].column(column).type in (schemas.TEXT, schemas.SEQ)


@pytest.mark.parametrize("i", range(RUNS))
def test_a_column_dropped_blanked_or_junk_still_finishes_and_only_its_figures_are_caveated(base, tmp_path, i):
    root, before, _ = base
    changes = changes_of(base, i)
    shutil.copytree(root / "data", tmp_path / "data")
    shutil.copytree(root / "outputs", tmp_path / "outputs")  # the charts, when this run does not draw them
    shutil.rmtree(tmp_path / "data" / "processed")
    raw = tmp_path / "data" / "raw" / ROUND
    for _, _, files in changes:
        for (file, sheet, row, written), way in files:
            modify(raw, file, sheet, row, written, way)
    values, html = inprocess.run(tmp_path, ROUND, draw_figures=i % 3 == 0 or i == RUNS - 1)
    assert "Traceback" not in html and "督查" in html

    round_ = rounds.load_round(ROUND, root)
    units = dict(zip(*_file_units(base)))
    need_all: set[str] = set()
    for kind, column, files in changes:
        need = needing(kind, column, round_.start_rate_base)
        need_all |= need
        named = {units[f[0]] for f, way in files if not (way == JUNK and readable_junk(kind, column))}
        for key in need if named else ():
            if values[key] is None:
                assert values["notes"].get(key), key
            elif values[key] != before[key] or key in values["data_quality.partial_keys"]:
                assert key in values["data_quality.partial_keys"], (kind, column, key, before[key], values[key])
                assert any(u in values["notes"][key] for u in named), (key, values["notes"][key])
    for key in before:
        if key in ("notes", "gaps", "sources") or key.startswith(NOT_COMPARED) or key in need_all:
            continue
        assert values[key] == before[key], (key, before[key], values[key], [c[:2] for c in changes])


def _file_units(base):
    root, _, _ = base
    ledger = pd.read_csv(paths.processed_round_dir(ROUND, root) / paths.LEDGER)
    return ledger["file"].tolist(), ledger["unit"].tolist()
