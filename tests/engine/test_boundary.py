"""Everything that crosses back from the sandbox is bounded before the grader reads it."""

from __future__ import annotations

import json
import textwrap
import time

import pytest
import torch

from grader.course import COURSE
from grader.engine.boundary import MAX_ITEMS, MAX_NODES, MORE, admit, cut, tensor_problem
from grader.engine.compare import CheckFailure, tensor
from grader.engine.options import Limits, Options
from grader.engine.report import assemble
from grader.engine.sandbox import Sandbox, StudentError

LIMITS = Limits(text_chars=100, tensor_elements=1000)


def test_strings_bytes_and_keys_are_cut():
    got = admit({"k" * 500: "v" * 500, "b": b"x" * 500}, LIMITS)
    key = next(iter(got))
    assert key.startswith("k" * 100) and "400 more characters" in key
    assert got[key] == cut("v" * 500, 100)
    assert got["b"] == b"x" * 100 + MORE.encode()


def test_numbers_and_plain_values_pass_unchanged():
    value = {"a": [1, 2.5, None, True, 1j, (torch.float64, torch.device("cpu"))]}
    assert admit(value, LIMITS) == value


def test_huge_integers_and_unexpected_types_become_markers():
    got = admit([2**100_000, {1, 2}, object()], LIMITS)
    assert got[0]["__kind__"] == "refused" and got[0]["text"] == "an integer of 100001 bits"
    assert sorted(got[1]) == [1, 2]
    assert got[2] == {"__kind__": "refused", "type": "object", "text": "a value of type object"}
    with pytest.raises(CheckFailure, match="f\\(X\\) returned an integer of 100001 bits"):
        tensor(got[0], "f(X)")


def test_containers_are_cut_to_a_number_of_items():
    got = admit({"list": list(range(MAX_ITEMS + 5)), "dict": {str(i): i for i in range(
        MAX_ITEMS + 5)}}, LIMITS)
    assert len(got["list"]) == MAX_ITEMS + 1 and got["list"][-1] == MORE
    assert len(got["dict"]) == MAX_ITEMS + 1 and got["dict"][MORE] == MORE


def test_deep_cyclic_and_shared_structures_are_walked_in_bounded_time():
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    cyclic: list = [1]
    cyclic.append(cyclic)
    shared: list = [0]
    for _ in range(64):  # 2**64 paths through 65 lists
        shared = [shared, shared]
    start = time.monotonic()
    got = admit({"deep": deep, "cyclic": cyclic, "shared": shared}, LIMITS)
    assert time.monotonic() - start < 30
    assert "nested more than 40 levels" in json.dumps(got["deep"], default=str)
    assert got["cyclic"][0] == 1
    text = json.dumps(got["shared"], default=str)
    assert text.count("[") <= MAX_NODES and json.dumps(MORE) in text


def test_expanded_tensor_is_refused_by_its_logical_size_without_materialising():
    huge = torch.zeros(1).expand(2**40)
    got = admit({"result": huge}, LIMITS)["result"]
    assert got["__kind__"] == "oversized" and got["elements"] == 2**40
    with pytest.raises(CheckFailure, match=r"shape \(1099511627776,\) with 1099511627776 "
                                           r"elements, more than the 1000"):
        tensor(got, "f(X)")


def test_tensors_share_one_element_budget_per_answer():
    got = admit([torch.zeros(600), torch.zeros(600)], LIMITS)
    assert isinstance(got[0], torch.Tensor)
    assert got[1]["__kind__"] == "refused" and "all the tensors of one answer" in got[1]["text"]


def test_malformed_tensors_become_markers():
    short = torch.zeros(10)
    short.untyped_storage().resize_(8)
    assert "storage is smaller" in tensor_problem(short, 100)["text"]
    sparse = torch.zeros(3, 3).to_sparse()
    got = admit(sparse, LIMITS)
    assert "layout torch.sparse_coo" in got["text"]
    with pytest.raises(CheckFailure, match="sparse_coo"):
        tensor(got, "f(X)")
    parameter = admit(torch.nn.Parameter(torch.ones(2)), LIMITS)
    assert type(parameter) is torch.Tensor and not parameter.requires_grad


# --- through a real sandbox: a hostile submission replaces the sandbox's own export -------------

FAST = Limits(load_seconds=30, call_seconds=20, memory_bytes=3 * 2**30, output_bytes=2**20)

BYPASS = """
import sys
for _name, _module in list(sys.modules.items()):
    if _name.startswith("_d2l_sandbox") and hasattr(_module, "export"):
        _module.export = lambda value: value
    if _name.startswith("_d2l_sandbox") and hasattr(_module, "describe_exception"):
        _module.describe_exception = lambda exc: {"type": "E" * 10_000_000,
                                                  "message": "m" * 10_000_000,
                                                  "where": ["w" * 10_000_000] * 100}
"""


def _sandbox(*cells: str) -> Sandbox:
    return Sandbox([(str(i + 1), textwrap.dedent(c)) for i, c in enumerate(cells)], "ch02",
                   COURSE, Options(limits=FAST))


def _call(box: Sandbox, name: str, *args):
    return box.run({"op": "call", "name": name, "args": list(args)}, f"{name}(...)").data


@pytest.mark.xdist_group("sandbox")
def test_raw_answers_of_a_hostile_sandbox_are_bounded():
    functions = """
    import torch
    def text():
        return "x" * 50_000_000
    def expanded():
        return torch.zeros(1).expand(2**40)
    def fail():
        raise ValueError("boom")
    """
    with _sandbox(BYPASS, functions) as box:
        assert len(_call(box, "text")["result"]) < FAST.text_chars + 100
        assert _call(box, "expanded")["result"]["__kind__"] == "oversized"
        with pytest.raises(StudentError, match="raised E{10}") as caught:
            _call(box, "fail")  # the same sandbox: both answers were read
        assert len(str(caught.value)) < 3 * FAST.text_chars + 500


@pytest.mark.xdist_group("sandbox")
def test_giant_names_and_many_errors_at_load_stay_small():
    giant_error = """
    raise type("E" * 10_000_000, (Exception,), {})("m" * 10_000_000)
    """
    many_names = """
    for _i in range(100_000):
        globals()[f"v{_i}"] = _i
    globals()["n" * 1_000_000] = 1
    def f(x):
        return x + 1
    """
    failing = [f"raise ValueError('cell {i}')" for i in range(300)]
    start = time.monotonic()
    with _sandbox(giant_error, many_names, *failing) as box:
        info = box.ensure()
        assert _call(box, "f", 1)["result"] == 2
    assert time.monotonic() - start < 120
    assert len(info["defined"]) <= 5_000 and "f" in info["defined"]
    assert all(len(name) <= 200 for name in info["defined"])
    errors = info["errors"]
    assert errors[0]["type"].startswith("EEEE") and len(errors[0]["type"]) < 300
    assert len(errors[0]["message"]) < 1000
    report = assemble("ch02", [], 1, load_errors=errors)
    assert len(json.dumps(report)) < 100_000
    assert report["load_errors"][-1]["type"] == "MoreErrors"
    assert report["load_errors"][-1]["count"] == 301 - (len(report["load_errors"]) - 1)


@pytest.mark.xdist_group("sandbox")
def test_hostile_load_answer_is_bounded_in_the_grader():
    with _sandbox(BYPASS, "raise ValueError('x')") as box:
        error = box.ensure()["errors"][0]
    assert len(error["type"]) < FAST.text_chars + 100
    assert len(error["where"]) <= MAX_ITEMS + 1
    report = assemble("ch02", [], 1, load_errors=[error])
    assert len(json.dumps(report)) < 100_000


@pytest.mark.xdist_group("sandbox")
def test_a_notebook_with_a_giant_exception_name_and_many_magics_is_graded(tmp_path):
    from grader.course import grade
    from tests.conftest import scores, source_notebook, with_extra_cell

    magics = "\n".join(f"%time x{i} = {i}" if i % 2 else f"!echo {i}" for i in range(20_000))
    path = with_extra_cell(source_notebook("ch05"), magics, tmp_path / "magics.ipynb")
    path = with_extra_cell(path, 'raise type("E" * 10_000_000, (Exception,), {})("m" * 10**7)',
                           tmp_path / "hostile.ipynb")
    start = time.monotonic()
    report = grade(path, "ch05", seed=1)
    assert time.monotonic() - start < 240
    assert scores(report) == scores(grade(source_notebook("ch05"), "ch05", seed=1))
    assert [e["type"][:4] for e in report["load_errors"]] == ["EEEE"]
    assert len(json.dumps(report)) < 200_000
