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
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import config

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
STAGES = {"前期": "前期", "前期工作": "前期", "在建": "在建", "建设中": "在建", "施工": "在建",
          "建成": "建成", "已建成": "建成", "完工": "建成"}
SIGN_MODES = {"集中签约": "集中签约", "单独签约": "单独签约", "集中": "集中签约", "单独": "单独签约"}
ATTRACTION_STATUSES = {"签约": "签约", "已签约": "签约", "开工": "开工", "已开工": "开工",
                       "在建": "开工", "投产": "投产", "已投产": "投产"}

PROJECTS = ReturnKind(
    name="projects",
    label="重大项目进展情况表",
    key=(("project_code",), ("project_name",)),
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
    columns=(
        Column("seq", "序号", SEQ),
        Column("section", "板块", required=True),
        Column("content", "内容", required=True),
    ),
)

RETURN_KINDS: dict[str, ReturnKind] = {
    k.name: k for k in (PROJECTS, MAJOR_WORKS, ATTRACTION, INDICATORS, FAI, PRACTICES)
}

# Units written inside a header, e.g. 总投资（亿元）. NFKC has already made the
# brackets half-width when this runs.
_UNIT_IN_HEADER = re.compile(r"\((万元|亿元|元|亩|个|项|%)\)|单位[:：]?(万元|亿元|元)")
# A year or a month span at the start of a header means "this year":
# 2021年计划投资, 1-11月完成投资 -> 本年计划投资, 本年完成投资.
_THIS_YEAR = re.compile(r"^(\d{4}年|1[-~—至]\d{1,2}月|截至\d{1,2}月底?)")
_NOISE = re.compile(r"[\s*★※]")


def normalize_header(text: object) -> tuple[str, str | None]:
    """Return the lookup key of a header cell and the unit written in it, if any.

    Full-width characters become half-width, white space and line breaks go,
    a unit in brackets is taken out, and a leading year or month span is read
    as 本年. '总投资\\n（亿元）' -> ('总投资', '亿元').
    """
    if text is None:
        return "", None
    s = unicodedata.normalize("NFKC", str(text))
    s = _NOISE.sub("", s)
    unit = None
    m = _UNIT_IN_HEADER.search(s)
    if m:
        unit = m.group(1) or m.group(2)
        s = _UNIT_IN_HEADER.sub("", s)
    s = _THIS_YEAR.sub("本年", s)
    return s.lower(), unit


@dataclass(frozen=True)
class AliasTable:
    """Header lookup: normalised header text -> {kind: canonical column}."""

    by_key: dict[str, dict[str, str]]
    source: Path

    def lookup(self, header: str) -> dict[str, str]:
        key, _ = normalize_header(header)
        return self.by_key.get(key, {})


class AliasTableError(ValueError):
    """The alias table itself is wrong; the message says which line."""


def load_aliases(path: Path | None = None) -> AliasTable:
    """Read the alias table (columns: 报表类型, 标准列名, 表头写法).

    报表类型 is a kind name (projects, …) or * for every kind that has that column.
    """
    path = Path(path or config.HEADER_ALIASES_FILE)
    by_key: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line_no, row in enumerate(csv.DictReader(fh), start=2):
            kind, column, alias = (row.get(k, "").strip() for k in ("报表类型", "标准列名", "表头写法"))
            if not alias:
                continue
            kinds = [k for k in RETURN_KINDS if kind == "*" and _has_column(k, column)] or [kind]
            for k in kinds:
                if k not in RETURN_KINDS or not _has_column(k, column):
                    raise AliasTableError(
                        f"表头别名表 {path.name} 第{line_no}行：报表类型“{kind}”或标准列名“{column}”不存在，"
                        f"请改为 {', '.join(RETURN_KINDS)} 之一及其列名。"
                    )
                by_key.setdefault(normalize_header(alias)[0], {})[k] = column
    # Every column's own label is always an alias of itself.
    for k in RETURN_KINDS.values():
        for c in k.columns:
            by_key.setdefault(normalize_header(c.label)[0], {}).setdefault(k.name, c.name)
    return AliasTable(by_key=by_key, source=path)


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

# 九大重点产业 (Ningxia's; a public fact).
NINE_INDUSTRIES: tuple[str, ...] = (
    "枸杞", "葡萄酒", "奶产业", "肉牛和滩羊", "电子信息", "新型材料", "绿色食品", "清洁能源", "文化旅游",
)
