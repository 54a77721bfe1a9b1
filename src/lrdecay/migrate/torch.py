"""Importers of PyTorch schedulers: :func:`from_torch` reads a live ``torch.optim.lr_scheduler``
object; :func:`read_torch_state` reads a torch scheduler's ``state_dict()`` for
``ScheduleLR.load_state_dict``.

A torch scheduler's step is the number of ``scheduler.step()`` calls: run the schedule with
``ScheduleLR(..., clock="calls")`` wherever ``step()`` was called (once per epoch or once per
batch). When ``step()`` followed every ``optimizer.step()``, ``clock="updates"`` (the default)
gives the same numbers and also skips the updates AMP drops. Nothing here imports torch."""

from __future__ import annotations

import math
import numbers

from lrdecay.compose.nodes import Join
from lrdecay.migrate.common import Unsupported, check_step, live_schedules, same_for_all
from lrdecay.migrate.hf import hf_lambda
from lrdecay.schedules.annealing import cosine_annealing, cosine_annealing_warm_restarts
from lrdecay.schedules.cyclical import cyclic, one_cycle
from lrdecay.schedules.shapes import (
    constant,
    exponential,
    linear,
    multistep_decay,
    polynomial,
    step_decay,
    swalr,
)

#: torch schedulers whose step() multiplies the current lr by a ratio (chainable), so that a
#: ChainedScheduler of them is the product of their closed forms.
_MULTIPLICATIVE = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")


def from_torch(scheduler, group: int | None = None, *, on_mismatch: str = "raise"):
    """The lrdecay schedule that gives ``scheduler``'s learning rates, a live
    ``torch.optim.lr_scheduler`` object (SequentialLR and ChainedScheduler included) or
    ``torch.optim.swa_utils.SWALR``.

    ``schedule(n)`` is the rate after ``n`` calls of ``scheduler.step()``: use it with
    ``ScheduleLR(optimizer, schedule, clock="calls")``. Returns one schedule when every param
    group gets the same, else a list (one per group); ``group=i`` returns group ``i``'s.
    ``LambdaLR``/``MultiplicativeLR`` (a Python function lrdecay can't read, except Hugging
    Face's own, which are recognized), ``ReduceLROnPlateau`` (driven by a metric) and custom
    scheduler classes raise ``ValueError`` saying what to write instead.

    Each group's live lr must be the schedule's value at the scheduler's step: an lr set by
    hand, a changed ``last_epoch`` or an ``initial_lr`` that is not the lr is refused, naming the
    group and both values, unless ``on_mismatch="rescale"`` (the schedule scaled to continue
    from the live lr, as torch's multiplicative schedulers do)."""
    if isinstance(scheduler, dict):
        raise TypeError("from_torch takes a live torch scheduler; to resume from a torch "
                        "state_dict, give it to ScheduleLR.load_state_dict")
    name = _torch_class(scheduler)
    groups = scheduler.optimizer.param_groups
    schedules = hf_lambda(scheduler) if name == "LambdaLR" else None
    if schedules is None:
        schedules = _torch_schedules(name, _torch_attrs(scheduler), groups, "scheduler")
    schedules = live_schedules(schedules, groups, _torch_step(scheduler), on_mismatch, f"the {name}")
    if group is not None:
        if isinstance(group, bool) or not isinstance(group, numbers.Integral) or not 0 <= group < len(groups):
            raise ValueError(f"group must be an int in [0, {len(groups)}), got {group!r}")
        return schedules[int(group)]
    return same_for_all(schedules)


def _torch_step(scheduler) -> int:
    """A live scheduler's step (``last_epoch``; a ChainedScheduler's first child's)."""
    while not hasattr(scheduler, "last_epoch") and getattr(scheduler, "_schedulers", None):
        scheduler = scheduler._schedulers[0]
    return check_step("scheduler.last_epoch", getattr(scheduler, "last_epoch", 0))


def takeover_arguments(scheduler, on_mismatch: str = "raise") -> dict:
    """``ScheduleLR``'s arguments that continue the live torch ``scheduler``: ``schedule``,
    ``hyperparams`` (OneCycleLR/CyclicLR momentum) or, for a ReduceLROnPlateau, the current rates
    and a ``plateau`` (see :func:`plateau_from_torch`); and ``step``, where its clock starts."""
    if _torch_class(scheduler) == "ReduceLROnPlateau":
        schedules, plateau = plateau_from_torch(scheduler)
        return {"schedule": schedules, "plateau": plateau, "step": check_step("scheduler.last_epoch",
                                                                                scheduler.last_epoch)}
    return {"schedule": from_torch(scheduler, on_mismatch=on_mismatch),
            "hyperparams": torch_hyperparams(scheduler) or None, "step": _torch_step(scheduler)}


def plateau_from_torch(scheduler) -> tuple:
    """``(schedules, plateau)`` that carry on a torch ``ReduceLROnPlateau``: each group's current
    rate as a constant, and an :class:`lrdecay.Plateau` with torch's rule, arguments and
    counters (best, bad epochs, cooldown), not synchronized across processes (as torch's).
    Reducing the current rate gives what torch's reductions of it give: ``max(lr * factor,
    min_lr)`` when that lowers it by more than ``eps``."""
    from lrdecay.training.plateau import Plateau

    if _torch_class(scheduler) != "ReduceLROnPlateau":
        raise TypeError(f"scheduler must be a torch ReduceLROnPlateau, got {type(scheduler).__name__}")
    groups = scheduler.optimizer.param_groups
    min_lrs = list(scheduler.min_lrs)
    plateau = Plateau(mode=scheduler.mode, factor=scheduler.factor, patience=scheduler.patience,
                      threshold=scheduler.threshold, threshold_mode=scheduler.threshold_mode,
                      cooldown=scheduler.cooldown, eps=scheduler.eps, rule="torch", sync="none",
                      min_lr=min_lrs[0] if len(set(min_lrs)) == 1 else tuple(min_lrs))
    best = float(scheduler.best)
    plateau.load_state_dict({
        "best": best if math.isfinite(best) else None,
        "num_bad_epochs": int(scheduler.num_bad_epochs),
        "cooldown_counter": int(scheduler.cooldown_counter),
        "factors": [1.0] * plateau.num_groups,
        "num_reductions": 0,
        "num_metrics": int(scheduler.last_epoch),
    })
    return same_for_all([constant(float(g["lr"])) for g in groups]), plateau


def torch_hyperparams(scheduler) -> dict:
    """The momentum curves a torch ``OneCycleLR``/``CyclicLR`` with ``cycle_momentum=True``
    writes, as ``ScheduleLR``'s ``hyperparams`` (``{"momentum": ...}`` or, where the optimizer
    has ``betas``, ``{"beta1": ...}``, one schedule per group); ``{}`` for every other scheduler."""
    return _momentum_curves(_torch_class(scheduler), _torch_attrs(scheduler), scheduler.optimizer.param_groups,
                            "scheduler")


def _momentum_curves(name: str, attrs: dict, groups: list, where: str) -> dict:
    if name not in ("OneCycleLR", "CyclicLR") or not attrs.get("cycle_momentum"):
        return {}
    missing = [k for k in ("base_momentum", "max_momentum") if any(k not in g for g in groups)]
    if missing:
        raise ValueError(f"{name} keeps {missing[0]!r} in the optimizer's param groups: load the "
                         "optimizer's state_dict before the scheduler's")
    lrs = _torch_schedules(name, attrs, groups, where)
    curves = [lr.momentum(g["base_momentum"], g["max_momentum"]) for lr, g in zip(lrs, groups)]
    return {"beta1" if attrs.get("use_beta1") else "momentum": same_for_all(curves)}


def _torch_class(scheduler) -> str:
    try:
        from torch.optim import lr_scheduler, swa_utils
    except ImportError:  # pragma: no cover - a torch scheduler implies torch
        raise TypeError(f"scheduler must be a torch lr scheduler, got {type(scheduler).__name__}") from None
    cls = type(scheduler)
    name = cls.__name__
    if getattr(lr_scheduler, name, None) is cls or getattr(swa_utils, name, None) is cls:
        return name
    if isinstance(scheduler, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)):
        base = next(c.__name__ for c in cls.__mro__[1:] if getattr(lr_scheduler, c.__name__, None) is c)
        raise Unsupported(f"{name} subclasses torch's {base} and may compute other rates; build its "
                           "schedule with lrdecay (see docs/migration.md)")
    raise TypeError(f"scheduler must be a torch.optim.lr_scheduler object, got {name}")


def _torch_attrs(scheduler) -> dict:
    """What torch's ``state_dict()`` holds (``__dict__`` without the optimizer), children as
    ``(class name, attrs)`` pairs."""
    attrs = {k: v for k, v in vars(scheduler).items() if k != "optimizer"}
    if "_schedulers" in attrs:
        attrs["_schedulers"] = [(_torch_class(s), _torch_attrs(s)) for s in attrs["_schedulers"]]
    return attrs


#: key sets that identify a torch scheduler class in its state_dict
_TORCH_KEYS = [
    ("SequentialLR", {"_schedulers", "_milestones"}),
    ("ChainedScheduler", {"_schedulers"}),
    ("OneCycleLR", {"total_steps", "_schedule_phases"}),
    ("CyclicLR", {"max_lrs", "total_size", "step_ratio"}),
    ("CosineAnnealingWarmRestarts", {"T_0", "T_mult", "eta_min"}),
    ("CosineAnnealingLR", {"T_max", "eta_min"}),
    ("ReduceLROnPlateau", {"patience", "cooldown", "threshold_mode"}),
    ("LinearLR", {"start_factor", "end_factor", "total_iters"}),
    ("ConstantLR", {"factor", "total_iters"}),
    ("PolynomialLR", {"total_iters", "power"}),
    ("MultiStepLR", {"milestones", "gamma"}),
    ("StepLR", {"step_size", "gamma"}),
    ("SWALR", {"anneal_epochs", "_anneal_strategy", "_step_count"}),
    ("LambdaLR", {"lr_lambdas"}),
    ("ExponentialLR", {"gamma"}),
]


def torch_state_class(state) -> str | None:
    """The torch scheduler class a ``state_dict()`` comes from, told by its keys (None when it
    isn't one)."""
    if not isinstance(state, dict) or not ("last_epoch" in state or "_schedulers" in state):
        return None
    return next((name for name, keys in _TORCH_KEYS if keys <= state.keys()), None)


def _state_first(state: dict, key: str):
    """``state[key]``, or the first child's for SequentialLR/ChainedScheduler (which keep no
    ``base_lrs``; ChainedScheduler no ``last_epoch``)."""
    while key not in state and state.get("_schedulers"):
        state = state["_schedulers"][0]
    if key not in state:
        raise ValueError(f"torch state_dict has no {key!r}")
    return state[key]


def read_torch_state(state: dict, groups: list) -> dict:
    """What a torch scheduler's ``state_dict()`` drives, for ``ScheduleLR.load_state_dict``
    (``groups``: the optimizer's param groups, where OneCycleLR and CyclicLR keep their peaks and
    momentum bounds): ``name`` (its class), ``count`` (``last_epoch``, checked), ``bases``
    (``base_lrs``), ``lr`` (one schedule per group; None, with the reason in ``unsupported``,
    when it has no closed form), ``hyperparams`` (OneCycleLR/CyclicLR's momentum curves, as
    :func:`torch_hyperparams`) and ``last_lr`` (the rates it set last, or None)."""
    name = torch_state_class(state)
    if name is None:
        raise ValueError("state_dict is neither a ScheduleLR state nor a torch scheduler's state_dict")
    count = check_step("state_dict['last_epoch']", _state_first(state, "last_epoch"))
    try:
        lr, unsupported = torch_state_schedules(state, groups), None
    except Unsupported as error:  # e.g. a LambdaLR: nothing to check against
        lr, unsupported = None, str(error)
    hyperparams = {}
    if lr is not None:
        curves = _momentum_curves(name, _state_attrs(name, state), groups, "state_dict")
        hyperparams = {k: v if isinstance(v, list) else [v] * len(groups) for k, v in curves.items()}
    last = state.get("_last_lr")
    return {"name": name, "count": count, "bases": [float(b) for b in _state_first(state, "base_lrs")],
            "lr": lr, "unsupported": unsupported, "hyperparams": hyperparams,
            "last_lr": None if last is None else [float(r) for r in last]}


def same_values(mine, theirs, count: int) -> bool:
    """Equal schedules, or equal values (rel 1e-9) at every step up to ``count`` and well past
    both the saved step and the end of torch's schedule."""
    if mine == theirs:
        return True
    import numpy as np

    horizon = min(max(count, int(min(theirs.duration or 0, 10**6))) * 2 + 1000, 2 * 10**6)
    steps = np.arange(horizon + 1, dtype=np.float64)
    a, b = mine(steps), theirs(steps)
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12 * float(np.max(np.abs(b)) or 1.0)))


def torch_state_schedules(state: dict, groups: list) -> list:
    """One schedule per param group for a torch scheduler's ``state_dict()`` (``groups``: the
    optimizer's param groups, where OneCycleLR keeps ``max_lr``)."""
    name = torch_state_class(state)
    if name is None:
        raise ValueError("state_dict is neither a ScheduleLR state nor a torch scheduler's state_dict")
    return _torch_schedules(name, _state_attrs(name, state), groups, "state_dict")


def _state_attrs(name: str, state: dict) -> dict:
    attrs = dict(state)
    if "_schedulers" in attrs:
        children = []
        for i, child in enumerate(attrs["_schedulers"]):
            child_name = torch_state_class(child)
            if child_name is None:
                raise ValueError(f"state_dict['_schedulers'][{i}] is not a torch scheduler's state_dict")
            children.append((child_name, _state_attrs(child_name, child)))
        attrs["_schedulers"] = children
    return attrs


def _torch_schedules(name: str, attrs: dict, groups: list, where: str) -> list:
    if name == "SequentialLR":
        children = [_torch_schedules(n, a, groups, f"{where}._schedulers[{i}]")
                    for i, (n, a) in enumerate(attrs["_schedulers"])]
        return [Join(tuple(per_group), tuple(attrs["_milestones"])) for per_group in zip(*children)]
    if name == "ChainedScheduler":
        return _torch_chain(attrs["_schedulers"], groups, where)
    build = _TORCH_BUILDERS.get(name)
    if build is None:
        raise Unsupported(f"{where}: {_TORCH_REFUSALS.get(name, name + ' has no lrdecay closed form')}")
    return [build(attrs, base, group, i) for i, (base, group) in enumerate(zip(attrs["base_lrs"], groups))]


def _torch_chain(children: list, groups: list, where: str) -> list:
    """ChainedScheduler steps every child in turn and each multiplies the current lr by its
    ratio, so the rate is the first child's times the others' factors (their rate at lr 1).
    A child that sets the rate instead (OneCycleLR, CosineAnnealingLR, ...) breaks the product."""
    for i, (name, _) in enumerate(children):
        if name not in _MULTIPLICATIVE:
            raise Unsupported(f"{where}._schedulers[{i}]: {name} inside a ChainedScheduler sets the lr "
                               "rather than multiplying it by a factor, so the chain has no closed form; "
                               f"only {', '.join(_MULTIPLICATIVE)} chain as a product (write the schedule "
                               "with lrdecay's *, join or sequence)")
    first = _torch_schedules(*children[0], groups, f"{where}._schedulers[0]")
    out = []
    for i, (schedule, group) in enumerate(zip(first, groups)):
        for name, attrs in children[1:]:
            schedule = schedule * _TORCH_BUILDERS[name](attrs, 1.0, group, i)
        out.append(schedule)
    return out


def _one_cycle(attrs, base, group, i):
    missing = [k for k in ("max_lr", "min_lr", "initial_lr") if k not in group]
    if missing:
        raise ValueError(f"OneCycleLR keeps {missing[0]!r} in the optimizer's param groups: load the "
                         "optimizer's state_dict before the scheduler's")
    phases = attrs["_schedule_phases"]
    total = attrs["total_steps"]
    return one_cycle(
        group["max_lr"], total,
        pct_start=(phases[0]["end_step"] + 1) / total,
        anneal_strategy=attrs.get("_anneal_func_type", "cos"),
        div_factor=group["max_lr"] / group["initial_lr"],
        final_div_factor=group["initial_lr"] / group["min_lr"],
        three_phase=len(phases) == 3,
    )


def _cyclic(attrs, base, group, i):
    if attrs.get("_scale_fn_custom") is not None:
        raise Unsupported("CyclicLR with a custom scale_fn: multiply lrdecay.cyclic(...) by a "
                           "schedule for the scaling instead")
    total, ratio = attrs["total_size"], attrs["step_ratio"]
    up = total * ratio
    if abs(up - round(up)) <= 1e-9 * total:
        up = float(round(up))
    return cyclic(base, attrs["max_lrs"][i], step_size_up=up, step_size_down=total - up,
                  mode=attrs["mode"], gamma=attrs["gamma"])


def _milestones(counter) -> list:
    return sorted(m for m, n in dict(counter).items() for _ in range(n))


# With total_iters=0, torch's step() applies ConstantLR's factor (LinearLR's start_factor) at
# step 0 and never lifts it, and PolynomialLR never decays: what a run with them really got.
def _constant_lr(a, base, g, i):
    if not a["total_iters"]:
        return constant(base * a["factor"])
    return Join((constant(base * a["factor"]), constant(base)), (a["total_iters"],))


def _linear_lr(a, base, g, i):
    if not a["total_iters"]:
        return constant(base * a["start_factor"])
    return linear(base * a["start_factor"], base * a["end_factor"], a["total_iters"])


def _polynomial_lr(a, base, g, i):
    return polynomial(base, a["total_iters"], a["power"]) if a["total_iters"] else constant(base)


def _swalr(a, base, g, i):
    """SWALR anneals from the rate the group had when it took over (``start``); torch doesn't keep
    it but recovers it from the current rate at each step, and so does this: ``lr = swa_lr * c +
    start * (1 - c)`` at the scheduler's step."""
    step = a["_step_count"] - 1
    epochs = a["anneal_epochs"]
    t = 1.0 if epochs == 0 else min(1.0, max(0, step) / max(1, epochs))
    c = t if a["_anneal_strategy"] == "linear" else (1 - math.cos(math.pi * t)) / 2
    lr, swa = float(a["_last_lr"][i]), float(g["swa_lr"])  # the rate torch set at that step
    start = swa if c == 1 else (lr - c * swa) / (1 - c)
    return swalr(start, swa, epochs, a["_anneal_strategy"])


_TORCH_BUILDERS = {
    "StepLR": lambda a, base, g, i: step_decay(base, a["step_size"], a["gamma"]),
    "MultiStepLR": lambda a, base, g, i: multistep_decay(base, _milestones(a["milestones"]), a["gamma"]),
    "ConstantLR": _constant_lr,
    "LinearLR": _linear_lr,
    "ExponentialLR": lambda a, base, g, i: exponential(base, a["gamma"]),
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingLR": lambda a, base, g, i: cosine_annealing(base, a["T_max"], a["eta_min"]),
    "CosineAnnealingWarmRestarts": lambda a, base, g, i: cosine_annealing_warm_restarts(
        base, a["T_0"], a["T_mult"], a["eta_min"]),
    "OneCycleLR": _one_cycle,
    "CyclicLR": _cyclic,
    "SWALR": _swalr,
}

_TORCH_REFUSALS = {
    "LambdaLR": "LambdaLR holds a Python function lrdecay can't read; write the lambda as an lrdecay "
                "schedule (the rate, or a factor with ScheduleLR(mode='factor')), see docs/migration.md",
    "MultiplicativeLR": "MultiplicativeLR holds a Python function lrdecay can't read; write the product "
                        "of its factors as an lrdecay schedule, see docs/migration.md",
    "ReduceLROnPlateau": "ReduceLROnPlateau follows a metric, not the step: ScheduleLR.from_torch(scheduler) "
                         "carries it on, or write ScheduleLR(optimizer, lrdecay.constant(lr), "
                         "plateau=lrdecay.Plateau(...)) with torch's arguments (see docs/plateau.md)",
}
