"""Reference solutions for ch14, Natural language processing: pretraining (自然语言处理：预训练).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.

A vocabulary ``vocab`` has the book's interface: ``len(vocab)``, ``vocab[token]`` and
``vocab[list_of_tokens]`` (unknown tokens map to ``vocab.unk``, index 0), ``vocab.to_tokens``
and ``vocab.idx_to_token``. The BERT classes use the notebook's ``EncoderBlock`` (the book's
Transformer encoder block of chapter 10, given in a cell of the notebook, not an exercise).
"""

import collections
import math
import random

import torch
from torch import nn

# --- 14.3 The data set for pretraining word embeddings -------------------------------------------


def subsample(sentences, vocab):
    """Drop unknown tokens, then subsample frequent words (the book's ``subsample``).

    ``sentences`` is a list of token lists. First remove every token with ``vocab[token] ==
    vocab.unk``; count the remaining tokens (``collections.Counter``) over all sentences; then
    keep each occurrence of token ``w`` independently with probability ``min(1, sqrt(1e-4 /
    f(w)))`` where ``f(w) = counter[w] / num_tokens`` (draw ``random.uniform(0, 1) < sqrt(1e-4 /
    counter[w] * num_tokens)`` as the book does, or any other uniform draw). Return
    ``(subsampled_sentences, counter)``: the sentences keep their order and count (possibly
    empty), ``counter`` counts the tokens after removing unknowns and before subsampling.

    <!-- zh -->
    删除未知词元，然后对高频词进行下采样（书中的 ``subsample``）。

    ``sentences`` 是词元列表的列表。先删除每个满足 ``vocab[token] == vocab.unk`` 的词元；
    在所有句子上统计剩余词元的个数（``collections.Counter``）；然后以概率 ``min(1,
    sqrt(1e-4 / f(w)))`` 独立地保留词元 ``w`` 的每一次出现，其中 ``f(w) = counter[w] /
    num_tokens``（可以像书中那样抽取 ``random.uniform(0, 1) < sqrt(1e-4 / counter[w] *
    num_tokens)``，也可以用任何其他均匀抽样）。返回 ``(subsampled_sentences, counter)``：
    句子保持原来的顺序和个数（可能为空），``counter`` 是删除未知词元之后、下采样之前的词元计数。
    """
    ### BEGIN SOLUTION
    sentences = [[token for token in line if vocab[token] != vocab.unk] for line in sentences]
    counter = collections.Counter([tk for line in sentences for tk in line])
    num_tokens = sum(counter.values())

    def keep(token):
        return random.uniform(0, 1) < math.sqrt(1e-4 / counter[token] * num_tokens)

    return ([[token for token in line if keep(token)] for line in sentences], counter)
    ### END SOLUTION


def get_centers_and_contexts(corpus, max_window_size):
    """Centre words and their context words for skip-gram (the book's version).

    ``corpus`` is a list of sentences of token indices. Sentences with fewer than 2 tokens are
    skipped; every token of the other sentences is a centre, in order. For each centre at
    position ``i`` draw a window size ``w`` uniformly from ``1..max_window_size`` (e.g.
    ``random.randint(1, max_window_size)``), independently per centre; its contexts are the
    tokens at positions ``max(0, i - w) .. min(len(line), i + 1 + w) - 1`` except ``i``, in
    order. Return ``(centers, contexts)``: a list of ints and a list of lists.

    <!-- zh -->
    跳元模型的中心词及其上下文词（书中的版本）。

    ``corpus`` 是由词元索引组成的句子列表。跳过少于 2 个词元的句子；其余句子的每个词元都按顺序
    作为中心词。对位置 ``i`` 上的每个中心词，从 ``1..max_window_size`` 中均匀地抽取窗口大小
    ``w``（例如 ``random.randint(1, max_window_size)``），每个中心词独立抽取；它的上下文词是
    位置 ``max(0, i - w) .. min(len(line), i + 1 + w) - 1`` 上除 ``i`` 之外的词元，按顺序排列。
    返回 ``(centers, contexts)``：一个整数列表和一个列表的列表。
    """
    ### BEGIN SOLUTION
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        centers += line
        for i in range(len(line)):
            window_size = random.randint(1, max_window_size)
            indices = list(range(max(0, i - window_size), min(len(line), i + 1 + window_size)))
            indices.remove(i)
            contexts.append([line[idx] for idx in indices])
    return centers, contexts
    ### END SOLUTION


class RandomGenerator:
    """Draw among ``1..n`` with the given weights (the book's ``RandomGenerator``).

    ``RandomGenerator(sampling_weights)`` with ``n = len(sampling_weights)`` nonnegative weights;
    ``draw()`` returns one integer ``k`` in ``1..n`` with probability proportional to
    ``sampling_weights[k - 1]`` (index 0 is never drawn), independently at every call. The
    book caches 10000 draws at a time with ``random.choices``; caching is optional.

    <!-- zh -->
    按给定的权重从 ``1..n`` 中抽取（书中的 ``RandomGenerator``）。

    ``RandomGenerator(sampling_weights)``，其中 ``n = len(sampling_weights)`` 个权重非负；
    ``draw()`` 返回 ``1..n`` 中的一个整数 ``k``，其概率与 ``sampling_weights[k - 1]`` 成正比
    （从不抽到索引 0），每次调用相互独立。书中用 ``random.choices`` 一次缓存 10000 个抽样结果；
    缓存是可选的。
    """

    def __init__(self, sampling_weights):
        ### BEGIN SOLUTION
        self.population = list(range(1, len(sampling_weights) + 1))
        self.sampling_weights = sampling_weights
        self.candidates = []
        self.i = 0
        ### END SOLUTION

    def draw(self):
        ### BEGIN SOLUTION
        if self.i == len(self.candidates):
            self.candidates = random.choices(self.population, self.sampling_weights, k=10000)
            self.i = 0
        self.i += 1
        return self.candidates[self.i - 1]
        ### END SOLUTION


def get_negatives(all_contexts, vocab, counter, K):
    """Noise words for negative sampling (the book's ``get_negatives``).

    Sampling weight of index ``i`` in ``1..len(vocab) - 1``:
    ``counter[vocab.to_tokens(i)] ** 0.75``. Draw with ``RandomGenerator(weights).draw()`` (one
    generator for the whole call). For each context list, return ``len(contexts) * K`` draws,
    rejecting (and drawing again for) every draw that is one of that list's context words.
    Return one list of noise indices per context list, in order.

    <!-- zh -->
    负采样中的噪声词（书中的 ``get_negatives``）。

    ``1..len(vocab) - 1`` 中索引 ``i`` 的采样权重为 ``counter[vocab.to_tokens(i)] ** 0.75``。
    用 ``RandomGenerator(weights).draw()`` 抽取（整个调用只用一个生成器）。对每个上下文词列表，
    返回 ``len(contexts) * K`` 个抽样结果：凡是抽到该列表中的上下文词，就舍弃并重新抽取。
    按顺序为每个上下文词列表返回一个噪声词索引列表。
    """
    ### BEGIN SOLUTION
    sampling_weights = [counter[vocab.to_tokens(i)] ** 0.75 for i in range(1, len(vocab))]
    all_negatives, generator = [], RandomGenerator(sampling_weights)
    for contexts in all_contexts:
        negatives = []
        while len(negatives) < len(contexts) * K:
            neg = generator.draw()
            if neg not in contexts:
                negatives.append(neg)
        all_negatives.append(negatives)
    return all_negatives
    ### END SOLUTION


def batchify(data):
    """A minibatch for skip-gram with negative sampling (the book's ``batchify``).

    ``data`` is a list of ``(center, contexts, negatives)`` (an int and two lists of ints).
    With ``max_len`` the largest ``len(contexts) + len(negatives)``, return four int64 tensors:
    ``centers`` of shape ``(B, 1)``; ``contexts_negatives`` ``(B, max_len)``, each row the
    contexts then the negatives then zeros; ``masks`` ``(B, max_len)``, 1 on the real entries
    and 0 on the padding; ``labels`` ``(B, max_len)``, 1 on the contexts and 0 elsewhere.

    <!-- zh -->
    带负采样的跳元模型的一个小批量（书中的 ``batchify``）。

    ``data`` 是 ``(center, contexts, negatives)`` 的列表（一个整数和两个整数列表）。设
    ``max_len`` 为最大的 ``len(contexts) + len(negatives)``，返回四个 int64 张量：形状为
    ``(B, 1)`` 的 ``centers``；``(B, max_len)`` 的 ``contexts_negatives``，每行依次是上下文词、
    噪声词和 0；``(B, max_len)`` 的 ``masks``，真实元素为 1，填充为 0；``(B, max_len)`` 的
    ``labels``，上下文词为 1，其余为 0。
    """
    ### BEGIN SOLUTION
    max_len = max(len(c) + len(n) for _, c, n in data)
    centers, contexts_negatives, masks, labels = [], [], [], []
    for center, context, negative in data:
        cur_len = len(context) + len(negative)
        centers += [center]
        contexts_negatives += [context + negative + [0] * (max_len - cur_len)]
        masks += [[1] * cur_len + [0] * (max_len - cur_len)]
        labels += [[1] * len(context) + [0] * (max_len - len(context))]
    return (torch.tensor(centers).reshape((-1, 1)), torch.tensor(contexts_negatives),
            torch.tensor(masks), torch.tensor(labels))
    ### END SOLUTION


# --- 14.4 Pretraining word2vec -------------------------------------------------------------------


def skip_gram(center, contexts_and_negatives, embed_v, embed_u):
    """The skip-gram model's forward pass (the book's ``skip_gram``).

    ``center`` ``(B, 1)`` and ``contexts_and_negatives`` ``(B, L)`` hold token indices;
    ``embed_v`` and ``embed_u`` are ``nn.Embedding`` layers (centre and context embeddings).
    Return the inner products of each centre vector with each of its context/noise vectors,
    shape ``(B, 1, L)`` (``torch.bmm``).

    <!-- zh -->
    跳元模型的前向传播（书中的 ``skip_gram``）。

    ``center`` ``(B, 1)`` 和 ``contexts_and_negatives`` ``(B, L)`` 存放词元索引；``embed_v`` 和
    ``embed_u`` 是 ``nn.Embedding`` 层（中心词嵌入和上下文词嵌入）。返回每个中心词向量与它的
    每个上下文词/噪声词向量的内积，形状为 ``(B, 1, L)``（``torch.bmm``）。
    """
    ### BEGIN SOLUTION
    v = embed_v(center)
    u = embed_u(contexts_and_negatives)
    return torch.bmm(v, u.permute(0, 2, 1))
    ### END SOLUTION


class SigmoidBCELoss(nn.Module):
    """Masked binary cross-entropy on logits (the book's ``SigmoidBCELoss``).

    ``forward(inputs, target, mask=None)`` on ``(B, L)`` tensors: the elementwise loss
    ``-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]``, multiplied by ``mask`` when given,
    then averaged over dimension 1 (dividing by ``L``, padding included): shape ``(B,)``.

    <!-- zh -->
    在 logits 上带掩码的二元交叉熵（书中的 ``SigmoidBCELoss``）。

    ``forward(inputs, target, mask=None)`` 作用于 ``(B, L)`` 张量：逐元素的损失
    ``-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]``，给定 ``mask`` 时乘以它，然后在
    维度 1 上取平均（除以 ``L``，包括填充）：形状为 ``(B,)``。
    """

    def __init__(self):
        super().__init__()

    def forward(self, inputs, target, mask=None):
        ### BEGIN SOLUTION
        out = nn.functional.binary_cross_entropy_with_logits(
            inputs, target, weight=mask, reduction="none")
        return out.mean(dim=1)
        ### END SOLUTION


# --- 14.6 Subword embedding: byte pair encoding --------------------------------------------------


def get_max_freq_pair(token_freqs):
    """The most frequent pair of consecutive symbols (the book's ``get_max_freq_pair``).

    ``token_freqs`` maps a token written as space-separated symbols (``'t a l l _'``) to its
    frequency. Each consecutive pair of symbols of a token counts that token's frequency.
    Return the pair ``(first, second)`` with the largest total count.

    <!-- zh -->
    出现最频繁的一对相邻符号（书中的 ``get_max_freq_pair``）。

    ``token_freqs`` 把写成以空格分隔的符号的词元（``'t a l l _'``）映射到它的频率。词元中
    每一对相邻符号都计入该词元的频率。返回总计数最大的符号对 ``(first, second)``。
    """
    ### BEGIN SOLUTION
    pairs = collections.defaultdict(int)
    for token, freq in token_freqs.items():
        symbols = token.split()
        for i in range(len(symbols) - 1):
            pairs[symbols[i], symbols[i + 1]] += freq
    return max(pairs, key=pairs.get)
    ### END SOLUTION


def merge_symbols(max_freq_pair, token_freqs, symbols):
    """Merge a pair of symbols everywhere (the book's ``merge_symbols``).

    Append the merged symbol ``''.join(max_freq_pair)`` to the list ``symbols`` (in place) and
    return a new dict in which every token has the pair's occurrences merged (``'t a l l _'``
    with ``('l', 'l')`` becomes ``'t a ll _'``), with the same frequencies, in the same order.

    <!-- zh -->
    在所有地方合并一对符号（书中的 ``merge_symbols``）。

    把合并后的符号 ``''.join(max_freq_pair)`` 追加到列表 ``symbols``（原地修改），并返回一个
    新的字典，其中每个词元里出现的这对符号都被合并（``'t a l l _'`` 用 ``('l', 'l')`` 合并后
    变为 ``'t a ll _'``），频率不变，顺序不变。
    """
    ### BEGIN SOLUTION
    symbols.append("".join(max_freq_pair))
    new_token_freqs = dict()
    for token, freq in token_freqs.items():
        new_token = token.replace(" ".join(max_freq_pair), "".join(max_freq_pair))
        new_token_freqs[new_token] = freq
    return new_token_freqs
    ### END SOLUTION


def segment_BPE(tokens, symbols):
    """Segment words into learned symbols, longest match first (the book's ``segment_BPE``).

    For each word: from ``start = 0`` take the longest ``token[start:end]`` that is in
    ``symbols``, append it, continue after it. When no prefix of the rest is a symbol, stop and
    append ``'[UNK]'``. Return one string per word: its pieces joined by single spaces.

    <!-- zh -->
    把词切分成学到的符号，最长匹配优先（书中的 ``segment_BPE``）。

    对每个词：从 ``start = 0`` 开始，取在 ``symbols`` 中的最长的 ``token[start:end]``，追加它，
    再从它之后继续。当剩余部分没有任何前缀是符号时，停止并追加 ``'[UNK]'``。每个词返回一个
    字符串：它的各个片段用单个空格连接。
    """
    ### BEGIN SOLUTION
    outputs = []
    for token in tokens:
        start, end = 0, len(token)
        cur_output = []
        while start < len(token) and start < end:
            if token[start:end] in symbols:
                cur_output.append(token[start:end])
                start = end
                end = len(token)
            else:
                end -= 1
        if start < len(token):
            cur_output.append("[UNK]")
        outputs.append(" ".join(cur_output))
    return outputs
    ### END SOLUTION


# --- 14.8 BERT ------------------------------------------------------------------------------------


def get_tokens_and_segments(tokens_a, tokens_b=None):
    """BERT's input for one sentence or a pair (the book's ``get_tokens_and_segments``).

    Return ``(tokens, segments)``: ``['<cls>'] + tokens_a + ['<sep>']`` with segment ids 0, and
    when ``tokens_b`` is given also ``tokens_b + ['<sep>']`` with segment ids 1.

    <!-- zh -->
    BERT 对一个句子或一对句子的输入（书中的 ``get_tokens_and_segments``）。

    返回 ``(tokens, segments)``：``['<cls>'] + tokens_a + ['<sep>']``，片段索引为 0；给出
    ``tokens_b`` 时再加上 ``tokens_b + ['<sep>']``，片段索引为 1。
    """
    ### BEGIN SOLUTION
    tokens = ["<cls>"] + tokens_a + ["<sep>"]
    segments = [0] * (len(tokens_a) + 2)
    if tokens_b is not None:
        tokens += tokens_b + ["<sep>"]
        segments += [1] * (len(tokens_b) + 1)
    return tokens, segments
    ### END SOLUTION


class BERTEncoder(nn.Module):
    """BERT's encoder (the book's ``BERTEncoder``), with a *trainable* positional embedding.

    Submodules: ``token_embedding = nn.Embedding(vocab_size, num_hiddens)``,
    ``segment_embedding = nn.Embedding(2, num_hiddens)``, ``blks = nn.Sequential()`` holding
    ``num_layers`` blocks named ``"0"``, ``"1"``, ... each ``EncoderBlock(key_size, query_size,
    value_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens, num_heads, dropout,
    True)``, and ``pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))``.
    ``forward(tokens, segments, valid_lens)``: token plus segment embeddings plus
    ``pos_embedding[:, :T, :]``, then every block with ``valid_lens``; shape ``(B, T,
    num_hiddens)``. Unlike the book (which adds ``pos_embedding.data``, so it never trains),
    the positional embedding must receive gradients.

    <!-- zh -->
    BERT 的编码器（书中的 ``BERTEncoder``），其位置嵌入是*可训练的*。

    子模块：``token_embedding = nn.Embedding(vocab_size, num_hiddens)``，
    ``segment_embedding = nn.Embedding(2, num_hiddens)``，``blks = nn.Sequential()``，其中有
    ``num_layers`` 个名为 ``"0"``、``"1"``、……的块，每个块为 ``EncoderBlock(key_size,
    query_size, value_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
    num_heads, dropout, True)``，以及 ``pos_embedding = nn.Parameter(torch.randn(1, max_len,
    num_hiddens))``。``forward(tokens, segments, valid_lens)``：词元嵌入加片段嵌入再加
    ``pos_embedding[:, :T, :]``，然后带着 ``valid_lens`` 依次通过每个块；形状为 ``(B, T,
    num_hiddens)``。与书中不同（书中加的是 ``pos_embedding.data``，所以它从不训练），位置嵌入
    必须得到梯度。
    """

    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"{i}", EncoderBlock(  # noqa: F821 - the notebook's
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, True))
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))
        ### END SOLUTION

    def forward(self, tokens, segments, valid_lens):
        ### BEGIN SOLUTION
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X
        ### END SOLUTION


class MaskLM(nn.Module):
    """BERT's masked-language-model head (the book's ``MaskLM``).

    ``MaskLM(vocab_size, num_hiddens, num_inputs=768)`` has ``mlp = nn.Sequential(
    nn.Linear(num_inputs, num_hiddens), nn.ReLU(), nn.LayerNorm(num_hiddens),
    nn.Linear(num_hiddens, vocab_size))``. ``forward(X, pred_positions)`` with ``X`` of shape
    ``(B, T, num_inputs)`` and int64 ``pred_positions`` ``(B, P)``: gather ``X[b,
    pred_positions[b, j]]`` into ``(B, P, num_inputs)`` and apply ``mlp``: ``(B, P,
    vocab_size)``.

    <!-- zh -->
    BERT 的掩蔽语言模型输出层（书中的 ``MaskLM``）。

    ``MaskLM(vocab_size, num_hiddens, num_inputs=768)`` 有 ``mlp = nn.Sequential(
    nn.Linear(num_inputs, num_hiddens), nn.ReLU(), nn.LayerNorm(num_hiddens),
    nn.Linear(num_hiddens, vocab_size))``。``forward(X, pred_positions)``，其中 ``X`` 的形状为
    ``(B, T, num_inputs)``，int64 的 ``pred_positions`` 为 ``(B, P)``：把 ``X[b,
    pred_positions[b, j]]`` 收集成 ``(B, P, num_inputs)``，再作用 ``mlp``：``(B, P,
    vocab_size)``。
    """

    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.Linear(num_hiddens, vocab_size))
        ### END SOLUTION

    def forward(self, X, pred_positions):
        ### BEGIN SOLUTION
        num_pred_positions = pred_positions.shape[1]
        pred_positions = pred_positions.reshape(-1)
        batch_size = X.shape[0]
        batch_idx = torch.arange(0, batch_size, device=X.device)
        batch_idx = torch.repeat_interleave(batch_idx, num_pred_positions)
        masked_X = X[batch_idx, pred_positions]
        masked_X = masked_X.reshape((batch_size, num_pred_positions, -1))
        return self.mlp(masked_X)
        ### END SOLUTION


class NextSentencePred(nn.Module):
    """BERT's next-sentence-prediction head: ``output = nn.Linear(num_inputs, 2)`` applied to
    ``X`` of shape ``(B, num_inputs)``; returns ``(B, 2)`` logits.

    <!-- zh -->
    BERT 的下一句预测输出层：把 ``output = nn.Linear(num_inputs, 2)`` 作用于形状为
    ``(B, num_inputs)`` 的 ``X``；返回 ``(B, 2)`` 的 logits。"""

    def __init__(self, num_inputs, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.output = nn.Linear(num_inputs, 2)
        ### END SOLUTION

    def forward(self, X):
        ### BEGIN SOLUTION
        return self.output(X)
        ### END SOLUTION


class BERTModel(nn.Module):
    """The BERT model (the book's ``BERTModel``).

    Submodules: ``encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
    ffn_num_hiddens, num_heads, num_layers, dropout, max_len=max_len, key_size=key_size,
    query_size=query_size, value_size=value_size)``, ``hidden = nn.Sequential(
    nn.Linear(hid_in_features, num_hiddens), nn.Tanh())``, ``mlm = MaskLM(vocab_size,
    num_hiddens, mlm_in_features)``, ``nsp = NextSentencePred(nsp_in_features)``.
    ``forward(tokens, segments, valid_lens=None, pred_positions=None)`` returns
    ``(encoded_X, mlm_Y_hat, nsp_Y_hat)``: the encoder's output, ``mlm(encoded_X,
    pred_positions)`` (``None`` when ``pred_positions`` is ``None``) and
    ``nsp(hidden(encoded_X[:, 0, :]))`` (the ``<cls>`` position).

    <!-- zh -->
    BERT 模型（书中的 ``BERTModel``）。

    子模块：``encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
    ffn_num_hiddens, num_heads, num_layers, dropout, max_len=max_len, key_size=key_size,
    query_size=query_size, value_size=value_size)``，``hidden = nn.Sequential(
    nn.Linear(hid_in_features, num_hiddens), nn.Tanh())``，``mlm = MaskLM(vocab_size,
    num_hiddens, mlm_in_features)``，``nsp = NextSentencePred(nsp_in_features)``。
    ``forward(tokens, segments, valid_lens=None, pred_positions=None)`` 返回
    ``(encoded_X, mlm_Y_hat, nsp_Y_hat)``：编码器的输出、``mlm(encoded_X, pred_positions)``
    （``pred_positions`` 为 ``None`` 时为 ``None``）以及 ``nsp(hidden(encoded_X[:, 0, :]))``
    （``<cls>`` 所在的位置）。
    """

    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, hid_in_features=768, mlm_in_features=768,
                 nsp_in_features=768):
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
                                   ffn_num_hiddens, num_heads, num_layers, dropout,
                                   max_len=max_len, key_size=key_size, query_size=query_size,
                                   value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)
        ### END SOLUTION

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        ### BEGIN SOLUTION
        encoded_X = self.encoder(tokens, segments, valid_lens)
        if pred_positions is not None:
            mlm_Y_hat = self.mlm(encoded_X, pred_positions)
        else:
            mlm_Y_hat = None
        nsp_Y_hat = self.nsp(self.hidden(encoded_X[:, 0, :]))
        return encoded_X, mlm_Y_hat, nsp_Y_hat
        ### END SOLUTION


# --- 14.9 The data set for pretraining BERT -------------------------------------------------------


def _get_next_sentence(sentence, next_sentence, paragraphs):
    """One next-sentence-prediction example (the book's ``_get_next_sentence``).

    With probability 1/2 return ``(sentence, next_sentence, True)``; otherwise replace
    ``next_sentence`` by a sentence drawn uniformly from a paragraph drawn uniformly from
    ``paragraphs`` (a list of paragraphs, each a list of sentences) and return
    ``(sentence, that_sentence, False)``.

    <!-- zh -->
    一个下一句预测的样本（书中的 ``_get_next_sentence``）。

    以 1/2 的概率返回 ``(sentence, next_sentence, True)``；否则把 ``next_sentence`` 换成这样
    一个句子：先从 ``paragraphs``（段落的列表，每个段落是句子的列表）中均匀地抽取一个段落，再从
    中均匀地抽取一个句子，并返回 ``(sentence, that_sentence, False)``。
    """
    ### BEGIN SOLUTION
    if random.random() < 0.5:
        is_next = True
    else:
        next_sentence = random.choice(random.choice(paragraphs))
        is_next = False
    return sentence, next_sentence, is_next
    ### END SOLUTION


def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    """Choose and corrupt the positions to predict (the book's ``_replace_mlm_tokens``).

    Shuffle ``candidate_pred_positions`` (``random.shuffle``, in place as the book does) and
    take the first ``num_mlm_preds`` of them (fewer if there are fewer). At each taken
    position: with probability 0.8 put ``'<mask>'``, with 0.1 keep the token, with 0.1 put a
    token drawn uniformly from ``vocab.idx_to_token``. Return ``(mlm_input_tokens,
    pred_positions_and_labels)``: a new list (``tokens`` unchanged) and the list of
    ``(position, original token)`` in the order the positions were taken.

    <!-- zh -->
    选出要预测的位置并替换其词元（书中的 ``_replace_mlm_tokens``）。

    打乱 ``candidate_pred_positions``（像书中那样用 ``random.shuffle`` 原地打乱），取其中前
    ``num_mlm_preds`` 个（不够时就少取）。在每个取出的位置上：以 0.8 的概率放入 ``'<mask>'``，
    以 0.1 的概率保持原词元，以 0.1 的概率放入从 ``vocab.idx_to_token`` 中均匀抽取的词元。返回
    ``(mlm_input_tokens, pred_positions_and_labels)``：一个新列表（``tokens`` 不变），以及按
    位置被取出的顺序排列的 ``(位置, 原来的词元)`` 列表。
    """
    ### BEGIN SOLUTION
    mlm_input_tokens = [token for token in tokens]
    pred_positions_and_labels = []
    random.shuffle(candidate_pred_positions)
    for mlm_pred_position in candidate_pred_positions:
        if len(pred_positions_and_labels) >= num_mlm_preds:
            break
        masked_token = None
        if random.random() < 0.8:
            masked_token = "<mask>"
        else:
            if random.random() < 0.5:
                masked_token = tokens[mlm_pred_position]
            else:
                masked_token = random.choice(vocab.idx_to_token)
        mlm_input_tokens[mlm_pred_position] = masked_token
        pred_positions_and_labels.append((mlm_pred_position, tokens[mlm_pred_position]))
    return mlm_input_tokens, pred_positions_and_labels
    ### END SOLUTION


def _get_mlm_data_from_tokens(tokens, vocab):
    """Masked-language-model data for one example (the book's ``_get_mlm_data_from_tokens``).

    Candidates: every position whose token is not ``'<cls>'`` or ``'<sep>'``;
    ``num_mlm_preds = max(1, round(len(tokens) * 0.15))``. Call ``_replace_mlm_tokens(tokens,
    candidates, num_mlm_preds, vocab)``, sort its ``(position, label)`` pairs by position and
    return ``(vocab[mlm_input_tokens], pred_positions, vocab[mlm_pred_labels])`` (lists of
    ints, the last two in increasing position order).

    <!-- zh -->
    一个样本的掩蔽语言模型数据（书中的 ``_get_mlm_data_from_tokens``）。

    候选位置：词元不是 ``'<cls>'`` 或 ``'<sep>'`` 的每个位置；``num_mlm_preds = max(1,
    round(len(tokens) * 0.15))``。调用 ``_replace_mlm_tokens(tokens, candidates,
    num_mlm_preds, vocab)``，把它返回的 ``(position, label)`` 对按位置排序，并返回
    ``(vocab[mlm_input_tokens], pred_positions, vocab[mlm_pred_labels])``（整数列表，后两个
    按位置递增排列）。
    """
    ### BEGIN SOLUTION
    candidate_pred_positions = []
    for i, token in enumerate(tokens):
        if token in ["<cls>", "<sep>"]:
            continue
        candidate_pred_positions.append(i)
    num_mlm_preds = max(1, round(len(tokens) * 0.15))
    replaced = _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab)
    mlm_input_tokens, pred_positions_and_labels = replaced
    pred_positions_and_labels = sorted(pred_positions_and_labels, key=lambda x: x[0])
    pred_positions = [v[0] for v in pred_positions_and_labels]
    mlm_pred_labels = [v[1] for v in pred_positions_and_labels]
    return vocab[mlm_input_tokens], pred_positions, vocab[mlm_pred_labels]
    ### END SOLUTION


def _pad_bert_inputs(examples, max_len, vocab):
    """Pad BERT examples to ``max_len`` (the book's ``_pad_bert_inputs``).

    ``examples`` holds ``(token_ids, pred_positions, mlm_pred_label_ids, segments, is_next)``;
    ``max_num_mlm_preds = round(max_len * 0.15)``. Return seven lists with one tensor per
    example: token ids padded with ``vocab['<pad>']`` to ``max_len`` (int64); segments padded
    with 0 to ``max_len`` (int64); the valid length ``len(token_ids)`` (a 0-d float32);
    prediction positions padded with 0 to ``max_num_mlm_preds`` (int64); MLM weights, 1.0 per
    real prediction then 0.0 (float32, ``max_num_mlm_preds``); MLM labels padded with 0
    (int64, ``max_num_mlm_preds``); the NSP label ``is_next`` (a 0-d int64).

    <!-- zh -->
    把 BERT 的样本填充到 ``max_len``（书中的 ``_pad_bert_inputs``）。

    ``examples`` 中存放 ``(token_ids, pred_positions, mlm_pred_label_ids, segments,
    is_next)``；``max_num_mlm_preds = round(max_len * 0.15)``。返回七个列表，每个样本一个张量：
    用 ``vocab['<pad>']`` 填充到 ``max_len`` 的词元索引（int64）；用 0 填充到 ``max_len`` 的
    片段索引（int64）；有效长度 ``len(token_ids)``（0 维 float32）；用 0 填充到
    ``max_num_mlm_preds`` 的预测位置（int64）；MLM 权重，每个真实预测为 1.0，其后为 0.0
    （float32，``max_num_mlm_preds``）；用 0 填充的 MLM 标签（int64，``max_num_mlm_preds``）；
    NSP 标签 ``is_next``（0 维 int64）。
    """
    ### BEGIN SOLUTION
    max_num_mlm_preds = round(max_len * 0.15)
    all_token_ids, all_segments, valid_lens = [], [], []
    all_pred_positions, all_mlm_weights, all_mlm_labels = [], [], []
    nsp_labels = []
    for (token_ids, pred_positions, mlm_pred_label_ids, segments, is_next) in examples:
        all_token_ids.append(torch.tensor(
            token_ids + [vocab["<pad>"]] * (max_len - len(token_ids)), dtype=torch.long))
        all_segments.append(torch.tensor(
            segments + [0] * (max_len - len(segments)), dtype=torch.long))
        valid_lens.append(torch.tensor(len(token_ids), dtype=torch.float32))
        all_pred_positions.append(torch.tensor(
            pred_positions + [0] * (max_num_mlm_preds - len(pred_positions)), dtype=torch.long))
        all_mlm_weights.append(torch.tensor(
            [1.0] * len(mlm_pred_label_ids) + [0.0] * (max_num_mlm_preds - len(pred_positions)),
            dtype=torch.float32))
        all_mlm_labels.append(torch.tensor(
            mlm_pred_label_ids + [0] * (max_num_mlm_preds - len(mlm_pred_label_ids)),
            dtype=torch.long))
        nsp_labels.append(torch.tensor(is_next, dtype=torch.long))
    return (all_token_ids, all_segments, valid_lens, all_pred_positions, all_mlm_weights,
            all_mlm_labels, nsp_labels)
    ### END SOLUTION


def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    """BERT's pretraining losses on one minibatch (the book's ``_get_batch_loss_bert``).

    Run ``_, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
    pred_positions_X)``. With ``loss`` the book's ``nn.CrossEntropyLoss()`` (mean reduction):
    ``mlm_l = (loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1)) *
    mlm_weights_X.reshape(-1, 1)).sum() / (mlm_weights_X.sum() + 1e-8)``, ``nsp_l =
    loss(nsp_Y_hat, nsp_y)``; return ``(mlm_l, nsp_l, mlm_l + nsp_l)``, differentiable.
    (As in the book, a mean-reduced ``loss`` averages over the padded predictions too.)

    <!-- zh -->
    BERT 在一个小批量上的预训练损失（书中的 ``_get_batch_loss_bert``）。

    运行 ``_, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
    pred_positions_X)``。``loss`` 是书中的 ``nn.CrossEntropyLoss()``（取平均）：``mlm_l =
    (loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1)) *
    mlm_weights_X.reshape(-1, 1)).sum() / (mlm_weights_X.sum() + 1e-8)``，``nsp_l =
    loss(nsp_Y_hat, nsp_y)``；返回 ``(mlm_l, nsp_l, mlm_l + nsp_l)``，且可微。（与书中一样，
    取平均的 ``loss`` 也会在填充的预测上求平均。）
    """
    ### BEGIN SOLUTION
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                  pred_positions_X)
    mlm_l = loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1)) * \
        mlm_weights_X.reshape(-1, 1)
    mlm_l = mlm_l.sum() / (mlm_weights_X.sum() + 1e-8)
    nsp_l = loss(nsp_Y_hat, nsp_y)
    return mlm_l, nsp_l, mlm_l + nsp_l
    ### END SOLUTION
