"""The VOC segmentation toolbox: the book's layout written by hand, generated, and read back;
local "pretrained" weights saved and loaded."""

import torch
from PIL import Image

from course import vision


def _write_voc(folder, names, size=(4, 6)):
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    h, w = size
    for k, name in enumerate(names):
        Image.new("RGB", (w, h), (10 * k, 20, 30)).save(folder / "JPEGImages" / f"{name}.jpg")
        mask = Image.new("P", (w, h), 0)
        mask.putpalette(vision._palette())
        mask.putpixel((1, 2), 15)
        mask.putpixel((0, 0), 255)
        mask.save(folder / "SegmentationClass" / f"{name}.png")
    (folder / "ImageSets" / "Segmentation" / "train.txt").write_text("\n".join(names) + "\n")
    (folder / "ImageSets" / "Segmentation" / "val.txt").write_text(names[0] + "\n")


def test_reads_the_books_layout(tmp_path):
    folder = tmp_path / "VOCdevkit" / "VOC2012"
    _write_voc(folder, ["2007_000032", "2007_000039"])
    assert vision.voc_path(tmp_path) == folder
    features, labels = vision.read_voc_images(folder, True)
    assert len(features) == len(labels) == 2
    assert features[0].shape == labels[0].shape == (3, 4, 6)
    assert features[0].dtype == labels[0].dtype == torch.uint8
    assert labels[0][:, 2, 1].tolist() == vision.VOC_COLORMAP[15]
    assert labels[0][:, 0, 0].tolist() == vision.VOC_VOID
    assert labels[0][:, 3, 5].tolist() == [0, 0, 0]
    features, labels = vision.read_voc_images(folder, False)
    assert len(features) == 1


def test_generated_layout_and_labels(tmp_path):
    folder = vision.voc_path(tmp_path, train_count=3, val_count=2)
    assert folder == tmp_path / vision.GENERATED
    names = (folder / "ImageSets" / "Segmentation" / "train.txt").read_text().split()
    assert len(names) == 3 and all((folder / "JPEGImages" / f"{n}.jpg").is_file() for n in names)
    features, labels = vision.read_voc_images(folder, False)
    assert len(features) == 2
    palette = {tuple(c) for c in vision.VOC_COLORMAP} | {tuple(vision.VOC_VOID)}
    for feature, label in zip(features, labels):
        assert feature.shape == label.shape and feature.dtype == torch.uint8
        assert 56 <= feature.shape[1] <= 112 and 80 <= feature.shape[2] <= 144
        colours = {tuple(c) for c in label.reshape(3, -1).T.tolist()}
        assert colours <= palette
        assert len(colours - {(0, 0, 0), tuple(vision.VOC_VOID)}) >= 1
    # Generated once: a second call reuses the folder.
    stamp = (folder / "ImageSets" / "Segmentation" / "val.txt").stat().st_mtime_ns
    assert vision.voc_path(tmp_path) == folder
    assert (folder / "ImageSets" / "Segmentation" / "val.txt").stat().st_mtime_ns == stamp


def test_objects_have_their_class_colour(tmp_path):
    folder = vision.voc_path(tmp_path, train_count=4, val_count=1)
    features, labels = vision.read_voc_images(folder, True)
    for feature, label in zip(features, labels):
        for k, colour in enumerate(vision.VOC_COLORMAP[1:], start=1):
            inside = (label == torch.tensor(colour, dtype=torch.uint8)[:, None, None]).all(0)
            if inside.sum() > 20:
                mean = feature[:, inside].float().mean(dim=1) / 255
                assert torch.allclose(mean, vision._class_colour(k), atol=0.12), (k, mean)


def test_pretrained_weights_are_local(tmp_path):
    model = torch.nn.Linear(3, 2)
    assert not vision.load_pretrained(model, "tiny", tmp_path)
    path = vision.save_pretrained(model, "tiny", tmp_path)
    assert path == tmp_path / "pretrained" / "tiny.pt"
    other = torch.nn.Linear(3, 2)
    assert vision.load_pretrained(other, "tiny", tmp_path)
    assert torch.equal(other.weight, model.weight) and torch.equal(other.bias, model.bias)


def test_hotdog_layout_reads_with_image_folder(tmp_path):
    import torchvision

    folder = vision.hotdog_path(tmp_path, train_count=3, test_count=2, size=32)
    assert folder == tmp_path / vision.HOTDOG_GENERATED
    train = torchvision.datasets.ImageFolder(str(folder / "train"))
    test = torchvision.datasets.ImageFolder(str(folder / "test"))
    assert train.classes == ["hotdog", "not-hotdog"] and len(train) == 6 and len(test) == 4
    image, label = train[0]
    assert image.size == (32, 32) and label == 0
    book = tmp_path / "book"
    (book / "hotdog" / "train" / "hotdog").mkdir(parents=True)
    assert vision.hotdog_path(book) == book / "hotdog"
