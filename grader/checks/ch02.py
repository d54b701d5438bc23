"""Hidden checks for ch02, Preliminaries."""

import io

import pandas as pd
import torch

import solutions.ch02 as ref
from grader.engine import stats
from grader.engine import strategies as draw
from grader.engine.compare import expect, expect_number, expect_tensor, fail, sequence, tensor
from grader.engine.patterns import (
    describe,
    expect_gradient,
    expect_torch_rng,
    expect_values,
    expect_vectorized,
)
from grader.engine.plugin import Exercise, exercise
from grader.engine.words import say
from grader.i18n import _

_PRODUCTS = ("matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "vdot", "inner",
             "einsum", "tensordot", "addmm", "addmv", "addbmm", "baddbmm", "chain_matmul",
             "multi_dot", "linalg_multi_dot")

EXERCISES = {
    "pairwise_sq_dists": Exercise(points=3, forbid=("cdist", "_cdist_forward", "pdist",
                                                    "pairwise_distance", "_euclidean_dist")),
    "preprocess_house_tiny": Exercise(points=4),
    "normalize_by_sum": Exercise(points=2),
    "matmul_via_sum": Exercise(points=3, forbid=_PRODUCTS),
    "numerical_lim": Exercise(points=2),
    "f": Exercise(points=4),
    "detached_product_grad": Exercise(points=3),
    "sample_categorical": Exercise(
        points=4,
        forbid=("multinomial", "torch.distributions.Categorical",
                "torch.distributions.Multinomial", "torch.distributions.OneHotCategorical"),
        scan=("multinomial", "distributions", "Categorical", "Multinomial", "OneHotCategorical",
              "choice")),
}


# --- pairwise_sq_dists ---------------------------------------------------------------------------

PAIRWISE_HINT = _("D[i, j] is the sum over k of (X[i, k] - Y[j, k]) ** 2: rows of X index the "
                  "result's rows, rows of Y its columns")


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_example(student):
    X = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    Y = torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.0, -1.0]])
    expect_values(student, "pairwise_sq_dists", ref.pairwise_sq_dists, X, Y,
                  inputs="the worked example")


@exercise("pairwise_sq_dists", weight=2)
def test_pairwise_sq_dists_values(student, gen):
    X, Y = draw.normal(gen, 5, 3), draw.normal(gen, 7, 3)
    expect_values(student, "pairwise_sq_dists", ref.pairwise_sq_dists, X, Y, hint=PAIRWISE_HINT)


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_gradient(student, gen):
    X, Y = draw.normal(gen, 4, 2), draw.normal(gen, 6, 2)
    expect_gradient(student, "pairwise_sq_dists", ref.pairwise_sq_dists, X, Y, wrt=[0, 1],
                    gen=gen)


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_float32(student, gen):
    X, Y = draw.normal(gen, 3, 4, dtype=torch.float32), draw.normal(gen, 2, 4, dtype=torch.float32)
    expect_values(student, "pairwise_sq_dists", ref.pairwise_sq_dists, X, Y, atol=1e-5, rtol=1e-5)


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_vectorized(student, gen):
    small = (draw.normal(gen, 3, 3), draw.normal(gen, 2, 3))
    large = (draw.normal(gen, 40, 3), draw.normal(gen, 30, 3))
    expect_vectorized(student, "pairwise_sq_dists", ref.pairwise_sq_dists, small, large,
                      hint=_("insert axes (X[:, None, :] - Y[None, :, :]) so that one expression "
                      "covers every pair"))


# --- preprocess_house_tiny -----------------------------------------------------------------------

BOOK_HOUSE_TINY = ("NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\n"
                   "NA,NA,140000\n")


def _house(ns, text, path):
    import os

    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return ns["preprocess_house_tiny"](path)


def _columns(text):
    data = pd.read_csv(io.StringIO(text))
    inputs = data.iloc[:, :-1]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    return list(pd.get_dummies(inputs, dummy_na=True).columns)


def _check_house(student, text, path, inputs):
    got = sequence(student.scenario(_house, text, path,
                                    what=f"preprocess_house_tiny({path!r})"),
                   "preprocess_house_tiny")
    if len(got) != 2:
        fail(f"preprocess_house_tiny returned {len(got)} values; expected (X, y)")
    X, y = ref.preprocess_house_tiny(io.StringIO(text))
    columns = _columns(text)
    gx = tensor(got[0], "preprocess_house_tiny (X)")
    if gx.dim() == 2 and gx.shape[1] != X.shape[1]:
        fail(f"X has {gx.shape[1]} columns for {inputs}; expected {X.shape[1]}: "
             f"{', '.join(columns)} (numeric inputs, then one-hot columns with dummy_na=True; "
             "the last column is the target, not an input)")
    expect_tensor(gx, X, what="X", inputs=inputs,
                  hint=say(_("columns are {columns}; fill a numeric column's NaN with that "
                             "column's mean, one-hot the categorical ones with dummy_na=True"))
                  .format(columns=", ".join(columns)))
    expect_tensor(got[1], y, what="y", inputs=inputs,
                  hint=_("y is the last column (the price), as float64"))


@exercise("preprocess_house_tiny")
def test_preprocess_house_tiny_example(student):
    _check_house(student, BOOK_HOUSE_TINY, "data/house_tiny.csv", "the book's house_tiny.csv")


def _random_house(gen, rows, extra):
    def pick(options):
        return options[int(torch.randint(len(options), (1,), generator=gen))]

    header = ["NumRooms", "Alley"] + (["Area", "RoofType"] if extra else []) + ["Price"]
    lines = [",".join(header)]
    for i in range(rows):
        # Row 0 has every value and row 1 misses every one, so each column has both.
        full, empty = i == 0, i == 1
        rooms = "NA" if empty else str(pick(range(1, 7))) if full or pick([0, 1, 1]) else "NA"
        alley = "Pave" if full else "NA" if empty else pick(["Pave", "Grvl", "NA"])
        row = [rooms, alley]
        if extra:
            area = round(float(torch.rand(1, generator=gen)) * 200 + 40, 1)
            row += ["NA" if empty else str(area) if full or pick([0, 1, 1]) else "NA",
                    "Tile" if full else "NA" if empty else pick(["Slate", "Tile", "NA"])]
        row.append(str(pick(range(80_000, 250_000, 500))))
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


@exercise("preprocess_house_tiny", weight=2)
def test_preprocess_house_tiny_random(student, gen):
    text = _random_house(gen, 9, extra=False)
    _check_house(student, text, "house_random.csv",
                 "a random table with the columns NumRooms, Alley, Price")


@exercise("preprocess_house_tiny", weight=2)
def test_preprocess_house_tiny_more_columns(student, gen):
    text = _random_house(gen, 10, extra=True)
    _check_house(student, text, "house_more.csv",
                 "a table with the columns NumRooms, Alley, Area, RoofType, Price")


@exercise("preprocess_house_tiny")
def test_preprocess_house_tiny_nothing_missing(student):
    text = "NumRooms,Alley,Price\n3,Pave,120000\n2,Grvl,99000\n5,Pave,230000\n"
    _check_house(student, text, "house_complete.csv",
                 "a table without missing values (Alley_nan is then a column of zeros)")


# --- normalize_by_sum ----------------------------------------------------------------------------


@exercise("normalize_by_sum")
def test_normalize_by_sum_example(student):
    A = torch.arange(1.0, 7.0).reshape(2, 3)
    expect_values(student, "normalize_by_sum", ref.normalize_by_sum, A, 1,
                  inputs="the worked example", hint=_("divide by A.sum(axis=1, keepdims=True)"))


@exercise("normalize_by_sum", weight=2)
def test_normalize_by_sum_axes(student, gen):
    A = draw.positive(gen, 3, 4, 5)
    for axis in (0, 1, 2, -1):
        expect_values(student, "normalize_by_sum", ref.normalize_by_sum, A, axis,
                      hint=_("sum along the given axis and keep it (keepdim=True) so the sums "
                      "broadcast against A"))


@exercise("normalize_by_sum")
def test_normalize_by_sum_square(student, gen):
    A = draw.positive(gen, 4, 4)
    answer = student.call("normalize_by_sum", A, 1, return_args=True)
    expect_tensor(answer["result"], ref.normalize_by_sum(A, 1), what="normalize_by_sum(A, 1)",
                  inputs="a square float64 matrix",
                  hint=_("without keepdim, A.sum(axis=1) of shape (4,) broadcasts as a row and "
                  "divides the columns instead of the rows"))
    expect_tensor(answer["args"][0], A, what="A after normalize_by_sum(A, 1)",
                  inputs="a square float64 matrix",
                  hint=_("return a new tensor; do not divide A in place"))


@exercise("normalize_by_sum")
def test_normalize_by_sum_gradient(student, gen):
    expect_gradient(student, "normalize_by_sum", ref.normalize_by_sum, draw.positive(gen, 3, 5), 0,
                    wrt=[0], gen=gen)


# --- matmul_via_sum ------------------------------------------------------------------------------


@exercise("matmul_via_sum")
def test_matmul_via_sum_example(student):
    A = torch.arange(6.0).reshape(2, 3)
    B = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    expect_values(student, "matmul_via_sum", ref.matmul_via_sum, A, B, inputs="the worked example")


@exercise("matmul_via_sum", weight=2)
def test_matmul_via_sum_values(student, gen):
    expect_values(student, "matmul_via_sum", ref.matmul_via_sum, draw.normal(gen, 4, 6),
                  draw.normal(gen, 6, 3),
                  hint=_("C[i, j] sums A[i, l] * B[l, j] over l, the axis A and B share"))


@exercise("matmul_via_sum")
def test_matmul_via_sum_gradient(student, gen):
    expect_gradient(student, "matmul_via_sum", ref.matmul_via_sum, draw.normal(gen, 3, 5),
                    draw.normal(gen, 5, 2), wrt=[0, 1], gen=gen)


@exercise("matmul_via_sum")
def test_matmul_via_sum_shapes(student, gen):
    for n, k, m in ((1, 4, 3), (3, 1, 2), (2, 5, 1)):
        expect_values(student, "matmul_via_sum", ref.matmul_via_sum, draw.normal(gen, n, k),
                      draw.normal(gen, k, m),
                      hint=_("avoid squeeze(): keep the result's shape (n, m) even when n, k or "
                      "m is 1"))


@exercise("matmul_via_sum")
def test_matmul_via_sum_float32(student, gen):
    expect_values(student, "matmul_via_sum", ref.matmul_via_sum,
                  draw.normal(gen, 3, 4, dtype=torch.float32),
                  draw.normal(gen, 4, 5, dtype=torch.float32), atol=1e-5, rtol=1e-5)


@exercise("matmul_via_sum")
def test_matmul_via_sum_vectorized(student, gen):
    small = (draw.normal(gen, 2, 3), draw.normal(gen, 3, 2))
    large = (draw.normal(gen, 24, 30), draw.normal(gen, 30, 20))
    expect_vectorized(student, "matmul_via_sum", ref.matmul_via_sum, small, large,
                      hint=_("broadcast A[:, :, None] * B[None, :, :] and sum over axis 1"))


# --- numerical_lim -------------------------------------------------------------------------------


def _numlim(ns, kind, x, h):
    import torch

    if kind == "poly":
        def fn(t):
            return 3 * t**2 - 4 * t
    else:
        fn = torch.exp
    return ns["numerical_lim"](fn, x, h)


def _ref_numlim(kind, x, h):
    def poly(t):
        return 3 * t**2 - 4 * t

    return ref.numerical_lim(poly if kind == "poly" else torch.exp, x, h)


@exercise("numerical_lim")
def test_numerical_lim_example(student):
    for h in (0.1, 0.01, 0.001):
        got = student.scenario(_numlim, "poly", 1.0, h,
                               what=f"numerical_lim(f, 1.0, {h}) with f(x) = 3x^2 - 4x")
        expect_number(got, _ref_numlim("poly", 1.0, h), what=f"numerical_lim(f, 1.0, {h})",
                      atol=1e-9, rtol=1e-9, hint=_("the forward difference (f(x + h) - f(x)) / h"))


@exercise("numerical_lim", weight=2)
def test_numerical_lim_tensor(student, gen):
    x = draw.normal(gen, 6)
    for kind, h in (("poly", 1e-2), ("exp", 1e-4)):
        got = student.scenario(_numlim, kind, x, h, what=f"numerical_lim(f, x, {h})")
        label = "f(x) = 3x^2 - 4x" if kind == "poly" else "f = torch.exp"
        expect_tensor(got, _ref_numlim(kind, x, h), what=f"numerical_lim(f, x, {h})",
                      inputs=f"{label} and a {describe((x,), ['x'])}", atol=1e-9, rtol=1e-9,
                      hint=_("evaluate f at x + h and at x (a forward difference) and divide by h"))


@exercise("numerical_lim")
def test_numerical_lim_float32(student, gen):
    x = draw.uniform(gen, 2, 3, low=0.5, high=1.5, dtype=torch.float32)
    got = student.scenario(_numlim, "poly", x, 0.5, what="numerical_lim(f, x, 0.5)")
    expect_tensor(got, _ref_numlim("poly", x, 0.5), what="numerical_lim(f, x, 0.5)",
                  inputs="f(x) = 3x^2 - 4x and a float32 tensor x of shape (2, 3)",
                  hint=_("the forward difference (f(x + h) - f(x)) / h, elementwise"))


# --- f -------------------------------------------------------------------------------------------


def _check_f(student, a, inputs, gen=None):
    G = torch.ones_like(a) if gen is None else draw.positive(gen, *a.shape, low=0.5, high=1.5,
                                                             dtype=a.dtype)
    expect_values(student, "f", ref.f, a, inputs=inputs,
                  hint=_("b = 2 * a first; double b while its norm (b.norm()) is below 1000, then "
                  "use b if its sum is positive and 100 * b otherwise"))
    expect_gradient(student, "f", ref.f, a, wrt=[0], grad_output=G, inputs=inputs,
                    hint=_("build the result from tensor operations on a so autograd follows it"))


def _spread(gen, *shape, sign):
    """Entries of magnitude 1 to 2 and random signs (no one entry dominates the norm), with a
    sum of the given sign."""
    v = draw.uniform(gen, *shape, low=1.0, high=2.0) * torch.where(
        draw.uniform(gen, *shape) < 0.5, -1.0, 1.0).double()
    return v if v.sum() * sign > 0 else -v


@exercise("f")
def test_f_example(student):
    _check_f(student, torch.tensor(0.7), "the worked example a = torch.tensor(0.7)")


@exercise("f", weight=2)
def test_f_vector_positive_sum(student, gen):
    v = _spread(gen, 6, sign=1)
    # 2a has norm 900 / 8: three doublings leave it at 900, just below 1000 (but its sum of
    # absolute values is above 1000, since no entry dominates).
    a = v / v.norm() * 900 / 16
    _check_f(student, a, f"float64 a of shape {tuple(a.shape)} with a positive sum", gen)


@exercise("f", weight=2)
def test_f_negative_sum(student, gen):
    a = _spread(gen, 2, 3, sign=-1) * float(draw.uniform(gen, 1, low=0.2, high=8.0))
    _check_f(student, a, f"float64 a of shape {tuple(a.shape)} with a negative sum", gen)


@exercise("f")
def test_f_no_loop(student, gen):
    for norm in (700, 1500):
        v = _spread(gen, 3, sign=1 if norm == 700 else -1)
        a = v / v.norm() * norm
        _check_f(student, a, f"a with norm {norm} (2a already has norm >= 1000: no doubling)",
                 gen)


# --- detached_product_grad -----------------------------------------------------------------------


@exercise("detached_product_grad")
def test_detached_product_grad_example(student):
    x = torch.arange(4.0)
    expect_tensor(student.result("detached_product_grad", draw.leaf(x)), x * x,
                  what="detached_product_grad(x)", inputs="the worked example x = arange(4.0)",
                  hint=_("x.grad of z = u * x with u = (x * x).detach() is u"))


@exercise("detached_product_grad", weight=2)
def test_detached_product_grad_uses_backward(student, gen):
    x = draw.normal(gen, 7)
    answer = student.call("detached_product_grad", draw.leaf(x), return_args=True)
    inputs = f"a float64 leaf x of shape {tuple(x.shape)}"
    expect_tensor(answer["result"], x * x, what="detached_product_grad(x)", inputs=inputs,
                  hint=_("detach y = x * x before multiplying by x again; otherwise the gradient "
                  "is 3 * x ** 2"))
    if answer["arg_grads"][0] is None:
        fail("after detached_product_grad(x), x.grad is None: compute the gradient with "
             "z.sum().backward() instead of writing down the formula")
    expect_tensor(answer["arg_grads"][0], x * x, what="x.grad after detached_product_grad(x)",
                  inputs=inputs)


@exercise("detached_product_grad", weight=2)
def test_detached_product_grad_clears_old_gradient(student, gen):
    x, old = draw.normal(gen, 5), draw.normal(gen, 5)
    got = student.scenario(_stale_grad, x, old,
                           what="detached_product_grad(x) with x.grad already set")
    expect_tensor(got, x * x, what="detached_product_grad(x)",
                  inputs="a leaf x whose .grad already holds an earlier gradient",
                  hint=_("backward adds to x.grad: zero it first (x.grad.zero_())"))


def _stale_grad(ns, x, old):
    leaf = x.clone().requires_grad_(True)
    leaf.grad = old.clone()
    ns["detached_product_grad"](leaf)
    return leaf.grad


# --- sample_categorical --------------------------------------------------------------------------


def _outcomes(value, k, n, what):
    """The draws as a tensor, after checking shape, dtype and range."""
    got = tensor(value, what)
    expect(got.shape == (n,), f"{what} has shape {tuple(got.shape)}; expected ({n},)")
    expect(got.dtype == torch.int64, f"{what} has dtype {got.dtype}; expected torch.int64")
    expect(bool(((got >= 0) & (got < k)).all()), f"{what} returned outcomes outside 0 .. {k - 1}")
    return got


def _expect_frequencies(student, probs, n, seed):
    what = f"sample_categorical(probs, {n})"
    got = _outcomes(student.result("sample_categorical", probs, n, seed=seed), len(probs), n, what)
    stats.expect_frequencies(torch.bincount(got, minlength=len(probs)), probs, what=what,
                             hint=_("divide the cumulative sums by the total weight"))


@exercise("sample_categorical", weight=2)
def test_sample_categorical_frequencies(student, gen, seed):
    _expect_frequencies(student, draw.weights(gen, 6), 20_000, seed)


@exercise("sample_categorical")
def test_sample_categorical_zero_weights(student, seed):
    _expect_frequencies(student, torch.tensor([0.0, 2.0, 0.0, 1.0, 0.0]), 20_000, seed)


@exercise("sample_categorical")
def test_sample_categorical_uses_torch_rng(student, seed):
    # Two independent runs of 64 fair-die rolls coincide with probability 6 ** -64.
    probs = torch.ones(6, dtype=torch.float64)
    draws = expect_torch_rng(student, "sample_categorical", probs, 64, seed=seed,
                             what="sample_categorical(probs, 64)",
                             hint=_("draw the uniforms with torch.rand (torch's global generator)"))
    for value in draws:
        _outcomes(value, 6, 64, "sample_categorical(probs, 64)")
