"""Hidden checks for ch08, Recurrent neural networks.

- Text pipeline: the grader writes small files in the book's format inside the sandbox's scratch
  folder and compares the lines, tokens, counts and vocabularies with the reference's; the order
  of tokens of equal frequency is never graded (the specification leaves it open).
- Samplers: the structure of every minibatch is checked exactly on corpora of distinct values
  (positions are read back from the values); the randomness (offsets, start positions) by
  frequency tests over many calls, each seeded anew in torch, ``random`` and numpy, so any
  generator a student uses is seen at work (``grader.engine.stats``, false failures ≤ 1e-6).
- The scratch RNN: shapes, statistics and devices (the ``meta`` device stands in for a GPU) of
  the parameters; ``rnn``'s values and gradients against ``nn.RNN`` with copied weights;
  ``RNNModelScratch`` with grader functions as ``get_params``/``init_state``/``forward_fn``.
- ``predict_ch8``, ``grad_clipping`` and ``train_epoch_ch8`` run with grader networks,
  vocabularies, losses and updaters that record how they are used; ``train_epoch_ch8`` gets a
  grader ``grad_clipping`` swapped in, and its perplexity and final weights are compared with
  the reference run on the same deterministic setup (the scenario runs here on the reference's
  namespace for the expected values).
"""

import collections
import math
import tempfile
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

import solutions.ch08 as ref
from grader.engine import stats
from grader.engine import strategies as st
from grader.engine.child import objects
from grader.engine.child.fromscratch import trusted
from grader.engine.child.values import BatchIterable
from grader.engine.compare import (
    describe,
    expect,
    expect_equal,
    expect_number,
    expect_tensor,
    fail,
    gradient,
    mapping,
    number,
    sequence,
)
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

RNN_OPS = ("torch.nn.RNN", "torch.nn.RNNCell", "rnn_tanh", "rnn_tanh_cell", "rnn_relu",
           "rnn_relu_cell")
CLIP_OPS = ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm",
            "torch.nn.utils.clip_grads_with_norm_")

EXERCISES = {
    "read_time_machine": Exercise(points=2),
    "tokenize": Exercise(points=2),
    "count_corpus": Exercise(points=2),
    "Vocab": Exercise(points=5),
    "seq_data_iter_random": Exercise(points=3),
    "seq_data_iter_sequential": Exercise(points=3),
    "get_params": Exercise(points=3),
    "init_rnn_state": Exercise(points=2),
    "rnn": Exercise(points=5, forbid=RNN_OPS, scan=("RNN", "RNNCell", "rnn_tanh", "rnn_relu")),
    "RNNModelScratch": Exercise(points=3),
    "predict_ch8": Exercise(points=3),
    "grad_clipping": Exercise(points=3, forbid=CLIP_OPS,
                              scan=("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_")),
    "train_epoch_ch8": Exercise(points=6, seconds=30),
}

REF = vars(ref)
F32 = {"atol": 1e-5, "rtol": 1e-5}


def _on_reference(fn, *args):
    """Run a scenario function here on the reference's namespace (the expected answer), with
    torch's global generator left as it was."""
    with torch.random.fork_rng(devices=[]):
        return fn(REF, *args)


def _text(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --- 8.2 read_time_machine ------------------------------------------------------------------------

EXAMPLE_TEXT = (
    "The Time Machine, by H. G. Wells [1898]\n"
    "\n"
    "I\n"
    "The Time Traveller (for so it will be convenient to speak of him)\n"
    "   was expounding a recondite matter to us.   His grey eyes shone and\n"
    "twinkled, and his usually pale face was flushed and animated.\n"
    "--- 42 ---\n"
    "it's   ALL \"quoted\";\ttabs\there\n"
)


def _read_files(ns, texts, as_path):
    """Write each text to a file in the scratch folder (bytes as given: the newlines are the
    check's) and read it back with the student's reader."""
    import pathlib

    results = []
    for i, text in enumerate(texts):
        path = pathlib.Path(f"corpus_{i}.txt")
        path.write_bytes(text.encode("utf-8"))
        results.append(ns["read_time_machine"](path if as_path else str(path)))
    return results


def _reference_lines(text: str) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.txt"
        path.write_bytes(text.encode("utf-8"))
        return ref.read_time_machine(str(path))


def _random_text(gen: torch.Generator, lines: int, newline: str, final_newline: bool) -> str:
    pool = ("abcdefghijklmnopqrstuvwxyz" * 3 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "0123456789"
            + " " * 12 + "\t.,;:!?'\"()-[]_*/#&")
    rows = []
    for _row in range(lines):
        n = int(torch.randint(0, 40, (1,), generator=gen))
        idx = torch.randint(0, len(pool), (n,), generator=gen).tolist()
        rows.append("".join(pool[i] for i in idx))
    return newline.join(rows) + (newline if final_newline else "")


def _check_read(student, texts, what, as_path=False):
    got = sequence(student.scenario(_read_files, texts, as_path, what=what), what)
    for i, text in enumerate(texts):
        expected = _reference_lines(text)
        lines = sequence(got[i], what)
        label = f"{what}" + (f" (file {i + 1})" if len(texts) > 1 else "")
        expect(len(lines) == len(expected),
               f"{label} returned {len(lines)} lines; the file has {len(expected)} (one string "
               "per line as f.readlines() splits it, empty lines included: a final newline "
               f"does not start another line). File: {_text(text, 200)}")
        for k, (line, want) in enumerate(zip(lines, expected)):
            if line != want:
                fail(f"{label}: line {k} is {_text(line)}; expected {want!r} (from the line "
                     f"{_text(text.splitlines()[k], 120)}). Replace every run of non-letters by "
                     "one space (re.sub('[^A-Za-z]+', ' ', line)), then strip and lower-case")


@exercise("read_time_machine")
def test_read_time_machine_example(student):
    _check_read(student, [EXAMPLE_TEXT], "read_time_machine(path) on the worked example's text")


@exercise("read_time_machine", weight=2)
def test_read_time_machine_random_text(student, gen):
    texts = [_random_text(gen, 12, "\n", True), _random_text(gen, 6, "\n", False),
             _random_text(gen, 5, "\r\n", True)]
    _check_read(student, texts, "read_time_machine(path) on files of random letters, digits, "
                "punctuation and whitespace")


@exercise("read_time_machine")
def test_read_time_machine_pathlib(student, gen):
    _check_read(student, [_random_text(gen, 4, "\n", True)],
                "read_time_machine(pathlib.Path(...))", as_path=True)


# --- 8.2 tokenize ---------------------------------------------------------------------------------

LINES = ["the time machine by h g wells", "", "i", "the time traveller for so it will be"]


def _expect_tokens(got, lines, token, what):
    expected = ref.tokenize(lines, token)
    if not isinstance(got, list):
        fail(f"{what} returned {describe(got)}; expected a list with one list of tokens per line")
    expect(len(got) == len(expected),
           f"{what} returned {len(got)} lines of tokens for {len(lines)} lines")
    for i, (row, want) in enumerate(zip(got, expected)):
        if not isinstance(row, list):
            fail(f"{what}: the tokens of line {i} are {describe(row)}; expected a list")
        if row != want:
            rule = ("words: split at runs of whitespace, like line.split()" if token == "word"
                    else "characters: list(line), spaces included")
            fail(f"{what}: line {i} ({lines[i]!r}) gave {_text(row)}; expected {_text(want)} "
                 f"({rule})")


def _tokenize(student, lines, token, what):
    args = (lines,) if token is None else (lines, token)
    got = student.result("tokenize", *args, what=what)
    _expect_tokens(got, lines, token or "word", what)


@exercise("tokenize")
def test_tokenize_example(student):
    _tokenize(student, LINES, None, "tokenize(lines) (default token='word')")
    _tokenize(student, LINES, "char", "tokenize(lines, 'char')")


def _random_lines(gen, n):
    words = ["time", "machine", "the", "a", "of", "traveller", "x", "and", "was", "it"]
    lines = []
    for _line in range(n):
        k = int(torch.randint(0, 7, (1,), generator=gen))
        picked = torch.randint(0, len(words), (k,), generator=gen).tolist()
        lines.append(" ".join(words[i] for i in picked))
    return lines


@exercise("tokenize", weight=2)
def test_tokenize_words_and_chars(student, gen):
    lines = _random_lines(gen, 8)
    _tokenize(student, lines, "word", "tokenize(lines, 'word')")
    _tokenize(student, lines, "char", "tokenize(lines, 'char')")
    spaced = ["two  spaces", "\ttab and  more ", "one"]
    _tokenize(student, spaced, "word",
              "tokenize(lines, 'word') on lines with repeated spaces and tabs")


def _unknown_token(ns, lines, token):
    import contextlib
    import io

    printed = io.StringIO()
    words = ns["tokenize"](lines, "word")
    with contextlib.redirect_stdout(printed):
        try:
            result = ns["tokenize"](lines, token)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the check wants to see what was raised
            return {"words": words, "raised": type(exc).__name__, "value_error":
                    isinstance(exc, ValueError), "printed": printed.getvalue()[:500]}
    return {"words": words, "raised": None, "result": result, "printed": printed.getvalue()[:500]}


@exercise("tokenize")
def test_tokenize_unknown_token_type(student, gen):
    lines = _random_lines(gen, 3)
    got = student.scenario(_unknown_token, lines, "sentence",
                           what="tokenize(lines, 'sentence')")
    _expect_tokens(got["words"], lines, "word", "tokenize(lines, 'word')")
    if got["raised"]:
        expect(got["value_error"], f"tokenize(lines, 'sentence') raised {got['raised']}; an "
               "unknown token type should raise a ValueError (or print an error and return "
               "None, like the book)")
        return
    expect(got["result"] is None and "sentence" in got["printed"],
           "tokenize(lines, 'sentence') returned "
           f"{_text(got['result'], 80)} and printed {got['printed'][:80]!r}; an unknown token "
           "type is an error: raise a ValueError naming it, or print an error message that "
           "names it and return None (the book)")


# --- 8.2 count_corpus -----------------------------------------------------------------------------


def _expect_counts(student, tokens, what):
    got = mapping(student.result("count_corpus", tokens, what=what), what)
    flat = tokens if not tokens or not isinstance(tokens[0], list) else \
        [t for line in tokens for t in line]
    expected = dict(collections.Counter(flat))
    if got != expected:
        wrong = sorted(set(got) ^ set(expected)) or sorted(k for k in expected
                                                           if got.get(k) != expected[k])
        key = wrong[0]
        fail(f"{what} gave {key!r}: {got.get(key, 'missing')}; expected "
             f"{expected.get(key, 'no entry')} (got {len(got)} distinct tokens, expected "
             f"{len(expected)}). A list of lines is flattened first, then every token counted")


@exercise("count_corpus")
def test_count_corpus_example(student):
    tokens = [["the", "time", "machine"], [], ["the", "time", "traveller"]]
    _expect_counts(student, tokens, "count_corpus(tokens) on the worked example's lines")
    _expect_counts(student, list("hello world"), "count_corpus(list('hello world'))")


@exercise("count_corpus")
def test_count_corpus_lines(student, gen):
    lines = [line.split() for line in _random_lines(gen, 10)]
    _expect_counts(student, lines, "count_corpus(a list of token lists)")
    _expect_counts(student, [[]] + lines, "count_corpus(lines) whose first line is empty")


@exercise("count_corpus")
def test_count_corpus_flat_and_empty(student, gen):
    flat = [t for line in _random_lines(gen, 6) for t in line.split()] + ["the"]
    _expect_counts(student, flat, "count_corpus(a flat list of tokens)")
    got = mapping(student.result("count_corpus", [], what="count_corpus([])"), "count_corpus([])")
    expect(got == {}, f"count_corpus([]) returned {_text(got)}; expected an empty Counter")


# --- 8.2 Vocab ------------------------------------------------------------------------------------


def _vocab_probe(ns, tokens, kwargs, probes):
    """Build the student's Vocab, with a grader ``count_corpus`` in place of the student's, and
    answer each probe ``[what, argument]``: a value, or the error it raised (so that one missing
    method does not hide the others)."""
    import collections

    def counted(tokens):
        nested = len(tokens) > 0 and isinstance(tokens[0], list)
        flat = [t for row in tokens for t in row] if nested else list(tokens)
        return collections.Counter(flat)

    with objects.Swap(ns, {"count_corpus": counted}):  # noqa: F821 - the scenario scope has it
        vocab = ns["Vocab"](tokens, **kwargs) if tokens is not None else ns["Vocab"](**kwargs)
    answers = []
    for kind, arg in probes:
        try:
            if kind == "len":
                value = len(vocab)
            elif kind == "idx_to_token":
                value = list(vocab.idx_to_token)
            elif kind == "getitem":
                value = vocab[arg]
            elif kind == "to_tokens":
                value = vocab.to_tokens(arg)
            elif kind == "unk":
                value = vocab.unk
            else:
                value = list(vocab.token_freqs)
            answers.append({"value": value})
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported per probe
            answers.append({"error": f"{type(exc).__name__}: {str(exc)[:200]}"})
    return answers


def _probe(student, tokens, kwargs, probes, what):
    answers = student.scenario(_vocab_probe, tokens, kwargs, probes, what=what)
    return answers


def _value(answer: dict, what: str):
    if "error" in answer:
        fail(f"{what} raised {answer['error']}")
    return answer["value"]


def _flatten(tokens):
    if tokens and isinstance(tokens[0], list):
        return [t for line in tokens for t in line]
    return list(tokens or [])


def _expect_order(itos, tokens, min_freq, reserved, what):
    """``itos`` is ``['<unk>'] + reserved`` and then the frequent tokens by non-increasing
    count (ties in any order), each once."""
    counts = collections.Counter(_flatten(tokens))
    head = ["<unk>"] + list(reserved)
    if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
        fail(f"{what}.idx_to_token is {_text(itos)}; expected a list of tokens")
    expect(itos[:len(head)] == head,
           f"{what}.idx_to_token starts with {_text(itos[:len(head)])}; expected {head} "
           "('<unk>' at index 0, then the reserved tokens in order)")
    rest = itos[len(head):]
    want = {t for t, c in counts.items() if c >= min_freq and t not in head}
    dupes = sorted(t for t, c in collections.Counter(itos).items() if c > 1)
    expect(not dupes, f"{what}.idx_to_token lists {dupes[:5]} more than once; every token "
           "appears once (a reserved token that also occurs in the corpus keeps its index)")
    missing, extra = sorted(want - set(rest)), sorted(set(rest) - want)
    expect(not missing and not extra,
           f"{what}.idx_to_token " + (f"lacks {missing[:5]} " if missing else "")
           + (f"has unexpected {extra[:5]} " if extra else "")
           + f"(tokens seen at least min_freq={min_freq} times belong after the reserved ones; "
           + ", ".join(f"{t!r}: {counts[t]}" for t in (missing + extra)[:5]) + ")")
    for a, b in zip(rest, rest[1:]):
        if counts[a] < counts[b]:
            fail(f"in {what}.idx_to_token, {a!r} (count {counts[a]}) comes before {b!r} (count "
                 f"{counts[b]}); sort the tokens by descending frequency")


def _word_tokens(gen, lines=12):
    return [line.split() for line in _random_lines(gen, lines)]


def _index_of(itos, token):
    return itos.index(token) if token in itos else 0


@exercise("Vocab", weight=2)
def test_vocab_tokens_by_frequency(student, gen):
    for tokens, kwargs, what in [
            (_word_tokens(gen), {}, "Vocab(tokens)"),
            (list("the time machine by h g wells"), {}, "Vocab(list of characters)"),
            (_word_tokens(gen), {"min_freq": 2, "reserved_tokens": ["<pad>", "<bos>"]},
             "Vocab(tokens, min_freq=2, reserved_tokens=['<pad>', '<bos>'])")]:
        answers = _probe(student, tokens, kwargs, [["idx_to_token", None], ["len", None]], what)
        itos = _value(answers[0], f"{what}.idx_to_token")
        _expect_order(itos, tokens, kwargs.get("min_freq", 0), kwargs.get("reserved_tokens", []),
                      what)
        size = _value(answers[1], f"len({what})")
        expect(size == len(itos), f"len({what}) is {_text(size)}; expected {len(itos)}, the "
               "number of tokens (including <unk> and the reserved tokens)")


@exercise("Vocab")
def test_vocab_reserved_tokens_in_the_corpus(student, gen):
    tokens = _word_tokens(gen, 6) + [["<eos>", "the", "<unk>"], ["<eos>", "<eos>"]]
    kwargs = {"reserved_tokens": ["<pad>", "<bos>", "<eos>"]}
    what = "Vocab(tokens, reserved_tokens=['<pad>', '<bos>', '<eos>']) on lines with '<eos>'"
    answers = _probe(student, tokens, kwargs, [["idx_to_token", None]], what)
    _expect_order(_value(answers[0], f"{what}.idx_to_token"), tokens, 0,
                  kwargs["reserved_tokens"], what)


@exercise("Vocab")
def test_vocab_lookup(student, gen):
    tokens = _word_tokens(gen)
    known = sorted(set(_flatten(tokens)))
    word = known[int(torch.randint(0, len(known), (1,), generator=gen))]
    line = [known[i] for i in torch.randint(0, len(known), (4,), generator=gen).tolist()]
    queries = [word, "zzz-unknown", line + ["zzz-unknown"], [line, [word], []],
               (word, line[0])]
    probes = [["idx_to_token", None], ["unk", None]] + [["getitem", q] for q in queries]
    answers = _probe(student, tokens, {}, probes, "Vocab(tokens)")
    itos = _value(answers[0], "Vocab(tokens).idx_to_token")
    unk = _value(answers[1], "vocab.unk")
    expect(unk == 0 and type(unk) is int, f"vocab.unk is {_text(unk)}; expected 0 (the index "
           "of '<unk>'), as a property")

    def index(q):
        if isinstance(q, (list, tuple)):
            return [index(x) for x in q]
        return _index_of(itos, q)

    for q, answer in zip(queries, answers[2:]):
        call = f"vocab[{q!r}]"
        expect_equal(_value(answer, call), index(q), what=call)


@exercise("Vocab")
def test_vocab_to_tokens_and_freqs(student, gen):
    tokens = _word_tokens(gen)
    counts = collections.Counter(_flatten(tokens))
    size = 1 + sum(1 for c in counts.values() if c >= 2)
    picks = torch.randint(0, size, (5,), generator=gen).tolist()
    last = size - 1
    probes = [["idx_to_token", None], ["to_tokens", 0], ["to_tokens", last],
              ["to_tokens", picks], ["token_freqs", None]]
    what = "Vocab(tokens, min_freq=2)"
    answers = _probe(student, tokens, {"min_freq": 2}, probes, what)
    itos = _value(answers[0], f"{what}.idx_to_token")
    expect(isinstance(itos, list) and len(itos) == size,
           f"{what}.idx_to_token has {len(itos) if isinstance(itos, list) else '?'} tokens; "
           f"expected {size}")
    expect_equal(_value(answers[1], "vocab.to_tokens(0)"), itos[0], what="vocab.to_tokens(0)")
    expect_equal(_value(answers[2], f"vocab.to_tokens({last})"), itos[last],
                 what=f"vocab.to_tokens({last})")
    expect_equal(_value(answers[3], f"vocab.to_tokens({picks})"), [itos[i] for i in picks],
                 what=f"vocab.to_tokens({picks})")
    freqs = _value(answers[4], "vocab.token_freqs")
    what = f"{what}.token_freqs"
    pairs = [tuple(p) if isinstance(p, (list, tuple)) else p for p in sequence(freqs, what)]
    expect(all(isinstance(p, tuple) and len(p) == 2 for p in pairs),
           f"{what} is {_text(freqs)}; expected a list of (token, count) pairs")
    expect(sorted(pairs) == sorted(counts.items()),
           f"{what} holds {_text(sorted(pairs), 200)}; expected every distinct token with its "
           f"count, those below min_freq included: {_text(sorted(counts.items()), 200)}")
    for a, b in zip(pairs, pairs[1:]):
        expect(a[1] >= b[1], f"{what} lists {a} before {b}; sort by descending count")


@exercise("Vocab")
def test_vocab_without_tokens(student, gen):
    probes = [["idx_to_token", None], ["len", None], ["getitem", "time"],
              ["token_freqs", None]]
    answers = _probe(student, None, {"reserved_tokens": ["<pad>"]}, probes,
                     "Vocab(reserved_tokens=['<pad>'])")
    expect_equal(_value(answers[0], "Vocab(reserved_tokens=['<pad>']).idx_to_token"),
                 ["<unk>", "<pad>"], what="Vocab(reserved_tokens=['<pad>']).idx_to_token")
    expect_equal(_value(answers[1], "len(vocab)"), 2, what="len(Vocab(reserved_tokens=['<pad>']))")
    expect_equal(_value(answers[2], "vocab['time']"), 0,
                 what="vocab['time'] of a vocabulary without tokens")
    expect_equal(_value(answers[3], "vocab.token_freqs"), [],
                 what="Vocab(reserved_tokens=['<pad>']).token_freqs")
    tokens = _word_tokens(gen, 4)
    answers = _probe(student, tokens, {}, [["idx_to_token", None]], "Vocab(tokens)")
    _expect_order(_value(answers[0], "Vocab(tokens).idx_to_token"), tokens, 0, [],
                  "Vocab(tokens)")


# --- 8.3 the two samplers -------------------------------------------------------------------------


def _sample(ns, name, corpus, batch_size, num_steps, seeds, summary):
    """Call the sampler once per seed (torch, ``random`` and numpy all seeded with it) and
    return every minibatch, or per call only ``[number of minibatches, X[0, 0] of the first]``."""
    import random

    try:
        import numpy
    except ImportError:
        numpy = None
    runs = []
    for s in seeds:
        random.seed(s)
        torch.manual_seed(s)
        if numpy is not None:
            numpy.random.seed(s)
        batches = [list(pair) for pair in ns[name](corpus, batch_size, num_steps)]
        if summary:
            runs.append([len(batches), int(batches[0][0][0][0]) if batches else None])
        else:
            runs.append(batches)
    return runs


def _seeds(gen, count):
    return torch.randint(0, 2**31 - 1, (count,), generator=gen).tolist()


def _corpus(gen, n):
    """``n`` distinct token indices in random order: a value tells its position."""
    return (torch.randperm(n, generator=gen) + 3).tolist()


def _batch_pair(pair, b, batch_size, num_steps, what):
    items = sequence(pair, f"{what}'s minibatch {b}")
    expect(len(items) == 2, f"{what} yielded {len(items)} values per minibatch; expected (X, Y)")
    X, Y = items
    for name, t in (("X", X), ("Y", Y)):
        if not isinstance(t, torch.Tensor):
            fail(f"{what}: {name} of minibatch {b} is {describe(t)}; expected an int64 tensor")
        expect(t.dtype == torch.int64, f"{what}: {name} of minibatch {b} has dtype {t.dtype}; "
               "expected torch.int64 (token indices)")
        expect(tuple(t.shape) == (batch_size, num_steps),
               f"{what}: {name} of minibatch {b} has shape {tuple(t.shape)}; expected "
               f"(batch_size, num_steps) = {(batch_size, num_steps)}")
    return X, Y


def _positions(t, where, what):
    pos = []
    for row in t.tolist():
        out = []
        for v in row:
            if v not in where:
                fail(f"{what} yielded the value {v}, which is not in the corpus; minibatches "
                     "hold tokens of the corpus")
            out.append(where[v])
        pos.append(out)
    return pos


def _expect_shifted(px, py, b, what):
    for i, (rx, ry) in enumerate(zip(px, py)):
        start = rx[0]
        expect(rx == list(range(start, start + len(rx))),
               f"{what}: row {i} of X in minibatch {b} holds corpus positions {rx}; expected "
               "consecutive tokens of the corpus")
        expect(ry == [p + 1 for p in rx],
               f"{what}: row {i} of Y in minibatch {b} holds positions {ry}, X's row {rx}; Y is "
               "X shifted by one token (each label is the next token)")


def _expect_random_run(batches, corpus, batch_size, num_steps, what):
    where = {v: i for i, v in enumerate(corpus)}
    n = len(corpus)
    starts = []
    for b, pair in enumerate(batches):
        X, Y = _batch_pair(pair, b, batch_size, num_steps, what)
        px, py = _positions(X, where, what), _positions(Y, where, what)
        _expect_shifted(px, py, b, what)
        starts += [row[0] for row in px]
    expect(bool(starts), f"{what} yielded no minibatch from a corpus of {n} tokens")
    offset = starts[0] % num_steps
    subseqs = (n - offset - 1) // num_steps
    expected = subseqs // batch_size
    expect(all(s % num_steps == offset for s in starts),
           f"{what}: the subsequences start at corpus positions {sorted(starts)}; after the "
           f"random offset they must start num_steps = {num_steps} apart")
    twice = sorted(s for s, c in collections.Counter(starts).items() if c > 1)
    expect(not twice, f"{what} used the subsequence starting at corpus position "
           f"{twice[:1]} more than once; each subsequence is used at most once")
    expect(len(batches) == expected,
           f"{what} yielded {len(batches)} minibatches; with offset {offset} there are "
           f"(len(corpus) - offset - 1) // num_steps = {subseqs} subsequences, so "
           f"{subseqs} // batch_size = {expected} minibatches")


def _expect_sequential_run(batches, corpus, batch_size, num_steps, what):
    where = {v: i for i, v in enumerate(corpus)}
    n = len(corpus)
    expect(bool(batches), f"{what} yielded no minibatch from a corpus of {n} tokens")
    first, _ = _batch_pair(batches[0], 0, batch_size, num_steps, what)
    offset = _positions(first, where, what)[0][0]
    expect(0 <= offset <= num_steps,
           f"{what}: the first minibatch starts at corpus position {offset}; the random offset "
           f"is at most num_steps = {num_steps}")
    width = (n - offset - 1) // batch_size
    expected = width // num_steps
    expect(len(batches) == expected,
           f"{what} yielded {len(batches)} minibatches; with offset {offset}, num_tokens = "
           f"{width * batch_size} gives rows of {width} tokens and {expected} minibatches")
    for b, pair in enumerate(batches):
        X, Y = _batch_pair(pair, b, batch_size, num_steps, what)
        px, py = _positions(X, where, what), _positions(Y, where, what)
        want = [[offset + i * width + b * num_steps + t for t in range(num_steps)]
                for i in range(batch_size)]
        expect(px == want,
               f"{what}: X of minibatch {b} holds corpus positions {px}; expected {want} "
               f"(offset {offset}, rows of {width} tokens: row i of minibatch j continues row "
               "i of minibatch j - 1)")
        _expect_shifted(px, py, b, what)


def _structure(student, name, check, gen, cases):
    for n, batch_size, num_steps in cases:
        corpus = _corpus(gen, n)
        what = f"{name}(corpus of {n} tokens, batch_size={batch_size}, num_steps={num_steps})"
        runs = student.scenario(_sample, name, corpus, batch_size, num_steps, _seeds(gen, 4),
                                False, what=what)
        for run in sequence(runs, what):
            check(sequence(run, what), corpus, batch_size, num_steps, what)


@exercise("seq_data_iter_random")
def test_seq_data_iter_random_example(student, gen):
    _structure(student, "seq_data_iter_random", _expect_random_run, gen, [(35, 2, 5)])


@exercise("seq_data_iter_random", weight=2)
def test_seq_data_iter_random_minibatches(student, gen):
    cases = [(st.sizes(gen, 40, 90), st.sizes(gen, 2, 5), st.sizes(gen, 3, 8)), (23, 1, 4),
             (41, 3, 6)]
    _structure(student, "seq_data_iter_random", _expect_random_run, gen, cases)


# 30 tokens, num_steps 3: (30 - offset - 1) // 3 = 9 subsequences for every offset 0..2, so the
# first subsequence starts at a position uniform over 0..26 (offset and index independent).
RANDOM_DRAWS = 1000
SEQUENTIAL_DRAWS = 600


@exercise("seq_data_iter_random", weight=2)
def test_seq_data_iter_random_distribution(student, gen):
    n, batch_size, num_steps = 30, 2, 3
    corpus = _corpus(gen, n)
    where = {v: i for i, v in enumerate(corpus)}
    what = f"seq_data_iter_random(corpus of {n} tokens, batch_size=2, num_steps=3)"
    runs = student.scenario(_sample, "seq_data_iter_random", corpus, batch_size, num_steps,
                            _seeds(gen, RANDOM_DRAWS), True,
                            what=f"{RANDOM_DRAWS} calls of {what}")
    starts = []
    for count, value in runs:
        expect(count == 4 and value in where,
               f"{what} yielded {count} minibatches; expected 4 (9 subsequences of 3 tokens)")
        starts.append(where[value])
    offsets = [sum(1 for s in starts if s % num_steps == r) for r in range(num_steps)]
    stats.expect_frequencies(offsets, [1] * num_steps,
                             what=f"the random offset (first start mod num_steps) over "
                             f"{RANDOM_DRAWS} calls of {what}",
                             hint=_("draw the offset uniformly from 0 .. num_steps - 1, anew in "
                               "every call"))
    index = [sum(1 for s in starts if s // num_steps == k) for k in range(9)]
    stats.expect_frequencies(index, [1] * 9,
                             what=f"which of the 9 subsequences comes first, over {RANDOM_DRAWS} "
                             f"calls of {what}",
                             hint=_("shuffle the start positions of all subsequences (each equally "
                               "likely to come first), not just the order of the minibatches"))


@exercise("seq_data_iter_sequential")
def test_seq_data_iter_sequential_example(student, gen):
    _structure(student, "seq_data_iter_sequential", _expect_sequential_run, gen, [(35, 2, 5)])


@exercise("seq_data_iter_sequential", weight=2)
def test_seq_data_iter_sequential_minibatches(student, gen):
    cases = [(st.sizes(gen, 40, 90), st.sizes(gen, 2, 5), st.sizes(gen, 3, 8)), (23, 1, 4),
             (52, 3, 5)]
    _structure(student, "seq_data_iter_sequential", _expect_sequential_run, gen, cases)


@exercise("seq_data_iter_sequential", weight=2)
def test_seq_data_iter_sequential_distribution(student, gen):
    n, batch_size, num_steps = 30, 2, 3
    corpus = _corpus(gen, n)
    where = {v: i for i, v in enumerate(corpus)}
    what = f"seq_data_iter_sequential(corpus of {n} tokens, batch_size=2, num_steps=3)"
    runs = student.scenario(_sample, "seq_data_iter_sequential", corpus, batch_size, num_steps,
                            _seeds(gen, SEQUENTIAL_DRAWS), True,
                            what=f"{SEQUENTIAL_DRAWS} calls of {what}")
    offsets = [0] * (num_steps + 1)
    for count, value in runs:
        offset = where.get(value, -1)
        expect(0 <= offset <= num_steps and count == (n - offset - 1) // batch_size // num_steps,
               f"{what} started at corpus position {offset} and yielded {count} minibatches; "
               f"the offset is at most num_steps and fixes the number of minibatches")
        offsets[offset] += 1
    stats.expect_frequencies(offsets, [1] * (num_steps + 1),
                             what=f"the random offset over {SEQUENTIAL_DRAWS} calls of {what}",
                             hint=_("draw the offset uniformly from 0 .. num_steps (both "
                               "included, like random.randint(0, num_steps)), anew in every call"))


# --- 8.5 get_params and init_rnn_state ------------------------------------------------------------

PARAM_NAMES = ["W_xh", "W_hh", "b_h", "W_hq", "b_q"]


def _param_info(ns, name, args):
    made = ns[name](*args)
    info = {"type": type(made).__name__, "items": []}
    for p in made if isinstance(made, (list, tuple)) else []:
        if not isinstance(p, torch.Tensor):
            info["items"].append({"type": type(p).__name__})
            continue
        entry = {"type": "Tensor", "shape": list(p.shape), "dtype": str(p.dtype),
                 "device": p.device.type, "requires_grad": bool(p.requires_grad),
                 "leaf": bool(p.is_leaf)}
        if p.device.type != "meta":
            entry["values"] = p.detach()
        info["items"].append(entry)
    return info


def _expect_params(info, vocab_size, num_hiddens, device_type, what):
    expect(info["type"] in ("list", "tuple"),
           f"{what} returned a {info['type']}; expected the list [W_xh, W_hh, b_h, W_hq, b_q]")
    items = info["items"]
    expect(len(items) == 5, f"{what} returned {len(items)} parameters; expected 5: "
           "[W_xh, W_hh, b_h, W_hq, b_q]")
    shapes = [[vocab_size, num_hiddens], [num_hiddens, num_hiddens], [num_hiddens],
              [num_hiddens, vocab_size], [vocab_size]]
    for name, item, shape in zip(PARAM_NAMES, items, shapes):
        expect(item["type"] == "Tensor", f"{what}: {name} is a {item['type']}; expected a tensor")
        expect(item["shape"] == shape, f"{what}: {name} (parameter {PARAM_NAMES.index(name)}) "
               f"has shape {tuple(item['shape'])}; expected {tuple(shape)} (in the order "
               "W_xh, W_hh, b_h, W_hq, b_q)")
        expect(item["dtype"] == "torch.float32",
               f"{what}: {name} has dtype {item['dtype']}; expected torch.float32")
        expect(item["device"] == device_type, f"{what}: {name} is on {item['device']}; expected "
               f"{device_type} (create every tensor with device=device)")
        expect(item["requires_grad"] and item["leaf"],
               f"{what}: {name} " + ("does not require gradients" if not item["requires_grad"]
                                     else "is not a leaf tensor (it was computed from a tensor "
                                     "that requires gradients, so backward leaves its .grad "
                                     "empty)")
               + "; scale first, then call requires_grad_(True)")
    return items


@exercise("get_params")
def test_get_params_shapes(student, device):
    for vocab_size, num_hiddens in ((28, 32), (5, 3)):
        what = f"get_params({vocab_size}, {num_hiddens}, device)"
        info = student.scenario(_param_info, "get_params", [vocab_size, num_hiddens, device],
                                what=what)
        items = _expect_params(info, vocab_size, num_hiddens, device.type, what)
        for k in (2, 4):
            expect_tensor(items[k]["values"], torch.zeros(items[k]["shape"], device=device),
                          what=f"{what}'s {PARAM_NAMES[k]}", hint=_("biases start at zero"))


@exercise("get_params")
def test_get_params_device(student):
    what = "get_params(10, 6, torch.device('meta'))"
    info = student.scenario(_param_info, "get_params", [10, 6, torch.device("meta")], what=what)
    _expect_params(info, 10, 6, "meta", what)


@exercise("get_params", weight=2)
def test_get_params_distribution(student):
    vocab_size, num_hiddens = 45, 50
    what = f"get_params({vocab_size}, {num_hiddens}, 'cpu')"
    info = student.scenario(_param_info, "get_params", [vocab_size, num_hiddens, "cpu"],
                            what=what)
    items = _expect_params(info, vocab_size, num_hiddens, "cpu", what)
    pooled = []
    alpha = stats.split(stats.FALSE_FAILURE, 7)
    hint = _("torch.randn(shape, device=device) * 0.01")
    for k in (0, 1, 3):
        values = items[k]["values"].double().flatten()
        label = f"the entries of {what}'s {PARAM_NAMES[k]}"
        stats.expect_std(values, 0.01, what=label, alpha=alpha, hint=hint)
        stats.expect_mean(values, 0.0, 0.01, what=label, alpha=alpha, hint=hint)
        pooled.append(values)
    stats.expect_distribution(torch.cat(pooled), stats.sps.norm(0, 0.01).cdf,
                              what=f"{what}'s weight matrices", name="N(0, 0.01²)",
                              alpha=alpha, hint=hint)


def _state_info(ns, args):
    state = ns["init_rnn_state"](*args)
    parts = list(state) if isinstance(state, (tuple, list)) else [state]
    return {"type": type(state).__name__, "length": len(parts),
            "parts": [{"device": p.device.type, "requires_grad": bool(p.requires_grad),
                       "value": p if p.device.type != "meta" else None,
                       "shape": list(p.shape), "dtype": str(p.dtype)}
                      if isinstance(p, torch.Tensor) else {"type": type(p).__name__}
                      for p in parts]}


def _expect_state(info, batch_size, num_hiddens, device, what):
    expect(info["type"] == "tuple",
           f"{what} returned a {info['type']}; expected a tuple holding one tensor, (H,)")
    expect(info["length"] == 1, f"{what} returned a tuple of {info['length']} items; expected "
           "one, (H,)")
    part = info["parts"][0]
    expect("shape" in part, f"{what}[0] is a {part.get('type')}; expected a tensor")
    expect(part["shape"] == [batch_size, num_hiddens],
           f"{what}[0] has shape {tuple(part['shape'])}; expected (batch_size, num_hiddens) = "
           f"{(batch_size, num_hiddens)}")
    expect(part["dtype"] == "torch.float32", f"{what}[0] has dtype {part['dtype']}; expected "
           "torch.float32")
    expect(part["device"] == torch.device(device).type,
           f"{what}[0] is on {part['device']}; expected {torch.device(device).type}")
    expect(not part["requires_grad"], f"{what}[0] requires gradients; the state is not a "
           "parameter")
    if part["value"] is not None:
        expect_tensor(part["value"], torch.zeros(batch_size, num_hiddens, device=device),
                      what=f"{what}[0]", hint=_("the state starts at zero"))


@exercise("init_rnn_state", weight=2)
def test_init_rnn_state_zeros(student, gen, device):
    for batch_size, num_hiddens in ((2, 5), (st.sizes(gen, 3, 9), st.sizes(gen, 1, 40)), (1, 1)):
        what = f"init_rnn_state({batch_size}, {num_hiddens}, device)"
        info = student.scenario(_state_info, [batch_size, num_hiddens, device], what=what)
        _expect_state(info, batch_size, num_hiddens, device, what)


@exercise("init_rnn_state")
def test_init_rnn_state_device(student):
    what = "init_rnn_state(4, 3, torch.device('meta'))"
    info = student.scenario(_state_info, [4, 3, torch.device("meta")], what=what)
    _expect_state(info, 4, 3, "meta", what)


# --- 8.5 rnn --------------------------------------------------------------------------------------


def _library_rnn(inputs, H0, W_xh, W_hh, b_h, W_hq, b_q):
    """The scratch RNN through ``nn.RNN`` with copied weights (the library's own recurrence)."""
    layer = torch.nn.RNN(W_xh.shape[0], W_xh.shape[1], nonlinearity="tanh", dtype=inputs.dtype)
    weights = {"weight_ih_l0": W_xh.T, "weight_hh_l0": W_hh.T, "bias_ih_l0": b_h,
               "bias_hh_l0": torch.zeros_like(b_h)}
    out, h = torch.func.functional_call(layer, weights, (inputs, H0[None]))
    return out.reshape(-1, W_xh.shape[1]) @ W_hq + b_q, h[0]


def _rnn_run(ns, inputs, H0, params, G_Y, G_H):
    leaves = [t.detach().clone().requires_grad_(True) for t in [inputs, H0, *params]]
    Y, state = ns["rnn"](leaves[0], (leaves[1],), leaves[2:])
    H = state
    if isinstance(state, (tuple, list)) and len(state) == 1:
        H = state[0]
    pairs = [(o, g) for o, g in ((Y, G_Y), (H, G_H)) if isinstance(o, torch.Tensor)
             and o.requires_grad and o.shape == g.shape]
    grads = [None] * len(leaves)
    if pairs:
        with trusted():
            grads = list(torch.autograd.grad([o for o, _ in pairs], leaves,
                                             [g for _, g in pairs], allow_unused=True))
    return {"Y": Y, "H": H, "state_type": type(state).__name__,
            "state_length": len(state) if isinstance(state, (tuple, list)) else None,
            "grads": grads, "graded": len(pairs)}


def _rnn_inputs(gen, steps, batch, vocab, hidden, one_hot, device=None):
    if one_hot:
        tokens = torch.randint(0, vocab, (batch, steps), generator=gen)
        inputs = F.one_hot(tokens.T, vocab).double()
    else:
        inputs = st.normal(gen, steps, batch, vocab)
    params = [st.normal(gen, vocab, hidden, scale=0.6), st.normal(gen, hidden, hidden, scale=0.6),
              st.normal(gen, hidden, scale=0.3), st.normal(gen, hidden, vocab),
              st.normal(gen, vocab, scale=0.3)]
    H0 = st.normal(gen, batch, hidden, scale=0.5)
    return [t.to(device) if device is not None else t for t in [inputs, H0, *params]]


def _check_rnn(student, gen, steps, batch, vocab, hidden, *, one_hot=True, gradients=False,
               device=None):
    inputs, H0, *params = _rnn_inputs(gen, steps, batch, vocab, hidden, one_hot)
    leaves = [t.clone().requires_grad_(True) for t in [inputs, H0, *params]]
    Y, H = _library_rnn(*leaves)
    G_Y, G_H = st.normal(gen, *Y.shape), st.normal(gen, *H.shape)
    grads = torch.autograd.grad([Y, H], leaves, [G_Y, G_H])
    move = (lambda t: t.to(device)) if device is not None else (lambda t: t)
    kind = "one-hot" if one_hot else "real-valued"
    what = (f"rnn(inputs, (H,), params) on {kind} inputs of shape {(steps, batch, vocab)} with "
            f"num_hiddens={hidden}" + (f" on {device}" if device is not None else ""))
    got = student.scenario(_rnn_run, move(inputs), move(H0), [move(p) for p in params],
                           move(G_Y), move(G_H), what=what)
    expect_tensor(got["Y"], move(Y.detach()), what=f"the outputs of {what}",
                  hint=_("for each step: H = tanh(X_t @ W_xh + H @ W_hh + b_h), Y_t = H @ W_hq "
                         "+ b_q; return torch.cat of the Y_t along dimension 0 (time-major)"))
    expect_tensor(got["H"], move(H.detach()), what=f"the new state H of {what}",
                  hint=_("return the H of the last time step as the state"))
    if gradients:
        expect(got["graded"] == 2, f"{what}: the outputs or the state are not differentiable")
        for name, want, have in zip(["inputs", "H", *PARAM_NAMES], grads, got["grads"]):
            expect_tensor(gradient(have, what), move(want),
                          what=f"the gradient of {what} with respect to {name}",
                          hint=_("build everything from the inputs, state and parameters with "
                                 "differentiable torch operations"))
    return got


@exercise("rnn")
def test_rnn_example(student):
    inputs = torch.tensor([[[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]], dtype=torch.float64)
    H0 = torch.zeros(1, 2, dtype=torch.float64)
    params = [torch.tensor([[0.5, -0.5], [0.1, 0.2], [-0.3, 0.4]], dtype=torch.float64),
              torch.tensor([[1.0, 0.5], [-0.5, 1.0]], dtype=torch.float64),
              torch.tensor([0.1, -0.1], dtype=torch.float64),
              torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], dtype=torch.float64),
              torch.tensor([0.0, 0.1, 0.2], dtype=torch.float64)]
    Y, H = _library_rnn(inputs, H0, *params)
    what = "rnn on the worked example"
    got = student.scenario(_rnn_run, inputs, H0, params, torch.ones_like(Y), torch.ones_like(H),
                           what=what)
    expect_tensor(got["Y"], Y.detach(), what=f"the outputs of {what}")
    expect_tensor(got["H"], H.detach(), what=f"the state of {what}")


@exercise("rnn", weight=2)
def test_rnn_one_hot_values(student, gen):
    _check_rnn(student, gen, 5, 3, 7, 4)
    _check_rnn(student, gen, 1, 1, 4, 6)


@exercise("rnn", weight=2)
def test_rnn_gradients(student, gen):
    _check_rnn(student, gen, 4, 2, 5, 3, one_hot=False, gradients=True)
    _check_rnn(student, gen, 3, 3, 6, 5, one_hot=True, gradients=True)


@exercise("rnn")
def test_rnn_returns_the_state_as_a_tuple(student, gen):
    got = _check_rnn(student, gen, 3, 2, 4, 3)
    expect(got["state_type"] == "tuple" and got["state_length"] == 1,
           f"rnn returned its state as a {got['state_type']}"
           + (f" of {got['state_length']} items" if got["state_length"] is not None else "")
           + "; expected the tuple (H,), like the state it receives")


@exercise("rnn")
@pytest.mark.gpu
def test_rnn_on_cuda(student, gen):
    _check_rnn(student, gen, 4, 3, 6, 5, one_hot=False, gradients=True, device="cuda")


# --- 8.5 RNNModelScratch --------------------------------------------------------------------------


def _scratch_model(ns, vocab_size, num_hiddens, device, X, given, made, begun, returned,
                   batch_size):
    """Build the student's model with grader functions that record their calls and return the
    grader's objects, then call it once and ask it for a state once."""
    log = {"get_params": [], "init_state": [], "forward_fn": []}
    state_in = tuple(given)
    params_out = list(made)
    state_out = tuple(begun)
    answer = (returned, state_out)

    def shown(value):
        return str(value) if isinstance(value, torch.device) else value

    def get_params(vocab_size, num_hiddens, device):
        log["get_params"].append([vocab_size, num_hiddens, shown(device)])
        return params_out

    def init_state(batch_size, num_hiddens, device):
        log["init_state"].append([batch_size, num_hiddens, shown(device)])
        return state_out

    def forward_fn(inputs, state, params):
        log["forward_fn"].append({
            "inputs": inputs.detach().clone() if isinstance(inputs, torch.Tensor) else None,
            "state": state is state_in, "params": params is params_out
            or (isinstance(params, (list, tuple)) and len(params) == len(params_out)
                and all(a is b for a, b in zip(params, params_out)))})
        return answer

    net = ns["RNNModelScratch"](vocab_size, num_hiddens, device, get_params, init_state,
                                forward_fn)
    info = {"module": isinstance(net, torch.nn.Module),
            "vocab_size": getattr(net, "vocab_size", None),
            "num_hiddens": getattr(net, "num_hiddens", None),
            "params": getattr(net, "params", None) is params_out}
    out = net(X, state_in)
    info["call"] = out is answer or (isinstance(out, (tuple, list)) and len(out) == 2
                                     and out[0] is returned and out[1] is state_out)
    info["begin"] = net.begin_state(batch_size=batch_size, device=device) is state_out
    info["log"] = log
    return info


def _check_scratch_model(student, gen, vocab_size, num_hiddens, device, batch, steps):
    X = torch.randint(0, vocab_size, (batch, steps), generator=gen)
    made = [st.normal(gen, 2, dtype=torch.float32) for _ in range(5)]
    what = (f"RNNModelScratch({vocab_size}, {num_hiddens}, {device!r}, get_params, init_state, "
            "forward_fn)")
    size = st.sizes(gen, 1, 9)
    info = student.scenario(_scratch_model, vocab_size, num_hiddens, device, X,
                            [torch.zeros(1)], made, [torch.ones(1)],
                            st.normal(gen, batch * steps, vocab_size, dtype=torch.float32), size,
                            what=what)
    return info, X, what, size


@exercise("RNNModelScratch")
def test_rnn_model_scratch_parameters(student, gen):
    for vocab_size, num_hiddens, device in ((28, 32, "cpu"), (5, 7, torch.device("cpu"))):
        info, _, what, _ = _check_scratch_model(student, gen, vocab_size, num_hiddens, device,
                                                2, 3)
        calls = info["log"]["get_params"]
        expect(calls == [[vocab_size, num_hiddens, str(device)]],
               f"{what} called get_params with {calls}; expected one call "
               f"get_params({vocab_size}, {num_hiddens}, device)")
        expect(info["params"], f"{what}.params is not the list get_params returned")
        expect(info["vocab_size"] == vocab_size and info["num_hiddens"] == num_hiddens,
               f"{what} has vocab_size = {info['vocab_size']!r} and num_hiddens = "
               f"{info['num_hiddens']!r}; keep the arguments under those names")
        expect(not info["module"], f"{what} is an nn.Module; the book's scratch model is a plain "
               "class (grad_clipping and the training loop tell the two kinds apart)")


@exercise("RNNModelScratch", weight=2)
def test_rnn_model_scratch_call(student, gen):
    for vocab_size, batch, steps in ((6, 2, 5), (st.sizes(gen, 3, 30), st.sizes(gen, 1, 5), 1)):
        info, X, what, _size = _check_scratch_model(student, gen, vocab_size, 4, "cpu", batch,
                                                    steps)
        calls = info["log"]["forward_fn"]
        call = f"net(X, state) with X of shape {(batch, steps)}"
        expect(len(calls) == 1, f"{call} called forward_fn {len(calls)} times; expected once")
        inputs = calls[0]["inputs"]
        expect(not isinstance(inputs, torch.Tensor) or inputs.dtype == torch.float32,
               f"the inputs that {call} passed to forward_fn have dtype "
               f"{getattr(inputs, 'dtype', None)}; expected float32 one-hot vectors "
               "(F.one_hot(...) gives int64: convert with .type(torch.float32))")
        expect_tensor(calls[0]["inputs"], F.one_hot(X.T, vocab_size).float(),
                      what=f"the inputs that {call} passed to forward_fn",
                      hint=_("F.one_hot(X.T, vocab_size) as float32: time first, one-hot last"))
        expect(calls[0]["state"], f"{call} passed forward_fn another state than the one given")
        expect(calls[0]["params"], f"{call} passed forward_fn other parameters than net.params")
        expect(info["call"], f"{call} did not return what forward_fn returned")


@exercise("RNNModelScratch")
def test_rnn_model_scratch_begin_state(student, gen):
    info, _, what, size = _check_scratch_model(student, gen, 9, 11, "cpu", 2, 2)
    calls = info["log"]["init_state"]
    expect(calls == [[size, 11, "cpu"]],
           f"net.begin_state(batch_size={size}, device='cpu') called init_state with {calls}; "
           f"expected one call init_state({size}, num_hiddens=11, device)")
    expect(info["begin"], "net.begin_state(...) did not return what init_state returned")


# --- 8.5 predict_ch8 ------------------------------------------------------------------------------


def _predict(ns, prefix, num_preds, tokens, weights, device):
    """The student's predict_ch8 with a grader vocabulary and a deterministic grader network
    that records every call (input, its shape and dtype, whether the state was carried)."""
    log = []

    class GraderVocab:
        def __init__(self, tokens):
            self.idx_to_token = list(tokens)
            self.token_to_idx = {t: i for i, t in enumerate(tokens)}

        def __len__(self):
            return len(self.token_to_idx)

        def __getitem__(self, key):
            if isinstance(key, (list, tuple)):
                return [self[k] for k in key]
            return self.token_to_idx.get(key, 0)

        def to_tokens(self, indices):
            if isinstance(indices, (list, tuple)):
                return [self.idx_to_token[int(i)] for i in indices]
            return self.idx_to_token[int(indices)]

        @property
        def unk(self):
            return 0

    class GraderNet:
        def __init__(self):
            self.embed, self.mix, self.out = weights
            self.last = None

        def begin_state(self, device, batch_size=1):  # the concise model's order
            log.append({"event": "begin", "batch_size": batch_size, "device": str(device)})
            self.last = (torch.zeros(1, self.mix.shape[0], dtype=self.mix.dtype),)
            return self.last

        def __call__(self, X, state):
            token = int(X.reshape(-1)[0])
            h = state[0]
            log.append({"event": "call", "shape": list(X.shape), "dtype": str(X.dtype),
                        "device": X.device.type, "token": token,
                        "carried": self.last is not None and torch.equal(h, self.last[0])})
            h = torch.tanh(self.embed[token] + h @ self.mix).reshape(1, -1)
            self.last = (h,)
            return h @ self.out, self.last

    text = ns["predict_ch8"](prefix, num_preds, GraderNet(), GraderVocab(tokens), device)
    return {"text": text, "log": log}


CHARS = ["<unk>", " ", "e", "t", "a", "i", "h", "m", "n", "r", "s", "o"]


def _predict_weights(gen, vocab, hidden=6):
    return [st.normal(gen, vocab, hidden, scale=1.5), st.normal(gen, hidden, hidden, scale=0.8),
            st.normal(gen, hidden, vocab, scale=2.0)]


def _check_predict(student, gen, prefix, num_preds, log_too=False):
    weights = _predict_weights(gen, len(CHARS))
    what = f"predict_ch8({prefix!r}, {num_preds}, net, vocab, device)"
    got = student.scenario(_predict, prefix, num_preds, CHARS, weights, "cpu", what=what)
    expected = _on_reference(_predict, prefix, num_preds, CHARS, weights, "cpu")
    text = got["text"]
    if not isinstance(text, str):
        fail(f"{what} returned {describe(text)}; expected a string")
    if text != expected["text"]:
        hint = ""
        if not text.startswith(prefix):
            hint = " (the result starts with the prefix)"
        elif len(text) != len(expected["text"]):
            hint = f" ({len(text) - len(prefix)} characters predicted, expected {num_preds})"
        fail(f"{what} returned {text!r}; expected {expected['text']!r}{hint}. Warm the state up "
             "on the prefix, then feed each greedy (arg-max) prediction back in")
    if log_too:
        _expect_predict_calls(got["log"], expected["log"], prefix, num_preds, what)


def _expect_predict_calls(log, expected, prefix, num_preds, what):
    begins = [e for e in log if e["event"] == "begin"]
    expect(len(begins) == 1 and begins[0]["batch_size"] == 1 and begins[0]["device"] == "cpu",
           f"{what} called net.begin_state {len(begins)} times with "
           f"batch_size and device {[(e['batch_size'], e['device']) for e in begins]}; "
           "expected once, begin_state(batch_size=1, device=device) (with keywords: the concise "
           "model's begin_state takes device first)")
    calls = [e for e in log if e["event"] == "call"]
    want = [e for e in expected if e["event"] == "call"]
    expect(len(calls) == len(want),
           f"{what} called the net {len(calls)} times; expected len(prefix) - 1 + num_preds = "
           f"{len(want)}")
    for k, (call, good) in enumerate(zip(calls, want)):
        expect(call["shape"] == [1, 1] and call["dtype"] == "torch.int64",
               f"{what}: call {k} of the net got X of shape {tuple(call['shape'])} and dtype "
               f"{call['dtype']}; expected a (1, 1) int64 tensor (one sequence, one step)")
        expect(call["token"] == good["token"],
               f"{what}: call {k} of the net got the token {CHARS[call['token']]!r} "
               f"(index {call['token']}); expected {CHARS[good['token']]!r}")
        expect(call["carried"], f"{what}: call {k} of the net did not get the state that the "
               "previous call returned (or begin_state's, for the first call)")


@exercise("predict_ch8")
def test_predict_ch8_example(student, gen):
    _check_predict(student, gen, "the ", 6)


@exercise("predict_ch8", weight=2)
def test_predict_ch8_greedy(student, gen):
    chars = CHARS[1:]
    for length, num_preds in ((st.sizes(gen, 2, 7), st.sizes(gen, 4, 12)), (1, 5), (3, 1)):
        picks = torch.randint(0, len(chars), (length,), generator=gen).tolist()
        _check_predict(student, gen, "".join(chars[i] for i in picks), num_preds)


@exercise("predict_ch8")
def test_predict_ch8_warm_up_calls(student, gen):
    _check_predict(student, gen, "time", 4, log_too=True)
    _check_predict(student, gen, "as", 0, log_too=True)
    _check_predict(student, gen, "me ", 3, log_too=True)


# --- 8.5 grad_clipping ----------------------------------------------------------------------------


def _clip(ns, kind, grads, theta, frozen):
    nn = torch.nn
    if kind == "module":
        net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
        params = list(net.parameters())
        if frozen:
            params[1].requires_grad_(False)
    else:
        class Scratch:
            pass

        net = Scratch()
        net.params = [torch.zeros(g.shape).requires_grad_(True) for g in grads]
        params = net.params
    for p, g in zip(params, grads):
        if g is not None:
            p.grad = g.clone()
    result = ns["grad_clipping"](net, theta)
    return {"grads": [p.grad for p in params], "result": result}


MODULE_SHAPES = [(3, 4), (3,), (2, 3), (2,)]
SCRATCH_SHAPES = [(5, 4), (4, 4), (4,), (4, 5), (5,)]


def _clip_case(student, gen, kind, theta, *, frozen=False, scale=1.0, norm=None):
    shapes = MODULE_SHAPES if kind == "module" else SCRATCH_SHAPES
    grads = [st.normal(gen, *s, scale=scale, dtype=torch.float32) for s in shapes]
    if frozen:
        grads[1] = None
    live = [g for g in grads if g is not None]
    total = math.sqrt(sum(float((g.double() ** 2).sum()) for g in live))
    if norm is not None:
        grads = [g * (norm / total) if g is not None else None for g in grads]
        live = [g for g in grads if g is not None]
        total = math.sqrt(sum(float((g.double() ** 2).sum()) for g in live))
    label = "an nn.Module" if kind == "module" else "a scratch model (net.params)"
    what = (f"grad_clipping(net, {theta}) on {label}" + (" with a frozen parameter" if frozen
                                                         else "")
            + f" whose gradients have joint norm {total:.4g}")
    got = student.scenario(_clip, kind, grads, theta, frozen, what=what)
    factor = theta / total if total > theta else 1.0
    for k, (g, have) in enumerate(zip(grads, got["grads"])):
        if g is None:
            continue
        hint = (_("the norm is over all parameters together: sqrt(sum of the squares of every "
                  "gradient entry); above theta, multiply every gradient by theta / norm")
                if total > theta else _("the norm is below theta: leave the gradients unchanged"))
        expect_tensor(have, (g.double() * factor).float(),
                      what=f"the gradient of parameter {k} after {what}", hint=hint, **F32)
    expect(got["result"] is None, f"{what} returned {_text(got['result'], 80)}; it works in "
           "place and returns None")


@exercise("grad_clipping")
def test_grad_clipping_module(student, gen):
    _clip_case(student, gen, "module", 1, scale=2.0)
    _clip_case(student, gen, "module", 3.0, norm=2.5)


@exercise("grad_clipping")
def test_grad_clipping_frozen_parameter(student, gen):
    _clip_case(student, gen, "module", 0.5, frozen=True)


@exercise("grad_clipping")
def test_grad_clipping_scratch_model(student, gen):
    _clip_case(student, gen, "scratch", 1, scale=0.5)
    _clip_case(student, gen, "scratch", 1, norm=0.9)
    _clip_case(student, gen, "scratch", 0.1, scale=0.01)


# --- 8.5 train_epoch_ch8 --------------------------------------------------------------------------


def _train(ns, kind, weights, batches, use_random_iter, updater_kind, lr, epochs, device):
    """Train a grader language model with the student's ``train_epoch_ch8``; the network, the
    loss, the updater and the ``grad_clipping`` swapped in record how they are used."""
    nn = torch.nn
    F = torch.nn.functional
    log = []

    def snapshot(state):
        parts = list(state) if isinstance(state, (tuple, list)) else [state]
        return {"kind": type(state).__name__,
                "values": [p.detach().clone() if isinstance(p, torch.Tensor) else None
                           for p in parts],
                "requires_grad": [bool(getattr(p, "requires_grad", False)) for p in parts]}

    class ScratchLM:
        def __init__(self):
            self.params = [w.clone().requires_grad_(True) for w in weights]
            self.vocab_size, self.num_hiddens = weights[0].shape

        def begin_state(self, batch_size, device):
            log.append({"event": "begin", "batch_size": batch_size, "device": str(device)})
            return (torch.zeros(batch_size, self.num_hiddens, device=device),)

        def __call__(self, X, state):
            entry = {"event": "forward", "X": X.detach().clone(), "state": snapshot(state)}
            w_in, w_rec, bias, w_out, bias_out = self.params
            h, outs = state[0], []
            for x in F.one_hot(X.T.long(), self.vocab_size).to(w_in.dtype):
                h = torch.tanh(x @ w_in + h @ w_rec + bias)
                outs.append(h @ w_out + bias_out)
            entry["returned"] = snapshot((h,))
            log.append(entry)
            return torch.cat(outs), (h,)

    class ModuleLM(nn.Module):
        def __init__(self, lstm):
            super().__init__()
            size, hidden = weights["linear.weight"].shape
            self.lstm, self.vocab_size, self.num_hiddens = lstm, size, hidden
            self.rnn = nn.LSTM(size, hidden) if lstm else nn.RNN(size, hidden)
            self.linear = nn.Linear(hidden, size)
            self.load_state_dict(weights)

        def begin_state(self, device, batch_size=1):
            log.append({"event": "begin", "batch_size": batch_size, "device": str(device)})
            zeros = torch.zeros((1, batch_size, self.num_hiddens), device=device)
            return (zeros, zeros.clone()) if self.lstm else zeros

        def forward(self, inputs, state):
            entry = {"event": "forward", "X": inputs.detach().clone(), "state": snapshot(state)}
            Y, new = self.rnn(F.one_hot(inputs.T.long(), self.vocab_size).float(), state)
            entry["returned"] = snapshot(new)
            log.append(entry)
            return self.linear(Y.reshape(-1, Y.shape[-1])), new

    model = ScratchLM() if kind == "scratch" else ModuleLM(kind == "lstm")
    params = model.params if kind == "scratch" else list(model.parameters())

    def clip(net, theta):
        owned = [q for q in net.parameters() if q.requires_grad] \
            if isinstance(net, nn.Module) else list(net.params)
        ready = all(q.grad is not None for q in owned)
        log.append({"event": "clip", "same_net": net is model, "theta": theta, "ready": ready})
        if ready:
            total = torch.sqrt(sum((q.grad.double() ** 2).sum() for q in owned))
            if total > theta:
                for q in owned:
                    q.grad.mul_(float(theta / total))

    class LoggedLoss(nn.CrossEntropyLoss):
        def forward(self, scores, target):
            log.append({"event": "loss", "target": target.detach().clone(),
                        "shape": list(scores.shape)})
            return super().forward(scores, target)

    if updater_kind == "optimizer":
        class LoggedSGD(torch.optim.SGD):
            def step(self, closure=None):
                log.append({"event": "step"})
                return super().step(closure)

            def zero_grad(self, set_to_none=True):
                log.append({"event": "zero_grad"})
                return super().zero_grad(set_to_none)

        updater = LoggedSGD(params, lr=lr)
    else:
        def updater(*args, **kwargs):
            log.append({"event": "update", "args": list(args), "kwargs": dict(kwargs)})
            size = kwargs["batch_size"] if "batch_size" in kwargs else args[0]
            with torch.no_grad():
                for q in params:
                    q -= lr * q.grad / size
                    q.grad.zero_()

    results = []
    with objects.Swap(ns, {"grad_clipping": clip}):  # noqa: F821 - the scenario scope has it
        for _ in range(epochs):
            results.append(ns["train_epoch_ch8"](model, BatchIterable(batches), LoggedLoss(),
                                                 updater, device, use_random_iter))
    return {"results": results, "log": log, "params": [p.detach().clone() for p in params]}


def _lm_batches(gen, corpus, batch_size, num_steps):
    """Sequential minibatches of ``corpus`` (offset 0), as the book's sequential sampler."""
    width = (len(corpus) - 1) // batch_size
    Xs = torch.tensor(corpus[:width * batch_size]).reshape(batch_size, width)
    Ys = torch.tensor(corpus[1:1 + width * batch_size]).reshape(batch_size, width)
    return [[Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]]
            for i in range(0, width // num_steps * num_steps, num_steps)]


def _scratch_weights(gen, vocab, hidden, scale=0.5):
    return [st.normal(gen, vocab, hidden, scale=scale, dtype=torch.float32),
            st.normal(gen, hidden, hidden, scale=scale, dtype=torch.float32),
            torch.zeros(hidden), st.normal(gen, hidden, vocab, scale=scale, dtype=torch.float32),
            torch.zeros(vocab)]


def _module_weights(gen, vocab, hidden, lstm):
    layers = torch.nn.ModuleDict({"rnn": (torch.nn.LSTM if lstm else torch.nn.RNN)(vocab, hidden),
                                  "linear": torch.nn.Linear(hidden, vocab)})
    state = {}
    for key, value in layers.state_dict().items():
        state[key] = st.normal(gen, *value.shape, scale=0.5, dtype=torch.float32)
    return state


def _pair(value, what):
    items = sequence(value, what)
    expect(len(items) == 2, f"{what} returned {len(items)} values; expected (perplexity, speed)")
    return items


def _expect_results(got, expected, what, hint):
    results = sequence(got["results"], what)
    for epoch, (value, want) in enumerate(zip(results, expected["results"])):
        label = what + (f", epoch {epoch + 1}" if len(results) > 1 else "")
        perplexity, speed = _pair(value, label)
        expect_number(perplexity, want[0], what=f"the perplexity returned by {label}",
                      atol=1e-6, rtol=1e-5, hint=hint)
        speed = number(speed, f"the speed returned by {label}")
        expect(math.isfinite(speed) and speed > 0, f"{label} returned the speed {speed}; "
               "expected the tokens per second, a positive number")
    for k, (have, want) in enumerate(zip(got["params"], expected["params"])):
        expect_tensor(have, want, what=f"parameter {k} of the network after {what}",
                      atol=1e-5, rtol=1e-4, hint=hint)


def _segments(log):
    """The log cut at each forward call: [(events before it, the forward, events after it)]."""
    forwards = [i for i, e in enumerate(log) if e["event"] == "forward"]
    bounds = [0] + [i + 1 for i in forwards[:-1]]
    return [(log[start:i], log[i], log[i + 1:(forwards[k + 1] if k + 1 < len(forwards)
                                               else len(log))])
            for k, (start, i) in enumerate(zip(bounds, forwards))]


def _same_state(received, returned):
    if len(received["values"]) != len(returned["values"]):
        return False
    return all(a is not None and b is not None and a.shape == b.shape and torch.equal(a, b)
               for a, b in zip(received["values"], returned["values"]))


def _expect_protocol(log, batches, epochs, use_random_iter, updater_kind, what):
    segments = _segments(log)
    expect(len(segments) == len(batches) * epochs,
           f"{what} ran the network {len(segments)} times; expected once per minibatch "
           f"({len(batches) * epochs})")
    for k, (before, forward, after) in enumerate(segments):
        b = k % len(batches)
        X, Y = batches[b]
        where = f"{what}, minibatch {b + 1}" + (f" of epoch {k // len(batches) + 1}"
                                                if epochs > 1 else "")
        begins = [e for e in before if e["event"] == "begin"]
        state = forward["state"]
        fresh = all(v is not None and not bool(v.any()) for v in state["values"])
        if use_random_iter or b == 0:
            why = "random sampling: every minibatch starts" if use_random_iter and b else \
                "the first minibatch starts"
            expect(begins and fresh and begins[-1]["batch_size"] == X.shape[0]
                   and begins[-1]["device"] == "cpu",
                   f"{where}: {why} from net.begin_state(batch_size=X.shape[0], device=device) "
                   f"(begin_state was called {len(begins)} times before it with "
                   f"{[(e['batch_size'], e['device']) for e in begins]})")
        else:
            previous = segments[k - 1][1]["returned"]
            expect(_same_state(state, previous),
                   f"{where}: the network did not get the state that the previous minibatch "
                   "returned; sequential minibatches continue each other, carry the state over")
            expect(state["kind"] == previous["kind"],
                   f"{where}: the state became a {state['kind']} (it was a {previous['kind']})")
            expect(not any(state["requires_grad"]),
                   f"{where}: the state carried over still belongs to the previous minibatch's "
                   "graph; detach it (state.detach_(), or each element's for a tuple)")
        expect_tensor(forward["X"], X, what=f"the X that {where} fed the network")
        losses = [e for e in after if e["event"] == "loss"]
        expect(len(losses) == 1, f"{where}: the loss was called {len(losses)} times; expected "
               "once per minibatch")
        expect_tensor(losses[0]["target"], Y.T.reshape(-1), what=f"the labels of {where}",
                      hint=_("y = Y.T.reshape(-1): time-major, like the network's outputs"))
        clips = [e for e in after if e["event"] == "clip"]
        expect(len(clips) == 1, f"{where}: grad_clipping was called {len(clips)} times; "
               "expected grad_clipping(net, 1) once, after backward")
        clip = clips[0]
        expect(clip["same_net"] and number(clip["theta"], "theta") == 1 and clip["ready"],
               f"{where}: expected grad_clipping(net, 1) after l.backward(); it was called "
               + ("with another object than the network" if not clip["same_net"]
                  else f"with theta={clip['theta']!r}" if number(clip["theta"], "theta") != 1
                  else "before the gradients were computed"))
        events = [e["event"] for e in after if e["event"] in ("clip", "step", "update")]
        if updater_kind == "optimizer":
            expect(events == ["clip", "step"],
                   f"{where}: the calls after the forward pass were {events}; expected "
                   "grad_clipping(net, 1), then updater.step()")
        else:
            expect(events == ["clip", "update"],
                   f"{where}: the calls after the forward pass were {events}; expected "
                   "grad_clipping(net, 1), then updater(batch_size=1)")
            update = next(e for e in after if e["event"] == "update")
            size = update["kwargs"].get("batch_size", update["args"][0] if update["args"]
                                        else None)
            expect(len(update["args"]) + len(update["kwargs"]) == 1 and size == 1,
                   f"{where}: the updater was called with {update['args']} {update['kwargs']}; "
                   "expected updater(batch_size=1), since the loss is already a mean")
    if updater_kind == "optimizer":
        zeroed = sum(1 for e in log if e["event"] == "zero_grad")
        expect(zeroed == len(segments), f"{what} called updater.zero_grad() {zeroed} times; "
               f"expected once per minibatch ({len(segments)})")


def _check_train(student, kind, weights, batches, use_random_iter, updater_kind, lr, epochs,
                 what, hint):
    args = (kind, weights, batches, use_random_iter, updater_kind, lr, epochs, "cpu")
    got = student.scenario(_train, *args, what=what)
    expected = _on_reference(_train, *args)
    _expect_protocol(got["log"], batches, epochs, use_random_iter, updater_kind, what)
    _expect_results(got, expected, what, hint)
    return got, expected


TRAIN_HINT = _("per minibatch: l = loss(y_hat, y).mean() with y = Y.T.reshape(-1); accumulate "
               "l * y.numel() and y.numel(); perplexity = exp(total loss / total tokens)")


@exercise("train_epoch_ch8", weight=2)
def test_train_epoch_ch8_sequential_scratch_model(student, gen):
    vocab, batch_size, num_steps = 6, 2, 4
    corpus = torch.randint(0, vocab, (40,), generator=gen).tolist()
    batches = _lm_batches(gen, corpus, batch_size, num_steps)
    _check_train(student, "scratch", _scratch_weights(gen, vocab, 5), batches, False, "sgd", 1.0,
                 1, "train_epoch_ch8 on a scratch model with sequential minibatches and an sgd "
                 "updater", TRAIN_HINT)


@exercise("train_epoch_ch8", weight=2)
def test_train_epoch_ch8_random_minibatches_module(student, gen):
    vocab, num_steps = 5, 3
    batches = [[torch.randint(0, vocab, (size, num_steps), generator=gen),
                torch.randint(0, vocab, (size, num_steps), generator=gen)] for size in (3, 3, 2)]
    _check_train(student, "rnn", _module_weights(gen, vocab, 4, False), batches, True,
                 "optimizer", 0.5, 1, "train_epoch_ch8 on an nn.RNN model with random "
                 "minibatches and torch.optim.SGD", TRAIN_HINT)


@exercise("train_epoch_ch8")
def test_train_epoch_ch8_lstm_state(student, gen):
    vocab, batch_size, num_steps = 5, 3, 2
    corpus = torch.randint(0, vocab, (26,), generator=gen).tolist()
    batches = _lm_batches(gen, corpus, batch_size, num_steps)
    _check_train(student, "lstm", _module_weights(gen, vocab, 3, True), batches, False,
                 "optimizer", 0.5, 2, "two epochs of train_epoch_ch8 on an nn.LSTM model (a "
                 "tuple state) with sequential minibatches", TRAIN_HINT)


@exercise("train_epoch_ch8")
def test_train_epoch_ch8_learns(student, gen):
    vocab, batch_size, num_steps = 6, 2, 5
    pattern = torch.randint(0, vocab, (7,), generator=gen).tolist()
    batches = _lm_batches(gen, pattern * 9, batch_size, num_steps)
    epochs = 12
    what = f"{epochs} epochs of train_epoch_ch8 on a scratch model and a repetitive text"
    args = ("scratch", _scratch_weights(gen, vocab, 16, scale=0.3), batches, False, "sgd", 1.0,
            epochs, "cpu")
    got = student.scenario(_train, *args, what=what)
    expected = _on_reference(_train, *args)
    results = sequence(got["results"], what)
    expect(len(results) == epochs, f"{what}: expected {epochs} results")
    first = number(_pair(results[0], what)[0], "the first perplexity")
    last = number(_pair(results[-1], what)[0], "the last perplexity")
    # The reference ends below 1.1 for every seed tried (300); the pattern is learned by then.
    expect(last < min(1.5, first), f"{what}: the perplexity went from {first:.3f} to "
           f"{last:.3f}; the reference falls from {expected['results'][0][0]:.3f} to "
           f"{expected['results'][-1][0]:.3f} (a model that learned the repeating text is "
           "close to 1)")
    _expect_results(got, expected, what, TRAIN_HINT)
