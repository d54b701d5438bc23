"""Correct ch13 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing. The reference
solutions are the book's own code (``solutions/ch13.py``), graded through the source notebook;
the book's module-level ``TinySSD`` (with ``get_blk`` and ``blk_forward``) is below.
"""

from tests.variants._ch13_part_b import VACUOUS as PART_B_VACUOUS
from tests.variants._ch13_part_b import VARIANTS as PART_B

VARIANTS = {
    "box_corner_to_center": [
        ("slices and cat", '''
def box_corner_to_center(boxes):
    return torch.cat([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], dim=1)
'''),
    ],
    "box_center_to_corner": [
        ("slices and cat", '''
def box_center_to_corner(boxes):
    half = boxes[:, 2:] / 2
    return torch.cat([boxes[:, :2] - half, boxes[:, :2] + half], dim=1)
'''),
    ],
    "multibox_prior": [
        ("Python loops over pixels and anchors", '''
def multibox_prior(data, sizes, ratios):
    h, w = data.shape[-2:]
    shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    rows = []
    for i in range(h):
        for j in range(w):
            cx, cy = (j + 0.5) / w, (i + 0.5) / h
            for s, r in shapes:
                aw, ah = s * math.sqrt(r) * h / w, s / math.sqrt(r)
                rows.append([cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2])
    return torch.tensor(rows, dtype=torch.float32, device=data.device).unsqueeze(0)
'''),
    ],
    "box_iou": [
        ("clamped corner differences with unsqueeze", '''
def box_iou(boxes1, boxes2):
    a, b = boxes1.unsqueeze(1), boxes2.unsqueeze(0)
    iw = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    ih = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area_a + area_b - inter)
'''),
    ],
    "assign_anchor_to_bbox": [
        ("masks with -inf and unravels the arg-max", '''
def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    iou = box_iou(anchors, ground_truth).clone()
    best, idx = iou.max(dim=1)
    out = torch.where(best >= iou_threshold, idx, -torch.ones_like(idx))
    for _ in range(len(ground_truth)):
        a, b = divmod(int(torch.argmax(iou)), iou.shape[1])
        out[a] = b
        iou[a, :] = float("-inf")
        iou[:, b] = float("-inf")
    return out.to(device)
'''),
    ],
    "offset_boxes": [
        ("inline centre arithmetic", '''
def offset_boxes(anchors, assigned_bb, eps=1e-6):
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    bw, bh = assigned_bb[:, 2] - assigned_bb[:, 0], assigned_bb[:, 3] - assigned_bb[:, 1]
    dx = (assigned_bb[:, 0] + assigned_bb[:, 2] - anchors[:, 0] - anchors[:, 2]) / 2
    dy = (assigned_bb[:, 1] + assigned_bb[:, 3] - anchors[:, 1] - anchors[:, 3]) / 2
    return torch.stack([10 * dx / aw, 10 * dy / ah, 5 * torch.log(eps + bw / aw),
                        5 * torch.log(eps + bh / ah)], dim=1)
'''),
    ],
    "multibox_target": [
        ("torch.where for the assignments", '''
def multibox_target(anchors, labels):
    anchors = anchors[0]
    out = ([], [], [])
    for label in labels:
        m = assign_anchor_to_bbox(label[:, 1:], anchors, anchors.device)
        pos = (m >= 0)
        safe = m.clamp(min=0)
        cls = torch.where(pos, label[safe, 0].long() + 1, torch.zeros_like(m))
        bb = torch.where(pos[:, None], label[safe, 1:], torch.zeros_like(anchors))
        mask = pos[:, None].expand(-1, 4).to(torch.float32)
        out[0].append((offset_boxes(anchors, bb) * mask).flatten())
        out[1].append(mask.flatten())
        out[2].append(cls)
    return tuple(torch.stack(x) for x in out)
'''),
    ],
    "offset_inverse": [
        ("inline arithmetic on corners", '''
def offset_inverse(anchors, offset_preds):
    w, h = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    cx = (anchors[:, 0] + anchors[:, 2]) / 2 + offset_preds[:, 0] * w / 10
    cy = (anchors[:, 1] + anchors[:, 3]) / 2 + offset_preds[:, 1] * h / 10
    pw, ph = w * torch.exp(offset_preds[:, 2] / 5), h * torch.exp(offset_preds[:, 3] / 5)
    return torch.stack([cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2], dim=1)
'''),
    ],
    "nms": [
        ("a suppressed flag per box over a sorted Python list", '''
def nms(boxes, scores, iou_threshold):
    order = sorted(range(len(scores)), key=lambda k: -float(scores[k]))
    iou = box_iou(boxes, boxes)
    gone = [False] * len(order)
    keep = []
    for i in order:
        if gone[i]:
            continue
        keep.append(i)
        for j in order:
            if not gone[j] and j != i and iou[i, j] > iou_threshold:
                gone[j] = True
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)
'''),
    ],
    "multibox_detection": [
        ("a boolean mask for the kept anchors", '''
def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    anchors = anchors[0]
    results = []
    for probs, offsets in zip(cls_probs, offset_preds):
        conf, cls = probs[1:].max(dim=0)
        boxes = offset_inverse(anchors, offsets.view(-1, 4))
        keep = nms(boxes, conf, nms_threshold)
        kept = torch.zeros(len(anchors), dtype=torch.bool)
        kept[keep] = True
        order = torch.cat([keep, torch.nonzero(~kept).flatten()])
        cls = torch.where(kept, cls, torch.full_like(cls, -1))[order]
        conf, boxes = conf[order], boxes[order]
        low = conf < pos_threshold
        cls = torch.where(low, torch.full_like(cls, -1), cls)
        conf = torch.where(low, 1 - conf, conf)
        results.append(torch.cat([cls[:, None].to(conf.dtype), conf[:, None], boxes], 1))
    return torch.stack(results)
'''),
    ],
    "cls_predictor": [
        ("keyword arguments", '''
def cls_predictor(num_inputs, num_anchors, num_classes):
    return nn.Conv2d(in_channels=num_inputs, out_channels=(num_classes + 1) * num_anchors,
                     kernel_size=(3, 3), padding=(1, 1))
'''),
    ],
    "bbox_predictor": [
        ("padding 'same'", '''
def bbox_predictor(num_inputs, num_anchors):
    return nn.Conv2d(num_inputs, 4 * num_anchors, 3, padding="same")
'''),
    ],
    "flatten_pred": [
        ("movedim and reshape", '''
def flatten_pred(pred):
    return pred.movedim(1, -1).reshape(len(pred), -1)
'''),
    ],
    "concat_preds": [
        ("a loop appending to a list", '''
def concat_preds(preds):
    parts = []
    for p in preds:
        parts.append(flatten_pred(p))
    return torch.concat(parts, 1)
'''),
    ],
    "down_sample_blk": [
        ("layers listed out", '''
def down_sample_blk(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2, stride=2))
'''),
    ],
    "TinySSD": [
        ("the book's module-level TinySSD with get_blk and blk_forward", '''
def base_net():
    blk = []
    num_filters = [3, 16, 32, 64]
    for i in range(len(num_filters) - 1):
        blk.append(down_sample_blk(num_filters[i], num_filters[i+1]))
    return nn.Sequential(*blk)

def get_blk(i):
    if i == 0:
        blk = base_net()
    elif i == 1:
        blk = down_sample_blk(64, 128)
    elif i == 4:
        blk = nn.AdaptiveMaxPool2d((1,1))
    else:
        blk = down_sample_blk(128, 128)
    return blk

def blk_forward(X, blk, size, ratio, cls_predictor, bbox_predictor):
    Y = blk(X)
    anchors = multibox_prior(Y, sizes=size, ratios=ratio)
    cls_preds = cls_predictor(Y)
    bbox_preds = bbox_predictor(Y)
    return (Y, anchors, cls_preds, bbox_preds)

sizes = [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79],
         [0.88, 0.961]]
ratios = [[1, 2, 0.5]] * 5
num_anchors = len(sizes[0]) + len(ratios[0]) - 1

class TinySSD(nn.Module):
    def __init__(self, num_classes, **kwargs):
        super(TinySSD, self).__init__(**kwargs)
        self.num_classes = num_classes
        idx_to_in_channels = [64, 128, 128, 128, 128]
        for i in range(5):
            setattr(self, f'blk_{i}', get_blk(i))
            setattr(self, f'cls_{i}', cls_predictor(idx_to_in_channels[i],
                                                    num_anchors, num_classes))
            setattr(self, f'bbox_{i}', bbox_predictor(idx_to_in_channels[i],
                                                      num_anchors))

    def forward(self, X):
        anchors, cls_preds, bbox_preds = [None] * 5, [None] * 5, [None] * 5
        for i in range(5):
            X, anchors[i], cls_preds[i], bbox_preds[i] = blk_forward(
                X, getattr(self, f'blk_{i}'), sizes[i], ratios[i],
                getattr(self, f'cls_{i}'), getattr(self, f'bbox_{i}'))
        anchors = torch.cat(anchors, dim=1)
        cls_preds = concat_preds(cls_preds)
        cls_preds = cls_preds.reshape(
            cls_preds.shape[0], -1, self.num_classes + 1)
        bbox_preds = concat_preds(bbox_preds)
        return anchors, cls_preds, bbox_preds
'''),
    ],
    "calc_loss": [
        ("functional losses", '''
def calc_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks):
    ce = F.cross_entropy(cls_preds.permute(0, 2, 1), cls_labels, reduction="none").mean(1)
    l1 = F.l1_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks, reduction="none")
    return ce + l1.mean(1)
'''),
    ],
    "smooth_l1": [
        ("the book's exercise loop, stacked", '''
def smooth_l1(data, scalar):
    out = []
    for i in data:
        if abs(i) < 1 / (scalar ** 2):
            out.append(((scalar * i) ** 2) / 2)
        else:
            out.append(abs(i) - 0.5 / (scalar ** 2))
    return torch.stack(out)
'''),
    ],
    "focal_loss": [
        ("pow and log written with methods", '''
def focal_loss(gamma, x):
    return (1 - x).pow(gamma).mul(x.log()).neg()
'''),
    ],
    "roi_pool": [
        ("adaptive-style bins with integer arithmetic", '''
def roi_pool(features, rois, output_size, spatial_scale=1.0):
    oh, ow = output_size
    H, W = features.shape[-2:]
    pooled = []
    for roi in rois:
        b = int(roi[0])
        scaled = [float(v) * spatial_scale for v in roi[1:]]
        c = [int(v + 0.5) if v >= 0 else -int(0.5 - v) for v in scaled]
        rh, rw = max(c[3] - c[1] + 1, 1), max(c[2] - c[0] + 1, 1)
        cells = []
        for i in range(oh):
            for j in range(ow):
                t = min(max(c[1] + (i * rh) // oh, 0), H)
                d = min(max(c[1] + -((-(i + 1) * rh) // oh), 0), H)
                lf = min(max(c[0] + (j * rw) // ow, 0), W)
                rt = min(max(c[0] + -((-(j + 1) * rw) // ow), 0), W)
                region = features[b, :, t:d, lf:rt]
                cells.append(region.flatten(1).max(1).values if region.numel()
                             else features.new_zeros(features.shape[1]))
        pooled.append(torch.stack(cells, 1).reshape(-1, oh, ow))
    return torch.stack(pooled)
'''),
    ],
    **PART_B,
}

VACUOUS = {
    "box_corner_to_center": ("returns its input", '''
def box_corner_to_center(boxes):
    return boxes
'''),
    "box_center_to_corner": ("returns its input", '''
def box_center_to_corner(boxes):
    return boxes
'''),
    "multibox_prior": ("zeros", '''
def multibox_prior(data, sizes, ratios):
    return torch.zeros(1, data.shape[-2] * data.shape[-1] * (len(sizes) + len(ratios) - 1), 4)
'''),
    "box_iou": ("zeros", '''
def box_iou(boxes1, boxes2):
    return torch.zeros(len(boxes1), len(boxes2), dtype=boxes1.dtype)
'''),
    "assign_anchor_to_bbox": ("nothing assigned", '''
def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    return torch.full((len(anchors),), -1, dtype=torch.long)
'''),
    "offset_boxes": ("zeros", '''
def offset_boxes(anchors, assigned_bb, eps=1e-6):
    return torch.zeros_like(anchors)
'''),
    "multibox_target": ("all background", '''
def multibox_target(anchors, labels):
    n = anchors.shape[1]
    return (torch.zeros(len(labels), 4 * n), torch.zeros(len(labels), 4 * n),
            torch.zeros(len(labels), n, dtype=torch.long))
'''),
    "offset_inverse": ("returns the anchors", '''
def offset_inverse(anchors, offset_preds):
    return anchors
'''),
    "nms": ("keeps everything", '''
def nms(boxes, scores, iou_threshold):
    return torch.arange(len(boxes))
'''),
    "multibox_detection": ("zeros", '''
def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    return torch.zeros(cls_probs.shape[0], cls_probs.shape[2], 6)
'''),
    "cls_predictor": ("an empty module", '''
def cls_predictor(num_inputs, num_anchors, num_classes):
    return nn.Sequential()
'''),
    "bbox_predictor": ("an empty module", '''
def bbox_predictor(num_inputs, num_anchors):
    return nn.Sequential()
'''),
    "flatten_pred": ("returns its input", '''
def flatten_pred(pred):
    return pred
'''),
    "concat_preds": ("returns the first prediction", '''
def concat_preds(preds):
    return preds[0]
'''),
    "down_sample_blk": ("an empty module", '''
def down_sample_blk(in_channels, out_channels):
    return nn.Sequential()
'''),
    "TinySSD": ("an empty module", '''
def TinySSD(num_classes):
    return nn.Sequential()
'''),
    "calc_loss": ("zeros", '''
def calc_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks):
    return torch.zeros(cls_preds.shape[0])
'''),
    "smooth_l1": ("returns its input", '''
def smooth_l1(data, scalar):
    return data
'''),
    "focal_loss": ("returns its input", '''
def focal_loss(gamma, x):
    return x
'''),
    "roi_pool": ("zeros", '''
def roi_pool(features, rois, output_size, spatial_scale=1.0):
    return torch.zeros(len(rois), features.shape[1], *output_size)
'''),
    **PART_B_VACUOUS,
}
