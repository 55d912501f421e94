"""Workbooks built by hand the way old programs and LibreOffice write them, for the reading corpus
(tests/test_reading_corpus.py): bare BIFF2 and BIFF4 streams (Excel 2.x and 4.0 saved a sheet without an OLE
container), an Excel 2007 beta package, and LibreOffice saving a return with an open password or an embedded
Word document (a StarBasic macro in a throwaway profile: LibreOffice's command line has no such option)."""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

from layouts import soffice


def _record(kind: int, payload: bytes) -> bytes:
    return struct.pack("<HH", kind, len(payload)) + payload


def write_biff(path: Path, rows: list[list], version: int, codepage: int = 936) -> Path:
    """A bare BIFF2 (version 2) or BIFF4 (version 4) worksheet stream, text in the given Windows code page
    (936: GBK, what Chinese Windows wrote)."""
    encoding = {936: "gbk", 1252: "cp1252"}[codepage]
    height, width = len(rows), max(map(len, rows))
    if version == 2:
        out = _record(0x0009, struct.pack("<HH", 0x0002, 0x0010))
        out += _record(0x0042, struct.pack("<H", codepage))
        out += _record(0x0000, struct.pack("<HHHH", 0, height, 0, width))
    else:
        out = _record(0x0409, struct.pack("<HHH", 0x0000, 0x0010, 0x0000))
        out += _record(0x0042, struct.pack("<H", codepage))
        out += _record(0x0200, struct.pack("<HHHHH", 0, height, 0, width, 0))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                out += (_record(0x0003, struct.pack("<HH3sd", r, c, b"\0\0\0", float(value))) if version == 2
                        else _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value))))
            else:
                text = str(value).encode(encoding)
                out += (_record(0x0004, struct.pack("<HH3sB", r, c, b"\0\0\0", len(text)) + text) if version == 2
                        else _record(0x0204, struct.pack("<HHHH", r, c, 0, len(text)) + text))
    out += _record(0x000A, b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out)
    return path


BETA_NAMESPACE = b"http://schemas.microsoft.com/office/excel/2006/2"
MAIN_NAMESPACE = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def as_excel_2007_beta(xlsx: Path, out: Path) -> Path:
    """The package as Excel 2007's beta wrote it: SpreadsheetML under the beta namespace, shared strings as
    <sstItem> (compare tests/fixtures/corpus/poi-sample-beta.xlsx)."""
    with zipfile.ZipFile(xlsx) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if MAIN_NAMESPACE in data:
                data = data.replace(MAIN_NAMESPACE, BETA_NAMESPACE).replace(b"<si>", b"<sstItem>")
                data = data.replace(b"</si>", b"</sstItem>")
            target.writestr(info, data)
    return out


_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub Save(src As String, dst As String, filter As String, password As String, clsid As String, guard As String)
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = &quot;Hidden&quot;
  args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), &quot;_blank&quot;, 0, args())
  If Len(clsid) > 0 Then
    shape = doc.createInstance(&quot;com.sun.star.drawing.OLE2Shape&quot;)
    doc.Sheets.getByIndex(0).DrawPage.add(shape)
    Dim size As New com.sun.star.awt.Size
    size.Width = 4000
    size.Height = 3000
    shape.Size = size
    shape.CLSID = clsid
  End If
  If guard &lt;&gt; &quot;-&quot; Then
    doc.protect(guard)
  End If
  If Len(password) > 0 Then
    Dim locked(1) As New com.sun.star.beans.PropertyValue
    locked(0).Name = &quot;FilterName&quot;
    locked(0).Value = filter
    locked(1).Name = &quot;Password&quot;
    locked(1).Value = password
    doc.storeToURL(ConvertToURL(dst), locked())
  Else
    Dim plain(0) As New com.sun.star.beans.PropertyValue
    plain(0).Name = &quot;FilterName&quot;
    plain(0).Value = filter
    doc.storeToURL(ConvertToURL(dst), plain())
  End If
  doc.close(True)
End Sub
</script:module>
"""
FILTERS = {".xls": "MS Excel 97", ".ods": "calc8", ".xlsx": "Calc MS Excel 2007 XML"}
WRITER_CLSID = "8BC6B165-B1B2-4EDD-AA47-DAE2EE689DD6"  # a LibreOffice Writer (Word) document


def libreoffice_save(src: Path, out: Path, *, password: str = "", embed_word: bool = False,
                     structure_password: str | None = None) -> Path:
    """src saved by LibreOffice as out (format by its suffix), with an open password, an embedded Word document,
    and/or the workbook's structure protected (structure_password; "" protects it without a password)."""
    binary = soffice()
    with tempfile.TemporaryDirectory(prefix="lo-macro-") as folder:
        profile = Path(folder) / "profile"
        subprocess.run([binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--terminate_after_init"],
                       check=True, capture_output=True, timeout=90)
        (profile / "user" / "basic" / "Standard" / "Module1.xba").write_text(_MODULE, encoding="utf-8")
        clsid = WRITER_CLSID if embed_word else ""
        macro = (f'macro:///Standard.Module1.Save("{src.resolve()}","{out.resolve()}",'
                 f'"{FILTERS[out.suffix]}","{password}","{clsid}",'
                 f'"{"-" if structure_password is None else structure_password}")')
        _run_or_kill([binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", macro])
    if not out.is_file():
        raise FileNotFoundError(out)
    return out


def _run_or_kill(command: list[str], timeout: int = 90) -> None:
    """Run soffice; on a timeout (a macro error waits for a dialog no one sees) kill it and its children."""
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True) as process:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise


def truncated(src: Path, out: Path, keep: float = 0.5) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


