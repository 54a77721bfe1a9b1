"""Importer of timm schedulers: :func:`from_timm` takes a ``timm.scheduler`` object or a
``create_scheduler_v2`` name. timm counts epochs (``t_in_epochs=True``: ``clock="calls"`` with one
``step()`` per epoch, or ``per_epoch(schedule, steps_per_epoch)`` on updates) or updates
(``step_update``)."""

from __future__ import annotations

import numbers

from lrdecay.compose.nodes import Join
from lrdecay.compose.operators import Shift
from lrdecay.migrate.common import Unsupported, same_for_all
from lrdecay.schedules.annealing import tanh_decay, timm_cosine, timm_poly
from lrdecay.schedules.noise import timm_noise
from lrdecay.schedules.shapes import linear, multistep_decay, step_decay

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
        raise Unsupported(f"{name} schedules {scheduler.param_group_field!r}; from_timm reads lr schedulers")
    attrs = dict(vars(scheduler))
    return same_for_all([_timm_schedule(name, attrs, base) for base in scheduler.base_values])


def _timm_schedule(name, a, base):
    if name in ("PlateauLRScheduler", "WSDLRScheduler"):
        raise Unsupported({
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
