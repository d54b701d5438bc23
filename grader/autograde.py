"""nbgrader integration: the autograde step that replaces kernel execution with the engine.

``GradeWithEngine`` takes the sanitized submission (grade cells already restored from the
gradebook by nbgrader), grades it with the engine (``grader.engine.run.grade``; student code
runs only in the sandbox), and gives every grade cell two outputs: the exercise's messages on
stdout and its score, capped at the cell's points, as the execute result that nbgrader's
partial credit reads.
The full JSON report is kept in the autograded notebook's metadata under ``d2l_course``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Dict, Integer, Unicode

from grader.engine.options import Options, parse_limits


def feedback_text(exercise: dict | None, report: dict) -> str:
    """The student-facing message of one exercise (no check source, only outcomes)."""
    if exercise is None:
        return f"Not graded: the course has no checks for this cell. (seed {report.get('seed')})"
    lines = [f"{exercise['name']}: {exercise['score']:g} / {exercise['max_score']:g} points"]
    for test in exercise["tests"]:
        mark = "✓" if test["passed"] else "✗"
        lines.append(f"  {mark} {test['name']}" + (f": {test['message']}" if test["message"]
                                                     else ""))
    if report.get("error"):
        lines.append(f"Submission problem: {report['error']}")
    lines.append(f"(graded with seed {report.get('seed')})")
    return "\n".join(lines) + "\n"


def fill_grade_cells(nb: nbformat.NotebookNode, report: dict) -> nbformat.NotebookNode:
    """Write score and message outputs into each grade cell of ``nb`` from ``report``."""
    by_name = {e["name"]: e for e in report["exercises"]}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            continue
        count += 1
        spec = cell.metadata["nbgrader"]
        entry = by_name.get(spec["grade_id"])
        points = float(spec.get("points", 0))
        score = min(max(entry["score"], 0.0), points) if entry else 0.0
        cell.execution_count = count
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=feedback_text(entry, report)),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(round(score, 4))},
                                   execution_count=count),
        ]
    nb.metadata["d2l_course"] = {"report": report}
    return nb


class GradeWithEngine(NbGraderPreprocessor):
    """Autograde without a kernel: scores come from the sandboxed engine."""

    enabled = Bool(True)
    seed = Integer(None, allow_none=True,
                   help="Seed for the checks' random inputs (default: a new one per run, "
                        "recorded in the report)").tag(config=True)
    isolate = Bool(True, help="Use Landlock and namespaces in the sandbox").tag(config=True)
    device = Unicode("cpu", help="Device of the checks' inputs: cpu, cuda or cuda:N").tag(
        config=True)
    limits = Dict(value_trait=Unicode(), default_value={},
                  help="Sandbox limits by name, e.g. {'call_seconds': '5', 'memory_bytes': '2G'}"
                  ).tag(config=True)

    def options(self, student: str | None) -> Options:
        """The engine's options, from this preprocessor's configuration."""
        limits = parse_limits([f"{k}={v}" for k, v in self.limits.items()])
        return Options(seed=self.seed, isolate=self.isolate, device=self.device, limits=limits,
                       student=student)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        from grader.course import COURSE
        from grader.engine.run import grade

        info = resources.get("nbgrader", {})
        chapter = info.get("assignment")
        student = info.get("student")
        with tempfile.TemporaryDirectory(prefix="d2l-autograde-") as tmp:
            path = Path(tmp) / f"{info.get('notebook', chapter)}.ipynb"
            nbformat.write(nb, path)
            report = grade(path, chapter, COURSE, self.options(student))
        self.log.info("%s/%s: %g / %g (seed %s)", student, chapter, report["score"],
                      report["max_score"], report["seed"])
        return fill_grade_cells(nb, report), resources
