"""The fast cell writer (excel.write_cells) writes the very bytes xlsxwriter's own cell-by-cell path writes
(excel.write_rows, xlsxwriter's write_row): every sheet, style and property of the workbook, for every kind of
value the tables hold, and it leaves to xlsxwriter the values it does not handle."""
from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from pipeline import excel
from pipeline import paths as config

COLOURS = {"红": "#E06666", "黄": "#FFD966", "绿": "#93C47D", "": "#CCCCCC"}


def awkward_table(n: int) -> pd.DataFrame:
    """Every kind of cell the pipeline's tables give, with the text xlsxwriter escapes."""
    texts = ["项目 A&B <一期>", "  前导空格", "末尾空格 ", "控制\x07字符", "_x0041_ 字面", "<r>富文本</r>", '引号"', "",
             "=SUM(A1)", "第一行\n第二行", "\U0001F600 表情", "\u3000全角空格开头", "末尾换行\n", "a_xb _X0041_",
             "制表\t符", "\u2e80\u2e81 宽度边界"]
    return pd.DataFrame({
        "文字": pd.array([texts[i % len(texts)] if i % 7 else None for i in range(n)], dtype="string"),
        "金额": np.where(np.arange(n) % 5 == 2, np.nan, np.arange(n) * 1234.5678 - 700),
        "大数": [10 ** (i % 20) + 0.5 for i in range(n)],
        "个数": pd.array([None if i % 4 == 1 else i - 3 for i in range(n)], dtype="Int64"),
        "整数": np.arange(n, dtype="int64") * -7,
        "日期": pd.to_datetime(["2021-02-27"] * n) + pd.to_timedelta(np.arange(n) % 5, unit="D"),
        "时刻": [dt.datetime(2021, 12, 31, 8, i % 60, 30) if i % 3 else None for i in range(n)],
        "当天": [dt.date(1900, 2, 28) + dt.timedelta(days=i % 3) for i in range(n)],  # Excel's 1900 leap day
        "是否": pd.array([None if i % 6 == 3 else i % 2 == 0 for i in range(n)], dtype="boolean"),
        "对错": [(True, False, None)[i % 3] for i in range(n)],
        "预警": pd.array([("红", "黄", "绿", "", None)[i % 5] for i in range(n)], dtype="string"),
        "混合": [("文字", 3, 2.5, None, dt.date(2022, 1, 1), True)[i % 6] for i in range(n)],
        "全空": [None] * n,
    })


def two_ways(tmp_path, monkeypatch, sheets, notes=None, fills=None) -> tuple[bytes, bytes]:
    fast = excel._write(tmp_path / "fast.xlsx", sheets, notes, fills, "0" * 40).read_bytes()
    monkeypatch.setattr(excel, "write_cells", lambda *args: False)
    slow = excel._write(tmp_path / "slow.xlsx", sheets, notes, fills, "0" * 40).read_bytes()
    return fast, slow


@pytest.mark.parametrize("n", [0, 1, 37, 300])
def test_every_kind_of_cell_gives_the_bytes_of_xlsxwriters_own_path(tmp_path, monkeypatch, n):
    frame = awkward_table(n)
    blank_tail = frame.mask(np.tile((np.arange(n) >= n // 2)[:, None], frame.shape[1]))  # empty rows at the end
    sheets = {"重大项目": frame, "有说明": frame.iloc[::-1], "后半空": blank_tail, "无列": pd.DataFrame()}
    fills = {name: {"预警": COLOURS} for name in ("有说明", "后半空")}
    fast, slow = two_ways(tmp_path, monkeypatch, sheets, notes={"有说明": "说明：倒序。"}, fills=fills)
    assert fast == slow


def test_a_colour_first_met_before_the_date_format_is_numbered_first(tmp_path, monkeypatch):
    """xlsxwriter numbers a format when it first writes a cell with it, row by row: a colour in row 2's last column
    comes before a date that first appears in row 3's first column."""
    frame = pd.DataFrame({"日期": [None, dt.date(2021, 1, 1), None], "预警": ["红", None, "绿"]})
    fills = {"表": {"预警": COLOURS}}
    fast, slow = two_ways(tmp_path, monkeypatch, {"表": frame, "表2": frame.iloc[::-1]}, fills=fills)
    assert fast == slow


def test_values_it_does_not_handle_go_to_xlsxwriter_and_come_back_the_same(tmp_path, monkeypatch):
    used = []
    real = excel.write_cells
    monkeypatch.setattr(excel, "write_cells", lambda *args: used.append(real(*args)) or used[-1])
    long_text = "很长的说明" * 4000  # 20,000 characters: over the length write_cells leaves to xlsxwriter
    stamp = pd.Timestamp("2021-12-31 08:30")  # a pandas Timestamp kept in an object column
    sheets = {"长文字": pd.DataFrame({"说明": [long_text, "短"]}),
              "时间戳": pd.DataFrame({"时间": pd.Series([stamp, stamp + pd.Timedelta(days=1)], dtype=object)})}
    path = excel._write(tmp_path / "book.xlsx", sheets, None, None, "0" * 40)
    assert used == [False, False]
    monkeypatch.setattr(excel, "write_cells", lambda *args: False)
    assert path.read_bytes() == excel._write(tmp_path / "slow.xlsx", sheets, None, None, "0" * 40).read_bytes()
    book = openpyxl.load_workbook(path)
    assert book["长文字"]["A2"].value == long_text and book["长文字"]["A3"].value == "短"
    assert [book["时间戳"][cell].value for cell in ("A2", "A3")] == [dt.datetime(2021, 12, 31, 8, 30),
                                                                    dt.datetime(2022, 1, 1, 8, 30)]


def test_what_a_reader_sees_from_the_fast_path(tmp_path):
    frame = awkward_table(20)
    path = excel._write(tmp_path / "book.xlsx", {"表": frame}, {"表": "说明"}, {"表": {"预警": COLOURS}}, None)
    ws = openpyxl.load_workbook(path)["表"]
    assert ws["A3"].value is None and ws["A4"].value == "  前导空格" and ws["A5"].value == "末尾空格 "
    assert ws["A10"].value is None and ws["A11"].value == "=SUM(A1)" and ws["A11"].data_type == "s"
    assert ws["A12"].value == "第一行\n第二行" and ws["A13"].value == "\U0001F600 表情"
    assert ws["A14"].value == "\u3000全角空格开头" and ws["A19"].value == "项目 A&B <一期>"
    assert ws["F3"].is_date and ws["F3"].number_format == "yyyy-mm-dd" and ws["F3"].value == dt.datetime(2021, 2, 27)
    assert ws["H3"].value == dt.datetime(1900, 2, 28)
    assert [ws.cell(row, 9).value for row in range(3, 9)] == ["是", "否", "是", None, "是", "否"]
    assert ws["J3"].value is True and ws["L4"].value == 3 and ws["L5"].value == 2.5
    assert ws["K6"].fill.fgColor.rgb == "FFCCCCCC" and ws["K6"].value in ("", None)
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:M22" and ws.dimensions == "A1:M22"


def test_rows_made_in_blocks_give_the_same_bytes(tmp_path, monkeypatch):
    """Rows are made a block at a time (memory stays bounded); blocks of 5 rows, with a colour, an empty text and
    dates first met in later blocks, give the bytes of one block and of xlsxwriter's own path."""
    frame = awkward_table(53)
    frame.loc[:12, ["日期", "时刻", "当天", "预警", "混合"]] = None
    sheets, fills = {"表": frame, "表2": frame.iloc[::-1]}, {"表": {"预警": COLOURS}}
    one_block = excel._write(tmp_path / "one.xlsx", sheets, None, fills, "0" * 40).read_bytes()
    monkeypatch.setattr(excel, "_BLOCK_ROWS", 5)
    fast, slow = two_ways(tmp_path, monkeypatch, sheets, fills=fills)
    assert fast == slow == one_block


def test_the_fast_path_runs_only_with_the_xlsxwriter_it_was_proven_with(tmp_path, monkeypatch):
    pinned = next(line.split("==")[1].strip() for line in
                  (config.PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
                  if line.lower().startswith("xlsxwriter=="))
    assert excel.ROW_XML_VERSION == pinned == xlsxwriter.__version__
    used = []
    real = excel.write_cells
    monkeypatch.setattr(excel, "write_cells", lambda *args: used.append(real(*args)) or used[-1])
    excel._write(tmp_path / "a.xlsx", {"表": awkward_table(5)}, None, None, "0" * 40)
    monkeypatch.setattr(xlsxwriter, "__version__", "9.9.9")
    excel._write(tmp_path / "b.xlsx", {"表": awkward_table(5)}, None, None, "0" * 40)
    assert used == [True, False]
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
