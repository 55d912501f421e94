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
    stage = staging.prepare("r", root)
    assert (stage / "data" / "raw" / "r" / "round.yml").read_text(encoding="utf-8").startswith("as_of")
    assert (stage / "data" / "header_aliases.csv").is_file()
    assert (stage / "data" / "processed" / "prev" / "projects.parquet").read_text(encoding="utf-8") == "prev"
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
    staging.publish("r", root)
    staging.unstage_notebooks("r", root)
    text = (root / "outputs" / "r" / "notebooks" / "01_clean.ipynb").read_text(encoding="utf-8")
    assert str(stage) not in text and f'root = \\"{root.resolve()}\\"' in text


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
    """Make the k-th rename, replace or symlink of the file system (1-based) fail, as a crash there would."""
    import os

    calls = {"n": 0}
    for name in ("rename", "replace", "symlink"):
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
    """A project whose last good run was published by this version (the two folders are links)."""
    root = project(tmp_path)
    staging.prepare("r", root)  # a copy of the old results, published unchanged
    staging.publish("r", root)
    assert (root / "outputs" / "r").is_symlink() and published(root) == ("old", "old report")
    return root


@pytest.mark.parametrize("make, old", [(published_once, ("old", "old report")), (project, ("old", "old report"))],
                         ids=["after-a-published-run", "results-of-an-older-version"])
def test_a_crash_at_any_step_of_publishing_leaves_all_old_or_all_new(tmp_path, monkeypatch, make, old):
    steps = count_steps(tmp_path, monkeypatch, make)
    assert steps >= 3
    for k in range(1, steps + 1):
        root = make(tmp_path / f"k{k}")
        stage_new_results(root)
        with monkeypatch.context() as m:
            crash_at(m, k)
            with pytest.raises(Crash):
                staging.publish("r", root)
        seen = published(root)
        if make is published_once:
            assert seen in (old, ("new", "new report")), f"crash at step {k} of {steps}: {seen}"
        else:  # once per round, moving an older version's real folders into place: never a mix of old and new
            assert None in seen or seen in (old, ("new", "new report")), f"crash at step {k} of {steps}: {seen}"
            assert "new" not in seen or seen == ("new", "new report"), f"crash at step {k} of {steps}: {seen}"
        stage_new_results(root)  # the next run publishes normally
        staging.publish("r", root)
        assert published(root) == ("new", "new report")


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
        assert published(root) in ((None, None), ("new", "new report")), f"crash at step {k} of {steps}"


def test_published_folders_are_links_into_one_generation_and_old_ones_are_removed(tmp_path):
    import os

    root = published_once(tmp_path)
    stage_new_results(root)
    staging.publish("r", root)
    runs = root / "outputs" / ".runs" / "r"
    current = os.readlink(runs / "current")
    assert sorted(p.name for p in runs.iterdir()) == sorted(["current", current])  # the older generation is gone
    assert (root / "data" / "processed" / "r").resolve() == (runs / current / "processed").resolve()
    assert (root / "outputs" / "r").resolve() == (runs / current / "outputs").resolve()
    assert not os.path.isabs(os.readlink(root / "outputs" / "r"))  # relative: the project folder can be moved


def test_make_clean_removes_every_result_and_no_raw_file(tmp_path):
    import subprocess

    from pipeline import paths as config

    root = published_once(tmp_path)
    (root / "data" / "processed" / ".gitkeep").write_text("", encoding="utf-8")
    subprocess.run(["make", "-s", "-f", str(config.PROJECT_ROOT / "Makefile"), "-C", str(root), "clean"], check=True)
    assert [p.name for p in (root / "data" / "processed").iterdir()] == [".gitkeep"]
    assert list((root / "outputs").iterdir()) == []
    assert (root / "data" / "raw" / "r" / "round.yml").is_file()
