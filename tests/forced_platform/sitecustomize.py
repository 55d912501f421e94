"""Loaded by every Python process of a test run in the forced Windows mode (tests/conftest.py puts this folder on
PYTHONPATH): the runner, its Jupyter kernels and the workers refuse symlinks as Windows does for a user without
administrator rights or developer mode (WinError 1314)."""
import os

if os.environ.get("PIPELINE_FORCE_PLATFORM", "").strip().lower() == "windows":
    def refused_symlink(*args, **kwargs):
        raise OSError(1314, "客户端没有所需的特权。（forced Windows mode: os.symlink is refused）")

    os.symlink = refused_symlink
