"""Runs that collide or stop (issue 10): a lock per round, Ctrl-C, and a run killed outright.

Each test starts real processes (the runner, its kernel) on a temporary project root, and sends them
real signals, as a second terminal or a Ctrl-C would.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import console_encoding
from test_runner import ROUND, ROUND_YML, TRACE, make_project, write_notebook

from pipeline.run import runner, staging

# Runs `python -m pipeline run` on another project root (the command line always uses the real one).
CLI = """
import sys
from pathlib import Path
from pipeline import __main__ as cli, paths as config
from pipeline.run import runner
root = Path(sys.argv[1])
runner.run_round.__kwdefaults__["root"] = root
config.PROJECT_ROOT = root
sys.exit(cli.main(["run", sys.argv[2]]))
"""

# Holds the round's lock, as a run does, until killed.
HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipeline.run import staging
with staging.round_lock(sys.argv[2], Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""

# A cell that announces it is running (a file outside the round's folders) and then takes its time.
SLOW = ("import pathlib, time\n"
        "pathlib.Path(root).joinpath('outputs', round_id, 'half.txt').write_text('half-written', encoding='utf-8')\n"
        "pathlib.Path({flag!r}).write_text('running', encoding='utf-8')\n"
        "time.sleep(60)")


def start(code: str, *args: str, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            encoding=console_encoding(), start_new_session=True, cwd=Path(__file__).parent.parent,
                            preexec_fn=preexec_fn)


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The runner tests' project root: data/raw/2021-12/round.yml and an empty notebooks/ folder."""
    return make_project(tmp_path)


def good_run(root: Path) -> None:
    """One successful run: the results the interrupted runs must leave alone."""
    runner.run_round(ROUND, root=root, echo=lambda _: None, progress=False)
    assert (root / "outputs" / ROUND / "trace.jsonl").is_file()


def test_a_second_run_of_the_same_round_is_refused_naming_the_first(project):
    holder = start(HOLD_LOCK, str(project), ROUND)
    try:
        assert holder.stdout.readline().strip() == "locked"
        write_notebook(project / "notebooks" / "01_clean.ipynb", "x = 1")
        with pytest.raises(runner.UserError) as refused:
            runner.run_round(ROUND, root=project, echo=lambda _: None, progress=False)
        message = str(refused.value)
        assert f"轮次 {ROUND} 正在由另一个进程运行（进程号 {holder.pid}，" in message and "开始）" in message
        assert "请等它结束后再运行" in message
        assert not (project / "outputs").exists(), "the refused run touched nothing"
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_run_does_not_block_the_next(project):
    holder = start(HOLD_LOCK, str(project), ROUND)
    assert holder.stdout.readline().strip() == "locked"
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    with staging.round_lock(ROUND, project):  # taken at once: the kernel released it with the process
        pass


def test_other_rounds_are_not_locked(project):
    holder = start(HOLD_LOCK, str(project), "2021-09")
    try:
        assert holder.stdout.readline().strip() == "locked"
        with staging.round_lock(ROUND, project):
            pass
    finally:
        holder.kill()
        holder.wait()


def _inherit(how: str):
    """What the runner inherits for SIGINT from whatever started it: the default; ignored (a background job of a
    shell without job control, nohup, some IDE task runners); blocked."""
    if how == "ignored":
        return lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    if how == "blocked":
        return lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return None


@pytest.mark.parametrize("inherited", ["default", "ignored", "blocked"])
def test_ctrl_c_prints_one_chinese_line_and_keeps_the_last_good_results(project, tmp_path, inherited):
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"))
    good_run(project)
    before = (project / "outputs" / ROUND / "trace.jsonl").read_text(encoding="utf-8")
    flag = tmp_path / "running.flag"
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"), SLOW.format(flag=str(flag)))

    run = start(CLI, str(project), ROUND, preexec_fn=_inherit(inherited))
    wait_for(flag.exists, "the slow cell to start")
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends: the runner's whole process group
    out, err = run.communicate(timeout=60)

    assert run.returncode == 130
    assert err.strip() == "已中断，结果保持上次成功运行的状态", err
    assert (project / "data" / "raw" / ROUND / "round.yml").read_text(encoding="utf-8") == ROUND_YML  # raw untouched
    assert "Traceback" not in out + err and "ZMQError" not in out + err
    assert (project / "outputs" / ROUND / "trace.jsonl").read_text(encoding="utf-8") == before
    assert not (project / "outputs" / ROUND / "half.txt").exists()


def test_after_sigkill_the_stale_staging_is_cleaned_by_the_next_run(project, tmp_path):
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"))
    good_run(project)
    flag = tmp_path / "running.flag"
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"), SLOW.format(flag=str(flag)))

    run = start(CLI, str(project), ROUND)
    wait_for(flag.exists, "the slow cell to start")
    os.killpg(run.pid, signal.SIGKILL)  # killed outright: no handler runs, the staging folder stays
    run.wait()
    stale = project / ".staging" / ROUND
    assert (stale / "outputs" / ROUND / "half.txt").is_file()
    assert not (project / "outputs" / ROUND / "half.txt").exists()

    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"))  # back as it was: skipped
    lines: list[str] = []
    result = runner.run_round(ROUND, root=project, echo=lines.append, progress=False)

    assert result.all_skipped, lines
    assert not stale.exists(), "the killed run's staging folder is removed at the next run"
    assert not any(".staging" in line for line in lines), lines
    assert not (project / "outputs" / ROUND / "half.txt").exists()
