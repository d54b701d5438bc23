"""Values across the boundary: grader-supplied objects built from specs (``import_value``) and
anything the student returned turned into tensors and plain containers (``export``)."""

from __future__ import annotations

import random
import traceback
import types

import torch

from .fromscratch import trusted

MAX_ITEMS = 10_000

class BatchIterable:
    """A re-iterable sequence of (X, y) batches, like a DataLoader without workers."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter([tuple(b) for b in self.batches])

    def __len__(self):
        return len(self.batches)


def _layer(spec):
    kind, *params = spec
    if kind == "linear":
        return torch.nn.Linear(*params)
    if kind == "flatten":
        return torch.nn.Flatten()
    if kind == "relu":
        return torch.nn.ReLU()
    if kind == "sigmoid":
        return torch.nn.Sigmoid()
    if kind == "dropout":
        return torch.nn.Dropout(*params)
    raise ValueError(f"unknown layer spec {spec!r}")


class TrustedModule(torch.nn.Module):
    """A grader-supplied network; its own ops never count against the student."""

    def __init__(self, layers):
        super().__init__()
        self.net = torch.nn.Sequential(*[_layer(s) for s in layers])

    def forward(self, *args, **kwargs):
        with trusted():
            return self.net(*args, **kwargs)


class TrustedCallable:
    """Wrap a grader-supplied callable so that its ops are not recorded."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        with trusted():
            return self.fn(*args, **kwargs)


class CallLog:
    """A grader-supplied updater that records how it was called and then does nothing else."""

    def __init__(self, then=None):
        self.calls = []
        self.then = then

    def __call__(self, *args):
        self.calls.append([export(a) for a in args])
        if self.then is not None:
            with trusted():
                return self.then(*args)
        return None


def builtin(name, objects, spec):
    if name == "cross_entropy_none":
        return TrustedCallable(torch.nn.CrossEntropyLoss(reduction="none"))
    if name == "mse_none":
        return TrustedCallable(torch.nn.MSELoss(reduction="none"))
    if name == "sgd_optimizer":
        with trusted():
            return torch.optim.SGD(objects[spec["module"]].parameters(), lr=spec["lr"])
    if name == "sgd_updater":
        module = objects[spec["module"]]
        lr = spec["lr"]

        def step(batch_size):
            with torch.no_grad():
                for p in module.parameters():
                    p -= lr * p.grad / batch_size
                    p.grad.zero_()

        return CallLog(step)
    raise ValueError(f"unknown builtin {name!r}")


def import_value(value, ns, objects):
    """Turn a request value into the object the student's function receives."""
    if isinstance(value, dict) and "__build__" in value:
        kind = value["__build__"]
        if kind == "batches":
            obj = BatchIterable(value["batches"])
        elif kind == "module":
            obj = TrustedModule(value["layers"])
            if "state_dict" in value:
                obj.load_state_dict(value["state_dict"])
        elif kind == "student":
            obj = ns[value["name"]]
        elif kind == "builtin":
            obj = builtin(value["name"], objects, value)
        elif kind == "tuple":
            obj = tuple(import_value(v, ns, objects) for v in value["items"])
        elif kind == "leaf":
            obj = value["tensor"].detach().clone().requires_grad_(True)
        else:
            raise ValueError(f"unknown build kind {kind!r}")
        if "key" in value:
            objects[value["key"]] = obj
        return obj
    if isinstance(value, list):
        return [import_value(v, ns, objects) for v in value]
    if isinstance(value, dict):
        return {k: import_value(v, ns, objects) for k, v in value.items()}
    return value


def export(value, depth: int = 0):
    """Turn anything the student returned into tensors and plain containers, tagged by kind."""
    if depth > 20:
        return {"__kind__": "object", "type": "too deeply nested", "repr": ""}
    if isinstance(value, torch.Tensor):
        plain = value.detach()
        if type(plain) is not torch.Tensor:
            plain = plain.as_subclass(torch.Tensor)
        return plain.clone()  # on its own device: the grader compares devices as such
    if value is None or isinstance(value, (bool, int, float, str)):
        if type(value) not in (bool, int, float, str, type(None)):
            return {"__kind__": "object", "type": type(value).__name__, "repr": repr(value)[:200]}
        return value
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(export(v, depth + 1) for v in value[:MAX_ITEMS])
    if isinstance(value, list) and type(value) is list:
        return [export(v, depth + 1) for v in value[:MAX_ITEMS]]
    if isinstance(value, dict) and type(value) is dict:
        return {str(k): export(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    if kind.__module__ == "numpy" or kind.__module__.startswith("numpy."):
        import numpy as np

        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return {"__kind__": "ndarray", "type": name, "value": torch.from_numpy(value.copy())}
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"__kind__": "number", "type": name, "value": value.item()}
    if isinstance(value, torch.nn.Module):
        return {"__kind__": "module", "type": name,
                "state_dict": {k: export(v) for k, v in value.state_dict().items()}}
    if isinstance(value, (types.GeneratorType, map, filter, zip)) or (
        hasattr(value, "__next__") and hasattr(value, "__iter__")
    ):
        items = []
        for item in value:
            items.append(export(item, depth + 1))
            if len(items) >= MAX_ITEMS:
                break
        return {"__kind__": "iterator", "type": name, "items": items}
    if isinstance(value, (range, set, frozenset, tuple, list)):
        return {"__kind__": "sequence", "type": name,
                "items": [export(v, depth + 1) for v in list(value)[:MAX_ITEMS]]}
    if isinstance(value, dict):
        return {"__kind__": "mapping", "type": name,
                "items": {str(k): export(v, depth + 1)
                          for k, v in list(value.items())[:MAX_ITEMS]}}
    return {"__kind__": "object", "type": name, "repr": repr(value)[:200]}


def describe_exception(exc: BaseException) -> dict:
    """Describe an exception raised by the student's code, with their frames only."""
    frames = [
        f"{f.filename}, line {f.lineno}, in {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith("<cell")
    ]
    message = str(exc)
    if len(message) > 500:
        message = message[:500] + "…"
    return {"type": type(exc).__name__, "message": message, "where": frames[-3:]}


def seed_all(seed) -> None:
    if seed is not None:
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            import numpy as np

            np.random.seed(seed % 2**32)
        except ImportError:
            pass


