"""The real chain (steps 1–3, papermill) on a copy of the sample round: after one number of one return changes, the
rerun draws again only the charts whose data changed, and every figure file is the file a full run writes."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipeline import paths
from pipeline.devtools import bench
from pipeline.figures import charts as figures
from pipeline.figures import reuse
from pipeline.run import runner

ROOT = Path(__file__).resolve().parents[1]
ROUND = paths.SAMPLE_ROUND


def project(root: Path) -> Path:
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    shutil.copy2(ROOT / "data" / paths.ALIASES_NAME, root / "data" / paths.ALIASES_NAME)
    return root


def run(root: Path) -> list[str]:
    said: list[str] = []
    runner.run_round(ROUND, root=root, notebooks_dir=paths.NOTEBOOKS_DIR, echo=said.append, progress=False, through=3)
    return said


def figure_files(root: Path) -> dict[str, bytes]:
    folder = paths.outputs_round_dir(ROUND, root) / paths.FIGURES
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def rerun(tmp_path_factory):
    first = project(tmp_path_factory.mktemp("rerun"))
    run(first)
    before, record = figure_files(first), reuse.load_record(paths.outputs_round_dir(ROUND, first))
    edited = bench.edit_one_number(first / "data" / "raw" / ROUND)
    said = run(first)
    full = tmp_path_factory.mktemp("full")  # the same returns (one number changed), run from nothing
    shutil.copytree(first / "data" / "raw", full / "data" / "raw")
    shutil.copy2(ROOT / "data" / paths.ALIASES_NAME, full / "data" / paths.ALIASES_NAME)
    run(full)
    return {"before": before, "record": record, "edited": edited, "said": said, "after": figure_files(first),
            "after_record": reuse.load_record(paths.outputs_round_dir(ROUND, first)), "full": figure_files(full)}


def test_after_one_changed_number_every_figure_file_is_what_a_full_run_writes(rerun):
    assert len(rerun["after"]) == 3 * len(figures.FIGURES)
    assert rerun["after"].keys() == rerun["full"].keys()
    for name, data in rerun["after"].items():
        assert data == rerun["full"][name], name


def test_only_the_charts_whose_data_changed_are_drawn_again(rerun):
    changed = {spec.key for spec in figures.FIGURES
               if any(rerun["before"][p.name] != rerun["after"][p.name]
                      for p in figures.figure_paths(Path(), spec.key).values())}
    assert changed, f"changing a number of {rerun['edited'].name} changes a chart"
    redrawn = {key for key, entry in rerun["after_record"].items() if entry["digest"] != rerun["record"][key]["digest"]}
    assert changed <= redrawn, "a chart whose files changed was drawn again"
    assert len(redrawn) < len(figures.FIGURES), "the charts whose data did not change were not"
    summary = "\n".join(rerun["said"])
    kept = len(figures.FIGURES) - len(redrawn)
    said = rf"已绘制图表 {len(figures.FIGURES)} 张（[^）]*其中 {kept} 张所用的数据未变，沿用上次的文件）"
    assert re.search(said, summary), summary
