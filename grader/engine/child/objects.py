"""Grader-supplied objects, built the same way in the grader's process and in the sandbox.

A check describes the objects it hands to student code as plain specs (lists, numbers, tensors)
that cross the boundary; this module turns a spec into the object on both sides, so that the
grader's reference copy of a network is the very network the sandbox builds.

- Layers: ``build_layers([["flatten"], ["linear", 12, 4], ["relu"]])``; a spec is
  ``[kind, *args]`` with an optional trailing dict of keyword arguments (``{"bias": False}``).
- ``TrustedModule(layers)``: a ``Sequential`` of those layers (state-dict keys ``net.0.weight``,
  …) whose own ops never count as the student's; ``module_spec(module)`` is its ``__build__``
  spec with the current weights.
- Trusted callables for the swap-in pattern (an exercise calls another exercise, e.g.
  ``evaluate_accuracy`` calls ``accuracy``): a library op named by its dotted path
  (``library("torch.relu")``), one of the generic ``FUNCTIONS`` here, or ``Replay`` of values the
  grader computed. None of them is a course solution: their source is torch's or this generic
  module's, which is no secret.

Imported only with the standard library and torch (the sandbox's rule).
"""

from __future__ import annotations

import torch

from .fromscratch import trusted

# Scenarios reach these as ``objects.run_ranks`` / ``objects.RankFailure``: see ranks.py, where
# ``def run_ranks(world_size, target, args=(), seconds=30.0)`` documents the multi-process API.
from .ranks import RankFailure, run_ranks  # noqa: F401

LAYERS = {
    "linear": torch.nn.Linear,
    "flatten": torch.nn.Flatten,
    "relu": torch.nn.ReLU,
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "dropout": torch.nn.Dropout,
    "identity": torch.nn.Identity,
    "adaptiveavgpool2d": torch.nn.AdaptiveAvgPool2d,
    "conv2d": torch.nn.Conv2d,
    "maxpool2d": torch.nn.MaxPool2d,
    "avgpool2d": torch.nn.AvgPool2d,
    "batchnorm1d": torch.nn.BatchNorm1d,
    "batchnorm2d": torch.nn.BatchNorm2d,
    "layernorm": torch.nn.LayerNorm,
    "embedding": torch.nn.Embedding,
}

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
          "float64": torch.float64}


def build_layer(spec: list | tuple) -> torch.nn.Module:
    """One layer from ``[kind, *args]`` (plus an optional trailing dict of keyword arguments)."""
    kind, *args = spec
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    if kind not in LAYERS:
        raise ValueError(f"unknown layer kind {kind!r}; known: {', '.join(LAYERS)}")
    return LAYERS[kind](*args, **kwargs)


def build_layers(specs: list) -> list[torch.nn.Module]:
    """The layers of ``specs``, in order (fresh parameters: load a state dict to fix them)."""
    return [build_layer(spec) for spec in specs]


class TrustedModule(torch.nn.Module):
    """A grader-supplied network: ``Sequential(*build_layers(layers))`` as ``self.net``.

    Its own ops run inside ``trusted()``, so a forbidden op it uses legitimately (a softmax, a
    dropout) never counts against the student's code that calls it.
    """

    def __init__(self, layers: list):
        super().__init__()
        self.layers = [list(spec) for spec in layers]
        self.net = torch.nn.Sequential(*build_layers(layers))

    def forward(self, *args, **kwargs):
        with trusted():
            return self.net(*args, **kwargs)


def build_module(layers: list, state_dict: dict | None = None,
                 dtype: str | None = None) -> TrustedModule:
    """A ``TrustedModule`` of ``layers`` in ``dtype`` (a name, e.g. "float64") with
    ``state_dict`` loaded (keys ``net.0.weight``, …), exactly as on the other side."""
    module = TrustedModule(layers)
    if dtype is not None:
        module = module.to(DTYPES[dtype])
    if state_dict is not None:
        with trusted():
            module.load_state_dict(state_dict)
    return module


def module_spec(module: TrustedModule, key: str | None = "net") -> dict:
    """The ``__build__`` spec that rebuilds ``module`` with its current weights elsewhere.

    ``key`` names the object in the request's ``objects`` (e.g. for a builtin optimizer).
    """
    dtype = next((str(p.dtype).removeprefix("torch.") for p in module.parameters()), None)
    spec = {"__build__": "module", "layers": module.layers,
            "state_dict": {k: v.detach().clone() for k, v in module.state_dict().items()}}
    if dtype is not None and dtype != "float32":
        spec["dtype"] = dtype
    if key is not None:
        spec["key"] = key
    return spec


def random_module(layers: list, gen: torch.Generator, scale: float = 0.5,
                  dtype: torch.dtype = torch.float32) -> TrustedModule:
    """A ``TrustedModule`` whose parameters are ``scale`` times standard normals from ``gen``."""
    module = TrustedModule(layers).to(dtype)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale)
    return module


# --- trusted callables ----------------------------------------------------------------------------


class Trusted:
    """Call ``fn`` with from-scratch recording suspended (its ops are the grader's)."""

    def __init__(self, fn, name: str = ""):
        self.fn = fn
        self.__name__ = name or getattr(fn, "__name__", "trusted")

    def __call__(self, *args, **kwargs):
        with trusted():
            return self.fn(*args, **kwargs)


def library(path: str) -> Trusted:
    """A torch function by its dotted path (``"torch.relu"``, ``"torch.nn.functional.dropout"``)."""
    if path.split(".")[0] != "torch":
        raise ValueError(f"library functions come from torch; got {path!r}")
    obj = torch
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{path} is not callable")
    return Trusted(obj, path.rsplit(".", 1)[-1])


def classification_hits(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """How many predictions match ``labels``, as a Python float (a generic metric).

    ``scores`` of shape ``(n, q)`` with ``q > 1`` predict the arg-max class of each row; any other
    shape already holds predicted classes, compared after conversion to the labels' dtype.
    """
    predicted = scores.argmax(dim=1) if scores.dim() > 1 and scores.shape[1] > 1 else scores
    return float((predicted.to(labels.dtype) == labels).sum().item())


def cross_correlation_2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The 2-D cross-correlation of one input and one kernel (stride 1, no padding), through the
    library's convolution."""
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]


def cross_correlation_2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation of ``(c, h, w)`` inputs with ``(c, k_h, k_w)`` kernels, summed over the
    channels, through the library's convolution."""
    return torch.nn.functional.conv2d(X[None], K[None])[0, 0]


def evaluated_accuracy(net, data_iter, device=None) -> float:
    """The fraction of correct predictions of ``net`` over ``data_iter`` in evaluation mode
    (a generic metric; batches are moved to ``device`` when given)."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    hits = count = 0.0
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None:
                X = X.to(device)
                y = y.to(device)
            hits += classification_hits(net(X), y)
            count += y.numel()
    return hits / count


FUNCTIONS = {"classification_hits": classification_hits,
             "evaluated_accuracy": evaluated_accuracy,
             "cross_correlation_2d": cross_correlation_2d,
             "cross_correlation_2d_multi_in": cross_correlation_2d_multi_in}


def function(name: str) -> Trusted:
    """A generic function of this module (``FUNCTIONS``) or a torch function by dotted path."""
    if name in FUNCTIONS:
        return Trusted(FUNCTIONS[name], name)
    return library(name)


class Replay:
    """Return the grader's precomputed ``outputs`` in order, one per call; record each call.

    ``calls`` holds, per call, the shapes of its tensor arguments and its other arguments as
    given. A call beyond the last output raises ``RuntimeError``.
    """

    def __init__(self, outputs: list, name: str = "replay"):
        self.outputs = list(outputs)
        self.calls: list[list] = []
        self.__name__ = name

    def __call__(self, *args):
        self.calls.append([list(a.shape) if isinstance(a, torch.Tensor) else a for a in args])
        if len(self.calls) > len(self.outputs):
            raise RuntimeError(f"{self.__name__} was called {len(self.calls)} times; the check "
                               f"expected {len(self.outputs)} calls")
        return self.outputs[len(self.calls) - 1]


class Swap:
    """Within ``with Swap(ns, {"accuracy": fn}):``, the names in the student's namespace ``ns``
    refer to the given objects; afterwards each is restored (or removed if it was missing)."""

    def __init__(self, ns: dict, replacements: dict):
        self.ns = ns
        self.replacements = replacements
        self.saved: dict = {}

    def __enter__(self) -> Swap:
        missing = object()
        self.saved = {name: self.ns.get(name, missing) for name in self.replacements}
        self._missing = missing
        self.ns.update(self.replacements)
        return self

    def __exit__(self, *exc) -> None:
        for name, value in self.saved.items():
            if value is self._missing:
                self.ns.pop(name, None)
            else:
                self.ns[name] = value


class StandIns:
    """Stand in for a callee that builds modules (``vgg_block``, ``Residual``, ``conv_block``):
    each call, whatever its arguments, returns the next of the grader's prebuilt ``outputs`` and
    records ``[args, kwargs]``; the check compares the recorded calls with the spec and finds
    its stand-ins (by identity) in what the student's function built."""

    def __init__(self, outputs: list, name: str = "stand-in"):
        self.outputs = outputs
        self.calls: list[list] = []
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        self.calls.append([list(args), dict(kwargs)])
        if len(self.calls) > len(self.outputs):
            raise RuntimeError(f"{self.__name__} was called {len(self.calls)} times; the "
                               f"specification makes {len(self.outputs)} calls")
        return self.outputs[len(self.calls) - 1]


def build_output(spec: dict) -> object:
    """A stand-in's output: ``{"sequential": layer_specs}`` is an ``nn.Sequential`` of those
    layers, ``{"list": [spec, ...]}`` a Python list of such outputs, ``{"value": v}`` the value
    ``v`` itself (tensors, tuples of tensors)."""
    if "list" in spec:
        return [build_output(item) for item in spec["list"]]
    if "value" in spec:
        value = spec["value"]
        return tuple(value) if isinstance(value, list) else value
    return torch.nn.Sequential(*build_layers(spec["sequential"]))


KINDS = ("module", "function", "replay", "standins")


def build(spec: dict) -> object:
    """The object of a ``{"__build__": kind, ...}`` spec of one of ``KINDS``.

    - ``module``: ``layers``, optional ``state_dict`` and ``dtype`` (see ``build_module``);
    - ``function``: ``name`` (see ``function``);
    - ``replay``: ``outputs``, optional ``name`` (see ``Replay``);
    - ``standins``: ``outputs`` (see ``build_output``), optional ``name`` (see ``StandIns``).
    """
    kind = spec["__build__"]
    if kind == "module":
        return build_module(spec["layers"], spec.get("state_dict"), spec.get("dtype"))
    if kind == "function":
        return function(spec["name"])
    if kind == "replay":
        return Replay(spec["outputs"], spec.get("name", "replay"))
    if kind == "standins":
        return StandIns([build_output(o) for o in spec["outputs"]], spec.get("name", "stand-in"))
    raise ValueError(f"unknown object kind {kind!r}")
