"""docs/columns.md, generated from the declared return schemas (pipeline/schemas.py) and what each figure needs
(pipeline/indicators/needs.csv): for each kind of return, its columns — required or optional, what values and units
are accepted — and which figures of the report each column feeds. ``make docs`` writes it; a test checks that the
file in the repository is what the schemas say.
"""
from __future__ import annotations

from pathlib import Path

from pipeline import paths, schemas
from pipeline.indicators import coverage, sources

DOC = paths.PROJECT_ROOT / "docs" / "columns.md"
SHOWN_FIGURES = 6  # figures named per column before “等”

ACCEPTED = {
    schemas.TEXT: "文字",
    schemas.MONEY: ("金额：默认万元；单位行、表头或标题写明亿元、元、千元时自动换算（1亿元＝10000万元）；"
                    "千分位、全角数字可以"),
    schemas.NUMBER: "数字（千分位、全角数字可以）",
    schemas.BOOL: "是/否（也认 √/×、已开工/未开工、已入统/未入统 等）",
    schemas.DATE: "日期（Excel 日期、2021-03-15、2021.3.15、2021年3月15日、2021/3）",
    schemas.MONTH: "月份（11、11月、1—11月）",
    schemas.SEQ: "序号（不计入数据）",
}


def accepted(column: schemas.Column) -> str:
    if column.type == schemas.CHOICE:
        values = list(dict.fromkeys(column.choices.values()))
        return "可选值：" + "、".join(values) if values else "可选值"
    return ACCEPTED.get(column.type, column.type)


def figures_fed() -> dict[tuple[str, str], list[str]]:
    """(return kind, column) -> the labels of the figures that need it (needs.csv)."""
    fed: dict[tuple[str, str], list[str]] = {}
    for key, need in coverage.NEEDS.items():
        for slot in need.columns:
            for column in slot:
                fed.setdefault((need.kind, column), []).append(sources.reader_label(key))
    return fed


def render() -> str:
    fed = figures_fed()
    lines = ["# 各类报表的列", "",
             "本页由 `make docs` 按 `pipeline/schemas.py`（各类报表的列）和 `pipeline/indicators/needs.csv`"
             "（每个数字需要哪些列）生成，请勿手改。",
             "报表类型按表头识别，文件名随意；表头的写法可以不同（见 [returns.md](returns.md)），"
             "下表是每一列的标准名称。缺少“必填”列的报表不能采用；缺少“可选”列时，"
             "只有用到该列的数字无法计算或只据部分报表计算，报告中写明。", ""]
    for kind in schemas.RETURN_KINDS.values():
        lines += [f"## {kind.label}", "", "| 列 | 必填 | 可填的值 | 用于报告中的数字 |", "|---|---|---|---|"]
        for column in kind.columns:
            names = list(dict.fromkeys(fed.get((kind.name, column.name), [])))
            shown = "、".join(names[:SHOWN_FIGURES]) + (f"等{len(names)}个数字" if len(names) > SHOWN_FIGURES else "")
            lines.append(f"| {column.label} | {'必填' if column.required else '可选'} | {accepted(column)} "
                         f"| {shown or '—'} |")
        lines.append("")
    return "\n".join(lines)


def main(path: Path = DOC) -> Path:
    Path(path).write_text(render(), encoding="utf-8")
    return Path(path)


if __name__ == "__main__":
    main()
