"""Realistic mistakes for ch13 part B; each must lose points."""

MUTANTS: dict = {
    "make_train_augs": [
        ("forgets to normalise", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Compose([v2.RandomResizedCrop(size), v2.RandomHorizontalFlip(),
                       v2.ToDtype(torch.float32, scale=True)])
'''),
        ("flips vertically", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Compose([v2.RandomResizedCrop(size), v2.RandomVerticalFlip(),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
        ("resizes the whole image instead of a random crop", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Compose([v2.Resize((size, size)), v2.RandomHorizontalFlip(),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
        ("ToDtype without scale (values stay 0-255)", '''
def make_train_augs(size):
    from torchvision.transforms import v2
    return v2.Compose([v2.RandomResizedCrop(size), v2.RandomHorizontalFlip(),
                       v2.ToDtype(torch.float32),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
    ],
    "make_test_augs": [
        ("resizes the shorter side only", '''
def make_test_augs(resize, size):
    from torchvision.transforms import v2
    return v2.Compose([v2.Resize(resize), v2.CenterCrop(size),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
        ("a random crop at test time", '''
def make_test_augs(resize, size):
    from torchvision.transforms import v2
    return v2.Compose([v2.Resize([resize, resize]), v2.RandomCrop(size),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
'''),
        ("means and standard deviations swapped", '''
def make_test_augs(resize, size):
    from torchvision.transforms import v2
    return v2.Compose([v2.Resize([resize, resize]), v2.CenterCrop(size),
                       v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize([0.229, 0.224, 0.225], [0.485, 0.456, 0.406])])
'''),
    ],
    "finetune_net": [
        ("keeps nn.Linear's default initialisation", '''
def finetune_net(pretrained_net, num_classes):
    pretrained_net.fc = nn.Linear(pretrained_net.fc.in_features, num_classes)
    return pretrained_net
'''),
        ("Xavier's normal initialisation", '''
def finetune_net(pretrained_net, num_classes):
    pretrained_net.fc = nn.Linear(pretrained_net.fc.in_features, num_classes)
    nn.init.xavier_normal_(pretrained_net.fc.weight)
    return pretrained_net
'''),
        ("a new layer after the old output layer", '''
def finetune_net(pretrained_net, num_classes):
    head = nn.Linear(1000, num_classes)
    nn.init.xavier_uniform_(head.weight)
    return nn.Sequential(pretrained_net, head)
'''),
    ],
    "finetune_trainer": [
        ("the output layer at the same learning rate", '''
def finetune_trainer(net, learning_rate, param_group=True):
    params_1x = [p for n, p in net.named_parameters() if n not in ["fc.weight", "fc.bias"]]
    groups = [{'params': params_1x}, {'params': net.fc.parameters()}] if param_group \
        else net.parameters()
    return torch.optim.SGD(groups, lr=learning_rate, weight_decay=0.001)
'''),
        ("forgets the weight decay", '''
def finetune_trainer(net, learning_rate, param_group=True):
    if param_group:
        params_1x = [p for n, p in net.named_parameters() if n not in ["fc.weight", "fc.bias"]]
        return torch.optim.SGD([{'params': params_1x},
                                {'params': net.fc.parameters(), 'lr': learning_rate * 10}],
                               lr=learning_rate)
    return torch.optim.SGD(net.parameters(), lr=learning_rate)
'''),
        ("ignores param_group", '''
def finetune_trainer(net, learning_rate, param_group=True):
    params_1x = [p for n, p in net.named_parameters() if n not in ["fc.weight", "fc.bias"]]
    return torch.optim.SGD([{'params': params_1x},
                            {'params': net.fc.parameters(), 'lr': learning_rate * 10}],
                           lr=learning_rate, weight_decay=0.001)
'''),
    ],
    "voc_colormap2label": [
        ("a float table (torch.zeros without dtype)", '''
def voc_colormap2label():
    colormap2label = torch.zeros(256 ** 3)
    for i, colormap in enumerate(VOC_COLORMAP):
        colormap2label[(colormap[0] * 256 + colormap[1]) * 256 + colormap[2]] = i
    return colormap2label
'''),
        ("blue as the most significant channel", '''
def voc_colormap2label():
    colormap2label = torch.zeros(256 ** 3, dtype=torch.long)
    for i, (r, g, b) in enumerate(VOC_COLORMAP):
        colormap2label[(b * 256 + g) * 256 + r] = i
    return colormap2label
'''),
        ("classes numbered from 1", '''
def voc_colormap2label():
    colormap2label = torch.zeros(256 ** 3, dtype=torch.long)
    for i, colormap in enumerate(VOC_COLORMAP, start=1):
        colormap2label[(colormap[0] * 256 + colormap[1]) * 256 + colormap[2]] = i
    return colormap2label
'''),
    ],
    "voc_label_indices": [
        ("index computed in uint8 (overflows)", '''
def voc_label_indices(colormap, colormap2label):
    idx = (colormap[0] * 256 + colormap[1]) * 256 + colormap[2]
    return colormap2label[idx.long()]
'''),
        ("channels read in the order b, g, r", '''
def voc_label_indices(colormap, colormap2label):
    c = colormap.long()
    return colormap2label[(c[2] * 256 + c[1]) * 256 + c[0]]
'''),
        ("searches VOC_COLORMAP instead of reading the table", '''
def voc_label_indices(colormap, colormap2label):
    out = torch.zeros(colormap.shape[1:], dtype=torch.long)
    for k, colour in enumerate(VOC_COLORMAP):
        hit = (colormap == torch.tensor(colour, dtype=colormap.dtype)[:, None, None]).all(0)
        out[hit] = k
    return out
'''),
    ],
    "voc_rand_crop": [
        ("crops the label at its own random window", '''
def voc_rand_crop(feature, label, height, width):
    crop = torchvision.transforms.RandomCrop((height, width))
    return crop(feature), crop(label)
'''),
        ("never reaches the last row or column", '''
def voc_rand_crop(feature, label, height, width):
    i = int(torch.randint(0, feature.shape[1] - height, (1,)))
    j = int(torch.randint(0, feature.shape[2] - width, (1,)))
    return (feature[:, i:i + height, j:j + width], label[:, i:i + height, j:j + width])
'''),
        ("height and width swapped", '''
def voc_rand_crop(feature, label, height, width):
    rect = torchvision.transforms.RandomCrop.get_params(feature, (width, height))
    feature = torchvision.transforms.functional.crop(feature, *rect)
    label = torchvision.transforms.functional.crop(label, *rect)
    return feature, label
'''),
    ],
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
    "fcn_net": [
        ("keeps the global average pooling", '''
def fcn_net(pretrained_net, num_classes):
    net = nn.Sequential(*list(pretrained_net.children())[:-1])
    net.add_module('final_conv', nn.Conv2d(512, num_classes, kernel_size=1))
    net.add_module('transpose_conv', nn.ConvTranspose2d(num_classes, num_classes,
                                                        kernel_size=64, padding=16, stride=32))
    net.transpose_conv.weight.data.copy_(bilinear_kernel(num_classes, num_classes, 64))
    return net
'''),
        ("forgets the bilinear initialisation", '''
def fcn_net(pretrained_net, num_classes):
    net = nn.Sequential(*list(pretrained_net.children())[:-2])
    net.add_module('final_conv', nn.Conv2d(512, num_classes, kernel_size=1))
    net.add_module('transpose_conv', nn.ConvTranspose2d(num_classes, num_classes,
                                                        kernel_size=64, padding=16, stride=32))
    return net
'''),
        ("padding 32 in the transposed convolution", '''
def fcn_net(pretrained_net, num_classes):
    net = nn.Sequential(*list(pretrained_net.children())[:-2])
    net.add_module('final_conv', nn.Conv2d(512, num_classes, kernel_size=1))
    net.add_module('transpose_conv', nn.ConvTranspose2d(num_classes, num_classes,
                                                        kernel_size=64, padding=32, stride=32))
    net.transpose_conv.weight.data.copy_(bilinear_kernel(num_classes, num_classes, 64))
    return net
'''),
        ("a fresh ResNet-18 instead of the given one", '''
def fcn_net(pretrained_net, num_classes):
    backbone = torchvision.models.resnet18(weights=None)
    net = nn.Sequential(*list(backbone.children())[:-2])
    net.add_module('final_conv', nn.Conv2d(512, num_classes, kernel_size=1))
    net.add_module('transpose_conv', nn.ConvTranspose2d(num_classes, num_classes,
                                                        kernel_size=64, padding=16, stride=32))
    net.transpose_conv.weight.data.copy_(bilinear_kernel(num_classes, num_classes, 64))
    return net
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
    "style_loss": [
        ("sums instead of averaging", '''
def style_loss(Y_hat, gram_Y):
    return torch.square(gram(Y_hat) - gram_Y.detach()).sum()
'''),
        ("absolute differences", '''
def style_loss(Y_hat, gram_Y):
    return torch.abs(gram(Y_hat) - gram_Y.detach()).mean()
'''),
    ],
    "extract_features": [
        ("keeps each layer's input instead of its output", '''
def extract_features(X, content_layers, style_layers):
    contents, styles = [], []
    for i in range(len(net)):
        if i in style_layers:
            styles.append(X)
        if i in content_layers:
            contents.append(X)
        X = net[i](X)
    return contents, styles
'''),
        ("elif: a layer in both lists is only a style layer", '''
def extract_features(X, content_layers, style_layers):
    contents, styles = [], []
    for i in range(len(net)):
        X = net[i](X)
        if i in style_layers:
            styles.append(X)
        elif i in content_layers:
            contents.append(X)
    return contents, styles
'''),
        ("returns (styles, contents)", '''
def extract_features(X, content_layers, style_layers):
    contents, styles = [], []
    for i in range(len(net)):
        X = net[i](X)
        if i in style_layers:
            styles.append(X)
        if i in content_layers:
            contents.append(X)
    return styles, contents
'''),
    ],
    "compute_loss": [
        ("forgets style_weight", '''
def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    contents_l = [content_loss(Y_hat, Y) * content_weight
                  for Y_hat, Y in zip(contents_Y_hat, contents_Y)]
    styles_l = [style_loss(Y_hat, Y) for Y_hat, Y in zip(styles_Y_hat, styles_Y_gram)]
    tv_l = tv_loss(X) * tv_weight
    return contents_l, styles_l, tv_l, sum(styles_l + contents_l + [tv_l])
'''),
        ("total without the tv loss", '''
def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    contents_l = [content_loss(Y_hat, Y) * content_weight
                  for Y_hat, Y in zip(contents_Y_hat, contents_Y)]
    styles_l = [style_loss(Y_hat, Y) * style_weight
                for Y_hat, Y in zip(styles_Y_hat, styles_Y_gram)]
    tv_l = tv_loss(X) * tv_weight
    return contents_l, styles_l, tv_l, sum(styles_l + contents_l)
'''),
        ("style loss of the style features against their own Gram matrices", '''
def compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram):
    contents_l = [content_loss(Y_hat, Y) * content_weight
                  for Y_hat, Y in zip(contents_Y_hat, contents_Y)]
    styles_l = [style_loss(Y_hat, gram(Y_hat)) * style_weight for Y_hat in styles_Y_hat]
    tv_l = tv_loss(X) * tv_weight
    return contents_l, styles_l, tv_l, sum(styles_l + contents_l + [tv_l])
'''),
    ],
}
