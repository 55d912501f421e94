"""Cleaning, the stage's entry: a round's returns to clean tables, the quarantine, the problems and the ledger.

clean_round reads and cleans every file, then settles the round: a revised file supersedes its original, a
project reported twice is kept once and the other copy quarantined with the reason, amounts in doubt across
the round are asked about. Every data row ends in exactly one place, and the ledger counts them per file and
sheet. The jobs live in their own modules, in the order a return travels through them:

- ``sheet``: one sheet's grid to records (header, row roles, the header's own problems, merged cells);
- ``rows`` and ``checks``: one data row's cells to a record, and the row checks;
- ``files``: the round's files, read and cleaned side by side or taken from the cache;
- ``revisions`` and ``dedup``: which copy of a return, and of a project, is used;
- ``rowtable``: the shape a file's rows leave its cleaning in, and the round's frame the round is settled on;
- ``tables`` and ``ledger``: the round's rows to typed tables, the quarantine and the ledger, and saving them
  (``artifacts``: their declared columns and their one loader each).

The names other stages and the notebooks use are importable from here.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.ingest import cache, corrections, dedup, plausibility, provenance, readers, rowtable, units
from pipeline.ingest.artifacts import cleaned_tables, load_clean_tables
from pipeline.ingest.files import UNKNOWN_UNIT, clean_files, identical_files, leftover_notice, result_of, unit_from_path
from pipeline.ingest.ledger import LEDGER_COLUMNS, unread_file
from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.revisions import revision_base, supersede_originals
from pipeline.ingest.tables import (
    HEADER_MAP_COLUMNS,
    PROVENANCE,
    QUARANTINE_LABELS,
    LedgerError,
    RoundResult,
    assemble,
    check_ledger,
    header_map_table,
    save_clean,
)
from pipeline.rounds import Round
from pipeline.schemas import AliasTable

__all__ = ["ERROR", "HINT", "HEADER_MAP_COLUMNS", "LEDGER_COLUMNS", "PROVENANCE", "QUARANTINE_LABELS", "UNKNOWN_UNIT",
           "LedgerError", "RoundResult", "check_ledger", "clean_round", "cleaned_tables", "header_map_table",
           "identical_files", "load_clean_tables", "revision_base", "save_clean"]


# --------------------------------------------------------------------------- the round


def clean_round(round_: Round, aliases: AliasTable, echo=print, cache_dir: Path | None = None,
                previous: dict[str, pd.DataFrame] | None = None, processes: int | None = None,
                error_log: Path | None = None) -> RoundResult:
    """Read and clean every return of a round. Files that cannot be read are reported, not fatal.

    cache_dir: where each file's cleaned result is kept between runs (RoundPaths.cache; see cache.py), so that
    only the files that changed are read and cleaned again; None reads and cleans every file.
    previous: the previous round's clean tables (cleaned_tables), which amounts are checked against (after the
    per-file phase, so never cached).
    processes: how many files are read and cleaned side by side (None: one per core; see clean_files).
    error_log: where the detail of an unforeseen error is written (RoundPaths.error_log); the console and the
    ledger get one Chinese line.
    """
    files = readers.list_round_files(round_.raw_dir)
    if error_log is not None:
        error_log.unlink(missing_ok=True)  # this run's errors only
    store = cache.FileCache(cache_dir, round_, aliases)
    fixes = corrections.load(round_.raw_dir)
    tables: list = []  # each file's rows (rowtable.ROW_SCHEMA)
    problems: list[Problem] = []
    ledger: list[dict] = []
    mapping: list[dict] = []
    for path in files.other:
        rel = path.relative_to(round_.raw_dir).as_posix()
        unit = unit_from_path(rel, round_) or UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "", "", "不是 Excel 或 CSV 文件，未读取",
                                "请另存为 .xlsx 后重新发送；与报表无关的文件请移出轮次文件夹", ERROR, "not_a_table"))
        ledger.append(unread_file(rel, unit, "未读取", "不是 Excel 或 CSV 文件"))
    problems += [leftover_notice(path.relative_to(round_.raw_dir).as_posix(), round_) for path in files.lock_files]
    returns, copies = identical_files(files.returns)
    for path, first in copies.items():
        rel, kept = (p.relative_to(round_.raw_dir).as_posix() for p in (path, first))
        unit = unit_from_path(kept, round_) or unit_from_path(rel, round_) or UNKNOWN_UNIT
        note = f"与“{kept}”内容完全相同，只读取一份"
        problems.append(Problem(unit, rel, "", None, "", "", f"“{rel}”{note}",
                                "无需处理；如其中一份本应是另一份报表，请向单位索取", HINT, "identical_file"))
        ledger.append(unread_file(rel, unit, "相同文件", note))
    for path, outcome in zip(returns, clean_files(returns, round_, aliases, fixes, store, processes)):
        rel = path.relative_to(round_.raw_dir).as_posix()
        try:
            file_rows, file_problems, file_ledger, file_mapping = result_of(outcome)
            file_table = rowtable.from_ipc(file_rows)
        except readers.ReadError as exc:
            unit = unit_from_path(rel, round_) or UNKNOWN_UNIT
            problems.append(Problem(unit, rel, "", None, "", "", exc.problem, exc.fix, ERROR, "unreadable"))
            ledger.append(unread_file(rel, unit, "无法读取", exc.problem))
            echo(f"  无法读取 {rel}：{exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one file the cleaner cannot handle must not stop the round
            unit = unit_from_path(rel, round_) or UNKNOWN_UNIT
            problems.append(provenance.unforeseen(unit, rel))
            ledger.append(unread_file(rel, unit, "处理失败", provenance.UNFORESEEN))
            echo(f"  处理失败 {rel}：{provenance.UNFORESEEN}{provenance.log_unforeseen(error_log, rel, exc)}")
            continue
        tables.append(file_table)
        problems.extend(file_problems)
        ledger.extend(file_ledger)
        mapping.extend(file_mapping)
    store.prune()
    problems += fixes.unsettled(lambda rel: unit_from_path(rel, round_) or UNKNOWN_UNIT)
    problems = units.first_of_each(problems)
    rows = rowtable.round_frame(tables)  # the round is settled on its columns
    problems = supersede_originals(rows, problems, ledger)
    problems = dedup.deduplicate(rows, problems)
    _apply_doubts(plausibility.check_round(rows, previous, round_.previous), fixes, problems, rows)
    result = assemble(rows, problems, ledger, round_)
    result.header_map = pd.DataFrame(mapping, columns=HEADER_MAP_COLUMNS).astype(
        {"excel_row": "Int64", "score": "Float64"})
    result.corrections = fixes.applied_frame()
    return result


def _apply_doubts(doubts: list[plausibility.Doubt], fixes: corrections.RoundCorrections, problems: list[Problem],
                  rows: pd.DataFrame):
    """Ask about amounts in doubt across the round; leave them out of the sums unless a 保留 line accepts them."""
    for doubt in doubts:
        kept = fixes.keep_for(doubt.problem, problems) if doubt.rows else None
        if kept:
            doubt.problem.severity = HINT
            doubt.problem.problem = f"{doubt.problem.problem}（已按更正记录保留原值，依据：{kept.basis or '未注明'}）"
        for i in [] if kept else doubt.rows:
            rowtable.leave_out_money(rows, i, doubt.issue)
        problems.append(doubt.problem)
