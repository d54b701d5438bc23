"""What the engine is told: the course it grades (``Course``) and how to grade (``Options``).

The engine knows no course by name. A caller describes its course once (toolbox package,
protected packages, check modules, notebook markers, sandbox setup hooks, the comparison that
writes the messages) and builds one ``Options`` per grading run; every route (CLI, ``pytest
--submission``, ``grade-all``, nbgrader) passes both whole.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox and of what crosses back from it.

    Seconds are budgets in the sandbox's CPU time, all its processes together, with a
    wall-clock backstop of several times that (``load_seconds`` for running the cells,
    ``call_seconds`` for one call unless the exercise sets its own); ``cpu_seconds``,
    ``memory_bytes`` (data segment) and ``output_bytes`` (printed output) are kernel limits of
    the sandbox process; ``processes`` bounds the tasks a sandbox may run at once. What crosses
    back is bounded too: ``answer_bytes`` per answer frame, ``text_chars`` per string (messages,
    names, tracebacks, returned strings), ``tensor_elements`` per returned tensor (its logical
    size, checked before anything is materialised).
    """

    load_seconds: float = 60.0
    call_seconds: float = 20.0
    cpu_seconds: int = 600
    memory_bytes: int = 4 * 2**30
    output_bytes: int = 8 * 2**20
    start_seconds: float = 60.0
    restarts: int = 4
    processes: int = 32
    answer_bytes: int = 256 * 2**20
    text_chars: int = 4000
    tensor_elements: int = 64 * 2**20

    def replace(self, **changes: object) -> Limits:
        """A copy with ``changes`` (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Options:
    """How to grade one submission: the same object for every route.

    ``seed`` (``None``: a new one, recorded in the report), ``exercises`` (``None``: all),
    ``isolate`` (Landlock and namespaces; off only for debugging), ``limits``, ``device``
    (``"cpu"`` or ``"cuda"``/``"cuda:N"``: where the checks create inputs and where results are
    expected), ``student`` (recorded in the report), ``lang`` (the language of the messages:
    ``"en"`` or ``"zh"``, as the course's catalogues offer).
    """

    seed: int | None = None
    exercises: tuple[str, ...] | None = None
    isolate: bool = True
    limits: Limits = field(default_factory=Limits)
    device: str = "cpu"
    student: str | None = None
    lang: str = "en"

    def replace(self, **changes: object) -> Options:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Course:
    """The names the engine learns from its caller.

    ``toolbox``: the student toolbox package, readable and importable in the sandbox.
    ``protected``: packages the sandbox must never import or read (solutions, graders).
    ``distribution``: the project's installed distribution name (its metadata is hidden too).
    ``checks``: the package whose ``chNN`` modules (or ``chNN/`` packages) hold the checks.
    ``setup``: ``(module, function)`` pairs called in the sandbox with the chapter id, after
    limits and before file isolation (e.g. the toolbox's chapter gate).
    ``checker``: ``module:function`` that compares a tensor with the expected one and returns
    the student-facing message (the one students call in worked examples).
    ``language``: ``module:function`` called with the grading's language before the checks run,
    so that the checker's messages come in that language (empty: English only).
    ``messages``: ``module:function`` giving a ``gettext`` function for a language, which
    translates the engine's own messages (``grader.engine.words``; empty: English only).
    """

    toolbox: str
    protected: tuple[str, ...]
    checks: str
    checker: str
    distribution: str = ""
    setup: tuple[tuple[str, str], ...] = ()
    demo_marker: str = "# Demonstration"
    demo_tag: str = "demo"
    grade_marker: str = "# Autograded"
    language: str = ""
    messages: str = ""

    def chapters(self) -> list[str]:
        """The chapters with checks (``chNN`` modules or packages of ``checks``), in order."""
        return _chapters(self.checks)

    def exercises(self, chapter: str) -> dict:
        """The ``EXERCISES`` table of ``chapter``'s checks."""
        return importlib.import_module(f"{self.checks}.{chapter}").EXERCISES

    def check_path(self, chapter: str) -> str:
        """The file or folder pytest collects for ``chapter``."""
        spec = importlib.util.find_spec(f"{self.checks}.{chapter}")
        if spec is None or spec.origin is None:
            raise ValueError(f"no checks for {chapter}")
        if spec.submodule_search_locations:
            return list(spec.submodule_search_locations)[0]
        return spec.origin

    def compare(self):
        """The comparison function named by ``checker``."""
        module, _, name = self.checker.partition(":")
        return getattr(importlib.import_module(module), name)

    def use_language(self, lang: str) -> None:
        """Make the engine's and the course's messages speak ``lang`` in this process."""
        from grader.engine import words

        words.use(self.messages, lang)
        if self.language:
            module, _, name = self.language.partition(":")
            getattr(importlib.import_module(module), name)(lang)


@cache
def _chapters(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [m.name for m in pkgutil.iter_modules(root.__path__)]
    return sorted(n for n in names if len(n) == 4 and n.startswith("ch") and n[2:].isdigit())


_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30}


def parse_limits(settings: list[str] | None, base: Limits | None = None) -> Limits:
    """``Limits`` from ``name=value`` strings (``call_seconds=5``, ``memory_bytes=2G``).

    Raises ``ValueError`` with the known names on an unknown name or a bad value.
    """
    limits = base or Limits()
    fields = {f.name: f.type for f in dataclasses.fields(Limits)}
    changes: dict[str, object] = {}
    for setting in settings or []:
        name, sep, value = setting.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            raise ValueError(f"unknown limit {setting!r}; limits are name=value with name one of "
                             + ", ".join(fields))
        text = value.strip().lower()
        scale = 1
        if name.endswith("_bytes") and text[-1:] in _UNITS:
            text, scale = text[:-1], _UNITS[text[-1]]
        try:
            number = float(text) * scale
        except ValueError:
            raise ValueError(f"limit {name} needs a number, got {value!r}") from None
        if number <= 0:
            raise ValueError(f"limit {name} must be positive, got {value!r}")
        changes[name] = int(number) if fields[name] in ("int", int) else number
    return limits.replace(**changes)
