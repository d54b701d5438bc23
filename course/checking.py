"""Comparison with actionable messages: the same checker in the notebook and in the grader.

``compare(got, expected)`` checks, in order, type, dtype, shape, device, finiteness and values,
and returns the first problem as one readable sentence (or ``None``). Students call ``check``
under a worked example; the hidden graders call ``compare`` on the outputs the sandbox returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

import course.validation  # noqa: F401 - in a kernel, starts recording cell errors for Validate
from course.i18n import _

DEFAULT_TOLERANCE = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def _pair(got: object, expected: object) -> tuple[str, str]:
    """Two numbers with as many significant digits as it takes to tell them apart (at least 6)."""
    if isinstance(got, complex) or isinstance(expected, complex):
        return str(got), str(expected)
    for digits in range(6, 18):
        texts = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if texts[0] != texts[1]:
            return texts
    return repr(got), repr(expected)


def compare(got: object, expected: torch.Tensor, *, what: str = "the result",
            atol: float | None = None, rtol: float | None = None, check_dtype: bool = True,
            inputs: str = "", hint: str = "") -> str | None:
    """Return the first difference between ``got`` and the tensor ``expected``, or ``None``.

    Order: type, dtype, shape, device, finite, values. ``inputs`` describes the inputs (e.g.
    "X of shape (4, 5)") and ``hint`` is appended to a value mismatch to suggest a cause. Values
    match within ``atol + rtol·|expected|`` (defaults by dtype) or when equal (NaN matches NaN);
    a message prints numbers with as many digits as it takes to show their difference.
    """
    context = _(" for {inputs}").format(inputs=inputs) if inputs else ""
    if not isinstance(got, torch.Tensor):
        return _("{what} returned a {kind}{context}; expected a torch.Tensor").format(
            what=what, kind=_type_name(got), context=context)
    if check_dtype and got.dtype != expected.dtype:
        return _("{what} has dtype {got}{context}; expected {expected} (keep the input's dtype: "
                 "avoid creating float32 constants or calling .float())").format(
            what=what, got=got.dtype, context=context, expected=expected.dtype)
    if got.shape != expected.shape:
        return _("{what} has shape {got}{context}; expected {expected}").format(
            what=what, got=_shape(got), context=context, expected=_shape(expected))
    if got.device != expected.device:
        return _("{what} is on {got}{context}; expected {expected} (create new tensors on the "
                 "input's device)").format(what=what, got=got.device, context=context,
                                           expected=expected.device)
    exp = expected.to(got.dtype) if got.is_floating_point() else expected
    if got.is_floating_point() or got.is_complex():
        bad = ~torch.isfinite(got) & torch.isfinite(exp)
        if bad.any():
            index = tuple(int(i) for i in bad.nonzero()[0])
            shown, wanted = _pair(got[index].item(), exp[index].item())
            return (_("{what} is not finite at index {index}{context}: got {got}, expected "
                      "{expected}").format(what=what, index=index, context=context, got=shown,
                                           expected=wanted)
                    + (_(" (overflow: subtract the maximum before exp?)") if hint == "" else
                       f"; {hint}"))
    default = DEFAULT_TOLERANCE.get(got.dtype, (0.0, 0.0))
    atol = default[0] if atol is None else atol
    rtol = default[1] if rtol is None else rtol
    if got.numel() == 0:
        return None
    actual, wanted = got.to(torch.float64), exp.to(torch.float64)
    diff = (actual - wanted).abs()
    limit = atol + rtol * wanted.abs()
    excess = torch.nan_to_num(diff - limit, nan=float("inf"))
    # Equal values match, infinities and NaNs included (inf - inf is NaN).
    excess = torch.where((actual == wanted) | (actual.isnan() & wanted.isnan()), -1.0, excess)
    if (excess > 0).any():
        flat = int(torch.argmax(excess))
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), got.shape))
        count = int((excess > 0).sum())
        where = _(" at index {index}").format(index=index) if index else ""
        shown, wanted = _pair(got[index].item(), exp[index].item())
        message = _("{what} is wrong{context}: {count} of {total} values differ; worst{where}: "
                    "got {got}, expected {expected} (tolerance {atol} + {rtol}·|expected|)").format(
            what=what, context=context, count=count, total=got.numel(), where=where, got=shown,
            expected=wanted, atol=f"{atol:g}", rtol=f"{rtol:g}")
        return message + (_(". Hint: {hint}").format(hint=hint) if hint else "")
    return None


def check(got: object, expected: object, *, what: str = "the result", atol: float = 1e-4,
          rtol: float = 1e-4) -> None:
    """Assert that ``got`` matches a worked example; print a tick or raise with the difference.

    ``expected`` may be a tensor, a nested list of numbers, or a number. The dtype is checked
    only as far as rounded literals allow: an integer or boolean result does not match floating
    values.
    """
    if isinstance(expected, torch.Tensor):
        target = expected
    elif isinstance(got, torch.Tensor):
        target = torch.as_tensor(expected, dtype=got.dtype)
    else:
        target = torch.as_tensor(expected)
    if not isinstance(got, torch.Tensor) and isinstance(got, (int, float, Sequence)):
        try:
            got = torch.as_tensor(got, dtype=target.dtype)
        except (TypeError, ValueError):
            pass
    problem = compare(got, target, what=what, atol=atol, rtol=rtol, check_dtype=False)
    wants_float = (expected if isinstance(expected, torch.Tensor)
                   else torch.as_tensor(expected)).is_floating_point()
    if problem is None and isinstance(got, torch.Tensor) and wants_float \
            and not (got.is_floating_point() or got.is_complex()):
        problem = _("{what} has dtype {dtype}; expected floating-point values (the grader "
                    "checks the dtype too)").format(what=what, dtype=got.dtype)
    if problem:
        from course.validation import record_failure

        raise record_failure(problem)
    print(_("✓ {what} matches the worked example").format(what=what))
