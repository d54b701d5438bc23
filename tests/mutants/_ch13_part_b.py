"""Realistic mistakes for ch13 part B; each must lose points."""

MUTANTS: dict = {
    "trans_conv": [
        ("output the size of the input", '''
def trans_conv(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] + h - 1, X.shape[1] + w - 1)
    for i in range(X.shape[0] - h + 1):
        for j in range(X.shape[1] - w + 1):
            Y[i: i + h, j: j + w] += X[i, j] * K
    return Y
'''),
        ("flips the kernel", '''
def trans_conv(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] + h - 1, X.shape[1] + w - 1)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Y[i: i + h, j: j + w] += X[i, j] * torch.flip(K, [0, 1])
    return Y
'''),
    ],
    "kernel2matrix": [
        ("third row shifted by one column", '''
def kernel2matrix(K):
    k, W = torch.zeros(5), torch.zeros((4, 9))
    k[:2], k[3:5] = K[0, :], K[1, :]
    W[0, :5], W[1, 1:6], W[2, 2:7], W[3, 4:] = k, k, k, k
    return W
'''),
        ("kernel rows placed side by side", '''
def kernel2matrix(K):
    k, W = torch.zeros(5), torch.zeros((4, 9))
    k[:2], k[2:4] = K[0, :], K[1, :]
    W[0, :5], W[1, 1:6], W[2, 3:8], W[3, 4:] = k, k, k, k
    return W
'''),
    ],
    "bilinear_kernel": [
        ("centre factor - 1 for every size", '''
def bilinear_kernel(in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1
    og = torch.arange(kernel_size, dtype=torch.float32)
    f1 = 1 - torch.abs(og - center) / factor
    weight = torch.zeros((in_channels, out_channels, kernel_size, kernel_size))
    for k in range(in_channels):
        weight[k, k] = f1[:, None] * f1[None, :]
    return weight
'''),
        ("fills every channel pair", '''
def bilinear_kernel(in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float32)
    f1 = 1 - torch.abs(og - center) / factor
    filt = f1[:, None] * f1[None, :]
    return filt.repeat(in_channels, out_channels, 1, 1)
'''),
    ],
    "gram": [
        ("divides by h * w only", '''
def gram(X):
    c = X.shape[1]
    X = X.reshape(c, -1)
    return X @ X.T / X.shape[1]
'''),
        ("inner products between positions", '''
def gram(X):
    c = X.shape[1]
    X = X.reshape(c, -1)
    return X.T @ X / X.numel()
'''),
    ],
    "content_loss": [
        ("sums instead of averaging", '''
def content_loss(Y_hat, Y):
    return torch.square(Y_hat - Y.detach()).sum()
'''),
        ("absolute instead of squared differences", '''
def content_loss(Y_hat, Y):
    return torch.abs(Y_hat - Y.detach()).mean()
'''),
    ],
    "tv_loss": [
        ("forgets the factor 0.5", '''
def tv_loss(Y_hat):
    return (torch.abs(Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).mean() +
            torch.abs(Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).mean())
'''),
        ("squared differences", '''
def tv_loss(Y_hat):
    return 0.5 * (torch.square(Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).mean() +
                  torch.square(Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).mean())
'''),
    ],
}
