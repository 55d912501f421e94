"""The per-file cache of cleaned returns (pipeline/ingest/cache.py), on a copy of the sample round.

A rerun reads only the files that changed and gives exactly what a run without the cache gives; a change
to the file's bytes, the alias table or the cleaning code makes an entry stale; a damaged entry is read
past, never trusted and never fatal.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from test_columnwise import assert_same_result

from pipeline import paths, rounds, schemas
from pipeline.ingest import cache, cleaning, readers

CHANGED = "宁东基地重大项目进展情况表（11月）.xlsx"


@pytest.fixture
def root(tmp_path):
    shutil.copytree(paths.RoundPaths(paths.PROJECT_ROOT, paths.SAMPLE_ROUND).raw, paths.RoundPaths(tmp_path, "r").raw)
    shutil.copy2(paths.HEADER_ALIASES_FILE, paths.RoundPaths(tmp_path, "r").aliases)
    return tmp_path


class Reads:
    """The files read from disk (their paths in the round folder), also by the worker processes that clean
    files side by side: each read is one line appended to a file."""

    def __init__(self, log: Path):
        self.log = log
        log.write_text("", encoding="utf-8")

    def add(self, rel: str) -> None:
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(rel + "\n")

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def __iter__(self):
        return iter(self.lines())

    def __len__(self) -> int:
        return len(self.lines())

    def clear(self) -> None:
        self.log.write_text("", encoding="utf-8")


@pytest.fixture
def reads(monkeypatch, tmp_path):
    seen = Reads(tmp_path / "reads.log")
    real = readers.read_return

    def spy(path, rel, **kwargs):
        seen.add(rel)
        return real(path, rel, **kwargs)

    monkeypatch.setattr(cleaning.readers, "read_return", spy)
    return seen


def run(root: Path, aliases=None, cached: bool = True) -> cleaning.RoundResult:
    where = paths.RoundPaths(root, "r")
    aliases = aliases or schemas.load_aliases(where.aliases)
    return cleaning.clean_round(rounds.load_round("r", root), aliases, echo=lambda *_: None,
                                cache_dir=where.cache if cached else None)


def returns_of(root: Path) -> list[str]:
    raw = paths.RoundPaths(root, "r").raw
    return [p.relative_to(raw).as_posix() for p in readers.list_round_files(raw).returns]


def test_a_rerun_reads_nothing_and_gives_the_same_result_as_no_cache(root, reads):
    first = run(root)
    assert sorted(reads) == sorted(returns_of(root)) and len(reads) > 10
    kept = list(paths.RoundPaths(root, "r").cache.glob("*.pickle"))
    assert len(kept) >= len(reads) - 2  # the unreadable ones are not kept
    reads.clear()
    again = run(root)
    unreadable = set(first.problems.loc[first.problems["code"] == "unreadable", "file"])
    assert set(reads) == unreadable  # a file that cannot be read is tried again, never remembered
    assert_same_result(first, again)
    assert_same_result(run(root, cached=False), again)


def test_one_changed_return_is_the_only_one_read_again(root, reads):
    run(root)
    path = paths.RoundPaths(root, "r").raw / CHANGED
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    name = next(c for row in sheet.iter_rows() for c in row if c.value == "项目名称")
    sheet.cell(row=name.row + 1, column=name.column).value = "宁东基地改名后的示范项目"
    book.save(path)
    reads.clear()
    result = run(root)
    unreadable = set(result.problems.loc[result.problems["code"] == "unreadable", "file"])
    assert set(reads) - unreadable == {CHANGED}
    assert "宁东基地改名后的示范项目" in set(result.tables["projects"]["project_name"])
    assert_same_result(run(root, cached=False), result)
    # The entry of the file as it was is gone: the cache holds one entry per readable file.
    assert len(list(paths.RoundPaths(root, "r").cache.glob("*.pickle"))) == len(returns_of(root)) - len(unreadable)


def test_a_changed_alias_table_cleans_every_file_again(root, reads):
    run(root)
    reads.clear()
    where = paths.RoundPaths(root, "r")
    with where.aliases.open("a", encoding="utf-8") as fh:
        fh.write("projects,location,项目落地区县\n")
    result = run(root)
    assert sorted(reads) == sorted(returns_of(root))
    assert_same_result(run(root, cached=False), result)


def test_changed_cleaning_code_cleans_every_file_again(root, reads, monkeypatch):
    run(root)
    reads.clear()
    monkeypatch.setattr(cache, "code_digest", lambda: "another version of pipeline/ingest")
    run(root)
    assert sorted(reads) == sorted(returns_of(root))


def test_the_code_digest_covers_the_cleaning_code():
    cache._code_digest.cache_clear()
    digest = cache.code_digest()
    assert len(digest) == 64 and digest == cache.code_digest()
    covered = {p.name for name in cache.CODE
               for p in ((paths.PACKAGE_DIR / name).rglob("*.py")
                         if (paths.PACKAGE_DIR / name).is_dir() else [paths.PACKAGE_DIR / name])}
    assert {"cleaning.py", "parsing.py", "columnwise.py", "headers.py", "schemas.py", "conventions.py",
            "workers.py"} <= covered


@pytest.mark.parametrize("damage", [b"", b"not a pickle at all", b"\x80\x05truncated"])
def test_a_damaged_entry_is_read_past_not_trusted(root, reads, damage):
    first = run(root)
    entries = sorted(paths.RoundPaths(root, "r").cache.glob("*.pickle"))
    for entry in entries:
        entry.write_bytes(damage)
    reads.clear()
    again = run(root)
    assert sorted(reads) == sorted(returns_of(root))
    assert_same_result(first, again)
    assert all(e.stat().st_size > 100 for e in entries)  # written anew


def test_an_entry_under_another_files_name_is_not_taken_for_it(root, reads):
    """An entry copied over another (a key mismatch inside) is not used."""
    first = run(root)
    unreadable = set(first.problems.loc[first.problems["code"] == "unreadable", "file"])
    entries = sorted(paths.RoundPaths(root, "r").cache.glob("*.pickle"))
    entries[1].write_bytes(entries[0].read_bytes())
    reads.clear()
    assert_same_result(first, run(root))
    assert len(set(reads) - unreadable) == 1


def test_a_file_with_corrections_is_always_cleaned_afresh(root, reads):
    raw = paths.RoundPaths(root, "r").raw
    (raw / "corrections.csv").write_text(
        "文件,工作表,行号,列,原值,修正值,依据,修正人,日期\n"
        f"{CHANGED},不存在的表,5,项目名称,甲,乙,电话核实,张三,2021-12-05\n", encoding="utf-8")
    run(root)
    reads.clear()
    run(root)
    assert CHANGED in reads
