"""The browser that prints report.pdf is found where each platform keeps it (pipeline/report/browser.py).

Windows' folders are laid out under a temporary folder and named by the same environment variables Windows sets
(ProgramFiles, ProgramFiles(x86), LOCALAPPDATA); the forced Windows mode (PIPELINE_FORCE_PLATFORM=windows) makes
the lookup take Windows' list. A "browser" here is a small executable file: only finding it is tested, except in
the last test, where the Edge found in its Windows folder is a stand-in that hands over to the real Chromium and
prints a real PDF.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import platforms
from pipeline.report import browser, export


def executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def windows(monkeypatch, tmp_path):
    """A Windows machine's folders, nothing of them installed yet, and no browser on PATH."""
    monkeypatch.setenv(platforms.FORCE_ENV, "windows")
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    folders = {"ProgramFiles": tmp_path / "Program Files", "ProgramFiles(x86)": tmp_path / "Program Files (x86)",
               "LOCALAPPDATA": tmp_path / "Users" / "张三" / "AppData" / "Local"}
    for variable, folder in folders.items():
        monkeypatch.setenv(variable, str(folder))
    return folders


def test_edge_in_program_files_x86_is_found_first_on_windows(windows):
    chrome = executable(windows["ProgramFiles"] / "Google/Chrome/Application/chrome.exe")
    assert browser.find_browser() == str(chrome)
    edge = executable(windows["ProgramFiles(x86)"] / "Microsoft/Edge/Application/msedge.exe")
    assert browser.find_browser() == str(edge)  # every Windows 10/11 has Edge: preferred


def test_a_chrome_installed_for_one_user_is_found_on_windows(windows):
    chrome = executable(windows["LOCALAPPDATA"] / "Google/Chrome/Application/chrome.exe")
    assert browser.find_browser() == str(chrome)


def test_no_browser_on_windows_says_how_to_get_the_pdf(windows):
    assert browser.find_browser() is None and export.find_chromium() is None
    hint = browser.missing_hint()
    assert "Edge" in hint and "CHROMIUM" in hint and "report.html 和 report.docx 不受影响" in hint


def test_chromium_browser_on_path_is_found_on_linux(monkeypatch, tmp_path):
    """Ubuntu-based systems (银河麒麟) name it chromium-browser."""
    monkeypatch.delenv(platforms.FORCE_ENV, raising=False)
    monkeypatch.delenv("CHROMIUM", raising=False)
    found = executable(tmp_path / "bin" / "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(browser, "LINUX_FOLDERS", ())
    assert browser.find_browser() == str(found)


def test_a_browser_in_an_app_folder_is_found_on_linux(monkeypatch, tmp_path):
    """统信 UOS installs its app store's packages under /opt/apps/<id>/files/: the same pattern, under tmp_path."""
    monkeypatch.delenv(platforms.FORCE_ENV, raising=False)
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    found = executable(tmp_path / "opt/apps/org.chromium.chromium/files/bin/chromium")
    monkeypatch.setattr(browser, "LINUX_FOLDERS", (str(tmp_path / "opt/apps/*/files/*/chromium"),))
    assert browser.find_browser() == str(found)
    assert "apt-get install chromium" in browser.missing_hint()


def test_the_chromium_variable_wins(windows, tmp_path):
    executable(windows["ProgramFiles(x86)"] / "Microsoft/Edge/Application/msedge.exe")
    mine = executable(tmp_path / "我的 浏览器" / "chrome.exe")
    import os

    os.environ["CHROMIUM"] = str(mine)
    try:
        assert browser.find_browser() == str(mine)
    finally:
        del os.environ["CHROMIUM"]


REAL_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not REAL_CHROMIUM, reason="没有安装 Chromium（scripts/install-system-deps.sh 安装）")
def test_the_edge_found_in_its_windows_folder_prints_an_a4_pdf(windows, tmp_path):
    edge = executable(windows["ProgramFiles(x86)"] / "Microsoft/Edge/Application/msedge.exe",
                      f'#!/bin/sh\nexec "{REAL_CHROMIUM}" "$@"\n')
    html = tmp_path / "报告 目录" / "report.html"
    html.parent.mkdir()
    html.write_text("<!doctype html><meta charset=utf-8><style>@page{size:A4}</style><h1>督查报告</h1>",
                    encoding="utf-8")
    found = export.find_chromium()
    assert found == str(edge)
    pdf = export.print_pdf(html, html.with_name("report.pdf"), found)
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_a_run_without_a_browser_says_how_to_get_the_pdf(windows, tmp_path, monkeypatch):
    """Step 4 exports what it can (HTML; the notebook wrote the Word version); the console says how to get the PDF."""
    from pipeline.run import runner

    def exported_without_pdf(round_id, root, printer=None):
        assert export.find_chromium() is None  # what export_report asks: no browser on this machine
        return {"html": tmp_path / "report.html"}

    monkeypatch.setattr(export, "export_report", exported_without_pdf)
    said = []
    step = runner.Step(4, "生成报告", tmp_path / runner.REPORT_NOTEBOOK)
    runner._after_step(step, "2021-12", tmp_path, said.append)
    assert said[0] == "      已生成 report.html。"
    assert "未生成 report.pdf" in said[1] and "Edge" in said[1] and "--force" in said[1]


def test_libreoffice_in_its_windows_folder_is_found(windows, monkeypatch):
    """The odd formats are converted by LibreOffice where it is installed; its Windows installer adds no PATH entry."""
    from pipeline.ingest import fallback

    monkeypatch.delenv("SOFFICE", raising=False)
    assert fallback.find_soffice() is None
    soffice = executable(windows["ProgramFiles"] / "LibreOffice" / "program" / "soffice.exe")
    assert fallback.find_soffice() == str(soffice)
