"""Reference solutions for ch04, Multilayer perceptrons (多层感知机).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import math

import torch
from torch import nn


def perceptron_train(X, y, lr=1.0, max_epochs=100):
    """Train a perceptron ``sign(w·x + b)`` with Rosenblatt's learning rule.

    ``X`` has shape ``(n, d)``; ``y`` has shape ``(n,)``, the same floating dtype as ``X``, and
    holds labels ``-1.0`` or ``+1.0``. Start from ``w = 0`` (shape ``(d,)``) and ``b = 0``, both
    with ``X``'s dtype. One epoch visits the examples in index order ``i = 0, 1, ..., n - 1``;
    example ``i`` is a mistake when ``y[i] * (w · X[i] + b) <= 0`` (a point on the boundary
    counts as a mistake, so the very first example always triggers an update), and each mistake
    is corrected at once::

        w = w + lr * y[i] * X[i]
        b = b + lr * y[i]

    Stop as soon as a whole epoch makes no update: the data are then separated and
    ``converged`` is ``True``. If each of the ``max_epochs`` epochs made at least one update,
    stop there with ``converged = False`` (for data that are not linearly separable, such as
    XOR, this always happens).

    Return ``(w, b, converged)``: ``w`` a tensor of shape ``(d,)``, ``b`` a 0-dim tensor (both
    with ``X``'s dtype) and ``converged`` a Python ``bool``. No gradients are involved.
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    for _ in range(max_epochs):
        updated = False
        for i in range(n):
            if y[i] * (torch.dot(w, X[i]) + b) <= 0:
                w = w + lr * y[i] * X[i]
                b = b + lr * y[i]
                updated = True
        if not updated:
            return w, b, True
    return w, b, False
    ### END SOLUTION


def relu(X):
    """The rectified linear unit ``max(x, 0)``, elementwise, from scratch.

    ``X`` is a tensor of any shape and floating dtype; return a new tensor of the same shape,
    dtype and device, differentiable with respect to ``X`` (gradient 1 where ``x > 0`` and 0
    where ``x < 0``). ``torch.relu``, ``F.relu``, ``nn.ReLU`` and ``F.threshold`` are not
    allowed; ``torch.max``/``torch.maximum`` with ``torch.zeros_like(X)``, ``torch.where`` or
    ``clamp`` are fine.
    """
    ### BEGIN SOLUTION
    a = torch.zeros_like(X)
    return torch.max(X, a)
    ### END SOLUTION


def mlp(X, W1, b1, W2, b2):
    """A one-hidden-layer perceptron: the book's ``net(X)`` with its parameters passed in.

    ``W1`` has shape ``(num_inputs, num_hiddens)``, ``b1`` ``(num_hiddens,)``, ``W2``
    ``(num_hiddens, num_outputs)`` and ``b2`` ``(num_outputs,)``. First reshape ``X`` (for
    example a batch of images of shape ``(batch, 1, 28, 28)``) to ``(-1, num_inputs)`` with
    ``num_inputs = W1.shape[0]``, then return ``relu(X @ W1 + b1) @ W2 + b2`` of shape
    ``(batch, num_outputs)``, differentiable with respect to ``X`` and every parameter.

    Call the ``relu`` you wrote above by name (the grader checks ``mlp`` with a reference
    ``relu``, so a bug there does not cost points here). Write the affine maps with ``@`` (or
    ``torch.matmul``): ``F.linear`` and ``nn.Linear`` are not allowed.
    """
    ### BEGIN SOLUTION
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
    ### END SOLUTION


def poly_features(x, max_degree):
    """Rescaled polynomial features for the under-/over-fitting experiment.

    ``x`` is a 1-D tensor of shape ``(n,)`` or a column of shape ``(n, 1)``. Return a tensor of
    shape ``(n, max_degree)`` with ``x``'s dtype whose column ``i`` (``i = 0, ..., max_degree -
    1``) is ``x ** i / i!`` (the book divides by ``math.gamma(i + 1) = i!`` so that high powers
    do not explode). Column 0 is all ones (``0 ** 0 = 1``). Differentiable with respect to
    ``x``; do not modify ``x``.
    """
    ### BEGIN SOLUTION
    x = x.reshape(-1, 1)
    powers = torch.arange(max_degree, device=x.device).reshape(1, -1)
    features = torch.pow(x, powers)
    scale = torch.tensor([math.gamma(i + 1) for i in range(max_degree)], dtype=x.dtype,
                         device=x.device)
    return features / scale
    ### END SOLUTION


def l2_penalty(w):
    """The L2 (weight decay) penalty ``||w||² / 2``.

    ``w`` is a tensor of any shape. Return ``sum(w ** 2) / 2`` as a 0-dim tensor with ``w``'s
    dtype, differentiable with respect to ``w`` (its gradient is ``w`` itself).
    """
    ### BEGIN SOLUTION
    return torch.sum(w.pow(2)) / 2
    ### END SOLUTION


def dropout_layer(X, dropout):
    """Inverted dropout, from scratch.

    Zero each element of ``X`` independently with probability ``dropout`` (``0 <= dropout <=
    1``) and divide the survivors by ``1 - dropout``, so that the expected value of every
    element is unchanged. Draw the mask with torch's global random number generator (e.g.
    ``torch.rand``), so that ``torch.manual_seed`` makes it reproducible. Return a new tensor
    with ``X``'s shape and dtype, differentiable with respect to ``X``: the gradient is
    ``mask / (1 - dropout)``.

    Edge cases: ``dropout == 1`` returns ``torch.zeros_like(X)`` (no division by zero);
    ``dropout == 0`` returns ``X`` unchanged. ``F.dropout``, ``nn.Dropout`` and their relatives
    are not allowed.
    """
    ### BEGIN SOLUTION
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
    ### END SOLUTION


class DropoutMLP(nn.Module):
    """The book's MLP with two hidden layers and dropout after each of them.

    ``forward(X)`` reshapes ``X`` to ``(-1, num_inputs)`` and computes::

        H1 = relu(lin1(X)), then H1 = dropout_layer(H1, self.dropout1)  (training only)
        H2 = relu(lin2(H1)), then H2 = dropout_layer(H2, self.dropout2)  (training only)
        return lin3(H2)

    Dropout is applied only in training mode (``self.training``, switched by ``.train()`` and
    ``.eval()``); in evaluation mode the network is a plain deterministic MLP. Apply dropout by
    calling your ``dropout_layer`` by name (the grader checks this class with a reference
    ``dropout_layer``); ``F.dropout`` and ``nn.Dropout`` are not allowed. ``__init__`` is given:
    keep the parameter names ``lin1``, ``lin2``, ``lin3``.
    """

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
        ### BEGIN SOLUTION
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
        ### END SOLUTION


def xavier_uniform_(tensor, gain=1.0):
    """Xavier (Glorot) uniform initialisation, in place, from scratch.

    ``tensor`` is a 2-D weight of shape ``(fan_out, fan_in)`` (the layout of ``nn.Linear``'s
    ``weight``), possibly an ``nn.Parameter`` that requires grad. Overwrite it in place with
    independent draws from ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``, so that
    the variance is ``gain² · 2 / (fan_in + fan_out)``. Use torch's global random number
    generator (e.g. ``tensor.uniform_``) inside ``torch.no_grad()``, keep the dtype, and return
    the same tensor object. The course goes beyond the book here, which only calls the library:
    ``torch.nn.init`` is not allowed.
    """
    ### BEGIN SOLUTION
    fan_out, fan_in = tensor.shape
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
    ### END SOLUTION


def xavier_normal_(tensor, gain=1.0):
    """Xavier (Glorot) normal initialisation, in place, from scratch.

    ``tensor`` is a 2-D weight of shape ``(fan_out, fan_in)``, possibly an ``nn.Parameter``
    that requires grad. Overwrite it in place with independent draws from ``N(0, std²)``,
    ``std = gain * sqrt(2 / (fan_in + fan_out))``. Use torch's global random number generator
    (e.g. ``tensor.normal_``) inside ``torch.no_grad()``, keep the dtype, and return the same
    tensor object. ``torch.nn.init`` is not allowed.
    """
    ### BEGIN SOLUTION
    fan_out, fan_in = tensor.shape
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
    ### END SOLUTION


def log_rmse(net, features, labels):
    """The root-mean-squared error between logarithms used for the Kaggle house prices.

    ``net`` maps ``features`` of shape ``(n, d)`` to predictions of shape ``(n, 1)``;
    ``labels`` has shape ``(n, 1)`` and is positive. Clamp the predictions to ``[1, inf)`` (a
    prediction below 1 would make the logarithm negative or undefined), then return::

        sqrt(mean((log(clamped_predictions) - log(labels)) ** 2))

    as a Python ``float`` (``.item()``), like the book.
    """
    ### BEGIN SOLUTION
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    rmse = torch.sqrt(torch.mean((torch.log(clipped_preds) - torch.log(labels)) ** 2))
    return rmse.item()
    ### END SOLUTION


def get_k_fold_data(k, i, X, y):
    """The training and validation data of fold ``i`` in ``k``-fold cross-validation.

    ``X`` has shape ``(n, ...)`` and ``y`` has ``n`` rows (shape ``(n,)`` or ``(n, 1)``); ``k >
    1`` and ``0 <= i < k``. With ``fold_size = n // k``, fold ``j`` is rows ``j * fold_size``
    up to (not including) ``(j + 1) * fold_size``; the last ``n - k * fold_size`` rows belong to
    no fold and are dropped, as in the book. Return ``(X_train, y_train, X_valid, y_valid)``:
    the validation set is fold ``i``, the training set the other ``k - 1`` folds concatenated
    in their original order.
    """
    ### BEGIN SOLUTION
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid
    ### END SOLUTION
