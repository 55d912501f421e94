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
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import python_calamine

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv"}
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

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: legacy .xls/.doc, or an encrypted xlsx
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


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
    hidden_rows: set[int] = field(default_factory=set)  # 0-based
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)


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
    with open(path, "rb") as fh:
        head = fh.read(8)
    _refuse_impostor(path, head)
    facts = _xlsx_facts(path) if head.startswith(b"PK") else {}
    sheets = _read_excel(path, rel)
    for sheet in sheets:
        sheet.hidden_rows, sheet.formulas_without_value = facts.get(sheet.name, (set(), set()))
    return sheets


def _refuse_impostor(path: Path, head: bytes) -> None:
    """Name the real kind of a file that only pretends to be a workbook."""
    if head.startswith(b"%PDF"):
        raise ReadError("这是 PDF 文件，只是扩展名为 Excel", "请发送 Excel 原表，不要发送 PDF 或扫描件")
    if head.startswith(b"{\\rtf"):
        raise ReadError("这是 Word（RTF）文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if head.startswith(_CFB_MAGIC):
        with open(path, "rb") as fh:
            data = fh.read(1024 * 1024)
        if _ENCRYPTED_PACKAGE in data:
            raise ReadError("文件设置了打开密码，无法读取", "请取消密码保护（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新发送")
        if "WordDocument".encode("utf-16-le") in data:
            raise ReadError("这是 Word 文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                infos = archive.infolist()
        except zipfile.BadZipFile:
            raise ReadError("文件已损坏（不完整的 xlsx），无法读取", "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送") from None
        if any(n.startswith("word/") for n in names):
            raise ReadError("这是 Word 文档，只是扩展名为 Excel", "请把数据填入下发的 Excel 模板后发送")
        expanded = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if expanded > MAX_UNCOMPRESSED_BYTES or (expanded > 20 * 1024 * 1024 and expanded / packed > MAX_COMPRESSION_RATIO):
            raise ReadError(
                f"文件解压后异常庞大（约 {expanded / 1024 / 1024:,.0f} MB），已拒绝读取",
                "请确认文件来源；正常报表请删除多余内容后重新保存发送",
            )


_ROW_TAG = re.compile(rb"<row\b[^>]*>")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_SHEET_ENTRY = re.compile(rb"<sheet\b[^>]*?name=\"([^\"]*)\"[^>]*?r:id=\"([^\"]*)\"")
_REL_ENTRY = re.compile(rb"<Relationship\b[^>]*?>")


def _xlsx_facts(path: Path) -> dict[str, tuple[set[int], set[tuple[int, int]]]]:
    """Per sheet: the hidden rows, and formula cells saved without a computed value.

    calamine reports neither (it reads a formula with no cached value as empty),
    so the sheet XML is scanned for them: <row hidden="1"> and <c><f>…</f></c> with no <v>.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml")
            rels = archive.read("xl/_rels/workbook.xml.rels")
            targets = {}
            for tag in _REL_ENTRY.findall(rels):
                rid, target = re.search(rb'Id="([^"]*)"', tag), re.search(rb'Target="([^"]*)"', tag)
                if rid and target:
                    t = target.group(1).decode().lstrip("/")
                    targets[rid.group(1)] = t if t.startswith("xl/") else f"xl/{t}"
            facts = {}
            for name, rid in _SHEET_ENTRY.findall(workbook):
                member = targets.get(rid)
                if not member or member not in archive.namelist():
                    continue
                xml = archive.read(member)
                facts[unescape(name.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})] = (_hidden_rows(xml), _formulas_without_value(xml))
            return facts
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return {}


def _hidden_rows(xml: bytes) -> set[int]:
    rows = set()
    for tag in _ROW_TAG.findall(xml):
        if re.search(rb'hidden="(1|true)"', tag):
            number = re.search(rb'\br="(\d+)"', tag)
            if number:
                rows.add(int(number.group(1)) - 1)
    return rows


def _formulas_without_value(xml: bytes) -> set[tuple[int, int]]:
    if b"<f" not in xml:
        return set()
    cells = set()
    for attrs, body in _CELL.findall(xml):
        if body and b"<f" in body and not re.search(rb"<v>[^<]+</v>", body):
            ref = re.search(rb'r="([A-Z]+)(\d+)"', attrs)
            if ref:
                col = 0
                for ch in ref.group(1).decode():
                    col = col * 26 + ord(ch) - 64
                cells.add((int(ref.group(2)) - 1, col - 1))
    return cells



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
