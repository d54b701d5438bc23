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
    """
    ### BEGIN SOLUTION
    net = net.to(device)
    X = X.to(device)
    return net, X
    ### END SOLUTION
