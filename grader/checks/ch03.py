"""Hidden checks for ch03, Linear neural networks."""

import copy
import gzip
import math
import struct
from contextlib import nullcontext as trusted  # scenarios get the sandbox's own `trusted`

import torch
from torch import nn

import solutions.ch03 as ref
from grader.engine.compare import (
    expect,
    expect_number,
    expect_tensor,
    expect_vjp,
    fail,
    number,
    sequence,
    shape_of,
    tensor,
)
from grader.engine.plugin import Exercise, exercise

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

# --- synthetic_data ------------------------------------------------------------------------------

# Each statistic is tested at 5.5 standard deviations: a correct implementation fails one with
# probability below 4e-8, and all of them together below 1e-6.
Z = 5.5


@exercise("synthetic_data")
def test_synthetic_data_shapes(student):
    w = torch.tensor([2.0, -3.4])
    X, y = (tensor(v, "synthetic_data") for v in _pair(student.result("synthetic_data", w, 4.2,
                                                                      7, seed=1)))
    expect(X.shape == (7, 2), f"X has shape {shape_of(X)}; expected (7, 2) for len(w) = 2")
    expect(y.shape == (7, 1), f"y has shape {shape_of(y)}; expected (7, 1): reshape to a column")
    expect(X.dtype == torch.get_default_dtype(), f"X has dtype {X.dtype}; expected float32")


@exercise("synthetic_data", weight=2)
def test_synthetic_data_statistics(student, seed):
    n = 20_000
    w = torch.tensor([2.0, -3.4, 0.5])
    X, y = (tensor(v, "synthetic_data") for v in _pair(student.result("synthetic_data", w, 4.2,
                                                                      n, seed=seed)))
    mean = X.double().mean(0)
    expect(bool((mean.abs() < Z / math.sqrt(n)).all()),
           f"the features' means are {mean.tolist()}; a standard normal sample of {n} has mean 0")
    var = X.double().var(0)
    expect(bool(((var - 1).abs() < Z * math.sqrt(2 / n)).all()),
           f"the features' variances are {var.tolist()}; expected 1 (standard normal)")
    noise = (y.double().squeeze(1) - X.double() @ w.double() - 4.2)
    expect(abs(noise.mean().item()) < Z * 0.01 / math.sqrt(n),
           "y - (Xw + b) should have mean 0; check the bias")
    std = noise.std().item()
    expect(abs(std - 0.01) < Z * 0.01 / math.sqrt(2 * n) + 1e-4,
           f"the noise has standard deviation {std:.4g}; expected 0.01")


def _pair(value, what="synthetic_data"):
    items = sequence(value, what)
    if len(items) != 2:
        fail(f"{what} returned {len(items)} values; expected a pair (X, y)")
    return items


# --- data_iter -----------------------------------------------------------------------------------


def _indexed_data(n, d, gen, label_shape=()):
    """Features whose first column is the example's index, and labels tied to it."""
    features = torch.cat([torch.arange(n, dtype=torch.float64)[:, None],
                          torch.randn(n, d - 1, generator=gen, dtype=torch.float64)], dim=1)
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
    n = int(torch.randint(40, 90, (1,), generator=gen))
    batch_size = int(torch.randint(4, 10, (1,), generator=gen))
    if n % batch_size == 0:
        n += 1
    features, labels = _indexed_data(n, 3, gen)
    value = student.result("data_iter", batch_size, features, labels, seed=1)
    _one_pass(value, features, labels, batch_size,
              f"data_iter({batch_size}, features, labels) with {n} examples")


@exercise("data_iter", weight=2)
def test_data_iter_shuffles(student, gen, seed):
    # For a uniformly random order of n examples: (1) the correlation between position and
    # index has mean 0 and variance 1/(n-1); |r| > 5.5/sqrt(n-1) has probability < 4e-8 (normal
    # approximation). (2) The number of neighbours (i, i±1) in consecutive positions is close to
    # Poisson(2); 25 or more has probability < 1e-18. (3) Two calls give the same order with
    # probability 1/n!. Overall false-failure probability < 1e-7.
    n, batch_size = 1000, 10
    features, labels = _indexed_data(n, 2, gen, label_shape=(1,))
    what = f"data_iter({batch_size}, features, labels) with {n} examples"
    first = _one_pass(student.result("data_iter", batch_size, features, labels, seed=seed),
                      features, labels, batch_size, what)
    position = torch.arange(n, dtype=torch.float64)
    r = torch.corrcoef(torch.stack([position, first.double()]))[0, 1].item()
    expect(abs(r) < Z / math.sqrt(n - 1),
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
    expect_tensor(student.result("linreg", X, w, 4.2), ref.linreg(X, w, 4.2),
                  what="linreg(X, w, b)", inputs="the worked example")


@exercise("linreg", weight=2)
def test_linreg_values(student, gen):
    X = torch.randn(8, 3, generator=gen, dtype=torch.float64)
    w = torch.randn(3, 1, generator=gen, dtype=torch.float64)
    b = torch.randn(1, generator=gen, dtype=torch.float64)
    expect_tensor(student.result("linreg", X, w, b), ref.linreg(X, w, b), what="linreg(X, w, b)",
                  inputs=f"float64 X of shape {shape_of(X)}, w of shape {shape_of(w)}, b of "
                  f"shape {shape_of(b)}", hint="the model is torch.matmul(X, w) + b")
    w1 = w.reshape(-1)
    expect_tensor(student.result("linreg", X, w1, b), ref.linreg(X, w1, b), what="linreg(X, w, b)",
                  inputs=f"X of shape {shape_of(X)} and a vector w of shape {shape_of(w1)}",
                  hint="use the matrix product torch.matmul(X, w); it handles vectors too")


@exercise("linreg")
def test_linreg_gradient(student, gen):
    X = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    w = torch.randn(4, 1, generator=gen, dtype=torch.float64)
    b = torch.randn(1, generator=gen, dtype=torch.float64)
    G = torch.randn(6, 1, generator=gen, dtype=torch.float64)
    answer = student.call("linreg", X, w, b, vjp={"wrt": [0, 1, 2], "grad_output": G})
    expect_vjp(answer, ref.linreg, (X, w, b), [0, 1, 2], G, what="linreg(X, w, b)",
               names="Xwb", inputs=f"X of shape {shape_of(X)}, w of shape {shape_of(w)}")


# --- squared_loss --------------------------------------------------------------------------------


@exercise("squared_loss")
def test_squared_loss_example(student):
    y_hat = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.5, 2.0, 2.0])
    expect_tensor(student.result("squared_loss", y_hat, y), ref.squared_loss(y_hat, y),
                  what="squared_loss(y_hat, y)", inputs="the worked example",
                  hint="(y_hat - y.reshape(y_hat.shape)) ** 2 / 2")


@exercise("squared_loss", weight=2)
def test_squared_loss_values(student, gen):
    y_hat = torch.randn(9, 1, generator=gen, dtype=torch.float64)
    for shape in ((9,), (9, 1)):
        y = torch.randn(*shape, generator=gen, dtype=torch.float64)
        expect_tensor(student.result("squared_loss", y_hat, y), ref.squared_loss(y_hat, y),
                      what="squared_loss(y_hat, y)",
                      inputs=f"float64 y_hat of shape {shape_of(y_hat)} and y of shape "
                      f"{shape_of(y)}",
                      hint="reshape y to y_hat's shape, keep the factor 1/2, do not reduce")


@exercise("squared_loss")
def test_squared_loss_gradient(student, gen):
    y_hat = torch.randn(7, 1, generator=gen, dtype=torch.float64)
    y = torch.randn(7, generator=gen, dtype=torch.float64)
    G = torch.randn(7, 1, generator=gen, dtype=torch.float64)
    answer = student.call("squared_loss", y_hat, y, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.squared_loss, (y_hat, y), [0], G, what="squared_loss(y_hat, y)",
               names=["y_hat"], inputs=f"y_hat of shape {shape_of(y_hat)}",
               hint="d/dy_hat of (y_hat-y)²/2 is y_hat - y")


# --- sgd -----------------------------------------------------------------------------------------


def _sgd_expected(tensors, grads, lr, batch_size):
    ref_params = [p.clone().requires_grad_(True) for p in tensors]
    for p, g in zip(ref_params, grads):
        p.grad = g.clone()
    ref.sgd(ref_params, lr, batch_size)
    return [p.detach() for p in ref_params]


def _check_sgd(after, names, expected, inputs):
    for i, (name, exp) in enumerate(zip(names, expected)):
        expect_tensor(after["params"][i], exp, what=f"{name} after sgd", inputs=inputs,
                      hint="update is param -= lr * param.grad / batch_size")
        grad = after["grads"][i]
        expect(isinstance(grad, torch.Tensor) and bool((grad == 0).all()),
               f"{name}.grad should be zero after sgd (call param.grad.zero_())")
    expect(after["same_objects"], "sgd must update the parameters in place (param -= ...), "
           "not rebind new tensors")


@exercise("sgd")
def test_sgd_example(student):
    w, b = torch.tensor([1.0, 2.0]), torch.tensor([0.5])
    gw, gb = torch.tensor([0.5, -1.0]), torch.tensor([2.0])
    params = [{"__build__": "leaf", "tensor": w}, {"__build__": "leaf", "tensor": b}]
    after = student.scenario(_sgd_step, params, [gw, gb], 0.1, 2, what="sgd([w, b], 0.1, 2)")
    _check_sgd(after, ("w", "b"), _sgd_expected((w, b), (gw, gb), 0.1, 2), "the worked example")


@exercise("sgd", weight=2)
def test_sgd_updates_in_place(student, gen):
    w = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    b = torch.randn(2, generator=gen, dtype=torch.float64)
    gw, gb = torch.randn_like(w), torch.randn_like(b)
    params = [{"__build__": "leaf", "tensor": w}, {"__build__": "leaf", "tensor": b}]
    # Gradients are set inside the sandbox by a scenario that mirrors a training step.
    after = student.scenario(_sgd_step, params, [gw, gb], 0.1, 4, what="sgd([w, b], 0.1, 4)")
    _check_sgd(after, ("w", "b"), _sgd_expected((w, b), (gw, gb), 0.1, 4),
               f"w of shape {shape_of(w)}, b of shape {shape_of(b)}, lr=0.1, batch_size=4")


def _sgd_step(ns, params, grads, lr, batch_size):
    ids = [id(p) for p in params]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    ns["sgd"](params, lr, batch_size)
    return {"params": [p for p in params], "grads": [p.grad for p in params],
            "same_objects": [id(p) for p in params] == ids}


@exercise("sgd")
def test_sgd_trains(student, gen):
    start = torch.randn(5, generator=gen, dtype=torch.float64)
    target = torch.randn(5, generator=gen, dtype=torch.float64)
    got = student.scenario(_sgd_descent, {"__build__": "leaf", "tensor": start}, target, 0.3, 3,
                           what="three steps of backward() then sgd([w], 0.3, 1)")
    w = start.clone().requires_grad_(True)
    for _ in range(3):
        ((w - target) ** 2).sum().backward()
        ref.sgd([w], 0.3, 1)
    expect(got["leaf"], "after sgd the parameter must still be a leaf tensor that requires grad "
           "(update it under torch.no_grad(), in place)")
    expect_tensor(got["w"], w.detach(), what="w after three training steps",
                  inputs="w minimising ||w - target||² with lr=0.3",
                  hint="zero the gradient after each update, or the next backward() adds to it")


def _sgd_descent(ns, w, target, lr, steps):
    for _ in range(steps):
        ((w - target) ** 2).sum().backward()
        ns["sgd"]([w], lr, 1)
    return {"w": w, "leaf": bool(w.is_leaf and w.requires_grad)}


# --- softmax -------------------------------------------------------------------------------------


@exercise("softmax")
def test_softmax_example(student):
    X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expect_tensor(student.result("softmax", X), ref.softmax(X), what="softmax(X)",
                  inputs="the worked example")


@exercise("softmax", weight=2)
def test_softmax_values(student, gen):
    X = torch.randn(5, 7, generator=gen, dtype=torch.float64) * 3
    expect_tensor(student.result("softmax", X), ref.softmax(X), what="softmax(X)",
                  inputs=f"float64 X of shape {shape_of(X)}",
                  hint="normalise each row (sum over dim=1 with keepdim=True)")


@exercise("softmax")
def test_softmax_gradient(student, gen):
    X = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    G = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    answer = student.call("softmax", X, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.softmax, (X,), [0], G, what="softmax(X)", names="X",
               inputs=f"X of shape {shape_of(X)}")


@exercise("softmax", weight=2)
def test_softmax_large_logits(student, gen):
    X = (torch.rand(3, 5, generator=gen) * 2 - 1) * 1e4
    X[0, 0] = 1e4
    X[1] = -1e4
    expect_tensor(student.result("softmax", X), ref.softmax(X), what="softmax(X)",
                  inputs="float32 logits of size up to ±1e4", atol=1e-6, rtol=1e-5,
                  hint="subtract each row's maximum before exp")


# --- cross_entropy -------------------------------------------------------------------------------


@exercise("cross_entropy")
def test_cross_entropy_example(student):
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    expect_tensor(student.result("cross_entropy", y_hat, y), ref.cross_entropy(y_hat, y),
                  what="cross_entropy(y_hat, y)", inputs="the worked example",
                  hint="-log of y_hat[i, y[i]] for each row i")


@exercise("cross_entropy", weight=2)
def test_cross_entropy_values(student, gen):
    n, q = 9, 5
    y_hat = ref.softmax(torch.randn(n, q, generator=gen, dtype=torch.float64) * 2)
    y = torch.randint(0, q, (n,), generator=gen)
    expect_tensor(student.result("cross_entropy", y_hat, y), ref.cross_entropy(y_hat, y),
                  what="cross_entropy(y_hat, y)",
                  inputs=f"float64 probabilities y_hat of shape {shape_of(y_hat)} and labels y "
                  f"of shape {shape_of(y)}",
                  hint="pick one entry per row with y_hat[range(n), y]; return one loss per "
                  "example, not a mean")


@exercise("cross_entropy")
def test_cross_entropy_gradient(student, gen):
    n, q = 6, 4
    y_hat = ref.softmax(torch.randn(n, q, generator=gen, dtype=torch.float64))
    y = torch.randint(0, q, (n,), generator=gen)
    G = torch.randn(n, generator=gen, dtype=torch.float64)
    answer = student.call("cross_entropy", y_hat, y, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.cross_entropy, (y_hat, y), [0], G, what="cross_entropy(y_hat, y)",
               names=["y_hat"], inputs=f"y_hat of shape {shape_of(y_hat)}")


# --- accuracy ------------------------------------------------------------------------------------


@exercise("accuracy")
def test_accuracy_example(student):
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    expect_number(student.result("accuracy", y_hat, y), ref.accuracy(y_hat, y),
                  what="accuracy(y_hat, y) on the worked example",
                  hint="count the rows whose argmax equals the label")


@exercise("accuracy", weight=2)
def test_accuracy_scores(student, gen):
    n, q = 50, 6
    y_hat = torch.randn(n, q, generator=gen, dtype=torch.float64)
    y = torch.where(torch.rand(n, generator=gen) < 0.5, y_hat.argmax(1),
                    torch.randint(0, q, (n,), generator=gen))
    expect_number(student.result("accuracy", y_hat, y), ref.accuracy(y_hat, y),
                  what=f"accuracy(y_hat, y) for scores of shape ({n}, {q})",
                  hint="take the argmax over dim 1 and return the NUMBER of matches (not a "
                  "fraction)")


@exercise("accuracy")
def test_accuracy_predicted_classes(student, gen):
    n = 30
    y = torch.randint(0, 4, (n,), generator=gen)
    y_hat = torch.where(torch.rand(n, generator=gen) < 0.6, y,
                        torch.randint(0, 4, (n,), generator=gen)).float()
    expect_number(student.result("accuracy", y_hat, y), ref.accuracy(y_hat, y),
                  what=f"accuracy(y_hat, y) for a 1-D y_hat of {n} predicted classes",
                  hint="only take the argmax when y_hat is 2-D with more than one column; "
                  "convert the predictions to y's dtype before comparing")


@exercise("accuracy")
def test_accuracy_returns_float(student, gen):
    y_hat = torch.randn(10, 3, generator=gen)
    y = torch.randint(0, 3, (10,), generator=gen)
    got = student.result("accuracy", y_hat, y)
    expect(isinstance(got, float),
           f"accuracy returned {type(got).__name__ if not isinstance(got, dict) else 'an object'}"
           "; return a Python float, e.g. float(cmp.sum())")


# --- evaluate_accuracy ---------------------------------------------------------------------------


def _layer(spec):
    kind, *params = spec
    return {"linear": nn.Linear, "flatten": nn.Flatten, "relu": nn.ReLU,
            "dropout": nn.Dropout}[kind](*params)


def _trusted_net(layers, gen, scale=0.5):
    """A reference copy of a grader net and the build spec that makes the same net there."""
    net = nn.Sequential(*[_layer(s) for s in layers])
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
    spec = {"__build__": "module", "layers": layers, "key": "net",
            "state_dict": {f"net.{k}": v.clone() for k, v in net.state_dict().items()}}
    return net, spec


def _image_batches(sizes, shape, classes, gen, dtype=torch.float32):
    return [(torch.randn(b, *shape, generator=gen, dtype=dtype),
             torch.randint(0, classes, (b,), generator=gen)) for b in sizes]


def _evaluate(ns, net, batches, weight):
    def accuracy(y_hat, y):
        with trusted():
            if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
                y_hat = y_hat.argmax(axis=1)
            return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())

    calls = []
    if weight is not None:
        def net(X):  # noqa: F811 - a plain function instead of a module
            calls.append({"training": None, "grad": torch.is_grad_enabled()})
            with trusted():
                return X.reshape(len(X), -1) @ weight
    else:
        net.register_forward_pre_hook(
            lambda m, a: calls.append({"training": m.training, "grad": torch.is_grad_enabled()}))
    saved = ns.get("accuracy")
    ns["accuracy"] = accuracy
    try:
        value = ns["evaluate_accuracy"](net, batches)
    finally:
        if saved is None:
            ns.pop("accuracy", None)
        else:
            ns["accuracy"] = saved
    return {"value": value, "calls": calls}


def _ref_evaluate(net, batches):
    return ref.evaluate_accuracy(net, batches)


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_example(student):
    layers = [["linear", 2, 3]]
    net = nn.Sequential(nn.Linear(2, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        net[0].bias.zero_()
    spec = {"__build__": "module", "layers": layers,
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()}}
    batches = [(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), torch.tensor([0, 1, 0])),
               (torch.tensor([[2.0, 1.0]]), torch.tensor([0]))]
    got = student.scenario(_evaluate, spec, {"__build__": "batches", "batches": batches}, None,
                           what="evaluate_accuracy(net, data_iter) on the worked example")
    expect_number(got["value"], _ref_evaluate(net, batches),
                  what="evaluate_accuracy(net, data_iter) on the worked example",
                  hint="divide the total number of correct predictions by the total number of "
                  "examples")


@exercise("evaluate_accuracy", weight=2)
def test_evaluate_accuracy_uneven_batches(student, gen):
    layers = [["flatten"], ["linear", 12, 4]]
    net, spec = _trusted_net(layers, gen)
    batches = _image_batches([8, 8, 8, 3], (1, 3, 4), 4, gen)
    got = student.scenario(_evaluate, spec, {"__build__": "batches", "batches": batches}, None,
                           what="evaluate_accuracy(net, data_iter)")
    expect_number(got["value"], _ref_evaluate(net, batches),
                  what="evaluate_accuracy(net, data_iter) with batches of sizes 8, 8, 8, 3",
                  hint="count correct predictions and examples over all batches, then divide "
                  "once (a mean of per-batch accuracies is wrong when batches differ in size)")


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_eval_mode(student, gen):
    layers = [["flatten"], ["dropout", 0.5], ["linear", 12, 4]]
    net, spec = _trusted_net(layers, gen)
    batches = _image_batches([16, 16, 7], (1, 3, 4), 4, gen)
    got = student.scenario(_evaluate, spec, {"__build__": "batches", "batches": batches}, None,
                           what="evaluate_accuracy(net, data_iter) for a net with dropout")
    calls = got["calls"]
    expect(len(calls) == 3, f"evaluate_accuracy called the net {len(calls)} times for 3 batches")
    expect(all(c["training"] is False for c in calls),
           "evaluate_accuracy ran the net in training mode; call net.eval() first when net is "
           "a torch.nn.Module (dropout must be off when evaluating)")
    expect(all(c["grad"] is False for c in calls),
           "evaluate_accuracy recorded gradients; evaluate inside `with torch.no_grad():`")
    expect_number(got["value"], _ref_evaluate(net.eval(), batches),
                  what="evaluate_accuracy(net, data_iter) for a net with dropout")


@exercise("evaluate_accuracy")
def test_evaluate_accuracy_plain_function(student, gen):
    weight = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    batches = _image_batches([5, 5, 2], (2, 3), 3, gen, dtype=torch.float64)
    got = student.scenario(_evaluate, None, {"__build__": "batches", "batches": batches}, weight,
                           what="evaluate_accuracy(net, data_iter) for a net that is a function")
    expect_number(got["value"],
                  _ref_evaluate(lambda X: X.reshape(len(X), -1) @ weight, batches),
                  what="evaluate_accuracy(net, data_iter) for a plain function net",
                  hint="only call net.eval() when isinstance(net, torch.nn.Module)")


# --- huber_loss ----------------------------------------------------------------------------------


@exercise("huber_loss")
def test_huber_loss_example(student):
    y_hat = torch.tensor([[0.0], [0.5], [3.0]])
    y = torch.tensor([0.2, 2.0, 0.0])
    expect_tensor(student.result("huber_loss", y_hat, y), ref.huber_loss(y_hat, y),
                  what="huber_loss(y_hat, y)", inputs="the worked example (sigma = 1)",
                  hint="|d| - sigma/2 where |d| > sigma, d²/(2 sigma) elsewhere")


@exercise("huber_loss", weight=2)
def test_huber_loss_values(student, gen):
    for sigma, shape in ((0.5, (10,)), (2.0, (10, 1))):
        y_hat = torch.randn(10, 1, generator=gen, dtype=torch.float64) * 2
        y = torch.randn(*shape, generator=gen, dtype=torch.float64) * 2
        expect_tensor(student.result("huber_loss", y_hat, y, sigma),
                      ref.huber_loss(y_hat, y, sigma), what=f"huber_loss(y_hat, y, {sigma})",
                      inputs=f"float64 y_hat of shape {shape_of(y_hat)}, y of shape "
                      f"{shape_of(y)}, sigma = {sigma}",
                      hint="reshape y to y_hat's shape; the quadratic part is d²/(2 sigma), the "
                      "linear part |d| - sigma/2")


@exercise("huber_loss")
def test_huber_loss_gradient(student, gen):
    y_hat = torch.randn(12, 1, generator=gen, dtype=torch.float64) * 2
    y = torch.randn(12, generator=gen, dtype=torch.float64) * 2
    G = torch.randn(12, 1, generator=gen, dtype=torch.float64)
    answer = student.call("huber_loss", y_hat, y, 1.5, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.huber_loss, (y_hat, y, 1.5), [0], G, what="huber_loss(y_hat, y, 1.5)",
               names=["y_hat"], inputs=f"y_hat of shape {shape_of(y_hat)}, sigma = 1.5")


# --- train_epoch_ch3 -----------------------------------------------------------------------------


def _train(ns, net, batches, loss, updater, epochs, start_in_eval):
    def accuracy(y_hat, y):
        with trusted():
            if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
                y_hat = y_hat.argmax(axis=1)
            return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())

    modes = []
    net.register_forward_pre_hook(lambda m, a: modes.append(m.training))
    saved = ns.get("accuracy")
    ns["accuracy"] = accuracy
    results = []
    try:
        for _ in range(epochs):
            if start_in_eval:
                net.eval()
            results.append(ns["train_epoch_ch3"](net, batches, loss, updater))
    finally:
        if saved is None:
            ns.pop("accuracy", None)
        else:
            ns["accuracy"] = saved
    return {"results": results, "state_dict": dict(net.state_dict()), "modes": modes,
            "calls": getattr(updater, "calls", None)}


def _ref_train(net, batches, lr, updater_kind, epochs=1):
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


def _run_train(student, net, spec, batches, lr, updater_kind, what, epochs=1,
               start_in_eval=False):
    name = "sgd_optimizer" if updater_kind == "optimizer" else "sgd_updater"
    got = student.scenario(_train, spec, {"__build__": "batches", "batches": batches},
                           {"__build__": "builtin", "name": "cross_entropy_none"},
                           {"__build__": "builtin", "name": name, "module": "net", "lr": lr},
                           epochs, start_in_eval, what=what)
    expected, ref_net = _ref_train(net, batches, lr, updater_kind, epochs)
    return got, expected, ref_net


def _check_metrics(got, expected, what):
    results = sequence(got["results"], what)
    for epoch, (value, (loss_exp, acc_exp)) in enumerate(zip(results, expected)):
        pair = _pair(value, what)
        label = f"{what}" + (f", epoch {epoch + 1}" if len(expected) > 1 else "")
        expect_number(pair[0], loss_exp, what=f"the average loss returned by {label}",
                      atol=1e-5, rtol=1e-4,
                      hint="sum the per-example losses over all batches (before each update) "
                      "and divide by the number of examples")
        expect_number(pair[1], acc_exp, what=f"the accuracy returned by {label}", atol=1e-6,
                      hint="count correct predictions over all batches and divide by the number "
                      "of examples")


def _check_weights(got, ref_net, what, hint):
    state = got["state_dict"]
    for key, exp in ref_net.state_dict().items():
        expect_tensor(state.get(f"net.{key}"), exp, what=f"the parameter {key} after {what}",
                      atol=1e-6, rtol=1e-5, hint=hint)


OPTIMIZER_HINT = ("with a torch.optim.Optimizer: updater.zero_grad(), l.mean().backward(), "
                  "updater.step() for every batch")
UPDATER_HINT = "with a custom updater: l.sum().backward(), then updater(X.shape[0])"


@exercise("train_epoch_ch3")
def test_train_epoch_ch3_example(student):
    net = nn.Sequential(nn.Linear(2, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]]))
        net[0].bias.zero_()
    spec = {"__build__": "module", "layers": [["linear", 2, 3]], "key": "net",
            "state_dict": {f"net.{k}": v.clone() for k, v in net.state_dict().items()}}
    batches = [(torch.tensor([[1.0, 2.0], [-1.0, 0.5]]), torch.tensor([1, 2])),
               (torch.tensor([[0.5, -1.0]]), torch.tensor([0]))]
    what = "train_epoch_ch3 on the worked example"
    got, expected, ref_net = _run_train(student, net, spec, batches, 0.1, "optimizer", what)
    _check_metrics(got, expected, what)
    _check_weights(got, ref_net, what, OPTIMIZER_HINT)


@exercise("train_epoch_ch3", weight=2)
def test_train_epoch_ch3_optimizer(student, gen):
    net, spec = _trusted_net([["flatten"], ["linear", 12, 4]], gen, scale=0.3)
    batches = _image_batches([5, 5, 5, 3], (1, 3, 4), 4, gen)
    what = "train_epoch_ch3(net, batches, loss, torch.optim.SGD(net.parameters(), lr=0.2))"
    got, expected, ref_net = _run_train(student, net, spec, batches, 0.2, "optimizer", what)
    _check_weights(got, ref_net, what, OPTIMIZER_HINT)
    _check_metrics(got, expected, what)


@exercise("train_epoch_ch3", weight=2)
def test_train_epoch_ch3_custom_updater(student, gen):
    net, spec = _trusted_net([["flatten"], ["linear", 12, 4]], gen, scale=0.3)
    sizes = [5, 5, 5, 3]
    batches = _image_batches(sizes, (1, 3, 4), 4, gen)
    what = "train_epoch_ch3(net, batches, loss, updater) with updater = lambda n: sgd(..., n)"
    got, expected, ref_net = _run_train(student, net, spec, batches, 0.2, "updater", what)
    calls = [[number(a, "the updater's argument") for a in call] for call in got["calls"]]
    expect(calls == [[float(s)] for s in sizes],
           f"the updater was called with {calls}; expected one call per batch with its batch size "
           f"{[[s] for s in sizes]}")
    _check_weights(got, ref_net, what, UPDATER_HINT)
    _check_metrics(got, expected, what)


@exercise("train_epoch_ch3")
def test_train_epoch_ch3_training_mode(student, gen):
    net, spec = _trusted_net([["flatten"], ["dropout", 0.2], ["linear", 12, 4]], gen, scale=0.3)
    batches = _image_batches([4, 4], (1, 3, 4), 4, gen)
    got = student.scenario(_train, spec, {"__build__": "batches", "batches": batches},
                           {"__build__": "builtin", "name": "cross_entropy_none"},
                           {"__build__": "builtin", "name": "sgd_updater", "module": "net",
                            "lr": 0.1}, 1, True,
                           what="train_epoch_ch3 on a net that was in evaluation mode")
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
    net, spec = _trusted_net([["flatten"], ["linear", 64, 10]], gen, scale=0.01)
    what = "three epochs of train_epoch_ch3 on 600 digit images (lr 0.5)"
    got, expected, _ = _run_train(student, net, spec, batches, 0.5, "updater", what, epochs=3)
    results = [_pair(r, what) for r in sequence(got["results"], what)]
    losses = [number(r[0], what) for r in results]
    accs = [number(r[1], what) for r in results]
    expect(len(losses) == 3 and losses[0] > losses[1] > losses[2],
           f"the average loss over three epochs was {[round(v, 4) for v in losses]}; it should "
           "decrease while the model learns")
    expect(accs[-1] > 0.75, f"after three epochs the training accuracy is {accs[-1]:.3f}; softmax "
           "regression reaches about 0.9 on these images")
    _check_metrics(got, expected, what)


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
                "after the 16-byte header come n*rows*cols bytes; reshape to (n, rows, cols)")
    _check_read(student, "labels-idx1-ubyte", _idx_bytes(labels),
                "read_idx('labels-idx1-ubyte') on the worked example",
                "labels: 8-byte header, then n bytes; return them as int64")


@exercise("read_idx", weight=2)
def test_read_idx_fashion_mnist_files(student, gen):
    n = int(torch.randint(3, 8, (1,), generator=gen))
    images = torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (n,), generator=gen, dtype=torch.uint8)
    _check_read(student, "train-images-idx3-ubyte", _idx_bytes(images),
                f"read_idx on an image file of {n} 28x28 images",
                "sizes are big-endian unsigned 32-bit integers (struct format '>I')")
    _check_read(student, "train-labels-idx1-ubyte", _idx_bytes(labels),
                f"read_idx on a label file of {n} labels", "return labels as torch.int64")
    odd = torch.randint(0, 256, (n, 5, 3), generator=gen, dtype=torch.uint8)
    _check_read(student, "odd-images-idx3-ubyte", _idx_bytes(odd),
                f"read_idx on an image file of {n} images of 5 rows and 3 columns",
                "read rows and columns from the header; do not assume 28x28")


@exercise("read_idx")
def test_read_idx_gzip(student, gen):
    images = torch.randint(0, 256, (4, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (4,), generator=gen, dtype=torch.uint8)
    for name, values in (("t10k-images-idx3-ubyte.gz", images),
                         ("t10k-labels-idx1-ubyte.gz", labels)):
        raw = gzip.compress(_idx_bytes(values), mtime=0)
        _check_read(student, name, raw, f"read_idx('{name}')",
                    "a path ending in .gz must be opened with gzip.open")


@exercise("read_idx")
def test_read_idx_rejects_bad_files(student, gen):
    images = torch.randint(0, 256, (3, 4, 4), generator=gen, dtype=torch.uint8)
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
