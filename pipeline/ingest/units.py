"""Which unit sent a file: the unit named as offices name themselves.

The same rule reads the 填报单位 line, the folder, the file name and the title:
- a place (a city or a base of round.yml) written before an office makes the office that place's:
  “石嘴山市发展改革委”, “银川市发改委”, “吴忠市住建局”, “宁东基地管委会经发局” are the city's (the base's);
  a place written one character off round.yml's spelling (石嘴山市 for 石咀山市) is that unit too, and the analyst
  is asked to check round.yml;
- a provincial department is meant only when no place precedes it: “自治区发展改革委”, “区发改委”,
  “宁夏回族自治区发展和改革委员会”, “自治区住房和城乡建设厅”, “交通厅”;
- a department is recognised in its usual short forms: the written name, once “和” and “委员会” are
  normalised, is the department's name with characters left out (发改委 for 发展改革委, 住建厅 for
  住房城乡建设厅, 交通厅 for 交通运输厅), beginning and ending as it does;
- a place may be written without its 市/基地 (“吴忠” for 吴忠市): that is a loose match, told to the analyst once.

`attribute` gives the unit and how it was found; `unit_notices` the analyst's notices about round.yml's
`units` (a place the returns name that round.yml spells differently). None of these go to a unit's list.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from pipeline import schemas
from pipeline.ingest.headers import cell_text
from pipeline.ingest.problems import HINT, Problem

_REPORTER = re.compile(r"(?:填报单位|填表单位|报送单位)(?:\(盖章\))?[:：]\s*([^\s:：]+)")
# How a department's name is written at length: normalised before it is compared.
_LONG_FORMS = (("委员会", "委"), ("和", ""), ("、", ""))
# The endings that make a unit a place (a city, a county, a district, a banner, a base or a park) rather than a
# department, and that its core name may be written without (银川 for 银川市, 宁东 for 宁东基地, 利通 for 利通区).
# A department's name ends in the office's kind (委, 厅, 局, 办) instead.
_PLACE_SUFFIX = re.compile(r"(市|基地|县|区|旗|州|盟|园区|开发区)$")
# How many rows at the top of a sheet may hold its title (“吴忠市2022年重大项目进展情况表”).
TITLE_ROWS = 3

EXACT, LOOSE, NEAR = "exact", "loose", "near"
# Codes of the notices about unit names: for the analyst only (see problems.ANALYST_CODES).
LOOSE_UNIT, UNIT_NOT_IN_ROUND = "loose_unit", "unit_not_in_round"


@dataclass(frozen=True)
class Attribution:
    unit: str
    written: str  # the words the text used for it
    how: str  # EXACT or LOOSE


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _is_place(unit: str) -> bool:
    return schemas.unit_kind(unit) in (schemas.CITY, schemas.BASE) or bool(_PLACE_SUFFIX.search(unit))


def _place_hits(text: str, unit: str) -> list[tuple[int, str, str]]:
    """(position, written, how) of a city or base in the text: its full name, else its core name."""
    hits = [(m.start(), unit, EXACT) for m in re.finditer(re.escape(unit), text)]
    core = _PLACE_SUFFIX.sub("", unit)
    if not hits and len(core) >= 2 and core != unit:
        hits = [(m.start(), core, LOOSE) for m in re.finditer(re.escape(core), text)]
    if not hits:
        hits = [(pos, piece, NEAR) for pos, piece in _near(text, unit)]
    return hits


def _near(text: str, unit: str) -> list[tuple[int, str]]:
    """(position, written) of a place written with one character other than round.yml's unit (石嘴山市 in the
    text, 石咀山市 in units): round.yml's spelling may be the slip, so the file is the unit's and the analyst is
    told."""
    n, suffix = len(unit), _PLACE_SUFFIX.search(unit).group(0)
    found = []
    if n - len(suffix) < 2:  # 某县: one character other than a one-character core is another place altogether
        return found
    for m in re.finditer(re.escape(suffix), text):
        piece = text[m.end() - n:m.end()]
        if len(piece) == n and sum(a != b for a, b in zip(piece, unit)) == 1:
            found.append((m.end() - n, piece))
    return found


def _department_hits(text: str, unit: str) -> list[tuple[int, str, str]]:
    """(position, written, how) of a department in the (long-form normalised) text: its name or a short form
    of it (发改委), else its core name without the last character (交通运输 for 交通运输厅, a loose match)."""
    name = _short(unit)
    hits = []
    for end, ch in enumerate(text):
        if ch != name[-1]:
            continue
        for start in range(max(0, end - len(name) + 1), end - 1):  # three characters at least
            piece = text[start:end + 1]
            if piece[0] == name[0] and _abbreviates(piece, name):
                hits.append((start, piece, EXACT))
                break
    core = name[:-1]
    if not hits and len(core) >= 2:
        hits = [(m.start(), core, LOOSE) for m in re.finditer(re.escape(core), text)]
    return hits


def _short(text: str) -> str:
    for long, short in _LONG_FORMS:
        text = text.replace(long, short)
    return text


def _abbreviates(piece: str, name: str) -> bool:
    """piece is name with characters left out (in order): 发改委 of 发展改革委."""
    it = iter(name)
    return all(ch in it for ch in piece)


def attribute(text: str | None, units: Iterable[str]) -> Attribution | None:
    """The round unit a piece of text names, by the rule in the module docstring; None when it names none.

    The unit named first wins (the place before the office); at one position, the longer name.
    """
    if not text:
        return None
    text = _short(normalise(text))
    found = []
    for unit in units:
        hits = _place_hits(text, unit) if _is_place(unit) else _department_hits(text, unit)
        found += [(pos, -len(written), (EXACT, LOOSE, NEAR).index(how), unit, written, how)
                  for pos, written, how in hits]
    if not found:
        return None
    _, _, _, unit, written, how = min(found)
    return Attribution(unit, written, how)


def match_unit(text: str | None, units: Iterable[str]) -> str | None:
    """The round unit a piece of text names (see attribute), or None."""
    hit = attribute(text, units)
    return hit.unit if hit else None


def reporter_in(rows: list[list[Any]]) -> str | None:
    """The text after 填报单位： in a footer or title line, if any."""
    for row in rows:
        for value in row:
            # Only a string can hold these words (a number's or a date's text never does).
            if value.__class__ is str and ("填报单位" in value or "填表单位" in value or "报送单位" in value):
                m = _REPORTER.search(unicodedata.normalize("NFKC", cell_text(value)))
                if m:
                    return m.group(1)
    return None


def from_path(rel: str, units: Iterable[str]) -> Attribution | None:
    """The unit from the folder a file sits in (the innermost that names one), else from the file name."""
    units = tuple(units)
    for folder in reversed(rel.split("/")[:-1]):
        hit = attribute(folder, units)
        if hit:
            return hit
    return attribute(rel.split("/")[-1], units)


def from_titles(sheets, units: Iterable[str]) -> Attribution | None:
    """The one round unit the sheets' title rows name (a row of one text cell at the top, like
    “吴忠市2022年重大项目进展情况表”); None when they name none or several."""
    units = tuple(units)
    titles = [texts[0] for s in sheets for row in s.rows[:TITLE_ROWS]
              for texts in [[v for v in row if v.__class__ is str and v.strip()]] if len(texts) == 1]
    found = {hit.unit: hit for t in titles if (hit := attribute(cell_text(t), units))}
    return next(iter(found.values())) if len(found) == 1 else None


def of_file(rel: str, sheets, units: Iterable[str]) -> Attribution | None:
    """A file's unit: the 填报单位 line, else the folder or file name, else the title rows."""
    units = tuple(units)
    return (attribute(reporter_in([r for s in sheets for r in s.rows]), units) or from_path(rel, units)
            or from_titles(sheets, units))


def named_texts(rel: str, sheets) -> list[str]:
    """The texts a file names its unit in: the 填报单位 line, folders, the file name, title rows."""
    titles = [v for s in sheets for row in s.rows[:TITLE_ROWS] for v in row if v.__class__ is str and v.strip()]
    return [t for t in (reporter_in([r for s in sheets for r in s.rows]), *rel.split("/"), *titles) if t]


def near_misses(texts: Iterable[str], units: Iterable[str]) -> list[tuple[str, str]]:
    """(written, unit): places the texts name that round.yml spells with one character different
    (石嘴山市 written, 石咀山市 in units). A place spelt as in units is no miss."""
    units = tuple(units)
    found = []
    for text in texts:
        text = _short(normalise(text))
        for unit in (u for u in units if _is_place(u)):
            found += [(piece, unit) for _, piece in _near(text, unit)
                      if piece not in units and (piece, unit) not in found]
    return found


def unit_notices(rel: str, attribution: Attribution | None, texts: list[str], units: Iterable[str]) -> list[Problem]:
    """The analyst's notices about a file's unit: a near miss of round.yml's `units`, a loose match.
    Never for a unit's list (their codes are in problems.ANALYST_CODES)."""
    out = []
    for written, unit in near_misses(texts, units):
        out.append(Problem(attribution.unit if attribution else "", rel, "", None, "填报单位", written,
                           f"报表中的“{written}”不在 units 中，是否为“{unit}”？",
                           "请核对 round.yml 的 units（应报送单位）的写法，改正后重新运行", HINT, UNIT_NOT_IN_ROUND))
    if attribution and attribution.how == LOOSE:
        out.append(Problem(attribution.unit, rel, "", None, "填报单位", attribution.written,
                           f"报表中的“{attribution.written}”按“{attribution.unit}”读取",
                           "如不是同一单位，请核对 round.yml 的 units", HINT, LOOSE_UNIT))
    return out


def first_of_each(problems: list[Problem]) -> list[Problem]:
    """A loose match and a near miss are told once per round, not once per file."""
    seen, out = set(), []
    for p in problems:
        if p.code in (LOOSE_UNIT, UNIT_NOT_IN_ROUND):
            key = (p.code, p.value)
            if key in seen:
                continue
            seen.add(key)
        out.append(p)
    return out
