"""Audit the student release: no solution code, no hidden tests, no build output."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import nbformat

from grader.release import ASSIGNMENTS, chapter_ids

ALLOWED = re.compile(r"^(ch\d\d/ch\d\d\.ipynb|course/[a-z_]+\.py|pyproject\.toml|README\.md)$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def solution_lines(chapter: str) -> list[str]:
    """Distinctive lines that sit between solution markers in ``solutions/chNN.py``."""
    source = inspect.getsource(importlib.import_module(f"solutions.{chapter}"))
    lines, inside = [], False
    for line in source.splitlines():
        text = line.strip()
        if "### BEGIN SOLUTION" in text:
            inside = True
        elif "### END SOLUTION" in text:
            inside = False
        elif inside and len(text) >= 24 and not text.startswith("#"):
            lines.append(text)
    return lines


def audit(release: Path = ASSIGNMENTS) -> list[str]:
    """Problems found in ``release``: stray files, markers, or solution lines in a notebook."""
    problems = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        rel = path.relative_to(release).as_posix()
        if not ALLOWED.match(rel):
            problems.append(f"unexpected file in the release: {rel}")
    for chapter in chapter_ids():
        path = release / chapter / f"{chapter}.ipynb"
        if not path.exists():
            problems.append(f"missing release notebook: {chapter}/{chapter}.ipynb")
            continue
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells)
        for marker in MARKERS:
            if marker in code:
                problems.append(f"{chapter}: the release contains '{marker}'")
        for line in solution_lines(chapter):
            if line in code:
                problems.append(f"{chapter}: the release contains solution code: {line!r}")
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            problems.append(f"{chapter}: the release notebook has outputs")
    return problems
