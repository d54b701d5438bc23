"""ch13 checks of fine-tuning (13.2).

- ``finetune_net``: on a ``torchvision.models.resnet18(weights=None)`` that the sandbox builds
  from a seed the grader knows: state-dict names and shapes, the network's output with the new
  head's weights (so every other layer must be the given ResNet's), and the head's weights drawn
  by Xavier's uniform initialisation (a bound and a Kolmogorov-Smirnov test, never one draw).
- ``finetune_trainer``: on a small network with an ``fc`` layer, the optimizer's type, each
  parameter's group (exactly one), learning rate, weight decay and momentum, and what one step
  does to every parameter, with and without ``param_group``. The order of the groups is free.
"""

import math

import pytest
import torch
import torchvision

import solutions.ch13 as ref
from grader.engine import stats
from grader.engine.compare import expect, expect_equal, expect_tensor, fail
from grader.engine.plugin import exercise
from grader.i18n import _

# --- scenarios (run in the sandbox) ---------------------------------------------------------------


def _finetune_net_run(ns, seed, num_classes, X):
    import torchvision

    with trusted():  # noqa: F821
        torch.manual_seed(seed)
        backbone = torchvision.models.resnet18(weights=None)
    net = ns["finetune_net"](backbone, num_classes)
    info = {"module": isinstance(net, torch.nn.Module)}
    if not info["module"]:
        return info
    state = net.state_dict()
    info["keys"] = {k: list(v.shape) for k, v in state.items()}
    info["fc"] = {k: v for k, v in state.items() if k.startswith("fc.")}
    net.eval()
    with torch.no_grad():
        info["result"] = net(X)
    return info


def _small_net(seed):
    torch.manual_seed(seed)
    return torch.nn.ModuleDict({
        "conv1": torch.nn.Conv2d(3, 4, 3), "bn1": torch.nn.BatchNorm2d(4),
        "layer1": torch.nn.Sequential(torch.nn.Conv2d(4, 4, 1), torch.nn.BatchNorm2d(4)),
        "fc": torch.nn.Linear(4, 3)})


def _trainer_run(ns, seed, learning_rate, param_group, grads):
    with trusted():  # noqa: F821
        torch.manual_seed(seed)
        net = torch.nn.ModuleDict({
            "conv1": torch.nn.Conv2d(3, 4, 3), "bn1": torch.nn.BatchNorm2d(4),
            "layer1": torch.nn.Sequential(torch.nn.Conv2d(4, 4, 1), torch.nn.BatchNorm2d(4)),
            "fc": torch.nn.Linear(4, 3)})
    names = {id(p): n for n, p in net.named_parameters()}
    trainer = ns["finetune_trainer"](net, learning_rate, param_group)
    info = {"sgd": isinstance(trainer, torch.optim.SGD), "type": type(trainer).__name__}
    if not info["sgd"]:
        return info
    info["groups"] = [{"names": [names.get(id(p), "?") for p in group["params"]],
                       "lr": float(group["lr"]),
                       "weight_decay": float(group.get("weight_decay", 0.0)),
                       "momentum": float(group.get("momentum", 0.0))}
                      for group in trainer.param_groups]
    with trusted():  # noqa: F821
        for n, p in net.named_parameters():
            p.grad = grads[n].clone()
        trainer.step()
        info["after"] = {n: p.detach().clone() for n, p in net.named_parameters()}
    return info


# --- checks ---------------------------------------------------------------------------------------


@exercise("finetune_net")
def test_finetune_net(student, gen):
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
    num_classes = 7
    X = torch.randn(2, 3, 32, 32, generator=gen)
    call = "finetune_net(resnet18(weights=None), 7)"
    info = student.scenario(_finetune_net_run, seed, num_classes, X, what=call)
    expect(info["module"], f"{call} must return the network (a torch.nn.Module)")
    torch.manual_seed(seed)
    reference = ref.finetune_net(torchvision.models.resnet18(weights=None), num_classes)
    state = reference.state_dict()
    expect_equal(info["keys"], {k: list(v.shape) for k, v in state.items()},
                 what=f"the state_dict names and shapes of {call}")
    weight = info["fc"]["fc.weight"]
    bound = math.sqrt(6 / (512 + num_classes))
    values = weight.double().reshape(-1)
    if values.abs().max() > bound * (1 + 1e-6):
        fail(f"the new fc.weight of {call} has a value {float(values.abs().max()):.4g} outside "
             f"Xavier's uniform bound ±{bound:.4g} = ±sqrt(6 / (fan_in + fan_out)); initialise "
             "it with nn.init.xavier_uniform_")
    stats.expect_distribution(values, lambda x: ((x + bound) / (2 * bound)).clip(0, 1),
                              what=f"the {values.numel()} entries of the new fc.weight",
                              name=f"U(-{bound:.4g}, {bound:.4g})",
                              hint=_("nn.init.xavier_uniform_(net.fc.weight): uniform on "
                                     "±sqrt(6 / (fan_in + fan_out))"))
    state.update(info["fc"])
    reference.load_state_dict(state)
    reference.eval()
    with torch.no_grad():
        expected = reference(X)
    expect_tensor(info["result"], expected,
                  what=f"{call} in evaluation mode on X of shape (2, 3, 32, 32)", atol=1e-4,
                  rtol=1e-4, hint=_("keep every layer of the given ResNet-18 and its weights; "
                                    "replace only fc"))


@exercise("finetune_trainer")
@pytest.mark.parametrize("param_group", [True, False])
def test_finetune_trainer(student, gen, param_group):
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
    learning_rate = float(0.01 + 0.04 * torch.rand(1, generator=gen))
    net = _small_net(seed)
    grads = {n: torch.randn(p.shape, generator=gen) for n, p in net.named_parameters()}
    call = f"finetune_trainer(net, {learning_rate:.4g}, param_group={param_group})"
    info = student.scenario(_trainer_run, seed, learning_rate, param_group, grads, what=call)
    expect(info["sgd"], f"{call} returned a {info.get('type')}; expected a torch.optim.SGD")
    wanted = {n: learning_rate * (10 if param_group and n.startswith("fc.") else 1)
              for n, _ in net.named_parameters()}
    seen = [n for group in info["groups"] for n in group["names"]]
    for n in wanted:
        if seen.count(n) != 1:
            fail(f"{call}: the parameter {n} is in {seen.count(n)} parameter groups; every "
                 "parameter of net belongs to exactly one")
    expect(len(seen) == len(wanted), f"{call} optimizes parameters that are not net's")
    for group in info["groups"]:
        for n in group["names"]:
            what = f"the learning rate of {n} in {call}"
            expect_equal(group["lr"], wanted[n], what=what, rtol=1e-6)
            expect_equal(group["weight_decay"], 0.001, what=f"the weight decay of {n} in {call}",
                         rtol=1e-9)
            expect_equal(group["momentum"], 0.0, what=f"the momentum of {n} in {call}")
    for n, p in net.named_parameters():
        expected = p.detach() - wanted[n] * (grads[n] + 0.001 * p.detach())
        expect_tensor(info["after"][n], expected, what=f"{n} after one step of {call}",
                      atol=1e-6, rtol=1e-5,
                      hint=_("plain SGD with weight_decay=0.001; the output layer fc at 10 times "
                             "the learning rate when param_group is true"))
