"""What reading a return gives: its sheets as grids of cell values, or a ReadError saying why not.

Shared by the readers of every format (readers.py, fallback.py), so that each reader of the chain gives the
same Sheet, whichever library read the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The reader holds a sheet as a full grid (about 40 bytes a cell): refuse a sheet whose filled
# cells span more than this (5 million cells, about 200 MB), naming the cell that is too far out.
MAX_GRID_CELLS = 5_000_000

# Which reader read a file (Sheet.reader), as the ledger and 表头对照 name it. The fast reader is the rule and is
# not named; the others are, with why they were needed.
FAST_READER = "calamine"
READER_LABELS = {
    "xlrd": "旧版 Excel 读取程序（xlrd）",
    "openpyxl": "Excel 读取程序（openpyxl）",
    "libreoffice": "LibreOffice 转换为 .xlsx 后读取",
}


class ReadError(Exception):
    """A file that cannot be read as a return; the message says why and what to do, in Chinese."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}。{fix}")
        self.problem = problem
        self.fix = fix

    def __reduce__(self):  # from a worker process, whole
        return ReadError, (self.problem, self.fix)


@dataclass
class Sheet:
    """One sheet of one return file, as a grid of raw cell values.

    rows: rows[i][j] is the value of Excel row i + 1, column j + 1 (None or "" when empty).
    merged: merged ranges as ((first_row, first_col), (last_row, last_col)), 0-based.
    hidden_rows: 0-based rows hidden in Excel (xlsx only).
    formulas_without_value: 0-based (row, col) of formulas saved without a computed value (xlsx only).
    percent_cells: 0-based (row, col) of cells whose number format is a percentage (Excel
        shows 0.085 as 8.5%; the grid holds 0.085). From the xlsx styles (built-in formats 9
        and 10, or a custom format with an unquoted %), for xls and .et the cell's format
        as xlrd reads it (numbers only), for ods the cell's value type (content.xml); empty for
        csv and HTML (their cells hold the text as shown, “8.5%” included) and for xlsb (see feedback).
    error_cells: 0-based (row, col) -> the Excel error the cell holds ("#DIV/0!", "#N/A",
        "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"), typed in or a formula's result.
        The grid value of such a cell is None. From the xlsx sheet XML, or xlrd for xls and .et
        (calamine reads errors as empty), or ods's content.xml; empty for xlsb, csv and HTML.
    hidden_cols: 0-based columns hidden in Excel (the xlsx's <cols>, or xlrd's column info for xls).
    reader: the reader that read the file (the fast one, or a fallback of the chain, see fallback.py).
    unchecked: what the formatting pass could not read (its values were read all the same).
    """

    file: str  # path relative to the round folder, with forward slashes
    name: str
    rows: list[list[Any]]
    hidden: bool = False
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)  # 0-based
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # 0-based (row, col) -> "#DIV/0!"
    hidden_cols: set[int] = field(default_factory=set)  # 0-based columns hidden in Excel (xlsx, xls)
    reader: str = FAST_READER  # which reader read the file: FAST_READER, or a key of READER_LABELS
    unchecked: str = ""  # the formatting facts that could not be read, e.g. “百分比格式、错误值”; "" when all were


def too_big(sheet: str, cell: str, cells: int) -> ReadError:
    return ReadError(
        f"工作表“{sheet}”中的单元格 {cell} 远离表格，"
        f"使该表的范围达到 {cells:,} 个单元格（上限 {MAX_GRID_CELLS:,} 个），未读取",
        f"请删除表格之外多余的行列（或清除单元格 {cell} 的内容）后重新保存发送",
    )


def cell_name(row: int, col: int) -> str:
    """0-based (row, col) as Excel names it: (4999, 16383) -> XFD5000."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"
