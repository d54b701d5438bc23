"""nbgrader route: one bad notebook costs only its own grade."""

from __future__ import annotations

import copy
import csv
import shutil

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from grader.autograde import GradeWithEngine, RepairMetadata, fill_grade_cells
from grader.demo import make_class
from grader.release import COURSE, run_nbgrader


def _meta(grade_id: str, *, grade: bool, solution: bool, points: float = 0, **extra) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": grade and not solution,
            "grade_id": grade_id, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": {**meta, **extra}}


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("def f():\n    return 1", metadata=_meta(
            "f", grade=False, solution=True)),
        nbformat.v4.new_code_cell("# Autograded: f", metadata=_meta(
            "f-grade", grade=True, solution=False, points=2)),
    ]
    return nb


def _repair(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb, _ = RepairMetadata().preprocess(nb, {})
    MetadataValidator().validate_nb(nb)  # what nbgrader checks next must pass
    return nb


def test_duplicated_grade_cell_keeps_only_the_last():
    nb = _notebook()
    nb.cells.append(copy.deepcopy(nb.cells[1]))
    nb = _repair(nb)
    assert "nbgrader" not in nb.cells[1].metadata
    assert nb.cells[2].metadata["nbgrader"]["grade_id"] == "f-grade"
    assert nb.cells[0].metadata["nbgrader"]["grade_id"] == "f"


@pytest.mark.parametrize("damage", [
    lambda meta: meta.update(schema_version=99),
    lambda meta: meta.pop("grade_id"),
    lambda meta: meta.update(points="many"),
    lambda meta: meta.clear(),
], ids=["schema-too-new", "no-grade-id", "bad-points", "emptied"])
def test_metadata_nbgrader_would_reject_is_removed(damage):
    nb = _notebook()
    damage(nb.cells[1].metadata["nbgrader"])
    nb = _repair(nb)
    assert "nbgrader" not in nb.cells[1].metadata
    assert "nbgrader" in nb.cells[0].metadata


def test_metadata_that_is_not_a_mapping_is_removed_and_old_schemas_upgraded():
    nb = _notebook()
    nb.cells[0].metadata["nbgrader"] = "solution"
    del nb.cells[1].metadata["nbgrader"]["schema_version"]  # version 0: nbgrader upgrades it
    nb = _repair(nb)
    assert "nbgrader" not in nb.cells[0].metadata
    assert nb.cells[1].metadata["nbgrader"]["schema_version"] == 3


def test_grade_cells_get_a_score_whatever_their_metadata():
    nb = _notebook()
    nb.cells[1].metadata["nbgrader"]["points"] = "two"
    odd = copy.deepcopy(nb.cells[1])
    del odd.metadata["nbgrader"]["grade_id"]
    nb.cells.append(odd)
    report = {"seed": 1, "error": None, "exercises": [
        {"name": "f-grade", "score": 2.0, "max_score": 2, "tests": []}]}
    nb = fill_grade_cells(nb, report)
    assert [c.outputs[1]["data"]["text/plain"] for c in nb.cells[1:]] == ["0.0", "0.0"]
    assert "Not graded" in nb.cells[2].outputs[0]["text"]


def test_a_failing_grading_gives_zero_with_a_message(monkeypatch):
    def broken(self, nb, info):
        raise RuntimeError("disk full")

    monkeypatch.setattr(GradeWithEngine, "grade", broken)
    nb = _notebook()
    nb.cells[1].metadata["nbgrader"]["grade_id"] = "pairwise_sq_dists"
    resources = {"nbgrader": {"assignment": "ch02", "student": "eve", "notebook": "ch02"}}
    nb, _ = GradeWithEngine().preprocess(nb, resources)
    report = nb.metadata["d2l_course"]["report"]
    assert report["score"] == 0 and "disk full" in report["error"]
    assert report["student"] == "eve"
    assert "disk full" in nb.cells[1].outputs[0]["text"]


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader")
def test_a_duplicated_grade_cell_does_not_stop_the_class(tmp_path):
    """aaron duplicates a grade cell and ben tampers with a cell's schema version; both used to
    abort ``nbgrader autograde`` for everyone after them. zoe, next in line, is graded."""
    chapter = "ch05"
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE / "source" / chapter, course / "source" / chapter)
    run_nbgrader(course, "generate_assignment", chapter, "--force")
    make_class(course, tmp_path / "assignments", [chapter], {"aaron": 1.0, "ben": 1.0,
                                                             "zoe": 1.0})
    for student, damage in (("aaron", "duplicate"), ("ben", "schema")):
        path = course / "submitted" / student / chapter / f"{chapter}.ipynb"
        nb = nbformat.read(path, as_version=4)
        grade = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                     and not c.metadata["nbgrader"].get("solution"))
        if damage == "duplicate":
            twin = copy.deepcopy(grade)
            twin["id"] = "twin"
            nb.cells.append(twin)
        else:
            grade.metadata["nbgrader"]["schema_version"] = 4
        nbformat.write(nb, path)
    run_nbgrader(course, "autograde", chapter, "--create")
    run_nbgrader(course, "export", f"--to={tmp_path / 'grades.csv'}")
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert set(rows) == {"aaron", "ben", "zoe"}
    zoe = float(rows["zoe"]["score"])
    assert zoe > 0 and zoe == float(rows["aaron"]["score"])
    assert (course / "autograded" / "zoe" / chapter / f"{chapter}.ipynb").exists()
