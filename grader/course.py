"""This course as the engine sees it: the one place that names the toolbox, the protected
packages, the check modules and the chapter list."""

from __future__ import annotations

import importlib.util
import runpy
from pathlib import Path

from grader.engine.options import Course, Options


def _markers() -> dict:
    """The toolbox's ``markers.py``, read without importing the toolbox package: its
    ``__init__`` imports torch, and the CLI starts its fork server before any torch import."""
    toolbox = Path(importlib.util.find_spec("course").origin).parent
    return runpy.run_path(str(toolbox / "markers.py"))


_MARKERS = _markers()
COURSE = Course(
    toolbox="course",
    protected=("solutions", "grader"),
    distribution="d2l_course",
    checks="grader.checks",
    checker="course.checking:compare",
    setup=(("course.gating", "lock"),),
    demo_marker=_MARKERS["DEMO_MARKER"],
    demo_tag=_MARKERS["DEMO_TAG"],
    grade_marker=_MARKERS["GRADE_MARKER"],
    language="course.i18n:use_language",
    messages="grader.i18n:words",
)


LANGUAGES = ("en", "zh")


def chapters() -> list[str]:
    """Every chapter of the course, in order (the chapters that have checks)."""
    return COURSE.chapters()


def assignment_of(name: str) -> tuple[str, str]:
    """``(chapter, language)`` of an assignment name: ``ch03`` is chapter ch03 in English,
    ``ch03_zh`` the same chapter in Chinese (graded by the same checks)."""
    chapter, _, lang = name.partition("_")
    return chapter, lang or "en"


def assignments() -> list[str]:
    """Every assignment: each chapter, and ``chNN_zh`` where the chapter is written in Chinese
    too (its prose has ``<!-- zh -->``, see ``docs/bilingual.md``)."""
    toolbox = Path(importlib.util.find_spec("course").origin).parent
    names = []
    for chapter in chapters():
        names.append(chapter)
        prose = toolbox / "chapters" / f"{chapter}.md"
        if prose.exists() and "<!-- zh -->" in prose.read_text(encoding="utf-8"):
            names.append(f"{chapter}_zh")
    return names


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
