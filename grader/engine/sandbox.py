"""The grader's side of the sandbox: start, talk to, and kill the process that runs student code.

Student code never runs in the grader's process. ``Sandbox`` forks a process from a clean
interpreter (the fork server, ``child/server.py``) in its own scratch directory, under resource
limits, Landlock file isolation and, where ``unshare`` works, fresh user, PID and network
namespaces. Requests and answers are ``torch.save`` frames read back with
``torch.load(weights_only=True)``: nothing the child sends can run code here.

When the child hangs, crashes, exceeds a limit or exits, the call raises ``SandboxDied`` (a
``StudentFault``) with a message for the student; the next call starts a fresh child and loads
the submission again, so one bad exercise does not cost the others.
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader.engine.boundary import admit
from grader.engine.child import protocol
from grader.engine.options import Course, Options

CHILD = Path(__file__).with_name("child")
CHILD_PACKAGE = "_d2l_sandbox"


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
def toolbox_dir(package: str) -> Path:
    """The folder of the toolbox package, found without importing it."""
    return Path(importlib.util.find_spec(package).origin).parent


def toolbox_files(package: str) -> list[str]:
    """The toolbox's module files, which student code may read."""
    return sorted(str(p) for p in toolbox_dir(package).glob("*.py")
                  if p.name != "nbgrader_config.py")


@cache
def unshare_prefix() -> tuple[str, ...]:
    """``unshare`` arguments for new user, PID and network namespaces, or () where they fail."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    args = (exe, "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net")
    try:
        ok = subprocess.run([*args, "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return args if ok else ()


def _python_paths() -> list[str]:
    paths = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path and path not in paths:
            paths.append(path)
    for path in sys.path:
        if path.endswith("lib-dynload") and path not in paths:
            paths.append(path)
    return paths


def _hidden_entry(entry: str, course: Course) -> bool:
    """Whether a site-packages entry belongs to the project's protected code."""
    stem = entry.split(".", 1)[0].split("-", 1)[0]
    return (entry in course.protected or stem in course.protected
            or entry.startswith("__editable__")
            or bool(course.distribution) and entry.startswith(course.distribution))


@cache
def _static_rules(course: Course) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The allow-lists that are the same for every sandbox of this process (listed once)."""
    toolbox = toolbox_dir(course.toolbox)
    toolbox_root = str(toolbox.parent)
    read = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/bin",
            sys.base_prefix, sys.prefix, *toolbox_files(course.toolbox)]
    listed = [toolbox_root, str(toolbox)]
    for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        listed.append(site)
        if not os.path.isdir(site):
            continue
        for entry in os.listdir(site):
            if not _hidden_entry(entry, course):
                read.append(os.path.join(site, entry))
    inside_prefix = [p for p in (sys.prefix, sys.base_prefix) if toolbox_root.startswith(p)]
    if inside_prefix:
        read = [p for p in read if p not in inside_prefix]
    devices = sorted(glob.glob("/dev/nvidia*")) + ["/dev/shm"]
    return tuple(read), tuple(listed), tuple(devices)


def _landlock_rules(scratch: str, course: Course) -> dict:
    """Allow-lists: the interpreter, third-party packages, the toolbox, system files, scratch."""
    read, listed, devices = _static_rules(course)
    return {"read": list(read), "list": list(listed), "write": [scratch, "/dev/null", *devices]}


def child_modules() -> dict[str, str]:
    """The sandbox package's module sources, keyed by the names the sandbox imports them as."""
    modules = {}
    for path in sorted(CHILD.glob("*.py")):
        if path.stem == "boot":
            continue
        name = CHILD_PACKAGE if path.stem == "__init__" else f"{CHILD_PACKAGE}.{path.stem}"
        modules[name] = path.read_text(encoding="utf-8")
    return modules


class ForkServer:
    """A clean interpreter that has imported torch and forks one sandbox per request.

    Started once per grading process (``fork_server``), inside new user, PID and network
    namespaces where ``unshare`` works; it never runs student code itself. Forking saves each
    sandbox the interpreter start and the torch import.
    """

    def __init__(self, isolate: bool, course: Course):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"control_fd": theirs.fileno(),
                  "sys_path": [*_python_paths(), str(toolbox_dir(course.toolbox).parent)]}
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        prefix = unshare_prefix() if isolate else ()
        self.namespaces = bool(prefix)
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-I", "-S", "-B", "-c", (CHILD / "boot.py").read_text()],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, cwd="/", pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        payload = {"package": CHILD_PACKAGE, "modules": child_modules(), "config": config}
        try:
            self.proc.stdin.write(json.dumps(payload).encode())
            self.proc.stdin.close()
        except OSError:
            pass
        self.control = ours
        self.lock = threading.Lock()
        self.ready = False

    def _wait_ready(self) -> None:
        if not self.ready:
            self._answer(120.0)
            self.ready = True

    def _answer(self, seconds: float) -> dict:
        ready, _, _ = select.select([self.control], [], [], seconds)
        data = self.control.recv(1 << 16) if ready else b""
        if not data:
            self.close()
            raise RuntimeError("the sandbox fork server did not answer")
        return json.loads(data)

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self.proc.poll() is None

    def spawn(self, config: dict, fds: list[int]) -> int:
        """Fork a sandbox with ``config`` and the pipe and log descriptors; return its pid."""
        with self.lock:
            self._wait_ready()
            socket.send_fds(self.control, [json.dumps({"op": "spawn", "config": config}).encode()],
                            fds)
            return int(self._answer(60.0)["pid"])

    def end(self, pid: int) -> int | None:
        """Kill sandbox ``pid`` with its process group; return its exit code."""
        with self.lock:
            try:
                self.control.send(json.dumps({"op": "end", "pid": pid}).encode())
                return self._answer(60.0).get("code")
            except (OSError, RuntimeError):
                return None

    def close(self) -> None:
        """Stop the server; as the namespace's init, its end kills every sandbox left."""
        self.control.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


_SERVERS: dict[tuple[bool, Course], ForkServer] = {}


def fork_server(course: Course, isolate: bool = True) -> ForkServer:
    """This process's fork server (one per isolation setting), started on first use.

    Starting it early (e.g. first thing in the CLI) overlaps its torch import with the grader's;
    the first ``spawn`` waits until it is ready.
    """
    server = _SERVERS.get((isolate, course))
    if server is None or not server.alive() or server.control.fileno() < 0:
        server = _SERVERS[isolate, course] = ForkServer(isolate, course)
    return server


@atexit.register
def _stop_servers() -> None:
    for server in _SERVERS.values():
        server.close()


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
        self._server: ForkServer | None = None
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
        self.scratch = tempfile.mkdtemp(prefix="d2l-sandbox-")
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        log = os.open(os.path.join(self.scratch, "output.log"), os.O_WRONLY | os.O_CREAT, 0o600)
        config = {
            "scratch": self.scratch,
            "setup": [[module, function, self.chapter] for module, function in self.course.setup],
            "limits": {"cpu_seconds": self.limits.cpu_seconds,
                       "memory_bytes": self.limits.memory_bytes,
                       "output_bytes": self.limits.output_bytes},
            "landlock": _landlock_rules(self.scratch, self.course) if self.isolate else None,
        }
        self._server = fork_server(self.course, self.isolate)
        try:
            self.pid = self._server.spawn(config, [req_r, ans_w, log])
        finally:
            for fd in (req_r, ans_w, log):
                os.close(fd)
        self._to = os.fdopen(req_w, "wb", buffering=0)
        self._from = os.fdopen(ans_r, "rb", buffering=0)
        ready = self._receive(self.limits.start_seconds, "starting the sandbox")
        self.isolation = {
            "process": "separate process forked from a clean interpreter, own session, "
                       "scratch working directory",
            "limits": (f"cpu {self.limits.cpu_seconds}s, data {self.limits.memory_bytes >> 20} MiB,"
                       f" output {self.limits.output_bytes >> 20} MiB"),
            "namespaces": ("user, pid, net" if self._server.namespaces
                           else "unavailable (unshare failed)"),
            "files": ready.get("isolation", "off"),
        }
        cells = [c for c in self.cells if c[0] not in self.bad_cells]
        try:
            info = self._request({"op": "load", "cells": cells}, self.limits.load_seconds,
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

    def _end(self) -> int | None:
        """Kill the sandbox's process group; return its exit code (negative: a signal)."""
        code = None
        if self.pid is not None:
            code = self._server.end(self.pid)
            for stream in (self._to, self._from):
                stream.close()
            self.pid = None
        return code

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
        code = self._end()
        why = why or _describe_exit(code)
        self.close()
        message = f"{why} while {what}" + (f"; {tail}" if tail else "")
        self.deaths.append(message)
        return SandboxDied(message)

    def _read_exact(self, size: int, deadline: float, what: str) -> bytes:
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._from], [], [], max(0.0, remaining))
            if not ready:
                raise self._died(what, f"timed out after {self._budget:g} s")
            chunk = self._from.read(min(left, 1 << 20))
            if not chunk:
                raise self._died(what)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _receive(self, seconds: float, what: str) -> dict:
        self._budget = seconds
        deadline = time.monotonic() + seconds
        (size,) = protocol.HEADER.unpack(self._read_exact(protocol.HEADER.size, deadline, what))
        if size > self.limits.answer_bytes:
            raise self._died(what, f"the answer was larger than {self.limits.answer_bytes >> 20} "
                                   "MiB (return smaller values)")
        payload = self._read_exact(size, deadline, what)
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
            raise Missing(missing_message(name, self.load_info or {}))
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
        return f"{what} raised NotImplementedError: the exercise is not implemented yet"
    if kind == "MemoryError":
        return f"{what} ran out of memory (the sandbox's limit){where}"
    if kind == "OSError" and "too large" in message.lower():
        return f"{what} printed more than the output limit allows{where}"
    if kind == "SystemExit":
        return f"{what} called sys.exit(){where}; remove it"
    return f"{what} raised {kind}: {message}{where}"


def missing_message(name: str, load_info: dict) -> str:
    """Explain a missing definition, pointing at the cells that failed to run."""
    errors = load_info.get("errors", [])
    text = f"`{name}` is not defined in your notebook (was its cell deleted or the name changed?)"
    if errors:
        first = errors[0]
        text += (f"; cell {first.get('cell')} failed with {first.get('type')}: "
                 f"{first.get('message', '')[:200]}")
    return text


def _read_progress(scratch: str | None) -> str | None:
    try:
        with open(os.path.join(scratch or "", ".progress")) as f:
            return f.read().strip() or None
    except OSError:
        return None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the sandbox stopped"
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return "the CPU-time limit was exceeded"
        if sig == signal.SIGSEGV:
            return "the process crashed (segmentation fault)"
        return f"the process was killed by {name}"
    if code >= 128:
        return _describe_exit(-(code - 128))
    return f"the process exited with status {code} (os._exit or a crash)"
