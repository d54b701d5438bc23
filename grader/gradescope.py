"""Gradescope autograder: ``python -m grader gradescope-zip chNN [--out autograder.zip]``.

The zip holds what Gradescope's autograder image needs: ``setup.sh`` (installs the project, with
the grader, the checks, the reference and the toolbox, into the image's Python) and
``run_autograder`` (grades the student's notebook with the engine and writes
``/autograder/results/results.json``: one visible test per exercise with its score, one test
per hidden check shown after the due date). Upload it as the assignment's autograder; students
submit ``chNN.ipynb`` (or a ``.py`` export).
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

from grader.release import ROOT, chapter_ids

PACKAGES = ("grader", "solutions", "course")
EXCLUDED_PARTS = {"__pycache__", "source", "chapters", "submitted", "autograded", "feedback",
                  "exchange", "release"}

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
if ! command -v python3 >/dev/null; then
    apt-get update && apt-get install -y python3 python3-pip python3-venv
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install /autograder/source
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and AUTOGRADER_PYTHON exist for
# testing the zip outside Gradescope.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
submission="$ROOT/submission/{chapter}.ipynb"
if [ ! -f "$submission" ]; then
    submission="$(find "$ROOT/submission" -maxdepth 2 -type f \\( -name '*.ipynb' \\
                  -o -name '*.py' \\) | sort | head -n 1)"
fi
if [ -z "$submission" ]; then
    message="No notebook found: submit {chapter}.ipynb."
    printf '{{"score": 0, "output": "%s", "tests": []}}\\n' "$message" \\
        > "$ROOT/results/results.json"
    exit 0
fi
cd "$ROOT/source"
"$PYTHON" -m grader grade "$submission" --assignment {chapter} \\
    --gradescope "$ROOT/results/results.json" --json "$ROOT/results/report.json"
"""


def _project_files() -> list[tuple[Path, str]]:
    files = [(ROOT / "pyproject.toml", "pyproject.toml")]
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if not EXCLUDED_PARTS & set(rel.parts[1:]):
                files.append((path, str(rel)))
    return files


def build_zip(chapter: str, out: Path) -> Path:
    """Write Gradescope's autograder zip for ``chapter`` to ``out``; return it."""
    if chapter not in chapter_ids():
        raise ValueError(f"unknown chapter {chapter} (known: {', '.join(chapter_ids())})")
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(chapter=chapter))):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            archive.writestr(info, text)
        for path, name in _project_files():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, path.read_bytes())
    out.write_bytes(buffer.getvalue())
    return out
