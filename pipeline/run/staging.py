"""Atomic runs: a round's outputs are written to a staging folder, then published all at once.

A run that fails or is interrupted leaves data/processed/<round>/ and
outputs/<round>/ exactly as the last good run left them. The chain runs with
the staging folder as its project root:

    .staging/<round>/
        .staged-run.json          the real project root and the round (paths.STAGED_RUN): inputs are read there
        data/processed/<round>/   this run's results, starting from a copy of the last good ones
        outputs/<round>/          likewise

The returns (data/raw), the header alias table, the cache (.cache) and other
rounds' results are read from the real project: paths.RoundPaths finds them
through .staged-run.json, so no link is made (Windows refuses symlinks to a
user without administrator rights).

Publishing without links. data/processed/<round>/ and outputs/<round>/ are real
folders (the analyst opens them in Explorer). Two folders cannot be swapped by one
rename, so publishing follows a journal, .staging/<round>.publish, replaced whole
at each phase (a write to a temporary file, then os.replace):

    1. journal "aside"   (written before anything moves)
    2. data/processed/<round>  ->  data/processed/.<round>.old       outputs/<round>  ->  outputs/.<round>.old
    3. journal "commit"  (the commit point: from here on the new results win)
    4. .staging/<round>/data/processed/<round>  ->  data/processed/<round>      likewise outputs/<round>
    5. the .old folders removed, the journal removed, the staging folder removed

A crash (power cut, kill) at any step leaves on disk either the old results, or
the new ones, with at most one of the two folders absent for a moment, and never
old and new side by side: before step 3 only old results are in place (or none),
after it only new ones. recover() (the next run of the round does it first, under
the round's lock, and so do `template` and `corrections` for any round not being
run) completes the publish: with the journal at "aside", the .old folders go back
(the old results); at "commit", the staged folders are moved in (the new
results); either way the journal and .old folders go. When a folder cannot be set
aside in step 2 (on Windows: a file in it is open in Excel or Word), what was moved
goes back, nothing is published, and PublishBlocked says which folder to close.

Results published by the older version of this module (the two folders as
symlinks into outputs/.runs/<round>/current/) are set aside like folders (a
symlink is renamed like a folder) and outputs/.runs/<round>/ is removed with them.

The copy of the last good results lets a rerun skip the steps whose inputs
have not changed.

One run at a time per round: `round_lock` holds a lock on .staging/<round>.lock
(filelock: flock on Linux, LockFileEx on Windows) for the whole run; a second run is
refused, naming the first one's process id and start time (see LockedError).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from pathlib import Path

from pipeline import paths, platforms

STAGING_DIR = ".staging"
LEGACY_RUNS_DIR = ".runs"  # under outputs/: the generations the older, symlink-based version published
ASIDE, COMMIT = "aside", "commit"  # the journal's phases


class LockedError(Exception):
    """Another run of the same round holds the lock; the message (Chinese) names it."""


class PublishBlocked(Exception):
    """A published folder could not be set aside (a file in it is open); nothing was published. Chinese message."""


def staging_root(round_id: str, root: Path) -> Path:
    return Path(root) / STAGING_DIR / round_id


def journal_path(round_id: str, root: Path) -> Path:
    return Path(root) / STAGING_DIR / f"{round_id}.publish"


# --------------------------------------------------------------------------- one run at a time


@contextlib.contextmanager
def round_lock(round_id: str, root: Path):
    """Hold the round's lock for the duration; raise LockedError if another process holds it.

    A lock, not a marker file: the system releases it when its process dies, even when killed,
    so a crashed run never blocks the next one. Who holds it is written beside it (.staging/<round>.holder):
    Windows does not let another process read a locked file.
    """
    from filelock import FileLock, Timeout

    folder = Path(root) / STAGING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / f"{round_id}.lock", timeout=0, thread_local=False, preserve_lock_file=True)
    holder = folder / f"{round_id}.holder"
    try:
        lock.acquire()
    except Timeout:
        try:
            said = holder.read_text(encoding="utf-8").split()
        except OSError:
            said = []
        pid, started = (said + ["?", "?"])[:2]
        stop = "在任务管理器中结束该进程" if platforms.windows_like() else "结束该进程（kill 进程号）"
        raise LockedError(
            f"轮次 {round_id} 正在由另一个进程运行（进程号 {pid}，{started.replace('T', ' ')} 开始）："
            f"请等它结束后再运行；如果它已卡住，可先{stop}再运行"
        ) from None
    try:
        _write_whole(holder, f"{os.getpid()} {dt.datetime.now().isoformat(timespec='seconds')}\n")
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- staging


def discard(round_id: str, root: Path) -> None:
    """Remove what an interrupted or killed run left in .staging/<round>/ (call under the round's lock, after
    recover: a publish that reached its commit point still needs the staged results)."""
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
    (root / paths.CACHE_DIR).mkdir(exist_ok=True)  # the cache outlives the run: the staged chain uses the real one
    paths.mark_staged(stage, root, round_id)
    for real, staged in _round_dirs(round_id, root, stage):
        if real.is_dir():
            shutil.copytree(real, staged, symlinks=True)
    return stage


# --------------------------------------------------------------------------- publishing


def publish(round_id: str, root: Path) -> None:
    """Make the staged results the published ones, all at once (see the module docstring for the protocol)."""
    root = Path(root).resolve()
    moves = _moves(round_id, root)
    for _, staged, _ in moves:
        staged.mkdir(parents=True, exist_ok=True)  # a run that wrote nothing there publishes an empty folder
    unstage_notebooks(round_id, root)
    journal = journal_path(round_id, root)
    _write_whole(journal, ASIDE)
    moved: list[tuple[Path, Path]] = []
    for published, _, aside in moves:
        if aside.exists() or aside.is_symlink():
            _remove(aside)  # left by an earlier publish whose .old could not be removed (a file held open in it)
            if aside.exists() or aside.is_symlink():
                _undo(moved, journal)
                raise PublishBlocked(_blocked_message(aside, root, None))
        if published.exists() or published.is_symlink():
            try:
                os.rename(published, aside)
            except PermissionError as exc:  # Windows: a file in it is open (Excel, Word, Explorer's preview)
                _undo(moved, journal)
                raise PublishBlocked(_blocked_message(published, root, exc)) from None
            moved.append((published, aside))
    _write_whole(journal, COMMIT)  # the commit point
    _finish(round_id, root)


def _undo(moved: list[tuple[Path, Path]], journal: Path) -> None:
    """Before the commit point: the folders set aside go back, and the journal goes."""
    for back, old in reversed(moved):
        os.rename(old, back)
    journal.unlink()


def recover(round_id: str, root: Path) -> str | None:
    """Complete a publish a crash interrupted (call under the round's lock): "old" or "new" for what is then
    published, None when there was nothing to complete."""
    root = Path(root).resolve()
    journal = journal_path(round_id, root)
    try:
        phase = journal.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        phase = None
    if phase == COMMIT:
        _finish(round_id, root)
        return "new"
    for published, _, aside in _moves(round_id, root):
        if (aside.exists() or aside.is_symlink()) and not (published.exists() or published.is_symlink()):
            os.rename(aside, published)
        elif aside.exists() or aside.is_symlink():
            _remove(aside)
    journal.unlink(missing_ok=True)
    return "old" if phase is not None else None


def recover_all(root: Path) -> None:
    """recover() every round whose publish a crash interrupted, except rounds being run now (their lock is held)."""
    folder = Path(root) / STAGING_DIR
    for journal in sorted(folder.glob("*.publish")) if folder.is_dir() else []:
        round_id = journal.name[:-len(".publish")]
        with contextlib.suppress(LockedError):
            with round_lock(round_id, root):
                recover(round_id, root)


def _finish(round_id: str, root: Path) -> None:
    """Steps 4 and 5 of publishing (idempotent: a crash here is completed by the next call)."""
    for published, staged, aside in _moves(round_id, root):
        if staged.is_dir() and not (published.exists() or published.is_symlink()):
            published.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, published)
    for _, _, aside in _moves(round_id, root):
        _remove(aside)
    shutil.rmtree(paths.outputs_round_dir(round_id, root).parent / LEGACY_RUNS_DIR / round_id, ignore_errors=True)
    with contextlib.suppress(OSError):
        (paths.outputs_round_dir(round_id, root).parent / LEGACY_RUNS_DIR).rmdir()  # only when no round is left
    journal_path(round_id, root).unlink(missing_ok=True)
    stage = staging_root(round_id, root)
    shutil.rmtree(stage, ignore_errors=True)
    with contextlib.suppress(OSError):
        stage.parent.rmdir()  # only when no other round is being staged (a lock file keeps it otherwise)


def _moves(round_id: str, root: Path) -> list[tuple[Path, Path, Path]]:
    """(published folder, its staged results, where the old results wait) for processed and outputs."""
    return [(real, staged, real.with_name(f".{real.name}.old"))
            for real, staged in _round_dirs(round_id, root, staging_root(round_id, root))]


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _write_whole(path: Path, text: str) -> None:
    """The file holds the old text or the new, never part of one (os.replace is atomic, on Windows too)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _blocked_message(folder: Path, root: Path, exc: OSError | None) -> str:
    shown = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
    why = f"（{exc.strerror or exc}）" if exc is not None else ""
    if exc is None:  # the .old folder of an earlier publish
        what = f"无法删除上次发布留下的 {shown}/{why}"
    else:
        what = f"无法替换 {shown}/{why}"
    return (f"{what}：其中可能有文件正被 Excel、Word 或其他程序打开。"
            "请关闭这些文件（也可关闭打开该文件夹的窗口）后重新运行；本次运行的结果未采用，"
            "上次成功运行的结果保持不变")


def unstage_notebooks(round_id: str, root: Path) -> None:
    """Point the staged executed notebooks at the real project root before they are published, so that rerunning
    one in JupyterLab reads and writes the round's real folders, not the staging ones."""
    root = Path(root).resolve()
    stage = str(staging_root(round_id, root))
    # As a notebook's JSON may write the path: as is, with its backslashes escaped (Windows), or with its Chinese
    # characters as \\uXXXX escapes.
    forms = {json.dumps(stage, ensure_ascii=ascii)[1:-1]: json.dumps(str(root), ensure_ascii=ascii)[1:-1]
             for ascii in (False, True)}
    for notebook in paths.RoundPaths(Path(stage), round_id).executed.glob("*.ipynb"):
        text = notebook.read_text(encoding="utf-8")
        changed = text
        for staged, real in forms.items():
            changed = changed.replace(staged, real)
        if changed != text:
            notebook.write_text(changed, encoding="utf-8")


def _round_dirs(round_id: str, root: Path, stage: Path) -> list[tuple[Path, Path]]:
    return [(paths.processed_round_dir(round_id, root), paths.processed_round_dir(round_id, stage)),
            (paths.outputs_round_dir(round_id, root), paths.outputs_round_dir(round_id, stage))]
