"""Data for the pretraining chapter (ch14): the PTB-style corpus of word2vec and the
WikiText-2-format corpus of BERT, with the book's readers, samplers and padding.

The book downloads Penn Treebank (``ptb/ptb.train.txt``: one sentence a line, lower-case words
separated by spaces, numbers as ``N``, rare words as ``<unk>``) and WikiText-2
(``wikitext-2/wiki.train.tokens``: one paragraph a line, tokens separated by spaces, sentences
by `` . ``, headings as `` = Title = ``). When a user has those files under the data root
(``course.data.data_root``) they are used; otherwise files in the same formats are generated
once from real English text every Python installation ships (``pydoc_data.topics``) and read
through the same readers. Functions that are exercises of ch14 are locked while ch14 is graded.
"""

from __future__ import annotations

import collections
import math
import os
import random
import re
from pathlib import Path

import torch
from torch.utils import data

from course.bert import get_tokens_and_segments
from course.data import data_root
from course.gating import exercise_of
from course.text import Vocab, tokenize

PTB_DIR, PTB_FILE = "ptb", "ptb.train.txt"
WIKI_DIR, WIKI_FILE = "wikitext-2", "wiki.train.tokens"
GENERATED = "generated"
BERT_RESERVED = ["<pad>", "<mask>", "<cls>", "<sep>"]


def _topics() -> dict[str, str]:
    from pydoc_data.topics import topics

    return topics


def _sentences(text: str) -> list[list[str]]:
    """Lower-case word sentences of ``text``: split at ``.``, ``?``, ``!`` and blank lines."""
    out = []
    for chunk in re.split(r"[.?!]\s+|\n\s*\n", text):
        words = re.findall(r"[a-z]+|[0-9]+", chunk.lower())
        if len(words) >= 2:
            out.append(words)
    return out


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def ptb_path(root: str | os.PathLike | None = None) -> Path:
    """``root/ptb/ptb.train.txt`` when the book's file exists, else a generated file in the same
    format (``root/generated/ptb/ptb.train.txt``, written on first use): one sentence a line,
    numbers as ``N``, words seen fewer than 3 times as ``<unk>``."""
    where = data_root(root)
    book = where / PTB_DIR / PTB_FILE
    if book.is_file():
        return book
    path = where / GENERATED / PTB_DIR / PTB_FILE
    if not path.is_file():
        topics = _topics()
        sentences = [s for name in sorted(topics) for s in _sentences(topics[name])]
        sentences = [["N" if w.isdigit() else w for w in s] for s in sentences]
        counts = collections.Counter(w for s in sentences for w in s)
        lines = [" ".join(w if counts[w] >= 3 else "<unk>" for w in s) for s in sentences]
        _write(path, "\n".join(" " + line + " " for line in lines) + "\n")
    return path


def read_ptb(path: str | os.PathLike | None = None) -> list[list[str]]:
    """The book's ``read_ptb``: the sentences of ``ptb.train.txt`` (default ``ptb_path()``),
    each a list of the words on its line (the last, empty line included, as the book does)."""
    raw_text = Path(path if path is not None else ptb_path()).read_text(encoding="utf-8")
    return [line.split() for line in raw_text.split("\n")]


def wiki_dir(root: str | os.PathLike | None = None) -> Path:
    """The folder holding ``wiki.train.tokens``: ``root/wikitext-2`` when the book's file is
    there, else a generated one (``root/generated/wikitext-2``, written on first use) with one
    heading line per documentation topic and one paragraph a line, tokens separated by spaces
    and sentences by `` . ``."""
    where = data_root(root)
    book = where / WIKI_DIR
    if (book / WIKI_FILE).is_file():
        return book
    folder = where / GENERATED / WIKI_DIR
    if not (folder / WIKI_FILE).is_file():
        topics = _topics()
        lines = [""]
        for name in sorted(topics):
            lines += [f" = {name.replace('-', ' @-@ ')} = ", ""]
            for block in re.split(r"\n\s*\n", topics[name]):
                sentences = [" ".join(s) for s in _sentences(block)]
                if sentences:
                    lines.append(" " + " . ".join(sentences) + " . ")
            lines.append("")
        _write(folder / WIKI_FILE, "\n".join(lines) + "\n")
    return folder


# --- the book's word2vec pipeline (ch14 exercises: locked while ch14 is graded) ------------------


@exercise_of("ch14")
def subsample(sentences, vocab):
    """The book's ``subsample``: drop unknown tokens, keep each occurrence of ``w`` with
    probability ``min(1, sqrt(1e-4 / f(w)))``; return ``(sentences, counter)``."""
    known = [[t for t in line if vocab[t] != vocab.unk] for line in sentences]
    counter = collections.Counter(t for line in known for t in line)
    total = sum(counter.values())
    return ([[t for t in line if random.random() < math.sqrt(1e-4 * total / counter[t])]
             for line in known], counter)


@exercise_of("ch14")
def get_centers_and_contexts(corpus, max_window_size):
    """The book's ``get_centers_and_contexts`` with a random window size per centre."""
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        for i, center in enumerate(line):
            w = random.randint(1, max_window_size)
            centers.append(center)
            contexts.append(line[max(0, i - w):i] + line[i + 1:i + 1 + w])
    return centers, contexts


class _Draws:
    def __init__(self, sampling_weights):
        self.weights = list(sampling_weights)
        self.cache: list[int] = []

    def draw(self) -> int:
        if not self.cache:
            self.cache = random.choices(range(1, len(self.weights) + 1), self.weights, k=10000)
            self.cache.reverse()
        return self.cache.pop()


@exercise_of("ch14")
def RandomGenerator(sampling_weights):  # noqa: N802 - the book's name
    """The book's ``RandomGenerator``: ``draw()`` returns ``k`` in ``1..n`` with probability
    proportional to ``sampling_weights[k - 1]``."""
    return _Draws(sampling_weights)


@exercise_of("ch14")
def get_negatives(all_contexts, vocab, counter, K):
    """The book's ``get_negatives``: ``K`` noise words per context word, drawn with weights
    ``count ** 0.75``, none of them a context word of the same centre."""
    weights = [counter[vocab.to_tokens(i)] ** 0.75 for i in range(1, len(vocab))]
    draws, out = _Draws(weights), []
    for contexts in all_contexts:
        chosen: list[int] = []
        while len(chosen) < len(contexts) * K:
            k = draws.draw()
            if k not in contexts:
                chosen.append(k)
        out.append(chosen)
    return out


@exercise_of("ch14")
def batchify(data_):
    """The book's ``batchify``: ``(centers, contexts_negatives, masks, labels)``."""
    width = max(len(c) + len(n) for _, c, n in data_)
    rows = [(c + n + [0] * (width - len(c) - len(n)),
             [1] * (len(c) + len(n)) + [0] * (width - len(c) - len(n)),
             [1] * len(c) + [0] * (width - len(c))) for _, c, n in data_]
    return (torch.tensor([[center] for center, _, _ in data_]),
            torch.tensor([r[0] for r in rows]), torch.tensor([r[1] for r in rows]),
            torch.tensor([r[2] for r in rows]))


def load_data_ptb(batch_size: int, max_window_size: int, num_noise_words: int,
                  path: str | os.PathLike | None = None, max_sentences: int | None = None):
    """The book's ``load_data_ptb``: ``(data_iter, vocab)`` with ``Vocab(min_freq=10)``,
    subsampling, random windows and ``num_noise_words`` noise words per context word,
    minibatches from ``batchify``. ``max_sentences`` keeps only the first sentences (for short
    demonstrations; the book uses all of them)."""
    sentences = read_ptb(path)
    if max_sentences is not None:
        sentences = sentences[:max_sentences]
    vocab = Vocab(sentences, min_freq=10)
    subsampled, counter = subsample(sentences, vocab)
    corpus = [vocab[line] for line in subsampled]
    all_centers, all_contexts = get_centers_and_contexts(corpus, max_window_size)
    all_negatives = get_negatives(all_contexts, vocab, counter, num_noise_words)
    examples = list(zip(all_centers, all_contexts, all_negatives))
    data_iter = data.DataLoader(examples, batch_size, shuffle=True, collate_fn=batchify,
                                num_workers=0)
    return data_iter, vocab


# --- the book's BERT pretraining data (ch14 exercises: locked while ch14 is graded) --------------


def _read_wiki(data_dir: str | os.PathLike | None = None) -> list[list[str]]:
    """The book's ``_read_wiki``: the lines of ``data_dir/wiki.train.tokens`` (default
    ``wiki_dir()``) with at least two sentences, lower-cased and split at `` . ``, shuffled."""
    folder = Path(data_dir) if data_dir is not None else wiki_dir()
    with open(folder / WIKI_FILE, encoding="utf-8") as f:
        lines = f.readlines()
    paragraphs = [line.strip().lower().split(" . ") for line in lines
                  if len(line.split(" . ")) >= 2]
    random.shuffle(paragraphs)
    return paragraphs


@exercise_of("ch14")
def _get_next_sentence(sentence, next_sentence, paragraphs):
    """The book's ``_get_next_sentence``: the true next sentence half the time."""
    if random.random() < 0.5:
        return sentence, next_sentence, True
    return sentence, random.choice(random.choice(paragraphs)), False


def _get_nsp_data_from_paragraph(paragraph, paragraphs, vocab, max_len):
    """The book's ``_get_nsp_data_from_paragraph``: ``(tokens, segments, is_next)`` for each
    consecutive pair of sentences that fits ``max_len`` with ``<cls>`` and two ``<sep>``."""
    out = []
    for i in range(len(paragraph) - 1):
        tokens_a, tokens_b, is_next = _get_next_sentence(paragraph[i], paragraph[i + 1],
                                                         paragraphs)
        if len(tokens_a) + len(tokens_b) + 3 > max_len:
            continue
        tokens, segments = get_tokens_and_segments(tokens_a, tokens_b)
        out.append((tokens, segments, is_next))
    return out


@exercise_of("ch14")
def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    """The book's ``_replace_mlm_tokens``: 80% ``<mask>``, 10% unchanged, 10% random token."""
    corrupted = list(tokens)
    random.shuffle(candidate_pred_positions)
    taken = []
    for position in candidate_pred_positions[:num_mlm_preds]:
        if random.random() < 0.8:
            corrupted[position] = "<mask>"
        elif random.random() >= 0.5:
            corrupted[position] = random.choice(vocab.idx_to_token)
        taken.append((position, tokens[position]))
    return corrupted, taken


@exercise_of("ch14")
def _get_mlm_data_from_tokens(tokens, vocab):
    """The book's ``_get_mlm_data_from_tokens``."""
    candidates = [i for i, t in enumerate(tokens) if t not in ("<cls>", "<sep>")]
    corrupted, taken = _replace_mlm_tokens(tokens, candidates, max(1, round(len(tokens) * 0.15)),
                                           vocab)
    taken.sort(key=lambda pair: pair[0])
    return vocab[corrupted], [p for p, _ in taken], vocab[[t for _, t in taken]]


@exercise_of("ch14")
def _pad_bert_inputs(examples, max_len, vocab):
    """The book's ``_pad_bert_inputs``: seven lists of tensors."""
    preds = round(max_len * 0.15)
    out: tuple[list, ...] = ([], [], [], [], [], [], [])
    for token_ids, positions, labels, segments, is_next in examples:
        fill = max_len - len(token_ids)
        rest = preds - len(positions)
        out[0].append(torch.tensor(token_ids + [vocab["<pad>"]] * fill, dtype=torch.long))
        out[1].append(torch.tensor(segments + [0] * (max_len - len(segments)), dtype=torch.long))
        out[2].append(torch.tensor(len(token_ids), dtype=torch.float32))
        out[3].append(torch.tensor(positions + [0] * rest, dtype=torch.long))
        out[4].append(torch.tensor([1.0] * len(labels) + [0.0] * rest, dtype=torch.float32))
        out[5].append(torch.tensor(labels + [0] * (preds - len(labels)), dtype=torch.long))
        out[6].append(torch.tensor(is_next, dtype=torch.long))
    return out


class _WikiTextDataset(data.Dataset):
    """The book's ``_WikiTextDataset``: NSP and MLM examples of every paragraph, padded."""

    def __init__(self, paragraphs, max_len):
        paragraphs = [tokenize(paragraph, token="word") for paragraph in paragraphs]
        sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
        self.vocab = Vocab(sentences, min_freq=5, reserved_tokens=list(BERT_RESERVED))
        examples = []
        for paragraph in paragraphs:
            examples.extend(_get_nsp_data_from_paragraph(paragraph, paragraphs, self.vocab,
                                                         max_len))
        examples = [(_get_mlm_data_from_tokens(tokens, self.vocab) + (segments, is_next))
                    for tokens, segments, is_next in examples]
        self.tensors = _pad_bert_inputs(examples, max_len, self.vocab)

    def __getitem__(self, idx):
        return tuple(column[idx] for column in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


def load_data_wiki(batch_size: int, max_len: int, data_dir: str | os.PathLike | None = None,
                   max_paragraphs: int | None = None):
    """The book's ``load_data_wiki``: ``(train_iter, vocab)`` of BERT pretraining examples
    (7 tensors a minibatch) from ``wiki.train.tokens``. ``max_paragraphs`` keeps only the
    first paragraphs after shuffling (for short demonstrations)."""
    paragraphs = _read_wiki(data_dir)
    if max_paragraphs is not None:
        paragraphs = paragraphs[:max_paragraphs]
    train_set = _WikiTextDataset(paragraphs, max_len)
    train_iter = data.DataLoader(train_set, batch_size, shuffle=True, num_workers=0)
    return train_iter, train_set.vocab
