"""What crosses back from the sandbox is untrusted: bound it before the grader reads it.

``admit`` walks one decoded answer once and returns a plain copy that the grader may read,
format and store without risk: at most ``MAX_NODES`` values in all (shared or cyclic references
count each time they are reached, so the walk is linear even for a pickle that references one
list from everywhere), ``MAX_ITEMS`` items per container, ``MAX_DEPTH`` levels; strings and bytes
cut to ``Limits.text_chars``; huge integers, tensors whose logical size exceeds
``Limits.tensor_elements`` (e.g. a tiny storage expanded with stride 0) or whose storage cannot
hold them, non-strided tensors, and values of unexpected types replaced by markers. Nothing is
materialised on the way. Markers are dicts with ``"__kind__"`` that the comparison helpers
describe to the student:

- ``{"__kind__": "oversized", "type", "shape", "elements", "limit"}``: a tensor over the limit;
- ``{"__kind__": "refused", "type", "text"}``: anything else the grader will not read, with
  ``text`` saying what it was (``"an integer of 100001 bits"``).

Containers come out as plain ``dict``, ``list`` and ``tuple`` (``OrderedDict``, ``Counter`` and
``torch.Size`` included); a container cut short is marked by a final ``"…"`` item (for a dict,
the key ``"…"``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from grader.engine.options import Limits

if TYPE_CHECKING:
    import torch

MAX_DEPTH = 40
MAX_ITEMS = 10_000
MAX_NODES = 200_000
MAX_INT_BITS = 256
MORE = "…"


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def marker(kind: str, text: str) -> dict:
    """A value the grader will not read: its type and a description for the student."""
    return {"__kind__": "refused", "type": kind, "text": text}


def shape_text(shape: tuple[int, ...], limit: int = 8) -> str:
    """``(3, 4)``, with at most ``limit`` sizes shown."""
    sizes = [str(s) for s in shape[:limit]] + (["…"] if len(shape) > limit else [])
    return "(" + ", ".join(sizes) + ("," if len(shape) == 1 else "") + ")"


def tensor_problem(value: torch.Tensor, limit: int) -> dict | None:
    """A marker when ``value`` is too large or malformed to read, else ``None``.

    Uses only sizes, strides and the storage's byte count: nothing is materialised.
    """
    import torch

    if value.layout != torch.strided:
        return marker("torch.Tensor", f"a tensor with layout {value.layout} (return a dense "
                                      "tensor)")
    elements = math.prod(value.shape)
    if elements > limit:
        return {"__kind__": "oversized", "type": "torch.Tensor",
                "shape": shape_text(tuple(value.shape)), "elements": elements, "limit": limit}
    if elements == 0 or value.device.type == "meta":
        return None
    if any(s < 0 for s in value.stride()):
        return marker("torch.Tensor", "a tensor with negative strides")
    extent = value.storage_offset() + sum((n - 1) * s for n, s in zip(value.shape,
                                                                      value.stride()))
    if (extent + 1) * value.element_size() > value.untyped_storage().nbytes():
        return marker("torch.Tensor", "a tensor whose storage is smaller than its shape needs")
    return None


class _Walk:
    """One admission: the limits and the values left in the node budget."""

    def __init__(self, limits: Limits):
        import torch  # here, not at the top: the grader imports this module before torch

        self.torch = torch
        self.scalars = (bool, float, complex, torch.dtype, torch.device)
        self.limits = limits
        self.left = MAX_NODES
        self.elements = limits.tensor_elements

    def value(self, value: object, depth: int) -> object:
        self.left -= 1
        if self.left < 0:
            return marker("truncated", f"more than the {MAX_NODES} values the grader reads in "
                                       "one answer")
        if value is None or isinstance(value, self.scalars):
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                return marker("int", f"an integer of {value.bit_length()} bits")
            return int(value)
        if isinstance(value, str):
            return cut(str.__str__(value), self.limits.text_chars)
        if isinstance(value, (bytes, bytearray)):
            data = bytes(value[: self.limits.text_chars])
            return data if len(value) <= self.limits.text_chars else data + MORE.encode()
        if isinstance(value, self.torch.Tensor):
            return self.tensor(value)
        if depth >= MAX_DEPTH:
            return marker(type(value).__name__, f"a value nested more than {MAX_DEPTH} levels "
                                                "deep")
        if isinstance(value, dict):
            return self.mapping(value, depth)
        if isinstance(value, (list, tuple, set)):
            items = self.items(value, depth)
            return tuple(items) if isinstance(value, tuple) else items
        name = cut(type(value).__name__, 200)
        return marker(name, f"a value of type {name}")

    def tensor(self, value: torch.Tensor) -> object:
        limit = self.limits.tensor_elements
        problem = tensor_problem(value, limit)
        if problem is not None:
            return problem
        if value.numel() > self.elements:
            return marker("torch.Tensor", f"a tensor past the grader's limit of {limit} elements "
                                          "for all the tensors of one answer together")
        self.elements -= value.numel()
        if type(value) is not self.torch.Tensor or value.requires_grad:
            value = value.detach().as_subclass(self.torch.Tensor)
        return value

    def items(self, values, depth: int) -> list:
        out = []
        for count, item in enumerate(values):
            if count >= MAX_ITEMS or self.left <= 0:
                out.append(MORE)
                break
            out.append(self.value(item, depth + 1))
        return out

    def mapping(self, value: dict, depth: int) -> dict:
        out = {}
        for count, (key, item) in enumerate(value.items()):
            if count >= MAX_ITEMS or self.left <= 0:
                out[MORE] = MORE
                break
            out[self.key(key, count)] = self.value(item, depth + 1)
        return out

    def key(self, key: object, count: int) -> object:
        if isinstance(key, str):
            return cut(str.__str__(key), self.limits.text_chars)
        if key is None or isinstance(key, (bool, float)):
            return key
        if isinstance(key, int) and key.bit_length() <= MAX_INT_BITS:
            return int(key)
        return f"<key {count}: {cut(type(key).__name__, 100)}>"


def admit(value: object, limits: Limits) -> object:
    """A bounded copy of one decoded answer (see the module docstring).

    The tensors' logical elements in one answer share one budget, ``limits.tensor_elements``.
    """
    return _Walk(limits).value(value, 0)
