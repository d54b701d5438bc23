"""The fast paths of a cold grading and of ``grade-all``, and the grader's own memory ceiling.

Functional, not timed: what the speed-ups rely on (what is imported when, which pytest plugins
load, the fork server first), that a worker survives answers bigger than its memory, that a
dying worker costs a retry and not the class, and that nothing a grading started outlives it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import Future, ProcessPoolExecutor
from importlib.metadata import entry_points
from multiprocessing import get_context

import pytest

from grader.course import COURSE, exercises_of
from grader.engine import run
from grader.engine.batch import find_submissions, grade_all, grade_each
from grader.engine.options import Course, Limits, Options
from tests.conftest import ROOT, source_notebook

pytestmark = pytest.mark.xdist_group("batch")
CHAPTER = "ch02"


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_the_command_line_parser_imports_no_heavy_library():
    code = ("import sys\n"
            "from grader.cli import parser\n"
            "parser().parse_args(['grade', 'x.ipynb', '--assignment', 'ch02'])\n"
            "print(sorted({'torch', 'pytest', 'pandas', 'rich', 'nbformat'} & set(sys.modules)))")
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


PROBE = {
    "probecourse/__init__.py": "",
    "probecourse/spec.py": """
        from grader.engine.options import Course

        COURSE = Course(toolbox="course", protected=("solutions", "grader", "probecourse"),
                        checks="probecourse", checker="course.checking:compare")
    """,
    "probecourse/conftest.py": """
        from grader.engine.plugin import (  # noqa: F401
            device, gen, pytest_addoption, pytest_collection_modifyitems, pytest_configure,
            pytest_runtest_makereport, pytest_runtest_setup, pytest_sessionfinish,
            pytest_terminal_summary, seed, student, use_course,
        )
        from probecourse.spec import COURSE

        use_course(COURSE)
    """,
    "probecourse/ch01.py": """
        from importlib.metadata import entry_points

        from grader.engine.compare import expect
        from grader.engine.plugin import Exercise, exercise

        EXERCISES = {"probe": Exercise(points=1)}


        @exercise("probe")
        def test_only_the_plugins_grading_needs(request):
            manager = request.config.pluginmanager
            installed = {ep.name for ep in entry_points(group="pytest11")}
            loaded = sorted(name for name in installed if manager.has_plugin(name))
            expect(not loaded, f"autoloaded plugins: {loaded}")
            expect(not manager.has_plugin("unraisableexception"), "unraisableexception loaded")
    """,
}


@pytest.fixture
def probe_course(tmp_path, monkeypatch) -> Course:
    if not list(entry_points(group="pytest11")):
        pytest.skip("no pytest plugin is installed that autoload could load")
    for name, text in PROBE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(run.BASELINE, raising=False)
    from probecourse.spec import COURSE as probe

    return probe


def _probe(course: Course, tmp_path) -> dict:
    submission = tmp_path / "answer.py"
    submission.write_text("x = 1\n")
    return run.grade(submission, "ch01", course, Options(seed=1))


def test_the_engines_pytest_loads_no_plugin_by_itself(probe_course, tmp_path, monkeypatch):
    before = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    report = _probe(probe_course, tmp_path)
    assert report["score"] == 1, report["exercises"]
    assert os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") == before
    monkeypatch.setenv(run.BASELINE, "1")  # the path before: autoload on, so the probe fails
    message = _probe(probe_course, tmp_path)["exercises"][0]["tests"][0]["message"]
    assert "autoloaded plugins" in message


def test_without_the_flag_autoload_is_off_for_the_one_call_only(probe_course, tmp_path,
                                                                monkeypatch):
    monkeypatch.setattr(run, "_has_autoload_flag", lambda: False)  # pytest before 8.4
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    assert _probe(probe_course, tmp_path)["score"] == 1
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ


CLI_PROBE = """
import resource, sys
import grader.engine.sandbox as sandbox

started = []
original = sandbox.ForkServer.__init__


def init(self, *args, **kwargs):
    started.append("torch" in sys.modules)
    original(self, *args, **kwargs)


sandbox.ForkServer.__init__ = init
from grader.cli import main

code = main(sys.argv[1:])
print("PROBE", code, started, resource.getrlimit(resource.RLIMIT_DATA)[0])
"""


def test_cli_starts_its_fork_server_before_torch_and_caps_its_memory(tmp_path):
    exercise = next(iter(exercises_of(CHAPTER)))
    out = tmp_path / "report.json"
    result = _python(CLI_PROBE, "grade", str(source_notebook(CHAPTER)), "--assignment", CHAPTER,
                     "--exercise", exercise, "--seed", "1", "--grader-memory", "3G",
                     "--json", str(out))
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE"))
    assert line.split(" ", 1)[1] == f"0 [False] {3 * 2**30}"
    entry = next(e for e in json.loads(out.read_text())["exercises"] if e["name"] == exercise)
    assert entry["score"] == entry["max_score"] > 0, entry


BIG = """
import torch


def pairwise_sq_dists(X, Y):
    return torch.ones(32 * 2**20, dtype=torch.float64)  # 256 MiB for every call
"""


def test_a_worker_survives_answers_bigger_than_its_memory(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "a_big.py").write_text(BIG)
    for name in ("b_good", "c_good"):
        shutil.copyfile(source_notebook(CHAPTER), folder / f"{name}.ipynb")
    limits = Limits().replace(answer_bytes=2**30, tensor_elements=2**27)  # the ceiling binds
    options = Options(seed=1, exercises=("pairwise_sq_dists",), limits=limits)
    reports = grade_all(find_submissions(folder, CHAPTER), CHAPTER, COURSE, workers=1,
                        out=tmp_path / "out", csv_path=tmp_path / "grades.csv", options=options,
                        progress=False, grader_memory=int(1.25 * 2**30))
    by_student = {r["student"]: r for r in reports}
    big = next(e for e in by_student["a_big"]["exercises"] if e["name"] == "pairwise_sq_dists")
    assert big["score"] == 0
    assert "died" not in (by_student["a_big"]["error"] or "")  # its one worker lived on
    assert any("memory" in t["message"].lower() for t in big["tests"]), big["tests"]
    for student in ("b_good", "c_good"):
        entry = next(e for e in by_student[student]["exercises"]
                     if e["name"] == "pairwise_sq_dists")
        assert (entry["score"], by_student[student]["error"]) == (entry["max_score"], None)


def test_a_worker_that_cannot_start_reports_why_to_every_student(probe_course, tmp_path):
    broken = dataclasses.replace(probe_course, checker="probecourse.missing:compare")
    paths = {name: tmp_path / f"{name}.py" for name in ("ann", "ben", "cat")}
    for path in paths.values():
        path.write_text("x = 1\n")
    reports = grade_all(paths, "ch01", broken, workers=2, out=tmp_path / "out",
                        csv_path=tmp_path / "grades.csv", options=Options(seed=1),
                        progress=False)
    assert [r["student"] for r in reports] == ["ann", "ben", "cat"]
    for report in reports:
        assert report["score"] == 0
        assert "did not start: ModuleNotFoundError" in report["error"], report["error"]


def fake_grading(student: str) -> dict:
    """A worker's job for the test below: one student's grading kills its worker process."""
    if student == "killer":
        os._exit(3)
    return {"student": student}


def test_a_dying_worker_costs_a_retry_not_the_class():
    graded: dict[str, dict] = {}
    dead: list[str] = []

    def record(student: str, future: Future) -> None:
        graded[student] = future.result()

    grade_each(["ann", "killer", "ben", "cat", "dan"], 2,
               lambda size: ProcessPoolExecutor(size, mp_context=get_context("spawn")),
               lambda executor, student: executor.submit(fake_grading, student),
               record, dead.append)
    assert dead == ["killer"]
    assert graded == {s: {"student": s} for s in ("ann", "ben", "cat", "dan")}


REAPER = """
import ctypes, json, os, signal, subprocess, sys, tempfile, time

ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
with tempfile.TemporaryFile("w+") as log:  # not a pipe: a leftover holding it would block
    code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=log).returncode
    log.seek(0)
    stderr = log.read()
time.sleep(0.5)
left = []
for entry in os.listdir("/proc"):
    try:
        with open(f"/proc/{entry}/stat") as f:
            state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        with open(f"/proc/{entry}/cmdline", "rb") as f:
            command = f.read().replace(b"\\0", b" ").decode(errors="replace")[:100]
    except (OSError, ValueError):
        continue
    if int(ppid) == os.getpid() and state != "Z":
        left.append(command)
        os.kill(int(entry), signal.SIGKILL)
print(json.dumps({"code": code, "stderr": stderr[-2000:], "left": left}))
"""


def test_no_process_outlives_a_cli_grading_or_a_class(tmp_path):
    exercise = next(iter(exercises_of(CHAPTER)))
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in ("ann", "ben"):
        shutil.copyfile(source_notebook(CHAPTER), folder / f"{name}.ipynb")
    commands = [
        ["grade", str(source_notebook(CHAPTER))],
        ["grade-all", str(folder), "--workers", "2", "--out", str(tmp_path / "out")],
    ]
    for command in commands:
        result = _python(REAPER, sys.executable, "-m", "grader", *command, "--assignment",
                         CHAPTER, "--exercise", exercise, "--seed", "1")
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["code"] == 0, outcome["stderr"]
        assert outcome["left"] == [], command
