"""The package layout: one package per stage, no import cycles, no stage importing a later one.

The import graph is read with ast from the package's files (every import, also the lazy ones inside functions),
so the test sees what the code says, not what one run happened to import.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import paths

# The shared modules every stage may import; they import only each other.
SHARED = ("paths", "platforms", "round_yml", "rounds", "conventions", "schemas", "excel", "frames", "workers",
          "generated_docs")
# The stages, in the order data flows; each may import only the shared modules and stages before it.
STAGES = ("ingest", "indicators", "figures", "report", "run")
# The entry points and developer tools on top, which may import anything.
TOP = ("__main__", "cli", "devtools")


def module_names(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (a package's __init__ under its own name)."""
    names = {}
    for file in sorted(package.rglob("*.py")):
        parts = (package.name, *file.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = file
    return names


def import_graph(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports (``from a import b`` names module a.b when there is one)."""
    names = module_names(package)
    graph: dict[str, set[str]] = {name: set() for name in names}
    for name, file in names.items():
        here = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the importing module's package upwards
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in names and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that returns to its start), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def rank(module: str) -> int:
    """0 for the shared modules, 1.. for the stages in data-flow order, above them the entry points and tools."""
    first = module.split(".")[1] if "." in module else "__init__"
    if first in SHARED:
        return 0
    if first in STAGES:
        return 1 + STAGES.index(first)
    return 1 + len(STAGES)


def backward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a later stage (or of a stage from a shared module)."""
    return [f"{a} → {b}" for a in sorted(graph) for b in sorted(graph[a]) if rank(b) > rank(a)]


PACKAGE = paths.PACKAGE_DIR


def test_the_package_has_one_package_per_stage_and_the_shared_modules():
    names = module_names(PACKAGE)
    assert {f"pipeline.{s}" for s in STAGES + SHARED + TOP} <= set(names)
    assert not [n for n in names if n.count(".") == 1 and n.split(".")[1] not in STAGES + SHARED + TOP], \
        "a top-level module that belongs to no stage"


def test_the_pipeline_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert sum(len(v) for v in graph.values()) > 50  # the graph was really read
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_no_stage_imports_a_later_one():
    graph = import_graph(PACKAGE)
    assert "pipeline.ingest.cleaning" in graph["pipeline.indicators.findings"]  # an import of an earlier stage is seen
    assert backward_imports(graph) == []


def test_findings_builds_on_the_formulas_not_on_the_assembly():
    graph = import_graph(PACKAGE)
    assert "pipeline.indicators.assembly" not in graph["pipeline.indicators.findings"]
    assert "pipeline.indicators.findings" in graph["pipeline.indicators.assembly"]


def test_the_runner_and_the_round_checks_import_without_pandas():
    """A mistyped round id is reported at once, and a rerun that skips every step only hashes: no pandas, no Jupyter."""
    code = "import sys, pipeline.run.runner, pipeline.rounds; print(sorted({'pandas', 'papermill'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("lazy", [False, True])
def test_the_checks_find_a_cycle_and_a_backward_import(tmp_path, lazy):
    indent = "def f():\n    " if lazy else ""
    package = write_package(tmp_path / "pipeline", {
        "__init__.py": "",
        "schemas.py": "",
        "ingest/__init__.py": "",
        "ingest/cleaning.py": f"{indent}from pipeline.report import render\n",
        "report/__init__.py": "",
        "report/render.py": f"{indent}from pipeline.ingest import cleaning\nfrom pipeline import schemas\n",
    })
    graph = import_graph(package)
    assert graph["pipeline.report.render"] == {"pipeline.ingest.cleaning", "pipeline.schemas"}
    assert find_cycle(graph) == ["pipeline.ingest.cleaning", "pipeline.report.render", "pipeline.ingest.cleaning"]
    assert backward_imports(graph) == ["pipeline.ingest.cleaning → pipeline.report.render"]
