"""Correct ch13 part B answers in other styles; each must earn full marks."""

VARIANTS: dict = {
    "make_train_augs": [
        ("flip first, ToImage, explicit crop parameters", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Compose([v2.RandomHorizontalFlip(p=0.5), v2.ToImage(),
                       v2.RandomResizedCrop((size, size), scale=(0.08, 1.0),
                                            ratio=(3 / 4, 4 / 3), antialias=True),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
'''),
    ],
    "make_test_augs": [
        ("converts to float before resizing", '''
def make_test_augs(resize, size):
    from torchvision.transforms import v2
    return v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.Resize((resize, resize)),
                       v2.CenterCrop((size, size)),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
    ],
    "finetune_net": [
        ("a copy, and Xavier's bound written out", '''
def finetune_net(pretrained_net, num_classes):
    import copy
    net = copy.deepcopy(pretrained_net)
    fc = nn.Linear(512, num_classes)
    bound = math.sqrt(6 / (512 + num_classes))
    with torch.no_grad():
        fc.weight.uniform_(-bound, bound)
    net.fc = fc
    return net
'''),
    ],
    "finetune_trainer": [
        ("the output layer's group first, found by identity", '''
def finetune_trainer(net, learning_rate, param_group=True):
    if not param_group:
        return torch.optim.SGD(net.parameters(), lr=learning_rate, weight_decay=1e-3)
    head = {id(p) for p in net.fc.parameters()}
    rest = [p for p in net.parameters() if id(p) not in head]
    return torch.optim.SGD([{"params": list(net.fc.parameters()), "lr": 10 * learning_rate},
                            {"params": rest, "lr": learning_rate}], lr=learning_rate,
                           weight_decay=1e-3)
'''),
    ],
    "voc_colormap2label": [
        ("vectorized from a tensor of the colours", '''
def voc_colormap2label():
    colours = torch.tensor(VOC_COLORMAP, dtype=torch.long)
    table = torch.zeros(256 ** 3, dtype=torch.long)
    table[colours[:, 0] * 65536 + colours[:, 1] * 256 + colours[:, 2]] = torch.arange(
        len(colours))
    return table
'''),
    ],
    "voc_label_indices": [
        ("in torch, with int64 arithmetic", '''
def voc_label_indices(colormap, colormap2label):
    r, g, b = colormap.long()
    return colormap2label[r * 65536 + g * 256 + b]
'''),
        ("the book's code (numpy int32)", '''
def voc_label_indices(colormap, colormap2label):
    colormap = colormap.permute(1, 2, 0).numpy().astype('int32')
    idx = ((colormap[:, :, 0] * 256 + colormap[:, :, 1]) * 256 + colormap[:, :, 2])
    return colormap2label[idx]
'''),
    ],
    "voc_rand_crop": [
        ("Python's random module and slicing", '''
def voc_rand_crop(feature, label, height, width):
    import random
    i = random.randint(0, feature.shape[1] - height)
    j = random.randint(0, feature.shape[2] - width)
    return feature[:, i:i + height, j:j + width], label[:, i:i + height, j:j + width]
'''),
        ("one crop of the stacked image and label", '''
def voc_rand_crop(feature, label, height, width):
    c = feature.shape[0]
    both = torch.cat([feature.double(), label.double()])
    both = torchvision.transforms.RandomCrop((height, width))(both)
    return both[:c].to(feature.dtype), both[c:].to(label.dtype)
'''),
    ],
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
    "fcn_net": [
        ("the ResNet's layers by name", '''
def fcn_net(pretrained_net, num_classes):
    r = pretrained_net
    net = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3,
                        r.layer4)
    net.final_conv = nn.Conv2d(512, num_classes, 1)
    net.transpose_conv = nn.ConvTranspose2d(num_classes, num_classes, 64, 32, 16)
    with torch.no_grad():
        net.transpose_conv.weight.copy_(bilinear_kernel(num_classes, num_classes, 64))
    return net
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
    "style_loss": [
        ("functional mse_loss of the Gram matrices", '''
def style_loss(Y_hat, gram_Y):
    return F.mse_loss(gram(Y_hat), gram_Y.detach())
'''),
    ],
    "extract_features": [
        ("enumerate, stopping after the last layer needed", '''
def extract_features(X, content_layers, style_layers):
    contents, styles = [], []
    last = max(list(content_layers) + list(style_layers))
    for i, layer in enumerate(net):
        if i > last:
            break
        X = layer(X)
        if i in content_layers:
            contents.append(X)
        if i in style_layers:
            styles.append(X)
    return contents, styles
'''),
    ],
    "compute_loss": [
        ("loops and a running total", '''
def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    contents_l, styles_l = [], []
    for Y_hat, Y in zip(contents_Y_hat, contents_Y):
        contents_l.append(content_weight * content_loss(Y_hat, Y))
    for Y_hat, Y in zip(styles_Y_hat, styles_Y_gram):
        styles_l.append(style_weight * style_loss(Y_hat, Y))
    tv_l = tv_weight * tv_loss(X)
    total = tv_l
    for part in contents_l + styles_l:
        total = total + part
    return contents_l, styles_l, tv_l, total
'''),
    ],
}

"""Answers that compute nothing useful; each must earn nothing."""

VACUOUS: dict = {
    "make_train_augs": ("the identity", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Identity()
'''),
    "make_test_augs": ("the identity", '''
def make_test_augs(resize, size):
    from torchvision.transforms import v2
    return v2.Identity()
'''),
    "finetune_net": ("returns the network unchanged", '''
def finetune_net(pretrained_net, num_classes):
    return pretrained_net
'''),
    "finetune_trainer": ("an optimizer with nothing to optimize", '''
def finetune_trainer(net, learning_rate, param_group=True):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
'''),
    "voc_colormap2label": ("zeros", '''
def voc_colormap2label():
    return torch.zeros(256 ** 3, dtype=torch.long)
'''),
    "voc_label_indices": ("zeros", '''
def voc_label_indices(colormap, colormap2label):
    return torch.zeros(colormap.shape[1:], dtype=torch.long)
'''),
    "voc_rand_crop": ("returns its inputs", '''
def voc_rand_crop(feature, label, height, width):
    return feature, label
'''),
    "fcn_net": ("an empty module", '''
def fcn_net(pretrained_net, num_classes):
    return nn.Sequential()
'''),
    "style_loss": ("zero", '''
def style_loss(Y_hat, gram_Y):
    return (Y_hat * 0).sum()
'''),
    "extract_features": ("empty lists", '''
def extract_features(X, content_layers, style_layers):
    return [], []
'''),
    "compute_loss": ("zeros", '''
def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    zero = (X * 0).sum()
    return [zero for _ in contents_Y], [zero for _ in styles_Y_gram], zero, zero
'''),
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
