"""ch10 checks of the Transformer (10.6.3 and 10.7).

Each module is graded by its state-dict names and shapes, then by its outputs and gradients with
the reference's randomised float64 weights loaded, in evaluation mode (and, for the decoder, in
training mode with dropout 0, where the self-attention must be causal). The module under test
runs with grader versions of every other exercise it uses (``MultiHeadAttention`` of the first
half of the chapter, ``PositionalEncoding``, ``PositionWiseFFN``, ``AddNorm``, ``EncoderBlock``,
``DecoderBlock``) swapped into the notebook's namespace, so one mistake costs points once.
The decoder's key-value cache is checked by predicting one token at a time in evaluation mode:
the outputs must equal those of the whole sequence at once in training mode without dropout.
"""

import math

import torch
from torch import nn

import solutions.ch10 as ref
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_tensor, fail
from grader.engine.plugin import exercise
from grader.i18n import _


def _run(ns, name, args, state, mode, inputs, grads, train):
    """Build ``name(*args)`` with grader versions of the other Transformer parts in ``ns``;
    load ``state`` (float64) when its names and shapes match, then run it as ``mode`` says:
    ``plain`` (``module(*inputs)``), ``block`` (a ``DecoderBlock`` on ``[X, X2, enc_outputs,
    enc_valid_lens]``), ``decoder`` (a ``TransformerDecoder`` on the same, through
    ``init_state``)."""
    import math

    class GraderMHA(torch.nn.Module):
        def __init__(self, key_size, query_size, value_size,  # the book's names, as keywords
                     num_hiddens, num_heads, dropout, bias=False, **kwargs):
            super().__init__()
            self.heads, width = num_heads, num_hiddens
            self.W_q = torch.nn.Linear(query_size, width, bias=bias)
            self.W_k = torch.nn.Linear(key_size, width, bias=bias)
            self.W_v = torch.nn.Linear(value_size, width, bias=bias)
            self.W_o = torch.nn.Linear(width, width, bias=bias)
            self.attention = torch.nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens):
            with trusted():  # noqa: F821 - the scenario scope provides it
                b, n = queries.shape[0], self.heads

                def heads(t):
                    return t.reshape(b, t.shape[1], n, -1).transpose(1, 2)

                q, k, v = heads(self.W_q(queries)), heads(self.W_k(keys)), heads(self.W_v(values))
                scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
                tq, tk = scores.shape[-2], scores.shape[-1]
                if valid_lens is not None:
                    lens = valid_lens if valid_lens.dim() == 2 else \
                        valid_lens[:, None].expand(b, tq)
                    seen = torch.arange(tk, device=scores.device)[None, None, :] < lens[:, :, None]
                    scores = scores.masked_fill(~seen[:, None], -1e6)
                weights = scores.softmax(dim=-1)
                self.attention.attention_weights = weights.reshape(b * n, tq, tk)
                mixed = self.attention(weights) @ v
                return self.W_o(mixed.transpose(1, 2).reshape(b, tq, -1))

    class GraderPE(torch.nn.Module):
        def __init__(self, width, p, max_len=1000):
            super().__init__()
            self.dropout = torch.nn.Dropout(p)
            pos = torch.arange(max_len, dtype=torch.float32)[:, None]
            freq = torch.pow(10000, torch.arange(0, width, 2, dtype=torch.float32) / width)
            angle = pos / freq
            self.P = torch.stack((angle.sin(), angle.cos()), dim=-1).reshape(1, max_len, -1)

        def forward(self, X):
            with trusted():  # noqa: F821 - the scenario scope provides it
                return self.dropout(X + self.P[:, :X.shape[1]].to(X.device))

    class GraderFFN(torch.nn.Module):
        def __init__(self, n_in, n_hidden, n_out, **kwargs):
            super().__init__()
            self.dense1, self.dense2 = torch.nn.Linear(n_in, n_hidden), \
                torch.nn.Linear(n_hidden, n_out)

        def forward(self, X):
            with trusted():  # noqa: F821 - the scenario scope provides it
                return self.dense2(torch.relu(self.dense1(X)))

    class GraderAddNorm(torch.nn.Module):
        def __init__(self, shape, dropout, **kwargs):
            super().__init__()
            self.dropout, self.ln = torch.nn.Dropout(dropout), torch.nn.LayerNorm(shape)

        def forward(self, X, Y):
            with trusted():  # noqa: F821 - the scenario scope provides it
                return self.ln(X + self.dropout(Y))

    class GraderEncoderBlock(torch.nn.Module):
        def __init__(self, k_in, q_in, v_in, width, shape, f_in, f_hidden, heads, p,
                     bias=False, **kwargs):
            super().__init__()
            self.attention = GraderMHA(k_in, q_in, v_in, width, heads, p, bias)
            self.addnorm1 = GraderAddNorm(shape, p)
            self.ffn = GraderFFN(f_in, f_hidden, width)
            self.addnorm2 = GraderAddNorm(shape, p)

        def forward(self, X, valid_lens):
            mid = self.addnorm1(X, self.attention(X, X, X, valid_lens))
            return self.addnorm2(mid, self.ffn(mid))

    class GraderDecoderBlock(torch.nn.Module):
        def __init__(self, k_in, q_in, v_in, width, shape, f_in, f_hidden, heads, p, i,
                     **kwargs):
            super().__init__()
            self.i = i
            self.attention1 = GraderMHA(k_in, q_in, v_in, width, heads, p)
            self.attention2 = GraderMHA(k_in, q_in, v_in, width, heads, p)
            self.addnorm1, self.addnorm2, self.addnorm3 = (GraderAddNorm(shape, p)
                                                           for _ in range(3))
            self.ffn = GraderFFN(f_in, f_hidden, width)

        def forward(self, X, state):
            with trusted():  # noqa: F821 - the scenario scope provides it
                cache = state[2][self.i]
                kv = X if cache is None else torch.cat([cache, X], dim=1)
                state[2][self.i] = kv
                lens = None
                if self.training:
                    steps = torch.arange(1, X.shape[1] + 1, device=X.device)
                    lens = steps[None, :].expand(X.shape[0], -1)
            mid = self.addnorm1(X, self.attention1(X, kv, kv, lens))
            mid2 = self.addnorm2(mid, self.attention2(mid, state[0], state[0], state[1]))
            return self.addnorm3(mid2, self.ffn(mid2)), state

    graders = {"MultiHeadAttention": GraderMHA, "PositionalEncoding": GraderPE,
               "PositionWiseFFN": GraderFFN, "AddNorm": GraderAddNorm,
               "EncoderBlock": GraderEncoderBlock, "DecoderBlock": GraderDecoderBlock}
    saved = {k: ns.get(k) for k in graders if k != name}
    ns.update({k: v for k, v in graders.items() if k != name})
    try:
        module = ns[name](*args)
    finally:
        for k, v in saved.items():
            if v is None:
                ns.pop(k, None)
            else:
                ns[k] = v
    info = {"module": isinstance(module, torch.nn.Module)}
    if not info["module"]:
        return info
    info["keys"] = {k: list(v.shape) for k, v in module.state_dict().items()
                    if not (name == "PositionalEncoding" and k == "P")}
    info["P"] = getattr(module, "P", None)
    if info["keys"] != {k: list(v.shape) for k, v in state.items()}:
        return info
    if mode == "none":
        return info
    module = module.double()
    with trusted():  # noqa: F821 - the scenario scope provides it
        module.load_state_dict(state, strict=False)
    module.train(train)
    if mode == "plain":
        leaves = [t.clone().requires_grad_(True) if isinstance(t, torch.Tensor)
                  and t.is_floating_point() else t for t in inputs]
        out = module(*leaves)
        info["result"] = out
        if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == grads[0].shape:
            with trusted():  # noqa: F821 - the scenario scope provides it
                module.zero_grad(set_to_none=True)
                out.backward(grads[0])
            info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
            info["input_grads"] = [t.grad if isinstance(t, torch.Tensor) else None
                                   for t in leaves]
        if name == "TransformerEncoder":
            weights = getattr(module, "attention_weights", None)
            info["weights"] = list(weights) if isinstance(weights, (list, tuple)) else None
            info["block_weights"] = [b.attention.attention.attention_weights
                                     for b in module.blks]
        return info
    X, X2, enc, enc_lens = inputs
    enc = enc.clone().requires_grad_(True)
    layers = args[9] if mode == "decoder" else 1

    def fresh(enc_outputs):
        if mode == "decoder":
            return module.init_state(enc_outputs, enc_lens)
        return [enc_outputs, enc_lens, [None] * (args[-1] + 1)]

    state0 = fresh(enc)
    if mode == "decoder":
        info["state"] = [state0[0] is enc, state0[1] is enc_lens,
                         list(state0[2]) if isinstance(state0[2], list) else None]
    leaf = X.clone().requires_grad_(True) if X.is_floating_point() else X
    result = module(leaf, state0)
    info["result"] = result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return info
    out = result[0]
    info["cache"] = list(result[1][2]) if isinstance(result[1], list) and len(result[1]) == 3 \
        and isinstance(result[1][2], list) else None
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == grads[0].shape:
        with trusted():  # noqa: F821 - the scenario scope provides it
            module.zero_grad(set_to_none=True)
            out.backward(grads[0])
        info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
        info["input_grads"] = [leaf.grad if X.is_floating_point() else None, enc.grad]
    if train:
        with torch.no_grad():
            info["perturbed"] = module(X2, fresh(enc.detach()))[0]
        return info
    with torch.no_grad():
        state1 = fresh(enc.detach())
        steps = []
        for t in range(X.shape[1]):
            step, state1 = module(X[:, t:t + 1], state1)
            steps.append(step)
        info["steps"] = steps
        info["step_cache"] = list(state1[2])[:layers]
    return info


class _GraderMHA(nn.Module):
    """The book's multi-head attention (10.5), the grader's own copy: the reference modules are
    built with it, so they never depend on the chapter's ``MultiHeadAttention`` exercise."""

    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__()
        self.heads = num_heads
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.attention = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        b, n = queries.shape[0], self.heads

        def heads(t):
            return t.reshape(b, t.shape[1], n, -1).transpose(1, 2)

        q, k, v = heads(self.W_q(queries)), heads(self.W_k(keys)), heads(self.W_v(values))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        tq, tk = scores.shape[-2], scores.shape[-1]
        if valid_lens is not None:
            lens = valid_lens if valid_lens.dim() == 2 else valid_lens[:, None].expand(b, tq)
            seen = torch.arange(tk)[None, None, :] < lens[:, :, None]
            scores = scores.masked_fill(~seen[:, None], -1e6)
        weights = scores.softmax(dim=-1)
        self.attention.attention_weights = weights.reshape(b * n, tq, tk)
        mixed = self.attention(weights) @ v
        return self.W_o(mixed.transpose(1, 2).reshape(b, tq, -1))


def _reference(name: str, *args) -> nn.Module:
    """``solutions.ch10.<name>(*args)`` built with the grader's multi-head attention."""
    saved = getattr(ref, "MultiHeadAttention", None)
    ref.MultiHeadAttention = _GraderMHA
    try:
        return getattr(ref, name)(*args)
    finally:
        if saved is None:
            del ref.MultiHeadAttention
        else:
            ref.MultiHeadAttention = saved


def _randomised(module: nn.Module, gen: torch.Generator) -> nn.Module:
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    return module


def _expect_keys(got: dict, reference: nn.Module, what: str) -> None:
    expect(got["module"], f"{what} is not an nn.Module: subclass nn.Module (or the book's "
           "Encoder/Decoder) and call super().__init__()")
    want = {k: list(v.shape) for k, v in reference.state_dict().items() if k != "P"}
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


def _expect_grads(got, reference, leaves, labels, what, text):
    if "param_grads" not in got:
        fail(f"the output of {what} is not differentiable, or has the wrong shape")
    for n, p in reference.named_parameters():
        grad = got["param_grads"].get(n)
        if grad is None:
            fail(f"{what}'s parameter {n} got no gradient: the output does not depend on it")
        expect_tensor(grad, p.grad, what=f"the gradient of {what}'s {n}", inputs=text)
    for label, leaf, grad in zip(labels, leaves, got["input_grads"]):
        if isinstance(leaf, torch.Tensor) and leaf.requires_grad:
            if grad is None:
                fail(f"the output of {what} does not depend on its {label}")
            expect_tensor(grad, leaf.grad, what=f"the gradient of {what} with respect to its "
                          f"{label}", inputs=text)


def _expect_plain(student, name, reference, args, inputs, gen, *, what, labels, hint="",
                  train=False):
    reference = _randomised(reference, gen)
    reference.train(train)
    state = {k: v.clone() for k, v in reference.state_dict().items() if k != "P"}
    leaves = [t.clone().requires_grad_(True) if isinstance(t, torch.Tensor)
              and t.is_floating_point() else t for t in inputs]
    out = reference(*leaves)
    grad = st.normal(gen, *out.shape)
    reference.zero_grad()
    out.backward(grad)
    got = student.scenario(_run, name, list(args), state, "plain", inputs, [grad], train,
                           what=what, name=name)
    _expect_keys(got, reference, what)
    text = ", ".join(f"{n} of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor)
                     else f"{n}={t}" for n, t in zip(labels, inputs)) + \
        (", training mode" if train else ", evaluation mode") + ", the reference's weights"
    expect_tensor(got.get("result"), out.detach(), what=f"the output of {what}", inputs=text,
                  hint=hint)
    _expect_grads(got, reference, leaves, labels, what, text)
    return got


# --- PositionalEncoding ---------------------------------------------------------------------------


@exercise("PositionalEncoding", weight=2)
def test_positional_encoding_matrix(student, gen):
    for h, max_len in ((32, 1000), (6, 7)):
        what = f"PositionalEncoding({h}, 0.1, max_len={max_len})" if max_len != 1000 else \
            f"PositionalEncoding({h}, 0.1)"
        got = student.scenario(_run, "PositionalEncoding", [h, 0.1, max_len], {}, "none", [], [],
                               False, what=what, name="PositionalEncoding")
        expect(got["module"], f"{what} is not an nn.Module")
        if got["P"] is None:
            fail(f"{what} has no attribute P (the positional encoding matrix)")
        expect_tensor(got["P"], ref.PositionalEncoding(h, 0.1, max_len).P, what=f"{what}.P",
                      atol=2e-4, rtol=1e-4, check_dtype=False,
                      hint=_("shape (1, max_len, num_hiddens): even columns "
                        "sin(i / 10000^(2j/num_hiddens)), odd columns cos of the same"))


@exercise("PositionalEncoding")
def test_positional_encoding_forward(student, gen):
    X = st.normal(gen, 3, 5, 8)
    _expect_plain(student, "PositionalEncoding", ref.PositionalEncoding(8, 0.2), (8, 0.2), [X],
                  gen, what="PositionalEncoding(8, 0.2) in evaluation mode", labels=["X"],
                  hint=_("add P[:, :num_steps, :] to X, then apply dropout"))


@exercise("PositionalEncoding")
def test_positional_encoding_dropout(student, gen):
    X = torch.ones(2, 50, 20, dtype=torch.float64)
    got = student.scenario(_run, "PositionalEncoding", [20, 1.0, 60], {}, "plain", [X],
                           [torch.zeros(2, 50, 20, dtype=torch.float64)], True,
                           what="PositionalEncoding(20, 1.0, 60) in training mode",
                           name="PositionalEncoding")
    result = expect_tensor(got.get("result"), torch.zeros(2, 50, 20, dtype=torch.float64),
                           what="PositionalEncoding(20, dropout=1.0) in training mode",
                           hint=_("apply nn.Dropout(dropout) after adding P"), check_dtype=False)
    del result


# --- PositionWiseFFN and AddNorm -----------------------------------------------------------------


@exercise("PositionWiseFFN")
def test_position_wise_ffn(student, gen):
    for args, shape in (((4, 8, 6), (2, 3, 4)), ((3, 5, 2), (1, 4, 3))):
        _expect_plain(student, "PositionWiseFFN", ref.PositionWiseFFN(*args), args,
                      [st.normal(gen, *shape)], gen, what=f"PositionWiseFFN{args}",
                      labels=["X"], hint=_("dense2(relu(dense1(X))) with biases"))


@exercise("AddNorm")
def test_add_norm(student, gen):
    for args, shape in ((([3, 4], 0.5), (2, 3, 4)), ((4, 0.1), (2, 3, 4))):
        X, Y = st.normal(gen, *shape), st.normal(gen, *shape)
        _expect_plain(student, "AddNorm", ref.AddNorm(*args), args, [X, Y], gen,
                      what=f"AddNorm{args} in evaluation mode", labels=["X", "Y"],
                      hint=_("ln(dropout(Y) + X): the residual adds X, the sublayer output is Y"))


# --- EncoderBlock and TransformerEncoder ---------------------------------------------------------

BLOCK = (8, 8, 8, 8, [8], 8, 12, 2, 0.5)


@exercise("EncoderBlock", weight=2)
def test_encoder_block(student, gen):
    for lens in (torch.tensor([3, 5]), None):
        X = st.normal(gen, 2, 5, 8)
        what = f"EncoderBlock{BLOCK} in evaluation mode"
        _expect_plain(student, "EncoderBlock", _reference("EncoderBlock", *BLOCK), BLOCK,
                      [X, lens], gen, what=what, labels=["X", "valid_lens"],
                      hint=_("Y = addnorm1(X, attention(X, X, X, valid_lens)); "
                        "return addnorm2(Y, ffn(Y))"))


@exercise("EncoderBlock")
def test_encoder_block_bias(student, gen):
    args = (6, 6, 6, 6, [6], 6, 4, 3, 0.0, True)
    _expect_plain(student, "EncoderBlock", _reference("EncoderBlock", *args), args,
                  [st.normal(gen, 3, 4, 6), torch.tensor([1, 4, 2])], gen,
                  what=f"EncoderBlock{args}", labels=["X", "valid_lens"],
                  hint=_("pass use_bias on to MultiHeadAttention"))


ENCODER = (11, 8, 8, 8, 8, [8], 8, 12, 2, 2, 0.5)


@exercise("TransformerEncoder", weight=2)
def test_transformer_encoder(student, gen):
    X, lens = torch.randint(11, (3, 6), generator=gen), torch.tensor([6, 2, 4])
    what = f"TransformerEncoder{ENCODER} in evaluation mode"
    got = _expect_plain(student, "TransformerEncoder", _reference("TransformerEncoder", *ENCODER),
                        ENCODER, [X, lens], gen, what=what, labels=["X", "valid_lens"],
                        hint=_("pos_encoding(embedding(X) * sqrt(num_hiddens)), then every "
                          "block with valid_lens"))
    weights = got.get("weights")
    if weights is None or len(weights) != 2:
        fail(f"{what}.attention_weights is not a list of the 2 blocks' attention weights")
    for i, (mine, wanted) in enumerate(zip(weights, got["block_weights"])):
        expect_tensor(mine, wanted, what=f"{what}.attention_weights[{i}]",
                      hint=_("keep blk.attention.attention.attention_weights of block i"))


@exercise("TransformerEncoder")
def test_transformer_encoder_one_layer(student, gen):
    args = (5, 4, 4, 4, 4, [4], 4, 6, 1, 1, 0.0, True)
    X = torch.randint(5, (2, 3), generator=gen)
    _expect_plain(student, "TransformerEncoder", _reference("TransformerEncoder", *args), args,
                  [X, torch.tensor([2, 3])], gen, what=f"TransformerEncoder{args}",
                  labels=["X", "valid_lens"], train=True)


# --- DecoderBlock and TransformerDecoder --------------------------------------------------------


def _decoder_case(student, name, reference, args, X, X2, enc, enc_lens, gen, *, train, what):
    reference = _randomised(reference, gen)
    reference.train(train)
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    enc_leaf = enc.clone().requires_grad_(True)
    leaf = X.clone().requires_grad_(True) if X.is_floating_point() else X
    if name == "DecoderBlock":
        layers = args[-1] + 1
        ref_state = [enc_leaf, enc_lens, [None] * layers]
    else:
        layers = args[9]
        ref_state = reference.init_state(enc_leaf, enc_lens)
    out, ref_state = reference(leaf, ref_state)
    grad = st.normal(gen, *out.shape)
    reference.zero_grad()
    out.backward(grad)
    mode = "block" if name == "DecoderBlock" else "decoder"
    got = student.scenario(_run, name, list(args), state, mode, [X, X2, enc, enc_lens], [grad],
                           train, what=what, name=name)
    _expect_keys(got, reference, what)
    text = (f"X of shape {tuple(X.shape)}, enc_outputs of shape {tuple(enc.shape)}, "
            f"enc_valid_lens {enc_lens.tolist()}, "
            + ("training mode, dropout 0" if train else "evaluation mode")
            + ", the reference's weights")
    result = got.get("result")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} returned {type(result).__name__}; expected the pair (output, state)")
    hint = _("in training mode each query t sees keys 0..t (valid lengths 1..num_steps); "
             "self-attention, add&norm, encoder-decoder attention with enc_valid_lens, "
             "add&norm, FFN, add&norm")
    expect_tensor(result[0], out.detach(), what=f"the output of {what}", inputs=text, hint=hint)
    cache = got.get("cache")
    if cache is None or len(cache) != layers:
        fail(f"the state returned by {what} is not [enc_outputs, enc_valid_lens, caches] with "
             f"a list of {layers} caches")
    for i, (mine, wanted) in enumerate(zip(cache, ref_state[2])):
        if wanted is None:
            continue
        expect_tensor(mine, wanted.detach(), what=f"state[2][{i}] after {what}", inputs=text,
                      hint=_("store the self-attention's keys and values (the cache followed by "
                        "X) in state[2][self.i]"))
    _expect_grads(got, reference, [leaf, enc_leaf], ["X", "enc_outputs"], what, text)
    if not train:
        with torch.no_grad():
            step_state = [enc, enc_lens, [None] * layers] if name == "DecoderBlock" else \
                reference.init_state(enc, enc_lens)
            got["ref_steps"] = []
            for t in range(X.shape[1]):
                step, step_state = reference(X[:, t:t + 1], step_state)
                got["ref_steps"].append(step)
        for m in reference.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        reference.train()
        with torch.no_grad():
            fresh = [enc, enc_lens, [None] * layers] if name == "DecoderBlock" else \
                reference.init_state(enc, enc_lens)
            got["causal"] = reference(X, fresh)[0]
    return got, out.detach()


@exercise("DecoderBlock", weight=2)
def test_decoder_block_training_is_causal(student, gen):
    args = (8, 8, 8, 8, [8], 8, 12, 2, 0.0, 1)
    X, enc = st.normal(gen, 2, 5, 8), st.normal(gen, 2, 4, 8)
    X2 = X.clone()
    X2[:, -1] = st.normal(gen, 2, 8)
    what = f"DecoderBlock{args} in training mode"
    got, out = _decoder_case(student, "DecoderBlock", _reference("DecoderBlock", *args), args,
                             X, X2, enc, torch.tensor([2, 4]), gen, train=True, what=what)
    expect_tensor(got["perturbed"][:, :-1], out[:, :-1], what=f"the first 4 outputs of {what} "
                  "after changing only the last step of X",
                  hint=_("in training mode the self-attention must be causal: mask later steps "
                    "with dec_valid_lens = [1, 2, ..., num_steps] for every sequence"))


@exercise("DecoderBlock", weight=2)
def test_decoder_block_cache(student, gen):
    args = (8, 8, 8, 8, [8], 8, 12, 2, 0.5, 0)
    X, enc = st.normal(gen, 2, 4, 8), st.normal(gen, 2, 3, 8)
    lens = torch.tensor([3, 1])
    what = f"DecoderBlock{args} in evaluation mode"
    got, out = _decoder_case(student, "DecoderBlock", _reference("DecoderBlock", *args), args, X, X,
                             enc, lens, gen, train=False, what=what)
    _expect_steps(got, what, X)


def _expect_steps(got, what, X, causal=True):
    """Outputs one step at a time in evaluation mode, with the state returned each time: for a
    block, the causal output of the whole sequence; for the decoder, the reference's steps (the
    book's decoder adds position 0's encoding at every step)."""
    steps = got.get("steps")
    if not steps or not all(isinstance(s, torch.Tensor) for s in steps):
        fail(f"{what} did not return outputs when called one step at a time")
    wanted = [got["causal"][:, t:t + 1] for t in range(X.shape[1])] if causal else \
        got["ref_steps"]
    for t, step in enumerate(steps):
        expect_tensor(step, wanted[t], what=f"the output of {what} at step {t} when fed one "
                      "step at a time, with the state it returned"
                      + (" (expected: the causal output of the whole sequence)" if causal
                         else ""), inputs=(
                          f"X of shape {tuple(X.shape)}, step t gets X[:, t:t+1]"),
                      hint=_("in evaluation mode, attend to the cached keys and values "
                        "state[2][self.i] followed by X, without a mask, and store them back"))


DECODER = (10, 8, 8, 8, 8, [8], 8, 12, 2, 2, 0.5)


@exercise("TransformerDecoder", weight=2)
def test_transformer_decoder(student, gen):
    X, enc = torch.randint(10, (2, 4), generator=gen), st.normal(gen, 2, 3, 8)
    what = f"TransformerDecoder{DECODER} in evaluation mode"
    got, _ = _decoder_case(student, "TransformerDecoder",
                           _reference("TransformerDecoder", *DECODER), DECODER, X, X, enc,
                           torch.tensor([3, 2]), gen, train=False, what=what)
    expect(got["state"][:2] == [True, True] and got["state"][2] == [None, None],
           f"{what}.init_state(enc_outputs, enc_valid_lens) should return [enc_outputs, "
           "enc_valid_lens, [None] * num_layers]")
    _expect_steps(got, what, X, causal=False)


@exercise("TransformerDecoder")
def test_transformer_decoder_training(student, gen):
    args = (7, 4, 4, 4, 4, [4], 4, 6, 1, 1, 0.0)
    X, enc = torch.randint(7, (3, 5), generator=gen), st.normal(gen, 3, 2, 4)
    _decoder_case(student, "TransformerDecoder", _reference("TransformerDecoder", *args),
                  args, X, X, enc, torch.tensor([1, 2, 2]), gen, train=True,
                  what=f"TransformerDecoder{args} in training mode")
