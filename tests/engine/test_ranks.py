"""Multi-process exercises: gloo ranks inside one sandbox (``objects.run_ranks``), and what a
submission's ranks cannot do: hang the grader, outgrow the sandbox's process bound, reach the
grader or the host, or hide a forbidden collective."""

from __future__ import annotations

import os
import socket
import tempfile
import textwrap

import pytest

from grader.course import COURSE
from grader.engine.options import Limits, Options
from grader.engine.sandbox import Sandbox, SandboxDied

FAST = Limits(load_seconds=8, call_seconds=20, memory_bytes=2 * 2**30, output_bytes=2**20)
pytestmark = pytest.mark.xdist_group("sandbox")

RING = """
import torch
import torch.distributed as dist

def ring_allreduce_(tensor):
    rank, n = dist.get_rank(), dist.get_world_size()
    chunks = list(tensor.chunk(n))
    right, left = (rank + 1) % n, (rank - 1) % n
    for step in range(n - 1):
        send, recv = (rank - step) % n, (rank - step - 1) % n
        incoming = torch.empty_like(chunks[recv])
        request = dist.isend(chunks[send].clone(), right)
        dist.recv(incoming, left)
        request.wait()
        chunks[recv] += incoming
    for step in range(n - 1):
        send, recv = (rank + 1 - step) % n, (rank - step) % n
        incoming = torch.empty_like(chunks[recv])
        request = dist.isend(chunks[send].clone(), right)
        dist.recv(incoming, left)
        request.wait()
        chunks[recv].copy_(incoming)
    return tensor

def lazy_allreduce_(tensor):
    dist.all_reduce(tensor)
    return tensor

def waits_for_nobody(tensor):
    if dist.get_rank() == 0:
        dist.recv(tensor, 1)
    return tensor

def never_joins(tensor):
    import time
    if dist.get_rank() == 1:
        time.sleep(600)
    dist.all_reduce(tensor)
    return tensor

def forks(tensor):
    import os, time
    for _ in range(60):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    return tensor

def reach(addresses):
    import socket
    out = []
    for family, address in addresses:
        s = socket.socket(getattr(socket, family), socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(tuple(address) if isinstance(address, list) else address)
            out.append("connected")
        except OSError as exc:
            out.append(type(exc).__name__)
        finally:
            s.close()
    return out
"""

SCENARIO = """
def scenario(ns, name, world_size, seconds, extra):
    def target(rank, world, name, extra):
        value = torch.arange(12, dtype=torch.float64) * (rank + 1)
        if extra is not None:
            return ns[name](extra)
        return ns[name](value)

    try:
        return {"ok": objects.run_ranks(world_size, target, (name, extra), seconds)}
    except objects.RankFailure as exc:
        return {"failed": str(exc)}
"""


def _box() -> Sandbox:
    return Sandbox([("1", textwrap.dedent(RING))], "ch03", COURSE, Options(limits=FAST))


def _scenario(box: Sandbox, name: str, world_size: int, seconds: float = 20.0, extra=None,
              forbid=()):
    request = {"op": "scenario", "name": name, "source": SCENARIO,
               "args": [name, world_size, seconds, extra], "forbid": list(forbid)}
    answer = box.run(request, f"{name} on {world_size} ranks")
    return answer.data["result"], answer.data.get("violations", [])


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_a_ring_allreduce_runs_on_gloo_ranks_in_the_sandbox(world_size):
    with _box() as box:
        result, _ = _scenario(box, "ring_allreduce_", world_size)
    total = sum(r + 1 for r in range(world_size))
    assert "ok" in result, result
    for tensor in result["ok"]:
        assert tensor.tolist() == [float(i * total) for i in range(12)]


def test_a_rank_that_waits_forever_is_stopped_and_named():
    with _box() as box:
        result, _ = _scenario(box, "waits_for_nobody", 2, seconds=3)
        assert "rank 0 of 2 did not finish within 3 s" in result["failed"], result
        result, _ = _scenario(box, "never_joins", 3, seconds=3)
        assert "ranks 0, 1, 2 of 3 did not finish within 3 s" in result["failed"], result
        again, _ = _scenario(box, "ring_allreduce_", 2)  # the sandbox is still usable
    assert "ok" in again


def test_a_rank_that_forks_more_processes_meets_the_sandboxs_bound():
    with _box() as box:
        try:
            result, _ = _scenario(box, "forks", 2, seconds=10)
        except SandboxDied as death:
            assert "process" in str(death) or "tasks" in str(death), death
        else:
            assert "failed" in result, result


def test_ranks_reach_neither_the_host_nor_the_grader():
    listeners, addresses = [], []
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    listeners.append(tcp)
    addresses.append(["AF_INET", list(tcp.getsockname())])
    path = os.path.join(tempfile.mkdtemp(prefix="d2l-rank-"), "grader.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(path)
    unix.listen()
    listeners.append(unix)
    addresses.append(["AF_UNIX", path])
    for listener in listeners:
        listener.setblocking(False)
    with _box() as box:
        result, _ = _scenario(box, "reach", 2, extra=addresses)
        private = box.isolation["namespaces"].find("net") >= 0
    for listener in listeners:
        with pytest.raises(BlockingIOError):
            listener.accept()
        listener.close()
    if private:
        assert all(outcome != "connected" for rank in result["ok"] for outcome in rank), result


def test_a_forbidden_collective_in_a_rank_is_seen():
    with _box() as box:
        result, violations = _scenario(box, "lazy_allreduce_", 2, forbid=["allreduce_"])
    assert "ok" in result
    assert violations, "the forbidden collective called in a rank was not reported"
