"""Grade a whole class in parallel: one JSON report per student, a CSV, optionally the gradebook.

Two routes share everything but where the gradings run. The default is a local pool: each
worker is a separate process that grades one submission at a time with
``grader.engine.run.grade``, under a data-memory ceiling (``run.limit_memory``). The other is a
Dask cluster (``grader.engine.cluster``, optional: needs ``distributed``), on this machine or
many. A submission that breaks anything gets an error report and the rest of the class is
graded: a worker process that dies (killed by the OS, say) costs a retry of the submissions it
held, each graded alone, and an error report only for the one that kills its worker again.
Reports come back to this process, which writes them, the CSV and the gradebook the same way
for both routes; ``resume`` grades only the submissions that have no report yet.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from grader.engine.options import Course, Options
from grader.engine.report import failed_report, write_csv, write_json
from grader.engine.run import GRADER_MEMORY, baseline, grade, limit_memory, prepare
from grader.engine.sandbox import _SERVERS, ServerClient, fork_server, share_fork_server

if TYPE_CHECKING:
    from grader.engine.cluster import Cluster

SUFFIXES = (".ipynb", ".py")


def find_submissions(root: Path, chapter: str, notebook: str | None = None) -> dict[str, Path]:
    """Map student id to submission file.

    Accepts nbgrader's ``submitted/<student>/<chapter>/<notebook>.ipynb`` layout (any notebook
    or script in that folder; the one named ``notebook``, by default the chapter, first; an
    assignment such as ``ch03_zh`` holds ``ch03.ipynb``) and a flat folder of files named
    ``<student>.ipynb`` / ``<student>.py``.
    """
    found: dict[str, Path] = {}
    notebook = notebook or chapter
    if not root.is_dir():
        return found
    for entry in sorted(root.iterdir()):
        folder = entry / chapter
        if entry.is_dir() and folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
            files.sort(key=lambda p: p.stem != notebook)
            found[entry.name] = files[0] if files else folder / f"{notebook}.ipynb"
        elif entry.is_file() and entry.suffix in SUFFIXES:
            found[entry.stem] = entry
    return found


_START_ERROR: list[str] = []  # why this worker could not get ready, told to each student
# What every worker needs, imported once in multiprocessing's fork server (never in the parent,
# which stays light): each worker forks from it with torch and pytest already imported.
PRELOAD = ("torch", "pytest", "grader.engine.plugin", "grader.engine.run", "grader.engine.warm")


def _stop_worker_server() -> None:
    """Stop (and reap) multiprocessing's fork server once the pool is gone: nothing of the batch
    lingers, and its workers' CPU time is accounted to this process."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None:
        # Killed, not asked to exit: it runs no work of its own, and an interpreter that has
        # imported torch takes about a second to tear down.
        pid = getattr(server, "_forkserver_pid", None)
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        stop()


def _start_shared_server(course: Course, options: Options) -> tuple[ServerClient | None, bool]:
    """The sandbox fork server that ``grade-all``'s workers share (this process's own, started
    here first thing so that its torch import overlaps the workers' start), and whether it was
    started here; ``None`` (each worker then starts its own) where it fails to start."""
    existed = (options.isolate, course) in _SERVERS
    try:
        return fork_server(course, options.isolate), not existed
    except (OSError, RuntimeError):
        return None, False


def _stop_shared_server(course: Course, options: Options, server: ServerClient) -> None:
    if _SERVERS.get((options.isolate, course)) is server:
        del _SERVERS[options.isolate, course]
    server.close()


def worker_context(preload: tuple[str, ...] = ()):
    """The start method of ``grade-all``'s workers: forked from a server that has imported
    ``PRELOAD`` and ``preload`` (the chapter's checks, the course's checker), or spawned fresh
    with ``GRADER_BASELINE=1`` and where ``fork`` is unavailable."""
    if baseline() or sys.platform != "linux":
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *preload])
    return context


def _course_modules(chapter: str, course: Course) -> tuple[str, ...]:
    """The modules a grading of ``chapter`` imports first: its checks and the checker."""
    return (f"{course.checks}.{chapter}", course.checker.partition(":")[0])


def _init_worker(chapter: str, course: Course, options: Options,
                 grader_memory: int | None, connector: socket.socket | None = None) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        if connector is not None:
            with contextlib.suppress(OSError, RuntimeError):  # then it starts one of its own
                share_fork_server(course, options.isolate, connector)
            connector.close()
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


def read_report(path: Path, chapter: str) -> dict | None:
    """The report of ``chapter`` stored at ``path``, or ``None`` when there is none.

    A file that is not a complete report of that assignment (cut short, another chapter's,
    not JSON) counts as none, so ``--resume`` grades that submission again.
    """
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("assignment") != chapter:
        return None
    if not isinstance(report.get("exercises"), list) or "score" not in report:
        return None
    return report


def _write_report(report: dict, path: Path) -> None:
    """Write ``report`` whole or not at all (a batch stopped mid-write leaves no half report)."""
    partial = path.with_name(f".{path.name}.partial")
    write_json(report, partial)
    os.replace(partial, path)


def grade_all(submissions: dict[str, Path], chapter: str, course: Course, *, workers: int,
              out: Path, csv_path: Path, options: Options | None = None,
              gradebook: str | None = None, progress: bool = True,
              grader_memory: int | None = GRADER_MEMORY, resume: bool = False,
              cluster: Cluster | None = None) -> list[dict]:
    """Grade every submission; write one report per student to ``out``, the CSV and the
    gradebook; return the reports in the order of ``submissions``.

    Gradings run in a local pool of ``workers`` processes, or on the Dask cluster that
    ``cluster`` describes (``grader.engine.cluster.Cluster``; then ``workers`` is unused). Both
    routes give the same reports for the same seed. ``grader_memory`` is each grading process's
    data-memory ceiling in bytes (``None``: none). ``resume``: a student whose report of this
    assignment is already in ``out`` is not graded again; that report goes into the CSV and
    gradebook with the rest. Reports are written as each grading finishes (whole files only),
    so an interrupted batch loses only the gradings in flight.
    """
    options = options or Options()
    from rich.progress import Progress

    reports: dict[str, dict] = {}
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers)
    if resume:
        for student in submissions:
            report = read_report(out / f"{student}.json", chapter)
            if report is not None:
                reports[student] = report
    todo = {s: p for s, p in submissions.items() if s not in reports}

    shared, started, connectors = None, False, []
    if todo and cluster is None and not baseline() and sys.platform == "linux":
        shared, started = _start_shared_server(course, options)

    def pool(size: int) -> ProcessPoolExecutor:
        connector = None
        if shared is not None and shared.alive():
            with contextlib.suppress(OSError, RuntimeError):
                connector = shared.connection()
                connectors.append(connector)
        return ProcessPoolExecutor(max_workers=size,
                                   mp_context=worker_context(_course_modules(chapter, course)),
                                   initializer=_init_worker,
                                   initargs=(chapter, course, options, grader_memory, connector))

    def job(executor: ProcessPoolExecutor, student: str) -> Future:
        return executor.submit(_grade_one, student, str(todo[student]), chapter, course,
                               options)

    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task(f"grading {chapter}", total=len(submissions),
                            completed=len(reports))

        def record(student: str, graded: Future | dict) -> None:
            if isinstance(graded, dict):
                report = graded
            else:
                try:
                    report = graded.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a report that did not pickle
                    report = _error_report(student, chapter, course, options, exc)
            reports[student] = report
            _write_report(report, out / f"{student}.json")
            bar.advance(task)

        def dead(student: str, times: int = 2) -> None:
            count = "twice" if times == 2 else f"{times} times"
            record(student, _error_report(
                student, chapter, course, options, "grading failed: the grading process died "
                f"while grading this submission, {count} (killed by the system, e.g. for "
                "memory)"))

        if todo and cluster is None:
            try:
                grade_each(list(todo), workers, pool, job, record, dead)
            finally:
                _stop_worker_server()
                for connector in connectors:
                    connector.close()
                if started:
                    _stop_shared_server(course, options, shared)
        elif todo:
            from grader.engine.cluster import grade_on_cluster

            grade_on_cluster(cluster, todo, chapter, course, options, record=record, dead=dead,
                             grader_memory=grader_memory, tell=bar.console.print)
    ordered = [reports[s] for s in submissions]
    write_csv(ordered, csv_path)
    if gradebook:
        record_in_gradebook(ordered, chapter, gradebook)
    return ordered
