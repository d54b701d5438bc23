"""grade-all on a Dask cluster: the worker side (a worker plugin and the grading task).

Imported only where Dask is installed: by ``grader.engine.cluster`` on the client, and by each
Dask worker when it unpickles the plugin and the tasks. Each worker process must have this
project installed (the same version as the client) and grades one submission at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from distributed import Worker
from distributed.core import Status
from distributed.diagnostics.plugin import WorkerPlugin

from grader.engine.batch import _grade_one, _init_worker
from grader.engine.options import Course, Options

PLUGIN = "d2l-grading"
"""The name the plugin is registered under; registering it again (another class) replaces it."""

STOP_SECONDS = 2.5
"""How long a closing worker waits for its fork server to end before killing it: the nanny
kills a worker that has not exited 4 seconds after it was asked to close."""
_log = logging.getLogger(__name__)
_ONE_AT_A_TIME = threading.Lock()
"""Held by a grading and by the worker's preparation: grading is not thread-safe (one pytest
session at a time per process, stdout redirected while it runs), so a worker started with more
than one thread still grades one submission at a time."""


class GradingPlugin(WorkerPlugin):
    """Makes each Dask worker process ready to grade ``chapter``, once, as it joins.

    ``setup`` does what the local pool's worker initializer does (``batch._init_worker``):
    starts the worker's own fork server, imports the checks and freezes them out of the garbage
    collector's reach (``run.prepare``), one torch thread, the data-memory ceiling
    ``grader_memory``; and it turns off the worker's sampling profiler. The fork server is
    started from the worker's event-loop thread, which lives as long as the worker: the server
    ends when the thread that started it ends, and so with the worker, even a killed one. The
    rest runs in a helper thread, so the worker keeps answering the scheduler meanwhile;
    gradings wait for it (``_ONE_AT_A_TIME``).
    """

    name = PLUGIN

    def __init__(self, chapter: str, course: Course, options: Options,
                 grader_memory: int | None) -> None:
        self.chapter, self.course, self.options = chapter, course, options
        self.grader_memory = grader_memory

    async def setup(self, worker: Worker) -> None:
        """Prepare this worker process (a failure is told to every student it then grades)."""
        from grader.engine.sandbox import fork_server

        if worker.state.nthreads != 1:
            _log.warning("worker %s has %d threads; it grades one submission at a time "
                         "(start it with --nthreads 1)", worker.address, worker.state.nthreads)
        for name in ("profile", "profile-cycle"):
            # Dask's sampling profiler walks the grading thread's (deep: pytest) stack every
            # 10 ms, which costs CPU on every grading. Removed, not stopped: a worker that
            # joins later starts its callbacks after its plugins' setup.
            callback = worker.periodic_callbacks.pop(name, None)
            if callback is not None:
                callback.stop()
        try:
            fork_server(self.course, self.options.isolate)
        except Exception:  # noqa: BLE001 - _init_worker meets the same failure and records it
            pass
        await asyncio.to_thread(self._prepare)

    async def teardown(self, worker: Worker) -> None:
        """As the worker closes, end its fork server, so that it is gone before the nanny's
        few seconds for the worker's exit run out. A plugin replaced by the next class's keeps
        it: the next ``setup`` uses it again."""
        if worker.status in (Status.closing, Status.closing_gracefully, Status.closed):
            await asyncio.to_thread(self._stop_fork_server)

    def _stop_fork_server(self) -> None:
        from grader.engine.sandbox import _SERVERS

        with _ONE_AT_A_TIME:
            server = _SERVERS.pop((self.options.isolate, self.course), None)
        if server is None:
            return
        server.control.close()  # the server ends every sandbox, then itself
        try:
            server.proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server.proc.pid, signal.SIGKILL)  # its namespaces end with it
        server.close()

    def _prepare(self) -> None:
        with _ONE_AT_A_TIME:
            _init_worker(self.chapter, self.course, self.options, self.grader_memory)


def grade_task(student: str, name: str, content: bytes | None, path: str, chapter: str,
               course: Course, options: Options) -> dict:
    """One student's grading on a Dask worker; returns the report (never raises).

    ``content`` is the submission file's bytes, written to a private temporary file named
    ``name`` (workers need no shared file system); the report names ``path``, the file on the
    client, as the local route's does. ``content`` ``None`` (the client could not read it):
    ``path`` is graded as it is, so the report says why it cannot be read.
    """
    with _ONE_AT_A_TIME:
        if content is None:
            return _grade_one(student, path, chapter, course, options)
        with tempfile.TemporaryDirectory(prefix="d2l-submission-") as folder:
            local = Path(folder) / name
            local.write_bytes(content)
            report = _grade_one(student, str(local), chapter, course, options)
        if report.get("submission") == str(local):
            report["submission"] = path
        return report
