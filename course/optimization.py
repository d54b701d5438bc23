"""Toolbox for chapter 11 (optimization algorithms): the airfoil data in the book's format,
the book's training loops for the ``(params, states, hyperparams)`` optimizers and for
``torch.optim``, and 2-D trajectory plots. Nothing here is an exercise."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from course.data import data_root, load_array
from course.plot import _plt, plot
from course.utils import Timer

BOOK_FILE = "airfoil_self_noise.dat"
GENERATED_FILE = "airfoil/generated_airfoil.dat"


def airfoil_rows(n: int = 1503, seed: int = 0) -> torch.Tensor:
    """Generated stand-in for the NASA airfoil data: ``n`` rows of five features (frequency,
    angle, chord length, velocity, thickness) and a noisy sound level that depends on them
    nearly linearly, in the original's ranges."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 5, generator=gen, dtype=torch.float64)
    freq = 200.0 * torch.pow(100.0, u[:, 0])
    angle = 22.2 * u[:, 1]
    chord = 0.0254 + (0.3048 - 0.0254) * u[:, 2]
    velocity = torch.tensor([31.7, 39.6, 55.5, 71.3], dtype=torch.float64)[
        torch.randint(0, 4, (n,), generator=gen)]
    thickness = 0.0004 + 0.058 * u[:, 4] * (0.2 + angle / 22.2)
    noise = torch.randn(n, generator=gen, dtype=torch.float64)
    level = (132.8 - 4.0 * torch.log10(freq) - 0.4 * angle - 35.0 * chord + 0.08 * velocity
             - 150.0 * thickness + 5.0 * noise)
    return torch.stack([freq, angle, chord, velocity, thickness, level], dim=1)


def airfoil_path(root: str | os.PathLike | None = None) -> Path:
    """The airfoil data file: ``root/airfoil_self_noise.dat`` (the book's) when it exists, else
    a generated file in the same tab-separated format, written on first use."""
    where = data_root(root)
    if (where / BOOK_FILE).is_file():
        return where / BOOK_FILE
    path = where / GENERATED_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text("".join("\t".join(f"{v:.6g}" for v in row) + "\n"
                                   for row in airfoil_rows().tolist()), encoding="utf-8")
        partial.replace(path)
    return path


def read_airfoil(path: str | os.PathLike | None = None) -> torch.Tensor:
    """The rows of a whitespace-separated numeric file as a float32 tensor."""
    text = Path(path if path is not None else airfoil_path()).read_text(encoding="utf-8")
    return torch.tensor([[float(v) for v in line.split()] for line in text.splitlines()
                         if line.strip()], dtype=torch.float32)


def get_data_ch11(batch_size: int = 10, n: int = 1500, path: str | os.PathLike | None = None):
    """The book's ``get_data_ch11``: standardise every column (population standard deviation,
    as numpy's), keep the first ``n`` rows; return ``(data_iter, feature_dim)``."""
    data = read_airfoil(path)
    data = (data - data.mean(dim=0)) / data.std(dim=0, unbiased=False)
    data_iter = load_array((data[:n, :-1], data[:n, -1]), batch_size, is_train=True)
    return data_iter, data.shape[1] - 1


def _evaluate_loss(net, data_iter, loss) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            out = net(X)
            total += float(loss(out, y.reshape(out.shape)).sum())
            count += y.numel()
    return total / count


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2,
               show=True):
    """The book's ``train_ch11``: a linear model trained with ``trainer_fn(params, states,
    hyperparams)`` on the squared loss; the loss on the whole data every 200 examples. Prints
    the last loss and seconds per epoch; returns ``(cumulative times, losses)``."""
    w = torch.normal(mean=0.0, std=0.01, size=(feature_dim, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)

    def net(X):
        return torch.matmul(X, w) + b

    def loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    xs, losses, n, timer = [], [], 0, Timer()
    for _ in range(num_epochs):
        for X, y in data_iter:
            loss(net(X), y).mean().backward()
            trainer_fn([w, b], states, hyperparams)
            n += X.shape[0]
            if n % 200 == 0:
                timer.stop()
                xs.append(n / X.shape[0] / len(data_iter))
                losses.append(_evaluate_loss(net, data_iter, loss))
                timer.start()
    print(f"loss: {losses[-1]:.3f}, {timer.avg():.3f} sec/epoch")
    if show:
        plot(xs, losses, xlabel="epoch", ylabel="loss", xlim=[0, num_epochs])
    return timer.cumsum(), losses


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=4, show=True):
    """The book's ``train_concise_ch11``: the same model as ``nn.Linear(5, 1)`` trained with
    ``trainer_fn(net.parameters(), **hyperparams)`` (a ``torch.optim`` class); returns
    ``(cumulative times, losses)`` with the loss halved as in ``train_ch11``."""
    net = nn.Sequential(nn.Linear(5, 1))

    def init_weights(m):
        if type(m) is nn.Linear:
            torch.nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    loss = nn.MSELoss(reduction="none")
    xs, losses, n, timer = [], [], 0, Timer()
    for _ in range(num_epochs):
        for X, y in data_iter:
            optimizer.zero_grad()
            out = net(X)
            loss(out, y.reshape(out.shape)).mean().backward()
            optimizer.step()
            n += X.shape[0]
            if n % 200 == 0:
                timer.stop()
                xs.append(n / X.shape[0] / len(data_iter))
                losses.append(_evaluate_loss(net, data_iter, loss) / 2)
                timer.start()
    print(f"loss: {losses[-1]:.3f}, {timer.avg():.3f} sec/epoch")
    if show:
        plot(xs, losses, xlabel="epoch", ylabel="loss", xlim=[0, num_epochs])
    return timer.cumsum(), losses


def show_trace_2d(f, results, ax=None):
    """The book's ``show_trace_2d``: the trajectory ``results`` (a list of ``(x1, x2)``) over the
    contour lines of ``f(x1, x2)``."""
    plt = _plt()
    ax = ax if ax is not None else plt.figure(figsize=(3.5, 2.5)).gca()
    x1s, x2s = zip(*[(float(a), float(b)) for a, b in results])
    ax.plot(x1s, x2s, "-o", color="#ff7f0e")
    g1, g2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.1), torch.arange(-3.0, 1.0, 0.1),
                            indexing="ij")
    ax.contour(g1.numpy(), g2.numpy(), f(g1, g2).numpy(), colors="#1f77b4")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax
