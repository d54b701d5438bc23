"""``make demo``: build the release, grade a small class with nbgrader, print the grades.

The class lives in ``demo/`` (ignored by git): a copy of the nbgrader course with four students
— alice submits the complete solutions, bob about half of them, carol the untouched release,
and mei the complete Chinese notebook of every chapter written in Chinese too (``chNN_zh``, her
feedback pages in Chinese). Everything runs offline.
"""

from __future__ import annotations

import csv
import shutil
import sys
import time
from pathlib import Path

import nbformat

from grader.release import (
    COURSE,
    ROOT,
    assignment_name,
    build,
    chapter_ids,
    languages,
    run_nbgrader,
)

DEMO = ROOT / "demo"
STUDENTS = {"alice": 1.0, "bob": 0.5, "carol": 0.0}
CHINESE_STUDENTS = {"mei": 1.0}


def partial_submission(source: Path, release: Path, fraction: float) -> nbformat.NotebookNode:
    """The release notebook with the first ``fraction`` of its exercises answered from ``source``.

    Answers are matched by nbgrader ``grade_id`` so the result looks like a real student's work.
    """
    solved = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
              for c in nbformat.read(source, as_version=4).cells}
    nb = nbformat.read(release, as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in answers[: round(len(answers) * fraction)]:
        cell.source = solved[cell.metadata["nbgrader"]["grade_id"]]
    return nb


def make_class(course: Path, release: Path, chapters: list[str],
               students: dict[str, float], lang: str = "en") -> None:
    """Write ``submitted/<student>/<assignment>/<chapter>.ipynb`` for each student and chapter
    (the assignment ``chNN`` or, in Chinese, ``chNN_zh``)."""
    for chapter in chapters:
        assignment = assignment_name(chapter, lang)
        for student, fraction in students.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nb = partial_submission(course / "source" / assignment / f"{chapter}.ipynb",
                                    release / assignment / f"{chapter}.ipynb", fraction)
            nbformat.write(nb, folder / f"{chapter}.ipynb")
            (folder / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC\n")


def print_table(csv_path: Path, chapters: list[str]) -> None:
    """Print one row per student with each chapter's score and the total."""
    from rich.console import Console
    from rich.table import Table

    rows = list(csv.DictReader(csv_path.open()))
    table = Table(title="Demo class: nbgrader autograde through the sandboxed engine")
    table.add_column("student")
    for chapter in chapters:
        table.add_column(chapter, justify="right")
    table.add_column("total", justify="right")
    for student in sorted({r["student_id"] for r in rows}):
        mine = {r["assignment"]: r for r in rows if r["student_id"] == student}
        cells, total, most = [], 0.0, 0.0
        for chapter in chapters:
            # the language the student submitted in (English when neither was submitted)
            tried = [mine.get(a) for a in (chapter, assignment_name(chapter, "zh"))]
            row = next((r for r in tried if r and r.get("timestamp")), tried[0])
            score, top = (float(row["score"]), float(row["max_score"])) if row else (0.0, 0.0)
            total, most = total + score, most + top
            cells.append(f"{round(score, 2):g}/{top:g}")
        table.add_row(student, *cells, f"{round(total, 2):g}/{most:g}")
    # Wide enough for every chapter's column whatever the terminal says (pipes report 80).
    Console(width=max(100, 16 + 9 * (len(chapters) + 1))).print(table)


def main() -> int:
    """Run the demo end to end; return the process exit code."""
    start = time.monotonic()
    chapters = chapter_ids()
    print(f"building the release for {', '.join(chapters)} …", flush=True)
    build(chapters)
    if DEMO.exists():
        shutil.rmtree(DEMO)
    course = DEMO / "course"
    course.mkdir(parents=True)
    shutil.copyfile(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE / "source", course / "source")
    release = DEMO / "assignments"
    run_nbgrader(course, "generate_assignment", "*", "--force", "--log-level=WARN")
    make_class(course, release, chapters, STUDENTS)
    chinese = [c for c in chapters if "zh" in languages(c)]
    make_class(course, release, chinese, CHINESE_STUDENTS, lang="zh")
    print(f"autograding {', '.join(chapters)} for {', '.join(STUDENTS)} with nbgrader …",
          flush=True)
    run_nbgrader(course, "autograde", "*", "--create", "--log-level=WARN")
    run_nbgrader(course, "generate_feedback", "*", "--log-level=WARN")
    grades = DEMO / "grades.csv"
    run_nbgrader(course, "export", f"--to={grades}", "--log-level=WARN")
    print_table(grades, chapters)
    print(f"grades: {grades}")
    print(f"feedback: {course / 'feedback'}/<student>/<assignment>/<chapter>.html"
          + (f" (mei's in Chinese: {', '.join(assignment_name(c, 'zh') for c in chinese)})"
             if chinese else ""))
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
