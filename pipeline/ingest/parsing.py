"""Value parsers for what units type into cells.

Each parser takes one raw cell value (whatever the Excel reader or csv gave)
and returns a `Parsed`: the clean value, or None with a Chinese problem and
fix when the cell cannot be read. Parsers never raise, on any input.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any, NamedTuple

from pipeline import schemas


class Parsed(NamedTuple):
    value: Any
    problem: str | None = None
    fix: str | None = None


EMPTY = Parsed(None)

# The many ways of writing "nothing here".
_EMPTY_MARKERS = {"", "-", "--", "—", "——", "－", "/", "\\", "无", "暂无", "空", "null", "none",
                  "nan", "n/a", "na", "#n/a", "—/—"}

# Money units and their factor to 万元.
MONEY_FACTORS = schemas.MONEY_FACTORS

_TRUE = {"是", "√", "✓", "✔", "y", "yes", "true", "1", "已开工", "开工", "已入统", "入统", "已纳入",
         "重点", "重点项目", "对", "有"}
_FALSE = {"否", "×", "✗", "✘", "x", "n", "no", "false", "0", "未开工", "未入统", "未纳入", "非重点",
          "不是", "没有"}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def han_other_than(chars: str) -> re.Pattern:
    """A pattern that finds a Chinese character (CJK Unified Ideographs block) other than `chars`.

    NFKC, lower() and removing spaces leave such a character as it is, so a text
    holding one never normalises into a word made only of `chars` and non-Chinese
    characters. Searching for it is cheap; normalising a text that has full-width
    punctuation in it (every project name with （…）) is forty times dearer.
    """
    ranges, start = [], 0x4E00
    for code in sorted(ord(c) for c in set(chars) if "\u4e00" <= c <= "\u9fff"):
        if start < code:
            ranges.append(f"{chr(start)}-{chr(code - 1)}")
        start = code + 1
    ranges.append(f"{chr(start)}-\u9fff")
    return re.compile(f"[{''.join(ranges)}]")


# A text with a Chinese character other than these cannot be an _EMPTY_MARKER.
_NOT_EMPTY = han_other_than("".join(_EMPTY_MARKERS))


# Zero-width and other invisible characters that copy-and-paste leaves around numbers and names.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f]")


def _text(raw: Any) -> str:
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", str(raw))).strip()


def is_empty(raw: Any) -> bool:
    """True for None, NaN and every written form of 'empty' (—, -, /, 无 …)."""
    if raw is None:
        return True
    if raw.__class__ is str:  # the common case first; the rest of the checks cannot apply to it
        return not _NOT_EMPTY.search(raw) and _text(raw).lower().replace(" ", "") in _EMPTY_MARKERS
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, (int, float, dt.date)):
        return False
    return _text(raw).lower().replace(" ", "") in _EMPTY_MARKERS


def parse_number(raw: Any) -> Parsed:
    """A plain number: 1234.5, '1,234.5', full-width '１２３４', '12.5%' (percent sign dropped).

    Text around a number ('约500', '500万') is not guessed at: it is a problem for
    the unit to fix, because '500万' in a 亿元 column would be off by 10,000.
    """
    try:
        if raw.__class__ is float:  # what Excel gives for most number cells
            if math.isnan(raw):
                return EMPTY
            return Parsed(None, "数字无效", "请填写有限的数字") if math.isinf(raw) else Parsed(raw)
        if is_empty(raw):
            return EMPTY
        if isinstance(raw, bool):
            return Parsed(None, "应填数字，填成了是/否", "请填写数字")
        if isinstance(raw, (int, float)):
            if math.isinf(raw):
                return Parsed(None, "数字无效", "请填写有限的数字")
            return Parsed(float(raw))
        if isinstance(raw, dt.date):
            return Parsed(None, "应填数字，填成了日期", "请把单元格格式改为“数值”后重新填写")
        s = _text(raw).replace(" ", "").replace("\u3000", "")
        if s.endswith("%"):
            s = s[:-1]
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        if _NUMBER.match(s):
            value = float(s)
            if math.isinf(value) or math.isnan(value):
                return Parsed(None, "数字无效", "请填写有限的数字")
            return Parsed(value)
        return Parsed(None, "不是有效数字", "请只填写阿拉伯数字，不要带文字、单位或“约”等字样")
    except Exception:  # noqa: BLE001 - a parser must never raise on cell content
        return Parsed(None, "无法识别的内容", "请只填写阿拉伯数字")


def parse_money(raw: Any, unit: str | None) -> Parsed:
    """A money amount converted to 万元 from the unit the sheet or header states (default 万元).

    A percentage ("85%") in a money column is not 85万元: it is a problem for the unit to fix.
    """
    if raw.__class__ is float and math.isfinite(raw):  # what Excel gives for most amounts
        return Parsed(raw * MONEY_FACTORS.get(unit or "万元", 1.0))
    if isinstance(raw, str) and _text(raw).endswith("%"):
        return Parsed(None, "金额栏填写了百分比", "请填写金额（阿拉伯数字），不要填写百分比")
    parsed = parse_number(raw)
    if parsed.value is None:
        return parsed
    return Parsed(parsed.value * MONEY_FACTORS.get(unit or "万元", 1.0))


def parse_bool(raw: Any) -> Parsed:
    """是/否, √/×, 已开工/未开工, Y/N, 1/0 -> True/False."""
    try:
        if is_empty(raw):
            return EMPTY
        if isinstance(raw, bool):
            return Parsed(raw)
        s = _text(raw).lower().replace(" ", "")
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return Parsed(bool(raw))
        if s in _TRUE:
            return Parsed(True)
        if s in _FALSE:
            return Parsed(False)
        return Parsed(None, "应填“是”或“否”", "请填写“是”或“否”（也可用√、×）")
    except Exception:  # noqa: BLE001
        return Parsed(None, "应填“是”或“否”", "请填写“是”或“否”")


# Excel stores dates as days since 1899-12-30; 1982..2100 is a generous window
# for project dates, and keeps plain numbers like 2021 from reading as dates.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 30_000, 73_000
_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-./年](?P<m>\d{1,2})[-./月](?P<d>\d{1,2})日?$"),
    re.compile(r"^(?P<y>\d{4})[-./年](?P<m>\d{1,2})月?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)


def parse_date(raw: Any) -> Parsed:
    """Excel dates and serials, '2021.3.15', '2021年3月15日', '2021/3/15', '2021-03-15', '2021/3' (day 1)."""
    try:
        if is_empty(raw):
            return EMPTY
        if isinstance(raw, dt.datetime):
            return Parsed(raw.date())
        if isinstance(raw, dt.date):
            return Parsed(raw)
        if isinstance(raw, bool):
            return Parsed(None, "不是有效日期", "请按“2021年3月15日”或“2021.3.15”填写日期")
        if isinstance(raw, (int, float)):
            if _SERIAL_MIN <= raw <= _SERIAL_MAX:
                return Parsed(_EXCEL_EPOCH + dt.timedelta(days=int(raw)))
            return Parsed(None, "不是有效日期", "请按“2021年3月15日”或“2021.3.15”填写日期")
        s = _text(raw).replace(" ", "")
        s = re.sub(r"[ T]?\d{1,2}:\d{2}(:\d{2})?$", "", s)  # a time part adds nothing
        for pattern in _DATE_PATTERNS:
            m = pattern.match(s)
            if m:
                parts = m.groupdict()
                return Parsed(dt.date(int(parts["y"]), int(parts["m"]), int(parts.get("d") or 1)))
        return Parsed(None, "不是有效日期", "请按“2021年3月15日”或“2021.3.15”填写日期")
    except (ValueError, OverflowError):
        return Parsed(None, "日期不存在", "请检查年、月、日是否正确")
    except Exception:  # noqa: BLE001
        return Parsed(None, "不是有效日期", "请按“2021年3月15日”填写日期")


_MONTH_SPAN = re.compile(r"^(?:\d{4}年)?(?:1[-~—至])?(?P<m>\d{1,2})(?:月(?:份|底)?)?$")


def parse_month(raw: Any) -> Parsed:
    """The cut-off month of a cumulative figure: 11, '11月', '1-11月', '2021年1-11月', a date -> 11."""
    try:
        if is_empty(raw):
            return EMPTY
        if isinstance(raw, (dt.date, dt.datetime)):
            return Parsed(raw.month)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if float(raw).is_integer() and 1 <= raw <= 12:
                return Parsed(int(raw))
        else:
            m = _MONTH_SPAN.match(_text(raw).replace(" ", ""))
            if m and 1 <= int(m.group("m")) <= 12:
                return Parsed(int(m.group("m")))
        return Parsed(None, "不是有效月份", "请填写1到12的月份，如“1-11月”或“11”")
    except Exception:  # noqa: BLE001
        return Parsed(None, "不是有效月份", "请填写1到12的月份")


def parse_text(raw: Any) -> Parsed:
    """Free text, trimmed; the written forms of 'empty' become None. Excel floats like 3.0 lose the .0."""
    try:
        if raw.__class__ is str and _NOT_EMPTY.search(raw):  # a name or a place: what is_empty settles first
            return Parsed(INVISIBLE.sub("", raw).strip().replace("\r\n", "\n"))
        if is_empty(raw):
            return EMPTY
        if isinstance(raw, float) and raw.is_integer():
            return Parsed(str(int(raw)))
        if isinstance(raw, dt.datetime):
            return Parsed(raw.date().isoformat())
        return Parsed(INVISIBLE.sub("", str(raw)).strip().replace("\r\n", "\n"))
    except Exception:  # noqa: BLE001
        return Parsed(None, "无法识别的内容", "请重新填写该单元格")


def parse_choice(raw: Any, choices: dict[str, str], label: str) -> Parsed:
    """One of a fixed set of values (批次, 建设性质, …), spelled any of the accepted ways."""
    text = parse_text(raw)
    if text.value is None:
        return text
    key = _text(text.value).replace(" ", "")
    if key in choices:
        return Parsed(choices[key])
    allowed = "、".join(dict.fromkeys(choices.values()))
    return Parsed(None, f"{label}不在可选范围内", f"请填写{allowed}之一")


# A 计量单位 as offices write it: a money unit, a measure word, a physical unit, a percentage.
_MEASURE_UNIT = re.compile(r"^(?:[万亿千百]?元|[万亿]?(?:个|项|条|亩|类|大类|家|人|次|户|套|台|处|座|宗|件|批|吨"
                           r"|千瓦|平方米|立方米|公里)|千米|米|兆瓦|%|％|百分点|倍|天|月|年)$")


def is_measure_unit(text: str) -> bool:
    """Whether a 计量单位 cell reads as a unit (亿元, 个, 万平方米, %); “？？”, “见备注” do not."""
    return bool(_MEASURE_UNIT.match(text.replace(" ", "")))
