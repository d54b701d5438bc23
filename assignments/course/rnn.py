"""Recurrent language models and their training loop (chapter 8), for the notebooks'
demonstrations and later chapters.

These are library versions of ch08's exercises (``torch.nn.utils.clip_grad_norm_`` for clipping,
``torch.nn.functional`` for one-hot inputs): while ch08 is graded they are locked.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from course.gating import exercise_of
from course.train import sgd
from course.utils import Accumulator, Timer


class RNNModelScratch:
    """A recurrent language model from functions: ``get_params(vocab_size, num_hiddens,
    device)`` makes ``params``, ``init_state(batch_size, num_hiddens, device)`` the state and
    ``forward_fn(inputs, state, params)`` runs one-hot inputs of shape ``(T, B, V)``. Calling the
    model with token indices ``X`` of shape ``(B, T)`` returns ``(outputs (T*B, V), state)``."""

    @exercise_of("ch08")
    def __init__(self, vocab_size: int, num_hiddens: int, device, get_params, init_state,
                 forward_fn) -> None:
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X: torch.Tensor, state):
        inputs = F.one_hot(X.transpose(0, 1), self.vocab_size).to(torch.float32)
        return self.forward_fn(inputs, state, self.params)

    def begin_state(self, batch_size: int, device):
        return self.init_state(batch_size, self.num_hiddens, device)


class RNNModel(nn.Module):
    """The book's concise language model around a recurrent layer (``nn.RNN``, ``nn.GRU`` or
    ``nn.LSTM``, any ``num_layers``, bidirectional or not) and a linear output layer."""

    @exercise_of("ch08")
    def __init__(self, rnn_layer: nn.RNNBase, vocab_size: int) -> None:
        super().__init__()
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_hiddens = rnn_layer.hidden_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, vocab_size)

    def forward(self, inputs: torch.Tensor, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, device, batch_size: int = 1):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)


@exercise_of("ch08")
def predict_ch8(prefix: str, num_preds: int, net, vocab, device) -> str:
    """Continue ``prefix`` by ``num_preds`` tokens, greedily, after warming the state up on it."""
    state = net.begin_state(batch_size=1, device=device)
    indices = [vocab[prefix[0]]]
    for token in list(prefix[1:]) + [None] * num_preds:
        y, state = net(torch.tensor([[indices[-1]]], device=device), state)
        indices.append(vocab[token] if token is not None else int(y.argmax(dim=1)[0]))
    return "".join(vocab.idx_to_token[i] for i in indices)


@exercise_of("ch08")
def grad_clipping(net, theta: float) -> None:
    """Rescale the gradients of ``net``'s parameters (an ``nn.Module``'s trainable ones, or a
    scratch model's ``params``) so that their joint L2 norm is at most ``theta``."""
    params = [p for p in net.parameters() if p.requires_grad] if isinstance(net, nn.Module) \
        else net.params
    torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], theta)


def _detached(state):
    if isinstance(state, (tuple, list)):
        return type(state)(s.detach() for s in state)
    return state.detach()


@exercise_of("ch08")
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter: bool):
    """One epoch of language-model training with gradient clipping at 1; returns
    ``(perplexity, tokens per second)``."""
    state, timer, metric = None, Timer(), Accumulator(2)
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            state = _detached(state)
        X, y = X.to(device), Y.T.reshape(-1).to(device)
        y_hat, state = net(X, state)
        mean_loss = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
        mean_loss.backward()
        grad_clipping(net, 1)
        if isinstance(updater, torch.optim.Optimizer):
            updater.step()
        else:
            updater(batch_size=1)
        metric.add(mean_loss.item() * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()


@exercise_of("ch08")
def train_ch8(net, train_iter, vocab, lr: float, num_epochs: int, device,
              use_random_iter: bool = False, prefixes: tuple[str, ...] = ("the ",),
              verbose: bool = True) -> tuple[float, float]:
    """Train a language model with SGD (``lr``) for ``num_epochs``; print a greedy continuation
    of each of ``prefixes`` every 10 epochs and at the end. Returns the last epoch's
    ``(perplexity, tokens per second)``."""
    if isinstance(net, nn.Module):
        net.to(device)
        updater = torch.optim.SGD(net.parameters(), lr)
    else:
        def updater(batch_size):
            sgd(net.params, lr, batch_size)
    loss = nn.CrossEntropyLoss()
    ppl = speed = float("nan")
    for epoch in range(num_epochs):
        ppl, speed = train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter)
        if verbose and (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: perplexity {ppl:.1f}; "
                  + " | ".join(predict_ch8(p, 30, net, vocab, device) for p in prefixes))
    if verbose:
        print(f"perplexity {ppl:.1f}, {speed:.1f} tokens/sec on {device}")
        for p in prefixes:
            print(predict_ch8(p, 50, net, vocab, device))
    return ppl, speed
