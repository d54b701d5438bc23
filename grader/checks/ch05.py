"""Hidden checks for ch05, Deep learning computation.

Most exercises are ``nn.Module`` classes: the grader loads the reference's weights into the
student's module (a strict ``load_state_dict``, which also enforces the parameter names) and
compares outputs and gradients. Stateful protocols (registration, ``apply``, files, devices) run
as scenarios inside the sandbox; many scenario functions only use ``torch`` and the namespace
they are given, so the grader runs the same function on the reference (``vars(ref)``) to get the
expected answer.
"""

import math

import pytest
import torch

import solutions.ch05 as ref
from grader.engine.compare import (
    expect,
    expect_number,
    expect_tensor,
    fail,
    number,
    shape_of,
    tensor,
)
from grader.engine.plugin import Exercise, exercise

EXERCISES = {
    "MySequential": Exercise(points=4, forbid=("torch.nn.Sequential", "torch.nn.ModuleList")),
    "FixedHiddenMLP": Exercise(points=3),
    "ParallelBlock": Exercise(points=3),
    "NestMLP": Exercise(points=2),
    "count_parameters": Exercise(points=2),
    "param_shapes": Exercise(points=2),
    "my_init": Exercise(points=3),
    "TiedMLP": Exercise(points=4),
    "CenteredLayer": Exercise(points=2),
    "MyLinear": Exercise(points=4, forbid=("linear", "torch.nn.Linear"),
                         scan=("linear", "Linear")),
    "save_checkpoint": Exercise(points=3),
    "load_checkpoint": Exercise(points=3),
    "try_gpu": Exercise(points=2),
    "move_to": Exercise(points=3),
}

REF = vars(ref)


# --- helpers -------------------------------------------------------------------------------------


def _fill(module: torch.nn.Module) -> torch.nn.Module:
    """Deterministic weights, as in the notebook's worked examples: each parameter becomes
    ``linspace(-1, 1)`` over its elements."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape))
    return module


def _seeded(seed: int, build):
    """Build a reference module with torch's RNG seeded, without touching the grader's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _state(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _run_module(module: torch.nn.Module, X: torch.Tensor, G: torch.Tensor):
    """The reference's output, input gradient and parameter gradients for one step."""
    Xr = X.clone().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    out = module(Xr)
    out.backward(G)
    return out.detach(), Xr.grad, {n: p.grad for n, p in module.named_parameters()}


def _step(answer: dict, what: str) -> dict:
    steps = answer.get("steps") or []
    if not steps:
        fail(f"{what} produced no output")
    return steps[0]


def _expect_grads(step: dict, X_grad, param_grads: dict, *, what: str, inputs: str,
                  atol=None, rtol=None, hint: str = "") -> None:
    got = step.get("param_grads") or {}
    for name, expected in param_grads.items():
        grad = got.get(name)
        if grad is None:
            fail(f"{name} got no gradient from {what}{' for ' + inputs if inputs else ''}: "
                 "the output does not depend on it through autograd (avoid .data, .detach() and "
                 "torch.no_grad() in forward)")
        expect_tensor(grad, expected, what=f"the gradient of {name}", inputs=inputs, atol=atol,
                      rtol=rtol, hint=hint)
    if X_grad is not None:
        grads = step.get("input_grads") or [None]
        if grads[0] is None:
            fail(f"{what} is not differentiable with respect to its input X")
        expect_tensor(grads[0], X_grad, what="the gradient with respect to X", inputs=inputs,
                      atol=atol, rtol=rtol, hint=hint)


def _same(got, expected, where: str) -> str | None:
    """Describe the first difference between two nested containers of tensors and plain values."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{where} came back as {type(got).__name__}; expected a tensor"
        if got.dtype != expected.dtype or got.shape != expected.shape or not torch.equal(
                got, expected):
            return f"{where} came back as a different tensor"
        return None
    if isinstance(expected, (list, tuple)):
        if type(got) is not type(expected) or len(got) != len(expected):
            return (f"{where} came back as {type(got).__name__} of length "
                    f"{len(got) if isinstance(got, (list, tuple)) else '-'}; expected "
                    f"{type(expected).__name__} of length {len(expected)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _same(g, e, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(got) != list(expected):
            return (f"{where} came back with keys {list(got) if isinstance(got, dict) else got!r}; "
                    f"expected {list(expected)}")
        for k in expected:
            problem = _same(got[k], expected[k], f"{where}[{k!r}]")
            if problem:
                return problem
        return None
    if type(got) is not type(expected) or got != expected:
        return f"{where} came back as {got!r}; expected {expected!r}"
    return None


# --- MySequential --------------------------------------------------------------------------------

# Layer specs: ("linear", in, out) or an activation name; state: one dict of tensors per layer.


def _build_layers(specs, state, dtype):
    layers = []
    for spec in specs:
        if spec[0] == "linear":
            layers.append(torch.nn.Linear(spec[1], spec[2], dtype=dtype))
        elif spec[0] == "relu":
            layers.append(torch.nn.ReLU())
        else:
            layers.append(torch.nn.Tanh())
    with torch.no_grad():
        for layer, values in zip(layers, state):
            for name, value in values.items():
                getattr(layer, name).copy_(value)
    return layers


def _seq_scenario(ns, specs, state, X, G, nested):
    """Build the layers in the sandbox, chain them with the student's MySequential, run a
    forward and a backward pass, and report what the student's container registered."""
    layers = []
    for spec in specs:
        if spec[0] == "linear":
            layers.append(torch.nn.Linear(spec[1], spec[2], dtype=X.dtype))
        elif spec[0] == "relu":
            layers.append(torch.nn.ReLU())
        else:
            layers.append(torch.nn.Tanh())
    with torch.no_grad():
        for layer, values in zip(layers, state):
            for name, value in values.items():
                getattr(layer, name).copy_(value)
    seq = ns["MySequential"]
    net = seq(seq(*layers[:2]), *layers[2:]) if nested else seq(*layers)
    owned = [p for layer in layers for p in layer.parameters()]
    params = list(net.parameters())
    Xl = X.clone().requires_grad_(True)
    out = net(Xl)
    differentiable = isinstance(out, torch.Tensor) and out.requires_grad
    if differentiable and out.shape == G.shape:
        out.backward(G)
    return {"keys": list(net.state_dict().keys()),
            "names": [n for n, _ in net.named_parameters()],
            "same": len(params) == len(owned) and all(a is b for a, b in zip(params, owned)),
            "output": out, "differentiable": differentiable, "input_grad": Xl.grad,
            "param_grads": [p.grad for p in owned]}


def _seq_case(gen, dtype=torch.float64):
    specs = [("linear", 6, 8), ("tanh",), ("linear", 8, 8), ("relu",), ("linear", 8, 3)]
    state = []
    for spec in specs:
        if spec[0] == "linear":
            state.append({"weight": torch.randn(spec[2], spec[1], generator=gen, dtype=dtype),
                          "bias": torch.randn(spec[2], generator=gen, dtype=dtype)})
        else:
            state.append({})
    X = torch.randn(5, 6, generator=gen, dtype=dtype)
    G = torch.randn(5, 3, generator=gen, dtype=dtype)
    return specs, state, X, G


def _seq_expected(specs, state, X, G, nested):
    return _seq_scenario(REF, specs, state, X, G, nested)


def _seq_answer(student, specs, state, X, G, nested=False):
    what = "MySequential(MySequential(...), ...)" if nested else "MySequential(*layers)"
    return student.scenario(_seq_scenario, specs, state, X, G, nested, what=what)


@exercise("MySequential")
def test_my_sequential_example(student):
    specs = [("linear", 4, 3), ("relu",), ("linear", 3, 2)]
    layers = [_fill(m) for m in _build_layers(specs, [{}, {}, {}], torch.float32)]
    state = [dict(m.state_dict()) for m in layers]
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]])
    G = torch.ones(2, 2)
    got = _seq_answer(student, specs, state, X, G)
    expected = _seq_expected(specs, state, X, G, False)
    expect_tensor(got["output"], expected["output"], what="net(X)", inputs="the worked example",
                  hint="apply the modules one after the other, in the order they were given")


@exercise("MySequential", weight=2)
def test_my_sequential_registers_modules(student, gen):
    specs, state, X, G = _seq_case(gen)
    got = _seq_answer(student, specs, state, X, G)
    expected = _seq_expected(specs, state, X, G, False)
    if not got["names"]:
        fail("MySequential(Linear, Tanh, Linear, ReLU, Linear) has no parameters: the modules "
             "are not registered (a plain list or tuple attribute is invisible to "
             "parameters(); use self._modules[str(idx)] = module)")
    expect(got["keys"] == expected["keys"],
           f"net.state_dict() has keys {got['keys']}; expected {expected['keys']} (register the "
           "k-th module under the name str(k))")
    expect(got["names"] == expected["names"],
           f"net.named_parameters() gives {got['names']}; expected {expected['names']}")
    expect(got["same"], "net.parameters() should yield the layers' own parameter objects, in "
           "order (register the modules themselves, not copies)")


@exercise("MySequential", weight=2)
def test_my_sequential_values(student, gen):
    specs, state, X, G = _seq_case(gen)
    got = _seq_answer(student, specs, state, X, G)
    expected = _seq_expected(specs, state, X, G, False)
    expect_tensor(got["output"], expected["output"], what="net(X)",
                  inputs=f"float64 X of shape {shape_of(X)} through Linear, Tanh, Linear, ReLU, "
                  "Linear", hint="apply every module, in the order given, and return the last "
                  "output")


@exercise("MySequential", weight=2)
def test_my_sequential_gradients(student, gen):
    specs, state, X, G = _seq_case(gen)
    got = _seq_answer(student, specs, state, X, G)
    expected = _seq_expected(specs, state, X, G, False)
    if not got["differentiable"]:
        fail("net(X) does not depend on X through autograd")
    inputs = f"X of shape {shape_of(X)}"
    expect_tensor(got["input_grad"], expected["input_grad"], what="the gradient of X",
                  inputs=inputs)
    for i, (g, e) in enumerate(zip(got["param_grads"], expected["param_grads"])):
        if g is None:
            fail(f"parameter {i} of the layers got no gradient from net(X)")
        expect_tensor(g, e, what=f"the gradient of parameter {i} of the layers", inputs=inputs)


@exercise("MySequential")
def test_my_sequential_nested(student, gen):
    specs, state, X, G = _seq_case(gen)
    got = _seq_answer(student, specs, state, X, G, nested=True)
    expected = _seq_expected(specs, state, X, G, True)
    expect(got["keys"] == expected["keys"],
           f"MySequential(MySequential(Linear, Tanh), Linear, ReLU, Linear).state_dict() has keys "
           f"{got['keys']}; expected {expected['keys']}")
    expect_tensor(got["output"], expected["output"], what="the nested net's output",
                  inputs=f"X of shape {shape_of(X)}")


# --- FixedHiddenMLP ------------------------------------------------------------------------------


def _fixed_scenario(ns, state, X, G):
    """Run the student's FixedHiddenMLP in float64 with the given weights; report output and
    gradients, and whether rand_weight stayed a constant."""
    net = ns["FixedHiddenMLP"]()
    net.load_state_dict(state)
    net.double()
    Xl = X.clone().requires_grad_(True)
    out = net(Xl)
    differentiable = isinstance(out, torch.Tensor) and out.requires_grad
    if differentiable:
        out.backward(G)
    return {"output": out, "differentiable": differentiable, "input_grad": Xl.grad,
            "weight_grad": net.linear.weight.grad, "bias_grad": net.linear.bias.grad,
            "rand_weight": net.rand_weight, "rand_weight_grad": net.rand_weight.grad,
            "names": [n for n, _ in net.named_parameters()]}


def _fixed_state(seed: int) -> dict:
    return _state(_seeded(seed, ref.FixedHiddenMLP))


@exercise("FixedHiddenMLP")
def test_fixed_hidden_mlp_example(student):
    # The notebook's example: torch.manual_seed(0); net = FixedHiddenMLP(); X = torch.rand(2, 20)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = ref.FixedHiddenMLP()
        X = torch.rand(2, 20)
    answer = student.module("FixedHiddenMLP", state_dict=_state(net), steps=[{"args": [X]}])
    expect_tensor(_step(answer, "FixedHiddenMLP")["output"], net(X).detach(), what="net(X)",
                  inputs="the worked example", atol=1e-5, rtol=1e-5)


@exercise("FixedHiddenMLP")
def test_fixed_hidden_mlp_values(student, gen, seed):
    state = _fixed_state(seed)
    X = torch.rand(4, 20, generator=gen, dtype=torch.float64) * 4 - 2
    G = torch.tensor(0.5, dtype=torch.float64)
    got = student.scenario(_fixed_scenario, state, X, G, what="FixedHiddenMLP()(X)")
    expected = _fixed_scenario(REF, state, X, G)
    expect_tensor(got["output"], expected["output"], what="net(X)",
                  inputs=f"float64 X of shape {shape_of(X)}",
                  hint="linear, relu(X @ rand_weight + 1), the same linear again, halve while "
                  "the absolute sum exceeds 1, then sum")


@exercise("FixedHiddenMLP", weight=2)
def test_fixed_hidden_mlp_loop(student, gen, seed):
    # Two weight settings that exercise the loop's edges: tiny weights (the absolute sum is
    # already at most 1: no halving) and a large negative bias (the plain sum is negative while
    # the absolute sum is in the hundreds: many halvings).
    base = _fixed_state(seed)
    tiny = dict(base, **{"linear.weight": base["linear.weight"] * 1e-3,
                         "linear.bias": base["linear.bias"] * 1e-3})
    negative = dict(base, **{"linear.bias": torch.full_like(base["linear.bias"], -5.0)})
    X = torch.rand(3, 20, generator=gen, dtype=torch.float64)
    G = torch.tensor(1.0, dtype=torch.float64)
    for label, state in (("weights scaled by 1e-3", tiny), ("a bias of -5", negative)):
        got = student.scenario(_fixed_scenario, state, X, G, what="FixedHiddenMLP()(X)")
        expected = _fixed_scenario(REF, state, X, G)
        expect_tensor(got["output"], expected["output"], what="net(X)",
                      inputs=f"X of shape {shape_of(X)} and {label}",
                      hint="keep halving while X.abs().sum() > 1 (a while loop on the absolute "
                      "values, not on the plain sum)")


@exercise("FixedHiddenMLP", weight=2)
def test_fixed_hidden_mlp_gradients(student, gen, seed):
    state = _fixed_state(seed)
    X = torch.rand(4, 20, generator=gen, dtype=torch.float64) * 2
    G = torch.tensor(1.5, dtype=torch.float64)
    got = student.scenario(_fixed_scenario, state, X, G, what="FixedHiddenMLP()(X).backward()")
    expected = _fixed_scenario(REF, state, X, G)
    if not got["differentiable"]:
        fail("net(X) does not depend on the input through autograd")
    expect(got["names"] == expected["names"],
           f"the parameters are {got['names']}; expected {expected['names']} (rand_weight is a "
           "constant, not a parameter)")
    expect(got["rand_weight_grad"] is None, "rand_weight received a gradient; it is a constant")
    expect_tensor(got["rand_weight"], expected["rand_weight"], what="rand_weight after forward",
                  hint="never modify rand_weight")
    inputs = f"X of shape {shape_of(X)}"
    hint = "every halving scales the gradient too: halve X itself, not X.data"
    for key, name in (("weight_grad", "linear.weight"), ("bias_grad", "linear.bias")):
        if got[key] is None:
            fail(f"{name} got no gradient")
        expect_tensor(got[key], expected[key], what=f"the gradient of {name}", inputs=inputs,
                      hint=hint)
    expect_tensor(got["input_grad"], expected["input_grad"], what="the gradient of X",
                  inputs=inputs, hint=hint)


# --- ParallelBlock -------------------------------------------------------------------------------


class _Trusted(torch.nn.Module):
    """The grader side of a ``{"__build__": "module"}`` net: same parameter names."""

    def __init__(self, layers):
        super().__init__()
        mods = []
        for kind, *params in layers:
            mods.append(torch.nn.Linear(*params) if kind == "linear" else
                        torch.nn.ReLU() if kind == "relu" else torch.nn.Sigmoid())
        self.net = torch.nn.Sequential(*mods)

    def forward(self, X):
        return self.net(X)


BRANCH1 = [["linear", 5, 3], ["relu"]]
BRANCH2 = [["linear", 5, 4], ["sigmoid"], ["linear", 4, 2]]


def _parallel(state=None, seed=None):
    net = (_seeded(seed, lambda: ref.ParallelBlock(_Trusted(BRANCH1), _Trusted(BRANCH2)))
           if seed is not None else _fill(ref.ParallelBlock(_Trusted(BRANCH1), _Trusted(BRANCH2))))
    return net


def _parallel_answer(student, net, X, G=None):
    step = {"args": [X]}
    if G is not None:
        step.update(wrt=[0], grad_output=G)
    answer = student.module("ParallelBlock", init_args=(
        {"__build__": "module", "layers": BRANCH1}, {"__build__": "module", "layers": BRANCH2}),
        state_dict=_state(net), steps=[step], what="ParallelBlock(net1, net2)")
    return _step(answer, "ParallelBlock(net1, net2)")


@exercise("ParallelBlock")
def test_parallel_block_example(student):
    net = _parallel()
    X = torch.linspace(-1, 1, 10).reshape(2, 5)
    got = _parallel_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="ParallelBlock(net1, net2)(X)",
                  inputs="the worked example (net1 gives 3 columns, net2 gives 2)", atol=1e-6,
                  rtol=1e-5, hint="torch.cat((net1(X), net2(X)), dim=1)")


@exercise("ParallelBlock", weight=2)
def test_parallel_block_values(student, gen, seed):
    net = _parallel(seed=seed)
    X = torch.randn(6, 5, generator=gen)
    got = _parallel_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="ParallelBlock(net1, net2)(X)",
                  inputs=f"X of shape {shape_of(X)}, net1 with 3 outputs, net2 with 2",
                  atol=1e-6, rtol=1e-5, hint="apply both blocks to the same X and concatenate "
                  "along dimension 1, net1's columns first")


@exercise("ParallelBlock")
def test_parallel_block_gradients(student, gen, seed):
    net = _parallel(seed=seed)
    X = torch.randn(4, 5, generator=gen)
    G = torch.randn(4, 5, generator=gen)
    got = _parallel_answer(student, net, X, G)
    _, X_grad, grads = _run_module(net, X, G)
    _expect_grads(got, X_grad, grads, what="ParallelBlock(net1, net2)(X)",
                  inputs=f"X of shape {shape_of(X)}", atol=1e-6, rtol=1e-5)


# --- NestMLP -------------------------------------------------------------------------------------


def _nest_answer(student, net, X, G=None):
    step = {"args": [X]}
    if G is not None:
        step.update(wrt=[0], grad_output=G)
    return _step(student.module("NestMLP", state_dict=_state(net), steps=[step]), "NestMLP")


@exercise("NestMLP")
def test_nest_mlp_example(student):
    # The notebook's example: torch.manual_seed(1); net = NestMLP(); X = torch.rand(2, 20)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        net = ref.NestMLP()
        X = torch.rand(2, 20)
    got = _nest_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="NestMLP()(X)",
                  inputs="the worked example", atol=1e-6, rtol=1e-5)


@exercise("NestMLP", weight=2)
def test_nest_mlp_values(student, gen, seed):
    net = _seeded(seed, ref.NestMLP)
    X = torch.randn(5, 20, generator=gen)
    got = _nest_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="NestMLP()(X)",
                  inputs=f"X of shape {shape_of(X)}", atol=1e-6, rtol=1e-5,
                  hint="self.linear(self.net(X)): no activation after the last layer")


@exercise("NestMLP")
def test_nest_mlp_gradients(student, gen, seed):
    net = _seeded(seed, ref.NestMLP)
    X = torch.randn(3, 20, generator=gen)
    G = torch.randn(3, 16, generator=gen)
    got = _nest_answer(student, net, X, G)
    _, X_grad, grads = _run_module(net, X, G)
    _expect_grads(got, X_grad, grads, what="NestMLP()(X)", inputs=f"X of shape {shape_of(X)}",
                  atol=1e-6, rtol=1e-5)


# --- count_parameters and param_shapes -----------------------------------------------------------


def _nets_scenario(ns, name, case):
    """Build one of a few small networks in the sandbox and apply the student's ``name``."""
    nn = torch.nn
    if case == "mlp":
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    elif case == "frozen":
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU(),
                            nn.Linear(3, 1))
        net[0].weight.requires_grad_(False)
        net[2].bias.requires_grad_(False)
    elif case == "shared":
        shared = nn.Linear(8, 8)
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                            nn.Linear(8, 1))
    elif case == "batchnorm":
        net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        net[0].bias.requires_grad_(False)
    else:  # the book's nested rgnet: block2() of four block1()s, then a linear layer
        def block1():
            return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())

        block2 = nn.Sequential()
        for i in range(4):
            block2.add_module(f"block {i}", block1())
        net = nn.Sequential(block2, nn.Linear(4, 1))
    return ns[name](net)


CASES = {
    "mlp": "nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))",
    "frozen": "an MLP with two frozen parameters (requires_grad=False)",
    "shared": "the book's MLP whose middle Linear(8, 8) is used twice",
    "batchnorm": "an MLP with BatchNorm1d (buffers) and a frozen bias",
    "rgnet": "the book's nested rgnet (block2 of four block1s, then Linear(4, 1))",
}


def _count(student, case):
    got = student.scenario(_nets_scenario, "count_parameters", case,
                           what=f"count_parameters(net) for {CASES[case]}")
    value = number(got, "count_parameters(net)")
    expected = _nets_scenario(REF, "count_parameters", case)
    hints = {"frozen": "skip parameters with requires_grad=False",
             "shared": "a shared parameter counts once (net.parameters() yields it once)",
             "batchnorm": "buffers (running statistics) are not parameters"}
    expect_number(value, expected, what=f"count_parameters(net) for {CASES[case]}", atol=0,
                  rtol=0, hint=hints.get(case, "add up p.numel() over the parameters"))


@exercise("count_parameters")
def test_count_parameters_example(student):
    _count(student, "mlp")


@exercise("count_parameters")
def test_count_parameters_nested(student):
    _count(student, "rgnet")


@exercise("count_parameters")
def test_count_parameters_frozen(student):
    _count(student, "frozen")


@exercise("count_parameters")
def test_count_parameters_shared(student):
    _count(student, "shared")


@exercise("count_parameters")
def test_count_parameters_buffers(student):
    _count(student, "batchnorm")


def _shapes(student, case):
    what = f"param_shapes(net) for {CASES[case]}"
    got = student.scenario(_nets_scenario, "param_shapes", case, what=what)
    expected = _nets_scenario(REF, "param_shapes", case)
    if isinstance(got, dict) and got.get("__kind__") == "mapping":
        got = got["items"]
    if not isinstance(got, dict) or "__kind__" in got:
        fail(f"{what} returned {type(got).__name__}; expected a dict from names to shapes")
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        fail(f"{what} has keys {list(got)}; expected {list(expected)}"
             + (f" (missing {missing})" if missing else "")
             + (f" (unexpected {extra}: buffers and second names of shared parameters are not "
                "listed)" if extra else ""))
    expect(list(got) == list(expected),
           f"{what} lists the names in the order {list(got)}; expected {list(expected)}")
    for key, shape in expected.items():
        value = got[key]
        if isinstance(value, dict) and value.get("__kind__") == "sequence":
            value = tuple(value["items"])
        if not isinstance(value, (tuple, list)) or tuple(value) != shape:
            fail(f"{what}[{key!r}] is {value!r}; expected {shape} (a tuple of ints)")


@exercise("param_shapes")
def test_param_shapes_example(student):
    _shapes(student, "mlp")


@exercise("param_shapes")
def test_param_shapes_nested(student):
    _shapes(student, "rgnet")


@exercise("param_shapes")
def test_param_shapes_shared(student):
    _shapes(student, "shared")


@exercise("param_shapes")
def test_param_shapes_frozen_and_buffers(student):
    _shapes(student, "frozen")
    _shapes(student, "batchnorm")


# --- my_init -------------------------------------------------------------------------------------


def _init_scenario(ns, seed, sizes):
    """Apply the student's my_init to a net with Linear, ReLU and LayerNorm layers."""
    nn = torch.nn
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.LayerNorm(sizes[1]),
                        nn.Linear(sizes[1], sizes[2]))
    with torch.no_grad():
        net[2].weight.uniform_(0.5, 1.5)
        net[2].bias.uniform_(-0.5, 0.5)
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    params = list(net.parameters())
    net.apply(ns["my_init"])
    after_params = list(net.parameters())
    return {"before": before,
            "after": {k: v.detach().clone() for k, v in net.state_dict().items()},
            "same": len(params) == len(after_params)
            and all(a is b for a, b in zip(params, after_params)),
            "leaves": all(p.is_leaf and p.requires_grad for p in after_params)}


def _init_answer(student, seed, sizes):
    got = student.scenario(_init_scenario, seed, sizes,
                           what=f"net.apply(my_init) on Linear({sizes[0]}, {sizes[1]}), ReLU, "
                           f"LayerNorm, Linear({sizes[1]}, {sizes[2]})")
    keys = list(got["before"])
    expect(list(got["after"]) == keys, f"after net.apply(my_init) the net's state has keys "
           f"{list(got['after'])}; expected {keys}")
    for key in keys:
        if not key.endswith("weight") or key.startswith("2."):
            expect_tensor(got["after"][key], got["before"][key],
                          what=f"{key} after net.apply(my_init)", atol=0, rtol=0,
                          hint="change only the weights of nn.Linear layers; leave biases and "
                          "other layers (LayerNorm) alone")
    weights = [got["after"][k] for k in ("0.weight", "3.weight")]
    for key, w in zip(("0.weight", "3.weight"), weights):
        w = tensor(w, key)
        bad = (w != 0) & ((w.abs() < 5) | (w.abs() > 10))
        if bad.any():
            value = w[bad][0].item()
            fail(f"{key} has the entry {value:.4g} after net.apply(my_init); every entry should "
                 "be 0 or have an absolute value in [5, 10] (draw from U(-10, 10), then zero "
                 "the entries with |w| < 5)")
    expect(got["same"], "my_init replaced a parameter object; change the weight in place "
           "(nn.init.uniform_, then multiply by the mask under torch.no_grad())")
    expect(got["leaves"], "after my_init the parameters should still be leaves that require a "
           "gradient (modify them in place under torch.no_grad() or through .data)")
    return torch.cat([w.reshape(-1) for w in weights]).double()


@exercise("my_init")
def test_my_init_example(student):
    _init_answer(student, 0, (4, 8, 1))


@exercise("my_init", weight=2)
def test_my_init_statistics(student, seed):
    # 25,000 weights. Each statistic is tested at 5.5 standard deviations (a correct
    # implementation fails one with probability below 4e-8); with four statistics the false
    # failure probability of this test is below 2e-7.
    z = 5.5
    w = _init_answer(student, seed, (200, 100, 50))
    n = w.numel()
    zero = (w == 0).double().mean().item()
    expect(abs(zero - 0.5) < z * math.sqrt(0.25 / n),
           f"{zero:.3f} of the weights are zero; expected about half (|w| < 5 happens with "
           "probability 1/2 under U(-10, 10))")
    kept = w[w != 0]
    m = kept.numel()
    positive = (kept > 0).double().mean().item()
    expect(abs(positive - 0.5) < z * math.sqrt(0.25 / m),
           f"{positive:.3f} of the non-zero weights are positive; expected about half")
    mean_abs = kept.abs().mean().item()
    expect(abs(mean_abs - 7.5) < z * (5 / math.sqrt(12)) / math.sqrt(m),
           f"the non-zero weights have mean absolute value {mean_abs:.3f}; expected 7.5 "
           "(uniform on [5, 10])")
    low = (kept.abs() < 7.5).double().mean().item()
    expect(abs(low - 0.5) < z * math.sqrt(0.25 / m),
           f"{low:.3f} of the non-zero weights have |w| < 7.5; expected half (uniform on [5, 10])")


@exercise("my_init")
def test_my_init_leaves_other_layers(student, seed):
    _init_answer(student, seed + 1, (6, 5, 3))


# --- TiedMLP -------------------------------------------------------------------------------------

TIED_NAMES = ["hidden.weight", "hidden.bias", "shared.weight", "shared.bias", "output.weight",
              "output.bias"]


def _tied_answer(student, net, X, G=None):
    step = {"args": [X]}
    if G is not None:
        step.update(wrt=[0], grad_output=G)
    answer = student.module("TiedMLP", state_dict=_state(net), steps=[step])
    return answer, _step(answer, "TiedMLP")


@exercise("TiedMLP")
def test_tied_mlp_example(student):
    net = _fill(ref.TiedMLP())
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]])
    _, got = _tied_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="TiedMLP()(X)",
                  inputs="the worked example", atol=1e-6, rtol=1e-5)


@exercise("TiedMLP")
def test_tied_mlp_structure(student, gen, seed):
    net = _seeded(seed, ref.TiedMLP)
    answer, _ = _tied_answer(student, net, torch.randn(2, 4, generator=gen))
    expect(answer["param_names"] == TIED_NAMES,
           f"TiedMLP's parameters are {answer['param_names']}; expected {TIED_NAMES}: exactly "
           "three layers, the shared one registered once")
    keys = list(answer["state_dict"])
    expect(keys == TIED_NAMES, f"TiedMLP().state_dict() has keys {keys}; expected {TIED_NAMES}")


@exercise("TiedMLP")
def test_tied_mlp_values(student, gen, seed):
    net = _seeded(seed, ref.TiedMLP)
    X = torch.randn(6, 4, generator=gen)
    _, got = _tied_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="TiedMLP()(X)",
                  inputs=f"X of shape {shape_of(X)}", atol=1e-6, rtol=1e-5,
                  hint="hidden, relu, shared, relu, shared again, relu, output")


@exercise("TiedMLP", weight=2)
def test_tied_mlp_gradients(student, gen, seed):
    net = _seeded(seed, ref.TiedMLP)
    X = torch.randn(5, 4, generator=gen)
    G = torch.randn(5, 1, generator=gen)
    _, got = _tied_answer(student, net, X, G)
    _, X_grad, grads = _run_module(net, X, G)
    _expect_grads(got, X_grad, grads, what="TiedMLP()(X)", inputs=f"X of shape {shape_of(X)}",
                  atol=1e-6, rtol=1e-5, hint="the shared layer's gradient is the sum over both "
                  "of its uses: call the same self.shared twice")


# --- CenteredLayer -------------------------------------------------------------------------------


def _centered_answer(student, X, G=None):
    step = {"args": [X]}
    if G is not None:
        step.update(wrt=[0], grad_output=G)
    answer = student.module("CenteredLayer", steps=[step])
    return answer, _step(answer, "CenteredLayer")


@exercise("CenteredLayer")
def test_centered_layer_example(student):
    X = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    _, got = _centered_answer(student, X)
    expect_tensor(got["output"], ref.CenteredLayer()(X), what="CenteredLayer()(X)",
                  inputs="the worked example")


@exercise("CenteredLayer", weight=2)
def test_centered_layer_values(student, gen):
    X = torch.randn(4, 6, generator=gen, dtype=torch.float64) * 3 + 1
    answer, got = _centered_answer(student, X)
    expect(answer["param_names"] == [], f"CenteredLayer has parameters {answer['param_names']}; "
           "it should have none")
    expect_tensor(got["output"], ref.CenteredLayer()(X), what="CenteredLayer()(X)",
                  inputs=f"float64 X of shape {shape_of(X)}",
                  hint="subtract the mean of all entries (X.mean() without a dim)")


@exercise("CenteredLayer")
def test_centered_layer_gradient(student, gen):
    X = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    G = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    _, got = _centered_answer(student, X, G)
    Xr = X.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(ref.CenteredLayer()(Xr), Xr, G)
    _expect_grads(got, expected, {}, what="CenteredLayer()(X)", inputs=f"X of shape {shape_of(X)}",
                  hint="return a new tensor X - X.mean(); do not subtract in place")


def _centered_scenario(ns, X):
    original = X.clone()
    out = ns["CenteredLayer"]()(X)
    return {"output": out, "input_unchanged": bool(torch.equal(X, original))}


@exercise("CenteredLayer")
def test_centered_layer_keeps_input(student, gen):
    X = torch.randn(2, 3, 4, generator=gen, dtype=torch.float64)
    got = student.scenario(_centered_scenario, X, what="CenteredLayer()(X)")
    expect(got["input_unchanged"], "CenteredLayer()(X) changed X; return a new tensor instead "
           "of subtracting in place")
    expect_tensor(got["output"], X - X.mean(), what="CenteredLayer()(X)",
                  inputs=f"X of shape {shape_of(X)}")


# --- MyLinear ------------------------------------------------------------------------------------


def _linear_answer(student, net, X, G=None):
    step = {"args": [X]}
    if G is not None:
        step.update(wrt=[0], grad_output=G)
    units = net.weight.shape
    answer = student.module("MyLinear", init_args=tuple(units), state_dict=_state(net),
                            steps=[step], what=f"MyLinear{tuple(units)}")
    return _step(answer, "MyLinear")


def _example_linear():
    net = ref.MyLinear(5, 3)
    with torch.no_grad():
        net.weight.copy_(torch.linspace(-1, 1, 15).reshape(5, 3))
        net.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return net


@exercise("MyLinear")
def test_my_linear_example(student):
    net = _example_linear()
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, -1.0, 0.5, -3.0, -2.0]])
    got = _linear_answer(student, net, X)
    expect_tensor(got["output"], net(X).detach(), what="MyLinear(5, 3)(X)",
                  inputs="the worked example", atol=1e-6, rtol=1e-5)


@exercise("MyLinear", weight=2)
def test_my_linear_values(student, gen, seed):
    for units in ((5, 3), (8, 2)):
        net = _seeded(seed, lambda u=units: ref.MyLinear(*u))
        X = torch.randn(6, units[0], generator=gen)
        got = _linear_answer(student, net, X)
        expect_tensor(got["output"], net(X).detach(), what=f"MyLinear{units}(X)",
                      inputs=f"X of shape {shape_of(X)}", atol=1e-5, rtol=1e-5,
                      hint="relu(X @ weight + bias); weight has shape (in_units, units)")


@exercise("MyLinear", weight=2)
def test_my_linear_gradients(student, gen, seed):
    net = _seeded(seed, lambda: ref.MyLinear(6, 4))
    X = torch.randn(5, 6, generator=gen)
    G = torch.randn(5, 4, generator=gen)
    got = _linear_answer(student, net, X, G)
    _, X_grad, grads = _run_module(net, X, G)
    _expect_grads(got, X_grad, grads, what="MyLinear(6, 4)(X)",
                  inputs=f"X of shape {shape_of(X)}", atol=1e-5, rtol=1e-5,
                  hint="use self.weight and self.bias themselves in forward, not .data")


# --- save_checkpoint and load_checkpoint ---------------------------------------------------------


def _save_scenario(ns, fname, seed, batchnorm, extra, X):
    """Train-mode pass (moves batch norm's running statistics), student's save, then the
    grader reads the file back and restores a fresh net from it."""
    nn = torch.nn

    def build(s):
        torch.manual_seed(s)
        if batchnorm:
            return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    net = build(seed)
    net.train()
    net(X)
    if extra == "default":
        ns["save_checkpoint"](net, fname)
        extra = None
    else:
        ns["save_checkpoint"](net, fname, extra)
    original = {k: v.detach().clone() for k, v in net.state_dict().items()}
    net.eval()
    result = {"original": original, "expected_output": net(X).detach()}
    try:
        checkpoint = torch.load(fname, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - reported to the student
        result["load_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return result
    if not isinstance(checkpoint, dict):
        result["load_error"] = f"the file holds a {type(checkpoint).__name__}, not a dict"
        return result
    result["keys"] = list(checkpoint)
    if "model" in checkpoint:
        fresh = build(seed + 1)
        try:
            fresh.load_state_dict(checkpoint["model"])
            fresh.eval()
            result["restored_output"] = fresh(X).detach()
        except Exception as exc:  # noqa: BLE001 - reported to the student
            result["restore_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        result["model"] = {k: v for k, v in checkpoint["model"].items()}
    if "extra" in checkpoint:
        result["extra"] = checkpoint["extra"]
    return result


def _save_answer(student, fname, seed, batchnorm, extra, X):
    what = "save_checkpoint(net, path" + ("" if extra == "default" else ", extra") + ")"
    got = student.scenario(_save_scenario, fname, seed, batchnorm, extra, X, what=what)
    if "load_error" in got:
        fail(f"after {what}, torch.load(path, weights_only=True) fails: {got['load_error']}. "
             "Save a dict {'model': net.state_dict(), 'extra': extra}, not the module object")
    expect(got["keys"] == ["model", "extra"],
           f"the checkpoint file holds a dict with keys {got['keys']}; expected "
           "['model', 'extra']")
    if "restore_error" in got:
        fail(f"a fresh net could not load checkpoint['model']: {got['restore_error']}. Save "
             "net.state_dict(): every parameter and buffer, under its own name")
    return got


@exercise("save_checkpoint")
def test_save_checkpoint_example(student, seed):
    X = torch.randn(5, 4, generator=torch.Generator().manual_seed(seed))
    got = _save_answer(student, "example.ckpt", seed, False, "default", X)
    expect_tensor(got["restored_output"], got["expected_output"],
                  what="the output of a net restored from the checkpoint",
                  inputs="an MLP saved with save_checkpoint(net, path)", atol=0, rtol=0)
    expect(got["extra"] is None, f"save_checkpoint(net, path) stored extra = {got['extra']!r}; "
           "the default is None")


@exercise("save_checkpoint", weight=2)
def test_save_checkpoint_buffers(student, gen, seed):
    X = torch.randn(16, 4, generator=gen) * 2 + 1
    got = _save_answer(student, "bn.ckpt", seed, True, None, X)
    for key, value in got["original"].items():
        problem = _same(got["model"].get(key), value, f"checkpoint['model'][{key!r}]")
        expect(problem is None, f"{problem}: save the full net.state_dict() (buffers such as "
               "batch norm's running statistics included)")
    expect_tensor(got["restored_output"], got["expected_output"],
                  what="the eval-mode output of a net restored from the checkpoint",
                  inputs="an MLP with BatchNorm1d after a training step", atol=0, rtol=0)


@exercise("save_checkpoint")
def test_save_checkpoint_extra(student, gen, seed):
    extra = {"epoch": 7, "lr": 0.05, "note": "warm start",
             "history": [torch.randn(3, generator=gen), torch.randn(2, 2, generator=gen)],
             "optimizer": {"step": torch.tensor(12), "momentum": (torch.zeros(4), 0.9)}}
    X = torch.randn(3, 4, generator=gen)
    got = _save_answer(student, "extra.ckpt", seed, False, extra, X)
    problem = _same(got.get("extra"), extra, "checkpoint['extra']")
    expect(problem is None, f"{problem}: store extra as given, under the key 'extra'")


def _load_scenario(ns, fname, seed, batchnorm, extra, X, mismatch):
    """The grader writes a checkpoint itself, then the student's load restores a fresh net."""
    nn = torch.nn

    def build(s):
        torch.manual_seed(s)
        if batchnorm:
            return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    net = build(seed)
    net.train()
    net(X)
    model = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save({"model": model, "extra": extra}, fname)
    net.eval()
    fresh = build(seed + 1)
    params = list(fresh.parameters())
    result = {"expected_output": net(X).detach(), "original": model}
    returned = ns["load_checkpoint"](fresh, fname)
    if mismatch:  # the same checkpoint without one weight must be refused
        partial = {k: v for k, v in model.items() if k != "0.weight"}
        torch.save({"model": partial, "extra": extra}, "partial_" + fname)
        try:
            ns["load_checkpoint"](build(seed + 2), "partial_" + fname)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the expected outcome
            result["raised"] = type(exc).__name__
    fresh.eval()
    result["returned"] = returned
    result["restored"] = {k: v.detach().clone() for k, v in fresh.state_dict().items()}
    result["restored_output"] = fresh(X).detach()
    result["same_objects"] = all(a is b for a, b in zip(params, fresh.parameters()))
    return result


def _load_answer(student, fname, seed, batchnorm, extra, X, mismatch=False):
    return student.scenario(_load_scenario, fname, seed, batchnorm, extra, X, mismatch,
                            what="load_checkpoint(net, path)")


@exercise("load_checkpoint")
def test_load_checkpoint_example(student, seed):
    X = torch.randn(5, 4, generator=torch.Generator().manual_seed(seed))
    got = _load_answer(student, "example_load.ckpt", seed, False, {"epoch": 1}, X)
    expect_tensor(got["restored_output"], got["expected_output"],
                  what="the output of the net after load_checkpoint(net, path)",
                  inputs="an MLP checkpoint", atol=0, rtol=0,
                  hint="net.load_state_dict(checkpoint['model'])")
    problem = _same(got["returned"], {"epoch": 1}, "load_checkpoint's return value")
    expect(problem is None, f"{problem}: return checkpoint['extra']")


@exercise("load_checkpoint", weight=2)
def test_load_checkpoint_buffers(student, gen, seed):
    X = torch.randn(16, 4, generator=gen) * 2 + 1
    got = _load_answer(student, "bn_load.ckpt", seed, True, None, X)
    for key, value in got["original"].items():
        problem = _same(got["restored"].get(key), value, f"net.state_dict()[{key!r}] after loading")
        expect(problem is None, f"{problem}: load the whole state dict (buffers such as batch "
               "norm's running statistics included) with net.load_state_dict")
    expect_tensor(got["restored_output"], got["expected_output"],
                  what="the eval-mode output of the restored net",
                  inputs="an MLP with BatchNorm1d", atol=0, rtol=0)
    expect(got["same_objects"], "load_checkpoint replaced the net's parameter objects; restore "
           "them in place (net.load_state_dict), so optimizers that hold them keep working")


@exercise("load_checkpoint")
def test_load_checkpoint_extra(student, gen, seed):
    extra = {"epoch": 3, "losses": [torch.randn(4, generator=gen), 0.25],
             "state": {"t": torch.tensor(5), "pair": (torch.ones(2), "adam")}}
    X = torch.randn(3, 4, generator=gen)
    got = _load_answer(student, "extra_load.ckpt", seed, False, extra, X)
    problem = _same(got["returned"], extra, "load_checkpoint's return value")
    expect(problem is None, f"{problem}: return checkpoint['extra'] as stored")


@exercise("load_checkpoint")
def test_load_checkpoint_strict(student, gen, seed):
    X = torch.randn(3, 4, generator=gen)
    got = _load_answer(student, "strict.ckpt", seed, False, None, X, mismatch=True)
    expect("raised" in got, "load_checkpoint accepted a checkpoint that lacks one of the net's "
           "parameters; load strictly (the default of load_state_dict) so that it raises")


# --- try_gpu -------------------------------------------------------------------------------------


def _try_gpu_scenario(ns, count, indices):
    """Pretend the machine has ``count`` GPUs and ask the student's try_gpu for each index."""
    cuda = torch.cuda
    saved = (cuda.device_count, cuda.is_available)
    cuda.device_count = lambda: count
    cuda.is_available = lambda: count > 0
    try:
        answers = []
        for i in indices:
            device = ns["try_gpu"]() if i is None else ns["try_gpu"](i)
            if isinstance(device, torch.device):
                answers.append(str(device))
            else:
                answers.append(f"a {type(device).__name__} ({str(device)[:40]}), not a "
                               "torch.device")
    finally:
        cuda.device_count, cuda.is_available = saved
    return answers


def _try_gpu(student, count, indices):
    got = student.scenario(_try_gpu_scenario, count, indices,
                           what=f"try_gpu(i) on a machine with {count} GPUs")
    expected = _try_gpu_scenario(REF, count, indices)
    for i, g, e in zip(indices, got, expected):
        call = "try_gpu()" if i is None else f"try_gpu({i})"
        expect(g == e, f"{call} on a machine with {count} GPU(s) returned {g}; expected "
               f"torch.device('{e}') (GPU i exists when torch.cuda.device_count() >= i + 1)")


@exercise("try_gpu")
def test_try_gpu_no_gpu(student):
    _try_gpu(student, 0, [None, 0, 1])


@exercise("try_gpu")
def test_try_gpu_one_gpu(student):
    _try_gpu(student, 1, [None, 0, 1, 2])


@exercise("try_gpu", weight=2)
def test_try_gpu_two_gpus(student):
    _try_gpu(student, 2, [1, 2, 0])


# --- move_to -------------------------------------------------------------------------------------


def _move_scenario(ns, device_name, as_object, X):
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    device = torch.device(device_name) if as_object else device_name
    result = ns["move_to"](net, X, device)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"problem": f"move_to returned a {type(result).__name__}; expected (net, X)"}
    net2, X2 = result
    if not isinstance(net2, nn.Module) or not isinstance(X2, torch.Tensor):
        return {"problem": f"move_to returned ({type(net2).__name__}, {type(X2).__name__}); "
                "expected (net, X): a module and a tensor"}
    moved = {"X_device": str(X2.device), "X_dtype": str(X2.dtype),
             "params": [(n, str(p.device)) for n, p in net2.named_parameters()],
             "buffers": [(n, str(b.device)) for n, b in net2.named_buffers()],
             "X_before": X.device.type}
    if X2.device.type in ("cpu", "cuda"):
        moved["X_values"] = X2.detach().cpu()
    return moved


def _move(student, device_name, as_object, X, label):
    what = f"move_to(net, X, {label})"
    got = student.scenario(_move_scenario, device_name, as_object, X, what=what)
    if "problem" in got:
        fail(got["problem"])
    target = torch.device(device_name).type
    for name, device in got["params"] + got["buffers"]:
        expect(torch.device(device).type == target,
               f"after {what} the net's {name} is on {device}; expected {target} (move the "
               "whole module, buffers included, with net.to(device))")
    expect(torch.device(got["X_device"]).type == target,
           f"after {what} X is on {got['X_device']}; expected {target} (X.to(device) returns a "
           "new tensor: return that one)")
    expect(got["X_dtype"] == str(X.dtype), f"after {what} X has dtype {got['X_dtype']}; "
           f"expected {X.dtype} (moving must not change the dtype)")
    if "X_values" in got:
        expect_tensor(got["X_values"], X, what=f"X after {what}", atol=0, rtol=0)


@exercise("move_to")
def test_move_to_cpu_string(student, gen):
    _move(student, "cpu", False, torch.randn(3, 4, generator=gen, dtype=torch.float64),
          "'cpu'")


@exercise("move_to")
def test_move_to_cpu_device(student, gen):
    _move(student, "cpu", True, torch.randn(2, 4, generator=gen), "torch.device('cpu')")


@exercise("move_to", weight=2)
def test_move_to_other_device(student, gen):
    # The "meta" device stands in for a GPU on machines without one: tensors there have shapes
    # and dtypes but no data, so code that forgets to move something is caught on any machine.
    _move(student, "meta", True, torch.randn(3, 4, generator=gen), "torch.device('meta')")


def _cuda_available(ns):
    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@exercise("move_to")
def test_move_to_cuda(student, gen):
    if not student.scenario(_cuda_available, what="torch.cuda.is_available()"):
        pytest.skip("the sandbox cannot reach the GPU")
    _move(student, "cuda:0", True, torch.randn(3, 4, generator=gen), "torch.device('cuda:0')")
