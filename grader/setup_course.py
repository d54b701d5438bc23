"""Set up a course for a term in one step: the nbgrader exchange, the gradebook with the class
roster, and the chosen chapters released to students.

``python -m grader setup-course --roster roster.csv [--chapters ch02 ch03 ...]`` (or
``make course ROSTER=roster.csv CHAPTERS="ch02 ch03"``) runs, in the course folder:

1. creates the exchange folder named by ``Exchange.root`` in ``nbgrader_config.py``
   (world-writable with the sticky bit, as nbgrader's exchange needs on a shared machine);
2. ``nbgrader db student import ROSTER``: the roster is a CSV with the columns ``id``,
   ``first_name``, ``last_name`` and ``email`` (nbgrader's format), so formgrader shows names;
3. for each chapter (and its Chinese assignment ``chNN_zh`` where the chapter has one):
   ``nbgrader db assignment add``, ``generate_assignment`` and ``release_assignment``, after
   which students ``fetch_assignment`` it.

Running it again is safe: students and assignments are updated, releases replaced.
"""

from __future__ import annotations

import csv
import os
import runpy
from pathlib import Path

from grader.release import COURSE, BuildError, assignments, chapter_ids, run_nbgrader

ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")


class SetupError(Exception):
    """The roster or the chapters cannot be used; the message says why."""


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows; raises ``SetupError`` when a column is missing or an id is blank or
    repeated."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SetupError(f"{path}: the roster needs the columns {', '.join(ROSTER_COLUMNS)} "
                             f"(missing {', '.join(missing)})")
        rows = list(reader)
    ids = [row["id"].strip() for row in rows]
    if any(not i for i in ids):
        raise SetupError(f"{path}: every student needs an id")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise SetupError(f"{path}: ids appear more than once: {', '.join(repeated)}")
    return rows


def exchange_root(course_root: Path) -> Path:
    """The exchange folder that ``course_root/nbgrader_config.py`` names (``Exchange.root``)."""
    from traitlets.config import Config

    config = Config()
    runpy.run_path(str(course_root / "nbgrader_config.py"),
                   init_globals={"get_config": lambda: config})
    root = config.Exchange.get("root")
    if not isinstance(root, str):
        raise SetupError("nbgrader_config.py sets no Exchange.root")
    return Path(root)


def setup_course(roster: Path, chapters: list[str] | None = None,
                 course_root: Path = COURSE) -> list[str]:
    """Create the exchange, import ``roster`` into the gradebook and release ``chapters``
    (default: every chapter). Returns what was done, one line per step."""
    known = chapter_ids()
    chapters = chapters or known
    unknown = [c for c in chapters if c not in known]
    if unknown:
        raise SetupError(f"unknown chapters {', '.join(unknown)} (known: {', '.join(known)})")
    students = read_roster(roster)
    done = []
    exchange = exchange_root(course_root)
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    done.append(f"exchange ready at {exchange}")
    try:
        run_nbgrader(course_root, "db", "student", "import", str(Path(roster).resolve()))
        done.append(f"{len(students)} students in the gradebook")
        for assignment, _, _ in assignments(chapters):
            run_nbgrader(course_root, "db", "assignment", "add", assignment)
            run_nbgrader(course_root, "generate_assignment", assignment, "--force")
            run_nbgrader(course_root, "release_assignment", assignment, "--force")
            done.append(f"{assignment} released")
    except BuildError as exc:
        raise SetupError(str(exc)) from exc
    return done
