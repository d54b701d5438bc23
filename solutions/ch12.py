"""Reference solutions for ch12, Computational performance (计算性能).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.

The multi-device exercises follow section 12.5 ("multiple GPUs from scratch"). Grading runs on
the CPU with several *logical* devices (``[cpu, cpu, cpu]``), so every copy must be a tensor of
its own even when two devices are the same.
"""

import time

import torch
from torch import nn

# --- 12.1 Compilers and interpreters -------------------------------------------------------------


class HybridNet(nn.Module):
    """The book's ``get_net()`` MLP as a module that both compilers accept (12.1).

    ``HybridNet(num_inputs=512, num_hiddens=(256, 128), num_outputs=2)``: ``forward(X)`` maps
    ``X`` of shape ``(batch, num_inputs)`` through Linear → ReLU → Linear → ReLU → Linear to
    ``(batch, num_outputs)``. Use three ``nn.Linear`` layers created in that order (their
    parameters, in registration order, are the weights and biases the checks read); how you
    organise them (``nn.Sequential``, attributes) is up to you.

    Hybridization in PyTorch 2: ``torch.jit.script(net)`` must compile it and
    ``torch.compile(net, fullgraph=True, backend="eager")`` must capture it as one graph, both
    giving the eager outputs. So ``forward`` has no data-dependent Python control flow, no
    ``.item()``, no ``print``, and the module stores no attribute TorchScript cannot type (a
    Python list of functions, for instance).
    """

    def __init__(self, num_inputs: int = 512, num_hiddens: tuple = (256, 128),
                 num_outputs: int = 2):
        super().__init__()
        ### BEGIN SOLUTION
        self.net = nn.Sequential(nn.Linear(num_inputs, num_hiddens[0]), nn.ReLU(),
                                 nn.Linear(num_hiddens[0], num_hiddens[1]), nn.ReLU(),
                                 nn.Linear(num_hiddens[1], num_outputs))
        ### END SOLUTION

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.net(X)
        ### END SOLUTION


# --- 12.2 Asynchronous computation ---------------------------------------------------------------


class Benchmark:
    """The book's timing context manager: ``with Benchmark("numpy"): ...`` prints
    ``"{description}: {seconds:.4f} sec"`` on exit (12.2). ``__enter__`` returns the instance.

    Deliberate difference from the book: a ``device`` argument (default ``None``). Work on an
    accelerator is queued and runs asynchronously, so the timer waits for the device *before*
    reading the clock, both when entering (work queued earlier must not count) and when
    exiting (the block's own work must be finished). Waiting means: ``torch.cuda.synchronize(
    device)`` for a CUDA device; ``device.synchronize()`` for any other object that has a
    ``synchronize`` method (a CUDA stream or event, or the grader's fake asynchronous device);
    nothing for ``None``, a CPU device or the string ``"cpu"``.
    """

    def __init__(self, description: str = "Done", device=None):
        ### BEGIN SOLUTION
        self.description = description
        self.device = device
        ### END SOLUTION

    def wait(self) -> None:
        """Wait until the work queued on ``self.device`` is done (see the class docstring)."""
        ### BEGIN SOLUTION
        device = self.device
        if device is None:
            return
        if isinstance(device, (str, torch.device)):
            if torch.device(device).type == "cuda":
                torch.cuda.synchronize(device)
        elif hasattr(device, "synchronize"):
            device.synchronize()
        ### END SOLUTION

    def __enter__(self) -> "Benchmark":
        ### BEGIN SOLUTION
        self.wait()
        self.start = time.perf_counter()
        return self
        ### END SOLUTION

    def __exit__(self, *args) -> None:
        ### BEGIN SOLUTION
        self.wait()
        print(f"{self.description}: {time.perf_counter() - self.start:.4f} sec")
        ### END SOLUTION


# --- 12.5 Training on multiple GPUs from scratch --------------------------------------------------


def get_params(params: list, device) -> list:
    """Copy the parameters ``params`` to ``device`` for one worker (12.5).

    Return a list of new leaf tensors, same values, on ``device``, each with
    ``requires_grad=True``. Deliberate difference from the book's ``p.to(device)``: every copy
    is a tensor of its own even when ``p`` is already on ``device`` (``.to`` would return ``p``
    itself then), so several workers can share one device.
    """
    ### BEGIN SOLUTION
    new_params = [p.detach().to(device).clone() for p in params]
    for p in new_params:
        p.requires_grad_()
    return new_params
    ### END SOLUTION


def allreduce(data: list) -> None:
    """The book's ``allreduce``: afterwards every tensor in ``data`` holds the elementwise sum
    of all of them, each on its own device, changed in place (12.5). Returns ``None``.
    """
    ### BEGIN SOLUTION
    for i in range(1, len(data)):
        data[0][:] += data[i].to(data[0].device)
    for i in range(1, len(data)):
        data[i][:] = data[0].to(data[i].device)
    ### END SOLUTION


def split_batch(X: torch.Tensor, y: torch.Tensor, devices: list) -> tuple:
    """Split a minibatch over ``devices`` as the book's ``nn.parallel.scatter`` does (12.5).

    Return ``(X_shards, y_shards)``: ``X.chunk(len(devices))`` along dimension 0 (so the last
    shard may be smaller, and there may be fewer shards than devices), shard ``i`` moved to
    ``devices[i]``; the same for ``y``. ``X`` and ``y`` have the same first dimension.
    (``nn.parallel.scatter`` itself needs CUDA devices.)
    """
    ### BEGIN SOLUTION
    assert X.shape[0] == y.shape[0]
    X_shards = [x.to(d) for x, d in zip(X.chunk(len(devices)), devices)]
    y_shards = [t.to(d) for t, d in zip(y.chunk(len(devices)), devices)]
    return X_shards, y_shards
    ### END SOLUTION


def train_batch(X: torch.Tensor, y: torch.Tensor, device_params: list, devices: list,
                lr: float) -> None:
    """One data-parallel minibatch step, the book's ``train_batch`` (12.5).

    Split ``X, y`` with ``split_batch``; on each device compute
    ``loss(lenet(X_shard, device_W), y_shard).sum()`` (``lenet`` and ``loss``, the
    ``CrossEntropyLoss(reduction='none')``, are the notebook's globals) and backpropagate;
    ``allreduce`` each parameter's gradients across the devices; then update every device's
    copy with the notebook's ``sgd(params, lr, batch_size)`` using the *whole* minibatch size
    ``X.shape[0]``. Afterwards every copy equals one single-device SGD step on the whole batch.
    """
    ### BEGIN SOLUTION
    X_shards, y_shards = split_batch(X, y, devices)
    ls = [loss(lenet(X_shard, device_W), y_shard).sum()  # noqa: F821
          for X_shard, y_shard, device_W in zip(X_shards, y_shards, device_params)]
    for one in ls:
        one.backward()
    with torch.no_grad():
        for i in range(len(device_params[0])):
            allreduce([device_params[c][i].grad for c in range(len(ls))])
    for param in device_params:
        sgd(param, lr, X.shape[0])  # noqa: F821
    ### END SOLUTION


# --- Beyond the book: ring allreduce ----------------------------------------------------------


def ring_allreduce(data: list, send) -> None:
    """Ring allreduce over ``n = len(data)`` workers; worker ``i`` holds ``data[i]``.

    All tensors have the same shape; afterwards each holds the elementwise sum, changed in
    place (returns ``None``). Split each flattened tensor into ``n`` chunks with
    ``tensor.reshape(-1).tensor_split(n)``. Data moves only by messages: ``got = send(src, dst,
    chunk)`` sends ``chunk`` from worker ``src`` to worker ``dst`` and returns what arrives (use
    it; do not read another worker's tensor directly). Every worker sends only to its right
    neighbour ``(i + 1) % n``:

    - reduce-scatter, ``n - 1`` steps: at step ``s`` worker ``i`` sends its chunk
      ``(i - s) % n``; the receiver adds it to its own copy of that chunk. Afterwards worker
      ``i`` holds the full sum of chunk ``(i + 1) % n``.
    - all-gather, ``n - 1`` steps: at step ``s`` worker ``i`` sends its chunk
      ``(i + 1 - s) % n``; the receiver replaces its copy with it.

    So each worker sends ``2 (n - 1)`` messages carrying ``2 (n - 1) / n`` of the tensor,
    whatever ``n`` is. Within a step, send every worker's message before applying any.
    """
    ### BEGIN SOLUTION
    n = len(data)
    chunks = [t.view(-1).tensor_split(n) for t in data]
    for s in range(n - 1):
        arrived = [send(i, (i + 1) % n, chunks[i][(i - s) % n].clone()) for i in range(n)]
        for i in range(n):
            chunks[(i + 1) % n][(i - s) % n].add_(arrived[i])
    for s in range(n - 1):
        arrived = [send(i, (i + 1) % n, chunks[i][(i + 1 - s) % n].clone()) for i in range(n)]
        for i in range(n):
            chunks[(i + 1) % n][(i + 1 - s) % n].copy_(arrived[i])
    ### END SOLUTION


def ring_allreduce_(tensor: torch.Tensor) -> torch.Tensor:
    """The same ring allreduce with ``torch.distributed``: every rank calls it with its own
    ``tensor`` (same shape everywhere) in an initialised process group, and afterwards each
    holds the sum over ranks, changed in place; return ``tensor``.

    Use only point-to-point messages (``dist.send``/``dist.recv``/``dist.isend``/
    ``dist.irecv``), to the right neighbour ``(rank + 1) % world_size`` and from the left one;
    the collectives (``all_reduce``, ``reduce_scatter``, ``all_gather``, ``broadcast``,
    ``reduce``...) are what you reimplement and score 0. The chunks and steps are those of
    ``ring_allreduce`` (``tensor.reshape(-1).tensor_split(world_size)``). A blocking ``send``
    waits for its receiver, so if every rank sends first, all wait: post the send with
    ``dist.isend``, receive, then ``wait()`` for the send. With one rank, do nothing.
    """
    ### BEGIN SOLUTION
    dist = torch.distributed
    rank, n = dist.get_rank(), dist.get_world_size()
    chunks = tensor.view(-1).tensor_split(n)
    right, left = (rank + 1) % n, (rank - 1) % n
    for phase in range(2):
        for s in range(n - 1):
            out = chunks[(rank - s + phase) % n].clone()
            target = chunks[(rank - 1 - s + phase) % n]
            buffer = torch.empty_like(target)
            request = dist.isend(out, right)
            dist.recv(buffer, left)
            request.wait()
            if phase == 0:
                target.add_(buffer)
            else:
                target.copy_(buffer)
    return tensor
    ### END SOLUTION
