"""Static half of from-scratch enforcement: find forbidden library calls in an exercise's source.

The run-time half lives in the sandbox (``grader/child.py``); this scan catches code paths the
checks did not exercise. It reads text with ``ast`` and never runs it.
"""

from __future__ import annotations

import ast


def _definition(cells: list[tuple[str, str]], name: str) -> tuple[str, ast.AST] | None:
    """The last top-level ``def``/``class`` called ``name``, with its cell label."""
    found = None
    for label, source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name == name:
                    found = (label, node)
    return found


def scan(cells: list[tuple[str, str]], name: str, forbidden: tuple[str, ...]) -> list[str]:
    """Describe each use of a forbidden attribute (``torch.softmax``, ``X.softmax``, ``nn.LSTM``)
    or ``from … import`` of one inside the definition of ``name``; empty when clean."""
    if not forbidden:
        return []
    found = _definition(cells, name)
    if found is None:
        return []
    label, node = found
    hits = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in forbidden:
            hits.append(f"`{ast.unparse(sub)}` (cell {label}, line {sub.lineno})")
        elif isinstance(sub, ast.ImportFrom):
            for alias in sub.names:
                if alias.name in forbidden or (sub.module or "").rsplit(".", 1)[-1] in forbidden:
                    hits.append(f"`from {sub.module} import {alias.name}` (cell {label}, "
                                f"line {sub.lineno})")
    return list(dict.fromkeys(hits))
