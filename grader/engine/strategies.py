"""Input strategies for checks: seeded random inputs that expose mistakes whatever the seed.

Every function draws from the test's ``gen`` (the plugin's per-test seeded generator), on the CPU,
so the same seed gives the same values on any device, then moves the result to ``device`` (the
plugin's ``device`` fixture; CPU when ``None``). Floating inputs are float64 unless ``dtype`` says
otherwise, since the DESIGN compares correctness in float64.

Values avoid the places where a correct implementation and the reference may legitimately differ:
kinks (``away_from``: ReLU at 0, Huber at ±sigma), ties (``distinct``: max pooling,
``scores``: arg-max), ill-conditioned matrices (``well_conditioned``).
"""

from __future__ import annotations

import torch

F64 = torch.float64


def _to(t: torch.Tensor, device: torch.device | str | None) -> torch.Tensor:
    return t if device is None else t.to(device)


def normal(gen: torch.Generator, *shape: int, scale: float = 1.0, dtype: torch.dtype = F64,
           device: torch.device | str | None = None) -> torch.Tensor:
    """Standard normal values times ``scale``."""
    return _to(torch.randn(shape, generator=gen, dtype=F64).mul_(scale).to(dtype), device)


def uniform(gen: torch.Generator, *shape: int, low: float = 0.0, high: float = 1.0,
            dtype: torch.dtype = F64, device: torch.device | str | None = None) -> torch.Tensor:
    """Uniform values in ``[low, high)``."""
    values = torch.rand(shape, generator=gen, dtype=F64) * (high - low) + low
    return _to(values.to(dtype), device)


def positive(gen: torch.Generator, *shape: int, low: float = 0.1, high: float = 1.1,
             dtype: torch.dtype = F64, device: torch.device | str | None = None) -> torch.Tensor:
    """Values in ``[low, high)``, bounded away from zero (divisors, weights, probabilities)."""
    return uniform(gen, *shape, low=low, high=high, dtype=dtype, device=device)


def away_from(gen: torch.Generator, *shape: int, points: tuple[float, ...] = (0.0,),
              margin: float = 0.1, scale: float = 1.0, dtype: torch.dtype = F64,
              device: torch.device | str | None = None) -> torch.Tensor:
    """Normal values times ``scale``, each at least ``margin`` away from every one of ``points``.

    For gradients at kinks: ReLU at 0, Huber loss at ``±sigma``, a clamp at its bounds. Values
    too close are pushed out to ``margin`` on their own side.
    """
    values = torch.randn(shape, generator=gen, dtype=F64) * scale
    for point in points:
        offset = values - point
        close = offset.abs() < margin
        side = torch.where(offset >= 0, 1.0, -1.0).to(F64)
        values = torch.where(close, point + side * margin, values)
    return _to(values.to(dtype), device)


def distinct(gen: torch.Generator, *shape: int, gap: float = 0.05, dtype: torch.dtype = F64,
             device: torch.device | str | None = None) -> torch.Tensor:
    """Values in random order whose pairwise differences are all at least ``gap``: no ties
    anywhere (max pooling, sorting, arg-max along any axis)."""
    count = 1
    for size in shape:
        count *= size
    order = torch.randperm(count, generator=gen).to(F64)
    jitter = torch.rand(count, generator=gen, dtype=F64) * gap * 0.5
    values = (order - count / 2) * gap * 2 + jitter
    return _to(values.reshape(shape).to(dtype), device)


def scores(gen: torch.Generator, n: int, q: int, *, margin: float = 0.1, scale: float = 1.0,
           dtype: torch.dtype = F64, device: torch.device | str | None = None) -> torch.Tensor:
    """Class scores of shape ``(n, q)`` whose row maximum beats the runner-up by ``margin``:
    the arg-max of every row is unique, however it is computed."""
    values = torch.randn(n, q, generator=gen, dtype=F64) * scale
    if q > 1:
        top = values.topk(2, dim=1).values
        short = (margin - (top[:, 0] - top[:, 1])).clamp(min=0)
        best = values.argmax(dim=1)
        values[torch.arange(n), best] += short
    return _to(values.to(dtype), device)


def labels(gen: torch.Generator, n: int, classes: int, *, every_class: bool = False,
           device: torch.device | str | None = None) -> torch.Tensor:
    """``n`` int64 class labels in ``0 .. classes-1``; with ``every_class`` each class occurs
    at least once (needs ``n >= classes``)."""
    values = torch.randint(0, classes, (n,), generator=gen)
    if every_class:
        if n < classes:
            raise ValueError(f"cannot show {classes} classes in {n} labels")
        values[:classes] = torch.arange(classes)
        values = values[torch.randperm(n, generator=gen)]
    return _to(values, device)


def probabilities(gen: torch.Generator, *shape: int, floor: float = 0.0, dtype: torch.dtype = F64,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Probability vectors along the last axis (softmax of normals), each entry at least
    ``floor`` (so logs stay finite), summing to 1."""
    p = torch.softmax(torch.randn(shape, generator=gen, dtype=F64), dim=-1)
    size = shape[-1]
    if floor:
        p = floor + (1 - floor * size) * p
    return _to(p.to(dtype), device)


def weights(gen: torch.Generator, k: int, *, low: float = 0.5, high: float = 1.5,
            dtype: torch.dtype = F64, device: torch.device | str | None = None) -> torch.Tensor:
    """``k`` positive, unnormalised weights of one categorical distribution."""
    return uniform(gen, k, low=low, high=high, dtype=dtype, device=device)


def well_conditioned(gen: torch.Generator, n: int, m: int | None = None, *, condition: float = 10.0,
                     dtype: torch.dtype = F64,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """An ``(n, m)`` matrix whose singular values lie in ``[1, condition]`` (invertible, stable)."""
    m = n if m is None else m
    left, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=F64))
    right, _ = torch.linalg.qr(torch.randn(m, m, generator=gen, dtype=F64))
    k = min(n, m)
    singular = 1 + torch.rand(k, generator=gen, dtype=F64) * (condition - 1)
    values = left[:, :k] @ torch.diag(singular) @ right[:k, :]
    return _to(values.to(dtype), device)


def sizes(gen: torch.Generator, low: int, high: int, *, not_divisible_by: int | None = None) -> int:
    """A random size in ``[low, high)``; with ``not_divisible_by``, one that leaves a remainder
    (a smaller last batch)."""
    value = int(torch.randint(low, high, (1,), generator=gen))
    if not_divisible_by and value % not_divisible_by == 0:
        value += 1
    return value


def leaf(tensor: torch.Tensor) -> dict:
    """A build spec: the sandbox passes a fresh leaf copy of ``tensor`` with
    ``requires_grad=True`` (for exercises that call ``backward`` or read ``.grad``)."""
    return {"__build__": "leaf", "tensor": tensor}


def batches(sizes_: list[int], shape: tuple[int, ...], classes: int, gen: torch.Generator, *,
            dtype: torch.dtype = torch.float32,
            device: torch.device | str | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Minibatches ``(X, y)`` of the given sizes: normal features of ``shape`` per example and
    int64 labels in ``0 .. classes-1``."""
    return [(normal(gen, size, *shape, dtype=dtype, device=device),
             labels(gen, size, classes, device=device)) for size in sizes_]


def batches_spec(batches_: list) -> dict:
    """The build spec of a re-iterable ``data_iter`` over ``batches_`` (like a DataLoader)."""
    return {"__build__": "batches", "batches": batches_}
