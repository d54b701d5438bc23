"""Command line: ``python -m grader grade|grade-all|build|check-release``.

``grade`` and ``grade-all`` exit 0 whenever grading ran, whatever the scores; they exit 2 on a
usage error (unknown assignment or exercise, missing path).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _grade(args: argparse.Namespace) -> int:
    from grader.sandbox import fork_server

    fork_server()  # starts importing torch in the sandbox's interpreter while we import ours
    from grader.engine import exercises_of, grade
    from grader.report import format_table, gradescope, write_json

    known = exercises_of(args.assignment)
    unknown = [e for e in args.exercise or [] if e not in known]
    if unknown:
        print(f"error: {args.assignment} has no exercise {', '.join(unknown)}; "
              f"it has {', '.join(known)}", file=sys.stderr)
        return 2
    report = grade(args.submission, args.assignment, seed=args.seed, exercises=args.exercise,
                   student=args.student)
    print(format_table(report))
    if args.json:
        write_json(report, Path(args.json))
    if args.gradescope:
        path = Path(args.gradescope)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gradescope(report), indent=2, ensure_ascii=False) + "\n")
    return 0


def _grade_all(args: argparse.Namespace) -> int:
    from grader.batch import find_submissions, grade_all

    found = find_submissions(Path(args.directory), args.assignment)
    if not found:
        print(f"error: no submissions for {args.assignment} under {args.directory}",
              file=sys.stderr)
        return 2
    out = Path(args.out or Path(args.directory).parent / "reports" / args.assignment)
    reports = grade_all(found, args.assignment, workers=args.workers, out=out, seed=args.seed,
                        csv_path=Path(args.csv) if args.csv else out / "grades.csv",
                        gradebook=args.gradebook)
    width = max(len(r.get("student", "")) for r in reports)
    for r in reports:
        note = f"  ({r['error']})" if r.get("error") else ""
        print(f"{r.get('student', ''):<{width}}  {r['score']:>6g} / {r['max_score']:g}{note}")
    print(f"reports in {out}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from grader.release import BuildError, build

    try:
        for path in build(args.chapters or None):
            print(f"wrote {path}")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_release(args: argparse.Namespace) -> int:
    from grader.release import stale_files
    from grader.release_audit import audit

    problems = stale_files() + audit()
    for line in problems:
        print(line)
    if problems:
        print("the release is out of date or unsafe: run `make release`", file=sys.stderr)
        return 1
    print("release is current and clean")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m grader``."""
    from grader.engine import chapters

    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one submission (.ipynb or .py)")
    g.add_argument("submission")
    g.add_argument("--assignment", required=True, choices=chapters())
    g.add_argument("--exercise", action="append", help="grade only this exercise (repeatable)")
    g.add_argument("--json", help="write the JSON report here")
    g.add_argument("--gradescope", help="write Gradescope results.json here")
    g.add_argument("--seed", type=int, help="seed of the random inputs (default: new each run)")
    g.add_argument("--student", help="student id recorded in the report")
    g.set_defaults(run=_grade)

    a = sub.add_parser("grade-all", help="grade every submission under a folder in parallel")
    a.add_argument("directory", help="nbgrader's submitted/ folder or a folder of notebooks")
    a.add_argument("--assignment", required=True, choices=chapters())
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--out", help="folder for one JSON report per student")
    a.add_argument("--csv", help="class CSV (default: OUT/grades.csv)")
    a.add_argument("--seed", type=int)
    a.add_argument("--gradebook", help="nbgrader gradebook URL to record the scores in, "
                   "e.g. sqlite:///course/gradebook.db")
    a.set_defaults(run=_grade_all)

    b = sub.add_parser("build", help="rebuild source notebooks and the release")
    b.add_argument("chapters", nargs="*")
    b.set_defaults(run=_build)

    c = sub.add_parser("check-release", help="fail if the release is stale or leaks solutions")
    c.set_defaults(run=_check_release)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m grader`` and ``d2l-grader``."""
    args = parser().parse_args(argv)
    if getattr(args, "submission", None) and not Path(args.submission).exists():
        print(f"error: {args.submission} does not exist", file=sys.stderr)
        return 2
    return args.run(args)
