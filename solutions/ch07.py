"""Reference solutions for ch07, Modern convolutional neural networks (现代卷积神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import torch
from torch import nn
from torch.nn import functional as F


def alexnet():
    """The book's AlexNet for 1-channel 224×224 inputs and 10 classes, as an ``nn.Sequential``.

    In order (indices 0–20 as in the book): ``Conv2d(1, 96, 11, stride=4, padding=1)``, ReLU,
    ``MaxPool2d(3, stride=2)``, ``Conv2d(96, 256, 5, padding=2)``, ReLU, ``MaxPool2d(3, 2)``,
    ``Conv2d(256, 384, 3, padding=1)``, ReLU, ``Conv2d(384, 384, 3, padding=1)``, ReLU,
    ``Conv2d(384, 256, 3, padding=1)``, ReLU, ``MaxPool2d(3, 2)``, ``Flatten``,
    ``Linear(6400, 4096)``, ReLU, ``Dropout(0.5)``, ``Linear(4096, 4096)``, ReLU,
    ``Dropout(0.5)``, ``Linear(4096, 10)``.

    <!-- zh -->
    书中用于单通道 224×224 输入、10 个类别的 AlexNet，以 ``nn.Sequential`` 的形式给出。

    按顺序（像书中那样编号为 0–20）：``Conv2d(1, 96, 11, stride=4, padding=1)``、ReLU、
    ``MaxPool2d(3, stride=2)``、``Conv2d(96, 256, 5, padding=2)``、ReLU、``MaxPool2d(3, 2)``、
    ``Conv2d(256, 384, 3, padding=1)``、ReLU、``Conv2d(384, 384, 3, padding=1)``、ReLU、
    ``Conv2d(384, 256, 3, padding=1)``、ReLU、``MaxPool2d(3, 2)``、``Flatten``、
    ``Linear(6400, 4096)``、ReLU、``Dropout(0.5)``、``Linear(4096, 4096)``、ReLU、
    ``Dropout(0.5)``、``Linear(4096, 10)``。
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 10))
    ### END SOLUTION


def vgg_block(num_convs, in_channels, out_channels):
    """One VGG block (VGG块): ``num_convs`` times ``Conv2d(·, out_channels, 3, padding=1)`` and
    ReLU (the first convolution takes ``in_channels``), then ``MaxPool2d(2, stride=2)``, as one
    ``nn.Sequential`` of ``2 * num_convs + 1`` modules.

    <!-- zh -->
    一个 VGG 块：``num_convs`` 个 ``Conv2d(·, out_channels, 3, padding=1)`` 加 ReLU
    （第一个卷积层的输入通道数为 ``in_channels``），然后是 ``MaxPool2d(2, stride=2)``，
    组成一个含 ``2 * num_convs + 1`` 个模块的 ``nn.Sequential``。"""
    ### BEGIN SOLUTION
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
    ### END SOLUTION


def vgg(conv_arch):
    """The book's VGG network for 1-channel 224×224 inputs and 10 classes.

    ``conv_arch`` is a sequence of ``(num_convs, out_channels)`` pairs, one ``vgg_block`` each
    (the first takes 1 input channel, each next one the previous block's ``out_channels``),
    followed by ``Flatten``, ``Linear(out_channels * 7 * 7, 4096)``, ReLU, ``Dropout(0.5)``,
    ``Linear(4096, 4096)``, ReLU, ``Dropout(0.5)``, ``Linear(4096, 10)``, all in one
    ``nn.Sequential`` (blocks first, at indices ``0 .. len(conv_arch) - 1``). With five blocks
    a 224×224 input reaches the classifier as ``7 × 7`` maps. Call your ``vgg_block`` by name
    (the grader swaps in a reference one).

    <!-- zh -->
    书中用于单通道 224×224 输入、10 个类别的 VGG 网络。

    ``conv_arch`` 是由 ``(num_convs, out_channels)`` 对组成的序列，每一对对应一个 ``vgg_block``
    （第一个块的输入通道数为 1，之后每个块的输入通道数是前一个块的 ``out_channels``），后面接
    ``Flatten``、``Linear(out_channels * 7 * 7, 4096)``、ReLU、``Dropout(0.5)``、
    ``Linear(4096, 4096)``、ReLU、``Dropout(0.5)``、``Linear(4096, 10)``，全部放在一个
    ``nn.Sequential`` 中（块在前，编号为 ``0 .. len(conv_arch) - 1``）。有五个块时，224×224 的
    输入到达分类器时是 ``7 × 7`` 的特征图。按名字调用你的 ``vgg_block``（评分程序会换上参考
    实现）。
    """
    ### BEGIN SOLUTION
    conv_blks = []
    in_channels = 1
    for num_convs, out_channels in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 10))
    ### END SOLUTION


def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    """One NiN block (NiN块): ``Conv2d(in_channels, out_channels, kernel_size, strides,
    padding)``, ReLU, then twice ``Conv2d(out_channels, out_channels, 1)`` and ReLU: an
    ``nn.Sequential`` of six modules.

    <!-- zh -->
    一个 NiN 块：``Conv2d(in_channels, out_channels, kernel_size, strides, padding)``、
    ReLU，然后两次 ``Conv2d(out_channels, out_channels, 1)`` 加 ReLU：一个含六个模块的
    ``nn.Sequential``。"""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())
    ### END SOLUTION


def nin():
    """The book's NiN network for 1-channel 224×224 inputs and 10 classes.

    ``nin_block(1, 96, 11, 4, 0)``, ``MaxPool2d(3, stride=2)``, ``nin_block(96, 256, 5, 1, 2)``,
    ``MaxPool2d(3, 2)``, ``nin_block(256, 384, 3, 1, 1)``, ``MaxPool2d(3, 2)``, ``Dropout(0.5)``,
    ``nin_block(384, 10, 3, 1, 1)``, then the head that replaces fully connected layers:
    ``AdaptiveAvgPool2d((1, 1))`` and ``Flatten``, giving ``(batch, 10)``. Call your
    ``nin_block`` by name (the grader swaps in a reference one).

    <!-- zh -->
    书中用于单通道 224×224 输入、10 个类别的 NiN 网络。

    ``nin_block(1, 96, 11, 4, 0)``、``MaxPool2d(3, stride=2)``、``nin_block(96, 256, 5, 1, 2)``、
    ``MaxPool2d(3, 2)``、``nin_block(256, 384, 3, 1, 1)``、``MaxPool2d(3, 2)``、``Dropout(0.5)``、
    ``nin_block(384, 10, 3, 1, 1)``，然后是取代全连接层的输出部分：
    ``AdaptiveAvgPool2d((1, 1))`` 和 ``Flatten``，得到 ``(batch, 10)``。按名字调用你的
    ``nin_block``（评分程序会换上参考实现）。
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nin_block(1, 96, kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(384, 10, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten())
    ### END SOLUTION


class Inception(nn.Module):
    """The Inception block of GoogLeNet (Inception块), with the book's submodule names.

    ``Inception(in_channels, c1, c2, c3, c4)``: path 1 is ``p1_1 = Conv2d(in_channels, c1, 1)``;
    path 2 ``p2_1 = Conv2d(in_channels, c2[0], 1)`` then ``p2_2 = Conv2d(c2[0], c2[1], 3,
    padding=1)``; path 3 ``p3_1 = Conv2d(in_channels, c3[0], 1)`` then ``p3_2 = Conv2d(c3[0],
    c3[1], 5, padding=2)``; path 4 ``p4_1 = MaxPool2d(3, stride=1, padding=1)`` then
    ``p4_2 = Conv2d(in_channels, c4, 1)``. Every convolution is followed by a ReLU. ``forward``
    concatenates the four paths' outputs along the channel dimension, in that order, so the
    output has ``c1 + c2[1] + c3[1] + c4`` channels and the input's height and width.

    <!-- zh -->
    GoogLeNet 的 Inception 块，使用书中的子模块名。

    ``Inception(in_channels, c1, c2, c3, c4)``：路径 1 是 ``p1_1 = Conv2d(in_channels, c1, 1)``；
    路径 2 是 ``p2_1 = Conv2d(in_channels, c2[0], 1)``，再接 ``p2_2 = Conv2d(c2[0], c2[1], 3,
    padding=1)``；路径 3 是 ``p3_1 = Conv2d(in_channels, c3[0], 1)``，再接 ``p3_2 = Conv2d(c3[0],
    c3[1], 5, padding=2)``；路径 4 是 ``p4_1 = MaxPool2d(3, stride=1, padding=1)``，再接
    ``p4_2 = Conv2d(in_channels, c4, 1)``。每个卷积层之后都接一个 ReLU。``forward`` 按上述顺序
    沿通道维连结四条路径的输出，因此输出有 ``c1 + c2[1] + c3[1] + c4`` 个通道，高和宽与输入
    相同。
    """

    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)
        ### END SOLUTION


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    """Batch normalization from scratch (批量规范化), with the book's semantics.

    ``X`` is 2-D ``(batch, features)`` (fully connected) or 4-D ``(batch, channels, h, w)``
    (convolutional); ``gamma``, ``beta``, ``moving_mean`` and ``moving_var`` have shape
    ``(1, features)`` or ``(1, channels, 1, 1)``.

    - Training or inference is decided as in the book by ``torch.is_grad_enabled()``: under
      ``torch.no_grad()`` (prediction) normalise with the moving statistics,
      ``X_hat = (X - moving_mean) / sqrt(moving_var + eps)``, and return them unchanged.
    - Otherwise use the batch's mean and *biased* variance (divide by the number of values), per
      feature (2-D: over the batch) or per channel (4-D: over batch, height and width), normalise
      ``X_hat = (X - mean) / sqrt(var + eps)``, and update ``moving_mean = momentum *
      moving_mean + (1 - momentum) * mean`` (``momentum`` weights the old value; the book uses
      0.9) and likewise ``moving_var`` with the biased batch variance.

    Return ``(gamma * X_hat + beta, moving_mean, moving_var)``: the output differentiable with
    respect to ``X``, ``gamma`` and ``beta``; the moving statistics without gradient history
    (the book returns their ``.data``) and with the parameters' shapes. Keep ``X``'s dtype and
    device. ``F.batch_norm``, ``torch.batch_norm``, ``nn.BatchNorm*`` and the library's norm
    ops are not allowed.

    <!-- zh -->
    从零开始实现的批量规范化，采用书中的语义。

    ``X`` 是二维的 ``(batch, features)``（全连接层）或四维的 ``(batch, channels, h, w)``
    （卷积层）；``gamma``、``beta``、``moving_mean`` 和 ``moving_var`` 的形状为
    ``(1, features)`` 或 ``(1, channels, 1, 1)``。

    - 像书中那样用 ``torch.is_grad_enabled()`` 判断是训练还是推断：在 ``torch.no_grad()`` 下
      （预测）用移动统计量规范化，``X_hat = (X - moving_mean) / sqrt(moving_var + eps)``，
      并原样返回移动统计量。
    - 否则使用小批量的均值和*有偏*方差（除以值的个数），按特征（二维：在批量上）或按通道
      （四维：在批量、高和宽上）计算，规范化为 ``X_hat = (X - mean) / sqrt(var + eps)``，并更新
      ``moving_mean = momentum * moving_mean + (1 - momentum) * mean``（``momentum`` 是旧值的
      权重；书中用 0.9），``moving_var`` 也用有偏的小批量方差同样更新。

    返回 ``(gamma * X_hat + beta, moving_mean, moving_var)``：输出关于 ``X``、``gamma`` 和
    ``beta`` 可微；移动统计量不带梯度历史（书中返回它们的 ``.data``），形状与参数相同。保持
    ``X`` 的 dtype 和设备。不允许使用 ``F.batch_norm``、``torch.batch_norm``、
    ``nn.BatchNorm*`` 以及库中的规范化运算。
    """
    ### BEGIN SOLUTION
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data
    ### END SOLUTION


class BatchNorm(nn.Module):
    """The book's batch normalization layer built on ``batch_norm``.

    ``BatchNorm(num_features, num_dims)`` (``num_dims`` 2 for fully connected inputs, 4 for
    convolutional ones) has parameters ``gamma`` (ones) and ``beta`` (zeros) of shape
    ``(1, num_features)`` or ``(1, num_features, 1, 1)``, and moving statistics in attributes
    ``moving_mean`` (zeros) and ``moving_var`` (ones) of the same shape, as plain tensors (like
    the book) or buffers. ``forward(X)`` moves the moving statistics to ``X``'s device if needed,
    calls your ``batch_norm`` by name with ``eps=1e-5`` and ``momentum=0.9``, stores the
    updated statistics and returns the output. Like the book, training vs inference follows
    ``torch.is_grad_enabled()``.

    <!-- zh -->
    书中基于 ``batch_norm`` 构建的批量规范化层。

    ``BatchNorm(num_features, num_dims)``（全连接层的输入 ``num_dims`` 为 2，卷积层的为 4）
    有参数 ``gamma``（全 1）和 ``beta``（全 0），形状为 ``(1, num_features)`` 或
    ``(1, num_features, 1, 1)``；移动统计量保存在同样形状的属性 ``moving_mean``（全 0）和
    ``moving_var``（全 1）中，可以是普通张量（像书中那样），也可以是缓冲区。``forward(X)`` 在
    需要时把移动统计量移到 ``X`` 所在的设备上，按名字调用你的 ``batch_norm``（``eps=1e-5``，
    ``momentum=0.9``），保存更新后的统计量并返回输出。与书中一样，训练还是推断由
    ``torch.is_grad_enabled()`` 决定。
    """

    def __init__(self, num_features, num_dims):
        super().__init__()
        ### BEGIN SOLUTION
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9)
        return Y
        ### END SOLUTION


class Residual(nn.Module):
    """The residual block of ResNet (残差块), with the book's submodule names.

    ``Residual(input_channels, num_channels, use_1x1conv=False, strides=1)`` has
    ``conv1 = Conv2d(input_channels, num_channels, 3, padding=1, stride=strides)``,
    ``conv2 = Conv2d(num_channels, num_channels, 3, padding=1)``, ``bn1`` and ``bn2``
    (``nn.BatchNorm2d(num_channels)``) and, only when ``use_1x1conv``,
    ``conv3 = Conv2d(input_channels, num_channels, 1, stride=strides)`` (otherwise no ``conv3``
    parameters). ``forward(X)``: ``Y = relu(bn1(conv1(X)))``, ``Y = bn2(conv2(Y))``, add ``X``
    (through ``conv3`` when present) and return ``relu`` of the sum. Library layers are fine here.

    <!-- zh -->
    ResNet 的残差块，使用书中的子模块名。

    ``Residual(input_channels, num_channels, use_1x1conv=False, strides=1)`` 有
    ``conv1 = Conv2d(input_channels, num_channels, 3, padding=1, stride=strides)``、
    ``conv2 = Conv2d(num_channels, num_channels, 3, padding=1)``、``bn1`` 和 ``bn2``
    （``nn.BatchNorm2d(num_channels)``），并且仅当 ``use_1x1conv`` 时有
    ``conv3 = Conv2d(input_channels, num_channels, 1, stride=strides)``（否则没有 ``conv3``
    的参数）。``forward(X)``：``Y = relu(bn1(conv1(X)))``，``Y = bn2(conv2(Y))``，加上 ``X``
    （有 ``conv3`` 时先经过 ``conv3``），返回和的 ``relu``。这里可以使用库中的层。
    """

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)
        ### END SOLUTION


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    """A ResNet stage (ResNet模型) as the book's *list* of ``num_residuals`` ``Residual`` blocks.

    Unless ``first_block``, the first residual halves height and width and changes the channels:
    ``Residual(input_channels, num_channels, use_1x1conv=True, strides=2)``; every other one is
    ``Residual(num_channels, num_channels)``. Return a Python list (the book wraps it as
    ``nn.Sequential(*resnet_block(...))``). Call your ``Residual`` by name (the grader swaps in a
    reference one).

    <!-- zh -->
    ResNet 的一个阶段（ResNet模型），即书中由 ``num_residuals`` 个 ``Residual`` 块组成的*列表*。

    除非 ``first_block`` 为真，第一个残差块把高和宽减半并改变通道数：
    ``Residual(input_channels, num_channels, use_1x1conv=True, strides=2)``；其余的每一个都是
    ``Residual(num_channels, num_channels)``。返回一个 Python 列表（书中把它包装为
    ``nn.Sequential(*resnet_block(...))``）。按名字调用你的 ``Residual``（评分程序会换上参考
    实现）。
    """
    ### BEGIN SOLUTION
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk
    ### END SOLUTION


def resnet18():
    """The book's ResNet-18 for 1-channel inputs and 10 classes, as an ``nn.Sequential``.

    ``b1 = Sequential(Conv2d(1, 64, 7, stride=2, padding=3), BatchNorm2d(64), ReLU,
    MaxPool2d(3, stride=2, padding=1))``; ``b2 .. b5`` are ``nn.Sequential(*resnet_block(...))``
    with ``(64, 64, 2, first_block=True)``, ``(64, 128, 2)``, ``(128, 256, 2)``,
    ``(256, 512, 2)``; then ``AdaptiveAvgPool2d((1, 1))``, ``Flatten`` and ``Linear(512, 10)``:
    eight top-level modules. Call your ``resnet_block`` by name (graded with a reference one).

    <!-- zh -->
    书中用于单通道输入、10 个类别的 ResNet-18，以 ``nn.Sequential`` 的形式给出。

    ``b1 = Sequential(Conv2d(1, 64, 7, stride=2, padding=3), BatchNorm2d(64), ReLU,
    MaxPool2d(3, stride=2, padding=1))``；``b2 .. b5`` 是 ``nn.Sequential(*resnet_block(...))``，
    参数依次为 ``(64, 64, 2, first_block=True)``、``(64, 128, 2)``、``(128, 256, 2)``、
    ``(256, 512, 2)``；然后是 ``AdaptiveAvgPool2d((1, 1))``、``Flatten`` 和 ``Linear(512, 10)``：
    共八个顶层模块。按名字调用你的 ``resnet_block``（评分时使用参考实现）。
    """
    ### BEGIN SOLUTION
    b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                       nn.BatchNorm2d(64), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
    b3 = nn.Sequential(*resnet_block(64, 128, 2))
    b4 = nn.Sequential(*resnet_block(128, 256, 2))
    b5 = nn.Sequential(*resnet_block(256, 512, 2))
    return nn.Sequential(b1, b2, b3, b4, b5, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                         nn.Linear(512, 10))
    ### END SOLUTION


def conv_block(input_channels, num_channels):
    """DenseNet's convolution block (稠密块): ``BatchNorm2d(input_channels)``, ReLU,
    ``Conv2d(input_channels, num_channels, 3, padding=1)`` as one ``nn.Sequential``.

    <!-- zh -->
    DenseNet 的卷积块：``BatchNorm2d(input_channels)``、ReLU、
    ``Conv2d(input_channels, num_channels, 3, padding=1)``，组成一个 ``nn.Sequential``。"""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))
    ### END SOLUTION


class DenseBlock(nn.Module):
    """A dense block (稠密块): ``num_convs`` conv blocks, each seeing all earlier outputs.

    ``DenseBlock(num_convs, input_channels, num_channels)`` holds ``self.net``, an
    ``nn.Sequential`` of ``conv_block(input_channels + i * num_channels, num_channels)`` for
    ``i = 0 .. num_convs - 1`` (so parameter names are ``net.0.0.weight``, … as in the book).
    ``forward(X)`` runs them in order, concatenating each block's output to its input along the
    channels; the result has ``input_channels + num_convs * num_channels`` channels. Call your
    ``conv_block`` by name (the grader swaps in a reference one).

    <!-- zh -->
    稠密块：``num_convs`` 个卷积块，每个都能看到之前所有的输出。

    ``DenseBlock(num_convs, input_channels, num_channels)`` 保存 ``self.net``，它是由
    ``conv_block(input_channels + i * num_channels, num_channels)``（``i = 0 .. num_convs - 1``）
    组成的 ``nn.Sequential``（因此参数名与书中一样是 ``net.0.0.weight``、……）。``forward(X)``
    按顺序运行它们，把每个块的输出沿通道维连结到它的输入上；结果有
    ``input_channels + num_convs * num_channels`` 个通道。按名字调用你的 ``conv_block``
    （评分程序会换上参考实现）。
    """

    def __init__(self, num_convs, input_channels, num_channels):
        super().__init__()
        ### BEGIN SOLUTION
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X
        ### END SOLUTION


def transition_block(input_channels, num_channels):
    """DenseNet's transition layer (过渡层): ``BatchNorm2d(input_channels)``, ReLU,
    ``Conv2d(input_channels, num_channels, 1)``, ``AvgPool2d(2, stride=2)`` as one
    ``nn.Sequential``: it reduces the channels and halves height and width.

    <!-- zh -->
    DenseNet 的过渡层：``BatchNorm2d(input_channels)``、ReLU、
    ``Conv2d(input_channels, num_channels, 1)``、``AvgPool2d(2, stride=2)``，组成一个
    ``nn.Sequential``：它减少通道数，并把高和宽减半。"""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))
    ### END SOLUTION
