"""The markers that notebooks carry, in one place: the toolbox, the release build and the grader
all read them from here.

- ``DEMO_MARKER``: first line of a demonstration cell (survives export to ``.py``); such cells,
  and cells tagged ``DEMO_TAG``, are never run while grading or by ``course.selfcheck``.
- ``GRADE_MARKER``: first line of an autograded (grade) cell, whose outputs the grader writes.
"""

DEMO_MARKER = "# Demonstration"
DEMO_TAG = "demo"
GRADE_MARKER = "# Autograded"
