"""Multi-process exercises: run a function on several ranks of a ``torch.distributed`` gloo
group inside one sandbox.

``run_ranks(world_size, target, args, seconds)`` forks ``world_size`` processes from the
sandbox (so each has the student's notebook loaded), joins them into a gloo process group whose
rendezvous is a file in the sandbox's own ``/tmp`` and whose traffic stays on the loopback
interface of the sandbox's own network namespace, calls ``target(rank, world_size, *args)`` in
each, and returns their results in rank order. Every rank is killed and reaped before it
returns, whatever happened: the ranks count against the sandbox's process bound and CPU budget
like any process the submission starts, and they end with the sandbox.

What the from-scratch observers saw in a rank (a forbidden collective called by the student's
code) is added to the request's own record, so a rank cannot hide a violation by exiting.
"""

from __future__ import annotations

import datetime
import io
import os
import select
import shutil
import signal
import tempfile
import time

from . import fromscratch, protocol
from .export import describe_exception
from .fromscratch import trusted

MAX_RANKS = 8


class RankFailure(RuntimeError):
    """A rank crashed, raised, never joined the group or did not finish in time."""


def _rank(rank: int, world_size: int, store: str, seconds: float, target, args, out: int) -> None:
    """In the forked rank: join the group, run ``target``, send the outcome, exit."""
    stream = os.fdopen(out, "wb", buffering=0)
    with trusted():
        import torch.distributed as dist
    try:
        with trusted():
            os.environ["GLOO_SOCKET_IFNAME"] = "lo"
            dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                                    world_size=world_size,
                                    timeout=datetime.timedelta(seconds=seconds))
        result = target(rank, world_size, *args)
        message = {"ok": True, "result": result}
    except BaseException as exc:  # noqa: BLE001 - reported as this rank's failure
        message = {"ok": False, "error": describe_exception(exc)}
    watch = fromscratch._TRUST.watch
    if watch is not None:
        message["seen"] = [*watch.found, *watch.operator_hits]
    try:
        protocol.write_frame(stream, message)
    except Exception as exc:  # noqa: BLE001 - e.g. a result torch.save cannot write
        protocol.write_frame(stream, {"ok": False, "error": describe_exception(exc)})
    # Stay in the group until every rank is done, as a real job does: a rank that left early
    # would break its neighbours' pending receives.
    try:
        with trusted():
            dist.barrier()
    except BaseException:  # noqa: BLE001 - the parent kills a rank stuck here
        pass
    stream.close()
    os._exit(0)


def _complete(data: bytearray) -> bool:
    """Whether ``data`` holds a whole frame."""
    return (len(data) >= protocol.HEADER.size
            and len(data) >= protocol.HEADER.size + protocol.HEADER.unpack_from(data)[0])


def _decode(data: bytes) -> dict | None:
    if not data:
        return None
    try:
        return protocol.read_frame(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a rank that wrote garbage on its pipe answered nothing
        return None


def run_ranks(world_size: int, target, args: tuple | list = (), seconds: float = 30.0) -> list:
    """Run ``target(rank, world_size, *args)`` on ``world_size`` gloo ranks; their results in
    rank order.

    Raises ``RankFailure`` naming the rank when one raises (with its exception), exits without
    an answer (crashed or killed), or has not answered after ``seconds`` of wall-clock time —
    a rank that never joins the group, or waits for a message that never comes; the others are
    killed then. At most ``MAX_RANKS`` ranks.
    """
    if not 1 <= world_size <= MAX_RANKS:
        raise ValueError(f"world_size must be between 1 and {MAX_RANKS}, not {world_size}")
    with trusted():
        folder = tempfile.mkdtemp(prefix="ranks-")
    store = os.path.join(folder, "store")
    pids: dict[int, int] = {}
    pipes: dict[int, int] = {}
    outcomes: dict[int, dict | None] = {}
    try:
        for rank in range(world_size):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                for fd in pipes.values():
                    os.close(fd)
                try:
                    _rank(rank, world_size, store, seconds, target, args, write_end)
                finally:
                    os._exit(70)
            os.close(write_end)
            pids[rank], pipes[rank] = pid, read_end
        deadline = time.monotonic() + seconds
        received = {rank: bytearray() for rank in pipes}
        while len(outcomes) < world_size:
            waiting = {fd: rank for rank, fd in pipes.items() if rank not in outcomes}
            left = deadline - time.monotonic()
            ready = select.select(list(waiting), [], [], left)[0] if left > 0 else []
            if not ready:
                late = sorted(waiting.values())
                raise RankFailure(
                    f"rank{'s' if len(late) > 1 else ''} {', '.join(map(str, late))} of "
                    f"{world_size} did not finish within {seconds:g} s: a rank that never joins "
                    "the group, or waits for a message that is never sent, blocks the others")
            for fd in ready:
                rank = waiting[fd]
                chunk = os.read(fd, 1 << 20)
                received[rank] += chunk
                if not chunk or _complete(received[rank]):
                    outcomes[rank] = _decode(bytes(received[rank]))
    finally:
        for pid in pids.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        codes = {}
        for rank, pid in pids.items():
            try:
                codes[rank] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            except ChildProcessError:
                codes[rank] = None
        for fd in pipes.values():
            os.close(fd)
        with trusted():
            shutil.rmtree(folder, ignore_errors=True)
    watch = fromscratch._TRUST.watch
    results = []
    for rank in range(world_size):
        outcome = outcomes.get(rank)
        if watch is not None and outcome:
            for name in outcome.get("seen", []):
                watch.found[str(name)] = None
        if outcome is None:
            code = codes.get(rank)
            how = f"was killed by signal {-code}" if code is not None and code < 0 else \
                f"exited with status {code}"
            raise RankFailure(f"rank {rank} of {world_size} {how} before it answered")
        if not outcome.get("ok"):
            error = outcome.get("error") or {}
            raise RankFailure(f"rank {rank} of {world_size} raised {error.get('type')}: "
                              f"{error.get('message')}")
        results.append(outcome.get("result"))
    return results
