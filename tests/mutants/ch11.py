"""Realistic mistakes for ch11; each must lose points."""

MUTANTS = {
    "gd": [
        ("adds the gradient (ascent)", '''
def gd(eta, f_grad):
    x = 10.0
    results = [x]
    for _ in range(10):
        x += eta * f_grad(x)
        results.append(float(x))
    return results
'''),
        ("leaves out the starting point", '''
def gd(eta, f_grad):
    x = 10.0
    results = []
    for _ in range(10):
        x -= eta * f_grad(x)
        results.append(float(x))
    return results
'''),
    ],
    "train_2d": [
        ("resets the trainer state at every step", '''
def train_2d(trainer, steps=20, f_grad=None):
    x1, x2 = -5, -2
    results = [(x1, x2)]
    for _ in range(steps):
        args = (x1, x2, 0, 0) + ((f_grad,) if f_grad else ())
        x1, x2, _, _ = trainer(*args)
        results.append((x1, x2))
    return results
'''),
        ("ignores f_grad", '''
def train_2d(trainer, steps=20, f_grad=None):
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for _ in range(steps):
        x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    return results
'''),
    ],
    "sgd": [
        ("divides by a batch size of 10 as in chapter 3", '''
def sgd(params, states, hyperparams):
    with torch.no_grad():
        for p in params:
            p -= hyperparams["lr"] * p.grad / 10
            p.grad.zero_()
'''),
        ("forgets to zero the gradients", '''
def sgd(params, states, hyperparams):
    with torch.no_grad():
        for p in params:
            p -= hyperparams["lr"] * p.grad
'''),
    ],
    "init_momentum_states": [
        ("b's state has w's shape", '''
def init_momentum_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros((feature_dim, 1)))
'''),
        ("b's state is a 0-d scalar", '''
def init_momentum_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.tensor(0.0))
'''),
    ],
    "sgd_momentum": [
        ("rebinds v instead of updating the state in place", '''
def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v = hyperparams["momentum"] * v + p.grad
            p -= hyperparams["lr"] * v
        p.grad.zero_()
'''),
        ("dampens the gradient by (1 - momentum)", '''
def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v.mul_(hyperparams["momentum"]).add_((1 - hyperparams["momentum"]) * p.grad)
            p -= hyperparams["lr"] * v
        p.grad.zero_()
'''),
    ],
    "init_adagrad_states": [
        ("starts at one", '''
def init_adagrad_states(feature_dim):
    return (torch.ones((feature_dim, 1)), torch.ones(1))
'''),
        ("w's state is a row", '''
def init_adagrad_states(feature_dim):
    return (torch.zeros((1, feature_dim)), torch.zeros(1))
'''),
    ],
    "adagrad": [
        ("epsilon outside the square root", '''
def adagrad(params, states, hyperparams):
    for p, s in zip(params, states):
        with torch.no_grad():
            s += p.grad ** 2
            p -= hyperparams["lr"] * p.grad / (torch.sqrt(s) + 1e-6)
        p.grad.zero_()
'''),
        ("steps before accumulating the gradient", '''
def adagrad(params, states, hyperparams):
    for p, s in zip(params, states):
        with torch.no_grad():
            p -= hyperparams["lr"] * p.grad / torch.sqrt(s + 1e-6)
            s += p.grad ** 2
        p.grad.zero_()
'''),
    ],
    "rmsprop": [
        ("weights the new gradient by gamma", '''
def rmsprop(params, states, hyperparams):
    gamma = hyperparams["gamma"]
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = (1 - gamma) * s + gamma * p.grad ** 2
            p -= hyperparams["lr"] * p.grad / torch.sqrt(s + 1e-6)
        p.grad.zero_()
'''),
        ("divides by s instead of its square root", '''
def rmsprop(params, states, hyperparams):
    gamma = hyperparams["gamma"]
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * p.grad ** 2
            p -= hyperparams["lr"] * p.grad / (s + 1e-6)
        p.grad.zero_()
'''),
    ],
    "adadelta": [
        ("updates delta with the raw gradient", '''
def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * p.grad ** 2
            g = torch.sqrt(delta + eps) / torch.sqrt(s + eps) * p.grad
            p -= g
            delta[:] = rho * delta + (1 - rho) * p.grad ** 2
        p.grad.zero_()
'''),
        ("updates delta before rescaling the gradient", '''
def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * p.grad ** 2
            delta[:] = rho * delta + (1 - rho) * p.grad ** 2
            p -= torch.sqrt(delta + eps) / torch.sqrt(s + eps) * p.grad
        p.grad.zero_()
'''),
    ],
    "init_adam_states": [
        ("(v, s) grouped per kind instead of per parameter", '''
def init_adam_states(feature_dim):
    return ((torch.zeros((feature_dim, 1)), torch.zeros(1)),
            (torch.zeros((feature_dim, 1)), torch.zeros(1)))
'''),
        ("v and s are the same tensor", '''
def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, v_w), (v_b, v_b))
'''),
    ],
    "adam": [
        ("no bias correction", '''
def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * p.grad ** 2
            p -= hyperparams["lr"] * v / (torch.sqrt(s) + eps)
        p.grad.zero_()
    hyperparams["t"] += 1
'''),
        ("increments t once per parameter", '''
def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * p.grad ** 2
            t = hyperparams["t"]
            p -= hyperparams["lr"] * (v / (1 - beta1 ** t)) / (
                torch.sqrt(s / (1 - beta2 ** t)) + eps)
        p.grad.zero_()
        hyperparams["t"] += 1
'''),
    ],
    "yogi": [
        ("Adam's update of s", '''
def yogi(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-3
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * p.grad ** 2
            t = hyperparams["t"]
            p -= hyperparams["lr"] * (v / (1 - beta1 ** t)) / (
                torch.sqrt(s / (1 - beta2 ** t)) + eps)
        p.grad.zero_()
    hyperparams["t"] += 1
'''),
        ("the sign reversed", '''
def yogi(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-3
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            g2 = p.grad ** 2
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = s + (1 - beta2) * torch.sign(s - g2) * g2
            t = hyperparams["t"]
            p -= hyperparams["lr"] * (v / (1 - beta1 ** t)) / (
                torch.sqrt(s.abs() / (1 - beta2 ** t)) + eps)
        p.grad.zero_()
    hyperparams["t"] += 1
'''),
    ],
    "SquareRootScheduler": [
        ("counts updates from 0 inside the root", '''
class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr / math.sqrt(max(num_update, 1))
'''),
        ("decays like 1 / t", '''
class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr / (num_update + 1)
'''),
    ],
    "FactorScheduler": [
        ("returns the rate before decaying it", '''
class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update):
        lr = self.base_lr
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return lr
'''),
        ("no floor", '''
class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.base_lr = factor, base_lr

    def __call__(self, num_update):
        self.base_lr *= self.factor
        return self.base_lr
'''),
    ],
    "MultiFactorScheduler": [
        ("decays only after passing a milestone (>)", '''
class MultiFactorScheduler:
    def __init__(self, step, factor=1, base_lr=0.1):
        self.step, self.factor, self.base_lr = step, factor, base_lr

    def __call__(self, epoch):
        return self.base_lr * self.factor ** sum(epoch > s for s in self.step)
'''),
        ("decays at every call past a milestone", '''
class MultiFactorScheduler:
    def __init__(self, step, factor=1, base_lr=0.1):
        self.step, self.factor, self.lr = step, factor, base_lr

    def __call__(self, epoch):
        if any(epoch >= s for s in self.step):
            self.lr *= self.factor
        return self.lr
'''),
    ],
    "CosineScheduler": [
        ("ignores the warm-up steps in the cosine phase", '''
class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0):
        self.max_update, self.base_lr, self.final_lr = max_update, base_lr, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.warmup_begin_lr + (self.base_lr - self.warmup_begin_lr) * (
                epoch / self.warmup_steps)
        e = min(epoch, self.max_update)
        return self.final_lr + (self.base_lr - self.final_lr) * (
            1 + math.cos(math.pi * e / self.max_update)) / 2
'''),
        ("cosine without the final rate", '''
class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0):
        self.max_update, self.base_lr = max_update, base_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.warmup_begin_lr + (self.base_lr - self.warmup_begin_lr) * (
                epoch / self.warmup_steps)
        e = min(epoch, self.max_update) - self.warmup_steps
        return self.base_lr * (1 + math.cos(
            math.pi * e / (self.max_update - self.warmup_steps))) / 2
'''),
    ],
}
