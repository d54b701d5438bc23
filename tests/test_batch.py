"""grade-all: parallel batch grading of a class, CSV, JSON per student, gradebook scores."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from grader.demo import make_class
from grader.release import COURSE, run_nbgrader
from tests.conftest import ROOT

CHAPTER = "ch02"
pytestmark = pytest.mark.xdist_group("batch")


def test_grade_all_survives_a_broken_submission_and_fills_the_gradebook(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE / "source" / CHAPTER, course / "source" / CHAPTER)
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
