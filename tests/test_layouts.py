"""Every return layout of tests/layouts.py, read through cleaning and the indicators, against the hand truth.

The truth comes from the rows each layout writes (tests/layouts.py), never from
what the cleaner does: the count of projects, Σ年度计划投资, Σ累计完成投资 and 开工率
(new-only and all projects) must come out as an analyst adding up the rows by
hand would get them, and the ledger must prove nothing was lost.
"""
from __future__ import annotations

import datetime as dt

import layouts
import openpyxl
import pandas as pd
import pytest
from layouts import P, Truth
from office import write_round

from pipeline import indicators, rounds, schemas
from pipeline.ingest import cleaning

MONEY_TOLERANCE_WAN = 0.01


def raw_dir(tmp_path):
    return tmp_path / "data" / "raw" / "r"


def clean(tmp_path, as_of: str, **extra) -> cleaning.RoundResult:
    write_round(raw_dir(tmp_path), layouts.ROUND_UNITS, as_of=as_of, **extra)
    return cleaning.clean_round(rounds.load_round("r", tmp_path), schemas.load_aliases(), echo=lambda *_: None)


def assert_ledger_reconciles(result: cleaning.RoundResult, truth: Truth) -> None:
    """Every data row kept or quarantined and every amount used or set aside, on every ledger row;
    and the data rows are exactly the projects written (no group, 小计, 合计 or note row counted as data)."""
    ledger = result.ledger
    for _, row in ledger.iterrows():
        where = f"{row['file']} / {row['sheet']}"
        assert row["data_rows"] == row["kept"] + row["quarantined"], where
        assert row["money_raw_wan"] == pytest.approx(row["money_kept_wan"] + row["money_set_aside_wan"],
                                                     abs=0.01), where
    sheets = ledger[ledger["file"].isin(truth.files)]
    assert int(sheets["data_rows"].sum()) == truth.projects
    assert int(sheets["kept"].sum()) == truth.projects
    assert int(sheets["quarantined"].sum()) == 0


def assert_matches_truth(result: cleaning.RoundResult, truth: Truth) -> pd.DataFrame:
    projects = result.tables["projects"]
    assert sorted(projects["project_name"]) == sorted(truth.names)
    assert len(projects) == truth.projects
    assert set(projects["unit"]) == {truth.unit}
    assert float(projects["annual_plan"].sum()) == pytest.approx(truth.annual_plan_wan, abs=MONEY_TOLERANCE_WAN)
    assert float(projects["completed"].sum()) == pytest.approx(truth.completed_wan, abs=MONEY_TOLERANCE_WAN)
    # Every project of a well-formed return has both amounts: nothing is silently missing from the sums.
    assert projects["annual_plan"].notna().all() and projects["completed"].notna().all()
    assert int(projects["started"].astype("boolean").fillna(False).sum()) == truth.started
    for label in truth.not_projects:
        assert label not in set(projects["project_name"]), f"{label} counted as a project"
    assert result.quarantine.empty, result.quarantine[["row", "reasons"]].to_string()
    return projects


def assert_start_rates(projects: pd.DataFrame, truth: Truth) -> None:
    tp = indicators.time_progress_pct(dt.date.fromisoformat(truth.as_of))
    for base, n, started in (("new", truth.start_base_new, truth.started_new),
                             ("all", truth.start_base_all, truth.started_all)):
        figures = indicators.project_figures(projects, tp, base)
        assert figures["projects"] == truth.projects
        assert (figures["start_base"], figures["start_base_started"]) == (n, started), base
        assert figures["start_rate_pct"] == pytest.approx(truth.start_rate(base)), base
        rate = truth.completed_wan / truth.annual_plan_wan * 100
        assert figures["completion_rate_pct"] == pytest.approx(rate, abs=1e-6)
        assert figures["vs_time_progress_pp"] == pytest.approx(rate - tp, abs=1e-6)


def errors_for(result: cleaning.RoundResult, truth: Truth) -> pd.DataFrame:
    """The 错误 a unit would be sent back for this return (a well-formed return has none)."""
    p = result.problems
    return p[p["file"].isin(truth.files) & (p["severity"] == cleaning.ERROR)]


def check_layout(tmp_path, truth: Truth, result: cleaning.RoundResult) -> pd.DataFrame:
    projects = assert_matches_truth(result, truth)
    assert_start_rates(projects, truth)
    assert_ledger_reconciles(result, truth)
    errors = errors_for(result, truth)
    assert errors.empty, errors[["row", "column", "value", "problem"]].to_string()
    return projects


@pytest.mark.parametrize("layout", sorted(layouts.PROJECT_LAYOUTS))
def test_layout_is_read_with_the_right_totals_counts_and_start_rate(tmp_path, layout):
    truth = layouts.PROJECT_LAYOUTS[layout](raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    check_layout(tmp_path, truth, result)


def test_sheet_per_batch_takes_the_batch_from_the_sheet_and_title(tmp_path):
    truth = layouts.sheet_per_batch(raw_dir(tmp_path))
    projects = check_layout(tmp_path, truth, clean(tmp_path, truth.as_of))
    assert projects["batch"].value_counts().to_dict() == truth.batches
    assert truth.batches == {"第一批": 3, "第二批": 3}


def test_not_started_projects_with_dash_slash_none_or_blank_count_with_zero(tmp_path):
    truth = layouts.not_started_placeholders(raw_dir(tmp_path))
    projects = check_layout(tmp_path, truth, clean(tmp_path, truth.as_of))
    not_started = projects[~projects["started"].astype("boolean").fillna(True)]
    assert len(not_started) == truth.projects - truth.started == 3
    assert (not_started["completed"] == 0).all()
    # 开工率 counts them in its denominator: 3 of 6 started (the one 续建 is left out under "new").
    assert truth.start_rate("all") == pytest.approx(50.0)
    assert truth.start_rate("new") == pytest.approx(2 / 5 * 100)


def test_money_in_yi_per_sheet_and_per_column_is_read_as_wan(tmp_path):
    truth = layouts.unit_row_far_right_yi(raw_dir(tmp_path))
    projects = check_layout(tmp_path, truth, clean(tmp_path, truth.as_of)).set_index("project_name")
    assert projects.loc["宁东基地煤制油副产品深加工", "annual_plan"] == pytest.approx(42000)
    assert projects.loc["宁东基地光伏制氢示范项目", "completed"] == pytest.approx(11200.8)


def test_per_column_money_units(tmp_path):
    truth = layouts.money_per_column(raw_dir(tmp_path))
    projects = check_layout(tmp_path, truth, clean(tmp_path, truth.as_of)).set_index("project_name")
    p = layouts.YINCHUAN[2]
    assert projects.loc[p.name, "total_investment"] == pytest.approx(p.total_wan)
    assert projects.loc[p.name, "completed"] == pytest.approx(p.done)


def test_synonym_headers_map_to_the_right_columns(tmp_path):
    truth = layouts.synonyms(raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    projects = check_layout(tmp_path, truth, result).set_index("project_name")
    hm = result.header_map
    assert {"file", "sheet", "written", "column", "how"} <= set(hm.columns)
    mapped = hm[hm["file"].isin(truth.files)]
    for written, column in truth.headers.items():
        rows = mapped[mapped["written"] == written]
        assert len(rows) == 1, (f"表头“{written}” not in header_map once: "
                                f"{mapped[['written', 'column']].to_dict('records')}")
        assert rows.iloc[0]["column"] == column, f"表头“{written}” mapped to {rows.iloc[0]['column']}, not {column}"
    # The pairs that must never be confused, by their values.
    p = layouts.YINCHUAN[0]
    assert projects.loc[p.name, "completed"] == pytest.approx(p.done)
    assert projects.loc[p.name, "stated_completion_pct"] == pytest.approx(round(p.done / p.plan * 100, 1))
    assert projects.loc[p.name, "total_investment"] == pytest.approx(p.total_wan)
    assert projects.loc[p.name, "annual_plan"] == pytest.approx(p.plan)
    assert projects.loc[p.name, "planned_start_date"] == pd.Timestamp(2021, 3, 1)
    assert projects.loc[p.name, "start_date"] == pd.Timestamp(layouts.start_date(p, 2021, 1))
    assert bool(projects.loc[p.name, "is_key"]) is True
    assert bool(projects.loc["贺兰山东麓葡萄酒庄集群配套道路", "is_key"]) is False
    assert bool(projects.loc["永宁县闽宁镇冷链物流园", "in_stats"]) is False


def test_location_synonym_and_started_words_in_xls(tmp_path):
    truth = layouts.location_synonym_xls(raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    projects = check_layout(tmp_path, truth, result)
    mapped = result.header_map[result.header_map["file"].isin(truth.files)]
    for written, column in truth.headers.items():
        assert mapped.loc[mapped["written"] == written, "column"].tolist() == [column], written
    assert list(projects["location"]) == [p.location for p in layouts.SHIZUISHAN]


def test_this_period_and_same_period_last_year_are_not_confused(tmp_path):
    expected = layouts.indicators_this_and_last_year(raw_dir(tmp_path))
    result = clean(tmp_path, "2021-11-30")
    table = result.tables["indicators"].set_index("indicator")
    for name, (now, last) in expected.items():
        assert table.loc[name, "current"] == pytest.approx(now), name
        assert table.loc[name, "last_year"] == pytest.approx(last), name
    mapped = result.header_map
    assert mapped.loc[mapped["written"] == "本期", "column"].tolist() == ["current"]
    assert mapped.loc[mapped["written"] == "上年同期", "column"].tolist() == ["last_year"]


def test_group_heading_amounts_that_disagree_with_their_rows_are_a_finding(tmp_path):
    truth = layouts.group_headings_with_amounts(raw_dir(tmp_path))
    path = raw_dir(tmp_path) / truth.files[0]
    book = openpyxl.load_workbook(path)
    ws = book.active
    heading_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "产业项目（3个）")
    ws.cell(heading_row, 5).value += 100  # the group's 年度计划 now says 100万元 more than its rows
    book.save(path)
    result = clean(tmp_path, truth.as_of)
    assert_matches_truth(result, truth)  # the heading's amounts never enter the totals
    mismatch = result.problems[result.problems["code"] == "total_mismatch"]
    assert mismatch["row"].tolist() == [heading_row]


@pytest.mark.parametrize("fmt", ["xls", "xlsx"])
def test_return_resaved_by_libreoffice(tmp_path, fmt):
    if layouts.soffice() is None:
        pytest.skip("LibreOffice (soffice) 未安装：apt-get install libreoffice-calc-nogui 后可运行此测试")
    truth = layouts.libreoffice_resaved(raw_dir(tmp_path), fmt)
    assert truth.files[0].endswith(f".{fmt}")
    check_layout(tmp_path, truth, clean(tmp_path, truth.as_of))


def test_several_layouts_in_one_round_add_up(tmp_path):
    """Six units, six layouts, one round: the round's totals are the sum of the returns' hand totals."""
    raw = raw_dir(tmp_path)
    truths = [layouts.hidden_helper_column(raw), layouts.total_last_yuan(raw), layouts.district_subtotals(raw),
              layouts.gb18030_csv(raw), layouts.three_row_header(raw), layouts.wps_inline_strings(raw)]
    truth = layouts.merge_truths(*truths)
    result = clean(tmp_path, "2021-11-30")
    projects = result.tables["projects"]
    assert len(projects) == truth.projects == 28
    assert float(projects["annual_plan"].sum()) == pytest.approx(truth.annual_plan_wan, abs=MONEY_TOLERANCE_WAN)
    assert float(projects["completed"].sum()) == pytest.approx(truth.completed_wan, abs=MONEY_TOLERANCE_WAN)
    assert projects.groupby("unit").size().to_dict() == {t.unit: t.projects for t in truths}
    assert_ledger_reconciles(result, truth)
    figures = indicators.project_figures(projects, indicators.time_progress_pct(dt.date(2021, 11, 30)), "new")
    assert figures["start_rate_pct"] == pytest.approx(truth.start_rate("new"))


def test_hand_truth_of_a_small_list():
    """The truth helper itself: two new projects (one started) and one 续建."""
    t = layouts.truth_of("甲市", "2021-06-30",
                         [P("a", 100, 40), P("b", 50, 0, started=False), P("c", 10, 5, nature="续建")])
    assert (t.projects, t.started, t.start_base_new, t.started_new, t.start_base_all) == (3, 2, 2, 1, 3)
    assert (t.annual_plan_wan, t.completed_wan) == (160, 45)
    assert t.start_rate("new") == 50.0 and t.start_rate("all") == pytest.approx(200 / 3)


def test_a_hidden_stale_sheet_before_the_live_one_is_not_counted(tmp_path):
    """The live sheet 11月 is the return; the hidden 10月 copy must neither replace it nor double it."""
    truth = layouts.hidden_stale_sheet(raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    projects = result.tables["projects"]
    assert sorted(projects["project_name"]) == sorted(truth.names)
    assert float(projects["completed"].sum()) == pytest.approx(truth.completed_wan, abs=MONEY_TOLERANCE_WAN)
    assert float(projects["annual_plan"].sum()) == pytest.approx(truth.annual_plan_wan, abs=MONEY_TOLERANCE_WAN)
    assert set(projects["sheet"]) == {"11月"}


def test_a_corrected_resend_replaces_the_original(tmp_path):
    """“（修改版）” beside the original: each project once, with the corrected figures."""
    truth = layouts.corrected_resend(raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    projects = result.tables["projects"]
    assert sorted(projects["project_name"]) == sorted(truth.names)
    assert float(projects["completed"].sum()) == pytest.approx(truth.completed_wan, abs=MONEY_TOLERANCE_WAN)
    assert set(projects["file"]) == {truth.files[1]}


def test_a_started_project_with_dash_stays_a_project_and_its_amount_is_an_error(tmp_path):
    truth, name = layouts.started_with_dash(raw_dir(tmp_path))
    result = clean(tmp_path, truth.as_of)
    projects = result.tables["projects"].set_index("project_name")
    assert len(projects) == truth.projects
    assert pd.isna(projects.loc[name, "completed"])
    assert float(projects["completed"].sum()) == pytest.approx(truth.completed_wan, abs=MONEY_TOLERANCE_WAN)
    assert float(projects["annual_plan"].sum()) == pytest.approx(truth.annual_plan_wan, abs=MONEY_TOLERANCE_WAN)
    errors = errors_for(result, truth)
    row = int(projects.loc[name, "row"])
    assert errors["row"].tolist() == [row]
    ledger = result.ledger[result.ledger["file"].isin(truth.files)]
    assert ledger["kept_with_problems"].sum() == 1
    assert ledger["data_rows"].sum() == ledger["kept"].sum() == truth.projects


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_formulas_saved_with_their_values_by_libreoffice(tmp_path, fmt):
    """合计 and 完成率 as formulas, values cached by LibreOffice: read like typed values, the 合计 checked, not
    counted."""
    if layouts.soffice() is None:
        pytest.skip("LibreOffice (soffice) 未安装：apt-get install libreoffice-calc-nogui 后可运行此测试")
    truth = layouts.formulas_resaved_by_libreoffice(raw_dir(tmp_path), fmt)
    result = clean(tmp_path, truth.as_of)
    check_layout(tmp_path, truth, result)
    assert not (result.problems["code"] == "total_mismatch").any()


def test_formulas_without_cached_values_leave_the_typed_project_amounts(tmp_path):
    """Written by a program (openpyxl), the 合计 and 完成率 formulas have no stored value: the projects' typed
    amounts are still the return, and the 合计 row is still no project."""
    layouts.formulas(raw_dir(tmp_path))
    truth = layouts.truth_of("固原市", "2021-11-30", layouts.GUYUAN, ("固原市_公式.xlsx",), not_projects=("合计",))
    result = clean(tmp_path, truth.as_of)
    assert_matches_truth(result, truth)
    assert_ledger_reconciles(result, truth)


def test_growth_rates_typed_as_percent_cells_read_as_percent(tmp_path):
    """Excel stores 0.085 and shows 8.5%: the growth is 8.5 (%), not 0.085."""
    expected = layouts.fai_percent_cells(raw_dir(tmp_path))
    result = clean(tmp_path, "2021-10-31")
    fai = result.tables["fai"].set_index("region")
    for region, (now, last) in expected.items():
        assert fai.loc[region, "yoy_pct"] == pytest.approx(now), region
        assert fai.loc[region, "last_yoy_pct"] == pytest.approx(last), region


DONE_HEADERS = ["1-{m}月完成投资", "1—{m}月完成", "1～{m}月累计完成投资", "1至{m}月完成投资", "截至{m}月底完成投资",
                "{m}月底累计完成"]
PLAN_HEADERS = ["2021年计划投资", "年度投资计划", "今年计划", "本年度计划投资", "2021年度计划投资"]


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("done", DONE_HEADERS,
                         ids=["1-m", "1em-dash-m", "1tilde-m", "1zhi-m", "jiezhi-m-yuedi", "m-yuedi"])
def test_every_month_span_header_is_the_completion_column(tmp_path, month, done):
    """One pattern covers “1-N月完成投资” for every N, however the span is written."""
    header = done.format(m=month)
    plan = PLAN_HEADERS[month % len(PLAN_HEADERS)]
    truth = layouts.period_headers(raw_dir(tmp_path), plan, header, month)
    result = clean(tmp_path, truth.as_of)
    check_layout(tmp_path, truth, result)
    mapped = result.header_map[result.header_map["file"].isin(truth.files)]
    for written, column in truth.headers.items():
        assert mapped.loc[mapped["written"] == written, "column"].tolist() == [column], written
