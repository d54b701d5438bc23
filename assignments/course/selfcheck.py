"""Run a notebook's public checks on your own machine: ``python -m course.selfcheck chNN.ipynb``.

Executes the notebook top to bottom in a fresh Jupyter kernel (demonstration cells are skipped
unless ``--demos`` is given), then says for each exercise whether its worked example passed.
The hidden checks are not here: passing every example is necessary, not sufficient.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course.markers import DEMO_MARKER


@dataclass
class ExampleResult:
    """The outcome of one exercise's worked examples."""

    exercise: str
    passed: bool
    message: str


def _exercise_of(cell) -> str | None:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id:
        return grade_id.removesuffix("_code")
    return None


def _error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), output.get("evalue", "")
            if name == "NotImplementedError":
                return "not implemented yet"
            return f"{name}: {value}"
    return None


def selfcheck(path: str | Path, *, demos: bool = False, timeout: int = 300) -> list[ExampleResult]:
    """Execute the notebook at ``path``; return one result per exercise.

    An exercise passes when its cell and the cells after it (its worked example), up to the
    next exercise, ran without an error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if not demos:
        nb.cells = [c for c in nb.cells
                    if not (c.cell_type == "code" and c.source.lstrip().startswith(DEMO_MARKER))]
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                       shutdown_kernel="immediate", resources={"metadata": {"path": tmp}}
                       ).execute()
    results: dict[str, ExampleResult] = {}
    current, broken = None, None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        name = _exercise_of(cell)
        if name:
            current, broken = name, _error(cell)
            continue
        if current is None:
            continue
        error = _error(cell)
        if error is None:
            results.setdefault(current, ExampleResult(current, True, "worked example passes"))
        else:
            if broken:
                error = f"its cell failed: {broken}" if broken != error else error
            results[current] = ExampleResult(current, False, error)
    return list(results.values())


def main(argv: list[str] | None = None) -> int:
    """Print the results; exit 0 when every worked example passes, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m course.selfcheck", description=__doc__)
    parser.add_argument("notebook")
    parser.add_argument("--demos", action="store_true", help="also run demonstration cells")
    args = parser.parse_args(argv)
    results = selfcheck(args.notebook, demos=args.demos)
    for r in results:
        print(f"{'✓' if r.passed else '✗'} {r.exercise}: {r.message}")
    passed = sum(r.passed for r in results)
    print(f"{passed} of {len(results)} worked examples pass (the hidden checks test more)")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
