"""Fast tests of the student toolbox (``course``): data, plotting, utilities, training, gating."""

import os
import struct
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="mplconfig-"))

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import course  # noqa: E402
from course import data as cdata  # noqa: E402
from course.gating import ToolboxLocked  # noqa: E402


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    monkeypatch.delenv("D2L_COURSE_GRADING", raising=False)
    monkeypatch.delenv("D2L_COURSE_DATA", raising=False)


def _write_idx(path, values):
    values = values.to(torch.uint8)
    if values.dim() == 3:
        header = struct.pack(">IIII", 2051, *values.shape)
    else:
        header = struct.pack(">II", 2049, len(values))
    path.write_bytes(header + values.numpy().tobytes())


def _fake_fashion_mnist(root, n_train=6, n_test=4):
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    sets = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=gen, dtype=torch.uint8)
        _write_idx(raw / f"{split}-images-idx3-ubyte", images)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
        sets[split] = (images, labels)
    return sets


# --- data ----------------------------------------------------------------------------------------


def test_fashion_mnist_from_idx_files(tmp_path, capsys):
    sets = _fake_fashion_mnist(tmp_path)
    assert cdata.fashion_mnist_available(tmp_path)
    train_iter, test_iter = course.load_data_fashion_mnist(4, root=tmp_path)
    assert course.load_data_fashion_mnist.last_source == "fashion-mnist"
    assert train_iter.source == test_iter.source == "fashion-mnist"
    assert "Fashion-MNIST" in capsys.readouterr().out
    X, y = next(iter(test_iter))  # the test loader keeps the file order
    assert X.shape == (4, 1, 28, 28) and X.dtype == torch.float32
    assert y.dtype == torch.int64
    images, labels = sets["t10k"]
    torch.testing.assert_close(X[:, 0], images.float() / 255)
    assert torch.equal(y, labels.long())
    assert sum(len(b[1]) for b in train_iter) == 6


def test_fashion_mnist_resize_and_env_root(tmp_path, monkeypatch):
    _fake_fashion_mnist(tmp_path)
    monkeypatch.setenv("D2L_COURSE_DATA", str(tmp_path))
    train_iter, _ = course.load_data_fashion_mnist(3, resize=32, verbose=False)
    assert course.load_data_fashion_mnist.last_source == "fashion-mnist"
    X, _ = next(iter(train_iter))
    assert X.shape == (3, 1, 32, 32)


def test_digits_fallback(tmp_path, capsys):
    train_iter, test_iter = course.load_data_fashion_mnist(256, root=tmp_path)
    assert course.load_data_fashion_mnist.last_source == "digits"
    assert train_iter.source == "digits"
    assert "digits" in capsys.readouterr().out
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.dtype == torch.int64
    assert float(X.min()) >= 0.0 and float(X.max()) <= 1.0
    labels = torch.cat([b[1] for b in train_iter])
    assert len(labels) == 1437 and set(labels.tolist()) == set(range(10))
    test_labels = torch.cat([b[1] for b in test_iter])
    assert len(test_labels) == 360
    _, again = course.load_data_fashion_mnist(360, root=tmp_path, verbose=False)
    assert torch.equal(next(iter(again))[1], test_labels)  # a fixed split, unshuffled test set


def test_digits_images_small():
    images, labels = course.digits_images(size=8)
    assert images.shape == (1797, 1, 8, 8) and labels.shape == (1797,)
    assert float(images.max()) == 1.0


def test_load_array():
    X = torch.arange(10.0).reshape(10, 1)
    y = torch.arange(10)
    batches = list(course.load_array((X, y), 4, is_train=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([b[1] for b in batches]), y)
    torch.manual_seed(0)
    shuffled = torch.cat([b[1] for b in course.load_array((X, y), 4)])
    assert sorted(shuffled.tolist()) == list(range(10))


def test_fashion_mnist_labels_and_small_generators(tmp_path):
    assert course.get_fashion_mnist_labels(torch.tensor([0, 9])) == ["t-shirt", "ankle boot"]
    path = course.house_tiny_csv(tmp_path / "data" / "house_tiny.csv")
    assert path.read_text().splitlines()[0] == "NumRooms,Alley,Price"
    X, y = course.synthetic_regression([2.0, -3.4], 4.2, 100, seed=1)
    assert X.shape == (100, 2) and y.shape == (100, 1)
    X2, _ = course.synthetic_regression([2.0, -3.4], 4.2, 100, seed=1)
    assert torch.equal(X, X2)
    assert (y[:, 0] - X @ torch.tensor([2.0, -3.4]) - 4.2).abs().max() < 0.1


# --- utilities and plotting ----------------------------------------------------------------------


def test_timer_and_accumulator():
    timer = course.Timer()
    for _ in range(3):
        timer.start()
        timer.stop()
    assert len(timer.times) == 3
    assert timer.sum() == pytest.approx(sum(timer.times))
    assert timer.avg() == pytest.approx(timer.sum() / 3)
    assert timer.cumsum()[-1] == pytest.approx(timer.sum())
    acc = course.Accumulator(2)
    acc.add(1, torch.tensor(2.5))
    acc.add(3.0, 0.5)
    assert acc[0] == 4.0 and acc[1] == 3.0 and len(acc) == 2
    acc.reset()
    assert acc[0] == 0.0
    with pytest.raises(ValueError):
        acc.add(1)


def test_devices():
    assert isinstance(course.try_gpu(), torch.device)
    assert course.try_gpu(10_000).type == "cpu"
    assert all(isinstance(d, torch.device) for d in course.try_all_gpus())


def test_animator_headless(tmp_path):
    animator = course.Animator(xlabel="epoch", xlim=[1, 3], legend=["a", "b"])
    assert animator.display is False
    for epoch in range(1, 4):
        animator.add(epoch, (1.0 / epoch, None if epoch == 2 else 0.5))
    assert animator.X[0] == [1.0, 2.0, 3.0] and animator.X[1] == [1.0, 3.0]
    out = tmp_path / "curve.png"
    animator.save(out)
    assert out.stat().st_size > 0
    animator.close()


def test_plot_headless():
    import matplotlib.pyplot as plt

    course.set_figsize((2, 2))
    axes = course.plot(torch.arange(5.0), [torch.arange(5.0), torch.arange(5.0) ** 2],
                       xlabel="x", legend=["x", "x^2"])
    assert len(axes.lines) == 2
    course.show_images(torch.rand(2, 4, 4), 1, 2, titles=["a", "b"])
    plt.close("all")


# --- training functions and gating --------------------------------------------------------------


def _toy_problem():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(30, 4, generator=gen)
    y = (X[:, 0] > 0).long()
    batches = [(X[i:i + 8], y[i:i + 8]) for i in range(0, 30, 8)]
    net = nn.Sequential(nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.randn(2, 4, generator=gen) * 0.1)
        net[0].bias.zero_()
    return net, batches


@pytest.mark.parametrize("kind", ["optimizer", "function"])
def test_train_epoch_matches_reference(kind):
    import copy

    import solutions.ch03 as ref

    net, batches = _toy_problem()
    ref_net = copy.deepcopy(net)
    loss = nn.CrossEntropyLoss(reduction="none")

    def updater_for(model, sgd):
        if kind == "optimizer":
            return torch.optim.SGD(model.parameters(), lr=0.3)
        params = list(model.parameters())
        return lambda n: sgd(params, 0.3, n)

    got = course.train_epoch_ch3(net, batches, loss, updater_for(net, course.sgd))
    expected = ref.train_epoch_ch3(ref_net, batches, loss, updater_for(ref_net, ref.sgd))
    assert got == pytest.approx(expected, rel=1e-5)
    for a, b in zip(net.parameters(), ref_net.parameters()):
        torch.testing.assert_close(a, b)
    assert course.evaluate_accuracy(net, batches) == pytest.approx(
        ref.evaluate_accuracy(ref_net, batches))
    y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert course.accuracy(y_hat, torch.tensor([1, 1])) == 1.0


def test_train_ch3_runs_with_animation():
    net, batches = _toy_problem()
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    train_loss, train_acc, test_acc = course.train_ch3(net, batches, batches, loss, 3, trainer)
    assert 0.0 <= train_acc <= 1.0 and 0.0 <= test_acc <= 1.0 and train_loss > 0


@pytest.mark.parametrize("chapter", ["ch02", "ch03"])
def test_training_toolbox_locked_while_its_chapter_is_graded(monkeypatch, chapter):
    monkeypatch.setenv("D2L_COURSE_GRADING", chapter)
    net, batches = _toy_problem()
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    with pytest.raises(ToolboxLocked):
        course.train_ch3(net, batches, batches, loss, 1, trainer, animate=False)
    for fn, args in ((course.sgd, ([], 0.1, 1)), (course.accuracy, (torch.ones(2), torch.ones(2))),
                     (course.synthetic_regression, ([1.0], 0.0, 3))):
        with pytest.raises(ToolboxLocked):
            fn(*args)
    acc = course.Accumulator(1)  # utilities are never locked
    acc.add(1)


def test_training_toolbox_available_to_later_chapters(monkeypatch):
    monkeypatch.setenv("D2L_COURSE_GRADING", "ch04")
    net, batches = _toy_problem()
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    result = course.train_ch3(net, batches, batches, loss, 2, trainer, animate=False)
    assert len(result) == 3
    assert course.train_ch3.exercise_of == "ch03"
