"""Each chart declares the data it is drawn from, and a chart whose data did not change keeps its files.

In process on a small sample round (the inputs of tests/test_figures.py); the real chain after one changed number
is tests/test_figures_rerun.py.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_figures import inputs  # noqa: F401  (the module fixture: the inputs of a small sample round)

from pipeline.figures import charts as figures
from pipeline.figures import reuse

pytestmark = pytest.mark.filterwarnings("error:Glyph")

KINDS = ("png", "svg", "print_png")


def without(spec: figures.FigureSpec, field: str, item) -> figures.FigureSpec:
    return dataclasses.replace(spec, **{field: tuple(x for x in getattr(spec, field) if x != item)})


def test_each_chart_reads_every_input_it_declares_and_nothing_else(inputs):  # noqa: F811
    for spec in figures.FIGURES:
        spec.draw(inputs.only(spec))  # everything it reads is declared (else UndeclaredInput)
        for field in ("tables", "facts"):
            for item in getattr(spec, field):
                with pytest.raises(reuse.UndeclaredInput):  # and everything declared is read
                    spec.draw(inputs.only(without(spec, field, item)))


def test_values_are_declared_by_key_path_and_an_undeclared_one_raises(inputs):  # noqa: F811
    spec = figures.FIGURES_BY_KEY["change_since_previous"]
    assert not inputs.tables["rate_changes"].empty
    with pytest.raises(reuse.UndeclaredInput, match="previous.round"):
        spec.draw(inputs.only(without(spec, "values", ("previous.round",))))
    # with nothing to compare, the chart says why, from the note it declares
    bare = dataclasses.replace(inputs, tables={**inputs.tables, "rate_changes": inputs.tables["rate_changes"][0:0]},
                               values={**inputs.values, "notes": {"previous.batch.completion_rate_pct": "上轮未报送"}})
    texts = [t.get_text() for t in spec.draw(bare.only(spec)).findobj(lambda a: hasattr(a, "get_text"))]
    assert "上轮未报送" in texts
    with pytest.raises(reuse.UndeclaredInput, match="notes"):
        spec.draw(bare.only(dataclasses.replace(spec, values=(("previous.round",),))))
    narrowed = bare.only(dataclasses.replace(spec, values=(("previous.round",), ("notes", "other"))))
    with pytest.raises(reuse.UndeclaredInput, match="previous.batch.completion_rate_pct"):
        spec.draw(narrowed)


def test_a_digest_changes_with_the_data_a_chart_declares_only(inputs):  # noqa: F811
    before = figures.figure_digests(inputs)
    by_unit = inputs.tables["by_unit"].copy()
    by_unit.loc[by_unit.index[0], "completion_rate_pct"] = by_unit["completion_rate_pct"].iloc[0] + 1
    after = figures.figure_digests(dataclasses.replace(inputs, tables={**inputs.tables, "by_unit": by_unit}))
    assert {key for key in before if before[key] != after[key]} == {"unit_rates"}
    # a note no chart reads changes nothing; the one 图9 reads changes 图9 only
    noted = dataclasses.replace(inputs, values={**inputs.values, "notes": {**inputs.values["notes"], "x": "y"}})
    assert figures.figure_digests(noted) == before
    notes = {**inputs.values["notes"], "previous.batch.completion_rate_pct": "另一说明"}
    noted = dataclasses.replace(inputs, values={**inputs.values, "notes": notes})
    assert {k for k, v in figures.figure_digests(noted).items() if v != before[k]} == {"change_since_previous"}


def counting(monkeypatch) -> list[str]:
    """Every chart's drawing function, wrapped to record that it was called (drawn in this process)."""
    drawn: list[str] = []
    for spec in figures.FIGURES:
        def draw(inputs_, real=spec.draw, key=spec.key):
            drawn.append(key)
            return real(inputs_)
        monkeypatch.setitem(figures.FIGURES_BY_KEY, spec.key, dataclasses.replace(spec, draw=draw))
    return drawn


def files_of(folder) -> dict[str, bytes]:
    return {f"{spec.key}:{kind}": path.read_bytes() for spec in figures.FIGURES
            for kind, path in figures.figure_paths(folder, spec.key).items()}


def test_a_redraw_keeps_the_charts_whose_data_did_not_change(inputs, tmp_path, monkeypatch):  # noqa: F811
    drawn = counting(monkeypatch)
    first = figures.draw_and_save(inputs, tmp_path / "out", processes=1)
    assert sorted(drawn) == sorted(spec.key for spec in figures.FIGURES)
    assert set(first["本次"]) == {figures.REDRAWN}
    files = files_of(tmp_path / "out")

    drawn.clear()
    again = figures.draw_and_save(inputs, tmp_path / "out", processes=1)
    assert drawn == [] and set(again["本次"]) == {figures.KEPT}
    assert files_of(tmp_path / "out") == files

    warning = inputs.tables["warning_by_unit"].copy()
    warning.loc[warning.index[0], "red"] += 1
    changed = dataclasses.replace(inputs, tables={**inputs.tables, "warning_by_unit": warning})
    third = figures.draw_and_save(changed, tmp_path / "out", processes=1)
    assert drawn == ["warning_lights"]
    assert third.loc[third["本次"] == figures.REDRAWN, "图"].tolist() == ["图8"]
    figures.draw_and_save(changed, tmp_path / "fresh", processes=1, keep_unchanged=False)
    now, fresh = files_of(tmp_path / "out"), files_of(tmp_path / "fresh")
    assert now == fresh, "every file is what a full drawing writes"
    assert {name.split(":")[0] for name in files if files[name] != now[name]} == {"warning_lights"}


def test_a_file_changed_or_removed_by_hand_is_drawn_again(inputs, tmp_path, monkeypatch):  # noqa: F811
    figures.draw_and_save(inputs, tmp_path, processes=1)
    drawn = counting(monkeypatch)
    paths = figures.figure_paths(tmp_path, "unit_rates")
    good = paths["svg"].read_bytes()
    paths["svg"].write_bytes(good.replace(b"</svg>", b"<!-- edited --></svg>"))
    figures.figure_paths(tmp_path, "major_works_progress")["print_png"].unlink()
    figures.draw_and_save(inputs, tmp_path, processes=1)
    assert sorted(drawn) == ["major_works_progress", "unit_rates"]
    assert paths["svg"].read_bytes() == good
    reuse.record_path(tmp_path).write_text("not json", encoding="utf-8")
    drawn.clear()
    figures.draw_and_save(inputs, tmp_path, processes=1)
    assert len(drawn) == len(figures.FIGURES), "an unreadable record: every chart is drawn"


def test_changed_code_fonts_or_settings_draw_every_chart_again(inputs, tmp_path, monkeypatch):  # noqa: F811
    before = figures.figure_digests(inputs)
    monkeypatch.setattr(reuse, "code_digest", lambda: "other code")
    assert all(before[k] != v for k, v in figures.figure_digests(inputs).items())
    monkeypatch.undo()
    monkeypatch.setattr(reuse, "font_files_said", lambda font: [[font, "/elsewhere/font.ttc", 1, 2]])
    assert all(before[k] != v for k, v in figures.figure_digests(inputs).items())
    monkeypatch.undo()
    import matplotlib
    with matplotlib.rc_context({"axes.labelpad": 9.0}):  # an analyst's matplotlibrc, on what the theme leaves
        assert all(before[k] != v for k, v in figures.figure_digests(inputs).items())
    with matplotlib.rc_context({"backend": "agg"}):  # how figures are shown is no part of a file
        assert figures.figure_digests(inputs) == before


def test_side_by_side_a_redraw_writes_the_same_files_and_record(inputs, tmp_path):  # noqa: F811
    figures.draw_and_save(inputs, tmp_path / "one", processes=1)
    figures.draw_and_save(inputs, tmp_path / "two", processes=2)
    assert files_of(tmp_path / "one") == files_of(tmp_path / "two")
    assert reuse.load_record(tmp_path / "one") == reuse.load_record(tmp_path / "two")


def test_summary_says_how_many_charts_were_kept(tmp_path):
    table = pd.DataFrame({"图": ["图1", "图2"], "标题": ["a", "b"], "PNG": ["a.png", "b.png"],
                          "SVG": ["a.svg", "b.svg"], "本次": [figures.KEPT, figures.REDRAWN]})
    text = figures.save_summary(table, tmp_path / "2021-12", tmp_path / "s.txt").read_text(encoding="utf-8")
    assert "已绘制图表 2 张" in text and "其中 1 张所用的数据未变，沿用上次的文件" in text


def test_each_chart_is_drawn_once_per_file(inputs, tmp_path, monkeypatch):  # noqa: F811
    from matplotlib.figure import Figure

    draws = []
    real = Figure.draw

    def counted(self, renderer):
        draws.append(type(renderer).__name__)
        return real(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    spec = figures.FIGURES_BY_KEY["unit_rates"]
    (tmp_path / figures.FIGURES_DIR).mkdir()
    with figures.theme():
        figures.save_once(spec.draw(inputs.only(spec)), **figures.figure_paths(tmp_path, spec.key))
    assert sorted(draws) == ["MixedModeRenderer", "RendererAgg", "RendererAgg"]  # SVG, screen PNG, print PNG
