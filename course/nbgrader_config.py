"""nbgrader configuration of the d2l-course course directory (run nbgrader from this folder).

Autograde never starts a kernel: the first autograde step is the course engine
(``grader.autograde.GradeWithEngine``), which runs the hidden checks against the sandboxed
submission and writes each grade cell's score and message as that cell's output. The first
sanitizing step (``grader.autograde.RepairMetadata``) keeps a submission with broken nbgrader
metadata (e.g. a duplicated grade cell) from aborting the run for the students after it.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "d2l-course"
c.CourseDirectory.release_directory = os.path.join(os.pardir, "assignments")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
c.Exchange.root = os.path.join(here, "exchange")

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.shutdown_kernel = "immediate"
c.Execute.timeout = 600

# The student's own outputs (prints, plots) are kept for the feedback page: no kernel runs during
# autograde, so nothing stale can mix with them, and LimitOutput bounds their size.
c.Autograde.sanitize_preprocessors = [
    "grader.autograde.RepairMetadata",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "grader.autograde.GradeWithEngine",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# `nbgrader export` writes nbgrader's totals plus one score column per exercise (chNN:name).
c.ExportApp.plugin_class = "grader.export.ExerciseCsvExport"

# Kernels that nbgrader starts (Validate) log only errors: no warning about their local TCP
# transport in every run.
c.Execute.extra_arguments = ["--log-level=ERROR"]

# Feedback pages: exercises named with their scores, messages instead of grade-cell code, math as
# MathML (no CDN).
from grader.feedback import TEMPLATES  # noqa: E402

c.HTMLExporter.template_name = "d2l_feedback"
c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grader.feedback.MathToMathML",
    "grader.feedback.FeedbackWords",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
