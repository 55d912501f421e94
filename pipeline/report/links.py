"""Each number of the report linked to its source (数字来源): anchors, hovers and the entries of the section
数字来源 (indicators.json's ``sources``, written by pipeline/indicators/sources.py)."""
from __future__ import annotations

import re
from typing import Any

import pandas as pd
from markupsafe import Markup

from pipeline.frames import is_missing
from pipeline.report.numbers import DASH, NUMERIC_KINDS, Col, cell_text, number
from pipeline.report.summaries import TABLES

# =========================================================================== sources of the numbers (数字来源)
# indicators.json's "sources" (written by pipeline/indicators/sources.py): each number links to its entry in the
# section 数字来源 of report.html, which is collapsed on screen and left out of print and of report.docx. Every text
# made here is Chinese: an entry is named by its label, never by its indicators.json key; the formula with the values
# substituted is written once, then the rows once.


def source_anchor(key: str) -> str:
    return f"src-{key}"


def source_expression(source: dict[str, Any]) -> str:
    """The formula with each input's value after its name: 累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元."""
    text, pos = source["formula"], 0
    for item in source.get("inputs", []):
        shown = (number(item["value"], NUMERIC_KINDS.get(item["kind"], 1))
                 + (item["unit"] if not is_missing(item["value"]) else ""))
        at = text.find(item["name"], pos)
        if at < 0:
            text, pos = f"{text}；{item['name']}{shown}", len(text) + len(item["name"]) + len(shown) + 1
        else:
            end = at + len(item["name"])
            text, pos = text[:end] + shown + text[end:], end + len(shown)
    return text


def source_calculation(source: dict[str, Any]) -> str:
    """How the number is had, once: the formula with its values (“累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元”);
    "" when the formula only says again what the label says (a number taken as it is from a return)."""
    label = source["label"].removeprefix("表：")
    expression = source_expression(source)
    return "" if _same_meaning(expression, label) else expression


def _same_meaning(a: str, b: str) -> bool:
    def bare(text: str) -> str:
        return re.sub(r"[（）()%：:，,、\s×]|个数|亿元|万元|个百分点", "", text)

    return bare(a) == bare(b) or bare(a) in bare(b)


def source_rows_text(source: dict[str, Any]) -> str:
    """（依据593个项目） or （取自round.yml）: the rows once."""
    rows = source["rows"]
    if rows.get("count") is None:
        return f"（取自{rows.get('origin') or '清洗后的报表'}）"
    return f"（依据{rows['count']}{rows.get('what', '行')}）"


def source_hover(key: str, source: dict[str, Any]) -> str:
    """投资完成率（%）：累计完成投资486.2亿元 ÷ 年度计划投资554.8亿元（依据593个项目）. key: the entry, for callers
    that have it; the text names the number by its label only."""
    calculation = source_calculation(source)
    return f"{source['label']}" + (f"：{calculation}" if calculation else "") + source_rows_text(source)


def source_entries(sources: dict[str, dict]) -> list[dict[str, Any]]:
    """The entries of 数字来源, in the order of indicators.json: anchor, label, calculation, rows and columns."""
    entries = []
    for key, source in sources.items():
        rows = source["rows"]
        columns = rows.get("column")
        columns = "、".join(columns) if isinstance(columns, list) else columns
        entries.append({"key": key, "anchor": source_anchor(key), "label": source["label"],
                        "calculation": source_calculation(source), "hover": source_hover(key, source),
                        "count": rows.get("count"), "what": rows.get("what", "行"), "sheet": rows.get("sheet"),
                        "file": rows.get("file"), "column": columns, "origin": rows.get("origin"),
                        "by": rows.get("by"), "columns": column_formulas(key, source)})
    return entries


def column_formulas(key: str, source: dict[str, Any]) -> str:
    """A table entry's columns in words: 项目数＝所列项目的个数；已开工＝“已开工”为是的项目个数 ("" for a figure)."""
    labels = {c.name: c.label for c in TABLES.get(key.removeprefix(TABLE_SOURCE_PREFIX), [])}
    return "；".join(f"{labels.get(name, name)}＝{spec['formula']}" for name, spec in source.get("columns", {}).items())


# ---- the report's tables: one source entry per table (sources["table.<name>"]), each numeric cell linked to it

TABLE_SOURCE_PREFIX = "table."
TOTAL_ROW = "合计"


def table_key(name: str) -> str:
    return TABLE_SOURCE_PREFIX + name


def row_label(row: pd.Series, columns: list[Col]) -> str:
    """A table row as a cell's hover names it: its first two text cells, “全部项目·第一批” or “银川市·项目名称”."""
    texts = (cell_text(row[c.name], c.kind) for c in columns if c.kind not in NUMERIC_KINDS)
    return "·".join([t for t in texts if t][:2])


def cell_rows_text(source: dict[str, Any], group: str | None) -> str:
    """（数字来源.xlsx 工作表“督办项目”中“单位”为“银川市”的行） or （取自…）."""
    rows = source["rows"]
    if not rows.get("sheet"):
        return f"（取自{rows.get('origin') or '清洗后的报表'}）"
    where = f"{rows['file']} 工作表“{rows['sheet']}”"
    if rows.get("by") and group is not None:
        where += "的全部行" if group == TOTAL_ROW else f"中“{rows['by']}”为“{group}”的行"
    return f"（{where}）"


def cell_hover(key: str, source: dict[str, Any], label: str, column: Col, group: str | None = None) -> str:
    """各单位开工和投资完成情况：银川市·项目数＝所列项目的个数（数字来源.xlsx 工作表“两批次项目”中“单位”为“银川市”的行）

    key: the table's entry, for callers that have it; the text names the table by its label only."""
    formula = source.get("columns", {}).get(column.name, {}).get("formula")
    table = source["label"].removeprefix("表：")
    return f"{table}：{label}·{column.label}" + (f"＝{formula}" if formula else "") + cell_rows_text(source, group)


def cell_link(name: str, columns: list[Col], sources: dict[str, dict]):
    """link(row, col, text) for html_table: a number links to its own entry when it has one (cell_key), else to its
    table's entry, with the hover saying which row and column it is; None when the table has no entry."""
    source = sources.get(table_key(name))
    if source is None:
        return None
    by_field = source["rows"].get("by_field")

    def link(row: pd.Series, col: Col, text: str) -> Markup | None:
        if text == DASH:
            return None
        group = str(row[by_field]) if by_field and by_field in row and not is_missing(row[by_field]) else None
        own = source.get("cell_key", "").format(row=row.get("unit", ""), column=col.name) if "unit" in row else ""
        if own in sources:
            return Markup('<a class="v" href="#{}" title="{}">{}</a>').format(source_anchor(own),
                                                                              source_hover(own, sources[own]), text)
        hover = cell_hover(table_key(name), source, row_label(row, columns), col, group)
        return Markup('<a class="v" href="#{}" title="{}">{}</a>').format(source_anchor(table_key(name)), hover, text)

    return link
