"""Atomic runs: results are staged, then swapped into place; a failed run changes nothing."""
import json
from pathlib import Path

from pipeline import staging


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

    from pipeline import runner

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
