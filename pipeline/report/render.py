"""The report: the seed's 督查报告 with every redacted figure filled in (its export: report/export.py).

Notebook 04 calls ``load_report_data`` once, then ``part(data, name)`` for each part of
the report, in the order of ``PARTS``; each returns that part as HTML, which Jupyter
shows. The wording lives in ``pipeline/report/templates/report/<name>.html.j2`` (Jinja2 with
autoescape on: text that came from returns — unit and project names, 典型做法 — is
always escaped, so a project called ``<script>…`` shows as text). The numbers and the
words that depend on them come from ``Text`` (here), so the templates read like the
seed with its ``XX`` replaced by calls.

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

import base64
import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from pipeline import indicators as ind
from pipeline import paths
from pipeline.conventions import Conventions, conventions_of
from pipeline.figures import charts as figures
from pipeline.frames import in_order, is_missing
from pipeline.indicators import sources
from pipeline.indicators import tables as declared_tables
from pipeline.indicators.coverage import NEEDS, is_unread
from pipeline.indicators.coverage import gap_text as coverage_gap_text
from pipeline.ingest import corrections as fixes
from pipeline.ingest import quality
from pipeline.ingest.problems import ANALYST_CODES
from pipeline.rounds import Round, load_round
from pipeline.schemas import RETURN_KINDS

TEMPLATES_DIR = paths.TEMPLATES_DIR
REPORT_TEMPLATES = TEMPLATES_DIR / "report"
HTML_TEMPLATE = "report_html"  # nbconvert template folder under TEMPLATES_DIR
REPORT_NOTEBOOK = "04_report.ipynb"
REPORT_TAG = "report"  # cells of notebook 04 whose output is part of the report
HTML_FILE, PDF_FILE = paths.REPORT_HTML, paths.REPORT_PDF
DASH = "—"

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


class ReportError(RuntimeError):
    """The report cannot be made; the message (Chinese) says what to do."""


# =========================================================================== numbers and words


def rounded(value: float, digits: int = 1) -> Decimal:
    """四舍五入 (half up) to `digits` decimals, on the value as written (97.15 -> 97.2)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def number(value: Any, digits: int = 1, thousands: bool = False) -> str:
    """A number as the report writes it: `digits` decimals, half up; "—" when missing."""
    if is_missing(value):
        return DASH
    shown = rounded(value, digits)
    if shown == 0:
        shown = abs(shown)  # never "-0.0"
    return f"{shown:,.{digits}f}" if thousands else f"{shown:.{digits}f}"


def signed_word(value: Any, up: str, down: str, digits: int = 1) -> tuple[str, str]:
    """(word, magnitude) by the sign of the value as displayed: (增长, "15.0"), (下降, "3.2"), ("", "0.0") when it shows
    as zero."""
    shown = rounded(value, digits)
    if shown == 0:
        return "", f"{abs(shown):.{digits}f}"
    return (up if shown > 0 else down), f"{abs(shown):.{digits}f}"


def join_names(names: Iterable[Any]) -> str:
    return "、".join(str(n) for n in names if not is_missing(n))


def chinese_date(iso: str | None, with_year: bool = True) -> str:
    """2021-11-30 -> 2021年11月30日."""
    if not iso:
        return DASH
    y, m, d = (int(x) for x in str(iso)[:10].split("-"))
    return f"{y}年{m}月{d}日" if with_year else f"{m}月{d}日"


def date_span(start: str | None, end: str | None) -> str | None:
    """12月6日—10日 (same month), 11月29日—12月3日 (two months); None when a date is missing."""
    if not start or not end:
        return None
    (sy, sm, sd), (ey, em, ed) = ((int(x) for x in str(d)[:10].split("-")) for d in (start, end))
    if (sy, sm, sd) == (ey, em, ed):
        return f"{sm}月{sd}日"
    return f"{sm}月{sd}日—{ed}日" if (sy, sm) == (ey, em) else f"{sm}月{sd}日—{em}月{ed}日"


# =========================================================================== notes and the text helper


@dataclass
class Notes:
    """The numbered notes of one part: why a value shows as "—"."""

    reasons: dict[str, str]
    prefix: str = "note"  # the part's name: note anchors unique in the report and the same on every run
    items: list[str] = field(default_factory=list)

    def ref(self, key: str | None = None, reason: str | None = None) -> Markup:
        text = reason or self.reasons.get(key or "", "") or "无法计算"
        if text not in self.items:
            self.items.append(text)
        n = self.items.index(text) + 1
        return Markup('<sup class="note-ref"><a href="#{}">注{}</a></sup>').format(self.anchor(n), n)

    def anchor(self, n: int) -> str:
        return f"{self.prefix}-note-{n}"

    def html(self, items: list[str] | None = None) -> Markup:
        items = self.items if items is None else items
        if not items:
            return Markup("")
        rows = Markup("").join(Markup('<li id="{}">注{}：{}</li>').format(self.anchor(i), i, text)
                               for i, text in enumerate(items, 1))
        return Markup('<ol class="notes" aria-label="注">{}</ol>').format(rows)

    def renumber(self, html: str) -> str:
        """The part's HTML with its notes numbered in the order the text refers to them, and only those: a figure the
        template computed and then left out (a clause of a unit nobody reported) leaves no note behind."""
        ref = re.compile(r'href="#{}-note-(\d+)">注(\d+)</a>'.format(re.escape(self.prefix)))
        listed = str(self.html())
        body = html.replace(listed, "\x00") if listed else html
        used = list(dict.fromkeys(int(m.group(1)) for m in ref.finditer(body)))
        if used == list(range(1, len(self.items) + 1)):
            return html
        new = {old: n for n, old in enumerate(used, 1)}
        body = ref.sub(lambda m: 'href="#{}">注{}</a>'.format(self.anchor(new[int(m.group(1))]),
                                                             new[int(m.group(1))]), body)
        return body.replace("\x00", str(self.html([self.items[old - 1] for old in used])))


@dataclass(frozen=True)
class Col:
    """A table column: source column, Chinese header, kind (text, count, yi, wan, pct, pp, date, flag)."""

    name: str
    label: str
    kind: str = "text"


NUMERIC_KINDS = {"count": 0, "yi": 1, "wan": 0, "pct": 1, "pp": 1, "mu": 0}
NOWRAP_KINDS = {"short", "date"}  # short words (单位, 批次) and dates stay on one line


PERCENT_KINDS = {"pct", "pp"}  # shown to the round's ``decimals``


def cell_text(value: Any, kind: str, decimals: int | None = None) -> str:
    if kind in NUMERIC_KINDS:
        digits = decimals if decimals is not None and kind in PERCENT_KINDS else NUMERIC_KINDS[kind]
        return number(value, digits, thousands=True)
    if is_missing(value):
        return DASH if kind != "text" else ""
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "flag":
        return "是" if bool(value) else "否"
    return str(value)


def _css_class(col: Col) -> Markup:
    if col.kind in NUMERIC_KINDS:
        return Markup(' class="num"')
    return Markup(' class="nowrap"') if col.kind in NOWRAP_KINDS else Markup("")


def html_table(frame: pd.DataFrame, columns: list[Col], caption: str = "", note: str = "",
               empty: str = "（无）", css: str = "", decimals: int | None = None, link=None, name: str = "") -> Markup:
    """A DataFrame as an HTML table: escaped text, right-aligned numbers with thousands separators.

    decimals: places for percentages and points (the round's convention; default one).
    link(row, col, text) -> Markup or None: a numeric cell's content, linked to its source (see ``cell_link``);
    name: the table's name, as data-table (for readers and tests that find a table by what it is)."""
    if frame.empty:
        return Markup('<p class="table-empty"><strong>{}</strong>{}</p>').format(caption + "：" if caption else "",
                                                                                  empty)

    def cell(row, col: Col) -> Markup:
        text = cell_text(row[col.name], col.kind, decimals)
        linked = link(row, col, text) if link is not None and col.kind in NUMERIC_KINDS else None
        return Markup('<td{}>{}</td>').format(_css_class(col), text if linked is None else linked)

    head = Markup("").join(Markup('<th scope="col"{}>{}</th>').format(_css_class(c), c.label) for c in columns)
    body = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(cell(row, c) for c in columns))
                           for _, row in frame.iterrows())
    cap = Markup("<caption>{}</caption>").format(caption) if caption else ""
    foot = Markup('<p class="table-note">{}</p>').format(note) if note else ""
    data = Markup(' data-table="{}"').format(name) if name else ""
    return Markup('<div class="table-wrap"><table class="data {}"{}>{}<thead><tr>{}</tr></thead><tbody>{}</tbody>'
                  '</table>{}</div>').format(css, data, cap, head, body, foot)


# =========================================================================== the data a report is made from


@dataclass(frozen=True)
class ReportData:
    """Everything the report reads: the round, indicators.json, the tables of step 2, the cleaning records, the
    figures."""

    round: Round
    values: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    ledger: pd.DataFrame
    problems: pd.DataFrame
    quarantine: pd.DataFrame
    outputs_dir: Path
    data_quality: quality.Quality | None = None  # what the figures leave out (None: assessed from ledger and problems)
    corrections: pd.DataFrame | None = None  # applied in cleaning (corrections.APPLIED_COLUMNS); None: none

    def __repr__(self) -> str:  # what the notebook shows
        keys = [k for k in self.values if k not in ("notes", "sources", "gaps")]
        nulls = sum(self.values[k] is None for k in keys)
        keys = len(keys)
        return (f"轮次 {self.round.id}：{self.round.title}（数据截至 {self.round.as_of:%Y-%m-%d}）；"
                f"指标 {keys} 项，其中无法计算 {nulls} 项；表 {len(self.tables)} 张；"
                f"台账 {len(self.ledger)} 行，隔离行 {len(self.quarantine)} 行")

    @functools.cached_property
    def summaries(self) -> dict[str, Any]:
        """The tables and totals the parts share (督办 summary, 报送情况, 隔离行, …): computed once, on first use."""
        track = self.tables["track_list"]
        return {
            "track_summary": track_summary(track, self.round.units), "start_problems": start_problems(track),
            "quality": quality_totals(self.ledger, self.round.units),
            "returns": returns_by_unit(self.ledger, self.problems, self.round.units),
            "quarantined": quarantine_by_reason(self.quarantine, self.problems),
            "not_read": files_not_read(self.ledger),
            "analyst_notices": analyst_notices(self.problems),
            "corrections": corrections_applied(self.corrections),
            "batches": batches_with_projects(self.tables["by_batch"]),
            "dq": self.quality,
            "dq_findings": quality.findings(self.quality),
            "dq_coverage": coverage_lines(self.values),
            "warnings": warning_summary(self.tables["warning_by_unit"]),
            "most_red": most_red(self.tables["warning_by_unit"]),
            "industries": industry_rates(self.tables.get("by_industry")),
            "open_by_reason": open_items_table(self.values),
        }

    @functools.cached_property
    def quality(self) -> quality.Quality:
        if self.data_quality is not None:
            return self.data_quality
        return quality.assess(self.ledger, self.problems, self.quarantine, {}, self.round.units)


def load_report_data(round_id: str, root: Path | None = None) -> ReportData:
    """Read what steps 1–3 left for the round (indicators.json, tables, ledger, problems, quarantine, figures)."""
    root = Path(root) if root else None
    round_ = load_round(round_id, root)
    processed = paths.processed_round_dir(round_id, root)
    outputs = paths.outputs_round_dir(round_id, root)
    try:
        values = ind.load_indicators(outputs)
        tables = ind.load_report_tables(processed)
        ledger = pd.read_csv(processed / "ledger.csv")
        problems = pd.read_parquet(processed / "problems.parquet")
        quarantine = pd.read_parquet(processed / "quarantine.parquet")
        data_quality = quality.load_quality(processed, round_.units)
        applied = fixes.load_applied(processed)
    except FileNotFoundError as exc:
        raise ReportError(f"找不到 {exc.filename}：请先运行第1步（清洗报表）和第2步（计算指标），"
                          f"例如 make report ROUND={round_id}。") from None
    except declared_tables.TableError as exc:
        raise ReportError(f"{exc}请重新运行第2步（计算指标），例如 make report ROUND={round_id}。") from None
    return ReportData(round_, values, tables, ledger, problems, quarantine, outputs, data_quality, applied)


# =========================================================================== pure tables for the report


def track_summary(track: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """Projects to track per unit: total and by reason (a project may have several reasons)."""
    columns = ["unit", "projects", "not_started", "zero_investment", "not_in_stats", "behind"]
    if track.empty:
        return pd.DataFrame(columns=columns)
    out = (track.groupby("unit", sort=False)
           .agg(projects=("unit", "size"), not_started=("not_started", "sum"),
                zero_investment=("zero_investment", "sum"), not_in_stats=("not_in_stats", "sum"),
                behind=("behind", "sum"))
           .reset_index())
    out = in_order(out, "unit", units)
    total = pd.DataFrame([{"unit": "合计", **{c: int(out[c].sum()) for c in columns[1:]}}])
    return pd.concat([out, total], ignore_index=True)[columns]


def warning_summary(by_unit: pd.DataFrame) -> pd.DataFrame:
    """三色预警 per unit with projects (warning_by_unit), with the number of projects and a 合计 row."""
    columns = ["unit", "red", "yellow", "green", "projects"]
    rows = by_unit.assign(projects=by_unit[["red", "yellow", "green"]].sum(axis=1))
    rows = rows[rows["projects"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    total = pd.DataFrame([{"unit": "合计", **{c: int(rows[c].sum()) for c in columns[1:]}}])
    return pd.concat([rows[columns], total], ignore_index=True)


# How many names of uncomputable items one console line or table cell lists before “等”.
SUMMARY_NAMES = 6


def open_items_table(values: dict[str, Any]) -> pd.DataFrame:
    """The values that could not be computed (null in indicators.json, with their reason in its notes), one row per
    reason: how many, which."""
    columns = ["reason", "count", "items"]
    notes = {k: why for k, why in values.get("notes", {}).items() if values.get(k) is None}
    if not notes:
        return pd.DataFrame(columns=columns)
    rows: dict[str, list[str]] = {}
    for key, reason in notes.items():
        label = sources.reader_label(key) if key in ind.KEYS else key
        rows.setdefault(str(reason).rstrip("。"), []).append(label)
    def names(labels: list[str]) -> str:
        labels = list(dict.fromkeys(labels))
        return "、".join(labels[:SUMMARY_NAMES]) + (f"等{len(labels)}项" if len(labels) > SUMMARY_NAMES else "")

    return pd.DataFrame([{"reason": reason, "count": len(labels), "items": names(labels)}
                         for reason, labels in rows.items()], columns=columns)


def industry_rates(by_industry: pd.DataFrame | None) -> pd.DataFrame:
    """The industry chart's numbers (图4) for the text: industry, 投资完成率 and its gap to 时间进度, all projects, the
    highest rate first; industries without a rate are left out, as the chart leaves them out."""
    columns = ["industry", "completion_rate_pct", "vs_time_progress_pp"]
    if by_industry is None or by_industry.empty:
        return pd.DataFrame(columns=columns)
    rows = by_industry[(by_industry["scope"] == ind.SCOPE_ALL) & (by_industry["projects"] > 0)]
    rows = rows.dropna(subset=["completion_rate_pct"]).sort_values("completion_rate_pct", ascending=False,
                                                                    kind="stable")
    return rows[columns].reset_index(drop=True)


def most_red(by_unit: pd.DataFrame, top: int = 3) -> list[tuple[str, int]]:
    """The units with the most red lights (at most `top`, ties by round.yml order): [(unit, red), …]."""
    rows = by_unit[by_unit["red"] > 0].sort_values("red", ascending=False, kind="stable").head(top)
    return [(str(u), int(n)) for u, n in zip(rows["unit"], rows["red"])]


def start_problems(track: pd.DataFrame) -> pd.DataFrame:
    """The projects to track for not being started, started with no investment, or not in the statistics
    (真实开工、及时入统), with their reasons in short (``flags``): 未开工；已开工零投资；已开工未入统；进度滞后."""
    if track.empty:
        return track.assign(flags=pd.Series(dtype="string"))
    rows = track[track["not_started"] | track["zero_investment"] | track["not_in_stats"]].reset_index(drop=True)
    names = (("not_started", "未开工"), ("zero_investment", "已开工零投资"), ("not_in_stats", "已开工未入统"),
             ("behind", "进度滞后"))
    flags = pd.Series("", index=rows.index, dtype=object)
    for column, label in names:
        flags = flags + np.where(rows[column].astype(bool), label + "；", "").astype(object)
    return rows.assign(flags=flags.str.removesuffix("；"))


REASON_LABELS = {
    "duplicate": "重复填报（同一项目只计一次）",
    "bad_money": "金额无法识别",
    "bad_number": "数字无法识别",
    "bad_date": "日期无法识别或不存在",
    "bad_bool": "是/否填写不规范",
    "bad_month": "月份无法识别",
    "bad_choice": "填写值不在可选范围内",
    "check_start_date": "开工时间晚于数据截至日期",
    "check_project_name": "项目名称未填写",
    "missing_required": "缺少必填列",
    "formula_no_value": "公式没有计算结果",
}


def reason_label(code: Any, problem: Any) -> str:
    """A short category for a quarantine reason: by problem code, else the problem text without its values."""
    code = "" if is_missing(code) else str(code)
    text = "" if is_missing(problem) else str(problem)
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    if "重复" in text:
        return REASON_LABELS["duplicate"]
    if code.startswith("bad_"):
        return "填写内容无法识别"
    stripped = re.sub(r"（[^）]*）|\([^)]*\)|“[^”]*”|\"[^\"]*\"|[0-9０-９,.，]+", "", text.split("；")[0])
    stripped = stripped.split("：")[-1].strip(" ：，。")
    return stripped or "其他"


def quarantine_by_reason(quarantine: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per reason category: rows, units, money (万元). A row with two reasons counts under each."""
    columns = ["reason", "rows", "units", "money_wan"]
    if quarantine.empty:
        return pd.DataFrame(columns=columns)
    keys = ["file", "sheet", "row"]
    as_keys = {"file": "string", "sheet": "string", "row": "int64"}
    probs = problems.dropna(subset=["row"]).astype(as_keys)[[*keys, "code", "problem"]]
    rows = quarantine.reset_index(drop=True).astype(as_keys).assign(_i=lambda d: range(len(d)))
    merged = rows.merge(probs, on=keys, how="left")
    merged["reason"] = [reason_label(c, p if not is_missing(p) else r)
                        for c, p, r in zip(merged["code"], merged["problem"], merged["reasons"])]
    merged = merged.drop_duplicates(["_i", "reason"])
    out = (merged.groupby("reason", sort=False)
           .agg(rows=("_i", "nunique"), units=("unit", lambda s: join_names(dict.fromkeys(s))),
                money_wan=("money_wan", "sum"))
           .reset_index().sort_values("rows", ascending=False, kind="stable"))
    return out[columns].reset_index(drop=True)


def returns_by_unit(ledger: pd.DataFrame, problems: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """Per expected unit: 报送情况, files, sheets, data rows, kept, quarantined, problems to fix and hints."""
    columns = ["unit", "status", "files", "sheets", "data_rows", "kept", "quarantined", "errors", "hints"]
    units = list(units)
    received = ledger[ledger["status"].fillna("") != ""]
    others = [u for u in dict.fromkeys(received["unit"].astype(str)) if u not in units]
    rows = []
    real = problems[~problems["code"].fillna("").isin({"missing_return", *ANALYST_CODES})]
    for unit in [*units, *others]:
        mine = received[received["unit"] == unit]
        mine_p = real[real["unit"] == unit]
        rows.append({
            "unit": unit, "status": "已报送" if len(mine) else "未报送", "files": mine["file"].nunique(),
            "sheets": len(mine), "data_rows": int(mine["data_rows"].sum()), "kept": int(mine["kept"].sum()),
            "quarantined": int(mine["quarantined"].sum()), "errors": int((mine_p["severity"] == "错误").sum()),
            "hints": int((mine_p["severity"] != "错误").sum()),
        })
    return pd.DataFrame(rows, columns=columns)


def corrections_applied(applied: pd.DataFrame | None) -> pd.DataFrame:
    """Every correction of corrections.csv applied in cleaning: unit, file, row, column, from, to, basis."""
    columns = ["unit", "file", "sheet", "row", "column", "old", "new", "basis"]
    if applied is None or applied.empty:
        return pd.DataFrame(columns=columns)
    frame = applied.reindex(columns=columns).copy()
    frame["row"] = frame["row"].map(lambda r: "" if pd.isna(r) else str(int(r)))
    return frame.sort_values(["unit", "file", "sheet"], kind="stable").reset_index(drop=True)


def analyst_notices(problems: pd.DataFrame) -> pd.DataFrame:
    """The notices for the analyst alone (problems.ANALYST_CODES): leftovers of the desk skipped, a file saved
    twice read once, a unit name of the returns that round.yml's units spell differently."""
    notes = problems[problems["code"].fillna("").isin(ANALYST_CODES)]
    text = [p if f in p else f"{f}：{p}" for f, p in zip(notes["file"].astype(str), notes["problem"].astype(str))]
    fix = notes["fix"].astype(str).tolist()
    return pd.DataFrame({"notice": text, "fix": fix}, columns=["notice", "fix"])


# A report section's number (一、, （二）), left out where the red box names sections: the headings are the report's.
SECTION_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
# How many figures one console line names before “等”.
BOX_NAMES = 6


def coverage_lines(values: dict[str, Any]) -> list[str]:
    """The red box's lines on coverage, one per reason (notes): the figures computed from part of the returns
    and those no return could feed — a single figure by its name, several by the report sections they are in:
    “总体情况、工作建议中的52个数字只据部分报表计算（不含农业农村厅：未报送）” (the sections' numbers left out:
    the headings are the report's own)."""
    notes = values.get("notes", {})
    partial = values.get("data_quality.partial_keys") or []
    unfed = [k for k, why in notes.items() if values.get(k) is None and why.startswith("各单位报表均无可识别的")]
    lines = []
    for keys, words in ((partial, "只据部分报表计算（{}）"), (unfed, "无法计算：{}")):
        by_reason: dict[str, list[str]] = {}
        for key in keys:
            by_reason.setdefault(notes.get(key, ""), []).append(key)
        for reason, group in by_reason.items():
            if len(group) == 1:
                what = sources.reader_label(group[0]) if group[0] in ind.KEYS else group[0]
            else:
                sections = "、".join(dict.fromkeys(SECTION_NUMBER.sub("", ind.KEYS[k][0]) for k in group
                                                   if k in ind.KEYS))
                what = f"{sections}中的{len(group)}个数字"
            lines.append(f"{what}{words.format(reason)}")
    return lines


def files_not_read(ledger: pd.DataFrame) -> pd.DataFrame:
    """Files and sheets that were not read as a return (unreadable, not a return, empty), with the reason."""
    bad = ledger[ledger["status"].fillna("") != "已读取"]
    return bad[["unit", "file", "sheet", "status", "note"]].reset_index(drop=True)


def batches_with_projects(by_batch: pd.DataFrame) -> list[str]:
    """The batches (第一批, 第二批, …) that have projects, in order."""
    rows = by_batch[(by_batch["scope"] == ind.SCOPE_ALL) & (by_batch["projects"] > 0)]
    return rows["batch"].astype(str).tolist()


def quality_totals(ledger: pd.DataFrame, units: Iterable[str]) -> dict[str, Any]:
    units = list(units)
    received = ledger[ledger["status"].fillna("") != ""]
    got = [u for u in units if u in set(received["unit"].astype(str))]
    return {
        "expected": len(units), "received": len(got), "missing": [u for u in units if u not in got],
        "files": received["file"].nunique(), "sheets": len(received),
        "data_rows": int(received["data_rows"].sum()), "kept": int(received["kept"].sum()),
        "quarantined": int(received["quarantined"].sum()), "skipped": int(received["skipped_rows"].sum()),
        "money_raw_wan": float(received["money_raw_wan"].sum()),
        "money_kept_wan": float(received["money_kept_wan"].sum()),
        "money_quarantined_wan": float(received["money_quarantined_wan"].sum()),
        "reconciled": ledger_reconciles(received),
    }


def units_with_status(by_unit: pd.DataFrame, q: quality.Quality, kind: str = "projects") -> pd.DataFrame:
    """The by-unit table with each unit's data status: a unit whose return was not used (or that sent nothing)
    shows as 报表未采用 (未报送), its figures as “—”, not as zero projects."""
    status = by_unit["unit"].astype(str).map(lambda u: quality.unit_status(q, u, kind))
    blank = status.isin(["报表未采用", "未报送"]) & (by_unit["projects"] == 0)
    figures_ = [c for c in ind.FIGURE_COLUMNS if c in by_unit]
    out = by_unit.assign(data_status=status)
    out[figures_] = out[figures_].astype(float).mask(blank)
    return out


def ledger_reconciles(ledger: pd.DataFrame) -> bool:
    """Every file and sheet: data rows = kept + quarantined, and money as read = used + set aside."""
    return not quality.ledger_discrepancies(ledger)


# The tables the report shows, by name: their shown columns, as declared (pipeline/indicators/table_columns.csv).
TABLES: dict[str, list[Col]] = {t.name: [Col(c.name, c.label, c.kind) for c in t.shown]
                                for t in declared_tables.DECLARED.values() if t.shown}


# =========================================================================== listings: a report, not a list

# The tables that list projects or files one by one: at most LISTING_LIMIT rows in the report, the worst
# first by the rule stated under the table, then where the full list is. name -> (rule, sort, where).
LISTING_LIMIT = 10  # the 公文 and the printed report stay within 20 A4 pages (tests/test_report_docx.py)
SOURCES_BOOK = "《数字来源》（数字来源.xlsx）"


@dataclass(frozen=True)
class Listing:
    rule: str  # how the rows shown are chosen, in words
    by: tuple[str, ...] = ()  # sort columns, worst first ((): keep the table's order)
    ascending: tuple[bool, ...] = ()
    where: str = ""  # where the full list is; {round} is the round


LISTINGS: dict[str, Listing] = {
    "start_problems": Listing("按未开工、已开工零投资、已开工未入统的顺序，同类按年度计划投资从大到小",
                              ("not_started", "zero_investment", "not_in_stats", "annual_plan_wan"), (False,) * 4,
                              f"《督办清单》（督办清单.xlsx）各单位的工作表和{SOURCES_BOOK}的“督办项目”表"),
    "not_started_both": Listing("按年度计划投资从大到小", ("annual_plan_wan",), (False,),
                                f"{SOURCES_BOOK}的“两轮均未开工”表"),
    "corrections_applied": Listing("按单位和文件的顺序",
                                   where="本轮的更正记录文件和第1步笔记本"),
    "files_not_read": Listing("按单位和文件的顺序",
                              where="第1步的台账和《退回修改清单》（退回修改清单.xlsx）"),
}


def capped(name: str, frame: pd.DataFrame, round_id: str = "", limit: int = LISTING_LIMIT) -> tuple[pd.DataFrame, str]:
    """(the rows to show, the note saying how many more there are and where they are); a short list is kept as it is."""
    listing = LISTINGS.get(name)
    if listing is None or len(frame) <= limit:
        return frame, ""
    ordered = frame
    if listing.by:
        ordered = frame.sort_values(list(listing.by), ascending=list(listing.ascending), kind="stable",
                                    na_position="last")
    more = len(frame) - limit
    note = (f"共{len(frame)}项，此处{listing.rule}列出前{limit}项，还有{more}项未列出；"
            f"完整名单见{listing.where.format(round=round_id or '<轮次>')}。")
    return ordered.head(limit), note


# =========================================================================== sources of the numbers (数字来源)
# indicators.json's "sources" (written by pipeline/indicators/sources.py): each number links to its entry in the
# section 数字来源 of report.html, which is collapsed on screen and left out of print and of report.docx. Every text
# made here is Chinese: an entry is named by its label, never by its indicators.json key; the formula with the values
# substituted is written once, then the rows once.


def source_anchor(key: str) -> str:
    return f"src-{key}"


def source_expression(source: dict[str, Any]) -> str:
    """The formula with each input's value after its name: 累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元."""
    text, pos = source["formula"], 0
    for item in source.get("inputs", []):
        shown = (number(item["value"], NUMERIC_KINDS.get(item["kind"], 1))
                 + (item["unit"] if not is_missing(item["value"]) else ""))
        at = text.find(item["name"], pos)
        if at < 0:
            text, pos = f"{text}；{item['name']}{shown}", len(text) + len(item["name"]) + len(shown) + 1
        else:
            end = at + len(item["name"])
            text, pos = text[:end] + shown + text[end:], end + len(shown)
    return text


def source_calculation(source: dict[str, Any]) -> str:
    """How the number is had, once: the formula with its values (“累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元”);
    "" when the formula only says again what the label says (a number taken as it is from a return)."""
    label = source["label"].removeprefix("表：")
    expression = source_expression(source)
    return "" if _same_meaning(expression, label) else expression


def _same_meaning(a: str, b: str) -> bool:
    def bare(text: str) -> str:
        return re.sub(r"[（）()%：:，,、\s×]|个数|亿元|万元|个百分点", "", text)

    return bare(a) == bare(b) or bare(a) in bare(b)


def source_rows_text(source: dict[str, Any]) -> str:
    """（依据593个项目） or （取自round.yml）: the rows once."""
    rows = source["rows"]
    if rows.get("count") is None:
        return f"（取自{rows.get('origin') or '清洗后的报表'}）"
    return f"（依据{rows['count']}{rows.get('what', '行')}）"


def source_hover(key: str, source: dict[str, Any]) -> str:
    """投资完成率（%）：累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元（依据593个项目）. key: the entry, for callers
    that have it; the text names the number by its label only."""
    calculation = source_calculation(source)
    return f"{source['label']}" + (f"：{calculation}" if calculation else "") + source_rows_text(source)


def source_entries(sources: dict[str, dict]) -> list[dict[str, Any]]:
    """The entries of 数字来源, in the order of indicators.json: anchor, label, calculation, rows and columns."""
    entries = []
    for key, source in sources.items():
        rows = source["rows"]
        columns = rows.get("column")
        columns = "、".join(columns) if isinstance(columns, list) else columns
        entries.append({"key": key, "anchor": source_anchor(key), "label": source["label"],
                        "calculation": source_calculation(source), "hover": source_hover(key, source),
                        "count": rows.get("count"), "what": rows.get("what", "行"), "sheet": rows.get("sheet"),
                        "file": rows.get("file"), "column": columns, "origin": rows.get("origin"),
                        "by": rows.get("by"), "columns": column_formulas(key, source)})
    return entries


def column_formulas(key: str, source: dict[str, Any]) -> str:
    """A table entry's columns in words: 项目数＝所列项目的个数；已开工＝“已开工”为是的项目个数 ("" for a figure)."""
    labels = {c.name: c.label for c in TABLES.get(key.removeprefix(TABLE_SOURCE_PREFIX), [])}
    return "；".join(f"{labels.get(name, name)}＝{spec['formula']}" for name, spec in source.get("columns", {}).items())


# ---- the report's tables: one source entry per table (sources["table.<name>"]), each numeric cell linked to it

TABLE_SOURCE_PREFIX = "table."
TOTAL_ROW = "合计"


def table_key(name: str) -> str:
    return TABLE_SOURCE_PREFIX + name


def row_label(row: pd.Series, columns: list[Col]) -> str:
    """A table row as a cell's hover names it: its first two text cells, “全部项目·第一批” or “银川市·项目名称”."""
    texts = (cell_text(row[c.name], c.kind) for c in columns if c.kind not in NUMERIC_KINDS)
    return "·".join([t for t in texts if t][:2])


def cell_rows_text(source: dict[str, Any], group: str | None) -> str:
    """（数字来源.xlsx 工作表“督办项目”中“单位”为“银川市”的行） or （取自…）."""
    rows = source["rows"]
    if not rows.get("sheet"):
        return f"（取自{rows.get('origin') or '清洗后的报表'}）"
    where = f"{rows['file']} 工作表“{rows['sheet']}”"
    if rows.get("by") and group is not None:
        where += "的全部行" if group == TOTAL_ROW else f"中“{rows['by']}”为“{group}”的行"
    return f"（{where}）"


def cell_hover(key: str, source: dict[str, Any], label: str, column: Col, group: str | None = None) -> str:
    """各单位开工和投资完成情况：银川市·项目数＝所列项目的个数（数字来源.xlsx 工作表“两批次项目”中“单位”为“银川市”的行）

    key: the table's entry, for callers that have it; the text names the table by its label only."""
    formula = source.get("columns", {}).get(column.name, {}).get("formula")
    table = source["label"].removeprefix("表：")
    return f"{table}：{label}·{column.label}" + (f"＝{formula}" if formula else "") + cell_rows_text(source, group)


def cell_link(name: str, columns: list[Col], sources: dict[str, dict]):
    """link(row, col, text) for html_table: a number links to its own entry when it has one (cell_key), else to its
    table's entry, with the hover saying which row and column it is; None when the table has no entry."""
    source = sources.get(table_key(name))
    if source is None:
        return None
    by_field = source["rows"].get("by_field")

    def link(row: pd.Series, col: Col, text: str) -> Markup | None:
        if text == DASH:
            return None
        group = str(row[by_field]) if by_field and by_field in row and not is_missing(row[by_field]) else None
        own = source.get("cell_key", "").format(row=row.get("unit", ""), column=col.name) if "unit" in row else ""
        if own in sources:
            return Markup('<a class="v" href="#{}" title="{}">{}</a>').format(source_anchor(own),
                                                                              source_hover(own, sources[own]), text)
        hover = cell_hover(table_key(name), source, row_label(row, columns), col, group)
        return Markup('<a class="v" href="#{}" title="{}">{}</a>').format(source_anchor(table_key(name)), hover, text)

    return link


# =========================================================================== the text helper the templates call


class _Part:
    """What every piece of the text helper shares: the report data, its values, the part's notes, the round's
    conventions.

    Raw access lives here: ``get`` (a KeyError for an unknown key, never a silent blank), ``dash`` (“—” with a note
    giving the reason) and ``shown`` (a number linked to its entry in 数字来源, the formula and inputs on hover)."""

    def __init__(self, data: ReportData, part: str = "report"):
        self.data = data
        self.values = data.values
        self.notes = Notes(dict(data.values.get("notes", {})), prefix=part)
        self.conv: Conventions = conventions_of(data.round)
        self._clauses: dict[str, dict[str, list[Markup]]] = {}  # see Practices
        self._placed: set[str] = set()  # the clause groups whose practices are already rendered
        self._stated: set[tuple[str, str, str]] = set()  # (family of figures, unit, why) said in this part
        self._said: set[tuple[str, str]] = set()  # (unit, why) said in this part, whatever the figure

    def partial(self, key: str) -> Markup:
        """The caveat of a figure computed from part of the returns (data_quality.partial_keys), after it:
        “（不含银川市：报表中没有可识别的“签约方式”列）”, with the kind's rows left out when not said yet. Each unit
        and reason is said once per family of figures in a part (batch.*, key.*, attraction.signing_city.*)."""
        family = key.rsplit(".", 1)[0]
        gaps = [(family, *g) for g in self.values.get("gaps", {}).get(key, [])]
        fresh = [g for g in gaps if g not in self._stated]
        if not fresh:
            return Markup("")
        self._stated.update(fresh)
        self._said.update((unit, why) for _, unit, why in fresh)
        need = NEEDS.get(key)
        _, part = self._unsaid(need.kind) if need else ([], [])
        text = f"不含{coverage_gap_text([g[1:] for g in fresh])}"
        text += f"；{'、'.join(part)}部分数据未计入" if part else ""
        return Markup('<span class="caveat">（{}）</span>').format(text)

    def _unsaid(self, kind: str) -> tuple[list[str], list[str]]:
        """The units whose data of `kind` the figures leave out (not sent or not used; partly) that this part has
        not said yet; from now on they count as said."""
        q, units = self.data.quality, self.data.round.units
        whole, part = [], []
        for unit in units:
            status = quality.unit_status(q, unit, kind)
            if status in ("未报送", "报表未采用") and not {(unit, "未报送"), (unit, status)} & self._said:
                whole.append(unit)
            elif status == "部分数据未计入" and (unit, status) not in self._said:
                part.append(unit)
            if status:
                self._said.add((unit, status))
        return whole, part

    def get(self, key: str) -> Any:
        if key not in self.values:
            raise KeyError(f"indicators.json has no key {key!r}")
        return self.values[key]

    def missing(self, key: str) -> bool:
        return is_missing(self.get(key))

    def dash(self, key: str | None = None, reason: str | None = None) -> Markup:
        return Markup('<span class="na">{}</span>{}').format(DASH, self.notes.ref(key, reason))

    def from_table(self, name: str, text: Any) -> Markup:
        """A number the prose quotes from one of the report's tables, linked to that table's entry in 数字来源."""
        return self.shown(table_key(name), str(text))

    def shown(self, key: str, text: str) -> Markup:
        """A number as shown, linked to its source (数字来源) with the formula and inputs on hover."""
        source = self.values.get("sources", {}).get(key)
        if not source:
            return Markup('<span class="v">{}</span>').format(text)
        return Markup('<a class="v" href="#{}" title="{}">{}</a>').format(source_anchor(key), source_hover(key, source),
                                                                          text)

    @property
    def tp_name(self) -> str:
        """The word for time progress: 时间进度, 序时进度, 时序进度 or 均衡进度."""
        return self.conv.time_progress_name


class Numbers(_Part):
    """Values with their unit, as the module docstring says numbers are written: ``t.yi("batch.completed_yi")``."""

    def _value(self, key: str, digits: int, unit: str) -> Markup:
        value = self.get(key)
        if is_missing(value):
            return self.dash(key)
        return Markup("{}{}{}").format(self.shown(key, number(value, digits)), unit, self.partial(key))

    def yi(self, key: str) -> Markup:
        """亿元 to one decimal: 486.2亿元."""
        return self._value(key, 1, "亿元")

    def wan(self, key: str) -> Markup:
        """万元 as a whole number: 715万元."""
        return self._value(key, 0, "万元")

    def mu(self, key: str) -> Markup:
        return self._value(key, 0, "亩")

    def pct(self, key: str) -> Markup:
        """A percentage to the round's decimals: 92.6% (or 92.63%)."""
        return self._value(key, self.conv.decimals, "%")

    def count(self, key: str, unit: str = "个") -> Markup:
        """A count as an integer: 593个; a missing count keeps its measure word (组成—个督查组) so the sentence
        reads."""
        if self.missing(key):
            return Markup("{}{}").format(self.dash(key), unit)
        return self._value(key, 0, unit)

    def text(self, key: str) -> Markup:
        """A name (a unit, a region) as text; a list as 甲、乙、丙."""
        value = self.get(key)
        if isinstance(value, list):
            return escape(join_names(value)) + self.partial(key) if value else self.dash(key, "无")
        return self.dash(key) if is_missing(value) else escape(str(value)) + self.partial(key)

    def names(self, key: str) -> list[str]:
        value = self.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

class Words(Numbers):
    """Words chosen by the data (增长/下降, 超过/低于 …), the round's conventions and its dates."""

    def _signed(self, key: str, up: str, down: str, flat: str, unit: str, lead: str = "") -> Markup:
        value = self.get(key)
        if is_missing(value):
            return Markup("{}{}").format(lead, self.dash(key))
        word, size = signed_word(value, up, down, self.conv.decimals)
        if not word:
            return escape(flat)
        return Markup("{}{}{}{}{}").format(lead, word, self.shown(key, size), unit, self.partial(key))

    def growth(self, key: str) -> Markup:
        """同比增长15.0% / 同比下降3.2% / 与上年同期持平."""
        return self._signed(key, "增长", "下降", "与上年同期持平", "%", "同比")

    def accel(self, key: str) -> Markup:
        """比上年同期加快79.2个百分点 / 回落… / 与上年同期增速持平."""
        return self._signed(key, "加快", "回落", "增速与上年同期持平", "个百分点", "比上年同期")

    def vs_time(self, key: str) -> Markup:
        """超过时间进度13.8个百分点 / 低于… / 与时间进度持平 — or 快于序时进度12.51个百分点, by the round's
        conventions."""
        value = self.get(key)
        name = self.tp_name
        if is_missing(value):
            return Markup("与{}相比{}").format(name, self.dash(key))
        up, down = self.conv.progress_words
        return self._signed(key, up + name, down + name, f"与{name}持平", "个百分点")

    @property
    def below(self) -> str:
        """The word for below time progress: 低于 or 慢于."""
        return self.conv.progress_words[1]

    def time_progress_basis(self) -> Markup:
        """How this round's time progress is worked out: 8÷12＝66.7% / 第244天÷366天＝66.7% /
        年度计划截至8月底的目标80.0%."""
        tp = self.pct("time_progress_pct")
        as_of = dt.date.fromisoformat(str(self.get("as_of")))
        mode = self.conv.time_progress_mode
        if mode == "days":
            return Markup("{}÷{}＝{}").format(f"截至日已过天数{as_of.timetuple().tm_yday}天",
                                              f"全年天数{366 if calendar.isleap(as_of.year) else 365}天", tp)
        if mode == "targets":
            return Markup("年度计划逐月累计目标中截至{}月底的目标{}").format(as_of.month, tp)
        return Markup("{}÷12＝{}").format(self.month, tp)

    def change(self, key: str) -> Markup:
        """提高20.0个百分点 / 降低… / 持平 (for a change in points since the previous round)."""
        return self._signed(key, "提高", "降低", "持平", "个百分点")

    def more(self, key: str, unit: str = "亿元") -> Markup:
        """增加153.7亿元 / 减少…."""
        return self._signed(key, "增加", "减少", "持平", unit)

    @property
    def month(self) -> int:
        return int(self.get("as_of_month"))

    def as_of(self) -> str:
        return chinese_date(self.get("as_of"))

    def inspection_dates(self) -> Markup:
        """12月6日—10日, or the one date given, or nothing (the sentence then starts with who inspected)."""
        start, end = self.get("inspection.start"), self.get("inspection.end")
        span = date_span(start, end) or (chinese_date(start or end, with_year=False) if start or end else "")
        return escape(span)

class Practices(_Part):
    """The units' 典型做法 as sentences, with the figures that belong to a unit joined to its sentence.

    The order is a rule, not a habit of the templates: every ``clause`` of a group is registered
    before the group's first ``practices``, which places them (a template sets its clauses at its
    top). A clause registered after its group was placed would be lost, so it is an error.
    """

    def clause(self, unit_key: str, html: Markup, group: str = "") -> Markup:
        """Join a figure ("兑现奖励资金715万元") to the 典型做法 sentence of the unit named by unit_key.

        Returns nothing to show: ``practices`` places it. A figure whose unit is
        missing (nobody reported it) is left out; indicators.json's notes say why.
        """
        if group in self._placed:
            raise ReportError(f"模板中“{unit_key}”的数字在其所属的典型做法（组“{group}”）之后才加入，"
                              "须先调用 t.clause 再调用 t.practices。")
        unit = self.get(unit_key)
        if is_missing(unit):  # nobody reported it: left out, not a sentence of dashes (the reason: indicators.json)
            return Markup("")
        if str(html):
            self._clauses.setdefault(group, {}).setdefault(str(unit), []).append(Markup(html))
        return Markup("")

    def practices(self, section_key: str, group: str = "", match: str | None = None, exclude: str | None = None,
                  kinds: tuple[str, ...] | None = None) -> Markup:
        """The units' 典型做法 of a section as sentences, departments first (as the seed), each unit's figures joined.

        group: which figures (``clause``) go with these practices; match / exclude: keep the
        practices whose content matches / does not match a regular expression (e.g. 招商|签约);
        kinds: only units of these kinds (市/基地/部门).
        A unit with figures but no practice gets a sentence of its figures alone; figures nobody
        reported follow the sentences once per group, with the departments (kinds None or 部门).
        """
        self._placed.add(group)
        clauses = self._clauses.get(group, {})
        by_unit = practice_contents(self.data.tables["practices_by_section"], section_key, match, exclude)
        for unit in clauses:
            if unit:
                by_unit.setdefault(unit, [])
        units = [u for u in by_unit if kinds is None or ind.unit_kind(u) in kinds]
        units.sort(key=lambda u: 0 if ind.unit_kind(u) == ind.DEPARTMENT else 1)  # stable sort: 部门 first
        sentences = [practice_sentence(u, by_unit[u], clauses.get(u, [])) for u in units]
        if kinds is None or ind.DEPARTMENT in kinds:
            sentences += [Markup("{}。").format(c) for c in clauses.get("", [])]
        return Markup("").join(sentences)


def practice_contents(table: pd.DataFrame, section_key: str, match: str | None = None,
                      exclude: str | None = None) -> dict[str, list[str]]:
    """unit -> its 典型做法 of a section, in order, kept by match / exclude (regular expressions on the content)."""
    rows = table[table["section_key"] == section_key]
    if match:
        rows = rows[rows["content"].astype(str).str.contains(match, regex=True)]
    if exclude:
        rows = rows[~rows["content"].astype(str).str.contains(exclude, regex=True)]
    by_unit: dict[str, list[str]] = {}
    for unit, content in zip(rows["unit"].astype(str), rows["content"].astype(str)):
        by_unit.setdefault(unit, []).append(content)
    return by_unit


def practice_sentence(unit: str, contents: list[str], clauses: list[Markup]) -> Markup:
    """“<unit>做法一，做法二，figure。”: the unit's name once, its practices quoted (escaped), then its figures."""
    parts: list[Markup] = []
    for i, content in enumerate(contents):
        content = content.strip().rstrip("。；;，,. ")
        if i == 0 and content.startswith(unit):
            content = content[len(unit):].lstrip("：:，, ")
        parts.append(Markup('<q class="practice" title="{}报送的典型做法">{}</q>').format(unit, content))
    parts.extend(clauses)
    return Markup('<span class="unit">{}</span>{}。').format(unit, Markup("，").join(parts))


class Embeds(_Part):
    """Tables, figures, notes, caveats and the source entries of 数字来源, as pieces of HTML."""

    def source_entries(self) -> list[dict[str, Any]]:
        return source_entries(self.values.get("sources", {}))

    def table(self, name: str, caption: str = "", note: str = "", frame: pd.DataFrame | None = None,
              empty: str = "（无）", css: str = "") -> Markup:
        """A table of TABLES, percentages to the round's decimals and 时间进度 in its headers named as the round
        names it; each number linked to its source; a listing (LISTINGS) cut to its first LISTING_LIMIT rows, saying
        so."""
        source = frame if frame is not None else self.data.tables[name]
        source, cut = capped(name, source, self.data.round.id if self.data.round else "")
        columns = [Col(c.name, c.label.replace("时间进度", self.tp_name), c.kind) for c in TABLES[name]]
        link = cell_link(name, columns, self.values.get("sources", {}))
        return html_table(source, columns, caption, cut + note, empty, css, decimals=self.conv.decimals, link=link,
                          name=name)

    def figure(self, key: str) -> Markup:
        """A chart of step 3, embedded as a PNG data URI, with its number and title; nothing when the chart has no
        data to draw (FIGURE_NEEDS): an empty box says nothing the text does not say."""
        if not self.has_data(key):
            return Markup("")
        spec = figures.FIGURES_BY_KEY[key]
        png = figures.figure_paths(self.data.outputs_dir, key)["png"]
        if not png.is_file():
            raise ReportError(f"找不到图表 {png}：请先运行第3步（绘制图表，03_figures.ipynb）。")
        return figure_html(key, f"图{spec.number}　{spec.title}", png.read_bytes())

    def has_data(self, figure: str) -> bool:
        """Whether a chart has something to draw: one of the values it needs (FIGURE_NEEDS) is there and not 0."""
        needs = FIGURE_NEEDS.get(figure, ())
        return not needs or any(not is_missing(self.values.get(k)) and self.values.get(k) != 0 for k in needs)

    def received(self, kind: str) -> bool:
        """Whether a return of this kind (schemas.RETURN_KINDS: projects, fai, indicators, …) was read this round."""
        return RETURN_LABELS[kind] in received_kinds(self.data.ledger)

    def not_received(self, kind: str) -> Markup:
        """“本轮未收到十大工程项目推进情况表。” when no return of the kind was read; nothing otherwise."""
        return Markup("") if self.received(kind) else Markup("本轮未收到{}。").format(RETURN_LABELS[kind])

    def notes_html(self) -> Markup:
        return self.notes.html()

    def industry_sentence(self, rows: pd.DataFrame) -> Markup:
        """分行业看，投资完成率超过时间进度的有电子信息114.3%、…；低于时间进度的有绿色食品58.8%、…。 — the numbers of
        the industry chart in words, each linked to the table's entry of 数字来源."""
        if rows.empty:
            return Markup("")
        up, down = self.conv.progress_words

        def listed(part: pd.DataFrame) -> Markup:
            return Markup("、").join(Markup("{}{}%").format(name, self.from_table("by_industry", number(
                rate, self.conv.decimals))) for name, rate in zip(part["industry"], part["completion_rate_pct"]))

        gap = rows["vs_time_progress_pp"].map(lambda v: rounded(v, self.conv.decimals))
        groups = [(f"{up}{self.tp_name}", rows[gap > 0]), (f"与{self.tp_name}持平", rows[gap == 0]),
                  (f"{down}{self.tp_name}", rows[gap < 0])]
        said = [Markup("{}的有{}").format(words, listed(part)) for words, part in groups if len(part)]
        return Markup("分行业看，投资完成率{}。").format(Markup("；").join(said))

    def caveat(self, kind: str = "projects") -> Markup:
        """What a headline figure leaves out, in brackets after it: “（不含石嘴山市报表；吴忠市部分数据未计入）”;
        nothing when complete, or when the figure's own caveat (partial) already said it."""
        whole, part = self._unsaid(kind)
        pieces = [f"不含{'、'.join(whole)}报表"] if whole else []
        pieces += [f"{'、'.join(part)}部分数据未计入"] if part else []
        return Markup('<span class="caveat">（{}）</span>').format("；".join(pieces)) if pieces else Markup("")


# A chart drawn from nothing is left out of the report: figure key -> the indicators.json keys, one of which it needs.
FIGURE_NEEDS: dict[str, tuple[str, ...]] = {
    "fai_growth": ("fai.yoy_pct", "fai.last_yoy_pct", "fai.total_yi"),
    "projects_by_batch": ("batch.projects",), "unit_rates": ("batch.projects",),
    "industry_completion": ("batch.plan_yi",), "warning_lights": ("batch.projects",),
    "attraction_industries": ("attraction.projects",), "attraction_units": ("attraction.projects",),
    "major_works_progress": ("major.projects",),
    "change_since_previous": ("change.batch.start_rate_pp", "change.batch.completion_rate_pp"),
}
RETURN_LABELS = {kind: spec.label for kind, spec in RETURN_KINDS.items()}


def received_kinds(ledger: pd.DataFrame) -> set[str]:
    """The kinds of return (their Chinese labels) read this round, from the ledger."""
    if ledger.empty or "return_kind" not in ledger:
        return set()
    read = ledger[ledger["status"].fillna("") == "已读取"]
    return set(read["return_kind"].dropna().astype(str))


def figure_html(key: str, caption: str, png: bytes) -> Markup:
    """A figure as HTML: the PNG embedded as a data URI (no request), the caption as alt text and figcaption."""
    data = base64.b64encode(png).decode("ascii")
    return Markup('<figure class="chart" id="fig-{}"><img src="data:image/png;base64,{}" alt="{}">'
                  '<figcaption>{}</figcaption></figure>').format(key, data, caption, caption)


class Text(Words, Practices, Embeds):
    """Numbers, words and pieces of HTML for one part of the report; every value is escaped.

    Templates call it as ``t``: ``{{ t.yi("batch.completed_yi") }}`` -> 486.2亿元, or
    "—" with a note when the value is null. It is made of four pieces on one shared state
    (``_Part``: the data, the part's notes and the round's conventions): ``Numbers`` (values with
    their unit and source), ``Words`` (words chosen by the data), ``Practices`` (典型做法 with their
    figures; the order clause-then-practices is enforced there) and ``Embeds`` (tables, figures, notes).
    """


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


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(REPORT_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(DASH=DASH, PARTS=PARTS, is_missing=is_missing, number=number, join_names=join_names,
                       units_with_status=units_with_status,
                       chinese_date=chinese_date, unit_kind=ind.unit_kind, CITY=ind.CITY, BASE=ind.BASE,
                       DEPARTMENT=ind.DEPARTMENT)
    return env


def _compact(html: str) -> str:
    """Drop the template's line breaks and indentation: a line break between Chinese characters would show as a
    space."""
    return re.sub(r"\s*\n\s*", "", html).strip()


def render_part(data: ReportData, name: str) -> str:
    """The HTML of one part of the report (see PARTS)."""
    if name not in PARTS:
        raise KeyError(f"unknown report part {name!r}; one of {', '.join(PARTS)}")
    t = Text(data, name)
    context = {"t": t, "v": data.values, "data": data, "round": data.round, "tables": data.tables, "name": name,
               **data.summaries}
    try:
        return t.notes.renumber(_compact(_environment().get_template(f"{name}.html.j2").render(**context)))
    except ReportError:
        raise
    except Exception as exc:  # a template or data problem: say which part and which template line
        raise ReportError(f"生成报告的“{PARTS[name]}”部分时出错（{_template_line(exc, name)}）："
                          f"{type(exc).__name__}: {exc}") from exc


def _template_line(exc: BaseException, name: str) -> str:
    """Where in the part's template an error happened: "measures.html.j2 第9行"."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"pipeline/report/templates/report/{name}.html.j2" + (f" 第{line}行" if line else "")


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
