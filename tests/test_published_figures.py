"""Published progress figures reproduced through returns: printed inputs in, printed results out.

Each set of /work/shared/PUBLISHED_FIGURES.md (and one more found in public pages)
prints both its inputs (年度计划, 完成, project counts) and its results (投资完成率,
gap to 时间进度, 开工率). The printed totals are split across many projects in two
or three returns from different units, each laid out differently (tests/layouts.py),
run through cleaning and the indicators with the set's own conventions, and
compared with what was published. Where a result was printed from rounded inputs,
the comparison allows ±0.05 points, as the note on each set says.

The corpus's returns carry 2021 dates, so each round is put in 2021 at the
published cut-off month; only the month enters the figures (时间进度 = m / 12).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import layouts
import pytest
from layouts import projects_for
from office import write_round

from pipeline import indicators, rounds, schemas
from pipeline.ingest import cleaning


def run_round(tmp_path, units: list[str], as_of: str, returns, start_rate_base: str = "new"):
    """Write each (layout, unit, projects) return into one round, clean it; the projects table and the truth."""
    raw = tmp_path / "data" / "raw" / "r"
    truths = [layout(raw, projects, unit=unit) for layout, unit, projects in returns]
    write_round(raw, units, as_of=as_of, start_rate_base=start_rate_base)
    round_ = rounds.load_round("r", tmp_path)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    cleaning.check_ledger(result)
    projects = result.tables["projects"]
    truth = layouts.merge_truths(*truths)
    # The returns were read whole: every project written, in its own unit, nothing quarantined.
    assert len(projects) == truth.projects
    assert result.quarantine.empty, result.quarantine[["file", "row", "reasons"]].to_string()
    assert projects.groupby("unit").size().to_dict() == {t.unit: t.projects for t in truths}
    return round_, result, projects


def figures(projects, as_of: str, base: str):
    return indicators.project_figures(projects, indicators.time_progress_pct(dt.date.fromisoformat(as_of)), base)


def test_jiangmen_1_to_10_gap_from_unrounded_values(tmp_path):
    """江门市, 1–10月: 年度计划647.4亿元, 完成629.0亿元 → 97.2%, 超过时间进度13.8个百分点; 计划开工255个, 已开工206个
    → 80.8%. The gap is taken from unrounded values: 97.157… − 83.333… = 13.82; from the rounded 97.2 − 83.3 it
    would read 13.9. Source: 江门市发展和改革局, 重点项目建设进展 (also at
    https://rajayuj.com/bmpd/jmsfzhggj/zdlyxxgk/zdjsxmxxgk/zdxmjz/content/post_1860276.html)."""
    as_of = "2021-10-31"
    a = projects_for("蓬江区", 90, 71, 2_318_000, 2_186_500, seed=1)
    b = projects_for("新会区", 100, 85, 3_005_000.5, 2_930_000.25, seed=2)
    c = projects_for("台山市", 65, 50, 6_474_000 - 2_318_000 - 3_005_000.5, 6_290_000 - 2_186_500 - 2_930_000.25,
                     seed=3)
    round_, result, projects = run_round(tmp_path, ["蓬江区", "新会区", "台山市"], as_of, [
        (layouts.unit_row_far_right_yi, "蓬江区", a),   # 亿元, unit row at the far right
        (layouts.district_subtotals, "新会区", b),      # group headings and 小计 rows
        (layouts.wps_inline_strings, "台山市", c),      # WPS inline strings, amounts as text with separators
    ], start_rate_base="all")
    f = figures(projects, as_of, "all")
    assert f["projects"] == 255 and f["started"] == 206
    assert f["plan_yi"] == pytest.approx(647.4, abs=1e-6)
    assert f["completed_yi"] == pytest.approx(629.0, abs=1e-6)
    assert round(f["completion_rate_pct"], 1) == 97.2
    assert f["vs_time_progress_pp"] == pytest.approx(629.0 / 647.4 * 100 - 10 / 12 * 100, abs=1e-9)
    assert round(f["vs_time_progress_pp"], 1) == 13.8  # not 13.9, the gap of the rounded figures
    assert round(f["start_rate_pct"], 1) == 80.8
    # The same through the round's indicators.json values.
    values = indicators.compute_indicators(round_, result.tables)
    assert round(values["batch.completion_rate_pct"], 1) == 97.2
    assert round(values["batch.vs_time_progress_pp"], 1) == 13.8
    assert round(values["batch.start_rate_pct"], 1) == 80.8
    assert values["batch.plan_yi"] == pytest.approx(647.4, abs=1e-6)


def test_jiangmen_2013_1_to_4_behind_time_progress(tmp_path):
    """江门市, 2013年1–4月: 年度计划401.9亿元, 完成107.4亿元 → 26.7%, “比时间进度慢了6.6个百分点”
    (time progress 4/12)."""
    as_of = "2021-04-30"
    a = projects_for("江海区", 40, 40, 1_500_000, 402_000, seed=4)
    b = projects_for("开平市", 55, 55, 4_019_000 - 1_500_000, 1_074_000 - 402_000, seed=5)
    _, _, projects = run_round(tmp_path, ["江海区", "开平市"], as_of, [
        (layouts.total_last_yuan, "江海区", a),   # 元, 总计 last
        (layouts.money_per_column, "开平市", b),  # each money column states its own unit
    ])
    f = figures(projects, as_of, "new")
    assert round(f["completion_rate_pct"], 1) == 26.7
    assert round(f["vs_time_progress_pp"], 1) == -6.6


def test_lufeng_three_quarters_two_decimals_and_start_rate_over_all(tmp_path):
    """陆丰市, 前三季度: 年度计划130.16亿元, 完成151.88亿元 → 116.69% (above 100%); 82个项目, 已开工76个 → 开工率92.68%,
    over all projects, 续建 included. Source: 汕尾日报, http://www.swcszx.com/article-14987-1.html."""
    as_of = "2021-09-30"
    new_a = projects_for("东海镇", 30, 26, 420_000, 510_000, seed=6)
    cont_a = projects_for("东海镇", 12, 12, 180_000, 230_000, nature="续建", seed=7)
    new_b = projects_for("碣石镇", 25, 23, 380_000, 430_000, seed=8)
    cont_b = projects_for("碣石镇", 15, 15, 1_301_600 - 420_000 - 180_000 - 380_000,
                          1_518_800 - 510_000 - 230_000 - 430_000,
                          nature="续建", seed=9)
    _, _, projects = run_round(tmp_path, ["东海镇", "碣石镇"], as_of, [
        (layouts.group_headings_with_amounts, "东海镇", new_a + cont_a),  # 一/1.1 numbering, headings with amounts
        (layouts.total_first, "碣石镇", new_b + cont_b),                  # 合计 right under the header
    ], start_rate_base="all")
    f = figures(projects, as_of, "all")
    assert (f["projects"], f["started"]) == (82, 76)
    assert round(f["completion_rate_pct"], 2) == 116.69
    assert round(f["start_rate_pct"], 2) == 92.68
    # Under the other convention (续建 out of the denominator) the published 92.68% would not come out.
    assert round(figures(projects, as_of, "new")["start_rate_pct"], 2) != 92.68


def test_wujin_2017_new_and_continuing_separately_start_rate_over_new_only(tmp_path):
    """常州市武进区, 2017年1–9月: 新建 计划246.5亿元, 完成153.7亿元, 185个, 已开工160个 → 62.4%,
    开工率86.5% (新建 only);
    续建 计划253.9亿元, 完成213.3亿元 → 84.0%."""
    as_of = "2021-09-30"
    new_a = projects_for("湖塘镇", 100, 88, 1_300_000, 820_000, seed=10)
    new_b = projects_for("牛塘镇", 85, 72, 2_465_000 - 1_300_000, 1_537_000 - 820_000, seed=11)
    cont_a = projects_for("湖塘镇", 40, 40, 1_100_000, 950_000, nature="续建", seed=12)
    cont_b = projects_for("牛塘镇", 35, 33, 2_539_000 - 1_100_000, 2_133_000 - 950_000, nature="续建", seed=13)
    _, _, projects = run_round(tmp_path, ["湖塘镇", "牛塘镇"], as_of, [
        (layouts.instructions_and_notes, "湖塘镇", new_a + cont_a),  # 填表说明 above, 注 below
        (layouts.nested_groups_in_seq_column, "牛塘镇", new_b + cont_b),  # 一 / （一） / 1 in the 序号 column
    ], start_rate_base="new")
    new = figures(projects[projects["nature"] == "新建"], as_of, "new")
    cont = figures(projects[projects["nature"] == "续建"], as_of, "new")
    whole = figures(projects, as_of, "new")
    assert (new["projects"], new["started"]) == (185, 160)
    assert round(new["completion_rate_pct"], 1) == 62.4
    assert round(cont["completion_rate_pct"], 1) == 84.0
    assert round(new["start_rate_pct"], 1) == 86.5
    assert round(whole["start_rate_pct"], 1) == 86.5  # the 续建 projects stay out of the denominator


def test_liannan_rounded_inputs_and_whole_number_start_rate(tmp_path):
    """连南县, 1–5月: 年度计划17.68亿元, 完成4.28亿元 → printed 24.25% (the printed, rounded inputs give 24.21%);
    50个项目, 开工33个 → 开工率66% over all projects."""
    as_of = "2021-05-31"
    a = projects_for("三江镇", 28, 19, 98_000, 23_500, seed=14)
    b = projects_for("寨岗镇", 22, 14, 176_800 - 98_000, 42_800 - 23_500, seed=15)
    _, _, projects = run_round(tmp_path, ["三江镇", "寨岗镇"], as_of, [
        (layouts.not_started_placeholders, "三江镇", a),  # not started written “—”, “/”, “无”, blank
        (layouts.hidden_helper_column, "寨岗镇", b),      # a hidden helper column between real ones
    ], start_rate_base="all")
    f = figures(projects, as_of, "all")
    assert f["completion_rate_pct"] == pytest.approx(4.28 / 17.68 * 100, abs=1e-9)
    assert round(f["completion_rate_pct"], 2) == 24.21
    assert f["completion_rate_pct"] == pytest.approx(24.25, abs=0.05)  # the published figure, from unrounded inputs
    assert round(f["start_rate_pct"]) == 66


def test_jiaozuo_2011_first_half_start_rate_over_new_projects(tmp_path):
    """焦作市, 2011年上半年: 市重点建设项目296个, 年度计划完成投资410.1亿元, 完成206.7亿元 → 已完成年度计划的50.4%;
    176个年度计划新开项目实际开工150个 → 开工率85% (whole number, over the new projects only).
    Source: 焦作市发展和改革委员会, http://fgw.jiaozuo.gov.cn/jzfgw/detail/4096 (found with the pages search)."""
    as_of = "2021-06-30"
    new_a = projects_for("解放区", 96, 82, 1_200_000, 610_000, seed=16)
    new_b = projects_for("山阳区", 80, 68, 1_000_000, 505_000, seed=17)
    cont_a = projects_for("解放区", 70, 70, 1_100_000, 560_000, nature="续建", seed=18)
    cont_b = projects_for("山阳区", 50, 50, 4_101_000 - 3_300_000, 2_067_000 - 1_675_000, nature="续建", seed=19)
    _, _, projects = run_round(tmp_path, ["解放区", "山阳区"], as_of, [
        (layouts.sheet_per_batch, "解放区", [p if i % 2 else dataclasses.replace(p, batch="第二批")
                                            for i, p in enumerate(new_a + cont_a)]),  # one sheet per batch
        (layouts.unit_row_far_right_yi, "山阳区", new_b + cont_b),
    ], start_rate_base="new")
    f = figures(projects, as_of, "new")
    assert f["projects"] == 296
    assert round(f["completion_rate_pct"], 1) == 50.4
    assert (f["start_base"], f["start_base_started"]) == (176, 150)
    assert round(f["start_rate_pct"]) == 85


def test_jiangmen_2021_1_to_3_two_decimal_rate_and_gap(tmp_path):
    """江门市, 2021年1–3月: 年度投资计划1015亿元, 完成313.64亿元 → 为年度投资计划的30.90%, 超过时间进度5.90个百分点;
    计划新开工270项, 已开工129项 (printed “开工率达47%”: 129/270 = 47.78%, printed cut, not rounded).
    Source: https://456150.com.cn/bmpd/jmsfzhggj/zdlyxxgk/zdjsxmxxgk/zdxmjz/content/post_2314420.html."""
    as_of = "2021-03-31"
    new_a = projects_for("鹤山市", 150, 70, 2_800_000, 820_000, seed=20)
    new_b = projects_for("恩平市", 120, 59, 2_500_000, 760_000, seed=21)
    cont = projects_for("鹤山市", 90, 90, 10_150_000 - 5_300_000, 3_136_400 - 1_580_000, nature="续建", seed=22)
    _, _, projects = run_round(tmp_path, ["鹤山市", "恩平市"], as_of, [
        (layouts.total_first, "鹤山市", new_a + cont),
        (layouts.group_headings_with_amounts, "恩平市", new_b),
    ], start_rate_base="new")
    f = figures(projects, as_of, "new")
    assert round(f["completion_rate_pct"], 2) == 30.90
    assert round(f["vs_time_progress_pp"], 2) == 5.90
    assert (f["start_base"], f["start_base_started"]) == (270, 129)
    assert int(f["start_rate_pct"]) == 47


def test_zigong_2018_start_rate_over_projects_planned_to_start_by_the_cut_off(tmp_path):
    """自贡市, 2018年1–5月: 完成41.06亿元; 12个计划开工 (planned to start by the cut-off), 已开工7个 → 开工率58.3%,
    over the projects planned to start, not all of them. (The printed 43% and 1.3 points need the annual plan,
    which the page does not print, so they are not reproduced here.)"""
    as_of = "2021-05-31"
    early = [dt.date(2021, m, 10) for m in (1, 2, 3, 4, 5)]
    a = [dataclasses.replace(p, planned_start=early[i % 5]) for i, p in
         enumerate(projects_for("自流井区", 7, 4, 120_000, 180_000, seed=23))]
    a += [dataclasses.replace(p, planned_start=dt.date(2021, 9, 1)) for p in
          projects_for("自流井区续", 3, 0, 40_000, 0, seed=24)]
    b = [dataclasses.replace(p, planned_start=early[(i + 2) % 5]) for i, p in
         enumerate(projects_for("贡井区", 5, 3, 100_000, 410_600 - 180_000, seed=25))]
    b += [dataclasses.replace(p, planned_start=dt.date(2021, 10, 15)) for p in
          projects_for("贡井区续", 4, 0, 30_000, 0, seed=26)]
    _, _, projects = run_round(tmp_path, ["自流井区", "贡井区"], as_of, [
        (layouts.synonyms, "自流井区", a),               # 计划开工时间 beside 开工时间, 开工情况 已开工/未开工
        (layouts.location_synonym_xls, "贡井区", b),     # .xls, 所在地区, 是否纳统, 计划开工时间
    ], start_rate_base="planned")
    f = indicators.project_figures(projects, indicators.time_progress_pct(dt.date.fromisoformat(as_of)), "planned",
                                   as_of=dt.date.fromisoformat(as_of))
    assert f["completed_yi"] == pytest.approx(41.06, abs=1e-6)
    assert (f["start_base"], f["start_base_started"]) == (12, 7)
    assert round(f["start_rate_pct"], 1) == 58.3
    assert f["projects"] == 19  # the 7 planned for later are projects, outside the 开工率 base
