"""nbgrader's Validate runs each exercise's public checks: it fails on stubs, wrong worked
examples and forbidden ops with the exercise's own message, and passes complete notebooks."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
import torch

from course.checking import check
from course.validation import validate
from grader.demo import partial_submission
from tests.conftest import release_notebook, source_notebook

pytestmark = pytest.mark.xdist_group("nbgrader")


def _nbgrader_validate(path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}"
               f"{os.environ.get('PATH', '')}")
    return subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)],
                          capture_output=True, text=True, timeout=600, env=env,
                          cwd=path.parent)


def test_validate_tells_the_truth(tmp_path):
    chapter = "ch02"
    nb = partial_submission(source_notebook(chapter), release_notebook(chapter), 0.5)
    for cell in nb.cells:  # one implemented exercise with a wrong answer
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "normalize_by_sum_code":
            right = "return A / A.sum(dim=axis, keepdim=True)"
            assert right in cell.source
            cell.source = cell.source.replace(right, "return A / A.sum()")
    partial = tmp_path / "partial" / f"{chapter}.ipynb"
    partial.parent.mkdir()
    nbformat.write(nb, partial)
    result = _nbgrader_validate(partial)
    assert "VALIDATION FAILED" in result.stdout, result.stdout + result.stderr
    assert "is not implemented yet" in result.stdout
    assert "worked example failed" in result.stdout
    empty = tmp_path / "release" / f"{chapter}.ipynb"
    empty.parent.mkdir()
    empty.write_bytes(release_notebook(chapter).read_bytes())
    assert "VALIDATION FAILED ON 8 CELL(S)" in _nbgrader_validate(empty).stdout
    complete = tmp_path / "complete" / f"{chapter}.ipynb"
    complete.parent.mkdir()
    complete.write_bytes(source_notebook(chapter).read_bytes())
    result = _nbgrader_validate(complete)
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout


def test_public_checks_catch_forbidden_ops_and_types():
    def softmax(X):
        return torch.nn.functional.softmax(X, dim=1)

    with pytest.raises(AssertionError, match="built from scratch.*functional.softmax"):
        validate("softmax", forbid=("softmax",), namespace={"softmax": softmax})
    with pytest.raises(AssertionError, match="not defined"):
        validate("relu", namespace={})
    with pytest.raises(AssertionError, match="expected floating-point"):
        check(torch.tensor([1, 2]), [1.0, 2.0])
    check(torch.tensor([1, 2]), [1, 2])
    with pytest.raises(AssertionError, match="worked example failed"):
        validate("softmax", namespace={"softmax": lambda X: X})  # the failure above counts
    validate("softmax", namespace={"softmax": lambda X: X})  # and only once


def test_public_checks_watch_the_ops_called_at_run_time():
    from course import validation

    def softmax(X):  # hides torch.softmax from a scan of the source
        return getattr(torch, "soft" + "max")(X, dim=1)

    def relu(X):
        return torch.clamp(X, min=0) + torch.softmax(X, dim=1) * 0  # not softmax's own code

    namespace = {"softmax": softmax, "relu": relu, "torch": torch, "check": check}
    validation._EXAMPLES[:] = ["check(softmax(torch.zeros(1, 2)), [[0.5, 0.5]])"]
    with pytest.raises(AssertionError, match="worked example called softmax"):
        validate("softmax", forbid=("softmax",), namespace=namespace)
    validation._EXAMPLES[:] = ["check(relu(torch.ones(1, 2)), [[1.0, 1.0]])"]
    validate("softmax", forbid=("softmax",), namespace={**namespace, "softmax": lambda X: X})
