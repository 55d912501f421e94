"""report.pdf printed by a Chromium started beforehand (report/printer.py): the same PDF as the command-line print,
and the command-line print whenever the warm browser cannot print.

Needs a Chromium (scripts/install-system-deps.sh); skipped without one on a developer's machine, failed in CI.
"""
from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest

from pipeline.report import browser, export, printer

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = export.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None and not IN_CI or os.name != "posix",
                                reason="没有安装 Chromium（scripts/install-system-deps.sh）或不是 POSIX 系统")

# A 2×2 PNG: red, green, blue, white.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001249444154789c63f8cfc0c000c20cff8100001fee05fb0bd9688b0000000049454e44ae426082")).decode()


def report_page(folder: Path, rows: int) -> Path:
    """A page shaped like the report: @page A4 with margins, Chinese text, a shaded table across pages, an image."""
    row = "<tr><td>银川市第{}个项目</td><td>{:.2f}亿元</td><td>已开工</td></tr>"
    body = "".join(row.format(i, i * 1.25) for i in range(rows))
    html = folder / "报告 目录" / "report.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>督查报告</title>"
        "<style>@page{size:A4;margin:18mm 14mm} body{font-family:sans-serif} th{background:#dde6f0}"
        " tr:nth-child(even){background:#f4f4f4} img{width:40mm;image-rendering:pixelated}</style>"
        "<h1>全区重大项目推进情况督查报告</h1><p>截至2021年11月30日，两批次集中开工重大项目进展如下。</p>"
        f"<img alt=图1 src='data:image/png;base64,{PNG}'>"
        f"<table><tr><th>项目</th><th>完成投资</th><th>开工情况</th></tr>{body}</table></html>",
        encoding="utf-8")
    return html


def undated(pdf: bytes) -> bytes:
    """The PDF without what two prints of one page by the command line already differ in: its creation and
    modification dates, and the numbers the tagged PDF's structure gives the page's elements."""
    pdf = re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", b"", pdf)
    return re.sub(rb"\(node\d+\)", b"(node)", pdf)  # an element's /ID, and a cell's /Headers naming them


def first_difference(a: bytes, b: bytes) -> bytes | None:
    """None when the two are equal, else the bytes around the first place they differ (for the failure message)."""
    if a == b:
        return None
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return a[max(0, at - 160):at + 40] + b" <> " + b[max(0, at - 160):at + 40]


@pytest.fixture
def warm():
    started = printer.WarmPrinter.start(CHROMIUM, browser.CHROMIUM_FLAGS)
    assert started is not None
    yield started
    started.close()


@pytest.mark.parametrize("rows", [3, 120])
def test_the_warm_browser_prints_the_pdf_the_command_line_prints(warm, tmp_path, rows):
    html = report_page(tmp_path, rows)

    pdf = warm.print_pdf(html, timeout=120)
    again = warm.print_pdf(html, timeout=120)  # the same browser prints twice (a second page is no leftover)
    cli = export.print_pdf(html, tmp_path / "cli.pdf", CHROMIUM).read_bytes()

    assert pdf[:5] == b"%PDF-"
    assert first_difference(undated(pdf), undated(cli)) is None
    assert first_difference(undated(pdf), undated(again)) is None
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert (pages == 1) if rows == 3 else (pages > 2)


def test_a_warm_browser_that_died_leaves_the_print_to_the_command_line(warm, tmp_path):
    html = report_page(tmp_path, 3)
    warm._process.kill()
    warm._process.wait()

    with pytest.raises(printer.PrinterError):
        warm.print_pdf(html, timeout=30)
    written = export.print_pdf(html, tmp_path / "report.pdf", CHROMIUM, warm)

    assert undated(written.read_bytes()) == undated(export.print_pdf(html, tmp_path / "cli.pdf", CHROMIUM).read_bytes())


def test_a_program_that_is_no_browser_fails_fast_and_leaves_nothing(tmp_path):
    html = report_page(tmp_path, 3)
    fake = printer.WarmPrinter.start("/bin/true", browser.CHROMIUM_FLAGS)
    assert fake is not None
    profile = Path(fake._profile)

    started = time.monotonic()
    with pytest.raises(printer.PrinterError, match="closed its pipe|Broken pipe"):
        fake.print_pdf(html, timeout=60)
    fake.close()

    assert time.monotonic() - started < 10
    assert fake._process.returncode is not None and not profile.exists()


def test_no_warm_browser_without_a_browser():
    assert printer.WarmPrinter.start(None, browser.CHROMIUM_FLAGS) is None
