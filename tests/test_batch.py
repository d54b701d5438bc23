"""grade-all: parallel batch grading of a class, CSV, JSON per student, gradebook scores."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from grader.course import COURSE
from grader.demo import make_class
from grader.release import COURSE as COURSE_DIR
from grader.release import run_nbgrader
from tests.conftest import ROOT

CHAPTER = "ch02"
pytestmark = pytest.mark.xdist_group("batch")


def test_grade_all_survives_a_broken_submission_and_fills_the_gradebook(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(COURSE_DIR / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE_DIR / "source" / CHAPTER, course / "source" / CHAPTER)
    run_nbgrader(course, "generate_assignment", CHAPTER, "--force")
    make_class(course, tmp_path / "assignments", [CHAPTER], {"ann": 1.0, "ben": 0.5, "cat": 0})
    broken = course / "submitted" / "dan" / CHAPTER
    broken.mkdir(parents=True)
    (broken / f"{CHAPTER}.ipynb").write_text("not json")
    out = tmp_path / "reports"
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade-all", str(course / "submitted"), "--assignment",
         CHAPTER, "--workers", "2", "--out", str(out), "--seed", "11",
         "--gradebook", f"sqlite:///{course / 'gradebook.db'}"],
        capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {"ann", "ben", "cat", "dan"}
    top = float(rows["ann"]["max_score"])
    assert float(rows["ann"]["score"]) == top
    assert 0 < float(rows["ben"]["score"]) < top
    assert float(rows["cat"]["score"]) == 0 and float(rows["dan"]["score"]) == 0
    assert "not valid notebook JSON" in rows["dan"]["error"]
    assert json.loads((out / "ann.json").read_text())["seed"] == 11

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(CHAPTER, "ann").score == top
        assert 0 < gb.find_submission(CHAPTER, "ben").score < top


def _stored(student: str, chapter: str = CHAPTER, score: float = 0) -> dict:
    return {"student": student, "assignment": chapter, "score": score, "max_score": 25,
            "seed": 1, "error": None, "exercises": []}


def test_read_report_takes_only_a_whole_report_of_the_assignment(tmp_path):
    from grader.engine.batch import read_report

    path = tmp_path / "ann.json"
    assert read_report(path, CHAPTER) is None  # none yet
    path.write_text(json.dumps(_stored("ann")))
    assert read_report(path, CHAPTER) == _stored("ann")
    assert read_report(path, "ch03") is None  # another assignment's
    path.write_text(json.dumps(_stored("ann"))[:40])  # cut short
    assert read_report(path, CHAPTER) is None
    path.write_text("[]")
    assert read_report(path, CHAPTER) is None


def test_resume_on_the_local_route_grades_only_the_submissions_without_a_report(tmp_path,
                                                                               monkeypatch):
    import grader.engine.batch as batch

    folder, out = tmp_path / "submitted", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    for student in ("ann", "ben", "cat", "dan"):
        (folder / f"{student}.py").write_text("x = 1\n")
    (out / "ann.json").write_text(json.dumps(_stored("ann", score=7)))
    (out / "cat.json").write_text(json.dumps(_stored("cat", score=3)))
    (out / "dan.json").write_text('{"assignment": "ch02", "sco')  # cut short by an interruption
    asked: list[list[str]] = []

    def grade_each(students, workers, pool, job, record, dead):
        asked.append(list(students))
        for student in students:
            record(student, _stored(student, score=1))

    monkeypatch.setattr(batch, "grade_each", grade_each)
    found = batch.find_submissions(folder, CHAPTER)
    reports = batch.grade_all(found, CHAPTER, COURSE, workers=2, out=out,
                              csv_path=out / "grades.csv", progress=False, resume=True)
    assert asked == [["ben", "dan"]]
    assert [(r["student"], r["score"]) for r in reports] == [("ann", 7), ("ben", 1),
                                                             ("cat", 3), ("dan", 1)]
    assert json.loads((out / "dan.json").read_text()) == _stored("dan", score=1)
    assert not list(out.glob(".*.partial"))
    asked.clear()
    batch.grade_all(found, CHAPTER, COURSE, workers=2, out=out, csv_path=out / "grades.csv",
                    progress=False, resume=True)
    assert asked == []  # every report is there: no worker starts
