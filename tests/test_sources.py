"""Every number traceable (pipeline/indicators/sources.py): indicators.json "sources", 数字来源.xlsx, and the links of
report.html.

On the sample chain of tests/test_report.py (notebooks 01–04 once per session): the listed rows of each
headline figure add up to it, every row points at the unit's own return, every number of the report
body links to its entry in 附录三, and hover text and appendix say what indicators.json says.
"""
from __future__ import annotations

import math
import re

import lxml.html
import pandas as pd
import pytest
from test_report import ROUND, sample_chain

from pipeline import indicators as ind
from pipeline import paths as config
from pipeline.indicators import sources
from pipeline.ingest import readers
from pipeline.report import render as report


@pytest.fixture(scope="module")
def chain():
    return sample_chain()


@pytest.fixture(scope="module")
def srcs(chain) -> dict:
    return chain.values[sources.SOURCES_KEY]


@pytest.fixture(scope="module")
def workbook(chain) -> dict[str, pd.DataFrame]:
    # Row 1 of each sheet says which figures it lists; the table starts on row 2.
    return pd.read_excel(chain.out / sources.SOURCES_FILE, sheet_name=None, header=1, dtype={"Excel行号": "Int64"},
                         engine="openpyxl")


def yes(frame: pd.DataFrame, columns) -> pd.Series:
    columns = [columns] if isinstance(columns, str) else columns
    return frame[columns].eq("是").all(axis=1)


def from_rows(key: str, source: dict, frame: pd.DataFrame) -> float:
    """The figure as the inspector would get it from the listed rows, by rows.how."""
    rows = source["rows"]
    how = rows["how"]
    if sources.FIGURE in frame:  # a sheet shared by several figures: the rows of this one, named by its label
        frame = frame[frame[sources.FIGURE].str.split("；").map(lambda labels: source["label"] in labels)]
    if how == "rows":
        return len(frame)
    if how == "yes":
        return int(yes(frame, rows["column"]).sum())
    if how == "no":
        return int(frame[rows["column"]].eq("否").sum())
    if how == "value":
        assert len(frame) == 1
        return float(frame[rows["column"]].iloc[0] * frame["换算系数"].iloc[0])
    if how == "sum_yi":
        return float(frame[rows["column"]].sum()) / 10_000
    raise AssertionError(how)


HEADLINE = ([f"{p}.{name}" for p in ("batch", "key") for name in ind.FIGURE_COLUMNS]
            + ["track.projects", "track.not_started", "track.zero_investment", "track.not_in_stats", "track.behind"])


def unit_keys(chain) -> list[str]:
    from pipeline.rounds import load_round

    units = load_round(ROUND, chain.root).units
    return [f"unit.{u}.{name}" for u in units for name in ("start_rate_pct", "completion_rate_pct")]


def test_every_headline_figure_has_a_source_with_its_rows_listed(chain, srcs, workbook):
    for key in HEADLINE + unit_keys(chain):
        assert key in srcs, key
        rows = srcs[key]["rows"]
        assert rows["count"] is not None, key
        if rows["count"]:
            assert rows["file"] == sources.SOURCES_FILE and rows["sheet"] in workbook, key
            assert len(workbook[rows["sheet"]]) == rows["count"], key
    for key in HEADLINE:
        assert srcs[key]["value"] == chain.values[key], key


def test_each_headline_number_is_the_sum_of_its_rows(chain, srcs, workbook):
    checked = 0
    for key, source in srcs.items():
        rows = source["rows"]
        if not rows.get("how") or not rows["sheet"]:
            continue
        assert from_rows(key, source, workbook[rows["sheet"]]) == pytest.approx(source["value"], abs=1e-6), key
        checked += 1
    assert checked >= 2 * 7 + 5 + 3  # batch and key: 7 counted or summed figures each; track: 5; fai: 3 (and 主要指标)


def test_each_rate_is_its_inputs_and_its_inputs_are_the_rows(chain, srcs, workbook):
    tp = chain.values["time_progress_pct"]
    for key, source in srcs.items():
        sheet = source["rows"]["sheet"]
        if sheet is None or not key.endswith(("start_rate_pct", "completion_rate_pct", "vs_time_progress_pp")):
            continue
        frame = workbook[sheet]
        plan, done = frame["年度计划投资(万元)"].sum(), frame["累计完成投资(万元)"].sum()
        base, started = yes(frame, "计入开工率分母").sum(), yes(frame, ["计入开工率分母", "已开工"]).sum()
        expected = {"start_rate_pct": started / base * 100 if base else None,
                    "completion_rate_pct": done / plan * 100 if plan else None,
                    "vs_time_progress_pp": done / plan * 100 - tp if plan else None}[key.rsplit(".", 1)[1]]
        value = source["value"]
        assert (value is None) == (expected is None), key
        if value is not None:
            assert value == pytest.approx(expected, rel=1e-9), key
            a, b = (item["value"] for item in source["inputs"])
            assert value == pytest.approx(a / b * 100 if "÷" in source["formula"] else a - b, rel=1e-9), key


def test_unit_rates_are_the_by_unit_table(chain, srcs):
    by_unit = pd.read_parquet(chain.root / "data" / "processed" / ROUND / "by_unit.parquet")
    for r in by_unit[by_unit["scope"] == ind.SCOPE_ALL].itertuples():
        for name in ("start_rate_pct", "completion_rate_pct"):
            value, table = srcs[f"unit.{r.unit}.{name}"]["value"], getattr(r, name)
            assert (value is None and math.isnan(table)) or value == pytest.approx(table), (r.unit, name)


def test_listed_rows_point_at_the_units_own_returns(chain, workbook):
    """Open the unit's file at the sheet and Excel row given: the project named there is the project listed."""
    raw = config.raw_round_dir(ROUND, chain.root)
    rows = workbook["两批次项目"]
    assert rows[["单位", "文件", "工作表", "Excel行号"]].notna().all().all()
    grids = {}
    sample_rows = rows.groupby("文件", sort=False).head(3)
    for r in sample_rows.itertuples():
        if r.文件 not in grids:
            grids[r.文件] = {s.name: s.rows for s in readers.read_return(raw / r.文件, r.文件)}
        cells = [str(c) for c in grids[r.文件][r.工作表][r.Excel行号 - 1]]
        assert r.项目名称 in cells, (r.文件, r.工作表, r.Excel行号)
    assert len(sample_rows) >= 10


# ====================================================================== report.html: every number links to its source


@pytest.fixture(scope="module")
def page(chain):
    return lxml.html.fromstring(chain.html)


def body_numbers(page):
    """The numbers of the report body filled in from indicators.json (class "v"), outside 附录三 itself."""
    return [el for el in page.xpath('//*[contains(concat(" ", @class, " "), " v ")]')
            if not el.xpath('ancestor::section[@id="appendix_sources"]')]


def test_every_number_in_the_report_body_has_a_source(page, srcs):
    numbers = body_numbers(page)
    assert len(numbers) > 60
    for el in numbers:
        assert el.tag == "a", lxml.html.tostring(el, encoding="unicode")
        key = el.get("href").removeprefix("#src-")
        assert key in srcs, key
        target = page.get_element_by_id(f"src-{key}")
        assert target.xpath('ancestor::section[@id="appendix_sources"]'), key


def test_numbers_the_prose_quotes_from_a_table_link_to_it(page):
    paragraph = page.xpath('//p[contains(., "红色预警项目较多的是")]')
    assert paragraph, "the sample round has red lights: the sentence is there"
    counts = paragraph[0].xpath('.//a[@href="#src-table.warning_summary"]')
    assert counts and all(a.text_content().isdigit() for a in counts)
    assert page.get_element_by_id("src-table.warning_summary") is not None


def test_hover_text_agrees_with_indicators_json(page, srcs, chain):
    for el in body_numbers(page):
        if el.xpath("ancestor::table"):  # a table cell names its row and column: test_a_table_cells_hover_…
            continue
        key = el.get("href").removeprefix("#src-")
        assert el.get("title") == report.source_hover(key, srcs[key]), key
        assert el.get("title").startswith(srcs[key]["label"]) and not IDENTIFIER.search(el.get("title")), key
    v = chain.values
    link = page.xpath('//a[@href="#src-batch.completion_rate_pct"]')[0]
    assert link.get("title") == (f"两批次集中开工重大项目：投资完成率（%）："
                                 f"累计完成投资{report.number(v['batch.completed_yi'])}亿元"
                                 f" ÷ 年度计划投资{report.number(v['batch.plan_yi'])}亿元"
                                 f"（依据{v['batch.projects']}个项目）")
    assert link.text_content() == report.number(v["batch.completion_rate_pct"])


def test_appendix_lists_every_source_as_indicators_json_has_it(page, srcs):
    section = page.get_element_by_id("appendix_sources")
    assert section.xpath(".//h2")[0].text_content() == "数字来源"
    assert "screen-only" in section.get("class").split() and section.xpath("./details[not(@open)]")
    entries = section.xpath(".//dt")
    assert [dt.get("id") for dt in entries] == [f"src-{k}" for k in srcs]
    for dt in entries:
        key = dt.get("id").removeprefix("src-")
        source, text = srcs[key], dt.getnext().text_content()
        assert dt.text_content() == source["label"]
        calculation = report.source_calculation(source)
        assert text.count(calculation) == 1 if calculation else "公式" not in text, key
        assert calculation != source["formula"] or not source["inputs"], key  # the values are in it
        assert not IDENTIFIER.search(dt.text_content() + text.replace(sources.SOURCES_FILE, "")), (key, text)
        rows = source["rows"]
        if rows["count"] is not None:
            assert f"依据{rows['count']}{rows['what']}" in text, key
        if rows["sheet"]:
            assert f"{sources.SOURCES_FILE} 的工作表“{rows['sheet']}”" in text, key


# An indicators.json key or a setting's name (batch.start_rate_pct, start_rate_base, unit.<单位>.…): not for readers.
# The files an analyst edits may be named on screen (round.yml, corrections.csv); nothing else of that form.
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])(?!round\.yml|corrections\.csv)[A-Za-z][A-Za-z0-9]*(?:[._<][A-Za-z0-9>]+)+")


def test_no_entry_says_its_meaning_twice_and_the_months_are_no_count(srcs):
    tp = srcs["time_progress_pct"]
    assert report.source_calculation(tp) == f"截至月份{tp['inputs'][0]['value']} ÷ 12"
    for key, source in srcs.items():
        shown = report.source_hover(key, source)
        assert shown.count(source["label"]) == 1, shown
        assert "个 ÷ 12" not in shown and "；代入" not in shown, shown


NOISE = re.compile(r"\.\d*(?:9{6}|0{6})\d+$")  # 5699.999999999999, 0.30000000000000004


def test_the_workbook_names_figures_in_chinese_and_stores_no_binary_noise(chain):
    import openpyxl

    book = openpyxl.load_workbook(chain.out / sources.SOURCES_FILE, read_only=True)
    noisy = []
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        note, header = rows[0], rows[1]
        assert note[0].startswith("本表各行是以下数字的来源：") and not IDENTIFIER.search(note[0]), note[0]
        assert all(not IDENTIFIER.search(str(h)) for h in header if h), header
        if sources.FIGURE in header:
            at = header.index(sources.FIGURE)
            assert all(not IDENTIFIER.search(str(r[at])) for r in rows[2:]), ws.title
        noisy += [v for r in rows[2:] for v in r if isinstance(v, float) and NOISE.search(repr(v))]
    assert not noisy, noisy[:5]


def test_growth_and_acceleration_are_their_inputs(srcs, chain):
    checked = 0
    for key, source in srcs.items():
        if not key.endswith(("yoy_pct", "accel_pp")) or not source["inputs"] or source["value"] is None:
            continue
        (now, before) = (item["value"] for item in source["inputs"])
        assert ([item["value"] for item in source["inputs"]]
                == [chain.values[item["key"]] for item in source["inputs"]]), key
        expected = now - before if key.endswith("accel_pp") else (now - before) / before * 100
        assert source["value"] == pytest.approx(expected, rel=1e-9) and source["value"] == chain.values[key], key
        checked += 1
    assert checked >= 3  # fai.accel_pp and the 主要指标 同比 of the sample round


# =========================================================================== the tables of the report and the lights


def tables_of(page) -> dict:
    """The report's tables that have a source entry, by name (data-table)."""
    return {t.get("data-table"): t for t in page.xpath("//table[@data-table]")}


def shown_number(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_table_of_the_report_has_its_entry_and_every_number_in_a_table_links(page, srcs):
    found = tables_of(page)
    assert {"by_unit", "by_batch", "track_summary", "start_problems", "warning_summary", "unit_ranking"} <= set(found)
    assert set(found) <= set(report.TABLES)
    cells = 0
    for name, table in found.items():
        assert f"table.{name}" in srcs, name
        for td in table.xpath(".//td[contains(concat(' ', @class, ' '), ' num ')]"):
            if td.text_content() == report.DASH:
                continue
            links = td.xpath("./a")
            assert len(links) == 1 and "v" in links[0].get("class").split(), (
                name, lxml.html.tostring(td, encoding="unicode"))
            assert links[0].get("href").removeprefix("#src-") in srcs
            cells += 1
    assert cells > 100
    every_source_table = set(sources.TABLE_SOURCES)
    assert set(report.TABLES) <= every_source_table, set(report.TABLES) - every_source_table


def test_a_table_cells_hover_is_its_row_column_and_entry(page, srcs):
    checked = 0
    for name, table in tables_of(page).items():
        columns = report.TABLES[name]
        key, source = f"table.{name}", srcs[f"table.{name}"]
        by_field = source["rows"].get("by_field")
        for tr in table.xpath("./tbody/tr"):
            tds = tr.xpath("./td")
            texts = [td.text_content() for td in tds]
            lead = "·".join([t for c, t in zip(columns, texts) if c.kind not in report.NUMERIC_KINDS and t][:2])
            names = [c.name for c in columns]
            group = texts[names.index(by_field)] if by_field else None
            for col, td in zip(columns, tds):
                link = td.xpath("./a")
                if not link:
                    continue
                target = link[0].get("href").removeprefix("#src-")
                if target != key:  # the number's own entry (a unit's rate)
                    assert target == source["cell_key"].format(row=texts[names.index("unit")], column=col.name), target
                    assert link[0].get("title") == report.source_hover(target, srcs[target])
                    continue
                shown = report.Col(col.name, col.label.replace("时间进度", "时间进度"), col.kind)
                assert link[0].get("title") == report.cell_hover(key, source, lead, shown, group), (name, col.name)
                if col.name in source["columns"]:
                    assert source["columns"][col.name]["formula"] in link[0].get("title")
                checked += 1
    assert checked > 100


def cell_from_rows(spec: dict, rows: pd.DataFrame) -> float:
    how = spec["how"]
    if how == "rows":
        return len(rows)
    if how == "yes":
        return int(yes(rows, spec["column"]).sum())
    if how == "sum_yi":
        return float(rows[spec["column"]].sum()) / 10_000
    raise AssertionError(how)


def test_each_number_of_a_grouped_table_is_its_rows_in_the_sources_workbook(page, srcs, workbook):
    """by_unit, track_summary, warning_summary, attraction_by_unit: each count or sum, per unit and 合计, from the
    listed rows."""
    checked, tables = 0, set()
    for name, table in tables_of(page).items():
        source = srcs[f"table.{name}"]
        rows = source["rows"]
        if not rows.get("by"):
            continue
        frame = workbook[rows["sheet"]]
        columns = [c.name for c in report.TABLES[name]]
        for tr in table.xpath("./tbody/tr"):
            texts = [td.text_content() for td in tr.xpath("./td")]
            group = texts[columns.index(rows["by_field"])]
            mine = frame if group == "合计" else frame[frame[rows["by"]] == group]
            for column, spec in source["columns"].items():
                text = texts[columns.index(column)]
                if "how" not in spec or text == report.DASH:
                    continue
                value = cell_from_rows(spec, mine)
                kind = report.TABLES[name][columns.index(column)].kind
                assert report.number(value, report.NUMERIC_KINDS[kind], thousands=True) == text, (name, group, column)
                checked += 1
                tables.add(name)
    assert {"by_unit", "track_summary", "warning_summary", "attraction_by_unit"} <= tables
    assert checked > 100


def test_the_lights_have_their_rows_listed(chain, srcs, workbook):
    lights = workbook[sources.LIGHTS_SHEET]
    projects = pd.read_parquet(chain.root / "data" / "processed" / ROUND / "projects.parquet")
    assert len(lights) == len(projects)
    assert lights[["单位", "文件", "工作表", "Excel行号", "灯色"]].notna().all().all()
    for name, label in sources.LIGHT_FLAGS.items():
        key = f"warning.{name}"
        assert srcs[key]["rows"]["sheet"] == sources.LIGHTS_SHEET and srcs[key]["rows"]["column"] == label
        assert int(yes(lights, label).sum()) == chain.values[key], key
    assert (yes(lights, list(sources.LIGHT_FLAGS.values())[0]) == lights["灯色"].eq("红")).all()
    by_unit = {r["unit"]: r for r in chain.values["warning.by_unit"]}
    for unit, mine in lights.groupby("单位"):
        assert int(yes(mine, "红色预警").sum()) == by_unit[unit]["red"], unit
    reds = lights[lights["灯色"] == "红"]
    assert reds["预警原因"].str.contains("红").all()


def test_the_appendix_gives_each_tables_columns(page, srcs):
    section = page.get_element_by_id("appendix_sources")
    entry = section.get_element_by_id("src-table.by_unit").getnext().text_content()
    assert "各列：项目数＝所列项目的个数" in entry and "“单位”相同的行" in entry
    assert f"依据{srcs['table.by_unit']['rows']['count']}行" in entry


def test_the_charts_numbers_stand_in_the_text_linked_to_their_tables(chain, page, srcs):
    """图1 (FAI growth by month and by region) and the attraction-by-industry chart: each number the chart draws is
    also written under it, linked to the entry of the table it comes from (issue 23)."""
    processed = config.processed_round_dir(ROUND, chain.root)
    notes = {p.text_content(): p for p in page.xpath('//p[contains(@class, "figure-data")]')}
    fai_text = next(t for t in notes if t.startswith("图1中"))
    fai = pd.read_parquet(processed / "fai.parquet")
    total = fai[fai["region"] == "全区"].sort_values("month")
    assert len(total) >= 6
    for month, this_year in zip(total["month"], total["yoy_pct"]):
        assert f"{report.months_to(month)}{report.number(this_year)}%" in fai_text, month
    assert "依次为" + "%、".join(report.number(v) for v in total["last_yoy_pct"]) + "%" in fai_text
    regions = pd.read_parquet(processed / "fai_by_region.parquet")
    for region, growth in zip(regions["region"], regions["yoy_pct"]):
        if region != "全区" and not pd.isna(growth):
            assert f"{region}{report.number(growth)}%" in fai_text, region
    industry_text = next(t for t in notes if t.startswith("分产业看，招商引资"))
    industries = pd.read_parquet(processed / "attraction_by_industry.parquet")
    assert industries["projects"].sum() > 100
    for row in industries.itertuples():
        assert f"{row.industry}{row.projects}个（占{report.number(row.share_pct)}%）、" \
               f"{report.number(row.contract_yi, 2)}亿元" in industry_text, row.industry
    for text, tables in ((fai_text, {"fai_months", "fai_by_region"}), (industry_text, {"attraction_by_industry"})):
        links = {a.get("href").removeprefix("#src-") for a in notes[text].xpath(".//a")}
        assert links == {f"table.{name}" for name in tables} and links <= set(srcs), links


def test_every_sheet_column_a_declared_table_names_is_a_column_of_its_sheet(srcs, workbook):
    """table_columns.csv's sheet_column and tables.csv's by name columns of 数字来源.xlsx's sheets: a label changed on
    one side only would leave a formula pointing at nothing."""
    from pipeline.indicators import tables

    checked = 0
    for name, table in tables.DECLARED.items():
        if not table.sheet or table.sheet not in workbook:
            continue
        columns = set(workbook[table.sheet].columns)
        named = [table.by] if table.by else []
        named += [c.sheet_column for c in table.columns if c.sheet_column]
        assert set(named) <= columns, (name, set(named) - columns)
        assert srcs[f"table.{name}"]["rows"]["sheet"] == table.sheet
        checked += len(named)
    assert checked > 10
