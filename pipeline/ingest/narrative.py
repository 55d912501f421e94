"""Narrative returns written as Word documents: 工作举措与典型做法 as offices write it, in paragraphs.

A .docx is read directly (python-docx). Each paragraph or list item is one item of the 典型做法 return; its
板块 (section) is the heading it stands under, matched by concept to the report's sections (SECTION_WORDS),
or, under no heading, the section its own words name. A first short line before any heading is the title.
The result is a sheet like a 典型做法 table (序号, 板块, 内容), so cleaning reads it like any return.
.doc and .wps (WPS 文字) are converted to .docx by LibreOffice when it is installed; otherwise a clear
Chinese message says what to do. A narrative typed into one big Excel cell is split the same way (from_big_cell).
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import struct
import subprocess
import unicodedata
from pathlib import Path

from pipeline.ingest import fallback
from pipeline.ingest.sheets import ReadError, Sheet, cell_name

DOCX_SUFFIXES = {".docx"}
CONVERTED_SUFFIXES = {".doc", ".wps"}
NARRATIVE_SUFFIXES = DOCX_SUFFIXES | CONVERTED_SUFFIXES
SHEET_NAME = "典型做法"
CONVERT_TIMEOUT_S = 120

# The report's sections (every one of schemas.PRACTICE_SECTIONS) by the words that name them, tried in order:
# a heading or item naming 十大工程 is that section even when it speaks of 推进 too.
SECTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("十大工程项目", ("十大工程",)),
    ("项目谋划招引", ("谋划", "招引", "招商", "储备", "引资")),
    ("项目要素保障", ("要素", "保障", "用地", "融资", "资金", "审批", "能耗")),
    ("项目推进措施", ("推进", "措施", "机制", "调度", "督导", "协调", "服务")),
    ("抓项目的意识", ("意识", "责任", "重视", "氛围", "领导")),
)

_NUMERAL = "一二三四五六七八九十"
_HEADING_MARK = re.compile(rf"^(?:[{_NUMERAL}]+[、.]|\([{_NUMERAL}]+\)|第[{_NUMERAL}]+[部分章节])")
_ITEM_MARK = re.compile(r"^(?:\d{1,2}[、.．)]|\(\d{1,2}\)|[①-⑳]|[•·▪●◆■\-])\s*")
# A heading is short and does not end like a sentence.
HEADING_MAX_CHARS = 40
_SENTENCE_END = re.compile(r"[。；;！!？?]$")


def section_of(text: str) -> str | None:
    """The report section a heading or an item names by its words, or None."""
    t = unicodedata.normalize("NFKC", text)
    return next((section for section, words in SECTION_WORDS if any(w in t for w in words)), None)


def read_narrative(path: Path, rel: str) -> list[Sheet]:
    """A narrative Word document as one 典型做法 sheet; ReadError for a .doc/.wps LibreOffice cannot convert."""
    if path.suffix.lower() in CONVERTED_SUFFIXES:
        return _read_converted(path, rel)
    return [Sheet(file=rel, name=SHEET_NAME, rows=narrative_rows(_paragraphs(path)))]


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph of the document body, table cells included, in order."""
    import docx  # python-docx; imported here so that reading Excel returns does not load it

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure to open is the file's, told in Chinese
        raise ReadError("Word 文档无法打开（文件可能已损坏或不是 .docx）",
                        "请用 Word 或 WPS 打开后另存为 .docx 重新发送") from exc
    out = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            out.extend(("", cell.text) for cell in row.cells)
    return out


def narrative_rows(paragraphs: list[tuple[str, str]]) -> list[list]:
    """Title row (if any), the header 序号/板块/内容, then one row per item under its section."""
    rows: list[list] = [["序号", "板块", "内容"]]
    title, section, heading_seen = None, None, False
    for style, raw in paragraphs:
        text = raw.strip()  # kept as written; compared in NFKC
        if not text:
            continue
        if _is_heading(style, unicodedata.normalize("NFKC", text)):
            heading_seen = True
            section = section_of(text) or text
            continue
        first = title is None and not heading_seen and len(rows) == 1
        if first and _looks_like_title(unicodedata.normalize("NFKC", text)):
            title = text
            continue
        for item in split_items(text):
            rows.append([len(rows), section or section_of(item), item])
    return ([[title]] if title else []) + rows


def _is_heading(style: str, text: str) -> bool:
    if style.lower().startswith(("heading", "标题")) and style != "Title":
        return True
    return len(text) <= HEADING_MAX_CHARS and not _SENTENCE_END.search(text) and bool(_HEADING_MARK.match(text))


def _looks_like_title(text: str) -> bool:
    return len(text) <= HEADING_MAX_CHARS and not _SENTENCE_END.search(text)


def split_items(text: str) -> list[str]:
    """One paragraph's items: a paragraph holding several numbered items (1.… 2.… or ①…②…) or several lines
    is split into them; the numbering marks are dropped."""
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    items: list[str] = []
    for line in lines:
        parts = re.split(r"(?<=[。；;])\s*(?=(?:\d{1,2}[、.．]|[①-⑳]))", line)
        items.extend(_without_mark(p.strip()) for p in parts if p.strip())
    return [i for i in items if i]


def _without_mark(text: str) -> str:
    """An item without its numbering mark (１．, （2）, ③, •), as written otherwise; these marks keep their length
    under NFKC, so the mark found in the NFKC text is cut from the text as written."""
    m = _ITEM_MARK.match(unicodedata.normalize("NFKC", text[:6]))
    return text[m.end():].strip() if m else text


def _read_converted(path: Path, rel: str) -> list[Sheet]:
    label = "WPS 文字（.wps）" if path.suffix.lower() == ".wps" else "Word 97-2003（.doc）"
    if _encrypted_word(path):
        raise ReadError("这是 Word 文档，设置了打开密码，无法读取", "请取消密码后另存为 .docx 重新发送")
    soffice = fallback.find_soffice()
    if soffice is None:
        raise ReadError(f"这是{label}文档，本机未安装 LibreOffice，无法转换读取",
                        "请用 Word 或 WPS 打开后另存为 .docx 重新发送（或由分析人员安装 LibreOffice）")
    with fallback.temporary_folder() as tmp:
        folder = Path(tmp)
        source = folder / f"source{path.suffix.lower()}"
        shutil.copyfile(path, source)
        command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"), str(source)]
        try:
            subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=CONVERT_TIMEOUT_S,
                           env={**os.environ, "HOME": str(folder)}, check=False)
        except subprocess.TimeoutExpired:
            raise ReadError(f"转换该{label}文档超过 {CONVERT_TIMEOUT_S} 秒仍未完成，文件可能已损坏",
                            "请用 Word 或 WPS 打开后另存为 .docx 重新发送") from None
        converted = folder / "out" / "source.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            raise ReadError(f"{label}文档无法转换读取，文件可能已损坏", "请用 Word 或 WPS 打开后另存为 .docx 重新发送")
        return [Sheet(file=rel, name=SHEET_NAME, rows=narrative_rows(_paragraphs(converted)))]


_FIB_ENCRYPTED = 0x0100  # fEncrypted in the Word binary file's FIB flags (offset 0x0A of the WordDocument stream)


def _encrypted_word(path: Path) -> bool:
    """A Word 97-2003 file with an open password (LibreOffice would stop at its password prompt)."""
    from xlrd import compdoc  # xlrd's OLE container reader, as sniff uses it

    data = path.read_bytes()
    try:
        stream = bytes(compdoc.CompDoc(data, logfile=io.StringIO()).get_named_stream("WordDocument") or b"")
    except Exception:  # noqa: BLE001 - not an OLE container we can parse: let LibreOffice say what it can
        return False
    return len(stream) >= 0x0C and bool(struct.unpack_from("<H", stream, 0x0A)[0] & _FIB_ENCRYPTED)


# A cell holding a whole narrative: long, and more than one line or numbered item.
BIG_CELL_MIN_CHARS = 60
BIG_CELL_MAX_FILLED = 3  # the big cell, perhaps a title and a unit line beside it
_INSTRUCTIONS = re.compile(r"说明|注[:：]|须知|通知|要求")


def from_big_cell(sheet: Sheet) -> Sheet:
    """A sheet whose narrative is typed into one big cell, split like a Word document (one item per paragraph or
    numbered item, sections from the heading lines); any other sheet unchanged. The items cannot keep an Excel
    row of their own, so the sheet is listed as “Sheet1（A3单元格中的文字）” and the items are numbered in order."""
    filled = []
    for r, row in enumerate(sheet.rows):
        for c, v in enumerate(row):
            if v is not None and v != "":
                if not isinstance(v, str) or len(filled) == BIG_CELL_MAX_FILLED:
                    return sheet  # a number, or more cells than a narrative: a table (settled at its first rows)
                if v.strip():
                    filled.append((r, c, v))
    if not filled:
        return sheet
    r, c, text = max(filled, key=lambda f: len(f[2]))
    lines = [ln for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    if len(text) < BIG_CELL_MIN_CHARS or (len(lines) < 2 and len(split_items(text)) < 2):
        return sheet
    titles = [v for rr, cc, v in filled if (rr, cc) != (r, c)]
    if any(_INSTRUCTIONS.search(t) for t in (sheet.name, *titles, text[:20])):
        return sheet  # 填表说明 and notes are not practices
    rows = narrative_rows([("", t) for t in titles[:1]] + [("", ln) for ln in lines])
    if not any(row[1] for row in rows if len(row) == 3 and row[0] != "序号"):
        return sheet  # no item under any of the report's sections: not a narrative of practices
    return dataclasses.replace(sheet, name=f"{sheet.name}（{cell_name(r, c)}单元格中的文字）", rows=rows, merged=[],
                               hidden_rows=set(), percent_cells=set(), error_cells={}, formulas_without_value=set())
