"""The return schemas, declared once.

Each kind of return (报表) is a `ReturnKind`: its canonical columns with their
Chinese label, value type and whether a row is unusable without them. The
header aliases (how units actually write each header) live in the data file
`data/header_aliases.csv`, which analysts extend; `load_aliases` reads it.

Cleaning, validation messages, the clean-table workbooks and the sample
generator all read these declarations.
"""
from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import paths

# Value types a column can have. Money is always stored in 万元.
TEXT, MONEY, NUMBER, BOOL, DATE, MONTH, CHOICE, SEQ = (
    "text", "money", "number", "bool", "date", "month", "choice", "seq",
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str = TEXT
    required: bool = False
    # For DATE columns: a planned date, which may lie after the data cut-off.
    planned: bool = False
    # For CHOICE columns: the accepted spellings (after normalisation) -> canonical value.
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReturnKind:
    name: str
    label: str
    columns: tuple[Column, ...]
    # What identifies one entity, for de-duplication: alternatives tried in order,
    # each a tuple of columns that together are the identity. A project is its
    # 项目编号, else its 项目名称; an FAI row is its 地区 and 月份 together.
    key: tuple[tuple[str, ...], ...] = ()
    # The columns without which a row cannot be counted at all (a project without a name):
    # only such a row, or a duplicate, is quarantined; any other bad cell keeps its row.
    identity: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def names_of(self, type_: str) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.type == type_)


BATCHES = {"第一批": "第一批", "一批": "第一批", "第1批": "第一批", "1": "第一批",
           "第二批": "第二批", "二批": "第二批", "第2批": "第二批", "2": "第二批"}
NATURES = {"新建": "新建", "续建": "续建", "改扩建": "改扩建", "扩建": "改扩建", "改建": "改扩建"}
STAGES = {"前期": "前期", "前期工作": "前期", "在建": "在建", "建设中": "在建", "施工": "在建", "开工建设": "在建",
          "建成": "建成", "已建成": "建成", "完工": "建成", "竣工": "建成", "建成投产": "建成"}
SIGN_MODES = {"集中签约": "集中签约", "单独签约": "单独签约", "集中": "集中签约", "单独": "单独签约",
              "视频签约": "视频签约", "网上签约": "网上签约"}
ATTRACTION_STATUSES = {"签约": "签约", "已签约": "签约", "开工": "开工", "已开工": "开工",
                       "在建": "开工", "投产": "投产", "已投产": "投产"}

PROJECTS = ReturnKind(
    name="projects",
    label="重大项目进展情况表",
    key=(("project_code",), ("project_name",)),
    identity=("project_name",),
    columns=(
        Column("seq", "序号", SEQ),
        Column("project_code", "项目编号"),
        Column("project_name", "项目名称", required=True),
        Column("batch", "批次", CHOICE, required=True, choices=BATCHES),
        Column("is_key", "是否重点项目", BOOL),
        Column("location", "所在市/县区"),
        Column("industry", "行业领域"),
        Column("nature", "建设性质", CHOICE, choices=NATURES),
        Column("total_investment", "总投资", MONEY),
        Column("annual_plan", "年度计划投资", MONEY, required=True),
        Column("completed", "累计完成投资", MONEY, required=True),
        Column("started", "是否开工", BOOL, required=True),
        Column("planned_start_date", "计划开工时间", DATE, planned=True),
        Column("start_date", "开工时间", DATE),
        Column("in_stats", "是否入统", BOOL),
        # Optional columns some offices add: the stated rate beside 完成 (read, never summed),
        # funds for 资金到位率 and completion for 按期竣工率.
        Column("stated_completion_pct", "完成率(%)", NUMBER),
        Column("funds_planned", "计划到位资金", MONEY),
        Column("funds_in_place", "实际到位资金", MONEY),
        Column("planned_completion_date", "计划竣工时间", DATE, planned=True),
        Column("is_completed", "是否竣工", BOOL),
        Column("completion_date", "竣工时间", DATE),
        Column("responsible_unit", "责任单位"),
        Column("leader", "包抓领导"),
        Column("progress", "形象进度"),
        Column("problems", "存在问题"),
    ),
)

MAJOR_WORKS = ReturnKind(
    name="major_works",
    label="十大工程项目推进情况表",
    key=(("project_name",),),
    identity=("project_name",),
    columns=(
        Column("seq", "序号", SEQ),
        Column("project_name", "工程名称", required=True),
        Column("lead_unit", "牵头单位"),
        Column("leader", "包抓领导"),
        Column("stage", "所处阶段", CHOICE, required=True, choices=STAGES),
        Column("total_investment", "总投资", MONEY),
        Column("annual_plan", "年度计划投资", MONEY),
        Column("completed", "累计完成投资", MONEY),
        Column("milestone", "计划节点"),
        Column("milestone_date", "节点时间", DATE, planned=True),
        Column("milestone_status", "完成情况"),
        Column("progress", "进展情况"),
        Column("problems", "存在问题"),
    ),
)

ATTRACTION = ReturnKind(
    name="attraction",
    label="招商引资项目情况表",
    key=(("project_name",),),
    identity=("project_name",),
    columns=(
        Column("seq", "序号", SEQ),
        Column("project_name", "项目名称", required=True),
        Column("sign_date", "签约时间", DATE),
        Column("sign_mode", "签约方式", CHOICE, choices=SIGN_MODES),
        Column("industry", "产业类别"),
        Column("is_chain", "是否延链补链强链", BOOL),
        Column("contract_investment", "合同投资额", MONEY, required=True),
        Column("funds_in_place", "本年到位资金", MONEY),
        Column("status", "项目状态", CHOICE, choices=ATTRACTION_STATUSES),
    ),
)

INDICATORS = ReturnKind(
    name="indicators",
    label="主要指标情况表",
    key=(("indicator",),),
    identity=("indicator",),
    columns=(
        Column("seq", "序号", SEQ),
        Column("indicator", "指标名称", required=True),
        Column("measure_unit", "计量单位"),
        Column("current", "本期累计", NUMBER, required=True),
        Column("last_year", "上年同期", NUMBER),
    ),
)

FAI = ReturnKind(
    name="fai",
    label="固定资产投资情况",
    key=(("region", "month"),),
    identity=("region", "month"),
    columns=(
        Column("region", "地区", required=True),
        Column("month", "月份", MONTH, required=True),
        Column("cum_value", "累计完成额", MONEY),
        Column("yoy_pct", "累计增速(%)", NUMBER),
        Column("last_yoy_pct", "上年同期增速(%)", NUMBER),
    ),
)

PRACTICES = ReturnKind(
    name="practices",
    label="工作举措与典型做法",
    identity=("content",),
    columns=(
        Column("seq", "序号", SEQ),
        Column("section", "板块", required=True),
        Column("content", "内容", required=True),
    ),
)

RETURN_KINDS: dict[str, ReturnKind] = {
    k.name: k for k in (PROJECTS, MAJOR_WORKS, ATTRACTION, INDICATORS, FAI, PRACTICES)
}

# --------------------------------------------------------------------------- header texts
#
# A header cell is compared by meaning, not by its exact string. Each level of a
# multi-row header is normalised on its own (`normalize_header`):
# - full-width characters become half-width; white space and line breaks go;
# - a unit in brackets or after 单位 is taken out and kept: 总投资（亿元） -> 总投资, 亿元;
# - every phrase naming this year's period becomes the one word 本年, wherever it
#   stands: 2022年, 1-8月, 1—8月, 截至8月底, 今年, 年度, 全年 ... (上年, 去年 stay);
# The alias table is normalised the same way, so "1-11月完成投资" and "本年完成投资"
# are one alias. Pattern rows in the table hold placeholders ({期间}, {任意}, {数字}).

# The money units a return may state, and each one's factor to 万元 (the clean tables hold 万元).
# Longest first: a pattern over these must try 亿元, 千元 and 万元 before 元.
MONEY_FACTORS = {"亿元": 10_000.0, "千元": 0.1, "万元": 1.0, "元": 0.0001}
MONEY_UNIT_PATTERN = "|".join(MONEY_FACTORS)
DEFAULT_MONEY_UNIT = "万元"
_UNIT_WORDS = f"{MONEY_UNIT_PATTERN}|亩|个|项|%"
_UNIT_IN_HEADER = re.compile(rf"\((?:单位[:：]?)?({_UNIT_WORDS})\)|单位[:：]?({_UNIT_WORDS})|(%)$")
_DASHES = "-~—–―至到"
_PERIOD = re.compile(
    r"(?<![上去前同])(?:"
    rf"\d{{4}}年度?(?:1?\d?[{_DASHES}]?\d{{1,2}}月份?(?:底|末)?)?"  # 2022年, 2022年1-8月, 2022年8月底
    rf"|\d{{1,2}}[{_DASHES}]\d{{1,2}}月份?(?:底|末)?"  # 1-8月, 1—8月份
    r"|\d{1,2}月份?(?:底|末)"  # 8月底, 10月末
    r"|截[至止]\d{1,2}月份?(?:底|末)?"  # 截至8月底
    r"|第?[一二三四1-4]季度|前[一二三]季度|上半年"
    r"|本年度?|今年|当年|全年|年度"
    r")"
)
_NOISE = re.compile(r"[\s*★※]")
THIS_YEAR = "本年"


def normalize_header(text: object) -> tuple[str, str | None]:
    """The lookup key of one header level, and the unit written in it, if any.

    '总投资\\n（亿元）' -> ('总投资', '亿元'); '1—8月完成' -> ('本年完成', None);
    '2022年投资完成情况' -> ('本年投资完成情况', None). A multi-level header
    '2021年投资/完成' is normalised level by level.
    """
    if text is None:
        return "", None
    s = unicodedata.normalize("NFKC", str(text))
    s = _NOISE.sub("", s)
    if "/" in s:
        parts = [normalize_header(part) for part in s.split("/")]
        return "/".join(p for p, _ in parts if p), next((u for _, u in parts if u), None)
    unit = None
    m = _UNIT_IN_HEADER.search(s)
    if m:
        unit = next(g for g in m.groups() if g)
        s = _UNIT_IN_HEADER.sub("", s)
    s = _PERIOD.sub(THIS_YEAR, s)
    s = re.sub(f"(?:{THIS_YEAR})+", THIS_YEAR, s)
    return s.lower(), unit


def join_levels(levels: list[str]) -> list[str]:
    """The keys to try for a column under a multi-row header, most specific first.

    levels are the normalised header levels, top first. 本年 said by a parent
    holds for its children: ['本年投资', '本年完成'] -> 本年投资/完成, 本年投资完成,
    then the child with the parent's period (本年完成), then the child alone.
    """
    levels = [lv for lv in levels if lv]
    if len(levels) <= 1:
        return levels
    said = False
    trimmed = []
    for level in levels:
        if said and level.startswith(THIS_YEAR) and len(level) > len(THIS_YEAR):
            level = level[len(THIS_YEAR):]
        said = said or THIS_YEAR in level
        trimmed.append(level)
    trimmed = [lv for lv in trimmed if lv != THIS_YEAR] or [THIS_YEAR]
    leaf = levels[-1]
    tries = ["/".join(trimmed), "".join(trimmed)]
    if said and THIS_YEAR not in leaf:
        tries.append(THIS_YEAR + leaf)
    for k in range(1, len(levels)):  # the lower levels alone, then the leaf
        tries.append("/".join(levels[k:]))
    return list(dict.fromkeys(t for t in tries if t))


# Suffixes that add nothing to a money header's meaning: 合同投资额 = 合同投资 = 合同金额.
_LOOSE_SUFFIX = re.compile(r"(投资额|投资|金额|资金|额)$")


def loose_key(key: str) -> str:
    return _LOOSE_SUFFIX.sub("", key) or key


# Placeholders a pattern row of the alias table may use, and what each matches
# in a normalised header.
PLACEHOLDERS = {"{期间}": THIS_YEAR, "{任意}": ".+?", "{数字}": r"\d+"}
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def _pattern(alias: str) -> re.Pattern:
    """An alias with placeholders as a regex over normalised headers: '{期间}完成投资' -> ^本年完成投资$."""
    pieces, last = [], 0
    for m in _PLACEHOLDER.finditer(alias):
        pieces.append(re.escape(normalize_header(alias[last:m.start()])[0]))
        pieces.append(PLACEHOLDERS[m.group(0)] if m.group(0) != "{期间}" else f"(?:{THIS_YEAR})?")
        last = m.end()
    pieces.append(re.escape(normalize_header(alias[last:])[0]))
    return re.compile("^" + "".join(pieces) + "$")


# How a header was matched, as the 表头对照 output shows it.
MATCH_ALIAS, MATCH_PATTERN, MATCH_LOOSE, MATCH_SUGGEST, MATCH_UNKNOWN = (
    "别名", "模式", "别名（忽略“投资/金额”后缀）", "近似（未采用）", "无法识别")
# Matched by what the header is about (pipeline/ingest/concepts.py, pipeline/ingest/header_concepts.csv).
MATCH_CONCEPT = "按含义"
# A month's own column under a parent (2022年完成投资 / 1月, 2月 …): read through the 累计 column, or summed into one.
MATCH_MONTH = "各月数（不单独读取）"


@dataclass(frozen=True)
class HeaderMatch:
    column: str | None  # canonical column, None when unknown
    key: str  # the normalised text that matched (or the first tried)
    how: str  # one of the MATCH_* labels
    alias: str = ""  # the alias-table line (or pattern) that matched
    suggestion: str | None = None  # for an unknown header: the closest known column of the kind
    score: float | None = None  # for a match by concept (or a suggestion from one): the share of the header explained
    words: tuple[str, ...] = ()  # the concept words that decided it


@dataclass(frozen=True)
class AliasTable:
    """Header lookup: normalised header text -> {kind: canonical column}, plus pattern rows."""

    by_key: dict[str, dict[str, str]]
    source: Path
    patterns: tuple[tuple[re.Pattern, str, str, str], ...] = ()  # (regex, kind, column, the row as written)

    def lookup(self, header: str) -> dict[str, str]:
        """{kind: column} for one header text (levels separated by '/')."""
        key, _ = normalize_header(header)
        return self.lookup_key(key)

    def lookup_key(self, key: str) -> dict[str, str]:
        return self.by_key.get(key, {})

    @functools.cached_property
    def _loose(self) -> dict[str, dict[str, set[str]]]:
        loose: dict[str, dict[str, set[str]]] = {}
        for key, hits in self.by_key.items():
            for kind, column in hits.items():
                loose.setdefault(loose_key(key), {}).setdefault(kind, set()).add(column)
        return loose

    @functools.cached_property
    def _memo(self) -> dict:
        return {}

    def match(self, tries: list[str], kind: str) -> HeaderMatch:
        """The first of the keys that names a column of `kind`: exact alias, then pattern, then loose."""
        memo_key = (tuple(tries), kind)
        hit = self._memo.get(memo_key)
        if hit is None:
            hit = self._memo[memo_key] = self._match(tries, kind)
        return hit

    def _match(self, tries: list[str], kind: str) -> HeaderMatch:
        for key in tries:
            column = self.by_key.get(key, {}).get(kind)
            if column:
                return HeaderMatch(column, key, MATCH_ALIAS, key)
        for key in tries:
            for regex, k, column, written in self.patterns:
                if k == kind and regex.match(key):
                    return HeaderMatch(column, key, MATCH_PATTERN, written)
        for key in tries:
            columns = self._loose.get(loose_key(key), {}).get(kind, set())
            if len(columns) == 1:
                return HeaderMatch(next(iter(columns)), key, MATCH_LOOSE, key)
        return HeaderMatch(None, tries[0] if tries else "", MATCH_UNKNOWN)

    def kinds_of(self, tries: list[str]) -> set[str]:
        """Every kind any of the keys could name a column of: for skipping kinds that cannot win."""
        memo_key = ("kinds", tuple(tries))
        hit = self._memo.get(memo_key)
        if hit is None:
            hit = self._memo[memo_key] = self._kinds_of(tries)
        return hit

    @functools.cached_property
    def _any_pattern(self) -> re.Pattern | None:
        """One regex that matches a key when any pattern row does: most keys (a sheet's data rows, read
        while its header is searched for) are rejected by this one call instead of one call per pattern."""
        if not self.patterns:
            return None
        return re.compile("|".join(f"(?:{regex.pattern})" for regex, _, _, _ in self.patterns))

    def _kinds_of(self, tries: list[str]) -> set[str]:
        """{k for k in RETURN_KINDS if self.match(tries, k).column}, in one pass over the keys instead of one per
        kind."""
        kinds: set[str] = set()
        any_pattern = self._any_pattern
        for key in tries:
            kinds.update(k for k, column in self.by_key.get(key, {}).items() if column)
            if any_pattern is not None and any_pattern.match(key):
                kinds.update(k for regex, k, _, _ in self.patterns if regex.match(key))
            kinds.update(k for k, columns in self._loose.get(loose_key(key), {}).items() if len(columns) == 1)
        return {k for k in RETURN_KINDS if k in kinds}

    def suggest(self, key: str, kind: str, taken: set[str]) -> str | None:
        """The column of `kind` (not already in the header) whose aliases are closest to an unknown header."""
        if not key:
            return None
        names = {k: hits[kind] for k, hits in self.by_key.items() if kind in hits and hits[kind] not in taken}
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=SUGGEST_CUTOFF)
        if not close:
            # A header that holds an alias whole (所在地区 holds 所在地) is close too.
            inside = sorted((k for k in names if len(k) >= 2 and (k in key or key in k)), key=len, reverse=True)
            close = inside[:1]
        return names[close[0]] if close else None


# difflib's similarity ratio above which an unknown header is offered as "是否为…？".
SUGGEST_CUTOFF = 0.6


class AliasTableError(ValueError):
    """The alias table itself is wrong; the message says which line."""


ALIAS_ENCODINGS = ("utf-8-sig", "gb18030")


def _alias_rows(path: Path) -> list[dict[str, str]]:
    """The alias table's rows, decoded as UTF-8 (with or without BOM) or GB18030 (Excel on Chinese Windows)."""
    data = path.read_bytes()
    for encoding in ALIAS_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return list(csv.DictReader(io.StringIO(text, newline="")))
    raise AliasTableError(f"表头别名表 {path.name} 的编码无法识别：请用 Excel“另存为”CSV UTF-8（逗号分隔）后重新保存。")


def load_aliases(path: Path | None = None) -> AliasTable:
    """Read the alias table (columns: 报表类型, 标准列名, 表头写法).

    报表类型 is a kind name (projects, …) or * for every kind that has that column.
    A 表头写法 with a placeholder ({期间}, {任意}, {数字}) is a pattern row.
    """
    path = Path(path or paths.HEADER_ALIASES_FILE)
    rows = _alias_rows(path)
    if rows and not {"报表类型", "标准列名", "表头写法"} <= set(rows[0]):
        raise AliasTableError(f"表头别名表 {path.name} 第1行应为“报表类型,标准列名,表头写法”三列的表头，"
                              "请照原表格式修改。")
    by_key: dict[str, dict[str, str]] = {}
    patterns = []
    for line_no, row in enumerate(rows, start=2):
        kind, column, alias = ((row.get(k) or "").strip() for k in ("报表类型", "标准列名", "表头写法"))
        if not alias:
            continue
        kinds = [k for k in RETURN_KINDS if kind == "*" and _has_column(k, column)] or [kind]
        for k in kinds:
            if k not in RETURN_KINDS or not _has_column(k, column):
                raise AliasTableError(
                    f"表头别名表 {path.name} 第{line_no}行：报表类型“{kind}”或标准列名“{column}”不存在，"
                    f"请改为 {', '.join(RETURN_KINDS)} 之一及其列名。"
                )
            if _PLACEHOLDER.search(alias):
                patterns.append((_pattern(alias), k, column, f"{kind},{column},{alias}"))
            else:
                by_key.setdefault(normalize_header(alias)[0], {})[k] = column
    # Every column's own label is always an alias of itself.
    for k in RETURN_KINDS.values():
        for c in k.columns:
            by_key.setdefault(normalize_header(c.label)[0], {}).setdefault(k.name, c.name)
    return AliasTable(by_key=by_key, source=path, patterns=tuple(patterns))


def alias_line(kind: str, column: str, written: str) -> str:
    """The line an analyst adds to the alias table for a header as written."""
    return f"{kind},{column},{written}"


def _has_column(kind: str, column: str) -> bool:
    return kind in RETURN_KINDS and any(c.name == column for c in RETURN_KINDS[kind].columns)


# 主要指标情况表: the indicators the report quotes. Canonical name -> other ways
# units write it. The indicators stage looks rows up by canonical name; the
# cleaner maps the synonyms onto it.
KNOWN_INDICATORS: dict[str, tuple[str, ...]] = {
    "中央预算内资金": ("争取中央预算内资金", "中央预算内投资"),
    "预算内统筹资金": ("自治区预算内统筹资金", "安排预算内统筹资金"),
    "重点产业奖励资金": ("九大重点产业奖励资金", "设立奖励资金"),
    "已批准用地项目": ("批准用地项目",),
    "通过用地预审项目": ("用地预审项目",),
    "新增供地": ("新增供应土地", "新增供地面积"),
    "奖励资金兑现": ("兑现奖励资金", "考核奖励资金"),
    "企业更新改造投资": ("企业技术改造投资", "技改投资"),
    "招商引资到位资金": ("本年招商引资到位资金",),
    "谋划储备项目": ("谋划项目", "储备项目", "谋划储备项目数"),
    "谋划储备项目总投资": ("储备项目总投资", "谋划项目总投资"),
    "谋划项目大类": ("谋划项目类别",),
    "营商环境改革措施方面": ("营商环境政策措施方面",),
    "营商环境改革措施条数": ("营商环境改革措施", "营商环境政策措施条数"),
}

# 工作举措与典型做法: the report subsection a practice is quoted in. Canonical
# section -> other ways units write the 板块.
PRACTICE_SECTIONS: dict[str, tuple[str, ...]] = {
    "抓项目的意识": ("抓项目意识", "（一）抓项目的意识逐步提高", "压实责任"),
    "项目推进措施": ("推进措施", "（二）项目推进措施不断优化", "推进机制"),
    "项目要素保障": ("要素保障", "（三）项目要素保障持续跟进"),
    "项目谋划招引": ("谋划招引", "招商引资", "项目谋划", "（四）项目谋划招引有序开展"),
    "十大工程项目": ("十大工程", "（五）“十大工程项目”稳步推进"),
}

# The kinds of reporting unit, told apart by their names, and the returns each kind is expected to send
# (the FAI comes from the statistics side and the ten major works from their lead departments, so
# no unit is expected to send them as such).
CITY, BASE, DEPARTMENT = "市", "基地", "部门"
EXPECTED_KINDS: dict[str, tuple[str, ...]] = {
    CITY: ("projects", "attraction", "indicators", "practices"),
    BASE: ("projects", "attraction", "indicators", "practices"),
    DEPARTMENT: ("projects", "indicators", "practices"),
}


def unit_kind(unit: str) -> str:
    """市 for a prefecture city, 基地 for an industrial base, 部门 for a provincial department."""
    unit = str(unit)
    if unit.endswith("市"):
        return CITY
    if unit.endswith("基地"):
        return BASE
    return DEPARTMENT


# 九大重点产业 (Ningxia's; a public fact).
NINE_INDUSTRIES: tuple[str, ...] = (
    "枸杞", "葡萄酒", "奶产业", "肉牛和滩羊", "电子信息", "新型材料", "绿色食品", "清洁能源", "文化旅游",
)


def round_key(text) -> str:
    """A project code or name as compared between rounds: NFKC, without spaces, brackets and quotes; "" when missing."""
    if isinstance(text, str):
        return _round_key(text)
    from pipeline.frames import is_missing  # pandas' NA and NaT; imported here so that schemas stays light (no pandas)

    return "" if is_missing(text) else _round_key(str(text))


@functools.lru_cache(maxsize=None)
def _round_key(text: str) -> str:  # cached: names repeat across rows and rounds
    return re.sub(r"[\s()（）\"“”'‘’\[\]【】]", "", unicodedata.normalize("NFKC", text))
