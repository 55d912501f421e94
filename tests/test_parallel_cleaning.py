"""Files read and cleaned side by side (pipeline/ingest/workers.py, files.clean_files) change nothing but the time.

Each return file is read and cleaned in a forked worker, one per core; the results are taken in the order of
the files. The same rounds cleaned with one process and with several give the same tables, quarantine, problems
(in the same order), ledger and header map; a worker that raises, or dies, costs its own file only.
"""
from __future__ import annotations

import os
import signal
import time

import layouts
import pytest
from office import write_round, write_xlsx
from test_columnwise import _write_corpus, assert_same_result

from pipeline import paths, platforms, rounds, schemas, workers
from pipeline.ingest import cleaning, feedback, files
from pipeline.report import summaries

# These tests change the cleaning code in this process (monkeypatch) or hand a local function to a worker: only a
# forked child sees that. The same failures in spawned children: tests/test_workers_spawn.py.
fork_only = pytest.mark.skipif(platforms.start_method() != "fork",
                               reason="a forked child only sees this process's monkeypatches and local functions")


def clean(round_: rounds.Round, processes: int) -> cleaning.RoundResult:
    return cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, processes=processes)


@pytest.mark.parametrize("round_id", ["2021-12", "2021-09"])
def test_the_bundled_rounds_clean_the_same_side_by_side(round_id):
    round_ = rounds.load_round(round_id)
    alone, side_by_side = clean(round_, 1), clean(round_, 2)
    assert sum(len(t) for t in alone.tables.values()) > 100 and len(alone.problems) > 0
    assert_same_result(alone, side_by_side)
    assert_same_result(alone, clean(round_, 5))  # more workers than cores: the same again


def test_the_hand_built_corpus_cleans_the_same_side_by_side(tmp_path):
    raw = paths.RoundPaths(tmp_path, "r").raw
    _write_corpus(raw)
    write_round(raw, layouts.ROUND_UNITS, as_of="2022-11-30")
    round_ = rounds.load_round("r", tmp_path)
    alone, side_by_side = clean(round_, 1), clean(round_, 3)
    assert alone.ledger["data_rows"].sum() > 100 and (alone.problems["code"] == "unreadable").any()
    assert_same_result(alone, side_by_side)


def _three_returns(tmp_path) -> rounds.Round:
    raw = paths.RoundPaths(tmp_path, "r").raw
    header = ["序号", "项目名称", "批次", "总投资", "年度计划投资", "累计完成投资", "是否开工"]
    for unit in ("银川市", "石嘴山市", "吴忠市"):
        write_xlsx(raw / f"{unit}.xlsx", {"项目": [header, [1, f"{unit}项目", "第一批", 100, 50, 20, "是"]]})
    write_round(raw, ["银川市", "石嘴山市", "吴忠市"], as_of="2021-11-30")
    return rounds.load_round("r", tmp_path)


def _fail_on(monkeypatch, file: str, fail) -> None:
    """Cleaning the sheets of one file calls fail() (which raises, or ends the process); the others clean as usual."""
    real = files.clean_sheet

    def failing(sheet, *args):
        if sheet.file == file:
            fail()
        return real(sheet, *args)

    monkeypatch.setattr(files, "clean_sheet", failing)


def _raise(exc: BaseException):
    def fail():
        raise exc
    return fail


FAILURES = {"raises": _raise(KeyError("boom")), "segfault": lambda: os.kill(os.getpid(), signal.SIGSEGV),
            "exits": lambda: os._exit(3)}


@fork_only
@pytest.mark.parametrize("how", sorted(FAILURES))
def test_a_worker_that_fails_costs_its_own_file_only(tmp_path, monkeypatch, how):
    round_ = _three_returns(tmp_path)
    _fail_on(monkeypatch, "石嘴山市.xlsx", FAILURES[how])
    said = []
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=said.append, processes=2)
    failed = result.problems[result.problems["code"] == "cleaner_failed"]
    assert list(failed["file"]) == ["石嘴山市.xlsx"] and "整个文件暂未采用" in failed["problem"].iloc[0]
    assert sorted(result.tables["projects"]["unit"]) == ["吴忠市", "银川市"]
    assert result.ledger.set_index("file").loc["石嘴山市.xlsx", "status"] == "处理失败"
    assert any("处理失败 石嘴山市.xlsx" in line for line in said)
    cleaning.check_ledger(result)


@fork_only
def test_a_failure_in_a_worker_reads_as_the_same_failure_in_this_process(tmp_path, monkeypatch):
    round_ = _three_returns(tmp_path)
    _fail_on(monkeypatch, "吴忠市.xlsx", _raise(ValueError("boom")))
    assert_same_result(clean(round_, 1), clean(round_, 2))


def _slow_square(k: int) -> int:
    time.sleep(0.05 * (5 - k))  # the first jobs finish last
    return k * k


def test_outcomes_come_back_in_the_order_of_the_jobs():
    outcomes = workers.run_forked(_slow_square, [(k,) for k in range(6)], processes=3)
    assert [o.value for o in outcomes] == [0, 1, 4, 9, 16, 25] and all(o.ok for o in outcomes)


def _big(n: int) -> list[dict]:
    return [{"row": i, "name": f"项目{i}" * 10} for i in range(n)]


def test_a_result_larger_than_a_pipe_comes_back_whole():
    outcome, = workers.run_forked(_big, [(200_000,)], processes=2)
    assert outcome.ok and len(outcome.value) == 200_000 and outcome.value[-1]["name"] == "项目199999" * 10


@fork_only
def test_an_exception_comes_back_as_itself_even_when_it_cannot_be_pickled():
    class Local(Exception):  # a local class cannot be pickled
        pass

    def raises(kind):
        raise (ValueError("坏值") if kind == "plain" else Local("本地"))

    plain, local = workers.run_forked(raises, [("plain",), ("local",)], processes=2)
    assert isinstance(plain.error, ValueError) and str(plain.error) == "坏值"
    assert isinstance(local.error, RuntimeError) and "Local: 本地" in str(local.error)


def test_a_file_the_program_failed_on_is_the_analysts_not_the_units(tmp_path, monkeypatch):
    round_ = _three_returns(tmp_path)
    _fail_on(monkeypatch, "石嘴山市.xlsx", _raise(KeyError("boom")))
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, processes=1)
    assert "石嘴山市" not in feedback.units_with_list(result)
    assert feedback.unit_problems(result, "石嘴山市").empty
    by_unit = summaries.returns_by_unit(result.ledger, result.problems, round_.units).set_index("unit")
    assert by_unit.loc["石嘴山市", "errors"] == 0
    text = feedback.run_summary(result)
    assert "问题 0 条需单位修改" in text
    assert "石嘴山市.xlsx" in text and "程序错误详情" in text  # named once, with the files not used
    notices = summaries.analyst_notices(result.problems)
    assert any("石嘴山市.xlsx" in n for n in notices["notice"])
