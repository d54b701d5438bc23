"""Running the submission's cells in one namespace, each in its own ``try``."""

from __future__ import annotations

import builtins
import linecache
import os
import types

from .export import NAME_CHARS, cut, describe_exception

NS: dict = {"__name__": "__main__", "__builtins__": builtins}
MAX_ERRORS = 50
MAX_DEFINED = 5_000
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun", "debug"})


class Shell:
    """Stands in for IPython's shell in scripts exported by nbconvert: magics and shell commands
    (``get_ipython().run_line_magic(...)``, ``.system(...)``) do nothing and return ``None``;
    ``run_cell_magic`` runs the body of a cell magic that IPython runs as Python in the
    notebook's namespace (``%%time``, ``%%capture``, ...), as ``grader.engine.magics`` does."""

    def run_cell_magic(self, magic, line, cell):
        if magic in PYTHON_CELL_MAGICS:
            exec(compile(cell, "<cell magic>", "exec"), NS)  # noqa: S102 - the student's cell

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def lookup(name: str):
    """The object the submission bound to ``name``."""
    if name not in NS:
        raise NameError(f"name {name!r} is not defined")
    return NS[name]


def defined_names() -> dict[str, str]:
    """The names the cells bound, each with its value's type name.

    Functions and classes (what exercises are) come first; at most ``MAX_DEFINED`` names, none
    longer than ``NAME_CHARS`` characters (no exercise has such a name) and no dunder names.
    """
    first: dict[str, str] = {}
    rest: dict[str, str] = {}
    for name, value in list(NS.items()):
        if not isinstance(name, str) or name.startswith("__") or len(name) > NAME_CHARS:
            continue
        table = first if isinstance(value, (type, types.FunctionType)) else rest
        if len(table) < MAX_DEFINED:
            table[name] = cut(type(value).__name__, NAME_CHARS)
    for name, kind in rest.items():
        if len(first) >= MAX_DEFINED:
            break
        first[name] = kind
    return first


def _error(label: str, exc: BaseException) -> dict:
    if isinstance(exc, SyntaxError):
        entry = {"type": "SyntaxError", "message": cut(str(exc.msg), 500),
                 "where": [f"<cell {label}>, line {exc.lineno}"]}
    else:
        entry = describe_exception(exc)
    entry["cell"] = label
    return entry


def op_load(request: dict, scratch: str) -> dict:
    """Run ``cells`` in order; answer which names are defined and which cells failed.

    The label of the cell being run is written to ``.progress`` in the scratch folder first, so
    the grader can skip a cell that hangs or kills the process on the next start. At most
    ``MAX_ERRORS`` failed cells are described; a last entry counts the others.
    """
    NS["get_ipython"] = Shell
    errors = []
    unlisted = 0
    for label, source in request["cells"]:
        try:
            with open(os.path.join(scratch, ".progress"), "w") as progress:
                progress.write(label)
        except OSError:
            pass  # a cell took the folder away: the cells still run, unskippable if they hang
        try:
            filename = f"<cell {label}>"
            # inspect.getsource (torch.jit.script needs it) finds a cell's code as in Jupyter.
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            code = compile(source, filename, "exec")
            exec(code, NS)  # noqa: S102 - running the submission is the sandbox's job
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            if len(errors) < MAX_ERRORS:
                errors.append(_error(label, exc))
            else:
                unlisted += 1
    if unlisted:
        errors.append({"cell": "…", "type": "MoreErrors", "where": [], "count": unlisted,
                       "message": f"{unlisted} more cells raised errors (not listed)"})
    return {"ok": True, "defined": defined_names(), "errors": errors}
