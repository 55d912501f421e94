"""The published report in a real browser: headless Chromium (Debian's `chromium`) with the network off.

It opens the report.html of the sample chain (tests/test_report.py runs it once per session), checks
that the sections render, the figures load, nothing is requested from outside and nothing errors, that
a number's link leads to its entry in 数字来源 (collapsed until then); then prints it to an A4 PDF and takes a PNG
of the first screen.

Without Chromium the tests are skipped on a developer's machine (scripts/install-system-deps.sh installs
it) but fail in CI (CI=true), where the set-up must have installed it.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from test_report import HOSTILE_PROJECT, SECTION_HEADINGS, sample_chain

from pipeline.figures import charts as figures
from pipeline.report import export

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = export.find_chromium()
# The flags the brief asks for; Playwright adds --headless and a fresh --user-data-dir of its own.
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
# A4 (210 mm) less the report's @page side margins (2 × 14 mm), in CSS pixels (96 per inch).
A4_CONTENT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)


def _unavailable() -> str | None:
    if CHROMIUM is None:
        return "没有安装 Chromium（运行 scripts/install-system-deps.sh 安装 Debian 的 chromium 软件包）"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "没有安装 playwright（Python 包，见 requirements.lock）"
    return None


REASON = _unavailable()


@pytest.fixture(scope="module")
def page_run(tmp_path_factory):
    """Open the report once; record console messages, page errors, dialogs and every request."""
    if REASON:
        if IN_CI:
            pytest.fail(f"CI 中必须能运行浏览器测试：{REASON}")
        pytest.skip(REASON)
    from playwright.sync_api import sync_playwright

    chain = sample_chain()
    profile = tmp_path_factory.mktemp("chromium-profile")
    out = tmp_path_factory.mktemp("browser")
    seen = {"console": [], "errors": [], "dialogs": [], "requests": []}
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, offline=True,
            viewport={"width": 1280, "height": 900}, service_workers="block")

        def route(r):  # the network is off: anything that is not the file itself is recorded and refused
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                seen["requests"].append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: seen["console"].append((m.type, m.text)))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("request", lambda r: seen["requests"].append(r.url))
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.goto(chain.written["html"].resolve().as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        result = {
            "title": page.title(),
            "headings": page.eval_on_selector_all("h2, h3", "els => els.map(e => e.innerText.trim())"),
            "images": page.eval_on_selector_all("img", "els => els.map(i => [i.complete, i.naturalWidth, i.alt])"),
            "scripts": page.evaluate("document.scripts.length"),
            "text": page.evaluate("document.body.innerText"),
            "num_align": page.eval_on_selector_all(
                "td.num", "els => [...new Set(els.map(e => getComputedStyle(e).textAlign))]"),
            "banner": page.is_visible(".sample-banner"),
        }
        page.screenshot(path=str(out / "report.png"))
        result["source_link"] = follow_source_link(page, "batch.completion_rate_pct")
        result["table_link"] = follow_source_link(page, "table.warning_summary", within="table")
        result["dangling"] = page.evaluate(
            """() => Array.from(document.querySelectorAll('a[href^="#"]'))
                   .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
                   .filter(id => !document.getElementById(id))""")
        page.emulate_media(media="print")
        result["print_text"] = page.evaluate("document.body.innerText")  # what report.pdf shows
        page.set_viewport_size({"width": A4_CONTENT_WIDTH_PX, "height": 1100})
        result["too_wide"] = page.evaluate(
            """w => Array.from(document.querySelectorAll('table.data, figure.chart img'))
                   .filter(e => e.getBoundingClientRect().right > w + 1)
                   .map(e => e.tagName + ' ' + (e.closest('.table-wrap, figure')?.innerText || '').slice(0, 30))""",
            A4_CONTENT_WIDTH_PX)
        page.pdf(path=str(out / "report.pdf"), prefer_css_page_size=True, print_background=True)
        context.close()
    external = [u for u in seen["requests"] if not u.startswith(("file:", "data:"))]
    return {**result, **seen, "external": external, "out": out}


def follow_source_link(page, key: str, within: str = "") -> dict:
    """Hover a number, click it, and see where the page went (its entry in 数字来源 should be at the top of the window).

    within: a CSS scope for the number ("table": one in a table cell, not one the prose quotes)."""
    link = page.locator(f'{within} a.v[href="#src-{key}"]'.strip()).first
    link.hover()
    before = page.evaluate("window.scrollY")
    link.click()
    page.wait_for_function("location.hash.length > 1")
    target = page.evaluate(
        """id => { const e = document.getElementById(id); const r = e.getBoundingClientRect();
                   return {hash: decodeURIComponent(location.hash), top: r.top, height: window.innerHeight,
                           text: e.innerText, inAppendix: !!e.closest('#appendix_sources'),
                           matches: e.matches(':target')}; }""", f"src-{key}")
    return {**target, "before": before, "after": page.evaluate("window.scrollY"), "title": link.get_attribute("title")}


def test_sections_render_in_order(page_run):
    headings = page_run["headings"]
    assert page_run["title"].startswith("关于")
    found = [next((i for i, h in enumerate(headings) if h.replace(" ", "　").startswith(s) or h.startswith(s)), -1)
             for s in SECTION_HEADINGS]
    assert -1 not in found, [s for s, i in zip(SECTION_HEADINGS, found) if i < 0]
    assert found == sorted(found)


def test_no_console_errors_and_no_page_errors(page_run):
    assert not [m for m in page_run["console"] if m[0] in {"error", "warning"}], page_run["console"]
    assert not page_run["errors"]


def test_a_number_links_to_its_source_in_the_appendix_offline(page_run):
    link = page_run["source_link"]
    assert link["title"].startswith("两批次集中开工重大项目：投资完成率（%）：累计完成投资")
    assert link["hash"] == "#src-batch.completion_rate_pct" and link["matches"] and link["inAppendix"]
    assert link["after"] > link["before"]  # the page scrolled down to 数字来源, which the link opened
    assert -2 <= link["top"] < link["height"] / 2, link  # and the entry is at the top of the window (sub-pixel)
    assert link["text"] == "两批次集中开工重大项目：投资完成率（%）"  # visible: the collapsed section opened
    assert not page_run["external"], page_run["external"]  # following the link asked nothing of the network


def test_a_table_cell_links_to_its_tables_source_offline(page_run):
    link = page_run["table_link"]
    assert link["title"].startswith("各单位三色预警项目：") and "三色预警" in link["title"]
    assert link["hash"] == "#src-table.warning_summary" and link["matches"] and link["inAppendix"]
    assert -2 <= link["top"] < link["height"] / 2, link
    assert "表：各单位三色预警项目" in link["text"]
    assert not page_run["external"], page_run["external"]


def test_every_link_in_the_report_has_its_target(page_run):
    assert not page_run["dangling"], page_run["dangling"][:10]


def test_no_request_leaves_the_file(page_run):
    assert not page_run["external"], page_run["external"]


def test_figures_load(page_run):
    images = page_run["images"]
    assert len(images) == len(figures.FIGURES)
    assert all(complete and width > 0 for complete, width, _ in images), images


def test_text_from_returns_shows_as_text_and_runs_nothing(page_run):
    assert page_run["scripts"] == 0
    assert not page_run["dialogs"], page_run["dialogs"]
    assert HOSTILE_PROJECT in page_run["text"]


def test_numbers_are_right_aligned_and_sample_data_is_flagged(page_run):
    assert page_run["num_align"] == ["right"]
    assert page_run["banner"] and "示例数据" in page_run["text"]


def test_nothing_is_cut_on_an_a4_page(page_run):
    assert not page_run["too_wide"], page_run["too_wide"]


def test_prints_to_a4_pdf_and_a_png(page_run):
    pdf = (page_run["out"] / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-"
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) > 3 and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes)
    png = (page_run["out"] / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    keep = os.environ.get("REPORT_BROWSER_ARTIFACTS")  # e.g. a CI artifacts folder
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("report.pdf", "report.png"):
            shutil.copy(page_run["out"] / name, Path(keep) / name)


# An identifier a reader should not meet: batch.start_rate_pct, round.yml, ledger.csv, start_rate_base.
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+")


def test_the_printed_report_has_no_identifiers_and_no_sources_section(page_run):
    printed, screen = page_run["print_text"], page_run["text"]
    assert not IDENTIFIER.findall(printed), sorted(set(IDENTIFIER.findall(printed)))
    assert printed.index("附录一　数据质量") < printed.index("附录二　指标口径")
    assert "点击展开" in screen and "点击展开" not in printed  # the 数字来源 section: collapsed on screen, not printed
