"""Worker processes: work that must not take the round down with it, on every core.

run_forked(function, jobs, processes=n) calls function(*job) for each job in a
child process, up to n children at a time, and gives back one Outcome per job,
in the order of the jobs, whatever order the children finish in. A child that
raises, runs out of memory or dies of a signal ends as an Outcome that says so;
the other jobs are not affected. Each result comes back pickled through a pipe,
and the warnings a job gave are given again here, in the order of the jobs (a
child's own output goes nowhere: in a Jupyter kernel its streams are the kernel's).

How a child starts depends on the platform (pipeline/platforms.py):
- fork (Linux, macOS): the child is a copy of this process, so the inputs are
  never pickled; its address space is limited by the kernel (resource);
- spawn (Windows, or PIPELINE_FORCE_PLATFORM=windows): the child is a fresh
  interpreter (`python -c ...`) that gets this process's sys.path and the pickled
  function and job on its standard input and writes its result on its standard
  output; where the kernel cannot limit its memory, this process watches it with
  psutil and ends it when it passes its budget: the same Outcome(memory=True).
The function must then be importable by name (a module-level function).

Used twice: readers reads one file in a child whose memory is limited
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
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from pipeline import platforms

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
    """Children are forked (see the module docstring); False where they are spawned."""
    return platforms.start_method() == "fork"


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

    budget: the address space a child may use beyond this process's (None: no limit); a spawned child's memory
    (its resident set) may not pass it.
    quiet: the child's stdout and stderr go to /dev/null (an allocation failure in a Rust reader prints an English
    line there before it aborts).
    """
    if not can_fork():
        outcomes = run_spawned(function, jobs, processes=processes, budget=budget, quiet=quiet)
        _warn_again(outcomes)
        return outcomes
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
    _warn_again(outcomes)
    return outcomes


def _warn_again(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        for message, category, filename, lineno in outcome.warned:
            warnings.warn_explicit(message, category, filename, lineno)


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
            with os.fdopen(write_end, "wb") as fh:
                pickle.dump(call(function, job), fh, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(write_end)
    os.set_blocking(read_end, False)
    running[read_end] = (index, pid, bytearray())
    selector.register(read_end, selectors.EVENT_READ)


def call(function, job: tuple) -> tuple:
    """In a child: (result, warnings) of function(*job), as the parent takes them back (_outcome)."""
    with warnings.catch_warnings(record=True) as caught:  # under this process's filters, as in it
        try:
            result = ("ok", function(*job))
        except MemoryError:
            result = ("memory",)
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which decides
            result = ("raise", exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    warned = [(str(w.message), w.category if _picklable(w.category) else UserWarning, w.filename, w.lineno)
              for w in caught]
    return result, warned


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
    outcomes[index] = outcome_of(received, os.WIFSIGNALED(status) and os.WTERMSIG(status) in _CRASH_SIGNALS)
    return True


def outcome_of(received: bytes | bytearray, crashed: bool) -> Outcome:
    """The Outcome of a child from what it wrote; crashed: it died of a crash signal (or a Windows crash code)."""
    try:
        with paused_gc():
            result, warned = pickle.loads(received)
    except Exception:  # noqa: BLE001 - the child died before it finished writing
        result, warned = None, []
    if result is None:
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
    if budget is not None and platforms.has_rlimit():
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


def kill_tree(process) -> None:
    """End a started program and every process it started (a process group on POSIX; the children psutil finds on
    Windows, where soffice.exe hands over to soffice.bin)."""
    if hasattr(os, "killpg") and not platforms.windows_like():
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        return
    import psutil

    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    with contextlib.suppress(OSError):
        process.kill()


def _picklable(thing) -> bool:
    try:
        pickle.loads(pickle.dumps(thing))
        return True
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- spawned children (no fork: Windows)
#
# run_spawned gives what run_forked gives, with each child a new `python` that receives this process's sys.path,
# then the pickled (function, job, budget, quiet) on its standard input, and writes its pickled (result, warnings)
# on its standard output. The pipes are read by one thread per child: Windows cannot select() on a pipe. Where
# the kernel cannot limit a child's address space (platforms.has_rlimit() is False), this process reads each
# child's resident memory with psutil every POLL_S seconds and ends a child that passes SPAWN_BASE_BYTES + its
# budget: the job's Outcome then says memory, as a limited fork's would.

POLL_S = 0.02
# A fresh interpreter that has imported pandas and the readers holds about 150 MB before it reads anything; a
# forked child's budget is counted beyond its parent's address space, a spawned one's beyond this.
SPAWN_BASE_BYTES = 256 * 1024 * 1024
# How a spawned child that crashed ends: a crash signal (POSIX: a negative return code) or, on Windows, an
# NTSTATUS crash code (access violation, illegal instruction, stack overflow, integer divide by zero).
_WINDOWS_CRASH_CODES = {0xC0000005, 0xC000001D, 0xC00000FD, 0xC0000094, 0xC0000409}
_CHILD = ("import pickle, sys; sys.path[:0] = pickle.load(sys.stdin.buffer); "
          "import pipeline.workers as w; w.child_main()")


def run_spawned(function: Callable[..., Any], jobs: Sequence[tuple], *, processes: int = 1,
                budget: int | None = None, quiet: bool = False) -> list[Outcome]:
    """function(*job) for every job, each in a spawned child, at most `processes` at a time."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    waiting = list(range(len(jobs)))
    running: dict[int, _Child] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, processes):
                index = waiting.pop(0)
                running[index] = _Child(function, jobs[index], budget, quiet)
            for index, child in list(running.items()):
                outcome = child.poll()
                if outcome is not None:
                    outcomes[index] = outcome
                    del running[index]
            if running:
                time.sleep(POLL_S)
    finally:
        for child in running.values():  # interrupted (Ctrl-C): leave no child behind
            child.kill()
    return outcomes


class _Child:
    """One spawned child, its two pipe threads and its memory watch."""

    def __init__(self, function, job: tuple, budget: int | None, quiet: bool):
        self.outcome: Outcome | None = None
        self.over_budget = False
        self.limit = None if budget is None or platforms.has_rlimit() else SPAWN_BASE_BYTES + budget
        try:
            payload = pickle.dumps((function, job, budget, quiet), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a local function or an unpicklable input: this job's error
            self.outcome = Outcome(error=RuntimeError(f"无法交给工作进程（{type(exc).__name__}: {exc}）"))
            return
        self.process = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None)
        self.received = b""
        head = pickle.dumps([p for p in sys.path if p], protocol=pickle.HIGHEST_PROTOCOL)
        self.writer = threading.Thread(target=self._write, args=(head + payload,), daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer.start()
        self.reader.start()

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # the child died before it read everything: its outcome says so
            self.process.stdin.write(data)
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def _read(self) -> None:
        self.received = self.process.stdout.read()

    def poll(self) -> Outcome | None:
        if self.outcome is not None:
            return self.outcome
        if self.process.poll() is None:
            if self.limit is not None and _resident(self.process.pid) > self.limit:
                self.over_budget = True
                self.kill()
            return None
        self.reader.join()
        self.writer.join()
        self.process.stdout.close()
        if self.over_budget:
            return Outcome(memory=True)
        code = self.process.returncode
        crashed = (code < 0 and -code in _CRASH_SIGNALS) or (code & 0xFFFFFFFF) in _WINDOWS_CRASH_CODES
        return outcome_of(self.received, crashed)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def _resident(pid: int) -> int:
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def child_main() -> None:
    """In the spawned child: read the job, run it, write (result, warnings) on the original standard output."""
    out = os.fdopen(os.dup(1), "wb")
    with contextlib.suppress(OSError):  # nothing the job prints may reach the pipe the result goes through
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    try:
        function, job, budget, quiet = pickle.load(sys.stdin.buffer)
    except Exception as exc:  # noqa: BLE001 - e.g. the function's module cannot be imported here
        answer = (("raise", RuntimeError(f"工作进程无法读取任务（{type(exc).__name__}: {exc}）")), [])
    else:
        _child_setup(budget, quiet)
        answer = call(function, job)
    try:
        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.close()
    finally:
        os._exit(0)


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
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        import psutil

        return psutil.pid_exists(pid)
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
