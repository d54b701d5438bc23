"""Fast tests of the sequence toolbox: corpus files in the book's formats, vocabularies, the
language-model samplers, the recurrent models and loops, translation data, seq2seq and BLEU."""

import math

import pytest
import torch
from torch import nn

import course
from course import data as cdata
from course.gating import ToolboxLocked

TIME_MACHINE = """The Time Machine, by H. G. Wells [1898]


I


The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
"""


@pytest.fixture(autouse=True)
def not_grading(monkeypatch, tmp_path):
    monkeypatch.delenv("D2L_COURSE_GRADING", raising=False)
    monkeypatch.setenv("D2L_COURSE_DATA", str(tmp_path / "data"))


# --- corpus and vocabulary -----------------------------------------------------------------------


def test_the_books_file_is_read_when_present(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "timemachine.txt").write_text(TIME_MACHINE)
    assert course.time_machine_path() == root / "timemachine.txt"
    lines = course.read_time_machine()
    assert lines[0] == "the time machine by h g wells"
    assert lines[1] == ""
    assert lines[-1] == "was expounding a recondite matter to us his grey eyes shone and"
    tokens = course.tokenize(lines)
    assert tokens[0] == ["the", "time", "machine", "by", "h", "g", "wells"]
    assert course.tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]
    with pytest.raises(ValueError, match="unknown token type"):
        course.tokenize(lines, "byte")


def test_offline_default_is_pythons_documentation(tmp_path):
    path = course.time_machine_path()
    assert path.name == "python_docs.txt" and path.parent == tmp_path / "data"
    lines = course.read_time_machine(path)
    words = [w for line in lines for w in line.split()]
    assert len(words) > 50_000 and {"the", "function", "class"} <= set(words)
    assert all(line == line.lower() and line == line.strip() for line in lines)
    assert course.time_machine_path() == path  # written once, then reused


def test_vocab_follows_the_book():
    tokens = [["b", "a", "c"], ["a", "b", "a"], ["d"]]
    vocab = course.Vocab(tokens, reserved_tokens=["<pad>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "a", "b", "c", "d"]
    assert len(vocab) == 6 and vocab.unk == 0
    assert vocab["a"] == 2 and vocab["zzz"] == 0
    assert vocab[["d", ("b", "x")]] == [5, [3, 0]]
    assert vocab.to_tokens([2, 5]) == ["a", "d"] and vocab.to_tokens(1) == "<pad>"
    assert vocab.token_freqs == [("a", 3), ("b", 2), ("c", 1), ("d", 1)]
    assert course.Vocab(tokens, min_freq=2).idx_to_token == ["<unk>", "a", "b"]
    assert len(course.Vocab()) == 1
    assert course.count_corpus(["x", "y", "x"])["x"] == 2


# --- samplers ------------------------------------------------------------------------------------


def test_random_sampler_structure_and_offsets():
    corpus = list(range(35))
    offsets = set()
    for seed in range(40):
        torch.manual_seed(seed)
        batches = list(course.seq_data_iter_random(corpus, 2, 5))
        assert len(batches) == 3
        starts = []
        for X, Y in batches:
            assert X.shape == Y.shape == (2, 5)
            assert torch.equal(Y, X + 1)  # the corpus counts up: Y is X shifted by one
            assert torch.equal(X[:, 1:] - X[:, :-1], torch.ones(2, 4, dtype=X.dtype))
            starts += X[:, 0].tolist()
        offsets.add(min(starts) % 5)
        assert len(set(starts)) == 6 and len({s % 5 for s in starts}) == 1
    assert offsets == set(range(5))


def test_sequential_sampler_rows_continue():
    corpus = list(range(40))
    offsets = set()
    for seed in range(60):
        torch.manual_seed(seed)
        batches = list(course.seq_data_iter_sequential(corpus, 2, 4))
        offsets.add(int(batches[0][0][0, 0]))
        for (X, Y), (X2, _) in zip(batches, batches[1:]):
            assert torch.equal(X2[:, 0], X[:, -1] + 1)
            assert torch.equal(Y, X + 1)
    assert offsets == set(range(5))


def test_load_data_time_machine(tmp_path):
    data_iter, vocab = course.load_data_time_machine(4, 7, max_tokens=500)
    assert len(vocab) == 28 and vocab.idx_to_token[1] == " "
    X, Y = next(iter(data_iter))
    assert X.shape == Y.shape == (4, 7)
    assert len(data_iter.corpus) == 500


# --- recurrent models and their loop -------------------------------------------------------------


def _scratch_rnn(vocab_size, hiddens, device):
    gen = torch.Generator().manual_seed(0)

    def get_params(v, h, device):
        shapes = [(v, h), (h, h), (h,), (h, v), (v,)]
        return [(torch.randn(s, generator=gen) * 0.1).requires_grad_() for s in shapes]

    def init_state(batch_size, h, device):
        return (torch.zeros(batch_size, h),)

    def forward(inputs, state, params):
        W_xh, W_hh, b_h, W_hq, b_q = params
        (H,), outputs = state, []
        for X in inputs:
            H = torch.tanh(X @ W_xh + H @ W_hh + b_h)
            outputs.append(H @ W_hq + b_q)
        return torch.cat(outputs), (H,)

    return course.RNNModelScratch(vocab_size, hiddens, device, get_params, init_state, forward)


def test_rnn_models_learn_a_repeating_text():
    text = "abcabcabdabcabcabd" * 30
    vocab = course.Vocab(list(text))
    corpus = vocab[list(text)]
    batches = [(torch.tensor([corpus[i:i + 6]]), torch.tensor([corpus[i + 1:i + 7]]))
               for i in range(0, len(corpus) - 7, 6)]
    torch.manual_seed(0)
    for net, lr in ((course.RNNModel(nn.GRU(len(vocab), 16), len(vocab)), 2.0),
                    (_scratch_rnn(len(vocab), 16, "cpu"), 2.0)):
        ppl, speed = course.train_ch8(net, batches, vocab, lr, 30, "cpu", verbose=False)
        assert ppl < 1.6 and speed > 0
        assert course.predict_ch8("abca", 5, net, vocab, "cpu").startswith("abcab")


def test_rnn_model_states_and_clipping():
    lstm = course.RNNModel(nn.LSTM(5, 3, num_layers=2, bidirectional=True), 5)
    state = lstm.begin_state("cpu", batch_size=4)
    assert isinstance(state, tuple) and state[0].shape == (4, 4, 3)
    out, _ = lstm(torch.zeros(4, 6, dtype=torch.long), state)
    assert out.shape == (24, 5)
    out.sum().backward()
    course.grad_clipping(lstm, 0.01)
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in lstm.parameters()))
    assert norm == pytest.approx(0.01, rel=1e-3)


# --- translation data ----------------------------------------------------------------------------


def test_generated_pairs_follow_the_grammar():
    pairs = cdata.translation_pairs()
    assert len(pairs) == len(set(pairs)) == 600
    assert pairs == cdata.translation_pairs() and pairs != cdata.translation_pairs(seed=1)
    table = dict(pairs)
    assert table["She is tired."] == "Elle est fatiguée."
    assert table["I have the book."] == "J'ai le livre."
    assert table["We do not see a cat."] == "Nous ne voyons pas de chat."
    assert table["You are happy!"] == "Tu es heureux\u202f!"


def test_book_format_files_round_trip(tmp_path):
    root = tmp_path / "data"
    (root / "fra-eng").mkdir(parents=True)
    (root / "fra-eng" / "fra.txt").write_text("Go.\tVa !\nHi.\tSalut !\nRun!\tCours\u202f!\n")
    assert course.translation_path() == root / "fra-eng" / "fra.txt"
    text = course.preprocess_nmt(course.read_data_nmt())
    assert text.startswith("go .\tva !\nhi .\tsalut !\nrun !\tcours !")
    source, target = course.tokenize_nmt(text)
    assert source == [["go", "."], ["hi", "."], ["run", "!"]] and target[2] == ["cours", "!"]
    assert course.tokenize_nmt(text, num_examples=1)[0] == [["go", "."], ["hi", "."]]
    vocab = course.Vocab(source, reserved_tokens=["<pad>", "<bos>", "<eos>"])
    array, valid = course.build_array_nmt(source, vocab, 3)
    assert array.tolist() == [[vocab["go"], vocab["."], 3], [vocab["hi"], vocab["."], 3],
                              [vocab["run"], vocab["!"], 3]]
    array, valid = course.build_array_nmt([["go"]], vocab, 4)
    assert array.tolist() == [[vocab["go"], 3, 1, 1]] and valid.tolist() == [2]
    assert course.truncate_pad([1, 2, 3], 2, 0) == [1, 2]


def test_load_data_nmt_on_the_generated_corpus():
    data_iter, src_vocab, tgt_vocab = course.load_data_nmt(8, 9, num_examples=100)
    X, X_valid, Y, Y_valid = next(iter(data_iter))
    assert X.shape == Y.shape == (8, 9) and X_valid.shape == (8,)
    assert src_vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]
    assert (X == src_vocab["<eos>"]).sum() == 8
    assert course.translation_path().name == "eng-fra.txt"


# --- seq2seq and BLEU ----------------------------------------------------------------------------


def test_masks_and_loss():
    X = torch.ones(2, 3)
    assert course.sequence_mask(X, torch.tensor([1, 2])).tolist() == [[1, 0, 0], [1, 1, 0]]
    loss = course.MaskedSoftmaxCELoss()
    got = loss(torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.long), torch.tensor([4, 2]))
    assert got.tolist() == pytest.approx([math.log(5), math.log(5) / 2])


def test_seq2seq_learns_a_few_pairs():
    torch.manual_seed(0)
    data_iter, src_vocab, tgt_vocab = course.load_data_nmt(16, 8, num_examples=47)
    encoder = course.Seq2SeqEncoder(len(src_vocab), 16, 32, 1)
    decoder = course.Seq2SeqDecoder(len(tgt_vocab), 16, 32, 1)
    net = course.EncoderDecoder(encoder, decoder)
    first, _ = course.train_seq2seq(net, data_iter, 0.01, 1, tgt_vocab, "cpu", verbose=False)
    last, _ = course.train_seq2seq(net, data_iter, 0.01, 60, tgt_vocab, "cpu", verbose=False)
    assert last < first / 4
    translation, weights = course.predict_seq2seq(net, "i am cold .", src_vocab, tgt_vocab, 8,
                                                  "cpu")
    assert isinstance(translation, str) and weights == []


def test_bleu_as_the_book_defines_it():
    assert course.bleu("a b c d", "a b c d", 2) == pytest.approx(1.0)
    # unigrams 3/4, bigrams 1/3, a brevity penalty of exp(1 - 5/4)
    expected = math.exp(1 - 5 / 4) * (3 / 4) ** 0.5 * (1 / 3) ** 0.25
    assert course.bleu("a b x c", "a b d c e", 2) == pytest.approx(expected)
    assert course.bleu("a a a", "a b c", 1) == pytest.approx((1 / 3) ** 0.5)  # clipped counts


@pytest.mark.parametrize("chapter", ["ch07", "ch08"])
def test_sequence_toolbox_locked_while_its_chapter_is_graded(monkeypatch, chapter):
    monkeypatch.setenv("D2L_COURSE_GRADING", chapter)
    with pytest.raises(ToolboxLocked):
        course.Vocab([["a"]])
    with pytest.raises(ToolboxLocked):
        course.tokenize(["a b"])
    with pytest.raises(ToolboxLocked):
        course.bleu("a", "a", 1)
    course.time_machine_path()  # the corpus file is data, never locked


def test_ch08_toolbox_open_while_ch09_is_graded(monkeypatch):
    monkeypatch.setenv("D2L_COURSE_GRADING", "ch09")
    assert len(course.Vocab([["a"]])) == 2
    with pytest.raises(ToolboxLocked):
        course.sequence_mask(torch.ones(1, 2), torch.tensor([1]))
    with pytest.raises(ToolboxLocked):
        course.Seq2SeqEncoder(5, 2, 2, 1)
