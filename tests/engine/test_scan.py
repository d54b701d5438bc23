"""The static scan: what a from-scratch answer never needs is reported, in the exercise, the
notebook code it uses and the notebook's load-time code; correct answers and the reference
notebooks are never flagged."""

from __future__ import annotations

import pytest

from grader.course import COURSE, exercises_of
from grader.engine.scan import scan
from grader.engine.submission import read_submission
from tests.conftest import source_notebook

PRELUDE = "import torch\nfrom torch import nn\nfrom torch.nn import functional as F\n"
SOFTMAX = ("softmax", "log_softmax", "_softmax")
EXERCISES = ("softmax", "cross_entropy")


def _scan(code: str, forbidden: tuple[str, ...] = SOFTMAX, name: str = "softmax") -> list[str]:
    return scan([("1", PRELUDE), ("2", code)], name, forbidden, exercises=EXERCISES)


@pytest.mark.parametrize(("code", "expected"), [
    ("softmax = lambda X: torch.softmax(X, 1)\n", "`torch.softmax` (cell 2, line 1)"),
    ("from torch.nn.functional import softmax\n", "the exercise is a library function"),
    ("def softmax(X):\n    return torch.ops.aten._softmax.default(X, 1, False)\n",
     "`torch.ops` (cell 2, line 2: calls library operators directly)"),
    ("def softmax(X):\n    return torch._C._VariableFunctions.softmax(X, 1)\n",
     "`torch._C` (cell 2, line 2: uses torch's C internals)"),
    ("import torch._refs as refs\ndef softmax(X):\n    return refs.amax(X, 1)\n",
     "`torch._refs` (cell 2, line 3: uses private torch internals)"),
    ("def softmax(X):\n    return torch.optim._functional\n", "`torch.optim._functional`"),
    ("def softmax(X):\n    return eval('X.exp()')\n", "`eval` (cell 2, line 2: runs code"),
    ("def softmax(X):\n    exec('y = 1')\n    return X\n", "`exec`"),
    ("def softmax(X):\n    return compile('X', 'f', 'eval')\n", "`compile`"),
    ("def softmax(X):\n    return __import__('torch').nn\n", "`__import__`"),
    ("import importlib\ndef softmax(X):\n    return importlib.import_module('torch')\n",
     "`importlib`"),
    ("import ctypes\ndef softmax(X):\n    return ctypes.c_int(1)\n", "`ctypes`"),
    ("import sys\ndef softmax(X):\n    return sys.modules['torch']\n", "`sys.modules`"),
    ("def softmax(X):\n    return torch.jit.script(lambda x: x)(X)\n",
     "`torch.jit` (cell 2, line 2: compiles TorchScript)"),
    ("import scipy.special\ndef softmax(X):\n    return scipy.special.softmax(X.numpy(), 1)\n",
     "`scipy` (cell 2, line 3: uses scipy"),
    ("def softmax(X):\n    return getattr(torch, '_' + 'C')\n", "`getattr(torch, …)`"),
    ("def softmax(X):\n    return softmax.__code__\n", "`__code__`"),
    ("def softmax(X):\n    return '_d2l_sandbox'\n", "`_d2l_sandbox`"),
])
def test_constructs_a_from_scratch_answer_never_needs_are_reported(code, expected):
    hits = _scan(code)
    assert any(expected in hit for hit in hits), hits


def test_helpers_and_globals_the_exercise_uses_are_read():
    code = ("SM = torch.special.softmax\n"
            "def _helper(X):\n    return SM(X, 1)\n"
            "class Wrapper:\n    def go(self, X):\n        return _helper(X)\n"
            "def softmax(X):\n    return Wrapper().go(X)\n")
    assert _scan(code) == ["`torch.special.softmax` (cell 2, line 1)"]


def test_other_exercises_and_shadowed_names_are_not_followed():
    code = ("X = torch.softmax(torch.ones(2, 2), 1)\n"  # a global X, shadowed below
            "def cross_entropy(y_hat, y):\n    return F.cross_entropy(y_hat, y)\n"
            "def softmax(X):\n    e = torch.exp(X)\n    cross_entropy\n"
            "    return e / e.sum(1, keepdim=True)\n")
    assert _scan(code) == []


def test_numpy_counts_only_where_the_exercise_forbids_it():
    code = "import numpy as np\ndef f(X):\n    return torch.from_numpy(np.exp(X.numpy()))\n"
    assert _scan(code, ("softmax",), "f") == []
    assert any("`numpy` (cell 2, line 3" in hit for hit in _scan(code, ("numpy",), "f"))


def test_a_module_the_notebook_writes_and_imports_is_reported():
    code = ("with open('helper.py', 'w') as handle:\n    handle.write('x = 1')\n"
            "import helper\ndef softmax(X):\n    return helper.x\n")
    assert any("imports a module that is not installed" in hit for hit in _scan(code))
    harmless = ("with open('data.csv', 'w') as handle:\n    handle.write('1')\n"
                "from d2l import torch as d2l\n"
                "def softmax(X):\n    return X.exp() / X.exp().sum(1, keepdim=True)\n")
    assert _scan(harmless) == []


def test_load_time_code_that_could_switch_the_watch_off_counts():
    code = ("import sys\n"
            "def _setup():\n    sys.modules['_d2l_sandbox.fromscratch']._TRUST.depth = 3\n"
            "_setup()\n"
            "def softmax(X):\n    return X.exp() / X.exp().sum(1, keepdim=True)\n")
    hits = _scan(code)
    assert any("`_d2l_sandbox` (cell 2, line 3" in hit for hit in hits), hits
    patched = ("import builtins, sys\nsys.modules['grader'] = None\nbuiltins.input = print\n"
               "total = eval('1 + 1')\n")
    assert _scan(patched + "def softmax(X):\n    return X\n") == []  # breaks nothing watched
    demo = ("import numpy as np\nimport torch.jit\nprint(torch.softmax(torch.ones(2), 0))\n"
            "def softmax(X):\n    return X.exp() / X.exp().sum(1, keepdim=True)\n")
    assert _scan(demo) == []  # library use outside the exercise is fine


def test_nothing_is_reported_without_forbidden_names():
    assert _scan("def softmax(X):\n    return torch.softmax(X, 1)\n", ()) == []


@pytest.mark.parametrize("chapter", COURSE.chapters())
def test_reference_notebooks_are_clean(chapter):
    cells = read_submission(source_notebook(chapter), COURSE).cells
    exercises = exercises_of(chapter)
    for name, spec in exercises.items():
        assert scan(cells, name, spec.scan_names(), exercises=tuple(exercises)) == [], name
