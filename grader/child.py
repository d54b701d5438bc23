"""The sandbox's side: runs inside the untrusted child process, never in the grader.

The parent starts ``python -I -S -B -c <this file's source>`` once per grading process, with a
JSON configuration in the environment variable ``D2L_SANDBOX``: a fork server that imports torch
and then, on each ``spawn`` request on its control socket, forks a sandbox. The sandbox seals
itself (resource limits, Landlock for its own scratch folder) before any student code runs, then
serves requests that arrive as length-prefixed ``torch.save`` frames on one pipe and answers on
another. This module imports nothing from the project: the sandbox cannot read its files.

Requests (dicts with an ``op``):

- ``load``: ``cells`` (list of [label, source]) run in order in one namespace, each in its own
  ``try``; answers which names are defined and which cells failed.
- ``call``: call ``name`` with ``args``/``kwargs`` (tensors, plain values, and ``__build__``
  specs for grader-supplied objects); optional ``vjp`` ``{"wrt": [i...], "grad_output": G}``.
  Answers the exported result, the arguments after the call (in-place updates, ``.grad``),
  gradients, and any from-scratch violations.
- ``module``: instantiate the student's class, optionally load a state dict, run ``steps``.
- ``scenario``: run grader-written code (``source`` defining ``scenario(ns, *args)``) against the
  student's namespace; only the grader's own code is sent, results come back exported.

Every answer is exported to tensors and plain containers so the parent can read it with
``torch.load(weights_only=True)``.
"""

import json
import os
import sys

CONFIG = json.loads(os.environ.pop("D2L_SANDBOX"))
for _path in reversed(CONFIG["sys_path"]):
    sys.path.insert(0, _path)


def _set_limits() -> None:
    import resource
    import signal

    limits = CONFIG["limits"]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for name, value in (
        ("RLIMIT_CPU", limits["cpu_seconds"]),
        ("RLIMIT_DATA", limits["memory_bytes"]),
        ("RLIMIT_FSIZE", limits["output_bytes"]),
        ("RLIMIT_CORE", 0),
    ):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def _landlock() -> str:
    """Restrict file access to the allow-lists, forbid TCP, scope signals; return what held."""
    import ctypes
    import platform

    if not sys.platform.startswith("linux") or platform.machine() == "alpha":
        return "unavailable: Landlock needs Linux"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    create, add_rule, restrict = 444, 445, 446  # one number on every unified syscall table
    abi = libc.syscall(create, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return "unavailable: the kernel has no Landlock"
    fs_all = (1 << 13) - 1
    if abi >= 2:
        fs_all |= 1 << 13
    if abi >= 3:
        fs_all |= 1 << 14
    if abi >= 5:
        fs_all |= 1 << 15

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]

    net = 0b11 if abi >= 4 else 0
    scoped = 0b11 if abi >= 6 else 0
    attr = RulesetAttr(fs_all, net, scoped)
    size = ctypes.sizeof(RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"unavailable: landlock_create_ruleset failed (errno {ctypes.get_errno()})"
    read_file, read_dir, execute = 1 << 2, 1 << 3, 1 << 0
    rules = CONFIG["landlock"]
    grants = (
        [(p, read_file | read_dir | execute) for p in rules["read"]]
        + [(p, read_dir) for p in rules["list"]]
        + [(p, fs_all) for p in rules["write"]]
    )
    for path, access in grants:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            access &= (read_file | execute | (1 << 1) | (1 << 14 if abi >= 3 else 0)
                       | (1 << 15 if abi >= 5 else 0))
        rule = PathBeneath(access & fs_all, fd)
        libc.syscall(add_rule, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule),
                     ctypes.c_uint32(0))
        os.close(fd)
    if libc.prctl(38, 1, 0, 0, 0) != 0:
        return "unavailable: PR_SET_NO_NEW_PRIVS failed"
    if libc.syscall(restrict, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
        return f"unavailable: landlock_restrict_self failed (errno {ctypes.get_errno()})"
    os.close(ruleset)
    parts = ["files"]
    if net:
        parts.append("tcp")
    if scoped:
        parts.append("signals")
    return f"landlock ABI {abi}: " + ", ".join(parts)


import io  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

import torch  # noqa: E402
from torch.overrides import TorchFunctionMode  # noqa: E402

torch.set_num_threads(1)
REQUESTS = ANSWERS = None
LANDLOCK = ""
MAX_ITEMS = 10_000


def _recv() -> dict | None:
    head = REQUESTS.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("<Q", head)
    chunks, left = [], size
    while left:
        chunk = REQUESTS.read(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return torch.load(io.BytesIO(b"".join(chunks)), weights_only=True)


def _send(message: dict) -> None:
    buffer = io.BytesIO()
    torch.save(message, buffer)
    data = buffer.getvalue()
    ANSWERS.write(struct.pack("<Q", len(data)) + data)


# --- from-scratch enforcement -------------------------------------------------------------------

_state = threading.local()


def _trusted_depth() -> int:
    return getattr(_state, "trusted", 0)


class trusted:  # noqa: N801 - used as a context manager and decorator in scenarios
    """Suspend from-scratch recording while grader-supplied code runs inside a student call."""

    def __enter__(self):
        _state.trusted = _trusted_depth() + 1

    def __exit__(self, *exc):
        _state.trusted = _trusted_depth() - 1


class Recorder(TorchFunctionMode):
    """Record calls of forbidden torch functions made by the student's code."""

    def __init__(self, names: set[str]):
        super().__init__()
        self.names = names
        self.seen: list[str] = []

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in self.names and _trusted_depth() == 0:
            owner = getattr(func, "__module__", None) or "torch.Tensor"
            label = f"{owner}.{name}".replace("torch._C._nn", "torch.nn.functional")
            if label not in self.seen:
                self.seen.append(label)
        return func(*args, **(kwargs or {}))


class Forbid:
    """Patch forbidden classes/functions (``torch.optim``, ``nn.LSTM``, …) to record their use."""

    def __init__(self, forbid: list[str]):
        self.functions = {f for f in forbid if "." not in f}
        self.objects = [f for f in forbid if "." in f]
        self.mode = Recorder(self.functions)
        self.patched: list[tuple[object, str, object]] = []

    def _patch(self, dotted: str) -> None:
        module_name, _, attr = dotted.rpartition(".")
        try:
            owner = __import__(module_name, fromlist=[attr])
            target = getattr(owner, attr)
        except (ImportError, AttributeError):
            return
        seen = self.mode.seen
        if isinstance(target, type):
            original = target.__init__

            def init(obj, *a, _original=original, _label=dotted, **k):
                if _trusted_depth() == 0 and _label not in seen:
                    seen.append(_label)
                return _original(obj, *a, **k)

            self.patched.append((target, "__init__", original))
            target.__init__ = init
        elif callable(target):

            def wrapper(*a, _target=target, _label=dotted, **k):
                if _trusted_depth() == 0 and _label not in seen:
                    seen.append(_label)
                return _target(*a, **k)

            self.patched.append((owner, attr, target))
            setattr(owner, attr, wrapper)

    def __enter__(self) -> "Forbid":
        for dotted in self.objects:
            self._patch(dotted)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.mode.__exit__(*exc)
        for owner, attr, original in reversed(self.patched):
            setattr(owner, attr, original)


# --- import and export of values ----------------------------------------------------------------


class BatchIterable:
    """A re-iterable sequence of (X, y) batches, like a DataLoader without workers."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter([tuple(b) for b in self.batches])

    def __len__(self):
        return len(self.batches)


def _layer(spec):
    kind, *params = spec
    if kind == "linear":
        return torch.nn.Linear(*params)
    if kind == "flatten":
        return torch.nn.Flatten()
    if kind == "relu":
        return torch.nn.ReLU()
    if kind == "sigmoid":
        return torch.nn.Sigmoid()
    if kind == "dropout":
        return torch.nn.Dropout(*params)
    raise ValueError(f"unknown layer spec {spec!r}")


class TrustedModule(torch.nn.Module):
    """A grader-supplied network; its own ops never count against the student."""

    def __init__(self, layers):
        super().__init__()
        self.net = torch.nn.Sequential(*[_layer(s) for s in layers])

    def forward(self, *args, **kwargs):
        with trusted():
            return self.net(*args, **kwargs)


class TrustedCallable:
    """Wrap a grader-supplied callable so that its ops are not recorded."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        with trusted():
            return self.fn(*args, **kwargs)


class CallLog:
    """A grader-supplied updater that records how it was called and then does nothing else."""

    def __init__(self, then=None):
        self.calls = []
        self.then = then

    def __call__(self, *args):
        self.calls.append([_export(a) for a in args])
        if self.then is not None:
            with trusted():
                return self.then(*args)
        return None


def _builtin(name, objects, spec):
    if name == "cross_entropy_none":
        return TrustedCallable(torch.nn.CrossEntropyLoss(reduction="none"))
    if name == "mse_none":
        return TrustedCallable(torch.nn.MSELoss(reduction="none"))
    if name == "sgd_optimizer":
        with trusted():
            return torch.optim.SGD(objects[spec["module"]].parameters(), lr=spec["lr"])
    if name == "sgd_updater":
        module = objects[spec["module"]]
        lr = spec["lr"]

        def step(batch_size):
            with torch.no_grad():
                for p in module.parameters():
                    p -= lr * p.grad / batch_size
                    p.grad.zero_()

        return CallLog(step)
    raise ValueError(f"unknown builtin {name!r}")


def _import(value, ns, objects):
    """Turn a request value into the object the student's function receives."""
    if isinstance(value, dict) and "__build__" in value:
        kind = value["__build__"]
        if kind == "batches":
            obj = BatchIterable(value["batches"])
        elif kind == "module":
            obj = TrustedModule(value["layers"])
            if "state_dict" in value:
                obj.load_state_dict(value["state_dict"])
        elif kind == "student":
            obj = ns[value["name"]]
        elif kind == "builtin":
            obj = _builtin(value["name"], objects, value)
        elif kind == "tuple":
            obj = tuple(_import(v, ns, objects) for v in value["items"])
        elif kind == "leaf":
            obj = value["tensor"].detach().clone().requires_grad_(True)
        else:
            raise ValueError(f"unknown build kind {kind!r}")
        if "key" in value:
            objects[value["key"]] = obj
        return obj
    if isinstance(value, list):
        return [_import(v, ns, objects) for v in value]
    if isinstance(value, dict):
        return {k: _import(v, ns, objects) for k, v in value.items()}
    return value


def _export(value, depth: int = 0):
    """Turn anything the student returned into tensors and plain containers, tagged by kind."""
    if depth > 20:
        return {"__kind__": "object", "type": "too deeply nested", "repr": ""}
    if isinstance(value, torch.Tensor):
        plain = value.detach()
        if type(plain) is not torch.Tensor:
            plain = plain.as_subclass(torch.Tensor)
        if plain.device.type != "cpu":
            return {"__kind__": "tensor_on", "device": str(plain.device), "value": plain.cpu()}
        return plain.clone()
    if value is None or isinstance(value, (bool, int, float, str)):
        if type(value) not in (bool, int, float, str, type(None)):
            return {"__kind__": "object", "type": type(value).__name__, "repr": repr(value)[:200]}
        return value
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_export(v, depth + 1) for v in value[:MAX_ITEMS])
    if isinstance(value, list) and type(value) is list:
        return [_export(v, depth + 1) for v in value[:MAX_ITEMS]]
    if isinstance(value, dict) and type(value) is dict:
        return {str(k): _export(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    if kind.__module__ == "numpy" or kind.__module__.startswith("numpy."):
        import numpy as np

        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return {"__kind__": "ndarray", "type": name, "value": torch.from_numpy(value.copy())}
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"__kind__": "number", "type": name, "value": value.item()}
    if isinstance(value, torch.nn.Module):
        return {"__kind__": "module", "type": name,
                "state_dict": {k: _export(v) for k, v in value.state_dict().items()}}
    if isinstance(value, (types.GeneratorType, map, filter, zip)) or (
        hasattr(value, "__next__") and hasattr(value, "__iter__")
    ):
        items = []
        for item in value:
            items.append(_export(item, depth + 1))
            if len(items) >= MAX_ITEMS:
                break
        return {"__kind__": "iterator", "type": name, "items": items}
    if isinstance(value, (range, set, frozenset, tuple, list)):
        return {"__kind__": "sequence", "type": name,
                "items": [_export(v, depth + 1) for v in list(value)[:MAX_ITEMS]]}
    if isinstance(value, dict):
        return {"__kind__": "mapping", "type": name,
                "items": {str(k): _export(v, depth + 1)
                          for k, v in list(value.items())[:MAX_ITEMS]}}
    return {"__kind__": "object", "type": name, "repr": repr(value)[:200]}


def _error(exc: BaseException) -> dict:
    """Describe an exception raised by the student's code, with their frames only."""
    frames = [
        f"{f.filename}, line {f.lineno}, in {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith("<cell")
    ]
    message = str(exc)
    if len(message) > 500:
        message = message[:500] + "…"
    return {"type": type(exc).__name__, "message": message, "where": frames[-3:]}


def _seed(seed) -> None:
    if seed is not None:
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            import numpy as np

            np.random.seed(seed % 2**32)
        except ImportError:
            pass


# --- operations ---------------------------------------------------------------------------------

NS: dict = {"__name__": "__main__", "__builtins__": __builtins__}


def op_load(request: dict) -> dict:
    NS["get_ipython"] = lambda: _Shell()
    errors = []
    for label, source in request["cells"]:
        with open(os.path.join(CONFIG["scratch"], ".progress"), "w") as progress:
            progress.write(label)
        try:
            code = compile(source, f"<cell {label}>", "exec")
            exec(code, NS)  # noqa: S102 - running the submission is the sandbox's job
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            if isinstance(exc, SyntaxError):
                entry = {"type": "SyntaxError", "message": str(exc.msg),
                         "where": [f"<cell {label}>, line {exc.lineno}"]}
            else:
                entry = _error(exc)
            entry["cell"] = label
            errors.append(entry)
    defined = {k: type(v).__name__ for k, v in NS.items() if not k.startswith("__")}
    return {"ok": True, "defined": defined, "errors": errors, "isolation": LANDLOCK}


class _Shell:
    """Stands in for IPython's shell so ``get_ipython().run_line_magic(...)`` lines do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _run(request: dict, body):
    forbid = Forbid(list(request.get("forbid", [])))
    _seed(request.get("seed"))
    try:
        with forbid:
            answer = body()
        answer["ok"] = True
    except BaseException as exc:  # noqa: BLE001
        answer = {"ok": False, "error": _error(exc)}
    answer["violations"] = forbid.mode.seen
    return answer


def _lookup(name: str):
    if name not in NS:
        raise NameError(f"name {name!r} is not defined")
    return NS[name]


def op_call(request: dict) -> dict:
    objects: dict = {}

    def body():
        fn = _lookup(request["name"])
        args = _import(request.get("args", []), NS, objects)
        kwargs = _import(request.get("kwargs", {}), NS, objects)
        vjp = request.get("vjp")
        if vjp:
            for i in vjp["wrt"]:
                args[i] = args[i].detach().clone().requires_grad_(True)
        result = fn(*args, **kwargs)
        answer = {"result": _export(result)}
        if vjp:
            if not isinstance(result, torch.Tensor):
                raise TypeError(f"expected a tensor result to differentiate, got {type(result)}")
            if not result.requires_grad:
                answer["grads"] = [None for _ in vjp["wrt"]]
            else:
                with trusted():
                    grads = torch.autograd.grad(result, [args[i] for i in vjp["wrt"]],
                                                vjp["grad_output"], allow_unused=True)
                answer["grads"] = [_export(g) for g in grads]
        if request.get("return_args"):
            answer["args"] = [_export(a) for a in args]
            answer["arg_grads"] = [
                _export(a.grad) if isinstance(a, torch.Tensor) else None for a in args]
        answer["objects"] = {
            k: (_export(v) if not isinstance(v, CallLog) else {"calls": v.calls})
            for k, v in objects.items()
        }
        return answer

    return _run(request, body)


def op_module(request: dict) -> dict:
    objects: dict = {}

    def body():
        cls = _lookup(request["name"])
        module = cls(*_import(request.get("init_args", []), NS, objects),
                     **_import(request.get("init_kwargs", {}), NS, objects))
        answer = {"type": _export(module) if not isinstance(module, torch.nn.Module) else None,
                  "param_names": [n for n, _ in module.named_parameters()]
                  if isinstance(module, torch.nn.Module) else None}
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"{request['name']}(...) built a {type(module).__name__}, "
                            "expected a torch.nn.Module")
        if "state_dict" in request:
            with trusted():
                module.load_state_dict(request["state_dict"], strict=True)
        module.train(request.get("train", True))
        steps = []
        for step in request.get("steps", []):
            _seed(step.get("seed"))
            args = _import(step.get("args", []), NS, objects)
            wrt = step.get("wrt", [])
            for i in wrt:
                args[i] = args[i].detach().clone().requires_grad_(True)
            method = getattr(module, step.get("method", "__call__"))
            out = method(*args)
            record = {"output": _export(out)}
            if "grad_output" in step:
                with trusted():
                    module.zero_grad(set_to_none=True)
                    outputs = out if isinstance(out, (tuple, list)) else (out,)
                    grads = step["grad_output"]
                    grads = grads if isinstance(grads, (tuple, list)) else (grads,)
                    pairs = [(o, g) for o, g in zip(outputs, grads)
                             if isinstance(o, torch.Tensor) and o.requires_grad]
                    if pairs:
                        torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
                record["input_grads"] = [_export(args[i].grad) for i in wrt]
                record["param_grads"] = {n: _export(p.grad) for n, p in module.named_parameters()}
            steps.append(record)
        answer["steps"] = steps
        answer["state_dict"] = {k: _export(v) for k, v in module.state_dict().items()}
        return answer

    return _run(request, body)


def op_scenario(request: dict) -> dict:
    objects: dict = {}

    def body():
        scope = {"torch": torch, "trusted": trusted, "export": _export,
                 "BatchIterable": BatchIterable, "TrustedModule": TrustedModule, "lookup": _lookup}
        exec(compile(request["source"], "<grader scenario>", "exec"), scope)  # noqa: S102
        args = _import(request.get("args", []), NS, objects)
        return {"result": _export(scope["scenario"](NS, *args))}

    return _run(request, body)


OPS = {"load": op_load, "call": op_call, "module": op_module, "scenario": op_scenario}


def serve() -> None:
    """Seal this process, then answer the grader's requests until it closes the pipe."""
    global REQUESTS, ANSWERS, LANDLOCK
    _set_limits()
    REQUESTS = os.fdopen(CONFIG["fd_in"], "rb", buffering=0)
    ANSWERS = os.fdopen(CONFIG["fd_out"], "wb", buffering=0)
    LANDLOCK = _landlock() if CONFIG["landlock"] else "off: disabled by the grader's configuration"
    os.chdir(CONFIG["scratch"])
    os.environ.update({"D2L_COURSE_GRADING": CONFIG["chapter"], "HOME": CONFIG["scratch"],
                       "MPLCONFIGDIR": CONFIG["scratch"]})
    _send({"ok": True, "ready": True, "isolation": LANDLOCK})
    while True:
        request = _recv()
        if request is None:
            return
        answer = OPS[request["op"]](request)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            _send(answer)
        except Exception as exc:  # noqa: BLE001 - an unexportable answer is the student's error
            _send({"ok": False, "error": {"type": "ExportError", "message": str(exc), "where": []},
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


def fork_server() -> None:
    """Keep torch imported and fork a fresh sandbox per request; no student code runs here."""
    control = socket.socket(fileno=CONFIG["control_fd"])
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
                CONFIG.update(request["config"], fd_in=fd_in, fd_out=fd_out)
                try:
                    serve()
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            live.add(pid)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif request["op"] == "end":
            code = _end(request["pid"], live) if request["pid"] in live else None
            control.sendall(json.dumps({"code": code}).encode())


fork_server()
