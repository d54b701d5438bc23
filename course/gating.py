"""Chapter gating: toolbox functions that are some chapter's exercise are locked while that
chapter, or an earlier one, is being graded.

The grader's sandbox sets ``D2L_COURSE_GRADING=chNN``; outside grading nothing is locked, so
students can use every toolbox function in their own experiments and demonstrations.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


class ToolboxLocked(RuntimeError):
    """Raised when graded code calls a toolbox function that the chapter asks students to build."""


def grading_chapter() -> str | None:
    """The chapter being graded in this process, or ``None`` outside grading."""
    return os.environ.get("D2L_COURSE_GRADING") or None


def exercise_of(chapter: str) -> Callable[[F], F]:
    """Mark a toolbox function as the library version of an exercise of ``chapter``.

    While chapter ``chapter`` or any earlier one is graded, calling it raises ``ToolboxLocked``.
    """

    def mark(fn: F) -> F:
        @functools.wraps(fn)
        def gated(*args, **kwargs):
            graded = grading_chapter()
            if graded is not None and graded <= chapter:
                raise ToolboxLocked(
                    f"course.{fn.__name__} is an exercise of {chapter}; while {graded} is graded "
                    "it is unavailable: write your own")
            return fn(*args, **kwargs)

        gated.exercise_of = chapter
        return gated  # type: ignore[return-value]

    return mark


def lock(chapter: str) -> None:
    """Lock the toolbox for grading ``chapter`` (called by the sandbox as it seals)."""
    os.environ["D2L_COURSE_GRADING"] = chapter
