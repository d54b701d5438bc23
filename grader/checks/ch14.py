"""Hidden checks for ch14, Natural language processing: pretraining (自然语言处理：预训练).

Random choices are checked by statistics over many draws (``grader.engine.stats``, false-failure
budget 1e-7 per check) after seeding Python's ``random`` in the sandbox, so any correct way of
drawing passes; everything else exactly on small inputs. A grader vocabulary with the book's
interface stands in for ``Vocab``. ``get_negatives`` runs with a grader ``RandomGenerator``,
``_get_mlm_data_from_tokens`` with a grader ``_replace_mlm_tokens``, the BERT classes with
grader versions of ``EncoderBlock`` and of each other, so one mistake costs points once. The
modules are graded by their state-dict names and shapes, then by outputs and gradients with
randomised float64 weights loaded, in evaluation mode.
"""

import collections
import contextlib
import math
import random

import pytest
import torch

import solutions.ch14 as ref
from grader.engine import stats
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_equal, expect_tensor, fail, mapping, sequence
from grader.engine.plugin import Exercise, exercise
from grader.engine.words import say
from grader.i18n import _

EXERCISES = {
    "subsample": Exercise(points=2),
    "get_centers_and_contexts": Exercise(points=2),
    "RandomGenerator": Exercise(points=1),
    "get_negatives": Exercise(points=3),
    "batchify": Exercise(points=2),
    "skip_gram": Exercise(points=2),
    "SigmoidBCELoss": Exercise(points=2),
    "get_max_freq_pair": Exercise(points=1),
    "merge_symbols": Exercise(points=2),
    "segment_BPE": Exercise(points=2),
    "get_tokens_and_segments": Exercise(points=1),
    "BERTEncoder": Exercise(points=3),
    "MaskLM": Exercise(points=3),
    "NextSentencePred": Exercise(points=1),
    "BERTModel": Exercise(points=3),
    "_get_next_sentence": Exercise(points=2),
    "_replace_mlm_tokens": Exercise(points=3),
    "_get_mlm_data_from_tokens": Exercise(points=2),
    "_pad_bert_inputs": Exercise(points=2),
    "_get_batch_loss_bert": Exercise(points=2),
}

ALPHA = 1e-7
trusted = contextlib.nullcontext  # the scenarios' ``trusted`` when the grader runs them itself


# --- the data scenarios: one function, so the grader vocabulary is written once ---------------


def _data(ns, kind, spec, seed):
    """Run one data-pipeline exercise in the sandbox as ``kind`` says; return plain data."""
    import collections
    import random

    class Words:
        """A vocabulary with the book's interface: ``<unk>`` at 0."""

        def __init__(self, tokens):
            self.idx_to_token = list(tokens)
            self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

        def __len__(self):
            return len(self.idx_to_token)

        def __getitem__(self, tokens):
            if isinstance(tokens, (list, tuple)):
                return [self.__getitem__(t) for t in tokens]
            return self.token_to_idx.get(tokens, 0)

        def to_tokens(self, indices):
            if isinstance(indices, (list, tuple)):
                return [self.idx_to_token[int(i)] for i in indices]
            return self.idx_to_token[int(indices)]

        @property
        def unk(self):
            return 0

    random.seed(seed)
    torch.manual_seed(seed)
    vocab = Words(spec["vocab"]) if "vocab" in spec else None
    if kind == "subsample":
        out, counter = ns["subsample"]([list(line) for line in spec["sentences"]], vocab)
        return {"sentences": out, "counter": dict(counter)}
    if kind == "contexts":
        centers, contexts = ns["get_centers_and_contexts"](spec["corpus"], spec["window"])
        return {"centers": list(centers), "contexts": [list(c) for c in contexts]}
    if kind == "generator":
        generator = ns["RandomGenerator"](list(spec["weights"]))
        return [generator.draw() for _ in range(spec["draws"])]
    if kind == "negatives":
        made = []

        class GraderRandomGenerator:
            def __init__(self, sampling_weights):
                self.weights = list(sampling_weights)
                made.append(self.weights)

            def draw(self):
                with trusted():  # noqa: F821 - the scenario scope provides it
                    population = range(1, len(self.weights) + 1)
                    return random.choices(population, self.weights)[0]

        saved = ns.get("RandomGenerator")
        ns["RandomGenerator"] = GraderRandomGenerator
        try:
            out = ns["get_negatives"](spec["contexts"], vocab,
                                      collections.Counter(spec["counter"]), spec["K"])
        finally:
            if saved is None:
                ns.pop("RandomGenerator", None)
            else:
                ns["RandomGenerator"] = saved
        return {"negatives": [list(n) for n in out], "weights": made}
    if kind == "next":
        paragraphs = [[list(s) for s in p] for p in spec["paragraphs"]]
        out = []
        for _ in range(spec["draws"]):
            a, b, is_next = ns["_get_next_sentence"](list(spec["a"]), list(spec["b"]),
                                                     paragraphs)
            out.append([list(a), list(b), is_next])
        return out
    if kind == "replace":
        out = []
        for _ in range(spec["draws"]):
            tokens = list(spec["tokens"])
            corrupted, pairs = ns["_replace_mlm_tokens"](tokens, list(spec["candidates"]),
                                                         spec["num"], vocab)
            out.append([list(corrupted), [list(p) for p in pairs], tokens == spec["tokens"]])
        return out
    if kind == "mlm":
        calls = []

        def grader_replace(tokens, candidate_pred_positions, num_mlm_preds, vocab_):
            with trusted():  # noqa: F821 - the scenario scope provides it
                calls.append([list(tokens), list(candidate_pred_positions), num_mlm_preds,
                              vocab_ is vocab])
                corrupted = list(tokens)
                pairs = []
                taken = [p for p in spec["replace_order"] if p in candidate_pred_positions]
                for p in sorted(taken[:num_mlm_preds], reverse=True):
                    corrupted[p] = spec["replace_with"]
                    pairs.append((p, tokens[p]))
                return corrupted, pairs

        saved = ns.get("_replace_mlm_tokens")
        ns["_replace_mlm_tokens"] = grader_replace
        try:
            result = ns["_get_mlm_data_from_tokens"](list(spec["tokens"]), vocab)
        finally:
            ns["_replace_mlm_tokens"] = saved
        return {"result": [list(r) if isinstance(r, (list, tuple)) else r for r in result],
                "calls": calls}
    if kind == "pad":
        examples = [(list(a), list(b), list(c), list(d), e) for a, b, c, d, e in spec["examples"]]
        return [list(column) for column in ns["_pad_bert_inputs"](examples, spec["max_len"],
                                                                   vocab)]
    raise ValueError(kind)


def _local(kind, spec, seed):
    """``_data`` on the reference solutions, in this process (Python's RNG state restored)."""
    state = random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            return _data(vars(ref), kind, spec, seed)
    finally:
        random.setstate(state)


def _seed(gen):
    return int(torch.randint(0, 2 ** 31 - 1, (), generator=gen))


# --- 14.3 subsample -------------------------------------------------------------------------------


def _subsample_spec(gen):
    counts = {"the": 6000, "of": 3000, "cat": 800, "sat": 150, "mat": 40, "rare": 3}
    words = [w for w, n in counts.items() for _ in range(n)]
    unknown = ["zzz"] * 1000 + ["qqq"] * 500
    pool = words + unknown
    order = torch.randperm(len(pool), generator=gen).tolist()
    shuffled = [pool[i] for i in order]
    sentences, i = [], 0
    while i < len(shuffled):
        n = int(torch.randint(0, 25, (), generator=gen))
        sentences.append(shuffled[i:i + n])
        i += n
    return {"vocab": ["<unk>", *counts], "sentences": sentences}, counts


@exercise("subsample", weight=2)
def test_subsample_keeps_words_with_the_books_probability(student, gen):
    spec, counts = _subsample_spec(gen)
    what = (f"subsample(sentences, vocab) on {len(spec['sentences'])} sentences with "
            f"{sum(counts.values())} known tokens (counts {counts}) and 1500 unknown ones")
    got = mapping(student.scenario(_data, "subsample", spec, _seed(gen), what=what), what)
    expect_equal(got.get("counter"), counts, what=f"the counter of {what} (unknown tokens "
                 "removed before counting)")
    out = sequence(got.get("sentences"), what)
    expect(len(out) == len(spec["sentences"]), f"{what} returned {len(out)} sentences; "
           f"expected {len(spec['sentences'])} (keep empty ones, in order)")
    for k, (line, source) in enumerate(zip(out, spec["sentences"])):
        it = iter([t for t in source if t in counts])
        if not all(any(t == s for s in it) for t in sequence(line, what)):
            fail(f"sentence {k} of {what} is {line}, not the known tokens of {source} in order "
                 "with some dropped")
    total = sum(counts.values())
    kept = collections.Counter(t for line in out for t in line)
    for word, n in counts.items():
        p = min(1.0, math.sqrt(1e-4 / (n / total)))
        stats.expect_count(kept[word], n, p, what=what,
                           event=say(_("kept {word}")).format(word=repr(word)),
                           alpha=stats.split(ALPHA, len(counts)),
                           hint=_("keep with probability sqrt(1e-4 / f), f = count / "
                                  "num_tokens over the known tokens"))


# --- 14.3 get_centers_and_contexts ---------------------------------------------------------------


@exercise("get_centers_and_contexts", weight=2)
def test_centers_and_contexts_structure_and_window_sizes(student, gen):
    window = 3
    lengths = [30] * 60 + [0, 1, 2, 3, 5]
    perm = torch.randperm(len(lengths), generator=gen).tolist()
    corpus, start = [], 1
    for k in perm:
        corpus.append(list(range(start, start + lengths[k])))
        start += lengths[k]
    what = (f"get_centers_and_contexts(corpus, {window}) on {len(corpus)} sentences of "
            f"distinct indices, lengths {sorted(set(lengths))}")
    got = mapping(student.scenario(_data, "contexts", {"corpus": corpus, "window": window},
                                   _seed(gen), what=what), what)
    centers, contexts = sequence(got.get("centers"), what), sequence(got.get("contexts"), what)
    wanted = [t for line in corpus if len(line) >= 2 for t in line]
    expect_equal(centers, wanted, what=f"the centres of {what} (every token of the sentences "
                 "with at least 2 tokens, in order)")
    expect(len(contexts) == len(wanted), f"{what} returned {len(contexts)} context lists for "
           f"{len(wanted)} centres")
    where = {t: (line, i) for line in corpus for i, t in enumerate(line)}
    sizes = [0] * window
    for center, context in zip(wanted, contexts):
        line, i = where[center]
        options = [w for w in range(1, window + 1)
                   if list(context) == line[max(0, i - w):i] + line[i + 1:i + 1 + w]]
        if not options:
            fail(f"{what}: centre {center} (position {i} of a sentence of {len(line)}) got "
                 f"contexts {list(context)}; expected line[i - w:i] + line[i + 1:i + 1 + w] "
                 f"for a window size w in 1..{window} (the centre itself excluded)")
        if window <= i < len(line) - window:
            sizes[options[0] - 1] += 1
    stats.expect_frequencies(sizes, [1.0] * window, what=f"the window sizes of {what} "
                             "(centres far from both ends)", alpha=ALPHA,
                             hint=say(_("draw w = random.randint(1, {window}) for every "
                                        "centre")).format(window=window))


# --- 14.3 RandomGenerator -------------------------------------------------------------------------


@exercise("RandomGenerator")
def test_random_generator_draws_with_the_weights(student, gen):
    weights = [3.0, 0.0, 1.0, 5.5, 1.5, 2.0]
    spec = {"weights": weights, "draws": 12000}
    what = f"RandomGenerator({weights}).draw() called 12000 times"
    draws = sequence(student.scenario(_data, "generator", spec, _seed(gen), what=what), what)
    bad = [d for d in draws if d not in range(1, len(weights) + 1)]
    expect(not bad, f"{what} returned {bad[:3]}; expected integers 1..{len(weights)} (index 0, "
           "the unknown token, is never drawn)")
    counts = collections.Counter(draws)
    stats.expect_frequencies([counts[k] for k in range(1, len(weights) + 1)], weights,
                             what=what, alpha=ALPHA,
                             hint=_("k in 1..n with probability sampling_weights[k - 1] / sum"))


# --- 14.3 get_negatives ---------------------------------------------------------------------------


def _negatives_spec(gen):
    words = ["a", "b", "c", "d", "e", "f"]
    counts = [40, 300, 7, 120, 1000, 60]
    order = torch.randperm(len(words), generator=gen).tolist()
    vocab = ["<unk>"] + [words[i] for i in order]
    counter = {w: n for w, n in zip(words, counts)}
    first = [vocab.index("e")]
    second = [vocab.index("b"), vocab.index("d")]
    contexts = [first, second] * 150 + [[vocab.index("c")]]
    return {"vocab": vocab, "counter": counter, "contexts": contexts, "K": 5}


@exercise("get_negatives", weight=2)
def test_get_negatives_noise_distribution(student, gen):
    spec = _negatives_spec(gen)
    vocab, counter = spec["vocab"], spec["counter"]
    what = (f"get_negatives(all_contexts, vocab, counter, K=5) with counter {counter}, "
            f"vocab.idx_to_token {vocab} and {len(spec['contexts'])} context lists "
            "(a grader RandomGenerator)")
    got = mapping(student.scenario(_data, "negatives", spec, _seed(gen), what=what), what)
    negatives = sequence(got.get("negatives"), what)
    expect(len(negatives) == len(spec["contexts"]), f"{what} returned {len(negatives)} lists; "
           f"expected one per context list, {len(spec['contexts'])}")
    pools = ([0] * len(vocab), [0] * len(vocab))
    for k, (contexts, noise) in enumerate(zip(spec["contexts"], negatives)):
        noise = sequence(noise, what)
        expect(len(noise) == 5 * len(contexts), f"{what}: context list {k} ({contexts}) got "
               f"{len(noise)} noise words; expected len(contexts) * K = {5 * len(contexts)}")
        for n in noise:
            expect(n in range(1, len(vocab)), f"{what}: noise word {n!r} is not an index "
                   f"1..{len(vocab) - 1}")
            expect(n not in contexts, f"{what}: context list {k} ({contexts}) got its own "
                   f"context word {n} as noise; draw again when a draw is a context word")
            if k < 300:
                pools[k % 2][n] += 1
    weights = [0.0] + [counter[w] ** 0.75 for w in vocab[1:]]
    for pool, contexts in zip(pools, (spec["contexts"][0], spec["contexts"][1])):
        allowed = [0.0 if i in contexts else w for i, w in enumerate(weights)]
        stats.expect_frequencies(pool, allowed, what=f"the noise words of {what} for context "
                                 f"{contexts}", alpha=ALPHA / 2,
                                 hint=_("sampling weight of index i: counter[vocab.to_tokens(i)] "
                                        "** 0.75, for i in 1..len(vocab) - 1"))


# --- 14.3 batchify --------------------------------------------------------------------------------


@exercise("batchify", weight=2)
def test_batchify_pads_and_marks(student, gen):
    for B in (3, 5):
        data = []
        for _row in range(B):
            c = int(torch.randint(1, 5, (), generator=gen))
            n = int(torch.randint(0, 9, (), generator=gen))
            data.append((int(torch.randint(1, 50, (), generator=gen)),
                         torch.randint(1, 50, (c,), generator=gen).tolist(),
                         torch.randint(1, 50, (n,), generator=gen).tolist()))
        expected = ref.batchify(data)
        what = f"batchify(data) with data = {data}"
        got = sequence(student.result("batchify", data, what=what), what)
        expect(len(got) == 4, f"{what} returned {len(got)} items; expected (centers, "
               "contexts_negatives, masks, labels)")
        for name, g, e in zip(("centers", "contexts_negatives", "masks", "labels"), got,
                              expected):
            expect_tensor(g, e, what=f"{name} of {what}", hint=_("int64 tensors; centers of "
                          "shape (B, 1), the others (B, max_len), padded with 0"))


# --- 14.4 skip_gram and SigmoidBCELoss ------------------------------------------------------------


def _skip_gram_run(ns, center, cn, wv, wu, grad):
    ev = torch.nn.Embedding(*wv.shape).to(wv.device, wv.dtype)
    eu = torch.nn.Embedding(*wu.shape).to(wu.device, wu.dtype)
    with torch.no_grad():
        ev.weight.copy_(wv)
        eu.weight.copy_(wu)
    out = ns["skip_gram"](center, cn, ev, eu)
    info = {"result": out}
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == grad.shape:
        with trusted():  # noqa: F821 - the scenario scope provides it
            out.backward(grad)
        info["grads"] = [ev.weight.grad, eu.weight.grad]
    return info


def _skip_gram_case(student, gen, device):
    B, L, V, d = 4, 6, 12, 5
    center = torch.randint(0, V, (B, 1), generator=gen).to(device)
    cn = torch.randint(0, V, (B, L), generator=gen).to(device)
    wv, wu = st.normal(gen, V, d).to(device), st.normal(gen, V, d).to(device)
    grad = st.normal(gen, B, 1, L).to(device)
    expected = _skip_gram_run(vars(ref), center, cn, wv.clone().requires_grad_(False), wu, grad)
    what = (f"skip_gram(center {tuple(center.shape)}, contexts_and_negatives "
            f"{tuple(cn.shape)}, embed_v, embed_u) with two float64 embeddings of "
            f"{V} x {d} on {device}")
    got = mapping(student.scenario(_skip_gram_run, center, cn, wv, wu, grad, what=what), what)
    expect_tensor(got.get("result"), expected["result"].detach(), what=f"the output of {what}",
                  hint=_("torch.bmm(embed_v(center), embed_u(contexts_and_negatives)"
                         ".permute(0, 2, 1)), shape (B, 1, L)"))
    grads = got.get("grads")
    if grads is None:
        fail(f"the output of {what} is not differentiable")
    for name, g, e in zip(("embed_v", "embed_u"), grads, expected["grads"]):
        if g is None:
            fail(f"{name}.weight got no gradient from {what}")
        expect_tensor(g, e, what=f"the gradient of {name}.weight in {what}")


@exercise("skip_gram", weight=2)
def test_skip_gram_values_and_gradients(student, gen):
    _skip_gram_case(student, gen, "cpu")


@exercise("skip_gram")
@pytest.mark.gpu
def test_skip_gram_on_cuda(student, gen):
    _skip_gram_case(student, gen, "cuda")


def _bce_run(ns, inputs, target, mask, grad):
    loss = ns["SigmoidBCELoss"]()
    leaf = inputs.clone().requires_grad_(True)
    out = loss(leaf, target) if mask is None else loss(leaf, target, mask)
    info = {"result": out}
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == grad.shape:
        with trusted():  # noqa: F821 - the scenario scope provides it
            out.backward(grad)
        info["grad"] = leaf.grad
    return info


@exercise("SigmoidBCELoss", weight=2)
def test_sigmoid_bce_loss_values_and_gradients(student, gen):
    B, L = 4, 7
    for masked in (True, False):
        inputs = st.normal(gen, B, L, scale=2.0)
        target = (torch.rand(B, L, generator=gen) < 0.4).double()
        lengths = torch.tensor([7, 5, 3, 6])
        mask = (torch.arange(L)[None, :] < lengths[:, None]).long() if masked else None
        grad = st.normal(gen, B)
        expected = _bce_run(vars(ref), inputs, target, mask, grad)
        what = (f"SigmoidBCELoss()(inputs {B}x{L} float64, target of 0/1, "
                + ("mask of int64 0/1 with row lengths [7, 5, 3, 6])" if masked
                   else "no mask)"))
        got = mapping(student.scenario(_bce_run, inputs, target, mask, grad, what=what,
                                       name="SigmoidBCELoss"), what)
        expect_tensor(got.get("result"), expected["result"].detach(), what=f"the loss of {what}",
                      hint=_("binary cross-entropy with logits times the mask, then .mean(dim=1) "
                             "over all L entries, shape (B,)"))
        if got.get("grad") is None:
            fail(f"the loss of {what} is not differentiable with respect to inputs")
        expect_tensor(got["grad"], expected["grad"], what=f"the gradient of {what} with "
                      "respect to inputs")


# --- 14.6 byte pair encoding ----------------------------------------------------------------------


def _bpe_freqs(gen, n_tokens=6):
    letters = "abcdlr"
    freqs = {}
    while len(freqs) < n_tokens:
        n = int(torch.randint(2, 7, (), generator=gen))
        word = "".join(letters[i] for i in torch.randint(0, len(letters), (n,), generator=gen))
        freqs[" ".join(word) + " _"] = int(torch.randint(1, 12, (), generator=gen))
    return freqs


def _pair_counts(freqs):
    pairs = collections.Counter()
    for token, f in freqs.items():
        s = token.split()
        for a, b in zip(s, s[1:]):
            pairs[a, b] += f
    return pairs


@exercise("get_max_freq_pair")
def test_get_max_freq_pair(student, gen):
    cases = [{"t a l l _": 5, "t a l l e r _": 4, "f a s t _": 4, "f a s t e r _": 3},
             {"x y _": 3, "y _": 9, "a x _": 1}]
    while len(cases) < 6:
        freqs = _bpe_freqs(gen)
        top = _pair_counts(freqs).most_common(2)
        if top[0][1] > top[1][1]:
            cases.append(freqs)
    for freqs in cases:
        what = f"get_max_freq_pair({freqs})"
        got = student.result("get_max_freq_pair", freqs, what=what)
        expect_equal(got, ref.get_max_freq_pair(freqs), what=what)


def _merge_agrees(pair, freqs):
    for token in freqs:
        s, out, i = token.split(), [], 0
        while i < len(s):
            if i + 1 < len(s) and (s[i], s[i + 1]) == pair:
                out.append(s[i] + s[i + 1])
                i += 2
            else:
                out.append(s[i])
                i += 1
        if " ".join(out) != token.replace(" ".join(pair), "".join(pair)):
            return False
    return True


@exercise("merge_symbols", weight=2)
def test_merge_symbols(student, gen):
    cases = [(("l", "l"), {"l l a l l _": 2, "b a l l _": 3, "l o w _": 1}),
             (("t", "a"), {"t a l l _": 5, "t a l l e r _": 4, "f a s t _": 4})]
    while len(cases) < 5:
        freqs = _bpe_freqs(gen)
        pair = ref.get_max_freq_pair(freqs)
        if _merge_agrees(pair, freqs):
            cases.append((pair, freqs))
    for pair, freqs in cases:
        symbols = list("abcdlrtxyz_")
        what = f"merge_symbols({pair}, {freqs}, symbols)"
        answer = student.call("merge_symbols", pair, freqs, symbols, return_args=True, what=what)
        expected_symbols = list(symbols)
        expected = ref.merge_symbols(pair, freqs, expected_symbols)
        got = mapping(answer["result"], what)
        expect_equal(list(got), list(expected), what=f"the tokens (keys, in order) of {what}")
        expect_equal(got, expected, what=f"the result of {what}")
        expect_equal(answer["args"][2], expected_symbols, what=f"symbols after {what} (append "
                     "the merged symbol in place)")


@exercise("segment_BPE", weight=2)
def test_segment_bpe(student, gen):
    symbols = list("abcdefghijklmnopqrstuvwxyz") + ["_", "[UNK]", "ta", "tal", "tall", "fa",
                                                     "fas", "fast", "er", "er_", "tall_",
                                                     "fast_"]
    cases = [(["tallest_", "fatter_"], symbols),
             (["fastest_", "tall_", "taller_", "ab#c_"], symbols),
             (["abab", "aab", "abc"], ["a", "ab", "aba", "b", "c", "[UNK]"]),
             (["xyz", "xay"], ["x", "xa", "y"])]
    for tokens, syms in cases:
        what = f"segment_BPE({tokens}, {syms})"
        got = student.result("segment_BPE", tokens, list(syms), what=what)
        expect_equal(got, ref.segment_BPE(tokens, syms), what=what)


# --- 14.8 BERT ------------------------------------------------------------------------------------


@exercise("get_tokens_and_segments")
def test_get_tokens_and_segments(student, gen):
    for a, b in ((["a", "b", "c"], ["d", "e"]), (["x"], None), (["p", "q"], [])):
        what = f"get_tokens_and_segments({a}, {b})"
        got = student.result("get_tokens_and_segments", a, b, what=what)
        expect_equal(got, ref.get_tokens_and_segments(a, b), what=what)


def _bert(ns, name, args, kwargs, state, inputs, grads, seed, device):
    """Build ``name(*args, **kwargs)`` with grader versions of the other BERT parts in ``ns``;
    load ``state`` (or, when None, randomise the weights from ``seed``); run it in evaluation
    mode on ``inputs`` and backpropagate ``grads`` (one per tensor output)."""
    import math

    class GraderEncoderBlock(torch.nn.Module):
        def __init__(self, key_size, query_size, value_size, num_hiddens, norm_shape,
                     ffn_num_input, ffn_num_hiddens, num_heads, dropout, use_bias=False,
                     **kwargs):  # the book's names, for callers that pass keywords
            super().__init__()
            width, shape = num_hiddens, norm_shape
            self.heads = num_heads
            self.attention = torch.nn.Module()
            for part, size in (("W_q", query_size), ("W_k", key_size), ("W_v", value_size),
                               ("W_o", width)):
                setattr(self.attention, part, torch.nn.Linear(size, width, bias=use_bias))
            self.addnorm1 = torch.nn.Module()
            self.addnorm1.ln = torch.nn.LayerNorm(shape)
            self.ffn = torch.nn.Module()
            self.ffn.dense1 = torch.nn.Linear(ffn_num_input, ffn_num_hiddens)
            self.ffn.dense2 = torch.nn.Linear(ffn_num_hiddens, width)
            self.addnorm2 = torch.nn.Module()
            self.addnorm2.ln = torch.nn.LayerNorm(shape)

        def forward(self, X, valid_lens):
            with trusted():  # noqa: F821 - the scenario scope provides it
                a, b, n = self.attention, X.shape[0], self.heads

                def heads(t):
                    return t.reshape(b, t.shape[1], n, -1).transpose(1, 2)

                q, k, v = heads(a.W_q(X)), heads(a.W_k(X)), heads(a.W_v(X))
                scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
                if valid_lens is not None:
                    seen = torch.arange(X.shape[1], device=X.device)[None, :] < \
                        valid_lens.reshape(-1)[:, None]
                    scores = scores.masked_fill(~seen[:, None, None, :], -1e6)
                mixed = scores.softmax(dim=-1) @ v
                Y = self.addnorm1.ln(X + a.W_o(mixed.transpose(1, 2).reshape(X.shape)))
                Z = self.ffn.dense2(torch.relu(self.ffn.dense1(Y)))
                return self.addnorm2.ln(Y + Z)

    class GraderBERTEncoder(torch.nn.Module):
        def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input,
                     ffn_num_hiddens, num_heads, num_layers, dropout, max_len=1000,
                     key_size=768, query_size=768, value_size=768, **kwargs):
            super().__init__()
            width = num_hiddens
            self.token_embedding = torch.nn.Embedding(vocab_size, width)
            self.segment_embedding = torch.nn.Embedding(2, width)
            sizes = (key_size, query_size, value_size, width, norm_shape, ffn_num_input,
                     ffn_num_hiddens, num_heads, dropout, True)
            self.blks = torch.nn.Sequential(*[GraderEncoderBlock(*sizes)
                                              for _ in range(num_layers)])
            self.pos_embedding = torch.nn.Parameter(torch.zeros(1, max_len, width))

        def forward(self, tokens, segments, valid_lens):
            with trusted():  # noqa: F821 - the scenario scope provides it
                T = tokens.shape[1]
                X = self.pos_embedding[:, :T] + self.segment_embedding(segments) \
                    + self.token_embedding(tokens)
            for blk in self.blks:
                X = blk(X, valid_lens)
            return X

    class GraderMaskLM(torch.nn.Module):
        def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
            super().__init__()
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(num_inputs, num_hiddens), torch.nn.ReLU(),
                torch.nn.LayerNorm(num_hiddens), torch.nn.Linear(num_hiddens, vocab_size))

        def forward(self, X, pred_positions):
            with trusted():  # noqa: F821 - the scenario scope provides it
                index = pred_positions[:, :, None].expand(-1, -1, X.shape[-1])
                return self.mlp(torch.gather(X, 1, index))

    class GraderNSP(torch.nn.Module):
        def __init__(self, num_inputs, **kwargs):
            super().__init__()
            self.output = torch.nn.Linear(num_inputs, 2)

        def forward(self, X):
            with trusted():  # noqa: F821 - the scenario scope provides it
                return torch.nn.functional.linear(X, self.output.weight, self.output.bias)

    graders = {"EncoderBlock": GraderEncoderBlock, "BERTEncoder": GraderBERTEncoder,
               "MaskLM": GraderMaskLM, "NextSentencePred": GraderNSP}
    saved = {k: ns.get(k) for k in graders if k != name}
    ns.update({k: v for k, v in graders.items() if k != name})
    try:
        module = ns[name](*args, **kwargs)
    finally:
        for k, v in saved.items():
            if v is None:
                ns.pop(k, None)
            else:
                ns[k] = v
    info = {"module": isinstance(module, torch.nn.Module)}
    if not info["module"]:
        return info
    info["keys"] = {k: list(v.shape) for k, v in module.state_dict().items()}
    module = module.double().to(device)
    if state is None:
        g = torch.Generator().manual_seed(seed)
        state = {k: (torch.randn(v.shape, generator=g, dtype=torch.float64) * 0.5).to(device)
                 for k, v in module.state_dict().items()}
    elif info["keys"] != {k: list(v.shape) for k, v in state.items()}:
        return info
    with trusted():  # noqa: F821 - the scenario scope provides it
        module.load_state_dict(state)
    info["state"] = state
    module.eval()
    leaves = [t.clone().requires_grad_(True) if isinstance(t, torch.Tensor)
              and t.is_floating_point() else t for t in inputs]
    out = module(*leaves)
    info["result"] = out
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o is not None]
    pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, torch.Tensor)
             and o.requires_grad and o.shape == g.shape]
    if pairs and len(pairs) == len(grads):
        with trusted():  # noqa: F821 - the scenario scope provides it
            module.zero_grad(set_to_none=True)
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
        info["input_grads"] = [t.grad if isinstance(t, torch.Tensor) else None for t in leaves]
    return info


def _bert_on_reference(name, args, kwargs, inputs, seed, grads):
    """The reference module, built with the grader's versions of the other parts (patched into
    ``solutions.ch14`` for the call, as the sandbox does for the notebook), on ``inputs``."""
    info = _bert(vars(ref), name, args, kwargs, None, inputs, grads, seed, "cpu")
    result = info["result"]
    info["outs"] = [o for o in (result if isinstance(result, tuple) else (result,))
                    if isinstance(o, torch.Tensor)]
    info.setdefault("param_grads", {})
    info.setdefault("input_grads", [None] * len(inputs))
    return info


def _expect_bert(student, gen, name, args, kwargs, inputs, labels, *, what, hint="",
                 device="cpu"):
    seed = _seed(gen)
    first = _bert_on_reference(name, args, kwargs, inputs, seed, [])
    grads = [st.normal(gen, *o.shape) for o in first["outs"]]
    expected = _bert_on_reference(name, args, kwargs, inputs, seed, grads)
    moved = [t.to(device) if isinstance(t, torch.Tensor) else t for t in inputs]
    state = {k: v.to(device) for k, v in expected["state"].items()}
    got = mapping(student.scenario(_bert, name, list(args), kwargs, state, moved,
                                   [g.to(device) for g in grads], seed, device, what=what,
                                   name=name), what)
    expect(got.get("module"), f"{what} is not an nn.Module: subclass nn.Module and call "
           "super().__init__()")
    want = expected["keys"]
    keys = got.get("keys")
    if keys != want:
        missing = sorted(set(want) - set(keys))
        extra = sorted(set(keys) - set(want))
        shapes = sorted((k, keys[k], want[k]) for k in set(want) & set(keys) if keys[k] != want[k])
        fail(f"{what}'s parameters differ from the specification: "
             + "; ".join(part for part in (
                 f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
                 f"other shapes (name, yours, expected) {shapes}" if shapes else "") if part)
             + " (use the submodule names and sizes the docstring gives)")
    text = ", ".join(f"{n} of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor)
                     else f"{n}={t}" for n, t in zip(labels, inputs)) + \
        f", evaluation mode, the grader's float64 weights, on {device}"
    outs = expected["outs"]
    result = got.get("result")
    if isinstance(expected["result"], tuple):
        result = sequence(result, what)
        expect(len(result) == len(expected["result"]), f"{what} returned {len(result)} "
               f"outputs; expected {len(expected['result'])}")
        for k, e in enumerate(expected["result"]):
            if e is None:
                expect(result[k] is None, f"output {k} of {what} should be None")
        result = [r for r, e in zip(result, expected["result"]) if e is not None]
    else:
        result = [result]
    for k, (g, e) in enumerate(zip(result, outs)):
        expect_tensor(g, e.detach().to(device), what=f"output {k} of {what}" if len(outs) > 1
                      else f"the output of {what}", inputs=text, hint=hint)
    if "param_grads" not in got:
        fail(f"the output of {what} is not differentiable, or has the wrong shape")
    for n, e in expected["param_grads"].items():
        g = got["param_grads"].get(n)
        if g is None and e is not None:
            fail(f"{what}'s parameter {n} got no gradient: the output does not depend on it"
                 + (" (add pos_embedding itself, not pos_embedding.data)"
                    if n.endswith("pos_embedding") else ""))
        if e is not None:
            expect_tensor(g, e.to(device), what=f"the gradient of {what}'s {n}", inputs=text)
    for label, g, e in zip(labels, got.get("input_grads", []), expected["input_grads"]):
        if e is not None:
            if g is None:
                fail(f"the output of {what} does not depend on its {label}")
            expect_tensor(g, e.to(device), what=f"the gradient of {what} with respect to "
                          f"{label}", inputs=text)
    return got


SMALL = {"vocab_size": 11, "num_hiddens": 8, "norm_shape": [8], "ffn_num_input": 8,
         "ffn_num_hiddens": 12, "num_heads": 2, "num_layers": 2, "dropout": 0.1}
SIZES = {"max_len": 9, "key_size": 8, "query_size": 8, "value_size": 8}


def _bert_inputs(gen, B=3, T=6):
    tokens = torch.randint(0, SMALL["vocab_size"], (B, T), generator=gen)
    split = torch.randint(1, T, (B,), generator=gen)
    segments = (torch.arange(T)[None, :] >= split[:, None]).long()
    valid_lens = torch.tensor([T, T - 2, T - 1][:B], dtype=torch.float64)
    return tokens, segments, valid_lens


def _encoder_case(student, gen, device):
    tokens, segments, valid_lens = _bert_inputs(gen)
    args = tuple(SMALL.values())
    what = (f"BERTEncoder(*{args}, **{SIZES}) on tokens {tuple(tokens.shape)}, valid_lens "
            f"{valid_lens.tolist()} (with a grader EncoderBlock)")
    _expect_bert(student, gen, "BERTEncoder", args, dict(SIZES), [tokens, segments, valid_lens],
                 ["tokens", "segments", "valid_lens"], what=what, device=device,
                 hint=_("token_embedding(tokens) + segment_embedding(segments) + "
                        "pos_embedding[:, :T, :], then each block of blks with valid_lens"))


@exercise("BERTEncoder", weight=2)
def test_bert_encoder_outputs_and_gradients(student, gen):
    _encoder_case(student, gen, "cpu")


@exercise("BERTEncoder")
@pytest.mark.gpu
def test_bert_encoder_on_cuda(student, gen):
    _encoder_case(student, gen, "cuda")


def _mask_lm_case(student, gen, device):
    B, T, d = 3, 7, 6
    X = st.normal(gen, B, T, d)
    positions = torch.randint(0, T, (B, 4), generator=gen)
    positions[0, 1] = positions[0, 0]
    what = (f"MaskLM(vocab_size=11, num_hiddens=5, num_inputs={d}) on X {(B, T, d)} and "
            f"pred_positions {positions.tolist()}")
    _expect_bert(student, gen, "MaskLM", (11, 5), {"num_inputs": d}, [X, positions],
                 ["X", "pred_positions"], what=what, device=device,
                 hint=_("gather X[b, pred_positions[b, j]] for every b and j (shape (B, P, "
                        "num_inputs)), then mlp"))


@exercise("MaskLM", weight=2)
def test_mask_lm_gathers_and_predicts(student, gen):
    _mask_lm_case(student, gen, "cpu")


@exercise("MaskLM")
@pytest.mark.gpu
def test_mask_lm_on_cuda(student, gen):
    _mask_lm_case(student, gen, "cuda")


@exercise("NextSentencePred")
def test_next_sentence_pred(student, gen):
    X = st.normal(gen, 4, 6)
    _expect_bert(student, gen, "NextSentencePred", (6,), {}, [X], ["X"],
                 what="NextSentencePred(6) on X of shape (4, 6)",
                 hint=_("one nn.Linear(num_inputs, 2) named output; no softmax"))


@exercise("BERTModel", weight=2)
def test_bert_model_outputs_and_gradients(student, gen):
    tokens, segments, valid_lens = _bert_inputs(gen)
    positions = torch.randint(0, tokens.shape[1], (3, 2), generator=gen)
    args = tuple(SMALL.values())
    kwargs = {**SIZES, "hid_in_features": 8, "mlm_in_features": 8, "nsp_in_features": 8}
    what = (f"BERTModel(*{args}, **{kwargs}) on tokens {tuple(tokens.shape)}, valid_lens "
            f"{valid_lens.tolist()}, pred_positions {positions.tolist()} (with grader "
            "BERTEncoder, MaskLM and NextSentencePred)")
    _expect_bert(student, gen, "BERTModel", args, kwargs,
                 [tokens, segments, valid_lens, positions],
                 ["tokens", "segments", "valid_lens", "pred_positions"], what=what,
                 hint=_("(encoded_X, mlm(encoded_X, pred_positions), "
                        "nsp(hidden(encoded_X[:, 0, :])))"))


@exercise("BERTModel")
def test_bert_model_without_pred_positions(student, gen):
    tokens, segments, _ = _bert_inputs(gen, B=2, T=5)
    args = tuple(SMALL.values())
    kwargs = {**SIZES, "hid_in_features": 8, "mlm_in_features": 8, "nsp_in_features": 8}
    _expect_bert(student, gen, "BERTModel", args, kwargs, [tokens, segments],
                 ["tokens", "segments"],
                 what=f"BERTModel(*{args}, **{kwargs})(tokens, segments) (valid_lens and "
                      "pred_positions left out: mlm_Y_hat is None)")


# --- 14.9 the BERT pretraining data ---------------------------------------------------------------


@exercise("_get_next_sentence", weight=2)
def test_next_sentence_half_of_the_time(student, gen):
    paragraphs = [[["p0s0"]], [["p1s0", "x"], ["p1s1"]], [["p2s0"], ["p2s1"], ["p2s2"],
                                                           ["p2s3", "y"]]]
    spec = {"paragraphs": paragraphs, "a": ["first"], "b": ["second", "one"], "draws": 6000}
    what = (f"_get_next_sentence(['first'], ['second', 'one'], paragraphs) called 6000 times, "
            f"paragraphs = {paragraphs}")
    got = sequence(student.scenario(_data, "next", spec, _seed(gen), what=what), what)
    sentences = [s for p in paragraphs for s in p]
    probs = [1 / len(paragraphs) / len(p) for p in paragraphs for _token in p]
    counts = [0] * len(sentences)
    trues = 0
    for a, b, is_next in got:
        expect(a == spec["a"], f"{what} returned {a} as the first sentence; expected it "
               "unchanged")
        expect(isinstance(is_next, bool), f"{what} returned is_next = {is_next!r}; expected "
               "True or False")
        if is_next:
            trues += 1
            expect(b == spec["b"], f"{what} returned is_next=True with {b}; expected the "
                   "given next_sentence")
        else:
            expect(b in sentences, f"{what} returned is_next=False with {b}, not a sentence "
                   "of paragraphs")
            counts[sentences.index(b)] += 1
    stats.expect_count(trues, len(got), 0.5, what=what, event=_("returned is_next=True"),
                       alpha=ALPHA / 2, hint=_("if random.random() < 0.5 keep next_sentence"))
    stats.expect_frequencies(counts, probs, what=f"the random sentences of {what}",
                             alpha=ALPHA / 2,
                             hint=_("random.choice(random.choice(paragraphs)): a paragraph "
                                    "first, then a sentence of it"))


MLM_VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", "the", "cat", "sat", "on", "mat",
             "dog", "ran"]


def _replace_spec(gen):
    words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "zebra", "quokka"]
    body = [words[i] for i in torch.randint(0, len(words), (14,), generator=gen)]
    tokens = ["<cls>"] + body[:8] + ["<sep>"] + body[8:] + ["<sep>"]
    candidates = [i for i, t in enumerate(tokens) if t not in ("<cls>", "<sep>")]
    return {"vocab": MLM_VOCAB, "tokens": tokens, "candidates": candidates, "num": 4,
            "draws": 1500}


@exercise("_replace_mlm_tokens", weight=2)
def test_replace_mlm_tokens_80_10_10(student, gen):
    spec = _replace_spec(gen)
    tokens, cands = spec["tokens"], spec["candidates"]
    what = (f"_replace_mlm_tokens(tokens, candidate_pred_positions, 4, vocab) called 1500 times "
            f"with tokens = {tokens}, candidates = {cands}, vocab.idx_to_token = {MLM_VOCAB}")
    got = sequence(student.scenario(_data, "replace", spec, _seed(gen), what=what), what)
    chosen = collections.Counter()
    outcomes = [0, 0, 0]
    expected = [0.0, 0.0, 0.0]
    V = len(MLM_VOCAB)
    for corrupted, pairs, unchanged in got:
        expect(unchanged, f"{what} changed its tokens argument; return a new list")
        expect(len(corrupted) == len(tokens), f"{what} returned {len(corrupted)} tokens; "
               f"expected {len(tokens)}")
        expect(len(pairs) == 4, f"{what} returned {len(pairs)} (position, label) pairs; "
               "expected num_mlm_preds = 4")
        positions = [p for p, _token in pairs]
        expect(len(set(positions)) == 4 and all(p in cands for p in positions),
               f"{what} returned positions {positions}; expected 4 distinct candidates")
        for p, label in pairs:
            expect(label == tokens[p], f"{what} returned the pair ({p}, {label!r}); the label "
                   f"is the original token {tokens[p]!r}")
        for i, (t, c) in enumerate(zip(tokens, corrupted)):
            if i not in positions:
                expect(t == c, f"{what} changed position {i} ({t!r} to {c!r}), which is not "
                       "one of the returned positions")
        for p in positions:
            chosen[p] += 1
            c, original = corrupted[p], tokens[p]
            in_vocab = original in MLM_VOCAB
            if c == "<mask>":
                outcomes[0] += 1
            elif c == original:
                outcomes[1] += 1
            else:
                expect(c in MLM_VOCAB, f"{what} put {c!r} at position {p}: a random "
                       "replacement comes from vocab.idx_to_token")
                outcomes[2] += 1
            expected[0] += 0.8 + 0.1 / V
            expected[1] += 0.1 + (0.1 / V if in_vocab else 0.0)
            expected[2] += 0.1 - 0.1 / V - (0.1 / V if in_vocab else 0.0)
    n = sum(outcomes)
    stats.expect_frequencies(outcomes, [e / n for e in expected],
                             what=f"the outcomes (<mask>, kept, random token) of {what}",
                             alpha=ALPHA / 2, hint=_("<mask> with probability 0.8, else the "
                             "token itself or random.choice(vocab.idx_to_token), 1/2 each"))
    stats.expect_frequencies([chosen[p] for p in cands], [1.0] * len(cands),
                             what=f"how often each candidate position is chosen in {what}",
                             alpha=ALPHA / 2, hint=_("random.shuffle(candidate_pred_positions) "
                             "and take the first num_mlm_preds"))


@exercise("_replace_mlm_tokens")
def test_replace_mlm_tokens_with_few_candidates(student, gen):
    spec = {"vocab": MLM_VOCAB, "tokens": ["<cls>", "cat", "sat", "<sep>"],
            "candidates": [1, 2], "num": 5, "draws": 5}
    what = ("_replace_mlm_tokens(['<cls>', 'cat', 'sat', '<sep>'], [1, 2], 5, vocab): more "
            "predictions asked than candidates")
    got = sequence(student.scenario(_data, "replace", spec, _seed(gen), what=what), what)
    for _tokens, pairs, _labels in got:
        expect(sorted(tuple(p) for p in pairs) == [(1, "cat"), (2, "sat")],
               f"{what} returned {pairs}; expected both candidates, each once")


def _mlm_spec(gen, n_body):
    words = ["the", "cat", "sat", "on", "mat", "zebra"]
    body = [words[i] for i in torch.randint(0, len(words), (n_body,), generator=gen)]
    cut = max(1, n_body // 2)
    tokens = ["<cls>"] + body[:cut] + ["<sep>"] + body[cut:] + ["<sep>"]
    if n_body == 1:  # one short sentence: round(3 * 0.15) = 0, so max(1, ...) matters
        tokens = ["<cls>", body[0], "<sep>"]
    order = torch.randperm(len(tokens), generator=gen).tolist()
    return {"vocab": MLM_VOCAB, "tokens": tokens, "replace_order": order,
            "replace_with": "<mask>"}


@exercise("_get_mlm_data_from_tokens", weight=2)
def test_mlm_data_from_tokens(student, gen):
    for n_body in (12, 1, 20):
        spec = _mlm_spec(gen, n_body)
        tokens = spec["tokens"]
        expected = _local("mlm", spec, 0)
        what = (f"_get_mlm_data_from_tokens({tokens}, vocab) with vocab.idx_to_token = "
                f"{MLM_VOCAB} and a grader _replace_mlm_tokens")
        got = mapping(student.scenario(_data, "mlm", spec, _seed(gen), what=what), what)
        calls = sequence(got.get("calls"), what)
        expect(len(calls) == 1, f"{what} called _replace_mlm_tokens {len(calls)} times; "
               "expected once")
        (want_tokens, want_cands, want_num, _), (g_tokens, g_cands, g_num, same_vocab) = \
            expected["calls"][0], calls[0]
        expect(g_tokens == want_tokens, f"{what} passed tokens {g_tokens} to "
               "_replace_mlm_tokens; expected the tokens themselves")
        expect(sorted(g_cands) == sorted(want_cands), f"{what} passed the candidate positions "
               f"{g_cands}; expected every position whose token is not <cls> or <sep>: "
               f"{want_cands}")
        expect(g_num == want_num, f"{what} asked for {g_num} predictions; expected "
               f"max(1, round(len(tokens) * 0.15)) = {want_num}")
        expect(same_vocab, f"{what} did not pass vocab on to _replace_mlm_tokens")
        result = sequence(got.get("result"), what)
        expect(len(result) == 3, f"{what} returned {len(result)} items; expected "
               "(token ids, pred_positions, label ids)")
        for label, g, e in zip(("the token ids", "pred_positions", "the label ids"), result,
                               expected["result"]):
            g = g.tolist() if isinstance(g, torch.Tensor) else g
            expect_equal(g, e, what=f"{label} of {what}")


def _pad_spec(gen, max_len):
    vocab = list(MLM_VOCAB)
    pad = vocab.pop(1)
    vocab.insert(int(torch.randint(1, len(vocab), (), generator=gen)), pad)
    examples = []
    for n in (max_len, max_len - 3, 5):
        token_ids = torch.randint(1, len(vocab), (n,), generator=gen).tolist()
        k = min(round(max_len * 0.15), max(1, round(n * 0.15)))
        positions = sorted(torch.randperm(n, generator=gen)[:k].tolist())
        labels = torch.randint(1, len(vocab), (k,), generator=gen).tolist()
        split = int(torch.randint(1, n, (), generator=gen))
        segments = [0] * split + [1] * (n - split)
        examples.append((token_ids, positions, labels, segments,
                         bool(torch.rand((), generator=gen) < 0.5)))
    return {"vocab": vocab, "examples": examples, "max_len": max_len}


@exercise("_pad_bert_inputs", weight=2)
def test_pad_bert_inputs_all_seven(student, gen):
    names = ("token ids", "segments", "valid_lens", "pred_positions", "mlm_weights",
             "mlm_labels", "nsp_labels")
    for max_len in (20, 14):
        spec = _pad_spec(gen, max_len)
        expected = _local("pad", spec, 0)
        what = (f"_pad_bert_inputs(examples, {max_len}, vocab) with vocab['<pad>'] = "
                f"{spec['vocab'].index('<pad>')} and examples = {spec['examples']}")
        got = sequence(student.scenario(_data, "pad", spec, _seed(gen), what=what), what)
        expect(len(got) == 7, f"{what} returned {len(got)} items; expected seven lists")
        for name, g, e in zip(names, got, expected):
            g = sequence(g, f"{name} of {what}")
            expect(len(g) == len(e), f"{name} of {what} has {len(g)} items; expected one per "
                   "example")
            for k, (gi, ei) in enumerate(zip(g, e)):
                expect_tensor(gi, ei, what=f"{name}[{k}] of {what}",
                              hint=_("int64 token ids, segments, positions, labels and "
                                     "nsp_labels; float32 valid_lens (0-d) and mlm_weights"))


def _batch_loss(ns, spec, seed):
    """Run ``_get_batch_loss_bert`` with a grader network; return the losses, what the
    network received and the gradients of the total loss."""
    g = torch.Generator().manual_seed(seed)
    V, h = spec["vocab_size"], 6
    seen = {}

    class GraderBERT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Parameter(torch.randn(V, h, generator=g, dtype=torch.float64))
            self.mlm = torch.nn.Parameter(torch.randn(h, V, generator=g, dtype=torch.float64))
            self.nsp = torch.nn.Parameter(torch.randn(h, 2, generator=g, dtype=torch.float64))

        def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
            with trusted():  # noqa: F821 - the scenario scope provides it
                seen["valid_lens_shape"] = list(valid_lens.shape)
                X = self.embed[tokens] * (1.0 + segments[..., None])
                keep = torch.arange(X.shape[1])[None, :] < valid_lens.reshape(-1)[:, None]
                X = X * keep[..., None]
                picked = torch.gather(X, 1, pred_positions[..., None].expand(-1, -1, h))
                return X, picked @ self.mlm, X.sum(dim=1) @ self.nsp

    net = GraderBERT()
    args = [torch.as_tensor(a) for a in spec["batch"]]
    out = ns["_get_batch_loss_bert"](net, torch.nn.CrossEntropyLoss(), V, *args)
    info = {"result": out, "seen": seen}
    if isinstance(out, (tuple, list)) and len(out) == 3 and isinstance(out[2], torch.Tensor) \
            and out[2].requires_grad:
        with trusted():  # noqa: F821 - the scenario scope provides it
            out[2].backward()
        info["grads"] = [p.grad for p in net.parameters()]
    return info


@exercise("_get_batch_loss_bert", weight=2)
def test_batch_loss_bert(student, gen):
    B, T, P, V = 4, 7, 3, 9
    tokens = torch.randint(0, V, (B, T), generator=gen)
    segments = (torch.arange(T)[None, :] >= 3).long().expand(B, T).clone()
    valid = torch.tensor([[7.0], [5.0], [6.0], [4.0]])
    positions = torch.randint(1, 4, (B, P), generator=gen)
    weights = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    labels = torch.randint(0, V, (B, P), generator=gen)
    nsp = torch.randint(0, 2, (B,), generator=gen)
    spec = {"vocab_size": V, "batch": [tokens, segments, valid, positions, weights, labels, nsp]}
    seed = _seed(gen)
    expected = _batch_loss(vars(ref), spec, seed)
    what = (f"_get_batch_loss_bert(net, nn.CrossEntropyLoss(), {V}, tokens_X {B}x{T}, "
            f"segments_X, valid_lens_x of shape {tuple(valid.shape)}, pred_positions_X "
            f"{B}x{P}, mlm_weights_X {weights.tolist()}, mlm_Y, nsp_y) with a grader network")
    got = mapping(student.scenario(_batch_loss, spec, seed, what=what), what)
    expect(got.get("seen", {}).get("valid_lens_shape") == [B], f"{what} passed valid_lens of "
           f"shape {got.get('seen', {}).get('valid_lens_shape')} to net; expected "
           "valid_lens_x.reshape(-1)")
    result = sequence(got.get("result"), what)
    expect(len(result) == 3, f"{what} returned {len(result)} items; expected (mlm_l, nsp_l, l)")
    for name, g, e in zip(("mlm_l", "nsp_l", "l"), result, expected["result"]):
        expect_tensor(g, e.detach(), what=f"{name} of {what}",
                      hint=_("mlm_l = (loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1)) "
                             "* mlm_weights_X.reshape(-1, 1)).sum() / (mlm_weights_X.sum() + "
                             "1e-8); nsp_l = loss(nsp_Y_hat, nsp_y); l = mlm_l + nsp_l"))
    if got.get("grads") is None:
        fail(f"the total loss of {what} is not differentiable")
    for name, g, e in zip(("embed", "mlm", "nsp"), got["grads"], expected["grads"]):
        expect_tensor(g, e, what=f"the gradient of l with respect to the network's {name} "
                      f"weights in {what}")
