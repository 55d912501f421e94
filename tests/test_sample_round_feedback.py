"""The committed sample round: every planted mistake is in the feedback workbook, the ledger reconciles,
and whatever layout a unit used, its projects reach the clean table as the generator drew them."""
import json

import openpyxl
import pandas as pd
import pytest

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.devtools import sample
from pipeline.ingest import cleaning, feedback

SAMPLE = config.raw_round_dir(config.SAMPLE_ROUND)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    round_ = rounds.load_round(config.SAMPLE_ROUND)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    workbook = feedback.write_feedback(result, round_, tmp_path_factory.mktemp("out"))
    book = openpyxl.load_workbook(workbook)
    header = [c.value for c in book["问题清单"][2]]
    rows = [dict(zip(header, (c.value for c in row))) for row in book["问题清单"].iter_rows(min_row=3)]
    return result, rows, book


PLANTED = json.loads((SAMPLE / "planted_mistakes.json").read_text(encoding="utf-8"))


def test_the_sample_round_plants_mistakes_of_many_kinds():
    assert len({m["kind"] for m in PLANTED}) >= 10


@pytest.mark.parametrize("mistake", PLANTED, ids=[m["kind"] for m in PLANTED])
def test_every_planted_mistake_is_sent_back(cleaned, mistake):
    _, rows, _ = cleaned
    if mistake["kind"] == "missing_return":
        unit = next(u for u in rounds.load_round(config.SAMPLE_ROUND).units if u in mistake["description"])
        assert any(r["单位"] == unit and r["问题"] == "未报送" for r in rows)
        return
    hits = [r for r in rows
            if (r["文件"], r["工作表"], r["行号"]) == (mistake["file"], mistake["sheet"], mistake["row"])
            and mistake["column"] in (r["列（表头）"] or "")]
    assert hits, f"not in 退回修改清单: {mistake}"
    assert all(r["问题"] and r["修改建议"] for r in hits)
    # An extra column is worth a look (提示); everything else planted must be corrected (错误).
    expected = cleaning.HINT if mistake["kind"] == "unknown_header" else cleaning.ERROR
    assert {r["级别"] for r in hits} == {expected}


def test_no_mistake_is_reported_where_none_was_planted(cleaned):
    result, _, _ = cleaned
    errors = result.problems[(result.problems["severity"] == cleaning.ERROR)]
    planted = {(m["file"], m["sheet"], m["row"]) for m in PLANTED}
    unexpected = [p for p in errors.itertuples()
                  if p.code != "missing_return" and (p.file, p.sheet, p.row) not in planted]
    assert unexpected == []


def test_sample_ledger_reconciles_and_names_the_missing_unit(cleaned):
    result, _, book = cleaned
    cleaning.check_ledger(result)
    assert result.missing_units == ["农业农村厅"]
    assert [c.value for c in book["未报送单位"]["A"]][1:] == ["农业农村厅"]
    assert result.ledger["data_rows"].sum() > 1000


def test_every_layout_reaches_the_clean_table_as_drawn(cleaned):
    """One sheet per batch, group headings with 小计, three header rows, the money unit in a note, header
    synonyms, “—” for a not-started project's amount: each project is in the clean table once, with the
    batch, amounts and 开工 the world gave it (but where a value was planted wrong), and no heading is a project."""
    result, _, _ = cleaned
    world = sample.make_world(600, 2021).projects
    clean = result.tables["projects"]
    planted = {(m["file"], m["sheet"], m["row"]) for m in PLANTED}
    unnamed = [m for m in PLANTED if m["kind"] == "missing_name"]
    assert len(clean) == clean["project_code"].nunique() == len(world["code"]) - len(unnamed)
    assert not clean["project_name"].str.contains(r"^[一二三四五六七八九十]、|小计$|^（[一二三四五六七八九十]）").any()
    by_code = clean.set_index("project_code")
    checked = set()
    for i, code in enumerate(world["code"]):
        if code not in by_code.index:
            continue
        row = by_code.loc[code]
        if (row["file"], row["sheet"], row["row"]) in planted:
            continue
        assert row["batch"] == world["batch"][i], code
        assert row["annual_plan"] == pytest.approx(world["plan"][i]), code
        assert row["completed"] == pytest.approx(world["done"][i]), code
        assert bool(row["started"]) == world["started"][i], code
        assert pd.isna(row["issues"]) or row["issues"] == "", (code, row["issues"])
        checked.add(row["unit"])
    assert checked == set(sample.PROJECT_UNITS)
    # The values found around the table are shown in the 表头对照 output with where they came from.
    context = result.header_map[result.header_map["how"] == "表外信息"]
    notes = dict(zip(context["file"] + "|" + context["sheet"] + "|" + context["label"], context["note"]))
    assert notes["银川市/银川市重大项目进展情况表（11月）.xlsx|第一批|批次"].startswith("取自工作表名")
    assert "注：本表金额单位为亿元" in notes["中卫市/中卫市重大项目进展情况表.xlsx|中卫市|金额单位"]


def test_the_previous_round_reads_without_errors_and_keeps_every_project():
    """The same layouts without planted mistakes: nothing to send back, all 600 projects counted once."""
    round_ = rounds.load_round(sample.PREVIOUS.id)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    errors = result.problems[result.problems["severity"] == cleaning.ERROR]
    assert errors.empty, errors[["file", "sheet", "row", "problem"]].to_string()
    assert len(result.tables["projects"]) == result.tables["projects"]["project_code"].nunique() == 600
    cleaning.check_ledger(result)
