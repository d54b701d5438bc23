"""grade-all on a Dask cluster: the client side (what goes where, and the reports coming back).

The optional route of ``grader.engine.batch.grade_all`` for a class that outgrows one machine.
Gradings run on the workers of a Dask ``distributed`` scheduler: a ``LocalCluster`` started
here (``Cluster(workers=N)``), or a running scheduler at an address (``Cluster(scheduler=...)``)
whose workers were started with ``dask worker`` or by dask-jobqueue on SLURM/PBS. Each worker
process grades with its own warm fork server, started once when the worker joins (the worker
plugin of ``grader.engine.dask_worker``), one submission at a time.

What this process does: reads each submission and sends its bytes with the task (workers need
no shared file system; the report names the original path), keeps a bounded number of
gradings queued, and hands every report back to ``grade_all``, which writes reports, CSV and
gradebook exactly as on the local route. A worker that dies while grading costs a retry of that
submission on another worker (the scheduler's ``allowed-failures``; 1 on a ``LocalCluster``,
as on the local route); the submission whose grading kills workers more often than that gets
an error report.

GPU routing: a grading that needs CUDA asks for the Dask resource ``GPU=1``, so it runs only
on workers started with ``--resources GPU=1``; every other grading runs on any worker. A
grading needs CUDA when its options' device is ``cuda``/``cuda:N``, or when it has
``gpu``-marked checks and the cluster has a GPU worker (so every student's GPU checks run, on
a GPU worker; with no GPU worker they are skipped for every student, as without CUDA locally).
``Cluster.resources`` overrides this choice.

Only this module's functions import Dask, and only when called: the plain install, the local
route and the command-line parser never need it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.engine.options import Course, Options

GPU = "GPU"
"""The Dask resource that marks a worker with a CUDA device (``dask worker --resources GPU=1``)."""

SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": 1,
                      "distributed.scheduler.worker-saturation": 1.0}
"""The scheduler settings grading wants: a submission is retried once after its worker dies
(as on the local route), and each single-threaded worker holds one grading at a time, so a
worker's death is charged to the one submission it was grading. A ``LocalCluster`` started
here uses them; a scheduler started elsewhere takes them from its environment
(``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1``,
``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0``) or ``dask.config.set`` (dask-jobqueue)."""


class Unreachable(RuntimeError):
    """The scheduler of ``Cluster.scheduler`` did not answer (a wrong address, say)."""


@dataclass(frozen=True)
class Cluster:
    """Where the Dask route grades.

    ``scheduler``: the address of a running scheduler (``tcp://host:8786``) or the path of its
    scheduler file (``dask scheduler --scheduler-file``); ``None`` starts a ``LocalCluster`` of
    ``workers`` single-threaded worker processes on this machine (each with ``resources``, when
    given, so that a GPU machine can run ``cuda`` gradings), stopped at the end.
    ``resources``: the Dask resources each grading needs, e.g. ``{"GPU": 1}``; ``None`` chooses
    (see the module's GPU routing), ``{}`` asks for none. ``dashboard``: the ``LocalCluster``'s
    dashboard address (``None``: no dashboard). ``window``: at most this many gradings per
    worker thread are queued at the scheduler at once (submissions' bytes are held there).
    ``connect_seconds``: how long to wait for the scheduler to answer.
    """

    scheduler: str | None = None
    workers: int = 2
    resources: dict[str, float] | None = None
    dashboard: str | None = ":8787"
    window: int = 2
    connect_seconds: float = 30.0


def parse_resources(settings: list[str] | None) -> dict[str, float] | None:
    """``{"GPU": 1.0}`` from ``["GPU=1"]`` (also ``"GPU=1,MEM=2"``); ``None`` for no settings;
    ``{}`` for ``["none"]``. Raises ``ValueError`` on a malformed setting."""
    if not settings:
        return None
    resources: dict[str, float] = {}
    for setting in settings:
        for item in setting.split(","):
            item = item.strip()
            if item.lower() == "none":
                continue
            name, sep, value = item.partition("=")
            try:
                amount = float(value)
            except ValueError:
                amount = -1.0
            if not sep or not name.strip() or amount < 0:
                raise ValueError(f"resource {item!r} is not NAME=AMOUNT (e.g. GPU=1)")
            resources[name.strip()] = amount
    return resources


def gpu_exercises(course: Course, chapter: str) -> set[str]:
    """The exercises of ``chapter`` that have ``gpu``-marked checks, read from the checks'
    source without importing them (this process never imports torch); ``"*"`` among them
    when a ``gpu`` mark is found on something that is not tied to one exercise by name."""
    path = Path(course.check_path(chapter))
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    found: set[str] = set()
    for file in files:
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        module_gpu = any(_marks_gpu(node.value) for node in tree.body
                         if isinstance(node, ast.Assign)
                         and any(getattr(t, "id", None) == "pytestmark" for t in node.targets))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if not (module_gpu or any(_marks_gpu(d) for d in node.decorator_list)):
                continue
            names = [name for d in node.decorator_list if (name := _exercise_of(d))]
            if names:
                found.update(names)
            elif not isinstance(node, ast.ClassDef) or not module_gpu:
                found.add("*")
    return found


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _marks_gpu(node: ast.AST) -> bool:
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_marks_gpu(e) for e in node.elts)
    name = _dotted(node)
    return name == "gpu" or name.endswith("mark.gpu")


def _exercise_of(node: ast.AST) -> str | None:
    if (isinstance(node, ast.Call) and _dotted(node).split(".")[-1] == "exercise" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def needs_gpu(course: Course, chapter: str, options: Options) -> bool:
    """Whether grading ``chapter`` with ``options`` runs ``gpu``-marked checks (when CUDA is
    there): some selected exercise has one."""
    marked = gpu_exercises(course, chapter)
    if "*" in marked or not options.exercises:
        return bool(marked)
    return bool(marked & set(options.exercises))


def task_resources(cluster: Cluster, options: Options, gpu_checks: bool,
                   gpu_workers: bool) -> dict[str, float]:
    """The Dask resources one grading asks for: ``cluster.resources`` when given; else
    ``GPU=1`` for a ``cuda`` device, or for ``gpu`` checks (``gpu_checks``) on a cluster that
    has a GPU worker (``gpu_workers``); else none (any worker)."""
    if cluster.resources is not None:
        return dict(cluster.resources)
    if options.device.startswith("cuda") or (gpu_checks and gpu_workers):
        return {GPU: 1}
    return {}


@contextlib.contextmanager
def connect(cluster: Cluster, worker_resources: dict[str, float] | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` of ``cluster``: connected to its scheduler, or to a
    ``LocalCluster`` of single-threaded worker processes started here (loopback only, with
    ``worker_resources`` on each worker) and stopped when the block ends."""
    import dask
    from distributed import Client, LocalCluster

    if cluster.scheduler:
        target = cluster.scheduler
        try:
            if target.endswith(".json") and Path(target).is_file():
                client = Client(scheduler_file=target, timeout=cluster.connect_seconds)
            else:
                client = Client(target, timeout=cluster.connect_seconds)
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            raise Unreachable(f"no Dask scheduler answered at {target} "
                              f"({type(exc).__name__}: {exc})") from exc
        with client:
            yield client
        return
    with dask.config.set(SCHEDULER_SETTINGS):
        local = LocalCluster(n_workers=max(1, cluster.workers), threads_per_worker=1,
                             processes=True, host="127.0.0.1",
                             dashboard_address=cluster.dashboard,
                             resources=worker_resources or None)
    with local, Client(local) as client:
        yield client


def dashboard_link(client: Any) -> str | None:
    """The scheduler's dashboard address, or ``None`` when it has none."""
    try:
        return client.dashboard_link or None
    except (KeyError, AttributeError, TypeError):
        return None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None  # the worker grades the path itself, so the report says what is wrong


Record = Callable[[str, dict], None]


def grade_on_cluster(cluster: Cluster, submissions: dict[str, Path], chapter: str,
                     course: Course, options: Options, *, record: Record,
                     dead: Callable[[str, int], None], grader_memory: int | None,
                     tell: Callable[[str], None] = print) -> None:
    """Grade ``submissions`` on ``cluster``; hand each report to ``record(student, report)``
    as it comes back, in the order gradings finish.

    ``dead(student, times)`` is called for a submission whose grading killed ``times`` workers
    (the scheduler gave up on it). ``tell`` prints the dashboard address and warnings (workers
    with more than one thread, gradings that wait for a GPU worker).
    """
    from distributed import KilledWorker, as_completed

    from grader.engine.batch import _error_report
    from grader.engine.dask_worker import PLUGIN, GradingPlugin, grade_task

    gpu_checks = needs_gpu(course, chapter, options)
    local_resources = None
    if cluster.scheduler is None:
        local_resources = task_resources(cluster, options, gpu_checks, False) or None
    with connect(cluster, local_resources) as client:
        link = dashboard_link(client)
        tell(f"Dask dashboard: {link}" if link else "Dask scheduler has no dashboard")
        if not client.scheduler_info(n_workers=-1)["workers"]:
            tell(f"waiting for a Dask worker to join {client.scheduler.address} …")
        client.wait_for_workers(1)
        client.register_plugin(GradingPlugin(chapter, course, options, grader_memory),
                               name=PLUGIN)
        workers = client.scheduler_info(n_workers=-1)["workers"]
        threaded = sorted(a for a, w in workers.items() if w.get("nthreads", 1) > 1)
        if threaded:
            tell("warning: workers with more than one thread grade one submission at a time "
                f"(start them with --nthreads 1): {', '.join(threaded)}")
        gpu_workers = any(w.get("resources", {}).get(GPU, 0) >= 1 for w in workers.values())
        resources = task_resources(cluster, options, gpu_checks, gpu_workers)
        if resources and not any(all(w.get("resources", {}).get(k, 0) >= v
                                     for k, v in resources.items())
                                 for w in workers.values()):
            wanted = ",".join(f"{k}={v:g}" for k, v in resources.items())
            tell(f"warning: no worker offers {wanted} yet; the gradings wait for one "
                f"(start workers with --resources {wanted})")

        run = uuid.uuid4().hex[:8]
        waiting = deque(submissions)
        student_of: dict[str, str] = {}

        def submit() -> Any:
            student = waiting.popleft()
            path = submissions[student]
            future = client.submit(
                grade_task, student, path.name, _read(path), str(path), chapter, course,
                options, key=f"grade-{chapter}-{student}-{run}", pure=False,
                resources=resources or None)
            student_of[future.key] = student
            return future

        def window() -> int:
            return max(4, cluster.window * sum(client.nthreads().values()))

        pending = as_completed([submit() for _ in range(min(window(), len(waiting)))])
        for future in pending:
            student = student_of.pop(future.key)
            try:
                report = future.result()
            except KilledWorker as exc:
                report = None
                dead(student, exc.allowed_failures + 1)
            except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - one student's
                report = _error_report(student, chapter, course, options, exc)
            if report is not None:
                record(student, report)
            future.release()
            free = window() - pending.count() if waiting else 0
            for _ in range(min(free, len(waiting))):
                pending.add(submit())
