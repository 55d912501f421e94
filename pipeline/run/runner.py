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

The notebooks run in one kernel of the project's own Python (pipeline/run/kernels.py),
started, with the first notebook's modules imported, when the run begins, and cleared between two
notebooks (each starts with an empty namespace, its cells counted from 1); papermill
writes each executed copy when its notebook ends (finished or failed), not at every cell.
"""
from __future__ import annotations

import ast
import contextlib
import logging
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline import paths, schemas, workers
from pipeline.paths import shown_path
from pipeline.rounds import Round, RoundError, load_round
from pipeline.run import kernels, rerun, staging
from pipeline.run.kernels import KERNEL_DISPLAY_NAME, KERNEL_NAME
from pipeline.run.steps import CHAIN, Step

# Jupyter, papermill and nbformat are imported where they are used: importing them
# takes seconds, and a mistyped round id should be reported at once, and a rerun
# that skips every step should take no longer than hashing its inputs.

# The notebook whose executed copy is exported as report.html (and report.pdf).
REPORT_NOTEBOOK = "04_report.ipynb"

PARAMETERS_TAG = "parameters"


class UserError(Exception):
    """Something the user can fix; the message (Chinese) says what. The CLI prints it, no traceback."""


class RunError(UserError):
    """A step of the chain failed; the message (Chinese) names the step and where to look."""


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
    manifest = rerun.load_manifest(where.manifest) | {"round": round_id}
    plans = rerun.plan_steps(steps, parameters, round_, root, manifest, force=force)
    stage = _prepare_stage(round_id, root) if any(plan.reason for plan in plans) else None
    try:
        results = _run_steps(plans, len(steps), round_id, root, stage, manifest, echo, progress)
        if stage is not None:
            _wait_for_background(stage, echo)
    except BaseException:
        if stage is not None:  # a writer of this failed run must not write into the next one's stage
            workers.stop_background(stage)
        raise
    if stage is not None:  # every step succeeded: only now do the results replace the last good ones
        with _sigint_deferred():  # Ctrl-C now would make "结果保持上次成功运行的状态" untrue: finish first
            _publish(round_id, root)
            rerun.remember_results(manifest, round_id, root)
            rerun.save_manifest(where.manifest, manifest)
    return RunResult(round=round_, steps=tuple(results), processed_dir=where.processed, outputs_dir=where.outputs,
                     executed_dir=where.executed, seconds=time.perf_counter() - started)


def _publish(round_id: str, root: Path) -> None:
    try:
        staging.publish(round_id, root)
    except staging.PublishBlocked as exc:
        raise UserError(f"{exc}。") from None


def _wait_for_background(stage: Path, echo: Callable[[str], object]) -> None:
    """The files the steps write in the background (清洗数据.xlsx, 数字来源.xlsx, report.docx) are part of the run."""
    started = time.perf_counter()
    pending = sorted({p.name[1:-len(workers.WRITING)] for p in stage.rglob(f".*{workers.WRITING}")})
    if pending:
        echo(f"等待后台写出 {'、'.join(pending)} …")
    failures = workers.wait_for_background(stage)
    if failures:
        said = "；".join(f"{name}：{why}" for name, why in failures)
        raise RunError(f"后台写出文件失败（{said}）。请按括号中的原因处理（常见的是磁盘空间不足）后重新运行；"
                       "本次运行的结果未采用：上次成功运行的结果保持不变。")
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


def _run_steps(plans: list[rerun.StepPlan], total: int, round_id: str, root: Path, stage: Path | None,
               manifest: dict, echo: Callable[[str], object], progress: bool) -> list[StepResult]:
    """Each planned step in turn. A step that was to run only because an earlier one runs is skipped when what the
    earlier steps wrote is what it found at its last run (rerun.still_needed). The steps that run share one kernel
    (kernels.ChainKernel), started, with the first one's modules imported, before the first of them."""
    last_runs = dict(manifest["steps"])  # as the last successful runs left them; this run's steps replace them
    to_run = [plan.step.notebook for plan in plans if plan.reason is not None]
    kernel = kernels.ChainKernel(to_run) if to_run else None
    if any(notebook.name == REPORT_NOTEBOOK for notebook in to_run):
        _import_in_background("pipeline.report.export")  # the report's export, imported while the steps run
    results, printer = [], None
    try:
        for plan in plans:
            if plan.reason is not None and plan.step.number > 1:
                earlier = rerun.earlier_results(plan.step, round_id, stage, last_runs, manifest["steps"])
                plan = rerun.still_needed(plan, earlier, last_runs)
            if plan.reason is not None and plan.step.notebook.name == REPORT_NOTEBOOK:
                printer = _start_printer()  # while the report notebook runs: the export then prints at once
            results.append(_run_step(plan, total, round_id, root, stage, manifest, echo, progress,
                                     kernel if plan.reason is not None else None, printer))
    finally:
        if kernel is not None:  # a failed or interrupted run leaves no kernel behind either
            kernel.close()
        if printer is not None:  # nor a browser
            printer.close()
    return results


def _start_printer():
    """A Chromium for report.pdf, started now (report/printer.py), or None."""
    from pipeline.report import browser, printer

    return printer.WarmPrinter.start(browser.find_browser(), browser.CHROMIUM_FLAGS)


def _import_in_background(module: str) -> None:
    """Import a module in a thread now, so that it is there when needed (an import that fails is retried, and its
    error met, where the module is used)."""
    import importlib
    import threading

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    threading.Thread(target=load, name=f"import-{module}", daemon=True).start()


def _run_step(plan: rerun.StepPlan, total: int, round_id: str, root: Path, stage: Path | None, manifest: dict,
              echo: Callable[[str], object], progress: bool, kernel: kernels.ChainKernel | None = None,
              printer=None) -> StepResult:
    """Run one planned step in the staging copy, or say why it is skipped."""
    step = plan.step
    executed = paths.RoundPaths(root, round_id).executed / step.notebook.name
    if plan.reason is None:
        echo(rerun.skip_message(step, total, manifest, after_earlier=plan.after_earlier))
        _echo_summary(paths.step_summary_path(round_id, step.notebook.stem, root), echo)
        return StepResult(step, executed, 0.0, skipped=True)
    echo(f"[{step.number}/{total}] {step.name}（{step.notebook.name}）…")
    echo(f"      运行原因：{plan.reason}。")
    t0 = time.perf_counter()
    summary = paths.step_summary_path(round_id, step.notebook.stem, stage)
    summary.unlink(missing_ok=True)  # a summary left by an earlier run must not be shown as this one's
    rerun.forget_steps(manifest, step.number)  # until it succeeds again
    before = rerun.result_files(round_id, stage)
    staged = paths.RoundPaths(stage, round_id).executed / step.notebook.name
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_notebook(step, staged, {"round_id": round_id, "root": str(stage)}, root=root, progress=progress,
                     kernel=kernel)
        _after_step(step, round_id, stage, echo, printer)
    except RunError as exc:
        raise RunError(f"{exc}本次运行的结果未采用：data/processed/{round_id}/ 和 outputs/{round_id}/ "
                       "仍是上次成功运行的结果。") from None
    seconds = time.perf_counter() - t0
    rerun.remember_step(manifest, step, plan.inputs, seconds,
                        rerun.written_between(before, rerun.result_files(round_id, stage)))
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


def _after_step(step: Step, round_id: str, stage: Path, echo: Callable[[str], object], printer=None) -> None:
    """What a step's notebook cannot do for itself: the report is exported from its executed copy (report.pdf printed
    by `printer`, a Chromium started while the notebook ran, when there is one)."""
    if step.notebook.name != REPORT_NOTEBOOK:
        return
    from pipeline.report import export
    from pipeline.report.render import ReportError

    try:
        exported = export.export_report(round_id, stage, printer=printer)
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


def run_notebook(step: Step, executed: Path, parameters: dict, *, root: Path, progress: bool = True,
                 kernel: kernels.ChainKernel | None = None) -> None:
    """Execute one (checked) notebook with papermill in the project's kernel; raise RunError on any failure.

    kernel: the chain's kernel (kernels.ChainKernel); without it, or when it did not come up, papermill starts one
    for this notebook."""
    papermill = _import_papermill()
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    bar = {"desc": "      ", "leave": False, "disable": None if progress else True,
           "bar_format": "{desc}{bar:30} {n_fmt}/{total_fmt} 个单元格 [{elapsed}]"}
    where = shown_path(executed, root)
    try:
        km = kernel.take() if kernel is not None else None
        with _quiet_papermill_log():
            papermill.execute_notebook(
                str(step.notebook),
                str(executed),
                parameters=parameters,
                engine_name=kernels.register_engine(),
                kernel_name=KERNEL_NAME,
                language="python",
                cwd=str(step.notebook.parent),
                progress_bar=bar,
                start_timeout=kernels.KERNEL_START_TIMEOUT_S,
                kernel_manager_class=kernels.project_kernel_manager_class(),
                **({"km": km} if km is not None else {}),
            )
    except KeyboardInterrupt:
        kernels.kill_kernels()
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
        python = kernels.project_kernel_spec().argv[0]
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
                _tidy_executed_copy(executed)


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
        nb = rerun.notebook_json(step.notebook)
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
        if not re.search(rf"^{name}\s*[:=]", rerun.cell_source(cells[0]), flags=re.MULTILINE):
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


def _tidy_executed_copy(executed: Path) -> None:
    """What a reviewer opens in JupyterLab: the executed copy names the project's kernel, so JupyterLab reopens it
    with the project's Python, and its parameters are shown once: the notebook's defaults (the cell tagged
    `parameters`) are folded away under the values this run used (papermill's injected cell right after it)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
    tags = [cell.get("metadata", {}).get("tags", []) for cell in nb.cells]
    if any("injected-parameters" in t for t in tags):
        for cell, cell_tags in zip(nb.cells, tags):
            if PARAMETERS_TAG in cell_tags:
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
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


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} 分 {rest:02d} 秒"
