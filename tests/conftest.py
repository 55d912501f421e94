import os
import stat
import sys
import tempfile
from pathlib import Path

# tests/office.py writes returns the way offices make them; the tests import it by name.
sys.path.insert(0, str(Path(__file__).parent))

# The forced Windows mode (PIPELINE_FORCE_PLATFORM=windows; pipeline/platforms.py, docs/development.md): besides
# what the pipeline itself decides from the variable (spawned workers, the psutil memory watch), every process of
# the run refuses symlinks (tests/forced_platform/sitecustomize.py, on PYTHONPATH so the kernels load it too), the
# console is GBK (PYTHONIOENCODING), and every test's project root has a space and Chinese characters in its path.
FORCED_WINDOWS = os.environ.get("PIPELINE_FORCE_PLATFORM", "").strip().lower() == "windows"
if FORCED_WINDOWS:
    FORCED_DIR = str(Path(__file__).parent / "forced_platform")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [FORCED_DIR, os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONIOENCODING"] = "gbk"
    import importlib.util

    # This process too: its own sitecustomize ran before PYTHONPATH was set.
    spec = importlib.util.spec_from_file_location("forced_sitecustomize", Path(FORCED_DIR) / "sitecustomize.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def pytest_configure(config):
    if FORCED_WINDOWS and not config.option.basetemp:
        config.option.basetemp = Path(tempfile.gettempdir()) / "督查 流水线" / f"测试 {os.getpid()}"
        config.option.basetemp.parent.mkdir(exist_ok=True)


def console_encoding() -> str:
    """The encoding a CLI child prints in: GBK in the forced Windows mode, UTF-8 otherwise."""
    return os.environ.get("PYTHONIOENCODING") or "utf-8"


def read_only(folder: Path) -> None:
    """Make a folder and everything in it read-only, as a raw folder on a share the analyst may only read."""
    for path in sorted(folder.rglob("*"), reverse=True) + [folder]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def clean_and_save(round_id: str, root: Path):
    """Clean a round and write its clean tables, as its step 1 does: how a later round finds it as its previous."""
    from pipeline import paths, rounds, schemas
    from pipeline.ingest import cleaning

    round_ = rounds.load_round(round_id, root)
    previous = cleaning.cleaned_tables(round_.previous, root) if round_.previous else None
    aliases = paths.round_paths(round_id, root).aliases
    result = cleaning.clean_round(round_, schemas.load_aliases(aliases if aliases.is_file() else None),
                                  echo=lambda *_: None, previous=previous)
    cleaning.save_clean(result, paths.round_paths(round_id, root).processed)
    return result
