"""Forked worker processes: work that must not take the round down with it, on every core.

run_forked(function, jobs, processes=n) calls function(*job) for each job in a
forked child, up to n children at a time, and gives back one Outcome per job,
in the order of the jobs, whatever order the children finish in. A child that
raises, runs out of memory or dies of a signal ends as an Outcome that says so;
the other jobs are not affected. The inputs are never pickled (the child is a
fork of this process); each result comes back pickled through a pipe, and the
warnings a job gave are given again here, in the order of the jobs (a child's
own output goes nowhere: in a Jupyter kernel its streams are the kernel's).

Used twice: readers reads one file in a child whose address space is limited
(budget), so a file that would exhaust memory is refused by name; cleaning reads
and cleans the round's files side by side, one child per file and one child per
core.
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import selectors
import signal
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

_CRASH_SIGNALS = {getattr(signal, name) for name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE") if hasattr(signal, name)}


@dataclass
class Outcome:
    """What became of one job: its value, or the exception it raised, or how its process ended."""

    value: Any = None
    error: BaseException | None = None
    memory: bool = False  # MemoryError in the child, or killed when an allocation failed
    crashed: bool = False  # died of a crash signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE)
    warned: list[tuple] = field(default_factory=list)  # the warnings the job gave: (message, category, file, line)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.memory and not self.crashed


def cores() -> int:
    """The cores this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork")


@contextlib.contextmanager
def paused_gc():
    """The cyclic garbage collector paused while a large result is unpickled (a worker's result, a cache entry):
    it would otherwise run again and again over the many cells and records being made, none of them garbage,
    which takes several times as long as the load itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_forked(function: Callable[..., Any], jobs: Sequence[tuple], *, processes: int = 1,
               budget: int | None = None, quiet: bool = False) -> list[Outcome]:
    """function(*job) for every job, each in a forked child, at most `processes` at a time (see the module docstring).

    budget: the address space a child may use beyond this process's (None: no limit).
    quiet: the child's stdout and stderr go to /dev/null (an allocation failure in a Rust reader prints an English
    line there before it aborts).
    """
    outcomes: list[Outcome | None] = [None] * len(jobs)
    running: dict[int, tuple[int, int, bytearray]] = {}  # read end -> (job index, pid, bytes so far)
    waiting = iter(range(len(jobs)))
    with selectors.DefaultSelector() as selector:
        try:
            for index in _take(waiting, max(1, processes)):
                _start(function, jobs[index], index, budget, quiet, running, selector)
            while running:
                for key, _ in selector.select():
                    if _read_some(key.fd, running, selector, outcomes):
                        for index in _take(waiting, 1):
                            _start(function, jobs[index], index, budget, quiet, running, selector)
        finally:
            for fd, (_, pid, _) in list(running.items()):  # interrupted (Ctrl-C): leave no child behind
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                os.close(fd)
    for outcome in outcomes:
        for message, category, filename, lineno in outcome.warned:
            warnings.warn_explicit(message, category, filename, lineno)
    return outcomes


def _take(indices, n: int) -> list[int]:
    return [index for _, index in zip(range(n), indices)]


def _start(function, job: tuple, index: int, budget: int | None, quiet: bool, running: dict, selector) -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's cleanup
        try:
            os.close(read_end)
            for fd in running:  # the other children's pipes are theirs
                os.close(fd)
            _child_setup(budget, quiet)
            with warnings.catch_warnings(record=True) as caught:  # under this process's filters, as in it
                try:
                    result = ("ok", function(*job))
                except MemoryError:
                    result = ("memory",)
                except BaseException as exc:  # noqa: BLE001 - handed to the parent, which decides
                    result = ("raise", exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
            warned = [(str(w.message), w.category if _picklable(w.category) else UserWarning, w.filename, w.lineno)
                      for w in caught]
            with os.fdopen(write_end, "wb") as fh:
                pickle.dump((result, warned), fh, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(write_end)
    os.set_blocking(read_end, False)
    running[read_end] = (index, pid, bytearray())
    selector.register(read_end, selectors.EVENT_READ)


def _read_some(fd: int, running: dict, selector, outcomes: list) -> bool:
    """Read what a child has written; at its end, its outcome. True when the child is done."""
    index, pid, received = running[fd]
    try:
        chunk = os.read(fd, 1 << 20)
    except BlockingIOError:
        return False
    if chunk:
        received += chunk
        return False
    selector.unregister(fd)
    os.close(fd)
    del running[fd]
    _, status = os.waitpid(pid, 0)
    outcomes[index] = _outcome(received, status)
    return True


def _outcome(received: bytearray, status: int) -> Outcome:
    try:
        with paused_gc():
            result, warned = pickle.loads(received)
    except Exception:  # noqa: BLE001 - the child died before it finished writing
        result, warned = None, []
    if result is None:
        crashed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in _CRASH_SIGNALS
        return Outcome(crashed=crashed, memory=not crashed)  # killed or aborted when an allocation failed
    if result[0] == "memory":
        return Outcome(memory=True, warned=warned)
    if result[0] == "raise":
        return Outcome(error=result[1], warned=warned)
    return Outcome(value=result[1], warned=warned)


def _child_setup(budget: int | None, quiet: bool) -> None:
    """In the child: Ctrl-C stops it quietly (the parent reports it); output never reaches the parent's
    streams (in a Jupyter kernel they are the kernel's sockets); optionally a limited address space."""
    import faulthandler

    faulthandler.disable()  # an abort here is the parent's to report (pytest and ipykernel enable it)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout = sys.stderr = open(os.devnull, "w")  # closed by os._exit, with the child
    if quiet:  # the descriptors too: nothing the child's libraries print, and no pipe of the parent's held open
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
    if budget is not None:
        _limit_address_space(budget)


def _limit_address_space(budget: int) -> None:
    import resource

    with contextlib.suppress(OSError, ValueError):
        limit = _address_space() + budget
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux); 0 where it cannot be read."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _picklable(thing) -> bool:
    try:
        pickle.loads(pickle.dumps(thing))
        return True
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- writing a file in the background
#
# A big workbook for people (清洗数据.xlsx, 数字来源.xlsx) is not read by any later step, so it can be written
# on the other core while the chain goes on. in_background(path, write) forks a writer that has its own
# session (a kernel's shutdown does not stop it) and is no process's child once started (never a zombie);
# it writes to a temporary name beside path and renames it, so path is either the old file or the whole new one.
# While it writes, a marker “.<name>.writing” beside path holds its process id; if it fails, “.<name>.failed”
# holds why. wait_for_background(folder) waits for every writer below a folder and names the failures (the
# runner waits before publishing a run); stop_background(folder) stops them (a run that failed).

WRITING = ".writing"
FAILED = ".failed"


def _marker(path, suffix: str):
    return path.with_name(f".{path.name}{suffix}")


def in_background(path, write: Callable[[Any], None]) -> None:
    """write(temporary path) in a detached writer, then renamed to path (see above); in this process without fork."""
    from pathlib import Path

    path = Path(path)
    _marker(path, FAILED).unlink(missing_ok=True)
    if not can_fork():
        _write_then_rename(path, write)
        return
    marker = _marker(path, WRITING)
    marker.write_text("", encoding="utf-8")
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the go-between: starts the writer, records its id, and exits
        try:
            os.setsid()
            writer = os.fork()
            if writer == 0:
                os.close(ready_write)
                os.read(ready_read, 1)  # until the go-between has recorded this process's id
                _child_setup(None, quiet=True)
                try:
                    _write_then_rename(path, write)
                except BaseException as exc:  # noqa: BLE001 - said in the .failed file, for the waiter
                    _marker(path, FAILED).write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                finally:
                    marker.unlink(missing_ok=True)
            else:
                marker.write_text(str(writer), encoding="utf-8")
        finally:
            os._exit(0)
    os.close(ready_read)
    os.close(ready_write)
    os.waitpid(pid, 0)


def _write_then_rename(path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def wait_for_background(folder) -> list[tuple[str, str]]:
    """Wait for every background writer below folder; (file name, why) for each that failed (its .failed marker
    removed, so it is said once)."""
    import time
    from pathlib import Path

    folder = Path(folder)
    for marker in sorted(folder.rglob(f".*{WRITING}")):
        while marker.exists():
            pid = _pid_in(marker)
            if pid and not _alive(pid) and marker.exists():  # died without a word: killed, out of memory
                died = marker.with_name(f".{marker.name[1:-len(WRITING)]}{FAILED}")
                died.write_text("写出进程意外退出（可能是内存不足）", encoding="utf-8")
                marker.unlink(missing_ok=True)
            time.sleep(0.05)
    failures = []
    for failed in sorted(folder.rglob(f".*{FAILED}")):
        failures.append((failed.name[1:-len(FAILED)], failed.read_text(encoding="utf-8")))
        failed.unlink(missing_ok=True)
    return failures


def stop_background(folder) -> None:
    """Stop every background writer below folder (the run they belong to failed or was interrupted)."""
    from pathlib import Path

    for marker in Path(folder).rglob(f".*{WRITING}"):
        pid = _pid_in(marker)
        if pid and _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        marker.unlink(missing_ok=True)


def _pid_in(marker) -> int | None:
    try:
        return int(marker.read_text(encoding="utf-8") or 0) or None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """The process runs (a zombie does not: in a container without an init, nobody may reap the writer)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
