"""What nbgrader's Validate button runs: each exercise's public checks.

Every exercise's grade cell calls ``validate("name", forbid=(...))`` after the exercise's worked
examples. It fails, with the exercise's own message, when the exercise is not defined, is still
the release's stub, uses a library op the exercise must build from scratch (a scan of its source,
and a run of its worked examples that watches which torch functions its code calls, like the
grader's), or when a worked example since the previous grade cell failed (a ``check``
that did not match, or any error the cell raised). The hidden checks stay hidden: passing
Validate is necessary, not sufficient. Autograding never runs these cells.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap

from course.i18n import _

_FAILURES: list[str] = []  # worked-example problems since the last validate()
_EXAMPLES: list[str] = []  # worked examples (cells that call check) run since then
_HOOKED: list[bool] = []


def record_failure(message: str) -> AssertionError:
    """Remember a worked example's failure for the next ``validate``; return the exception to
    raise (marked, so that the cell hook does not count it twice)."""
    _FAILURES.append(message)
    error = AssertionError(message)
    error._d2l_recorded = True
    return error


def _watch_cells() -> None:
    """In a Jupyter kernel, record every error a cell raises (once per kernel)."""
    ipython = sys.modules.get("IPython")  # never imported here: only where a kernel runs
    shell = ipython.get_ipython() if ipython is not None else None
    if _HOOKED or shell is None:
        return

    def after(result) -> None:
        error = result.error_in_exec or result.error_before_exec
        if error is not None and not getattr(error, "_d2l_recorded", False):
            text = f"{type(error).__name__}: {error}".strip().rstrip(":")
            _FAILURES.append(_("a cell raised {error}").format(error=text))
        source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        if error is None and "check(" in source and "validate(" not in source:
            _EXAMPLES.append(source)

    shell.events.register("post_run_cell", after)
    _HOOKED.append(True)


def _stub(source: str) -> bool:
    """Whether ``source`` is the release's stub: a body that only raises NotImplementedError."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = [s for s in node.body if not (isinstance(s, ast.Expr)
                                                  and isinstance(s.value, ast.Constant))]
            if len(body) == 1 and isinstance(body[0], ast.Raise):
                exc = body[0].exc
                target = exc.func if isinstance(exc, ast.Call) else exc
                if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                    return True
    return False


def _forbidden_uses(source: str, forbid: tuple[str, ...]) -> list[str]:
    """The forbidden names ``source`` uses as attributes (``F.softmax``) or imports."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in forbid:
            found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom):
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name in forbid]
    return list(dict.fromkeys(found))


def _code_of(obj) -> set:
    """The code objects of a function, or of every function a class defines."""
    functions = [obj] if inspect.isfunction(obj) else [
        v for v in vars(obj).values() if inspect.isfunction(v)] if inspect.isclass(obj) else []
    codes, stack = set(), [f.__code__ for f in functions]
    while stack:
        code = stack.pop()
        codes.add(code)
        stack += [c for c in code.co_consts if inspect.iscode(c)]
    return codes


def _ops_at_run_time(obj, forbid: tuple[str, ...], examples: list[str],
                     namespace: dict) -> list[str]:
    """The forbidden torch functions that ``obj``'s code calls while the worked examples run
    again (their output hidden; failures were already counted)."""
    import contextlib
    import io

    from torch.overrides import TorchFunctionMode

    codes, used = _code_of(obj), []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if name in forbid and name not in used:
                frame = sys._getframe(1)
                while frame is not None and frame.f_code not in codes:
                    frame = frame.f_back
                if frame is not None:
                    used.append(name)
            return func(*args, **(kwargs or {}))

    for source in examples:
        with contextlib.redirect_stdout(io.StringIO()), Recorder():
            try:
                exec(compile(source, "<worked example>", "exec"), dict(namespace))  # noqa: S102
            except Exception:  # noqa: BLE001, S110 - its failure was recorded when it ran
                pass
    return used


def _failed(message: str) -> AssertionError:
    error = AssertionError(message)
    error._d2l_recorded = True  # Validate's own verdict is not a worked example's failure
    return error


def validate(name: str, forbid: tuple[str, ...] = (), namespace: dict | None = None) -> None:
    """Run ``name``'s public checks; raise ``AssertionError`` with what is wrong.

    ``namespace`` defaults to the calling notebook's globals.
    """
    problems, _FAILURES[:] = list(_FAILURES), []
    examples, _EXAMPLES[:] = list(_EXAMPLES), []
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    if name not in namespace:
        raise _failed(_("`{name}` is not defined: run its cell above (and keep its name)")
                      .format(name=name))
    try:
        source = inspect.getsource(namespace[name])
    except (OSError, TypeError):
        source = ""
    if _stub(source):
        raise _failed(_("`{name}` is not implemented yet").format(name=name))
    used = _forbidden_uses(source, tuple(forbid))
    if used:
        raise _failed(_("`{name}` must be built from scratch, but it uses {used} (the grader "
                        "scores it 0 until they are gone)").format(name=name,
                                                                   used=", ".join(used)))
    if forbid and examples:
        used = _ops_at_run_time(namespace[name], tuple(forbid), examples, namespace)
        if used:
            raise _failed(_("`{name}` must be built from scratch, but its worked example "
                            "called {used} from its code (the grader scores it 0 until they "
                            "are gone)").format(name=name, used=", ".join(used)))
    if problems:
        raise _failed(_("`{name}`'s worked example failed: {problems}").format(
            name=name, problems="; ".join(problems[:3])))
    print(_("✓ {name}: the public checks pass (the hidden checks test more)").format(name=name))


_watch_cells()
