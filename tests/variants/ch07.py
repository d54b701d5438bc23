"""Correct ch07 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "alexnet": [
        ("in-place ReLUs and positional arguments", '''
def alexnet():
    return nn.Sequential(
        nn.Conv2d(1, 96, 11, 4, 1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 5 * 5, 4096), nn.ReLU(inplace=True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(), nn.Linear(4096, 10))
'''),
    ],
    "vgg_block": [
        ("builds the list with a comprehension", '''
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3,
                             padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))
'''),
    ],
    "vgg": [
        ("keyword arguments and a separate classifier list", '''
def vgg(conv_arch):
    blocks, channels = [], 1
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs=num_convs, in_channels=channels,
                                out_channels=out_channels))
        channels = out_channels
    classifier = [nn.Flatten(), nn.Linear(channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                  nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 10)]
    return nn.Sequential(*blocks, *classifier)
'''),
    ],
    "nin_block": [
        ("keyword arguments", '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=strides,
                  padding=padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU())
'''),
    ],
    "nin": [
        ("AdaptiveAvgPool2d(1) and positional block arguments", '''
def nin():
    return nn.Sequential(
        nin_block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2),
        nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2),
        nn.Dropout(p=0.5), nin_block(384, 10, 3, 1, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())
'''),
    ],
    "Inception": [
        ("torch.relu and a list of paths", '''
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super().__init__(**kwargs)
        self.p1_1 = nn.Conv2d(in_channels, c1, 1)
        self.p2_1, self.p2_2 = nn.Conv2d(in_channels, c2[0], 1), nn.Conv2d(c2[0], c2[1], 3, 1, 1)
        self.p3_1, self.p3_2 = nn.Conv2d(in_channels, c3[0], 1), nn.Conv2d(c3[0], c3[1], 5, 1, 2)
        self.p4_1, self.p4_2 = nn.MaxPool2d(3, 1, 1), nn.Conv2d(in_channels, c4, 1)

    def forward(self, x):
        paths = [torch.relu(self.p1_1(x)),
                 torch.relu(self.p2_2(torch.relu(self.p2_1(x)))),
                 torch.relu(self.p3_2(torch.relu(self.p3_1(x)))),
                 torch.relu(self.p4_2(self.p4_1(x)))]
        return torch.cat(paths, 1)
'''),
    ],
    "batch_norm": [
        ("var(unbiased=False) and detach()", '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if torch.is_grad_enabled():
        dims = [0] if X.dim() == 2 else [0, 2, 3]
        mean = X.mean(dim=dims, keepdim=True)
        var = X.var(dim=dims, unbiased=False, keepdim=True)
        X_hat = (X - mean) * torch.rsqrt(var + eps)
        moving_mean = (momentum * moving_mean + (1 - momentum) * mean).detach()
        moving_var = (momentum * moving_var + (1 - momentum) * var).detach()
    else:
        X_hat = (X - moving_mean) / (moving_var + eps).sqrt()
    return gamma * X_hat + beta, moving_mean, moving_var
'''),
    ],
    "BatchNorm": [
        ("moving statistics as buffers", '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, X):
        Y, mean, var = batch_norm(X, self.gamma, self.beta, self.moving_mean, self.moving_var,
                                  1e-5, 0.9)
        self.moving_mean, self.moving_var = mean, var
        return Y
'''),
    ],
    "Residual": [
        ("an identity shortcut module instead of None", '''
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, 3, strides, 1)
        self.conv2 = nn.Conv2d(num_channels, num_channels, 3, 1, 1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, 1, strides)
        else:
            self.conv3 = nn.Identity()
        self.bn1, self.bn2 = nn.BatchNorm2d(num_channels), nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = torch.relu(self.bn1(self.conv1(X)))
        return torch.relu(self.bn2(self.conv2(Y)) + self.conv3(X))
'''),
    ],
    "resnet_block": [
        ("keyword arguments and a comprehension", '''
def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    return [Residual(input_channels, num_channels, use_1x1conv=True, strides=2)
            if i == 0 and not first_block
            else Residual(num_channels, num_channels) for i in range(num_residuals)]
'''),
    ],
    "resnet18": [
        ("stages from a loop", '''
def resnet18():
    stages = [nn.Sequential(nn.Conv2d(1, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(),
                            nn.MaxPool2d(3, 2, 1))]
    for c_in, c_out, first in [(64, 64, True), (64, 128, False), (128, 256, False),
                               (256, 512, False)]:
        stages.append(nn.Sequential(*resnet_block(c_in, c_out, 2, first_block=first)))
    return nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))
'''),
    ],
    "conv_block": [
        ("positional arguments", '''
def conv_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, 3, 1, 1))
'''),
    ],
    "DenseBlock": [
        ("collects the features in a list and concatenates once per block", '''
class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super().__init__()
        self.net = nn.Sequential(*[conv_block(input_channels + i * num_channels, num_channels)
                                   for i in range(num_convs)])

    def forward(self, X):
        features = [X]
        for blk in self.net:
            features.append(blk(torch.cat(features, 1)))
        return torch.cat(features, 1)
'''),
    ],
    "transition_block": [
        ("positional arguments", '''
def transition_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, 1), nn.AvgPool2d(2))
'''),
    ],
}

VACUOUS = {
    "batch_norm": ("returns its inputs unchanged", '''
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    return X, moving_mean, moving_var
'''),
}
