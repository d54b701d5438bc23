"""Correct ch12 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "HybridNet": [
        ("separate Linear attributes and F.relu", '''
class HybridNet(nn.Module):
    def __init__(self, num_inputs=512, num_hiddens=(256, 128), num_outputs=2):
        super().__init__()
        self.hidden1 = nn.Linear(num_inputs, num_hiddens[0])
        self.hidden2 = nn.Linear(num_hiddens[0], num_hiddens[1])
        self.output = nn.Linear(num_hiddens[1], num_outputs)

    def forward(self, X):
        return self.output(F.relu(self.hidden2(F.relu(self.hidden1(X)))))
'''),
    ],
    "Benchmark": [
        ("the book's Timer-style code with course.Timer and a sync helper", '''
class Benchmark:
    def __init__(self, description='Done', device=None):
        self.description = description
        self.device = device

    def _sync(self):
        d = self.device
        if isinstance(d, str):
            d = torch.device(d)
        if isinstance(d, torch.device):
            if d.type == 'cuda':
                torch.cuda.synchronize(d)
        elif d is not None:
            d.synchronize()

    def __enter__(self):
        self._sync()
        self.timer = course.Timer()
        return self

    def __exit__(self, *args):
        self._sync()
        print(f'{self.description}: {self.timer.stop():.4f} sec')
'''),
    ],
    "get_params": [
        ("clone then move, requires_grad in the comprehension", '''
def get_params(params, device):
    return [p.clone().detach().to(device).requires_grad_(True) for p in params]
'''),
    ],
    "allreduce": [
        ("sums with torch.stack then copies into each", '''
def allreduce(data):
    total = torch.stack([t.to(data[0].device) for t in data]).sum(dim=0)
    for t in data:
        t.copy_(total.to(t.device))
'''),
        ("the book's code", '''
def allreduce(data):
    for i in range(1, len(data)):
        data[0][:] += data[i].to(data[0].device)
    for i in range(1, len(data)):
        data[i][:] = data[0].to(data[i].device)
'''),
    ],
    "split_batch": [
        ("torch.split with the chunk size computed by hand", '''
def split_batch(X, y, devices):
    size = -(-X.shape[0] // len(devices))
    return ([x.to(d) for x, d in zip(torch.split(X, size), devices)],
            [t.to(d) for t, d in zip(torch.split(y, size), devices)])
'''),
    ],
    "train_batch": [
        ("the book's code", '''
def train_batch(X, y, device_params, devices, lr):
    X_shards, y_shards = split_batch(X, y, devices)
    ls = [loss(lenet(X_shard, device_W), y_shard).sum()
          for X_shard, y_shard, device_W in zip(
              X_shards, y_shards, device_params)]
    for l in ls:
        l.backward()
    with torch.no_grad():
        for i in range(len(device_params[0])):
            allreduce(
                [device_params[c][i].grad for c in range(len(devices))])
    for param in device_params:
        sgd(param, lr, X.shape[0])
'''),
    ],
    "ring_allreduce": [
        ("a ring that starts each worker on its own chunk, with index lists", '''
def ring_allreduce(data, send):
    n = len(data)
    flat = [t.reshape(-1) for t in data]
    bounds = [len(c) for c in flat[0].tensor_split(n)]
    starts = [sum(bounds[:k]) for k in range(n)]

    def part(i, k):
        return flat[i][starts[k]:starts[k] + bounds[k]]

    for s in range(n - 1):
        msgs = [(i, (i - s - 1) % n, send(i, (i + 1) % n, part(i, (i - s - 1) % n).clone()))
                for i in range(n)]
        for i, k, chunk in msgs:
            part((i + 1) % n, k).add_(chunk)
    for s in range(n - 1):
        msgs = [(i, (i - s) % n, send(i, (i + 1) % n, part(i, (i - s) % n).clone()))
                for i in range(n)]
        for i, k, chunk in msgs:
            part((i + 1) % n, k).copy_(chunk)
'''),
    ],
    "ring_allreduce_": [
        ("irecv and isend together, then wait for both", '''
def ring_allreduce_(tensor):
    from torch import distributed as dist
    n, r = dist.get_world_size(), dist.get_rank()
    if n == 1:
        return tensor
    parts = list(tensor.view(-1).tensor_split(n))
    for step in range(2 * (n - 1)):
        k_out = (r - step) % n if step < n - 1 else (r - step + n) % n
        k_in = (k_out - 1) % n
        incoming = torch.empty_like(parts[k_in])
        reqs = [dist.isend(parts[k_out].clone(), (r + 1) % n), dist.irecv(incoming, (r - 1) % n)]
        for req in reqs:
            req.wait()
        if step < n - 1:
            parts[k_in].add_(incoming)
        else:
            parts[k_in].copy_(incoming)
    return tensor
'''),
    ],
    "train_ddp": [
        ("DDP imported by name, a manual update under no_grad", '''
def train_ddp(net, batches, loss, lr):
    from torch.nn.parallel import DistributedDataParallel as DDP
    model = DDP(net)
    for X, y in batches:
        model.zero_grad(set_to_none=True)
        l = loss(model(X), y)
        l.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= lr * param.grad
    return model
'''),
        ("the book's concise loop (12.6) with an explicit CPU-only wrapper", '''
def train_ddp(net, batches, loss, lr):
    net = nn.parallel.DistributedDataParallel(net, device_ids=None)
    trainer = torch.optim.SGD(net.parameters(), lr)
    for X, y in batches:
        trainer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        trainer.step()
    return net
'''),
    ],
}


VACUOUS = {
    "HybridNet": ("one linear layer, nothing a compiler is asked about", '''
def HybridNet(num_inputs=512, num_hiddens=(256, 128), num_outputs=2):
    return nn.Linear(num_inputs, num_outputs)
'''),
    "Benchmark": ("a context manager that times and prints nothing", '''
def Benchmark(description="Done", device=None):
    import contextlib
    return contextlib.nullcontext()
'''),
    "get_params": ("returns the parameters themselves", '''
def get_params(params, device):
    return params
'''),
    "allreduce": ("does nothing", '''
def allreduce(data):
    pass
'''),
    "split_batch": ("returns the whole batch once", '''
def split_batch(X, y, devices):
    return [X], [y]
'''),
    "train_batch": ("does nothing", '''
def train_batch(X, y, device_params, devices, lr):
    pass
'''),
    "ring_allreduce": ("does nothing", '''
def ring_allreduce(data, send):
    pass
'''),
    "ring_allreduce_": ("returns the tensor unchanged", '''
def ring_allreduce_(tensor):
    return tensor
'''),
    "train_ddp": ("returns the network untrained", '''
def train_ddp(net, batches, loss, lr):
    return net
'''),
}
