"""Comparison helpers for hidden checks: they read what the sandbox exported and raise
``CheckFailure`` with the message the student will see (never the check's source).

Tensor messages come from the course's checker (``Course.checker``, the function students call
in worked examples), which the plugin installs with ``use_checker`` before checks run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

_CHECKER: list[Callable[..., str | None]] = []


def use_checker(checker: Callable[..., str | None]) -> None:
    """Install the course's ``compare(got, expected, ...) -> message | None``."""
    _CHECKER[:] = [checker]


def compare(got: object, expected: torch.Tensor, **options: object) -> str | None:
    """The course checker's first difference between ``got`` and ``expected`` (or ``None``)."""
    if not _CHECKER:
        raise RuntimeError("no checker installed: call grader.engine.compare.use_checker first")
    return _CHECKER[0](got, expected, **options)


class CheckFailure(AssertionError):
    """A check failed; ``str(self)`` is the student-facing explanation."""


def describe(value: object) -> str:
    """Name the kind of an exported value the way a student wrote it."""
    if isinstance(value, dict) and "__kind__" in value:
        kind = value["__kind__"]
        if kind == "tensor_on":
            return f"a tensor on {value['device']}"
        return f"a {value.get('type', kind)}"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def fail(message: str) -> None:
    """Fail the current check with ``message``."""
    raise CheckFailure(message)


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


def tensor(value: object, what: str) -> torch.Tensor:
    """Return ``value`` as a tensor, failing with a type message otherwise."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict) and value.get("__kind__") == "ndarray":
        fail(f"{what} returned a numpy array; return a torch.Tensor (torch.from_numpy or "
             "stay in torch)")
    fail(f"{what} returned {describe(value)}; expected a torch.Tensor")
    raise AssertionError  # unreachable


def number(value: object, what: str) -> float:
    """Return a Python number from an int/float, a numpy scalar, or a one-element tensor."""
    if isinstance(value, bool):
        fail(f"{what} returned a bool; expected a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and value.get("__kind__") == "number":
        return float(value["value"])
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    fail(f"{what} returned {describe(value)}; expected a number")
    raise AssertionError  # unreachable


def sequence(value: object, what: str) -> list:
    """Return the items of a tuple, list, generator or other iterable the student returned."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict) and value.get("__kind__") in ("iterator", "sequence"):
        return list(value["items"])
    fail(f"{what} returned {describe(value)}; expected a sequence or an iterator")
    raise AssertionError  # unreachable


def expect_tensor(got: object, expected: torch.Tensor, *, what: str, inputs: str = "",
                  atol: float | None = None, rtol: float | None = None, hint: str = "",
                  check_dtype: bool = True) -> torch.Tensor:
    """Compare an exported result with the reference tensor; return it as a tensor."""
    actual = tensor(got, what)
    problem = compare(actual, expected, what=what, atol=atol, rtol=rtol, inputs=inputs,
                      hint=hint, check_dtype=check_dtype)
    if problem:
        fail(problem)
    return actual


def expect_number(got: object, expected: float, *, what: str, atol: float = 1e-6,
                  rtol: float = 1e-6, hint: str = "") -> float:
    """Compare an exported scalar with the reference value; return it as a float."""
    value = number(got, what)
    if not math.isfinite(value) or abs(value - expected) > atol + rtol * abs(expected):
        fail(f"{what} returned {value:.6g}; expected {expected:.6g}"
             + (f". Hint: {hint}" if hint else ""))
    return value


def shape_of(t: torch.Tensor) -> str:
    """Describe a tensor input for messages: ``X of shape (4, 5)``."""
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def gradient(grad: object, what: str) -> torch.Tensor:
    """A gradient the sandbox returned (e.g. ``answer["grads"][0]``).

    Fails when it is ``None``: the student's result did not depend on that input through autograd.
    """
    if grad is None:
        fail(f"{what} is not differentiable: the result does not depend on the input through "
             "autograd (avoid .detach(), .item(), .numpy() or building new tensors from Python "
             "numbers)")
    return tensor(grad, f"the gradient of {what}")


def expect_vjp(answer: dict, reference, args: tuple, wrt: list[int], grad_output: torch.Tensor,
               *, what: str, names: str | list[str], inputs: str = "", hint: str = "") -> None:
    """Compare the sandbox's vector–Jacobian products with the reference's, through autograd.

    ``answer`` comes from ``student.call(name, *args, vjp={"wrt": wrt, "grad_output": G})``;
    ``reference(*args)`` is recomputed here with leaves for the ``wrt`` arguments, whose names
    (for messages) are ``names``.
    """
    leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
              for i, a in enumerate(args)]
    expected = torch.autograd.grad(reference(*leaves), [leaves[i] for i in wrt], grad_output)
    for k, (name, exp) in enumerate(zip(names, expected, strict=True)):
        expect_tensor(gradient(answer["grads"][k], what), exp,
                      what=f"the gradient of {what} with respect to {name}", inputs=inputs,
                      hint=hint)
