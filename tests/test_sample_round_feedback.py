"""The committed sample round: every planted mistake is in the feedback workbook, and the ledger reconciles."""
import json

import openpyxl
import pytest

from pipeline import paths as config, rounds, schemas
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
    hits = [r for r in rows if (r["文件"], r["工作表"], r["行号"]) == (mistake["file"], mistake["sheet"], mistake["row"])
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
    unexpected = [p for p in errors.itertuples() if p.code != "missing_return" and (p.file, p.sheet, p.row) not in planted]
    assert unexpected == []


def test_sample_ledger_reconciles_and_names_the_missing_unit(cleaned):
    result, _, book = cleaned
    cleaning.check_ledger(result)
    assert result.missing_units == ["农业农村厅"]
    assert [c.value for c in book["未报送单位"]["A"]][1:] == ["农业农村厅"]
    assert result.ledger["data_rows"].sum() > 1000
