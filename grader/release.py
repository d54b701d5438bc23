"""Build the course: nbgrader source notebooks from ``course/chapters``, ``solutions`` and the
checks' points, then the student release in ``assignments/`` through nbgrader's
``generate_assignment``.

An exercise's code lives in ``solutions/chNN.py``, its points in ``grader/checks/chNN.py`` and
its prose in ``course/chapters/chNN.md``; this module is the only place they meet. Output is
deterministic (cell ids come from the chapter and exercise names), so rebuilding unchanged
sources gives identical bytes and ``check`` can tell when a committed file is stale.

A chapter whose sources carry Chinese (``docs/bilingual.md``) is built twice: the English
assignment ``chNN`` and the Chinese assignment ``chNN_zh``, each holding ``chNN.ipynb``; both
are graded by chapter ``chNN``'s checks.
"""

from __future__ import annotations

import copy
import filecmp
import hashlib
import importlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

from course.markers import DEMO_MARKER, DEMO_TAG, GRADE_MARKER
from grader import localize

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
CHAPTERS = COURSE / "chapters"
ASSIGNMENTS = ROOT / "assignments"
TOOLBOX_EXCLUDE = {"nbgrader_config.py"}
GRADE_CELL = (
    GRADE_MARKER + ": `{name}` ({points:g} points). Validate runs its public checks here: "
    "defined,\n# implemented, built from scratch, worked examples passed. The hidden checks grade "
    "it in a\n# sandbox when you submit.\nfrom course.validation import validate\n\n"
    "validate({name!r}, forbid={forbid!r})\n"
)
GRADE_CELL_ZH = (
    GRADE_MARKER + "（自动评分）：`{name}`（{points:g} 分）。Validate 在这里运行它的公开检查：\n"
    "# 是否已定义、已实现、从零实现，示例是否通过。提交后，隐藏检查会在沙箱中为它评分。\n"
    "from course.validation import validate\n\nvalidate({name!r}, forbid={forbid!r})\n"
)
STUDENT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "d2l-course-toolbox"
version = "{version}"
description = "The student toolbox of d2l-course (data, plotting, timers, training loops)."
requires-python = ">=3.10"
dependencies = ["torch>=2.3", "torchvision>=0.18", "numpy>=1.24", "pandas>=2.0",
                "matplotlib>=3.7", "scikit-learn>=1.3", "jupyterlab>=4.0", "nbclient>=0.8",
                "ipykernel>=6.25"]

[tool.setuptools]
packages = ["course"]

[tool.setuptools.package-data]
course = ["locale/*/LC_MESSAGES/*.mo"]
"""
STUDENT_README = """\
# d2l-course: student release

One notebook per chapter (`chNN/chNN.ipynb`) and the toolbox package `course` the notebooks
import. Set up once, offline apart from the package index:

    python -m venv .venv && .venv/bin/pip install -e .
    .venv/bin/jupyter lab

In each notebook, replace `raise NotImplementedError()` with your code and run the worked
example under each exercise: `check(...)` prints a tick or says what differs. To run every
worked example of a notebook at once, in a fresh kernel:

    .venv/bin/python -m course.selfcheck ch03/ch03.ipynb

The hidden checks run on the course's grader when you submit; cells that start with
`# Demonstration` (training runs, plots) are not graded. This folder is generated; do not
edit it in the course repository.
"""


class BuildError(Exception):
    """The sources disagree (an exercise without a solution, a checks table out of order, …)."""


FINGERPRINT = "d2l_course_build"  # notebook metadata key: the digest of what the build wrote


def fingerprint(nb: nbformat.NotebookNode) -> str:
    """The digest of a built source notebook's content, its own fingerprint left out."""
    bare = copy.deepcopy(nb)
    bare.metadata.pop(FINGERPRINT, None)
    return hashlib.sha256(nbformat.writes(bare).encode()).hexdigest()[:16]


def edited_by_hand(path: Path) -> bool:
    """Whether the source notebook at ``path`` changed since the build wrote it (formgrader's
    Edit button, a hand edit). Notebooks without a fingerprint count as built."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: an edit gone wrong
        return True
    recorded = nb.metadata.get(FINGERPRINT, {}).get("fingerprint")
    return recorded is not None and recorded != fingerprint(nb)


def _edited_message(assignment: str) -> str:
    chapter = assignment.partition("_")[0]
    return (f"course/source/{assignment}/{chapter}.ipynb was edited by hand since it was built; a "
            f"chapter is edited in course/chapters/{chapter}.md (prose, markers, worked examples) "
            f"and solutions/{chapter}.py (the code): carry the edit over, then rebuild with "
            "--force to replace the notebook")


def chapter_ids() -> list[str]:
    """The course's chapters, in order (one home: ``grader.course.chapters``)."""
    from grader.course import chapters

    return chapters()


def assignment_name(chapter: str, lang: str = "en") -> str:
    """The nbgrader assignment of ``chapter`` in ``lang``: ``ch03`` or ``ch03_zh``."""
    return chapter if lang == "en" else f"{chapter}_{lang}"


def languages(chapter: str) -> list[str]:
    """The languages ``chapter`` is written in: English, and Chinese where its prose has it."""
    text = (CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")
    return ["en", "zh"] if localize.has_chinese(text) else ["en"]


def assignments(chapters: list[str] | None = None) -> list[tuple[str, str, str]]:
    """``(assignment, chapter, language)`` for every built notebook, in chapter order."""
    return [(assignment_name(c, lang), c, lang) for c in (chapters or chapter_ids())
            for lang in languages(c)]


def _solution_source(chapter: str, name: str) -> str:
    module = importlib.import_module(f"solutions.{chapter}")
    if not hasattr(module, name):
        raise BuildError(f"{chapter}.md asks for exercise {name!r}, but solutions/{chapter}.py "
                         "does not define it")
    source = inspect.getsource(getattr(module, name))
    if "### BEGIN SOLUTION" not in source:
        raise BuildError(f"solutions/{chapter}.py: {name} has no ### BEGIN SOLUTION marker")
    return source.rstrip("\n")


def build_source(chapter: str, lang: str = "en") -> nbformat.NotebookNode:
    """The nbgrader source notebook (with solutions) for ``chapter`` in ``lang``."""
    from grader.course import exercises_of

    specs = exercises_of(chapter)
    points = {name: spec.points for name, spec in specs.items()}
    text = jupytext.read(CHAPTERS / f"{chapter}.md")
    cells, seen, pending = [], [], None

    def place_grade_cell() -> None:
        # After the exercise's worked examples: before the prose that leads to what comes next.
        if pending is not None:
            at = len(cells)
            while at > 0 and cells[at - 1].cell_type == "markdown":
                at -= 1
            cells.insert(at, pending)

    first_code = True
    for index, cell in enumerate(text.cells):
        name = cell.metadata.get("exercise")
        demo = cell.cell_type == "code" and cell.source.lstrip().startswith(DEMO_MARKER)
        if name or demo:
            place_grade_cell()
            pending = None
        if name:
            if name not in points:
                raise BuildError(f"{chapter}.md: exercise {name!r} has no entry in "
                                 f"grader/checks/{chapter}.py EXERCISES")
            seen.append(name)
            code = nbformat.v4.new_code_cell(
                localize.docstrings(_solution_source(chapter, name), lang))
            code.id = f"{name}-code"
            code.metadata = {"nbgrader": {"grade": False, "solution": True, "locked": False,
                                          "grade_id": f"{name}_code", "schema_version": 3}}
            forbid = tuple(specs[name].scan_names()) if specs[name].forbid else ()
            template = GRADE_CELL_ZH if lang == "zh" else GRADE_CELL
            pending = nbformat.v4.new_code_cell(
                template.format(name=name, points=points[name], forbid=forbid).rstrip("\n"))
            pending.id = f"{name}-grade"
            pending.metadata = {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                             "points": points[name], "grade_id": name,
                                             "schema_version": 3}}
            cells.append(code)
            continue
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(localize.markdown(
                cell.source, lang, f"{chapter}.md, cell {index}"))
        else:
            new = nbformat.v4.new_code_cell(localize.code(cell.source, lang, DEMO_MARKER))
            if first_code and lang != "en":
                new.source += localize.SET_LANGUAGE[lang]
            first_code = False
            if demo:
                new.metadata["tags"] = [DEMO_TAG]
        new.id = f"{chapter}-{index:03d}"
        cells.append(new)
    place_grade_cell()
    if seen != list(points):
        raise BuildError(f"{chapter}: the notebook's exercises {seen} differ from "
                         f"grader/checks/{chapter}.py EXERCISES {list(points)} (names and order)")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    if lang != "en":
        nb.metadata["language_info"]["natural_language"] = lang
    nb.metadata[FINGERPRINT] = {"fingerprint": fingerprint(nb),
                                "edit": f"course/chapters/{chapter}.md"}
    return nb


def run_nbgrader(course_root: Path, *args: str) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("JUPYTER_CONFIG_DIR", tempfile.mkdtemp(prefix="d2l-jupyter-"))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_root, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def _generate(course_root: Path, release: Path, db_url: str, names: list[str]) -> None:
    """``nbgrader generate_assignment --force`` for each of ``names``, in one process."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("JUPYTER_CONFIG_DIR", tempfile.mkdtemp(prefix="d2l-jupyter-"))
    result = subprocess.run([sys.executable, "-m", "grader.generate", str(course_root.resolve()),
                             str(release.resolve()), db_url, *names],
                            cwd=course_root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(result.stderr.strip() or result.stdout.strip())


def _write_toolbox(out: Path) -> None:
    from grader import __version__

    target = out / "course"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(COURSE.glob("*.py")):
        if path.name not in TOOLBOX_EXCLUDE:
            shutil.copyfile(path, target / path.name)
    for path in sorted((COURSE / "locale").glob("*/LC_MESSAGES/*.mo")):
        copy = target / path.relative_to(COURSE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    (out / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(version=__version__))
    (out / "README.md").write_text(STUDENT_README)


def build(chapters: list[str] | None = None, course_root: Path = COURSE,
          release: Path = ASSIGNMENTS, force: bool = False) -> list[Path]:
    """Write the source notebooks under ``course_root/source`` and the release under ``release``.

    The release is produced by ``nbgrader generate_assignment`` with a throwaway gradebook, so
    building never touches the instructor's gradebook. A source notebook edited by hand since
    it was built is not overwritten (``BuildError`` names where the chapter is edited) unless
    ``force``. Returns the files written.
    """
    built = assignments(chapters or chapter_ids())
    if not force:
        edited = [a for a, c, _ in built
                  if (course_root / "source" / a / f"{c}.ipynb").is_file()
                  and edited_by_hand(course_root / "source" / a / f"{c}.ipynb")]
        if edited:
            raise BuildError("; ".join(_edited_message(a) for a in edited))
    written = []
    for assignment, chapter, lang in built:
        try:
            nb = build_source(chapter, lang)
        except localize.TranslationError as exc:
            raise BuildError(f"{chapter} ({lang}): {exc}") from exc
        source = course_root / "source" / assignment / f"{chapter}.ipynb"
        source.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, source)
        written.append(source)
    with tempfile.TemporaryDirectory(prefix="d2l-build-") as tmp:
        _generate(course_root, release, f"sqlite:///{tmp}/build.db", [a for a, _, _ in built])
    for assignment, chapter, _ in built:
        for extra in (release / assignment).iterdir():
            if extra.name != f"{chapter}.ipynb":
                raise BuildError(f"unexpected file in the release: {extra}")
        written.append(release / assignment / f"{chapter}.ipynb")
    _write_toolbox(release)
    return written


def stale_files() -> list[str]:
    """Committed sources or release files that differ from a fresh build (empty when current)."""
    with tempfile.TemporaryDirectory(prefix="d2l-check-") as tmp:
        course_root = Path(tmp) / "course"
        course_root.mkdir()
        shutil.copyfile(COURSE / "nbgrader_config.py", course_root / "nbgrader_config.py")
        release = Path(tmp) / "assignments"
        build(course_root=course_root, release=release)
        problems = []
        pairs = [(course_root / "source", COURSE / "source"), (release, ASSIGNMENTS)]
        for fresh_root, committed_root in pairs:
            fresh = {p.relative_to(fresh_root) for p in fresh_root.rglob("*") if p.is_file()}
            committed = {p.relative_to(committed_root) for p in committed_root.rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts}
            for rel in sorted(fresh | committed):
                a, b = fresh_root / rel, committed_root / rel
                if rel not in committed:
                    problems.append(f"missing: {committed_root.name}/{rel}")
                elif rel not in fresh:
                    problems.append(f"not built from the sources: {committed_root.name}/{rel}")
                elif not filecmp.cmp(a, b, shallow=False):
                    edited = committed_root.name == "source" and edited_by_hand(b)
                    problems.append(f"edited by hand: {_edited_message(rel.parts[0])}" if edited
                                    else f"stale: {committed_root.name}/{rel}")
        return problems
