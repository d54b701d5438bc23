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
    """
    ### BEGIN SOLUTION
    return torch.matmul(X, w) + b
    ### END SOLUTION


def squared_loss(y_hat, y):
    """The squared loss of each example, ``(y_hat - y)**2 / 2``, not reduced.

    Reshape ``y`` to ``y_hat``'s shape first (so labels of shape ``(n,)`` work with predictions
    of shape ``(n, 1)`` instead of broadcasting to ``(n, n)``). Return a tensor of ``y_hat``'s
    shape and dtype; do not sum or average.
    """
    ### BEGIN SOLUTION
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    ### END SOLUTION


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place.

    For every tensor ``param`` in ``params``, subtract ``lr * param.grad / batch_size`` from it
    in place (without recording the update in the autograd graph), then set its gradient to
    zero. Do not use ``torch.optim``. Returns ``None``.
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
