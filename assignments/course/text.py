"""Text for the sequence chapters: the book's corpus reader, tokens, vocabularies and the two
minibatch samplers of language models.

The book reads H. G. Wells' *The Time Machine* (``timemachine.txt``). When a user has that file
under the data root (see ``course.data.data_root``) it is used; otherwise the offline default is
real English text that every Python installation ships: the documentation of the language's
statements and types (``pydoc_data.topics``), written once to a file and read through the same
reader. Functions that are exercises of ch08 are locked while ch08 is graded.
"""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Iterator
from pathlib import Path

import torch

from course.data import data_root
from course.gating import exercise_of

TIME_MACHINE = "timemachine.txt"
PYTHON_DOCS = "python_docs.txt"


def time_machine_path(root: str | os.PathLike | None = None) -> Path:
    """The corpus file of the language-model chapters.

    ``root/timemachine.txt`` (the book's file) when it exists, else ``root/python_docs.txt``,
    written from Python's bundled documentation topics on first use (about 465,000 characters
    of English prose and code examples). ``root`` defaults to ``course.data.data_root()``.
    """
    where = data_root(root)
    book = where / TIME_MACHINE
    if book.is_file():
        return book
    path = where / PYTHON_DOCS
    if not path.is_file():
        from pydoc_data.topics import topics

        where.mkdir(parents=True, exist_ok=True)
        text = "\n".join(topics[name] for name in sorted(topics))
        partial = path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


@exercise_of("ch08")
def read_time_machine(path: str | os.PathLike | None = None) -> list[str]:
    """The lines of the corpus file at ``path`` (default ``time_machine_path()``), each with
    every run of non-letters replaced by one space, stripped and lower-cased."""
    text = Path(path if path is not None else time_machine_path()).read_text(encoding="utf-8")
    letters = re.compile("[^A-Za-z]+")
    return [letters.sub(" ", line).strip().lower() for line in text.splitlines()]


@exercise_of("ch08")
def tokenize(lines: list[str], token: str = "word") -> list[list[str]]:
    """Split each line into words (``token='word'``, on runs of whitespace as the book does) or
    characters (``token='char'``)."""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"unknown token type {token!r}: use 'word' or 'char'")


@exercise_of("ch08")
def count_corpus(tokens) -> collections.Counter:
    """Token frequencies of a list of tokens or a list of token lists."""
    if tokens and isinstance(tokens[0], list):
        return collections.Counter(t for line in tokens for t in line)
    return collections.Counter(tokens)


class Vocab:
    """The book's vocabulary: ``<unk>`` at index 0, then ``reserved_tokens``, then the tokens
    seen at least ``min_freq`` times, most frequent first (ties in order of first appearance).

    ``vocab[token]`` and ``vocab[[tokens, ...]]`` map to indices (unknown tokens to ``unk``),
    ``to_tokens`` maps back, ``len(vocab)`` counts the tokens, ``token_freqs`` lists
    ``(token, count)`` pairs by descending count.
    """

    @exercise_of("ch08")
    def __init__(self, tokens=None, min_freq: int = 0, reserved_tokens=None) -> None:
        counts = count_corpus(tokens or [])
        self._token_freqs = counts.most_common()
        self.idx_to_token = ["<unk>", *(reserved_tokens or [])]
        self.idx_to_token += [t for t, n in self._token_freqs
                              if n >= min_freq and t not in self.idx_to_token]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """The token of an index, or the tokens of a list of indices."""
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self) -> int:
        return 0

    @property
    def token_freqs(self) -> list[tuple[str, int]]:
        return self._token_freqs


def load_corpus_time_machine(max_tokens: int = -1, path: str | os.PathLike | None = None):
    """``(corpus, vocab)``: the corpus file as a list of character indices (at most
    ``max_tokens`` of them when positive) and its character vocabulary."""
    tokens = tokenize(read_time_machine(path), "char")
    vocab = Vocab(tokens)
    corpus = [vocab[t] for line in tokens for t in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


@exercise_of("ch08")
def seq_data_iter_random(corpus, batch_size: int, num_steps: int) -> Iterator:
    """Minibatches ``(X, Y)`` of ``num_steps`` tokens from random positions: a random offset in
    ``[0, num_steps)``, then disjoint subsequences in random order; ``Y`` is ``X`` shifted by
    one token."""
    corpus = torch.as_tensor(corpus)
    start = int(torch.randint(num_steps, ()))
    count = (len(corpus) - start - 1) // num_steps
    pieces = corpus[start:start + count * num_steps + 1]
    X = pieces[:-1].unfold(0, num_steps, num_steps)
    Y = pieces[1:].unfold(0, num_steps, num_steps)
    order = torch.randperm(count)
    for batch in order[:count // batch_size * batch_size].split(batch_size):
        yield X[batch], Y[batch]


@exercise_of("ch08")
def seq_data_iter_sequential(corpus, batch_size: int, num_steps: int) -> Iterator:
    """Minibatches ``(X, Y)`` where row ``i`` of each batch continues row ``i`` of the previous
    one: a random offset in ``[0, num_steps]``, the rest cut into ``batch_size`` rows."""
    corpus = torch.as_tensor(corpus)
    start = int(torch.randint(num_steps + 1, ()))
    width = (len(corpus) - start - 1) // batch_size
    Xs = corpus[start:start + width * batch_size].view(batch_size, width)
    Ys = corpus[start + 1:start + 1 + width * batch_size].view(batch_size, width)
    for i in range(0, width // num_steps * num_steps, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


class SeqDataLoader:
    """An iterable over language-model minibatches of the corpus file (random or sequential
    sampling, a fresh random offset per pass); ``vocab`` holds its vocabulary."""

    def __init__(self, batch_size: int, num_steps: int, use_random_iter: bool, max_tokens: int,
                 path: str | os.PathLike | None = None) -> None:
        self.sampler = seq_data_iter_random if use_random_iter else seq_data_iter_sequential
        self.corpus, self.vocab = load_corpus_time_machine(max_tokens, path)
        self.batch_size, self.num_steps = batch_size, num_steps

    def __iter__(self) -> Iterator:
        return self.sampler(self.corpus, self.batch_size, self.num_steps)


def load_data_time_machine(batch_size: int, num_steps: int, use_random_iter: bool = False,
                           max_tokens: int = 10000, path: str | os.PathLike | None = None):
    """``(data_iter, vocab)`` for character-level language models on the corpus file."""
    data_iter = SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens, path)
    return data_iter, data_iter.vocab
