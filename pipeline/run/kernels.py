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
- ``WarmKernel``: the next step's kernel is started while the current step runs, and the modules its
  notebook imports are imported in it then (silently: no cell, no output, no execution count). The
  notebook still runs in a fresh kernel of its own, from its first cell, as before: only the wait for
  the kernel and for ``import pandas`` overlaps the previous step. When the warm kernel did not come up,
  the step starts its kernel itself, and any failure is reported as before.
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
            # A warm kernel: papermill's own client, given the started kernel; it is shut down afterwards
            # (cleanup_kc), as a kernel the client starts itself is.
            client = _client(PapermillNotebookClient, nb_man, kernel_name, km, **kwargs)
            return client.execute(cleanup_kc=True)

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


# --------------------------------------------------------------------------- the next step's kernel, warm


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


# Runs silently in the warm kernel: imports each module (`a.b` that is no module: `a`), leaves no name behind.
WARM_CODE = """\
def _warm_up(names):
    import importlib
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
_warm_up({modules!r})
del _warm_up
"""


class WarmKernel:
    """A kernel for `notebook`, started in a thread now, with the notebook's modules imported in it.

    take() waits for it and returns its kernel manager, or None when it did not come up (the step then
    starts a kernel itself, and reports any failure). close() shuts it down if it was never taken.
    """

    def __init__(self, notebook: Path):
        self.notebook = Path(notebook)
        self.km = None
        self._taken = False
        self._manager_class = project_kernel_manager_class()  # imported here: two threads must not import it at once
        self._modules = imported_modules(self.notebook)
        self._thread = threading.Thread(target=self._start, name=f"warm-{self.notebook.stem}", daemon=True)
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
        await km.start_kernel(cwd=str(self.notebook.parent))
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=KERNEL_START_TIMEOUT_S)
            msg_id = client.execute(WARM_CODE.format(modules=self._modules), silent=True,
                                    store_history=False, allow_stdin=False)
            while (await client.get_shell_msg(timeout=KERNEL_START_TIMEOUT_S))["parent_header"].get("msg_id") != msg_id:
                pass
        finally:
            client.stop_channels()
        km._ready = None  # its start's future belongs to this thread's loop; the step's client runs in another

    def _shutdown_in(self, loop) -> None:
        km, self.km = self.km, None
        if km is not None:
            with contextlib.suppress(Exception):
                loop.run_until_complete(km.shutdown_kernel(now=True))

    def take(self):
        """The started kernel's manager (the caller shuts it down), or None."""
        self._thread.join()
        self._taken = True
        km = self.km
        if km is not None and (km.provisioner is None or km.provisioner.process is None
                               or km.provisioner.process.poll() is not None):
            self.close(force=True)
            return None
        return km

    def close(self, force: bool = False) -> None:
        """Shut the kernel down unless a step took it."""
        if self._taken and not force:
            return
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
