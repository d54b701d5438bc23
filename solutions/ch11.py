"""Reference solutions for ch11, Optimization algorithms (优化算法).

Each exercise's docstring is the student's specification. The lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are removed from the student release.

The optimizers follow the book's protocol: ``update(params, states, hyperparams)`` where
``params`` is a list of leaf tensors whose ``.grad`` holds the minibatch gradient, ``states``
the optimizer's state (one entry per parameter, as the matching ``init_*_states`` builds it)
and ``hyperparams`` a dict. Each update changes parameters and states in place (under
``torch.no_grad()``) and zeroes every ``p.grad`` afterwards. ``torch.optim`` may not be used.
"""

import math

import torch

# --- 11.3 Gradient descent -----------------------------------------------------------------------


def gd(eta, f_grad):
    """Gradient descent in 1-D from ``x = 10.0`` for 10 steps: ``x -= eta * f_grad(x)``.

    Return the 11 iterates as Python floats, the start first (the book's ``gd``; it also prints
    the last one, which is optional).

    <!-- zh -->
    一维梯度下降：从 ``x = 10.0`` 出发走 10 步，每步 ``x -= eta * f_grad(x)``。

    以 Python 浮点数返回 11 个迭代值，起点在最前（即书中的 ``gd``；书中还会打印最后一个
    迭代值，打印是可选的）。
    """
    ### BEGIN SOLUTION
    x = 10.0
    results = [x]
    for _ in range(10):
        x -= eta * f_grad(x)
        results.append(float(x))
    print(f"epoch 10, x: {x:f}")
    return results
    ### END SOLUTION


def train_2d(trainer, steps=20, f_grad=None):
    """Optimise a 2-D objective with a custom trainer; return the trajectory (book's ``train_2d``).

    Start at ``x1, x2 = -5, -2`` with trainer state ``s1, s2 = 0, 0``. Each of the ``steps``
    steps calls ``x1, x2, s1, s2 = trainer(x1, x2, s1, s2)`` when ``f_grad`` is ``None``, else
    ``trainer(x1, x2, s1, s2, f_grad)``. Return the list of the ``steps + 1`` points
    ``(x1, x2)``, the start first. (The book also prints the last point; printing is optional.)

    <!-- zh -->
    用自定义的训练器优化一个二维目标函数，返回优化轨迹（书中的 ``train_2d``）。

    从 ``x1, x2 = -5, -2`` 出发，训练器状态为 ``s1, s2 = 0, 0``。共 ``steps`` 步，每一步在
    ``f_grad`` 为 ``None`` 时调用 ``x1, x2, s1, s2 = trainer(x1, x2, s1, s2)``，否则调用
    ``trainer(x1, x2, s1, s2, f_grad)``。返回由 ``steps + 1`` 个点 ``(x1, x2)`` 组成的列表，
    起点在最前。（书中还会打印最后一个点；打印是可选的。）
    """
    ### BEGIN SOLUTION
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for _ in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f"epoch {steps}, x1: {float(x1):f}, x2: {float(x2):f}")
    return results
    ### END SOLUTION


# --- 11.5 Minibatch stochastic gradient descent --------------------------------------------------


def sgd(params, states, hyperparams):
    """Minibatch SGD in the chapter's protocol: ``p -= hyperparams['lr'] * p.grad``.

    ``states`` is unused (the book passes ``None``). Update each parameter in place and zero its
    gradient. Same rule as ``torch.optim.SGD(params, lr)``.

    <!-- zh -->
    按本章约定实现的小批量随机梯度下降：``p -= hyperparams['lr'] * p.grad``。

    ``states`` 不使用（书中传入 ``None``）。原地更新每个参数，并把它的梯度清零。更新规则与
    ``torch.optim.SGD(params, lr)`` 相同。
    """
    ### BEGIN SOLUTION
    for p in params:
        p.data.sub_(hyperparams["lr"] * p.grad)
        p.grad.data.zero_()
    ### END SOLUTION


# --- 11.6 Momentum -------------------------------------------------------------------------------


def init_momentum_states(feature_dim):
    """The momentum state of a linear model: zeros ``(v_w, v_b)``.

    Shapes ``(feature_dim, 1)`` and ``(1,)``, float32, one per parameter of ``(w, b)``.

    <!-- zh -->
    线性模型的动量法状态：全零的 ``(v_w, v_b)``。

    形状分别为 ``(feature_dim, 1)`` 和 ``(1,)``，类型为 float32，分别对应 ``(w, b)`` 中的
    一个参数。
    """
    ### BEGIN SOLUTION
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)
    ### END SOLUTION


def sgd_momentum(params, states, hyperparams):
    """SGD with momentum: ``v = momentum * v + p.grad`` then ``p -= lr * v``.

    ``states`` holds one velocity tensor ``v`` per parameter (same shape), updated in place;
    ``hyperparams`` has ``'lr'`` and ``'momentum'``. Zero each gradient afterwards. Same rule as
    ``torch.optim.SGD(params, lr, momentum=momentum)`` (dampening 0).

    <!-- zh -->
    动量法：先 ``v = momentum * v + p.grad``，再 ``p -= lr * v``。

    ``states`` 为每个参数保存一个速度张量 ``v``（形状与参数相同），原地更新；``hyperparams``
    含有 ``'lr'`` 和 ``'momentum'``。之后把每个梯度清零。更新规则与
    ``torch.optim.SGD(params, lr, momentum=momentum)``（dampening 为 0）相同。
    """
    ### BEGIN SOLUTION
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams["momentum"] * v + p.grad
            p[:] -= hyperparams["lr"] * v
        p.grad.data.zero_()
    ### END SOLUTION


# --- 11.7 AdaGrad --------------------------------------------------------------------------------


def init_adagrad_states(feature_dim):
    """AdaGrad's (and RMSProp's) state of a linear model: zeros ``(s_w, s_b)``.

    Shapes ``(feature_dim, 1)`` and ``(1,)``, float32, one per parameter of ``(w, b)``.

    <!-- zh -->
    线性模型的 AdaGrad（以及 RMSProp）状态：全零的 ``(s_w, s_b)``。

    形状分别为 ``(feature_dim, 1)`` 和 ``(1,)``，类型为 float32，分别对应 ``(w, b)`` 中的
    一个参数。
    """
    ### BEGIN SOLUTION
    s_w = torch.zeros((feature_dim, 1))
    s_b = torch.zeros(1)
    return (s_w, s_b)
    ### END SOLUTION


def adagrad(params, states, hyperparams):
    """AdaGrad: ``s += p.grad ** 2`` then ``p -= lr * p.grad / sqrt(s + eps)`` with ``eps = 1e-6``.

    ``states`` holds one ``s`` per parameter, updated in place; ``hyperparams`` has ``'lr'``.
    Zero each gradient afterwards. Epsilon sits inside the square root as in the book
    (``torch.optim.Adagrad`` adds it outside, so the two differ slightly).

    <!-- zh -->
    AdaGrad：先 ``s += p.grad ** 2``，再 ``p -= lr * p.grad / sqrt(s + eps)``，其中
    ``eps = 1e-6``。

    ``states`` 为每个参数保存一个 ``s``，原地更新；``hyperparams`` 含有 ``'lr'``。之后把每个
    梯度清零。和书中一样，epsilon 位于平方根之内（``torch.optim.Adagrad`` 把它加在平方根之外，
    所以两者略有不同）。
    """
    ### BEGIN SOLUTION
    eps = 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] += torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()
    ### END SOLUTION


# --- 11.8 RMSProp --------------------------------------------------------------------------------


def rmsprop(params, states, hyperparams):
    """RMSProp: ``s = gamma * s + (1 - gamma) * p.grad ** 2``, ``p -= lr * p.grad / sqrt(s + eps)``.

    ``eps = 1e-6`` inside the square root as in the book (``torch.optim.RMSprop`` with
    ``alpha=gamma`` adds it outside). ``states`` holds one ``s`` per parameter (the book's
    ``init_rmsprop_states`` is AdaGrad's); ``hyperparams`` has ``'lr'`` and ``'gamma'``. Zero
    each gradient afterwards.

    <!-- zh -->
    RMSProp：``s = gamma * s + (1 - gamma) * p.grad ** 2``，
    ``p -= lr * p.grad / sqrt(s + eps)``。

    和书中一样，``eps = 1e-6`` 位于平方根之内（``torch.optim.RMSprop`` 取 ``alpha=gamma`` 时
    把它加在平方根之外）。``states`` 为每个参数保存一个 ``s``（书中的
    ``init_rmsprop_states`` 与 AdaGrad 的相同）；``hyperparams`` 含有 ``'lr'`` 和 ``'gamma'``。
    之后把每个梯度清零。
    """
    ### BEGIN SOLUTION
    gamma, eps = hyperparams["gamma"], 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()
    ### END SOLUTION


# --- 11.9 Adadelta -------------------------------------------------------------------------------


def adadelta(params, states, hyperparams):
    """Adadelta with ``eps = 1e-5``; ``states`` holds one pair ``(s, delta)`` per parameter.

    ``s = rho * s + (1 - rho) * g ** 2``; ``g' = sqrt(delta + eps) / sqrt(s + eps) * g``;
    ``p -= g'``; ``delta = rho * delta + (1 - rho) * g' ** 2`` (``g = p.grad``, ``rho =
    hyperparams['rho']``, no learning rate). Same rule as ``torch.optim.Adadelta(params, lr=1.0,
    rho=rho, eps=1e-5)``. States in place; zero each gradient afterwards.

    <!-- zh -->
    Adadelta，``eps = 1e-5``；``states`` 为每个参数保存一对 ``(s, delta)``。

    ``s = rho * s + (1 - rho) * g ** 2``；``g' = sqrt(delta + eps) / sqrt(s + eps) * g``；
    ``p -= g'``；``delta = rho * delta + (1 - rho) * g' ** 2``（其中 ``g = p.grad``，
    ``rho = hyperparams['rho']``，没有学习率）。更新规则与
    ``torch.optim.Adadelta(params, lr=1.0, rho=rho, eps=1e-5)`` 相同。原地更新状态；之后把
    每个梯度清零。
    """
    ### BEGIN SOLUTION
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * torch.square(p.grad)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()
    ### END SOLUTION


# --- 11.10 Adam ----------------------------------------------------------------------------------


def init_adam_states(feature_dim):
    """Adam's state of a linear model: ``((v_w, s_w), (v_b, s_b))``, all zeros.

    ``v_w, s_w`` have shape ``(feature_dim, 1)``, ``v_b, s_b`` shape ``(1,)``, float32.

    <!-- zh -->
    线性模型的 Adam 状态：``((v_w, s_w), (v_b, s_b))``，全为零。

    ``v_w, s_w`` 的形状为 ``(feature_dim, 1)``，``v_b, s_b`` 的形状为 ``(1,)``，类型为
    float32。
    """
    ### BEGIN SOLUTION
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))
    ### END SOLUTION


def adam(params, states, hyperparams):
    """Adam with ``beta1, beta2, eps = 0.9, 0.999, 1e-6`` and bias correction.

    ``states`` holds one pair ``(v, s)`` per parameter; ``hyperparams`` has ``'lr'`` and the
    step counter ``'t'`` (1 at the first step). ``v = beta1 v + (1 - beta1) g``,
    ``s = beta2 s + (1 - beta2) g ** 2``, ``v_hat = v / (1 - beta1 ** t)``,
    ``s_hat = s / (1 - beta2 ** t)``, ``p -= lr * v_hat / (sqrt(s_hat) + eps)``; after all
    parameters, ``hyperparams['t'] += 1``. Same rule as ``torch.optim.Adam(params, lr,
    eps=1e-6)``. States in place; zero each gradient afterwards.

    <!-- zh -->
    Adam，``beta1, beta2, eps = 0.9, 0.999, 1e-6``，带偏差校正。

    ``states`` 为每个参数保存一对 ``(v, s)``；``hyperparams`` 含有 ``'lr'`` 和步数计数器
    ``'t'``（第一步时为 1）。``v = beta1 v + (1 - beta1) g``，
    ``s = beta2 s + (1 - beta2) g ** 2``，``v_hat = v / (1 - beta1 ** t)``，
    ``s_hat = s / (1 - beta2 ** t)``，``p -= lr * v_hat / (sqrt(s_hat) + eps)``；所有参数都
    更新完之后执行 ``hyperparams['t'] += 1``。更新规则与
    ``torch.optim.Adam(params, lr, eps=1e-6)`` 相同。原地更新状态；之后把每个梯度清零。
    """
    ### BEGIN SOLUTION
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1
    ### END SOLUTION


def yogi(params, states, hyperparams):
    """Yogi: Adam with ``s = s + (1 - beta2) * sign(g ** 2 - s) * g ** 2`` and ``eps = 1e-3``.

    Everything else as in ``adam`` (``beta1, beta2 = 0.9, 0.999``, bias correction, ``'t'``
    incremented once per call). ``torch.optim`` has no Yogi.

    <!-- zh -->
    Yogi：在 Adam 的基础上改用 ``s = s + (1 - beta2) * sign(g ** 2 - s) * g ** 2``，并取
    ``eps = 1e-3``。

    其他都与 ``adam`` 相同（``beta1, beta2 = 0.9, 0.999``，带偏差校正，每次调用把 ``'t'``
    加一）。``torch.optim`` 中没有 Yogi。
    """
    ### BEGIN SOLUTION
    beta1, beta2, eps = 0.9, 0.999, 1e-3
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = s + (1 - beta2) * torch.sign(torch.square(p.grad) - s) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1
    ### END SOLUTION


# --- 11.11 Learning-rate scheduling --------------------------------------------------------------


class SquareRootScheduler:
    """``scheduler(num_update)`` returns ``lr * (num_update + 1) ** -0.5`` (``lr`` default 0.1).

    <!-- zh -->
    ``scheduler(num_update)`` 返回 ``lr * (num_update + 1) ** -0.5``（``lr`` 默认为 0.1）。"""

    def __init__(self, lr=0.1):
        ### BEGIN SOLUTION
        self.lr = lr
        ### END SOLUTION

    def __call__(self, num_update):
        ### BEGIN SOLUTION
        return self.lr * pow(num_update + 1.0, -0.5)
        ### END SOLUTION


class FactorScheduler:
    """Multiply the rate by ``factor`` at every call, never below ``stop_factor_lr``.

    ``FactorScheduler(factor=1, stop_factor_lr=1e-7, base_lr=0.1)``; each call (its argument
    ``num_update`` is ignored, as in the book) sets ``base_lr = max(stop_factor_lr, base_lr *
    factor)`` and returns it: the first call already returns ``0.1 * factor``.

    <!-- zh -->
    每次调用都把学习率乘以 ``factor``，但不低于 ``stop_factor_lr``。

    ``FactorScheduler(factor=1, stop_factor_lr=1e-7, base_lr=0.1)``；每次调用（和书中一样，
    忽略参数 ``num_update``）令 ``base_lr = max(stop_factor_lr, base_lr * factor)`` 并返回它：
    第一次调用返回的就已经是 ``0.1 * factor``。
    """

    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        ### BEGIN SOLUTION
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr
        ### END SOLUTION

    def __call__(self, num_update):
        ### BEGIN SOLUTION
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr
        ### END SOLUTION


class CosineScheduler:
    """Cosine schedule with linear warm-up (the book's ``CosineScheduler``).

    ``CosineScheduler(max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
    warmup_begin_lr=0)``. ``scheduler(epoch)``: for ``epoch < warmup_steps`` return
    ``warmup_begin_lr + (base_lr - warmup_begin_lr) * epoch / warmup_steps``; for
    ``warmup_steps <= epoch <= max_update`` return ``final_lr + (base_lr - final_lr) *
    (1 + cos(pi * (epoch - warmup_steps) / (max_update - warmup_steps))) / 2``; after
    ``max_update`` keep returning ``final_lr``.

    <!-- zh -->
    带线性预热的余弦调度器（书中的 ``CosineScheduler``）。

    ``CosineScheduler(max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
    warmup_begin_lr=0)``。``scheduler(epoch)``：当 ``epoch < warmup_steps`` 时返回
    ``warmup_begin_lr + (base_lr - warmup_begin_lr) * epoch / warmup_steps``；当
    ``warmup_steps <= epoch <= max_update`` 时返回 ``final_lr + (base_lr - final_lr) *
    (1 + cos(pi * (epoch - warmup_steps) / (max_update - warmup_steps))) / 2``；超过
    ``max_update`` 之后一直返回 ``final_lr``。
    """

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        ### BEGIN SOLUTION
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps
        self.base_lr = base_lr
        ### END SOLUTION

    def __call__(self, epoch):
        ### BEGIN SOLUTION
        if epoch < self.warmup_steps:
            increase = ((self.base_lr_orig - self.warmup_begin_lr)
                        * float(epoch) / float(self.warmup_steps))
            return self.warmup_begin_lr + increase
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        else:
            self.base_lr = self.final_lr
        return self.base_lr
        ### END SOLUTION


class MultiFactorScheduler:
    """Multiply ``base_lr`` by ``factor`` at each milestone in ``step`` (a sorted list).

    ``MultiFactorScheduler(step, factor=1, base_lr=0.1)``; ``scheduler(epoch)`` returns
    ``base_lr * factor ** k`` where ``k`` counts the milestones ``s`` in ``step`` with
    ``s <= epoch``: the semantics of ``torch.optim.lr_scheduler.MultiStepLR(optimizer,
    milestones=step, gamma=factor)``, which the book uses. Calls may come in any order.

    <!-- zh -->
    在 ``step``（一个有序列表）中的每个里程碑处把 ``base_lr`` 乘以 ``factor``。

    ``MultiFactorScheduler(step, factor=1, base_lr=0.1)``；``scheduler(epoch)`` 返回
    ``base_lr * factor ** k``，其中 ``k`` 是 ``step`` 中满足 ``s <= epoch`` 的里程碑 ``s`` 的
    个数：即书中所用的 ``torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=step,
    gamma=factor)`` 的语义。调用可以按任意顺序进行。
    """

    def __init__(self, step, factor=1, base_lr=0.1):
        ### BEGIN SOLUTION
        self.step = list(step)
        self.factor = factor
        self.base_lr = base_lr
        ### END SOLUTION

    def __call__(self, epoch):
        ### BEGIN SOLUTION
        k = sum(1 for s in self.step if s <= epoch)
        return self.base_lr * self.factor ** k
        ### END SOLUTION
