"""The check-writing library: statistics, input strategies, grader-supplied objects, patterns,
and the rule that no reference solution's code reaches the sandbox."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from scipy import stats as sps

from course.checking import compare as checker
from grader.engine import compare, patterns, stats
from grader.engine import strategies as draw
from grader.engine.child import objects
from grader.engine.child.fromscratch import Forbid, register_grader_code
from grader.engine.compare import CheckFailure
from grader.release import chapter_ids
from tests.conftest import ROOT, source_notebook


@pytest.fixture(autouse=True)
def _checker():
    compare.use_checker(checker)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- stats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(20_000, 0.2), (64, 0.5), (1000, 0.001), (50, 0.999)])
def test_binomial_bounds_hold_their_false_failure_probability(n, p):
    alpha = 1e-7
    low, high = stats.binomial_bounds(n, p, alpha)
    outside = sps.binom.cdf(low - 1, n, p) + sps.binom.sf(high, n, p)
    assert outside <= alpha
    # …and are not needlessly wide: one step inwards on either side breaks the budget.
    assert sps.binom.cdf(low, n, p) > alpha / 2 or sps.binom.sf(high - 1, n, p) > alpha / 2


def test_budgets_above_the_design_limit_are_refused():
    with pytest.raises(ValueError, match="false-failure"):
        stats.binomial_bounds(100, 0.5, alpha=1e-3)
    assert stats.split(1e-6, 8) == pytest.approx(1.25e-7)
    assert stats.z_score(1e-7) == pytest.approx(5.3267, abs=1e-4)
    assert math.isclose(stats.ks_tolerance(10_000, 1e-7), math.sqrt(math.log(2e7) / 20_000))


def test_expect_count_message_states_the_interval_and_the_odds():
    stats.expect_count(4000, 20_000, 0.2, what="dropout(X, 0.2)", event="zeroed an element")
    with pytest.raises(CheckFailure) as failure:
        stats.expect_count(5000, 20_000, 0.2, what="dropout(X, 0.2)", event="zeroed an element")
    message = str(failure.value)
    assert message.startswith("dropout(X, 0.2) zeroed an element 5000 times out of 20000")
    assert "between" in message and "probability below 1e-07" in message


def test_expect_frequencies_forbids_outcomes_of_weight_zero():
    stats.expect_frequencies([0, 6700, 0, 3300], [0.0, 2.0, 0.0, 1.0], what="sample")
    with pytest.raises(CheckFailure, match="outcome 0, whose weight is 0, 1 times"):
        stats.expect_frequencies([1, 6700, 0, 3299], [0.0, 2.0, 0.0, 1.0], what="sample")
    with pytest.raises(CheckFailure, match="drew outcome 1"):
        stats.expect_frequencies([0, 5000, 0, 5000], [0.0, 2.0, 0.0, 1.0], what="sample")


def test_moments_accept_correct_samples_and_reject_wrong_ones():
    g = gen(1)
    sample = torch.randn(20_000, generator=g, dtype=torch.float64) * 0.01
    assert abs(stats.expect_mean(sample, 0.0, 0.01, what="noise")) < 1e-3
    assert stats.expect_std(sample, 0.01, what="noise") == pytest.approx(0.01, rel=0.05)
    with pytest.raises(CheckFailure, match="standard deviation"):
        stats.expect_std(sample * 10, 0.01, what="noise")
    with pytest.raises(CheckFailure, match="has mean"):
        stats.expect_mean(sample + 0.001, 0.0, 0.01, what="noise")


def test_ks_accepts_the_right_distribution_and_rejects_another():
    g = gen(2)
    uniform = torch.rand(5000, generator=g, dtype=torch.float64) - 0.5
    stats.expect_distribution(uniform, sps.uniform(-0.5, 1).cdf, what="init", name="U(-0.5, 0.5)")
    normal = torch.randn(5000, generator=g, dtype=torch.float64) * 0.29
    with pytest.raises(CheckFailure, match=r"do not look like draws from U\(-0.5, 0.5\)"):
        stats.expect_distribution(normal, sps.uniform(-0.5, 1).cdf, what="init",
                                  name="U(-0.5, 0.5)")


def test_miss_rates_state_how_often_a_mistake_slips_through():
    # A sampler that draws outcome i with probability 0.25 instead of 0.2 almost never passes.
    assert stats.binomial_miss_rate(20_000, 0.2, 0.25) < 1e-12
    assert stats.binomial_miss_rate(20_000, 0.2, 0.2) > 1 - 1e-7
    assert stats.mean_miss_rate(20_000, 0.0, 1.0, 0.5, 1.0) < 1e-12
    assert stats.ks_miss_rate(5000, 0.2) < 1e-12
    assert stats.ks_miss_rate(50, 0.01) == 1.0


# --- strategies -----------------------------------------------------------------------------------


def test_strategies_are_reproducible_and_keep_their_promises():
    assert torch.equal(draw.normal(gen(3), 4, 5), draw.normal(gen(3), 4, 5))
    assert draw.normal(gen(), 2, 3).dtype == torch.float64
    assert draw.normal(gen(), 2, dtype=torch.float32).dtype == torch.float32
    kinks = draw.away_from(gen(4), 10_000, points=(-1.0, 1.0), margin=0.1)
    assert float((kinks - 1).abs().min()) >= 0.1 - 1e-12
    assert float((kinks + 1).abs().min()) >= 0.1 - 1e-12
    values = draw.distinct(gen(5), 6, 7).flatten().sort().values
    assert float((values[1:] - values[:-1]).min()) >= 0.05
    scores = draw.scores(gen(6), 200, 5, margin=0.1)
    top = scores.topk(2, dim=1).values
    assert float((top[:, 0] - top[:, 1]).min()) >= 0.1 - 1e-12
    p = draw.probabilities(gen(7), 8, 4, floor=0.01)
    assert torch.allclose(p.sum(-1), torch.ones(8, dtype=torch.float64))
    assert float(p.min()) >= 0.01
    labels = draw.labels(gen(8), 10, 10, every_class=True)
    assert sorted(labels.tolist()) == list(range(10))
    singular = torch.linalg.svdvals(draw.well_conditioned(gen(9), 5, 3, condition=4.0))
    assert float(singular.min()) >= 1 - 1e-9 and float(singular.max()) <= 4 + 1e-9
    assert draw.sizes(gen(10), 40, 41, not_divisible_by=8) == 41
    assert draw.positive(gen(), 100).min() >= 0.1


def test_strategies_draw_on_cpu_then_move():
    moved = draw.normal(gen(11), 3, device="meta")
    assert moved.device.type == "meta" and moved.shape == (3,)


# --- objects --------------------------------------------------------------------------------------


def test_layer_specs_build_the_same_network_on_both_sides():
    layers = [["flatten"], ["linear", 12, 4, {"bias": False}], ["relu"], ["dropout", 0.5]]
    net = objects.random_module(layers, gen(12), scale=0.3, dtype=torch.float64).eval()
    spec = objects.module_spec(net)
    assert spec["dtype"] == "float64" and spec["key"] == "net"
    again = objects.build(spec).eval()
    X = torch.randn(3, 3, 4, dtype=torch.float64)
    assert torch.equal(net(X), again(X))
    assert list(again.state_dict()) == ["net.1.weight"]
    with pytest.raises(ValueError, match="unknown layer kind 'lstm'"):
        objects.build_layer(["lstm", 3, 4])


def _as_student(source: str, name: str, scope: dict):
    """A function compiled as a notebook cell, which the run-time watch treats as the student's."""
    exec(compile(source, "<cell 1>", "exec"), scope)  # noqa: S102 - the test's own code
    return scope[name]


def test_trusted_objects_do_not_count_as_the_students_ops():
    register_grader_code(objects)  # as the sandbox does for its own package
    scope = {"torch": torch, "net": objects.TrustedModule([["linear", 3, 3], ["relu"]]),
             "relu": objects.function("torch.relu")}
    uses_trusted = _as_student("def run(X):\n    return relu(net(X))\n", "run", scope)
    uses_relu = _as_student("def own(X):\n    return torch.relu(X)\n", "own", scope)
    with Forbid(["relu"]) as forbid:
        uses_trusted(torch.randn(2, 3))
    assert forbid.violations() == []
    with Forbid(["relu"]) as forbid:
        uses_relu(torch.randn(2, 3))
    assert forbid.violations()


def test_generic_functions_replay_and_swap():
    hits = objects.function("classification_hits")
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert hits(scores, torch.tensor([1, 1, 1])) == 2.0
    assert hits(torch.tensor([1.0, 0.0]), torch.tensor([1, 1])) == 1.0
    with pytest.raises(ValueError, match="come from torch"):
        objects.function("os.system")
    replay = objects.build({"__build__": "replay", "outputs": [1, 2], "name": "relu"})
    assert (replay(torch.zeros(2, 3)), replay(5)) == (1, 2)
    assert replay.calls == [[[2, 3]], [5]]
    with pytest.raises(RuntimeError, match="called 3 times"):
        replay()
    ns = {"accuracy": "student's"}
    with objects.Swap(ns, {"accuracy": hits, "relu": relu_stub}):
        assert ns["accuracy"] is hits and ns["relu"] is relu_stub
    assert ns == {"accuracy": "student's"}


def relu_stub(x):
    return x


# --- patterns -------------------------------------------------------------------------------------


class FakeStudent:
    """Runs a Python function in this process in place of the sandbox (for pattern tests)."""

    def __init__(self, fn, ops=None):
        self.fn = fn
        self.ops = ops
        self.calls = []

    def call(self, name, *args, kwargs=None, vjp=None, count_ops=False, **_):
        self.calls.append(args)
        if vjp:
            leaves = [a.clone().requires_grad_(True) if i in vjp["wrt"] else a
                      for i, a in enumerate(args)]
            out = self.fn(*leaves)
            grads = torch.autograd.grad(out, [leaves[i] for i in vjp["wrt"]], vjp["grad_output"])
            return {"result": out.detach(), "grads": list(grads)}
        answer = {"result": self.fn(*args, **(kwargs or {}))}
        if count_ops and self.ops is not None:
            answer["ops"] = {"total": self.ops(*args), "by_op": {}}
        return answer

    def result(self, name, *args, **options):
        return self.call(name, *args, **options)["result"]


def square_dists(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(dim=2)


def test_describe_names_inputs_after_the_reference():
    X, Y = torch.zeros(5, 3, dtype=torch.float64), torch.zeros(7, 3, dtype=torch.float64)
    assert patterns.parameter_names(square_dists) == ["X", "Y"]
    assert patterns.describe((X, Y, 1), ["X", "Y", "axis"]) == \
        "float64 X of shape (5, 3), Y of shape (7, 3), axis = 1"


def test_values_and_gradient_patterns_compare_with_the_reference():
    X, Y = draw.normal(gen(13), 4, 2), draw.normal(gen(14), 3, 2)
    patterns.expect_values(FakeStudent(square_dists), "d", square_dists, X, Y)
    patterns.expect_gradient(FakeStudent(square_dists), "d", square_dists, X, Y, wrt=[0, 1],
                             gen=gen(15))
    with pytest.raises(CheckFailure, match=r"d\(X, Y\) is wrong for float64 X of shape \(4, 2\)"):
        patterns.expect_values(FakeStudent(lambda X, Y: square_dists(X, Y).sqrt()), "d",
                               square_dists, X, Y)
    with pytest.raises(CheckFailure, match="the gradient of d"):
        patterns.expect_gradient(FakeStudent(lambda X, Y: square_dists(X, Y) * 1.5), "d",
                                 square_dists, X, Y, wrt=[0], gen=gen(15))


def test_vectorized_counts_operations_and_requires_values():
    small = (draw.normal(gen(16), 3, 3), draw.normal(gen(17), 2, 3))
    large = (draw.normal(gen(18), 40, 3), draw.normal(gen(19), 30, 3))
    patterns.expect_vectorized(FakeStudent(square_dists, ops=lambda X, Y: 5), "d", square_dists,
                               small, large)
    rows = FakeStudent(square_dists, ops=lambda X, Y: 2 + 3 * len(X))
    with pytest.raises(CheckFailure, match="ran 11 tensor operations .* but 122"):
        patterns.expect_vectorized(rows, "d", square_dists, small, large)
    nothing = FakeStudent(lambda X, Y: None, ops=lambda X, Y: 0)
    with pytest.raises(CheckFailure, match="returned a NoneType"):
        patterns.expect_vectorized(nothing, "d", square_dists, small, large)
    with pytest.raises(RuntimeError, match="did not count"):
        patterns.expect_vectorized(FakeStudent(square_dists), "d", square_dists, small, large)


@pytest.mark.parametrize("value", [0.75, 3 / 4, np.float64(0.75), {"__kind__": "number",
                                                                     "value": 0.75}])
def test_expect_float_accepts_python_and_numpy_numbers(value):
    assert patterns.expect_float(value, 0.75, what="evaluate_accuracy") == 0.75


def test_expect_float_refuses_tensors_and_wrong_values():
    with pytest.raises(CheckFailure, match="tensor"):
        patterns.expect_float(torch.tensor(0.75), 0.75, what="evaluate_accuracy")
    with pytest.raises(CheckFailure, match="returned 0.5"):
        patterns.expect_float(0.5, 0.75, what="evaluate_accuracy")


def test_same_compares_exported_values():
    a = (torch.tensor([1, 2]), [torch.zeros(2)], {"k": 1.0})
    assert patterns.same(a, (torch.tensor([1, 2]), [torch.zeros(2)], {"k": 1.0}))
    assert not patterns.same(a, (torch.tensor([1, 3]), [torch.zeros(2)], {"k": 1.0}))
    assert not patterns.same(torch.tensor([1]), torch.tensor([1.0]))


# --- no reference code reaches the sandbox --------------------------------------------------------


def _statements(text: str) -> set[str]:
    """Whitespace-free lines that compute something (control lines such as ``with
    torch.no_grad():`` are common to any code and tell nothing)."""
    lines = {re.sub(r"\s+", "", line) for line in text.splitlines()}
    return {line for line in lines if len(line) >= 20 and not line.endswith(":")
            and not line.startswith("#")}


def solution_statements(chapter: str) -> set[str]:
    """The statements of the reference solutions' bodies of ``chapter``."""
    text = (ROOT / "solutions" / f"{chapter}.py").read_text()
    blocks = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S)
    return set().union(*(_statements(block) for block in blocks))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def leaks(chapter: str, texts: list[str]) -> set[str]:
    """The reference statements of ``chapter`` found in ``texts``."""
    found: set[str] = set()
    for text in texts:
        found |= solution_statements(chapter) & _statements(text)
    return found


def test_the_leak_scan_finds_a_reference_copied_into_a_scenario():
    copied = '''
def _evaluate(ns, net, batches):
    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())
'''
    assert "cmp=y_hat.type(y.dtype)==y" in leaks("ch03", [copied])


@pytest.mark.parametrize("chapter", chapter_ids())
def test_no_reference_code_reaches_the_sandbox(chapter, monkeypatch):
    """Grading the complete solutions sends scenarios, specs and the sandbox's own modules, but
    no statement of a reference solution (a student could read it from the sandbox)."""
    from grader.course import grade
    from grader.engine.child import protocol
    from grader.engine.sandbox import child_modules

    sent: list[dict] = []
    encode = protocol.encode

    def recording(message):
        sent.append(message)
        return encode(message)

    monkeypatch.setattr(protocol, "encode", recording)
    grade(source_notebook(chapter), chapter, seed=11)
    requests = [m for m in sent if isinstance(m, dict) and m.get("op") not in (None, "load")]
    assert any(m.get("op") == "scenario" for m in requests)
    texts = [s for m in requests for s in _strings(m)] + list(child_modules().values())
    assert not leaks(chapter, texts)

