"""Reference solutions for ch13, Computer vision (计算机视觉).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import torch
import torchvision
from torch import nn
from torchvision.transforms import v2

from course import VOC_COLORMAP

# --- Part B: image augmentation (13.1) ---

def make_train_augs(size):
    """The book's training augmentation (图像增广, 13.1-13.2) with ``torchvision.transforms.v2``.

    Return ``v2.Compose`` of ``v2.RandomResizedCrop(size)`` (a random part of the image, of
    between 8% and 100% of its area and aspect ratio between 3/4 and 4/3, resized to
    ``size × size``), ``v2.RandomHorizontalFlip()`` (probability 0.5),
    ``v2.ToDtype(torch.float32, scale=True)`` (uint8 0-255 to float 0-1) and
    ``v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])`` (ImageNet's channel means and
    standard deviations). Applied to a uint8 image tensor ``(3, H, W)`` and its label,
    ``augs(image, label)`` returns ``(float32 image (3, size, size), label)``: v2 transforms
    leave the label as it is.
    """
    ### BEGIN SOLUTION
    normalize = v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    return v2.Compose([v2.RandomResizedCrop(size), v2.RandomHorizontalFlip(),
                       v2.ToDtype(torch.float32, scale=True), normalize])
    ### END SOLUTION


def make_test_augs(resize, size):
    """The book's test-time pipeline (13.2) with ``torchvision.transforms.v2``: no randomness.

    Return ``v2.Compose`` of ``v2.Resize([resize, resize])`` (both sides to ``resize``),
    ``v2.CenterCrop(size)``, ``v2.ToDtype(torch.float32, scale=True)`` and the same
    ``v2.Normalize`` as ``make_train_augs`` (the book: ``resize=256``, ``size=224``).
    ``augs(image, label)`` returns ``(float32 image (3, size, size), label)``.
    """
    ### BEGIN SOLUTION
    normalize = v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    return v2.Compose([v2.Resize([resize, resize]), v2.CenterCrop(size),
                       v2.ToDtype(torch.float32, scale=True), normalize])
    ### END SOLUTION


# --- Part B: fine-tuning (13.2) ---


def finetune_net(pretrained_net, num_classes):
    """A pretrained network with a new output layer (微调, 13.2).

    ``pretrained_net`` is a ``torchvision.models.resnet18`` (pretrained, or with
    ``weights=None``). Replace its output layer ``fc`` by
    ``nn.Linear(pretrained_net.fc.in_features, num_classes)`` whose weight is initialised with
    ``nn.init.xavier_uniform_`` (the bias keeps ``nn.Linear``'s initialisation), keep every
    other layer and its weights, and return the network (changing it in place, as the book
    does, is fine).
    """
    ### BEGIN SOLUTION
    finetune_net = pretrained_net
    finetune_net.fc = nn.Linear(finetune_net.fc.in_features, num_classes)
    nn.init.xavier_uniform_(finetune_net.fc.weight)
    return finetune_net
    ### END SOLUTION


def finetune_trainer(net, learning_rate, param_group=True):
    """The book's optimizer for fine-tuning (13.2): ``torch.optim.SGD`` with
    ``weight_decay=0.001``.

    With ``param_group`` the output layer learns ten times faster: one parameter group of every
    parameter of ``net`` except ``fc.weight`` and ``fc.bias`` at ``lr=learning_rate``, and one of
    ``net.fc.parameters()`` at ``lr=learning_rate * 10``. Without it, all of ``net.parameters()``
    at ``learning_rate``. Every parameter belongs to exactly one group.
    """
    ### BEGIN SOLUTION
    if param_group:
        params_1x = [param for name, param in net.named_parameters()
                     if name not in ["fc.weight", "fc.bias"]]
        trainer = torch.optim.SGD([{'params': params_1x},
                                   {'params': net.fc.parameters(),
                                    'lr': learning_rate * 10}],
                                  lr=learning_rate, weight_decay=0.001)
    else:
        trainer = torch.optim.SGD(net.parameters(), lr=learning_rate,
                                  weight_decay=0.001)
    return trainer
    ### END SOLUTION


# --- Part A: object detection ---


def box_corner_to_center(boxes):
    """Convert boxes from corners to centres (从两角表示法转换为中心宽度表示法).

    ``boxes`` has shape ``(n, 4)``, each row ``(x1, y1, x2, y2)`` (upper-left and lower-right
    corners); return the ``(n, 4)`` rows ``(cx, cy, w, h)``: the centre, the width and the height.
    Differentiable.
    """
    ### BEGIN SOLUTION
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    cx = (x1 + x2) / 2
    cy = (y1 + y2) / 2
    w = x2 - x1
    h = y2 - y1
    boxes = torch.stack((cx, cy, w, h), axis=-1)
    return boxes
    ### END SOLUTION


def box_center_to_corner(boxes):
    """Convert boxes from centres to corners (从中心宽度表示法转换为两角表示法).

    The inverse of ``box_corner_to_center``: rows ``(cx, cy, w, h)`` of shape ``(n, 4)`` become
    ``(x1, y1, x2, y2)`` with ``x1 = cx - w / 2``, ``y2 = cy + h / 2`` and so on. Differentiable.
    """
    ### BEGIN SOLUTION
    cx, cy, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    x1 = cx - 0.5 * w
    y1 = cy - 0.5 * h
    x2 = cx + 0.5 * w
    y2 = cy + 0.5 * h
    boxes = torch.stack((x1, y1, x2, y2), axis=-1)
    return boxes
    ### END SOLUTION


def multibox_prior(data, sizes, ratios):
    """Anchor boxes centred on every pixel (生成以每个像素为中心具有不同形状的锚框).

    ``data`` has shape ``(batch, channels, h, w)``; only its last two sizes and its device are
    used. ``sizes`` (scales ``s_1..s_n`` in (0, 1]) and ``ratios`` (aspect ratios ``r_1..r_m``) are
    lists of numbers. Each pixel ``(i, j)`` gets ``n + m - 1`` anchors centred on
    ``((j + 0.5) / w, (i + 0.5) / h)``, in this order: ``(s_1, r_1), ..., (s_n, r_1)``, then
    ``(s_1, r_2), ..., (s_1, r_m)``. An anchor of scale ``s`` and ratio ``r`` has width
    ``s * sqrt(r) * h / w`` and height ``s / sqrt(r)`` (both relative to the image). Return the
    float32 corners ``(x1, y1, x2, y2)`` of shape ``(1, h * w * (n + m - 1), 4)``, pixels in
    row-major order and each pixel's anchors together.
    """
    ### BEGIN SOLUTION
    in_height, in_width = data.shape[-2:]
    device, num_sizes, num_ratios = data.device, len(sizes), len(ratios)
    boxes_per_pixel = (num_sizes + num_ratios - 1)
    size_tensor = torch.tensor(sizes, device=device)
    ratio_tensor = torch.tensor(ratios, device=device)
    offset_h, offset_w = 0.5, 0.5
    steps_h = 1.0 / in_height
    steps_w = 1.0 / in_width
    center_h = (torch.arange(in_height, device=device) + offset_h) * steps_h
    center_w = (torch.arange(in_width, device=device) + offset_w) * steps_w
    shift_y, shift_x = torch.meshgrid(center_h, center_w, indexing='ij')
    shift_y, shift_x = shift_y.reshape(-1), shift_x.reshape(-1)
    w = torch.cat((size_tensor * torch.sqrt(ratio_tensor[0]),
                   sizes[0] * torch.sqrt(ratio_tensor[1:]))) * in_height / in_width
    h = torch.cat((size_tensor / torch.sqrt(ratio_tensor[0]),
                   sizes[0] / torch.sqrt(ratio_tensor[1:])))
    anchor_manipulations = torch.stack((-w, -h, w, h)).T.repeat(in_height * in_width, 1) / 2
    out_grid = torch.stack([shift_x, shift_y, shift_x, shift_y],
                           dim=1).repeat_interleave(boxes_per_pixel, dim=0)
    output = out_grid + anchor_manipulations
    return output.unsqueeze(0)
    ### END SOLUTION


def box_iou(boxes1, boxes2):
    """Pairwise intersection over union (交并比), vectorized.

    ``boxes1`` ``(n, 4)`` and ``boxes2`` ``(m, 4)`` hold corners ``(x1, y1, x2, y2)`` with
    ``x1 < x2`` and ``y1 < y2``; return the ``(n, m)`` matrix of IoU, ``area(A ∩ B) /
    area(A ∪ B)`` (0 for disjoint boxes), as ``torchvision.ops.box_iou`` computes it (which you
    may not use). No Python loop over the boxes.
    """
    ### BEGIN SOLUTION
    box_area = lambda boxes: ((boxes[:, 2] - boxes[:, 0]) *  # noqa: E731
                              (boxes[:, 3] - boxes[:, 1]))
    areas1 = box_area(boxes1)
    areas2 = box_area(boxes2)
    inter_upperlefts = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    inter_lowerrights = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    inters = (inter_lowerrights - inter_upperlefts).clamp(min=0)
    inter_areas = inters[:, :, 0] * inters[:, :, 1]
    union_areas = areas1[:, None] + areas2 - inter_areas
    return inter_areas / union_areas
    ### END SOLUTION


def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    """Assign ground-truth boxes to anchors (将真实边界框分配给锚框).

    ``ground_truth`` ``(n_b, 4)`` and ``anchors`` ``(n_a, 4)`` hold corners. Return a long
    tensor ``anchors_bbox_map`` of shape ``(n_a,)`` on ``device``: the index of the box assigned
    to each anchor, or -1. With ``X`` the IoU matrix (anchors × boxes): first every anchor whose
    best IoU is at least ``iou_threshold`` gets its best box; then, ``n_b`` times, the largest
    entry left in ``X`` (anchor ``i``, box ``j``) assigns box ``j`` to anchor ``i`` (overriding
    the first step) and row ``i`` and column ``j`` are discarded. Use ``box_iou``.
    """
    ### BEGIN SOLUTION
    num_anchors, num_gt_boxes = anchors.shape[0], ground_truth.shape[0]
    jaccard = box_iou(anchors, ground_truth)
    anchors_bbox_map = torch.full((num_anchors,), -1, dtype=torch.long, device=device)
    max_ious, indices = torch.max(jaccard, dim=1)
    anc_i = torch.nonzero(max_ious >= iou_threshold).reshape(-1)
    box_j = indices[max_ious >= iou_threshold]
    anchors_bbox_map[anc_i] = box_j
    col_discard = torch.full((num_anchors,), -1)
    row_discard = torch.full((num_gt_boxes,), -1)
    for _ in range(num_gt_boxes):
        max_idx = torch.argmax(jaccard)
        box_idx = (max_idx % num_gt_boxes).long()
        anc_idx = (max_idx / num_gt_boxes).long()
        anchors_bbox_map[anc_idx] = box_idx
        jaccard[:, box_idx] = col_discard
        jaccard[anc_idx, :] = row_discard
    return anchors_bbox_map
    ### END SOLUTION


def offset_boxes(anchors, assigned_bb, eps=1e-6):
    """Offsets of the assigned boxes relative to their anchors (对锚框偏移量的转换).

    Both arguments ``(n, 4)`` corners. With centres/sizes ``(x_a, y_a, w_a, h_a)`` of the anchors
    and ``(x_b, y_b, w_b, h_b)`` of the boxes, return ``(n, 4)`` rows
    ``(10 (x_b - x_a) / w_a, 10 (y_b - y_a) / h_a, 5 log(eps + w_b / w_a),
    5 log(eps + h_b / h_a))``. Differentiable.
    """
    ### BEGIN SOLUTION
    c_anc = box_corner_to_center(anchors)
    c_assigned_bb = box_corner_to_center(assigned_bb)
    offset_xy = 10 * (c_assigned_bb[:, :2] - c_anc[:, :2]) / c_anc[:, 2:]
    offset_wh = 5 * torch.log(eps + c_assigned_bb[:, 2:] / c_anc[:, 2:])
    offset = torch.cat([offset_xy, offset_wh], axis=1)
    return offset
    ### END SOLUTION


def multibox_target(anchors, labels):
    """Label anchors with classes and offsets (使用真实边界框标记锚框).

    ``anchors`` ``(1, n_a, 4)``; ``labels`` ``(batch, n_b, 5)``, rows ``(class, x1, y1, x2, y2)``
    with classes ``0, 1, ...``. For each example, assign boxes with
    ``assign_anchor_to_bbox(boxes, anchors, device)`` (threshold 0.5). Return
    ``(bbox_offset, bbox_mask, class_labels)``: ``class_labels`` ``(batch, n_a)`` long, the
    assigned box's class + 1, or 0 (background); ``bbox_mask`` ``(batch, 4 n_a)`` float32, 1 on
    the four entries of each assigned anchor, else 0; ``bbox_offset`` ``(batch, 4 n_a)``,
    ``offset_boxes(anchors, assigned boxes)`` masked by ``bbox_mask`` (0 for background).
    """
    ### BEGIN SOLUTION
    batch_size, anchors = labels.shape[0], anchors.squeeze(0)
    batch_offset, batch_mask, batch_class_labels = [], [], []
    device, num_anchors = anchors.device, anchors.shape[0]
    for i in range(batch_size):
        label = labels[i, :, :]
        anchors_bbox_map = assign_anchor_to_bbox(label[:, 1:], anchors, device)
        bbox_mask = ((anchors_bbox_map >= 0).float().unsqueeze(-1)).repeat(1, 4)
        class_labels = torch.zeros(num_anchors, dtype=torch.long, device=device)
        assigned_bb = torch.zeros((num_anchors, 4), dtype=torch.float32, device=device)
        indices_true = torch.nonzero(anchors_bbox_map >= 0)
        bb_idx = anchors_bbox_map[indices_true]
        class_labels[indices_true] = label[bb_idx, 0].long() + 1
        assigned_bb[indices_true] = label[bb_idx, 1:]
        offset = offset_boxes(anchors, assigned_bb) * bbox_mask
        batch_offset.append(offset.reshape(-1))
        batch_mask.append(bbox_mask.reshape(-1))
        batch_class_labels.append(class_labels)
    bbox_offset = torch.stack(batch_offset)
    bbox_mask = torch.stack(batch_mask)
    class_labels = torch.stack(batch_class_labels)
    return (bbox_offset, bbox_mask, class_labels)
    ### END SOLUTION


def offset_inverse(anchors, offset_preds):
    """Boxes from anchors and predicted offsets (根据带有预测偏移量的锚框来预测边界框).

    The inverse of ``offset_boxes`` (without ``eps``): ``anchors`` and ``offset_preds`` have shape
    ``(n, 4)``; return the ``(n, 4)`` corners of the predicted boxes, centre
    ``x_a + o_x w_a / 10``, width ``w_a exp(o_w / 5)`` and likewise for y and h. Differentiable.
    """
    ### BEGIN SOLUTION
    anc = box_corner_to_center(anchors)
    pred_bbox_xy = (offset_preds[:, :2] * anc[:, 2:] / 10) + anc[:, :2]
    pred_bbox_wh = torch.exp(offset_preds[:, 2:] / 5) * anc[:, 2:]
    pred_bbox = torch.cat((pred_bbox_xy, pred_bbox_wh), axis=1)
    predicted_bbox = box_center_to_corner(pred_bbox)
    return predicted_bbox
    ### END SOLUTION


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression (非极大值抑制).

    ``boxes`` ``(n, 4)`` corners, ``scores`` ``(n,)``. Repeatedly keep the highest-scoring box
    left and discard the remaining boxes whose IoU with it exceeds ``iou_threshold`` (IoU equal
    to the threshold is kept). Return the long tensor of kept indices in decreasing score order,
    as ``torchvision.ops.nms`` does (which you may not use). Tie rule: among equal scores the
    lower index comes first (a *stable* descending sort). This is a deliberate difference from
    the book, whose ``torch.argsort(scores, descending=True)`` leaves the order of ties
    unspecified.
    """
    ### BEGIN SOLUTION
    B = torch.sort(scores, dim=-1, descending=True, stable=True)[1]
    keep = []
    while B.numel() > 0:
        i = B[0]
        keep.append(i)
        if B.numel() == 1:
            break
        iou = box_iou(boxes[i, :].reshape(-1, 4), boxes[B[1:], :].reshape(-1, 4)).reshape(-1)
        inds = torch.nonzero(iou <= iou_threshold).reshape(-1)
        B = B[inds + 1]
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)
    ### END SOLUTION


def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    """Predict boxes with non-maximum suppression (使用非极大值抑制预测边界框).

    ``cls_probs`` ``(batch, 1 + q, n_a)`` (row 0: background), ``offset_preds``
    ``(batch, 4 n_a)``, ``anchors`` ``(1, n_a, 4)``. For each example: each anchor's class is its
    most probable non-background class (confidence = that probability, class id 0-based), its box
    ``offset_inverse(anchors, offsets)``; ``nms`` over all boxes (class-agnostic) with
    ``nms_threshold``. Return ``(batch, n_a, 6)`` rows ``(class_id, confidence, x1, y1, x2, y2)``:
    first the kept anchors in ``nms`` order, then the others in increasing index with class id
    -1; any row whose confidence is below ``pos_threshold`` gets class id -1 and confidence
    ``1 - confidence``.
    """
    ### BEGIN SOLUTION
    device, batch_size = cls_probs.device, cls_probs.shape[0]
    anchors = anchors.squeeze(0)
    num_anchors = cls_probs.shape[2]
    out = []
    for i in range(batch_size):
        cls_prob, offset_pred = cls_probs[i], offset_preds[i].reshape(-1, 4)
        conf, class_id = torch.max(cls_prob[1:], 0)
        predicted_bb = offset_inverse(anchors, offset_pred)
        keep = nms(predicted_bb, conf, nms_threshold)
        all_idx = torch.arange(num_anchors, dtype=torch.long, device=device)
        combined = torch.cat((keep, all_idx))
        uniques, counts = combined.unique(return_counts=True)
        non_keep = uniques[counts == 1]
        all_id_sorted = torch.cat((keep, non_keep))
        class_id[non_keep] = -1
        class_id = class_id[all_id_sorted]
        conf, predicted_bb = conf[all_id_sorted], predicted_bb[all_id_sorted]
        below_min_idx = (conf < pos_threshold)
        class_id[below_min_idx] = -1
        conf[below_min_idx] = 1 - conf[below_min_idx]
        pred_info = torch.cat((class_id.unsqueeze(1), conf.unsqueeze(1), predicted_bb), dim=1)
        out.append(pred_info)
    return torch.stack(out)
    ### END SOLUTION



def cls_predictor(num_inputs, num_anchors, num_classes):
    """The class prediction layer (类别预测层) of SSD.

    A ``nn.Conv2d`` from ``num_inputs`` channels to ``num_anchors * (num_classes + 1)`` channels,
    kernel 3, padding 1 (the spatial size is kept): for each pixel and anchor, one score per
    class plus the background.
    """
    ### BEGIN SOLUTION
    return nn.Conv2d(num_inputs, num_anchors * (num_classes + 1), kernel_size=3, padding=1)
    ### END SOLUTION


def bbox_predictor(num_inputs, num_anchors):
    """The bounding-box prediction layer (边界框预测层) of SSD.

    A ``nn.Conv2d`` from ``num_inputs`` channels to ``num_anchors * 4`` channels (four offsets
    per anchor), kernel 3, padding 1.
    """
    ### BEGIN SOLUTION
    return nn.Conv2d(num_inputs, num_anchors * 4, kernel_size=3, padding=1)
    ### END SOLUTION


def flatten_pred(pred):
    """Flatten one scale's predictions (连结多尺度的预测).

    ``pred`` ``(batch, c, h, w)``; move the channels last and flatten the rest: return
    ``(batch, h * w * c)``, ordered by pixel (row-major) then channel.
    """
    ### BEGIN SOLUTION
    return torch.flatten(pred.permute(0, 2, 3, 1), start_dim=1)
    ### END SOLUTION


def concat_preds(preds):
    """Concatenate the flattened predictions of several scales along axis 1.

    ``preds`` is a list of ``(batch, c_i, h_i, w_i)`` tensors; return
    ``(batch, sum_i h_i w_i c_i)``, each flattened as ``flatten_pred`` does.
    """
    ### BEGIN SOLUTION
    return torch.cat([flatten_pred(p) for p in preds], dim=1)
    ### END SOLUTION


def down_sample_blk(in_channels, out_channels):
    """The down-sampling block (高和宽减半块) of SSD.

    ``nn.Sequential`` of, twice, ``nn.Conv2d(·, out_channels, kernel_size=3, padding=1)``,
    ``nn.BatchNorm2d(out_channels)``, ``nn.ReLU()`` (the first convolution from
    ``in_channels``), then ``nn.MaxPool2d(2)``: seven layers, indices 0-6, halving height and
    width.
    """
    ### BEGIN SOLUTION
    blk = []
    for _ in range(2):
        blk.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        blk.append(nn.BatchNorm2d(out_channels))
        blk.append(nn.ReLU())
        in_channels = out_channels
    blk.append(nn.MaxPool2d(2))
    return nn.Sequential(*blk)
    ### END SOLUTION


class TinySSD(nn.Module):
    """The book's single-shot multibox detector (单发多框检测模型), ``TinySSD(num_classes)``.

    Five stages ``blk_0``..``blk_4``, each with ``cls_i = cls_predictor(c_i, 4, num_classes)``
    and ``bbox_i = bbox_predictor(c_i, 4)``, ``c = (64, 128, 128, 128, 128)``: ``blk_0`` (the
    base network) is ``nn.Sequential`` of ``down_sample_blk`` 3→16, 16→32, 32→64; ``blk_1`` is
    ``down_sample_blk(64, 128)``; ``blk_2`` and ``blk_3`` ``down_sample_blk(128, 128)``;
    ``blk_4`` ``nn.AdaptiveMaxPool2d((1, 1))``. Stage ``i`` has scales
    ``[[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88, 0.961]][i]`` and ratios
    ``[1, 2, 0.5]`` (4 anchors per pixel). ``forward(X)`` runs the stages in turn; after each,
    ``multibox_prior`` on its output gives the anchors and the two predictors its scores. Return
    ``(anchors, cls_preds, bbox_preds)``: anchors ``(1, n_a, 4)`` (stages concatenated on axis
    1), ``cls_preds`` ``(batch, n_a, num_classes + 1)`` (``concat_preds`` then reshape),
    ``bbox_preds`` ``(batch, 4 n_a)``; ``n_a = 5444`` for 256×256 input.
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.num_classes = num_classes
        self.sizes = [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79],
                      [0.88, 0.961]]
        self.ratios = [[1, 2, 0.5]] * 5
        num_anchors = len(self.sizes[0]) + len(self.ratios[0]) - 1
        idx_to_in_channels = [64, 128, 128, 128, 128]
        for i in range(5):
            if i == 0:
                filters = [3, 16, 32, 64]
                blk = nn.Sequential(*[down_sample_blk(filters[k], filters[k + 1])
                                      for k in range(len(filters) - 1)])
            elif i == 1:
                blk = down_sample_blk(64, 128)
            elif i == 4:
                blk = nn.AdaptiveMaxPool2d((1, 1))
            else:
                blk = down_sample_blk(128, 128)
            setattr(self, f'blk_{i}', blk)
            setattr(self, f'cls_{i}', cls_predictor(idx_to_in_channels[i], num_anchors,
                                                    num_classes))
            setattr(self, f'bbox_{i}', bbox_predictor(idx_to_in_channels[i], num_anchors))
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        anchors, cls_preds, bbox_preds = [None] * 5, [None] * 5, [None] * 5
        for i in range(5):
            X = getattr(self, f'blk_{i}')(X)
            anchors[i] = multibox_prior(X, sizes=self.sizes[i], ratios=self.ratios[i])
            cls_preds[i] = getattr(self, f'cls_{i}')(X)
            bbox_preds[i] = getattr(self, f'bbox_{i}')(X)
        anchors = torch.cat(anchors, dim=1)
        cls_preds = concat_preds(cls_preds)
        cls_preds = cls_preds.reshape(cls_preds.shape[0], -1, self.num_classes + 1)
        bbox_preds = concat_preds(bbox_preds)
        return anchors, cls_preds, bbox_preds
        ### END SOLUTION


def calc_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks):
    """The SSD loss (损失函数) per example.

    ``cls_preds`` ``(batch, n_a, q + 1)`` scores, ``cls_labels`` ``(batch, n_a)`` classes;
    ``bbox_preds``, ``bbox_labels``, ``bbox_masks`` ``(batch, 4 n_a)``. Return ``(batch,)``: the
    mean over anchors of the cross-entropy of the scores, plus the mean over the ``4 n_a``
    entries of ``|bbox_preds * bbox_masks - bbox_labels * bbox_masks|``.
    """
    ### BEGIN SOLUTION
    cls_loss = nn.CrossEntropyLoss(reduction='none')
    bbox_loss = nn.L1Loss(reduction='none')
    batch_size, num_classes = cls_preds.shape[0], cls_preds.shape[2]
    cls = cls_loss(cls_preds.reshape(-1, num_classes),
                   cls_labels.reshape(-1)).reshape(batch_size, -1).mean(dim=1)
    bbox = bbox_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks).mean(dim=1)
    return cls + bbox
    ### END SOLUTION


def smooth_l1(data, scalar):
    """The smooth L1 loss of the book's exercise (13.7, 练习), elementwise.

    ``(sigma * x) ** 2 / 2`` where ``|x| < 1 / sigma ** 2``, else ``|x| - 0.5 / sigma ** 2``, with
    ``sigma = scalar``; same shape as ``data``. Differentiable.
    """
    ### BEGIN SOLUTION
    return torch.where(data.abs() < 1 / scalar ** 2, (scalar * data) ** 2 / 2,
                       data.abs() - 0.5 / scalar ** 2)
    ### END SOLUTION


def focal_loss(gamma, x):
    """The focal loss of the book's exercise (13.7, 练习), elementwise.

    ``x`` holds the predicted probabilities ``p_j`` of the true classes; return
    ``-(1 - x) ** gamma * log(x)``, same shape. Differentiable.
    """
    ### BEGIN SOLUTION
    return -(1 - x) ** gamma * torch.log(x)
    ### END SOLUTION


def roi_pool(features, rois, output_size, spatial_scale=1.0):
    """Region-of-interest max pooling (兴趣区域汇聚层, 13.8) from scratch.

    ``features`` ``(batch, c, H, W)``; ``rois`` ``(k, 5)`` rows ``(image index, x1, y1, x2, y2)``
    in input coordinates; ``output_size`` ``(h, w)``. As ``torchvision.ops.roi_pool`` (which you
    may not use): corners ``round(x * spatial_scale)`` (half away from zero), region size
    ``max(x2 - x1 + 1, 1)`` (inclusive); output cell ``(i, j)`` covers rows
    ``floor(i * rh / h)`` to ``ceil((i + 1) * rh / h)`` (exclusive) offset by ``y1`` and clipped to
    ``[0, H]``, likewise columns; its value is the maximum there, 0 for an empty cell. Return
    ``(k, c, h, w)``, differentiable with respect to ``features``.
    """
    ### BEGIN SOLUTION
    import math
    h, w = output_size
    H, W = features.shape[-2:]
    outputs = []
    for roi in rois.tolist():
        b = int(roi[0])
        x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v) * spatial_scale + 0.5), v))
                          for v in roi[1:])
        rh, rw = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        rows = []
        for i in range(h):
            top = min(max(math.floor(i * rh / h) + y1, 0), H)
            bottom = min(max(math.ceil((i + 1) * rh / h) + y1, 0), H)
            cells = []
            for j in range(w):
                left = min(max(math.floor(j * rw / w) + x1, 0), W)
                right = min(max(math.ceil((j + 1) * rw / w) + x1, 0), W)
                if bottom <= top or right <= left:
                    cells.append(features.new_zeros(features.shape[1]))
                else:
                    cells.append(features[b, :, top:bottom, left:right].amax(dim=(1, 2)))
            rows.append(torch.stack(cells, dim=-1))
        outputs.append(torch.stack(rows, dim=-2))
    return torch.stack(outputs)
    ### END SOLUTION


# --- Part B: augmentation, fine-tuning, segmentation, style transfer ---


# --- 13.9 semantic segmentation ---


def voc_colormap2label():
    """The lookup table from RGB colours to VOC class indices (构建从RGB到VOC类别索引的映射).

    Return a long tensor of shape ``(256 ** 3,)``: the entry at ``(r * 256 + g) * 256 + b``
    is ``k`` for the colour ``VOC_COLORMAP[k] == [r, g, b]`` of each class ``k`` (0 to 20), and
    every other entry is 0 (colours that are no class, such as VOC's outlines, count as
    background). ``VOC_COLORMAP`` is the toolbox's list (``from course import VOC_COLORMAP``).
    """
    ### BEGIN SOLUTION
    colormap2label = torch.zeros(256 ** 3, dtype=torch.long)
    for i, colormap in enumerate(VOC_COLORMAP):
        colormap2label[
            (colormap[0] * 256 + colormap[1]) * 256 + colormap[2]] = i
    return colormap2label
    ### END SOLUTION


def voc_label_indices(colormap, colormap2label):
    """Class indices of a label image (将VOC标签中的RGB值映射到它们的类别索引).

    ``colormap`` is a label image as ``read_voc_images`` returns it: a uint8 tensor of shape
    ``(3, h, w)`` (channels R, G, B); ``colormap2label`` a long tensor of shape ``(256 ** 3,)``
    such as ``voc_colormap2label()`` returns. Return the long tensor of shape ``(h, w)`` whose
    pixel ``(i, j)`` is ``colormap2label[(r * 256 + g) * 256 + b]`` for that pixel's colour
    (look the class up in the table you are given; compute the index in a wide enough integer
    type: ``256 ** 3`` does not fit in uint8).
    """
    ### BEGIN SOLUTION
    colormap = colormap.permute(1, 2, 0).numpy().astype('int32')
    idx = ((colormap[:, :, 0] * 256 + colormap[:, :, 1]) * 256
           + colormap[:, :, 2])
    return colormap2label[idx]
    ### END SOLUTION


def voc_rand_crop(feature, label, height, width):
    """Randomly crop an image and its label image the same way (随机裁剪特征和标签图像).

    ``feature`` and ``label`` are tensors of shape ``(c, H, W)`` and ``(c', H, W)`` (the same
    ``H`` and ``W``, ``H >= height``, ``W >= width``). Draw the crop's upper-left corner
    ``(i, j)`` uniformly among the ``(H - height + 1) * (W - width + 1)`` positions, as
    ``torchvision.transforms.RandomCrop.get_params`` does, and return
    ``(feature[:, i:i + height, j:j + width], label[:, i:i + height, j:j + width])``: the same
    window of both, so each pixel keeps its label.
    """
    ### BEGIN SOLUTION
    rect = torchvision.transforms.RandomCrop.get_params(
        feature, (height, width))
    feature = torchvision.transforms.functional.crop(feature, *rect)
    label = torchvision.transforms.functional.crop(label, *rect)
    return feature, label
    ### END SOLUTION



def trans_conv(X, K):
    """Basic transposed convolution (转置卷积, 13.10) of a 2-D input with a 2-D kernel.

    ``X`` has shape ``(n_h, n_w)`` and ``K`` ``(k_h, k_w)``; stride 1, no padding, one channel.
    Every input element ``X[i, j]`` adds ``X[i, j] * K`` to the output window starting at
    ``(i, j)``, so the result has shape ``(n_h + k_h - 1, n_w + k_w - 1)``; it equals
    ``nn.ConvTranspose2d(1, 1, (k_h, k_w), bias=False)`` with weight ``K``. The book builds the
    output with ``torch.zeros``; here it lies on ``X``'s device with ``X``'s dtype (the book's
    version gives the same values on the CPU in float32). Differentiable in ``X`` and ``K``.
    """
    ### BEGIN SOLUTION
    h, w = K.shape
    Y = X.new_zeros((X.shape[0] + h - 1, X.shape[1] + w - 1))
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Y[i: i + h, j: j + w] += X[i, j] * K
    return Y
    ### END SOLUTION



def kernel2matrix(K):
    """Convolution as a matrix (13.10.3): the ``(4, 9)`` weight matrix ``W`` of a ``2×2`` kernel.

    For a ``3×3`` input ``X`` and a ``2×2`` kernel ``K`` (stride 1, no padding), return ``W``
    such that ``W @ X.reshape(-1)`` equals the ``2×2`` cross-correlation of ``X`` with ``K``
    flattened row by row; ``W.T`` then computes the transposed convolution. Only the book's
    sizes (``K`` of shape ``(2, 2)``) are required. Return float32 like the book.
    """
    ### BEGIN SOLUTION
    k, W = torch.zeros(5), torch.zeros((4, 9))
    k[:2], k[3:5] = K[0, :], K[1, :]
    W[0, :5], W[1, 1:6], W[2, 3:8], W[3, 4:] = k, k, k, k
    return W
    ### END SOLUTION

def bilinear_kernel(in_channels, out_channels, kernel_size):
    """Bilinear-interpolation weights for a transposed convolution (双线性插值, 13.11).

    Return a float32 tensor of shape ``(in_channels, out_channels, kernel_size, kernel_size)``
    (the layout of ``nn.ConvTranspose2d.weight``). With ``factor = (kernel_size + 1) // 2`` and
    ``center = factor - 1`` for odd ``kernel_size`` (``factor - 0.5`` for even), the filter is
    ``(1 - |r - center| / factor) * (1 - |c - center| / factor)`` at row ``r``, column ``c``.
    As in the book, channel ``k`` maps to channel ``k`` only: ``weight[k, k]`` is the filter,
    every other ``weight[a, b]`` is zero (``in_channels == out_channels``).
    """
    ### BEGIN SOLUTION
    factor = (kernel_size + 1) // 2
    if kernel_size % 2 == 1:
        center = factor - 1
    else:
        center = factor - 0.5
    og = (torch.arange(kernel_size).reshape(-1, 1),
          torch.arange(kernel_size).reshape(1, -1))
    filt = (1 - torch.abs(og[0] - center) / factor) * \
           (1 - torch.abs(og[1] - center) / factor)
    weight = torch.zeros((in_channels, out_channels,
                          kernel_size, kernel_size))
    weight[range(in_channels), range(out_channels), :, :] = filt
    return weight
    ### END SOLUTION


def fcn_net(pretrained_net, num_classes):
    """The book's fully convolutional network (全卷积网络, 13.11) on a ResNet-18.

    ``pretrained_net`` is a ``torchvision.models.resnet18`` (with its weights, pretrained or
    not). Return ``net = nn.Sequential(*list(pretrained_net.children())[:-2])`` (every layer but
    the global average pooling and the fully connected layer, keeping their weights: state-dict
    names ``0.weight``, ``1.weight``, ... ``7.1.bn2.bias``) with two layers added by
    ``net.add_module``: ``final_conv``, ``nn.Conv2d(512, num_classes, kernel_size=1)``, and
    ``transpose_conv``, ``nn.ConvTranspose2d(num_classes, num_classes, kernel_size=64,
    padding=16, stride=32)`` whose weight is set to ``bilinear_kernel(num_classes, num_classes,
    64)`` (the biases keep their default initialisation). For an input whose height and width
    are multiples of 32, the output ``(batch, num_classes, h, w)`` has the input's height and
    width.
    """
    ### BEGIN SOLUTION
    net = nn.Sequential(*list(pretrained_net.children())[:-2])
    net.add_module('final_conv', nn.Conv2d(512, num_classes, kernel_size=1))
    net.add_module('transpose_conv', nn.ConvTranspose2d(num_classes, num_classes,
                                                        kernel_size=64, padding=16, stride=32))
    W = bilinear_kernel(num_classes, num_classes, 64)
    net.transpose_conv.weight.data.copy_(W)
    return net
    ### END SOLUTION


def gram(X):
    """Gram matrix of a feature map for style transfer (格拉姆矩阵, 13.12).

    ``X`` has shape ``(1, c, h, w)``. Reshape it to ``(c, h * w)`` and return the ``(c, c)``
    matrix of inner products between channels divided by ``c * h * w``. Differentiable.
    """
    ### BEGIN SOLUTION
    num_channels, n = X.shape[1], X.numel() // X.shape[1]
    X = X.reshape((num_channels, n))
    return torch.matmul(X, X.T) / (num_channels * n)
    ### END SOLUTION


def content_loss(Y_hat, Y):
    """Content loss of style transfer (内容损失, 13.12).

    The mean squared difference between the synthesized image's features ``Y_hat`` and the
    content image's features ``Y`` (same shape); ``Y`` is a fixed target, so detach it. Return a
    scalar tensor, differentiable in ``Y_hat``.
    """
    ### BEGIN SOLUTION
    return torch.square(Y_hat - Y.detach()).mean()
    ### END SOLUTION


def tv_loss(Y_hat):
    """Total variation loss (全变分损失, 13.12) of images ``Y_hat`` ``(batch, c, h, w)``.

    Half the sum of two means: of ``|Y_hat[:, :, i + 1, j] - Y_hat[:, :, i, j]|`` (vertical
    neighbours) and of ``|Y_hat[:, :, i, j + 1] - Y_hat[:, :, i, j]|`` (horizontal neighbours).
    Return a scalar tensor, differentiable.
    """
    ### BEGIN SOLUTION
    return 0.5 * (torch.abs(Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).mean() +
                  torch.abs(Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).mean())
    ### END SOLUTION


# Globals of the notebook that the book's style-transfer code reads (13.12): the loss weights and
# ``net``, the feature extractor (a small network in the notebook; the grader supplies its own).
content_weight, style_weight, tv_weight = 1, 1e3, 10
net = nn.Sequential()


def style_loss(Y_hat, gram_Y):
    """Style loss of style transfer (风格损失, 13.12).

    ``Y_hat`` ``(1, c, h, w)`` are the synthesized image's features at one style layer and
    ``gram_Y`` ``(c, c)`` the Gram matrix of the style image's features there (a fixed target:
    detach it). Return the mean squared difference between ``gram(Y_hat)`` and ``gram_Y``, a
    scalar tensor differentiable in ``Y_hat``. Use your ``gram``.
    """
    ### BEGIN SOLUTION
    return torch.square(gram(Y_hat) - gram_Y.detach()).mean()
    ### END SOLUTION


def extract_features(X, content_layers, style_layers):
    """Content and style features of ``X`` (抽取图像特征, 13.12).

    ``net`` (a global ``nn.Sequential``: the book's truncated VGG-19, here a small network) is
    run layer by layer on ``X``; the output of layer ``i`` is appended to ``styles`` when ``i`` is
    in ``style_layers`` and to ``contents`` when it is in ``content_layers`` (a layer may be in
    both). Stop after the last layer either list needs or run them all. Return ``(contents,
    styles)``, two lists in increasing layer order, differentiable in ``X``.
    """
    ### BEGIN SOLUTION
    contents = []
    styles = []
    for i in range(len(net)):
        X = net[i](X)
        if i in style_layers:
            styles.append(X)
        if i in content_layers:
            contents.append(X)
    return contents, styles
    ### END SOLUTION


def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    """The weighted loss of style transfer (损失函数, 13.12).

    ``X`` is the synthesized image; ``contents_Y_hat``/``styles_Y_hat`` its content and style
    features, ``contents_Y`` the content image's features and ``styles_Y_gram`` the Gram
    matrices of the style image's (lists, matched by position). With the global weights
    ``content_weight``, ``style_weight`` and ``tv_weight`` (the book's 1, 1e3 and 10), return
    ``(contents_l, styles_l, tv_l, l)``: the lists ``content_loss(Y_hat, Y) * content_weight``
    and ``style_loss(Y_hat, Y) * style_weight`` of each pair, ``tv_loss(X) * tv_weight``, and
    their total ``l`` (the sum of all of them). Use your ``content_loss``, ``style_loss`` and
    ``tv_loss``.
    """
    ### BEGIN SOLUTION
    contents_l = [content_loss(Y_hat, Y) * content_weight for Y_hat, Y in zip(
        contents_Y_hat, contents_Y)]
    styles_l = [style_loss(Y_hat, Y) * style_weight for Y_hat, Y in zip(
        styles_Y_hat, styles_Y_gram)]
    tv_l = tv_loss(X) * tv_weight
    l = sum(styles_l + contents_l + [tv_l])
    return contents_l, styles_l, tv_l, l
    ### END SOLUTION
