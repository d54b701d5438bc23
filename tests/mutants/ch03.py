"""Realistic mistakes for ch03; each must lose points."""

MUTANTS = {
    "synthetic_data": [
        ("noise with standard deviation 0.1 instead of 0.01", '''
def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.1, y.shape)
    return X, y.reshape((-1, 1))
'''),
        ("forgets to reshape y into a column", '''
def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y
'''),
        ("draws uniform instead of normal features", '''
def synthetic_data(w, b, num_examples):
    X = torch.rand(num_examples, len(w))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))
'''),
        ("draws from a private generator instead of torch's global one", '''
def synthetic_data(w, b, num_examples):
    gen = torch.Generator().manual_seed(42)
    X = torch.normal(0, 1, (num_examples, len(w)), generator=gen)
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape, generator=gen)
    return X, y.reshape((-1, 1))
'''),
    ],
    "data_iter": [
        ("forgets to shuffle", '''
def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]
'''),
        ("drops the last, smaller batch", '''
def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples - batch_size + 1, batch_size):
        batch_indices = indices[i: i + batch_size]
        yield features[batch_indices], labels[batch_indices]
'''),
        ("shuffles the order of the batches, not the examples", '''
def data_iter(batch_size, features, labels):
    num_examples = len(features)
    starts = torch.arange(0, num_examples, batch_size)
    for i in starts[torch.randperm(len(starts))].tolist():
        yield features[i: i + batch_size], labels[i: i + batch_size]
'''),
    ],
    "linreg": [
        ("forgets the bias", '''
def linreg(X, w, b):
    return torch.matmul(X, w)
'''),
        ("multiplies in the wrong order (a row instead of a column)", '''
def linreg(X, w, b):
    return torch.matmul(w.T, X.T) + b
'''),
        ("sums an elementwise product, losing the column shape", '''
def linreg(X, w, b):
    return (X * w.reshape(-1)).sum(dim=1) + b
'''),
    ],
    "squared_loss": [
        ("forgets the factor 1/2", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2
'''),
        ("does not reshape y: (n, 1) - (n,) broadcasts to (n, n)", '''
def squared_loss(y_hat, y):
    return (y_hat - y) ** 2 / 2
'''),
        ("averages over the batch", '''
def squared_loss(y_hat, y):
    return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()
'''),
    ],
    "sgd": [
        ("forgets to zero the gradients", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
'''),
        ("forgets to divide by the batch size", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
'''),
        ("uses torch.optim.SGD", '''
def sgd(params, lr, batch_size):
    optimizer = torch.optim.SGD(params, lr=lr / batch_size)
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)
'''),
    ],
    "softmax": [
        ("forgets the max shift: overflows for large logits", '''
def softmax(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)
'''),
        ("normalises over the wrong axis", '''
def softmax(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum(0, keepdim=True)
'''),
        ("calls torch.softmax", '''
def softmax(X):
    return torch.softmax(X, dim=1)
'''),
    ],
    "cross_entropy": [
        ("indexes columns only: an (n, n) matrix instead of one loss per example", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[:, y])
'''),
        ("forgets the minus sign", '''
def cross_entropy(y_hat, y):
    return torch.log(y_hat[range(len(y_hat)), y])
'''),
        ("uses F.nll_loss", '''
def cross_entropy(y_hat, y):
    from torch.nn import functional as F
    return F.nll_loss(torch.log(y_hat), y, reduction="none")
'''),
    ],
    "accuracy": [
        ("returns the fraction instead of the number", '''
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum()) / len(y)
'''),
        ("always takes the argmax, even of predicted classes", '''
def accuracy(y_hat, y):
    y_hat = y_hat.argmax(axis=-1)
    return float((y_hat.type(y.dtype) == y).sum())
'''),
        ("returns a tensor", '''
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    return (y_hat.type(y.dtype) == y).sum()
'''),
    ],
    "evaluate_accuracy": [
        ("averages the per-batch accuracies", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    accs = []
    with torch.no_grad():
        for X, y in data_iter:
            accs.append(accuracy(net(X), y) / y.numel())
    return sum(accs) / len(accs)
'''),
        ("forgets net.eval()", '''
def evaluate_accuracy(net, data_iter):
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
'''),
        ("calls net.eval() on anything and forgets no_grad", '''
def evaluate_accuracy(net, data_iter):
    net.eval()
    metric = Accumulator(2)
    for X, y in data_iter:
        metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
'''),
        ("returns a tensor instead of a Python float", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct, total = torch.tensor(0.0), 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
            total += y.numel()
    return correct / total
'''),
    ],
    "huber_loss": [
        ("swaps the two branches", '''
def huber_loss(y_hat, y, sigma=1.0):
    d = y_hat - y.reshape(y_hat.shape)
    return torch.where(d.abs() <= sigma, d.abs() - sigma / 2, d ** 2 / (2 * sigma))
'''),
        ("forgets sigma in the quadratic part", '''
def huber_loss(y_hat, y, sigma=1.0):
    d = y_hat - y.reshape(y_hat.shape)
    return torch.where(d.abs() > sigma, d.abs() - sigma / 2, d ** 2 / 2)
'''),
        ("uses F.smooth_l1_loss", '''
def huber_loss(y_hat, y, sigma=1.0):
    from torch.nn import functional as F
    return F.smooth_l1_loss(y_hat, y.reshape(y_hat.shape), reduction="none", beta=sigma)
'''),
    ],
    "train_epoch_ch3": [
        ("backpropagates the summed loss with an optimizer too", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        l.sum().backward()
        if isinstance(updater, torch.optim.Optimizer):
            updater.step()
            updater.zero_grad()
        else:
            updater(X.shape[0])
        metric.add(l.sum().item(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
'''),
        ("forgets updater.zero_grad()", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(l.sum().item(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
'''),
        ("averages per-batch means, and never sets training mode", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    losses, accs = [], []
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
        losses.append(l.mean().item())
        accs.append(accuracy(y_hat, y) / len(y))
    return sum(losses) / len(losses), sum(accs) / len(accs)
'''),
        ("accumulates in tensors and returns tensors", '''
def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    total_loss, correct, n = torch.tensor(0.0), torch.tensor(0.0), 0
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
        total_loss += l.sum().detach()
        correct += accuracy(y_hat, y)
        n += y.numel()
    return total_loss / n, correct / n
'''),
    ],
    "read_idx": [
        ("reads the header as little-endian", '''
def read_idx(path):
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack("<II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack("<II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, rows, cols)
    if magic == 2049:
        return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).to(torch.int64)
    raise ValueError(f"bad magic number {magic}")
'''),
        ("returns the labels as uint8", '''
def read_idx(path):
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        if len(data) - 16 < n * rows * cols:
            raise ValueError("truncated")
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, rows, cols)
    if magic == 2049:
        return torch.frombuffer(bytearray(data[8:8 + n]), dtype=torch.uint8)
    raise ValueError(f"bad magic number {magic}")
'''),
        ("assumes 28x28 images and never checks the magic number", '''
def read_idx(path):
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    if data[3] == 3:
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, 28, 28)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).to(torch.int64)
'''),
    ],
}
