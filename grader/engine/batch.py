"""Grade a whole class in parallel: one JSON report per student, a CSV, optionally the gradebook.

Each worker is a separate process that grades one submission at a time with
``grader.engine.run.grade``; a submission that breaks anything gets an error report and the rest
of the class is graded.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from grader.engine.options import Course, Options
from grader.engine.report import failed_report, write_csv, write_json
from grader.engine.run import grade

SUFFIXES = (".ipynb", ".py")


def find_submissions(root: Path, chapter: str) -> dict[str, Path]:
    """Map student id to submission file.

    Accepts nbgrader's ``submitted/<student>/<chapter>/<chapter>.ipynb`` layout (any notebook or
    script in that folder; the one named after the chapter first) and a flat folder of files
    named ``<student>.ipynb`` / ``<student>.py``.
    """
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for entry in sorted(root.iterdir()):
        folder = entry / chapter
        if entry.is_dir() and folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
            files.sort(key=lambda p: p.stem != chapter)
            found[entry.name] = files[0] if files else folder / f"{chapter}.ipynb"
        elif entry.is_file() and entry.suffix in SUFFIXES:
            found[entry.stem] = entry
    return found


def _init_worker() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _error_report(student: str, chapter: str, course: Course, options: Options,
                  exc: BaseException) -> dict:
    return failed_report(chapter, course.exercises(chapter),
                         f"grading failed: {type(exc).__name__}: {exc}",
                         options=options.replace(student=student))


def _grade_one(student: str, path: str, chapter: str, course: Course, options: Options) -> dict:
    options = options.replace(student=student)
    try:
        return grade(path, chapter, course, options)
    except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
        return _error_report(student, chapter, course, options, exc)


def record_in_gradebook(reports: list[dict], chapter: str, db_url: str) -> None:
    """Store each exercise's score as the auto score of its grade cell in nbgrader's gradebook.

    The assignment must exist in the gradebook (``nbgrader generate_assignment``); students and
    submissions are created when missing.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for report in reports:
            student = report["student"]
            gb.update_or_create_student(student)
            try:
                gb.find_submission(chapter, student)
            except MissingEntry:
                gb.add_submission(chapter, student)
            for exercise in report["exercises"]:
                try:
                    grade = gb.find_grade(exercise["name"], chapter, chapter, student)
                except MissingEntry:
                    continue
                grade.auto_score = min(exercise["score"], grade.max_score)
            gb.db.commit()


def grade_all(submissions: dict[str, Path], chapter: str, course: Course, *, workers: int,
              out: Path, csv_path: Path, options: Options | None = None,
              gradebook: str | None = None, progress: bool = True) -> list[dict]:
    """Grade every submission with ``workers`` processes; write reports and the CSV."""
    options = options or Options()
    from rich.progress import Progress

    reports: dict[str, dict] = {}
    out.mkdir(parents=True, exist_ok=True)
    with (
        ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn"),
                            initializer=_init_worker) as pool,
        Progress(disable=not progress, transient=False) as bar,
    ):
        task = bar.add_task(f"grading {chapter}", total=len(submissions))
        futures = {pool.submit(_grade_one, student, str(path), chapter, course, options): student
                   for student, path in submissions.items()}
        for future in as_completed(futures):
            student = futures[future]
            try:
                report = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by the OS
                report = _error_report(student, chapter, course, options, exc)
            reports[student] = report
            write_json(report, out / f"{student}.json")
            bar.advance(task)
    ordered = [reports[s] for s in submissions]
    write_csv(ordered, csv_path)
    if gradebook:
        record_in_gradebook(ordered, chapter, gradebook)
    return ordered
