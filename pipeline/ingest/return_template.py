"""Return templates (填报模板): one workbook per expected unit, made from a round's clean tables.

`python -m pipeline template ROUND [--next NEW_ROUND]` writes
outputs/<ROUND>/填报模板/<单位>.xlsx. Each workbook has one sheet per kind of
return the unit sent in ROUND (a unit that sent nothing gets the kinds a unit
of its type sends) and a 填表说明 sheet. A sheet is laid out as a return the
cleaner reads with no hints: a title row, a row with 填报单位：<unit> and
单位：万元, one header row with exactly the schema's labels, then the data area.

The header rows are locked (the sheet is protected, without a password) and
the data area is not. Every column carries a data validation with a Chinese
input message and error message: drop-downs for the choice and 是/否 columns
and 产业类别, dates for dates, non-negative numbers for amounts. The unit's
rows of ROUND are pre-filled with their identity columns (项目编号, 项目名称,
批次, 总投资, 年度计划投资, …); progress columns are left for the unit.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from pipeline import paths, schemas
from pipeline.ingest import artifacts
from pipeline.rounds import Round, load_round
from pipeline.schemas import ReturnKind

TEMPLATE_DIR = "填报模板"
INSTRUCTIONS_SHEET = "填表说明"
FIRST_DATA_ROW = 3  # 0-based: title, 填报单位/单位 row, header
BLANK_ROWS = 300  # empty, unlocked and validated rows below the pre-filled ones
OTHER_INDUSTRY = "其他"

# The columns a unit does not change from round to round: pre-filled from the clean tables.
IDENTITY: dict[str, tuple[str, ...]] = {
    "projects": ("project_code", "project_name", "batch", "is_key", "location", "industry", "nature",
                 "total_investment", "annual_plan", "planned_start_date", "planned_completion_date", "funds_planned",
                 "responsible_unit", "leader"),
    "major_works": ("project_name", "lead_unit", "leader", "total_investment", "annual_plan", "milestone",
                    "milestone_date"),
    "attraction": ("project_name", "sign_date", "sign_mode", "industry", "is_chain", "contract_investment"),
    "indicators": ("indicator", "measure_unit"),
    "fai": ("region",),
    "practices": (),
}
# What a unit that sent nothing in ROUND is asked for.


class TemplateError(ValueError):
    """Templates cannot be made; the message (Chinese) says what to do."""


# --------------------------------------------------------------------------- what goes into a template


def kinds_for(unit: str, ledger: pd.DataFrame) -> list[str]:
    """The return kinds a unit sent (from the ledger), in schema order; the kinds of its type if it sent none."""
    labels = {k.label: k.name for k in schemas.RETURN_KINDS.values()}
    sent = {labels[label] for label in ledger.loc[ledger["unit"] == unit, "return_kind"].dropna() if label in labels}
    if not sent:
        sent = set(schemas.EXPECTED_KINDS[schemas.unit_kind(unit)])
    return [name for name in schemas.RETURN_KINDS if name in sent]


def prefill(tables: dict[str, pd.DataFrame], kind: str, unit: str) -> pd.DataFrame:
    """The identity columns of a unit's rows of one kind, one row per distinct identity, in the round's order."""
    columns = list(IDENTITY[kind])
    table = tables.get(kind)
    if not columns or table is None or table.empty:
        return pd.DataFrame(columns=columns)
    mine = table[table["unit"] == unit]
    if "row" in mine:
        mine = mine.sort_values(["file", "sheet", "row"], kind="stable")
    return mine[columns].drop_duplicates().reset_index(drop=True)


def industry_choices() -> list[str]:
    return [*schemas.NINE_INDUSTRIES, OTHER_INDUSTRY]


def validation(column: schemas.Column, kind: ReturnKind) -> dict | None:
    """The xlsxwriter data validation of one column, with its Chinese input and error messages."""
    label = column.label
    if kind.name == "attraction" and column.name == "industry":
        return _rule(label, {"validate": "list", "source": industry_choices()},
                     "请从下拉列表选择：九大重点产业之一，或“其他”", "请从下拉列表中选择产业类别")
    if column.type == schemas.CHOICE:
        choices = list(dict.fromkeys(column.choices.values()))
        return _rule(label, {"validate": "list", "source": choices}, f"请从下拉列表选择：{'、'.join(choices)}",
                     f"只能填写：{'、'.join(choices)}")
    if column.type == schemas.BOOL:
        return _rule(label, {"validate": "list", "source": ["是", "否"]}, "请从下拉列表选择“是”或“否”",
                     "只能填写“是”或“否”")
    if column.type == schemas.DATE:
        return _rule(label, {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                             "maximum": dt.date(2100, 12, 31)},
                     "请填写日期，如 2021-03-15"
                     + ("（计划日期可晚于数据截至日期）" if column.planned else "；尚未发生的请不要填写"),
                     "请填写有效日期（年-月-日），如 2021-03-15")
    if column.type == schemas.MONEY:
        return _rule(label, {"validate": "decimal", "criteria": ">=", "value": 0},
                     "请填写金额（万元），不小于0；没有请填0",
                     "金额应为不小于0的数字（单位：万元），不要填写文字或单位")
    if column.type == schemas.NUMBER:
        return _rule(label, {"validate": "decimal", "criteria": "between", "minimum": -1e12, "maximum": 1e12},
                     "请填写数字，不要填写文字或单位", "应为数字")
    if column.type == schemas.MONTH:
        return _rule(label, {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 12},
                     "请填写月份：1至12的整数", "月份应为1至12的整数")
    if column.type == schemas.SEQ:
        return _rule(label, {"validate": "integer", "criteria": ">=", "value": 1}, "序号：从1开始的整数",
                     "序号应为正整数")
    return None


def _rule(label: str, rule: dict, hint: str, error: str) -> dict:
    return {**rule, "ignore_blank": True, "input_title": label[:32], "input_message": hint[:255],
            "error_title": f"{label}填写有误"[:32], "error_message": error[:255], "error_type": "stop"}


def instructions(round_: Round, unit: str, kinds: list[str], target: str) -> list[list[str]]:
    """The rows of the 填表说明 sheet: how to fill the template, and each column's rule."""
    rows = [
        [f"{unit}填报说明（{target}）"],
        [f"数据截至：请按督查室通知的截至日期填写（上一轮为{round_.as_of:%Y年%m月%d日}）。"],
        ["1. 请在本工作簿中直接填写，不要改动表头、不要增删列；表头已锁定，数据区可自由填写，需要时可插入行。"],
        ["2. 已预先填好上一轮报送的项目（编号、名称、批次、投资等基本信息），请核对后填写进展情况；"
         "新增项目请接在下方填写。"],
        ["3. 金额一律以万元为单位，只填数字；日期填写为日期（如 2021-03-15）；带下拉列表的列请从列表中选择。"],
        ["4. 填好后整份文件报送，不要另存为 PDF 或图片。"],
        [],
        ["各列的填写要求："],
    ]
    # One sentence per column, in one cell: a row of separate label cells would read as a header.
    for name in kinds:
        kind = schemas.RETURN_KINDS[name]
        for column in kind.columns:
            rule = validation(column, kind)
            rows.append([f"{kind.label}·{column.label}{'（必填）' if column.required else ''}："
                         f"{rule['input_message'] if rule else '文字'}"])
    return rows


# --------------------------------------------------------------------------- writing one workbook


def write_template(path: Path, round_: Round, unit: str, kinds: list[str], rows: dict[str, pd.DataFrame],
                   target: str) -> Path:
    """One unit's template workbook: a sheet per kind, pre-filled with `rows[kind]`, and 填表说明."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"created": dt.datetime(2000, 1, 1)})
    formats = _formats(book)
    for name in kinds:
        _write_sheet(book, formats, schemas.RETURN_KINDS[name], unit, rows.get(name, pd.DataFrame()), target)
    ws = book.add_worksheet(INSTRUCTIONS_SHEET)
    for r, row in enumerate(instructions(round_, unit, kinds, target)):
        for c, text in enumerate(row):
            ws.write_string(r, c, text, formats["bold"] if r in (0, 7) else formats["text_locked"])
    ws.set_column(0, 0, 100)
    book.close()
    return path


def _formats(book) -> dict:
    return {
        "title": book.add_format({"bold": True, "font_size": 14, "align": "center", "locked": True}),
        "bold": book.add_format({"bold": True, "locked": True}),
        "header": book.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter",
                                   "bg_color": "#DDEBF7", "border": 1, "locked": True}),
        "text_locked": book.add_format({"locked": True}),
        "text": book.add_format({"locked": False, "num_format": "@"}),
        "number": book.add_format({"locked": False, "num_format": "0.00"}),
        "integer": book.add_format({"locked": False, "num_format": "0"}),
        "date": book.add_format({"locked": False, "num_format": "yyyy-mm-dd"}),
    }


def _cell_format(column: schemas.Column) -> str:
    if column.type in (schemas.MONEY, schemas.NUMBER):
        return "number"
    if column.type in (schemas.SEQ, schemas.MONTH):
        return "integer"
    if column.type == schemas.DATE:
        return "date"
    return "text"


def _write_sheet(book, formats: dict, kind: ReturnKind, unit: str, rows: pd.DataFrame, target: str) -> None:
    ws = book.add_worksheet(kind.label[:31])
    columns = kind.columns
    last_col = len(columns) - 1
    for r in range(FIRST_DATA_ROW):
        ws.set_row(r, 30 if r == 2 else None, formats["text_locked"])
    ws.merge_range(0, 0, 0, last_col, f"{unit}{kind.label}（{target}）", formats["title"])
    ws.write_string(1, 0, f"填报单位：{unit}", formats["bold"])
    if kind.names_of(schemas.MONEY):
        ws.write_string(1, last_col, "单位：万元", formats["bold"])
    data_end = FIRST_DATA_ROW + len(rows) + BLANK_ROWS - 1
    for j, column in enumerate(columns):
        fmt = formats[_cell_format(column)]
        ws.write_string(2, j, column.label, formats["header"])
        ws.set_column(j, j, max(8, min(30, 2 * len(column.label) + 4)), fmt)
        rule = validation(column, kind)
        if rule:
            ws.data_validation(FIRST_DATA_ROW, j, data_end, j, rule)
        for i in range(len(rows) + BLANK_ROWS):
            value = rows[column.name].iloc[i] if column.name in rows and i < len(rows) else None
            if column.type == schemas.SEQ and i < len(rows):
                value = i + 1
            _write_value(ws, FIRST_DATA_ROW + i, j, value, column, fmt)
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    ws.protect("", {"insert_rows": True, "delete_rows": True, "format_columns": True, "sort": True, "autofilter": True})


def _write_value(ws, r: int, j: int, value, column: schemas.Column, fmt) -> None:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        ws.write_blank(r, j, None, fmt)
    elif column.type == schemas.BOOL:
        ws.write_string(r, j, "是" if bool(value) else "否", fmt)
    elif column.type == schemas.DATE:
        ws.write_datetime(r, j, pd.Timestamp(value).to_pydatetime(), fmt)
    elif column.type in (schemas.MONEY, schemas.NUMBER, schemas.SEQ, schemas.MONTH):
        ws.write_number(r, j, float(value), fmt)
    else:
        ws.write_string(r, j, str(value), fmt)


# --------------------------------------------------------------------------- the command


def template_path(out_dir: Path, unit: str) -> Path:
    safe = "".join("_" if ch in '\\/:*?"<>|' else ch for ch in unit)
    return Path(out_dir) / TEMPLATE_DIR / f"{safe}.xlsx"


def write_templates(round_id: str, next_round: str | None = None, root: Path | None = None) -> list[Path]:
    """Every expected unit's template from ROUND's clean tables, into outputs/<ROUND>/填报模板/."""
    round_ = load_round(round_id, root)
    target = f"{next_round}轮" if next_round else f"{round_.id}轮"
    processed = paths.processed_round_dir(round_id, root)
    try:
        tables = artifacts.load_clean_tables(processed)
        ledger = artifacts.load_ledger(processed)
    except (FileNotFoundError, OSError):
        raise TemplateError(f"找不到轮次 {round_id} 的清洗结果（{processed}）："
                            f"请先运行 make report ROUND={round_id}。") from None
    except artifacts.ArtifactError as exc:
        raise TemplateError(str(exc)) from None
    out_dir = paths.outputs_round_dir(round_id, root)
    written = []
    for unit in round_.units:
        kinds = kinds_for(unit, ledger)
        rows = {kind: prefill(tables, kind, unit) for kind in kinds}
        written.append(write_template(template_path(out_dir, unit), round_, unit, kinds, rows, target))
    return written
