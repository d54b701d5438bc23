"""grade-all's workers share one sandbox fork server, started by the batch's own process: each
worker has its own connection, gets sandboxes as isolated as its own server would give, and
what a worker started ends when the worker hangs up."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from grader.course import COURSE
from grader.engine import sandbox as engine_sandbox
from grader.engine.options import Limits, Options
from grader.engine.sandbox import ForkServer, Sandbox, SharedServer, fork_server, share_fork_server

FAST = Limits(load_seconds=8, call_seconds=4, memory_bytes=2 * 2**30, output_bytes=2**20)
pytestmark = pytest.mark.xdist_group("sandbox")
CELL = "def twice(x):\n    return 2 * x\n"


def _grade_in_worker(connector, results) -> None:
    share_fork_server(COURSE, True, connector)
    server = fork_server(COURSE, True)
    with Sandbox([("1", CELL)], "ch03", COURSE, Options(limits=FAST)) as box:
        answer = box.run({"op": "call", "name": "twice", "args": [21]}, "twice(21)")
        results.put({"kind": type(server).__name__, "value": answer.data["result"],
                     "root": box.isolation["root"], "base": server.base})


def test_workers_grade_in_the_shared_server_with_the_same_isolation():
    server = ForkServer(True, COURSE)
    try:
        own = server.describe()
        context = multiprocessing.get_context("forkserver")
        results = context.Queue()
        connector = server.connection()
        workers = [context.Process(target=_grade_in_worker, args=(connector, results))
                   for _ in range(2)]
        for worker in workers:
            worker.start()
        answers = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        connector.close()
    finally:
        server.close()
    assert [a["kind"] for a in answers] == ["SharedServer", "SharedServer"]
    assert [a["value"] for a in answers] == [42, 42]
    assert {a["root"] for a in answers} == {own["root"]}
    assert {a["base"] for a in answers} == {server.base}


def test_a_client_that_hangs_up_takes_its_sandboxes_with_it(monkeypatch):
    server = ForkServer(True, COURSE)
    key = (True, COURSE)
    monkeypatch.delitem(engine_sandbox._SERVERS, key, raising=False)
    try:
        share_fork_server(COURSE, True, server.connection())
        client = engine_sandbox._SERVERS[key]
        assert isinstance(client, SharedServer) and server.alive()
        box = Sandbox([("1", CELL)], "ch03", COURSE, Options(limits=FAST))
        box.ensure()
        pid = box.pid
        assert server.usage(pid) is not None  # the server watches it, whoever asked
        client.close()
        deadline = time.monotonic() + 10
        while server.usage(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.usage(pid) is None
        assert server.alive()  # a client hanging up does not stop the server
        box.pid = None
        box.close()
    finally:
        engine_sandbox._SERVERS.pop(key, None)
        server.close()
    assert not os.path.exists(server.base)
