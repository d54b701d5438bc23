"""Run-time half of from-scratch enforcement: see the library ops an exercise reimplements when
the student's code runs them, count the ATen operators it runs, and notice when the student's
process switched any of this off.

Three observers watch each request's code, so that switching one or two off hides nothing
(switching all off takes private torch APIs, which the static scan reports):

- a ``TorchFunctionMode`` sees Python-level torch calls by name (``torch.softmax``,
  ``F.linear``, ``torch.ops.aten._softmax``) and gives the clearest message;
- a ``TorchDispatchMode`` sees each ATen operator that reaches the dispatcher, composite ones
  already decomposed (``aten::_softmax`` however it was reached); it counts them, and walks the
  Python frames that led to each one to find forbidden library functions (a forbidden class's
  methods, ``torch.optim``'s functional optimizers, ``torch._refs``/``torch._decomp`` versions);
- the legacy autograd profiler's hooks see every operator call as it enters the dispatcher,
  composite and nested ones included (``aten::linear``, ``aten::dropout``, the
  ``aten::log_softmax`` inside ``cross_entropy``, ``prims::`` ops of ``torch._refs``).

``operators.operators`` maps forbidden names to the operators they end in. After the call,
``Forbid`` checks its own instruments: both modes still on top of their stacks, the profiler
still running with the range it opened, the trusted depth back to zero, its forbidden sets
unchanged, the sandbox package's modules as they were loaded (anything changed is put back),
patched library classes still patched, and every operator the dispatch mode counted matched by
the profiler's record of the mode being called (a recorder disabled or edited, or a forged
trusted depth, breaks that match). Any failure is reported as tampering (entries starting with
``TAMPERED``), which zeroes the exercise.

Grader-supplied objects run their ops inside ``trusted()``, which suspends recording; only the
code fixed by ``register_grader_code`` (and a request's scenario) may enter it. The torch entry
points used here are looked up when the sandbox package is imported (in the fork server, before
any student code), so a notebook that patches torch's Python attributes does not change them.
"""

from __future__ import annotations

import collections
import functools
import inspect
import secrets
import sys
import types

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from . import profiling
from .operators import operators

TAMPERED = "tampered: "
# Modules whose Python functions reimplement operators (``torch._refs.softmax``): a frame there
# named like a forbidden operator counts as that operator.
INTERNALS = ("torch._refs", "torch._decomp", "torch._prims", "torch._prims_common")
# Dotted forbid entries under these packages forbid the whole package (``torch.optim._functional``
# is the optimizer without its class).
PACKAGES = ("torch.optim", "torch.distributions")

_getframe = sys._getframe
_push_function_mode = torch._C._push_on_torch_function_stack
_pop_function_mode = torch._C._pop_torch_function_stack
_function_modes = torch._C._len_torch_function_stack
_function_mode_at = torch._C._get_function_stack_at
_push_dispatch_mode = torch._C._push_on_torch_dispatch_stack
_pop_dispatch_mode = functools.partial(torch._C._pop_torch_dispatch_stack, None)
_dispatch_modes = torch._C._len_torch_dispatch_stack
_dispatch_mode_at = torch._C._get_dispatch_stack_at
OPERATOR_NAMES = frozenset(s.name.partition("::")[2] for s in torch._C._jit_get_all_schemas())

try:
    from torch._C._profiler import ProfilerState, _ExperimentalConfig
    from torch.autograd import ProfilerConfig

    _PROFILER = ProfilerConfig(ProfilerState.CPU, False, False, False, False, False,
                               _ExperimentalConfig())
    _profiler_start = torch._C._autograd._enable_profiler_legacy
    _profiler_stop = torch._C._autograd._disable_profiler_legacy
    _profiling = torch._C._autograd._profiler_enabled
    _kineto_stop = torch._C._autograd._disable_profiler
    _range_open = torch._C._autograd._record_function_with_args_enter
    _range_close = torch._C._autograd._record_function_with_args_exit
except (ImportError, AttributeError):  # a torch without the legacy profiler: two observers
    _PROFILER = None

_GRADER_CODE: frozenset[types.CodeType] = frozenset()  # fixed by ``register_grader_code``
# Each sealed module's globals as sealed: name -> (object, what its contents were: the code of
# the module's own functions, the attributes of its own classes).
_SNAPSHOTS: dict[types.ModuleType, dict[str, tuple[object, object]]] = {}


def code_objects(*owners: object) -> frozenset[types.CodeType]:
    """The code of ``owners`` (modules' own functions and classes, classes, functions, code
    objects), nested functions and lambdas included."""
    found: set[types.CodeType] = set()
    todo = list(owners)
    while todo:
        owner = todo.pop()
        if isinstance(owner, types.CodeType):
            if owner not in found:
                found.add(owner)
                todo.extend(c for c in owner.co_consts if isinstance(c, types.CodeType))
        elif isinstance(owner, types.ModuleType):
            todo.extend(v for v in vars(owner).values()
                        if getattr(v, "__module__", None) == owner.__name__)
        elif isinstance(owner, type):
            for value in vars(owner).values():
                value = getattr(value, "__func__", value)
                if isinstance(value, property):
                    todo.extend(f for f in (value.fget, value.fset, value.fdel) if f)
                elif isinstance(value, types.FunctionType):
                    todo.append(value)
        elif isinstance(owner, types.FunctionType):
            todo.append(owner.__code__)
    return frozenset(found)


def register_grader_code(*modules: types.ModuleType) -> None:
    """Fix the grader code, once: the code of ``modules`` may enter ``trusted()`` and ends the
    dispatch mode's frame walks, and their globals are checked (and put back) after every
    watched call. The sandbox package calls this as it is loaded in the fork server, before any
    student code; later calls change nothing, so student code cannot register itself."""
    global _GRADER_CODE
    if _GRADER_CODE:
        return
    _GRADER_CODE = code_objects(*modules)
    for module in modules:
        _SNAPSHOTS[module] = {k: (v, _contents(v, module)) for k, v in vars(module).items()
                              if not k.startswith("__")}


def _contents(value: object, module: types.ModuleType) -> object:
    if getattr(value, "__module__", None) != module.__name__:
        return None
    if isinstance(value, types.FunctionType):
        return value.__code__
    if isinstance(value, type):
        return dict(vars(value))
    return None


def _same(value: object, contents: object) -> bool:
    if isinstance(contents, types.CodeType):
        return value.__code__ is contents
    if isinstance(contents, dict):
        now = vars(value)
        return len(now) == len(contents) and all(now.get(k) is v for k, v in contents.items())
    return True


def restore_grader_code() -> list[str]:
    """Put back what was changed in the sealed modules since they were sealed (a global rebound,
    a function's code or a class attribute replaced); return the changed names."""
    changed = []
    for module, snapshot in _SNAPSHOTS.items():
        for name, (value, contents) in snapshot.items():
            if vars(module).get(name) is value and _same(value, contents):
                continue
            changed.append(f"{module.__name__}.{name}")
            setattr(module, name, value)
            if isinstance(contents, types.CodeType):
                value.__code__ = contents
            elif isinstance(contents, dict):
                for key in [k for k in vars(value) if k not in contents]:
                    delattr(value, key)
                for key, attribute in contents.items():
                    if vars(value).get(key) is not attribute and key not in ("__dict__",
                                                                               "__weakref__"):
                        setattr(value, key, attribute)
    return changed


class _Trust:
    """The trusted depth, process-wide (a grader's backward pass may run on autograd's device
    threads), and the watch of the request in progress."""

    depth = 0
    watch: Forbid | None = None


_TRUST = _Trust()


class trusted:  # noqa: N801 - a context manager used like a keyword by the grader's code
    """Suspend from-scratch recording while grader-supplied code runs inside a student call.

    Only grader code (``register_grader_code``, and the scenario of the request) is trusted; anyone
    else's ``with trusted():`` suspends nothing, and the watch reports the attempt as tampering.
    """

    def __enter__(self) -> trusted:
        self.watch = _TRUST.watch
        caller = _getframe(1).f_code
        self.granted = caller in _GRADER_CODE or (
            self.watch is not None and caller in self.watch.grader_code)
        self.handle = None
        if not self.granted:
            if self.watch is not None:
                self.watch.tamper("the notebook's code entered the grader's trusted mode")
            return self
        if self.watch is not None:
            self.handle = self.watch.open_trusted()
        _TRUST.depth += 1
        return self

    def __exit__(self, *exc) -> None:
        if self.granted:
            _TRUST.depth -= 1
            if self.handle is not None:
                try:
                    _range_close(self.handle)
                except RuntimeError:
                    pass  # the profiler was stopped: the watch reports that


class _FunctionWatch(TorchFunctionMode):
    """Report Python-level calls of forbidden torch functions to the watch."""

    def __init__(self, watch: Forbid):
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        if _TRUST.depth == 0:
            self.watch.called(func)
        return func(*args, **(kwargs or {}))


class _DispatchWatch(TorchDispatchMode):
    """Report each ATen operator the student's code runs to the watch."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # keep the handler a plain method: no torch._dynamo in the sandbox

    def __init__(self, watch: Forbid):
        super().__init__()
        self.watch = watch

    def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
        if _TRUST.depth == 0:
            self.watch.dispatched(func)
        return func(*args, **(kwargs or {}))


def _recording_init(original, found: dict, label: str):
    """A forbidden class's ``__init__`` that records its use first."""

    def init(obj, *args, **kwargs):
        if _TRUST.depth == 0:
            found[label] = None
        return original(obj, *args, **kwargs)

    return init


def _recording_call(target, found: dict, label: str):
    """A forbidden function that records its use first."""

    def wrapper(*args, **kwargs):
        if _TRUST.depth == 0:
            found[label] = None
        return target(*args, **kwargs)

    return wrapper


_HANDLERS = ((_FunctionWatch, "__torch_function__", _FunctionWatch.__torch_function__),
             (_DispatchWatch, "__torch_dispatch__", _DispatchWatch.__torch_dispatch__))
# Grader code that stands between the student's code and a library call without being either:
# frame walks go through it.
_PASS_THROUGH = frozenset({handler.__code__ for _, _, handler in _HANDLERS}
                          | code_objects(_recording_init, _recording_call)
                          - {_recording_init.__code__, _recording_call.__code__})


def _where(frame: types.FrameType) -> str:
    """``module.qualified_name`` of the function a frame runs."""
    code = frame.f_code
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{getattr(code, 'co_qualname', code.co_name)}"


def _python_label(func: object, name: str) -> str:
    namespace = getattr(func, "namespace", None)
    if isinstance(namespace, str):
        return f"torch.ops.{namespace}.{name}"
    owner = getattr(func, "__module__", None) or "torch.Tensor"
    return f"{owner}.{name}".replace("torch._C._nn", "torch.nn.functional")


def _is_student(code: types.CodeType) -> bool:
    return code.co_filename.startswith("<cell ")


class Forbid:
    """Watch the code of one request: ``with Forbid(forbid, count_ops) as watch: ...``.

    ``forbid`` holds the exercise's entries: bare names (``"softmax"``) and dotted classes or
    functions (``"torch.optim.Optimizer"``, ``"torch.nn.init.normal_"``), which are also patched
    to record their use. Afterwards ``violations()`` lists what was found and ``ops()`` the
    operators counted. ``grader_code`` is the request's own grader code (a scenario's), which
    may enter ``trusted()``. Without forbidden names and counting nothing is installed.
    """

    def __init__(self, forbid: list[str], count_ops: bool = False,
                 grader_code: frozenset[types.CodeType] = frozenset()):
        self.forbid = tuple(forbid)
        self.grader_code = grader_code
        self.active = bool(self.forbid) or count_ops
        self.names = frozenset(f for f in self.forbid if "." not in f)
        self.operators = operators(self.forbid)
        self.watched_names = self.names | self.operators
        self._sealed = (self.names, self.operators, self.watched_names, self.grader_code)
        self.found: dict[str, None] = {}
        self.operator_hits: dict[str, None] = {}
        self.profile_hits: dict[str, None] = {}
        self.tampering: dict[str, None] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.patched: list[tuple[object, str, object, object]] = []  # owner, name, was, now
        self.codes: dict[types.CodeType, str] = {}
        self.packages = tuple(p for p in PACKAGES
                              if any(f.startswith(p + ".") for f in self.forbid))
        self._verdicts: dict[types.CodeType, str | None] = {}
        self._operator_of: dict[object, tuple[str, bool]] = {}
        token = secrets.token_hex(8)
        self._start_name, self._trusted_name = f"d2l-watch-{token}", f"d2l-trusted-{token}"
        self._start = None
        self.function_mode: _FunctionWatch | None = None
        self.dispatch_mode: _DispatchWatch | None = None

    # -- what the observers report -----------------------------------------------------------

    def tamper(self, why: str) -> None:
        """Note that the instrumentation was interfered with."""
        self.tampering[why] = None

    def open_trusted(self):
        """Open the profiler range that marks a trusted region (``None`` without a profiler)."""
        if _PROFILER is None or self._start is None:
            return None
        return _range_open(self._trusted_name)

    def called(self, func: object) -> None:
        name = getattr(func, "__name__", "")
        name = name.partition(".")[0] if isinstance(name, str) else ""
        if name in self.watched_names:
            self.found[_python_label(func, name)] = None

    def dispatched(self, func: object) -> None:
        known = self._operator_of.get(func)
        if known is None:
            schema = getattr(func, "_schema", None)
            full = schema.name if schema is not None else str(func)
            namespace, _, base = full.partition("::")
            forbidden = bool(self.forbid) and (base in self.operators or namespace == "prims")
            known = self._operator_of[func] = (full, forbidden)
        full, forbidden = known
        self.counts[full] += 1
        if forbidden:
            entry = self._entry_point()
            self.operator_hits[f"{entry} (operator {full})" if entry else f"operator {full}"] = None
        if self.codes or self.packages or self.names:
            label = self._forbidden_frame()
            if label:
                self.found[label] = None

    def _judge(self, frame: types.FrameType) -> str | None:
        code = frame.f_code
        if _is_student(code):
            return None
        if code in self.codes:
            return self.codes[code]
        module = frame.f_globals.get("__name__", "")
        if not isinstance(module, str):
            return None
        if any(module == p or module.startswith(p + ".") for p in self.packages):
            return _where(frame)
        name = code.co_name
        internal = any(module == p or module.startswith(p + ".") for p in INTERNALS)
        if (internal and name in self.watched_names) or (
                name in self.names and name not in OPERATOR_NAMES):
            return _where(frame)
        return None

    def _is_grader(self, code: types.CodeType) -> bool:
        """Whether a frame walk stops at ``code``: the grader's, not merely passed through."""
        return (code in _GRADER_CODE or code in self.grader_code) and code not in _PASS_THROUGH

    def _forbidden_frame(self) -> str | None:
        """The outermost forbidden library function among the frames that led to this operator
        (the one the student's code called)."""
        frame, found = _getframe(3), None
        while frame is not None:
            code = frame.f_code
            if self._is_grader(code):
                break
            if code not in self._verdicts:
                self._verdicts[code] = self._judge(frame)
            found = self._verdicts[code] or found
            frame = frame.f_back
        return found

    def _entry_point(self) -> str | None:
        """The library function the student's code called to reach this operator, if any."""
        frame, below = _getframe(3), None
        while frame is not None:
            code = frame.f_code
            if _is_student(code):
                return _where(below) if below is not None else None
            if self._is_grader(code):
                return None
            if code not in _PASS_THROUGH:
                below = frame
            frame = frame.f_back
        return None

    # -- patching dotted names ------------------------------------------------------------------

    def _patch(self, dotted: str) -> None:
        module_name, _, attr = dotted.rpartition(".")
        try:
            owner = __import__(module_name, fromlist=[attr])
            target = getattr(owner, attr)
        except (ImportError, AttributeError):
            return
        found = self.found

        if isinstance(target, type):
            for value in vars(target).values():
                value = getattr(value, "__func__", value)
                if isinstance(value, types.FunctionType):
                    self.codes[value.__code__] = dotted
            init = _recording_init(target.__init__, found, dotted)
            own = vars(target).get("__init__")  # None: inherited, removed again afterwards
            self.patched.append((target, "__init__", own, init))
            target.__init__ = init
        elif callable(target):
            # A decorator's wrapper shares one code object among all it wraps (torch.distributed's
            # collectives): record the wrapped function's own code.
            code = getattr(inspect.unwrap(target), "__code__", None)
            if code is not None:
                self.codes[code] = dotted
            wrapper = _recording_call(target, found, dotted)
            self.patched.append((owner, attr, target, wrapper))
            setattr(owner, attr, wrapper)

    # -- entering and leaving -----------------------------------------------------------------

    def __enter__(self) -> Forbid:
        if not self.active:
            return self
        _TRUST.watch, _TRUST.depth = self, 0
        for dotted in self.forbid:
            if "." in dotted:
                self._patch(dotted)
        if _PROFILER is not None:
            for stop in (_profiler_stop, _kineto_stop):  # a profiler the notebook left on
                if _profiling():
                    try:
                        stop()
                    except RuntimeError:
                        pass
            if _profiling():
                self.tamper("a profiler the grader could not stop was running")
            if not _profiling():
                _profiler_start(_PROFILER)
                self._start = _range_open(self._start_name)
        if self.forbid:
            self.function_mode = _FunctionWatch(self)
            _push_function_mode(self.function_mode)
        self.dispatch_mode = _DispatchWatch(self)
        _push_dispatch_mode(self.dispatch_mode)
        return self

    def __exit__(self, *exc) -> None:
        if not self.active:
            return
        self._leave_mode(self.dispatch_mode, _dispatch_modes, _dispatch_mode_at, _pop_dispatch_mode,
                         "dispatch")
        if self.function_mode is not None:
            self._leave_mode(self.function_mode, _function_modes, _function_mode_at,
                             _pop_function_mode, "function")
        for owner, attr, original, replacement in reversed(self.patched):
            if getattr(owner, attr, None) is not replacement:
                self.tamper(f"the patched {getattr(owner, '__name__', owner)}.{attr} was restored")
            if original is None:
                if attr in vars(owner):
                    delattr(owner, attr)
            else:
                setattr(owner, attr, original)
        if _TRUST.depth != 0:
            self.tamper(f"the trusted depth was left at {_TRUST.depth}")
        _TRUST.watch, _TRUST.depth = None, 0
        if self._sealed != (self.names, self.operators, self.watched_names, self.grader_code):
            self.tamper("the forbidden names or the grader code were changed")
        for name in restore_grader_code():
            self.tamper(f"the grader's {name} was changed")
        for mode in (self.function_mode, self.dispatch_mode):
            if mode is not None and (mode.watch is not self or "__torch_function__" in vars(mode)
                                     or "__torch_dispatch__" in vars(mode)):
                self.tamper("a recorder was changed")
        if self._start is not None:
            self._read_profile()

    def _leave_mode(self, mode, count, at, pop, kind: str) -> None:
        stack = [at(i) for i in range(count())]
        if not stack or stack[-1] is not mode:
            self.tamper(f"the {kind} mode that watches the call was removed or covered")
        if any(m is mode for m in stack):
            while count() and pop() is not mode:
                pass

    def _read_profile(self) -> None:
        try:
            _range_close(self._start)  # even when stopped: a range left open would end later
        except RuntimeError:
            self.tamper("the profiler that watches the call was restarted")
        if not _profiling():
            self.tamper("the profiler that watches the call was stopped")
            return
        seen = profiling.read(_profiler_stop(), self._start_name, self._trusted_name,
                              self._sealed[1] if self.forbid else frozenset())
        if seen is None:
            self.tamper("the profiler that watches the call was restarted")
            return
        for operator in seen.forbidden:
            self.profile_hits[f"operator {operator}"] = None
        by_op, unattributed = seen.by_op, seen.unattributed
        # Each entry into the dispatch mode outside trusted code is counted by the mode and
        # recorded by the profiler, mostly under the operator's own range (``aten::detach`` of
        # autograd's bookkeeping and the profiler's own operators have none).
        unseen = sum(max(0, n - by_op[op]) for op, n in self.counts.items()
                     if op != "aten::detach")
        uncounted = sum(max(0, n - self.counts[op]) for op, n in by_op.items())
        if uncounted:
            self.tamper("the profiler saw operator calls that the dispatch mode did not count "
                        f"({uncounted}): a recorder was switched off or edited")
        elif unseen > unattributed:
            self.tamper("the dispatch mode counted operator calls that the profiler did not see "
                        f"({unseen - unattributed}): the profiler was switched off")

    # -- results --------------------------------------------------------------------------------

    def violations(self) -> list[str]:
        """What the student's code used: library functions by name when a Python-level observer
        saw them, else the operators reached; then tampering, prefixed with ``TAMPERED``."""
        used = list(self.found) or list(self.operator_hits) or list(self.profile_hits)
        return used + [TAMPERED + why for why in self.tampering]

    def ops(self) -> dict:
        """The operators the student's code ran: ``{"total": n, "by_op": {name: n}}``."""
        return {"total": sum(self.counts.values()), "by_op": dict(self.counts)}
