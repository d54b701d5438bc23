"""IPython syntax in a submission's cells, made plain Python in one pass over the lines.

The sandbox runs cells with ``exec``, which knows no IPython syntax. ``transform`` rewrites a cell
line by line, in time linear in its length, without importing IPython:

- a line magic (``%pip install x``), shell escape (``!ls``) or help line (``len?``, ``?len``)
  becomes ``pass`` at its indentation (so a block holding only that line stays valid); the lines
  it continues with a trailing backslash become empty;
- ``x = %who`` and ``y = !ls`` assign ``None``;
- a cell magic whose body IPython runs as Python in the notebook's namespace (``%%time``,
  ``%%capture``, ``%%prun``, ``%%debug``) keeps its body, transformed the same way
  (``%%capture out`` binds ``out`` to ``None``); any other cell magic (``%%bash``,
  ``%%writefile``, ``%%html``, ``%%timeit``, whose body IPython runs in a throwaway namespace,
  ...) makes the whole cell a no-op.

Only lines that start a statement are rewritten: lines inside a triple-quoted string, inside
open brackets or after a backslash continuation are left alone (there ``%`` is the modulo
operator or text). No line that is valid Python changes, and line numbers are kept, so
tracebacks point at the student's lines.
"""

from __future__ import annotations

import re

PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun", "debug"})
_TARGET = re.compile(r"[\w.,:()\[\]* ]+")
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
# What changes the scanner's state: an escape, a backslash ending the line, quotes, a comment's
# start, brackets. Everything between is skipped by the regular expression engine.
_TOKENS = re.compile(r"\\.|\\$|'''|\"\"\"|['\"#()\[\]{}]")


class _Scanner:
    """Where a line starts: inside a string, inside brackets, or after a backslash."""

    def __init__(self) -> None:
        self.quote: str | None = None  # the open string's quote: ' " ''' or """
        self.depth = 0
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def scan(self, line: str) -> int:
        """Update the state past ``line``; return where its code ends (its comment starts)."""
        end = len(line)
        escaped_eol = False
        for match in _TOKENS.finditer(line):
            token = match.group()
            if self.quote is not None:
                if token == "\\":
                    escaped_eol = True
                elif token == self.quote or token == self.quote * 3:
                    self.quote = None  # "a""" is "a" then the empty string ""
                continue
            if token == "#":
                end = match.start()
                break
            if token in _OPEN:
                self.depth += 1
            elif token in _CLOSE:
                self.depth = max(0, self.depth - 1)
            elif token[0] in "'\"":
                self.quote = token
        if self.quote in ("'", '"') and not escaped_eol:
            self.quote = None  # an unterminated string: a syntax error Python will report
        self.continued = (self.quote is None and end == len(line)
                          and line.rstrip("\r").endswith("\\"))
        return end


def _assignment(code: str) -> str | None:
    """The target of ``target = %magic`` or ``target = !command``, else ``None``."""
    equals = code.find("=")
    if equals <= 0 or code[equals - 1] in "=!<>+-*/%&|^@:~":
        return None
    value = code[equals + 1:].lstrip()
    if not value or value[0] not in "%!" or value.startswith("!="):
        return None
    target = code[:equals].strip()
    return target if target and _TARGET.fullmatch(target) else None


def _line(line: str, code_end: int, in_string: bool) -> str | None:
    """The replacement of one statement-starting line, or ``None`` to keep it.

    ``code_end`` is where the line's comment starts; ``in_string``: whether it ends inside a
    string (then a final ``?`` is text, not IPython's help syntax).
    """
    stripped = line.lstrip()
    indent = line[:len(line) - len(stripped)]
    code = line[:code_end].strip()
    if not code:
        return None
    if code[0] in "%!?" or (code.endswith("?") and not in_string):
        return f"{indent}pass"
    target = _assignment(code)
    if target is not None:
        return f"{indent}{target} = None"
    return None


def _transform_lines(lines: list[str]) -> list[str]:
    out = []
    scanner = _Scanner()
    in_magic = False
    for line in lines:
        if in_magic:
            out.append("")
            in_magic = line.rstrip("\r").endswith("\\")
            continue
        if not scanner.at_statement_start():
            scanner.scan(line)
            out.append(line)
            continue
        before = (scanner.quote, scanner.depth, scanner.continued)
        code_end = scanner.scan(line)
        replacement = _line(line, code_end, scanner.quote is not None)
        if replacement is None:
            out.append(line)
            continue
        scanner.quote, scanner.depth, scanner.continued = before
        out.append(replacement)
        in_magic = line.rstrip("\r").endswith("\\")
    return out


def transform(source: str) -> str:
    """``source`` with IPython syntax replaced as the module docstring says."""
    if "%" not in source and "!" not in source and "?" not in source:
        return source
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        words = lines[first].lstrip()[2:].split()
        name = words[0] if words else ""
        if name not in PYTHON_CELL_MAGICS:
            return "pass"
        names = [w for w in words[1:] if not w.startswith("-")]
        bind = name == "capture" and names and names[0].isidentifier()
        head = lines[:first] + [f"{names[0]} = None" if bind else ""]
        return "\n".join(head + _transform_lines(lines[first + 1:]))
    return "\n".join(_transform_lines(lines))
