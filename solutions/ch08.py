"""Reference solutions for ch08, Recurrent neural networks (循环神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release; code
outside them (the default corpus of ``read_time_machine``) is given.
"""

import collections
import math
import random
import re

import torch
from torch import nn
from torch.nn import functional as F

import course

# --- 8.2 Text preprocessing ----------------------------------------------------------------------


def read_time_machine(path=None):
    """Read a text file into a list of normalised lines, like the book's ``read_time_machine``.

    One string per line of the file, as ``f.readlines()`` splits it (a final newline does not
    start another line; an empty line gives ``''``). Each line is normalised as in the book:
    every run of characters other than the ASCII letters ``A-Z``/``a-z`` (digits, punctuation,
    spaces, tabs, the newline) becomes one space, then the line is stripped and lower-cased:
    ``'  Hello, World -- 1898!\\n'`` becomes ``'hello world'``.

    Deliberate difference from the book, which downloads *The Time Machine*: the file is given
    by ``path`` (a ``str`` or ``pathlib.Path``, read as UTF-8 text). The lines above the solution
    (given) make ``path=None`` mean the course's default corpus, ``course.time_machine_path()``:
    the book's ``timemachine.txt`` when you have it, else Python's own documentation text.
    """
    if path is None:
        path = course.time_machine_path()
    ### BEGIN SOLUTION
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]
    ### END SOLUTION


def tokenize(lines, token="word"):
    """Split each line into tokens (词元): a list with one list of tokens per line.

    ``token='word'`` (the default) splits a line into words at runs of whitespace, like
    ``str.split()`` without arguments (no empty tokens); ``token='char'`` makes every character a
    token, spaces included. An empty line gives ``[]``. Return lists (a list of lists), not
    tuples. Any other ``token`` is an error: raise a ``ValueError`` that names it, or do as the
    book does: print an error message that names it (``'ERROR: unknown token type: ' + token``)
    and return ``None``; both are accepted.
    """
    ### BEGIN SOLUTION
    if token == "word":
        return [line.split() for line in lines]
    elif token == "char":
        return [list(line) for line in lines]
    else:
        print("ERROR: unknown token type: " + token)
    ### END SOLUTION


def count_corpus(tokens):
    """Count how often each token occurs: return a ``collections.Counter`` (token -> count).

    ``tokens`` is either a flat list of tokens or a list of lines, each a list of tokens (what
    ``tokenize`` returns): a list of lists is flattened first. As in the book, it is a list of
    lines when it is empty or its first element is a list (an empty first line included).
    """
    ### BEGIN SOLUTION
    if len(tokens) == 0 or isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)
    ### END SOLUTION


class Vocab:
    """The book's vocabulary (词表): maps tokens to indices and back.

    ``Vocab(tokens=None, min_freq=0, reserved_tokens=None)``: ``tokens`` is a flat list of tokens
    or a list of token lists (count them with your ``count_corpus``); ``None`` means no tokens.

    - ``idx_to_token``: a list, the token of each index. Index 0 is the unknown token
      ``'<unk>'``, then the ``reserved_tokens`` in the order given (e.g. ``['<pad>', '<bos>']``),
      then every other token that occurs at least ``min_freq`` times, by descending frequency.
      Each token appears once: a token of the corpus that is reserved (or is ``'<unk>'``) keeps
      its reserved index. The order among tokens of *equal* frequency is yours to choose (the
      book keeps the order of their first occurrence); the grader accepts any.
    - ``len(vocab)``: the number of tokens, ``<unk>`` and reserved ones included.
    - ``vocab[token]``: the token's index, ``unk`` (0) for a token not in the vocabulary;
      ``vocab[[t1, t2]]`` or ``vocab[(t1, t2)]`` a list of indices, applied recursively so that
      nested lists (a list of lines) give nested lists of indices.
    - ``vocab.to_tokens(index)``: the token of an index; ``vocab.to_tokens([i, j])`` a list of
      tokens.
    - ``vocab.unk``: the index of ``'<unk>'`` (a property, 0).
    - ``vocab.token_freqs``: a list of ``(token, count)`` pairs of *every* distinct token of
      ``tokens`` (those below ``min_freq`` included), by descending count (ties in any order).
    """

    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        ### BEGIN SOLUTION
        if tokens is None:
            tokens = []
        if reserved_tokens is None:
            reserved_tokens = []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + reserved_tokens
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return len(self.idx_to_token)
        ### END SOLUTION

    def __getitem__(self, tokens):
        ### BEGIN SOLUTION
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]
        ### END SOLUTION

    def to_tokens(self, indices):
        ### BEGIN SOLUTION
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]
        ### END SOLUTION

    @property
    def unk(self):
        ### BEGIN SOLUTION
        return 0
        ### END SOLUTION

    @property
    def token_freqs(self):
        ### BEGIN SOLUTION
        return self._token_freqs
        ### END SOLUTION


# --- 8.3 Language models and reading long sequences ----------------------------------------------


def seq_data_iter_random(corpus, batch_size, num_steps):
    """Generate minibatches ``(X, Y)`` by random sampling (随机采样), like the book.

    ``corpus`` is a list of token indices. Drop a random number ``offset`` of leading tokens,
    drawn uniformly from ``0 .. num_steps - 1``; cut the rest into the
    ``num_subseqs = (len(corpus) - offset - 1) // num_steps`` consecutive, non-overlapping
    subsequences of ``num_steps`` tokens that start at ``offset``, ``offset + num_steps``, …
    (the ``- 1`` leaves room for the labels), and visit them in a uniformly random order
    (shuffle their start positions). Yield ``num_subseqs // batch_size`` minibatches (leftover
    subsequences are dropped), each ``(X, Y)`` with ``X`` the next ``batch_size`` subsequences
    as an int64 tensor of shape ``(batch_size, num_steps)`` and ``Y`` the same subsequences
    shifted by one token (the next token of each position). Two neighbouring minibatches are
    not adjacent in the corpus. Any random number generator may be used (the book uses
    Python's ``random``); the grader checks the distributions over many calls.
    """
    ### BEGIN SOLUTION
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)

    def data(pos):
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)
    ### END SOLUTION


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Generate minibatches ``(X, Y)`` by sequential partitioning (顺序分区), like the book.

    ``corpus`` is a list of token indices. Drop a random number ``offset`` of leading tokens,
    drawn uniformly from ``0 .. num_steps`` (both ends included, like the book's
    ``random.randint(0, num_steps)``). Take the next ``num_tokens = ((len(corpus) - offset - 1)
    // batch_size) * batch_size`` tokens as ``Xs`` and the same span shifted by one token as
    ``Ys``, and reshape both to ``(batch_size, num_tokens // batch_size)``: row ``i`` is the
    ``i``-th consecutive piece. Then yield ``(num_tokens // batch_size) // num_steps``
    minibatches: the ``j``-th is ``Xs[:, j*num_steps:(j+1)*num_steps]`` and the same columns of
    ``Ys``, int64 tensors of shape ``(batch_size, num_steps)``. So row ``i`` of a minibatch
    continues row ``i`` of the previous one in the corpus (what lets training carry the hidden
    state over). Any random number generator may be used.
    """
    ### BEGIN SOLUTION
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y
    ### END SOLUTION


# --- 8.5 Recurrent neural networks from scratch -------------------------------------------------


def get_params(vocab_size, num_hiddens, device):
    """The parameters of the scratch RNN language model, as the book's list of five tensors.

    Inputs and outputs are one-hot vectors of size ``vocab_size``. In this order:
    ``W_xh`` of shape ``(vocab_size, num_hiddens)``, ``W_hh`` ``(num_hiddens, num_hiddens)``,
    ``b_h`` ``(num_hiddens,)``, ``W_hq`` ``(num_hiddens, vocab_size)``, ``b_q``
    ``(vocab_size,)``. The three weight matrices are drawn from the normal distribution with
    mean 0 and standard deviation 0.01 (``torch.randn(...) * 0.01``), the biases are zeros; all
    float32, created on ``device``, and leaf tensors that require gradients (call
    ``requires_grad_(True)`` after scaling, so that ``.grad`` is filled by ``backward``).
    Return them as a list.
    """
    ### BEGIN SOLUTION
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
    ### END SOLUTION


def init_rnn_state(batch_size, num_hiddens, device):
    """The initial hidden state of the scratch RNN: a tuple holding one float32 tensor of zeros
    of shape ``(batch_size, num_hiddens)`` on ``device``. (A tuple, because other models, such
    as the LSTM, have more than one state tensor.)"""
    ### BEGIN SOLUTION
    return (torch.zeros((batch_size, num_hiddens), device=device),)
    ### END SOLUTION


def rnn(inputs, state, params):
    """Run the RNN over all time steps: the book's ``rnn``.

    ``inputs`` has shape ``(num_steps, batch_size, vocab_size)`` (time first; one-hot vectors
    in the language model, but any values must work); ``state`` is a tuple ``(H,)`` with ``H``
    of shape ``(batch_size, num_hiddens)``; ``params`` is ``[W_xh, W_hh, b_h, W_hq, b_q]`` as
    ``get_params`` makes them. For each time step ``t`` in order, with ``X_t = inputs[t]``::

        H = tanh(X_t @ W_xh + H @ W_hh + b_h)
        Y_t = H @ W_hq + b_q

    Return ``(torch.cat([Y_1, ..., Y_T], dim=0), (H,))``: the outputs stacked time-major, shape
    ``(num_steps * batch_size, vocab_size)``, and the new state with the last ``H``, as a tuple.
    Everything must be differentiable with respect to ``inputs``, ``H`` and the parameters, and
    keep their dtype and device. The library's recurrent layers (``nn.RNN``, ``nn.RNNCell``,
    ``torch.rnn_tanh``) are not allowed here.
    """
    ### BEGIN SOLUTION
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)
    ### END SOLUTION


class RNNModelScratch:
    """The book's RNN language model built from functions (a plain class, not an ``nn.Module``).

    ``RNNModelScratch(vocab_size, num_hiddens, device, get_params, init_state, forward_fn)``
    keeps ``vocab_size`` and ``num_hiddens`` as attributes of those names, creates its
    parameters once with ``self.params = get_params(vocab_size, num_hiddens, device)`` and keeps
    the two other functions (use the functions it is given, not your own by name).

    - ``net(X, state)`` (``__call__``): ``X`` holds token indices of shape
      ``(batch_size, num_steps)``; turn it into time-major one-hot inputs,
      ``F.one_hot(X.T, vocab_size)`` as float32, of shape ``(num_steps, batch_size,
      vocab_size)``, and return ``forward_fn(inputs, state, self.params)`` as it is.
    - ``net.begin_state(batch_size, device)``: return
      ``init_state(batch_size, num_hiddens, device)``.
    """

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        ### BEGIN SOLUTION
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn
        ### END SOLUTION

    def __call__(self, X, state):
        ### BEGIN SOLUTION
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)
        ### END SOLUTION

    def begin_state(self, batch_size, device):
        ### BEGIN SOLUTION
        return self.init_state(batch_size, self.num_hiddens, device)
        ### END SOLUTION


def predict_ch8(prefix, num_preds, net, vocab, device):
    """Generate ``num_preds`` characters after ``prefix`` (a non-empty string), like the book.

    ``net`` is a language model with ``net.begin_state(batch_size=..., device=...)`` (call it
    with keywords: the concise model's ``begin_state`` takes ``device`` first) and
    ``net(X, state) -> (Y, state)``, where ``X`` is an int64 tensor of token indices of shape
    ``(1, 1)`` (one sequence, one step) on ``device`` and ``Y`` holds the scores of the next
    token, shape ``(1, len(vocab))``. ``vocab`` maps characters to indices (``vocab[char]``)
    and back (``vocab.idx_to_token[i]`` or ``vocab.to_tokens(i)``).

    Start from ``net.begin_state(batch_size=1, device=device)`` and the list of indices
    ``[vocab[prefix[0]]]``. Warm-up (预热期): for each further character of the prefix, feed the
    list's last index to the net (carrying the state along) and append that character's index,
    ignoring the output. Then ``num_preds`` times: feed the last index, append the arg-max of
    ``Y`` (greedy prediction) and carry the state along. Return the tokens of all indices joined
    into one string: the prefix followed by the predictions (with ``num_preds = 0``, the prefix
    itself). That makes ``len(prefix) - 1 + num_preds`` calls of ``net``.
    """
    ### BEGIN SOLUTION
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])
    ### END SOLUTION


def grad_clipping(net, theta):
    """Clip the gradients of ``net`` to a joint L2 norm of at most ``theta`` (梯度裁剪), in place.

    The parameters are those of an ``nn.Module`` that require gradients
    (``[p for p in net.parameters() if p.requires_grad]``), or, for any other model (such as
    ``RNNModelScratch``), the list ``net.params``. Their gradients are treated as one long
    vector: ``norm = sqrt(sum of the squares of all gradient entries)``. If ``norm > theta``,
    multiply every gradient by ``theta / norm`` (the joint norm becomes ``theta``); otherwise
    leave them unchanged. Returns ``None``. ``torch.nn.utils.clip_grad_norm_`` is not allowed.
    """
    ### BEGIN SOLUTION
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    ### END SOLUTION


def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    """Train a language model for one epoch, like the book's ``train_epoch_ch8``.

    For each minibatch ``(X, Y)`` of ``train_iter`` (shapes ``(batch_size, num_steps)``):

    1. State: on the first minibatch, or on every one when ``use_random_iter`` (random samples
       do not continue each other), start from
       ``net.begin_state(batch_size=X.shape[0], device=device)`` (keywords: the concise model's
       ``begin_state`` takes ``device`` first). Otherwise carry the previous minibatch's state
       over, detached from its graph: ``state.detach_()`` when it is a tensor (``nn.GRU``,
       ``nn.RNN``), each element's ``detach_()`` when it is a tuple (the scratch model,
       ``nn.LSTM``); a detached copy is fine too.
    2. Labels: ``y = Y.T.reshape(-1)`` (time-major, like the model's outputs); move ``X`` and
       ``y`` to ``device``; ``y_hat, state = net(X, state)``; ``l = loss(y_hat, y.long()).mean()``.
    3. Update: if ``updater`` is a ``torch.optim.Optimizer``: ``zero_grad()``, ``l.backward()``,
       ``grad_clipping(net, 1)``, ``step()``. Otherwise ``updater`` is a function like the
       book's ``lambda batch_size: sgd(net.params, lr, batch_size)``, which also zeroes the
       gradients: ``l.backward()``, ``grad_clipping(net, 1)``, ``updater(batch_size=1)`` (1
       because ``l`` is already a mean). Call your ``grad_clipping`` by name (the grader swaps
       in its own).
    4. Accumulate ``l * y.numel()`` and ``y.numel()`` (e.g. in a ``course.Accumulator(2)``).

    Return ``(perplexity, speed)`` as Python floats: ``perplexity = exp(total loss / total
    tokens)`` over the epoch and ``speed`` the tokens per second (``course.Timer``).
    """
    ### BEGIN SOLUTION
    state, timer = None, course.Timer()
    metric = course.Accumulator(2)
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        metric.add(l * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()
    ### END SOLUTION
