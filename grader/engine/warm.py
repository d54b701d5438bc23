"""What every grading process's first grading used to do, done on import: imported by
``run.prepare`` and by ``grade-all``'s worker fork server (``batch.PRELOAD``), so that the
workers forked from it share it instead of each paying for it.

The first ``torch.autograd.grad`` with explicit output gradients imports torch.fx's symbolic
shapes (sympy), and the statistical checks import ``scipy.stats``: together about 1.7 s of a
first grading.
"""

from __future__ import annotations

import contextlib

import torch


def warm_up() -> None:
    """Import and initialise what the first grading would."""
    x = torch.ones(1, dtype=torch.float64, requires_grad=True)
    torch.autograd.grad(x * 2, [x], torch.ones(1, dtype=torch.float64))
    with contextlib.suppress(ImportError):
        import scipy.stats  # noqa: F401 - grader.engine.stats uses it


warm_up()
