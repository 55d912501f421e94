"""Corrections an analyst accepts by phone, applied without touching the unit's raw file.

data/raw/<round>/corrections.csv holds one row per corrected cell:

    文件,工作表,行号,列,原值,修正值,依据,修正人,日期

文件 is relative to the round folder, 行号 the Excel row the unit sees, 列 the
header as written, 原值 the cell as 退回修改清单 shows it. 工作表 and 列 are
compared after the same normalisation as headers (schemas.normalize_header).

Cleaning calls `apply` on a file's grids right after reading it (the raw
cell is replaced before anything is parsed) and `FileCorrections.settle` on
the sheets' records and problems afterwards, for the two special values:

- 修正值 ``删除行``: the row is quarantined, its reason naming the basis;
- 修正值 ``保留``: the value stays as written and is accepted. Only a value
  that could be read but was judged wrong can be kept (a date after the
  cut-off, completed > total, a negative amount, a 合计 that differs from its
  rows, a doubtful money unit): each such 错误 on that cell becomes a 提示
  saying it was kept and why, and the row is no longer quarantined for it.
  A value that cannot be read at all (“约500”) needs a 修正值 instead.

A correction that cannot be applied (the 原值 no longer matches because the
unit resent the file; an unknown file, sheet, row or column; two corrections
of one cell) is not applied and is reported as a 提示 with the code
``correction_not_applied``, for the analyst; the per-unit lists leave it out.
Rows whose 修正值 is empty (a skeleton row not filled in) are ignored.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from pipeline import schemas
from pipeline.ingest import artifacts, readers
from pipeline.ingest.headers import Header, cell_text, find_header
from pipeline.ingest.problems import ERROR, HINT, KEEPABLE, NOT_A_CELL, Problem
from pipeline.ingest.records import drop_issue, put_back, quarantine

CORRECTIONS_FILE = "corrections.csv"
APPLIED_FILE = "corrections.parquet"  # in data/processed/<round>/: the corrections applied
COLUMNS = ("文件", "工作表", "行号", "列", "原值", "修正值", "依据", "修正人", "日期")
REQUIRED_COLUMNS = ("文件", "工作表", "行号", "列", "原值", "修正值")
DELETE_ROW, KEEP = "删除行", "保留"
NOT_APPLIED = "correction_not_applied"
# The issue cleaning writes on every row of a sheet whose amounts look like 亿元 written as 万元.
DOUBTFUL_UNIT_ISSUE = "金额单位存疑，本表金额未计入合计，待单位确认"
APPLIED_COLUMNS = ["unit", "file", "sheet", "row", "column", "old", "new", "basis", "by", "date"]
APPLIED_LABELS = {"unit": "单位", "file": "文件", "sheet": "工作表", "row": "行号", "column": "列", "old": "原值",
                  "new": "修正值", "basis": "依据", "by": "修正人", "date": "日期"}


class CorrectionsError(ValueError):
    """corrections.csv itself cannot be read; the message (Chinese) says what to fix."""


@dataclass(frozen=True)
class Correction:
    line: int  # line of corrections.csv (the header is line 1)
    file: str
    sheet: str
    row: str
    column: str
    old: str
    new: str
    basis: str = ""
    by: str = ""
    date: str = ""


def norm(text: object) -> str:
    """Header normalisation (line breaks, full width, spaces) for sheet names, headers and cell texts."""
    return schemas.normalize_header("" if text is None else str(text))[0]


def norm_file(text: str) -> str:
    return unicodedata.normalize("NFKC", text.strip().replace("\\", "/")).strip("/")


def _cell_key(text: object) -> str:
    return unicodedata.normalize("NFKC", cell_text(text)).replace(" ", "").replace("\u3000", "")


# --------------------------------------------------------------------------- reading corrections.csv


def read_csv(path: Path) -> list[Correction]:
    """The rows of a corrections.csv (UTF-8, UTF-8 with BOM or GB18030) whose 修正值 is filled in."""
    data = Path(path).read_bytes()
    for encoding in readers.CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CorrectionsError(f"{path.name} 的文字编码无法识别：请另存为 UTF-8 编码的 CSV。")
    # Saved on Windows: CRLF line ends, also inside a quoted cell (a line break in 修正值); a cell holds "\n".
    reader = csv.DictReader(io.StringIO(text.replace("\r\n", "\n"), newline=""))
    names = {unicodedata.normalize("NFKC", n or "").strip(): n for n in reader.fieldnames or []}
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CorrectionsError(f"{path.name} 缺少列：{'、'.join(missing)}。第一行应为：{','.join(COLUMNS)}。")
    items = []
    for line, row in enumerate(reader, start=2):
        value = {c: str(row.get(names.get(c, c)) or "").strip() for c in COLUMNS}
        if not value["修正值"]:
            continue  # a skeleton row the analyst has not filled in
        items.append(Correction(line, value["文件"], value["工作表"], value["行号"], value["列"], value["原值"],
                                value["修正值"], value["依据"], value["修正人"], value["日期"]))
    return items


def load(raw_dir: Path) -> "RoundCorrections":
    """The round's corrections (none when data/raw/<round>/corrections.csv does not exist)."""
    path = Path(raw_dir) / CORRECTIONS_FILE
    return RoundCorrections(read_csv(path) if path.is_file() else [], Path(raw_dir))


# --------------------------------------------------------------------------- a round's and a file's corrections


@dataclass
class RoundCorrections:
    items: list[Correction]
    raw_dir: Path | None = None
    applied: list[dict] = field(default_factory=list)
    settled: set[str] = field(default_factory=set)

    def for_file(self, rel: str) -> "FileCorrections":
        """The corrections of one return file (rel: its path relative to the round folder)."""
        self.settled.add(norm_file(rel))
        mine = [c for c in self.items if norm_file(c.file) == norm_file(rel)]
        cells: dict[tuple, list[Correction]] = {}
        for c in mine:
            cells.setdefault((norm(c.sheet), c.row.strip(), norm(c.column)), []).append(c)
        single = [group[0] for group in cells.values() if len(group) == 1]
        fixes = FileCorrections(rel, single, self)
        for group in cells.values():
            if len(group) > 1:
                lines = "、".join(str(c.line) for c in group)
                for c in group:
                    fixes.reject(c, f"同一单元格有{len(group)}条更正（第{lines}行），均未应用", "请只保留其中一条")
        return fixes

    def unsettled(self, unit_of: Callable[[str], str]) -> list[Problem]:
        """Corrections of files that were never read: not in the round folder, or unreadable."""
        notices = []
        for c in self.items:
            rel = norm_file(c.file)
            if rel in self.settled:
                continue
            exists = self.raw_dir is not None and (self.raw_dir / rel).is_file() if rel else False
            why = "该文件未能读取，更正未应用" if exists else f"本轮文件夹中没有文件“{c.file}”"
            notices.append(_notice(unit_of(rel), c, why,
                                   "请核对“文件”一列：应为相对于轮次文件夹的路径，可从退回修改清单复制"))
        return notices

    def keep_for(self, problem: Problem, problems: list[Problem]) -> Correction | None:
        """The 保留 line answering a doubt found across files, after every file was settled (plausibility).

        It is applied: recorded, and the notice each file's settling gave it (nothing to keep there) withdrawn.
        """
        for c in self.items:
            if (c.new == KEEP and norm_file(c.file) == norm_file(problem.file) and norm(c.sheet) == norm(problem.sheet)
                    and c.row.strip() == str(problem.row) and norm(c.column) == norm(problem.column)):
                problems[:] = [p for p in problems
                               if not (p.code == NOT_APPLIED and p.file == c.file and f"第{c.line}行" in p.problem)]
                self.applied.append(dict(unit=problem.unit, file=problem.file, sheet=problem.sheet, row=problem.row,
                                         column=problem.column, old=c.old, new=c.new, basis=c.basis, by=c.by,
                                         date=c.date))
                return c
        return None

    def applied_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.applied, columns=APPLIED_COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        return frame


NO_CORRECTIONS = RoundCorrections([])


@dataclass
class FileCorrections:
    rel: str
    items: list[Correction]
    round: RoundCorrections
    changed: list[tuple[Correction, str, int, str]] = field(default_factory=list)  # (correction, sheet, row, column)
    deletions: dict[tuple[str, int], tuple[Correction, str]] = field(default_factory=dict)
    keeps: dict[tuple[str, int, str], tuple[Correction, str]] = field(default_factory=dict)
    rejected: list[tuple[Correction, str, str]] = field(default_factory=list)

    def reject(self, c: Correction, why: str, fix: str = "") -> None:
        self.rejected.append((c, why, fix))

    def settle(self, records: list[dict], problems: list, ledgers: list[dict], unit: str) -> tuple[list[dict], list]:
        """After the sheets are cleaned: quarantine 删除行 rows, accept 保留 values, count corrections per sheet."""
        done = [(c, sheet, row, col) for c, sheet, row, col in self.changed]
        done += self._delete_rows(records, problems)
        done += self._keep_values(records, problems)
        for c, sheet, row, col in done:
            self.round.applied.append(dict(unit=unit, file=self.rel, sheet=sheet, row=row, column=col, old=c.old,
                                           new=c.new, basis=c.basis, by=c.by, date=c.date))
        for ledger in ledgers:
            ledger["corrected"] = sum(1 for _, sheet, _, _ in done if sheet == ledger["sheet"])
        notices = [_notice(unit, c, why, fix) for c, why, fix in self.rejected]
        return records, problems + notices

    def _delete_rows(self, records: list[dict], problems: list) -> list[tuple]:
        """Quarantine each 删除行 row; its 错误 become 提示 (nothing is left for the unit to fix in a deleted row)."""
        done = []
        by_row = {(r["sheet"], r["row"]): r for r in records}
        for (sheet, row), (c, col) in self.deletions.items():
            record = by_row.get((sheet, row))
            if record is None:
                self.reject(c, f"第{row}行不是数据行（空行、合计或落款），无法删除")
                continue
            quarantine(record, f"按更正记录删除此行（依据：{c.basis or '未注明'}）")
            for p in problems:
                if p.sheet == sheet and p.row == row and p.severity == ERROR:
                    p.severity, p.problem = HINT, f"{p.problem}（该行已按更正记录删除）"
            done.append((c, sheet, row, col))
        return done

    def _keep_values(self, records: list[dict], problems: list) -> list[tuple]:
        done = []
        by_row = {(r["sheet"], r["row"]): r for r in records}
        for (sheet, row, col_key), (c, col) in self.keeps.items():
            hits = [p for p in problems if p.sheet == sheet and p.row == row and norm(p.column) == col_key
                    and p.severity == ERROR]
            keepable = [p for p in hits if p.code in KEEPABLE]
            if not keepable:
                why = ("该值无法读取或未填写，不能保留，请填写修正值" if hits else "该单元格没有需要保留的问题")
                self.reject(c, why)
                continue
            for p in keepable:
                whole_sheet = p.code == "implausible_unit"
                issue = DOUBTFUL_UNIT_ISSUE if whole_sheet else f"{p.column}：{p.problem}"
                targets = [r for r in records if r["sheet"] == sheet] if whole_sheet else [by_row.get((sheet, row))]
                for record in filter(None, targets):
                    restore(record, None if whole_sheet else p.column, issue)
                p.severity = HINT
                p.problem = f"{p.problem}（已按更正记录保留原值，依据：{c.basis or '未注明'}）"
            done.append((c, sheet, row, col))
        return done


def restore(record: dict, column: str | None, issue: str) -> None:
    """Accept values cleaning set aside (保留): put back the one under `column` as written (every one when None),
    and drop the row's issue about it."""
    put_back(record, lambda written: column is None or norm(written) == norm(column))
    drop_issue(record, issue)


def _notice(unit: str, c: Correction, why: str, fix: str = "") -> Problem:
    row = int(c.row) if c.row.isdigit() else None
    return Problem(unit, c.file, c.sheet, row, c.column, c.old, f"更正未应用（corrections.csv 第{c.line}行）：{why}",
                   fix or "请核对 corrections.csv 中该行；单位已重新报送的，请按新文件重新核实后改写或删除该行",
                   HINT, NOT_APPLIED)


# --------------------------------------------------------------------------- applying to the grids


def apply(sheets: list[readers.Sheet], fixes: FileCorrections, aliases: schemas.AliasTable
          ) -> tuple[list[readers.Sheet], FileCorrections]:
    """Replace each corrected raw cell in the file's grids (new Sheet objects; the raw file is never written)."""
    if not fixes.items:
        return sheets, fixes
    sheets = list(sheets)
    headers: dict[int, Header | None] = {}
    for c in fixes.items:
        target = _locate(sheets, headers, c, aliases)
        if isinstance(target, str):
            fixes.reject(c, target)
            continue
        i, r, j, written = target
        sheet = sheets[i]
        if j is not None:
            current = sheet.rows[r][j] if j < len(sheet.rows[r]) else ""
            if _cell_key(current) != _cell_key(c.old):
                fixes.reject(c, f"原值不符：表中现为“{cell_text(current)}”，"
                                f"更正记录的原值为“{c.old}”（单位可能已重新报送）")
                continue
        if c.new == DELETE_ROW:
            fixes.deletions[(sheet.name, r + 1)] = (c, written)
        elif c.new == KEEP:
            fixes.keeps[(sheet.name, r + 1, norm(written))] = (c, written)
        else:
            sheets[i] = _with_cell(sheet, r, j, c.new)
            fixes.changed.append((c, sheet.name, r + 1, written))
    return sheets, fixes


def _locate(sheets, headers, c: Correction, aliases) -> tuple[int, int, int | None, str] | str:
    """(sheet index, 0-based row, column index or None, header as written), or why the cell cannot be found."""
    candidates = [i for i, s in enumerate(sheets) if norm(s.name) == norm(c.sheet)]
    if not candidates and not c.sheet and len(sheets) == 1:
        candidates = [0]
    if not candidates:
        return f"文件中没有工作表“{c.sheet}”（有：{'、'.join(s.name for s in sheets)}）"
    i = candidates[0]
    sheet = sheets[i]
    if i not in headers:
        headers[i] = find_header(sheet.rows, aliases)
    header = headers[i]
    if not c.row.isdigit():
        return f"行号“{c.row}”不是正整数"
    row = int(c.row)
    if row > len(sheet.rows) or row < 1:
        return f"工作表“{sheet.name}”没有第{row}行（共{len(sheet.rows)}行）"
    if header is None:
        return f"工作表“{sheet.name}”中找不到可识别的表头"
    # 保留 of a sheet-wide doubt (金额单位存疑), told on the header
    on_header = row == header.last_row + 1 and c.new == KEEP
    if row <= header.last_row + 1 and not on_header:
        return f"第{row}行在表头或表头之上，不是数据行"
    if not c.column and c.new == DELETE_ROW:
        return i, row - 1, None, ""
    col = _column(header, c.column, aliases)
    if col is None:
        return f"工作表“{sheet.name}”中没有列“{c.column}”"
    return i, row - 1, None if on_header else col.index, col.written


def _column(header: Header, written: str, aliases: schemas.AliasTable):
    """The header column written so (after normalisation), else the one of the same standard column."""
    key = norm(written)
    exact = [c for c in header.columns
             if norm(c.written) == key or (norm(c.written.split("/")[-1]) == key and "/" in c.written)]
    if exact:
        return exact[0]
    canonical = aliases.lookup(written).get(header.kind.name)
    return next((c for c in header.known if c.column == canonical), None) if canonical else None


def _with_cell(sheet: readers.Sheet, r: int, j: int, value: str) -> readers.Sheet:
    rows = list(sheet.rows)
    row = list(rows[r]) + [""] * max(0, j + 1 - len(rows[r]))
    row[j] = value
    rows[r] = row
    return dataclasses.replace(sheet, rows=rows, formulas_without_value=sheet.formulas_without_value - {(r, j)})


# --------------------------------------------------------------------------- saving, loading, the skeleton


def save_applied(frame: pd.DataFrame | None, processed_dir: Path) -> Path:
    """data/processed/<round>/corrections.parquet: the corrections applied (an empty table when there were none)."""
    path = Path(processed_dir) / APPLIED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    (NO_CORRECTIONS.applied_frame() if frame is None else frame).to_parquet(path, index=False)
    return path


def load_applied(processed_dir: Path) -> pd.DataFrame:
    """The corrections applied in a round (empty when the round had none, or was cleaned before corrections existed)."""
    path = Path(processed_dir) / APPLIED_FILE
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=APPLIED_COLUMNS)


def skeleton(problems: pd.DataFrame) -> pd.DataFrame:
    """One corrections.csv row per 错误 on a cell, 原值 filled in; 修正值 and 依据 left for the analyst.

    A duplicate row gets no 列 and 原值: 删除行 is the correction for it. The last
    column, 问题, is for reading and ignored when the file is read back.
    """
    errors = problems[(problems["severity"] == ERROR) & problems["row"].notna() & ~problems["code"].isin(NOT_A_CELL)]
    rows = []
    for _, p in errors.iterrows():
        duplicate = p["code"] == "duplicate"
        rows.append({"文件": p["file"], "工作表": p["sheet"], "行号": int(p["row"]),
                     "列": "" if duplicate else p["column"], "原值": "" if duplicate else p["value"],
                     "修正值": "", "依据": "", "修正人": "", "日期": "", "问题": p["problem"]})
    return pd.DataFrame(rows, columns=[*COLUMNS, "问题"])


def write_skeleton(round_id: str, root: Path | None = None) -> tuple[Path, int]:
    """outputs/<round>/corrections.csv from the round's problems (data/processed/<round>/problems.parquet)."""
    from pipeline import paths

    processed = paths.processed_round_dir(round_id, root)
    if not (processed / paths.PROBLEMS).is_file():
        raise CorrectionsError(f"找不到 {processed / paths.PROBLEMS}：请先运行 make report ROUND={round_id}"
                               "（至少第1步清洗报表）。")
    try:
        frame = skeleton(artifacts.load_problems(processed))
    except artifacts.ArtifactError as exc:
        raise CorrectionsError(str(exc)) from None
    path = paths.outputs_round_dir(round_id, root) / CORRECTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8-sig")  # with a BOM, so that Excel shows the Chinese
    return path, len(frame)
