"""Hidden graders for d2l-course: sandbox, checks, reports and the command line."""

__version__ = "0.1.0"
