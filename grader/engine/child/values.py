"""Values across the boundary: grader-supplied objects built from specs (``import_value``); the
export of what the student returned lives in ``export.py`` (re-exported here)."""

from __future__ import annotations

import random

import torch

from .export import describe_exception, export  # noqa: F401 - calls.py imports them here
from .fromscratch import trusted
from .objects import KINDS as OBJECT_KINDS
from .objects import TrustedModule  # noqa: F401 - calls.py imports it from here
from .objects import build as build_object


class BatchIterable:
    """A re-iterable sequence of (X, y) batches, like a DataLoader without workers."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter([tuple(b) for b in self.batches])

    def __len__(self):
        return len(self.batches)


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
        elif kind in OBJECT_KINDS:
            obj = build_object(value)
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


def seed_all(seed) -> None:
    if seed is not None:
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            import numpy as np

            np.random.seed(seed % 2**32)
        except ImportError:
            pass


