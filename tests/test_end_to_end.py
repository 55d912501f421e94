"""The real papermill chain on a small round in a temporary project: ledger, clean totals, feedback."""
import hashlib
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import read_only
from office import project_row, project_sheet, write_csv, write_round, write_xls, write_xlsx

from pipeline import paths as config
from pipeline.run import runner


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_round(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    (root / "data").mkdir()
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    # The previous round: its returns only, never cleaned; the run cleans it first (its step 1 only).
    before_raw = write_round(root / "data" / "raw" / "t0", ["银川市"], as_of="2021-08-31")
    grid, merges = project_sheet([project_row(1, "P1", "甲项目", total=20000, plan=6000, done=2000)])
    write_xlsx(before_raw / "银川市" / "项目进展.xlsx", {"第一批": grid}, {"第一批": merges})
    raw = write_round(root / "data" / "raw" / "t1", ["银川市", "交通运输厅", "水利厅"], as_of="2021-10-31",
                      previous="t0")
    grid, merges = project_sheet(
        [project_row(1, "P1", "甲项目", total=20000, plan=6000, done=5000),
         project_row(2, "P2", "乙项目", total=9000, plan="4,000", done="约3000")],
        total=["合计", None, None, None, None, None, None, None, 29000, 10000, 8000])
    write_xlsx(raw / "银川市" / "银川市重大项目进展情况表（10月）.xlsx", {"第一批": grid}, {"第一批": merges})
    dept, _ = project_sheet([project_row(1, "P3", "丙项目", batch="第二批", total=5000, plan=2000, done=1500)],
                            footer="填报单位：自治区交通运输厅")
    write_xls(raw / "附件2.xls", {"Sheet1": dept}, {"Sheet1": merges})
    write_csv(raw / "交通运输厅" / "招商.csv",
              [["项目名称", "签约时间", "合同投资额", "本年到位资金"], ["某招商项目", "2021.5.1", "12,000", "3000"]])
    (raw / "水利厅").mkdir()
    (raw / "水利厅" / "水利厅项目表.xlsx").write_bytes(b"%PDF-1.7 a scan saved as .xlsx")  # a bad file beside good ones
    read_only(root / "data" / "raw")  # a share the analyst may only read: the chain needs no write there
    before = digest(raw)
    messages = []
    result = runner.run_round("t1", root=root, notebooks_dir=config.NOTEBOOKS_DIR, echo=messages.append, progress=False)
    return root, raw, before, result, messages


def test_chain_writes_executed_notebooks_and_clean_outputs(small_round):
    root, _, _, result, messages = small_round
    assert (root / "outputs" / "t1" / "notebooks" / "01_clean.ipynb").is_file()
    for name in ("projects.parquet", "quarantine.parquet", "ledger.csv", "清洗数据.xlsx", "隔离行.xlsx"):
        assert (root / "data" / "processed" / "t1" / name).is_file(), name
    assert any("清洗报表" in m for m in messages)
    summary = "\n".join(messages)
    assert "水利厅项目表.xlsx" in summary and "PDF" in summary  # the run's own output names the bad file


def test_the_previous_round_is_cleaned_first_and_said_so(small_round):
    root, _, _, result, messages = small_round
    assert messages[0] == "上一轮 t0 还没有清洗结果（data/processed/t0/），先清洗上一轮："
    assert any(m.startswith("  [1/1] 清洗报表") for m in messages)  # its step 1, indented under the notice
    assert (root / "data" / "processed" / "t0" / "projects.parquet").is_file()
    assert sorted(p.name for p in (root / "outputs" / "t0" / "notebooks").iterdir()) == ["01_clean.ipynb"]
    indicators = json.loads((root / "outputs" / "t1" / "indicators.json").read_text(encoding="utf-8"))
    assert indicators["previous.round"] == "t0"


def test_every_step_writes_what_its_data_flow_declares_and_shows_it(small_round):
    root, *_ = small_round
    where = config.RoundPaths(root, "t1")
    for step in config.STEP_FLOW:
        rows = where.flow(step, "t0")
        for row in rows:
            if row["读/写"] != "写入":
                continue
            named = re.findall(r"[\w\u4e00-\u9fff]+\.(?:xlsx|json|parquet|csv|html|pdf|docx|txt)", row["文件"])
            targets = [root / row["位置"] / name for name in named] or [root / row["位置"]]
            assert all(t.exists() for t in targets), (step, [str(t) for t in targets if not t.exists()])
        executed = json.loads((where.executed / f"{step}.ipynb").read_text(encoding="utf-8"))
        shown = json.dumps([c.get("outputs") for c in executed["cells"] if "where.flow(" in "".join(c["source"])],
                           ensure_ascii=False)
        assert "data/processed/t0/" in shown if step in ("01_clean", "02_indicators") else "outputs/t1/" in shown, step


def test_each_executed_copy_shows_the_parameters_of_its_run_once(small_round):
    """The notebook's default parameters are folded away under the values the run used (papermill's injected cell),
    and the copy names the project's kernel, so a reviewer opening it in JupyterLab sees one set of parameters."""
    root = small_round[0]
    for step in ("01_clean", "02_indicators", "03_figures", "04_report"):
        executed = json.loads((root / "outputs" / "t1" / "notebooks" / f"{step}.ipynb").read_text(encoding="utf-8"))
        tags = [c.get("metadata", {}).get("tags", []) for c in executed["cells"]]
        defaults = [c for c, t in zip(executed["cells"], tags) if "parameters" in t]
        injected = [c for c, t in zip(executed["cells"], tags) if "injected-parameters" in t]
        assert len(defaults) == 1 and len(injected) == 1, step
        assert defaults[0]["metadata"]["jupyter"]["source_hidden"] is True, step
        assert not injected[0]["metadata"].get("jupyter", {}).get("source_hidden"), step
        assert "'t1'" in "".join(injected[0]["source"]) or '"t1"' in "".join(injected[0]["source"]), step
        assert executed["metadata"]["kernelspec"]["name"] == runner.KERNEL_NAME


def test_ledger_reconciles_and_clean_totals_are_right(small_round):
    root, *_ = small_round
    ledger = pd.read_csv(root / "data" / "processed" / "t1" / "ledger.csv")
    assert list(ledger.columns[:9]) == ["file", "sheet", "unit", "return_kind", "data_rows", "kept",
                                        "kept_with_problems", "quarantined", "skipped_rows"]
    assert (ledger["data_rows"] == ledger["kept"] + ledger["quarantined"]).all()
    rows = ledger.set_index("file")
    # 乙项目's 累计完成投资 “约3000” cannot be read: the project is kept and counted, the amount is not.
    assert rows.loc["银川市/银川市重大项目进展情况表（10月）.xlsx", ["data_rows", "kept", "kept_with_problems",
                                                              "quarantined"]].tolist() == [2, 2, 1, 0]
    assert rows.loc["附件2.xls", "unit"] == "交通运输厅"
    projects = pd.read_parquet(root / "data" / "processed" / "t1" / "projects.parquet")
    assert projects["annual_plan"].sum() == 6000 + 4000 + 2000
    assert projects["completed"].sum() == 5000 + 1500
    attraction = pd.read_parquet(root / "data" / "processed" / "t1" / "attraction.parquet")
    assert attraction["contract_investment"].tolist() == [12000.0]
    assert ledger["money_raw_wan"].sum() == pytest.approx(ledger["money_kept_wan"].sum()
                                                          + ledger["money_set_aside_wan"].sum())


def test_feedback_workbook_lists_mistakes_and_missing_units(small_round):
    root, *_ = small_round
    book = openpyxl.load_workbook(root / "outputs" / "t1" / "退回修改清单.xlsx")
    problems = [[c.value for c in row] for row in book["问题清单"].iter_rows(min_row=3)]
    expected = ["银川市", "银川市/银川市重大项目进展情况表（10月）.xlsx", "第一批", 6, "2021年投资/完成", "约3000"]
    assert expected in [p[:6] for p in problems]
    assert any(p[0] == "水利厅" and p[1] == "水利厅/水利厅项目表.xlsx" and "PDF" in p[6] for p in problems)
    assert [c.value for c in book["未报送单位"]["A"]][1:] == []  # 水利厅 sent something, if unusable


def test_the_report_is_made_for_the_good_part_and_accounts_for_the_bad_file(small_round):
    root, *_ = small_round
    html = (root / "outputs" / "t1" / "report.html").read_text(encoding="utf-8")
    values = json.loads((root / "outputs" / "t1" / "indicators.json").read_text(encoding="utf-8"))
    assert values["batch.projects"] == 3 and values["batch.plan_yi"] == pytest.approx(1.2)  # 甲, 乙 and 丙, in 亿元
    assert "XX" not in re.sub(r"data:[^\"')]+", "", html)  # no redacted number left (embedded images aside)
    assert "水利厅项目表.xlsx" in html  # the data-quality appendix lists the file that could not be read
    ledger = pd.read_csv(root / "data" / "processed" / "t1" / "ledger.csv").set_index("file")
    assert ledger.loc["水利厅/水利厅项目表.xlsx", "status"] == "无法读取"


def test_raw_files_are_not_modified(small_round):
    _, raw, before, *_ = small_round
    assert digest(raw) == before


def test_executed_copies_show_what_was_written_in_words_not_path_reprs(small_round):
    """A reviewer in JupyterLab reads “已写出 outputs/t1/report.docx”, not PosixPath('/…/report.docx')."""
    root = small_round[0]
    said = []
    for step in ("01_clean", "02_indicators", "03_figures", "04_report"):
        executed = (root / "outputs" / "t1" / "notebooks" / f"{step}.ipynb").read_text(encoding="utf-8")
        outputs = json.dumps([c.get("outputs", []) for c in json.loads(executed)["cells"]], ensure_ascii=False)
        assert "PosixPath(" not in outputs and "WindowsPath(" not in outputs, step
        said += re.findall(r"已写出 [^\"\\]+", outputs)
    assert any("outputs/t1/report.docx" in line for line in said), said
    assert any(line.endswith("个文件") for line in said), said
