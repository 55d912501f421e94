"""The sample-round generator: deterministic, every return kind and format, planted mistakes where they say.

Files are read back the way the pipeline reads them (calamine for workbooks, csv
with the file's encoding), and checked against the header alias table and the
cell parsers, so a generator change that writes something the pipeline would
not understand fails here.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
import yaml

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.devtools import sample
from pipeline.ingest import context, headers
from pipeline.ingest.parsing import is_empty, parse_bool, parse_date, parse_number

SMALL = 60
SEED = 11
CURRENT, PREVIOUS = sample.CURRENT.id, sample.PREVIOUS.id
REQUIRED_MISTAKES = {"text_amount", "completed_exceeds_total", "start_after_cutoff", "invalid_bool", "invalid_date",
                     "missing_name", "negative_amount", "total_mismatch", "group_total_mismatch", "duplicate_code",
                     "unknown_header", "missing_return"}
ALIASES = schemas.load_aliases()


# --------------------------------------------------------------------------- reading back


def read_grid(path: Path, sheet: str) -> list[list[Any]]:
    if path.suffix == ".csv":
        data = path.read_bytes()
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "gb18030"
        return [row for row in csv.reader(io.StringIO(data.decode(encoding), newline=""))]
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def sheet_names(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return [path.stem]
    return python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names


def read_round(folder: Path) -> dict[tuple[str, str], list[list[Any]]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".xlsx", ".xls", ".csv"):
            rel = path.relative_to(folder).as_posix()
            for name in sheet_names(path):
                out[(rel, name)] = read_grid(path, name)
    return out


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def collapsed(value: Any) -> str:
    return sample.written_header(text(value))


def cell(rows: list[list[Any]], row: int, col: int) -> Any:
    line = rows[row - 1]
    return line[col] if col < len(line) else None


def header_cell(rows: list[list[Any]], header: str, before: int) -> tuple[int, int]:
    """(Excel row, 0-based column) of the one header cell reading `header` in the rows above row `before`."""
    hits = [(r + 1, c) for r, line in enumerate(rows[: min(before - 1, 12)]) for c, v in enumerate(line)
            if collapsed(v) == header]
    assert len(hits) == 1, f"header {header!r} found {len(hits)} times above row {before}"
    return hits[0]


def records(folder: Path, books: list[sample.Book], kind: str):
    """Every data row of every sheet of `kind`, read from disk: (book, grid, Excel row, {column: raw cell})."""
    for book in books:
        for grid in book.sheets:
            if grid.kind != kind:
                continue
            rows = read_grid(folder / book.path, sheet_of(book, grid))
            for r in grid.rows_of("data"):
                yield book, grid, r, {c.field: cell(rows, r, j) for j, c in enumerate(grid.cols)}


def sheet_of(book: sample.Book, grid: sample.Grid) -> str:
    return Path(book.path).stem if book.format == "csv" else grid.name


def money_factor(rows: list[list[Any]], grid: sample.Grid, field: str) -> float:
    """10,000 when the column (or the unit row above the header) says 亿元."""
    j = next(i for i, c in enumerate(grid.cols) if c.field == field)
    first_header = grid.rows_of("header")[0]
    header_texts = [text(cell(rows, r, j)) for r in grid.rows_of("header")] + [text(grid.cols[j].group or "")]
    unit_rows = " ".join(text(v) for line in rows[: first_header - 1] for v in line)
    notes = " ".join(text(rows[r - 1][0]) for r in grid.rows_of("note"))  # 注：本表金额单位为亿元
    return 10_000.0 if (any("亿元" in t for t in header_texts) or "单位：亿元" in unit_rows
                        or "单位为亿元" in notes) else 1.0


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("small")
    folders = sample.write_sample_rounds(root, n_projects=SMALL, seed=SEED)
    assert [f.name for f in folders] == [CURRENT, PREVIOUS]
    return root, sample.plan_rounds(SMALL, SEED)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("default")
    sample.write_sample_rounds(root)
    return root, sample.plan_rounds()


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_same_cells_and_bytes(small, tmp_path):
    root, _ = small
    again = tmp_path / "again"
    sample.write_sample_rounds(again, n_projects=SMALL, seed=SEED)
    for rid in (CURRENT, PREVIOUS):
        first, second = read_round(root / rid), read_round(again / rid)
        assert first and first.keys() == second.keys()
        for key in first:
            assert first[key] == second[key], key
        files = sorted(p.relative_to(root / rid) for p in (root / rid).rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(again / rid) for p in (again / rid).rglob("*") if p.is_file())
        for rel in files:
            assert (root / rid / rel).read_bytes() == (again / rid / rel).read_bytes(), rel


def test_another_seed_gives_other_cells(small, tmp_path):
    root, _ = small
    other = tmp_path / "other"
    sample.write_sample_rounds(other, n_projects=SMALL, seed=SEED + 1)
    first, second = read_round(root / CURRENT), read_round(other / CURRENT)
    differing = [k for k in first.keys() & second.keys() if first[k] != second[k]]
    assert len(differing) > len(first) // 2


# --------------------------------------------------------------------------- the rounds


def test_round_files_load_and_say_sample(small):
    root, _ = small
    for spec in sample.ROUNDS:
        folder = root / spec.id
        data = yaml.safe_load((folder / "round.yml").read_text(encoding="utf-8"))
        parsed = rounds.parse_round(spec.id, data, folder)
        assert parsed.as_of == spec.as_of and parsed.previous == spec.previous and parsed.sample is True
        assert parsed.units == sample.UNITS and "样例数据" in parsed.title
        readme = (folder / "README.txt").read_text(encoding="utf-8")
        assert "虚构" in readme and "样例数据" in readme
        assert {u for u, _ in sample.LAYOUT_NOTES} == set(sample.PROJECT_LAYOUTS)
        assert all(f"  · {u}：" in readme for u in sample.PROJECT_LAYOUTS) and f"1-{spec.as_of.month}月完成" in readme


def test_headers_are_read_as_the_generator_meant_and_every_kind_is_present(small):
    """Every header on disk is found by the pipeline's own header reader at the rows the generator wrote it,
    and every column maps to the column the generator meant; the planted unknown header maps to none."""
    root, planned = small
    kinds = set()
    for rid, (books, _) in planned.items():
        for book in books:
            for grid in book.sheets:
                rows = read_grid(root / rid / book.path, sheet_of(book, grid))
                assert "（样例数据）" in text(rows[0][0]), (book.path, grid.name)
                if grid.kind is None:
                    continue
                header = headers.find_header(rows, ALIASES)
                assert header is not None and header.kind.name == grid.kind, (book.path, grid.name)
                written_rows = grid.rows_of("header")
                assert (header.first_row + 1, header.last_row + 1) == (written_rows[0], written_rows[-1])
                mapped = {c.index: c.column for c in header.columns}
                for j, col in enumerate(grid.cols):
                    expected = None if col.field.startswith("_") else col.field
                    assert mapped.get(j) == expected, (book.path, grid.name, col.label, mapped.get(j))
                found = {c.column for c in header.known}
                if grid.kind == "projects" and "batch" not in found:  # one sheet per batch: in its name and title
                    ctx = context.sheet_context(rows, header, sheet_of(book, grid), book.path)
                    assert ctx.batch is not None and grid.name.startswith(ctx.batch.value), (book.path, grid.name)
                    found.add("batch")
                assert set(header.kind.required) <= found, (book.path, grid.name)
                assert grid.rows_of("data"), (book.path, grid.name)
                kinds.add(grid.kind)
    assert kinds == set(schemas.RETURN_KINDS)


def test_formats_encodings_and_merges(small):
    root, planned = small
    folder = root / CURRENT
    paths = [p for p in folder.rglob("*") if p.suffix in (".xlsx", ".xls", ".csv")]
    assert {p.suffix for p in paths} == {".xlsx", ".xls", ".csv"}
    gb, bom = [], []
    for p in paths:
        data = p.read_bytes()
        if p.suffix == ".xls":
            assert data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
        elif p.suffix == ".xlsx":
            assert data.startswith(b"PK")
        elif data.startswith(codecs.BOM_UTF8):
            bom.append(p)
            assert "样例数据" in data.decode("utf-8-sig")
        else:
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert "样例数据" in data.decode("gb18030")
            gb.append(p)
    assert len(gb) >= 3 and len(bom) == 1
    # Real merged cells: a two-row header in an xlsx (openpyxl) and in a legacy xls (calamine).
    books, _ = planned[CURRENT]
    yinchuan = next(b for b in books if b.unit == "银川市" and b.sheets[-1].kind == "projects")
    ws = openpyxl.load_workbook(folder / yinchuan.path)["第一批"]
    ranges = {str(r) for r in ws.merged_cells.ranges}
    assert "A3:A4" in ranges and "I3:J3" in ranges  # 序号 down both header rows; 2021年投资 over 计划/完成
    assert ws["I3"].value == "2021年投资" and ws["I4"].value == "计划" and ws["J4"].value == "完成"
    xls = next(b for b in books if b.format == "xls" and b.unit == "石嘴山市")
    merged = (python_calamine.CalamineWorkbook.from_path(str(folder / xls.path))
              .get_sheet_by_name("重大项目").merged_cell_ranges)
    assert ((2, 9), (2, 10)) in merged and ((2, 0), (3, 0)) in merged


def test_every_file_says_its_unit(small):
    """Folder, file name or footer (填报单位) names the unit; one file only in its footer."""
    root, planned = small
    for rid, (books, _) in planned.items():
        units_from = set()
        for book in books:
            parts = book.path.split("/")
            named = [u for u in sample.UNITS if u in book.path]
            if book.unit_from == "folder":
                assert parts[0] == book.unit
            elif book.unit_from == "file_name":
                assert len(parts) == 1 and named == [book.unit]
            else:
                assert named == [], book.path
            units_from.add(book.unit_from)
            for grid in book.sheets:
                if grid.kind is None:
                    continue
                rows = read_grid(root / rid / book.path, sheet_of(book, grid))
                footer = text(rows[grid.rows_of("footer")[0] - 1][0])
                assert footer.startswith("填报单位：") and book.unit in footer.split()[0], (book.path, footer)
        assert units_from == {"folder", "file_name", "footer"}


def test_several_sheets_and_a_sheet_that_is_not_a_return(small):
    root, planned = small
    books, _ = planned[CURRENT]
    yinchuan = next(b for b in books if b.path.startswith("银川市/银川市重大项目进展情况表"))
    assert sheet_names(root / CURRENT / yinchuan.path) == ["填表说明", "第一批", "第二批"]
    notes = read_grid(root / CURRENT / yinchuan.path, "填表说明")
    assert all(not any(ALIASES.lookup(v) for v in line) for line in notes)


# --------------------------------------------------------------------------- planted mistakes


def test_planted_mistakes_point_at_what_they_say(small):
    root, _ = small
    check_planted(root / CURRENT)
    assert json.loads((root / PREVIOUS / sample.MISTAKES_FILE).read_text(encoding="utf-8")) == []


def check_planted(folder: Path) -> list[dict]:
    mistakes = json.loads((folder / sample.MISTAKES_FILE).read_text(encoding="utf-8"))
    assert REQUIRED_MISTAKES <= {m["kind"] for m in mistakes} <= set(sample.MISTAKE_KINDS)
    assert 10 <= len(mistakes) <= 14
    as_of = sample.CURRENT.as_of
    for m in mistakes:
        assert set(m) == {"file", "sheet", "row", "column", "kind", "description"}
        assert m["description"] and any("\u4e00" <= ch <= "\u9fff" for ch in m["description"])
        if m["kind"] == "missing_return":
            assert (m["file"], m["sheet"], m["row"], m["column"]) == ("", "", 0, "")
            assert sample.MISSING_UNIT in m["description"]
            continue
        path = folder / m["file"]
        assert path.is_file() and "\\" not in m["file"], m
        assert m["sheet"] in sheet_names(path), m
        rows = read_grid(path, m["sheet"])
        row = m["row"]
        assert 1 <= row <= len(rows) and any(text(v) for v in rows[row - 1]), m
        assert m["column"], m
        header_row, col = header_cell(rows, m["column"], before=row + 1 if m["kind"] == "unknown_header" else row)
        value = cell(rows, row, col)
        kind = m["kind"]
        if kind == "unknown_header":
            assert header_row == row and ALIASES.lookup(m["column"]) == {}
        elif kind == "text_amount":
            assert isinstance(value, str) and parse_number(value).problem and any(ch.isdigit() for ch in value)
        elif kind == "negative_amount":
            assert parse_number(value).value < 0
        elif kind == "invalid_bool":
            assert parse_bool(value).problem
        elif kind == "invalid_date":
            assert parse_date(value).problem
        elif kind == "start_after_cutoff":
            assert parse_date(value).value > as_of
        elif kind == "missing_name":
            assert is_empty(value)
            assert sum(1 for v in rows[row - 1] if parse_number(v).value is not None) >= 3  # 序号 and amounts
        elif kind == "completed_exceeds_total":
            total_col = next(c for c, v in enumerate(rows[header_row - 1])
                             if ALIASES.lookup(text(v)).get("projects") == "total_investment")
            assert parse_number(value).value > parse_number(cell(rows, row, total_col)).value
        elif kind == "duplicate_code":
            earlier = [r for r in range(header_row + 1, row) if text(cell(rows, r, col)) == text(value)]
            assert text(value) and len(earlier) == 1
            same = rows[earlier[0] - 1]
            assert [text(v) for v in same[1:]] == [text(v) for v in rows[row - 1][1:]]  # the row pasted twice
        elif kind == "total_mismatch":
            assert text(rows[row - 1][0]) == "合计"
            details = [cell(rows, r, col) for r in range(header_row + 1, row)
                       if parse_number(cell(rows, r, 0)).value is not None]  # rows with a 序号, not 小计
            assert details
            assert abs(parse_number(value).value - sum(parse_number(v).value for v in details)) >= 1
        elif kind == "group_total_mismatch":
            label = text(rows[row - 1][header_cell(rows, "项目名称", row)[1]])
            m_count = re.match(r"^[一二三四五六七八九十]、(.+)（(\d+)个）$", label)
            assert m_count, label
            below = _rows_under_heading(rows, row)
            assert len(below) == int(m_count.group(2))  # the count is right; the amount is not
            summed = sum(parse_number(cell(rows, r, col)).value for r in below)
            assert abs(parse_number(value).value - summed) >= 1
            assert "分组行" in m["description"] and "不计入项目个数" in m["description"]
        else:  # pragma: no cover - every kind above is checked
            pytest.fail(f"unchecked kind {kind}")
    return mistakes


def _rows_under_heading(rows: list[list[Any]], heading: int) -> list[int]:
    """The data rows (those with a 序号) from a group heading to the next heading or 合计."""
    out = []
    for r in range(heading + 1, len(rows) + 1):
        first, = [text(v) for v in rows[r - 1][:1]] or [""]
        name = " ".join(text(v) for v in rows[r - 1][1:4])
        if re.match(r"^[一二三四五六七八九十]、", name) or first == "合计":
            break
        if parse_number(first).value is not None:
            out.append(r)
    return out


def test_missing_unit_sends_nothing_this_round_only(small):
    root, _ = small
    unit = sample.MISSING_UNIT
    mentions = {rid: [key for key, rows in read_round(root / rid).items()
                      if unit in key[0] or any(unit in text(v) for line in rows for v in line)]
                for rid in (CURRENT, PREVIOUS)}
    assert mentions[CURRENT] == []
    assert mentions[PREVIOUS]  # in the previous round it did report, so the check above can fail
    assert unit in yaml.safe_load((root / CURRENT / "round.yml").read_text(encoding="utf-8"))["units"]


def test_splits_into_more_sheets_and_files_as_projects_grow(tmp_path, monkeypatch):
    monkeypatch.setattr(sample, "ROWS_PER_SHEET", 12)
    monkeypatch.setattr(sample, "SHEETS_PER_BOOK", 2)
    few, many = sample.plan_rounds(60, SEED), sample.plan_rounds(240, SEED)
    sheets = {n: sum(1 for b in p[CURRENT][0] for g in b.sheets if g.kind) for n, p in ((60, few), (240, many))}
    assert len(many[CURRENT][0]) > len(few[CURRENT][0]) + 8 and sheets[240] > 2 * sheets[60] - 20
    for books, _ in (few[CURRENT], many[CURRENT]):
        for book in books:
            returns = [g for g in book.sheets if g.kind]
            assert len(returns) <= 2 + 2  # projects sheets plus a unit's 主要指标/典型做法 sheets
            scaled = [g for g in returns if g.kind in ("projects", "attraction")]  # the rest do not grow with n
            assert all(len(g.rows_of("data")) <= 12 + 1 for g in scaled)  # + the planted duplicate row
    sample.write_sample_rounds(tmp_path, n_projects=240, seed=SEED)
    check_planted(tmp_path / CURRENT)


# --------------------------------------------------------------------------- the default sample (600 projects)


def test_default_round_contents(default):
    root, planned = default
    facts = {}
    for rid in (CURRENT, PREVIOUS):
        books, mistakes = planned[rid]
        skip = {(m["file"], m["sheet"], m["row"]) for m in mistakes}
        projects: dict[str, dict] = {}
        plan = done = 0.0
        by_unit: dict[str, list[float]] = {}
        grids: dict[tuple[str, str], list] = {}
        for book, grid, r, rec in records(root / rid, books, "projects"):
            if (book.path, sheet_of(book, grid), r) in skip:
                continue
            key = (book.path, grid.name)
            rows = grids.setdefault(key, read_grid(root / rid / book.path, sheet_of(book, grid)))
            f_plan, f_done = money_factor(rows, grid, "annual_plan"), money_factor(rows, grid, "completed")
            code = text(rec["project_code"])
            p = parse_number(rec["annual_plan"]).value * f_plan
            started = parse_bool(rec["started"]).value
            done_cell = parse_number(rec["completed"]).value
            if done_cell is None:  # “—” or blank is written only for a project not started: it means 0
                assert started is False and (is_empty(rec["completed"]) or text(rec["completed"]) == "—"), (
                    book.path, r)
            d = (done_cell or 0.0) * f_done
            if code not in projects:
                plan, done = plan + p, done + d
                totals = by_unit.setdefault(book.unit, [0.0, 0.0])
                totals[0] += p
                totals[1] += d
            batch = text(rec["batch"]) if "batch" in rec else grid.name  # one sheet per batch, no 批次 column
            projects[code] = dict(batch=schemas.BATCHES[batch], key=parse_bool(rec["is_key"]).value, started=started,
                                  done=d, in_stats=parse_bool(rec["in_stats"]).value, name=text(rec["project_name"]),
                                  unit=book.unit)
        facts[rid] = dict(projects=projects, plan=plan, done=done, by_unit=by_unit)

    cur, prev = facts[CURRENT], facts[PREVIOUS]
    # The planted rows are left out above; every project is still there in the tidy previous round.
    assert len(prev["projects"]) == 600 and len(cur["projects"]) >= 590
    assert set(cur["projects"]) <= set(prev["projects"])
    batches = [p["batch"] for p in prev["projects"].values()]
    assert set(batches) == {"第一批", "第二批"}
    assert 250 <= batches.count("第一批") <= 400
    assert sum(1 for p in prev["projects"].values() if p["key"]) == 60
    assert 2_000_000 <= cur["plan"] <= 10_000_000  # several hundred 亿元 planned (万元)
    # Fewer started and less invested in the previous round.
    started_cur = {c for c, p in cur["projects"].items() if p["started"]}
    started_prev = {c for c, p in prev["projects"].items() if p["started"]}
    assert started_prev <= started_cur | (set(prev["projects"]) - set(cur["projects"]))
    assert len(started_cur - started_prev) >= 20
    assert prev["done"] < 0.8 * cur["done"]
    # The findings the report lists have data: not started, started with nothing invested, not 入统.
    values = cur["projects"].values()
    assert sum(1 for p in values if p["started"] is False) >= 10
    assert sum(1 for p in values if p["started"] and p["done"] == 0) >= 5
    assert sum(1 for p in values if p["started"] and p["in_stats"] is False) >= 5
    # Some units ahead of time progress (11/12), some far behind it.
    rates = {u: d / p for u, (p, d) in cur["by_unit"].items()}
    assert max(rates.values()) > 11 / 12 and min(rates.values()) < 11 / 12 - 0.20
    # The shared project: one code, one name, two units.
    shared = [(c, n) for c, n in _codes_by_unit(root / CURRENT, planned[CURRENT][0], "银川市").items()
              if _codes_by_unit(root / CURRENT, planned[CURRENT][0], "交通运输厅").get(c) == n]
    assert len(shared) == 1 and shared[0][1]

    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024
    assert len(check_planted(root / CURRENT)) == 12


def _codes_by_unit(folder: Path, books: list[sample.Book], unit: str) -> dict[str, str]:
    return {text(rec["project_code"]): text(rec["project_name"])
            for book, _, _, rec in records(folder, [b for b in books if b.unit == unit], "projects")}


def test_committed_sample_rounds_are_what_the_generator_writes(default):
    """data/raw/2021-12 and 2021-09 in the repository are the default sample, byte for byte."""
    root, _ = default
    for rid in (CURRENT, PREVIOUS):
        committed = config.RAW_DATA_DIR / rid
        if not committed.is_dir():
            pytest.skip(f"{committed} 尚未生成")
        fresh = sorted(p.relative_to(root / rid) for p in (root / rid).rglob("*") if p.is_file())
        assert sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) == fresh
        for rel in fresh:
            assert (committed / rel).read_bytes() == (root / rid / rel).read_bytes(), rel


# --------------------------------------------------------------------------- command line


def test_cli_writes_and_reports_in_chinese(tmp_path, capsys):
    assert sample.main(["--out", str(tmp_path), "--projects", str(SMALL), "--seed", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert "已生成样例轮次 2021-12" in out and "已生成样例轮次 2021-09" in out and "虚构" in out
    assert (tmp_path / CURRENT / "round.yml").is_file()
    # Running again replaces a sample round …
    assert sample.main(["--out", str(tmp_path), "--projects", str(SMALL)]) == 0


def test_cli_refuses_to_overwrite_real_returns(tmp_path, capsys):
    real = tmp_path / CURRENT / "银川市.xlsx"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"real return")
    assert sample.main(["--out", str(tmp_path), "--projects", str(SMALL)]) == 2
    assert "不是样例数据" in capsys.readouterr().err
    assert real.read_bytes() == b"real return" and not (tmp_path / PREVIOUS).exists()


def test_too_few_projects_is_refused(tmp_path):
    with pytest.raises(sample.SampleError, match="不少于"):
        sample.write_sample_rounds(tmp_path, n_projects=10)
    assert not any(tmp_path.iterdir())


def test_help_is_chinese(capsys):
    with pytest.raises(SystemExit):
        sample.main(["--help"])
    out = capsys.readouterr().out
    assert "样例" in out and "默认600" in out and "data/raw" in out


# --------------------------------------------------------------------------- layouts other offices use


def _grid(books: list[sample.Book], unit: str, kind: str = "projects") -> tuple[sample.Book, sample.Grid]:
    return next((b, g) for b in books if b.unit == unit for g in b.sheets if g.kind == kind)


def test_one_sheet_per_batch_with_the_batch_only_in_sheet_name_and_title(default):
    root, planned = default
    books, _ = planned[CURRENT]
    book = next(b for b in books if b.path.startswith("银川市/银川市重大项目进展情况表"))
    for batch in ("第一批", "第二批"):
        rows = read_grid(root / CURRENT / book.path, batch)
        assert f"2021年{batch}集中开工重大项目进展情况表" in text(rows[0][0])
        header = headers.find_header(rows, ALIASES)
        assert header.index_of("batch") is None and "batch" in header.kind.required
        assert context.sheet_context(rows, header, batch, book.path).batch.value == batch


def test_group_headings_and_county_subtotals_carry_the_sums_of_their_rows(default):
    root, planned = default
    books, mistakes = planned[CURRENT]
    book, grid = _grid(books, "石嘴山市")
    rows = read_grid(root / CURRENT / book.path, grid.name)
    name_j = next(j for j, c in enumerate(grid.cols) if c.field == "project_name")
    money = [j for j, c in enumerate(grid.cols) if c.field in ("total_investment", "annual_plan", "completed")]
    planted = {(m["row"], m["column"]) for m in mistakes if m["file"] == book.path}
    headings, subtotals, since = [], [], []
    order = sorted((r, role) for role in ("group", "total", "data") for r in grid.rows_of(role))
    for r, role in order:
        label = text(cell(rows, r, name_j)) or text(cell(rows, r, 0))
        if role == "data":
            since.append(r)
            headings[-1][1].append(r)  # a heading covers the rows up to the next one (both are level 1)
            continue
        if role == "group":
            assert re.match(r"^[一二]、(产业项目|基础设施项目)（\d+个）$", label) and not text(cell(rows, r, 0))
            headings.append((r, []))
            since = []
            continue
        if label == "合计":
            continue
        assert re.match(r"^.+[区县市]小计$", label) and not text(cell(rows, r, 0)), label  # in the name column
        subtotals.append(r)
        for j in money:
            assert parse_number(cell(rows, r, j)).value == sum(parse_number(cell(rows, d, j)).value for d in since)
        since = []
    assert len(headings) == 2 and len(subtotals) >= 4
    for r, under in headings:
        label = text(cell(rows, r, name_j))
        assert int(re.search(r"（(\d+)个）", label).group(1)) == len(under)
        for j in money:
            stated = parse_number(cell(rows, r, j)).value
            summed = sum(parse_number(cell(rows, d, j)).value for d in under)
            written = grid.cols[j].written
            assert (stated != summed) == ((r, written) in planted), (label, written)
    assert sum(len(under) for _, under in headings) == len(grid.rows_of("data"))


def test_a_three_row_header_with_a_completion_rate_column(default):
    root, planned = default
    books, _ = planned[CURRENT]
    book, grid = _grid(books, "住房城乡建设厅")
    assert grid.rows_of("header") == [2, 3, 4]
    ws = openpyxl.load_workbook(root / CURRENT / book.path)[grid.name]
    ranges = {str(r) for r in ws.merged_cells.ranges}
    assert ws["I2"].value == "投资情况（万元）" and "I2:K2" in ranges
    assert ws["I3"].value == "项目总投资" and "I3:I4" in ranges
    assert ws["J3"].value == "2021年投资" and "J3:K3" in ranges
    assert (ws["J4"].value, ws["K4"].value) == ("年度计划", f"1-{sample.CURRENT.as_of.month}月完成")
    assert ws["L2"].value == "完成率(%)" and "L2:L4" in ranges and "A2:A4" in ranges
    header = headers.find_header(read_grid(root / CURRENT / book.path, grid.name), ALIASES)
    assert [header.columns[j].column for j in range(8, 12)] == ["total_investment", "annual_plan", "completed",
                                                                 "stated_completion_pct"]
    for r in grid.rows_of("data")[:20]:
        plan, done, rate = (ws.cell(r, c).value for c in (10, 11, 12))
        assert rate == pytest.approx(round(100 * done / plan, 1))


def test_the_money_unit_stated_only_in_a_note_below_the_table(default):
    root, planned = default
    books, _ = planned[CURRENT]
    book, grid = _grid(books, "中卫市")
    rows = read_grid(root / CURRENT / book.path, grid.name)
    header = headers.find_header(rows, ALIASES)
    above = " ".join(text(v) for line in rows[: header.first_row] for v in line)
    assert "单位" not in above and not any(c.unit for c in header.columns)
    notes = [text(rows[r - 1][0]) for r in grid.rows_of("note")]
    assert notes == ["注：本表金额单位为亿元。"] and max(grid.rows_of("data")) < grid.rows_of("note")[0]
    found = context.sheet_context(rows, header, grid.name, book.path, below=notes).money_unit
    assert (found.value, found.source) == ("亿元", context.FROM_NOTE)


def test_header_synonyms_and_not_started_projects_without_an_amount(default):
    root, planned = default
    books, _ = planned[CURRENT]
    _, water = _grid(books, "水利厅")
    assert {"所在地区", "是否纳统", "开工情况", "项目建设单位"} <= {c.written for c in water.cols}
    seen = {}
    for unit, marker in (("吴忠市", "—"), ("固原市", "")):
        for book, grid, r, rec in records(root / CURRENT, [b for b in books if b.unit == unit], "projects"):
            if parse_bool(rec["started"]).value is False:
                seen.setdefault(unit, set()).add(text(rec["completed"]))
    assert seen == {"吴忠市": {"—"}, "固原市": {""}}
