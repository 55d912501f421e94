"""One place for the project's paths.

Everything else derives its locations from here, so a round's inputs and
outputs can be found without reading any other module. ``RoundPaths(root,
round_id)`` names every path of one round; the module-level names are the
project's own folders (``root`` defaults to the project itself).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PACKAGE_DIR = Path(__file__).resolve().parent

# The report's templates (the nbconvert HTML page frame and its CSS, the docx fonts.conf): package data.
TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"

# Developer tooling (pipeline/devtools/: the sample generator, the benchmark); not pipeline code, so editing it
# does not rerun a round (pipeline/run/rerun.py leaves this folder out of the code digest of the rerun manifest).
DEVTOOLS = ("devtools",)

# The header alias table: data an analyst extends when a unit writes a header
# the pipeline does not know yet.
ALIASES_NAME = "header_aliases.csv"
HEADER_ALIASES_FILE = DATA_DIR / ALIASES_NAME

# The bundled sample round that `make report` runs.
SAMPLE_ROUND = "2021-12"

# Kept between runs, never committed, safe to delete: each return file's cleaned result (pipeline/ingest/cache.py).
CACHE_DIR = ".cache"

# In the project root of a staged run (pipeline/run/staging.py): {"root": the real project root, "round": the round
# being run}. Under such a root, RoundPaths finds the inputs (returns, alias table, cache) and other rounds' results
# in the real project, and only the staged round's own results in the staging folder: no link is needed.
STAGED_RUN = ".staged-run.json"

# Names inside outputs/<round>/.
EXECUTED_NOTEBOOKS = "notebooks"
FIGURES = "figures"
SUMMARIES = "summaries"
MANIFEST = "run_manifest.json"
FEEDBACK = "退回修改清单.xlsx"  # step 1: every problem, for the units
UNIT_FEEDBACK = "退回修改"  # step 1: one list per unit, 退回修改/<单位>.xlsx
INDICATORS = "indicators.json"  # step 2
SUPERVISION = "督办清单.xlsx"  # step 2
SOURCES = "数字来源.xlsx"  # step 2
REPORT_HTML, REPORT_PDF, REPORT_DOCX = "report.html", "report.pdf", "report.docx"  # step 4
# Step 1, only when a file met an error the pipeline did not foresee: its detail, for the analyst (the console and
# 附录一 say it in one line).
ERROR_LOG = "程序错误详情.log"

# Names inside data/processed/<round>/ (besides one <kind>.parquet per return kind, RoundPaths.clean_table).
LEDGER = "ledger.csv"
LEDGER_WORKBOOK = "台账.xlsx"  # the ledger for people: Chinese headers (pipeline/ingest/workbooks.py)
PROBLEMS = "problems.parquet"
QUARANTINE = "quarantine.parquet"
HEADER_MAP = "header_map.parquet"
CLEAN_WORKBOOK, QUARANTINE_WORKBOOK, HEADER_MAP_WORKBOOK = "清洗数据.xlsx", "隔离行.xlsx", "表头对照.xlsx"

# The data flow of the chain: what each step reads and writes, as (读取/写入, RoundPaths attribute, names, what).
# Each notebook shows its own rows at the top (RoundPaths.flow); a test checks a run writes what is declared.
STEP_FLOW: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "01_clean": (
        ("读取", "raw", "", "本轮报表、round.yml、corrections.csv（只读）"),
        ("读取", "aliases", "", "表头别名表"),
        ("读取", "previous_processed", "<报表类型>.parquet", "上一轮的清洗表：金额与上一轮同一项目比较"),
        ("写入", "processed",
         "<报表类型>.parquet、" + "、".join((LEDGER, LEDGER_WORKBOOK, PROBLEMS, QUARANTINE, HEADER_MAP)),
         "清洗表、台账、问题、隔离行、表头对照"),
        ("写入", "processed", "、".join((CLEAN_WORKBOOK, QUARANTINE_WORKBOOK, HEADER_MAP_WORKBOOK)), "供查看的工作簿"),
        ("写入", "outputs", f"{FEEDBACK}、{UNIT_FEEDBACK}/<单位>.xlsx", "发回各单位的退回修改清单"),
        ("写入", "cache", "", "每个报表文件的清洗结果（缓存，可随时删除：重新运行时只重读有变化的文件）"),
        ("写入", "summaries", "01_clean.txt", "运行摘要（命令行在该步骤后显示）"),
    ),
    "02_indicators": (
        ("读取", "processed", f"<报表类型>.parquet、{LEDGER}、{PROBLEMS}、{QUARANTINE}", "本轮清洗表和台账"),
        ("读取", "previous_processed", "<报表类型>.parquet", "上一轮的清洗表：与上轮比较"),
        ("写入", "outputs", f"{INDICATORS}、{SUPERVISION}、{SOURCES}", "指标、督办清单、数字来源"),
        ("写入", "processed", "<统计表>.parquet", "分组统计表和名单（供绘图和报告）"),
    ),
    "03_figures": (
        ("读取", "outputs", INDICATORS, "指标"),
        ("读取", "processed", "<统计表>.parquet、fai.parquet", "分组统计表"),
        ("写入", "figures", "<图>.png、<图>.svg、<图>_打印.png", "图表（打印用 PNG 供 report.docx）"),
        ("写入", "summaries", "03_figures.txt", "运行摘要（命令行在该步骤后显示）"),
    ),
    "04_report": (
        ("读取", "outputs", f"{INDICATORS}、{FIGURES}/", "指标和图表"),
        ("读取", "processed", f"<统计表>.parquet、{LEDGER}、{PROBLEMS}、{QUARANTINE}", "统计表和数据质量"),
        ("写入", "outputs", f"{REPORT_DOCX}（笔记本）；{REPORT_HTML}、{REPORT_PDF}（运行后由执行过的笔记本导出）",
         "报告"),
        ("写入", "summaries", "04_report.txt", "运行摘要（命令行在该步骤后显示）"),
    ),
}


@dataclass(frozen=True)
class RoundPaths:
    """Every path of one round under a project root (the project itself, a staging folder or a test's tmp_path)."""

    root: Path
    round_id: str

    @property
    def inputs_root(self) -> Path:
        """Where the inputs are: the project root, or the real one when root is a staged run's (STAGED_RUN)."""
        staged = staged_run(self.root)
        return staged[0] if staged else Path(self.root)

    @property
    def results_root(self) -> Path:
        """Where this round's results are: the root, except another round's under a staged run's root."""
        staged = staged_run(self.root)
        return staged[0] if staged and staged[1] != self.round_id else Path(self.root)

    @property
    def raw(self) -> Path:
        return self.inputs_root / "data" / "raw" / self.round_id

    @property
    def processed(self) -> Path:
        return self.results_root / "data" / "processed" / self.round_id

    @property
    def outputs(self) -> Path:
        return self.results_root / "outputs" / self.round_id

    @property
    def notebooks(self) -> Path:
        """The chain's notebooks (the unexecuted sources, shared by every round)."""
        return Path(self.root) / "notebooks"

    @property
    def executed(self) -> Path:
        """The executed copies of the notebooks, one per step."""
        return self.outputs / EXECUTED_NOTEBOOKS

    @property
    def aliases(self) -> Path:
        return self.inputs_root / "data" / ALIASES_NAME

    @property
    def cache(self) -> Path:
        """The cleaned returns of the last run, one file each (.cache/ingest/<round>/): a rerun cleans only what
        changed."""
        return self.inputs_root / CACHE_DIR / "ingest" / self.round_id

    @property
    def manifest(self) -> Path:
        return self.outputs / MANIFEST

    @property
    def figures(self) -> Path:
        return self.outputs / FIGURES

    @property
    def error_log(self) -> Path:
        """The detail of the unforeseen errors of step 1 (written only when there are any)."""
        return self.outputs / ERROR_LOG

    @property
    def summaries(self) -> Path:
        return self.outputs / SUMMARIES

    def summary(self, notebook_stem: str) -> Path:
        """Where a notebook leaves the few Chinese lines the runner prints after its step."""
        return self.summaries / f"{notebook_stem}.txt"

    def flow(self, step: str, previous: str | None = None) -> "Flow":
        """What one step of the chain reads and writes (STEP_FLOW), with this round's paths, relative to the root.

        previous: the previous round's id (round.yml's previous); its rows are left out when there is none.
        """
        rows = []
        for action, attribute, names, what in STEP_FLOW[step]:
            if attribute == "previous_processed":
                if not previous:
                    continue
                folder = RoundPaths(self.root, previous).processed
            else:
                folder = getattr(self, attribute)
            base = next((b for b in (Path(self.root), self.inputs_root) if folder.is_relative_to(b)), None)
            shown = folder.relative_to(base).as_posix() if base else str(folder)
            rows.append({"读/写": action, "位置": shown + "/" * (attribute != "aliases"), "文件": names, "内容": what})
        return Flow(rows)

    def clean_table(self, kind: str) -> Path:
        """The clean table of one return kind (schemas.RETURN_KINDS), as step 1 writes it and later steps read it."""
        return self.processed / f"{kind}.parquet"


class Flow(list):
    """A step's rows of STEP_FLOW ({读/写, 位置, 文件, 内容}), shown in a notebook as a table (no pandas needed)."""

    def _repr_markdown_(self) -> str:
        head = ["| 读/写 | 位置 | 文件 | 内容 |", "|---|---|---|---|"]
        def code(text: str) -> str:  # in backticks: <报表类型> would otherwise be read as an HTML tag and vanish
            return f"`{text}`" if text else ""

        rows = [f"| {r['读/写']} | {code(r['位置'])} | {code(r['文件'])} | {r['内容']} |" for r in self]
        return "\n".join(head + rows)

    def __str__(self) -> str:
        return "\n".join(f"{r['读/写']}  {r['位置']}{r['文件']}  （{r['内容']}）" for r in self)


def staged_run(root: Path) -> tuple[Path, str] | None:
    """(real project root, round) when root is a staged run's project root (STAGED_RUN), else None."""
    try:
        said = json.loads((Path(root) / STAGED_RUN).read_text(encoding="utf-8"))
        return Path(said["root"]), str(said["round"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def mark_staged(stage: Path, root: Path, round_id: str) -> None:
    """Make stage the project root of a staged run of round_id whose inputs are in root (see STAGED_RUN)."""
    (Path(stage) / STAGED_RUN).write_text(json.dumps({"root": str(root), "round": round_id}, ensure_ascii=False),
                                          encoding="utf-8")


def round_paths(round_id: str, root: Path | None = None) -> RoundPaths:
    """A round's paths; under the project itself unless root is given."""
    return RoundPaths(Path(root) if root else PROJECT_ROOT, round_id)


def raw_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).raw if root else RAW_DATA_DIR / round_id


def processed_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).processed if root else PROCESSED_DATA_DIR / round_id


def outputs_round_dir(round_id: str, root: Path | None = None) -> Path:
    return RoundPaths(root, round_id).outputs if root else OUTPUTS_DIR / round_id


def step_summary_path(round_id: str, notebook_stem: str, root: Path | None = None) -> Path:
    """Where a notebook leaves the few Chinese lines the runner prints after its step."""
    return RoundPaths(root, round_id).summary(notebook_stem) if root else (
        OUTPUTS_DIR / round_id / SUMMARIES / f"{notebook_stem}.txt")


def written(result: Path | list[Path], root: Path, note: str = "") -> str:
    """What a notebook cell wrote, as a reviewer reads it (not a list of PosixPath reprs): “已写出
    outputs/2021-12/report.docx”, the first three of a longer list and how many there are."""
    files = [result] if isinstance(result, Path) else list(result)
    shown = "、".join(shown_path(Path(p), root) for p in files[:3])
    return f"已写出 {shown}{f' 等 {len(files)} 个文件' if len(files) > 3 else ''}{note}"


def shown_path(path: Path, root: Path) -> str:
    """A path as the user sees it from the project root: relative when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
