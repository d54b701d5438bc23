"""BERT (chapter 14) in the book's form, for chapter 15's fine-tuning.

``BERTEncoder`` stacks Transformer encoder blocks (``EncoderBlock``: multi-head scaled
dot-product attention, add & norm, position-wise FFN, add & norm) over token, segment and
positional embeddings; ``MaskLM`` and ``NextSentencePred`` are the two pretraining heads and
``BERTModel`` holds the three. Attribute names follow d2l-zh 2.0, so the book's state dicts
load. One deliberate difference: the book adds ``pos_embedding.data``, so its positional
embedding never trains; here it does.

The book downloads a pretrained BERT (``bert.small``). Offline, ``pretrained_bert_dir`` writes a
small checkpoint in the same layout (``pretrained.params`` holding a state dict, ``vocab.json``
holding ``idx_to_token``) under the data root. The pieces that are exercises of ch14 are locked
while ch14 (or an earlier chapter) is graded.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from course.data import data_root
from course.gating import exercise_of

PRETRAINED_DIR = Path("bert") / "bert.small.torch"


@exercise_of("ch14")
def get_tokens_and_segments(tokens_a: list, tokens_b: list | None = None):
    """``['<cls>', *tokens_a, '<sep>', *tokens_b, '<sep>']`` and its segment ids (0 for the
    first sentence with ``<cls>`` and its ``<sep>``, 1 for the second with its ``<sep>``)."""
    tokens = ["<cls>", *tokens_a, "<sep>"]
    segments = [0] * len(tokens)
    if tokens_b is not None:
        tokens.extend([*tokens_b, "<sep>"])
        segments.extend([1] * (len(tokens_b) + 1))
    return tokens, segments


class DotProductAttention(nn.Module):
    """Scaled dot-product attention; keys past ``valid_lens`` get no weight."""

    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = queries @ keys.transpose(1, 2) / math.sqrt(queries.shape[-1])
        if valid_lens is not None:
            lens = valid_lens if valid_lens.dim() == 2 else valid_lens[:, None].expand(
                -1, scores.shape[1])
            hide = torch.arange(scores.shape[-1], device=scores.device) >= lens[..., None]
            scores = scores.masked_fill(hide, -1e6)
        self.attention_weights = F.softmax(scores, dim=-1)
        return self.dropout(self.attention_weights) @ values


class MultiHeadAttention(nn.Module):
    """The book's multi-head attention (``W_q``, ``W_k``, ``W_v``, ``W_o``; heads split from
    ``num_hiddens``)."""

    def __init__(self, key_size: int, query_size: int, value_size: int, num_hiddens: int,
                 num_heads: int, dropout: float, bias: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def _split(self, X):
        b, t, _ = X.shape
        return X.reshape(b, t, self.num_heads, -1).permute(0, 2, 1, 3).reshape(
            b * self.num_heads, t, -1)

    def forward(self, queries, keys, values, valid_lens):
        q, k, v = (self._split(W(x)) for W, x in ((self.W_q, queries), (self.W_k, keys),
                                                   (self.W_v, values)))
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        out = self.attention(q, k, v, valid_lens)
        b = queries.shape[0]
        out = out.reshape(b, self.num_heads, out.shape[1], -1).permute(0, 2, 1, 3)
        return self.W_o(out.reshape(b, out.shape[1], -1))


class PositionWiseFFN(nn.Module):
    """``dense2(relu(dense1(X)))`` at every position."""

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int) -> None:
        super().__init__()
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X):
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(nn.Module):
    """Residual connection then layer normalisation: ``ln(dropout(Y) + X)``."""

    def __init__(self, normalized_shape, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(normalized_shape)

    def forward(self, X, Y):
        return self.ln(self.dropout(Y) + X)


class EncoderBlock(nn.Module):
    """One Transformer encoder block: self-attention and FFN, each with add & norm."""

    def __init__(self, key_size: int, query_size: int, value_size: int, num_hiddens: int,
                 norm_shape, ffn_num_input: int, ffn_num_hiddens: int, num_heads: int,
                 dropout: float, use_bias: bool = False) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
                                            num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)

    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class BERTEncoder(nn.Module):
    """Token + segment + (trainable) positional embeddings, then ``num_layers`` encoder blocks
    in ``blks``; ``forward(tokens, segments, valid_lens)`` returns ``(B, T, num_hiddens)``."""

    @exercise_of("ch14")
    def __init__(self, vocab_size: int, num_hiddens: int, norm_shape, ffn_num_input: int,
                 ffn_num_hiddens: int, num_heads: int, num_layers: int, dropout: float,
                 max_len: int = 1000, key_size: int = 768, query_size: int = 768,
                 value_size: int = 768, **kwargs) -> None:
        super().__init__(**kwargs)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential(*(
            EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape,
                         ffn_num_input, ffn_num_hiddens, num_heads, dropout, True)
            for _ in range(num_layers)))
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X


class MaskLM(nn.Module):
    """The masked language model head: picks the encodings at ``pred_positions (B, P)`` and maps
    them through ``mlp`` to ``(B, P, vocab_size)`` scores."""

    @exercise_of("ch14")
    def __init__(self, vocab_size: int, num_hiddens: int, num_inputs: int = 768,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.Linear(num_hiddens, vocab_size))

    def forward(self, X, pred_positions):
        picked = torch.gather(X, 1, pred_positions[..., None].expand(-1, -1, X.shape[-1]))
        return self.mlp(picked)


class NextSentencePred(nn.Module):
    """The next-sentence head: a linear layer to two classes."""

    @exercise_of("ch14")
    def __init__(self, num_inputs: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.output = nn.Linear(num_inputs, 2)

    def forward(self, X):
        return self.output(X)


class BERTModel(nn.Module):
    """``encoder``, ``hidden`` (linear + tanh on the ``<cls>`` encoding), ``mlm`` and ``nsp``;
    ``forward(tokens, segments, valid_lens=None, pred_positions=None)`` returns
    ``(encoded_X, mlm_Y_hat or None, nsp_Y_hat)``."""

    @exercise_of("ch14")
    def __init__(self, vocab_size: int, num_hiddens: int, norm_shape, ffn_num_input: int,
                 ffn_num_hiddens: int, num_heads: int, num_layers: int, dropout: float,
                 max_len: int = 1000, key_size: int = 768, query_size: int = 768,
                 value_size: int = 768, hid_in_features: int = 768,
                 mlm_in_features: int = 768, nsp_in_features: int = 768) -> None:
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
                                   ffn_num_hiddens, num_heads, num_layers, dropout,
                                   max_len=max_len, key_size=key_size, query_size=query_size,
                                   value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        return encoded_X, mlm_Y_hat, self.nsp(self.hidden(encoded_X[:, 0, :]))


def small_bert(vocab_size: int, num_hiddens: int = 32, ffn_num_hiddens: int = 64,
               num_heads: int = 2, num_layers: int = 2, dropout: float = 0.1,
               max_len: int = 64) -> BERTModel:
    """A ``BERTModel`` whose every size is ``num_hiddens`` (the book's ``bert.small`` is 256)."""
    return BERTModel(vocab_size, num_hiddens, [num_hiddens], num_hiddens, ffn_num_hiddens,
                     num_heads, num_layers, dropout, max_len=max_len, key_size=num_hiddens,
                     query_size=num_hiddens, value_size=num_hiddens,
                     hid_in_features=num_hiddens, mlm_in_features=num_hiddens,
                     nsp_in_features=num_hiddens)


def save_pretrained(net: nn.Module, idx_to_token: list[str], data_dir) -> Path:
    """Write a checkpoint in the layout of the book's download: ``pretrained.params`` (the
    state dict) and ``vocab.json`` (``idx_to_token``)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), data_dir / "pretrained.params")
    (data_dir / "vocab.json").write_text(json.dumps(idx_to_token), encoding="utf-8")
    return data_dir


def pretrained_bert_dir(root: str | os.PathLike | None = None, num_hiddens: int = 32,
                        ffn_num_hiddens: int = 64, num_heads: int = 2, num_layers: int = 2,
                        max_len: int = 64) -> Path:
    """The folder of a small "pretrained" BERT: ``root/bert/bert.small.torch``, written on first
    use from a seeded random initialisation over the words of the offline SNLI corpus (so
    fine-tuning starts from a model with the right vocabulary, not from real pretraining)."""
    path = data_root(root) / PRETRAINED_DIR
    if (path / "pretrained.params").is_file() and (path / "vocab.json").is_file():
        return path
    from course.nlp_data import snli_sentences

    words = sorted({w for s in snli_sentences() for w in s.lower().split()})
    idx_to_token = ["<unk>", "<pad>", "<cls>", "<sep>", "<mask>", *words]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = small_bert(len(idx_to_token), num_hiddens, ffn_num_hiddens, num_heads,
                         num_layers, max_len=max_len)
    return save_pretrained(net, idx_to_token, path)
