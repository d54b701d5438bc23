"""Every chapter: the solutions earn every point, the release earns none, mistakes lose points."""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys

import pytest

from grader.course import exercises_of, grade
from grader.release import chapter_ids
from tests.conftest import ROOT, release_notebook, scores, source_notebook, with_extra_cell

CHAPTERS = chapter_ids()


def mutants(chapter: str) -> dict[str, list[tuple[str, str]]]:
    name = f"tests.mutants.{chapter}"
    return importlib.import_module(name).MUTANTS if importlib.util.find_spec(name) else {}


def mutant_sets(chapter: str) -> int:
    return max((len(v) for v in mutants(chapter).values()), default=0)


def test_solutions_score_full_marks_through_the_cli(tmp_path):
    chapter = CHAPTERS[0]
    out, gs = tmp_path / "report.json", tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(source_notebook(chapter)),
         "--assignment", chapter, "--json", str(out), "--gradescope", str(gs)],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["assignment"] == chapter and isinstance(report["seed"], int)
    assert [e["name"] for e in report["exercises"]] == list(exercises_of(chapter))
    lost = {n: s for n, s in scores(report).items() if s[0] != s[1]}
    assert not lost, (lost, result.stdout)
    assert report["score"] == report["max_score"] > 0
    assert json.loads(gs.read_text())["score"] == report["score"]
    assert f"{report['max_score']:g} / {report['max_score']:g}" in result.stdout


@pytest.mark.parametrize("chapter", CHAPTERS[1:])
def test_solutions_score_full_marks(chapter):
    # The CLI route is the same engine call (tested above on one chapter); grading in this
    # process spares each chapter a fresh interpreter and fork server.
    report = grade(source_notebook(chapter), chapter)
    assert [e["name"] for e in report["exercises"]] == list(exercises_of(chapter))
    lost = {n: s for n, s in scores(report).items() if s[0] != s[1]}
    assert not lost, lost
    assert report["score"] == report["max_score"] > 0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_untouched_release_scores_zero(chapter):
    report = grade(release_notebook(chapter), chapter)
    assert report["score"] == 0, scores(report)
    for exercise in report["exercises"]:
        messages = " ".join(t["message"] for t in exercise["tests"])
        assert "not implemented yet" in messages, (exercise["name"], messages)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_two_realistic_mistakes(chapter):
    table = mutants(chapter)
    assert set(table) == set(exercises_of(chapter))
    for name, cases in table.items():
        assert len(cases) >= 2, name
        assert all(description and f"{name}" in code for description, code in cases), name


@pytest.mark.parametrize(("chapter", "k"),
                         [(c, k) for c in CHAPTERS for k in range(mutant_sets(c))])
def test_each_mistake_loses_points(chapter, k, tmp_path):
    picked = {name: cases[k] for name, cases in mutants(chapter).items() if len(cases) > k}
    code = "\n\n".join(source for _, source in picked.values())
    path = with_extra_cell(source_notebook(chapter), code, tmp_path / f"{chapter}.ipynb")
    # Sets 0-2 grade every exercise (set 2 proves that a mistake costs points in its own
    # exercise only, the others being the reference); later sets grade only their exercises.
    only = tuple(picked) if k > 2 else None
    report = grade(path, chapter, seed=1234 + k, exercises=only)
    got = scores(report)
    kept = {name: (got[name], description) for name, (description, _) in picked.items()
            if got[name][0] >= got[name][1]}
    assert not kept, f"these mistakes kept full marks: {kept}"
    untouched = {n: s for n, s in got.items()
                 if only is None and n not in picked and s[0] != s[1]}
    assert not untouched, f"exercises without a mistake lost points: {untouched}"


@pytest.mark.parametrize("chapter", CHAPTERS[:2])
def test_grading_is_reproducible_given_the_recorded_seed(chapter, tmp_path):
    code = "\n\n".join(cases[0][1] for cases in mutants(chapter).values())
    path = with_extra_cell(source_notebook(chapter), code, tmp_path / f"{chapter}.ipynb")
    first = grade(path, chapter)
    again = grade(path, chapter, seed=first["seed"])

    def outcome(report: dict) -> list:  # everything but the timings
        return [{**e, "tests": [{k: v for k, v in t.items() if k != "seconds"}
                                for t in e["tests"]]} for e in report["exercises"]]

    assert outcome(first) == outcome(again)
