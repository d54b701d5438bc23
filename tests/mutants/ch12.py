"""Realistic mistakes for ch12; each must lose points."""

MUTANTS = {
    "HybridNet": [
        ("rescales large inputs with a Python if on a tensor value (a graph break)", '''
class HybridNet(nn.Module):
    def __init__(self, num_inputs=512, num_hiddens=(256, 128), num_outputs=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(num_inputs, num_hiddens[0]), nn.ReLU(),
                                 nn.Linear(num_hiddens[0], num_hiddens[1]), nn.ReLU(),
                                 nn.Linear(num_hiddens[1], num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.abs().max().item() > 1e6:
            X = X / 1e6
        return self.net(X)
'''),
        ("keeps the activations in a Python list of functions (TorchScript rejects it)", '''
class HybridNet(nn.Module):
    def __init__(self, num_inputs=512, num_hiddens=(256, 128), num_outputs=2):
        super().__init__()
        sizes = [num_inputs, *num_hiddens, num_outputs]
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.acts = [torch.relu, torch.relu]

    def forward(self, X):
        for layer, act in zip(self.layers, self.acts):
            X = act(layer(X))
        return self.layers[-1](X)
'''),
    ],
    "Benchmark": [
        ("the book's timer: never waits for the device", '''
class Benchmark:
    def __init__(self, description="Done", device=None):
        self.description = description
        self.device = device

    def __enter__(self):
        self.start = time.time()
        return self

    def __exit__(self, *args):
        print(f"{self.description}: {time.time() - self.start:.4f} sec")
'''),
        ("starts the clock before waiting on entry", '''
class Benchmark:
    def __init__(self, description="Done", device=None):
        self.description = description
        self.device = device

    def sync(self):
        if hasattr(self.device, "synchronize"):
            self.device.synchronize()

    def __enter__(self):
        self.start = time.time()
        self.sync()
        return self

    def __exit__(self, *args):
        self.sync()
        print(f"{self.description}: {time.time() - self.start:.4f} sec")
'''),
    ],
    "get_params": [
        ("forgets requires_grad", '''
def get_params(params, device):
    return [p.detach().clone().to(device) for p in params]
'''),
        ("detaches without copying, so copies on one device share memory", '''
def get_params(params, device):
    return [p.detach().to(device).requires_grad_() for p in params]
'''),
    ],
    "allreduce": [
        ("averages instead of summing", '''
def allreduce(data):
    mean = sum(t.to(data[0].device) for t in data) / len(data)
    for t in data:
        t[:] = mean.to(t.device)
'''),
        ("sums into the first tensor and never copies back", '''
def allreduce(data):
    for t in data[1:]:
        data[0][:] += t.to(data[0].device)
'''),
    ],
    "split_batch": [
        ("interleaves rows instead of taking consecutive chunks", '''
def split_batch(X, y, devices):
    n = len(devices)
    return ([X[i::n].to(d) for i, d in enumerate(devices)],
            [y[i::n].to(d) for i, d in enumerate(devices)])
'''),
        ("balances the shards with tensor_split (not scatter's chunks)", '''
def split_batch(X, y, devices):
    n = len(devices)
    return ([x.to(d) for x, d in zip(X.tensor_split(n), devices)],
            [t.to(d) for t, d in zip(y.tensor_split(n), devices)])
'''),
    ],
    "train_batch": [
        ("divides by the shard size in sgd", '''
def train_batch(X, y, device_params, devices, lr):
    X_shards, y_shards = split_batch(X, y, devices)
    for Xs, ys, W in zip(X_shards, y_shards, device_params):
        loss(lenet(Xs, W), ys).sum().backward()
    with torch.no_grad():
        for i in range(len(device_params[0])):
            allreduce([W[i].grad for W in device_params])
    for W in device_params:
        sgd(W, lr, X_shards[0].shape[0])
'''),
        ("forgets to allreduce the gradients", '''
def train_batch(X, y, device_params, devices, lr):
    X_shards, y_shards = split_batch(X, y, devices)
    for Xs, ys, W in zip(X_shards, y_shards, device_params):
        loss(lenet(Xs, W), ys).sum().backward()
    for W in device_params:
        sgd(W, lr, X.shape[0])
'''),
    ],
    "ring_allreduce": [
        ("every worker sends its whole tensor to every other worker", '''
def ring_allreduce(data, send):
    n = len(data)
    inbox = [[] for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j:
                inbox[j].append(send(i, j, data[i].clone()))
    for j in range(n):
        for t in inbox[j]:
            data[j] += t
'''),
        ("stops the all-gather one step early", '''
def ring_allreduce(data, send):
    n = len(data)
    chunks = [t.view(-1).tensor_split(n) for t in data]
    for s in range(n - 1):
        got = [send(i, (i + 1) % n, chunks[i][(i - s) % n].clone()) for i in range(n)]
        for i in range(n):
            chunks[(i + 1) % n][(i - s) % n].add_(got[i])
    for s in range(n - 2):
        got = [send(i, (i + 1) % n, chunks[i][(i + 1 - s) % n].clone()) for i in range(n)]
        for i in range(n):
            chunks[(i + 1) % n][(i + 1 - s) % n].copy_(got[i])
'''),
    ],
    "ring_allreduce_": [
        ("calls dist.all_reduce instead of passing messages", '''
def ring_allreduce_(tensor):
    import torch.distributed as dist
    if dist.get_world_size() > 1:
        dist.all_reduce(tensor)
    return tensor
'''),
        ("does the reduce-scatter only", '''
def ring_allreduce_(tensor):
    import torch.distributed as dist
    rank, n = dist.get_rank(), dist.get_world_size()
    chunks = tensor.view(-1).tensor_split(n)
    for s in range(n - 1):
        buf = torch.empty_like(chunks[(rank - 1 - s) % n])
        req = dist.isend(chunks[(rank - s) % n].clone(), (rank + 1) % n)
        dist.recv(buf, (rank - 1) % n)
        req.wait()
        chunks[(rank - 1 - s) % n].add_(buf)
    return tensor
'''),
    ],
    "train_ddp": [
        ("trains net without the DDP wrapper, so each rank follows its own shard", '''
def train_ddp(net, batches, loss, lr):
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for X, y in batches:
        trainer.zero_grad()
        loss(net(X), y).backward()
        trainer.step()
    return net
'''),
        ("wraps net in DDP but runs the forward pass through net itself", '''
def train_ddp(net, batches, loss, lr):
    model = nn.parallel.DistributedDataParallel(net)
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for X, y in batches:
        trainer.zero_grad()
        loss(net(X), y).backward()
        trainer.step()
    return model
'''),
        ("scales the loss by the world size, as if DDP summed the gradients", '''
def train_ddp(net, batches, loss, lr):
    import torch.distributed as dist
    model = nn.parallel.DistributedDataParallel(net)
    trainer = torch.optim.SGD(model.parameters(), lr=lr)
    for X, y in batches:
        trainer.zero_grad()
        (loss(model(X), y) * dist.get_world_size()).backward()
        trainer.step()
    return model
'''),
    ],
}
