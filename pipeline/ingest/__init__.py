"""Stage 1: a round's returns in, clean tables, quarantine, ledger and the 退回修改清单 out.

Modules, in the order a return travels through them: ``readers`` (files to cell grids) · ``parsing`` (cell values) ·
``headers`` (header rows, column meaning, row roles) · ``context`` (title, unit and unit-of-amount lines around the
table) · ``totals`` (合计 and 小计 checks) · ``corrections`` (corrections.csv) ·
``cleaning`` (the stage's entry: a round's returns to clean tables), through ``files`` (the round's files, side by
side or cached) · ``sheet`` (one sheet) · ``rows`` and ``checks`` (one data row, its checks) · ``revisions`` and
``dedup`` (which copy is used) · ``tables`` and ``ledger`` (typed tables, the ledger, saving and loading) ·
``quality`` (what is missing, the ledger check) · ``feedback`` (退回修改清单) · ``return_template`` (填报模板).
"""
