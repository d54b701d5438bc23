"""Realistic mistakes for ch02; each must lose points."""

MUTANTS = {
    "pairwise_sq_dists": [
        ("broadcasts the wrong way round: the result is (m, n), transposed", '''
def pairwise_sq_dists(X, Y):
    diff = X[None, :, :] - Y[:, None, :]
    return (diff ** 2).sum(dim=2)
'''),
        ("loops over the rows of X in Python", '''
def pairwise_sq_dists(X, Y):
    return torch.stack([((x - Y) ** 2).sum(dim=1) for x in X])
'''),
        ("returns the distances, not the squared distances", '''
def pairwise_sq_dists(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(dim=2).sqrt()
'''),
        ("uses F.pairwise_distance", '''
def pairwise_sq_dists(X, Y):
    from torch.nn import functional as F
    return F.pairwise_distance(X[:, None, :], Y[None, :, :], eps=0.0) ** 2
'''),
    ],
    "preprocess_house_tiny": [
        ("fills missing numbers with 0 instead of the column mean", '''
def preprocess_house_tiny(path):
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, :-1], data.iloc[:, -1]
    inputs = inputs.fillna(0)
    inputs = pd.get_dummies(inputs, dummy_na=True)
    return (torch.tensor(inputs.to_numpy(dtype=float)),
            torch.tensor(outputs.to_numpy(dtype=float)))
'''),
        ("forgets dummy_na=True: no indicator column for a missing category", '''
def preprocess_house_tiny(path):
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, :-1], data.iloc[:, -1]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs)
    return (torch.tensor(inputs.to_numpy(dtype=float)),
            torch.tensor(outputs.to_numpy(dtype=float)))
'''),
        ("copies the book's iloc[:, 0:2] and leaves y as an integer tensor", '''
def preprocess_house_tiny(path):
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, 0:2], data.iloc[:, 2]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    return torch.tensor(inputs.to_numpy(dtype=float)), torch.tensor(outputs.to_numpy())
'''),
    ],
    "normalize_by_sum": [
        ("forgets keepdim: the sums broadcast along the wrong axis", '''
def normalize_by_sum(A, axis):
    return A / A.sum(dim=axis)
'''),
        ("divides A in place", '''
def normalize_by_sum(A, axis):
    A /= A.sum(dim=axis, keepdim=True)
    return A
'''),
    ],
    "matmul_via_sum": [
        ("lines up the wrong axes (sums over B's columns)", '''
def matmul_via_sum(A, B):
    return (A[:, None, :] * B[None, :, :]).sum(dim=2)
'''),
        ("uses the @ operator", '''
def matmul_via_sum(A, B):
    return A @ B
'''),
        ("squeezes the result, losing size-1 axes", '''
def matmul_via_sum(A, B):
    return (A[:, :, None] * B[None, :, :]).sum(dim=1).squeeze()
'''),
        ("loops over the inner dimension in Python", '''
def matmul_via_sum(A, B):
    C = torch.zeros(A.shape[0], B.shape[1], dtype=A.dtype)
    for l in range(A.shape[1]):
        C = C + A[:, l:l + 1] * B[l:l + 1, :]
    return C
'''),
    ],
    "numerical_lim": [
        ("takes a central difference instead of the book's forward difference", '''
def numerical_lim(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)
'''),
        ("operator precedence: divides only f(x) by h", '''
def numerical_lim(f, x, h):
    return f(x + h) - f(x) / h
'''),
    ],
    "f": [
        ("swaps the branches", '''
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = 100 * b
    else:
        c = b
    return c
'''),
        ("measures b with the sum of absolute values instead of the norm", '''
def f(a):
    b = a * 2
    while b.abs().sum() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
'''),
        ("detaches a first, so autograd cannot follow", '''
def f(a):
    b = a.detach() * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
'''),
        ("forgets the initial doubling b = 2 * a", '''
def f(a):
    b = a
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
'''),
    ],
    "detached_product_grad": [
        ("forgets to detach y: the gradient is 3 x^2", '''
def detached_product_grad(x):
    if x.grad is not None:
        x.grad.zero_()
    y = x * x
    z = y * x
    z.sum().backward()
    return x.grad
'''),
        ("writes down the closed form instead of calling backward", '''
def detached_product_grad(x):
    return (x * x).detach()
'''),
        ("forgets to zero the old gradient", '''
def detached_product_grad(x):
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    return x.grad
'''),
    ],
    "sample_categorical": [
        ("forgets to normalise the weights", '''
def sample_categorical(probs, num_samples):
    cdf = torch.cumsum(probs, dim=0)
    u = torch.rand(num_samples, dtype=cdf.dtype)
    return torch.searchsorted(cdf, u, right=True).clamp(max=len(probs) - 1)
'''),
        ("uses torch.multinomial", '''
def sample_categorical(probs, num_samples):
    return torch.multinomial(probs, num_samples, replacement=True)
'''),
        ("returns counts like the book's Multinomial(1, p).sample()", '''
def sample_categorical(probs, num_samples):
    p = probs / probs.sum()
    cdf = torch.cumsum(p, dim=0)
    u = torch.rand(num_samples, dtype=cdf.dtype)
    idx = torch.searchsorted(cdf, u, right=True).clamp(max=len(probs) - 1)
    return torch.bincount(idx, minlength=len(probs))
'''),
        ("draws the uniforms from numpy's generator", '''
def sample_categorical(probs, num_samples):
    import numpy as np
    cdf = torch.cumsum(probs.double(), dim=0) / probs.double().sum()
    u = torch.from_numpy(np.random.rand(num_samples))
    idx = torch.searchsorted(cdf, u, right=True)
    return idx.clamp(max=int(torch.nonzero(probs > 0).max())).to(torch.int64)
'''),
    ],
}
