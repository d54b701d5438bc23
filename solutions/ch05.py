"""Reference solutions for ch05, Deep learning computation (深度学习计算).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release. For the
module exercises, the parts of ``__init__`` outside the markers are given: they fix the names of
parameters and submodules so that the grader can load reference weights into your module.
"""

import torch
from torch import nn
from torch.nn import functional as F

# --- 5.1 Layers and blocks -----------------------------------------------------------------------


class MySequential(nn.Module):
    """A block that chains other blocks, like ``nn.Sequential``.

    ``MySequential(*modules)`` registers every module it is given, in order, as a child named
    by its position: ``"0"``, ``"1"``, ``"2"``, … (so ``net.state_dict()`` has keys such as
    ``"0.weight"``, ``"0.bias"``, ``"2.weight"`` for ``MySequential(nn.Linear(...), nn.ReLU(),
    nn.Linear(...))``, and ``net.parameters()`` yields the layers' own parameter objects, which
    an optimizer can then train). Modules kept in a plain Python list are invisible to
    ``parameters()``, ``state_dict()`` and ``.to(device)``: register them with
    ``self._modules[str(idx)] = module`` or ``self.add_module(str(idx), module)``.

    ``forward(X)`` feeds ``X`` through the modules in the order they were given and returns the
    last one's output. A module given twice (a shared layer) runs at both places: iterate over
    ``self._modules.values()``, not ``children()``, which yields each module only once.
    ``nn.Sequential`` and ``nn.ModuleList`` are not allowed here.

    <!-- zh -->
    一个把其他块串联起来的块，类似 ``nn.Sequential``。

    ``MySequential(*modules)`` 按顺序注册给定的每个模块，把它作为子模块，并以其位置命名：
    ``"0"``、``"1"``、``"2"``、……（因此对于 ``MySequential(nn.Linear(...), nn.ReLU(),
    nn.Linear(...))``，``net.state_dict()`` 的键形如 ``"0.weight"``、``"0.bias"``、
    ``"2.weight"``，而 ``net.parameters()`` 产生各层自己的参数对象，优化器随后就能训练它们）。
    存放在普通 Python 列表中的模块对 ``parameters()``、``state_dict()`` 和 ``.to(device)``
    都不可见：请用 ``self._modules[str(idx)] = module`` 或 ``self.add_module(str(idx), module)``
    注册它们。

    ``forward(X)`` 让 ``X`` 按给定顺序依次通过各个模块，并返回最后一个模块的输出。给出两次的
    模块（共享的层）在两个位置都要运行：遍历 ``self._modules.values()``，而不是
    ``children()``，后者对每个模块只产生一次。这里不允许使用 ``nn.Sequential`` 和
    ``nn.ModuleList``。
    """

    def __init__(self, *args):
        super().__init__()
        ### BEGIN SOLUTION
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        for block in self._modules.values():
            X = block(X)
        return X
        ### END SOLUTION


class FixedHiddenMLP(nn.Module):
    """The book's block with a constant weight and Python control flow in ``forward``.

    ``__init__`` (given) creates ``rand_weight``, a constant ``(20, 20)`` matrix that is never
    trained, and ``linear = nn.Linear(20, 20)``. Unlike the book, ``rand_weight`` is registered
    as a buffer: it is saved in ``state_dict()`` and moves with ``.to(device)``, but it is not a
    parameter and gets no gradient.

    ``forward(X)`` for ``X`` of shape ``(batch, 20)``:

    1. ``X = linear(X)``;
    2. ``X = relu(X @ rand_weight + 1)``;
    3. ``X = linear(X)`` again (the same layer, so its parameters are shared);
    4. while the sum of the absolute values of ``X`` is greater than 1, halve ``X``;
    5. return the sum of ``X``'s entries: a 0-dimensional tensor.

    Gradients must flow to ``linear``'s parameters through every step, the halving included.

    <!-- zh -->
    书中那个在 ``forward`` 里带有常量权重和 Python 控制流的块。

    ``__init__``（已给出）创建 ``rand_weight``，一个从不训练的 ``(20, 20)`` 常量矩阵，以及
    ``linear = nn.Linear(20, 20)``。与书中不同，``rand_weight`` 被注册为缓冲区：它会保存在
    ``state_dict()`` 中，并随 ``.to(device)`` 一起移动，但它不是参数，也没有梯度。

    对形状为 ``(batch, 20)`` 的 ``X``，``forward(X)``：

    1. ``X = linear(X)``；
    2. ``X = relu(X @ rand_weight + 1)``；
    3. 再做一次 ``X = linear(X)``（同一个层，因此其参数是共享的）；
    4. 当 ``X`` 各元素绝对值之和大于 1 时，把 ``X`` 减半；
    5. 返回 ``X`` 所有元素之和：一个 0 维张量。

    梯度必须经过每一步（包括减半）传到 ``linear`` 的参数。
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        ### BEGIN SOLUTION
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()
        ### END SOLUTION


class ParallelBlock(nn.Module):
    """Run two blocks side by side on the same input and concatenate their outputs.

    ``ParallelBlock(net1, net2)`` (given ``__init__``) keeps the two blocks as ``self.net1`` and
    ``self.net2``. ``forward(X)`` applies both to the same ``X`` (of shape ``(batch, ...)``); each
    returns a ``(batch, d_k)`` tensor; return their concatenation along dimension 1, ``net1``'s
    columns first: shape ``(batch, d_1 + d_2)``.

    <!-- zh -->
    在同一个输入上并排运行两个块，并把它们的输出连结起来。

    ``ParallelBlock(net1, net2)``（``__init__`` 已给出）把两个块保存为 ``self.net1`` 和
    ``self.net2``。``forward(X)`` 把两者作用于同一个 ``X``（形状为 ``(batch, ...)``）；每个块
    返回一个 ``(batch, d_k)`` 张量；返回它们沿维度 1 的连结，``net1`` 的列在前：形状为
    ``(batch, d_1 + d_2)``。
    """

    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        ### BEGIN SOLUTION
        return torch.cat((self.net1(X), self.net2(X)), dim=1)
        ### END SOLUTION


class NestMLP(nn.Module):
    """The book's nested block: a sequential MLP inside a block, followed by a linear layer.

    ``__init__`` (given) creates ``self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
    nn.Linear(64, 32), nn.ReLU())`` and ``self.linear = nn.Linear(32, 16)``. ``forward(X)`` maps
    ``X`` of shape ``(batch, 20)`` through ``net`` and then ``linear``: shape ``(batch, 16)``.

    <!-- zh -->
    书中的嵌套块：块中包含一个顺序多层感知机，后面接一个线性层。

    ``__init__``（已给出）创建 ``self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
    nn.Linear(64, 32), nn.ReLU())`` 和 ``self.linear = nn.Linear(32, 16)``。``forward(X)`` 让
    形状为 ``(batch, 20)`` 的 ``X`` 先通过 ``net``，再通过 ``linear``：形状为 ``(batch, 16)``。
    """

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        ### BEGIN SOLUTION
        return self.linear(self.net(X))
        ### END SOLUTION


# --- 5.2 Parameter management --------------------------------------------------------------------


def count_parameters(net):
    """Count the trainable scalars of ``net``: return a Python ``int``.

    Add up the number of elements of every parameter that requires a gradient. Frozen parameters
    (``requires_grad=False``) and buffers (such as batch norm's running statistics) do not count,
    and a parameter shared by several layers counts once (``net.parameters()`` yields it once,
    whereas ``net.state_dict()`` lists it under every name).

    <!-- zh -->
    统计 ``net`` 中可训练标量的个数：返回一个 Python ``int``。

    把每个需要梯度的参数的元素个数加起来。冻结的参数（``requires_grad=False``）和缓冲区（例如
    批量规范化的运行统计量）不计入；被多个层共享的参数只计一次（``net.parameters()`` 只产生它
    一次，而 ``net.state_dict()`` 会把它列在每一个名字下）。
    """
    ### BEGIN SOLUTION
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
    ### END SOLUTION


def param_shapes(net):
    """Map each parameter's qualified name to its shape.

    Return a ``dict`` whose keys are the names ``net.named_parameters()`` gives (``"0.weight"``,
    ``"2.1.bias"``, ``"1.block 0.0.weight"`` for nested blocks), in that order, and whose values
    are the shapes as tuples of ints. Every parameter is listed, frozen ones too; buffers are
    not; a shared parameter appears once, under the first name it was registered with.

    <!-- zh -->
    把每个参数的限定名映射到它的形状。

    返回一个 ``dict``，其键是 ``net.named_parameters()`` 给出的名字（``"0.weight"``、
    ``"2.1.bias"``，嵌套块则如 ``"1.block 0.0.weight"``），顺序与之相同，值是由 int 组成的
    元组形式的形状。列出每一个参数，冻结的参数也要列出；缓冲区不列出；共享的参数只出现一次，
    使用它最先注册时的名字。
    """
    ### BEGIN SOLUTION
    return {name: tuple(param.shape) for name, param in net.named_parameters()}
    ### END SOLUTION


def my_init(m):
    """The book's custom initialisation, to be used as ``net.apply(my_init)``.

    If ``m`` is an ``nn.Linear`` layer, fill its weight with draws from the uniform distribution
    on ``[-10, 10]`` from torch's global random number generator, without reseeding it (so that
    ``torch.manual_seed`` before ``net.apply(my_init)`` makes the weights reproducible and each
    layer gets its own draws), then set to zero every entry whose absolute value is below 5: the
    survivors lie in ``[-10, -5]`` or ``[5, 10]``. Change the weight in place, keeping the same
    ``nn.Parameter`` object (still a leaf that requires a gradient); leave the bias alone.
    Modules of any other type (``nn.ReLU``, ``nn.LayerNorm``, …) are left untouched.

    <!-- zh -->
    书中的自定义初始化，用法为 ``net.apply(my_init)``。

    如果 ``m`` 是 ``nn.Linear`` 层，就用 torch 的全局随机数生成器从 ``[-10, 10]`` 上的均匀分布
    中抽取数值填充它的权重，不要重新设定种子（这样在 ``net.apply(my_init)`` 之前调用
    ``torch.manual_seed`` 就能让权重可复现，并且每一层得到各自的抽样），然后把绝对值小于 5 的
    元素全部置零：留下的值位于 ``[-10, -5]`` 或 ``[5, 10]`` 中。原地修改权重，保持同一个
    ``nn.Parameter`` 对象（仍是需要梯度的叶子张量）；不要改动偏置。其他类型的模块
    （``nn.ReLU``、``nn.LayerNorm``……）保持不变。
    """
    ### BEGIN SOLUTION
    if type(m) is nn.Linear:
        nn.init.uniform_(m.weight, -10, 10)
        with torch.no_grad():
            m.weight *= m.weight.abs() >= 5
    ### END SOLUTION


class TiedMLP(nn.Module):
    """An MLP whose middle layer is used twice: tied (shared) parameters.

    In ``__init__`` create exactly three layers and nothing else that has parameters:
    ``self.hidden = nn.Linear(4, 8)``, ``self.shared = nn.Linear(8, 8)`` and
    ``self.output = nn.Linear(8, 1)``. ``forward(X)`` for ``X`` of shape ``(batch, 4)`` computes
    ``output(relu(shared(relu(shared(relu(hidden(X)))))))``: the *same* ``shared`` layer twice,
    so ``state_dict()`` holds its weight once and its gradient is the sum of the gradients of
    both uses. A copy of the layer (``copy.deepcopy``, a second ``nn.Linear``) is not tied.

    <!-- zh -->
    中间层被使用两次的多层感知机：绑定（共享）的参数。

    在 ``__init__`` 中恰好创建三个层，不要创建其他带参数的东西：``self.hidden = nn.Linear(4, 8)``、
    ``self.shared = nn.Linear(8, 8)`` 和 ``self.output = nn.Linear(8, 1)``。对形状为
    ``(batch, 4)`` 的 ``X``，``forward(X)`` 计算
    ``output(relu(shared(relu(shared(relu(hidden(X)))))))``：*同一个* ``shared`` 层使用两次，
    因此 ``state_dict()`` 中只保存一份它的权重，而它的梯度是两处使用的梯度之和。该层的副本
    （``copy.deepcopy``、第二个 ``nn.Linear``）不算绑定。
    """

    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        X = F.relu(self.hidden(X))
        X = F.relu(self.shared(X))
        X = F.relu(self.shared(X))
        return self.output(X)
        ### END SOLUTION


# --- 5.4 Custom layers ---------------------------------------------------------------------------


class CenteredLayer(nn.Module):
    """A layer without parameters that subtracts the mean: ``X - X.mean()``.

    The mean is over *all* entries of ``X`` (any shape), so the output has mean zero. Return a
    new tensor with ``X``'s shape and dtype; do not modify ``X`` in place.

    <!-- zh -->
    一个不带参数、减去均值的层：``X - X.mean()``。

    均值是对 ``X``（任意形状）的*所有*元素求的，因此输出的均值为零。返回一个与 ``X`` 形状和
    dtype 相同的新张量；不要原地修改 ``X``。
    """

    def __init__(self):
        super().__init__()

    def forward(self, X):
        ### BEGIN SOLUTION
        return X - X.mean()
        ### END SOLUTION


class MyLinear(nn.Module):
    """A fully connected layer with ReLU, built from its own parameters.

    ``MyLinear(in_units, units)`` (given ``__init__``) has ``weight`` of shape
    ``(in_units, units)`` and ``bias`` of shape ``(units,)``, both ``nn.Parameter``. ``forward(X)``
    for ``X`` of shape ``(batch, in_units)`` returns ``relu(X @ weight + bias)`` of shape
    ``(batch, units)``.

    The course goes further than the book here: the book's ``forward`` reads ``weight.data`` and
    ``bias.data``, which cuts them out of autograd, so the layer could never be trained. Use the
    parameters themselves: ``X``, ``weight`` and ``bias`` must all receive correct gradients.
    ``F.linear`` and ``nn.Linear`` are not allowed.

    <!-- zh -->
    用自己的参数搭建的、带 ReLU 的全连接层。

    ``MyLinear(in_units, units)``（``__init__`` 已给出）有形状为 ``(in_units, units)`` 的
    ``weight`` 和形状为 ``(units,)`` 的 ``bias``，两者都是 ``nn.Parameter``。对形状为
    ``(batch, in_units)`` 的 ``X``，``forward(X)`` 返回形状为 ``(batch, units)`` 的
    ``relu(X @ weight + bias)``。

    本课程在这里比书中更进一步：书中的 ``forward`` 读取 ``weight.data`` 和 ``bias.data``，
    这会把它们从自动微分中切断，于是这个层永远无法训练。请直接使用参数本身：``X``、``weight``
    和 ``bias`` 都必须得到正确的梯度。不允许使用 ``F.linear`` 和 ``nn.Linear``。
    """

    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        ### BEGIN SOLUTION
        linear = torch.matmul(X, self.weight) + self.bias
        return F.relu(linear)
        ### END SOLUTION


# --- 5.5 File I/O --------------------------------------------------------------------------------


def save_checkpoint(net, path, extra=None):
    """Save a checkpoint of ``net`` to the file ``path``.

    Write, with ``torch.save``, the dictionary ``{"model": net.state_dict(), "extra": extra}``.
    The state dict holds parameters *and* buffers (batch norm's running statistics), so that a
    fresh network of the same architecture can be restored exactly. ``extra`` is anything else to
    keep (``None``, numbers, strings, tensors, and lists, tuples or dicts of them: an epoch count,
    a loss history, optimizer state). Do not pickle the module object itself: the file must load
    with ``torch.load(path, weights_only=True)``. Returns ``None``.

    <!-- zh -->
    把 ``net`` 的检查点保存到文件 ``path``。

    用 ``torch.save`` 写入字典 ``{"model": net.state_dict(), "extra": extra}``。状态字典包含
    参数*和*缓冲区（批量规范化的运行统计量），这样同一架构的新网络就能被精确地恢复。``extra``
    是其他需要保存的任何内容（``None``、数、字符串、张量，以及由它们组成的列表、元组或字典：
    轮数、损失历史、优化器状态）。不要 pickle 模块对象本身：文件必须能用
    ``torch.load(path, weights_only=True)`` 加载。返回 ``None``。
    """
    ### BEGIN SOLUTION
    torch.save({"model": net.state_dict(), "extra": extra}, path)
    ### END SOLUTION


def load_checkpoint(net, path):
    """Restore ``net`` in place from a checkpoint written by ``save_checkpoint``; return extra.

    The file ``path`` holds ``{"model": state_dict, "extra": extra}`` (read it with
    ``torch.load(path, weights_only=True)``). Load the state dict into ``net`` strictly, so that a
    checkpoint of a different architecture raises an error instead of silently loading half a
    model; parameters and buffers both come back. Return ``extra``.

    <!-- zh -->
    从 ``save_checkpoint`` 写出的检查点原地恢复 ``net``；返回 extra。

    文件 ``path`` 中保存的是 ``{"model": state_dict, "extra": extra}``（用
    ``torch.load(path, weights_only=True)`` 读取）。以严格模式把状态字典加载到 ``net`` 中，
    这样架构不同的检查点会引发错误，而不是悄悄地只加载半个模型；参数和缓冲区都要恢复。
    返回 ``extra``。
    """
    ### BEGIN SOLUTION
    checkpoint = torch.load(path, weights_only=True)
    net.load_state_dict(checkpoint["model"])
    return checkpoint["extra"]
    ### END SOLUTION


# --- 5.6 GPUs ------------------------------------------------------------------------------------


def try_gpu(i=0):
    """Return GPU number ``i`` as ``torch.device(f"cuda:{i}")`` if it exists, else the CPU.

    GPU ``i`` exists when ``torch.cuda.device_count() >= i + 1``; otherwise return
    ``torch.device("cpu")``. Always return a ``torch.device`` (not a string), with the index:
    ``cuda:0``, not ``cuda``.

    <!-- zh -->
    如果第 ``i`` 个 GPU 存在，返回 ``torch.device(f"cuda:{i}")``，否则返回 CPU。

    当 ``torch.cuda.device_count() >= i + 1`` 时 GPU ``i`` 存在；否则返回
    ``torch.device("cpu")``。总是返回 ``torch.device``（而不是字符串），并带上编号：
    ``cuda:0``，而不是 ``cuda``。
    """
    ### BEGIN SOLUTION
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
    ### END SOLUTION


def move_to(net, X, device):
    """Put a network and its input on ``device`` (a ``torch.device`` or a string like ``"cpu"``).

    Return ``(net, X)`` with all of ``net``'s parameters *and* buffers on ``device`` (modules move
    in place with ``net.to(device)``) and ``X`` on ``device`` with its values and dtype unchanged.
    ``Tensor.to`` is not in place: it returns a new tensor. Write device-agnostic code: no
    ``.cuda()``.

    <!-- zh -->
    把网络和它的输入放到 ``device`` 上（``torch.device`` 或 ``"cpu"`` 这样的字符串）。

    返回 ``(net, X)``，其中 ``net`` 的所有参数*和*缓冲区都在 ``device`` 上（模块用
    ``net.to(device)`` 原地移动），``X`` 也在 ``device`` 上，且其值和 dtype 不变。
    ``Tensor.to`` 不是原地操作：它返回一个新张量。编写与设备无关的代码：不要用 ``.cuda()``。
    """
    ### BEGIN SOLUTION
    net = net.to(device)
    X = X.to(device)
    return net, X
    ### END SOLUTION
