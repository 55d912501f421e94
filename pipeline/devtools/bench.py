"""The benchmark: `make bench`, or `python -m pipeline.devtools.bench --sizes 600,10000,100000`.

For each size (projects per round) it generates the sample rounds with the
sample generator (into .bench/data-<size>/, kept and reused), lays out a scratch
project (.bench/run-<size>/: a fresh copy of pipeline/ and notebooks/, the alias
table, the generated returns) so that the real data/processed/ and outputs/ are
never touched, and measures there, side by side in the same run:

1. `python -m pipeline run <round> --force`: the papermill chain, end to end, and
   each notebook's time as the runner recorded it;
2. the same command again with nothing changed (every step skipped); after one return's bytes changed, not what
   it says (step 1 reruns, the later steps find its results unchanged); after one number in one return changed
   (edit_one_number: what a unit's corrected return does);
3. the same notebooks' code cells executed in one Python process, without
   papermill or a kernel (each notebook in a fresh namespace, the parameters set
   as papermill's injected cell sets them, cell outputs not rendered);
4. ingest: reading and cleaning every return in process (cleaning.clean_round),
   against a bare read of the same files with the fastest reader (calamine's
   to_python over every sheet; the csv module for .csv), and against
   pandas.read_excel(engine="openpyxl") (openpyxl cannot open .xls or .csv: those
   files get the bare read in that baseline too, which only favours it).

Before the runs it cleans the previous round once, as it would have been when it
was the current one, so that the comparison with the previous round reads its
processed tables in both runs. Peak memory is the largest resident size of any
single process of a run (the runner, a kernel, or the in-process run), from the
kernel's own accounting (wait4).

The targets printed at the end are issue 25's table, every row of it (TARGETS), measured or not.

Every measured command runs in a child process; `python -m pipeline.devtools.bench
inprocess|ingest ...` are those children.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline import paths as config
from pipeline import workers
from pipeline.cli import ChineseParser
from pipeline.run.runner import REPORT_NOTEBOOK

DEFAULT_SIZES = (600, 10_000, 100_000)
# From this size on only read + clean is measured (the chain would take hours on 2 cores): BENCH_SIZES=1000000.
READ_ONLY_FROM = 1_000_000
BENCH_DIR = config.PROJECT_ROOT / ".bench"
SEED = 2021
ROUND, PREVIOUS = "2021-12", "2021-09"  # the sample generator's two rounds
CLEAN_NOTEBOOK = "01_clean.ipynb"

@dataclass(frozen=True)
class Target:
    """One row of issue 25's table: what, the Results key, at which size (None: the largest whose chain was measured),
    the limit, "max" (at most) or "min" (at least), the unit, and the issue's "now" (as filed)."""

    what: str
    key: str
    size: int | None
    limit: float
    sense: str
    unit: str
    now: str


# Issue 25's table, on a 2-core machine, in its order. The 1,000,000 rows need BENCH_SIZES with 100000 and 1000000.
TARGETS = (
    Target("示例轮次（600个项目）端到端，--force，含 report.html/pdf/docx", "chain_seconds", 600, 10.0, "max", "秒",
           "21.3 秒"),
    Target("1万个项目端到端", "chain_seconds", 10_000, 15.0, "max", "秒", "26.3 秒"),
    Target("10万个项目端到端", "chain_seconds", 100_000, 60.0, "max", "秒", "176.5 秒"),
    Target("1万个项目读取+清洗 ÷ calamine 裸读", "ingest_vs_bare", 10_000, 3.0, "max", "倍", "15.6 倍"),
    Target("10万个项目读取+清洗 ÷ calamine 裸读", "ingest_vs_bare", 100_000, 3.0, "max", "倍", "13.9 倍"),
    Target("1万个项目读取+清洗比 openpyxl 读取快", "openpyxl_speedup", 10_000, 2.0, "min", "倍", "0.8 倍（更慢）"),
    Target("10万个项目读取+清洗比 openpyxl 读取快", "openpyxl_speedup", 100_000, 3.0, "min", "倍", "0.72 倍（更慢）"),
    Target("1万个项目改动一个报表（只改字节）后重跑，占端到端", "rerun_one_changed_share", 10_000, 40.0, "max", "%",
           "24.3 秒（92%）"),
    Target("1万个项目改动一个报表中的一个数后重跑，占端到端", "rerun_one_edited_share", 10_000, 40.0, "max", "%", "—"),
    Target("10万个项目改动一个报表（只改字节）后重跑", "rerun_one_changed_seconds", 100_000, 30.0, "max", "秒",
           "134.3 秒"),
    Target("10万个项目改动一个报表中的一个数后重跑", "rerun_one_edited_seconds", 100_000, 30.0, "max", "秒", "—"),
    Target("100万个项目读取+清洗 ÷ 10万个项目的", "million_vs_100k", 1_000_000, 11.0, "max", "倍", "16.9 倍"),
    Target("100万个项目读取+清洗峰值内存", "ingest_peak_mb", 1_000_000, 4096.0, "max", "MB", "5,902 MB"),
    Target("10万个项目峰值内存（保持）", "peak_mb", 100_000, 1024.0, "max", "MB", "946 MB"),
    Target("未变化时重跑（保持）", "rerun_seconds", None, 1.0, "max", "秒", "0.2 秒"),
)


@dataclass
class Measured:
    """One child process: its wall time, the peak resident memory of its largest process, how it ended."""

    seconds: float
    peak_mb: float
    returncode: int
    log: Path


@dataclass
class Results:
    """Every figure of one size."""

    size: int
    files: int = 0
    rows: int = 0
    chain_seconds: float = 0.0  # python -m pipeline run --force
    chain_steps: dict[str, float] = field(default_factory=dict)  # each notebook, as the runner recorded it
    chain_peak_mb: float = 0.0
    rerun_seconds: float = 0.0  # the same with nothing changed
    rerun_all_skipped: bool = False
    rerun_one_changed_seconds: float = 0.0  # the same after one return's bytes changed (not what it says)
    rerun_one_changed_steps: list[str] = field(default_factory=list)  # the notebooks that rerun then ran
    rerun_one_edited_seconds: float = 0.0  # the same after one number in one return changed
    rerun_one_edited_steps: list[str] = field(default_factory=list)
    inprocess_seconds: float = 0.0  # the notebooks' cells in one process
    inprocess_steps: dict[str, float] = field(default_factory=dict)
    inprocess_peak_mb: float = 0.0
    bare_read_seconds: float = 0.0  # calamine (csv module for csv)
    ingest_seconds: float = 0.0  # cleaning.clean_round: read and clean
    openpyxl_seconds: float = 0.0  # pandas.read_excel(engine="openpyxl")
    ingest_peak_mb: float = 0.0  # the read + clean comparison's process (its workers included)
    pdf_pages: int = 0  # report.pdf of the chain

    @property
    def chain_measured(self) -> bool:
        """False for the sizes of which only read + clean is measured (READ_ONLY_FROM)."""
        return self.chain_seconds > 0

    @property
    def peak_mb(self) -> float:
        return max(self.chain_peak_mb, self.inprocess_peak_mb)

    @property
    def openpyxl_speedup(self) -> float:
        return _ratio(self.openpyxl_seconds, self.ingest_seconds)

    @property
    def ingest_vs_bare(self) -> float:
        return _ratio(self.ingest_seconds, self.bare_read_seconds)

    @property
    def chain_vs_inprocess(self) -> float:
        return _ratio(self.chain_seconds, self.inprocess_seconds)

    @property
    def rerun_one_changed_share(self) -> float:
        """The rerun after one return's bytes changed, in % of the full run (--force)."""
        return 100 * _ratio(self.rerun_one_changed_seconds, self.chain_seconds)

    @property
    def rerun_one_edited_share(self) -> float:
        return 100 * _ratio(self.rerun_one_edited_seconds, self.chain_seconds)


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# --------------------------------------------------------------------------- the benchmark


def run_benchmark(sizes: list[int], bench_dir: Path = BENCH_DIR, echo=print) -> list[Results]:
    results = []
    for size in sizes:
        echo(f"\n=== {size:,} 个项目 ===")
        results.append(bench_size(size, bench_dir, echo))
        echo(size_table(results[-1]))
    echo("\n" + summary_table(results))
    echo("\n" + targets_table(results))
    (bench_dir / "results.json").write_text(
        json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return results


def bench_size(size: int, bench_dir: Path, echo=print) -> Results:
    raw_root = generated_rounds(size, bench_dir, echo)
    root = scratch_project(bench_dir / f"run-{size}", raw_root)
    result = Results(size=size)
    if size >= READ_ONLY_FROM:
        echo(f"{size:,} 个项目：只测读取与清洗（端到端在 2 核机器上要数小时）。")
    else:
        bench_chain(root, result, echo)
    echo("读取与清洗 对比 calamine 裸读、openpyxl 读取…")
    ingest = root / "ingest.json"
    measured = _check(measure([sys.executable, "-m", "pipeline.devtools.bench", "ingest", str(root), ROUND,
                               "--out", str(ingest)], root, root / "ingest.log"), "读取对比")
    result.ingest_peak_mb = measured.peak_mb
    for key, value in json.loads(ingest.read_text(encoding="utf-8")).items():
        setattr(result, key, value)
    return result


def bench_chain(root: Path, result: Results, echo=print) -> None:
    """The chain with --force, rerun with nothing changed, rerun after one return changed, the same code in process."""
    python = [sys.executable]
    echo("准备：清洗上一轮（实际使用时上一轮早已处理过），不计入下面的用时…")
    _check(measure(python + ["-m", "pipeline.devtools.bench", "inprocess", str(root), PREVIOUS, CLEAN_NOTEBOOK],
                   root, root / "prepare.log", in_process=True), "准备上一轮")

    echo("1/4 papermill 链：python -m pipeline run --force …")
    chain = _check(measure(python + ["-m", "pipeline", "run", ROUND, "--force"], root, root / "chain.log"),
                   "papermill 链")
    result.chain_seconds, result.chain_peak_mb = chain.seconds, chain.peak_mb
    manifest = json.loads((config.outputs_round_dir(ROUND, root) / "run_manifest.json").read_text(encoding="utf-8"))
    result.chain_steps = {name: step["seconds"] for name, step in manifest["steps"].items()}
    result.pdf_pages = pdf_pages(config.outputs_round_dir(ROUND, root) / config.REPORT_PDF)

    echo("2/4 重跑：未变化时，以及改动一个报表文件后：python -m pipeline run …")
    rerun = _check(measure(python + ["-m", "pipeline", "run", ROUND], root, root / "rerun.log"), "重跑")
    result.rerun_seconds = rerun.seconds
    result.rerun_all_skipped = "全部跳过" in rerun.log.read_text(encoding="utf-8")
    changed = change_one_return(root / "data" / "raw" / ROUND)
    echo(f"    改动的报表（只改字节）：{changed.relative_to(root / 'data' / 'raw')}")
    one = _check(measure(python + ["-m", "pipeline", "run", ROUND], root, root / "rerun-one.log"), "改动一个报表后重跑")
    result.rerun_one_changed_seconds, result.rerun_one_changed_steps = one.seconds, steps_that_ran(one.log)
    edited = edit_one_number(root / "data" / "raw" / ROUND)
    echo(f"    改动一个数的报表：{edited.relative_to(root / 'data' / 'raw')}")
    one = _check(measure(python + ["-m", "pipeline", "run", ROUND], root, root / "rerun-edit.log"),
                 "改动一个数后重跑")
    result.rerun_one_edited_seconds, result.rerun_one_edited_steps = one.seconds, steps_that_ran(one.log)

    echo("3/4 同样的笔记本代码在一个进程中运行（不用 papermill）…")
    times = root / "inprocess.json"
    inproc = _check(measure(python + ["-m", "pipeline.devtools.bench", "inprocess", str(root), ROUND,
                                      "--out", str(times)],
                            root, root / "inprocess.log", in_process=True), "进程内运行")
    result.inprocess_seconds, result.inprocess_peak_mb = inproc.seconds, inproc.peak_mb
    result.inprocess_steps = json.loads(times.read_text(encoding="utf-8"))
    echo("4/4 见下")


def pdf_pages(path: Path) -> int:
    """The pages of a PDF as Chromium prints it (each page one “/Type /Page” object); 0 without the file."""
    import re

    if not path.is_file():
        return 0
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def change_one_return(round_dir: Path) -> Path:
    """Change the bytes of one return of the round, not what it says: the first .xlsx (by path) is zipped again
    with its members dated one day later. The generated rounds are shared by the runs (linked), so a linked
    round folder becomes a copy of its own first. Returns the changed file's path."""
    if round_dir.is_symlink():
        generated = round_dir.resolve()
        round_dir.unlink()
        shutil.copytree(generated, round_dir)
    path = min(p for p in round_dir.rglob("*.xlsx") if p.is_file())
    original = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            moved = zipfile.ZipInfo(info.filename, date_time=_next_day(info.date_time))
            moved.compress_type, moved.external_attr = info.compress_type, info.external_attr
            out.writestr(moved, src.read(info))
    return path


def edit_one_number(round_dir: Path) -> Path:
    """Change what one return says: in the first .xlsx (by path), the last number of its first sheet that is not a
    whole number under 1,000 (not a 序号 or a year) grows by 1, as a unit's corrected return would. Returns its path."""
    import openpyxl

    path = min(p for p in round_dir.rglob("*.xlsx") if p.is_file())
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
             and not (float(cell.value).is_integer() and abs(cell.value) < 1000)]
    if not cells:
        raise SystemExit(f"错误：{path} 的第一个工作表中没有可改动的数。")
    cells[-1].value += 1
    book.save(path)
    return path


def steps_that_ran(log: Path) -> list[str]:
    """The notebooks a run ran (not skipped), from what it printed: “[1/4] 清洗报表（01_clean.ipynb）…”."""
    import re

    text = log.read_text(encoding="utf-8", errors="replace")
    return re.findall(r"^\[\d+/\d+\] \S+（(\S+\.ipynb)）…$", text, flags=re.MULTILINE)


def _next_day(date_time: tuple) -> tuple:
    import datetime as dt

    day = dt.datetime(*date_time) + dt.timedelta(days=1)
    return (day.year, day.month, day.day, day.hour, day.minute, day.second)


def generated_rounds(size: int, bench_dir: Path, echo=print) -> Path:
    """The sample rounds at this size under bench_dir/data-<size>/raw/, generated once and then reused."""
    folder = bench_dir / f"data-{size}"
    ready = folder / "ready.json"
    stamp = {"projects": size, "seed": SEED}
    if ready.is_file() and json.loads(ready.read_text(encoding="utf-8")) == stamp:
        return folder / "raw"
    from pipeline.devtools import sample

    echo(f"生成 {size:,} 个项目的样例轮次（只需一次，保存在 {folder}）…")
    shutil.rmtree(folder, ignore_errors=True)
    sample.write_sample_rounds(folder / "raw", n_projects=size, seed=SEED)
    ready.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return folder / "raw"


def scratch_project(root: Path, raw_root: Path) -> Path:
    """A project root of its own: a fresh copy of the package and the notebooks, the alias table, the returns
    (linked)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    shutil.copytree(config.PACKAGE_DIR, root / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(config.NOTEBOOKS_DIR, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    _link_tree(raw_root.resolve(), root / "data" / "raw")
    return root.resolve()


def _link_tree(source: Path, target: Path) -> None:
    """target/ holds a link to each round folder of source/ (cheap at any size; a round can then be replaced
    by a copy of its own without touching the generated rounds)."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in sorted(source.iterdir()):
        (target / folder.name).symlink_to(folder, target_is_directory=folder.is_dir())


def child_env(root: Path, *, in_process: bool = False) -> dict[str, str]:
    """The environment of a measured command: the scratch copy of the package first on the path.

    Its config then places every path under the scratch root, and so do the
    kernels the runner starts, which inherit the environment.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    if in_process:
        env["MPLBACKEND"] = "Agg"  # what a kernel's inline backend draws with
    return env


def measure(command: list[str], root: Path, log: Path, *, in_process: bool = False) -> Measured:
    """Run a command in the scratch project; its wall time and the peak memory of its largest process."""
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=root, env=child_env(root, in_process=in_process),
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # wait4, not wait: its rusage is this child's, and includes the kernels it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode, log)


def _check(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        tail = "\n".join(measured.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise SystemExit(f"错误：{what}失败（退出码 {measured.returncode}），记录在 {measured.log}：\n{tail}")
    return measured


# --------------------------------------------------------------------------- the children


def notebook_code(path: Path) -> list[tuple[str, bool]]:
    """A notebook's code cells in order: (source, whether it is the parameters cell)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        cells.append((source, "parameters" in cell.get("metadata", {}).get("tags", [])))
    return cells


def run_notebooks_in_process(notebooks: list[Path], parameters: dict) -> dict[str, float]:
    """Execute each notebook's code cells in this process, each notebook in a fresh namespace; seconds per notebook.

    The parameters are set right after the parameters cell, as papermill's
    injected cell does. A cell's last value is not rendered (there is no Jupyter here).
    The report is exported (HTML, and PDF with Chromium) from the chain's executed
    report notebook, as the runner does, so both sides do the same work.
    """
    times = {}
    for path in notebooks:
        namespace: dict = {"__name__": "__main__"}
        started = time.perf_counter()
        for source, is_parameters in notebook_code(path):
            exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - the project's own notebooks
            if is_parameters:
                namespace.update(parameters)
        if path.name == REPORT_NOTEBOOK:  # as the runner does right after the report notebook
            from pipeline.report import export

            export.export_report(parameters["round_id"], Path(parameters["root"]))
        times[path.name] = time.perf_counter() - started
    workers.wait_for_background(Path(parameters["root"]))  # as the runner does before publishing (in the total)
    return times


def bare_read(files: list[Path]) -> int:
    """Every cell of every file with the fastest reader, and nothing else: the floor for reading. Returns rows read."""
    import python_calamine

    rows = 0
    for path in files:
        if path.suffix.lower() == ".csv":
            data = path.read_bytes()
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            rows += len(list(csv.reader(io.StringIO(text, newline=""))))
            continue
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return rows


def openpyxl_read(files: list[Path]) -> None:
    """pandas.read_excel with openpyxl for every workbook it can open; the bare read for the others (.xls, .csv)."""
    import pandas as pd

    others = []
    for path in files:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        else:
            others.append(path)
    bare_read(others)


def measure_ingest(root: Path, round_id: str) -> dict[str, float | int]:
    """Read and clean the round in process, and read the same files bare and with openpyxl: seconds of each."""
    from pipeline import schemas
    from pipeline.ingest import cleaning, readers
    from pipeline.rounds import load_round

    round_ = load_round(round_id, root)
    aliases = schemas.load_aliases(root / "data" / "header_aliases.csv")
    files = readers.list_round_files(round_.raw_dir).returns
    for path in files:  # from the page cache from now on, for every reader alike
        path.read_bytes()
    started = time.perf_counter()
    rows = bare_read(files)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    cleaning.clean_round(round_, aliases, echo=lambda *_: None)
    ingest = time.perf_counter() - started
    started = time.perf_counter()
    openpyxl_read(files)
    return {"files": len(files), "rows": rows, "bare_read_seconds": bare, "ingest_seconds": ingest,
            "openpyxl_seconds": time.perf_counter() - started}


# --------------------------------------------------------------------------- printing


def _s(seconds: float) -> str:
    return f"{seconds:.1f} 秒" if seconds < 600 else f"{seconds / 60:.1f} 分"


def size_table(r: Results) -> str:
    lines = [f"{r.size:,} 个项目：{r.files} 个报表文件，{r.rows:,} 行"]
    if r.chain_measured:
        lines += _chain_lines(r)
    else:
        lines.append("  端到端、重跑和进程内运行：未测（只测读取+清洗）")
    lines += [
        f"  读取+清洗（进程内，每核一个工作进程）：{_s(r.ingest_seconds)}，峰值内存 {r.ingest_peak_mb:,.0f} MB；"
        f"calamine 裸读：{_s(r.bare_read_seconds)}；openpyxl 读取：{_s(r.openpyxl_seconds)}",
        f"  比值：读取+清洗比 openpyxl 读取快 {r.openpyxl_speedup:.1f} 倍；读取+清洗 ÷ 裸读 = {r.ingest_vs_bare:.1f}" +
        (f"；papermill 链 ÷ 进程内 = {r.chain_vs_inprocess:.2f}" if r.chain_measured else ""),
    ]
    return "\n".join(lines)


def _chain_lines(r: Results) -> list[str]:
    lines = [f"  papermill 链（python -m pipeline run --force）：{_s(r.chain_seconds)}，"
             f"峰值内存 {r.chain_peak_mb:,.0f} MB"]
    for name, seconds in r.chain_steps.items():
        inproc = r.inprocess_steps.get(name)
        lines.append(f"    {name:<22} {_s(seconds):>9}" + (f"    进程内 {_s(inproc)}" if inproc is not None else ""))
    lines += [
        f"  进程内运行同样的笔记本代码：{_s(r.inprocess_seconds)}，峰值内存 {r.inprocess_peak_mb:,.0f} MB",
        f"  未变化时重跑：{_s(r.rerun_seconds)}" + ("（全部跳过）" if r.rerun_all_skipped else "（未全部跳过！）"),
        f"  改动一个报表（只改字节）后重跑：{_s(r.rerun_one_changed_seconds)}（{r.rerun_one_changed_share:.0f}%），"
        f"运行了 {'、'.join(r.rerun_one_changed_steps) or '—'}",
        f"  改动一个报表中的一个数后重跑：{_s(r.rerun_one_edited_seconds)}（{r.rerun_one_edited_share:.0f}%），"
        f"运行了 {'、'.join(r.rerun_one_edited_steps) or '—'}",
        f"  report.pdf：{r.pdf_pages:,} 页",
    ]
    return lines


def summary_table(results: list[Results]) -> str:
    """All sizes in one Markdown table (the README's 性能 section copies it)."""
    head = ("| 项目数 | 文件 | 数据行 | 端到端（papermill） | 各笔记本 | 进程内 | 链÷进程内 | 重跑（未变化） | "
            "改动一个后重跑（字节 / 一个数） | 峰值内存 | PDF页数 | 读取+清洗 | 裸读 | openpyxl | 比openpyxl快 | "
            "÷裸读 |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        steps = " / ".join(f"{s:.1f}" for s in r.chain_steps.values())
        chain = (f"{r.chain_seconds:.1f} 秒 | {steps} 秒 | {r.inprocess_seconds:.1f} 秒 | {r.chain_vs_inprocess:.2f} | "
                 f"{r.rerun_seconds:.1f} 秒 | {r.rerun_one_changed_seconds:.1f} / "
                 f"{r.rerun_one_edited_seconds:.1f} 秒 | {r.peak_mb:,.0f} MB | "
                 f"{r.pdf_pages:,}" if r.chain_measured
                 else " | ".join(["未测"] * 6 + [f"{r.ingest_peak_mb:,.0f} MB（读取+清洗）", "—"]))
        lines.append(
            f"| {r.size:,} | {r.files} | {r.rows:,} | {chain} | "
            f"{r.ingest_seconds:.1f} 秒 | {r.bare_read_seconds:.1f} 秒 | {r.openpyxl_seconds:.1f} 秒 | "
            f"{r.openpyxl_speedup:.1f}× | {r.ingest_vs_bare:.1f}× |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    what: str
    value: float | None  # None: not measured in this run (its size was not among the sizes)
    limit: float
    sense: str  # "max": at most the limit; "min": at least
    unit: str
    now: str = ""  # the "now"

    @property
    def measured(self) -> bool:
        return self.value is not None

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.limit if self.sense == "max" else self.value >= self.limit


INGEST_KEYS = ("ingest_vs_bare", "openpyxl_speedup", "ingest_peak_mb")  # measured at every size, the chain or not


def target_checks(results: list[Results]) -> list[Check]:
    """Every row of the issue's table, in order: measured (value) or not (None). A row without a size is taken at the
    largest size whose chain was measured; 100万 ÷ 10万 needs both sizes."""
    by_size = {r.size: r for r in results}
    chained = [r for r in results if r.chain_measured]
    checks = []
    for t in TARGETS:
        r = by_size.get(t.size) if t.size else max(chained, key=lambda x: x.size, default=None)
        what = t.what if t.size or r is None else f"{t.what}（{r.size:,} 个项目）"
        if t.key == "million_vs_100k":
            value = (_ratio(by_size[1_000_000].ingest_seconds, by_size[100_000].ingest_seconds)
                     if 100_000 in by_size and 1_000_000 in by_size else None)
        elif r is None or (t.key not in INGEST_KEYS and not r.chain_measured):
            value = None
        else:
            value = getattr(r, t.key)
        checks.append(Check(what, value, t.limit, t.sense, t.unit, t.now))
    return checks


def targets_table(results: list[Results]) -> str:
    """Issue 25's table, every row: the issue's "now", this run's figure, the target, met or not (or not measured)."""
    lines = ["目标（议题 25，2 核机器）：本次测得 / 目标 / 议题中的“现在”"]
    for c in target_checks(results):
        bound = f"{'≤' if c.sense == 'max' else '≥'} {c.limit:g} {c.unit}"
        if not c.measured:
            lines.append(f"  未测    {c.what}：本次规模中没有（目标 {bound}；议题中 {c.now}）")
            continue
        lines.append(f"  {'达标  ' if c.met else '未达标'}  {c.what}：{c.value:,.2f} {c.unit}"
                     f"（目标 {bound}；议题中 {c.now}）")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def parse_sizes(text: str) -> list[int]:
    """'600,10000,100000' (also with spaces, underscores or 10k/100k) -> [600, 10000, 100000]."""
    sizes = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        part = part.replace("_", "").lower()
        factor = 1000 if part.endswith("k") else 1
        number = part[:-1] if factor > 1 else part
        if not number.isdigit() or int(number) * factor < 50:
            raise ValueError(f"规模“{part}”无效：应为不小于50的项目数，例如 600,10000,100000")
        sizes.append(int(number) * factor)
    if not sizes:
        raise ValueError("没有给出规模：例如 600,10000,100000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("inprocess", "ingest"):
        return _child(argv)
    parser = ChineseParser(prog="python -m pipeline.devtools.bench",
                           description="测量流水线在不同规模下的用时、峰值内存和比值。")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="项目数，逗号分隔（默认 600,10000,100000；10万个项目需要十几分钟；1000000 只测读取与清洗，"
                             "生成数据和读取都要很久）")
    parser.add_argument("--dir", type=Path, default=BENCH_DIR, help="生成数据和临时项目的文件夹（默认 .bench/）")
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"基准测试：{os.cpu_count()} 核，Python {sys.version.split()[0]}；"
          f"规模 {', '.join(f'{s:,}' for s in sizes)} 个项目。")
    run_benchmark(sizes, args.dir.resolve())
    return 0


def _child(argv: list[str]) -> int:
    """The measured children: `inprocess ROOT ROUND [NOTEBOOK ...] [--out FILE]` and `ingest ROOT ROUND --out FILE`."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.devtools.bench")
    parser.add_argument("mode", choices=["inprocess", "ingest"])
    parser.add_argument("root", type=Path)
    parser.add_argument("round_id")
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.mode == "ingest":
        figures = measure_ingest(root, args.round_id)
    else:
        from pipeline.run.runner import chain_steps

        steps = [s.notebook for s in chain_steps(root / "notebooks")
                 if not args.notebooks or s.notebook.name in args.notebooks]
        os.chdir(root / "notebooks")  # where papermill runs them
        figures = run_notebooks_in_process(steps, {"round_id": args.round_id, "root": str(root)})
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
