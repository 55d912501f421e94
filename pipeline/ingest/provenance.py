"""How a file was read, as the ledger, 表头对照 and the unit see it, and what becomes of an unforeseen error.

- A file the fast reader could not read names the reader of the chain that did (ledger note, a 表头对照 row);
  files the fast reader read, the rule, are not marked, so a round of ordinary files reads as before.
- A sheet whose formatting pass failed (Sheet.unchecked) gets a 提示: its values were read, these facts were not
  checked.
- An unforeseen error while cleaning a file is one Chinese line for the analyst (console, ledger, so 附录一); its
  detail goes to the round's error log (RoundPaths.error_log), never to a unit.
"""
from __future__ import annotations

import datetime as dt
import functools
import traceback
from pathlib import Path

from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.sheets import FAST_READER, READER_LABELS, ReadError, Sheet

UNFORESEEN = "处理该文件时遇到程序未预料的情况，整个文件暂未采用"
UNFORESEEN_CODE = "cleaner_failed"
UNCHECKED_CODE = "format_unchecked"


def note_reading(sheet: Sheet, ledger: dict, mapping: list[dict], unit: str, is_return: bool) -> list[Problem]:
    """Mark the sheet's ledger row and 表头对照 rows with the reader that read it (when not the fast one);
    the 提示 for what its formatting pass could not check (for a sheet that is a return)."""
    if sheet.reader != FAST_READER:
        label = READER_LABELS.get(sheet.reader, sheet.reader)
        said = f"由{label}（快速读取程序无法读取该文件）"
        ledger["note"] = "；".join(part for part in (ledger.get("note") or "", said) if part)
        if is_return:
            mapping.append(dict(file=sheet.file, sheet=sheet.name, return_kind=ledger.get("return_kind", ""),
                                excel_row=None, written="（读取方式）", column="", label="", how="读取方式",
                                note=said))
    if not (sheet.unchecked and is_return):
        return []
    return [Problem(unit, sheet.file, sheet.name, None, "", "",
                    f"未能检查该表的单元格格式（{sheet.unchecked}），数值已照常读取",
                    "请核对表中有无隐藏的行列、以百分比显示的数字和错误值，有则改正；"
                    "用 Excel 另存为 .xlsx 后重新发送可避免此提示", HINT, UNCHECKED_CODE)]


def unforeseen(unit: str, rel: str) -> Problem:
    """The problem an unforeseen error leaves: the file is not used; nothing for the unit to do."""
    return Problem(unit, rel, "", None, "", "", UNFORESEEN, "无需单位处理；其余文件已正常处理",
                   ERROR, UNFORESEEN_CODE)


class Unforeseen(Exception):
    """An unforeseen error while reading or cleaning one file; its detail (with the traceback) as text, so it
    survives the trip from a worker process."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def carries_detail(function):
    """function, its unforeseen errors raised as Unforeseen (their detail as text); a ReadError, the file's own
    problem, and a MemoryError, which the caller reports as such, pass as they are."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ReadError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - its detail, traceback included, survives the trip from a worker
            raise Unforeseen(detail(exc)) from exc

    return wrapped


def detail(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).strip()


def log_unforeseen(error_log: Path | None, rel: str, exc: BaseException) -> str:
    """Append the error's detail to the round's error log; the words that point the console's line to it."""
    if error_log is None:
        return ""
    text = exc.detail if isinstance(exc, Unforeseen) else detail(exc)
    try:
        error_log.parent.mkdir(parents=True, exist_ok=True)
        with open(error_log, "a", encoding="utf-8") as fh:
            fh.write(f"[{dt.datetime.now():%Y-%m-%d %H:%M:%S}] {rel}\n{text}\n\n")
    except OSError:
        return ""
    return f"（详情已记入 {error_log.name}）"
