"""Conventions from round.yml: time progress (months, days, a target schedule), the wording, two decimals,
the three 开工率 bases — each against a hand-computed case — and the Chinese message for each bad value."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from office import write_round
from test_indicators import empty_tables, make_round, projects_frame
from test_report import data_with, plain

from pipeline import conventions, rounds
from pipeline import indicators as ind
from pipeline.conventions import Conventions, ConventionsError, parse_conventions
from pipeline.report.render import Text

HUIDONG_TARGETS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]  # a 120% annual target spread evenly


# --------------------------------------------------------------------------- time progress


@pytest.mark.parametrize("as_of, expected", [
    (dt.date(2021, 10, 31), 10 / 12 * 100),  # 83.33…
    (dt.date(2022, 8, 31), 8 / 12 * 100),  # 66.67…
    (dt.date(2022, 8, 15), 8 / 12 * 100),  # the month counts, not the day
    (dt.date(2021, 12, 31), 100.0),
])
def test_months_is_the_cut_off_month_over_twelve(as_of, expected):
    assert conventions.time_progress_pct(as_of, Conventions()) == pytest.approx(expected)


@pytest.mark.parametrize("as_of, expected", [
    (dt.date(2021, 10, 31), 304 / 365 * 100),  # 31+28+31+30+31+30+31+31+30+31 = 304
    (dt.date(2024, 2, 29), 60 / 366 * 100),  # a leap year: 31 + 29 days, of 366
    (dt.date(2024, 12, 31), 100.0),
    (dt.date(2023, 3, 1), 60 / 365 * 100),
    (dt.date(2024, 3, 1), 61 / 366 * 100),
])
def test_days_is_days_elapsed_over_days_in_the_year(as_of, expected):
    assert conventions.time_progress_pct(as_of, Conventions(time_progress_mode="days")) == pytest.approx(expected)


def test_a_target_schedule_gives_the_cut_off_months_target():
    conv = parse_conventions({"time_progress": HUIDONG_TARGETS})
    assert conv.time_progress_pct(dt.date(2022, 8, 31)) == 80.0  # 惠东县: 80% at the end of August, not 66.7%
    assert conv.time_progress_pct(dt.date(2022, 1, 31)) == 10.0
    uneven = parse_conventions({"time_progress": [5, 12, 22, 32, 42, 50, 58, 66, 75, 85, 95, 100]})
    assert uneven.time_progress_pct(dt.date(2022, 6, 30)) == 50.0
    assert uneven.time_progress_setting == [5, 12, 22, 32, 42, 50, 58, 66, 75, 85, 95, 100]


def test_round_time_progress_follows_the_rounds_conventions():
    base = make_round(as_of=dt.date(2024, 2, 29))
    assert ind.round_time_progress(base) == pytest.approx(2 / 12 * 100)
    days = make_round(as_of=dt.date(2024, 2, 29), conventions=Conventions(time_progress_mode="days"))
    assert ind.round_time_progress(days) == pytest.approx(60 / 366 * 100)


# --------------------------------------------------------------------------- wording and decimals


@pytest.mark.parametrize("words, name, gap, expected", [
    (["超过", "低于"], "时间进度", 13.8245, "超过时间进度13.8个百分点"),
    (["超过", "低于"], "时间进度", -5.04, "低于时间进度5.0个百分点"),
    (["快于", "慢于"], "序时进度", 6.55, "快于序时进度6.6个百分点"),
    (["快于", "慢于"], "序时进度", -6.6, "慢于序时进度6.6个百分点"),
    (["高于", "低于"], "序时进度", 2.2, "高于序时进度2.2个百分点"),
    (["高于", "低于"], "时序进度", -32.9, "低于时序进度32.9个百分点"),
    (["超过", "低于"], "时间进度", 0.04, "与时间进度持平"),
])
def test_each_wording(words, name, gap, expected):
    conv = parse_conventions({"progress_words": words, "time_progress_name": name})
    assert conv.gap_text(gap) == expected
    assert ind.gap_text(gap, conventions=conv) == expected


def test_two_decimals_the_issues_example_half_up_and_gap_from_unrounded_values():
    """79.18% done, 8/12 = 66.666…%: 12.513… points → “投资完成率79.18%，快于序时进度12.51个百分点”."""
    conv = parse_conventions({"decimals": 2, "progress_words": ["快于", "慢于"], "time_progress_name": "序时进度"})
    rate = ind.completion_rate_pct(79_180.0, 100_000.0)
    gap = ind.vs_time_progress_pp(rate, conv.time_progress_pct(dt.date(2022, 8, 31)))
    assert f"投资完成率{conv.number(rate)}%，{conv.gap_text(gap)}" == "投资完成率79.18%，快于序时进度12.51个百分点"
    # from rounded values it would read 79.18 − 66.67 = 12.51 too; here they differ: 83.335 − 66.666… = 16.668…
    assert conv.gap_text(83.335 - 200 / 3) == "快于序时进度16.67个百分点"
    assert conventions.half_up(12.505, 2) == "12.51" and conventions.half_up(0.125, 2) == "0.13"  # half up, not to even
    assert conventions.half_up(-0.001, 2) == "0.00"


def test_the_reports_words_and_decimals_come_from_the_conventions():
    conv = parse_conventions({"decimals": 2, "progress_words": ["快于", "慢于"], "time_progress_name": "序时进度"})
    t = Text(data_with({"rate": 79.18, "gap": 12.5133, "behind": -4.044, "flat": 0.004}))
    t.conv = conv
    assert plain(t.pct("rate")) == "79.18%"
    assert plain(t.vs_time("gap")) == "快于序时进度12.51个百分点"
    assert plain(t.vs_time("behind")) == "慢于序时进度4.04个百分点"
    assert plain(t.vs_time("flat")) == "与序时进度持平"
    assert plain(t.change("behind")) == "降低4.04个百分点"
    default = Text(data_with({"rate": 79.18, "gap": 12.5133}))
    assert plain(default.pct("rate")) == "79.2%" and plain(default.vs_time("gap")) == "超过时间进度12.5个百分点"


# --------------------------------------------------------------------------- 开工率 bases


def base_projects():
    """Five projects at a cut-off of 2022-06-30: hand-computed 开工率 under each base.

    | project | 建设性质 | 计划开工时间 | 已开工 |
    | A | 新建 | 2022-03-01 | 是 |
    | B | 新建 | 2022-06-30 | 否 |   (on the cut-off day: planned by then)
    | C | 续建 | 2021-05-01 | 是 |
    | D | 新建 | 2022-09-01 | 是 |   (planned after the cut-off, started early)
    | E | 改扩建 | (blank)  | 否 |
    new: A B D E → 2 of 4 = 50%; all: 3 of 5 = 60%; planned: A B C → 2 of 3 = 66.67%.
    """
    rows = [("A", "新建", dt.date(2022, 3, 1), True), ("B", "新建", dt.date(2022, 6, 30), False),
            ("C", "续建", dt.date(2021, 5, 1), True), ("D", "新建", dt.date(2022, 9, 1), True),
            ("E", "改扩建", None, False)]
    return projects_frame([{"project_name": n, "nature": k, "planned_start_date": p, "started": s}
                           for n, k, p, s in rows])


@pytest.mark.parametrize("base, started, denominator, rate", [
    ("new", 2, 4, 50.0), ("all", 3, 5, 60.0), ("planned", 2, 3, 200 / 3),
])
def test_each_start_rate_base(base, started, denominator, rate):
    round_ = make_round(as_of=dt.date(2022, 6, 30), start_rate_base=base)
    values = ind.compute_indicators(round_, {**empty_tables(), "projects": base_projects()})
    assert (values["batch.start_base_started"], values["batch.start_base"]) == (started, denominator)
    assert values["batch.start_rate_pct"] == pytest.approx(rate)
    assert values["start_rate_base"] == values["conventions.start_rate_base"] == base


def test_planned_base_without_the_planned_start_column_stops_with_a_clear_message():
    round_ = make_round(as_of=dt.date(2022, 6, 30), start_rate_base="planned")
    projects = base_projects().assign(planned_start_date=None)
    with pytest.raises(rounds.RoundError) as err:
        ind.compute_indicators(round_, {**empty_tables(), "projects": projects})
    assert "计划开工时间" in str(err.value) and "start_rate_base" in str(err.value)
    with pytest.raises(rounds.RoundError):
        ind.report_tables(round_, {**empty_tables(), "projects": projects})


# --------------------------------------------------------------------------- round.yml: read and checked


def test_round_yml_conventions_are_read_and_recorded(tmp_path):
    write_round(tmp_path / "data" / "raw" / "hd", ["惠东县"], as_of="2022-08-31", time_progress=HUIDONG_TARGETS,
                time_progress_name="序时进度", progress_words=["高于", "低于"], decimals=2, start_rate_base="all",
                warning={"behind_red_pp": 25, "stats_red_months": 3})
    round_ = rounds.load_round("hd", tmp_path)
    conv = round_.conventions
    assert (conv.time_progress_mode, conv.time_progress_name, conv.progress_words, conv.decimals) == (
        "targets", "序时进度", ("高于", "低于"), 2)
    assert (conv.warning.behind_red_pp == 25 and conv.warning.behind_yellow_pp == 10
            and conv.warning.stats_red_months == 3)
    values = ind.compute_indicators(round_, empty_tables())
    assert values["time_progress_pct"] == 80.0
    assert values["conventions.time_progress"] == HUIDONG_TARGETS
    assert (values["conventions.decimals"], values["conventions.start_rate_base"]) == (2, "all")
    assert values["conventions.progress_words"] == ["高于", "低于"]


def test_without_conventions_the_defaults_apply(tmp_path):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市"])
    conv = rounds.load_round("r", tmp_path).conventions
    assert conv == Conventions()
    assert (conv.time_progress_setting, conv.decimals, conv.progress_words) == ("months", 1, ("超过", "低于"))


@pytest.mark.parametrize("extra, words", [
    ({"time_progress": "weeks"}, ["time_progress", "months", "days", "12个"]),
    ({"time_progress": [10, 20, 30]}, ["time_progress", "12个", "3个值"]),
    ({"time_progress": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, "x"]}, ["time_progress", "不是数字"]),
    ({"time_progress": [10, 20, 30, 40, 50, 45, 70, 80, 90, 100, 110, 120]}, ["time_progress", "第6个值", "不应减少"]),
    ({"time_progress": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 250]}, ["time_progress", "0 到 200"]),
    ({"time_progress_name": "进度"}, ["time_progress_name", "时间进度", "序时进度", "时序进度"]),
    ({"progress_words": ["超出", "落后"]}, ["progress_words", "[快于, 慢于]", "[高于, 低于]", "[超过, 低于]"]),
    ({"progress_words": "快于"}, ["progress_words"]),
    ({"decimals": 3}, ["decimals", "1 或 2"]),
    ({"decimals": True}, ["decimals", "1 或 2"]),
    ({"start_rate_base": "planed"}, ["start_rate_base", "new", "all", "planned"]),
    ({"warning": {"behind_red": 30}}, ["warning", "behind_red", "behind_red_pp"]),
    ({"warning": {"behind_red_pp": "三十"}}, ["warning.behind_red_pp", "0 到 100"]),
    ({"warning": {"behind_yellow_pp": 40}}, ["behind_red_pp", "behind_yellow_pp", "不低于黄色"]),
    ({"warning": [1, 2]}, ["warning", "键: 值"]),
])
def test_a_bad_convention_is_a_chinese_message_naming_the_key_and_the_allowed_values(tmp_path, extra, words):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市"], as_of="2022-06-30", **extra)
    with pytest.raises(rounds.RoundError) as err:
        rounds.load_round("r", tmp_path)
    assert isinstance(err.value, ConventionsError) or "start_rate_base" in str(err.value)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_round_yml_text_is_parsed_as_yaml_writes_it():
    """The documented round.yml example (docs/rounds.md, every option) parses to the defaults it documents."""
    from pipeline import paths as config

    doc = (config.PROJECT_ROOT / "docs" / "rounds.md").read_text(encoding="utf-8")
    block = doc.split("```yaml", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    assert conventions.CONVENTION_KEYS <= set(data)
    conv = parse_conventions(data)
    assert conv == Conventions()


def test_planned_base_without_the_column_stops_the_chain_before_the_report(tmp_path):
    """Through the papermill chain on real returns that carry no 计划开工时间: step 2 stops with the message,
    steps 3 and 4 do not run, and no report is written."""
    import shutil

    from office import project_row, project_sheet, write_xlsx

    from pipeline import paths as config
    from pipeline.run import runner

    raw = write_round(tmp_path / "data" / "raw" / "2022-06", ["银川市"], as_of="2022-06-30", start_rate_base="planned")
    grid, merges = project_sheet([project_row(1, "YC1", "银川甲项目"),
                                  project_row(2, "YC2", "银川乙项目", started="否", start=None)])
    write_xlsx(raw / "银川市重大项目.xlsx", {"第一批": grid}, {"第一批": merges})
    (tmp_path / "data" / "header_aliases.csv").write_bytes(config.HEADER_ALIASES_FILE.read_bytes())
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for path in sorted(config.NOTEBOOKS_DIR.glob("0*.ipynb")):
        shutil.copy(path, notebooks / path.name)
    with pytest.raises(runner.RunError) as err:
        runner.run_round("2022-06", root=tmp_path, notebooks_dir=notebooks, echo=lambda *_: None, progress=False)
    message = str(err.value)
    assert "第2步" in message and "计划开工时间" in message and "start_rate_base" in message
    assert not (config.outputs_round_dir("2022-06", tmp_path) / "report.html").exists()
