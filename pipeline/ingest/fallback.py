"""The rest of the chain of readers: what reads a workbook the fast reader (calamine) could not.

readers.py tries calamine first. When it fails for a reason it cannot explain, the library made for that format
reads the file (xlrd for the legacy BIFF2–BIFF8 .xls, openpyxl for xlsx and xlsm); what neither reads (an xlsb
or ods calamine cannot parse, an unusual workbook) is converted to .xlsx by LibreOffice, headless, into a
temporary folder, with a time limit and a memory limit, and the converted copy is read. The raw file is only
ever read. Where LibreOffice is not installed, the unit is told the file needs re-saving as .xlsx.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from pipeline import platforms, workers
from pipeline.ingest import formatting
from pipeline.ingest.sheets import MAX_GRID_CELLS, ReadError, Sheet, cell_name, too_big

SOFFICE_NAMES = ("soffice", "libreoffice")
# A conversion that takes longer than this is stopped (a file LibreOffice loops on).
CONVERT_TIMEOUT_S = 90
# The address space LibreOffice may use while converting one file.
CONVERT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024

RESAVE = "请用 Excel 或 WPS 打开确认能正常显示后，另存为 .xlsx 重新发送"


def corrupt() -> ReadError:
    """A file no reader of the chain can open."""
    return ReadError("文件已损坏，或不是能打开的表格文件（Excel、WPS、LibreOffice 均无法读取）", RESAVE)


# --------------------------------------------------------------------------- xlrd: legacy .xls, BIFF2 to BIFF8


def read_xls(path: Path, rel: str) -> list[Sheet]:
    """Every worksheet of a legacy .xls with xlrd, its formatting facts with it when xlrd can read them."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, ragged_rows=True, logfile=io.StringIO())
        facts = formatting.xls_book_facts(book)
    except Exception:  # noqa: BLE001 - the formatting records are what fails most: read the values without them
        book = xlrd.open_workbook(str(path), ragged_rows=True, logfile=io.StringIO())
        facts = None
    sheets = []
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        width = max((sheet.row_len(r) for r in range(sheet.nrows)), default=0)
        if sheet.nrows * width > MAX_GRID_CELLS:
            raise too_big(sheet.name, cell_name(sheet.nrows - 1, width - 1), sheet.nrows * width)
        rows = [[_xls_value(sheet, r, c, book.datemode) for c in range(width)] for r in range(sheet.nrows)]
        merged = [((rlo, clo), (rhi - 1, chi - 1)) for rlo, rhi, clo, chi in sheet.merged_cells]
        found = Sheet(file=rel, name=sheet.name, rows=rows, hidden=bool(sheet.visibility), merged=merged,
                      reader="xlrd")
        if facts is None:
            found.unchecked = formatting.CHECKED_FACTS
        elif sheet.name in facts:
            fact = facts[sheet.name]
            found.percent_cells, found.error_cells, found.hidden_cols = (fact.percent_cells, fact.error_cells,
                                                                          fact.hidden_cols)
        sheets.append(found)
    return sheets


def _xls_value(sheet, r: int, c: int, datemode: int) -> Any:
    import xlrd

    if c >= sheet.row_len(r):
        return ""
    kind, value = sheet.cell_type(r, c), sheet.cell_value(r, c)
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return None
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    return value


# --------------------------------------------------------------------------- openpyxl: xlsx and xlsm


def read_ooxml(path: Path, rel: str) -> list[Sheet]:
    """Every worksheet of an xlsx or xlsm with openpyxl (the cached values of formulas), with hidden rows and
    columns, merged ranges, percent-formatted and error cells."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its warnings are English and about parts a return does not use
        book = openpyxl.load_workbook(_final_namespaces(path), data_only=True)
        return [_openpyxl_sheet(ws, rel) for ws in book.worksheets]


# Excel 2007's beta wrote SpreadsheetML under a namespace of its own, and shared strings as <sstItem>; the rest is
# the released markup.
_BETA_NAMESPACE = b"http://schemas.microsoft.com/office/excel/2006/2"
_MAIN_NAMESPACE = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _final_namespaces(path: Path) -> io.BytesIO:
    """The package in memory, its beta-namespace parts given the released namespace (a copy; the raw file is
    only read)."""
    copy = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".xml") and _BETA_NAMESPACE in data:
                data = data.replace(_BETA_NAMESPACE, _MAIN_NAMESPACE)
                data = data.replace(b"<sstItem>", b"<si>").replace(b"</sstItem>", b"</si>")  # shared strings
            target.writestr(info.filename, data)
    copy.seek(0)
    return copy


def _openpyxl_sheet(ws, rel: str) -> Sheet:
    height, width = ws.max_row, ws.max_column
    if height * width > MAX_GRID_CELLS:
        raise too_big(ws.title, cell_name(height - 1, width - 1), height * width)
    rows = [["" for _ in range(width)] for _ in range(height)]
    percent, errors = set(), {}
    for row in ws.iter_rows():
        for cell in row:
            r, c = cell.row - 1, cell.column - 1
            value = cell.value
            if cell.data_type == "e":
                errors[(r, c)] = str(value)
                value = None
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in str(cell.number_format):
                if formatting.is_percent_format(str(cell.number_format)):
                    percent.add((r, c))
            rows[r][c] = None if (r, c) in errors else ("" if value is None else value)
    merged = [((m.min_row - 1, m.min_col - 1), (m.max_row - 1, m.max_col - 1)) for m in ws.merged_cells.ranges]
    hidden_rows = {r - 1 for r, d in ws.row_dimensions.items() if d.hidden}
    hidden_cols = set()
    for d in ws.column_dimensions.values():
        if d.hidden and d.min and d.max:
            hidden_cols.update(range(d.min - 1, min(d.max, formatting.MAX_TABLE_COLUMNS)))
    return Sheet(file=rel, name=ws.title, rows=rows, hidden=ws.sheet_state != "visible", merged=merged,
                 hidden_rows=hidden_rows, percent_cells=percent, error_cells=errors, hidden_cols=hidden_cols,
                 reader="openpyxl")


# --------------------------------------------------------------------------- LibreOffice: everything else


def find_soffice() -> str | None:
    """LibreOffice's soffice, or None. SOFFICE=/path overrides the search (an empty SOFFICE: none)."""
    if "SOFFICE" in os.environ:
        chosen = os.environ["SOFFICE"]
        return chosen if chosen and Path(chosen).is_file() else None
    on_path = next((found for name in SOFFICE_NAMES if (found := shutil.which(name))), None)
    if on_path or not platforms.windows_like():
        return on_path
    # Windows: LibreOffice's installer does not put soffice on PATH.
    installed = [Path(os.environ[v]) / "LibreOffice" / "program" / "soffice.exe"
                 for v in ("ProgramFiles", "ProgramFiles(x86)") if os.environ.get(v)]
    return next((str(path) for path in installed if path.is_file()), None)


def convert_with_libreoffice(path: Path, folder: Path) -> Path:
    """A copy of path converted to .xlsx in folder (a temporary one the caller owns); the raw file is only read.
    ReadError when LibreOffice is not installed, gives up, or takes too long."""
    soffice = find_soffice()
    if soffice is None:
        raise ReadError("该文件的格式较旧或较少见，本机未安装 LibreOffice，无法转换读取",
                        "请用 Excel 或 WPS 打开后另存为 .xlsx 重新发送")
    source = folder / f"source{path.suffix.lower()}"
    shutil.copyfile(path, source)
    profile, out = folder / "profile", folder / "out"
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)]
    env = {**os.environ, "HOME": str(folder)}
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=env, start_new_session=True,
                          preexec_fn=_limit_memory if platforms.has_rlimit() else None) as process:
        try:
            process.wait(timeout=CONVERT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            workers.kill_tree(process)
            process.wait()
            raise ReadError(f"转换该文件超过 {CONVERT_TIMEOUT_S} 秒仍未完成，已停止，文件可能已损坏", RESAVE) from None
    converted = out / "source.xlsx"
    if converted.is_file() and converted.stat().st_size > 0:
        return converted
    if process.returncode != 0:  # LibreOffice itself failed (out of memory, a crash): nothing said about the file
        raise ReadError("转换该文件时 LibreOffice 意外退出，未能读取", RESAVE)
    raise corrupt()  # it ran and could not load the file


def _limit_memory() -> None:
    import resource  # not on Windows: there the conversion runs without this limit (platforms.has_rlimit)

    resource.setrlimit(resource.RLIMIT_AS, (CONVERT_MEMORY_BYTES, CONVERT_MEMORY_BYTES))


def temporary_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="pipeline-convert-")
