"""docs/columns.md is what the return schemas declare (pipeline/devtools/columns_doc.py; make docs writes it)."""
from __future__ import annotations

from pipeline import schemas
from pipeline.devtools import columns_doc


def test_the_page_in_the_repository_is_the_generated_one():
    written = columns_doc.DOC.read_text(encoding="utf-8")
    assert written == columns_doc.render(), "运行 make docs 重新生成 docs/columns.md"


def test_every_column_of_every_return_is_listed_with_required_and_what_it_feeds():
    page = columns_doc.render()
    for kind in schemas.RETURN_KINDS.values():
        section = page.split(f"## {kind.label}\n", 1)[1].split("\n## ", 1)[0]
        for column in kind.columns:
            row = next(line for line in section.splitlines() if line.startswith(f"| {column.label} |"))
            assert ("| 必填 |" in row) == column.required, row
    plan = next(line for line in page.splitlines() if line.startswith("| 年度计划投资 |"))
    assert "万元" in plan and "亿元" in plan and "投资完成率" in plan
