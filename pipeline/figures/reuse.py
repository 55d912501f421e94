"""Reusing a chart whose data did not change: the digest of what it is drawn from, and the record of what was drawn.

Each chart of ``charts.FIGURES`` declares what it is drawn from (``FigureSpec.tables``, ``.values``, ``.facts``) and
is drawn from those only (``FigureInputs.only``: anything else it reached for raises ``UndeclaredInput``). Its digest
(``figure_digest``) covers that data and how it is drawn (``drawing_digest``: the pipeline's code, the versions of
matplotlib, seaborn, Pillow, NumPy and pandas, the fonts the charts use and matplotlib's settings in the charts'
theme). ``outputs/<round>/figures/.drawn.json`` (``RECORD``) keeps, for each chart, the digest it was last drawn with
and a digest of each file written (screen PNG, SVG, print PNG). A chart is drawn again unless its digest is the
recorded one and each of its files is still there with the recorded bytes: a file changed or removed by hand is
drawn again. The files do not depend on when or where a chart is drawn (no date or version in them, SVG ids from a
fixed salt), so a reused file is the file a new drawing would write.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from pipeline import paths

RECORD = ".drawn.json"  # under outputs/<round>/figures/; hidden: not a result the runner lists (run/rerun.py)
RECORD_FORMAT = 1
# Libraries whose version can change a drawn file.
LIBRARIES = ("matplotlib", "seaborn", "PIL", "numpy", "pandas")
# matplotlib settings that say how figures are shown on screen, not how a file is drawn.
SCREEN_SETTINGS = ("backend", "interactive", "webagg.", "tk.", "macosx.", "toolbar", "figure.raise_window",
                   "savefig.directory", "keymap.")


class UndeclaredInput(RuntimeError):
    """A chart read data its FigureSpec does not declare (a programming error: add it to the declaration)."""


def _absent() -> str:
    return "<absent>"


# --------------------------------------------------------------------------- what a chart may read


class DeclaredTables(dict):
    """The tables a chart declared; any other name raises UndeclaredInput."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], names: Iterable[str], figure: str):
        super().__init__({name: tables[name] for name in names})
        self.figure = figure

    def __missing__(self, name: str):
        raise UndeclaredInput(f"figure {self.figure!r} reads table {name!r}, which its FigureSpec.tables does not "
                              "declare")


class DeclaredValues(Mapping):
    """The values of indicators.json a chart declared, as key paths (("previous.round",), ("notes", "x")); reading a
    key no declared path starts with raises UndeclaredInput; a declared key absent from indicators.json is absent
    here too (``get`` gives its default)."""

    def __init__(self, values: Mapping, declared: Iterable[tuple[str, ...]], figure: str):
        self._values, self._declared, self.figure = values, tuple(declared), figure

    def __getitem__(self, key: str):
        below = [path[1:] for path in self._declared if path[0] == key]
        if not below:
            raise UndeclaredInput(f"figure {self.figure!r} reads value {key!r}, which its FigureSpec.values does not "
                                  "declare")
        value = self._values[key]  # KeyError when indicators.json has no such value: Mapping.get's default
        if () in below or not isinstance(value, Mapping):
            return value
        return DeclaredValues(value, below, self.figure)

    def __iter__(self):
        return iter([key for key in dict.fromkeys(path[0] for path in self._declared) if key in self._values])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def declared(self) -> list:
        """Each declared path with its value (or a mark that it is absent): what the digest covers."""
        found = []
        for path in self._declared:
            value: Any = self._values
            for key in path:
                value = value.get(key, _absent()) if isinstance(value, Mapping) else _absent()
            found.append([list(path), value])
        return found


# --------------------------------------------------------------------------- digests


def frame_digest(frame: pd.DataFrame) -> str:
    """Columns, dtypes, index and values of a table (pandas' row hashes; a cell that cannot be hashed by value is
    hashed by its text)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr((list(map(str, frame.columns)), list(map(str, frame.dtypes)), frame.shape)).encode())
    try:
        rows = pd.util.hash_pandas_object(frame, index=True)
    except TypeError:
        rows = pd.util.hash_pandas_object(frame.astype(str), index=True)
    digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def data_digest(tables: Mapping[str, pd.DataFrame], values: DeclaredValues, facts: Mapping[str, Any]) -> str:
    """The digest of what one chart is drawn from."""
    said = {"tables": {name: frame_digest(frame) for name, frame in sorted(tables.items())},
            "values": values.declared(), "facts": {name: repr(value) for name, value in sorted(facts.items())}}
    return hashlib.blake2b(json.dumps(said, sort_keys=True, ensure_ascii=False, default=repr).encode(),
                           digest_size=20).hexdigest()


def figure_digest(key: str, data: str, drawing: str) -> str:
    return hashlib.blake2b(f"{key}\n{data}\n{drawing}".encode(), digest_size=20).hexdigest()


def drawing_digest(font: str) -> str:
    """How every chart is drawn: the code, the libraries, the fonts and matplotlib's settings (call it inside the
    charts' theme, where the charts are drawn)."""
    import matplotlib

    settings = sorted((name, repr(value)) for name, value in matplotlib.rcParams.items()
                      if not name.startswith(SCREEN_SETTINGS))
    said = [code_digest(), _versions(), font_files_said(font), settings]
    return hashlib.blake2b(json.dumps(said, ensure_ascii=False).encode(), digest_size=20).hexdigest()


@functools.cache
def code_digest() -> str:
    """Every module of the pipeline package but the developer tools: the charts, and what they take from the
    indicators, the conventions and the helpers (simple, and sound without knowing which module a chart uses)."""
    package = Path(paths.__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.split("/")[0] == "devtools":
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _versions() -> list[str]:
    import importlib

    return [sys.version, *(f"{name} {getattr(importlib.import_module(name), '__version__', '?')}"
                           for name in LIBRARIES)]


def font_files_said(font: str) -> list:
    """The font files of the Chinese family and of matplotlib's fallback: path, size and modification time."""
    from matplotlib import font_manager

    said = set()
    for entry in font_manager.fontManager.ttflist:
        if entry.name in (font, "DejaVu Sans"):
            try:
                stat = os.stat(entry.fname)
            except OSError:
                continue
            said.add((entry.name, entry.fname, entry.style, str(entry.weight), stat.st_size, stat.st_mtime_ns))
    return sorted(said)


def file_digest(path: Path) -> str:
    return hashlib.blake2b(Path(path).read_bytes(), digest_size=20).hexdigest()


def files_digests(files: Mapping[str, Path]) -> dict[str, str]:
    return {kind: file_digest(path) for kind, path in files.items()}


# --------------------------------------------------------------------------- the record


def record_path(out_dir: Path) -> Path:
    return Path(out_dir) / paths.FIGURES / RECORD


def load_record(out_dir: Path) -> dict[str, dict]:
    """What the last drawing recorded, by chart key ({} when there is no readable record)."""
    try:
        said = json.loads(record_path(out_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(said, dict) or said.get("format") != RECORD_FORMAT or not isinstance(said.get("figures"), dict):
        return {}
    return said["figures"]


def still_good(entry: Any, digest: str, files: Mapping[str, Path]) -> bool:
    """Whether a chart's recorded drawing has this digest and each of its files is still there, unchanged."""
    if not isinstance(entry, dict) or entry.get("digest") != digest or not isinstance(entry.get("files"), dict):
        return False
    try:
        return entry["files"] == files_digests(files)
    except OSError:
        return False


def save_record(out_dir: Path, figures: Mapping[str, dict]) -> Path:
    """Write the record whole (a temporary file, then os.replace)."""
    path = record_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"format": RECORD_FORMAT, "figures": dict(figures)}, ensure_ascii=False,
                                    indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
