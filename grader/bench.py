"""``make bench``: the engine's speed and memory, measured side by side in one run.

1. Per chapter: the wall time for the engine to grade the complete submission — through the
   CLI (a fresh process) and warm (in a process that has graded before, like a ``grade-all``
   worker) — next to the time to execute the same notebook top to bottom in a fresh Jupyter
   kernel (what classic nbgrader autograde does before it can read a single grade), and the
   ratios.
2. ``grade-all`` over N submissions of one chapter with 1 and 2 workers, and the speed-up.
3. Peak resident memory of the grading process and of its sandboxes.

Numbers are ratios of measurements taken here, now; nothing is compared with stored timings.
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

from grader.release import COURSE, chapter_ids


def _source(chapter: str) -> Path:
    return COURSE / "source" / chapter / f"{chapter}.ipynb"


def time_engine(chapter: str) -> float:
    """Seconds for ``python -m grader grade`` on the complete notebook, start-up included."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", str(_source(chapter)),
                    "--assignment", chapter, "--seed", "0"], check=True, capture_output=True)
    return time.perf_counter() - start


def time_engine_warm(chapter: str) -> float:
    """Seconds to grade the complete notebook in a process that has graded before (as each
    ``grade-all`` worker does): no interpreter start, no imports."""
    from grader.course import grade

    grade(_source(chapter), chapter, seed=0)
    start = time.perf_counter()
    grade(_source(chapter), chapter, seed=0)
    return time.perf_counter() - start


def time_kernel(chapter: str) -> float:
    """Seconds to execute the complete notebook in a fresh Jupyter kernel with nbclient."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(_source(chapter), as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={
            "metadata": {"path": tmp}}, shutdown_kernel="immediate").execute()
        return time.perf_counter() - start


def time_batch(chapter: str, count: int, workers: int, folder: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB, grader process tree) for ``grade-all`` over ``folder``."""
    out = folder.parent / f"reports-{workers}"
    script = (
        "import resource, sys, time\n"
        "from pathlib import Path\n"
        "from grader.course import COURSE\n"
        "from grader.engine.batch import find_submissions, grade_all\n"
        "from grader.engine.options import Options\n"
        f"subs = find_submissions(Path({str(folder)!r}), {chapter!r})\n"
        "t = time.perf_counter()\n"
        f"grade_all(subs, {chapter!r}, COURSE, workers={workers}, out=Path({str(out)!r}),"
        f" csv_path=Path({str(out)!r}) / 'grades.csv', options=Options(seed=0),"
        " progress=False)\n"
        "print(time.perf_counter() - t)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                            text=True)
    lines = result.stdout.strip().splitlines()
    seconds = float(lines[-2])
    own, children = (int(x) for x in lines[-1].split())
    return seconds, max(own, children)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__)
    parser.add_argument("--chapters", nargs="*", default=chapter_ids())
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--batch-chapter", default=None)
    parser.add_argument("--json", help="also write the measurements here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results: dict = {"machine": f"{os.cpu_count()} cores, {sys.platform}", "chapters": {}}
    print(f"{'chapter':<8} {'cli s':>6} {'warm s':>7} {'kernel s':>9} {'kernel/cli':>11} "
          f"{'kernel/warm':>12}")
    for chapter in args.chapters:
        cli, warm = time_engine(chapter), time_engine_warm(chapter)
        kernel = time_kernel(chapter)
        results["chapters"][chapter] = {"cli_s": cli, "warm_s": warm, "kernel_s": kernel,
                                        "kernel_over_cli": kernel / cli,
                                        "kernel_over_warm": kernel / warm}
        print(f"{chapter:<8} {cli:6.1f} {warm:7.2f} {kernel:9.1f} {kernel / cli:11.2f} "
              f"{kernel / warm:12.2f}", flush=True)
    chapter = args.batch_chapter or args.chapters[0]
    with tempfile.TemporaryDirectory(prefix="d2l-bench-") as tmp:
        folder = Path(tmp) / "submitted"
        for i in range(args.submissions):
            target = folder / f"student{i:02d}" / chapter
            target.mkdir(parents=True)
            shutil.copyfile(_source(chapter), target / f"{chapter}.ipynb")
        one, rss1 = time_batch(chapter, args.submissions, 1, folder)
        two, rss2 = time_batch(chapter, args.submissions, 2, folder)
    results["batch"] = {"chapter": chapter, "submissions": args.submissions,
                        "workers1_s": one, "workers2_s": two, "speedup": one / two,
                        "peak_rss_mib": max(rss1, rss2) / 1024}
    print(f"grade-all {chapter} x{args.submissions}: 1 worker {one:.1f} s, 2 workers {two:.1f} s,"
          f" speed-up {one / two:.2f}x")
    print(f"peak resident memory of one grading process (grader or sandbox): "
          f"{max(rss1, rss2) / 1024:.0f} MiB; this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
