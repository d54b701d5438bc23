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

    <!-- zh -->
    ``X`` 的每一行与 ``Y`` 的每一行之间的欧几里得距离的平方。

    ``X`` 的形状为 ``(n, d)``，``Y`` 的形状为 ``(m, d)``；返回形状为 ``(n, m)`` 的 ``D``，
    其中 ``D[i, j] = sum_k (X[i, k] - Y[j, k]) ** 2``。使用广播机制（用 ``None``/``unsqueeze``
    插入轴，使差的形状为 ``(n, m, d)``），不要用 Python 循环：隐藏的检查会统计行数少和行数多时
    执行的张量运算次数，对行做循环会让这个次数增长。保持输入的 dtype 和设备，并保持结果关于两个
    输入都可微。不允许使用 ``torch.cdist``、``torch.pdist`` 和 ``F.pairwise_distance``。
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

    <!-- zh -->
    读取一个类似书中 ``house_tiny.csv`` 的 CSV 文件，并把它转换为张量 ``(X, y)``。

    文件有表头行；缺失值写作 ``NA``（pandas 将其读为 NaN）。最后一列是目标（``Price``），其余
    各列都是输入。书中的表格有输入 ``NumRooms``（数值）和 ``Alley``（类别）；你的函数必须适用于
    任意数量的数值输入列和类别输入列（书中硬编码了 ``iloc[:, 0:2]``；请使用 ``iloc[:, :-1]``
    和 ``iloc[:, -1]``）。

    步骤与书中相同：

    1. 用每个数值输入列的均值填充该列的缺失值
       （``inputs.mean(numeric_only=True)``；较新的 pandas 拒绝对文本列求均值）；
    2. 用 ``pd.get_dummies(inputs, dummy_na=True)`` 对每个类别（文本）输入列做独热编码，
       使缺失的类别成为单独的 ``<column>_nan`` 指示列（即使该列没有缺失值，这一列也存在）。

    ``X`` 的列顺序按 pandas 的规则：先是按文件顺序排列的数值输入列，然后对按文件顺序排列的每个
    类别列，依次是按字母排序的各类别，最后是它的 ``_nan`` 列。对书中的表格，顺序是
    ``NumRooms, Alley_Pave, Alley_nan``。

    返回形状为 ``(rows, columns_after_encoding)`` 的 ``X`` 和形状为 ``(rows,)`` 的 ``y``，
    两者都是 ``torch.float64``（例如 ``torch.tensor(inputs.to_numpy(dtype=float))``：书中的
    ``torch.tensor(inputs.values)`` 遇到 pandas 的布尔型独热列会失败，并且会使 ``y`` 成为整数
    张量）。
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

    <!-- zh -->
    把 ``A`` 除以它沿 ``axis`` 的和，使沿 ``axis`` 的和变为 1。

    ``A`` 是任意维数、元素为正的张量，``axis`` 是一个 int（负值从末尾数起，与
    ``A.sum(axis=...)`` 相同）。对矩阵且 ``axis=1``，这就是书中的
    ``A / A.sum(axis=1, keepdims=True)``：之后每一行的和都为 1。返回一个与 ``A`` 形状和 dtype
    相同的新张量（不要修改 ``A``），并且关于 ``A`` 可微。
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

    <!-- zh -->
    用按元素乘积和求和构造的矩阵乘法 ``A @ B``。

    ``A`` 的形状为 ``(n, k)``，``B`` 的形状为 ``(k, m)``；返回形状为 ``(n, m)`` 的 ``C``，
    其中 ``C[i, j] = sum_l A[i, l] * B[l, j]``（每个元素是 ``A`` 的一行与 ``B`` 的一列的点积）。
    把 ``A`` 广播为 ``(n, k, 1)``，把 ``B`` 广播为 ``(1, k, m)``，相乘后沿共同的轴求和。不要用
    Python 循环（隐藏的检查会统计在小矩阵和大矩阵上执行的张量运算次数）。保持 dtype，并保持结果
    可微。不允许使用：``@``、``torch.matmul``、``torch.mm``、``torch.mv``、``torch.dot``、
    ``torch.einsum``、``torch.tensordot`` 以及库中其他乘积运算。
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

    <!-- zh -->
    书中的前向差商 ``(f(x + h) - f(x)) / h``。

    ``f`` 是单参数函数，``x`` 是 Python 浮点数或张量（此时按元素求差商，并保持 ``x`` 的
    dtype），``h`` 是正浮点数。在 ``x + h`` 和 ``x`` 处求 ``f`` 的值（前向差分，而不是中心
    差分）。对 ``f(x) = 3 * x ** 2 - 4 * x``、``x = 1`` 和 ``h = 0.1``，结果为 ``2.3``；当
    ``h -> 0`` 时它趋于 ``f'(1) = 2``。
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

    <!-- zh -->
    书中带有 Python 控制流、而自动微分仍能求出其梯度的函数。

    ``b = 2 * a``；当 ``b`` 的（欧几里得）范数小于 1000 时，把 ``b`` 加倍；然后如果 ``b`` 的和
    为正，结果就是 ``b``，否则是 ``100 * b``。``a`` 是任意形状的浮点张量（书中是标量）。用对
    ``a`` 的张量运算构造结果（不要用 ``.item()``，不要由 Python 数创建新张量），使 ``f(a)``
    可微：它的梯度按元素等于 ``f(a) / a``，因为对所走的分支而言 ``f`` 关于 ``a`` 是线性的。
    返回与 ``a`` 形状和 dtype 相同的张量。
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

    <!-- zh -->
    书中分离计算的实验：``u = (x * x)`` 被分离后 ``sum(u * x)`` 的梯度。

    ``x`` 是 ``requires_grad=True`` 的叶子张量。计算 ``y = x * x``，将其分离
    （``u = y.detach()``：自动微分把 ``u`` 当作常数），计算 ``z = u * x`` 并调用
    ``z.sum().backward()``。返回 ``x.grad``，它此时必须等于 ``u``（而不是不分离时会得到的
    ``3 * x ** 2``）。

    ``x`` 可能已经带有之前计算留下的梯度：先把它清零（当 ``x.grad`` 不是 ``None`` 时调用
    ``x.grad.zero_()``），因为 ``backward`` 会累加梯度。请使用自动微分（``backward``）而不是
    闭式解：检查会查看 ``x.grad``。
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

    <!-- zh -->
    用逆变换采样抽取一个不均匀骰子的 ``num_samples`` 个结果。

    ``probs`` 是由 ``K`` 个非负权重组成的一维浮点张量，其和不一定为 1（结果 ``i`` 的概率是
    ``probs[i] / probs.sum()``）。返回形状为 ``(num_samples,)`` 的 ``int64`` 张量，其元素是
    ``0 .. K-1`` 中相互独立抽取的结果。

    方法：用 ``torch.rand`` 抽取 ``[0, 1)`` 上的均匀随机数 ``U``（使用 torch 的全局随机数生成器，
    这样仅靠 ``torch.manual_seed`` 就能复现抽样结果：不要用 numpy 或 Python 的生成器，也不要用
    自己创建的 ``torch.Generator``），计算累积分布 ``cdf = cumsum(probs) / probs.sum()``，
    并对每个 ``u`` 返回 ``cdf`` 中 ``<= u`` 的元素个数。权重为 0 的结果绝不能出现（截断到最后
    一个权重为正的结果，以防舍入误差使 ``cdf[-1]`` 略小于 1）。不允许使用 ``torch.multinomial``
    和 ``torch.distributions``（书中用 ``multinomial.Multinomial`` 采样；这里你要自己构建
    采样器）。
    """
    ### BEGIN SOLUTION
    weights = probs.detach().to(torch.float64)
    cdf = torch.cumsum(weights, dim=0) / weights.sum()
    u = torch.rand(num_samples, dtype=torch.float64)
    idx = torch.searchsorted(cdf, u, right=True)
    last = int(torch.nonzero(weights > 0).max())
    return idx.clamp(max=last).to(torch.int64)
    ### END SOLUTION
