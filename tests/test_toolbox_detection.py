"""The banana-detection toolbox: the book's layout written, generated and read back."""

import csv

import torch
from torchvision.io import write_png

from course import detection


def test_reads_the_books_layout(tmp_path):
    split = tmp_path / "banana-detection" / "bananas_train"
    (split / "images").mkdir(parents=True)
    (tmp_path / "banana-detection" / "bananas_val" / "images").mkdir(parents=True)
    write_png(torch.zeros(3, 256, 256, dtype=torch.uint8), str(split / "images" / "0.png"))
    with open(split / "label.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["img_name", "label", "xmin", "ymin", "xmax", "ymax"])
        writer.writerow(["0.png", 0, 64, 32, 128, 96])
    folder = detection.bananas_path(tmp_path)
    assert folder == tmp_path / "banana-detection"
    images, targets = detection.read_data_bananas(True, folder)
    assert images[0].shape == (3, 256, 256)
    assert torch.allclose(targets, torch.tensor([[[0.0, 0.25, 0.125, 0.5, 0.375]]]))


def test_generated_boxes_are_exact(tmp_path):
    folder = detection.bananas_path(tmp_path, train_count=3, val_count=2)
    images, targets = detection.read_data_bananas(False, folder)
    assert len(images) == 2 and targets.shape == (2, 1, 5)
    for img, target in zip(images, targets):
        x1, y1, x2, y2 = (target[0, 1:] * 256).round().long().tolist()
        yellow = (img[0] > 230) & (img[1] > 200) & (img[2] < 60)
        ys, xs = torch.nonzero(yellow, as_tuple=True)
        assert (xs.min(), ys.min(), xs.max(), ys.max()) == (x1, y1, x2, y2)
    train_iter, _ = detection.load_data_bananas(2, folder)
    X, Y = next(iter(train_iter))
    assert X.shape == (2, 3, 256, 256) and X.dtype == torch.float32 and Y.shape == (2, 1, 5)
