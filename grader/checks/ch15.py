"""Hidden checks for ch15, Natural language processing: applications (自然语言处理：应用).

Modules are graded by their state-dict names and shapes, then by their outputs and gradients
with the reference's randomised float64 weights loaded, in evaluation mode. Where an exercise
uses another (``mlp`` in the decomposable attention model, ``corr1d``,
``_truncate_pair_of_tokens``), the scenario swaps in a grader stand-in, so one mistake costs
points once. The BERT exercises use the toolbox's ``BERTModel`` (``course.bert``), which the
specification names; the fine-tuning classifier is also checked by which parameters change
after an SGD step with the encoder frozen and unfrozen.
"""

import torch

import solutions.ch15 as ref
from course import bert as toolbox_bert
from grader.engine import strategies as st
from grader.engine.compare import expect, expect_equal, expect_tensor, fail, mapping, tensor
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

F64 = torch.float64
CONV_OPS = ("conv1d", "convolution", "_convolution", "torch.nn.Conv1d")
CONV_SCAN = ("conv1d", "Conv1d", "convolution")

EXERCISES = {
    "BiRNN": Exercise(points=3),
    "corr1d": Exercise(points=1, forbid=CONV_OPS, scan=CONV_SCAN),
    "corr1d_multi_in": Exercise(points=1, forbid=CONV_OPS, scan=CONV_SCAN),
    "TextCNN": Exercise(points=3),
    "mlp": Exercise(points=1),
    "Attend": Exercise(points=2),
    "Compare": Exercise(points=2),
    "Aggregate": Exercise(points=2),
    "load_pretrained_model": Exercise(points=2),
    "_truncate_pair_of_tokens": Exercise(points=1),
    "SNLIBERTDataset": Exercise(points=3),
    "BERTClassifier": Exercise(points=2),
}


# --- scenarios (run in the sandbox) ---------------------------------------------------------------


def _function_run(ns, name, args, wrt, G):
    """``name(*args)``; backpropagate ``G`` from the result."""
    stand_ins = {"corr1d": lambda X, K: torch.stack(
        [(X[i:i + K.shape[0]] * K).sum() for i in range(X.shape[0] - K.shape[0] + 1)])}
    swaps = {k: v for k, v in stand_ins.items() if k != name and k in ns}
    with objects.Swap(ns, swaps):  # noqa: F821 - the scenario scope provides it
        leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a
                  for i, a in enumerate(args)]
        result = ns[name](*leaves)
    grads = None
    if isinstance(result, torch.Tensor) and result.requires_grad and result.shape == G.shape:
        with trusted():  # noqa: F821
            grads = list(torch.autograd.grad(result, [leaves[i] for i in wrt], G,
                                             allow_unused=True))
    return {"result": result, "grads": grads}


def _module_run(ns, name, args, state, inputs, Gs):
    """Build ``name(*args)`` with the grader's ``mlp``; when its state-dict names and shapes are
    ``state``'s, load it (float64, evaluation mode), run it on ``inputs`` and backpropagate
    ``Gs`` from its output(s)."""

    def grader_mlp(num_inputs, num_hiddens, flatten):
        layers = [torch.nn.Dropout(0.2), torch.nn.Linear(num_inputs, num_hiddens),
                  torch.nn.ReLU()]
        layers += [torch.nn.Flatten(start_dim=1)] if flatten else []
        layers += [torch.nn.Dropout(0.2), torch.nn.Linear(num_hiddens, num_hiddens),
                   torch.nn.ReLU()]
        layers += [torch.nn.Flatten(start_dim=1)] if flatten else []
        return torch.nn.Sequential(*layers)

    swaps = {"mlp": grader_mlp} if name != "mlp" and "mlp" in ns else {}
    with objects.Swap(ns, swaps):  # noqa: F821
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
        leaves = [t.clone().requires_grad_(True) if t.is_floating_point() else t
                  for t in inputs]
        result = module(*leaves)
        info["result"] = result
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        if (len(outs) == len(Gs) and all(isinstance(o, torch.Tensor) and o.requires_grad
                                         and o.shape == g.shape for o, g in zip(outs, Gs))):
            with trusted():  # noqa: F821
                module.zero_grad(set_to_none=True)
                torch.autograd.backward(outs, Gs)
            info["param_grads"] = {n: p.grad for n, p in module.named_parameters()}
            info["input_grads"] = [t.grad if t.is_floating_point() else None for t in leaves]
    return info


def _pretrained_run(ns, state, idx_to_token, sizes, inputs, probe):
    """Write a checkpoint in the book's layout to a fresh folder; load it with the student's
    ``load_pretrained_model``; report the model's state, vocabulary and outputs."""
    import json
    import os
    import tempfile

    folder = tempfile.mkdtemp()
    with trusted():  # noqa: F821
        torch.save(state, os.path.join(folder, "pretrained.params"))
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(idx_to_token, f)
    result = ns["load_pretrained_model"](folder, *sizes, [torch.device("cpu")])
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"pair": False}
    net, vocab = result
    info = {"pair": True, "module": isinstance(net, torch.nn.Module)}
    if not info["module"]:
        return info
    info["state"] = dict(net.state_dict())
    info["idx_to_token"] = list(getattr(vocab, "idx_to_token", []))
    info["len"] = len(vocab)
    info["lookup"] = vocab[list(probe)]
    info["pad"] = vocab["<pad>"]
    net.eval()
    with torch.no_grad():
        info["outputs"] = list(net(*inputs))
    return info


def _truncate_run(ns, p_tokens, h_tokens, max_len):
    p, h = list(p_tokens), list(h_tokens)
    result = ns["_truncate_pair_of_tokens"](p, h, max_len)
    return {"p": p, "h": h, "none": result is None}


def _dataset_run(ns, dataset, max_len, idx_to_token):
    """Build the student's dataset with a ``course.Vocab`` and the grader's truncation."""
    import course

    def grader_truncate(p_tokens, h_tokens, max_len):
        while len(p_tokens) + len(h_tokens) > max_len - 3:
            (p_tokens if len(p_tokens) > len(h_tokens) else h_tokens).pop()

    table = course.Vocab()
    table.idx_to_token = list(idx_to_token)
    table.token_to_idx = {t: i for i, t in enumerate(idx_to_token)}
    swaps = {"_truncate_pair_of_tokens": grader_truncate} if "_truncate_pair_of_tokens" in ns \
        else {}
    with objects.Swap(ns, swaps):  # noqa: F821
        data = ns["SNLIBERTDataset"](dataset, max_len, table)
        info = {"attrs": {k: getattr(data, k, None) for k in
                          ("all_token_ids", "all_segments", "valid_lens", "labels", "max_len")},
                "vocab": getattr(data, "vocab", None) is table, "len": len(data)}
        info["items"] = [data[i] for i in (0, len(data) - 1)]
        loader = torch.utils.data.DataLoader(data, batch_size=len(data), shuffle=False)
        info["batch"] = next(iter(loader))
    return info


def _classifier_run(ns, vocab_size, sizes, state, out_state, inputs, labels):
    """Wrap a toolbox BERT (weights ``state``) in the student's classifier; report sharing,
    outputs, gradients, and which parameters an SGD step changes with the encoder frozen and
    unfrozen."""
    from course import bert as toolbox

    bert = toolbox.small_bert(vocab_size, *sizes).double()
    with trusted():  # noqa: F821
        bert.load_state_dict(state)
    net = ns["BERTClassifier"](bert)
    info = {"module": isinstance(net, torch.nn.Module)}
    if not info["module"]:
        return info
    info["shared"] = [getattr(net, "encoder", None) is bert.encoder,
                      getattr(net, "hidden", None) is bert.hidden]
    info["keys"] = {k: list(v.shape) for k, v in net.state_dict().items()}
    output = getattr(net, "output", None)
    if not isinstance(output, torch.nn.Linear) or list(output.weight.shape) != \
            list(out_state["weight"].shape):
        return info
    net = net.double()
    with trusted():  # noqa: F821
        output.load_state_dict(out_state)
    net.eval()
    scores = net(inputs)
    info["scores"] = scores
    changed = []
    for frozen in (True, False):
        for p in bert.encoder.parameters():
            p.requires_grad_(not frozen)
        before = {n: p.detach().clone() for n, p in bert.named_parameters()}
        before_out = output.weight.detach().clone()
        trainer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
        trainer.zero_grad()
        with trusted():  # noqa: F821
            torch.nn.functional.cross_entropy(net(inputs), labels).backward()
        trainer.step()
        step = sorted(n for n, p in bert.named_parameters() if not torch.equal(p, before[n]))
        changed.append({"bert": step, "output": not torch.equal(output.weight, before_out)})
    info["changed"] = changed
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
    expect(got.get("module"), f"{what} is not an nn.Module")
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


def _expect_module(student, name, reference, args, inputs, gen, *, what, text, hint=""):
    """Run the student's module with the reference's randomised weights; compare the outputs
    and the gradients of the parameters and of the float inputs."""
    reference = _randomised(reference, gen)
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    leaves = [t.clone().requires_grad_(True) if t.is_floating_point() else t for t in inputs]
    out = reference(*leaves)
    outs = list(out) if isinstance(out, tuple) else [out]
    Gs = [st.normal(gen, *o.shape) for o in outs]
    torch.autograd.backward(outs, Gs)
    got = student.scenario(_module_run, name, list(args), state, list(inputs), Gs, what=what,
                           name=name)
    _expect_keys(got, reference, what)
    result = got.get("result")
    if len(outs) > 1:
        expect(isinstance(result, (tuple, list)) and len(result) == len(outs),
               f"{what} returned {type(result).__name__}; expected {len(outs)} tensors")
        results = list(result)
    else:
        results = [result]
    for i, (g, e) in enumerate(zip(results, outs)):
        label = f"output #{i + 1} of {what}" if len(outs) > 1 else f"the output of {what}"
        expect_tensor(g, e.detach(), what=label, inputs=text, hint=hint)
    if "param_grads" not in got:
        fail(f"the output of {what} is not differentiable with respect to its parameters")
    for n, p in reference.named_parameters():
        grad = got["param_grads"].get(n)
        if grad is None and p.grad is not None:
            fail(f"{what}'s parameter {n} got no gradient")
        if p.grad is not None:
            expect_tensor(grad, p.grad, what=f"the gradient of {what}'s {n}", inputs=text)
    for i, (leaf, grad) in enumerate(zip(leaves, got["input_grads"])):
        if leaf.is_floating_point():
            if grad is None:
                fail(f"the output of {what} does not depend on its input #{i + 1}")
            expect_tensor(grad, leaf.grad, what=f"the gradient of {what} with respect to its "
                          f"input #{i + 1}", inputs=text)


def _tokens(gen, vocab_size, *shape):
    return torch.randint(0, vocab_size, shape, generator=gen)


# --- 15.2 BiRNN -----------------------------------------------------------------------------------

BIRNN_HINT = _("embed inputs.T (time-major), run the bidirectional LSTM and concatenate "
               "outputs[0] and outputs[-1] on the feature axis before the decoder")


@exercise("BiRNN", weight=2)
def test_birnn_two_layers(student, gen):
    args = (13, 6, 5, 2)
    X = _tokens(gen, 13, 3, 7)
    _expect_module(student, "BiRNN", ref.BiRNN(*args), args, [X], gen,
                   what="BiRNN(13, 6, 5, 2)", text="inputs of shape (3, 7)", hint=BIRNN_HINT)


@exercise("BiRNN")
def test_birnn_one_layer(student, gen):
    args = (9, 4, 3, 1)
    X = _tokens(gen, 9, 2, 5)
    _expect_module(student, "BiRNN", ref.BiRNN(*args), args, [X], gen,
                   what="BiRNN(9, 4, 3, 1)", text="inputs of shape (2, 5)", hint=BIRNN_HINT)


# --- 15.3 corr1d and TextCNN ----------------------------------------------------------------------

CORR_HINT = _("Y[i] = (X[i:i + w] * K).sum() for i in range(len(X) - w + 1)")


def _corr(student, name, X, K, hint):
    G = torch.randn(X.shape[-1] - K.shape[-1] + 1, generator=torch.Generator().manual_seed(1))
    what = f"{name}(X, K)"
    text = f"X of shape {tuple(X.shape)}, K of shape {tuple(K.shape)}, float32"
    got = student.scenario(_function_run, name, [X, K], [0, 1], G, what=what, name=name)
    leaves = [X.clone().requires_grad_(True), K.clone().requires_grad_(True)]
    expected = ref.corr1d_multi_in(*leaves) if X.dim() == 2 else ref.corr1d(*leaves)
    grads = torch.autograd.grad(expected, leaves, G)
    expect_tensor(got["result"], expected.detach(), what=what, inputs=text, hint=hint,
                  atol=1e-5, rtol=1e-5)
    if got["grads"] is None:
        fail(f"{what} is not differentiable in X and K")
    for label, g, want in zip(("X", "K"), got["grads"], grads):
        if g is None:
            fail(f"{what} does not depend on {label}")
        expect_tensor(g, want, what=f"the gradient of {what} with respect to {label}",
                      inputs=text, atol=1e-5, rtol=1e-5)


@exercise("corr1d")
def test_corr1d_book_example(student):
    _corr(student, "corr1d", torch.arange(7.0), torch.tensor([1.0, 2.0]), CORR_HINT)


@exercise("corr1d")
def test_corr1d_random(student, gen):
    _corr(student, "corr1d", st.normal(gen, 9, dtype=torch.float32),
          st.normal(gen, 3, dtype=torch.float32), CORR_HINT)


MULTI_HINT = _("sum over channels c of corr1d(X[c], K[c])")


@exercise("corr1d_multi_in")
def test_corr1d_multi_in_book_example(student):
    X = torch.tensor([[0.0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7], [2, 3, 4, 5, 6, 7, 8]])
    K = torch.tensor([[1.0, 2], [3, 4], [-1, -3]])
    _corr(student, "corr1d_multi_in", X, K, MULTI_HINT)


@exercise("corr1d_multi_in")
def test_corr1d_multi_in_random(student, gen):
    _corr(student, "corr1d_multi_in", st.normal(gen, 4, 8, dtype=torch.float32),
          st.normal(gen, 4, 3, dtype=torch.float32), MULTI_HINT)


TEXTCNN_HINT = _("concatenate embedding and constant_embedding on the feature axis, permute to "
                 "(batch, channels, steps), relu(pool(conv(x))).squeeze(-1) for each conv, "
                 "concatenate, then decoder(dropout(...))")


@exercise("TextCNN", weight=2)
def test_textcnn_two_kernels(student, gen):
    args = (11, 4, [2, 3], [5, 6])
    X = _tokens(gen, 11, 3, 8)
    _expect_module(student, "TextCNN", ref.TextCNN(*args), args, [X], gen,
                   what="TextCNN(11, 4, [2, 3], [5, 6]) in evaluation mode",
                   text="inputs of shape (3, 8)", hint=TEXTCNN_HINT)


@exercise("TextCNN")
def test_textcnn_three_kernels(student, gen):
    args = (7, 3, [3, 4, 5], [2, 3, 4])
    X = _tokens(gen, 7, 2, 9)
    _expect_module(student, "TextCNN", ref.TextCNN(*args), args, [X], gen,
                   what="TextCNN(7, 3, [3, 4, 5], [2, 3, 4]) in evaluation mode",
                   text="inputs of shape (2, 9)", hint=TEXTCNN_HINT)


# --- 15.5 decomposable attention ------------------------------------------------------------------


def _mlp_layers(ns, num_inputs, num_hiddens, flatten):
    net = ns["mlp"](num_inputs, num_hiddens, flatten)
    return [[type(m).__name__, getattr(m, "p", None), getattr(m, "start_dim", None)]
            for m in net] if isinstance(net, torch.nn.Sequential) else None


@exercise("mlp")
def test_mlp_layers(student):
    for flatten in (False, True):
        expected = [[type(m).__name__, getattr(m, "p", None), getattr(m, "start_dim", None)]
                    for m in ref.mlp(5, 4, flatten)]
        got = student.scenario(_mlp_layers, 5, 4, flatten, what=f"mlp(5, 4, {flatten})",
                               name="mlp")
        expect(got is not None, f"mlp(5, 4, {flatten}) did not return an nn.Sequential")
        expect_equal(got, expected, what=f"the layers of mlp(5, 4, {flatten}) as "
                     "[type, dropout p, flatten start_dim]")


@exercise("mlp")
def test_mlp_values(student, gen):
    _expect_module(student, "mlp", ref.mlp(6, 4, False), (6, 4, False),
                   [st.normal(gen, 2, 3, 6)], gen, what="mlp(6, 4, False) in evaluation mode",
                   text="X of shape (2, 3, 6)")
    _expect_module(student, "mlp", ref.mlp(6, 4, True), (6, 4, True),
                   [st.normal(gen, 3, 6)], gen, what="mlp(6, 4, True) in evaluation mode",
                   text="X of shape (3, 6)")


ATTEND_HINT = _("e = f(A) @ f(B).transpose(1, 2); beta = softmax(e, dim=-1) @ B; "
                "alpha = softmax(e.transpose(1, 2), dim=-1) @ A")


@exercise("Attend", weight=2)
def test_attend(student, gen):
    A, B = st.normal(gen, 2, 4, 5), st.normal(gen, 2, 6, 5)
    _expect_module(student, "Attend", ref.Attend(5, 3), (5, 3), [A, B], gen,
                   what="Attend(5, 3) in evaluation mode, called as attend(A, B)",
                   text="A of shape (2, 4, 5), B of shape (2, 6, 5)", hint=ATTEND_HINT)


@exercise("Attend")
def test_attend_same_lengths(student, gen):
    A, B = st.normal(gen, 3, 5, 4), st.normal(gen, 3, 5, 4)
    _expect_module(student, "Attend", ref.Attend(4, 6), (4, 6), [A, B], gen,
                   what="Attend(4, 6) in evaluation mode, called as attend(A, B)",
                   text="A and B of shape (3, 5, 4)", hint=ATTEND_HINT)


COMPARE_HINT = _("V_A = g(cat([A, beta], dim=2)); V_B = g(cat([B, alpha], dim=2))")


@exercise("Compare", weight=2)
def test_compare(student, gen):
    A, B = st.normal(gen, 2, 4, 3), st.normal(gen, 2, 5, 3)
    beta, alpha = st.normal(gen, 2, 4, 3), st.normal(gen, 2, 5, 3)
    _expect_module(student, "Compare", ref.Compare(6, 4), (6, 4), [A, B, beta, alpha], gen,
                   what="Compare(6, 4) in evaluation mode, called as compare(A, B, beta, alpha)",
                   text="A and beta of shape (2, 4, 3), B and alpha of shape (2, 5, 3)",
                   hint=COMPARE_HINT)


AGGREGATE_HINT = _("sum V_A and V_B over dim 1, concatenate on dim 1, then linear(h(...))")


@exercise("Aggregate", weight=2)
def test_aggregate(student, gen):
    V_A, V_B = st.normal(gen, 3, 4, 5), st.normal(gen, 3, 6, 5)
    _expect_module(student, "Aggregate", ref.Aggregate(10, 4, 3), (10, 4, 3), [V_A, V_B], gen,
                   what="Aggregate(10, 4, 3) in evaluation mode, called as agg(V_A, V_B)",
                   text="V_A of shape (3, 4, 5), V_B of shape (3, 6, 5)", hint=AGGREGATE_HINT)


# --- 15.7 BERT fine-tuning ------------------------------------------------------------------------

# num_hiddens, ffn_num_hiddens, num_heads, num_layers, dropout, max_len
BERT_SIZES = (16, 24, 2, 2, 0.1, 12)


def _small_bert(vocab_size, gen):
    num_hiddens, ffn, heads, layers, dropout, max_len = BERT_SIZES
    return _randomised(toolbox_bert.small_bert(vocab_size, num_hiddens, ffn, heads, layers,
                                               dropout, max_len), gen).float()


@exercise("load_pretrained_model", weight=2)
def test_load_pretrained_model(student, gen):
    idx_to_token = ["<unk>", "<pad>", "<cls>", "<sep>", "<mask>", "a", "dog", "runs", "the", "."]
    V = len(idx_to_token)
    net = _small_bert(V, gen)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    tokens = _tokens(gen, V, 2, 7)
    segments = torch.tensor([[0, 0, 0, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1, 1]])
    inputs = [tokens, segments, torch.tensor([6, 7]), torch.tensor([[1, 2], [4, 0]])]
    probe = ["dog", "zebra", "<sep>"]
    what = ("load_pretrained_model(folder, 16, 24, 2, 2, 0.1, 12, devices) with a folder "
            f"holding pretrained.params and vocab.json ({V} tokens)")
    got = student.scenario(_pretrained_run, state, idx_to_token, list(BERT_SIZES), inputs,
                           probe, what=what)
    expect(got.get("pair"), f"{what} must return the pair (bert, vocab)")
    expect(got.get("module"), f"the first item {what} returns must be the BERTModel")
    keys = mapping(got["state"], f"the state dict of the model {what} returns")
    expect(set(keys) == set(state), f"the model {what} returns has parameters "
           f"{sorted(set(keys) ^ set(state))[:6]} that differ from course.BERTModel's with "
           "every size num_hiddens: build course.BERTModel with the sizes the docstring gives")
    for k, v in state.items():
        expect_tensor(keys[k], v, what=f"{k} of the loaded model", inputs=what,
                      hint=_("load the saved state dict with load_state_dict(torch.load(...))"))
    expect_equal(got["idx_to_token"], idx_to_token, what="vocab.idx_to_token")
    expect_equal(got["len"], V, what="len(vocab)")
    expect_equal(got["lookup"], [6, 0, 3], what=f"vocab[{probe}] (unknown tokens map to 0)")
    expect_equal(got["pad"], 1, what="vocab['<pad>']")
    net.eval()
    with torch.no_grad():
        outputs = net(*inputs)
    for label, g, e in zip(("encoded_X", "mlm_Y_hat", "nsp_Y_hat"), got["outputs"], outputs):
        expect_tensor(g, e, what=f"{label} of the loaded model in evaluation mode",
                      inputs=what, atol=1e-5, rtol=1e-5)


def _truncate_case(student, p, h, max_len):
    what = f"_truncate_pair_of_tokens(p_tokens, h_tokens, {max_len}) with {len(p)} and " \
           f"{len(h)} tokens"
    got = student.scenario(_truncate_run, p, h, max_len, what=what)
    pe, he = list(p), list(h)
    ref._truncate_pair_of_tokens(pe, he, max_len)
    expect(got["none"], f"{what} must change the lists in place and return None")
    hint = ("while len(p) + len(h) > max_len - 3, pop the last token of the longer list "
            "(of h_tokens on a tie)")
    expect(got["p"] == pe and got["h"] == he,
           f"after {what}: p_tokens {got['p']}, h_tokens {got['h']}; expected {pe} and {he}. "
           f"Hint: {hint}")


@exercise("_truncate_pair_of_tokens")
def test_truncate_pair_of_tokens(student):
    words = [f"w{i}" for i in range(20)]
    _truncate_case(student, words[:9], words[9:13], 10)
    _truncate_case(student, words[:4], words[4:12], 9)
    _truncate_case(student, words[:5], words[5:10], 9)
    _truncate_case(student, words[:3], words[3:5], 12)


@exercise("_truncate_pair_of_tokens")
def test_truncate_pair_of_tokens_ties(student):
    words = [f"w{i}" for i in range(20)]
    _truncate_case(student, words[:6], words[6:12], 8)
    _truncate_case(student, words[:7], words[7:13], 11)


SNLI_PAIRS = (["A man is running in the park .", "The dog sleeps .",
               "A girl is eating with a friend at home after work ."],
              ["A person is running .", "A cat is sleeping in the street on the beach now .",
               "The girl is singing ."],
              [0, 2, 1])


def _dataset_expected(dataset, max_len, idx_to_token):
    import course

    vocab = course.Vocab()
    vocab.idx_to_token = list(idx_to_token)
    vocab.token_to_idx = {t: i for i, t in enumerate(idx_to_token)}
    return ref.SNLIBERTDataset(dataset, max_len, vocab)


def _check_dataset(student, max_len):
    idx_to_token = ["<unk>", "<pad>", "<cls>", "<sep>", "<mask>", *sorted(
        {w for s in SNLI_PAIRS[0] + SNLI_PAIRS[1] for w in s.lower().split()} - {"now"})]
    what = (f"SNLIBERTDataset(dataset, {max_len}, vocab) on {len(SNLI_PAIRS[2])} pairs "
            "(one word not in the vocabulary)")
    got = student.scenario(_dataset_run, [list(x) for x in SNLI_PAIRS], max_len, idx_to_token,
                           what=what)
    data = _dataset_expected(SNLI_PAIRS, max_len, idx_to_token)
    hint = _("lower-case, tokenize, truncate, course.get_tokens_and_segments, then pad token ids "
             "with vocab['<pad>'] and segments with 0 up to max_len; valid_lens are the "
             "unpadded lengths")
    attrs = mapping(got["attrs"], f"the attributes of {what}")
    for name in ("all_token_ids", "all_segments", "valid_lens", "labels"):
        expected = getattr(data, name)
        value = tensor(attrs.get(name), f"{what}.{name}")
        expect(value.dtype == torch.long, f"{what}.{name} has dtype {value.dtype}; expected "
               "torch.int64 (long)")
        expect_tensor(value, expected, what=f"{what}.{name}", hint=hint)
    expect_equal(attrs.get("max_len"), max_len, what=f"{what}.max_len")
    expect(got["vocab"], f"{what}.vocab must be the vocab passed in")
    expect_equal(got["len"], len(SNLI_PAIRS[2]), what=f"len({what})")
    for i, item in zip((0, len(data) - 1), got["items"]):
        (ids, segs, lens), label = data[i]
        expect_equal(item, [[ids, segs, lens], label], what=f"{what}[{i}] as "
                     "((token_ids, segments, valid_len), label)")
    (ids, segs, lens), label = data[:]
    expect_equal(got["batch"], [[ids, segs, lens], label],
                 what=f"one DataLoader batch of all of {what}")


@exercise("SNLIBERTDataset", weight=2)
def test_snli_bert_dataset_truncated(student):
    _check_dataset(student, 12)


@exercise("SNLIBERTDataset")
def test_snli_bert_dataset_padded(student):
    _check_dataset(student, 20)


def _classifier(student, gen, frozen_check):
    V = 10
    net = _small_bert(V, gen).double()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    num_hiddens = BERT_SIZES[0]
    output = _randomised(torch.nn.Linear(num_hiddens, 3), gen)
    out_state = {k: v.clone() for k, v in output.state_dict().items()}
    tokens = _tokens(gen, V, 3, 6)
    segments = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1]])
    valid = torch.tensor([6, 5, 6])
    labels = torch.tensor([0, 2, 1])
    what = "BERTClassifier(bert) with a toolbox BERTModel of 16 hidden units"
    sizes = [num_hiddens, BERT_SIZES[1], BERT_SIZES[2], BERT_SIZES[3], BERT_SIZES[4],
             BERT_SIZES[5]]
    got = student.scenario(_classifier_run, V, sizes, state, out_state,
                           [tokens, segments, valid], labels, what=what)
    expect(got.get("module"), f"{what} is not an nn.Module")
    expect(all(got["shared"]), f"{what} must keep bert.encoder as encoder and bert.hidden as "
           "hidden (the same modules, not copies)")
    want = {f"encoder.{k}": list(v.shape) for k, v in net.encoder.state_dict().items()}
    want.update({f"hidden.{k}": list(v.shape) for k, v in net.hidden.state_dict().items()})
    want.update({"output.weight": [3, num_hiddens], "output.bias": [3]})
    expect(got["keys"] == want, f"{what} has parameters {sorted(set(got['keys']) ^ set(want))} "
           "that differ from encoder, hidden and output = nn.Linear(num_hiddens, 3)")
    net.eval()
    output.eval()
    with torch.no_grad():
        scores = output(net.hidden(net.encoder(tokens, segments, valid)[:, 0, :]))
    expect_tensor(got.get("scores"), scores, what=f"the scores of {what} in evaluation mode",
                  inputs="inputs (tokens_X, segments_X, valid_lens_x) of shapes (3, 6), (3, 6), "
                  "(3,)", hint=_("output(hidden(encoded_X[:, 0, :])): the <cls> token's encoding"))
    if frozen_check:
        encoder = sorted(f"encoder.{n}" for n, _ in net.encoder.named_parameters())
        hidden = sorted(f"hidden.{n}" for n, _ in net.hidden.named_parameters())
        frozen, free = got["changed"]
        expect(frozen["output"] and free["output"], f"an SGD step on {what} did not change "
               "output.weight")
        expect(frozen["bert"] == hidden, f"with bert.encoder frozen (requires_grad False), an "
               f"SGD step on the classifier changed {frozen['bert']} of bert; expected only "
               "hidden.*: the classifier must use bert's own modules")
        allowed = set(encoder) | set(hidden)
        expect(set(hidden) <= set(free["bert"]) <= allowed
               and "encoder.token_embedding.weight" in free["bert"],
               f"with bert.encoder unfrozen, an SGD step on the classifier changed "
               f"{free['bert'][:8]}... of bert; expected encoder.* (its token embedding among "
               "them) and hidden.*, and none of mlm.* or nsp.*")


@exercise("BERTClassifier")
def test_bert_classifier_scores(student, gen):
    _classifier(student, gen, False)


@exercise("BERTClassifier")
def test_bert_classifier_fine_tunes_bert(student, gen):
    _classifier(student, gen, True)
