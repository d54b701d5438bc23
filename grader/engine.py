"""The grading engine: one submission, one chapter's checks, one report.

Every route (the CLI, ``grade-all``, nbgrader autograde) calls ``grade``; it runs the chapter's
pytest module in this process with the plugin in ``grader.plugin``, which sends the student's
code to the sandbox. A report is always returned, whatever the submission did.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import traceback
from pathlib import Path

import pytest

CHECKS = Path(__file__).with_name("checks")


def chapters() -> list[str]:
    """The chapters that have hidden checks, in order."""
    return sorted(p.stem for p in CHECKS.glob("ch[0-9][0-9].py"))


def exercises_of(chapter: str) -> dict:
    """The ``EXERCISES`` table of a chapter's check module."""
    import importlib

    return importlib.import_module(f"grader.checks.{chapter}").EXERCISES


def failed_report(chapter: str, seed: int | None, message: str) -> dict:
    """A report for a submission that could not be graded: every exercise 0 with ``message``."""
    from grader.report import exercise_entry

    exercises = []
    for name, spec in exercises_of(chapter).items():
        entry = exercise_entry(name, spec.points, [], [])
        entry["tests"][0]["message"] = message
        exercises.append(entry)
    return {"assignment": chapter, "score": 0, "max_score": sum(e["max_score"] for e in exercises),
            "seed": seed, "exercises": exercises, "error": message}


def grade(submission: str | Path, chapter: str, *, seed: int | None = None,
          exercises: list[str] | None = None, student: str | None = None,
          isolate: bool = True) -> dict:
    """Grade ``submission`` (.ipynb or .py) against ``chapter``'s checks; return the report."""
    if chapter not in chapters():
        raise ValueError(f"unknown assignment {chapter!r}; known: {', '.join(chapters())}")
    with tempfile.TemporaryDirectory(prefix="d2l-report-") as tmp:
        out = Path(tmp) / "report.json"
        args = [str(CHECKS / f"{chapter}.py"), f"--submission={submission}", f"--report={out}",
                "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                f"--rootdir={CHECKS}", "-o", "addopts=", "-W", "ignore"]
        if seed is not None:
            args.append(f"--seed={seed}")
        if not isolate:
            args.append("--no-isolation")
        for name in exercises or []:
            args.append(f"--exercise={name}")
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                code = pytest.main(args)
        except Exception:  # noqa: BLE001 - a report must come back whatever happened
            code = -1
            log.write(traceback.format_exc())
        if out.exists():
            import json

            report = json.loads(out.read_text(encoding="utf-8"))
        else:
            report = failed_report(chapter, seed, f"grading did not run (pytest exit {code}); "
                                    f"log: {log.getvalue()[-800:]}")
    if student is not None:
        report["student"] = student
    return report
