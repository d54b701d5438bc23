"""Hidden checks for ch03, Linear neural networks."""

import copy
import gzip
import math
import struct

import torch
from torch import nn

import solutions.ch03 as ref
from grader.engine import stats
from grader.engine import strategies as draw
from grader.engine.child.objects import build_module, module_spec, random_module
from grader.engine.compare import expect, expect_tensor, fail, number, sequence, shape_of, tensor
from grader.engine.patterns import (
    expect_float,
    expect_gradient,
    expect_torch_rng,
    expect_values,
    function,
)
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

EXERCISES = {
    "synthetic_data": Exercise(points=3),
    "data_iter": Exercise(points=3),
    "linreg": Exercise(points=2),
    "squared_loss": Exercise(points=2, forbid=("mse_loss",)),
    "sgd": Exercise(points=3, forbid=("torch.optim.Optimizer",), scan=("optim",)),
    "softmax": Exercise(points=4, forbid=("softmax", "log_softmax", "_softmax")),
    "cross_entropy": Exercise(points=3, forbid=("cross_entropy", "nll_loss",
                                                "torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss")),
    "accuracy": Exercise(points=2),
    "evaluate_accuracy": Exercise(points=3),
    "huber_loss": Exercise(points=3, forbid=("huber_loss", "smooth_l1_loss",
                                             "torch.nn.HuberLoss", "torch.nn.SmoothL1Loss")),
    "train_epoch_ch3": Exercise(points=5, seconds=30),
    "read_idx": Exercise(points=4, forbid=("read_sn3_pascalvincent_tensor", "read_image_file",
                                           "read_label_file"),
                         scan=("read_sn3_pascalvincent_tensor", "read_image_file",
                               "read_label_file", "mnist", "MNIST", "FashionMNIST", "datasets")),
}

# Where an exercise calls ``accuracy``, the checks swap in the sandbox's generic counter of
# correct predictions, so that a mistake in the student's ``accuracy`` costs points only there.
HITS = function("classification_hits")


def _pair(value, what="synthetic_data"):
    items = sequence(value, what)
    if len(items) != 2:
        fail(f"{what} returned {len(items)} values; expected a pair (X, y)")
    return items


# --- synthetic_data ------------------------------------------------------------------------------


def _synthetic(value, w, b, n, what):
    """X and y as tensors of the right shapes and dtype, with y = Xw + b up to small noise."""
    X, y = (tensor(v, what) for v in _pair(value, what))
    expect(X.shape == (n, len(w)),
           f"X has shape {shape_of(X)}; expected ({n}, {len(w)}) for len(w) = {len(w)}")
    expect(y.shape == (n, 1), f"y has shape {shape_of(y)}; expected ({n}, 1): reshape to a column")
    expect(X.dtype == torch.get_default_dtype(), f"X has dtype {X.dtype}; expected float32")
    # Noise of standard deviation 0.01 exceeds 0.1 with probability 2e-23.
    noise = y.double().squeeze(1) - X.double() @ w.double() - b
    expect(bool((noise.abs() < 0.1).all()),
           f"y - (Xw + b) reaches {noise.abs().max().item():.3g}; the noise has standard "
           "deviation 0.01 (y = torch.matmul(X, w) + b plus the noise)")
    return X, noise


@exercise("synthetic_data")
def test_synthetic_data_shapes(student):
    w = torch.tensor([2.0, -3.4])
    _synthetic(student.result("synthetic_data", w, 4.2, 7, seed=1), w, 4.2, 7,
               "synthetic_data(w, 4.2, 7)")


@exercise("synthetic_data", weight=2)
def test_synthetic_data_statistics(student, seed):
    n = 20_000
    w = torch.tensor([2.0, -3.4, 0.5])
    X, noise = _synthetic(student.result("synthetic_data", w, 4.2, n, seed=seed), w, 4.2, n,
                          f"synthetic_data(w, 4.2, {n})")
    alpha = stats.split(stats.FALSE_FAILURE, 2 * len(w) + 2)
    for j in range(len(w)):
        what = f"feature {j} of X"
        stats.expect_mean(X[:, j], 0.0, 1.0, what=what, alpha=alpha,
                          hint=_("draw X from the standard normal distribution"))
        stats.expect_std(X[:, j], 1.0, what=what, alpha=alpha,
                         hint=_("draw X from the standard normal distribution"))
    stats.expect_mean(noise, 0.0, 0.01, what="y - (Xw + b)", alpha=alpha, hint=_("check the bias"))
    stats.expect_std(noise, 0.01, what="the noise y - (Xw + b)", alpha=alpha)


@exercise("synthetic_data")
def test_synthetic_data_uses_torch_rng(student, seed):
    w = torch.tensor([1.0, -2.0])
    draws = expect_torch_rng(student, "synthetic_data", w, 0.5, 5, seed=seed,
                             what="synthetic_data(w, 0.5, 5)",
                             hint=_("draw X and the noise with torch.normal (torch's global "
                             "generator, no generator of your own)"))
    _synthetic(draws[0], w, 0.5, 5, "synthetic_data(w, 0.5, 5)")


# --- data_iter -----------------------------------------------------------------------------------


def _indexed_data(n, d, gen, label_shape=()):
    """Features whose first column is the example's index, and labels tied to it."""
    features = torch.cat([torch.arange(n, dtype=torch.float64)[:, None],
                          draw.normal(gen, n, d - 1)], dim=1)
    labels = 1000 + 10 * torch.arange(n, dtype=torch.float64)
    labels = labels.reshape(n, *label_shape)
    return features, labels


def _one_pass(value, features, labels, batch_size, what):
    """Check one pass of batches; return the order in which the examples came."""
    n = len(features)
    items = sequence(value, what)
    sizes = []
    order = []
    for k, item in enumerate(items):
        Xb, yb = (tensor(v, f"batch {k} of {what}") for v in _pair(item, f"batch {k} of {what}"))
        expect(Xb.dim() == 2 and Xb.shape[1] == features.shape[1],
               f"batch {k} of {what}: X has shape {shape_of(Xb)}; expected (batch, "
               f"{features.shape[1]}) rows of the features")
        expect(yb.shape[1:] == labels.shape[1:] and len(yb) == len(Xb),
               f"batch {k} of {what}: y has shape {shape_of(yb)} for X of shape {shape_of(Xb)}; "
               f"expected ({len(Xb)}{', ' + str(labels.shape[1]) if labels.dim() > 1 else ','}) "
               "labels of the same examples")
        ids = Xb[:, 0].round().long()
        expect(bool(((ids >= 0) & (ids < n)).all()) and bool((features[ids] == Xb).all()),
               f"batch {k} of {what} holds rows that are not rows of the features")
        expect(bool((labels[ids] == yb).all()),
               f"batch {k} of {what}: the labels do not belong to the batch's features; index "
               "features and labels with the same indices")
        sizes.append(len(Xb))
        order.append(ids)
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    expect(sizes == expected,
           f"{what} gave batches of sizes {sizes[:12]}{' …' if len(sizes) > 12 else ''}; expected "
           f"{expected[:12]}{' …' if len(expected) > 12 else ''} for {n} examples "
           "(keep the smaller last batch, do not drop it)")
    order = torch.cat(order) if order else torch.zeros(0, dtype=torch.long)
    expect(bool((torch.sort(order).values == torch.arange(n)).all()),
           f"{what} did not visit every example exactly once")
    return order


@exercise("data_iter")
def test_data_iter_example(student):
    features = torch.arange(20.0).reshape(10, 2)
    labels = torch.arange(10.0).reshape(10, 1)
    value = student.result("data_iter", 3, features, labels, seed=0)
    # The worked example's features are [2i, 2i + 1]: map them back to indices.
    indexed = torch.stack([torch.arange(10.0), torch.arange(10.0) * 2 + 1], dim=1)
    items = sequence(value, "data_iter(3, features, labels)")
    renamed = []
    for k, item in enumerate(items):
        Xb, yb = (tensor(v, f"batch {k}") for v in _pair(item, f"batch {k}"))
        expect(Xb.dim() == 2 and Xb.shape[1] == 2,
               f"batch {k} has X of shape {shape_of(Xb)}; expected (batch, 2)")
        renamed.append((torch.stack([Xb[:, 0] / 2, Xb[:, 1]], dim=1), yb * 10 + 1000))
    _one_pass(renamed, indexed, labels * 10 + 1000, 3,
              "data_iter(3, features, labels) on the worked example")


@exercise("data_iter", weight=2)
def test_data_iter_covers_everything(student, gen):
    batch_size = draw.sizes(gen, 4, 10)
    n = draw.sizes(gen, 40, 90, not_divisible_by=batch_size)
    features, labels = _indexed_data(n, 3, gen)
    value = student.result("data_iter", batch_size, features, labels, seed=1)
    _one_pass(value, features, labels, batch_size,
              f"data_iter({batch_size}, features, labels) with {n} examples")


@exercise("data_iter", weight=2)
def test_data_iter_shuffles(student, gen, seed):
    # For a uniformly random order of n examples: (1) the correlation between position and
    # index has mean 0 and variance 1/(n-1); |r| > z(1e-7)/sqrt(n-1) has probability 1e-7
    # (normal approximation). (2) The number of neighbours (i, i±1) in consecutive positions
    # is close to Poisson(2); 25 or more has probability < 1e-18. (3) Two calls give the same
    # order with probability 1/n!. Overall false-failure probability < 2e-7.
    n, batch_size = 1000, 10
    features, labels = _indexed_data(n, 2, gen, label_shape=(1,))
    what = f"data_iter({batch_size}, features, labels) with {n} examples"
    first = _one_pass(student.result("data_iter", batch_size, features, labels, seed=seed),
                      features, labels, batch_size, what)
    position = torch.arange(n, dtype=torch.float64)
    r = torch.corrcoef(torch.stack([position, first.double()]))[0, 1].item()
    expect(abs(r) < stats.z_score(1e-7) / math.sqrt(n - 1),
           f"{what} visits the examples in nearly their original order (correlation {r:.3f} "
           "between position and index); shuffle all the indices before making batches")
    neighbours = int(((first[1:] - first[:-1]).abs() == 1).sum())
    expect(neighbours < 25,
           f"{what}: {neighbours} consecutive examples are neighbours in the data set (a random "
           "order has about 2); shuffle the indices of all examples, not only the batches")
    second = _one_pass(student.result("data_iter", batch_size, features, labels, seed=seed + 1),
                       features, labels, batch_size, what)
    expect(not bool((first == second).all()),
           f"two calls of {what} gave the same order; draw a fresh random order on every call "
           "(do not fix a seed inside data_iter)")


# --- linreg --------------------------------------------------------------------------------------


@exercise("linreg")
def test_linreg_example(student):
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = torch.tensor([[2.0], [-3.4]])
    expect_values(student, "linreg", ref.linreg, X, w, 4.2, inputs="the worked example")


@exercise("linreg", weight=2)
def test_linreg_values(student, gen):
    X, w, b = draw.normal(gen, 8, 3), draw.normal(gen, 3, 1), draw.normal(gen, 1)
    expect_values(student, "linreg", ref.linreg, X, w, b,
                  hint=_("the model is torch.matmul(X, w) + b"))
    expect_values(student, "linreg", ref.linreg, X, w.reshape(-1), b,
                  hint=_("use the matrix product torch.matmul(X, w); it handles vectors too"))


@exercise("linreg")
def test_linreg_gradient(student, gen):
    expect_gradient(student, "linreg", ref.linreg, draw.normal(gen, 6, 4), draw.normal(gen, 4, 1),
                    draw.normal(gen, 1), wrt=[0, 1, 2], gen=gen)


# --- squared_loss --------------------------------------------------------------------------------


@exercise("squared_loss")
def test_squared_loss_example(student):
    y_hat = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.5, 2.0, 2.0])
    expect_values(student, "squared_loss", ref.squared_loss, y_hat, y, inputs="the worked example",
                  hint=_("(y_hat - y.reshape(y_hat.shape)) ** 2 / 2"))


@exercise("squared_loss", weight=2)
def test_squared_loss_values(student, gen):
    y_hat = draw.normal(gen, 9, 1)
    for shape in ((9,), (9, 1)):
        expect_values(student, "squared_loss", ref.squared_loss, y_hat, draw.normal(gen, *shape),
                      hint=_("reshape y to y_hat's shape, keep the factor 1/2, do not reduce"))


@exercise("squared_loss")
def test_squared_loss_gradient(student, gen):
    expect_gradient(student, "squared_loss", ref.squared_loss, draw.normal(gen, 7, 1),
                    draw.normal(gen, 7), wrt=[0], gen=gen,
                    hint=_("d/dy_hat of (y_hat-y)²/2 is y_hat - y"))


# --- sgd -----------------------------------------------------------------------------------------


def _sgd_expected(tensors, grads, lr, batch_size):
    ref_params = [p.clone().requires_grad_(True) for p in tensors]
    for p, g in zip(ref_params, grads):
        p.grad = g.clone()
    ref.sgd(ref_params, lr, batch_size)
    return [p.detach() for p in ref_params]


def _sgd_step(ns, params, grads, lr, batch_size):
    ids = [id(p) for p in params]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    ns["sgd"](params, lr, batch_size)
    return {"params": [p for p in params], "grads": [p.grad for p in params],
            "same_objects": [id(p) for p in params] == ids}


def _check_sgd(student, params, grads, lr, batch_size, inputs):
    after = student.scenario(_sgd_step, [draw.leaf(p) for p in params], grads, lr, batch_size,
                             what=f"sgd([w, b], {lr}, {batch_size})")
    expected = _sgd_expected(params, grads, lr, batch_size)
    for i, (name, exp) in enumerate(zip(("w", "b"), expected)):
        expect_tensor(after["params"][i], exp, what=f"{name} after sgd", inputs=inputs,
                      hint=_("update is param -= lr * param.grad / batch_size"))
        grad = after["grads"][i]  # None (dropped, as zero_grad() does by default) is zero too
        expect(grad is None or isinstance(grad, torch.Tensor) and bool((grad == 0).all()),
               f"{name}.grad should be zero after sgd (call param.grad.zero_())")
    expect(after["same_objects"], "sgd must update the parameters in place (param -= ...), "
           "not rebind new tensors")


@exercise("sgd")
def test_sgd_example(student):
    params = [torch.tensor([1.0, 2.0]), torch.tensor([0.5])]
    grads = [torch.tensor([0.5, -1.0]), torch.tensor([2.0])]
    _check_sgd(student, params, grads, 0.1, 2, "the worked example")


@exercise("sgd", weight=2)
def test_sgd_updates_in_place(student, gen):
    params = [draw.normal(gen, 3, 2), draw.normal(gen, 2)]
    grads = [draw.normal(gen, 3, 2), draw.normal(gen, 2)]
    _check_sgd(student, params, grads, 0.1, 4,
               "w of shape (3, 2), b of shape (2,), lr=0.1, batch_size=4")


@exercise("sgd")
def test_sgd_trains(student, gen):
    start, target = draw.normal(gen, 5), draw.normal(gen, 5)
    got = student.scenario(_sgd_descent, draw.leaf(start), target, 0.3, 3,
                           what="three steps of backward() then sgd([w], 0.3, 1)")
    w = start.clone().requires_grad_(True)
    for _step in range(3):
        ((w - target) ** 2).sum().backward()
        ref.sgd([w], 0.3, 1)
    expect(got["leaf"], "after sgd the parameter must still be a leaf tensor that requires grad "
           "(update it under torch.no_grad(), in place)")
    expect_tensor(got["w"], w.detach(), what="w after three training steps",
                  inputs="w minimising ||w - target||² with lr=0.3",
                  hint=_("zero the gradient after each update, or the next backward() adds to it"))


def _sgd_descent(ns, w, target, lr, steps):
    for _step in range(steps):
        ((w - target) ** 2).sum().backward()
        ns["sgd"]([w], lr, 1)
    return {"w": w, "leaf": bool(w.is_leaf and w.requires_grad)}


# --- softmax -------------------------------------------------------------------------------------


@exercise("softmax")
def test_softmax_example(student):
    X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expect_values(student, "softmax", ref.softmax, X, inputs="the worked example")


@exercise("softmax", weight=2)
def test_softmax_values(student, gen):
    expect_values(student, "softmax", ref.softmax, draw.normal(gen, 5, 7, scale=3),
                  hint=_("normalise each row (sum over dim=1 with keepdim=True)"))


@exercise("softmax")
def test_softmax_gradient(student, gen):
    expect_gradient(student, "softmax", ref.softmax, draw.normal(gen, 4, 6), wrt=[0], gen=gen)


@exercise("softmax", weight=2)
def test_softmax_large_logits(student, gen):
    X = draw.uniform(gen, 3, 5, low=-1e4, high=1e4, dtype=torch.float32)
    X[0, 0] = 1e4
    X[1] = -1e4
    # float32 resolves logits near 1e4 only to about 1e-3, so a stable formula other than the
    # max shift (e.g. logsumexp) is that far off; an overflow gives inf or nan, far beyond.
    expect_values(student, "softmax", ref.softmax, X, inputs="float32 logits of size up to ±1e4",
                  atol=1e-3, rtol=1e-3, hint=_("subtract each row's maximum before exp"))


# --- cross_entropy -------------------------------------------------------------------------------


@exercise("cross_entropy")
def test_cross_entropy_example(student):
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    expect_values(student, "cross_entropy", ref.cross_entropy, y_hat, y,
                  inputs="the worked example", hint=_("-log of y_hat[i, y[i]] for each row i"))


@exercise("cross_entropy", weight=2)
def test_cross_entropy_values(student, gen):
    y_hat, y = draw.probabilities(gen, 9, 5), draw.labels(gen, 9, 5)
    expect_values(student, "cross_entropy", ref.cross_entropy, y_hat, y,
                  hint=_("pick one entry per row with y_hat[range(n), y]; return one loss per "
                  "example, not a mean"))


@exercise("cross_entropy")
def test_cross_entropy_gradient(student, gen):
    expect_gradient(student, "cross_entropy", ref.cross_entropy, draw.probabilities(gen, 6, 4),
                    draw.labels(gen, 6, 4), wrt=[0], gen=gen)


# --- accuracy ------------------------------------------------------------------------------------


def _expect_accuracy(student, y_hat, y, what, hint=""):
    expect_float(student.result("accuracy", y_hat, y), ref.accuracy(y_hat, y), what=what,
                 hint=hint)


@exercise("accuracy")
def test_accuracy_example(student):
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    for labels in ([0, 2], [2, 2]):
        _expect_accuracy(student, y_hat, torch.tensor(labels),
                         f"accuracy(y_hat, y) on the worked example with y = {labels}",
                         _("count the rows whose argmax equals the label"))


@exercise("accuracy", weight=2)
def test_accuracy_scores(student, gen):
    n, q = 50, 6
    y_hat = draw.scores(gen, n, q)
    y = torch.where(draw.uniform(gen, n) < 0.5, y_hat.argmax(1), draw.labels(gen, n, q))
    _expect_accuracy(student, y_hat, y, f"accuracy(y_hat, y) for scores of shape ({n}, {q})",
                     _("take the argmax over dim 1 and return the NUMBER of matches (not a "
                       "fraction)"))


@exercise("accuracy")
def test_accuracy_predicted_classes(student, gen):
    # 20 of 30 predictions are right, and no class holds more than 8 labels: an argmax taken of
    # the 1-D predictions (one class for all) can never score 20 as well.
    n = 30
    y = (torch.arange(n) % 4)[torch.randperm(n, generator=gen)]
    right = torch.randperm(n, generator=gen) < 20
    y_hat = torch.where(right, y, (y + draw.labels(gen, n, 3) + 1) % 4).float()
    _expect_accuracy(student, y_hat, y, f"accuracy(y_hat, y) for a 1-D y_hat of {n} predicted "
                     "classes", _("only take the argmax when y_hat is 2-D with more than one "
                     "column; convert the predictions to y's dtype before comparing"))


# --- evaluate_accuracy ---------------------------------------------------------------------------


def _evaluate(ns, net, batches, weight, hits):
    calls = []
    if weight is not None:
        def net(X):  # noqa: F811 - a plain function instead of a module
            calls.append({"training": None, "grad": torch.is_grad_enabled()})
            with trusted():  # noqa: F821 - the scenario scope provides it
                return X.reshape(len(X), -1) @ weight
    else:
        net.register_forward_pre_hook(
            lambda m, a: calls.append({"training": m.training, "grad": torch.is_grad_enabled()}))
    with objects.Swap(ns, {"accuracy": hits}):  # noqa: F821 - the scenario scope provides it
        value = ns["evaluate_accuracy"](net, batches)
    return {"value": value, "calls": calls}


def _check_evaluate(student, net, batches, what, hint="", weight=None):
    spec = module_spec(net) if weight is None else None
    got = student.scenario(_evaluate, spec, draw.batches_spec(batches), weight, HITS, what=what)
    if weight is not None:
        def net(X):
            return X.reshape(len(X), -1) @ weight
    expect_float(got["value"], ref.evaluate_accuracy(net, batches), what=what, hint=hint)
    return got["calls"]


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_example(student):
    net = build_module([["linear", 2, 3]], {"net.0.weight": torch.tensor(
        [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), "net.0.bias": torch.zeros(3)})
    batches = [(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), torch.tensor([0, 1, 0])),
               (torch.tensor([[2.0, 1.0]]), torch.tensor([0]))]
    _check_evaluate(student, net, batches,
                    "evaluate_accuracy(net, data_iter) on the worked example",
                    _("divide the total number of correct predictions by the total number of "
                      "examples"))


@exercise("evaluate_accuracy", weight=2)
def test_evaluate_accuracy_uneven_batches(student, gen):
    net = random_module([["flatten"], ["linear", 12, 4]], gen)
    _check_evaluate(student, net, draw.batches([8, 8, 8, 3], (1, 3, 4), 4, gen),
                    "evaluate_accuracy(net, data_iter) with batches of sizes 8, 8, 8, 3",
                    _("count correct predictions and examples over all batches, then divide "
                      "once (a mean of per-batch accuracies is wrong when batches differ in size)"))


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_eval_mode(student, gen):
    net = random_module([["flatten"], ["dropout", 0.5], ["linear", 12, 4]], gen).eval()
    calls = _check_evaluate(student, net, draw.batches([16, 16, 7], (1, 3, 4), 4, gen),
                            "evaluate_accuracy(net, data_iter) for a net with dropout",
                            _("call net.eval() first: dropout must be off when evaluating"))
    expect(len(calls) == 3, f"evaluate_accuracy called the net {len(calls)} times for 3 batches")
    expect(all(c["training"] is False for c in calls),
           "evaluate_accuracy ran the net in training mode; call net.eval() first when net is "
           "a torch.nn.Module (dropout must be off when evaluating)")
    expect(all(c["grad"] is False for c in calls),
           "evaluate_accuracy recorded gradients; evaluate inside `with torch.no_grad():`")


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_plain_function(student, gen):
    weight = draw.normal(gen, 6, 3)
    batches = draw.batches([5, 5, 2], (2, 3), 3, gen, dtype=torch.float64)
    _check_evaluate(student, None, batches,
                    "evaluate_accuracy(net, data_iter) for a plain function net",
                    _("only call net.eval() when isinstance(net, torch.nn.Module)"), weight=weight)


# --- huber_loss ----------------------------------------------------------------------------------


def _huber_inputs(gen, n, sigma, y_shape):
    """Predictions and labels whose differences lie on both sides of ±sigma, away from it."""
    d = torch.cat([draw.uniform(gen, n // 2, low=0.1 * sigma, high=0.9 * sigma),
                   draw.uniform(gen, n - n // 2, low=1.1 * sigma, high=3 * sigma)])
    d = d * torch.where(draw.uniform(gen, n) < 0.5, -1.0, 1.0).double()
    d = d[torch.randperm(n, generator=gen)]
    y_hat = draw.normal(gen, n, 1, scale=2)
    return y_hat, (y_hat[:, 0] - d).reshape(y_shape)


@exercise("huber_loss")
def test_huber_loss_example(student):
    y_hat = torch.tensor([[0.0], [0.5], [3.0]])
    y = torch.tensor([0.2, 2.0, 0.0])
    expect_values(student, "huber_loss", ref.huber_loss, y_hat, y,
                  inputs="the worked example (sigma = 1)",
                  hint=_("|d| - sigma/2 where |d| > sigma, d²/(2 sigma) elsewhere"))


@exercise("huber_loss", weight=2)
def test_huber_loss_values(student, gen):
    for sigma, shape in ((0.5, (10,)), (2.0, (10, 1))):
        y_hat, y = _huber_inputs(gen, 10, sigma, shape)
        expect_values(student, "huber_loss", ref.huber_loss, y_hat, y, sigma,
                      hint=_("reshape y to y_hat's shape; the quadratic part is d²/(2 sigma), the "
                      "linear part |d| - sigma/2"))


@exercise("huber_loss")
def test_huber_loss_gradient(student, gen):
    y_hat, y = _huber_inputs(gen, 12, 1.5, (12,))
    expect_gradient(student, "huber_loss", ref.huber_loss, y_hat, y, 1.5, wrt=[0], gen=gen)


# --- train_epoch_ch3 -----------------------------------------------------------------------------


def _train(ns, net, batches, loss, updater, epochs, start_in_eval, hits):
    modes = []
    net.register_forward_pre_hook(lambda m, a: modes.append(m.training))
    results = []
    with objects.Swap(ns, {"accuracy": hits}):  # noqa: F821 - the scenario scope provides it
        for _ in range(epochs):
            if start_in_eval:
                net.eval()
            results.append(ns["train_epoch_ch3"](net, batches, loss, updater))
    return {"results": results, "state_dict": dict(net.state_dict()), "modes": modes,
            "calls": getattr(updater, "calls", None)}


def _ref_train(net, batches, lr, updater_kind, epochs):
    """Run the reference epoch(s) on a copy of ``net``; return (metrics per epoch, net)."""
    net = copy.deepcopy(net)
    loss = nn.CrossEntropyLoss(reduction="none")
    if updater_kind == "optimizer":
        updater = torch.optim.SGD(net.parameters(), lr=lr)
    else:
        params = list(net.parameters())

        def updater(batch_size):
            ref.sgd(params, lr, batch_size)
    results = [ref.train_epoch_ch3(net, batches, loss, updater) for _ in range(epochs)]
    return results, net


OPTIMIZER_HINT = _("with a torch.optim.Optimizer: updater.zero_grad(), l.mean().backward(), "
                   "updater.step() for every batch")
UPDATER_HINT = _("with a custom updater: l.sum().backward(), then updater(X.shape[0])")


def _check_train(student, net, batches, lr, updater_kind, what, epochs=1, start_in_eval=False):
    """Train in the sandbox and here; compare metrics and weights; return the sandbox's run."""
    name = "sgd_optimizer" if updater_kind == "optimizer" else "sgd_updater"
    got = student.scenario(_train, module_spec(net), draw.batches_spec(batches),
                           {"__build__": "builtin", "name": "cross_entropy_none"},
                           {"__build__": "builtin", "name": name, "module": "net", "lr": lr},
                           epochs, start_in_eval, HITS, what=what)
    expected, ref_net = _ref_train(net, batches, lr, updater_kind, epochs)
    hint = OPTIMIZER_HINT if updater_kind == "optimizer" else UPDATER_HINT
    state = got["state_dict"]
    for key, exp in ref_net.state_dict().items():
        expect_tensor(state.get(key), exp, what=f"the parameter {key} after {what}",
                      atol=1e-6, rtol=1e-5, hint=hint)
    results = sequence(got["results"], what)
    for epoch, (value, (loss_exp, acc_exp)) in enumerate(zip(results, expected)):
        pair = _pair(value, what)
        label = f"{what}" + (f", epoch {epoch + 1}" if epochs > 1 else "")
        expect_float(pair[0], loss_exp, what=f"the average loss returned by {label}",
                     atol=1e-5, rtol=1e-4,
                     hint=_("sum the per-example losses over all batches (before each update) "
                     "and divide by the number of examples"))
        expect_float(pair[1], acc_exp, what=f"the accuracy returned by {label}", atol=1e-6,
                     hint=_("count correct predictions over all batches and divide by the number "
                     "of examples"))
    return got


@exercise("train_epoch_ch3")
def test_train_epoch_ch3_example(student):
    net = build_module([["linear", 2, 3]], {"net.0.weight": torch.tensor(
        [[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]]), "net.0.bias": torch.zeros(3)})
    batches = [(torch.tensor([[1.0, 2.0], [-1.0, 0.5]]), torch.tensor([1, 2])),
               (torch.tensor([[0.5, -1.0]]), torch.tensor([0]))]
    _check_train(student, net, batches, 0.1, "optimizer", "train_epoch_ch3 on the worked example")


@exercise("train_epoch_ch3", weight=2)
def test_train_epoch_ch3_optimizer(student, gen):
    net = random_module([["flatten"], ["linear", 12, 4]], gen, scale=0.3)
    _check_train(student, net, draw.batches([5, 5, 5, 3], (1, 3, 4), 4, gen), 0.2, "optimizer",
                 "train_epoch_ch3(net, batches, loss, torch.optim.SGD(net.parameters(), lr=0.2))")


@exercise("train_epoch_ch3", weight=2)
def test_train_epoch_ch3_custom_updater(student, gen):
    net = random_module([["flatten"], ["linear", 12, 4]], gen, scale=0.3)
    sizes = [5, 5, 5, 3]
    got = _check_train(student, net, draw.batches(sizes, (1, 3, 4), 4, gen), 0.2, "updater",
                       "train_epoch_ch3(net, batches, loss, updater) with updater = lambda n: "
                       "sgd(..., n)")
    calls = [[number(a, "the updater's argument") for a in call] for call in got["calls"]]
    expect(calls == [[float(s)] for s in sizes],
           f"the updater was called with {calls}; expected one call per batch with its batch size "
           f"{[[s] for s in sizes]}")


@exercise("train_epoch_ch3")
def test_train_epoch_ch3_training_mode(student, gen):
    net = random_module([["flatten"], ["linear", 12, 4]], gen, scale=0.3)
    got = _check_train(student, net, draw.batches([4, 4], (1, 3, 4), 4, gen), 0.1, "updater",
                       "train_epoch_ch3 on a net that was in evaluation mode", start_in_eval=True)
    modes = got["modes"]
    expect(len(modes) == 2 and all(m is True for m in modes),
           "train_epoch_ch3 ran the net in evaluation mode; call net.train() first when net is "
           "a torch.nn.Module")


@exercise("train_epoch_ch3")
def test_train_epoch_ch3_learns_digits(student, gen):
    from course.data import digits_images

    images, labels = digits_images(size=8)
    order = torch.randperm(len(labels), generator=gen)[:600]
    images, labels = images[order], labels[order]
    batches = [(images[i:i + 50], labels[i:i + 50]) for i in range(0, 600, 50)]
    net = random_module([["flatten"], ["linear", 64, 10]], gen, scale=0.01)
    what = "three epochs of train_epoch_ch3 on 600 digit images (lr 0.5)"
    _check_train(student, net, batches, 0.5, "updater", what, epochs=3)


# --- read_idx ------------------------------------------------------------------------------------


def _idx_bytes(values, magic=None):
    if values.dim() == 3:
        header = struct.pack(">IIII", magic or 2051, *values.shape)
    else:
        header = struct.pack(">II", magic or 2049, len(values))
    return header + bytes(values.to(torch.uint8).flatten().tolist())


def _as_tensor(raw):
    return torch.tensor(list(raw), dtype=torch.uint8)


def _read_idx_files(ns, files, target, expect_error):
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(bytes(data.tolist()))
    if not expect_error:
        return {"value": ns["read_idx"](target)}
    try:
        value = ns["read_idx"](target)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the check wants to see what was raised
        return {"raised": type(exc).__name__, "value_error": isinstance(exc, ValueError)}
    return {"raised": None, "value": value}


def _read(student, files, target, what):
    files = {name: _as_tensor(raw) for name, raw in files.items()}
    return student.scenario(_read_idx_files, files, target, False, what=what)["value"]


def _reference_read(tmp_name, raw):
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, tmp_name)
        with open(path, "wb") as f:
            f.write(raw)
        return ref.read_idx(path)


def _check_read(student, name, raw, what, hint):
    expected = _reference_read(name, raw)
    got = _read(student, {name: raw}, name, what)
    expect_tensor(got, expected, what=what, hint=hint)


@exercise("read_idx")
def test_read_idx_example(student):
    images = torch.arange(24, dtype=torch.uint8).reshape(2, 3, 4)
    labels = torch.tensor([3, 7], dtype=torch.uint8)
    _check_read(student, "images-idx3-ubyte", _idx_bytes(images),
                "read_idx('images-idx3-ubyte') on the worked example",
                _("after the 16-byte header come n*rows*cols bytes; reshape to (n, rows, cols)"))
    _check_read(student, "labels-idx1-ubyte", _idx_bytes(labels),
                "read_idx('labels-idx1-ubyte') on the worked example",
                _("labels: 8-byte header, then n bytes; return them as int64"))


@exercise("read_idx", weight=2)
def test_read_idx_fashion_mnist_files(student, gen):
    n = int(torch.randint(3, 8, (1,), generator=gen))
    images = torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (n,), generator=gen, dtype=torch.uint8)
    _check_read(student, "train-images-idx3-ubyte", _idx_bytes(images),
                f"read_idx on an image file of {n} 28x28 images",
                _("sizes are big-endian unsigned 32-bit integers (struct format '>I')"))
    _check_read(student, "train-labels-idx1-ubyte", _idx_bytes(labels),
                f"read_idx on a label file of {n} labels", _("return labels as torch.int64"))
    odd = torch.randint(0, 256, (n, 5, 3), generator=gen, dtype=torch.uint8)
    _check_read(student, "odd-images-idx3-ubyte", _idx_bytes(odd),
                f"read_idx on an image file of {n} images of 5 rows and 3 columns",
                _("read rows and columns from the header; do not assume 28x28"))


@exercise("read_idx")
def test_read_idx_gzip(student, gen):
    images = torch.randint(0, 256, (4, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (4,), generator=gen, dtype=torch.uint8)
    for name, values in (("t10k-images-idx3-ubyte.gz", images),
                         ("t10k-labels-idx1-ubyte.gz", labels)):
        raw = gzip.compress(_idx_bytes(values), mtime=0)
        _check_read(student, name, raw, f"read_idx('{name}')",
                    _("a path ending in .gz must be opened with gzip.open"))


@exercise("read_idx")
def test_read_idx_rejects_bad_files(student, gen):
    images = torch.randint(0, 256, (3, 4, 4), generator=gen, dtype=torch.uint8)
    _check_read(student, "intact-idx3-ubyte", _idx_bytes(images),
                "read_idx on an intact image file of 3 images of 4x4",
                _("check the magic number and the length, then read the data"))
    cases = [
        ("wrong-magic-idx3-ubyte", _idx_bytes(images, magic=2050),
         "a file whose magic number is 2050"),
        ("truncated-idx3-ubyte", _idx_bytes(images)[:-5],
         "an image file 5 bytes shorter than its header announces"),
    ]
    for name, raw, description in cases:
        got = student.scenario(_read_idx_files, {name: _as_tensor(raw)}, name, True,
                               what=f"read_idx on {description}")
        expect(got["raised"] is not None,
               f"read_idx returned a value for {description}; raise ValueError")
        expect(got["value_error"],
               f"read_idx raised {got['raised']} for {description}; raise ValueError")
