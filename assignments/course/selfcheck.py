"""Run a notebook's public checks on your own machine: ``python -m course.selfcheck chNN.ipynb``.

Executes the notebook top to bottom in a fresh Jupyter kernel (demonstration cells are skipped
unless ``--demos`` is given), then says for each exercise whether its worked example passed.
Each cell has a time budget (``--timeout``, 60 s): a cell that runs longer (an endless loop) is
interrupted, named in the summary, and the cells after it still run. The hidden checks are not
here: passing every example is necessary, not sufficient.
"""

from __future__ import annotations

import argparse
import logging
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


def _error(cell, timeout: int) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), output.get("evalue", "")
            if name == "NotImplementedError":
                return "not implemented yet"
            if name == "KeyboardInterrupt":
                return (f"cell {cell.get('execution_count') or '?'} ran longer than {timeout} s "
                        "and was stopped (an endless loop?)")
            return f"{name}: {value}" if value else f"{name} (raised without a message)"
    return None


def selfcheck(path: str | Path, *, demos: bool = False, timeout: int = 60) -> list[ExampleResult]:
    """Execute the notebook at ``path``; return one result per exercise.

    An exercise passes when its cell and the cells after it (its worked example), up to the
    next exercise, ran without an error. A cell running longer than ``timeout`` seconds is
    interrupted and counts as an error; the rest of the notebook still runs.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if not demos:
        nb.cells = [c for c in nb.cells
                    if not (c.cell_type == "code" and c.source.lstrip().startswith(DEMO_MARKER))]
    quiet = logging.getLogger("course.selfcheck.kernel")  # the summary names the stopped cells
    quiet.setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        # The kernel logs only errors: no warning about its local TCP transport.
        NotebookClient(nb, timeout=timeout, interrupt_on_timeout=True, allow_errors=True, log=quiet,
                       kernel_name="python3", shutdown_kernel="immediate",
                       extra_arguments=["--log-level=ERROR"],
                       resources={"metadata": {"path": tmp}}).execute()
    results: dict[str, ExampleResult] = {}
    current, broken = None, None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        name = _exercise_of(cell)
        if name:
            current, broken = name, _error(cell, timeout)
            if broken:
                results[name] = ExampleResult(name, False, f"its cell failed: {broken}")
            continue
        if current is None or (current in results and not results[current].passed):
            continue
        error = _error(cell, timeout)
        if error is None:
            results.setdefault(current, ExampleResult(current, True, "worked example passes"))
        else:
            results[current] = ExampleResult(current, False, error)
    return list(results.values())


def main(argv: list[str] | None = None) -> int:
    """Print the results; exit 0 when every worked example passes, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m course.selfcheck", description=__doc__)
    parser.add_argument("notebook")
    parser.add_argument("--demos", action="store_true", help="also run demonstration cells")
    parser.add_argument("--timeout", type=int, default=60,
                        help="seconds a cell may run before it is stopped (default 60)")
    args = parser.parse_args(argv)
    try:
        results = selfcheck(args.notebook, demos=args.demos, timeout=args.timeout)
    except Exception as exc:  # a dead kernel, an unreadable notebook: one line, not a traceback
        print(f"could not run {args.notebook}: {type(exc).__name__}: {exc}".strip())
        return 2
    for r in results:
        print(f"{'✓' if r.passed else '✗'} {r.exercise}: {r.message}")
    passed = sum(r.passed for r in results)
    print(f"{passed} of {len(results)} worked examples pass (the hidden checks test more)")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
