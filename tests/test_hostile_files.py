"""Files that must never stop a round (issue 10): each is a real file, made the way an office PC or a web
system makes it. Every case asserts the Chinese message naming the file, that the rest of the round is
still cleaned with a balanced ledger, and that the raw bytes are untouched."""
from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwt
from office import project_row, project_sheet, write_csv, write_round, write_xls, write_xlsx
from test_bad_returns import UNITS, assert_rejected_file, good_return, raw, run

from pipeline.ingest import readers

HEADER = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under the round folder and a digest of its bytes (symlinks by their target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            out[path.as_posix()] = "-> " + os.readlink(path)
        elif path.is_file():
            out[path.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def untouched(tmp_path):
    """Call it after the files are written; it checks, at the end of the test, that no raw byte changed."""
    taken = {}

    def take():
        if not (raw(tmp_path) / "round.yml").exists():
            write_round(raw(tmp_path), UNITS)
        taken.update(fingerprint(raw(tmp_path)))

    yield take
    assert taken and fingerprint(raw(tmp_path)) == taken, "raw files must never be modified"


def far_cell_xlsx(path: Path, cell: str) -> Path:
    """A good return in which someone typed one character far outside the table (Ctrl+End, then typing)."""
    write_xlsx(path, {"S": project_sheet([project_row(1, "F1", "远处有字的项目")])[0]})
    book = openpyxl.load_workbook(path)
    book["S"][cell] = "x"
    book.save(path)
    return path


# ---------------------------------------------------------------------------- a far cell, and memory


@pytest.mark.parametrize("cell", ["XFD5000", "XFD1048576"])
def test_one_cell_far_outside_the_table_is_named_and_the_round_goes_on(tmp_path, untouched, cell):
    good_return(tmp_path)
    path = far_cell_xlsx(raw(tmp_path) / "交通运输厅.xlsx", cell)
    assert path.stat().st_size < 10 * 1024  # a 5 KB file
    untouched()
    result, sent_back = run(tmp_path)
    assert_rejected_file(result, sent_back, "交通运输厅.xlsx", f"工作表“S”中的单元格 {cell} 远离表格")
    assert any(f"请删除表格之外多余的行列（或清除单元格 {cell} 的内容）" in row[7] for row in sent_back
               if row[1] == "交通运输厅.xlsx")


def test_formatting_far_outside_the_table_is_not_content(tmp_path, untouched):
    """Borders or bold applied to a whole row leave styled empty cells at XFD: they never size the grid."""
    path = write_xlsx(raw(tmp_path) / "银川市.xlsx", {"S": project_sheet([project_row(1, "B1", "加粗整行的项目")])[0]})
    book = openpyxl.load_workbook(path)
    book["S"]["XFD1048576"].font = openpyxl.styles.Font(bold=True)
    book.save(path)
    untouched()
    result, _ = run(tmp_path)
    assert set(result.tables["projects"]["project_name"]) == {"加粗整行的项目"}
    sheet = readers.read_return(path, "银川市.xlsx")[0]
    assert len(sheet.rows) < 20 and max(map(len, sheet.rows)) == 16


def lying_dimension(path: Path) -> Path:
    """The far cell, with the sheet's stated dimension edited to look small: only the memory limit stops it."""
    far_cell_xlsx(path, "XFD5000")
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:XFD5000"', b'<dimension ref="A1:P8"')
            out.writestr(info, data)
    return path


def test_running_out_of_memory_on_one_file_is_a_file_error_naming_it(tmp_path, untouched, capfd):
    good_return(tmp_path)
    lying_dimension(raw(tmp_path) / "交通运输厅.xlsx")
    untouched()
    assert_rejected_file(*run(tmp_path), "交通运输厅.xlsx", "读取该文件所需的内存超过上限")
    printed = capfd.readouterr()
    # the worker's abort stays silent
    assert "memory allocation" not in printed.err and "Fatal Python error" not in printed.err


def test_a_legacy_xls_with_a_cell_at_iv65536_is_bounded_too(tmp_path, untouched):
    good_return(tmp_path)
    path = raw(tmp_path) / "交通运输厅.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("S")
    for c, value in enumerate(HEADER):
        sheet.write(0, c, value)
    sheet.write(65535, 255, "x")  # the last cell of an xls sheet: 16.7 million cells as a grid
    book.save(str(path))
    untouched()
    assert_rejected_file(*run(tmp_path), "交通运输厅.xls", "内存超过上限")


PEAK = """
import resource, sys
from pathlib import Path
from pipeline.ingest import readers
try:
    readers.read_return(Path(sys.argv[1]), "f")
except readers.ReadError as exc:
    print(exc.problem)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


@pytest.mark.parametrize("make", ["far_xlsx", "lying_xlsx"])
def test_peak_memory_of_reading_one_hostile_file_stays_bounded(tmp_path, make):
    """Measured in a fresh process: the worker's peak resident memory (the kernel's own count)."""
    path = tmp_path / "f.xlsx"
    far_cell_xlsx(path, "XFD1048576") if make == "far_xlsx" else lying_dimension(path)
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent.parent)
    message, peak = done.stdout.strip().splitlines()
    assert "远离表格" in message or "内存超过上限" in message
    assert int(peak) < readers.READ_MEMORY_BUDGET + 200 * 1024 * 1024, f"worker peak {int(peak) / 2**20:.0f} MB"


def test_a_file_read_in_the_worker_gives_the_same_sheets_as_in_process(tmp_path):
    rows, merges = project_sheet([project_row(1, "W1", "甲"), project_row(2, "W2", "乙")])
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows}, {"S": merges})
    assert readers.read_return(path, "a.xlsx") == readers.read_return(path, "a.xlsx", isolate=False)


# ---------------------------------------------------------------------------- formats Excel opens


def _record(kind: int, payload: bytes = b"") -> bytes:
    """One BIFF12 record (MS-XLSB 2.1.4): type and size as 7-bit variable-length integers, then the payload."""
    head = bytearray([kind & 0x7F | (0x80 if kind >= 0x80 else 0)] + ([kind >> 7] if kind >= 0x80 else []))
    size = len(payload)
    while True:
        head.append(size & 0x7F | (0x80 if size >> 7 else 0))
        size >>= 7
        if not size:
            return bytes(head) + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_xlsb(path: Path, sheet: str, rows: list[list]) -> Path:
    """A minimal Excel binary workbook (MS-XLSB): workbook.bin naming one sheet, the sheet's cells as
    BrtCellReal / BrtCellSt records. No Python library writes xlsb; this is the format Excel saves."""
    workbook = (_record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(sheet)) + _record(0x90)
                + _record(0x9D, bytes(26)))
    width = max(map(len, rows))
    cells = _record(0x81) + _record(0x94, struct.pack("<IIII", 0, len(rows) - 1, 0, width - 1)) + _record(0x91)
    for r, row in enumerate(rows):
        cells += _record(0x00, struct.pack("<I", r) + bytes(13))
        for c, value in enumerate(row):
            if value is None:
                continue
            head = struct.pack("<II", c, 0)
            number = isinstance(value, (int, float))
            cells += (_record(0x05, head + struct.pack("<d", value)) if number
                      else _record(0x06, head + _wide(str(value))))
    cells += _record(0x92) + _record(0x82)
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/content-types"/>')
        book.writestr("xl/workbook.bin", workbook)
        book.writestr("xl/_rels/workbook.bin.rels", rels)
        book.writestr("xl/worksheets/sheet1.bin", cells)
    return path


def test_xlsb_is_read(tmp_path, untouched):
    write_xlsb(raw(tmp_path) / "银川市.xlsb", "项目", [HEADER, [1, "二进制格式项目", "第一批", 100, 50, "是"]])
    untouched()
    result, _ = run(tmp_path)
    projects = result.tables["projects"]
    assert projects["project_name"].tolist() == ["二进制格式项目"] and projects["completed"].tolist() == [50.0]
    assert "not_a_table" not in set(result.problems["code"])


def test_wps_et_file_is_read_when_it_is_a_legacy_workbook(tmp_path, untouched):
    write_xls(tmp_path / "x.xls", {"S": [HEADER, [1, "WPS项目", "第一批", 100, 50, "是"]]})
    (raw(tmp_path) / "银川市.et").write_bytes((tmp_path / "x.xls").read_bytes())  # WPS saves .et in the xls format
    untouched()
    assert run(tmp_path)[0].tables["projects"]["project_name"].tolist() == ["WPS项目"]


def test_wps_et_file_that_cannot_be_read_asks_for_xlsx(tmp_path, untouched):
    good_return(tmp_path)
    # a WPS-only container
    (raw(tmp_path) / "交通运输厅.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2040))
    untouched()
    result, sent_back = run(tmp_path)
    assert_rejected_file(result, sent_back, "交通运输厅.et", "WPS 表格（.et）")
    assert any("请另存为 .xlsx" in row[7] for row in sent_back if row[1] == "交通运输厅.et")


def html_export(rows: list[list], merges: list, charset: str = "gb2312") -> str:
    """A table as web systems export it for Excel: HTML with Excel's namespaces, merged cells as colspan/rowspan."""
    spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in merges}
    covered = {(r, c) for (r1, c1), (h, w) in spans.items()
               for r in range(r1, r1 + h) for c in range(c1, c1 + w)} - set(spans)
    lines = ['<html xmlns:o="urn:schemas-microsoft-com:office:office" '
             'xmlns:x="urn:schemas-microsoft-com:office:excel">',
             f'<head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>'
             '<body><table border="1">']
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            h, w = spans.get((r, c), (1, 1))
            attrs = (f' rowspan="{h}"' if h > 1 else "") + (f' colspan="{w}"' if w > 1 else "")
            cells.append(f"<td{attrs}>{'' if value is None else value}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(lines + ["</table></body></html>"])


def test_html_table_saved_as_xls_is_read_with_its_merged_header(tmp_path, untouched):
    rows, merges = project_sheet([project_row(1, "H1", "网页导出项目", start="2021-03-15"),
                                  project_row(2, "H2", "第二个项目")])
    (raw(tmp_path) / "银川市.xls").write_bytes(html_export(rows, merges).encode("gbk"))
    untouched()
    result, _ = run(tmp_path)
    projects = result.tables["projects"]
    assert projects["project_name"].tolist() == ["网页导出项目", "第二个项目"]
    assert projects["annual_plan"].tolist() == [500.0, 500.0] and projects["completed"].tolist() == [300.0, 300.0]
    assert "unreadable" not in set(result.problems["code"])


def test_tab_separated_text_saved_as_xls_is_read(tmp_path, untouched):
    text = "\n".join("\t".join(str(v) for v in row) for row in [HEADER, [1, "制表符项目", "第一批", 100, 50, "是"]])
    (raw(tmp_path) / "银川市.xls").write_bytes(text.encode("gbk"))
    (raw(tmp_path) / "交通运输厅.xls").write_bytes(  # Excel's "Unicode 文本": UTF-16 with a byte order mark
        "\r\n".join("\t".join(str(v) for v in row)
                    for row in [HEADER, [1, "统一码文本项目", "第一批", 80, 40, "是"]]).encode("utf-16"))
    untouched()
    result, _ = run(tmp_path)
    assert sorted(result.tables["projects"]["project_name"]) == sorted(["制表符项目", "统一码文本项目"])


@pytest.mark.parametrize("content, message", [
    (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"x\"\r\n\r\n--x\r\n", "网页存档（MHT）"),
    ('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-microsoft-com:'
     'office:spreadsheet"><Worksheet ss:Name="S"></Worksheet></Workbook>'.encode(), "Excel 2003 XML 表格"),
    ("<html><body><p>系统维护中</p></body></html>".encode(), "网页（HTML）文件"),
])
def test_other_text_saved_as_xls_says_what_it_is(tmp_path, untouched, content, message):
    good_return(tmp_path)
    (raw(tmp_path) / "交通运输厅.xls").write_bytes(content)
    untouched()
    assert_rejected_file(*run(tmp_path), "交通运输厅.xls", message)


# ---------------------------------------------------------------------------- names, links, long cells


def test_editor_lock_files_are_skipped_with_a_hint_and_dot_names_are_read(tmp_path, untouched):
    write_xlsx(raw(tmp_path) / ".银川市.xlsx", {"S": [HEADER, [1, "点开头的文件", "第一批", 100, 50, "是"]]})
    (raw(tmp_path) / "~$.银川市.xlsx").write_bytes(b"\x05zhang" + bytes(160))  # Excel: owner name, 165 bytes
    (raw(tmp_path) / ".~lock.交通运输厅.xlsx#").write_text("张三,DESKTOP-1,DESKTOP-1,01.12.2026 10:00,file:///C:/Users/张三;",
                                                           encoding="utf-8")  # LibreOffice / WPS on Linux
    untouched()
    files = readers.list_round_files(raw(tmp_path))
    assert [p.name for p in files.returns] == [".银川市.xlsx"]
    assert sorted(p.name for p in files.lock_files) == sorted(["~$.银川市.xlsx", ".~lock.交通运输厅.xlsx#"])
    assert not files.other
    result, _ = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["点开头的文件"]
    hints = result.problems[result.problems["code"] == "lock_file"]
    assert len(hints) == 2 and set(hints["severity"]) == {"提示"} and "临时锁定文件，已跳过" in hints.iloc[0]["problem"]
    assert "not_a_table" not in set(result.problems["code"])


def test_csv_cell_longer_than_131072_characters_is_read(tmp_path, untouched):
    long_note = "进展说明" * 50_000  # 200,000 characters in one cell
    write_csv(raw(tmp_path) / "银川市.csv", [HEADER + ["备注"], [1, "长备注项目", "第一批", 100, 50, "是", long_note]])
    untouched()
    result, _ = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["长备注项目"]
    assert "cleaner_failed" not in set(result.problems["code"])


def test_symlinks_pointing_outside_the_round_are_reported_not_followed(tmp_path, untouched):
    good_return(tmp_path)
    outside = tmp_path / "别处"
    write_xlsx(outside / "秘密.xlsx", {"S": [HEADER, [1, "不该读到的项目", "第一批", 100, 50, "是"]]})
    (raw(tmp_path) / "交通运输厅.xlsx").symlink_to(outside / "秘密.xlsx")
    (raw(tmp_path) / "吴忠市").symlink_to(outside, target_is_directory=True)
    (raw(tmp_path) / "银川市" / "副本.xlsx").symlink_to(raw(tmp_path) / "银川市" / "好表.xlsx")  # inside: read
    untouched()
    files = readers.list_round_files(raw(tmp_path))
    assert sorted(p.name for p in files.outside_links) == ["交通运输厅.xlsx", "吴忠市"]
    result, sent_back = run(tmp_path)
    assert "不该读到的项目" not in set(result.tables["projects"]["project_name"])
    assert_rejected_file(result, sent_back, "交通运输厅.xlsx", "指向轮次文件夹之外的链接")
    assert result.ledger.set_index("file").loc["吴忠市", "status"] == "无法读取"
    assert (result.ledger["file"] == "银川市/副本.xlsx").any()


def test_macos_appledouble_file_says_what_it_is(tmp_path, untouched):
    good_return(tmp_path)
    (raw(tmp_path) / "._交通运输厅.xlsx").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(4000))
    untouched()
    assert_rejected_file(*run(tmp_path), "._交通运输厅.xlsx", "macOS 复制文件时生成的附属文件")


# ---------------------------------------------------------------------------- percent and error cells


def test_percent_formatted_and_error_cells_are_exposed_per_sheet(tmp_path):
    path = tmp_path / "指标.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "指标"
    ws.append(["指标", "增速", "完成率", "备注"])
    ws.append(["地区生产总值", 0.085, 0.876, "8.5%"])
    ws["B2"].number_format = "0.0%"
    ws["C2"].number_format = "0%"  # built-in format 9
    ws.append(["投资", None, None, None])
    ws["B3"] = "#DIV/0!"
    ws["B3"].data_type = "e"
    ws["C3"] = "=1/0"
    ws["D3"] = 12.5
    ws["D3"].number_format = '0.0"%"'  # a quoted % is text, not a percentage
    book.save(path)
    _cached_error(path, "C3", "#DIV/0!")  # Excel saves a formula's error result as <c t="e"><f>…</f><v>#DIV/0!</v>
    sheet = readers.read_return(path, "指标.xlsx")[0]
    assert sheet.percent_cells == {(1, 1), (1, 2)}
    assert sheet.error_cells == {(2, 1): "#DIV/0!", (2, 2): "#DIV/0!"}
    assert sheet.rows[1][1] == pytest.approx(0.085) and sheet.rows[2][1] is None and sheet.rows[2][2] is None


def _cached_error(path: Path, cell: str, error: str) -> None:
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            if info.filename == "xl/worksheets/sheet1.xml":
                start = data.index(f'<c r="{cell}"'.encode())
                end = data.index(b"</c>", start) + 4
                data = data[:start] + f'<c r="{cell}" t="e"><f>1/0</f><v>{error}</v></c>'.encode() + data[end:]
            out.writestr(info, data)


@pytest.mark.parametrize("code, text", [(0x07, "#DIV/0!"), (0x2A, "#N/A"), (0x0F, "#VALUE!"), (0x17, "#REF!")])
def test_percent_formatted_and_error_cells_of_a_legacy_xls(tmp_path, code, text):
    path = tmp_path / "a.xls"
    book = xlwt.Workbook()
    ws = book.add_sheet("S")
    ws.write(0, 0, "增速")
    ws.row(1).set_cell_error(0, code)  # xlwt's own table of error names is wrong: the BIFF codes are used
    ws.write(2, 0, 0.085, xlwt.easyxf(num_format_str="0.0%"))
    ws.write(3, 0, 0.085, xlwt.easyxf(num_format_str="0.00"))
    ws.write(4, 0, "#DIV/0!")  # typed as text: not an error cell
    book.save(str(path))
    sheet = readers.read_return(path, "a.xls")[0]
    assert sheet.error_cells == {(1, 0): text} and sheet.rows[1][0] is None
    assert sheet.percent_cells == {(2, 0)} and sheet.rows[2][0] == pytest.approx(0.085)
    assert sheet.rows[4][0] == "#DIV/0!"


def test_a_large_xlsx_that_fits_is_read_in_process_and_one_with_a_far_cell_in_the_worker(tmp_path, monkeypatch):
    import xlsxwriter

    def large(path, far=None):
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = book.add_worksheet("S")
        ws.write_row(0, 0, HEADER)
        for r in range(1, 5_000):
            ws.write_row(r, 0, [r, f"大表项目{r}", "第一批", 100 + r, 50, "是"])
        if far:
            ws.write(30_000, 16_000, "x")
        book.close()
        assert path.stat().st_size > readers.IN_PROCESS_ABOVE_BYTES
        return path

    monkeypatch.setattr(readers, "IN_PROCESS_ABOVE_BYTES", 64 * 1024)  # "large", without a 10 MB file in the test
    workers = []
    real = readers._in_worker
    monkeypatch.setattr(readers, "_in_worker", lambda *args: workers.append(args[1].name) or real(*args))
    sheet = readers.read_return(large(tmp_path / "fits.xlsx"), "fits.xlsx")[0]
    assert len(sheet.rows) == 5_000 and sheet.rows[-1][1] == "大表项目4999" and workers == []
    with pytest.raises(readers.ReadError, match=f"单元格 {readers.cell_name(30_000, 16_000)} 远离表格"):
        readers.read_return(large(tmp_path / "far.xlsx", far=True), "far.xlsx")
    assert workers == ["far.xlsx"]


def test_a_worker_that_crashes_is_a_file_error_not_a_memory_one(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", {"S": [HEADER]})

    def crashes(*_):
        os.kill(os.getpid(), signal.SIGSEGV)

    with pytest.raises(readers.ReadError, match="读取程序意外退出，文件可能已损坏"):
        readers._in_worker(crashes, path, "a.xlsx", readers.READ_MEMORY_BUDGET)


def test_a_dangling_link_is_named_as_such(tmp_path, untouched):
    good_return(tmp_path)
    (raw(tmp_path) / "交通运输厅.xlsx").symlink_to(tmp_path / "已删除.xlsx")
    untouched()
    assert_rejected_file(*run(tmp_path), "交通运输厅.xlsx", "失效的链接")
