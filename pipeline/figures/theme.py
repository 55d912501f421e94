"""The charts' look: seaborn's whitegrid theme with the Chinese font first, the colours, and the units' order.

``theme_rc()`` is seaborn's whitegrid theme with the font of ``fonts.cjk_font()`` put first: seaborn's own theme
resets ``font.family`` to fonts without Chinese glyphs, so every chart is drawn inside ``theme()`` whatever the caller
set. A unit has one colour in every chart: its position among round.yml's units picks it from ``UNIT_PALETTE``.
Units are listed by their rank (``unit_ranking``: 综合得分), units without a rank after them in round.yml order.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import matplotlib
import pandas as pd
import seaborn as sns

from pipeline.figures.fonts import cjk_font


def theme_rc() -> dict:
    """seaborn's whitegrid theme with the Chinese font first: the rc of every chart."""
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85)}
    rc.update({
        # The font by name, not the generic "sans-serif": a text keeps its family, and a generic one
        # would be looked up again in whatever rcParams are current when the figure is drawn.
        "font.family": [cjk_font(), "DejaVu Sans"],
        "font.sans-serif": [cjk_font(), "DejaVu Sans"],
        "axes.unicode_minus": False,  # an ASCII hyphen for negative numbers: every font has it
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "svg.fonttype": "path",  # SVG text as outlines: no font needed to view it
        "svg.hashsalt": "inspection-pipeline",  # reproducible SVG ids
    })
    return rc


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """Draw inside this: the project's theme, whatever the global rcParams say."""
    with matplotlib.rc_context(theme_rc()):
        yield


def apply_theme() -> str:
    """Set the theme globally (for charts an analyst draws in the notebook); returns the font used."""
    sns.set_theme(style="whitegrid")
    matplotlib.rcParams.update(theme_rc())
    return cjk_font()


# --------------------------------------------------------------------------- colours and order

# tab10, then the light tab20 companions: 20 distinct colours before any repeats.
UNIT_PALETTE = tuple(sns.color_palette("tab10", 10)) + tuple(sns.color_palette("tab20", 20)[1::2])
OTHER_COLOR = (0.6, 0.6, 0.6)


def unit_colors(units: tuple[str, ...] | list[str]) -> dict[str, tuple]:
    """One colour per unit, by its position in round.yml: the same in every chart."""
    return {unit: UNIT_PALETTE[i % len(UNIT_PALETTE)] for i, unit in enumerate(units)}


def unit_order(ranking: pd.DataFrame, units: tuple[str, ...] | list[str]) -> list[str]:
    """Units by rank (综合得分, best first), then the unranked ones in round.yml order, then any other."""
    ranked = ranking[ranking["rank"].notna()].sort_values("rank", kind="stable")["unit"].astype(str).tolist()
    rest = [u for u in units if u not in ranked]
    others = [u for u in ranking["unit"].astype(str) if u not in ranked and u not in rest]
    return [*ranked, *rest, *others]
