"""Hidden checks for ch05, Deep learning computation.

Most exercises are ``nn.Module`` classes: the grader loads the reference's weights into the
student's module (a strict ``load_state_dict``, which also enforces the parameter names) and
compares outputs and gradients. Stateful protocols (registration, ``apply``, files, devices) run
as scenarios inside the sandbox; scenario functions that use only ``torch``, ``objects`` and the
namespace they are given also run here on the reference (``vars(ref)``) for the expected answer.
"""

import math

import pytest
import torch

import solutions.ch05 as ref
from grader.engine import stats
from grader.engine.child import objects
from grader.engine.compare import describe, expect, expect_tensor, fail, number, shape_of, tensor
from grader.engine.patterns import same
from grader.engine.plugin import Exercise, exercise
from grader.engine.strategies import normal, uniform
from grader.i18n import _

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
F32 = {"atol": 1e-5, "rtol": 1e-5}  # float32 modules: the sandbox and the grader may sum
# in different orders


# --- helpers -------------------------------------------------------------------------------------


def _fill(module: torch.nn.Module) -> torch.nn.Module:
    """The worked examples' weights: each parameter becomes linspace(-1, 1) over its elements."""
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


def _expect_module(student, name: str, net: torch.nn.Module, X: torch.Tensor, *, what: str,
                   inputs: str, G: torch.Tensor | None = None, init_args: tuple = (),
                   hint: str = "", atol: float | None = None, rtol: float | None = None) -> dict:
    """Load ``net``'s state into the student's ``name(*init_args)``, run ``X`` through both and
    compare the outputs and, with ``G``, the gradients of ``X`` and of every parameter."""
    step = {"args": [X]} if G is None else {"args": [X], "wrt": [0], "grad_output": G}
    answer = student.module(name, init_args=init_args, state_dict=_state(net), steps=[step],
                            what=what)
    if not answer.get("steps"):
        fail(f"{what} produced no output")
    got = answer["steps"][0]
    leaf = X.clone().requires_grad_(G is not None)
    out = net(leaf)
    expect_tensor(got["output"], out.detach(), what=what, inputs=inputs, atol=atol, rtol=rtol,
                  hint=hint)
    if G is None:
        return answer
    net.zero_grad(set_to_none=True)
    out.backward(G)
    for param, p in net.named_parameters():
        grad = (got.get("param_grads") or {}).get(param)
        if grad is None:
            fail(f"{param} got no gradient from {what} for {inputs}: the output does not depend "
                 "on it through autograd (avoid .data, .detach() and torch.no_grad() in forward)")
        expect_tensor(grad, p.grad, what=f"the gradient of {param}", inputs=inputs, atol=atol,
                      rtol=rtol, hint=hint)
    grads = got.get("input_grads") or [None]
    if grads[0] is None:
        fail(f"{what} is not differentiable with respect to its input X")
    expect_tensor(grads[0], leaf.grad, what="the gradient with respect to X", inputs=inputs,
                  atol=atol, rtol=rtol, hint=hint)
    return answer


# --- MySequential --------------------------------------------------------------------------------
# Layers are built from specs on both sides (objects.build_layers); ``order`` lists which layer
# goes where, so a layer may be given twice (the book's shared layer).


def _seq_scenario(ns, specs, state, order, X, G, nested):
    """Chain the layers with the student's MySequential; run a forward and a backward pass and
    report what the container registered."""
    layers = [layer.to(X.dtype) for layer in objects.build_layers(specs)]
    for layer, values in zip(layers, state):
        layer.load_state_dict(values)
    mods = [layers[i] for i in order]
    seq = ns["MySequential"]
    net = seq(seq(*mods[:2]), *mods[2:]) if nested else seq(*mods)
    owned = list({id(p): p for m in mods for p in m.parameters()}.values())
    params = list(net.parameters())
    leaf = X.clone().requires_grad_(True)
    out = net(leaf)
    differentiable = isinstance(out, torch.Tensor) and out.requires_grad
    if differentiable and out.shape == G.shape:
        out.backward(G)
    return {"keys": list(net.state_dict().keys()),
            "names": [n for n, _ in net.named_parameters()],
            "same": len(params) == len(owned) and all(a is b for a, b in zip(params, owned)),
            "output": out, "differentiable": differentiable, "input_grad": leaf.grad,
            "param_grads": [p.grad for p in owned]}


SEQ_SPECS = [["linear", 6, 8], ["tanh"], ["linear", 8, 8], ["relu"], ["linear", 8, 3]]
SEQ_SHARED = [0, 1, 2, 3, 2, 3, 4]  # Linear(8, 8) and its ReLU given twice


def _seq_case(student, gen, order=(0, 1, 2, 3, 4), nested=False):
    state = [{"weight": normal(gen, s[2], s[1]), "bias": normal(gen, s[2])}
             if s[0] == "linear" else {} for s in SEQ_SPECS]
    X, G = normal(gen, 5, 6), normal(gen, 5, 3)
    what = "MySequential(MySequential(...), ...)" if nested else "MySequential(*layers)"
    args = (SEQ_SPECS, state, list(order), X, G, nested)
    return (student.scenario(_seq_scenario, *args, what=what), _seq_scenario(REF, *args),
            f"float64 X of shape {shape_of(X)} through Linear, Tanh, "
            + ("Linear, ReLU, the same Linear and ReLU again, Linear" if len(order) > 5
               else "Linear, ReLU, Linear"))


@exercise("MySequential")
def test_my_sequential_example(student):
    specs = [["linear", 4, 3], ["relu"], ["linear", 3, 2]]
    state = [_fill(m).state_dict() for m in objects.build_layers(specs)]
    X, G = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]), torch.ones(2, 2)
    args = (specs, state, [0, 1, 2], X, G, False)
    got = student.scenario(_seq_scenario, *args, what="MySequential(*layers)")
    expect_tensor(got["output"], _seq_scenario(REF, *args)["output"], what="net(X)",
                  inputs="the worked example",
                  hint=_("apply the modules one after the other, in the order they were given"))


@exercise("MySequential", weight=2)
def test_my_sequential_registers_modules(student, gen):
    got, expected, _ = _seq_case(student, gen)
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
    got, expected, inputs = _seq_case(student, gen, SEQ_SHARED)
    expect_tensor(got["output"], expected["output"], what="net(X)", inputs=inputs,
                  hint=_("apply every module, in the order given, and return the last output; a "
                  "module given twice runs twice (iterate self._modules.values(): children() "
                  "skips repeats)"))


@exercise("MySequential", weight=2)
def test_my_sequential_gradients(student, gen):
    got, expected, inputs = _seq_case(student, gen, SEQ_SHARED)
    if not got["differentiable"]:
        fail("net(X) does not depend on X through autograd")
    expect_tensor(got["input_grad"], expected["input_grad"], what="the gradient of X",
                  inputs=inputs)
    for i, (g, e) in enumerate(zip(got["param_grads"], expected["param_grads"])):
        if g is None:
            fail(f"parameter {i} of the layers got no gradient from net(X)")
        expect_tensor(g, e, what=f"the gradient of parameter {i} of the layers", inputs=inputs)


@exercise("MySequential")
def test_my_sequential_nested(student, gen):
    got, expected, inputs = _seq_case(student, gen, nested=True)
    expect(got["keys"] == expected["keys"],
           f"MySequential(MySequential(Linear, Tanh), Linear, ReLU, Linear).state_dict() has keys "
           f"{got['keys']}; expected {expected['keys']}")
    expect_tensor(got["output"], expected["output"], what="the nested net's output",
                  inputs=inputs)


# --- FixedHiddenMLP ------------------------------------------------------------------------------


def _fixed_scenario(ns, state, X, G):
    """Run FixedHiddenMLP in float64 with the given weights; report the output, the gradients
    and whether rand_weight stayed a constant."""
    net = ns["FixedHiddenMLP"]()
    net.load_state_dict(state)
    net.double()
    leaf = X.clone().requires_grad_(True)
    out = net(leaf)
    differentiable = isinstance(out, torch.Tensor) and out.requires_grad
    if differentiable:
        out.backward(G)
    return {"output": out, "differentiable": differentiable, "input_grad": leaf.grad,
            "weight_grad": net.linear.weight.grad, "bias_grad": net.linear.bias.grad,
            "rand_weight": net.rand_weight, "rand_weight_grad": net.rand_weight.grad,
            "names": [n for n, _ in net.named_parameters()]}


def _fixed(student, state, X, G, label=""):
    inputs = f"float64 X of shape {shape_of(X)}" + (f" and {label}" if label else "")
    got = student.scenario(_fixed_scenario, state, X, G, what="FixedHiddenMLP()(X)")
    expected = _fixed_scenario(REF, state, X, G)
    expect_tensor(got["output"], expected["output"], what="net(X)", inputs=inputs,
                  hint=_("linear, relu(X @ rand_weight + 1), the same linear again, halve while "
                  "X.abs().sum() > 1 (a while loop on the absolute values), then sum"))
    return got, expected, inputs


@exercise("FixedHiddenMLP")
def test_fixed_hidden_mlp_example(student):
    # The notebook's example: torch.manual_seed(0); net = FixedHiddenMLP(); X = torch.rand(2, 20)
    net = _seeded(0, ref.FixedHiddenMLP)
    X = _seeded(0, lambda: (ref.FixedHiddenMLP(), torch.rand(2, 20))[1])
    _expect_module(student, "FixedHiddenMLP", net, X, what="net(X)", inputs="the worked example",
                   **F32)


@exercise("FixedHiddenMLP")
def test_fixed_hidden_mlp_values(student, gen, seed):
    _fixed(student, _state(_seeded(seed, ref.FixedHiddenMLP)), uniform(gen, 4, 20, low=-2, high=2),
           torch.tensor(0.5, dtype=torch.float64))


@exercise("FixedHiddenMLP", weight=2)
def test_fixed_hidden_mlp_loop(student, gen, seed):
    # The loop's edges: tiny weights (the absolute sum is already at most 1: no halving) and a
    # large negative bias (the plain sum is negative, the absolute sum in the hundreds).
    base = _state(_seeded(seed, ref.FixedHiddenMLP))
    tiny = dict(base, **{"linear.weight": base["linear.weight"] * 1e-3,
                         "linear.bias": base["linear.bias"] * 1e-3})
    negative = dict(base, **{"linear.bias": torch.full_like(base["linear.bias"], -5.0)})
    X = uniform(gen, 3, 20)
    for label, state in (("weights scaled by 1e-3", tiny), ("a bias of -5", negative)):
        _fixed(student, state, X, torch.tensor(1.0, dtype=torch.float64), label)


@exercise("FixedHiddenMLP", weight=2)
def test_fixed_hidden_mlp_gradients(student, gen, seed):
    got, expected, inputs = _fixed(student, _state(_seeded(seed, ref.FixedHiddenMLP)),
                                   uniform(gen, 4, 20, high=2),
                                   torch.tensor(1.5, dtype=torch.float64))
    if not got["differentiable"]:
        fail("net(X) does not depend on the input through autograd")
    expect(got["names"] == expected["names"],
           f"the parameters are {got['names']}; expected {expected['names']} (rand_weight is a "
           "constant, not a parameter)")
    expect(got["rand_weight_grad"] is None, "rand_weight received a gradient; it is a constant")
    expect_tensor(got["rand_weight"], expected["rand_weight"], what="rand_weight after forward",
                  hint=_("never modify rand_weight"))
    hint = _("every halving scales the gradient too: halve X itself, not X.data")
    for key, name in (("weight_grad", "linear.weight"), ("bias_grad", "linear.bias"),
                      ("input_grad", "X")):
        if got[key] is None:
            fail(f"{name} got no gradient")
        expect_tensor(got[key], expected[key], what=f"the gradient of {name}", inputs=inputs,
                      hint=hint)


# --- ParallelBlock -------------------------------------------------------------------------------

BRANCH1 = [["linear", 5, 3], ["relu"]]
BRANCH2 = [["linear", 5, 4], ["sigmoid"], ["linear", 4, 2]]
BRANCHES = ({"__build__": "module", "layers": BRANCH1}, {"__build__": "module", "layers": BRANCH2})


def _parallel(student, net, X, G=None, example=False):
    inputs = ("the worked example (net1 gives 3 columns, net2 gives 2)" if example else
              f"X of shape {shape_of(X)}, net1 with 3 outputs, net2 with 2")
    _expect_module(student, "ParallelBlock", net, X, G=G, init_args=BRANCHES,
                   what="ParallelBlock(net1, net2)(X)", inputs=inputs,
                   hint=_("apply both blocks to the same X and concatenate along dimension 1, "
                   "net1's columns first: torch.cat((net1(X), net2(X)), dim=1)"), **F32)


def _branches():
    return ref.ParallelBlock(objects.build_module(BRANCH1), objects.build_module(BRANCH2))


@exercise("ParallelBlock")
def test_parallel_block_example(student):
    _parallel(student, _fill(_branches()), torch.linspace(-1, 1, 10).reshape(2, 5), example=True)


@exercise("ParallelBlock", weight=2)
def test_parallel_block_values(student, gen, seed):
    _parallel(student, _seeded(seed, _branches), normal(gen, 6, 5, dtype=torch.float32))


@exercise("ParallelBlock")
def test_parallel_block_gradients(student, gen, seed):
    _parallel(student, _seeded(seed, _branches), normal(gen, 4, 5, dtype=torch.float32),
              G=normal(gen, 4, 5, dtype=torch.float32))


# --- NestMLP -------------------------------------------------------------------------------------


@exercise("NestMLP")
def test_nest_mlp_example(student):
    # The notebook's example: torch.manual_seed(1); net = NestMLP(); X = torch.rand(2, 20)
    net = _seeded(1, ref.NestMLP)
    X = _seeded(1, lambda: (ref.NestMLP(), torch.rand(2, 20))[1])
    _expect_module(student, "NestMLP", net, X, what="NestMLP()(X)", inputs="the worked example",
                   **F32)


@exercise("NestMLP", weight=2)
def test_nest_mlp_values(student, gen, seed):
    X = normal(gen, 5, 20, dtype=torch.float32)
    _expect_module(student, "NestMLP", _seeded(seed, ref.NestMLP), X, what="NestMLP()(X)",
                   inputs=f"X of shape {shape_of(X)}",
                   hint=_("self.linear(self.net(X)): no activation after the last layer"), **F32)


@exercise("NestMLP")
def test_nest_mlp_gradients(student, gen, seed):
    X = normal(gen, 3, 20, dtype=torch.float32)
    _expect_module(student, "NestMLP", _seeded(seed, ref.NestMLP), X, what="NestMLP()(X)",
                   inputs=f"X of shape {shape_of(X)}", G=normal(gen, 3, 16, dtype=torch.float32),
                   **F32)


# --- count_parameters and param_shapes -----------------------------------------------------------


def _nets_scenario(ns, name, case):
    """Build one of a few small networks and apply the student's ``name`` to it."""
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
COUNT_HINTS = {"frozen": "skip parameters with requires_grad=False",
               "shared": "a shared parameter counts once (net.parameters() yields it once)",
               "batchnorm": "buffers (running statistics) are not parameters"}


def _count(student, case, python_int=False):
    what = f"count_parameters(net) for {CASES[case]}"
    got = student.scenario(_nets_scenario, "count_parameters", case, what=what)
    expected = _nets_scenario(REF, "count_parameters", case)
    value = number(got, what)
    expect(value == expected, f"{what} returned {value:g}; expected {expected}. Hint: "
           + COUNT_HINTS.get(case, "add up p.numel() over the parameters"))
    if python_int and not (isinstance(got, int) or (isinstance(got, dict)
                                                   and isinstance(got.get("value"), int))):
        fail(f"{what} returned {describe(got)}; return a Python int (the sum of p.numel(), or "
             "int(...) of a tensor)")


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


@exercise("count_parameters")
def test_count_parameters_returns_int(student):
    _count(student, "mlp", python_int=True)


def _shapes(student, case):
    what = f"param_shapes(net) for {CASES[case]}"
    got = student.scenario(_nets_scenario, "param_shapes", case, what=what)
    expected = _nets_scenario(REF, "param_shapes", case)
    if isinstance(got, dict) and got.get("__kind__") == "mapping":
        got = got["items"]
    if not isinstance(got, dict) or "__kind__" in got:
        fail(f"{what} returned {describe(got)}; expected a dict from names to shapes")
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


def _init_scenario(ns, sizes, torch_seeds, other_seeds):
    """For each seed pair: seed torch (numpy and random with the other seed), build Linear, ReLU,
    LayerNorm, Linear and apply the student's my_init; report the state before and after."""
    import random

    nn = torch.nn
    reports = []
    for torch_seed, other in zip(torch_seeds, other_seeds):
        random.seed(other)
        try:
            import numpy

            numpy.random.seed(other)
        except ImportError:
            pass
        torch.manual_seed(torch_seed)
        net = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.LayerNorm(sizes[1]),
                            nn.Linear(sizes[1], sizes[2]))
        with torch.no_grad():
            net[2].weight.uniform_(0.5, 1.5)
            net[2].bias.uniform_(-0.5, 0.5)
        before = {k: v.detach().clone() for k, v in net.state_dict().items()}
        params = list(net.parameters())
        net.apply(ns["my_init"])
        after = list(net.parameters())
        reports.append({
            "before": before, "after": {k: v.detach().clone() for k, v in net.state_dict().items()},
            "same": len(params) == len(after) and all(a is b for a, b in zip(params, after)),
            "leaves": all(p.is_leaf and p.requires_grad for p in after)})
    return reports


def _my_init(student, sizes, torch_seeds, other_seeds, alpha=stats.DEFAULT_ALPHA):
    """Check each report (other layers untouched, weights 0 or in ±[5, 10], about half of them
    kept); return the two Linear weights of each, flattened together."""
    what = (f"net.apply(my_init) on Linear({sizes[0]}, {sizes[1]}), ReLU, LayerNorm, "
            f"Linear({sizes[1]}, {sizes[2]})")
    reports = student.scenario(_init_scenario, sizes, torch_seeds, other_seeds, what=what)
    weights = []
    for got in reports:
        keys = list(got["before"])
        expect(list(got["after"]) == keys, f"after {what} the net's state has keys "
               f"{list(got['after'])}; expected {keys}")
        for key in keys:
            if not key.endswith("weight") or key.startswith("2."):
                expect_tensor(got["after"][key], got["before"][key], what=f"{key} after {what}",
                              atol=0, rtol=0, hint=_("change only the weights of nn.Linear layers; "
                              "leave biases and other layers (LayerNorm) alone"))
        w = torch.cat([tensor(got["after"][k], k).reshape(-1) for k in ("0.weight", "3.weight")])
        bad = (w != 0) & ((w.abs() < 5) | (w.abs() > 10))
        if bad.any():
            fail(f"a Linear weight has the entry {w[bad][0].item():.4g} after {what}; every "
                 "entry should be 0 or have an absolute value in [5, 10] (draw from U(-10, 10), "
                 "then zero the entries with |w| < 5)")
        stats.expect_count(int((w != 0).sum()), w.numel(), 0.5, what=what, alpha=alpha,
                           event=_("kept a weight"), hint=_("|w| >= 5 happens with probability 1/2 "
                           "under U(-10, 10)"))
        expect(got["same"], "my_init replaced a parameter object; change the weight in place "
               "(nn.init.uniform_, then multiply by the mask under torch.no_grad())")
        expect(got["leaves"], "after my_init the parameters should still be leaves that require "
               "a gradient (modify them in place under torch.no_grad() or through .data)")
        weights.append(w.double())
    return weights


@exercise("my_init")
def test_my_init_example(student):
    _my_init(student, (4, 8, 1), [0], [0])


@exercise("my_init", weight=2)
def test_my_init_statistics(student, seed):
    # Five statistics of 25,000 weights (the kept count, then four below), 1e-7 each.
    (w,) = _my_init(student, (200, 100, 50), [seed], [seed])
    kept = w[w != 0]
    stats.expect_count(int((kept > 0).sum()), kept.numel(), 0.5, what="my_init's non-zero weights",
                       event=_("were positive"))
    stats.expect_mean(kept.abs(), 7.5, 5 / math.sqrt(12), what="|w| of my_init's non-zero weights",
                      hint=_("the survivors are uniform on [5, 10]"))
    stats.expect_count(int((kept.abs() < 7.5).sum()), kept.numel(), 0.5,
                       what="my_init's non-zero weights", event=_("had |w| < 7.5"),
                       hint=_("the survivors are uniform on [5, 10]"))


@exercise("my_init")
def test_my_init_leaves_other_layers(student, seed):
    _my_init(student, (6, 5, 3), [seed + 1], [seed + 1])


@exercise("my_init")
def test_my_init_random_generator(student, seed):
    # Torch seed s twice (numpy and random seeded differently), then s + 1: the first two must
    # agree and the third differ. Three kept counts at 1e-7; 150 independent draws coincide
    # with probability 0.
    w = _my_init(student, (10, 10, 5), [seed, seed, seed + 1], [seed + 7, seed + 8, seed + 7])
    rule = ("draw with torch's global generator (nn.init.uniform_ or tensor.uniform_), without "
            "reseeding it")
    expect(bool((w[0] == w[1]).all()), "my_init gave different weights after the same "
           f"torch.manual_seed (only numpy's and Python's seeds changed): {rule}")
    expect(not bool((w[0] == w[2]).all()), "my_init gave the same weights after different "
           f"torch.manual_seed values: {rule}")


# --- TiedMLP -------------------------------------------------------------------------------------

TIED_NAMES = ["hidden.weight", "hidden.bias", "shared.weight", "shared.bias", "output.weight",
              "output.bias"]


def _tied(seed, X):
    """The seeded reference, its output bias moved so that half the outputs for ``X`` are
    negative: a ReLU on the output then changes values and gradients whatever the seed (it is
    missed only if every output coincides, which continuous random inputs never give)."""
    net = _seeded(seed, ref.TiedMLP)
    with torch.no_grad():
        out = net(X).reshape(-1).sort().values
        net.output.bias -= out[len(out) // 2 - 1:len(out) // 2 + 1].mean()
    return net


@exercise("TiedMLP")
def test_tied_mlp_example(student):
    _expect_module(student, "TiedMLP", _fill(ref.TiedMLP()),
                   torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]),
                   what="TiedMLP()(X)", inputs="the worked example", **F32)


@exercise("TiedMLP")
def test_tied_mlp_structure(student, gen, seed):
    X = normal(gen, 6, 4, dtype=torch.float32)
    answer = _expect_module(student, "TiedMLP", _tied(seed, X), X, what="TiedMLP()(X)",
                            inputs=f"X of shape {shape_of(X)}", **F32)
    expect(answer["param_names"] == TIED_NAMES,
           f"TiedMLP's parameters are {answer['param_names']}; expected {TIED_NAMES}: exactly "
           "three layers, the shared one registered once")
    keys = list(answer["state_dict"])
    expect(keys == TIED_NAMES, f"TiedMLP().state_dict() has keys {keys}; expected {TIED_NAMES}")


@exercise("TiedMLP")
def test_tied_mlp_values(student, gen, seed):
    X = normal(gen, 6, 4, dtype=torch.float32)
    _expect_module(student, "TiedMLP", _tied(seed, X), X, what="TiedMLP()(X)",
                   inputs=f"X of shape {shape_of(X)}",
                   hint=_("hidden, relu, shared, relu, shared again, relu, output (no relu after "
                   "the output layer)"), **F32)


@exercise("TiedMLP", weight=2)
def test_tied_mlp_gradients(student, gen, seed):
    X = normal(gen, 6, 4, dtype=torch.float32)
    _expect_module(student, "TiedMLP", _tied(seed, X), X, what="TiedMLP()(X)",
                   inputs=f"X of shape {shape_of(X)}", G=normal(gen, 6, 1, dtype=torch.float32),
                   hint=_("the shared layer's gradient is the sum over both of its uses: call the "
                   "same self.shared twice"), **F32)


# --- CenteredLayer -------------------------------------------------------------------------------


@exercise("CenteredLayer")
def test_centered_layer_example(student):
    _expect_module(student, "CenteredLayer", ref.CenteredLayer(),
                   torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), what="CenteredLayer()(X)",
                   inputs="the worked example")


@exercise("CenteredLayer", weight=2)
def test_centered_layer_values(student, gen):
    X = normal(gen, 4, 6, scale=3) + 1
    answer = _expect_module(student, "CenteredLayer", ref.CenteredLayer(), X,
                            what="CenteredLayer()(X)", inputs=f"float64 X of shape {shape_of(X)}",
                            hint=_("subtract the mean of all entries (X.mean() without a dim)"))
    expect(answer["param_names"] == [], f"CenteredLayer has parameters {answer['param_names']}; "
           "it should have none")


@exercise("CenteredLayer")
def test_centered_layer_gradient(student, gen):
    X = normal(gen, 3, 5)
    _expect_module(student, "CenteredLayer", ref.CenteredLayer(), X, what="CenteredLayer()(X)",
                   inputs=f"X of shape {shape_of(X)}", G=normal(gen, 3, 5),
                   hint=_("return a new tensor X - X.mean(); do not subtract in place"))


def _centered_scenario(ns, X):
    original = X.clone()
    out = ns["CenteredLayer"]()(X)
    return {"output": out, "input_unchanged": bool(torch.equal(X, original))}


@exercise("CenteredLayer")
def test_centered_layer_keeps_input(student, gen):
    X = normal(gen, 2, 3, 4)
    got = student.scenario(_centered_scenario, X, what="CenteredLayer()(X)")
    expect_tensor(got["output"], X - X.mean(), what="CenteredLayer()(X)",
                  inputs=f"X of shape {shape_of(X)}")
    expect(got["input_unchanged"], "CenteredLayer()(X) changed X; return a new tensor instead "
           "of subtracting in place")


# --- MyLinear ------------------------------------------------------------------------------------


def _my_linear(student, net, X, G=None, inputs=None):
    units = tuple(net.weight.shape)
    _expect_module(student, "MyLinear", net, X, G=G, init_args=units, what=f"MyLinear{units}(X)",
                   inputs=inputs or f"X of shape {shape_of(X)}",
                   hint=_("relu(X @ weight + bias) with the parameters themselves (not .data); "
                   "weight has shape (in_units, units)"), **F32)


@exercise("MyLinear")
def test_my_linear_example(student):
    net = ref.MyLinear(5, 3)
    with torch.no_grad():
        net.weight.copy_(torch.linspace(-1, 1, 15).reshape(5, 3))
        net.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, -1.0, 0.5, -3.0, -2.0]])
    _my_linear(student, net, X, inputs="the worked example")


@exercise("MyLinear", weight=2)
def test_my_linear_values(student, gen, seed):
    for units in ((5, 3), (8, 2)):
        _my_linear(student, _seeded(seed, lambda u=units: ref.MyLinear(*u)),
                   normal(gen, 6, units[0], dtype=torch.float32))


@exercise("MyLinear", weight=2)
def test_my_linear_gradients(student, gen, seed):
    _my_linear(student, _seeded(seed, lambda: ref.MyLinear(6, 4)),
               normal(gen, 5, 6, dtype=torch.float32), G=normal(gen, 5, 4, dtype=torch.float32))


# --- save_checkpoint and load_checkpoint ---------------------------------------------------------


def _save_scenario(ns, fname, seed, batchnorm, extra, X):
    """A train-mode pass (moves batch norm's running statistics), the student's save, then the
    file read back and a fresh net restored from it."""
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
    result["keys"] = sorted(str(k) for k in checkpoint)
    if "model" in checkpoint:
        fresh = build(seed + 1)
        try:
            fresh.load_state_dict(checkpoint["model"])
            fresh.eval()
            result["restored_output"] = fresh(X).detach()
        except Exception as exc:  # noqa: BLE001 - reported to the student
            result["restore_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        result["model"] = dict(checkpoint["model"])
    result["extra"] = checkpoint.get("extra")
    return result


def _save(student, fname, seed, batchnorm, extra, X):
    what = "save_checkpoint(net, path" + ("" if extra == "default" else ", extra") + ")"
    got = student.scenario(_save_scenario, fname, seed, batchnorm, extra, X, what=what)
    if "load_error" in got:
        fail(f"after {what}, torch.load(path, weights_only=True) fails: {got['load_error']}. "
             "Save a dict {'model': net.state_dict(), 'extra': extra}, not the module object")
    expect(got["keys"] == ["extra", "model"], f"the checkpoint file holds a dict with keys "
           f"{got['keys']}; expected the keys 'model' and 'extra'")
    if "restore_error" in got:
        fail(f"a fresh net could not load checkpoint['model']: {got['restore_error']}. Save "
             "net.state_dict(): every parameter and buffer, under its own name")
    expect_tensor(got["restored_output"], got["expected_output"], atol=0, rtol=0,
                  what="the eval-mode output of a net restored from the checkpoint",
                  inputs="an MLP" + (" with BatchNorm1d after a training step" if batchnorm
                                     else ""))
    return got


@exercise("save_checkpoint")
def test_save_checkpoint_example(student, seed):
    got = _save(student, "example.ckpt", seed, False, "default",
                torch.randn(5, 4, generator=torch.Generator().manual_seed(seed)))
    expect(got["extra"] is None, f"save_checkpoint(net, path) stored extra = {got['extra']!r}; "
           "the default is None")


@exercise("save_checkpoint", weight=2)
def test_save_checkpoint_buffers(student, gen, seed):
    got = _save(student, "bn.ckpt", seed, True, None, normal(gen, 16, 4, dtype=torch.float32) + 1)
    for key, value in got["original"].items():
        expect(same(got["model"].get(key), value), f"checkpoint['model'][{key!r}] differs from "
               "net.state_dict(): save the full state dict (buffers such as batch norm's running "
               "statistics included)")


@exercise("save_checkpoint")
def test_save_checkpoint_extra(student, gen, seed):
    extra = {"epoch": 7, "lr": 0.05, "note": "warm start",
             "history": [torch.randn(3, generator=gen), torch.randn(2, 2, generator=gen)],
             "optimizer": {"step": torch.tensor(12), "momentum": (torch.zeros(4), 0.9)}}
    got = _save(student, "extra.ckpt", seed, False, extra, normal(gen, 3, 4, dtype=torch.float32))
    expect(same(got["extra"], extra), f"checkpoint['extra'] is {got['extra']!r:.300}; expected "
           "extra exactly as given: store it under the key 'extra'")


def _load_scenario(ns, fname, seed, batchnorm, extra, X, mismatch):
    """A checkpoint written here, then the student's load restores a fresh net from it."""
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


def _load(student, fname, seed, batchnorm, extra, X, mismatch=False):
    got = student.scenario(_load_scenario, fname, seed, batchnorm, extra, X, mismatch,
                           what="load_checkpoint(net, path)")
    expect_tensor(got["restored_output"], got["expected_output"], atol=0, rtol=0,
                  what="the eval-mode output of the net after load_checkpoint(net, path)",
                  inputs="an MLP" + (" with BatchNorm1d" if batchnorm else "") + " checkpoint",
                  hint=_("net.load_state_dict(checkpoint['model'])"))
    expect(same(got["returned"], extra), f"load_checkpoint returned {got['returned']!r:.300}; "
           "expected checkpoint['extra'] as stored")
    return got


@exercise("load_checkpoint")
def test_load_checkpoint_example(student, seed):
    _load(student, "example_load.ckpt", seed, False, {"epoch": 1},
          torch.randn(5, 4, generator=torch.Generator().manual_seed(seed)))


@exercise("load_checkpoint", weight=2)
def test_load_checkpoint_buffers(student, gen, seed):
    got = _load(student, "bn_load.ckpt", seed, True, None,
                normal(gen, 16, 4, dtype=torch.float32) + 1)
    for key, value in got["original"].items():
        expect(same(got["restored"].get(key), value), f"net.state_dict()[{key!r}] after loading "
               "differs from the checkpoint: load the whole state dict (buffers such as batch "
               "norm's running statistics included) with net.load_state_dict")
    expect(got["same_objects"], "load_checkpoint replaced the net's parameter objects; restore "
           "them in place (net.load_state_dict), so optimizers that hold them keep working")


@exercise("load_checkpoint")
def test_load_checkpoint_extra(student, gen, seed):
    extra = {"epoch": 3, "losses": [torch.randn(4, generator=gen), 0.25],
             "state": {"t": torch.tensor(5), "pair": (torch.ones(2), "adam")}}
    _load(student, "extra_load.ckpt", seed, False, extra, normal(gen, 3, 4, dtype=torch.float32))


@exercise("load_checkpoint")
def test_load_checkpoint_strict(student, gen, seed):
    got = _load(student, "strict.ckpt", seed, False, None, normal(gen, 3, 4, dtype=torch.float32),
                mismatch=True)
    expect("raised" in got, "load_checkpoint accepted a checkpoint that lacks one of the net's "
           "parameters; load strictly (the default of load_state_dict) so that it raises")


# --- try_gpu -------------------------------------------------------------------------------------


def _try_gpu_scenario(ns, count, indices):
    """Pretend the machine has ``count`` GPUs: the code of torch.cuda.device_count and
    is_available is swapped, so every name bound to them (``from torch.cuda import
    device_count`` too) sees the fake; then ask the student's try_gpu for each index."""
    fakes = {torch.cuda.device_count: lambda n=count: n,
             torch.cuda.is_available: lambda n=count: n > 0}
    saved = {fn: (fn.__code__, fn.__defaults__) for fn in fakes}
    try:
        for fn, fake in fakes.items():
            fn.__code__, fn.__defaults__ = fake.__code__, fake.__defaults__
        answers = []
        for i in indices:
            device = ns["try_gpu"]() if i is None else ns["try_gpu"](i)
            answers.append(str(device) if isinstance(device, torch.device) else
                           f"a {type(device).__name__} ({str(device)[:40]}), not a torch.device")
    finally:
        for fn, (code, defaults) in saved.items():
            fn.__code__, fn.__defaults__ = code, defaults
    return answers


def _try_gpu(student, count, indices):
    got = student.scenario(_try_gpu_scenario, count, indices,
                           what=f"try_gpu(i) on a machine with {count} GPUs")
    for i, answer in zip(indices, got):
        expected = f"cuda:{i or 0}" if count >= (i or 0) + 1 else "cpu"
        call = "try_gpu()" if i is None else f"try_gpu({i})"
        expect(answer == expected, f"{call} on a machine with {count} GPU(s) returned {answer}; "
               f"expected torch.device('{expected}') (GPU i exists when "
               "torch.cuda.device_count() >= i + 1)")


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
             "buffers": [(n, str(b.device)) for n, b in net2.named_buffers()]}
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
    _move(student, "cpu", False, normal(gen, 3, 4), "'cpu'")


@exercise("move_to")
def test_move_to_cpu_device(student, gen):
    _move(student, "cpu", True, normal(gen, 2, 4, dtype=torch.float32), "torch.device('cpu')")


@exercise("move_to", weight=2)
def test_move_to_other_device(student, gen):
    # The "meta" device stands in for a GPU on machines without one: tensors there have shapes
    # and dtypes but no data, so code that forgets to move something is caught on any machine.
    _move(student, "meta", True, normal(gen, 3, 4, dtype=torch.float32), "torch.device('meta')")


def _cuda_available(ns):
    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@exercise("move_to")
def test_move_to_cuda(student, gen):
    if not student.scenario(_cuda_available, what="torch.cuda.is_available()"):
        pytest.skip("the sandbox cannot reach the GPU")
    _move(student, "cuda:0", True, normal(gen, 3, 4, dtype=torch.float32),
          "torch.device('cuda:0')")
