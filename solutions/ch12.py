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

    <!-- zh -->
    书中 ``get_net()`` 的多层感知机，写成两种编译器都能接受的模块（12.1 节）。

    ``HybridNet(num_inputs=512, num_hiddens=(256, 128), num_outputs=2)``：``forward(X)`` 把形状为
    ``(batch, num_inputs)`` 的 ``X`` 依次经过 Linear → ReLU → Linear → ReLU → Linear，映射为
    ``(batch, num_outputs)``。请按这个顺序创建三个 ``nn.Linear`` 层（按注册顺序排列的参数，就是检查
    要读取的权重和偏置）；如何组织它们（``nn.Sequential`` 或属性）由你决定。

    PyTorch 2 中的混合式编程：``torch.jit.script(net)`` 必须能编译它，
    ``torch.compile(net, fullgraph=True, backend="eager")`` 必须能把它捕获为一张图，两者的输出都要与
    即时执行的输出相同。所以 ``forward`` 中不能有依赖于数据的 Python 控制流，不能有 ``.item()`` 和
    ``print``，模块也不能保存 TorchScript 无法确定类型的属性（例如由函数组成的 Python 列表）。
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

    <!-- zh -->
    书中的计时上下文管理器：``with Benchmark("numpy"): ...`` 在退出时打印
    ``"{description}: {seconds:.4f} sec"``（12.2 节）。``__enter__`` 返回实例本身。

    与书中有意不同之处：多了一个 ``device`` 参数（默认为 ``None``）。加速器上的工作会排队并异步执
    行，所以计时器要在读取时钟*之前*等待设备：进入时要等（之前排队的工作不能算在内），退出时也要等
    （块内自己的工作必须已经完成）。等待的含义：对 CUDA 设备调用
    ``torch.cuda.synchronize(device)``；对任何其他具有 ``synchronize`` 方法的对象（CUDA 流或事件，或
    评分程序的假异步设备）调用 ``device.synchronize()``；对 ``None``、CPU 设备或字符串 ``"cpu"`` 则
    什么也不做。
    """

    def __init__(self, description: str = "Done", device=None):
        ### BEGIN SOLUTION
        self.description = description
        self.device = device
        ### END SOLUTION

    def wait(self) -> None:
        """Wait until the work queued on ``self.device`` is done (see the class docstring).

        <!-- zh -->
        等待 ``self.device`` 上排队的工作全部完成（见类的文档字符串）。"""
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

    <!-- zh -->
    把参数 ``params`` 复制到 ``device`` 上，供一个工作节点使用（12.5 节）。

    返回一个由新的叶子张量组成的列表：值相同，位于 ``device`` 上，每个都有 ``requires_grad=True``。
    与书中 ``p.to(device)`` 有意不同之处：即使 ``p`` 已经在 ``device`` 上（这时 ``.to`` 会返回 ``p``
    本身），每份副本也都是独立的张量，这样几个工作节点才能共用一个设备。
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

    <!-- zh -->
    书中的 ``allreduce``：执行之后，``data`` 中的每个张量都保存所有张量的按元素之和，各自仍在自己的
    设备上，原地修改（12.5 节）。返回 ``None``。
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

    <!-- zh -->
    像书中的 ``nn.parallel.scatter`` 那样，把一个小批量拆分到 ``devices`` 上（12.5 节）。

    返回 ``(X_shards, y_shards)``：沿第 0 维做 ``X.chunk(len(devices))``（所以最后一份可能较小，份数
    也可能少于设备数），第 ``i`` 份移到 ``devices[i]`` 上；``y`` 也一样。``X`` 和 ``y`` 的第一维大小
    相同。（``nn.parallel.scatter`` 本身需要 CUDA 设备。）
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

    <!-- zh -->
    一个数据并行的小批量训练步骤，即书中的 ``train_batch``（12.5 节）。

    用 ``split_batch`` 拆分 ``X, y``；在每个设备上计算
    ``loss(lenet(X_shard, device_W), y_shard).sum()``（``lenet`` 和 ``loss``，即
    ``CrossEntropyLoss(reduction='none')``，都是笔记本中的全局变量）并反向传播；在各设备之间对每个参
    数的梯度做 ``allreduce``；然后用笔记本中的 ``sgd(params, lr, batch_size)`` 更新每个设备上的副
    本，批量大小取*整个*小批量的大小 ``X.shape[0]``。执行之后，每个副本都等于在整个批量上做一次单设
    备 SGD 步骤的结果。
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

    <!-- zh -->
    在 ``n = len(data)`` 个工作节点上做环形全归约；工作节点 ``i`` 持有 ``data[i]``。

    所有张量的形状相同；执行之后，每个张量都保存按元素之和，原地修改（返回 ``None``）。用
    ``tensor.reshape(-1).tensor_split(n)`` 把每个展平的张量分成 ``n`` 块。数据只能通过消息移动：
    ``got = send(src, dst, chunk)`` 把 ``chunk`` 从工作节点 ``src`` 发送到工作节点 ``dst``，并返回到
    达的内容（请使用它；不要直接读取另一个工作节点的张量）。每个工作节点只向它右边的邻居
    ``(i + 1) % n`` 发送：

    - reduce-scatter（归约-分发），``n - 1`` 步：第 ``s`` 步时，工作节点 ``i`` 发送它的第
      ``(i - s) % n`` 块；接收方把它加到自己的那一块上。之后，工作节点 ``i`` 持有第 ``(i + 1) % n``
      块的完整和。
    - all-gather（全收集），``n - 1`` 步：第 ``s`` 步时，工作节点 ``i`` 发送它的第
      ``(i + 1 - s) % n`` 块；接收方用它替换自己的那一块。

    所以无论 ``n`` 是多少，每个工作节点都发送 ``2 (n - 1)`` 条消息，共携带张量的 ``2 (n - 1) / n``。
    在同一步之内，先发出所有工作节点的消息，再应用其中的任何一条。
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

    <!-- zh -->
    用 ``torch.distributed`` 实现同样的环形全归约：在已经初始化的进程组中，每个 rank 都用自己的
    ``tensor``（各处形状相同）调用它，执行之后每个 rank 的张量都保存所有 rank 之和，原地修改；返回
    ``tensor``。

    只使用点对点消息（``dist.send``/``dist.recv``/``dist.isend``/``dist.irecv``），发送给右边的邻居
    ``(rank + 1) % world_size``，并从左边的邻居接收；集合通信操作（``all_reduce``、
    ``reduce_scatter``、``all_gather``、``broadcast``、``reduce``……）正是你要重新实现的，使用它们得
    0 分。分块和步骤与 ``ring_allreduce`` 相同（``tensor.reshape(-1).tensor_split(world_size)``）。
    阻塞的 ``send`` 要等它的接收方，所以如果每个 rank 都先发送，大家就会互相等下去：先用
    ``dist.isend`` 发出消息，再接收，然后 ``wait()`` 等待发送完成。只有一个 rank 时什么也不做。
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


# --- Beyond the book: DistributedDataParallel ---------------------------------------------------


def train_ddp(net: nn.Module, batches: list, loss, lr: float) -> nn.Module:
    """Data-parallel training with ``torch.nn.parallel.DistributedDataParallel`` (DDP), the
    form of section 12.5's ``train_batch`` that real multi-GPU and multi-machine training uses.

    Every rank calls it after the process group is initialised, each in its own process with
    its own ``net`` (the same architecture everywhere; DDP copies rank 0's parameters and
    buffers to the other ranks when it wraps the model) and its own shard of the data:
    ``batches`` is a list of ``(X, y)`` pairs, this rank's rows of one minibatch per step (every
    rank has the same number of steps and shards of the same size). ``loss(y_hat, y)`` returns
    the *mean* loss over the rows (``nn.CrossEntropyLoss()``, ``nn.MSELoss()``).

    Wrap the network as ``model = torch.nn.parallel.DistributedDataParallel(net)`` (on the CPU
    with no ``device_ids``) and, for each pair in order, take one minibatch SGD step with
    learning rate ``lr``: zero the gradients, compute ``loss(model(X), y)`` through ``model``
    and backpropagate (during ``backward()`` DDP averages every gradient over the ranks), then
    update every parameter, ``param -= lr * param.grad`` (``torch.optim.SGD`` or by hand).
    Return ``model``; ``net`` is trained in place (``model.module is net``). Afterwards every
    rank holds the same parameters: those of single-process minibatch SGD, with the mean loss,
    on the concatenation of all ranks' shards of each step.

    <!-- zh -->
    用 ``torch.nn.parallel.DistributedDataParallel``（DDP）做数据并行训练：这是 12.5 节的
    ``train_batch`` 在真实的多 GPU、多机训练中所用的形式。

    每个 rank 在进程组初始化之后调用它，各自在自己的进程中，拿着自己的 ``net``（各处的架构都相同；
    DDP 包装模型时会把 rank 0 的参数和缓冲区复制到其他 rank）和自己的那一份数据：``batches`` 是由
    ``(X, y)`` 对组成的列表，每一步一对，是本 rank 在该步小批量中分到的那些行（每个 rank 的步数相
    同，分片大小也相同）。``loss(y_hat, y)`` 返回各行损失的*平均值*（``nn.CrossEntropyLoss()``、
    ``nn.MSELoss()``）。

    把网络包装成 ``model = torch.nn.parallel.DistributedDataParallel(net)``（在 CPU 上，不传
    ``device_ids``），然后按顺序对每一对数据做一步学习率为 ``lr`` 的小批量随机梯度下降：把梯度清零，
    通过 ``model`` 计算 ``loss(model(X), y)`` 并反向传播（在 ``backward()`` 期间，DDP 会在各个 rank
    之间对每个梯度求平均），然后更新每个参数，``param -= lr * param.grad``（用 ``torch.optim.SGD``
    或手写均可）。返回 ``model``；``net`` 本身被原地训练（``model.module is net``）。执行之后，每个
    rank 都持有相同的参数：与单个进程用平均损失、在每一步所有 rank 的分片拼接起来的数据上做小批量随
    机梯度下降所得的参数相同。
    """
    ### BEGIN SOLUTION
    model = nn.parallel.DistributedDataParallel(net)
    trainer = torch.optim.SGD(model.parameters(), lr=lr)
    for X, y in batches:
        trainer.zero_grad()
        loss(model(X), y).backward()
        trainer.step()
    return model
    ### END SOLUTION
