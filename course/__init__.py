"""The student toolbox of d2l-course: what the notebooks use beyond the exercises.

Nothing here is solution code: helpers that a chapter asks students to build are written with
library ops and are locked (``course.gating``) while that chapter is graded.
"""

from course.checking import check

__all__ = ["check"]
