"""The engine grades any course it is told about: chapters as modules or packages, gpu checks."""

from __future__ import annotations

import textwrap

import pytest

from grader.engine.options import Course, Options
from grader.engine.run import grade

pytestmark = pytest.mark.xdist_group("sandbox")

FILES = {
    "mychecks/__init__.py": "",
    "mychecks/spec.py": """
        from grader.engine.options import Course

        COURSE = Course(toolbox="course", protected=("solutions", "grader", "mychecks"),
                        checks="mychecks", checker="course.checking:compare")
    """,
    "mychecks/conftest.py": """
        from grader.engine.plugin import (  # noqa: F401
            device, gen, pytest_addoption, pytest_collection_modifyitems, pytest_configure,
            pytest_runtest_makereport, pytest_runtest_setup, pytest_sessionfinish,
            pytest_terminal_summary, seed, student, use_course,
        )
        from mychecks.spec import COURSE

        use_course(COURSE)
    """,
    "mychecks/ch01/__init__.py": """
        from grader.engine.plugin import Exercise

        EXERCISES = {"double": Exercise(points=2)}
    """,
    "mychecks/ch01/test_double.py": """
        import pytest
        import torch

        from grader.engine.compare import expect_tensor
        from grader.engine.plugin import exercise


        @exercise("double")
        def test_values(student, gen, device):
            X = torch.randn(3, 4, generator=gen, dtype=torch.float64, device=device)
            expect_tensor(student.result("double", X), 2 * X, what="double(X)")


        @exercise("double")
        @pytest.mark.gpu
        def test_on_cuda(student, gen):
            X = torch.randn(5, generator=gen).cuda()
            expect_tensor(student.result("double", X), 2 * X, what="double(X) on CUDA")
    """,
    "mychecks/ch02.py": """
        from grader.engine.compare import expect_number
        from grader.engine.plugin import Exercise, exercise

        EXERCISES = {"inc": Exercise(points=1)}


        @exercise("inc")
        def test_inc(student):
            expect_number(student.result("inc", 41), 42, what="inc(41)")
    """,
}


@pytest.fixture
def course(tmp_path, monkeypatch) -> Course:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    from mychecks.spec import COURSE

    return COURSE


def _submission(tmp_path, body: str):
    path = tmp_path / "answer.py"
    path.write_text(body)
    return path


def test_chapters_are_modules_or_packages(course):
    assert course.chapters() == ["ch01", "ch02"]
    assert set(course.exercises("ch01")) == {"double"}
    assert course.check_path("ch01").endswith("ch01")
    assert course.check_path("ch02").endswith("ch02.py")


def test_package_chapter_grades_and_gpu_checks_skip_with_a_reason(course, tmp_path):
    right = _submission(tmp_path, "def double(X):\n    return X + X\n")
    report = grade(right, "ch01", course, Options(seed=3, student="ann"))
    (entry,) = report["exercises"]
    assert (report["score"], report["max_score"], report["student"]) == (2, 2, "ann")
    assert report["device"] == "cpu"
    import torch

    if not torch.cuda.is_available():
        assert entry["skipped"] == [{"name": "on_cuda",
                                     "reason": "needs CUDA, and no CUDA device is available"}]
    wrong = _submission(tmp_path, "def double(X):\n    return X * 3\n")
    report = grade(wrong, "ch01", course, Options(seed=3))
    assert report["score"] == 0
    assert "double(X) is wrong" in report["exercises"][0]["tests"][0]["message"]


def test_module_chapter_and_unknown_names(course, tmp_path):
    path = _submission(tmp_path, "def inc(x):\n    return x + 1\n")
    assert grade(path, "ch02", course, Options(seed=1))["score"] == 1
    with pytest.raises(ValueError, match="unknown assignment"):
        grade(path, "ch09", course)
    with pytest.raises(ValueError, match="has no exercise"):
        grade(path, "ch02", course, Options(exercises=("dec",)))


def test_cuda_device_without_cuda_is_a_usage_error(course, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    path = _submission(tmp_path, "def inc(x):\n    return x + 1\n")
    with pytest.raises(ValueError, match="no CUDA device"):
        grade(path, "ch02", course, Options(device="cuda"))
