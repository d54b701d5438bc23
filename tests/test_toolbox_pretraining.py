"""The pretraining toolbox (course/pretraining.py): the book's file formats read back, the
generated offline corpora, and the book's data pipeline of ch14."""

import random

import torch

import course
from course import pretraining as pt


def test_read_ptb_reads_the_books_format(tmp_path):
    (tmp_path / "ptb").mkdir()
    (tmp_path / "ptb" / "ptb.train.txt").write_text(
        " aer banknote <unk> N \n the cat sat \n", encoding="utf-8")
    path = pt.ptb_path(tmp_path)
    assert path == tmp_path / "ptb" / "ptb.train.txt"
    assert pt.read_ptb(path) == [["aer", "banknote", "<unk>", "N"], ["the", "cat", "sat"], []]


def test_generated_ptb_is_in_the_same_format(tmp_path):
    path = pt.ptb_path(tmp_path)
    assert path.parent.parent.name == "generated"
    sentences = pt.read_ptb(path)
    assert len(sentences) > 1000
    words = {w for s in sentences for w in s}
    assert "<unk>" in words and "N" in words
    assert all(w == w.lower() for w in words - {"N"})
    assert not any(any(c.isdigit() for c in w) for w in words)


def test_read_wiki_reads_the_books_format(tmp_path):
    folder = tmp_path / "wikitext-2"
    folder.mkdir()
    (folder / "wiki.train.tokens").write_text(
        " \n = Valkyria Chronicles = \n \n Senjō no Valkyria 3 . It is a game @-@ play . \n"
        " One sentence only . \n", encoding="utf-8")
    assert pt.wiki_dir(tmp_path) == folder
    random.seed(0)
    paragraphs = pt._read_wiki(folder)
    # As in the book, a line ending in " . " splits in two, so one sentence passes the filter.
    assert sorted(paragraphs) == [["one sentence only ."],
                                  ["senjō no valkyria 3", "it is a game @-@ play ."]]


def test_generated_wiki_and_the_bert_loader(tmp_path):
    folder = pt.wiki_dir(tmp_path)
    assert folder.parent.name == "generated"
    random.seed(0)
    paragraphs = pt._read_wiki(folder)
    assert len(paragraphs) > 500 and sum(len(p) >= 2 for p in paragraphs) > 300
    train_iter, vocab = course.load_data_wiki(8, 32, data_dir=folder, max_paragraphs=60)
    assert [vocab.idx_to_token[i] for i in range(1, 5)] == ["<pad>", "<mask>", "<cls>", "<sep>"]
    batch = next(iter(train_iter))
    assert [t.dtype for t in batch] == [torch.long, torch.long, torch.float32, torch.long,
                                        torch.float32, torch.long, torch.long]
    assert list(batch[0].shape) == [8, 32] and list(batch[3].shape) == [8, 5]
    assert bool((batch[0][:, 0] == vocab["<cls>"]).all())


def test_load_data_ptb_batches(tmp_path):
    random.seed(0)
    data_iter, vocab = course.load_data_ptb(16, 2, 3, path=pt.ptb_path(tmp_path),
                                            max_sentences=300)
    centers, cn, masks, labels = next(iter(data_iter))
    assert list(centers.shape) == [16, 1]
    assert cn.shape == masks.shape == labels.shape
    assert bool((labels <= masks).all())
    assert bool(((masks.sum(1) % 4) == 0).all())  # each context word brings 3 noise words


def test_the_books_pipeline_matches_its_specification():
    assert pt.get_tokens_and_segments(["a"], ["b"]) == (["<cls>", "a", "<sep>", "b", "<sep>"],
                                                        [0, 0, 0, 1, 1])
    out = pt.batchify([(1, [2, 2], [3, 3, 3, 3]), (1, [2, 2, 2], [3, 3])])
    assert out[1].tolist() == [[2, 2, 3, 3, 3, 3], [2, 2, 2, 3, 3, 0]]
    assert out[3].tolist() == [[1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]]
    random.seed(0)
    gen = pt.RandomGenerator([0, 1, 0])
    assert {gen.draw() for _ in range(50)} == {2}
    vocab = course.Vocab([["a", "b"]], reserved_tokens=["<pad>", "<mask>", "<cls>", "<sep>"])
    tokens = ["<cls>", "a", "b", "a", "<sep>"]
    ids, positions, labels = pt._get_mlm_data_from_tokens(tokens, vocab)
    assert len(ids) == 5 and len(positions) == 1 and positions[0] in (1, 2, 3)
    assert labels == [vocab[tokens[positions[0]]]]
