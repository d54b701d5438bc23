"""The source notebooks run top to bottom in a Jupyter kernel: every worked example's public
check passes with the solutions and every demonstration runs offline."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from grader.release import chapter_ids
from tests.conftest import source_notebook


@pytest.mark.parametrize("chapter", chapter_ids())
def test_solution_notebook_runs_in_a_kernel(chapter, tmp_path, monkeypatch):
    nb = nbformat.read(source_notebook(chapter), as_version=4)
    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    monkeypatch.setenv("D2L_COURSE_DATA", str(data))  # generated corpora, not the user's home
    NotebookClient(nb, timeout=300, kernel_name="python3", shutdown_kernel="immediate",
                   extra_arguments=["--log-level=ERROR"],
                   resources={"metadata": {"path": str(work)}}).execute()
    # Worked examples write their files to temporary folders, never beside the notebook.
    assert not list(work.iterdir()), sorted(p.name for p in work.iterdir())
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs if o.get("output_type") == "stream")
    for cell in nb.cells:  # the data notice survives the plots that redraw the cell's output
        if cell.cell_type == "code" and re.search(r"=\s*(course\.)?load_data_fashion_mnist\(",
                                                  cell.source):
            shown = "".join(o.get("text", "") for o in cell.outputs)
            assert "load_data_fashion_mnist: using" in shown, cell.source[:80]
    examples = [c for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
    assert examples and text.count("matches the worked example") >= len(examples)
