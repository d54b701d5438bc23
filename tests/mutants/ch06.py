"""Realistic mistakes for ch06; each must lose points."""

MUTANTS = {
    "corr2d": [
        ("output one row and column too small (range(n - k) instead of n - k + 1)", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h, X.shape[1] - w))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''),
        ("flips the kernel: a true convolution, not the book's cross-correlation", '''
def corr2d(X, K):
    h, w = K.shape
    K = torch.flip(K, (0, 1))
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''),
        ("stores float(...) of each window: no gradient reaches X or K", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = float((X[i:i + h, j:j + w] * K).sum())
    return Y
'''),
    ],
    "Conv2D": [
        ("keeps the weight as a plain tensor: it is not a parameter and never learns", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = torch.rand(kernel_size)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
'''),
        ("forgets the bias in forward", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight)
'''),
        ("initialises the weight from a standard normal instead of torch.rand", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
'''),
    ],
    "conv_output_shape": [
        ("counts the padding once instead of on both sides", '''
def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (n_h, n_w), (k_h, k_w) = pair(input_shape), pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    return ((n_h - k_h + p_h + s_h) // s_h, (n_w - k_w + p_w + s_w) // s_w)
'''),
        ("rounds up instead of down", '''
def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    import math
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (n_h, n_w), (k_h, k_w) = pair(input_shape), pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    return (math.ceil((n_h - k_h + 2 * p_h + s_h) / s_h),
            math.ceil((n_w - k_w + 2 * p_w + s_w) / s_w))
'''),
        ("returns floats from true division", '''
def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (n_h, n_w), (k_h, k_w) = pair(input_shape), pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    return ((n_h - k_h + 2 * p_h + s_h) / s_h, (n_w - k_w + 2 * p_w + s_w) / s_w)
'''),
    ],
    "corr2d_multi_in": [
        ("averages the channels instead of adding them", '''
def corr2d_multi_in(X, K):
    return sum(corr2d(x, k) for x, k in zip(X, K)) / len(X)
'''),
        ("uses the first kernel slice for every channel", '''
def corr2d_multi_in(X, K):
    return sum(corr2d(x, K[0]) for x in X)
'''),
    ],
    "corr2d_multi_in_out": [
        ("concatenates the output channels instead of stacking them", '''
def corr2d_multi_in_out(X, K):
    return torch.cat([corr2d_multi_in(X, k) for k in K], 0)
'''),
        ("pairs each output kernel with one input channel", '''
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d(X[0], k[0]) for k in K], 0)
'''),
    ],
    "corr2d_multi_in_out_1x1": [
        ("multiplies in the wrong order (X^T K^T) and reshapes the transposed result", '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = X.reshape((c_i, h * w)).T @ K.reshape((c_o, c_i)).T
    return Y.reshape((c_o, h, w))
'''),
        ("loops over the pixels", '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    K = K.reshape((c_o, c_i))
    Y = torch.zeros((c_o, h, w), dtype=X.dtype)
    for i in range(h):
        for j in range(w):
            Y[:, i, j] = K @ X[:, i, j]
    return Y
'''),
    ],
    "pool2d": [
        ("ignores mode: always the maximum", '''
def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i:i + p_h, j:j + p_w].max()
    return Y
'''),
        ("swaps the window's height and width", '''
def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_w, j:j + p_h]
            Y[i, j] = window.max() if mode == 'max' else window.mean()
    return Y
'''),
    ],
    "max_pool2d": [
        ("pads with zeros: padding wins the maximum of negative windows", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
'''),
        ("defaults the stride to 1 instead of the kernel size", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(1 if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float('-inf'))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
'''),
        ("uses F.max_pool2d", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    return F.max_pool2d(X, kernel_size, stride, padding)
'''),
    ],
    "avg_pool2d": [
        ("averages over the real values only (count_include_pad=False)", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(padding)
    s_h, s_w = pair(kernel_size if stride is None else stride)
    ones = torch.ones_like(X[:, :1])
    total = F.pad(X, (p_w, p_w, p_h, p_h)).unfold(2, k_h, s_h).unfold(3, k_w, s_w).sum((-2, -1))
    count = F.pad(ones, (p_w, p_w, p_h, p_h)).unfold(2, k_h, s_h).unfold(3, k_w, s_w).sum((-2, -1))
    return total / count
'''),
        ("swaps stride and padding", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    stride = kernel_size if stride is None else stride
    (k_h, k_w), (p_h, p_w) = pair(kernel_size), pair(stride)
    s_h, s_w = pair(padding if padding else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).mean(dim=(-2, -1))
'''),
    ],
    "conv2d": [
        ("loops over the output pixels", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    c_o, _, k_h, k_w = weight.shape
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    out_h = (X.shape[2] - k_h) // s_h + 1
    out_w = (X.shape[3] - k_w) // s_w + 1
    rows = []
    for i in range(out_h):
        cols = []
        for j in range(out_w):
            window = X[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            cols.append(torch.einsum('bikl,oikl->bo', window, weight))
        rows.append(torch.stack(cols, -1))
    Y = torch.stack(rows, -2)
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
'''),
        ("flips the kernel (a mathematician's convolution)", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    (s_h, s_w), (p_h, p_w) = pair(stride), pair(padding)
    k_h, k_w = weight.shape[-2:]
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    patches = X.unfold(2, k_h, s_h).unfold(3, k_w, s_w)
    Y = torch.einsum('bihwkl,oikl->bohw', patches, torch.flip(weight, (2, 3)))
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
'''),
        ("calls F.conv2d", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    return F.conv2d(X, weight, bias, stride, padding)
'''),
    ],
    "lenet": [
        ("uses ReLU and max pooling (a modern LeNet, not the book's)", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
'''),
        ("forgets the padding of the first convolution", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
'''),
    ],
    "evaluate_accuracy_gpu": [
        ("never switches to eval mode: dropout stays on", '''
def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, nn.Module) and not device:
        device = next(iter(net.parameters())).device
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
'''),
        ("divides by the number of batches", '''
def evaluate_accuracy_gpu(net, data_iter, device=None):
    net.eval()
    correct, batches = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y) / y.numel()
            batches += 1
    return correct / batches
'''),
    ],
    "train_ch6": [
        ("never initialises the weights", '''
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        metric = Accumulator(3)
        net.train()
        for X, y in train_iter:
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            metric.add(float(l) * X.shape[0], accuracy(y_hat, y), X.shape[0])
        test_acc = evaluate_accuracy_gpu(net, test_iter)
    return metric[0] / metric[2], metric[1] / metric[2], test_acc
'''),
        ("switches to training mode once, before the first epoch only", '''
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    net.train()
    for epoch in range(num_epochs):
        metric = Accumulator(3)
        for X, y in train_iter:
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            metric.add(float(l) * X.shape[0], accuracy(y_hat, y), X.shape[0])
        test_acc = evaluate_accuracy_gpu(net, test_iter)
    return metric[0] / metric[2], metric[1] / metric[2], test_acc
'''),
        ("averages the batch losses without weighting by batch size", '''
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        net.train()
        total, hits, n, batches = 0.0, 0.0, 0, 0
        for X, y in train_iter:
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            total += float(l)
            batches += 1
            hits += accuracy(y_hat, y)
            n += X.shape[0]
        test_acc = evaluate_accuracy_gpu(net, test_iter)
    return total / batches, hits / n, test_acc
'''),
    ],
}
