"""What a file really is, by its content: a workbook of which format, a password-protected one, or another
program's file that only carries a workbook's name. Each refusal says so in words the unit can act on.

- An OLE container (CFB) is a legacy .xls when its root holds a Workbook (or Book) stream, whatever else it
  embeds (a Word document or picture pasted into the sheet lives in a storage of its own); an encrypted xlsx or
  xlsb (EncryptionInfo + EncryptedPackage); a Word or PowerPoint file.
- A legacy .xls is password-protected when its workbook globals hold a FILEPASS record (XOR, RC4, CryptoAPI),
  in a CFB or in a bare BIFF2–BIFF5 stream; an .ods when its manifest holds encryption data.
"""
from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from pipeline.ingest.sheets import ReadError

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: legacy .xls/.doc, or an encrypted xlsx
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# An xlsx is a zip: refuse one that would expand past this (a "zip bomb") before parsing it.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# BOF records of the BIFF versions: BIFF2, BIFF3, BIFF4, BIFF5-8.
_BIFF_BOF = {0x0009, 0x0209, 0x0409, 0x0809}
_FILEPASS, _EOF = 0x002F, 0x000A
# How many records of the workbook globals are scanned for FILEPASS (it comes right after BOF).
_GLOBALS_RECORDS = 2000

# The kinds of workbook container the chain of readers knows (see kind()).
BIFF, OOXML, XLSB, ODS, NUMBERS = "biff", "ooxml", "xlsb", "ods", "numbers"


_ENCRYPTED = ("文件设置了打开密码，无法读取",
              "请取消密码后重新发送（Excel：文件→信息→保护工作簿→用密码进行加密，清空密码后保存；"
              "WPS：文件→文档加密→密码加密，清空密码后保存）")


def encrypted() -> ReadError:
    return ReadError(*_ENCRYPTED)


class LegacyEncrypted(ReadError):
    """A legacy .xls with a FILEPASS record. Excel also writes one, with its built-in default password, for a
    workbook whose structure alone is protected, and opens it without asking: LibreOffice, which does the same,
    tries before the file is refused as password-protected (readers.read_return)."""

    def __init__(self):
        super().__init__(*_ENCRYPTED)

    def __reduce__(self):  # from a worker process, whole
        return LegacyEncrypted, ()


def refuse_impostor(path: Path, head: bytes) -> None:
    """Name the real kind of a file that only pretends to be a workbook, and refuse a password-protected one."""
    if head.startswith(b"\x00\x05\x16\x07"):
        raise ReadError("这是 macOS 复制文件时生成的附属文件（文件名以“._”开头），不是报表",
                        "无需处理，可从轮次文件夹中删除")
    if head.startswith(b"%PDF"):
        raise ReadError("这是 PDF 文件，只是扩展名为 Excel", "请发送 Excel 原表，不要发送 PDF 或扫描件")
    if head.startswith(b"{\\rtf"):
        raise ReadError("这是 Word（RTF）文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if head.startswith(CFB_MAGIC):
        _refuse_cfb(path)
    elif is_biff_stream(head):
        with open(path, "rb") as fh:
            if _biff_encrypted(fh.read(1024 * 1024)):
                raise LegacyEncrypted()
    elif head.startswith(b"PK"):
        _refuse_zip(path)


def _refuse_cfb(path: Path) -> None:
    with open(path, "rb") as fh:
        data = fh.read()
    streams = cfb_streams(data)
    if streams is None:  # a broken container: what its directory names still tells
        if _ENCRYPTED_PACKAGE in data[:1024 * 1024]:
            raise encrypted()
        return
    if {"encryptedpackage", "encryptioninfo"} & streams.keys():
        raise encrypted()
    book = streams.get("workbook") or streams.get("book")
    if book is not None:
        if _biff_encrypted(book):
            raise LegacyEncrypted()
        return  # a workbook, whatever objects it embeds
    if "worddocument" in streams:
        raise ReadError("这是 Word 文档，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")
    if "powerpoint document" in streams:
        raise ReadError("这是 PowerPoint 演示文稿，不是 Excel 表格", "请把数据填入下发的 Excel 模板后发送")


def cfb_streams(data: bytes) -> dict[str, bytes | None] | None:
    """The root entries of an OLE container by lower-case name; the Workbook/Book stream's bytes, the others
    None. None when the container cannot be parsed."""
    from xlrd import compdoc

    try:
        doc = compdoc.CompDoc(data, logfile=io.StringIO())
        names = {doc.dirlist[child].name.lower() for child in doc.dirlist[0].children}
        entries: dict[str, bytes | None] = dict.fromkeys(names)
        for name in ("workbook", "book"):
            if name in names:
                entries[name] = bytes(doc.get_named_stream(name.capitalize()) or b"")
        return entries
    except Exception:  # noqa: BLE001 - a damaged container: the readers say what they can
        return None


def is_biff_stream(head: bytes) -> bool:
    """A bare BIFF2–BIFF5 stream (Excel 2.x–5.0 saved a workbook or sheet without an OLE container)."""
    if len(head) < 8:
        return False
    kind, size = struct.unpack_from("<HH", head)
    return kind in _BIFF_BOF and 4 <= size <= 20


def _biff_encrypted(stream: bytes) -> bool:
    """A FILEPASS record among the workbook globals (before their EOF)."""
    pos = 0
    for _ in range(_GLOBALS_RECORDS):
        if pos + 4 > len(stream):
            return False
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind == _FILEPASS:
            return True
        if kind == _EOF:
            return False
        pos += 4 + size
    return False


def _refuse_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            infos = archive.infolist()
            manifest = archive.read("META-INF/manifest.xml")[:1024 * 1024] if "META-INF/manifest.xml" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError):
        raise ReadError("文件已损坏（文件不完整），无法读取",
                        "请用 Excel 打开确认能正常显示后，另存为 .xlsx 重新发送") from None
    if any(n.startswith("word/") for n in names):
        raise ReadError("这是 Word 文档，只是扩展名为 Excel", "请把数据填入下发的 Excel 模板后发送")
    if b"encryption-data" in manifest:
        raise encrypted()
    if b"opendocument.text" in manifest:
        raise ReadError("这是文字处理文档（.odt），只是扩展名为表格", "请把数据填入下发的 Excel 模板后发送")
    expanded = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if expanded > MAX_UNCOMPRESSED_BYTES or (expanded > 20 * 1024 * 1024
                                             and expanded / packed > MAX_COMPRESSION_RATIO):
        raise ReadError(
            f"文件解压后异常庞大（约 {expanded / 1024 / 1024:,.0f} MB），已拒绝读取",
            "请确认文件来源；正常报表请删除多余内容后重新保存发送",
        )


def kind(path: Path, head: bytes) -> str | None:
    """Which workbook format a file is by its content (BIFF, OOXML, XLSB, ODS, NUMBERS), or None for anything
    else."""
    if head.startswith(CFB_MAGIC) or is_biff_stream(head):
        return BIFF
    if not head.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if any(n.endswith(".bin") and n.lower().startswith("xl/") for n in names) and not any(
            n.lower().endswith("workbook.xml") for n in names):
        return XLSB
    if "content.xml" in names:
        return ODS
    if "Index/Document.iwa" in names:  # Apple Numbers
        return NUMBERS
    if any(n.lower().startswith("xl/") for n in names) or "[Content_Types].xml" in names:
        return OOXML
    return None
