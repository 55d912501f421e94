"""主要指标 rows read by concept: an indicator name as an office writes it onto the indicator the report uses,
and each row's own unit converting its value.

Offices name one indicator in many ways: a verb in front (争取中央预算内资金, 安排预算内统筹资金), 投资 for
资金 (中央预算内投资), the unit in brackets (中央预算内资金（亿元）). The report's indicators and their known
other names are declared once (schemas.KNOWN_INDICATORS); a written name is compared with each of them
after the same normalisation: NFKC, no spaces or quotes, the unit in brackets taken out, a leading verb
dropped, 投资 and 资金 read alike. A name matching no indicator stays as written.

Units are per row: 元, 千元, 万元 and 亿元 amounts are stored in 万元 like every other amount (the row's
计量单位, else the unit in the name's brackets); 亩, 个, 项 … are counts and stay as they are.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from pipeline import schemas
from pipeline.ingest.parsing import is_measure_unit

# Verbs an office may put before an indicator's name; an indicator whose own name starts with one (新增供地)
# is still matched, because its canonical name is normalised the same way.
_VERBS = re.compile(r"^(?:争取|安排|设立|下达|落实|筹集|获得|完成|实现|累计|本年|全年|全区|我市|新增)+")
_UNIT_IN_NAME = re.compile(r"\((?:单位[:：]?)?([^()]{1,4})\)$")
_NOISE = re.compile(r"[\s\"“”'‘’]")
MONEY_UNIT = schemas.DEFAULT_MONEY_UNIT


def _key(name: str) -> str:
    """A name as compared: NFKC, no spaces or quotes or unit, no leading verb, 投资 read as 资金."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name))
    text = _UNIT_IN_NAME.sub("", text)
    stripped = _VERBS.sub("", text)
    return (stripped or text).replace("投资", "资金")


@functools.lru_cache(maxsize=1)
def _known() -> dict[str, str]:
    """Every known way of writing each indicator, as compared -> its canonical name."""
    keys: dict[str, str] = {}
    for canonical, synonyms in schemas.KNOWN_INDICATORS.items():
        for written in (canonical, *synonyms):
            keys.setdefault(_key(written), canonical)
    return keys


def canonical(name: str | None) -> str | None:
    """The report's indicator a written name is, or the name as written when it is none of them."""
    if name is None:
        return None
    return _known().get(_key(name), name)


def unit_in_name(name: str | None) -> str | None:
    """The unit written in brackets at the end of a name: 中央预算内资金（亿元） -> 亿元."""
    m = _UNIT_IN_NAME.search(unicodedata.normalize("NFKC", name or "").strip())
    return m.group(1) if m else None


def normalise(record: dict) -> None:
    """Canonical 指标名称, and the row's amounts in 万元 when its unit is a money unit (元, 千元, 亿元)."""
    written = record.get("indicator")
    unit = unicodedata.normalize("NFKC", record.get("measure_unit") or "").strip()
    if unit and not is_measure_unit(unit):  # “？？”, “见备注”: no unit, so the amount's unit is not known from it
        unit = ""
    unit = unit or unit_in_name(written) or ""
    record["indicator"] = canonical(written)
    factor = schemas.MONEY_FACTORS.get(unit)
    if factor is not None:
        for name in ("current", "last_year"):
            if record.get(name) is not None:
                record[name] *= factor
        unit = MONEY_UNIT
    record["measure_unit"] = unit or None
