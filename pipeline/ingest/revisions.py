"""A revised file (“甲（修改版）.xlsx”) beside its original: the original's rows are not used."""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from pipeline.ingest import rowtable
from pipeline.ingest.files import UNKNOWN_UNIT
from pipeline.ingest.problems import HINT, Problem

# ----------------------------------------------------------------------------- which copy wins
#
# A unit's return can arrive in more than one copy. The rules a person would use:
# - a revised file (修改版, 更正, 修订, v2 …) wins over the original beside it, which is then not used;
# - then, project by project (dedup.py): a copy on a visible sheet wins over one on a hidden
#   sheet (a hidden stale sheet, last month's, often sits before the live one), then the copy from
#   the unit whose city the project is in, then the first one read.
# The copy that loses is quarantined with the reason; it is counted elsewhere, so it is no loss.


_REVISED = re.compile(r"修改版?|修订版?|更正版?|修正版?|调整版|最新版?|终版|定稿|(?<![a-zA-Z])[vV]\d+")


def revision_base(rel: str) -> tuple[str, bool]:
    """A file's name without its revision mark, and whether it has one: “甲（修改版）.xlsx” -> (“甲.xlsx”, True)."""
    folder, _, name = unicodedata.normalize("NFKC", rel).rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    base = _REVISED.sub("", stem)
    base = re.sub(r"\(\s*\)|[_\-\s]+$", "", base).strip()
    return f"{folder}/{base}.{suffix.lower()}" if dot else f"{folder}/{base}", base != stem.strip()


def supersede_originals(rows: pd.DataFrame, problems: list[Problem], ledger: list[dict]) -> list[Problem]:
    """An original file beside its revised copy (“（修改版）”) is not used: its rows are quarantined as
    superseded, its problems withdrawn, and the unit told which file was used."""
    files = dict.fromkeys(entry["file"] for entry in ledger if entry["status"] == "已读取")
    revised = {revision_base(f)[0]: f for f in files if revision_base(f)[1]}
    superseded = {f: revised[base] for f in files for base, is_revised in [revision_base(f)]
                  if not is_revised and base in revised}
    if not superseded:
        return problems
    files_of_rows = rows["file"].to_numpy()
    for f, newer in superseded.items():  # the original's rows are copies counted in the revised file
        rowtable.quarantine(rows, np.flatnonzero(files_of_rows == f), f"已采用修改版“{newer}”，原文件的数据未采用",
                            duplicate=True)
    for entry in ledger:
        if entry["file"] in superseded:
            entry["note"] = f"已被修改版“{superseded[entry['file']]}”取代，未采用"
    kept = [p for p in problems if p.file not in superseded]
    units = dict(zip(rowtable.values(rows, "file"), rowtable.values(rows, "unit")))
    return kept + [Problem(units.get(f, UNKNOWN_UNIT), f, "", None, "", "", f"已采用修改版“{newer}”，本文件未采用",
                           "无需处理；如修改版并非最终版本，请重新报送", HINT, "superseded_by_revision")
                   for f, newer in superseded.items()]
