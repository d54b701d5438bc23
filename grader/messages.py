"""``make messages``: keep the message catalogues in step with the code (Babel).

Two catalogues, each for its package: ``d2l_course`` (the toolbox: the checker's and Validate's
messages, which students see in their notebooks) and ``d2l_grader`` (the engine, the CLI, the
feedback, and the hints of the chapters' hidden checks in ``grader/checks``). ``update`` extracts
every ``_("...")`` and ``say("...")`` message from the sources, merges the list into each
language's ``.po`` (translations kept, new messages added empty, gone ones dropped) and compiles
the ``.mo`` that gettext reads at run time. ``problems`` lists what is out of step: a
message without a translation, a ``.mo`` older than its ``.po``; the tests call it.
"""

from __future__ import annotations

import datetime
import gettext
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("zh",)
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
CATALOGUES = {
    "d2l_course": (ROOT / "course" / "locale", [ROOT / "course"]),
    "d2l_grader": (ROOT / "grader" / "locale",
                   [ROOT / "grader" / "engine", ROOT / "grader", ROOT / "grader" / "checks"]),
}
RECURSIVE = ("engine", "checks")
"""Folders whose subfolders are read too (a chapter's checks may be a package)."""


def _sources(folders: list[Path]) -> list[Path]:
    files: set[Path] = set()
    for folder in folders:
        pattern = "**/*.py" if folder.name in RECURSIVE else "*.py"
        files |= {p for p in folder.glob(pattern) if "__pycache__" not in p.parts}
    return sorted(files)


def extract(domain: str) -> list[str]:
    """The messages the sources of ``domain`` mark with ``_(...)``, in order of appearance."""
    messages: dict[str, None] = {}
    for path in _sources(CATALOGUES[domain][1]):
        for _, message, _, _ in extract_from_file("python", str(path),
                                                    keywords={"_": None, "say": None}):
            if isinstance(message, str) and message:
                messages[message] = None
    return list(messages)


def _po_path(domain: str, lang: str) -> Path:
    return CATALOGUES[domain][0] / lang / "LC_MESSAGES" / f"{domain}.po"


def read(domain: str, lang: str) -> Catalog:
    """The ``.po`` catalogue of ``domain`` in ``lang`` (empty if there is none yet)."""
    path = _po_path(domain, lang)
    if not path.exists():
        return Catalog(locale=lang, domain=domain)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


def _translations(mo: Path) -> dict[str, str]:
    """What a compiled catalogue translates (its header left out)."""
    with mo.open("rb") as f:
        table = gettext.GNUTranslations(f)._catalog
    return {k: v for k, v in table.items() if k and isinstance(k, str)}


def _compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes, the same for the same translations (no dates in the header)."""
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> list[Path]:
    """Merge the extracted messages into every ``.po``; write it and its ``.mo``."""
    written = []
    for domain in CATALOGUES:
        messages = extract(domain)
        for lang in TRANSLATED:
            old = read(domain, lang)
            new = Catalog(locale=lang, domain=domain, project="d2l-course",
                          charset="utf-8", fuzzy=False)
            for message in messages:
                kept = old.get(message)
                new.add(message, kept.string if kept is not None else "")
            po = _po_path(domain, lang)
            po.parent.mkdir(parents=True, exist_ok=True)
            with po.open("wb") as f:
                write_po(f, new, width=100, omit_header=True, sort_output=False)
            po.with_suffix(".mo").write_bytes(_compiled(read(domain, lang)))
            written += [po, po.with_suffix(".mo")]
    return written


def problems() -> list[str]:
    """What is out of step: messages missing from a catalogue or untranslated, and ``.mo`` files
    that do not match their ``.po``."""
    found = []
    for domain in CATALOGUES:
        messages = extract(domain)
        for lang in TRANSLATED:
            catalog = read(domain, lang)
            for message in messages:
                entry = catalog.get(message)
                if entry is None or not entry.string:
                    found.append(f"{domain} ({lang}): no translation of {message!r}")
            mo = _po_path(domain, lang).with_suffix(".mo")
            wanted = {m.id: m.string for m in catalog if m.id and m.string}
            if not mo.exists() or _translations(mo) != wanted:
                found.append(f"{domain} ({lang}): {mo.name} is not compiled from its .po "
                             "(run make messages)")
    return found


def main() -> int:
    """Update the catalogues, then list what still needs a translation."""
    for path in update():
        print(f"wrote {path.relative_to(ROOT)}")
    left = problems()
    for problem in left:
        print(problem)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
