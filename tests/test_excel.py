"""The workbooks people read (pipeline.excel): written row by row, read back here with openpyxl as a person's Excel
would."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline import excel

HOSTILE = ["=1+1", "+86 0951", "-", "@SUM(A1)", "=HYPERLINK(\"http://x\")"]


def table(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "项目名称": pd.array([HOSTILE[i % len(HOSTILE)] if i % 3 == 0 else f"项目{i}" for i in range(n)],
                             dtype="string"),
        "总投资(万元)": np.where(np.arange(n) % 4 == 1, np.nan, np.arange(n) * 1.5),
        "个数": pd.array([None if i % 5 == 2 else i for i in range(n)], dtype="Int64"),
        "开工日期": pd.to_datetime(["2021-03-18"] * n) + pd.to_timedelta(np.arange(n), unit="D"),
        "是否开工": pd.array([None if i % 6 == 3 else i % 2 == 0 for i in range(n)], dtype="boolean"),
        "预警": pd.array(["红" if i % 2 else "绿" for i in range(n)], dtype="string"),
    })


def expected_rows(frame: pd.DataFrame) -> list[tuple]:
    """What a reader should see: text as text, numbers, dates as dates, 是/否, empty cells for missing values."""
    rows = []
    for rec in frame.itertuples(index=False):
        rows.append((rec[0], None if pd.isna(rec[1]) else rec[1], None if pd.isna(rec[2]) else int(rec[2]),
                     dt.datetime.combine(rec[3].date(), dt.time()),
                     None if pd.isna(rec[4]) else ("是" if rec[4] else "否"), rec[5]))
    return rows


def test_a_table_comes_back_as_written_and_formula_like_text_stays_text(tmp_path):
    frame = table(40)
    path = excel.write_workbook(tmp_path / "清洗数据.xlsx", {"重大项目": frame, "空表": frame.head(0)},
                                notes={"空表": "本表没有数据行。"}, fills={"重大项目": {"预警": {"红": "#FF0000"}}})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["重大项目", "空表"]
    ws = book["重大项目"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert rows[1:] == expected_rows(frame)
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    hostile = [c for c in ws["A"][1:] if c.value in HOSTILE]
    assert len(hostile) == 14 and {c.data_type for c in hostile} == {"s"}
    assert ws["D2"].is_date and ws["D2"].number_format == "yyyy-mm-dd"
    assert {c.fill.fgColor.rgb for c in ws["F"][1:] if c.value == "红"} == {"FFFF0000"}
    assert {c.fill.fill_type for c in ws["F"][1:] if c.value == "绿"} == {None}
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F41"
    assert ws["A1"].font.bold
    empty = book["空表"]
    assert [r for r in empty.iter_rows(values_only=True)] == [("本表没有数据行。",) + (None,) * 5, tuple(frame.columns)]
    assert empty.freeze_panes == "A3"


def test_the_same_content_gives_the_same_bytes(tmp_path):
    frame = table(30)
    a = excel.write_workbook(tmp_path / "a.xlsx", {"表": frame}).read_bytes()
    b = excel.write_workbook(tmp_path / "b.xlsx", {"表": frame}).read_bytes()
    assert a == b


def test_a_workbook_with_the_same_content_is_kept_and_any_change_rewrites_it(tmp_path):
    frame = table(30)
    path = excel.write_workbook(tmp_path / "清洗数据.xlsx", {"表": frame}, notes={"表": "说明"})
    assert excel.written_digest(path) == excel.content_digest({"表": frame}, {"表": "说明"}, None)
    stamp = path.stat().st_mtime_ns

    excel.write_workbook(path, {"表": frame.copy()}, notes={"表": "说明"})
    assert path.stat().st_mtime_ns == stamp, "same tables, notes and colours: the workbook there is kept"

    changed = frame.copy()
    changed.loc[7, "总投资(万元)"] += 1
    for sheets, notes, fills in [({"表": changed}, {"表": "说明"}, None),  # one value
                                 ({"表": frame}, {"表": "另一说明"}, None),  # the note
                                 ({"表": frame}, {"表": "说明"}, {"表": {"预警": {"红": "#FF0000"}}}),  # colours
                                 ({"另一表": frame}, {"另一表": "说明"}, None),  # the sheet's name
                                 ({"表": frame[list(reversed(frame.columns))]}, {"表": "说明"}, None)]:  # column order
        before = excel.written_digest(path)
        excel.write_workbook(path, sheets, notes=notes, fills=fills)
        assert excel.written_digest(path) != before
        back = openpyxl.load_workbook(path)
        assert back.sheetnames == list(sheets)


def test_a_workbook_not_written_here_is_replaced(tmp_path):
    path = tmp_path / "台账.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "旧内容"
    book.save(path)
    assert excel.written_digest(path) is None
    excel.write_workbook(path, {"表": table(3)})
    assert openpyxl.load_workbook(path).sheetnames == ["表"]
    (tmp_path / "坏.xlsx").write_bytes(b"not a zip")
    assert excel.written_digest(tmp_path / "坏.xlsx") is None and excel.written_digest(tmp_path / "无.xlsx") is None


def _saved_by_an_office_suite(path: Path, way: str) -> None:
    """The workbook saved again by someone, each way keeping our custom property: LibreOffice, openpyxl (as a
    script would), or core.xml re-stamped as Excel and WPS stamp it (modified time and who saved it)."""
    if way == "libreoffice":
        import shutil

        from layouts import libreoffice_convert, soffice
        if soffice() is None:
            pytest.skip("LibreOffice (soffice) 未安装")
        out = libreoffice_convert(path, path.parent / "resaved", "xlsx")
        shutil.move(out, path)
    elif way == "openpyxl":
        book = openpyxl.load_workbook(path)
        book["表"]["A2"] = "改过"
        book.save(path)
    else:
        with zipfile.ZipFile(path) as old:
            parts = {name: old.read(name) for name in old.namelist()}
        parts["docProps/core.xml"] = re.sub(
            rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-12-08T09:30:00Z", parts["docProps/core.xml"]).replace(
            b"<cp:lastModifiedBy></cp:lastModifiedBy>", "<cp:lastModifiedBy>张三</cp:lastModifiedBy>".encode())
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
            for name, data in parts.items():
                new.writestr(name, data)


@pytest.mark.parametrize("way", ["excel", "openpyxl", "libreoffice"])
def test_a_workbook_someone_saved_since_is_written_again_even_with_the_same_content(tmp_path, way):
    frame = table(5)
    path = excel.write_workbook(tmp_path / "退回修改清单.xlsx", {"表": frame})
    assert excel.written_digest(path) is not None
    _saved_by_an_office_suite(path, way)
    assert excel.written_digest(path) is None
    excel.write_workbook(path, {"表": frame})
    assert excel.written_digest(path) == excel.content_digest({"表": frame}, None, None)
    assert openpyxl.load_workbook(path)["表"]["A2"].value != "改过"


def test_unusual_values_are_written_as_their_text(tmp_path):
    frame = pd.DataFrame({"值": [float("inf"), 1.0, None], "其他": [[1, 2], "a", pd.Timestamp("2021-01-01", tz="UTC")]})
    ws = openpyxl.load_workbook(excel.write_workbook(tmp_path / "x.xlsx", {"表": frame}))["表"]
    assert list(ws.iter_rows(min_row=2, values_only=True)) == [("inf", "[1, 2]"), (1, "a"),
                                                                (None, "2021-01-01 00:00:00+00:00")]


def test_binary_noise_of_unit_conversions_does_not_reach_a_cell(tmp_path):
    # 0.57亿元 and 1.1亿元 as 万元, a rate of 1/3 and a sum of tenths: what the arithmetic of cleaning leaves.
    noisy = [0.57 * 10_000, 1.1 * 10_000, 0.1 + 0.2, 100 / 3, -0.07 * 10_000, float("nan")]
    assert str(noisy[0]) == "5699.999999999999" and str(noisy[2]) == "0.30000000000000004"
    frame = pd.DataFrame({"金额(万元)": noisy, "个数": [1, 2, 3, 4, 5, 6]})
    ws = openpyxl.load_workbook(excel.write_workbook(tmp_path / "数字来源.xlsx", {"表": frame}))["表"]
    cells = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert [repr(v) for v in cells] == ["5700", "11000", "0.3", "33.333333333", "-700", "None"]


def test_a_table_longer_than_a_sheet_continues_on_numbered_sheets_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 12)  # the real limit, 1,048,576 rows, is too big to write in a test
    frame = table(25)
    path = excel.write_workbook(tmp_path / "清洗数据.xlsx", {"重大项目": frame, "小表": frame.head(5)},
                                notes={"重大项目": "各单位报送的项目。"})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["重大项目", "重大项目（续2）", "重大项目（续3）", "小表"]
    data = []
    for name in book.sheetnames[:3]:
        rows = list(book[name].iter_rows(values_only=True))
        assert len(rows) <= 12
        note = rows[0][0]
        assert note.startswith("各单位报送的项目。") and "超过 Excel 单个工作表 12 行的上限" in note
        assert "重大项目、重大项目（续2）、重大项目（续3）" in note
        assert rows[1] == tuple(frame.columns)
        data += rows[2:]
    assert data == expected_rows(frame)
    assert "本工作表为第 21–25 行" in book["重大项目（续3）"]["A1"].value
    assert list(book["小表"].iter_rows(values_only=True))[0] == tuple(frame.columns)  # it fits: no note, no split


@pytest.mark.parametrize("n_rows, note, parts", [(1_048_575, None, 1), (1_048_575, "注", 2), (1_048_576, None, 2),
                                                  (3_000_000, None, 3)])
def test_the_split_follows_excels_real_row_limit(n_rows, note, parts):
    assert excel.EXCEL_MAX_ROWS == 1_048_576
    split = excel.split_rows("十个字以上的很长的工作表名称二十个字以上的名称", n_rows, note)
    assert len(split) == parts
    assert [s.start for _, s, _ in split] == sorted(s.start for _, s, _ in split)
    assert sum(s.stop - s.start for _, s, _ in split) == n_rows
    assert all(len(name) <= 31 for name, _, _ in split)
    assert len({name for name, _, _ in split}) == parts
    assert all(s.stop - s.start + (2 if parts > 1 or n else 1) <= excel.EXCEL_MAX_ROWS
               for _, s, n in split)
