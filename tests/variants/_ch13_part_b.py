"""Correct ch13 part B answers in other styles; each must earn full marks."""

VARIANTS: dict = {
    "trans_conv": [
        ("the library's transposed convolution", '''
def trans_conv(X, K):
    return F.conv_transpose2d(X[None, None], K[None, None])[0, 0]
'''),
        ("the book's code (torch.zeros)", '''
def trans_conv(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] + h - 1, X.shape[1] + w - 1))
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Y[i: i + h, j: j + w] += X[i, j] * K
    return Y
'''),
    ],
    "kernel2matrix": [
        ("a loop over output positions", '''
def kernel2matrix(K):
    W = torch.zeros(4, 9)
    for r in range(2):
        for c in range(2):
            for a in range(2):
                for b in range(2):
                    W[2 * r + c, 3 * (r + a) + (c + b)] = K[a, b]
    return W
'''),
    ],
    "bilinear_kernel": [
        ("an outer product and a loop over channels", '''
def bilinear_kernel(in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 else factor - 0.5
    f = 1 - (torch.arange(kernel_size, dtype=torch.float32) - center).abs() / factor
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    for k in range(min(in_channels, out_channels)):
        weight[k, k] = torch.outer(f, f)
    return weight
'''),
    ],
    "gram": [
        ("einsum", '''
def gram(X):
    c, h, w = X.shape[1:]
    return torch.einsum("bchw,bdhw->cd", X, X) / (c * h * w)
'''),
    ],
    "content_loss": [
        ("functional mse_loss", '''
def content_loss(Y_hat, Y):
    return F.mse_loss(Y_hat, Y.detach())
'''),
    ],
    "tv_loss": [
        ("torch.diff", '''
def tv_loss(Y_hat):
    return (torch.diff(Y_hat, dim=2).abs().mean() + torch.diff(Y_hat, dim=3).abs().mean()) / 2
'''),
    ],
}

"""Answers that compute nothing useful; each must earn nothing."""

VACUOUS: dict = {
    "trans_conv": ("zeros", '''
def trans_conv(X, K):
    return torch.zeros(X.shape[0] + K.shape[0] - 1, X.shape[1] + K.shape[1] - 1)
'''),
    "kernel2matrix": ("zeros", '''
def kernel2matrix(K):
    return torch.zeros(4, 9)
'''),
    "bilinear_kernel": ("zeros", '''
def bilinear_kernel(in_channels, out_channels, kernel_size):
    return torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
'''),
    "gram": ("identity", '''
def gram(X):
    return torch.eye(X.shape[1], dtype=X.dtype)
'''),
    "content_loss": ("zero", '''
def content_loss(Y_hat, Y):
    return (Y_hat * 0).sum()
'''),
    "tv_loss": ("zero", '''
def tv_loss(Y_hat):
    return (Y_hat * 0).sum()
'''),
}
