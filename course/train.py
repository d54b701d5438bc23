"""Training loops of chapters 3 and 6, written with library ops, for later chapters'
demonstrations.

These are the library versions of exercises: while their chapter (or an earlier one) is graded
they raise ``course.gating.ToolboxLocked``; otherwise anyone may use them.
"""

from __future__ import annotations

import torch
from torch import nn

from course.gating import exercise_of
from course.utils import Accumulator


@exercise_of("ch03")
def sgd(params, lr: float, batch_size: int) -> None:
    """Minibatch SGD step in place (``param -= lr * grad / batch_size``), then zero the grads."""
    params = [p for p in params if p.grad is not None]
    optimizer = torch.optim.SGD(params, lr=lr / batch_size)
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)


@exercise_of("ch03")
def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """The number of correct predictions (argmax over dim 1 when ``y_hat`` holds scores)."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = torch.argmax(y_hat, dim=1)
    return float(torch.eq(y_hat.to(y.dtype), y).sum())


@exercise_of("ch03")
def evaluate_accuracy(net, data_iter, device=None) -> float:
    """The fraction of correct predictions of ``net`` over ``data_iter`` (eval mode, no grad)."""
    if isinstance(net, nn.Module):
        net.eval()
        if device is None:
            device = next(iter(net.parameters()), torch.empty(0)).device
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None:
                X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


@exercise_of("ch03")
def train_epoch_ch3(net, train_iter, loss, updater) -> tuple[float, float]:
    """One training epoch; returns (average loss, accuracy) over the examples seen.

    ``updater`` is a ``torch.optim.Optimizer`` (the mean loss is minimised) or a function called
    with the batch size after the summed loss was backpropagated (like ``sgd``).
    """
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        losses = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            losses.mean().backward()
            updater.step()
        else:
            losses.sum().backward()
            updater(X.shape[0])
        metric.add(losses.sum().item(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


@exercise_of("ch03")
def train_ch3(net, train_iter, test_iter, loss, num_epochs: int, updater,
              animate: bool = True) -> tuple[float, float, float]:
    """Train for ``num_epochs``, plotting train loss, train and test accuracy when ``animate``.

    Returns the last epoch's ``(train_loss, train_acc, test_acc)``. ``loss`` must return one
    value per example (e.g. ``nn.CrossEntropyLoss(reduction="none")``).
    """
    animator = None
    if animate:
        from course.plot import Animator

        animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.0, 1.0],
                            legend=["train loss", "train acc", "test acc"])
    train_loss = train_acc = test_acc = float("nan")
    for epoch in range(num_epochs):
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        if animator is not None:
            animator.add(epoch + 1, (train_loss, train_acc, test_acc))
    return train_loss, train_acc, test_acc


@exercise_of("ch03")
def cross_entropy_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy of logits ``y_hat`` and labels ``y`` (``F.cross_entropy``)."""
    return nn.functional.cross_entropy(y_hat, y, reduction="none")


@exercise_of("ch06")
def evaluate_accuracy_gpu(net, data_iter, device=None) -> float:
    """The fraction of correct predictions, computed on ``device`` (default: the model's)."""
    return evaluate_accuracy(net, data_iter, device)


@exercise_of("ch06")
def train_ch6(net, train_iter, test_iter, num_epochs: int, lr: float, device,
              animate: bool = True) -> tuple[float, float, float]:
    """Chapter 6's loop: Xavier-initialise the weights of every ``nn.Linear``/``nn.Conv2d``,
    move ``net`` to ``device``, train with SGD and the mean cross-entropy, plotting when
    ``animate``. Returns the last epoch's ``(train_loss, train_acc, test_acc)``."""
    for module in net.modules():
        if type(module) in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(module.weight)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    animator = None
    if animate:
        from course.plot import Animator

        animator = Animator(xlabel="epoch", xlim=[1, max(2, num_epochs)],
                            legend=["train loss", "train acc", "test acc"])
    train_loss = train_acc = test_acc = float("nan")
    for epoch in range(num_epochs):
        net.train()
        metric = Accumulator(3)
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            loss = nn.functional.cross_entropy(y_hat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            metric.add(loss.item() * X.shape[0], accuracy(y_hat, y), X.shape[0])
        train_loss, train_acc = metric[0] / metric[2], metric[1] / metric[2]
        test_acc = evaluate_accuracy(net, test_iter, device)
        if animator is not None:
            animator.add(epoch + 1, (train_loss, train_acc, test_acc))
    return train_loss, train_acc, test_acc
