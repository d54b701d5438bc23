"""The fork server's watch over its sandboxes: CPU time, number of tasks, CPU share.

A sandbox is the process tree below the process the server forked (the init of the sandbox's
PID namespace, where there is one: then every process of the sandbox, orphans included, is in
that tree, and killing the init kills them all). Its CPU time is the user and system time of
every task in the tree, with what finished children left to their parents, read from
``/proc`` of the server's PID namespace.
``Watch.tick`` runs several times a second: it kills a sandbox that runs more tasks than its
limit, and stops (``SIGSTOP``) a sandbox that used more than its share of the CPU until its
credit is back, so that a submission cannot starve another one graded at the same time.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The children of ``pid`` (every thread's), or [] when it is gone."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children(current))
    return found


def _stat(pid: int) -> tuple[float, int, bool] | None:
    """CPU seconds (own and reaped children's), threads, and whether it still runs."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / TICKS, int(fields[17]), fields[0] not in "ZX"


@dataclass
class Usage:
    """One look at a sandbox: its CPU seconds so far, live tasks, and process ids."""

    cpu: float
    tasks: int
    pids: list[int]


def usage(root: int) -> Usage:
    """The usage of ``root`` and the tree below it."""
    cpu, tasks, pids = 0.0, 0, []
    for pid in tree(root):
        seen = _stat(pid)
        if seen is None:
            continue
        cpu += seen[0]
        if seen[2]:
            tasks += seen[1]
            pids.append(pid)
    return Usage(cpu, tasks, pids)


def signal_all(pids: list[int], sig: int) -> None:
    """Send ``sig`` to each of ``pids`` that still exists."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Box:
    """What the server remembers of one live sandbox."""

    pid: int
    init: bool  # the init of its own PID namespace: killing it kills the sandbox
    tasks: int
    cpu: float = 0.0
    at: float = 0.0
    credit: float = 0.0
    stopped: bool = False
    reason: str | None = None


class Watch:
    """Tasks limit and CPU share of every live sandbox (``share`` cores, ``burst`` seconds)."""

    def __init__(self, share: float, burst: float):
        self.share = share
        self.burst = burst
        self.boxes: dict[int, Box] = {}

    def add(self, pid: int, init: bool, tasks: int) -> None:
        """Watch the sandbox forked as ``pid``."""
        self.boxes[pid] = Box(pid, init, tasks, at=time.monotonic(), credit=self.burst)

    def look(self, pid: int) -> dict:
        """The sandbox's usage for the grader: CPU seconds, tasks, whether it is stopped."""
        box = self.boxes.get(pid)
        if box is None:
            return {"cpu": None}
        seen = self._update(box)
        return {"cpu": seen.cpu, "tasks": seen.tasks, "stopped": box.stopped}

    def tick(self) -> None:
        """Enforce the limits of every live sandbox once."""
        for box in list(self.boxes.values()):
            self._update(box)

    def _update(self, box: Box) -> Usage:
        seen = usage(box.pid)
        now = time.monotonic()
        if box.reason is None and seen.tasks > box.tasks:
            box.reason = (f"it ran more than {box.tasks} processes or threads at once "
                          "(the sandbox's limit)")
            kill(box)
            return seen
        box.credit = min(self.burst, box.credit + self.share * (now - box.at))
        box.credit -= max(0.0, seen.cpu - box.cpu)
        box.cpu, box.at = seen.cpu, now
        if box.credit < 0 and not box.stopped:
            box.stopped = True
            signal_all(seen.pids, signal.SIGSTOP)
        elif box.credit >= 0 and box.stopped:
            box.stopped = False
            signal_all(seen.pids, signal.SIGCONT)
        return seen


def kill(box: Box) -> None:
    """Kill the sandbox: its PID namespace's init takes every process with it; without a PID
    namespace, every process of its tree, stopped first so that none forks in between."""
    if box.init:
        signal_all([box.pid], signal.SIGKILL)
        return
    for _ in range(20):
        pids = tree(box.pid)
        live = [p for p in pids if (_stat(p) or (0, 0, False))[2]]
        if not live:
            return
        signal_all(live, signal.SIGSTOP)
        signal_all(live, signal.SIGKILL)
