"""Workbooks written in the background (workers.in_background, excel.write_workbook(background=True)).

A writer outlives the process that started it (a kernel that exits does not stop it), writes the whole file
or nothing under its name, and the runner waits for every writer of a run before publishing it: a writer
that fails or dies fails the run, in Chinese, and publishes nothing.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_runner import ROUND, make_project, write_notebook

from pipeline import excel, workers
from pipeline.run import runner


def _slow_text(text: str, seconds: float = 0.3):
    def write(target):
        time.sleep(seconds)
        Path(target).write_text(text, encoding="utf-8")
    return write


def test_a_background_file_appears_whole_after_the_wait(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("上次的", encoding="utf-8")
    workers.in_background(path, _slow_text("本次的"))
    assert path.read_text(encoding="utf-8") == "上次的", "the old file until the new one is whole"
    assert (tmp_path / ".a.txt.writing").is_file()
    assert workers.wait_for_background(tmp_path) == []
    assert path.read_text(encoding="utf-8") == "本次的"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"], "no marker or temporary file is left"


def test_a_writer_that_raises_is_named_once_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "清洗数据.xlsx"
    path.write_text("上次的", encoding="utf-8")

    def fails(target):
        Path(target).write_text("半个文件", encoding="utf-8")
        raise OSError(28, "No space left on device")

    workers.in_background(path, fails)
    failures = workers.wait_for_background(tmp_path)
    assert failures == [("清洗数据.xlsx", "OSError: [Errno 28] No space left on device")]
    assert path.read_text(encoding="utf-8") == "上次的"
    assert workers.wait_for_background(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["清洗数据.xlsx"]


def test_a_writer_that_dies_is_a_failure_not_a_wait_for_ever(tmp_path):
    def dies(_):
        os.kill(os.getpid(), signal.SIGKILL)

    workers.in_background(tmp_path / "b.xlsx", dies)
    (name, why), = workers.wait_for_background(tmp_path)
    assert name == "b.xlsx" and "意外退出" in why
    assert not (tmp_path / "b.xlsx").exists()


def test_stopping_the_writers_of_a_failed_run(tmp_path):
    workers.in_background(tmp_path / "c.txt", _slow_text("不该写出", seconds=30))
    pid = int((tmp_path / ".c.txt.writing").read_text())
    workers.stop_background(tmp_path)
    time.sleep(0.3)
    assert not workers._alive(pid) and not (tmp_path / "c.txt").exists()
    assert workers.wait_for_background(tmp_path) == []


def test_a_workbook_written_in_the_background_is_the_same_file(tmp_path):
    frame = pd.DataFrame({"单位": ["银川市", "吴忠市"], "项目名称": ["=HYPERLINK(\"x\")", "乙"], "总投资": [1.5, None]})
    here = excel.write_workbook(tmp_path / "here.xlsx", {"项目": frame}, notes={"项目": "说明"})
    there = excel.write_workbook(tmp_path / "there.xlsx", {"项目": frame}, notes={"项目": "说明"}, background=True)
    assert workers.wait_for_background(tmp_path) == []
    assert here.read_bytes() == there.read_bytes()
    sheet = openpyxl.load_workbook(there)["项目"]
    assert sheet["B3"].value == "=HYPERLINK(\"x\")" and sheet["B3"].data_type == "s", "text stays text"


WRITES_LATER = (
    "from pathlib import Path\n"
    "from pipeline import workers\n"
    "import time\n"
    "def write(target):\n"
    "    time.sleep(1.5)\n"
    "    if {fail!r}:\n"
    "        raise OSError('磁盘已满')\n"
    "    Path(target).write_text('后台写出的', encoding='utf-8')\n"
    "out = Path(root) / 'outputs' / round_id\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "workers.in_background(out / '数字来源.xlsx', write)\n"
)


@pytest.mark.parametrize("fail", [False, True])
def test_the_runner_waits_for_the_writers_before_it_publishes(tmp_path, fail):
    project = make_project(tmp_path)
    write_notebook(project / "notebooks" / "01_clean.ipynb", WRITES_LATER.format(fail=fail))
    lines: list[str] = []
    published = project / "outputs" / ROUND / "数字来源.xlsx"
    if fail:
        with pytest.raises(runner.RunError, match="后台写出文件失败（数字来源.xlsx：OSError: 磁盘已满）"):
            runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
        assert not published.exists(), "a failed run publishes nothing"
    else:
        runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
        assert published.read_text(encoding="utf-8") == "后台写出的"
        assert not list((project / "outputs").rglob(".*.writing"))
    assert "等待后台写出 数字来源.xlsx …" in lines
