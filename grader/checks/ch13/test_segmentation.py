"""ch13 checks of semantic segmentation (13.9) and the fully convolutional network (13.11).

- ``voc_colormap2label``: the table's shape and dtype, then every nonzero entry (where and
  what), which must be exactly the 20 colours of the VOC classes 1-20.
- ``voc_label_indices``: label images of VOC colours, the outline colour and stray colours, looked
  up in a table the grader builds with its own (scrambled) class numbers, so the answer must read
  the table it is given.
- ``voc_rand_crop``: by properties and statistics, never by one draw: each crop must be a window
  of the input of the requested size, the label's window the same as the image's (the label is
  made from the image), and the windows' corners uniform over every position.
- ``fcn_net``: built on a ``torchvision.models.resnet18(weights=None)`` that the sandbox builds
  from a seed the grader knows (the grader builds the same one); state-dict names and shapes,
  the bilinear initialisation of ``transpose_conv`` and the output of the network, whose
  backbone must be the given ResNet's. ``bilinear_kernel`` is swapped for a grader version.
"""

import pytest
import torch
import torchvision

import solutions.ch13 as ref
from course.vision import VOC_COLORMAP, VOC_VOID
from grader.engine import stats
from grader.engine.compare import expect, expect_equal, expect_tensor, fail, tensor
from grader.engine.plugin import exercise
from grader.i18n import _

# --- scenarios (run in the sandbox) ---------------------------------------------------------------


def _colormap2label_run(ns):
    table = ns["voc_colormap2label"]()
    if not isinstance(table, torch.Tensor):
        return {"tensor": False}
    info = {"tensor": True, "shape": list(table.shape), "long": table.dtype == torch.long}
    if table.dim() == 1 and table.numel() == 256 ** 3:
        with trusted():  # noqa: F821
            where = torch.nonzero(table).reshape(-1)[:64]
            info["where"] = where
            info["values"] = table[where]
    return info


def _label_indices_run(ns, colormap, keys, values):
    with trusted():  # noqa: F821
        table = torch.zeros(256 ** 3, dtype=torch.long)
        table[keys] = values
    return ns["voc_label_indices"](colormap, table)


def _rand_crop_run(ns, feature, label, height, width, draws):
    crops = []
    for _draw in range(draws):
        result = ns["voc_rand_crop"](feature, label, height, width)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {"pair": False, "type": type(result).__name__}
        crops.append(list(result))
    return {"pair": True, "crops": crops}


def _fcn_run(ns, seed, num_classes, X):
    import torchvision

    def g_bilinear(c_in, c_out, k):
        f = (k + 1) // 2
        c = f - 1 if k % 2 else f - 0.5
        line = 1 - (torch.arange(k, dtype=torch.float32) - c).abs() / f
        out = torch.zeros(c_in, c_out, k, k)
        for a in range(min(c_in, c_out)):
            out[a, a] = line[:, None] * line[None, :]
        return out

    with trusted():  # noqa: F821
        torch.manual_seed(seed)
        backbone = torchvision.models.resnet18(weights=None)
    swaps = {"bilinear_kernel": g_bilinear} if "bilinear_kernel" in ns else {}
    with objects.Swap(ns, swaps):  # noqa: F821
        net = ns["fcn_net"](backbone, num_classes)
    info = {"module": isinstance(net, torch.nn.Module)}
    if not info["module"]:
        return info
    state = net.state_dict()
    info["keys"] = {k: list(v.shape) for k, v in state.items()}
    info["head"] = {k: v for k, v in state.items() if not k[:1].isdigit()}
    net.eval()
    with torch.no_grad():
        info["result"] = net(X)
    return info


# --- 13.9 the VOC formats -------------------------------------------------------------------------


def colour_key(colour):
    return (colour[0] * 256 + colour[1]) * 256 + colour[2]


@exercise("voc_colormap2label")
def test_voc_colormap2label(student):
    info = student.scenario(_colormap2label_run, what="voc_colormap2label()")
    expect(info["tensor"], "voc_colormap2label() must return a torch.Tensor")
    expect_equal(info["shape"], [256 ** 3], what="the shape of voc_colormap2label()")
    expect(info["long"], "voc_colormap2label() must return a long (int64) tensor: its entries "
           "are class indices (torch.zeros(256 ** 3, dtype=torch.long))")
    pairs = sorted((colour_key(c), k) for k, c in enumerate(VOC_COLORMAP) if k)
    got = list(zip(info["where"].tolist(), info["values"].tolist()))
    if got != pairs:
        wrong = [(key, value) for key, value in got if (key, value) not in pairs]
        missing = [(key, value) for key, value in pairs if (key, value) not in got]
        fail("voc_colormap2label() maps the wrong entries: expected class k at index "
             "(r * 256 + g) * 256 + b of VOC_COLORMAP[k] = [r, g, b] and 0 everywhere else; "
             f"{len(wrong)} nonzero entries are wrong (first: index {wrong[:1]}) and "
             f"{len(missing)} class entries are missing (first: {missing[:1]})")


def label_case(gen, h, w):
    """A label image of VOC colours (some outline and stray colours) and its class map."""
    classes = torch.randint(0, len(VOC_COLORMAP), (h, w), generator=gen)
    palette = torch.tensor(VOC_COLORMAP, dtype=torch.uint8)
    colormap = palette[classes].permute(2, 0, 1).contiguous()
    void = torch.rand(h, w, generator=gen) < 0.1
    colormap[:, void] = torch.tensor(VOC_VOID, dtype=torch.uint8)[:, None]
    stray = (torch.rand(h, w, generator=gen) < 0.1) & ~void
    odd = 2 * torch.randint(0, 128, (3, int(stray.sum())), generator=gen) + 1
    colormap[:, stray] = odd.to(torch.uint8)
    return colormap, classes, void, stray


@exercise("voc_label_indices")
@pytest.mark.parametrize("size", [(5, 7), (12, 9)])
def test_voc_label_indices(student, gen, size):
    h, w = size
    colormap, classes, void, stray = label_case(gen, h, w)
    numbers = torch.randperm(40, generator=gen)[:len(VOC_COLORMAP)] + 1
    keys = [colour_key(c) for c in VOC_COLORMAP] + [colour_key(VOC_VOID)]
    values = numbers.tolist() + [99]
    expected = numbers[classes]
    expected[void] = 99
    expected[stray] = 0
    got = student.scenario(_label_indices_run, colormap, torch.tensor(keys),
                           torch.tensor(values),
                           what=f"voc_label_indices(colormap of shape (3, {h}, {w}), "
                                "colormap2label)")
    expect_tensor(got, expected,
                  what=f"voc_label_indices(colormap, colormap2label) on a uint8 label image "
                       f"of shape (3, {h}, {w})",
                  inputs="a colormap2label table whose class numbers the grader chose (the "
                         "class of each colour is whatever the table says)",
                  hint=_("index = (r * 256 + g) * 256 + b computed in int32 or int64 (not "
                         "uint8), then colormap2label[index]; the result has shape (h, w)"))


# --- 13.9 random cropping -------------------------------------------------------------------------

CROP_DRAWS = 240


def crop_inputs(gen, H, W):
    """An image whose pixels tell their position and a uint8 label image made from it."""
    rows = torch.arange(H, dtype=torch.float32)[:, None].expand(H, W)
    cols = torch.arange(W, dtype=torch.float32)[None, :].expand(H, W)
    feature = torch.stack([rows, cols, torch.rand(H, W, generator=gen)])
    label = torch.stack([rows * W + cols, 255 - rows, 7 * cols]).to(torch.uint8)
    return feature, label


@exercise("voc_rand_crop")
@pytest.mark.parametrize("sizes", [(5, 7, 3, 4), (6, 4, 2, 4)])
def test_voc_rand_crop(student, gen, sizes):
    H, W, h, w = sizes
    feature, label = crop_inputs(gen, H, W)
    call = f"voc_rand_crop(feature of shape (3, {H}, {W}), label, {h}, {w})"
    info = student.scenario(_rand_crop_run, feature, label, h, w, CROP_DRAWS, what=call)
    expect(info["pair"], f"{call} must return (feature, label), a pair of tensors")
    counts = torch.zeros(H - h + 1, W - w + 1, dtype=torch.long)
    for f, lab in info["crops"]:
        f = tensor(f, f"the feature crop of {call}")
        if f.shape != (3, h, w):
            fail(f"{call} returned a feature crop of shape {tuple(f.shape)}; expected "
                 f"(3, {h}, {w}): height {h} (rows), width {w} (columns)")
        i, j = int(f[0, 0, 0]), int(f[1, 0, 0])
        if not (0 <= i <= H - h and 0 <= j <= W - w):
            fail(f"{call} returned a feature crop that is no window of the image")
        expect_tensor(f, feature[:, i:i + h, j:j + w], what=f"the feature crop of {call}",
                      hint=_("the crop must be feature[:, i:i + height, j:j + width] for one "
                             "corner (i, j)"))
        expect_tensor(lab, label[:, i:i + h, j:j + w],
                      what=f"the label crop of {call} (the feature crop's corner was "
                           f"({i}, {j}))",
                      hint=_("crop the label at the same corner as the image, so each pixel "
                             "keeps its label"))
        counts[i, j] += 1
    stats.expect_frequencies(counts.reshape(-1), [1.0] * counts.numel(),
                             what=f"the corner (i, j) of {CROP_DRAWS} crops by {call}, "
                                  "outcome i * (W - width + 1) + j",
                             alpha=stats.split(stats.FALSE_FAILURE, 2),
                             hint=_("draw i uniformly from 0 to H - height and j from 0 to "
                                    "W - width, both included "
                                    "(torchvision.transforms.RandomCrop.get_params)"))


# --- 13.11 the fully convolutional network --------------------------------------------------------

FCN_KEYS_HEAD = ("final_conv.weight", "final_conv.bias", "transpose_conv.weight",
                 "transpose_conv.bias")


@exercise("fcn_net")
def test_fcn_net(student, gen):
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
    num_classes = 3
    X = torch.randn(1, 3, 64, 96, generator=gen)
    info = student.scenario(_fcn_run, seed, num_classes, X,
                            what="fcn_net(resnet18(weights=None), 3)")
    call = "fcn_net(pretrained_net, 3) with pretrained_net = torchvision.models.resnet18()"
    expect(info["module"], f"{call} must return a torch.nn.Module")
    torch.manual_seed(seed)
    backbone = torchvision.models.resnet18(weights=None)
    reference = ref.fcn_net(backbone, num_classes)
    expected_keys = {k: list(v.shape) for k, v in reference.state_dict().items()}
    expect_equal(info["keys"], expected_keys, what=f"the state_dict names and shapes of {call}")
    head = info["head"]
    expect_tensor(head["transpose_conv.weight"], ref.bilinear_kernel(3, 3, 64),
                  what=f"the weight of transpose_conv in {call}",
                  hint=_("copy bilinear_kernel(num_classes, num_classes, 64) into it"))
    state = reference.state_dict()
    state.update({k: head[k] for k in FCN_KEYS_HEAD})
    reference.load_state_dict(state)
    reference.eval()
    with torch.no_grad():
        expected = reference(X)
    got = info["result"]
    if isinstance(got, torch.Tensor) and got.shape != expected.shape:
        fail(f"{call} turned an input of shape (1, 3, 64, 96) into {tuple(got.shape)}; expected "
             f"{tuple(expected.shape)}: drop ResNet's last two layers (global pooling and fc) "
             "and use ConvTranspose2d(num_classes, num_classes, kernel_size=64, padding=16, "
             "stride=32)")
    expect_tensor(got, expected, what=f"{call} in evaluation mode on X of shape (1, 3, 64, 96)",
                  atol=1e-4, rtol=1e-4,
                  hint=_("keep the given ResNet's layers (and weights) in order, then final_conv "
                         "and transpose_conv"))
