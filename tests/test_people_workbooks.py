"""The files of step 1 a person opens (pipeline/ingest/workbooks.py): 台账.xlsx and 隔离行.xlsx have Chinese
headers only and say what ledger.csv says. A round built by hand: a unit's .xlsx with a bad amount (quarantined
row), another unit's GB18030 .csv, a third's .xls with a 合计 row.
"""
from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
from conftest import clean_and_save
from office import PROJECT_HEADER_TOP, project_row, project_sheet, write_csv, write_round, write_xls, write_xlsx

from pipeline import paths
from pipeline.ingest import workbooks

ASCII_NAME = re.compile(r"[A-Za-z_]{3,}")


def build_round(root):
    raw = write_round(root / "data" / "raw" / "r", ["银川市", "吴忠市", "固原市"])
    bad = project_row(2, "YC-2", None)  # a project without a name: the row is quarantined
    grid, merges = project_sheet([project_row(1, "YC-1", "甲项目"), bad])
    write_xlsx(raw / "银川市.xlsx", {"项目": grid}, {"项目": merges})
    header = list(PROJECT_HEADER_TOP)
    header[9], header[10] = "年度计划投资", "累计完成投资"
    write_csv(raw / "吴忠市.csv", [header, project_row(1, "WZ-1", "丙项目", start=dt.date(2021, 4, 1))])
    grid, merges = project_sheet([project_row(1, "GY-1", "丁项目")], total=["合计", *[None] * 8, 500, 300],
                                 footer="填报单位：固原市发展和改革委员会")
    write_xls(raw / "固原市.xls", {"Sheet1": grid}, {"Sheet1": merges})


def headers(path, sheet):
    rows = list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))
    return rows[0], rows[1], rows[2:]


def test_the_ledger_workbook_is_ledger_csv_in_chinese(tmp_path):
    build_round(tmp_path)
    clean_and_save("r", tmp_path)
    processed = paths.processed_round_dir("r", tmp_path)
    ledger = pd.read_csv(processed / paths.LEDGER)
    note, head, rows = headers(processed / paths.LEDGER_WORKBOOK, "台账")
    assert note[0].startswith("每个文件、每个工作表一行")
    assert not [h for h in head if ASCII_NAME.search(str(h))], head
    assert list(head) == [workbooks.LEDGER_LABELS[c] for c in ledger.columns]
    assert len(rows) == len(ledger) and sum(r[head.index("隔离")] for r in rows) == ledger["quarantined"].sum() == 1
    files = {r[head.index("文件")] for r in rows}
    assert {"银川市.xlsx", "吴忠市.csv", "固原市.xls"} <= files


def test_the_quarantine_workbook_has_no_english_column(tmp_path):
    build_round(tmp_path)
    clean_and_save("r", tmp_path)
    processed = paths.processed_round_dir("r", tmp_path)
    _, head, rows = headers(processed / paths.QUARANTINE_WORKBOOK, "隔离行")
    assert not [h for h in head if ASCII_NAME.search(str(h))], head
    assert len(rows) == 1 and rows[0][head.index("填报单位")] == "银川市"


def test_a_ledger_column_without_a_chinese_label_is_an_error_not_english():
    import pytest

    with pytest.raises(KeyError, match="LEDGER_LABELS"):
        workbooks.ledger_table(pd.DataFrame({"file": ["a.xlsx"], "new_count": [1]}))


def test_the_notebook_shows_a_compact_chinese_ledger_and_the_round_in_chinese(tmp_path):
    from pipeline import rounds
    from pipeline.ingest import cleaning

    build_round(tmp_path)
    result = clean_and_save("r", tmp_path)
    shown = workbooks.compact_ledger(cleaning.check_ledger(result))
    assert len(shown.columns) <= 10 and not [c for c in shown.columns if ASCII_NAME.search(c)]
    assert shown["金额：原始(万元)"].map(lambda v: float(v).is_integer()).all()
    html = rounds.load_round("r", tmp_path)._repr_html_()
    assert "数据截至" in html and "2021-11-30" in html and "Round(" not in html
    assert workbooks.shown_files([tmp_path / "台账.xlsx"]) == ["台账.xlsx"]
