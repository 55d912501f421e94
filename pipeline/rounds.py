"""A round: its id, its round.yml, and the checks made before anything runs.

round.yml (in data/raw/<round>/):

    title: 2021年全区重大项目建设集中督查
    as_of: 2021-11-30          # 数据截至日期
    units: [银川市, 石嘴山市, …]
    previous: 2021-09          # optional: the previous round's id
    start_rate_base: new       # optional: new (default) or all
    behind_margin_pp: 20       # optional: points behind 时间进度 that put a project on the list
    sample: true               # optional: the round is fictional sample data
    inspection_start: 2021-12-06   # optional: first day of the on-site inspection (督查开始日期)
    inspection_end: 2021-12-10     # optional: last day of the on-site inspection (督查结束日期)
    groups: 5                  # optional: number of inspection groups (督查组数)
    feedback_due: 2021-12-15   # optional: date by which units return their corrections (退回修改截止日期)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline import paths, round_yml
from pipeline.conventions import (  # RoundError: see conventions
    CONVENTION_KEYS,
    Conventions,
    RoundError,
    parse_conventions,
)

ROUND_FILE = "round.yml"
_ROUND_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}$")
KNOWN_KEYS = {"title", "as_of", "units", "previous", "start_rate_base", "behind_margin_pp", "sample",
              "inspection_start", "inspection_end", "groups"}
KNOWN_KEYS = KNOWN_KEYS | CONVENTION_KEYS  # time_progress, decimals, warning, …: pipeline/conventions.py
KNOWN_KEYS |= {"feedback_due"}
START_RATE_BASES = {"new", "all", "planned"}


@dataclass(frozen=True)
class Round:
    id: str
    title: str
    as_of: dt.date
    units: tuple[str, ...]
    raw_dir: Path
    previous: str | None = None
    start_rate_base: str = "new"
    behind_margin_pp: float = 20.0
    sample: bool = False
    inspection_start: dt.date | None = None
    inspection_end: dt.date | None = None
    groups: int | None = None
    feedback_due: dt.date | None = None
    extra: dict = field(default_factory=dict)
    conventions: Conventions | None = None  # set by load_round; conventions.conventions_of gives the defaults
    warnings: tuple[str, ...] = ()  # things worth saying before the run (Chinese), not errors

    @property
    def year(self) -> int:
        return self.as_of.year

    def __repr__(self) -> str:  # the text beside the HTML in a notebook: short, Chinese, no dataclass repr
        return f"<轮次 {self.id}：{self.title}，数据截至 {self.as_of:%Y-%m-%d}，应报送单位 {len(self.units)} 个>"

    def _repr_html_(self) -> str:
        """What a notebook shows for a round: its settings in Chinese, not the dataclass's repr."""
        from html import escape

        rows = [("轮次", self.id), ("标题", self.title), ("数据截至", f"{self.as_of:%Y-%m-%d}"),
                ("应报送单位", f"{len(self.units)}个：{'、'.join(self.units)}"), ("上一轮", self.previous or "（无）"),
                ("开工率口径", self.start_rate_base), ("督查日期", " 至 ".join(
                    f"{d:%Y-%m-%d}" for d in (self.inspection_start, self.inspection_end) if d) or "（未填）"),
                ("督查组数", str(self.groups) if self.groups else "（未填）"),
                ("示例数据", "是" if self.sample else "否")]
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th>"
                       f"<td style='text-align:left'>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"


def check_round_id(round_id: str) -> str:
    """A round id is a plain folder name such as 2021-12: no path separators, no '..'."""
    if not isinstance(round_id, str) or not _ROUND_ID.match(round_id) or ".." in round_id:
        raise RoundError(
            f"轮次编号“{round_id}”不合法：只能使用字母、数字、“-”“_”“.”，不能含路径分隔符或“..”，例如 2021-12。"
        )
    return round_id


def load_round(round_id: str, root: Path | None = None) -> Round:
    """Read and check data/raw/<round_id>/round.yml; raise RoundError with a Chinese message."""
    check_round_id(round_id)
    raw_dir = paths.raw_round_dir(round_id, root)
    if not raw_dir.is_dir():
        raise RoundError(round_yml.missing_round_message(round_id, raw_dir.parent))
    path = raw_dir / ROUND_FILE
    if not path.is_file():
        raise RoundError(f"轮次文件夹 {raw_dir} 中缺少 {ROUND_FILE}："
                         "请按 README 的示例填写标题、数据截至日期和报送单位。")
    text = ""
    try:
        text = path.read_text(encoding="utf-8")
        data = _safe_yaml(text, path)
    except RoundError:
        raise
    except UnicodeDecodeError:
        raise RoundError(f"{path} 不是 UTF-8 编码，无法读取：请用记事本等另存为 UTF-8 后再试。") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise RoundError(round_yml.syntax_message(path, text, line, column)) from None
    except ValueError:  # YAML reads 2021-13-45 as a date and fails on it
        raise RoundError(f"{path} 中有不存在的日期：请检查 as_of 等日期，写成 2021-11-30 的形式。") from None
    if not isinstance(data, dict):
        found = round_yml.slips(text)
        raise RoundError(f"{path} 的内容应为“键: 值”的形式" + (f"：{'；'.join(found)}。" if found else "。"))
    try:
        round_ = parse_round(round_id, data, raw_dir)
    except RoundError as exc:
        raise RoundError(round_yml.with_line(str(exc), text, KNOWN_KEYS)) from None
    _check_previous_chain(round_, raw_dir.parent)
    return dataclasses.replace(round_, conventions=parse_conventions(data, round_.as_of))


def parse_round(round_id: str, data: dict, raw_dir: Path) -> Round:
    where = f"{raw_dir.name}/{ROUND_FILE}"
    unknown = sorted(set(map(str, data)) - KNOWN_KEYS)
    if unknown:
        raise RoundError(f"{where} 中有无法识别的设置项：{'、'.join(unknown)}。"
                         f"可用的设置项：{'、'.join(sorted(KNOWN_KEYS))}。")
    as_of = _as_date(data.get("as_of"), where)
    units = _units(data.get("units"), where)
    previous = data.get("previous")
    if previous is not None:
        previous = check_round_id(str(previous))
        if previous == round_id:
            raise RoundError(f"{where} 中 previous（上一轮）写的是本轮自己（{round_id}）："
                             "请改为上一轮的轮次编号，没有上一轮时删除该项。")
    base = str(data.get("start_rate_base", "new"))
    if base not in START_RATE_BASES:
        raise RoundError(f"{where} 中 start_rate_base 只能是 new（续建项目不计入开工率分母）、all 或 "
                         "planned（计划开工时间在截至日期之前的项目）。")
    margin = data.get("behind_margin_pp", 20)
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not 0 <= margin <= 100:
        raise RoundError(f"{where} 中 behind_margin_pp 应为 0 到 100 之间的数字（百分点）。")
    start, end, groups = _inspection(data, where)
    return Round(
        id=round_id,
        title=str(data.get("title") or f"{round_id} 督查"),
        as_of=as_of,
        units=units,
        raw_dir=raw_dir,
        previous=previous,
        start_rate_base=base,
        behind_margin_pp=float(margin),
        sample=_yes_no(data.get("sample", False), "sample", where),
        inspection_start=start,
        inspection_end=end,
        groups=groups,
        feedback_due=_feedback_due(data.get("feedback_due"), where),
        warnings=_as_of_warnings(as_of, where) + _opening_hints(start, end, groups, where),
    )


# What round.yml can still give the report's opening sentence (“12月6日—10日，……组成5个督查组”): key -> what it is.
OPENING = {"inspection_start": "督查开始日期，如 2021-12-06", "inspection_end": "督查结束日期，如 2021-12-10",
           "groups": "督查组数，如 5"}


def _opening_hints(start: dt.date | None, end: dt.date | None, groups: int | None, where: str) -> tuple[str, ...]:
    """One line before the run when round.yml leaves the opening sentence without dates or groups: the report then
    says it without them, and the analyst may add them."""
    given = {"inspection_start": start, "inspection_end": end, "groups": groups}
    missing = [f"{key}（{OPENING[key]}）" for key, value in given.items() if value is None]
    if not missing:
        return ()
    return (f"提示：{where} 中还可以填写 {'、'.join(missing)}，报告开头一句会写明督查日期和督查组数；"
            "不填时这句话不写日期和组数。",)


def _inspection(data: dict, where: str) -> tuple[dt.date | None, dt.date | None, int | None]:
    """The optional on-site inspection dates and number of groups (督查开始/结束日期, 督查组数)."""
    dates = []
    for key, label in (("inspection_start", "督查开始日期"), ("inspection_end", "督查结束日期")):
        value = data.get(key)
        if value is None:
            dates.append(None)
            continue
        try:
            dates.append(_as_date(value, where))
        except RoundError:
            hint = round_yml.date_hint(value) or "请写成 2021-12-06 的形式"
            raise RoundError(f"{where} 中 {key}（{label}）不是有效日期：{hint}，或删除该项。") from None
    start, end = dates
    if start and end and end < start:
        raise RoundError(f"{where} 中 inspection_end（督查结束日期）早于 inspection_start（督查开始日期），请核对。")
    groups = data.get("groups")
    if groups is not None and (not isinstance(groups, int) or isinstance(groups, bool) or groups < 1):
        raise RoundError(f"{where} 中 groups（督查组数）应为正整数，例如 5。")
    return start, end, groups


def _feedback_due(value: object, where: str) -> dt.date | None:
    """The optional date by which units send their corrections back (退回修改截止日期)."""
    if value is None:
        return None
    try:
        return _as_date(value, where)
    except RoundError:
        raise RoundError(f"{where} 中 feedback_due（退回修改截止日期）不是有效日期："
                         "请写成 2021-12-15 的形式，或删除该项。") from None


def _as_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    hint = round_yml.date_hint(value)
    raise RoundError(f"{where} 中 as_of（数据截至日期）缺失或不是有效日期："
                     + (hint + "。" if hint else "请写成 2021-11-30 的形式。"))


# --------------------------------------------------------------------------- validation of single values
#
# Each returns the checked value or raises RoundError with the Chinese message.

_TRUE_WORDS, _FALSE_WORDS = {"是", "true", "yes"}, {"否", "false", "no"}


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: round.yml never needs them, and they allow an
    "alias bomb" (a few lines that expand to billions of items) to exhaust memory."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise RoundError(f"round.yml 第{event.start_mark.line + 1}行使用了 YAML 的锚点或别名（& 或 *）："
                             "round.yml 不支持这种写法，请直接写出每个值。")
        return super().compose_node(parent, index)


def _safe_yaml(text: str, path: Path) -> object:
    try:
        return yaml.load(text, Loader=_NoAliasLoader) or {}
    except RoundError as exc:
        raise RoundError(f"{path} {str(exc).removeprefix('round.yml ')}") from None


def _units(units: object, where: str) -> tuple[str, ...]:
    """The units, stripped; a unit listed twice (also as "银川市 " beside "银川市") is an error."""
    hint = round_yml.units_hint(units)
    if hint:
        raise RoundError(f"{where} 中 units（应报送单位）{hint}。")
    if not isinstance(units, list) or not units or not all(isinstance(u, str) and u.strip() for u in units):
        raise RoundError(f"{where} 中 units（应报送单位）缺失或为空：请列出本轮应报送的单位，如 [银川市, 石嘴山市]。")
    stripped = [u.strip() for u in units]
    twice = sorted({u for u in stripped if stripped.count(u) > 1}, key=stripped.index)
    if twice:
        raise RoundError(f"{where} 中 units 有重复的单位名称：{'、'.join(twice)}"
                         "（名称前后的空格不算区别），请删除重复项。")
    return tuple(stripped)


def _yes_no(value: object, key: str, where: str) -> bool:
    """true/false, or the words 是/否 (also "true"/"false" in quotes); anything else is an error, never a guess."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise RoundError(f"{where} 中 {key} 应为 true 或 false（也可写“是”或“否”），而不是“{value}”。")


def _as_of_warnings(as_of: dt.date, where: str, today: dt.date | None = None) -> tuple[str, ...]:
    today = today or dt.date.today()
    if as_of > today:
        return (f"注意：{where} 中 as_of（数据截至日期）{as_of:%Y-%m-%d} 晚于今天（{today:%Y-%m-%d}），"
                "时间进度将按该日期计算；如是笔误请改正。",)
    return ()


def _check_previous_chain(round_: Round, raw_root: Path) -> None:
    """Follow previous → previous → …: a chain that comes back to a round already seen is an error."""
    seen = [round_.id]
    current = round_.previous
    while current:
        if current in seen:
            chain = " → ".join([*seen, current])
            raise RoundError(f"{round_.id}/{ROUND_FILE} 中 previous（上一轮）形成了循环：{chain}。"
                             "每一轮的 previous 应指向更早的一轮，请改正。")
        seen.append(current)
        current = _previous_of(raw_root / current / ROUND_FILE)


def _previous_of(path: Path) -> str | None:
    """The `previous` of another round's round.yml; None when it has none or cannot be read (checked when that
    round runs)."""
    try:
        data = _safe_yaml(path.read_text(encoding="utf-8"), path)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    value = data.get("previous") if isinstance(data, dict) else None
    return str(value) if value is not None else None
