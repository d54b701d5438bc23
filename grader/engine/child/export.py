"""What leaves the sandbox: the student's values turned into data the grader can read, and the
student's exceptions described in a few bounded strings.

``export`` returns tensors (detached copies, on their own device), Python numbers, strings,
``None`` and plain lists, tuples and dicts; anything else becomes a dict tagged by kind:

- ``number``: ``{"type", "value"}``, a numeric scalar that is not a plain ``int``/``float``
  (``numpy.float64``, ``numpy.int64``, a subclass of ``int`` or ``float``); ``value`` is the
  Python number. A ``numpy.bool_`` comes back as a plain ``bool``.
- ``ndarray``: ``{"type", "value"}``, a numeric numpy array as a tensor.
- ``oversized``: ``{"type", "shape", "elements", "limit"}``, a tensor over ``MAX_ELEMENTS``
  elements, found before it is copied.
- ``module``: ``{"type", "state_dict"}``; ``iterator`` and ``sequence``: ``{"type", "items"}``;
  ``mapping``: ``{"type", "items"}`` (a dict with ``str`` keys).
- ``object``: ``{"type", "repr"}``, anything else.

Bounded here already (the grader bounds again whatever arrives): ``MAX_ITEMS`` items per
container, ``MAX_NODES`` values per export, ``MAX_DEPTH`` levels, ``TEXT_CHARS`` characters per
string. Imports only the standard library and torch (numpy only when the value is numpy's).
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Mapping, Sequence, Set

import torch

MAX_ITEMS = 10_000
MAX_NODES = 100_000
MAX_DEPTH = 20
MAX_ELEMENTS = 64 * 2**20  # the default of the grader's Limits.tensor_elements
TEXT_CHARS = 10_000
NAME_CHARS = 200


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def type_name(value: object) -> str:
    """``numpy.float64``, ``list``, ``mymodule.Thing``: bounded in length."""
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    return cut(name, NAME_CHARS)


def short_repr(value: object) -> str:
    """The value's ``repr``, cut to 200 characters (bytes are cut before they are printed)."""
    if isinstance(value, (bytes, bytearray)):
        return cut(repr(bytes(value[:200])), 200)
    try:
        return cut(repr(value), 200)
    except Exception:  # noqa: BLE001 - the student's __repr__ may raise anything
        return "(unprintable)"


def oversized(name: str, shape: tuple[int, ...]) -> dict:
    """The marker of an array too large to send, described by its shape (at most 8 sizes)."""
    sizes = [str(s) for s in shape[:8]] + (["…"] if len(shape) > 8 else [])
    elements = 1
    for size in shape:
        elements *= size
    return {"__kind__": "oversized", "type": name,
            "shape": "(" + ", ".join(sizes) + ("," if len(shape) == 1 else "") + ")",
            "elements": elements, "limit": MAX_ELEMENTS}


def _is_iterator(value: object) -> bool:
    return isinstance(value, (types.GeneratorType, map, filter, zip)) or (
        hasattr(value, "__next__") and hasattr(value, "__iter__"))


class _Export:
    """One export: the values left in its budget."""

    def __init__(self):
        self.left = MAX_NODES

    def value(self, value, depth: int):
        self.left -= 1
        if self.left < 0:
            return {"__kind__": "object", "type": "truncated", "repr": "too many values"}
        kind = type(value)
        if value is None or kind in (bool, int, float):
            return value
        if kind is str:
            return cut(value, TEXT_CHARS)
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        module = getattr(kind, "__module__", None)
        if isinstance(module, str) and (module == "numpy" or module.startswith("numpy.")):
            return self.numpy(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = int(value) if isinstance(value, int) else float(value)
            return {"__kind__": "number", "type": type_name(value), "value": number}
        if isinstance(value, str):
            return cut(str.__str__(value), TEXT_CHARS)
        if depth >= MAX_DEPTH:
            return {"__kind__": "object", "type": "too deeply nested", "repr": ""}
        if kind is tuple:
            return tuple(self.items(value, depth))
        if kind is list:
            return self.items(value, depth)
        if kind is dict:
            return self.mapping(value, depth)
        if isinstance(value, torch.nn.Module):
            return {"__kind__": "module", "type": type_name(value),
                    "state_dict": self.mapping(value.state_dict(), depth)}
        if isinstance(value, Mapping):
            return {"__kind__": "mapping", "type": type_name(value),
                    "items": self.mapping(value, depth)}
        if isinstance(value, (range, Set, Sequence)) and not isinstance(value,
                                                                       (bytes, bytearray)):
            return {"__kind__": "sequence", "type": type_name(value),
                    "items": self.items(value, depth)}
        if _is_iterator(value):
            return {"__kind__": "iterator", "type": type_name(value),
                    "items": self.items(value, depth)}
        return {"__kind__": "object", "type": type_name(value), "repr": short_repr(value)}

    def tensor(self, value: torch.Tensor):
        plain = value.detach()
        if type(plain) is not torch.Tensor:
            plain = plain.as_subclass(torch.Tensor)
        if plain.numel() > MAX_ELEMENTS:
            return oversized("torch.Tensor", tuple(plain.shape))
        return plain.clone()  # on its own device: the grader compares devices as such

    def numpy(self, value):
        import numpy as np

        name = type_name(value)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            if value.size > MAX_ELEMENTS:
                return oversized(name, value.shape)
            return {"__kind__": "ndarray", "type": name, "value": torch.from_numpy(value.copy())}
        if isinstance(value, np.generic) and value.dtype.kind == "b":
            return bool(value)
        if isinstance(value, np.generic) and value.dtype.kind in "iu":
            return {"__kind__": "number", "type": name, "value": int(value)}
        if isinstance(value, np.generic) and value.dtype.kind == "f":
            return {"__kind__": "number", "type": name, "value": float(value)}
        return {"__kind__": "object", "type": name, "repr": short_repr(value)}

    def items(self, values, depth: int) -> list:
        return [self.value(v, depth + 1) for v in itertools.islice(values, MAX_ITEMS)]

    def mapping(self, values, depth: int) -> dict:
        return {cut(str(k), TEXT_CHARS): self.value(v, depth + 1)
                for k, v in itertools.islice(values.items(), MAX_ITEMS)}


def export(value):
    """Turn anything the student returned into data the grader can read (see the module doc)."""
    return _Export().value(value, 0)


def describe_exception(exc: BaseException) -> dict:
    """Describe an exception raised by the student's code: type, message, their last frames."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith("<cell"):
            frames.append(cut(f"{code.co_filename}, line {tb.tb_lineno}, in {code.co_name}",
                              NAME_CHARS))
            del frames[:-3]
        tb = tb.tb_next
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - the student's __str__ may raise anything
        message = "(the exception's message could not be printed)"
    return {"type": cut(type(exc).__name__, NAME_CHARS), "message": cut(message, 500),
            "where": frames}
