"""The comparison helpers and the course's checker (no sandbox): message order, numbers, digits."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

from course.checking import compare as checker
from grader.engine import compare
from grader.engine.child.export import export
from grader.engine.compare import CheckFailure


@pytest.fixture(autouse=True)
def _checker():
    compare.use_checker(checker)


EXPECTED = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)


# --- order: type → dtype → shape → device → finite → values, one step each ------------------------


def test_type_comes_first():
    message = checker([[1.0, 2.0]], EXPECTED, what="f(X)", inputs="X of shape (2, 2)")
    assert message == "f(X) returned a list for X of shape (2, 2); expected a torch.Tensor"


def test_dtype_before_shape():
    message = checker(torch.zeros(3, dtype=torch.float32), EXPECTED, what="f(X)")
    assert message.startswith("f(X) has dtype torch.float32; expected torch.float64")


def test_shape_before_device():
    message = checker(torch.zeros(2, 3, dtype=torch.float64, device="meta"), EXPECTED,
                      what="f(X)")
    assert message == "f(X) has shape (2, 3); expected (2, 2)"


def test_device_before_finite_and_values():
    message = checker(torch.full((2, 2), float("nan"), dtype=torch.float64, device="meta"),
                      EXPECTED, what="f(X)")
    assert message.startswith("f(X) is on meta; expected cpu")


def test_finite_before_values():
    got = EXPECTED.clone()
    got[0, 1] = float("inf")
    got[1, 1] = 100.0
    message = checker(got, EXPECTED, what="f(X)")
    assert message.startswith("f(X) is not finite at index (0, 1): got inf, expected 2")


def test_values_last_with_the_worst_element():
    got = EXPECTED.clone()
    got[1, 0] += 0.5
    got[0, 0] += 0.1
    message = checker(got, EXPECTED, what="f(X)", hint="check the sign")
    assert message.startswith("f(X) is wrong: 2 of 4 values differ; worst at index (1, 0): "
                              "got 3.5, expected 3 (tolerance 1e-07 + 1e-07·|expected|)")
    assert message.endswith(". Hint: check the sign")


def test_matching_values_pass_nan_and_inf_included():
    special = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0], dtype=torch.float64)
    assert checker(special.clone(), special) is None
    assert checker(EXPECTED + 1e-9, EXPECTED) is None
    assert checker(torch.zeros(0, 2, dtype=torch.float64), torch.zeros(0, 2,
                                                                       dtype=torch.float64)) is None


def test_digits_are_enough_to_show_the_difference():
    expected = torch.tensor([6.4763601], dtype=torch.float64)
    got = torch.tensor([6.4763612], dtype=torch.float64)
    message = checker(got, expected, what="loss")
    assert "got 6.476361, expected 6.47636" in message
    far = checker(torch.tensor([6.47636123456789], dtype=torch.float64),
                  torch.tensor([6.47636123456788], dtype=torch.float64), atol=0, rtol=0)
    assert "got 6.47636123456789, expected 6.47636123456788" in far


# --- the engine's helpers ------------------------------------------------------------------------


def test_expect_tensor_uses_the_checker_and_returns_the_tensor():
    assert compare.expect_tensor(EXPECTED.clone(), EXPECTED, what="f(X)") is not None
    with pytest.raises(CheckFailure, match="f\\(X\\) has shape"):
        compare.expect_tensor(torch.zeros(3, dtype=torch.float64), EXPECTED, what="f(X)")
    with pytest.raises(CheckFailure, match="returned a numpy array"):
        compare.expect_tensor(export(np.zeros(3)), EXPECTED, what="f(X)")


@pytest.mark.parametrize("value", [
    0.25, 1, np.float64(0.25), np.float32(0.25), np.int64(1), np.array(0.25), np.array([0.25]),
    torch.tensor(0.25), torch.tensor([0.25], dtype=torch.float64),
], ids=lambda v: type(v).__name__ + str(getattr(v, "shape", "")))
def test_every_numeric_scalar_is_a_number(value):
    assert compare.number(export(value), "f()") == (1.0 if value == 1 else 0.25)


class Ratio(float):
    """A float subclass, as a library might return."""


def test_float_subclass_and_tensor_policy():
    assert compare.number(export(Ratio(0.5)), "f()") == 0.5
    with pytest.raises(CheckFailure, match="one-element tensor; expected a Python number"):
        compare.number(export(torch.tensor(0.5)), "f()", allow_tensor=False)
    assert compare.number(export(np.float64(0.5)), "f()", allow_tensor=False) == 0.5


@pytest.mark.parametrize(("value", "message"), [
    (True, "returned a bool"), (np.bool_(True), "returned a bool"),
    (1j, "expected a number"), ("0.5", "returned a str"),
    (torch.zeros(2), "returned a tensor of shape"), (2**2000, "too large"),
], ids=["bool", "numpy-bool", "complex", "str", "tensor", "huge-int"])
def test_non_numbers_are_refused_with_a_message(value, message):
    with pytest.raises(CheckFailure, match=message):
        compare.number(export(value), "f()")


def test_expect_number_prints_enough_digits():
    assert compare.expect_number(export(np.float64(0.5)), 0.5, what="acc") == 0.5
    with pytest.raises(CheckFailure) as failure:
        compare.expect_number(6.4763612, 6.4763601, what="loss", atol=1e-9, rtol=1e-9)
    assert str(failure.value).startswith("loss returned 6.476361; expected 6.47636 (tolerance")
    with pytest.raises(CheckFailure, match=r"returned nan \(not finite\); expected 6.47636"):
        compare.expect_number(float("nan"), 6.4763601, what="loss")
    with pytest.raises(CheckFailure, match="returned inf"):
        compare.expect_number(float("inf"), 1.0, what="loss", atol=float("inf"))


def test_format_pair():
    assert compare.format_pair(0.1, 0.2) == ("0.1", "0.2")
    assert compare.format_pair(1 / 3, 1 / 3 + 1e-12) == ("0.333333333333", "0.333333333334")
    assert compare.format_pair(1.0, 1.0 + 2**-52) == ("1", "1.0000000000000002")


def test_dicts_compare_as_mappings():
    expected = {"lr": 0.1, "epochs": 3, "shape": (2, 3), "w": torch.ones(2)}
    shuffled = OrderedDict([("w", torch.ones(2)), ("shape", [2, 3]), ("epochs", np.int64(3)),
                            ("lr", 0.1)])
    compare.expect_equal(export(shuffled), expected, what="extra")
    compare.expect_equal(export(dict(shuffled)), expected, what="extra")
    with pytest.raises(CheckFailure, match="missing \\['lr'\\]"):
        compare.expect_equal(export({"epochs": 3, "shape": (2, 3), "w": torch.ones(2)}),
                             expected, what="extra")
    with pytest.raises(CheckFailure, match=r"extra\['shape'\]\[1\] returned 4"):
        compare.expect_equal(export({**expected, "shape": (2, 4)}), expected, what="extra")
    assert compare.mapping(export(OrderedDict(a=1)), "f()") == {"a": 1}
    with pytest.raises(CheckFailure, match="expected a dict"):
        compare.mapping(export([1]), "f()")


def test_oversized_marker_message():
    marker = export(torch.zeros(1).expand(2**30))
    with pytest.raises(CheckFailure, match=r"tensor of shape \(1073741824,\) with 1073741824 "
                                           r"elements, more than the 67108864"):
        compare.tensor(marker, "f(X)")


def test_expect_vjp_compares_gradients_with_the_reference():
    X = torch.randn(3, dtype=torch.float64)
    G = torch.randn(3, dtype=torch.float64)
    answer = {"grads": [2 * X * G]}
    compare.expect_vjp(answer, lambda x: x**2, (X,), [0], G, what="square(X)", names=["X"])
    with pytest.raises(CheckFailure, match="the gradient of square\\(X\\) with respect to X"):
        compare.expect_vjp({"grads": [X * G]}, lambda x: x**2, (X,), [0], G,
                           what="square(X)", names=["X"])
    with pytest.raises(CheckFailure, match="is not differentiable"):
        compare.expect_vjp({"grads": [None]}, lambda x: x**2, (X,), [0], G,
                           what="square(X)", names=["X"])
