"""The fork server and the request loop of one sandbox.

``main`` runs in a clean interpreter started by the grader (see ``boot.py``): it imports torch
once, then forks a sandbox per ``spawn`` request on its control socket. Each sandbox seals itself
(``seal``) before it reads the first request; no student code ever runs in the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

import torch

from . import calls, loading, protocol, seal

OPS = {**calls.OPS}


def serve(config: dict) -> None:
    """Seal this process, then answer the grader's requests until it closes the pipe."""
    requests = os.fdopen(config["fd_in"], "rb", buffering=0)
    answers = os.fdopen(config["fd_out"], "wb", buffering=0)
    held = seal.seal(config)
    protocol.write_frame(answers, {"ok": True, "ready": True, "isolation": held})
    while True:
        request = protocol.read_frame(requests)
        if request is None:
            return
        if request["op"] == "load":
            answer = loading.op_load(request, config["scratch"])
            answer["isolation"] = held
        else:
            answer = OPS[request["op"]](request)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            protocol.write_frame(answers, answer)
        except Exception as exc:  # noqa: BLE001 - an unexportable answer is the student's error
            protocol.write_frame(answers, {
                "ok": False, "error": {"type": "ExportError", "message": str(exc), "where": []},
                "violations": answer.get("violations", [])})


def _end(pid: int, live: set[int]) -> int | None:
    """Kill a sandbox's process group, wait for it, return its exit code (negative: signal)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        code = None
    live.discard(pid)
    everything = not live and os.getpid() == 1
    if everything:
        # As the PID namespace's init, clear whatever a submission left behind (daemons).
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            if os.waitpid(-1, 0 if everything else os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    return code


def main(config: dict) -> None:
    """Keep torch imported and fork a fresh sandbox per request; no student code runs here."""
    torch.set_num_threads(1)
    control = socket.socket(fileno=config["control_fd"])
    control.sendall(json.dumps({"ready": True}).encode())
    live: set[int] = set()
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 22, 3)
        except OSError:
            data = b""
        if not data:
            for pid in list(live):
                _end(pid, live)
            return
        request = json.loads(data)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                control.close()
                os.setsid()
                fd_in, fd_out, log = fds
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.close(log)
                try:
                    serve({**request["config"], "fd_in": fd_in, "fd_out": fd_out})
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            live.add(pid)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif request["op"] == "end":
            code = _end(request["pid"], live) if request["pid"] in live else None
            control.sendall(json.dumps({"code": code}).encode())


