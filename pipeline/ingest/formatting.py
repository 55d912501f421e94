"""The formatting pass: what the fast reader does not report about a sheet's cells, read from the file itself.

Hidden rows and columns, percent-formatted cells, error cells and formulas saved without a value: from the xlsx's
XML, the ods's content.xml, or xlrd for a legacy .xls. Each scanner gives {sheet name: SheetFacts}, or None when
it could not read the file: a formatting pass that fails costs only these facts (readers marks the sheets, and the
unit is told what could not be checked), never the file's values.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

from pipeline.ingest.sheets import MAX_GRID_CELLS

# What the formatting pass finds, as the unit is told when it could not be checked.
CHECKED_FACTS = "隐藏的行列、百分比格式、错误值（如 #DIV/0!）"


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
class SheetFacts:
    """What calamine does not report about an xlsx sheet, from its XML."""

    hidden_rows: set[int]
    formulas_without_value: set[tuple[int, int]]
    percent_cells: set[tuple[int, int]]
    error_cells: dict[tuple[int, int], str]
    hidden_cols: set[int]
    too_far: str | None  # the far cell that makes the grid too big, as "XFD5000"; None when it fits
    grid_cells: int  # rows x columns of the filled cells, when too_far is set
    span: int  # an upper bound of the grid's cells from every cell reference (see cells_span)


def xlsx_facts(path: Path) -> dict[str, SheetFacts] | None:
    """Per sheet: hidden rows, formulas saved without a computed value, percent-formatted cells,
    error cells, and whether the filled cells fit in MAX_GRID_CELLS.

    calamine reports none of these (it reads a formula with no cached value, and an error,
    as empty), so the XML is scanned: <row hidden="1">, <c><f>…</f></c> with no <v>,
    <c s="…"> whose style is a percentage, <c t="e">, and the cell references.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            part = _workbook_part(archive, names)
            folder = posixpath.dirname(part)
            workbook = archive.read(part)
            targets = _workbook_targets(archive.read(f"{folder}/_rels/{posixpath.basename(part)}.rels"), folder)
            styles = targets.get(b"styles", f"{folder}/styles.xml")
            percent_styles = _percent_styles(archive.read(styles)) if styles in names else set()
            facts = {}
            for name, rid in _SHEET_ENTRY.findall(workbook):
                member = targets.get(rid)
                if not member or member not in names:
                    continue
                xml = archive.read(member)
                too_far, grid_cells = _too_far(xml)
                facts[unescape(name.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})] = SheetFacts(
                    _hidden_rows(xml), _formulas_without_value(xml), _percent_cells(xml, percent_styles),
                    _error_cells(xml), _hidden_cols(xml), too_far, grid_cells, cells_span(xml))
            return facts
    except Exception:  # noqa: BLE001 - an unusual part layout or a malformed part: these facts only are lost
        return None


# A run of hidden rows longer than this is the empty rest of the sheet, not rows of a table.
ODS_MAX_HIDDEN_RUN = 10_000
_ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"}


def ods_facts(path: Path) -> dict[str, SheetFacts] | None:
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
    except Exception:  # noqa: BLE001 - a malformed content.xml: these facts only are lost
        return None


def _ods_attr(element, prefix: str, name: str, default=None):
    return element.get(f"{{{_ODS[prefix]}}}{name}", default)


def _ods_event(event: str, element, walk: dict | None, facts: dict[str, SheetFacts]) -> dict | None:
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
        facts[walk["name"]] = SheetFacts(walk["hidden_rows"], set(), walk["percent"], walk["errors"],
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


_OFFICE_DOCUMENT = re.compile(rb'<Relationship\b[^>]*?Type="[^"]*/officeDocument"[^>]*?>')


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The workbook part: xl/workbook.xml, or wherever the package's relationships put it."""
    if "xl/workbook.xml" in names or "_rels/.rels" not in names:
        return "xl/workbook.xml"
    entry = _OFFICE_DOCUMENT.search(archive.read("_rels/.rels"))
    target = re.search(rb'Target="([^"]*)"', entry.group(0)) if entry else None
    return target.group(1).decode().lstrip("/") if target else "xl/workbook.xml"


def _workbook_targets(rels: bytes, folder: str = "xl") -> dict[bytes, str]:
    """The workbook's relationships: id -> part, and b"styles" -> the styles part."""
    targets = {}
    for tag in _REL_ENTRY.findall(rels):
        rid, target = re.search(rb'Id="([^"]*)"', tag), re.search(rb'Target="([^"]*)"', tag)
        if rid and target:
            t = target.group(1).decode()
            part = (t.lstrip("/") if t.startswith("/") or t.startswith(f"{folder}/")
                    else posixpath.normpath(f"{folder}/{t}"))
            targets[rid.group(1)] = part
            if re.search(rb'Type="[^"]*/styles"', tag):
                targets[b"styles"] = part
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
        if number and code and is_percent_format(unescape(code.group(1).decode("utf-8", "replace"), {"&quot;": '"'})):
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


def is_percent_format(code: str) -> bool:
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


def xls_facts(path: Path, data: bytes | None = None) -> dict[str, SheetFacts] | None:
    """Per sheet of a legacy .xls (or WPS .et): percent-formatted cells, error cells and hidden columns (calamine
    reports none of them for xls). data: the file's bytes, when the caller has read them already (the file is then
    not opened again). xlrd reads the workbook's globals (formats, cell styles, where each sheet starts), and
    biff.py walks each sheet's records for these facts, without building xlrd's cells; BIFF2 to BIFF4 are read by
    xlrd whole. None when xlrd cannot read the file or its formatting: these facts are never worth refusing a file
    that calamine read."""
    import xlrd

    try:
        book = xlrd.open_workbook(filename=None if data is not None else str(path), file_contents=data,
                                  formatting_info=True, on_demand=True, ragged_rows=True,
                                  logfile=io.StringIO())  # its warnings are English and not the unit's concern
        if book.biff_version < 50:
            return xls_book_facts(book, unload=True)
        return _xls_record_facts(book)
    except Exception:  # noqa: BLE001 - xlrd's errors are many (asserts, struct errors); calamine read the values
        return None


def _percent_xfs(book) -> set[int]:
    """The cell styles (XF indexes) of an xlrd book whose number format shows a percentage."""
    formats = {key: fmt.format_str for key, fmt in book.format_map.items()}
    return {i for i, xf in enumerate(book.xf_list)
            if isinstance(formats.get(xf.format_key), str) and is_percent_format(formats[xf.format_key])}


def _xls_record_facts(book) -> dict[str, SheetFacts]:
    """xls_facts of a BIFF5–BIFF8 book opened on demand, from each sheet's records (biff.py)."""
    import xlrd

    from pipeline.ingest import biff

    types = book._xf_index_to_xl_type_map
    percent_numbers = {xf for xf in _percent_xfs(book) if types.get(xf) == xlrd.XL_CELL_NUMBER}
    facts = {}
    for index in range(book.nsheets):
        percent, codes, hidden = biff.sheet_facts(book, index, percent_numbers)
        errors = {cell: xlrd.error_text_from_code.get(code, "#错误") for cell, code in codes.items()}
        facts[book._sheet_names[index]] = SheetFacts(set(), set(), percent, errors, hidden, None, 0, 0)
    return facts


def xls_book_facts(book, unload: bool = False) -> dict[str, SheetFacts]:
    """xls_facts of a workbook xlrd opened with formatting_info, from xlrd's cells (unload: free each sheet once
    scanned)."""
    import xlrd

    percent_xfs = _percent_xfs(book)
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
        facts[sheet.name] = SheetFacts(set(), set(), percent, errors, hidden, None, 0, 0)
        if unload:
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




def cells_span(xml: bytes) -> int:
    """An upper bound of rows x columns of a sheet's grid from its cell references (styled empty cells included).
    Cells come in row order, so the last one has the highest row; the widest column is among the 2- and 3-letter
    ones."""
    last = _LAST_REF.search(xml, max(0, xml.rfind(b'<c r="')))
    rows = int(last.group(2)) if last else 0
    columns = max((_cell_position(letters, b"1")[1] + 1 for letters in set(_WIDE_REF.findall(xml))), default=26)
    return rows * columns

