"""ch13 checks of object detection (13.3-13.8): boxes, anchors, IoU, labelling anchors, NMS,
prediction, the single-shot multibox detector's parts and losses, and RoI pooling.

Functions are compared with the reference (and with ``torchvision.ops`` where it computes the
same thing) on random float64 boxes, values and, where the spec says differentiable, gradients.
Where an exercise uses another one, the scenario swaps in grader stand-ins written here, so one
mistake costs points once. Modules are graded by their state-dict names and shapes, then by
their outputs with the reference's weights loaded, in evaluation mode.
"""

import pytest
import torch
import torchvision

import solutions.ch13 as ref
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_equal, expect_tensor, fail
from grader.engine.patterns import expect_values, expect_vectorized
from grader.engine.plugin import exercise
from grader.i18n import _

F64 = torch.float64


def boxes(gen, n, *, low=0.05, high=0.5, device="cpu"):
    """``n`` random corner boxes in the unit square (width and height in [low, high])."""
    corner = torch.rand(n, 2, generator=gen, dtype=F64)
    size = low + (high - low) * torch.rand(n, 2, generator=gen, dtype=F64)
    return torch.cat([corner, corner + size], dim=1).to(device)


# --- scenario (run in the sandbox) ----------------------------------------------------------------


def _swapped(ns, name, args, swap_names, wrt, G, state=None):
    """``name(*args)`` with grader stand-ins for the exercises in ``swap_names``; backpropagate
    ``G`` from the (first) tensor result to the ``wrt`` arguments. With a ``state`` dict,
    ``name(*args)`` builds a module: report its state-dict names and shapes and its layer
    types; when they match ``state``, load it (float64, evaluation mode) and run it on ``G``."""

    def _module_info(module, state, X):
        info = {"module": isinstance(module, torch.nn.Module)}
        if not info["module"]:
            return info
        info["keys"] = {k: list(v.shape) for k, v in module.state_dict().items()}
        info["layers"] = [type(m).__name__ for m in module.modules()][1:]
        if info["keys"] != {k: list(v.shape) for k, v in state.items()}:
            return info
        module = module.double()
        with trusted():  # noqa: F821
            module.load_state_dict(state)
        module.eval()
        with torch.no_grad():
            info["result"] = module(X)
        return info

    def g_to_center(b):
        return torch.cat([(b[:, :2] + b[:, 2:]) * 0.5, b[:, 2:] - b[:, :2]], dim=1)

    def g_to_corner(b):
        return torch.cat([b[:, :2] - b[:, 2:] * 0.5, b[:, :2] + b[:, 2:] * 0.5], dim=1)

    def g_iou(a, b):
        lo = torch.maximum(a[:, None, :2], b[None, :, :2])
        hi = torch.minimum(a[:, None, 2:], b[None, :, 2:])
        inter = (hi - lo).clamp(min=0).prod(dim=-1)
        area_a = (a[:, 2:] - a[:, :2]).prod(dim=-1)
        area_b = (b[:, 2:] - b[:, :2]).prod(dim=-1)
        return inter / (area_a[:, None] + area_b[None, :] - inter)

    def g_assign(gt, anchors, device, iou_threshold=0.5):
        table = g_iou(anchors, gt)
        best, which = table.max(dim=1)
        result = torch.where(best >= iou_threshold, which, torch.full_like(which, -1))
        table = table.clone()
        for _box in range(gt.shape[0]):
            flat = int(table.argmax())
            row, col = divmod(flat, gt.shape[0])
            result[row] = col
            table[row, :] = -1
            table[:, col] = -1
        return result.to(device)

    def g_offsets(anchors, assigned, eps=1e-6):
        a, b = g_to_center(anchors), g_to_center(assigned)
        return torch.cat([10 * (b[:, :2] - a[:, :2]) / a[:, 2:],
                          5 * torch.log(eps + b[:, 2:] / a[:, 2:])], dim=1)

    def g_inverse(anchors, offsets):
        a = g_to_center(anchors)
        centre = a[:, :2] + offsets[:, :2] * a[:, 2:] / 10
        size = a[:, 2:] * torch.exp(offsets[:, 2:] / 5)
        return g_to_corner(torch.cat([centre, size], dim=1))

    def g_nms(b, s, iou_threshold):
        order = torch.sort(s, descending=True, stable=True).indices.tolist()
        kept = []
        while order:
            top = order.pop(0)
            kept.append(top)
            if order:
                iou = g_iou(b[top:top + 1], b[order])[0]
                order = [k for k, v in zip(order, iou.tolist()) if v <= iou_threshold]
        return torch.tensor(kept, dtype=torch.long, device=b.device)

    def g_flatten(p):
        return p.permute(0, 2, 3, 1).reshape(p.shape[0], -1)

    def g_concat(preds):
        return torch.cat([g_flatten(p) for p in preds], dim=1)

    def g_prior(data, sizes, ratios):
        h, w = data.shape[-2:]
        shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
        ws = torch.tensor([s * r ** 0.5 * h / w for s, r in shapes], device=data.device)
        hs = torch.tensor([s / r ** 0.5 for s, r in shapes], device=data.device)
        ys = (torch.arange(h, device=data.device) + 0.5) / h
        xs = (torch.arange(w, device=data.device) + 0.5) / w
        cy = ys[:, None, None].expand(h, w, len(shapes))
        cx = xs[None, :, None].expand(h, w, len(shapes))
        out = torch.stack([cx - ws / 2, cy - hs / 2, cx + ws / 2, cy + hs / 2], dim=-1)
        return out.reshape(1, -1, 4)

    def g_block(c_in, c_out):
        layers = []
        for k in range(2):
            layers += [torch.nn.Conv2d(c_out if k else c_in, c_out, 3, padding=1),
                       torch.nn.BatchNorm2d(c_out), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers, torch.nn.MaxPool2d(2))

    def g_cls(c_in, k, q):
        return torch.nn.Conv2d(c_in, k * (q + 1), 3, padding=1)

    def g_bbox(c_in, k):
        return torch.nn.Conv2d(c_in, 4 * k, 3, padding=1)

    stand_ins = {"box_corner_to_center": g_to_center, "box_center_to_corner": g_to_corner,
                 "box_iou": g_iou, "assign_anchor_to_bbox": g_assign,
                 "offset_boxes": g_offsets, "offset_inverse": g_inverse, "nms": g_nms,
                 "flatten_pred": g_flatten, "concat_preds": g_concat,
                 "multibox_prior": g_prior, "down_sample_blk": g_block,
                 "cls_predictor": g_cls, "bbox_predictor": g_bbox}
    with objects.Swap(ns, {k: stand_ins[k] for k in swap_names if k in ns}):  # noqa: F821
        if state is not None:
            return _module_info(ns[name](*args), state, G)
        leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
                  for i, a in enumerate(args)]
        result = ns[name](*leaves)
    first = result[0] if isinstance(result, (tuple, list)) and len(result) > 0 else result
    grads = None
    if wrt and isinstance(first, torch.Tensor) and first.requires_grad \
            and first.shape == G.shape:
        with trusted():  # noqa: F821
            grads = list(torch.autograd.grad(first, [leaves[i] for i in wrt], G,
                                             allow_unused=True))
    return {"result": result, "grads": grads}


def run(student, name, *args, swaps=(), wrt=(), G=None, state=None, what=None):
    """Run ``name(*args)`` in the sandbox with grader stand-ins for ``swaps``."""
    G = torch.zeros(0) if G is None else G
    return student.scenario(_swapped, name, list(args), list(swaps), list(wrt), G, state,
                            what=what or f"{name}(...)", name=name)


def compare_with_grads(student, gen, name, reference, args, wrt, swaps=(), hint="",
                       inputs=""):
    """Values and vector–Jacobian products of ``name(*args)`` against ``reference``."""
    expected = reference(*args)
    G = torch.randn(expected.shape, generator=gen, dtype=F64).to(expected.dtype)
    answer = run(student, name, *args, swaps=swaps, wrt=wrt, G=G)
    what = f"{name}(...)"
    expect_tensor(answer["result"], expected, what=what, inputs=inputs, hint=hint)
    leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
              for i, a in enumerate(args)]
    grads = torch.autograd.grad(reference(*leaves), [leaves[i] for i in wrt], G)
    if answer["grads"] is None:
        fail(f"{what} is not differentiable: the result does not depend on its inputs through "
             "autograd (avoid .detach(), .item(), .tolist() or building new tensors)")
    for k, exp in zip(wrt, grads):
        expect_tensor(answer["grads"][wrt.index(k)], exp,
                      what=f"the gradient of {what} with respect to argument {k + 1}",
                      inputs=inputs, hint=hint)


# --- 13.3 bounding boxes --------------------------------------------------------------------------


@exercise("box_corner_to_center")
def test_box_corner_to_center(student, gen):
    b = boxes(gen, 6)
    compare_with_grads(student, gen, "box_corner_to_center", ref.box_corner_to_center, (b,), [0],
                       inputs="float64 boxes of shape (6, 4)",
                       hint=_("columns (cx, cy, w, h) = ((x1+x2)/2, (y1+y2)/2, x2-x1, y2-y1)"))


@exercise("box_center_to_corner")
def test_box_center_to_corner(student, gen):
    b = ref.box_corner_to_center(boxes(gen, 6))
    compare_with_grads(student, gen, "box_center_to_corner", ref.box_center_to_corner, (b,), [0],
                       inputs="float64 boxes of shape (6, 4)",
                       hint=_("columns (x1, y1, x2, y2) = (cx - w/2, cy - h/2, cx + w/2, "
                              "cy + h/2)"))


# --- 13.4 anchor boxes ----------------------------------------------------------------------------

PRIOR_CASES = [((1, 3, 5, 7), [0.75, 0.5, 0.25], [1, 2, 0.5]),
               ((2, 1, 4, 3), [0.3], [1, 3]),
               ((1, 2, 3, 3), [0.6, 0.2], [1])]


@exercise("multibox_prior")
@pytest.mark.parametrize("case", range(len(PRIOR_CASES)))
def test_multibox_prior(student, case):
    shape, sizes, ratios = PRIOR_CASES[case]
    data = torch.zeros(shape)
    expect_values(student, "multibox_prior", ref.multibox_prior, data, sizes, ratios,
                  inputs=f"data of shape {shape}, sizes={sizes}, ratios={ratios}",
                  atol=1e-6, rtol=1e-5,
                  hint=_("each pixel's n + m - 1 anchors together, pixels row by row; width "
                         "s·sqrt(r)·h/w and height s/sqrt(r); centres ((j + 0.5)/w, (i + 0.5)/h)"))


@exercise("box_iou")
def test_box_iou_values(student, gen):
    a, b = boxes(gen, 7), boxes(gen, 5)
    a[3] = b[1]
    a[4] = torch.tensor([2.0, 2.0, 2.5, 2.5], dtype=F64)
    got = expect_values(student, "box_iou", ref.box_iou, a, b,
                        hint=_("intersection = clamp(min(x2) - max(x1), 0) · clamp(min(y2) - "
                               "max(y1), 0); union = area1 + area2 - intersection"))
    expect_tensor(got, torchvision.ops.box_iou(a, b), what="box_iou(boxes1, boxes2)",
                  inputs="compared with torchvision.ops.box_iou")


@exercise("box_iou")
def test_box_iou_vectorized(student, gen):
    expect_vectorized(student, "box_iou", ref.box_iou, (boxes(gen, 3), boxes(gen, 2)),
                      (boxes(gen, 40), boxes(gen, 30)),
                      hint=_("broadcast boxes1[:, None, :] against boxes2[None, :, :]"))


@exercise("box_iou")
@pytest.mark.gpu
def test_box_iou_on_cuda(student, gen):
    a, b = boxes(gen, 6, device="cuda"), boxes(gen, 4, device="cuda")
    got = expect_values(student, "box_iou", ref.box_iou, a, b)
    expect(got.device.type == "cuda", "box_iou on CUDA boxes returned a tensor on "
           f"{got.device}; keep the result on the boxes' device")


def anchors_and_truth(gen, n_gt=3):
    """Anchors of a 6×6 grid (so every ground-truth box overlaps some) and ``n_gt`` boxes."""
    anchors = ref.multibox_prior(torch.zeros(1, 1, 6, 6), [0.3, 0.15], [1, 2, 0.5])[0].double()
    anchors = anchors + 0.01 * torch.rand(anchors.shape, generator=gen, dtype=F64)
    return anchors, boxes(gen, n_gt, low=0.2, high=0.45)


@exercise("assign_anchor_to_bbox")
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_assign_anchor_to_bbox(student, gen, threshold):
    anchors, gt = anchors_and_truth(gen, 3)
    expected = ref.assign_anchor_to_bbox(gt, anchors, torch.device("cpu"), threshold)
    answer = run(student, "assign_anchor_to_bbox", gt, anchors, torch.device("cpu"), threshold,
                 swaps=["box_iou"])
    expect_equal(answer["result"], expected,
                 what=f"assign_anchor_to_bbox(ground_truth, anchors, device, {threshold})")
    expect(answer["result"].dtype == torch.long,
           f"assign_anchor_to_bbox returned dtype {answer['result'].dtype}; expected torch.long")


@exercise("assign_anchor_to_bbox")
def test_assign_anchor_greedy_step(student):
    # Anchor 0 overlaps both boxes best with box 0, but box 1 claims it in the greedy step.
    anchors = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.45, 1.0],
                            [3.0, 3.0, 4.0, 4.0]], dtype=F64)
    gt = torch.tensor([[0.0, 0.0, 1.0, 0.9], [0.0, 0.0, 0.8, 1.0]], dtype=F64)
    expected = ref.assign_anchor_to_bbox(gt, anchors, torch.device("cpu"))
    answer = run(student, "assign_anchor_to_bbox", gt, anchors, torch.device("cpu"),
                 swaps=["box_iou"])
    expect_equal(answer["result"], expected,
                 what="assign_anchor_to_bbox(ground_truth, anchors, device) where the greedy "
                      "step must override the threshold step")


@exercise("offset_boxes")
def test_offset_boxes(student, gen):
    a, b = boxes(gen, 5), boxes(gen, 5)
    compare_with_grads(student, gen, "offset_boxes", ref.offset_boxes, (a, b), [0, 1],
                       swaps=["box_corner_to_center"], inputs="float64 anchors, assigned_bb "
                       "of shape (5, 4)", hint=_("10·Δcentre/anchor size and 5·log(eps + size "
                                                 "ratio), computed on centre-size boxes"))


def target_case(gen, batch=2):
    anchors, _ = anchors_and_truth(gen)
    labels = torch.stack([torch.cat([torch.tensor([[0.0], [1.0], [2.0]], dtype=F64),
                                     boxes(gen, 3, low=0.2, high=0.45)], dim=1)
                          for _ in range(batch)])
    return anchors.float()[None], labels.float()


@exercise("multibox_target")
def test_multibox_target(student, gen):
    anchors, labels = target_case(gen)
    expected = ref.multibox_target(anchors, labels)
    answer = run(student, "multibox_target", anchors, labels,
                 swaps=["assign_anchor_to_bbox", "offset_boxes"])
    got = answer["result"]
    expect(isinstance(got, (tuple, list)) and len(got) == 3,
           "multibox_target(anchors, labels) must return (bbox_offset, bbox_mask, class_labels)")
    what = "multibox_target(anchors of shape (1, 108, 4), labels of shape (2, 3, 5))"
    names = ["bbox_offset", "bbox_mask", "class_labels"]
    for item, exp, label in zip(got, expected, names):
        expect_tensor(item, exp, what=f"{label} of {what}", atol=1e-5, rtol=1e-5,
                      hint=_("class labels are the box's class + 1 (0: background); the mask "
                             "and the offsets are flattened per example (4 entries per anchor)"))


@exercise("offset_inverse")
def test_offset_inverse(student, gen):
    a = boxes(gen, 5)
    o = torch.randn(5, 4, generator=gen, dtype=F64)
    compare_with_grads(student, gen, "offset_inverse", ref.offset_inverse, (a, o), [0, 1],
                       swaps=["box_corner_to_center", "box_center_to_corner"],
                       inputs="float64 anchors, offset_preds of shape (5, 4)",
                       hint=_("centre + offset·size/10, size·exp(offset/5), then back to corners"))


@exercise("nms")
@pytest.mark.parametrize("kind", ["distinct", "ties"])
def test_nms(student, gen, kind):
    b = boxes(gen, 30, low=0.1, high=0.4)
    s = torch.rand(30, generator=gen, dtype=F64)
    if kind == "ties":
        s = torch.floor(s * 4) / 4
    threshold = 0.3
    expected = torchvision.ops.nms(b, s, threshold)
    answer = run(student, "nms", b, s, threshold, swaps=["box_iou"])
    expect_equal(answer["result"], expected,
                 what=f"nms(boxes of shape (30, 4), scores of shape (30,){', with ties' if kind == 'ties' else ''}, {threshold})")  # noqa: E501
    expect_tensor(answer["result"], ref.nms(b, s, threshold), what="nms(...)",
                  hint=_("equal scores: the lower index first (a stable descending sort)"))


@exercise("nms")
@pytest.mark.gpu
def test_nms_on_cuda(student, gen):
    b, s = boxes(gen, 20, device="cuda"), torch.rand(20, generator=gen, dtype=F64).cuda()
    got = run(student, "nms", b, s, 0.4, swaps=["box_iou"])["result"]
    expect_equal(got.cpu(), torchvision.ops.nms(b.cpu(), s.cpu(), 0.4), what="nms on CUDA")


def detection_case(gen, batch=2, n=12, q=2):
    anchors = boxes(gen, n, low=0.15, high=0.4)[None]
    probs = torch.softmax(3 * torch.randn(batch, q + 1, n, generator=gen, dtype=F64), dim=1)
    probs[0, 1:, 0] = 0.004
    offsets = 0.5 * torch.randn(batch, 4 * n, generator=gen, dtype=F64)
    return probs, offsets, anchors


@exercise("multibox_detection")
@pytest.mark.parametrize("nms_threshold", [0.5, 0.2])
def test_multibox_detection(student, gen, nms_threshold):
    probs, offsets, anchors = detection_case(gen)
    expected = ref.multibox_detection(probs, offsets, anchors, nms_threshold)
    answer = run(student, "multibox_detection", probs, offsets, anchors, nms_threshold,
                 swaps=["offset_inverse", "nms"])
    expect_tensor(answer["result"], expected,
                  what=f"multibox_detection(cls_probs of shape {tuple(probs.shape)}, "
                       f"offset_preds of shape {tuple(offsets.shape)}, anchors of shape "
                       f"{tuple(anchors.shape)}, {nms_threshold})",
                  hint=_("rows (class_id, confidence, box): kept anchors in nms order, then "
                         "the others with class -1; below pos_threshold: class -1 and "
                         "confidence 1 - confidence"))


@exercise("multibox_detection")
@pytest.mark.gpu
def test_multibox_detection_on_cuda(student, gen):
    probs, offsets, anchors = detection_case(gen)
    expected = ref.multibox_detection(probs, offsets, anchors)
    got = run(student, "multibox_detection", probs.cuda(), offsets.cuda(), anchors.cuda(),
              swaps=["offset_inverse", "nms"])["result"]
    expect_tensor(got.cpu(), expected, what="multibox_detection on CUDA")


# --- 13.7 single-shot multibox detection ----------------------------------------------------------


def module_check(student, gen, name, args, reference, X, swaps=(), hint=""):
    """Build ``name(*args)``; compare its state-dict names and shapes, then its output on ``X``
    with the reference's (random) weights loaded, with ``reference``'s."""
    torch.manual_seed(int(torch.randint(0, 2 ** 31, (1,), generator=gen)))
    model = reference.double().eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for k, v in state.items():
        if v.is_floating_point() and "running_var" in k:
            state[k] = 0.5 + torch.rand(v.shape, generator=gen, dtype=F64)
        elif v.is_floating_point():
            state[k] = 0.3 * torch.randn(v.shape, generator=gen, dtype=F64)
    model.load_state_dict(state)
    info = run(student, name, *args, swaps=swaps, G=X, state=state,
               what=f"{name}({', '.join(map(repr, args))})")
    call = f"{name}({', '.join(map(repr, args))})"
    if not info.get("module"):
        fail(f"{call} did not return a torch.nn.Module")
    expect_equal(info["keys"], {k: list(v.shape) for k, v in state.items()},
                 what=f"the state_dict names and shapes of {call}")
    with torch.no_grad():
        expected = model(X)
    return info, expected, call


@exercise("cls_predictor")
def test_cls_predictor(student, gen):
    X = torch.randn(2, 5, 4, 3, generator=gen, dtype=F64)
    info, expected, call = module_check(student, gen, "cls_predictor", (5, 3, 2),
                                        torch.nn.Conv2d(5, 9, 3, padding=1), X)
    expect_tensor(info["result"], expected, what=f"{call} on X of shape (2, 5, 4, 3)",
                  hint=_("a 3×3 convolution with padding 1 to num_anchors·(num_classes + 1) "
                         "channels"))


@exercise("bbox_predictor")
def test_bbox_predictor(student, gen):
    X = torch.randn(2, 6, 3, 5, generator=gen, dtype=F64)
    info, expected, call = module_check(student, gen, "bbox_predictor", (6, 3),
                                        torch.nn.Conv2d(6, 12, 3, padding=1), X)
    expect_tensor(info["result"], expected, what=f"{call} on X of shape (2, 6, 3, 5)",
                  hint=_("a 3×3 convolution with padding 1 to num_anchors·4 channels"))


@exercise("flatten_pred")
def test_flatten_pred(student, gen):
    P = torch.randn(2, 3, 4, 5, generator=gen, dtype=F64)
    compare_with_grads(student, gen, "flatten_pred", ref.flatten_pred, (P,), [0],
                       inputs="pred of shape (2, 3, 4, 5)",
                       hint=_("move the channel axis last (permute(0, 2, 3, 1)) and flatten"))


@exercise("concat_preds")
def test_concat_preds(student, gen):
    preds = [torch.randn(2, c, h, w, generator=gen, dtype=F64)
             for c, h, w in [(3, 4, 5), (6, 2, 2), (2, 1, 1)]]
    expected = ref.concat_preds(preds)
    answer = run(student, "concat_preds", preds, swaps=["flatten_pred"])
    expect_tensor(answer["result"], expected,
                  what="concat_preds([(2, 3, 4, 5), (2, 6, 2, 2), (2, 2, 1, 1)] tensors)",
                  hint=_("flatten each scale, then concatenate along axis 1"))


@exercise("down_sample_blk")
def test_down_sample_blk(student, gen):
    X = torch.randn(2, 3, 6, 7, generator=gen, dtype=F64)
    info, expected, call = module_check(student, gen, "down_sample_blk", (3, 5),
                                        ref.down_sample_blk(3, 5), X)
    expect_equal(info["layers"], ["Conv2d", "BatchNorm2d", "ReLU"] * 2 + ["MaxPool2d"],
                 what=f"the layers of {call}")
    expect_tensor(info["result"], expected,
                  what=f"{call} on X of shape (2, 3, 6, 7), in evaluation mode")


@exercise("TinySSD")
def test_tiny_ssd(student, gen):
    X = torch.randn(2, 3, 64, 64, generator=gen, dtype=F64)
    info, expected, call = module_check(
        student, gen, "TinySSD", (2,), ref.TinySSD(2), X,
        swaps=["multibox_prior", "concat_preds", "flatten_pred", "down_sample_blk",
               "cls_predictor", "bbox_predictor"])
    got = info["result"]
    expect(isinstance(got, (tuple, list)) and len(got) == 3,
           f"{call}(X) must return (anchors, cls_preds, bbox_preds)")
    for item, exp, label in zip(got, expected, ["anchors", "cls_preds", "bbox_preds"]):
        expect_tensor(item, exp, what=f"{label} of {call} on X of shape (2, 3, 64, 64)",
                      atol=1e-5, rtol=1e-5, check_dtype=label != "anchors",
                      hint=_("five stages; after each: multibox_prior on its output with that "
                             "stage's sizes and ratios [1, 2, 0.5], then both predictors"))


@exercise("calc_loss")
def test_calc_loss(student, gen):
    B, n, q = 3, 7, 2
    cls_preds = torch.randn(B, n, q + 1, generator=gen, dtype=F64)
    cls_labels = torch.randint(0, q + 1, (B, n), generator=gen)
    bbox_preds = torch.randn(B, 4 * n, generator=gen, dtype=F64)
    bbox_labels = torch.randn(B, 4 * n, generator=gen, dtype=F64)
    bbox_masks = (torch.rand(B, n, 1, generator=gen) < 0.5).double().repeat(1, 1, 4)
    bbox_masks = bbox_masks.reshape(B, -1)
    compare_with_grads(student, gen, "calc_loss", ref.calc_loss,
                       (cls_preds, cls_labels, bbox_preds, bbox_labels, bbox_masks), [0, 2],
                       inputs="batch 3, 7 anchors, 2 classes",
                       hint=_("mean cross-entropy over the anchors plus the mean masked L1 over "
                              "the 4·n_a offsets, per example"))


@exercise("smooth_l1")
@pytest.mark.parametrize("sigma", [1.0, 0.5, 3.0])
def test_smooth_l1(student, gen, sigma):
    x = st.away_from(gen, 40, points=(-1 / sigma ** 2, 1 / sigma ** 2), scale=2.0)
    compare_with_grads(student, gen, "smooth_l1", ref.smooth_l1, (x, sigma), [0],
                       inputs=f"float64 data of shape (40,), scalar={sigma}",
                       hint=_("(σx)²/2 where |x| < 1/σ², else |x| - 0.5/σ²"))


@exercise("focal_loss")
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_focal_loss(student, gen, gamma):
    x = 0.05 + 0.9 * torch.rand(3, 5, generator=gen, dtype=F64)
    expected = ref.focal_loss(gamma, x)
    G = torch.randn(expected.shape, generator=gen, dtype=F64)
    answer = run(student, "focal_loss", gamma, x, wrt=[1], G=G)
    expect_tensor(answer["result"], expected, what=f"focal_loss({gamma}, x of shape (3, 5))",
                  hint=_("-(1 - x)^gamma · log(x), elementwise"))
    leaf = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(ref.focal_loss(gamma, leaf), [leaf], G)
    if answer["grads"] is None:
        fail("focal_loss is not differentiable with respect to x")
    expect_tensor(answer["grads"][0], grad, what=f"the gradient of focal_loss({gamma}, x)")


# --- 13.8 region-based CNNs: RoI pooling ----------------------------------------------------------


@exercise("roi_pool")
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_pool(student, gen, scale):
    f = torch.randn(2, 3, 9, 11, generator=gen, dtype=F64)
    rois = torch.tensor([[0, 0.0, 0.0, 4.0, 4.0], [1, 2.4, 3.6, 10.5, 8.2],
                         [0, -3.0, -2.0, 20.0, 30.0], [1, 4.0, 4.0, 4.0, 4.0],
                         [1, 5.0, 1.0, 17.0, 7.0]], dtype=F64)
    expected = torchvision.ops.roi_pool(f, rois, (2, 3), scale)
    G = torch.randn(expected.shape, generator=gen, dtype=F64)
    answer = run(student, "roi_pool", f, rois, (2, 3), scale, wrt=[0], G=G)
    what = f"roi_pool(features of shape (2, 3, 9, 11), 5 rois, (2, 3), {scale})"
    expect_tensor(answer["result"], expected, what=what,
                  hint=_("round the scaled corners, region size x2 - x1 + 1, cell i covers "
                         "floor(i·h/oh) to ceil((i+1)·h/oh); compared with "
                         "torchvision.ops.roi_pool"))
    leaf = f.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torchvision.ops.roi_pool(leaf, rois, (2, 3), scale), [leaf], G)
    if answer["grads"] is None:
        fail(f"{what} is not differentiable with respect to features")
    expect_tensor(answer["grads"][0], grad, what=f"the gradient of {what} w.r.t. features")
