"""Reference solutions for ch06, Convolutional neural networks (卷积神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import torch
from torch import nn
from torch.nn import functional as F

from course import Accumulator, Animator, Timer, accuracy


def corr2d(X, K):
    """The two-dimensional cross-correlation of the book (互相关运算), from scratch.

    ``X`` has shape ``(n_h, n_w)`` and the kernel ``K`` shape ``(k_h, k_w)``; return ``Y`` of
    shape ``(n_h - k_h + 1, n_w - k_w + 1)`` with ``Y[i, j] = (X[i:i + k_h, j:j + k_w] * K).sum()``
    (no padding, stride 1, the kernel is not flipped). Like the book, you may create ``Y`` with
    ``torch.zeros`` (the default dtype) and fill it in a double loop; the result must stay
    differentiable with respect to ``X`` and ``K`` (``Conv2D`` below learns its kernel through
    it). ``torch.conv2d``/``F.conv2d``/``nn.Conv2d`` and ``F.unfold`` are not allowed.

    <!-- zh -->
    书中的二维互相关运算，从零开始实现。

    ``X`` 的形状为 ``(n_h, n_w)``，卷积核 ``K`` 的形状为 ``(k_h, k_w)``；返回形状为
    ``(n_h - k_h + 1, n_w - k_w + 1)`` 的 ``Y``，其中
    ``Y[i, j] = (X[i:i + k_h, j:j + k_w] * K).sum()``
    （无填充，步幅为 1，卷积核不翻转）。可以像书中那样用 ``torch.zeros``（默认 dtype）创建
    ``Y``，再用双重循环填充它；结果必须关于 ``X`` 和 ``K`` 可微（下面的 ``Conv2D`` 要通过它学习
    卷积核）。不允许使用 ``torch.conv2d``/``F.conv2d``/``nn.Conv2d`` 和 ``F.unfold``。
    """
    ### BEGIN SOLUTION
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
    ### END SOLUTION


class Conv2D(nn.Module):
    """The book's two-dimensional convolutional layer (卷积层): ``corr2d(x, weight) + bias``.

    ``Conv2D(kernel_size)`` with ``kernel_size = (k_h, k_w)`` has two parameters, named exactly
    ``weight`` (shape ``kernel_size``, initialised uniformly in ``[0, 1)`` as in the book) and
    ``bias`` (shape ``(1,)``, initialised to zero). ``forward(x)`` takes a 2-D input and returns
    ``corr2d(x, self.weight) + self.bias``. Call the ``corr2d`` you wrote above by name (the
    grader swaps in a reference ``corr2d``, so a bug there costs points only once).

    <!-- zh -->
    书中的二维卷积层：``corr2d(x, weight) + bias``。

    ``Conv2D(kernel_size)``（``kernel_size = (k_h, k_w)``）有两个参数，名字必须是 ``weight``
    （形状为 ``kernel_size``，像书中那样在 ``[0, 1)`` 上均匀初始化）和 ``bias``（形状为
    ``(1,)``，初始化为零）。``forward(x)`` 接受一个二维输入，返回
    ``corr2d(x, self.weight) + self.bias``。按名字调用你在上面写的 ``corr2d``（评分程序会换上
    参考实现的 ``corr2d``，所以那里的错误只扣一次分）。
    """

    def __init__(self, kernel_size):
        super().__init__()
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return corr2d(x, self.weight) + self.bias
        ### END SOLUTION


def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    """The output height and width of a convolution (or pooling) layer (填充和步幅).

    ``input_shape`` is ``(n_h, n_w)``; ``kernel_size``, ``padding`` and ``stride`` are each an
    int (the same on both axes) or a pair ``(height, width)``. ``padding`` counts the rows (or
    columns) added on *each* side, as ``nn.Conv2d(padding=...)`` does, so the book's ``p_h``
    (rows added in total) is ``2 * padding``. Per axis the output size is the book's
    ``floor((n - k + 2 * padding + s) / s)``. Return a tuple of two Python ints that matches the
    output of ``nn.Conv2d`` with the same arguments (for every configuration where the kernel
    fits in the padded input).

    <!-- zh -->
    卷积层（或汇聚层）输出的高和宽（填充和步幅）。

    ``input_shape`` 是 ``(n_h, n_w)``；``kernel_size``、``padding`` 和 ``stride`` 各自是一个
    int（两个轴相同）或一个 ``(height, width)`` 对。``padding`` 计的是在*每一侧*添加的行数
    （或列数），与 ``nn.Conv2d(padding=...)`` 相同，所以书中的 ``p_h``（总共添加的行数）等于
    ``2 * padding``。每个轴上的输出大小是书中的 ``floor((n - k + 2 * padding + s) / s)``。
    返回由两个 Python int 组成的元组，它要与相同参数下 ``nn.Conv2d`` 的输出一致（对于卷积核能
    放进填充后输入的每一种配置）。
    """
    ### BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (n_h, n_w), (k_h, k_w) = pair(input_shape), pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    return ((n_h - k_h + 2 * p_h + s_h) // s_h, (n_w - k_w + 2 * p_w + s_w) // s_w)
    ### END SOLUTION


def corr2d_multi_in(X, K):
    """Cross-correlation with several input channels (多输入通道).

    ``X`` has shape ``(c_i, n_h, n_w)`` and ``K`` shape ``(c_i, k_h, k_w)``: cross-correlate each
    input channel with its own kernel and add the results, giving shape
    ``(n_h - k_h + 1, n_w - k_w + 1)``. Call your ``corr2d`` by name (graded with a reference one).

    <!-- zh -->
    多输入通道的互相关运算。

    ``X`` 的形状为 ``(c_i, n_h, n_w)``，``K`` 的形状为 ``(c_i, k_h, k_w)``：把每个输入通道与它
    自己的卷积核做互相关运算，再把结果相加，得到形状 ``(n_h - k_h + 1, n_w - k_w + 1)``。按名字
    调用你的 ``corr2d``（评分时使用参考实现）。
    """
    ### BEGIN SOLUTION
    return sum(corr2d(x, k) for x, k in zip(X, K))
    ### END SOLUTION


def corr2d_multi_in_out(X, K):
    """Cross-correlation with several input and output channels (多输出通道).

    ``X`` has shape ``(c_i, n_h, n_w)`` and ``K`` shape ``(c_o, c_i, k_h, k_w)``; output channel
    ``o`` is ``corr2d_multi_in(X, K[o])``. Return shape ``(c_o, n_h - k_h + 1, n_w - k_w + 1)``.
    Call your ``corr2d_multi_in`` by name (graded with a reference one).

    <!-- zh -->
    多输入多输出通道的互相关运算。

    ``X`` 的形状为 ``(c_i, n_h, n_w)``，``K`` 的形状为 ``(c_o, c_i, k_h, k_w)``；输出通道
    ``o`` 是 ``corr2d_multi_in(X, K[o])``。返回形状 ``(c_o, n_h - k_h + 1, n_w - k_w + 1)``。
    按名字调用你的 ``corr2d_multi_in``（评分时使用参考实现）。
    """
    ### BEGIN SOLUTION
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)
    ### END SOLUTION


def corr2d_multi_in_out_1x1(X, K):
    """A 1×1 convolution as one matrix product (1×1卷积层).

    ``X`` has shape ``(c_i, n_h, n_w)`` and ``K`` shape ``(c_o, c_i, 1, 1)``. Reshape ``X`` to
    ``(c_i, n_h * n_w)`` and ``K`` to ``(c_o, c_i)``, multiply, and reshape back to
    ``(c_o, n_h, n_w)``: the result equals ``corr2d_multi_in_out(X, K)``. Use one matrix product
    (``@``/``torch.matmul``/``torch.mm``/``einsum``), no Python loop over channels or pixels, and
    keep ``X``'s dtype and device.

    <!-- zh -->
    用一次矩阵乘法实现 1×1 卷积层。

    ``X`` 的形状为 ``(c_i, n_h, n_w)``，``K`` 的形状为 ``(c_o, c_i, 1, 1)``。把 ``X`` 变形为
    ``(c_i, n_h * n_w)``，把 ``K`` 变形为 ``(c_o, c_i)``，相乘，再变形回 ``(c_o, n_h, n_w)``：
    结果等于 ``corr2d_multi_in_out(X, K)``。使用一次矩阵乘法
    （``@``/``torch.matmul``/``torch.mm``/``einsum``），不要对通道或像素做 Python 循环，并保持
    ``X`` 的 dtype 和设备。
    """
    ### BEGIN SOLUTION
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    return torch.matmul(K, X).reshape((c_o, h, w))
    ### END SOLUTION


def pool2d(X, pool_size, mode="max"):
    """The book's pooling layer (汇聚层) on one 2-D input, from scratch.

    ``X`` has shape ``(n_h, n_w)`` and ``pool_size = (p_h, p_w)``; return ``Y`` of shape
    ``(n_h - p_h + 1, n_w - p_w + 1)`` (stride 1, no padding) where ``Y[i, j]`` is the maximum
    (``mode='max'``) or the mean (``mode='avg'``) of ``X[i:i + p_h, j:j + p_w]``. As in the book
    you may fill a ``torch.zeros`` tensor (default dtype) in a double loop; the result must be
    differentiable with respect to ``X``. The library's pooling ops are not allowed.

    <!-- zh -->
    书中的汇聚层，作用于单个二维输入，从零开始实现。

    ``X`` 的形状为 ``(n_h, n_w)``，``pool_size = (p_h, p_w)``；返回形状为
    ``(n_h - p_h + 1, n_w - p_w + 1)`` 的 ``Y``（步幅为 1，无填充），其中 ``Y[i, j]`` 是
    ``X[i:i + p_h, j:j + p_w]`` 的最大值（``mode='max'``）或平均值（``mode='avg'``）。可以像
    书中那样用双重循环填充一个 ``torch.zeros`` 张量（默认 dtype）；结果必须关于 ``X`` 可微。
    不允许使用库中的汇聚运算。
    """
    ### BEGIN SOLUTION
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i:i + p_h, j:j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i:i + p_h, j:j + p_w].mean()
    return Y
    ### END SOLUTION


def max_pool2d(X, kernel_size, stride=None, padding=0):
    """Maximum pooling of a batch of multi-channel images, like ``F.max_pool2d``.

    ``X`` has shape ``(batch, channels, n_h, n_w)``; ``kernel_size``, ``stride`` (default: the
    kernel size) and ``padding`` (added on each side, at most half the kernel) are ints or pairs.
    Padding never wins a maximum (pad with ``-inf``). The output has shape ``(batch, channels,
    out_h, out_w)`` with ``out = (n + 2 * padding - k) // stride + 1`` per axis, the input's
    dtype and device, and gradients like ``F.max_pool2d``'s (each window's gradient goes to its
    maximum; inputs are graded without ties). Any style is fine (loops over the output positions,
    ``Tensor.unfold``, ``as_strided``); ``F.max_pool2d``, ``nn.MaxPool2d``, ``F.unfold`` and other
    library pooling ops are not allowed.

    <!-- zh -->
    对一批多通道图像做最大汇聚，类似 ``F.max_pool2d``。

    ``X`` 的形状为 ``(batch, channels, n_h, n_w)``；``kernel_size``、``stride``（默认等于
    汇聚窗口大小）和 ``padding``（在每一侧添加，至多为窗口的一半）是 int 或数对。填充的位置
    永远不会成为最大值（用 ``-inf`` 填充）。输出形状为 ``(batch, channels, out_h, out_w)``，
    每个轴上 ``out = (n + 2 * padding - k) // stride + 1``，dtype 和设备与输入相同，梯度与
    ``F.max_pool2d`` 的一致（每个窗口的梯度流向它的最大值；评分用的输入没有并列值）。写法不限
    （对输出位置循环、``Tensor.unfold``、``as_strided``）；不允许使用 ``F.max_pool2d``、
    ``nn.MaxPool2d``、``F.unfold`` 以及库中其他的汇聚运算。
    """
    ### BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf"))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
    ### END SOLUTION


def avg_pool2d(X, kernel_size, stride=None, padding=0):
    """Average pooling of a batch of multi-channel images, like ``F.avg_pool2d`` by default.

    Same arguments and output shape as ``max_pool2d``. Padding adds zeros that *count* in each
    window's mean (``F.avg_pool2d``'s default ``count_include_pad=True``), so every output is the
    window's sum divided by ``k_h * k_w``. Keep the input's dtype and device; the result must be
    differentiable. ``F.avg_pool2d``, ``nn.AvgPool2d``, ``F.unfold`` and other library pooling
    ops are not allowed.

    <!-- zh -->
    对一批多通道图像做平均汇聚，类似默认设置下的 ``F.avg_pool2d``。

    参数和输出形状与 ``max_pool2d`` 相同。填充添加的零*计入*每个窗口的平均值（即
    ``F.avg_pool2d`` 的默认设置 ``count_include_pad=True``），所以每个输出都是窗口之和除以
    ``k_h * k_w``。保持输入的 dtype 和设备；结果必须可微。不允许使用 ``F.avg_pool2d``、
    ``nn.AvgPool2d``、``F.unfold`` 以及库中其他的汇聚运算。
    """
    ### BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).mean(dim=(-2, -1))
    ### END SOLUTION


def conv2d(X, weight, bias=None, stride=1, padding=0):
    """A batched, multi-channel 2-D convolution from scratch, like ``F.conv2d``, vectorized.

    ``X`` has shape ``(batch, c_i, n_h, n_w)``, ``weight`` ``(c_o, c_i, k_h, k_w)`` and ``bias``
    ``(c_o,)`` or ``None``; ``stride`` and ``padding`` (zeros added on each side) are ints or
    pairs. Return ``(batch, c_o, out_h, out_w)`` with ``out = (n + 2 * padding - k) // stride + 1``
    per axis, equal to ``F.conv2d(X, weight, bias, stride, padding)`` in values and gradients
    (with respect to ``X``, ``weight`` and ``bias``), with the input's dtype and device.

    Vectorized means: the number of tensor operations must not grow with the batch size, the
    number of channels or the image size (the grader counts them on two sizes). A Python loop
    over the ``k_h × k_w`` kernel offsets is fine; loops over images, channels or output pixels
    are not. Allowed building blocks: ``F.pad``, ``Tensor.unfold``, ``as_strided``, slicing,
    ``reshape``, ``@``/``matmul``/``einsum``/``tensordot``, sums. Not allowed: ``F.conv2d``,
    ``torch.conv2d``, ``nn.Conv2d``, ``torch.convolution`` and other convolution ops, and
    ``F.unfold``/``F.fold`` (im2col is what you are building).

    <!-- zh -->
    从零开始实现的、向量化的批量多通道二维卷积，类似 ``F.conv2d``。

    ``X`` 的形状为 ``(batch, c_i, n_h, n_w)``，``weight`` 为 ``(c_o, c_i, k_h, k_w)``，
    ``bias`` 为 ``(c_o,)`` 或 ``None``；``stride`` 和 ``padding``（在每一侧添加的零）是 int 或
    数对。返回 ``(batch, c_o, out_h, out_w)``，每个轴上
    ``out = (n + 2 * padding - k) // stride + 1``，
    其值和梯度（关于 ``X``、``weight`` 和 ``bias``）都等于
    ``F.conv2d(X, weight, bias, stride, padding)``，dtype 和设备与输入相同。

    向量化的意思是：张量运算的次数不能随批量大小、通道数或图像大小增长（评分程序在两种大小下
    统计次数）。对 ``k_h × k_w`` 个卷积核偏移做 Python 循环是可以的；对图像、通道或输出像素做
    循环则不行。允许使用的基本操作：``F.pad``、``Tensor.unfold``、``as_strided``、切片、
    ``reshape``、``@``/``matmul``/``einsum``/``tensordot``、求和。不允许使用：``F.conv2d``、
    ``torch.conv2d``、``nn.Conv2d``、``torch.convolution`` 以及其他卷积运算，还有
    ``F.unfold``/``F.fold``（你要构建的正是 im2col）。
    """
    ### BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    k_h, k_w = weight.shape[-2:]
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    patches = X.unfold(2, k_h, s_h).unfold(3, k_w, s_w)
    Y = torch.einsum("bihwkl,oikl->bohw", patches, weight)
    if bias is not None:
        Y = Y + bias.reshape(1, -1, 1, 1)
    return Y
    ### END SOLUTION


def lenet():
    """The book's LeNet-5 (LeNet) as an ``nn.Sequential``, in the book's layer order.

    For a ``(batch, 1, 28, 28)`` input: ``Conv2d(1, 6, 5, padding=2)``, ``Sigmoid``,
    ``AvgPool2d(2, stride=2)``, ``Conv2d(6, 16, 5)``, ``Sigmoid``, ``AvgPool2d(2, stride=2)``,
    ``Flatten``, ``Linear(400, 120)``, ``Sigmoid``, ``Linear(120, 84)``, ``Sigmoid``,
    ``Linear(84, 10)``: twelve modules, indexed 0–11 as in the book (so the state dict's names
    are ``0.weight``, ``0.bias``, ``3.weight``, …) and 61,706 parameters. Use the library layers
    here: this exercise is about the architecture.

    <!-- zh -->
    书中的 LeNet-5（LeNet），以 ``nn.Sequential`` 的形式按书中的层顺序给出。

    对于 ``(batch, 1, 28, 28)`` 的输入：``Conv2d(1, 6, 5, padding=2)``、``Sigmoid``、
    ``AvgPool2d(2, stride=2)``、``Conv2d(6, 16, 5)``、``Sigmoid``、``AvgPool2d(2, stride=2)``、
    ``Flatten``、``Linear(400, 120)``、``Sigmoid``、``Linear(120, 84)``、``Sigmoid``、
    ``Linear(84, 10)``：共十二个模块，像书中那样编号为 0–11（因此状态字典中的名字是
    ``0.weight``、``0.bias``、``3.weight``、……），共 61,706 个参数。这里使用库中的层：这个练习
    考的是网络架构。
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    ### END SOLUTION


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """The book's accuracy of ``net`` on ``data_iter``, computed on a device (使用GPU计算精度).

    If ``net`` is an ``nn.Module``, switch it to evaluation mode and, when ``device`` is
    ``None``, use the device of its first parameter. Without gradients, move each batch ``X``
    (a tensor, or a list of tensors moved one by one) and ``y`` to ``device``, and accumulate the
    number of correct predictions (the toolbox's ``accuracy(y_hat, y)``) and the number of
    examples. Return the fraction correct as a Python float.

    <!-- zh -->
    书中在设备上计算 ``net`` 在 ``data_iter`` 上的精度（使用GPU计算精度）。

    如果 ``net`` 是 ``nn.Module``，把它切换到评估模式；当 ``device`` 为 ``None`` 时，使用它
    第一个参数所在的设备。在不计算梯度的情况下，把每个小批量的 ``X``（一个张量，或者逐个移动的
    张量列表）和 ``y`` 移到 ``device`` 上，并累计正确预测的个数（工具箱的
    ``accuracy(y_hat, y)``）和样本数。以 Python float 返回预测正确的比例。
    """
    ### BEGIN SOLUTION
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            else:
                X = X.to(device)
            y = y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
    ### END SOLUTION


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """The book's training loop for chapter 6 (训练), returning the final metrics.

    Initialise the weight of every ``nn.Linear`` and ``nn.Conv2d`` of ``net`` with
    ``nn.init.xavier_uniform_`` (biases keep their initial values), move ``net`` to ``device``,
    and train it for ``num_epochs`` epochs with ``torch.optim.SGD(net.parameters(), lr=lr)`` and
    ``nn.CrossEntropyLoss()`` (mean over the batch): for each batch, in order, switch to training
    mode, zero the gradients, move ``X`` and ``y`` to ``device``, compute the loss, backpropagate
    and step. The book prints and plots the metrics; in addition (a deliberate difference: the
    book returns nothing) return ``(train_loss, train_acc, test_acc)`` of the last epoch as Python
    floats: ``train_loss`` the mean of the batch losses weighted by batch size, ``train_acc`` the
    fraction of training examples classified correctly *during* that epoch (before each step),
    ``test_acc`` from ``evaluate_accuracy_gpu(net, test_iter)`` after the epoch. Plotting is
    optional (an ``Animator`` does nothing when grading).

    <!-- zh -->
    书中第6章的训练循环（训练），返回最终的各项指标。

    用 ``nn.init.xavier_uniform_`` 初始化 ``net`` 中每个 ``nn.Linear`` 和 ``nn.Conv2d`` 的权重
    （偏置保持初始值），把 ``net`` 移到 ``device`` 上，用
    ``torch.optim.SGD(net.parameters(), lr=lr)`` 和 ``nn.CrossEntropyLoss()``（对小批量求平均）
    训练 ``num_epochs`` 轮：对每个小批量，依次切换到训练模式、把梯度清零、把 ``X`` 和 ``y``
    移到 ``device`` 上、计算损失、反向传播、更新参数。书中会打印并绘制各项指标；除此之外（这是
    有意与书不同之处：书中不返回任何值），以 Python float 返回最后一轮的
    ``(train_loss, train_acc, test_acc)``：``train_loss`` 是按批量大小加权的小批量损失平均值，
    ``train_acc`` 是该轮训练*过程中*（每次更新之前）被正确分类的训练样本比例，``test_acc`` 是
    该轮结束后 ``evaluate_accuracy_gpu(net, test_iter)`` 的结果。绘图是可选的（评分时
    ``Animator`` 什么也不做）。
    """
    ### BEGIN SOLUTION
    def init_weights(m):
        if type(m) is nn.Linear or type(m) is nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)

    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    animator = Animator(xlabel="epoch", xlim=[1, max(2, num_epochs)],
                        legend=["train loss", "train acc", "test acc"])
    timer, num_batches = Timer(), len(train_iter)
    for epoch in range(num_epochs):
        metric = Accumulator(3)
        net.train()
        for i, (X, y) in enumerate(train_iter):
            timer.start()
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            batch_loss = loss(y_hat, y)
            batch_loss.backward()
            optimizer.step()
            with torch.no_grad():
                metric.add(batch_loss * X.shape[0], accuracy(y_hat, y), X.shape[0])
            timer.stop()
            train_l = metric[0] / metric[2]
            train_acc = metric[1] / metric[2]
            if (i + 1) % max(1, num_batches // 5) == 0 or i == num_batches - 1:
                animator.add(epoch + (i + 1) / num_batches, (train_l, train_acc, None))
        test_acc = evaluate_accuracy_gpu(net, test_iter)
        animator.add(epoch + 1, (None, None, test_acc))
    return float(train_l), float(train_acc), float(test_acc)
    ### END SOLUTION
