"""The requests that run student code: ``call`` a function, build and drive a ``module``, run a
grader-written ``scenario``; each answer carries the from-scratch violations seen (``Forbid``),
and a ``call`` with ``count_ops`` the ATen operators its student code ran."""

from __future__ import annotations

import sys

import torch

from . import objects as grader_objects
from .fromscratch import Forbid, code_objects, register_grader_code, trusted
from .loading import NS, lookup
from .values import (
    BatchIterable,
    CallLog,
    TrustedModule,
    describe_exception,
    export,
    import_value,
    seed_all,
)


def _run(request: dict, body, grader_code: frozenset = frozenset()):
    count_ops = bool(request.get("count_ops"))
    watch = Forbid(list(request.get("forbid", [])), count_ops, grader_code)
    seed_all(request.get("seed"))
    try:
        with watch:
            answer = body()
        answer["ok"] = True
    except BaseException as exc:  # noqa: BLE001
        answer = {"ok": False, "error": describe_exception(exc)}
    answer["violations"] = watch.violations()
    if count_ops:
        answer["ops"] = watch.ops()
    return answer


def op_call(request: dict) -> dict:
    objects: dict = {}

    def body():
        fn = lookup(request["name"])
        vjp = request.get("vjp")
        with trusted():
            args = import_value(request.get("args", []), NS, objects)
            kwargs = import_value(request.get("kwargs", {}), NS, objects)
            if vjp:
                for i in vjp["wrt"]:
                    args[i] = args[i].detach().clone().requires_grad_(True)
        result = fn(*args, **kwargs)
        answer = {"result": export(result)}
        if vjp:
            if not isinstance(result, torch.Tensor):
                raise TypeError(f"expected a tensor result to differentiate, got {type(result)}")
            if not result.requires_grad:
                answer["grads"] = [None for _ in vjp["wrt"]]
            else:
                with trusted():
                    grads = torch.autograd.grad(result, [args[i] for i in vjp["wrt"]],
                                                vjp["grad_output"], allow_unused=True)
                answer["grads"] = [export(g) for g in grads]
        if request.get("return_args"):
            answer["args"] = [export(a) for a in args]
            answer["arg_grads"] = [
                export(a.grad) if isinstance(a, torch.Tensor) else None for a in args]
        answer["objects"] = {
            k: (export(v) if not isinstance(v, CallLog) else {"calls": v.calls})
            for k, v in objects.items()
        }
        return answer

    return _run(request, body)


def op_module(request: dict) -> dict:
    objects: dict = {}

    def body():
        cls = lookup(request["name"])
        with trusted():
            init_args = import_value(request.get("init_args", []), NS, objects)
            init_kwargs = import_value(request.get("init_kwargs", {}), NS, objects)
        module = cls(*init_args, **init_kwargs)
        answer = {"type": export(module) if not isinstance(module, torch.nn.Module) else None,
                  "param_names": [n for n, _ in module.named_parameters()]
                  if isinstance(module, torch.nn.Module) else None}
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"{request['name']}(...) built a {type(module).__name__}, "
                            "expected a torch.nn.Module")
        if "state_dict" in request:
            with trusted():
                module.load_state_dict(request["state_dict"], strict=True)
        module.train(request.get("train", True))
        steps = []
        for step in request.get("steps", []):
            seed_all(step.get("seed"))
            wrt = step.get("wrt", [])
            with trusted():
                args = import_value(step.get("args", []), NS, objects)
                for i in wrt:
                    args[i] = args[i].detach().clone().requires_grad_(True)
            method = getattr(module, step.get("method", "__call__"))
            out = method(*args)
            record = {"output": export(out)}
            if "grad_output" in step:
                with trusted():
                    module.zero_grad(set_to_none=True)
                    outputs = out if isinstance(out, (tuple, list)) else (out,)
                    grads = step["grad_output"]
                    grads = grads if isinstance(grads, (tuple, list)) else (grads,)
                    pairs = [(o, g) for o, g in zip(outputs, grads)
                             if isinstance(o, torch.Tensor) and o.requires_grad]
                    if pairs:
                        torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
                record["input_grads"] = [export(args[i].grad) for i in wrt]
                record["param_grads"] = {n: export(p.grad) for n, p in module.named_parameters()}
            steps.append(record)
        answer["steps"] = steps
        answer["state_dict"] = {k: export(v) for k, v in module.state_dict().items()}
        return answer

    return _run(request, body)


def op_scenario(request: dict) -> dict:
    objects: dict = {}
    code = compile(request["source"], "<grader scenario>", "exec")

    def body():
        scope = {"torch": torch, "trusted": trusted, "export": export,
                 "BatchIterable": BatchIterable, "TrustedModule": TrustedModule, "lookup": lookup,
                 "objects": grader_objects}
        exec(code, scope)  # noqa: S102 - the grader's own scenario
        with trusted():
            args = import_value(request.get("args", []), NS, objects)
        return {"result": export(scope["scenario"](NS, *args))}

    return _run(request, body, code_objects(code))


OPS = {"call": op_call, "module": op_module, "scenario": op_scenario}

# Imported in the fork server before any student code: the sandbox package's own code (these
# modules, and their siblings already imported) is the grader code that may enter ``trusted()``.
register_grader_code(*[module for name, module in list(sys.modules.items())
                   if name == __package__ or name.startswith(f"{__package__}.")])
