"""Reading returns: files in a round folder to grids of cell values.

Excel workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods, and WPS's .et) are read with
calamine (a fast Rust reader that handles both the modern and the legacy
format); csv files are decoded as UTF-8 or GB18030, the encoding Excel uses on
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
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import python_calamine

from pipeline import workers

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".et"}
CSV_SUFFIXES = {".csv", ".tsv"}
RETURN_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES
# Files that belong to the round folder itself, not returns.
ROUND_FILES = {"round.yml", "readme.txt", "readme.md", "planted_mistakes.json", ".gitkeep", "corrections.csv"}
# A return is a table of at most a few thousand rows; anything far bigger is
# refused before it is parsed.
MAX_FILE_BYTES = 50 * 1024 * 1024
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# An xlsx is a zip: refuse one that would expand past this (a "zip bomb") before parsing it.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# The reader holds a sheet as a full grid (about 40 bytes a cell): refuse a sheet whose filled
# cells span more than this (5 million cells, about 200 MB), naming the cell that is too far out.
MAX_GRID_CELLS = 5_000_000
# Address space a worker may use beyond what the reading process had when it forked, plus
# READ_MEMORY_PER_BYTE for every byte of the file (its decompressed XML is read whole).
READ_MEMORY_BUDGET = 512 * 1024 * 1024
READ_MEMORY_PER_BYTE = 12
# Files at least this large are read in this process when their xlsx cell references show that they fit
# (see _facts_if_known_to_fit); smaller ones, and all others, in the memory-limited worker.
IN_PROCESS_ABOVE_BYTES = 1024 * 1024
# A csv cell may be as long as the file itself (the csv module stops at 131,072 characters by default).
csv.field_size_limit(MAX_FILE_BYTES)

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: legacy .xls/.doc, or an encrypted xlsx
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


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
    if isolate and hasattr(os, "fork"):
        facts = _facts_if_known_to_fit(path, size)
        if facts is None:
            return _in_worker(_read_any, path, rel, READ_MEMORY_BUDGET + READ_MEMORY_PER_BYTE * size)
        return _read_any(path, rel, facts)
    return _read_any(path, rel)


def _facts_if_known_to_fit(path: Path, size: int) -> dict[str, _SheetFacts] | None:
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
        _refuse_impostor(path, b"PK")  # a zip bomb is refused before anything is expanded
    except ReadError:
        return None  # the worker says so
    facts = _xlsx_facts(path)
    return facts if facts and all(fact.span <= MAX_GRID_CELLS for fact in facts.values()) else None


def _cells_span(xml: bytes) -> int:
    """An upper bound of rows x columns of a sheet's grid from its cell references (styled empty cells included).
    Cells come in row order, so the last one has the highest row; the widest column is among the 2- and 3-letter
    ones."""
    last = _LAST_REF.search(xml, max(0, xml.rfind(b'<c r="')))
    rows = int(last.group(2)) if last else 0
    columns = max((_cell_position(letters, b"1")[1] + 1 for letters in set(_WIDE_REF.findall(xml))), default=26)
    return rows * columns


def _link_inside_round(path: Path, rel: str) -> bool:
    """A symlink in a subfolder may point anywhere inside the round folder (rel's depth says where that is)."""
    root = path.parent
    for _ in range(rel.count("/")):
        root = root.parent
    return _points_inside(path, root.resolve())


def _read_any(path: Path, rel: str, facts: dict[str, _SheetFacts] | None = None) -> list[Sheet]:
    """The reading proper: by the file's content first, its suffix second (facts: the xlsx's, if read already)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if path.suffix.lower() in CSV_SUFFIXES:
        return [Sheet(file=rel, name=path.stem, rows=_read_csv(path))]
    _refuse_impostor(path, head[:8])
    if not head.startswith((b"PK", _CFB_MAGIC)):
        sheets = _read_text_disguised_as_excel(path, rel, head)
        if sheets is not None:
            return sheets
    if facts is None:
        facts = _xlsx_facts(path) if head.startswith(b"PK") else {}
    if not facts and head.startswith(b"PK") and path.suffix.lower() == ".ods":
        facts = _ods_facts(path)
    sheets = _read_excel(path, rel, facts)
    if head.startswith(_CFB_MAGIC):  # only once calamine has shown that the grids are of a sane size
        facts = _xls_facts(path)
    for sheet in sheets:
        fact = facts.get(sheet.name)
        if fact:
            sheet.hidden_rows, sheet.formulas_without_value = fact.hidden_rows, fact.formulas_without_value
            sheet.percent_cells, sheet.error_cells = fact.percent_cells, fact.error_cells
            sheet.hidden_cols = fact.hidden_cols
            for r, c in fact.error_cells:
                if r < len(sheet.rows) and c < len(sheet.rows[r]):
                    sheet.rows[r][c] = None
    return sheets


# --------------------------------------------------------------------------- the worker


def _in_worker(function, path: Path, rel: str, budget: int) -> list[Sheet]:
    """function(path, rel) in a forked child whose address space is limited to budget bytes beyond
    this process's; its result (or its ReadError) comes back pickled through a pipe."""
    outcome, = workers.run_forked(function, [(path, rel)], budget=budget, quiet=True)
    if outcome.crashed:
        raise ReadError("读取该文件时读取程序意外退出，文件可能已损坏",
                        "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送")
    if outcome.memory:
        raise ReadError(
            f"读取该文件所需的内存超过上限（约 {budget / 1024 / 1024:,.0f} MB），已停止读取",
            "文件中可能有远离表格的单元格或大量空白行列："
            "请删除表格之外的行列（全选后右键“删除”）后另存为 .xlsx 重新发送",
        )
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


def _refuse_impostor(path: Path, head: bytes) -> None:
    """Name the real kind of a file that only pretends to be a workbook."""
    if head.startswith(b"\x00\x05\x16\x07"):
        raise ReadError("这是 macOS 复制文件时生成的附属文件（文件名以“._”开头），不是报表",
                        "无需处理，可从轮次文件夹中删除")
    if head.startswith(b"%PDF"):
        raise ReadError("这是 PDF 文件，只是扩展名为 Excel", "请发送 Excel 原表，不要发送 PDF 或扫描件")
    if head.startswith(b"{\\rtf"):
        raise ReadError("这是 Word（RTF）文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if head.startswith(_CFB_MAGIC):
        with open(path, "rb") as fh:
            data = fh.read(1024 * 1024)
        if _ENCRYPTED_PACKAGE in data:
            raise ReadError("文件设置了打开密码，无法读取",
                            "请取消密码保护（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新发送")
        if "WordDocument".encode("utf-16-le") in data:
            raise ReadError("这是 Word 文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                infos = archive.infolist()
        except zipfile.BadZipFile:
            raise ReadError("文件已损坏（不完整的 xlsx），无法读取",
                            "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送") from None
        if any(n.startswith("word/") for n in names):
            raise ReadError("这是 Word 文档，只是扩展名为 Excel", "请把数据填入下发的 Excel 模板后发送")
        expanded = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if expanded > MAX_UNCOMPRESSED_BYTES or (expanded > 20 * 1024 * 1024
                                                 and expanded / packed > MAX_COMPRESSION_RATIO):
            raise ReadError(
                f"文件解压后异常庞大（约 {expanded / 1024 / 1024:,.0f} MB），已拒绝读取",
                "请确认文件来源；正常报表请删除多余内容后重新保存发送",
            )


_ROW_TAG = re.compile(rb"<row\b[^>]*>")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_LAST_REF = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"')
_WIDE_REF = re.compile(rb'<c r="([A-Z]{2,3})\d')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>]*?\st="e"[^>]*>(.*?)</c>', re.S)
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]+\d+:)?([A-Z]{1,3})(\d{1,7})"')
_SHEET_ENTRY = re.compile(rb"<sheet\b[^>]*?name=\"([^\"]*)\"[^>]*?r:id=\"([^\"]*)\"")
_REL_ENTRY = re.compile(rb"<Relationship\b[^>]*?>")
_NUM_FMT = re.compile(rb"<numFmt\b[^>]*>")
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b[^>]*>")
PERCENT_BUILTIN_FORMATS = {9, 10}  # 0% and 0.00%
MAX_TABLE_COLUMNS = 702  # A to ZZ: a cell further right is never part of a return's table


@dataclass
class _SheetFacts:
    """What calamine does not report about an xlsx sheet, from its XML."""

    hidden_rows: set[int]
    formulas_without_value: set[tuple[int, int]]
    percent_cells: set[tuple[int, int]]
    error_cells: dict[tuple[int, int], str]
    hidden_cols: set[int]
    too_far: str | None  # the far cell that makes the grid too big, as "XFD5000"; None when it fits
    grid_cells: int  # rows x columns of the filled cells, when too_far is set
    span: int  # an upper bound of the grid's cells from every cell reference (see _cells_span)


def _xlsx_facts(path: Path) -> dict[str, _SheetFacts]:
    """Per sheet: hidden rows, formulas saved without a computed value, percent-formatted cells,
    error cells, and whether the filled cells fit in MAX_GRID_CELLS.

    calamine reports none of these (it reads a formula with no cached value, and an error,
    as empty), so the XML is scanned: <row hidden="1">, <c><f>…</f></c> with no <v>,
    <c s="…"> whose style is a percentage, <c t="e">, and the cell references.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            workbook = archive.read("xl/workbook.xml")
            targets = _workbook_targets(archive.read("xl/_rels/workbook.xml.rels"))
            percent_styles = _percent_styles(archive.read("xl/styles.xml")) if "xl/styles.xml" in names else set()
            facts = {}
            for name, rid in _SHEET_ENTRY.findall(workbook):
                member = targets.get(rid)
                if not member or member not in names:
                    continue
                xml = archive.read(member)
                too_far, grid_cells = _too_far(xml)
                facts[unescape(name.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})] = _SheetFacts(
                    _hidden_rows(xml), _formulas_without_value(xml), _percent_cells(xml, percent_styles),
                    _error_cells(xml), _hidden_cols(xml), too_far, grid_cells, _cells_span(xml))
            return facts
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return {}


# A run of hidden rows longer than this is the empty rest of the sheet, not rows of a table.
ODS_MAX_HIDDEN_RUN = 10_000
_ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"}


def _ods_facts(path: Path) -> dict[str, _SheetFacts]:
    """Per sheet of an OpenDocument spreadsheet (LibreOffice, WPS): hidden rows and columns, percent-valued cells
    and error cells, from content.xml (calamine reports none of these). Empty when it cannot be read."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
            facts, walk = {}, None
            for event, element in etree.iterparse(content, events=("start", "end"), resolve_entities=False,
                                                  no_network=True, huge_tree=False):
                walk = _ods_event(event, element, walk, facts)
            return facts
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, ValueError):
        return {}


def _ods_attr(element, prefix: str, name: str, default=None):
    return element.get(f"{{{_ODS[prefix]}}}{name}", default)


def _ods_event(event: str, element, walk: dict | None, facts: dict[str, _SheetFacts]) -> dict | None:
    """One step of the streaming walk over content.xml: walk holds the current sheet's position and findings."""
    tag = etree_local(element.tag)
    repeat = int(_ods_attr(element, "table",
                           "number-rows-repeated" if tag == "table-row" else "number-columns-repeated", 1))
    if tag == "table" and event == "start":
        return {"name": _ods_attr(element, "table", "name", ""), "row": -1, "col": 0, "cols": 0,
                "hidden_rows": set(), "hidden_cols": set(), "percent": set(), "errors": {}}
    if walk is None:
        return None
    if tag == "table" and event == "end":
        facts[walk["name"]] = _SheetFacts(walk["hidden_rows"], set(), walk["percent"], walk["errors"],
                                          walk["hidden_cols"], None, 0, 0)
        element.clear()
        return None
    if tag == "table-column" and event == "start":
        if _ods_attr(element, "table", "visibility") == "collapse":
            walk["hidden_cols"].update(range(walk["cols"], walk["cols"] + min(repeat, MAX_TABLE_COLUMNS)))
        walk["cols"] += repeat
    elif tag == "table-row" and event == "start":
        walk["row"], walk["col"], walk["row_repeat"] = walk["row"] + 1, 0, repeat
        if _ods_attr(element, "table", "visibility") in ("collapse", "filter") and repeat <= ODS_MAX_HIDDEN_RUN:
            walk["hidden_rows"].update(range(walk["row"], walk["row"] + repeat))
    elif tag == "table-row" and event == "end":
        walk["row"] += walk.pop("row_repeat", 1) - 1
        element.clear()
    elif tag in ("table-cell", "covered-table-cell") and event == "end":
        _ods_cell(element, walk, repeat)
    return walk


def _ods_cell(element, walk: dict, repeat: int) -> None:
    cell = (walk["row"], walk["col"])
    if _ods_attr(element, "office", "value-type") == "percentage":
        walk["percent"].update((walk["row"], walk["col"] + i) for i in range(min(repeat, MAX_TABLE_COLUMNS)))
    elif _ods_attr(element, "calcext", "value-type") == "error":
        text = "".join(element.itertext()).strip()
        walk["errors"][cell] = text if text.startswith("#") else "#错误"
    walk["col"] += repeat


def etree_local(tag) -> str:
    """An XML tag without its namespace ({urn:…}table-cell → table-cell)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _workbook_targets(rels: bytes) -> dict[bytes, str]:
    targets = {}
    for tag in _REL_ENTRY.findall(rels):
        rid, target = re.search(rb'Id="([^"]*)"', tag), re.search(rb'Target="([^"]*)"', tag)
        if rid and target:
            t = target.group(1).decode().lstrip("/")
            targets[rid.group(1)] = t if t.startswith("xl/") else f"xl/{t}"
    return targets


def _cell_position(letters: bytes, digits: bytes) -> tuple[int, int]:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return int(digits) - 1, col - 1


def _hidden_rows(xml: bytes) -> set[int]:
    rows = set()
    for tag in _ROW_TAG.findall(xml):
        if re.search(rb'hidden="(1|true)"', tag):
            number = re.search(rb'\br="(\d+)"', tag)
            if number:
                rows.add(int(number.group(1)) - 1)
    return rows


_COL_TAG = re.compile(rb"<col\b[^>]*>")


def _hidden_cols(xml: bytes) -> set[int]:
    """0-based columns of <col min="…" max="…" hidden="1"/> (1-based, inclusive) in the sheet's <cols>."""
    cols = set()
    head = xml[: xml.find(b"<sheetData")] if b"<sheetData" in xml else xml
    for tag in _COL_TAG.findall(head):
        if re.search(rb'hidden="(1|true)"', tag):
            low, high = re.search(rb'\bmin="(\d+)"', tag), re.search(rb'\bmax="(\d+)"', tag)
            if low and high:
                cols.update(range(int(low.group(1)) - 1, min(int(high.group(1)), MAX_TABLE_COLUMNS)))
    return cols


def _formulas_without_value(xml: bytes) -> set[tuple[int, int]]:
    if b"<f" not in xml:
        return set()
    cells = set()
    for attrs, body in _CELL.findall(xml):
        if body and b"<f" in body and not re.search(rb"<v>[^<]+</v>", body):
            ref = re.search(rb'r="([A-Z]+)(\d+)"', attrs)
            if ref:
                cells.add(_cell_position(ref.group(1), ref.group(2)))
    return cells


def _percent_styles(styles: bytes) -> set[int]:
    """Indexes of the cell styles (cellXfs) whose number format shows a percentage."""
    percent_formats = set(PERCENT_BUILTIN_FORMATS)
    for tag in _NUM_FMT.findall(styles):
        number, code = re.search(rb'numFmtId="(\d+)"', tag), re.search(rb'formatCode="([^"]*)"', tag)
        if number and code and _is_percent_format(unescape(code.group(1).decode("utf-8", "replace"), {"&quot;": '"'})):
            percent_formats.add(int(number.group(1)))
    block = _CELL_XFS.search(styles)
    if not block:
        return set()
    styles_found = set()
    for index, tag in enumerate(_XF.findall(block.group(1))):
        number = re.search(rb'numFmtId="(\d+)"', tag)
        if number and int(number.group(1)) in percent_formats:
            styles_found.add(index)
    return styles_found


def _is_percent_format(code: str) -> bool:
    """A number format that multiplies by 100 and shows "%": an unquoted, unescaped % (0.0%, #,##0.00%)."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in bare


def _percent_cells(xml: bytes, percent_styles: set[int]) -> set[tuple[int, int]]:
    if not percent_styles:
        return set()
    styles = b"|".join(str(i).encode() for i in sorted(percent_styles))
    pattern = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"(?=[^>]*?\ss="(?:' + styles + rb')")')
    return {_cell_position(letters, digits) for letters, digits in pattern.findall(xml)}


def _error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    if b't="e"' not in xml:
        return {}
    cells = {}
    for letters, digits, body in _ERROR_CELL.findall(xml):
        value = re.search(rb"<v>([^<]*)</v>", body)
        if value:
            cells[_cell_position(letters, digits)] = value.group(1).decode("utf-8", "replace")
    return cells


def _xls_facts(path: Path) -> dict[str, _SheetFacts]:
    """Per sheet of a legacy .xls (or WPS .et): percent-formatted cells and error cells, read with xlrd
    (calamine reports neither for xls). Empty when xlrd cannot read the file: these facts are never
    worth refusing a file that calamine read."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, ragged_rows=True,
                                  logfile=io.StringIO())  # its warnings are English and not the unit's concern
    except Exception:  # noqa: BLE001 - xlrd's errors are many; calamine has read the file already
        return {}
    percent_xfs = {i for i, xf in enumerate(book.xf_list)
                   if xf.format_key in book.format_map
                   and _is_percent_format(book.format_map[xf.format_key].format_str)}
    facts = {}
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        percent, errors = set(), {}
        for r in range(sheet.nrows):
            for c, kind in enumerate(sheet.row_types(r)):
                if kind == xlrd.XL_CELL_NUMBER and sheet.cell_xf_index(r, c) in percent_xfs:
                    percent.add((r, c))
                elif kind == xlrd.XL_CELL_ERROR:
                    errors[(r, c)] = xlrd.error_text_from_code.get(sheet.cell_value(r, c), "#错误")
        hidden = {c for c, info in sheet.colinfo_map.items() if info.hidden}
        facts[sheet.name] = _SheetFacts(set(), set(), percent, errors, hidden, None, 0, 0)
        book.unload_sheet(index)
    return facts


def _too_far(xml: bytes) -> tuple[str | None, int]:
    """The filled cell that makes the sheet's grid exceed MAX_GRID_CELLS, and the grid's size.

    The stated dimension is trusted when it fits (calamine sizes the grid by the filled
    cells, never beyond it); otherwise the filled cells themselves are measured.
    """
    dimension = _DIMENSION.search(xml[:65536])
    if dimension:
        row, col = _cell_position(dimension.group(1), dimension.group(2))
        if (row + 1) * (col + 1) <= MAX_GRID_CELLS:
            return None, 0
    max_row = max_col = 0
    farthest = {"row": "A1", "col": "A1"}
    for letters, digits, body in _CELL_REF.findall(xml):
        if body and (b"<v>" in body or b"<is>" in body):
            row, col = _cell_position(letters, digits)
            if row >= max_row:
                max_row, farthest["row"] = row, (letters + digits).decode()
            if col >= max_col:
                max_col, farthest["col"] = col, (letters + digits).decode()
    cells = (max_row + 1) * (max_col + 1)
    if cells <= MAX_GRID_CELLS:
        return None, 0
    return farthest["col"] if max_col >= MAX_TABLE_COLUMNS else farthest["row"], cells


def _read_excel(path: Path, rel: str, facts: dict[str, _SheetFacts]) -> list[Sheet]:
    wps = path.suffix.lower() == ".et"
    try:
        with open(path, "rb") as fh:  # read-only handle: raw files are never written
            book = python_calamine.CalamineWorkbook.from_filelike(fh)
            sheets = []
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                fact = facts.get(meta.name)
                if fact and fact.too_far:  # checked before calamine builds the grid
                    raise _too_big(meta.name, fact.too_far, fact.grid_cells)
                sheet = book.get_sheet_by_name(meta.name)
                if sheet.height * sheet.width > MAX_GRID_CELLS:  # xls, ods: bounded by the worker's memory limit
                    end = sheet.end or (sheet.height - 1, sheet.width - 1)
                    raise _too_big(meta.name, cell_name(*end), sheet.height * sheet.width)
                sheets.append(Sheet(
                    file=rel,
                    name=meta.name,
                    rows=sheet.to_python(skip_empty_area=False),
                    hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
                    merged=list(sheet.merged_cell_ranges or []),
                ))
            return sheets
    except ReadError:
        raise
    except python_calamine.PasswordError:
        raise ReadError("文件设置了打开密码，无法读取", "请取消密码保护后重新发送") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's problem, reported per file
        if wps:
            raise ReadError("这是 WPS 表格（.et）文件，无法直接读取",
                            "请另存为 .xlsx（在 WPS 中选“文件→另存为”，文件类型选“Excel 工作簿（*.xlsx）”）"
                            "后重新发送") from None
        raise ReadError(
            f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）",
            "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送",
        ) from None


def _too_big(sheet: str, cell: str, cells: int) -> ReadError:
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
