"""Every file an office can send is read, or refused for its true reason (issue 22).

Real files from the test corpora of spreadsheet libraries (tests/fixtures/corpus/, origins and licences in its
README.md), and variants of each pattern built by hand (tests/corpus_files.py): each is read, by the reader of the
chain that can, or refused with the reason the unit can act on; and nothing anyone reads holds an exception class
name or “nan”."""
from __future__ import annotations

import os
import re
import shutil
import signal
import zipfile
from pathlib import Path

import openpyxl
import pytest
from corpus_files import as_excel_2007_beta, libreoffice_save, truncated, write_biff
from office import project_row, project_sheet, write_xls, write_xlsx
from test_bad_returns import UNITS, good_return, raw, run

from pipeline.ingest import fallback, feedback, quality, readers

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
ENCRYPTED = "文件设置了打开密码"
CORRUPT = "文件已损坏"
def soffice() -> str | None:
    """LibreOffice as the pipeline finds it (SOFFICE= overrides the search)."""
    return fallback.find_soffice()


needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) 未安装")

# file -> ("read", reader, sheet, a value in it) | ("refused", words of the reason)
EXPECTED = {
    # encrypted, in every format: RC4 CryptoAPI, RC4, XOR (BIFF8 and BIFF5), Agile/Standard (xlsx, xlsb), ODF
    "sheetjs-password_2002_40_basecrypto.xls": ("refused", ENCRYPTED),
    "sheetjs-password_2002_128_strong.xls": ("refused", ENCRYPTED),
    "sheetjs-biff5-password_2002_40_xor.xls": ("refused", ENCRYPTED),
    "poi-xor-encryption-abc.xls": ("refused", ENCRYPTED),
    "poi-password.xls": ("refused", ENCRYPTED),
    "calamine-pass_protected.xlsx": ("refused", ENCRYPTED),
    "poi-protected_sha512.xlsx": ("refused", ENCRYPTED),
    "calamine-pass_protected.xlsb": ("refused", ENCRYPTED),
    "poi-protected_passtika.xlsb": ("refused", ENCRYPTED),
    "calamine-pass_protected.ods": ("refused", ENCRYPTED),
    # old BIFF versions: BIFF3 and BIFF4 (xlrd), BIFF5 (calamine)
    "poi-testEXCEL_3.xls": ("read", "xlrd", "Sheet 1", "California"),
    "poi-testEXCEL_4.xls": ("read", "xlrd", "Sheet 1", "Percentage of"),
    "xlrd-biff4_no_format_no_window2.xls": ("read", "xlrd", "Sheet 1", "DOG & CAT PRODUCTS"),
    "poi-testEXCEL_95.xls": ("read", "calamine", "Feuil1", "Sample Excel Worksheet - Numbers and their Squares"),
    # embedded objects: an OLE Word document in an .xls is still a workbook
    "poi-ole2-embedding.xls": ("read", "calamine", "Sheet1", 3.0),
    "poi-WithEmbeded.xlsx": ("read", "calamine", "Sheet1", "The second is a zip file"),
    # odd OOXML: Excel 2007 beta, an XLM macro sheet, strict OOXML, a chart sheet, a namespace prefix
    "poi-sample-beta.xlsx": ("read", "openpyxl", "Sheet1", "Lorem"),
    "poi-xlmmacro.xlsm": ("read", "openpyxl", "Sheet1", None),
    "poi-SampleSS.strict.xlsx": ("read", "calamine", "First Sheet", "Test spreadsheet"),
    "poi-chart_sheet.xlsx": ("read", "calamine", "Sheet1", "soap"),
    "calamine-nonstandard-xml-ns-prefix.xlsx": ("read", "calamine", "Sheet1", "a"),
    "sheetjs-wtf_path.xlsx": ("read", "calamine", "SheetJS", None),  # parts under wtf/, not xl/
    # written by a JavaScript library (exceljs): a sheet state calamine rejects, a range without its column
    "exceljs-test-row-styles.xlsx": ("read", "libreoffice", "Sheet1", "asdf"),
    "exceljs-test-issue-176.xlsx": ("read", "openpyxl", "Sheet", "Rating"),
    # xlsb: read by calamine; one with macro and dialog sheets only LibreOffice reads
    "poi-51519.xlsb": ("read", "calamine", "Sheet1", "RecordSpec"),
    "sheetjs-text_and_numbers.xlsb": ("read", "calamine", "Sheet1", "Hello"),
    "sheetjs-BlankSheetTypes.xlsb": ("read", "libreoffice", "Dialog1", None),
    # Apple Numbers: LibreOffice reads it
    "sheetjs-minimal_112.numbers": ("read", "libreoffice", "Table 1", "JS"),
    # really corrupt or not a spreadsheet; another program's file said as such
    "calamine-too_small.xls": ("refused", CORRUPT),
    "calamine-issue_594_dos.ods": ("refused", CORRUPT),
    "poi-PasswordProtected.doc": ("refused", "这是 Word 文档"),
}
LIBREOFFICE_ONLY = {"sheetjs-BlankSheetTypes.xlsb", "calamine-issue_594_dos.ods", "sheetjs-minimal_112.numbers",
                    "exceljs-test-row-styles.xlsx"}


def test_every_corpus_file_has_an_expectation_and_a_readme_line():
    files = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)
    assert sum(p.stat().st_size for p in CORPUS.iterdir()) < 1024 * 1024


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_read_or_refused_for_its_true_reason(name):
    if name in LIBREOFFICE_ONLY and soffice() is None:
        pytest.skip("LibreOffice (soffice) 未安装")
    expected = EXPECTED[name]
    before = (CORPUS / name).read_bytes()
    if expected[0] == "refused":
        with pytest.raises(readers.ReadError) as refused:
            readers.read_return(CORPUS / name, name)
        assert expected[1] in refused.value.problem
        assert_clean(str(refused.value))
    else:
        _, reader, sheet, value = expected
        sheets = {s.name: s for s in readers.read_return(CORPUS / name, name)}
        assert {s.reader for s in sheets.values()} == {reader}
        assert sheet in sheets
        if value is not None:
            assert value in [v for row in sheets[sheet].rows for v in row]
    assert (CORPUS / name).read_bytes() == before, "raw files are only read"


# ---------------------------------------------------------------------------- message hygiene

CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception|Warning)\b|\b(?:error|panic)\b|\bnan\b|"
                        r"\bNaN\b|Traceback|维护人员|header_aliases|别名表")


def assert_clean(text: str) -> None:
    found = CLASS_NAME.search(text)
    assert found is None, f"“{found.group(0)}” in: {text}"


def test_no_message_of_a_corpus_round_holds_a_class_name_nan_or_maintainer_advice(tmp_path):
    """The whole corpus as one round: the unit lists, 退回修改清单, the run summary, 附录一 and the red box."""
    good_return(tmp_path)
    for i, name in enumerate(sorted(EXPECTED)):
        folder = raw(tmp_path) / UNITS[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, folder / name)
    result, sent_back = run(tmp_path)
    refused = result.ledger[result.ledger["status"].isin(["无法读取", "未读取"])]  # a .doc is not even tried
    unread = {n for n, e in EXPECTED.items() if e[0] == "refused" or (soffice() is None and n in LIBREOFFICE_ONLY)}
    assert set(refused["file"].str.split("/").str[-1]) == unread
    texts = [str(cell) for row in sent_back for cell in row if cell is not None]
    texts += [str(v) for v in result.ledger["note"].dropna()]
    texts += feedback.run_summary(result).splitlines()
    units = list(dict.fromkeys([*result.ledger["unit"].astype(str), *result.missing_units]))
    q = quality.assess(result.ledger, result.problems, result.quarantine, result.tables, units)
    texts += quality.findings(q)
    for text in texts:
        assert_clean(text)
    assert q.excluded_units == list(dict.fromkeys(q.excluded_units)), "each unit once"


def test_a_rejected_file_without_a_sheet_is_never_said_as_nan(tmp_path):
    """The ledger read back from ledger.csv (step 2 reads it so) has no sheet for a file-level row."""
    good_return(tmp_path)
    (raw(tmp_path) / "交通运输厅.xlsx").write_bytes(b"%PDF-1.4 not a workbook")
    result, _ = run(tmp_path)
    processed = tmp_path / "processed"
    processed.mkdir()
    result.ledger.to_csv(processed / "ledger.csv", index=False)
    import pandas as pd
    ledger = pd.read_csv(processed / "ledger.csv", keep_default_na=False, na_values=[""])
    q = quality.assess(ledger, result.problems, result.quarantine, result.tables, UNITS)
    lines = quality.findings(q)
    assert any("交通运输厅.xlsx未能采用" in line for line in lines)
    for line in lines:
        assert_clean(line)


# ---------------------------------------------------------------------------- variants built by hand

HEADER = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]


def a_return(tmp_path: Path, name: str = "源.xlsx") -> Path:
    rows, merges = project_sheet([project_row(1, "V1", "手工变体项目")])
    return write_xlsx(tmp_path / "src" / name, {"项目": rows}, {"项目": merges})


@pytest.mark.parametrize("version", [2, 4])
def test_a_bare_biff_stream_of_old_excel_is_read_by_xlrd(tmp_path, version):
    path = write_biff(raw(tmp_path) / "银川市.xls", [HEADER, [1, "旧版Excel项目", "第一批", 100, 50, "是"]], version)
    sheets = readers.read_return(path, "银川市.xls")
    assert [s.reader for s in sheets] == ["xlrd"] and sheets[0].rows[1][1] == "旧版Excel项目"
    result, _ = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["旧版Excel项目"]
    assert "由旧版 Excel 读取程序（xlrd）" in result.ledger.set_index("file").loc["银川市.xls", "note"]
    how = result.header_map[result.header_map["how"] == "读取方式"]
    assert how["file"].tolist() == ["银川市.xls"]


def test_a_bare_biff_stream_with_a_filepass_record_is_encrypted(tmp_path):
    path = write_biff(tmp_path / "a.xls", [HEADER], 4)
    data = path.read_bytes()
    bof_end = 4 + 6
    path.write_bytes(data[:bof_end] + bytes([0x2F, 0x00, 0x04, 0x00, 0x12, 0x34, 0x56, 0x78]) + data[bof_end:])
    with pytest.raises(readers.ReadError, match=ENCRYPTED):
        readers.read_return(path, "a.xls")


def shared_strings_return(tmp_path: Path) -> Path:
    """A return as Excel writes it: text in the shared strings table (xlsxwriter writes it so)."""
    import xlsxwriter

    path = tmp_path / "src" / "共享字符串.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("项目")
    for r, row in enumerate([HEADER, [1, "手工变体项目", "第一批", 100, 50, "是"]]):
        sheet.write_row(r, 0, row)
    book.close()
    return path


def test_a_return_in_the_excel_2007_beta_format_is_read(tmp_path):
    path = as_excel_2007_beta(shared_strings_return(tmp_path), raw(tmp_path) / "银川市.xlsx")
    assert b"<sstItem>" in __import__("zipfile").ZipFile(path).read("xl/sharedStrings.xml")
    assert {s.reader for s in readers.read_return(path, "银川市.xlsx")} == {"openpyxl"}
    assert run(tmp_path)[0].tables["projects"]["project_name"].tolist() == ["手工变体项目"]


@needs_soffice
@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_a_return_libreoffice_saved_with_an_open_password_is_named_encrypted(tmp_path, suffix):
    good_return(tmp_path)
    libreoffice_save(a_return(tmp_path), raw(tmp_path) / f"交通运输厅{suffix}", password="1234")
    result, sent_back = run(tmp_path)
    rel = f"交通运输厅{suffix}"
    assert result.ledger.set_index("file").loc[rel, "status"] == "无法读取"
    assert any(row[1] == rel and ENCRYPTED in row[6] and "请取消密码后重新发送" in row[7] for row in sent_back)


@needs_soffice
@pytest.mark.parametrize("structure_password", ["", "abc"])
def test_an_xls_whose_structure_alone_is_protected_is_read(tmp_path, structure_password):
    """Excel and LibreOffice save a workbook whose structure is protected (no open password) with a FILEPASS
    record and the built-in default password; both open it without asking. calamine and xlrd call it
    password-protected: LibreOffice reads it."""
    path = libreoffice_save(a_return(tmp_path), raw(tmp_path) / "银川市.xls", structure_password=structure_password)
    with pytest.raises(Exception, match="(?i)password|encrypted"):
        __import__("xlrd").open_workbook(str(path))
    assert [s.reader for s in readers.read_return(path, "银川市.xls")] == ["libreoffice"]
    assert run(tmp_path)[0].tables["projects"]["project_name"].tolist() == ["手工变体项目"]


@needs_soffice
def test_a_return_with_an_embedded_word_document_is_read_as_excel(tmp_path):
    path = libreoffice_save(a_return(tmp_path), raw(tmp_path) / "银川市.xls", embed_word=True)
    assert "WordDocument".encode("utf-16-le") in path.read_bytes()  # the object is really in there
    result, _ = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["手工变体项目"]
    assert "unreadable" not in set(result.problems["code"])


@pytest.mark.parametrize("keep", [0.3, 0.6])
def test_a_truncated_legacy_xls_is_corrupt_or_read_never_misnamed(tmp_path, keep):
    """Half a file (a transfer cut short): refused as damaged, never as Word, PDF or password-protected."""
    src = write_xls(tmp_path / "src.xls", {"项目": [HEADER, [1, "截断项目", "第一批", 100, 50, "是"]] * 200})
    path = truncated(src, tmp_path / "a.xls", keep)
    try:
        readers.read_return(path, "a.xls")
    except readers.ReadError as exc:
        said = [CORRUPT, "不完整"] + (["本机未安装 LibreOffice"] if soffice() is None else [])
        assert any(words in exc.problem for words in said), exc.problem
        assert_clean(str(exc))


def moved_parts(xlsx: Path, out: Path, folder: str) -> Path:
    """The package with its workbook parts under another folder than xl/ (the relationships say where)."""
    with zipfile.ZipFile(xlsx) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info).replace(b"/xl/", f"/{folder}/".encode()).replace(b'"xl/', f'"{folder}/'.encode())
            target.writestr(info.filename.replace("xl/", f"{folder}/", 1), data)
    return out


@pytest.mark.parametrize("folder", ["wtf", "工作簿"])
def test_the_formatting_pass_finds_parts_wherever_the_package_puts_them(tmp_path, folder):
    src = write_xlsx(tmp_path / "src.xlsx", {"项目": [HEADER, [1, "隐藏行项目", "第一批", 100, 50, "是"],
                                                      [2, "可见项目", "第一批", 100, 50, "是"]]})
    book = openpyxl.load_workbook(src)
    book["项目"].row_dimensions[2].hidden = True
    book.save(src)
    path = moved_parts(src, tmp_path / "moved.xlsx", folder)
    assert not any(n.startswith("xl/") for n in zipfile.ZipFile(path).namelist())
    sheet, = readers.read_return(path, "moved.xlsx")
    assert sheet.hidden_rows == {1} and not sheet.unchecked and sheet.rows[1][1] == "隐藏行项目"
    assert {s.reader for s in readers.read_return(CORPUS / "sheetjs-wtf_path.xlsx", "x")} == {"calamine"}
    assert readers.read_return(CORPUS / "sheetjs-wtf_path.xlsx", "x")[0].hidden_rows == {4}


@needs_soffice
def test_a_numbers_file_renamed_to_xlsx_is_read_by_libreoffice(tmp_path):
    """A Mac user renames the Numbers file to .xlsx: its content says what it is."""
    path = tmp_path / "银川市.xlsx"
    shutil.copyfile(CORPUS / "sheetjs-minimal_112.numbers", path)
    sheets = readers.read_return(path, "银川市.xlsx")
    assert [s.reader for s in sheets] == ["libreoffice"] and sheets[0].rows[1][0] == 123


def test_not_a_spreadsheet_at_all_is_said_so(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(readers.ReadError, match=CORRUPT):
        readers.read_return(path, "a.xlsx")


def test_without_libreoffice_a_file_only_it_reads_is_refused_saying_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFFICE", "")
    with pytest.raises(readers.ReadError, match="本机未安装 LibreOffice"):
        readers.read_return(CORPUS / "sheetjs-BlankSheetTypes.xlsb", "x.xlsb")
    # a legacy .xls with a password is still named encrypted without it
    with pytest.raises(readers.ReadError, match=ENCRYPTED):
        readers.read_return(CORPUS / "poi-password.xls", "x.xls")


def broken_note(path: Path) -> Path:
    """The sheet's WSBOOL record (2 bytes) retyped as a NOTE: xlrd, which reads notes even for values, stops on it
    with a struct error, as on the damaged note records offices' files carry; calamine skips it."""
    data = bytearray(path.read_bytes())
    at = data.find(b"\x81\x00\x02\x00")
    assert at > 0 and data.count(b"\x81\x00\x02\x00") == 1
    data[at:at + 2] = b"\x1c\x00"
    path.write_bytes(bytes(data))
    return path


def unknown_style(path: Path) -> Path:
    """A number cell (an RK record) pointed at a cell style (XF) the file does not have: xlrd cannot type the cell and
    stops; calamine reads the number."""
    data = bytearray(path.read_bytes())
    at = data.find(b"\x7e\x02\x0a\x00")
    assert at > 0 and data.count(b"\x7e\x02\x0a\x00") == 1
    data[at + 8:at + 10] = b"\xf0\xff"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("suffix", [".xls", ".et"])
def test_a_formatting_pass_that_fails_costs_only_its_facts(tmp_path, suffix):
    """A legacy workbook (WPS saves .et so too) whose formatting cannot be read: calamine reads the values, and the
    unit is told what could not be checked."""
    rows = [HEADER, [1, "格式异常项目", "第一批", 100, 50, "是"]]
    path = unknown_style(write_xls(raw(tmp_path) / f"银川市{suffix}", {"项目": rows}))
    sheets = readers.read_return(path, path.name)
    assert sheets[0].rows[1][1] == "格式异常项目" and sheets[0].reader == "calamine" and sheets[0].unchecked
    result, sent_back = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["格式异常项目"]
    hint = result.problems[result.problems["code"] == "format_unchecked"]
    assert len(hint) == 1 and hint.iloc[0]["severity"] == "提示" and "数值已照常读取" in hint.iloc[0]["problem"]
    assert any(row[1] == path.name and "未能检查该表的单元格格式" in row[6] for row in sent_back)


@pytest.mark.parametrize("suffix", [".xls", ".et"])
def test_a_damaged_note_no_longer_costs_the_formatting_facts(tmp_path, suffix):
    """The formatting facts are read from the cell records alone (biff.py): a damaged note record, which stops
    xlrd's full read, leaves them readable."""
    rows = [HEADER, [1, "批注损坏项目", "第一批", 100, 50, "是"]]
    path = broken_note(write_xls(raw(tmp_path) / f"银川市{suffix}", {"项目": rows}))
    sheets = readers.read_return(path, path.name)
    assert sheets[0].rows[1][1] == "批注损坏项目" and sheets[0].reader == "calamine" and not sheets[0].unchecked
    result, _ = run(tmp_path)
    assert "format_unchecked" not in set(result.problems["code"])


def with_builtin_chinese_date_format(path: Path) -> Path:
    """The date cells' style pointed at built-in number format 31 (yyyy"年"m"月"d"日" in Chinese Excel), which the
    file itself does not spell out: xlrd knows such a format without its string."""
    data = bytearray(path.read_bytes())
    custom = data.find(b"\x1e\x04")  # FORMAT (BIFF8): its id follows the record header
    while custom >= 0 and b"y\x00y\x00" not in data[custom:custom + 40] and b"yy" not in data[custom:custom + 40]:
        custom = data.find(b"\x1e\x04", custom + 2)
    assert custom >= 0
    number = data[custom + 4:custom + 6]
    at, changed = data.find(b"\xe0\x00\x14\x00"), 0
    while at >= 0:
        if data[at + 6:at + 8] == number:
            data[at + 6:at + 8] = (31).to_bytes(2, "little")
            changed += 1
        at = data.find(b"\xe0\x00\x14\x00", at + 4)
    assert changed
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("suffix", [".xls", ".et"])
def test_a_cell_in_a_built_in_chinese_date_format_does_not_cost_the_file(tmp_path, suffix):
    """The formatting pass once stopped on a number format without a format string, and the whole file with it."""
    import datetime as dt

    import xlrd

    rows = [HEADER + ["开工时间"], [1, "中文日期项目", "第一批", 100, 50, "是", dt.date(2021, 3, 15)]]
    path = with_builtin_chinese_date_format(write_xls(raw(tmp_path) / f"银川市{suffix}", {"项目": rows}))
    book = xlrd.open_workbook(str(path), formatting_info=True)
    assert any(not isinstance(book.format_map[xf.format_key].format_str, str) for xf in book.xf_list
               if xf.format_key in book.format_map)
    sheet, = readers.read_return(path, path.name)
    assert sheet.reader == "calamine" and not sheet.unchecked and sheet.rows[1][1] == "中文日期项目"
    result, _ = run(tmp_path)
    assert result.tables["projects"]["project_name"].tolist() == ["中文日期项目"]
    assert "cleaner_failed" not in set(result.problems["code"])


@pytest.mark.parametrize("make", ["xls", "xlsx"])
def test_a_crash_of_the_fast_reader_costs_only_its_turn(tmp_path, monkeypatch, make):
    """The fast reader is compiled code: should it crash (a fault, not an error it raises) on a file, the rest of
    the chain reads it."""
    rows = [HEADER, [1, "快速读取崩溃项目", "第一批", 100, 50, "是"]]
    path = (write_xls(tmp_path / "a.xls", {"项目": rows}) if make == "xls"
            else write_xlsx(tmp_path / "a.xlsx", {"项目": rows}))

    def crashes(*_):
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(readers, "_read_excel", crashes)
    sheet, = readers.read_return(path, path.name)
    assert sheet.reader == {"xls": "xlrd", "xlsx": "openpyxl"}[make] and sheet.rows[1][1] == "快速读取崩溃项目"


@pytest.mark.parametrize("behaviour, said", [("exit 1", "LibreOffice 意外退出"), ("sleep 30", "秒仍未完成，已停止")])
def test_a_converter_that_fails_or_hangs_is_said_as_such_not_as_a_damaged_file(tmp_path, monkeypatch, behaviour,
                                                                                said):
    """What LibreOffice does wrong is not the unit's file's fault: the message says what happened."""
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\n{behaviour}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SOFFICE", str(fake))
    monkeypatch.setattr(fallback, "CONVERT_TIMEOUT_S", 2)
    with pytest.raises(readers.ReadError, match=said) as refused:
        readers.read_return(CORPUS / "sheetjs-BlankSheetTypes.xlsb", "x.xlsb")
    assert CORRUPT not in refused.value.problem
