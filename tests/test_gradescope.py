"""The Gradescope autograder zip grades a submission laid out as Gradescope lays it out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

from grader.gradescope import build_zip
from tests.conftest import release_notebook, source_notebook


def test_autograder_zip_grades_a_gradescope_submission_folder(tmp_path):
    chapter = "ch02"
    archive = build_zip(chapter, tmp_path / "autograder.zip")
    assert build_zip(chapter, tmp_path / "again.zip").read_bytes() == archive.read_bytes()
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "pyproject.toml", "grader/checks/ch02.py",
                "solutions/ch02.py", "course/checking.py"} <= names
        z.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)

    def run(submission) -> dict:
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir()
        if submission is not None:
            shutil.copyfile(submission, root / "submission" / "my_work.ipynb")
        subprocess.run([str(root / "run_autograder")], env=env, cwd=tmp_path, timeout=600,
                       check=True, capture_output=True)
        return json.loads((root / "results" / "results.json").read_text())

    full = run(source_notebook(chapter))
    visible = [t for t in full["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in full["tests"] if t["visibility"] == "after_due_date"]
    assert full["score"] == sum(t["max_score"] for t in visible) > 0
    assert all(t["status"] == "passed" and t["execution_time"] >= 0 for t in full["tests"])
    assert hidden and all("score" not in t for t in hidden)
    empty = run(release_notebook(chapter))
    assert empty["score"] == 0 and all(t["status"] == "failed" for t in empty["tests"]
                                       if t["visibility"] == "visible")
    assert "No notebook found" in run(None)["output"]
