"""Atomic runs: a round's outputs are written to a staging folder, then moved into place.

A run that fails or is interrupted leaves data/processed/<round>/ and
outputs/<round>/ exactly as the last good run left them. The chain runs with
the staging folder as its project root:

    .staging/<round>/
        data/raw               -> link to the real data/raw (read only, never copied)
        data/header_aliases.csv -> link to the real table
        data/processed/<other> -> links to other rounds' results (the previous round, for comparisons)
        data/processed/<round>/   this run's results, starting from a copy of the last good ones
        outputs/<round>/          likewise

Only when every step has succeeded are the two round folders swapped into
place, each with one rename. The copy of the last good results lets a rerun
skip the steps whose inputs have not changed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from pipeline import config

STAGING_DIR = ".staging"


def staging_root(round_id: str, root: Path) -> Path:
    return Path(root) / STAGING_DIR / round_id


def prepare(round_id: str, root: Path) -> Path:
    """A fresh staging project for one run, holding a copy of the round's last good results."""
    root = Path(root).resolve()
    stage = staging_root(round_id, root)
    if stage.exists():
        shutil.rmtree(stage)  # what a failed or interrupted run left behind
    (stage / "data" / "processed").mkdir(parents=True)
    (stage / "outputs").mkdir()
    _link(root / "data" / "raw", stage / "data" / "raw")
    _link(root / "data" / "header_aliases.csv", stage / "data" / "header_aliases.csv")
    processed = root / "data" / "processed"
    for other in sorted(processed.iterdir()) if processed.is_dir() else []:
        if other.is_dir() and other.name != round_id:
            _link(other, stage / "data" / "processed" / other.name)
    for real, staged in _round_dirs(round_id, root, stage):
        if real.is_dir():
            shutil.copytree(real, staged, symlinks=True)
    return stage


def publish(round_id: str, root: Path) -> None:
    """Move the staged results into place; the previous results are removed only after the move."""
    root = Path(root).resolve()
    stage = staging_root(round_id, root)
    for real, staged in _round_dirs(round_id, root, stage):
        if not staged.is_dir():
            continue
        real.parent.mkdir(parents=True, exist_ok=True)
        old = real.with_name(f".{real.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if real.exists():
            os.replace(real, old)
        os.replace(staged, real)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)
    with contextlib.suppress(OSError):
        stage.parent.rmdir()  # only when no other round is being staged


def unstage_notebooks(round_id: str, root: Path) -> None:
    """Point the published executed notebooks at the real project root, so that rerunning
    one in JupyterLab reads and writes the round's real folders, not the staging ones."""
    root = Path(root).resolve()
    stage = str(staging_root(round_id, root))
    for notebook in (config.outputs_round_dir(round_id, root) / "notebooks").glob("*.ipynb"):
        text = notebook.read_text(encoding="utf-8")
        if stage in text:
            notebook.write_text(text.replace(stage, str(root)), encoding="utf-8")


def _round_dirs(round_id: str, root: Path, stage: Path) -> list[tuple[Path, Path]]:
    return [(config.processed_round_dir(round_id, root), config.processed_round_dir(round_id, stage)),
            (config.outputs_round_dir(round_id, root), config.outputs_round_dir(round_id, stage))]


def _link(target: Path, link: Path) -> None:
    if target.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, link, target_is_directory=target.is_dir())
