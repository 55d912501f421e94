"""Cleaning: grids of raw cells to clean tables, the quarantine, the problems and the ledger.

A sheet travels through four steps:
1. find the header (one row, or two rows with merged cells) and the return kind
   it belongs to, through the alias table;
2. give every row below it one role: data, blank, total (合计/小计), footer;
3. parse every data row's cells by the schema, and validate the row;
4. keep the row, or quarantine it with its reasons.
Then, across the round, a project reported twice is kept once and the other
copy quarantined with the reason. Every data row ends in exactly one place,
and the ledger counts them per file and sheet.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

import pandas as pd

from pipeline import readers, schemas
from pipeline.headers import Header, cell_text, find_header, row_role, row_texts, sheet_money_unit
from pipeline.parsing import (
    Parsed, parse_bool, parse_choice, parse_date, parse_money, parse_month, parse_number, parse_text,
)
from pipeline.rounds import Round
from pipeline.schemas import AliasTable, ReturnKind

ERROR, HINT = "错误", "提示"
UNKNOWN_UNIT = "未识别单位"
# A 合计 row may differ from the sum of its rows by rounding: at most 1 万元 or
# 0.05% of the total, whichever is larger.
TOTAL_TOLERANCE_WAN = 1.0
TOTAL_TOLERANCE_SHARE = 0.0005

PROVENANCE = ["unit", "file", "sheet", "row"]
PROVENANCE_LABELS = {"unit": "填报单位", "file": "文件", "sheet": "工作表", "row": "行号"}

_REPORTER = re.compile(r"(?:填报单位|填表单位|报送单位)(?:\(盖章\))?[:：]\s*([^\s:：]+)")


# --------------------------------------------------------------------------- results


@dataclass
class Problem:
    """One thing for a unit (or the analyst) to fix. Row is the Excel row number the unit sees."""

    unit: str
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    problem: str
    fix: str
    severity: str = ERROR
    code: str = ""


@dataclass
class SheetResult:
    records: list[dict] = field(default_factory=list)  # parsed rows, kept or not
    problems: list[Problem] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    kind: str | None = None


@dataclass
class RoundResult:
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    problems: pd.DataFrame
    ledger: pd.DataFrame
    missing_units: list[str]


def reporter_in(rows: list[list[Any]]) -> str | None:
    """The text after 填报单位： in a footer or title line, if any."""
    for row in rows:
        for value in row:
            # Only a string can hold these words (a number's or a date's text never does).
            if value.__class__ is str and ("填报单位" in value or "填表单位" in value or "报送单位" in value):
                m = _REPORTER.search(unicodedata.normalize("NFKC", cell_text(value)))
                if m:
                    return m.group(1)
    return None


def match_unit(text: str | None, units: tuple[str, ...]) -> str | None:
    """The round unit named in a piece of text: the longest unit name it contains.

    Falls back to the unit's core name (银川 for 银川市, 宁东 for 宁东基地), so
    "宁东能源化工基地管委会" still reads as 宁东基地.
    """
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    hits = [u for u in units if u in text]
    if not hits:
        hits = [u for u in units if len(core := re.sub(r"(市|基地|厅|委|局|办)$", "", u)) >= 2 and core in text]
    return max(hits, key=len) if hits else None


# --------------------------------------------------------------------------- values


def cell_parser(column: schemas.Column, unit: str | None) -> Callable[[Any], Parsed]:
    """The parser of one column's cells, chosen by the column's type once, not per cell."""
    if column.type == schemas.MONEY:
        return functools.partial(parse_money, unit=unit)
    if column.type == schemas.NUMBER:
        return parse_number
    if column.type == schemas.BOOL:
        return parse_bool
    if column.type == schemas.DATE:
        return parse_date
    if column.type == schemas.MONTH:
        return parse_month
    if column.type == schemas.CHOICE:
        return functools.partial(parse_choice, choices=column.choices, label=column.label)
    return parse_text  # TEXT and SEQ


def _canonical_name(text: str | None, table: dict[str, tuple[str, ...]]) -> str | None:
    """Map a written name onto its canonical form (指标名称, 板块); unknown names stay as written."""
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", text).replace(" ", "")
    for canonical, synonyms in table.items():
        forms = {unicodedata.normalize("NFKC", s).replace(" ", "") for s in (canonical, *synonyms)}
        if key in forms:
            return canonical
    return text


@dataclass(frozen=True)
class _Rules:
    """What the row checks need from a kind's schema, looked up once instead of on every row."""

    kind: ReturnKind
    names: tuple[str, ...]
    required: tuple[str, ...]
    money: tuple[str, ...]
    dates: tuple[str, ...]


_RULES: dict[str, _Rules] = {}


def _rules(kind: ReturnKind) -> _Rules:
    rules = _RULES.get(kind.name)
    if rules is None or rules.kind is not kind:
        rules = _RULES[kind.name] = _Rules(kind, tuple(c.name for c in kind.columns), kind.required,
                                           kind.names_of(schemas.MONEY), kind.names_of(schemas.DATE))
    return rules


def _check_row(record: dict, kind: ReturnKind, as_of) -> list[tuple[str, str, str, str]]:
    """The row checks: (column, problem, fix, code) for each thing wrong with a parsed record."""
    found = []
    rules = _rules(kind)
    for name in rules.required:
        if record.get(name) is None and not record.get(f"_bad_{name}"):
            label = kind.column(name).label
            found.append((name, f"{label}未填写", f"请填写{label}" + ("（没有请填0）" if kind.column(name).type == schemas.MONEY else ""),
                          "required_empty"))
    for name in rules.money:
        if (record.get(name) or 0) < 0:
            found.append((name, "金额为负数", "请填写不小于0的金额", "negative_amount"))
    total, completed = record.get("total_investment"), record.get("completed")
    if total is not None and completed is not None and completed > total:
        found.append(("completed", f"累计完成投资（{completed:,.2f}万元）大于总投资（{total:,.2f}万元）",
                      "请核对累计完成投资和总投资，注意金额单位是否一致", "completed_over_total"))
    for name in rules.dates:
        day = record.get(name)
        if day is not None and day > as_of and not kind.column(name).planned:
            found.append((name, f"{kind.column(name).label}（{day:%Y年%m月%d日}）晚于数据截至日期（{as_of:%Y年%m月%d日}）",
                          "请核对日期；尚未发生的请不要填写", "date_after_cutoff"))
    if kind.name == "fai" and record.get("cum_value") is None and record.get("yoy_pct") is None:
        found.append(("cum_value", "累计完成额和累计增速都未填写", "请至少填写其中一项", "required_empty"))
    return found


# --------------------------------------------------------------------------- one sheet


def clean_sheet(sheet: readers.Sheet, unit: str, round_: Round, aliases: AliasTable) -> SheetResult:
    """Parse one sheet into records; every data row becomes exactly one record."""
    result = SheetResult()
    texts = [row_texts(row) for row in sheet.rows]  # each cell's text, computed once per sheet
    nonblank = sum(1 for values in texts if any(values))
    ledger = dict(file=sheet.file, sheet=sheet.name, unit=unit, return_kind="", status="", data_rows=0,
                  kept=0, quarantined=0, skipped_rows=nonblank, blank_rows=len(sheet.rows) - nonblank,
                  money_raw_wan=0.0, note="")
    result.ledger = ledger

    def problem(row, column, value, text, fix, severity=ERROR, code=""):
        result.problems.append(Problem(unit, sheet.file, sheet.name, row, column, cell_text(value), text, fix, severity, code))

    header = find_header(sheet.rows, aliases)
    if header is None:
        if nonblank == 0:
            ledger.update(status="空工作表", note="工作表没有内容")
        else:
            ledger.update(status="未识别", note="未找到可识别的表头")
            problem(None, "", "", "未找到可识别的表头，不是本轮任何一种报表",
                    "请使用下发的报表模板；如是说明页可忽略本条", HINT, "not_a_return")
        return result

    kind = header.kind
    result.kind = kind.name
    ledger["return_kind"] = kind.label
    sheet_unit = sheet_money_unit(sheet.rows, header)
    _report_header(header, problem)
    missing = header.missing_required
    missing_reason = f"缺少必填列：{'、'.join(kind.column(m).label for m in missing)}" if missing else None

    cells = _cell_readers(header, sheet_unit)
    money_cols = {c.index for c in header.known if kind.column(c.column).type == schemas.MONEY}
    money_of = {c.index: c.parse for c in cells if c.index in money_cols}
    uncomputed = _by_row(sheet.formulas_without_value)
    grid = _fill_merged_down(sheet, header, problem)
    if grid is not sheet.rows:  # a merged text cell was copied down: those rows read differently now
        texts = texts[: header.last_row + 1] + [row_texts(row) for row in grid[header.last_row + 1:]]
    section: list[dict] = []  # data rows since the last 小计, for checking it
    all_rows: list[dict] = []
    skipped = header.last_row + 1 - sum(1 for values in texts[: header.last_row + 1] if not any(values))
    hidden_data_rows = []
    leading_totals: list[tuple[list, int]] = []
    for i in range(header.last_row + 1, len(grid)):
        raw = grid[i]
        values = texts[i]
        role = row_role(values, header)
        excel_row = i + 1
        if role == "blank":
            if any(values):
                skipped += 1  # a template row holding only its 序号
            continue
        if role in ("total", "subtotal"):
            skipped += 1
            if not all_rows:  # a 合计 row right under the header totals the rows below it
                leading_totals.append((raw, excel_row))
                continue
            _check_total(raw, header, sheet_unit, section if role == "subtotal" else all_rows, excel_row, problem)
            if role == "subtotal":
                section = []
            continue
        if role in ("footer", "header"):
            skipped += 1
            continue
        record = _parse_row(raw, header, cells, excel_row, problem, round_, uncomputed.get(i, frozenset()))
        if i in sheet.hidden_rows:
            hidden_data_rows.append(excel_row)
        record.update(unit=unit, file=sheet.file, sheet=sheet.name, row=excel_row, return_kind=kind.name)
        if missing:
            record["_reasons"].append(missing_reason)
        ledger["money_raw_wan"] += sum(v for j in money_cols if j < len(raw)
                                       for v in [money_of[j](raw[j]).value] if v is not None)
        result.records.append(record)
        section.append(record)
        all_rows.append(record)
    for raw, excel_row in leading_totals:
        _check_total(raw, header, sheet_unit, all_rows, excel_row, problem)
    if hidden_data_rows:
        problem(hidden_data_rows[0], "", "", f"第{'、'.join(map(str, hidden_data_rows))}行是隐藏行，已按正常数据读入",
                "请取消隐藏并核对这些行；不应报送的行请删除", HINT, "hidden_rows")
    if not result.records:
        problem(header.last_row + 2, "", "", "只有表头，没有数据行", "请填写数据后重新报送；确无数据请注明“无”", HINT, "no_rows")
    _check_plausible_unit(result.records, header, sheet_unit, problem)
    ledger.update(status="已读取", data_rows=len(result.records), skipped_rows=skipped,
                  note="隐藏工作表" if sheet.hidden else "")
    return result


def _report_header(header: Header, problem) -> None:
    """The header's own problems: a column given twice, a header not in the alias table, a required column missing."""
    for col in header.columns:
        if col.duplicate_of:
            problem(col.row, col.written, col.written, f"列“{col.written}”与前面的“{col.duplicate_of}”含义相同，只读取前一列",
                    "请删除重复的列，或核对两列内容后只保留一列", ERROR, "duplicate_column")
        elif col.column is None:
            problem(col.row, col.written, col.written, f"表头“{col.written}”无法识别，该列未读入清洗表（原值保留在隔离/其他列中）",
                    "请按模板表头填写；若确属需要的列，分析人员可在 data/header_aliases.csv 中补充别名", HINT, "unknown_header")
    missing = header.missing_required
    if missing:
        labels = "、".join(header.kind.column(m).label for m in missing)
        problem(header.last_row + 1, labels, "", f"缺少必填列：{labels}，本表数据行全部暂不采用",
                f"请在表中补充“{labels}”列并逐行填写", ERROR, "missing_column")


def _by_row(cells: set[tuple[int, int]]) -> dict[int, set[int]]:
    """{row: {columns}} of a set of (row, column) cells."""
    rows: dict[int, set[int]] = {}
    for r, j in cells:
        rows.setdefault(r, set()).add(j)
    return rows


# A major project, a signed investment or one of the ten projects worth under 100
# 万元 (一百万) is not plausible: a sheet whose typical amount is that small was
# almost certainly filled in 亿元 while saying (or defaulting to) 万元. The unit is
# asked; nothing is rescaled silently.
PLAUSIBLE_MEDIAN_WAN = {"projects": ("total_investment", 100.0), "major_works": ("total_investment", 100.0),
                        "attraction": ("contract_investment", 100.0)}
PLAUSIBLE_MIN_ROWS = 3


def _check_plausible_unit(records: list[dict], header: Header, sheet_unit: str, problem) -> None:
    rule = PLAUSIBLE_MEDIAN_WAN.get(header.kind.name)
    if not rule:
        return
    column, floor = rule
    col = next((c for c in header.known if c.column == column), None)
    values = sorted(r[column] for r in records if r.get(column))
    if col is None or (col.unit or sheet_unit) != "万元" or len(values) < PLAUSIBLE_MIN_ROWS:
        return
    median = values[len(values) // 2]
    if median < floor:
        problem(header.last_row + 1, col.written, "",
                f"金额单位存疑：按万元计，{col.written}的中位数只有{median:,.2f}万元，疑似按亿元填写",
                "请确认金额单位；如为亿元，请在表头写“（亿元）”或在表上方注明“单位：亿元”后重新报送", ERROR, "implausible_unit")
        for record in records:
            record["_reasons"].append("金额单位存疑（疑似亿元按万元填写），待单位确认")


def _fill_merged_down(sheet: readers.Sheet, header: Header, problem) -> list[list[Any]]:
    """Copy a text cell merged down across data rows (责任单位 over three projects) into each row.

    An amount merged across rows is not copied: that would count it once per
    row. It stays in the first row, and the unit is told.
    """
    grid = sheet.rows
    by_index = {c.index: c for c in header.known}
    for (r1, c1), (r2, c2) in sheet.merged:
        if r2 <= r1 or r1 <= header.last_row or c1 not in by_index:
            continue
        column = header.kind.column(by_index[c1].column)
        if column.type in (schemas.MONEY, schemas.NUMBER):
            problem(r1 + 1, by_index[c1].written, grid[r1][c1] if c1 < len(grid[r1]) else "",
                    f"金额单元格跨第{r1 + 1}至{r2 + 1}行合并，只计入第{r1 + 1}行",
                    "请取消合并，把金额分别填入各行", HINT, "merged_amount")
            continue
        if grid is sheet.rows:
            grid = [list(row) for row in sheet.rows]
        for r in range(r1 + 1, min(r2, len(grid) - 1) + 1):
            while len(grid[r]) <= c1:
                grid[r].append("")
            grid[r][c1] = grid[r1][c1]
    return grid


class _CellReader(NamedTuple):
    """How one column of a sheet is read: where, under which header, as which schema column, with which parser."""

    index: int
    written: str
    name: str | None  # canonical column; None for a header the alias table does not know
    type: str | None
    parse: Callable[[Any], Parsed] | None


def _cell_readers(header: Header, sheet_unit: str) -> list[_CellReader]:
    readers_ = []
    for col in header.columns:
        column = header.kind.column(col.column) if col.column else None
        parse = _memo_parser(column, col.unit or sheet_unit) if column else None
        readers_.append(_CellReader(col.index, col.written, col.column, column.type if column else None, parse))
    return readers_


def _memo_parser(column: schemas.Column, unit: str | None) -> Callable[[Any], Parsed]:
    """cell_parser for one column, computed once per distinct value: a column repeats its values
    (是/否, 第一批, the same county) row after row, and parsers are pure."""
    memo: dict[tuple[type, Any], Parsed] = {}
    parse_one = cell_parser(column, unit)

    def parse(value: Any) -> Parsed:
        key = (value.__class__, value)  # 1, 1.0 and True are equal as keys; their type tells them apart
        try:
            hit = memo.get(key)
        except TypeError:  # an unhashable value is parsed every time
            return parse_one(value)
        if hit is None:
            hit = memo[key] = parse_one(value)
        return hit

    return parse


def _parse_row(raw, header: Header, cells: list[_CellReader], excel_row: int, problem, round_: Round,
               uncomputed: set[int] = frozenset()) -> dict:
    kind = header.kind
    record: dict = dict.fromkeys(_rules(kind).names)
    reasons = record["_reasons"] = []
    extra = {}
    width = len(raw)
    for index, written, name, type_, parse in cells:
        value = raw[index] if index < width else None
        if name is None:
            if cell_text(value):
                extra[written] = cell_text(value)
            continue
        if index in uncomputed:
            record[f"_bad_{name}"] = True
            reasons.append(f"{written}：公式没有计算结果")
            problem(excel_row, written, "（公式）", "公式没有保存计算结果，无法读取数值",
                    "请在 Excel 中打开文件，重新计算（F9）并保存后再发送，或改填数值", ERROR, "formula_no_value")
            continue
        parsed = parse(value)
        if parsed.problem:
            record[f"_bad_{name}"] = True
            reasons.append(f"{written}：{parsed.problem}")
            problem(excel_row, written, value, parsed.problem, parsed.fix, ERROR, f"bad_{type_}")
        record[name] = parsed.value
    for name, text, fix, code in _check_row(record, kind, round_.as_of):
        label = next((c.written for c in cells if c.name == name), kind.column(name).label)
        reasons.append(f"{label}：{text}")
        problem(excel_row, label, _raw_of(raw, header, name), text, fix, ERROR, code)
    if kind.name == "indicators":
        _normalise_indicator(record)
    if kind.name == "practices":
        record["section"] = _canonical_name(record["section"], schemas.PRACTICE_SECTIONS)
    record["extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
    record["_source"] = (raw, header)  # `original` is written only for the rows that end in the quarantine
    return record


def _original(record: dict) -> str:
    """The row as the unit wrote it, header by header: what the quarantine keeps."""
    raw, header = record["_source"]
    return json.dumps({c.written: cell_text(raw[c.index]) if c.index < len(raw) else "" for c in header.columns},
                      ensure_ascii=False)


def _raw_of(raw, header: Header, name: str):
    col = next((c for c in header.columns if c.column == name), None)
    return raw[col.index] if col and col.index < len(raw) else ""


def _normalise_indicator(record: dict) -> None:
    """Canonical 指标名称; an amount stated in 亿元 is stored in 万元 like every other amount."""
    record["indicator"] = _canonical_name(record["indicator"], schemas.KNOWN_INDICATORS)
    unit = unicodedata.normalize("NFKC", record.get("measure_unit") or "").strip()
    if unit == "亿元":
        for name in ("current", "last_year"):
            if record.get(name) is not None:
                record[name] *= 10_000
        unit = "万元"
    record["measure_unit"] = unit or None


def _check_total(raw, header: Header, sheet_unit: str, rows: list[dict], excel_row: int, problem) -> None:
    """A 合计/小计 row must equal the sum of the rows it totals, column by column."""
    for col in header.known:
        if header.kind.column(col.column).type != schemas.MONEY or col.index >= len(raw):
            continue
        stated = parse_money(raw[col.index], col.unit or sheet_unit).value
        if stated is None or any(r.get(f"_bad_{col.column}") for r in rows):
            continue  # an unreadable detail cell is reported on its own row already
        summed = sum(r.get(col.column) or 0 for r in rows)
        if abs(stated - summed) > max(TOTAL_TOLERANCE_WAN, TOTAL_TOLERANCE_SHARE * abs(stated)):
            problem(excel_row, col.written, raw[col.index],
                    f"合计与明细之和不符：合计为{stated:,.2f}万元，明细之和为{summed:,.2f}万元，相差{stated - summed:,.2f}万元",
                    "请核对合计行或明细数据", ERROR, "total_mismatch")


# --------------------------------------------------------------------------- the round


def clean_round(round_: Round, aliases: AliasTable, echo=print) -> RoundResult:
    """Read and clean every return of a round. Files that cannot be read are reported, not fatal."""
    files = readers.list_round_files(round_.raw_dir)
    records: list[dict] = []
    problems: list[Problem] = []
    ledger: list[dict] = []
    for path in files.other:
        rel = path.relative_to(round_.raw_dir).as_posix()
        unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "", "", "不是 Excel 或 CSV 文件，未读取",
                                "请另存为 .xlsx 后重新发送；与报表无关的文件请移出轮次文件夹", ERROR, "not_a_table"))
        ledger.append(_file_ledger(rel, unit, "未读取", "不是 Excel 或 CSV 文件"))
    for path in files.lock_files:  # editor lock files (~$x.xlsx, .~lock.x#): skipped, with a hint
        rel = path.relative_to(round_.raw_dir).as_posix()
        problems.append(Problem(_unit_from_path(rel, round_) or UNKNOWN_UNIT, rel, "", None, "", "",
                                "这是 Excel/WPS 打开文件时留下的临时锁定文件，已跳过", "无需处理；请确认对应的报表已保存、关闭后再发送", HINT, "lock_file"))
    for path in files.returns:
        rel = path.relative_to(round_.raw_dir).as_posix()
        try:
            file_records, file_problems, file_ledger = _clean_file(path, rel, round_, aliases)
        except readers.ReadError as exc:
            unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
            problems.append(Problem(unit, rel, "", None, "", "", exc.problem, exc.fix, ERROR, "unreadable"))
            ledger.append(_file_ledger(rel, unit, "无法读取", exc.problem))
            echo(f"  无法读取 {rel}：{exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one file the cleaner cannot handle must not stop the round
            unit = _unit_from_path(rel, round_) or UNKNOWN_UNIT
            text = f"处理该文件时程序出错（{type(exc).__name__}），整个文件暂未采用"
            problems.append(Problem(unit, rel, "", None, "", "", text, "请把该文件发给流水线维护人员；其余文件已正常处理", ERROR,
                                    "cleaner_failed"))
            ledger.append(_file_ledger(rel, unit, "处理失败", text))
            echo(f"  处理失败 {rel}：{text}")
            continue
        records.extend(file_records)
        problems.extend(file_problems)
        ledger.extend(file_ledger)
    records, problems = _deduplicate(records, problems)
    return _assemble(records, problems, ledger, round_)


def _clean_file(path: Path, rel: str, round_: Round, aliases: AliasTable) -> tuple[list[dict], list[Problem], list[dict]]:
    """Every sheet of one return file: its records, problems and ledger rows (all or nothing)."""
    sheets = readers.read_return(path, rel)
    problems: list[Problem] = []
    unit = match_unit(reporter_in([r for s in sheets for r in s.rows]), round_.units) or _unit_from_path(rel, round_)
    if unit is None:
        unit = UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "填报单位", "", "无法确定填报单位",
                                "请在表尾填写“填报单位：XX”，或把文件放入以单位命名的文件夹", ERROR, "unknown_unit"))
    results = [clean_sheet(sheet, unit, round_, aliases) for sheet in sheets]
    recognised = any(r.kind for r in results)
    records = [record for result in results for record in result.records]
    # A sheet that is not a return matters only beside sheets that are; otherwise the file is the problem.
    problems += [p for result in results for p in result.problems if recognised or p.code != "not_a_return"]
    if not recognised:
        problems.append(Problem(unit, rel, "", None, "", "", "文件中没有可识别的报表（工作表为空或不是报表）",
                                "请使用下发的报表模板填写后重新发送", ERROR, "no_return_in_file"))
    return records, problems, [result.ledger for result in results]


def _unit_from_path(rel: str, round_: Round) -> str | None:
    """The unit from the folder a file sits in, else from the file name."""
    parts = rel.split("/")
    for folder in reversed(parts[:-1]):
        unit = match_unit(folder, round_.units)
        if unit:
            return unit
    return match_unit(parts[-1], round_.units)


def _file_ledger(rel: str, unit: str, status: str, note: str) -> dict:
    return dict(file=rel, sheet="", unit=unit, return_kind="", status=status, data_rows=0, kept=0, quarantined=0,
                skipped_rows=0, blank_rows=0, money_raw_wan=0.0, note=note)


def kind_of(record: dict) -> ReturnKind:
    return schemas.RETURN_KINDS[record["return_kind"]]


def _dedup_key(record: dict) -> str | None:
    """The identity of a row: the first key alternative whose columns are all filled, as one string."""
    for columns in kind_of(record).key:
        values = [record.get(name) for name in columns]
        if all(v is not None and v != "" for v in values):
            text = "|".join(re.sub(r"[\s()（）\"“”]", "", unicodedata.normalize("NFKC", str(v))) for v in values)
            return f"{'+'.join(columns)}:{text}"
    return None


# Kinds whose rows describe one project: the same project from two units is counted once.
# Indicator and FAI rows are per unit, so they are only de-duplicated within a unit.
_ACROSS_UNITS = {"projects", "major_works", "attraction"}


def _deduplicate(records: list[dict], problems: list[Problem]) -> tuple[list[dict], list[Problem]]:
    """Keep one copy of a project reported twice; quarantine the other copy with the reason.

    Within one unit a second copy is a mistake (错误). Across units it is expected
    (a city and a department both report a project): the copy from the unit whose
    city the project is in is kept, else the first one read, and both units are told (提示).
    """
    first_seen: dict[tuple, dict] = {}
    order = sorted(range(len(records)), key=lambda i: (not _is_home(records[i]), i))
    for i in order:
        record = records[i]
        if record["_reasons"]:
            continue
        key = _dedup_key(record)
        if key is None:
            continue
        scope = (record["return_kind"], key) if record["return_kind"] in _ACROSS_UNITS else (record["return_kind"], record["unit"], key)
        kept = first_seen.setdefault(scope, record)
        if kept is record:
            continue
        where = f"{kept['file']}（{kept['sheet']}）第{kept['row']}行"
        name = record.get("project_name") or record.get("indicator") or record.get("region") or ""
        if kept["unit"] == record["unit"]:
            text, fix, severity = f"与本单位 {where} 重复填报同一项目“{name}”", "请删除重复行或修改项目编号", ERROR
        else:
            text = f"与{kept['unit']}重复填报同一项目“{name}”，已按一次统计（采用{kept['unit']}的数据）"
            fix, severity = "请与对方单位核实，由项目所在地单位填报", HINT
        record["_reasons"].append(text)
        record["_duplicate"] = True
        column = "、".join(kind_of(record).column(name).label for name in key.split(":")[0].split("+"))
        problems.append(Problem(record["unit"], record["file"], record["sheet"], record["row"], column,
                                key.split(":", 1)[1], text, fix, severity, "duplicate"))
    return records, problems


def _is_home(record: dict) -> bool:
    location = record.get("location") or ""
    return bool(location) and record["unit"] in location


def _assemble(records: list[dict], problems: list[Problem], ledger: list[dict], round_: Round) -> RoundResult:
    tables = {}
    kept_rows, quarantined_rows = [], []
    for record in records:
        (quarantined_rows if record["_reasons"] else kept_rows).append(record)
    for name, kind in schemas.RETURN_KINDS.items():
        columns = PROVENANCE + [c.name for c in kind.columns if c.type != schemas.SEQ] + ["extra"]
        rows = [r for r in kept_rows if r["return_kind"] == name]
        tables[name] = _typed(_records_frame(rows, columns), kind)
    q_columns = PROVENANCE + ["return_kind", "reasons", "original"]
    quarantine = pd.DataFrame(
        [{**{c: r.get(c) for c in PROVENANCE}, "return_kind": schemas.RETURN_KINDS[r["return_kind"]].label,
          "reasons": "；".join(r["_reasons"]), "original": _original(r),
          "money_wan": _money_total(r)} for r in quarantined_rows],
        columns=q_columns + ["money_wan"],
    )
    ledger_frame = _ledger(ledger, records)
    received = set(ledger_frame.loc[ledger_frame["status"] != "", "unit"])
    missing = [u for u in round_.units if u not in received]
    for unit in missing:
        problems.append(Problem(unit, "", "", None, "", "", "未报送", "请按要求报送本轮报表", ERROR, "missing_return"))
    problem_frame = pd.DataFrame([p.__dict__ for p in problems], columns=list(Problem.__dataclass_fields__))
    problem_frame["row"] = problem_frame["row"].astype("Int64")
    return RoundResult(tables=tables, quarantine=quarantine, problems=problem_frame, ledger=ledger_frame, missing_units=missing)


def _records_frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    """The given columns of dict records as a frame, built column by column (much faster than row by row)."""
    if not records:
        return pd.DataFrame([], columns=columns)
    return pd.DataFrame({c: [r.get(c) for r in records] for c in columns}, columns=columns)


def _money_total(record: dict) -> float:
    return float(sum(record.get(n) or 0 for n in _rules(kind_of(record)).money))


LEDGER_COLUMNS = ["file", "sheet", "unit", "return_kind", "data_rows", "kept", "quarantined", "skipped_rows",
                  "blank_rows", "money_raw_wan", "money_kept_wan", "money_quarantined_wan", "status", "note"]


def _ledger(ledger: list[dict], records: list[dict]) -> pd.DataFrame:
    """One row per file and sheet: rows read, kept, quarantined, skipped; money in and out."""
    frame = pd.DataFrame(ledger, columns=[c for c in LEDGER_COLUMNS if c not in ("money_kept_wan", "money_quarantined_wan")])
    out = _records_frame(
        [{"file": r["file"], "sheet": r["sheet"], "q": bool(r["_reasons"]), "money": _money_total(r)} for r in records],
        ["file", "sheet", "q", "money"],
    )
    out = out.assign(
        kept=~out["q"].astype(bool),
        money_kept_wan=out["money"].where(~out["q"].astype(bool), 0.0),
        money_quarantined_wan=out["money"].where(out["q"].astype(bool), 0.0),
    )
    counts = out.groupby(["file", "sheet"], as_index=False).agg(
        kept=("kept", "sum"), quarantined=("q", "sum"),
        money_kept_wan=("money_kept_wan", "sum"), money_quarantined_wan=("money_quarantined_wan", "sum"),
    )
    frame = frame.drop(columns=["kept", "quarantined"]).merge(counts, on=["file", "sheet"], how="left")
    for col in ("kept", "quarantined"):
        frame[col] = frame[col].fillna(0).astype(int)
    for col in ("money_kept_wan", "money_quarantined_wan"):
        frame[col] = frame[col].fillna(0.0)
    return frame[LEDGER_COLUMNS]


def _typed(frame: pd.DataFrame, kind: ReturnKind) -> pd.DataFrame:
    """Give each column of a clean table its schema type (nullable where values may be missing)."""
    types = {}
    for column in kind.columns:
        if column.name not in frame:
            continue
        if column.type in (schemas.MONEY, schemas.NUMBER):
            types[column.name] = "float64"
        elif column.type == schemas.BOOL:
            types[column.name] = "boolean"
        elif column.type == schemas.MONTH:
            types[column.name] = "Int64"
        elif column.type != schemas.DATE:
            types[column.name] = "string"
    frame = frame.astype(types | {"unit": "string", "file": "string", "sheet": "string", "row": "int64", "extra": "string"})
    for column in kind.names_of(schemas.DATE):
        frame[column] = pd.to_datetime(frame[column])
    return frame


# --------------------------------------------------------------------------- saving and loading


def save_clean(result: RoundResult, out_dir: Path) -> list[Path]:
    """Write the clean tables (parquet for the chain, xlsx for people), the quarantine, the problems and ledger.csv."""
    from pipeline.excel_out import write_workbook

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result.tables.items():
        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
        written.append(out_dir / f"{name}.parquet")
    result.quarantine.to_parquet(out_dir / "quarantine.parquet", index=False)
    result.problems.to_parquet(out_dir / "problems.parquet", index=False)
    result.ledger.to_csv(out_dir / "ledger.csv", index=False, encoding="utf-8")
    sheets = {schemas.RETURN_KINDS[n].label: _labelled(f, schemas.RETURN_KINDS[n]) for n, f in result.tables.items()}
    written.append(write_workbook(out_dir / "清洗数据.xlsx", sheets))
    written.append(write_workbook(out_dir / "隔离行.xlsx", {"隔离行": result.quarantine.rename(columns=QUARANTINE_LABELS)},
                                  notes={"隔离行": "以下数据行未进入清洗表，原因见“隔离原因”；原始内容原样保留。"}))
    return written + [out_dir / "quarantine.parquet", out_dir / "problems.parquet", out_dir / "ledger.csv"]


QUARANTINE_LABELS = {**PROVENANCE_LABELS, "return_kind": "报表类型", "reasons": "隔离原因", "original": "原始内容",
                     "money_wan": "可读金额合计(万元)"}


def _labelled(frame: pd.DataFrame, kind: ReturnKind) -> pd.DataFrame:
    labels = {**PROVENANCE_LABELS, "extra": "其他列"}
    labels.update({c.name: c.label + ("(万元)" if c.type == schemas.MONEY else "") for c in kind.columns})
    return frame.rename(columns=labels)


def load_clean_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The clean tables a later notebook reads: {kind name: DataFrame}."""
    return {name: pd.read_parquet(Path(processed_dir) / f"{name}.parquet") for name in schemas.RETURN_KINDS}


class LedgerError(AssertionError):
    """The ledger does not reconcile: a row or an amount went missing between raw and clean."""


def check_ledger(result: RoundResult) -> pd.DataFrame:
    """Prove nothing was lost: per file and sheet, data rows = kept + quarantined, and money reconciles.

    Returns the ledger; raises LedgerError naming the file and sheet otherwise.
    """
    ledger = result.ledger
    for _, row in ledger.iterrows():
        where = f"{row['file']}（{row['sheet']}）"
        if row["data_rows"] != row["kept"] + row["quarantined"]:
            raise LedgerError(f"台账不平：{where} 数据行{row['data_rows']}行，采用{row['kept']}行 + 隔离{row['quarantined']}行")
        out = row["money_kept_wan"] + row["money_quarantined_wan"]
        if abs(row["money_raw_wan"] - out) > 1e-6 * max(1.0, abs(row["money_raw_wan"])):
            raise LedgerError(f"金额不平：{where} 原始{row['money_raw_wan']:,.2f}万元，采用+隔离{out:,.2f}万元")
    kept = sum(len(t) for t in result.tables.values())
    if kept != ledger["kept"].sum() or len(result.quarantine) != ledger["quarantined"].sum():
        raise LedgerError(f"台账不平：清洗表{kept}行、隔离表{len(result.quarantine)}行，与台账合计不符")
    return ledger


def clean_tables_for(round_id: str, root: Path | None = None) -> dict[str, pd.DataFrame] | None:
    """A round's clean tables: from data/processed/<round>/ if cleaned already, else cleaned now in memory.

    Used for the previous round in comparisons; None when that round has no folder at all.
    """
    from pipeline import config
    from pipeline.rounds import load_round

    processed = config.processed_round_dir(round_id, root)
    if all((processed / f"{name}.parquet").is_file() for name in schemas.RETURN_KINDS):
        return load_clean_tables(processed)
    if not config.raw_round_dir(round_id, root).is_dir():
        return None
    aliases = schemas.load_aliases((root / "data" / "header_aliases.csv") if root else None)
    return clean_round(load_round(round_id, root), aliases, echo=lambda *_: None).tables
