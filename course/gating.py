"""Chapter gating: toolbox functions that are some chapter's exercise are locked while that
chapter, or an earlier one, is being graded.

The grader's sandbox calls ``lock(chapter)`` as it seals, before any student code runs. From
then on, in that process and for good, each gated toolbox function of that chapter or a later
one only raises ``ToolboxLocked``: the code of the gated function and of the library version it
wraps (its ``__wrapped__``, its closure) is replaced, so no import style, saved reference,
reload or environment variable reaches the library version. Toolbox functions decorated later
(a reload of their module, or a fresh import after removing it from ``sys.modules``) are locked
as they are made: the sealed chapter survives in a resource limit that the process can lower
but never raise again.

Outside grading nothing is locked, so students can use every toolbox function in their own
experiments and demonstrations. ``D2L_COURSE_GRADING=chNN`` in the environment locks the same
functions without sealing anything (to see a notebook as the grader does); it can lock more,
never unlock.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable
from typing import TypeVar

try:
    import resource
except ImportError:  # not on Windows, where no sandbox runs
    resource = None

F = TypeVar("F", bound=Callable)
VARIABLE = "D2L_COURSE_GRADING"
# The CPU time of real-time scheduling, which no sandbox process can use (unlimited by default):
# its hard limit holds the number of the chapter a sandbox was sealed for, since a process can
# lower a hard limit but never raise it again.
SEAL_LIMIT = getattr(resource, "RLIMIT_RTTIME", None)


# Taken over from the module's previous state on ``importlib.reload``: a reload must not forget
# the gated functions.
_GATED: list[tuple[Callable, Callable, str]] = globals().get("_GATED", [])  # (gated, fn, chapter)
_SEALED: list[str] = []  # the chapter ``lock`` sealed the process for, where no limit can hold it


def _sealed_chapter() -> str | None:
    """The chapter ``lock`` sealed this process for (after a reload or a fresh import too)."""
    chapters = list(_SEALED)
    if SEAL_LIMIT is not None:
        hard = resource.getrlimit(SEAL_LIMIT)[1]
        if hard != resource.RLIM_INFINITY and 0 <= hard < 100:
            chapters.append(f"ch{hard:02d}")
    return min(chapters) if chapters else None


class ToolboxLocked(RuntimeError):
    """Raised when graded code calls a toolbox function that the chapter asks students to build."""


def grading_chapter() -> str | None:
    """The chapter being graded in this process (the earliest that locks), or ``None``."""
    chapters = [c for c in (_sealed_chapter(), os.environ.get(VARIABLE)) if c]
    return min(chapters) if chapters else None


def _message(name: str, chapter: str, graded: str) -> str:
    return (f"course.{name} is an exercise of {chapter}; while {graded} is graded it is "
            "unavailable: write your own")


def exercise_of(chapter: str) -> Callable[[F], F]:
    """Mark a toolbox function as the library version of an exercise of ``chapter``.

    While chapter ``chapter`` or any earlier one is graded, calling it raises ``ToolboxLocked``.
    """

    def mark(fn: F) -> F:
        @functools.wraps(fn)
        def gated(*args, **kwargs):
            graded = grading_chapter()
            if graded is not None and graded <= chapter:
                raise ToolboxLocked(_message(fn.__name__, chapter, graded))
            return fn(*args, **kwargs)

        gated.exercise_of = chapter
        _GATED.append((gated, fn, chapter))
        sealed = _sealed_chapter()
        if sealed is not None and sealed <= chapter:
            _disable(gated, fn, chapter, sealed)
        return gated  # type: ignore[return-value]

    return mark


def _locked_code(code: types.CodeType, message: str) -> types.CodeType:
    """Code that only raises ``ToolboxLocked(message)`` and has the free variables of ``code``
    (a function's code can only be swapped for code that fits its closure). It reaches the
    exception class through the import system because it runs with the toolbox module's
    globals, whatever they hold."""
    free = code.co_freevars
    source = (f"def outer({', '.join(free)}):\n"
              "    def locked(*args, **kwargs):\n"
              f"        {''.join(f'{v}; ' for v in free)}"
              f"raise __import__({__name__!r}, fromlist=['_']).ToolboxLocked({message!r})\n"
              "    return locked\n")
    namespace: dict = {}
    exec(compile(source, code.co_filename, "exec"), namespace)  # noqa: S102 - our own template
    return namespace["outer"](*free).__code__.replace(co_name=code.co_name)


def _disable(gated: Callable, fn: Callable, chapter: str, graded: str) -> None:
    message = _message(fn.__name__, chapter, graded)
    for function in (gated, fn):
        if isinstance(function, types.FunctionType):
            function.__code__ = _locked_code(function.__code__, message)


def lock(chapter: str) -> None:
    """Lock the toolbox for grading ``chapter`` in this process, for good (called by the
    sandbox as it seals, before any student code): every gated function of ``chapter`` or a
    later one raises ``ToolboxLocked`` from now on, however it is reached."""
    _SEALED.append(chapter)
    number = chapter[2:]
    if SEAL_LIMIT is not None and number.isdigit():
        soft, hard = resource.getrlimit(SEAL_LIMIT)
        cap, unlimited = int(number), resource.RLIM_INFINITY
        if hard == unlimited or hard > cap:
            resource.setrlimit(SEAL_LIMIT, (cap if soft == unlimited or soft > cap else soft, cap))
    sealed = _sealed_chapter()
    for gated, fn, gated_chapter in _GATED:
        if sealed <= gated_chapter:
            _disable(gated, fn, gated_chapter, sealed)
