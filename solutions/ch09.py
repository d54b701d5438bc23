"""Reference solutions for ch09, Modern recurrent neural networks (现代循环神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import collections
import math

import torch
from torch import nn

from course import Accumulator, Decoder, Encoder, Timer, grad_clipping


def gru(inputs, state, params):
    """The gated recurrent unit of the book (门控循环单元), from scratch, over a whole sequence.

    ``inputs`` has shape ``(T, B, V)`` (one-hot rows in the book, any real values here),
    ``state`` is a tuple ``(H,)`` with ``H`` of shape ``(B, h)``, and ``params`` is the list
    ``[W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]`` made by ``get_params``
    (``W_x*`` of shape ``(V, h)``, ``W_h*`` ``(h, h)``, ``b_*`` ``(h,)``, ``W_hq`` ``(h, q)``,
    ``b_q`` ``(q,)``). For each time step ``X = inputs[t]``, in order::

        Z = sigmoid(X @ W_xz + H @ W_hz + b_z)                 # update gate
        R = sigmoid(X @ W_xr + H @ W_hr + b_r)                 # reset gate
        H_tilda = tanh(X @ W_xh + (R * H) @ W_hh + b_h)        # candidate state
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q

    Return ``(outputs, (H,))``: the ``T`` outputs ``Y`` concatenated along dimension 0 (shape
    ``(T * B, q)``) and the final state. The result must stay differentiable with respect to
    the inputs, the state and every parameter. ``torch.gru``, ``nn.GRU`` and ``nn.GRUCell`` are
    not allowed. (PyTorch's ``nn.GRU`` applies the reset gate after the product,
    ``R * (H @ W_hh + b_hn)``: it agrees with the book only in special cases, see the prose.)

    <!-- zh -->
    书中的门控循环单元，从零开始实现，作用于整个序列。

    ``inputs`` 的形状为 ``(T, B, V)``（书中是独热行向量，这里可以是任意实数值），``state`` 是元组
    ``(H,)``，其中 ``H`` 的形状为 ``(B, h)``；``params`` 是由 ``get_params`` 生成的列表
    ``[W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]``（``W_x*`` 的形状为
    ``(V, h)``，``W_h*`` 为 ``(h, h)``，``b_*`` 为 ``(h,)``，``W_hq`` 为 ``(h, q)``，``b_q`` 为
    ``(q,)``）。对每个时间步 ``X = inputs[t]``，依次计算::

        Z = sigmoid(X @ W_xz + H @ W_hz + b_z)                 # 更新门
        R = sigmoid(X @ W_xr + H @ W_hr + b_r)                 # 重置门
        H_tilda = tanh(X @ W_xh + (R * H) @ W_hh + b_h)        # 候选隐状态
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q

    返回 ``(outputs, (H,))``：沿维度 0 连结的 ``T`` 个输出 ``Y``（形状为 ``(T * B, q)``）和最终
    状态。结果必须关于输入、状态和每个参数都可微。不允许使用 ``torch.gru``、``nn.GRU`` 和
    ``nn.GRUCell``。（PyTorch 的 ``nn.GRU`` 在矩阵乘法之后才应用重置门，即
    ``R * (H @ W_hh + b_hn)``：它只在特殊情况下与书中的模型一致，见正文。）
    """
    ### BEGIN SOLUTION
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)
    ### END SOLUTION


def get_lstm_params(vocab_size, num_hiddens, device):
    """The parameters of the book's LSTM language model (长短期记忆网络), as a list of 14 tensors.

    With ``num_inputs = num_outputs = vocab_size``, in this order: for the input gate, the forget
    gate, the output gate and the candidate memory cell, each ``W_x*`` of shape
    ``(num_inputs, num_hiddens)``, ``W_h*`` of shape ``(num_hiddens, num_hiddens)`` and ``b_*``
    of shape ``(num_hiddens,)`` (so ``[W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc,
    W_hc, b_c, ...]``), then ``W_hq`` of shape ``(num_hiddens, num_outputs)`` and ``b_q`` of shape
    ``(num_outputs,)``. Every weight is drawn independently from a normal distribution with mean
    0 and standard deviation 0.01, every bias is zero; all are float32 leaf tensors on
    ``device`` with ``requires_grad`` set.

    <!-- zh -->
    书中长短期记忆网络语言模型的参数，一个由 14 个张量组成的列表。

    设 ``num_inputs = num_outputs = vocab_size``，按以下顺序：输入门、遗忘门、输出门和候选记忆元
    各有形状为 ``(num_inputs, num_hiddens)`` 的 ``W_x*``、形状为 ``(num_hiddens, num_hiddens)``
    的 ``W_h*`` 和形状为 ``(num_hiddens,)`` 的 ``b_*``（即 ``[W_xi, W_hi, b_i, W_xf, W_hf, b_f,
    W_xo, W_ho, b_o, W_xc, W_hc, b_c, ...]``），然后是形状为 ``(num_hiddens, num_outputs)`` 的
    ``W_hq`` 和形状为 ``(num_outputs,)`` 的 ``b_q``。每个权重都独立地从均值为 0、标准差为 0.01
    的正态分布中抽取，每个偏置都为零；它们都是位于 ``device`` 上、设置了 ``requires_grad`` 的
    float32 叶子张量。
    """
    ### BEGIN SOLUTION
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)),
                normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))

    W_xi, W_hi, b_i = three()
    W_xf, W_hf, b_f = three()
    W_xo, W_ho, b_o = three()
    W_xc, W_hc, b_c = three()
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
    ### END SOLUTION


def init_lstm_state(batch_size, num_hiddens, device):
    """The initial state of the LSTM: a tuple ``(H, C)`` of two float32 zero tensors of shape
    ``(batch_size, num_hiddens)`` on ``device`` (the hidden state and the memory cell).

    <!-- zh -->
    LSTM 的初始状态：由两个形状为 ``(batch_size, num_hiddens)``、位于 ``device`` 上的 float32
    零张量组成的元组 ``(H, C)``（隐状态和记忆元）。"""
    ### BEGIN SOLUTION
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))
    ### END SOLUTION


def lstm(inputs, state, params):
    """Long short-term memory of the book, from scratch, over a whole sequence.

    ``inputs`` has shape ``(T, B, V)``, ``state`` is ``(H, C)`` (each ``(B, h)``) and ``params``
    the 14 tensors of ``get_lstm_params``, in that order. For each time step ``X = inputs[t]``::

        I = sigmoid(X @ W_xi + H @ W_hi + b_i)                 # input gate
        F = sigmoid(X @ W_xf + H @ W_hf + b_f)                 # forget gate
        O = sigmoid(X @ W_xo + H @ W_ho + b_o)                 # output gate
        C_tilda = tanh(X @ W_xc + H @ W_hc + b_c)              # candidate memory cell
        C = F * C + I * C_tilda
        H = O * tanh(C)
        Y = H @ W_hq + b_q

    Return ``(outputs, (H, C))``: the outputs ``Y`` concatenated along dimension 0 (shape
    ``(T * B, q)``) and the final state, differentiable with respect to the inputs, the state
    and every parameter. ``torch.lstm``, ``nn.LSTM`` and ``nn.LSTMCell`` are not allowed.

    <!-- zh -->
    书中的长短期记忆网络，从零开始实现，作用于整个序列。

    ``inputs`` 的形状为 ``(T, B, V)``，``state`` 是 ``(H, C)``（形状均为 ``(B, h)``），``params``
    是 ``get_lstm_params`` 给出的 14 个张量，顺序不变。对每个时间步 ``X = inputs[t]``::

        I = sigmoid(X @ W_xi + H @ W_hi + b_i)                 # 输入门
        F = sigmoid(X @ W_xf + H @ W_hf + b_f)                 # 遗忘门
        O = sigmoid(X @ W_xo + H @ W_ho + b_o)                 # 输出门
        C_tilda = tanh(X @ W_xc + H @ W_hc + b_c)              # 候选记忆元
        C = F * C + I * C_tilda
        H = O * tanh(C)
        Y = H @ W_hq + b_q

    返回 ``(outputs, (H, C))``：沿维度 0 连结的输出 ``Y``（形状为 ``(T * B, q)``）和最终状态，
    它们关于输入、状态和每个参数都可微。不允许使用 ``torch.lstm``、``nn.LSTM`` 和
    ``nn.LSTMCell``。
    """
    ### BEGIN SOLUTION
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c,
     W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)  # noqa: E741 - the book's name
        F = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)
    ### END SOLUTION


def deep_rnn(inputs, state, params):
    """A deep recurrent network (深度循环神经网络) of ``L`` stacked tanh RNN layers, from scratch.

    ``inputs`` has shape ``(T, B, d)``; ``state`` is a tuple of ``L`` tensors, the initial
    hidden state of each layer, each ``(B, h)``; ``params`` is a list of ``L`` per-layer lists
    ``[W_xh, W_hh, b_h]`` with ``W_xh`` of shape ``(d, h)`` for layer 0 and ``(h, h)`` above it,
    ``W_hh`` of shape ``(h, h)`` and ``b_h`` of shape ``(h,)``. Layer 0 reads ``inputs[t]``;
    layer ``l > 0`` reads layer ``l - 1``'s new hidden state at the same step::

        H[l] = tanh(X_l @ W_xh[l] + H[l] @ W_hh[l] + b_h[l])

    There is no output layer. Return ``(outputs, new_state)``: ``outputs`` of shape
    ``(T, B, h)`` holds the top layer's hidden state at every step (stacked along dimension 0)
    and ``new_state`` is the tuple of the ``L`` final hidden states. This is ``nn.RNN(d, h,
    num_layers=L)`` with ``W_xh[l] = weight_ih_l{l}.T``, ``W_hh[l] = weight_hh_l{l}.T`` and
    ``b_h[l] = bias_ih_l{l} + bias_hh_l{l}`` (its ``h_n`` is ``torch.stack(new_state)``).
    ``torch.rnn_tanh``, ``nn.RNN`` and ``nn.RNNCell`` are not allowed.

    <!-- zh -->
    由 ``L`` 个堆叠的 tanh 循环层组成的深度循环神经网络，从零开始实现。

    ``inputs`` 的形状为 ``(T, B, d)``；``state`` 是由 ``L`` 个张量组成的元组，即每一层的初始
    隐状态，形状均为 ``(B, h)``；``params`` 是由 ``L`` 个逐层列表 ``[W_xh, W_hh, b_h]`` 组成的
    列表，其中 ``W_xh`` 的形状在第 0 层为 ``(d, h)``、在更高的层为 ``(h, h)``，``W_hh`` 的形状为
    ``(h, h)``，``b_h`` 的形状为 ``(h,)``。第 0 层读取 ``inputs[t]``；第 ``l > 0`` 层读取第
    ``l - 1`` 层在同一时间步新的隐状态::

        H[l] = tanh(X_l @ W_xh[l] + H[l] @ W_hh[l] + b_h[l])

    没有输出层。返回 ``(outputs, new_state)``：形状为 ``(T, B, h)`` 的 ``outputs`` 保存最顶层
    在每个时间步的隐状态（沿维度 0 堆叠），``new_state`` 是 ``L`` 个最终隐状态组成的元组。这就是
    ``nn.RNN(d, h, num_layers=L)``，其中 ``W_xh[l] = weight_ih_l{l}.T``、
    ``W_hh[l] = weight_hh_l{l}.T``、``b_h[l] = bias_ih_l{l} + bias_hh_l{l}``（它的 ``h_n`` 就是
    ``torch.stack(new_state)``）。不允许使用 ``torch.rnn_tanh``、``nn.RNN`` 和 ``nn.RNNCell``。
    """
    ### BEGIN SOLUTION
    H = list(state)
    outputs = []
    for X in inputs:
        for layer, (W_xh, W_hh, b_h) in enumerate(params):
            H[layer] = torch.tanh(X @ W_xh + H[layer] @ W_hh + b_h)
            X = H[layer]
        outputs.append(X)
    return torch.stack(outputs), tuple(H)
    ### END SOLUTION


def bidirectional_rnn(inputs, state, params):
    """A bidirectional tanh RNN layer (双向循环神经网络), from scratch.

    ``inputs`` has shape ``(T, B, d)``; ``state`` is ``(H_f, H_b)``, the initial hidden states
    (each ``(B, h)``) of the forward and the backward direction; ``params`` is ``[forward,
    backward]``, each a list ``[W_xh (d, h), W_hh (h, h), b_h (h,)]``. The forward direction
    runs ``H_f = tanh(inputs[t] @ W_xh + H_f @ W_hh + b_h)`` for ``t = 0, 1, ..., T - 1`` with
    its own parameters; the backward direction runs the same recurrence with its parameters for
    ``t = T - 1, ..., 1, 0``. The output at step ``t`` concatenates, along the last dimension,
    the forward state after reading ``inputs[t]`` and the backward state after reading
    ``inputs[t]`` (that is, after ``inputs[T - 1], ..., inputs[t]``).

    Return ``(outputs, (H_f, H_b))``: ``outputs`` of shape ``(T, B, 2h)`` and the final state of
    each direction (the backward one's after ``inputs[0]``). This is ``nn.RNN(d, h,
    bidirectional=True)`` with the forward parameters from ``weight_ih_l0``, ``weight_hh_l0``,
    ``bias_ih_l0 + bias_hh_l0`` and the backward ones from the ``..._l0_reverse`` tensors
    (transposed as in ``deep_rnn``); its ``h_n`` is ``torch.stack((H_f, H_b))``.
    ``torch.rnn_tanh``, ``nn.RNN`` and ``nn.RNNCell`` are not allowed.

    <!-- zh -->
    从零开始实现的双向 tanh 循环层。

    ``inputs`` 的形状为 ``(T, B, d)``；``state`` 是 ``(H_f, H_b)``，即正向和反向的初始隐状态
    （形状均为 ``(B, h)``）；``params`` 是 ``[forward, backward]``，每个都是列表
    ``[W_xh (d, h), W_hh (h, h), b_h (h,)]``。正向用它自己的参数对 ``t = 0, 1, ..., T - 1`` 计算
    ``H_f = tanh(inputs[t] @ W_xh + H_f @ W_hh + b_h)``；反向用它的参数对
    ``t = T - 1, ..., 1, 0`` 做同样的递推。时间步 ``t`` 的输出沿最后一个维度连结两个状态：读入
    ``inputs[t]`` 之后的正向状态，以及读入 ``inputs[t]`` 之后（即依次读过
    ``inputs[T - 1], ..., inputs[t]`` 之后）的反向状态。

    返回 ``(outputs, (H_f, H_b))``：形状为 ``(T, B, 2h)`` 的 ``outputs`` 和每个方向的最终状态
    （反向的是读入 ``inputs[0]`` 之后的状态）。这就是 ``nn.RNN(d, h, bidirectional=True)``，
    其中正向参数来自 ``weight_ih_l0``、``weight_hh_l0``、``bias_ih_l0 + bias_hh_l0``，反向参数
    来自 ``..._l0_reverse`` 这些张量（像 ``deep_rnn`` 中那样转置）；它的 ``h_n`` 就是
    ``torch.stack((H_f, H_b))``。不允许使用 ``torch.rnn_tanh``、``nn.RNN`` 和 ``nn.RNNCell``。
    """
    ### BEGIN SOLUTION
    (W_xf, W_hf, b_f), (W_xb, W_hb, b_b) = params
    H_f, H_b = state
    forward, backward = [], []
    for X in inputs:
        H_f = torch.tanh(X @ W_xf + H_f @ W_hf + b_f)
        forward.append(H_f)
    for X in reversed(list(inputs)):
        H_b = torch.tanh(X @ W_xb + H_b @ W_hb + b_b)
        backward.insert(0, H_b)
    outputs = [torch.cat((f, b), dim=-1) for f, b in zip(forward, backward)]
    return torch.stack(outputs), (H_f, H_b)
    ### END SOLUTION


def preprocess_nmt(text):
    """Preprocess the raw English-French text as the book does (预处理).

    Replace the narrow no-break space ``'\\u202f'`` and the no-break space ``'\\xa0'`` by
    ordinary spaces, lower-case everything (``str.lower``), then insert a space before each
    ``,``, ``.``, ``!`` and ``?`` whose preceding character (in that replaced, lower-cased text)
    is not a space; a punctuation mark at the very start gets no space. Return the new string;
    tabs and newlines stay where they are.

    <!-- zh -->
    像书中那样预处理原始的英语-法语文本。

    把窄的不间断空格 ``'\\u202f'`` 和不间断空格 ``'\\xa0'`` 替换为普通空格，把所有字母转为
    小写（``str.lower``），然后在每个 ``,``、``.``、``!`` 和 ``?`` 前面插入一个空格，前提是它
    前面的字符（在替换并转为小写之后的文本中）不是空格；位于文本最开头的标点符号前面不加空格。
    返回新的字符串；制表符和换行符保持原位。
    """
    ### BEGIN SOLUTION
    def no_space(char, prev_char):
        return char in set(",.!?") and prev_char != " "

    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = [" " + char if i > 0 and no_space(char, text[i - 1]) else char
           for i, char in enumerate(text)]
    return "".join(out)
    ### END SOLUTION


def tokenize_nmt(text, num_examples=None):
    """Split the preprocessed text into word tokens (词元化), as the book does.

    Lines are separated by ``'\\n'``. A line holds one pair: the source sentence, a tab
    (``'\\t'``), the target sentence. Only lines with exactly one tab count; the others (an empty
    last line, say) are skipped. Each sentence is split on single spaces (``str.split(' ')``).
    Like the book, when ``num_examples`` is given (and not 0), reading stops at the first line
    whose index, counting every line from 0, is greater than ``num_examples``: lines
    ``0 .. num_examples`` are read, so at most ``num_examples + 1`` pairs come back.

    Return ``(source, target)``: two lists with one list of tokens per kept line.

    <!-- zh -->
    像书中那样把预处理后的文本拆分成单词词元。

    行之间用 ``'\\n'`` 分隔。每行是一个句子对：源句子、一个制表符（``'\\t'``）、目标句子。只有
    恰好含一个制表符的行才算数；其他行（例如空的最后一行）被跳过。每个句子按单个空格拆分
    （``str.split(' ')``）。与书中一样，给出 ``num_examples``（且不为 0）时，遇到第一个索引大于
    ``num_examples`` 的行就停止读取，索引对每一行从 0 开始计数：读取第 ``0 .. num_examples``
    行，所以最多返回 ``num_examples + 1`` 个句子对。

    返回 ``(source, target)``：两个列表，每个保留下来的行在其中对应一个词元列表。
    """
    ### BEGIN SOLUTION
    source, target = [], []
    for i, line in enumerate(text.split("\n")):
        if num_examples and i > num_examples:
            break
        parts = line.split("\t")
        if len(parts) == 2:
            source.append(parts[0].split(" "))
            target.append(parts[1].split(" "))
    return source, target
    ### END SOLUTION


def truncate_pad(line, num_steps, padding_token):
    """Cut or pad a list of tokens to exactly ``num_steps`` items (截断和填充).

    Longer lists keep their first ``num_steps`` items; shorter ones get ``padding_token``
    appended until they have ``num_steps``. Return a new list; ``line`` itself is unchanged.

    <!-- zh -->
    把词元列表截断或填充到恰好 ``num_steps`` 项。

    较长的列表保留前 ``num_steps`` 项；较短的列表在末尾追加 ``padding_token``，直到有
    ``num_steps`` 项。返回一个新列表；``line`` 本身保持不变。
    """
    ### BEGIN SOLUTION
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))
    ### END SOLUTION


def build_array_nmt(lines, vocab, num_steps):
    """Turn token lists into a minibatch array of indices (小批量), as the book does.

    Map each line's tokens to indices with ``vocab`` (``vocab[tokens]`` takes a token or a list
    of tokens; unknown tokens become ``vocab.unk``), append ``vocab['<eos>']``, then cut or pad
    it to ``num_steps`` with ``truncate_pad`` and ``vocab['<pad>']``. Return ``(array,
    valid_len)``: the integer tensor of shape ``(len(lines), num_steps)`` and, per row, the
    number of entries that are not ``vocab['<pad>']`` (an integer tensor of shape
    ``(len(lines),)``; the book's is int32).

    <!-- zh -->
    像书中那样把词元列表转换成由索引组成的小批量数组。

    用 ``vocab`` 把每行的词元映射为索引（``vocab[tokens]`` 接受一个词元或一个词元列表；未知
    词元变成 ``vocab.unk``），追加 ``vocab['<eos>']``，再用 ``truncate_pad`` 和
    ``vocab['<pad>']`` 把它截断或填充到 ``num_steps``。返回 ``(array, valid_len)``：形状为
    ``(len(lines), num_steps)`` 的整数张量，以及每行中不等于 ``vocab['<pad>']`` 的元素个数
    （形状为 ``(len(lines),)`` 的整数张量；书中的是 int32）。
    """
    ### BEGIN SOLUTION
    lines = [vocab[line] for line in lines]
    lines = [line + [vocab["<eos>"]] for line in lines]
    array = torch.tensor([truncate_pad(line, num_steps, vocab["<pad>"]) for line in lines])
    valid_len = (array != vocab["<pad>"]).type(torch.int32).sum(1)
    return array, valid_len
    ### END SOLUTION


class EncoderDecoder(nn.Module):
    """The encoder-decoder architecture (编码器-解码器架构), an ``nn.Module``.

    ``EncoderDecoder(encoder, decoder)`` keeps them as the submodules ``self.encoder`` and
    ``self.decoder`` (``course.Encoder`` and ``course.Decoder`` are their interfaces).
    ``forward(enc_X, dec_X, *args)`` encodes, ``enc_outputs = self.encoder(enc_X, *args)``,
    makes the decoder's first state, ``self.decoder.init_state(enc_outputs, *args)``, and
    returns what ``self.decoder(dec_X, state)`` returns.

    <!-- zh -->
    编码器-解码器架构，一个 ``nn.Module``。

    ``EncoderDecoder(encoder, decoder)`` 把它们保存为子模块 ``self.encoder`` 和
    ``self.decoder``（``course.Encoder`` 和 ``course.Decoder`` 是它们的接口）。
    ``forward(enc_X, dec_X, *args)`` 先编码，``enc_outputs = self.encoder(enc_X, *args)``，再生成
    解码器的初始状态，``self.decoder.init_state(enc_outputs, *args)``，然后返回
    ``self.decoder(dec_X, state)`` 的返回值。
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.encoder = encoder
        self.decoder = decoder
        ### END SOLUTION

    def forward(self, enc_X, dec_X, *args):
        ### BEGIN SOLUTION
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)
        ### END SOLUTION


class Seq2SeqEncoder(Encoder):
    """The book's RNN encoder for sequence to sequence learning (序列到序列学习), an ``Encoder``.

    ``Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)`` has the
    submodules ``embedding = nn.Embedding(vocab_size, embed_size)`` and ``rnn =
    nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)`` (time first, not
    ``batch_first``). ``forward(X, *args)`` takes token indices ``X`` of shape ``(B, T)``
    (extra arguments, such as valid lengths, are ignored), embeds them, puts time first (shape
    ``(T, B, embed_size)``) and returns what the GRU returns from its zero initial state:
    ``(output, state)`` of shapes ``(T, B, num_hiddens)`` and ``(num_layers, B, num_hiddens)``.

    <!-- zh -->
    书中用于序列到序列学习的循环神经网络编码器，一个 ``Encoder``。

    ``Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)`` 有子模块
    ``embedding = nn.Embedding(vocab_size, embed_size)`` 和
    ``rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)``（时间维在前，不用
    ``batch_first``）。``forward(X, *args)`` 接受形状为 ``(B, T)`` 的词元索引 ``X``（其他参数，
    例如有效长度，都被忽略），对它们做嵌入，把时间维放到最前面（形状为
    ``(T, B, embed_size)``），然后返回 GRU 从零初始状态出发的返回值：``(output, state)``，
    形状分别为 ``(T, B, num_hiddens)`` 和 ``(num_layers, B, num_hiddens)``。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)
        ### END SOLUTION

    def forward(self, X, *args):
        ### BEGIN SOLUTION
        X = self.embedding(X)
        X = X.permute(1, 0, 2)
        output, state = self.rnn(X)
        return output, state
        ### END SOLUTION


class Seq2SeqDecoder(Decoder):
    """The book's RNN decoder for sequence to sequence learning, a ``Decoder``.

    ``Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)`` has the
    submodules ``embedding = nn.Embedding(vocab_size, embed_size)``, ``rnn =
    nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)`` and ``dense =
    nn.Linear(num_hiddens, vocab_size)``. ``init_state(enc_outputs, *args)`` returns the
    encoder's final state ``enc_outputs[1]``. ``forward(X, state)`` takes ``X`` of shape
    ``(B, T)`` and ``state`` of shape ``(num_layers, B, num_hiddens)``: it embeds ``X`` with time
    first, appends the context ``state[-1]`` (the top layer of the state it was given) to the
    embedding at every step, runs the GRU from ``state``, applies ``dense`` and returns
    ``(output, state)``: the scores with the batch first again, shape ``(B, T, vocab_size)``,
    and the GRU's new state.

    <!-- zh -->
    书中用于序列到序列学习的循环神经网络解码器，一个 ``Decoder``。

    ``Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)`` 有子模块
    ``embedding = nn.Embedding(vocab_size, embed_size)``、
    ``rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)`` 和
    ``dense = nn.Linear(num_hiddens, vocab_size)``。``init_state(enc_outputs, *args)`` 返回
    编码器的最终状态 ``enc_outputs[1]``。``forward(X, state)`` 接受形状为 ``(B, T)`` 的 ``X``
    和形状为 ``(num_layers, B, num_hiddens)`` 的 ``state``：它对 ``X`` 做嵌入并让时间维在前，
    在每个时间步把上下文变量 ``state[-1]``（传入状态的最顶层）连结到嵌入上，从 ``state`` 出发
    运行 GRU，再应用 ``dense``，返回 ``(output, state)``：重新把批量维放到最前面的分数，形状为
    ``(B, T, vocab_size)``，以及 GRU 的新状态。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        ### END SOLUTION

    def init_state(self, enc_outputs, *args):
        ### BEGIN SOLUTION
        return enc_outputs[1]
        ### END SOLUTION

    def forward(self, X, state):
        ### BEGIN SOLUTION
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        X_and_context = torch.cat((X, context), 2)
        output, state = self.rnn(X_and_context, state)
        output = self.dense(output).permute(1, 0, 2)
        return output, state
        ### END SOLUTION


def sequence_mask(X, valid_len, value=0):
    """Mask irrelevant entries of sequences (屏蔽): in row ``i`` of ``X`` (shape ``(B, T, ...)``),
    set every entry at a position ``j >= valid_len[i]`` along dimension 1 to ``value``.

    ``valid_len`` is an integer tensor of shape ``(B,)`` on ``X``'s device. Return the masked
    tensor (the book masks ``X`` in place and returns it; a new tensor is fine too).

    <!-- zh -->
    屏蔽序列中不相关的项：在 ``X``（形状为 ``(B, T, ...)``）的第 ``i`` 行中，把沿维度 1
    位置 ``j >= valid_len[i]`` 处的每个元素都设为 ``value``。

    ``valid_len`` 是形状为 ``(B,)``、与 ``X`` 位于同一设备上的整数张量。返回屏蔽后的张量（书中
    原地屏蔽 ``X`` 并返回它；返回一个新张量也可以）。
    """
    ### BEGIN SOLUTION
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32,
                        device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X
    ### END SOLUTION


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """The softmax cross-entropy loss with masking (遮蔽的softmax交叉熵损失), a subclass of
    ``nn.CrossEntropyLoss``.

    ``forward(pred, label, valid_len)`` takes scores ``pred`` of shape ``(B, T, V)``, labels of
    shape ``(B, T)`` and valid lengths of shape ``(B,)``. It computes the unreduced
    cross-entropy of every position (``reduction='none'``), multiplies it by weights that are 1
    at positions ``j < valid_len[i]`` and 0 after them (the book builds them with
    ``sequence_mask(torch.ones_like(label), valid_len)``), and returns the mean over the ``T``
    time steps of each sequence: shape ``(B,)``.

    <!-- zh -->
    带遮蔽的 softmax 交叉熵损失，``nn.CrossEntropyLoss`` 的子类。

    ``forward(pred, label, valid_len)`` 接受形状为 ``(B, T, V)`` 的分数 ``pred``、形状为
    ``(B, T)`` 的标签和形状为 ``(B,)`` 的有效长度。它计算每个位置未经归约的交叉熵
    （``reduction='none'``），乘以权重（位置 ``j < valid_len[i]`` 处为 1，之后为 0；书中用
    ``sequence_mask(torch.ones_like(label), valid_len)`` 构造这些权重），然后返回每个序列在
    ``T`` 个时间步上的平均值：形状为 ``(B,)``。
    """

    def forward(self, pred, label, valid_len):
        ### BEGIN SOLUTION
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction = "none"
        unweighted_loss = super().forward(pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss
        ### END SOLUTION


def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    """The book's training loop for sequence to sequence learning (训练).

    Initialise, in every module of ``net``, the weight of each ``nn.Linear`` and every
    ``weight_*`` parameter of each ``nn.GRU`` with ``nn.init.xavier_uniform_`` (biases and
    embeddings keep their values); move ``net`` to ``device``; make one
    ``torch.optim.Adam(net.parameters(), lr=lr)`` and one ``MaskedSoftmaxCELoss()``; switch
    ``net`` to training mode. For ``num_epochs`` epochs, for each batch ``(X, X_valid_len, Y,
    Y_valid_len)`` of ``data_iter`` in order: zero the gradients, move the batch to ``device``,
    build the decoder input by teacher forcing (强制教学), ``tgt_vocab['<bos>']`` followed by
    ``Y[:, :-1]`` in every row, compute ``Y_hat, _ = net(X, dec_input, X_valid_len)`` and the
    loss ``l = loss(Y_hat, Y, Y_valid_len)``, call ``l.sum().backward()``, clip the gradients
    to norm 1 with ``grad_clipping(net, 1)`` (chapter 8's, in the toolbox) and take an
    optimizer step. The book plots and prints; in addition (a deliberate difference) return
    ``(loss_per_token, tokens_per_sec)`` of the last epoch as Python floats: the sum of that
    epoch's ``l.sum()`` over the sum of its ``Y_valid_len``, and the tokens per second.

    <!-- zh -->
    书中用于序列到序列学习的训练循环。

    在 ``net`` 的每个模块中，用 ``nn.init.xavier_uniform_`` 初始化每个 ``nn.Linear`` 的权重和
    每个 ``nn.GRU`` 的所有 ``weight_*`` 参数（偏置和嵌入层保持原值）；把 ``net`` 移到
    ``device`` 上；创建一个 ``torch.optim.Adam(net.parameters(), lr=lr)`` 和一个
    ``MaskedSoftmaxCELoss()``；把 ``net`` 切换到训练模式。训练 ``num_epochs`` 轮，每轮按顺序
    对 ``data_iter`` 的每个批量 ``(X, X_valid_len, Y, Y_valid_len)``：梯度清零，把批量移到
    ``device`` 上，用强制教学构造解码器的输入，即每行为 ``tgt_vocab['<bos>']`` 后接
    ``Y[:, :-1]``，计算 ``Y_hat, _ = net(X, dec_input, X_valid_len)`` 和损失
    ``l = loss(Y_hat, Y, Y_valid_len)``，调用 ``l.sum().backward()``，用
    ``grad_clipping(net, 1)``（第8章的函数，在工具箱中）把梯度的范数裁剪到 1，然后让优化器更新
    一步。书中会绘图和打印；除此之外（这是有意的不同），要以 Python 浮点数返回最后一轮的
    ``(loss_per_token, tokens_per_sec)``：该轮所有 ``l.sum()`` 之和除以该轮所有
    ``Y_valid_len`` 之和，以及每秒处理的词元数。
    """
    ### BEGIN SOLUTION
    def xavier_init_weights(m):
        if type(m) is nn.Linear:
            nn.init.xavier_uniform_(m.weight)
        if type(m) is nn.GRU:
            for param in m._flat_weights_names:
                if "weight" in param:
                    nn.init.xavier_uniform_(m._parameters[param])

    net.apply(xavier_init_weights)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()
    for epoch in range(num_epochs):
        timer = Timer()
        metric = Accumulator(2)  # sum of the losses, number of tokens
        for batch in data_iter:
            optimizer.zero_grad()
            X, X_valid_len, Y, Y_valid_len = [x.to(device) for x in batch]
            bos = torch.tensor([tgt_vocab["<bos>"]] * Y.shape[0], device=device).reshape(-1, 1)
            dec_input = torch.cat([bos, Y[:, :-1]], 1)
            Y_hat, _ = net(X, dec_input, X_valid_len)
            l = loss(Y_hat, Y, Y_valid_len)  # noqa: E741 - the book's name
            l.sum().backward()
            grad_clipping(net, 1)
            num_tokens = Y_valid_len.sum()
            optimizer.step()
            with torch.no_grad():
                metric.add(l.sum(), num_tokens)
        if (epoch + 1) % 50 == 0:
            print(f"epoch {epoch + 1}: loss {metric[0] / metric[1]:.3f}")
    speed = metric[1] / timer.stop()
    print(f"loss {metric[0] / metric[1]:.3f}, {speed:.1f} tokens/sec on {device}")
    return float(metric[0] / metric[1]), float(speed)
    ### END SOLUTION


# --- decoding (beam search, BLEU) ---


def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    """Greedy prediction with a trained encoder–decoder (序列到序列模型的预测), as in the book.

    Put ``net`` in evaluation mode. The source tokens are ``src_sentence.lower().split(' ')``
    mapped by ``src_vocab``, then ``src_vocab['<eos>']``; ``enc_valid_len`` is the tensor
    ``[number of those tokens]`` on ``device`` (counted before padding, as the book does; a
    count capped at ``num_steps`` is accepted too). Cut or pad the tokens to ``num_steps`` with
    ``src_vocab['<pad>']`` by calling your ``truncate_pad`` by name (the grader swaps in a
    reference one) and add a batch axis: ``enc_X`` is a ``(1, num_steps)`` long tensor on
    ``device``. Then ``enc_outputs = net.encoder(enc_X, enc_valid_len)`` and
    ``dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)``.

    Decode one token at a time, at most ``num_steps`` times: ``Y, dec_state =
    net.decoder(dec_X, dec_state)``, where ``dec_X`` is a ``(1, 1)`` long tensor holding
    ``tgt_vocab['<bos>']`` at the first step and the token predicted last otherwise; the
    prediction is the arg-max of ``Y`` (shape ``(1, 1, len(tgt_vocab))``) over the vocabulary.
    With ``save_attention_weights``, append ``net.decoder.attention_weights`` after every
    decoder call (the one that predicts ``<eos>`` included). Stop as soon as ``<eos>`` is
    predicted; it is not part of the output.

    Returns ``(' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq)``: the
    predicted tokens without ``<eos>``, and the list of saved weights (empty unless
    ``save_attention_weights``).

    <!-- zh -->
    像书中那样，用训练好的编码器-解码器进行贪心预测。

    把 ``net`` 设为评估模式。源词元是 ``src_sentence.lower().split(' ')`` 经 ``src_vocab``
    映射的结果，再加上 ``src_vocab['<eos>']``；``enc_valid_len`` 是位于 ``device`` 上的张量
    ``[这些词元的个数]``（像书中那样在填充之前计数；截断到 ``num_steps`` 的计数也可以接受）。
    按名字调用你的 ``truncate_pad``（评分程序会换成参考实现），用 ``src_vocab['<pad>']`` 把
    词元截断或填充到 ``num_steps``，并添加批量轴：``enc_X`` 是位于 ``device`` 上、形状为
    ``(1, num_steps)`` 的 long 张量。然后计算 ``enc_outputs = net.encoder(enc_X, enc_valid_len)``
    和 ``dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)``。

    一次解码一个词元，最多 ``num_steps`` 次：``Y, dec_state = net.decoder(dec_X, dec_state)``，
    其中 ``dec_X`` 是形状为 ``(1, 1)`` 的 long 张量，第一步存放 ``tgt_vocab['<bos>']``，之后存放
    上一步预测的词元；预测结果是 ``Y``（形状为 ``(1, 1, len(tgt_vocab))``）在词表上的 arg-max。
    若 ``save_attention_weights`` 为真，在每次调用解码器之后（包括预测出 ``<eos>`` 的那一次）
    追加 ``net.decoder.attention_weights``。一旦预测出 ``<eos>`` 就停止；``<eos>`` 不属于输出。

    返回 ``(' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq)``：不含 ``<eos>``
    的预测词元，以及保存下来的权重列表（除非设置了 ``save_attention_weights``，否则为空）。
    """
    ### BEGIN SOLUTION
    net.eval()
    src_tokens = src_vocab[src_sentence.lower().split(' ')] + [src_vocab['<eos>']]
    enc_valid_len = torch.tensor([len(src_tokens)], device=device)
    src_tokens = truncate_pad(src_tokens, num_steps, src_vocab['<pad>'])
    enc_X = torch.unsqueeze(torch.tensor(src_tokens, dtype=torch.long, device=device), dim=0)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    dec_X = torch.unsqueeze(torch.tensor([tgt_vocab['<bos>']], dtype=torch.long,
                                         device=device), dim=0)
    output_seq, attention_weight_seq = [], []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        if save_attention_weights:
            attention_weight_seq.append(net.decoder.attention_weights)
        if pred == tgt_vocab['<eos>']:
            break
        output_seq.append(pred)
    return ' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq
    ### END SOLUTION


def bleu(pred_seq, label_seq, k):
    """The book's BLEU score (BLEU) of a predicted sequence against a label sequence.

    Both are strings of tokens separated by single spaces (``seq.split(' ')``); ``pred_seq``
    has at least ``k`` tokens. With ``len_pred`` and ``len_label`` token counts, the score is
    the brevity penalty ``exp(min(0, 1 - len_label / len_pred))`` times, for ``n = 1 .. k``,
    ``p_n ** (1 / 2**n)``, where ``p_n`` is the clipped n-gram precision: the number of the
    prediction's ``len_pred - n + 1`` n-grams that match an n-gram of the label, each label
    n-gram matching at most as many times as it occurs in the label, divided by
    ``len_pred - n + 1``. Returns a Python float (1.0 for a perfect prediction).

    <!-- zh -->
    书中的 BLEU 分数：衡量预测序列与标签序列的匹配程度。

    两者都是由单个空格分隔的词元字符串（``seq.split(' ')``）；``pred_seq`` 至少有 ``k`` 个
    词元。设两者的词元数分别为 ``len_pred`` 和 ``len_label``，分数是简短惩罚
    ``exp(min(0, 1 - len_label / len_pred))`` 乘以 ``n = 1 .. k`` 的各个 ``p_n ** (1 / 2**n)``，
    其中 ``p_n`` 是截断计数后的 n 元语法精确率：在预测序列的 ``len_pred - n + 1`` 个 n 元语法中，
    与标签序列的某个 n 元语法相匹配的个数（标签序列的每个 n 元语法最多只能匹配它在标签序列中
    出现的次数），除以 ``len_pred - n + 1``。返回 Python 浮点数（完美的预测得 1.0）。
    """
    ### BEGIN SOLUTION
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[' '.join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[' '.join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[' '.join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score
    ### END SOLUTION


def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    """Beam search (束搜索) for the most likely output sequence, with the book's length penalty.

    ``step(prefixes)`` takes a ``(k, t)`` long tensor of ``k`` prefixes, each starting with
    ``bos``, and returns the ``(k, V)`` log-probabilities of the next token after each prefix
    (as a tensor on its own device: keep your running scores there). The search starts from
    the one prefix ``[bos]`` with log-probability 0. At each of at most ``max_len`` steps,
    extend every prefix in the beam by every token (its total log-probability is the prefix's
    plus the step's), and keep the ``beam_size`` best of all these extensions (fewer if there
    are fewer). Each kept extension that ends with ``eos`` is finished: it becomes a candidate
    and leaves the beam. Stop after ``max_len`` generated tokens, or earlier when the beam is
    empty; the prefixes still in the beam then are candidates too.

    Of all candidates return the one with the highest ``log P / L**alpha``, where ``log P`` is
    its total log-probability and ``L`` the number of tokens it generated (``eos`` counted,
    ``bos`` not), as ``(tokens, score)``: ``tokens`` a list of Python ints without ``bos``
    (ending with ``eos`` when finished), ``score`` that value as a Python float. Ties may be
    broken either way.

    <!-- zh -->
    束搜索：使用书中的长度惩罚，寻找可能性最大的输出序列。

    ``step(prefixes)`` 接受一个形状为 ``(k, t)``、由 ``k`` 个前缀组成的 long 张量，每个前缀都
    以 ``bos`` 开头，返回每个前缀之后下一个词元的对数概率，形状为 ``(k, V)``（它是位于自己的
    设备上的张量：把你的累计得分也放在那个设备上）。搜索从唯一的前缀 ``[bos]`` 开始，其对数
    概率为 0。在至多 ``max_len`` 步中的每一步，用每个词元扩展束中的每个前缀（扩展的总对数概率
    是前缀的对数概率加上这一步的对数概率），并在所有这些扩展中保留最好的 ``beam_size`` 个
    （扩展不够时保留全部）。每个以 ``eos`` 结尾的保留扩展都已完成：它成为一个候选序列并离开
    束。生成 ``max_len`` 个词元后停止，或者在束为空时提前停止；这时仍在束中的前缀也是候选序列。

    在所有候选序列中，返回 ``log P / L**alpha`` 最高的那个，其中 ``log P`` 是它的总对数概率，
    ``L`` 是它生成的词元数（计入 ``eos``，不计 ``bos``），形式为 ``(tokens, score)``：
    ``tokens`` 是不含 ``bos`` 的 Python 整数列表（已完成的序列以 ``eos`` 结尾），``score`` 是
    上述值，为 Python 浮点数。得分相同时选哪一个都可以。
    """
    ### BEGIN SOLUTION
    prefixes = torch.tensor([[bos]], dtype=torch.long)
    scores = torch.zeros(1, dtype=torch.float64)
    candidates = []
    for _ in range(max_len):
        log_probs = step(prefixes)
        prefixes, scores = prefixes.to(log_probs.device), scores.to(log_probs.device)
        vocab_size = log_probs.shape[1]
        totals = (scores.unsqueeze(1) + log_probs).reshape(-1)
        best = torch.topk(totals, min(beam_size, totals.numel()))
        rows = torch.div(best.indices, vocab_size, rounding_mode='floor')
        tokens = best.indices % vocab_size
        prefixes = torch.cat([prefixes[rows], tokens.unsqueeze(1)], dim=1)
        scores = best.values
        done = tokens == eos
        candidates += zip(prefixes[done][:, 1:].tolist(), scores[done].tolist())
        prefixes, scores = prefixes[~done], scores[~done]
        if len(prefixes) == 0:
            break
    candidates += zip(prefixes[:, 1:].tolist(), scores.tolist())
    tokens, log_p = max(candidates, key=lambda c: c[1] / len(c[0]) ** alpha)
    return tokens, log_p / len(tokens) ** alpha
    ### END SOLUTION
