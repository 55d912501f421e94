"""The report tables are declared once (pipeline/indicators/tables.csv, table_columns.csv): labels, sources and docs
come from the declaration, and a table that is not as declared is refused when saved and when loaded."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline import indicators as ind
from pipeline import paths as config
from pipeline.indicators import sources, tables
from pipeline.report import render as report


def by_batch(**changes) -> pd.DataFrame:
    """A by_batch table as step 2 makes it: two batches of all projects."""
    frame = pd.DataFrame({
        "scope": ["全部项目", "全部项目"], "batch": ["第一批", "第二批"], "projects": [3, 2], "started": [2, 2],
        "not_started": [1, 0], "start_base": [3, 2], "start_base_started": [2, 2], "start_rate_pct": [66.7, 100.0],
        "plan_yi": [1.5, 0.8], "completed_yi": [1.2, 0.3], "completion_rate_pct": [80.0, 37.5],
        "vs_time_progress_pp": [-3.3, -45.8]})
    return frame.assign(**changes)


def test_the_docs_list_every_declared_table_and_are_generated_from_the_declaration():
    docs = (config.PROJECT_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert tables.with_generated(docs) == docs, "docs/indicators.md is out of date: run make docs"
    for name, table in tables.DECLARED.items():
        assert f"### `{name}` {table.label}" in docs
        assert all(f"| `{c.name}` | {c.label} |" in docs for c in table.columns), name


def test_the_reports_headers_and_the_sources_entries_are_the_declaration():
    for name, columns in report.TABLES.items():
        declared = tables.DECLARED[name]
        assert [(c.name, c.label, c.kind) for c in columns] == [(c.name, c.label, c.kind) for c in declared.shown]
    assert set(sources.TABLE_SOURCES) == {n for n, t in tables.DECLARED.items() if t.formula}
    attraction = sources.TABLE_SOURCES["attraction_by_unit"]
    assert attraction.label == "各地招商引资情况" and attraction.by == ("单位", "unit")
    assert attraction.columns["contract_yi"] == ("“合同投资额(万元)”之和 ÷ 10000", "sum_yi", "合同投资额(万元)")
    # the one label of a column, whatever shows it: the report's header is the notebook's
    assert ind.labelled(by_batch(), "by_batch").columns[:4].tolist() == ["范围", "批次", "项目数", "已开工"]
    frame = pd.DataFrame({"unit": ["银川市"], "concentrated_projects": [2], "chain_projects": [1]})
    assert ind.labelled(frame, "attraction_by_unit").columns.tolist() == ["单位", "集中签约", "延链补链强链"]
    assert ind.TABLE_NAMES == tuple(n for n, t in tables.DECLARED.items() if t.step == 2)


def test_a_table_as_declared_passes_and_so_do_empty_or_unfilled_columns():
    assert tables.check("by_batch", by_batch()) is not None
    empty = pd.DataFrame({c.name: pd.Series(dtype=object) for c in tables.DECLARED["by_batch"].stored})
    tables.check("by_batch", empty)  # an empty table holds no value of a wrong type
    tables.check("by_batch", by_batch(start_rate_pct=float("nan"), projects=pd.array([3, 2], dtype="Int64")))
    # a count with a gap (a unit without a previous round) is a float of whole numbers; an amount may be an integer
    tables.check("by_batch", by_batch(projects=[3.0, float("nan")], plan_yi=[2, 1]))


@pytest.mark.parametrize(("frame", "words"), [
    (by_batch(projects=["3", "2"]), ["列 projects（项目数）应为整数", "实际为"]),
    (by_batch(projects=[3.5, float("nan")]), ["列 projects（项目数）应为整数", "实际为 float64"]),
    (by_batch(scope=[1, 2]), ["列 scope（范围）应为文字"]),
    (by_batch(completed_yi=["1.2亿", "0.3"]), ["列 completed_yi（累计完成投资(亿元)）应为数值"]),
    (by_batch().drop(columns=["started"]), ["缺少列：started（已开工）"]),
    (by_batch(extra=1), ["多出未声明的列：extra"]),
])
def test_a_table_not_as_declared_is_refused_in_chinese_naming_the_table_and_the_column(frame, words):
    with pytest.raises(tables.TableError) as err:
        tables.check("by_batch", frame)
    message = str(err.value)
    assert "分批次开工和投资完成情况" in message and "by_batch" in message and "table_columns.csv" in message
    assert all(w in message for w in words), message


def test_tables_are_checked_when_saved_and_when_loaded(tmp_path):
    with pytest.raises(tables.TableError, match="保存时"):
        ind.save_tables({"by_batch": by_batch(projects=[3.5, 2.0])}, tmp_path)
    assert not (tmp_path / "by_batch.parquet").exists()
    good = {name: pd.DataFrame({c.name: pd.Series(dtype=object) for c in tables.DECLARED[name].stored})
            for name in ind.TABLE_NAMES}
    good["by_batch"] = by_batch()
    ind.save_tables(good, tmp_path)
    assert ind.load_report_tables(tmp_path)["by_batch"]["projects"].tolist() == [3, 2]
    # a table changed after step 2 wrote it (by hand, or by an older version): refused when step 4 reads it
    by_batch(projects=["三", "二"]).to_parquet(tmp_path / "by_batch.parquet", index=False)
    with pytest.raises(tables.TableError, match="读取时.*列 projects（项目数）应为整数"):
        ind.load_report_tables(tmp_path)


def test_number_columns_pandas_left_as_objects_are_saved_with_their_dtype(tmp_path):
    """0 key projects: the key rows' frame is empty (object columns), and concatenated with the rest its counts are
    objects; saved, they are integers again. Text in a number column is still refused."""
    empty = pd.DataFrame(columns=by_batch().columns)
    concatenated = pd.concat([by_batch(), empty], ignore_index=True)
    assert concatenated["projects"].dtype == object
    with pytest.raises(tables.TableError):  # as made: refused by the check alone
        tables.check("by_batch", concatenated)
    typed = tables.typed("by_batch", concatenated)
    assert typed["projects"].dtype == "int64" and typed["start_rate_pct"].dtype == "float64"
    lights = pd.DataFrame({"industry": ["枸杞", "其他"], "nine": pd.Series([True, False], dtype=object),
                           "projects": pd.Series([2, 1], dtype=object), "contract_yi": [1.5, 0.2],
                           "funds_in_place_yi": [0.5, None], "share_pct": [66.7, 33.3]})
    assert tables.typed("attraction_by_industry", lights)["nine"].dtype == bool
    with pytest.raises(tables.TableError, match="列 projects（项目数）应为整数"):
        tables.typed("by_batch", by_batch(projects=pd.Series(["3", "2"], dtype=object)))
    saved = {name: pd.DataFrame({c.name: pd.Series(dtype=object) for c in tables.DECLARED[name].stored})
             for name in ind.TABLE_NAMES}
    ind.save_tables({**saved, "by_batch": concatenated}, tmp_path)
    assert ind.load_report_tables(tmp_path)["by_batch"]["projects"].dtype == "int64"
