"""Correct alternatives for ch05: the book's own code and other valid styles earn full marks."""

VARIANTS = {
    "MySequential": [
        ("the book's code", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, X):
        for block in self._modules.values():
            X = block(X)
        return X
'''),
        ("add_module, then indexes the modules by position", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for idx in range(len(self._modules)):
            X = self._modules[str(idx)](X)
        return X
'''),
        ("setattr registers each module; forward reads them back with getattr", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.size = len(args)
        for idx, module in enumerate(args):
            setattr(self, str(idx), module)

    def forward(self, X):
        out = X
        for idx in range(self.size):
            out = getattr(self, str(idx))(out)
        return out
'''),
    ],
    "FixedHiddenMLP": [
        ("the book's forward", '''
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()
'''),
        ("out-of-place halving, @ and torch.relu", '''
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        H = torch.relu(self.linear(X) @ self.rand_weight + 1)
        Y = self.linear(H)
        while torch.sum(torch.abs(Y)).item() > 1:
            Y = Y / 2
        return torch.sum(Y)
'''),
    ],
    "ParallelBlock": [
        ("torch.cat of a list", '''
class ParallelBlock(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        return torch.cat([self.net1(X), self.net2(X)], 1)
'''),
        ("torch.hstack", '''
class ParallelBlock(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        return torch.hstack((self.net1(X), self.net2(X)))
'''),
    ],
    "NestMLP": [
        ("the book's forward", '''
class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))
'''),
        ("one step at a time", '''
class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        hidden = self.net(X)
        out = self.linear(hidden)
        return out
'''),
    ],
    "count_parameters": [
        ("a loop with math.prod of the shapes", '''
import math


def count_parameters(net):
    total = 0
    for p in net.parameters():
        if p.requires_grad:
            total += math.prod(p.shape)
    return total
'''),
        ("numel over a list, int() of the sum", '''
def count_parameters(net):
    return int(sum([p.numel() for p in net.parameters() if p.requires_grad]))
'''),
    ],
    "param_shapes": [
        ("torch.Size values (a tuple subclass)", '''
def param_shapes(net):
    return {name: param.shape for name, param in net.named_parameters()}
'''),
        ("an OrderedDict built in a loop", '''
import collections


def param_shapes(net):
    shapes = collections.OrderedDict()
    for name, param in net.named_parameters():
        shapes[name] = tuple(int(s) for s in param.size())
    return shapes
'''),
    ],
    "my_init": [
        ("the book's code (prints, writes through .data)", '''
def my_init(m):
    if type(m) == nn.Linear:  # noqa: E721 - the book's spelling
        print("Init", *[(name, param.shape) for name, param in m.named_parameters()][0])
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() >= 5
'''),
        ("isinstance, in-place uniform_ and masked assignment under no_grad", '''
def my_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            m.weight.uniform_(-10, 10)
            m.weight[m.weight.abs() < 5] = 0
'''),
        ("copies scaled torch.rand draws, then torch.where", '''
def my_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            w = torch.rand(m.weight.shape) * 20 - 10
            m.weight.copy_(torch.where(w.abs() >= 5, w, torch.zeros_like(w)))
'''),
    ],
    "TiedMLP": [
        ("an nn.ReLU module attribute", '''
class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)
        self.act = nn.ReLU()

    def forward(self, X):
        X = self.act(self.hidden(X))
        for _ in range(2):
            X = self.act(self.shared(X))
        return self.output(X)
'''),
        ("torch.relu, nested calls", '''
class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)

    def forward(self, X):
        return self.output(torch.relu(self.shared(torch.relu(self.shared(
            torch.relu(self.hidden(X)))))))
'''),
    ],
    "CenteredLayer": [
        ("the book's code", '''
class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()
'''),
        ("sum over numel", '''
class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - torch.sum(X) / X.numel()
'''),
    ],
    "MyLinear": [
        ("@ and torch.relu", '''
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        return torch.relu(X @ self.weight + self.bias)
'''),
        ("torch.addmm and clamp", '''
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        return torch.addmm(self.bias, X, self.weight).clamp(min=0)
'''),
    ],
    "save_checkpoint": [
        ("the keys in the other order", '''
def save_checkpoint(net, path, extra=None):
    torch.save({"extra": extra, "model": net.state_dict()}, path)
'''),
        ("dict(...) written through an open file", '''
def save_checkpoint(net, path, extra=None):
    with open(path, "wb") as f:
        torch.save(dict(model=net.state_dict(), extra=extra), f)
'''),
    ],
    "load_checkpoint": [
        ("strict=True spelled out, map_location='cpu'", '''
def load_checkpoint(net, path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(checkpoint["model"], strict=True)
    return checkpoint.get("extra")
'''),
        ("reads through an open file", '''
def load_checkpoint(net, path):
    with open(path, "rb") as f:
        checkpoint = torch.load(f, weights_only=True)
    net.load_state_dict(checkpoint["model"])
    return checkpoint["extra"]
'''),
    ],
    "try_gpu": [
        ("the book's code", '''
def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')
'''),
        ("imports device_count from torch.cuda", '''
from torch.cuda import device_count


def try_gpu(i=0):
    if device_count() > i:
        return torch.device("cuda", i)
    return torch.device("cpu")
'''),
        ("checks is_available first", '''
from torch import cuda


def try_gpu(i=0):
    if cuda.is_available() and i < cuda.device_count():
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
'''),
    ],
    "move_to": [
        ("the book's .to on both", '''
def move_to(net, X, device):
    return net.to(device), X.to(device)
'''),
        ("moves the net in place, X by keyword", '''
def move_to(net, X, device):
    net.to(device=device)
    return net, X.to(device=device)
'''),
    ],
}

VACUOUS = {
    "count_parameters": ("returns the int 0", '''
def count_parameters(net):
    return 0
'''),
    "my_init": ("zeros every Linear weight", '''
def my_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            m.weight.zero_()
'''),
    "load_checkpoint": ("reads the file but loads nothing", '''
def load_checkpoint(net, path):
    torch.load(path, weights_only=True)
'''),
    "save_checkpoint": ("writes an empty dict", '''
def save_checkpoint(net, path, extra=None):
    torch.save({}, path)
'''),
}
