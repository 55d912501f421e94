"""督查报表处理流水线: an inspection round's Excel returns in; clean data, indicators, figures and the report out.

One package per stage, in the order a return travels through them; each stage imports only the stages before it
and the shared modules (tests/test_package_layout.py checks this):

- shared: ``paths`` (every path of a round: ``RoundPaths``) · ``rounds``, ``conventions`` (round.yml) ·
  ``schemas`` (return kinds, header aliases) · ``excel`` (every workbook the pipeline writes);
- ``ingest`` (notebook 1): files to grids, headers, cell values, cleaning, quarantine, ledger, 退回修改清单;
- ``indicators`` (notebook 2): formulas, breakdowns, 三色预警, findings, indicators.json, 数字来源;
- ``figures`` (notebook 3): the charts;
- ``report`` (notebook 4): report.html/pdf, report.docx, templates/;
- ``run``: the papermill chain, the rerun manifest, staging and publishing;
- on top: ``__main__`` (the command line) and the developer tools ``sample`` and ``bench``, which are not part of the
  code whose digest decides reruns.
"""
