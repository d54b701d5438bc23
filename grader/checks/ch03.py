"""Hidden checks for ch03, Linear neural networks."""

import math

import torch

import solutions.ch03 as ref
from grader.compare import expect, expect_tensor, fail, sequence, shape_of, tensor
from grader.plugin import Exercise, exercise

EXERCISES = {
    "synthetic_data": Exercise(points=3),
    "sgd": Exercise(points=3, forbid=("torch.optim.Optimizer",), scan=("optim",)),
    "softmax": Exercise(points=4, forbid=("softmax", "log_softmax", "_softmax")),
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


def _pair(value):
    items = sequence(value, "synthetic_data")
    if len(items) != 2:
        fail(f"synthetic_data returned {len(items)} values; expected (X, y)")
    return items

# --- sgd -----------------------------------------------------------------------------------------


@exercise("sgd", weight=2)
def test_sgd_updates_in_place(student, gen):
    w = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    b = torch.randn(2, generator=gen, dtype=torch.float64)
    gw, gb = torch.randn_like(w), torch.randn_like(b)
    params = [{"__build__": "leaf", "tensor": w}, {"__build__": "leaf", "tensor": b}]
    # Gradients are set inside the sandbox by a scenario that mirrors a training step.
    after = student.scenario(_sgd_step, params, [gw, gb], 0.1, 4, what="sgd([w, b], 0.1, 4)")
    expected = [p.clone() for p in (w, b)]
    ref_params = [p.clone().requires_grad_(True) for p in (w, b)]
    for p, g in zip(ref_params, (gw, gb)):
        p.grad = g.clone()
    ref.sgd(ref_params, 0.1, 4)
    expected = [p.detach() for p in ref_params]
    for i, (name, exp) in enumerate(zip(("w", "b"), expected)):
        expect_tensor(after["params"][i], exp, what=f"{name} after sgd", inputs=f"{name} of shape "
                      f"{shape_of(exp)}, lr=0.1, batch_size=4",
                      hint="update is param -= lr * grad / batch_size")
        grad = after["grads"][i]
        expect(isinstance(grad, torch.Tensor) and bool((grad == 0).all()),
               f"{name}.grad should be zero after sgd (call param.grad.zero_())")
    expect(after["same_objects"], "sgd must update the parameters in place (param -= ...), "
           "not rebind new tensors")


def _sgd_step(ns, params, grads, lr, batch_size):
    ids = [id(p) for p in params]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    ns["sgd"](params, lr, batch_size)
    return {"params": [p for p in params], "grads": [p.grad for p in params],
            "same_objects": [id(p) for p in params] == ids}


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
    Xr = X.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(ref.softmax(Xr), Xr, G)
    grad = answer["grads"][0]
    if grad is None:
        fail("softmax(X) is not differentiable: the result does not depend on X through autograd "
             "(avoid .detach(), .item() or building a new tensor from Python numbers)")
    expect_tensor(grad, expected, what="the gradient of softmax(X)",
                  inputs=f"X of shape {shape_of(X)}")


@exercise("softmax", weight=2)
def test_softmax_large_logits(student, gen):
    X = (torch.rand(3, 5, generator=gen) * 2 - 1) * 1e4
    X[0, 0] = 1e4
    X[1] = -1e4
    expect_tensor(student.result("softmax", X), ref.softmax(X), what="softmax(X)",
                  inputs="float32 logits of size up to ±1e4", atol=1e-6, rtol=1e-5,
                  hint="subtract each row's maximum before exp")
