"""nbgrader export with one column per exercise: ``nbgrader export`` writes the class's grades
from the gradebook (no regrading, no new seeds), the totals of nbgrader's own CSV export first,
then ``chNN:exercise`` columns with each exercise's score (blank for other assignments' rows).
A chapter's English and Chinese assignments (``ch03``, ``ch03_zh``) share the ``chapter``
column and the exercise columns: a student's work counts the same in either language.

Configured in ``course/nbgrader_config.py`` as ``ExportApp.plugin_class``.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin

TOTALS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
          "raw_score", "late_submission_penalty", "score", "max_score", "chapter")


def _text(value: object) -> str:
    return "" if value is None else str(value)


class ExerciseCsvExport(CsvExportPlugin):
    """nbgrader's CSV export plus one score column per graded exercise."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        rows, columns = [], []
        for assignment in gradebook.assignments:
            if assignments and assignment.name not in assignments:
                continue
            chapter = assignment.name.partition("_")[0]
            cells = [f"{chapter}:{cell.name}" for notebook in assignment.notebooks
                     for cell in notebook.grade_cells]
            columns += [c for c in cells if c not in columns]
            for student in gradebook.students:
                if students and student.id not in students:
                    continue
                row = {"assignment": assignment.name, "duedate": assignment.duedate,
                       "student_id": student.id, "last_name": student.last_name,
                       "first_name": student.first_name, "email": student.email,
                       "max_score": assignment.max_score, "chapter": chapter}
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0,
                               score=0.0)
                    row.update({c: 0.0 for c in cells})
                else:
                    penalty = submission.late_submission_penalty or 0.0
                    row.update(timestamp=submission.timestamp, raw_score=submission.score,
                               late_submission_penalty=penalty,
                               score=max(0.0, submission.score - penalty))
                    for notebook in submission.notebooks:
                        for grade in notebook.grades:
                            row[f"{chapter}:{grade.name}"] = grade.score
                rows.append(row)
        self.log.info("Exporting grades with one column per exercise to %s", dest)
        with open(dest, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*TOTALS, *columns])
            for row in rows:
                writer.writerow([_text(row.get(key)) for key in (*TOTALS, *columns)])
