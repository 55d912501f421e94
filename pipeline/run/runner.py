"""Running a round: the notebook chain, executed with papermill.

    run_round("2021-12")

checks the round (round.yml) first, then executes each notebook of the chain in
order with the parameters ``round_id`` and ``root`` (the absolute project root,
from which every notebook resolves its paths), and writes each executed copy to
``outputs/<round>/notebooks/<notebook>``: the record of the run, to open in
JupyterLab.

The chain is the notebooks of ``CHAIN`` present in the notebooks folder, so it
grows as notebooks are added; a gap (a later step present, an earlier missing)
is an error.

A step whose inputs, parameters and code are unchanged since its last
successful run is skipped (see "Skipping what has not changed" below); `force`
reruns everything.

The kernel is always this process's own Python (``sys.executable``), served
under the kernel name ``KERNEL_NAME`` by an in-memory kernel spec: a "python3"
kernel a user installed in ~/.local/share/jupyter can never be picked up.
``make lab`` registers the same kernel name in the venv, and every executed copy
names it, so reopening an executed notebook uses the project's Python too.
"""
from __future__ import annotations

import ast
import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pipeline import paths, schemas, workers
from pipeline.rounds import Round, RoundError, load_round
from pipeline.run import staging

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec

# Jupyter, papermill and nbformat are imported where they are used: importing them
# takes seconds, and a mistyped round id should be reported at once, and a rerun
# that skips every step should take no longer than hashing its inputs.

# The chain, in order: (notebook file name, step name shown to the user).
CHAIN: list[tuple[str, str]] = [
    ("01_clean.ipynb", "清洗报表"),
    ("02_indicators.ipynb", "计算指标"),
    ("03_figures.ipynb", "绘制图表"),
    ("04_report.ipynb", "生成报告"),
]

# The notebook whose executed copy is exported as report.html (and report.pdf).
REPORT_NOTEBOOK = "04_report.ipynb"

# The project's kernel. The Makefile's `lab` target registers the same name.
KERNEL_NAME = "inspection-pipeline"
KERNEL_DISPLAY_NAME = "Python（督查流水线）"

PARAMETERS_TAG = "parameters"
# Seconds to wait for the kernel to start before calling it a failure.
KERNEL_START_TIMEOUT_S = 120


class UserError(Exception):
    """Something the user can fix; the message (Chinese) says what. The CLI prints it, no traceback."""


class RunError(UserError):
    """A step of the chain failed; the message (Chinese) names the step and where to look."""


@dataclass(frozen=True)
class Step:
    number: int  # 1-based position in CHAIN
    name: str  # Chinese step name
    notebook: Path  # the source notebook

    @property
    def label(self) -> str:
        return f"第{self.number}步「{self.name}」（{self.notebook.name}）"


@dataclass(frozen=True)
class StepResult:
    step: Step
    executed: Path  # the executed copy under outputs/<round>/notebooks/
    seconds: float
    skipped: bool = False  # unchanged since its last successful run: not run again


@dataclass(frozen=True)
class RunResult:
    round: Round
    steps: tuple[StepResult, ...]
    processed_dir: Path  # data/processed/<round>/
    outputs_dir: Path  # outputs/<round>/
    executed_dir: Path  # outputs/<round>/notebooks/
    seconds: float

    @property
    def all_skipped(self) -> bool:
        return bool(self.steps) and all(result.skipped for result in self.steps)


def run_round(
    round_id: str,
    *,
    root: Path = paths.PROJECT_ROOT,
    notebooks_dir: Path | None = None,
    force: bool = False,
    echo: Callable[[str], object] = print,
    progress: bool = True,
    through: int | None = None,
) -> RunResult:
    """Run the chain for one round; raise RoundError, UserError or RunError with a Chinese message.

    force: rerun every notebook, even those whose inputs, parameters and code
    are unchanged since their last successful run (which are skipped otherwise).
    progress: show papermill's per-cell progress bar (on a terminal only).
    through: run only the steps up to this one (1: cleaning only).

    The previous round named in round.yml is an input of every step (its clean
    tables): when they are missing and its returns are there, its cleaning runs
    first, and the user is told so; when that fails, this round does not run.
    """
    started = time.perf_counter()
    root = Path(root).resolve()
    round_ = load_round(round_id, root)  # RoundError: before anything runs, before even the lock
    staging.recover_all(root)  # publishes a crash interrupted, of any round not being run now (pipeline/run/staging.py)
    prepare_previous(round_, root, echo, notebooks_dir=notebooks_dir, progress=progress)
    try:
        with staging.round_lock(round_id, root):
            staging.recover(round_id, root)  # a publish a crash interrupted is completed first
            staging.discard(round_id, root)  # what a killed run left behind: nothing may point into it
            return _run_locked(round_id, root, notebooks_dir, force, echo, progress, started, through)
    except staging.LockedError as exc:
        raise UserError(str(exc) + "。") from None


def prepare_previous(round_: Round, root: Path, echo: Callable[[str], object], *,
                     notebooks_dir: Path | None = None, progress: bool = False) -> None:
    """Clean the previous round first when its clean tables are missing (cycles are refused by load_round)."""
    previous = round_.previous
    if not previous:
        return
    where = paths.RoundPaths(root, previous)
    if all(where.clean_table(kind).is_file() for kind in schemas.RETURN_KINDS):
        return
    if not where.raw.is_dir():
        echo(f"提示：找不到上一轮 {previous} 的数据（data/raw/{previous}/ 和 data/processed/{previous}/ 都不存在），"
             "本轮不作与上一轮的比较。")
        return
    echo(f"上一轮 {previous} 还没有清洗结果（data/processed/{previous}/），先清洗上一轮：")
    try:
        run_round(previous, root=root, notebooks_dir=notebooks_dir, echo=lambda text: echo(textwrap.indent(text, "  ")),
                  progress=progress, through=1)
    except (RoundError, UserError) as exc:
        raise UserError(f"上一轮 {previous} 未能清洗，本轮没有运行：{exc} "
                        f"请先修正上一轮的问题（make report ROUND={previous}），"
                        f"或在 data/raw/{round_.id}/round.yml 中删去 previous 后重新运行。") from None


def _run_locked(round_id: str, root: Path, notebooks_dir: Path | None, force: bool,
                echo: Callable[[str], object], progress: bool, started: float, through: int | None) -> RunResult:
    """run_round, holding the round's lock."""
    round_ = load_round(round_id, root)
    where = paths.RoundPaths(root, round_id)
    steps = chain_steps(Path(notebooks_dir) if notebooks_dir else where.notebooks)[:through]
    _announce(round_, steps, echo, partial=through is not None)
    for step in steps:  # every notebook is checked before the first one runs
        check_notebook(step)
    # The fingerprint names the real root; the notebooks run on the staging copy of it.
    parameters = {"round_id": round_id, "root": str(root)}
    manifest = load_manifest(where.manifest) | {"round": round_id}
    plans = plan_steps(steps, parameters, round_, root, manifest, force=force)
    stage = _prepare_stage(round_id, root) if any(plan.reason for plan in plans) else None
    try:
        results = [_run_step(plan, len(steps), round_id, root, stage, manifest, echo, progress) for plan in plans]
        if stage is not None:
            _wait_for_workbooks(stage, echo)
    except BaseException:
        if stage is not None:  # a writer of this failed run must not write into the next one's stage
            workers.stop_background(stage)
        raise
    if stage is not None:  # every step succeeded: only now do the results replace the last good ones
        with _sigint_deferred():  # Ctrl-C now would make "结果保持上次成功运行的状态" untrue: finish first
            _publish(round_id, root)
            remember_results(manifest, round_id, root)
            save_manifest(where.manifest, manifest)
    return RunResult(round=round_, steps=tuple(results), processed_dir=where.processed, outputs_dir=where.outputs,
                     executed_dir=where.executed, seconds=time.perf_counter() - started)


def _publish(round_id: str, root: Path) -> None:
    try:
        staging.publish(round_id, root)
    except staging.PublishBlocked as exc:
        raise UserError(f"{exc}。") from None


def _wait_for_workbooks(stage: Path, echo: Callable[[str], object]) -> None:
    """The workbooks the steps write in the background (清洗数据.xlsx, 数字来源.xlsx) are part of the run."""
    started = time.perf_counter()
    pending = sorted({p.name[1:-len(workers.WRITING)] for p in stage.rglob(f".*{workers.WRITING}")})
    if pending:
        echo(f"等待后台写出 {'、'.join(pending)} …")
    failures = workers.wait_for_background(stage)
    if failures:
        said = "；".join(f"{name}：{why}" for name, why in failures)
        raise RunError(f"后台写出工作簿失败（{said}）。请检查磁盘空间后重新运行；本次运行的结果未采用："
                       "上次成功运行的结果保持不变。")
    if pending:
        echo(f"      已写出，等待 {format_seconds(time.perf_counter() - started)}。")


def _announce(round_: Round, steps: list[Step], echo: Callable[[str], object], *, partial: bool) -> None:
    names = "、".join(step.name for step in steps)
    echo(f"轮次 {round_.id}（{round_.title}，数据截至 {round_.as_of:%Y-%m-%d}）："
         f"依次运行 {len(steps)} 个步骤：{names}。")
    for warning in round_.warnings:
        echo(warning)
    missing = [name for _, name in CHAIN[len(steps):]]
    if missing and not partial:
        echo(f"（流水线其余步骤的笔记本尚未加入：{'、'.join(missing)}。）")


def _run_step(plan: StepPlan, total: int, round_id: str, root: Path, stage: Path | None, manifest: dict,
              echo: Callable[[str], object], progress: bool) -> StepResult:
    """Run one planned step in the staging copy, or say why it is skipped."""
    step = plan.step
    executed = paths.RoundPaths(root, round_id).executed / step.notebook.name
    if plan.reason is None:
        echo(skip_message(step, total, manifest))
        _echo_summary(paths.step_summary_path(round_id, step.notebook.stem, root), echo)
        return StepResult(step, executed, 0.0, skipped=True)
    echo(f"[{step.number}/{total}] {step.name}（{step.notebook.name}）…")
    echo(f"      运行原因：{plan.reason}。")
    t0 = time.perf_counter()
    summary = paths.step_summary_path(round_id, step.notebook.stem, stage)
    summary.unlink(missing_ok=True)  # a summary left by an earlier run must not be shown as this one's
    forget_steps(manifest, step.number)  # this step and every later one, until they succeed again
    staged = paths.RoundPaths(stage, round_id).executed / step.notebook.name
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_notebook(step, staged, {"round_id": round_id, "root": str(stage)}, root=root, progress=progress)
        _after_step(step, round_id, stage, echo)
    except RunError as exc:
        raise RunError(f"{exc}本次运行的结果未采用：data/processed/{round_id}/ 和 outputs/{round_id}/ "
                       "仍是上次成功运行的结果。") from None
    seconds = time.perf_counter() - t0
    remember_step(manifest, step, plan.inputs, seconds)
    echo(f"      完成，用时 {format_seconds(seconds)}。")
    _echo_summary(summary, echo, stage, root)
    return StepResult(step, executed, seconds)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold back SIGINT (Ctrl-C) until the block is done; it is delivered right after."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _prepare_stage(round_id: str, root: Path) -> Path:
    try:
        return staging.prepare(round_id, root)
    except OSError as exc:
        raise UserError(f"无法准备本次运行的临时文件夹 {staging.staging_root(round_id, root)}：{exc.strerror}。"
                        "请检查磁盘空间和写入权限。") from None


def _echo_summary(summary: Path, echo: Callable[[str], object], stage: Path | None = None,
                  root: Path | None = None) -> None:
    """Print a step's summary; paths in it name the real folders the results are published to."""
    if summary.is_file():
        text = summary.read_text(encoding="utf-8").rstrip()
        if stage is not None and root is not None:
            text = text.replace(str(stage), str(root))
        echo(textwrap.indent(text, "      "))


def _after_step(step: Step, round_id: str, stage: Path, echo: Callable[[str], object]) -> None:
    """What a step's notebook cannot do for itself: the report is exported from its executed copy."""
    if step.notebook.name != REPORT_NOTEBOOK:
        return
    from pipeline.report import export
    from pipeline.report.render import ReportError

    try:
        exported = export.export_report(round_id, stage)
    except ReportError as exc:
        raise RunError(f"{step.label}：{exc}") from None
    made = "、".join(path.name for path in exported.values())
    echo(f"      已生成 {made}。")
    if "pdf" not in exported:
        from pipeline.report import browser

        echo(f"      {browser.missing_hint()}")


def chain_steps(notebooks_dir: Path) -> list[Step]:
    """The steps of CHAIN whose notebook is present: a prefix of CHAIN, never with a gap."""
    present = [(number, file, name) for number, (file, name) in enumerate(CHAIN, 1) if (notebooks_dir / file).is_file()]
    if not present:
        expected = "、".join(file for file, _ in CHAIN)
        raise UserError(f"在 {notebooks_dir} 中找不到流水线的笔记本（应有 {expected}）：请确认在项目根目录下运行。")
    last = present[-1][0]
    for number, (file, name) in enumerate(CHAIN[:last], 1):
        if not (notebooks_dir / file).is_file():
            raise UserError(
                f"缺少第{number}步「{name}」的笔记本 {notebooks_dir / file}，"
                f"而后面的步骤依赖它的结果：请恢复该文件（例如从版本库中）后再运行。"
            )
    return [Step(number, name, notebooks_dir / file) for number, file, name in present]


def run_notebook(step: Step, executed: Path, parameters: dict, *, root: Path, progress: bool = True) -> None:
    """Execute one (checked) notebook with papermill in the project's kernel; raise RunError on any failure."""
    papermill = _import_papermill()
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    bar = {"desc": "      ", "leave": False, "disable": None if progress else True,
           "bar_format": "{desc}{bar:30} {n_fmt}/{total_fmt} 个单元格 [{elapsed}]"}
    where = shown_path(executed, root)
    try:
        with _quiet_papermill_log():
            papermill.execute_notebook(
                str(step.notebook),
                str(executed),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                language="python",
                cwd=str(step.notebook.parent),
                progress_bar=bar,
                start_timeout=KERNEL_START_TIMEOUT_S,
                kernel_manager_class=project_kernel_manager_class(),
            )
    except KeyboardInterrupt:
        _kill_kernels()
        # nbclient's pending tasks now fail with "Kernel died"; asyncio would log each in English.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise
    except papermill.PapermillExecutionError as exc:
        raise RunError(_cell_error_message(step, exc, executed, where)) from None
    except DeadKernelError:
        raise RunError(
            f"{step.label}运行中 Python 内核意外退出（常见原因是内存不足）。"
            f"已执行的部分保存在 {where}，可在 JupyterLab 中打开查看。"
        ) from None
    except CellTimeoutError as exc:
        raise RunError(f"{step.label}的一个单元格运行超时：{_first_line(str(exc))}。"
                       f"已执行的部分保存在 {where}。") from None
    except (NoSuchKernel, RuntimeError, TimeoutError, OSError) as exc:
        python = project_kernel_spec().argv[0]
        if isinstance(exc, OSError) and exc.filename and exc.filename != python:
            raise RunError(
                f"{step.label}无法读写文件 {exc.filename}：{exc.strerror}。"
                "请检查文件夹是否存在、是否有写入权限、磁盘是否已满。"
            ) from None
        raise RunError(
            f"{step.label}无法启动 Python 内核（{python}）：{_first_line(str(exc)) or '原因未知'}。"
            f"请运行 make setup 重新安装环境（需要 ipykernel）后再试。"
        ) from None
    finally:
        if executed.is_file():
            with contextlib.suppress(OSError, ValueError):  # cosmetic: never hide the real outcome
                _name_project_kernel(executed)


def _import_papermill():
    """papermill, without the 1.6 s that jsonschema's optional IRI checker costs on every run.

    papermill validates notebooks through nbformat and jsonschema; jsonschema
    imports rfc3987_syntax when it is installed (JupyterLab's jupyter-events
    brings it), and that module builds a grammar when imported: two thirds of
    papermill's import time. No notebook field is an IRI, so this process does
    without that checker (jsonschema skips it when the import fails).
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # import -> ImportError, which jsonschema expects
    import papermill

    return papermill


def check_notebook(step: Step) -> None:
    """A notebook the runner can run: valid JSON, with a cell tagged `parameters`."""
    try:
        nb = _notebook_json(step.notebook)
    except (OSError, ValueError) as exc:  # a broken or truncated file, not JSON, not a notebook
        why = "无法打开" if isinstance(exc, OSError) else "内容不是有效的笔记本"
        raise UserError(f"{step.label}的笔记本文件无法读取（{why}）："
                        "文件可能已损坏，请从版本库中恢复。") from None
    cells = [cell for cell in nb["cells"] if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])]
    if not cells:
        raise UserError(
            f"{step.label}的笔记本中没有标记为 parameters 的单元格，无法传入 round_id 和 root："
            f"请在 JupyterLab 中给参数单元格加上 parameters 标签。"
        )
    for name in ("round_id", "root"):
        if not re.search(rf"^{name}\s*[:=]", _source(cells[0]), flags=re.MULTILINE):
            raise UserError(f"{step.label}的笔记本的 parameters 单元格中没有 {name}：请加上一行 {name} = \"…\"。")


def parameters_cell_literals(source: str) -> dict[str, object]:
    """The names and values of a parameters cell made only of `name = literal` lines.

    Raises ValueError for anything else (a call, an expression, an import): the
    parameters cell must stay plain so papermill can override it.
    """
    values = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"line {node.lineno}: not a plain `name = literal` assignment")
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


# Kernel processes started by this process: killed when the run is interrupted (Ctrl-C), so that
# none goes on writing into the staging folder after the runner has stopped.
_LIVE_KERNELS: set = set()


def _kill_kernels() -> None:
    for process in list(_LIVE_KERNELS):
        with contextlib.suppress(OSError):
            process.kill()
            process.wait(timeout=10)
        _LIVE_KERNELS.discard(process)


@functools.cache
def project_kernel_manager_class() -> type:
    """A kernel manager whose KERNEL_NAME kernel is this process's Python, served from
    memory so that no kernel.json on disk (a user's "python3", a stale copy) can redirect it."""
    import zmq
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ProjectKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            if kernel_name == KERNEL_NAME:
                return project_kernel_spec()
            return super().get_kernel_spec(kernel_name)

    class ProjectKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return ProjectKernelSpecManager(data_dir=self.data_dir)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            # The kernel's own stdout/stderr carry only its English log lines (and, when the
            # runner is interrupted, ipykernel's ZMQError tracebacks): keep them off the terminal.
            # Cell outputs reach the executed notebook through the kernel's sockets, not these.
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            _LIVE_KERNELS.add(self.provisioner.process)

        @default("transport_encryption")
        def _transport_encryption_default(self) -> str:
            # Encrypt the kernel's sockets when pyzmq can: ipykernel warns on the terminal otherwise.
            return "auto" if zmq.has("curve") else "disabled"

    return ProjectKernelManager


def project_kernel_spec() -> KernelSpec:
    from jupyter_client.kernelspec import KernelSpec

    return KernelSpec(
        name=KERNEL_NAME,
        # -Xfrozen_modules=off: what `ipykernel install` writes on Python 3.11+, and it
        # keeps debugpy's "frozen modules" warning off the user's terminal.
        argv=[sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name=KERNEL_DISPLAY_NAME,
        language="python",
        resource_dir="",
        metadata={"debugger": True, "supported_encryption": ["curve"]},
    )


@contextlib.contextmanager
def _quiet_papermill_log():
    """Keep papermill's and nbclient's English log lines off the terminal while a notebook runs:
    every failure reaches the user as a RunError with a Chinese message instead."""
    logger = logging.getLogger("papermill")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _name_project_kernel(executed: Path) -> None:
    """Make the executed copy name the project's kernel, so JupyterLab reopens it with the project's Python."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
    nbformat.write(nb, executed)


def _cell_error_message(step: Step, exc, executed: Path, where: str) -> str:
    ordinal = _failed_code_cell_ordinal(executed)
    label = f"In [{exc.exec_count}]" if exc.exec_count is not None else ""
    cell = f"第{ordinal}个代码单元格" + (f"（{label}）" if label else "") if ordinal else f"代码单元格 {label}".strip()
    error = f"{exc.ename}: {_first_line(exc.evalue)}" if exc.evalue else exc.ename
    return f"{step.label}的{cell}出错：{error.rstrip('。')}。请在 JupyterLab 中打开 {where} 查看出错的单元格。"


def _failed_code_cell_ordinal(executed: Path) -> int | None:
    """1-based position, among the code cells of the executed copy, of the first cell that failed."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:
        return None
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for ordinal, cell in enumerate(code_cells, 1):
        failed = any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        if failed or cell.get("metadata", {}).get("papermill", {}).get("exception"):
            return ordinal
    return None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def shown_path(path: Path, root: Path) -> str:
    """A path as the user sees it from the project root: relative when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} 分 {rest:02d} 秒"


# --------------------------------------------------------------------------- skipping what has not changed
#
# A step is skipped when everything its result depends on is as it was at its
# last successful run, as recorded in outputs/<round>/run_manifest.json:
#
# - its notebook's cells and the parameters it runs with;
# - the pipeline package's files, all of them but the developer tools (paths.DEVTOOLS:
#   the sample generator and the benchmark): any other change under pipeline/ reruns
#   every step (simple, and sound without knowing which step uses which module),
#   and the Python and the package versions installed;
# - step 1 (cleaning): every file under data/raw/<round>/ (the returns,
#   round.yml and corrections.csv) and data/header_aliases.csv;
# - every step: the previous round's clean tables (data/processed/<previous>/), which
#   cleaning checks amounts against and the comparison with the previous round reads
#   (never its raw returns: run_round cleans the previous round first when they are missing);
# - and what the earlier steps wrote: a step that runs makes every later step run.
#
# A step runs all the same when its executed copy is gone, and every step runs
# when the results under data/processed/<round>/ and outputs/<round>/ were
# changed or deleted since the runner last wrote them (make clean, a file
# removed by hand), or with --force.

MANIFEST_FILE = paths.MANIFEST
MANIFEST_FORMAT = 1
# Files under outputs/<round>/ that commands other than `run` write on request (python -m pipeline template,
# python -m pipeline corrections): not results of the chain, so writing them does not make the next run rerun.
ON_REQUEST_OUTPUTS = ("填报模板", "corrections.csv")

# The inputs of a step's result, as the user is told about them when one changed.
INPUT_LABELS = {
    "notebook": "笔记本",
    "parameters": "运行参数",
    "code": "流水线代码（pipeline/）",
    "environment": "Python 或依赖包的版本",
    "returns": "本轮报表、round.yml 或 corrections.csv",
    "aliases": "表头别名表",
    "previous": "上一轮的数据",
}
CLEANING_INPUTS = ("aliases", "previous")  # step 1 reads these, and each file of the round (ROUND_FILE_KEY)
LATER_INPUTS = ("previous",)  # steps 2 onward read these (and what step 1 wrote)


@dataclass(frozen=True)
class StepPlan:
    step: Step
    inputs: dict[str, str]  # digest of each input of the step's result
    reason: str | None  # why the step runs (Chinese); None: it is skipped


def plan_steps(steps: list[Step], parameters: dict, round_: Round, root: Path, manifest: dict, *,
               force: bool = False) -> list[StepPlan]:
    """Which steps run and why: each unchanged step is skipped, until the first that runs; every later one runs too."""
    shared = round_inputs(round_, root)
    executed_dir = paths.RoundPaths(root, round_.id).executed
    reason_for_all = None
    if force:
        reason_for_all = "使用了 --force，全部重新运行"
    elif results_changed(manifest, round_.id, root):
        reason_for_all = (f"上次运行之后，data/processed/{round_.id}/ 或 outputs/{round_.id}/ 中的结果被改动或删除，"
                          "全部重新运行")
    plans = []
    for step in steps:
        inputs = step_inputs(step, parameters, shared)
        reason = reason_for_all or why_rerun(step, inputs, manifest, executed_dir, root)
        plans.append(StepPlan(step, inputs, reason))
        if reason and not reason_for_all:
            reason_for_all = f"第{step.number}步重新运行，其后的步骤都要重新运行"
    return plans


def why_rerun(step: Step, inputs: dict[str, str], manifest: dict, executed_dir: Path, root: Path) -> str | None:
    """Why a step must run although no earlier step does; None when it can be skipped."""
    last = manifest["steps"].get(step.notebook.name)
    if not isinstance(last, dict) or not isinstance(last.get("inputs"), dict):
        return "没有上次成功运行的记录"
    executed = executed_dir / step.notebook.name
    if not executed.is_file():
        return f"上次执行后的笔记本 {shown_path(executed, root)} 不在了"
    changed = [key for key in {**last["inputs"], **inputs} if last["inputs"].get(key) != inputs.get(key)]
    if changed:
        return changed_text(changed, last["inputs"], inputs)
    return None


# The round's files are digested one by one (round_inputs): a rerun names the files that changed.
ROUND_FILE_KEY = "file:"
NAMED_FILES = 3  # files a reason names before “等”


def changed_text(changed: list[str], before: dict[str, str], now: dict[str, str]) -> str:
    """“吴忠市重大项目表.xlsx 有变化”, “新增 甲.xlsx；流水线代码（pipeline/）有变化”: the round's files by name."""
    files = [k for k in changed if k.startswith(ROUND_FILE_KEY)]
    if "returns" in before:  # a manifest of an older version: one digest for the whole folder
        files = []
        changed = ["returns", *(k for k in changed if k != "returns" and not k.startswith(ROUND_FILE_KEY))]
    said = []
    for word, keys in (("", [k for k in files if k in before and k in now]),
                       ("新增 ", [k for k in files if k not in before]),
                       ("删除了 ", [k for k in files if k not in now])):
        if keys:
            names = [k.removeprefix(ROUND_FILE_KEY) for k in keys]
            shown = "、".join(names[:NAMED_FILES]) + (f"等{len(names)}个文件" if len(names) > NAMED_FILES else "")
            said.append(f"{word}{shown}" + (" 有变化" if not word else ""))
    others = [INPUT_LABELS.get(k, k) for k in changed if not k.startswith(ROUND_FILE_KEY)]
    if others:
        said.append("、".join(others) + "有变化")
    return "；".join(said)


def step_inputs(step: Step, parameters: dict, shared: dict[str, str]) -> dict[str, str]:
    """The digests of what one step's result depends on (see above)."""
    own = CLEANING_INPUTS if step.number == 1 else LATER_INPUTS
    return {
        "notebook": notebook_digest(step.notebook),
        "parameters": _digest_text(json.dumps(parameters, sort_keys=True, ensure_ascii=False)),
        "code": shared["code"],
        "environment": shared["environment"],
        **{key: shared[key] for key in own},
        **({k: v for k, v in shared.items() if k.startswith(ROUND_FILE_KEY)} if step.number == 1 else {}),
    }


def round_inputs(round_: Round, root: Path) -> dict[str, str]:
    """The digests of the inputs steps share: the package, the environment, the round's data, the previous round's."""
    digests = {
        "code": code_digest(),
        "environment": environment_digest(),
        **{ROUND_FILE_KEY + name: digest
           for name, digest in file_digests(paths.raw_round_dir(round_.id, root)).items()},
        "aliases": tree_digest(paths.RoundPaths(root, round_.id).aliases),
    }
    previous = round_.previous or ""
    digests["previous"] = _digest_text("\n".join([
        previous,
        "".join(tree_digest(paths.RoundPaths(root, previous).clean_table(kind)) for kind in schemas.RETURN_KINDS)
        if previous else "",
    ]))
    return digests


def notebook_digest(path: Path) -> str:
    """The notebook's cells (kind, source, tags): not its outputs or metadata, which Jupyter rewrites on save."""
    cells = [(cell.get("cell_type"), _source(cell), cell.get("metadata", {}).get("tags", []))
             for cell in _notebook_json(path)["cells"]]
    return _digest_text(json.dumps(cells, ensure_ascii=False))


def code_digest() -> str:
    """The pipeline code: every file of the package except the developer tools (paths.DEVTOOLS: the sample
    generator and the benchmark), so editing them does not rerun a round."""
    return tree_digest(paths.PACKAGE_DIR, skip=("__pycache__", *paths.DEVTOOLS))


def file_digests(folder: Path) -> dict[str, str]:
    """Each file under a folder (the round's returns, round.yml, corrections.csv) -> the digest of its content, by its
    path relative to the folder; {} for a folder that is not there."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {file.relative_to(folder).as_posix(): tree_digest(file)
            for file in sorted(p for p in folder.rglob("*") if p.is_file())}


def tree_digest(path: Path, *, skip: tuple[str, ...] = ()) -> str:
    """The names and contents of every file under a folder (or of one file); a digest of "absent" if there is none."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*")
                       if p.is_file() and not any(part in skip for part in p.relative_to(path).parts))
    else:
        return _digest_text("absent")
    digest = hashlib.blake2b(digest_size=20)
    for file in files:
        with open(file, "rb") as fh:
            content = hashlib.file_digest(fh, "blake2b").hexdigest()
        digest.update(f"{file.relative_to(path).as_posix() if file != path else file.name}\0{content}\n".encode())
    return digest.hexdigest()


def environment_digest() -> str:
    """The Python version and the name and version of every installed distribution (from the folder names alone)."""
    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    installed = sorted(entry.name for folder in folders if os.path.isdir(folder)
                       for entry in os.scandir(folder) if entry.name.endswith((".dist-info", ".egg-info")))
    return _digest_text("\n".join([sys.version, *installed]))


def results_digest(round_id: str, root: Path) -> str:
    """The result files under data/processed/<round>/ and outputs/<round>/: names, sizes and modification times.

    Not their contents: they are many megabytes, and only the runner writes
    them. The manifest and the executed notebooks (which JupyterLab may save
    when they are opened) are left out.
    """
    outputs = paths.outputs_round_dir(round_id, root)
    entries = []
    for folder in (paths.processed_round_dir(round_id, root), outputs):
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            if (file == outputs / MANIFEST_FILE or (outputs / paths.EXECUTED_NOTEBOOKS) in file.parents
                    or not file.is_file()):
                continue
            if folder == outputs and file.relative_to(outputs).parts[0] in ON_REQUEST_OUTPUTS:
                continue
            stat = file.stat()
            entries.append(f"{file.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return _digest_text("\n".join(entries))


def results_changed(manifest: dict, round_id: str, root: Path) -> bool:
    recorded = manifest.get("results")
    return recorded is not None and recorded != results_digest(round_id, root)


def load_manifest(path: Path) -> dict:
    """The record of the last runs of a round; an empty one if there is none or it cannot be read (then every
    step runs)."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if (not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT
            or not isinstance(manifest.get("steps"), dict)):
        manifest = {"format": MANIFEST_FORMAT, "steps": {}}
    return manifest


def save_manifest(path: Path, manifest: dict) -> None:
    """Write the manifest whole or not at all (an interrupted write leaves the previous one)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def forget_steps(manifest: dict, first: int) -> None:
    """Forget the records of step `first` and of every later step of CHAIN (run or not in this run)."""
    for notebook, _ in CHAIN[first - 1:]:
        manifest["steps"].pop(notebook, None)


def remember_step(manifest: dict, step: Step, inputs: dict[str, str], seconds: float) -> None:
    manifest["steps"][step.notebook.name] = {
        "inputs": inputs,
        "seconds": round(seconds, 2),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
    }


def remember_results(manifest: dict, round_id: str, root: Path) -> None:
    manifest["results"] = results_digest(round_id, root)


def skip_message(step: Step, total: int, manifest: dict) -> str:
    last = manifest["steps"][step.notebook.name]
    when = str(last.get("finished", "")).replace("T", " ")
    return (f"[{step.number}/{total}] {step.name}（{step.notebook.name}）：输入、参数和代码均未变化，跳过"
            f"（沿用 {when} 的结果）。")


def _digest_text(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def _notebook_json(path: Path) -> dict:
    """A notebook file read as plain JSON (nbformat takes seconds to import); ValueError if it is not one."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    if (not isinstance(nb, dict) or not isinstance(nb.get("cells"), list)
            or not all(isinstance(c, dict) for c in nb["cells"])):
        raise ValueError("not a notebook")
    return nb


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
