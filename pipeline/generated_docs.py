"""The generated blocks of the docs: a part of a markdown file, between two marker comments, written from a
declaration (keys.csv, tables.csv, problems.csv) by ``make docs`` and checked by the tests to be up to date."""
from __future__ import annotations

from pathlib import Path
from typing import Callable


def with_block(document: str, begin: str, end: str, body: str) -> str:
    """The document with the block between its markers `begin` and `end` replaced by `body`."""
    head, sep, rest = document.partition(begin)
    if not sep or end not in rest:
        raise ValueError(f"the document has no generated block ({begin} … {end})")
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n\n{body}\n{end}{tail}"


def rewrite(target: Path, update: Callable[[str], str], what: str) -> int:
    """Rewrite the file's generated blocks with `update`; say (in Chinese) whether it changed. `what` counts what
    the blocks list, e.g. “49 种问题”."""
    text = target.read_text(encoding="utf-8")
    updated = update(text)
    if updated != text:
        target.write_text(updated, encoding="utf-8")
        print(f"已更新 {target}（{what}）。")
    else:
        print(f"{target} 已是最新（{what}）。")
    return 0
