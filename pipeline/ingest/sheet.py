"""One sheet: a grid of cells to records, problems, a ledger row and its 表头对照 rows.

A sheet travels through four steps:
1. find the header (one row, or two rows with merged cells) and the return kind
   it belongs to, through the alias table;
2. give every row below it one role: data, blank, total (合计/小计), footer;
3. parse every data row's cells by the schema, and validate the row (rows.py, checks.py);
4. keep the row, or quarantine it with its reasons.
Every data row ends in exactly one record; the ledger row counts them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline import schemas
from pipeline.ingest import columnwise, corrections, layout, readers
from pipeline.ingest.checks import RowContext, leave_out_money
from pipeline.ingest.concepts import concept_note
from pipeline.ingest.context import SheetContext, sheet_context
from pipeline.ingest.headers import Header, cell_text, find_header, row_role, row_texts
from pipeline.ingest.parsing import INVISIBLE, Parsed
from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.records import HIDDEN_SHEET, add_issue, quarantine
from pipeline.ingest.rows import CellFacts, cell_readers, parse_row
from pipeline.ingest.totals import TotalsCheck
from pipeline.rounds import Round
from pipeline.schemas import AliasTable


@dataclass
class SheetResult:
    records: list[dict] = field(default_factory=list)  # parsed rows, kept or not
    problems: list[Problem] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    kind: str | None = None
    mapping: list[dict] = field(default_factory=list)  # the 表头对照 rows


def clean_sheet(sheet: readers.Sheet, unit: str, round_: Round, aliases: AliasTable) -> SheetResult:
    """Parse one sheet into records; every data row becomes exactly one record."""
    result = SheetResult()
    texts = [row_texts(row) for row in sheet.rows]  # each cell's text, computed once per sheet
    nonblank = sum(1 for values in texts if any(values))
    result.ledger = ledger = dict(
        file=sheet.file, sheet=sheet.name, unit=unit, return_kind="", status="", data_rows=0, kept=0,
        kept_with_problems=0, quarantined=0, skipped_rows=nonblank, blank_rows=len(sheet.rows) - nonblank,
        money_raw_wan=0.0, note="")

    def problem(row, column, value, text, fix, severity=ERROR, code=""):
        result.problems.append(Problem(unit, sheet.file, sheet.name, row, column, cell_text(value), text, fix,
                                       severity, code))

    header = find_header(sheet.rows, aliases, frozenset(sheet.hidden_cols))
    if header is None:
        if nonblank == 0:
            ledger.update(status="空工作表", note="工作表没有内容")
        else:
            ledger.update(status="未识别", note="未找到可识别的表头")
            problem(None, "", "", "未找到可识别的表头，不是本轮任何一种报表",
                    "请使用下发的报表模板；如是说明页可忽略本条", HINT, "not_a_return")
        return result
    result.kind = header.kind.name
    ledger["return_kind"] = header.kind.label
    grid = _fill_merged_down(sheet, header, problem)
    if grid is not sheet.rows:  # a merged text cell was copied down: those rows read differently now
        texts = texts[: header.last_row + 1] + [row_texts(row) for row in grid[header.last_row + 1:]]
    roles = {i: row_role(texts[i], header) for i in range(header.last_row + 1, len(grid))}
    roles = layout.numbered_groups(roles, texts, header)  # （1） over 1.1, 1.2 is a heading
    below = [t for i, role in roles.items() if role == "footer" for t in texts[i] if t]
    context = sheet_context(grid, header, sheet.name, sheet.file, below)
    result.mapping = header_mapping(header, context, sheet.file, sheet.name)
    _report_header(header, problem, context, sheet.hidden_cols)
    if context.year and context.year.value != round_.as_of.year:
        problem(None, "", context.year.text,
                f"表格标题中的年份为{context.year.value}年，"
                f"与本轮数据截至日期的年份（{round_.as_of.year}年）不符",
                "请确认报送的是本年度的报表", HINT, "other_year")
    walk = _SheetWalk(sheet, header, context, round_, problem, unit)
    walk.parse_columns(grid, [i for i, role in roles.items() if role == "data"])
    for i, role in roles.items():
        walk.row(i, grid[i], texts[i], role)
    result.records = walk.finish()
    ledger.update(status="已读取", data_rows=len(result.records), skipped_rows=nonblank - len(result.records),
                  money_raw_wan=walk.money_raw, note=_skipped_note(roles, header, sheet))
    return result


def _skipped_note(roles: dict[int, str], header: Header, sheet: readers.Sheet) -> str:
    """What the ledger's skipped rows were: 标题和表头3行、合计1行、分组2行、落款2行."""
    counts = {"标题和表头": header.last_row + 1}
    for role in roles.values():
        label = ROLE_LABELS.get(role)
        if label:
            counts[label] = counts.get(label, 0) + 1
    note = "跳过：" + "、".join(f"{label}{n}行" for label, n in counts.items() if n)
    return ("隐藏工作表；" if sheet.hidden else "") + note


ROLE_LABELS = {"total": "合计", "subtotal": "小计", "breakdown": "“其中”", "group": "分组", "footer": "落款和注释",
               "header": "重复表头"}


class _SheetWalk:
    """The rows below a header, in order: data rows become records, total rows are checked against them."""

    def __init__(self, sheet: readers.Sheet, header: Header, context: SheetContext, round_: Round, problem, unit: str):
        self.sheet, self.header, self.problem, self.unit = sheet, header, problem, unit
        self.money_unit = context.money_unit.value
        self.cells = cell_readers(header, self.money_unit)
        money = {c.index for c in header.known if header.kind.column(c.column).type == schemas.MONEY}
        self.money_of = {c.index: c.parse for c in self.cells if c.index in money}
        self.defaults = _context_defaults(header, context)
        self.rows = RowContext.of(header, self.cells, problem, round_, self.defaults)  # the same for every row
        self.totals = TotalsCheck.for_header(header, self.money_of, problem)
        self.facts = CellFacts.of(sheet)
        self.records: list[dict] = []
        self.hidden: list[int] = []
        self.invisible: list[int] = []  # rows with zero-width characters, removed before parsing
        self.money_raw = 0.0
        self.parsed: dict[int, tuple] = {}  # row -> its cells as parse_columns read them, in self.cells' order
        self.money_at = [k for k, c in enumerate(self.cells) if c.index in money]
        missing = [m for m in header.missing_required if m not in self.defaults]  # in the header's order
        self.unusable = (f"缺少必填列：{'、'.join(header.kind.column(m).label for m in missing)}"
                         if any(m in header.kind.identity for m in missing) else None)

    def parse_columns(self, grid: list[list[Any]], data_rows: list[int]) -> None:
        """Parse the data rows' cells a column at a time; parse_row then takes each cell's result from here."""
        columns = [columnwise.parse_column(columnwise.column_values(grid, data_rows, c.index), c.type, c.unit,
                                           c.parse_each) if c.parse else [None] * len(data_rows) for c in self.cells]
        self.parsed = dict(zip(data_rows, zip(*columns)))

    def row(self, i: int, raw: list, values: list[str], role: str) -> None:
        excel_row = i + 1
        label = next((v for v in values if v), "")
        if role == "total":
            self.totals.total(raw, excel_row, label)
        elif role == "subtotal":
            self.totals.subtotal(raw, excel_row, label)
        elif role == "group":
            seq_i = self.header.index_of("seq")
            name_i = self.header.index_of(self.header.kind.identity[0])
            seq = values[seq_i] if seq_i is not None and seq_i < len(values) else ""
            name = values[name_i] if name_i is not None and name_i < len(values) and values[name_i] else label
            self.totals.group(raw, excel_row, name if name != seq else label, seq)
        elif role == "data":
            self._data(i, raw, excel_row)

    def _data(self, i: int, raw: list, excel_row: int) -> None:
        parsed = self.parsed[i]
        record = parse_row(raw, excel_row, parsed, self.facts.row(i), self.rows)
        if i in self.sheet.hidden_rows:
            self.hidden.append(excel_row)
        record.update(unit=self.unit, file=self.sheet.file, sheet=self.sheet.name, row=excel_row,
                      return_kind=self.header.kind.name, **{HIDDEN_SHEET: self.sheet.hidden})
        if self.unusable:
            quarantine(record, self.unusable)
        # the amounts as read (a cell with a problem is a Parsed, whose value is None)
        self.money_raw += sum(v for k in self.money_at for v in [parsed[k]]
                              if v is not None and v.__class__ is not Parsed)
        if INVISIBLE.search("".join(v for v in raw if v.__class__ is str)):
            self.invisible.append(excel_row)
        self.records.append(record)
        self.totals.data(record)

    def finish(self) -> list[dict]:
        self.totals.finish()
        if self.hidden:
            self.problem(self.hidden[0], "", "", f"第{'、'.join(map(str, self.hidden))}行是隐藏行，已按正常数据读入",
                         "请取消隐藏并核对这些行；不应报送的行请删除", HINT, "hidden_rows")
        if self.invisible:
            self.problem(self.invisible[0], "", "", f"第{'、'.join(map(str, self.invisible[:10]))}行"
                         f"{'等' if len(self.invisible) > 10 else ''}含有看不见的字符（零宽空格等），已去除后读取",
                         "这类字符多由网页或聊天软件复制带入，请在原表中删除", HINT, "invisible_characters")
        if not self.records:
            self.problem(self.header.last_row + 2, "", "", "只有表头，没有数据行",
                         "请填写数据后重新报送；确无数据请注明“无”", HINT, "no_rows")
        _check_plausible_unit(self.records, self.header, self.money_unit, self.problem)
        return self.records


def _context_defaults(header: Header, context: SheetContext) -> dict[str, Any]:
    """Values found around the table that fill a column left empty (or absent): the batch of a projects sheet."""
    if header.kind.name == "projects" and context.batch is not None:
        return {"batch": context.batch.value}
    return {}


def header_mapping(header: Header, context: SheetContext, file: str, sheet: str) -> list[dict]:
    """The 表头对照 rows of one sheet: every header as written, the standard column, how it matched;
    then each value read from around the table and where."""
    kind = header.kind
    rows = []
    for col in header.columns:
        m = col.match
        label = kind.column(col.column).label if col.column else ""
        how, note = (m.how if m else schemas.MATCH_UNKNOWN), ""
        if col.duplicate_of:
            how, note = "重复列（未读取）", f"与“{col.duplicate_of}”含义相同"
        elif m and m.how == schemas.MATCH_PATTERN:
            note = f"别名表中的模式：{m.alias}"
        elif m and m.how == schemas.MATCH_CONCEPT:
            note = concept_note(m, label)
        elif m and m.suggestion:
            note = (f"是否为“{kind.column(m.suggestion).label}”？可在别名表中加一行："
                    f"{schemas.alias_line(kind.name, m.suggestion, col.written)}")
        rows.append(dict(file=file, sheet=sheet, return_kind=kind.label, excel_row=col.row, written=col.written,
                         column=col.column or "", label=label, how=how, note=note,
                         score=m.score if m else None, words="、".join(m.words) if m else ""))
    for label, value, where in context.rows():
        rows.append(dict(file=file, sheet=sheet, return_kind=kind.label, excel_row=None, written=f"（表外）{value}",
                         column="", label=label, how="表外信息", note=f"取自{where}"))
    return rows


def _report_header(header: Header, problem, context: SheetContext, hidden_cols=frozenset()) -> None:
    """The header's own problems: a column given twice, a header not in the alias table, a required column missing."""
    kind = header.kind
    for col in header.columns:
        if col.duplicate_of and col.index in hidden_cols:
            problem(col.row, col.written, col.written,
                    f"隐藏列“{col.written}”与“{col.duplicate_of}”含义相同，已读取未隐藏的列",
                    "请删除不再使用的隐藏列", HINT, "hidden_duplicate_column")
        elif col.duplicate_of:
            problem(col.row, col.written, col.written,
                    f"列“{col.written}”与前面的“{col.duplicate_of}”含义相同，只读取前一列",
                    "请删除重复的列，或核对两列内容后只保留一列", ERROR, "duplicate_column")
        elif col.column is None and not (col.match and col.match.how == schemas.MATCH_MONTH):
            suggestion = col.match.suggestion if col.match else None
            text = f"表头“{col.written}”无法识别，该列未读入清洗表（原值保留在“其他列”中）"
            fix = "请按模板表头填写"  # the alias table is the analyst's: 表头对照 and the run summary name it
            if suggestion:
                text = f"表头“{col.written}”无法识别，是否为“{kind.column(suggestion).label}”？"
                fix = f"如是，请按模板改为“{kind.column(suggestion).label}”；否则请按模板表头填写"
            problem(col.row, col.written, col.written, text, fix, HINT, "unknown_header")
    missing = [m for m in header.missing_required if not (m == "batch" and context.batch)]
    if missing:
        labels = "、".join(kind.column(m).label for m in missing)
        if any(m in kind.identity for m in missing):
            text = f"缺少必填列：{labels}，本表数据行全部暂不采用"
        else:
            text = f"缺少必填列：{labels}，本表各行的{labels}无法统计，相关指标不含本表的这一项"
        problem(header.last_row + 1, labels, "", text, f"请在表中补充“{labels}”列并逐行填写", ERROR, "missing_column")


# A major project, a signed investment or one of the ten projects worth under 100
# 万元 (一百万) is not plausible: a sheet whose typical amount is that small was
# almost certainly filled in 亿元 while saying (or defaulting to) 万元. The unit is
# asked; nothing is rescaled silently.
# The typical (median) amount of a sheet, in 万元, outside which its money unit is not plausible:
# a major project, a signed investment or one of the ten projects under 100 万元 was almost
# certainly filled in 亿元; over 1,000,000 万元 (100亿元) for a typical one, in 元 or 千元. The unit
# is asked, the sheet's amounts are left out of the sums; nothing is rescaled silently.
PLAUSIBLE_MEDIAN_WAN = {"projects": ("total_investment", 100.0, 1_000_000.0),
                        "major_works": ("total_investment", 100.0, 10_000_000.0),
                        "attraction": ("contract_investment", 100.0, 1_000_000.0)}
PLAUSIBLE_MIN_ROWS = 3


def _check_plausible_unit(records: list[dict], header: Header, sheet_unit: str, problem) -> None:
    rule = PLAUSIBLE_MEDIAN_WAN.get(header.kind.name)
    if not rule:
        return
    column, floor, ceiling = rule
    col = next((c for c in header.known if c.column == column), None)
    values = sorted(r[column] for r in records if r.get(column))
    if col is None or len(values) < PLAUSIBLE_MIN_ROWS:
        return
    median = values[len(values) // 2]
    unit = col.unit or sheet_unit
    if median < floor and unit == "万元":
        guess, fix = "疑似按亿元填写", "如为亿元，请在表头写“（亿元）”或在表上方注明“单位：亿元”"
    elif median > ceiling:
        guess, fix = (f"按{unit}计已超过{ceiling / 10_000:,.0f}亿元，疑似按元或千元填写",
                      "如为元或千元，请在表上方注明“单位：元”（或千元）")
    else:
        return
    problem(header.last_row + 1, col.written, "", f"金额单位存疑：{col.written}的中位数为{median:,.2f}万元，{guess}",
            f"请确认金额单位；{fix}后重新报送", ERROR, "implausible_unit")
    for record in records:
        leave_out_money(record)
        add_issue(record, corrections.DOUBTFUL_UNIT_ISSUE)


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
