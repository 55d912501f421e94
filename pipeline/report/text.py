"""The text helper the parts of the report call as ``t`` (parts.py): numbers with their unit and source, words chosen
by the data, the units' 典型做法 with their figures — as phrases of the prose model (model.py) — and tables, figures
and notes as blocks."""
from __future__ import annotations

import base64
import calendar
import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

from pipeline import indicators as ind
from pipeline.conventions import Conventions, conventions_of
from pipeline.figures import charts as figures
from pipeline.frames import is_missing
from pipeline.indicators.coverage import NEEDS
from pipeline.indicators.coverage import gap_text as coverage_gap_text
from pipeline.ingest import quality
from pipeline.report.links import cell_link, source_anchor, source_entries, source_hover, table_key
from pipeline.report.model import BLOCK_ATTRIBUTE, Embed, Embedded, NotesList, Phrase, Picture, Span
from pipeline.report.numbers import (
    DASH,
    Col,
    Notes,
    ReportError,
    chinese_date,
    date_span,
    html_table,
    join_names,
    months_to,
    number,
    rounded,
    signed_word,
)
from pipeline.report.summaries import TABLES, capped

if TYPE_CHECKING:
    from pipeline.report.data import ReportData
from pipeline.schemas import RETURN_KINDS

# =========================================================================== the text helper the parts call


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
        self._clauses: dict[str, dict[str, list[Phrase]]] = {}  # see Practices
        self._placed: set[str] = set()  # the clause groups whose practices are already rendered
        self._stated: set[tuple[str, str, str]] = set()  # (family of figures, unit, why) said in this part
        self._said: set[tuple[str, str]] = set()  # (unit, why) said in this part, whatever the figure
        self.embedded = Embedded()  # the models of the tables and figures this part embeds (model.py)

    def partial(self, key: str) -> Phrase:
        """The caveat of a figure computed from part of the returns (data_quality.partial_keys), after it:
        “（不含银川市：报表中没有可识别的“签约方式”列）”, with the kind's rows left out when not said yet. Each unit
        and reason is said once per family of figures in a part (batch.*, key.*, attraction.signing_city.*)."""
        family = key.rsplit(".", 1)[0]
        gaps = [(family, *g) for g in self.values.get("gaps", {}).get(key, [])]
        fresh = [g for g in gaps if g not in self._stated]
        if not fresh:
            return Phrase()
        self._stated.update(fresh)
        self._said.update((unit, why) for _, unit, why in fresh)
        need = NEEDS.get(key)
        _, part = self._unsaid(need.kind) if need else ([], [])
        text = f"不含{coverage_gap_text([g[1:] for g in fresh])}"
        text += f"；{'、'.join(part)}部分数据未计入" if part else ""
        return Phrase(Span("caveat", [f"（{text}）"]))

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

    def dash(self, key: str | None = None, reason: str | None = None) -> Phrase:
        return Phrase(Span("na", [DASH]), self.notes.ref(key, reason))

    def from_table(self, name: str, text: Any) -> Phrase:
        """A number the prose quotes from one of the report's tables, linked to that table's entry in 数字来源."""
        return self.shown(table_key(name), str(text))

    def shown(self, key: str, text: str) -> Phrase:
        """A number as shown, linked to its source (数字来源) with the formula and inputs on hover."""
        source = self.values.get("sources", {}).get(key)
        if not source:
            return Phrase(Span("v", [str(text)]))
        return Phrase(Span("v", [str(text)], href=source_anchor(key), title=source_hover(key, source)))

    @property
    def tp_name(self) -> str:
        """The word for time progress: 时间进度, 序时进度, 时序进度 or 均衡进度."""
        return self.conv.time_progress_name


class Numbers(_Part):
    """Values with their unit, as the module docstring says numbers are written: ``t.yi("batch.completed_yi")``."""

    def _value(self, key: str, digits: int, unit: str) -> Phrase:
        value = self.get(key)
        if is_missing(value):
            return self.dash(key)
        return Phrase(self.shown(key, number(value, digits)), unit, self.partial(key))

    def yi(self, key: str) -> Phrase:
        """亿元 to one decimal: 486.2亿元."""
        return self._value(key, 1, "亿元")

    def wan(self, key: str) -> Phrase:
        """万元 as a whole number: 715万元."""
        return self._value(key, 0, "万元")

    def mu(self, key: str) -> Phrase:
        return self._value(key, 0, "亩")

    def pct(self, key: str) -> Phrase:
        """A percentage to the round's decimals: 92.6% (or 92.63%)."""
        return self._value(key, self.conv.decimals, "%")

    def count(self, key: str, unit: str = "个") -> Phrase:
        """A count as an integer: 593个; a missing count keeps its measure word (组成—个督查组) so the sentence
        reads."""
        if self.missing(key):
            return Phrase(self.dash(key), unit)
        return self._value(key, 0, unit)

    def text(self, key: str) -> Phrase:
        """A name (a unit, a region) as text; a list as 甲、乙、丙."""
        value = self.get(key)
        if isinstance(value, list):
            return Phrase(join_names(value), self.partial(key)) if value else self.dash(key, "无")
        return self.dash(key) if is_missing(value) else Phrase(str(value), self.partial(key))

    def names(self, key: str) -> list[str]:
        value = self.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

class Words(Numbers):
    """Words chosen by the data (增长/下降, 超过/低于 …), the round's conventions and its dates."""

    def _signed(self, key: str, up: str, down: str, flat: str, unit: str, lead: str = "") -> Phrase:
        value = self.get(key)
        if is_missing(value):
            return Phrase(lead, self.dash(key))
        word, size = signed_word(value, up, down, self.conv.decimals)
        if not word:
            return Phrase(flat)
        return Phrase(lead, word, self.shown(key, size), unit, self.partial(key))

    def growth(self, key: str) -> Phrase:
        """同比增长15.0% / 同比下降3.2% / 与上年同期持平."""
        return self._signed(key, "增长", "下降", "与上年同期持平", "%", "同比")

    def accel(self, key: str) -> Phrase:
        """比上年同期加快79.2个百分点 / 回落… / 与上年同期增速持平."""
        return self._signed(key, "加快", "回落", "增速与上年同期持平", "个百分点", "比上年同期")

    def vs_time(self, key: str) -> Phrase:
        """超过时间进度13.8个百分点 / 低于… / 与时间进度持平 — or 快于序时进度12.51个百分点, by the round's
        conventions."""
        value = self.get(key)
        name = self.tp_name
        if is_missing(value):
            return Phrase(f"与{name}相比", self.dash(key))
        up, down = self.conv.progress_words
        return self._signed(key, up + name, down + name, f"与{name}持平", "个百分点")

    @property
    def below(self) -> str:
        """The word for below time progress: 低于 or 慢于."""
        return self.conv.progress_words[1]

    def time_progress_basis(self) -> Phrase:
        """How this round's time progress is worked out: 8÷12＝66.7% / 第244天÷366天＝66.7% /
        年度计划截至8月底的目标80.0%."""
        tp = self.pct("time_progress_pct")
        as_of = dt.date.fromisoformat(str(self.get("as_of")))
        mode = self.conv.time_progress_mode
        if mode == "days":
            return Phrase(f"截至日已过天数{as_of.timetuple().tm_yday}天÷"
                          f"全年天数{366 if calendar.isleap(as_of.year) else 365}天＝", tp)
        if mode == "targets":
            return Phrase(f"年度计划逐月累计目标中截至{as_of.month}月底的目标", tp)
        return Phrase(f"{self.month}÷12＝", tp)

    def change(self, key: str) -> Phrase:
        """提高20.0个百分点 / 降低… / 持平 (for a change in points since the previous round)."""
        return self._signed(key, "提高", "降低", "持平", "个百分点")

    def more(self, key: str, unit: str = "亿元") -> Phrase:
        """增加153.7亿元 / 减少…."""
        return self._signed(key, "增加", "减少", "持平", unit)

    @property
    def month(self) -> int:
        return int(self.get("as_of_month"))

    def as_of(self) -> str:
        return chinese_date(self.get("as_of"))

    def inspection_dates(self) -> str:
        """12月6日—10日, or the one date given, or nothing (the sentence then starts with who inspected)."""
        start, end = self.get("inspection.start"), self.get("inspection.end")
        span = date_span(start, end) or (chinese_date(start or end, with_year=False) if start or end else "")
        return span

class Practices(_Part):
    """The units' 典型做法 as sentences, with the figures that belong to a unit joined to its sentence.

    The order is a rule, not a habit of the parts: every ``clause`` of a group is registered
    before the group's first ``practices``, which places them (a part sets its clauses at its
    top). A clause registered after its group was placed would be lost, so it is an error.
    """

    def clause(self, unit_key: str, phrase: Phrase, group: str = "") -> None:
        """Join a figure ("兑现奖励资金715万元") to the 典型做法 sentence of the unit named by unit_key.

        ``practices`` places it. A figure whose unit is
        missing (nobody reported it) is left out; indicators.json's notes say why.
        """
        if group in self._placed:
            raise ReportError(f"报告中“{unit_key}”的数字在其所属的典型做法（组“{group}”）之后才加入，"
                              "须先调用 t.clause 再调用 t.practices。")
        unit = self.get(unit_key)
        if is_missing(unit):  # nobody reported it: left out, not a sentence of dashes (the reason: indicators.json)
            return
        if phrase:
            self._clauses.setdefault(group, {}).setdefault(str(unit), []).append(phrase)

    def practices(self, section_key: str, group: str = "", match: str | None = None, exclude: str | None = None,
                  kinds: tuple[str, ...] | None = None) -> Phrase:
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
            sentences += [Phrase(c, "。") for c in clauses.get("", [])]
        return Phrase(*sentences)


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


def practice_sentence(unit: str, contents: list[str], clauses: list[Phrase]) -> Phrase:
    """“<unit>做法一，做法二，figure。”: the unit's name once, its practices quoted (escaped), then its figures."""
    parts: list[Phrase] = []
    for i, content in enumerate(contents):
        content = content.strip().rstrip("。；;，,. ")
        if i == 0 and content.startswith(unit):
            content = content[len(unit):].lstrip("：:，, ")
        parts.append(Phrase(Span("practice", [content] if content else [], title=f"{unit}报送的典型做法")))
    parts.extend(clauses)
    return Phrase(Span("unit", [unit]), Phrase("，").join(parts), "。")


class Embeds(_Part):
    """Tables, figures, notes, caveats and the source entries of 数字来源: tables and figures as blocks (Embed) whose
    models report.docx is written from."""

    def source_entries(self) -> list[dict[str, Any]]:
        return source_entries(self.values.get("sources", {}))

    def table(self, name: str, caption: str = "", note: str = "", frame: pd.DataFrame | None = None,
              empty: str = "（无）", css: str = "") -> Embed:
        """A table of TABLES, percentages to the round's decimals and 时间进度 in its headers named as the round
        names it; each number linked to its source; a listing (LISTINGS) cut to its first LISTING_LIMIT rows, saying
        so."""
        source = frame if frame is not None else self.data.tables[name]
        source, cut = capped(name, source, self.data.round.id if self.data.round else "")
        columns = [Col(c.name, c.label.replace("时间进度", self.tp_name), c.kind) for c in TABLES[name]]
        link = cell_link(name, columns, self.values.get("sources", {}))
        html = html_table(source, columns, caption, cut + note, empty, css, decimals=self.conv.decimals, link=link,
                          name=name, embedded=self.embedded)
        return Embed(str(html), str(len(self.embedded.blocks) - 1))

    def figure(self, key: str) -> Embed | None:
        """A chart of step 3, embedded as a PNG data URI, with its number and title; nothing when the chart has no
        data to draw (FIGURE_NEEDS): an empty box says nothing the text does not say."""
        if not self.has_data(key):
            return None
        spec = figures.FIGURES_BY_KEY[key]
        png = figures.figure_paths(self.data.outputs_dir, key)["png"]
        if not png.is_file():
            raise ReportError(f"找不到图表 {png}：请先运行第3步（绘制图表，03_figures.ipynb）。")
        caption, data = f"图{spec.number}　{spec.title}", png.read_bytes()
        block = self.embedded.add([Picture(key, data, caption)])
        return Embed(str(figure_html(key, caption, data, block)), block)

    def has_data(self, figure: str) -> bool:
        """Whether a chart has something to draw: one of the values it needs (FIGURE_NEEDS) is there and not 0."""
        needs = FIGURE_NEEDS.get(figure, ())
        return not needs or any(not is_missing(self.values.get(k)) and self.values.get(k) != 0 for k in needs)

    def received(self, kind: str) -> bool:
        """Whether a return of this kind (schemas.RETURN_KINDS: projects, fai, indicators, …) was read this round."""
        return RETURN_LABELS[kind] in received_kinds(self.data.ledger)

    def not_received(self, kind: str) -> Phrase:
        """“本轮未收到十大工程项目推进情况表。” when no return of the kind was read; nothing otherwise."""
        return Phrase() if self.received(kind) else Phrase(f"本轮未收到{RETURN_LABELS[kind]}。")

    def notes_html(self) -> Markup:
        return self.notes.html()

    def notes_block(self) -> NotesList:
        """Where the part lists its notes (注1 …), numbered as the text refers to them."""
        return NotesList()

    def industry_sentence(self, rows: pd.DataFrame) -> Phrase:
        """分行业看，投资完成率超过时间进度的有电子信息114.3%、…；低于时间进度的有绿色食品58.8%、…。 — the numbers of
        the industry chart in words, each linked to the table's entry of 数字来源."""
        if rows.empty:
            return Phrase()
        up, down = self.conv.progress_words

        def listed(part: pd.DataFrame) -> Phrase:
            return Phrase("、").join(Phrase(str(name), self.from_table("by_industry", number(
                rate, self.conv.decimals)), "%") for name, rate in zip(part["industry"], part["completion_rate_pct"]))

        gap = rows["vs_time_progress_pp"].map(lambda v: rounded(v, self.conv.decimals))
        groups = [(f"{up}{self.tp_name}", rows[gap > 0]), (f"与{self.tp_name}持平", rows[gap == 0]),
                  (f"{down}{self.tp_name}", rows[gap < 0])]
        said = [Phrase(f"{words}的有", listed(part)) for words, part in groups if len(part)]
        return Phrase("分行业看，投资完成率", Phrase("；").join(said), "。")

    def fai_sentence(self, months: pd.DataFrame, regions: pd.DataFrame) -> Phrase:
        """图1's numbers in words: 全区 growth month by month against last year's, then each region's latest."""
        def pct(name: str, value: Any) -> Phrase:
            return Phrase(self.from_table(name, number(value, self.conv.decimals)), "%")

        said = []
        if not months.empty:
            this_year = Phrase("、").join(Phrase(months_to(m), pct("fai_months", v))
                                         for m, v in zip(months["month"].astype(int), months["yoy_pct"]))
            said.append(Phrase(f"全区逐月累计增速：{self.data.round.year}年", this_year))
            if months["last_yoy_pct"].notna().any():
                last = Phrase("、").join(pct("fai_months", v) for v in months["last_yoy_pct"])
                said.append(Phrase(f"{self.data.round.year - 1}年同期依次为", last))
        if not regions.empty:
            listed = Phrase("、").join(Phrase(str(r), pct("fai_by_region", v))
                                      for r, v in zip(regions["region"], regions["yoy_pct"]))
            said.append(Phrase(f"各地区{months_to(int(regions['month'].max()))}累计增速：", listed))
        return Phrase("图1中，", Phrase("；").join(said), "。") if said else Phrase()

    def attraction_industry_sentence(self, rows: pd.DataFrame) -> Phrase:
        """The attraction-by-industry chart's numbers in words: each industry's projects, share by count and
        contract investment, in the chart's order."""
        if rows.empty or rows["projects"].sum() == 0:
            return Phrase()

        def listed(row) -> Phrase:
            share = self.from_table("attraction_by_industry", number(row.share_pct, self.conv.decimals))
            money = self.from_table("attraction_by_industry", number(row.contract_yi, 2))
            return Phrase(str(row.industry), self.from_table("attraction_by_industry", row.projects), "个（占", share,
                          "%）、", money, "亿元")
        listing = Phrase("；").join(listed(row) for row in rows.itertuples())
        return Phrase("分产业看，招商引资项目个数和合同投资额：", listing, "。")

    def caveat(self, kind: str = "projects") -> Phrase:
        """What a headline figure leaves out, in brackets after it: “（不含石嘴山市报表；吴忠市部分数据未计入）”;
        nothing when complete, or when the figure's own caveat (partial) already said it."""
        whole, part = self._unsaid(kind)
        pieces = [f"不含{'、'.join(whole)}报表"] if whole else []
        pieces += [f"{'、'.join(part)}部分数据未计入"] if part else []
        return Phrase(Span("caveat", [f"（{'；'.join(pieces)}）"])) if pieces else Phrase()


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


def figure_html(key: str, caption: str, png: bytes, block: str = "") -> Markup:
    """A figure as HTML: the PNG embedded as a data URI (no request), the caption as alt text and figcaption; block:
    the index of its model (model.Embedded), as data-block."""
    data = base64.b64encode(png).decode("ascii")
    mark = Markup(' {}="{}"').format(BLOCK_ATTRIBUTE, block) if block else ""
    return Markup('<figure class="chart" id="fig-{}"{}><img src="data:image/png;base64,{}" alt="{}">'
                  '<figcaption>{}</figcaption></figure>').format(key, mark, data, caption, caption)


class Text(Words, Practices, Embeds):
    """Numbers, words, tables and figures for one part of the report, as the prose model (model.py) holds them.

    The parts (parts.py) call it as ``t``: ``t.yi("batch.completed_yi")`` -> 486.2亿元, or
    "—" with a note when the value is null. It is made of four pieces on one shared state
    (``_Part``: the data, the part's notes and the round's conventions): ``Numbers`` (values with
    their unit and source), ``Words`` (words chosen by the data), ``Practices`` (典型做法 with their
    figures; the order clause-then-practices is enforced there) and ``Embeds`` (tables, figures, notes).
    """
