"""Run-time half of from-scratch enforcement: record forbidden library ops the student calls.

Grader-supplied objects run their own ops inside ``trusted()``, which suspends recording.
"""

from __future__ import annotations

import threading

from torch.overrides import TorchFunctionMode

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

    def __enter__(self) -> Forbid:
        for dotted in self.objects:
            self._patch(dotted)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.mode.__exit__(*exc)
        for owner, attr, original in reversed(self.patched):
            setattr(owner, attr, original)


