"""Workers where the platform cannot fork (Windows): each child a fresh interpreter, its memory watched with psutil.

PIPELINE_FORCE_PLATFORM=windows (pipeline/platforms.py) makes this Linux machine take that path: the same
run_forked, the same Outcomes, as on a machine without fork() and without resource limits.
"""
from __future__ import annotations

import os
import signal
import time
import warnings

import pytest

from pipeline import platforms, workers


@pytest.fixture
def spawn(monkeypatch):
    monkeypatch.setenv(platforms.FORCE_ENV, "windows")
    assert platforms.start_method() == "spawn" and not platforms.has_rlimit() and not workers.can_fork()


def _slow_square(k: int) -> int:
    time.sleep(0.1 * (4 - k))  # the first jobs finish last
    return k * k


def _big(n: int) -> list[dict]:
    return [{"row": i, "name": f"项目{i}" * 10} for i in range(n)]


def _fails(how: str):
    if how == "raises":
        raise KeyError("坏键")
    if how == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if how == "exits":
        os._exit(3)
    if how == "warns":
        warnings.warn("第3行的金额单位不明", UserWarning)
        return "warned"
    return os.getpid()


def _grows(chunk_mb: int, chunks: int) -> int:
    held = []
    for k in range(chunks):
        held.append(b"x" * (chunk_mb * 1024 * 1024))  # written, so resident
        time.sleep(0.01)
    return len(held)


def test_outcomes_come_back_in_the_order_of_the_jobs_from_fresh_interpreters(spawn):
    outcomes = workers.run_forked(_slow_square, [(k,) for k in range(5)], processes=3)
    assert [o.value for o in outcomes] == [0, 1, 4, 9, 16] and all(o.ok for o in outcomes)
    pid, = workers.run_forked(_fails, [("pid",)])
    assert pid.value != os.getpid()


def test_a_result_larger_than_a_pipe_comes_back_whole(spawn):
    outcome, = workers.run_forked(_big, [(200_000,)], processes=2)
    assert outcome.ok and len(outcome.value) == 200_000 and outcome.value[-1]["name"] == "项目199999" * 10


def test_each_failure_costs_its_own_job_only(spawn):
    ok, raises, segfault, exits = workers.run_forked(_fails, [("pid",), ("raises",), ("segfault",), ("exits",)],
                                                     processes=2)
    assert ok.ok
    assert isinstance(raises.error, KeyError) and "坏键" in str(raises.error)
    assert segfault.crashed and not segfault.memory
    assert exits.memory and not exits.crashed  # died without a result and without a crash signal: as under fork


def test_warnings_of_a_child_are_given_again_here(spawn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome, = workers.run_forked(_fails, [("warns",)])
    assert outcome.value == "warned" and [str(w.message) for w in caught] == ["第3行的金额单位不明"]


def test_a_child_past_its_memory_budget_is_ended_by_the_watch(spawn):
    started = time.monotonic()
    grown, small = workers.run_forked(_grows, [(16, 120), (1, 2)], processes=2, budget=64 * 1024 * 1024)
    assert grown.memory and not grown.ok and grown.value is None
    assert small.ok and small.value == 2  # the other job is not affected
    assert time.monotonic() - started < 30


def test_a_function_that_cannot_be_sent_to_a_fresh_interpreter_is_its_jobs_error(spawn):
    def local(k):
        return k

    outcome, = workers.run_forked(local, [(1,)])
    assert isinstance(outcome.error, RuntimeError) and "无法交给工作进程" in str(outcome.error)


def test_fork_is_still_used_where_the_platform_forks(monkeypatch):
    monkeypatch.delenv(platforms.FORCE_ENV, raising=False)
    if not hasattr(os, "fork"):
        pytest.skip("this platform cannot fork")
    assert workers.can_fork() and platforms.start_method() == "fork"
    outcome, = workers.run_forked(_fails, [("pid",)])
    assert outcome.ok and outcome.value != os.getpid()
