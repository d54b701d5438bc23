"""Grade a whole class in parallel: one JSON report per student, a CSV, optionally the gradebook.

Each worker is a separate process that grades one submission at a time with
``grader.engine.run.grade``, under a data-memory ceiling (``run.limit_memory``). A submission that
breaks anything gets an error report and the rest of the class is graded: a worker process that
dies (killed by the OS, say) costs a retry of the submissions it held, each graded alone, and an
error report only for the one that kills its worker again.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from grader.engine.options import Course, Options
from grader.engine.report import failed_report, write_csv, write_json
from grader.engine.run import GRADER_MEMORY, baseline, grade, limit_memory, prepare

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


_START_ERROR: list[str] = []  # why this worker could not get ready, told to each student


def _init_worker(chapter: str, course: Course, options: Options,
                 grader_memory: int | None) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        if not baseline():
            prepare(chapter, course, options)
        import torch

        torch.set_num_threads(1)
        limit_memory(grader_memory)
    except Exception as exc:  # noqa: BLE001 - a failing initializer would break the whole pool
        _START_ERROR.append(f"{type(exc).__name__}: {exc}")


def _error_report(student: str, chapter: str, course: Course, options: Options,
                  exc: BaseException | str) -> dict:
    why = exc if isinstance(exc, str) else f"grading failed: {type(exc).__name__}: {exc}"
    return failed_report(chapter, course.exercises(chapter), why,
                         options=options.replace(student=student))


def _grade_one(student: str, path: str, chapter: str, course: Course, options: Options) -> dict:
    options = options.replace(student=student)
    if _START_ERROR:
        why = f"grading failed: the grading process did not start: {_START_ERROR[0]}"
        return _error_report(student, chapter, course, options, why)
    try:
        return grade(path, chapter, course, options)
    except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
        return _error_report(student, chapter, course, options, exc)
    finally:
        gc.collect()  # cheap after prepare's freeze; frees what this submission's answers took


Job = Callable[[ProcessPoolExecutor, str], Future]


def _grade_in_pool(pool: ProcessPoolExecutor, students: list[str], window: int, job: Job,
                   record: Callable[[str, Future], None]) -> tuple[list[str], list[str]]:
    """Grade ``students`` in ``pool``, at most ``window`` at a time, handing each finished
    future to ``record``.

    Returns the students whose grading was in flight when a worker process died, and those not
    started yet. Keeping only ``window`` (the pool's size) in flight is what lets a dead worker
    be traced to the few submissions it could have been grading.
    """
    waiting, running, died = deque(students), {}, []
    with pool:
        while running or (waiting and not died):
            while waiting and not died and len(running) < window:
                student = waiting.popleft()
                running[job(pool, student)] = student
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                student = running.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    died.append(student)
                else:
                    record(student, future)
    return died, list(waiting)


def grade_each(students: list[str], workers: int, pool: Callable[[int], ProcessPoolExecutor],
               job: Job, record: Callable[[str, Future], None],
               dead: Callable[[str], None]) -> None:
    """Grade every student in pools of ``workers`` processes made by ``pool(size)``.

    ``job(executor, student)`` submits one grading; ``record(student, future)`` takes each
    finished one. Students in flight when a worker process died are graded again afterwards,
    each alone in a fresh pool; ``dead(student)`` is called for one whose worker dies again.
    """
    todo, suspects = students, []
    while todo:
        died, todo = _grade_in_pool(pool(workers), todo, workers, job, record)
        suspects += died
    for student in suspects:
        died, _ = _grade_in_pool(pool(1), [student], 1, job, record)
        if died:
            dead(student)


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
              gradebook: str | None = None, progress: bool = True,
              grader_memory: int | None = GRADER_MEMORY) -> list[dict]:
    """Grade every submission with ``workers`` processes; write reports and the CSV.

    ``grader_memory`` is each worker's data-memory ceiling in bytes (``None``: none).
    """
    options = options or Options()
    from rich.progress import Progress

    reports: dict[str, dict] = {}
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers)

    def pool(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=size, mp_context=get_context("spawn"),
                                   initializer=_init_worker,
                                   initargs=(chapter, course, options, grader_memory))

    def job(executor: ProcessPoolExecutor, student: str) -> Future:
        return executor.submit(_grade_one, student, str(submissions[student]), chapter, course,
                               options)

    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task(f"grading {chapter}", total=len(submissions))

        def record(student: str, graded: Future | dict) -> None:
            if isinstance(graded, dict):
                report = graded
            else:
                try:
                    report = graded.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a report that did not pickle
                    report = _error_report(student, chapter, course, options, exc)
            reports[student] = report
            write_json(report, out / f"{student}.json")
            bar.advance(task)

        def dead(student: str) -> None:
            record(student, _error_report(
                student, chapter, course, options, "grading failed: the grading process died "
                "while grading this submission, twice (killed by the system, e.g. for memory)"))

        grade_each(list(submissions), workers, pool, job, record, dead)
    ordered = [reports[s] for s in submissions]
    write_csv(ordered, csv_path)
    if gradebook:
        record_in_gradebook(ordered, chapter, gradebook)
    return ordered
