"""Reading submissions (no sandbox): notebook and script formats, skipped cells, IPython syntax."""

from __future__ import annotations

import json
import time

import nbformat
import pytest

from grader.course import COURSE
from grader.engine.magics import transform
from grader.engine.submission import SubmissionError, read_submission


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def _sources(path):
    return [source for _, source in read_submission(path, COURSE).cells]


def test_notebook_code_cells_in_order_labelled_by_cell_number(tmp_path):
    path = _notebook(tmp_path / "a.ipynb", [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("   "),
        nbformat.v4.new_code_cell("def f():\n    return x"),
    ])
    submission = read_submission(path, COURSE)
    assert submission.cells == [("2", "x = 1"), ("4", "def f():\n    return x")]
    assert submission.skipped == []
    assert "def f()" in submission.source


def test_demonstration_and_grade_cells_are_skipped(tmp_path):
    demo_tagged = nbformat.v4.new_code_cell("slow_demo()", metadata={"tags": [COURSE.demo_tag]})
    grade = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": {
        "grade": True, "solution": False, "grade_id": "f", "points": 1}})
    answer = nbformat.v4.new_code_cell("def f():\n    return 1", metadata={"nbgrader": {
        "grade": True, "solution": True, "grade_id": "g", "points": 1}})
    path = _notebook(tmp_path / "a.ipynb", [
        nbformat.v4.new_code_cell(f"{COURSE.demo_marker}: plots\nplot()"),
        demo_tagged, grade, answer,
        nbformat.v4.new_code_cell(f"{COURSE.grade_marker}: f\nassert 'f' in globals()"),
    ])
    submission = read_submission(path, COURSE)
    assert submission.cells == [("4", "def f():\n    return 1")]
    assert submission.skipped == ["cell 1 (demonstration)", "cell 2 (demonstration)",
                                  "cell 3 (grade cell)", "cell 5 (grade cell)"]


def test_percent_format_script(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("# %% [markdown]\n# Some prose\n\n# %%\nx = 1\n\n"
                    f"# %%\n{COURSE.demo_marker}\nplot()\n\n# %%\n%matplotlib inline\ny = 2\n")
    submission = read_submission(path, COURSE)
    assert [source for _, source in submission.cells] == ["x = 1", "pass\ny = 2"]
    assert submission.skipped == ["cell 3 (demonstration)"]


def test_nbconvert_script(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nx = 1\n\n\n"
                    "# In[ ]:\n\n\nget_ipython().run_line_magic('time', '')\ndef f():\n"
                    "    return x\n")
    sources = _sources(path)
    assert len(sources) == 3
    assert sources[1] == "x = 1"
    assert sources[2].startswith("get_ipython().run_line_magic") and "def f():" in sources[2]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"cells": 3}'])
def test_unreadable_notebooks_raise_a_submission_error(tmp_path, text):
    path = tmp_path / "a.ipynb"
    path.write_text(text)
    with pytest.raises(SubmissionError, match="a.ipynb"):
        read_submission(path, COURSE)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(SubmissionError, match="does not exist"):
        read_submission(tmp_path / "gone.ipynb", COURSE)
    other = tmp_path / "a.txt"
    other.write_text("x = 1")
    with pytest.raises(SubmissionError, match=".ipynb notebooks or .py scripts"):
        read_submission(other, COURSE)


def test_odd_cell_fields_are_tolerated(tmp_path):
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": ["x = ", "1\n", "y = x"], "metadata": None},
        {"cell_type": "code", "source": "z = 3", "metadata": {"tags": "demo",
                                                              "nbgrader": "broken"}},
        "not a cell",
        {"cell_type": "code"},
    ]}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(raw))
    assert read_submission(path, COURSE).cells == [("1", "x = 1\ny = x"), ("2", "z = 3")]


def test_version_3_notebooks_are_converted(tmp_path):
    raw = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "x = 41\ndef f():\n    return x + 1",
                    "language": "python", "outputs": [], "metadata": {}}], "metadata": {}}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(raw))
    assert _sources(path) == ["x = 41\ndef f():\n    return x + 1"]


# --- IPython syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("%matplotlib inline\nx = 1", "pass\nx = 1"),
    ("!pip install torch\nx = 1", "pass\nx = 1"),
    ("len?\n??len\nx = 1", "pass\npass\nx = 1"),
    ("files = !ls\nnames = %who_ls", "files = None\nnames = None"),
    ("def f():\n    %time g()\n    return 1", "def f():\n    pass\n    return 1"),
    ("%pip install \\\n    torch\nx = 1", "pass\n\nx = 1"),
    ("%%time\ndef f():\n    %who\n    return 1", "\ndef f():\n    pass\n    return 1"),
    ("%%capture --no-stderr out\nx = 1", "out = None\nx = 1"),
    ("%%bash\necho hi\nrm -rf /", "pass"),
    ("%%writefile helper.py\ndef f():\n    return 1", "pass"),
], ids=["line-magic", "shell", "help", "assigned", "indented", "continued", "cell-time",
        "cell-capture", "cell-bash", "cell-writefile"])
def test_ipython_syntax_becomes_plain_python(source, expected):
    assert transform(source) == expected
    compile(transform(source), "<cell>", "exec")


@pytest.mark.parametrize("source", [
    'text = ("%d items"\n        % 3)',
    'doc = """\n%not a magic\nwhat?\n!nor a shell\n"""',
    "x = 10 \\\n    % 3",
    "ok = 1 != 2  # really?",
    'x = "a"""\ny = 1',
    "if True:\n# a comment at column 0?\n    y = 2",
])
def test_valid_python_is_never_changed(source):
    compile(source, "<cell>", "exec")
    assert transform(source) == source


def test_transform_is_linear_on_huge_cells():
    many = "\n".join(f"%time x{i} = {i}" if i % 2 else f"!echo {i}" for i in range(20_000))
    long_line = "y = 1 + " + " " * 10_000_000 + "?"
    start = time.monotonic()
    assert transform(many).count("pass") == 20_000
    assert transform(long_line) == "pass"
    assert time.monotonic() - start < 30  # the IPython transformer took minutes on the first


def test_magic_cells_in_a_notebook(tmp_path):
    path = _notebook(tmp_path / "a.ipynb", [
        nbformat.v4.new_code_cell("%%time\ndef f(x):\n    return x + 1"),
        nbformat.v4.new_code_cell("!ls\nn = %who_ls"),
    ])
    assert _sources(path) == ["\ndef f(x):\n    return x + 1", "pass\nn = None"]


def test_a_missing_exercise_blames_its_own_cell_first():
    from grader.engine.sandbox import describe_error, missing_message

    cells = [("6", "check(linreg(X, w, b), y)"), ("12", "def linreg(X, w, b)\n    return X @ w"),
             ("14", "relu = None")]
    errors = {"errors": [{"cell": "6", "type": "NotImplementedError", "message": ""},
                         {"cell": "12", "type": "SyntaxError", "message": "expected ':'"}]}
    message = missing_message("linreg", errors, cells)
    assert message.startswith("`linreg` is not defined because its cell (cell 12) failed with "
                              "SyntaxError: expected ':'")
    other = missing_message("softmax", errors, cells)
    assert "was its cell deleted" in other
    assert "cell 6 failed with NotImplementedError (raised without a message)" in other
    assert describe_error({"type": "ValueError", "message": ""}, "relu(X)") == \
        "relu(X) raised ValueError without a message"
