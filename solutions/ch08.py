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

    <!-- zh -->
    把一个文本文件读成规范化后的文本行列表，类似书中的 ``read_time_machine``。

    文件的每一行对应一个字符串，按 ``f.readlines()`` 的方式切分（末尾的换行符不会再开始新的
    一行；空行得到 ``''``）。每一行都像书中那样规范化：除 ASCII 字母 ``A-Z``/``a-z`` 以外的
    字符（数字、标点、空格、制表符、换行符）组成的每一段连续字符都替换成一个空格，然后去掉
    首尾空白并转换为小写：``'  Hello, World -- 1898!\\n'`` 变成 ``'hello world'``。

    与书中有意不同之处：书中下载《时光机器》，这里的文件由 ``path`` 给出（``str`` 或
    ``pathlib.Path``，按 UTF-8 文本读取）。解答上方已给出的几行代码让 ``path=None`` 表示课程的
    默认语料库 ``course.time_machine_path()``：如果你有书中的 ``timemachine.txt`` 就用它，否则用
    Python 自带的文档文本。
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

    <!-- zh -->
    把每一行拆分成词元：返回一个列表，每行对应其中的一个词元列表。

    ``token='word'``（默认）按连续的空白字符把一行拆成单词，就像不带参数的 ``str.split()``
    （不产生空词元）；``token='char'`` 把每个字符（包括空格）都作为一个词元。空行得到 ``[]``。
    返回列表（由列表组成的列表），而不是元组。其他任何 ``token`` 都是错误：要么抛出一个写明
    该值的 ``ValueError``，要么像书中那样打印一条写明该值的错误信息
    （``'ERROR: unknown token type: ' + token``）并返回 ``None``；两种做法都可以。
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

    <!-- zh -->
    统计每个词元出现的次数：返回一个 ``collections.Counter``（词元 -> 次数）。

    ``tokens`` 要么是一个扁平的词元列表，要么是由若干行组成的列表，每一行是一个词元列表（即
    ``tokenize`` 的返回值）：由列表组成的列表要先展平。与书中一样，当它为空或者它的第一个元素
    是列表时（包括第一行为空行的情况），就把它当作由行组成的列表。
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

    <!-- zh -->
    书中的词表：把词元映射到索引，也能从索引映射回词元。

    ``Vocab(tokens=None, min_freq=0, reserved_tokens=None)``：``tokens`` 是一个扁平的词元列表，
    或者由词元列表组成的列表（用你的 ``count_corpus`` 统计）；``None`` 表示没有词元。

    - ``idx_to_token``：一个列表，依次是每个索引对应的词元。索引 0 是未知词元 ``'<unk>'``，
      接着是按给定顺序排列的 ``reserved_tokens``（例如 ``['<pad>', '<bos>']``），然后是出现次数
      不少于 ``min_freq`` 的其他所有词元，按频率降序排列。每个词元只出现一次：语料库中的词元
      如果是保留词元（或者就是 ``'<unk>'``），就沿用它已有的索引。*频率相同*的词元之间的顺序
      由你决定（书中保持它们首次出现的顺序）；评分程序接受任何顺序。
    - ``len(vocab)``：词元的个数，包括 ``<unk>`` 和保留词元。
    - ``vocab[token]``：该词元的索引，不在词表中的词元得到 ``unk``（0）；``vocab[[t1, t2]]``
      或 ``vocab[(t1, t2)]`` 得到索引列表，并且递归地处理，使嵌套的列表（由行组成的列表）得到
      嵌套的索引列表。
    - ``vocab.to_tokens(index)``：一个索引对应的词元；``vocab.to_tokens([i, j])`` 得到词元
      列表。
    - ``vocab.unk``：``'<unk>'`` 的索引（一个 property，值为 0）。
    - ``vocab.token_freqs``：由 ``(token, count)`` 对组成的列表，包含 ``tokens`` 中*每一个*
      不同的词元（包括低于 ``min_freq`` 的），按次数降序排列（次数相同时顺序任意）。
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

    <!-- zh -->
    用随机采样生成小批量 ``(X, Y)``，与书中一样。

    ``corpus`` 是词元索引的列表。先丢弃开头的 ``offset`` 个词元，``offset`` 从
    ``0 .. num_steps - 1`` 中均匀随机抽取；把剩下的部分切成
    ``num_subseqs = (len(corpus) - offset - 1) // num_steps`` 个连续、互不重叠、各含
    ``num_steps`` 个词元的子序列，它们分别从 ``offset``、``offset + num_steps``、…… 开始
    （``- 1`` 是为标签留出位置），并以均匀随机的顺序访问它们（打乱它们的起始位置）。生成
    ``num_subseqs // batch_size`` 个小批量（多余的子序列丢弃），每个都是 ``(X, Y)``：``X`` 是
    接下来的 ``batch_size`` 个子序列，为形状 ``(batch_size, num_steps)`` 的 int64 张量；``Y``
    是把同样的子序列向后移动一个词元得到的（即每个位置的下一个词元）。相邻的两个小批量在语料库中
    并不相邻。可以使用任何随机数生成器（书中用 Python 的 ``random``）；评分程序通过多次调用
    检查分布。
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

    <!-- zh -->
    用顺序分区生成小批量 ``(X, Y)``，与书中一样。

    ``corpus`` 是词元索引的列表。先丢弃开头的 ``offset`` 个词元，``offset`` 从 ``0 .. num_steps``
    中均匀随机抽取（两端都包括，就像书中的 ``random.randint(0, num_steps)``）。取接下来的
    ``num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size`` 个词元作为 ``Xs``，
    把同一段向后移动一个词元作为 ``Ys``，并把两者都变形为
    ``(batch_size, num_tokens // batch_size)``：第 ``i`` 行是第 ``i`` 个连续的片段。然后生成
    ``(num_tokens // batch_size) // num_steps`` 个小批量：第 ``j`` 个是
    ``Xs[:, j*num_steps:(j+1)*num_steps]`` 和 ``Ys`` 的相同列，都是形状为
    ``(batch_size, num_steps)`` 的 int64 张量。这样，一个小批量的第 ``i`` 行在语料库中紧接着上
    一个小批量的第 ``i`` 行（训练时正是靠这一点延续隐状态）。可以使用任何随机数生成器。
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

    <!-- zh -->
    从零开始实现的循环神经网络语言模型的参数，与书中一样是由五个张量组成的列表。

    输入和输出都是长度为 ``vocab_size`` 的独热向量。按以下顺序：``W_xh`` 的形状为
    ``(vocab_size, num_hiddens)``，``W_hh`` 为 ``(num_hiddens, num_hiddens)``，``b_h`` 为
    ``(num_hiddens,)``，``W_hq`` 为 ``(num_hiddens, vocab_size)``，``b_q`` 为 ``(vocab_size,)``。
    三个权重矩阵从均值为 0、标准差为 0.01 的正态分布中抽取（``torch.randn(...) * 0.01``），
    偏置为零；全部为 float32，创建在 ``device`` 上，并且都是需要梯度的叶子张量（在缩放之后调用
    ``requires_grad_(True)``，这样 ``backward`` 才会填充 ``.grad``）。以列表形式返回。
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
    as the LSTM, have more than one state tensor.)

    <!-- zh -->
    从零开始实现的循环神经网络的初始隐状态：一个元组，其中只有一个形状为
    ``(batch_size, num_hiddens)``、位于 ``device`` 上的 float32 零张量。（之所以用元组，是因为
    其他模型，例如 LSTM，有不止一个状态张量。）"""
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

    <!-- zh -->
    在所有时间步上运行循环神经网络：书中的 ``rnn``。

    ``inputs`` 的形状为 ``(num_steps, batch_size, vocab_size)``（时间维在前；在语言模型中是
    独热向量，但必须能处理任何值）；``state`` 是元组 ``(H,)``，其中 ``H`` 的形状为
    ``(batch_size, num_hiddens)``；``params`` 是 ``get_params`` 生成的
    ``[W_xh, W_hh, b_h, W_hq, b_q]``。按顺序对每个时间步 ``t``，令 ``X_t = inputs[t]``::

        H = tanh(X_t @ W_xh + H @ W_hh + b_h)
        Y_t = H @ W_hq + b_q

    返回 ``(torch.cat([Y_1, ..., Y_T], dim=0), (H,))``：按时间步顺序堆叠的输出，形状为
    ``(num_steps * batch_size, vocab_size)``，以及由最后一个 ``H`` 组成的新状态（一个元组）。
    所有计算都必须对 ``inputs``、``H`` 和参数可微，并保持它们的数据类型和设备。这里不允许使用
    库中的循环层（``nn.RNN``、``nn.RNNCell``、``torch.rnn_tanh``）。
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

    <!-- zh -->
    书中由函数搭建的循环神经网络语言模型（一个普通的类，不是 ``nn.Module``）。

    ``RNNModelScratch(vocab_size, num_hiddens, device, get_params, init_state, forward_fn)``
    把 ``vocab_size`` 和 ``num_hiddens`` 保存为同名的属性，用
    ``self.params = get_params(vocab_size, num_hiddens, device)`` 一次性创建参数，并保存另外
    两个函数（使用传给它的函数，而不是按名字调用你自己的函数）。

    - ``net(X, state)``（``__call__``）：``X`` 是形状为 ``(batch_size, num_steps)`` 的词元
      索引；把它转换成时间维在前的独热输入 ``F.one_hot(X.T, vocab_size)``（转为 float32），
      形状为 ``(num_steps, batch_size, vocab_size)``，然后原样返回
      ``forward_fn(inputs, state, self.params)`` 的结果。
    - ``net.begin_state(batch_size, device)``：返回
      ``init_state(batch_size, num_hiddens, device)``。
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

    <!-- zh -->
    在 ``prefix``（一个非空字符串）之后生成 ``num_preds`` 个字符，与书中一样。

    ``net`` 是一个语言模型，具有 ``net.begin_state(batch_size=..., device=...)``（用关键字参数
    调用：简洁实现的模型的 ``begin_state`` 第一个参数是 ``device``）和
    ``net(X, state) -> (Y, state)``，其中 ``X`` 是 ``device`` 上形状为 ``(1, 1)``（一个序列、
    一个时间步）的 int64 词元索引张量，``Y`` 是下一个词元的分数，形状为 ``(1, len(vocab))``。
    ``vocab`` 把字符映射到索引（``vocab[char]``），也能映射回来（``vocab.idx_to_token[i]`` 或
    ``vocab.to_tokens(i)``）。

    从 ``net.begin_state(batch_size=1, device=device)`` 和索引列表 ``[vocab[prefix[0]]]`` 开始。
    预热期：对前缀中其余的每个字符，把列表中最后一个索引输入网络（并传递状态），然后追加该
    字符的索引，忽略输出。接着重复 ``num_preds`` 次：输入最后一个索引，追加 ``Y`` 的 argmax
    （贪心预测），并传递状态。把所有索引对应的词元连接成一个字符串返回：前缀后面跟着预测结果
    （``num_preds = 0`` 时就是前缀本身）。这样 ``net`` 一共被调用
    ``len(prefix) - 1 + num_preds`` 次。
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

    <!-- zh -->
    原地裁剪 ``net`` 的梯度，使它们的联合 L2 范数不超过 ``theta``。

    对 ``nn.Module`` 来说，参数是其中需要梯度的参数
    （``[p for p in net.parameters() if p.requires_grad]``）；对其他任何模型（例如
    ``RNNModelScratch``）来说，参数是列表 ``net.params``。把它们的梯度看作一个很长的向量：
    ``norm = sqrt(所有梯度元素的平方和)``。如果 ``norm > theta``，就把每个梯度乘以
    ``theta / norm``（联合范数变为 ``theta``）；否则保持不变。返回 ``None``。不允许使用
    ``torch.nn.utils.clip_grad_norm_``。
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

    <!-- zh -->
    训练语言模型一个迭代周期，与书中的 ``train_epoch_ch8`` 一样。

    对 ``train_iter`` 中的每个小批量 ``(X, Y)``（形状都是 ``(batch_size, num_steps)``）：

    1. 状态：在第一个小批量上，或者当 ``use_random_iter`` 为真时在每个小批量上（随机采样得到的
       样本并不前后衔接），都从 ``net.begin_state(batch_size=X.shape[0], device=device)`` 开始
       （用关键字参数：简洁实现的模型的 ``begin_state`` 第一个参数是 ``device``）。否则沿用上
       一个小批量的状态，并把它从计算图中分离出来：状态是张量时（``nn.GRU``、``nn.RNN``）调用
       ``state.detach_()``，是元组时（从零开始实现的模型、``nn.LSTM``）对每个元素调用
       ``detach_()``；使用分离后的副本也可以。
    2. 标签：``y = Y.T.reshape(-1)``（时间维在前，与模型的输出一致）；把 ``X`` 和 ``y`` 移到
       ``device`` 上；``y_hat, state = net(X, state)``；
       ``l = loss(y_hat, y.long()).mean()``。
    3. 更新：如果 ``updater`` 是 ``torch.optim.Optimizer``：``zero_grad()``、``l.backward()``、
       ``grad_clipping(net, 1)``、``step()``。否则 ``updater`` 是一个像书中的
       ``lambda batch_size: sgd(net.params, lr, batch_size)`` 那样的函数，它也会把梯度清零：
       ``l.backward()``、``grad_clipping(net, 1)``、``updater(batch_size=1)``（参数为 1，因为
       ``l`` 已经是均值）。按名字调用你的 ``grad_clipping``（评分程序会换上它自己的实现）。
    4. 累加 ``l * y.numel()`` 和 ``y.numel()``（例如用 ``course.Accumulator(2)``）。

    以 Python 浮点数返回 ``(perplexity, speed)``：``perplexity = exp(总损失 / 总词元数)``，在
    整个迭代周期上计算；``speed`` 是每秒处理的词元数（用 ``course.Timer`` 计时）。
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
