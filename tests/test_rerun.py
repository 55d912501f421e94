"""Reruns skip what has not changed: on a temporary project root with a tiny round and throwaway notebooks.

A notebook records each run in <root>/trace.jsonl, so a test sees which steps
really ran. Kernel starts cost a second or two each, so the rules that need no
kernel (plan_steps on a recorded manifest) are tested without one.
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_runner import ROUND, ROUND_YML, TRACE, traced, write_notebook

from pipeline import paths as config
from pipeline.run import rerun, runner

# A cell that writes one result file, as a real step writes its tables.
WRITE_RESULT = (
    "import pathlib\n"
    "out = pathlib.Path(root) / 'data' / 'processed' / round_id\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "(out / 'clean.txt').write_text('clean', encoding='utf-8')"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root with a round (one return), the alias table and two traced notebooks."""
    root = tmp_path.resolve()
    raw = root / "data" / "raw" / ROUND
    raw.mkdir(parents=True)
    (raw / "round.yml").write_text(ROUND_YML, encoding="utf-8")
    (raw / "银川市.csv").write_text("项目名称,年度计划投资\n甲项目,100\n", encoding="utf-8")
    (root / "data" / "header_aliases.csv").write_text("报表类型,标准列名,表头写法\n", encoding="utf-8")
    (root / "notebooks").mkdir()
    write_notebook(root / "notebooks" / "01_clean.ipynb", TRACE.format(step="01"), WRITE_RESULT)
    write_notebook(root / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"))
    return root


def run(root: Path, **kwargs) -> tuple[list[str], list[str]]:
    """Run the round; the steps that ran (from the trace) and the lines the runner printed."""
    before = len(traced(root))
    lines: list[str] = []
    runner.run_round(ROUND, root=root, echo=lines.append, progress=False, **kwargs)
    return [t["step"] for t in traced(root)[before:]], lines


def test_nothing_changed_skips_every_step_and_says_so(project):
    assert run(project)[0] == ["01", "02"]

    ran, lines = run(project)

    assert ran == []
    assert sum("输入、参数和代码均未变化，跳过" in line for line in lines) == 2
    assert any(line.startswith("[1/2] 清洗报表（01_clean.ipynb）：") for line in lines)
    manifest = json.loads((project / "outputs" / ROUND / rerun.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert set(manifest["steps"]) == {"01_clean.ipynb", "02_indicators.ipynb"}


def test_a_changed_return_reruns_from_the_first_step(project):
    run(project)
    (project / "data" / "raw" / ROUND / "银川市.csv").write_text("项目名称,年度计划投资\n甲项目,200\n",
                                                                 encoding="utf-8")

    ran, lines = run(project)

    assert ran == ["01", "02"]
    assert "      运行原因：银川市.csv 有变化。" in lines
    assert "      运行原因：第1步重新运行，其结果有变化。" in lines


def test_a_change_to_the_last_notebook_reruns_only_it(project):
    run(project)
    write_notebook(project / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"), "x = 2")

    ran, lines = run(project)

    assert ran == ["02"]
    assert "      运行原因：笔记本有变化。" in lines


def test_force_reruns_everything(project):
    run(project)
    ran, lines = run(project, force=True)
    assert ran == ["01", "02"]
    assert "      运行原因：使用了 --force，全部重新运行。" in lines


def test_results_changed_since_the_last_run_rerun_everything(project):
    run(project)
    (project / "data" / "processed" / ROUND / "clean.txt").unlink()  # e.g. deleted by hand

    ran, lines = run(project)

    assert ran == ["01", "02"]
    assert (project / "data" / "processed" / ROUND / "clean.txt").is_file()
    assert any("结果被改动或删除" in line for line in lines)


def test_a_failed_step_runs_again_and_the_steps_before_it_do_not(project):
    run(project)
    flag = project / "fail.flag"
    flag.touch()
    write_notebook(project / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"),
                   f"import pathlib\nassert not pathlib.Path({str(flag)!r}).exists(), '第2步失败'")
    with pytest.raises(runner.RunError):
        run(project)
    flag.unlink()  # the cause is fixed outside the chain: the step must run again anyway

    ran, lines = run(project)

    assert ran == ["02"]
    assert "      运行原因：没有上次成功运行的记录。" in lines or any("笔记本有变化" in line for line in lines)


def test_a_failed_run_publishes_nothing_and_the_next_run_starts_from_the_last_good_results(project):
    run(project)
    before = (project / "outputs" / ROUND / "trace.jsonl").read_text(encoding="utf-8")
    (project / "data" / "raw" / ROUND / "银川市.csv").write_text("项目名称,年度计划投资\n甲项目,300\n",
                                                                 encoding="utf-8")
    write_notebook(project / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"), "raise RuntimeError('坏了')")
    with pytest.raises(runner.RunError, match="仍是上次成功运行的结果"):
        run(project)
    assert (project / "outputs" / ROUND / "trace.jsonl").read_text(encoding="utf-8") == before

    write_notebook(project / "notebooks" / "02_indicators.ipynb", TRACE.format(step="02"))
    ran, _ = run(project)
    assert ran == ["01", "02"], "step 1's run in the failed attempt was never published, so it runs again"


# --------------------------------------------------------------------------- the rules, without a kernel


def recorded(project: Path, force: bool = False) -> list[rerun.StepPlan]:
    """The plan for the project's steps once every step has run and was recorded as now."""
    steps = runner.chain_steps(project / "notebooks")
    round_ = runner.load_round(ROUND, project)
    parameters = {"round_id": ROUND, "root": str(project)}
    manifest = {"format": rerun.MANIFEST_FORMAT, "steps": {}}
    executed = config.outputs_round_dir(ROUND, project) / "notebooks"
    executed.mkdir(parents=True)
    for plan in rerun.plan_steps(steps, parameters, round_, project, manifest):
        rerun.remember_step(manifest, plan.step, plan.inputs, 1.0)
        (executed / plan.step.notebook.name).write_text("{}", encoding="utf-8")
    rerun.remember_results(manifest, ROUND, project)
    return lambda **kw: [p.reason for p in rerun.plan_steps(steps, parameters, round_, project, manifest, **kw)]


def test_unchanged_inputs_make_an_all_skipped_plan(project):
    plan = recorded(project)
    assert plan() == [None, None]
    assert plan(force=True) == ["使用了 --force，全部重新运行"] * 2


@pytest.mark.parametrize("change, reason, then", [
    (lambda root: (root / "data" / "raw" / ROUND / "round.yml").write_text(ROUND_YML + "sample: true\n",
                                                                           encoding="utf-8"),
     "round.yml 有变化", "round.yml有变化"),  # steps 2 on read round.yml too
    (lambda root: (root / "data" / "raw" / ROUND / "新增单位.xlsx").write_bytes(b"PK"),
     "新增 新增单位.xlsx", "第1步重新运行"),
    (lambda root: (root / "data" / "raw" / ROUND / "银川市.csv").rename(root / "data" / "raw" / ROUND / "石嘴山市.csv"),
     "新增 石嘴山市.csv；删除了 银川市.csv", "第1步重新运行"),
    (lambda root: (root / "data" / "raw" / ROUND / "corrections.csv").write_text("文件,工作表,行号,列,原值,修正值\n",
                                                                                 encoding="utf-8"),
     "新增 corrections.csv", "第1步重新运行"),
    (lambda root: (root / "data" / "header_aliases.csv").write_text("报表类型,标准列名,表头写法\n"
                                                                    "projects,project_name,名称\n", encoding="utf-8"),
     "表头别名表有变化", "第1步重新运行"),
])
def test_a_change_to_the_round_or_the_alias_table_reruns_from_the_first_step(project, change, reason, then):
    # The reason names the round's files that changed, were added or removed (rerun.changed_text). Step 2 runs
    # for its own reason, or because step 1 does (unless what step 1 writes is as it was: decided at its turn).
    plan = recorded(project)
    change(project)
    assert plan() == [reason, then]


def test_templates_and_the_corrections_skeleton_written_after_a_run_do_not_make_it_rerun(project):
    plan = recorded(project)
    out = config.outputs_round_dir(ROUND, project)
    (out / "填报模板").mkdir()
    (out / "填报模板" / "银川市.xlsx").write_bytes(b"PK")
    (out / "corrections.csv").write_text("文件\n", encoding="utf-8")
    assert plan() == [None, None]
    (out / "退回修改.xlsx").write_bytes(b"PK")  # any other file there is a result changed by hand
    assert plan()[0].startswith("上次运行之后")


def test_the_previous_rounds_clean_tables_are_an_input_of_every_step(project):
    # Step 1 checks amounts against the previous round's (issue 10), steps 2 on compare with it.
    (project / "data" / "raw" / ROUND / "round.yml").write_text(ROUND_YML + "previous: 2021-09\n", encoding="utf-8")
    previous = project / "data" / "processed" / "2021-09"
    previous.mkdir(parents=True)
    (previous / "projects.parquet").write_bytes(b"v1")
    plan = recorded(project)

    (project / "data" / "raw" / "2021-09").mkdir(parents=True)
    (project / "data" / "raw" / "2021-09" / "new.xlsx").write_bytes(b"PK")  # its returns: read by its own step 1 only
    assert plan() == [None, None]

    (previous / "projects.parquet").write_bytes(b"v2")  # the previous round was cleaned again

    assert plan() == ["上一轮的数据有变化"] * 2


def test_a_change_to_the_pipeline_code_reruns_every_step(project, tmp_path, monkeypatch):
    package = tmp_path / "package"
    shutil.copytree(config.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runner.paths, "PACKAGE_DIR", package)
    plan = recorded(project)

    with open(package / "indicators" / "formulas.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a change\n")

    assert plan() == ["流水线代码（pipeline/）有变化"] * 2


def test_editing_the_sample_generator_or_the_benchmark_reruns_nothing(project, tmp_path, monkeypatch):
    package = tmp_path / "package"
    shutil.copytree(config.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runner.paths, "PACKAGE_DIR", package)
    plan = recorded(project)

    for tool in ("devtools/sample.py", "devtools/bench.py"):  # developer tooling, not pipeline code
        with open(package / tool, "a", encoding="utf-8") as fh:
            fh.write("\n# a change\n")

    assert plan() == [None, None]
    with open(package / "schemas.py", "a", encoding="utf-8") as fh:  # the same edit to pipeline code does rerun
        fh.write("\n# a change\n")
    assert plan() == ["流水线代码（pipeline/）有变化"] * 2


def test_a_missing_executed_copy_reruns_its_step(project):
    plan = recorded(project)
    (config.outputs_round_dir(ROUND, project) / "notebooks" / "02_indicators.ipynb").unlink()
    assert plan() == [None, "上次执行后的笔记本 outputs/2021-12/notebooks/02_indicators.ipynb 不在了"]


def test_a_changed_parameter_reruns_every_step(project):
    steps = runner.chain_steps(project / "notebooks")
    round_ = runner.load_round(ROUND, project)
    shared = rerun.round_inputs(round_, project)
    a = rerun.step_inputs(steps[0], {"round_id": ROUND, "root": str(project)}, shared)
    b = rerun.step_inputs(steps[0], {"round_id": ROUND, "root": "/elsewhere"}, shared)
    assert a["parameters"] != b["parameters"] and {k for k in a if a[k] != b[k]} == {"parameters"}


def test_a_notebook_digest_ignores_outputs_and_metadata_but_not_markdown(tmp_path):
    path = tmp_path / "n.ipynb"
    write_notebook(path, "x = 1")
    before = rerun.notebook_digest(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    nb["cells"][2]["execution_count"] = 3
    nb["metadata"]["widgets"] = {"saved": "by JupyterLab"}
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert rerun.notebook_digest(path) == before
    nb["cells"][0]["source"] = "# 另一个标题"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert rerun.notebook_digest(path) != before


def test_an_unreadable_manifest_means_every_step_runs(tmp_path):
    path = tmp_path / rerun.MANIFEST_FILE
    path.write_text("{not json", encoding="utf-8")
    assert rerun.load_manifest(path) == {"format": rerun.MANIFEST_FORMAT, "steps": {}}


# --------------------------------------------------------------------------- the command line and the real chain


def test_cli_rerun_with_nothing_changed_imports_no_heavy_library(project):
    run(project)
    code = (
        "import functools, sys\n"
        "from pipeline.run import runner\n"
        f"runner.run_round = functools.partial(runner.run_round, root={str(project)!r})\n"
        "from pipeline.__main__ import main\n"
        f"sys.exit(main(['run', {ROUND!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          encoding="utf-8")

    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"pandas", "numpy", "papermill", "nbclient", "nbformat", "jupyter_client", "zmq", "matplotlib"}
    assert not heavy & imported, f"an all-skipped rerun imported {sorted(heavy & imported)}"
    assert "2 个步骤全部跳过" in done.stdout
    assert traced(project)[-1]["step"] == "02", "nothing ran"


def test_the_real_cleaning_notebook_is_skipped_until_a_return_changes(tmp_path):
    from pipeline.devtools import sample

    root = tmp_path.resolve()
    sample.write_sample_rounds(root / "data" / "raw", n_projects=sample.MIN_PROJECTS, seed=7)
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    (root / "notebooks").mkdir()
    shutil.copy(config.NOTEBOOKS_DIR / "01_clean.ipynb", root / "notebooks")
    run_ = functools.partial(runner.run_round, "2021-12", root=root, progress=False)

    first = run_(echo=lambda line: None)
    cleaned = root / "data" / "processed" / "2021-12" / "projects.parquet"
    written = cleaned.stat().st_mtime_ns
    second = run_(echo=lambda line: None)
    return_file = next(p for p in sorted((root / "data" / "raw" / "2021-12").rglob("*.csv")))
    return_file.write_bytes(return_file.read_bytes() + b"\n")
    third = run_(echo=lambda line: None)

    assert [s.skipped for s in (first.steps[0], second.steps[0], third.steps[0])] == [False, True, False]
    assert second.all_skipped and not third.all_skipped
    assert cleaned.stat().st_mtime_ns != written, "the cleaning ran again after the return changed"


def test_many_changed_files_are_named_up_to_three_and_an_old_manifest_says_the_folder():
    before = {f"{rerun.ROUND_FILE_KEY}{u}.xlsx": "a" for u in "甲乙丙丁戊"} | {"code": "c"}
    now = {k: "b" for k in before if k != "code"} | {"code": "d"}
    changed = [k for k in {**before, **now} if before.get(k) != now.get(k)]
    assert (rerun.changed_text(changed, before, now)
            == "甲.xlsx、乙.xlsx、丙.xlsx等5个文件 有变化；流水线代码（pipeline/）有变化")
    old = {"returns": "x", "code": "d"}
    changed = [k for k in {**old, **now} if old.get(k) != now.get(k)]
    assert rerun.changed_text(changed, old, now) == "本轮报表、round.yml 或 corrections.csv有变化"


# Step 1 writes what the return says (not its bytes); step 2 derives a result from it. Each notes that it ran in a
# log outside the project, so the log is no result of theirs.
DERIVE_CLEAN = (
    "import pathlib\n"
    "out = pathlib.Path(root) / 'data' / 'processed' / round_id\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    "text = (pathlib.Path(root) / '..' / '..' / 'data' / 'raw' / round_id / '银川市.csv').read_text(encoding='utf-8')\n"
    "(out / 'clean.txt').write_text(text.strip(), encoding='utf-8')"
)
DERIVE_INDICATORS = (
    "import pathlib\n"
    "clean = (pathlib.Path(root) / 'data' / 'processed' / round_id / 'clean.txt').read_text(encoding='utf-8')\n"
    "(pathlib.Path(root) / 'outputs' / round_id / 'indicators.txt').write_text(str(len(clean.splitlines())))"
)
LOG = "with open({log!r}, 'a') as f:\n    f.write({step!r} + '\\n')"


def test_a_step_whose_earlier_results_did_not_change_is_skipped_and_the_result_is_a_full_runs(project, tmp_path):
    log = tmp_path.parent / f"{tmp_path.name}-ran.txt"
    write_notebook(project / "notebooks" / "01_clean.ipynb", LOG.format(log=str(log), step="01"), DERIVE_CLEAN)
    write_notebook(project / "notebooks" / "02_indicators.ipynb", LOG.format(log=str(log), step="02"),
                   DERIVE_INDICATORS)
    ran = lambda: log.read_text().split() if log.exists() else []  # noqa: E731
    runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False)
    assert ran() == ["01", "02"]
    the_return = project / "data" / "raw" / ROUND / "银川市.csv"

    the_return.write_text(the_return.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")  # bytes, not rows
    lines: list[str] = []
    runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
    assert ran() == ["01", "02", "01"], "step 2 found what step 1 wrote as it was"
    assert any(line.startswith("[2/2] 计算指标（02_indicators.ipynb）：前面步骤的结果与上次相同") for line in lines)

    the_return.write_text("项目名称,年度计划投资\n甲项目,100\n乙项目,50\n", encoding="utf-8")  # a row more
    lines = []
    runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
    assert ran() == ["01", "02", "01", "01", "02"]
    assert "      运行原因：第1步重新运行，其结果有变化。" in lines
    rerun_result = (project / "outputs" / ROUND / "indicators.txt").read_text()

    runner.run_round(ROUND, root=project, echo=lambda line: None, progress=False, force=True)
    assert rerun_result == (project / "outputs" / ROUND / "indicators.txt").read_text() == "3"

    # A step skipped this way is remembered as it was: the next run with nothing changed skips both.
    lines = []
    runner.run_round(ROUND, root=project, echo=lines.append, progress=False)
    assert ran()[-2:] == ["01", "02"] and len(ran()) == 7


def test_a_rerun_after_one_changed_return_gives_what_a_full_run_gives(tmp_path):
    """The real chain on a small sample round: one number of one return changed, rerun (step 1 reruns, every
    later step finds other results and reruns, unchanged workbooks are kept); then everything again with --force.
    Every result file is the same, byte for byte (report.docx: each of its parts), but those that record when or how
    long (UNSTABLE)."""
    import openpyxl

    from pipeline.devtools import sample

    root = tmp_path.resolve()
    sample.write_sample_rounds(root / "data" / "raw", n_projects=sample.MIN_PROJECTS, seed=7)
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    shutil.copytree(config.NOTEBOOKS_DIR, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    run_ = functools.partial(runner.run_round, "2021-12", root=root, progress=False, echo=lambda line: None)
    run_()
    the_return = min((root / "data" / "raw" / "2021-12").rglob("*.xlsx"))
    book = openpyxl.load_workbook(the_return)
    cell = [c for row in book.worksheets[0].iter_rows() for c in row
            if isinstance(c.value, float) and not c.value.is_integer()][-1]
    cell.value += 1
    book.save(the_return)

    rerun_ = run_()
    after_rerun = result_files(root)
    run_(force=True)
    after_full = result_files(root)

    assert not rerun_.steps[0].skipped
    assert after_rerun.keys() == after_full.keys()
    assert [name for name in after_full if after_rerun[name] != after_full[name]] == []


# Files that record when or how long, not what: the runner's manifest, the executed notebooks, the summaries
# (step timings), the PDF (Chromium's creation date).
UNSTABLE = ("run_manifest.json", "/notebooks/", "/summaries/", "report.pdf")


def result_files(root: Path) -> dict[str, bytes]:
    found = {}
    for folder in (root / "data" / "processed" / "2021-12", root / "outputs" / "2021-12"):
        for file in folder.rglob("*"):
            name = file.relative_to(root).as_posix()
            if file.is_file() and not any(part in name for part in UNSTABLE):
                found[name] = parts_of(file) if file.suffix == ".docx" else file.read_bytes()
    return found


def parts_of(docx: Path) -> dict[str, bytes]:
    """A Word file's parts: python-docx dates the zip entries when it saves, not what they hold."""
    import zipfile

    with zipfile.ZipFile(docx) as package:
        return {member: package.read(member) for member in package.namelist()}
