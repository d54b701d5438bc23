"""grade-all on Dask distributed: the same reports as the local pool, a killed worker's
submission retried elsewhere, ``--resume``, GPU routing by Dask resources.

One small cluster on loopback serves the module: a scheduler and two single-threaded worker
processes (nannies), one of them offering the resource ``GPU=1`` (no CUDA is needed for the
routing); the scheduler's HTTP server on a free loopback port, without the dashboard pages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader.course import COURSE
from grader.demo import partial_submission
from grader.engine.batch import find_submissions, grade_all, read_report
from grader.engine.options import Options
from tests.conftest import ROOT, release_notebook, source_notebook, with_extra_cell
from tests.engine.test_cli_speed_paths import REAPER

distributed = pytest.importorskip("distributed")

from grader.engine.cluster import (  # noqa: E402 - after the skip: needs distributed
    SCHEDULER_SETTINGS,
    Cluster,
    gpu_exercises,
    needs_gpu,
    parse_resources,
    task_resources,
)

CHAPTER = "ch02"
pytestmark = pytest.mark.xdist_group("cluster")
KILL_SANDBOX = """
def numerical_lim(*args, **kwargs):
    import os
    os._exit(1)
"""


@pytest.fixture(scope="module")
def scheduler():
    """A client of a loopback cluster: workers ``cpu`` and ``gpu`` (resource GPU=1)."""
    import dask
    from distributed import Client, Nanny, Scheduler, SpecCluster

    common = {"host": "127.0.0.1", "nthreads": 1, "dashboard": False}
    workers = {"cpu": {"cls": Nanny, "options": common},
               "gpu": {"cls": Nanny, "options": {**common, "resources": {"GPU": 1}}}}
    with dask.config.set(SCHEDULER_SETTINGS):
        cluster = SpecCluster(workers=workers, scheduler={"cls": Scheduler, "options": {
            "host": "127.0.0.1", "dashboard": False, "dashboard_address": "127.0.0.1:0"}})
    with cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        yield client


def _class(folder: Path) -> dict[str, Path]:
    """ann: every answer; ben: half; cat: none; dan: not a notebook; eve: every answer, and one
    exercise that kills its sandbox."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_notebook(CHAPTER), folder / "ann.ipynb")
    nbformat.write(partial_submission(source_notebook(CHAPTER), release_notebook(CHAPTER), 0.5),
                   folder / "ben.ipynb")
    shutil.copyfile(release_notebook(CHAPTER), folder / "cat.ipynb")
    (folder / "dan.ipynb").write_text("not json")
    with_extra_cell(source_notebook(CHAPTER), KILL_SANDBOX, folder / "eve.ipynb")
    return find_submissions(folder, CHAPTER)


def _untimed(value: object) -> object:
    """``value`` without what differs between any two gradings: how long things took."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def test_the_dask_route_writes_the_local_routes_reports(scheduler, tmp_path):
    found = _class(tmp_path / "submitted")
    local = grade_all(found, CHAPTER, COURSE, workers=1, out=tmp_path / "local",
                      csv_path=tmp_path / "local" / "grades.csv", options=Options(seed=7),
                      progress=False)
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade-all", str(tmp_path / "submitted"),
         "--assignment", CHAPTER, "--scheduler", scheduler.scheduler.address, "--seed", "7",
         "--out", str(tmp_path / "dask")], capture_output=True, text=True, cwd=ROOT,
        timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Dask dashboard: http://127.0.0.1:" in result.stdout
    for report in local:
        on_dask = json.loads((tmp_path / "dask" / f"{report['student']}.json").read_text())
        assert _untimed(on_dask) == _untimed(report)
    assert (tmp_path / "dask" / "grades.csv").read_text() == \
        (tmp_path / "local" / "grades.csv").read_text()
    by_student = {r["student"]: r for r in local}
    assert by_student["ann"]["score"] == by_student["ann"]["max_score"]
    assert 0 < by_student["ben"]["score"] < by_student["ann"]["score"]
    assert by_student["cat"]["score"] == by_student["dan"]["score"] == 0
    assert "not valid notebook JSON" in by_student["dan"]["error"]
    killed = next(e for e in by_student["eve"]["exercises"] if e["name"] == "numerical_lim")
    assert killed["score"] == 0 and by_student["eve"]["error"] is None
    assert by_student["eve"]["score"] == by_student["ann"]["score"] - killed["max_score"]


def test_cluster_local_starts_and_stops_its_own_and_leaves_nothing_running(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    shutil.copyfile(source_notebook(CHAPTER), folder / "ann.ipynb")
    result = subprocess.run(
        [sys.executable, "-c", REAPER, sys.executable, "-m", "grader", "grade-all", str(folder),
         "--assignment", CHAPTER, "--cluster", "local", "--workers", "1", "--seed", "7",
         "--exercise", "normalize_by_sum", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 0, outcome["stderr"]
    assert outcome["left"] == []  # the workers, their fork servers and sandboxes all ended
    report = json.loads((tmp_path / "out" / "ann.json").read_text())
    entry = next(e for e in report["exercises"] if e["name"] == "normalize_by_sum")
    assert entry["score"] == entry["max_score"] > 0


def _kill_the_worker_grading(client, key_start: str, killed: list, stop: threading.Event):
    """Kill (SIGKILL) the worker process that is grading the task whose key starts with
    ``key_start``, a second after it began."""
    while not stop.is_set():
        for address, keys in client.processing().items():
            if any(str(key).startswith(key_start) for key in keys):
                time.sleep(1.0)
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                killed.append(address)
                return
        time.sleep(0.05)


def test_a_worker_killed_while_grading_costs_a_retry_on_another(scheduler, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    with_extra_cell(source_notebook(CHAPTER), "import time\ntime.sleep(5)", folder / "slow.ipynb")
    for name in ("ann", "ben"):
        shutil.copyfile(source_notebook(CHAPTER), folder / f"{name}.ipynb")
    killed: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_kill_the_worker_grading,
                               args=(scheduler, f"grade-{CHAPTER}-slow-", killed, stop))
    watcher.start()
    try:
        reports = grade_all(find_submissions(folder, CHAPTER), CHAPTER, COURSE, workers=2,
                            out=tmp_path / "out", csv_path=tmp_path / "grades.csv",
                            options=Options(seed=3, exercises=("normalize_by_sum",)),
                            progress=False,
                            cluster=Cluster(scheduler=scheduler.scheduler.address))
    finally:
        stop.set()
        watcher.join()
    assert len(killed) == 1
    for report in reports:
        entry = next(e for e in report["exercises"] if e["name"] == "normalize_by_sum")
        assert report["error"] is None, report["error"]
        assert entry["score"] == entry["max_score"] > 0, (report["student"], entry)
    scheduler.wait_for_workers(2)  # the nanny restarts the killed one for the next test


def test_resume_grades_only_the_submissions_without_a_report(scheduler, tmp_path):
    found = _class(tmp_path / "submitted")
    out = tmp_path / "out"
    out.mkdir()
    kept = {"student": "ann", "assignment": CHAPTER, "score": 1, "max_score": 25, "seed": 0,
            "error": None, "exercises": []}
    (out / "ann.json").write_text(json.dumps(kept))
    (out / "ben.json").write_text('{"assignment": "ch02", "score"')  # cut short: graded again
    (out / "cat.json").write_text(json.dumps({**kept, "assignment": "ch03"}))  # not this one's
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade-all", str(tmp_path / "submitted"),
         "--assignment", CHAPTER, "--scheduler", scheduler.scheduler.address, "--resume",
         "--exercise", "normalize_by_sum", "--seed", "5", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Dask dashboard: http://127.0.0.1:" in result.stdout
    assert json.loads((out / "ann.json").read_text()) == kept
    for student in found:
        assert read_report(out / f"{student}.json", CHAPTER)["seed"] == (
            0 if student == "ann" else 5)
    rows = (out / "grades.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["student", *found]
    assert rows[1].startswith("ann,1,25,0,")
    assert not list(out.glob(".*partial"))


def _workers_used(client, grading) -> set[str]:
    """The names of the workers that ran ``grading()``'s tasks."""
    with distributed.get_task_stream(client) as stream:
        grading()
    names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    return {names[t["worker"]] for t in stream.data if str(t["key"]).startswith("grade-")}


def test_gpu_checks_go_only_to_gpu_workers_and_the_rest_anywhere(scheduler, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in ("ann", "ben", "cat", "dan"):
        shutil.copyfile(source_notebook("ch05"), folder / f"{name}.ipynb")
    found = find_submissions(folder, "ch05")
    cluster = Cluster(scheduler=scheduler.scheduler.address)

    def grading(exercises: tuple[str, ...]):
        return lambda: grade_all(found, "ch05", COURSE, workers=2, out=tmp_path / exercises[0],
                                 csv_path=tmp_path / "grades.csv", progress=False,
                                 cluster=cluster, options=Options(seed=1, exercises=exercises))

    assert _workers_used(scheduler, grading(("move_to",))) == {"gpu"}
    assert _workers_used(scheduler, grading(_cpu_only("ch05"))) == {"cpu", "gpu"}


def _cpu_only(chapter: str) -> tuple[str, ...]:
    marked = gpu_exercises(COURSE, chapter)
    return tuple(e for e in COURSE.exercises(chapter) if e not in marked)[:1]


def test_gpu_routing_rules():
    assert gpu_exercises(COURSE, "ch02") == set()
    assert "move_to" in gpu_exercises(COURSE, "ch05")
    assert needs_gpu(COURSE, "ch05", Options())
    assert needs_gpu(COURSE, "ch05", Options(exercises=("move_to",)))
    assert not needs_gpu(COURSE, "ch05", Options(exercises=_cpu_only("ch05")))
    assert not needs_gpu(COURSE, "ch02", Options())
    anywhere = Cluster()
    assert task_resources(anywhere, Options(), gpu_checks=False, gpu_workers=True) == {}
    assert task_resources(anywhere, Options(), gpu_checks=True, gpu_workers=False) == {}
    assert task_resources(anywhere, Options(), gpu_checks=True, gpu_workers=True) == {"GPU": 1}
    assert task_resources(anywhere, Options(device="cuda:1"), False, False) == {"GPU": 1}
    forced = Cluster(resources={"GPU": 1, "MEM": 2})
    assert task_resources(forced, Options(), False, False) == {"GPU": 1, "MEM": 2}
    assert task_resources(Cluster(resources={}), Options(device="cuda"), True, True) == {}
    assert parse_resources(["GPU=1", "MEM=2.5,X=0"]) == {"GPU": 1, "MEM": 2.5, "X": 0}
    assert parse_resources(["none"]) == {} and parse_resources(None) is None
    with pytest.raises(ValueError, match="NAME=AMOUNT"):
        parse_resources(["GPU"])


def test_the_cli_refuses_resources_without_a_cluster(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    shutil.copyfile(source_notebook(CHAPTER), folder / "ann.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade-all", str(folder), "--assignment", CHAPTER,
         "--resources", "GPU=1"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "--resources needs" in result.stderr
