"""The report tables, declared once, as data: ``tables.csv`` and ``table_columns.csv`` beside this module.

``tables.csv`` has one row per table: its name, the step that makes it (2: step 2 computes it and saves it as
``data/processed/<round>/<name>.parquet``; 4: step 4 makes it from the cleaning records for the report), its
Chinese label (the table's title), a description (Chinese, for docs/indicators.md), and, for a table the report
shows, where its numbers come from — the formula in words, the sheet of 数字来源.xlsx that lists its rows
(grouped by the sheet's column ``by``, whose value is the table's column ``by_field``) or the origin when no rows
are listed, and ``cell_key``, the per-cell entry some cells have (sources.TABLE_SOURCES is built from these).

``table_columns.csv`` has one row per column: its name, dtype (``string``, ``int64``, ``Int64``, ``float64``,
``bool``, ``boolean``, ``datetime64``), Chinese label (the report's table header and the notebook's), display kind
(``count`` integer, ``yi`` 亿元, ``wan`` 万元, ``mu`` 亩, ``pct`` percentage, ``pp`` points, ``number``, ``short``
one-line words, ``text``, ``date``, ``flag`` 是/否), its place in the report's table (``shown``: 1, 2, …; empty when
the report does not show it), ``added_by_report`` (a column step 4 adds to the saved table before showing it, e.g.
by_unit's 数据情况), and for a numeric column of a table with a source entry its formula, how the listed rows give it
(``how``: rows / yes / sum_yi) and the sheet column it is read from. The columns of a table are listed in the order
their formulas are listed in 数字来源.

The declaration is the single source: the report's table headers (report.render.TABLES), the notebook's Chinese
headers (``labelled``), 数字来源's table entries (sources.TABLE_SOURCES) and docs/indicators.md's table list
(``make docs``) are derived from it, and each saved table is checked against it when saved and when loaded
(``check``: the columns, and each column's dtype — a column with no value passes any dtype, a count with a gap
may be a float of whole numbers; on saving, ``typed``
first gives a number column pandas left as objects its own dtype when every value is a number).

Adding a table: add its row to tables.csv and its columns to table_columns.csv, compute it in step 2 (or step 4),
run ``make docs``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.generated_docs import with_block

HERE = Path(__file__).parent
TABLES_FILE, COLUMNS_FILE = HERE / "tables.csv", HERE / "table_columns.csv"
DOCS_BEGIN = "<!-- 以下由 make docs 根据 pipeline/indicators/tables.csv 和 table_columns.csv 生成，请勿手改 -->"
DOCS_END = "<!-- 表的生成内容结束 -->"

SAVED_STEP, REPORT_STEP = 2, 4
DTYPES = {"string": "文字", "int64": "整数", "Int64": "整数（可为空）", "float64": "数值", "bool": "是/否",
          "boolean": "是/否（可为空）", "datetime64": "日期"}
KINDS = {"count": "个数", "yi": "亿元", "wan": "万元", "mu": "亩", "pct": "百分比", "pp": "百分点", "number": "数值",
         "short": "短文字", "text": "文字", "date": "日期", "flag": "是/否"}
HOWS = ("", "rows", "yes", "sum_yi")
ADDED = "（第4步加入）"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    label: str
    kind: str
    shown: int | None = None  # its place in the report's table; None: not shown
    added_by_report: bool = False
    formula: str = ""
    how: str = ""
    sheet_column: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    step: int
    label: str
    columns: tuple[Column, ...]
    description: str = ""
    formula: str = ""
    sheet: str = ""
    by: str = ""
    by_field: str = ""
    origin: str = ""
    cell_key: str = ""

    @property
    def saved(self) -> bool:
        """Step 2 saves it as data/processed/<round>/<name>.parquet."""
        return self.step == SAVED_STEP

    @property
    def stored(self) -> tuple[Column, ...]:
        """The columns of the table as made (without those step 4 adds before showing it)."""
        return tuple(c for c in self.columns if not c.added_by_report)

    @property
    def shown(self) -> tuple[Column, ...]:
        """The columns the report shows, in the report's order."""
        return tuple(sorted((c for c in self.columns if c.shown), key=lambda c: c.shown))

    @property
    def labels(self) -> dict[str, str]:
        return {c.name: c.label for c in self.columns}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _columns(path: Path) -> dict[str, list[Column]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, list[Column]] = {}
    for row in rows:
        where = f"{path.name}: {row['table']}.{row['column']}"
        if row["dtype"] not in DTYPES or row["kind"] not in KINDS or row["how"] not in HOWS or not row["label"]:
            raise ValueError(f"{where}: dtype, kind, how or label not as declared in tables.py")
        if any(c.name == row["column"] for c in out.get(row["table"], [])):
            raise ValueError(f"{where}: the column is declared twice")
        out.setdefault(row["table"], []).append(Column(
            row["column"], row["dtype"], row["label"], row["kind"], int(row["shown"]) if row["shown"] else None,
            row["added_by_report"] == "yes", row["formula"], row["how"], row["sheet_column"]))
    return out


def load(tables: Path = TABLES_FILE, columns: Path = COLUMNS_FILE) -> dict[str, Table]:
    """Every declared table, in the file's order, with its columns."""
    by_table = _columns(columns)
    with open(tables, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for row in rows:
        name = row["table"]
        if name in out or name not in by_table:
            raise ValueError(f"{tables.name}: table {name!r} is declared twice or has no columns in {columns.name}")
        out[name] = Table(name, int(row["step"]), row["label"], tuple(by_table.pop(name)), row["description"],
                          row["formula"],
                          row["sheet"], row["by"], row["by_field"], row["origin"], row["cell_key"])
    if by_table:
        raise ValueError(f"{columns.name}: columns of undeclared tables {sorted(by_table)}")
    return out


DECLARED: dict[str, Table] = load()
SAVED: tuple[str, ...] = tuple(n for n, t in DECLARED.items() if t.saved)  # what step 2 writes and step 4 reads


# =========================================================================== checked when saved and when loaded


class TableError(ValueError):
    """A table that is not as declared; the message (Chinese) names the table and the column."""


def _dtype_fits(declared: str, series: pd.Series) -> bool:
    """Whether the column holds what its declared dtype says. Pandas' own ways are allowed: a count with a gap is a
    float of whole numbers (NaN has no int64), a number may be stored as an integer, a yes/no as a nullable boolean."""
    dtype = series.dtype
    if series.isna().all():  # nothing in it (an empty table, a column nobody filled): any dtype holds no value
        return True
    if declared == "string":
        return pd.api.types.is_string_dtype(dtype)
    if declared in ("int64", "Int64"):
        if pd.api.types.is_float_dtype(dtype):
            values = series.dropna()
            return bool((values == values.round()).all())
        return pd.api.types.is_integer_dtype(dtype)
    if declared == "float64":
        return pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    if declared in ("bool", "boolean"):
        return pd.api.types.is_bool_dtype(dtype)
    if pd.api.types.is_object_dtype(dtype):  # dates pandas kept as Python dates
        return pd.api.types.infer_dtype(series, skipna=True) in ("date", "datetime", "datetime64")
    return pd.api.types.is_datetime64_any_dtype(dtype)


def problems(name: str, frame: pd.DataFrame) -> list[str]:
    """What in the frame differs from the declaration of table `name` (Chinese, one line each); [] when it fits."""
    table = DECLARED[name]
    declared = {c.name: c for c in table.stored}
    out = []
    missing = [c for c in declared if c not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in declared]
    if missing:
        out.append("缺少列：" + "、".join(f"{c}（{declared[c].label}）" for c in missing))
    if extra:
        out.append("多出未声明的列：" + "、".join(extra))
    for column in declared.values():
        if column.name in frame.columns and not _dtype_fits(column.dtype, frame[column.name]):
            out.append(f"列 {column.name}（{column.label}）应为{DTYPES[column.dtype]}（{column.dtype}），"
                       f"实际为 {frame[column.name].dtype}")
    return out


def typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each declared number or yes/no column that pandas left as objects (a table concatenated with an
    empty one: 0 key projects) given its own dtype, when every value already is one; then checked (``check``)."""
    table = DECLARED[name] if name in DECLARED else None
    numeric = {c.name for c in table.stored if c.dtype not in ("string", "datetime64")} if table else set()
    loose = [c for c in frame.columns if c in numeric and frame[c].dtype == object]
    out = frame.assign(**{c: frame[c].infer_objects() for c in loose}) if loose else frame
    return check(name, out, "保存")


def check(name: str, frame: pd.DataFrame, when: str = "保存") -> pd.DataFrame:
    """The frame, when it is as table `name` is declared; else a TableError naming the table and the columns."""
    if name not in DECLARED:
        raise TableError(f"表 {name} 未在 pipeline/indicators/tables.csv 中声明，不能{when}。")
    found = problems(name, frame)
    if found:
        table = DECLARED[name]
        raise TableError(f"报告用表“{table.label}”（{name}）{when}时与 pipeline/indicators/table_columns.csv "
                         f"的声明不符：" + "；".join(found) + "。")
    return frame


# =========================================================================== labels and docs


def labelled(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table with its declared Chinese column headers, for reading in the notebook."""
    return frame.rename(columns=DECLARED[name].labels)


def markdown(tables: dict[str, Table] = DECLARED) -> str:
    """docs/indicators.md's list of tables: one table of columns per declared table."""
    steps = {SAVED_STEP: "第2步计算，保存为 `data/processed/<轮次>/{}.parquet`",
             REPORT_STEP: "第4步由清洗记录生成，只用于报告"}
    parts = []
    for t in tables.values():
        parts += [f"### `{t.name}` {t.label}", "", f"{t.description}。{steps[t.step].format(t.name)}。"
                  + (f"数字来源：{t.formula}。" if t.formula else ""), "",
                  "| 列 | 中文名 | 类型 | 显示为 | 报告中第几列 |", "|---|---|---|---|---|"]
        parts += [f"| `{c.name}` | {c.label.replace('|', '｜')} | {DTYPES[c.dtype]}{ADDED * c.added_by_report} "
                  f"| {KINDS[c.kind]} | {c.shown or ''} |" for c in t.columns]
        parts.append("")
    return "\n".join(parts)


def with_generated(document: str, tables: dict[str, Table] = DECLARED) -> str:
    """The document with its tables block (between DOCS_BEGIN and DOCS_END) replaced by markdown(tables)."""
    return with_block(document, DOCS_BEGIN, DOCS_END, markdown(tables))
