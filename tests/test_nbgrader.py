"""The nbgrader round trip: generate, collect a class, autograde without a kernel, export,
late penalty, regrade one student, feedback without hidden test code."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from grader.demo import make_class
from grader.release import COURSE, chapter_ids, run_nbgrader

pytestmark = pytest.mark.xdist_group("nbgrader")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course with alice (complete) in every chapter; bob (half), carol (empty) and dave
    (complete but late, zero-penalty) in the last chapter; everything autograded."""
    root = tmp_path_factory.mktemp("nbgrader")
    course = root / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        (COURSE / "nbgrader_config.py").read_text()
        + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    shutil.copytree(COURSE / "source", course / "source")
    chapters = chapter_ids()
    last = chapters[-1]
    run_nbgrader(course, "generate_assignment", "*", "--force")
    run_nbgrader(course, "db", "assignment", "add", last, "--duedate=2026-06-01 00:00:00 UTC")
    release = root / "assignments"
    make_class(course, release, chapters, {"alice": 1.0})
    make_class(course, release, [last], {"bob": 0.5, "carol": 0.0, "dave": 1.0})
    (course / "submitted" / "dave" / last / "timestamp.txt").write_text(
        "2026-06-03 00:00:00.000000 UTC\n")
    run_nbgrader(course, "autograde", "*", "--create")
    run_nbgrader(course, "export", f"--to={root / 'grades.csv'}")
    rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(
        (root / "grades.csv").open())}
    return course, chapters, rows


def test_complete_submissions_score_full_marks(graded):
    _, chapters, rows = graded
    for chapter in chapters:
        row = rows["alice", chapter]
        assert float(row["score"]) == float(row["max_score"]) > 0, row


def test_export_has_a_column_per_exercise(graded):
    from grader.course import exercises_of

    _, chapters, rows = graded
    last = chapters[-1]
    for chapter in (chapters[0], last):
        alice = rows["alice", chapter]
        for name, spec in exercises_of(chapter).items():
            assert float(alice[f"{chapter}:{name}"]) == spec.points, name
    first_column = f"{chapters[0]}:{next(iter(exercises_of(chapters[0])))}"
    assert rows["alice", last][first_column] == ""  # another assignment's exercise: blank
    bob = rows["bob", last]
    parts = [float(bob[f"{last}:{name}"]) for name in exercises_of(last)]
    assert sum(parts) == float(bob["raw_score"]) and 0 < sum(parts)
    assert all(rows["carol", last][f"{last}:{name}"] in ("0.0", "0") for name in
               exercises_of(last))


def test_partial_and_empty_submissions(graded):
    _, chapters, rows = graded
    last = rows["alice", chapters[-1]]
    bob, carol = rows["bob", chapters[-1]], rows["carol", chapters[-1]]
    assert 0 < float(bob["score"]) < float(last["max_score"])
    assert float(carol["score"]) == 0


def test_late_penalty_applies(graded):
    _, chapters, rows = graded
    dave = rows["dave", chapters[-1]]
    assert float(dave["raw_score"]) == float(dave["max_score"])
    assert float(dave["score"]) == 0 and float(dave["late_submission_penalty"]) > 0


def test_grade_cells_carry_engine_scores_and_messages(graded):
    course, chapters, _ = graded
    nb = nbformat.read(course / "autograded" / "bob" / chapters[-1] / f"{chapters[-1]}.ipynb",
                       as_version=4)
    report = nb.metadata["d2l_course"]["report"]
    assert report["student"] == "bob" and isinstance(report["seed"], int)
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                   and not c.metadata["nbgrader"].get("solution")]
    assert len(grade_cells) == len(report["exercises"])
    for cell in grade_cells:
        kinds = [o["output_type"] for o in cell.outputs]
        assert kinds == ["stream", "execute_result"]
        assert cell.outputs[0]["name"] == "stdout"
        assert float(cell.outputs[1]["data"]["text/plain"]) <= cell.metadata["nbgrader"]["points"]


def test_regrading_one_student_keeps_the_others(graded):
    course, chapters, rows = graded
    last = chapters[-1]
    db = course / "gradebook.db"
    before = db.stat().st_mtime
    run_nbgrader(course, "autograde", last, "--student=bob", "--force")
    assert db.stat().st_mtime >= before
    out = course.parent / "regraded.csv"
    run_nbgrader(course, "export", f"--to={out}")
    again = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(out.open())}
    for key, row in rows.items():
        if key == ("bob", last):
            assert 0 < float(again[key]["score"]) < float(row["max_score"])
        else:
            assert again[key]["score"] == row["score"], key


def test_feedback_is_actionable_and_hides_checks(graded):
    course, chapters, _ = graded
    last = chapters[-1]
    run_nbgrader(course, "generate_feedback", last)
    html = (course / "feedback" / "carol" / last / f"{last}.html").read_text()
    assert "not implemented yet" in html
    from grader.course import exercises_of

    first = next(iter(exercises_of(last)))
    assert f'<a href="#{first}">Exercise <code>{first}</code></a>' in html  # named, not "Test cell"
    assert "points</span>" in html and "Test cell" not in html
    assert "mathjax" not in html.lower() and "cdn." not in html.lower()  # works offline
    for secret in ("expect_tensor", "student.call", "import solutions", "BEGIN SOLUTION"):
        assert secret not in html


def test_no_student_code_ran_in_a_kernel(graded):
    course, chapters, _ = graded
    nb = nbformat.read(course / "autograded" / "alice" / chapters[0] / f"{chapters[0]}.ipynb",
                       as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
            # A kernel would have filled the worked examples' outputs.
            assert cell.outputs == [], cell.source[:80]
