"""Sealing a freshly forked sandbox before any student code runs: limits, setup hooks, Landlock,
capabilities, working directory."""

from __future__ import annotations

import importlib
import os
import resource
import signal

from . import landlock, linux


def set_limits(limits: dict, processes: int | None) -> None:
    """CPU seconds, data memory and file size (output) limits; no core dumps; at most
    ``processes`` tasks where the count is the sandbox's own (``None``: not set)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for name, value in (
        ("RLIMIT_CPU", limits.get("cpu_seconds")),
        ("RLIMIT_DATA", limits.get("memory_bytes")),
        ("RLIMIT_FSIZE", limits.get("output_bytes")),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_NPROC", processes),
    ):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def run_setup(hooks: list) -> None:
    """Call the course's setup hooks (``[module, function, *args]``) while files are readable."""
    for module, function, *args in hooks:
        getattr(importlib.import_module(module), function)(*args)


def seal(config: dict, ruleset: int | None, home: str, tmp: str) -> str:
    """Seal this process as ``config`` says; return what file isolation held.

    ``ruleset`` is the Landlock ruleset to enforce (``None``: isolation is off or Landlock is
    unavailable, as ``config["landlock"]`` says); ``home`` is the scratch folder as this process
    sees it, ``tmp`` the folder for temporary files.
    """
    set_limits(config["limits"], config.get("nproc"))
    run_setup(config.get("setup", []))
    held = config.get("landlock") or "off: disabled by the grader's configuration"
    if ruleset is not None:
        failed = landlock.enforce(ruleset)
        os.close(ruleset)
        if failed:
            held = f"unavailable: {failed}"
    if config.get("isolate"):
        try:
            linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
            linux.drop_capabilities()
        except OSError as exc:
            held += f"; capabilities kept ({exc})"
    os.chdir(home)
    os.environ.update({"HOME": home, "MPLCONFIGDIR": home, "TMPDIR": tmp})
    return held
