"""The patterns most checks follow, written once.

- ``expect_values``: call the student's function and the reference on the same inputs (a visible
  worked example, or fresh float64 draws) and compare; ``expect_gradient``: compare
  vector–Jacobian products with a random upstream gradient.
- ``expect_vectorized``: where vectorization is the exercise's point, count the ATen operations
  the student's code runs at two sizes (never wall-clock time); values must be right as well, so
  a function that returns nothing earns nothing here.
- ``expect_float``: a Python number where the book returns one (``numpy`` scalars accepted,
  tensors not).
- ``expect_torch_rng``: a random exercise draws from torch's global generator, so that
  ``torch.manual_seed`` alone reproduces it (not numpy's, not Python's, not a private one).
- ``call_with``: swap a grader-supplied object in for a callee that is another exercise
  (``evaluate_accuracy`` calls ``accuracy``), so one mistake costs points once. The stand-in is a
  library op, a generic function of ``grader.engine.child.objects`` or values the grader computed
  (``replay``): never the reference's code, which would let a student read a solution.

Messages name the inputs (``describe``) the way the student's own function names them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch

from grader.engine.compare import (
    expect_number,
    expect_tensor,
    expect_vjp,
    fail,
    hinted,
    shape_of,
    translated,
)
from grader.engine.words import say


def parameter_names(fn: Callable) -> list[str]:
    """The names of ``fn``'s positional parameters (for messages)."""
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def describe(args: tuple, names: list[str], dtype: bool = True) -> str:
    """``float64 X of shape (5, 3), Y of shape (7, 3), axis = 1`` for messages."""
    parts = []
    shown_dtype = False
    for name, arg in zip(names, args):
        if isinstance(arg, torch.Tensor):
            prefix = f"{str(arg.dtype).removeprefix('torch.')} " if dtype and not shown_dtype \
                and arg.is_floating_point() else ""
            shown_dtype = shown_dtype or bool(prefix)
            parts.append(prefix + say("{name} of shape {shape}").format(name=name,
                                                                        shape=shape_of(arg)))
        elif isinstance(arg, (int, float, str, bool)):
            parts.append(f"{name} = {arg!r}")
    return ", ".join(parts)


def _call_text(name: str, names: list[str], count: int) -> str:
    return f"{name}({', '.join(names[:count])})"


def expect_values(student, name: str, reference: Callable, *args: object,
                  kwargs: dict | None = None, what: str | None = None, inputs: str | None = None,
                  hint: str = "", atol: float | None = None, rtol: float | None = None,
                  check_dtype: bool = True) -> torch.Tensor:
    """Call the student's ``name(*args, **kwargs)`` and compare with ``reference`` on the same
    inputs; return the student's result. ``what``/``inputs`` default to the call and a
    description of the tensor arguments, named after ``reference``'s parameters."""
    names = parameter_names(reference)
    kwargs = kwargs or {}
    expected = reference(*args, **kwargs)
    got = student.result(name, *args, kwargs=kwargs)
    return expect_tensor(got, expected, what=what or _call_text(name, names, len(args)),
                         inputs=describe(args, names) if inputs is None else inputs, hint=hint,
                         atol=atol, rtol=rtol, check_dtype=check_dtype)


def expect_gradient(student, name: str, reference: Callable, *args: torch.Tensor | object,
                    wrt: list[int], gen: torch.Generator | None = None,
                    grad_output: torch.Tensor | None = None, what: str | None = None,
                    inputs: str | None = None, hint: str = "") -> None:
    """Compare the vector–Jacobian products of the student's ``name`` with the reference's.

    The upstream gradient is ``grad_output``, or standard normal from ``gen`` in the result's
    shape and dtype. ``wrt`` lists the positional arguments to differentiate.
    """
    names = parameter_names(reference)
    if grad_output is None:
        with torch.no_grad():
            out = reference(*args)
        drawn = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        grad_output = drawn.to(dtype=out.dtype, device=out.device)
    answer = student.call(name, *args, vjp={"wrt": list(wrt), "grad_output": grad_output})
    expect_vjp(answer, reference, tuple(args), list(wrt), grad_output,
               what=what or _call_text(name, names, len(args)), names=[names[i] for i in wrt],
               inputs=describe(args, names) if inputs is None else inputs, hint=hint)


# --- vectorization --------------------------------------------------------------------------------

OPS_SLACK = 4
"""Extra operations a vectorized function may run on the larger inputs (shape-dependent paths
of a few library functions); a Python loop adds at least one per extra row, far more than this."""


def ops_count(answer: dict, what: str) -> int:
    """The number of ATen operations the sandbox counted for a ``count_ops=True`` call."""
    ops = answer.get("ops")
    if not isinstance(ops, dict) or "total" not in ops:
        raise RuntimeError(f"the sandbox did not count the operations of {what}")
    return int(ops["total"])


def expect_vectorized(student, name: str, reference: Callable, small: tuple, large: tuple, *,
                      what: str | None = None, hint: str = "", atol: float | None = None,
                      rtol: float | None = None) -> None:
    """Fail when the student's ``name`` runs more operations on ``large`` inputs than on
    ``small`` ones (a Python loop over a dimension that grew), or gives a wrong value on either.

    Choose ``large`` with every dimension whose loop the exercise forbids at least ten times
    the size in ``small``, and keep the others fixed (looping over those is then not judged).
    """
    names = parameter_names(reference)
    label = what or _call_text(name, names, len(small))
    counts = []
    for args in (small, large):
        answer = student.call(name, *args, count_ops=True)
        expect_tensor(answer["result"], reference(*args), what=label,
                      inputs=describe(args, names), atol=atol, rtol=rtol)
        counts.append(ops_count(answer, label))
    if counts[1] > counts[0] + OPS_SLACK:
        fail(say("{what} ran {small_count} tensor operations for {small} but {large_count} for "
                 "{large}: the work grows with the size, so it loops in Python; a vectorized "
                 "version runs the same few operations whatever the size").format(
            what=label, small_count=counts[0], small=describe(small, names, False),
            large_count=counts[1], large=describe(large, names, False)) + hinted(hint))


# --- Python numbers -------------------------------------------------------------------------------


def expect_float(got: object, expected: float, *, what: str, atol: float = 1e-6,
                 rtol: float = 1e-6, hint: str = "") -> float:
    """Compare a number the book returns as a Python float; return it.

    Any real Python or numpy scalar is accepted (``compare.number``); a tensor is not (it keeps
    a graph, prints as ``tensor(...)`` and cannot be written to JSON): the message says
    ``float(...)``.
    """
    return expect_number(got, expected, what=what, atol=atol, rtol=rtol, hint=hint,
                         allow_tensor=False)


# --- randomness from torch's generator ------------------------------------------------------------


def same(a: object, b: object) -> bool:
    """Whether two exported values are equal (tensors elementwise, containers item by item)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and a.dtype == b.dtype and bool((a == b).all()))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _seeded_draws(ns, name, args, torch_seeds, other_seeds):
    import random

    results = []
    for torch_seed, other in zip(torch_seeds, other_seeds):
        random.seed(other)
        try:
            import numpy

            numpy.random.seed(other)
        except ImportError:
            pass
        torch.manual_seed(torch_seed)
        out = ns[name](*args)
        # A copy right away: an in-place function returns the same tensor every time.
        if isinstance(out, torch.Tensor):
            out = out.detach().clone()
        elif isinstance(out, (tuple, list)):
            out = [o.detach().clone() if isinstance(o, torch.Tensor) else o for o in out]
        results.append(out)
    return results


def expect_torch_rng(student, name: str, *args: object, seed: int, what: str,
                     hint: str = "") -> list:
    """Fail unless ``name(*args)`` draws from torch's global generator; return the draws.

    Runs it three times: torch seed ``s`` (numpy and ``random`` seeded ``a``), torch seed ``s``
    again (numpy and ``random`` seeded ``b``), torch seed ``s + 1`` (``a`` again). The first two
    must be equal and the third different, which a submission drawing from numpy, ``random`` or
    a private ``torch.Generator`` does not achieve. ``args`` must make a coincidence of two
    independent draws negligible (e.g. 64 die rolls: 6 ** -64).
    """
    hint = translated(hint) or say(
        "draw with torch's own functions (torch.rand, torch.randn, torch.randperm, …) and no "
        "generator of your own, so that torch.manual_seed makes it reproducible")
    draws = student.scenario(_seeded_draws, name, list(args), [seed, seed, seed + 1],
                             [seed + 7, seed + 8, seed + 7], what=what, name=name)
    if not same(draws[0], draws[1]):
        fail(say("{what} gave different results after the same torch.manual_seed (only numpy's "
                 "and Python's seeds changed); {hint}").format(what=what, hint=hint))
    if same(draws[0], draws[2]):
        fail(say("{what} gave the same results after different torch.manual_seed values; "
                 "{hint}").format(what=what, hint=hint))
    return draws


# --- swapping a grader-supplied callee in ---------------------------------------------------------


def function(name: str) -> dict:
    """A build spec: a generic trusted function of the sandbox's objects library or a torch
    function by dotted path (``"torch.relu"``), run with from-scratch recording suspended."""
    return {"__build__": "function", "name": name}


def replay(outputs: list, name: str = "replay") -> dict:
    """A build spec: a callable returning the grader's precomputed ``outputs`` in order."""
    return {"__build__": "replay", "outputs": list(outputs), "name": name}


def _swapped_call(ns, name, swaps, args, wrt, grad_output):
    with objects.Swap(ns, swaps):  # noqa: F821 - the scenario scope provides it
        leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
                  for i, a in enumerate(args)]
        out = ns[name](*leaves)
        grads = None
        if wrt and isinstance(out, torch.Tensor) and out.requires_grad:
            with trusted():  # noqa: F821 - the scenario scope provides it
                grads = list(torch.autograd.grad(out, [leaves[i] for i in wrt], grad_output,
                                                 allow_unused=True))
        elif wrt:
            grads = [None for _ in wrt]
    return {"result": out, "grads": grads}


def call_with(student, name: str, *args: object, swaps: dict[str, dict],
              vjp: dict | None = None, what: str | None = None) -> dict:
    """Call ``name(*args)`` with the student's definitions of ``swaps``' names replaced for the
    duration of the call by grader-supplied objects (``function(...)``, ``replay(...)`` specs).

    Returns ``{"result": ..., "grads": [...]}``, with ``grads`` as for ``student.call``'s ``vjp``
    (``{"wrt": [i, ...], "grad_output": G}``), so ``expect_vjp`` reads it the same way.
    """
    wrt = list(vjp["wrt"]) if vjp else []
    grad_output = vjp["grad_output"] if vjp else None
    return student.scenario(_swapped_call, name, swaps, list(args), wrt, grad_output,
                            what=what or f"{name}(...)", name=name)
