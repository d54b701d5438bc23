"""The fork server and the request loop of one sandbox.

``main`` runs in a clean interpreter started by the grader (see ``boot.py``), inside new user,
PID, network, IPC and mount namespaces where the kernel allows them. It imports torch once,
builds what every sandbox shares (the read-only root, the Landlock ruleset), then forks a
sandbox per ``spawn`` request on its control socket; no student code ever runs in the server.
Other grading processes (``grade-all``'s workers) share it: the grader hands it a socket
(``adopt``), on which a ``connect`` request answers with a socket of one's own; the sandboxes
a client started end when it hangs up.

With a PID namespace, each sandbox gets its own and is its init: it enters the private root and
a user namespace of its own before it seals itself, and killing it ends every process the
submission started (the kernel empties a PID namespace whose init ends). Being init, it does
not die of a signal it sends itself unless it handles it, and orphans of its children stay
its zombies. Without a PID namespace, the server is a child subreaper and kills whatever a
sandbox leaves behind. The server ends with its grader: on end of file on the control socket,
or on ``SIGTERM`` when its parent dies.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback

import torch

from . import calls, linux, loading, protocol, root, seal, watch
from .landlock import ruleset

OPS = {**calls.OPS}
TICK = 0.1


def serve(config: dict, fd_in: int, fd_out: int, rules: int | None, home: str, tmp: str) -> None:
    """Seal this process, then answer the grader's requests until it closes the pipe."""
    requests = os.fdopen(fd_in, "rb", buffering=0)
    answers = os.fdopen(fd_out, "wb", buffering=0)
    held = seal.seal(config, rules, home, tmp)
    protocol.write_frame(answers, {"ok": True, "ready": True, "isolation": held})
    while True:
        request = protocol.read_frame(requests)
        if request is None:
            return
        if request["op"] == "load":
            answer = loading.op_load(request, home)
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


def _host_uid() -> int:
    """The user id this process has on the host, seen through its user namespace's map."""
    try:
        with open("/proc/self/uid_map") as f:
            inside, outside, _ = f.readline().split()
    except (OSError, ValueError):
        return os.getuid()
    return int(outside) + os.getuid() - int(inside)


def _reap(pid: int, wait: bool) -> int | None:
    """``pid``'s exit code once it ended (negative: a signal), or ``None`` while it runs."""
    try:
        done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if done else None


class Server:
    """Everything the fork server keeps between requests."""

    def __init__(self, config: dict, control: socket.socket):
        self.config = config
        self.control = control
        self.clients: list[socket.socket] = [control]
        self.owners: dict[int, socket.socket] = {}
        self.isolate = config["isolate"]
        if self.isolate and not config.get("view"):
            raise RuntimeError("isolation without the grader's view of the file system")
        self.pidns = config.get("namespaces", False) and os.getpid() == 1
        self.root: str | None = None
        self.userns = False
        self.notes = {"root": "host file system (no namespaces)"}
        self.rules: int | None = None
        # Each sandbox gets a network namespace of its own, with only loopback up, where the
        # kernel allows it: processes of one submission (gloo ranks) talk to each other and to
        # nothing else, not even another sandbox.
        self.netns = False
        self.landlock = "off: disabled by the grader's configuration"
        self.watch = watch.Watch(config["share"], config["burst"])
        self.dying: set[int] = set()
        self.own_pid = int(os.readlink("/proc/self"))
        self.host_uid = _host_uid()
        self.own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY) if self.pidns else -1
        if not self.pidns:
            linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
        if self.isolate and self.pidns:
            self._build_root()
        if self.pidns:
            self._probe()
        if self.isolate:
            self._build_rules()

    # -- what every sandbox shares --------------------------------------------------------------

    def _build_root(self) -> None:
        try:
            root.build(self.config["root"], self.config["view"])
            self.root = self.config["root"]
            self.notes["root"] = ("private: read-only binds of the interpreter, packages and "
                                  "toolbox only; own /tmp, /dev/shm, /proc; no host sockets")
        except OSError as exc:
            self.notes["root"] = f"host file system (private root failed: {exc})"
            self._drop_root()

    def _drop_root(self) -> None:
        try:
            linux.detach(self.config["root"])
        except OSError:
            pass
        self.root = None

    def _probe(self) -> None:
        """Start empty sandboxes until one works, to learn which per-sandbox namespaces the
        kernel allows: private root and user namespace, then less."""
        scratch = tempfile.mkdtemp(dir=self.config["base"])
        attempts = dict.fromkeys([(self.root is not None, self.isolate), (self.root is not None,
                                                                          False), (False, False)])
        failures = []
        try:
            for use_root, use_userns in attempts:
                try:
                    failure = self._try(scratch, use_root, use_userns)
                except OSError as exc:
                    self.notes["root"] = f"host file system (no PID namespace per sandbox: {exc})"
                    break
                if failure is None:
                    self.userns = use_userns
                    self.netns = True
                    if self._try(scratch, use_root, use_userns) is not None:
                        self.netns = False
                    if not use_root and self.root:
                        self.notes["root"] = ("host file system (the private root failed: "
                                              f"{failures[0]})")
                        self._drop_root()
                    return
                failures.append(failure)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.pidns = False
        self._drop_root()
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)

    def _try(self, scratch: str, use_root: bool, use_userns: bool) -> str | None:
        """Why an empty sandbox set up so failed, or ``None`` when it worked."""
        failed_r, failed_w = os.pipe()

        def empty() -> None:
            try:
                self._enter(scratch, 1 << 20, use_root, use_userns)
            except Exception as exc:  # noqa: BLE001 - reported as why the layer is missing
                os.write(failed_w, f"{type(exc).__name__}: {exc}".encode()[:500])
                os._exit(1)
            os._exit(0)

        try:
            code = _reap(self._fork(empty), True)
        finally:
            os.close(failed_w)
            with os.fdopen(failed_r, "rb") as pipe:
                failure = pipe.read().decode(errors="replace")
        return None if code == 0 else failure or f"exit status {code}"

    def _build_rules(self) -> None:
        """The Landlock ruleset: with a private root each sandbox makes its own small one (its
        writable places are its own mounts); on the host's file system, one for all, here."""
        view = self.config["view"]
        if self.root:
            fd, self.landlock = ruleset([], [], [], [], tcp=not self.netns)
            if fd is not None:
                os.close(fd)
            return
        proc = [f"/proc/{e}" for e in os.listdir("/proc")
                if not e.isdigit() and e not in ("self", "thread-self")]
        self.rules, self.landlock = ruleset(view["read"] + proc, [*view["listed"], "/proc"],
                                            [self.config["base"]], view["devices"],
                                            tcp=not self.netns)

    def describe(self) -> dict:
        """What held, for the grader's report."""
        note = self.notes["root"]
        if not self.root:
            shared = "UNIX sockets by path" + ("" if self.pidns else " and System V IPC")
            note += f": only Landlock guards files; {shared} shared with the host"
        return {"ready": True, "root": note, "landlock": self.landlock, "pidns": self.pidns,
                "userns": self.userns, "netns": self.netns, "nproc": self._nproc()}

    def _nproc(self) -> bool:
        """Whether ``RLIMIT_NPROC`` bounds a sandbox: it counts per user namespace, so only
        with one per sandbox is the count the sandbox's own, and the kernel does not apply it
        to the host's root."""
        return self.userns and self.host_uid != 0

    # -- sandboxes ------------------------------------------------------------------------------

    def _fork(self, child) -> int:
        """Fork ``child`` (which never returns): the init of a new PID namespace where there
        is one."""
        if self.pidns:
            linux.unshare(linux.CLONE_NEWPID)
        try:
            pid = os.fork()
        except OSError:
            if self.pidns:
                linux.setns(self.own_pidns, linux.CLONE_NEWPID)
            raise
        if pid == 0:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
                for client in self.clients:
                    client.close()
                child()
            except BaseException:  # noqa: BLE001 - tell the grader, through the output log
                traceback.print_exc()
            finally:
                os._exit(70)
        if self.pidns:
            linux.setns(self.own_pidns, linux.CLONE_NEWPID)
        return pid

    def _enter(self, scratch: str, tmpfs_bytes: int, use_root: bool, use_userns: bool) -> None:
        """In a sandbox's init: the private root (or at least its own IPC namespace), then a
        user namespace of its own."""
        if use_root:
            root.enter(self.root, scratch, tmpfs_bytes)
        else:
            try:
                linux.unshare(linux.CLONE_NEWIPC)
            except OSError:
                pass
        if self.netns:
            linux.unshare(linux.CLONE_NEWNET)
            linux.loopback_up()
        if use_userns:
            root.own_user_namespace()

    def spawn(self, config: dict, fds: list[int]) -> int:
        """Fork one sandbox with the request and answer pipes and the output log."""
        def start() -> None:
            os.dup2(fds[2], 2)  # failures before the sandbox serves reach the grader's log
            if self.pidns:
                self._enter(config["scratch"], config["limits"]["memory_bytes"] // 4,
                            self.root is not None, self.userns)
            self._sandbox(config, fds)

        pid = self._fork(start)
        for fd in fds:
            os.close(fd)
        self.watch.add(pid, self.pidns, config["limits"]["processes"])
        return pid

    def _sandbox(self, config: dict, fds: list[int]) -> None:
        fd_in, fd_out, log = fds
        os.setsid()
        os.dup2(log, 1)
        os.dup2(log, 2)
        keep = sorted({fd_in, fd_out, *([self.rules] if self.rules is not None else [])})
        start = 3
        for fd in keep:
            os.closerange(start, fd)
            start = fd + 1
        os.closerange(start, 1 << 20)
        home = root.SCRATCH if self.root else config["scratch"]
        tmp = "/tmp" if self.root else home
        rules = self.rules
        if self.root and self.isolate:
            rules, _ = ruleset(["/"], [], [*root.TMPFS, root.SCRATCH],
                               self.config["view"]["devices"], tcp=not self.netns)
        processes = config["limits"]["processes"]
        config = {**config, "isolate": self.isolate, "landlock": self.landlock,
                  "nproc": processes if self._nproc() else None}
        try:
            serve(config, fd_in, fd_out, rules, home, tmp)
        except BaseException:  # noqa: BLE001 - the grader reads the log's tail
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(70)
        os._exit(0)

    def end(self, pid: int, died: bool) -> dict:
        """Kill sandbox ``pid`` with everything it started; its exit code and, when the server
        killed it, why. ``died``: the grader saw it end, so wait for its own exit code; else
        it is reaped later (ending a namespace takes the kernel a while)."""
        self.owners.pop(pid, None)
        box = self.watch.boxes.pop(pid, None)
        if box is None:
            return {"code": None}
        code = None
        if died:
            deadline = time.monotonic() + 2.0
            while code is None and time.monotonic() < deadline:
                code = _reap(pid, False)
                if code is None:
                    time.sleep(0.002)
        if code is None:
            watch.kill(box)
            if died:
                code = _reap(pid, True)
            else:
                self.dying.add(pid)
        self._collect()
        return {"code": code, "reason": box.reason}

    def _collect(self, wait: bool = False) -> None:
        """Reap what ended (``wait``: until everything killed has ended); with no sandbox left
        and no PID namespace per sandbox, kill what a submission left behind (orphans come to
        this server, a child subreaper)."""
        for pid in list(self.dying):
            if _reap(pid, wait) is not None or not os.path.exists(f"/proc/{pid}"):
                self.dying.discard(pid)
        if self.watch.boxes or self.pidns:
            return
        for _ in range(50):
            strays = [p for p in watch.children(self.own_pid) if p not in self.dying]
            for stray in strays:
                watch.kill(watch.Box(stray, False, 0))
            while True:
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break
            if not strays:
                return
            time.sleep(0.01)

    def shutdown(self) -> None:
        """End every sandbox and remove the grader's folder for them (the grader is gone or
        closed the control socket)."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the grader's end may signal it too
        for pid in list(self.watch.boxes):
            self.end(pid, False)
        self._collect(wait=True)
        if self.root:
            self._drop_root()
        shutil.rmtree(self.config["base"], ignore_errors=True)

    def loop(self) -> None:
        """Answer control requests; watch the sandboxes between them. Returns when the grader
        that started the server hangs up."""
        last = time.monotonic()
        while True:
            timeout = TICK if self.watch.boxes or self.dying else None
            ready, _, _ = select.select(self.clients, [], [], timeout)
            self._collect()
            for client in ready:
                try:
                    data, fds, _, _ = socket.recv_fds(client, 1 << 22, 3)
                except OSError:
                    data, fds = b"", []
                if not data:
                    if client is self.control:
                        return
                    self._hang_up(client)
                    continue
                answer, give = self.handle(json.loads(data), fds, client)
                if answer is None:
                    continue
                try:
                    socket.send_fds(client, [json.dumps(answer).encode()], give)
                except OSError:
                    self._hang_up(client)
                finally:
                    for fd in give:
                        os.close(fd)
            if self.watch.boxes and time.monotonic() - last >= TICK:
                self.watch.tick()
                last = time.monotonic()

    def _hang_up(self, client: socket.socket) -> None:
        """A client other than the grader that started the server is gone: end its
        sandboxes."""
        for pid, owner in list(self.owners.items()):
            if owner is client:
                self.end(pid, False)
        if client in self.clients:
            self.clients.remove(client)
        client.close()

    def handle(self, request: dict, fds: list[int],
               client: socket.socket) -> tuple[dict | None, list[int]]:
        """One control request (``spawn``, ``end``, ``usage``, ``connect``, or ``adopt``, which
        is not answered): the answer and the descriptors to send with it."""
        op = request["op"]
        if op == "spawn":
            try:
                pid = self.spawn(request["config"], fds)
            except OSError as exc:
                for fd in fds:
                    os.close(fd)
                return {"pid": None, "error": str(exc)}, []
            self.owners[pid] = client
            return {"pid": pid}, []
        if op == "adopt":  # a socket another grading process will connect through
            if fds:
                self.clients.append(socket.socket(fileno=fds[0]))
            for fd in fds[1:]:
                os.close(fd)
            return None, []
        for fd in fds:
            os.close(fd)
        if op == "end":
            return self.end(request["pid"], request.get("died", False)), []
        if op == "usage":
            return self.watch.look(request["pid"]), []
        if op == "connect":
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.clients.append(ours)
            return {**self.describe(), "base": self.config["base"],
                    "namespaces": self.config.get("namespaces", False)}, [theirs.detach()]
        return {"error": f"unknown op {op!r}"}, []


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _warm_up() -> None:
    """Do once here what every sandbox would otherwise do on first use: the first
    ``autograd.grad`` with explicit gradients imports torch.fx's symbolic shapes (sympy), and
    the first optimizer that is made imports torch._dynamo (seconds)."""
    x = torch.ones(1, dtype=torch.float64, requires_grad=True)
    torch.autograd.grad(x * 2, [x], torch.ones(1, dtype=torch.float64))
    torch.optim.SGD([x], lr=0.1)


def main(config: dict) -> None:
    """Keep torch imported and fork a fresh sandbox per request; no student code runs here."""
    torch.set_num_threads(1)
    _warm_up()
    signal.signal(signal.SIGTERM, _stop)
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGTERM)
    control = socket.socket(fileno=config["control_fd"])
    with os.fdopen(config["view_fd"], "rb") as pipe:
        config["view"] = json.loads(pipe.read() or b"null") if config["isolate"] else None
    server = Server(config, control)
    try:
        control.sendall(json.dumps(server.describe()).encode())
        server.loop()
    finally:
        server.shutdown()
    # Skip the interpreter's teardown with torch loaded (about 2 s): every sandbox is gone and
    # nothing else needs flushing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
