"""Loads the grading plugin for ``pytest grader/checks/chNN.py --submission PATH``."""

from grader.course import COURSE
from grader.engine.plugin import (  # noqa: F401 - pytest finds hooks and fixtures by name
    device,
    gen,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
    seed,
    student,
    use_course,
)

use_course(COURSE)
