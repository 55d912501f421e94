"""The report's export: the executed report notebook to one self-contained report.html, and report.pdf (A4).

``export_report(round_id, root)`` turns the executed notebook ``outputs/<round>/notebooks/04_report.ipynb`` into
``outputs/<round>/report.html`` with nbconvert and the template ``pipeline/report/templates/report_html`` (only cells
tagged ``report``; no code, prompts, parameters or scripts; CSS inline; figures embedded as data URIs; no network
request), and, when a Chromium-based browser is found (report/browser.py), prints it to ``outputs/<round>/report.pdf``.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from pipeline import paths
from pipeline.report.browser import CHROMIUM_FLAGS
from pipeline.report.printer import PrinterError, WarmPrinter
from pipeline.report.render import (
    HTML_FILE,
    HTML_TEMPLATE,
    PDF_FILE,
    REPORT_NOTEBOOK,
    REPORT_TAG,
    TEMPLATES_DIR,
    ReportError,
    report_title,
)
from pipeline.rounds import load_round


def html_exporter():
    """nbconvert's HTML exporter with the report template: only `report` cells, no code, no scripts, CSS inline."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=HTML_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        sanitize_html=False,  # the report's own HTML, whose text from returns is escaped where it is made
    )
    exporter.language_code = "zh-CN"
    return exporter


def export_html(executed: Path, html_path: Path, title: str) -> Path:
    """Convert an executed report notebook to one self-contained HTML file (written atomically)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    if not any(REPORT_TAG in c.get("metadata", {}).get("tags", []) and c.get("outputs") for c in nb.cells):
        raise ReportError(f"{executed} 中没有报告内容（标记为 {REPORT_TAG} 且已执行的单元格）：请先完整运行第4步。")
    errors = [c for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("exception")
              or any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    if errors:
        raise ReportError(f"{executed} 中有出错的单元格，报告不完整：请在 JupyterLab 中打开查看并修正后重新运行。")
    nb.metadata["title"] = title
    body, _ = html_exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    _write_atomic(html_path, body.encode("utf-8"))
    return html_path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


PDF_TIMEOUT_S = 180


def find_executable(names: Iterable[str], override_variable: str) -> str | None:
    """The first of `names` on PATH, or None; the environment variable `override_variable` (a path or a name) wins."""
    override = os.environ.get(override_variable)
    if override:
        return override if Path(override).is_file() else shutil.which(override)
    return next((path for path in map(shutil.which, names) if path), None)


def find_chromium() -> str | None:
    """The Chromium, Chrome or Edge executable that prints the PDF on this platform, or None (report/browser.py).
    CHROMIUM=/path overrides the search."""
    from pipeline.report import browser

    return browser.find_browser()


def run_chromium(chromium: str, html_path: Path, out_name: str, args, what: str, hint: str = "") -> bytes:
    """Open the report in headless Chromium, in a throwaway profile with nothing that phones home, and return the
    bytes of the file it writes. args(out_path) -> the flags that make it write out_path (--print-to-pdf=…, …);
    what: what it does, in Chinese (打印 PDF, 截图), for the error; hint: what the user can do instead."""
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        out = Path(profile) / out_name
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args(out),
                   Path(html_path).resolve().as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium 在 {PDF_TIMEOUT_S} 秒内没有完成{what}；{hint}") from None
        if result.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            detail = (result.stderr or "").strip().splitlines()[-1:] or [""]
            raise ReportError(f"Chromium {what}失败（退出码 {result.returncode}）：{detail[0]}。{hint}")
        return out.read_bytes()


def print_pdf(html_path: Path, pdf_path: Path, chromium: str, printer: WarmPrinter | None = None) -> Path:
    """Print the report to an A4 PDF with headless Chromium (the page size comes from the report's @page rule):
    with `printer`, a Chromium already running (report/printer.py), else, or when that fails, a new one."""
    pdf = None
    if printer is not None:
        with contextlib.suppress(PrinterError):
            pdf = printer.print_pdf(html_path, PDF_TIMEOUT_S)
    if pdf is None:
        pdf = run_chromium(chromium, html_path, "report.pdf",
                           lambda out: ["--no-pdf-header-footer", f"--print-to-pdf={out}"],
                           "打印 PDF", f"{HTML_FILE} 已生成，可用浏览器打开后打印。")
    _write_atomic(Path(pdf_path), pdf)
    return Path(pdf_path)


def screenshot(html_path: Path, png_path: Path, chromium: str, width: int = 1280, height: int = 1500) -> Path:
    """A PNG of the report's first screen (for the README), taken by headless Chromium."""
    png = run_chromium(chromium, html_path, "report.png",
                       lambda out: ["--hide-scrollbars", "--force-device-scale-factor=1",
                                    f"--window-size={width},{height}", f"--screenshot={out}"], "截图")
    _write_atomic(Path(png_path), png)
    return Path(png_path)


def export_report(round_id: str, root: Path, *, pdf: bool = True,
                  printer: WarmPrinter | None = None) -> dict[str, Path]:
    """outputs/<round>/report.html from the executed 04_report.ipynb, and report.pdf (A4) when Chromium is present
    (printed by `printer`, a Chromium started beforehand, when given: see report/printer.py).

    Returns {"html": path} or {"html": path, "pdf": path}. Raises ReportError (Chinese message).
    """
    root = Path(root)
    out_dir = paths.outputs_round_dir(round_id, root)
    executed = paths.RoundPaths(root, round_id).executed / REPORT_NOTEBOOK
    if not executed.is_file():
        raise ReportError(f"找不到执行后的报告笔记本 {executed}：请先运行第4步（生成报告）。")
    round_ = load_round(round_id, root)
    written = {"html": export_html(executed, out_dir / HTML_FILE, report_title(round_))}
    chromium = find_chromium() if pdf else None
    if chromium:
        written["pdf"] = print_pdf(written["html"], out_dir / PDF_FILE, chromium, printer)
    return written
