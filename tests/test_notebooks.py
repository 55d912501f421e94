"""Every notebook under notebooks/ is committed clean and can be parameterised by the runner."""
from __future__ import annotations

import nbformat
import pytest

from pipeline import paths as config
from pipeline.run.runner import PARAMETERS_TAG, parameters_cell_literals

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))


def tagged(nb, tag: str) -> list:
    return [cell for cell in nb.cells if tag in cell.get("metadata", {}).get("tags", [])]


@pytest.fixture(params=NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_committed_without_outputs_or_execution_counts(notebook):
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} carry outputs or execution counts: clear them before committing"
    assert "papermill" not in notebook.metadata, "this is an executed copy, not the source notebook"
    assert not tagged(notebook, "injected-parameters"), "this is an executed copy, not the source notebook"


def test_one_parameters_cell_with_plain_round_id_and_root(notebook):
    cells = tagged(notebook, PARAMETERS_TAG)
    assert len(cells) == 1, f"expected exactly one cell tagged {PARAMETERS_TAG!r}, found {len(cells)}"
    assert cells[0].cell_type == "code"
    values = parameters_cell_literals(cells[0].source)  # ValueError unless plain `name = literal` lines
    assert isinstance(values.get("round_id"), str)
    assert isinstance(values.get("root"), str)


def test_first_cell_is_a_markdown_title(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.lstrip().startswith("# "), "the first cell should open with a `# 标题` line"
