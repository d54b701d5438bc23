"""ch09 checks of the recurrent cells from scratch: GRU, LSTM (and its parameters and state), a
deep RNN and a bidirectional RNN.

Each cell runs in the sandbox on float64 inputs, state and parameters that are fresh leaves; its
outputs, final state and the vector–Jacobian products with respect to every input, state and
parameter tensor (one random upstream gradient for the outputs and one per state tensor) are
compared with the reference. A second check proves the relation to PyTorch's layers with
copied weights (``nn.LSTM`` and ``nn.RNN`` exactly; ``nn.GRU`` where the reset gates agree).
"""

import pytest
import torch
from scipy import stats as sps

import solutions.ch09 as ref
from grader.engine import stats
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_tensor, fail, sequence
from grader.engine.plugin import exercise
from grader.i18n import _

F64 = torch.float64
GRU_NAMES = ["W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h", "W_hq", "b_q"]
LSTM_NAMES = ["W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o", "W_xc", "W_hc",
              "b_c", "W_hq", "b_q"]


# --- running a cell in the sandbox --------------------------------------------------------------


def _cell(ns, name, inputs, state, params, grad_outputs, grad_state):
    """Call ``name(inputs, state, params)`` on fresh leaves; return its outputs, its state and
    the gradients of ``<outputs, grad_outputs> + sum <state_i, grad_state_i>`` with respect to
    the inputs, each state tensor and each parameter (flattened in order)."""

    def leaves(value):
        if isinstance(value, torch.Tensor):
            return value.detach().clone().requires_grad_(True)
        return [leaves(v) for v in value]

    def flatten(value):
        if isinstance(value, torch.Tensor):
            return [value]
        return [t for v in value for t in flatten(v)]

    inputs, state, params = leaves(inputs), leaves(state), leaves(params)
    result = ns[name](inputs, tuple(state), params)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"error": f"returned a {type(result).__name__}; expected a pair "
                         "(outputs, state)"}
    outputs, new_state = result
    if isinstance(new_state, torch.Tensor) or not isinstance(new_state, (tuple, list)):
        return {"error": f"returned as its state a {type(new_state).__name__}; expected a "
                         f"tuple of {len(state)} tensor(s)"}
    answer = {"error": None, "outputs": outputs, "state": list(new_state), "grads": None}
    pairs = [(o, g) for o, g in zip([outputs, *new_state], [grad_outputs, *grad_state])
             if isinstance(o, torch.Tensor) and o.requires_grad and o.shape == g.shape
             and o.dtype == g.dtype]
    if pairs and len(pairs) == 1 + len(grad_state):
        wrt = [inputs, *state, *flatten(params)]
        with trusted():  # noqa: F821 - the scenario scope provides it
            grads = torch.autograd.grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                                        allow_unused=True)
        answer["grads"] = list(grads)
    return answer


def _flatten(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in _flatten(v)]


def _leaves(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(True)
    return [_leaves(v) for v in value]


def _expected(reference, inputs, state, params, grad_outputs, grad_state):
    inputs_, state_, params_ = _leaves(inputs), _leaves(state), _leaves(params)
    outputs, new_state = reference(inputs_, tuple(state_), params_)
    wrt = [inputs_, *state_, *_flatten(params_)]
    grads = torch.autograd.grad([outputs, *new_state], wrt, [grad_outputs, *grad_state])
    return outputs.detach(), [s.detach() for s in new_state], list(grads)


def _run_cell(student, name, reference, inputs, state, params, gen, *, names, what, hint=""):
    """Run the student's cell and the reference; compare values, then return both answers so
    that a gradient check can compare the gradients."""
    expected = reference(inputs, tuple(state), params)
    G_out = st.normal(gen, *expected[0].shape, device=inputs.device)
    G_state = [st.normal(gen, *s.shape, device=inputs.device) for s in expected[1]]
    got = student.scenario(_cell, name, inputs, list(state), params, G_out, G_state, what=what)
    if got["error"]:
        fail(f"{what} {got['error']}")
    want = _expected(reference, inputs, state, params, G_out, G_state)
    shapes = f"inputs of shape {tuple(inputs.shape)}, " + ", ".join(
        f"{n} of shape {tuple(s.shape)}" for n, s in zip(names["state"], state))
    return got, want, shapes


def _expect_values(got, want, what, shapes, state_names, hint=""):
    expect_tensor(got["outputs"], want[0], what=f"the outputs of {what}", inputs=shapes,
                  hint=hint)
    states = sequence(got["state"], f"{what}'s state")
    expect(len(states) == len(want[1]), f"{what} returned a state of {len(states)} tensors; "
           f"expected {len(want[1])} ({', '.join(state_names)})")
    for label, value, wanted in zip(state_names, states, want[1]):
        expect_tensor(value, wanted, what=f"the final {label} of {what}", inputs=shapes,
                      hint=hint)


def _expect_gradients(got, want, what, shapes, wrt_names):
    if got["grads"] is None:
        fail(f"the outputs and the state of {what} are not differentiable with respect to its "
             "inputs, state and parameters (avoid .detach(), .data, .item() or building new "
             "tensors from numbers)")
    for label, grad, wanted in zip(wrt_names, got["grads"], want[2]):
        if grad is None:
            fail(f"the result of {what} does not depend on {label} through autograd")
        expect_tensor(grad, wanted, what=f"the gradient of {what} with respect to {label}",
                      inputs=shapes)


# --- GRU ------------------------------------------------------------------------------------------


def _gru_case(gen, T=4, B=3, V=5, h=4, device=None):
    inputs = st.normal(gen, T, B, V, device=device)
    state = [st.normal(gen, B, h, scale=0.5, device=device)]
    shapes = [(V, h), (h, h), (h,)] * 3 + [(h, V), (V,)]
    params = [st.normal(gen, *s, scale=0.5, device=device) for s in shapes]
    return inputs, state, params


GRU_STATE = {"state": ["H"]}


def _gru(student, gen, T=4, B=3):
    inputs, state, params = _gru_case(gen, T=T, B=B)
    what = f"gru(inputs, (H,), params) with T={T}, B={B}"
    got, want, shapes = _run_cell(student, "gru", ref.gru, inputs, state, params, gen,
                                  names=GRU_STATE, what=what)
    return got, want, shapes, what


@exercise("gru", weight=2)
def test_gru_values(student, gen):
    for T, B in ((4, 3), (1, 1), (6, 2)):
        got, want, shapes, what = _gru(student, gen, T, B)
        _expect_values(got, want, what, shapes, ["H"],
                       hint=_("the reset gate multiplies H before the product with W_hh; the new "
                              "H is Z * H + (1 - Z) * H_tilda; outputs are concatenated along "
                              "dimension 0"))


@exercise("gru", weight=2)
def test_gru_gradients(student, gen):
    got, want, shapes, what = _gru(student, gen)
    _expect_values(got, want, what, shapes, ["H"])
    _expect_gradients(got, want, what, shapes, ["inputs", "H", *GRU_NAMES])


def _gru_params_from(layer: torch.nn.GRU) -> list[torch.Tensor]:
    """The book's GRU parameters read from an ``nn.GRU`` (gate order r, z, n), with an identity
    output layer so that the outputs are the hidden states; the book's ``b_h`` is ``b_in``
    (``b_hn`` is applied inside the reset gate by PyTorch)."""
    h = layer.hidden_size
    w_ih, w_hh = layer.weight_ih_l0.detach(), layer.weight_hh_l0.detach()
    b_ih, b_hh = layer.bias_ih_l0.detach(), layer.bias_hh_l0.detach()

    def gate(k):
        return w_ih[k * h:(k + 1) * h].T.clone(), w_hh[k * h:(k + 1) * h].T.clone()

    (W_xr, W_hr), (W_xz, W_hz), (W_xh, W_hh) = gate(0), gate(1), gate(2)
    b_r, b_z = b_ih[:h] + b_hh[:h], b_ih[h:2 * h] + b_hh[h:2 * h]
    b_h = b_ih[2 * h:]
    eye = torch.eye(h, dtype=w_ih.dtype)
    return [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, eye, torch.zeros(h, dtype=F64)]


@exercise("gru")
def test_gru_agrees_with_nn_gru_where_the_reset_gates_agree(student, gen):
    """PyTorch computes n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), the book
    tanh(X W_xh + (R * H) W_hh + b_h): equal when b_hn = 0 and W_hn is diagonal (then
    r * (W_hn h) = W_hn (r * h)), and when r = 1 (then b_hn moves into b_in)."""
    T, B, d, h = 5, 2, 3, 4
    inputs = st.normal(gen, T, B, d)
    H0 = st.normal(gen, 1, B, h, scale=0.5)
    for case in ("diagonal W_hn, b_hn = 0", "reset gate saturated at 1"):
        layer = torch.nn.GRU(d, h).double()
        with torch.no_grad():
            for p in layer.parameters():
                p.copy_(st.normal(gen, *p.shape, scale=0.5))
            if case.startswith("diagonal"):
                layer.bias_hh_l0[2 * h:] = 0
                layer.weight_hh_l0[2 * h:] = torch.diag(st.normal(gen, h, scale=0.5))
            else:
                layer.bias_ih_l0[:h] = 40.0  # sigmoid(40) is 1.0 in float64
                layer.weight_ih_l0[:h] *= 0.01
                layer.weight_hh_l0[:h] *= 0.01
        params = _gru_params_from(layer)
        if case.startswith("reset"):
            params[8] = params[8] + layer.bias_hh_l0[2 * h:].detach()
        with torch.no_grad():
            Y, h_n = layer(inputs, H0)
        what = f"gru with parameters copied from nn.GRU({d}, {h}) ({case})"
        got = student.result("gru", inputs, (H0[0],), params, what=what)
        pair = sequence(got, what)
        expect(len(pair) == 2, f"{what} returned {len(pair)} values; expected (outputs, state)")
        expect_tensor(pair[0], Y.reshape(T * B, h), what=f"the outputs of {what}",
                      inputs=f"inputs of shape {tuple(inputs.shape)}, an identity output layer",
                      hint=_("with these parameters the book's GRU equals PyTorch's"))


@exercise("gru")
@pytest.mark.gpu
def test_gru_on_cuda(student, gen):
    inputs, state, params = _gru_case(gen, device="cuda")
    what = "gru on CUDA tensors"
    got, want, shapes = _run_cell(student, "gru", ref.gru, inputs, state, params, gen,
                                  names=GRU_STATE, what=what)
    _expect_values(got, want, what, shapes, ["H"])


# --- LSTM ---------------------------------------------------------------------------------------


def _params_info(ns, vocab_size, num_hiddens, device, seed):
    import random

    torch.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    params = ns["get_lstm_params"](vocab_size, num_hiddens, device)
    if not isinstance(params, (list, tuple)):
        return {"error": f"returned a {type(params).__name__}; expected a list of 14 tensors"}
    params = list(params)
    bad = [i for i, p in enumerate(params) if not isinstance(p, torch.Tensor)]
    if bad:
        return {"error": f"returned a list whose item {bad[0]} is a "
                         f"{type(params[bad[0]]).__name__}; expected tensors"}
    on_cpu = all(p.device.type == "cpu" for p in params)
    return {"error": None, "shapes": [list(p.shape) for p in params],
            "dtypes": [str(p.dtype) for p in params],
            "devices": [str(p.device) for p in params],
            "requires_grad": [bool(p.requires_grad) for p in params],
            "leaf": [bool(p.is_leaf) for p in params],
            "values": [p.detach().cpu() for p in params] if on_cpu else None}


def _lstm_shapes(V, h):
    return [[V, h], [h, h], [h]] * 4 + [[h, V], [V]]


def _get_params(student, V, h, seed, device="cpu"):
    what = f"get_lstm_params({V}, {h}, torch.device({device!r}))"
    got = student.scenario(_params_info, V, h, torch.device(device), seed, what=what,
                           name="get_lstm_params")
    if got["error"]:
        fail(f"{what} {got['error']}")
    shapes = _lstm_shapes(V, h)
    expect(len(got["shapes"]) == 14, f"{what} returned {len(got['shapes'])} tensors; expected "
           f"14 ({', '.join(LSTM_NAMES)})")
    for name, shape, wanted in zip(LSTM_NAMES, got["shapes"], shapes):
        expect(shape == wanted, f"{name} (item {LSTM_NAMES.index(name)}) of {what} has shape "
               f"{tuple(shape)}; expected {tuple(wanted)} (order: {', '.join(LSTM_NAMES)})")
    return got, what


@exercise("get_lstm_params", weight=2)
def test_get_lstm_params_structure(student, seed):
    for V, h in ((7, 5), (3, 8)):
        got, what = _get_params(student, V, h, seed)
        for i, name in enumerate(LSTM_NAMES):
            expect(got["dtypes"][i] == "torch.float32", f"{name} of {what} has dtype "
                   f"{got['dtypes'][i]}; expected torch.float32 (torch's default)")
            expect(got["requires_grad"][i] and got["leaf"][i], f"{name} of {what} is not a leaf "
                   "tensor that requires gradients: call requires_grad_(True) on each parameter "
                   "after creating it")
            value = got["values"][i]
            if name.startswith("b_"):
                expect(bool((value == 0).all()), f"{name} of {what} is not all zeros")
            else:
                expect(bool(value.std() > 0), f"{name} of {what} is constant; draw its entries "
                       "at random")
    got, what = _get_params(student, 6, 4, seed, device="meta")
    wrong = [n for n, d in zip(LSTM_NAMES, got["devices"]) if d != "meta"]
    expect(not wrong, f"{', '.join(wrong)} of {what} are not on the meta device: create every "
           "tensor with device=device")


@exercise("get_lstm_params", weight=2)
def test_get_lstm_params_statistics(student, seed):
    """Every weight is N(0, 0.01²): 14,336 draws pooled (a DKW bound), their standard
    deviation, and no two weight matrices equal."""
    got, what = _get_params(student, 64, 32, seed)
    weights = [v for n, v in zip(LSTM_NAMES, got["values"]) if n.startswith("W_")]
    for i, a in enumerate(weights):
        expect(bool(a.abs().max() > 0), f"a weight matrix of {what} is all zeros")
        for b in weights[i + 1:]:
            expect(a.shape != b.shape or not torch.equal(a, b), f"two weight matrices of {what} "
                   "are equal; draw each one separately")
    sample = torch.cat([w.reshape(-1) for w in weights]).double()
    alpha = stats.split(stats.FALSE_FAILURE, 2)
    stats.expect_std(sample, 0.01, what=f"the weights of {what}", alpha=alpha,
                     hint=_("torch.randn(shape) * 0.01"))
    stats.expect_distribution(sample, sps.norm(0, 0.01).cdf, what=f"the weights of {what}",
                              name="N(0, 0.01²)", alpha=alpha,
                              hint=_("torch.randn(shape) * 0.01 for every weight"))


@exercise("get_lstm_params")
@pytest.mark.gpu
def test_get_lstm_params_on_cuda(student, seed):
    got, what = _get_params(student, 6, 4, seed, device="cuda")
    expect(all(d.startswith("cuda") for d in got["devices"]), f"{what} made tensors on "
           f"{sorted(set(got['devices']))}; expected CUDA")


def _state_info(ns, batch_size, num_hiddens, device):
    state = ns["init_lstm_state"](batch_size, num_hiddens, device)
    if not isinstance(state, (tuple, list)) or not all(isinstance(s, torch.Tensor)
                                                        for s in state):
        return {"error": f"returned a {type(state).__name__}; expected a tuple (H, C) of "
                         "tensors"}
    return {"error": None, "count": len(state), "shapes": [list(s.shape) for s in state],
            "dtypes": [str(s.dtype) for s in state], "devices": [str(s.device) for s in state],
            "zero": [bool((s == 0).all()) if s.device.type != "meta" else None for s in state]}


def _init_state(student, B, h, device="cpu"):
    what = f"init_lstm_state({B}, {h}, torch.device({device!r}))"
    got = student.scenario(_state_info, B, h, torch.device(device), what=what,
                           name="init_lstm_state")
    if got["error"]:
        fail(f"{what} {got['error']}")
    expect(got["count"] == 2, f"{what} returned {got['count']} tensors; expected two, (H, C): "
           "the hidden state and the memory cell")
    for label, shape in zip("HC", got["shapes"]):
        expect(shape == [B, h], f"{label} of {what} has shape {tuple(shape)}; expected "
               f"{(B, h)} (batch_size, num_hiddens)")
    return got, what


@exercise("init_lstm_state", weight=2)
def test_init_lstm_state_zeros(student):
    for B, h in ((3, 5), (1, 7)):
        got, what = _init_state(student, B, h)
        for label, dtype, zero in zip("HC", got["dtypes"], got["zero"]):
            expect(dtype == "torch.float32", f"{label} of {what} has dtype {dtype}; expected "
                   "torch.float32")
            expect(zero, f"{label} of {what} is not all zeros")


@exercise("init_lstm_state")
def test_init_lstm_state_on_the_given_device(student):
    got, what = _init_state(student, 2, 3, device="meta")
    expect(got["devices"] == ["meta", "meta"], f"{what} made tensors on {got['devices']}; "
           "create them with device=device")


@exercise("init_lstm_state")
@pytest.mark.gpu
def test_init_lstm_state_on_cuda(student):
    got, what = _init_state(student, 2, 3, device="cuda")
    expect(all(d.startswith("cuda") for d in got["devices"]), f"{what} made tensors on "
           f"{got['devices']}; expected CUDA")


def _lstm_case(gen, T=4, B=3, V=5, h=4, device=None):
    inputs = st.normal(gen, T, B, V, device=device)
    state = [st.normal(gen, B, h, scale=0.5, device=device) for _ in range(2)]
    params = [st.normal(gen, *s, scale=0.5, device=device) for s in _lstm_shapes(V, h)]
    return inputs, state, params


LSTM_STATE = {"state": ["H", "C"]}


def _lstm(student, gen, T=4, B=3, device=None):
    inputs, state, params = _lstm_case(gen, T=T, B=B, device=device)
    what = f"lstm(inputs, (H, C), params) with T={T}, B={B}"
    got, want, shapes = _run_cell(student, "lstm", ref.lstm, inputs, state, params, gen,
                                  names=LSTM_STATE, what=what)
    return got, want, shapes, what


@exercise("lstm", weight=2)
def test_lstm_values(student, gen):
    for T, B in ((4, 3), (1, 1), (6, 2)):
        got, want, shapes, what = _lstm(student, gen, T, B)
        _expect_values(got, want, what, shapes, ["H", "C"],
                       hint=_("C = F * C + I * C_tilda, H = O * tanh(C), with the parameters in "
                              "the order of get_lstm_params"))


@exercise("lstm", weight=2)
def test_lstm_gradients(student, gen):
    got, want, shapes, what = _lstm(student, gen)
    _expect_values(got, want, what, shapes, ["H", "C"])
    _expect_gradients(got, want, what, shapes, ["inputs", "H", "C", *LSTM_NAMES])


def _lstm_params_from(layer: torch.nn.LSTM) -> list[torch.Tensor]:
    """The book's LSTM parameters read from an ``nn.LSTM`` (gate order i, f, g, o), with an
    identity output layer."""
    h = layer.hidden_size
    w_ih, w_hh = layer.weight_ih_l0.detach(), layer.weight_hh_l0.detach()
    bias = (layer.bias_ih_l0 + layer.bias_hh_l0).detach()
    blocks = [(w_ih[k * h:(k + 1) * h].T.clone(), w_hh[k * h:(k + 1) * h].T.clone(),
               bias[k * h:(k + 1) * h].clone()) for k in range(4)]
    i, f, g, o = blocks
    return [*i, *f, *o, *g, torch.eye(h, dtype=F64), torch.zeros(h, dtype=F64)]


@exercise("lstm")
def test_lstm_equals_nn_lstm_with_copied_weights(student, gen):
    T, B, d, h = 5, 2, 3, 4
    layer = torch.nn.LSTM(d, h).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    inputs = st.normal(gen, T, B, d)
    H0, C0 = st.normal(gen, 1, B, h), st.normal(gen, 1, B, h)
    with torch.no_grad():
        Y, (h_n, c_n) = layer(inputs, (H0, C0))
    what = f"lstm with parameters copied from nn.LSTM({d}, {h})"
    got = sequence(student.result("lstm", inputs, (H0[0], C0[0]), _lstm_params_from(layer),
                                  what=what), what)
    expect(len(got) == 2, f"{what} returned {len(got)} values; expected (outputs, (H, C))")
    inputs_text = f"inputs of shape {tuple(inputs.shape)}, an identity output layer"
    expect_tensor(got[0], Y.reshape(T * B, h), what=f"the outputs of {what}", inputs=inputs_text,
                  hint=_("PyTorch's LSTM is the book's: gates i, f, g (the candidate), o"))
    state = sequence(got[1], f"{what}'s state")
    expect(len(state) == 2, f"{what} returned a state of {len(state)} tensors; expected (H, C)")
    expect_tensor(state[1], c_n[0], what=f"the final C of {what}", inputs=inputs_text)


@exercise("lstm")
@pytest.mark.gpu
def test_lstm_on_cuda(student, gen):
    got, want, shapes, what = _lstm(student, gen, device="cuda")
    _expect_values(got, want, what, shapes, ["H", "C"])
    _expect_gradients(got, want, what, shapes, ["inputs", "H", "C", *LSTM_NAMES])


# --- deep and bidirectional RNNs ----------------------------------------------------------------


def _layer(gen, d, h, device=None):
    return [st.normal(gen, d, h, scale=0.5, device=device),
            st.normal(gen, h, h, scale=0.5, device=device),
            st.normal(gen, h, scale=0.5, device=device)]


def _deep_case(gen, L=3, T=4, B=2, d=5, h=4, device=None):
    inputs = st.normal(gen, T, B, d, device=device)
    state = [st.normal(gen, B, h, scale=0.5, device=device) for _ in range(L)]
    params = [_layer(gen, d if layer == 0 else h, h, device) for layer in range(L)]
    return inputs, state, params


def _deep(student, gen, L=3, T=4, B=2, device=None):
    inputs, state, params = _deep_case(gen, L, T, B, device=device)
    names = [f"H[{layer}]" for layer in range(L)]
    what = f"deep_rnn(inputs, state, params) with L={L} layers, T={T}, B={B}"
    got, want, shapes = _run_cell(student, "deep_rnn", ref.deep_rnn, inputs, state, params, gen,
                                  names={"state": names}, what=what)
    wrt = ["inputs", *names] + [f"params[{layer}][{k}] ({n})" for layer in range(L)
                                for k, n in enumerate(("W_xh", "W_hh", "b_h"))]
    return got, want, shapes, what, names, wrt


@exercise("deep_rnn", weight=2)
def test_deep_rnn_values(student, gen):
    for L, T, B in ((3, 4, 2), (1, 3, 3), (2, 1, 1)):
        got, want, shapes, what, names, _wrt = _deep(student, gen, L, T, B)
        _expect_values(got, want, what, shapes, names,
                       hint=_("layer l > 0 reads the new hidden state of layer l - 1 at the same "
                              "step; outputs are the top layer's states, stacked to (T, B, h)"))


@exercise("deep_rnn", weight=2)
def test_deep_rnn_gradients(student, gen):
    got, want, shapes, what, names, wrt = _deep(student, gen)
    _expect_values(got, want, what, shapes, names)
    _expect_gradients(got, want, what, shapes, wrt)


def _copied(layer: torch.nn.RNN, suffix: str) -> list[torch.Tensor]:
    get = {n: p.detach() for n, p in layer.named_parameters()}
    return [get[f"weight_ih_{suffix}"].T.clone(), get[f"weight_hh_{suffix}"].T.clone(),
            get[f"bias_ih_{suffix}"] + get[f"bias_hh_{suffix}"]]


def _random_rnn(gen, d, h, **kwargs) -> torch.nn.RNN:
    layer = torch.nn.RNN(d, h, **kwargs).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(st.normal(gen, *p.shape, scale=0.5))
    return layer


@exercise("deep_rnn")
def test_deep_rnn_equals_nn_rnn_with_copied_weights(student, gen):
    T, B, d, h, L = 5, 3, 4, 3, 2
    layer = _random_rnn(gen, d, h, num_layers=L)
    inputs, H0 = st.normal(gen, T, B, d), st.normal(gen, L, B, h)
    with torch.no_grad():
        Y, h_n = layer(inputs, H0)
    what = f"deep_rnn with parameters copied from nn.RNN({d}, {h}, num_layers={L})"
    params = [_copied(layer, f"l{k}") for k in range(L)]
    got = sequence(student.result("deep_rnn", inputs, tuple(H0), params, what=what), what)
    expect(len(got) == 2, f"{what} returned {len(got)} values; expected (outputs, state)")
    text = f"inputs of shape {tuple(inputs.shape)}"
    expect_tensor(got[0], Y, what=f"the outputs of {what}", inputs=text,
                  hint=_("W_xh[l] = weight_ih_l{l}.T, W_hh[l] = weight_hh_l{l}.T, b_h[l] = "
                         "bias_ih_l{l} + bias_hh_l{l}"))
    state = sequence(got[1], f"{what}'s state")
    expect(len(state) == L, f"{what} returned {len(state)} state tensors; expected {L}")
    for k in range(L):
        expect_tensor(state[k], h_n[k], what=f"the final H[{k}] of {what}", inputs=text)


@exercise("deep_rnn")
@pytest.mark.gpu
def test_deep_rnn_on_cuda(student, gen):
    got, want, shapes, what, names, wrt = _deep(student, gen, device="cuda")
    _expect_values(got, want, what, shapes, names)
    _expect_gradients(got, want, what, shapes, wrt)


def _bidirectional(student, gen, T=4, B=2, d=3, h=4):
    inputs = st.normal(gen, T, B, d)
    state = [st.normal(gen, B, h, scale=0.5), st.normal(gen, B, h, scale=0.5)]
    params = [_layer(gen, d, h), _layer(gen, d, h)]
    what = f"bidirectional_rnn(inputs, (H_f, H_b), params) with T={T}, B={B}"
    got, want, shapes = _run_cell(student, "bidirectional_rnn", ref.bidirectional_rnn, inputs,
                                  state, params, gen, names={"state": ["H_f", "H_b"]}, what=what)
    wrt = ["inputs", "H_f", "H_b"] + [f"params[{k}][{i}] ({direction} {n})"
                                      for k, direction in enumerate(("forward", "backward"))
                                      for i, n in enumerate(("W_xh", "W_hh", "b_h"))]
    return got, want, shapes, what, wrt


@exercise("bidirectional_rnn", weight=2)
def test_bidirectional_rnn_values(student, gen):
    for T, B in ((4, 2), (1, 3), (5, 1)):
        got, want, shapes, what, _wrt = _bidirectional(student, gen, T, B)
        _expect_values(got, want, what, shapes, ["H_f", "H_b"],
                       hint=_("the backward direction reads inputs[T - 1] first; its state after "
                              "reading inputs[t] goes next to the forward one at step t"))


@exercise("bidirectional_rnn", weight=2)
def test_bidirectional_rnn_gradients(student, gen):
    got, want, shapes, what, wrt = _bidirectional(student, gen)
    _expect_values(got, want, what, shapes, ["H_f", "H_b"])
    _expect_gradients(got, want, what, shapes, wrt)


@exercise("bidirectional_rnn")
def test_bidirectional_rnn_equals_nn_rnn_with_copied_weights(student, gen):
    T, B, d, h = 6, 2, 3, 4
    layer = _random_rnn(gen, d, h, bidirectional=True)
    inputs, H0 = st.normal(gen, T, B, d), st.normal(gen, 2, B, h)
    with torch.no_grad():
        Y, h_n = layer(inputs, H0)
    what = f"bidirectional_rnn with parameters copied from nn.RNN({d}, {h}, bidirectional=True)"
    params = [_copied(layer, "l0"), _copied(layer, "l0_reverse")]
    got = sequence(student.result("bidirectional_rnn", inputs, (H0[0], H0[1]), params,
                                  what=what), what)
    expect(len(got) == 2, f"{what} returned {len(got)} values; expected (outputs, state)")
    text = f"inputs of shape {tuple(inputs.shape)}"
    expect_tensor(got[0], Y, what=f"the outputs of {what}", inputs=text,
                  hint=_("forward from weight_*_l0, backward from weight_*_l0_reverse; outputs "
                         "concatenate [forward, backward] along the last dimension"))
    state = sequence(got[1], f"{what}'s state")
    expect(len(state) == 2, f"{what} returned {len(state)} state tensors; expected (H_f, H_b)")
    for k, label in enumerate(("H_f", "H_b")):
        expect_tensor(state[k], h_n[k], what=f"the final {label} of {what}", inputs=text)
