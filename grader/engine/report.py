"""Reports: the one report model (a dict with a stable schema) and its writers: JSON, a readable
table, Gradescope ``results.json`` and the class CSV.

Schema (stable; keys may be added, never removed or renamed; every key is present in every
report, a failed one included)::

    {"assignment": "ch03", "score": 17.5, "max_score": 30, "seed": 123,
     "exercises": [{"name": "softmax", "score": 3.0, "max_score": 4, "graded": true,
                    "tests": [{"name": "rows_sum_to_one", "passed": true, "score": 1.0,
                               "max_score": 1.0, "message": ""}, ...]}, ...],
     "student": "alice", "submission": "...", "error": null, "load_errors": [...],
     "skipped_cells": [...], "isolation": {...}, "device": "cpu", "lang": "en",
     "versions": {...}}
"""

from __future__ import annotations

import csv
import json
import platform
from pathlib import Path

from grader.engine.boundary import cut
from grader.engine.options import Options
from grader.engine.words import say

MESSAGE_CHARS = 2000
TAMPERED = "tampered: "  # the sandbox's prefix of a violation that is interference, not a use
MAX_LOAD_ERRORS = 20
STABLE_KEYS = ("assignment", "score", "max_score", "seed", "exercises", "student", "submission",
               "error", "load_errors", "skipped_cells", "isolation", "device", "lang", "versions")


def _round(x: float) -> float:
    return round(float(x), 4)


def _versions() -> dict:
    import torch

    from grader.engine import __version__

    return {"grader": __version__, "python": platform.python_version(),
            "torch": str(torch.__version__)}  # a plain str: unpickling it needs no torch


def exercise_entry(name: str, points: float, results: list, violations: list[str],
                   graded: bool = True) -> dict:
    """Score one exercise: weighted share of passed tests; zero with a forbidden op.

    ``violations`` are what the from-scratch checks found: library ops used (``from_scratch``)
    and, prefixed with ``TAMPERED``, ways the submission interfered with those checks
    (``instrumentation``); either sets the score to 0.
    """
    total = sum(r.weight for r in results)
    tests = []
    for r in results:
        share = points * r.weight / total if total else 0.0
        tests.append({"name": r.name, "passed": r.passed, "score": _round(share if r.passed else 0),
                      "max_score": _round(share), "message": cut(r.message, MESSAGE_CHARS),
                      "seconds": round(float(getattr(r, "seconds", 0.0)), 3)})
    passed = sum(r.weight for r in results if r.passed)
    score = points * passed / total if total else 0.0  # not the rounded shares: 3 × 1.3333 < 4
    used = [v for v in violations if not v.startswith(TAMPERED)]
    tampered = [v.removeprefix(TAMPERED) for v in violations if v.startswith(TAMPERED)]
    if used:
        message = say("this exercise must be built from scratch, but it uses {used}; the "
                      "exercise scores 0 until they are gone").format(used=", ".join(used))
        tests.append({"name": "from_scratch", "passed": False, "score": 0, "max_score": 0,
                      "seconds": 0.0, "message": cut(message, MESSAGE_CHARS)})
    if tampered:
        message = say("the grader's from-scratch checks were interfered with while this "
                      "exercise ran ({what}); the exercise scores 0 until the code leaves them "
                      "alone").format(what="; ".join(tampered))
        tests.append({"name": "instrumentation", "passed": False, "score": 0, "max_score": 0,
                      "seconds": 0.0, "message": cut(message, MESSAGE_CHARS)})
    if violations:
        score = 0.0
    if not graded:
        tests = [{"name": "not_graded", "passed": False, "score": 0, "max_score": _round(points),
                  "seconds": 0.0,
                  "message": say("not graded in this run (--exercise selected others)")}]
        score = 0.0
    elif not tests:
        tests = [{"name": "no_checks_ran", "passed": False, "score": 0,
                  "max_score": _round(points), "seconds": 0.0,
                  "message": say("no check of this exercise ran")}]
        score = 0.0
    return {"name": name, "score": _round(min(score, points)), "max_score": _round(points),
            "graded": graded, "tests": tests}


def assemble(chapter: str, exercises: list[dict], seed: int | None, *,
             options: Options | None = None, submission: str | None = None,
             error: str | None = None, load_errors: list | None = None,
             skipped_cells: list | None = None, isolation: dict | None = None,
             student: str | None = None) -> dict:
    """The complete report: every stable key present, totals from the exercise entries.

    ``error`` is cut to ``MESSAGE_CHARS`` characters and ``load_errors`` to ``MAX_LOAD_ERRORS``
    entries (a last entry counts the others), so a report stays small whatever a submission did.
    """
    options = options or Options()
    return {
        "assignment": chapter,
        "score": _round(sum(e["score"] for e in exercises)),
        "max_score": _round(sum(e["max_score"] for e in exercises)),
        "seed": seed,
        "exercises": exercises,
        "student": student if student is not None else options.student,
        "submission": submission,
        "error": cut(error, MESSAGE_CHARS) if error is not None else None,
        "load_errors": _bounded_errors(load_errors or []),
        "skipped_cells": list(skipped_cells or []),
        "isolation": dict(isolation or {}),
        "device": options.device,
        "lang": options.lang,
        "versions": _versions(),
    }


def _bounded_errors(errors: list) -> list[dict]:
    """At most ``MAX_LOAD_ERRORS`` load errors, each a dict of short strings."""
    kept = []
    hidden = 0
    for error in errors:
        if not isinstance(error, dict):
            continue
        if error.get("type") == "MoreErrors":
            count = error.get("count")
            hidden += count if isinstance(count, int) and 0 < count < 2**31 else 1
            continue
        if len(kept) >= MAX_LOAD_ERRORS:
            hidden += 1
            continue
        where = error.get("where") if isinstance(error.get("where"), list) else []
        kept.append({"cell": cut(str(error.get("cell")), 100),
                     "type": cut(str(error.get("type")), 200),
                     "message": cut(str(error.get("message", "")), MESSAGE_CHARS),
                     "where": [cut(str(w), 300) for w in where[-3:]]})
    if hidden:
        kept.append({"cell": "…", "type": "MoreErrors", "where": [], "count": hidden,
                     "message": f"{hidden} more cells raised errors (not listed)"})
    return kept


def failed_report(chapter: str, exercises: dict, message: str, *,
                  options: Options | None = None, submission: str | None = None) -> dict:
    """A report for a submission that could not be graded: every exercise 0 with ``message``.

    ``exercises`` is the chapter's ``EXERCISES`` table (name → spec with ``points``).
    """
    entries = []
    for name, spec in exercises.items():
        entry = exercise_entry(name, spec.points, [], [])
        entry["tests"][0]["message"] = message
        entries.append(entry)
    options = options or Options()
    return assemble(chapter, entries, options.seed, options=options, submission=submission,
                    error=message)


def write_json(report: dict, path: Path) -> None:
    """Write ``report`` as indented JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _points(x: float) -> str:
    """A score as people read it: at most two decimals (``9.67``, ``4``)."""
    return f"{round(float(x), 2):g}"


def format_table(report: dict) -> str:
    """A plain-text table of the graded exercises, their scores and the first failure of each.

    Scores print with at most two decimals; when ``--exercise`` chose some exercises, only those
    are listed and the title's total is theirs.
    """
    from rich.console import Console
    from rich.table import Table

    graded = [ex for ex in report["exercises"] if ex.get("graded", True)]
    title = f"{report['assignment']}: "
    if len(graded) < len(report["exercises"]):
        title += say("{score} / {points} ({graded} of {total} exercises graded)").format(
            score=_points(sum(ex["score"] for ex in graded)),
            points=_points(sum(ex["max_score"] for ex in graded)),
            graded=len(graded), total=len(report["exercises"]))
    else:
        title += f"{_points(report['score'])} / {_points(report['max_score'])}"
    if report.get("student"):
        title = f"{report['student']} — {title}"
    table = Table(show_lines=False)
    table.add_column(say("exercise"))
    table.add_column(say("score"), justify="right")
    table.add_column(say("first problem"), overflow="fold")
    for ex in graded:
        failed = [t for t in ex["tests"] if not t["passed"]]
        table.add_row(ex["name"], f"{_points(ex['score'])}/{_points(ex['max_score'])}",
                      failed[0]["message"] if failed else "")
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    lines = [title, console.export_text()]
    if report.get("error"):
        lines.append(say("Submission error: {error}").format(error=report["error"]))
    for err in report.get("load_errors", []):
        lines.append(say("Cell {cell}: {type}: {message}").format(
            cell=err.get("cell"), type=err.get("type"), message=err.get("message")))
    lines.append(say("seed {seed} (pass --seed {seed} to reproduce)").format(seed=report["seed"]))
    return "\n".join(lines)


def gradescope(report: dict, hidden: str = "after_due_date") -> dict:
    """Gradescope's ``results.json``.

    Per exercise one visible test with its score, ``status`` and ``execution_time``, whose output
    counts the checks passed and repeats what is not a hidden check's detail (a missing
    definition, a forbidden op); then one test per hidden check with its message, shown with
    Gradescope's visibility ``hidden`` (default ``after_due_date``). The top-level score is the
    report's, so the checks' own entries carry no points.
    """
    tests = []
    for ex in report["exercises"]:
        checks = [t for t in ex["tests"]
                  if t["name"] not in ("from_scratch", "instrumentation", "not_graded",
                                       "no_checks_ran")]
        general = [t for t in ex["tests"] if t not in checks]
        passed = sum(t["passed"] for t in checks)
        summary = [f"{passed} of {len(checks)} checks passed"] if checks else []
        if checks and passed < len(checks) and hidden != "visible":
            summary.append("each check's message is shown "
                           + ("after the due date" if hidden == "after_due_date" else "later"))
        summary += [t["message"] for t in general]
        seconds = round(sum(t.get("seconds", 0.0) for t in ex["tests"]), 3)
        tests.append({"name": ex["name"], "score": ex["score"], "max_score": ex["max_score"],
                      "status": "passed" if ex["score"] >= ex["max_score"] else "failed",
                      "execution_time": seconds, "output": "\n".join(summary),
                      "visibility": "visible"})
        for t in checks:
            tests.append({"name": f"{ex['name']} › {t['name']}",
                          "status": "passed" if t["passed"] else "failed",
                          "execution_time": t.get("seconds", 0.0),
                          "output": t["message"], "visibility": hidden})
    notes = [f"seed {report['seed']}"]
    if report.get("error"):
        notes.insert(0, report["error"])
    return {"score": report["score"], "tests": tests, "output": "; ".join(notes),
            "visibility": "visible"}
def write_csv(reports: list[dict], path: Path) -> None:
    """One row per student: id, total, max, seed, error, then one column per exercise."""
    names = [e["name"] for e in reports[0]["exercises"]] if reports else []
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", "seed", "error", *names])
        for r in reports:
            by_name = {e["name"]: e["score"] for e in r["exercises"]}
            writer.writerow([r.get("student", ""), r["score"], r["max_score"], r["seed"],
                             r.get("error") or "", *[by_name.get(n, 0) for n in names]])
