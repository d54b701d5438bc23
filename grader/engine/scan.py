"""Static half of from-scratch enforcement: read an exercise's code, and the notebook code it
depends on, with ``ast``, and report what a from-scratch answer never needs. Nothing is run.

The exercise's code is its definition (the last ``def``, ``class``, assignment (a lambda too) or
import that binds its name) and, transitively, the notebook's functions, classes and globals it
uses, other exercises excepted (they are graded on their own). There the scan reports:

- the forbidden names as attributes (``torch.softmax``, ``X.softmax``, ``nn.LSTM``) and
  ``from … import`` of them;
- constructs that reach past the library's public functions or into the grader: ``torch.ops``,
  private torch (``torch._C``, ``torch._refs``, ``torch.optim._functional``), TorchScript,
  torch's mode and profiler machinery, ``exec``/``eval``/``compile``/``__import__``,
  ``importlib``, ``ctypes``, ``gc``, ``inspect``, ``sys.modules`` and interpreter hooks, code
  and frame attributes (``__code__``, ``__closure__``, ``__wrapped__``, ``f_back``, …), torch
  attributes looked up by computed name, scipy, and numpy where the exercise forbids it;
- a module the notebook imports that is not installed, when the notebook writes a Python file.

The notebook's load-time code (statements outside functions, and the functions other than
exercises that they call) is read for the constructs that reach the sandbox's own instruments
(``_d2l_sandbox``, torch's C internals, mode and profiler machinery, ``gc``, ``ctypes``, frames
and code objects, interpreter hooks), which then count against every exercise with forbidden
ops.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

# (dotted prefix, why a from-scratch answer does not need it, whether it also counts in load-time
# code: only what reaches the sandbox's own instruments does; a notebook may patch builtins or
# the module table at load time and lose only what that breaks)
PATH_RULES = (
    ("torch.ops", "calls library operators directly", False),
    ("torch.jit", "compiles TorchScript", False),
    ("torch.utils.cpp_extension", "compiles native code", False),
    ("torch.overrides", "changes torch's function modes", True),
    ("torch.utils._python_dispatch", "changes torch's dispatch modes", True),
    ("torch.autograd.profiler", "controls torch's profiler", True),
    ("torch.profiler", "controls torch's profiler", True),
    ("torch._C", "uses torch's C internals", True),
    ("sys.modules", "edits the table of imported modules", False),
    ("sys._getframe", "inspects the interpreter's frames", True),
    ("sys._current_frames", "inspects the interpreter's frames", True),
    ("sys.settrace", "installs an interpreter hook", True),
    ("sys.setprofile", "installs an interpreter hook", True),
    ("importlib", "imports modules dynamically", False),
    ("ctypes", "calls C code directly", True),
    ("gc", "reaches objects through the garbage collector", True),
    ("inspect", "inspects code and frames", False),
    ("builtins", "changes Python's builtins", False),
    ("scipy", "uses scipy instead of torch code of its own", False),
)
# Modules that count only when the notebook imported them (a variable may share the name).
IMPORTED_ROOTS = frozenset({"importlib", "ctypes", "gc", "inspect", "builtins", "scipy", "numpy"})
INTROSPECTION = frozenset({"__code__", "__closure__", "__globals__", "__builtins__",
                           "__subclasses__", "__wrapped__", "cell_contents", "f_back", "f_locals",
                           "f_globals", "f_code", "tb_frame", "gi_frame"})
RUNTIME_CODE = frozenset({"exec", "eval", "compile", "__import__"})
SANDBOX = "_d2l_sandbox"
MODULE_FILES = (".py", ".pyc", ".pth", ".so")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SCOPES = (*_DEFS, ast.Lambda)


@dataclass
class _Notebook:
    """The parsed cells: last top-level binding of each name, import aliases, load-time code."""

    bindings: dict[str, tuple[str, ast.AST]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    load_time: list[tuple[str, ast.stmt]] = field(default_factory=list)


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run at module level: ``body`` and the bodies of its compound statements."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, _SCOPES):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(stmt, name, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _module_level(handler.body)


def _imported(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """``(bound name, dotted path)`` of each name an import statement binds."""
    for alias in node.names:
        if isinstance(node, ast.Import):
            if alias.asname:
                yield alias.asname, alias.name
            else:
                root = alias.name.split(".")[0]
                yield root, root
        elif node.level == 0 and node.module:
            yield alias.asname or alias.name, f"{node.module}.{alias.name}"


@lru_cache(maxsize=8)
def _parse(cells: tuple[tuple[str, str], ...]) -> _Notebook:
    notebook = _Notebook()
    for label, source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for stmt in _module_level(tree.body):
            if isinstance(stmt, _DEFS):
                notebook.bindings[stmt.name] = (label, stmt)
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for bound, path in _imported(stmt):
                    notebook.aliases[bound] = path
                    notebook.bindings[bound] = (label, stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            notebook.bindings[node.id] = (label, stmt)
            if not isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                notebook.load_time.append((label, stmt))
            else:
                notebook.load_time.append((label, _header(stmt)))
    return notebook


def _header(stmt: ast.stmt) -> ast.stmt:
    """A compound statement without its bodies (they are listed as statements of their own)."""
    shallow = ast.Module(body=[], type_ignores=[])
    shallow.body = [ast.Expr(value=v) for v in (getattr(stmt, "test", None),
                                                getattr(stmt, "iter", None))
                    if isinstance(v, ast.expr)]
    shallow.body += [ast.Expr(value=i.context_expr) for i in getattr(stmt, "items", [])]
    for node in shallow.body:
        ast.copy_location(node, stmt)
    return shallow  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _installed(module: str) -> bool:
    if module in sys.stdlib_module_names or module in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _walk(node: ast.AST, into_scopes: bool) -> Iterator[ast.AST]:
    """``ast.walk``, optionally without entering function, class and lambda bodies."""
    yield node
    for child in ast.iter_child_nodes(node):
        if into_scopes or not isinstance(child, _SCOPES):
            yield from _walk(child, into_scopes)


@dataclass
class _Reader:
    """Collect hits in regions of one notebook, with the full rules or the load-time ones."""

    notebook: _Notebook
    forbidden: frozenset[str]
    banned: frozenset[str]
    hits: dict[str, None] = field(default_factory=dict)
    local_imports: list[str] = field(default_factory=list)
    module_writes: list[str] = field(default_factory=list)

    def hit(self, shown: str, label: str, node: ast.AST, why: str = "") -> None:
        where = f"cell {label}, line {getattr(node, 'lineno', '?')}"
        self.hits[f"`{shown}` ({where}" + (f": {why})" if why else ")")] = None

    def path(self, node: ast.AST) -> tuple[str, bool] | None:
        """The dotted path an attribute chain or name stands for, and whether its root was
        imported by the notebook."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.notebook.aliases.get(node.id)
        parts.append(root or node.id)
        return ".".join(reversed(parts)), root is not None

    def check_path(self, path: str, imported: bool, label: str, node: ast.AST,
                   load_time: bool) -> None:
        root = path.split(".")[0]
        if root in IMPORTED_ROOTS and not imported:
            return
        for prefix, why, tamper in PATH_RULES:
            if (path == prefix or path.startswith(prefix + ".")) and (tamper or not load_time):
                self.hit(prefix, label, node, why)
                return
        if load_time:
            return
        if root in self.banned:
            self.hit(root, label, node, "the exercise is written without it")
        elif root == "torch":
            parts = path.split(".")
            for i, part in enumerate(parts[1:], start=1):
                if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
                    self.hit(".".join(parts[:i + 1]), label, node, "uses private torch internals")
                    return

    def read(self, label: str, node: ast.AST, load_time: bool) -> None:
        """Check every node under ``node`` (load time: only the tamper rules, outside scopes)."""
        for sub in _walk(node, into_scopes=not load_time):
            if isinstance(sub, ast.Attribute):
                if not load_time and sub.attr in self.forbidden:
                    self.hit(ast.unparse(sub), label, sub)
                if sub.attr in INTROSPECTION:
                    self.hit(sub.attr, label, sub, "inspects or rewrites code and frames")
            if isinstance(sub, (ast.Attribute, ast.Name)):
                found = self.path(sub)
                if found and (isinstance(sub, ast.Attribute) or sub.id in self.notebook.aliases):
                    self.check_path(*found, label, sub, load_time)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                self.read_import(sub, label, load_time)
            elif isinstance(sub, ast.Call):
                self.read_call(sub, label, load_time)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                if SANDBOX in sub.value:
                    self.hit(SANDBOX, label, sub, "reaches the grader's sandbox")

    def read_import(self, node: ast.Import | ast.ImportFrom, label: str, load_time: bool) -> None:
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module] if node.level == 0 and node.module else [])
        for module in modules:
            self.check_path(module, True, label, node, load_time)
            if not _installed(module.split(".")[0]):
                self.local_imports.append(f"`{module}` (cell {label}, line {node.lineno})")
        if isinstance(node, ast.ImportFrom) and not load_time:
            for alias in node.names:
                if alias.name in self.forbidden or (node.module or "").rsplit(".", 1)[-1] in (
                        self.forbidden):
                    self.hit(f"from {node.module} import {alias.name}", label, node)
                self.check_path(f"{node.module}.{alias.name}", True, label, node, load_time)

    def read_call(self, node: ast.Call, label: str, load_time: bool) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if load_time:
            pass  # code built or looked up at load time breaks none of the sandbox's instruments
        elif name in RUNTIME_CODE:
            self.hit(name, label, node, "runs code built at run time")
        elif name in ("getattr", "setattr", "delattr") and node.args:
            found = self.path(node.args[0])
            key = node.args[1] if len(node.args) > 1 else None
            literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
            if found and found[0].split(".")[0] == "torch" and (
                    not literal or key.value.startswith("_")):
                self.hit(f"{name}({found[0]}, …)", label, node,
                         "looks up torch attributes by computed name")
        texts = [c.value for c in ast.walk(node)
                 if isinstance(c, ast.Constant) and isinstance(c.value, str)]
        opens = name == "open" or isinstance(func, ast.Attribute) and func.attr == "open"
        writes = (opens and any(len(t) <= 3 and set(t) & set("wax+") for t in texts)
                  or isinstance(func, ast.Attribute) and func.attr in ("write_text", "write_bytes"))
        if writes and any(t.endswith(MODULE_FILES) for t in texts):
            self.module_writes.append(f"cell {label}, line {node.lineno}")


def scan(cells: list[tuple[str, str]], name: str, forbidden: tuple[str, ...],
         exercises: Collection[str] = ()) -> list[str]:
    """Describe what the exercise ``name`` uses that a from-scratch answer does not need
    (see the module docstring); empty when clean or when nothing is forbidden.

    ``forbidden`` are the attribute names to flag (``Exercise.scan_names()``); ``"numpy"`` among
    them bans numpy too. ``exercises`` are the chapter's exercise names, not read as helpers.
    """
    if not forbidden:
        return []
    notebook = _parse(tuple((str(label), source) for label, source in cells))
    if name not in notebook.bindings:
        return []
    banned = frozenset({"numpy"} & set(forbidden))
    reader = _Reader(notebook, frozenset(forbidden), banned)
    label, node = notebook.bindings[name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        reader.hit(ast.unparse(node), label, node, "the exercise is a library function")
    for label, node in _helpers(notebook, [name], set(exercises) - {name}):
        reader.read(label, node, load_time=False)
    for label, stmt in notebook.load_time:
        reader.read(label, stmt, load_time=True)
    called = [n for _, stmt in notebook.load_time for n in _names(stmt, into_scopes=False)]
    for label, node in _helpers(notebook, called, {name, *exercises}):  # exercises: their own
        reader.read(label, node, load_time=True)
    if reader.module_writes:
        for where in reader.local_imports:
            reader.hits[f"{where}: imports a module that is not installed, and the notebook "
                        f"writes Python files ({reader.module_writes[0]})"] = None
    return list(reader.hits)


def _names(node: ast.AST, into_scopes: bool = True) -> set[str]:
    """The names ``node`` reads but never binds itself (its parameters and locals are not the
    notebook's globals)."""
    read, bound = set(), set()
    for sub in _walk(node, into_scopes):
        if isinstance(sub, ast.Name):
            (read if isinstance(sub.ctx, ast.Load) else bound).add(sub.id)
        elif isinstance(sub, ast.arg):
            bound.add(sub.arg)
        elif isinstance(sub, _DEFS) and sub is not node:
            bound.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound.update(name for name, _ in _imported(sub))
    return read - bound


def _helpers(notebook: _Notebook, roots: list[str],
             skip: Collection[str]) -> Iterator[tuple[str, ast.AST]]:
    """The definitions of ``roots`` and of the notebook's functions, classes and globals they
    use, transitively; imports and the names in ``skip`` are not followed."""
    seen: set[str] = set()
    todo = [r for r in roots if r not in skip]
    while todo:
        current = todo.pop()
        if current in seen or current not in notebook.bindings:
            continue
        seen.add(current)
        label, node = notebook.bindings[current]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        yield label, node
        todo.extend(n for n in _names(node) if n not in seen and n not in skip)
