"""Writing small returns the way offices make them: real .xlsx, .xls and .csv files.

A sheet is given as a list of rows (None for an empty cell) and optional merged
ranges as (first_row, first_col, last_row, last_col), 0-based, like Excel's own
merges: the value sits in the top-left cell only.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import xlwt
import yaml

Merge = tuple[int, int, int, int]


def write_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[Merge]] | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
                    if isinstance(value, (dt.date, dt.datetime)):
                        ws.cell(row=r, column=c).number_format = "yyyy-mm-dd"
        for r1, c1, r2, c2 in (merges or {}).get(name, []):
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
        if name in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


def write_xls(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[Merge]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        merged = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in (merges or {}).get(name, [])}
        covered = {(r, c) for (r1, c1), (r2, c2) in merged.items() for r in range(r1, r2 + 1)
                   for c in range(c1, c2 + 1)}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (r, c) in merged:
                    r2, c2 = merged[(r, c)]
                    ws.write_merge(r, r2, c, c2, value)
                elif (r, c) in covered or value is None:
                    continue
                elif isinstance(value, (dt.date, dt.datetime)):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    book.save(str(path))
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "gb18030") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_round(raw_dir: Path, units: list[str], as_of: str = "2021-11-30", **extra) -> Path:
    raw_dir.mkdir(parents=True, exist_ok=True)
    data = {"title": "测试轮次", "as_of": as_of, "units": units, **extra}
    (raw_dir / "round.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return raw_dir


# A typical 重大项目进展情况表 header: two rows, "2021年投资" merged over 计划 / 完成.
PROJECT_HEADER_TOP = ["序号", "项目编号", "项目名称", "批次", "是否重点项目", "所在市/县区", "行业领域", "建设性质",
                      "总投资", "2021年投资", None, "是否开工", "开工时间", "是否入统", "责任单位", "包抓领导"]
PROJECT_HEADER_SUB = [None] * 9 + ["计划", "完成"] + [None] * 5
PROJECT_HEADER_MERGES = [(2, j, 3, j) for j in range(9)] + [(2, 9, 2, 10)] + [(2, j, 3, j) for j in range(11, 16)]


def project_sheet(rows: list[list], *, unit_row: str = "单位：万元",
                  footer: str = "填报单位：银川市发展和改革委员会    填报人：张三",
                  total: list | None = None) -> tuple[list[list], list[Merge]]:
    """A project return: title, unit row, two header rows, data rows, an optional 合计 row, a blank row, a footer."""
    grid = [["2021年第一批集中开工重大项目进展情况表"], [unit_row], PROJECT_HEADER_TOP, PROJECT_HEADER_SUB, *rows]
    if total is not None:
        grid.append(total)
    grid += [[], [footer]]
    return grid, [(0, 0, 0, 15)] + PROJECT_HEADER_MERGES


def project_row(seq, code, name, *, batch="第一批", key="否", city="银川市兴庆区", nature="新建", total=1000,
                plan=500, done=300, started="是", start=dt.date(2021, 3, 15), in_stats="是"):
    return [seq, code, name, batch, key, city, "工业", nature, total, plan, done, started, start, in_stats, "某公司",
            "李四"]
