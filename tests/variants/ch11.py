"""Correct ch11 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "gd": [
        ("a while loop with tensors turned into floats", '''
def gd(eta, f_grad):
    xs = [10.0]
    while len(xs) < 11:
        xs.append(float(xs[-1] - eta * f_grad(xs[-1])))
    return xs
'''),
    ],
    "train_2d": [
        ("the book's code", '''
def train_2d(trainer, steps=20, f_grad=None):
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for i in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f'epoch {i + 1}, x1: {float(x1):f}, x2: {float(x2):f}')
    return results
'''),
        ("keeps the state as a tuple", '''
def train_2d(trainer, steps=20, f_grad=None):
    state = (-5, -2, 0, 0)
    extra = () if f_grad is None else (f_grad,)
    points = [state[:2]]
    for _ in range(steps):
        state = tuple(trainer(*state, *extra))
        points.append(state[:2])
    return points
'''),
    ],
    "sgd": [
        ("in-place sub_ under no_grad, grad set to None", '''
def sgd(params, states, hyperparams):
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=hyperparams["lr"])
            p.grad = None
'''),
    ],
    "init_momentum_states": [
        ("a list comprehension over the shapes", '''
def init_momentum_states(feature_dim):
    return tuple(torch.zeros(shape) for shape in ((feature_dim, 1), (1,)))
'''),
    ],
    "sgd_momentum": [
        ("mul_ and add_ in place", '''
def sgd_momentum(params, states, hyperparams):
    with torch.no_grad():
        for p, v in zip(params, states):
            v.mul_(hyperparams["momentum"]).add_(p.grad)
            p.sub_(hyperparams["lr"] * v)
            p.grad.zero_()
'''),
    ],
    "init_adagrad_states": [
        ("zeros_like of explicit tensors", '''
def init_adagrad_states(feature_dim):
    return torch.zeros(feature_dim, 1), torch.zeros(1)
'''),
    ],
    "adagrad": [
        ("addcmul_ and rsqrt", '''
def adagrad(params, states, hyperparams):
    with torch.no_grad():
        for p, s in zip(params, states):
            s.addcmul_(p.grad, p.grad)
            p.sub_(hyperparams["lr"] * p.grad * torch.rsqrt(s + 1e-6))
            p.grad.zero_()
'''),
    ],
    "rmsprop": [
        ("lerp_ towards the squared gradient", '''
def rmsprop(params, states, hyperparams):
    with torch.no_grad():
        for p, s in zip(params, states):
            s.lerp_(p.grad * p.grad, 1 - hyperparams["gamma"])
            p.data -= hyperparams["lr"] * p.grad / (s + 1e-6).sqrt()
            p.grad.data.zero_()
'''),
    ],
    "adadelta": [
        ("mul_/add_ with a temporary for the rescaled gradient", '''
def adadelta(params, states, hyperparams):
    rho = hyperparams["rho"]
    with torch.no_grad():
        for p, (s, delta) in zip(params, states):
            s.mul_(rho).add_((1 - rho) * p.grad ** 2)
            step = ((delta + 1e-5) / (s + 1e-5)).sqrt() * p.grad
            p.sub_(step)
            delta.mul_(rho).add_((1 - rho) * step ** 2)
            p.grad.zero_()
'''),
    ],
    "init_adam_states": [
        ("builds the pairs in a loop", '''
def init_adam_states(feature_dim):
    return tuple((torch.zeros(shape), torch.zeros(shape)) for shape in ((feature_dim, 1), (1,)))
'''),
    ],
    "adam": [
        ("the step size folded into the learning rate", '''
def adam(params, states, hyperparams):
    t, lr = hyperparams["t"], hyperparams["lr"]
    with torch.no_grad():
        for p, (v, s) in zip(params, states):
            v.mul_(0.9).add_(p.grad, alpha=0.1)
            s.mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
            denom = (s / (1 - 0.999 ** t)).sqrt().add_(1e-6)
            p.addcdiv_(v, denom, value=-lr / (1 - 0.9 ** t))
            p.grad.zero_()
    hyperparams["t"] = t + 1
'''),
    ],
    "yogi": [
        ("in-place ops with torch.sign", '''
def yogi(params, states, hyperparams):
    t, lr = hyperparams["t"], hyperparams["lr"]
    with torch.no_grad():
        for p, (v, s) in zip(params, states):
            g2 = p.grad * p.grad
            v.mul_(0.9).add_(0.1 * p.grad)
            s.add_(0.001 * torch.sign(g2 - s) * g2)
            p.sub_(lr * (v / (1 - 0.9 ** t)) / ((s / (1 - 0.999 ** t)).sqrt() + 1e-3))
            p.grad.zero_()
    hyperparams["t"] += 1
'''),
    ],
    "SquareRootScheduler": [
        ("math.sqrt", '''
class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr / math.sqrt(num_update + 1)
'''),
    ],
    "FactorScheduler": [
        ("keeps the current rate in its own attribute", '''
class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.floor, self.lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update):
        self.lr = max(self.lr * self.factor, self.floor)
        return self.lr
'''),
    ],
    "MultiFactorScheduler": [
        ("bisect over the sorted milestones", '''
class MultiFactorScheduler:
    def __init__(self, step, factor=1, base_lr=0.1):
        self.step, self.factor, self.base_lr = sorted(step), factor, base_lr

    def __call__(self, epoch):
        import bisect
        return self.base_lr * self.factor ** bisect.bisect_right(self.step, epoch)
'''),
    ],
    "CosineScheduler": [
        ("the book's code (base_lr set only once an epoch reaches the cosine phase)", '''
class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0,
               warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) \\
                       * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (
                self.base_lr_orig - self.final_lr) * (1 + math.cos(
                math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr
'''),
        ("stateless, clamping the epoch at max_update", '''
class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0):
        self.max_update, self.base_lr, self.final_lr = max_update, base_lr, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.warmup_begin_lr + (self.base_lr - self.warmup_begin_lr) * (
                epoch / self.warmup_steps)
        e = min(epoch, self.max_update) - self.warmup_steps
        cos = math.cos(math.pi * e / (self.max_update - self.warmup_steps))
        return self.final_lr + (self.base_lr - self.final_lr) * (1 + cos) / 2
'''),
    ],
}

VACUOUS = {
    "gd": ("returns the start only", '''
def gd(eta, f_grad):
    return [10.0] * 11
'''),
    "train_2d": ("returns the start only", '''
def train_2d(trainer, steps=20, f_grad=None):
    return [(-5, -2)] * (steps + 1)
'''),
    "sgd": ("does nothing", '''
def sgd(params, states, hyperparams):
    pass
'''),
    "init_momentum_states": ("returns nothing", '''
def init_momentum_states(feature_dim):
    return None
'''),
    "sgd_momentum": ("does nothing", '''
def sgd_momentum(params, states, hyperparams):
    pass
'''),
    "init_adagrad_states": ("returns nothing", '''
def init_adagrad_states(feature_dim):
    return None
'''),
    "adagrad": ("does nothing", '''
def adagrad(params, states, hyperparams):
    pass
'''),
    "rmsprop": ("does nothing", '''
def rmsprop(params, states, hyperparams):
    pass
'''),
    "adadelta": ("does nothing", '''
def adadelta(params, states, hyperparams):
    pass
'''),
    "init_adam_states": ("returns nothing", '''
def init_adam_states(feature_dim):
    return None
'''),
    "adam": ("does nothing", '''
def adam(params, states, hyperparams):
    pass
'''),
    "yogi": ("does nothing", '''
def yogi(params, states, hyperparams):
    pass
'''),
    "SquareRootScheduler": ("always zero", '''
def SquareRootScheduler(lr=0.1):
    return lambda num_update: 0.0
'''),
    "FactorScheduler": ("always zero", '''
def FactorScheduler(factor=1, stop_factor_lr=1e-7, base_lr=0.1):
    return lambda num_update: 0.0
'''),
    "MultiFactorScheduler": ("always zero", '''
def MultiFactorScheduler(step, factor=1, base_lr=0.1):
    return lambda epoch: 0.0
'''),
    "CosineScheduler": ("always zero", '''
def CosineScheduler(max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
    return lambda epoch: 0.0
'''),
}
