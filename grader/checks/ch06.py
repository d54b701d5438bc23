"""Hidden checks for ch06, Convolutional neural networks."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import solutions.ch06 as ref
from grader.engine import stats
from grader.engine import strategies as st
from grader.engine.child import objects
from grader.engine.compare import expect, expect_tensor, expect_vjp, fail, sequence
from grader.engine.patterns import (
    call_with,
    expect_float,
    expect_gradient,
    expect_values,
    expect_vectorized,
    function,
)
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

CONV_OPS = ("conv2d", "convolution", "_convolution", "conv_transpose2d", "torch.nn.Conv2d",
            "torch.nn.functional.unfold", "im2col", "torch.nn.Unfold")
POOL_OPS = ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_max_pool2d",
            "adaptive_avg_pool2d", "lp_pool2d", "torch.nn.MaxPool2d", "torch.nn.AvgPool2d",
            "torch.nn.functional.unfold", "im2col")
# `self.conv = ...` or a variable called `pool` are fair names: the scan looks for the library
# entry points only.
CONV_SCAN = ("conv2d", "Conv2d", "convolution", "unfold_im2col", "im2col")
POOL_SCAN = ("max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d", "adaptive_max_pool2d",
             "adaptive_avg_pool2d", "max_pool2d_with_indices")

EXERCISES = {
    "corr2d": Exercise(points=3, forbid=CONV_OPS, scan=CONV_SCAN),
    "Conv2D": Exercise(points=3, forbid=CONV_OPS, scan=("conv2d", "Conv2d", "convolution")),
    "conv_output_shape": Exercise(points=2),
    "corr2d_multi_in": Exercise(points=2, forbid=CONV_OPS, scan=CONV_SCAN),
    "corr2d_multi_in_out": Exercise(points=2, forbid=CONV_OPS, scan=CONV_SCAN),
    "corr2d_multi_in_out_1x1": Exercise(points=2, forbid=CONV_OPS, scan=CONV_SCAN),
    "pool2d": Exercise(points=3, forbid=POOL_OPS, scan=POOL_SCAN),
    "max_pool2d": Exercise(points=4, forbid=POOL_OPS, scan=POOL_SCAN),
    "avg_pool2d": Exercise(points=3, forbid=POOL_OPS, scan=POOL_SCAN),
    "conv2d": Exercise(points=6, forbid=CONV_OPS, scan=("Conv2d", "convolution", "im2col",
                                                        "conv_transpose2d")),
    "lenet": Exercise(points=3),
    "evaluate_accuracy_gpu": Exercise(points=3),
    "train_ch6": Exercise(points=5, seconds=60),
}

F32 = torch.float32
# Two statistical checks (Conv2D's initial mean, train_ch6's Xavier KS bound), each at the
# library's default false-failure probability: a correct submission fails one with probability
# below 2 * stats.DEFAULT_ALPHA < 1e-6.


# --- corr2d and Conv2D ------------------------------------------------------------------------


@exercise("corr2d")
def test_corr2d_example(student):
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    expect_tensor(student.result("corr2d", X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]),
                  what="corr2d(X, K) on the book's example", check_dtype=False)


@exercise("corr2d", weight=2)
def test_corr2d_values(student, gen):
    # The book fills a torch.zeros tensor of the default dtype, so inputs are float32 here.
    for n_h, n_w, k_h, k_w in [(6, 8, 2, 3), (5, 5, 5, 1), (7, 4, 1, 4)]:
        X, K = st.normal(gen, n_h, n_w, dtype=F32), st.normal(gen, k_h, k_w, dtype=F32)
        expect_values(student, "corr2d", objects.cross_correlation_2d, X, K, what="corr2d(X, K)")


@exercise("corr2d")
def test_corr2d_gradient(student, gen):
    X, K = st.normal(gen, 5, 6, dtype=F32), st.normal(gen, 2, 3, dtype=F32)
    expect_gradient(student, "corr2d", objects.cross_correlation_2d, X, K, wrt=[0, 1], gen=gen,
                    what="corr2d(X, K)",
                    hint=_("fill the output by assigning Y[i, j] = (window * K).sum() (keep the "
                           "graph: no .item(), .detach() or float())"))


def _conv2d_layer(ns, kernel_size, state, X, G):
    """Build the student's Conv2D with a library cross-correlation standing in for corr2d."""
    swaps = {"corr2d": objects.function("cross_correlation_2d")}  # noqa: F821
    with objects.Swap(ns, swaps):  # noqa: F821 - the scenario scope provides `objects`
        layer = ns["Conv2D"](kernel_size)
        shapes = {name: list(p.shape) for name, p in layer.named_parameters()}
        initial = {name: p.detach().clone() for name, p in layer.named_parameters()}
        if state is None:
            return {"shapes": shapes, "initial": initial}
        with trusted():  # noqa: F821
            layer.load_state_dict(state)
        X = X.clone().requires_grad_(True)
        out = layer(X)
        with trusted():  # noqa: F821
            out.backward(G)
        return {"shapes": shapes, "output": out,
                "grads": {name: p.grad for name, p in layer.named_parameters()},
                "input_grad": X.grad}


@exercise("Conv2D")
def test_conv2d_layer_parameters(student):
    got = student.scenario(_conv2d_layer, (20, 30), None, None, None, what="Conv2D((20, 30))")
    expect(got["shapes"] == {"weight": [20, 30], "bias": [1]},
           f"Conv2D((20, 30)) has parameters {got['shapes']}; expected exactly `weight` of shape "
           "[20, 30] and `bias` of shape [1]")
    weight, bias = got["initial"]["weight"], got["initial"]["bias"]
    expect(bool((weight >= 0).all() and (weight < 1).all()),
           "Conv2D's initial weight is not in [0, 1): initialise it with torch.rand like the book")
    stats.expect_mean(weight.reshape(-1), 0.5, math.sqrt(1 / 12), what="Conv2D's initial weight")
    expect(bool((bias == 0).all()), "Conv2D's initial bias is not zero")


@exercise("Conv2D", weight=2)
def test_conv2d_layer_forward_and_gradients(student, gen):
    X, G = st.normal(gen, 6, 8, dtype=F32), st.normal(gen, 6, 7, dtype=F32)
    state = {"weight": st.normal(gen, 1, 2, dtype=F32), "bias": st.normal(gen, 1, dtype=F32)}
    got = student.scenario(_conv2d_layer, (1, 2), state, X, G, what="Conv2D((1, 2))(X)")
    weight = state["weight"].clone().requires_grad_(True)
    bias = state["bias"].clone().requires_grad_(True)
    leaf = X.clone().requires_grad_(True)
    out = objects.cross_correlation_2d(leaf, weight) + bias
    out.backward(G)
    expect_tensor(got["output"], out.detach(), what="Conv2D((1, 2))(X)",
                  inputs="X of shape (6, 8)", hint=_("return corr2d(x, self.weight) + self.bias"))
    for name, expected in (("weight", weight.grad), ("bias", bias.grad)):
        grad = got["grads"].get(name)
        if grad is None:
            fail(f"Conv2D's {name} got no gradient: the output must depend on it through autograd")
        expect_tensor(grad, expected, what=f"the gradient of Conv2D's {name}")
    expect_tensor(got["input_grad"], leaf.grad, what="the gradient of Conv2D(X) with respect to X")


# --- padding and stride -----------------------------------------------------------------------


def _library_shape(n, k, p, s):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    X = torch.zeros(1, 1, *pair(n))
    W = torch.zeros(1, 1, *pair(k))
    return tuple(F.conv2d(X, W, stride=s, padding=p).shape[2:])


def _expect_shape(student, n, k, p, s):
    what = f"conv_output_shape({tuple(n)}, {k}, {p}, {s})"
    items = sequence(student.result("conv_output_shape", tuple(n), k, p, s), what)
    expected = _library_shape(n, k, p, s)
    if len(items) != 2 or not all(type(i) is int for i in items):
        fail(f"{what} returned {items!r}; expected a tuple of two Python ints")
    if tuple(items) != expected:
        fail(f"{what} returned {tuple(items)}; nn.Conv2d gives {expected}. Hint: per axis "
             "floor((n - k + 2 * padding + stride) / stride), with padding counted on each side")


@exercise("conv_output_shape")
def test_conv_output_shape_book_examples(student):
    for k, p, s in [(3, 1, 1), ((5, 3), (2, 1), 1), (3, 1, 2), ((3, 5), (0, 1), (3, 4))]:
        _expect_shape(student, (8, 8), k, p, s)


@exercise("conv_output_shape", weight=2)
def test_conv_output_shape_random_configurations(student, gen):
    for _attempt in range(12):
        k = (st.sizes(gen, 1, 6), st.sizes(gen, 1, 6))
        p = (st.sizes(gen, 0, k[0] // 2 + 1), st.sizes(gen, 0, k[1] // 2 + 1))
        s = (st.sizes(gen, 1, 5), st.sizes(gen, 1, 5))
        n = (st.sizes(gen, 6, 30), st.sizes(gen, 6, 30))  # every kernel (at most 5) fits
        square = st.sizes(gen, 0, 2) == 0
        _expect_shape(student, n, k[0] if square else k, p[0] if square else p,
                      s[0] if square else s)


# --- channels ---------------------------------------------------------------------------------


def _multi_in_out(X, K):
    return F.conv2d(X[None], K)[0]


@exercise("corr2d_multi_in")
def test_corr2d_multi_in_example(student):
    X = torch.stack((torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)))
    K = torch.stack((torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([[1.0, 2.0],
                                                                          [3.0, 4.0]])))
    got = call_with(student, "corr2d_multi_in", X, K,
                    swaps={"corr2d": function("cross_correlation_2d")},
                    what="corr2d_multi_in(X, K) on the book's example")
    expect_tensor(got["result"], torch.tensor([[56.0, 72.0], [104.0, 120.0]]),
                  what="corr2d_multi_in(X, K) on the book's example", check_dtype=False)


@exercise("corr2d_multi_in", weight=2)
def test_corr2d_multi_in_values_and_gradient(student, gen):
    for c, n_h, n_w, k_h, k_w in [(3, 6, 5, 2, 3), (1, 4, 4, 3, 3), (5, 5, 6, 1, 2)]:
        X, K = st.normal(gen, c, n_h, n_w), st.normal(gen, c, k_h, k_w)
        G = st.normal(gen, n_h - k_h + 1, n_w - k_w + 1)
        got = call_with(student, "corr2d_multi_in", X, K,
                        swaps={"corr2d": function("cross_correlation_2d")},
                        vjp={"wrt": [0, 1], "grad_output": G}, what="corr2d_multi_in(X, K)")
        inputs = f"X of shape {tuple(X.shape)}, K of shape {tuple(K.shape)}"
        expect_tensor(got["result"], objects.cross_correlation_2d_multi_in(X, K),
                      what="corr2d_multi_in(X, K)",
                      inputs=inputs, check_dtype=False,
                      hint=_("add up corr2d of each input channel with its own kernel slice"))
        expect_vjp(got, objects.cross_correlation_2d_multi_in, (X, K), [0, 1], G,
                   what="corr2d_multi_in(X, K)",
                   names=["X", "K"], inputs=inputs)


@exercise("corr2d_multi_in_out", weight=2)
def test_corr2d_multi_in_out_values_and_gradient(student, gen):
    for c_o, c_i, n, k in [(3, 2, 5, 2), (1, 3, 4, 3), (4, 1, 6, 1)]:
        X, K = st.normal(gen, c_i, n, n), st.normal(gen, c_o, c_i, k, k)
        G = st.normal(gen, c_o, n - k + 1, n - k + 1)
        got = call_with(student, "corr2d_multi_in_out", X, K,
                        swaps={"corr2d_multi_in": function("cross_correlation_2d_multi_in")},
                        vjp={"wrt": [0, 1], "grad_output": G}, what="corr2d_multi_in_out(X, K)")
        inputs = f"X of shape {tuple(X.shape)}, K of shape {tuple(K.shape)}"
        expect_tensor(got["result"], _multi_in_out(X, K), what="corr2d_multi_in_out(X, K)",
                      inputs=inputs, check_dtype=False,
                      hint=_("stack corr2d_multi_in(X, k) for each output kernel k along dim 0"))
        expect_vjp(got, _multi_in_out, (X, K), [0, 1], G, what="corr2d_multi_in_out(X, K)",
                   names=["X", "K"], inputs=inputs)


@exercise("corr2d_multi_in_out_1x1", weight=2)
def test_corr2d_1x1_values_and_gradient(student, gen):
    for c_i, c_o, h, w in [(3, 2, 3, 3), (5, 4, 6, 2), (1, 3, 2, 7)]:
        X, K = st.normal(gen, c_i, h, w), st.normal(gen, c_o, c_i, 1, 1)
        expect_values(student, "corr2d_multi_in_out_1x1", _multi_in_out, X, K,
                      hint=_("reshape X to (c_i, h * w) and K to (c_o, c_i), multiply, reshape "
                             "back"))
        expect_gradient(student, "corr2d_multi_in_out_1x1", _multi_in_out, X, K, wrt=[0, 1],
                        gen=gen)


@exercise("corr2d_multi_in_out_1x1")
def test_corr2d_1x1_is_one_matrix_product(student, gen):
    # No size-1 dimension in the small case: library functions take shortcuts for those.
    small = (st.normal(gen, 2, 3, 3), st.normal(gen, 3, 2, 1, 1))
    large = (st.normal(gen, 20, 30, 30), st.normal(gen, 30, 20, 1, 1))
    expect_vectorized(student, "corr2d_multi_in_out_1x1", ref.corr2d_multi_in_out_1x1, small, large,
                      hint=_("one matrix product over the channels, no loop"))


# --- pooling ----------------------------------------------------------------------------------


def _book_pool(X, pool_size, mode="max"):
    windows = X.unfold(0, pool_size[0], 1).unfold(1, pool_size[1], 1)
    return windows.amax(dim=(-2, -1)) if mode == "max" else windows.mean(dim=(-2, -1))


@exercise("pool2d")
def test_pool2d_example(student):
    X = torch.arange(9.0).reshape(3, 3)
    for mode, expected in (("max", [[4.0, 5.0], [7.0, 8.0]]), ("avg", [[2.0, 3.0], [5.0, 6.0]])):
        expect_tensor(student.result("pool2d", X, (2, 2), mode), torch.tensor(expected),
                      what=f"pool2d(X, (2, 2), {mode!r}) on the book's example",
                      check_dtype=False)


@exercise("pool2d", weight=2)
def test_pool2d_values_and_gradients(student, gen):
    for n_h, n_w, p_h, p_w in [(5, 6, 2, 3), (4, 4, 4, 1), (6, 3, 1, 2)]:
        X = st.distinct(gen, n_h, n_w, dtype=F32)
        for mode in ("max", "avg"):
            what = f"pool2d(X, ({p_h}, {p_w}), {mode!r})"
            expected = _book_pool(X, (p_h, p_w), mode)
            expect_tensor(student.result("pool2d", X, (p_h, p_w), mode), expected, what=what,
                          inputs=f"X of shape ({n_h}, {n_w})",
                          hint=_("max or mean of each window X[i:i + p_h, j:j + p_w]"))
            G = st.normal(gen, *expected.shape, dtype=F32)
            answer = student.call("pool2d", X, (p_h, p_w), mode, vjp={"wrt": [0],
                                                                     "grad_output": G})
            expect_vjp(answer, lambda X_, m=mode, p=(p_h, p_w): _book_pool(X_, p, m), (X,),
                       [0], G, what=what, names=["X"], inputs=f"X of shape ({n_h}, {n_w})")


def _pool_configs(gen):
    """Kernel, stride and padding triples, ints and pairs, stride default included."""
    configs = [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1)), (3, 1, 0), ((3, 2), None, (1, 0))]
    k = st.sizes(gen, 2, 5)
    configs.append((k, st.sizes(gen, 1, 4), st.sizes(gen, 0, k // 2 + 1)))
    return configs


def _expect_pool(student, gen, name, library, device):
    for k, s, p in _pool_configs(gen):
        X = st.distinct(gen, 2, 3, 7, 8, device=device)
        kwargs = {"stride": s, "padding": p}
        what = f"{name}(X, {k}, stride={s}, padding={p})"
        expected = library(X, k, s, p)
        expect_tensor(student.result(name, X, k, kwargs=kwargs), expected, what=what,
                      inputs="float64 X of shape (2, 3, 7, 8)")
        G = st.normal(gen, *expected.shape, device=device)
        answer = student.call(name, X, k, kwargs=kwargs, vjp={"wrt": [0], "grad_output": G})
        expect_vjp(answer, lambda X_, k=k, s=s, p=p: library(X_, k, s, p), (X,), [0], G,
                   what=what, names=["X"], inputs="float64 X of shape (2, 3, 7, 8)")


@exercise("max_pool2d", weight=3)
def test_max_pool2d_values_and_gradients(student, gen, device):
    _expect_pool(student, gen, "max_pool2d", F.max_pool2d, device)


@exercise("max_pool2d")
def test_max_pool2d_padding_never_wins(student, gen):
    X = -st.positive(gen, 1, 2, 4, 4, low=1.0, high=2.0)  # all negative: zero padding would win
    got = student.result("max_pool2d", X, 3, kwargs={"stride": 1, "padding": 1})
    expect_tensor(got, F.max_pool2d(X, 3, 1, 1), what="max_pool2d(X, 3, stride=1, padding=1)",
                  inputs="X of shape (1, 2, 4, 4) with only negative values",
                  hint=_("pad with -inf, not zeros, so that padding never wins a maximum"))


@exercise("avg_pool2d", weight=3)
def test_avg_pool2d_values_and_gradients(student, gen, device):
    _expect_pool(student, gen, "avg_pool2d", F.avg_pool2d, device)


# --- the vectorized conv2d --------------------------------------------------------------------


def _conv_configs(gen):
    return [(1, 0, True), (2, 1, True), ((2, 1), (1, 0), False), (3, 2, True),
            (st.sizes(gen, 1, 4), st.sizes(gen, 0, 2), st.sizes(gen, 0, 2) == 0)]


@exercise("conv2d")
def test_conv2d_example(student):
    X = torch.arange(18.0).reshape(1, 2, 3, 3)
    W = torch.ones(1, 2, 2, 2)
    expect_tensor(student.result("conv2d", X, W), F.conv2d(X, W),
                  what="conv2d(X, W) on a small example")


@exercise("conv2d", weight=3)
def test_conv2d_values_and_gradients(student, gen, device):
    for stride, padding, with_bias in _conv_configs(gen):
        X, W = st.normal(gen, 2, 3, 7, 6, device=device), st.normal(gen, 4, 3, 3, 2, device=device)
        b = st.normal(gen, 4, device=device) if with_bias else None
        what = f"conv2d(X, W, {'b' if with_bias else 'None'}, {stride}, {padding})"
        inputs = "float64 X of shape (2, 3, 7, 6), W of shape (4, 3, 3, 2)"
        expected = F.conv2d(X, W, b, stride, padding)
        expect_tensor(student.result("conv2d", X, W, b, stride, padding), expected, what=what,
                      inputs=inputs)
        G = st.normal(gen, *expected.shape, device=device)
        wrt = [0, 1, 2] if with_bias else [0, 1]
        answer = student.call("conv2d", X, W, b, stride, padding,
                              vjp={"wrt": wrt, "grad_output": G})
        expect_vjp(answer, lambda *a, s=stride, p=padding: F.conv2d(*a, s, p), (X, W, b), wrt, G,
                   what=what, names=["X", "weight", "bias"][:len(wrt)], inputs=inputs)


@exercise("conv2d", weight=2)
def test_conv2d_is_vectorized(student, gen):
    # No size-1 dimension in the small case: library functions take shortcuts for those.
    small = (st.normal(gen, 2, 2, 6, 6), st.normal(gen, 3, 2, 3, 3), st.normal(gen, 3))
    large = (st.normal(gen, 20, 20, 40, 40), st.normal(gen, 30, 20, 3, 3), st.normal(gen, 30))
    expect_vectorized(student, "conv2d", ref.conv2d, small, large,
                      hint=_("take all windows at once (Tensor.unfold or as_strided) and contract "
                             "them with the kernels in one einsum/matmul, or loop over the k_h x "
                             "k_w kernel offsets only"))


@exercise("conv2d")
def test_conv2d_keeps_float32(student, gen):
    X, W = st.normal(gen, 2, 2, 5, 5, dtype=F32), st.normal(gen, 3, 2, 3, 3, dtype=F32)
    expect_tensor(student.result("conv2d", X, W, None, 1, 1), F.conv2d(X, W, None, 1, 1),
                  what="conv2d(X, W, None, 1, 1)", inputs="float32 X of shape (2, 2, 5, 5)")


@exercise("conv2d")
@pytest.mark.gpu
def test_conv2d_on_cuda(student, gen):
    X, W = st.normal(gen, 2, 3, 6, 6, device="cuda"), st.normal(gen, 2, 3, 3, 3, device="cuda")
    b = st.normal(gen, 2, device="cuda")
    expect_tensor(student.result("conv2d", X, W, b, 2, 1), F.conv2d(X, W, b, 2, 1),
                  what="conv2d(X, W, b, 2, 1) on CUDA",
                  hint=_("create new tensors on the input's device (or avoid creating any)"))


# --- LeNet ------------------------------------------------------------------------------------

LENET_TYPES = ["Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten",
               "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]


def _run_lenet(ns, state, X):
    net = ns["lenet"]()
    layers = list(net.children()) if isinstance(net, torch.nn.Module) else []
    info = {"type": type(net).__name__,
            "types": [type(m).__name__ for m in layers],
            "reprs": [repr(m) for m in layers],
            "count": sum(p.numel() for p in net.parameters()),
            "keys": list(net.state_dict().keys())}
    with trusted():  # noqa: F821
        net.load_state_dict(state)
    shapes, Y = [], X
    with torch.no_grad():
        for layer in layers:
            Y = layer(Y)
            shapes.append(list(Y.shape))
        info["output"] = net(X)
    info["shapes"] = shapes
    return info


def _lenet_run(student, gen):
    net = ref.lenet()
    X = st.uniform(gen, 2, 1, 28, 28, dtype=F32)
    return net, X, student.scenario(_run_lenet, net.state_dict(), X, what="lenet()")


@exercise("lenet", weight=2)
def test_lenet_layers_and_shapes(student, gen):
    net, X, got = _lenet_run(student, gen)
    expect(got["types"] == LENET_TYPES,
           f"lenet()'s modules are {got['types']}; the book's order is {LENET_TYPES}")
    expected = [repr(m) for m in net]
    for i, (mine, theirs) in enumerate(zip(got["reprs"], expected)):
        expect(mine == theirs, f"module {i} of lenet() is {mine}; expected {theirs}")
    shapes, Y = [], X
    for layer in net:
        Y = layer(Y)
        shapes.append(list(Y.shape))
    expect(got["shapes"] == shapes, f"lenet()'s output shapes per layer for a (2, 1, 28, 28) "
           f"input are {got['shapes']}; expected {shapes}")
    expect(got["count"] == 61706, f"lenet() has {got['count']} parameters; expected 61706")


@exercise("lenet")
def test_lenet_outputs_with_reference_weights(student, gen):
    net, X, got = _lenet_run(student, gen)
    expect_tensor(got["output"], net(X).detach(), what="lenet()(X) with the reference's weights",
                  inputs="X of shape (2, 1, 28, 28)")


# --- evaluate_accuracy_gpu --------------------------------------------------------------------


def _evaluate(ns, net, batches, device, as_list):
    data = [([X], y) if as_list else (X, y) for X, y in batches]
    net.train()
    value = ns["evaluate_accuracy_gpu"](net, data, device) if device != "default" else \
        ns["evaluate_accuracy_gpu"](net, data)
    return {"value": value, "training": net.training}


def _accuracy_setup(gen, dropout):
    layers = [["flatten"], ["dropout", 0.5], ["linear", 12, 4]] if dropout else \
        [["flatten"], ["linear", 12, 4]]
    from grader.engine.child import objects

    net = objects.build_module(layers)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(st.normal(gen, *p.shape, dtype=F32))
    sizes = [7, 5, 3]
    batches = st.batches(sizes, (3, 4), 4, gen)
    return net, batches


def _expected_accuracy(net, batches):
    net.eval()
    with torch.no_grad():
        hits = sum(float((net(X).argmax(1) == y).sum()) for X, y in batches)
    return hits / sum(len(y) for _, y in batches)


@exercise("evaluate_accuracy_gpu", weight=2)
def test_evaluate_accuracy_gpu_value_and_eval_mode(student, gen):
    from grader.engine.child import objects

    net, batches = _accuracy_setup(gen, dropout=True)
    expected = _expected_accuracy(net, batches)
    got = student.scenario(_evaluate, objects.module_spec(net), batches, "default", False,
                           what="evaluate_accuracy_gpu(net, data_iter)")
    expect_float(got["value"], expected, what="evaluate_accuracy_gpu(net, data_iter)",
                 hint=_("switch the net to eval mode, count correct predictions with accuracy(), "
                        "divide by the number of examples"))
    expect(got["training"] is False,
           "evaluate_accuracy_gpu left the net in training mode: call net.eval() first")


@exercise("evaluate_accuracy_gpu")
def test_evaluate_accuracy_gpu_explicit_device(student, gen):
    from grader.engine.child import objects

    net, batches = _accuracy_setup(gen, dropout=False)
    expected = _expected_accuracy(net, batches)
    got = student.scenario(_evaluate, objects.module_spec(net), batches, torch.device("cpu"),
                           False, what="evaluate_accuracy_gpu(net, data_iter, device)")
    expect_float(got["value"], expected, what="evaluate_accuracy_gpu(net, data_iter, 'cpu')")


# --- train_ch6 --------------------------------------------------------------------------------

TRAIN_LAYERS = [["conv2d", 1, 4, 3, {"padding": 1}], ["batchnorm2d", 4], ["sigmoid"],
                ["avgpool2d", 2, 2], ["flatten"], ["linear", 4 * 3 * 3, 16], ["sigmoid"],
                ["linear", 16, 5]]


def _train(ns, spec, train, test, epochs, lr):
    from copy import deepcopy

    net = spec  # built from its spec by the sandbox
    given = dict(deepcopy(net.state_dict()))
    seen = {}

    def remember(module, inputs):
        if "initial" not in seen:
            seen["initial"] = dict(deepcopy(module.state_dict()))
            seen["mode"] = module.training

    with trusted():  # noqa: F821
        hook = net.register_forward_pre_hook(remember)
    evaluate = {"evaluate_accuracy_gpu": objects.function("evaluated_accuracy")}  # noqa: F821
    with objects.Swap(ns, evaluate):  # noqa: F821
        result = ns["train_ch6"](net, BatchIterable(train), BatchIterable(test),  # noqa: F821
                                 epochs, lr, torch.device("cpu"))
    hook.remove()
    return {"result": result, "given": given, "initial": seen.get("initial"),
            "first_mode": seen.get("mode"), "final": dict(net.state_dict())}


def _replay_training(initial, train, test, epochs, lr):
    """Train the grader's copy from the student's initial weights as the spec says."""
    from grader.engine.child import objects

    net = objects.build_module(TRAIN_LAYERS, initial)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    for _epoch in range(epochs):
        net.train()
        total = hits = count = 0.0
        for X, y in train:
            optimizer.zero_grad()
            y_hat = net(X)
            loss = F.cross_entropy(y_hat, y)
            loss.backward()
            optimizer.step()
            total += float(loss) * X.shape[0]
            hits += float((y_hat.argmax(1) == y).sum())
            count += X.shape[0]
        net.eval()
        with torch.no_grad():
            test_hits = sum(float((net(X).argmax(1) == y).sum()) for X, y in test)
        test_acc = test_hits / sum(len(y) for _, y in test)
    return net.state_dict(), (total / count, hits / count, test_acc)


def _train_case(student, gen, epochs=2, lr=0.5):
    from grader.engine.child import objects

    net = objects.build_module(TRAIN_LAYERS)
    train = st.batches([6, 6, 4], (1, 6, 6), 5, gen)
    test = st.batches([5, 3], (1, 6, 6), 5, gen)
    got = student.scenario(_train, objects.module_spec(net, key=None), train, test, epochs, lr,
                           what=f"train_ch6(net, train_iter, test_iter, {epochs}, {lr}, cpu)")
    if got["initial"] is None:
        fail("train_ch6 never called the net")
    return net, train, test, got


@exercise("train_ch6", weight=2)
def test_train_ch6_initialisation(student, gen):
    net, _train, _test, got = _train_case(student, gen, epochs=1)
    given, initial = got["given"], got["initial"]
    for key in given:
        if key.endswith("bias") or "running" in key or "num_batches" in key:
            expect_tensor(initial[key], given[key], what=f"the initial {key}",
                          hint=_("initialise only the weights of Linear and Conv2d layers; "
                                 "biases keep their values"))
    samples = []
    for index, layer in enumerate(net.net):
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            weight = initial[f"net.{index}.weight"]
            fan_out, fan_in = weight.shape[0], weight[0].numel()
            fan_out *= weight[0, 0].numel()
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            expect(bool((weight.abs() <= bound * (1 + 1e-6)).all()),
                   f"the initial weight of layer {index} is not within ±{bound:.4g}: initialise "
                   "Linear and Conv2d weights with nn.init.xavier_uniform_")
            samples.append((weight / bound).reshape(-1))
    stats.expect_distribution(torch.cat(samples), lambda v: np.clip((v + 1) / 2, 0, 1),
                              what="the initial weights divided by Xavier's bound",
                              name="U(-1, 1)",
                              hint=_("nn.init.xavier_uniform_ on the weight of every Linear and "
                                     "Conv2d layer"))
    expect(got["first_mode"] is True, "train_ch6 did not train in training mode (net.train())")


@exercise("train_ch6", weight=3)
def test_train_ch6_trains_as_specified(student, gen):
    _net, train, test, got = _train_case(student, gen, epochs=2, lr=0.5)
    final, metrics = _replay_training(got["initial"], train, test, 2, 0.5)
    result = sequence(got["result"], "train_ch6(...)")
    expect(len(result) == 3, f"train_ch6 returned {len(result)} values; expected (train_loss, "
           "train_acc, test_acc)")
    for key, value in final.items():
        if "num_batches" in key:
            continue
        expect_tensor(got["final"][key], value, what=f"{key} after two epochs of train_ch6",
                      atol=1e-4, rtol=1e-3,
                      hint=_("SGD on the mean cross-entropy, one step per batch in order, in "
                             "training mode for every epoch (evaluation switches to eval mode)"))
    for label, value, expected in zip(("train_loss", "train_acc", "test_acc"), result, metrics):
        expect_float(value, expected, what=f"train_ch6's returned {label}", atol=1e-4, rtol=1e-3)
