"""``nbgrader generate_assignment`` for several assignments in one process.

``python -m grader.generate COURSE_ROOT RELEASE DB_URL ASSIGNMENT...`` reads
``COURSE_ROOT/nbgrader_config.py`` as nbgrader's command line does, points the course directory,
release folder and gradebook at the arguments, and generates each assignment with ``--force``
through nbgrader's own API (the converter its command runs). One interpreter importing nbgrader
once instead of one per assignment: the build of all chapters in both languages takes a fraction
of the time. Exit status 1 with nbgrader's log when an assignment fails.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Generate ``argv[3:]`` under the course root ``argv[0]`` into ``argv[1]`` with the
    gradebook ``argv[2]``; returns the exit status."""
    course_root, release, db_url, *assignments = argv
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=course_root).load_config()
    config.CourseDirectory.root = course_root
    config.CourseDirectory.release_directory = release
    config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    api.log.setLevel("WARNING")
    for assignment in assignments:
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            print(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}\n"
                  f"{result.get('error', '')}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
