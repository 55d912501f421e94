"""The round runner on a temporary project root with a tiny round and throwaway notebooks.

Each real kernel start costs a second or two, so only three tests start one.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pipeline import __main__ as cli
from pipeline.rounds import RoundError
from pipeline.run import kernels, runner

ROUND = "2021-12"
ROUND_YML = "title: 测试轮次\nas_of: 2021-11-30\nunits: [银川市, 石嘴山市]\n"

# A notebook cell that records, in outputs/<round>/trace.jsonl, that it ran and with which Python.
# Like every result, the trace is published only when the whole run succeeds.
TRACE = (
    "import json, sys, pathlib\n"
    "with open(pathlib.Path(root) / 'outputs' / round_id / 'trace.jsonl', 'a', encoding='utf-8') as f:\n"
    "    f.write(json.dumps({{'step': {step!r}, 'round_id': round_id, 'root': root, "
    "'python': sys.executable}}) + '\\n')"
)


def write_notebook(path: Path, *code: str) -> None:
    """A throwaway notebook shaped like the project's: title, parameters cell, code cells."""
    parameters = new_code_cell("round_id = \"\"\nroot = \"\"", metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell("# 测试笔记本"), parameters, *map(new_code_cell, code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def traced(root: Path) -> list[dict]:
    trace = root / "outputs" / ROUND / "trace.jsonl"
    if not trace.exists():
        return []
    return [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]


def make_project(tmp_path: Path) -> Path:
    """A project root with data/raw/2021-12/round.yml and an empty notebooks/ folder."""
    tmp_path = tmp_path.resolve()
    raw = tmp_path / "data" / "raw" / ROUND
    raw.mkdir(parents=True)
    (raw / "round.yml").write_text(ROUND_YML, encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    return tmp_path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def decoy_kernels(tmp_path: Path, monkeypatch) -> None:
    """Kernel specs found first on JUPYTER_PATH that would launch a program that is not a kernel at all."""
    for name in ("python3", runner.KERNEL_NAME):
        spec = tmp_path / "decoy-jupyter" / "kernels" / name
        spec.mkdir(parents=True)
        argv = ["/bin/false", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "decoy", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "decoy-jupyter"))


def test_chain_runs_in_order_in_the_project_python_and_keeps_executed_copies(project, decoy_kernels):
    nbdir = project / "notebooks"
    write_notebook(nbdir / "01_clean.ipynb", TRACE.format(step="01"))
    write_notebook(nbdir / "02_indicators.ipynb", TRACE.format(step="02"))
    lines: list[str] = []

    result = runner.run_round(ROUND, root=project, echo=lines.append, progress=False)

    # In order, with the parameters, in the runner's own Python (not the decoy "python3" kernel).
    # The notebooks ran on the staging copy of the project; the results were then moved into place.
    stage = str(project / ".staging" / ROUND)
    assert [(t["step"], t["round_id"], t["root"]) for t in traced(project)] == [
        ("01", ROUND, stage),
        ("02", ROUND, stage),
    ]
    assert not (project / ".staging" / ROUND).exists()
    assert {t["python"] for t in traced(project)} == {sys.executable}

    executed_dir = project / "outputs" / ROUND / "notebooks"
    assert [s.executed for s in result.steps] == [executed_dir / "01_clean.ipynb", executed_dir / "02_indicators.ipynb"]
    for step in result.steps:
        nb = nbformat.read(step.executed, as_version=4)
        assert nb.metadata.papermill.parameters == {"round_id": ROUND, "root": str(project)}
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and f'round_id = "{ROUND}"' in injected[0].source
        assert nb.metadata.kernelspec.name == runner.KERNEL_NAME
    assert not list(nbdir.glob("*.ipynb.*")), "source notebooks are left untouched"

    assert "[1/2] 清洗报表（01_clean.ipynb）…" in lines
    assert "[2/2] 计算指标（02_indicators.ipynb）…" in lines
    assert lines.index("[1/2] 清洗报表（01_clean.ipynb）…") < lines.index("[2/2] 计算指标（02_indicators.ipynb）…")
    assert sum("用时" in line for line in lines) == 2
    assert any("绘制图表、生成报告" in line for line in lines), "says which steps are not there yet"


def test_failing_cell_stops_the_chain_with_a_chinese_message(project):
    nbdir = project / "notebooks"
    write_notebook(nbdir / "01_clean.ipynb", "x = 1", "raise ValueError('报表有误')")
    write_notebook(nbdir / "02_indicators.ipynb", TRACE.format(step="02"))

    with pytest.raises(runner.RunError) as caught:
        runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False)

    message = str(caught.value)
    # Code cells of the executed copy: parameters, injected parameters, x = 1, raise.
    assert message == (
        "第1步「清洗报表」（01_clean.ipynb）的第4个代码单元格（In [4]）出错：ValueError: 报表有误。"
        f"请在 JupyterLab 中打开 .staging/{ROUND}/outputs/{ROUND}/notebooks/01_clean.ipynb 查看出错的单元格。"
        f"本次运行的结果未采用：data/processed/{ROUND}/ 和 outputs/{ROUND}/ 仍是上次成功运行的结果。"
    )
    assert "Traceback" not in message
    assert (project / ".staging" / ROUND / "outputs" / ROUND / "notebooks" / "01_clean.ipynb").is_file()
    assert not (project / "outputs" / ROUND).exists(), "a failed run publishes nothing"
    assert traced(project) == [], "the next notebook did not run"


def test_a_kernel_that_cannot_start_is_a_clear_run_error(project, monkeypatch):
    write_notebook(project / "notebooks" / "01_clean.ipynb", "x = 1")
    spec = kernels.project_kernel_spec()
    spec.argv = ["/nonexistent/python", *spec.argv[1:]]
    monkeypatch.setattr(kernels, "project_kernel_spec", lambda: spec)

    with pytest.raises(runner.RunError,
                       match=r"第1步「清洗报表」（01_clean.ipynb）无法启动 Python 内核（/nonexistent/python）"):
        runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False)


@pytest.mark.parametrize(
    "round_id, round_yml, expected",
    [
        ("../x", ROUND_YML, "轮次编号“../x”不合法"),
        (ROUND, "title: [未闭合\nas_of: 2021-11-30\n", "无法解析"),
        (ROUND, "title: 测试\nunits: [银川市]\n", "as_of（数据截至日期）缺失"),
    ],
)
def test_a_bad_round_fails_before_any_notebook_runs(project, round_id, round_yml, expected):
    (project / "data" / "raw" / ROUND / "round.yml").write_text(round_yml, encoding="utf-8")
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"))
    lines: list[str] = []

    with pytest.raises(RoundError, match=expected):
        runner.run_round(round_id, root=project, echo=lines.append, progress=False)

    assert lines == []
    assert not (project / "outputs").exists()


def test_a_previous_round_that_cannot_be_cleaned_stops_the_round_before_it_runs(project):
    (project / "data" / "raw" / ROUND / "round.yml").write_text(ROUND_YML + "previous: 2021-09\n", encoding="utf-8")
    before = project / "data" / "raw" / "2021-09"
    before.mkdir()
    (before / "round.yml").write_text("title: 上一轮\nunits: [银川市]\n", encoding="utf-8")  # no as_of
    write_notebook(project / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"))
    lines: list[str] = []

    with pytest.raises(runner.UserError) as raised:
        runner.run_round(ROUND, root=project, echo=lines.append, progress=False)

    message = str(raised.value)
    assert message.startswith("上一轮 2021-09 未能清洗，本轮没有运行：") and "as_of（数据截至日期）缺失" in message
    assert "round.yml 中删去 previous" in message
    assert lines == ["上一轮 2021-09 还没有清洗结果（data/processed/2021-09/），先清洗上一轮："]
    assert traced(project) == [] and not (project / "outputs" / ROUND).exists()


def test_a_previous_round_that_is_nowhere_is_said_and_the_round_runs(project):
    (project / "data" / "raw" / ROUND / "round.yml").write_text(ROUND_YML + "previous: 2021-09\n", encoding="utf-8")
    lines: list[str] = []
    with pytest.raises(runner.UserError, match="找不到流水线的笔记本"):  # it went on: as far as the notebooks
        runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
    assert lines == ["提示：找不到上一轮 2021-09 的数据（data/raw/2021-09/ 和 data/processed/2021-09/ 都不存在），"
                     "本轮不作与上一轮的比较。"]


def test_missing_notebooks_are_named(project):
    with pytest.raises(runner.UserError, match="找不到流水线的笔记本"):
        runner.run_round(ROUND, root=project, echo=lambda line: None)
    write_notebook(project / "notebooks" / "02_indicators.ipynb", "x = 1")
    with pytest.raises(runner.UserError, match="缺少第1步「清洗报表」的笔记本"):
        runner.run_round(ROUND, root=project, echo=lambda line: None)


def test_a_notebook_without_parameters_cell_is_refused(project):
    nb = new_notebook(cells=[new_markdown_cell("# 无参数"), new_code_cell("x = 1")])
    nbformat.write(nb, project / "notebooks" / "01_clean.ipynb")
    with pytest.raises(runner.UserError, match="没有标记为 parameters 的单元格"):
        runner.run_round(ROUND, root=project, echo=lambda line: None)


def test_cli_bad_round_exits_nonzero_in_chinese_without_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "../x"], capture_output=True, text=True, encoding="utf-8"
    )
    assert done.returncode == 2
    assert "轮次编号“../x”不合法" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_failed_step_exits_1_with_the_message(monkeypatch, capsys):
    def fail(round_id, **kwargs):
        raise runner.RunError("第1步「清洗报表」（01_clean.ipynb）的第5个代码单元格（In [5]）出错：RoundError: 测试。")

    monkeypatch.setattr(runner, "run_round", fail)
    assert cli.main(["run", ROUND]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：第1步「清洗报表」")


def test_cli_success_says_where_the_outputs_are(monkeypatch, capsys):
    def done(round_id, **kwargs):
        outputs = cli.paths.PROJECT_ROOT / "outputs" / round_id
        return runner.RunResult(
            round=None, steps=(), processed_dir=cli.paths.PROJECT_ROOT / "data" / "processed" / round_id,
            outputs_dir=outputs, executed_dir=outputs / "notebooks", seconds=1.5,
        )

    monkeypatch.setattr(runner, "run_round", done)
    assert cli.main(["run", ROUND]) == 0
    out = capsys.readouterr().out
    assert f"data/processed/{ROUND}/" in out
    assert f"outputs/{ROUND}/" in out
    assert f"outputs/{ROUND}/notebooks/" in out


def test_one_warm_kernel_runs_the_chain_and_the_executed_copy_is_written_once_at_the_end(project):
    """The steps run in one kernel, started with the first notebook's modules imported before its first cell; nothing
    of that, and nothing step 1 left (its names, a changed working folder, matplotlib settings, execution counts),
    shows in step 2: it starts as in a kernel of its own. The executed copy is written when a notebook ends, not
    while its cells run."""
    nbdir = project / "notebooks"
    copy = "pathlib.Path(root) / 'outputs' / round_id / 'notebooks' / {!r}"
    pid = "pathlib.Path(root, 'outputs', round_id, {!r}).write_text(str(os.getpid()))"
    write_notebook(nbdir / "01_clean.ipynb",
                   "import sys\nwarm = 'colorsys' in sys.modules",
                   "import colorsys, os, pathlib\nimport matplotlib\n"
                   "pathlib.Path(root, 'outputs', round_id, 'warm.txt').write_text(repr(warm))",
                   f"assert not ({copy.format('01_clean.ipynb')}).exists()",
                   "left_by_step_1 = 1\nmatplotlib.rcParams['font.size'] = 31\nos.chdir('/')",
                   pid.format("pid1.txt"))
    write_notebook(nbdir / "02_indicators.ipynb",
                   "left = [n for n in dir() if 'warm' in n or 'left_by' in n or 'slate' in n]",
                   "import os, pathlib\nimport matplotlib\nsize = matplotlib.rcParams['font.size']\n"
                   "pathlib.Path(root, 'outputs', round_id, 'seen.txt').write_text("
                   f"repr((left, ({copy.format('02_indicators.ipynb')}).exists(), size, os.getcwd())))",
                   pid.format("pid2.txt"))

    result = runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False)

    outputs = project / "outputs" / ROUND
    assert (outputs / "pid1.txt").read_text() == (outputs / "pid2.txt").read_text(), "one kernel for both steps"
    assert (outputs / "warm.txt").read_text() == "True", "step 1's modules were imported before its first cell"
    assert (outputs / "seen.txt").read_text() == repr(([], False, 10.0, str(nbdir)))
    for step in result.steps:
        nb = nbformat.read(step.executed, as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), "each notebook counts its cells from 1"
        assert len([c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]) == 1


def test_a_kernel_that_dies_leaves_what_ran_in_the_executed_copy(project):
    write_notebook(project / "notebooks" / "01_clean.ipynb", "print('第一格已运行')", "import os\nos._exit(1)")
    write_notebook(project / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"))

    with pytest.raises(runner.RunError, match="运行中 Python 内核意外退出") as caught:
        runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False)

    executed = project / ".staging" / ROUND / "outputs" / ROUND / "notebooks" / "01_clean.ipynb"
    assert f"已执行的部分保存在 .staging/{ROUND}/outputs/{ROUND}/notebooks/01_clean.ipynb" in str(caught.value)
    nb = nbformat.read(executed, as_version=4)
    assert any("第一格已运行" in out.get("text", "") for c in nb.cells for out in c.get("outputs", []))
    assert traced(project) == [], "the next notebook did not run"
