"""Hidden checks for ch02, Preliminaries."""

import io
import math

import pandas as pd
import torch

import solutions.ch02 as ref
from grader.engine.compare import (
    expect,
    expect_number,
    expect_tensor,
    expect_vjp,
    fail,
    sequence,
    shape_of,
    tensor,
)
from grader.engine.plugin import Exercise, exercise

_PRODUCTS = ("matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "vdot", "inner",
             "einsum", "tensordot", "addmm", "addmv", "addbmm", "baddbmm", "chain_matmul",
             "multi_dot", "linalg_multi_dot")

EXERCISES = {
    "pairwise_sq_dists": Exercise(points=3, forbid=("cdist", "_cdist_forward", "pdist")),
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


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_example(student):
    X = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    Y = torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.0, -1.0]])
    expect_tensor(student.result("pairwise_sq_dists", X, Y), ref.pairwise_sq_dists(X, Y),
                  what="pairwise_sq_dists(X, Y)", inputs="the worked example")


@exercise("pairwise_sq_dists", weight=2)
def test_pairwise_sq_dists_values(student, gen):
    X = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    Y = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    expect_tensor(student.result("pairwise_sq_dists", X, Y), ref.pairwise_sq_dists(X, Y),
                  what="pairwise_sq_dists(X, Y)",
                  inputs=f"float64 X of shape {shape_of(X)}, Y of shape {shape_of(Y)}",
                  hint="D[i, j] is the sum over k of (X[i, k] - Y[j, k]) ** 2: rows of X index "
                  "the result's rows, rows of Y its columns")


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_gradient(student, gen):
    X = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    Y = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    G = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    answer = student.call("pairwise_sq_dists", X, Y, vjp={"wrt": [0, 1], "grad_output": G})
    expect_vjp(answer, ref.pairwise_sq_dists, (X, Y), [0, 1], G,
               what="pairwise_sq_dists(X, Y)", names="XY",
               inputs=f"X of shape {shape_of(X)}, Y of shape {shape_of(Y)}")


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_float32(student, gen):
    X = torch.randn(3, 4, generator=gen)
    Y = torch.randn(2, 4, generator=gen)
    expect_tensor(student.result("pairwise_sq_dists", X, Y), ref.pairwise_sq_dists(X, Y),
                  what="pairwise_sq_dists(X, Y)", inputs="float32 X and Y",
                  atol=1e-5, rtol=1e-5)


@exercise("pairwise_sq_dists")
def test_pairwise_sq_dists_vectorized(student, gen):
    X = torch.randn(200, 3, generator=gen, dtype=torch.float64)
    Y = torch.randn(200, 3, generator=gen, dtype=torch.float64)
    times = student.scenario(_pairwise_timing, X, Y, what="pairwise_sq_dists on 200 x 200 rows")
    # A broadcast version costs about as much as the built-in one (well under a millisecond
    # here); a Python loop over the 40,000 pairs costs tenths of a second.
    limit = 0.05 + 50 * float(times["builtin"])
    expect(float(times["student"]) <= limit,
           f"pairwise_sq_dists took {float(times['student']):.3f} s for 200 x 200 rows of "
           f"3 features, over the limit of {limit:.3f} s; use broadcasting instead of Python "
           "loops")


def _pairwise_timing(ns, X, Y):
    import time

    def best(fn):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
            if times[-1] > 0.5:
                break
        return min(times)

    with trusted():  # noqa: F821 - provided by the sandbox
        builtin = best(lambda: ((X[:, None, :] - Y[None, :, :]) ** 2).sum(2))
    student = best(lambda: ns["pairwise_sq_dists"](X, Y))
    return {"student": student, "builtin": builtin}


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
                  hint=f"columns are {', '.join(columns)}; fill a numeric column's NaN with "
                  "that column's mean, one-hot the categorical ones with dummy_na=True")
    expect_tensor(got[1], y, what="y", inputs=inputs,
                  hint="y is the last column (the price), as float64")


@exercise("preprocess_house_tiny")
def test_preprocess_house_tiny_example(student):
    _check_house(student, BOOK_HOUSE_TINY, "data/house_tiny.csv", "the book's house_tiny.csv")


def _random_house(gen, rows, extra):
    def pick(options):
        return options[int(torch.randint(len(options), (1,), generator=gen))]

    header = ["NumRooms", "Alley"] + (["Area", "RoofType"] if extra else []) + ["Price"]
    lines = [",".join(header)]
    for i in range(rows):
        # The first row has every value, so that no column is entirely missing.
        rooms = str(pick(range(1, 7))) if i == 0 or pick([0, 1, 1]) else "NA"
        alley = "Pave" if i == 0 else pick(["Pave", "Grvl", "NA"])
        row = [rooms, alley]
        if extra:
            area = round(float(torch.rand(1, generator=gen)) * 200 + 40, 1)
            row += [str(area) if i == 0 or pick([0, 1, 1]) else "NA",
                    "Tile" if i == 0 else pick(["Slate", "Tile", "NA"])]
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
    expect_tensor(student.result("normalize_by_sum", A, 1), ref.normalize_by_sum(A, 1),
                  what="normalize_by_sum(A, 1)", inputs="the worked example",
                  hint="divide by A.sum(axis=1, keepdims=True)")


@exercise("normalize_by_sum", weight=2)
def test_normalize_by_sum_axes(student, gen):
    A = torch.rand(3, 4, 5, generator=gen, dtype=torch.float64) + 0.1
    for axis in (0, 1, 2, -1):
        expect_tensor(student.result("normalize_by_sum", A, axis), ref.normalize_by_sum(A, axis),
                      what=f"normalize_by_sum(A, {axis})",
                      inputs=f"float64 A of shape {shape_of(A)}",
                      hint="sum along the given axis and keep it (keepdim=True) so the sums "
                      "broadcast against A")


@exercise("normalize_by_sum")
def test_normalize_by_sum_square(student, gen):
    A = torch.rand(4, 4, generator=gen, dtype=torch.float64) + 0.1
    answer = student.call("normalize_by_sum", A, 1, return_args=True)
    expect_tensor(answer["result"], ref.normalize_by_sum(A, 1), what="normalize_by_sum(A, 1)",
                  inputs="a square float64 matrix",
                  hint="without keepdim, A.sum(axis=1) of shape (4,) broadcasts as a row and "
                  "divides the columns instead of the rows")
    expect_tensor(answer["args"][0], A, what="A after normalize_by_sum(A, 1)",
                  inputs="a square float64 matrix",
                  hint="return a new tensor; do not divide A in place")


@exercise("normalize_by_sum")
def test_normalize_by_sum_gradient(student, gen):
    A = torch.rand(3, 5, generator=gen, dtype=torch.float64) + 0.1
    G = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    answer = student.call("normalize_by_sum", A, 0, vjp={"wrt": [0], "grad_output": G})
    expect_vjp(answer, ref.normalize_by_sum, (A, 0), [0], G, what="normalize_by_sum(A, 0)",
               names="A", inputs=f"A of shape {shape_of(A)}")


# --- matmul_via_sum ------------------------------------------------------------------------------


@exercise("matmul_via_sum")
def test_matmul_via_sum_example(student):
    A = torch.arange(6.0).reshape(2, 3)
    B = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    expect_tensor(student.result("matmul_via_sum", A, B), ref.matmul_via_sum(A, B),
                  what="matmul_via_sum(A, B)", inputs="the worked example")


@exercise("matmul_via_sum", weight=2)
def test_matmul_via_sum_values(student, gen):
    A = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    B = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    expect_tensor(student.result("matmul_via_sum", A, B), ref.matmul_via_sum(A, B),
                  what="matmul_via_sum(A, B)",
                  inputs=f"float64 A of shape {shape_of(A)}, B of shape {shape_of(B)}",
                  hint="C[i, j] sums A[i, l] * B[l, j] over l, the axis A and B share")


@exercise("matmul_via_sum")
def test_matmul_via_sum_gradient(student, gen):
    A = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    B = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    G = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    answer = student.call("matmul_via_sum", A, B, vjp={"wrt": [0, 1], "grad_output": G})
    expect_vjp(answer, ref.matmul_via_sum, (A, B), [0, 1], G, what="matmul_via_sum(A, B)",
               names="AB", inputs=f"A of shape {shape_of(A)}, B of shape {shape_of(B)}")


@exercise("matmul_via_sum")
def test_matmul_via_sum_shapes(student, gen):
    for n, k, m in ((1, 4, 3), (3, 1, 2), (2, 5, 1)):
        A = torch.randn(n, k, generator=gen, dtype=torch.float64)
        B = torch.randn(k, m, generator=gen, dtype=torch.float64)
        expect_tensor(student.result("matmul_via_sum", A, B), ref.matmul_via_sum(A, B),
                      what="matmul_via_sum(A, B)",
                      inputs=f"A of shape {shape_of(A)}, B of shape {shape_of(B)}",
                      hint="avoid squeeze(): keep the result's shape (n, m) even when n, k or "
                      "m is 1")


@exercise("matmul_via_sum")
def test_matmul_via_sum_float32(student, gen):
    A = torch.randn(3, 4, generator=gen)
    B = torch.randn(4, 5, generator=gen)
    expect_tensor(student.result("matmul_via_sum", A, B), ref.matmul_via_sum(A, B),
                  what="matmul_via_sum(A, B)", inputs="float32 A and B", atol=1e-5, rtol=1e-5)


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
                      atol=1e-9, rtol=1e-9, hint="the forward difference (f(x + h) - f(x)) / h")


@exercise("numerical_lim", weight=2)
def test_numerical_lim_tensor(student, gen):
    x = torch.randn(6, generator=gen, dtype=torch.float64)
    for kind, h in (("poly", 1e-2), ("exp", 1e-4)):
        expected = _ref_numlim(kind, x, h)
        got = student.scenario(_numlim, kind, x, h, what=f"numerical_lim(f, x, {h})")
        label = "f(x) = 3x^2 - 4x" if kind == "poly" else "f = torch.exp"
        expect_tensor(got, expected, what=f"numerical_lim(f, x, {h})",
                      inputs=f"{label} and a float64 tensor x of shape {shape_of(x)}",
                      atol=1e-9, rtol=1e-9,
                      hint="evaluate f at x + h and at x (a forward difference) and divide by h")


@exercise("numerical_lim")
def test_numerical_lim_float32(student, gen):
    x = torch.rand(2, 3, generator=gen) + 0.5
    got = student.scenario(_numlim, "poly", x, 0.5, what="numerical_lim(f, x, 0.5)")
    expect_tensor(got, _ref_numlim("poly", x, 0.5), what="numerical_lim(f, x, 0.5)",
                  inputs="f(x) = 3x^2 - 4x and a float32 tensor x of shape (2, 3)",
                  hint="the forward difference (f(x + h) - f(x)) / h, elementwise")


# --- f -------------------------------------------------------------------------------------------


def _check_f(student, a, inputs, gen=None):
    G = torch.ones_like(a) if gen is None else torch.rand(a.shape, generator=gen,
                                                             dtype=a.dtype) + 0.5
    answer = student.call("f", a, vjp={"wrt": [0], "grad_output": G})
    expected = ref.f(a)
    expect_tensor(answer["result"], expected, what="f(a)", inputs=inputs,
                  hint="double b while its norm (b.norm()) is below 1000, then use b if its sum "
                  "is positive and 100 * b otherwise")
    expect_vjp(answer, ref.f, (a,), [0], G, what="f(a)", names="a", inputs=inputs,
               hint="build the result from tensor operations on a so autograd follows it")


@exercise("f")
def test_f_example(student):
    _check_f(student, torch.tensor(0.7), "the worked example a = torch.tensor(0.7)")


@exercise("f", weight=2)
def test_f_vector_positive_sum(student, gen):
    v = torch.randn(6, generator=gen, dtype=torch.float64)
    v = v if v.sum() > 0 else -v
    # Scaled so that 2a has norm 900 / 8: three doublings leave it at 900, just below 1000.
    a = v / v.norm() * 900 / 16
    _check_f(student, a, f"float64 a of shape {shape_of(a)} with a positive sum", gen)


@exercise("f", weight=2)
def test_f_negative_sum(student, gen):
    v = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    v = v if v.sum() < 0 else -v
    a = v * torch.exp(torch.rand(1, generator=gen, dtype=torch.float64) * 4 - 2)
    _check_f(student, a, f"float64 a of shape {shape_of(a)} with a negative sum", gen)


@exercise("f")
def test_f_no_loop(student, gen):
    v = torch.randn(3, generator=gen, dtype=torch.float64)
    a = v / v.norm() * 700
    _check_f(student, a, "a with norm 700 (2a already has norm >= 1000: no doubling)", gen)


# --- detached_product_grad -----------------------------------------------------------------------


def _leaf(x):
    return {"__build__": "leaf", "tensor": x}


@exercise("detached_product_grad")
def test_detached_product_grad_example(student):
    x = torch.arange(4.0)
    expect_tensor(student.result("detached_product_grad", _leaf(x)), x * x,
                  what="detached_product_grad(x)", inputs="the worked example x = arange(4.0)",
                  hint="x.grad of z = u * x with u = (x * x).detach() is u")


@exercise("detached_product_grad", weight=2)
def test_detached_product_grad_uses_backward(student, gen):
    x = torch.randn(7, generator=gen, dtype=torch.float64)
    answer = student.call("detached_product_grad", _leaf(x), return_args=True)
    inputs = f"a float64 leaf x of shape {shape_of(x)}"
    expect_tensor(answer["result"], x * x, what="detached_product_grad(x)", inputs=inputs,
                  hint="detach y = x * x before multiplying by x again; otherwise the gradient "
                  "is 3 * x ** 2")
    if answer["arg_grads"][0] is None:
        fail("after detached_product_grad(x), x.grad is None: compute the gradient with "
             "z.sum().backward() instead of writing down the formula")
    expect_tensor(answer["arg_grads"][0], x * x, what="x.grad after detached_product_grad(x)",
                  inputs=inputs)


@exercise("detached_product_grad", weight=2)
def test_detached_product_grad_clears_old_gradient(student, gen):
    x = torch.randn(5, generator=gen, dtype=torch.float64)
    old = torch.randn(5, generator=gen, dtype=torch.float64)
    got = student.scenario(_stale_grad, x, old,
                           what="detached_product_grad(x) with x.grad already set")
    expect_tensor(got, x * x, what="detached_product_grad(x)",
                  inputs="a leaf x whose .grad already holds an earlier gradient",
                  hint="backward adds to x.grad: zero it first (x.grad.zero_())")


def _stale_grad(ns, x, old):
    leaf = x.clone().requires_grad_(True)
    leaf.grad = old.clone()
    ns["detached_product_grad"](leaf)
    return leaf.grad


# --- sample_categorical --------------------------------------------------------------------------

# Each outcome's count is compared with its binomial mean at 5.5 standard deviations (plus 1 for
# discreteness): a correct sampler fails one comparison with probability below 4e-8, and the 8
# comparisons below together with probability below 4e-7.
Z = 5.5


def _counts(student, probs, n, seed, what):
    got = tensor(student.result("sample_categorical", probs, n, seed=seed), what)
    expect(got.shape == (n,), f"{what} has shape {shape_of(got)}; expected ({n},)")
    expect(got.dtype == torch.int64, f"{what} has dtype {got.dtype}; expected torch.int64")
    expect(bool(((got >= 0) & (got < len(probs))).all()),
           f"{what} returned outcomes outside 0 .. {len(probs) - 1}")
    return torch.bincount(got, minlength=len(probs)).double()


def _expect_frequencies(counts, probs, n, what):
    p = probs.double() / probs.double().sum()
    for i in range(len(p)):
        if p[i] == 0:
            expect(counts[i] == 0, f"{what} drew outcome {i}, whose weight is 0, "
                   f"{int(counts[i])} times")
            continue
        sd = math.sqrt(n * p[i] * (1 - p[i]))
        expect(abs(counts[i] - n * p[i]) <= Z * sd + 1,
               f"{what} drew outcome {i} {int(counts[i])} times out of {n}; with weights "
               f"{[round(float(w), 4) for w in probs]} it should come out about "
               f"{float(n * p[i]):.0f} times (probability {float(p[i]):.4f}); divide the "
               "cumulative sums by the total weight")


@exercise("sample_categorical")
def test_sample_categorical_structure(student, seed):
    probs = torch.ones(6) / 6
    _counts(student, probs, 50, seed, "sample_categorical(probs, 50)")


@exercise("sample_categorical", weight=2)
def test_sample_categorical_frequencies(student, gen, seed):
    probs = torch.rand(6, generator=gen, dtype=torch.float64) + 0.5
    n = 20_000
    what = f"sample_categorical(probs, {n})"
    _expect_frequencies(_counts(student, probs, n, seed, what), probs, n, what)


@exercise("sample_categorical")
def test_sample_categorical_zero_weights(student, seed):
    probs = torch.tensor([0.0, 2.0, 0.0, 1.0, 0.0])
    n = 20_000
    what = f"sample_categorical({probs.tolist()}, {n})"
    _expect_frequencies(_counts(student, probs, n, seed, what), probs, n, what)


@exercise("sample_categorical")
def test_sample_categorical_uses_global_rng(student, seed):
    probs = torch.ones(6, dtype=torch.float64)
    first = tensor(student.result("sample_categorical", probs, 64, seed=seed), "sample_categorical")
    again = tensor(student.result("sample_categorical", probs, 64, seed=seed), "sample_categorical")
    other = tensor(student.result("sample_categorical", probs, 64, seed=seed + 1),
                   "sample_categorical")
    expect(first.shape == again.shape and bool((first == again).all()),
           "sample_categorical gave different draws after the same torch.manual_seed: draw the "
           "uniforms with torch.rand (torch's global generator)")
    # Two independent draws of 64 fair-die rolls coincide with probability 6 ** -64.
    expect(first.shape != other.shape or not bool((first == other).all()),
           "sample_categorical gave the same draws for different seeds: draw fresh uniforms "
           "with torch.rand on every call")
