"""Reading returns: files in a round folder to grids of cell values.

Excel workbooks (.xlsx, .xlsm, .xls, .ods) are read with calamine (a fast Rust
reader that handles both the modern and the legacy format); csv files are
decoded as UTF-8 or GB18030, the encoding Excel uses on Chinese Windows.
Every grid keeps the sheet's own geometry: rows[i] is Excel row i + 1, so
messages can name the row the unit sees. Raw files are only ever opened for
reading.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv"}
RETURN_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES
# Files that belong to the round folder itself, not returns.
ROUND_FILES = {"round.yml", "readme.txt", "readme.md", "planted_mistakes.json", ".gitkeep"}
# A return is a table of at most a few thousand rows; anything far bigger is
# refused before it is parsed.
MAX_FILE_BYTES = 50 * 1024 * 1024
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class ReadError(Exception):
    """A file that cannot be read as a return; the message says why and what to do, in Chinese."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}。{fix}")
        self.problem = problem
        self.fix = fix


@dataclass
class Sheet:
    """One sheet of one return file, as a grid of raw cell values."""

    file: str  # path relative to the round folder, with forward slashes
    name: str
    rows: list[list[Any]]
    hidden: bool = False
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class RoundFiles:
    returns: list[Path]
    other: list[Path]  # files that are neither returns nor the round's own files


def list_round_files(raw_dir: Path) -> RoundFiles:
    """All files below the round folder, sorted, split into returns and others.

    Excel's lock files (~$name.xlsx) and hidden files are 'other': they are
    reported, not read.
    """
    returns, other = [], []
    for path in sorted(p for p in Path(raw_dir).rglob("*") if p.is_file()):
        name = path.name
        if path.parent == Path(raw_dir) and name.lower() in ROUND_FILES:
            continue
        if path.suffix.lower() in RETURN_SUFFIXES and not name.startswith(("~$", ".")):
            returns.append(path)
        else:
            other.append(path)
    return RoundFiles(returns=returns, other=other)


def read_return(path: Path, rel: str) -> list[Sheet]:
    """Read every sheet of a return file; raise ReadError for a file that cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ReadError("文件无法打开", "请检查文件是否存在、是否有读取权限") from None
    if size == 0:
        raise ReadError("文件是空的（0字节）", "请重新导出或重新发送该文件")
    if size > MAX_FILE_BYTES:
        raise ReadError(
            f"文件过大（{size / 1024 / 1024:.0f} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB）",
            "请删除无关的工作表、图片后重新保存，或拆分为多个文件",
        )
    if path.suffix.lower() in CSV_SUFFIXES:
        return [Sheet(file=rel, name=path.stem, rows=_read_csv(path))]
    return _read_excel(path, rel)


def _read_excel(path: Path, rel: str) -> list[Sheet]:
    try:
        with open(path, "rb") as fh:  # read-only handle: raw files are never written
            book = python_calamine.CalamineWorkbook.from_filelike(fh)
            sheets = []
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                sheets.append(Sheet(
                    file=rel,
                    name=meta.name,
                    rows=sheet.to_python(skip_empty_area=False),
                    hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
                    merged=list(sheet.merged_cell_ranges or []),
                ))
            return sheets
    except python_calamine.PasswordError:
        raise ReadError("文件设置了打开密码，无法读取", "请取消密码保护后重新发送") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's problem, reported per file
        raise ReadError(
            f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）",
            "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送",
        ) from None


def _read_csv(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadError("CSV 文件的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）", "请用 Excel 打开后另存为 .xlsx 重新发送")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
