"""Shared fixtures: paths of the built course, grading helpers, a private Jupyter environment."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)
if BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = BIN + os.pathsep + os.environ.get("PATH", "")
_home = Path(tempfile.gettempdir()) / f"d2l-course-tests-{os.getuid()}"
for var, sub in (("JUPYTER_CONFIG_DIR", "jupyter"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                 ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib")):
    os.environ.setdefault(var, str(_home / sub))
os.environ.setdefault("MPLBACKEND", "Agg")


def source_notebook(chapter: str) -> Path:
    """The committed nbgrader source notebook (complete solutions) of ``chapter``."""
    return ROOT / "course" / "source" / chapter / f"{chapter}.ipynb"


def release_notebook(chapter: str) -> Path:
    """The committed student release notebook of ``chapter``."""
    return ROOT / "assignments" / chapter / f"{chapter}.ipynb"


def with_extra_cell(notebook: Path, code: str, out: Path) -> Path:
    """Write ``notebook`` plus a final code cell ``code`` (later definitions win) to ``out``."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, out)
    return out


def scores(report: dict) -> dict[str, tuple[float, float]]:
    """Exercise name → (score, max_score)."""
    return {e["name"]: (e["score"], e["max_score"]) for e in report["exercises"]}


@pytest.fixture(scope="session")
def chapters() -> list[str]:
    from grader.release import chapter_ids

    return chapter_ids()
