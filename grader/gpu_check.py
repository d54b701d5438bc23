"""``make gpu-check``: everything that needs CUDA, in one run, for a machine that has it.

1. Grades every chapter's complete notebook with ``--device cuda``: each must earn full marks,
   and no ``gpu``-marked check may be skipped (on CUDA they run; a skip means the device was
   not seen).
2. The bench's device section: warm grading per chapter on CPU and on CUDA, and ch06's
   from-scratch ``conv2d`` against ``F.conv2d`` on both.

Without CUDA it says so and exits 0 (nothing here can run). Prints one line per chapter; the
exit code is 1 when a chapter lost points or skipped a GPU check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from grader.bench import _cuda_available, _device_rows
from grader.release import COURSE, chapter_ids


def _grade(chapter: str) -> dict:
    from grader.course import grade

    return grade(COURSE / "source" / chapter / f"{chapter}.ipynb", chapter, seed=0,
                 device="cuda")


def main(argv: list[str] | None = None) -> int:
    """Run the CUDA checks; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m grader.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", nargs="*", default=chapter_ids())
    parser.add_argument("--no-bench", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not _cuda_available():
        print("gpu-check: no CUDA device here; nothing to run")
        return 0
    failed, results = False, {"chapters": {}}
    for chapter in args.chapters:
        start = time.perf_counter()
        report = _grade(chapter)
        skipped = [f"{e['name']}: {s['name']} ({s['reason']})" for e in report["exercises"]
                   for s in e.get("skipped", [])]
        ok = report["score"] == report["max_score"] and not skipped and not report["error"]
        failed |= not ok
        results["chapters"][chapter] = {"score": report["score"],
                                        "max_score": report["max_score"], "skipped": skipped,
                                        "error": report["error"], "device": report["device"],
                                        "seconds": time.perf_counter() - start}
        lost = [f"{e['name']} {e['score']}/{e['max_score']}" for e in report["exercises"]
                if e["score"] < e["max_score"]]
        print(f"{chapter}: {report['score']:g}/{report['max_score']:g} on {report['device']}"
              + (f"; lost: {', '.join(lost)}" if lost else "")
              + (f"; skipped: {'; '.join(skipped)}" if skipped else "")
              + (f"; error: {report['error']}" if report["error"] else ""), flush=True)
    if not args.no_bench:
        results["devices"] = _device_rows(args.chapters)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
