"""Reference solutions for ch10, Attention mechanisms (注意力机制).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import math

import torch
from torch import nn

from course import Decoder, Encoder


def nadaraya_watson(x_train, y_train, x_query):
    """The Nadaraya-Watson estimator (Nadaraya-Watson 核回归) with a Gaussian kernel.

    ``x_train`` and ``y_train`` have shape ``(n,)``, ``x_query`` shape ``(m,)``. Return the pair
    ``(y_hat, attention_weights)``: ``attention_weights`` of shape ``(m, n)`` is, row ``i``, the
    softmax over ``j`` of ``-(x_query[i] - x_train[j]) ** 2 / 2``, and ``y_hat`` of shape
    ``(m,)`` is ``attention_weights @ y_train``. Differentiable with respect to every input.

    <!-- zh -->
    使用高斯核的 Nadaraya-Watson 估计器（Nadaraya-Watson 核回归）。

    ``x_train`` 和 ``y_train`` 的形状为 ``(n,)``，``x_query`` 的形状为 ``(m,)``。返回二元组
    ``(y_hat, attention_weights)``：形状为 ``(m, n)`` 的 ``attention_weights`` 的第 ``i`` 行
    是 ``-(x_query[i] - x_train[j]) ** 2 / 2`` 对 ``j`` 做 softmax 的结果；形状为 ``(m,)``
    的 ``y_hat`` 等于 ``attention_weights @ y_train``。对每个输入都可微。
    """
    ### BEGIN SOLUTION
    X_repeat = x_query.repeat_interleave(x_train.shape[0]).reshape((-1, x_train.shape[0]))
    attention_weights = nn.functional.softmax(-(X_repeat - x_train) ** 2 / 2, dim=1)
    y_hat = torch.matmul(attention_weights, y_train)
    return y_hat, attention_weights
    ### END SOLUTION


class NWKernelRegression(nn.Module):
    """The book's parametric Nadaraya-Watson regression (带参数注意力汇聚).

    One learnable scalar parameter ``w`` of shape ``(1,)`` (drawn with ``torch.rand``).
    ``forward(queries, keys, values)`` takes ``queries`` of shape ``(m,)`` and ``keys`` and
    ``values`` of shape ``(m, n)`` (row ``i`` holds the training pairs used for query ``i``);
    it stores ``self.attention_weights`` of shape ``(m, n)``, the softmax over ``j`` of
    ``-((queries[i] - keys[i, j]) * w) ** 2 / 2``, and returns the weighted averages of the
    values, shape ``(m,)``.

    <!-- zh -->
    书中带参数的 Nadaraya-Watson 回归（带参数注意力汇聚）。

    有一个可学习的标量参数 ``w``，形状为 ``(1,)``（用 ``torch.rand`` 初始化）。
    ``forward(queries, keys, values)`` 接受形状为 ``(m,)`` 的 ``queries``，以及形状都为
    ``(m, n)`` 的 ``keys`` 和 ``values``（第 ``i`` 行是查询 ``i`` 所用的训练样本对）；它把
    ``-((queries[i] - keys[i, j]) * w) ** 2 / 2`` 对 ``j`` 做 softmax 的结果保存为
    ``self.attention_weights``（形状为 ``(m, n)``），并返回各行值的加权平均，形状为 ``(m,)``。
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.w = nn.Parameter(torch.rand((1,), requires_grad=True))
        ### END SOLUTION

    def forward(self, queries, keys, values):
        ### BEGIN SOLUTION
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = nn.functional.softmax(
            -((queries - keys) * self.w) ** 2 / 2, dim=1)
        return torch.bmm(self.attention_weights.unsqueeze(1),
                         values.unsqueeze(-1)).reshape(-1)
        ### END SOLUTION


def masked_softmax(X, valid_lens):
    """The softmax of ``X`` (shape ``(B, Q, K)``) along its last axis, masked (掩蔽softmax操作).

    ``valid_lens`` is ``None`` (a plain softmax), a 1-D tensor of shape ``(B,)`` (example ``b``
    keeps its first ``valid_lens[b]`` keys for every query) or a 2-D tensor of shape ``(B, Q)``
    (query ``q`` of example ``b`` keeps its first ``valid_lens[b, q]`` keys). Masked positions
    are replaced by ``-1e6`` before the softmax, so they get weight (numerically) 0, and a row
    with valid length 0 becomes uniform, as in the book.

    <!-- zh -->
    掩蔽softmax操作：沿最后一个轴对 ``X``（形状为 ``(B, Q, K)``）做 softmax，并屏蔽部分位置。

    ``valid_lens`` 可以是 ``None``（普通的 softmax）、形状为 ``(B,)`` 的一维张量（样本 ``b``
    的每个查询都保留前 ``valid_lens[b]`` 个键），或形状为 ``(B, Q)`` 的二维张量（样本 ``b``
    的查询 ``q`` 保留前 ``valid_lens[b, q]`` 个键）。被屏蔽的位置在 softmax 之前替换为
    ``-1e6``，因此它们的权重（在数值上）为 0；和书中一样，有效长度为 0 的行会变成均匀分布。
    """
    ### BEGIN SOLUTION
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    else:
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        X = X.reshape(-1, shape[-1])
        maxlen = X.size(1)
        mask = torch.arange((maxlen), dtype=torch.float32,
                            device=X.device)[None, :] < valid_lens[:, None]
        X = X.masked_fill(~mask, -1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)
    ### END SOLUTION


class AdditiveAttention(nn.Module):
    """Additive attention (加性注意力).

    ``AdditiveAttention(key_size, query_size, num_hiddens, dropout)`` has ``W_k =
    nn.Linear(key_size, num_hiddens, bias=False)``, ``W_q = nn.Linear(query_size, num_hiddens,
    bias=False)``, ``w_v = nn.Linear(num_hiddens, 1, bias=False)`` and ``dropout =
    nn.Dropout(dropout)``. ``forward(queries, keys, values, valid_lens)`` with queries
    ``(B, Q, query_size)``, keys ``(B, K, key_size)``, values ``(B, K, v)``: the score of query
    ``q`` and key ``k`` is ``w_v(tanh(W_q(q) + W_k(k)))``; store ``self.attention_weights =
    masked_softmax(scores, valid_lens)`` (shape ``(B, Q, K)``) and return
    ``torch.bmm(dropout(attention_weights), values)``, shape ``(B, Q, v)``.

    <!-- zh -->
    加性注意力。

    ``AdditiveAttention(key_size, query_size, num_hiddens, dropout)`` 包含 ``W_k =
    nn.Linear(key_size, num_hiddens, bias=False)``、``W_q = nn.Linear(query_size, num_hiddens,
    bias=False)``、``w_v = nn.Linear(num_hiddens, 1, bias=False)`` 和 ``dropout =
    nn.Dropout(dropout)``。``forward(queries, keys, values, valid_lens)`` 中查询的形状为
    ``(B, Q, query_size)``，键为 ``(B, K, key_size)``，值为 ``(B, K, v)``：查询 ``q`` 与键
    ``k`` 的评分为 ``w_v(tanh(W_q(q) + W_k(k)))``；保存 ``self.attention_weights =
    masked_softmax(scores, valid_lens)``（形状为 ``(B, Q, K)``），并返回
    ``torch.bmm(dropout(attention_weights), values)``，形状为 ``(B, Q, v)``。
    """

    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, queries, keys, values, valid_lens):
        ### BEGIN SOLUTION
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
        ### END SOLUTION


class DotProductAttention(nn.Module):
    """Scaled dot-product attention (缩放点积注意力).

    ``DotProductAttention(dropout)`` has ``dropout = nn.Dropout(dropout)`` and no parameters.
    ``forward(queries, keys, values, valid_lens=None)`` with queries ``(B, Q, d)``, keys
    ``(B, K, d)``, values ``(B, K, v)``: scores ``queries @ keys^T / sqrt(d)``; store
    ``self.attention_weights = masked_softmax(scores, valid_lens)`` and return
    ``torch.bmm(dropout(attention_weights), values)``, shape ``(B, Q, v)``.
    ``F.scaled_dot_product_attention`` is not allowed.

    <!-- zh -->
    缩放点积注意力。

    ``DotProductAttention(dropout)`` 包含 ``dropout = nn.Dropout(dropout)``，没有参数。
    ``forward(queries, keys, values, valid_lens=None)`` 中查询的形状为 ``(B, Q, d)``，键为
    ``(B, K, d)``，值为 ``(B, K, v)``：评分为 ``queries @ keys^T / sqrt(d)``；保存
    ``self.attention_weights = masked_softmax(scores, valid_lens)``，并返回
    ``torch.bmm(dropout(attention_weights), values)``，形状为 ``(B, Q, v)``。
    不允许使用 ``F.scaled_dot_product_attention``。
    """

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.dropout = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, queries, keys, values, valid_lens=None):
        ### BEGIN SOLUTION
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
        ### END SOLUTION


class Seq2SeqAttentionDecoder(Decoder):
    """The Bahdanau attention decoder (Bahdanau 注意力解码器).

    ``Seq2SeqAttentionDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)`` has
    ``attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)``,
    ``embedding = nn.Embedding(vocab_size, embed_size)``, ``rnn = nn.GRU(embed_size +
    num_hiddens, num_hiddens, num_layers, dropout=dropout)`` and ``dense =
    nn.Linear(num_hiddens, vocab_size)``.

    ``init_state(enc_outputs, enc_valid_lens)`` takes the encoder's ``(outputs, hidden_state)``
    (outputs ``(T, B, h)``, hidden state ``(num_layers, B, h)``) and returns
    ``(outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)``.

    ``forward(X, state)``: X ``(B, T)`` token ids; embed and permute to ``(T, B, e)``; for each
    step, the query is the last layer of the hidden state, ``hidden_state[-1]`` unsqueezed to
    ``(B, 1, h)``; the context is ``attention(query, enc_outputs, enc_outputs,
    enc_valid_lens)``; concatenate the context and the step's embedding on the feature axis,
    run the GRU for that step, and keep the step's output and the attention's weights. Return
    ``(dense(outputs).permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens])`` (shape
    ``(B, T, vocab_size)``). Keep the list of the attention's weights of every step of the
    last call in ``self._attention_weights``: the given property ``attention_weights``
    returns it.

    <!-- zh -->
    Bahdanau 注意力解码器。

    ``Seq2SeqAttentionDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)``
    包含 ``attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)``、
    ``embedding = nn.Embedding(vocab_size, embed_size)``、``rnn = nn.GRU(embed_size +
    num_hiddens, num_hiddens, num_layers, dropout=dropout)`` 和 ``dense =
    nn.Linear(num_hiddens, vocab_size)``。

    ``init_state(enc_outputs, enc_valid_lens)`` 接受编码器的输出 ``(outputs, hidden_state)``
    （``outputs`` 的形状为 ``(T, B, h)``，隐状态为 ``(num_layers, B, h)``），返回
    ``(outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)``。

    ``forward(X, state)``：X 是形状为 ``(B, T)`` 的词元索引；先做嵌入，再用 permute 变为
    ``(T, B, e)``；在每个时间步，查询是隐状态的最后一层 ``hidden_state[-1]``，用 unsqueeze
    变为 ``(B, 1, h)``；上下文变量是 ``attention(query, enc_outputs, enc_outputs,
    enc_valid_lens)``；在特征维上把上下文变量和这一步的嵌入连结起来，让 GRU 运行这一个时间
    步，并保存这一步的输出和注意力权重。返回 ``(dense(outputs).permute(1, 0, 2),
    [enc_outputs, hidden_state, enc_valid_lens])``（形状为 ``(B, T, vocab_size)``）。把最近
    一次调用中每个时间步的注意力权重组成的列表保存在 ``self._attention_weights`` 中：已经
    给出的属性 ``attention_weights`` 会返回它。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        ### END SOLUTION

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        ### BEGIN SOLUTION
        outputs, hidden_state = enc_outputs
        return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)
        ### END SOLUTION

    def forward(self, X, state):
        ### BEGIN SOLUTION
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X).permute(1, 0, 2)
        outputs, self._attention_weights = [], []
        for x in X:
            query = torch.unsqueeze(hidden_state[-1], dim=1)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            x = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
            out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        outputs = self.dense(torch.cat(outputs, dim=0))
        return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]
        ### END SOLUTION

    @property
    def attention_weights(self):
        return self._attention_weights


def transpose_qkv(X, num_heads):
    """Split the last axis of ``X`` ``(B, n, num_heads * d)`` into heads (为了多注意力头的并行计算).

    Return shape ``(B * num_heads, n, d)``: row ``b * num_heads + i`` holds head ``i`` (features
    ``i * d`` to ``(i + 1) * d - 1``) of example ``b``.

    <!-- zh -->
    把 ``X``（形状为 ``(B, n, num_heads * d)``）的最后一个轴拆分成多个头（为了多注意力头的
    并行计算）。

    返回的形状为 ``(B * num_heads, n, d)``：第 ``b * num_heads + i`` 行是样本 ``b`` 的头
    ``i``（特征 ``i * d`` 到 ``(i + 1) * d - 1``）。
    """
    ### BEGIN SOLUTION
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)
    X = X.permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])
    ### END SOLUTION


def transpose_output(X, num_heads):
    """Undo ``transpose_qkv``: ``(B * num_heads, n, d)`` back to ``(B, n, num_heads * d)``.

    <!-- zh -->
    撤销 ``transpose_qkv``：把 ``(B * num_heads, n, d)`` 变回 ``(B, n, num_heads * d)``。"""
    ### BEGIN SOLUTION
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])
    X = X.permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)
    ### END SOLUTION


class MultiHeadAttention(nn.Module):
    """Multi-head attention (多头注意力).

    ``MultiHeadAttention(key_size, query_size, value_size, num_hiddens, num_heads, dropout,
    bias=False)`` has ``num_heads``, ``attention = DotProductAttention(dropout)``, ``W_q =
    nn.Linear(query_size, num_hiddens, bias=bias)``, ``W_k = nn.Linear(key_size, num_hiddens,
    bias=bias)``, ``W_v = nn.Linear(value_size, num_hiddens, bias=bias)`` and ``W_o =
    nn.Linear(num_hiddens, num_hiddens, bias=bias)``. ``forward(queries, keys, values,
    valid_lens)``: project with ``W_q``, ``W_k``, ``W_v``, split into heads with
    ``transpose_qkv``, repeat ``valid_lens`` (when not None) ``num_heads`` times along axis 0
    (``torch.repeat_interleave``), attend, merge with ``transpose_output`` and project with
    ``W_o``; shape ``(B, Q, num_hiddens)``. ``nn.MultiheadAttention`` and
    ``F.scaled_dot_product_attention`` are not allowed.

    <!-- zh -->
    多头注意力。

    ``MultiHeadAttention(key_size, query_size, value_size, num_hiddens, num_heads, dropout,
    bias=False)`` 包含 ``num_heads``、``attention = DotProductAttention(dropout)``、``W_q =
    nn.Linear(query_size, num_hiddens, bias=bias)``、``W_k = nn.Linear(key_size, num_hiddens,
    bias=bias)``、``W_v = nn.Linear(value_size, num_hiddens, bias=bias)`` 和 ``W_o =
    nn.Linear(num_hiddens, num_hiddens, bias=bias)``。``forward(queries, keys, values,
    valid_lens)``：用 ``W_q``、``W_k``、``W_v`` 做投影，用 ``transpose_qkv`` 拆分成多个头，
    （``valid_lens`` 不为 None 时）把 ``valid_lens`` 沿轴 0 重复 ``num_heads`` 次
    （``torch.repeat_interleave``），计算注意力，用 ``transpose_output`` 合并各个头，再用
    ``W_o`` 投影；输出形状为 ``(B, Q, num_hiddens)``。不允许使用 ``nn.MultiheadAttention``
    和 ``F.scaled_dot_product_attention``。
    """

    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        ### END SOLUTION

    def forward(self, queries, keys, values, valid_lens):
        ### BEGIN SOLUTION
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        output_concat = transpose_output(output, self.num_heads)
        return self.W_o(output_concat)
        ### END SOLUTION


# --- Transformer ---



class PositionalEncoding(nn.Module):
    """The book's sine-cosine positional encoding (10.6.3), followed by dropout.

    ``self.P`` (a tensor attribute or buffer) has shape ``(1, max_len, num_hiddens)`` (float32):
    ``P[0, i, 2j] = sin(i / 10000^(2j / num_hiddens))`` and
    ``P[0, i, 2j+1] = cos(i / 10000^(2j / num_hiddens))``; ``num_hiddens`` is even.
    ``forward(X)`` with ``X`` of shape ``(batch_size, num_steps, num_hiddens)`` returns
    ``dropout(X + P[:, :num_steps, :])`` (``P`` moved to ``X``'s device).

    <!-- zh -->
    书中基于正弦函数和余弦函数的位置编码（10.6.3），后接暂退法。

    ``self.P``（张量属性或缓冲区）的形状为 ``(1, max_len, num_hiddens)``（float32）：
    ``P[0, i, 2j] = sin(i / 10000^(2j / num_hiddens))``，
    ``P[0, i, 2j+1] = cos(i / 10000^(2j / num_hiddens))``；``num_hiddens`` 为偶数。
    ``forward(X)`` 中 ``X`` 的形状为 ``(batch_size, num_steps, num_hiddens)``，返回
    ``dropout(X + P[:, :num_steps, :])``（要先把 ``P`` 移到 ``X`` 所在的设备上）。
    """

    def __init__(self, num_hiddens: int, dropout: float, max_len: int = 1000):
        super().__init__()
        ### BEGIN SOLUTION
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)
        ### END SOLUTION

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)
        ### END SOLUTION


class PositionWiseFFN(nn.Module):
    """The position-wise feed-forward network (10.7.2): ``dense2(relu(dense1(X)))`` with
    ``dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)`` and
    ``dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)``, applied at every position of
    ``X`` of shape ``(batch_size, num_steps, ffn_num_input)``.

    <!-- zh -->
    基于位置的前馈网络（10.7.2）：``dense2(relu(dense1(X)))``，其中
    ``dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)``，
    ``dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)``，作用在形状为
    ``(batch_size, num_steps, ffn_num_input)`` 的 ``X`` 的每个位置上。"""

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int,
                 **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)
        ### END SOLUTION

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.dense2(self.relu(self.dense1(X)))
        ### END SOLUTION


class AddNorm(nn.Module):
    """Residual connection followed by layer normalization (10.7.3):
    ``forward(X, Y) = ln(dropout(Y) + X)`` with ``ln = nn.LayerNorm(normalized_shape)`` and
    ``dropout = nn.Dropout(dropout)``.

    <!-- zh -->
    残差连接后进行层规范化（10.7.3）：``forward(X, Y) = ln(dropout(Y) + X)``，其中
    ``ln = nn.LayerNorm(normalized_shape)``，``dropout = nn.Dropout(dropout)``。"""

    def __init__(self, normalized_shape, dropout: float, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(normalized_shape)
        ### END SOLUTION

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.ln(self.dropout(Y) + X)
        ### END SOLUTION


class EncoderBlock(nn.Module):
    """One Transformer encoder block (10.7.4).

    Submodules: ``attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
    num_heads, dropout, use_bias)``, ``addnorm1 = AddNorm(norm_shape, dropout)``,
    ``ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)``,
    ``addnorm2 = AddNorm(norm_shape, dropout)``. ``forward(X, valid_lens)``: self-attention
    ``Y = addnorm1(X, attention(X, X, X, valid_lens))``, then ``addnorm2(Y, ffn(Y))``.

    <!-- zh -->
    Transformer 的一个编码器块（10.7.4）。

    子模块：``attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
    num_heads, dropout, use_bias)``、``addnorm1 = AddNorm(norm_shape, dropout)``、
    ``ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)``、
    ``addnorm2 = AddNorm(norm_shape, dropout)``。``forward(X, valid_lens)``：先做自注意力
    ``Y = addnorm1(X, attention(X, X, X, valid_lens))``，再返回 ``addnorm2(Y, ffn(Y))``。
    """

    def __init__(self, key_size: int, query_size: int, value_size: int, num_hiddens: int,
                 norm_shape, ffn_num_input: int, ffn_num_hiddens: int, num_heads: int,
                 dropout: float, use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.attention = MultiHeadAttention(
            key_size, query_size, value_size, num_hiddens, num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)
        ### END SOLUTION

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
        ### BEGIN SOLUTION
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))
        ### END SOLUTION


class TransformerEncoder(Encoder):
    """The Transformer encoder (10.7.4): ``embedding = nn.Embedding(vocab_size, num_hiddens)``,
    ``pos_encoding = PositionalEncoding(num_hiddens, dropout)`` and ``blks``, an
    ``nn.Sequential`` of ``num_layers`` ``EncoderBlock``s added as ``"block0"``, ``"block1"``, …

    ``forward(X, valid_lens)``: ``X = pos_encoding(embedding(X) * sqrt(num_hiddens))`` (the
    scaling keeps embeddings and positional encodings of similar size), then each block in turn
    with ``valid_lens``; ``self.attention_weights[i]`` keeps block ``i``'s
    ``attention.attention.attention_weights``. Returns the last block's output.

    <!-- zh -->
    Transformer 编码器（10.7.4）：``embedding = nn.Embedding(vocab_size, num_hiddens)``、
    ``pos_encoding = PositionalEncoding(num_hiddens, dropout)`` 和 ``blks``，后者是由
    ``num_layers`` 个 ``EncoderBlock`` 组成的 ``nn.Sequential``，依次以 ``"block0"``、
    ``"block1"``……为名添加。

    ``forward(X, valid_lens)``：``X = pos_encoding(embedding(X) * sqrt(num_hiddens))``（这一
    缩放使嵌入和位置编码的大小相近），然后依次让每个块处理 ``X``（传入 ``valid_lens``）；
    ``self.attention_weights[i]`` 保存第 ``i`` 个块的
    ``attention.attention.attention_weights``。返回最后一个块的输出。
    """

    def __init__(self, vocab_size: int, key_size: int, query_size: int, value_size: int,
                 num_hiddens: int, norm_shape, ffn_num_input: int, ffn_num_hiddens: int,
                 num_heads: int, num_layers: int, dropout: float, use_bias: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module("block" + str(i), EncoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, use_bias))
        ### END SOLUTION

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None,
                *args) -> torch.Tensor:
        ### BEGIN SOLUTION
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X
        ### END SOLUTION


class DecoderBlock(nn.Module):
    """The ``i``-th Transformer decoder block (10.7.5).

    Submodules: ``attention1`` (masked self-attention) and ``attention2`` (encoder-decoder
    attention), each ``MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
    num_heads, dropout)``; ``addnorm1``, ``addnorm2``, ``addnorm3`` (``AddNorm(norm_shape,
    dropout)``) and ``ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)``.

    ``forward(X, state)`` with ``state = [enc_outputs, enc_valid_lens, caches]``:
    the keys and values of the self-attention are ``caches[self.i]`` followed by ``X`` along
    the time axis (just ``X`` when ``caches[self.i]`` is None), and ``caches[self.i]`` is set to
    them (in prediction the decoder runs one step at a time and needs all earlier steps). In
    training mode each query ``t`` (0-based) of ``X`` sees keys ``0..t`` only (valid lengths
    ``1..num_steps`` per query, for every sequence of the batch); in evaluation mode no mask.
    Then ``Y = addnorm1(X, self-attention)``, ``Z = addnorm2(Y, attention2(Y, enc_outputs,
    enc_outputs, enc_valid_lens))`` and the result is ``(addnorm3(Z, ffn(Z)), state)``.

    <!-- zh -->
    Transformer 的第 ``i`` 个解码器块（10.7.5）。

    子模块：``attention1``（掩蔽自注意力）和 ``attention2``（编码器－解码器注意力），都是
    ``MultiHeadAttention(key_size, query_size, value_size, num_hiddens, num_heads, dropout)``；
    ``addnorm1``、``addnorm2``、``addnorm3``（``AddNorm(norm_shape, dropout)``）以及
    ``ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)``。

    ``forward(X, state)``，其中 ``state = [enc_outputs, enc_valid_lens, caches]``：自注意力的
    键和值是沿时间轴把 ``caches[self.i]`` 和 ``X`` 连结起来的结果（``caches[self.i]`` 为
    None 时就是 ``X``），并把 ``caches[self.i]`` 设为它（预测时解码器每次只运行一个时间步，
    需要之前所有时间步的键和值）。在训练模式下，``X`` 的每个查询 ``t``（从 0 开始计数）只能
    看到键 ``0..t``（对批量中的每个序列，各查询的有效长度依次为 ``1..num_steps``）；在评估
    模式下不加掩蔽。然后计算 ``Y = addnorm1(X, 自注意力的输出)``、``Z = addnorm2(Y,
    attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))``，结果为
    ``(addnorm3(Z, ffn(Z)), state)``。
    """

    def __init__(self, key_size: int, query_size: int, value_size: int, num_hiddens: int,
                 norm_shape, ffn_num_input: int, ffn_num_hiddens: int, num_heads: int,
                 dropout: float, i: int, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.i = i
        self.attention1 = MultiHeadAttention(
            key_size, query_size, value_size, num_hiddens, num_heads, dropout)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.attention2 = MultiHeadAttention(
            key_size, query_size, value_size, num_hiddens, num_heads, dropout)
        self.addnorm2 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm3 = AddNorm(norm_shape, dropout)
        ### END SOLUTION

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        ### BEGIN SOLUTION
        enc_outputs, enc_valid_lens = state[0], state[1]
        if state[2][self.i] is None:
            key_values = X
        else:
            key_values = torch.cat((state[2][self.i], X), dim=1)
        state[2][self.i] = key_values
        if self.training:
            batch_size, num_steps, _ = X.shape
            dec_valid_lens = torch.arange(
                1, num_steps + 1, device=X.device).repeat(batch_size, 1)
        else:
            dec_valid_lens = None
        X2 = self.attention1(X, key_values, key_values, dec_valid_lens)
        Y = self.addnorm1(X, X2)
        Y2 = self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens)
        Z = self.addnorm2(Y, Y2)
        return self.addnorm3(Z, self.ffn(Z)), state
        ### END SOLUTION


class TransformerDecoder(Decoder):
    """The Transformer decoder (10.7.5): ``embedding = nn.Embedding(vocab_size, num_hiddens)``,
    ``pos_encoding = PositionalEncoding(num_hiddens, dropout)``, ``blks`` (``nn.Sequential`` of
    ``DecoderBlock(..., i)`` added as ``"block0"``, …) and ``dense = nn.Linear(num_hiddens,
    vocab_size)``.

    ``init_state(enc_outputs, enc_valid_lens, *args)`` returns ``[enc_outputs, enc_valid_lens,
    [None] * num_layers]``. ``forward(X, state)``: ``X = pos_encoding(embedding(X) *
    sqrt(num_hiddens))``, each block in turn (passing the state along); keeps
    ``self._attention_weights = [[self-attention weights per block], [encoder-decoder attention
    weights per block]]`` (the blocks' ``attention1.attention.attention_weights`` and
    ``attention2.attention.attention_weights``), exposed by the ``attention_weights`` property;
    returns ``(dense(X), state)``.

    <!-- zh -->
    Transformer 解码器（10.7.5）：``embedding = nn.Embedding(vocab_size, num_hiddens)``、
    ``pos_encoding = PositionalEncoding(num_hiddens, dropout)``、``blks``（由
    ``DecoderBlock(..., i)`` 组成的 ``nn.Sequential``，依次以 ``"block0"``……为名添加）和
    ``dense = nn.Linear(num_hiddens, vocab_size)``。

    ``init_state(enc_outputs, enc_valid_lens, *args)`` 返回 ``[enc_outputs, enc_valid_lens,
    [None] * num_layers]``。``forward(X, state)``：``X = pos_encoding(embedding(X) *
    sqrt(num_hiddens))``，然后依次经过每个块（把状态传递下去）；保存
    ``self._attention_weights = [[每个块的自注意力权重], [每个块的编码器－解码器注意力权重]]``
    （即各块的 ``attention1.attention.attention_weights`` 和
    ``attention2.attention.attention_weights``），由属性 ``attention_weights`` 给出；返回
    ``(dense(X), state)``。
    """

    def __init__(self, vocab_size: int, key_size: int, query_size: int, value_size: int,
                 num_hiddens: int, norm_shape, ffn_num_input: int, ffn_num_hiddens: int,
                 num_heads: int, num_layers: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.num_hiddens = num_hiddens
        self.num_layers = num_layers
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module("block" + str(i), DecoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, i))
        self.dense = nn.Linear(num_hiddens, vocab_size)
        ### END SOLUTION

    def init_state(self, enc_outputs, enc_valid_lens, *args) -> list:
        ### BEGIN SOLUTION
        return [enc_outputs, enc_valid_lens, [None] * self.num_layers]
        ### END SOLUTION

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        ### BEGIN SOLUTION
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self._attention_weights = [[None] * len(self.blks) for _ in range(2)]
        for i, blk in enumerate(self.blks):
            X, state = blk(X, state)
            self._attention_weights[0][i] = blk.attention1.attention.attention_weights
            self._attention_weights[1][i] = blk.attention2.attention.attention_weights
        return self.dense(X), state
        ### END SOLUTION

    @property
    def attention_weights(self) -> list:
        return self._attention_weights
