"""ch09 checks of the machine translation data pipeline (9.5).

Texts are written by the grader in the book's format (``source<TAB>target`` lines, French
punctuation after a narrow no-break space); random texts avoid what the specification leaves
open (several spaces in a row, a punctuation mark right after a tab or a newline). The
vocabulary is a grader object with the book's ``Vocab`` interface whose special tokens sit at
random indices, and ``build_array_nmt`` gets a grader ``truncate_pad`` swapped in.
"""

import torch

import solutions.ch09 as ref
from grader.engine.compare import expect, expect_equal, expect_tensor, fail, sequence
from grader.engine.plugin import exercise
from grader.i18n import _

BOOK_LINES = ("Go.\tVa !\nHi.\tSalut !\nRun!\tCours\u202f!\nRun!\tCourez\u202f!\n"
              "Who?\tQui ?\nWow!\tÇa alors\u202f!\nI'm OK.\tJe vais bien.\nCall me, Tom.\t"
              "Appelle-moi,\xa0Tom.\n")
LETTERS = "abcdeéèçxyzABCÉÇ'-"
PUNCTUATION = ",.!?"


def _choice(gen: torch.Generator, items):
    return items[int(torch.randint(len(items), (1,), generator=gen))]


def _random_raw_text(gen: torch.Generator, length: int) -> str:
    """Letters, punctuation, spaces (plain, narrow no-break, no-break), with no two space-like
    characters in a row and tabs/newlines only between letters."""
    out: list[str] = []
    while len(out) < length:
        kind = float(torch.rand((), generator=gen))
        previous = out[-1] if out else ""
        if kind < 0.55 or previous in ("", "\t", "\n"):
            out.append(_choice(gen, LETTERS))
        elif kind < 0.75:
            out.append(_choice(gen, PUNCTUATION))
        elif kind < 0.93 and previous not in (" ", "\u202f", "\xa0"):
            out.append(_choice(gen, (" ", " ", "\u202f", "\xa0")))
        elif previous in LETTERS:
            out.append(_choice(gen, ("\t", "\n")))
            out.append(_choice(gen, LETTERS))
    return "".join(out)


def _expect_text(student, text: str, what: str) -> None:
    got = student.result("preprocess_nmt", text, what=what)
    expected = ref.preprocess_nmt(text)
    if not isinstance(got, str):
        fail(f"{what} returned a {type(got).__name__}; expected a str")
    if got != expected:
        at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                  min(len(got), len(expected)))
        fail(f"{what} is wrong for the text {text!r:.160}: from character {at} on it gives "
             f"{got[max(0, at - 8):at + 12]!r} where {expected[max(0, at - 8):at + 12]!r} is "
             f"expected (lengths {len(got)} and {len(expected)}). Hint: replace '\\u202f' and "
             "'\\xa0' by spaces and lower-case first, then put a space before , . ! ? when the "
             "character before it is not a space")


@exercise("preprocess_nmt")
def test_preprocess_nmt_book_lines(student):
    _expect_text(student, BOOK_LINES, "preprocess_nmt on the first lines of the book's fra.txt")


@exercise("preprocess_nmt", weight=2)
def test_preprocess_nmt_random_texts(student, gen):
    for _text in range(12):
        text = _random_raw_text(gen, int(torch.randint(20, 70, (1,), generator=gen)))
        _expect_text(student, text, "preprocess_nmt")


@exercise("preprocess_nmt")
def test_preprocess_nmt_edges(student):
    for text in ("!Wow", "A\u202f!B\xa0?", "Hi!!\tSalut ?!", "..., ok.", "",
                 "Tom's car, please.\tLa voiture de Tom,\xa0s'il te plaît."):
        _expect_text(student, text, f"preprocess_nmt({text!r})")


def _random_words(gen: torch.Generator, count: int) -> list[str]:
    words = ["go", "i", "am", "cold", "we", "see", "the", "cat", "je", "suis", "froid", "nous",
             "voyons", "le", "chat", "n'aime", "ça", "!", ".", "?", ","]
    return [_choice(gen, words) for _ in range(count)]


def _random_corpus(gen: torch.Generator, lines: int) -> str:
    """Preprocessed lines ``source<TAB>target``; one without a tab and one with two, at random
    places after the first two lines."""
    no_tab, two_tabs = (2 + torch.randperm(lines - 2, generator=gen)[:2]).tolist()
    rows = []
    for i in range(lines):
        source = " ".join(_random_words(gen, 1 + int(torch.randint(5, (1,), generator=gen))))
        target = " ".join(_random_words(gen, 1 + int(torch.randint(6, (1,), generator=gen))))
        if i == no_tab:
            rows.append(source)
        elif i == two_tabs:
            rows.append(f"{source}\t{target}\t{source}")
        else:
            rows.append(f"{source}\t{target}")
    return "\n".join(rows) + "\n"


def _expect_tokens(student, text: str, *args: object, what: str) -> None:
    expected = ref.tokenize_nmt(text, *args)
    got = sequence(student.result("tokenize_nmt", text, *args, what=what), what)
    expect(len(got) == 2, f"{what} returned {len(got)} values; expected (source, target)")
    for label, part, wanted in zip(("source", "target"), got, expected):
        rows = sequence(part, f"{what}'s {label}")
        expect(len(rows) == len(wanted), f"{what} returned {len(rows)} {label} sentences for "
               f"a text of {text.count(chr(10))} lines ({len(wanted)} expected)"
               + (f" with num_examples={args[0]}: like the book, lines 0..num_examples are "
                  "read" if args and args[0] else ": skip lines without exactly one tab"))
        expect_equal(rows, wanted, what=f"{what}'s {label}")


@exercise("tokenize_nmt", weight=2)
def test_tokenize_nmt_pairs(student, gen):
    text = _random_corpus(gen, 9)
    _expect_tokens(student, text, what="tokenize_nmt(text)")
    _expect_tokens(student, "go .\tva !\nhi .\tsalut !\n", what="tokenize_nmt on two book lines")


@exercise("tokenize_nmt", weight=2)
def test_tokenize_nmt_num_examples(student, gen):
    text = _random_corpus(gen, 10)
    for count in (1, 4, 30):
        _expect_tokens(student, text, count, what=f"tokenize_nmt(text, num_examples={count})")


# --- truncate_pad ---------------------------------------------------------------------------------


def _pad_case(ns, line, num_steps, padding_token):
    given = list(line)
    result = ns["truncate_pad"](line, num_steps, padding_token)
    return {"result": result, "line_after": line, "given": given}


def _expect_pad(student, line, num_steps, token):
    what = f"truncate_pad({line!r}, {num_steps}, {token!r})"
    got = student.scenario(_pad_case, line, num_steps, token, what=what, name="truncate_pad")
    expected = ref.truncate_pad(list(line), num_steps, token)
    expect_equal(got["result"], expected, what=what)
    return got, what


@exercise("truncate_pad", weight=3)
def test_truncate_pad_values(student, gen):
    for line, num_steps, token in (([47, 4], 10, 1), ([5, 6, 7, 8], 2, 0), ([3, 2, 1], 3, 9),
                                   ([], 3, 1), (["a", "b", "c"], 5, "<pad>")):
        _expect_pad(student, line, num_steps, token)
    line = [int(v) for v in torch.randint(2, 30, (int(torch.randint(1, 9, (1,), generator=gen)),),
                                          generator=gen)]
    for num_steps in (len(line) - 1, len(line) + 3):
        _expect_pad(student, line, num_steps, 1)


@exercise("truncate_pad")
def test_truncate_pad_leaves_the_line_alone(student):
    for line, num_steps in (([4, 5], 6), ([4, 5, 6, 7], 3)):
        got, what = _expect_pad(student, line, num_steps, 1)
        expect_equal(got["line_after"], got["given"], what=f"the line given to {what}, after "
                     "the call (return a new list; do not extend the one you were given)")


# --- build_array_nmt ------------------------------------------------------------------------------

SPECIALS = ["<pad>", "<bos>", "<eos>"]


class _Vocab:
    """The grader's side of the sandbox's vocabulary: ``<unk>`` at 0, then ``tokens``."""

    def __init__(self, tokens):
        self.idx_to_token = ["<unk>", *tokens]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, 0)


def _vocab_tokens(gen: torch.Generator) -> list[str]:
    words = ["go", "i", "am", "cold", "we", "see", "the", "cat", "!", ".", "?"]
    tokens = words + SPECIALS
    order = torch.randperm(len(tokens), generator=gen).tolist()
    return [tokens[i] for i in order]


def _build_array(ns, tokens, lines, num_steps):
    """The student's build_array_nmt with a grader vocabulary (``<unk>`` at 0, then
    ``tokens``) and a grader truncate_pad."""

    class Vocab:
        def __init__(self, tokens):
            self.idx_to_token = ["<unk>", *tokens]
            self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

        def __len__(self):
            return len(self.idx_to_token)

        def __getitem__(self, tokens):
            if isinstance(tokens, (list, tuple)):
                return [self[t] for t in tokens]
            return self.token_to_idx.get(tokens, self.unk)

        def to_tokens(self, indices):
            if isinstance(indices, (list, tuple)):
                return [self.idx_to_token[int(i)] for i in indices]
            return self.idx_to_token[int(indices)]

        @property
        def unk(self):
            return 0

    def cut_or_pad(line, num_steps, padding_token):
        items = list(line)[:num_steps]
        return items + [padding_token] * (num_steps - len(items))

    with objects.Swap(ns, {"truncate_pad": cut_or_pad}):  # noqa: F821 - scenario scope
        return ns["build_array_nmt"](lines, Vocab(tokens), num_steps)


def _expect_array(student, gen):
    tokens = _vocab_tokens(gen)
    words = ["go", "i", "am", "cold", "we", "see", "the", "cat", "!", ".", "?", "zebra", "mars"]
    lines = [[_choice(gen, words) for _ in range(n)] for n in (2, 0, 5, 7, 3, 4)]
    num_steps = 5
    what = f"build_array_nmt(lines, vocab, {num_steps}) on {len(lines)} lines of lengths " \
           f"{[len(line) for line in lines]}"
    got = sequence(student.scenario(_build_array, tokens, lines, num_steps, what=what,
                                    name="build_array_nmt"), what)
    expect(len(got) == 2, f"{what} returned {len(got)} values; expected (array, valid_len)")
    array, valid_len = ref.build_array_nmt(lines, _Vocab(tokens), num_steps)
    return got, array, valid_len, what


def _integer(value, what):
    expect(isinstance(value, torch.Tensor) and not value.is_floating_point()
           and not value.is_complex() and value.dtype != torch.bool,
           f"{what} is not an integer tensor (got {getattr(value, 'dtype', type(value))})")


@exercise("build_array_nmt", weight=2)
def test_build_array_nmt_array(student, gen):
    got, array, _valid_len, what = _expect_array(student, gen)
    _integer(got[0], f"the array of {what}")
    expect_tensor(got[0], array, what=f"the array of {what}", check_dtype=False,
                  hint=_("vocab[line] + [vocab['<eos>']], then truncate_pad(..., num_steps, "
                         "vocab['<pad>']); unknown tokens are vocab.unk"))


@exercise("build_array_nmt", weight=2)
def test_build_array_nmt_valid_len(student, gen):
    got, array, valid_len, what = _expect_array(student, gen)
    expect_tensor(got[0], array, what=f"the array of {what}", check_dtype=False)
    _integer(got[1], f"the valid_len of {what}")
    expect_tensor(got[1], valid_len, what=f"the valid_len of {what}", check_dtype=False,
                  hint=_("count the entries of each row that are not vocab['<pad>'] (<eos> "
                         "counts)"))
