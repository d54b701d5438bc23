"""Fairness: correct answers in other styles earn full marks; vacuous answers earn nothing.

``tests/variants/chNN.py`` holds ``VARIANTS`` (exercise → correct implementations in other
reasonable styles, the book's own code among them) and optionally ``VACUOUS`` (exercise → one
answer that computes nothing: no check may pay it for what it did not do).
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from grader.course import exercises_of, grade
from grader.release import chapter_ids
from tests.conftest import scores, source_notebook, with_extra_cell


def _table(chapter: str) -> object | None:
    name = f"tests.variants.{chapter}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


CHAPTERS = [c for c in chapter_ids() if _table(c) is not None]


def variants(chapter: str) -> dict[str, list[tuple[str, str]]]:
    return _table(chapter).VARIANTS


def vacuous(chapter: str) -> dict[str, tuple[str, str]]:
    return getattr(_table(chapter), "VACUOUS", {})


def _sets(chapter: str) -> int:
    return max((len(v) for v in variants(chapter).values()), default=0)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_variants_name_real_exercises(chapter):
    known = set(exercises_of(chapter))
    for table in (variants(chapter), vacuous(chapter)):
        assert set(table) <= known, set(table) - known
    for name, cases in variants(chapter).items():
        assert cases and all(description and (f"def {name}(" in code or f"class {name}" in code)
                             for description, code in cases), name
    for name, (description, code) in vacuous(chapter).items():
        assert description and f"def {name}(" in code, name


@pytest.mark.parametrize(("chapter", "k"), [(c, k) for c in CHAPTERS for k in range(_sets(c))])
def test_correct_variants_earn_full_marks(chapter, k, tmp_path):
    picked = {name: cases[k] for name, cases in variants(chapter).items() if len(cases) > k}
    code = "\n\n".join(source for _, source in picked.values())
    path = with_extra_cell(source_notebook(chapter), code, tmp_path / f"{chapter}.ipynb")
    # Set 0 grades every exercise; later sets only those they replace.
    report = grade(path, chapter, seed=4321 + k, exercises=tuple(picked) if k else None)
    lost = {name: (score, picked[name][0] if name in picked else "reference")
            for name, score in scores(report).items()
            if score[0] != score[1] and (k == 0 or name in picked)}
    messages = {e["name"]: [t["message"] for t in e["tests"] if not t["passed"]]
                for e in report["exercises"] if e["name"] in lost}
    assert not lost, (lost, messages)


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if vacuous(c)])
def test_vacuous_answers_earn_nothing(chapter, tmp_path):
    table = vacuous(chapter)
    code = "\n\n".join(source for _, source in table.values())
    path = with_extra_cell(source_notebook(chapter), code, tmp_path / f"{chapter}.ipynb")
    got = scores(grade(path, chapter, seed=2468))
    paid = {name: (got[name], description) for name, (description, _) in table.items()
            if got[name][0] > 0}
    assert not paid, f"answers that compute nothing earned points: {paid}"
