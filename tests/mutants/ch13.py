"""Realistic mistakes for ch13; each must lose points."""

from tests.mutants._ch13_part_b import MUTANTS as PART_B

MUTANTS = {
    "box_corner_to_center": [
        ("width and height as x1 - x2", '''
def box_corner_to_center(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x1 - x2, y1 - y2), dim=-1)
'''),
        ("centre without halving", '''
def box_corner_to_center(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack((x1 + x2, y1 + y2, x2 - x1, y2 - y1), dim=-1)
'''),
    ],
    "box_center_to_corner": [
        ("subtracts the full width", '''
def box_center_to_corner(boxes):
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w, cy - h, cx + w, cy + h), dim=-1)
'''),
        ("swaps width and height", '''
def box_center_to_corner(boxes):
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - h / 2, cy - w / 2, cx + h / 2, cy + w / 2), dim=-1)
'''),
    ],
    "multibox_prior": [
        ("forgets the h / w factor on the widths", '''
def multibox_prior(data, sizes, ratios):
    h, w = data.shape[-2:]
    pairs = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    ws = torch.tensor([s * r ** 0.5 for s, r in pairs])
    hs = torch.tensor([s / r ** 0.5 for s, r in pairs])
    cy, cx = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w,
                            indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)
    out = torch.stack((cx - ws / 2, cy - hs / 2, cx + ws / 2, cy + hs / 2), dim=-1)
    return out.reshape(1, -1, 4)
'''),
        ("pixel centres at j / w instead of (j + 0.5) / w", '''
def multibox_prior(data, sizes, ratios):
    h, w = data.shape[-2:]
    pairs = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    ws = torch.tensor([s * r ** 0.5 * h / w for s, r in pairs])
    hs = torch.tensor([s / r ** 0.5 for s, r in pairs])
    cy, cx = torch.meshgrid(torch.arange(h) / h, torch.arange(w) / w, indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)
    out = torch.stack((cx - ws / 2, cy - hs / 2, cx + ws / 2, cy + hs / 2), dim=-1)
    return out.reshape(1, -1, 4)
'''),
    ],
    "box_iou": [
        ("does not clamp negative overlaps", '''
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lo = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    hi = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    inter = (hi - lo).prod(dim=-1)
    return inter / (area1[:, None] + area2 - inter)
'''),
        ("divides by the sum of the areas", '''
def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lo = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    hi = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    inter = (hi - lo).clamp(min=0).prod(dim=-1)
    return inter / (area1[:, None] + area2)
'''),
    ],
    "assign_anchor_to_bbox": [
        ("skips the greedy step", '''
def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    best, idx = box_iou(anchors, ground_truth).max(dim=1)
    return torch.where(best >= iou_threshold, idx, torch.full_like(idx, -1)).to(device)
'''),
        ("greedy step without discarding the anchor's row", '''
def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    jaccard = box_iou(anchors, ground_truth)
    best, idx = jaccard.max(dim=1)
    result = torch.where(best >= iou_threshold, idx, torch.full_like(idx, -1))
    for _ in range(ground_truth.shape[0]):
        k = int(jaccard.argmax())
        i, j = divmod(k, ground_truth.shape[0])
        result[i] = j
        jaccard[:, j] = -1
    return result.to(device)
'''),
    ],
    "offset_boxes": [
        ("scales the centre offsets by 5 and the sizes by 10", '''
def offset_boxes(anchors, assigned_bb, eps=1e-6):
    a, b = box_corner_to_center(anchors), box_corner_to_center(assigned_bb)
    return torch.cat([5 * (b[:, :2] - a[:, :2]) / a[:, 2:],
                      10 * torch.log(eps + b[:, 2:] / a[:, 2:])], dim=1)
'''),
        ("offsets of the corners instead of the centres", '''
def offset_boxes(anchors, assigned_bb, eps=1e-6):
    a, b = box_corner_to_center(anchors), box_corner_to_center(assigned_bb)
    return torch.cat([10 * (assigned_bb[:, :2] - anchors[:, :2]) / a[:, 2:],
                      5 * torch.log(eps + b[:, 2:] / a[:, 2:])], dim=1)
'''),
    ],
    "multibox_target": [
        ("class labels without the + 1 for the background", '''
def multibox_target(anchors, labels):
    anchors = anchors.squeeze(0)
    offsets, masks, classes = [], [], []
    for label in labels:
        m = assign_anchor_to_bbox(label[:, 1:], anchors, anchors.device)
        pos = m >= 0
        cls = torch.zeros(len(anchors), dtype=torch.long)
        cls[pos] = label[m[pos], 0].long()
        bb = torch.zeros(len(anchors), 4)
        bb[pos] = label[m[pos], 1:]
        mask = pos.float()[:, None].repeat(1, 4)
        offsets.append((offset_boxes(anchors, bb) * mask).reshape(-1))
        masks.append(mask.reshape(-1))
        classes.append(cls)
    return torch.stack(offsets), torch.stack(masks), torch.stack(classes)
'''),
        ("does not mask the background's offsets", '''
def multibox_target(anchors, labels):
    anchors = anchors.squeeze(0)
    offsets, masks, classes = [], [], []
    for label in labels:
        m = assign_anchor_to_bbox(label[:, 1:], anchors, anchors.device)
        pos = m >= 0
        cls = torch.zeros(len(anchors), dtype=torch.long)
        cls[pos] = label[m[pos], 0].long() + 1
        bb = torch.zeros(len(anchors), 4)
        bb[pos] = label[m[pos], 1:]
        mask = pos.float()[:, None].repeat(1, 4)
        offsets.append(offset_boxes(anchors, bb).reshape(-1))
        masks.append(mask.reshape(-1))
        classes.append(cls)
    return torch.stack(offsets), torch.stack(masks), torch.stack(classes)
'''),
    ],
    "offset_inverse": [
        ("exp(offset) without dividing by 5", '''
def offset_inverse(anchors, offset_preds):
    a = box_corner_to_center(anchors)
    xy = offset_preds[:, :2] * a[:, 2:] / 10 + a[:, :2]
    wh = torch.exp(offset_preds[:, 2:]) * a[:, 2:]
    return box_center_to_corner(torch.cat((xy, wh), dim=1))
'''),
        ("returns centre-size boxes", '''
def offset_inverse(anchors, offset_preds):
    a = box_corner_to_center(anchors)
    xy = offset_preds[:, :2] * a[:, 2:] / 10 + a[:, :2]
    wh = torch.exp(offset_preds[:, 2:] / 5) * a[:, 2:]
    return torch.cat((xy, wh), dim=1)
'''),
    ],
    "nms": [
        ("sorts in increasing score order", '''
def nms(boxes, scores, iou_threshold):
    order = torch.argsort(scores)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        iou = box_iou(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][iou <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)
'''),
        ("discards boxes whose IoU is below the threshold", '''
def nms(boxes, scores, iou_threshold):
    order = torch.sort(scores, descending=True, stable=True)[1]
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        iou = box_iou(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][iou > iou_threshold]
    return torch.tensor(keep, dtype=torch.long)
'''),
    ],
    "multibox_detection": [
        ("counts the background as a class", '''
def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    anchors = anchors.squeeze(0)
    out = []
    for probs, offsets in zip(cls_probs, offset_preds):
        conf, cls = probs.max(dim=0)
        cls = cls - 1
        boxes = offset_inverse(anchors, offsets.reshape(-1, 4))
        keep = nms(boxes, conf, nms_threshold)
        rest = [i for i in range(len(anchors)) if i not in set(keep.tolist())]
        order = torch.cat([keep, torch.tensor(rest, dtype=torch.long)])
        cls = cls.clone()
        cls[rest] = -1
        cls, conf, boxes = cls[order], conf[order].clone(), boxes[order]
        low = conf < pos_threshold
        cls[low] = -1
        conf[low] = 1 - conf[low]
        out.append(torch.cat([cls[:, None].to(conf.dtype), conf[:, None], boxes], dim=1))
    return torch.stack(out)
'''),
        ("leaves the suppressed anchors' class ids", '''
def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    anchors = anchors.squeeze(0)
    out = []
    for probs, offsets in zip(cls_probs, offset_preds):
        conf, cls = probs[1:].max(dim=0)
        boxes = offset_inverse(anchors, offsets.reshape(-1, 4))
        keep = nms(boxes, conf, nms_threshold)
        rest = [i for i in range(len(anchors)) if i not in set(keep.tolist())]
        order = torch.cat([keep, torch.tensor(rest, dtype=torch.long)])
        cls, conf, boxes = cls[order], conf[order].clone(), boxes[order]
        low = conf < pos_threshold
        cls[low] = -1
        conf[low] = 1 - conf[low]
        out.append(torch.cat([cls[:, None].to(conf.dtype), conf[:, None], boxes], dim=1))
    return torch.stack(out)
'''),
    ],
    "cls_predictor": [
        ("forgets the background class", '''
def cls_predictor(num_inputs, num_anchors, num_classes):
    return nn.Conv2d(num_inputs, num_anchors * num_classes, kernel_size=3, padding=1)
'''),
        ("no padding", '''
def cls_predictor(num_inputs, num_anchors, num_classes):
    return nn.Conv2d(num_inputs, num_anchors * (num_classes + 1), kernel_size=3)
'''),
    ],
    "bbox_predictor": [
        ("a 1×1 convolution", '''
def bbox_predictor(num_inputs, num_anchors):
    return nn.Conv2d(num_inputs, num_anchors * 4, kernel_size=1)
'''),
        ("one output per anchor", '''
def bbox_predictor(num_inputs, num_anchors):
    return nn.Conv2d(num_inputs, num_anchors, kernel_size=3, padding=1)
'''),
    ],
    "flatten_pred": [
        ("flattens without moving the channels last", '''
def flatten_pred(pred):
    return pred.reshape(pred.shape[0], -1)
'''),
        ("moves the channels with a reshape instead of a permute", '''
def flatten_pred(pred):
    b, c, h, w = pred.shape
    return pred.reshape(b, h, w, c).reshape(b, -1)
'''),
    ],
    "concat_preds": [
        ("concatenates along axis 0", '''
def concat_preds(preds):
    return torch.cat([flatten_pred(p) for p in preds], dim=0)
'''),
        ("flattens channels first", '''
def concat_preds(preds):
    return torch.cat([p.flatten(1) for p in preds], dim=1)
'''),
    ],
    "down_sample_blk": [
        ("one convolution instead of two", '''
def down_sample_blk(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
                         nn.BatchNorm2d(out_channels), nn.ReLU(), nn.MaxPool2d(2))
'''),
        ("average pooling", '''
def down_sample_blk(in_channels, out_channels):
    blk = []
    for k in range(2):
        blk += [nn.Conv2d(out_channels if k else in_channels, out_channels, 3, padding=1),
                nn.BatchNorm2d(out_channels), nn.ReLU()]
    return nn.Sequential(*blk, nn.AvgPool2d(2))
'''),
    ],
    "TinySSD": [
        ("the same scales for every stage", '''
class TinySSD(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        chans = [64, 128, 128, 128, 128]
        self.blk_0 = nn.Sequential(down_sample_blk(3, 16), down_sample_blk(16, 32),
                                   down_sample_blk(32, 64))
        self.blk_1 = down_sample_blk(64, 128)
        self.blk_2 = down_sample_blk(128, 128)
        self.blk_3 = down_sample_blk(128, 128)
        self.blk_4 = nn.AdaptiveMaxPool2d((1, 1))
        for i in range(5):
            setattr(self, f"cls_{i}", cls_predictor(chans[i], 4, num_classes))
            setattr(self, f"bbox_{i}", bbox_predictor(chans[i], 4))

    def forward(self, X):
        anchors, cls_preds, bbox_preds = [], [], []
        for i in range(5):
            X = getattr(self, f"blk_{i}")(X)
            anchors.append(multibox_prior(X, [0.2, 0.272], [1, 2, 0.5]))
            cls_preds.append(getattr(self, f"cls_{i}")(X))
            bbox_preds.append(getattr(self, f"bbox_{i}")(X))
        cls = concat_preds(cls_preds).reshape(X.shape[0], -1, self.num_classes + 1)
        return torch.cat(anchors, dim=1), cls, concat_preds(bbox_preds)
'''),
        ("reshapes the class scores class-major, then transposes", '''
class TinySSD(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.sizes = [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88, 0.961]]
        chans = [64, 128, 128, 128, 128]
        self.blk_0 = nn.Sequential(down_sample_blk(3, 16), down_sample_blk(16, 32),
                                   down_sample_blk(32, 64))
        self.blk_1 = down_sample_blk(64, 128)
        self.blk_2 = down_sample_blk(128, 128)
        self.blk_3 = down_sample_blk(128, 128)
        self.blk_4 = nn.AdaptiveMaxPool2d((1, 1))
        for i in range(5):
            setattr(self, f"cls_{i}", cls_predictor(chans[i], 4, num_classes))
            setattr(self, f"bbox_{i}", bbox_predictor(chans[i], 4))

    def forward(self, X):
        anchors, cls_preds, bbox_preds = [], [], []
        for i in range(5):
            X = getattr(self, f"blk_{i}")(X)
            anchors.append(multibox_prior(X, self.sizes[i], [1, 2, 0.5]))
            cls_preds.append(getattr(self, f"cls_{i}")(X))
            bbox_preds.append(getattr(self, f"bbox_{i}")(X))
        cls = concat_preds(cls_preds).reshape(X.shape[0], self.num_classes + 1, -1)
        return torch.cat(anchors, dim=1), cls.transpose(1, 2), concat_preds(bbox_preds)
'''),
    ],
    "calc_loss": [
        ("does not mask the offsets", '''
def calc_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks):
    B, q = cls_preds.shape[0], cls_preds.shape[2]
    cls = nn.functional.cross_entropy(cls_preds.reshape(-1, q), cls_labels.reshape(-1),
                                      reduction="none").reshape(B, -1).mean(dim=1)
    return cls + (bbox_preds - bbox_labels).abs().mean(dim=1)
'''),
        ("squared error for the offsets", '''
def calc_loss(cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks):
    B, q = cls_preds.shape[0], cls_preds.shape[2]
    cls = nn.functional.cross_entropy(cls_preds.reshape(-1, q), cls_labels.reshape(-1),
                                      reduction="none").reshape(B, -1).mean(dim=1)
    return cls + ((bbox_preds - bbox_labels) * bbox_masks).pow(2).mean(dim=1)
'''),
    ],
    "smooth_l1": [
        ("threshold 1/sigma instead of 1/sigma²", '''
def smooth_l1(data, scalar):
    small = data.abs() < 1 / scalar
    return torch.where(small, (scalar * data) ** 2 / 2, data.abs() - 0.5 / scalar ** 2)
'''),
        ("forgets the half in the quadratic part", '''
def smooth_l1(data, scalar):
    small = data.abs() < 1 / scalar ** 2
    return torch.where(small, (scalar * data) ** 2, data.abs() - 0.5 / scalar ** 2)
'''),
    ],
    "focal_loss": [
        ("weights by x ** gamma", '''
def focal_loss(gamma, x):
    return -x ** gamma * torch.log(x)
'''),
        ("forgets the minus sign", '''
def focal_loss(gamma, x):
    return (1 - x) ** gamma * torch.log(x)
'''),
    ],
    "roi_pool": [
        ("floors the corners instead of rounding", '''
def roi_pool(features, rois, output_size, spatial_scale=1.0):
    import math
    h, w = output_size
    H, W = features.shape[-2:]
    out = []
    for b, *box in rois.tolist():
        x1, y1, x2, y2 = (math.floor(v * spatial_scale) for v in box)
        rh, rw = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        grid = features.new_zeros(features.shape[1], h, w)
        for i in range(h):
            t, d = min(max(i * rh // h + y1, 0), H), min(max(-(-(i + 1) * rh // h) + y1, 0), H)
            for j in range(w):
                lf = min(max(j * rw // w + x1, 0), W)
                rt = min(max(-(-(j + 1) * rw // w) + x1, 0), W)
                if d > t and rt > lf:
                    grid[:, i, j] = features[int(b), :, t:d, lf:rt].amax(dim=(1, 2))
        out.append(grid)
    return torch.stack(out)
'''),
        ("region size without the + 1", '''
def roi_pool(features, rois, output_size, spatial_scale=1.0):
    import math
    h, w = output_size
    H, W = features.shape[-2:]
    out = []
    for b, *box in rois.tolist():
        x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v) * spatial_scale + 0.5), v))
                          for v in box)
        rh, rw = max(y2 - y1, 1), max(x2 - x1, 1)
        grid = features.new_zeros(features.shape[1], h, w)
        for i in range(h):
            t, d = min(max(i * rh // h + y1, 0), H), min(max(-(-(i + 1) * rh // h) + y1, 0), H)
            for j in range(w):
                lf = min(max(j * rw // w + x1, 0), W)
                rt = min(max(-(-(j + 1) * rw // w) + x1, 0), W)
                if d > t and rt > lf:
                    grid[:, i, j] = features[int(b), :, t:d, lf:rt].amax(dim=(1, 2))
        out.append(grid)
    return torch.stack(out)
'''),
    ],
    **PART_B,
}
