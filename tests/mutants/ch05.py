"""Realistic mistakes for ch05; each must lose points."""

MUTANTS = {
    "MySequential": [
        ("keeps the modules in a plain Python list: nothing is registered", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.layers = list(args)

    def forward(self, X):
        for layer in self.layers:
            X = layer(X)
        return X
'''),
        ("returns inside the loop: only the first module runs", '''
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
        ("names modules by their class: the second Linear replaces the first", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for module in args:
            self._modules[type(module).__name__] = module

    def forward(self, X):
        for block in self._modules.values():
            X = block(X)
        return X
'''),
        ("iterates children(): a module given twice runs only once", '''
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for block in self.children():
            X = block(X)
        return X
'''),
    ],
    "FixedHiddenMLP": [
        ("halves once with `if` instead of looping with `while`", '''
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)
        if X.abs().sum() > 1:
            X /= 2
        return X.sum()
'''),
        ("loops on the plain sum instead of the absolute sum", '''
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)
        while X.sum() > 1:
            X /= 2
        return X.sum()
'''),
        ("halves X.data: the gradient misses the scaling", '''
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
            X.data /= 2
        return X.sum()
'''),
    ],
    "ParallelBlock": [
        ("chains the blocks instead of running them side by side", '''
class ParallelBlock(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        return torch.cat((self.net1(X), self.net2(self.net1(X))), dim=1)
'''),
        ("puts net2's columns first", '''
class ParallelBlock(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        return torch.cat((self.net2(X), self.net1(X)), dim=1)
'''),
        ("concatenates along the batch dimension", '''
class ParallelBlock(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, X):
        return torch.cat((self.net1(X), self.net2(X)))
'''),
    ],
    "NestMLP": [
        ("adds a ReLU after the last layer", '''
class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return F.relu(self.linear(self.net(X)))
'''),
        ("forgets the final linear layer", '''
class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.net(X)
'''),
    ],
    "count_parameters": [
        ("counts parameter tensors instead of scalars", '''
def count_parameters(net):
    return len(list(net.parameters()))
'''),
        ("sums over the state dict: buffers, frozen and shared weights counted", '''
def count_parameters(net):
    return sum(v.numel() for v in net.state_dict().values())
'''),
        ("ignores requires_grad: frozen parameters counted", '''
def count_parameters(net):
    return sum(p.numel() for p in net.parameters())
'''),
        ("returns a tensor instead of a Python int", '''
def count_parameters(net):
    return torch.tensor([p.numel() for p in net.parameters() if p.requires_grad]).sum()
'''),
    ],
    "param_shapes": [
        ("reads the state dict: buffers and second names of shared weights included", '''
def param_shapes(net):
    return {name: tuple(v.shape) for name, v in net.state_dict().items()}
'''),
        ("lists only trainable parameters", '''
def param_shapes(net):
    return {name: tuple(p.shape) for name, p in net.named_parameters() if p.requires_grad}
'''),
        ("uses each layer's local names: nested names collide", '''
def param_shapes(net):
    shapes = {}
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            shapes[name] = tuple(p.shape)
    return shapes
'''),
    ],
    "my_init": [
        ("draws from a normal distribution instead of U(-10, 10)", '''
def my_init(m):
    if type(m) is nn.Linear:
        nn.init.normal_(m.weight, 0, 10)
        m.weight.data *= m.weight.data.abs() >= 5
'''),
        ("inverts the mask: keeps the small weights", '''
def my_init(m):
    if type(m) is nn.Linear:
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() < 5
'''),
        ("initialises every module with a weight (LayerNorm too) and the bias", '''
def my_init(m):
    for p in m.parameters(recurse=False):
        nn.init.uniform_(p, -10, 10)
        p.data *= p.data.abs() >= 5
'''),
        ("reseeds the global generator: every layer gets the same draws", '''
def my_init(m):
    if type(m) is nn.Linear:
        torch.manual_seed(42)
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() >= 5
'''),
    ],
    "TiedMLP": [
        ("copies the shared layer instead of tying it", '''
import copy


class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.shared2 = copy.deepcopy(self.shared)
        self.output = nn.Linear(8, 1)

    def forward(self, X):
        X = F.relu(self.hidden(X))
        X = F.relu(self.shared(X))
        X = F.relu(self.shared2(X))
        return self.output(X)
'''),
        ("uses the shared layer only once", '''
class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)

    def forward(self, X):
        X = F.relu(self.hidden(X))
        X = F.relu(self.shared(X))
        return self.output(X)
'''),
        ("forgets the ReLU between the two uses of the shared layer", '''
class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)

    def forward(self, X):
        X = F.relu(self.hidden(X))
        X = F.relu(self.shared(self.shared(X)))
        return self.output(X)
'''),
        ("applies a ReLU to the output layer too", '''
class TiedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.shared = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)

    def forward(self, X):
        X = F.relu(self.hidden(X))
        X = F.relu(self.shared(X))
        X = F.relu(self.shared(X))
        return F.relu(self.output(X))
'''),
    ],
    "CenteredLayer": [
        ("subtracts each column's mean", '''
class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean(dim=0)
'''),
        ("subtracts in place", '''
class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        X -= X.mean()
        return X
'''),
    ],
    "MyLinear": [
        ("the book's forward: .data cuts the parameters out of autograd", '''
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)
'''),
        ("forgets the ReLU", '''
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        return torch.matmul(X, self.weight) + self.bias
'''),
        ("uses F.linear with the transposed weight", '''
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        return F.relu(F.linear(X, self.weight.T, self.bias))
'''),
    ],
    "save_checkpoint": [
        ("pickles the whole module", '''
def save_checkpoint(net, path, extra=None):
    torch.save({"model": net, "extra": extra}, path)
'''),
        ("saves the parameters only: batch norm's running statistics are lost", '''
def save_checkpoint(net, path, extra=None):
    torch.save({"model": dict(net.named_parameters()), "extra": extra}, path)
'''),
        ("forgets to store extra", '''
def save_checkpoint(net, path, extra=None):
    torch.save({"model": net.state_dict(), "extra": None}, path)
'''),
    ],
    "load_checkpoint": [
        ("copies the parameters only: buffers keep their fresh values", '''
def load_checkpoint(net, path):
    checkpoint = torch.load(path, weights_only=True)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(checkpoint["model"][name])
    return checkpoint["extra"]
'''),
        ("loads non-strictly and returns the whole checkpoint", '''
def load_checkpoint(net, path):
    checkpoint = torch.load(path, weights_only=True)
    net.load_state_dict(checkpoint["model"], strict=False)
    return checkpoint
'''),
    ],
    "try_gpu": [
        ("returns 'cuda' without the index and ignores i", '''
def try_gpu(i=0):
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
'''),
        ("off by one: GPU i needs more than i + 1 devices", '''
def try_gpu(i=0):
    if torch.cuda.device_count() > i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
'''),
        ("returns strings instead of torch.device", '''
def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return f"cuda:{i}"
    return "cpu"
'''),
    ],
    "move_to": [
        ("calls X.to(device) but keeps the old X", '''
def move_to(net, X, device):
    net.to(device)
    X.to(device)
    return net, X
'''),
        ("moves the parameters by hand: buffers stay behind", '''
def move_to(net, X, device):
    for p in net.parameters():
        p.data = p.data.to(device)
    return net, X.to(device)
'''),
        ("hard-codes .cuda(): fails without a GPU", '''
def move_to(net, X, device):
    return net.cuda(), X.cuda()
'''),
    ],
}
