"""Hidden checks for ch12, Computational performance (计算性能).

- ``HybridNet`` is built in the sandbox and run eagerly, through ``torch.jit.script`` and through
  ``torch.compile(fullgraph=True, backend="eager")``; each output is compared with the MLP its
  own parameters define (so any layout of three ``nn.Linear`` layers is fine).
- ``Benchmark`` times a fake asynchronous device whose queued work (a sleep) only happens when it
  is synchronised: work queued before the block must not count, the block's own work must.
- The multi-device functions run on logical devices (the CPU repeated); ``train_batch`` runs with
  the grader's ``split_batch``, ``allreduce``, ``lenet``, ``loss`` and ``sgd`` swapped in and is
  compared with one single-device SGD step on the whole batch.
- ``ring_allreduce`` is given a ``send`` that logs every message: the sum, ``2 (n - 1)``
  messages per worker, only to the right neighbour, chunks of at most ``ceil(numel / n)``.
- ``ring_allreduce_`` runs on 2-4 gloo ranks (``objects.run_ranks``) with the collectives
  forbidden and is compared with the sum ``dist.all_reduce`` computes.
- ``train_ddp`` runs on 2 and 3 gloo ranks, each with the same small float64 MLP and its own
  shard of every minibatch; every rank's parameters after k steps must agree with the other
  ranks' and with single-process SGD (mean loss) on the concatenated shards, computed here.
"""

import math
import re

import pytest
import torch

from grader.engine.compare import expect, expect_tensor, fail, sequence, tensor, translated
from grader.engine.plugin import Exercise, exercise
from grader.engine.words import say
from grader.i18n import _

COLLECTIVES = tuple(f"torch.distributed.{name}" for name in (
    "all_reduce", "reduce_scatter", "reduce_scatter_tensor", "all_gather",
    "all_gather_into_tensor", "broadcast", "reduce", "all_to_all", "all_to_all_single",
    "all_reduce_coalesced"))

EXERCISES = {
    "HybridNet": Exercise(points=2, seconds=40.0),
    "Benchmark": Exercise(points=2),
    "get_params": Exercise(points=1),
    "allreduce": Exercise(points=1),
    "split_batch": Exercise(points=1),
    "train_batch": Exercise(points=2),
    "ring_allreduce": Exercise(points=3),
    "ring_allreduce_": Exercise(points=2, forbid=COLLECTIVES, seconds=40.0),
    "train_ddp": Exercise(points=2, seconds=40.0),
}

TOL = {"atol": 1e-9, "rtol": 1e-7}


def _error(answer: object) -> str | None:
    return answer.get("error") if isinstance(answer, dict) else None


# --- HybridNet -----------------------------------------------------------------------------------


def _hybrid_run(ns, sizes, X, mode):
    """Build ``HybridNet(*sizes)`` in float64; run it eagerly, scripted or compiled."""
    net = ns["HybridNet"](*sizes)
    if not isinstance(net, torch.nn.Module):
        return {"error": f"HybridNet(...) built a {type(net).__name__}, not an nn.Module"}
    net = net.double().eval()
    params = [p.detach().clone() for p in net.parameters()]
    if mode == "script":
        try:
            model = torch.jit.script(net)
        except Exception as exc:  # noqa: BLE001 - reported to the student
            return {"error": f"torch.jit.script(net) raised {type(exc).__name__}: "
                             f"{str(exc)[:600]}"}
    elif mode == "compile":
        __import__("torch._dynamo")
        torch._dynamo.reset()
        model = torch.compile(net, fullgraph=True, backend="eager")
    else:
        model = net
    outputs = []
    for x in X:
        try:
            with torch.no_grad():
                outputs.append(model(x))
        except Exception as exc:  # noqa: BLE001 - reported to the student
            return {"error": f"{type(exc).__name__}: {str(exc)[:600]}", "params": params}
    return {"params": params, "outputs": outputs}


def _mlp(params, x):
    h = x
    for k in range(0, len(params), 2):
        h = h @ params[k].T + params[k + 1]
        if k + 2 < len(params):
            h = torch.relu(h)
    return h


def _check_hybrid(student, gen, mode, sizes, batches):
    n_in, hidden, n_out = sizes
    X = [torch.randn(b, n_in, generator=gen, dtype=torch.float64) for b in batches]
    how = {"eager": "net(X)", "script": "torch.jit.script(net)(X)",
           "compile": 'torch.compile(net, fullgraph=True, backend="eager")(X)'}[mode]
    what = (f"net = HybridNet({n_in}, {tuple(hidden)}, {n_out}).double(); {how} for X of shapes "
            f"{[tuple(x.shape) for x in X]}")
    got = student.scenario(_hybrid_run, [n_in, list(hidden), n_out], X, mode, what=what)
    problem = _error(got)
    if problem:
        hint = {"script": _("TorchScript needs typed attributes and code it can parse: keep the "
                            "layers in nn.Sequential or as attributes, annotate forward's "
                            "inputs, store no Python list of functions"),
                "compile": _("fullgraph=True refuses graph breaks: no .item(), print, or Python "
                             "if/while on tensor values inside forward")}.get(mode, "")
        fail(f"{what}: {problem}. {translated(hint)}")
    params = [tensor(p, "a parameter") for p in sequence(got.get("params"), what)]
    shapes = [tuple(p.shape) for p in params]
    sizes_in = [n_in, hidden[0], hidden[1]]
    sizes_out = [hidden[0], hidden[1], n_out]
    expected = [s for i, o in zip(sizes_in, sizes_out) for s in ((o, i), (o,))]
    expect(shapes == expected, f"{what}: the parameters, in registration order, have shapes "
           f"{shapes}; three nn.Linear layers give {expected}")
    outputs = sequence(got.get("outputs"), what)
    for x, out in zip(X, outputs):
        expect_tensor(out, _mlp(params, x), what=f"{how} for X of shape {tuple(x.shape)}",
                      inputs=what, hint=_("Linear → ReLU → Linear → ReLU → Linear, no ReLU at "
                                          "the end"), **TOL)


@exercise("HybridNet")
def test_hybridnet_eager(student, gen):
    _check_hybrid(student, gen, "eager", (10, (7, 5), 3), (4, 1))


@exercise("HybridNet")
def test_hybridnet_script(student, gen):
    _check_hybrid(student, gen, "script", (6, (8, 4), 2), (3,))


@exercise("HybridNet")
def test_hybridnet_compile_fullgraph(student, gen):
    _check_hybrid(student, gen, "compile", (5, (6, 4), 3), (3, 3))


# --- Benchmark -----------------------------------------------------------------------------------


def _benchmark_run(ns, description, before, inside, kind):
    """Time a block with ``Benchmark``; the fake device sleeps its queued work on synchronize."""
    import contextlib
    import io
    import time

    class AsyncDevice:
        def __init__(self):
            self.queued = 0.0
            self.waits = 0

        def synchronize(self):
            self.waits += 1
            time.sleep(self.queued)
            self.queued = 0.0

    device = AsyncDevice() if kind == "fake" else (None if kind == "none" else kind)
    if kind == "fake":
        device.queued = before
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if description is None:
            timer = ns["Benchmark"](device=device)
        else:
            timer = ns["Benchmark"](description, device=device)
        with timer as entered:
            if kind == "fake":
                device.queued += inside
    return {"printed": out.getvalue(), "same": entered is timer,
            "waits": device.waits if kind == "fake" else None}


LINE = re.compile(r"^(.*): (\d+\.\d{4}) sec$")


def _printed_time(got, description, what):
    printed = str(got.get("printed", "")) if isinstance(got, dict) else ""
    lines = [line for line in printed.splitlines() if line.strip()]
    expect(len(lines) == 1, f"{what}: printed {printed!r}; expected one line "
           f"'{description}: <seconds, 4 decimals> sec'")
    match = LINE.match(lines[0].strip())
    expect(match is not None and match.group(1) == description,
           f"{what}: printed {lines[0]!r}; expected f'{description}: {{seconds:.4f}} sec'")
    return float(match.group(2))


@exercise("Benchmark", weight=2)
def test_benchmark_waits_for_the_device(student):
    before, inside = 0.3, 0.2
    what = (f"Benchmark('async work', device=dev) around a block that queues {inside} s of work "
            f"on a fake asynchronous device that already had {before} s queued (queued work "
            "runs only when dev.synchronize() is called)")
    got = student.scenario(_benchmark_run, "async work", before, inside, "fake", what=what)
    seconds = _printed_time(got, "async work", what)
    expect(seconds >= inside - 0.01, f"{what}: measured {seconds:.4f} s, less than the block's "
           f"{inside} s of work: synchronise the device before stopping the clock in __exit__")
    expect(seconds <= inside + 0.25, f"{what}: measured {seconds:.4f} s, which includes the "
           f"{before} s queued before the block: synchronise the device in __enter__ before "
           "starting the clock")
    expect(got["same"], f"{what}: `with Benchmark(...) as t` must give the Benchmark itself "
           "(return self from __enter__)")


@exercise("Benchmark")
def test_benchmark_cpu_and_default(student):
    for description, kind in ((None, "none"), ("on the cpu", "cpu")):
        name = "Done" if description is None else description
        call = ("Benchmark()" if description is None
                else f"Benchmark({description!r}, device='cpu')")
        what = f"with {call}: an empty block"
        got = student.scenario(_benchmark_run, description, 0.0, 0.0, kind, what=what)
        seconds = _printed_time(got, name, what)
        expect(0 <= seconds < 0.5, f"{what}: measured {seconds:.4f} s for an empty block")


def _benchmark_cuda(ns):
    import contextlib
    import io

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(50_000_000)
    end.record()
    end.synchronize()
    reference = start.elapsed_time(end) / 1000
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        with ns["Benchmark"]("cuda", device=torch.device("cuda")):
            torch.cuda._sleep(50_000_000)
    return {"printed": out.getvalue(), "reference": reference}


@exercise("Benchmark")
@pytest.mark.gpu
def test_benchmark_on_cuda(student):
    what = "Benchmark('cuda', device=torch.device('cuda')) around a GPU kernel that spins"
    got = student.scenario(_benchmark_cuda, what=what)
    seconds = _printed_time(got, "cuda", what)
    expect(seconds >= 0.7 * got["reference"], f"{what}: measured {seconds:.4f} s; the kernel "
           f"takes {got['reference']:.4f} s: call torch.cuda.synchronize(device) before reading "
           "the clock")


# --- get_params, allreduce, split_batch ----------------------------------------------------------


def _get_params_run(ns, params, device):
    copies = [ns["get_params"](params, torch.device(device)) for _ in range(2)]
    if not all(isinstance(c, (list, tuple)) for c in copies):
        return {"kind": type(copies[0]).__name__}
    info = {"kind": "list", "copies": [], "lengths": [len(c) for c in copies]}
    for copy in copies:
        info["copies"].append([{
            "value": p.detach().clone() if isinstance(p, torch.Tensor) else None,
            "leaf": isinstance(p, torch.Tensor) and p.is_leaf,
            "grad": isinstance(p, torch.Tensor) and p.requires_grad,
            "device": str(p.device) if isinstance(p, torch.Tensor) else ""} for p in copy])
    before = [p.clone() for p in params]
    with torch.no_grad():
        for copy in copies[0]:
            if isinstance(copy, torch.Tensor):
                copy.add_(1.0)
    info["original_kept"] = all(bool((p == b).all()) for p, b in zip(params, before))
    info["copies_apart"] = all(bool((q == b).all()) for q, b in zip(copies[1], before)
                               if isinstance(q, torch.Tensor))
    return info


@exercise("get_params", weight=2)
def test_get_params_copies(student, gen, device):
    params = [torch.randn(3, 2, generator=gen, dtype=torch.float64).to(device),
              torch.randn(3, generator=gen, dtype=torch.float64).to(device),
              torch.randn(2, 4, generator=gen, dtype=torch.float64).to(device)]
    what = (f"get_params(params, {str(device)!r}) called twice, params of shapes "
            "[(3, 2), (3,), (2, 4)]")
    got = student.scenario(_get_params_run, params, str(device), what=what)
    expect(got.get("kind") == "list", f"{what}: returned a {got.get('kind')}, not a list")
    expect(got["lengths"] == [3, 3], f"{what}: returned {got['lengths'][0]} tensors, not 3")
    for entry, p in zip(got["copies"][0], params):
        expect_tensor(entry["value"], p, what=f"a copy of a parameter of shape {tuple(p.shape)}",
                      inputs=what, **TOL)
        expect(entry["device"].split(":")[0] == device.type,
               f"{what}: a copy is on {entry['device']}, not {device}")
        expect(entry["leaf"] and entry["grad"], f"{what}: each copy must be a leaf tensor with "
               "requires_grad=True (call p.requires_grad_() on the copy)")
    expect(got["original_kept"] and got["copies_apart"], f"{what}: changing one copy in place "
           "changed the original parameters or another copy: make a new tensor (clone) even "
           "when the parameter is already on the device")


def _allreduce_run(ns, data, devices):
    moved = [t.to(torch.device(d)) for t, d in zip(data, devices)]
    ids = [id(t) for t in moved]
    returned = ns["allreduce"](moved)
    return {"data": moved, "same": [id(t) for t in moved] == ids,
            "devices": [str(t.device) for t in moved], "returned": returned is None}


def _check_allreduce(student, gen, device, n, shape):
    data = [torch.randn(*shape, generator=gen, dtype=torch.float64) for _worker in range(n)]
    devices = [str(device)] * n
    what = (f"allreduce(data) with {n} tensors of shape {shape}, on the logical devices "
            f"{devices}")
    got = student.scenario(_allreduce_run, data, devices, what=what)
    total = torch.stack(data).sum(0)
    results = sequence(got.get("data"), what)
    expect(got["same"], f"{what}: the list must keep the same tensors (change them in place)")
    for i, t in enumerate(results):
        expect_tensor(t, total.to(device), what=f"data[{i}] after allreduce", inputs=what,
                      hint=_("every tensor becomes the sum of all of them (not the mean); write "
                             "it back into each tensor in place"), **TOL)


@exercise("allreduce", weight=2)
def test_allreduce_three(student, gen, device):
    _check_allreduce(student, gen, device, 3, (2, 3))


@exercise("allreduce")
def test_allreduce_four(student, gen, device):
    _check_allreduce(student, gen, device, 4, (5,))


def _split_run(ns, X, y, devices):
    out = ns["split_batch"](X, y, [torch.device(d) for d in devices])
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"error": f"split_batch returned a {type(out).__name__}, not (X_shards, y_shards)"}
    return {"X": list(out[0]), "y": list(out[1])}


def _check_split(student, gen, device, rows, n):
    X = torch.randn(rows, 2, 3, generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, 10, (rows,), generator=gen).to(device)
    devices = [str(device)] * n
    what = f"split_batch(X, y, devices) with X of shape {tuple(X.shape)}, y of shape ({rows},), " \
           f"{n} devices"
    got = student.scenario(_split_run, X, y, devices, what=what)
    if _error(got):
        fail(f"{what}: {_error(got)}")
    for key, full in (("X", X), ("y", y)):
        shards = sequence(got.get(key), what)
        expected = full.chunk(n)
        expect(len(shards) == len(expected), f"{what}: {len(shards)} {key} shards; "
               f"{key}.chunk({n}) gives {len(expected)} (sizes "
               f"{[len(e) for e in expected]}), as nn.parallel.scatter does")
        for i, (s, e) in enumerate(zip(shards, expected)):
            expect_tensor(s, e, what=f"{key}_shards[{i}]", inputs=what,
                          hint=say(_("consecutive rows: {key}.chunk(len(devices)) "
                                     "along dim 0")).format(key=key))


@exercise("split_batch", weight=2)
def test_split_batch_even(student, gen, device):
    _check_split(student, gen, device, 6, 3)


@exercise("split_batch")
def test_split_batch_uneven(student, gen, device):
    _check_split(student, gen, device, 10, 4)


# --- train_batch ---------------------------------------------------------------------------------


def _train_batch_run(ns, X, y, params, devices, lr):
    """``train_batch`` with the grader's helpers: a two-layer MLP stands in for LeNet."""
    def net(X, params):
        hidden = torch.relu(X.reshape(X.shape[0], -1) @ params[0] + params[1])
        return hidden @ params[2] + params[3]

    def step(params, lr, batch_size):
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad / batch_size)
                p.grad.zero_()

    def reduce_all(data):
        total = sum(t.to(data[0].device) for t in data)
        for t in data:
            t.copy_(total.to(t.device))

    def scatter(X, y, devices):
        return ([a.to(d) for a, d in zip(X.chunk(len(devices)), devices)],
                [b.to(d) for b, d in zip(y.chunk(len(devices)), devices)])

    devs = [torch.device(d) for d in devices]
    copies = []
    for d in devs:
        copies.append([p.detach().to(d).clone().requires_grad_(True) for p in params])
    swaps = {"lenet": net, "loss": torch.nn.CrossEntropyLoss(reduction="none"), "sgd": step,
             "allreduce": reduce_all, "split_batch": scatter}
    with objects.Swap(ns, swaps):  # noqa: F821
        ns["train_batch"](X, y, copies, devs, lr)
    return {"params": [[p.detach().clone() for p in c] for c in copies],
            "grads": [[None if p.grad is None else p.grad.clone() for p in c] for c in copies]}


def _single_step(X, y, params, lr):
    ps = [p.clone().requires_grad_(True) for p in params]
    hidden = torch.relu(X.reshape(X.shape[0], -1) @ ps[0] + ps[1])
    out = hidden @ ps[2] + ps[3]
    torch.nn.functional.cross_entropy(out, y, reduction="sum").backward()
    return [(p - lr * p.grad / X.shape[0]).detach() for p in ps]


def _check_train_batch(student, gen, device, rows, n, lr):
    X = torch.randn(rows, 1, 2, 3, generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, 4, (rows,), generator=gen).to(device)
    params = [torch.randn(6, 5, generator=gen, dtype=torch.float64).to(device),
              torch.randn(5, generator=gen, dtype=torch.float64).to(device),
              torch.randn(5, 4, generator=gen, dtype=torch.float64).to(device),
              torch.randn(4, generator=gen, dtype=torch.float64).to(device)]
    devices = [str(device)] * n
    what = (f"train_batch(X, y, device_params, devices, lr={lr}) with X of shape "
            f"{tuple(X.shape)}, {n} logical devices, the grader's lenet (a small MLP), loss, "
            "sgd, split_batch and allreduce")
    got = student.scenario(_train_batch_run, X, y, params, devices, lr, what=what)
    expected = _single_step(X, y, params, lr)
    copies = sequence(got.get("params"), what)
    for c, copy in enumerate(copies):
        for i, (p, e) in enumerate(zip(copy, expected)):
            expect_tensor(p, e, what=f"device_params[{c}][{i}] after the step", inputs=what,
                          hint=_("sum the losses per shard, allreduce every parameter's "
                                 "gradients, and call sgd(params, lr, X.shape[0]) with the whole "
                                 "batch size on every device"), **TOL)


@exercise("train_batch", weight=2)
def test_train_batch_three_devices(student, gen, device):
    _check_train_batch(student, gen, device, 9, 3, 0.5)


@exercise("train_batch")
def test_train_batch_uneven_shards(student, gen, device):
    _check_train_batch(student, gen, device, 5, 2, 0.3)


@exercise("train_batch")
@pytest.mark.gpu
def test_train_batch_on_cuda_devices(student, gen):
    _check_train_batch(student, gen, torch.device("cuda"), 8, max(2, torch.cuda.device_count()),
                       0.5)


# --- ring allreduce with counted messages --------------------------------------------------------


def _ring_run(ns, data):
    log = []

    def send(src, dst, chunk):
        if not isinstance(chunk, torch.Tensor):
            raise TypeError(f"send(src, dst, chunk) got a {type(chunk).__name__} as chunk")
        log.append([int(src), int(dst), chunk.numel()])
        return chunk.detach().clone()

    moved = [t.clone() for t in data]
    ids = [id(t) for t in moved]
    returned = ns["ring_allreduce"](moved, send)
    return {"data": moved, "log": log, "same": [id(t) for t in moved] == ids,
            "returned": returned is None}


def _check_ring(student, gen, n, shape, exact):
    data = [torch.randn(*shape, generator=gen, dtype=torch.float64) for _worker in range(n)]
    numel = math.prod(shape)
    what = f"ring_allreduce(data, send) with {n} workers holding tensors of shape {shape}"
    got = student.scenario(_ring_run, data, what=what)
    total = torch.stack(data).sum(0)
    expect(got["same"], f"{what}: change the workers' tensors in place")
    for i, t in enumerate(sequence(got.get("data"), what)):
        expect_tensor(t, total, what=f"data[{i}] afterwards", inputs=what,
                      hint=_("n - 1 reduce-scatter steps (add) then n - 1 all-gather steps "
                             "(replace), each worker sending one chunk to (i + 1) % n per step"),
                      **TOL)
    log = [list(m) for m in got["log"]]
    wrong = [m for m in log if m[1] != (m[0] + 1) % n]
    expect(not wrong, f"{what}: worker {wrong[0][0] if wrong else 0} sent a message to worker "
           f"{wrong[0][1] if wrong else 0}; in a ring every worker sends only to its right "
           "neighbour (i + 1) % n")
    largest = math.ceil(numel / n)
    big = [m for m in log if m[2] > largest]
    expect(not big, f"{what}: a message carried {big[0][2] if big else 0} values; a chunk has "
           f"at most ceil({numel} / {n}) = {largest}")
    for worker in range(n):
        mine = [m for m in log if m[0] == worker]
        expect(len(mine) == 2 * (n - 1), f"{what}: worker {worker} sent {len(mine)} messages; "
               f"a ring allreduce sends 2 (n - 1) = {2 * (n - 1)} per worker")
        if exact:
            sent = sum(m[2] for m in mine)
            expect(sent == 2 * (n - 1) * numel // n, f"{what}: worker {worker} sent {sent} "
                   f"values; expected 2 (n - 1) / n × {numel} = {2 * (n - 1) * numel // n}")


@exercise("ring_allreduce", weight=2)
def test_ring_allreduce_four_workers(student, gen):
    _check_ring(student, gen, 4, (3, 4), exact=True)


@exercise("ring_allreduce")
def test_ring_allreduce_uneven_chunks(student, gen):
    _check_ring(student, gen, 3, (7,), exact=False)


@exercise("ring_allreduce")
def test_ring_allreduce_two_workers(student, gen):
    _check_ring(student, gen, 2, (2, 3), exact=True)


# --- ring allreduce on gloo ranks ----------------------------------------------------------------


def _ranks_run(ns, tensors, seconds):
    def target(rank, world_size, tensors):
        mine = tensors[rank].clone()
        out = ns["ring_allreduce_"](mine)
        return {"value": mine, "same": out is mine}

    try:
        results = objects.run_ranks(len(tensors), target, (tensors,), seconds)  # noqa: F821
    except objects.RankFailure as exc:  # noqa: F821
        return {"error": str(exc)}
    return {"results": results}


def _check_ranks(student, gen, world, shape):
    tensors = [torch.randn(*shape, generator=gen, dtype=torch.float64) for _rank in range(world)]
    what = (f"ring_allreduce_(tensor) on {world} gloo ranks, each with its own tensor of shape "
            f"{shape}")
    got = student.scenario(_ranks_run, tensors, 20.0, what=what)
    if _error(got) and "NotImplementedError" in _error(got):
        fail(f"{what}: {_error(got)}: the exercise is not implemented yet")
    if _error(got):
        fail(f"{what}: {_error(got)}. Post each send with dist.isend, then dist.recv, then "
             "wait() for the send, so that no rank waits for a neighbour that is also sending")
    total = torch.stack(tensors).sum(0)
    for rank, result in enumerate(sequence(got.get("results"), what)):
        expect_tensor(result.get("value") if isinstance(result, dict) else result, total,
                      what=f"rank {rank}'s tensor afterwards (dist.all_reduce's sum)",
                      inputs=what, hint=_("reduce-scatter then all-gather, n - 1 steps each, "
                                          "changing the tensor in place"), **TOL)
        expect(result.get("same"), f"{what}: rank {rank}: return the tensor you were given")


@exercise("ring_allreduce_")
def test_ring_allreduce_dist_two_ranks(student, gen):
    _check_ranks(student, gen, 2, (4,))


@exercise("ring_allreduce_")
def test_ring_allreduce_dist_three_ranks_uneven(student, gen):
    _check_ranks(student, gen, 3, (2, 4))


@exercise("ring_allreduce_")
def test_ring_allreduce_dist_four_ranks(student, gen):
    _check_ranks(student, gen, 4, (8,))


# --- DistributedDataParallel on gloo ranks -------------------------------------------------------


def _ddp_run(ns, sizes, state, shards, loss_kind, lr, seconds):
    """Every rank builds the same float64 MLP, loads ``state`` and calls ``train_ddp`` with its
    own shards; each answers with its network's parameters and what ``train_ddp`` returned."""
    def target(rank, world_size, sizes, state, shards, loss_kind, lr):
        layers = []
        for k in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
            if k + 2 < len(sizes):
                layers.append(torch.nn.ReLU())
        net = torch.nn.Sequential(*layers).double()
        net.load_state_dict(state)
        loss = torch.nn.CrossEntropyLoss() if loss_kind == "cross-entropy" else torch.nn.MSELoss()
        batches = [(X.clone(), y.clone()) for X, y in shards[rank]]
        out = ns["train_ddp"](net, batches, loss, lr)
        ddp = torch.nn.parallel.DistributedDataParallel
        return {"params": [p.detach().clone() for p in net.parameters()],
                "kind": type(out).__name__, "ddp": isinstance(out, ddp),
                "wraps": isinstance(out, ddp) and out.module is net}

    try:
        results = objects.run_ranks(len(shards), target,  # noqa: F821
                                    (sizes, state, shards, loss_kind, lr), seconds)
    except objects.RankFailure as exc:  # noqa: F821
        return {"error": str(exc)}
    return {"results": results}


def _mlp_net(sizes):
    layers = []
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).double()


def _single_process_sgd(sizes, state, shards, loss_kind, lr):
    """Plain SGD in one process on the concatenation of every rank's shard of each step."""
    net = _mlp_net(sizes)
    net.load_state_dict(state)
    loss = (torch.nn.functional.cross_entropy if loss_kind == "cross-entropy"
            else torch.nn.functional.mse_loss)
    for step in range(len(shards[0])):
        X = torch.cat([rank[step][0] for rank in shards])
        y = torch.cat([rank[step][1] for rank in shards])
        net.zero_grad()
        loss(net(X), y).backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    return [p.detach().clone() for p in net.parameters()]


def _check_ddp(student, gen, world, sizes, rows, steps, loss_kind, lr):
    net = _mlp_net(sizes)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    shards = []
    for _rank in range(world):
        mine = []
        for _step in range(steps):
            X = torch.randn(rows, sizes[0], generator=gen, dtype=torch.float64)
            if loss_kind == "cross-entropy":
                y = torch.randint(0, sizes[-1], (rows,), generator=gen)
            else:
                y = torch.randn(rows, sizes[-1], generator=gen, dtype=torch.float64)
            mine.append([X, y])
        shards.append(mine)
    what = (f"train_ddp(net, batches, {loss_kind} loss (mean), lr={lr}) on {world} gloo ranks: "
            f"the same MLP {'-'.join(map(str, sizes))} (float64) in every rank, {steps} steps "
            f"of {rows} rows per rank")
    got = student.scenario(_ddp_run, list(sizes), state, shards, loss_kind, lr, 20.0, what=what)
    if _error(got) and "NotImplementedError" in _error(got):
        fail(f"{what}: {_error(got)}: the exercise is not implemented yet")
    if _error(got):
        fail(f"{what}: {_error(got)}")
    results = sequence(got.get("results"), what)
    expected = _single_process_sgd(sizes, state, shards, loss_kind, lr)
    names = [name for name, _param in net.named_parameters()]
    params = []
    for rank, result in enumerate(results):
        expect(isinstance(result, dict), f"{what}: rank {rank} answered nothing")
        params.append([tensor(p, "a parameter") for p in sequence(result.get("params"), what)])
    for rank in range(1, len(params)):
        for name, mine, first in zip(names, params[rank], params[0]):
            expect_tensor(mine, first, what=f"rank {rank}'s {name} against rank 0's",
                          inputs=what, hint=_("the ranks drifted apart: train through the "
                                              "DistributedDataParallel model (model(X), not "
                                              "net(X)), whose backward() averages the gradients "
                                              "over the ranks"), **TOL)
    for name, mine, e in zip(names, params[0], expected):
        expect_tensor(mine, e, what=f"every rank's {name} after {steps} steps (single-process "
                      "SGD on the concatenated shards)", inputs=what,
                      hint=_("per step: zero the gradients, loss(model(X), y).backward() with "
                             "the mean loss as given (DDP already averages over the ranks), then "
                             "param -= lr * param.grad"), **TOL)
    for rank, result in enumerate(results):
        expect(result.get("wraps"), f"{what}: rank {rank}'s train_ddp returned a "
               f"{result.get('kind')}; return the DistributedDataParallel model that wraps net "
               "itself (model.module is net)")


@exercise("train_ddp", weight=2)
def test_train_ddp_two_ranks(student, gen):
    _check_ddp(student, gen, 2, (5, 6, 3), 4, 3, "cross-entropy", 0.5)


@exercise("train_ddp")
def test_train_ddp_three_ranks_mse(student, gen):
    _check_ddp(student, gen, 3, (4, 5, 4, 2), 2, 2, "mse", 0.3)
