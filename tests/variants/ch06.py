"""Correct ch06 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "corr2d": [
        ("vectorized with Tensor.unfold, keeping the input's dtype", '''
def corr2d(X, K):
    h, w = K.shape
    return (X.unfold(0, h, 1).unfold(1, w, 1) * K).sum(dim=(-2, -1))
'''),
        ("collects the rows in lists and stacks them", '''
def corr2d(X, K):
    h, w = K.shape
    rows = []
    for i in range(X.shape[0] - h + 1):
        rows.append(torch.stack([(X[i:i + h, j:j + w] * K).sum()
                                 for j in range(X.shape[1] - w + 1)]))
    return torch.stack(rows)
'''),
    ],
    "Conv2D": [
        ("registers the parameters by name", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.register_parameter("weight", nn.Parameter(torch.rand(kernel_size)))
        self.register_parameter("bias", nn.Parameter(torch.zeros(1)))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
'''),
    ],
    "conv_output_shape": [
        ("math.floor of the book's formula, one axis at a time", '''
def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    import math
    sizes = []
    for axis in range(2):
        n = input_shape[axis]
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[axis]
        p = padding if isinstance(padding, int) else padding[axis]
        s = stride if isinstance(stride, int) else stride[axis]
        sizes.append(math.floor((n - k + 2 * p + s) / s))
    return tuple(sizes)
'''),
        ("asks nn.Conv2d on an empty tensor", '''
def conv_output_shape(input_shape, kernel_size, padding=0, stride=1):
    layer = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding)
    return tuple(int(d) for d in layer(torch.zeros(1, 1, *input_shape)).shape[2:])
'''),
    ],
    "corr2d_multi_in": [
        ("stacks the per-channel results and sums them", '''
def corr2d_multi_in(X, K):
    return torch.stack([corr2d(X[i], K[i]) for i in range(X.shape[0])]).sum(dim=0)
'''),
    ],
    "corr2d_multi_in_out": [
        ("concatenates unsqueezed results", '''
def corr2d_multi_in_out(X, K):
    return torch.cat([corr2d_multi_in(X, k).unsqueeze(0) for k in K], dim=0)
'''),
    ],
    "corr2d_multi_in_out_1x1": [
        ("einsum over the channels", '''
def corr2d_multi_in_out_1x1(X, K):
    return torch.einsum('oi,ihw->ohw', K[:, :, 0, 0], X)
'''),
        ("tensordot", '''
def corr2d_multi_in_out_1x1(X, K):
    return torch.tensordot(K.flatten(1), X, dims=1)
'''),
    ],
    "pool2d": [
        ("vectorized windows with unfold", '''
def pool2d(X, pool_size, mode='max'):
    windows = X.unfold(0, pool_size[0], 1).unfold(1, pool_size[1], 1)
    if mode == 'max':
        return windows.amax(dim=(-2, -1))
    return windows.mean(dim=(-2, -1))
'''),
    ],
    "max_pool2d": [
        ("loops over the output positions on a -inf padded copy", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    stride = kernel_size if stride is None else stride
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    B, C, H, W = X.shape
    padded = torch.full((B, C, H + 2 * p_h, W + 2 * p_w), float('-inf'), dtype=X.dtype,
                        device=X.device)
    padded[:, :, p_h:p_h + H, p_w:p_w + W] = X
    out_h = (H + 2 * p_h - k_h) // s_h + 1
    out_w = (W + 2 * p_w - k_w) // s_w + 1
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            window = padded[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            row.append(window.reshape(B, C, -1).max(dim=-1).values)
        rows.append(torch.stack(row, dim=-1))
    return torch.stack(rows, dim=-2)
'''),
    ],
    "avg_pool2d": [
        ("as_strided windows of a zero-padded copy", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    stride = kernel_size if stride is None else stride
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    P = F.pad(X, (p_w, p_w, p_h, p_h)).contiguous()
    B, C, H, W = P.shape
    out_h, out_w = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    b, c, h, w = P.stride()
    windows = P.as_strided((B, C, out_h, out_w, k_h, k_w), (b, c, h * s_h, w * s_w, h, w))
    return windows.sum(dim=(-2, -1)) / (k_h * k_w)
'''),
    ],
    "conv2d": [
        ("loops over the kernel offsets only (shift and add)", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    c_o, c_i, k_h, k_w = weight.shape
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    out_h = (X.shape[2] - k_h) // s_h + 1
    out_w = (X.shape[3] - k_w) // s_w + 1
    Y = 0
    for i in range(k_h):
        for j in range(k_w):
            patch = X[:, :, i:i + s_h * (out_h - 1) + 1:s_h, j:j + s_w * (out_w - 1) + 1:s_w]
            Y = Y + torch.einsum('bihw,oi->bohw', patch, weight[:, :, i, j])
    if bias is not None:
        Y = Y + bias[None, :, None, None]
    return Y
'''),
        ("im2col by hand with unfold, then one matrix product", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    c_o, c_i, k_h, k_w = weight.shape
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    cols = X.unfold(2, k_h, s_h).unfold(3, k_w, s_w)
    B, _, out_h, out_w = cols.shape[:4]
    cols = cols.permute(0, 2, 3, 1, 4, 5).reshape(B, out_h * out_w, c_i * k_h * k_w)
    Y = cols @ weight.reshape(c_o, -1).T
    if bias is not None:
        Y = Y + bias
    return Y.reshape(B, out_h, out_w, c_o).permute(0, 3, 1, 2)
'''),
    ],
    "lenet": [
        ("the book's code with keyword arguments", '''
def lenet():
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    return net
'''),
    ],
    "evaluate_accuracy_gpu": [
        ("counts hits with argmax and returns a numpy float", '''
def evaluate_accuracy_gpu(net, data_iter, device=None):
    import numpy as np
    net.eval()
    if device is None:
        device = next(net.parameters()).device
    hits, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X = [x.to(device) for x in X] if isinstance(X, list) else X.to(device)
            y = y.to(device)
            hits += int((net(X).argmax(dim=1) == y).sum())
            total += y.numel()
    return np.float64(hits) / total
'''),
    ],
    "train_ch6": [
        ("the book's loop with a hand-written init and no plotting", '''
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
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
            with torch.no_grad():
                metric.add(l * X.shape[0], accuracy(y_hat, y), X.shape[0])
        train_l, train_acc = metric[0] / metric[2], metric[1] / metric[2]
        test_acc = evaluate_accuracy_gpu(net, test_iter)
    return train_l, train_acc, test_acc
'''),
    ],
}

VACUOUS = {
    "conv2d": ("returns None", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    return None
'''),
    "corr2d_multi_in_out_1x1": ("returns None", '''
def corr2d_multi_in_out_1x1(X, K):
    return None
'''),
}
