"""Correct ch02 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing (no partial credit
for checks that only say what the function did not do).
"""

VARIANTS = {
    "pairwise_sq_dists": [
        ("expands |x - y|² = |x|² + |y|² - 2 x·y with a matrix product", '''
def pairwise_sq_dists(X, Y):
    return (X ** 2).sum(dim=1)[:, None] + (Y ** 2).sum(dim=1)[None, :] - 2 * X @ Y.T
'''),
        ("unsqueeze and torch.sum over the last axis", '''
def pairwise_sq_dists(X, Y):
    return torch.sum((X.unsqueeze(1) - Y.unsqueeze(0)) ** 2, dim=-1)
'''),
        ("squares a vector norm of the broadcast difference", '''
def pairwise_sq_dists(X, Y):
    return torch.linalg.vector_norm(X[:, None] - Y[None], dim=2) ** 2
'''),
    ],
    "preprocess_house_tiny": [
        ("fills each numeric column in a loop and asks get_dummies for floats", '''
def preprocess_house_tiny(path):
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, :-1].copy(), data.iloc[:, -1]
    for column in inputs.select_dtypes(include="number").columns:
        inputs[column] = inputs[column].fillna(inputs[column].mean())
    inputs = pd.get_dummies(inputs, dummy_na=True, dtype=float)
    return (torch.from_numpy(inputs.values.astype("float64")),
            torch.from_numpy(outputs.values.astype("float64")))
'''),
        ("converts with torch.tensor(..., dtype=torch.float64)", '''
def preprocess_house_tiny(path):
    data = pd.read_csv(path)
    inputs = data.iloc[:, :-1]
    inputs = pd.get_dummies(inputs.fillna(inputs.mean(numeric_only=True)), dummy_na=True)
    X = torch.tensor(inputs.to_numpy(dtype=float), dtype=torch.float64)
    return X, torch.tensor(data.iloc[:, -1].to_numpy(dtype=float), dtype=torch.float64)
'''),
    ],
    "normalize_by_sum": [
        ("torch.sum with keepdims", '''
def normalize_by_sum(A, axis):
    return A / torch.sum(A, axis, keepdims=True)
'''),
        ("sums, then unsqueezes the axis back", '''
def normalize_by_sum(A, axis):
    return A.div(A.sum(dim=axis).unsqueeze(axis))
'''),
    ],
    "matmul_via_sum": [
        ("unsqueeze both operands", '''
def matmul_via_sum(A, B):
    return (A.unsqueeze(2) * B.unsqueeze(0)).sum(1)
'''),
        ("lets B broadcast implicitly", '''
def matmul_via_sum(A, B):
    return torch.sum(A[:, :, None] * B, axis=1)
'''),
    ],
    "numerical_lim": [
        ("names the two evaluations", '''
def numerical_lim(f, x, h):
    upper = f(x + h)
    lower = f(x)
    return (upper - lower) / h
'''),
        ("the book's one line", '''
def numerical_lim(f, x, h):
    return (f(x + h) - f(x)) / h
'''),
    ],
    "f": [
        ("the book's code", '''
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
'''),
        ("torch.linalg.norm and a conditional expression", '''
def f(a):
    b = 2 * a
    while torch.linalg.norm(b) < 1000:
        b = 2 * b
    return b if b.sum() > 0 else 100 * b
'''),
    ],
    "detached_product_grad": [
        ("drops the old gradient (x.grad = None) instead of zeroing it", '''
def detached_product_grad(x):
    x.grad = None
    u = (x * x).detach()
    (u * x).sum().backward()
    return x.grad
'''),
        ("zeroes through .data", '''
def detached_product_grad(x):
    if x.grad is not None:
        x.grad.data.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    return x.grad
'''),
    ],
    "sample_categorical": [
        ("counts the cumulative values <= u by comparison", '''
def sample_categorical(probs, num_samples):
    p = probs.double() / probs.double().sum()
    cdf = torch.cumsum(p, dim=0)
    u = torch.rand(num_samples, 1, dtype=torch.float64)
    idx = (u >= cdf[None, :]).sum(dim=1)
    last = int(torch.nonzero(p > 0).max())
    return torch.clamp(idx, max=last).long()
'''),
        ("torch.bucketize", '''
def sample_categorical(probs, num_samples):
    cdf = probs.cumsum(0).double()
    cdf = cdf / cdf[-1]
    u = torch.rand(num_samples).double()
    idx = torch.bucketize(u, cdf, right=True)
    return idx.clamp(max=int(torch.where(probs > 0)[0][-1])).to(torch.int64)
'''),
    ],
}

VACUOUS = {
    "pairwise_sq_dists": ("returns None", '''
def pairwise_sq_dists(X, Y):
    return None
'''),
    "normalize_by_sum": ("returns its input unchanged", '''
def normalize_by_sum(A, axis):
    return A.clone()
'''),
    "matmul_via_sum": ("returns zeros of the right shape", '''
def matmul_via_sum(A, B):
    return torch.zeros(A.shape[0], B.shape[1], dtype=A.dtype)
'''),
    "sample_categorical": ("always draws outcome 0", '''
def sample_categorical(probs, num_samples):
    return torch.zeros(num_samples, dtype=torch.int64)
'''),
}
