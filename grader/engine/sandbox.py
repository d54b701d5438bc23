"""The grader's side of the sandbox: start, talk to, and kill the process that runs student code.

Student code never runs in the grader's process. ``Sandbox`` forks a process from a clean
interpreter (the fork server, ``child/server.py``) with its own scratch folder, under resource
limits and, as far as the kernel allows, in namespaces of its own (user, PID, IPC, mount: a
private root holding only ``view.sandbox_view``, with its own /tmp, /dev/shm and /proc; the
fork server's network namespace has no interface but loopback), with Landlock as a second layer
over the same view. Requests and answers are ``torch.save`` frames read back with
``torch.load(weights_only=True)``: nothing the child sends can run code here.

Budgets are the sandbox's own CPU seconds (every process it started), read by the fork server
from ``/proc``; a wall-clock backstop of ``WALL_FACTOR`` times the budget catches waiting
forever. The fork server also bounds the tasks a sandbox runs at once and its share of the CPU.

When the child hangs, crashes, exceeds a limit or exits, the call raises ``SandboxDied`` (a
``StudentFault``) with a message for the student; the next call starts a fresh child and loads
the submission again, so one bad exercise does not cost the others.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader.engine.boundary import admit
from grader.engine.child import protocol
from grader.engine.options import Course, Limits, Options
from grader.engine.view import sandbox_sys_path, sandbox_view
from grader.engine.words import say

CHILD = Path(__file__).with_name("child")
CHILD_PACKAGE = "_d2l_sandbox"
WALL_FACTOR = 5
POLL_SECONDS = 0.2
CPU_SHARE = 1.0
CPU_BURST = 1.0


class StudentFault(Exception):
    """Something the student's code did (raised, timed out, crashed); the message is for them."""


class SandboxDied(StudentFault):
    """The child process ended or was killed during a request."""


class Missing(StudentFault):
    """The exercise's name is not defined by the submission."""


@dataclass
class Answer:
    """A decoded answer from the child, with violations of from-scratch rules."""

    data: dict
    violations: list[str] = field(default_factory=list)


@cache
def unshare_prefix() -> tuple[str, ...]:
    """``unshare`` arguments for new user, PID, network, IPC and mount namespaces (with a /proc
    of the new PID namespace), or () where the kernel refuses them."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    args = (exe, "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net",
            "--ipc", "--mount", "--mount-proc")
    try:
        ok = subprocess.run([*args, "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return args if ok else ()


def child_modules() -> dict[str, str]:
    """The sandbox package's module sources, keyed by the names the sandbox imports them as."""
    modules = {}
    for path in sorted(CHILD.glob("*.py")):
        if path.stem == "boot":
            continue
        name = CHILD_PACKAGE if path.stem == "__init__" else f"{CHILD_PACKAGE}.{path.stem}"
        modules[name] = path.read_text(encoding="utf-8")
    return modules


class ServerClient:
    """A connection to a fork server: ask it to fork, watch and end sandboxes.

    ``ForkServer`` starts a server and is its first client; ``SharedServer`` is a connection of
    another grading process (a ``grade-all`` worker) to a server that its parent started.
    """

    control: socket.socket
    base: str
    isolate: bool
    namespaces: bool

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.info: dict | None = None

    def _wait_ready(self) -> None:
        if self.info is None:
            self.info = self._answer(120.0)[0]

    def _answer(self, seconds: float) -> tuple[dict, list[int]]:
        ready, _, _ = select.select([self.control], [], [], seconds)
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 1) if ready else (b"", [],
                                                                                     0, None)
        except OSError:
            data, fds = b"", []
        if not data:
            self.close()
            raise RuntimeError("the sandbox fork server did not answer")
        return json.loads(data), fds

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        return self._ask_fds(request, fds)[0]

    def _ask_fds(self, request: dict, fds: list[int] = ()) -> tuple[dict, list[int]]:
        with self.lock:
            self._wait_ready()
            socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            return self._answer(60.0)

    def alive(self) -> bool:
        """Whether the server can still be asked."""
        return self.control.fileno() >= 0

    def describe(self) -> dict:
        """What isolation the server set up (after it is ready)."""
        with self.lock:
            self._wait_ready()
        return dict(self.info or {})

    def connection(self) -> socket.socket:
        """A new socket to this server for other processes (``share_fork_server``), made at
        once: the server adopts its other end whenever it gets to it, so nobody waits here for
        the server to be ready."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with self.lock, contextlib.closing(theirs):
            socket.send_fds(self.control, [json.dumps({"op": "adopt"}).encode()],
                            [theirs.fileno()])
        return ours

    def spawn(self, config: dict, fds: list[int]) -> int:
        """Fork a sandbox with ``config`` and the pipe and log descriptors; return its pid."""
        answer = self._ask({"op": "spawn", "config": config}, fds)
        if answer.get("pid") is None:
            raise SandboxDied(f"the sandbox could not start ({answer.get('error')})")
        return int(answer["pid"])

    def usage(self, pid: int) -> dict | None:
        """Sandbox ``pid``'s CPU seconds so far (all its processes) and live tasks, or ``None``."""
        try:
            answer = self._ask({"op": "usage", "pid": pid})
        except (OSError, RuntimeError):
            return None
        return answer if answer.get("cpu") is not None else None

    def end(self, pid: int, died: bool = False) -> tuple[int | None, str | None]:
        """Kill sandbox ``pid`` with every process it started; return its exit code and why the
        server killed it, if it did. ``died``: the grader saw it end (wait for its own code)."""
        try:
            answer = self._ask({"op": "end", "pid": pid, "died": died})
        except (OSError, RuntimeError):
            return None, None
        return answer.get("code"), answer.get("reason")

    def close(self) -> None:
        """Hang up: the server ends every sandbox this connection started."""
        self.control.close()


class ForkServer(ServerClient):
    """A clean interpreter that has imported torch and forks one sandbox per request.

    Started once per grading process (``fork_server``), or once per ``grade-all`` batch and
    shared by its workers (``ServerClient.connection``), inside new user, PID, network, IPC and
    mount namespaces where ``unshare`` works; it never runs student code itself. Forking saves
    each sandbox the interpreter start and the torch import. Its folder ``base`` holds the
    sandboxes' scratch folders and the mountpoint of their shared root; ``close`` (or the
    grader's end) stops the server and everything it started.
    """

    def __init__(self, isolate: bool, course: Course):
        super().__init__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        view_r, view_w = os.pipe()
        self.base = os.path.realpath(tempfile.mkdtemp(prefix="d2l-grading-"))
        os.mkdir(os.path.join(self.base, "root"))
        prefix = unshare_prefix() if isolate else ()
        self.isolate = isolate
        self.namespaces = bool(prefix)
        config = {"control_fd": theirs.fileno(), "view_fd": view_r,
                  "sys_path": sandbox_sys_path(course), "isolate": isolate,
                  "namespaces": self.namespaces, "base": self.base,
                  "root": os.path.join(self.base, "root"), "share": CPU_SHARE, "burst": CPU_BURST}
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-I", "-S", "-B", "-c", (CHILD / "boot.py").read_text()],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, cwd="/", pass_fds=(theirs.fileno(), view_r), start_new_session=True)
        theirs.close()
        os.close(view_r)
        payload = {"package": CHILD_PACKAGE, "modules": child_modules(), "config": config}
        try:
            self.proc.stdin.write(json.dumps(payload).encode())
            self.proc.stdin.close()
        except OSError:
            pass
        self.control = ours
        self._view_error: BaseException | None = None
        # The view is listed while the server imports torch, and reaches it through a pipe.
        self._viewer = threading.Thread(target=self._send_view, args=(course, view_w),
                                        daemon=True)
        self._viewer.start()

    def _send_view(self, course: Course, fd: int) -> None:
        try:
            view = sandbox_view(course).as_config() if self.isolate else None
            data = json.dumps(view).encode()
        except BaseException as exc:  # noqa: BLE001 - raised again where the server is awaited
            self._view_error, data = exc, b""
        with os.fdopen(fd, "wb") as pipe:
            try:
                pipe.write(data)
            except OSError:
                pass

    def _wait_ready(self) -> None:
        if self.info is None:
            self._viewer.join()
            if self._view_error is not None:
                raise RuntimeError("listing what the sandbox may see failed") from \
                    self._view_error
        super()._wait_ready()

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self.proc.poll() is None and super().alive()

    def close(self) -> None:
        """Stop the server, which ends every sandbox first; remove its folder."""
        self.control.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


class SharedServer(ServerClient):
    """This process's connection to a fork server another process started and owns (see
    ``share_fork_server``)."""

    def __init__(self, control: socket.socket, isolate: bool, info: dict):
        super().__init__()
        self.control = control
        self.isolate = isolate
        self.info = info
        self.base = info["base"]
        self.namespaces = bool(info.get("namespaces"))


_SERVERS: dict[tuple[bool, Course], ServerClient] = {}


def fork_server(course: Course, isolate: bool = True) -> ServerClient:
    """This process's fork server (one per isolation setting), started on first use, or the
    shared one ``share_fork_server`` connected it to.

    Starting it early (e.g. first thing in the CLI) overlaps its torch import with the grader's;
    the first ``spawn`` waits until it is ready. A shared server that has gone is replaced by
    one of this process's own.
    """
    server = _SERVERS.get((isolate, course))
    if server is None or not server.alive():
        server = _SERVERS[isolate, course] = ForkServer(isolate, course)
    return server


def share_fork_server(course: Course, isolate: bool, connector: socket.socket) -> None:
    """Make this process grade in sandboxes of a fork server another process started:
    ``connector`` is a connection to it (``ServerClient.connection``), possibly held by several
    processes, on which this process asks for a connection of its own."""
    with contextlib.suppress(KeyError):
        _SERVERS.pop((isolate, course)).close()
    answer, fds = _Connector(connector)._ask_fds({"op": "connect"})
    if not fds:
        raise RuntimeError(f"the shared sandbox fork server refused a connection: {answer}")
    _SERVERS[isolate, course] = SharedServer(socket.socket(fileno=fds[0]), isolate, answer)


class _Connector(ServerClient):
    """A connection used only to ask for connections; several processes may hold it, and each
    asks once and reads one answer, which carries a socket: any answer will do."""

    def __init__(self, control: socket.socket):
        super().__init__()
        self.control = control
        self.info = {}

    def close(self) -> None:
        pass


@atexit.register
def _stop_servers() -> None:
    for server in _SERVERS.values():
        server.close()


class Budget:
    """The time one request may take: ``seconds`` of the sandbox's CPU time (all its processes),
    and at most ``WALL_FACTOR`` times that on the wall clock whatever the machine's load.

    The sandbox's usage is first read after ``POLL_SECONDS``, so a request that answers sooner
    costs no look at all; the time before that first look is charged as if it were all CPU.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.monotonic()
        self.base: float | None = None
        self.first = 0.0

    def elapsed(self) -> float:
        """Wall-clock seconds since the request was sent."""
        return time.monotonic() - self.start

    def wait(self) -> float:
        """How long to wait for the answer before the next look."""
        return max(0.0, min(POLL_SECONDS, WALL_FACTOR * self.seconds - self.elapsed()))

    def check(self, usage: dict | None) -> str | None:
        """Why the request is over its budget (``usage``: the fork server's look), or ``None``."""
        elapsed = self.elapsed()
        if elapsed >= WALL_FACTOR * self.seconds:
            return (f"timed out after {elapsed:.0f} s on the wall clock (the budget is "
                    f"{self.seconds:g} s of CPU time; was it waiting for something?)")
        if usage is None:
            return f"timed out after {self.seconds:g} s" if elapsed >= self.seconds else None
        if self.base is None:
            self.base, self.first = usage["cpu"], elapsed
        if usage["cpu"] - self.base + self.first >= self.seconds:
            return f"timed out after {self.seconds:g} s of CPU time"
        return None


def isolation_report(server: ServerClient, files: str, limits: Limits) -> dict:
    """The report's ``isolation`` entry: which layers held for this sandbox."""
    info = server.describe()
    if not server.isolate:
        namespaces = "unavailable (disabled by the grader's configuration)"
    elif not server.namespaces:
        namespaces = "unavailable (unshare failed): no PID, mount or network isolation"
    else:
        private = info.get("root", "").startswith("private")
        per_box = ", ".join(["pid", "ipc"] + (["mount"] if private else [])
                            + (["user"] if info.get("userns") else [])
                            + (["net (loopback only)"] if info.get("netns") else []))
        namespaces = ("user, pid, net, ipc, mount; per sandbox: " + per_box if info.get("pidns")
                      else "user, pid, net, ipc, mount; shared by the grading process's sandboxes")
    watch = "the fork server's watch" + (" and RLIMIT_NPROC" if info.get("nproc") else "")
    return {
        "process": "separate process forked from a clean interpreter, own session, "
                   "scratch working directory",
        "limits": (f"cpu {limits.cpu_seconds}s, data {limits.memory_bytes >> 20} MiB,"
                   f" output {limits.output_bytes >> 20} MiB"),
        "namespaces": namespaces,
        "root": info.get("root", "host file system"),
        "files": files,
        "processes": f"at most {limits.processes} tasks at once ({watch})",
        "cpu": (f"budgets in CPU seconds of all its processes, at most {WALL_FACTOR}× on the "
                f"wall clock; at most {CPU_SHARE:g} core on average"),
    }


class Sandbox:
    """One student's submission loaded in a separate, limited process.

    ``cells`` are ``(label, source)`` pairs run in order at start; ``chapter`` is passed to the
    course's setup hooks (e.g. the toolbox's gate). Use as a context manager; ``close()`` kills
    the process tree and removes the scratch folder.
    """

    def __init__(self, cells: list[tuple[str, str]], chapter: str, course: Course,
                 options: Options | None = None):
        self.cells = cells
        self.chapter = chapter
        self.course = course
        self.options = options or Options()
        self.limits = self.options.limits
        self.isolate = self.options.isolate
        self.pid: int | None = None
        self._server: ServerClient | None = None
        self.last_progress: str | None = None
        self.scratch: str | None = None
        self.load_info: dict | None = None
        self.isolation: dict = {}
        self.starts = 0
        self.deaths: list[str] = []
        self.bad_cells: dict[str, str] = {}

    # -- process management ---------------------------------------------------------------------

    def _start(self) -> None:
        if self.starts > self.limits.restarts:
            raise SandboxDied("grading stopped restarting your notebook after it crashed or hung "
                              f"{self.starts} times: " + "; ".join(self.deaths[-2:]))
        self.starts += 1
        self._server = fork_server(self.course, self.isolate)
        self.scratch = tempfile.mkdtemp(prefix="box-", dir=self._server.base)
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        log = os.open(os.path.join(self.scratch, "output.log"), os.O_WRONLY | os.O_CREAT, 0o600)
        limits = self.limits
        config = {
            "scratch": self.scratch,
            "setup": [[module, function, self.chapter] for module, function in self.course.setup],
            "limits": {"cpu_seconds": limits.cpu_seconds, "memory_bytes": limits.memory_bytes,
                       "output_bytes": limits.output_bytes, "processes": limits.processes},
        }
        try:
            self.pid = self._server.spawn(config, [req_r, ans_w, log])
        except BaseException:
            os.close(req_w)
            os.close(ans_r)
            raise
        finally:
            for fd in (req_r, ans_w, log):
                os.close(fd)
        self._to = os.fdopen(req_w, "wb", buffering=0)
        self._from = os.fdopen(ans_r, "rb", buffering=0)
        ready = self._receive(limits.start_seconds, "starting the sandbox")
        self.isolation = isolation_report(self._server, ready.get("isolation", "off"), limits)
        cells = [c for c in self.cells if c[0] not in self.bad_cells]
        try:
            info = self._request({"op": "load", "cells": cells}, limits.load_seconds,
                                 "running your notebook's cells")
        except SandboxDied as death:
            label = self.last_progress
            if label is None or label in self.bad_cells:
                raise
            self.bad_cells[label] = f"cell {label} was skipped: {death}"
            return self._start()
        info["errors"] = [{"cell": label, "type": "Skipped", "message": why, "where": []}
                          for label, why in self.bad_cells.items()] + info.get("errors", [])
        self.load_info = info

    def ensure(self) -> dict:
        """Start the child and load the submission if it is not running; return the load info."""
        if self.pid is None:
            self._start()
        return self.load_info or {}

    def _end(self, died: bool = False) -> tuple[int | None, str | None]:
        """Kill the sandbox and everything it started; return its exit code (negative: a
        signal) and why the fork server killed it, if it did."""
        code = reason = None
        if self.pid is not None:
            code, reason = self._server.end(self.pid, died)
            for stream in (self._to, self._from):
                stream.close()
            self.pid = None
        return code, reason

    def close(self) -> None:
        """Kill the whole process tree and remove the scratch folder."""
        self._end()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- wire protocol ----------------------------------------------------------------------------

    def _output_tail(self) -> str:
        path = os.path.join(self.scratch or "", "output.log")
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                f.seek(max(0, size - 600))
                tail = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        note = " (output limit reached)" if size >= self.limits.output_bytes else ""
        return f"last output{note}: {tail.strip()[-300:]}" if tail.strip() else ""

    def _died(self, what: str, why: str | None = None) -> SandboxDied:
        """Kill the sandbox and describe its end (``why``, or else how the process exited)."""
        tail = self._output_tail()
        self.last_progress = _read_progress(self.scratch)
        code, reason = self._end(died=why is None)
        why = why or reason or _describe_exit(code)
        self.close()
        message = f"{why} while {what}" + (f"; {tail}" if tail else "")
        self.deaths.append(message)
        return SandboxDied(message)

    def _read_exact(self, size: int, budget: Budget, what: str) -> bytes:
        chunks, left = [], size
        while left:
            ready, _, _ = select.select([self._from], [], [], budget.wait())
            if not ready:
                verdict = budget.check(self._server.usage(self.pid))
                if verdict:
                    raise self._died(what, verdict)
                continue
            chunk = self._from.read(min(left, 1 << 20))
            if not chunk:
                raise self._died(what)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _receive(self, seconds: float, what: str) -> dict:
        budget = Budget(seconds)
        (size,) = protocol.HEADER.unpack(self._read_exact(protocol.HEADER.size, budget, what))
        if size > self.limits.answer_bytes:
            raise self._died(what, f"the answer was larger than {self.limits.answer_bytes >> 20} "
                                   "MiB (return smaller values)")
        payload = self._read_exact(size, budget, what)
        try:
            answer = protocol.decode(payload)
        except Exception as exc:  # noqa: BLE001 - anything unreadable is the submission's fault
            raise self._died(what, f"the sandbox sent an unreadable answer ({exc})") from None
        if not isinstance(answer, dict):
            raise self._died(what, "the sandbox sent a malformed answer")
        return admit(answer, self.limits)

    def _request(self, request: dict, seconds: float, what: str) -> dict:
        try:
            self._to.write(protocol.encode(request))
        except OSError:
            raise self._died(what) from None
        return self._receive(seconds, what)

    # -- operations -----------------------------------------------------------------------------

    def defined(self, name: str) -> bool:
        """Whether the submission defines ``name`` (after loading its cells)."""
        return name in self.ensure().get("defined", {})

    def run(self, request: dict, what: str, seconds: float | None = None) -> Answer:
        """Send one request (``call``/``module``/``scenario``); raise ``StudentFault`` on error."""
        name = request.get("name")
        self.ensure()
        if name is not None and not self.defined(name):
            raise Missing(missing_message(name, self.load_info or {}, self.cells))
        answer = self._request(request, seconds or self.limits.call_seconds, what)
        violations = [str(v) for v in answer.get("violations", [])]
        if not answer.get("ok"):
            error = answer.get("error", {})
            raise StudentError(describe_error(error, what), violations)
        return Answer(answer, violations)


class StudentError(StudentFault):
    """The student's code raised an exception inside the sandbox."""

    def __init__(self, message: str, violations: list[str]):
        super().__init__(message)
        self.violations = violations


def describe_error(error: dict, what: str) -> str:
    """One line for the student: which exception, where in their notebook."""
    where = f" ({error['where'][-1]})" if error.get("where") else ""
    kind = error.get("type", "Error")
    message = error.get("message", "")
    if kind == "NotImplementedError":
        return say("{what} raised NotImplementedError: the exercise is not implemented yet"
                   ).format(what=what)
    if kind == "MemoryError":
        return say("{what} ran out of memory (the sandbox's limit){where}").format(
            what=what, where=where)
    if kind == "OSError" and "too large" in message.lower():
        return say("{what} printed more than the output limit allows{where}").format(
            what=what, where=where)
    if kind == "SystemExit":
        return say("{what} called sys.exit(){where}; remove it").format(what=what, where=where)
    if not message.strip():
        return say("{what} raised {kind} without a message{where}").format(
            what=what, kind=kind, where=where)
    return say("{what} raised {kind}: {message}{where}").format(
        what=what, kind=kind, message=message, where=where)


def _defines(source: str, name: str) -> bool:
    """Whether a cell's text (runnable or not) defines ``name`` at its top level."""
    pattern = rf"^(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*(?::[^=]*)?="
    return re.search(pattern, source, flags=re.MULTILINE) is not None


def missing_message(name: str, load_info: dict,
                    cells: list[tuple[str, str]] | None = None) -> str:
    """Explain a missing definition: the error of the cell that defines ``name`` first (a
    syntax error there, an exception it raised), else the first cell that failed to run."""
    errors = load_info.get("errors", [])
    defining = {label for label, source in cells or [] if _defines(source, name)}
    own = [e for e in errors if str(e.get("cell")) in defining]
    if own:
        error = own[0]
        return say("`{name}` is not defined because its cell (cell {cell}) failed with "
                   "{error}").format(name=name, cell=error.get("cell"), error=_error_text(error))
    text = say("`{name}` is not defined in your notebook (was its cell deleted or the name "
               "changed?)").format(name=name)
    if errors:
        text += say("; cell {cell} failed with {error}").format(cell=errors[0].get("cell"),
                                                                 error=_error_text(errors[0]))
    return text


def _error_text(error: dict) -> str:
    message = str(error.get("message", ""))[:200].strip()
    kind = error.get("type", "Error")
    return f"{kind}: {message}" if message else say("{kind} (raised without a message)").format(
        kind=kind)


def _read_progress(scratch: str | None) -> str | None:
    try:
        with open(os.path.join(scratch or "", ".progress")) as f:
            return f.read().strip() or None
    except OSError:
        return None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return say("the sandbox stopped")
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return say("the CPU-time limit was exceeded")
        if sig == signal.SIGSEGV:
            return say("the process crashed (segmentation fault)")
        return say("the process was killed by {signal}").format(signal=name)
    if code >= 128:
        return _describe_exit(-(code - 128))
    return say("the process exited with status {code} (os._exit or a crash)").format(code=code)
