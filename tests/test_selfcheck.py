"""Students' local public checks: ``python -m course.selfcheck`` runs the worked examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from course.selfcheck import selfcheck
from grader.demo import partial_submission
from tests.conftest import ROOT, release_notebook, source_notebook


def test_half_done_notebook_reports_each_exercise(tmp_path):
    chapter = "ch02"
    nb = partial_submission(source_notebook(chapter), release_notebook(chapter), 0.5)
    path = tmp_path / f"{chapter}.ipynb"
    nbformat.write(nb, path)
    results = selfcheck(path)
    assert len(results) == 8
    done = [r for r in results if r.passed]
    assert len(done) == 4 and all(r.message == "worked example passes" for r in done)
    assert all(r.message == "not implemented yet" for r in results if not r.passed)


def test_command_exit_codes(tmp_path):
    run = [sys.executable, "-m", "course.selfcheck"]
    good = subprocess.run([*run, str(source_notebook("ch05"))], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "14 of 14 worked examples pass" in good.stdout
    empty = subprocess.run([*run, str(Path(ROOT, "assignments", "ch04", "ch04.ipynb"))],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert empty.returncode == 1 and "0 of 11" in empty.stdout


def test_an_endless_loop_is_stopped_and_the_rest_summarised(tmp_path):
    nb = nbformat.read(source_notebook("ch02"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "normalize_by_sum_code":
            cell.source += "\n\nwhile True:\n    pass\n"
    path = tmp_path / "ch02.ipynb"
    nbformat.write(nb, path)
    results = {r.exercise: r for r in selfcheck(path, timeout=20)}
    stopped = results["normalize_by_sum"]
    assert not stopped.passed and "longer than 20 s" in stopped.message
    assert len(results) == 8 and sum(r.passed for r in results.values()) == 7
