"""The toolbox's messages in the notebook's language (gettext, catalogue ``d2l_course``).

The Chinese release starts with ``course.use_language("zh")``; the grader calls ``use`` with
the language it grades in, so that the checker's messages (``course.checking``) read the same
in a worked example and in the feedback. Catalogues live in ``course/locale/<lang>/
LC_MESSAGES/d2l_course.po`` (compiled to ``.mo`` beside it, see ``docs/bilingual.md``).
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "d2l_course"
LOCALE = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")
_STATE: dict = {"lang": "en", "translation": gettext.NullTranslations()}


def use_language(lang: str) -> None:
    """Show the toolbox's messages in ``lang`` (``"en"`` or ``"zh"``) from now on."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _STATE["lang"] = lang
    _STATE["translation"] = gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True)


def language() -> str:
    """The language messages are shown in."""
    return _STATE["lang"]


def _(message: str) -> str:
    """``message`` in the current language (itself where the catalogue has no entry)."""
    return _STATE["translation"].gettext(message)
