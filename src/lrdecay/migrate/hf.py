"""Importers of Hugging Face schedules: :func:`from_hf` takes ``transformers.get_scheduler``'s
arguments; :func:`hf_lambda` recognizes the ``LambdaLR`` objects transformers builds. Hugging
Face counts optimizer updates (``clock="updates"``)."""

from __future__ import annotations

import functools
import math
import numbers

from lrdecay.compose.nodes import Cycle, Join, Warmup
from lrdecay.compose.operators import Shift
from lrdecay.core.schedule import Schedule
from lrdecay.migrate.common import Unsupported, check_step, live_schedules, same_for_all
from lrdecay.schedules.annealing import cosine_with_min_lr
from lrdecay.schedules.cosine import cosine_decay
from lrdecay.schedules.decay import polynomial_decay
from lrdecay.schedules.shapes import constant, linear
from lrdecay.schedules.transformer import inverse_sqrt, warmup_stable_decay


def hf_lambda(scheduler):
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


HF_NAMES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
            "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
            "warmup_stable_decay", "greedy")


def from_hf(name, num_warmup_steps=None, num_training_steps=None, *, learning_rate=None,
            **kwargs) -> Schedule | list[Schedule]:
    """The lrdecay schedule of ``transformers.get_scheduler(name, optimizer, num_warmup_steps,
    num_training_steps, scheduler_specific_kwargs=kwargs)`` for an optimizer whose learning rate
    is ``learning_rate``. Hugging Face counts optimizer updates: ``clock="updates"``.

    Every ``SchedulerType`` is accepted; ``reduce_lr_on_plateau`` and ``greedy`` follow a metric
    and raise ``ValueError`` with the lrdecay equivalent. ``name`` may also be the scheduler
    ``get_scheduler`` returned (alone): its schedule is read from it, one per param group when
    they differ, as :func:`lrdecay.from_torch` reads it."""
    if not isinstance(name, str) and hasattr(name, "optimizer"):
        return _from_hf_object(name, num_warmup_steps, num_training_steps, learning_rate, kwargs)
    if learning_rate is None:
        raise TypeError("from_hf needs learning_rate (the optimizer's lr) with a scheduler name")
    name = getattr(name, "value", name)  # a transformers SchedulerType
    if name not in HF_NAMES:
        raise ValueError(f"name must be one of {', '.join(HF_NAMES)}, got {name!r}")
    lr = learning_rate
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
        raise ValueError(f"learning_rate must be a number > 0 (the optimizer's lr), got {lr!r}")
    if name in ("reduce_lr_on_plateau", "greedy"):
        raise Unsupported(f"{name!r} follows a metric, not the step: use ScheduleLR(optimizer, "
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


def _from_hf_object(scheduler, warm, total, learning_rate, kwargs):
    given = [k for k, v in (("num_warmup_steps", warm), ("num_training_steps", total),
                            ("learning_rate", learning_rate)) if v is not None] + sorted(kwargs)
    if given:
        raise TypeError(f"from_hf(scheduler) reads everything from the scheduler; drop {', '.join(given)}")
    schedules = hf_lambda(scheduler) if hasattr(scheduler, "lr_lambdas") else None
    if not schedules:
        raise TypeError(f"from_hf takes get_scheduler's name and arguments, or the LambdaLR it returns; "
                        f"this {type(scheduler).__name__} is not one of transformers' LambdaLRs: "
                        "lrdecay.from_torch(scheduler) reads torch's schedulers, ScheduleLR.from_torch(scheduler) "
                        "takes one over")
    step = check_step("scheduler.last_epoch", scheduler.last_epoch)
    return same_for_all(live_schedules(schedules, scheduler.optimizer.param_groups, step, "raise",
                                       "the Hugging Face scheduler"))


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
