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

    <!-- zh -->
    书中训练时的图像增广（13.1-13.2），用 ``torchvision.transforms.v2`` 实现。

    返回依次由以下变换组成的 ``v2.Compose``：``v2.RandomResizedCrop(size)``（随机裁剪图像的一块区
    域，面积为原图的 8% 到 100%，宽高比在 3/4 到 4/3 之间，再将其缩放为 ``size × size``）、
    ``v2.RandomHorizontalFlip()``（概率为 0.5）、``v2.ToDtype(torch.float32, scale=True)``（把 0-255
    的 uint8 转换为 0-1 的浮点数）和 ``v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])``
    （ImageNet 各通道的均值和标准差）。作用于形状为 ``(3, H, W)`` 的 uint8 图像张量及其标签时，
    ``augs(image, label)`` 返回 ``(image, label)``，其中 ``image`` 是形状为 ``(3, size, size)`` 的
    float32 图像：v2 变换不会改动标签。
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

    <!-- zh -->
    书中测试时的图像处理流程（13.2），用 ``torchvision.transforms.v2`` 实现：不含任何随机性。

    返回依次由 ``v2.Resize([resize, resize])``（把高和宽都缩放为 ``resize``）、
    ``v2.CenterCrop(size)``、``v2.ToDtype(torch.float32, scale=True)`` 以及与 ``make_train_augs`` 中
    相同的 ``v2.Normalize`` 组成的 ``v2.Compose``（书中取 ``resize=256``、``size=224``）。
    ``augs(image, label)`` 返回 ``(image, label)``，其中 ``image`` 是形状为 ``(3, size, size)`` 的
    float32 图像。
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

    <!-- zh -->
    换上新输出层的预训练网络（微调，13.2）。

    ``pretrained_net`` 是一个 ``torchvision.models.resnet18``（预训练的，或以 ``weights=None`` 创建
    的）。把它的输出层 ``fc`` 替换为 ``nn.Linear(pretrained_net.fc.in_features, num_classes)``，并用
    ``nn.init.xavier_uniform_`` 初始化其权重（偏置保留 ``nn.Linear`` 默认的初始化）；其余各层及其权
    重保持不变，返回该网络（像书中那样原地修改它即可）。
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

    <!-- zh -->
    书中用于微调的优化器（13.2）：``weight_decay=0.001`` 的 ``torch.optim.SGD``。

    当 ``param_group`` 为真时，输出层的学习速度是其余层的十倍：一个参数组包含 ``net`` 中除
    ``fc.weight`` 和 ``fc.bias`` 之外的所有参数，学习率为 ``lr=learning_rate``；另一个参数组是
    ``net.fc.parameters()``，学习率为 ``lr=learning_rate * 10``。否则，``net.parameters()`` 的全部参
    数都使用学习率 ``learning_rate``。每个参数恰好属于一个参数组。
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

    <!-- zh -->
    把边界框从两角表示法转换为中心宽度表示法。

    ``boxes`` 的形状为 ``(n, 4)``，每行为 ``(x1, y1, x2, y2)``（左上角和右下角）；返回形状为
    ``(n, 4)`` 的各行 ``(cx, cy, w, h)``：中心、宽度和高度。运算须可微。
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

    <!-- zh -->
    把边界框从中心宽度表示法转换为两角表示法。

    ``box_corner_to_center`` 的逆运算：形状为 ``(n, 4)`` 的各行 ``(cx, cy, w, h)`` 变为
    ``(x1, y1, x2, y2)``，其中 ``x1 = cx - w / 2``、``y2 = cy + h / 2``，其余依此类推。运算须可微。
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

    <!-- zh -->
    生成以每个像素为中心具有不同形状的锚框。

    ``data`` 的形状为 ``(batch, channels, h, w)``，只用到它最后两个维度的大小及其所在设备。``sizes``
    （缩放比 ``s_1..s_n``，取值在 (0, 1] 中）和 ``ratios``（宽高比 ``r_1..r_m``）是数值列表。每个像
    素 ``(i, j)`` 有 ``n + m - 1`` 个以 ``((j + 0.5) / w, (i + 0.5) / h)`` 为中心的锚框，顺序为：
    ``(s_1, r_1), ..., (s_n, r_1)``，然后是 ``(s_1, r_2), ..., (s_1, r_m)``。缩放比为 ``s``、宽高比
    为 ``r`` 的锚框宽为 ``s * sqrt(r) * h / w``，高为 ``s / sqrt(r)``（都是相对于图像的比例）。返回
    形状为 ``(1, h * w * (n + m - 1), 4)`` 的 float32 角坐标 ``(x1, y1, x2, y2)``：像素按行优先顺序
    排列，同一像素的锚框排在一起。
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

    <!-- zh -->
    向量化地计算两两之间的交并比（IoU）。

    ``boxes1`` ``(n, 4)`` 和 ``boxes2`` ``(m, 4)`` 存放角坐标 ``(x1, y1, x2, y2)``，满足 ``x1 < x2``
    且 ``y1 < y2``；返回形状为 ``(n, m)`` 的交并比矩阵 ``area(A ∩ B) / area(A ∪ B)``（不相交的两个框
    为 0），与 ``torchvision.ops.box_iou`` 的计算结果相同（但不得使用它）。不要用 Python 循环遍历各
    个框。
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

    <!-- zh -->
    将真实边界框分配给锚框。

    ``ground_truth`` ``(n_b, 4)`` 和 ``anchors`` ``(n_a, 4)`` 存放角坐标。在 ``device`` 上返回形状为
    ``(n_a,)`` 的 long 张量 ``anchors_bbox_map``：分配给每个锚框的边界框的索引，未分配则为 -1。设
    ``X`` 为交并比矩阵（锚框 × 边界框）：首先，最大交并比不小于 ``iou_threshold`` 的每个锚框都分配到
    与它交并比最大的边界框；然后重复 ``n_b`` 次：取 ``X`` 中剩余的最大元素（锚框 ``i``，边界框
    ``j``），把边界框 ``j`` 分配给锚框 ``i``（覆盖第一步的结果），并丢弃第 ``i`` 行和第 ``j`` 列。使
    用 ``box_iou``。
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

    <!-- zh -->
    计算分配到的边界框相对于其锚框的偏移量（对锚框偏移量的转换）。

    两个参数都是形状为 ``(n, 4)`` 的角坐标。设锚框的中心和大小为 ``(x_a, y_a, w_a, h_a)``，边界框的
    为 ``(x_b, y_b, w_b, h_b)``，返回形状为 ``(n, 4)`` 的各行 ``(10 (x_b - x_a) / w_a,
    10 (y_b - y_a) / h_a, 5 log(eps + w_b / w_a), 5 log(eps + h_b / h_a))``。运算须可微。
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

    <!-- zh -->
    使用真实边界框标记锚框的类别和偏移量。

    ``anchors`` 的形状为 ``(1, n_a, 4)``；``labels`` 的形状为 ``(batch, n_b, 5)``，每行为
    ``(class, x1, y1, x2, y2)``，类别为 ``0, 1, ...``。对每个样本，用
    ``assign_anchor_to_bbox(boxes, anchors, device)``（阈值 0.5）分配边界框。返回
    ``(bbox_offset, bbox_mask, class_labels)``：``class_labels`` 是形状为 ``(batch, n_a)`` 的 long
    张量，值为所分配边界框的类别加 1，未分配则为 0（背景）；``bbox_mask`` 是形状为
    ``(batch, 4 n_a)`` 的 float32 张量，每个已分配锚框对应的四个元素为 1，其余为 0；``bbox_offset``
    的形状为 ``(batch, 4 n_a)``，是用 ``bbox_mask`` 掩蔽后的
    ``offset_boxes(anchors, assigned boxes)``（背景为 0）。
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

    <!-- zh -->
    根据锚框和预测的偏移量来预测边界框。

    ``offset_boxes`` 的逆运算（不含 ``eps``）：``anchors`` 和 ``offset_preds`` 的形状都是
    ``(n, 4)``；返回预测边界框的角坐标，形状为 ``(n, 4)``，其中心为 ``x_a + o_x w_a / 10``，宽为
    ``w_a exp(o_w / 5)``，y 和 h 依此类推。运算须可微。
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

    <!-- zh -->
    非极大值抑制。

    ``boxes`` 是形状为 ``(n, 4)`` 的角坐标，``scores`` 的形状为 ``(n,)``。反复保留剩余边界框中得分最
    高的一个，并丢弃其余与它的交并比大于 ``iou_threshold`` 的边界框（交并比恰好等于阈值的保留）。按
    得分从高到低的顺序返回所保留索引的 long 张量，与 ``torchvision.ops.nms`` 相同（但不得使用它）。
    并列的处理规则：得分相同时索引小的排在前面（即 *稳定的* 降序排序）。这与书中有意不同：书中的
    ``torch.argsort(scores, descending=True)`` 不规定并列元素的顺序。
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

    <!-- zh -->
    使用非极大值抑制预测边界框。

    ``cls_probs`` 的形状为 ``(batch, 1 + q, n_a)``（第 0 行为背景），``offset_preds`` 为
    ``(batch, 4 n_a)``，``anchors`` 为 ``(1, n_a, 4)``。对每个样本：每个锚框的类别是其概率最大的非背
    景类别（置信度即该概率，类别编号从 0 开始），其边界框为 ``offset_inverse(anchors, offsets)``；以
    ``nms_threshold`` 对所有边界框做 ``nms``（不区分类别）。返回形状为 ``(batch, n_a, 6)`` 的各行
    ``(class_id, confidence, x1, y1, x2, y2)``：先是保留下来的锚框（按 ``nms`` 给出的顺序），然后是
    其余锚框（按索引递增排列，类别编号为 -1）；置信度低于 ``pos_threshold`` 的行，类别编号都改为
    -1，置信度改为 ``1 - confidence``。
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

    <!-- zh -->
    单发多框检测（SSD）的类别预测层。

    一个 ``nn.Conv2d``，从 ``num_inputs`` 个通道到 ``num_anchors * (num_classes + 1)`` 个通道，卷积
    核大小为 3，填充为 1（保持空间尺寸不变）：对每个像素的每个锚框，每个类别各有一个得分，外加背景的
    得分。
    """
    ### BEGIN SOLUTION
    return nn.Conv2d(num_inputs, num_anchors * (num_classes + 1), kernel_size=3, padding=1)
    ### END SOLUTION


def bbox_predictor(num_inputs, num_anchors):
    """The bounding-box prediction layer (边界框预测层) of SSD.

    A ``nn.Conv2d`` from ``num_inputs`` channels to ``num_anchors * 4`` channels (four offsets
    per anchor), kernel 3, padding 1.

    <!-- zh -->
    单发多框检测（SSD）的边界框预测层。

    一个 ``nn.Conv2d``，从 ``num_inputs`` 个通道到 ``num_anchors * 4`` 个通道（每个锚框四个偏移
    量），卷积核大小为 3，填充为 1。
    """
    ### BEGIN SOLUTION
    return nn.Conv2d(num_inputs, num_anchors * 4, kernel_size=3, padding=1)
    ### END SOLUTION


def flatten_pred(pred):
    """Flatten one scale's predictions (连结多尺度的预测).

    ``pred`` ``(batch, c, h, w)``; move the channels last and flatten the rest: return
    ``(batch, h * w * c)``, ordered by pixel (row-major) then channel.

    <!-- zh -->
    展平一个尺度上的预测（以便连结多尺度的预测）。

    ``pred`` 的形状为 ``(batch, c, h, w)``；把通道维移到最后并展平其余维度：返回
    ``(batch, h * w * c)``，先按像素（行优先）再按通道排列。
    """
    ### BEGIN SOLUTION
    return torch.flatten(pred.permute(0, 2, 3, 1), start_dim=1)
    ### END SOLUTION


def concat_preds(preds):
    """Concatenate the flattened predictions of several scales along axis 1.

    ``preds`` is a list of ``(batch, c_i, h_i, w_i)`` tensors; return
    ``(batch, sum_i h_i w_i c_i)``, each flattened as ``flatten_pred`` does.

    <!-- zh -->
    沿轴 1 连结多个尺度展平后的预测。

    ``preds`` 是形状为 ``(batch, c_i, h_i, w_i)`` 的张量的列表；返回
    ``(batch, sum_i h_i w_i c_i)``，每个张量都像 ``flatten_pred`` 那样展平。
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

    <!-- zh -->
    单发多框检测（SSD）的高和宽减半块。

    一个 ``nn.Sequential``：两次依次使用 ``nn.Conv2d(·, out_channels, kernel_size=3, padding=1)``、
    ``nn.BatchNorm2d(out_channels)``、``nn.ReLU()``（第一个卷积层的输入通道数为 ``in_channels``），
    最后是 ``nn.MaxPool2d(2)``：共七层，索引为 0-6，将高和宽减半。
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

    <!-- zh -->
    书中的单发多框检测模型，``TinySSD(num_classes)``。

    五个阶段 ``blk_0``..``blk_4``，每个阶段都有 ``cls_i = cls_predictor(c_i, 4, num_classes)`` 和
    ``bbox_i = bbox_predictor(c_i, 4)``，其中 ``c = (64, 128, 128, 128, 128)``：``blk_0``（基本网络
    块）是由 ``down_sample_blk`` 3→16、16→32、32→64 组成的 ``nn.Sequential``；``blk_1`` 是
    ``down_sample_blk(64, 128)``；``blk_2`` 和 ``blk_3`` 是 ``down_sample_blk(128, 128)``；``blk_4``
    是 ``nn.AdaptiveMaxPool2d((1, 1))``。阶段 ``i`` 的缩放比为
    ``[[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88, 0.961]][i]``，宽高比为
    ``[1, 2, 0.5]``（每个像素 4 个锚框）。``forward(X)`` 依次运行各个阶段；每个阶段之后，对其输出调
    用 ``multibox_prior`` 得到锚框，并用两个预测层得到预测值。返回
    ``(anchors, cls_preds, bbox_preds)``：锚框 ``(1, n_a, 4)``（各阶段的锚框沿轴 1 连结），
    ``cls_preds`` ``(batch, n_a, num_classes + 1)``（先 ``concat_preds`` 再变形），``bbox_preds``
    ``(batch, 4 n_a)``；对 256×256 的输入，``n_a = 5444``。
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

    <!-- zh -->
    单发多框检测（SSD）每个样本的损失函数。

    ``cls_preds`` 是形状为 ``(batch, n_a, q + 1)`` 的得分，``cls_labels`` 是形状为 ``(batch, n_a)``
    的类别；``bbox_preds``、``bbox_labels``、``bbox_masks`` 的形状都是 ``(batch, 4 n_a)``。返回形状
    为 ``(batch,)`` 的损失：得分的交叉熵在所有锚框上的平均值，加上
    ``|bbox_preds * bbox_masks - bbox_labels * bbox_masks|`` 在 ``4 n_a`` 个元素上的平均值。
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

    <!-- zh -->
    书中练习（13.7）的平滑L1范数损失，逐元素计算。

    当 ``|x| < 1 / sigma ** 2`` 时为 ``(sigma * x) ** 2 / 2``，否则为 ``|x| - 0.5 / sigma ** 2``，其
    中 ``sigma = scalar``；形状与 ``data`` 相同。运算须可微。
    """
    ### BEGIN SOLUTION
    return torch.where(data.abs() < 1 / scalar ** 2, (scalar * data) ** 2 / 2,
                       data.abs() - 0.5 / scalar ** 2)
    ### END SOLUTION


def focal_loss(gamma, x):
    """The focal loss of the book's exercise (13.7, 练习), elementwise.

    ``x`` holds the predicted probabilities ``p_j`` of the true classes; return
    ``-(1 - x) ** gamma * log(x)``, same shape. Differentiable.

    <!-- zh -->
    书中练习（13.7）的焦点损失，逐元素计算。

    ``x`` 存放真实类别的预测概率 ``p_j``；返回 ``-(1 - x) ** gamma * log(x)``，形状与 ``x`` 相同。运
    算须可微。
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

    <!-- zh -->
    从零实现兴趣区域最大汇聚（兴趣区域汇聚层，13.8）。

    ``features`` 的形状为 ``(batch, c, H, W)``；``rois`` 的形状为 ``(k, 5)``，每行为
    ``(image index, x1, y1, x2, y2)``，坐标以输入为准；``output_size`` 为 ``(h, w)``。与
    ``torchvision.ops.roi_pool`` 相同（但不得使用它）：角坐标取 ``round(x * spatial_scale)``（恰在两
    个整数正中间时向远离零的方向舍入），区域大小为 ``max(x2 - x1 + 1, 1)``（包含两端）；输出单元
    ``(i, j)`` 覆盖第 ``floor(i * rh / h)`` 行到第 ``ceil((i + 1) * rh / h)`` 行（不含后者），加上偏
    移 ``y1`` 并裁剪到 ``[0, H]`` 内，列也依此类推；其值为该区域内的最大值，区域为空时为 0。返回
    ``(k, c, h, w)``，对 ``features`` 可微。
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

    <!-- zh -->
    从 RGB 颜色值到 VOC 类别索引的查找表（构建从RGB到VOC类别索引的映射）。

    返回形状为 ``(256 ** 3,)`` 的 long 张量：对每个类别 ``k``（0 到 20）的颜色
    ``VOC_COLORMAP[k] == [r, g, b]``，索引 ``(r * 256 + g) * 256 + b`` 处的元素为 ``k``，其余元素都
    为 0（不对应任何类别的颜色，例如 VOC 中的物体轮廓，都算作背景）。``VOC_COLORMAP`` 是工具包中的列
    表（``from course import VOC_COLORMAP``）。
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

    <!-- zh -->
    标签图像中每个像素的类别索引（将VOC标签中的RGB值映射到它们的类别索引）。

    ``colormap`` 是 ``read_voc_images`` 返回的标签图像：形状为 ``(3, h, w)`` 的 uint8 张量（通道依次
    为 R、G、B）；``colormap2label`` 是形状为 ``(256 ** 3,)`` 的 long 张量，例如
    ``voc_colormap2label()`` 的返回值。返回形状为 ``(h, w)`` 的 long 张量，其像素 ``(i, j)`` 的值为
    该像素颜色对应的 ``colormap2label[(r * 256 + g) * 256 + b]``（在给定的查找表中查出类别；计算索引
    时要用足够宽的整数类型：``256 ** 3`` 超出了 uint8 的范围）。
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

    <!-- zh -->
    以相同方式随机裁剪图像及其标签图像（随机裁剪特征和标签图像）。

    ``feature`` 和 ``label`` 是形状分别为 ``(c, H, W)`` 和 ``(c', H, W)`` 的张量（``H`` 和 ``W`` 相
    同，且 ``H >= height``、``W >= width``）。像 ``torchvision.transforms.RandomCrop.get_params`` 那
    样，在 ``(H - height + 1) * (W - width + 1)`` 个位置中均匀地抽取裁剪窗口的左上角 ``(i, j)``，然
    后返回 ``(feature[:, i:i + height, j:j + width], label[:, i:i + height, j:j + width])``：两者裁
    剪同一个窗口，使每个像素保持其标签。
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

    <!-- zh -->
    二维输入与二维卷积核的基本转置卷积（13.10）。

    ``X`` 的形状为 ``(n_h, n_w)``，``K`` 的形状为 ``(k_h, k_w)``；步幅为 1，无填充，单通道。每个输入
    元素 ``X[i, j]`` 都把 ``X[i, j] * K`` 加到输出中从 ``(i, j)`` 开始的窗口上，因此结果的形状为
    ``(n_h + k_h - 1, n_w + k_w - 1)``；它等于权重为 ``K`` 的
    ``nn.ConvTranspose2d(1, 1, (k_h, k_w), bias=False)`` 的输出。书中用 ``torch.zeros`` 创建输出；这
    里输出要与 ``X`` 在同一设备上，且数据类型与 ``X`` 相同（在 CPU 上使用 float32 时，书中的版本给出
    相同的值）。对 ``X`` 和 ``K`` 都可微。
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

    <!-- zh -->
    把卷积写成矩阵乘法（13.10.3）：``2×2`` 卷积核对应的 ``(4, 9)`` 权重矩阵 ``W``。

    对 ``3×3`` 的输入 ``X`` 和 ``2×2`` 的卷积核 ``K``（步幅为 1，无填充），返回矩阵 ``W``，使
    ``W @ X.reshape(-1)`` 等于 ``X`` 与 ``K`` 的 ``2×2`` 互相关运算结果按行展平后的向量；于是
    ``W.T`` 就能计算转置卷积。只要求支持书中的尺寸（形状为 ``(2, 2)`` 的 ``K``）。像书中那样返回
    float32。
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

    <!-- zh -->
    用于转置卷积的双线性插值权重（13.11）。

    返回形状为 ``(in_channels, out_channels, kernel_size, kernel_size)`` 的 float32 张量（即
    ``nn.ConvTranspose2d.weight`` 的布局）。设 ``factor = (kernel_size + 1) // 2``，``kernel_size``
    为奇数时 ``center = factor - 1``（为偶数时 ``factor - 0.5``），则第 ``r`` 行第 ``c`` 列的滤波器
    值为 ``(1 - |r - center| / factor) * (1 - |c - center| / factor)``。与书中一样，通道 ``k`` 只映
    射到通道 ``k``：``weight[k, k]`` 是该滤波器，其余的 ``weight[a, b]`` 都为零
    （``in_channels == out_channels``）。
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

    <!-- zh -->
    书中基于 ResNet-18 的全卷积网络（13.11）。

    ``pretrained_net`` 是一个 ``torchvision.models.resnet18``（带着其权重，预训练的或未经训练的）。
    返回 ``net = nn.Sequential(*list(pretrained_net.children())[:-2])``（除全局平均汇聚层和全连接层
    之外的所有层，保留其权重：状态字典中的名称为 ``0.weight``、``1.weight``……``7.1.bn2.bias``），并
    用 ``net.add_module`` 添加两层：``final_conv``，即
    ``nn.Conv2d(512, num_classes, kernel_size=1)``；``transpose_conv``，即
    ``nn.ConvTranspose2d(num_classes, num_classes, kernel_size=64, padding=16, stride=32)``，其权重
    设为 ``bilinear_kernel(num_classes, num_classes, 64)``（偏置保留默认的初始化）。当输入的高和宽都
    是 32 的倍数时，输出 ``(batch, num_classes, h, w)`` 的高和宽与输入相同。
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

    <!-- zh -->
    风格迁移中特征图的格拉姆矩阵（13.12）。

    ``X`` 的形状为 ``(1, c, h, w)``。把它变形为 ``(c, h * w)``，返回各通道之间的内积构成的
    ``(c, c)`` 矩阵除以 ``c * h * w``。运算须可微。
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

    <!-- zh -->
    风格迁移的内容损失（13.12）。

    合成图像的特征 ``Y_hat`` 与内容图像的特征 ``Y``（形状相同）之间差的平方的平均值；``Y`` 是固定的
    目标，因此要将其分离（detach）。返回一个标量张量，对 ``Y_hat`` 可微。
    """
    ### BEGIN SOLUTION
    return torch.square(Y_hat - Y.detach()).mean()
    ### END SOLUTION


def tv_loss(Y_hat):
    """Total variation loss (全变分损失, 13.12) of images ``Y_hat`` ``(batch, c, h, w)``.

    Half the sum of two means: of ``|Y_hat[:, :, i + 1, j] - Y_hat[:, :, i, j]|`` (vertical
    neighbours) and of ``|Y_hat[:, :, i, j + 1] - Y_hat[:, :, i, j]|`` (horizontal neighbours).
    Return a scalar tensor, differentiable.

    <!-- zh -->
    图像 ``Y_hat`` ``(batch, c, h, w)`` 的全变分损失（13.12）。

    两个平均值之和的一半：一个是 ``|Y_hat[:, :, i + 1, j] - Y_hat[:, :, i, j]|``（竖直方向相邻的像
    素）的平均值，另一个是 ``|Y_hat[:, :, i, j + 1] - Y_hat[:, :, i, j]|``（水平方向相邻的像素）的平
    均值。返回一个标量张量，运算须可微。
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

    <!-- zh -->
    风格迁移的风格损失（13.12）。

    ``Y_hat`` ``(1, c, h, w)`` 是合成图像在某个风格层上的特征，``gram_Y`` ``(c, c)`` 是风格图像在该
    层上特征的格拉姆矩阵（固定的目标：要将其分离）。返回 ``gram(Y_hat)`` 与 ``gram_Y`` 之间差的平方
    的平均值，它是一个对 ``Y_hat`` 可微的标量张量。使用你实现的 ``gram``。
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

    <!-- zh -->
    抽取 ``X`` 的内容特征和风格特征（抽取图像特征，13.12）。

    在 ``X`` 上逐层运行 ``net``（一个全局的 ``nn.Sequential``：书中截断的 VGG-19，这里换成一个小网
    络）；当 ``i`` 在 ``style_layers`` 中时，把第 ``i`` 层的输出追加到 ``styles``，当 ``i`` 在
    ``content_layers`` 中时，追加到 ``contents``（一层可以同时属于两者）。可以在两个列表所需的最后一
    层之后停下，也可以运行所有层。返回 ``(contents, styles)``：两个按层的顺序递增排列的列表，对
    ``X`` 可微。
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

    <!-- zh -->
    风格迁移的加权损失函数（13.12）。

    ``X`` 是合成图像；``contents_Y_hat``/``styles_Y_hat`` 是它的内容特征和风格特征，``contents_Y``
    是内容图像的特征，``styles_Y_gram`` 是风格图像特征的格拉姆矩阵（都是列表，按位置一一对应）。使用
    全局权重 ``content_weight``、``style_weight`` 和 ``tv_weight``（书中分别为 1、1e3 和 10），返回
    ``(contents_l, styles_l, tv_l, l)``：每一对的 ``content_loss(Y_hat, Y) * content_weight`` 构成的
    列表和 ``style_loss(Y_hat, Y) * style_weight`` 构成的列表、``tv_loss(X) * tv_weight``，以及它们
    的总和 ``l``（所有这些损失之和）。使用你实现的 ``content_loss``、``style_loss`` 和 ``tv_loss``。
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
