"""What crosses back from the sandbox is untrusted: bound it before the grader reads it.

``admit`` walks a decoded answer once (linear in its size) and returns a copy in which every
string is cut to ``Limits.text_chars``, and every tensor whose logical size exceeds
``Limits.tensor_elements`` (e.g. a small storage expanded with stride 0) is replaced by a marker
that the comparison reports as too large; nothing is materialised on the way.
"""

from __future__ import annotations

from grader.engine.options import Limits

MAX_DEPTH = 40


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def admit(value: object, limits: Limits, depth: int = 0) -> object:
    """A bounded copy of one decoded answer (see the module docstring)."""
    import torch

    if depth > MAX_DEPTH:
        return {"__kind__": "object", "type": "too deeply nested", "repr": ""}
    if isinstance(value, str):
        return cut(value, limits.text_chars)
    if isinstance(value, torch.Tensor):
        if value.numel() > limits.tensor_elements:
            return {"__kind__": "object", "type": "oversized tensor",
                    "repr": f"a tensor of shape {tuple(value.shape)} "
                            f"({value.numel()} elements, over the limit of "
                            f"{limits.tensor_elements})"}
        return value
    if isinstance(value, dict):
        return {cut(str(k), limits.text_chars): admit(v, limits, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [admit(v, limits, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value
