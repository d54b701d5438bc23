"""Computer-vision data for ch13: the Pascal VOC 2012 segmentation layout and local weights.

The book downloads ``VOCdevkit/VOC2012`` (``JPEGImages/*.jpg``, ``SegmentationClass/*.png``:
palette PNG masks whose colours are ``VOC_COLORMAP``, and ``ImageSets/Segmentation/train.txt``
and ``val.txt``). When a user has that folder under the data root it is used; otherwise an
offline stand-in in the same layout is generated once: textured backgrounds with a few
rectangles and ellipses, each of one class whose colour in the image depends on the class, their
masks drawn with the VOC palette (and the VOC "void" colour, 224 224 192, on their outlines).
Both are read by the book's own reader, ``read_voc_images``.

For fine-tuning (13.2) the book downloads ``hotdog`` (``train/`` and ``test/``, each with the
class folders ``hotdog/`` and ``not-hotdog/`` of images), read with torchvision's
``ImageFolder``; ``hotdog_path`` likewise uses the book's folder when present, else generates
a stand-in in the same layout (sausage-like shapes in buns against other shapes).

Pretrained weights are never downloaded either: ``load_pretrained`` loads a state dict saved
locally (``<data root>/pretrained/<name>.pt``) into a model built with ``weights=None`` and
says whether it found one; ``save_pretrained`` writes one.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from course.data import data_root

VOC_CLASSES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat',
               'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
               'diningtable', 'dog', 'horse', 'motorbike', 'person',
               'potted plant', 'sheep', 'sofa', 'train', 'tv/monitor']
"""The 21 classes of Pascal VOC 2012 segmentation (class 0: background)."""

VOC_COLORMAP = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                [0, 0, 128], [128, 0, 128], [0, 128, 128], [128, 128, 128],
                [64, 0, 0], [192, 0, 0], [64, 128, 0], [192, 128, 0],
                [64, 0, 128], [192, 0, 128], [64, 128, 128], [192, 128, 128],
                [0, 64, 0], [128, 64, 0], [0, 192, 0], [128, 192, 0],
                [0, 64, 128]]
"""The RGB colour of each class in the label images (``VOC_COLORMAP[k]`` for class ``k``)."""

VOC_VOID = [224, 224, 192]
"""The colour VOC uses for object outlines and unlabelled pixels (not a class)."""

VOC = "VOCdevkit/VOC2012"
GENERATED = "voc-generated/VOC2012"
HOTDOG = "hotdog"
HOTDOG_GENERATED = "hotdog-generated"
HOTDOG_CLASSES = ("hotdog", "not-hotdog")


def _palette() -> list[int]:
    palette = [0] * (3 * 256)
    for k, colour in enumerate(VOC_COLORMAP):
        palette[3 * k: 3 * k + 3] = colour
    palette[3 * 255: 3 * 256] = VOC_VOID
    return palette


def _class_colour(k: int) -> torch.Tensor:
    """The mean RGB colour (0-1) of objects of class ``k`` in the generated images."""
    gen = torch.Generator().manual_seed(1000 + k)
    return 0.15 + 0.8 * torch.rand(3, generator=gen)


def _generate_one(gen: torch.Generator, height: int, width: int):
    """One image (3, h, w) in 0-1 and its mask (h, w) of palette indices."""
    base = torch.rand(3, 1, 1, generator=gen) * 0.5
    noise = torch.rand(3, height // 8 + 1, width // 8 + 1, generator=gen) * 0.3
    img = (base + torch.nn.functional.interpolate(noise[None], size=(height, width),
                                                  mode="bilinear")[0]).clamp(0, 1)
    mask = torch.zeros(height, width, dtype=torch.uint8)
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    for _ in range(int(torch.randint(1, 4, (1,), generator=gen))):
        k = int(torch.randint(1, len(VOC_CLASSES), (1,), generator=gen))
        h = int(torch.randint(height // 4, height // 2 + 1, (1,), generator=gen))
        w = int(torch.randint(width // 4, width // 2 + 1, (1,), generator=gen))
        y0 = int(torch.randint(0, height - h + 1, (1,), generator=gen))
        x0 = int(torch.randint(0, width - w + 1, (1,), generator=gen))
        if torch.rand(1, generator=gen) < 0.5:
            inside = (ys >= y0) & (ys < y0 + h) & (xs >= x0) & (xs < x0 + w)
        else:
            cy, cx = y0 + (h - 1) / 2, x0 + (w - 1) / 2
            inside = ((ys - cy) / (h / 2)) ** 2 + ((xs - cx) / (w / 2)) ** 2 <= 1
        shade = 0.9 + 0.2 * torch.rand(1, generator=gen)
        texture = 0.05 * torch.randn(3, height, width, generator=gen)
        img = torch.where(inside, (_class_colour(k)[:, None, None] * shade + texture).clamp(0, 1),
                          img)
        grown = torch.nn.functional.max_pool2d(inside[None, None].float(), 3, 1, 1)[0, 0] > 0
        mask[grown & ~inside] = 255
        mask[inside] = k
    return img, mask


def _generate(folder: Path, names: dict[str, int], seed: int) -> None:
    import numpy as np
    from PIL import Image

    gen = torch.Generator().manual_seed(seed)
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    palette = _palette()
    for split, count in names.items():
        fnames = []
        for k in range(count):
            fname = f"2026_{split}_{k:04d}"
            height = int(torch.randint(56, 113, (1,), generator=gen))
            width = int(torch.randint(80, 145, (1,), generator=gen))
            img, mask = _generate_one(gen, height, width)
            pixels = (img * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            Image.fromarray(pixels, "RGB").save(folder / "JPEGImages" / f"{fname}.jpg",
                                                quality=95)
            label = Image.fromarray(np.ascontiguousarray(mask.numpy()), "P")
            label.putpalette(palette)
            label.save(folder / "SegmentationClass" / f"{fname}.png")
            fnames.append(fname)
        (folder / "ImageSets" / "Segmentation" / f"{split}.txt").write_text(
            "".join(f"{fname}\n" for fname in fnames))


def voc_path(root: str | os.PathLike | None = None, train_count: int = 48,
             val_count: int = 16) -> Path:
    """The ``VOC2012`` folder: the book's data set when ``VOCdevkit/VOC2012`` is under the data
    root, else a generated one in the same layout (written on first use)."""
    where = data_root(root)
    if (where / VOC / "ImageSets" / "Segmentation" / "train.txt").is_file():
        return where / VOC
    folder = where / GENERATED
    if not (folder / "ImageSets" / "Segmentation" / "val.txt").is_file():
        _generate(folder, {"train": train_count, "val": val_count}, 0)
    return folder


def read_voc_images(voc_dir: str | os.PathLike, is_train: bool = True):
    """The book's reader: ``(features, labels)``, lists of uint8 ``(3, h, w)`` tensors, the
    images and their label images in RGB (each pixel the colour of its class)."""
    import torchvision

    txt_fname = os.path.join(voc_dir, 'ImageSets', 'Segmentation',
                             'train.txt' if is_train else 'val.txt')
    mode = torchvision.io.image.ImageReadMode.RGB
    with open(txt_fname) as f:
        images = f.read().split()
    features, labels = [], []
    for fname in images:
        features.append(torchvision.io.read_image(os.path.join(
            voc_dir, 'JPEGImages', f'{fname}.jpg')))
        labels.append(torchvision.io.read_image(os.path.join(
            voc_dir, 'SegmentationClass', f'{fname}.png'), mode))
    return features, labels


def _hotdog_image(gen: torch.Generator, is_hotdog: bool, size: int) -> torch.Tensor:
    """A ``(3, size, size)`` image in 0-1: a sausage in a bun, or another shape."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    img = (torch.rand(3, 1, 1, generator=gen) * 0.6 + 0.2).expand(3, size, size).clone()
    img += 0.08 * torch.randn(3, size, size, generator=gen)
    cy, cx = (size / 2 + (torch.rand(2, generator=gen) - 0.5) * size / 4).tolist()
    length = size * (0.3 + 0.12 * float(torch.rand(1, generator=gen)))
    angle = float(torch.rand(1, generator=gen)) * 3.1416
    c, s_ = torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))
    u = (xs - cx) * c + (ys - cy) * s_
    v = -(xs - cx) * s_ + (ys - cy) * c
    if is_hotdog:
        bun = (u / (length * 1.1)) ** 2 + (v / (size * 0.16)) ** 2 <= 1
        sausage = (u / (length * 1.3)) ** 2 + (v / (size * 0.07)) ** 2 <= 1
        img[:, bun] = torch.tensor([0.93, 0.75, 0.42])[:, None]
        img[:, sausage] = torch.tensor([0.65, 0.18, 0.1])[:, None]
    else:
        colour = torch.rand(3, 1, generator=gen)
        if torch.rand(1, generator=gen) < 0.5:
            shape = (u.abs() <= length * 0.8) & (v.abs() <= length * 0.6)
        else:
            shape = (u / length) ** 2 + (v / length) ** 2 <= 1
        img[:, shape] = colour
    return img.clamp(0, 1)


def hotdog_path(root: str | os.PathLike | None = None, train_count: int = 32,
                test_count: int = 16, size: int = 64) -> Path:
    """The ``hotdog`` folder (``train/`` and ``test/``, each with ``hotdog/`` and
    ``not-hotdog/``): the book's data set when it is under the data root, else a generated one
    in the same layout (``train_count`` and ``test_count`` PNG images per class and split)."""
    from torchvision.io import write_png

    where = data_root(root)
    if (where / HOTDOG / "train" / "hotdog").is_dir():
        return where / HOTDOG
    folder = where / HOTDOG_GENERATED
    if not (folder / "test" / HOTDOG_CLASSES[1]).is_dir():
        gen = torch.Generator().manual_seed(2)
        for split, count in (("train", train_count), ("test", test_count)):
            for label in HOTDOG_CLASSES:
                target = folder / split / label
                target.mkdir(parents=True, exist_ok=True)
                for k in range(count):
                    img = _hotdog_image(gen, label == "hotdog", size)
                    write_png((img * 255).round().to(torch.uint8), str(target / f"{k}.png"))
    return folder


def pretrained_file(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where ``load_pretrained`` looks for ``name``'s weights (``<root>/pretrained/<name>.pt``)."""
    return data_root(root) / "pretrained" / f"{name}.pt"


def load_pretrained(model: torch.nn.Module, name: str,
                    root: str | os.PathLike | None = None) -> bool:
    """Load the local state dict saved for ``name`` into ``model`` (strictly); return whether
    there was one. Nothing is downloaded: without the file the model keeps its own weights."""
    path = pretrained_file(name, root)
    if not path.is_file():
        return False
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return True


def save_pretrained(model: torch.nn.Module, name: str,
                    root: str | os.PathLike | None = None) -> Path:
    """Save ``model``'s state dict where ``load_pretrained`` finds it; return the path."""
    path = pretrained_file(name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path
