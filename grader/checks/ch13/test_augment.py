"""ch13 checks of image augmentation (13.1-13.2): the training and test pipelines.

Judged on generated uint8 images by properties and statistics, never by the pixels of one random
draw. ``make_train_augs``: every output's shape, dtype and label; a constant image must come out
as the normalised constant whatever the crop; an image whose red channel grows from left to right
and green from top to bottom tells each crop's orientation and extent, so over many draws the
horizontal flips must be Binomial(n, 0.5), vertical flips must never happen, and the crops must
vary in size (some smaller than 40% of the image, some larger than 70%: a correct pipeline
misses either with probability below 1e-10). ``make_test_augs`` is deterministic: compared with
the specification on images of several sizes (tolerance one uint8 step, so resizing before or
after the conversion to float both pass).
"""

import pytest
import torch

import solutions.ch13 as ref
from grader.engine import stats
from grader.engine.compare import expect, expect_tensor, fail, tensor
from grader.engine.plugin import exercise
from grader.i18n import _

MEAN = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
STD = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
DRAWS = 160


# --- scenario (run in the sandbox) ----------------------------------------------------------------


def _augs_run(ns, name, args, images, labels, draws):
    augs = ns[name](*args)
    out = []
    for k in range(draws):
        result = augs(images[k % len(images)], labels[k % len(labels)])
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {"pair": False, "type": type(result).__name__}
        image, label = result
        if isinstance(image, torch.Tensor):
            with trusted():  # noqa: F821
                image = image.as_subclass(torch.Tensor).clone()
        out.append([image, label])
    return {"pair": True, "out": out}


# --- checks ---------------------------------------------------------------------------------------


def coordinate_image(size):
    """Red grows with the column, green with the row, blue constant (uint8, (3, size, size))."""
    ramp = torch.arange(size) * (250 // (size - 1))
    red = ramp[None, :].expand(size, size)
    green = ramp[:, None].expand(size, size)
    return torch.stack([red, green, torch.full((size, size), 128)]).to(torch.uint8)


def outputs(student, name, args, images, labels, draws, what):
    info = student.scenario(_augs_run, name, list(args), images, labels, draws, what=what)
    expect(info["pair"], f"{what}(image, label) returned {info.get('type')}; expected the pair "
                         "(image, label) (v2 transforms accept and return both)")
    return info["out"]


@exercise("make_train_augs")
def test_make_train_augs(student, gen):
    size, source = 16, 48
    coords = coordinate_image(source)
    colour = torch.randint(0, 256, (3, 1, 1), generator=gen, dtype=torch.uint8)
    constant = colour.expand(3, 40, 56).contiguous()
    labels = [int(torch.randint(0, 10, (1,), generator=gen)), 7]
    what = f"make_train_augs({size})"
    out = outputs(student, "make_train_augs", (size,), [coords, constant], labels, DRAWS, what)
    flipped, small, large = 0, 0, 0
    scale = 250 // (source - 1)
    for k, (image, label) in enumerate(out):
        image = tensor(image, f"the image {what} returned")
        if image.shape != (3, size, size) or image.dtype != torch.float32:
            fail(f"{what} returned an image of shape {tuple(image.shape)} and dtype "
                 f"{image.dtype}; expected (3, {size}, {size}) and torch.float32")
        if label != labels[k % 2]:
            fail(f"{what} changed the label {labels[k % 2]} into {label!r}; pass it through")
        pixels = image * STD + MEAN
        if k % 2:
            expected = (colour.float() / 255 - MEAN) / STD
            expect_tensor(image, expected.expand(3, size, size),
                          what=f"{what} on a constant image of colour {colour.flatten().tolist()}",
                          atol=1e-4, rtol=1e-4,
                          hint=_("convert with v2.ToDtype(torch.float32, scale=True), then "
                                 "v2.Normalize with ImageNet's means and standard deviations"))
            continue
        if pixels.min() < -1e-3 or pixels.max() > 1 + 1e-3:
            fail(f"{what} returned values that are no normalised pixels: once un-normalised "
                 f"(x * std + mean) they range from {float(pixels.min()):.3g} to "
                 f"{float(pixels.max()):.3g}, not within 0-1")
        red, green = pixels[0] * 255 / scale, pixels[1] * 255 / scale
        if green[0].mean() > green[-1].mean():
            fail(f"{what} flipped an image upside down; only horizontal flips are part of it")
        across = float(red[:, -1].mean() - red[:, 0].mean())
        down = float(green[-1].mean() - green[0].mean())
        flipped += across < 0
        area = abs(across) * down / (source - 1) ** 2
        small += area < 0.4
        large += area > 0.7
    n = (DRAWS + 1) // 2
    stats.expect_count(flipped, n, 0.5, what=f"{what} on {n} images",
                       event=_("flipped the image horizontally"),
                       hint=_("v2.RandomHorizontalFlip() flips with probability 0.5"))
    if not small or not large:
        fail(f"{what} cropped {small} of {n} images to less than 40% of their area and {large} "
             "to more than 70%: the crops should vary from 8% to 100% of the area "
             "(v2.RandomResizedCrop(size))")


TEST_IMAGES = [(40, 50), (33, 27), (24, 24)]


@exercise("make_test_augs")
@pytest.mark.parametrize("sizes", [(20, 16), (12, 12)])
def test_make_test_augs(student, gen, sizes):
    resize, size = sizes
    images = [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
              for h, w in TEST_IMAGES]
    labels = [int(k) for k in torch.randint(0, 10, (len(images),), generator=gen)]
    what = f"make_test_augs({resize}, {size})"
    out = outputs(student, "make_test_augs", (resize, size), images, labels,
                  2 * len(images), what)
    augs = ref.make_test_augs(resize, size)
    for k, (image, label) in enumerate(out):
        shape = TEST_IMAGES[k % len(images)]
        expected, _label = augs(images[k % len(images)], labels[k % len(images)])
        expect_tensor(image, expected.as_subclass(torch.Tensor),
                      what=f"{what} on a uint8 image of shape (3, {shape[0]}, {shape[1]})",
                      atol=0.03, rtol=0.0,
                      hint=_("v2.Resize([resize, resize]) (both sides), v2.CenterCrop(size), "
                             "v2.ToDtype(torch.float32, scale=True), v2.Normalize with "
                             "ImageNet's means and standard deviations"))
        if label != labels[k % len(images)]:
            fail(f"{what} changed the label {labels[k % len(images)]} into {label!r}")
