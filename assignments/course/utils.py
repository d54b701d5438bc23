"""Small utilities from the book: timing, accumulating sums, choosing devices."""

from __future__ import annotations

import sys
import time

import torch

_NOTICES: list[tuple[int | None, str]] = []  # (the notebook cell that printed it, the message)


def _cell() -> int | None:
    """The execution count of the running notebook cell (``None`` outside a kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


def notice(message: str) -> None:
    """Print a notice about the data in use; plots that redraw in this cell print it again."""
    print(message)
    _NOTICES.append((_cell(), message))


def notices_of_this_cell() -> list[str]:
    """The notices the running notebook cell has printed (none outside a kernel)."""
    cell = _cell()
    return [m for c, m in _NOTICES if cell is not None and c == cell]


class Timer:
    """Record running times: ``start()``, ``stop()`` (returns the last interval in seconds),
    ``avg()``, ``sum()`` and ``cumsum()`` over all recorded intervals."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        """Start (or restart) the timer."""
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Stop the timer, record the interval and return it."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        """The average recorded interval (0.0 when none was recorded)."""
        return sum(self.times) / len(self.times) if self.times else 0.0

    def sum(self) -> float:
        """The total of the recorded intervals."""
        return sum(self.times)

    def cumsum(self) -> list[float]:
        """The running totals of the recorded intervals."""
        totals, running = [], 0.0
        for t in self.times:
            running += t
            totals.append(running)
        return totals


class Accumulator:
    """Accumulate sums over ``n`` variables: ``add(a, b, ...)``, ``reset()``, ``acc[i]``.

    Values are converted with ``float`` (one-element tensors included) as they are added.
    """

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        """Add one value to each of the ``n`` sums."""
        if len(args) != len(self.data):
            raise ValueError(f"Accumulator({len(self.data)}).add got {len(args)} values")
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        """Set every sum back to zero."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Accumulator({self.data})"


def try_gpu(i: int = 0) -> torch.device:
    """The ``i``-th GPU (``cuda:i``) if it exists, else the CPU."""
    if torch.cuda.is_available() and torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """All available GPUs, or ``[cpu]`` when there is none."""
    if torch.cuda.is_available():
        devices = [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
        if devices:
            return devices
    return [torch.device("cpu")]
