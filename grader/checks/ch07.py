"""Hidden checks for ch07, Modern convolutional neural networks.

Architectures are graded by what defines them, never by training: each top-level module's type,
parameter shapes, dropout rate and output shape (traced on the ``meta`` device, which allocates
nothing, so even VGG-11's 129 million parameters cost no memory), parameter counts, and outputs
and gradients with the reference's weights loaded. Where an exercise builds on another one
(``vgg`` on ``vgg_block``), the callee is replaced in the sandbox by stand-ins that record how
they were called, so one mistake costs points once.
"""

import inspect

import pytest
import torch
import torch.nn.functional as F

import solutions.ch07 as ref
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_tensor, expect_vjp, fail
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

NORM_OPS = ("batch_norm", "native_batch_norm", "_native_batch_norm_legit",
            "_batch_norm_impl_index", "cudnn_batch_norm", "instance_norm", "layer_norm",
            "group_norm", "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d",
            "torch.nn.LazyBatchNorm2d", "torch.nn.functional.batch_norm")
NORM_SCAN = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "native_batch_norm", "instance_norm",
             "layer_norm", "group_norm")

EXERCISES = {
    "alexnet": Exercise(points=3),
    "vgg_block": Exercise(points=2),
    "vgg": Exercise(points=3),
    "nin_block": Exercise(points=2),
    "nin": Exercise(points=3),
    "Inception": Exercise(points=4),
    "batch_norm": Exercise(points=5, forbid=NORM_OPS, scan=NORM_SCAN),
    "BatchNorm": Exercise(points=4, forbid=NORM_OPS, scan=NORM_SCAN),
    "Residual": Exercise(points=4),
    "resnet_block": Exercise(points=2),
    "resnet18": Exercise(points=3),
    "conv_block": Exercise(points=2),
    "DenseBlock": Exercise(points=3),
    "transition_block": Exercise(points=2),
}

CONV3 = {"padding": 1}


# --- tracing architectures in the sandbox ---------------------------------------------------------


def _trace(ns, name, args, kwargs, input_shape, swaps):
    """Build ``name(*args, **kwargs)`` on the meta device, with ``swaps`` standing in for
    callees, and describe each top-level module and the output shape after it."""
    with objects.Swap(ns, swaps), torch.device("meta"):  # noqa: F821 - scenario scope
        net = ns[name](*args, **kwargs)
    if isinstance(net, list):
        net = torch.nn.Sequential(*net)
    net = net.to("meta")  # the stand-ins were built on the CPU
    paths = {id(module): path for path, module in net.named_modules()}
    layers, X = [], torch.empty(input_shape, device="meta")
    children = list(net.children()) if len(list(net.children())) else [net]
    for layer in children:
        X = layer(X)
        layers.append({"type": type(layer).__name__,
                       "params": [list(p.shape) for p in layer.parameters()],
                       "p": float(getattr(layer, "p", -1.0)) if hasattr(layer, "p") else None,
                       "shape": list(X.shape), "repr": repr(layer)[:300]})
    placed = {}
    for key, standin in swaps.items():
        outputs = []
        for out in standin.outputs:
            outputs.extend(out if isinstance(out, list) else [out])
        placed[key] = [paths.get(id(out)) for out in outputs]
    return {"type": type(net).__name__, "layers": layers,
            "count": sum(p.numel() for p in net.parameters()),
            "calls": {k: v.calls for k, v in swaps.items()}, "placed": placed}


def _signature(net, input_shape: tuple) -> list[dict]:
    """The grader's description of the reference's modules, like ``_trace``'s; ``net`` is a
    module or a function that builds one (called on the meta device: nothing is allocated)."""
    if not isinstance(net, torch.nn.Module):
        with torch.device("meta"):
            net = net()
    net = net.to("meta")
    layers, X = [], torch.empty(input_shape, device="meta")
    children = list(net.children()) if len(list(net.children())) else [net]
    for layer in children:
        X = layer(X)
        layers.append({"type": type(layer).__name__,
                       "params": [list(p.shape) for p in layer.parameters()],
                       "p": float(layer.p) if hasattr(layer, "p") else None,
                       "shape": list(X.shape), "repr": repr(layer)[:300]})
    return layers


def _expect_layers(got: dict, expected: list[dict], what: str, input_shape: tuple) -> None:
    mine, theirs = got["layers"], expected
    if len(mine) != len(theirs):
        fail(f"{what} has {len(mine)} top-level modules ({', '.join(m['type'] for m in mine)}); "
             f"expected {len(theirs)} ({', '.join(m['type'] for m in theirs)})")
    for i, (a, b) in enumerate(zip(mine, theirs)):
        where = f"module {i} of {what}"
        if a["type"] != b["type"]:
            fail(f"{where} is a {a['type']}; expected a {b['type']} ({b['repr']})")
        if a["params"] != b["params"]:
            fail(f"{where} ({a['repr']}) has parameters of shapes {a['params']}; expected "
                 f"{b['params']} ({b['repr']})")
        if a["p"] != b["p"]:
            fail(f"{where} drops with probability {a['p']}; expected {b['p']}")
        if a["shape"] != b["shape"]:
            fail(f"{where} ({a['repr']}) outputs shape {tuple(a['shape'])} for an input of shape "
                 f"{input_shape}; expected {tuple(b['shape'])} ({b['repr']})")


def _trace_student(student, name, args, input_shape, *, kwargs=None, swaps=None, what=None):
    what = what or f"{name}{tuple(args)}"
    return student.scenario(_trace, name, list(args), kwargs or {}, list(input_shape),
                            swaps or {}, what=what, name=name), what


def _standins(outputs: list, name: str) -> dict:
    return {"__build__": "standins", "outputs": outputs, "name": name}


def _bound(fn, call: list) -> dict:
    """A recorded call ``[args, kwargs]`` bound to ``fn``'s parameters, defaults applied."""
    args, kwargs = call
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _expect_calls(got: dict, callee: str, fn, expected: list[dict], what: str) -> None:
    calls = [_bound(fn, c) for c in got["calls"][callee]]
    if calls != expected:
        fail(f"{what} called {callee} with {calls}; expected {expected}")


# --- AlexNet, VGG, NiN --------------------------------------------------------------------------

IMAGE = (1, 1, 224, 224)


@exercise("alexnet", weight=2)
def test_alexnet_layers(student):
    got, what = _trace_student(student, "alexnet", (), IMAGE, what="alexnet()")
    _expect_layers(got, _signature(ref.alexnet, IMAGE), what, IMAGE)


@exercise("alexnet")
def test_alexnet_parameter_count(student):
    got, what = _trace_student(student, "alexnet", (), IMAGE, what="alexnet()")
    expect(got["count"] == 46764746, f"alexnet() has {got['count']} parameters; expected "
           "46764746")


def _vgg_block_cases(gen):
    return [(1, 1, 8), (2, 3, 5), (3, 4, 4), (st.sizes(gen, 1, 4), st.sizes(gen, 1, 6),
                                              st.sizes(gen, 1, 9))]


@exercise("vgg_block", weight=2)
def test_vgg_block_layers(student, gen):
    for n, c_in, c_out in _vgg_block_cases(gen):
        shape = (2, c_in, 16, 12)
        got, what = _trace_student(student, "vgg_block", (n, c_in, c_out), shape)
        _expect_layers(got, _signature(ref.vgg_block(n, c_in, c_out), shape), what, shape)


def _vgg_standin(n, c_in, c_out):
    return {"sequential": [["conv2d", c_in, c_out, 3, CONV3], ["maxpool2d", 2, 2]]}


def _vgg_case(student, conv_arch):
    channels = [1] + [c for _, c in conv_arch]
    outputs = [_vgg_standin(n, channels[i], c) for i, (n, c) in enumerate(conv_arch)]
    return _trace_student(student, "vgg", (conv_arch,), IMAGE,
                          swaps={"vgg_block": _standins(outputs, "vgg_block")},
                          what=f"vgg({conv_arch})")


def _expected_vgg_tail(conv_arch):
    with torch.device("meta"):
        net = torch.nn.Sequential(*[
            torch.nn.Sequential(torch.nn.Conv2d(c_in, c, 3, padding=1), torch.nn.MaxPool2d(2, 2))
            for c_in, (_, c) in zip([1] + [c for _, c in conv_arch], conv_arch)],
            *list(ref.vgg(conv_arch).children())[len(conv_arch):])
    return net


@exercise("vgg", weight=2)
def test_vgg_blocks_and_classifier(student):
    for conv_arch in [((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
                      ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))]:
        got, what = _vgg_case(student, conv_arch)
        channels = [1] + [c for _, c in conv_arch]
        _expect_calls(got, "vgg_block", ref.vgg_block,
                      [{"num_convs": n, "in_channels": channels[i], "out_channels": c}
                       for i, (n, c) in enumerate(conv_arch)], what)
        placed = got["placed"]["vgg_block"]
        expect(placed == [str(i) for i in range(len(conv_arch))],
               f"{what} does not put the blocks returned by vgg_block first, in order, at "
               f"indices 0..{len(conv_arch) - 1} of its Sequential (found them at {placed})")
        _expect_layers(got, _signature(_expected_vgg_tail(conv_arch), IMAGE), what, IMAGE)


@exercise("vgg")
def test_vgg_other_depths(student):
    conv_arch = ((2, 8), (1, 8), (1, 16), (3, 16), (1, 4))
    got, what = _vgg_case(student, conv_arch)
    _expect_layers(got, _signature(_expected_vgg_tail(conv_arch), IMAGE), what, IMAGE)


@exercise("nin_block", weight=2)
def test_nin_block_layers(student, gen):
    for args in [(1, 96, 11, 4, 0), (3, 8, 3, 1, 1), (4, 6, 5, 2, 2),
                 (st.sizes(gen, 1, 5), st.sizes(gen, 1, 9), 3, st.sizes(gen, 1, 3), 1)]:
        shape = (2, args[0], 31, 29)
        got, what = _trace_student(student, "nin_block", args, shape)
        _expect_layers(got, _signature(ref.nin_block(*args), shape), what, shape)


NIN_CALLS = [(1, 96, 11, 4, 0), (96, 256, 5, 1, 2), (256, 384, 3, 1, 1), (384, 10, 3, 1, 1)]


@exercise("nin", weight=3)
def test_nin_layers(student):
    outputs = [{"sequential": [["conv2d", c_in, c_out, k, s, p], ["relu"]]}
               for c_in, c_out, k, s, p in NIN_CALLS]
    got, what = _trace_student(student, "nin", (), IMAGE,
                               swaps={"nin_block": _standins(outputs, "nin_block")},
                               what="nin()")
    _expect_calls(got, "nin_block", ref.nin_block,
                  [dict(zip(("in_channels", "out_channels", "kernel_size", "strides", "padding"),
                            call)) for call in NIN_CALLS], what)
    with torch.device("meta"):
        expected = ref.nin()
        for index, (c_in, c_out, k, s, p) in zip((0, 2, 4, 7), NIN_CALLS):
            expected[index] = torch.nn.Sequential(torch.nn.Conv2d(c_in, c_out, k, s, p),
                                                  torch.nn.ReLU())
    _expect_layers(got, _signature(expected, IMAGE), what, IMAGE)


# --- modules graded with the reference's weights -------------------------------------------------


def _run(ns, name, args, kwargs, state, X, G, train, swaps):
    """Build ``name(*args)``, load ``state``, run ``X`` forward (and backward with ``G``)."""
    with objects.Swap(ns, swaps):  # noqa: F821 - scenario scope
        module = ns[name](*args, **kwargs)
    keys = {k: list(v.shape) for k, v in module.state_dict().items()}
    if state is None:
        return {"keys": keys}
    module = module.to(X.dtype)
    with trusted():  # noqa: F821
        module.load_state_dict(state)
    module.train(train)
    X = X.clone().requires_grad_(True)
    out = module(X)
    with trusted():  # noqa: F821
        module.zero_grad(set_to_none=True)
        out.backward(G)
    return {"keys": keys, "output": out, "input_grad": X.grad,
            "grads": {n: p.grad for n, p in module.named_parameters()},
            "state": dict(module.state_dict())}


def _expect_keys(got_keys: dict, expected: torch.nn.Module, what: str) -> None:
    want = {k: list(v.shape) for k, v in expected.state_dict().items()}
    if got_keys != want:
        missing = sorted(set(want) - set(got_keys))
        extra = sorted(set(got_keys) - set(want))
        shapes = sorted(k for k in set(want) & set(got_keys) if want[k] != got_keys[k])
        fail(f"{what}'s parameters and buffers differ from the specification: "
             + "; ".join(part for part in (
                 f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
                 f"other shapes for {[(k, got_keys[k], want[k]) for k in shapes]}"
                 if shapes else "") if part)
             + " (use the names and shapes the docstring gives)")


def _expect_run(student, name, reference, args, X, gen, *, train=True, swaps=None, what=None,
                kwargs=None):
    """Load the reference's (randomised) weights into the student's module and compare the
    output, the gradients and the state after one forward pass."""
    what = what or f"{name}{tuple(args)}"
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    reference = reference.double()
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    reference.train(train)
    leaf = X.clone().requires_grad_(True)
    out = reference(leaf)
    G = st.normal(gen, *out.shape)
    reference.zero_grad()
    out.backward(G)
    got = student.scenario(_run, name, list(args), kwargs or {}, state, X, G, train, swaps or {},
                           what=what, name=name)
    _expect_keys(got["keys"], reference, what)
    mode = "training" if train else "evaluation"
    inputs = f"X of shape {tuple(X.shape)}, {mode} mode"
    expect_tensor(got["output"], out.detach(), what=f"{what}(X) with the reference's weights",
                  inputs=inputs)
    expect_tensor(got["input_grad"], leaf.grad, what=f"the gradient of {what}(X) with respect "
                  "to X", inputs=inputs)
    for n, p in reference.named_parameters():
        grad = got["grads"].get(n)
        if grad is None:
            fail(f"{what}'s parameter {n} got no gradient")
        expect_tensor(grad, p.grad, what=f"the gradient of {what}'s {n}", inputs=inputs)
    for k, v in reference.state_dict().items():
        if "running" in k:
            expect_tensor(got["state"][k], v, what=f"{what}'s {k} after the forward pass",
                          inputs=inputs)
    return got


@exercise("Inception", weight=2)
def test_inception_names_and_output(student, gen):
    args = (6, 3, (2, 4), (2, 3), 2)
    X = st.normal(gen, 2, 6, 7, 5)
    _expect_run(student, "Inception", ref.Inception(*args), args, X, gen,
                what="Inception(6, 3, (2, 4), (2, 3), 2)")


@exercise("Inception", weight=2)
def test_inception_googlenet_sizes(student, gen):
    args = (192, 64, (96, 128), (16, 32), 32)
    got = student.scenario(_run, "Inception", list(args), {}, None, None, None, True, {},
                           what="Inception(192, 64, (96, 128), (16, 32), 32)")
    _expect_keys(got["keys"], ref.Inception(*args), "Inception(192, 64, (96, 128), (16, 32), 32)")
    args = (4, 1, (3, 2), (1, 5), 3)
    _expect_run(student, "Inception", ref.Inception(*args), args, st.normal(gen, 1, 4, 5, 6), gen,
                what="Inception(4, 1, (3, 2), (1, 5), 3)")


@exercise("Residual", weight=2)
def test_residual_in_training(student, gen):
    for args in [(3, 3), (3, 6, True, 2), (4, 4, True, 1)]:
        X = st.normal(gen, 4, args[0], 6, 5)
        _expect_run(student, "Residual", ref.Residual(*args), args, X, gen,
                    what=f"Residual{args}")


@exercise("Residual")
def test_residual_in_evaluation(student, gen):
    args = (2, 5, True, 2)
    reference = ref.Residual(*args)
    with torch.no_grad():
        for bn in (reference.bn1, reference.bn2):
            bn.running_mean.copy_(st.normal(gen, bn.num_features))
            bn.running_var.copy_(st.positive(gen, bn.num_features, low=0.5, high=2.0))
    _expect_run(student, "Residual", reference, args, st.normal(gen, 3, 2, 7, 7), gen,
                train=False, what=f"Residual{args}")


@exercise("Residual")
def test_residual_without_1x1_has_no_conv3(student):
    got = student.scenario(_run, "Residual", [8, 8], {}, None, None, None, True, {},
                           what="Residual(8, 8)")
    _expect_keys(got["keys"], ref.Residual(8, 8), "Residual(8, 8)")


@exercise("Residual")
@pytest.mark.gpu
def test_residual_on_cuda(student, gen):
    reference = ref.Residual(3, 4, True, 2).double().cuda()
    X = st.normal(gen, 2, 3, 6, 6, device="cuda")
    got = student.scenario(_run, "Residual", [3, 4, True, 2], {}, None, None, None, True, {},
                           what="Residual(3, 4, True, 2)")
    _expect_keys(got["keys"], reference, "Residual(3, 4, True, 2)")
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    out = reference(X)
    got = student.scenario(_cuda_run, "Residual", [3, 4, True, 2], state, X,
                           what="Residual(3, 4, True, 2) on CUDA")
    expect_tensor(got, out.detach(), what="Residual(3, 4, True, 2)(X) on CUDA")


def _cuda_run(ns, name, args, state, X):
    module = ns[name](*args).double().to(X.device)
    with trusted():  # noqa: F821
        module.load_state_dict(state)
    with torch.no_grad():
        return module(X)


def _residual_standin(c_in, c_out, stride):
    return {"sequential": [["conv2d", c_in, c_out, 3, stride, 1]]}


@exercise("resnet_block", weight=2)
def test_resnet_block_calls_residual(student):
    for args, first in [((64, 128, 2), False), ((32, 32, 3), True), ((8, 16, 1), False)]:
        c_in, c_out, n = args
        expected, outputs = [], []
        for i in range(n):
            if i == 0 and not first:
                expected.append({"input_channels": c_in, "num_channels": c_out,
                                 "use_1x1conv": True, "strides": 2})
                outputs.append(_residual_standin(c_in, c_out, 2))
            else:
                expected.append({"input_channels": c_out, "num_channels": c_out,
                                 "use_1x1conv": False, "strides": 1})
                outputs.append(_residual_standin(c_out, c_out, 1))
        what = f"resnet_block({c_in}, {c_out}, {n}, first_block={first})"
        got = student.scenario(_blocks, "resnet_block", [c_in, c_out, n], {"first_block": first},
                               {"Residual": _standins(outputs, "Residual")}, what=what)
        if got["error"]:
            fail(f"{what} {got['error']}")
        _expect_calls(got, "Residual", ref.Residual, expected, what)
        expect(got["order"] == list(range(n)),
               f"{what} must return the Residual blocks it built, in order, as a list; got "
               f"{got['order']}")


def _blocks(ns, name, args, kwargs, swaps):
    with objects.Swap(ns, swaps):  # noqa: F821
        blocks = ns[name](*args, **kwargs)
    outputs = swaps["Residual"].outputs
    if not isinstance(blocks, list):
        return {"error": f"returned a {type(blocks).__name__}; the book returns a list",
                "calls": {}, "order": []}
    order = [next((i for i, o in enumerate(outputs) if o is b), None) for b in blocks]
    return {"error": None, "calls": {"Residual": swaps["Residual"].calls}, "order": order}


RESNET_CALLS = [((64, 64, 2), True), ((64, 128, 2), False), ((128, 256, 2), False),
                ((256, 512, 2), False)]


@exercise("resnet18", weight=3)
def test_resnet18_stages(student):
    outputs = []
    for (c_in, c_out, n), first in RESNET_CALLS:
        stride = 1 if first else 2
        outputs.append({"list": [_residual_standin(c_in, c_out, stride)]
                        + [{"sequential": [["identity"]]} for _ in range(n - 1)]})
    shape = (1, 1, 96, 96)
    got, what = _trace_student(student, "resnet18", (), shape,
                               swaps={"resnet_block": _standins(outputs, "resnet_block")},
                               what="resnet18()")
    expected_calls = []
    for (c_in, c_out, n), first in RESNET_CALLS:
        expected_calls.append({"input_channels": c_in, "num_channels": c_out,
                               "num_residuals": n, "first_block": first})
    _expect_calls(got, "resnet_block", ref.resnet_block, expected_calls, what)
    placed = got["placed"]["resnet_block"]
    want = [f"{stage}.{i}" for stage, ((_, _, n), _) in enumerate(RESNET_CALLS, start=1)
            for i in range(n)]
    expect(placed == want, f"{what} must wrap each resnet_block(...) list as one "
           f"nn.Sequential, stages at indices 1-4 (found the blocks at {placed})")
    with torch.device("meta"):
        expected = ref.resnet18()
        for stage, ((c_in, c_out, n), first) in enumerate(RESNET_CALLS, start=1):
            stride = 1 if first else 2
            expected[stage] = torch.nn.Sequential(
                torch.nn.Conv2d(c_in, c_out, 3, stride, 1),
                *[torch.nn.Identity() for _ in range(n - 1)])
    _expect_layers(got, _signature(expected, shape), what, shape)


# --- batch normalization ------------------------------------------------------------------------


def _library_batch_norm(X, gamma, beta, mean, var, eps, momentum):
    """The book's batch_norm through F.batch_norm: how it maps onto nn.BatchNorm*.

    PyTorch's ``momentum`` weights the new value (the book's ``1 - momentum``) and its running
    variance is the unbiased one; the book's moving variance uses the biased one, so the
    running variance is computed here from the biased batch variance directly.
    """
    dims = (0,) if X.dim() == 2 else (0, 2, 3)

    def flat(t):
        return t.reshape(-1)

    if torch.is_grad_enabled():
        Y = F.batch_norm(X, None, None, flat(gamma), flat(beta), training=True, eps=eps)
        batch_mean = X.mean(dim=dims, keepdim=True).reshape(mean.shape)
        batch_var = X.var(dim=dims, unbiased=False, keepdim=True).reshape(var.shape)
        new_mean = momentum * mean + (1 - momentum) * batch_mean
        new_var = momentum * var + (1 - momentum) * batch_var
        return Y, new_mean.detach(), new_var.detach()
    Y = F.batch_norm(X, flat(mean), flat(var), flat(gamma), flat(beta), training=False, eps=eps)
    return Y, mean, var


def _bn_inputs(gen, dims, device=None):
    shape = (6, 4) if dims == 2 else (3, 4, 5, 2)
    param = (1, 4) if dims == 2 else (1, 4, 1, 1)
    X = st.normal(gen, *shape, scale=2.0, device=device) + 1.0
    return (X, st.positive(gen, *param, device=device), st.normal(gen, *param, device=device),
            st.normal(gen, *param, device=device), st.positive(gen, *param, device=device))


def _bn_training(ns, X, gamma, beta, mean, var, G):
    X, gamma, beta = (t.clone().requires_grad_(True) for t in (X, gamma, beta))
    Y, new_mean, new_var = ns["batch_norm"](X, gamma, beta, mean, var, eps=1e-5, momentum=0.9)
    with trusted():  # noqa: F821
        grads = torch.autograd.grad(Y, (X, gamma, beta), G, allow_unused=True)
    return {"Y": Y, "mean": new_mean, "var": new_var, "grads": list(grads),
            "history": [bool(t.requires_grad) for t in (new_mean, new_var)]}


def _bn_inference(ns, X, gamma, beta, mean, var):
    with torch.no_grad():
        Y, new_mean, new_var = ns["batch_norm"](X, gamma, beta, mean, var, eps=1e-5,
                                                momentum=0.9)
    return {"Y": Y, "mean": new_mean, "var": new_var}


@exercise("batch_norm")
def test_batch_norm_example(student):
    X = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    got = student.scenario(_bn_training, X, torch.ones(1, 2), torch.zeros(1, 2),
                           torch.zeros(1, 2), torch.ones(1, 2), torch.ones(2, 2),
                           what="batch_norm on the worked example")
    expect_tensor(got["mean"], torch.tensor([[0.2, 0.4]]), what="the updated moving mean of "
                  "the worked example", check_dtype=False)


@exercise("batch_norm", weight=2)
def test_batch_norm_training(student, gen, device):
    for dims in (2, 4):
        X, gamma, beta, mean, var = _bn_inputs(gen, dims, device)
        Y, new_mean, new_var = _library_batch_norm(X, gamma, beta, mean, var, 1e-5, 0.9)
        G = st.normal(gen, *Y.shape, device=device)
        what = f"batch_norm on a {dims}-D batch in training"
        inputs = f"X of shape {tuple(X.shape)}"
        got = student.scenario(_bn_training, X, gamma, beta, mean, var, G, what=what)
        expect_tensor(got["Y"], Y.detach(), what=f"the output of {what}", inputs=inputs,
                      hint=_("normalise with the batch mean and the biased batch variance per "
                             "feature") if dims == 2 else
                      _("normalise with the batch mean and the biased batch variance per channel "
                        "(over batch, height, width)"))
        expect_tensor(got["mean"], new_mean, what=f"the moving mean returned by {what}",
                      inputs=inputs, hint=_("momentum * moving_mean + (1 - momentum) * mean"))
        expect_tensor(got["var"], new_var, what=f"the moving variance returned by {what}",
                      inputs=inputs,
                      hint=_("momentum * moving_var + (1 - momentum) * var, the biased variance"))
        expect(got["history"] == [False, False],
               f"the moving statistics returned by {what} still carry gradient history; return "
               "them detached (the book returns .data)")
        expect_vjp({"grads": got["grads"]},
                   lambda X_, g, b, m=mean, v=var: _library_batch_norm(X_, g, b, m, v, 1e-5,
                                                                      0.9)[0],
                   (X, gamma, beta), [0, 1, 2], G, what=what, names=["X", "gamma", "beta"],
                   inputs=inputs)


@exercise("batch_norm", weight=2)
def test_batch_norm_prediction_uses_moving_statistics(student, gen):
    for dims in (2, 4):
        X, gamma, beta, mean, var = _bn_inputs(gen, dims)
        with torch.no_grad():
            Y, _mean, _var = _library_batch_norm(X, gamma, beta, mean, var, 1e-5, 0.9)
        what = f"batch_norm on a {dims}-D batch under torch.no_grad()"
        got = student.scenario(_bn_inference, X, gamma, beta, mean, var, what=what)
        expect_tensor(got["Y"], Y, what=f"the output of {what}",
                      inputs=f"X of shape {tuple(X.shape)}",
                      hint=_("when torch.is_grad_enabled() is False, normalise with moving_mean "
                             "and moving_var and leave them unchanged"))
        expect_tensor(got["mean"], mean, what=f"the moving mean returned by {what}")
        expect_tensor(got["var"], var, what=f"the moving variance returned by {what}")


@exercise("batch_norm")
@pytest.mark.gpu
def test_batch_norm_on_cuda(student, gen):
    X, gamma, beta, mean, var = _bn_inputs(gen, 4, "cuda")
    Y, new_mean, new_var = _library_batch_norm(X, gamma, beta, mean, var, 1e-5, 0.9)
    G = st.normal(gen, *Y.shape, device="cuda")
    got = student.scenario(_bn_training, X, gamma, beta, mean, var, G,
                           what="batch_norm on CUDA")
    expect_tensor(got["Y"], Y.detach(), what="batch_norm's output on CUDA")
    expect_tensor(got["var"], new_var, what="batch_norm's moving variance on CUDA")


def _bn_layer(ns, num_features, num_dims, X, replies, device):
    layer = ns["BatchNorm"](num_features, num_dims)
    info = {"params": {n: list(p.shape) for n, p in layer.named_parameters()},
            "initial": {n: getattr(layer, n, None) for n in ("gamma", "beta", "moving_mean",
                                                            "moving_var")}}
    info["initial"] = {k: (v.detach().clone() if isinstance(v, torch.Tensor) else None)
                       for k, v in info["initial"].items()}
    if X is None:
        return info
    layer = layer.to(device)
    swap = {"batch_norm": replies}
    with objects.Swap(ns, swap):  # noqa: F821
        out = layer(X.to(device))
    info.update(output=out, calls=replies.calls,
                moving_mean=getattr(layer, "moving_mean", None),
                moving_var=getattr(layer, "moving_var", None))
    return info


def _expect_bn_layer(student, gen, num_features, num_dims, device="cpu"):
    what = f"BatchNorm({num_features}, {num_dims})"
    shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
    X = st.normal(gen, *((5, num_features) if num_dims == 2 else (2, num_features, 3, 3)),
                  dtype=torch.float32)
    reply = (st.normal(gen, *X.shape, dtype=torch.float32, device=device),
             st.normal(gen, *shape, dtype=torch.float32, device=device),
             st.positive(gen, *shape, dtype=torch.float32, device=device))
    replies = _standins([{"value": list(reply)}], "batch_norm")
    got = student.scenario(_bn_layer, num_features, num_dims, X, replies, device, what=what,
                           name="BatchNorm")
    expect(got["params"] == {"gamma": list(shape), "beta": list(shape)},
           f"{what} has parameters {got['params']}; expected gamma and beta of shape "
           f"{list(shape)} (moving statistics are not parameters)")
    initial = got["initial"]
    for key, fill in (("gamma", 1.0), ("beta", 0.0), ("moving_mean", 0.0), ("moving_var", 1.0)):
        value = initial.get(key)
        if value is None:
            fail(f"{what} has no attribute {key}")
        expect_tensor(value, torch.full(shape, fill), what=f"{what}'s initial {key}",
                      check_dtype=False)
    calls = got["calls"]
    expect(len(calls) == 1, f"{what}'s forward called batch_norm {len(calls)} times; expected "
           "once")
    bound = _bound(ref.batch_norm, calls[0])
    expect_tensor(bound["X"], X.to(device), what=f"the X that {what} passed to batch_norm")
    for key, fill in (("moving_mean", 0.0), ("moving_var", 1.0), ("gamma", 1.0), ("beta", 0.0)):
        expect_tensor(bound[key], torch.full(shape, fill, device=device),
                      what=f"the {key} that {what} passed to batch_norm", check_dtype=False)
    expect(bound["eps"] == 1e-5 and bound["momentum"] == 0.9,
           f"{what} called batch_norm with eps={bound['eps']} and momentum={bound['momentum']}; "
           "the book uses eps=1e-5 and momentum=0.9")
    expect_tensor(got["output"], reply[0], what=f"{what}(X)",
                  hint=_("return the Y that batch_norm returns"))
    expect_tensor(got["moving_mean"], reply[1], what=f"{what}.moving_mean after forward",
                  hint=_("store the moving statistics that batch_norm returns"))
    expect_tensor(got["moving_var"], reply[2], what=f"{what}.moving_var after forward")


@exercise("BatchNorm", weight=3)
def test_batchnorm_layer(student, gen):
    _expect_bn_layer(student, gen, 3, 4)
    _expect_bn_layer(student, gen, 5, 2)


@exercise("BatchNorm")
def test_batchnorm_layer_parameters_for_many_features(student, gen):
    _expect_bn_layer(student, gen, 7, 2)


@exercise("BatchNorm")
@pytest.mark.gpu
def test_batchnorm_layer_on_cuda(student, gen):
    _expect_bn_layer(student, gen, 3, 4, device="cuda")


# --- DenseNet -----------------------------------------------------------------------------------


@exercise("conv_block")
def test_conv_block_layers(student, gen):
    for c_in, c_out in [(3, 10), (23, 4), (st.sizes(gen, 1, 9), st.sizes(gen, 1, 9))]:
        shape = (2, c_in, 7, 6)
        got, what = _trace_student(student, "conv_block", (c_in, c_out), shape)
        _expect_layers(got, _signature(ref.conv_block(c_in, c_out), shape), what, shape)


@exercise("conv_block")
def test_conv_block_with_reference_weights(student, gen):
    _expect_run(student, "conv_block", ref.conv_block(3, 5), (3, 5), st.normal(gen, 4, 3, 6, 6),
                gen, what="conv_block(3, 5)")


def _conv_block_standin(c_in, c_out):
    return {"sequential": [["batchnorm2d", c_in], ["relu"], ["conv2d", c_in, c_out, 3, CONV3]]}


@exercise("DenseBlock", weight=3)
def test_dense_block(student, gen):
    for num_convs, c_in, growth in [(2, 3, 10), (3, 2, 4)]:
        what = f"DenseBlock({num_convs}, {c_in}, {growth})"
        outputs = [_conv_block_standin(c_in + i * growth, growth) for i in range(num_convs)]
        _expect_run(student, "DenseBlock", ref.DenseBlock(num_convs, c_in, growth),
                    (num_convs, c_in, growth), st.normal(gen, 4, c_in, 5, 5), gen,
                    swaps={"conv_block": _standins(outputs, "conv_block")}, what=what)


@exercise("transition_block", weight=2)
def test_transition_block(student, gen):
    for c_in, c_out in [(23, 10), (6, 3), (st.sizes(gen, 2, 9), st.sizes(gen, 1, 9))]:
        shape = (2, c_in, 8, 6)
        got, what = _trace_student(student, "transition_block", (c_in, c_out), shape)
        _expect_layers(got, _signature(ref.transition_block(c_in, c_out), shape), what, shape)
    _expect_run(student, "transition_block", ref.transition_block(4, 2), (4, 2),
                st.normal(gen, 3, 4, 6, 6), gen, what="transition_block(4, 2)")
