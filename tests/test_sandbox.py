"""The sandbox contains whatever a submission does: hangs, floods, crashes, escapes."""

import os
import textwrap

import pytest
import torch

from grader.course import COURSE
from grader.engine.options import Limits, Options
from grader.engine.sandbox import Missing, Sandbox, SandboxDied, StudentError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = Limits(load_seconds=8, call_seconds=4, memory_bytes=2 * 2**30, output_bytes=2**20)
pytestmark = pytest.mark.xdist_group("sandbox")


def sandbox(*cells: str, limits: Limits = FAST) -> Sandbox:
    return Sandbox([(str(i + 1), textwrap.dedent(c)) for i, c in enumerate(cells)], "ch03",
                   COURSE, Options(limits=limits))


def call(box: Sandbox, name: str, *args):
    return box.run({"op": "call", "name": name, "args": list(args)}, f"{name}(...)").data["result"]


GOOD = "def ok(x):\n    return x + 1\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("while True:\n        pass", "timed out"),
        ("import os\n    os._exit(3)", "exited with status 3"),
        ("import ctypes\n    ctypes.string_at(0)", "segmentation fault"),
        ("import os\n    os.abort()", "crashed|SIGABRT"),
    ],
    ids=["infinite-loop", "os-exit", "segfault", "abort"],
)
def test_fatal_call_is_contained_and_the_next_call_restarts(body, expected):
    with sandbox(GOOD, f"def bad(x):\n    {body}\n") as box:
        with pytest.raises(SandboxDied, match=expected):
            call(box, "bad", 1)
        assert call(box, "ok", 1) == 2
        assert box.starts == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import sys\n    sys.exit(0)", "called sys.exit"),
        ("return bytearray(8 * 2**30)", "ran out of memory"),
        ("while True:\n        print('x' * 100_000)", "printed more than the output limit"),
        ("raise NotImplementedError()", "not implemented yet"),
    ],
    ids=["sys-exit", "memory", "output-flood", "stub"],
)
def test_errors_in_a_call_are_reported_without_restart(body, expected):
    with sandbox(GOOD, f"def bad(x):\n    {body}\n") as box:
        with pytest.raises(StudentError, match=expected):
            call(box, "bad", 1)
        assert call(box, "ok", 1) == 2
        assert box.starts == 1


def test_hanging_and_crashing_cells_are_skipped_at_load():
    with sandbox("while True:\n    pass\n", GOOD, "import os\nos._exit(1)\n",
                 "def later(x):\n    return 2 * x\n") as box:
        assert call(box, "ok", 1) == 2
        assert call(box, "later", 2) == 4
        errors = {e["cell"]: e["message"] for e in box.load_info["errors"]}
        assert "timed out" in errors["1"] and "exited with status 1" in errors["3"]


def test_missing_name_and_failing_cell_are_explained():
    with sandbox("def softmax(X):\n    return X +\n", GOOD) as box:
        with pytest.raises(Missing, match=r"its cell \(cell 1\) failed with SyntaxError"):
            call(box, "softmax", torch.ones(1))


def test_project_files_and_other_paths_are_unreadable(tmp_path):
    secret = tmp_path / "other_student.ipynb"
    secret.write_text("{}")
    probe = f"""
    def probe():
        import os
        results = {{}}
        for path in {[os.path.join(ROOT, "solutions", "ch03.py"),
                      os.path.join(ROOT, "grader", "checks", "ch03.py"), str(secret),
                      os.path.join(ROOT, "course", "nbgrader_config.py")]!r}:
            try:
                open(path).read()
                results[path] = "read"
            except OSError as exc:
                results[path] = type(exc).__name__
        for module in ("solutions", "grader"):
            try:
                __import__(module)
                results[module] = "imported"
            except Exception as exc:
                results[module] = type(exc).__name__
        import course
        results["course"] = course.check.__name__
        return results
    """
    with sandbox(probe) as box:
        if not box.ensure() or "landlock" not in box.isolation["files"]:
            pytest.skip(f"file isolation unavailable here: {box.isolation['files']}")
        results = call(box, "probe")
    assert results["course"] == "check"
    assert "read" not in results.values() and "imported" not in results.values(), results


def test_the_grader_cannot_be_signalled_or_reached_over_tcp():
    probe = f"""
    def probe():
        import os, signal, socket
        out = []
        try:
            os.kill({os.getpid()}, signal.SIGKILL)
            out.append("signalled")
        except OSError as exc:
            out.append(type(exc).__name__)
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
            out.append("connected")
        except OSError as exc:
            out.append(type(exc).__name__)
        return out
    """
    with sandbox(probe) as box:
        results = call(box, "probe")
    assert "signalled" not in results and "connected" not in results


def test_magics_and_get_ipython_lines_are_tolerated(tmp_path):
    from grader.engine.submission import read_submission

    path = tmp_path / "sub.py"
    path.write_text("# %%\n%matplotlib inline\n!echo hi\nget_ipython().run_line_magic('time', '1')"
                    "\n# %%\n" + GOOD)
    with Sandbox(read_submission(path, COURSE).cells, "ch03", COURSE, Options(limits=FAST)) as box:
        assert box.ensure()["errors"] == []
        assert call(box, "ok", 41) == 42


def _descendants(pid: int) -> list[int]:
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            for child in f.read().split():
                found += [int(child), *_descendants(int(child))]
    return found


def test_processes_a_submission_leaves_behind_die_with_its_sandbox():
    daemon = """
    def spawn():
        import os, time
        if os.fork() == 0:
            os.setsid()
            while True:
                time.sleep(0.05)
        return 1
    """
    with sandbox(daemon) as box:
        assert call(box, "spawn") == 1
        server = box._server
        assert len(_descendants(server.proc.pid)) >= 3  # server, sandbox, daemon
    if not server.namespaces:
        pytest.skip("without a PID namespace an escaped daemon lives until its CPU limit")
    import time

    deadline = time.monotonic() + 5
    while len(_descendants(server.proc.pid)) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_descendants(server.proc.pid)) == 1  # only the fork server itself


def test_without_isolation_the_report_says_so():
    box = Sandbox([("1", GOOD)], "ch03", COURSE, Options(limits=FAST, isolate=False))
    with box:
        assert call(box, "ok", 1) == 2
        assert box.isolation["files"].startswith("off")
        assert box.isolation["namespaces"].startswith("unavailable")
