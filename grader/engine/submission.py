"""Read a submission (``.ipynb`` or ``.py``) into the code cells the sandbox runs.

Skipped: grade cells (nbgrader ``grade`` without ``solution``), demonstration cells (tag ``demo``
or a first line starting with ``# Demonstration``) and autograded-cell markers (first line
``# Autograded``). IPython syntax (``%magic``, ``!shell``, ``%%cell`` magics) is made plain Python
by ``grader.engine.magics.transform`` (line magics become no-ops), in time linear in the cell's
length. The grader only reads text here; nothing is executed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.engine.magics import transform
from grader.engine.options import Course


class SubmissionError(Exception):
    """The submission could not be read at all (bad JSON, unknown format, unreadable file)."""


@dataclass
class Submission:
    """The runnable cells of one submission and where they came from."""

    path: Path
    cells: list[tuple[str, str]]
    skipped: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        """All runnable code, for static scans."""
        return "\n\n".join(src for _, src in self.cells)


def _skip(cell: dict, course: Course) -> str | None:
    meta = cell.get("metadata") or {}
    grading = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
    if grading.get("grade") and not grading.get("solution"):
        return "grade cell"
    tags = meta.get("tags")
    if isinstance(tags, list) and course.demo_tag in tags:
        return "demonstration"
    first = cell.get("source", "").lstrip().split("\n", 1)[0]
    if first.startswith(course.demo_marker):
        return "demonstration"
    if first.startswith(course.grade_marker):
        return "grade cell"
    return None


def _notebook_cells(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"could not read {path.name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{path.name} is not valid notebook JSON (line {exc.lineno}: "
                              f"{exc.msg}); re-download it or repair it in JupyterLab") from None
    if isinstance(raw, dict) and "worksheets" in raw:
        import nbformat  # only old (v3) notebooks need converting; nbformat is slow to import

        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # noqa: BLE001
            raise SubmissionError(f"{path.name} is an old notebook that could not be converted: "
                                  f"{exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise SubmissionError(f"{path.name} is JSON but not a notebook (no 'cells' list)")
    cells = [c for c in raw["cells"] if isinstance(c, dict)]
    result = []
    for cell in cells:
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        metadata = cell.get("metadata")
        result.append({"cell_type": cell.get("cell_type"), "source": str(source),
                       "metadata": metadata if isinstance(metadata, dict) else {}})
    return result


def _script_cells(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"could not read {path.name}: {exc}") from None
    if re.search(r"^# %%", text, flags=re.M):
        import jupytext

        nb = jupytext.reads(text, fmt="py:percent")
        return [{"cell_type": c.cell_type, "source": c.source, "metadata": c.metadata}
                for c in nb.cells]
    parts = re.split(r"^# In\[[ 0-9]*\]:\s*$", text, flags=re.M)
    return [{"cell_type": "code", "source": part.strip("\n"), "metadata": {}}
            for part in parts if part.strip()]


def read_submission(path: str | Path, course: Course) -> Submission:
    """Return the runnable cells of a notebook or script, labelled by their cell number."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.suffix == ".ipynb":
        cells = _notebook_cells(path)
    elif path.suffix == ".py":
        cells = _script_cells(path)
    else:
        raise SubmissionError(f"{path.name}: submissions are .ipynb notebooks or .py scripts")
    runnable, skipped = [], []
    for number, cell in enumerate(cells, start=1):
        if cell["cell_type"] != "code" or not cell["source"].strip():
            continue
        reason = _skip(cell, course)
        if reason:
            skipped.append(f"cell {number} ({reason})")
            continue
        runnable.append((str(number), transform(cell["source"])))
    return Submission(path=path, cells=runnable, skipped=skipped)
