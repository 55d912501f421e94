"""Step 1's artifacts (pipeline/ingest/artifacts.py): each has declared columns and one loader that checks them, and
nothing else in pipeline/ reads them."""
from __future__ import annotations

import ast

import pandas as pd
import pytest
from office import project_row, project_sheet, write_csv, write_round, write_xlsx

from pipeline import paths, rounds, schemas
from pipeline.ingest import artifacts, cleaning, corrections, quality, return_template

# The modules that may read a table file: the loaders of step 1's artifacts, corrections.csv/.parquet beside the
# corrections, step 2's report tables beside their declaration, and the returns themselves.
READERS = {"pipeline/ingest/artifacts.py", "pipeline/ingest/corrections.py", "pipeline/indicators/assembly.py",
           "pipeline/ingest/readers.py"}


def _round(root, write_return):
    raw = root / "data" / "raw" / "r"
    write_round(raw, ["银川市", "交通运输厅"])
    write_return(raw)
    result = cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)
    processed = paths.processed_round_dir("r", root)
    cleaning.save_clean(result, processed)
    return result, processed


def _xlsx_with_a_sheet_named_na(raw):
    """A sheet named “NA” (and a unit's folder): read by a plain read_csv, the ledger's “NA” would become empty."""
    grid, merges = project_sheet([project_row(1, "P1", "甲项目", done="约500"), project_row(2, "P1", "甲项目")])
    write_xlsx(raw / "银川市" / "附件1.xlsx", {"NA": grid}, {"NA": merges})


def _csv_return(raw):
    grid, _ = project_sheet([project_row(1, "P1", "甲项目"), project_row(2, "P2", "乙项目", start="2021-02-30")])
    write_csv(raw / "交通运输厅" / "None.csv", grid)


def _in_ns(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates in one resolution: parquet gives back datetime64[ms] for what was datetime64[s]."""
    dates = [c for c in frame if pd.api.types.is_datetime64_any_dtype(frame[c])]
    return frame.astype({c: "datetime64[ns]" for c in dates})


@pytest.mark.parametrize("write_return", [_xlsx_with_a_sheet_named_na, _csv_return], ids=["xlsx", "csv"])
def test_each_artifact_loads_as_step_1_wrote_it(tmp_path, write_return):
    result, processed = _round(tmp_path, write_return)
    pd.testing.assert_frame_equal(artifacts.load_problems(processed), result.problems)
    pd.testing.assert_frame_equal(artifacts.load_quarantine(processed), result.quarantine)
    pd.testing.assert_frame_equal(artifacts.load_header_map(processed), result.header_map)
    for kind, table in artifacts.load_clean_tables(processed).items():
        assert list(table.columns) == artifacts.clean_columns(schemas.RETURN_KINDS[kind])
        pd.testing.assert_frame_equal(_in_ns(table), _in_ns(result.tables[kind]))
    ledger = artifacts.load_ledger(processed)
    assert list(ledger.columns) == list(result.ledger.columns)
    assert ledger["file"].tolist() == result.ledger["file"].tolist()
    assert ledger["sheet"].fillna("").tolist() == result.ledger["sheet"].tolist()  # “NA” and “None” stay text
    assert ledger["kept"].tolist() == result.ledger["kept"].tolist()


def test_every_reader_of_the_ledger_sees_the_same_table(tmp_path):
    _, processed = _round(tmp_path, _xlsx_with_a_sheet_named_na)
    ledger = artifacts.load_ledger(processed)
    assert "NA" in set(ledger["sheet"])
    seen = quality.load_quality(processed, ["银川市", "交通运输厅"]).ledger
    pd.testing.assert_frame_equal(seen, ledger)
    assert return_template.kinds_for("银川市", ledger) == ["projects"]


def test_a_file_that_is_not_what_step_1_writes_is_named_with_what_to_do(tmp_path):
    _, processed = _round(tmp_path, _csv_return)
    ledger = pd.read_csv(processed / paths.LEDGER)
    ledger.drop(columns=["money_raw_wan"]).assign(extra_column=1).to_csv(processed / paths.LEDGER, index=False)
    said = "缺少列：money_raw_wan；多出列：extra_column.*make report ROUND=r"
    with pytest.raises(artifacts.ArtifactError, match=said):
        artifacts.load_ledger(processed)
    with pytest.raises(return_template.TemplateError, match="money_raw_wan"):
        return_template.write_templates("r", root=tmp_path)
    problems = pd.read_parquet(processed / paths.PROBLEMS)
    problems.rename(columns={"code": "kind"}).to_parquet(processed / paths.PROBLEMS, index=False)
    with pytest.raises(corrections.CorrectionsError, match="缺少列：code"):
        corrections.write_skeleton("r", tmp_path)
    table = pd.read_parquet(processed / "projects.parquet")
    table.drop(columns=["set_aside_wan"]).to_parquet(processed / "projects.parquet", index=False)
    with pytest.raises(artifacts.ArtifactError, match="projects.parquet.*set_aside_wan"):
        artifacts.load_clean_tables(processed)


def table_readers(root=paths.PROJECT_ROOT) -> set[str]:
    """The modules of pipeline/ (developer tools aside) that call a pandas read_csv or read_parquet."""
    found = set()
    for path in sorted((root / "pipeline").rglob("*.py")):
        if "devtools" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("read_csv", "read_parquet"):
                found.add(path.relative_to(root).as_posix())
    return found


def test_only_the_loaders_read_the_artifacts(tmp_path):
    assert table_readers() <= READERS, f"read an artifact through its loader (ingest/artifacts.py): {table_readers()}"
    planted = tmp_path / "pipeline" / "report" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text('import pandas as pd\nledger = pd.read_csv("ledger.csv")\n', encoding="utf-8")
    assert table_readers(tmp_path) == {"pipeline/report/planted.py"}
