"""Switching to lrdecay: importers that build the lrdecay schedule giving the same numbers as a
PyTorch, Hugging Face, timm or Keras schedule.

* :func:`from_torch` reads a live ``torch.optim.lr_scheduler`` object (its ``state_dict()`` goes
  to ``ScheduleLR.load_state_dict``, see :func:`load_torch_state`); :func:`from_hf` takes
  ``transformers.get_scheduler``'s arguments; :func:`from_timm` a timm scheduler object or
  ``create_scheduler_v2``'s arguments; :func:`from_keras` a Keras schedule, its ``get_config()``
  or ``serialize()`` output.
* Each returns absolute learning rates (a schedule of the rate, not of a factor). A torch or timm
  scheduler whose param groups have different rates gives one schedule per group (a list, which
  :class:`lrdecay.torch.ScheduleLR` takes as it is).
* The clock: a torch scheduler's step is the number of ``scheduler.step()`` calls; run the
  schedule with ``ScheduleLR(..., clock="calls")`` wherever ``step()`` was called (once per epoch
  or once per batch). When ``step()`` followed every ``optimizer.step()``, ``clock="updates"``
  (the default) gives the same numbers and also skips the updates AMP drops. Hugging Face and
  Optax count optimizer updates (``"updates"``); Keras its optimizer's ``iterations``; timm counts
  epochs (``t_in_epochs=True``: ``clock="calls"`` with one ``step()`` per epoch, or
  ``per_epoch(schedule, steps_per_epoch)`` on updates) or updates (``step_update``).

``docs/migration.md`` (``python scripts/make_migration_table.py``) maps every scheduler of those
frameworks and Optax's to its lrdecay call, with the importers' output for examples.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys

from .annealing import cosine_annealing, cosine_annealing_warm_restarts, cosine_with_min_lr, tanh_decay, timm_cosine
from .anchors import swalr, timm_poly
from .compose import Cycle, Join, Shift, Warmup
from .cosine import cosine_decay, cosine_decay_restarts
from .cyclic import cyclic, one_cycle
from .decay import exponential_decay, inverse_time_decay, piecewise_constant, polynomial_decay
from .noise import timm_noise
from .schedule import Schedule
from .simple import constant, exponential, linear, multistep_decay, polynomial, step_decay
from .transformer import inverse_sqrt, warmup_stable_decay

__all__ = ["from_torch", "from_hf", "from_timm", "from_keras", "plateau_from_torch", "torch_hyperparams"]


class _Unsupported(ValueError):
    """A scheduler that has no closed form lrdecay can read."""


def _same_for_all(schedules: list):
    return schedules[0] if all(s == schedules[0] for s in schedules) else schedules


# -- PyTorch ---------------------------------------------------------------------------------

#: torch schedulers whose step() multiplies the current lr by a ratio (chainable), so that a
#: ChainedScheduler of them is the product of their closed forms.
_MULTIPLICATIVE = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")


def from_torch(scheduler, group: int | None = None):
    """The lrdecay schedule that gives ``scheduler``'s learning rates, a live
    ``torch.optim.lr_scheduler`` object (SequentialLR and ChainedScheduler included) or
    ``torch.optim.swa_utils.SWALR``.

    ``schedule(n)`` is the rate after ``n`` calls of ``scheduler.step()``: use it with
    ``ScheduleLR(optimizer, schedule, clock="calls")``. Returns one schedule when every param
    group gets the same, else a list (one per group); ``group=i`` returns group ``i``'s.
    ``LambdaLR``/``MultiplicativeLR`` (a Python function lrdecay can't read, except Hugging
    Face's own, which are recognized), ``ReduceLROnPlateau`` (driven by a metric) and custom
    scheduler classes raise ``ValueError`` saying what to write instead."""
    if isinstance(scheduler, dict):
        raise TypeError("from_torch takes a live torch scheduler; to resume from a torch "
                        "state_dict, give it to ScheduleLR.load_state_dict")
    name = _torch_class(scheduler)
    groups = scheduler.optimizer.param_groups
    schedules = _hf_lambda(scheduler) if name == "LambdaLR" else None
    if schedules is None:
        schedules = _torch_schedules(name, _torch_attrs(scheduler), groups, "scheduler")
    if group is not None:
        if isinstance(group, bool) or not isinstance(group, numbers.Integral) or not 0 <= group < len(groups):
            raise ValueError(f"group must be an int in [0, {len(groups)}), got {group!r}")
        return schedules[int(group)]
    return _same_for_all(schedules)


def takeover_arguments(scheduler) -> dict:
    """``ScheduleLR``'s arguments that continue the live torch ``scheduler``: ``schedule``,
    ``hyperparams`` (OneCycleLR/CyclicLR momentum) or, for a ReduceLROnPlateau, the current rates
    and a ``plateau`` (see :func:`plateau_from_torch`)."""
    if _torch_class(scheduler) == "ReduceLROnPlateau":
        schedules, plateau = plateau_from_torch(scheduler)
        return {"schedule": schedules, "plateau": plateau}
    return {"schedule": from_torch(scheduler), "hyperparams": torch_hyperparams(scheduler) or None}


def plateau_from_torch(scheduler) -> tuple:
    """``(schedules, plateau)`` that carry on a torch ``ReduceLROnPlateau``: each group's current
    rate as a constant, and an :class:`lrdecay.Plateau` with torch's rule, arguments and
    counters (best, bad epochs, cooldown), not synchronized across processes (as torch's).
    Reducing the current rate gives what torch's reductions of it give: ``max(lr * factor,
    min_lr)`` when that lowers it by more than ``eps``."""
    from .plateau import Plateau

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
    return _same_for_all([constant(float(g["lr"])) for g in groups]), plateau


def torch_hyperparams(scheduler) -> dict:
    """The momentum curves a torch ``OneCycleLR``/``CyclicLR`` with ``cycle_momentum=True``
    writes, as ``ScheduleLR``'s ``hyperparams`` (``{"momentum": ...}`` or ``{"beta1": ...}``,
    one schedule per group); ``{}`` for every other scheduler."""
    name = _torch_class(scheduler)
    attrs = _torch_attrs(scheduler)
    if name not in ("OneCycleLR", "CyclicLR") or not attrs.get("cycle_momentum"):
        return {}
    groups = scheduler.optimizer.param_groups
    lrs = _torch_schedules(name, attrs, groups, "scheduler")
    curves = [lr.momentum(g["base_momentum"], g["max_momentum"]) for lr, g in zip(lrs, groups)]
    return {"beta1" if attrs.get("use_beta1") else "momentum": _same_for_all(curves)}


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
        raise _Unsupported(f"{name} subclasses torch's {base} and may compute other rates; build its "
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


def load_torch_state(scheduler, state: dict, on_mismatch: str) -> None:
    """``ScheduleLR.load_state_dict`` for a torch scheduler's own ``state_dict()``: check that
    ``scheduler`` gives every param group the rates torch's scheduler gives (same schedule, or
    the same values at every step up to well past the saved one), then take torch's step count
    (``last_epoch``), so the run resumes at the same learning rate. ``on_mismatch``: ``"raise"``,
    ``"use_saved"`` (adopt torch's schedules) or ``"use_new"`` (keep these, take the count)."""
    name = torch_state_class(state)
    groups = scheduler.optimizer.param_groups
    try:
        expected = torch_state_schedules(state, groups)
    except _Unsupported as error:  # e.g. a LambdaLR: nothing to check against
        if on_mismatch != "use_new":
            raise _Unsupported(f"{error}; to resume with this ScheduleLR's schedule at torch's step, pass "
                               "on_mismatch='use_new'") from None
        expected = None
    count = _state_first(state, "last_epoch")
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
        raise ValueError(f"state_dict['last_epoch'] must be an int >= 0, got {count!r}")
    bases = [float(b) for b in _state_first(state, "base_lrs")]
    factor = scheduler.mode == "factor"
    own = scheduler._schedules["lr"]
    for i, (mine, theirs) in enumerate(zip(own, expected or ())):
        rates = None if mine is None else (mine * bases[i] if factor else mine)
        if _same_rates(rates, theirs, int(count)):
            continue
        if on_mismatch == "raise":
            raise ValueError(f"the torch {name} state gives param group {i} the rates of {theirs!r}, this "
                             f"ScheduleLR {rates!r}; build the ScheduleLR with lrdecay.from_torch's schedule, "
                             "or pass on_mismatch='use_saved' (adopt torch's schedule) or 'use_new' (keep "
                             "this one, take torch's step count)")
        if on_mismatch == "use_saved":
            own[i] = theirs / bases[i] if factor else theirs
    if factor:
        scheduler._bases["lr"] = bases
    scheduler._count = int(count)
    scheduler._build_slots()
    scheduler._apply()


def _same_rates(mine, theirs, count: int) -> bool:
    """Equal schedules, or equal values (rel 1e-9) at every step up to ``count`` and well past
    both the saved step and the end of torch's schedule."""
    if mine is None or mine == theirs:
        return mine == theirs
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
        raise _Unsupported(f"{where}: {_TORCH_REFUSALS.get(name, name + ' has no lrdecay closed form')}")
    return [build(attrs, base, group, i) for i, (base, group) in enumerate(zip(attrs["base_lrs"], groups))]


def _torch_chain(children: list, groups: list, where: str) -> list:
    """ChainedScheduler steps every child in turn and each multiplies the current lr by its
    ratio, so the rate is the first child's times the others' factors (their rate at lr 1).
    A child that sets the rate instead (OneCycleLR, CosineAnnealingLR, ...) breaks the product."""
    for i, (name, _) in enumerate(children):
        if name not in _MULTIPLICATIVE:
            raise _Unsupported(f"{where}._schedulers[{i}]: {name} inside a ChainedScheduler sets the lr "
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
        raise _Unsupported("CyclicLR with a custom scale_fn: multiply lrdecay.cyclic(...) by a "
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


def _hf_lambda(scheduler):
    """from_hf's schedules for a Hugging Face LambdaLR (its lambdas are transformers' own
    functions or ``functools.partial``s of them), or None."""
    schedules = []
    for f, base in zip(getattr(scheduler, "lr_lambdas", ()), scheduler.base_lrs):
        func = f.func if isinstance(f, functools.partial) else f
        name = _HF_LAMBDAS.get((getattr(func, "__module__", ""), getattr(func, "__name__", "")))
        if name is None:
            return None
        kwargs = dict(f.keywords) if isinstance(f, functools.partial) else {}
        if name == "cosine_warmup_with_min_lr" and kwargs.get("warmup_lr_rate") is None:
            kwargs.pop("warmup_lr_rate", None)
        if name == "polynomial":
            kwargs.pop("lr_init")
        if name == "cosine_with_min_lr":
            kwargs.setdefault("min_lr_rate", 0.0)
        if name == "warmup_stable_decay":
            kwargs["num_training_steps"] = None
        warm, total = kwargs.pop("num_warmup_steps", None), kwargs.pop("num_training_steps", None)
        schedules.append(from_hf(name, warm, total, learning_rate=base, **kwargs))
    return schedules


_HF_MODULE = "transformers.optimization"
_HF_LAMBDAS = {
    (_HF_MODULE, "_get_constant_lambda"): "constant",
    (_HF_MODULE, "_get_constant_schedule_with_warmup_lr_lambda"): "constant_with_warmup",
    (_HF_MODULE, "_get_linear_schedule_with_warmup_lr_lambda"): "linear",
    (_HF_MODULE, "_get_cosine_schedule_with_warmup_lr_lambda"): "cosine_with_min_lr",
    (_HF_MODULE, "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda"): "cosine_with_restarts",
    (_HF_MODULE, "_get_polynomial_decay_schedule_with_warmup_lr_lambda"): "polynomial",
    (_HF_MODULE, "_get_inverse_sqrt_schedule_lr_lambda"): "inverse_sqrt",
    (_HF_MODULE, "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda"): "cosine_warmup_with_min_lr",
    (_HF_MODULE, "_get_wsd_scheduler_lambda"): "warmup_stable_decay",
}


# -- Hugging Face ----------------------------------------------------------------------------

HF_NAMES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
            "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
            "warmup_stable_decay", "greedy")


def from_hf(name, num_warmup_steps=None, num_training_steps=None, *, learning_rate, **kwargs) -> Schedule:
    """The lrdecay schedule of ``transformers.get_scheduler(name, optimizer, num_warmup_steps,
    num_training_steps, scheduler_specific_kwargs=kwargs)`` for an optimizer whose learning rate
    is ``learning_rate``. Hugging Face counts optimizer updates: ``clock="updates"``.

    Every ``SchedulerType`` is accepted; ``reduce_lr_on_plateau`` and ``greedy`` follow a metric
    and raise ``ValueError`` with the lrdecay equivalent."""
    name = getattr(name, "value", name)  # a transformers SchedulerType
    if name not in HF_NAMES:
        raise ValueError(f"name must be one of {', '.join(HF_NAMES)}, got {name!r}")
    lr = learning_rate
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
        raise ValueError(f"learning_rate must be a number > 0 (the optimizer's lr), got {lr!r}")
    if name in ("reduce_lr_on_plateau", "greedy"):
        raise _Unsupported(f"{name!r} follows a metric, not the step: use ScheduleLR(optimizer, "
                           "lrdecay.constant(lr), plateau=lrdecay.Plateau(...)) (see docs/plateau.md)")
    if name == "constant":
        _no_kwargs(name, kwargs)
        return constant(lr)
    warm = _hf_count("num_warmup_steps", num_warmup_steps, name)
    if name == "constant_with_warmup":
        _no_kwargs(name, kwargs)
        return _hf_warmup(constant(lr), warm)
    if name == "inverse_sqrt":
        _only(name, kwargs, ("timescale",))
        return inverse_sqrt(lr, warm, kwargs.get("timescale"))
    if name == "warmup_stable_decay":
        return _hf_wsd(lr, warm, num_training_steps, kwargs)
    total = _hf_count("num_training_steps", num_training_steps, name)
    if name == "linear":
        _no_kwargs(name, kwargs)
        if total <= warm:  # HF: the warm-up, then max(0, negative) = 0
            return Join((linear(0.0, lr, warm), constant(0.0)), (warm,)) if warm else constant(0.0)
        return _hf_warmup(linear(lr, 0.0, total - warm), warm)
    if name == "cosine":
        _only(name, kwargs, ("num_cycles",))
        return cosine_with_min_lr(lr, warm, total, kwargs.get("num_cycles", 0.5), min_lr_rate=0.0)
    if name == "cosine_with_min_lr":
        _only(name, kwargs, ("num_cycles", "min_lr", "min_lr_rate"))
        return cosine_with_min_lr(lr, warm, total, kwargs.get("num_cycles", 0.5), kwargs.get("min_lr"),
                                  kwargs.get("min_lr_rate"))
    if name == "cosine_warmup_with_min_lr":
        return _hf_cosine_warmup_with_min_lr(lr, warm, total, kwargs)
    if name == "cosine_with_restarts":
        _only(name, kwargs, ("num_cycles",))
        cycles = kwargs.get("num_cycles", 1)
        period = max(1, total - warm) / cycles
        restarts = Cycle(cosine_decay(lr, period), period, limit=max(1, math.ceil(cycles)))
        return _hf_warmup(Join((restarts, constant(0.0)), (max(1, total - warm),)), warm)
    # polynomial
    _only(name, kwargs, ("lr_end", "power"))
    lr_end, power = kwargs.get("lr_end", 1e-7), kwargs.get("power", 1.0)
    if not lr > lr_end:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than learning_rate ({lr})")
    if not total > warm:
        raise ValueError(f"polynomial needs num_training_steps > num_warmup_steps, got {total} and {warm}")
    return _hf_warmup(polynomial_decay(lr, total - warm, end_learning_rate=lr_end, power=power), warm)


def _hf_warmup(schedule, warm):
    """HF's warm-up ``t / max(1, W)`` from 0 to the schedule's start."""
    return Warmup(schedule, warm) if warm else schedule


def _hf_cosine_warmup_with_min_lr(lr, warm, total, kwargs):
    """HF's variant counts one step ahead: warm-up ``(t + 1) / W``, cosine progress
    ``(t - W + 1) / (N - W)``, i.e. ``cosine_with_min_lr`` at ``t + 1``; with ``warmup_lr_rate=r``
    the warm-up is a line from ``r * lr`` at 0 to ``lr`` at ``W - 1``."""
    _only("cosine_warmup_with_min_lr", kwargs, ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"))
    cosine = cosine_with_min_lr(lr, warm, total, kwargs.get("num_cycles", 0.5), kwargs.get("min_lr"),
                                kwargs.get("min_lr_rate"))
    rate = kwargs.get("warmup_lr_rate")
    if rate is None or not warm:
        return Shift(cosine, -1)
    return Join((linear(rate * lr, lr, max(1, warm - 1)), Shift(cosine, -(warm + 1))), (warm,))


def _hf_wsd(lr, warm, total, kwargs):
    _only("warmup_stable_decay", kwargs, ("num_decay_steps", "num_stable_steps", "warmup_type", "decay_type",
                                          "min_lr_ratio", "num_cycles"))
    if "num_decay_steps" not in kwargs:
        raise ValueError("warmup_stable_decay needs num_decay_steps (a scheduler-specific argument)")
    decay = kwargs["num_decay_steps"]
    stable = kwargs.get("num_stable_steps")
    if stable is None:
        if total is None:
            raise ValueError("warmup_stable_decay needs num_training_steps or num_stable_steps")
        stable = total - warm - decay
        if stable < 0:
            raise ValueError(f"warmup_stable_decay: num_warmup_steps + num_decay_steps ({warm} + {decay}) "
                             f"exceed num_training_steps ({total})")
    extra = {"num_cycles": kwargs["num_cycles"]} if kwargs.get("num_cycles", 0.5) != 0.5 else {}
    return warmup_stable_decay(lr, warm, stable, decay, min_lr_ratio=kwargs.get("min_lr_ratio", 0.0),
                               decay_shape=kwargs.get("decay_type", "cosine"),
                               warmup_shape=kwargs.get("warmup_type", "linear"), **extra)


def _hf_count(name, value, scheduler):
    if value is None:
        raise ValueError(f"{scheduler} requires {name}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def _only(name, kwargs, allowed):
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"{name} has no argument {unknown[0]!r} (it takes: {', '.join(allowed) or 'none'})")


def _no_kwargs(name, kwargs):
    _only(name, kwargs, ())


# -- timm ------------------------------------------------------------------------------------

_TIMM_CLASSES = ("CosineLRScheduler", "TanhLRScheduler", "StepLRScheduler", "MultiStepLRScheduler",
                 "PolyLRScheduler", "PlateauLRScheduler", "WSDLRScheduler")
TIMM_NAMES = ("cosine", "tanh", "step", "multistep", "poly", "plateau", "wsd", "rsqrt", "constant")


def from_timm(scheduler, **kwargs):
    """The lrdecay schedule of a timm scheduler: a ``timm.scheduler`` object (one schedule, or a
    list with one per param group when their rates differ), or a ``create_scheduler_v2`` name
    (``"cosine"``, ``"tanh"``, ``"step"``, ``"multistep"``, ``"poly"``) with its keyword
    arguments and ``learning_rate`` (the optimizer's lr).

    ``t`` is timm's: epochs when the scheduler steps on epochs (``t_in_epochs``/
    ``step_on_epochs``: ``clock="calls"`` with one ``step()`` per epoch, or
    ``per_epoch(schedule, steps_per_epoch)``), else updates (``clock="updates"``)."""
    if isinstance(scheduler, str):
        name, attrs = _timm_factory(scheduler, kwargs)
        return _timm_schedule(name, attrs, kwargs["learning_rate"])
    if kwargs:
        raise TypeError(f"from_timm(scheduler) takes no other arguments, got {sorted(kwargs)}")
    name = type(scheduler).__name__
    module = type(scheduler).__module__ or ""
    if not module.startswith("timm.scheduler") or name not in _TIMM_CLASSES:
        raise TypeError(f"scheduler must be a timm.scheduler object or a create_scheduler_v2 name, got {name}")
    if getattr(scheduler, "param_group_field", "lr") != "lr":
        raise _Unsupported(f"{name} schedules {scheduler.param_group_field!r}; from_timm reads lr schedulers")
    attrs = dict(vars(scheduler))
    return _same_for_all([_timm_schedule(name, attrs, base) for base in scheduler.base_values])


def _timm_schedule(name, a, base):
    if name in ("PlateauLRScheduler", "WSDLRScheduler"):
        raise _Unsupported({
            "PlateauLRScheduler": "timm's PlateauLRScheduler follows a metric: use ScheduleLR(optimizer, "
                                  "schedule, plateau=lrdecay.Plateau(mode=..., factor=decay_rate, "
                                  "patience=patience_t)) (see docs/plateau.md)",
            "WSDLRScheduler": "timm's WSDLRScheduler (stable and decay functions) has no lrdecay closed form; "
                              "write it with lrdecay.warmup_stable_decay or sequence(...)",
        }[name])
    warm = dict(warmup_t=a["warmup_t"], warmup_lr_init=a["warmup_lr_init"], warmup_prefix=a["warmup_prefix"])
    cycles = dict(lr_min=a.get("lr_min"), cycle_mul=a.get("cycle_mul"), cycle_decay=a.get("cycle_decay"),
                  cycle_limit=a.get("cycle_limit"))
    if name == "CosineLRScheduler":
        schedule = timm_cosine(base, a["t_initial"], **cycles, **warm, k_decay=a["k_decay"])
    elif name == "TanhLRScheduler":
        schedule = tanh_decay(base, a["t_initial"], lb=a["lb"], ub=a["ub"], **cycles, **warm)
    elif name == "PolyLRScheduler":
        schedule = timm_poly(base, a["t_initial"], power=a["power"], **cycles, **warm, k_decay=a["k_decay"])
    else:
        if name == "StepLRScheduler":
            body = step_decay(base, a["decay_t"], a["decay_rate"])
        else:  # MultiStepLRScheduler: decays once t + 1 reaches a milestone
            body = multistep_decay(base, [m - 1 for m in a["decay_t"]], a["decay_rate"])
        schedule = _timm_warmup(body, base, **warm)
    noise = a.get("noise_range_t")
    if noise is not None:
        schedule = timm_noise(schedule, noise, noise_type=a["noise_type"], noise_pct=a["noise_pct"],
                              noise_std=a["noise_std"], noise_seed=a["noise_seed"])
    return schedule


def _timm_warmup(body, base, warmup_t, warmup_lr_init, warmup_prefix):
    """timm's warm-up of the step schedulers: a line from ``warmup_lr_init`` to ``base`` for
    ``t < warmup_t``, then the schedule at ``t - warmup_t`` (prefix) or at ``t``."""
    if not warmup_t:
        return body
    return Join((linear(warmup_lr_init, base, warmup_t), body if warmup_prefix else Shift(body, -warmup_t)),
                (warmup_t,))


_TIMM_FACTORY = {"cosine": "CosineLRScheduler", "tanh": "TanhLRScheduler", "step": "StepLRScheduler",
                 "multistep": "MultiStepLRScheduler", "poly": "PolyLRScheduler",
                 "plateau": "PlateauLRScheduler", "wsd": "WSDLRScheduler", "rsqrt": "WSDLRScheduler",
                 "constant": "WSDLRScheduler"}
_TIMM_DEFAULTS = dict(num_epochs=300, decay_epochs=None, decay_milestones=(90, 180, 270), cooldown_epochs=0,
                      patience_epochs=10, decay_rate=0.1, min_lr=0.0, warmup_lr=1e-5, warmup_epochs=0,
                      warmup_prefix=False, noise=None, noise_pct=0.67, noise_std=1.0, noise_seed=42,
                      cycle_mul=1.0, cycle_decay=0.1, cycle_limit=1, k_decay=1.0, decay_fn=None,
                      stable_timescale=None, plateau_mode="max", step_on_epochs=True, updates_per_epoch=0)


def _timm_factory(sched, kwargs):
    """``create_scheduler_v2``'s mapping from its arguments to the scheduler's attributes."""
    if sched not in _TIMM_FACTORY:
        raise ValueError(f"sched must be one of {', '.join(TIMM_NAMES)}, got {sched!r}")
    if "learning_rate" not in kwargs:
        raise TypeError("from_timm(name, ...) needs learning_rate= (the optimizer's lr)")
    unknown = sorted(set(kwargs) - set(_TIMM_DEFAULTS) - {"learning_rate"})
    if unknown:
        raise TypeError(f"create_scheduler_v2 has no argument {unknown[0]!r}")
    c = {**_TIMM_DEFAULTS, **kwargs}
    decay_epochs = c["decay_epochs"] if c["decay_epochs"] is not None else (0.2 if sched in ("wsd", "rsqrt") else 90)
    t_initial, warmup_t, decay_t = c["num_epochs"], c["warmup_epochs"], decay_epochs
    milestones = list(c["decay_milestones"])
    if not c["step_on_epochs"]:
        n = c["updates_per_epoch"]
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ValueError(f"updates_per_epoch must be an int > 0 with step_on_epochs=False, got {n!r}")
        t_initial, warmup_t, decay_t = t_initial * n, warmup_t * n, decay_t * n
        milestones = [m * n for m in milestones]
    noise = c["noise"]
    if noise is not None:
        noise = [x * t_initial for x in noise] if isinstance(noise, (list, tuple)) else noise * t_initial
        noise = noise[0] if isinstance(noise, list) and len(noise) == 1 else noise
    attrs = dict(warmup_t=warmup_t, warmup_lr_init=c["warmup_lr"], warmup_prefix=c["warmup_prefix"],
                 noise_range_t=noise, noise_type="normal", noise_pct=c["noise_pct"], noise_std=c["noise_std"],
                 noise_seed=c["noise_seed"], t_initial=t_initial, lr_min=c["min_lr"], cycle_mul=c["cycle_mul"],
                 cycle_decay=c["cycle_decay"], cycle_limit=c["cycle_limit"], k_decay=c["k_decay"],
                 lb=-7.0, ub=3.0, power=c["decay_rate"])
    if sched == "step":
        attrs.update(decay_t=decay_t, decay_rate=c["decay_rate"])
    elif sched == "multistep":
        attrs.update(decay_t=milestones, decay_rate=c["decay_rate"])
    return _TIMM_FACTORY[sched], attrs


# -- Keras -----------------------------------------------------------------------------------

_KERAS_KEYS = [
    ("PiecewiseConstantDecay", {"boundaries", "values"}),
    ("CosineDecayRestarts", {"first_decay_steps"}),
    ("CosineDecay", {"initial_learning_rate", "decay_steps", "alpha"}),
    ("PolynomialDecay", {"end_learning_rate", "power"}),
]
KERAS_CLASSES = ("ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay", "PolynomialDecay",
                 "CosineDecay", "CosineDecayRestarts")


def from_keras(config, class_name: str | None = None) -> Schedule:
    """The lrdecay schedule of a Keras learning-rate schedule: the schedule object, its
    ``keras.optimizers.schedules.serialize()`` dict, or its ``get_config()`` dict (the class is
    told by the keys and the ``name``; give ``class_name`` when they don't tell it, e.g. a
    renamed ExponentialDecay or InverseTimeDecay). Keras counts the optimizer's
    ``iterations`` (``clock="updates"``) and computes in float32; lrdecay in float64."""
    if not isinstance(config, dict):
        get_config = getattr(config, "get_config", None)
        if get_config is None:
            raise TypeError(f"config must be a Keras schedule or its config dict, got {type(config).__name__}")
        adapter = sys.modules.get(f"{__package__}.keras")  # loaded if config can be a KerasSchedule
        if adapter is not None and isinstance(config, adapter.KerasSchedule):
            return config.schedule
        class_name = class_name or type(config).__name__
        config = get_config()
    if "class_name" in config and "config" in config:  # serialize() output
        class_name = class_name or config["class_name"]
        config = config["config"]
    if class_name is None:
        class_name = _keras_class(config)
    config = {k: v for k, v in config.items() if k != "name"}
    if class_name not in KERAS_CLASSES:
        raise ValueError(f"class_name must be one of {', '.join(KERAS_CLASSES)}, got {class_name!r}")
    c = config
    try:
        if class_name == "ExponentialDecay":
            return exponential_decay(c["initial_learning_rate"], c["decay_steps"], c["decay_rate"],
                                     c.get("staircase", False))
        if class_name == "InverseTimeDecay":
            return inverse_time_decay(c["initial_learning_rate"], c["decay_steps"], c["decay_rate"],
                                      c.get("staircase", False))
        if class_name == "PiecewiseConstantDecay":
            return piecewise_constant(list(c["boundaries"]), list(c["values"]))
        if class_name == "PolynomialDecay":
            return polynomial_decay(c["initial_learning_rate"], c["decay_steps"], c.get("end_learning_rate", 1e-4),
                                    c.get("power", 1.0), c.get("cycle", False))
        if class_name == "CosineDecayRestarts":
            return cosine_decay_restarts(c["initial_learning_rate"], c["first_decay_steps"], c.get("t_mul", 2.0),
                                         c.get("m_mul", 1.0), c.get("alpha", 0.0))
        decay = cosine_decay(c.get("warmup_target") or c["initial_learning_rate"], c["decay_steps"],
                             c.get("alpha", 0.0))
        if c.get("warmup_target") is None:
            return decay
        return Warmup(decay, c.get("warmup_steps", 0), start=c["initial_learning_rate"])
    except KeyError as error:
        raise ValueError(f"{class_name} config is missing {error.args[0]!r}") from None


def _keras_class(config: dict) -> str:
    name = config.get("name")
    if name in KERAS_CLASSES:
        return name
    for class_name, keys in _KERAS_KEYS:
        if keys <= config.keys():
            return class_name
    raise ValueError("can't tell the Keras schedule class from this config (ExponentialDecay and "
                     "InverseTimeDecay have the same keys): pass class_name=..., the schedule itself, "
                     "or keras.optimizers.schedules.serialize(schedule)")
