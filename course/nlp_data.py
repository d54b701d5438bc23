"""Data for chapter 15: IMDb reviews, SNLI sentence pairs and GloVe-format word vectors.

The loaders read the book's formats: the ``aclImdb/{train,test}/{pos,neg}/*.txt`` folders, the
tab-separated ``snli_1.0/snli_1.0_{train,test}.txt`` files (header row; gold label, binary
parses, ...), and a folder with ``vec.txt`` (one token and its numbers per line, separated by
spaces) for pretrained embeddings. When a user has the book's files under the data root they are
used; otherwise small rule-based corpora with a known sentiment / entailment relation, and word
vectors with a sentiment direction, are generated in the same layouts and read by the same
loaders.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import torch
from torch.utils import data

from course.data import data_root, load_array

IMDB_DIR = Path("aclImdb")
SNLI_DIR = Path("snli_1.0")
GLOVE_DIR = Path("glove.6b.50d")
SNLI_COLUMNS = ("gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
                "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "captionID",
                "pairID", "label1", "label2", "label3", "label4", "label5")

POSITIVE = ("great", "wonderful", "brilliant", "moving", "superb", "funny", "beautiful",
            "excellent", "charming", "clever")
NEGATIVE = ("awful", "boring", "terrible", "dull", "weak", "poor", "silly", "bad", "tedious",
            "clumsy")
NEUTRAL = ("the", "movie", "film", "plot", "acting", "story", "music", "ending", "cast", "was",
           "and", "but", "really", "quite", "i", "thought", "it", "a", "with", "very", "script",
           "director", "scenes", "of", "this", "is", "were", "too", "so", "overall")


def _review(rng: random.Random, positive: bool) -> str:
    main, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
    parts = []
    for _ in range(rng.randint(3, 6)):
        subject = rng.choice(("movie", "film", "plot", "acting", "story", "music", "ending",
                              "cast", "script", "scenes"))
        word = rng.choice(other) if rng.random() < 0.2 else rng.choice(main)
        parts.append(f"the {subject} was {rng.choice(('really ', 'quite ', 'very ', ''))}{word}")
    return (" and ".join(parts) + " .").capitalize()


def imdb_dir(root: str | os.PathLike | None = None, num_reviews: int = 400) -> Path:
    """The IMDb folder: ``root/aclImdb`` when it exists, else ``root/imdb-generated/aclImdb``,
    written on first use with ``num_reviews`` rule-based reviews per split and label."""
    where = data_root(root)
    if (where / IMDB_DIR / "train").is_dir():
        return where / IMDB_DIR
    path = where / "imdb-generated" / IMDB_DIR
    if not (path / "test" / "neg").is_dir():
        rng = random.Random(15)
        for split in ("train", "test"):
            for label in ("pos", "neg"):
                folder = path / split / label
                folder.mkdir(parents=True, exist_ok=True)
                for i in range(num_reviews):
                    (folder / f"{i}_{rng.randint(1, 4) if label == 'neg' else rng.randint(7, 10)}"
                     ".txt").write_text(_review(rng, label == "pos"), encoding="utf-8")
    return path


def read_imdb(data_dir, is_train: bool):
    """The book's reader: ``(reviews, labels)`` from ``data_dir/{train,test}/{pos,neg}``, label 1
    for ``pos`` and 0 for ``neg``, newlines removed."""
    reviews, labels = [], []
    for label in ("pos", "neg"):
        folder = os.path.join(data_dir, "train" if is_train else "test", label)
        for file in sorted(os.listdir(folder)):
            with open(os.path.join(folder, file), "rb") as f:
                reviews.append(f.read().decode("utf-8").replace("\n", ""))
            labels.append(1 if label == "pos" else 0)
    return reviews, labels


def load_data_imdb(batch_size: int, num_steps: int = 500, data_dir=None):
    """The book's IMDb iterators: word tokens, a vocabulary of tokens seen at least 5 times in
    training, reviews truncated or padded to ``num_steps``; returns
    ``(train_iter, test_iter, vocab)``."""
    from course.seq2seq import truncate_pad
    from course.text import Vocab, tokenize

    data_dir = imdb_dir() if data_dir is None else data_dir
    train_data, test_data = read_imdb(data_dir, True), read_imdb(data_dir, False)
    train_tokens = tokenize(train_data[0], token="word")
    test_tokens = tokenize(test_data[0], token="word")
    vocab = Vocab(train_tokens, min_freq=5)

    def features(lines):
        return torch.tensor([truncate_pad(vocab[line], num_steps, vocab["<pad>"])
                             for line in lines])

    train_iter = load_array((features(train_tokens), torch.tensor(train_data[1])), batch_size)
    test_iter = load_array((features(test_tokens), torch.tensor(test_data[1])), batch_size,
                           is_train=False)
    return train_iter, test_iter, vocab


# --- SNLI ----------------------------------------------------------------------------------------

PEOPLE = {"man": "person", "woman": "person", "boy": "child", "girl": "child",
          "dog": "animal", "cat": "animal"}
ACTIONS = ("is running", "is sleeping", "is eating", "is swimming", "is singing", "is sitting")
PLACES = ("in the park", "on the beach", "at home", "in the street")
EXTRAS = ("with a friend", "for fun", "after work", "in the rain")


def _binary_parse(sentence: str) -> str:
    words = sentence.split()
    tree = words[-1]
    for w in reversed(words[:-1]):
        tree = f"( {w} {tree} )"
    return tree


def _snli_pair(rng: random.Random):
    who = rng.choice(sorted(PEOPLE))
    action, place = rng.choice(ACTIONS), rng.choice(PLACES)
    premise = f"A {who} {action} {place} ."
    label = rng.choice(("entailment", "contradiction", "neutral"))
    if label == "entailment":
        hypothesis = f"A {PEOPLE[who]} {action} ."
    elif label == "contradiction":
        other = rng.choice([a for a in ACTIONS if a != action])
        hypothesis = f"The {who} {other} ."
    else:
        hypothesis = f"The {who} {action} {rng.choice(EXTRAS)} ."
    return label, premise, hypothesis


def snli_sentences(num_pairs: int = 60) -> list[str]:
    """Sentences of the generated SNLI corpus (every word the generator uses appears)."""
    words = [*PEOPLE, *PEOPLE.values(), *ACTIONS, *PLACES, *EXTRAS, "a the ."]
    rng = random.Random(0)
    pairs = [_snli_pair(rng) for _ in range(num_pairs)]
    return [*words, *(p for _, p, _ in pairs), *(h for _, _, h in pairs)]


def snli_dir(root: str | os.PathLike | None = None, num_pairs: int = 600) -> Path:
    """The SNLI folder: ``root/snli_1.0`` when it exists, else ``root/snli-generated/snli_1.0``,
    written on first use with ``num_pairs`` rule-based pairs per split (plus a few rows with
    the gold label ``-``, which readers skip, as in the real files)."""
    where = data_root(root)
    if (where / SNLI_DIR / "snli_1.0_train.txt").is_file():
        return where / SNLI_DIR
    path = where / "snli-generated" / SNLI_DIR
    if not (path / "snli_1.0_test.txt").is_file():
        path.mkdir(parents=True, exist_ok=True)
        rng = random.Random(15)
        for split in ("train", "test"):
            rows = ["\t".join(SNLI_COLUMNS)]
            for i in range(num_pairs + 3):
                label, premise, hypothesis = _snli_pair(rng)
                gold = "-" if i % (num_pairs // 3 + 1) == 7 else label
                rows.append("\t".join((gold, _binary_parse(premise), _binary_parse(hypothesis),
                                       "(ROOT)", "(ROOT)", premise, hypothesis, f"{i}.jpg#0",
                                       f"{i}.jpg#0r1{label[0]}", label, label, "", "", "")))
            (path / f"snli_1.0_{split}.txt").write_text("\n".join(rows) + "\n",
                                                        encoding="utf-8")
    return path


def read_snli(data_dir, is_train: bool):
    """The book's reader: ``(premises, hypotheses, labels)`` from the binary-parse columns with
    brackets removed; labels entailment 0, contradiction 1, neutral 2; other rows skipped."""

    def extract_text(s):
        s = re.sub("\\(", "", s)
        s = re.sub("\\)", "", s)
        return re.sub("\\s{2,}", " ", s).strip()

    label_set = {"entailment": 0, "contradiction": 1, "neutral": 2}
    name = os.path.join(data_dir, "snli_1.0_train.txt" if is_train else "snli_1.0_test.txt")
    with open(name, encoding="utf-8") as f:
        rows = [row.split("\t") for row in f.readlines()[1:]]
    rows = [row for row in rows if row[0] in label_set]
    return ([extract_text(row[1]) for row in rows], [extract_text(row[2]) for row in rows],
            [label_set[row[0]] for row in rows])


class SNLIDataset(data.Dataset):
    """The book's SNLI dataset: word tokens padded to ``num_steps`` with ``<pad>``; items are
    ``((premise, hypothesis), label)``."""

    def __init__(self, dataset, num_steps: int, vocab=None) -> None:
        from course.text import Vocab, tokenize

        self.num_steps = num_steps
        premise_tokens = tokenize(dataset[0])
        hypothesis_tokens = tokenize(dataset[1])
        self.vocab = vocab if vocab is not None else Vocab(
            premise_tokens + hypothesis_tokens, min_freq=5, reserved_tokens=["<pad>"])
        self.premises = self._pad(premise_tokens)
        self.hypotheses = self._pad(hypothesis_tokens)
        self.labels = torch.tensor(dataset[2])

    def _pad(self, lines):
        from course.seq2seq import truncate_pad

        return torch.tensor([truncate_pad(self.vocab[line], self.num_steps, self.vocab["<pad>"])
                             for line in lines])

    def __getitem__(self, idx):
        return (self.premises[idx], self.hypotheses[idx]), self.labels[idx]

    def __len__(self) -> int:
        return len(self.premises)


def load_data_snli(batch_size: int, num_steps: int = 50, data_dir=None):
    """The book's SNLI iterators and vocabulary: ``(train_iter, test_iter, vocab)``."""
    data_dir = snli_dir() if data_dir is None else data_dir
    train_set = SNLIDataset(read_snli(data_dir, True), num_steps)
    test_set = SNLIDataset(read_snli(data_dir, False), num_steps, train_set.vocab)
    train_iter = data.DataLoader(train_set, batch_size, shuffle=True, num_workers=0)
    test_iter = data.DataLoader(test_set, batch_size, shuffle=False, num_workers=0)
    return train_iter, test_iter, train_set.vocab


# --- word vectors --------------------------------------------------------------------------------


def glove_dir(root: str | os.PathLike | None = None, dim: int = 16) -> Path:
    """A folder with ``vec.txt`` in the GloVe text format: ``root/glove.6b.50d`` when it exists,
    else ``root/glove-generated/glove.6b.<dim>d``, written on first use: seeded random vectors
    for the generated corpora's words, with a shared direction added to positive words and
    subtracted from negative ones (a stand-in for what real GloVe vectors encode)."""
    where = data_root(root)
    if (where / GLOVE_DIR / "vec.txt").is_file():
        return where / GLOVE_DIR
    path = where / "glove-generated" / f"glove.6b.{dim}d"
    if not (path / "vec.txt").is_file():
        path.mkdir(parents=True, exist_ok=True)
        gen = torch.Generator().manual_seed(15)
        words = list(dict.fromkeys([*NEUTRAL, *POSITIVE, *NEGATIVE, ".",
                                    *" ".join(snli_sentences()).lower().split()]))
        vecs = torch.randn(len(words), dim, generator=gen) * 0.5
        direction = torch.randn(dim, generator=gen)
        for i, w in enumerate(words):
            vecs[i] += direction * ((w in POSITIVE) - (w in NEGATIVE))
        lines = [w + " " + " ".join(f"{x:.5f}" for x in v.tolist()) for w, v in zip(words, vecs)]
        (path / "vec.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TokenEmbedding:
    """The book's pretrained-embedding reader, from a folder holding ``vec.txt`` (default
    ``glove_dir()``; the book takes a name and downloads). Index 0 is ``<unk>`` with a zero
    vector; ``embed[tokens]`` stacks the vectors of a list of tokens."""

    def __init__(self, data_dir=None) -> None:
        self.idx_to_token, self.idx_to_vec = self._load_embedding(
            glove_dir() if data_dir is None else data_dir)
        self.unknown_idx = 0
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def _load_embedding(self, data_dir):
        idx_to_token, idx_to_vec = ["<unk>"], []
        with open(os.path.join(data_dir, "vec.txt"), encoding="utf-8") as f:
            for line in f:
                elems = line.rstrip().split(" ")
                token, values = elems[0], [float(x) for x in elems[1:]]
                if len(values) > 1:  # the book skips fastText's header line
                    idx_to_token.append(token)
                    idx_to_vec.append(values)
        idx_to_vec = [[0.0] * len(idx_to_vec[0]), *idx_to_vec]
        return idx_to_token, torch.tensor(idx_to_vec)

    def __getitem__(self, tokens):
        indices = [self.token_to_idx.get(token, self.unknown_idx) for token in tokens]
        return self.idx_to_vec[torch.tensor(indices, dtype=torch.long)]

    def __len__(self) -> int:
        return len(self.idx_to_token)
