"""ch10 checks of attention pooling, scoring functions, Bahdanau attention and multi-head
attention (10.2-10.5).

Functions are compared with the reference on random float64 inputs, values and gradients.
Modules are graded by their state-dict names and shapes, then by their outputs and gradients
with randomised (float64) weights loaded, in evaluation mode. Where an exercise uses another one
(``masked_softmax``, ``AdditiveAttention``, ``DotProductAttention``, ``transpose_qkv``,
``transpose_output``), the scenario swaps in grader stand-ins, so one mistake costs points once.
``MultiHeadAttention`` is also compared with PyTorch's multi-head attention with copied weights.
"""

import pytest
import torch
from torch.nn import functional as F

import solutions.ch10 as ref
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_tensor, fail, shape_of, tensor
from grader.engine.plugin import exercise
from grader.engine.words import say
from grader.i18n import _

F64 = torch.float64


# --- scenarios (run in the sandbox) ---------------------------------------------------------------


def _function_run(ns, name, args, wrt, G):
    """``name(*args)``; backpropagate ``G`` from the result (or its first item, for a pair)."""
    leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
              for i, a in enumerate(args)]
    result = ns[name](*leaves)
    first = result[0] if isinstance(result, (tuple, list)) and len(result) > 0 else result
    grads = None
    if isinstance(first, torch.Tensor) and first.requires_grad and first.shape == G.shape:
        with trusted():  # noqa: F821 - the scenario scope provides it
            grads = list(torch.autograd.grad(first, [leaves[i] for i in wrt], G,
                                             allow_unused=True))
    return {"result": result, "grads": grads}


def _module_run(ns, name, args, state, inputs, G, weights_attr, swap_names):
    """Build ``name(*args)`` with grader stand-ins for ``swap_names``; when its state-dict names
    and shapes are ``state``'s, load it (float64, evaluation mode), run it on ``inputs`` and
    backpropagate ``G`` from the output (the first item of a pair)."""

    def grader_masked_softmax(X, valid_lens):
        if valid_lens is None:
            return torch.softmax(X, dim=-1)
        limit = valid_lens.reshape(X.shape[0], -1).expand(X.shape[0], X.shape[1])
        keep = torch.arange(X.shape[-1], device=X.device).reshape(1, 1, -1) < limit[..., None]
        return torch.softmax(torch.where(keep, X, torch.full_like(X, -1e6)), dim=-1)

    class GraderAdditive(torch.nn.Module):
        def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
            super().__init__()
            self.W_k = torch.nn.Linear(key_size, num_hiddens, bias=False)
            self.W_q = torch.nn.Linear(query_size, num_hiddens, bias=False)
            self.w_v = torch.nn.Linear(num_hiddens, 1, bias=False)
            self.dropout = torch.nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens):
            hidden = torch.tanh(self.W_q(queries)[:, :, None, :] + self.W_k(keys)[:, None, :, :])
            weights = grader_masked_softmax(self.w_v(hidden)[..., 0], valid_lens)
            self.attention_weights = weights
            return self.dropout(weights) @ values

    class GraderDot(torch.nn.Module):
        def __init__(self, dropout, **kwargs):
            super().__init__()
            self.dropout = torch.nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens=None):
            scores = queries @ keys.transpose(-1, -2) / queries.shape[-1] ** 0.5
            weights = grader_masked_softmax(scores, valid_lens)
            self.attention_weights = weights
            return self.dropout(weights) @ values

    def grader_split(X, num_heads):
        B, n, _ = X.shape
        return X.reshape(B, n, num_heads, -1).transpose(1, 2).reshape(B * num_heads, n, -1)

    def grader_merge(X, num_heads):
        _, n, d = X.shape
        return X.reshape(-1, num_heads, n, d).transpose(1, 2).reshape(-1, n, num_heads * d)

    stand_ins = {"masked_softmax": grader_masked_softmax, "AdditiveAttention": GraderAdditive,
                 "DotProductAttention": GraderDot, "transpose_qkv": grader_split,
                 "transpose_output": grader_merge}
    with objects.Swap(ns, {k: stand_ins[k] for k in swap_names if k in ns}):  # noqa: F821
        module = ns[name](*args)
        info = {"module": isinstance(module, torch.nn.Module)}
        if not info["module"]:
            return info
        info["keys"] = {k: list(v.shape) for k, v in module.state_dict().items()}
        if info["keys"] != {k: list(v.shape) for k, v in state.items()}:
            return info
        module = module.double()
        with trusted():  # noqa: F821
            module.load_state_dict(state)
        module.eval()
        module.to(G.device)
        if name == "Seq2SeqAttentionDecoder":
            enc_outputs, hidden, valid_lens, X = inputs
            enc_outputs = enc_outputs.clone().requires_grad_(True)
            hidden = hidden.clone().requires_grad_(True)
            leaves = [enc_outputs, hidden]
            dec_state = module.init_state((enc_outputs, hidden), valid_lens)
            info["state_kind"] = type(dec_state).__name__
            result = module(X, dec_state)
        else:
            leaves = [t.clone().requires_grad_(True)
                      if isinstance(t, torch.Tensor) and t.is_floating_point() else t
                      for t in inputs]
            result = module(*leaves)
        info["result"] = result
        if weights_attr:
            info["weights"] = getattr(module, weights_attr, None)
        first = result[0] if isinstance(result, (tuple, list)) and len(result) > 0 else result
        if isinstance(first, torch.Tensor) and first.requires_grad and first.shape == G.shape:
            with trusted():  # noqa: F821
                module.zero_grad(set_to_none=True)
                first.backward(G)
            info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
            info["input_grads"] = [t.grad if isinstance(t, torch.Tensor) and t.is_floating_point()
                                   else None for t in leaves]
    return info


# --- helpers --------------------------------------------------------------------------------------


def _randomised(module, gen, scale=0.5):
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=scale))
    module.eval()
    return module


def _expect_keys(got, reference, what):
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


def _expect_module(student, name, reference, args, inputs, gen, *, what, text, swaps=(),
                   weights_attr="attention_weights", hint="", forward=None, device=None):
    """Run the student's module with the reference's randomised weights; compare the output,
    the stored attention weights, and the gradients of the parameters and the float inputs."""
    reference = _randomised(reference, gen)
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    leaves, out = forward(reference) if forward else (None, None)
    if forward is None:
        leaves = [t.clone().requires_grad_(True)
                  if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in inputs]
        out = reference(*leaves)
    first = out[0] if isinstance(out, (tuple, list)) else out
    G = st.normal(gen, *first.shape)
    reference.zero_grad()
    first.backward(G)
    if device is not None:
        inputs = [t.to(device) if isinstance(t, torch.Tensor) else t for t in inputs]
        G = G.to(device)
    got = student.scenario(_module_run, name, list(args), state, inputs, G, weights_attr,
                           list(swaps), what=what, name=name)
    _expect_keys(got, reference, what)
    result = got.get("result")
    got_first = result[0] if isinstance(result, (tuple, list)) and len(result) > 0 else result
    expect_tensor(got_first, first.detach(), what=f"the output of {what}", inputs=text, hint=hint)
    if "param_grads" not in got:
        fail(f"the output of {what} is not differentiable with respect to its parameters")
    for n, p in reference.named_parameters():
        grad = got["param_grads"].get(n)
        if grad is None:
            fail(f"{what}'s parameter {n} got no gradient")
        expect_tensor(grad, p.grad, what=f"the gradient of {what}'s {n}", inputs=text)
    for i, (leaf, grad) in enumerate(zip(leaves, got["input_grads"])):
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point():
            if grad is None:
                fail(f"the output of {what} does not depend on its input #{i + 1}")
            expect_tensor(grad, leaf.grad, what=f"the gradient of {what} with respect to its "
                          f"input #{i + 1}", inputs=text)
    return got, reference, out


def _lengths(gen, B, K):
    """Distinct valid lengths in [1, K], K among them (so a wrong repetition order shows)."""
    others = torch.randperm(K - 1, generator=gen)[:B - 1] + 1
    return torch.cat([torch.tensor([K]), others])[torch.randperm(B, generator=gen)]


# --- 10.2 Nadaraya-Watson -------------------------------------------------------------------------

NW_HINT = _("row i of the weights is softmax over j of -(x_query[i] - x_train[j]) ** 2 / 2; "
            "y_hat = weights @ y_train")


def _nw_case(student, gen, n, m):
    x_train, _ = torch.sort(st.uniform(gen, n, high=5.0))
    y_train = 2 * torch.sin(x_train) + x_train ** 0.8 + st.normal(gen, n, scale=0.5)
    x_query = st.uniform(gen, m, high=5.0)
    G = st.normal(gen, m)
    args = [x_train, y_train, x_query]
    got = student.scenario(_function_run, "nadaraya_watson", args, [0, 1, 2], G,
                           what="nadaraya_watson(x_train, y_train, x_query)",
                           name="nadaraya_watson")
    leaves = [a.clone().requires_grad_(True) for a in args]
    y_hat, weights = ref.nadaraya_watson(*leaves)
    grads = torch.autograd.grad(y_hat, leaves, G)
    what = "nadaraya_watson(x_train, y_train, x_query)"
    text = f"x_train and y_train of shape ({n},), x_query of shape ({m},), float64"
    result = got["result"]
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} returned {type(result).__name__}; expected the pair (y_hat, "
             "attention_weights)")
    expect_tensor(result[1], weights.detach(), what=f"the attention weights of {what}",
                  inputs=text, hint=NW_HINT)
    expect_tensor(result[0], y_hat.detach(), what=f"y_hat of {what}", inputs=text, hint=NW_HINT)
    return got, grads, what, text


@exercise("nadaraya_watson", weight=2)
def test_nadaraya_watson_values(student, gen):
    _nw_case(student, gen, 50, 50)
    _nw_case(student, gen, 7, 3)


@exercise("nadaraya_watson")
def test_nadaraya_watson_gradient(student, gen):
    got, grads, what, text = _nw_case(student, gen, 9, 4)
    if got["grads"] is None:
        fail(f"y_hat of {what} is not differentiable")
    for label, g, want in zip(("x_train", "y_train", "x_query"), got["grads"], grads):
        if g is None:
            fail(f"y_hat of {what} does not depend on {label}")
        expect_tensor(g, want, what=f"the gradient of y_hat with respect to {label}",
                      inputs=text)


def _nw_module(ns, w, queries, keys, values, G):
    net = ns["NWKernelRegression"]()
    info = {"keys": {k: list(v.shape) for k, v in net.state_dict().items()}}
    if info["keys"] != {"w": [1]}:
        return info
    info["initial"] = float(net.w.detach()[0])
    net = net.double()
    with trusted():  # noqa: F821
        with torch.no_grad():
            net.w.copy_(w)
    queries = queries.clone().requires_grad_(True)
    out = net(queries, keys, values)
    info["result"] = out
    info["weights"] = getattr(net, "attention_weights", None)
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == G.shape:
        with trusted():  # noqa: F821
            out.backward(G)
        info["w_grad"] = net.w.grad
        info["q_grad"] = queries.grad
    return info


@exercise("NWKernelRegression", weight=2)
def test_nw_kernel_regression(student, gen):
    m, n = 6, 5
    w = st.uniform(gen, 1, low=0.5, high=3.0)
    queries = st.uniform(gen, m, high=5.0)
    keys = st.uniform(gen, m, n, high=5.0)
    values = st.normal(gen, m, n)
    G = st.normal(gen, m)
    what = f"NWKernelRegression() with w = {float(w):.3f}, called as net(queries, keys, values)"
    text = f"queries of shape ({m},), keys and values of shape ({m}, {n}), float64"
    got = student.scenario(_nw_module, w, queries, keys, values, G, what=what,
                           name="NWKernelRegression")
    if got["keys"] != {"w": [1]}:
        fail(f"NWKernelRegression()'s parameters are {got['keys']}; expected one parameter w "
             "of shape (1,)")
    expect(0.0 <= got["initial"] < 1.0, f"NWKernelRegression() starts with w = "
           f"{got['initial']}; expected a draw of torch.rand((1,)) in [0, 1)")
    reference = ref.NWKernelRegression().double()
    with torch.no_grad():
        reference.w.copy_(w)
    leaf = queries.clone().requires_grad_(True)
    out = reference(leaf, keys, values)
    out.backward(G)
    hint = _("the kernel is -((queries[i] - keys[i, j]) * w) ** 2 / 2, softmax over j")
    expect_tensor(got.get("weights"), reference.attention_weights.detach(),
                  what=f"the attention_weights {what} stores", inputs=text, hint=hint)
    expect_tensor(got["result"], out.detach(), what=what, inputs=text, hint=hint)
    if got.get("w_grad") is None:
        fail(f"the output of {what} is not differentiable with respect to w")
    expect_tensor(got["w_grad"], reference.w.grad, what=f"the gradient of w in {what}",
                  inputs=text)
    expect_tensor(got["q_grad"], leaf.grad, what=f"the gradient of the queries in {what}",
                  inputs=text)


# --- 10.3 masked_softmax --------------------------------------------------------------------------

MASK_HINT = _("replace the scores at key positions >= the valid length by -1e6, then softmax over "
              "the last axis; a 1-D valid_lens applies to every query of an example, a 2-D one "
              "to each query")


def _mask_case(student, gen, device, valid_kind, dtype=F64):
    B, Q, K = 4, 3, 6
    X = st.normal(gen, B, Q, K, scale=2.0, device=device).to(dtype)
    if valid_kind is None:
        valid_lens = None
    elif valid_kind == 1:
        valid_lens = torch.tensor([2, 6, 1, 4], device=device)
    elif valid_kind == "1-zero":
        valid_lens = torch.tensor([3, 0, 6, 1], device=device)
    else:
        valid_lens = torch.randint(1, K + 1, (B, Q), generator=gen).to(device)
        valid_lens[0, 0] = 0
    G = st.normal(gen, B, Q, K, device=device).to(dtype)
    got = student.scenario(_function_run, "masked_softmax", [X, valid_lens], [0], G,
                           what="masked_softmax(X, valid_lens)", name="masked_softmax")
    leaf = X.clone().requires_grad_(True)
    expected = ref.masked_softmax(leaf, valid_lens)
    grad = torch.autograd.grad(expected, leaf, G)[0]
    shown = None if valid_lens is None else valid_lens.tolist()
    what = f"masked_softmax(X, valid_lens={shown})"
    text = f"X of shape {(B, Q, K)}, {str(dtype).removeprefix('torch.')}"
    hint = (say(_("{hint}; a row whose valid length is 0 has every score replaced, so its "
                  "weights are uniform (a -inf fill would give NaN)")).format(hint=say(MASK_HINT))
            if valid_kind in (2, "1-zero") else MASK_HINT)
    expect_tensor(got["result"], expected.detach(), what=what, inputs=text, hint=hint)
    if got["grads"] is None or got["grads"][0] is None:
        fail(f"{what} is not differentiable with respect to X")
    expect_tensor(got["grads"][0], grad, what=f"the gradient of {what} with respect to X",
                  inputs=text)


@exercise("masked_softmax")
def test_masked_softmax_none(student, gen):
    _mask_case(student, gen, None, None)


@exercise("masked_softmax", weight=2)
def test_masked_softmax_1d(student, gen):
    _mask_case(student, gen, None, 1)


@exercise("masked_softmax", weight=2)
def test_masked_softmax_2d(student, gen):
    _mask_case(student, gen, None, 2)


@exercise("masked_softmax")
def test_masked_softmax_float32_with_an_empty_row(student, gen):
    _mask_case(student, gen, None, "1-zero", dtype=torch.float32)


@exercise("masked_softmax")
@pytest.mark.gpu
def test_masked_softmax_on_cuda(student, gen):
    _mask_case(student, gen, "cuda", 2)


# --- 10.3 AdditiveAttention and DotProductAttention -----------------------------------------------

ADDITIVE_HINT = _("scores = w_v(tanh(W_q(q)[:, :, None] + W_k(k)[:, None])).squeeze(-1), "
                  "weights = masked_softmax(scores, valid_lens), output = bmm(weights, values)")
DOT_HINT = _("scores = bmm(queries, keys^T) / sqrt(d); weights = masked_softmax(...); "
             "bmm(.., values)")


def _attention_case(student, gen, name, args, reference, B, Q, K, dq, dk, dv, valid):
    queries, keys = st.normal(gen, B, Q, dq), st.normal(gen, B, K, dk)
    values = st.normal(gen, B, K, dv)
    valid_lens = _lengths(gen, B, K) if valid else None
    inputs = [queries, keys, values, valid_lens]
    what = f"{name}{tuple(args)}(queries, keys, values, valid_lens)"
    text = (f"queries {(B, Q, dq)}, keys {(B, K, dk)}, values {(B, K, dv)}, valid_lens = "
            f"{None if valid_lens is None else valid_lens.tolist()}, evaluation mode, float64")
    got, reference, _ = _expect_module(
        student, name, reference, args, inputs, gen, what=what, text=text,
        swaps=("masked_softmax",), hint=ADDITIVE_HINT if name == "AdditiveAttention" else DOT_HINT)
    expect_tensor(got.get("weights"), reference.attention_weights.detach(),
                  what=f"the attention_weights {what} stores", inputs=text)


@exercise("AdditiveAttention", weight=2)
def test_additive_attention_masked(student, gen):
    args = (3, 5, 8, 0.1)
    _attention_case(student, gen, "AdditiveAttention", args, ref.AdditiveAttention(*args),
                    3, 2, 6, 5, 3, 4, True)


@exercise("AdditiveAttention")
def test_additive_attention_unmasked(student, gen):
    args = (4, 4, 6, 0.0)
    _attention_case(student, gen, "AdditiveAttention", args, ref.AdditiveAttention(*args),
                    2, 4, 5, 4, 4, 3, False)


@exercise("DotProductAttention", weight=2)
def test_dot_product_attention_masked(student, gen):
    _attention_case(student, gen, "DotProductAttention", (0.5,), ref.DotProductAttention(0.5),
                    3, 4, 6, 5, 5, 3, True)


@exercise("DotProductAttention")
def test_dot_product_attention_unmasked(student, gen):
    _attention_case(student, gen, "DotProductAttention", (0.0,), ref.DotProductAttention(0.0),
                    2, 3, 4, 7, 7, 2, False)


def _dropout_run(ns, name, args, inputs):
    """Build ``name(*args)`` (grader ``masked_softmax``), run it once in training mode."""
    def grader_masked_softmax(X, valid_lens):
        return torch.softmax(X, dim=-1)

    with objects.Swap(ns, {"masked_softmax": grader_masked_softmax}  # noqa: F821
                      if "masked_softmax" in ns else {}):
        module = ns[name](*args)
        if not isinstance(module, torch.nn.Module):
            return {"module": False}
        module = module.double().train()
        with torch.no_grad():
            result = module(*inputs)
        return {"module": True, "result": result,
                "weights": getattr(module, "attention_weights", None)}


def _dropout_case(student, gen, name, args, dq, dk):
    """In training mode with dropout p the output is ``bmm(dropout(weights), values)``: with
    values ``[I | v]`` its first K columns are the dropped weights themselves (each 0 or
    ``weight / (1 - p)``, about a fraction p of them 0) and its last column is those times ``v``.
    """
    p, B, Q, K = args[-1], 16, 8, 8
    queries, keys = st.normal(gen, B, Q, dq), st.normal(gen, B, K, dk)
    v = st.normal(gen, B, K, 1)
    values = torch.cat([torch.eye(K, dtype=F64).expand(B, K, K), v], dim=-1)
    what = f"{name}{tuple(args)} in training mode"
    got = student.scenario(_dropout_run, name, list(args), [queries, keys, values, None],
                           what=what, name=name)
    expect(got["module"], f"{name}{tuple(args)} is not an nn.Module")
    result = tensor(got["result"], f"the output of {what}")
    weights = tensor(got["weights"], f"the attention_weights {what} stores").double()
    expect(tuple(result.shape) == (B, Q, K + 1) and tuple(weights.shape) == (B, Q, K),
           f"{what} returned {shape_of(result)} and stored attention_weights of "
           f"{shape_of(weights)}; expected {(B, Q, K + 1)} and {(B, Q, K)}")
    hint = _("store attention_weights = masked_softmax(scores, valid_lens) before dropout and "
             "return bmm(self.dropout(attention_weights), values): dropout acts on the weights, "
             "not on the output")
    dropped = result[..., :K].double()
    kept = (dropped - weights / (1 - p)).abs() <= 1e-9 + 1e-6 * weights
    zeroed = dropped.abs() <= 1e-12
    inputs = (f"values = [I | v] of shape {(B, K, K + 1)}, so the first {K} output columns are "
              "the dropped-out attention weights")
    expect(bool((kept | zeroed).all()),
           f"with {what}, output entries are neither 0 nor attention_weights / (1 - p) "
           f"({inputs}). Hint: {hint}")
    share = zeroed.double().mean().item()
    expect(abs(share - p) < 0.08,
           f"with {what}, {share:.0%} of the attention weights were dropped; expected about "
           f"{p:.0%} ({inputs}). Hint: {hint}")
    expect_tensor(result[..., K:].double(), dropped @ v, what=f"the output of {what} for a "
                  "value column", inputs=inputs, hint=hint, check_dtype=False)


@exercise("AdditiveAttention")
def test_additive_attention_dropout_in_training_mode(student, gen):
    _dropout_case(student, gen, "AdditiveAttention", (3, 5, 8, 0.5), 5, 3)


@exercise("DotProductAttention")
def test_dot_product_attention_dropout_in_training_mode(student, gen):
    _dropout_case(student, gen, "DotProductAttention", (0.3,), 4, 4)


# --- 10.4 Seq2SeqAttentionDecoder -----------------------------------------------------------------

DECODER_HINT = _("for every step: query = hidden_state[-1] as (B, 1, h); context = "
                 "attention(query, enc_outputs, enc_outputs, enc_valid_lens); GRU input = "
                 "cat(context, embedding) on the feature axis; after the loop dense(...) and "
                 "permute to (B, T, V)")


def _decoder_case(student, gen, args, B, T, T_enc, valid):
    V, E, H, L = args[:4]
    reference = ref.Seq2SeqAttentionDecoder(*args)
    enc_outputs = st.normal(gen, T_enc, B, H)
    hidden = st.normal(gen, L, B, H)
    valid_lens = _lengths(gen, B, T_enc) if valid else None
    X = torch.randint(V, (B, T), generator=gen)
    leaves = [enc_outputs.clone().requires_grad_(True), hidden.clone().requires_grad_(True)]

    def forward(module):
        state = module.init_state((leaves[0], leaves[1]), valid_lens)
        return leaves, module(X, state)

    what = f"Seq2SeqAttentionDecoder{tuple(args)}"
    text = (f"encoder outputs {(T_enc, B, H)}, hidden state {(L, B, H)}, X {(B, T)}, "
            f"enc_valid_lens = {None if valid_lens is None else valid_lens.tolist()}, "
            "evaluation mode")
    got, reference, out = _expect_module(
        student, "Seq2SeqAttentionDecoder", reference, args,
        [enc_outputs, hidden, valid_lens, X], gen, what=what, text=text,
        swaps=("AdditiveAttention", "masked_softmax"), hint=DECODER_HINT, forward=forward)
    result = got["result"]
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{what}'s forward returned {type(result).__name__}; expected (output, state)")
    state = result[1]
    expect(isinstance(state, (tuple, list)) and len(state) == 3,
           f"{what}'s forward returned a state that is not [enc_outputs, hidden_state, "
           "enc_valid_lens]")
    expect_tensor(state[0], out[1][0].detach(), what=f"the enc_outputs in {what}'s state",
                  inputs=text, hint=_("init_state permutes the encoder outputs to (B, T, h)"))
    expect_tensor(state[1], out[1][1].detach(), what=f"the hidden state {what} returns",
                  inputs=text, hint=DECODER_HINT)
    weights = got.get("weights")
    if not isinstance(weights, (list, tuple)) or len(weights) != T:
        fail(f"{what}.attention_weights is not a list of the {T} steps' attention weights")
    for t, (g, w) in enumerate(zip(weights, reference.attention_weights)):
        expect_tensor(g, w.detach(), what=f"{what}.attention_weights[{t}]", inputs=text)


@exercise("Seq2SeqAttentionDecoder", weight=2)
def test_attention_decoder_two_layers(student, gen):
    _decoder_case(student, gen, (7, 4, 6, 2, 0.1), 3, 4, 5, True)


@exercise("Seq2SeqAttentionDecoder")
def test_attention_decoder_one_layer(student, gen):
    _decoder_case(student, gen, (5, 3, 4, 1), 2, 3, 4, False)


# --- 10.5 transpose_qkv, transpose_output, MultiHeadAttention ------------------------------------


@exercise("transpose_qkv")
def test_transpose_qkv(student, gen):
    for B, n, heads, d in ((2, 3, 4, 2), (3, 5, 2, 3)):
        X = st.normal(gen, B, n, heads * d)
        got = student.scenario(_function_run, "transpose_qkv", [X, heads], [0],
                               st.normal(gen, B * heads, n, d), what="transpose_qkv(X, ...)",
                               name="transpose_qkv")
        expect_tensor(got["result"], ref.transpose_qkv(X, heads),
                      what=f"transpose_qkv(X, num_heads={heads})",
                      inputs=f"X of shape {(B, n, heads * d)}",
                      hint=_("reshape to (B, n, heads, d), permute to (B, heads, n, d), "
                             "reshape to (B * heads, n, d)"))


@exercise("transpose_output")
def test_transpose_output(student, gen):
    for B, n, heads, d in ((2, 3, 4, 2), (3, 5, 2, 3)):
        X = st.normal(gen, B * heads, n, d)
        got = student.scenario(_function_run, "transpose_output", [X, heads], [0],
                               st.normal(gen, B, n, heads * d),
                               what="transpose_output(X, ...)", name="transpose_output")
        expect_tensor(got["result"], ref.transpose_output(X, heads),
                      what=f"transpose_output(X, num_heads={heads})",
                      inputs=f"X of shape {(B * heads, n, d)}",
                      hint=_("the inverse of transpose_qkv"))


MHA_SWAPS = ("DotProductAttention", "transpose_qkv", "transpose_output", "masked_softmax")
MHA_HINT = _("project with W_q/W_k/W_v, split heads with transpose_qkv, repeat valid_lens "
             "num_heads times (repeat_interleave), attend, transpose_output, then W_o")


def _mha_case(student, gen, args, B, Q, K, valid, device=None):
    key_size, query_size, value_size, num_hiddens, heads = args[:5]
    queries, keys = st.normal(gen, B, Q, query_size), st.normal(gen, B, K, key_size)
    values = st.normal(gen, B, K, value_size)
    valid_lens = _lengths(gen, B, K) if valid else None
    what = f"MultiHeadAttention{tuple(args)}(queries, keys, values, valid_lens)"
    text = (f"queries {(B, Q, query_size)}, keys {(B, K, key_size)}, values "
            f"{(B, K, value_size)}, valid_lens = "
            f"{None if valid_lens is None else valid_lens.tolist()}, evaluation mode")
    got, reference, out = _expect_module(
        student, "MultiHeadAttention", ref.MultiHeadAttention(*args),
        args, [queries, keys, values, valid_lens], gen, what=what, text=text, swaps=MHA_SWAPS,
        weights_attr="", hint=MHA_HINT, device=device)
    return reference, queries, keys, values, got["result"], what


@exercise("MultiHeadAttention", weight=2)
def test_multi_head_attention_masked(student, gen):
    _mha_case(student, gen, (5, 6, 3, 8, 2, 0.2), 3, 4, 5, True)


@exercise("MultiHeadAttention")
def test_multi_head_attention_with_bias_against_pytorch(student, gen):
    args = (8, 8, 8, 8, 4, 0.0, True)
    reference, queries, keys, values, result, what = _mha_case(student, gen, args, 2, 3, 4,
                                                                False)
    in_w = torch.cat([reference.W_q.weight, reference.W_k.weight, reference.W_v.weight])
    in_b = torch.cat([reference.W_q.bias, reference.W_k.bias, reference.W_v.bias])
    with torch.no_grad():
        torch_out = F.multi_head_attention_forward(
            queries.transpose(0, 1), keys.transpose(0, 1), values.transpose(0, 1), 8, 4, in_w,
            in_b, None, None, False, 0.0, reference.W_o.weight, reference.W_o.bias,
            training=False, need_weights=False)[0].transpose(0, 1)
    expect_tensor(result, torch_out, what=f"{what} against PyTorch's multi-head attention "
                  "with the same weights", inputs="queries (2, 3, 8), keys and values (2, 4, 8)")


@exercise("MultiHeadAttention")
@pytest.mark.gpu
def test_multi_head_attention_on_cuda(student, gen):
    _mha_case(student, gen, (4, 4, 4, 8, 2, 0.0), 2, 3, 4, True, device="cuda")
