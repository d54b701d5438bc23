"""Grade one submission: one chapter's checks, one report.

Every route (the CLI, ``grade-all``, nbgrader autograde) calls ``grade``; it runs the chapter's
checks with pytest in this process, with the plugin in ``grader.engine.plugin``, which sends the
student's code to the sandbox. A report is always returned, whatever the submission did.

A process that exists to grade (the CLI, a ``grade-all`` worker) also calls ``prepare`` first, to
start its fork server before anything imports torch and to take the first grading's imports out
of the way, and ``limit_memory``, so that no answer a submission sends back can drive the grader
beyond a bound (a ``MemoryError`` becomes that submission's failed report).

``GRADER_BASELINE=1`` in the environment turns the speed-ups off (pytest plugin autoload, every
default pytest plugin, no warm-up), so that ``make bench`` measures before and after in one run.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import resource
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from grader.engine.options import Course, Options
from grader.engine.report import failed_report

BASELINE = "GRADER_BASELINE"
GRADER_MEMORY = 8 * 2**30
"""Default data-segment ceiling (``RLIMIT_DATA``) of a grading process: generous on purpose."""

# Default pytest plugins that grading never needs; unraisableexception and threadexception each
# run a full garbage collection at the end of every session (a large heap: torch is imported).
_UNNEEDED_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception", "junitxml",
                     "pastebin", "stepwise", "doctest")


def baseline() -> bool:
    """Whether ``GRADER_BASELINE`` asks for the unoptimised path (for benchmarks only)."""
    return os.environ.get(BASELINE, "") not in ("", "0")


def limit_memory(nbytes: int | None = GRADER_MEMORY) -> None:
    """Cap this process's data segment (soft ``RLIMIT_DATA``) at ``nbytes``; ``None``: no cap.

    ``RLIMIT_DATA``, not ``RLIMIT_AS``: torch's CUDA build reserves large address ranges that
    use no memory. Only the soft limit is set, so the sandboxes this process starts can still
    set their own (``Limits.memory_bytes``) above it.
    """
    if nbytes is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        nbytes = min(nbytes, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (nbytes, hard))


def prepare(chapter: str, course: Course, options: Options | None = None) -> None:
    """Make this process ready to grade ``chapter``: call before its first ``grade``.

    Starts the fork server first, so that its torch import overlaps with this process's own,
    then imports what the first grading needs (pytest, the plugin, the chapter's checks) and
    freezes the objects imported so far out of the garbage collector's reach: every collection
    during grading would otherwise walk torch's whole heap. For processes that exist to grade
    (the CLI, ``grade-all`` workers); raises ``ValueError`` for an unknown chapter.
    """
    from grader.engine.sandbox import fork_server

    options = options or Options()
    fork_server(course, options.isolate)
    if baseline():
        return
    if chapter not in course.chapters():
        raise ValueError(f"unknown assignment {chapter!r}; known: {', '.join(course.chapters())}")
    import pytest  # noqa: F401 - imported here so that the first grading does not wait for it

    import grader.engine.plugin  # noqa: F401
    import grader.engine.warm  # noqa: F401 - what a first grading would import, now

    course.exercises(chapter)
    course.compare()
    gc.collect()
    gc.freeze()


def pytest_args(check_path: str) -> list[str]:
    """The engine's own pytest command line for one chapter's checks.

    Plugin autoload is off: a course whose checks need a third-party plugin names it in its
    checks' ``conftest.py`` (``pytest_plugins = [...]``).
    """
    args = [check_path, "-q", "--import-mode=importlib", f"--rootdir={Path(check_path).parent}",
            "-o", "addopts=", "-W", "ignore"]
    plugins = _UNNEEDED_PLUGINS
    if baseline():
        plugins = ("cacheprovider",)
    elif _has_autoload_flag():
        args.append("--disable-plugin-autoload")
    for name in plugins:
        args += ["-p", f"no:{name}"]
    return args


def _has_autoload_flag() -> bool:
    import pytest

    return tuple(pytest.version_tuple[:2]) >= (8, 4)


@contextlib.contextmanager
def _no_autoload() -> Iterator[None]:
    """``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` for one ``pytest.main`` call, where pytest lacks
    ``--disable-plugin-autoload`` (before 8.4); the caller's environment is restored after."""
    if baseline() or _has_autoload_flag():
        yield
        return
    name = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    before = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def grade(submission: str | Path, chapter: str, course: Course,
          options: Options | None = None) -> dict:
    """Grade ``submission`` (.ipynb or .py) against ``chapter``'s checks; return the report.

    Raises ``ValueError`` for an unknown chapter or exercise (a usage error, not the student's).
    Whatever the submission does, a report comes back: when grading cannot finish (the grader
    ran out of memory, pytest failed), every exercise scores 0 and ``error`` says why.
    """
    import pytest

    from grader.engine.plugin import Setup

    options = options or Options()
    if chapter not in course.chapters():
        raise ValueError(f"unknown assignment {chapter!r}; known: {', '.join(course.chapters())}")
    known = course.exercises(chapter)
    unknown = [e for e in options.exercises or () if e not in known]
    if unknown:
        raise ValueError(f"{chapter} has no exercise {', '.join(unknown)}; "
                         f"it has {', '.join(known)}")
    path = course.check_path(chapter)
    if options.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"--device {options.device}: no CUDA device is available here")
    course.use_language(options.lang)
    setup = Setup(course, options, str(submission), chapter=chapter)
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), _no_autoload():
            code = pytest.main(pytest_args(path), plugins=[setup])
    except Exception:  # noqa: BLE001 - a report must come back whatever happened
        code = -1
        log.write(traceback.format_exc())
    finally:
        for name in ("last_type", "last_value", "last_traceback"):
            # pytest's post-mortem copy of the last failure keeps its frames (answers) alive
            sys.__dict__.pop(name, None)
    from grader.engine.plugin import last_report

    report = last_report(setup)
    if report is None:
        text = log.getvalue()
        why = (_out_of_memory() if "MemoryError" in text
               else f"grading did not run (pytest exit {code}); log: {text[-800:]}")
        report = failed_report(chapter, known, why, options=options, submission=str(submission))
    if options.student is not None:
        report["student"] = options.student
    return report


def _out_of_memory() -> str:
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    limit = "" if soft == resource.RLIM_INFINITY else f" ({soft / 2**30:.3g} GiB)"
    return (f"grading stopped: the grader ran out of memory{limit} reading what the submission "
            "sent back; return smaller values")
