"""Notebooks 1 and 2 through papermill on a small full round: indicators.json, the saved tables, 督办清单.xlsx."""
import json
import shutil

import openpyxl
import pandas as pd
import pytest
from test_indicators import QUOTED, SEED_SLOTS, build_full_round

from pipeline import indicators as ind
from pipeline import paths as config
from pipeline.run import runner


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    build_full_round(root)
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name in ("01_clean.ipynb", "02_indicators.ipynb"):  # later steps are not this test's business
        shutil.copy(config.NOTEBOOKS_DIR / name, notebooks / name)
    runner.run_round("2021-12", root=root, notebooks_dir=notebooks, echo=lambda *_: None, progress=False)
    return root


def test_indicators_json_holds_the_hand_computed_figures(ran):
    values = json.loads((ran / "outputs" / "2021-12" / "indicators.json").read_text(encoding="utf-8"))
    assert values["round"] == "2021-12" and values["as_of"] == "2021-11-30"
    assert values["batch.projects"] == 6 and values["batch.start_rate_pct"] == pytest.approx(80.0)
    assert values["batch.completion_rate_pct"] == pytest.approx(3400 / 4600 * 100)
    assert values["fai.total_yi"] == pytest.approx(1900.5) and values["fai.accel_pp"] == pytest.approx(2.1)
    assert values["change.started_since"] == 1
    seed_keys = {k for slots in SEED_SLOTS.values() for _, keys in slots for k in keys if k != QUOTED}
    assert not [k for k in seed_keys if values[k] in (None, [])]


def test_report_tables_are_saved_for_the_report_stage(ran):
    tables = ind.load_report_tables(config.processed_round_dir("2021-12", ran))
    assert tables["track_list"]["project_name"].tolist() == ["乙项目", "丙项目", "戊项目"]
    assert tables["unit_ranking"].loc[0, "board"] == "展示台"
    clean_projects = config.processed_round_dir("2021-12", ran) / "projects.parquet"
    assert pd.read_parquet(clean_projects).shape[0] == 6  # clean table untouched


def test_supervision_workbook_is_written(ran):
    book = openpyxl.load_workbook(config.outputs_round_dir("2021-12", ran) / "督办清单.xlsx")
    assert book.sheetnames == ["汇总", "预警项目", "银川市", "交通运输厅"]
    assert book["汇总"].cell(row=3, column=1).value == "银川市"
    # the 汇总 counts every project's light (from project_lights), not only the projects to track
    header = [c.value for c in book["汇总"][2]]
    rows = [dict(zip(header, (c.value for c in r))) for r in book["汇总"].iter_rows(min_row=3)]
    assert sum(r["红色预警"] + r["黄色预警"] + r["绿色"] for r in rows) == 6


def test_executed_notebook_shows_each_section(ran):
    executed = (ran / "outputs" / "2021-12" / "notebooks" / "02_indicators.ipynb").read_text(encoding="utf-8")
    for heading in ("一、总体情况", "（四）项目谋划招引", "（五）十大工程项目", "二、工作建议", "与上轮比较"):
        assert heading in executed
    assert "Traceback" not in executed
