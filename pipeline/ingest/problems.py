"""One thing for a unit (or the analyst) to fix: the record every check of the cleaning stage writes, and the
catalogue of the kinds of problem, declared once, as data: ``problems.csv`` beside this module.

Each row of problems.csv is one kind of problem:
- code: what the checks write (Problem.code); a Problem with a code not declared here cannot be made;
- label: its name in Chinese (docs/problems.md; 附录一's 隔离原因 where label_in_report is 1);
- severity: 错误 (the unit must fix it), 提示 (to check), or 错误/提示 (which one depends on the case);
- scope: what it is about: 单元格, 行, 表头, 工作表, 文件, 轮次 or 更正记录;
- set_aside: on a kept row, the value is left out of the sums and counts it would enter (SET_ASIDE_CODES);
- keepable: a 保留 line of corrections.csv may keep the value as written (KEEPABLE);
- correctable: corrections.csv may answer it at all (the 更正记录 skeleton lists it; NOT_A_CELL are the others);
- analyst: a notice for the analyst, never in a unit's list or its counts (ANALYST_CODES);
- summary: the run's summary names each one, as a whole file, sheet or column goes unused (SUMMARY_CODES);
- label_in_report: 附录一 counts quarantined rows under the label; otherwise under the problem's own words, which
  name the column (“项目名称未填写”);
- fix: what to do about it in general (each problem says it for its own cell).

Shared by the cleaning and the corrections it applies, so that both join one problem list, the one
退回修改清单.xlsx is made from. A new kind of problem: add its row, write it where it is found, run make docs.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline.generated_docs import rewrite, with_block

ERROR, HINT = "错误", "提示"

CATALOGUE_FILE = Path(__file__).with_name("problems.csv")
SCOPES = ("单元格", "行", "表头", "工作表", "文件", "轮次", "更正记录")
_FLAGS = ("set_aside", "keepable", "correctable", "analyst", "summary", "label_in_report")
DOCS_BEGIN = "<!-- 以下由 make docs 根据 pipeline/ingest/problems.csv 生成，请勿手改 -->"
DOCS_END = "<!-- 生成内容结束 -->"


@dataclass(frozen=True)
class Kind:
    """One kind of problem, as problems.csv declares it (see the module docstring)."""

    code: str
    label: str
    severities: tuple[str, ...]
    scope: str
    set_aside: bool
    keepable: bool
    correctable: bool
    analyst: bool
    summary: bool
    label_in_report: bool
    fix: str


def _kind(row: dict[str, str], where: str) -> Kind:
    severities = tuple(row["severity"].split("/"))
    if not set(severities) <= {ERROR, HINT}:
        raise ValueError(f"{where}: severity must be {ERROR}, {HINT} or {ERROR}/{HINT}, not {row['severity']!r}")
    if row["scope"] not in SCOPES:
        raise ValueError(f"{where}: scope must be one of {SCOPES}, not {row['scope']!r}")
    flags = {}
    for name in _FLAGS:
        if row[name] not in ("0", "1"):
            raise ValueError(f"{where}: {name} must be 0 or 1, not {row[name]!r}")
        flags[name] = row[name] == "1"
    if not (row["code"] and row["label"] and row["fix"]):
        raise ValueError(f"{where}: code, label and fix must be filled in")
    kind = Kind(row["code"], row["label"], severities, row["scope"], fix=row["fix"], **flags)
    if kind.keepable and not kind.correctable:
        raise ValueError(f"{where}: a keepable problem is answered by corrections.csv, so it is correctable")
    return kind


def load(path: Path = CATALOGUE_FILE) -> dict[str, Kind]:
    """Every declared kind of problem, in the file's order."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {row["code"]: _kind(row, f"{path.name} line {i}") for i, row in enumerate(rows, start=2)}
    if len(kinds) != len(rows):
        raise ValueError(f"{path.name}: a code is declared twice")
    return kinds


KINDS: dict[str, Kind] = load()
# Everything below is derived from the catalogue: never list codes by hand elsewhere.
SET_ASIDE_CODES: tuple[str, ...] = tuple(c for c, k in KINDS.items() if k.set_aside)
KEEPABLE: frozenset[str] = frozenset(c for c, k in KINDS.items() if k.keepable)
NOT_A_CELL: frozenset[str] = frozenset(c for c, k in KINDS.items() if not k.correctable)
ANALYST_CODES: frozenset[str] = frozenset(c for c, k in KINDS.items() if k.analyst)
SUMMARY_CODES: tuple[str, ...] = tuple(c for c, k in KINDS.items() if k.summary)
REPORT_LABELS: dict[str, str] = {c: k.label for c, k in KINDS.items() if k.label_in_report}


class UndeclaredProblem(ValueError):
    """A check wrote a code problems.csv does not declare (a programming slip, caught by every test that runs it)."""


@dataclass
class Problem:
    """One thing to fix. Row is the Excel row number the unit sees (None for a file- or sheet-level problem).

    The code must be declared in problems.csv, with this severity."""

    unit: str
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    problem: str
    fix: str
    severity: str = ERROR
    code: str = ""

    def __post_init__(self) -> None:
        kind = KINDS.get(self.code)
        if kind is None:
            raise UndeclaredProblem(f"problem code {self.code!r} is not declared in {CATALOGUE_FILE.name}")
        if self.severity not in kind.severities:
            raise UndeclaredProblem(f"problem code {self.code!r} is declared {'/'.join(kind.severities)}, "
                                    f"not {self.severity!r}, in {CATALOGUE_FILE.name}")


# --------------------------------------------------------------------------- docs/problems.md


def markdown(kinds: dict[str, Kind] = KINDS) -> str:
    """The catalogue as docs/problems.md shows it: one table per scope, in the file's order."""
    yes = {True: "是", False: ""}
    parts = []
    for scope in SCOPES:
        mine = [k for k in kinds.values() if k.scope == scope]
        if not mine:
            continue
        parts += [f"### {scope}", "", "| 代码 | 问题 | 级别 | 怎样处理 | 值不计入合计 | 可“保留” | 给分析人员 |",
                  "|---|---|---|---|---|---|---|"]
        parts += [f"| `{k.code}` | {k.label} | {'或'.join(k.severities)} | {k.fix.replace('|', '｜')} | "
                  f"{yes[k.set_aside]} | {yes[k.keepable]} | {yes[k.analyst]} |" for k in mine]
        parts.append("")
    return "\n".join(parts)


def with_generated(document: str, kinds: dict[str, Kind] = KINDS) -> str:
    """The document with its generated block (between DOCS_BEGIN and DOCS_END) replaced by markdown(kinds)."""
    return with_block(document, DOCS_BEGIN, DOCS_END, markdown(kinds))


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated block of docs/problems.md (or the file named) from problems.csv."""
    from pipeline import paths

    target = Path(argv[0]) if argv else paths.PROJECT_ROOT / "docs" / "problems.md"
    return rewrite(target, with_generated, f"{len(KINDS)} 种问题")


if __name__ == "__main__":
    raise SystemExit(main())
