"""The report model (no sandbox): stable keys, scoring rules, bounded sizes, writers."""

from __future__ import annotations

import csv
import json

import pytest

from grader.engine.options import Options
from grader.engine.plugin import Exercise
from grader.engine.plugin import TestResult as Outcome
from grader.engine.report import (
    MAX_LOAD_ERRORS,
    MESSAGE_CHARS,
    STABLE_KEYS,
    assemble,
    exercise_entry,
    failed_report,
    format_table,
    gradescope,
    write_csv,
    write_json,
)

ENTRY_KEYS = {"name", "score", "max_score", "graded", "tests"}
TEST_KEYS = {"name", "passed", "score", "max_score", "message", "seconds"}


def result(name: str, passed: bool, weight: float = 1.0, message: str = "") -> Outcome:
    return Outcome("softmax", name, weight, passed, message)


def _check_shape(report: dict) -> None:
    assert set(STABLE_KEYS) <= set(report)
    for entry in report["exercises"]:
        assert set(entry) == ENTRY_KEYS
        for test in entry["tests"]:
            assert set(test) == TEST_KEYS
    json.dumps(report)


def test_assemble_has_every_stable_key_and_totals():
    entries = [exercise_entry("softmax", 4, [result("a", True), result("b", False)], []),
               exercise_entry("relu", 2, [result("c", True)], [])]
    report = assemble("ch03", entries, 7, options=Options(student="alice", device="cpu"),
                      submission="a.ipynb", isolation={"files": "landlock"})
    _check_shape(report)
    assert (report["score"], report["max_score"], report["seed"]) == (4.0, 6.0, 7)
    assert report["student"] == "alice" and report["device"] == "cpu"
    assert report["error"] is None and report["load_errors"] == []
    assert set(report["versions"]) == {"grader", "python", "torch"}


def test_failed_report_zeroes_every_exercise_with_the_message():
    report = failed_report("ch03", {"softmax": Exercise(points=4), "relu": Exercise(points=2)},
                           "not valid notebook JSON", options=Options(seed=3, student="bob"),
                           submission="b.ipynb")
    _check_shape(report)
    assert (report["score"], report["max_score"], report["seed"]) == (0.0, 6.0, 3)
    assert report["error"] == "not valid notebook JSON" and report["student"] == "bob"
    assert [t["message"] for e in report["exercises"] for t in e["tests"]] == [
        "not valid notebook JSON"] * 2


def test_score_is_the_weighted_share_of_passed_checks():
    entry = exercise_entry("softmax", 4, [result("a", True, 3), result("b", False, 1)], [])
    assert entry["score"] == 3.0 and entry["max_score"] == 4
    assert [(t["score"], t["max_score"]) for t in entry["tests"]] == [(3.0, 3.0), (0, 1.0)]


def test_a_forbidden_op_zeroes_the_exercise():
    entry = exercise_entry("softmax", 4, [result("a", True)], ["torch.softmax"])
    assert entry["score"] == 0.0
    assert entry["tests"][-1]["name"] == "from_scratch"
    assert "torch.softmax" in entry["tests"][-1]["message"]
    assert entry["tests"][-1]["max_score"] == 0


def test_not_graded_and_no_checks_ran():
    skipped = exercise_entry("softmax", 4, [result("a", True)], [], graded=False)
    assert skipped["score"] == 0.0 and not skipped["graded"]
    assert [t["name"] for t in skipped["tests"]] == ["not_graded"]
    empty = exercise_entry("softmax", 4, [], [])
    assert empty["score"] == 0.0 and [t["name"] for t in empty["tests"]] == ["no_checks_ran"]
    assert empty["tests"][0]["max_score"] == 4


def test_score_is_clamped_to_the_points():
    entry = exercise_entry("softmax", 4, [result(str(i), True) for i in range(3)], [])
    assert entry["score"] == 4.0  # not 3 × 1.3333, the rounded shares
    assert entry["tests"][0]["score"] == 1.3333
    partial = exercise_entry("softmax", 4, [result("a", True), result("b", True),
                                            result("c", False)], [])
    assert partial["score"] == 2.6667


def test_report_stays_small_whatever_the_submission_did():
    huge = "x" * 1_000_000
    entry = exercise_entry("softmax", 1, [result("a", False, message=huge)], [])
    errors = [{"cell": str(i), "type": "E" * 10_000, "message": huge, "where": [huge] * 10}
              for i in range(500)]
    errors.append({"cell": "…", "type": "MoreErrors", "count": 1000, "message": "", "where": []})
    errors.append("not an error entry")
    report = assemble("ch03", [entry], 1, error=huge, load_errors=errors)
    assert len(json.dumps(report)) < 200_000
    assert len(report["error"]) < MESSAGE_CHARS + 100
    assert len(report["load_errors"]) == MAX_LOAD_ERRORS + 1
    assert report["load_errors"][-1]["count"] == 500 - MAX_LOAD_ERRORS + 1000
    assert all(len(e["where"]) <= 3 for e in report["load_errors"])


def test_writers(tmp_path):
    entries = [exercise_entry("softmax", 4, [result("a", True), result("b", False, message="m")],
                              [])]
    report = assemble("ch03", entries, 5, options=Options(student="carol"),
                      load_errors=[{"cell": "2", "type": "SyntaxError", "message": "bad",
                                    "where": []}])
    write_json(report, tmp_path / "out" / "carol.json")
    assert json.loads((tmp_path / "out" / "carol.json").read_text()) == report
    table = format_table(report)
    assert "carol — ch03: 2 / 4" in table and "Cell 2: SyntaxError: bad" in table
    assert "--seed 5" in table
    scope = gradescope(report)
    summary, first, second = scope["tests"]
    assert scope["score"] == 2.0 and summary["visibility"] == "visible"
    assert summary["status"] == "failed" and summary["score"] == 2.0
    assert summary["output"].startswith("1 of 2 checks passed")
    assert (first["status"], second["status"]) == ("passed", "failed")
    assert second["output"] == "m" and second["visibility"] == "after_due_date"
    assert "score" not in second and isinstance(second["execution_time"], float)
    write_csv([report], tmp_path / "class.csv")
    rows = list(csv.reader((tmp_path / "class.csv").open()))
    assert rows == [["student", "score", "max_score", "seed", "error", "softmax"],
                    ["carol", "2.0", "4.0", "5", "", "2.0"]]


def test_table_lists_only_the_chosen_exercises_with_rounded_scores():
    entries = [exercise_entry("softmax", 3, [result("a", True), result("b", True),
                                             result("c", False, message="off")], []),
               exercise_entry("relu", 5, [result("a", True)], [], graded=False),
               exercise_entry("mlp", 7, [result("a", True)], [])]
    table = format_table(assemble("ch03", entries, 5))
    assert "ch03: 9 / 10 (2 of 3 exercises graded)" in table
    assert "2/3" in table and "relu" not in table and "2.0000" not in table
    entries = [exercise_entry("softmax", 29, [result("a", True)] * 2 + [result("b", False)], [])]
    assert "ch03: 19.33 / 29" in format_table(assemble("ch03", entries, 5))


@pytest.mark.parametrize("points", [0, 2.5])
def test_points_are_kept_as_given(points):
    entry = exercise_entry("relu", points, [result("a", True)], [])
    assert entry["max_score"] == points and entry["score"] == points
