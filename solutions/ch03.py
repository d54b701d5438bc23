"""Reference solutions for ch03, Linear neural networks (线性神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import gzip
import math
import struct

import torch

from course import Accumulator


def synthetic_data(w, b, num_examples):
    """Generate a linear regression data set ``y = Xw + b + noise``.

    Draw ``X`` of shape ``(num_examples, len(w))`` from the standard normal distribution with
    torch's global random number generator (no generator of your own: ``torch.manual_seed``
    alone must reproduce the data), and add Gaussian noise with standard deviation
    0.01 to the targets. Return ``(X, y)`` with ``y`` of shape ``(num_examples, 1)``. Both use
    the default floating dtype.

    <!-- zh -->
    生成线性回归数据集 ``y = Xw + b + noise``。

    用 torch 的全局随机数生成器从标准正态分布中抽取形状为 ``(num_examples, len(w))`` 的 ``X``
    （不要使用自己创建的生成器：仅靠 ``torch.manual_seed`` 就必须能复现数据），并给目标加上标准差
    为 0.01 的高斯噪声。返回 ``(X, y)``，其中 ``y`` 的形状为 ``(num_examples, 1)``。两者都使用
    默认的浮点 dtype。
    """
    ### BEGIN SOLUTION
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))
    ### END SOLUTION


def data_iter(batch_size, features, labels):
    """Yield shuffled minibatches ``(X, y)`` of a data set, as a generator.

    ``features`` and ``labels`` are tensors with the same first dimension ``n`` (the examples).
    Visit the examples in a fresh random order on every call (use torch's global random number
    generator, e.g. ``torch.randperm``, or Python's ``random.shuffle`` like the book), and yield
    ``(features[idx], labels[idx])`` for consecutive chunks ``idx`` of ``batch_size`` indices of
    that order. Every example appears exactly once per pass; the last batch is smaller when
    ``batch_size`` does not divide ``n`` (do not drop it). Features and labels of a batch must
    belong to the same examples.

    <!-- zh -->
    以生成器的形式产生打乱顺序的小批量 ``(X, y)``。

    ``features`` 和 ``labels`` 是第一维（样本）大小同为 ``n`` 的张量。每次调用都以新的随机顺序
    访问样本（使用 torch 的全局随机数生成器，例如 ``torch.randperm``，或者像书中那样用 Python 的
    ``random.shuffle``），并对该顺序中每 ``batch_size`` 个连续索引组成的块 ``idx`` 产生
    ``(features[idx], labels[idx])``。每一轮遍历中每个样本恰好出现一次；当 ``batch_size``
    不能整除 ``n`` 时最后一个小批量较小（不要丢弃它）。一个小批量的特征和标签必须属于同一批样本。
    """
    ### BEGIN SOLUTION
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]
    ### END SOLUTION


def linreg(X, w, b):
    """The linear regression model ``Xw + b``.

    ``X`` has shape ``(n, d)``, ``w`` shape ``(d, 1)`` (or ``(d,)``) and ``b`` is a scalar or a
    tensor of shape ``(1,)``. Return the matrix product of ``X`` and ``w`` plus ``b`` (broadcast):
    shape ``(n, 1)`` for ``w`` of shape ``(d, 1)`` and ``(n,)`` for ``w`` of shape ``(d,)``. Keep
    the dtype, and keep the result differentiable with respect to ``X``, ``w`` and ``b``.

    <!-- zh -->
    线性回归模型 ``Xw + b``。

    ``X`` 的形状为 ``(n, d)``，``w`` 的形状为 ``(d, 1)``（或 ``(d,)``），``b`` 是标量或形状为
    ``(1,)`` 的张量。返回 ``X`` 与 ``w`` 的矩阵乘积加上 ``b``（广播）：``w`` 形状为 ``(d, 1)``
    时结果形状为 ``(n, 1)``，``w`` 形状为 ``(d,)`` 时为 ``(n,)``。保持 dtype，并保持结果关于
    ``X``、``w`` 和 ``b`` 可微。
    """
    ### BEGIN SOLUTION
    return torch.matmul(X, w) + b
    ### END SOLUTION


def squared_loss(y_hat, y):
    """The squared loss of each example, ``(y_hat - y)**2 / 2``, not reduced.

    Reshape ``y`` to ``y_hat``'s shape first (so labels of shape ``(n,)`` work with predictions
    of shape ``(n, 1)`` instead of broadcasting to ``(n, n)``). Return a tensor of ``y_hat``'s
    shape and dtype; do not sum or average.

    <!-- zh -->
    每个样本的平方损失 ``(y_hat - y)**2 / 2``，不做汇总。

    先把 ``y`` 变形为 ``y_hat`` 的形状（这样形状为 ``(n,)`` 的标签与形状为 ``(n, 1)`` 的预测值
    就能正确运算，而不会广播成 ``(n, n)``）。返回与 ``y_hat`` 形状和 dtype 相同的张量；不要求和
    或求平均。
    """
    ### BEGIN SOLUTION
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    ### END SOLUTION


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place.

    For every tensor ``param`` in ``params``, subtract ``lr * param.grad / batch_size`` from it
    in place (without recording the update in the autograd graph), then set its gradient to
    zero. Do not use ``torch.optim``. Returns ``None``.

    <!-- zh -->
    小批量随机梯度下降，原地更新。

    对 ``params`` 中的每个张量 ``param``，原地减去 ``lr * param.grad / batch_size``（不要把这次
    更新记录到自动微分的计算图中），然后把它的梯度清零。不要使用 ``torch.optim``。返回 ``None``。
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
    ### END SOLUTION


def softmax(X):
    """Row-wise softmax of a 2-D tensor of logits.

    ``softmax(X)[i, j] = exp(X[i, j]) / sum_k exp(X[i, k])``. Keep ``X``'s dtype, shape and
    device. It must stay finite for logits as large as ±1e4 (subtract each row's maximum first).
    Build it from ``exp`` and ``sum``: ``torch.softmax`` and friends are not allowed.

    <!-- zh -->
    对二维 logits 张量按行做 softmax。

    ``softmax(X)[i, j] = exp(X[i, j]) / sum_k exp(X[i, k])``。保持 ``X`` 的 dtype、形状和设备。
    对大到 ±1e4 的 logits，结果也必须是有限值（先减去每一行的最大值）。用 ``exp`` 和 ``sum``
    构造它：不允许使用 ``torch.softmax`` 之类的函数。
    """
    ### BEGIN SOLUTION
    X_shifted = X - X.max(dim=1, keepdim=True).values
    X_exp = torch.exp(X_shifted)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
    ### END SOLUTION


def cross_entropy(y_hat, y):
    """Cross-entropy loss of each example, from predicted probabilities.

    ``y_hat`` has shape ``(n, q)`` and holds probabilities (rows of a softmax); ``y`` holds the
    ``n`` true class indices (int64). Return the tensor of shape ``(n,)`` with
    ``-log(y_hat[i, y[i]])``: pick each row's entry with fancy indexing, do not reduce.
    ``F.cross_entropy``, ``F.nll_loss`` and ``nn.CrossEntropyLoss`` are not allowed.

    <!-- zh -->
    由预测概率计算每个样本的交叉熵损失。

    ``y_hat`` 的形状为 ``(n, q)``，存放概率（softmax 的各行）；``y`` 存放 ``n`` 个真实类别的
    索引（int64）。返回形状为 ``(n,)`` 的张量，其元素为 ``-log(y_hat[i, y[i]])``：用高级索引取出
    每一行的对应元素，不做汇总。不允许使用 ``F.cross_entropy``、``F.nll_loss`` 和
    ``nn.CrossEntropyLoss``。
    """
    ### BEGIN SOLUTION
    return -torch.log(y_hat[range(len(y_hat)), y])
    ### END SOLUTION


def accuracy(y_hat, y):
    """The NUMBER of correct predictions, as a Python float.

    If ``y_hat`` is 2-D with more than one column it holds scores of shape ``(n, q)``: the
    prediction of example ``i`` is ``argmax`` over its row. Otherwise ``y_hat`` already holds
    predicted classes. Compare with the labels ``y`` (shape ``(n,)``, after converting the
    predictions to ``y``'s dtype) and return how many match, e.g. ``2.0`` (a Python ``int`` is
    accepted too; a tensor is not). Divide by ``n`` yourself when you want a fraction.

    <!-- zh -->
    正确预测的**数量**，以 Python float 返回。

    如果 ``y_hat`` 是列数大于 1 的二维张量，它存放形状为 ``(n, q)`` 的得分：样本 ``i`` 的预测
    是其所在行的 ``argmax``。否则 ``y_hat`` 本身就是预测的类别。与标签 ``y``（形状为 ``(n,)``；
    先把预测转换为 ``y`` 的 dtype）比较，返回相符的个数，例如 ``2.0``（Python ``int`` 也可以；
    张量不行）。需要比例时请自己除以 ``n``。
    """
    ### BEGIN SOLUTION
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
    ### END SOLUTION


def evaluate_accuracy(net, data_iter):
    """The fraction of correct predictions of ``net`` over a whole data set.

    ``data_iter`` yields batches ``(X, y)``; batches may differ in size, so count correct
    predictions and examples over all batches and divide at the end (not a mean of per-batch
    accuracies). If ``net`` is a ``torch.nn.Module``, put it in evaluation mode first
    (``net.eval()``: dropout off); ``net`` may also be a plain function. Evaluate without
    recording gradients (``torch.no_grad()``). You may use ``accuracy`` and ``Accumulator``.
    Return a Python float in [0, 1] (a numpy float is accepted too; a tensor is not).

    <!-- zh -->
    ``net`` 在整个数据集上预测正确的比例。

    ``data_iter`` 产生小批量 ``(X, y)``；小批量的大小可能不同，所以要在所有小批量上累计正确预测数
    和样本数，最后再相除（而不是对各小批量的精度求平均）。如果 ``net`` 是 ``torch.nn.Module``，
    先把它设为评估模式（``net.eval()``：关闭暂退法）；``net`` 也可能是一个普通函数。评估时不要
    记录梯度（``torch.no_grad()``）。可以使用 ``accuracy`` 和 ``Accumulator``。返回 [0, 1]
    中的 Python float（numpy 浮点数也可以；张量不行）。
    """
    ### BEGIN SOLUTION
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
    ### END SOLUTION


def huber_loss(y_hat, y, sigma=1.0):
    """Huber's robust loss of each example (the book's exercise), not reduced.

    With ``d = y_hat - y`` (``y`` reshaped to ``y_hat``'s shape, as in ``squared_loss``):
    ``|d| - sigma / 2`` where ``|d| > sigma`` and ``d**2 / (2 * sigma)`` elsewhere. It is
    quadratic near zero and linear for large errors, so outliers pull less. Keep ``y_hat``'s
    shape and dtype and keep it differentiable. ``F.huber_loss``, ``F.smooth_l1_loss`` and their
    ``nn`` classes are not allowed.

    <!-- zh -->
    每个样本的 Huber 稳健损失（书中的练习），不做汇总。

    记 ``d = y_hat - y``（与 ``squared_loss`` 一样，``y`` 先变形为 ``y_hat`` 的形状）：当
    ``|d| > sigma`` 时为 ``|d| - sigma / 2``，其他情况为 ``d**2 / (2 * sigma)``。它在零附近是
    二次的，对大误差是线性的，因此离群点的影响更小。保持 ``y_hat`` 的形状和 dtype，并保持可微。
    不允许使用 ``F.huber_loss``、``F.smooth_l1_loss`` 及其对应的 ``nn`` 类。
    """
    ### BEGIN SOLUTION
    d = y_hat - y.reshape(y_hat.shape)
    return torch.where(d.abs() > sigma, d.abs() - sigma / 2, d ** 2 / (2 * sigma))
    ### END SOLUTION


def train_epoch_ch3(net, train_iter, loss, updater):
    """Train ``net`` for one epoch; return ``(average loss, accuracy)`` over the epoch.

    If ``net`` is a ``torch.nn.Module`` put it in training mode (``net.train()``). For each batch
    ``(X, y)``: compute ``y_hat = net(X)`` and the per-example losses ``l = loss(y_hat, y)``, then

    - if ``updater`` is a ``torch.optim.Optimizer``: ``updater.zero_grad()``, backpropagate
      ``l.mean()``, ``updater.step()``;
    - otherwise ``updater`` is a function like ``sgd``: backpropagate ``l.sum()`` and call
      ``updater(batch_size)`` with this batch's number of examples.

    Accumulate the summed loss and the number of correct predictions of ``y_hat`` (computed
    before the update) over all examples; return ``(total loss / n, correct / n)`` as Python
    floats (not tensors: accumulate ``l.sum().item()`` or ``float(l.sum())``),
    where ``n`` counts all examples of the epoch (the last batch may be smaller). You may use
    ``accuracy`` and ``Accumulator``.

    <!-- zh -->
    训练 ``net`` 一轮；返回这一轮的 ``(平均损失, 精度)``。

    如果 ``net`` 是 ``torch.nn.Module``，先把它设为训练模式（``net.train()``）。对每个小批量
    ``(X, y)``：计算 ``y_hat = net(X)`` 和每个样本的损失 ``l = loss(y_hat, y)``，然后

    - 如果 ``updater`` 是 ``torch.optim.Optimizer``：``updater.zero_grad()``，对 ``l.mean()``
      反向传播，``updater.step()``；
    - 否则 ``updater`` 是类似 ``sgd`` 的函数：对 ``l.sum()`` 反向传播，并以这个小批量的样本数
      调用 ``updater(batch_size)``。

    在所有样本上累计损失之和以及 ``y_hat``（在更新之前计算）的正确预测数；以 Python float 返回
    ``(total loss / n, correct / n)``（不是张量：累加 ``l.sum().item()`` 或 ``float(l.sum())``），
    其中 ``n`` 是这一轮的全部样本数（最后一个小批量可能较小）。可以使用 ``accuracy`` 和
    ``Accumulator``。
    """
    ### BEGIN SOLUTION
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(l.sum().item(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
    ### END SOLUTION


def read_idx(path):
    """Read a Fashion-MNIST (or MNIST) file in the IDX format, from scratch.

    The file starts with big-endian unsigned 32-bit integers: a magic number, then the sizes.

    - magic ``2051``: images; then ``n``, ``rows``, ``cols``; then ``n * rows * cols`` bytes
      (uint8, row by row). Return a ``torch.uint8`` tensor of shape ``(n, rows, cols)``.
    - magic ``2049``: labels; then ``n``; then ``n`` bytes. Return an ``torch.int64`` tensor of
      shape ``(n,)``.

    A ``path`` ending in ``.gz`` is gzip-compressed: decompress it (``gzip.open``). Raise
    ``ValueError`` for any other magic number and for a file with fewer data bytes than its
    header announces. Read the sizes from the header, never assume 28x28. ``torchvision`` is not
    allowed (``struct``, ``gzip``, ``int.from_bytes``, ``torch.frombuffer`` are fine).

    <!-- zh -->
    从零开始读取 IDX 格式的 Fashion-MNIST（或 MNIST）文件。

    文件以大端序的 32 位无符号整数开头：先是魔数，然后是各维的大小。

    - 魔数 ``2051``：图像；接着是 ``n``、``rows``、``cols``；然后是 ``n * rows * cols`` 个字节
      （uint8，逐行排列）。返回形状为 ``(n, rows, cols)`` 的 ``torch.uint8`` 张量。
    - 魔数 ``2049``：标签；接着是 ``n``；然后是 ``n`` 个字节。返回形状为 ``(n,)`` 的
      ``torch.int64`` 张量。

    以 ``.gz`` 结尾的 ``path`` 是 gzip 压缩的：先解压（``gzip.open``）。遇到任何其他魔数，或者
    数据字节数少于文件头所声明的数量，都要抛出 ``ValueError``。从文件头读取各维大小，绝不要假定是
    28x28。不允许使用 ``torchvision``（``struct``、``gzip``、``int.from_bytes``、
    ``torch.frombuffer`` 都可以）。
    """
    ### BEGIN SOLUTION
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path} is too short to be an IDX file")
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        if len(data) < 16:
            raise ValueError(f"{path}: the image header is truncated")
        rows, cols = struct.unpack(">II", data[8:16])
        shape, offset = (n, rows, cols), 16
    elif magic == 2049:
        shape, offset = (n,), 8
    else:
        raise ValueError(f"{path}: magic number {magic} is neither 2051 (images) nor 2049 (labels)")
    count = math.prod(shape)
    if len(data) - offset < count:
        raise ValueError(f"{path}: the header announces {count} bytes of data, the file has "
                         f"{len(data) - offset}")
    if count:
        values = torch.frombuffer(bytearray(data[offset: offset + count]), dtype=torch.uint8)
    else:
        values = torch.zeros(0, dtype=torch.uint8)
    values = values.reshape(shape)
    return values if magic == 2051 else values.to(torch.int64)
    ### END SOLUTION
