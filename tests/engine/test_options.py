"""Options and limits: one object for every route; limits settable by name."""

import pytest

from grader.engine.options import Limits, Options, parse_limits


def test_parse_limits_units_and_types():
    limits = parse_limits(["call_seconds=2.5", "memory_bytes=2G", "output-bytes=512k",
                           "processes=8"])
    assert limits.call_seconds == 2.5
    assert limits.memory_bytes == 2 * 2**30 and isinstance(limits.memory_bytes, int)
    assert limits.output_bytes == 512 * 2**10
    assert limits.processes == 8
    assert parse_limits(None) == Limits()


@pytest.mark.parametrize("bad", ["call_seconds", "nope=1", "call_seconds=fast", "processes=0"])
def test_parse_limits_rejects_bad_settings(bad):
    with pytest.raises(ValueError):
        parse_limits([bad])


def test_options_are_immutable_and_replaceable():
    options = Options(seed=1)
    changed = options.replace(device="cuda:1", exercises=("softmax",))
    assert (options.device, changed.device, changed.seed) == ("cpu", "cuda:1", 1)
    with pytest.raises(AttributeError):
        options.seed = 2  # type: ignore[misc]
