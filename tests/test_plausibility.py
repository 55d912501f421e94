"""Amounts in the wrong money unit that look plausible on their own sheet (issue 10): caught against the previous
round's figures for the same projects, against the other units' returns, and within a project.

Every case is a real return file, written as offices write them (two-row merged header, unit row, footer), some
re-saved by LibreOffice. Each test checks the message to the unit, that the doubtful amounts are left out of the
sums (and counted as set aside in the ledger), that the rows themselves are kept, and that raw files are untouched.
"""
from __future__ import annotations

import hashlib

import pytest
from conftest import clean_and_save
from layouts import libreoffice_convert, soffice
from office import project_row, project_sheet, write_csv, write_round, write_xlsx
from test_corrections import write_corrections

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, plausibility, quality
from pipeline.ingest import corrections as corr

UNITS = ["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"]
# Last round's projects of 银川市 (万元): code, name, total investment, annual plan, completed.
BEFORE = [("P1", "甲项目", 20000, 6000, 2000), ("P2", "乙项目", 9000, 4000, 1000),
          ("P3", "丙项目", 50000, 12000, 3000), ("P4", "丁项目", 12000, 5000, 800)]


def digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def project_return(path, rows, *, unit_row="单位：万元", scale=1.0, completed_now=1.5):
    """银川市's return of BEFORE's projects, each amount multiplied by scale (a unit mistake) unless per-row."""
    grid_rows = []
    for i, (code, name, total, plan, done) in enumerate(rows, 1):
        factor = scale[i - 1] if isinstance(scale, list) else scale
        grid_rows.append(project_row(i, code, name, total=total * factor, plan=plan * factor,
                                     done=done * completed_now * factor))
    grid, merges = project_sheet(grid_rows, unit_row=unit_row, footer="填报单位：银川市")
    return write_xlsx(path, {"第一批": grid}, {"第一批": merges})


def two_rounds(tmp_path, scale, *, unit_row="单位：万元", fmt=None):
    """2021-09 (cleaned and saved, as its step 1 would) and 2021-12 with 银川市's amounts scaled; cleaned."""
    before = write_round(tmp_path / "data" / "raw" / "2021-09", ["银川市"], as_of="2021-08-31")
    project_return(before / "银川市" / "项目进展.xlsx", BEFORE)
    clean_and_save("2021-09", tmp_path)
    raw = write_round(tmp_path / "data" / "raw" / "2021-12", ["银川市"], previous="2021-09")
    path = project_return(raw / "银川市" / "项目进展（11月）.xlsx", BEFORE, unit_row=unit_row, scale=scale)
    if fmt:  # re-saved by LibreOffice, as an office that opens and saves the template there sends it
        source = tmp_path / "libreoffice-src"
        source.mkdir()
        moved = path.rename(source / path.name)
        libreoffice_convert(moved, raw / "银川市", fmt)
    untouched = digest(raw)
    result = clean(tmp_path, "2021-12")
    assert digest(raw) == untouched
    return result


def clean(root, round_id):
    round_ = rounds.load_round(round_id, root)
    previous = cleaning.cleaned_tables(round_.previous, root) if round_.previous else None
    return cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None, previous=previous)


def problems_of(result, code):
    return result.problems[result.problems["code"] == code]


def assert_left_out(result, rows: int):
    projects = result.tables["projects"]
    assert len(projects) == rows  # every project kept
    assert projects["annual_plan"].isna().all() and projects["total_investment"].isna().all()
    ledger = result.ledger[result.ledger["return_kind"] == "projects"]
    assert ledger["money_kept_wan"].sum() == 0
    assert ledger["money_set_aside_wan"].sum() == pytest.approx(ledger["money_raw_wan"].sum())
    cleaning.check_ledger(result)


# --------------------------------------------------------------------------- against the previous round


@pytest.mark.parametrize("scale, unit_row, factor", [
    (10, "单位：万元", "10倍"),  # filled in 千元 under a 万元 unit row: plausible on its own
    (10, "单位：元", "千分之一"),  # filled in 千元 under a 元 unit row: read a thousand times too small
    (0.1, "单位：万元", "十分之一"),  # filled in 十万元? or a decimal slip on every row: too small by ten
])
def test_a_sheet_off_by_a_power_of_ten_from_last_round_is_asked_and_left_out(tmp_path, scale, unit_row, factor):
    result = two_rounds(tmp_path, scale, unit_row=unit_row)
    found = problems_of(result, "implausible_vs_previous")
    assert len(found) == 1
    problem = found.iloc[0]
    assert problem["severity"] == "错误" and problem["unit"] == "银川市" and problem["column"] == "总投资"
    assert f"4个的总投资约为上一轮的{factor}" in problem["problem"] and "本表金额未计入合计" in problem["problem"]
    assert "请确认金额单位" in problem["fix"]
    assert_left_out(result, 4)
    assert result.tables["projects"]["issues"].str.contains("与上一轮相比").all()
    # The report's data-quality box: the unit is named, the amounts counted as left out.
    q = quality.assess(result.ledger, result.problems, result.quarantine, result.tables, ["银川市"])
    assert not q.complete and q.excluded_units == ["银川市"]
    assert q.excluded_wan == pytest.approx(result.ledger["money_raw_wan"].sum())


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_the_same_mistake_in_a_return_re_saved_by_libreoffice(tmp_path, fmt):
    result = two_rounds(tmp_path, 10, fmt=fmt)
    assert len(problems_of(result, "implausible_vs_previous")) == 1
    assert_left_out(result, 4)


def test_one_project_typed_in_yuan_is_left_out_alone(tmp_path):
    result = two_rounds(tmp_path, [1, 10_000, 1, 1])
    found = problems_of(result, "implausible_row")
    assert found[["row", "severity"]].values.tolist() == [[6, "错误"]]
    assert "约为上一轮（2021-09）同一项目（9,000.00万元）的1万倍" in found.iloc[0]["problem"]
    projects = result.tables["projects"].set_index("project_code")
    assert projects["annual_plan"].isna().tolist() == [False, True, False, False]
    assert projects.loc["P1", "annual_plan"] == 6000
    assert problems_of(result, "implausible_vs_previous").empty
    cleaning.check_ledger(result)


def test_real_changes_between_rounds_are_not_doubted(tmp_path):
    # Totals revised by a fifth, one project doubled, one ×10 (its scope grew): no factor most rows share.
    result = two_rounds(tmp_path, [1.2, 2, 1, 10])
    assert problems_of(result, "implausible_vs_previous").empty and problems_of(result, "implausible_row").empty
    assert result.tables["projects"]["annual_plan"].notna().all()


def test_a_sheet_already_doubted_on_its_own_is_not_asked_twice(tmp_path):
    result = two_rounds(tmp_path, 10_000)  # in 元 under 万元: every amount over 100亿元, the sheet's own check
    assert len(problems_of(result, "implausible_unit")) == 1
    assert problems_of(result, "implausible_vs_previous").empty
    assert_left_out(result, 4)


def test_without_a_previous_round_nothing_is_compared(tmp_path):
    raw = write_round(tmp_path / "data" / "raw" / "2021-12", ["银川市"])
    project_return(raw / "银川市" / "项目进展.xlsx", BEFORE, scale=10)
    result = clean(tmp_path, "2021-12")
    assert problems_of(result, "implausible_vs_previous").empty
    assert result.tables["projects"]["annual_plan"].sum() == 10 * sum(p[3] for p in BEFORE)


def test_a_keep_line_accepts_a_sheet_doubted_against_last_round(tmp_path):
    result = two_rounds(tmp_path, 10)
    problem = problems_of(result, "implausible_vs_previous").iloc[0]
    write_corrections(tmp_path / "data" / "raw" / "2021-12", [
        [problem["file"], problem["sheet"], problem["row"], problem["column"], "", corr.KEEP,
         "已电话核实：本轮项目调整",
         "李四", "2021-12-03"]])
    again = clean(tmp_path, "2021-12")
    kept = problems_of(again, "implausible_vs_previous").iloc[0]
    assert kept["severity"] == "提示" and "已按更正记录保留原值，依据：已电话核实" in kept["problem"]
    assert problems_of(again, corr.NOT_APPLIED).empty  # the file's own settling said "nothing to keep": withdrawn
    assert again.tables["projects"]["annual_plan"].sum() == 10 * sum(p[3] for p in BEFORE)
    assert again.corrections["new"].tolist() == [corr.KEEP]


# --------------------------------------------------------------------------- against the other units


def attraction_csv(path, unit, amounts, header="合同投资额（万元）"):
    rows = [["项目名称", "签约时间", header, "本年到位资金"]]
    rows += [[f"{unit}招商项目{i}", "2021.5.1", f"{a:g}", ""] for i, a in enumerate(amounts, 1)]
    rows += [[f"填报单位：{unit}"]]
    return write_csv(path, rows)


def test_one_units_attraction_sheet_a_thousand_times_the_others_is_asked(tmp_path):
    raw = write_round(tmp_path / "data" / "raw" / "2021-12", UNITS)
    for i, unit in enumerate(UNITS[1:]):
        attraction_csv(raw / unit / "招商引资.csv", unit, [200 + 50 * i, 300, 450, 800])
    # 银川市 typed 元 under a 千元 header: 3,000,000 元 read as 300,000 万元 (30亿元: plausible on its own).
    attraction_csv(raw / "银川市" / "招商引资.csv", "银川市", [3_000_000, 2_500_000, 4_000_000], "合同投资额（千元）")
    result = clean(tmp_path, "2021-12")
    found = problems_of(result, "implausible_vs_units")
    assert found["unit"].tolist() == ["银川市"] and found.iloc[0]["column"] == "合同投资额"
    assert "约为其他4份同类报表中位数（375.00万元）的1000倍" in found.iloc[0]["problem"]
    attraction = result.tables["attraction"]
    assert attraction.loc[attraction["unit"] == "银川市", "contract_investment"].isna().all()
    assert attraction.loc[attraction["unit"] != "银川市", "contract_investment"].notna().all()
    cleaning.check_ledger(result)


def test_units_of_different_sizes_are_not_doubted(tmp_path):
    raw = write_round(tmp_path / "data" / "raw" / "2021-12", UNITS)
    for i, unit in enumerate(UNITS):  # typical signings from 50万元 to 5亿元: a hundredfold, no more
        attraction_csv(raw / unit / "招商引资.csv", unit, [50 * 10 ** (i / 2) * k for k in (1, 2, 3)])
    result = clean(tmp_path, "2021-12")
    assert problems_of(result, "implausible_vs_units").empty


# --------------------------------------------------------------------------- within a project


def test_an_annual_plan_a_ten_thousandth_of_the_total_is_asked_and_kept(tmp_path):
    raw = write_round(tmp_path / "data" / "raw" / "2021-12", ["银川市"])
    grid, merges = project_sheet([project_row(1, "P1", "甲项目", total=50000, plan=2, done=1),  # 2 meant 2亿元
                                  project_row(2, "P2", "乙项目", total=50000, plan=2000, done=1)],
                                  footer="填报单位：银川市")
    write_xlsx(raw / "银川市" / "项目.xlsx", {"项目": grid}, {"项目": merges})
    result = clean(tmp_path, "2021-12")
    found = problems_of(result, "plan_far_below_total")
    assert found[["row", "column", "severity"]].values.tolist() == [[5, "年度计划投资", "错误"]]
    assert "仅为总投资（50,000.00万元）的0.00400%" in found.iloc[0]["problem"]
    assert result.tables["projects"]["annual_plan"].tolist() == [2, 2000]


def test_factor_words():
    assert [plausibility.factor_text(k) for k in (1, 3, 4, -1, -4, 6)] == [
        "10倍", "1000倍", "1万倍", "十分之一", "万分之一", "10的6次方倍"]


def test_the_bundled_sample_rounds_have_no_unit_doubts(tmp_path):
    import shutil

    from pipeline import paths
    for round_id in ("2021-09", "2021-12"):
        shutil.copytree(paths.raw_round_dir(round_id), tmp_path / "data" / "raw" / round_id)
    clean_and_save("2021-09", tmp_path)
    result = clean(tmp_path, "2021-12")
    codes = set(result.problems["code"])
    assert not codes & {"implausible_vs_previous", "implausible_row", "implausible_vs_units"}, \
        result.problems[result.problems["code"].str.startswith("implausible")].to_string()
