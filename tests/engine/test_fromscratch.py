"""Run-time from-scratch enforcement in the sandbox: every route to a forbidden op is seen, the
student's process cannot switch the watch off, correct code in any style stays clean, and
``count_ops`` counts the student's operators."""

from __future__ import annotations

import textwrap

import pytest
import torch

from grader.course import COURSE
from grader.engine.options import Limits, Options
from grader.engine.sandbox import Sandbox, StudentError

pytestmark = pytest.mark.xdist_group("sandbox")

LIMITS = Limits(load_seconds=60, call_seconds=30, memory_bytes=3 * 2**30)
SOFTMAX = ["softmax", "log_softmax", "_softmax"]
PRODUCTS = ["matmul", "__matmul__", "mm", "dot", "einsum", "tensordot"]
TAMPERED = "tampered: "
X = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

PRELUDE = """
import sys
import torch
import torch.nn.functional as F
"""

# Each defines `f(X)`: the softmax of X's rows through a library route.
ROUTES = {
    "torch.softmax": "f = lambda X: torch.softmax(X, 1)",
    "ops overload": "def f(X):\n    return torch.ops.aten._softmax.default(X, 1, False)",
    "VariableFunctions": "def f(X):\n    return torch._C._VariableFunctions.softmax(X, 1)",
    "private helper": "def f(X):\n    return torch._softmax(X, 1, False)",
    "special": "def f(X):\n    return torch.special.softmax(X, 1)",
    "softmin of -X": "def f(X):\n    return F.softmin(-X, 1)",
    "log_softmax.exp": "def f(X):\n    return F.log_softmax(X, 1).exp()",
    "sdpa identity": """def f(X):
    n, m = X.shape
    eye = torch.eye(m, dtype=X.dtype).expand(n, m, m)
    out = F.scaled_dot_product_attention(X.new_ones(n, 1, 1), X[:, :, None], eye, scale=1.0)
    return out[:, 0]""",
    "sparse": "def f(X):\n    return torch.sparse.softmax(X.to_sparse(), 1).to_dense()",
    "torch._refs": "import torch._refs\ndef f(X):\n    return torch._refs.softmax(X, 1)",
    "torch._decomp": """import torch._decomp.decompositions as decompositions
def f(X):
    return decompositions._softmax(X, 1, False)""",
    "torchscript": """SCRIPT = torch.jit.CompilationUnit('''
def g(x):
    return torch.softmax(x, 1)
''')
def f(X):
    return SCRIPT.g(X)""",
    "module on disk": """with open("helper_softmax.py", "w") as handle:
    handle.write("import torch\\ndef g(X):\\n    return torch.softmax(X, 1)\\n")
sys.path.insert(0, ".")
import helper_softmax
def f(X):
    return helper_softmax.g(X)""",
}

# Each defines `f(X)` that switches some of the watch off, then computes a library softmax.
SWITCH_OFF = {
    "pop function mode": """from torch.overrides import _pop_mode_temporarily
def f(X):
    with _pop_mode_temporarily():
        return torch.softmax(X, 1)""",
    "DisableTorchFunction": """def f(X):
    with torch._C.DisableTorchFunction():
        return torch.softmax(X, 1)""",
    "pop both modes": """from torch.overrides import _pop_mode_temporarily as function_mode
from torch.utils._python_dispatch import _pop_mode_temporarily as dispatch_mode
def f(X):
    with function_mode(), dispatch_mode():
        return torch.softmax(X, 1)""",
    "forbid lists emptied": """def f(X):
    watch = sys.modules["_d2l_sandbox.fromscratch"]._TRUST.watch
    watch.names = watch.operators = watch.watched_names = frozenset()
    return torch.softmax(X, 1)""",
    "trusted flag": """def f(X):
    state = sys.modules["_d2l_sandbox.fromscratch"]._TRUST
    state.depth += 1
    try:
        return torch.softmax(X, 1)
    finally:
        state.depth -= 1""",
    "trusted() entered": """def f(X):
    with sys.modules["_d2l_sandbox.fromscratch"].trusted():
        return torch.softmax(X, 1)""",
    "grader code extended": """def f(X):
    fromscratch = sys.modules["_d2l_sandbox.fromscratch"]
    fromscratch._GRADER_CODE = fromscratch._GRADER_CODE | {sys._getframe().f_code}
    with fromscratch.trusted():
        return torch.softmax(X, 1)""",
    "profiler stopped": """def f(X):
    torch._C._autograd._disable_profiler_legacy()
    return torch.softmax(X, 1)""",
    "recorder replaced": """def f(X):
    mode = torch._C._get_dispatch_stack_at(torch._C._len_torch_dispatch_stack() - 1)
    type(mode).__torch_dispatch__ = lambda self, func, types, args=(), kwargs=None: func(
        *args, **(kwargs or {}))
    return torch._C._VariableFunctions.softmax(X, 1)""",
}

# Correct answers in different styles: none may be flagged.
CLEAN = {
    "book": """def f(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)""",
    "stable": """def f(X):
    e = (X - X.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)""",
    "logsumexp": "def f(X):\n    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))",
    "rows in a loop, printed": """def f(X):
    rows = []
    for row in X:
        e = torch.exp(row - row.max())
        rows.append(e / e.sum())
    out = torch.stack(rows)
    print(out)
    return out""",
    "own backward": """class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X):
        e = torch.exp(X - X.amax(1, keepdim=True))
        Y = e / e.sum(1, keepdim=True)
        ctx.save_for_backward(Y)
        return Y

    @staticmethod
    def backward(ctx, G):
        (Y,) = ctx.saved_tensors
        return Y * (G - (G * Y).sum(1, keepdim=True))

def f(X):
    with torch.enable_grad():
        leaf = X.detach().clone().requires_grad_()
        out = Softmax.apply(leaf)
        out.sum().backward()
    return out.detach()""",
}

COUNTING = """
def rows_loop(X):
    return torch.stack([row.sum() for row in X])

def rows_vectorized(X):
    return X.sum(dim=1)

def through_net(net, X):
    return net(X) + 1
"""


def _cells(sources: dict[str, str]) -> list[tuple[str, str]]:
    cells = [("0", PRELUDE)]
    for i, source in enumerate(sources.values(), start=1):
        renamed = source.replace("def f(", f"def f_{i}(").replace("f = lambda", f"f_{i} = lambda")
        cells.append((str(i), textwrap.dedent(renamed) + "\n"))
    return cells


def _sandbox(sources: dict[str, str], chapter: str = "ch03") -> Sandbox:
    return Sandbox(_cells(sources), chapter, COURSE, Options(limits=LIMITS))


def _violations(box: Sandbox, name: str, forbid: list[str], *args) -> list[str]:
    request = {"op": "call", "name": name, "args": list(args or [X]), "forbid": forbid}
    try:
        return box.run(request, name).violations
    except StudentError as exc:
        return exc.violations


@pytest.fixture(scope="module")
def routes():
    with _sandbox({**ROUTES, **CLEAN}) as box:
        yield box


@pytest.mark.parametrize("route", list(ROUTES))
def test_every_route_to_a_forbidden_op_is_seen(routes, route):
    index = list(ROUTES).index(route) + 1
    violations = _violations(routes, f"f_{index}", SOFTMAX)
    assert violations and not any(v.startswith(TAMPERED) for v in violations), violations


@pytest.mark.parametrize("style", list(CLEAN))
def test_correct_answers_in_any_style_are_clean(routes, style):
    index = len(ROUTES) + list(CLEAN).index(style) + 1
    request = {"op": "call", "name": f"f_{index}", "args": [X], "forbid": SOFTMAX}
    answer = routes.run(request, style)
    assert answer.violations == []
    torch.testing.assert_close(answer.data["result"], torch.softmax(X, 1))


def test_the_message_names_the_library_function(routes):
    assert _violations(routes, "f_1", SOFTMAX) == ["torch.softmax"]
    softmin = _violations(routes, f"f_{list(ROUTES).index('softmin of -X') + 1}", SOFTMAX)
    assert softmin == ["torch.nn.functional.softmin (operator aten::_softmax)"]
    refs = _violations(routes, f"f_{list(ROUTES).index('torch._refs') + 1}", SOFTMAX)
    assert refs == ["torch._refs.softmax"]


def test_switching_the_watch_off_is_caught_and_the_next_call_is_watched_again():
    with _sandbox({**SWITCH_OFF, "clean": CLEAN["book"]}) as box:
        for index, case in enumerate(SWITCH_OFF, start=1):
            violations = _violations(box, f"f_{index}", SOFTMAX)
            assert violations, case
        assert _violations(box, f"f_{len(SWITCH_OFF) + 1}", SOFTMAX) == []
        assert _violations(box, "f_1", SOFTMAX) == ["operator aten::_softmax"]
        tampered = _violations(box, f"f_{list(SWITCH_OFF).index('trusted flag') + 1}", SOFTMAX)
        assert any(v.startswith(TAMPERED) for v in tampered)


def test_state_set_up_at_load_time_does_not_switch_the_watch_off():
    load_time = PRELUDE + """
import torch.overrides
import torch.utils._python_dispatch as python_dispatch
torch.overrides._push_mode = lambda mode: None
torch._C._push_on_torch_function_stack = lambda mode: None
torch._C._push_on_torch_dispatch_stack = lambda mode: None
python_dispatch._push_mode = lambda mode: None
fromscratch = sys.modules["_d2l_sandbox.fromscratch"]
fromscratch._TRUST.depth = 10
fromscratch.operators = lambda forbid: frozenset()

def f(X):
    return torch._C._VariableFunctions.softmax(X, 1)
"""
    with Sandbox([("1", load_time)], "ch03", COURSE, Options(limits=LIMITS)) as box:
        violations = _violations(box, "f", SOFTMAX)
    assert "torch.softmax" in violations
    assert TAMPERED + "the grader's _d2l_sandbox.fromscratch.operators was changed" in violations


def test_forbidden_products_optimizers_and_samplers_through_other_routes():
    sources = {
        "linear": "def f(A, B):\n    return F.linear(A, B.T)",
        "linalg": "def f(A, B):\n    return torch.linalg.multi_dot([A, B])",
        "vecdot": "def f(A, B):\n    return torch.linalg.vecdot(A[:, :, None], B[None], dim=1)",
        "sum": "def f(A, B):\n    return (A[:, :, None] * B[None]).sum(dim=1)",
        "functional sgd": """import torch.optim._functional as optim_functional
def f(p, g):
    optim_functional.sgd([p], [g], [None], weight_decay=0.0, momentum=0.0, lr=0.1,
                         dampening=0.0, nesterov=False, maximize=False)
    return p""",
        "categorical": """def f(p, n):
    return torch.distributions.Categorical(probs=p).sample((n,))""",
    }
    A, B = torch.randn(3, 4), torch.randn(4, 2)
    with _sandbox(sources, "ch02") as box:
        for index in range(1, 4):
            assert _violations(box, f"f_{index}", PRODUCTS, A, B), index
        assert _violations(box, "f_4", PRODUCTS, A, B) == []
        assert _violations(box, "f_5", ["torch.optim.Optimizer"], torch.ones(3),
                           torch.ones(3)) == ["torch.optim.sgd.sgd"]
        sampled = _violations(box, "f_6", ["multinomial", "torch.distributions.Categorical"],
                              torch.full((4,), 0.25), 5)
        assert "torch.distributions.Categorical" in sampled


def test_op_counts_grow_with_a_python_loop_and_not_when_vectorized():
    with Sandbox([("1", PRELUDE + COUNTING)], "ch03", COURSE, Options(limits=LIMITS)) as box:

        def total(name: str, *args) -> dict:
            request = {"op": "call", "name": name, "args": list(args), "count_ops": True}
            answer = box.run(request, name)
            assert answer.violations == []
            return answer.data["ops"]

        small, large = torch.randn(4, 3), torch.randn(40, 3)
        looped = total("rows_loop", small), total("rows_loop", large)
        vectorized = total("rows_vectorized", small), total("rows_vectorized", large)
        assert looped[1]["total"] >= looped[0]["total"] + 36
        assert looped[1]["by_op"]["aten::sum"] == 40
        assert vectorized[0]["total"] == vectorized[1]["total"] > 0
        assert set(vectorized[0]["by_op"]) >= {"aten::sum"}
        net = {"__build__": "module", "layers": [["linear", 3, 2], ["relu"]]}
        through = total("through_net", net, small)
        assert "aten::addmm" not in through["by_op"]  # the grader's network is not counted
        assert through["by_op"].get("aten::add") == 1


ELEMENTARY = {"exp", "log", "sum", "mean", "var", "div", "mul", "sub", "add", "neg", "pow", "sqrt",
              "max", "amax", "min", "maximum", "clamp", "clamp_min", "where", "logsumexp",
              "cumsum", "searchsorted", "gather", "index_select", "bernoulli", "rand", "randn",
              "uniform_", "normal_", "zeros", "ones", "stack", "cat", "reshape", "transpose"}
PRODUCT_NAMES = {"matmul", "__matmul__", "mm", "bmm", "einsum", "dot", "tensordot"}


def test_operator_families_leave_the_ops_of_a_from_scratch_answer_alone():
    from grader.course import chapters, exercises_of
    from grader.engine.child.operators import operators

    for chapter in chapters():
        for name, spec in exercises_of(chapter).items():
            found = operators(spec.forbid)
            assert not found & ELEMENTARY, (chapter, name, found & ELEMENTARY)
            if not PRODUCT_NAMES & set(spec.forbid):
                assert not found & {"mm", "addmm", "matmul", "bmm"}, (chapter, name)
