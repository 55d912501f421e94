"""The per-file cache of cleaned returns: a rerun reads and cleans only the returns that changed.

Each return file's cleaned result (its rows as an Arrow IPC buffer of rowtable.ROW_SCHEMA, its problems,
ledger rows and 表头对照 rows, as files.read_and_clean_file gives them, before the round-level steps) is kept in
one file under RoundPaths.cache (.cache/ingest/<round>/, never committed), named by a key made of:

- the file's bytes (sha256) and its path in the round folder;
- the alias table (every alias and pattern row) and the concept table (pipeline/ingest/header_concepts.csv);
- the cleaning code: the source of pipeline/ingest/ and of the shared modules it uses (schemas, conventions,
  rounds, frames, workers);
- the round's settings (round.yml as loaded: units, 截至日期, conventions …), and the Python version.

Any change to any of them gives another key, so a stale entry is never read; entries no run used
are removed at the end of the round. A file with corrections (corrections.csv) is always cleaned
afresh. An entry that cannot be read (cut short, written by another version) is ignored and the
file cleaned again; the whole folder is safe to delete.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipeline import paths, workers
from pipeline.ingest import concepts
from pipeline.rounds import Round
from pipeline.schemas import AliasTable

# Bump when the layout of an entry changes (the code digest covers the code that fills it).
FORMAT = 2
SUFFIX = ".pickle"
# The code whose change makes every entry stale.
CODE = ("ingest", "schemas.py", "conventions.py", "rounds.py", "frames.py", "workers.py")


@functools.lru_cache(maxsize=None)
def _code_digest(package: Path) -> str:
    digest = hashlib.sha256()
    for name in CODE:
        path = package / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def code_digest() -> str:
    """The cleaning code's digest (read once per process)."""
    return _code_digest(paths.PACKAGE_DIR)


def alias_digest(aliases: AliasTable) -> str:
    rows = {"aliases": aliases.by_key, "patterns": [[p.pattern, kind, column, written]
                                                    for p, kind, column, written in aliases.patterns]}
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def round_digest(round_: Round) -> str:
    """The round's settings; not where its folder is (a staged run reads the same files elsewhere)."""
    settings = dataclasses.replace(round_, raw_dir=Path(), warnings=())
    return hashlib.sha256(repr(settings).encode()).hexdigest()


class FileCache:
    """The cache of one round's cleaned returns (see the module docstring)."""

    def __init__(self, folder: Path | None, round_: Round, aliases: AliasTable):
        self.folder = Path(folder) if folder else None
        self.common = "\0".join([str(FORMAT), sys.version, code_digest(), alias_digest(aliases),
                                  concepts.concepts_digest(), round_digest(round_)]) if self.folder else ""
        self.used: set[str] = set()
        self.hits = self.misses = 0

    def key(self, path: Path, rel: str) -> str | None:
        """The entry name of one return file as it is now; None without a cache or for a file that cannot be read."""
        if self.folder is None:
            return None
        try:
            with open(path, "rb") as fh:
                content = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError:
            return None
        return hashlib.sha256(f"{self.common}\0{rel}\0{content}".encode()).hexdigest()

    def get(self, key: str | None) -> Any | None:
        """The cleaned result stored under key; None when there is none or it cannot be read."""
        if key is None:
            return None
        self.used.add(key)
        try:
            with open(self.folder / f"{key}{SUFFIX}", "rb") as fh, workers.paused_gc():
                stored_key, result = pickle.load(fh)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # noqa: BLE001 - a damaged or foreign entry is no reason to stop: clean the file again
            self.misses += 1
            return None
        if stored_key != key:
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str | None, result: Any) -> None:
        """Store a cleaned result (written whole under a temporary name, then renamed: never half an entry)."""
        if key is None:
            return
        self.used.add(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((key, result), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.folder / f"{key}{SUFFIX}")
        except OSError:
            return  # a cache that cannot be written only costs time

    def prune(self) -> None:
        """Remove the entries this round did not use (older versions of files, other code): the cache holds one
        round."""
        if self.folder is None or not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            stale = entry.suffix == ".tmp" or (entry.suffix == SUFFIX and entry.stem not in self.used)
            if stale and entry.is_file():
                try:
                    entry.unlink()
                except OSError:
                    pass


def no_cache(round_: Round, aliases: AliasTable) -> FileCache:
    return FileCache(None, round_, aliases)
