"""Feedback pages students can read: ``nbgrader generate_feedback`` with this course's template
and math rendered without a network.

- ``MathToMathML`` (a preprocessor of ``GenerateFeedback``) turns the TeX of markdown cells
  (``$...$``, ``$$...$$``) into MathML, which browsers render natively: the page loads nothing
  from a CDN.
- ``TEMPLATES`` holds ``d2l_feedback``, the course's version of nbgrader's feedback page: the
  contents list and the headings name each exercise with its score ("3 / 4"), a grade cell
  shows the exercise's messages instead of its code, long messages wrap, and no MathJax is
  loaded.

- ``FeedbackWords`` gives the template its labels in the notebook's language (the Chinese
  release's pages are in Chinese).

Configured in ``course/nbgrader_config.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

from grader.i18n import _, language_of, words

TEMPLATES = Path(__file__).resolve().parent / "templates"
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<!\\)\$")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)


def _mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - TeX it cannot convert stays as written
        return f"${'$' if display else ''}{tex}${'$' if display else ''}"


def tex_to_mathml(markdown: str) -> str:
    """``markdown`` with its TeX math as MathML; code spans and blocks are left alone."""
    parts = _CODE.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are outside code
        text = _DISPLAY.sub(lambda m: _mathml(m.group(1), True), parts[i])
        parts[i] = _INLINE.sub(lambda m: _mathml(m.group(1), False), text)
    return "".join(parts)


class MathToMathML(Preprocessor):
    """Render the math of markdown cells as MathML for a page that works offline."""

    enabled = True

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = tex_to_mathml(cell.source)
        return cell, resources


LABELS = {
    "points": _("points"),
    "exercise": _("Exercise"),
    "answer": _("Your answer:"),
    "top": _("(Top)"),
    "late": _("Late submission penalty:"),
}


class FeedbackWords(Preprocessor):
    """Put the page's labels, in the notebook's language, in ``resources["d2l_words"]``."""

    enabled = True

    def preprocess(self, nb, resources):
        say = words(language_of(nb))
        resources["d2l_words"] = {key: say(text) for key, text in LABELS.items()}
        return nb, resources
