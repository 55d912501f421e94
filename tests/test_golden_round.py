"""The whole round gives the same outputs as the committed golden copy (tests/golden/<round>/).

Restructuring (typed columns through ingest, one indicator builder, the report model) must not change a
single published number or sentence. Steps 1–4 run in this process (tests/inprocess.py) on the bundled
sample rounds, and what they write is compared, as text, with the golden copy:

- indicators.json, byte for byte;
- the report's visible text (every part of report.html, tags, styles and scripts stripped);
- step 1's ledger.csv, and every parquet of data/processed/<round>/ (clean tables, quarantine, problems,
  header map, report tables) as CSV;
- every workbook step 1 and 2 write (the clean tables and 台账 for people, 退回修改清单, 数字来源 …), each sheet
  as CSV.

A change that is meant to change the outputs rewrites the golden copy on purpose, and the diff shows
what changed: ``GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/test_golden_round.py``.
"""
from __future__ import annotations

import io
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import inprocess
import pandas as pd
import pytest

from pipeline import paths

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
ROUNDS = ("2021-09", "2021-12")  # 2021-12 compares itself with 2021-09, so that one runs first
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"


class _VisibleText(HTMLParser):
    """The text a reader sees: everything outside <script>, <style> and <head>."""

    HIDDEN = {"script", "style", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.lines: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.depth -= tag in self.HIDDEN

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self.depth:
            self.lines.append(text)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def frame_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return f"# dtypes: {', '.join(f'{c}={t}' for c, t in frame.dtypes.astype(str).items())}\n{buffer.getvalue()}"


def workbook_text(path: Path) -> str:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    return "".join(f"## {name}\n{frame_text(sheet)}" for name, sheet in sheets.items())


def outputs_of(root: Path, round_id: str, html: str) -> dict[str, str]:
    """Every compared output of one round, by a relative name, as text."""
    processed = paths.processed_round_dir(round_id, root)
    outputs = paths.outputs_round_dir(round_id, root)
    texts = {"indicators.json": (outputs / "indicators.json").read_text(encoding="utf-8"),
             "report.txt": visible_text(html),
             "processed/ledger.csv": (processed / paths.LEDGER).read_text(encoding="utf-8")}
    for parquet in sorted(processed.rglob("*.parquet")):
        texts[f"processed/{parquet.relative_to(processed).with_suffix('.csv').as_posix()}"] = \
            frame_text(pd.read_parquet(parquet))
    for folder, prefix in ((processed, "processed"), (outputs, "workbooks")):
        for workbook in sorted(folder.rglob("*.xlsx")):
            texts[f"{prefix}/{workbook.relative_to(folder).with_suffix('.txt').as_posix()}"] = workbook_text(workbook)
    return texts


@pytest.fixture(scope="module")
def rounds_run(tmp_path_factory) -> dict[str, dict[str, str]]:
    root = tmp_path_factory.mktemp("golden")
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    shutil.copy2(ROOT / "data" / paths.ALIASES_NAME, root / "data" / paths.ALIASES_NAME)
    result = {}
    for round_id in ROUNDS:
        _, html = inprocess.run(root, round_id)
        result[round_id] = outputs_of(root, round_id, html)
    return result


def _write_golden(round_id: str, texts: dict[str, str]) -> None:
    folder = GOLDEN / round_id
    shutil.rmtree(folder, ignore_errors=True)
    for name, text in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8", newline="\n")


@pytest.mark.parametrize("round_id", ROUNDS)
def test_the_round_gives_the_golden_outputs(rounds_run, round_id):
    texts = rounds_run[round_id]
    if UPDATE:
        _write_golden(round_id, texts)
    folder = GOLDEN / round_id
    golden = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
              for p in sorted(folder.rglob("*")) if p.is_file()}
    assert len(golden) > 10 and "indicators.json" in golden and "report.txt" in golden
    assert sorted(texts) == sorted(golden), "输出文件的集合与 tests/golden 不同"
    for name in golden:
        assert texts[name] == golden[name], f"{round_id}/{name} 与 tests/golden 中的不同"
