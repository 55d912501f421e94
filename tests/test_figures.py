"""The charts: Chinese text with no missing glyph, a seaborn theme that keeps the CJK font, one colour
per unit in every chart, units in rank order, empty inputs that say why, and files saved as PNG and SVG.

The inputs are computed in-process from a small sample round (no notebooks), so these tests are quick.
"""
from __future__ import annotations

import dataclasses
import io
import shutil
import warnings
from pathlib import Path

import matplotlib
import pandas as pd
import PIL.Image
import pytest
import seaborn as sns
from conftest import clean_and_save
from matplotlib import font_manager
from matplotlib.colors import to_hex
from matplotlib.text import Text

from pipeline import indicators, rounds, schemas
from pipeline import paths as config
from pipeline.conventions import parse_conventions
from pipeline.devtools import sample
from pipeline.figures import charts as figures
from pipeline.figures import fonts
from pipeline.indicators import early_warning as ew
from pipeline.indicators import findings
from pipeline.ingest import cleaning

# Any "Glyph … missing from font(s) …" warning while drawing is a failure.
pytestmark = pytest.mark.filterwarnings("error:Glyph")

ROUND = config.SAMPLE_ROUND


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> figures.FigureInputs:
    root = tmp_path_factory.mktemp("figures")
    (root / "data").mkdir()
    shutil.copy(config.HEADER_ALIASES_FILE, root / "data" / "header_aliases.csv")
    sample.write_sample_rounds(root / "data" / "raw", n_projects=120)
    clean_and_save("2021-09", root)  # the previous round, which the comparisons read
    round_ = rounds.load_round(ROUND, root)
    result = cleaning.clean_round(round_, schemas.load_aliases(root / "data" / "header_aliases.csv"),
                                  echo=lambda *_: None)
    previous = findings.load_previous(round_, root)
    values = indicators.compute_indicators(round_, result.tables, previous)
    tables = {**indicators.report_tables(round_, result.tables, previous), "fai": result.tables["fai"]}
    return figures.FigureInputs(round_, values, tables)


@pytest.fixture(scope="module")
def drawn(inputs):
    return figures.draw_figures(inputs)


def render(fig) -> None:
    """Draw to PNG and SVG: glyphs are looked up here, so a missing one raises (pytestmark)."""
    for kind in ("png", "svg"):
        fig.savefig(io.BytesIO(), format=kind)


def texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip()]


def bar_colors(ax) -> dict[str, str]:
    """y tick label -> colour of its bar, for a horizontal bar chart."""
    labels = [t.get_text() for t in ax.get_yticklabels()]
    bars = [p for p in ax.patches if p.get_height() > 0][: len(labels)]
    return {label: to_hex(bar.get_facecolor()) for label, bar in zip(labels, bars)}


# --------------------------------------------------------------------------- the font


def test_a_cjk_font_is_used_and_has_every_glyph_the_charts_need(drawn):
    family = fonts.cjk_font()
    assert family in fonts.CJK_FAMILIES
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = matplotlib.ft2font.FT2Font(path)
    chars = {ch for fig in drawn.values() for t in texts(fig) for ch in t.get_text() if ord(ch) > 127}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chars)
    missing = sorted(ch for ch in chars if font.get_char_index(ord(ch)) == 0)
    assert not missing, f"{family} has no glyph for {''.join(missing)}"


def test_every_chart_draws_without_a_missing_glyph(drawn):
    assert set(drawn) == {spec.key for spec in figures.FIGURES}
    for key, fig in drawn.items():
        render(fig)
        assert texts(fig), key


def test_a_seaborn_theme_set_afterwards_does_not_drop_the_cjk_font(inputs):
    with matplotlib.rc_context():
        sns.set_theme()  # resets font.family to fonts without Chinese glyphs
        fig = figures.unit_rates(inputs)
        render(fig)
        used = {font_manager.findfont(t.get_fontproperties())
                for t in texts(fig) if any(ord(c) > 127 for c in t.get_text())}
    assert {font_manager.get_font(path).family_name for path in used} == {fonts.cjk_font()}


def test_apply_theme_puts_the_cjk_font_first_after_seaborn():
    with matplotlib.rc_context():
        family = figures.apply_theme()
        assert matplotlib.rcParams["font.sans-serif"][0] == family
        assert matplotlib.rcParams["axes.unicode_minus"] is False


def latin_fonts_only(monkeypatch):
    """A machine whose fonts (real ones: DejaVu) draw no Chinese, and no font file left to register."""
    latin = [f for f in font_manager.fontManager.ttflist if f.name.startswith("DejaVu")]
    assert latin
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    monkeypatch.setattr(fonts, "CJK_FONT_FILES", ())
    monkeypatch.setattr(fonts, "WINDOWS_FONT_FILES", ())


def test_no_cjk_font_is_a_clear_chinese_error(monkeypatch):
    latin_fonts_only(monkeypatch)
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissingError, match="方框.*fonts-noto-cjk.*统信 UOS"):
            fonts.cjk_font()
        monkeypatch.setenv("PIPELINE_FORCE_PLATFORM", "windows")
        fonts.cjk_font.cache_clear()
        with pytest.raises(fonts.FontMissingError, match="方框.*微软雅黑"):
            fonts.cjk_font()
    finally:
        monkeypatch.undo()
        fonts.cjk_font.cache_clear()


def test_a_chinese_font_under_a_name_not_listed_is_found_by_its_glyphs(monkeypatch):
    """A 方正 or CESI font an office installed: not in CJK_FAMILIES, but it draws Chinese."""
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font SC",))
    monkeypatch.setattr(fonts, "CJK_FONT_FILES", ())
    monkeypatch.setattr(fonts, "WINDOWS_FONT_FILES", ())
    fonts.cjk_font.cache_clear()
    try:
        family = fonts.cjk_font()
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        font = font_manager.get_font(path)
        assert all(font.get_char_index(ord(ch)) for ch in "督查报告各市开工率")
    finally:
        monkeypatch.undo()
        fonts.cjk_font.cache_clear()


def test_windows_fonts_folders_are_searched(monkeypatch, tmp_path):
    """WINDIR\\Fonts (微软雅黑 msyh.ttc, 黑体 simhei.ttf …) and the user's own fonts folder are registered."""
    windows_folders = fonts.WINDOWS_FONT_FILES
    latin_fonts_only(monkeypatch)
    noto = sorted(font_manager.findSystemFonts(fontext="ttf") + font_manager.findSystemFonts(fontext="otf"))
    noto = [path for path in noto if "NotoSansCJK" in path]
    if not noto:
        pytest.skip("no Noto Sans CJK file to lay out as a Windows font")
    (tmp_path / "Windows" / "Fonts").mkdir(parents=True)
    shutil.copy(noto[0], tmp_path / "Windows" / "Fonts" / "msyh.ttc")  # a Chinese font where 微软雅黑 is
    monkeypatch.setattr(fonts, "WINDOWS_FONT_FILES", windows_folders)
    monkeypatch.setenv("WINDIR", str(tmp_path / "Windows"))
    fonts.cjk_font.cache_clear()
    try:
        assert str(tmp_path / "Windows" / "Fonts" / "msyh.ttc") in fonts.font_files()
        assert fonts.cjk_font()  # found there, registered, and it draws Chinese
        assert any(Path(f.fname).name == "msyh.ttc" for f in font_manager.fontManager.ttflist)
    finally:
        monkeypatch.undo()
        fonts.cjk_font.cache_clear()


# --------------------------------------------------------------------------- colours and order


def test_units_are_listed_by_rank(inputs, drawn):
    ranking = inputs.tables["unit_ranking"]
    ranked = ranking[ranking["rank"].notna()].sort_values("rank")["unit"].tolist()
    shown = [t.get_text() for t in drawn["unit_rates"].axes[0].get_yticklabels()][::-1]  # top to bottom
    assert shown == ranked


def test_unit_order_puts_unranked_units_last_in_round_order():
    ranking = pd.DataFrame({"rank": pd.array([2, None, 1, None], "Int64"), "unit": ["乙", "丁", "甲", "丙"]})
    assert figures.unit_order(ranking, ["甲", "乙", "丙", "丁"]) == ["甲", "乙", "丙", "丁"]
    assert figures.unit_order(ranking, ["丁", "丙", "乙", "甲"]) == ["甲", "乙", "丁", "丙"]


def test_a_unit_has_the_same_colour_in_every_chart(inputs, drawn):
    expected = {u: to_hex(c) for u, c in inputs.colors.items()}
    rates = bar_colors(drawn["unit_rates"].axes[0])
    attraction = bar_colors(drawn["attraction_units"].axes[0])
    fai = bar_colors(drawn["fai_growth"].axes[1])
    for chart in (rates, attraction, fai):
        for unit, colour in chart.items():
            if unit in expected:
                assert colour == expected[unit], unit
    assert set(rates) & set(attraction), "the two charts should share units"
    assert len(set(expected.values())) == len(expected), "every unit of the round has its own colour"


# --------------------------------------------------------------------------- empty inputs, saving


def test_charts_with_nothing_to_show_say_why(inputs):
    empty = {name: frame.iloc[0:0] for name, frame in inputs.tables.items()}
    bare = figures.FigureInputs(inputs.round, {**inputs.values, "notes": {}}, empty)
    for spec in figures.FIGURES:
        fig = spec.draw(bare)
        render(fig)
        assert any(("本轮" in t.get_text() or "未收到" in t.get_text()) for t in texts(fig)), spec.key


def test_save_writes_png_and_svg_and_the_same_data_gives_the_same_files(inputs, tmp_path):
    keys = ["projects_by_batch", "unit_rates"]  # two are enough here; the chain test checks every file
    first = figures.save_figures({k: figures.FIGURES_BY_KEY[k].draw(inputs) for k in keys}, tmp_path / "a")
    figures.save_figures({k: figures.FIGURES_BY_KEY[k].draw(inputs) for k in keys}, tmp_path / "b")
    assert first["图"].tolist() == [f"图{figures.FIGURES_BY_KEY[k].number}" for k in keys]
    for key in keys:
        a, b = figures.figure_paths(tmp_path / "a", key), figures.figure_paths(tmp_path / "b", key)
        assert a["png"].name == f"图{figures.FIGURES_BY_KEY[key].number}_{figures.FIGURES_BY_KEY[key].title}.png"
        assert a["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert a["svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert a["svg"].read_bytes() == b["svg"].read_bytes(), key
        assert a["png"].read_bytes() == b["png"].read_bytes(), key


def test_drawn_side_by_side_the_files_are_the_same_as_drawn_one_by_one(inputs, tmp_path):
    alone = figures.draw_and_save(inputs, tmp_path / "alone", processes=1)
    side_by_side = figures.draw_and_save(inputs, tmp_path / "side", processes=2)
    pd.testing.assert_frame_equal(alone, side_by_side)
    assert alone["图"].tolist() == [f"图{spec.number}" for spec in figures.FIGURES]
    for spec in figures.FIGURES:
        a, b = figures.figure_paths(tmp_path / "alone", spec.key), figures.figure_paths(tmp_path / "side", spec.key)
        for kind in ("png", "svg", "print_png"):
            assert a[kind].read_bytes() == b[kind].read_bytes(), (spec.key, kind)
        with PIL.Image.open(a["print_png"]) as big, PIL.Image.open(a["png"]) as small:
            assert big.width == round(small.width * figures.PRINT_DPI / 150), spec.key  # savefig.dpi is 150


def test_a_chart_that_fails_in_a_worker_raises_its_own_error(inputs, tmp_path, monkeypatch):
    def broken(_):
        raise ValueError("图表数据有误")

    spec = figures.FIGURES_BY_KEY["unit_rates"]
    monkeypatch.setitem(figures.FIGURES_BY_KEY, "unit_rates", dataclasses.replace(spec, draw=broken))
    with pytest.raises(ValueError, match="图表数据有误"):
        figures.draw_and_save(inputs, tmp_path, processes=2)


def test_a_warning_while_drawing_in_a_worker_reaches_the_notebook(inputs, tmp_path, monkeypatch):
    def warns(inputs_):
        warnings.warn("Glyph 27979 missing from font(s) DejaVu Sans.", UserWarning, stacklevel=1)
        return real(inputs_)

    spec = figures.FIGURES_BY_KEY["unit_rates"]
    real = spec.draw
    monkeypatch.setitem(figures.FIGURES_BY_KEY, "unit_rates", dataclasses.replace(spec, draw=warns))
    with pytest.warns(UserWarning, match="Glyph 27979 missing"):
        figures.draw_and_save(inputs, tmp_path, processes=2)


def test_summary_names_the_folder(inputs, tmp_path):
    table = pd.DataFrame({"图": ["图1"], "标题": ["x"], "PNG": ["a.png"], "SVG": ["a.svg"]})
    staged = tmp_path / ".staging" / "2022-06" / "outputs" / "2022-06"  # where a run writes before publishing
    text = figures.save_summary(table, staged, tmp_path / "summaries" / "03_figures.txt").read_text(encoding="utf-8")
    assert "已绘制图表 1 张" in text and "保存在 outputs/2022-06/figures/" in text
    assert str(tmp_path) not in text and ".staging" not in text


def test_warning_lights_stack_each_units_red_yellow_and_green_counts(inputs, drawn):
    fig = drawn["warning_lights"]
    render(fig)
    ax = fig.axes[0]
    table = inputs.tables["warning_by_unit"].set_index("unit")
    units = [t.get_text() for t in ax.get_yticklabels()]
    assert units and set(units) <= set(table.index)
    assert units[::-1] == [u for u in inputs.order if u in units]  # ranked order, best at the top
    by_colour: dict[str, list[float]] = {}
    for bar in ax.patches:
        by_colour.setdefault(to_hex(bar.get_facecolor()), []).append(bar.get_width())
    for column, light in (("red", ew.RED), ("yellow", ew.YELLOW), ("green", ew.GREEN)):
        widths = by_colour[ew.LIGHT_COLORS[light].lower()]
        assert widths == [float(table.loc[u, column]) for u in units]


def test_the_time_progress_line_is_named_and_rounded_as_the_round_says(inputs):
    conv = parse_conventions({"time_progress_name": "序时进度", "decimals": 2})
    named = figures.FigureInputs(dataclasses.replace(inputs.round, conventions=conv), inputs.values, inputs.tables)
    labels = [t.get_text() for t in figures.unit_rates(named).legends[0].get_texts()]
    assert f"序时进度 {conv.number(named.time_progress)}%" in labels
