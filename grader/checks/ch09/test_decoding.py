"""Hidden checks of ch09's decoding exercises: ``predict_seq2seq``, ``bleu``, ``beam_search``.

``predict_seq2seq`` is graded on the grader's toy translator (see ``decoding._translate``): the
encoder's inputs, the decoding loop and the attention weights are separate checks, and the
checks of the loop use a decoder that ignores the encoding, so one mistake costs one check.
``bleu`` is compared with the book's formula on the book's examples, hand cases for clipping and
the brevity penalty, and random token sequences with many repeats. ``beam_search`` is compared
with greedy decoding (``beam_size=1``), an exhaustive search (a beam as wide as all sequences),
the book's example where greedy and beam search disagree, the length penalty's effect, and a
batch of random step functions; tables are drawn again until no near-tie decides anything.
"""

from __future__ import annotations

import math

import pytest
import torch

import solutions.ch09 as ref
from grader.checks.ch09.decoding import (
    GAP,
    _beam,
    _calls,
    _translate,
    beam_result,
    bleu_hint,
    describe_case,
    exhaustive_search,
    markov_case,
    score_of,
    toy_case,
    toy_spec,
    trace_search,
)
from grader.engine.compare import expect, expect_number, expect_tensor, fail, number, sequence
from grader.engine.plugin import exercise
from grader.i18n import _

# --- predict_seq2seq ------------------------------------------------------------------------------

TOY = "predict_seq2seq on the grader's toy translator"


def _translations(student, gen, device, cases_of):
    spec = toy_spec(gen)
    cases = cases_of(spec)
    got = student.scenario(_translate, spec, cases, str(device), what=TOY)
    want = _translate({"predict_seq2seq": ref.predict_seq2seq}, spec, cases, str(device))
    return spec, cases, got, want


def _call_text(case: dict) -> str:
    extra = ", save_attention_weights=True" if case["save"] else ""
    return (f"predict_seq2seq(net, {case['sentence']!r}, src_vocab, tgt_vocab, "
            f"num_steps={case['num_steps']}, device{extra})")


def _token_ids(record: dict, what: str, shape: list[int]) -> list:
    if "values" not in record:
        fail(f"{what} is a {record.get('type')}; expected a tensor of token indices")
    if record["dtype"] not in ("int64", "int32"):
        fail(f"{what} has dtype {record['dtype']}; expected torch.long (token indices)")
    if record["shape"] != shape:
        fail(f"{what} has shape {tuple(record['shape'])}; expected {tuple(shape)}")
    return record["values"]


def _valid_len(args: list, what: str, callee: str, tokens: int, num_steps: int) -> None:
    if not args:
        fail(f"{what} called {callee} without enc_valid_len; pass it as the second argument")
    record = args[0]
    if "values" not in record:
        fail(f"{what} passed {callee} an enc_valid_len of type {record.get('type')}; expected "
             "the tensor [number of source tokens]")
    values = record["values"]
    flat = values if isinstance(values, list) else [values]
    if record["shape"] not in ([1], []) or flat not in ([tokens], [min(tokens, num_steps)]):
        fail(f"{what} passed {callee} enc_valid_len = {values} (shape "
             f"{tuple(record['shape'])}); expected the tensor [{tokens}]: the number of source "
             "tokens with <eos>, before padding")


def _expect_encoding(spec: dict, case: dict, got: dict, want: dict, device) -> None:
    what = _call_text(case)
    calls, expected = got["calls"], want["calls"]
    encoder = calls["encoder"]
    expect(len(encoder) == 1, f"{what} called net.encoder {len(encoder)} times; expected once")
    expect(not encoder[0]["training"], f"{what} ran net.encoder in training mode; call "
           "net.eval() first (dropout must be off when predicting)")
    num_steps = case["num_steps"]
    enc_X = _token_ids(encoder[0]["X"], f"the enc_X that {what} gave net.encoder",
                       [1, num_steps])
    wanted = expected["encoder"][0]["X"]["values"]
    source = spec["source"]
    if enc_X != wanted:
        words = case["sentence"].lower().split(" ")
        fail(f"{what} gave net.encoder enc_X = {enc_X}; expected {wanted}: src_vocab's indices "
             f"of {words}, then <eos> ({source.index('<eos>')}), cut or padded with <pad> "
             f"({source.index('<pad>')}) to num_steps={num_steps}")
    expect(encoder[0]["X"]["device"] == torch.device(device).type,
           f"{what} created enc_X on {encoder[0]['X']['device']}; create it on device")
    tokens = len(case["sentence"].split(" ")) + 1
    _valid_len(encoder[0]["args"], what, "net.encoder", tokens, num_steps)
    init = calls["init_state"]
    expect(len(init) == 1, f"{what} called net.decoder.init_state {len(init)} times; expected "
           "once")
    expect(init[0]["same"], f"{what} did not give net.decoder.init_state what net.encoder "
           "returned; call net.decoder.init_state(enc_outputs, enc_valid_len)")
    _valid_len(init[0]["args"], what, "net.decoder.init_state", tokens, num_steps)


def _translation(value: object, what: str) -> tuple[str, list]:
    pair = sequence(value, what)
    if len(pair) != 2:
        fail(f"{what} returned {len(pair)} values; expected (translation, "
             "attention_weight_seq)")
    text, weights = pair
    if not isinstance(text, str):
        fail(f"{what} returned a translation of type {type(text).__name__}; expected a str "
             "(' '.join(tgt_vocab.to_tokens(output_seq)))")
    return text, weights


def _expect_decoding(spec: dict, case: dict, got: dict, want: dict) -> None:
    what = _call_text(case)
    target = spec["target"]
    mine, theirs = got["calls"]["decoder"], want["calls"]["decoder"]
    if not mine:
        fail(f"{what} never called net.decoder")
    for i, (a, b) in enumerate(zip(mine, theirs)):
        expect(not a["training"], f"{what} ran net.decoder in training mode; call net.eval() "
               "first")
        dec_X = _token_ids(a["X"], f"the dec_X of {what}'s decoder call {i + 1}", [1, 1])
        if dec_X != b["X"]["values"]:
            if i == 0:
                fail(f"{what}'s first decoder input is {dec_X}; expected [[tgt_vocab['<bos>']]] "
                     f"= {b['X']['values']}")
            fail(f"{what}'s decoder input at step {i + 1} is {dec_X}; expected "
                 f"{b['X']['values']}, the token predicted at step {i} (the arg-max of Y over "
                 "the vocabulary)")
        if a["t"] != i:
            fail(f"{what}'s decoder call {i + 1} got the state returned by call {a['t']}; pass "
                 "on the dec_state each call returns")
    if len(mine) != len(theirs):
        stop = next((i for i, row in enumerate(case["steps"].tolist())
                     if row[target.index("<eos>")] > 0), None)
        if len(mine) > len(theirs):
            fail(f"{what} called net.decoder {len(mine)} times; expected {len(theirs)}: "
                 + (f"<eos> is predicted at step {stop + 1}, where decoding stops"
                    if stop is not None and stop < case["num_steps"] else
                    f"stop after num_steps={case['num_steps']} steps"))
        fail(f"{what} called net.decoder {len(mine)} times; expected {len(theirs)}: decode "
             f"until <eos> is predicted or num_steps={case['num_steps']} steps are done")
    text, _weights = _translation(got["result"], what)
    wanted, _wanted_weights = want["result"]
    expect(text == wanted, f"{what} returned the translation {text!r}; expected {wanted!r} "
           "(the predicted tokens before <eos>, as ' '.join(tgt_vocab.to_tokens(output_seq)))")


def _expect_attention(case: dict, got: dict, want: dict) -> None:
    what = _call_text(case)
    _text, weights = _translation(got["result"], what)
    _wanted_text, wanted = want["result"]
    items = sequence(weights, f"{what}'s attention_weight_seq")
    if not case["save"]:
        expect(not items, f"{what} returned {len(items)} attention weights; without "
               "save_attention_weights the list stays empty")
        return
    expect(len(items) == len(wanted), f"{what} returned {len(items)} attention weights; "
           f"expected {len(wanted)}, net.decoder.attention_weights after each of the "
           f"{len(wanted)} decoder calls (the one that predicts <eos> included)")
    for i, (item, expected) in enumerate(zip(items, wanted)):
        expect_tensor(item, expected, what=f"{what}'s attention weights {i}",
                      hint=_("append net.decoder.attention_weights right after each decoder call"))


@exercise("predict_seq2seq")
def test_predict_seq2seq_encoder_inputs(student, gen, device):
    def cases(spec):
        return [toy_case(gen, spec, "Go now !", 6, 2),
                toy_case(gen, spec, "I'm home", 5, 1),
                toy_case(gen, spec, "He's calm , i lost", 7, 3),
                toy_case(gen, spec, "I lost . run now home go !", 5, 2)]

    spec, cases, got, want = _translations(student, gen, device, cases)
    for case, a, b in zip(cases, got, want):
        _expect_encoding(spec, case, a, b, device)


@exercise("predict_seq2seq", weight=2)
def test_predict_seq2seq_greedy_loop(student, gen, device):
    def cases(spec):
        return [toy_case(gen, spec, "Go now !", 6, 3, uses_source=False),
                toy_case(gen, spec, "I lost .", 8, 5, uses_source=False),
                toy_case(gen, spec, "Run !", 4, 0, uses_source=False)]

    spec, cases, got, want = _translations(student, gen, device, cases)
    for case, a, b in zip(cases, got, want):
        _expect_decoding(spec, case, a, b)


@exercise("predict_seq2seq")
def test_predict_seq2seq_stops_after_num_steps(student, gen, device):
    def cases(spec):
        return [toy_case(gen, spec, "Go now !", 4, None, uses_source=False),
                toy_case(gen, spec, "He's calm .", 7, None, uses_source=False)]

    spec, cases, got, want = _translations(student, gen, device, cases)
    for case, a, b in zip(cases, got, want):
        _expect_decoding(spec, case, a, b)


@exercise("predict_seq2seq")
def test_predict_seq2seq_attention_weights(student, gen, device):
    def cases(spec):
        return [toy_case(gen, spec, "I lost .", 6, 2, save=True, uses_source=False),
                toy_case(gen, spec, "Go now !", 4, None, save=True, uses_source=False),
                toy_case(gen, spec, "Run !", 5, 1, uses_source=False)]

    _spec, cases, got, want = _translations(student, gen, device, cases)
    for case, a, b in zip(cases, got, want):
        _expect_attention(case, a, b)


# --- bleu -----------------------------------------------------------------------------------------


def _expect_bleu(student, calls: list[tuple[str, str, int]], what: str) -> None:
    got = student.scenario(_calls, "bleu", [list(c) for c in calls], what=what)
    for (pred, label, k), value in zip(calls, got):
        text = f"bleu({pred!r}, {label!r}, {k})"
        expected = ref.bleu(pred, label, k)
        actual = number(value, text)
        if not math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9):
            expect_number(actual, expected, what=text, hint=bleu_hint(pred, label, k, actual))


BOOK_PAIRS = [("va !", "va !"), ("j'ai perdu .", "j'ai perdu ."),
              ("il est riche .", "il est calme ."), ("je suis en retard ?", "je suis chez moi .")]


@exercise("bleu")
def test_bleu_book_examples(student):
    _expect_bleu(student, [(pred, label, 2) for pred, label in BOOK_PAIRS],
                 what="bleu on the book's translations")


@exercise("bleu")
def test_bleu_clips_repeated_ngrams(student):
    calls = [("the the the the", "the cat the mat", 1), ("the the the the", "the cat the mat", 2),
             ("a b a b a b", "a b c a b", 2), ("a a a b b", "a b a b a", 3),
             ("x y x y", "y x", 2)]
    _expect_bleu(student, calls, what="bleu where n-grams repeat")


@exercise("bleu")
def test_bleu_brevity_penalty(student):
    calls = [("a b", "a b c d", 2), ("a b c", "a b c d e f", 3), ("a b c d", "a b c", 2),
             ("b c", "a b c d", 1)]
    _expect_bleu(student, calls, what="bleu with short and long predictions")


@exercise("bleu", weight=2)
def test_bleu_random_sequences(student, gen):
    words = ["le", "chat", "est", "noir", "."]
    calls = []
    for _call in range(24):
        k = int(torch.randint(1, 5, (), generator=gen))
        vocab = int(torch.randint(2, len(words) + 1, (), generator=gen))
        length = int(torch.randint(k, 10, (), generator=gen))
        pred = [words[i] for i in torch.randint(vocab, (length,), generator=gen)]
        label_length = int(torch.randint(1, 10, (), generator=gen))
        label = [words[i] for i in torch.randint(vocab, (label_length,), generator=gen)]
        calls.append((" ".join(pred), " ".join(label), k))
    _expect_bleu(student, calls, what="bleu on random token sequences")


# --- beam_search ----------------------------------------------------------------------------------


def _fresh(gen: torch.Generator, draw, accept=lambda case, answer: True, *, tries: int = 200):
    """A case from ``draw()`` whose decisions are all at least ``GAP`` from a tie and that
    ``accept`` takes, with the specification's answer."""
    for _attempt in range(tries):
        case = draw()
        answer = _beam({"beam_search": trace_search}, [case], "cpu")[0]
        if answer[2] >= GAP and accept(case, answer):
            return case, answer
    raise RuntimeError("no table without near-ties was drawn; the check's sizes are wrong")


def _expect_beams(student, cases: list[dict], answers: list, device, *, hint: str = "") -> None:
    got = student.scenario(_beam, cases, str(device), what="beam_search on the grader's step "
                           "functions", name="beam_search")
    for case, value, (tokens, score, _gap) in zip(cases, got, answers):
        what = describe_case(case)
        mine, my_score = beam_result(value, what)
        if mine != tokens:
            alpha = 0.75 if case.get("alpha") is None else case["alpha"]
            scored = _beam({"beam_search": score_of(mine)}, [case], "cpu")[0]
            if scored is None:
                fail(f"{what} returned tokens {mine}, which no search could return (tokens of "
                     f"the vocabulary, at most max_len of them, eos only at the end); expected "
                     f"{tokens} with score {score:.6g}")
            theirs = scored[0] / scored[1] ** alpha
            why = (" It scores higher than the expected answer: keep only the beam_size best "
                   "extensions of the beam at each step (finished ones leave the beam)"
                   if theirs > score else
                   " It scores lower than the expected answer: compare all candidates, finished "
                   "ones and those still in the beam, by log P / L**alpha")
            fail(f"{what} returned tokens {mine}, whose score log P / L**alpha is "
                 f"{theirs:.6g}; expected {tokens} with score {score:.6g}.{why}"
                 + (f" ({hint})" if hint else ""))
        if not math.isclose(my_score, score, rel_tol=1e-6, abs_tol=1e-9):
            fail(f"{what} returned the right tokens {mine} with score {my_score:.6g}; expected "
                 f"{score:.6g} = log P / L**alpha with L = {len(tokens)} generated tokens "
                 "(eos counted, bos not)")


BOOK_ROWS = [  # the book's figures: tokens A, B, C = 0, 1, 2, <eos> = 3, <bos> = 4
    ([], 0), ([0], 1), ([0, 1], 2), ([0, 2], 3), ([0, 1, 2], 4), ([0, 2, 1], 4)]
BOOK_PROBS = [[0.5, 0.25, 0.15, 0.1, 0.0], [0.1, 0.4, 0.3, 0.2, 0.0], [0.15, 0.25, 0.4, 0.2, 0.0],
              [0.1, 0.6, 0.1, 0.2, 0.0], [0.1, 0.2, 0.1, 0.6, 0.0], [0.26, 0.24, 0.27, 0.23, 0.0]]


def book_case(beam_size: int, max_len: int = 5) -> dict:
    table = torch.tensor(BOOK_PROBS, dtype=torch.float64).log()
    return {"kind": "rows", "rows": [list(r) for r in BOOK_ROWS], "table": table, "bos": 4,
            "eos": 3, "beam_size": beam_size, "max_len": max_len, "alpha": None}


@exercise("beam_search")
def test_beam_search_book_example(student, device):
    cases = [book_case(1), book_case(2), book_case(3, max_len=4)]
    answers = _beam({"beam_search": trace_search}, cases, "cpu")
    if min(a[2] for a in answers) < GAP:
        raise RuntimeError("the book's example has a near-tie")
    _expect_beams(student, cases, answers, device,
                  hint="the book's example: greedy finds A B C <eos>, a beam of 2 A C B <eos>")


FINISHED_ROWS = [([], 0), ([1], 1), ([1, 1], 1)]  # A, B, <eos>, <bos> = 0, 1, 2, 3
FINISHED_PROBS = [[0.35, 0.2, 0.45, 0.0], [0.005, 0.985, 0.01, 0.0], [0.35, 0.25, 0.4, 0.0]]


@exercise("beam_search")
def test_finished_sequences_take_places_in_the_beam(student, device):
    # <eos> (0.45) and A (0.35) fill a beam of 2 at step 1, so B (0.2), which would lead to
    # B B <eos> (the best score of all), is dropped: the specification finds <eos> alone.
    case = {"kind": "rows", "rows": [list(r) for r in FINISHED_ROWS], "bos": 3, "eos": 2,
            "table": torch.tensor(FINISHED_PROBS, dtype=torch.float64).log(), "beam_size": 2,
            "max_len": 3, "alpha": None}
    answers = _beam({"beam_search": trace_search}, [case], "cpu")
    if answers[0][2] < GAP:
        raise RuntimeError("the hand-made table has a near-tie")
    _expect_beams(student, [case], answers, device,
                  hint="a kept extension that ends with eos takes one of the beam_size places "
                       "at its step, then leaves the beam")


@exercise("beam_search")
def test_beam_size_one_is_greedy(student, gen, device):
    cases, answers = [], []
    for vocab, max_len, kind in ((5, 6, "markov"), (6, 5, "prefix"), (4, 7, "markov")):
        case, answer = _fresh(gen, lambda v=vocab, m=max_len, k=kind: markov_case(gen, v, 1, m,
                                                                                  kind=k))
        cases.append(case)
        answers.append(answer)
    _expect_beams(student, cases, answers, device,
                  hint="with beam_size=1 beam search is greedy decoding")


@exercise("beam_search", weight=2)
def test_wide_beam_is_exhaustive_search(student, gen, device):
    cases, answers = [], []
    for vocab, max_len, kind in ((3, 4, "markov"), (4, 3, "prefix"), (4, 4, "prefix")):
        def draw(v=vocab, m=max_len, k=kind):
            return markov_case(gen, v, v ** m, m, kind=k, alpha=0.75)

        def exhaustive(case, answer):
            oracle = _beam({"beam_search": exhaustive_search}, [case], "cpu")[0]
            return oracle[0] == answer[0] and oracle[2] >= GAP

        case, answer = _fresh(gen, draw, exhaustive)
        cases.append(case)
        answers.append(answer)
    _expect_beams(student, cases, answers, device,
                  hint="a beam as wide as all sequences searches exhaustively")


@exercise("beam_search")
def test_length_penalty(student, gen, device):
    def differs(case, answer):
        others = [_beam({"beam_search": exhaustive_search}, [dict(case, alpha=a)], "cpu")[0]
                  for a in (0.0, 1.0)]
        return others[0][0] != others[1][0] and min(o[2] for o in others) >= GAP

    case, _answer = _fresh(gen, lambda: markov_case(gen, 4, 4 ** 4, 4, eos_boost=1.0), differs)
    cases = [dict(case, alpha=alpha) for alpha in (0.0, 1.0, None)]
    answers = _beam({"beam_search": trace_search}, cases, "cpu")
    _expect_beams(student, cases, answers, device,
                  hint="alpha=0 ranks by log P alone, alpha=1 by log P per token")


def _random_chains(gen: torch.Generator) -> tuple[list[dict], list]:
    def finished_early(case, answer):
        tokens = answer[0]
        return tokens[-1] == case["eos"] and len(tokens) < case["max_len"] - 1

    def beats_greedy(case, answer):
        greedy = _beam({"beam_search": trace_search}, [dict(case, beam_size=1)], "cpu")[0]
        return greedy[0] != answer[0] and greedy[2] >= GAP

    cases, answers = [], []
    for vocab, beam, max_len, kind, accept in (
            (6, 2, 6, "markov", finished_early), (5, 3, 5, "prefix", beats_greedy),
            (7, 3, 6, "prefix", finished_early), (5, 2, 6, "markov", beats_greedy)):
        case, answer = _fresh(gen, lambda v=vocab, b=beam, m=max_len, k=kind:
                              markov_case(gen, v, b, m, kind=k, alpha=0.75), accept)
        cases.append(case)
        answers.append(answer)
    return cases, answers


@exercise("beam_search", weight=2)
def test_random_step_functions(student, gen, device):
    cases, answers = _random_chains(gen)
    _expect_beams(student, cases, answers, device)


@exercise("beam_search")
@pytest.mark.gpu
def test_beam_search_with_cuda_step_functions(student, gen):
    cases, answers = _random_chains(gen)
    _expect_beams(student, cases, answers, "cuda",
                  hint="the step function returns log-probabilities on CUDA: keep the scores "
                       "and prefixes on their device")
