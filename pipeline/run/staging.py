"""Atomic runs: a round's outputs are written to a staging folder, then published in one step.

A run that fails or is interrupted leaves data/processed/<round>/ and
outputs/<round>/ exactly as the last good run left them. The chain runs with
the staging folder as its project root:

    .staging/<round>/
        data/raw               -> link to the real data/raw (read only, never copied)
        .cache                 -> link to the real .cache/ (the cleaned returns kept between runs)
        data/header_aliases.csv -> link to the real table
        data/processed/<other> -> links to other rounds' results (the previous round, for comparisons)
        data/processed/<round>/   this run's results, starting from a copy of the last good ones
        outputs/<round>/          likewise

Publishing is one atomic rename. Each successful run's results are one
"generation" folder, and the two published paths are fixed symlinks through
one `current` link:

    outputs/.runs/<round>/g-<time>-<pid>/processed/   the results of one run
    outputs/.runs/<round>/g-<time>-<pid>/outputs/
    outputs/.runs/<round>/current -> g-<time>-<pid>   swapped with one rename: the publish
    data/processed/<round> -> ../../outputs/.runs/<round>/current/processed
    outputs/<round>        -> .runs/<round>/current/outputs

so a reader sees the whole of one run or the whole of the other, never half of
each, whatever step of publishing a crash interrupts. Everything lives under
outputs/ and data/processed/, so `make clean` removes it all. Results left by
an older version as real folders are first moved into a generation of their
own (still the old results), then swapped like any other.

The copy of the last good results lets a rerun skip the steps whose inputs
have not changed.

One run at a time per round: `round_lock` holds an flock on
.staging/<round>.lock for the whole run; a second run is refused, naming the
first one's process id and start time (see LockedError).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from pathlib import Path

from pipeline import paths

STAGING_DIR = ".staging"
RUNS_DIR = ".runs"  # under outputs/: the generations of each round
CURRENT = "current"


class LockedError(Exception):
    """Another run of the same round holds the lock; the message (Chinese) names it."""


def staging_root(round_id: str, root: Path) -> Path:
    return Path(root) / STAGING_DIR / round_id


def runs_dir(round_id: str, root: Path) -> Path:
    return Path(root) / "outputs" / RUNS_DIR / round_id


# --------------------------------------------------------------------------- one run at a time


@contextlib.contextmanager
def round_lock(round_id: str, root: Path):
    """Hold the round's lock for the duration; raise LockedError if another process holds it.

    A lock, not a marker file: the kernel releases it when its process dies, even by SIGKILL,
    so a crashed run never blocks the next one.
    """
    import fcntl

    path = Path(root) / STAGING_DIR / f"{round_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
            pid, started = (holder + ["?", "?"])[:2]
            raise LockedError(
                f"轮次 {round_id} 正在由另一个进程运行（进程号 {pid}，{started.replace('T', ' ')} 开始）："
                "请等它结束后再运行；如果它已卡住，可先结束该进程（kill 进程号）再运行"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {dt.datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


# --------------------------------------------------------------------------- staging


def discard(round_id: str, root: Path) -> None:
    """Remove what an interrupted or killed run left in .staging/<round>/ (call under the round's lock)."""
    stage = staging_root(round_id, Path(root).resolve())
    if stage.exists():
        shutil.rmtree(stage, ignore_errors=True)


def prepare(round_id: str, root: Path) -> Path:
    """A fresh staging project for one run, holding a copy of the round's last good results."""
    root = Path(root).resolve()
    stage = staging_root(round_id, root)
    if stage.exists():
        shutil.rmtree(stage)  # what a failed or interrupted run left behind
    (stage / "data" / "processed").mkdir(parents=True)
    (stage / "outputs").mkdir()
    _link(root / "data" / "raw", stage / "data" / "raw")
    (root / paths.CACHE_DIR).mkdir(exist_ok=True)  # the cache outlives the run: the staged project shares the real one
    _link(root / paths.CACHE_DIR, stage / paths.CACHE_DIR)
    _link(paths.RoundPaths(root, round_id).aliases, paths.RoundPaths(stage, round_id).aliases)
    processed = root / "data" / "processed"
    for other in sorted(processed.iterdir()) if processed.is_dir() else []:
        if other.is_dir() and other.name != round_id and not other.name.startswith("."):
            _link(other, stage / "data" / "processed" / other.name)
    for real, staged in _round_dirs(round_id, root, stage):
        if real.is_dir():
            shutil.copytree(real, staged, symlinks=True)
    return stage


# --------------------------------------------------------------------------- publishing


def publish(round_id: str, root: Path) -> None:
    """Make the staged results the published ones, in one atomic rename (see the module docstring)."""
    root = Path(root).resolve()
    stage = staging_root(round_id, root)
    runs = runs_dir(round_id, root)
    runs.mkdir(parents=True, exist_ok=True)
    _adopt_legacy_folders(round_id, root, runs)
    generation = runs / f"g-{dt.datetime.now():%Y%m%d-%H%M%S-%f}-{os.getpid()}"
    generation.mkdir()
    for part, staged in zip(("processed", "outputs"), (p for _, p in _round_dirs(round_id, root, stage))):
        if staged.is_dir():
            os.rename(staged, generation / part)
        else:
            (generation / part).mkdir()
    _ensure_published_links(round_id, root)  # first publish: links to a `current` that does not exist yet
    _point_current(runs, generation.name)  # the publish: one rename
    _remove_other_generations(runs)
    shutil.rmtree(stage, ignore_errors=True)
    with contextlib.suppress(OSError):
        stage.parent.rmdir()  # only when no other round is being staged (a lock file keeps it otherwise)


def _point_current(runs: Path, generation: str) -> None:
    """current -> generation, atomically: a new link renamed over the old one."""
    new = runs / f"{CURRENT}.new"
    with contextlib.suppress(FileNotFoundError):
        new.unlink()
    os.symlink(generation, new, target_is_directory=True)
    os.replace(new, runs / CURRENT)


def _published_links(round_id: str, root: Path) -> list[tuple[Path, str]]:
    """The two published paths and the relative targets their symlinks have."""
    return [(paths.processed_round_dir(round_id, root), f"../../outputs/{RUNS_DIR}/{round_id}/{CURRENT}/processed"),
            (paths.outputs_round_dir(round_id, root), f"{RUNS_DIR}/{round_id}/{CURRENT}/outputs")]


def _ensure_published_links(round_id: str, root: Path) -> None:
    for path, target in _published_links(round_id, root):
        _ensure_link(path, target)


def _ensure_link(path: Path, target: str) -> None:
    """path -> target, unless it is already; a stale link (or none) is replaced atomically."""
    if path.is_symlink() and os.readlink(path) == target:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    new = path.with_name(f".{path.name}.link")
    with contextlib.suppress(FileNotFoundError):
        new.unlink()
    os.symlink(target, new, target_is_directory=True)
    os.replace(new, path)


def _adopt_legacy_folders(round_id: str, root: Path, runs: Path) -> None:
    """Real folders published by an older version become a generation of their own, so that the swap to
    the new results is one rename as usual. Once per round: between moving a real folder into that
    generation and linking it back (two renames, a moment apart) the folder is briefly absent."""
    links = _published_links(round_id, root)
    for path, _ in links:
        shutil.rmtree(path.with_name(f".{path.name}.old"), ignore_errors=True)  # left by the older publish
    legacy = [(path, target, part) for (path, target), part in zip(links, ("processed", "outputs"))
              if path.is_dir() and not path.is_symlink()]
    if not legacy:
        return
    generation = runs / "g-legacy"
    shutil.rmtree(generation, ignore_errors=True)
    generation.mkdir()
    for part in ("processed", "outputs"):
        if not any(p == part for _, _, p in legacy):
            (generation / part).mkdir()
    _point_current(runs, generation.name)
    for path, target, part in legacy:
        os.rename(path, generation / part)
        _ensure_link(path, target)


def _remove_other_generations(runs: Path) -> None:
    current = os.readlink(runs / CURRENT)
    for entry in runs.iterdir():
        if entry.name.startswith("g-") and entry.name != current:
            shutil.rmtree(entry, ignore_errors=True)


def unstage_notebooks(round_id: str, root: Path) -> None:
    """Point the published executed notebooks at the real project root, so that rerunning
    one in JupyterLab reads and writes the round's real folders, not the staging ones."""
    root = Path(root).resolve()
    stage = str(staging_root(round_id, root))
    for notebook in paths.RoundPaths(root, round_id).executed.glob("*.ipynb"):
        text = notebook.read_text(encoding="utf-8")
        if stage in text:
            notebook.write_text(text.replace(stage, str(root)), encoding="utf-8")


def _round_dirs(round_id: str, root: Path, stage: Path) -> list[tuple[Path, Path]]:
    return [(paths.processed_round_dir(round_id, root), paths.processed_round_dir(round_id, stage)),
            (paths.outputs_round_dir(round_id, root), paths.outputs_round_dir(round_id, stage))]


def _link(target: Path, link: Path) -> None:
    if target.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, link, target_is_directory=target.is_dir())
