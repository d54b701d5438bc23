"""ch13 part B checks: transposed convolution, bilinear kernels and the Gram matrix.

``trans_conv`` is compared with ``torch.nn.functional.conv_transpose2d`` (values and
gradients), ``bilinear_kernel`` with the specification on odd and even sizes, ``gram`` with the
specification (values and gradients) on random feature maps, as are ``content_loss`` and
``tv_loss``.
"""

import pytest
import torch
from torch.nn import functional as F

import solutions.ch13 as ref
from grader.engine.compare import expect, expect_tensor
from grader.engine.patterns import expect_gradient, expect_values
from grader.engine.plugin import exercise
from grader.i18n import _


def library_trans_conv(X, K):
    return F.conv_transpose2d(X[None, None], K[None, None])[0, 0]


@exercise("trans_conv")
@pytest.mark.parametrize("shapes", [((2, 2), (2, 2)), ((3, 4), (2, 3)), ((4, 3), (3, 1))])
def test_trans_conv(student, gen, shapes):
    (xs, ks) = shapes
    X = torch.randn(xs, generator=gen)
    K = torch.randn(ks, generator=gen)
    got = expect_values(student, "trans_conv", library_trans_conv, X, K,
                        hint=_("Y has shape (n_h + k_h - 1, n_w + k_w - 1); X[i, j] * K is added "
                               "to Y[i:i + k_h, j:j + k_w] (the kernel is not flipped)"))
    expect(got.dtype == X.dtype, f"trans_conv returned {got.dtype} for float32 inputs")


@exercise("trans_conv")
def test_trans_conv_gradient(student, gen):
    X = torch.randn(3, 3, generator=gen)
    K = torch.randn(2, 3, generator=gen)
    expect_gradient(student, "trans_conv", library_trans_conv, X, K, wrt=[0, 1], gen=gen,
                    hint=_("build Y with differentiable operations on X and K"))


@exercise("trans_conv")
@pytest.mark.gpu
def test_trans_conv_on_cuda(student, gen):
    X = torch.randn(3, 2, generator=gen).cuda()
    K = torch.randn(2, 2, generator=gen).cuda()
    got = expect_values(student, "trans_conv", library_trans_conv, X, K, atol=1e-5)
    expect(got.device.type == "cuda", f"trans_conv on CUDA inputs returned a tensor on "
           f"{got.device}; create Y on X's device (X.new_zeros)")


@exercise("kernel2matrix")
def test_kernel2matrix(student, gen):
    K = torch.randn(2, 2, generator=gen)
    got = expect_values(student, "kernel2matrix", ref.kernel2matrix, K,
                        hint=_("row r holds K at the positions of output r's 2×2 window in the "
                               "flattened 3×3 input"))
    X = torch.randn(3, 3, generator=gen)
    expect_tensor(got @ X.reshape(-1), F.conv2d(X[None, None], K[None, None]).reshape(-1),
                  what="kernel2matrix(K) @ X.reshape(-1)", inputs="X of shape (3, 3)",
                  hint=_("it must equal the cross-correlation of X with K, flattened"))


@exercise("bilinear_kernel")
@pytest.mark.parametrize("args", [(3, 3, 4), (2, 2, 3), (1, 1, 7), (2, 2, 16)])
def test_bilinear_kernel(student, args):
    got = student.result("bilinear_kernel", *args)
    expect_tensor(got, ref.bilinear_kernel(*args), what=f"bilinear_kernel{args}",
                  hint=_("center = factor - 1 for odd sizes, factor - 0.5 for even; channel k "
                         "maps to channel k only, the other channel pairs are zero"))


@exercise("gram")
@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (1, 6, 2, 3)])
def test_gram(student, gen, shape):
    X = torch.randn(shape, generator=gen, dtype=torch.float64)
    expect_values(student, "gram", ref.gram, X,
                  hint=_("reshape to (c, h * w), X @ X.T, divide by c * h * w"))
    expect_gradient(student, "gram", ref.gram, X, wrt=[0], gen=gen)


@exercise("content_loss")
def test_content_loss(student, gen):
    Y_hat = torch.randn(1, 3, 4, 5, generator=gen, dtype=torch.float64)
    Y = torch.randn(1, 3, 4, 5, generator=gen, dtype=torch.float64)
    expect_values(student, "content_loss", ref.content_loss, Y_hat, Y,
                  hint=_("the mean of the squared differences"))
    expect_gradient(student, "content_loss", ref.content_loss, Y_hat, Y, wrt=[0], gen=gen)


@exercise("tv_loss")
@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (2, 1, 6, 3)])
def test_tv_loss(student, gen, shape):
    Y_hat = torch.randn(shape, generator=gen, dtype=torch.float64)
    expect_values(student, "tv_loss", ref.tv_loss, Y_hat,
                  hint=_("0.5 * (mean |vertical differences| + mean |horizontal differences|)"))
    expect_gradient(student, "tv_loss", ref.tv_loss, Y_hat, wrt=[0], gen=gen)
