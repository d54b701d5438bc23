"""Realistic mistakes for ch04; each must lose points."""

MUTANTS = {
    "perceptron_train": [
        ("counts only strictly negative margins as mistakes: never leaves w = 0", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(max_epochs):
        updated = False
        for i in range(n):
            if y[i] * (torch.dot(w, X[i]) + b) < 0:
                w = w + lr * y[i] * X[i]
                b = b + lr * y[i]
                updated = True
        if not updated:
            return w, b, True
    return w, b, False
'''),
        ("batch update: applies the epoch's corrections all at once", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(max_epochs):
        wrong = y * (X @ w + b) <= 0
        if not wrong.any():
            return w, b, True
        w = w + lr * (y[wrong, None] * X[wrong]).sum(0)
        b = b + lr * y[wrong].sum()
    return w, b, False
'''),
        ("forgets the bias update", '''
def perceptron_train(X, y, lr=1.0, max_epochs=100):
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(max_epochs):
        updated = False
        for i in range(n):
            if y[i] * (torch.dot(w, X[i]) + b) <= 0:
                w = w + lr * y[i] * X[i]
                updated = True
        if not updated:
            return w, b, True
    return w, b, False
'''),
    ],
    "relu": [
        ("torch.max(X, 0) reduces over dim 0 instead of comparing with zero", '''
def relu(X):
    return torch.max(X, 0)
'''),
        ("clamps the input in place", '''
def relu(X):
    return X.clamp_(min=0)
'''),
        ("calls the library relu", '''
def relu(X):
    return torch.nn.functional.relu(X)
'''),
    ],
    "mlp": [
        ("forgets the hidden layer's activation", '''
def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    return (X @ W1 + b1) @ W2 + b2
'''),
        ("also applies relu to the output layer", '''
def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    return relu(relu(X @ W1 + b1) @ W2 + b2)
'''),
        ("uses F.linear for the affine maps", '''
def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(torch.nn.functional.linear(X, W1.T, b1))
    return torch.nn.functional.linear(H, W2.T, b2)
'''),
    ],
    "poly_features": [
        ("powers 1..max_degree instead of 0..max_degree-1", '''
def poly_features(x, max_degree):
    x = x.reshape(-1, 1)
    powers = torch.arange(1, max_degree + 1).reshape(1, -1)
    scale = torch.tensor([math.gamma(i + 1) for i in range(1, max_degree + 1)], dtype=x.dtype)
    return torch.pow(x, powers) / scale
'''),
        ("divides by i + 1 instead of i!", '''
def poly_features(x, max_degree):
    x = x.reshape(-1, 1)
    powers = torch.arange(max_degree).reshape(1, -1)
    return torch.pow(x, powers) / (powers + 1).to(x.dtype)
'''),
    ],
    "l2_penalty": [
        ("forgets the 1/2", '''
def l2_penalty(w):
    return torch.sum(w.pow(2))
'''),
        ("takes the norm instead of the squared norm", '''
def l2_penalty(w):
    return torch.norm(w) / 2
'''),
    ],
    "dropout_layer": [
        ("forgets to rescale the kept values", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X
'''),
        ("keeps with probability dropout (mask = rand < dropout)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) < dropout).float()
    return mask * X / (1.0 - dropout)
'''),
        ("no special case for dropout == 1: 0 / 0 gives nan", '''
def dropout_layer(X, dropout):
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)
'''),
        ("multiplies the kept values by 1 - dropout instead of dividing", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X * (1.0 - dropout)
'''),
        ("calls the library dropout", '''
def dropout_layer(X, dropout):
    return torch.nn.functional.dropout(X, dropout, training=True)
'''),
    ],
    "DropoutMLP": [
        ("applies dropout in evaluation mode too", '''
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
        H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
'''),
        ("swaps dropout1 and dropout2", '''
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
        if self.training:
            H1 = dropout_layer(H1, self.dropout2)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout1)
        return self.lin3(H2)
'''),
        ("freezes the mode at construction instead of reading self.training", '''
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
        self.is_training = True

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.is_training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.is_training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
'''),
        ("uses nn.functional.dropout instead of dropout_layer", '''
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
        H1 = torch.nn.functional.dropout(H1, self.dropout1, training=self.training)
        H2 = self.relu(self.lin2(H1))
        H2 = torch.nn.functional.dropout(H2, self.dropout2, training=self.training)
        return self.lin3(H2)
'''),
        ("calls dropout_layer but discards its result", '''
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
        if self.training:
            dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
'''),
    ],
    "xavier_uniform_": [
        ("uses only fan_in in the bound", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(3.0 / fan_in)
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
'''),
        ("forgets the square root", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    a = gain * 6.0 / (fan_in + fan_out)
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
'''),
        ("returns a new tensor instead of initialising in place", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(tensor.shape, dtype=tensor.dtype) * 2 - 1) * a
'''),
        ("calls torch.nn.init", '''
def xavier_uniform_(tensor, gain=1.0):
    return nn.init.xavier_uniform_(tensor, gain)
'''),
    ],
    "xavier_normal_": [
        ("uses the variance as the standard deviation", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    std = gain * 2.0 / (fan_in + fan_out)
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
'''),
        ("draws uniformly with the right variance instead of normally", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
'''),
        ("forgets torch.no_grad(): fails on a parameter that requires grad", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    tensor.normal_(0.0, std)
    return tensor
'''),
        ("applies the gain squared", '''
def xavier_normal_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape
    std = gain ** 2 * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
'''),
    ],
    "log_rmse": [
        ("forgets to clamp the predictions", '''
def log_rmse(net, features, labels):
    preds = net(features)
    return torch.sqrt(torch.mean((torch.log(preds) - torch.log(labels)) ** 2)).item()
'''),
        ("forgets the square root", '''
def log_rmse(net, features, labels):
    preds = torch.clamp(net(features), 1, float("inf"))
    return torch.mean((torch.log(preds) - torch.log(labels)) ** 2).item()
'''),
        ("returns a tensor instead of a float", '''
def log_rmse(net, features, labels):
    preds = torch.clamp(net(features), 1, float("inf"))
    return torch.sqrt(torch.mean((torch.log(preds) - torch.log(labels)) ** 2))
'''),
    ],
    "get_k_fold_data": [
        ("rounds the fold size up", '''
def get_k_fold_data(k, i, X, y):
    fold_size = -(-X.shape[0] // k)
    X_train, y_train = [], []
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        if j == i:
            X_valid, y_valid = X[idx], y[idx]
        else:
            X_train.append(X[idx])
            y_train.append(y[idx])
    return torch.cat(X_train, 0), torch.cat(y_train, 0), X_valid, y_valid
'''),
        ("gives the leftover rows to the last fold", '''
def get_k_fold_data(k, i, X, y):
    fold_size = X.shape[0] // k
    X_train, y_train = [], []
    for j in range(k):
        end = X.shape[0] if j == k - 1 else (j + 1) * fold_size
        idx = slice(j * fold_size, end)
        if j == i:
            X_valid, y_valid = X[idx], y[idx]
        else:
            X_train.append(X[idx])
            y_train.append(y[idx])
    return torch.cat(X_train, 0), torch.cat(y_train, 0), X_valid, y_valid
'''),
        ("returns (X_train, X_valid, y_train, y_valid)", '''
def get_k_fold_data(k, i, X, y):
    fold_size = X.shape[0] // k
    X_train, y_train = [], []
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        if j == i:
            X_valid, y_valid = X[idx], y[idx]
        else:
            X_train.append(X[idx])
            y_train.append(y[idx])
    return torch.cat(X_train, 0), X_valid, torch.cat(y_train, 0), y_valid
'''),
    ],
}
