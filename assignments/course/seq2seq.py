"""Machine translation (chapter 9): the book's data format, the encoder-decoder interfaces, the
GRU sequence-to-sequence model, its masked loss, training loop, greedy prediction and BLEU.

The book reads the Tatoeba English-French pairs (``fra-eng/fra.txt``: one pair per line, English
and French separated by a tab). When a user has that file under the data root it is used;
otherwise ``course.data.translation_pairs`` generates a small rule-based corpus and writes it in
the same format. Functions that are exercises of ch09 are locked while ch09 is graded.
"""

from __future__ import annotations

import collections
import math
import os
import re
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from course.data import data_root, load_array, translation_pairs
from course.gating import exercise_of
from course.rnn import grad_clipping
from course.text import Vocab
from course.utils import Accumulator, Timer

BOOK_FILE = Path("fra-eng") / "fra.txt"
GENERATED_FILE = Path("nmt") / "eng-fra.txt"


def translation_path(root: str | os.PathLike | None = None) -> Path:
    """The translation corpus file: ``root/fra-eng/fra.txt`` (the book's) when it exists, else
    ``root/nmt/eng-fra.txt``, written from ``course.data.translation_pairs()`` on first use."""
    where = data_root(root)
    if (where / BOOK_FILE).is_file():
        return where / BOOK_FILE
    path = where / GENERATED_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text("".join(f"{eng}\t{fra}\n" for eng, fra in translation_pairs()),
                           encoding="utf-8")
        partial.replace(path)
    return path


def read_data_nmt(path: str | os.PathLike | None = None) -> str:
    """The raw text of the translation corpus file (default ``translation_path()``)."""
    return Path(path if path is not None else translation_path()).read_text(encoding="utf-8")


@exercise_of("ch09")
def preprocess_nmt(text: str) -> str:
    """Non-breaking spaces to spaces, lower case, a space before ``, . ! ?`` that follow a
    non-space character."""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return re.sub(r"(?<=[^ ])([,.!?])", r" \1", text)


@exercise_of("ch09")
def tokenize_nmt(text: str, num_examples: int | None = None):
    """``(source, target)`` word lists of the tab-separated lines (as the book: at most
    ``num_examples + 1`` lines are read when ``num_examples`` is given)."""
    source, target = [], []
    lines = text.split("\n")
    if num_examples:
        lines = lines[:num_examples + 1]
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 2:
            source.append(parts[0].split(" "))
            target.append(parts[1].split(" "))
    return source, target


@exercise_of("ch09")
def truncate_pad(line: list, num_steps: int, padding_token) -> list:
    """``line`` cut or padded with ``padding_token`` to exactly ``num_steps`` items."""
    return (list(line) + [padding_token] * num_steps)[:num_steps]


@exercise_of("ch09")
def build_array_nmt(lines, vocab, num_steps: int):
    """``(array, valid_len)``: token lists mapped by ``vocab``, ``<eos>`` appended, cut or padded
    with ``<pad>`` to ``num_steps``; ``valid_len`` counts the non-padding tokens of each row."""
    pad, eos = vocab["<pad>"], vocab["<eos>"]
    array = torch.full((len(lines), num_steps), pad, dtype=torch.long)
    for row, line in enumerate(lines):
        indices = (vocab[list(line)] + [eos])[:num_steps]
        array[row, :len(indices)] = torch.tensor(indices, dtype=torch.long)
    return array, (array != pad).sum(dim=1).to(torch.int32)


def load_data_nmt(batch_size: int, num_steps: int, num_examples: int = 600,
                  path: str | os.PathLike | None = None):
    """``(data_iter, src_vocab, tgt_vocab)``: batches ``(X, X_valid_len, Y, Y_valid_len)`` of
    the first ``num_examples`` pairs of the translation corpus; both vocabularies keep tokens
    seen at least twice and reserve ``<pad>``, ``<bos>``, ``<eos>``."""
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(path)), num_examples)
    reserved = ["<pad>", "<bos>", "<eos>"]
    src_vocab = Vocab(source, min_freq=2, reserved_tokens=reserved)
    tgt_vocab = Vocab(target, min_freq=2, reserved_tokens=reserved)
    src_array, src_valid_len = build_array_nmt(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = build_array_nmt(target, tgt_vocab, num_steps)
    data_iter = load_array((src_array, src_valid_len, tgt_array, tgt_valid_len), batch_size)
    return data_iter, src_vocab, tgt_vocab


class Encoder(nn.Module):
    """The encoder interface: ``forward(X, *args)`` returns what the decoder's ``init_state``
    takes."""

    def forward(self, X, *args):
        raise NotImplementedError


class Decoder(nn.Module):
    """The decoder interface: ``init_state(enc_outputs, *args)`` makes the first state and
    ``forward(X, state)`` returns ``(output, state)``."""

    def init_state(self, enc_outputs, *args):
        raise NotImplementedError

    def forward(self, X, state):
        raise NotImplementedError


class EncoderDecoder(nn.Module):
    """An encoder and a decoder: ``forward(enc_X, dec_X, *args)`` encodes ``enc_X``, makes the
    decoder's state from the encoding and decodes ``dec_X``."""

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    @exercise_of("ch09")
    def forward(self, enc_X, dec_X, *args):
        state = self.decoder.init_state(self.encoder(enc_X, *args), *args)
        return self.decoder(dec_X, state)


class Seq2SeqEncoder(Encoder):
    """The book's GRU encoder: ``embedding`` → multilayer ``rnn``; returns ``(outputs (T, B, H),
    state (num_layers, B, H))``."""

    @exercise_of("ch09")
    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        return self.rnn(self.embedding(X).transpose(0, 1))


class Seq2SeqDecoder(Decoder):
    """The book's GRU decoder: the encoder's last-layer final state (the context) is appended to
    every embedded input; ``dense`` maps to the vocabulary; outputs ``(B, T, vocab_size)``."""

    @exercise_of("ch09")
    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        return enc_outputs[1]

    def forward(self, X, state):
        embedded = self.embedding(X).transpose(0, 1)
        context = state[-1].expand(embedded.shape[0], -1, -1)
        output, state = self.rnn(torch.cat((embedded, context), dim=2), state)
        return self.dense(output).transpose(0, 1), state


@exercise_of("ch09")
def sequence_mask(X: torch.Tensor, valid_len: torch.Tensor, value: float = 0) -> torch.Tensor:
    """``X`` with the items of row ``i`` at positions ``valid_len[i]`` and later (along dim 1)
    set to ``value``, in place; returns ``X``."""
    positions = torch.arange(X.shape[1], device=X.device)
    X[positions.unsqueeze(0) >= valid_len.unsqueeze(1)] = value
    return X


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """Cross-entropy of ``pred (B, T, V)`` and ``label (B, T)`` that ignores positions past
    ``valid_len``; returns the per-sequence mean over all ``T`` steps (shape ``(B,)``)."""

    @exercise_of("ch09")
    def forward(self, pred, label, valid_len):
        keep = torch.arange(label.shape[1], device=label.device) < valid_len.unsqueeze(1)
        losses = F.cross_entropy(pred.permute(0, 2, 1), label, reduction="none")
        return (losses * keep).mean(dim=1)


@exercise_of("ch09")
def train_seq2seq(net, data_iter, lr: float, num_epochs: int, tgt_vocab, device,
                  verbose: bool = True) -> tuple[float, float]:
    """Train an encoder-decoder with Adam, teacher forcing (``<bos>`` then the target shifted by
    one) and gradient clipping at 1, Xavier-initialising ``nn.Linear`` and ``nn.GRU`` weights.
    Returns the last epoch's ``(loss per token, tokens per second)``."""
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
        elif isinstance(module, nn.GRU):
            for name, param in module.named_parameters():
                if name.startswith("weight"):
                    nn.init.xavier_uniform_(param)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()
    per_token = speed = float("nan")
    for epoch in range(num_epochs):
        timer, metric = Timer(), Accumulator(2)
        for X, X_valid_len, Y, Y_valid_len in data_iter:
            X, X_valid_len = X.to(device), X_valid_len.to(device)
            Y, Y_valid_len = Y.to(device), Y_valid_len.to(device)
            bos = torch.full((Y.shape[0], 1), tgt_vocab["<bos>"], device=device)
            Y_hat, _ = net(X, torch.cat([bos, Y[:, :-1]], 1), X_valid_len)
            total = loss(Y_hat, Y, Y_valid_len).sum()
            optimizer.zero_grad()
            total.backward()
            grad_clipping(net, 1)
            optimizer.step()
            metric.add(total.item(), Y_valid_len.sum().item())
        per_token, speed = metric[0] / metric[1], metric[1] / timer.stop()
        if verbose and (epoch + 1) % 50 == 0:
            print(f"epoch {epoch + 1}: loss {per_token:.3f}")
    if verbose:
        print(f"loss {per_token:.3f}, {speed:.1f} tokens/sec on {device}")
    return per_token, speed


@exercise_of("ch09")
def predict_seq2seq(net, src_sentence: str, src_vocab, tgt_vocab, num_steps: int, device,
                    save_attention_weights: bool = False):
    """Greedy translation of ``src_sentence``: ``(translation, attention weights per step)``
    (the weights list is empty unless ``save_attention_weights`` and the decoder keeps
    ``attention_weights``)."""
    net.eval()
    source = src_vocab[src_sentence.lower().split(" ")] + [src_vocab["<eos>"]]
    enc_valid_len = torch.tensor([len(source)], device=device)
    source = truncate_pad(source, num_steps, src_vocab["<pad>"])
    enc_X = torch.tensor([source], dtype=torch.long, device=device)
    with torch.no_grad():
        state = net.decoder.init_state(net.encoder(enc_X, enc_valid_len), enc_valid_len)
        token, output, weights = tgt_vocab["<bos>"], [], []
        for _ in range(num_steps):
            Y, state = net.decoder(torch.tensor([[token]], device=device), state)
            token = int(Y.argmax(dim=2)[0, 0])
            if save_attention_weights:
                weights.append(net.decoder.attention_weights)
            if token == tgt_vocab["<eos>"]:
                break
            output.append(token)
    return " ".join(tgt_vocab.to_tokens(output)), weights


@exercise_of("ch09")
def bleu(pred_seq: str, label_seq: str, k: int) -> float:
    """The book's BLEU of space-separated sequences: a brevity penalty times the clipped n-gram
    precisions for ``n = 1..k``, each raised to the power ``1 / 2**n``."""
    pred, label = pred_seq.split(" "), label_seq.split(" ")
    score = math.exp(min(0.0, 1 - len(label) / len(pred)))
    for n in range(1, k + 1):
        grams = collections.Counter(tuple(pred[i:i + n]) for i in range(len(pred) - n + 1))
        refs = collections.Counter(tuple(label[i:i + n]) for i in range(len(label) - n + 1))
        matches = sum((grams & refs).values())
        score *= math.pow(matches / (len(pred) - n + 1), math.pow(0.5, n))
    return score
