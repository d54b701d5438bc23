"""The engine's own messages in the grading's language.

The engine knows no catalogue: its caller's ``Course.messages`` names a function that gives a
``gettext`` for a language (this course's is ``grader.i18n.words``). ``run.grade`` sets the
grading's language with ``use`` before the checks run; messages are written ``say("...")`` and
formatted after translation. One grading at a time per process (the CLI, each ``grade-all``
worker, a Dask worker's lock), so the setting is the process's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_STATE: dict[str, Callable[[str], str] | None] = {"gettext": None}


def use(messages: str, lang: str) -> None:
    """Translate with ``messages`` (``module:function``, empty: none) for ``lang``."""
    if not messages or lang == "en":
        _STATE["gettext"] = None
        return
    module, _, name = messages.partition(":")
    _STATE["gettext"] = getattr(importlib.import_module(module), name)(lang)


def say(message: str) -> str:
    """``message`` in the grading's language (itself where there is no translation)."""
    translate = _STATE["gettext"]
    return translate(message) if translate else message
