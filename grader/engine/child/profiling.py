"""Reading the legacy autograd profiler's events of one watched call (see ``fromscratch``).

The events of each thread are pushes and pops of ranges: operator calls (``aten::mm``), the
range the dispatcher opens around each call into a dispatch mode (``PythonDispatchMode``), and
the named ranges the watch opens itself (the call as a whole, each trusted region).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

DISPATCH_RANGE = "PythonDispatchMode"


@dataclass
class Seen:
    """What the profiler saw outside trusted code: the dispatch-mode calls by the operator whose
    range holds them, those held by no operator's range, and the outermost forbidden operators.
    """

    by_op: collections.Counter[str] = field(default_factory=collections.Counter)
    unattributed: int = 0
    forbidden: dict[str, None] = field(default_factory=dict)


def read(threads: list, start: str, trusted: str, forbidden: frozenset[str]) -> Seen | None:
    """Read the events of a call watched between the pushes and pops of the range named
    ``start``, whose trusted regions are ranges named ``trusted``. ``forbidden`` holds operator
    names without namespace (the ``prims::`` namespace counts as forbidden when it is not
    empty). ``None`` when the ``start`` range is missing: the profiler was restarted."""
    main = next((t for t in threads
                 if any(e.kind() == "push" and e.name() == start for e in t[:4])), None)
    if main is None:
        return None
    seen = Seen()
    others = [t for t in threads if t is not main]
    _read_thread(main, start, trusted, forbidden, None, seen)
    spans = _trusted_spans(main, trusted) if others else []
    for thread in others:
        _read_thread(thread, start, trusted, forbidden, spans, seen)
    return seen


def _trusted_spans(events: list, trusted: str) -> list[tuple[float, float]]:
    opened, spans = {}, []
    for e in events:
        kind = e.kind()
        if kind == "push" and e.name() == trusted:
            opened[e.handle()] = e.start_us()
        elif kind == "pop" and e.handle() in opened:
            spans.append((opened.pop(e.handle()), e.start_us()))
    return spans


def _read_thread(events: list, start: str, trusted_name: str, forbidden: frozenset[str],
                 spans: list | None, seen: Seen) -> None:
    """Read one thread into ``seen``. The main thread (``spans`` is ``None``) is read between
    the push and the pop of the ``start`` range, its trusted ranges skipped; other threads are
    read whole, skipping what started within the main thread's trusted time ``spans``."""
    handles: list[int] = []
    ranges: list[tuple[str, bool, bool]] = []  # name, trusted, inside a forbidden operator
    started, start_handle = spans is not None, None
    for e in events:
        kind = e.kind()
        if kind == "push":
            name = e.name()
            if not started:
                if name == start:
                    started, start_handle = True, e.handle()
                continue
            parent, trusted, covered = ranges[-1] if ranges else ("", False, False)
            if not trusted:
                if name == trusted_name or spans and any(
                        a <= e.start_us() <= b for a, b in spans):
                    trusted = True
                elif name == DISPATCH_RANGE:
                    if "::" in parent:
                        seen.by_op[parent] += 1
                    elif parent != "detach":
                        seen.unattributed += 1
                elif forbidden and not covered and "::" in name:
                    namespace, _, base = name.partition("::")
                    if base in forbidden or namespace == "prims":
                        seen.forbidden[name] = None
                        covered = True
            handles.append(e.handle())
            ranges.append((name, trusted, covered))
        elif kind == "pop" and started:
            handle = e.handle()
            if handle == start_handle:
                break
            if handle in handles:
                while handles.pop() != handle:
                    ranges.pop()
                ranges.pop()
