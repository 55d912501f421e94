"""Atomic runs: results are staged, then swapped into place; a failed run changes nothing."""
import json
from pathlib import Path

import pytest

from pipeline.run import staging


def project(tmp_path):
    root = tmp_path / "p"
    (root / "data" / "raw" / "r").mkdir(parents=True)
    (root / "data" / "raw" / "r" / "round.yml").write_text("as_of: 2021-11-30\n", encoding="utf-8")
    (root / "data" / "header_aliases.csv").write_text("报表类型,标准列名,表头写法\n", encoding="utf-8")
    (root / "data" / "processed" / "r").mkdir(parents=True)
    (root / "data" / "processed" / "r" / "ledger.csv").write_text("old", encoding="utf-8")
    (root / "data" / "processed" / "prev").mkdir()
    (root / "data" / "processed" / "prev" / "projects.parquet").write_text("prev", encoding="utf-8")
    (root / "outputs" / "r").mkdir(parents=True)
    (root / "outputs" / "r" / "report.html").write_text("old report", encoding="utf-8")
    return root


def test_stage_sees_inputs_and_a_copy_of_the_last_results(tmp_path):
    root = project(tmp_path)
    from pipeline import paths as config

    stage = staging.prepare("r", root)
    where = config.RoundPaths(stage, "r")  # how the staged chain finds its inputs: in the real project, no link
    assert (where.raw / "round.yml").read_text(encoding="utf-8").startswith("as_of")
    assert where.aliases.is_file()
    assert config.RoundPaths(stage, "prev").clean_table("projects").read_text(encoding="utf-8") == "prev"
    copy = stage / "data" / "processed" / "r" / "ledger.csv"
    assert copy.read_text(encoding="utf-8") == "old" and not copy.is_symlink()
    copy.write_text("new", encoding="utf-8")  # writing in staging never touches the real results
    assert (root / "data" / "processed" / "r" / "ledger.csv").read_text(encoding="utf-8") == "old"


def test_publish_swaps_results_into_place_and_clears_the_stage(tmp_path):
    root = project(tmp_path)
    stage = staging.prepare("r", root)
    (stage / "outputs" / "r" / "report.html").write_text("new report", encoding="utf-8")
    (stage / "outputs" / "r" / "indicators.json").write_text("{}", encoding="utf-8")
    staging.publish("r", root)
    assert (root / "outputs" / "r" / "report.html").read_text(encoding="utf-8") == "new report"
    assert (root / "outputs" / "r" / "indicators.json").is_file()
    assert not stage.exists() and not (root / "outputs" / ".r.old").exists()
    assert (root / "outputs" / "r").is_dir() and not (root / "outputs" / "r").is_symlink()
    assert (root / "data" / "raw" / "r" / "round.yml").is_file()  # inputs untouched


def test_an_abandoned_stage_never_reaches_the_real_folders(tmp_path):
    root = project(tmp_path)
    stage = staging.prepare("r", root)
    (stage / "outputs" / "r" / "report.html").write_text("half-written", encoding="utf-8")
    # the run dies here: nothing is published; the next run starts from a fresh stage
    assert (root / "outputs" / "r" / "report.html").read_text(encoding="utf-8") == "old report"
    stage = staging.prepare("r", root)
    assert (stage / "outputs" / "r" / "report.html").read_text(encoding="utf-8") == "old report"


def test_first_run_of_a_round_publishes_into_empty_folders(tmp_path):
    root = project(tmp_path)
    for folder in (root / "outputs" / "r", root / "data" / "processed" / "r"):
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    stage = staging.prepare("r", root)
    (stage / "outputs" / "r").mkdir(parents=True)
    (stage / "outputs" / "r" / "a.txt").write_text("a", encoding="utf-8")
    staging.publish("r", root)
    assert (root / "outputs" / "r" / "a.txt").read_text(encoding="utf-8") == "a"


def test_published_notebooks_point_at_the_real_root(tmp_path):
    root = project(tmp_path)
    stage = staging.prepare("r", root)
    executed = stage / "outputs" / "r" / "notebooks" / "01_clean.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text(json.dumps({"cells": [{"source": f'root = "{stage}"'}]}, ensure_ascii=False), encoding="utf-8")
    staging.publish("r", root)  # the executed notebooks are pointed at the real root before they are published
    text = (root / "outputs" / "r" / "notebooks" / "01_clean.ipynb").read_text(encoding="utf-8")
    assert str(stage) not in text and f'root = \\"{root.resolve()}\\"' in text


@pytest.mark.parametrize("ascii_json", [True, False], ids=["chinese-escaped", "chinese-as-is"])
def test_published_notebooks_point_at_the_real_root_under_a_chinese_path(tmp_path, ascii_json):
    root = project(tmp_path / "督查 工作")
    stage = staging.prepare("r", root)
    executed = stage / "outputs" / "r" / "notebooks" / "01_clean.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text(json.dumps({"cells": [{"source": f'root = "{stage}"'}]}, ensure_ascii=ascii_json),
                        encoding="utf-8")
    staging.publish("r", root)
    published_nb = json.loads((root / "outputs" / "r" / "notebooks" / "01_clean.ipynb").read_text(encoding="utf-8"))
    assert published_nb["cells"][0]["source"] == f'root = "{root.resolve()}"'


def test_an_interrupted_run_leaves_the_last_good_results(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the chain: the real folders keep what the last good run left."""
    import pytest

    from pipeline.run import runner

    root = project(tmp_path)
    (root / "data" / "raw" / "r" / "round.yml").write_text("as_of: 2021-11-30\nunits: [银川市]\n", encoding="utf-8")
    (root / "notebooks").mkdir()
    for name, _ in runner.CHAIN[:2]:
        (root / "notebooks" / name).write_text(json.dumps({"cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": 'round_id = ""\nroot = ""'}]}),
            encoding="utf-8")

    def fake_notebook(step, executed, parameters, **_):
        out = Path(parameters["root"]) / "outputs" / "r"
        (out / "report.html").write_text(f"half-written by step {step.number}", encoding="utf-8")
        if step.number == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_notebook", fake_notebook)
    with pytest.raises(KeyboardInterrupt):
        runner.run_round("r", root=root, echo=lambda _: None, progress=False)
    assert (root / "outputs" / "r" / "report.html").read_text(encoding="utf-8") == "old report"
    assert (root / "data" / "processed" / "r" / "ledger.csv").read_text(encoding="utf-8") == "old"


# --------------------------------------------------------------------------- issue 10: one all-or-nothing publish


def published(root):
    """What a reader of the two published folders sees: (ledger, report), None for a file that is not there."""
    files = (root / "data" / "processed" / "r" / "ledger.csv", root / "outputs" / "r" / "report.html")
    return tuple(f.read_text(encoding="utf-8") if f.is_file() else None for f in files)


def stage_new_results(root):
    stage = staging.prepare("r", root)
    for folder in (stage / "data" / "processed" / "r", stage / "outputs" / "r"):
        folder.mkdir(parents=True, exist_ok=True)
    (stage / "data" / "processed" / "r" / "ledger.csv").write_text("new", encoding="utf-8")
    (stage / "outputs" / "r" / "report.html").write_text("new report", encoding="utf-8")
    return stage


class Crash(OSError):
    pass


def crash_at(monkeypatch, k):
    """Make the k-th rename or replace of the file system (1-based) fail, as a crash there would: nothing after it
    runs. Every change publishing makes to what is published is one of these."""
    import os

    calls = {"n": 0}
    for name in ("rename", "replace"):
        real = getattr(os, name)

        def failing(*args, _real=real, **kwargs):
            calls["n"] += 1
            if calls["n"] == k:
                raise Crash(f"crash at step {k}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, failing)
    return calls


def count_steps(tmp_path, monkeypatch, make):
    root = make(tmp_path / "count")
    stage_new_results(root)
    with monkeypatch.context() as m:
        calls = crash_at(m, 0)
        staging.publish("r", root)
    return calls["n"]


def published_once(tmp_path):
    """A project whose last good run was published by this version: two real folders, nothing left beside them."""
    root = project(tmp_path)
    staging.prepare("r", root)  # a copy of the old results, published unchanged
    staging.publish("r", root)
    for folder in (root / "outputs" / "r", root / "data" / "processed" / "r"):
        assert folder.is_dir() and not folder.is_symlink()
    assert published(root) == ("old", "old report")
    assert sorted(p.name for p in (root / "outputs").iterdir()) == ["r"]
    assert not (root / ".staging" / "r.publish").exists()
    return root


def published_by_the_symlink_version(tmp_path):
    """A project as the older, symlink-based version published it: both folders links into one generation."""
    import os

    root = tmp_path
    for folder in ("processed", "outputs"):
        (root / "outputs" / ".runs" / "r" / "g-1" / folder).mkdir(parents=True)
    (root / "outputs" / ".runs" / "r" / "g-1" / "processed" / "ledger.csv").write_text("old", encoding="utf-8")
    (root / "outputs" / ".runs" / "r" / "g-1" / "outputs" / "report.html").write_text("old report", encoding="utf-8")
    os.symlink("g-1", root / "outputs" / ".runs" / "r" / "current", target_is_directory=True)
    (root / "data" / "raw" / "r").mkdir(parents=True)
    (root / "data" / "processed").mkdir(parents=True)
    os.symlink("../../outputs/.runs/r/current/processed", root / "data" / "processed" / "r", target_is_directory=True)
    os.symlink(".runs/r/current/outputs", root / "outputs" / "r", target_is_directory=True)
    assert published(root) == ("old", "old report")
    return root


def symlinks_work():
    import os

    return getattr(os.symlink, "__name__", "") != "refused_symlink"


OLD, NEW = ("old", "old report"), ("new", "new report")
MAKERS = [published_once, project, published_by_the_symlink_version]


@pytest.mark.parametrize("make", MAKERS, ids=["after-a-published-run", "first-publish-over-real-folders",
                                              "results-of-the-symlink-version"])
def test_a_crash_at_any_step_of_publishing_leaves_all_old_or_all_new(tmp_path, monkeypatch, make):
    if make is published_by_the_symlink_version and not symlinks_work():
        pytest.skip("this platform (or the forced Windows mode) makes no symlinks: it never had that layout")
    steps = count_steps(tmp_path, monkeypatch, make)
    assert steps >= 5  # journal, two folders aside, commit, two folders in
    outcomes = set()
    for k in range(1, steps + 1):
        root = make(tmp_path / f"k{k}")
        stage_new_results(root)
        with monkeypatch.context() as m:
            crash_at(m, k)
            with pytest.raises(Crash):
                staging.publish("r", root)
        seen = published(root)  # before any repair: a folder may be missing, but old and new never side by side
        assert set(seen) - {None} <= set(OLD) or set(seen) - {None} <= set(NEW), f"crash at step {k}: {seen}"
        repaired = staging.recover("r", root)  # what the next run does first
        assert published(root) == (NEW if repaired == "new" else OLD), f"crash at step {k}: {published(root)}"
        outcomes.add(repaired)
        assert not any(p.name.endswith(".old") for p in (root / "outputs").iterdir())
        stage_new_results(root)  # the next run publishes normally
        staging.publish("r", root)
        assert published(root) == NEW
        assert not (root / "outputs" / "r").is_symlink() and (root / "outputs" / "r").is_dir()
        assert not (root / "outputs" / ".runs").exists() and not (root / ".staging" / "r.publish").exists()
    assert {"old", "new"} <= outcomes  # crashes before the commit point keep the old, after it give the new


def test_a_crash_during_the_first_publish_of_a_round_leaves_nothing_or_everything(tmp_path, monkeypatch):
    def fresh(path):
        root = project(path)
        import shutil

        shutil.rmtree(root / "outputs" / "r")
        shutil.rmtree(root / "data" / "processed" / "r")
        return root

    steps = count_steps(tmp_path, monkeypatch, fresh)
    for k in range(1, steps + 1):
        root = fresh(tmp_path / f"k{k}")
        stage_new_results(root)
        with monkeypatch.context() as m:
            crash_at(m, k)
            with pytest.raises(Crash):
                staging.publish("r", root)
        assert published(root) in ((None, None), ("new", None), NEW), f"crash at step {k} of {steps}"
        staging.recover("r", root)
        assert published(root) in ((None, None), NEW), f"crash at step {k} of {steps}"


def test_the_next_run_completes_a_publish_a_crash_interrupted(tmp_path, monkeypatch):
    """The runner repairs first: under the round's lock, before it discards the staging folder."""
    from pipeline.run import runner

    root = published_once(tmp_path)
    stage_new_results(root)
    with monkeypatch.context() as m:
        crash_at(m, 5)  # journal aside, two folders aside, journal commit; the first new folder fails to move in
        with pytest.raises(Crash):
            staging.publish("r", root)
    assert published(root) == (None, None)
    (root / "data" / "raw" / "r" / "round.yml").write_text("as_of: 2021-11-30\nunits: [银川市]\n", encoding="utf-8")
    (root / "notebooks").mkdir()
    with pytest.raises(runner.UserError):  # no notebooks here: the run stops, after the repair
        runner.run_round("r", root=root, echo=lambda _: None, progress=False)
    assert published(root) == NEW


def test_template_and_corrections_complete_a_crashed_publish_before_they_read(tmp_path, monkeypatch, capsys):
    from pipeline import __main__ as main
    from pipeline import paths as config

    root = published_once(tmp_path)
    stage_new_results(root)
    with monkeypatch.context() as m:
        crash_at(m, 5)  # after the commit point, before the new folders moved in
        with pytest.raises(Crash):
            staging.publish("r", root)
    assert published(root) == (None, None)
    monkeypatch.setattr(config, "PROJECT_ROOT", root)
    assert main.main(["corrections", "r"]) == 2  # this tiny round has no problems table: a Chinese error, after
    assert published(root) == NEW
    assert "错误：" in capsys.readouterr().err


def test_a_folder_that_cannot_be_set_aside_publishes_nothing_and_says_which(tmp_path, monkeypatch):
    """Windows refuses to rename a folder in which Excel or Word holds a file open (PermissionError)."""
    import os

    root = published_once(tmp_path)
    stage_new_results(root)
    real = os.rename

    def refuse_outputs(src, dst, *a, **k):
        if str(src).endswith(os.path.join("outputs", "r")):
            raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "rename", refuse_outputs)
    with pytest.raises(staging.PublishBlocked, match=r"无法替换 outputs/r/.*Excel、Word.*上次成功运行的结果保持不变"):
        staging.publish("r", root)
    assert published(root) == OLD and not (root / ".staging" / "r.publish").exists()
    assert not (root / "data" / "processed" / ".r.old").exists()
    monkeypatch.setattr(os, "rename", real)
    stage_new_results(root)
    staging.publish("r", root)  # closed: the next run publishes
    assert published(root) == NEW


def test_an_old_folder_that_cannot_be_removed_publishes_nothing_and_says_which(tmp_path, monkeypatch):
    """A file held open in data/processed/.r.old (left by an earlier publish) keeps the folder from being removed."""
    import shutil

    root = published_once(tmp_path)
    held = root / "data" / "processed" / ".r.old"
    held.mkdir()
    (held / "清洗数据.xlsx").write_text("held open", encoding="utf-8")
    real_rmtree = shutil.rmtree

    def cannot_remove_held(path, *args, **kwargs):  # as rmtree(ignore_errors=True) when a file in it is open
        if Path(path) != held:
            real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", cannot_remove_held)
    stage_new_results(root)
    with pytest.raises(staging.PublishBlocked, match=r"无法删除上次发布留下的 data/processed/\.r\.old/.*Excel"):
        staging.publish("r", root)
    assert published(root) == OLD and not (root / ".staging" / "r.publish").exists()
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)  # closed
    stage_new_results(root)
    staging.publish("r", root)
    assert published(root) == NEW and not held.exists()


def test_the_staged_chain_reads_inputs_and_other_rounds_from_the_real_project(tmp_path):
    from pipeline import paths as config

    root = project(tmp_path).resolve()
    stage = staging.prepare("r", root)
    where = config.RoundPaths(stage, "r")
    assert where.raw == root / "data" / "raw" / "r" and where.aliases == root / "data" / "header_aliases.csv"
    assert where.cache == root / ".cache" / "ingest" / "r"
    assert where.processed == stage / "data" / "processed" / "r" and where.outputs == stage / "outputs" / "r"
    assert config.RoundPaths(stage, "prev").processed == root / "data" / "processed" / "prev"
    assert not [p for p in stage.rglob("*") if p.is_symlink()]
    shown = {row["位置"] for row in where.flow("01_clean", "prev")}
    assert {"data/raw/r/", "data/processed/prev/", "data/processed/r/"} <= shown  # relative, as the analyst sees


@pytest.mark.parametrize("how", ["make clean", "python -m pipeline clean"])
def test_make_clean_removes_every_result_and_no_raw_file(tmp_path, how):
    import subprocess

    from pipeline import cli
    from pipeline import paths as config

    root = published_once(tmp_path)
    (root / "data" / "processed" / ".gitkeep").write_text("", encoding="utf-8")
    (root / ".cache" / "ingest").mkdir(parents=True)
    if how == "make clean":
        subprocess.run(["make", "-s", "-f", str(config.PROJECT_ROOT / "Makefile"), "-C", str(root), "clean"],
                       check=True)
    else:  # Windows, without make: the same command's function, on this project root
        assert cli.clean(root) == 0
    assert not (root / ".cache").exists()
    assert [p.name for p in (root / "data" / "processed").iterdir()] == [".gitkeep"]
    assert list((root / "outputs").iterdir()) == []
    assert (root / "data" / "raw" / "r" / "round.yml").is_file()
