"""nbgrader integration: the autograde step that replaces kernel execution with the engine.

``GradeWithEngine`` takes the sanitized submission (grade cells already restored from the
gradebook by nbgrader), grades it with the engine (``grader.engine.run.grade``; student code
runs only in the sandbox), and gives every grade cell two outputs: the exercise's messages on
stdout and its score, capped at the cell's points, as the execute result that nbgrader's
partial credit reads.
The full JSON report is kept in the autograded notebook's metadata under ``d2l_course``.

``RepairMetadata`` runs first among nbgrader's sanitizing steps, so that a submission whose
nbgrader metadata is broken (a duplicated grade cell, a tampered schema version) costs only its
own grade instead of aborting ``nbgrader autograde`` for every student after it.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import nbformat
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Bool, Dict, Integer, Unicode

from grader.engine.options import Options, parse_limits
from grader.i18n import _, words


def feedback_text(exercise: dict | None, report: dict) -> str:
    """The student-facing message of one exercise (no check source, only outcomes), in the
    report's language."""
    say = words(report.get("lang") or "en")
    if exercise is None:
        return say(_("Not graded: the course has no checks for this cell. (seed {seed})")).format(
            seed=report.get("seed"))
    lines = [say(_("{name}: {score} / {points} points")).format(
        name=exercise["name"], score=f"{exercise['score']:g}",
        points=f"{exercise['max_score']:g}")]
    for test in exercise["tests"]:
        mark = "✓" if test["passed"] else "✗"
        lines.append(f"  {mark} {test['name']}" + (f": {test['message']}" if test["message"]
                                                     else ""))
    if report.get("error"):
        lines.append(say(_("Submission problem: {error}")).format(error=report["error"]))
    lines.append(say(_("(graded with seed {seed})")).format(seed=report.get("seed")))
    return "\n".join(lines) + "\n"


def _points(spec: dict) -> float:
    try:
        points = float(spec.get("points", 0))
    except (TypeError, ValueError):
        return 0.0
    return points if points >= 0 else 0.0


def fill_grade_cells(nb: nbformat.NotebookNode, report: dict) -> nbformat.NotebookNode:
    """Write score and message outputs into each grade cell of ``nb`` from ``report``."""
    by_name = {e["name"]: e for e in report["exercises"]}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            continue
        count += 1
        spec = cell.metadata["nbgrader"]
        entry = by_name.get(spec.get("grade_id"))
        points = _points(spec)
        score = min(max(entry["score"], 0.0), points) if entry else 0.0
        cell.execution_count = count
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=feedback_text(entry, report)),
            # nbgrader's partial credit reads text/plain; pages show the HTML ("3 / 4 points").
            nbformat.v4.new_output("execute_result", data={
                "text/plain": repr(round(score, 4)),
                "text/html": '<span class="d2l-score">' + words(report.get("lang") or "en")(
                    _("{score} / {points} points")).format(score=f"{round(score, 2):g}",
                                                           points=f"{points:g}") + "</span>"},
                execution_count=count),
        ]
    nb.metadata["d2l_course"] = {"report": report}
    return nb


def _metadata_problem(cell: nbformat.NotebookNode, validator: MetadataValidator) -> str | None:
    """Why nbgrader would reject this cell's metadata (after upgrading it), or ``None``.

    A cell that passes gets the upgraded metadata (an older schema is upgraded, as
    ``nbgrader update`` would; metadata the upgrade drops is dropped).
    """
    trial = copy.deepcopy(cell)
    try:
        if not isinstance(trial.metadata.get("nbgrader"), dict):
            return "its nbgrader metadata is not a mapping"
        validator.upgrade_cell_metadata(trial)
        validator.validate_cell(trial)
    except Exception as exc:  # noqa: BLE001 - any failure means nbgrader would reject it
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if "nbgrader" in trial.metadata:
        cell.metadata["nbgrader"] = trial.metadata["nbgrader"]
    else:
        del cell.metadata["nbgrader"]  # the upgrade found nothing to keep
    return None


class RepairMetadata(NbGraderPreprocessor):
    """First sanitizing step: broken nbgrader metadata costs only this submission's grade.

    nbgrader aborts the whole autograde run when a cell's metadata has an unexpected schema
    version, which is what its own ``DeduplicateIds`` leaves on a duplicated grade cell. Here,
    before nbgrader looks: of the cells sharing a ``grade_id`` the last keeps its metadata (as
    in ``DeduplicateIds``) and the others lose theirs; a cell whose metadata nbgrader would
    reject loses it too. Such a cell is an ordinary cell from then on; a grade cell lost this
    way scores 0 for this student. Every change is logged.
    """

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        validator = MetadataValidator()
        seen: set[str] = set()
        for index in reversed(range(len(nb.cells))):
            cell = nb.cells[index]
            if "nbgrader" not in cell.get("metadata", {}):
                continue
            problem = _metadata_problem(cell, validator)
            if problem is None and (is_grade(cell) or is_solution(cell) or is_locked(cell)):
                grade_id = cell.metadata.nbgrader.get("grade_id")
                if grade_id in seen:
                    problem = f"grade_id {grade_id!r} appears again further down"
                seen.add(grade_id)
            if problem is not None:
                self.log.warning("cell %d: nbgrader metadata removed (%s)", index + 1, problem)
                del cell.metadata["nbgrader"]
        return nb, resources


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
    lang = Unicode("", help="Language of the feedback's messages, en or zh (default: the "
                   "assignment's: chNN_zh is Chinese)").tag(config=True)

    def options(self, student: str | None, lang: str = "en") -> Options:
        """The engine's options, from this preprocessor's configuration; messages in ``lang``
        unless the configuration's ``lang`` says otherwise."""
        limits = parse_limits([f"{k}={v}" for k, v in self.limits.items()])
        return Options(seed=self.seed, isolate=self.isolate, device=self.device, limits=limits,
                       student=student, lang=self.lang or lang)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        """Grade ``nb``; whatever goes wrong, the grade cells get a score and a message."""
        from grader.course import assignment_of

        info = resources.get("nbgrader", {})
        chapter, lang = assignment_of(str(info.get("assignment")))
        student = info.get("student")
        try:
            report = self.grade(nb, info)
        except Exception as exc:  # noqa: BLE001 - one notebook must not stop the class
            from grader.course import COURSE
            from grader.engine.report import failed_report

            self.log.exception("%s/%s could not be graded", student, chapter)
            try:
                exercises = COURSE.exercises(chapter)
            except Exception:  # noqa: BLE001 - an assignment without checks
                exercises = {}
            report = failed_report(chapter, exercises, f"grading failed ({type(exc).__name__}: "
                                   f"{exc}); tell your instructor",
                                   options=Options(seed=self.seed, student=student,
                                                   lang=self.lang or lang))
        self.log.info("%s/%s: %g / %g (seed %s)", student, chapter, report["score"],
                      report["max_score"], report["seed"])
        return fill_grade_cells(nb, report), resources

    def grade(self, nb: nbformat.NotebookNode, info: dict) -> dict:
        """The engine's report for ``nb`` (written to a private temporary file first)."""
        from grader.course import COURSE, assignment_of
        from grader.engine.run import grade

        chapter, lang = assignment_of(str(info.get("assignment")))
        with tempfile.TemporaryDirectory(prefix="d2l-autograde-") as tmp:
            name = Path(str(info.get("notebook") or chapter)).name
            path = Path(tmp) / f"{name}.ipynb"
            nbformat.write(nb, path)
            return grade(path, chapter, COURSE, self.options(info.get("student"), lang))
