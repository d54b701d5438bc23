"""Reference solutions for ch02, Preliminaries (预备知识).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import pandas as pd
import torch


def pairwise_sq_dists(X, Y):
    """Squared Euclidean distances between every row of ``X`` and every row of ``Y``.

    ``X`` has shape ``(n, d)`` and ``Y`` has shape ``(m, d)``; return ``D`` of shape ``(n, m)``
    with ``D[i, j] = sum_k (X[i, k] - Y[j, k]) ** 2``. Use broadcasting (insert axes with
    ``None``/``unsqueeze`` so that the difference has shape ``(n, m, d)``), not Python loops:
    a hidden check counts the tensor operations it runs for few rows and for many rows, and a
    loop over rows makes that number grow. Keep the inputs' dtype and device, and keep the
    result differentiable with respect to both inputs. ``torch.cdist``, ``torch.pdist`` and
    ``F.pairwise_distance`` are not allowed.
    """
    ### BEGIN SOLUTION
    diff = X[:, None, :] - Y[None, :, :]
    return (diff**2).sum(dim=2)
    ### END SOLUTION


def preprocess_house_tiny(path):
    """Read a CSV file like the book's ``house_tiny.csv`` and turn it into tensors ``(X, y)``.

    The file has a header row; missing entries are written ``NA`` (pandas reads them as NaN).
    The last column is the target (``Price``); every other column is an input. The book's
    table has the inputs ``NumRooms`` (numeric) and ``Alley`` (categorical); your function must
    work for any number of numeric and categorical input columns (the book hard-codes
    ``iloc[:, 0:2]``; use ``iloc[:, :-1]`` and ``iloc[:, -1]``).

    Steps, as in the book:

    1. fill the missing entries of every numeric input column with that column's mean
       (``inputs.mean(numeric_only=True)``; recent pandas refuses to average text columns);
    2. one-hot encode every categorical (text) input column with
       ``pd.get_dummies(inputs, dummy_na=True)``, so a missing category becomes its own
       ``<column>_nan`` indicator column (present even when that column has no missing value).

    Column order of ``X`` is pandas': the numeric input columns in file order, then for each
    categorical column in file order its categories sorted alphabetically followed by its
    ``_nan`` column. For the book's table that is ``NumRooms, Alley_Pave, Alley_nan``.

    Return ``X`` of shape ``(rows, columns_after_encoding)`` and ``y`` of shape ``(rows,)``,
    both ``torch.float64`` (e.g. ``torch.tensor(inputs.to_numpy(dtype=float))``: the book's
    ``torch.tensor(inputs.values)`` fails on pandas' boolean dummy columns and would make ``y``
    an integer tensor).
    """
    ### BEGIN SOLUTION
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, :-1], data.iloc[:, -1]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    X = torch.tensor(inputs.to_numpy(dtype=float), dtype=torch.float64)
    y = torch.tensor(outputs.to_numpy(dtype=float), dtype=torch.float64)
    return X, y
    ### END SOLUTION


def normalize_by_sum(A, axis):
    """Divide ``A`` by its sums along ``axis``, so that the sums along ``axis`` become 1.

    ``A`` is a tensor of any number of dimensions with positive entries and ``axis`` an int
    (negative values count from the end, as in ``A.sum(axis=...)``). For a matrix and
    ``axis=1`` this is the book's ``A / A.sum(axis=1, keepdims=True)``: every row then sums
    to 1. Return a new tensor of ``A``'s shape and dtype (do not modify ``A``), differentiable
    with respect to ``A``.
    """
    ### BEGIN SOLUTION
    return A / A.sum(dim=axis, keepdim=True)
    ### END SOLUTION


def matmul_via_sum(A, B):
    """The matrix product ``A @ B`` built from elementwise products and a sum.

    ``A`` has shape ``(n, k)`` and ``B`` has shape ``(k, m)``; return ``C`` of shape ``(n, m)``
    with ``C[i, j] = sum_l A[i, l] * B[l, j]`` (each entry is the dot product of a row of ``A``
    with a column of ``B``). Broadcast ``A`` to ``(n, k, 1)`` and ``B`` to ``(1, k, m)``,
    multiply and sum over the shared axis. No Python loops (a hidden check counts the tensor
    operations it runs on small and on large matrices). Keep the dtype and keep the result
    differentiable. Not allowed: ``@``, ``torch.matmul``, ``torch.mm``, ``torch.mv``,
    ``torch.dot``, ``torch.einsum``, ``torch.tensordot`` and other library products.
    """
    ### BEGIN SOLUTION
    return (A[:, :, None] * B[None, :, :]).sum(dim=1)
    ### END SOLUTION


def numerical_lim(f, x, h):
    """The book's forward difference quotient ``(f(x + h) - f(x)) / h``.

    ``f`` is a function of one argument, ``x`` a Python float or a tensor (then the quotient
    is taken elementwise and keeps ``x``'s dtype), ``h`` a positive float. Evaluate ``f`` at
    ``x + h`` and at ``x`` (forward difference, not a central one). For
    ``f(x) = 3 * x ** 2 - 4 * x``, ``x = 1`` and ``h = 0.1`` it gives ``2.3``; as ``h -> 0`` it
    tends to ``f'(1) = 2``.
    """
    ### BEGIN SOLUTION
    return (f(x + h) - f(x)) / h
    ### END SOLUTION


def f(a):
    """The book's function with Python control flow whose gradient autograd still computes.

    ``b = 2 * a``; while the (Euclidean) norm of ``b`` is below 1000, double ``b``; then if the
    sum of ``b`` is positive the result is ``b``, otherwise it is ``100 * b``. ``a`` is a
    floating tensor of any shape (a scalar in the book). Build the result from tensor
    operations on ``a`` (no ``.item()``, no new tensors from Python numbers), so that
    ``f(a)`` is differentiable: its gradient is ``f(a) / a`` elementwise, because ``f`` is
    linear in ``a`` for the branch taken. Return a tensor of ``a``'s shape and dtype.
    """
    ### BEGIN SOLUTION
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
    ### END SOLUTION


def detached_product_grad(x):
    """The book's detach experiment: the gradient of ``sum(u * x)`` with ``u = (x * x)`` detached.

    ``x`` is a leaf tensor with ``requires_grad=True``. Compute ``y = x * x``, detach it
    (``u = y.detach()``: autograd treats ``u`` as a constant), compute ``z = u * x`` and call
    ``z.sum().backward()``. Return ``x.grad``, which must then equal ``u`` (not ``3 * x ** 2``,
    which is what you would get without the detach).

    ``x`` may already hold a gradient from an earlier computation: set it to zero first
    (``x.grad.zero_()`` when ``x.grad`` is not ``None``), since ``backward`` accumulates.
    Use autograd (``backward``) rather than the closed form: the check inspects ``x.grad``.
    """
    ### BEGIN SOLUTION
    if x.grad is not None:
        x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    return x.grad
    ### END SOLUTION


def sample_categorical(probs, num_samples):
    """Draw ``num_samples`` outcomes of a loaded die by inverse-transform sampling.

    ``probs`` is a 1-D floating tensor of ``K`` nonnegative weights, not necessarily summing to
    1 (outcome ``i`` has probability ``probs[i] / probs.sum()``). Return an ``int64`` tensor of
    shape ``(num_samples,)`` whose entries are outcomes in ``0 .. K-1``, independent draws.

    Method: draw uniforms ``U`` in ``[0, 1)`` with ``torch.rand`` (torch's global random number
    generator, so that ``torch.manual_seed`` alone makes the draws reproducible: not numpy's or
    Python's generator, nor a ``torch.Generator`` of your own), compute the cumulative
    distribution ``cdf = cumsum(probs) / probs.sum()`` and return, for every ``u``, the number
    of ``cdf`` entries ``<= u``. Outcomes of weight 0 must never come out (clamp to the last
    outcome of positive weight in case rounding leaves ``cdf[-1]`` just below 1).
    ``torch.multinomial`` and ``torch.distributions`` are not allowed (the book samples with
    ``multinomial.Multinomial``; here you build the sampler yourself).
    """
    ### BEGIN SOLUTION
    weights = probs.detach().to(torch.float64)
    cdf = torch.cumsum(weights, dim=0) / weights.sum()
    u = torch.rand(num_samples, dtype=torch.float64)
    idx = torch.searchsorted(cdf, u, right=True)
    last = int(torch.nonzero(weights > 0).max())
    return idx.clamp(max=last).to(torch.int64)
    ### END SOLUTION
