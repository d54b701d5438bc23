"""The pytest plugin behind every grading route: options, fixtures, markers and the report.

A check module (``grader/checks/chNN.py``) declares ``EXERCISES`` (name → ``Exercise``: points,
forbidden library ops, time budget) and tests marked ``@exercise("name")``. Tests use the
``student`` fixture to run the submission's code in the sandbox and the helpers in
``grader.compare`` to judge what comes back. The plugin turns test outcomes into the report:
an exercise's score is its points times the weighted share of its tests that passed, and zero
when it used a forbidden op (found at run time or in its source).
"""

from __future__ import annotations

import inspect
import secrets
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from grader.engine.compare import CheckFailure, use_checker
from grader.engine.options import Course, Options, parse_limits
from grader.engine.sandbox import Answer, Sandbox, SandboxDied, StudentError, StudentFault
from grader.engine.submission import Submission, SubmissionError, read_submission


@dataclass(frozen=True)
class Exercise:
    """What the grader knows about one exercise besides its checks.

    ``forbid``: library ops the exercise reimplements. A bare name (``"softmax"``) is a torch
    function or Tensor method, caught at run time by its name and by the ATen operators its
    functionality ends in (``grader/engine/child/operators.py``: aliases, ``torch.ops``,
    ``torch._C`` and fused kernels included); a dotted name (``"torch.optim.Optimizer"``,
    ``"torch.nn.LSTM"``) is a class or function patched to record its use, whose code and
    operators are watched too. ``"numpy"`` forbids numpy. ``scan`` lists attribute names flagged
    in the exercise's source (default: the last component of each ``forbid`` entry); with any
    ``forbid`` entry the scan also reports constructs a from-scratch answer never needs
    (``grader/engine/scan.py``). ``seconds`` is the budget of each call (the sandbox's CPU time).
    """

    points: float
    forbid: tuple[str, ...] = ()
    scan: tuple[str, ...] | None = None
    seconds: float = 20.0
    title: str = ""

    def scan_names(self) -> tuple[str, ...]:
        """Names the static scan looks for."""
        if self.scan is not None:
            return self.scan
        return tuple(dict.fromkeys(f.rsplit(".", 1)[-1] for f in self.forbid))


def exercise(name: str, weight: float = 1.0) -> pytest.MarkDecorator:
    """Mark a test as one of ``name``'s checks, worth ``weight`` relative to its siblings."""
    return pytest.mark.exercise(name, weight=weight)


@dataclass
class TestResult:
    """The outcome of one check."""

    exercise: str
    name: str
    weight: float
    passed: bool
    message: str
    seconds: float = 0.0


@dataclass
class Grading:
    """State of one grading session: the submission, its sandbox and the results so far."""

    chapter: str
    exercises: dict[str, Exercise]
    seed: int
    submission: Submission | None
    load_error: str | None
    course: Course
    options: Options
    results: list[TestResult] = field(default_factory=list)
    violations: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    poisoned: dict[str, str] = field(default_factory=dict)
    current: str | None = None
    sandbox: Sandbox | None = None
    report: dict | None = None

    @property
    def selected(self) -> tuple[str, ...] | None:
        return self.options.exercises

    @property
    def device(self) -> torch.device:
        return torch.device(self.options.device)

    def open(self) -> Sandbox:
        if self.load_error:
            raise StudentFault(self.load_error)
        if self.sandbox is None:
            self.sandbox = Sandbox(self.submission.cells, self.chapter, self.course,
                                   self.options)
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


class Student:
    """What checks use to run the student's code: every call goes through the sandbox."""

    def __init__(self, grading: Grading):
        self._grading = grading

    @property
    def exercise(self) -> Exercise:
        return self._grading.exercises[self._grading.current]

    def _send(self, request: dict, what: str) -> dict:
        grading = self._grading
        name = grading.current
        if name in grading.poisoned:
            raise StudentFault(grading.poisoned[name])
        request.setdefault("forbid", list(self.exercise.forbid))
        try:
            answer: Answer = grading.open().run(request, what, self.exercise.seconds)
        except StudentError as exc:
            self._record(exc.violations)
            raise
        except SandboxDied as exc:
            grading.poisoned[name] = str(exc)
            raise
        self._record(answer.violations)
        return answer.data

    def _record(self, violations: list[str]) -> None:
        if violations:
            seen = self._grading.violations.setdefault(self._grading.current, [])
            seen.extend(v for v in violations if v not in seen)

    def defined(self, name: str) -> bool:
        """Whether the submission defines ``name``."""
        return self._grading.open().defined(name)

    def call(self, name: str, *args: object, kwargs: dict | None = None, vjp: dict | None = None,
             return_args: bool = False, seed: int | None = None, what: str | None = None,
             count_ops: bool = False) -> dict:
        """Call the student's ``name(*args, **kwargs)``; return the sandbox's answer dict.

        ``vjp={"wrt": [i, ...], "grad_output": G}`` also returns ``grads`` of the result with
        respect to those positional arguments. ``return_args`` returns ``args`` and ``arg_grads``
        after the call (for in-place updates). ``seed`` seeds torch, random and numpy first.
        ``count_ops`` also returns ``ops``: ``{"total": n, "by_op": {"aten::mul": n, ...}}``, the
        ATen operators that reached the dispatcher while the student's code ran (composite ops
        counted as the operators they decompose into, plus a constant few for copying the result
        out; grader-supplied trusted objects and argument set-up not counted). A Python loop over
        rows makes the count grow with the number of rows, a vectorized version does not:
        compare the counts of two input sizes to judge vectorization. The sandbox cross-checks
        the count against the profiler; interference zeroes the exercise.
        """
        request = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs or {},
                   "return_args": return_args, "seed": seed, "count_ops": count_ops}
        if vjp:
            request["vjp"] = vjp
        return self._send(request, what or f"{name}(...)")

    def result(self, name: str, *args: object, **options: object) -> object:
        """The exported return value of ``name(*args)``."""
        return self.call(name, *args, **options)["result"]

    def module(self, name: str, *, init_args: tuple = (), init_kwargs: dict | None = None,
               state_dict: dict | None = None, steps: list[dict] = (), train: bool = True,
               what: str | None = None) -> dict:
        """Build the student's module class and run ``steps`` (see ``grader/child.py``)."""
        request = {"op": "module", "name": name, "init_args": list(init_args),
                   "init_kwargs": init_kwargs or {}, "steps": list(steps), "train": train}
        if state_dict is not None:
            request["state_dict"] = state_dict
        return self._send(request, what or f"{name}")

    def scenario(self, fn, *args: object, what: str, name: str | None = None) -> object:
        """Run the grader-written function ``fn(ns, *args)`` in the sandbox; return its result.

        ``fn`` is sent as source and sees the student's namespace ``ns`` plus ``torch``,
        ``trusted`` and ``lookup``; ``name`` (default: the current exercise) must be defined.
        """
        source = textwrap.dedent(inspect.getsource(fn))
        source = source.replace(f"def {fn.__name__}(", "def scenario(", 1)
        request = {"op": "scenario", "name": name or self._grading.current, "source": source,
                   "args": list(args)}
        return self._send(request, what)["result"]


# --- pytest hooks and fixtures -------------------------------------------------------------------

GRADING = pytest.StashKey[Grading]()
SETUP = pytest.StashKey["Setup"]()
_DEFAULT_COURSE: list[Course] = []


@dataclass
class Setup:
    """What the engine's own routes hand to pytest whole: course, options, paths.

    Registered as a plugin by ``grader.engine.run.grade``; the plain ``pytest --submission``
    route builds the same from its command-line flags and the course its conftest registered.
    """

    course: Course
    options: Options
    submission: str
    report: str | None = None
    chapter: str | None = None
    result: dict | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SETUP] = self


def last_report(setup: Setup) -> dict | None:
    """The report of the session that ``setup`` was registered in (``None`` if it did not end)."""
    return setup.result


def use_course(course: Course) -> None:
    """Name the course that plain ``pytest chNN.py --submission`` runs grade (from a conftest)."""
    _DEFAULT_COURSE[:] = [course]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("d2l-course grading")
    group.addoption("--submission", help="the student's .ipynb or .py to grade")
    group.addoption("--seed", type=int, default=None, help="seed of the random inputs")
    group.addoption("--exercise", action="append", default=None, help="grade only this exercise")
    group.addoption("--report", default=None, help="write the JSON report here")
    group.addoption("--device", default="cpu", help="device of the checks' inputs (cpu, cuda)")
    group.addoption("--limit", action="append", default=None, metavar="NAME=VALUE",
                    help="a sandbox limit, e.g. call_seconds=5 or memory_bytes=2G")
    group.addoption("--no-isolation", action="store_true",
                    help="skip Landlock and namespaces (debugging only)")


def _setup_from_flags(config: pytest.Config) -> Setup | None:
    path = config.getoption("submission")
    if not path:
        return None
    if not _DEFAULT_COURSE:
        raise pytest.UsageError("no course registered: run the checks of a course's check folder")
    try:
        limits = parse_limits(config.getoption("limit"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    selected = config.getoption("exercise")
    options = Options(seed=config.getoption("seed"),
                      exercises=tuple(selected) if selected else None,
                      isolate=not config.getoption("no_isolation"), limits=limits,
                      device=config.getoption("device"))
    return Setup(_DEFAULT_COURSE[0], options, path, config.getoption("report"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(name, weight=1): a check of one exercise")
    config.addinivalue_line("markers", "gpu: needs CUDA; skipped without it")
    if SETUP not in config.stash:
        setup = _setup_from_flags(config)
        if setup is not None:
            config.stash[SETUP] = setup


def _chapter_of(items: list[pytest.Item], setup: Setup) -> tuple[str, dict[str, Exercise]]:
    """The graded chapter (given by the engine, else found in the checks' paths) and its table.

    A chapter's checks are a module ``chNN.py`` or a package ``chNN/``; either way ``EXERCISES``
    is read through the course, so test files inside a package need not re-export it.
    """
    chapter = setup.chapter
    if chapter is None:
        found = {part.removesuffix(".py") for item in items for part in item.path.parts
                 if part.removesuffix(".py") in setup.course.chapters()}
        if len(found) != 1:
            raise pytest.UsageError("grade one chapter's checks at a time")
        chapter = found.pop()
    return chapter, setup.course.exercises(chapter)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    setup = config.stash.get(SETUP, None)
    if setup is None:
        if any(item.get_closest_marker("exercise") for item in items):
            raise pytest.UsageError("the grader's checks need --submission PATH")
        return
    chapter, exercises = _chapter_of(items, setup)
    options = setup.options
    if options.exercises:
        unknown = [name for name in options.exercises if name not in exercises]
        if unknown:
            raise pytest.UsageError(f"{chapter} has no exercise {', '.join(unknown)}; "
                                    f"it has {', '.join(exercises)}")
        keep = [i for i in items if i.get_closest_marker("exercise").args[0] in options.exercises]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    try:
        submission, load_error = read_submission(setup.submission, setup.course), None
    except SubmissionError as exc:
        submission, load_error = None, str(exc)
    use_checker(setup.course.compare())
    if options.seed is None:
        options = options.replace(seed=secrets.randbelow(2**31))
    config.stash[GRADING] = Grading(
        chapter=chapter, exercises=exercises, seed=options.seed, submission=submission,
        load_error=load_error, course=setup.course, options=options)


def _grading(config: pytest.Config) -> Grading:
    if GRADING not in config.stash:
        pytest.skip("no submission to grade")
    return config.stash[GRADING]


@pytest.fixture(scope="session")
def student(request: pytest.FixtureRequest) -> Student:
    """The submission under test; its code runs only in the sandbox."""
    grading = _grading(request.config)
    yield Student(grading)
    grading.close()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A per-test seed derived from the report's seed, so a grade can be reproduced."""
    grading = _grading(request.config)
    return zlib.crc32(f"{grading.seed}:{request.node.name}".encode()) & 0x7FFFFFFF


@pytest.fixture
def gen(seed: int) -> torch.Generator:
    """A torch generator for the test's random inputs, seeded from ``seed``."""
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    """The device the options chose: checks create their inputs there (``cpu`` by default)."""
    return _grading(request.config).device


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") and not torch.cuda.is_available():
        pytest.skip("needs CUDA, and no CUDA device is available")
    mark = item.get_closest_marker("exercise")
    if mark and GRADING in item.config.stash:
        item.config.stash[GRADING].current = mark.args[0]


def _message(exc: BaseException) -> str:
    if isinstance(exc, (CheckFailure, StudentFault)):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc.args[0]) if exc.args else "a hidden check failed"
    return f"the grader hit an internal error ({type(exc).__name__}: {exc}); tell your instructor"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    mark = item.get_closest_marker("exercise")
    if mark is None or GRADING not in item.config.stash:
        return
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        item.config.stash[GRADING].skipped.append(
            (mark.args[0], item.name.removeprefix("test_"), reason.removeprefix("Skipped: ")))
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        grading = item.config.stash[GRADING]
        message = "" if report.passed else _message(call.excinfo.value)
        name = item.name.removeprefix("test_")
        grading.results.append(TestResult(mark.args[0], name, float(mark.kwargs.get("weight", 1)),
                                          report.passed, message, float(report.duration)))
        if not report.passed:
            report.longrepr = message


def build_report(grading: Grading) -> dict:
    """Assemble the report of a finished grading session."""
    from grader.engine.report import assemble, exercise_entry
    from grader.engine.scan import scan

    entries = []
    cells = grading.submission.cells if grading.submission else []
    for name, spec in grading.exercises.items():
        results = [r for r in grading.results if r.exercise == name]
        graded = not grading.selected or name in grading.selected
        violations = list(grading.violations.get(name, []))
        if graded and spec.forbid:
            violations += scan(cells, name, spec.scan_names(), exercises=grading.exercises)
        entry = exercise_entry(name, spec.points, results, violations, graded)
        skipped = [{"name": test, "reason": why} for ex, test, why in grading.skipped if ex == name]
        if skipped:
            entry["skipped"] = skipped  # e.g. gpu checks without CUDA: they count for nothing
        entries.append(entry)
    sandbox = grading.sandbox
    load = (sandbox.load_info or {}) if sandbox else {}
    return assemble(
        grading.chapter, entries, grading.seed, options=grading.options,
        submission=str(grading.submission.path) if grading.submission else None,
        error=grading.load_error, load_errors=load.get("errors", []),
        skipped_cells=grading.submission.skipped if grading.submission else [],
        isolation=sandbox.isolation if sandbox else {})


def pytest_sessionfinish(session: pytest.Session) -> None:
    if GRADING not in session.config.stash:
        return
    grading = session.config.stash[GRADING]
    grading.close()
    from grader.engine.report import write_json

    grading.report = build_report(grading)
    session.config.stash[SETUP].result = grading.report
    path = session.config.stash[SETUP].report
    if path:
        write_json(grading.report, Path(path))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if GRADING in config.stash and config.stash[GRADING].report:
        from grader.engine.report import format_table

        terminalreporter.write_line(format_table(config.stash[GRADING].report))


__all__ = ["Exercise", "Setup", "Student", "exercise", "use_course"]
