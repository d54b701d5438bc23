"""The grader's words in the report's language (gettext, catalogue ``d2l_grader`` in
``grader/locale``; kept in step with the code by ``make messages``).

``words(lang)`` is a translation function for one report or page: grading many students in one
process never shares a language setting between them. Messages are marked ``_("...")`` where
they are written, with a module-level ``_`` that only marks them for extraction.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

DOMAIN = "d2l_grader"
LOCALE = Path(__file__).with_name("locale")


@cache
def words(lang: str) -> Callable[[str], str]:
    """The ``gettext`` of ``lang`` (messages stay English where the catalogue has no entry)."""
    return gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True).gettext


def _(message: str) -> str:
    """Mark ``message`` for the catalogue; translate it with ``words(lang)(message)``."""
    return message


def language_of(nb: dict) -> str:
    """The language a built notebook is written in (its ``natural_language``; English if
    unset)."""
    return nb.get("metadata", {}).get("language_info", {}).get("natural_language", "en")
