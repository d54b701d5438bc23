"""Reference solutions for ch15, Natural language processing: applications (自然语言处理：应用).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import json
import os

import torch
from torch import nn
from torch.nn import functional as F

import course

# --- 15.2 Sentiment analysis with RNNs -----------------------------------------------------------


class BiRNN(nn.Module):
    """The book's sentiment classifier: embedding, a bidirectional LSTM, a linear decoder.

    ``__init__(vocab_size, embed_size, num_hiddens, num_layers)`` builds ``embedding``
    (``nn.Embedding(vocab_size, embed_size)``), ``encoder`` (``nn.LSTM(embed_size, num_hiddens,
    num_layers=num_layers, bidirectional=True)``, time-major) and ``decoder``
    (``nn.Linear(4 * num_hiddens, 2)``). ``forward(inputs)`` takes token ids of shape
    ``(batch_size, num_steps)``, embeds ``inputs.T``, runs the LSTM, concatenates its outputs at
    the first and the last time step (each ``2 * num_hiddens`` wide) and returns the decoder's
    ``(batch_size, 2)`` scores.

    <!-- zh -->
    书中的情感分类器：嵌入层、双向 LSTM 和线性解码器。

    ``__init__(vocab_size, embed_size, num_hiddens, num_layers)`` 构建 ``embedding``
    （``nn.Embedding(vocab_size, embed_size)``）、``encoder``（``nn.LSTM(embed_size,
    num_hiddens, num_layers=num_layers, bidirectional=True)``，时间步在第一维）和 ``decoder``
    （``nn.Linear(4 * num_hiddens, 2)``）。``forward(inputs)`` 接受形状为
    ``(batch_size, num_steps)`` 的词元索引，对 ``inputs.T`` 做嵌入，送入 LSTM，把它在第一个和
    最后一个时间步上的输出（各 ``2 * num_hiddens`` 宽）连结起来，返回解码器给出的形状为
    ``(batch_size, 2)`` 的分数。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
        ### BEGIN SOLUTION
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                               bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)
        ### END SOLUTION

    def forward(self, inputs):
        ### BEGIN SOLUTION
        outputs, _ = self.encoder(self.embedding(inputs.T))
        encoding = torch.cat((outputs[0], outputs[-1]), dim=1)
        return self.decoder(encoding)
        ### END SOLUTION


# --- 15.3 Sentiment analysis with CNNs -----------------------------------------------------------


def corr1d(X, K):
    """One-dimensional cross-correlation from scratch: ``Y[i] = (X[i:i + w] * K).sum()`` for
    ``w = len(K)``; ``Y`` has ``len(X) - w + 1`` items and is differentiable in ``X`` and ``K``.
    No ``conv1d``.

    <!-- zh -->
    从零开始实现一维互相关运算：``Y[i] = (X[i:i + w] * K).sum()``，其中 ``w = len(K)``；
    ``Y`` 有 ``len(X) - w + 1`` 个元素，并且对 ``X`` 和 ``K`` 都可微。不得使用 ``conv1d``。
    """
    ### BEGIN SOLUTION
    w = K.shape[0]
    return torch.stack([(X[i:i + w] * K).sum() for i in range(X.shape[0] - w + 1)])
    ### END SOLUTION


def corr1d_multi_in(X, K):
    """Multi-input-channel 1-D cross-correlation: ``X`` is ``(channels, n)``, ``K`` is
    ``(channels, w)``; sum over the channels of ``corr1d`` of each channel with its kernel.
    No ``conv1d``.

    <!-- zh -->
    多输入通道的一维互相关运算：``X`` 的形状为 ``(channels, n)``，``K`` 的形状为
    ``(channels, w)``；对每个通道及其卷积核做 ``corr1d``，再对所有通道求和。不得使用 ``conv1d``。
    """
    ### BEGIN SOLUTION
    return sum(corr1d(x, k) for x, k in zip(X, K))
    ### END SOLUTION


class TextCNN(nn.Module):
    """The book's textCNN.

    ``__init__(vocab_size, embed_size, kernel_sizes, num_channels)`` builds ``embedding`` and
    ``constant_embedding`` (two ``nn.Embedding(vocab_size, embed_size)``; the training code
    freezes the second), ``dropout`` (``nn.Dropout(0.5)``), ``decoder``
    (``nn.Linear(sum(num_channels), 2)``), ``pool`` (``nn.AdaptiveAvgPool1d(1)``, as the book's
    code: its prose speaks of max-over-time pooling), ``relu`` and ``convs``, an
    ``nn.ModuleList`` of ``nn.Conv1d(2 * embed_size, c, k)`` for each ``(c, k)`` in
    ``zip(num_channels, kernel_sizes)``.

    ``forward(inputs)`` with token ids ``(batch_size, num_steps)``: concatenate the two
    embeddings on the feature axis, move features to the channel axis, and for each conv take
    ``relu(pool(conv(x)))`` squeezed to ``(batch_size, c)``; concatenate these and return
    ``decoder(dropout(encoding))`` of shape ``(batch_size, 2)``.

    <!-- zh -->
    书中的 textCNN。

    ``__init__(vocab_size, embed_size, kernel_sizes, num_channels)`` 构建 ``embedding`` 和
    ``constant_embedding``（两个 ``nn.Embedding(vocab_size, embed_size)``；训练代码会冻结
    第二个）、``dropout``（``nn.Dropout(0.5)``）、``decoder``
    （``nn.Linear(sum(num_channels), 2)``）、``pool``（``nn.AdaptiveAvgPool1d(1)``，与书中的
    代码一致；书中的正文讲的是时间最大汇聚层）、``relu`` 和 ``convs``：对
    ``zip(num_channels, kernel_sizes)`` 中的每个 ``(c, k)`` 各有一个
    ``nn.Conv1d(2 * embed_size, c, k)``，组成一个 ``nn.ModuleList``。

    ``forward(inputs)`` 接受形状为 ``(batch_size, num_steps)`` 的词元索引：在特征维上连结两个
    嵌入层的输出，把特征维移到通道维，对每个卷积层计算 ``relu(pool(conv(x)))`` 并压缩为
    ``(batch_size, c)``；把这些结果连结起来，返回形状为 ``(batch_size, 2)`` 的
    ``decoder(dropout(encoding))``。
    """

    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
        ### BEGIN SOLUTION
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k)
                                   for c, k in zip(num_channels, kernel_sizes))
        ### END SOLUTION

    def forward(self, inputs):
        ### BEGIN SOLUTION
        both = torch.cat((self.embedding(inputs), self.constant_embedding(inputs)), dim=2)
        both = both.permute(0, 2, 1)
        encoding = torch.cat([self.relu(self.pool(conv(both))).squeeze(-1)
                              for conv in self.convs], dim=1)
        return self.decoder(self.dropout(encoding))
        ### END SOLUTION


# --- 15.5 Natural language inference: decomposable attention ------------------------------------


def mlp(num_inputs, num_hiddens, flatten):
    """The book's MLP of the decomposable attention model, an ``nn.Sequential`` of
    ``Dropout(0.2), Linear(num_inputs, num_hiddens), ReLU()``, then ``Flatten(start_dim=1)`` when
    ``flatten``, then ``Dropout(0.2), Linear(num_hiddens, num_hiddens), ReLU()``, then again
    ``Flatten(start_dim=1)`` when ``flatten`` (so the state-dict names are the book's).

    <!-- zh -->
    书中可分解注意力模型所用的多层感知机，一个 ``nn.Sequential``：依次为 ``Dropout(0.2),
    Linear(num_inputs, num_hiddens), ReLU()``；若 ``flatten`` 为真，接着是
    ``Flatten(start_dim=1)``；然后是 ``Dropout(0.2), Linear(num_hiddens, num_hiddens),
    ReLU()``；若 ``flatten`` 为真，最后再加一个 ``Flatten(start_dim=1)``（这样状态字典中的
    名字与书中的一致）。
    """
    ### BEGIN SOLUTION
    layers = [nn.Dropout(0.2), nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
    if flatten:
        layers.append(nn.Flatten(start_dim=1))
    layers += [nn.Dropout(0.2), nn.Linear(num_hiddens, num_hiddens), nn.ReLU()]
    if flatten:
        layers.append(nn.Flatten(start_dim=1))
    return nn.Sequential(*layers)
    ### END SOLUTION


class Attend(nn.Module):
    """Soft alignment: ``f = mlp(num_inputs, num_hiddens, flatten=False)``.

    ``forward(A, B)`` with ``A (batch, m, embed)`` and ``B (batch, n, embed)``: scores
    ``e = f(A) @ f(B)^T`` of shape ``(batch, m, n)``; returns ``(beta, alpha)`` with
    ``beta = softmax(e, over n) @ B`` (``(batch, m, embed)``, B aligned to each token of A) and
    ``alpha = softmax(e^T, over m) @ A`` (``(batch, n, embed)``).

    <!-- zh -->
    软对齐：``f = mlp(num_inputs, num_hiddens, flatten=False)``。

    ``forward(A, B)`` 中 ``A`` 的形状为 ``(batch, m, embed)``，``B`` 的形状为
    ``(batch, n, embed)``：注意力分数 ``e = f(A) @ f(B)^T`` 的形状为 ``(batch, m, n)``；返回
    ``(beta, alpha)``，其中 ``beta = softmax(e, over n) @ B``（形状为 ``(batch, m, embed)``，
    即与 A 的每个词元对齐的 B），``alpha = softmax(e^T, over m) @ A``（形状为
    ``(batch, n, embed)``）。
    """

    def __init__(self, num_inputs, num_hiddens, **kwargs):
        ### BEGIN SOLUTION
        super().__init__(**kwargs)
        self.f = mlp(num_inputs, num_hiddens, flatten=False)
        ### END SOLUTION

    def forward(self, A, B):
        ### BEGIN SOLUTION
        e = torch.bmm(self.f(A), self.f(B).permute(0, 2, 1))
        beta = torch.bmm(F.softmax(e, dim=-1), B)
        alpha = torch.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
        return beta, alpha
        ### END SOLUTION


class Compare(nn.Module):
    """Comparison: ``g = mlp(num_inputs, num_hiddens, flatten=False)``.

    ``forward(A, B, beta, alpha)`` returns ``(V_A, V_B)`` with ``V_A = g(cat([A, beta], dim=2))``
    and ``V_B = g(cat([B, alpha], dim=2))``.

    <!-- zh -->
    比较：``g = mlp(num_inputs, num_hiddens, flatten=False)``。

    ``forward(A, B, beta, alpha)`` 返回 ``(V_A, V_B)``，其中
    ``V_A = g(cat([A, beta], dim=2))``，``V_B = g(cat([B, alpha], dim=2))``。
    """

    def __init__(self, num_inputs, num_hiddens, **kwargs):
        ### BEGIN SOLUTION
        super().__init__(**kwargs)
        self.g = mlp(num_inputs, num_hiddens, flatten=False)
        ### END SOLUTION

    def forward(self, A, B, beta, alpha):
        ### BEGIN SOLUTION
        V_A = self.g(torch.cat([A, beta], dim=2))
        V_B = self.g(torch.cat([B, alpha], dim=2))
        return V_A, V_B
        ### END SOLUTION


class Aggregate(nn.Module):
    """Aggregation: ``h = mlp(num_inputs, num_hiddens, flatten=True)`` and
    ``linear = nn.Linear(num_hiddens, num_outputs)``.

    ``forward(V_A, V_B)`` sums each over its token axis (dim 1), concatenates the two sums on
    the feature axis and returns ``linear(h(...))`` of shape ``(batch, num_outputs)``.

    <!-- zh -->
    聚合：``h = mlp(num_inputs, num_hiddens, flatten=True)`` 和
    ``linear = nn.Linear(num_hiddens, num_outputs)``。

    ``forward(V_A, V_B)`` 分别在词元维（第 1 维）上对两者求和，在特征维上把两个和连结起来，
    返回形状为 ``(batch, num_outputs)`` 的 ``linear(h(...))``。
    """

    def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
        ### BEGIN SOLUTION
        super().__init__(**kwargs)
        self.h = mlp(num_inputs, num_hiddens, flatten=True)
        self.linear = nn.Linear(num_hiddens, num_outputs)
        ### END SOLUTION

    def forward(self, V_A, V_B):
        ### BEGIN SOLUTION
        pooled = torch.cat([V_A.sum(dim=1), V_B.sum(dim=1)], dim=1)
        return self.linear(self.h(pooled))
        ### END SOLUTION


# --- 15.7 Fine-tuning BERT for natural language inference ---------------------------------------


def load_pretrained_model(data_dir, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                          dropout, max_len, devices):
    """Load a pretrained BERT from the folder ``data_dir``; return ``(bert, vocab)``.

    The folder holds ``vocab.json`` (the list ``idx_to_token``) and ``pretrained.params`` (a
    state dict saved with ``torch.save``). Make ``vocab = course.Vocab()`` and set its
    ``idx_to_token`` and ``token_to_idx``; build ``course.BERTModel(len(vocab), num_hiddens,
    norm_shape=[num_hiddens], ffn_num_input=num_hiddens, ffn_num_hiddens=ffn_num_hiddens,
    num_heads=num_heads, num_layers=num_layers, dropout=dropout, max_len=max_len)`` with
    ``key_size``, ``query_size``, ``value_size``, ``hid_in_features``, ``mlm_in_features`` and
    ``nsp_in_features`` all ``num_hiddens``, and load the state dict into it. Differences from
    the book: a folder instead of a download name, and every size taken from the arguments (the
    book hard-codes 256, 4 heads and 2 layers). ``devices`` is unused, as in the book.

    <!-- zh -->
    从文件夹 ``data_dir`` 加载预训练的 BERT；返回 ``(bert, vocab)``。

    该文件夹中有 ``vocab.json``（列表 ``idx_to_token``）和 ``pretrained.params``（用
    ``torch.save`` 保存的状态字典）。创建 ``vocab = course.Vocab()``，并设置它的
    ``idx_to_token`` 和 ``token_to_idx``；构建 ``course.BERTModel(len(vocab), num_hiddens,
    norm_shape=[num_hiddens], ffn_num_input=num_hiddens, ffn_num_hiddens=ffn_num_hiddens,
    num_heads=num_heads, num_layers=num_layers, dropout=dropout, max_len=max_len)``，其中
    ``key_size``、``query_size``、``value_size``、``hid_in_features``、``mlm_in_features`` 和
    ``nsp_in_features`` 都取 ``num_hiddens``，然后把状态字典加载进去。与书中的不同之处：用文件夹
    代替下载名，且所有尺寸都取自参数（书中写死了 256、4 个头和 2 层）。与书中一样，
    ``devices`` 不使用。
    """
    ### BEGIN SOLUTION
    vocab = course.Vocab()
    with open(os.path.join(data_dir, "vocab.json"), encoding="utf-8") as f:
        vocab.idx_to_token = json.load(f)
    vocab.token_to_idx = {token: idx for idx, token in enumerate(vocab.idx_to_token)}
    bert = course.BERTModel(len(vocab), num_hiddens, norm_shape=[num_hiddens],
                            ffn_num_input=num_hiddens, ffn_num_hiddens=ffn_num_hiddens,
                            num_heads=num_heads, num_layers=num_layers, dropout=dropout,
                            max_len=max_len, key_size=num_hiddens, query_size=num_hiddens,
                            value_size=num_hiddens, hid_in_features=num_hiddens,
                            mlm_in_features=num_hiddens, nsp_in_features=num_hiddens)
    bert.load_state_dict(torch.load(os.path.join(data_dir, "pretrained.params")))
    return bert, vocab
    ### END SOLUTION


def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    """Shorten the token lists ``p_tokens`` and ``h_tokens`` in place until
    ``len(p_tokens) + len(h_tokens) <= max_len - 3`` (room for ``<cls>`` and two ``<sep>``):
    while too long, drop the last token of the longer list (of ``h_tokens`` on a tie). Returns
    ``None``. (The book's is a method of ``SNLIBERTDataset`` reading ``self.max_len``.)

    <!-- zh -->
    原地缩短词元列表 ``p_tokens`` 和 ``h_tokens``，直到
    ``len(p_tokens) + len(h_tokens) <= max_len - 3``（为 ``<cls>`` 和两个 ``<sep>`` 留出位置）：
    只要还太长，就删除较长列表的最后一个词元（长度相同时删除 ``h_tokens`` 的）。返回 ``None``。
    （书中的版本是 ``SNLIBERTDataset`` 的一个方法，读取 ``self.max_len``。）
    """
    ### BEGIN SOLUTION
    while len(p_tokens) + len(h_tokens) > max_len - 3:
        if len(p_tokens) > len(h_tokens):
            p_tokens.pop()
        else:
            h_tokens.pop()
    ### END SOLUTION


class SNLIBERTDataset(torch.utils.data.Dataset):
    """The book's SNLI dataset for BERT, ``SNLIBERTDataset(dataset, max_len, vocab)``.

    ``dataset`` is ``(premises, hypotheses, labels)`` as ``read_snli`` returns. Each sentence is
    lower-cased and split into word tokens (``course.tokenize``); each pair is truncated with
    ``_truncate_pair_of_tokens(p_tokens, h_tokens, max_len)``, turned into tokens and segments by
    ``course.get_tokens_and_segments`` and padded to ``max_len`` (token ids with
    ``vocab['<pad>']``, segments with 0). Attributes: ``max_len``, ``vocab``, ``labels`` (long
    tensor), ``all_token_ids`` and ``all_segments`` (long, ``(len, max_len)``), ``valid_lens``
    (the unpadded lengths, ``(len,)``). Item ``idx`` is
    ``((all_token_ids[idx], all_segments[idx], valid_lens[idx]), labels[idx])``. (The book
    spreads the work over a ``multiprocessing.Pool(4)``; not needed here.)

    <!-- zh -->
    书中用于 BERT 的 SNLI 数据集，``SNLIBERTDataset(dataset, max_len, vocab)``。

    ``dataset`` 是 ``read_snli`` 返回的 ``(premises, hypotheses, labels)``。每个句子先转为
    小写，再切分为单词词元（``course.tokenize``）；每个句子对用
    ``_truncate_pair_of_tokens(p_tokens, h_tokens, max_len)`` 截断，由
    ``course.get_tokens_and_segments`` 转换为词元和片段索引，再填充到 ``max_len``（词元索引用
    ``vocab['<pad>']`` 填充，片段索引用 0 填充）。属性：``max_len``、``vocab``、``labels``
    （long 张量）、``all_token_ids`` 和 ``all_segments``（long，形状为 ``(len, max_len)``）、
    ``valid_lens``（填充前的长度，形状为 ``(len,)``）。第 ``idx`` 项为
    ``((all_token_ids[idx], all_segments[idx], valid_lens[idx]), labels[idx])``。（书中用
    ``multiprocessing.Pool(4)`` 分担这些工作；这里不需要。）
    """

    def __init__(self, dataset, max_len, vocab=None):
        ### BEGIN SOLUTION
        premises, hypotheses = ([s.lower() for s in sentences] for sentences in dataset[:2])
        pairs = zip(course.tokenize(premises), course.tokenize(hypotheses))
        self.labels = torch.tensor(dataset[2])
        self.vocab, self.max_len = vocab, max_len
        ids, segs, lens = [], [], []
        for p_tokens, h_tokens in pairs:
            _truncate_pair_of_tokens(p_tokens, h_tokens, self.max_len)
            tokens, segments = course.get_tokens_and_segments(p_tokens, h_tokens)
            pad = max_len - len(tokens)
            ids.append(vocab[tokens] + [vocab["<pad>"]] * pad)
            segs.append(segments + [0] * pad)
            lens.append(len(tokens))
        self.all_token_ids = torch.tensor(ids, dtype=torch.long)
        self.all_segments = torch.tensor(segs, dtype=torch.long)
        self.valid_lens = torch.tensor(lens)
        ### END SOLUTION

    def __getitem__(self, idx):
        ### BEGIN SOLUTION
        return ((self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx]),
                self.labels[idx])
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return len(self.all_token_ids)
        ### END SOLUTION


class BERTClassifier(nn.Module):
    """The book's fine-tuning classifier: ``BERTClassifier(bert)``.

    Shares ``bert.encoder`` as ``encoder`` and ``bert.hidden`` as ``hidden`` (the same modules,
    not copies, so fine-tuning trains the pretrained weights; BERT's ``mlm`` and ``nsp`` heads
    are left out) and adds ``output = nn.Linear(num_hiddens, 3)`` with ``num_hiddens =
    bert.hidden[0].out_features`` (the book hard-codes 256). ``forward(inputs)`` takes
    ``(tokens_X, segments_X, valid_lens_x)``, encodes them and returns
    ``output(hidden(encoded_X[:, 0, :]))``, the ``(batch, 3)`` scores from the ``<cls>`` token.

    <!-- zh -->
    书中用于微调的分类器：``BERTClassifier(bert)``。

    把 ``bert.encoder`` 共享为 ``encoder``，把 ``bert.hidden`` 共享为 ``hidden``（是同一个模块，
    而不是副本，这样微调会训练预训练的权重；不包含 BERT 的 ``mlm`` 和 ``nsp`` 输出层），并添加
    ``output = nn.Linear(num_hiddens, 3)``，其中 ``num_hiddens =
    bert.hidden[0].out_features``（书中写死为 256）。``forward(inputs)`` 接受
    ``(tokens_X, segments_X, valid_lens_x)``，对它们编码，返回
    ``output(hidden(encoded_X[:, 0, :]))``，即由 ``<cls>`` 词元得到的形状为 ``(batch, 3)`` 的分数。
    """

    def __init__(self, bert):
        ### BEGIN SOLUTION
        super().__init__()
        self.encoder = bert.encoder
        self.hidden = bert.hidden
        self.output = nn.Linear(bert.hidden[0].out_features, 3)
        ### END SOLUTION

    def forward(self, inputs):
        ### BEGIN SOLUTION
        tokens_X, segments_X, valid_lens_x = inputs
        encoded_X = self.encoder(tokens_X, segments_X, valid_lens_x)
        return self.output(self.hidden(encoded_X[:, 0, :]))
        ### END SOLUTION
