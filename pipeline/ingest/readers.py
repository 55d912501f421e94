"""Reading returns: files in a round folder to grids of cell values.

Excel workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods, WPS's .et, Apple's .numbers) are read by a
chain of readers (sniff.py says what a file really is first; a password-protected
workbook, or another program's file, is refused for that reason):

1. calamine, a fast Rust reader of the modern and the legacy formats;
2. on a failure it cannot explain, the library made for the format: xlrd for
   the legacy .xls (BIFF2 to BIFF8), openpyxl for xlsx and xlsm (fallback.py);
3. then LibreOffice, where installed: the file is converted to .xlsx, headless,
   in a temporary folder, with a time and a memory limit, and the copy is read.

Which reader read a file is kept on its sheets (Sheet.reader) for the ledger and
表头对照. The formatting pass (formatting.py: hidden rows, percent and error cells)
that fails costs only those facts (Sheet.unchecked), never the values.

csv files are decoded as UTF-8 or GB18030, the encoding Excel uses on
Chinese Windows. What web systems export as ".xls" is often an HTML table or
tab-separated text: both are recognised by their content and read as such.
Every grid keeps the sheet's own geometry: rows[i] is Excel row i + 1, so
messages can name the row the unit sees. Raw files are only ever opened for
reading.

One file can never stop a round:

- the grid is bounded by the cells that hold something, never by the sheet's
  stated dimension, and a sheet whose filled cells span more than
  MAX_GRID_CELLS is refused with a message naming the far cell;
- each file is read in a forked worker process whose address space is
  limited (READ_MEMORY_BUDGET beyond what the reading process already uses),
  so even a file that exhausts memory ends as a ReadError naming the file.
  The exception: an xlsx of a megabyte or more whose cell references show
  that every sheet fits is read in this process, sparing the copy of a large
  result back from the worker.
"""
from __future__ import annotations

import csv
import functools
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from pipeline import workers
from pipeline.ingest import fallback, formatting, narrative, sniff
from pipeline.ingest.formatting import SheetFacts
from pipeline.ingest.sheets import FAST_READER, MAX_GRID_CELLS, ReadError, Sheet, cell_name, too_big
from pipeline.ingest.sniff import MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES

__all__ = ["FAST_READER", "MAX_COMPRESSION_RATIO", "MAX_GRID_CELLS", "MAX_UNCOMPRESSED_BYTES", "ReadError", "Sheet",
           "cell_name", "list_round_files", "read_return"]

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".et", ".numbers"}
CSV_SUFFIXES = {".csv", ".tsv"}
RETURN_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES | narrative.NARRATIVE_SUFFIXES  # Word: 典型做法 (narrative.py)
# Files that belong to the round folder itself, not returns.
ROUND_FILES = {"round.yml", "readme.txt", "readme.md", "planted_mistakes.json", ".gitkeep", "corrections.csv"}
# A return is a table of at most a few thousand rows; anything far bigger is
# refused before it is parsed.
MAX_FILE_BYTES = 50 * 1024 * 1024
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# Address space a worker may use beyond what the reading process had when it forked, plus
# READ_MEMORY_PER_BYTE for every byte of the file (its decompressed XML is read whole).
READ_MEMORY_BUDGET = 512 * 1024 * 1024
READ_MEMORY_PER_BYTE = 12
# Files at least this large are read in this process when their xlsx cell references show that they fit
# (see _facts_if_known_to_fit); smaller ones, and all others, in the memory-limited worker.
IN_PROCESS_ABOVE_BYTES = 1024 * 1024
# A csv cell may be as long as the file itself (the csv module stops at 131,072 characters by default).
csv.field_size_limit(MAX_FILE_BYTES)


class _ReaderCrashed(ReadError):
    """The reading worker died of a crash signal (a fault in a compiled reader)."""

    def __init__(self):
        super().__init__("读取该文件时读取程序意外退出，文件可能已损坏", fallback.RESAVE)

    def __reduce__(self):
        return _ReaderCrashed, ()


class _NeedsConversion(Exception):
    """Raised in the reading worker: no reader of this process could read the file; LibreOffice may."""


@dataclass
class RoundFiles:
    """The files below a round folder, sorted, by what is done with them.

    returns: read as returns (a symlink pointing outside the round folder is among
        them too: read_return refuses it with a ReadError, so it is reported per file).
    other: neither returns nor the round's own files (reported as "not a table").
    lock_files: editor lock files (Excel/WPS "~$x.xlsx", LibreOffice ".~lock.x.xlsx#"), left by a file open
        while it was copied, and the desktop's leftovers (Thumbs.db, desktop.ini): skipped, noted for the
        analyst only, never an error.
    outside_links: the symlinks among `returns` that point outside the round folder.
    """

    returns: list[Path]
    other: list[Path]
    lock_files: list[Path] = field(default_factory=list)
    outside_links: list[Path] = field(default_factory=list)


def is_lock_file(name: str) -> bool:
    """Excel's and WPS's "~$x.xlsx", LibreOffice's ".~lock.x.xlsx#"."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


# Files the desktop leaves in any folder (Windows' thumbnail cache and folder settings, macOS's folder settings).
DESK_LEFTOVERS = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"})


def is_desk_leftover(name: str) -> bool:
    """A lock file or a file the desktop leaves in folders: the analyst's desk, not a unit's return."""
    return is_lock_file(name) or name.lower() in DESK_LEFTOVERS


def list_round_files(raw_dir: Path) -> RoundFiles:
    """All files below the round folder, sorted, split into returns, others and lock files.

    Names starting with "." are read like any other; symlinks are not followed out of the
    round folder (folders never, files only when they point inside it).
    """
    raw_dir = Path(raw_dir)
    inside = raw_dir.resolve()
    files = RoundFiles(returns=[], other=[])
    for path in sorted(_walk(raw_dir)):
        name = path.name
        if path.parent == raw_dir and name.lower() in ROUND_FILES:
            continue
        if is_desk_leftover(name):
            files.lock_files.append(path)
        elif path.is_symlink() and not _points_inside(path, inside):
            files.returns.append(path)
            files.outside_links.append(path)
        elif path.is_symlink() and path.is_dir():
            continue  # a folder of the round linked into it again: its files are read where they are
        elif path.is_file() and path.suffix.lower() in RETURN_SUFFIXES:
            files.returns.append(path)
        elif path.is_file():
            files.other.append(path)
    return files


def _walk(raw_dir: Path):
    """Files and symlinks below raw_dir, never descending into a symlinked folder."""
    for folder, dirs, names in os.walk(raw_dir, followlinks=False):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            yield Path(folder) / name


def _points_inside(path: Path, inside: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop
        return False
    return target.is_relative_to(inside)


def read_return(path: Path, rel: str, *, isolate: bool = True) -> list[Sheet]:
    """Read every sheet of a return file; raise ReadError for a file that cannot be read.

    isolate: read in a forked worker with a memory limit (see the module docstring), where
    the platform can fork; otherwise in this process.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ReadError(f"这是一个失效的链接（指向的 {os.readlink(path)} 不存在），未读取",
                        "请把报表文件本身复制到轮次文件夹中")
    if path.is_symlink() and not _link_inside_round(path, rel):
        raise ReadError(f"这是指向轮次文件夹之外的链接（→ {os.readlink(path)}），未读取",
                        "请把报表文件本身复制到轮次文件夹中，不要放快捷方式或链接")
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
    try:
        return _read_chain(path, rel, isolate, size)
    except sniff.LegacyEncrypted:
        if fallback.find_soffice() is None:
            raise
    try:  # perhaps Excel's default password only (see LegacyEncrypted): LibreOffice opens those
        return _read_converted(path, rel, isolate)
    except ReadError:
        raise sniff.encrypted() from None


def _read_chain(path: Path, rel: str, isolate: bool, size: int) -> list[Sheet]:
    """calamine, then the format's own library, then LibreOffice; a crash of the fast reader costs only its turn."""
    try:
        try:
            return _read_measured(path, rel, isolate, size)
        except _ReaderCrashed:
            return _read_measured(path, rel, isolate, size, fast=False)
    except _NeedsConversion:
        return _read_converted(path, rel, isolate)


def _read_measured(path: Path, rel: str, isolate: bool, size: int | None = None, fast: bool = True) -> list[Sheet]:
    """_read_any in the memory-limited worker, or in this process (see the module docstring)."""
    size = path.stat().st_size if size is None else size
    read = _read_any if fast else functools.partial(_read_any, fast=False)
    if isolate:
        facts = _facts_if_known_to_fit(path, size) if fast else None
        if facts is None:
            return _in_worker(read, path, rel, READ_MEMORY_BUDGET + READ_MEMORY_PER_BYTE * size)
        return _read_any(path, rel, facts)
    return read(path, rel)


def _facts_if_known_to_fit(path: Path, size: int) -> dict[str, SheetFacts] | None:
    """A large xlsx whose cells (by their references, whatever the stated dimension) all lie within
    MAX_GRID_CELLS is read in this process, sparing the copy of a big result from the worker (a third of
    the reading time for 100,000 rows): its facts, read here; None for every other file, which the
    worker reads. Small files are always read in the worker: that costs about 10 ms."""
    if size < IN_PROCESS_ABOVE_BYTES:
        return None
    with open(path, "rb") as fh:
        if fh.read(2) != b"PK":
            return None
    try:
        sniff.refuse_impostor(path, b"PK")  # a zip bomb is refused before anything is expanded
    except ReadError:
        return None  # the worker says so
    facts = formatting.xlsx_facts(path)
    return facts if facts and all(fact.span <= MAX_GRID_CELLS for fact in facts.values()) else None


def _link_inside_round(path: Path, rel: str) -> bool:
    """A symlink in a subfolder may point anywhere inside the round folder (rel's depth says where that is)."""
    root = path.parent
    for _ in range(rel.count("/")):
        root = root.parent
    return _points_inside(path, root.resolve())


def _read_any(path: Path, rel: str, facts: dict[str, SheetFacts] | None = None, fast: bool = True) -> list[Sheet]:
    """The reading proper: by the file's content first, its suffix second (facts: the xlsx's, if read already;
    fast: False when the fast reader crashed on the file). Raises _NeedsConversion when only LibreOffice may read
    the file."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if path.suffix.lower() in CSV_SUFFIXES:
        return [Sheet(file=rel, name=path.stem, rows=_read_csv(path))]
    if path.suffix.lower() in narrative.NARRATIVE_SUFFIXES:
        return narrative.read_narrative(path, rel)
    sniff.refuse_impostor(path, head)
    if not head.startswith((b"PK", sniff.CFB_MAGIC)) and not sniff.is_biff_stream(head):
        sheets = _read_text_disguised_as_excel(path, rel, head)
        if sheets is not None:
            return sheets
    kind = sniff.kind(path, head)
    if facts is None and kind == sniff.OOXML:
        facts = formatting.xlsx_facts(path)
    elif facts is None and kind == sniff.ODS:
        facts = formatting.ods_facts(path)
    if not fast:
        return _read_by_format(path, rel, kind)
    data = path.read_bytes() if kind == sniff.BIFF else None  # an .xls is read once, for its values and its facts
    try:
        sheets = _read_excel(path, rel, facts or {}, data)
    except _Unexplained:
        return _read_by_format(path, rel, kind)
    if kind == sniff.BIFF:  # only once calamine has shown that the grids are of a sane size
        facts = formatting.xls_facts(path, data)
    elif kind not in (sniff.OOXML, sniff.ODS):
        facts = {}  # xlsb: no formatting pass (see Sheet)
    _apply_facts(sheets, facts)
    return sheets


def _apply_facts(sheets: list[Sheet], facts: dict[str, SheetFacts] | None) -> None:
    """The formatting pass's facts onto the sheets calamine read; when the pass failed, what was not checked."""
    for sheet in sheets:
        if facts is None:
            sheet.unchecked = formatting.CHECKED_FACTS
            continue
        fact = facts.get(sheet.name)
        if fact:
            sheet.hidden_rows, sheet.formulas_without_value = fact.hidden_rows, fact.formulas_without_value
            sheet.percent_cells, sheet.error_cells = fact.percent_cells, fact.error_cells
            sheet.hidden_cols = fact.hidden_cols
            for r, c in fact.error_cells:
                if r < len(sheet.rows) and c < len(sheet.rows[r]):
                    sheet.rows[r][c] = None


_WPS = ("这是 WPS 表格（.et）文件，无法直接读取",
        "请另存为 .xlsx（在 WPS 中选“文件→另存为”，文件类型选“Excel 工作簿（*.xlsx）”）后重新发送")


def _read_by_format(path: Path, rel: str, kind: str | None) -> list[Sheet]:
    """What calamine could not read: the library of its format, else LibreOffice (_NeedsConversion), else a
    refusal that says what the file is."""
    library = {sniff.BIFF: fallback.read_xls, sniff.OOXML: fallback.read_ooxml}.get(kind)
    if library is not None:
        try:
            return library(path, rel)
        except (ReadError, MemoryError):
            raise
        except Exception:  # noqa: BLE001 - the next reader of the chain tries
            pass
    if path.suffix.lower() == ".et":
        raise ReadError(*_WPS)
    if kind is None:
        raise fallback.corrupt()
    raise _NeedsConversion(kind)


def _read_converted(path: Path, rel: str, isolate: bool) -> list[Sheet]:
    """The file converted to .xlsx by LibreOffice in a temporary folder, read as any return; the raw file untouched."""
    with fallback.temporary_folder() as folder:
        converted = fallback.convert_with_libreoffice(path, Path(folder))
        try:
            sheets = _read_measured(converted, rel, isolate)
        except _NeedsConversion:
            raise fallback.corrupt() from None
    for sheet in sheets:
        sheet.reader = "libreoffice" if sheet.reader == FAST_READER else sheet.reader
    return sheets


# --------------------------------------------------------------------------- the worker


def _in_worker(function, path: Path, rel: str, budget: int) -> list[Sheet]:
    """function(path, rel) in a forked child whose address space is limited to budget bytes beyond
    this process's; its result (or its ReadError) comes back pickled through a pipe."""
    outcome, = workers.run_forked(function, [(path, rel)], budget=budget, quiet=True)
    if outcome.crashed:
        raise _ReaderCrashed()
    if outcome.memory:
        raise ReadError(
            f"读取该文件所需的内存超过上限（约 {budget / 1024 / 1024:,.0f} MB），已停止读取",
            "文件中可能有远离表格的单元格或大量空白行列："
            "请删除表格之外的行列（全选后右键“删除”）后另存为 .xlsx 重新发送",
        )
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


class _Unexplained(Exception):
    """calamine failed for a reason it does not name: the next reader of the chain tries."""


def _read_excel(path: Path, rel: str, facts: dict[str, SheetFacts], data: bytes | None = None) -> list[Sheet]:
    """Every worksheet with calamine (the fast reader); _Unexplained when it cannot read the file.
    data: the file's bytes, when they are read already."""
    try:
        with io.BytesIO(data) if data is not None else open(path, "rb") as fh:  # raw files are never written
            book = python_calamine.CalamineWorkbook.from_filelike(fh)
            sheets = []
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                fact = facts.get(meta.name)
                if fact and fact.too_far:  # checked before calamine builds the grid
                    raise too_big(meta.name, fact.too_far, fact.grid_cells)
                sheet = book.get_sheet_by_name(meta.name)
                if sheet.height * sheet.width > MAX_GRID_CELLS:  # xls, ods: bounded by the worker's memory limit
                    end = sheet.end or (sheet.height - 1, sheet.width - 1)
                    raise too_big(meta.name, cell_name(*end), sheet.height * sheet.width)
                sheets.append(Sheet(
                    file=rel,
                    name=meta.name,
                    rows=sheet.to_python(skip_empty_area=False),
                    hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
                    merged=list(sheet.merged_cell_ranges or []),
                ))
            return sheets
    except (ReadError, MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except python_calamine.PasswordError:
        raise sniff.encrypted() from None
    except BaseException:  # noqa: BLE001 - a parser error, or a panic in the Rust reader: the chain goes on
        raise _Unexplained() from None


# --------------------------------------------------------------------------- text saved as .xls

_HTML_START = (b"<!doctype html", b"<html", b"<table", b"<head", b"<body", b"<meta", b"<style", b"<!--")
_XML_SPREADSHEET = b"urn:schemas-microsoft-com:office:spreadsheet"


def _read_text_disguised_as_excel(path: Path, rel: str, head: bytes) -> list[Sheet] | None:
    """What web systems export as ".xls": an HTML table, or tab-separated text (also Excel's
    "Unicode text", UTF-16). Read as such; None when the file is not text at all."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"mime-version"):
        raise ReadError("这是网页存档（MHT）文件，只是扩展名为 Excel", "请用 Excel 打开后“另存为” .xlsx 重新发送")
    if start.startswith(b"<?xml") and _XML_SPREADSHEET in head and b"<html" not in start:
        raise ReadError("这是 Excel 2003 XML 表格，只是扩展名为 .xls", "请用 Excel 打开后“另存为” .xlsx 重新发送")
    if start.startswith(_HTML_START) or (start.startswith(b"<?xml") and b"<html" in start):
        return _read_html(path, rel)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\0" not in head and (b"\t" in head or b"," in head)):
        try:
            return [Sheet(file=rel, name=path.stem, rows=_read_csv(path))]
        except ReadError:
            return None
    return None


def _read_html(path: Path, rel: str) -> list[Sheet]:
    from bs4 import BeautifulSoup  # only for the rare HTML return

    soup = BeautifulSoup(_decode_text(path.read_bytes(), html=True), "html.parser")
    tables = [t for t in soup.find_all("table") if t.find_parent("table") is None]
    sheets = []
    for number, table in enumerate(tables, 1):
        rows, merged = _html_grid(table)
        if rows:
            name = path.stem if len(tables) == 1 else f"{path.stem}（表{number}）"
            sheets.append(Sheet(file=rel, name=name, rows=rows, merged=merged))
    if not sheets:
        raise ReadError("这是网页（HTML）文件，只是扩展名为 .xls，其中没有表格",
                        "请从系统中重新导出为 Excel（.xlsx）后发送")
    return sheets


def _html_grid(table) -> tuple[list[list[Any]], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """An HTML table as a grid, colspan/rowspan as merged ranges (value in the top-left cell, as Excel has it)."""
    grid: dict[tuple[int, int], str] = {}
    taken: set[tuple[int, int]] = set()
    merged = []
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in taken:
                c += 1
            span_r, span_c = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            text = cell.get_text("\n", strip=True)
            grid[(r, c)] = text if text else None
            for dr in range(span_r):
                for dc in range(span_c):
                    taken.add((r + dr, c + dc))
            if span_r > 1 or span_c > 1:
                merged.append(((r, c), (r + span_r - 1, c + span_c - 1)))
            c += span_c
    if not taken:
        return [], []
    height = max(r for r, _ in taken) + 1
    width = max(c for _, c in taken) + 1
    if height * width > MAX_GRID_CELLS:
        raise ReadError(f"网页表格过大（{height:,}行×{width:,}列）", "请从系统中重新导出为 Excel（.xlsx）后发送")
    return [[grid.get((r, c)) for c in range(width)] for r in range(height)], merged


def _span(value) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000))
    except (TypeError, ValueError):
        return 1


def _decode_text(data: bytes, html: bool = False) -> str:
    """Text as UTF-16 (with a byte order mark), the charset an HTML file declares, UTF-8 or GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    encodings = list(CSV_ENCODINGS)
    declared = re.search(rb'charset=["\']?([A-Za-z0-9_-]+)', data[:4096]) if html else None
    if declared:
        name = declared.group(1).decode().lower()
        encodings.insert(0, "gb18030" if name in {"gb2312", "gbk", "gb18030"} else name)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError("文件的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）",
                    "请用 Excel 打开后另存为 .xlsx 重新发送")


def _read_csv(path: Path) -> list[list[Any]]:
    try:
        text = _decode_text(path.read_bytes())
    except ReadError:
        raise ReadError("CSV 文件的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）",
                        "请用 Excel 打开后另存为 .xlsx 重新发送") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
