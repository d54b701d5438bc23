"""Correct ch03 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "synthetic_data": [
        ("torch.randn and a scaled noise", '''
def synthetic_data(w, b, num_examples):
    X = torch.randn(num_examples, len(w))
    y = X @ w + b + 0.01 * torch.randn(num_examples)
    return X, y.reshape(-1, 1)
'''),
        ("the book's code", '''
def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))
'''),
    ],
    "data_iter": [
        ("the book's code, shuffling with Python's random", '''
def data_iter(batch_size, features, labels):
    import random
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]
'''),
        ("returns a list of batches", '''
def data_iter(batch_size, features, labels):
    order = torch.randperm(len(features))
    return [(features[order[i:i + batch_size]], labels[order[i:i + batch_size]])
            for i in range(0, len(features), batch_size)]
'''),
    ],
    "linreg": [
        ("the @ operator", '''
def linreg(X, w, b):
    return X @ w + b
'''),
        ("torch.add of a matmul", '''
def linreg(X, w, b):
    return torch.add(torch.matmul(X, w), b)
'''),
    ],
    "squared_loss": [
        ("halves first", '''
def squared_loss(y_hat, y):
    return 0.5 * (y_hat - y.view(y_hat.shape)) ** 2
'''),
        ("the book's code", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
'''),
    ],
    "sgd": [
        ("updates through .data, the pre-no_grad style", '''
def sgd(params, lr, batch_size):
    for param in params:
        param.data -= lr * param.grad.data / batch_size
        param.grad.data.zero_()
'''),
        ("sub_ and drops the gradient (param.grad = None)", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param.sub_(param.grad * (lr / batch_size))
            param.grad = None
'''),
    ],
    "softmax": [
        ("subtracts logsumexp", '''
def softmax(X):
    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))
'''),
        ("max via indexing the (values, indices) pair", '''
def softmax(X):
    X_exp = (X - X.max(1, keepdim=True)[0]).exp()
    return X_exp / X_exp.sum(1, keepdim=True)
'''),
    ],
    "cross_entropy": [
        ("gather", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat.gather(1, y.unsqueeze(1))).squeeze(1)
'''),
        ("arange indexing and .log()", '''
def cross_entropy(y_hat, y):
    return -y_hat[torch.arange(len(y_hat)), y].log()
'''),
    ],
    "accuracy": [
        ("returns a Python int from .item()", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.to(y.dtype) == y).sum().item()
'''),
        ("the book's code", '''
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
'''),
    ],
    "evaluate_accuracy": [
        ("returns a numpy float", '''
def evaluate_accuracy(net, data_iter):
    import numpy as np
    if isinstance(net, torch.nn.Module):
        net.eval()
    hits, counts = [], []
    with torch.no_grad():
        for X, y in data_iter:
            hits.append(accuracy(net(X), y))
            counts.append(len(y))
    return np.sum(hits) / np.sum(counts)
'''),
        ("plain counters", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
            total += y.numel()
    return correct / total
'''),
    ],
    "huber_loss": [
        ("where with the quadratic branch first", '''
def huber_loss(y_hat, y, sigma=1.0):
    d = y_hat - y.reshape(y_hat.shape)
    return torch.where(d.abs() <= sigma, 0.5 * d ** 2 / sigma, d.abs() - 0.5 * sigma)
'''),
        ("a mask that blends the two branches", '''
def huber_loss(y_hat, y, sigma=1.0):
    d = y_hat - y.view(y_hat.shape)
    quadratic = (d.abs() <= sigma).to(d.dtype)
    return quadratic * d ** 2 / (2 * sigma) + (1 - quadratic) * (d.abs() - sigma / 2)
'''),
    ],
    "train_epoch_ch3": [
        ("the book's code, float(l.sum())", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
'''),
        ("plain counters and .item()", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    total_loss, correct, n = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        total_loss += l.sum().item()
        correct += accuracy(y_hat, y)
        n += len(y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
    return total_loss / n, correct / n
'''),
    ],
    "read_idx": [
        ("int.from_bytes and numpy.frombuffer", '''
def read_idx(path):
    import gzip

    import numpy as np
    path = str(path)
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic not in (2049, 2051):
        raise ValueError(f"bad magic number {magic}")
    dims = 3 if magic == 2051 else 1
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    offset = 4 + 4 * dims
    count = int(np.prod(shape))
    if len(data) - offset < count:
        raise ValueError("the file is shorter than its header says")
    values = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset).copy()
    tensor = torch.from_numpy(values).reshape(shape)
    return tensor if magic == 2051 else tensor.long()
'''),
        ("struct.unpack_from and torch.tensor(list(...))", '''
def read_idx(path):
    import gzip
    import struct
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack_from(">II", data, 0)
    if magic == 2051:
        rows, cols = struct.unpack_from(">II", data, 8)
        body, shape = data[16:], (n, rows, cols)
    elif magic == 2049:
        body, shape = data[8:], (n,)
    else:
        raise ValueError("unknown magic number")
    size = 1
    for s in shape:
        size *= s
    if len(body) < size:
        raise ValueError("truncated file")
    values = torch.tensor(list(body[:size]), dtype=torch.uint8).reshape(shape)
    return values if magic == 2051 else values.to(torch.int64)
'''),
    ],
}

VACUOUS = {
    "synthetic_data": ("returns zeros of the right shapes", '''
def synthetic_data(w, b, num_examples):
    return torch.zeros(num_examples, len(w)), torch.zeros(num_examples, 1)
'''),
    "accuracy": ("returns a constant", '''
def accuracy(y_hat, y):
    return 0.0
'''),
    "evaluate_accuracy": ("sets evaluation mode, then returns a constant", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    with torch.no_grad():
        for X, y in data_iter:
            net(X)
    return 0.0
'''),
    "train_epoch_ch3": ("sets training mode, then learns nothing", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    for X, y in train_iter:
        net(X)
    return 0.0, 0.0
'''),
    "read_idx": ("always raises ValueError", '''
def read_idx(path):
    raise ValueError("not an IDX file")
'''),
}
