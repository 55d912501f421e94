"""The report: the seed's 督查报告 with every redacted figure filled in (its export: report/export.py).

Notebook 04 calls ``load_report_data`` once, then ``part(data, name)`` for each part of
the report, in the order of ``PARTS``; each returns that part as HTML, which Jupyter
shows. The wording lives in ``pipeline/report/parts.py`` (and parts_advice.py, parts_appendix.py): one function per
part returns its blocks (model.py: headings, paragraphs of text, numbers with their source, emphasis and notes'
numbers, lists, defined terms, tables and figures). The numbers and the words that depend on them come from ``Text``
(report/text.py), so the parts read like the seed with its ``XX`` replaced by calls. prose_html.py writes the blocks
as HTML (text that came from returns — unit and project names, 典型做法 — is always escaped, so a project called
``<script>…`` shows as text); word.py writes the same blocks as report.docx. This module renders the parts and
writes step 4's summary; the pieces it renders with live beside it (see the imports below).

How numbers are written (one way throughout)
    亿元 to one decimal, percentages and points to round.yml's ``decimals`` (1 by default, or 2),
    四舍五入 (half up) on the unrounded value; the word for time progress (时间进度/序时进度/…) and
    the words above/below it (超过/低于, 快于/慢于, 高于/低于) are round.yml's conventions too;
    万元 and 亩 as whole numbers; counts as integers. In prose no thousands separators
    (as official texts write them); in tables with thousands separators, right-aligned.
    A value that cannot be computed (null in indicators.json) shows as "—" with a
    numbered note giving the reason from ``notes``, listed at the end of its part.
    Words follow the sign of the displayed value: 增长/下降, 加快/回落, 超过/低于,
    提高/降低, and 持平 when it shows as 0.0.

"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import indicators as ind
from pipeline import paths
from pipeline.figures import charts as figures
from pipeline.indicators.coverage import is_unread
from pipeline.report import parts, parts_advice, parts_appendix
from pipeline.report.data import ReportData, load_report_data  # noqa: F401  (re-exported)

# The report's pieces, one module per job — numbers (how numbers, notes and tables are written), summaries (the tables
# made from the cleaning records), links (each number linked to its source), text (the helper the parts call),
# data (what a report is made from) — offer their names here too: notebook 04 and tests write
# report.number, report.TABLES, report.Text ….
from pipeline.report.links import *  # noqa: F401,F403
from pipeline.report.model import Embedded, Prose, spans
from pipeline.report.numbers import *  # noqa: F401,F403
from pipeline.report.numbers import ReportError
from pipeline.report.prose_html import blocks_html
from pipeline.report.summaries import *  # noqa: F401,F403
from pipeline.report.summaries import BOX_NAMES, SUMMARY_NAMES
from pipeline.report.text import *  # noqa: F401,F403
from pipeline.report.text import Text
from pipeline.rounds import Round

TEMPLATES_DIR = paths.TEMPLATES_DIR
HTML_TEMPLATE = "report_html"  # nbconvert template folder under TEMPLATES_DIR
REPORT_NOTEBOOK = "04_report.ipynb"
REPORT_TAG = "report"  # cells of notebook 04 whose output is part of the report
HTML_FILE, PDF_FILE = paths.REPORT_HTML, paths.REPORT_PDF

# The parts of the report in order: template name -> what it is (for the notebook and the tests).
PARTS: dict[str, str] = {
    "head": "标题、示例数据说明、目录和导语",
    "overall": "一、总体情况",
    "awareness": "（一）抓项目的意识逐步提高",
    "measures": "（二）项目推进措施不断优化",
    "support": "（三）项目要素保障持续跟进",
    "planning": "（四）项目谋划招引有序开展",
    "major_works": "（五）“十大工程项目”稳步推进",
    "advice_progress": "二、工作建议（一）加快建设抓进度",
    "advice_support": "（二）统筹协调优保障",
    "advice_attraction": "（三）招商引资扩投资",
    "advice_planning": "（四）谋划储备增后劲",
    "advice_supervision": "（五）督查考核促落实",
    "appendix_quality": "附录一 数据质量",
    "appendix_definitions": "附录二 指标口径",
    "appendix_sources": "数字来源（只在屏幕上查看，不打印、不进 Word 版）",
}


# =========================================================================== rendering a part


@dataclass(frozen=True)
class ReportPart:
    """One part of the report as HTML; Jupyter displays it, nbconvert copies it into report.html."""

    name: str
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:  # the text/plain beside the HTML: short, not the HTML again
        return f"<报告：{PARTS[self.name]}，HTML {len(self.html):,} 字符>"

    def __str__(self) -> str:
        return self.html


BUILDERS = {"head": parts.head, "overall": parts.overall, "awareness": parts.awareness, "measures": parts.measures,
            "support": parts.support, "planning": parts.planning, "major_works": parts.major_works,
            "advice_progress": parts_advice.advice_progress, "advice_support": parts_advice.advice_support,
            "advice_attraction": parts_advice.advice_attraction, "advice_planning": parts_advice.advice_planning,
            "advice_supervision": parts_advice.advice_supervision, "appendix_quality": parts_advice.appendix_quality,
            "appendix_definitions": parts_appendix.appendix_definitions,
            "appendix_sources": parts_appendix.appendix_sources}


@dataclass
class RenderedPart:
    """One part of the report as its prose blocks (model.py), the models of the tables and figures they embed, and
    the HTML written from them: report.html's part and report.docx's are written from the same blocks."""

    name: str
    blocks: list[Prose]
    embedded: Embedded
    html: str


def render_blocks(data: ReportData, name: str) -> RenderedPart:
    """One part of the report (see PARTS): its blocks, with the notes numbered as the text refers to them, and its
    HTML."""
    if name not in PARTS:
        raise KeyError(f"unknown report part {name!r}; one of {', '.join(PARTS)}")
    t = Text(data, name)
    try:
        blocks = BUILDERS[name](t, data.summaries)
        t.notes.renumber(spans(blocks))
    except ReportError:
        raise
    except Exception as exc:  # a data problem: say which part
        raise ReportError(f"生成报告的“{PARTS[name]}”部分时出错（{_where(exc)}）：{type(exc).__name__}: {exc}") from exc
    t.embedded.notes = t.notes.shown
    return RenderedPart(name, blocks, t.embedded, blocks_html(blocks, lambda: t.notes.html(t.notes.shown)))


def render_part(data: ReportData, name: str) -> str:
    """The HTML of one part of the report (see PARTS)."""
    return render_blocks(data, name).html


def _where(exc: BaseException) -> str:
    """Where in pipeline/report/ an error happened: "parts.py 第90行"."""
    tb, where = exc.__traceback__, ""
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.parent.name == "report" and path.parent.parent.name == "pipeline":
            where = f"pipeline/report/{path.name} 第{tb.tb_lineno}行"
        tb = tb.tb_next
    return where or "pipeline/report"


def part(data: ReportData, name: str) -> ReportPart:
    """One part of the report, for a notebook cell tagged `report`."""
    return ReportPart(name, render_part(data, name))


def open_items(data: ReportData) -> pd.DataFrame:
    """The values the report shows as "—", and why: what to fix in the returns or round.yml."""
    labels = ind.KEYS
    rows = [{"指标": labels.get(k, ("", k))[1], "键": k, "原因": why}
            for k, why in data.values.get("notes", {}).items() if data.values.get(k) is None]
    return pd.DataFrame(rows, columns=["指标", "键", "原因"])


def save_summary(data: ReportData, path: Path) -> Path:
    """The lines the runner prints after this step: how many values could not be computed and where to read why
    (one line, not the list on every run), and the unread headers. The data-quality warning is step 1's: printed
    once, there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = open_items(data)
    lines = [f"报告共 {len(PARTS)} 部分，图 {len(figures.FIGURES)} 张；"
             f"导出为 {HTML_FILE}（有 Chromium 时另存 {PDF_FILE}）。"]
    if len(items):
        lines.append(open_items_line(items, data.round.id if data.round else "<轮次>"))
    lines += unread_header_lines(data.values, data.quality.header_map)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def unread_header_lines(values: dict[str, Any], header_map: pd.DataFrame | None) -> list[str]:
    """The headers no column was found for, by file and sheet, with the figures they may affect (those null or
    partial for a reason naming the header): for the analyst's console."""
    if header_map is None or header_map.empty:
        return []
    unread = header_map[[is_unread(c, how) for c, how in zip(header_map["column"], header_map["how"])]]
    if unread.empty:
        return []
    notes = values.get("notes", {})
    lines = ["未能识别的表头（按文件；详见《表头对照》）："]
    for (file, sheet), rows in unread.groupby(["file", "sheet"], sort=False):
        headers = list(dict.fromkeys(str(w) for w in rows["written"] if str(w).strip()))
        hit = [ind.KEYS.get(k, ("", k))[1] for k, why in notes.items() if any(f"“{h}”" in why for h in headers)]
        hit = list(dict.fromkeys(hit))
        affects = ("；可能影响：" + "、".join(hit[:BOX_NAMES]) + ("等" if len(hit) > BOX_NAMES else "")
                   if hit else "；报告中的数字所需的列均已识别，未受影响")
        lines.append(f"  {file}（{sheet}）：" + "、".join(f"“{h}”" for h in headers) + affects)
    return lines


def open_items_line(items: pd.DataFrame, round_id: str) -> str:
    """“有 80 个数值无法计算（12 种原因）……”: the count, and where the reasons are, in one line."""
    reasons = items["原因"].nunique()
    return (f"有 {len(items)} 个数值无法计算（{reasons} 种原因），报告中不写或写作“—”：按原因的个数见报告附录一"
            f"“无法计算的数字”，逐项原因见 outputs/{round_id}/{ind.INDICATORS_FILE} 的 notes 和第4步笔记本。")


def open_items_by_reason(items: pd.DataFrame) -> list[str]:
    """One line per reason with the count and the items' names: “本轮未收到…：11项无法计算（甲、乙……等）”."""
    lines = []
    for reason, group in items.groupby("原因", sort=False):
        names = list(dict.fromkeys(group["指标"]))
        shown = "、".join(names[:SUMMARY_NAMES]) + ("等" if len(names) > SUMMARY_NAMES else "")
        lines.append(f"  {str(reason).rstrip('。')}：{len(group)}项无法计算（{shown}）")
    return lines


# =========================================================================== export: HTML and PDF


def report_title(round_: Round) -> str:
    """关于<round title>情况的报告."""
    return f"关于{round_.title}情况的报告"
