"""ch13 part B's exercises (13.10-13.12), merged into the chapter's ``EXERCISES``."""

from grader.engine.plugin import Exercise

EXERCISES: dict = {
    "trans_conv": Exercise(points=2),
    "kernel2matrix": Exercise(points=1),
    "bilinear_kernel": Exercise(points=2),
    "gram": Exercise(points=1),
    "content_loss": Exercise(points=1),
    "tv_loss": Exercise(points=1),
}
