"""Bad submissions lose only what they break: each student's report says what happened."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from grader.course import grade
from tests.conftest import ROOT, scores, source_notebook, with_extra_cell

CHAPTER = "ch03"
HOSTILE = '''
import builtins, os, sys, torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
sys.modules["grader"] = sys.modules["solutions"] = None
builtins.AssertionError = type("NotAnAssertion", (Exception,), {})
builtins.input = builtins.breakpoint = lambda *args, **kwargs: "patched"

def softmax(X):
    while True:
        pass

def cross_entropy(y_hat, y):
    os._exit(1)

def sgd(params, lr, batch_size):
    import ctypes
    ctypes.string_at(0)

def squared_loss(y_hat, y):
    while True:
        print("x" * 1_000_000)

def accuracy(y_hat, y):
    sys.exit("done")

def huber_loss(y_hat, y, sigma=1.0):
    return bytearray(64 * 2**30)

def linreg(X, w, b):
    return torch.zeros(X.shape[0], 1, dtype=X.dtype)
'''
EXPECTED = {
    "softmax": "timed out",
    "cross_entropy": "exited with status 1",
    "sgd": "segmentation fault",
    "squared_loss": "output limit",
    "accuracy": "sys.exit",
    "huber_loss": "out of memory",
    "linreg": "is wrong",
}


@pytest.mark.xdist_group("hostile")
def test_hostile_submission_loses_only_the_broken_exercises(tmp_path):
    path = with_extra_cell(source_notebook(CHAPTER), HOSTILE, tmp_path / "hostile.ipynb")
    report = grade(path, CHAPTER, seed=7)
    got = scores(report)
    for name, needle in EXPECTED.items():
        assert got[name][0] == 0, (name, got[name])
        messages = " ".join(t["message"] for e in report["exercises"] if e["name"] == name
                            for t in e["tests"])
        assert needle in messages, (name, messages)
    others = {n: s for n, s in got.items() if n not in EXPECTED and s[0] != s[1]}
    assert not others, others
    assert report["isolation"]["process"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def test_broken_json_gets_a_report_and_exit_zero(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [ {"cell_type": "code", "source": "x = 1"')
    out = tmp_path / "r.json"
    result = cli("grade", str(bad), "--assignment", CHAPTER, "--json", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["score"] == 0 and "not valid notebook JSON" in report["error"]
    assert len(report["exercises"]) > 5
    assert all(e["score"] == 0 for e in report["exercises"])


def test_deleted_renamed_and_syntax_error_cells(tmp_path):
    nb = nbformat.read(source_notebook(CHAPTER), as_version=4)
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "softmax_code":
            continue
        if grade_id == "linreg_code":
            cell.source = cell.source.replace("def linreg(", "def my_linreg(")
        if grade_id == "huber_loss_code":
            cell.source += "\n    return (\n"
        cells.append(cell)
    nb.cells = cells
    path = tmp_path / "edited.ipynb"
    nbformat.write(nb, path)
    report = grade(path, CHAPTER, seed=3)
    got = scores(report)
    for name in ("softmax", "linreg", "huber_loss"):
        assert got[name][0] == 0
        assert "is not defined" in report["exercises"][list(got).index(name)]["tests"][0]["message"]
    assert any(e["type"] == "SyntaxError" for e in report["load_errors"])
    assert got["sgd"][0] == got["sgd"][1]


def test_usage_errors_exit_two(tmp_path):
    assert cli("grade", str(tmp_path / "nope.ipynb"), "--assignment", CHAPTER).returncode == 2
    sub = tmp_path / "s.py"
    sub.write_text("x = 1\n")
    result = cli("grade", str(sub), "--assignment", CHAPTER, "--exercise", "nope")
    assert result.returncode == 2 and "has no exercise nope" in result.stderr
    assert cli("grade", str(sub), "--assignment", "ch99").returncode == 2


def test_single_exercise_and_script_submission(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text((ROOT / "solutions" / f"{CHAPTER}.py").read_text())
    out = tmp_path / "r.json"
    result = cli("grade", str(script), "--assignment", CHAPTER, "--exercise", "softmax",
                 "--json", str(out), "--seed", "5")
    assert result.returncode == 0
    report = json.loads(out.read_text())
    graded = {e["name"]: e for e in report["exercises"] if e["graded"]}
    assert list(graded) == ["softmax"] and graded["softmax"]["score"] == graded["softmax"][
        "max_score"]
    assert report["seed"] == 5


def test_forbidden_library_op_zeroes_the_exercise(tmp_path):
    code = "def softmax(X):\n    return torch.softmax(X, dim=1)\n"
    path = with_extra_cell(source_notebook(CHAPTER), code, tmp_path / "lib.ipynb")
    report = grade(path, CHAPTER, exercises=["softmax"], seed=1)
    entry = next(e for e in report["exercises"] if e["name"] == "softmax")
    assert entry["score"] == 0
    scratch = next(t for t in entry["tests"] if t["name"] == "from_scratch")
    assert "torch.softmax" in scratch["message"]


def test_plain_pytest_route_runs_the_same_checks(tmp_path):
    report = tmp_path / "r.json"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", f"grader/checks/{CHAPTER}.py", "--submission",
         str(source_notebook(CHAPTER)), "--seed", "3", "--report", str(report), "-q",
         "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:]
    data = json.loads(report.read_text())
    assert data["score"] == data["max_score"] and data["seed"] == 3
    assert f"{CHAPTER}: {data['score']:g} / {data['max_score']:g}" in result.stdout
    stub = subprocess.run(
        [sys.executable, "-m", "pytest", f"grader/checks/{CHAPTER}.py", "--submission",
         str(ROOT / "assignments" / CHAPTER / f"{CHAPTER}.ipynb"), "-q", "-p", "no:cacheprovider",
         "--exercise", "softmax"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert stub.returncode == 1 and "not implemented yet" in stub.stdout
