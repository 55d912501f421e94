"""Return templates: validation rules, locked header, pre-filled projects, and the round trip through the cleaner."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from pipeline import __main__ as cli
from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.ingest import cleaning, return_template

ROUND = config.SAMPLE_ROUND
HEADER_ROW = return_template.FIRST_DATA_ROW  # 1-based Excel row of the header
FIRST = return_template.FIRST_DATA_ROW + 1  # 1-based Excel row of the first data row


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A temporary project holding the sample round, cleaned, and its templates."""
    root = tmp_path_factory.mktemp("templates")
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copytree(config.raw_round_dir(ROUND), root / "data" / "raw" / ROUND)
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    round_ = rounds.load_round(ROUND, root)
    result = cleaning.clean_round(round_, schemas.load_aliases(root / "data" / "header_aliases.csv"),
                                  echo=lambda *_: None)
    cleaning.save_clean(result, config.processed_round_dir(ROUND, root))
    paths = return_template.write_templates(ROUND, "2022-06", root)
    return root, round_, result, paths


def sheet_kind(name: str) -> schemas.ReturnKind:
    return next(k for k in schemas.RETURN_KINDS.values() if k.label == name)


def test_one_template_per_unit_with_the_kinds_it_sent(project):
    root, round_, result, paths = project
    assert [p.name for p in paths] == [f"{u}.xlsx" for u in round_.units]
    assert all(p.parent == root / "outputs" / ROUND / "填报模板" for p in paths)
    book = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "发展改革委.xlsx")
    assert book.sheetnames == ["十大工程项目推进情况表", "主要指标情况表", "固定资产投资情况", "工作举措与典型做法",
                               "填表说明"]
    # sent nothing this round
    silent = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "农业农村厅.xlsx")
    assert silent.sheetnames == ["重大项目进展情况表", "主要指标情况表", "工作举措与典型做法", "填表说明"]


def test_headers_are_the_standard_labels_with_title_unit_and_reporter_rows(project):
    root, *_ = project
    book = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "银川市.xlsx")
    for ws in book.worksheets[:-1]:
        kind = sheet_kind(ws.title)
        assert [c.value for c in ws[HEADER_ROW]] == [c.label for c in kind.columns]
        assert ws["A1"].value == f"银川市{kind.label}（2022-06轮）"
        assert ws["A2"].value == "填报单位：银川市"
        if kind.names_of(schemas.MONEY):
            assert ws.cell(row=2, column=len(kind.columns)).value == "单位：万元"


def test_header_is_locked_and_the_data_area_is_not(project):
    root, *_ = project
    ws = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "银川市.xlsx")["重大项目进展情况表"]
    assert ws.protection.sheet is True
    assert all(c.protection.locked for row in ws.iter_rows(min_row=1, max_row=HEADER_ROW) for c in row)
    data_rows = list(ws.iter_rows(min_row=FIRST, max_row=FIRST + 50))
    assert all(c.protection.locked is False for row in data_rows for c in row)


def validations(ws) -> dict[str, object]:
    """Header label -> its data validation."""
    labels = {c.column_letter: c.value for c in ws[HEADER_ROW]}
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            found[labels[openpyxl.utils.get_column_letter(cell_range.min_col)]] = dv
            assert cell_range.min_row == FIRST
    return found


def test_validation_rules_with_chinese_messages(project):
    root, *_ = project
    book = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "银川市.xlsx")
    projects, attraction = validations(book["重大项目进展情况表"]), validations(book["招商引资项目情况表"])
    assert projects["批次"].type == "list" and projects["批次"].formula1 == '"第一批,第二批"'
    assert projects["建设性质"].formula1 == '"新建,续建,改扩建"'
    for label in ("是否重点项目", "是否开工", "是否入统", "是否竣工"):
        assert projects[label].formula1 == '"是,否"', label
    assert attraction["签约方式"].formula1 == '"集中签约,单独签约,视频签约,网上签约"'
    assert attraction["产业类别"].formula1 == '"' + ",".join([*schemas.NINE_INDUSTRIES, "其他"]) + '"'
    assert attraction["是否延链补链强链"].formula1 == '"是,否"'
    for label in ("开工时间", "计划开工时间", "竣工时间"):
        assert projects[label].type == "date", label
    for label in ("总投资", "年度计划投资", "累计完成投资"):
        assert projects[label].type == "decimal" and projects[label].operator == "greaterThanOrEqual"
        assert projects[label].formula1 == "0"
    major = validations(
        openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / "发展改革委.xlsx")["十大工程项目推进情况表"])
    assert major["所处阶段"].formula1 == '"前期,在建,建成"'
    for dv in [*projects.values(), *attraction.values(), *major.values()]:
        assert dv.showErrorMessage and dv.showInputMessage and dv.errorStyle in (None, "stop")  # absent means stop
        assert all("\u4e00" <= ch <= "\u9fff" for ch in dv.prompt[:1] + dv.error[:1]), (dv.prompt, dv.error)
        assert dv.promptTitle and dv.errorTitle
    assert "项目名称" not in projects  # free text: no rule


def test_pre_filled_projects_match_the_round_and_progress_is_left_empty(project):
    root, round_, result, _ = project
    clean = result.tables["projects"]
    identity = {"项目编号": "project_code", "项目名称": "project_name", "批次": "batch", "总投资": "total_investment",
                "年度计划投资": "annual_plan", "责任单位": "responsible_unit"}
    for unit in ("银川市", "交通运输厅"):
        mine = clean[clean["unit"] == unit].sort_values(["file", "sheet", "row"], kind="stable")
        ws = openpyxl.load_workbook(root / "outputs" / ROUND / "填报模板" / f"{unit}.xlsx")["重大项目进展情况表"]
        col = {c.value: c.column for c in ws[HEADER_ROW]}
        written = [r for r in ws.iter_rows(min_row=FIRST, values_only=True) if r[col["项目名称"] - 1]]
        assert len(written) == len(mine) > 0
        for row, (_, expected) in zip(written, mine.iterrows()):
            for label, name in identity.items():
                value = expected[name]
                assert row[col[label] - 1] == (None if pd.isna(value) else value), (unit, label)
            for label in ("累计完成投资", "是否开工", "开工时间", "是否入统", "形象进度"):
                assert row[col[label] - 1] is None, label


def _excel_value(value, column: schemas.Column):
    if value is None or pd.isna(value):
        return None
    if column.type == schemas.BOOL:
        return "是" if value else "否"
    if column.type == schemas.DATE:
        return pd.Timestamp(value).to_pydatetime()
    if column.type in (schemas.MONEY, schemas.NUMBER):
        return float(value)
    if column.type == schemas.MONTH:
        return int(value)
    return str(value)


def clean_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a clean table that carry no problem (a row kept with a bad cell has an unknown value)."""
    return table[table["issues"].isna()] if "issues" in table else table


def fill(template: Path, tables: dict[str, pd.DataFrame], unit: str, out: Path) -> Path:
    """A unit fills its template with its rows, as it would in Excel: the data area only."""
    book = openpyxl.load_workbook(template)
    for ws in book.worksheets[:-1]:
        kind = sheet_kind(ws.title)
        every = tables[kind.name][tables[kind.name]["unit"] == unit].sort_values(["file", "sheet", "row"],
                                                                                 kind="stable")
        if kind.name == "projects":  # the pre-filled rows are the unit's projects, in order
            codes = [ws.cell(row=FIRST + i, column=2).value for i in range(len(every))]
            assert codes == [None if pd.isna(c) else c for c in every["project_code"]]
        rows = clean_rows(every)  # a row kept with a problem has a value the unit has yet to give: not refilled
        for i in range(len(rows), len(every)):
            for j in range(1, len(kind.columns) + 1):
                ws.cell(row=FIRST + i, column=j).value = None  # ws.cell(..., value=None) would leave the cell as it is
        for i, (_, record) in enumerate(rows.iterrows()):
            for j, column in enumerate(kind.columns, start=1):
                value = i + 1 if column.type == schemas.SEQ else _excel_value(record.get(column.name), column)
                ws.cell(row=FIRST + i, column=j).value = value
                if column.type == schemas.DATE and value is not None:
                    ws.cell(row=FIRST + i, column=j).number_format = "yyyy-mm-dd"
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def test_round_trip_filled_templates_clean_with_no_errors_and_the_same_totals(project):
    root, round_, result, paths = project
    raw = root / "data" / "raw" / "rt"
    raw.mkdir()
    sent = [u for u in round_.units if u not in result.missing_units]  # a unit that sent nothing has nothing to fill in
    (raw / "round.yml").write_text(
        yaml.safe_dump({"title": "回填测试", "as_of": round_.as_of.isoformat(), "units": sent}, allow_unicode=True),
        encoding="utf-8")
    for i, (unit, path) in enumerate(zip(round_.units, paths)):
        if unit in sent:
            fill(path, result.tables, unit, raw / f"回填{i}.xlsx")  # the file name says nothing about the unit

    again = cleaning.clean_round(rounds.load_round("rt", root),
                                 schemas.load_aliases(root / "data" / "header_aliases.csv"), echo=lambda *_: None)

    problems = again.problems
    assert problems[problems["severity"] == "错误"].empty, problems[problems["severity"] == "错误"].to_string()
    assert not (problems["code"] == "unknown_header").any()
    assert set(problems["code"]) <= {"not_a_return"}  # only the 填表说明 sheet, which is not a return
    assert again.quarantine.empty
    assert again.missing_units == []
    good = {name: clean_rows(table) for name, table in result.tables.items()}
    for name, table in good.items():
        assert len(again.tables[name]) == len(table), name
    for name, column in [("projects", "annual_plan"), ("projects", "completed"), ("projects", "total_investment"),
                         ("major_works", "annual_plan"), ("major_works", "completed"),
                         ("attraction", "contract_investment"), ("indicators", "current")]:
        assert again.tables[name][column].sum() == pytest.approx(good[name][column].sum()), (name, column)
    by_unit = again.tables["projects"].groupby("unit").size().to_dict()
    assert by_unit == good["projects"].groupby("unit").size().to_dict()  # recognised from 填报单位 alone


def test_the_command_writes_templates_and_explains_a_round_not_cleaned_yet(tmp_path, capsys, monkeypatch):
    (tmp_path / "data" / "raw" / "x1").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "x1" / "round.yml").write_text("as_of: 2021-11-30\nunits: [银川市]\n",
                                                                encoding="utf-8")
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    assert cli.main(["template", "x1"]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "请先运行 make report ROUND=x1" in err and "Traceback" not in err
