"""Object detection data for ch13: the book's banana-detection data set and ``show_bboxes``.

The book downloads ``banana-detection`` (``bananas_train/`` and ``bananas_val/``, each with
``images/*.png`` and ``label.csv`` rows ``img_name,label,xmin,ymin,xmax,ymax`` in pixels of
256×256 images). When a user has that folder under the data root it is used; otherwise an
offline stand-in in the same layout is generated once: one yellow, banana-like ellipse per image,
drawn on a textured background, with its exact bounding box. Both are read by the same loader.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch

from course.data import data_root

BANANAS = "banana-detection"
GENERATED = "banana-detection-generated"
SIZE = 256


def _generate(folder: Path, is_train: bool, count: int, seed: int) -> None:
    from torchvision.io import write_png

    gen = torch.Generator().manual_seed(seed)
    split = folder / ("bananas_train" if is_train else "bananas_val")
    (split / "images").mkdir(parents=True, exist_ok=True)
    ys, xs = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    rows = []
    for k in range(count):
        base = torch.rand(3, 1, 1, generator=gen) * 0.6
        noise = torch.rand(3, SIZE // 16, SIZE // 16, generator=gen) * 0.3
        img = (base + torch.nn.functional.interpolate(noise[None], size=(SIZE, SIZE),
                                                      mode="bilinear")[0]).clamp(0, 1)
        w, h = (torch.randint(30, 90, (2,), generator=gen)).tolist()
        x0 = int(torch.randint(0, SIZE - w, (1,), generator=gen))
        y0 = int(torch.randint(0, SIZE - h, (1,), generator=gen))
        cx, cy = x0 + (w - 1) / 2, y0 + (h - 1) / 2
        inside = ((xs - cx) / (w / 2)) ** 2 + ((ys - cy) / (h / 2)) ** 2 <= 1
        colour = torch.tensor([0.95, 0.85, 0.15])[:, None]
        img[:, inside] = colour
        found_y, found_x = torch.nonzero(inside, as_tuple=True)
        box = [int(found_x.min()), int(found_y.min()), int(found_x.max()), int(found_y.max())]
        name = f"{k}.png"
        write_png((img * 255).to(torch.uint8), str(split / "images" / name))
        rows.append([name, 0, *box])
    with open(split / "label.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["img_name", "label", "xmin", "ymin", "xmax", "ymax"])
        writer.writerows(rows)


def bananas_path(root: str | os.PathLike | None = None, train_count: int = 64,
                 val_count: int = 8) -> Path:
    """The folder holding ``bananas_train`` and ``bananas_val``: the book's data set when it is
    under the data root, else a generated one in the same layout (written on first use)."""
    where = data_root(root)
    if (where / BANANAS / "bananas_train" / "label.csv").is_file():
        return where / BANANAS
    folder = where / GENERATED
    if not (folder / "bananas_val" / "label.csv").is_file():
        _generate(folder, True, train_count, 0)
        _generate(folder, False, val_count, 1)
    return folder


def read_data_bananas(is_train: bool = True, path: str | os.PathLike | None = None):
    """The book's reader: ``(images, targets)``, uint8 images ``(n, 3, 256, 256)`` and targets
    ``(n, 1, 5)`` rows ``(label, xmin, ymin, xmax, ymax)`` divided by 256."""
    from torchvision.io import read_image

    folder = Path(path) if path is not None else bananas_path()
    split = folder / ("bananas_train" if is_train else "bananas_val")
    images, targets = [], []
    with open(split / "label.csv", newline="") as f:
        for row in csv.DictReader(f):
            images.append(read_image(str(split / "images" / row["img_name"]))[:3])
            targets.append([float(row[k]) for k in
                            ("label", "xmin", "ymin", "xmax", "ymax")])
    return images, torch.tensor(targets).unsqueeze(1) / SIZE


class BananasDataset(torch.utils.data.Dataset):
    """The book's data set of banana images and their boxes."""

    def __init__(self, is_train: bool, path: str | os.PathLike | None = None):
        self.features, self.labels = read_data_bananas(is_train, path)

    def __getitem__(self, idx):
        return self.features[idx].float(), self.labels[idx]

    def __len__(self) -> int:
        return len(self.features)


def load_data_bananas(batch_size: int, path: str | os.PathLike | None = None):
    """``(train_iter, val_iter)`` over the banana data set (training shuffled)."""
    train_iter = torch.utils.data.DataLoader(BananasDataset(True, path), batch_size,
                                             shuffle=True)
    val_iter = torch.utils.data.DataLoader(BananasDataset(False, path), batch_size)
    return train_iter, val_iter


def bbox_to_rect(bbox, color):
    """A matplotlib rectangle for a corner box ``(x1, y1, x2, y2)``."""
    import matplotlib.pyplot as plt

    return plt.Rectangle(xy=(bbox[0], bbox[1]), width=bbox[2] - bbox[0],
                         height=bbox[3] - bbox[1], fill=False, edgecolor=color, linewidth=2)


def show_bboxes(axes, bboxes, labels=None, colors=None) -> None:
    """The book's ``show_bboxes``: draw corner boxes (pixels) with optional labels."""

    def _make_list(obj, default_values=None):
        if obj is None:
            obj = default_values
        elif not isinstance(obj, (list, tuple)):
            obj = [obj]
        return obj

    labels = _make_list(labels)
    colors = _make_list(colors, ['b', 'g', 'r', 'm', 'c'])
    for i, bbox in enumerate(bboxes):
        color = colors[i % len(colors)]
        rect = bbox_to_rect([float(v) for v in bbox], color)
        axes.add_patch(rect)
        if labels and len(labels) > i:
            text_color = 'k' if color == 'w' else 'w'
            axes.text(rect.xy[0], rect.xy[1], labels[i], va='center', ha='center',
                      fontsize=9, color=text_color, bbox=dict(facecolor=color, lw=0))
