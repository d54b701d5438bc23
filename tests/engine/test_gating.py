"""Chapter gating is decided by the sandbox as it seals: no import style, saved reference,
reload or environment variable reaches a locked toolbox function; later chapters and students
outside grading still have every toolbox function."""

from __future__ import annotations

import textwrap

import pytest
import torch

from grader.course import COURSE, grade
from grader.engine.options import Limits, Options
from grader.engine.sandbox import Sandbox, StudentError
from tests.conftest import scores, source_notebook, with_extra_cell

pytestmark = pytest.mark.xdist_group("sandbox")

LIMITS = Limits(load_seconds=60, call_seconds=30)
Y_HAT, Y = torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1])

LOAD_TIME = """
import importlib, os, sys
import torch
import course
from course.train import accuracy as imported_accuracy
saved = course.accuracy
original = course.accuracy.__wrapped__
from_closure = [c.cell_contents for c in course.accuracy.__closure__
                if callable(c.cell_contents)][0]
os.environ["D2L_COURSE_GRADING"] = "ch99"   # "nothing is graded"
"""

BYPASSES = {
    "env var": "def f(y_hat, y):\n    return course.accuracy(y_hat, y)",
    "import style": "def f(y_hat, y):\n    return imported_accuracy(y_hat, y)",
    "saved reference": "def f(y_hat, y):\n    return saved(y_hat, y)",
    "__wrapped__": "def f(y_hat, y):\n    return original(y_hat, y)",
    "closure": "def f(y_hat, y):\n    return from_closure(y_hat, y)",
    "reload": """def f(y_hat, y):
    importlib.reload(sys.modules["course.gating"])
    train = importlib.reload(sys.modules["course.train"])
    return train.accuracy(y_hat, y)""",
    "fresh import": """def f(y_hat, y):
    for name in [n for n in sys.modules if n == "course" or n.startswith("course.")]:
        del sys.modules[name]
    import course as fresh
    return fresh.accuracy(y_hat, y)""",
    "evaluate_accuracy": """def f(y_hat, y):
    return course.evaluate_accuracy(lambda X: X, [(y_hat, y)])""",
    "train_epoch_ch3": """def f(y_hat, y):
    net = torch.nn.Linear(2, 2)
    loss = torch.nn.CrossEntropyLoss(reduction="none")
    return course.train_epoch_ch3(net, [(y_hat, y)], loss, lambda n: None)""",
    "synthetic_regression": """def f(y_hat, y):
    return course.synthetic_regression([1.0], 0.0, 3)""",
}


def _sandbox(chapter: str) -> Sandbox:
    cells = [("0", LOAD_TIME)] + [
        (str(i), textwrap.dedent(code).replace("def f(", f"def f_{i}(") + "\n")
        for i, code in enumerate(BYPASSES.values(), start=1)]
    return Sandbox(cells, chapter, COURSE, Options(limits=LIMITS))


def _call(box: Sandbox, index: int):
    request = {"op": "call", "name": f"f_{index}", "args": [Y_HAT, Y]}
    return box.run(request, f"f_{index}(...)").data["result"]


def test_no_bypass_reaches_a_locked_toolbox_function():
    with _sandbox("ch03") as box:
        for index, bypass in enumerate(BYPASSES, start=1):
            with pytest.raises(StudentError, match="ToolboxLocked") as raised:
                _call(box, index)
            if bypass in ("env var", "__wrapped__"):
                assert "course.accuracy is an exercise of ch03" in str(raised.value)


def test_later_chapters_keep_the_toolbox():
    with _sandbox("ch04") as box:
        assert _call(box, 1) == 1.0
        assert _call(box, 2) == 1.0
        assert _call(box, list(BYPASSES).index("evaluate_accuracy") + 1) == 0.5


def test_a_wrapper_around_the_toolbox_earns_nothing(tmp_path):
    code = ("import os\nimport course\nos.environ['D2L_COURSE_GRADING'] = 'ch99'\n"
            "def accuracy(y_hat, y):\n    return course.accuracy(y_hat, y)\n")
    path = with_extra_cell(source_notebook("ch03"), code, tmp_path / "wrapper.ipynb")
    report = grade(path, "ch03", exercises=("accuracy",), seed=1)
    assert scores(report)["accuracy"][0] == 0
    messages = " ".join(t["message"] for e in report["exercises"] for t in e["tests"])
    assert "ToolboxLocked" in messages
