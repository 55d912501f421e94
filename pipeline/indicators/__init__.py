"""Stage 2: indicators, findings, 三色预警 and the source of every number.

Modules, in the order they build on each other: ``formulas`` (rates, time progress, flags, ``Missing``) ·
``breakdowns`` (the tables by batch, unit, city, industry, nature and the other returns) · ``early_warning``
(三色预警) · ``findings`` (track list, ranking, notify list, the previous round) · ``model`` (what step 2 computes
once per round, and what it gives) · ``other_returns`` (the figures of 主要指标, 招商引资, 十大工程) · ``assembly``
(indicators.json, the report tables) · ``keys`` (the indicators.json keys, declared in keys.csv) · ``sources``
(数字来源.xlsx) · ``builder`` (step 2 in one call: ``builder.build``).

``pipeline.indicators`` itself offers the names of formulas, breakdowns, other_returns and assembly, so notebooks
and tests write ``indicators.compute_indicators`` or ``ind.breakdown`` without knowing which module holds them.
"""
from pipeline.indicators.assembly import *  # noqa: F401,F403
from pipeline.indicators.breakdowns import *  # noqa: F401,F403
from pipeline.indicators.formulas import *  # noqa: F401,F403
from pipeline.indicators.formulas import _norm  # noqa: F401  (tests check the normalisation directly)
from pipeline.indicators.other_returns import *  # noqa: F401,F403
