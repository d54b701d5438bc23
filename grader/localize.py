"""One source, two languages: pick the English or the Chinese words of a chapter's sources.

A chapter is written once (``docs/bilingual.md``): its code, checks and points exist once, and
only words come in two languages, side by side in the same files.

- Markdown cells (``course/chapters/chNN.md``): the English, then a line ``<!-- zh -->``, then
  the Chinese.
- Docstrings (``solutions/chNN.py``): the same, inside the docstring.
- Comments in code cells: a full-line comment ``# zh: …`` right after a line is the Chinese of
  that line's comment (a full-line or a trailing one).
- Strings in code cells: a line ``# zh> …`` right after a code line replaces that line in the
  Chinese notebook; the two must differ in nothing but string literals and comments
  (``code_matches``; the build refuses anything else).

English is the default: a source without Chinese builds the English notebook only.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

LANGUAGES = ("en", "zh")
ZH = "<!-- zh -->"
COMMENT = "# zh: "
REPLACE = "# zh> "
_SPLIT = re.compile(r"^[ \t]*<!-- zh -->[ \t]*$", re.MULTILINE)
DEMO_ZH = "（演示）："
# Added by the build to the first code cell of a notebook that is not in English: the checker's
# and Validate's messages then come in the notebook's language (the only line that differs).
SET_LANGUAGE = {
    "zh": '\n\nimport course.i18n\n\ncourse.i18n.use_language("zh")  # 检查与提示信息以中文显示',
}


class TranslationError(ValueError):
    """A bilingual source that breaks the rules (Chinese missing, or code that differs)."""


def has_chinese(text: str) -> bool:
    """Whether ``text`` (a chapter's markdown or a module's source) carries Chinese words."""
    return bool(_SPLIT.search(text)) or COMMENT in text or REPLACE in text


def markdown(source: str, lang: str, where: str = "a markdown cell") -> str:
    """The ``lang`` words of a markdown cell; ``TranslationError`` when Chinese is asked for and
    the cell has none."""
    parts = _SPLIT.split(source, maxsplit=1)
    if lang == "en":
        return parts[0].rstrip("\n") if len(parts) > 1 else source
    if len(parts) < 2 or not parts[1].strip():
        first = source.strip().splitlines()[0][:60] if source.strip() else ""
        raise TranslationError(f"{where} has no Chinese ({ZH} line): {first!r}")
    return parts[1].strip("\n")


def _comments(source: str) -> dict[int, int]:
    """Line number (0-based) → column where that line's comment starts."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0] - 1] = token.start[1]
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def code(source: str, lang: str, demo_marker: str | None = None) -> str:
    """The ``lang`` version of a code cell: ``# zh:`` and ``# zh>`` lines applied (Chinese) or
    dropped (English). A demonstration's first line keeps ``demo_marker`` in front of its
    Chinese, since the grader and selfcheck find demonstrations by it."""
    lines = source.split("\n")
    comments = _comments(source)
    out: list[str] = []
    origin: list[int] = []
    replaced: list[tuple[str, str]] = []
    for number, line in enumerate(lines):
        text = line.lstrip()
        if text.startswith(COMMENT.rstrip()) or text.startswith(REPLACE.rstrip()):
            if not out:
                raise TranslationError(f"a {text[:5]!r} line opens a code cell: {line.strip()!r}")
            if lang == "en":
                continue
            words = text[len(COMMENT):] if len(text) > len(COMMENT) - 1 else ""
            previous, at = out[-1], origin[-1]
            if text.startswith(REPLACE.rstrip()):
                indent = line[:len(line) - len(text)]
                replaced.append((previous, indent + words))
                out[-1] = indent + words
            else:
                column = comments.get(at)
                if column is None:
                    raise TranslationError(f"a {COMMENT.strip()} line follows a line without "
                                           f"a comment: {previous.strip()!r}")
                if at == 0 and demo_marker and previous[column:].startswith(demo_marker):
                    words = demo_marker + DEMO_ZH + words.removeprefix("演示").lstrip("：: ")
                    out[-1] = previous[:column] + words
                else:
                    out[-1] = previous[:column] + "# " + words
            continue
        out.append(line)
        origin.append(number)
    result = "\n".join(out)
    if replaced and not _same_code(code(source, "en"), result, replaced):
        raise TranslationError(f"{REPLACE.strip()} may change only strings and comments: "
                               + "; ".join(f"{a.strip()!r} → {b.strip()!r}" for a, b in replaced))
    return result


def _same_code(english: str, chinese: str, replaced: list[tuple[str, str]]) -> bool:
    """Whether the two versions of a cell differ only in strings and comments: compared whole
    (so a replaced line may be the middle of a statement), or line by line where the cell is
    not plain Python (IPython magics)."""
    try:
        return _blanked(english) == _blanked(chinese)
    except SyntaxError:
        return all(code_matches(a, b) for a, b in replaced)


def _blanked(source: str) -> str:
    """``source``'s syntax tree with every string constant emptied (comments never reach it)."""

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.Constant:  # noqa: N802 - ast API
            if isinstance(node.value, str):
                return ast.copy_location(ast.Constant(value=""), node)
            return node

        def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:  # noqa: N802 - ast API
            values = [self.visit(v) for v in node.values if isinstance(v, ast.FormattedValue)]
            return ast.copy_location(ast.Tuple(elts=values, ctx=ast.Load()), node)

    return ast.dump(Blank().visit(ast.parse(source)))


def code_matches(english: str, chinese: str) -> bool:
    """Whether two lines of code differ in nothing but string literals and comments. A line of
    a longer statement is completed with closing brackets to be parsed."""
    a, b = english.strip(), chinese.strip()
    for suffix in ("", ")", "]", "}", "))", ")]", "\n    pass"):
        try:
            return _blanked(a + suffix) == _blanked(b + suffix)
        except SyntaxError:
            continue
    return False


def docstrings(source: str, lang: str) -> str:
    """``source`` (a function's or class's code) with the ``lang`` part of each docstring that
    has a ``<!-- zh -->`` line."""
    tree = ast.parse(source)
    lines = source.split("\n")
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str) and _SPLIT.search(first.value.value)):
                spans.append((first.lineno - 1, first.end_lineno - 1))
    for start, end in sorted(spans, reverse=True):
        raw = "\n".join(lines[start:end + 1])
        indent = raw[:len(raw) - len(raw.lstrip())]
        body = raw.strip()
        quote = body[:3]
        if quote not in ('"""', "'''") or not body.endswith(quote):
            raise TranslationError(f"a bilingual docstring must use triple quotes: {body[:40]!r}")
        inner = body[3:-3]
        inline = raw.rstrip().split("\n")[-1].strip() != quote  # closing quotes after text
        parts = _SPLIT.split(inner, maxsplit=1)
        chosen = parts[0].rstrip() if lang == "en" else parts[1].strip("\n").lstrip().rstrip()
        new = f"{indent}{quote}{chosen}" + (quote if inline else f"\n{indent}{quote}")
        lines[start:end + 1] = new.split("\n")
    return "\n".join(lines)
