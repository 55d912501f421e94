"""The keys of indicators.json, declared once, as data: ``keys.csv`` beside this module.

Each row is one key: its report section, the key, its meaning (Chinese, as the notebook and
docs/indicators.md show it) and its unit. The file is the single declaration: compute_indicators
must produce exactly these keys (a test checks), notebook 2's key tables are filtered from it,
docs/indicators.md's key tables are generated from it (``make docs`` rewrites them; a test
checks they agree), and 数字来源's labels come from it.

Adding an indicator: add its row here, compute it in assembly.py, regenerate the docs.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline.generated_docs import rewrite, with_block

KEYS_FILE = Path(__file__).with_name("keys.csv")
DOCS_BEGIN = "<!-- 以下由 make docs 根据 pipeline/indicators/keys.csv 生成，请勿手改 -->"
DOCS_END = "<!-- 生成内容结束 -->"


@dataclass(frozen=True)
class Key:
    key: str
    section: str
    meaning: str
    unit: str


def load(path: Path = KEYS_FILE) -> dict[str, Key]:
    """Every declared key, in the file's order."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = {row["key"]: Key(row["key"], row["section"], row["meaning"], row["unit"]) for row in rows}
    if len(keys) != len(rows):
        raise ValueError(f"{path.name}: a key is declared twice")
    return keys


DECLARED: dict[str, Key] = load()
# key -> (section, meaning): the shape the notebook tables and 数字来源 read.
KEYS: dict[str, tuple[str, str]] = {k.key: (k.section, k.meaning) for k in DECLARED.values()}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(k.section for k in DECLARED.values()))


def markdown(keys: dict[str, Key] = DECLARED) -> str:
    """The key tables of docs/indicators.md: one table per section, in the report's order."""
    parts = []
    for section in dict.fromkeys(k.section for k in keys.values()):
        parts += [f"### {section}", "", "| 键 | 含义 | 单位 |", "|---|---|---|"]
        parts += [f"| `{k.key}` | {k.meaning.replace('|', '｜')} | {k.unit} |"
                  for k in keys.values() if k.section == section]
        parts.append("")
    return "\n".join(parts)


def with_generated(document: str, keys: dict[str, Key] = DECLARED) -> str:
    """The document with its generated block (between DOCS_BEGIN and DOCS_END) replaced by markdown(keys)."""
    return with_block(document, DOCS_BEGIN, DOCS_END, markdown(keys))


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks of docs/indicators.md (or the file named): the keys from keys.csv, the tables
    from tables.csv and table_columns.csv (tables.py)."""
    from pipeline import paths
    from pipeline.indicators import tables

    target = Path(argv[0]) if argv else paths.PROJECT_ROOT / "docs" / "indicators.md"
    return rewrite(target, lambda text: tables.with_generated(with_generated(text)),
                   f"{len(DECLARED)} 个键，{len(tables.DECLARED)} 张表")
