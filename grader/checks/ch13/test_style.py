"""ch13 checks of style transfer beyond the Gram matrix (13.12): the style loss, feature
extraction and the weighted loss.

Each runs with grader stand-ins for the exercises it calls (``gram``; ``content_loss``,
``style_loss``, ``tv_loss``), so one mistake costs points once. ``extract_features`` runs on a
small network the grader puts in the notebook's global ``net`` (the book's truncated VGG-19
stands there), ``compute_loss`` with the book's global weights 1, 1e3 and 10 in place.
"""

import pytest
import torch

import solutions.ch13 as ref
from grader.engine.compare import expect, expect_tensor, fail, sequence
from grader.engine.plugin import exercise
from grader.i18n import _

F64 = torch.float64
WEIGHTS = {"content_weight": 1, "style_weight": 1e3, "tv_weight": 10}


# --- scenario (run in the sandbox) ----------------------------------------------------------------


def _style_run(ns, name, args, wrt, G, weights, layers, seed):
    """``name(*args)`` with stand-ins for the losses and the Gram matrix, the given global
    ``weights`` and, with ``layers``, a small network built from ``seed`` as the global
    ``net``; the gradient of ``sum(<result_k, G_k>)`` over the result's tensors (flattened
    from nested lists) with respect to the arguments in ``wrt`` (nested lists of tensors
    allowed)."""

    def g_gram(X):
        flat = X.reshape(X.shape[1], -1)
        return flat @ flat.transpose(0, 1) / X.numel()

    def g_content(Y_hat, Y):
        return ((Y_hat - Y.detach()) ** 2).mean()

    def g_style(Y_hat, gram_Y):
        return ((g_gram(Y_hat) - gram_Y.detach()) ** 2).mean()

    def g_tv(Y_hat):
        dv = (Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).abs().mean()
        dh = (Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).abs().mean()
        return (dv + dh) / 2

    def leaves_of(value):
        if isinstance(value, torch.Tensor):
            return [value]
        if isinstance(value, (list, tuple)):
            return [t for v in value for t in leaves_of(v)]
        return []

    def as_leaf(value):
        if isinstance(value, torch.Tensor):
            return value.detach().clone().requires_grad_(True)
        return [as_leaf(v) for v in value]

    stand_ins = {"gram": g_gram, "content_loss": g_content, "style_loss": g_style,
                 "tv_loss": g_tv}
    swaps = {k: v for k, v in stand_ins.items() if k in ns and k != name}
    swaps.update(weights)
    if layers:
        with trusted():  # noqa: F821
            torch.manual_seed(seed)
            swaps["net"] = torch.nn.Sequential(*objects.build_layers(layers)).double()  # noqa: F821
    args = [as_leaf(a) if i in wrt else a for i, a in enumerate(args)]
    with objects.Swap(ns, swaps):  # noqa: F821
        result = ns[name](*args)
    outs = leaves_of(result)
    grads = None
    if len(outs) == len(G) and all(o.shape == g.shape for o, g in zip(outs, G)):
        pairs = [(o, g) for o, g in zip(outs, G) if o.requires_grad]
        inputs = [t for i in wrt for t in leaves_of(args[i])]
        if pairs:
            with trusted():  # noqa: F821
                grads = list(torch.autograd.grad([o for o, _ in pairs], inputs,
                                                 [g for _, g in pairs], allow_unused=True))
    return {"result": result, "grads": grads}


def flat(value):
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in flat(v)]


def as_leaf(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(True)
    return [as_leaf(v) for v in value]


def run_and_compare(student, gen, name, reference, args, wrt, *, layers=(), seed=0, what,
                    hint, names):
    """Run ``name(*args)`` in the sandbox and ``reference`` here; compare every tensor of the
    results (nested lists flattened) and the gradients of a random projection of them."""
    expected = reference(*args)
    G = [torch.randn(t.shape, generator=gen, dtype=F64) for t in flat(expected)]
    answer = student.scenario(_style_run, name, list(args), list(wrt), G, WEIGHTS, list(layers),
                              seed, what=what, name=name)
    got = answer["result"]
    got_flat = flatten_answer(got, expected, what)
    for k, (g, e) in enumerate(zip(got_flat, flat(expected))):
        expect_tensor(g, e, what=f"{what}: {names[k] if k < len(names) else f'item {k}'}",
                      hint=hint)
    leaves = [as_leaf(a) if i in wrt else a for i, a in enumerate(args)]
    inputs = [t for i in wrt for t in flat(leaves[i])]
    outs = flat(reference(*leaves))
    pairs = [(o, g) for o, g in zip(outs, G) if o.requires_grad]
    grads = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                allow_unused=True)
    if answer["grads"] is None:
        fail(f"{what} is not differentiable: its results do not depend on the inputs through "
             "autograd (avoid .detach(), .item() or building new tensors)")
    for k, (g, e) in enumerate(zip(answer["grads"], grads)):
        if e is None:
            continue
        if g is None:
            fail(f"the gradient of {what} with respect to input tensor {k + 1} is missing: the "
                 "results must depend on it through autograd")
        expect_tensor(g, e, what=f"the gradient of {what} with respect to input tensor {k + 1}",
                      hint=hint)


def flatten_answer(got, expected, what):
    """The student's result flattened like ``expected`` (same nesting of lists and tuples)."""
    if isinstance(expected, torch.Tensor):
        return [got]
    items = sequence(got, what)
    expect(len(items) == len(expected),
           f"{what} returned {len(items)} items; expected {len(expected)}")
    out = []
    for k, (g, e) in enumerate(zip(items, expected)):
        out.extend(flatten_answer(g, e, f"{what}[{k}]"))
    return out


# --- grader references ----------------------------------------------------------------------------


def reference_compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    contents_l = [ref.content_loss(a, b) * WEIGHTS["content_weight"]
                  for a, b in zip(contents_Y_hat, contents_Y)]
    styles_l = [torch.square(ref.gram(a) - b.detach()).mean() * WEIGHTS["style_weight"]
                for a, b in zip(styles_Y_hat, styles_Y_gram)]
    tv_l = ref.tv_loss(X) * WEIGHTS["tv_weight"]
    total = tv_l + sum(contents_l) + sum(styles_l)
    return contents_l, styles_l, tv_l, total


NET_LAYERS = [["conv2d", 3, 4, 3, {"padding": 1}], ["relu"], ["conv2d", 4, 5, 3, {"padding": 1}],
              ["relu"], ["maxpool2d", 2], ["conv2d", 5, 6, 3, {"padding": 1}], ["relu"],
              ["conv2d", 6, 4, 1]]


def reference_features(seed, content_layers, style_layers):
    from grader.engine.child.objects import build_layers

    torch.manual_seed(seed)
    net = torch.nn.Sequential(*build_layers(NET_LAYERS)).double()

    def extract(X):
        contents, styles = [], []
        for i, layer in enumerate(net):
            X = layer(X)
            if i in content_layers:
                contents.append(X)
            if i in style_layers:
                styles.append(X)
        return contents, styles

    return extract


# --- checks ---------------------------------------------------------------------------------------


@exercise("style_loss")
@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (1, 5, 3, 2)])
def test_style_loss(student, gen, shape):
    Y_hat = torch.randn(shape, generator=gen, dtype=F64)
    Y = torch.randn(shape, generator=gen, dtype=F64)
    gram_Y = ref.gram(Y)
    run_and_compare(student, gen, "style_loss", lambda a, b: torch.square(
        ref.gram(a) - b.detach()).mean(), (Y_hat, gram_Y), [0],
        what=f"style_loss(Y_hat of shape {shape}, gram_Y of shape {tuple(gram_Y.shape)})",
        names=["the loss"], hint=_("the mean of the squared differences between gram(Y_hat) and "
                                   "gram_Y"))


@exercise("extract_features")
@pytest.mark.parametrize("layers", [([5], [0, 3, 5]), ([7, 2], [1])])
def test_extract_features(student, gen, layers):
    content_layers, style_layers = layers
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
    X = torch.randn(1, 3, 6, 8, generator=gen, dtype=F64)
    extract = reference_features(seed, content_layers, style_layers)
    run_and_compare(student, gen, "extract_features", lambda X, c, s: extract(X),
                    (X, content_layers, style_layers), [0], layers=NET_LAYERS, seed=seed,
                    what=f"extract_features(X, {content_layers}, {style_layers}) with an "
                         "8-layer net",
                    names=[f"contents[{k}]" for k in range(len(content_layers))]
                    + [f"styles[{k}]" for k in range(len(style_layers))],
                    hint=_("run net[0], net[1], ... in turn on X; after layer i, append its "
                           "output to contents if i is in content_layers and to styles if i is "
                           "in style_layers (both when it is in both); return (contents, styles)"))


@exercise("compute_loss")
def test_compute_loss(student, gen):
    X = torch.randn(1, 3, 6, 5, generator=gen, dtype=F64)
    contents_Y_hat = [torch.randn(1, 4, 3, 3, generator=gen, dtype=F64)]
    contents_Y = [torch.randn(1, 4, 3, 3, generator=gen, dtype=F64)]
    styles_Y_hat = [torch.randn(1, c, 4, 3, generator=gen, dtype=F64) for c in (2, 5)]
    styles_Y_gram = [ref.gram(torch.randn(1, c, 4, 3, generator=gen, dtype=F64))
                     for c in (2, 5)]
    run_and_compare(student, gen, "compute_loss", reference_compute_loss,
                    (X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram), [0, 1, 2],
                    what="compute_loss(X, contents_Y_hat (1 layer), styles_Y_hat (2 layers), "
                         "contents_Y, styles_Y_gram)",
                    names=["contents_l[0]", "styles_l[0]", "styles_l[1]", "tv_l", "l"],
                    hint=_("each content loss times content_weight, each style loss times "
                           "style_weight, tv_loss(X) times tv_weight; l is the sum of them all"))
