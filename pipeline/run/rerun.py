"""Skipping what has not changed: the digests of a step's inputs and the run manifest.

A step is skipped when everything its result depends on is as it was at its
last successful run, as recorded in outputs/<round>/run_manifest.json:

- its notebook's cells and the parameters it runs with;
- the pipeline package's files, all of them but the developer tools (paths.DEVTOOLS:
  the sample generator and the benchmark): any other change under pipeline/ reruns
  every step (simple, and sound without knowing which step uses which module),
  and the Python and the package versions installed;
- step 1 (cleaning): every file under data/raw/<round>/ (the returns,
  round.yml and corrections.csv) and data/header_aliases.csv;
- every step: the previous round's clean tables (data/processed/<previous>/), which
  cleaning checks amounts against and the comparison with the previous round reads
  (never its raw returns: run_round cleans the previous round first when they are missing);
- steps 2 onward: round.yml, and what the earlier steps wrote (``earlier_results``): the
  contents of the files under data/processed/<round>/ and outputs/<round>/ as the step finds
  them, less those the step itself and the later steps wrote at their last run. A step that
  runs makes the later steps run only when what it wrote differs: a return whose bytes changed
  but whose rows did not reruns step 1 and skips the rest.

A step runs all the same when its executed copy is gone, and every step runs
when the results under data/processed/<round>/ and outputs/<round>/ were
changed or deleted since the runner last wrote them (make clean, a file
removed by hand), or with --force.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from pipeline import paths, schemas
from pipeline.paths import shown_path
from pipeline.rounds import ROUND_FILE, Round
from pipeline.run.steps import CHAIN, Step

MANIFEST_FILE = paths.MANIFEST
MANIFEST_FORMAT = 1
# Files under outputs/<round>/ that commands other than `run` write on request (python -m pipeline template,
# python -m pipeline corrections): not results of the chain, so writing them does not make the next run rerun.
ON_REQUEST_OUTPUTS = ("填报模板", "corrections.csv")

# The inputs of a step's result, as the user is told about them when one changed.
INPUT_LABELS = {
    "notebook": "笔记本",
    "parameters": "运行参数",
    "code": "流水线代码（pipeline/）",
    "environment": "Python 或依赖包的版本",
    "returns": "本轮报表、round.yml 或 corrections.csv",
    "aliases": "表头别名表",
    "previous": "上一轮的数据",
    "round": "round.yml",
    "earlier": "前面步骤的结果",
}
CLEANING_INPUTS = ("aliases", "previous")  # step 1 reads these, and each file of the round (ROUND_FILE_KEY)
LATER_INPUTS = ("previous", "round")  # steps 2 onward read these, and what the earlier steps wrote (EARLIER)
EARLIER = "earlier"  # the key of what the earlier steps wrote, known only when the step is about to run


@dataclass(frozen=True)
class StepPlan:
    step: Step
    inputs: dict[str, str]  # digest of each input of the step's result (EARLIER added when it is about to run)
    reason: str | None  # why the step runs (Chinese); None: it is skipped
    # The step runs only because an earlier one does: whether it must is decided when it is its turn, from
    # what the earlier steps wrote (still_needed).
    after_earlier: bool = False


def plan_steps(steps: list[Step], parameters: dict, round_: Round, root: Path, manifest: dict, *,
               force: bool = False) -> list[StepPlan]:
    """Which steps run and why: each unchanged step is skipped, until the first that runs; every later one runs too."""
    shared = round_inputs(round_, root)
    executed_dir = paths.RoundPaths(root, round_.id).executed
    reason_for_all = None
    if force:
        reason_for_all = "使用了 --force，全部重新运行"
    elif results_changed(manifest, round_.id, root):
        reason_for_all = (f"上次运行之后，data/processed/{round_.id}/ 或 outputs/{round_.id}/ 中的结果被改动或删除，"
                          "全部重新运行")
    plans = []
    earlier_runs = None
    for step in steps:
        inputs = step_inputs(step, parameters, shared)
        reason = reason_for_all or why_rerun(step, inputs, manifest, executed_dir, root)
        if reason is None and earlier_runs:
            plans.append(StepPlan(step, inputs, f"第{earlier_runs}步重新运行", after_earlier=True))
            continue
        plans.append(StepPlan(step, inputs, reason))
        if reason and not earlier_runs:
            earlier_runs = step.number
    return plans


def still_needed(plan: StepPlan, earlier: str, manifest_steps: dict) -> StepPlan:
    """The plan of a step about to run, with the digest of what the earlier steps wrote (EARLIER) among its
    inputs. A step that was to run only because an earlier one ran is skipped when that digest, and every other
    input, is what its last successful run recorded."""
    inputs = plan.inputs | {EARLIER: earlier}
    if not plan.after_earlier:
        return StepPlan(plan.step, inputs, plan.reason)
    last = manifest_steps.get(plan.step.notebook.name)
    if isinstance(last, dict) and last.get("inputs") == inputs:
        return StepPlan(plan.step, inputs, None, after_earlier=True)
    return StepPlan(plan.step, inputs, f"{plan.reason}，其结果有变化")


def result_files(round_id: str, root: Path) -> dict[str, tuple[int, int]]:
    """The result files of a round under root (the staging copy): relative path -> (size, modification time).
    Left out: the executed notebooks, the manifest, files written on request, and hidden or partial files
    (a workbook still being written in the background)."""
    outputs = paths.outputs_round_dir(round_id, root)
    found = {}
    for folder in (paths.processed_round_dir(round_id, root), outputs):
        if not folder.is_dir():
            continue
        for file in folder.rglob("*"):
            relative = file.relative_to(root)
            if (file == outputs / MANIFEST_FILE or (outputs / paths.EXECUTED_NOTEBOOKS) in file.parents
                    or any(part.startswith(".") for part in relative.parts) or not file.is_file()):
                continue
            if folder == outputs and file.relative_to(outputs).parts[0] in ON_REQUEST_OUTPUTS:
                continue
            stat = file.stat()
            found[relative.as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def written_between(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """The result files a step wrote: new, or changed in size or time, or removed."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


# Results written for people: workbooks, the report. No step reads them (each reads the tables, JSON and figures
# the earlier steps wrote, through their loaders); and the workbooks are written in the background
# (excel.write_workbook), so whether one is old or new when the next step starts is a matter of timing.
FOR_PEOPLE = (".xlsx", ".docx", ".pdf", ".html")


def earlier_results(step: Step, round_id: str, root: Path, last_runs: dict, this_run: dict) -> str:
    """What the steps before `step` wrote, as `step` finds it: the contents of the round's result files under root
    (but FOR_PEOPLE), less those only this step and the later ones wrote at their last runs (last_runs: the
    manifest's records as the run began; this_run: as it is now)."""
    files = result_files(round_id, root)
    mine: set[str] = set()
    theirs: set[str] = set()
    for number, (notebook, _) in enumerate(CHAIN, 1):
        for records in (last_runs, this_run):
            record = records.get(notebook)
            written = record.get("wrote", []) if isinstance(record, dict) else []
            (theirs if number < step.number else mine).update(written)
    digest = hashlib.blake2b(digest_size=20)
    for name in sorted(name for name in set(files) - (mine - theirs) if not name.endswith(FOR_PEOPLE)):
        with open(root / name, "rb") as fh:
            digest.update(f"{name}\0{hashlib.file_digest(fh, 'blake2b').hexdigest()}\n".encode())
    return digest.hexdigest()


def why_rerun(step: Step, inputs: dict[str, str], manifest: dict, executed_dir: Path, root: Path) -> str | None:
    """Why a step must run although no earlier step does; None when it can be skipped."""
    last = manifest["steps"].get(step.notebook.name)
    if not isinstance(last, dict) or not isinstance(last.get("inputs"), dict):
        return "没有上次成功运行的记录"
    executed = executed_dir / step.notebook.name
    if not executed.is_file():
        return f"上次执行后的笔记本 {shown_path(executed, root)} 不在了"
    changed = [key for key in {**last["inputs"], **inputs}
               if key != EARLIER and last["inputs"].get(key) != inputs.get(key)]
    if changed:
        return changed_text(changed, last["inputs"], inputs)
    return None


# The round's files are digested one by one (round_inputs): a rerun names the files that changed.
ROUND_FILE_KEY = "file:"
NAMED_FILES = 3  # files a reason names before “等”


def changed_text(changed: list[str], before: dict[str, str], now: dict[str, str]) -> str:
    """“吴忠市重大项目表.xlsx 有变化”, “新增 甲.xlsx；流水线代码（pipeline/）有变化”: the round's files by name."""
    files = [k for k in changed if k.startswith(ROUND_FILE_KEY)]
    if "returns" in before:  # a manifest of an older version: one digest for the whole folder
        files = []
        changed = ["returns", *(k for k in changed if k != "returns" and not k.startswith(ROUND_FILE_KEY))]
    said = []
    for word, keys in (("", [k for k in files if k in before and k in now]),
                       ("新增 ", [k for k in files if k not in before]),
                       ("删除了 ", [k for k in files if k not in now])):
        if keys:
            names = [k.removeprefix(ROUND_FILE_KEY) for k in keys]
            shown = "、".join(names[:NAMED_FILES]) + (f"等{len(names)}个文件" if len(names) > NAMED_FILES else "")
            said.append(f"{word}{shown}" + (" 有变化" if not word else ""))
    others = [INPUT_LABELS.get(k, k) for k in changed if not k.startswith(ROUND_FILE_KEY)]
    if others:
        said.append("、".join(others) + "有变化")
    return "；".join(said)


def step_inputs(step: Step, parameters: dict, shared: dict[str, str]) -> dict[str, str]:
    """The digests of what one step's result depends on (see above)."""
    own = CLEANING_INPUTS if step.number == 1 else LATER_INPUTS
    return {
        "notebook": notebook_digest(step.notebook),
        "parameters": _digest_text(json.dumps(parameters, sort_keys=True, ensure_ascii=False)),
        "code": shared["code"],
        "environment": shared["environment"],
        **{key: shared[key] for key in own},
        **({k: v for k, v in shared.items() if k.startswith(ROUND_FILE_KEY)} if step.number == 1 else {}),
    }


def round_inputs(round_: Round, root: Path) -> dict[str, str]:
    """The digests of the inputs steps share: the package, the environment, the round's data, the previous round's."""
    digests = {
        "code": code_digest(),
        "environment": environment_digest(),
        **{ROUND_FILE_KEY + name: digest
           for name, digest in file_digests(paths.raw_round_dir(round_.id, root)).items()},
        "aliases": tree_digest(paths.RoundPaths(root, round_.id).aliases),
    }
    previous = round_.previous or ""
    digests["round"] = tree_digest(paths.raw_round_dir(round_.id, root) / ROUND_FILE)
    digests["previous"] = _digest_text("\n".join([
        previous,
        "".join(tree_digest(paths.RoundPaths(root, previous).clean_table(kind)) for kind in schemas.RETURN_KINDS)
        if previous else "",
    ]))
    return digests


def notebook_digest(path: Path) -> str:
    """The notebook's cells (kind, source, tags): not its outputs or metadata, which Jupyter rewrites on save."""
    cells = [(cell.get("cell_type"), cell_source(cell), cell.get("metadata", {}).get("tags", []))
             for cell in notebook_json(path)["cells"]]
    return _digest_text(json.dumps(cells, ensure_ascii=False))


def code_digest() -> str:
    """The pipeline code: every file of the package except the developer tools (paths.DEVTOOLS: the sample
    generator and the benchmark), so editing them does not rerun a round."""
    return tree_digest(paths.PACKAGE_DIR, skip=("__pycache__", *paths.DEVTOOLS))


def file_digests(folder: Path) -> dict[str, str]:
    """Each file under a folder (the round's returns, round.yml, corrections.csv) -> the digest of its content, by its
    path relative to the folder; {} for a folder that is not there."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {file.relative_to(folder).as_posix(): tree_digest(file)
            for file in sorted(p for p in folder.rglob("*") if p.is_file())}


def tree_digest(path: Path, *, skip: tuple[str, ...] = ()) -> str:
    """The names and contents of every file under a folder (or of one file); a digest of "absent" if there is none."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*")
                       if p.is_file() and not any(part in skip for part in p.relative_to(path).parts))
    else:
        return _digest_text("absent")
    digest = hashlib.blake2b(digest_size=20)
    for file in files:
        with open(file, "rb") as fh:
            content = hashlib.file_digest(fh, "blake2b").hexdigest()
        digest.update(f"{file.relative_to(path).as_posix() if file != path else file.name}\0{content}\n".encode())
    return digest.hexdigest()


def environment_digest() -> str:
    """The Python version and the name and version of every installed distribution (from the folder names alone)."""
    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    installed = sorted(entry.name for folder in folders if os.path.isdir(folder)
                       for entry in os.scandir(folder) if entry.name.endswith((".dist-info", ".egg-info")))
    return _digest_text("\n".join([sys.version, *installed]))


def results_digest(round_id: str, root: Path) -> str:
    """The result files under data/processed/<round>/ and outputs/<round>/: names, sizes and modification times.

    Not their contents: they are many megabytes, and only the runner writes
    them. The manifest and the executed notebooks (which JupyterLab may save
    when they are opened) are left out.
    """
    outputs = paths.outputs_round_dir(round_id, root)
    entries = []
    for folder in (paths.processed_round_dir(round_id, root), outputs):
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            if (file == outputs / MANIFEST_FILE or (outputs / paths.EXECUTED_NOTEBOOKS) in file.parents
                    or not file.is_file()):
                continue
            if folder == outputs and file.relative_to(outputs).parts[0] in ON_REQUEST_OUTPUTS:
                continue
            stat = file.stat()
            entries.append(f"{file.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return _digest_text("\n".join(entries))


def results_changed(manifest: dict, round_id: str, root: Path) -> bool:
    recorded = manifest.get("results")
    return recorded is not None and recorded != results_digest(round_id, root)


def load_manifest(path: Path) -> dict:
    """The record of the last runs of a round; an empty one if there is none or it cannot be read (then every
    step runs)."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if (not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT
            or not isinstance(manifest.get("steps"), dict)):
        manifest = {"format": MANIFEST_FORMAT, "steps": {}}
    return manifest


def save_manifest(path: Path, manifest: dict) -> None:
    """Write the manifest whole or not at all (an interrupted write leaves the previous one)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def forget_steps(manifest: dict, number: int) -> None:
    """Forget the record of step `number` (it is running). The later steps' records stay: each of them runs again
    unless what the earlier steps wrote is what it found at its last run (still_needed)."""
    manifest["steps"].pop(CHAIN[number - 1][0], None)


def remember_step(manifest: dict, step: Step, inputs: dict[str, str], seconds: float,
                  wrote: list[str] | None = None) -> None:
    manifest["steps"][step.notebook.name] = {
        "inputs": inputs,
        "seconds": round(seconds, 2),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "wrote": wrote or [],  # the result files it wrote (earlier_results)
    }


def remember_results(manifest: dict, round_id: str, root: Path) -> None:
    manifest["results"] = results_digest(round_id, root)


def skip_message(step: Step, total: int, manifest: dict, *, after_earlier: bool = False) -> str:
    last = manifest["steps"][step.notebook.name]
    when = str(last.get("finished", "")).replace("T", " ")
    why = "前面步骤的结果与上次相同，其余输入、参数和代码也未变化" if after_earlier else "输入、参数和代码均未变化"
    return f"[{step.number}/{total}] {step.name}（{step.notebook.name}）：{why}，跳过（沿用 {when} 的结果）。"


def _digest_text(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def notebook_json(path: Path) -> dict:
    """A notebook file read as plain JSON (nbformat takes seconds to import); ValueError if it is not one."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    if (not isinstance(nb, dict) or not isinstance(nb.get("cells"), list)
            or not all(isinstance(c, dict) for c in nb["cells"])):
        raise ValueError("not a notebook")
    return nb


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
