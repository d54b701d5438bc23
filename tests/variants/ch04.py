"""Correct alternatives for ch04: the book's own code and other valid styles earn full marks."""

VARIANTS = {
    "perceptron_train": [
        ("a while loop over epochs, elementwise products and a Python bool flag", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.tensor(0.0, dtype=X.dtype)
    epoch = 0
    while epoch < max_epochs:
        mistakes = 0
        for x_i, y_i in zip(X, y):
            if y_i * ((w * x_i).sum() + b) <= 0:
                w = w + lr * y_i * x_i
                b = b + lr * y_i
                mistakes += 1
        epoch += 1
        if mistakes == 0:
            return w, b, True
    return w, b, False
'''),
        ("updates w and b in place", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    w = X.new_zeros(X.shape[1])
    b = X.new_zeros(())
    for _ in range(max_epochs):
        clean = True
        for i in range(len(X)):
            if float(y[i] * (X[i] @ w + b)) <= 0:
                w += lr * y[i] * X[i]
                b += lr * y[i]
                clean = False
        if clean:
            break
    return w, b, clean
'''),
    ],
    "relu": [
        ("the book's torch.max against zeros_like", '''
def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)
'''),
        ("torch.where with a Python zero", '''
def relu(X):
    return torch.where(X > 0, X, 0.0)
'''),
        ("multiplies by the mask", '''
def relu(X):
    return X * (X > 0)
'''),
        ("clamp (not in place)", '''
def relu(X):
    return X.clamp(min=0)
'''),
    ],
    "mlp": [
        ("the book's net with num_inputs read from W1", '''
def mlp(X, W1, b1, W2, b2):
    num_inputs = W1.shape[0]
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return (H @ W2 + b2)
'''),
        ("torch.matmul and flatten", '''
def mlp(X, W1, b1, W2, b2):
    X = X.reshape(X.shape[0], -1) if X.dim() > 2 else X.reshape(-1, W1.shape[0])
    return torch.matmul(relu(torch.matmul(X, W1) + b1), W2) + b2
'''),
    ],
    "poly_features": [
        ("a column per degree, stacked", '''
def poly_features(x, max_degree):
    x = x.reshape(-1)
    return torch.stack([x ** i / math.factorial(i) for i in range(max_degree)], dim=1)
'''),
        ("the book's power then a division per column", '''
def poly_features(x, max_degree):
    features = torch.pow(x.reshape(-1, 1), torch.arange(max_degree).reshape(1, -1))
    columns = [features[:, i] / math.gamma(i + 1) for i in range(max_degree)]
    return torch.stack(columns, 1)
'''),
    ],
    "l2_penalty": [
        ("the book's code", '''
def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2
'''),
        ("the squared norm, halved", '''
def l2_penalty(w):
    return 0.5 * (w * w).sum()
'''),
    ],
    "dropout_layer": [
        ("the book's code (a float32 mask)", '''
def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)
'''),
        ("torch.bernoulli of the keep probability", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    keep = 1.0 - dropout
    mask = torch.bernoulli(torch.full_like(X, keep))
    return X * mask / keep
'''),
        ("keeps where rand_like < 1 - dropout", '''
def dropout_layer(X, dropout):
    if dropout >= 1:
        return torch.zeros_like(X)
    if dropout <= 0:
        return X.clone()
    mask = torch.rand_like(X) < 1 - dropout
    return torch.where(mask, X / (1 - dropout), torch.zeros_like(X))
'''),
    ],
    "DropoutMLP": [
        ("the book's Net: `== True` tests and the layers' own ReLU", '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1=0.2,
                 dropout2=0.5):
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:  # noqa: E712 - the book's spelling
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:  # noqa: E712
            H2 = dropout_layer(H2, self.dropout2)
        out = self.lin3(H2)
        return out
'''),
        ("torch.relu, dropout before the activation, a loop over the two layers", '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1=0.2,
                 dropout2=0.5):
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H = X.reshape(-1, self.num_inputs)
        for layer, p in ((self.lin1, self.dropout1), (self.lin2, self.dropout2)):
            H = layer(H)
            if self.training:
                H = dropout_layer(H, p)
            H = torch.relu(H)
        return self.lin3(H)
'''),
    ],
    "xavier_uniform_": [
        ("writes through .data", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = tensor.shape[1], tensor.shape[0]
    bound = gain * (6 / (fan_in + fan_out)) ** 0.5
    tensor.data.uniform_(-bound, bound)
    return tensor
'''),
        ("copies scaled torch.rand draws in place", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_(torch.rand(tensor.shape) * 2 * a - a)
    return tensor
'''),
    ],
    "xavier_normal_": [
        ("writes through .data", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.size()
    tensor.data.normal_(mean=0.0, std=gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return tensor
'''),
        ("copies scaled torch.randn draws in place", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape, dtype=tensor.dtype) * std)
    return tensor
'''),
    ],
    "log_rmse": [
        ("the book's code with nn.MSELoss", '''
def log_rmse(net, features, labels):
    loss = nn.MSELoss()
    clipped_preds = torch.clamp(net(features), 1, float('inf'))
    rmse = torch.sqrt(loss(torch.log(clipped_preds), torch.log(labels)))
    return rmse.item()
'''),
        ("numpy: returns a numpy.float64", '''
import numpy as np


def log_rmse(net, features, labels):
    with torch.no_grad():
        preds = np.maximum(net(features).numpy().astype(np.float64), 1.0)
    diff = np.log(preds) - np.log(labels.numpy().astype(np.float64))
    return np.sqrt(np.mean(diff ** 2))
'''),
        ("math.sqrt of a float mean", '''
def log_rmse(net, features, labels):
    preds = net(features).clamp(min=1)
    return math.sqrt(float(((preds.log() - labels.log()) ** 2).mean()))
'''),
    ],
    "get_k_fold_data": [
        ("the book's code", '''
def get_k_fold_data(k, i, X, y):
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid
'''),
        ("slices around the validation fold", '''
def get_k_fold_data(k, i, X, y):
    size = len(X) // k
    lo, hi, end = i * size, (i + 1) * size, k * size
    X_train = torch.cat([X[:lo], X[hi:end]])
    y_train = torch.cat([y[:lo], y[hi:end]])
    return X_train, y_train, X[lo:hi], y[lo:hi]
'''),
    ],
}

VACUOUS = {
    "perceptron_train": ("returns zero weights and claims convergence", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    return torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype), True
'''),
    "dropout_layer": ("returns its input unchanged", '''
def dropout_layer(X, dropout):
    return X
'''),
    "xavier_uniform_": ("returns the tensor untouched", '''
def xavier_uniform_(tensor, gain=1.0):
    return tensor
'''),
    "log_rmse": ("returns a constant Python float", '''
def log_rmse(net, features, labels):
    return 1.0
'''),
}
