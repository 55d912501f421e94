"""The recognition rate of headers over an independent corpus (make corpus).

The corpus (tests/fixtures/header_corpus.csv: 报表类型, 表头写法, 应对应) holds header wordings that were not
in the alias table, written per concept (the concept table was adjusted while it was written); the held-out
corpus (header_corpus_heldout.csv) was written afterwards and never used to adjust anything. 应对应 is the
standard column, or "-" for a header the return does not have (联系电话, 备注), which must be left alone.
Each is read as cleaning reads a header: the alias table first, then by concept (pipeline/ingest/concepts.py).
"""
from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline import paths, schemas
from pipeline.ingest import concepts

CORPUS = paths.PROJECT_ROOT / "tests" / "fixtures" / "header_corpus.csv"
# Written after the concept table was settled and never used to tune it: its rate is the honest one.
HELD_OUT = paths.PROJECT_ROOT / "tests" / "fixtures" / "header_corpus_heldout.csv"
IGNORED = "-"


@dataclass(frozen=True)
class Outcome:
    kind: str
    written: str
    expected: str | None
    got: str | None
    how: str  # 已对应 / 有意不读 / 未识别 / 对应错误
    score: float


MAPPED, IGNORED_ON_PURPOSE, UNMATCHED, WRONG = "已对应", "有意不读", "未识别", "对应错误"


def read(kind: str, written: str, aliases: schemas.AliasTable,
         table: concepts.ConceptTable) -> tuple[str | None, float]:
    """The column a header (levels joined by '/') is read as, and its concept score."""
    levels = [schemas.normalize_header(level) for level in written.split("/")]
    keys = tuple(key for key, _ in levels)
    unit = next((u for _, u in reversed(levels) if u), None)
    alias = aliases.match(schemas.join_levels(list(keys)), kind)
    found = table.match(keys, unit, kind)
    if alias.column:
        return alias.column, found.score
    return (found.column if found.adopted else None), found.score


def outcomes(path: Path = CORPUS) -> list[Outcome]:
    aliases, table = schemas.load_aliases(), concepts.default_concepts()
    out = []
    for row in csv.DictReader(path.open(encoding="utf-8")):
        kind, written = row["报表类型"], row["表头写法"]
        expected = None if row["应对应"] == IGNORED else row["应对应"]
        got, score = read(kind, written, aliases, table)
        if got == expected:
            how = IGNORED_ON_PURPOSE if expected is None else MAPPED
        else:
            how = UNMATCHED if got is None else WRONG
        out.append(Outcome(kind, written, expected, got, how, score))
    return out


def summary(found: list[Outcome]) -> str:
    n = len(found)
    counts = {how: sum(1 for o in found if o.how == how) for how in (MAPPED, IGNORED_ON_PURPOSE, UNMATCHED, WRONG)}
    right = counts[MAPPED] + counts[IGNORED_ON_PURPOSE]
    if not n:
        return "表头语料为空"
    lines = [f"表头语料 {n} 个：已对应 {counts[MAPPED]}，有意不读 {counts[IGNORED_ON_PURPOSE]}，"
             f"未识别 {counts[UNMATCHED]}，对应错误 {counts[WRONG]}；识别率 {right / n * 100:.1f}%"]
    for o in found:
        if o.how in (UNMATCHED, WRONG):
            lines.append(f"  {o.how}：{o.kind} “{o.written}” 应为 {o.expected or '不读'}，"
                         f"读作 {o.got or '—'}（含义得分 {o.score:.2f}）")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="表头语料的识别率")
    parser.add_argument("--corpus", type=Path, action="append",
                        help="语料文件（可多次给出）；默认为编写含义表时用过的语料和之后另写、未用于调整的语料")
    args = parser.parse_args(argv)
    for path in args.corpus or [CORPUS, HELD_OUT]:
        print(f"{path.name}：")
        print(summary(outcomes(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
