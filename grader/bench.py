"""``make bench``: the engine's speed and memory, measured side by side in one run.

1. Per chapter: the wall and CPU time for the engine to grade the complete submission through
   the CLI (a fresh process), and warm (in a process that has graded before, like a
   ``grade-all`` worker), each with the speed-ups on and off (``GRADER_BASELINE=1``: the path
   before them); next to the time to execute the same notebook top to bottom in a fresh Jupyter
   kernel (what classic nbgrader autograde does before it can read a single grade).
2. ``grade-all`` over N submissions of one chapter with 1 and 2 workers, and the speed-up; and
   with 2 workers on the baseline path; and on Dask (a ``LocalCluster`` of 2 single-threaded
   worker processes, when ``distributed`` is installed) next to the local pool of 2, as a ratio.
3. Peak resident memory of the grading process and of its sandboxes.
4. Where CUDA is present: warm grading per chapter on CPU and on CUDA (``--device``), and
   ch06's from-scratch ``conv2d`` against ``F.conv2d`` on both devices.

Numbers are ratios of measurements taken here, now; nothing is compared with stored timings.
CPU seconds include every process a measurement started (fork server, sandboxes, workers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.engine.run import BASELINE
from grader.release import COURSE, chapter_ids

MODES = {"fast": "0", "baseline": "1"}


def _source(chapter: str) -> Path:
    return COURSE / "source" / chapter / f"{chapter}.ipynb"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], mode: str) -> tuple[float, float, str]:
    """Run ``args`` with the speed-ups of ``mode``; return (wall s, CPU s, stdout)."""
    env = {**os.environ, BASELINE: MODES[mode]}
    start, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu, result.stdout


def time_cli(chapter: str, mode: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -m grader grade`` on the complete notebook."""
    wall, cpu, _ = _run([sys.executable, "-m", "grader", "grade", str(_source(chapter)),
                         "--assignment", chapter, "--seed", "0"], mode)
    return wall, cpu


_WARM = """
import sys, time
from grader.course import COURSE, grade
from grader.engine.run import prepare
chapter, path, device = sys.argv[1], sys.argv[2], sys.argv[3]
prepare(chapter, COURSE)
grade(path, chapter, seed=0, device=device)
start = time.perf_counter()
report = grade(path, chapter, seed=0, device=device)
print(report["score"], report["max_score"])
print(time.perf_counter() - start)
"""


def time_warm(chapter: str, mode: str, device: str = "cpu") -> float:
    """Seconds to grade the complete notebook in a process that has graded before (as each
    ``grade-all`` worker does): no interpreter start, no imports."""
    _, _, out = _run([sys.executable, "-c", _WARM, chapter, str(_source(chapter)), device],
                     mode)
    return float(out.split()[-1])


def time_kernel(chapter: str) -> float:
    """Seconds to execute the complete notebook in a fresh Jupyter kernel with nbclient."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(_source(chapter), as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={
            "metadata": {"path": tmp}}, shutdown_kernel="immediate",
            extra_arguments=["--log-level=ERROR"]).execute()
        return time.perf_counter() - start


_BATCH = """
import resource, sys, time
from pathlib import Path
from grader.course import COURSE
from grader.engine.batch import find_submissions, grade_all
from grader.engine.options import Options
chapter, folder, out, workers = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
cluster = None
if sys.argv[5] == "dask":
    from grader.engine.cluster import Cluster
    cluster = Cluster(workers=workers, dashboard=None)
subs = find_submissions(folder, chapter)
start = time.perf_counter()
grade_all(subs, chapter, COURSE, workers=workers, out=out, csv_path=out / "grades.csv",
          options=Options(seed=0), progress=False, cluster=cluster)
print(time.perf_counter() - start)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def time_batch(chapter: str, workers: int, folder: Path, mode: str,
               route: str = "pool") -> dict:
    """Wall and CPU seconds and peak RSS (MiB, any one process) of ``grade-all`` over ``folder``
    with ``workers`` processes of the local pool (``route`` ``"pool"``) or of a Dask
    ``LocalCluster`` (``"dask"``)."""
    out = folder.parent / f"reports-{mode}-{route}-{workers}-{folder.name}"
    _, cpu, stdout = _run([sys.executable, "-c", _BATCH, chapter, str(folder), str(out),
                           str(workers), route], mode)
    lines = stdout.strip().splitlines()
    own, children = (int(x) for x in lines[-1].split())
    return {"wall_s": float(lines[-2]), "cpu_s": cpu, "peak_rss_mib": max(own, children) / 1024}


def _chapter_rows(chapters: list[str], kernel: bool) -> dict:
    print(f"{'chapter':<8} {'cli s':>6} {'cpu s':>6} {'before s':>9} {'cpu s':>6} "
          f"{'before/cli':>10} {'warm s':>7} {'before s':>9} {'kernel s':>9} {'kernel/cli':>11} "
          f"{'kernel/warm':>12}")
    rows = {}
    for chapter in chapters:
        cli, cli_cpu = time_cli(chapter, "fast")
        old, old_cpu = time_cli(chapter, "baseline")
        warm, old_warm = time_warm(chapter, "fast"), time_warm(chapter, "baseline")
        ker = time_kernel(chapter) if kernel else float("nan")
        rows[chapter] = {"cli_s": cli, "cli_cpu_s": cli_cpu, "baseline_cli_s": old,
                         "baseline_cli_cpu_s": old_cpu, "baseline_over_cli": old / cli,
                         "warm_s": warm, "baseline_warm_s": old_warm, "kernel_s": ker,
                         "kernel_over_cli": ker / cli, "kernel_over_warm": ker / warm}
        print(f"{chapter:<8} {cli:6.1f} {cli_cpu:6.1f} {old:9.1f} {old_cpu:6.1f} "
              f"{old / cli:10.2f} {warm:7.2f} {old_warm:9.2f} {ker:9.1f} {ker / cli:11.2f} "
              f"{ker / warm:12.2f}", flush=True)
    return rows


def _class(root: Path, chapter: str, count: int) -> Path:
    folder = root / f"submitted-{count}"
    for i in range(count):
        target = folder / f"student{i:02d}" / chapter
        target.mkdir(parents=True)
        shutil.copyfile(_source(chapter), target / f"{chapter}.ipynb")
    return folder


def _batch_rows(chapter: str, submissions: int) -> dict:
    """``grade-all`` with 1 and 2 workers over the class, and over 2 submissions: the
    difference is the time per submission once the workers have started. Each worker starts
    an interpreter and a fork server that both import torch; on 2 cores two workers' start-ups
    take about twice as long as one's, which weighs on a small class's speed-up."""
    small = 2
    with tempfile.TemporaryDirectory(prefix="d2l-bench-") as tmp:
        folder = _class(Path(tmp), chapter, submissions)
        few = _class(Path(tmp), chapter, small)
        one = time_batch(chapter, 1, folder, "fast")
        two = time_batch(chapter, 2, folder, "fast")
        old = time_batch(chapter, 2, folder, "baseline")
        one_few = time_batch(chapter, 1, few, "fast")
        two_few = time_batch(chapter, 2, few, "fast")
        dask = time_batch(chapter, 2, folder, "fast", "dask") if _has_dask() else None
    speedup, gain = one["wall_s"] / two["wall_s"], old["wall_s"] / two["wall_s"]
    per = [(run["wall_s"] - start["wall_s"]) / (submissions - small)
           for run, start in ((one, one_few), (two, two_few))]
    print(f"grade-all {chapter} x{submissions}: 1 worker {one['wall_s']:.1f} s "
          f"({one['cpu_s']:.0f} CPU s), 2 workers {two['wall_s']:.1f} s ({two['cpu_s']:.0f} CPU s),"
          f" speed-up {speedup:.2f}x; 2 workers before the speed-ups {old['wall_s']:.1f} s "
          f"({old['cpu_s']:.0f} CPU s), before/after {gain:.2f}x")
    print(f"  x{small}: 1 worker {one_few['wall_s']:.1f} s, 2 workers {two_few['wall_s']:.1f} s; "
          f"per further submission: 1 worker {per[0]:.2f} s, 2 workers {per[1]:.2f} s "
          f"(speed-up {per[0] / per[1]:.2f}x)")
    if dask is None:
        print("  Dask route skipped: distributed is not installed (pip install -e '.[cluster]')")
    else:
        print(f"  on Dask (LocalCluster, 2 single-threaded workers): {dask['wall_s']:.1f} s "
              f"({dask['cpu_s']:.0f} CPU s); local pool of 2 {two['wall_s']:.1f} s; "
              f"Dask / local pool {dask['wall_s'] / two['wall_s']:.2f}x")
    peak = max(one["peak_rss_mib"], two["peak_rss_mib"])
    print(f"peak resident memory of one grading process (grader or sandbox): {peak:.0f} MiB")
    return {"chapter": chapter, "submissions": submissions, "workers1": one, "workers2": two,
            "baseline_workers2": old, "speedup": speedup, "baseline_over_fast": gain,
            "workers1_small": one_few, "workers2_small": two_few,
            "per_submission_s": {"workers1": per[0], "workers2": per[1]},
            "steady_speedup": per[0] / per[1], "peak_rss_mib": peak, "dask_workers2": dask,
            "dask_over_pool": dask["wall_s"] / two["wall_s"] if dask else None}


_CONV = """
import sys, time, torch
from torch.nn import functional as F
from solutions.ch06 import conv2d
device = sys.argv[1]
X = torch.randn(32, 16, 64, 64, device=device)
W = torch.randn(32, 16, 3, 3, device=device)
def seconds(fn):
    fn(X, W, None, 1, 1)
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(10):
        fn(X, W, None, 1, 1)
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / 10
print(seconds(conv2d), seconds(F.conv2d))
"""


def _cuda_available() -> bool:
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                         capture_output=True, text=True)
    return out.stdout.strip() == "True"


def _device_rows(chapters: list[str]) -> dict | None:
    """Warm grading on CPU and on CUDA per chapter, and the from-scratch ``conv2d`` of ch06
    (the complete solution's, im2col by ``unfold`` and ``einsum``) against ``F.conv2d`` on
    both devices; ``None`` (and a line saying so) without CUDA."""
    if not _cuda_available():
        print("devices: skipped, no CUDA device here (the CPU rows above are the whole run)")
        return None
    print(f"{'chapter':<8} {'cpu warm s':>10} {'cuda warm s':>11} {'cpu/cuda':>9}")
    rows: dict = {"chapters": {}}
    for chapter in chapters:
        cpu, cuda = time_warm(chapter, "fast", "cpu"), time_warm(chapter, "fast", "cuda")
        rows["chapters"][chapter] = {"cpu_warm_s": cpu, "cuda_warm_s": cuda}
        print(f"{chapter:<8} {cpu:10.2f} {cuda:11.2f} {cpu / cuda:9.2f}", flush=True)
    if "ch06" in chapter_ids():
        for device in ("cpu", "cuda"):
            _, _, out = _run([sys.executable, "-c", _CONV, device], "fast")
            ours, library = (float(x) for x in out.split()[-2:])
            rows[f"conv2d_{device}"] = {"from_scratch_s": ours, "F_conv2d_s": library}
            print(f"conv2d 32x16x64x64, 3x3 -> 32 channels on {device}: from scratch "
                  f"{ours * 1e3:.2f} ms, F.conv2d {library * 1e3:.2f} ms, "
                  f"ratio {ours / library:.1f}x")
    return rows


def _has_dask() -> bool:
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", nargs="*", default=chapter_ids())
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--batch-chapter", default=None)
    parser.add_argument("--no-kernel", action="store_true",
                        help="skip the Jupyter kernel runs (quicker, e.g. while developing)")
    parser.add_argument("--no-devices", action="store_true",
                        help="skip the CPU-versus-CUDA section (it skips itself without CUDA)")
    parser.add_argument("--json", help="also write the measurements here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results: dict = {"machine": f"{os.cpu_count()} cores, {sys.platform}"}
    results["chapters"] = _chapter_rows(args.chapters, not args.no_kernel)
    if not args.no_devices:
        results["devices"] = _device_rows(args.chapters)
    if args.submissions > 2:
        chapter = args.batch_chapter or (args.chapters or chapter_ids())[0]
        results["batch"] = _batch_rows(chapter, args.submissions)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
