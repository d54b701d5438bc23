"""Sealing a freshly forked sandbox before any student code runs: limits, setup hooks, Landlock."""

from __future__ import annotations

import importlib
import os
import resource
import signal

from . import landlock


def set_limits(limits: dict) -> None:
    """CPU seconds, data memory and file size (output) limits; no core dumps."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for name, value in (
        ("RLIMIT_CPU", limits.get("cpu_seconds")),
        ("RLIMIT_DATA", limits.get("memory_bytes")),
        ("RLIMIT_FSIZE", limits.get("output_bytes")),
        ("RLIMIT_CORE", 0),
    ):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def run_setup(hooks: list) -> None:
    """Call the course's setup hooks (``[module, function, *args]``) while files are readable."""
    for module, function, *args in hooks:
        getattr(importlib.import_module(module), function)(*args)


def seal(config: dict) -> str:
    """Seal this process as ``config`` says; return what file isolation held."""
    set_limits(config["limits"])
    run_setup(config.get("setup", []))
    rules = config.get("landlock")
    held = (landlock.restrict(rules["read"], rules["list"], rules["write"]) if rules
            else "off: disabled by the grader's configuration")
    os.chdir(config["scratch"])
    os.environ.update({"HOME": config["scratch"], "MPLCONFIGDIR": config["scratch"]})
    return held
