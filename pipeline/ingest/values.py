"""Yes/no and state values read by what they say, like headers (concepts.py): 施工中 is started, 拟开工 is not.

Each yes/no column and each choice column with states is described, as data below, by the words of each
answer. A value is first read the plain way (是/否, √/×, one of the listed spellings); when that fails, by
its words. A value whose words place it nowhere, or in two places, is a problem sent back to the unit:
it is never read as 否.

Which way 停工 goes: a project halted after construction began has started, so 停工, 已停工, 停工整改 count
as started (开工率 counts projects whose construction has begun). 停工待建 and 缓建 say the building has not
begun (待建: waiting to be built), so they count as not started, like 拟开工, 待开工 and 前期.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from pipeline import schemas
from pipeline.ingest.parsing import Parsed, is_empty, parse_bool, parse_choice, parse_text

# A word is negated when one of these stands right before it: 未竣工, 尚未投产, 待开工, 拟建成.
_NEGATION = "未|尚未|暂未|没有|没|不|非|待|拟|计划|准备|即将|预计|正在办理"


@dataclass(frozen=True)
class YesNo:
    """The words of a yes/no column's answers. `no` is read first; `yes` when not negated.

    A negated `yes` word (未竣工 for 是否竣工) means no when negation_is_no, else it cannot be placed
    (未竣工 says nothing on whether a project has started)."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    negation_is_no: bool = True


YES_NO: dict[str, YesNo] = {
    "started": YesNo(
        yes=("开工", "复工", "开复工", "施工", "在建", "建设中", "动工", "建成", "竣工", "完工", "投产", "主体",
             "停工", "封顶", "安装", "调试", "进场", "续建", "基础"),
        no=("未开工", "尚未开工", "暂未开工", "没有开工", "未动工", "未开复工", "未复工", "未施工", "拟开工", "待开工",
            "计划开工", "准备开工", "即将开工", "预计开工", "前期", "筹备", "待建", "拟建", "缓建", "未启动", "谋划",
            "立项", "可研", "规划", "招标", "办理手续"),
        negation_is_no=False),
    "is_completed": YesNo(
        yes=("竣工", "建成", "完工", "投产", "投运", "交付"),
        no=("在建", "施工", "建设中", "前期", "拟开工", "待开工", "未开工", "主体", "续建")),
    "in_stats": YesNo(yes=("入统", "纳统", "入库", "纳入统计", "纳入"), no=("申报中", "拟入统", "待入统")),
    "is_key": YesNo(yes=("重点",), no=("一般", "非重点")),
    "is_chain": YesNo(yes=("延链", "补链", "强链", "链"), no=("非链", "不属于")),
}


@dataclass(frozen=True)
class States:
    """The words of a choice column's states, tried in order; a negated word does not count."""

    states: tuple[tuple[str, tuple[str, ...]], ...]  # (canonical value, its words)
    furthest: bool = False  # states in order of progress, furthest first: a value naming two is the first


STATES: dict[str, States] = {  # by column name (each is a column of one kind only)
    "stage": States((
        ("建成", ("建成", "竣工", "完工", "投产", "投运", "交付", "运营")),
        ("在建", ("在建", "施工", "开工", "建设中", "主体", "续建", "复工", "开工建设", "加快建设")),
        ("前期", ("前期", "谋划", "筹备", "立项", "可研", "规划", "论证", "招标", "设计", "审批", "拟建", "待建",
                "未开工", "待开工", "拟开工")),
    ), furthest=True),
    "sign_mode": States((
        ("集中签约", ("集中",)),
        ("视频签约", ("视频", "云签约", "远程")),
        ("网上签约", ("网上", "线上", "网络", "在线")),
        ("单独签约", ("单独", "个别", "独立", "分散", "单个")),
    )),
    "status": States((
        ("投产", ("投产", "投运", "运营", "建成", "竣工")),
        ("开工", ("开工", "在建", "施工", "建设中", "动工", "主体")),
        ("签约", ("签约", "签订", "签署")),
    ), furthest=True),
}


def _norm(text: str) -> str:
    return re.sub(r"[\s()（）【】\[\]、，,。.；;：:“”\"']", "", unicodedata.normalize("NFKC", text))


def _plain(word: str, text: str) -> bool:
    """The word is in the text at least once without a negation right before it."""
    for m in re.finditer(re.escape(word), text):
        if not re.search(f"(?:{_NEGATION})$", text[: m.start()]):
            return True
    return False


def read_yes_no(text: str, words: YesNo) -> bool | None:
    """True / False from the words of a value, None when they place it nowhere."""
    t = _norm(text)
    if any(w in t for w in words.no):
        return False
    if any(_plain(w, t) for w in words.yes):
        return True
    if words.negation_is_no and any(w in t for w in words.yes):
        return False
    return None


def read_state(text: str, states: States) -> str | None:
    """The one state a value's words name; None when none or several (集中或单独) do."""
    t = _norm(text)
    found = [value for value, words in states.states if any(_plain(w, t) for w in words)]
    if len(found) > 1 and states.furthest:
        return found[0]  # a stage names the furthest it reached: 建成投产 is 建成, 开工建设 在建
    return found[0] if len(found) == 1 else None


def _yes_no_parser(words: YesNo) -> Callable[[Any], Parsed]:
    def parse(raw: Any) -> Parsed:
        plain = parse_bool(raw)
        if plain.problem is None or is_empty(raw) or not isinstance(raw, str):
            return plain
        value = read_yes_no(raw, words)
        if value is None:
            return plain  # its problem and fix as for any value that is neither 是 nor 否
        return Parsed(value)
    return parse


def _state_parser(column: schemas.Column, states: States) -> Callable[[Any], Parsed]:
    def parse(raw: Any) -> Parsed:
        plain = parse_choice(raw, column.choices, column.label)
        if plain.problem is None:
            return plain
        text = parse_text(raw).value
        value = read_state(str(text), states) if text is not None else None
        return Parsed(value) if value is not None else plain
    return parse


def parser_for(column: schemas.Column) -> Callable[[Any], Parsed] | None:
    """The by-concept parser of a yes/no or state column, or None when the column has no value concepts."""
    if column.type == schemas.BOOL and column.name in YES_NO:
        return _yes_no_parser(YES_NO[column.name])
    if column.type == schemas.CHOICE and column.name in STATES:
        return _state_parser(column, STATES[column.name])
    return None
