"""Running the submission's cells in one namespace, each in its own ``try``."""

from __future__ import annotations

import builtins
import os

from .values import describe_exception

NS: dict = {"__name__": "__main__", "__builtins__": builtins}


class Shell:
    """Stands in for IPython's shell so ``get_ipython().run_line_magic(...)`` lines do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def lookup(name: str):
    """The object the submission bound to ``name``."""
    if name not in NS:
        raise NameError(f"name {name!r} is not defined")
    return NS[name]


def op_load(request: dict, scratch: str) -> dict:
    """Run ``cells`` in order; answer which names are defined and which cells failed.

    The label of the cell being run is written to ``.progress`` in the scratch folder first, so
    the grader can skip a cell that hangs or kills the process on the next start.
    """
    NS["get_ipython"] = Shell
    errors = []
    for label, source in request["cells"]:
        with open(os.path.join(scratch, ".progress"), "w") as progress:
            progress.write(label)
        try:
            code = compile(source, f"<cell {label}>", "exec")
            exec(code, NS)  # noqa: S102 - running the submission is the sandbox's job
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            if isinstance(exc, SyntaxError):
                entry = {"type": "SyntaxError", "message": str(exc.msg),
                         "where": [f"<cell {label}>, line {exc.lineno}"]}
            else:
                entry = describe_exception(exc)
            entry["cell"] = label
            errors.append(entry)
    defined = {k: type(v).__name__ for k, v in NS.items() if not k.startswith("__")}
    return {"ok": True, "defined": defined, "errors": errors}
