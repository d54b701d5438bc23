"""Hidden checks for ch04, Multilayer perceptrons.

Random exercises are judged by statistics (``grader.engine.stats``): each check fails a correct
submission with probability at most ``FALSE_FAILURE`` (1e-6), its statistics sharing that budget.
"""

import math

import scipy.stats
import torch
from torch import nn

import solutions.ch04 as ref
from grader.engine import stats
from grader.engine.child.objects import Swap, build_module, module_spec
from grader.engine.compare import (
    expect,
    expect_number,
    expect_tensor,
    expect_vjp,
    fail,
    gradient,
    sequence,
    shape_of,
)
from grader.engine.patterns import (
    call_with,
    expect_float,
    expect_gradient,
    expect_torch_rng,
    expect_values,
    function,
)
from grader.engine.plugin import Exercise, exercise
from grader.engine.strategies import away_from, normal
from grader.engine.words import say
from grader.i18n import _

DROPOUT_OPS = ("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout",
               "alpha_dropout_", "native_dropout", "torch.nn.Dropout")
INIT_OPS = ("torch.nn.init.xavier_uniform_", "torch.nn.init.xavier_normal_",
            "torch.nn.init.uniform_", "torch.nn.init.normal_", "torch.nn.init.trunc_normal_",
            "torch.nn.init.kaiming_uniform_", "torch.nn.init.kaiming_normal_")
INIT_SCAN = ("init", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")

EXERCISES = {
    "perceptron_train": Exercise(points=4),
    "relu": Exercise(points=2, forbid=("relu", "relu_", "threshold", "threshold_",
                                       "torch.nn.ReLU")),
    "mlp": Exercise(points=3, forbid=("linear", "torch.nn.Linear")),
    "poly_features": Exercise(points=2),
    "l2_penalty": Exercise(points=2),
    "dropout_layer": Exercise(points=5, forbid=DROPOUT_OPS),
    # `self.dropout = ...` is a fair attribute name in a module, so the scan skips "dropout";
    # F.dropout is still caught at run time.
    "DropoutMLP": Exercise(points=4, forbid=DROPOUT_OPS,
                           scan=("Dropout", "feature_dropout", "alpha_dropout", "native_dropout")),
    "xavier_uniform_": Exercise(points=3, forbid=INIT_OPS, scan=INIT_SCAN),
    "xavier_normal_": Exercise(points=3, forbid=INIT_OPS, scan=INIT_SCAN),
    "log_rmse": Exercise(points=3),
    "get_k_fold_data": Exercise(points=3),
}


# --- perceptron_train ----------------------------------------------------------------------------

PERCEPTRON_X = [[2.0, 1.0], [1.0, 3.0], [-1.0, -1.0], [-2.0, 1.0], [0.5, -2.0], [3.0, -1.0]]
PERCEPTRON_Y = [1.0, 1.0, -1.0, -1.0, -1.0, 1.0]


def _expect_perceptron(student, X, y, lr, max_epochs, inputs, hint):
    what = f"perceptron_train(X, y, lr={lr}, max_epochs={max_epochs})"
    items = sequence(student.result("perceptron_train", X, y, lr, max_epochs), what)
    if len(items) != 3:
        fail(f"{what} returned {len(items)} values; expected (w, b, converged)")
    w, b, converged = items
    ref_w, ref_b, ref_converged = ref.perceptron_train(X, y, lr, max_epochs)
    w = expect_tensor(w, ref_w, what=f"w from {what}", inputs=inputs, atol=1e-9, rtol=1e-9,
                      hint=hint)
    b = expect_number(b, ref_b.item(), what=f"b from {what} ({inputs})", atol=1e-9, rtol=1e-9,
                      hint=hint)
    if isinstance(converged, torch.Tensor) and converged.numel() == 1:
        converged = bool(converged.item())
    if not isinstance(converged, bool):
        fail(f"{what}[2] (converged) should be a bool, got {type(converged).__name__}")
    expect(converged == ref_converged,
           f"{what} reported converged={converged} for {inputs}; expected {ref_converged}. "
           "converged is True exactly when an epoch made no update")
    return w, b


@exercise("perceptron_train")
def test_perceptron_train_example(student):
    X, y = torch.tensor(PERCEPTRON_X), torch.tensor(PERCEPTRON_Y)
    for epochs in (1, 2, 100):
        _expect_perceptron(student, X, y, 1.0, epochs, "the worked example's data",
                           _("visit the examples in index order and update on "
                             "y[i] * (w·x[i] + b) <= 0"))


@exercise("perceptron_train", weight=2)
def test_perceptron_train_update_sequence(student, gen):
    """After 1, 2, 3 epochs the weights must equal the rule's exact sequence of updates."""
    X = normal(gen, 12, 3)
    y = torch.where(torch.rand(12, generator=gen) < 0.5, -1.0, 1.0).double()
    for epochs in (1, 2, 3):
        _expect_perceptron(student, X, y, 0.5, epochs,
                           f"random float64 X of shape {shape_of(X)}, random labels",
                           _("update at once after each mistake (not after the epoch), in index "
                             "order, w += lr * y[i] * x[i] and b += lr * y[i]"))


@exercise("perceptron_train", weight=2)
def test_perceptron_train_separable(student, gen):
    while True:
        w_star = normal(gen, 3)
        w_star /= w_star.norm()
        X = 2 * normal(gen, 200, 3)
        margin = X @ w_star + 0.5 * normal(gen, 1)
        keep = margin.abs() > 0.3
        X, y = X[keep][:30], torch.sign(margin[keep][:30])
        if ref.perceptron_train(X, y, 1.0, 1000)[2]:
            break
    w, b = _expect_perceptron(student, X, y, 1.0, 1000,
                              f"linearly separable float64 X of shape {shape_of(X)}",
                              _("update on every mistake until an epoch makes none"))
    wrong = int(((X @ w.double() + b) * y <= 0).sum())
    expect(wrong == 0, f"perceptron_train misclassifies {wrong} points of separable data")


@exercise("perceptron_train")
def test_perceptron_train_xor(student):
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([-1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    _expect_perceptron(student, X, y, 1.0, 25, "XOR (not linearly separable)",
                       _("stop after max_epochs epochs and report converged=False"))


# --- relu ----------------------------------------------------------------------------------------


@exercise("relu")
def test_relu_example(student):
    expect_values(student, "relu", ref.relu, torch.tensor([[-1.0, 0.5], [2.0, -3.0]]),
                  inputs="the worked example")


@exercise("relu", weight=2)
def test_relu_values(student, gen):
    X = normal(gen, 3, 4, 5)
    answer = student.call("relu", X, return_args=True)
    expect_tensor(answer["result"], ref.relu(X), what="relu(X)",
                  inputs=f"float64 X of shape {shape_of(X)}",
                  hint=_("max(x, 0) elementwise, keeping X's shape and dtype"))
    expect_tensor(answer["args"][0], X, what="X after relu(X)", inputs="the same X",
                  hint=_("relu must not modify its input in place (no clamp_ or X[X < 0] = 0)"))
    expect_values(student, "relu", ref.relu, normal(gen, 6, 2, dtype=torch.float32))


@exercise("relu")
def test_relu_gradient(student, gen):
    X = away_from(gen, 4, 6)
    expect_gradient(student, "relu", ref.relu, X, wrt=[0], gen=gen,
                    inputs=f"X of shape {shape_of(X)} (no entries near 0)",
                    hint=_("the derivative is 1 for x > 0 and 0 for x < 0"))


# --- mlp -----------------------------------------------------------------------------------------

MLP_NAMES = ["X", "W1", "b1", "W2", "b2"]


def _expect_mlp(student, X, params, inputs, G=None):
    """The student's mlp with torch.relu in place of their relu, against the reference."""
    what = "mlp(X, W1, b1, W2, b2)"
    answer = call_with(student, "mlp", X, *params, swaps={"relu": function("torch.relu")},
                       vjp={"wrt": list(range(5)), "grad_output": G} if G is not None else None,
                       what=what)
    expect_tensor(answer["result"], ref.mlp(X, *params), what=what, inputs=inputs,
                  hint=_("reshape X to (-1, W1.shape[0]), then relu(X @ W1 + b1) @ W2 + b2"))
    if G is not None:
        expect_vjp(answer, ref.mlp, (X, *params), list(range(5)), G, what=what,
                   names=MLP_NAMES, inputs=inputs)


def _mlp_params(gen, num_inputs, num_hiddens, num_outputs):
    return [normal(gen, num_inputs, num_hiddens, scale=0.5), normal(gen, num_hiddens, scale=0.1),
            normal(gen, num_hiddens, num_outputs, scale=0.5), normal(gen, num_outputs, scale=0.1)]


@exercise("mlp")
def test_mlp_example(student):
    X = torch.tensor([[1.0, -1.0, 2.0, 0.5], [0.0, 1.0, -2.0, 1.0]])
    W1 = torch.tensor([[0.5, -0.5, 0.1], [0.2, 0.3, -0.4], [-0.1, 0.6, 0.2], [0.3, 0.0, 0.5]])
    b1 = torch.tensor([0.1, -0.2, 0.0])
    W2 = torch.tensor([[1.0, -1.0], [0.5, 0.5], [-0.3, 0.8]])
    b2 = torch.tensor([0.0, 0.1])
    _expect_mlp(student, X, [W1, b1, W2, b2], "the worked example")


@exercise("mlp", weight=2)
def test_mlp_values(student, gen):
    X = normal(gen, 5, 1, 3, 4)
    _expect_mlp(student, X, _mlp_params(gen, 12, 8, 3),
                f"float64 images X of shape {shape_of(X)}, W1 of shape (12, 8), W2 of shape "
                "(8, 3)")


@exercise("mlp", weight=2)
def test_mlp_gradient(student, gen):
    X = normal(gen, 6, 10)
    _expect_mlp(student, X, _mlp_params(gen, 10, 7, 4), f"float64 X of shape {shape_of(X)}, "
                "hidden size 7", G=normal(gen, 6, 4))


# --- poly_features -------------------------------------------------------------------------------

POLY_HINT = _("column i is x ** i / math.gamma(i + 1), for i = 0, ..., max_degree - 1")


@exercise("poly_features")
def test_poly_features_example(student):
    expect_values(student, "poly_features", ref.poly_features,
                  torch.tensor([0.0, 1.0, 2.0, -1.0]), 4, inputs="the worked example",
                  hint=POLY_HINT)


@exercise("poly_features", weight=2)
def test_poly_features_values(student, gen):
    x = normal(gen, 30)
    expect_values(student, "poly_features", ref.poly_features, x, 20, hint=POLY_HINT)
    expect_values(student, "poly_features", ref.poly_features, x.reshape(-1, 1), 7,
                  inputs="the same x as a column of shape (30, 1)", hint=POLY_HINT)


@exercise("poly_features")
def test_poly_features_gradient(student, gen):
    expect_gradient(student, "poly_features", ref.poly_features, away_from(gen, 8), 5, wrt=[0],
                    gen=gen)


# --- l2_penalty ----------------------------------------------------------------------------------


@exercise("l2_penalty")
def test_l2_penalty_example(student):
    expect_values(student, "l2_penalty", ref.l2_penalty, torch.tensor([1.0, -2.0, 3.0]),
                  inputs="the worked example", hint=_("sum of squares, halved"))


@exercise("l2_penalty")
def test_l2_penalty_values(student, gen):
    expect_values(student, "l2_penalty", ref.l2_penalty, normal(gen, 4, 5),
                  hint=_("sum(w ** 2) / 2 over every element, as a 0-dim tensor"))


@exercise("l2_penalty")
def test_l2_penalty_gradient(student, gen):
    expect_gradient(student, "l2_penalty", ref.l2_penalty, normal(gen, 7, 1), wrt=[0], gen=gen,
                    hint=_("the gradient of ||w||²/2 is w"))


# --- dropout_layer -------------------------------------------------------------------------------


def _expect_dropout(got, X, p, *, what, inputs, alpha=stats.FALSE_FAILURE):
    """Every element of ``got`` must be 0 or x / (1 - p), and the kept count plausible."""
    out = expect_tensor(got, X, what=what, inputs=inputs, atol=math.inf)  # values are random
    kept = out != 0
    scaled = torch.isclose(out, X / (1 - p), rtol=1e-9 if X.dtype == torch.float64 else 1e-5,
                           atol=0)
    bad = kept & ~scaled
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        fail(f"{what}: every element must be either 0 or x / (1 - {p}) (inverted dropout); "
             f"at index {idx} x = {X[idx].item():.6g} gave {out[idx].item():.6g}, expected 0 "
             f"or {X[idx].item() / (1 - p):.6g}")
    stats.expect_count(int(kept.sum()), kept.numel(), 1 - p, what=f"{what} for {inputs}",
                       event=_("kept an element"), alpha=alpha,
                       hint=say(_("drop each element with probability {p} (mask = rand > "
                                  "dropout)")).format(p=p))
    return kept


@exercise("dropout_layer")
def test_dropout_layer_example(student):
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    expect_tensor(student.result("dropout_layer", X, 0.0), X, what="dropout_layer(X, 0.0)",
                  inputs="the worked example", hint=_("dropout 0 keeps X unchanged"))
    expect_tensor(student.result("dropout_layer", X, 1.0), torch.zeros_like(X),
                  what="dropout_layer(X, 1.0)", inputs="the worked example",
                  hint=_("dropout 1 drops everything: return torch.zeros_like(X)"))
    out = expect_tensor(student.result("dropout_layer", X, 0.5, seed=0), X,
                        what="dropout_layer(X, 0.5)", inputs="the worked example",
                        atol=math.inf)  # type, dtype and shape only; values are random
    ok = (out == 0) | torch.isclose(out, 2 * X)
    expect(bool(ok.all()), "dropout_layer(X, 0.5) should give 0 or 2 * x for each element x "
           f"of the worked example; got {out.tolist()}")


@exercise("dropout_layer", weight=2)
def test_dropout_layer_statistics(student, gen, seed):
    # 3 probabilities x 2 halves of X: each half's kept count must be plausible, so a mask
    # that depends on the position (or ignores the probability) fails. Keeping with probability
    # p instead of 1 - p passes p = 0.2 with probability below 1e-300 (stats.binomial_miss_rate).
    X = away_from(gen, 400, 500, margin=0.1)
    alpha = stats.split(stats.FALSE_FAILURE, 6)
    for offset, p in enumerate((0.2, 0.5, 0.8)):
        out = student.result("dropout_layer", X, p, seed=seed + offset)
        what = f"dropout_layer(X, {p})"
        out = expect_tensor(out, X, what=what, inputs=f"float64 X of shape {shape_of(X)}",
                            atol=math.inf)
        for half, rows in (("first", slice(0, 200)), ("second", slice(200, 400))):
            _expect_dropout(out[rows], X[rows], p, what=what,
                            inputs=f"the {half} half of a float64 X of shape {shape_of(X)}",
                            alpha=alpha)


@exercise("dropout_layer")
def test_dropout_layer_float32(student, seed):
    X = torch.ones(200_000)
    _expect_dropout(student.result("dropout_layer", X, 0.3, seed=seed), X, 0.3,
                    what="dropout_layer(X, 0.3)", inputs="float32 X of ones, shape (200000,)")


@exercise("dropout_layer")
def test_dropout_layer_gradient(student, gen, seed):
    X, p = away_from(gen, 60, 50), 0.4
    answer = student.call("dropout_layer", X, p, seed=seed,
                          vjp={"wrt": [0], "grad_output": torch.ones_like(X)})
    inputs = f"float64 X of shape {shape_of(X)}"
    _expect_dropout(answer["result"], X, p, what=f"dropout_layer(X, {p})", inputs=inputs)
    grad = gradient(answer["grads"][0], f"dropout_layer(X, {p})")
    expect_tensor(grad * X, answer["result"], what=f"gradient × X for dropout_layer(X, {p})",
                  inputs="the same call (it must equal the output: both are mask * X / (1 - p))",
                  hint=_("build the output as mask * X / (1 - dropout) so autograd sees the mask"))


@exercise("dropout_layer")
def test_dropout_layer_random_generator(student, seed):
    X = torch.ones(100_000)
    draws = expect_torch_rng(student, "dropout_layer", X, 0.5, seed=seed,
                             what="dropout_layer(X, 0.5)",
                             hint=_("draw the mask with torch's global generator (torch.rand), "
                             "without reseeding it"))
    _expect_dropout(draws[0], X, 0.5, what="dropout_layer(X, 0.5)",
                    inputs="float32 X of ones, shape (100000,)")


@exercise("dropout_layer")
def test_dropout_layer_edge_cases(student, gen):
    X = normal(gen, 5, 7, scale=1e3)
    expect_tensor(student.result("dropout_layer", X, 1.0), torch.zeros_like(X),
                  what="dropout_layer(X, 1.0)", inputs=f"float64 X of shape {shape_of(X)}",
                  hint=_("dropout 1 must return zeros (not 0/0 = nan): handle it separately"))
    expect_tensor(student.result("dropout_layer", X, 0.0), X, what="dropout_layer(X, 0.0)",
                  inputs=f"float64 X of shape {shape_of(X)}", hint=_("dropout 0 returns X"))


# --- DropoutMLP ----------------------------------------------------------------------------------
# torch's dropout stands in for the student's dropout_layer, and torch's generator is seeded
# before each forward pass, in the sandbox and here alike: the grader recomputes the expected
# masks from the seed and never reads masks that the sandbox reports. Same masks, so outputs and
# gradients are compared exactly: a network without dropout, with dropout in evaluation mode or
# with dropout1 and dropout2 swapped fails whatever the seed (unless every hidden unit is zero).


def _dropout_mlp_run(ns, init_args, state_dict, X, G, seed, modes, standin):
    """The student's DropoutMLP in float64 with ``standin`` as dropout_layer: one forward and
    backward pass per mode, the generator seeded before each; calls counted for messages."""
    calls = [0]

    def dropout_layer(X, dropout):
        calls[0] += 1
        return standin(X, dropout)

    with objects.Swap(ns, {"dropout_layer": dropout_layer}):  # noqa: F821 - sandbox scope
        net = ns["DropoutMLP"](*init_args)
        with trusted():  # noqa: F821 - provided by the sandbox's scenario scope
            net.double()
            net.load_state_dict(state_dict)
        results = []
        for mode in modes:
            net.train(mode == "train")
            before = calls[0]
            torch.manual_seed(seed)
            leaf = X.detach().clone().requires_grad_(True)
            out = net(leaf)
            entry = {"output": out, "calls": calls[0] - before, "grads": None}
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == G.shape:
                with trusted():  # noqa: F821
                    net.zero_grad(set_to_none=True)
                    out.backward(G)
                entry["grads"] = {"X": leaf.grad, **{n: p.grad for n, p in net.named_parameters()}}
            results.append(entry)
    return results


def _expected_pass(net, X, G, seed, train):
    """The reference's output and gradients with torch's dropout after ``manual_seed(seed)``."""
    with Swap(vars(ref), {"dropout_layer": nn.functional.dropout}), \
            torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net.train(train)
        leaf = X.clone().requires_grad_(True)
        out = net(leaf)
        net.zero_grad(set_to_none=True)
        out.backward(G)
    return out.detach(), {"X": leaf.grad, **{n: p.grad.clone() for n, p in net.named_parameters()}}


def _expect_dropout_mlp(student, init_args, X, gen, seed, modes, what):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ref.DropoutMLP(*init_args).double()
    G = normal(gen, X.shape[0], init_args[1])
    inputs = f"float64 X of shape {shape_of(X)}, DropoutMLP{init_args}"
    runs = student.scenario(_dropout_mlp_run, init_args, net.state_dict(), X, G, seed, modes,
                            function("torch.nn.functional.dropout"), what=what)
    for mode, entry in zip(modes, runs):
        train = mode == "train"
        expected, grads = _expected_pass(net, X, G, seed, train)
        calls = say(_("it called dropout_layer {calls} times in one pass; expected "
                      "{expected}")).format(
            calls=entry["calls"],
            expected=say(_("2: dropout_layer(H1, self.dropout1), then dropout_layer(H2, "
                           "self.dropout2)")) if train else "0")
        expect_tensor(entry["output"], expected, what=f"DropoutMLP's output after .{mode}()",
                      inputs=inputs,
                      hint=say(_("H1 = relu(lin1(X)), dropout, H2 = relu(lin2(H1)), dropout, "
                                 "then lin3(H2); dropout only when self.training ({calls})"))
                      .format(calls=calls))
        if entry["grads"] is None:
            fail(f"DropoutMLP's output after .{mode}() is not differentiable")
        for name, exp in grads.items():
            got = gradient(entry["grads"].get(name), f"DropoutMLP's output with respect to {name}")
            expect_tensor(got, exp, what=f"the gradient of DropoutMLP's output with respect to "
                          f"{name}", inputs=f"{inputs}, after .{mode}()")


@exercise("DropoutMLP")
def test_DropoutMLP_example(student):
    init_args = (6, 2, 4, 3)
    net = ref.DropoutMLP(*init_args)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape))
    X = torch.tensor([[1.0, -1.0, 0.5, 2.0, 0.0, -0.5], [0.3, 0.2, -1.0, 1.0, 1.5, -2.0]])
    answer = student.module("DropoutMLP", init_args=init_args, state_dict=net.state_dict(),
                            train=False, steps=[{"args": [X]}], what="DropoutMLP(6, 2, 4, 3)")
    net.eval()
    expect_tensor(answer["steps"][0]["output"], net(X).detach(),
                  what="DropoutMLP(6, 2, 4, 3) in evaluation mode", inputs="the worked example",
                  atol=1e-5, rtol=1e-5, hint=_("no dropout in evaluation mode"))


@exercise("DropoutMLP", weight=2)
def test_DropoutMLP_eval(student, gen, seed):
    init_args = (20, 3, 16, 8, 0.3, 0.6)
    _expect_dropout_mlp(student, init_args, normal(gen, 5, 1, 4, 5), gen, seed, ["eval", "eval"],
                        f"DropoutMLP{init_args} in evaluation mode")


@exercise("DropoutMLP", weight=2)
def test_DropoutMLP_train(student, gen, seed):
    init_args = (12, 4, 10, 6, 0.3, 0.6)
    _expect_dropout_mlp(student, init_args, normal(gen, 7, 12), gen, seed, ["train"],
                        f"DropoutMLP{init_args} in training mode")


@exercise("DropoutMLP")
def test_DropoutMLP_mode_switch(student, gen, seed):
    init_args = (8, 2, 6, 5, 0.5, 0.5)
    _expect_dropout_mlp(student, init_args, normal(gen, 4, 8), gen, seed,
                        ["eval", "train", "eval", "train"],
                        "DropoutMLP switched with .eval() and .train()")


# --- xavier_uniform_ and xavier_normal_ ----------------------------------------------------------


def _init_in_place(ns, name, t, gain, seed):
    param = torch.nn.Parameter(t.clone())
    torch.manual_seed(seed)
    returned = ns[name](param, gain)
    plain = t.clone()
    torch.manual_seed(seed)
    ns[name](plain, gain)
    other = t.clone()
    torch.manual_seed(seed + 1)
    ns[name](other, gain)
    return {"same_object": returned is param, "param": param.detach().clone(),
            "is_parameter": isinstance(param, torch.nn.Parameter),
            "requires_grad": param.requires_grad, "plain": plain, "other": other}


def _init_structure(student, name, seed):
    t = torch.zeros(30, 20, dtype=torch.float64)
    got = student.scenario(_init_in_place, name, t, 1.0, seed,
                           what=f"{name}(w) on a zero nn.Parameter w of shape (30, 20)")
    expect(got["same_object"], f"{name}(w) must return w itself (the same tensor object)")
    values = expect_tensor(got["param"], t, what=f"w after {name}(w)", atol=math.inf,
                           inputs="a float64 nn.Parameter of shape (30, 20)")
    expect(bool((values != 0).all()), f"{name}(w) left zeros in w: overwrite every element in "
           "place (e.g. w.uniform_(...) / w.normal_(...) inside torch.no_grad())")
    expect(got["is_parameter"] and got["requires_grad"], f"after {name}(w) w should still be an "
           "nn.Parameter that requires grad")
    plain = expect_tensor(got["plain"], t, what=f"a plain tensor after {name}", atol=math.inf,
                          inputs="a float64 tensor of shape (30, 20)")
    expect(bool((plain == values).all()), f"{name} gave different values after the same "
           "torch.manual_seed: draw from torch's global generator")
    other = expect_tensor(got["other"], t, what=f"{name}(w)", atol=math.inf,
                          inputs="a float64 tensor of shape (30, 20)")
    expect(not bool((other == values).all()), f"{name} gave the same values after different "
           "torch.manual_seed values: draw from torch's global generator without reseeding")


def _init_sample(student, name, shape, gain, seed, dtype=torch.float64):
    t = torch.zeros(*shape, dtype=dtype)
    answer = student.call(name, t, gain, return_args=True, seed=seed)
    what = f"{name}(w, gain={gain:g})"
    inputs = f"w of shape {shape} and dtype {dtype}"
    values = expect_tensor(answer["args"][0], t, what=f"w after {what}", inputs=inputs,
                           atol=math.inf)
    expect(bool((values != 0).any()), f"{what} did not change w: initialise it in place")
    expect_tensor(answer["result"], values, what=f"the value returned by {what}", inputs=inputs,
                  atol=0, rtol=0, hint=_("return the tensor you initialised in place"))
    return values.double().reshape(-1), f"{what} for w of shape {shape}"


def _expect_bound(x, a, what):
    """Every draw in [-a, a]; and both ends reached: a correct sampler leaves (a(1 - 1e-3), a]
    empty in 6e4 draws with probability (1 - 5e-4) ** 6e4 < 1e-13."""
    lo, hi = x.min().item(), x.max().item()
    expect(lo >= -a * (1 + 1e-6) and hi <= a * (1 + 1e-6),
           f"{what} drew values in [{lo:.5f}, {hi:.5f}]; expected U(-a, a) with a = gain · "
           f"sqrt(6 / (fan_in + fan_out)) = {a:.5f}")
    expect(lo < -a * (1 - 1e-3) and hi > a * (1 - 1e-3),
           f"{what} drew values in [{lo:.5f}, {hi:.5f}]; U(-a, a) with a = {a:.5f} reaches both "
           "ends")


def _uniform_sample(student, shape, gain, seed, dtype=torch.float64):
    x, what = _init_sample(student, "xavier_uniform_", shape, gain, seed, dtype)
    a = gain * math.sqrt(6 / sum(shape))
    _expect_bound(x, a, what)
    stats.expect_std(x, a / math.sqrt(3), what=what, kurtosis=1.8,
                     hint=_("a² / 3 = gain² · 2 / (fan_in + fan_out)"))
    return x, a, what


def _normal_sample(student, shape, gain, seed, dtype=torch.float64):
    x, what = _init_sample(student, "xavier_normal_", shape, gain, seed, dtype)
    std = gain * math.sqrt(2 / sum(shape))
    stats.expect_std(x, std, what=what,
                     hint=_("std = gain · sqrt(2 / (fan_in + fan_out)), not its square"))
    return x, std, what


@exercise("xavier_uniform_")
def test_xavier_uniform__example(student):
    _uniform_sample(student, (300, 200), 1.0, 0, torch.float32)


@exercise("xavier_uniform_")
def test_xavier_uniform__in_place(student, seed):
    _init_structure(student, "xavier_uniform_", seed)


@exercise("xavier_uniform_", weight=2)
def test_xavier_uniform__distribution(student, seed):
    x, a, what = _uniform_sample(student, (300, 200), 1.0, seed)
    stats.expect_mean(x, 0.0, a / math.sqrt(3), what=what)


@exercise("xavier_uniform_")
def test_xavier_uniform__gain(student, seed):
    _uniform_sample(student, (100, 600), 2.0, seed, torch.float32)


@exercise("xavier_normal_")
def test_xavier_normal__example(student):
    _normal_sample(student, (300, 200), 1.0, 0, torch.float32)


@exercise("xavier_normal_")
def test_xavier_normal__in_place(student, seed):
    _init_structure(student, "xavier_normal_", seed)


@exercise("xavier_normal_", weight=2)
def test_xavier_normal__distribution(student, seed):
    # Uniform draws of the right variance are 0.057 away from the normal CDF: they pass the KS
    # bound at n = 6e4 with probability below 1e-100 (stats.ks_miss_rate).
    x, std, what = _normal_sample(student, (200, 300), 1.0, seed)
    stats.expect_mean(x, 0.0, std, what=what)
    stats.expect_distribution(x, scipy.stats.norm(0, std).cdf, what=what,
                              name=f"N(0, {std:.5f}²)", hint=_("draw from a normal distribution "
                              "(w.normal_(0, std)), not a uniform one"))


@exercise("xavier_normal_")
def test_xavier_normal__gain(student, seed):
    _normal_sample(student, (500, 120), math.sqrt(2), seed, torch.float32)


# --- log_rmse ------------------------------------------------------------------------------------


def _log_rmse(student, weight, bias, features, labels, inputs, hint, expect_result=expect_number):
    net = build_module([["linear", weight.shape[1], 1]],
                       {"net.0.weight": weight, "net.0.bias": bias})
    got = student.result("log_rmse", module_spec(net, key=None), features, labels)
    expect_result(got, ref.log_rmse(net, features, labels),
                  what=f"log_rmse(net, features, labels) ({inputs})", atol=1e-6, rtol=1e-5,
                  hint=hint)


@exercise("log_rmse")
def test_log_rmse_example(student):
    features = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, -1.0], [2.0, 0.0]])
    labels = torch.tensor([[5.0], [4.0], [2.0], [5.0]])
    _log_rmse(student, torch.tensor([[1.0, 2.0]]), torch.tensor([3.0]), features, labels,
              "the worked example", _("clamp the predictions to [1, inf) before the log"))


@exercise("log_rmse", weight=2)
def test_log_rmse_values(student, gen):
    features = normal(gen, 64, 5, dtype=torch.float32)
    labels = torch.exp(1.5 + 0.3 * normal(gen, 64, 1, dtype=torch.float32))
    _log_rmse(student, normal(gen, 1, 5, dtype=torch.float32), torch.tensor([4.0]), features,
              labels, "float32 features of shape (64, 5), predictions mostly above 1",
              _("sqrt of the mean of squared differences of logs"))


@exercise("log_rmse")
def test_log_rmse_clamps_small_predictions(student, gen):
    features = normal(gen, 40, 3, dtype=torch.float32)
    labels = torch.exp(torch.rand(40, 1, generator=gen))
    # many predictions are below 1, some negative
    _log_rmse(student, normal(gen, 1, 3, scale=3, dtype=torch.float32), torch.tensor([0.5]),
              features, labels, "predictions below 1 and negative",
              _("torch.clamp(net(features), 1, float('inf')) before taking the log"))


@exercise("log_rmse")
def test_log_rmse_returns_float(student, gen):
    _log_rmse(student, torch.tensor([[0.5, -0.5]]), torch.tensor([3.0]),
              normal(gen, 10, 2, dtype=torch.float32), torch.full((10, 1), 2.0),
              "float32 features of shape (10, 2)", _("return rmse.item(), a Python float, like "
              "the book"), expect_result=expect_float)


# --- get_k_fold_data -----------------------------------------------------------------------------


def _expect_k_fold(student, k, i, X, y, inputs):
    what = f"get_k_fold_data({k}, {i}, X, y)"
    items = sequence(student.result("get_k_fold_data", k, i, X, y), what)
    if len(items) != 4:
        fail(f"{what} returned {len(items)} values; expected (X_train, y_train, X_valid, y_valid)")
    expected = ref.get_k_fold_data(k, i, X, y)
    for label, got, exp in zip(("X_train", "y_train", "X_valid", "y_valid"), items, expected):
        expect_tensor(got, exp, what=f"{label} from {what}", inputs=inputs,
                      hint=say(_("fold_size = n // k = {size}; fold j is rows j*fold_size to "
                                 "(j+1)*fold_size, validation is fold i, training the other "
                                 "folds in order; leftover rows are dropped; return (X_train, "
                                 "y_train, X_valid, y_valid)")).format(size=X.shape[0] // k))


@exercise("get_k_fold_data")
def test_get_k_fold_data_example(student):
    X = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    y = torch.arange(10, dtype=torch.float32)
    _expect_k_fold(student, 3, 1, X, y, "the worked example (n = 10, k = 3)")


@exercise("get_k_fold_data", weight=2)
def test_get_k_fold_data_every_fold(student, gen):
    X, y = normal(gen, 23, 4), normal(gen, 23)
    for i in range(5):
        _expect_k_fold(student, 5, i, X, y, f"float64 X of shape {shape_of(X)}, y of shape "
                       f"{shape_of(y)} (23 rows, 3 left over)")


@exercise("get_k_fold_data")
def test_get_k_fold_data_column_labels(student, gen):
    X, y = normal(gen, 20, 3), normal(gen, 20, 1)
    for i in (0, 3):
        _expect_k_fold(student, 4, i, X, y, f"X of shape {shape_of(X)}, y of shape "
                       f"{shape_of(y)} (n divisible by k)")
