"""Command line: ``python -m grader grade|grade-all|build|check-release``.

``grade`` and ``grade-all`` exit 0 whenever grading ran, whatever the scores; they exit 2 on a
usage error (unknown assignment or exercise, missing path).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.engine.options import Limits, Options, parse_limits
from grader.engine.run import GRADER_MEMORY, baseline

if TYPE_CHECKING:
    from grader.engine.cluster import Cluster


def _options(args: argparse.Namespace) -> Options | None:
    """The one ``Options`` object of a grading command, or ``None`` (printed) on a bad flag."""
    try:
        limits = parse_limits(args.limit)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return Options(seed=args.seed, exercises=tuple(args.exercise) if args.exercise else None,
                   isolate=not args.no_isolation, limits=limits, device=args.device,
                   student=getattr(args, "student", None), lang=args.lang)


def _check_exercises(chapter: str, options: Options) -> bool:
    """Whether every ``--exercise`` is one of ``chapter``'s (importing its checks only then)."""
    from grader.course import exercises_of

    if not options.exercises and not baseline():
        return True
    known = exercises_of(chapter)
    unknown = [e for e in options.exercises or () if e not in known]
    if unknown:
        print(f"error: {chapter} has no exercise {', '.join(unknown)}; "
              f"it has {', '.join(known)}", file=sys.stderr)
    return not unknown


def _grade(args: argparse.Namespace) -> int:
    from grader.course import COURSE
    from grader.engine.run import limit_memory, prepare

    options = _options(args)
    if options is None:
        return 2
    if baseline() and not _check_exercises(args.assignment, options):
        return 2  # the order before the speed-ups: the checks' imports, then the fork server
    prepare(args.assignment, COURSE, options)
    limit_memory(args.grader_memory)
    if not _check_exercises(args.assignment, options):
        return 2
    from grader.engine.report import format_table, gradescope, write_json
    from grader.engine.run import grade

    report = grade(args.submission, args.assignment, COURSE, options)
    print(format_table(report))
    if args.json:
        write_json(report, Path(args.json))
    if args.gradescope:
        path = Path(args.gradescope)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gradescope(report), indent=2, ensure_ascii=False) + "\n")
    return 0


def _grade_all(args: argparse.Namespace) -> int:
    from grader.course import COURSE
    from grader.engine.batch import find_submissions, grade_all

    options = _options(args)
    if options is None or not _check_exercises(args.assignment, options):
        return 2
    found = find_submissions(Path(args.directory), args.release, args.assignment)
    if not found:
        print(f"error: no submissions for {args.release} under {args.directory}",
              file=sys.stderr)
        return 2
    cluster = _cluster(args)
    if cluster is False:
        return 2
    out = Path(args.out or Path(args.directory).parent / "reports" / args.release)
    try:
        reports = grade_all(found, args.assignment, COURSE, workers=args.workers, out=out,
                            options=options,
                            csv_path=Path(args.csv) if args.csv else out / "grades.csv",
                            gradebook=args.gradebook, grader_memory=args.grader_memory,
                            resume=args.resume, cluster=cluster)
    except RuntimeError as exc:
        from grader.engine.cluster import Unreachable  # no Dask import: cluster.py is light

        if not isinstance(exc, Unreachable):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width = max(len(r.get("student") or "") for r in reports)
    for r in reports:
        note = f"  ({r['error']})" if r.get("error") else ""
        print(f"{r.get('student') or '':<{width}}  {r['score']:>6g} / {r['max_score']:g}{note}")
    print(f"reports in {out}")
    return 0


def _cluster(args: argparse.Namespace) -> Cluster | None | bool:
    """The Dask route that ``--scheduler``/``--cluster``/``--resources`` ask for: ``None`` for
    the local pool, ``False`` (printed) on a usage error."""
    dask = args.scheduler or args.cluster
    if not dask:
        if args.resources:
            print("error: --resources needs --scheduler or --cluster local", file=sys.stderr)
            return False
        return None
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        print("error: grading on Dask needs the cluster extra: "
              "pip install 'd2l-course[cluster]'", file=sys.stderr)
        return False
    from grader.engine.cluster import Cluster, parse_resources

    try:
        resources = parse_resources(args.resources)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return Cluster(scheduler=args.scheduler, workers=args.workers, resources=resources)


def _build(args: argparse.Namespace) -> int:
    from grader.release import BuildError, build

    try:
        for path in build(args.chapters or None, force=args.force):
            print(f"wrote {path}")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _gradescope_zip(args: argparse.Namespace) -> int:
    from grader.gradescope import build_zip

    out = Path(args.out or f"{args.assignment}-autograder.zip")
    print(f"wrote {build_zip(args.assignment, out)} (upload it as the Gradescope autograder)")
    return 0


def _setup_course(args: argparse.Namespace) -> int:
    from grader.setup_course import SetupError, setup_course

    try:
        for line in setup_course(Path(args.roster), args.chapters or None):
            print(line)
    except (SetupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("students can now fetch the released chapters (nbgrader fetch_assignment chNN)")
    return 0


def _check_release(args: argparse.Namespace) -> int:
    from grader.release import stale_files
    from grader.release_audit import audit

    problems = stale_files() + audit()
    for line in problems:
        print(line)
    if problems:
        print("the release is out of date or unsafe: chapters are edited in "
              "course/chapters/chNN.md and solutions/chNN.py, then `make release` rebuilds "
              "course/source/ and assignments/", file=sys.stderr)
        return 1
    print("release is current and clean")
    return 0


def _grading_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "zh"],
                   help="language of the report's messages (default: the assignment's: "
                   "chNN_zh is Chinese)")
    p.add_argument("--device", default="cpu",
                   help="where the checks create inputs and expect results (cpu, cuda, cuda:N)")
    p.add_argument("--limit", action="append", metavar="NAME=VALUE",
                   help="a sandbox limit (repeatable): " + ", ".join(
                       f"{f.name}={f.default}" for f in dataclasses.fields(Limits)))
    p.add_argument("--no-isolation", action="store_true",
                   help="skip Landlock and namespaces (debugging only)")
    p.add_argument("--grader-memory", type=_size, default=GRADER_MEMORY, metavar="SIZE",
                   help="data-memory ceiling of each grading process, e.g. 8G (default), "
                   "or 'none'")


def _size(text: str) -> int | None:
    """Bytes from ``512M``, ``8G``, ``1048576``; ``None`` for ``none``."""
    text = text.strip().lower()
    if text == "none":
        return None
    scale = {"k": 2**10, "m": 2**20, "g": 2**30}.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 8G, 512M)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive size")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m grader`` (imports neither torch nor pytest)."""
    from grader.course import assignments, chapters

    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one submission (.ipynb or .py)")
    g.add_argument("submission")
    g.add_argument("--assignment", required=True, choices=assignments(),
                   help="chNN, or chNN_zh for the chapter's Chinese release")
    g.add_argument("--exercise", action="append", help="grade only this exercise (repeatable)")
    g.add_argument("--json", help="write the JSON report here")
    g.add_argument("--gradescope", help="write Gradescope results.json here")
    g.add_argument("--seed", type=int, help="seed of the random inputs (default: new each run)")
    g.add_argument("--student", help="student id recorded in the report")
    _grading_flags(g)
    g.set_defaults(run=_grade)

    a = sub.add_parser("grade-all", help="grade every submission under a folder in parallel")
    a.add_argument("directory", help="nbgrader's submitted/ folder or a folder of notebooks")
    a.add_argument("--assignment", required=True, choices=assignments(),
                   help="chNN, or chNN_zh for the chapter's Chinese release")
    a.add_argument("--workers", type=int, default=2,
                   help="grading processes of the local pool, or of --cluster local")
    where = a.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the workers of this Dask scheduler (tcp://host:8786, or "
                       "its scheduler file); needs the cluster extra")
    where.add_argument("--cluster", choices=["local"],
                       help="grade on a Dask LocalCluster of --workers processes started here")
    a.add_argument("--resources", action="append", metavar="NAME=N",
                   help="Dask resources each grading needs (repeatable; default: GPU=1 when "
                   "the checks need CUDA and a worker has it; 'none': any worker)")
    a.add_argument("--resume", action="store_true",
                   help="grade only the submissions that have no report in --out yet")
    a.add_argument("--out", help="folder for one JSON report per student")
    a.add_argument("--csv", help="class CSV (default: OUT/grades.csv)")
    a.add_argument("--seed", type=int)
    a.add_argument("--exercise", action="append", help="grade only this exercise (repeatable)")
    a.add_argument("--gradebook", help="nbgrader gradebook URL to record the scores in, "
                   "e.g. sqlite:///course/gradebook.db")
    _grading_flags(a)
    a.set_defaults(run=_grade_all)

    b = sub.add_parser("build", help="rebuild source notebooks and the release")
    b.add_argument("chapters", nargs="*")
    b.add_argument("--force", action="store_true",
                   help="replace source notebooks that were edited by hand")
    b.set_defaults(run=_build)

    z = sub.add_parser("gradescope-zip", help="build a chapter's Gradescope autograder zip")
    z.add_argument("assignment", choices=chapters())
    z.add_argument("--out", help="the zip to write (default: chNN-autograder.zip)")
    z.set_defaults(run=_gradescope_zip)
    s = sub.add_parser("setup-course", help="create the exchange, import the roster into the "
                       "gradebook and release chapters")
    s.add_argument("--roster", required=True,
                   help="CSV with the columns id, first_name, last_name, email")
    s.add_argument("--chapters", nargs="*", help="chapters to release (default: all)")
    s.set_defaults(run=_setup_course)
    c = sub.add_parser("check-release", help="fail if the release is stale or leaks solutions")
    c.set_defaults(run=_check_release)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m grader`` and ``d2l-grader``."""
    from grader.course import assignment_of

    args = parser().parse_args(argv)
    if hasattr(args, "lang"):
        # chNN_zh grades chapter chNN, with its messages in Chinese unless --lang says otherwise
        args.release = args.assignment
        args.assignment, lang = assignment_of(args.assignment)
        args.lang = args.lang or lang
    if getattr(args, "submission", None) and not Path(args.submission).exists():
        print(f"error: {args.submission} does not exist", file=sys.stderr)
        return 2
    return args.run(args)
