"""Reference solutions for ch04, Multilayer perceptrons (多层感知机).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import math

import torch
from torch import nn


def perceptron_train(X, y, lr=1.0, max_epochs=100):
    """Train a perceptron ``sign(w·x + b)`` with Rosenblatt's learning rule.

    ``X`` has shape ``(n, d)``; ``y`` has shape ``(n,)``, the same floating dtype as ``X``, and
    holds labels ``-1.0`` or ``+1.0``. Start from ``w = 0`` (shape ``(d,)``) and ``b = 0``, both
    with ``X``'s dtype. One epoch visits the examples in index order ``i = 0, 1, ..., n - 1``;
    example ``i`` is a mistake when ``y[i] * (w · X[i] + b) <= 0`` (a point on the boundary
    counts as a mistake, so the very first example always triggers an update), and each mistake
    is corrected at once::

        w = w + lr * y[i] * X[i]
        b = b + lr * y[i]

    Stop as soon as a whole epoch makes no update: the data are then separated and
    ``converged`` is ``True``. If each of the ``max_epochs`` epochs made at least one update,
    stop there with ``converged = False`` (for data that are not linearly separable, such as
    XOR, this always happens).

    Return ``(w, b, converged)``: ``w`` a tensor of shape ``(d,)``, ``b`` a 0-dim tensor (both
    with ``X``'s dtype) and ``converged`` a Python ``bool``. No gradients are involved.

    <!-- zh -->
    用 Rosenblatt 的学习规则训练感知机 ``sign(w·x + b)``。

    ``X`` 的形状为 ``(n, d)``；``y`` 的形状为 ``(n,)``，浮点 dtype 与 ``X`` 相同，存放标签
    ``-1.0`` 或 ``+1.0``。从 ``w = 0``（形状为 ``(d,)``）和 ``b = 0`` 开始，两者都使用 ``X``
    的 dtype。一轮按索引顺序 ``i = 0, 1, ..., n - 1`` 访问样本；当
    ``y[i] * (w · X[i] + b) <= 0`` 时样本 ``i`` 被分错（恰好在边界上的点也算分错，所以第一个样本
    总会触发一次更新），每次分错都立即纠正::

        w = w + lr * y[i] * X[i]
        b = b + lr * y[i]

    一旦某一整轮都没有更新就停止：此时数据已被分开，``converged`` 为 ``True``。如果
    ``max_epochs`` 轮中的每一轮都至少有一次更新，就在那里停止，``converged = False``（对于线性
    不可分的数据，例如 XOR，总是如此）。

    返回 ``(w, b, converged)``：``w`` 是形状为 ``(d,)`` 的张量，``b`` 是 0 维张量（两者都使用
    ``X`` 的 dtype），``converged`` 是 Python ``bool``。这里不涉及梯度。
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    for _ in range(max_epochs):
        updated = False
        for i in range(n):
            if y[i] * (torch.dot(w, X[i]) + b) <= 0:
                w = w + lr * y[i] * X[i]
                b = b + lr * y[i]
                updated = True
        if not updated:
            return w, b, True
    return w, b, False
    ### END SOLUTION


def relu(X):
    """The rectified linear unit ``max(x, 0)``, elementwise, from scratch.

    ``X`` is a tensor of any shape and floating dtype; return a new tensor of the same shape,
    dtype and device, differentiable with respect to ``X`` (gradient 1 where ``x > 0`` and 0
    where ``x < 0``). ``torch.relu``, ``F.relu``, ``nn.ReLU`` and ``F.threshold`` are not
    allowed; ``torch.max``/``torch.maximum`` with ``torch.zeros_like(X)``, ``torch.where`` or
    ``clamp`` are fine.

    <!-- zh -->
    从零开始按元素实现修正线性单元 ``max(x, 0)``。

    ``X`` 是任意形状、任意浮点 dtype 的张量；返回形状、dtype 和设备都相同的新张量，并关于 ``X``
    可微（``x > 0`` 处梯度为 1，``x < 0`` 处为 0）。不允许使用 ``torch.relu``、``F.relu``、
    ``nn.ReLU`` 和 ``F.threshold``；可以用 ``torch.max``/``torch.maximum`` 配合
    ``torch.zeros_like(X)``、``torch.where`` 或 ``clamp``。
    """
    ### BEGIN SOLUTION
    a = torch.zeros_like(X)
    return torch.max(X, a)
    ### END SOLUTION


def mlp(X, W1, b1, W2, b2):
    """A one-hidden-layer perceptron: the book's ``net(X)`` with its parameters passed in.

    ``W1`` has shape ``(num_inputs, num_hiddens)``, ``b1`` ``(num_hiddens,)``, ``W2``
    ``(num_hiddens, num_outputs)`` and ``b2`` ``(num_outputs,)``. First reshape ``X`` (for
    example a batch of images of shape ``(batch, 1, 28, 28)``) to ``(-1, num_inputs)`` with
    ``num_inputs = W1.shape[0]``, then return ``relu(X @ W1 + b1) @ W2 + b2`` of shape
    ``(batch, num_outputs)``, differentiable with respect to ``X`` and every parameter.

    Call the ``relu`` you wrote above by name (the grader checks ``mlp`` with a reference
    ``relu``, so a bug there does not cost points here). Write the affine maps with ``@`` (or
    ``torch.matmul``): ``F.linear`` and ``nn.Linear`` are not allowed.

    <!-- zh -->
    单隐藏层感知机：书中的 ``net(X)``，其参数以实参传入。

    ``W1`` 的形状为 ``(num_inputs, num_hiddens)``，``b1`` 为 ``(num_hiddens,)``，``W2`` 为
    ``(num_hiddens, num_outputs)``，``b2`` 为 ``(num_outputs,)``。先把 ``X``（例如形状为
    ``(batch, 1, 28, 28)`` 的一批图像）变形为 ``(-1, num_inputs)``，其中
    ``num_inputs = W1.shape[0]``，然后返回形状为 ``(batch, num_outputs)`` 的
    ``relu(X @ W1 + b1) @ W2 + b2``，关于 ``X`` 和每个参数都可微。

    按名字调用你在上面写的 ``relu``（评分程序用参考的 ``relu`` 检查 ``mlp``，所以那里的错误不会
    在这里扣分）。用 ``@``（或 ``torch.matmul``）写仿射变换：不允许使用 ``F.linear`` 和
    ``nn.Linear``。
    """
    ### BEGIN SOLUTION
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
    ### END SOLUTION


def poly_features(x, max_degree):
    """Rescaled polynomial features for the under-/over-fitting experiment.

    ``x`` is a 1-D tensor of shape ``(n,)`` or a column of shape ``(n, 1)``. Return a tensor of
    shape ``(n, max_degree)`` with ``x``'s dtype whose column ``i`` (``i = 0, ..., max_degree -
    1``) is ``x ** i / i!`` (the book divides by ``math.gamma(i + 1) = i!`` so that high powers
    do not explode). Column 0 is all ones (``0 ** 0 = 1``). Differentiable with respect to
    ``x``; do not modify ``x``.

    <!-- zh -->
    欠拟合/过拟合实验中经过缩放的多项式特征。

    ``x`` 是形状为 ``(n,)`` 的一维张量或形状为 ``(n, 1)`` 的列。返回形状为 ``(n, max_degree)``、
    dtype 与 ``x`` 相同的张量，其第 ``i`` 列（``i = 0, ..., max_degree - 1``）为
    ``x ** i / i!``（书中除以 ``math.gamma(i + 1) = i!``，使高次幂不会爆炸）。第 0 列全为 1
    （``0 ** 0 = 1``）。关于 ``x`` 可微；不要修改 ``x``。
    """
    ### BEGIN SOLUTION
    x = x.reshape(-1, 1)
    powers = torch.arange(max_degree, device=x.device).reshape(1, -1)
    features = torch.pow(x, powers)
    scale = torch.tensor([math.gamma(i + 1) for i in range(max_degree)], dtype=x.dtype,
                         device=x.device)
    return features / scale
    ### END SOLUTION


def l2_penalty(w):
    """The L2 (weight decay) penalty ``||w||² / 2``.

    ``w`` is a tensor of any shape. Return ``sum(w ** 2) / 2`` as a 0-dim tensor with ``w``'s
    dtype, differentiable with respect to ``w`` (its gradient is ``w`` itself).

    <!-- zh -->
    L2（权重衰减）惩罚项 ``||w||² / 2``。

    ``w`` 是任意形状的张量。以 dtype 与 ``w`` 相同的 0 维张量返回 ``sum(w ** 2) / 2``，关于
    ``w`` 可微（它的梯度就是 ``w`` 本身）。
    """
    ### BEGIN SOLUTION
    return torch.sum(w.pow(2)) / 2
    ### END SOLUTION


def dropout_layer(X, dropout):
    """Inverted dropout, from scratch.

    Zero each element of ``X`` independently with probability ``dropout`` (``0 <= dropout <=
    1``) and divide the survivors by ``1 - dropout``, so that the expected value of every
    element is unchanged. Draw the mask with torch's global random number generator (e.g.
    ``torch.rand``), so that ``torch.manual_seed`` makes it reproducible. Return a new tensor
    with ``X``'s shape and dtype, differentiable with respect to ``X``: the gradient is
    ``mask / (1 - dropout)``.

    Edge cases: ``dropout == 1`` returns ``torch.zeros_like(X)`` (no division by zero);
    ``dropout == 0`` returns ``X`` unchanged. ``F.dropout``, ``nn.Dropout`` and their relatives
    are not allowed.

    <!-- zh -->
    从零开始实现反向暂退法（inverted dropout）。

    以概率 ``dropout``（``0 <= dropout <= 1``）独立地把 ``X`` 的每个元素置零，并把保留下来的元素
    除以 ``1 - dropout``，使每个元素的期望不变。用 torch 的全局随机数生成器（例如 ``torch.rand``）
    抽取掩码，这样 ``torch.manual_seed`` 就能使其可复现。返回形状和 dtype 与 ``X`` 相同的新张量，
    关于 ``X`` 可微：梯度为 ``mask / (1 - dropout)``。

    边界情况：``dropout == 1`` 时返回 ``torch.zeros_like(X)``（不做除以零的运算）；
    ``dropout == 0`` 时原样返回 ``X``。不允许使用 ``F.dropout``、``nn.Dropout`` 及其同类。
    """
    ### BEGIN SOLUTION
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
    ### END SOLUTION


class DropoutMLP(nn.Module):
    """The book's MLP with two hidden layers and dropout after each of them.

    ``forward(X)`` reshapes ``X`` to ``(-1, num_inputs)`` and computes::

        H1 = relu(lin1(X)), then H1 = dropout_layer(H1, self.dropout1)  (training only)
        H2 = relu(lin2(H1)), then H2 = dropout_layer(H2, self.dropout2)  (training only)
        return lin3(H2)

    Dropout is applied only in training mode (``self.training``, switched by ``.train()`` and
    ``.eval()``); in evaluation mode the network is a plain deterministic MLP. Apply dropout by
    calling your ``dropout_layer`` by name (the grader checks this class with a reference
    ``dropout_layer``); ``F.dropout`` and ``nn.Dropout`` are not allowed. ``__init__`` is given:
    keep the parameter names ``lin1``, ``lin2``, ``lin3``.

    <!-- zh -->
    书中具有两个隐藏层、且每个隐藏层之后都有暂退法的多层感知机。

    ``forward(X)`` 把 ``X`` 变形为 ``(-1, num_inputs)``，然后计算::

        H1 = relu(lin1(X)), then H1 = dropout_layer(H1, self.dropout1)  (training only)
        H2 = relu(lin2(H1)), then H2 = dropout_layer(H2, self.dropout2)  (training only)
        return lin3(H2)

    暂退法只在训练模式下应用（``self.training``，由 ``.train()`` 和 ``.eval()`` 切换）；在评估
    模式下，网络就是一个普通的确定性多层感知机。按名字调用你的 ``dropout_layer`` 来应用暂退法
    （评分程序用参考的 ``dropout_layer`` 检查这个类）；不允许使用 ``F.dropout`` 和
    ``nn.Dropout``。``__init__`` 已经给出：保留参数名 ``lin1``、``lin2``、``lin3``。
    """

    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1=0.2,
                 dropout2=0.5):
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        ### BEGIN SOLUTION
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
        ### END SOLUTION


def xavier_uniform_(tensor, gain=1.0):
    """Xavier (Glorot) uniform initialisation, in place, from scratch.

    ``tensor`` is a 2-D weight of shape ``(fan_out, fan_in)`` (the layout of ``nn.Linear``'s
    ``weight``), possibly an ``nn.Parameter`` that requires grad. Overwrite it in place with
    independent draws from ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``, so that
    the variance is ``gain² · 2 / (fan_in + fan_out)``. Use torch's global random number
    generator (e.g. ``tensor.uniform_``) inside ``torch.no_grad()``, keep the dtype, and return
    the same tensor object. The course goes beyond the book here, which only calls the library:
    ``torch.nn.init`` is not allowed.

    <!-- zh -->
    从零开始原地实现 Xavier（Glorot）均匀初始化。

    ``tensor`` 是形状为 ``(fan_out, fan_in)`` 的二维权重（``nn.Linear`` 的 ``weight`` 的布局），
    可能是需要梯度的 ``nn.Parameter``。用取自 ``U(-a, a)`` 的独立样本原地覆盖它，其中
    ``a = gain * sqrt(6 / (fan_in + fan_out))``，使方差为 ``gain² · 2 / (fan_in + fan_out)``。
    在 ``torch.no_grad()`` 中使用 torch 的全局随机数生成器（例如 ``tensor.uniform_``），保持
    dtype，并返回同一个张量对象。这里课程超出了书的内容（书中只调用库函数）：不允许使用
    ``torch.nn.init``。
    """
    ### BEGIN SOLUTION
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
    ### END SOLUTION


def xavier_normal_(tensor, gain=1.0):
    """Xavier (Glorot) normal initialisation, in place, from scratch.

    ``tensor`` is a 2-D weight of shape ``(fan_out, fan_in)``, possibly an ``nn.Parameter``
    that requires grad. Overwrite it in place with independent draws from ``N(0, std²)``,
    ``std = gain * sqrt(2 / (fan_in + fan_out))``. Use torch's global random number generator
    (e.g. ``tensor.normal_``) inside ``torch.no_grad()``, keep the dtype, and return the same
    tensor object. ``torch.nn.init`` is not allowed.

    <!-- zh -->
    从零开始原地实现 Xavier（Glorot）正态初始化。

    ``tensor`` 是形状为 ``(fan_out, fan_in)`` 的二维权重，可能是需要梯度的 ``nn.Parameter``。
    用取自 ``N(0, std²)`` 的独立样本原地覆盖它，其中 ``std = gain * sqrt(2 / (fan_in + fan_out))``。
    在 ``torch.no_grad()`` 中使用 torch 的全局随机数生成器（例如 ``tensor.normal_``），保持 dtype，
    并返回同一个张量对象。不允许使用 ``torch.nn.init``。
    """
    ### BEGIN SOLUTION
    fan_out, fan_in = tensor.shape
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
    ### END SOLUTION


def log_rmse(net, features, labels):
    """The root-mean-squared error between logarithms used for the Kaggle house prices.

    ``net`` maps ``features`` of shape ``(n, d)`` to predictions of shape ``(n, 1)``;
    ``labels`` has shape ``(n, 1)`` and is positive. Clamp the predictions to ``[1, inf)`` (a
    prediction below 1 would make the logarithm negative or undefined), then return::

        sqrt(mean((log(clamped_predictions) - log(labels)) ** 2))

    as a Python ``float`` (``.item()``), like the book.

    <!-- zh -->
    Kaggle 房价预测中使用的对数均方根误差。

    ``net`` 把形状为 ``(n, d)`` 的 ``features`` 映射为形状为 ``(n, 1)`` 的预测；``labels`` 的
    形状为 ``(n, 1)`` 且为正数。把预测值截断到 ``[1, inf)``（小于 1 的预测会使对数为负或无定义），
    然后返回::

        sqrt(mean((log(clamped_predictions) - log(labels)) ** 2))

    与书中一样，以 Python ``float``（``.item()``）返回。
    """
    ### BEGIN SOLUTION
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    rmse = torch.sqrt(torch.mean((torch.log(clipped_preds) - torch.log(labels)) ** 2))
    return rmse.item()
    ### END SOLUTION


def get_k_fold_data(k, i, X, y):
    """The training and validation data of fold ``i`` in ``k``-fold cross-validation.

    ``X`` has shape ``(n, ...)`` and ``y`` has ``n`` rows (shape ``(n,)`` or ``(n, 1)``); ``k >
    1`` and ``0 <= i < k``. With ``fold_size = n // k``, fold ``j`` is rows ``j * fold_size``
    up to (not including) ``(j + 1) * fold_size``; the last ``n - k * fold_size`` rows belong to
    no fold and are dropped, as in the book. Return ``(X_train, y_train, X_valid, y_valid)``:
    the validation set is fold ``i``, the training set the other ``k - 1`` folds concatenated
    in their original order.

    <!-- zh -->
    ``k`` 折交叉验证中第 ``i`` 折的训练数据和验证数据。

    ``X`` 的形状为 ``(n, ...)``，``y`` 有 ``n`` 行（形状为 ``(n,)`` 或 ``(n, 1)``）；``k > 1``
    且 ``0 <= i < k``。记 ``fold_size = n // k``，第 ``j`` 折是从第 ``j * fold_size`` 行到第
    ``(j + 1) * fold_size`` 行（不含）；与书中一样，最后 ``n - k * fold_size`` 行不属于任何一折，
    被丢弃。返回 ``(X_train, y_train, X_valid, y_valid)``：验证集是第 ``i`` 折，训练集是其余
    ``k - 1`` 折按原顺序拼接而成。
    """
    ### BEGIN SOLUTION
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid
    ### END SOLUTION
