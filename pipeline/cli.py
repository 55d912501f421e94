"""The one Chinese argparse set-up, shared by the command line (pipeline/__main__.py), the sample generator and
the benchmark (pipeline/devtools/): headings, help and error lines in Chinese, exit code 2 on a usage error;
and the project's environment without make (setup, running a command in .venv/, a console in any encoding)."""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

EXIT_USER_ERROR = 2


class ChineseParser(argparse.ArgumentParser):
    """argparse with Chinese headings, help and error lines (argparse itself speaks English)."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=_Formatter, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str):
        for english, chinese in _ARGPARSE_MESSAGES.items():
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：命令行参数有误（{message}）。运行 {self.prog} -h 查看用法。\n")


_ARGPARSE_MESSAGES = {
    "the following arguments are required: ": "缺少",
    "unrecognized arguments: ": "无法识别的参数 ",
    "invalid choice: ": "无效的选择 ",
    "invalid int value: ": "应为整数，而不是 ",
    "choose from ": "可选 ",
    "argument ": "参数 ",
}


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


# --------------------------------------------------------------------------- the project's environment, without make
#
# `python -m pipeline setup` does what `make setup` did: .venv/ with the locked dependencies, then the project
# itself (editable, --no-deps), reinstalled only when pyproject.toml or requirements.lock changed (a stamp file,
# .venv/.installed); then the system's part (scripts/install-system-deps.sh on Debian-like Linux, a word on the
# browser for the PDF elsewhere). Only the standard library is used here: it runs under a bare `py` or `python3`.
# Other commands that need the dependencies, started from a Python without them, set up .venv/ first and run
# again in it (`py -m pipeline report` on a fresh Windows machine); a Python that has them (the venv, a conda
# environment) runs them itself.

VENV = ".venv"
STAMP = ".installed"
LOCK = "requirements.lock"


def venv_python(root: Path) -> Path:
    """The venv's interpreter: Scripts\\python.exe on Windows, bin/python elsewhere."""
    return Path(root) / VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_dependencies() -> bool:
    """This interpreter can run the chain (the locked dependencies are importable)."""
    return all(importlib.util.find_spec(name) is not None for name in ("papermill", "pandas", "filelock", "psutil"))


def install_needed(root: Path) -> bool:
    """The venv is missing, or pyproject.toml or requirements.lock changed since it was installed."""
    stamp = Path(root) / VENV / STAMP
    if not venv_python(root).is_file() or not stamp.is_file():
        return True
    return any((Path(root) / name).stat().st_mtime > stamp.stat().st_mtime for name in ("pyproject.toml", LOCK))


def setup(root: Path, *, echo=print) -> int:
    """Create or update .venv/ (see above); 0 when done."""
    root = Path(root)
    if install_needed(root):
        if not venv_python(root).is_file():
            echo(f"正在创建 {VENV}/ …")
            subprocess.run([sys.executable, "-m", "venv", str(root / VENV)], check=True)
        echo("正在安装依赖（第一次需几分钟）…")
        pip = [str(venv_python(root)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(root / LOCK)], check=True, cwd=root)
        subprocess.run([*pip, "--no-deps", "-e", "."], check=True, cwd=root)
        (root / VENV / STAMP).write_text("", encoding="utf-8")
    script = root / "scripts" / "install-system-deps.sh"
    if os.name != "nt" and shutil.which("bash") and script.is_file():
        subprocess.run(["bash", str(script)], check=False, cwd=root)
    elif os.name == "nt":
        echo("提示：报告的 PDF 由本机的 Microsoft Edge 或 Chrome 打印（Windows 10/11 自带 Edge）；"
             "图表中文使用微软雅黑、黑体或宋体。找不到时运行结果会说明。")
    return 0


def clean(root: Path) -> int:
    """What `make clean` removes: everything under data/processed/ and outputs/ but .gitkeep, and .cache/."""
    root = Path(root)
    for folder in (root / "data" / "processed", root / "outputs"):
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.name == ".gitkeep":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    shutil.rmtree(root / ".cache", ignore_errors=True)
    return 0


def in_project_environment(argv: list[str], root: Path) -> int | None:
    """Run argv again under the venv's Python when this one lacks the dependencies (setting the venv up first);
    None when this interpreter can run it itself."""
    if has_dependencies():
        return None
    setup(root)
    return subprocess.run([str(venv_python(root)), "-m", "pipeline", *argv], cwd=root).returncode


def interruptible() -> None:
    """Ctrl-C (SIGINT) stops the command cleanly however it was started. A command started in the background by a
    shell without job control, by nohup or by some IDE and task runners inherits SIGINT ignored (or blocked), and
    would run on through a `kill -INT` or a stop button; Python installs its KeyboardInterrupt handler only when it
    finds the default. Here the handler is installed, and the signal unblocked, whatever was inherited."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def safe_console() -> None:
    """Chinese output on any console: a character the console's encoding lacks (GBK, cp936 on a Chinese Windows
    whose output is redirected) is shown as “?” instead of stopping the program."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding not in ("utf8", "utf_8") and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="replace")
