"""ch09 checks of the encoder-decoder architecture and sequence to sequence learning (9.6–9.7).

Modules are graded by their state-dict names and shapes, then by their outputs, final states and
gradients with the reference's (randomised, float64) weights loaded. ``EncoderDecoder`` runs
grader-supplied encoders and decoders that record how they are called. ``MaskedSoftmaxCELoss``
gets a grader ``sequence_mask`` and ``train_seq2seq`` a grader loss, so one mistake costs points
once. ``train_seq2seq`` trains a small grader encoder-decoder (float64) on grader batches; its
initial weights (Xavier, checked by statistics), the inputs it gives the network (teacher
forcing), the gradient norm at every optimizer step and the final weights are compared with a
replay of the specification from the same initial weights.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import solutions.ch09 as ref
from grader.engine import stats
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_tensor, fail, number, sequence
from grader.engine.plugin import exercise
from grader.engine.words import say
from grader.i18n import _

F64 = torch.float64

# --- EncoderDecoder -------------------------------------------------------------------------------


def _encoder_decoder(ns, enc_X, dec_X, extra, W, U, G):
    """The student's EncoderDecoder around a grader encoder (``X @ W``, and its mean over time
    as the encoding's second item) and decoder (state: that mean plus every extra argument;
    output ``X @ U + state``; new state ``3 * state``), each recording its calls."""
    log = {"encoder": [], "init_state": [], "decoder": []}

    class GraderEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.W = torch.nn.Parameter(W.clone())

        def forward(self, X, *args):
            log["encoder"].append(len(args))
            hidden = X @ self.W
            return hidden, hidden.mean(dim=1)

    class GraderDecoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.U = torch.nn.Parameter(U.clone())

        def init_state(self, enc_outputs, *args):
            log["init_state"].append(len(args))
            state = enc_outputs[1]
            for value in args:
                state = state + value[:, None]
            return state

        def forward(self, X, state):
            log["decoder"].append(list(X.shape))
            return X @ self.U + state[:, None, :], 3 * state

    encoder, decoder = GraderEncoder(), GraderDecoder()
    net = ns["EncoderDecoder"](encoder, decoder)
    info = {"module": isinstance(net, torch.nn.Module), "log": log,
            "names": [getattr(net, "encoder", None) is encoder,
                      getattr(net, "decoder", None) is decoder]}
    if not info["module"]:
        return info
    info["keys"] = sorted(net.state_dict())
    enc_X = enc_X.clone().requires_grad_(True)
    dec_X = dec_X.clone().requires_grad_(True)
    result = net(enc_X, dec_X, *extra)
    info["result"] = result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], torch.Tensor) \
            and result[0].requires_grad and result[0].shape == G.shape:
        with trusted():  # noqa: F821 - the scenario scope provides it
            grads = torch.autograd.grad(result[0], [enc_X, dec_X, encoder.W, decoder.U], G,
                                        allow_unused=True)
        info["grads"] = list(grads)
    return info


def _expected_encoder_decoder(enc_X, dec_X, extra, W, U):
    hidden = enc_X @ W
    state = hidden.mean(dim=1)
    for value in extra:
        state = state + value[:, None]
    return dec_X @ U + state[:, None, :], 3 * state


def _run_encoder_decoder(student, gen, extra_count):
    B, Te, Td, d, h = 3, 4, 5, 2, 3
    enc_X, dec_X = st.normal(gen, B, Te, d), st.normal(gen, B, Td, h)
    W, U = st.normal(gen, d, h), st.normal(gen, h, h)
    extra = [st.normal(gen, B) for _ in range(extra_count)]
    G = st.normal(gen, B, Td, h)
    args = ", ".join(["enc_X", "dec_X"] + [f"extra{i}" for i in range(extra_count)])
    what = f"EncoderDecoder(encoder, decoder)({args})"
    got = student.scenario(_encoder_decoder, enc_X, dec_X, extra, W, U, G, what=what,
                           name="EncoderDecoder")
    expect(got["module"], "EncoderDecoder(encoder, decoder) is not an nn.Module: subclass "
           "nn.Module and call super().__init__()")
    leaves = [t.clone().requires_grad_(True) for t in (enc_X, dec_X, W, U)]
    output, state = _expected_encoder_decoder(leaves[0], leaves[1], extra, leaves[2], leaves[3])
    grads = torch.autograd.grad(output, leaves, G)
    return got, what, (output.detach(), state.detach(), grads), extra_count


def _expect_encoder_decoder_result(got, what, expected):
    result = got["result"]
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} returned {type(result).__name__}; expected what the decoder returns, the "
             "pair (output, state)")
    hint = _("encode enc_X with the extra arguments, make the state with "
             "decoder.init_state(enc_outputs, *args), then return decoder(dec_X, state)")
    expect_tensor(result[0], expected[0], what=f"the output of {what}", hint=hint)
    expect_tensor(result[1], expected[1], what=f"the state returned by {what}", hint=hint)


@exercise("EncoderDecoder", weight=2)
def test_encoder_decoder_forward(student, gen):
    for extra_count in (1, 0, 2):
        got, what, expected, _ = _run_encoder_decoder(student, gen, extra_count)
        _expect_encoder_decoder_result(got, what, expected)
        log = got["log"]
        expect(log["encoder"] == [extra_count], f"{what} called the encoder "
               f"{len(log['encoder'])} time(s), with {log['encoder']} extra argument(s); "
               f"expected one call with all {extra_count}: self.encoder(enc_X, *args)")
        expect(log["init_state"] == [extra_count], f"{what} called decoder.init_state "
               f"{len(log['init_state'])} time(s), with {log['init_state']} extra argument(s); "
               f"expected one call with all {extra_count}: init_state(enc_outputs, *args)")


@exercise("EncoderDecoder")
def test_encoder_decoder_submodules_and_gradients(student, gen):
    got, what, expected, _ = _run_encoder_decoder(student, gen, 1)
    expect(got["names"] == [True, True], f"{what} does not keep the encoder and the decoder it "
           "was given as self.encoder and self.decoder")
    expect(got["keys"] == ["decoder.U", "encoder.W"], f"{what}'s state dict has keys "
           f"{got['keys']}; expected ['decoder.U', 'encoder.W'] (register both as submodules)")
    _expect_encoder_decoder_result(got, what, expected)
    if not got.get("grads"):
        fail(f"the output of {what} is not differentiable")
    for label, grad, wanted in zip(("enc_X", "dec_X", "the encoder's W", "the decoder's U"),
                                   got["grads"], expected[2]):
        if grad is None:
            fail(f"the output of {what} does not depend on {label}")
        expect_tensor(grad, wanted, what=f"the gradient of {what}'s output with respect to "
                      f"{label}")


# --- Seq2SeqEncoder and Seq2SeqDecoder ----------------------------------------------------------


def _module_run(ns, name, args, state, inputs, extra, grads, train):
    """Build ``name(*args)``; when its state-dict names and shapes are ``state``'s, load it
    (float64), run ``module(*inputs, *extra)`` and backpropagate ``grads`` into the pair it
    returns."""
    module = ns[name](*args)
    info = {"keys": {k: list(v.shape) for k, v in module.state_dict().items()},
            "module": isinstance(module, torch.nn.Module)}
    rnn = getattr(module, "rnn", None)
    info["dropout"] = float(rnn.dropout) if isinstance(rnn, torch.nn.RNNBase) else None
    if info["keys"] != {k: list(v.shape) for k, v in state.items()}:
        return info
    module = module.double()
    with trusted():  # noqa: F821 - the scenario scope provides it
        module.load_state_dict(state)
    module.train(train)
    leaves = [t.clone().requires_grad_(True) if t.is_floating_point() else t for t in inputs]
    result = module(*leaves, *extra)
    info["result"] = result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return info
    pairs = [(o, g) for o, g in zip(result, grads) if isinstance(o, torch.Tensor)
             and o.requires_grad and o.shape == g.shape]
    if len(pairs) == 2:
        with trusted():  # noqa: F821
            module.zero_grad(set_to_none=True)
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
        info["input_grads"] = [t.grad if t.is_floating_point() else None for t in leaves]
    return info


def _randomised(module: nn.Module, gen: torch.Generator) -> nn.Module:
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    return module


def _expect_keys(got: dict, reference: nn.Module, what: str) -> None:
    expect(got["module"], f"{what} is not an nn.Module")
    want = {k: list(v.shape) for k, v in reference.state_dict().items()}
    keys = got["keys"]
    if keys != want:
        missing = sorted(set(want) - set(keys))
        extra = sorted(set(keys) - set(want))
        shapes = sorted((k, keys[k], want[k]) for k in set(want) & set(keys) if keys[k] != want[k])
        fail(f"{what}'s parameters differ from the specification: "
             + "; ".join(part for part in (
                 f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
                 f"other shapes (name, yours, expected) {shapes}" if shapes else "") if part)
             + " (use the submodule names and sizes the docstring gives)")


def _expect_module(student, name, reference, args, inputs, extra, gen, *, train, what,
                   output_names, hint=""):
    reference = _randomised(reference, gen)
    reference.train(train)
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    leaves = [t.clone().requires_grad_(True) if t.is_floating_point() else t for t in inputs]
    out = reference(*leaves, *extra)
    grads = [st.normal(gen, *o.shape) for o in out]
    reference.zero_grad()
    torch.autograd.backward(list(out), grads)
    got = student.scenario(_module_run, name, list(args), state, inputs, extra, grads, train,
                           what=what, name=name)
    _expect_keys(got, reference, what)
    result = got.get("result")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} returned {type(result).__name__}; expected a pair "
             f"({', '.join(output_names)})")
    mode = "training" if train else "evaluation"
    text = ", ".join(f"{n} of shape {tuple(t.shape)}" for n, t in
                     zip(("X", "state"), inputs)) + f", {mode} mode, the reference's weights"
    for label, value, wanted in zip(output_names, result, out):
        expect_tensor(value, wanted.detach(), what=f"the {label} of {what}", inputs=text,
                      hint=hint)
    if "param_grads" not in got:
        fail(f"the outputs of {what} are not differentiable with respect to its parameters")
    for n, p in reference.named_parameters():
        grad = got["param_grads"].get(n)
        if grad is None:
            fail(f"{what}'s parameter {n} got no gradient")
        expect_tensor(grad, p.grad, what=f"the gradient of {what}'s {n}", inputs=text)
    for label, leaf, grad in zip(("X", "state"), leaves, got["input_grads"]):
        if leaf.is_floating_point():
            if grad is None:
                fail(f"the outputs of {what} do not depend on the {label} it was given")
            expect_tensor(grad, leaf.grad, what=f"the gradient of {what} with respect to its "
                          f"{label}", inputs=text)
    return got


def _tokens(gen, B, T, V):
    return torch.randint(V, (B, T), generator=gen)


ENCODER_HINT = _("embed X (B, T), permute to (T, B, embed_size), then run the GRU from its zero "
                 "state and return (output, state)")


@exercise("Seq2SeqEncoder", weight=2)
def test_seq2seq_encoder_book_sizes(student, gen):
    """The book's sizes (scaled down): two layers, evaluation mode with dropout."""
    args = (10, 8, 16, 2, 0.1)
    X, valid_len = _tokens(gen, 4, 7, 10), torch.randint(1, 8, (4,), generator=gen)
    what = "Seq2SeqEncoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2, " \
           "dropout=0.1)"
    got = _expect_module(student, "Seq2SeqEncoder", ref.Seq2SeqEncoder(*args), args, [X],
                         [valid_len], gen, train=False, what=what,
                         output_names=["output", "state"], hint=ENCODER_HINT)
    expect(got["dropout"] == 0.1, f"{what}.rnn has dropout {got['dropout']}; expected 0.1 "
           "(pass dropout to nn.GRU)")


@exercise("Seq2SeqEncoder")
def test_seq2seq_encoder_one_layer(student, gen):
    args = (7, 3, 5, 1)
    X = _tokens(gen, 2, 3, 7)
    _expect_module(student, "Seq2SeqEncoder", ref.Seq2SeqEncoder(*args), args, [X], [], gen,
                   train=True, what="Seq2SeqEncoder(7, 3, 5, 1)",
                   output_names=["output", "state"], hint=ENCODER_HINT)


DECODER_HINT = _("embed X with time first, append the context state[-1] to every step's "
                 "embedding, run the GRU from state, apply dense and permute back to "
                 "(B, T, vocab_size)")


@exercise("Seq2SeqDecoder", weight=2)
def test_seq2seq_decoder_book_sizes(student, gen):
    args = (10, 8, 16, 2, 0.1)
    X, state = _tokens(gen, 4, 7, 10), st.normal(gen, 2, 4, 16)
    what = "Seq2SeqDecoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2, " \
           "dropout=0.1)"
    got = _expect_module(student, "Seq2SeqDecoder", ref.Seq2SeqDecoder(*args), args,
                         [X, state], [], gen, train=False, what=what,
                         output_names=["output", "state"], hint=DECODER_HINT)
    expect(got["dropout"] == 0.1, f"{what}.rnn has dropout {got['dropout']}; expected 0.1 "
           "(pass dropout to nn.GRU)")


@exercise("Seq2SeqDecoder")
def test_seq2seq_decoder_three_layers(student, gen):
    args = (6, 4, 3, 3)
    X, state = _tokens(gen, 2, 5, 6), st.normal(gen, 3, 2, 3)
    _expect_module(student, "Seq2SeqDecoder", ref.Seq2SeqDecoder(*args), args, [X, state], [],
                   gen, train=True, what="Seq2SeqDecoder(6, 4, 3, 3)",
                   output_names=["output", "state"], hint=DECODER_HINT)


def _init_state(ns, outputs, state, extra):
    decoder = ns["Seq2SeqDecoder"](5, 3, 4, 2)
    return decoder.init_state((outputs, state), *extra)


@exercise("Seq2SeqDecoder")
def test_seq2seq_decoder_init_state(student, gen):
    outputs, state = st.normal(gen, 6, 3, 4), st.normal(gen, 2, 3, 4)
    for extra in ([], [torch.tensor([6, 2, 5])]):
        what = "Seq2SeqDecoder(5, 3, 4, 2).init_state((enc_output, enc_state)" + \
               (", enc_valid_len)" if extra else ")")
        got = student.scenario(_init_state, outputs, state, extra, what=what,
                               name="Seq2SeqDecoder")
        expect_tensor(got, state, what=what, hint=_("return enc_outputs[1], the encoder's final "
                        "state"))


# --- sequence_mask and MaskedSoftmaxCELoss -------------------------------------------------------


def _lengths(gen, B, T, dtype=torch.int64):
    values = torch.randint(0, T + 1, (B,), generator=gen)
    values[0], values[-1] = 0, T
    return values[torch.randperm(B, generator=gen)].to(dtype)


@exercise("sequence_mask")
def test_sequence_mask_book_examples(student):
    X = torch.tensor([[1, 2, 3], [4, 5, 6]])
    got = student.result("sequence_mask", X, torch.tensor([1, 2]),
                         what="sequence_mask(X, torch.tensor([1, 2]))")
    expect_tensor(got, torch.tensor([[1, 0, 0], [4, 5, 0]]),
                  what="sequence_mask(torch.tensor([[1, 2, 3], [4, 5, 6]]), "
                       "torch.tensor([1, 2]))")
    X = torch.ones(2, 3, 4)
    got = student.result("sequence_mask", X, torch.tensor([1, 2]), kwargs={"value": -1},
                         what="sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), "
                              "value=-1)")
    expected = ref.sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), value=-1)
    expect_tensor(got, expected, what="sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), "
                  "value=-1)", hint=_("mask along dimension 1, every feature of a masked step"))


@exercise("sequence_mask", weight=2)
def test_sequence_mask_random(student, gen, device):
    for shape, value, dtype in (((5, 6), 0, torch.int64), ((4, 5, 3), -1e6, torch.int32),
                                ((6, 1), 2.5, torch.int64)):
        X = st.normal(gen, *shape, device=device)
        valid_len = _lengths(gen, shape[0], shape[1], dtype).to(device)
        expected = ref.sequence_mask(X.clone(), valid_len, value)
        what = f"sequence_mask(X, valid_len, value={value})"
        got = student.result("sequence_mask", X, valid_len, value, what=what)
        expect_tensor(got, expected, what=what,
                      inputs=f"X of shape {shape}, valid_len = {valid_len.tolist()} "
                             f"({str(dtype).removeprefix('torch.')})",
                      hint=_("positions j >= valid_len[i] of row i are masked; valid ones kept"))


def _masked_loss(ns, pred, label, valid_len, G):
    def mask(X, valid_len, value=0):
        steps = torch.arange(X.shape[1], device=X.device)
        drop = steps.reshape(1, -1) >= valid_len.reshape(-1, 1)
        drop = drop.reshape(drop.shape + (1,) * (X.dim() - 2)).expand(X.shape)
        return X.masked_fill_(drop, value)

    with objects.Swap(ns, {"sequence_mask": mask}):  # noqa: F821 - scenario scope
        loss = ns["MaskedSoftmaxCELoss"]()
        pred = pred.clone().requires_grad_(True)
        value = loss(pred, label, valid_len)
    answer = {"subclass": isinstance(loss, torch.nn.CrossEntropyLoss), "value": value,
              "grad": None}
    if isinstance(value, torch.Tensor) and value.requires_grad and value.shape == G.shape:
        with trusted():  # noqa: F821
            answer["grad"] = torch.autograd.grad(value, pred, G, allow_unused=True)[0]
    return answer


def _expected_loss(pred, label, valid_len):
    keep = torch.arange(label.shape[1])[None, :] < valid_len[:, None]
    each = F.cross_entropy(pred.permute(0, 2, 1), label, reduction="none")
    return (each * keep).mean(dim=1)


LOSS_HINT = _("cross-entropy of every position (reduction='none', pred permuted to (B, V, T)), "
              "times the 0/1 mask, then .mean(dim=1): the mean over all T steps")


@exercise("MaskedSoftmaxCELoss")
def test_masked_loss_book_example(student):
    pred, label = torch.ones(3, 4, 10), torch.ones((3, 4), dtype=torch.long)
    valid_len = torch.tensor([4, 2, 0])
    what = "MaskedSoftmaxCELoss()(torch.ones(3, 4, 10), torch.ones((3, 4), dtype=torch.long), " \
           "torch.tensor([4, 2, 0]))"
    got = student.scenario(_masked_loss, pred, label, valid_len, torch.ones(3), what=what,
                           name="MaskedSoftmaxCELoss")
    expect_tensor(got["value"], _expected_loss(pred, label, valid_len), what=what,
                  hint=LOSS_HINT)


def _loss_case(student, gen):
    B, T, V = 5, 6, 7
    pred, label = st.normal(gen, B, T, V, scale=2.0), torch.randint(V, (B, T), generator=gen)
    valid_len = _lengths(gen, B, T)
    G = st.normal(gen, B)
    what = f"MaskedSoftmaxCELoss()(pred, label, valid_len) with valid_len = {valid_len.tolist()}"
    got = student.scenario(_masked_loss, pred, label, valid_len, G, what=what,
                           name="MaskedSoftmaxCELoss")
    leaf = pred.clone().requires_grad_(True)
    expected = _expected_loss(leaf, label, valid_len)
    grad = torch.autograd.grad(expected, leaf, G)[0]
    inputs = f"pred of shape {(B, T, V)}, label of shape {(B, T)}"
    expect_tensor(got["value"], expected.detach(), what=what, inputs=inputs, hint=LOSS_HINT)
    return got, grad, what, inputs


@exercise("MaskedSoftmaxCELoss", weight=2)
def test_masked_loss_values(student, gen):
    _loss_case(student, gen)


@exercise("MaskedSoftmaxCELoss", weight=2)
def test_masked_loss_gradient(student, gen):
    got, grad, what, inputs = _loss_case(student, gen)
    if got["grad"] is None:
        fail(f"{what} is not differentiable with respect to pred")
    expect_tensor(got["grad"], grad, what=f"the gradient of {what} with respect to pred",
                  inputs=inputs)


# --- train_seq2seq --------------------------------------------------------------------------------


class _Toy(nn.Module):
    """The grader's encoder-decoder for ``train_seq2seq``: embeddings, two-layer GRUs, a dense
    output layer (the same class is written out in the scenario)."""

    def __init__(self, V, E, H):
        super().__init__()
        self.source = nn.Embedding(V, E)
        self.target = nn.Embedding(V, E)
        self.encoder = nn.GRU(E, H, 2)
        self.decoder = nn.GRU(E, H, 2)
        self.dense = nn.Linear(H, V)

    def forward(self, X, dec_X, *args):
        _, state = self.encoder(self.source(X).transpose(0, 1))
        out, state = self.decoder(self.target(dec_X).transpose(0, 1), state)
        return self.dense(out).transpose(0, 1), state


def _train(ns, sizes, given, batches, lr, epochs, bos, scale, seed):
    """The student's train_seq2seq on the grader's network (float64) and batches, with a grader
    loss (the masked cross-entropy times ``scale``), torch seeded with ``seed``; records the
    calls of the network, its weights at the first call and the gradient norm at every
    optimizer step."""
    nn = torch.nn
    torch.manual_seed(seed)

    class Toy(nn.Module):
        def __init__(self, V, E, H):
            super().__init__()
            self.source = nn.Embedding(V, E)
            self.target = nn.Embedding(V, E)
            self.encoder = nn.GRU(E, H, 2)
            self.decoder = nn.GRU(E, H, 2)
            self.dense = nn.Linear(H, V)

        def forward(self, X, dec_X, *args):
            _, state = self.encoder(self.source(X).transpose(0, 1))
            out, state = self.decoder(self.target(dec_X).transpose(0, 1), state)
            return self.dense(out).transpose(0, 1), state

    class GraderLoss(nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()

        def forward(self, pred, label, valid_len):
            keep = torch.arange(label.shape[1], device=label.device)[None, :] \
                < valid_len.reshape(-1, 1)
            each = nn.functional.cross_entropy(pred.permute(0, 2, 1), label, reduction="none")
            return (each * keep).mean(dim=1) * scale

    class Vocab:
        def __init__(self):
            self.idx_to_token = [f"t{i}" for i in range(sizes[0])]
            for index, token in ((0, "<pad>"), (1, "<eos>"), (bos, "<bos>")):
                self.idx_to_token[index] = token
            self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

        def __getitem__(self, token):
            if isinstance(token, (list, tuple)):
                return [self[t] for t in token]
            return self.token_to_idx.get(token, 2)

        def __len__(self):
            return len(self.idx_to_token)

    net = Toy(*sizes).double()
    with trusted():  # noqa: F821 - the scenario scope provides it
        net.load_state_dict(given)
    seen = {"calls": [], "initial": None, "steps": []}

    def before_forward(module, args):
        if seen["initial"] is None:
            seen["initial"] = {k: v.detach().clone() for k, v in module.state_dict().items()}
        seen["calls"].append({"args": [a.detach().clone() if isinstance(a, torch.Tensor) else a
                                       for a in args], "training": module.training})

    def before_step(optimizer, args, kwargs):
        grads = [p.grad for group in optimizer.param_groups for p in group["params"]
                 if p.grad is not None]
        norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads))) if grads else 0.0
        seen["steps"].append({"type": type(optimizer).__name__, "norm": norm,
                              "lr": float(optimizer.param_groups[0]["lr"]),
                              "params": sum(len(g["params"]) for g in optimizer.param_groups)})

    with trusted():  # noqa: F821
        hook = net.register_forward_pre_hook(before_forward)
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        step_hook = register_optimizer_step_pre_hook(before_step)
    try:
        with objects.Swap(ns, {"MaskedSoftmaxCELoss": GraderLoss}):  # noqa: F821
            result = ns["train_seq2seq"](net, BatchIterable(batches), lr, epochs,  # noqa: F821
                                         Vocab(), torch.device("cpu"))
    finally:
        hook.remove()
        step_hook.remove()
    seen["final"] = {k: v.detach().clone() for k, v in net.state_dict().items()}
    seen["result"] = result
    return seen


def _grader_loss(pred, label, valid_len, scale):
    keep = torch.arange(label.shape[1])[None, :] < valid_len.reshape(-1, 1)
    each = F.cross_entropy(pred.permute(0, 2, 1), label, reduction="none")
    return (each * keep).mean(dim=1) * scale


def _replay(sizes, initial, batches, lr, epochs, bos, scale):
    """The specification, from the student's initial weights: ``(final state, loss per token
    of the last epoch, gradient norm after clipping at every step)``."""
    net = _Toy(*sizes).double()
    net.load_state_dict(initial)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    norms = []
    for _epoch in range(epochs):
        total = tokens = 0.0
        for X, X_valid_len, Y, Y_valid_len in batches:
            optimizer.zero_grad()
            dec_input = torch.cat([torch.full((Y.shape[0], 1), bos), Y[:, :-1]], 1)
            Y_hat, _ = net(X, dec_input, X_valid_len)
            loss = _grader_loss(Y_hat, Y, Y_valid_len, scale)
            loss.sum().backward()
            norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0))
            norms.append(min(norm, 1.0))
            optimizer.step()
            total += float(loss.sum())
            tokens += float(Y_valid_len.sum())
    return {k: v.detach().clone() for k, v in net.state_dict().items()}, total / tokens, norms


SIZES = (10, 6, 8)  # vocabulary, embedding, hidden


def _batches(gen, count, B, T, V):
    batches = []
    for _batch in range(count):
        X_valid_len = torch.randint(1, T + 1, (B,), generator=gen).to(torch.int32)
        Y_valid_len = torch.randint(1, T + 1, (B,), generator=gen).to(torch.int32)
        X = torch.randint(3, V, (B, T), generator=gen)
        Y = torch.randint(3, V, (B, T), generator=gen)
        for i in range(B):
            X[i, int(X_valid_len[i]):] = 0
            Y[i, int(Y_valid_len[i]):] = 0
        batches.append([X, X_valid_len, Y, Y_valid_len])
    return batches


def _train_case(student, gen, seed, epochs=2, lr=0.01, scale=10.0):
    net = _Toy(*SIZES).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(st.normal(gen, *p.shape))
    given = {k: v.clone() for k, v in net.state_dict().items()}
    batches = _batches(gen, 3, 4, 5, SIZES[0])
    bos = int(torch.randint(3, SIZES[0], (1,), generator=gen))
    what = f"train_seq2seq(net, data_iter, lr={lr}, num_epochs={epochs}, tgt_vocab, cpu)"
    got = student.scenario(_train, list(SIZES), given, batches, lr, epochs, bos, scale, seed,
                           what=what, name="train_seq2seq")
    if got["initial"] is None:
        fail(f"{what} never called the network")
    return got, given, batches, bos, what


XAVIER_HINT = _("nn.init.xavier_uniform_ on the weight of every nn.Linear and on every weight_* "
                "parameter of every nn.GRU; leave biases and embeddings alone")


@exercise("train_seq2seq", weight=2)
def test_train_seq2seq_initialisation(student, gen, seed):
    got, given, _, _, what = _train_case(student, gen, seed, epochs=1)
    initial, samples = got["initial"], []
    for key, value in given.items():
        start = initial[key]
        if "weight" in key and not key.startswith(("source", "target")):
            fan_out, fan_in = value.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            expect(bool((start.abs() <= bound * (1 + 1e-9)).all()),
                   f"after {what} initialised the network, {key} (shape {tuple(value.shape)}) "
                   f"has values beyond the Xavier bound ±{bound:.4g}; {XAVIER_HINT}")
            samples.append((start / bound).reshape(-1))
        else:
            expect_tensor(start, value, what=f"{key} at the first forward pass of {what}",
                          hint=XAVIER_HINT)
    stats.expect_distribution(torch.cat(samples), lambda v: np.clip((v + 1) / 2, 0, 1),
                              what=f"the initial weights divided by Xavier's bound in {what}",
                              name="U(-1, 1)", hint=XAVIER_HINT)


@exercise("train_seq2seq", weight=2)
def test_train_seq2seq_teacher_forcing(student, gen, seed):
    got, _given, batches, bos, what = _train_case(student, gen, seed, epochs=2)
    calls = got["calls"]
    expect(len(calls) == 2 * len(batches), f"{what} called the network {len(calls)} times for "
           f"2 epochs of {len(batches)} batches; expected once per batch")
    for k, call in enumerate(calls):
        X, X_valid_len, Y, _Y_valid_len = batches[k % len(batches)]
        args = call["args"]
        where = f"call {k + 1} of the network in {what}"
        expect(call["training"], f"at {where} the network was in evaluation mode; call "
               "net.train() before training")
        expect(len(args) == 3, f"{where} passed {len(args)} arguments; expected net(X, "
               "dec_input, X_valid_len)")
        expect_tensor(args[0], X, what=f"the X of {where}", check_dtype=False)
        dec_input = torch.cat([torch.full((Y.shape[0], 1), bos), Y[:, :-1]], 1)
        expect_tensor(args[1], dec_input, what=f"the decoder input of {where}",
                      check_dtype=False,
                      hint=say(_("teacher forcing: tgt_vocab['<bos>'] (here {bos}) then "
                                 "Y[:, :-1]")).format(bos=bos))
        expect_tensor(args[2], X_valid_len, what=f"the third argument (X_valid_len) of {where}",
                      check_dtype=False)


@exercise("train_seq2seq", weight=2)
def test_train_seq2seq_clipping_and_adam(student, gen, seed):
    lr = 0.01
    got, _given, batches, bos, what = _train_case(student, gen, seed, epochs=2, lr=lr)
    final, _per_token, norms = _replay(SIZES, got["initial"], batches, lr, 2, bos, 10.0)
    steps = got["steps"]
    expect(len(steps) == len(norms), f"{what} took {len(steps)} optimizer steps for "
           f"{len(norms)} batches; expected one step per batch")
    for k, (step, norm) in enumerate(zip(steps, norms)):
        expect(step["type"] == "Adam" and abs(step["lr"] - lr) <= 1e-12,
               f"{what} stepped a {step['type']} optimizer with lr={step['lr']}; expected "
               f"torch.optim.Adam(net.parameters(), lr={lr})")
        expect(abs(step["norm"] - norm) <= 1e-5 * max(1.0, norm),
               f"at optimizer step {k + 1} of {what} the gradient norm was {step['norm']:.6g}; "
               f"expected {norm:.6g}. Hint: backpropagate l.sum(), then clip with "
               "grad_clipping(net, 1) before optimizer.step(), zeroing the gradients each batch")
    for key, value in final.items():
        expect_tensor(got["final"][key], value, what=f"{key} after {what}", atol=1e-6,
                      rtol=1e-5, hint=_("Adam on l.sum() with clipping, one step per batch"))


@exercise("train_seq2seq")
def test_train_seq2seq_returns_the_loss_per_token(student, gen, seed):
    lr = 0.01
    got, _, batches, bos, what = _train_case(student, gen, seed, epochs=2, lr=lr)
    _, per_token, _ = _replay(SIZES, got["initial"], batches, lr, 2, bos, 10.0)
    result = sequence(got["result"], what)
    expect(len(result) == 2, f"{what} returned {len(result)} values; expected (loss per token, "
           "tokens per second)")
    value = number(result[0], f"{what}'s loss per token")
    expect(abs(value - per_token) <= 1e-6 * max(1.0, abs(per_token)),
           f"{what} returned a loss per token of {value:.6g}; expected {per_token:.6g}: the "
           "sum of the last epoch's l.sum() over the sum of its Y_valid_len")
    speed = number(result[1], f"{what}'s tokens per second")
    expect(math.isfinite(speed) and speed > 0, f"{what} returned {speed} tokens per second; "
           "expected a positive number")


def _copy_task(gen, V=8, T=4, pairs=8):
    X = torch.randint(3, V, (pairs, T), generator=gen)
    Y = torch.flip(X, dims=[1])
    lengths = torch.full((pairs,), T, dtype=torch.int32)
    half = pairs // 2
    return [[X[:half], lengths[:half], Y[:half], lengths[:half]],
            [X[half:], lengths[half:], Y[half:], lengths[half:]]]


@exercise("train_seq2seq")
def test_train_seq2seq_learns(student, gen, seed):
    sizes = [8, 8, 16]
    net = _Toy(*sizes).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    given = {k: v.clone() for k, v in net.state_dict().items()}
    batches = _copy_task(gen)
    epochs, lr = 60, 0.02
    what = f"train_seq2seq(net, data_iter, lr={lr}, num_epochs={epochs}, tgt_vocab, cpu) on " \
           "8 reversed sequences"
    got = student.scenario(_train, sizes, given, batches, lr, epochs, 2, 1.0, seed, what=what,
                           name="train_seq2seq")
    expect(len(got["calls"]) == epochs * len(batches), f"{what} called the network "
           f"{len(got['calls'])} times; expected once per batch of every epoch")
    # uniform guessing: log(V) per step, averaged over the T steps of a sequence, per token
    uniform = math.log(sizes[0]) / batches[0][2].shape[1]
    limit = uniform / 4
    net.load_state_dict(got["final"])
    net.eval()
    tokens = total = 0.0
    with torch.no_grad():
        for X, _, Y, Y_valid_len in batches:
            dec_input = torch.cat([torch.full((Y.shape[0], 1), 2), Y[:, :-1]], 1)
            total += float(_grader_loss(net(X, dec_input)[0], Y, Y_valid_len, 1.0).sum())
            tokens += float(Y_valid_len.sum())
    expect(total / tokens < limit, f"after {what} the network's loss per token on its training "
           f"data is {total / tokens:.4g}; a network that learns gets below {limit:.3g} (a "
           f"quarter of uniform guessing's {uniform:.3g})")
    result = sequence(got["result"], what)
    expect(len(result) == 2, f"{what} returned {len(result)} values; expected two")
    value = number(result[0], f"{what}'s loss per token")
    expect(value < limit, f"{what} reported a last-epoch loss per token of {value:.4g}; a "
           f"network that learns gets below {limit:.3g} (a quarter of uniform guessing's "
           f"{uniform:.3g})")
