"""The benchmark's logic on tiny inputs: what it runs, reads and prints (the timings themselves are not tested)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from office import project_row, project_sheet, write_csv, write_xls, write_xlsx
from test_runner import write_notebook

from pipeline.devtools import bench


@pytest.mark.parametrize("text, sizes", [
    ("600,10000,100000", [600, 10_000, 100_000]),
    (" 600, 10k ,100_000 ", [600, 10_000, 100_000]),
    ("600", [600]),
])
def test_sizes_are_read_from_the_make_variable(text, sizes):
    assert bench.parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["", "abc", "10", "600,x"])
def test_a_bad_size_is_refused_in_chinese(text):
    with pytest.raises(ValueError, match="规模"):
        bench.parse_sizes(text)


def test_notebooks_run_in_process_with_the_parameters_set_after_their_cell(tmp_path):
    out = tmp_path / "seen.json"
    write_notebook(tmp_path / "01_clean.ipynb",
                   f"import json\njson.dump({{'round_id': round_id, 'root': root}}, open({str(out)!r}, 'w'))\nround_id")
    write_notebook(tmp_path / "02_indicators.ipynb",
                   "assert 'json' not in dir(), 'each notebook has a fresh namespace'")

    times = bench.run_notebooks_in_process([tmp_path / "01_clean.ipynb", tmp_path / "02_indicators.ipynb"],
                                           {"round_id": "2021-12", "root": "/somewhere"})

    assert json.loads(out.read_text()) == {"round_id": "2021-12", "root": "/somewhere"}
    assert list(times) == ["01_clean.ipynb", "02_indicators.ipynb"] and all(t >= 0 for t in times.values())
    assert [is_parameters for _, is_parameters in bench.notebook_code(tmp_path / "01_clean.ipynb")] == [True, False]


def test_the_baselines_read_every_kind_of_return(tmp_path):
    grid, merges = project_sheet([project_row(1, "P1", "甲项目"), project_row(2, "P2", "乙项目")])
    files = [write_xlsx(tmp_path / "a.xlsx", {"S1": grid, "S2": grid}, {"S1": merges}),
             write_xls(tmp_path / "b.xls", {"S": grid}),
             write_csv(tmp_path / "c.csv", [["项目名称", "总投资"], ["丙项目", "100"]])]

    assert bench.bare_read(files) == 2 * len(grid) + len(grid) + 2
    bench.openpyxl_read(files)  # openpyxl for the xlsx, the bare read for the others: no error


def test_measure_reports_time_memory_and_exit_code(tmp_path):
    code = "import sys; block = bytearray(60 * 1024 * 1024); print('好'); sys.exit(3)"
    measured = bench.measure([sys.executable, "-c", code], tmp_path, tmp_path / "log.txt")
    assert measured.returncode == 3
    assert measured.peak_mb >= 60
    assert measured.seconds > 0
    assert measured.log.read_text(encoding="utf-8").strip() == "好"
    with pytest.raises(SystemExit, match="失败（退出码 3）"):
        bench._check(measured, "测试")


def test_the_scratch_project_imports_its_own_copy_of_the_package(tmp_path):
    raw = tmp_path / "generated"
    (raw / "2021-12").mkdir(parents=True)
    root = bench.scratch_project(tmp_path / "run", raw)

    done = subprocess.run([sys.executable, "-c", "from pipeline import paths as config; print(config.PROJECT_ROOT)"],
                          cwd=tmp_path, env=bench.child_env(root), capture_output=True, text=True)

    assert Path(done.stdout.strip()) == root, "paths of the measured run point into the scratch project"
    assert (root / "data" / "raw" / "2021-12").is_dir()
    assert (root / "notebooks" / "01_clean.ipynb").is_file()
    assert not list((root / "pipeline").rglob("__pycache__"))


def test_generated_rounds_are_reused(tmp_path):
    raw = bench.generated_rounds(50, tmp_path, echo=lambda line: None)
    stamp = (tmp_path / "data-50" / "ready.json").stat().st_mtime_ns
    lines = []
    assert bench.generated_rounds(50, tmp_path, echo=lines.append) == raw
    assert lines == [] and (tmp_path / "data-50" / "ready.json").stat().st_mtime_ns == stamp
    assert (raw / "2021-12" / "round.yml").is_file() and (raw / "2021-09" / "round.yml").is_file()


def results(size: int, **figures) -> bench.Results:
    base = dict(files=30, rows=1200, chain_seconds=25.0,
                chain_steps={"01_clean.ipynb": 6.0, "02_indicators.ipynb": 5.0}, chain_peak_mb=300.0,
                rerun_seconds=0.3, rerun_all_skipped=True, inprocess_seconds=12.5,
                inprocess_steps={"01_clean.ipynb": 2.0}, inprocess_peak_mb=250.0, bare_read_seconds=0.1,
                ingest_seconds=0.3, openpyxl_seconds=1.5)
    return bench.Results(size=size, **(base | figures))


def test_ratios_and_targets():
    small = results(600)
    medium = results(10_000, chain_seconds=20.0, rerun_one_changed_seconds=6.0, rerun_one_edited_seconds=18.0,
                     ingest_seconds=0.9, bare_read_seconds=0.3, openpyxl_seconds=1.0)
    large = results(100_000, chain_seconds=40.0, inprocess_seconds=30.0, chain_peak_mb=2500.0, ingest_seconds=4.0,
                    bare_read_seconds=2.5, openpyxl_seconds=40.0, rerun_one_changed_seconds=20.0,
                    rerun_one_edited_seconds=35.0, pdf_pages=12)

    assert small.openpyxl_speedup == pytest.approx(5.0)
    assert small.ingest_vs_bare == pytest.approx(3.0)
    assert small.chain_vs_inprocess == pytest.approx(2.0)
    assert medium.rerun_one_changed_share == pytest.approx(30.0)
    checks = {c.what: c.met for c in bench.target_checks([small, medium, large])}
    assert checks == {
        "示例轮次（600个项目）端到端，--force，含 report.html/pdf/docx": False,
        "1万个项目端到端": False,
        "10万个项目端到端": True,
        "1万个项目读取+清洗 ÷ calamine 裸读": True,
        "10万个项目读取+清洗 ÷ calamine 裸读": True,
        "1万个项目读取+清洗比 openpyxl 读取快": False,
        "10万个项目读取+清洗比 openpyxl 读取快": True,
        "1万个项目改动一个报表（只改字节）后重跑，占端到端": True,
        "1万个项目改动一个报表中的一个数后重跑，占端到端": False,
        "10万个项目改动一个报表（只改字节）后重跑": True,
        "10万个项目改动一个报表中的一个数后重跑": False,
        "100万个项目读取+清洗 ÷ 10万个项目的": False,
        "100万个项目读取+清洗峰值内存": False,
        "10万个项目峰值内存（保持）": False,
        "未变化时重跑（保持）（100,000 个项目）": True,
    }, "every row of issue 25's table, in its order"
    unmeasured = [c.what for c in bench.target_checks([small, medium, large]) if not c.measured]
    assert unmeasured == ["100万个项目读取+清洗 ÷ 10万个项目的", "100万个项目读取+清洗峰值内存"]
    assert bench.target_checks([results(10_000)])[-1].what == "未变化时重跑（保持）（10,000 个项目）"
    huge = results(1_000_000, ingest_seconds=48.0, ingest_peak_mb=3000.0, chain_seconds=0.0)
    linear = {c.what: (c.value, c.met) for c in bench.target_checks([large, huge])}
    assert linear["100万个项目读取+清洗 ÷ 10万个项目的"] == (pytest.approx(12.0), False)
    assert linear["100万个项目读取+清洗峰值内存"] == (3000.0, True)


def test_every_row_of_the_table_is_printed_measured_or_not():
    text = bench.targets_table([results(600)])
    rows = [line for line in text.splitlines()[1:]]
    assert len(rows) == len(bench.TARGETS)
    assert rows[0].startswith("  未达标  示例轮次（600个项目）端到端") and "（目标 ≤ 10 秒；议题中 21.3 秒）" in rows[0]
    assert rows[1] == "  未测    1万个项目端到端：本次规模中没有（目标 ≤ 15 秒；议题中 26.3 秒）"


def test_steps_that_ran_are_read_from_the_runners_lines(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("[1/4] 清洗报表（01_clean.ipynb）…\n      运行原因：甲.xlsx 有变化。\n"
                   "[2/4] 计算指标（02_indicators.ipynb）：前面步骤的结果与上次相同，其余输入、参数和代码也未变化，"
                   "跳过（沿用 x 的结果）。\n",
                   encoding="utf-8")
    assert bench.steps_that_ran(log) == ["01_clean.ipynb"]


def test_pdf_pages_are_counted_from_the_file(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n"
                    b"3 0 obj <</Type/Page/Parent 1 0 R>>\n")
    assert bench.pdf_pages(pdf) == 2 and bench.pdf_pages(tmp_path / "none.pdf") == 0


def test_tables_print_every_figure_in_chinese():
    r = results(600)
    text = bench.size_table(r) + "\n" + bench.summary_table([r]) + "\n" + bench.targets_table([r])
    for expected in ("25.0 秒", "01_clean.ipynb", "进程内 2.0 秒", "峰值内存 300 MB",
                     "未变化时重跑：0.3 秒（全部跳过）", "快 5.0 倍", "÷ 裸读 = 3.0", "÷ 进程内 = 2.00",
                     "| 600 | 30 | 1,200 | 25.0 秒 | 6.0 / 5.0 秒",
                     "未达标  示例轮次（600个项目）端到端，--force，含 report.html/pdf/docx：25.00 秒"
                     "（目标 ≤ 10 秒；议题中 21.3 秒）",
                     "report.pdf：0 页"):
        assert expected in text, expected
    table = bench.summary_table([r]).splitlines()
    assert len({line.count("|") for line in table}) == 1, "every row of the Markdown table has the header's columns"


def test_changing_one_return_changes_its_bytes_not_what_it_says(tmp_path):
    from python_calamine import CalamineWorkbook

    raw = bench.generated_rounds(50, tmp_path, echo=lambda line: None)
    before = {p: p.read_bytes() for p in (raw / "2021-12").rglob("*") if p.is_file()}
    root = bench.scratch_project(tmp_path / "run", raw)
    round_dir = root / "data" / "raw" / "2021-12"
    assert round_dir.is_symlink()

    changed = bench.change_one_return(round_dir)

    assert not round_dir.is_symlink() and changed.suffix == ".xlsx"
    assert {p: p.read_bytes() for p in (raw / "2021-12").rglob("*") if p.is_file()} == before, "generated files kept"
    original = raw / "2021-12" / changed.relative_to(round_dir)
    assert changed.read_bytes() != original.read_bytes()
    sheets = lambda path: {name: CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()  # noqa: E731
                           for name in CalamineWorkbook.from_path(str(path)).sheet_names}
    assert sheets(changed) == sheets(original)
    others = [p for p in round_dir.rglob("*") if p.is_file() and p != changed]
    assert others and all(p.read_bytes() == before[raw / "2021-12" / p.relative_to(round_dir)] for p in others)


def test_the_largest_sizes_measure_read_and_clean_only(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "READ_ONLY_FROM", 50)
    monkeypatch.setattr(bench, "bench_chain", lambda *a, **k: pytest.fail("the chain ran"))
    lines = []
    result = bench.bench_size(50, tmp_path, echo=lines.append)
    assert any("只测读取与清洗" in line for line in lines)
    assert result.files > 0 and result.rows > 0 and result.ingest_seconds > 0 and result.openpyxl_seconds > 0
    assert result.chain_seconds == 0 and result.rerun_one_changed_seconds == 0
    # what was not measured is said to be, not printed as 0.0 秒
    assert "端到端、重跑和进程内运行：未测" in bench.size_table(result)
    assert "改动一个报表后重跑" not in bench.size_table(result)


def test_editing_one_number_changes_one_cell_of_one_return(tmp_path):
    from python_calamine import CalamineWorkbook

    raw = bench.generated_rounds(50, tmp_path, echo=lambda line: None)
    root = bench.scratch_project(tmp_path / "run", raw)
    round_dir = root / "data" / "raw" / "2021-12"
    bench.change_one_return(round_dir)  # as the benchmark does first: the round becomes a copy of its own
    before = {p: p.read_bytes() for p in round_dir.rglob("*") if p.is_file()}
    first_sheet = lambda path: CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()  # noqa: E731
    original = first_sheet(min(p for p in round_dir.rglob("*.xlsx")))

    edited = bench.edit_one_number(round_dir)

    now = first_sheet(edited)
    differ = [(a, b) for row_a, row_b in zip(original, now) for a, b in zip(row_a, row_b) if a != b]
    assert len(differ) == 1 and differ[0][1] == pytest.approx(differ[0][0] + 1)
    assert all(p.read_bytes() == data for p, data in before.items() if p != edited), "no other file changed"
