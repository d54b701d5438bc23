"""The committed release is current, deterministic, free of solutions, and installable alone."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grader.release import ASSIGNMENTS, build_source, chapter_ids
from grader.release_audit import audit
from tests.conftest import ROOT, release_notebook, source_notebook

pytestmark = pytest.mark.xdist_group("release")


def test_sources_and_release_are_rebuilt_from_the_current_sources():
    from grader.release import stale_files

    assert stale_files() == [], "run `make release` and commit the result"


def test_release_has_no_solution_code_hidden_tests_or_build_output():
    assert audit() == []


def test_audit_catches_a_leak(tmp_path):
    import shutil

    leaked = tmp_path / "assignments"
    shutil.copytree(ASSIGNMENTS, leaked)
    chapter = chapter_ids()[0]
    shutil.copyfile(source_notebook(chapter), leaked / chapter / f"{chapter}.ipynb")
    (leaked / "course" / "__pycache__").mkdir()
    (leaked / "course" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    problems = audit(leaked)
    assert any("solution code" in p for p in problems)
    assert any("BEGIN SOLUTION" in p for p in problems)
    assert any(".pyc" in p for p in problems)


def test_build_keeps_a_hand_edited_source_unless_forced(tmp_path):
    import shutil

    from grader.release import COURSE, BuildError, build, edited_by_hand

    course_root, release = tmp_path / "course", tmp_path / "assignments"
    course_root.mkdir()
    shutil.copyfile(COURSE / "nbgrader_config.py", course_root / "nbgrader_config.py")
    chapter = chapter_ids()[0]
    build([chapter], course_root=course_root, release=release)
    source = course_root / "source" / chapter / f"{chapter}.ipynb"
    assert not edited_by_hand(source)
    build([chapter], course_root=course_root, release=release)  # an unchanged source rebuilds
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\nA sentence typed in formgrader."
    nbformat.write(nb, source)
    assert edited_by_hand(source)
    with pytest.raises(BuildError, match=f"course/chapters/{chapter}.md"):
        build([chapter], course_root=course_root, release=release)
    assert "formgrader" in source.read_text()
    build([chapter], course_root=course_root, release=release, force=True)
    assert "formgrader" not in source.read_text() and not edited_by_hand(source)


@pytest.mark.parametrize("chapter", chapter_ids())
def test_source_build_is_deterministic_and_matches_the_checks(chapter):
    a, b = build_source(chapter), build_source(chapter)
    assert nbformat.writes(a) == nbformat.writes(b)
    on_disk = nbformat.read(source_notebook(chapter), as_version=4)
    assert nbformat.writes(a) == nbformat.writes(on_disk)
    released = nbformat.read(release_notebook(chapter), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells]
    from grader.course import exercises_of

    for name, spec in exercises_of(chapter).items():
        assert name in ids and f"{name}_code" in ids
        cell = released.cells[ids.index(name)]
        assert cell.metadata["nbgrader"]["points"] == spec.points


def test_student_toolbox_installs_and_imports_without_the_project(tmp_path):
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(ASSIGNMENTS, copy)  # pip builds in the source folder; keep the repo clean
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(copy)],
                   check=True, capture_output=True, timeout=300)
    assert (target / "course" / "checking.py").exists()
    assert not (target / "solutions").exists() and not (target / "grader").exists()
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import course; "
             "print(course.__file__); print(course.check.__module__)")
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(target)], check=True,
                         capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.splitlines()[0].startswith(str(target))
    assert out.splitlines()[1] == "course.checking"


def test_release_readme_and_pyproject_exist():
    assert (ASSIGNMENTS / "README.md").exists()
    assert "d2l-course-toolbox" in (ASSIGNMENTS / "pyproject.toml").read_text()
    assert ROOT.joinpath("assignments").is_dir()
