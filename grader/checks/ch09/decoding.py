"""ch09's decoding exercises: greedy prediction, BLEU and beam search (points and helpers).

``predict_seq2seq`` runs on a toy translator built in the sandbox from the grader's tables
(``_translate``): its encoder, ``init_state`` and decoder record every call, so a check says
what went in where (the source tokens, their valid length, the evaluation mode, the tokens fed
back, the state passed on) rather than only that a translation differs. The student's
``truncate_pad`` is replaced there by the grader's, so one mistake costs points once.

``beam_search`` runs on grader step functions (``_beam``): Markov chains, step functions whose
log-probabilities depend on the whole prefix, and hand-made prefix tables such as the book's
figure. The expected answers come from the grader's own functions, which receive the very same
step functions by running ``_beam`` here: the specification traced step by step (which also
measures how far every decision is from a tie, so that tables with near-ties are drawn again),
greedy decoding and an exhaustive enumeration of every sequence.
"""

from __future__ import annotations

import collections
import math

import torch

from grader.engine import strategies as st
from grader.engine.child import objects  # the scenarios' scope: they also run here
from grader.engine.compare import fail, number, sequence
from grader.engine.plugin import Exercise
from grader.i18n import _

EXERCISES = {
    "predict_seq2seq": Exercise(points=4),
    "bleu": Exercise(points=3),
    "beam_search": Exercise(points=6),
}

GAP = 1e-5
"""The smallest score difference that may decide a beam or a winner in a check's table: far above
the rounding of any order of summation, so ties never decide a grade."""


# --- predict_seq2seq on a toy translator ----------------------------------------------------------


def _translate(ns, spec, cases, device):
    """Run ``predict_seq2seq`` on the grader's toy translator for each case; return what it
    returned and every call it made to the encoder, ``init_state`` and the decoder."""
    calls = {}

    class Words:
        """A vocabulary with the book's interface."""

        def __init__(self, tokens):
            self.idx_to_token = list(tokens)
            self.token_to_idx = {word: index for index, word in enumerate(tokens)}

        def __len__(self):
            return len(self.idx_to_token)

        def __getitem__(self, tokens):
            if isinstance(tokens, (list, tuple)):
                return [self.token_to_idx.get(word, 0) for word in tokens]
            return self.token_to_idx.get(tokens, 0)

        def to_tokens(self, indices):
            if isinstance(indices, torch.Tensor):
                indices = indices.tolist()
            if isinstance(indices, (list, tuple)):
                return [self.idx_to_token[int(i)] for i in indices]
            return self.idx_to_token[int(indices)]

        @property
        def unk(self):
            return 0

    def ints(X):
        if not isinstance(X, torch.Tensor):
            return {"type": type(X).__name__}
        return {"values": X.detach().cpu().tolist(), "shape": list(X.shape),
                "dtype": str(X.dtype).removeprefix("torch."), "device": X.device.type}

    class ToyEncoder(torch.nn.Module):
        def __init__(self, mix):
            super().__init__()
            self.mix = mix

        def forward(self, X, *args):
            calls["encoder"].append({"X": ints(X), "args": [ints(a) for a in args],
                                     "training": self.training})
            codes = torch.as_tensor(X).reshape(-1).long().to(self.mix.device)
            weights = 1.0 / torch.arange(1, len(codes) + 1, device=self.mix.device)
            self.output = ((self.mix[codes] * weights.unsqueeze(1)).sum(0), codes)
            return self.output

    class ToyDecoder(torch.nn.Module):
        def __init__(self, table, steps, attention, eos):
            super().__init__()
            self.table, self.steps, self.attention, self.eos = table, steps, attention, eos

        def init_state(self, enc_outputs, *args):
            calls["init_state"].append({"same": enc_outputs is net.encoder.output,
                                        "args": [ints(a) for a in args]})
            return [enc_outputs[0], 0]

        def forward(self, X, state):
            context, t = state
            calls["decoder"].append({"X": ints(X), "t": t, "training": self.training})
            previous = int(torch.as_tensor(X).reshape(-1)[0])
            logits = self.table[previous] + self.steps[min(t, len(self.steps) - 1)] + context
            if self.training:
                logits = logits + 1e4 * (torch.arange(len(logits), device=logits.device)
                                         == self.eos)
            self.attention_weights = self.attention[min(t, len(self.attention) - 1)]
            self.attention_weights = self.attention_weights.reshape(1, 1, -1).clone()
            return logits.reshape(1, 1, -1), [context, t + 1]

    class ToyTranslator(torch.nn.Module):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def forward(self, *args):
            raise RuntimeError("predict_seq2seq calls net.encoder and net.decoder one step at "
                               "a time, not net(...)")

    def cut_or_pad(line, num_steps, padding_token):
        kept = list(line)[:num_steps]
        return kept + [padding_token for _ in range(num_steps - len(kept))]

    source, target = Words(spec["source"]), Words(spec["target"])
    results = []
    for case in cases:
        for key in ("encoder", "init_state", "decoder"):
            calls[key] = []
        mix = spec["mix"].to(device) * case["mix_scale"]
        net = ToyTranslator(ToyEncoder(mix),
                            ToyDecoder(spec["table"].to(device), case["steps"].to(device),
                                       case["attention"].to(device), target["<eos>"]))
        net.train()
        extra = {"save_attention_weights": True} if case["save"] else {}
        with objects.Swap(ns, {"truncate_pad": cut_or_pad}):
            out = ns["predict_seq2seq"](net, case["sentence"], source, target,
                                        case["num_steps"], device, **extra)
        results.append({"result": out, "calls": dict(calls)})
    return results


SOURCE_WORDS = ["go", "now", ".", "!", "i", "lost", "he's", "calm", "run", "home", "i'm"]
TARGET_WORDS = ["va", "!", ".", "j'ai", "perdu", "il", "est", "calme", "cours", "je", "suis",
                "chez", "moi", "?"]
RESERVED = ["<pad>", "<bos>", "<eos>"]


def toy_vocabularies(gen: torch.Generator) -> dict:
    """Source and target token lists: ``<unk>`` at 0, the rest (reserved tokens included) in a
    random order, so that no index of a special token can be guessed."""
    def shuffled(words):
        tokens = RESERVED + words
        return ["<unk>"] + [tokens[i] for i in torch.randperm(len(tokens), generator=gen)]

    return {"source": shuffled(SOURCE_WORDS), "target": shuffled(TARGET_WORDS)}


def toy_spec(gen: torch.Generator) -> dict:
    """The toy translator's vocabularies and tables (float32, like a trained network)."""
    spec = toy_vocabularies(gen)
    spec["mix"] = st.normal(gen, len(spec["source"]), len(spec["target"]), dtype=torch.float32)
    spec["table"] = st.normal(gen, len(spec["target"]), len(spec["target"]),
                              dtype=torch.float32)
    return spec


def toy_case(gen: torch.Generator, spec: dict, sentence: str, num_steps: int,
             stop: int | None, *, save: bool = False, uses_source: bool = True) -> dict:
    """One sentence to translate: the decoder predicts ``<eos>`` at step ``stop`` (never when
    ``None``) and other tokens before; ``uses_source=False`` makes its predictions independent
    of the encoding (for checks of the decoding loop alone)."""
    target = spec["target"]
    steps = st.normal(gen, num_steps + 1, len(target), dtype=torch.float32)
    for token in ("<unk>", "<pad>", "<bos>", "<eos>"):
        steps[:, target.index(token)] = -30.0
    if stop is not None:
        steps[stop, target.index("<eos>")] = 30.0
    attention = st.uniform(gen, num_steps + 1, num_steps, dtype=torch.float32)
    return {"sentence": sentence, "num_steps": num_steps, "steps": steps, "save": save,
            "attention": attention, "mix_scale": 1.0 if uses_source else 0.0}


# --- bleu -----------------------------------------------------------------------------------------


def _calls(ns, name, calls):
    """``name(*args)`` for each argument list of ``calls``; the results in order."""
    return [ns[name](*args) for args in calls]


def bleu_variant(pred_seq: str, label_seq: str, k: int, *, clip: bool = True,
                 penalty: bool = True, power=lambda n: 0.5 ** n) -> float:
    """The book's BLEU, or a familiar mistake of it (for hints): without clipping, without the
    brevity penalty, or with other exponents ``power(n)``."""
    pred, label = pred_seq.split(" "), label_seq.split(" ")
    score = math.exp(min(0.0, 1 - len(label) / len(pred))) if penalty else 1.0
    for n in range(1, k + 1):
        grams = collections.Counter(tuple(pred[i:i + n]) for i in range(len(pred) - n + 1))
        refs = collections.Counter(tuple(label[i:i + n]) for i in range(len(label) - n + 1))
        found = grams & refs if clip else {g: c for g, c in grams.items() if g in refs}
        score *= (sum(found.values()) / (len(pred) - n + 1)) ** power(n)
    return score


BLEU_MISTAKES = (
    ({"clip": False}, _("clip the matches: each n-gram of the label can match at most as many "
                        "times as it occurs in the label")),
    ({"penalty": False},
     _("multiply by the brevity penalty exp(min(0, 1 - len_label / len_pred))")),
    ({"power": lambda n: 1 / n},
     _("raise p_n to the power 1 / 2**n (math.pow(0.5, n)), not 1 / n")),
    ({"power": lambda n: 1.0}, _("raise p_n to the power 1 / 2**n (math.pow(0.5, n))")),
)


def bleu_hint(pred_seq: str, label_seq: str, k: int, got: float) -> str:
    """What a wrong BLEU value most likely forgot."""
    for options, hint in BLEU_MISTAKES:
        if math.isclose(got, bleu_variant(pred_seq, label_seq, k, **options), rel_tol=1e-9,
                        abs_tol=1e-12):
            return hint
    return _("score = exp(min(0, 1 - len_label / len_pred)) times, for n = 1..k, "
             "(clipped matches / (len_pred - n + 1)) ** (0.5 ** n)")


# --- beam search ----------------------------------------------------------------------------------


def _beam(ns, cases, device):
    """Run ``beam_search`` with the grader's step function of each case; return its results.

    A case's ``kind`` says what the log-probabilities of the next token depend on: ``markov``
    the last token (row of ``table``), ``prefix`` the whole prefix (a row chosen by a hash of
    it), ``rows`` an explicit table of prefixes (without ``bos``; others take the last row).
    """

    def step_of(case):
        table = case["table"].to(device)
        bos, max_len, kind = case["bos"], case["max_len"], case["kind"]
        known = {tuple(prefix): row for prefix, row in case.get("rows", [])}

        def step(prefixes):
            if not isinstance(prefixes, torch.Tensor) or prefixes.dim() != 2 \
                    or prefixes.dtype not in (torch.int64, torch.int32):
                raise TypeError("the step function takes a 2-D integer tensor of prefixes "
                                f"(k, t); it got {type(prefixes).__name__} "
                                f"{getattr(prefixes, 'shape', '')} "
                                f"{getattr(prefixes, 'dtype', '')}")
            tokens = prefixes.to(table.device).long()
            if tokens.shape[0] and (tokens.shape[1] == 0 or bool((tokens[:, 0] != bos).any())):
                raise ValueError(f"every prefix given to the step function starts with bos={bos}; "
                                 f"it got {tokens.tolist()[:4]}")
            if tokens.shape[1] > max_len:
                raise ValueError(f"the step function got prefixes of {tokens.shape[1]} tokens "
                                 f"(bos included) with max_len={max_len}: at most max_len tokens "
                                 "are generated after bos")
            if kind == "markov":
                index = tokens[:, -1]
            elif kind == "prefix":
                coeffs = torch.tensor(case["coeffs"][:tokens.shape[1]], device=table.device)
                index = ((tokens + 1) * coeffs).sum(dim=1) % (table.shape[0] - 1)
            else:
                index = torch.tensor([known.get(tuple(p[1:]), table.shape[0] - 1)
                                      for p in tokens.tolist()], dtype=torch.long,
                                     device=table.device)
            return table[index]

        return step

    results = []
    for case in cases:
        extra = {} if case.get("alpha") is None else {"alpha": case["alpha"]}
        results.append(ns["beam_search"](step_of(case), case["bos"], case["eos"],
                                         case["beam_size"], case["max_len"], **extra))
    return results


def _log_probs(step, prefixes: list[list[int]]) -> list[list[float]]:
    return step(torch.tensor(prefixes, dtype=torch.long)).double().cpu().tolist()


def trace_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    """The specification, step by step: ``(tokens, score, gap)``, where ``gap`` is the smallest
    score difference that decided which extensions stayed in the beam or which candidate won."""
    beam, candidates, gaps = [([bos], 0.0)], [], []
    for _step in range(max_len):
        rows = _log_probs(step, [prefix for prefix, _ in beam])
        extensions = sorted(((prefix + [token], total + lp)
                             for (prefix, total), row in zip(beam, rows)
                             for token, lp in enumerate(row)), key=lambda e: -e[1])
        if len(extensions) > beam_size:
            gaps.append(extensions[beam_size - 1][1] - extensions[beam_size][1])
        kept = extensions[:beam_size]
        candidates += [(prefix[1:], total) for prefix, total in kept if prefix[-1] == eos]
        beam = [(prefix, total) for prefix, total in kept if prefix[-1] != eos]
        if not beam:
            break
    candidates += [(prefix[1:], total) for prefix, total in beam]
    return _winner(candidates, alpha, gaps)


def exhaustive_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    """Every sequence: each that ends with its first ``eos`` within ``max_len`` tokens and each
    of ``max_len`` tokens without ``eos``; ``(tokens, score, gap)`` of the best (``beam_size``
    is ignored)."""
    live, candidates = [([bos], 0.0)], []
    for _step in range(max_len):
        rows = _log_probs(step, [prefix for prefix, _ in live])
        grown = [(prefix + [token], total + lp) for (prefix, total), row in zip(live, rows)
                 for token, lp in enumerate(row)]
        candidates += [(prefix[1:], total) for prefix, total in grown if prefix[-1] == eos]
        live = [(prefix, total) for prefix, total in grown if prefix[-1] != eos]
    candidates += [(prefix[1:], total) for prefix, total in live]
    return _winner(candidates, alpha, [])


def score_of(tokens: list[int]):
    """A stand-in for ``beam_search`` that scores the given ``tokens`` with the step function
    (``(log P, L)``; ``None`` when ``tokens`` is not a sequence the search could return)."""

    def scorer(step, bos, eos, beam_size, max_len, alpha=0.75):
        if not tokens or len(tokens) > max_len or eos in tokens[:-1] \
                or any(not 0 <= t < 10**6 for t in tokens):
            return None
        rows = [_log_probs(step, [[bos] + tokens[:i]])[0] for i in range(len(tokens))]
        if any(t >= len(row) for t, row in zip(tokens, rows)):
            return None
        return sum(row[t] for t, row in zip(tokens, rows)), len(tokens)

    return scorer


def _winner(candidates: list, alpha: float, gaps: list[float]) -> tuple[list[int], float, float]:
    ranked = sorted(((tokens, total / len(tokens) ** alpha) for tokens, total in candidates),
                    key=lambda c: -c[1])
    if len(ranked) > 1:
        gaps.append(ranked[0][1] - ranked[1][1])
    return ranked[0][0], ranked[0][1], min(gaps, default=math.inf)


def markov_case(gen: torch.Generator, vocab_size: int, beam_size: int, max_len: int, *,
                kind: str = "markov", alpha: float | None = None, eos_boost: float = 0.5,
                sharp: float = 1.5) -> dict:
    """A random step function: log-softmax of normal logits (``sharp`` their scale), ``eos``
    raised by ``eos_boost`` so that some sequences finish early; ``bos`` and ``eos`` drawn."""
    special = torch.randperm(vocab_size, generator=gen)[:2].tolist()
    bos, eos = special
    rows = vocab_size if kind == "markov" else 32
    logits = st.normal(gen, rows, vocab_size, scale=sharp)
    logits[:, eos] += eos_boost
    case = {"kind": kind, "table": torch.log_softmax(logits, dim=1), "bos": bos, "eos": eos,
            "beam_size": beam_size, "max_len": max_len, "alpha": alpha}
    if kind == "prefix":
        case["coeffs"] = [int(c) for c in torch.randint(1, 10**4, (max_len + 1,),
                                                        generator=gen)]
    return case


def describe_case(case: dict) -> str:
    kinds = {"markov": "a Markov chain (the next token depends on the last one)",
             "prefix": "a step function whose log-probabilities depend on the whole prefix",
             "rows": "a hand-made table of prefixes"}
    alpha = "" if case.get("alpha") is None else f", alpha={case['alpha']}"
    return (f"beam_search(step, bos={case['bos']}, eos={case['eos']}, "
            f"beam_size={case['beam_size']}, max_len={case['max_len']}{alpha}) with "
            f"{kinds[case['kind']]} over {case['table'].shape[1]} tokens")


def beam_result(value: object, what: str) -> tuple[list[int], float]:
    """The student's ``(tokens, score)`` as a list of ints and a float."""
    pair = sequence(value, what)
    if len(pair) != 2:
        fail(f"{what} returned {len(pair)} values; expected (tokens, score)")
    tokens, score = pair
    if isinstance(tokens, torch.Tensor):
        if tokens.dim() != 1 or tokens.is_floating_point():
            fail(f"{what} returned tokens as a tensor of shape {tuple(tokens.shape)} and dtype "
                 f"{tokens.dtype}; expected a list of ints")
        tokens = tokens.cpu().tolist()
    items = sequence(tokens, f"{what}'s tokens")
    ints = []
    for item in items:
        if isinstance(item, dict) and item.get("__kind__") == "number":
            item = item["value"]
        if isinstance(item, torch.Tensor) and item.numel() == 1 and not item.is_floating_point():
            item = int(item.item())
        if not isinstance(item, int) or isinstance(item, bool):
            fail(f"{what} returned tokens {str(items)[:200]}; expected a list of ints")
        ints.append(item)
    return ints, number(score, f"{what}'s score")
