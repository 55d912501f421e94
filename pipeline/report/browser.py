"""The browser that prints report.pdf, found where the analysts' machines keep it.

Any Chromium-based browser prints the report headless (pipeline/report/export.py, run_chromium):

- Linux (Debian, Ubuntu, 统信 UOS, 银河麒麟): chromium, chromium-browser, google-chrome, microsoft-edge on PATH,
  then the usual install folders (Debian's /usr/lib/chromium, Google's /opt/google/chrome, Microsoft's
  /opt/microsoft/msedge, snap's /snap/bin, and the app folders UOS installs its store's browsers in,
  /opt/apps/<应用>/files/);
- Windows: Microsoft Edge (every Windows 10/11 has it), then Chrome, in Program Files, Program Files (x86) and the
  user's own LocalAppData (a Chrome installed without administrator rights), then msedge/chrome on PATH.

CHROMIUM=/path (or a name on PATH) overrides the search. No browser: the HTML and Word outputs still come, and the
run says how to get the PDF (missing_hint()).
"""
from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from pipeline import platforms

# Headless, sandbox off (root in CI), and nothing that phones home (report/export.py, report/printer.py).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                  "--host-resolver-rules=MAP * ~NOTFOUND")

LINUX_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge",
               "microsoft-edge-stable")
LINUX_FOLDERS = (
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium-browser/chromium-browser",
    "/opt/google/chrome/chrome",
    "/opt/microsoft/msedge/msedge",
    "/snap/bin/chromium",
    "/opt/apps/*/files/*/chromium",  # 统信 UOS: the app store's packages live under /opt/apps/<id>/files/
    "/opt/apps/*/files/*/chrome",
    "/opt/apps/*/files/chromium",
    "/opt/apps/*/files/chrome",
)
# (environment variable naming a base folder, path below it), best first.
WINDOWS_FOLDERS = (
    ("ProgramFiles(x86)", "Microsoft/Edge/Application/msedge.exe"),
    ("ProgramFiles", "Microsoft/Edge/Application/msedge.exe"),
    ("ProgramFiles", "Google/Chrome/Application/chrome.exe"),
    ("ProgramFiles(x86)", "Google/Chrome/Application/chrome.exe"),
    ("LOCALAPPDATA", "Google/Chrome/Application/chrome.exe"),
    ("LOCALAPPDATA", "Chromium/Application/chrome.exe"),
)
WINDOWS_NAMES = ("msedge", "chrome", "chromium")


def find_browser() -> str | None:
    """The browser executable that prints the PDF, or None (see the module docstring)."""
    override = os.environ.get("CHROMIUM")
    if override:
        return override if Path(override).is_file() else shutil.which(override)
    for candidate in candidates():
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def candidates() -> list[str]:
    """Where a browser is looked for on this platform, in order (names on PATH resolved)."""
    if platforms.windows_like():
        folders = [str(Path(os.environ[variable]) / below) for variable, below in WINDOWS_FOLDERS
                   if os.environ.get(variable)]
        return folders + [path for path in map(shutil.which, WINDOWS_NAMES) if path]
    on_path = [path for path in map(shutil.which, LINUX_NAMES) if path]
    return on_path + [path for pattern in LINUX_FOLDERS for path in sorted(glob.glob(pattern))]


def missing_hint() -> str:
    """What the analyst can do to get report.pdf on this platform (Chinese)."""
    if platforms.windows_like():
        how = ("本机找不到 Microsoft Edge 或 Chrome（Windows 10/11 自带 Edge）：安装其中之一，"
               "或设置环境变量 CHROMIUM 为浏览器程序的完整路径（如 C:\\Program Files\\Google\\Chrome\\Application\\"
               "chrome.exe）后加 --force 重新运行")
    else:
        how = ("本机找不到 Chromium 或 Chrome：Debian/Ubuntu/统信 UOS/银河麒麟 上用 sudo apt-get install chromium"
               "（部分系统为 chromium-browser），或从应用商店安装 Chromium；"
               "也可设置环境变量 CHROMIUM 为浏览器程序的完整路径，然后加 --force 重新运行")
    return (f"未生成 report.pdf：{how}。report.html 和 report.docx 不受影响，"
            "也可用浏览器打开 report.html 打印为 A4 PDF。")
