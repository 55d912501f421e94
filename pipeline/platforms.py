"""What differs between the machines the pipeline runs on, decided in one place.

The analysts run the pipeline on Windows 10/11, on the domestic Linux desktops (统信 UOS, 银河麒麟, often on
ARM64) and on Debian servers. Only three things differ for the code, and each is asked here:

- windows_like(): no fork() and no address-space limit (resource), no symlinks without administrator rights;
  workers start a fresh interpreter (spawn) and watch its memory with psutil (pipeline/workers.py);
- start_method(): "fork" where the platform forks, "spawn" otherwise;
- has_rlimit(): whether a child's address space can be limited by the kernel.

PIPELINE_FORCE_PLATFORM=windows makes a Linux machine take Windows' paths (spawn, the psutil memory watch, the
synchronous background writes), so that the test suite exercises them where no Windows machine is at hand
(docs/development.md, “在 Linux 上模拟 Windows”); tests/conftest.py adds what a process cannot change for
itself (os.symlink refused, a console in GBK).
"""
from __future__ import annotations

import importlib.util
import os
import sys

FORCE_ENV = "PIPELINE_FORCE_PLATFORM"
FORCEABLE = ("windows",)


def forced() -> str | None:
    """The platform PIPELINE_FORCE_PLATFORM names ("windows"), or None; an unknown value is ignored."""
    value = os.environ.get(FORCE_ENV, "").strip().lower()
    return value if value in FORCEABLE else None


def windows_like() -> bool:
    return sys.platform == "win32" or forced() == "windows"


def start_method() -> str:
    """How worker processes start: "fork" (a copy of this process) or "spawn" (a fresh interpreter)."""
    return "fork" if hasattr(os, "fork") and not windows_like() else "spawn"


def has_rlimit() -> bool:
    """The kernel can limit a child's address space (resource.RLIMIT_AS)."""
    return not windows_like() and importlib.util.find_spec("resource") is not None
