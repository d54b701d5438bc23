"""Reference solutions for ch03, Linear neural networks (线性神经网络).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.
"""

import torch


def synthetic_data(w, b, num_examples):
    """Generate a linear regression data set ``y = Xw + b + noise``.

    Draw ``X`` of shape ``(num_examples, len(w))`` from the standard normal distribution with
    torch's global random number generator, and add Gaussian noise with standard deviation
    0.01 to the targets. Return ``(X, y)`` with ``y`` of shape ``(num_examples, 1)``. Both use
    the default floating dtype.
    """
    ### BEGIN SOLUTION
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))
    ### END SOLUTION


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place.

    For every tensor ``param`` in ``params``, subtract ``lr * param.grad / batch_size`` from it
    in place (without recording the update in the autograd graph), then set its gradient to
    zero. Do not use ``torch.optim``. Returns ``None``.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
    ### END SOLUTION


def softmax(X):
    """Row-wise softmax of a 2-D tensor of logits.

    ``softmax(X)[i, j] = exp(X[i, j]) / sum_k exp(X[i, k])``. Keep ``X``'s dtype, shape and
    device. It must stay finite for logits as large as ±1e4 (subtract each row's maximum first).
    Build it from ``exp`` and ``sum``: ``torch.softmax`` and friends are not allowed.
    """
    ### BEGIN SOLUTION
    X_shifted = X - X.max(dim=1, keepdim=True).values
    X_exp = torch.exp(X_shifted)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
    ### END SOLUTION
