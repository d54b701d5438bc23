"""Hidden checks for ch04, Multilayer perceptrons."""

import math

import torch
from torch import nn

import solutions.ch04 as ref
from grader.engine.compare import (
    expect,
    expect_number,
    expect_tensor,
    expect_vjp,
    fail,
    gradient,
    number,
    sequence,
    shape_of,
    tensor,
)
from grader.engine.plugin import Exercise, exercise

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

# Statistical checks. Each statistic below is tested at Z = 5.5 standard deviations (two-sided
# normal tail 3.8e-8), or has a smaller stated failure probability. The chapter has 15 such
# statistics (dropout_layer 8, xavier_uniform_ 3, xavier_normal_ 4), so a correct submission
# fails one of them with probability below 15 * 4e-8 = 6e-7 < 1e-6. The counts are at least
# 6e4 per statistic, so the normal approximation of the binomial and moment estimates is sound.
Z = 5.5


def _f64(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _away_from_zero(gen, *shape):
    """Values with |x| in [0.1, 1.1): no kinks of relu, no zeros to hide a mask."""
    sign = torch.where(torch.rand(*shape, generator=gen) < 0.5, -1.0, 1.0).double()
    return sign * (0.1 + torch.rand(*shape, generator=gen, dtype=torch.float64))


# --- perceptron_train ----------------------------------------------------------------------------

PERCEPTRON_X = [[2.0, 1.0], [1.0, 3.0], [-1.0, -1.0], [-2.0, 1.0], [0.5, -2.0], [3.0, -1.0]]
PERCEPTRON_Y = [1.0, 1.0, -1.0, -1.0, -1.0, 1.0]


def _perceptron_result(value, what):
    items = sequence(value, what)
    if len(items) != 3:
        fail(f"{what} returned {len(items)} values; expected (w, b, converged)")
    w = tensor(items[0], f"{what}[0] (w)")
    b = number(items[1], f"{what}[1] (b)")
    converged = items[2]
    if isinstance(converged, torch.Tensor) and converged.numel() == 1:
        converged = bool(converged.item())
    if not isinstance(converged, bool):
        fail(f"{what}[2] (converged) should be a bool, got {type(converged).__name__}")
    return w, b, converged


def _expect_perceptron(student, X, y, lr, max_epochs, inputs, hint):
    what = f"perceptron_train(X, y, lr={lr}, max_epochs={max_epochs})"
    w, b, converged = _perceptron_result(student.result("perceptron_train", X, y, lr, max_epochs),
                                         what)
    ref_w, ref_b, ref_converged = ref.perceptron_train(X, y, lr, max_epochs)
    expect_tensor(w, ref_w, what=f"w from {what}", inputs=inputs, atol=1e-9, rtol=1e-9,
                  hint=hint)
    expect_number(b, ref_b.item(), what=f"b from {what} ({inputs})", atol=1e-9, rtol=1e-9,
                  hint=hint)
    expect(converged == ref_converged,
           f"{what} reported converged={converged} for {inputs}; expected {ref_converged}. "
           "converged is True exactly when an epoch made no update")
    return w, b, converged


@exercise("perceptron_train")
def test_perceptron_train_example(student):
    X, y = torch.tensor(PERCEPTRON_X), torch.tensor(PERCEPTRON_Y)
    for epochs in (1, 2, 100):
        _expect_perceptron(student, X, y, 1.0, epochs, "the worked example's data",
                           "visit the examples in index order and update on "
                           "y[i] * (w·x[i] + b) <= 0")


@exercise("perceptron_train", weight=2)
def test_perceptron_train_update_sequence(student, gen):
    """After 1, 2, 3 epochs the weights must equal the rule's exact sequence of updates."""
    X = _f64(gen, 12, 3)
    y = torch.where(torch.rand(12, generator=gen) < 0.5, -1.0, 1.0).double()
    for epochs in (1, 2, 3):
        _expect_perceptron(student, X, y, 0.5, epochs,
                           f"random float64 X of shape {shape_of(X)}, random labels",
                           "update at once after each mistake (not after the epoch), in index "
                           "order, w += lr * y[i] * x[i] and b += lr * y[i]")


@exercise("perceptron_train", weight=2)
def test_perceptron_train_separable(student, gen):
    d = 3
    while True:
        w_star = _f64(gen, d)
        w_star /= w_star.norm()
        b_star = 0.5 * torch.randn((), generator=gen, dtype=torch.float64)
        X = 2 * _f64(gen, 200, d)
        margin = X @ w_star + b_star
        keep = margin.abs() > 0.3
        X, y = X[keep][:30], torch.sign(margin[keep][:30])
        if ref.perceptron_train(X, y, 1.0, 1000)[2]:
            break
    inputs = f"linearly separable float64 X of shape {shape_of(X)}"
    w, b, converged = _expect_perceptron(student, X, y, 1.0, 1000, inputs,
                                         "update on every mistake until an epoch makes none")
    wrong = int(((X @ w.double() + b) * y <= 0).sum())
    expect(wrong == 0, f"perceptron_train misclassifies {wrong} points of separable data")


@exercise("perceptron_train")
def test_perceptron_train_xor(student):
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([-1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    _expect_perceptron(student, X, y, 1.0, 25, "XOR (not linearly separable)",
                       "stop after max_epochs epochs and report converged=False")


# --- relu ----------------------------------------------------------------------------------------


@exercise("relu")
def test_relu_example(student):
    X = torch.tensor([[-1.0, 0.5], [2.0, -3.0]])
    expect_tensor(student.result("relu", X), ref.relu(X), what="relu(X)",
                  inputs="the worked example")


@exercise("relu", weight=2)
def test_relu_values(student, gen):
    X = _f64(gen, 3, 4, 5)
    answer = student.call("relu", X, return_args=True)
    expect_tensor(answer["result"], ref.relu(X), what="relu(X)",
                  inputs=f"float64 X of shape {shape_of(X)}",
                  hint="max(x, 0) elementwise, keeping X's shape and dtype")
    expect_tensor(answer["args"][0], X, what="X after relu(X)", inputs="the same X",
                  hint="relu must not modify its input in place (no clamp_ or X[X < 0] = 0)")
    X32 = torch.randn(6, 2, generator=gen)
    expect_tensor(student.result("relu", X32), ref.relu(X32), what="relu(X)",
                  inputs=f"float32 X of shape {shape_of(X32)}")


@exercise("relu")
def test_relu_gradient(student, gen):
    X = _away_from_zero(gen, 4, 6)
    G = _f64(gen, 4, 6)
    answer = student.call("relu", X, vjp={"wrt": [0], "grad_output": G})
    grad = gradient(answer["grads"][0], "relu(X)")
    expect_tensor(grad, torch.where(X > 0, G, torch.zeros_like(G)),
                  what="the gradient of relu(X)", inputs=f"X of shape {shape_of(X)} "
                  "(no entries near 0)", hint="the derivative is 1 for x > 0 and 0 for x < 0")


# --- mlp -----------------------------------------------------------------------------------------


def _mlp_run(ns, X, params, G):
    """Call the student's mlp with a reference relu in place of theirs; return output, grads."""
    import torch

    def reference_relu(X):
        return torch.clamp(X, min=0)

    had, saved = "relu" in ns, ns.get("relu")
    ns["relu"] = reference_relu
    try:
        leaves = [t.detach().clone().requires_grad_(True) for t in [X, *params]]
        out = ns["mlp"](*leaves)
        grads = None
        if (G is not None and isinstance(out, torch.Tensor) and out.requires_grad
                and out.shape == G.shape):
            with trusted():  # noqa: F821 - provided by the sandbox's scenario scope
                grads = list(torch.autograd.grad(out, leaves, G, allow_unused=True))
        return {"output": out, "grads": grads}
    finally:
        if had:
            ns["relu"] = saved
        else:
            del ns["relu"]


def _mlp_params(gen, num_inputs, num_hiddens, num_outputs):
    return [0.5 * _f64(gen, num_inputs, num_hiddens), 0.1 * _f64(gen, num_hiddens),
            0.5 * _f64(gen, num_hiddens, num_outputs), 0.1 * _f64(gen, num_outputs)]


@exercise("mlp")
def test_mlp_example(student):
    X = torch.tensor([[1.0, -1.0, 2.0, 0.5], [0.0, 1.0, -2.0, 1.0]])
    W1 = torch.tensor([[0.5, -0.5, 0.1], [0.2, 0.3, -0.4], [-0.1, 0.6, 0.2], [0.3, 0.0, 0.5]])
    b1 = torch.tensor([0.1, -0.2, 0.0])
    W2 = torch.tensor([[1.0, -1.0], [0.5, 0.5], [-0.3, 0.8]])
    b2 = torch.tensor([0.0, 0.1])
    answer = student.scenario(_mlp_run, X, [W1, b1, W2, b2], None, what="mlp(X, W1, b1, W2, b2)")
    expect_tensor(answer["output"], ref.mlp(X, W1, b1, W2, b2), what="mlp(X, W1, b1, W2, b2)",
                  inputs="the worked example")


@exercise("mlp", weight=2)
def test_mlp_values(student, gen):
    X = _f64(gen, 5, 1, 3, 4)
    params = _mlp_params(gen, 12, 8, 3)
    answer = student.scenario(_mlp_run, X, params, None, what="mlp(X, W1, b1, W2, b2)")
    expect_tensor(answer["output"], ref.mlp(X, *params), what="mlp(X, W1, b1, W2, b2)",
                  inputs=f"float64 images X of shape {shape_of(X)}, W1 of shape (12, 8), "
                  "W2 of shape (8, 3)",
                  hint="reshape X to (-1, W1.shape[0]), then relu(X @ W1 + b1) @ W2 + b2")


@exercise("mlp", weight=2)
def test_mlp_gradient(student, gen):
    X = _f64(gen, 6, 10)
    params = _mlp_params(gen, 10, 7, 4)
    G = _f64(gen, 6, 4)
    answer = student.scenario(_mlp_run, X, params, G, what="mlp(X, W1, b1, W2, b2)")
    expected_out = ref.mlp(X, *params)
    expect_tensor(answer["output"], expected_out, what="mlp(X, W1, b1, W2, b2)",
                  inputs=f"float64 X of shape {shape_of(X)}")
    grads = answer["grads"]
    if grads is None:
        fail("mlp(X, W1, b1, W2, b2) is not differentiable with respect to its parameters")
    leaves = [t.clone().requires_grad_(True) for t in [X, *params]]
    expected = torch.autograd.grad(ref.mlp(*leaves), leaves, G)
    for name, got, exp in zip(("X", "W1", "b1", "W2", "b2"), grads, expected):
        gradient(got, f"mlp with respect to {name}")
        expect_tensor(got, exp, what=f"the gradient of mlp(...) with respect to {name}",
                      inputs=f"X of shape {shape_of(X)}, hidden size 7")


# --- poly_features -------------------------------------------------------------------------------


def _expect_poly(student, x, max_degree, inputs):
    expect_tensor(student.result("poly_features", x, max_degree), ref.poly_features(x, max_degree),
                  what=f"poly_features(x, {max_degree})", inputs=inputs,
                  hint="column i is x ** i / math.gamma(i + 1), for i = 0, ..., max_degree - 1")


@exercise("poly_features")
def test_poly_features_example(student):
    _expect_poly(student, torch.tensor([0.0, 1.0, 2.0, -1.0]), 4, "the worked example")


@exercise("poly_features", weight=2)
def test_poly_features_values(student, gen):
    x = _f64(gen, 30)
    _expect_poly(student, x, 20, f"float64 x of shape {shape_of(x)}")
    _expect_poly(student, x.reshape(-1, 1), 7, "the same x as a column of shape (30, 1)")


@exercise("poly_features")
def test_poly_features_gradient(student, gen):
    x = _away_from_zero(gen, 8)
    G = _f64(gen, 8, 5)
    answer = student.call("poly_features", x, 5, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.poly_features, (x, 5), [0], G, what="poly_features(x, 5)",
               names="x", inputs=f"x of shape {shape_of(x)}")


# --- l2_penalty ----------------------------------------------------------------------------------


@exercise("l2_penalty")
def test_l2_penalty_example(student):
    w = torch.tensor([1.0, -2.0, 3.0])
    expect_tensor(student.result("l2_penalty", w), ref.l2_penalty(w), what="l2_penalty(w)",
                  inputs="the worked example", hint="sum of squares, halved")


@exercise("l2_penalty")
def test_l2_penalty_values(student, gen):
    w = _f64(gen, 4, 5)
    expect_tensor(student.result("l2_penalty", w), ref.l2_penalty(w), what="l2_penalty(w)",
                  inputs=f"float64 w of shape {shape_of(w)}",
                  hint="sum(w ** 2) / 2 over every element, as a 0-dim tensor")


@exercise("l2_penalty")
def test_l2_penalty_gradient(student, gen):
    w = _f64(gen, 7, 1)
    answer = student.call("l2_penalty", w, vjp={"wrt": [0], "grad_output": torch.tensor(
        1.0, dtype=torch.float64)})
    grad = gradient(answer["grads"][0], "l2_penalty(w)")
    expect_tensor(grad, w, what="the gradient of l2_penalty(w)",
                  inputs=f"w of shape {shape_of(w)}", hint="the gradient of ||w||²/2 is w")


# --- dropout_layer -------------------------------------------------------------------------------


def _kept_fraction_ok(kept: torch.Tensor, keep: float) -> tuple[bool, float, float]:
    n = kept.numel()
    frac = kept.double().mean().item()
    return abs(frac - keep) <= Z * math.sqrt(keep * (1 - keep) / n), frac, n


@exercise("dropout_layer")
def test_dropout_layer_example(student):
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    expect_tensor(student.result("dropout_layer", X, 0.0), X, what="dropout_layer(X, 0.0)",
                  inputs="the worked example", hint="dropout 0 keeps X unchanged")
    expect_tensor(student.result("dropout_layer", X, 1.0), torch.zeros_like(X),
                  what="dropout_layer(X, 1.0)", inputs="the worked example",
                  hint="dropout 1 drops everything: return torch.zeros_like(X)")
    out = expect_tensor(student.result("dropout_layer", X, 0.5, seed=0), X,
                        what="dropout_layer(X, 0.5)", inputs="the worked example",
                        atol=math.inf)  # type, dtype and shape only; values are random
    ok = (out == 0) | torch.isclose(out, 2 * X)
    expect(bool(ok.all()), "dropout_layer(X, 0.5) should give 0 or 2 * x for each element x "
           f"of the worked example; got {out.tolist()}")


@exercise("dropout_layer", weight=2)
def test_dropout_layer_statistics(student, gen, seed):
    # 3 probabilities x 2 statistics (overall kept fraction, first half vs second half).
    X = _away_from_zero(gen, 400, 500)
    for offset, p in enumerate((0.2, 0.5, 0.8)):
        what = f"dropout_layer(X, {p})"
        inputs = f"float64 X of shape {shape_of(X)} without zeros"
        out = expect_tensor(student.result("dropout_layer", X, p, seed=seed + offset),
                            X, what=what, inputs=inputs, atol=math.inf)
        kept = out != 0
        scaled = torch.isclose(out, X / (1 - p), rtol=1e-9, atol=0)
        bad = ~(scaled | ~kept)
        if bad.any():
            idx = tuple(int(i) for i in bad.nonzero()[0])
            fail(f"{what}: every element must be either 0 or x / (1 - {p}) (inverted dropout); "
                 f"at index {idx} x = {X[idx].item():.6g} gave {out[idx].item():.6g}, expected 0 "
                 f"or {X[idx].item() / (1 - p):.6g}")
        ok, frac, n = _kept_fraction_ok(kept, 1 - p)
        expect(ok, f"{what} kept {frac:.4f} of {n} elements; expected about {1 - p:.4f}: each "
               f"element is dropped with probability {p} (mask = rand > dropout)")
        flat = kept.reshape(-1)
        half = flat.numel() // 2
        diff = flat[:half].double().mean().item() - flat[half:].double().mean().item()
        limit = Z * math.sqrt(2 * p * (1 - p) / half)
        expect(abs(diff) <= limit, f"{what} keeps different fractions of the first and second "
               f"halves of X (difference {diff:.4f}); each element must be dropped independently "
               "with the same probability")


@exercise("dropout_layer")
def test_dropout_layer_mean(student, seed):
    # One statistic: the mean of 2e5 independent values mask / (1 - p) has sd sqrt(p/((1-p) n)).
    n, p = 200_000, 0.3
    X = torch.ones(n)
    out = expect_tensor(student.result("dropout_layer", X, p, seed=seed), X,
                        what=f"dropout_layer(X, {p})", inputs=f"float32 X of ones, shape ({n},)",
                        atol=math.inf)
    mean = out.double().mean().item()
    expect(abs(mean - 1) <= Z * math.sqrt(p / ((1 - p) * n)),
           f"dropout_layer(X, {p}) on ones has mean {mean:.4f}; inverted dropout keeps the mean "
           "at 1 (divide the kept values by 1 - dropout)")


@exercise("dropout_layer")
def test_dropout_layer_gradient(student, gen, seed):
    X = _away_from_zero(gen, 60, 50)
    p = 0.4
    answer = student.call("dropout_layer", X, p, seed=seed,
                          vjp={"wrt": [0], "grad_output": torch.ones_like(X)})
    out = expect_tensor(answer["result"], X, what=f"dropout_layer(X, {p})",
                        inputs=f"float64 X of shape {shape_of(X)}", atol=math.inf)
    grad = gradient(answer["grads"][0], f"dropout_layer(X, {p})")
    expect_tensor(grad, X, what=f"the gradient of dropout_layer(X, {p})", atol=math.inf,
                  inputs=f"X of shape {shape_of(X)}")
    expect_tensor(grad * X, out, what=f"gradient × X for dropout_layer(X, {p})",
                  inputs="the same call (it must equal the output: both are mask * X / (1 - p))",
                  hint="build the output as mask * X / (1 - dropout) so autograd sees the mask")
    levels = torch.isclose(grad, torch.zeros_like(grad)) | torch.isclose(
        grad, torch.full_like(grad, 1 / (1 - p)))
    expect(bool(levels.all()), f"the gradient of dropout_layer(X, {p}) should be 0 or "
           f"1 / (1 - {p}) elementwise")


def _dropout_rng(ns, n, p, seed):
    import torch

    X = torch.ones(n)
    torch.manual_seed(seed)
    first = ns["dropout_layer"](X, p)
    second = ns["dropout_layer"](X, p)
    torch.manual_seed(seed)
    again = ns["dropout_layer"](X, p)
    torch.manual_seed(seed + 1)
    other = ns["dropout_layer"](X, p)
    return {"first": first, "second": second, "again": again, "other": other}


@exercise("dropout_layer")
def test_dropout_layer_random_generator(student, seed):
    # One statistic: the overlap of two masks (each element kept by both with probability 1/4).
    n, p = 100_000, 0.5
    got = student.scenario(_dropout_rng, n, p, seed, what=f"dropout_layer(X, {p}) called "
                           "repeatedly")
    masks = {k: tensor(v, "dropout_layer(X, 0.5)") != 0 for k, v in got.items()}
    expect(bool((masks["first"] == masks["again"]).all()),
           "dropout_layer gave different masks after the same torch.manual_seed: draw the mask "
           "with torch's global generator (torch.rand), not numpy/random or your own generator")
    expect(not bool((masks["first"] == masks["other"]).all()),
           "dropout_layer gave the same mask after different torch.manual_seed values: draw it "
           "from torch's global generator, without reseeding it")
    expect(not bool((masks["first"] == masks["second"]).all()),
           "two successive calls of dropout_layer gave the same mask: draw a fresh one each call")
    both = (masks["first"] & masks["second"]).double().mean().item()
    expect(abs(both - 0.25) <= Z * math.sqrt(0.25 * 0.75 / n),
           f"two successive masks both keep {both:.4f} of the elements; independent masks with "
           "dropout 0.5 both keep about 0.25")


@exercise("dropout_layer")
def test_dropout_layer_edge_cases(student, gen):
    X = _f64(gen, 5, 7) * 1e3
    expect_tensor(student.result("dropout_layer", X, 1.0), torch.zeros_like(X),
                  what="dropout_layer(X, 1.0)", inputs=f"float64 X of shape {shape_of(X)}",
                  hint="dropout 1 must return zeros (not 0/0 = nan): handle it separately")
    expect_tensor(student.result("dropout_layer", X, 0.0), X, what="dropout_layer(X, 0.0)",
                  inputs=f"float64 X of shape {shape_of(X)}", hint="dropout 0 returns X")


# --- DropoutMLP ----------------------------------------------------------------------------------


def _dropout_mlp_run(ns, init_args, state_dict, X, G, seed, modes):
    """Run the student's DropoutMLP with a recording reference dropout_layer in place of theirs."""
    import torch

    torch.manual_seed(seed)
    calls = []

    def dropout_layer(X, dropout):
        mask = (torch.rand(X.shape, dtype=X.dtype) > dropout).to(X.dtype)
        calls.append({"dropout": float(dropout), "shape": list(X.shape), "mask": mask})
        return mask * X / (1.0 - dropout)

    had, saved = "dropout_layer" in ns, ns.get("dropout_layer")
    ns["dropout_layer"] = dropout_layer
    try:
        net = ns["DropoutMLP"](*init_args)
        with trusted():  # noqa: F821 - provided by the sandbox's scenario scope
            net.double()
            net.load_state_dict(state_dict)
        results = []
        for mode in modes:
            net.train(mode == "train")
            start = len(calls)
            Xl = X.detach().clone().requires_grad_(True)
            out = net(Xl)
            entry = {"mode": mode, "output": out, "calls": calls[start:], "grads": None}
            if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == G.shape:
                with trusted():  # noqa: F821
                    net.zero_grad(set_to_none=True)
                    out.backward(G)
                entry["grads"] = {"X": Xl.grad,
                                  **{n: p.grad for n, p in net.named_parameters()}}
            results.append(entry)
        return results
    finally:
        if had:
            ns["dropout_layer"] = saved
        else:
            del ns["dropout_layer"]


def _reference_dropout_mlp(init_args, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    net = ref.DropoutMLP(*init_args).to(dtype)
    return net


def _reference_run(net, X, G, masks, train):
    """The reference output and gradients, with dropout masks replayed from the student's run."""
    replay = iter(masks)

    def replayed(H, dropout):
        return next(replay) * H / (1.0 - dropout)

    saved = ref.dropout_layer
    ref.dropout_layer = replayed
    try:
        net.train(train)
        Xl = X.clone().requires_grad_(True)
        out = net(Xl)
        net.zero_grad(set_to_none=True)
        out.backward(G)
        grads = {"X": Xl.grad, **{n: p.grad.clone() for n, p in net.named_parameters()}}
        return out.detach(), grads
    finally:
        ref.dropout_layer = saved


def _expect_mlp_step(entry, net, X, G, masks, train, inputs):
    mode = "training" if train else "evaluation"
    exp_out, exp_grads = _reference_run(net, X, G, masks, train)
    expect_tensor(entry["output"], exp_out, what=f"DropoutMLP's output in {mode} mode",
                  inputs=inputs, hint="H1 = relu(lin1(X)), dropout, H2 = relu(lin2(H1)), "
                  "dropout, then lin3(H2); dropout only when self.training")
    if entry["grads"] is None:
        fail(f"DropoutMLP's output in {mode} mode is not differentiable")
    for name, exp in exp_grads.items():
        got = entry["grads"].get(name)
        gradient(got, f"DropoutMLP's output with respect to {name}")
        expect_tensor(got, exp, what=f"the gradient of DropoutMLP's output with respect to {name}",
                      inputs=f"{inputs}, {mode} mode")


@exercise("DropoutMLP")
def test_DropoutMLP_example(student):
    init_args = (6, 2, 4, 3)
    net = ref.DropoutMLP(*init_args)
    _example_weights(net)
    X = torch.tensor([[1.0, -1.0, 0.5, 2.0, 0.0, -0.5], [0.3, 0.2, -1.0, 1.0, 1.5, -2.0]])
    answer = student.module("DropoutMLP", init_args=init_args, state_dict=net.state_dict(),
                            train=False, steps=[{"args": [X]}], what="DropoutMLP(6, 2, 4, 3)")
    expect(answer["param_names"] == [n for n, _ in net.named_parameters()],
           f"DropoutMLP's parameters are {answer['param_names']}; keep the given __init__ "
           "(lin1, lin2, lin3)")
    net.eval()
    expect_tensor(answer["steps"][0]["output"], net(X).detach(),
                  what="DropoutMLP(6, 2, 4, 3) in evaluation mode", inputs="the worked example",
                  atol=1e-5, rtol=1e-5, hint="no dropout in evaluation mode")


def _example_weights(net):
    """The worked example's parameters: evenly spaced values in [-1, 1], set in order."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape))


@exercise("DropoutMLP", weight=2)
def test_DropoutMLP_eval(student, gen, seed):
    init_args = (20, 3, 16, 8, 0.3, 0.6)
    net = _reference_dropout_mlp(init_args, seed)
    X, G = _f64(gen, 5, 1, 4, 5), _f64(gen, 5, 3)
    inputs = f"float64 X of shape {shape_of(X)}, DropoutMLP{init_args}"
    runs = student.scenario(_dropout_mlp_run, init_args, net.state_dict(), X, G, seed,
                            ["eval", "eval"], what=f"DropoutMLP{init_args} in evaluation mode")
    for entry in runs:
        expect(len(entry["calls"]) == 0, "DropoutMLP called dropout_layer in evaluation mode; "
               "apply dropout only when self.training is True")
        _expect_mlp_step(entry, net, X, G, [], False, inputs)


@exercise("DropoutMLP", weight=2)
def test_DropoutMLP_train(student, gen, seed):
    init_args = (12, 4, 10, 6, 0.3, 0.6)
    net = _reference_dropout_mlp(init_args, seed)
    X, G = _f64(gen, 7, 12), _f64(gen, 7, 4)
    inputs = f"float64 X of shape {shape_of(X)}, DropoutMLP{init_args}"
    (entry,) = student.scenario(_dropout_mlp_run, init_args, net.state_dict(), X, G, seed,
                                ["train"], what=f"DropoutMLP{init_args} in training mode")
    calls = [(c["dropout"], c["shape"]) for c in entry["calls"]]
    expected = [(0.3, [7, 10]), (0.6, [7, 6])]
    expect(calls == expected,
           f"in training mode DropoutMLP{init_args} called dropout_layer with (dropout, shape of "
           f"its input) = {calls}; expected {expected}: dropout self.dropout1 on the first hidden "
           "layer's activations and self.dropout2 on the second's, once each")
    _expect_mlp_step(entry, net, X, G, [c["mask"] for c in entry["calls"]], True, inputs)


@exercise("DropoutMLP")
def test_DropoutMLP_mode_switch(student, gen, seed):
    init_args = (8, 2, 6, 5, 0.5, 0.5)
    net = _reference_dropout_mlp(init_args, seed)
    X, G = _f64(gen, 4, 8), _f64(gen, 4, 2)
    inputs = f"float64 X of shape {shape_of(X)}, DropoutMLP{init_args}"
    runs = student.scenario(_dropout_mlp_run, init_args, net.state_dict(), X, G, seed,
                            ["eval", "train", "eval", "train"],
                            what="DropoutMLP switched with .eval() and .train()")
    for entry in runs:
        train = entry["mode"] == "train"
        n = len(entry["calls"])
        expect(n == (2 if train else 0),
               f"after .{'train' if train else 'eval'}() DropoutMLP called dropout_layer {n} "
               f"times in one forward pass; expected {2 if train else 0} (use self.training, "
               "which .train() and .eval() switch)")
        _expect_mlp_step(entry, net, X, G, [c["mask"] for c in entry["calls"]], train, inputs)


# --- xavier_uniform_ and xavier_normal_ ----------------------------------------------------------


def _init_in_place(ns, name, t, gain, seed):
    import torch

    param = torch.nn.Parameter(t.clone())
    torch.manual_seed(seed)
    returned = ns[name](param, gain)
    plain = t.clone()
    torch.manual_seed(seed)
    ns[name](plain, gain)
    torch.manual_seed(seed + 1)
    other = ns[name](t.clone(), gain)
    return {"same_object": returned is param, "param": param.detach().clone(),
            "is_parameter": isinstance(param, torch.nn.Parameter),
            "requires_grad": param.requires_grad, "plain": plain, "other": other}


def _init_structure(student, name, gen, seed):
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
    what = f"{name}(w, gain={gain})"
    inputs = f"w of shape {shape} and dtype {dtype}"
    values = expect_tensor(answer["args"][0], t, what=f"w after {what}", inputs=inputs,
                           atol=math.inf)
    expect(bool((values != 0).any()), f"{what} did not change w: initialise it in place")
    expect_tensor(answer["result"], values, what=f"the value returned by {what}", inputs=inputs,
                  atol=0, rtol=0, hint="return the tensor you initialised in place")
    return values.double().reshape(-1)


def _init_example(student, name, bound=None):
    # The worked example: torch.manual_seed(0), a float32 (300, 200) weight, variance 0.004
    # within 2e-4. The variance estimate's standard deviation is below 2.4e-5 for both
    # distributions, so a correct sampler fails this by more than 8 of them: probability < 1e-15.
    x = _init_sample(student, name, (300, 200), 1.0, 0, dtype=torch.float32)
    var = x.var().item()
    expect(abs(var - 0.004) <= 2e-4 + 1e-4 * 0.004,
           f"{name}(w) on the worked example's (300, 200) weight has variance {var:.6f}; "
           "expected 2 / (fan_in + fan_out) = 0.004")
    if bound is not None:
        expect(x.abs().max().item() <= bound * (1 + 1e-6),
               f"{name}(w) on the worked example's weight drew |w| up to "
               f"{x.abs().max().item():.5f}; expected at most sqrt(6 / 500) = {bound:.5f}")


@exercise("xavier_uniform_")
def test_xavier_uniform__example(student):
    _init_example(student, "xavier_uniform_", math.sqrt(6 / 500))


@exercise("xavier_uniform_")
def test_xavier_uniform__in_place(student, gen, seed):
    _init_structure(student, "xavier_uniform_", gen, seed)


@exercise("xavier_uniform_", weight=2)
def test_xavier_uniform__distribution(student, seed):
    # Two statistics (mean, variance) at Z; the range checks fail for a correct sampler with
    # probability (1 - 5e-4) ** 6e4 < 1e-13 each.
    fan_out, fan_in = 300, 200
    x = _init_sample(student, "xavier_uniform_", (fan_out, fan_in), 1.0, seed)
    n, a = x.numel(), math.sqrt(6 / (fan_in + fan_out))
    what = f"xavier_uniform_(w) for w of shape ({fan_out}, {fan_in})"
    lo, hi = x.min().item(), x.max().item()
    expect(lo >= -a * (1 + 1e-6) and hi <= a * (1 + 1e-6),
           f"{what} drew values in [{lo:.5f}, {hi:.5f}]; expected U(-a, a) with a = "
           f"sqrt(6 / (fan_in + fan_out)) = {a:.5f}")
    expect(lo < -a * (1 - 1e-3) and hi > a * (1 - 1e-3),
           f"{what} drew values in [{lo:.5f}, {hi:.5f}]; U(-a, a) with a = {a:.5f} reaches both "
           "ends")
    mean = x.mean().item()
    expect(abs(mean) <= Z * a / math.sqrt(3 * n), f"{what} has mean {mean:.5f}; expected 0")
    var = (x * x).mean().item()
    expect(abs(var - a * a / 3) <= Z * a * a * math.sqrt(4 / 45 / n),
           f"{what} has variance {var:.6f}; expected a² / 3 = 2 / (fan_in + fan_out) = "
           f"{a * a / 3:.6f}")


@exercise("xavier_uniform_")
def test_xavier_uniform__gain(student, seed):
    # One statistic (variance) at Z.
    fan_out, fan_in, gain = 100, 600, 2.0
    x = _init_sample(student, "xavier_uniform_", (fan_out, fan_in), gain, seed,
                     dtype=torch.float32)
    n, a = x.numel(), gain * math.sqrt(6 / (fan_in + fan_out))
    var = (x * x).mean().item()
    expect(x.abs().max().item() <= a * (1 + 1e-6) and
           abs(var - a * a / 3) <= Z * a * a * math.sqrt(4 / 45 / n),
           f"xavier_uniform_(w, gain={gain}) for w of shape ({fan_out}, {fan_in}) has variance "
           f"{var:.6f} and max |w| {x.abs().max().item():.5f}; expected U(-a, a) with a = gain · "
           f"sqrt(6 / (fan_in + fan_out)) = {a:.5f}, variance {a * a / 3:.6f}")


@exercise("xavier_normal_")
def test_xavier_normal__example(student):
    _init_example(student, "xavier_normal_")


@exercise("xavier_normal_")
def test_xavier_normal__in_place(student, gen, seed):
    _init_structure(student, "xavier_normal_", gen, seed)


@exercise("xavier_normal_", weight=2)
def test_xavier_normal__distribution(student, seed):
    # Three statistics: mean and variance at Z, and a Kolmogorov–Smirnov distance at the
    # Dvoretzky–Kiefer–Wolfowitz bound P(D > t) <= 2 exp(-2 n t²) = 4e-8.
    fan_out, fan_in = 200, 300
    x = _init_sample(student, "xavier_normal_", (fan_out, fan_in), 1.0, seed)
    n, std = x.numel(), math.sqrt(2 / (fan_in + fan_out))
    what = f"xavier_normal_(w) for w of shape ({fan_out}, {fan_in})"
    mean = x.mean().item()
    expect(abs(mean) <= Z * std / math.sqrt(n), f"{what} has mean {mean:.5f}; expected 0")
    var = (x * x).mean().item()
    expect(abs(var / std**2 - 1) <= Z * math.sqrt(2 / n),
           f"{what} has variance {var:.6f}; expected std² = 2 / (fan_in + fan_out) = "
           f"{std**2:.6f} (std = sqrt(2 / (fan_in + fan_out)), not its square)")
    sorted_x, _ = torch.sort(x)
    cdf = torch.special.ndtr(sorted_x / std)
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    distance = torch.maximum(ranks / n - cdf, cdf - (ranks - 1) / n).max().item()
    limit = math.sqrt(math.log(2 / 4e-8) / (2 * n))
    expect(distance <= limit, f"{what} does not look normally distributed: its empirical "
           f"distribution is {distance:.4f} away from N(0, {std:.5f}²) (Kolmogorov–Smirnov); "
           "draw from a normal distribution (w.normal_(0, std))")


@exercise("xavier_normal_")
def test_xavier_normal__gain(student, seed):
    # One statistic (variance) at Z.
    fan_out, fan_in, gain = 500, 120, math.sqrt(2)
    x = _init_sample(student, "xavier_normal_", (fan_out, fan_in), gain, seed,
                     dtype=torch.float32)
    n, std = x.numel(), gain * math.sqrt(2 / (fan_in + fan_out))
    var = (x * x).mean().item()
    expect(abs(var / std**2 - 1) <= Z * math.sqrt(2 / n),
           f"xavier_normal_(w, gain={gain:.4f}) for w of shape ({fan_out}, {fan_in}) has "
           f"variance {var:.6f}; expected (gain · sqrt(2 / (fan_in + fan_out)))² = {std**2:.6f}")


# --- log_rmse ------------------------------------------------------------------------------------


def _linear_net(weight, bias):
    """The grader's trusted net, and the same network in the grader's process."""
    net = nn.Sequential(nn.Linear(weight.shape[1], 1))
    with torch.no_grad():
        net[0].weight.copy_(weight)
        net[0].bias.copy_(bias)
    spec = {"__build__": "module", "layers": [["linear", weight.shape[1], 1]],
            "state_dict": {"net.0.weight": weight.float(), "net.0.bias": bias.float()}}
    return spec, net


def _expect_log_rmse(student, weight, bias, features, labels, inputs, hint):
    spec, net = _linear_net(weight, bias)
    got = student.result("log_rmse", spec, features, labels)
    expected = ref.log_rmse(net, features, labels)
    expect_number(got, expected, what=f"log_rmse(net, features, labels) ({inputs})", atol=1e-6,
                  rtol=1e-5, hint=hint)
    return got


@exercise("log_rmse")
def test_log_rmse_example(student):
    features = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, -1.0], [2.0, 0.0]])
    labels = torch.tensor([[5.0], [4.0], [2.0], [5.0]])
    _expect_log_rmse(student, torch.tensor([[1.0, 2.0]]), torch.tensor([3.0]), features, labels,
                     "the worked example", "clamp the predictions to [1, inf) before the log")


@exercise("log_rmse", weight=2)
def test_log_rmse_values(student, gen):
    n, d = 64, 5
    features = torch.randn(n, d, generator=gen)
    weight = torch.randn(1, d, generator=gen)
    bias = torch.tensor([4.0])
    labels = torch.exp(1.5 + 0.3 * torch.randn(n, 1, generator=gen))
    _expect_log_rmse(student, weight, bias, features, labels,
                     f"float32 features of shape ({n}, {d}), predictions mostly above 1",
                     "sqrt of the mean of squared differences of logs")


@exercise("log_rmse")
def test_log_rmse_clamps_small_predictions(student, gen):
    n, d = 40, 3
    features = torch.randn(n, d, generator=gen)
    weight = 3 * torch.randn(1, d, generator=gen)
    bias = torch.tensor([0.5])  # many predictions are below 1, some negative
    labels = torch.exp(torch.rand(n, 1, generator=gen))
    _expect_log_rmse(student, weight, bias, features, labels,
                     "predictions below 1 and negative",
                     "torch.clamp(net(features), 1, float('inf')) before taking the log")


@exercise("log_rmse")
def test_log_rmse_returns_float(student, gen):
    features = torch.randn(10, 2, generator=gen)
    spec, _ = _linear_net(torch.tensor([[0.5, -0.5]]), torch.tensor([3.0]))
    got = student.result("log_rmse", spec, features, torch.full((10, 1), 2.0))
    expect(isinstance(got, float) and not isinstance(got, bool),
           f"log_rmse should return a Python float like the book (use .item()); got "
           f"{type(got).__name__ if not isinstance(got, dict) else got.get('type')}")


# --- get_k_fold_data -----------------------------------------------------------------------------


def _expect_k_fold(student, k, i, X, y, inputs):
    what = f"get_k_fold_data({k}, {i}, X, y)"
    items = sequence(student.result("get_k_fold_data", k, i, X, y), what)
    if len(items) != 4:
        fail(f"{what} returned {len(items)} values; expected (X_train, y_train, X_valid, y_valid)")
    expected = ref.get_k_fold_data(k, i, X, y)
    for label, got, exp in zip(("X_train", "y_train", "X_valid", "y_valid"), items, expected):
        expect_tensor(got, exp, what=f"{label} from {what}", inputs=inputs,
                      hint=f"fold_size = n // k = {X.shape[0] // k}; fold j is rows "
                      "j*fold_size to (j+1)*fold_size, validation is fold i, training the other "
                      "folds in order; leftover rows are dropped; return (X_train, y_train, "
                      "X_valid, y_valid)")


@exercise("get_k_fold_data")
def test_get_k_fold_data_example(student):
    X = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    y = torch.arange(10, dtype=torch.float32)
    _expect_k_fold(student, 3, 1, X, y, "the worked example (n = 10, k = 3)")


@exercise("get_k_fold_data", weight=2)
def test_get_k_fold_data_every_fold(student, gen):
    n, k = 23, 5
    X, y = _f64(gen, n, 4), _f64(gen, n)
    for i in range(k):
        _expect_k_fold(student, k, i, X, y, f"float64 X of shape {shape_of(X)}, y of shape "
                       f"{shape_of(y)} (23 rows, 3 left over)")


@exercise("get_k_fold_data")
def test_get_k_fold_data_column_labels(student, gen):
    n, k = 20, 4
    X, y = _f64(gen, n, 3), _f64(gen, n, 1)
    for i in (0, k - 1):
        _expect_k_fold(student, k, i, X, y, f"X of shape {shape_of(X)}, y of shape "
                       f"{shape_of(y)} (n divisible by k)")
