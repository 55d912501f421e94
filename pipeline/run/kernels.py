"""The kernels the chain's notebooks run in, and the papermill engine that runs them.

The kernel is always this process's own Python (``sys.executable``), served under the kernel name
``KERNEL_NAME`` by an in-memory kernel spec: a "python3" kernel a user installed in
~/.local/share/jupyter can never be picked up. ``make lab`` registers the same kernel name in the
venv, and every executed copy names it, so reopening an executed notebook uses the project's Python too.

Two things make the chain cheaper than papermill's defaults (docs/performance.md measures them):

- ``SaveAtEndEngine`` (papermill engine ``ENGINE_NAME``) writes the executed copy once, when the
  notebook ends, finished or failed (a failing cell, a kernel that died, a timeout, Ctrl-C), instead
  of at the start and the end of every cell: each save writes and schema-checks the whole notebook
  (66 code cells in step 2: 134 saves).
- ``ChainKernel``: one kernel runs every notebook of the chain. It is started, and the first notebook's
  modules imported in it, when the run begins (silently: no cell, no output, no execution count), so the
  kernel's start and ``import pandas`` are paid once, not at every step (docs/performance.md measures them).
  Between two notebooks the kernel is cleared (CLEAN_CODE): each notebook starts with an empty namespace and
  counts its cells from 1, as in a kernel of its own, and still leaves its own executed copy. When the kernel
  did not come up, or died, the step starts a kernel of its own, and any failure is reported as before.
"""
from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec

# The project's kernel. The Makefile's `lab` target registers the same name.
KERNEL_NAME = "inspection-pipeline"
KERNEL_DISPLAY_NAME = "Python（督查流水线）"
# Seconds to wait for the kernel to start before calling it a failure.
KERNEL_START_TIMEOUT_S = 120
ENGINE_NAME = "inspection-pipeline"

# Kernel processes started by this process: killed when the run is interrupted (Ctrl-C), so that
# none goes on writing into the staging folder after the runner has stopped.
_LIVE_KERNELS: set = set()

# The kernel managers' own English log lines (a kernel that failed to start) stay off the terminal:
# a failure reaches the user as a RunError with a Chinese message.
_QUIET = logging.getLogger("pipeline.kernels")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def kill_kernels() -> None:
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


# --------------------------------------------------------------------------- saving once, at the end


@functools.cache
def register_engine() -> str:
    """Register SaveAtEndEngine with papermill (once); its name, for execute_notebook(engine_name=...)."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class SaveAtEnd(NotebookExecutionManager):
        """Keeps the cell states papermill records, but writes the file only when the notebook ends."""

        holding = True

        def save(self, **kwargs):
            if not self.holding:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs):  # papermill calls it whatever the outcome
            self.holding = False
            super().notebook_complete(**kwargs)

    class SaveAtEndEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                             autosave_cell_every=30, **kwargs):
            # papermill's Engine.execute_notebook, with the manager above.
            nb_man = SaveAtEnd(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                               autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            from papermill.clientwrap import PapermillNotebookClient

            km = kwargs.pop("km", None)
            if km is None:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            # The chain's kernel: papermill's own client, given the started kernel, which outlives the notebook
            # (the chain shuts it down); only the client's channels are closed.
            client = _client(PapermillNotebookClient, nb_man, kernel_name, km, **kwargs)
            try:
                return client.execute(cleanup_kc=False)
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None

    papermill_engines.register(ENGINE_NAME, SaveAtEndEngine)
    return ENGINE_NAME


def _client(client_class, nb_man, kernel_name, km, *, log_output=False, stdout_file=None, stderr_file=None,
            start_timeout=60, execution_timeout=None, **kwargs):
    """The client NBClientEngine.execute_managed_notebook makes, with the kernel manager `km`."""
    from papermill.engines import logger

    kwargs.pop("input_path", None)
    kwargs.pop("kernel_manager_class", None)
    timeout = execution_timeout or kwargs.pop("timeout", None)
    kwargs.pop("startup_timeout", None)
    return client_class(nb_man, km=km, timeout=timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                        log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                        **kwargs)


# --------------------------------------------------------------------------- one kernel for the chain


def imported_modules(notebook: Path) -> list[str]:
    """The modules a notebook's code cells import (`import a.b`, `from a import b` -> a.b or a), in order.
    Cells that are not Python (magics) are passed over."""
    from pipeline.run import rerun

    modules: list[str] = []
    for cell in rerun.notebook_json(notebook)["cells"]:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(rerun.cell_source(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                modules += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules += [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return list(dict.fromkeys(modules))


# Runs silently in the chain's kernel when it has started: imports each module (`a.b` that is no module: `a`), notes
# what a fresh kernel looks like after those imports (working folder, matplotlib's settings), leaves no name behind.
WARM_CODE = """\
def _warm_up(names):
    import importlib, os, sys
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            try:
                importlib.import_module(name.rpartition(".")[0] or name)
            except Exception:
                pass
        except Exception:
            pass
    matplotlib = sys.modules.get("matplotlib")
    get_ipython()._chain_fresh = (os.getcwd(), dict(matplotlib.rcParams) if matplotlib else None)
_warm_up({modules!r})
del _warm_up
"""

# Runs silently between two notebooks: what the last one left goes (its names, its output history, its open figures,
# a changed working folder or matplotlib setting), and execution counts start at 1 again, as in a fresh kernel. The
# memory its tables took is handed back to the system (glibc's malloc_trim, Arrow's pool), so that the kernel's peak
# is the largest step's, not the sum of the steps'.
CLEAN_CODE = """\
def _clean_slate():
    import ctypes, gc, os, sys
    shell = get_ipython()
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    shell.reset(new_session=False)
    shell.execution_count = 1
    gc.collect()
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        try:
            pyarrow.default_memory_pool().release_unused()
        except Exception:
            pass
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except Exception:
            pass
    cwd, rc = getattr(shell, "_chain_fresh", (None, None))
    if cwd:
        os.chdir(cwd)
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None and rc is not None:
        dict.update(matplotlib.rcParams, rc)
_clean_slate()
"""


class ChainKernel:
    """One kernel for every step of the chain that runs: started in a thread now, with the first notebook's modules
    imported in it, so neither the start nor `import pandas` is waited for again at each step.

    take() waits for it and returns its kernel manager for the next notebook; from the second notebook on, it first
    clears what the last notebook left (CLEAN_CODE): each notebook starts with an empty namespace and counts its
    cells from 1, as in a kernel of its own. It returns None when the kernel did not come up or has died (the step
    then starts a kernel of its own, and reports any failure). close() shuts the kernel down.
    """

    def __init__(self, notebooks: list[Path]):
        self.km = None
        self._used = False
        self._manager_class = project_kernel_manager_class()  # imported here: two threads must not import it at once
        # The first notebook's modules only: the later notebooks import theirs in this kernel anyway, once, and a step's
        # peak memory (1 GB at 100,000 projects, docs/performance.md) is not raised by modules it does not use.
        self._modules = imported_modules(Path(notebooks[0])) if notebooks else []
        self._cwd = Path(notebooks[0]).parent if notebooks else Path.cwd()
        self._thread = threading.Thread(target=self._start, name="chain-kernel", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        loop = _new_loop()
        try:
            loop.run_until_complete(self._async_start())
        except Exception:  # noqa: BLE001 - the step starts its own kernel and reports why it cannot
            self._shutdown_in(loop)
        finally:
            loop.close()

    async def _async_start(self) -> None:
        km = self._manager_class(kernel_name=KERNEL_NAME, log=_QUIET)
        self.km = km
        await km.start_kernel(cwd=str(self._cwd))
        await self._silently(WARM_CODE.format(modules=self._modules))
        km._ready = None  # its start's future belongs to this thread's loop; the steps' clients run in another

    async def _silently(self, code: str) -> None:
        """Run code in the kernel with no cell, no output and no execution count; wait until it is done."""
        client = self.km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=KERNEL_START_TIMEOUT_S)
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            while (await client.get_shell_msg(timeout=KERNEL_START_TIMEOUT_S))["parent_header"].get("msg_id") != msg_id:
                pass
        finally:
            client.stop_channels()

    def _shutdown_in(self, loop) -> None:
        km, self.km = self.km, None
        if km is not None:
            with contextlib.suppress(Exception):
                loop.run_until_complete(km.shutdown_kernel(now=True))

    def take(self):
        """The kernel's manager, ready for the next notebook (the caller does not shut it down), or None."""
        self._thread.join()
        km = self.km
        if km is None or km.provisioner is None or km.provisioner.process is None \
                or km.provisioner.process.poll() is not None:
            self.close()
            return None
        if self._used:
            loop = _new_loop()
            try:
                loop.run_until_complete(self._silently(CLEAN_CODE))
            except Exception:  # noqa: BLE001 - a kernel that cannot be cleared is not used again
                self._shutdown_in(loop)
                return None
            finally:
                loop.close()
        self._used = True
        return km

    def close(self) -> None:
        """Shut the kernel down (at the end of the run, or when it cannot be used)."""
        self._thread.join()
        loop = _new_loop()
        try:
            self._shutdown_in(loop)
        finally:
            loop.close()


def _new_loop() -> asyncio.AbstractEventLoop:
    """An event loop for a kernel client: on Windows a selector loop (zmq's sockets need one; papermill sets the
    same policy for its own)."""
    return asyncio.SelectorEventLoop() if sys.platform == "win32" else asyncio.new_event_loop()
