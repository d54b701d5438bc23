"""Audit the student release: no solution code, no hidden tests, no build output."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import nbformat

from grader.release import ASSIGNMENTS, chapter_ids

ALLOWED = re.compile(
    r"^(ch(\d\d)(_zh)?/ch\2\.ipynb|course/[a-z_][a-z_0-9]*\.py|course/locale/[a-z]+/LC_MESSAGES/"
    r"d2l_course\.mo|pyproject\.toml|README\.md)$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def solution_lines(chapter: str) -> list[str]:
    """Distinctive lines that sit between solution markers in ``solutions/chNN.py``."""
    source = inspect.getsource(importlib.import_module(f"solutions.{chapter}"))
    lines, inside = [], False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("### BEGIN SOLUTION"):
            inside = True
        elif text.startswith("### END SOLUTION"):
            inside = False
        elif inside and len(text) >= 24 and not text.startswith("#"):
            lines.append(text)
    return lines


def code_without_docstrings(source: str) -> str:
    """``source`` without its docstrings and comment lines (the specification may quote code)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            drop.update(range(first.lineno, first.end_lineno + 1))
    lines = source.splitlines()
    return "\n".join(line for number, line in enumerate(lines, start=1)
                     if number not in drop and not line.strip().startswith("#"))


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
        code = "\n".join(code_without_docstrings(c.source) for c in nb.cells
                         if c.cell_type == "code")
        raw = "\n".join(c.source for c in nb.cells)
        for marker in MARKERS:
            if marker in raw:
                problems.append(f"{chapter}: the release contains '{marker}'")
        for line in solution_lines(chapter):
            if line in code:
                problems.append(f"{chapter}: the release contains solution code: {line!r}")
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            problems.append(f"{chapter}: the release notebook has outputs")
    return problems
