"""Hidden checks for ch11, Optimization algorithms (优化算法).

Optimizers are run over a trajectory on a quadratic objective (gradients from ``backward()``,
so an early mistake compounds) and compared after every step with the reference and, where
``torch.optim`` has the same rule, with ``torch.optim``. Each optimizer's state is built by the
scenario in the book's layout, so a mistake in an ``init_*_states`` costs points only there.
"""

import pytest
import torch

import solutions.ch11 as ref
from grader.engine import strategies as draw
from grader.engine.compare import expect, expect_tensor, fail, number, sequence, shape_of, tensor
from grader.engine.plugin import Exercise, exercise
from grader.i18n import _

NO_OPTIM = {"forbid": ("torch.optim.Optimizer",), "scan": ("optim",)}

EXERCISES = {
    "gd": Exercise(points=2),
    "train_2d": Exercise(points=3),
    "sgd": Exercise(points=2, **NO_OPTIM),
    "init_momentum_states": Exercise(points=1),
    "sgd_momentum": Exercise(points=3, **NO_OPTIM),
    "init_adagrad_states": Exercise(points=1),
    "adagrad": Exercise(points=3, **NO_OPTIM),
    "rmsprop": Exercise(points=3, **NO_OPTIM),
    "adadelta": Exercise(points=3, **NO_OPTIM),
    "init_adam_states": Exercise(points=1),
    "adam": Exercise(points=4, **NO_OPTIM),
    "yogi": Exercise(points=3, **NO_OPTIM),
    "SquareRootScheduler": Exercise(points=1),
    "FactorScheduler": Exercise(points=2),
    "MultiFactorScheduler": Exercise(points=2),
    "CosineScheduler": Exercise(points=3),
}

REF = vars(ref)
TOL = {"atol": 1e-9, "rtol": 1e-7}

# The state layout the book's init functions build: one tensor, or one pair, per parameter.
LAYOUT = {"sgd": "none", "sgd_momentum": "one", "adagrad": "one", "rmsprop": "one",
          "adadelta": "pair", "adam": "pair", "yogi": "pair"}
HINTS = {
    "sgd": _("p -= lr * p.grad, then p.grad.zero_()"),
    "sgd_momentum": _("v[:] = momentum * v + p.grad; p[:] -= lr * v (update v in place)"),
    "adagrad": _("s[:] += p.grad ** 2; p[:] -= lr * p.grad / torch.sqrt(s + 1e-6)"),
    "rmsprop": _("s[:] = gamma * s + (1 - gamma) * g ** 2; p[:] -= lr * g / torch.sqrt(s + 1e-6)"),
    "adadelta": _("eps = 1e-5 inside both square roots; update delta with the rescaled gradient "
                  "after the parameter step"),
    "adam": _("beta1, beta2, eps = 0.9, 0.999, 1e-6; divide v and s by (1 - beta ** t); "
              "hyperparams['t'] += 1 once per call, after the loop"),
    "yogi": _("s[:] = s + (1 - beta2) * torch.sign(g ** 2 - s) * g ** 2, eps = 1e-3, and Adam's "
              "bias correction"),
}


# --- optimizer trajectories ----------------------------------------------------------------------


def _trajectory(ns, name, starts, targets, weights, layout, hyperparams, steps):
    """Minimise sum(weight * (p - target) ** 2) with ns[name]; record every step."""
    params = [t.clone().requires_grad_(True) for t in starts]
    ids = [id(p) for p in params]
    if layout == "one":
        states = [torch.zeros_like(t) for t in starts]
    elif layout == "pair":
        states = [(torch.zeros_like(t), torch.zeros_like(t)) for t in starts]
    else:
        states = None
    steps_out = []
    for _step in range(steps):
        loss = sum((w * (p - c) ** 2).sum() for p, c, w in zip(params, targets, weights))
        loss.backward()
        ns[name](params, states, hyperparams)
        flat = [] if states is None else [
            [x.detach().clone() for x in s] if isinstance(s, tuple) else [s.detach().clone()]
            for s in states]
        steps_out.append({"params": [p.detach().clone() for p in params], "states": flat,
                          "grads": [None if p.grad is None else p.grad.clone() for p in params],
                          "t": hyperparams.get("t")})
    return {"steps": steps_out, "same": [id(p) for p in params] == ids,
            "leaf": all(p.is_leaf and p.requires_grad for p in params)}


def _problem(gen, device, dim=3):
    starts = [draw.normal(gen, dim, 1).to(device), draw.normal(gen, 1).to(device)]
    targets = [draw.normal(gen, dim, 1).to(device), draw.normal(gen, 1).to(device)]
    weights = [draw.uniform(gen, dim, 1, low=0.5, high=2.0).to(device),
               draw.uniform(gen, 1, low=0.5, high=2.0).to(device)]
    return starts, targets, weights


def _run(student, name, problem, hyperparams, steps):
    what = (f"{steps} steps of loss.backward() then {name}([w, b], states, {hyperparams}) on a "
            "quadratic, w of shape (3, 1), b of shape (1,), float64")
    got = student.scenario(_trajectory, name, *problem, LAYOUT[name], dict(hyperparams), steps,
                           what=what)
    return got, what


def _compare(got, expected, name, what, source="the reference"):
    steps = sequence(got.get("steps") if isinstance(got, dict) else None, what)
    expect(len(steps) == len(expected), f"{what}: recorded {len(steps)} steps")
    expect(got["same"] and got["leaf"], f"{name} must update the parameters in place under "
           "torch.no_grad() (p[:] -= ... or p.data.sub_(...)), keeping them leaf tensors")
    for k, (g, e) in enumerate(zip(steps, expected)):
        for i, pname in enumerate(("w", "b")):
            expect_tensor(g["params"][i], e["params"][i], what=f"{pname} after step {k + 1}",
                          inputs=f"{what}; expected values from {source}", hint=HINTS[name],
                          **TOL)
            grad = g["grads"][i]
            expect(grad is None or bool((tensor(grad, "p.grad") == 0).all()),
                   f"{pname}.grad is not zero after {name} (step {k + 1}): call p.grad.zero_() "
                   "for every parameter")
        for i, (gs, es) in enumerate(zip(g["states"], e["states"])):
            for j, (x, y) in enumerate(zip(gs, es)):
                expect_tensor(x, y, what=f"state {i} (part {j}) after step {k + 1}",
                              inputs=what, hint=_("update the state tensors in place "
                                "(s[:] = ...), the caller keeps them between calls"), **TOL)
        if e["t"] is not None:
            expect(g["t"] == e["t"], f"hyperparams['t'] is {g['t']} after {k + 1} calls "
                   f"starting from 1; expected {e['t']} (add 1 once per call)")


def _check_reference(student, name, gen, device, hyperparams, steps=6):
    problem = _problem(gen, device)
    got, what = _run(student, name, problem, hyperparams, steps)
    with torch.random.fork_rng(devices=[]):
        expected = _trajectory(REF, name, *problem, LAYOUT[name], dict(hyperparams), steps)
    _compare(got, expected["steps"], name, what)


def _torch_optim(problem, make, steps):
    starts, targets, weights = problem
    params = [t.clone().requires_grad_(True) for t in starts]
    opt = make(params)
    out = []
    for _step in range(steps):
        opt.zero_grad()
        sum((w * (p - c) ** 2).sum() for p, c, w in zip(params, targets, weights)).backward()
        opt.step()
        out.append({"params": [p.detach().clone() for p in params], "states": [], "t": None})
    return out


def _check_torch(student, name, gen, hyperparams, make, steps=6):
    problem = _problem(gen, "cpu")
    got, what = _run(student, name, problem, hyperparams, steps)
    for g in got["steps"] if isinstance(got, dict) else []:
        g["states"] = []
    _compare(got, _torch_optim(problem, make, steps), name, what, source="torch.optim")


@exercise("sgd")
def test_sgd_reference(student, gen, device):
    _check_reference(student, "sgd", gen, device, {"lr": 0.1})


@exercise("sgd")
def test_sgd_torch_optim(student, gen):
    _check_torch(student, "sgd", gen, {"lr": 0.05},
                 lambda ps: torch.optim.SGD(ps, lr=0.05))


@exercise("sgd_momentum", weight=2)
def test_sgd_momentum_reference(student, gen, device):
    _check_reference(student, "sgd_momentum", gen, device, {"lr": 0.05, "momentum": 0.9})


@exercise("sgd_momentum")
def test_sgd_momentum_torch_optim(student, gen):
    _check_torch(student, "sgd_momentum", gen, {"lr": 0.02, "momentum": 0.5},
                 lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.5))


@exercise("adagrad", weight=2)
def test_adagrad_reference(student, gen, device):
    _check_reference(student, "adagrad", gen, device, {"lr": 0.1})


@exercise("adagrad")
def test_adagrad_small_gradients(student, gen, device):
    """Near the optimum eps matters: it sits inside the square root."""
    problem = _problem(gen, device)
    problem[1][:] = [s + 1e-4 for s in problem[0]]
    got, what = _run(student, "adagrad", problem, {"lr": 0.1}, 3)
    expected = _trajectory(REF, "adagrad", *problem, "one", {"lr": 0.1}, 3)
    _compare(got, expected["steps"], "adagrad", what + ", gradients of about 1e-4")


@exercise("rmsprop", weight=2)
def test_rmsprop_reference(student, gen, device):
    _check_reference(student, "rmsprop", gen, device, {"lr": 0.01, "gamma": 0.9})


@exercise("rmsprop")
def test_rmsprop_other_gamma(student, gen, device):
    _check_reference(student, "rmsprop", gen, device, {"lr": 0.05, "gamma": 0.7}, steps=4)


@exercise("adadelta", weight=2)
def test_adadelta_reference(student, gen, device):
    _check_reference(student, "adadelta", gen, device, {"rho": 0.9})


@exercise("adadelta")
def test_adadelta_torch_optim(student, gen):
    _check_torch(student, "adadelta", gen, {"rho": 0.8},
                 lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.8, eps=1e-5))


@exercise("adam", weight=2)
def test_adam_reference(student, gen, device):
    _check_reference(student, "adam", gen, device, {"lr": 0.01, "t": 1})


@exercise("adam")
def test_adam_torch_optim(student, gen):
    _check_torch(student, "adam", gen, {"lr": 0.05, "t": 1},
                 lambda ps: torch.optim.Adam(ps, lr=0.05, eps=1e-6))


@exercise("adam")
@pytest.mark.gpu
def test_adam_on_cuda(student, gen):
    _check_reference(student, "adam", gen, torch.device("cuda"), {"lr": 0.01, "t": 1}, steps=3)


@exercise("yogi", weight=2)
def test_yogi_reference(student, gen, device):
    _check_reference(student, "yogi", gen, device, {"lr": 0.01, "t": 1})


@exercise("yogi")
def test_yogi_later_start(student, gen, device):
    _check_reference(student, "yogi", gen, device, {"lr": 0.1, "t": 3}, steps=4)


# --- state initialisers --------------------------------------------------------------------------


def _init_probe(ns, name, dim):
    """The states, and whether writing to one tensor leaves the others at zero."""
    states = ns[name](dim)
    flat = []
    for s in states:
        flat.extend(s if isinstance(s, (tuple, list)) else [s])
    shared = False
    if all(isinstance(x, torch.Tensor) for x in flat) and flat:
        flat[0].add_(1.0)
        shared = any(bool(x.ne(0).any()) for x in flat[1:])
        flat[0].sub_(1.0)
    return {"states": states, "shared": shared}


def _check_init(student, name, dim, pairs):
    what = f"{name}({dim})"
    got = student.scenario(_init_probe, name, dim, what=what)
    states = sequence(got["states"], what)
    expect(len(states) == 2, f"{what} returned {len(states)} items; expected 2 (one for w, one "
           "for b)")
    shapes = [(dim, 1), (1,)]
    for state, shape, pname in zip(states, shapes, ("w", "b")):
        parts = sequence(state, f"{what}'s state of {pname}") if pairs else [state]
        expect(len(parts) == (2 if pairs else 1), f"{what}: the state of {pname} should be a "
               "pair (v, s)" if pairs else f"{what}: one tensor per parameter")
        for part in parts:
            t = tensor(part, f"{what}'s state of {pname}")
            expect(tuple(t.shape) == shape, f"{what}: the state of {pname} has shape "
                   f"{shape_of(t)}; expected {shape}")
            expect(bool((t == 0).all()), f"{what}: states start at zero")
            expect(t.dtype == torch.float32, f"{what}: dtype {t.dtype}; expected float32")
    expect(not got["shared"], f"{what}: the state tensors share memory; create each with its "
           "own torch.zeros(...)")


@exercise("init_momentum_states")
def test_init_momentum_states(student, gen):
    _check_init(student, "init_momentum_states", draw.sizes(gen, 2, 6), pairs=False)


@exercise("init_adagrad_states")
def test_init_adagrad_states(student, gen):
    _check_init(student, "init_adagrad_states", draw.sizes(gen, 2, 6), pairs=False)


@exercise("init_adam_states")
def test_init_adam_states(student, gen):
    _check_init(student, "init_adam_states", draw.sizes(gen, 2, 6), pairs=True)


# --- gradient descent ---------------------------------------------------------------------------


def _gd_run(ns, eta, coefs):
    def f_grad(x):
        return sum(c * x ** k for k, c in enumerate(coefs))
    return ns["gd"](eta, f_grad)


def _check_gd(student, eta, coefs):
    what = f"gd({eta}, f_grad) with f_grad(x) = sum(c_k x**k), c = {coefs}"
    got = [number(x, what) for x in sequence(student.scenario(_gd_run, eta, coefs, what=what),
                                             what)]
    expected = _gd_run(REF, eta, coefs)
    expect(len(got) == 11, f"{what} returned {len(got)} values; expected 11 (the start 10.0 "
           "and 10 iterates)")
    for k, (g, e) in enumerate(zip(got, expected)):
        expect(abs(g - e) <= 1e-9 * max(1.0, abs(e)),
               f"{what}: iterate {k} is {g!r}; expected {e!r} (x -= eta * f_grad(x))")


@exercise("gd")
def test_gd_book_quadratic(student):
    _check_gd(student, 0.2, [0.0, 2.0])


@exercise("gd")
def test_gd_other_gradients(student, gen):
    eta = round(float(draw.uniform(gen, 1, low=0.01, high=0.1)), 3)
    _check_gd(student, eta, [round(float(c), 3) for c in draw.uniform(gen, 2, low=0.5, high=2)])


def _train_2d_run(ns, eta, momentum, use_f_grad, steps):
    calls = []

    def f_grad(x1, x2):
        return (2 * x1, 4 * x2)

    def grads(x1, x2, fg):
        return fg(x1, x2) if fg is not None else (0.2 * x1, 4 * x2)

    def trainer(x1, x2, s1, s2, fg=None):
        calls.append((x1, x2, s1, s2))
        g1, g2 = grads(x1, x2, fg)
        s1, s2 = momentum * s1 + g1, momentum * s2 + g2
        return x1 - eta * s1, x2 - eta * s2, s1, s2

    if use_f_grad:
        out = ns["train_2d"](trainer, steps, f_grad)
    else:
        out = ns["train_2d"](trainer, steps)
    return {"out": [list(p) for p in out], "calls": calls}


def _check_train_2d(student, eta, momentum, use_f_grad, steps):
    what = (f"train_2d(trainer, {steps}{', f_grad' if use_f_grad else ''}) with a momentum trainer "
            f"(eta={eta}, beta={momentum}) that uses f_grad when given (f = x1² + 2 x2²), else "
            "the gradient of 0.1 x1² + 2 x2²")
    got = student.scenario(_train_2d_run, eta, momentum, use_f_grad, steps, what=what)
    expected = _train_2d_run(REF, eta, momentum, use_f_grad, steps)
    calls = sequence(got["calls"], what)
    expect(len(calls) == steps, f"{what}: the trainer was called {len(calls)} times; expected "
           f"{steps}")
    expect(tuple(calls[0]) == (-5, -2, 0, 0), f"{what}: the first call got {tuple(calls[0])}; "
           "start at x1, x2, s1, s2 = -5, -2, 0, 0")
    out = sequence(got["out"], what)
    expect(len(out) == steps + 1, f"{what} returned {len(out)} points; expected {steps + 1} "
           "(the start and one per step)")
    for k, (g, e) in enumerate(zip(out, expected["out"])):
        g = [number(x, what) for x in sequence(g, what)]
        if len(g) != 2 or max(abs(a - b) for a, b in zip(g, e)) > 1e-9:
            fail(f"{what}: point {k} is {g}; expected {e} (pass s1, s2 back to the trainer)")


@exercise("train_2d", weight=2)
def test_train_2d_momentum_trainer(student):
    _check_train_2d(student, 0.1, 0.5, False, 20)


@exercise("train_2d")
def test_train_2d_with_f_grad(student, gen):
    _check_train_2d(student, 0.4, 0.0, True, draw.sizes(gen, 5, 12))


# --- schedulers ----------------------------------------------------------------------------------


def _schedule(ns, name, kwargs, epochs):
    scheduler = ns[name](**kwargs)
    return [scheduler(e) for e in epochs]


def _check_schedule(student, name, kwargs, epochs, expected=None, source="the reference"):
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    what = f"{name}({args}) called at epochs {epochs[0]}..{epochs[-1]}"
    got = sequence(student.scenario(_schedule, name, kwargs, epochs, what=what), what)
    if expected is None:
        expected = _schedule(REF, name, kwargs, epochs)
    expect(len(got) == len(expected), f"{what}: {len(got)} values")
    for e, g, x in zip(epochs, got, expected):
        g = number(g, what)
        if abs(g - x) > 1e-9 * max(1.0, abs(x)):
            fail(f"{what}: scheduler({e}) returned {g!r}; expected {x!r} (from {source})")


def _torch_lrs(make, n, base_lr):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make(opt)
    out = []
    for _step in range(n):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


@exercise("SquareRootScheduler")
def test_square_root_scheduler(student):
    _check_schedule(student, "SquareRootScheduler", {"lr": 0.1}, list(range(30)))
    _check_schedule(student, "SquareRootScheduler", {"lr": 0.7}, list(range(5)))


@exercise("FactorScheduler")
def test_factor_scheduler_book(student):
    _check_schedule(student, "FactorScheduler",
                    {"factor": 0.9, "stop_factor_lr": 1e-2, "base_lr": 2.0}, list(range(80)))


@exercise("FactorScheduler")
def test_factor_scheduler_torch(student):
    """Above the floor, call k returns ExponentialLR's rate after k + 1 steps."""
    lrs = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8), 21, 0.5)
    _check_schedule(student, "FactorScheduler", {"factor": 0.8, "stop_factor_lr": 1e-9,
                                                 "base_lr": 0.5}, list(range(20)), lrs[1:],
                    source="torch.optim.lr_scheduler.ExponentialLR, one step ahead")


@exercise("MultiFactorScheduler")
def test_multi_factor_scheduler_torch(student):
    lrs = _torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[15, 30],
                                                                    gamma=0.5), 40, 0.5)
    _check_schedule(student, "MultiFactorScheduler", {"step": [15, 30], "factor": 0.5,
                                                      "base_lr": 0.5}, list(range(40)), lrs,
                    source="torch.optim.lr_scheduler.MultiStepLR")


@exercise("MultiFactorScheduler")
def test_multi_factor_scheduler_any_order(student):
    _check_schedule(student, "MultiFactorScheduler", {"step": [3, 4, 9], "factor": 0.1,
                                                      "base_lr": 1.0}, [9, 0, 4, 3, 2, 12])


@exercise("CosineScheduler")
def test_cosine_scheduler_torch(student):
    lrs = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20,
                                                                          eta_min=0.01), 21, 0.3)
    _check_schedule(student, "CosineScheduler", {"max_update": 20, "base_lr": 0.3,
                                                 "final_lr": 0.01}, list(range(21)), lrs,
                    source="torch.optim.lr_scheduler.CosineAnnealingLR")


@exercise("CosineScheduler", weight=2)
def test_cosine_scheduler_warmup(student):
    _check_schedule(student, "CosineScheduler", {"max_update": 20, "base_lr": 0.3,
                                                 "final_lr": 0.01, "warmup_steps": 5,
                                                 "warmup_begin_lr": 0.02}, list(range(30)))
