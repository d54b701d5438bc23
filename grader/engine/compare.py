"""Comparison helpers for hidden checks: they read what the sandbox exported and raise
``CheckFailure`` with the message the student will see (never the check's source).

Tensor messages come from the course's checker (``Course.checker``, the function students call
in worked examples), which the plugin installs with ``use_checker`` before checks run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from grader.engine.words import say

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
            return say("a tensor on {device}").format(device=value["device"])
        if kind == "oversized":
            return say("a tensor of shape {shape} with {elements} elements, more than the "
                       "{limit} the grader accepts").format(
                shape=value.get("shape"), elements=value.get("elements"),
                limit=value.get("limit"))
        if kind == "refused":
            return str(value.get("text"))
        return say("a {type}").format(type=value.get("type", kind))
    if isinstance(value, torch.Tensor):
        return say("a tensor of shape {shape} and dtype {dtype}").format(
            shape=tuple(value.shape), dtype=value.dtype)
    return say("a {type}").format(type=type(value).__name__)


def format_pair(got: float, expected: float) -> tuple[str, str]:
    """Both numbers with as many significant digits as it takes to tell them apart (at least 6).

    ``6.476361`` and ``6.476362`` print as such, never as ``6.47636`` twice.
    """
    for digits in range(6, 18):
        texts = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if texts[0] != texts[1]:
            return texts
    return repr(got), repr(expected)


def translated(hint: str) -> str:
    """A check's hint in the grading's language (chapters mark their hints ``_("...")``)."""
    return say(hint) if hint else ""


def hinted(hint: str) -> str:
    """``. Hint: …`` to end a message, in the grading's language (empty without a hint)."""
    return say(". Hint: {hint}").format(hint=translated(hint)) if hint else ""


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
    if isinstance(value, dict) and value.get("__kind__") == "oversized":
        fail(say("{what} returned {kind} (did it expand or repeat a tensor far beyond the "
                 "expected shape?)").format(what=what, kind=describe(value)))
    if isinstance(value, dict) and value.get("__kind__") == "ndarray":
        fail(say("{what} returned a numpy array; return a torch.Tensor (torch.from_numpy or "
                 "stay in torch)").format(what=what))
    fail(say("{what} returned {kind}; expected a torch.Tensor").format(
        what=what, kind=describe(value)))
    raise AssertionError  # unreachable


def number(value: object, what: str, *, allow_tensor: bool = True) -> float:
    """Return a Python float from any real numeric scalar the student returned.

    Accepted: ``int`` and ``float`` (and their subclasses), numpy's integer and floating scalars
    (``numpy.float64`` where the book returns a Python float), a one-element numpy array, and,
    unless ``allow_tensor`` is false, a one-element real tensor (0-d or not). Refused with a
    message: ``bool``, complex numbers, anything else.
    """
    if isinstance(value, bool):
        fail(say("{what} returned a bool; expected a number").format(what=what))
    if isinstance(value, (int, float)):
        return _float(value, what)
    kind = value.get("__kind__") if isinstance(value, dict) else None
    if kind == "number" and isinstance(value.get("value"), (int, float)) \
            and not isinstance(value["value"], bool):
        return _float(value["value"], what)
    array = value.get("value") if kind == "ndarray" else None
    if isinstance(array, torch.Tensor) and array.numel() == 1 and not array.is_complex():
        return _float(array.item(), what)
    if isinstance(value, torch.Tensor) and allow_tensor and value.numel() == 1 \
            and not value.is_complex() and value.dtype != torch.bool:
        return _float(value.item(), what)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not allow_tensor:
        fail(say("{what} returned a one-element tensor; expected a Python number (return "
                 "float(t) or t.item())").format(what=what))
    fail(say("{what} returned {kind}; expected a number").format(what=what,
                                                                  kind=describe(value)))
    raise AssertionError  # unreachable


def _float(value: int | float, what: str) -> float:
    try:
        return float(value)
    except OverflowError:
        fail(say("{what} returned an integer too large to compare").format(what=what))
        raise AssertionError from None  # unreachable


def mapping(value: object, what: str) -> dict:
    """Return a dict the student returned (any ``Mapping``: ``dict``, ``OrderedDict``, ...)."""
    if isinstance(value, dict) and "__kind__" not in value:
        return value
    if isinstance(value, dict) and value.get("__kind__") == "mapping":
        return dict(value["items"])
    fail(say("{what} returned {kind}; expected a dict").format(what=what, kind=describe(value)))
    raise AssertionError  # unreachable


def sequence(value: object, what: str) -> list:
    """Return the items of a tuple, list, generator or other iterable the student returned."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict) and value.get("__kind__") in ("iterator", "sequence"):
        return list(value["items"])
    fail(say("{what} returned {kind}; expected a sequence or an iterator").format(
        what=what, kind=describe(value)))
    raise AssertionError  # unreachable


def expect_tensor(got: object, expected: torch.Tensor, *, what: str, inputs: str = "",
                  atol: float | None = None, rtol: float | None = None, hint: str = "",
                  check_dtype: bool = True) -> torch.Tensor:
    """Compare an exported result with the reference tensor; return it as a tensor."""
    actual = tensor(got, what)
    problem = compare(actual, expected, what=what, atol=atol, rtol=rtol, inputs=inputs,
                      hint=translated(hint), check_dtype=check_dtype)
    if problem:
        fail(problem)
    return actual


def expect_number(got: object, expected: float, *, what: str, atol: float = 1e-6,
                  rtol: float = 1e-6, hint: str = "", allow_tensor: bool = True) -> float:
    """Compare a returned scalar (see ``number``) with the reference value; return it as a float.

    Fails when ``|got - expected| > atol + rtol·|expected|`` or ``got`` is not finite where
    ``expected`` is; the message prints both with enough digits to show the difference.
    """
    value = number(got, what, allow_tensor=allow_tensor)
    if value == expected or (math.isfinite(value) and math.isfinite(expected)
                             and abs(value - expected) <= atol + rtol * abs(expected)):
        return value
    shown, wanted = format_pair(value, expected)
    problem = say(" (not finite)") if not math.isfinite(value) else ""
    fail(say("{what} returned {got}{problem}; expected {expected} (tolerance {atol:g} + "
             "{rtol:g}·|expected|)").format(what=what, got=shown, problem=problem,
                                            expected=wanted, atol=atol, rtol=rtol)
         + hinted(hint))
    raise AssertionError  # unreachable


def expect_equal(got: object, expected: object, *, what: str, atol: float = 0.0,
                 rtol: float = 0.0) -> None:
    """Compare a returned value with plain expected data, item by item.

    Dicts compare as mappings (key order is irrelevant; ``OrderedDict`` and other mappings the
    student returned count as dicts); lists and tuples, and the sequences and iterators the
    sandbox exported, compare item by item (a list may stand for a tuple); tensors go through
    ``expect_tensor``; numbers through ``expect_number`` with ``atol``/``rtol``; anything else
    with ``==``. The message names the first difference by its path, e.g. ``what['lr']``.
    """
    if isinstance(expected, torch.Tensor):
        expect_tensor(got, expected, what=what, atol=atol or None, rtol=rtol or None)
    elif isinstance(expected, dict):
        actual = mapping(got, what)
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            fail(say("{what} has keys {got}; expected {expected}").format(
                what=what, got=sorted(map(str, actual)), expected=sorted(map(str, expected)))
                 + (say(" (missing {keys})").format(keys=missing) if missing else "")
                 + (say(" (unexpected {keys})").format(keys=extra) if extra else ""))
        for key, value in expected.items():
            expect_equal(actual[key], value, what=f"{what}[{key!r}]", atol=atol, rtol=rtol)
    elif isinstance(expected, (list, tuple)):
        items = sequence(got, what)
        expect(len(items) == len(expected),
               say("{what} has {count} items; expected {expected}").format(
                   what=what, count=len(items), expected=len(expected)))
        for i, (item, value) in enumerate(zip(items, expected)):
            expect_equal(item, value, what=f"{what}[{i}]", atol=atol, rtol=rtol)
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        expect_number(got, expected, what=what, atol=atol, rtol=rtol)
    elif type(got) is not type(expected) or got != expected:
        fail(say("{what} is {got}; expected {expected}").format(
            what=what, got=describe(got) if isinstance(got, dict) else repr(got)[:200],
            expected=repr(expected)[:200]))


def shape_of(t: torch.Tensor) -> str:
    """Describe a tensor input for messages: ``X of shape (4, 5)``."""
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def gradient(grad: object, what: str) -> torch.Tensor:
    """A gradient the sandbox returned (e.g. ``answer["grads"][0]``).

    Fails when it is ``None``: the student's result did not depend on that input through autograd.
    """
    if grad is None:
        fail(say("{what} is not differentiable: the result does not depend on the input "
                 "through autograd (avoid .detach(), .item(), .numpy() or building new tensors "
                 "from Python numbers)").format(what=what))
    return tensor(grad, say("the gradient of {what}").format(what=what))


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
                      what=say("the gradient of {what} with respect to {name}").format(
                          what=what, name=name), inputs=inputs,
                      hint=hint)
