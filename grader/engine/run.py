"""Grade one submission: one chapter's checks, one report.

Every route (the CLI, ``grade-all``, nbgrader autograde) calls ``grade``; it runs the chapter's
checks with pytest in this process, with the plugin in ``grader.engine.plugin``, which sends the
student's code to the sandbox. A report is always returned, whatever the submission did.
"""

from __future__ import annotations

import contextlib
import io
import traceback
from pathlib import Path

from grader.engine.options import Course, Options
from grader.engine.report import failed_report


def grade(submission: str | Path, chapter: str, course: Course,
          options: Options | None = None) -> dict:
    """Grade ``submission`` (.ipynb or .py) against ``chapter``'s checks; return the report.

    Raises ``ValueError`` for an unknown chapter or exercise (a usage error, not the student's).
    """
    import pytest

    from grader.engine.plugin import Setup

    options = options or Options()
    if chapter not in course.chapters():
        raise ValueError(f"unknown assignment {chapter!r}; known: {', '.join(course.chapters())}")
    known = course.exercises(chapter)
    unknown = [e for e in options.exercises or () if e not in known]
    if unknown:
        raise ValueError(f"{chapter} has no exercise {', '.join(unknown)}; "
                         f"it has {', '.join(known)}")
    path = course.check_path(chapter)
    if options.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"--device {options.device}: no CUDA device is available here")
    setup = Setup(course, options, str(submission), chapter=chapter)
    args = [path, "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
            f"--rootdir={Path(path).parent}", "-o", "addopts=", "-W", "ignore"]
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            code = pytest.main(args, plugins=[setup])
    except Exception:  # noqa: BLE001 - a report must come back whatever happened
        code = -1
        log.write(traceback.format_exc())
    from grader.engine.plugin import last_report

    report = last_report(setup)
    if report is None:
        report = failed_report(chapter, known, f"grading did not run (pytest exit {code}); "
                               f"log: {log.getvalue()[-800:]}", options=options,
                               submission=str(submission))
    if options.student is not None:
        report["student"] = options.student
    return report
