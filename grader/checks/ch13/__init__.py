"""Hidden checks for ch13, Computer vision: a package whose ``test_*.py`` modules pytest
collects.

- ``test_detection.py``: bounding boxes, anchor boxes, IoU, anchor labelling, NMS and
  prediction, the single-shot multibox detector's parts and losses (part A, 13.3-13.8);
- ``test_augment.py``: the training and test augmentation pipelines (13.1-13.2);
- ``test_finetune.py``: the new output layer and the optimizer of fine-tuning (13.2);
- ``test_segmentation.py``: the VOC formats, random cropping and the FCN (13.9, 13.11);
- ``test_part_b.py``: transposed convolution, bilinear kernels, the Gram matrix and the content
  and total-variation losses (13.10-13.12);
- ``test_style.py``: the style loss, feature extraction and the weighted loss (13.12).

``part_b.py`` holds part B's ``EXERCISES``, in the notebook's order.
"""

from grader.checks.ch13.part_b import EARLY as PART_B_EARLY
from grader.checks.ch13.part_b import EXERCISES as PART_B
from grader.engine.plugin import Exercise

IOU_OPS = ("torchvision.ops.box_iou", "torchvision.ops.boxes.box_iou")
NMS_OPS = ("torchvision.ops.nms", "torchvision.ops.boxes.nms", "torchvision.ops.batched_nms")
ROI_OPS = ("torchvision.ops.roi_pool", "torchvision.ops.RoIPool",
           "torchvision.ops.roi_pool.roi_pool")
SCAN = ("torchvision", "ops")

EXERCISES = {
    **PART_B_EARLY,
    "box_corner_to_center": Exercise(points=1),
    "box_center_to_corner": Exercise(points=1),
    "multibox_prior": Exercise(points=2),
    "box_iou": Exercise(points=2, forbid=IOU_OPS, scan=SCAN),
    "assign_anchor_to_bbox": Exercise(points=3),
    "offset_boxes": Exercise(points=1),
    "multibox_target": Exercise(points=3),
    "offset_inverse": Exercise(points=1),
    "nms": Exercise(points=3, forbid=NMS_OPS, scan=SCAN),
    "multibox_detection": Exercise(points=3, forbid=NMS_OPS, scan=SCAN),
    "cls_predictor": Exercise(points=1),
    "bbox_predictor": Exercise(points=1),
    "flatten_pred": Exercise(points=1),
    "concat_preds": Exercise(points=1),
    "down_sample_blk": Exercise(points=2),
    "TinySSD": Exercise(points=3),
    "calc_loss": Exercise(points=2),
    "smooth_l1": Exercise(points=1),
    "focal_loss": Exercise(points=1),
    "roi_pool": Exercise(points=3, forbid=ROI_OPS, scan=SCAN),
    **PART_B,
}
