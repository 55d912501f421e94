"""督查报表处理流水线: an inspection round's Excel returns in; clean data, indicators, figures and the report out.

Modules, in the order a return travels through them:
config (paths) · rounds (round.yml) · schemas (return kinds, header aliases) · parsing (cell values) ·
readers (files to grids) · headers (header and row roles) · cleaning (grids to clean tables, quarantine, ledger) · feedback (退回修改清单) ·
runner (the papermill chain) · indicators and findings (notebook 2) · figures and report (notebooks 3 and 4).
"""
