"""An .xls is read once: calamine's values, and the formatting facts (percent cells, error cells, hidden columns)
walked from the same bytes' records (biff.py) instead of a second, full xlrd read."""
import io
from pathlib import Path

import pandas as pd
import pytest
import xlrd
import xlwt
from layouts import libreoffice_convert, soffice
from test_hostile_values import clean, percent_book, raw

from pipeline.ingest import formatting, readers

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def full_read_facts(path: Path):
    """The facts as xlrd's full read of every cell finds them (what the .xls pass did before the record walk)."""
    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, ragged_rows=True,
                                  logfile=io.StringIO())
        return formatting.xls_book_facts(book, unload=True)
    except Exception:  # noqa: BLE001 - as xls_facts: a file xlrd cannot read has no facts
        return None


def fai_xls(path: Path, hidden_cols=()) -> Path:
    """An FAI return typed in Excel 97-2003 format: growth as fractions in percent formats (an integer one too, which
    BIFF stores as an RK record), an error value (#DIV/0!, a BOOLERR record), a formula over percent cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("固投")
    one, two = xlwt.easyxf(num_format_str="0.0%"), xlwt.easyxf(num_format_str="0.00%")
    for c, text in enumerate(["地区", "月份", "累计完成额", "累计增速", "上年同期增速"]):
        ws.write(0, c, text)
    rows = [("全区", 1200.5, 0.085, -0.021), ("银川市", 600, None, 0.05), ("石嘴山市", 300, 1, 0.5)]
    for r, (region, cum, now, last) in enumerate(rows, 1):
        ws.write(r, 0, region)
        ws.write(r, 1, "1-11月")
        ws.write(r, 2, cum)
        if now is None:
            ws.row(r).set_cell_error(3, "#DIV/0!", one)
        else:
            ws.write(r, 3, now, one)  # 1 (100%) is an integer: an RK record
        ws.write(r, 4, last, two)
    ws.write(4, 5, xlwt.Formula("D2*2"), one)  # outside the table: a percent formula xlwt saves without a value
    for c in hidden_cols:
        ws.col(c).hidden = True
    book.save(str(path))
    return path


def corpus_xls() -> list[Path]:
    return sorted(CORPUS.glob("*.xls"))


@pytest.mark.parametrize("path", corpus_xls(), ids=lambda p: p.name)
def test_the_record_walk_finds_what_a_full_read_finds_in_every_corpus_xls(path):
    assert formatting.xls_facts(path, path.read_bytes()) == full_read_facts(path)


def test_the_record_walk_finds_percent_error_and_hidden_cells_of_a_typed_xls(tmp_path):
    path = fai_xls(tmp_path / "固投.xls", hidden_cols=(6, 7))
    facts = formatting.xls_facts(path, path.read_bytes())
    assert facts == full_read_facts(path)
    fact = facts["固投"]
    assert fact.percent_cells == {(1, 3), (3, 3), (1, 4), (2, 4), (3, 4)}  # not the formula: it holds no number
    assert fact.error_cells == {(2, 3): "#DIV/0!"} and fact.hidden_cols == {6, 7}


def test_a_typed_xls_reads_its_percentages_as_shown_and_its_error_as_an_error(tmp_path):
    fai_xls(raw(tmp_path) / "交通运输厅" / "固投.xls")
    result = clean(tmp_path)
    fai = result.tables["fai"].set_index("region")
    assert fai.loc["全区", "yoy_pct"] == pytest.approx(8.5) and fai.loc["全区", "last_yoy_pct"] == pytest.approx(-2.1)
    assert fai.loc["石嘴山市", "yoy_pct"] == pytest.approx(100)  # 100%: an integer in the file
    assert fai.loc["石嘴山市", "last_yoy_pct"] == pytest.approx(50)
    assert pd.isna(fai.loc["银川市", "yoy_pct"]) and fai.loc["银川市", "last_yoy_pct"] == pytest.approx(5)
    problem = result.problems[result.problems["code"] == "excel_error"].iloc[0]
    assert problem["problem"] == "单元格是公式错误 #DIV/0!，无法读取数值" and problem["row"] == 3


def test_an_xls_is_opened_once(tmp_path, monkeypatch):
    path = fai_xls(tmp_path / "固投.xls")
    opened = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self) or real(self))
    monkeypatch.setattr(xlrd, "open_workbook", _refusing_a_path(xlrd.open_workbook))
    sheets = readers.read_return(path, "固投.xls", isolate=False)
    assert opened == [path] and sheets[0].percent_cells and sheets[0].error_cells


def _refusing_a_path(open_workbook):
    def opened(filename=None, **kwargs):
        assert filename is None, "the .xls was opened a second time by name"
        return open_workbook(filename, **kwargs)
    return opened


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_a_libreoffice_resaved_xls_gives_the_same_facts_by_either_read(tmp_path):
    source = tmp_path / "src" / "固投.xlsx"
    source.parent.mkdir()
    percent_book(source, [("全区", 1200.5, 0.085, -0.021), ("银川市", 600, 0.1, 0.05)])
    libreoffice_convert(source, tmp_path / "out", "xls")
    path = tmp_path / "out" / "固投.xls"
    facts = formatting.xls_facts(path, path.read_bytes())
    assert facts == full_read_facts(path) and facts["Sheet"].percent_cells == {(1, 3), (2, 3), (1, 4), (2, 4)}
