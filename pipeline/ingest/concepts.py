"""Headers understood by what they are about: each standard column described by the words a header must carry.

The alias table (data/header_aliases.csv) lists header texts one by one, and every
office brings a wording it does not hold yet. The concept table
(pipeline/ingest/header_concepts.csv) describes each standard column of each return kind
instead, as three sets of words:

- 必含: word groups joined by "+", alternatives by "|": at least one word of every
  group must be in the header (开工|复工|开复工|施工 for 是否开工; 计划|拟+开工+时间|日期
  for 计划开工时间);
- 可含: words that may stand beside them without changing the meaning (是否, 状态, 情况, 与否);
- 不含: words that make it another column (a date or plan word makes 是否开工 into
  开工时间 or 计划开工时间; 率 makes 完成 into 完成率). The pairs that must never be
  confused are kept apart by these.

A header is scored against every column of a kind: 0 when a 不含 word is in it or a
必含 group is missing, else the share of its characters explained by the column's
words. The best column is adopted when it scores at least ADOPT_SCORE and no other
column comes within ADOPT_MARGIN of it; otherwise the best is only a suggestion.
The matcher sees header texts only (the normalised levels, top first, and the unit
written in them), never the rows below, so it does not depend on how rows travel.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pipeline import schemas

CONCEPTS_FILE = Path(__file__).with_name("header_concepts.csv")

# A header is adopted by concept at this share of its characters explained, and when the runner-up
# column scores at least ADOPT_MARGIN less; a best column from SUGGEST_SCORE up is offered as a suggestion.
ADOPT_SCORE = 0.75
ADOPT_MARGIN = 0.2
SUGGEST_SCORE = 0.4

# Characters that carry no meaning in a header: punctuation and brackets (是否已开（复）工 reads 是否已开复工).
_PUNCT = re.compile(r"[()\[\]【】{}<>《》、，,.。:：;；\"'“”‘’·\-—_/\\?？!！\s]")
# A parent level saying one of these speaks of another period: a column forbidding the word is excluded
# even when only the parent says it (上年同期 over 完成 is not this year's 完成).
_CONTEXT_WORDS = ("上年", "去年", "同期")


class ConceptTableError(ValueError):
    """The concept table itself is wrong; the message says which line."""


@dataclass(frozen=True)
class Concept:
    kind: str
    column: str
    required: tuple[tuple[str, ...], ...]  # groups; one word of each must be present
    optional: tuple[str, ...]
    forbidden: tuple[str, ...]

    def could_match(self, present: frozenset[str]) -> bool:
        """Whether a text holding (of all the table's 必含 words) only the words `present` can score above 0:
        a word of every 必含 group is among them."""
        return all(not present.isdisjoint(group) for group in self.required)

    def score(self, text: str, context: str = "") -> tuple[float, tuple[str, ...]]:
        """(share of text's characters explained, the deciding words) of one header text; (0, ()) when it cannot be."""
        if not text:
            return 0.0, ()
        found: list[str] = []
        for group in self.required:  # first: most texts lack a group, and are settled here
            present = [w for w in group if w in text]
            if not present:
                return 0.0, ()
            found.extend(present)
        if any(w in text for w in self.forbidden):
            return 0.0, ()
        if any(w in context for w in self.forbidden if w in _CONTEXT_WORDS):
            return 0.0, ()
        optional = [w for w in self.optional if w in text]
        covered = [False] * len(text)
        for word in (*found, *optional):  # each occurrence, left to right, not overlapping (as re.finditer finds
            n = len(word)              # them; str.find keeps the 272 words out of re's pattern cache)
            at = text.find(word) if n else -1
            while at >= 0:
                covered[at:at + n] = [True] * n
                at = text.find(word, at + n)
        every = (*found, *optional)
        words = [w for w in dict.fromkeys(every) if not any(w != o and w in o for o in every)]
        return sum(covered) / len(text), tuple(words)


@dataclass(frozen=True)
class ConceptMatch:
    """The outcome of scoring one header against every column of one kind."""

    column: str | None  # the best column, None when nothing scored
    score: float
    words: tuple[str, ...]  # the concept words found in the header that decided it
    runner_up: str | None = None
    runner_up_score: float = 0.0

    @property
    def adopted(self) -> bool:
        return (self.column is not None and self.score >= ADOPT_SCORE
                and self.score - self.runner_up_score >= ADOPT_MARGIN)

    @property
    def suggested(self) -> bool:
        return self.column is not None and not self.adopted and self.score >= SUGGEST_SCORE

    def reason(self, label: str) -> str:
        """含“开工”“状态” → 是否开工."""
        return "含" + "".join(f"“{w}”" for w in self.words) + f" → {label}"


NO_MATCH = ConceptMatch(None, 0.0, ())


# A comparison with last year is this year's growth: 比上年同期增长 and 较去年增长 read as 同比增长, so that
# 上年 in them is not taken for last year's own figure (上年同期增速).
_COMPARED = re.compile(r"[比较][上去]年(?:同期)?|比同期|较同期")


def concept_text(key: str, unit: str | None = None) -> str:
    """A normalised header key as the concepts read it: no punctuation or level separator; % kept as a word."""
    text = _COMPARED.sub("同比", _PUNCT.sub("", key))
    return text + "%" if unit == "%" and not text.endswith("%") else text


@dataclass(frozen=True)
class ConceptTable:
    concepts: dict[str, tuple[Concept, ...]]  # kind -> its columns' concepts
    source: Path

    @functools.cached_property
    def _memo(self) -> dict:
        return {}

    def match(self, levels: tuple[str, ...], unit: str | None, kind: str) -> ConceptMatch:
        """The best column of `kind` for a header given as its normalised levels (top first)."""
        key = (levels, unit, kind)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._match(levels, unit, kind)
        return hit

    def kinds_of(self, levels: tuple[str, ...], unit: str | None) -> set[str]:
        """The kinds some column of which this header is adopted as."""
        key = (levels, unit)
        hit = self._memo.get(key)
        if hit is None:
            texts = self._texts(levels, unit)
            # Only a kind with a column that can score on the header can adopt it (see _columns_for), and only when
            # the words can explain enough of the header (a project name that happens to hold 开工 cannot).
            kinds = set() if texts is None or not self._may_adopt(texts) else {
                self._kind_of[i] for i in texts.leaf_columns | texts.joined_columns}
            hit = self._memo[key] = {k for k in self.concepts if k in kinds and self.match(levels, unit, k).adopted}
        return hit

    def _match(self, levels: tuple[str, ...], unit: str | None, kind: str) -> ConceptMatch:
        texts = self._texts(levels, unit)
        if texts is None or not (texts.leaf_columns or texts.joined_columns):
            return NO_MATCH
        leaf, joined, context = texts.leaf, texts.joined, texts.context
        scored = []
        for concept in self.concepts.get(kind, ()):
            s, words = concept.score(leaf, context) if id(concept) in texts.leaf_columns else (0.0, ())
            if joined != leaf and id(concept) in texts.joined_columns:
                s2, words2 = concept.score(joined, context)
                if s2 > s:
                    s, words = s2, words2
            if s > 0:
                scored.append((s, concept.column, words))
        if not scored:
            return NO_MATCH
        scored.sort(key=lambda t: -t[0])
        best = scored[0]
        runner = scored[1] if len(scored) > 1 else (0.0, None, ())
        return ConceptMatch(best[1], round(best[0], 2), best[2], runner[1], round(runner[0], 2))

    def _texts(self, levels: tuple[str, ...], unit: str | None) -> "_Texts | None":
        """What every kind's match reads of a header, worked out once: None for a header with no text."""
        key = ("texts", levels, unit)
        if key in self._memo:
            return self._memo[key]
        filled = tuple(lv for lv in levels if lv)
        texts = None
        if filled:
            leaf, joined = concept_text(filled[-1], unit), concept_text("".join(filled), unit)
            texts = _Texts(leaf, joined, "".join(filled[:-1]), self._columns_for(leaf),
                           self._columns_for(joined) if joined != leaf else frozenset())
        self._memo[key] = texts
        return texts

    def _columns_for(self, text: str) -> frozenset[int]:
        """The columns (as id() of their Concept) that can score above 0 on text: those with a word of each 必含
        group in it. Most texts (a sheet's data rows, read while its header is searched for) hold no 必含 word at
        all, settled by one regex search; the others are checked against the columns their words lead to."""
        if not self._any_required.search(text):
            return frozenset()
        present = frozenset(w for w in self._required_words if w in text)
        return frozenset(id(c) for w in present for c in self._by_first_word.get(w, ()) if c.could_match(present))

    def _may_adopt(self, texts: "_Texts") -> bool:
        """False when no column can be adopted on the header: an upper bound of every column's score (the characters
        of every occurrence of every word of the table, overlaps counted twice) stays below ADOPT_SCORE on the leaf
        and on the joined text. Settles most data-row texts without scoring each column (exactly as scoring would:
        the bound is never below a score)."""
        return ((texts.leaf_columns and self._bound(texts.leaf) >= ADOPT_SCORE - 0.005)
                or (texts.joined_columns and self._bound(texts.joined) >= ADOPT_SCORE - 0.005))

    def _bound(self, text: str) -> float:
        return sum(len(w) * text.count(w) for w in self._all_words if w in text) / len(text)

    @functools.cached_property
    def _all_words(self) -> tuple[str, ...]:
        """Every 必含 and 可含 word of the table."""
        return tuple(sorted({w for kind in self.concepts.values() for c in kind
                             for w in (*c.optional, *(w for g in c.required for w in g))}))

    @functools.cached_property
    def _required_words(self) -> tuple[str, ...]:
        """Every word of every 必含 group of every column."""
        return tuple(sorted({w for kind in self.concepts.values() for c in kind for g in c.required for w in g}))

    @functools.cached_property
    def _any_required(self) -> re.Pattern:
        """One regex of every word of every 必含 group: a text holding none of them scores 0 for every column."""
        return re.compile("|".join(re.escape(w) for w in sorted(self._required_words, key=len, reverse=True)) or "(?!)")

    @functools.cached_property
    def _kind_of(self) -> dict[int, str]:
        """id() of each Concept -> its kind."""
        return {id(c): kind for kind, columns in self.concepts.items() for c in columns}

    @functools.cached_property
    def _by_first_word(self) -> dict[str, list[Concept]]:
        """Each word of a first 必含 group -> the columns (of every kind) whose first group holds it."""
        index: dict[str, list[Concept]] = {}
        for concept in (c for kind in self.concepts.values() for c in kind):
            for word in concept.required[0]:
                index.setdefault(word, []).append(concept)
        return index


class _Texts(NamedTuple):
    """A header as the concepts read it: its leaf, its levels joined, its parents (context), and the columns that
    can score on the leaf and on the joined text (id() of their Concept)."""

    leaf: str
    joined: str
    context: str
    leaf_columns: frozenset[int]
    joined_columns: frozenset[int]


def _words(cell: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in cell.split("|") if w.strip())


def load_concepts(path: Path | None = None) -> ConceptTable:
    """Read the concept table (columns: 报表类型, 标准列名, 必含, 可含, 不含).

    报表类型 * stands for every kind that has the column."""
    path = Path(path or CONCEPTS_FILE)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    if rows and not {"报表类型", "标准列名", "必含", "可含", "不含"} <= set(rows[0]):
        raise ConceptTableError(f"表头含义表 {path.name} 第1行应为“报表类型,标准列名,必含,可含,不含”五列的表头。")
    concepts: dict[str, list[Concept]] = {}
    for line_no, row in enumerate(rows, start=2):
        kind, column = (row.get("报表类型") or "").strip(), (row.get("标准列名") or "").strip()
        kinds = [k for k, rk in schemas.RETURN_KINDS.items()
                 if (kind == "*" or kind == k) and any(c.name == column for c in rk.columns)]
        required = tuple(_words(group) for group in (row.get("必含") or "").split("+") if _words(group))
        if not kinds or not required:
            raise ConceptTableError(f"表头含义表 {path.name} 第{line_no}行：报表类型“{kind}”、标准列名“{column}”"
                                    "不存在，或“必含”为空。")
        for k in kinds:
            concepts.setdefault(k, []).append(
                Concept(k, column, required, _words(row.get("可含") or ""), _words(row.get("不含") or "")))
    return ConceptTable({k: tuple(v) for k, v in concepts.items()}, path)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> ConceptTable:
    return load_concepts(Path(path))


def default_concepts() -> ConceptTable:
    """The project's concept table, read once per change of the file."""
    return _cached(str(CONCEPTS_FILE), CONCEPTS_FILE.stat().st_mtime)


def concept_note(match: schemas.HeaderMatch, label: str) -> str:
    """The 表头对照 说明 of a header adopted by concept: why, and how to overrule it."""
    words = "".join(f"“{w}”" for w in match.words)
    return (f"含{words} → {label}（含义得分{match.score:.2f}）；如不对，在别名表中为这一表头加一行即以别名表为准")


def concepts_digest() -> str:
    """The concept table's bytes, for the cache key of cleaned returns."""
    return hashlib.sha256(CONCEPTS_FILE.read_bytes()).hexdigest()
