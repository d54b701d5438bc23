"""This course as the engine sees it: the one place that names the toolbox, the protected
packages, the check modules and the chapter list."""

from __future__ import annotations

from pathlib import Path

from course import markers
from grader.engine.options import Course, Options

COURSE = Course(
    toolbox="course",
    protected=("solutions", "grader"),
    distribution="d2l_course",
    checks="grader.checks",
    checker="course.checking:compare",
    setup=(("course.gating", "lock"),),
    demo_marker=markers.DEMO_MARKER,
    demo_tag=markers.DEMO_TAG,
    grade_marker=markers.GRADE_MARKER,
)


def chapters() -> list[str]:
    """Every chapter of the course, in order (the chapters that have checks)."""
    return COURSE.chapters()


def exercises_of(chapter: str) -> dict:
    """The ``EXERCISES`` table of ``chapter``'s checks."""
    return COURSE.exercises(chapter)


def grade(submission: str | Path, chapter: str, options: Options | None = None,
          **changes: object) -> dict:
    """Grade ``submission`` with this course's checks (``changes`` amend ``options``).

    ``grade(path, "ch03", seed=1, exercises=("softmax",), student="alice")``.
    """
    from grader.engine.run import grade as run

    options = (options or Options()).replace(**changes)
    if options.exercises is not None:
        options = options.replace(exercises=tuple(options.exercises))
    return run(submission, chapter, COURSE, options)
