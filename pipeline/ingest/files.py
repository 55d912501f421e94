"""The round's files: which are read, each one read and cleaned (side by side, or from the cache), and what a
file that is not a return, a lock file or a byte-identical copy becomes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

from pipeline import workers
from pipeline.ingest import cache, corrections, layout, provenance, readers, rowtable, units
from pipeline.ingest.problems import ERROR, HINT, Problem
from pipeline.ingest.sheet import clean_sheet
from pipeline.rounds import Round
from pipeline.schemas import AliasTable

UNKNOWN_UNIT = "未识别单位"


def leftover_notice(rel: str, round_: Round) -> Problem:
    """A lock file (~$x.xlsx, .~lock.x#) or a desktop leftover (Thumbs.db): skipped, a notice for the analyst."""
    name = rel.rsplit("/", 1)[-1]
    lock = readers.is_lock_file(name)
    what = "Excel/WPS 打开文件时留下的临时锁定文件" if lock else "Windows/macOS 在文件夹中自动生成的系统文件"
    return Problem(unit_from_path(rel, round_) or UNKNOWN_UNIT, rel, "", None, "", "", f"这是{what}，已跳过",
                   "无需处理" + ("；请确认对应的报表已保存、关闭" if lock else ""), HINT,
                   "lock_file" if lock else "desk_leftover")


def identical_files(paths: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """The files to read, and each byte-identical copy with the file read in its place (the shortest name:
    “甲.xlsx” before “甲(1).xlsx”, “甲 - 副本.xlsx”)."""
    by_content: dict[str, list[Path]] = {}
    for path in paths:
        digest = str(path)  # a link is never compared (read_return decides on it), nor a file that cannot be read
        if not path.is_symlink():
            try:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:
                pass
        by_content.setdefault(digest, []).append(path)
    copies: dict[Path, Path] = {}
    for same in by_content.values():
        first = min(same, key=lambda p: (len(p.name), str(p)))
        copies.update({p: first for p in same if p != first})
    return [p for p in paths if p not in copies], copies


def clean_files(paths: list[Path], round_: Round, aliases: AliasTable, fixes: corrections.RoundCorrections,
                 store: cache.FileCache, processes: int | None = None) -> list[workers.Outcome]:
    """Every return file's rows (an Arrow IPC buffer of rowtable.ROW_SCHEMA), problems, ledger rows and 表头对照
    rows (all or nothing per file), in the order of paths: for each, the outcome of reading and cleaning it
    (result_of gives them, or raises what cleaning that file raised).

    From the store for a file it holds as the file is now (a file with corrections is always cleaned afresh);
    the others are read and cleaned side by side, each in a forked worker (workers.run_forked), `processes` at
    a time, which changes nothing but the time: each file's cleaning depends on that file alone, and the results
    are taken in the order of paths.
    """
    outcomes: list[workers.Outcome | None] = []
    todo: list[_Job] = []
    for path in paths:
        rel = path.relative_to(round_.raw_dir).as_posix()
        own_fixes = fixes.for_file(rel)
        key = store.key(path, rel) if not own_fixes.items else None
        cached = store.get(key)
        outcomes.append(None if cached is None else workers.Outcome(value=cached))
        if cached is None:
            todo.append(_Job(len(outcomes) - 1, key, (path, rel, own_fixes, round_, aliases)))
    processes = workers.cores() if processes is None else processes
    # A file with corrections records what was applied in the round's corrections (FileCorrections.settle):
    # it is cleaned in this process, where that record is kept.
    forked = [job for job in todo if not job.args[2].items] if processes > 1 and len(todo) > 1 else []
    if forked:
        rowtable.warm()  # once here, not in every forked worker
    done = {} if not forked else dict(zip(
        (job.index for job in forked),
        workers.run_forked(read_and_clean_file, [job.args for job in forked], processes=processes)))
    for job in todo:
        outcome = done[job.index] if job.index in done else _in_this_process(job.args)
        if outcome.ok:
            store.put(job.key, outcome.value)
        outcomes[job.index] = outcome
    return outcomes


class _Job(NamedTuple):
    index: int  # in the round's list of files
    key: str | None  # in the cache
    args: tuple  # of read_and_clean_file


def _in_this_process(job: tuple) -> workers.Outcome:
    try:
        return workers.Outcome(value=read_and_clean_file(*job))
    except Exception as exc:  # noqa: BLE001 - raised again where the file's turn comes (result_of)
        return workers.Outcome(error=exc)


def result_of(outcome: workers.Outcome) -> tuple:
    if outcome.error is not None:
        raise outcome.error
    if not outcome.ok:  # the worker died: out of memory (killed), or crashed
        raise (MemoryError if outcome.memory else SystemError)("the worker cleaning this file died")
    return outcome.value


@provenance.carries_detail
def read_and_clean_file(path: Path, rel: str, own_fixes: corrections.FileCorrections, round_: Round,
                         aliases: AliasTable):
    sheets = readers.read_return(path, rel)
    sheets, file_fixes = corrections.apply(sheets, own_fixes, aliases)
    found = units.of_file(rel, sheets, round_.units)
    problems: list[Problem] = units.unit_notices(rel, found, units.named_texts(rel, sheets), round_.units)
    unit = found.unit if found else None
    if unit is None:
        unit = UNKNOWN_UNIT
        problems.append(Problem(unit, rel, "", None, "填报单位", "", "无法确定填报单位",
                                "请在表尾填写“填报单位：XX”，或把文件放入以单位命名的文件夹", ERROR, "unknown_unit"))
    sheets = layout.arrange(sheets, aliases, round_.as_of)  # several tables in one sheet; monthly columns
    results = [clean_sheet(sheet, unit, round_, aliases) for sheet in sheets]
    for sheet, result in zip(sheets, results):  # which reader read it, and what its formatting pass missed
        problems += provenance.note_reading(sheet, result.ledger, result.mapping, unit, bool(result.kind))
    recognised = any(r.kind for r in results)
    records = [record for result in results for record in result.records]
    # A sheet that is not a return matters only beside sheets that are; otherwise the file is the problem.
    problems += [p for result in results for p in result.problems if recognised or p.code != "not_a_return"]
    if not recognised:
        problems.append(Problem(unit, rel, "", None, "", "", "文件中没有可识别的报表（工作表为空或不是报表）",
                                "请使用下发的报表模板填写后重新发送", ERROR, "no_return_in_file"))
    records, problems = file_fixes.settle(records, problems, [result.ledger for result in results], unit)
    # The rows leave the file's cleaning as the declared table (rowtable.ROW_SCHEMA), an Arrow IPC buffer.
    return (rowtable.to_ipc(records), problems, [result.ledger for result in results],
            [m for result in results for m in result.mapping])


def unit_from_path(rel: str, round_: Round) -> str | None:
    """The unit from the folder a file sits in, else from the file name (units.from_path)."""
    hit = units.from_path(rel, round_.units)
    return hit.unit if hit else None
