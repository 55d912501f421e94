"""Writing workbooks for people: every xlsx the pipeline produces goes through here.

Text from returns is stored as text, never as a formula or a link: a cell that
begins with '=', '+', '-' or '@' stays a string (xlsxwriter's
strings_to_formulas / strings_to_urls off), so a hostile return cannot plant a
formula in the workbooks we send back to units.

Big tables are written fast: xlsxwriter directly, in constant_memory mode (each row
goes to disk as soon as the next one starts), not pandas' cell-by-cell ExcelWriter; the data
rows' XML is built a column at a time (write_cells), the very bytes xlsxwriter's own write_row
gives (tests/test_excel_cells.py), without its per-cell dispatch. A table longer than one sheet can hold
(Excel's 1,048,576 rows) continues on sheets named “…（续2）”, “…（续3）”, and a note
above each part says so. A workbook no later step reads can be written in the background
(background=True: pipeline/workers.py's in_background), on the other core while the chain goes on.

A workbook already there with the same content is kept, not written again: each workbook carries, as a custom
document property (CONTENT_PROPERTY), a digest of the tables, notes and colours it was written from and of this
module's code; write_workbook compares it with the digest of what it is asked to write. A rerun whose step 1 finds
the same rows (a return saved again) or a unit whose list did not change leaves those workbooks as they were.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
import xlsxwriter.utility
import xlsxwriter.xmlwriter

from pipeline import workers

_MAX_WIDTH = 60
# Excel's limit of rows per worksheet (header and note rows included).
EXCEL_MAX_ROWS = 1_048_576
_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd"}
_PLAIN = (str, int, float, bool, dt.date, dt.datetime)


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], *, notes: dict[str, str] | None = None,
                   fills: dict[str, dict[str, dict[str, str]]] | None = None, background: bool = False) -> Path:
    """Write each DataFrame to its own sheet, with a bold header, frozen first row and fitted widths.

    `notes` optionally puts one line of explanation above a sheet's table. `fills` optionally colours
    cells by their text: {sheet: {column header: {cell text: "#RRGGBB"}}} (e.g. 预警 红/黄/绿).
    A table with more rows than a sheet holds is split over continuation sheets (see split_rows).
    background: return at once and write in a detached process (workers.in_background); the file at path
    is the old one, or none, until workers.wait_for_background says the writer is done.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = content_digest(sheets, notes, fills)
    if digest is not None and digest == written_digest(path):
        return path  # the workbook there was written from the same content: kept as it is
    if background:
        workers.in_background(path, lambda target: _write(Path(target), sheets, notes, fills, digest))
        return path
    return _write(path, sheets, notes, fills, digest)


CONTENT_PROPERTY = "content-digest"  # the workbook's custom document property (File > Properties > Custom)


def content_digest(sheets: dict[str, pd.DataFrame], notes: dict[str, str] | None,
                   fills: dict[str, dict[str, dict[str, str]]] | None) -> str | None:
    """A digest of what a workbook is written from: each sheet's name, columns, dtypes and values (pandas' own
    row hashes), the notes, the colours, and this module's code. None when a value cannot be hashed (the
    workbook is then always written)."""
    digest = hashlib.blake2b(_code_digest().encode(), digest_size=20)
    fills_said = sorted((name, repr(fill)) for name, fill in (fills or {}).items())
    digest.update(repr((sorted((notes or {}).items()), fills_said)).encode())
    try:
        for name, frame in sheets.items():
            shape = (name, list(map(str, frame.columns)), list(map(str, frame.dtypes)), len(frame))
            digest.update(repr(shape).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except (TypeError, ValueError):
        return None
    return digest.hexdigest()


@functools.cache
def _code_digest() -> str:
    return hashlib.blake2b(Path(__file__).read_bytes(), digest_size=20).hexdigest()


# What xlsxwriter (pinned) writes into docProps/app.xml; a test of tests/test_excel.py fails if a new version differs.
WRITER_APP = ("<Application>Microsoft Excel</Application>", "<AppVersion>12.0000</AppVersion>")


def saved_as_written(core: str, app: str) -> bool:
    """Whether a workbook's document properties are still as this module wrote them: the same fixed time as created
    and modified (Excel, WPS and openpyxl stamp the time they saved), and xlsxwriter's application (LibreOffice and
    openpyxl put their own name, and Excel its own version)."""
    stamps = [re.search(rf"<dcterms:{name}[^>]*>([^<]*)</dcterms:{name}>", core) for name in ("created", "modified")]
    return all(stamps) and stamps[0].group(1) == stamps[1].group(1) and all(part in app for part in WRITER_APP)


def written_digest(path: Path) -> str | None:
    """The content digest a workbook was written with, or None (no file, not ours, unreadable, or saved since by
    someone: a workbook someone edited is written again, see saved_as_written)."""
    try:
        with zipfile.ZipFile(path) as book:
            custom = book.read("docProps/custom.xml").decode("utf-8")
            if not saved_as_written(book.read("docProps/core.xml").decode("utf-8"),
                                    book.read("docProps/app.xml").decode("utf-8")):
                return None
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    found = re.search(rf'name="{CONTENT_PROPERTY}"[^>]*><vt:lpwstr>([0-9a-f]+)</vt:lpwstr>', custom)
    return found.group(1) if found else None


def _write(path: Path, sheets: dict[str, pd.DataFrame], notes: dict[str, str] | None,
           fills: dict[str, dict[str, dict[str, str]]] | None, digest: str | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path), _OPTIONS)
    book.set_properties({"created": dt.datetime(2000, 1, 1)})  # stable bytes for the same content
    if digest:
        book.set_custom_property(CONTENT_PROPERTY, digest)
    styles = {"header": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7",
                                         "border": 1}),
              "note": book.add_format({"italic": True, "font_color": "#555555"})}
    try:
        for name, frame in sheets.items():
            frame = _for_excel(frame)
            colours = _colour_formats(book, frame, (fills or {}).get(name, {}))
            for sheet_name, rows, note in split_rows(_sheet_name(name), len(frame), (notes or {}).get(name)):
                ws = book.add_worksheet(sheet_name)
                _write_table(ws, styles, frame.iloc[rows], note, colours)
    finally:
        book.close()
    return path


def split_rows(sheet_name: str, n_rows: int, note: str | None) -> list[tuple[str, slice, str | None]]:
    """(sheet name, rows of the table, note above it) for each sheet a table of n_rows needs.

    One sheet when it fits under EXCEL_MAX_ROWS with its header (and note); otherwise parts named
    “名称（续2）”… , each with a note that says which rows it holds and that the table goes on."""
    if n_rows + 1 + (1 if note else 0) <= EXCEL_MAX_ROWS:
        return [(sheet_name, slice(0, n_rows), note)]
    per_sheet = EXCEL_MAX_ROWS - 2  # a note row and the header row above the data on every part
    starts = range(0, n_rows, per_sheet)
    names = [sheet_name if k == 0 else _continued(sheet_name, k + 1) for k in range(len(starts))]
    parts = []
    for k, first in enumerate(starts):
        last = min(n_rows, first + per_sheet)
        split = (f"本表共 {n_rows:,} 行，超过 Excel 单个工作表 {EXCEL_MAX_ROWS:,} 行的上限，"
                 f"分在 {len(names)} 个工作表（{'、'.join(names)}）；本工作表为第 {first + 1:,}–{last:,} 行。")
        parts.append((names[k], slice(first, last), f"{note} {split}" if note else split))
    return parts


def _continued(sheet_name: str, k: int) -> str:
    suffix = f"（续{k}）"
    return sheet_name[:31 - len(suffix)] + suffix


def _write_table(ws, styles: dict, frame: pd.DataFrame, note: str | None, colours: dict[int, dict]) -> None:
    """One sheet, row by row in order (constant_memory): the note, the header, the data rows."""
    start = 1 if note else 0
    if note:
        ws.write_string(0, 0, note, styles["note"])
    for col, label in enumerate(frame.columns):
        ws.set_column(col, col, _width(label, frame.iloc[:, col]))
    ws.write_row(start, 0, [str(label) for label in frame.columns], styles["header"])
    columns = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    if not write_cells(ws, start + 1, columns, colours):
        write_rows(ws, start + 1, columns, colours)
    ws.freeze_panes(start + 1, 0)
    if len(frame.columns):
        ws.autofilter(start, 0, start + len(frame), len(frame.columns) - 1)


def write_rows(ws, first: int, columns: list[list], colours: dict[int, dict]) -> None:
    """The data rows through xlsxwriter's own cell-by-cell writing (write_row): for the values write_cells leaves
    to it, and the reference tests/test_excel_cells.py holds write_cells to, byte for byte."""
    for row, values in enumerate(zip(*columns), first):
        ws.write_row(row, 0, values)
        for col, formats in colours.items():
            fmt = formats.get(values[col]) if isinstance(values[col], str) else None
            if fmt is not None:
                ws.write_string(row, col, values[col], fmt)


# The xlsxwriter release whose row XML write_cells reproduces (requirements.lock pins it; test_excel_cells checks).
ROW_XML_VERSION = "3.3.1"


def write_cells(ws, first: int, columns: list[list], colours: dict[int, dict]) -> bool:
    """The data rows as the XML xlsxwriter writes for them (write_rows), built a column at a time and put straight
    into the worksheet's row file, without xlsxwriter's per-cell dispatch, checks and tuples: several times faster.

    Takes the values _for_excel leaves (text, int, float, bool, date, datetime, None) with xlsxwriter's escaping,
    number and date forms, and formats numbered in the order it numbers them. Rows are made and written a block
    at a time (memory stays bounded, as in constant_memory). The last row goes through write_rows: xlsxwriter
    keeps a sheet's last row until the workbook is closed, and numbers the formats first used there only then.
    Anything else (a value of another type, ±inf or NaN, text over half of Excel's 32,767 characters) returns
    False before any data row is written, and write_rows writes the rows.
    It works with xlsxwriter's constant_memory internals (the row file, the last row kept, the sheet's extent) as
    the pinned version has them (ROW_XML_VERSION): with any other installed version it returns False, so an
    environment set up by hand never writes rows this way unproven; tests/test_excel_cells.py holds the bytes."""
    kinds = [set(map(type, values)) for values in columns]
    if xlsxwriter.__version__ != ROW_XML_VERSION or not ws.constant_memory:
        return False
    if not all(kind <= _CELL_TYPES and _writable(values, kind) for values, kind in zip(columns, kinds)):
        return False
    if not columns or not columns[0]:
        return True
    ws._write_single_row(first)  # the header row (and the note) go to the row file first, as write_row would
    n_body = len(columns[0]) - 1
    _claim_formats(ws, columns, n_body, kinds, colours)
    letters = [xlsxwriter.utility.xl_col_to_name(col) for col in range(len(columns))]
    last_used: dict[int, int] = {}
    for start in range(0, n_body, _BLOCK_ROWS):
        stop = min(n_body, start + _BLOCK_ROWS)
        cells = [_column_cells(ws, values[start:stop], kinds[col], colours.get(col, {}), letters[col],
                               first + 1 + start) for col, values in enumerate(columns)]
        for col, column in enumerate(cells):
            last = next((row for row in range(len(column) - 1, -1, -1) if column[row]), None)
            if last is not None:
                last_used[col] = first + start + last
        rows = map("".join, zip(*cells))
        ws.fh.write("".join([f'<row r="{row}">{text}</row>' for row, text in enumerate(rows, first + 1 + start)
                             if text]))
    for col, row in last_used.items():
        ws._check_dimensions(row, col)  # the sheet's extent, as each written cell would have set it
    last_row = first + n_body
    ws.previous_row = max(first, last_row - 1)
    write_rows(ws, last_row, [values[-1:] for values in columns], colours)
    return True


_BLOCK_ROWS = 2048
_DATES = {dt.date, dt.datetime}
_CELL_TYPES = {str, int, float, bool, dt.date, dt.datetime, type(None)}
_STRMAX = 32767 // 2  # text this long or shorter is under Excel's limit whatever its characters (xlsxwriter's test)


def _writable(values: list, kinds: set[type]) -> bool:
    """No number that is not finite (xlsxwriter refuses NaN and ±inf), no text it might cut."""
    if float in kinds and not all(map(math.isfinite, [v for v in values if v.__class__ is float])):
        return False
    return str not in kinds or max(map(len, [v for v in values if v.__class__ is str])) <= _STRMAX


def _claim_formats(ws, columns: list[list], n_rows: int, kinds: list[set[type]], colours: dict[int, dict]) -> None:
    """Number the formats the first n_rows data cells use in the order xlsxwriter would: by the first cell (row,
    then column) that uses each (the numbers are the cells' s="…" and the order of styles.xml)."""
    firsts = []
    for col, column in enumerate(columns):
        if kinds[col] & _DATES:  # (the only dates of a column may be in its last row, which is not counted)
            dated = (row for row, v in enumerate(itertools.islice(column, n_rows)) if v.__class__ in _DATES)
            firsts.append((next(dated, None), col, ws.default_date_format))
        seen = set()
        for row, v in enumerate(itertools.islice(column, n_rows) if col in colours else ()):
            fmt = colours[col].get(v) if v.__class__ is str else None
            if fmt is not None and id(fmt) not in seen:
                seen.add(id(fmt))
                firsts.append((row, col, fmt))
    for _, _, fmt in sorted((use for use in firsts if use[0] is not None), key=lambda use: use[:2]):
        if fmt is not None:
            fmt._get_xf_index()


_NUMBER_KINDS = {int, float, type(None)}
_TEXT_KINDS = {str, type(None)}


def _column_cells(ws, values: list, kinds: set[type], formats: dict, letter: str, row: int) -> list[str]:
    """Each cell's XML (`<c r="B7"…>…</c>`) of a column whose first value is in `row` (1-based), "" for a cell
    xlsxwriter does not write. A column of numbers or of text is made in one comprehension, text from each
    different value once; others through _column_tails."""
    if kinds <= _NUMBER_KINDS:
        return [f'<c r="{letter}{r}"><v>{v:.16G}</v></c>' if v is not None else "" for r, v in enumerate(values, row)]
    if kinds <= _TEXT_KINDS:
        tails = {v: _text_cell(v, formats) for v in dict.fromkeys(values) if v is not None}
        tails[None] = ""
        return [f'<c r="{letter}{r}"{tail}' if (tail := tails[v]) else "" for r, v in enumerate(values, row)]
    tails = _column_tails(ws, values, formats)
    return [f'<c r="{letter}{r}"{tail}' if tail else "" for r, tail in enumerate(tails, row)]


def _column_tails(ws, values: list, formats: dict) -> list[str]:
    """Each cell's XML after its reference (`<c r="B7"` + tail), as xlsxwriter's _write_cell writes it in
    constant_memory mode; "" for a cell it does not write (None, or empty text without a colour)."""
    tails = []
    known: dict = {}
    for v in values:
        cls = v.__class__
        if v is None:
            tails.append("")
        elif cls is str:
            tail = known.get(v)
            if tail is None:
                tail = known[v] = _text_cell(v, formats)
            tails.append(tail)
        elif cls is float or cls is int:
            tails.append(f"><v>{v:.16G}</v></c>")
        elif cls is bool:
            tails.append(f' t="b"><v>{int(v)}</v></c>')
        else:  # date or datetime
            tail = known.get(v)
            if tail is None:
                attr = f' s="{ws.default_date_format._get_xf_index()}"' if ws.default_date_format is not None else ""
                tail = known[v] = f"{attr}><v>{ws._convert_date_time(v):.16G}</v></c>"
            tails.append(tail)
    return tails


def _text_cell(text: str, formats: dict) -> str:
    """A text cell's tail: coloured by its text when `formats` says so (then written even when empty, as
    write_string writes it); empty text without a colour is no cell (write_row leaves it blank)."""
    fmt = formats.get(text)
    if fmt is not None:
        return f' s="{fmt._get_xf_index()}"' + _text_tail(text)
    return _text_tail(text) if text else ""


_XML = xlsxwriter.xmlwriter.XMLwriter()


# Text xlsxwriter writes as it is: nothing to escape (control characters, &, <, >, a literal “_x…”), no space at
# either end to keep.
_ESCAPED = re.compile(r'[\x00-\x1f&<>"]|_x|^\s|\s$')


def _text_tail(text: str) -> str:
    """An inline string cell's XML after its reference and format, as xlsxwriter writes it (control characters
    as _xHHHH_, a leading or trailing space kept, “<r>…</r>” taken as rich text)."""
    if not _ESCAPED.search(text):
        return f' t="inlineStr"><is><t>{text}</t></is></c>'
    text = _XML._escape_control_characters(text)
    if text.startswith("<r>") and text.endswith("</r>"):
        return f' t="inlineStr"><is>{text}</is></c>'
    preserve = ' xml:space="preserve"' if xlsxwriter.utility._preserve_whitespace(text) else ""
    return f' t="inlineStr"><is><t{preserve}>{_XML._escape_data(text)}</t></is></c>'


def _colour_formats(book, frame: pd.DataFrame, by_column: dict[str, dict[str, str]]) -> dict[int, dict]:
    """{column index: {cell text: format}} for the columns whose cells are coloured by their text."""
    made: dict[str, object] = {}
    out: dict[int, dict] = {}
    for label, colours in by_column.items():
        if label not in frame.columns:
            continue
        out[list(frame.columns).index(label)] = {
            text: made.setdefault(colour, book.add_format({"bg_color": colour, "border": 1, "align": "center"}))
            for text, colour in colours.items()}
    return out


def _for_excel(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as dates, yes/no as 是/否, missing values as empty cells, anything unusual (±inf, lists, times with a
    zone) as its text, as pandas' own Excel writer showed them."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.date
        elif pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
            said = np.where(series.fillna(False).to_numpy(dtype=bool), "是", "否")
            out[col] = pd.Series(np.where(series.isna().to_numpy(), "", said), index=out.index, dtype=object)
        elif pd.api.types.is_float_dtype(series):
            out[col] = series.round(FLOAT_DECIMALS)  # 5699.999999999999 (0.57亿元 × 10000) is 5700 in the cell
    out = out.astype(object).where(out.notna(), None)
    for col in out.columns:
        if pd.api.types.infer_dtype(out[col], skipna=True) not in _PLAIN_KINDS or _has_inf(out[col]):
            out[col] = out[col].map(lambda v: v if _is_plain(v) else str(v))
    return out


# Decimals kept in a float cell: binary noise (5699.999999999999, 0.49999999999999956) goes, no figure of the domain
# (万元, 亿元, %, 亩) needs more than this.
FLOAT_DECIMALS = 9

# What pandas.api.types.infer_dtype calls a column of values xlsxwriter writes as they are.
_PLAIN_KINDS = {"string", "integer", "floating", "mixed-integer-float", "boolean", "date", "empty"}


def _has_inf(values: pd.Series) -> bool:
    numeric = pd.api.types.infer_dtype(values, skipna=True) in ("floating", "mixed-integer-float")
    return numeric and bool(np.isinf(values.astype(float)).any())


def _is_plain(value: object) -> bool:
    """A value xlsxwriter writes as it is (None is an empty cell); ±inf is not (pandas wrote it as 'inf')."""
    if isinstance(value, float):
        return value not in (float("inf"), float("-inf"))
    return value is None or (isinstance(value, _PLAIN) and getattr(value, "tzinfo", None) is None)


_WIDE = re.compile("[\u2e81-\U0010ffff]")


def _width(label: object, values: pd.Series) -> float:
    sample = [str(label)] + [str(v) for v in values.head(200) if v is not None]
    longest = max((len(s) + len(_WIDE.findall(s)) for s in sample), default=8)  # CJK characters count twice
    return float(min(_MAX_WIDTH, max(6, longest + 2)))


def _sheet_name(name: str) -> str:
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in str(name))
    return clean[:31] or "Sheet"
