"""make gpu-check and the bench's device section on a machine without CUDA: they say so and
stop, so that CI (CPU only) passes; on a CUDA machine these tests are skipped and the real run
is the check."""

import pytest
import torch

from grader import gpu_check
from grader.bench import _device_rows

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason="CUDA present: run make gpu-check")


def test_gpu_check_says_there_is_nothing_to_run(capsys):
    assert gpu_check.main(["--chapters", "ch02"]) == 0
    assert "no CUDA device here" in capsys.readouterr().out


def test_the_bench_device_section_skips_itself(capsys):
    assert _device_rows(["ch02"]) is None
    assert "skipped, no CUDA device" in capsys.readouterr().out
