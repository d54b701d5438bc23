"""ch13 part B's exercises, merged into the chapter's ``EXERCISES`` in the notebook's order:
``EARLY`` (13.1-13.2) before part A's, ``EXERCISES`` (13.9-13.12) after them."""

from grader.engine.plugin import Exercise

EARLY: dict = {
    "make_train_augs": Exercise(points=2),
    "make_test_augs": Exercise(points=1),
    "finetune_net": Exercise(points=2),
    "finetune_trainer": Exercise(points=2),
}

EXERCISES: dict = {
    "voc_colormap2label": Exercise(points=1),
    "voc_label_indices": Exercise(points=2),
    "voc_rand_crop": Exercise(points=2),
    "trans_conv": Exercise(points=2),
    "kernel2matrix": Exercise(points=1),
    "bilinear_kernel": Exercise(points=2),
    "fcn_net": Exercise(points=3),
    "gram": Exercise(points=1),
    "content_loss": Exercise(points=1),
    "tv_loss": Exercise(points=1),
    "style_loss": Exercise(points=1),
    "extract_features": Exercise(points=2),
    "compute_loss": Exercise(points=2),
}
