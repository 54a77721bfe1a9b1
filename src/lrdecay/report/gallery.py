"""One representative instance of every schedule kind: the gallery, ``lrdecay list`` and the
tests all take their examples from here.

``EXAMPLES`` maps a kind to its call syntax. A kind registered without an entry still gets an
instance, built from its defaults with typical values for the required parameters (see
:func:`example`), so a new kind shows up everywhere at once.
"""

from __future__ import annotations

import dataclasses
import math

from lrdecay.core.schedule import Schedule, registry
from lrdecay.core.spec import SpecError, parse

__all__ = ["EXAMPLES", "example", "examples", "span", "value_label"]

#: kind -> call syntax of a representative instance (about 1000 steps long).
EXAMPLES = {
    # TensorFlow's decay family (the report's first figures)
    "exponential_decay": "exponential_decay(0.1, decay_steps=100, decay_rate=0.8, staircase=True)",
    "natural_exp_decay": "natural_exp_decay(0.1, decay_steps=100, decay_rate=0.5)",
    "inverse_time_decay": "inverse_time_decay(0.1, decay_steps=100, decay_rate=0.5, staircase=True)",
    "piecewise_constant": "piecewise_constant(boundaries=[300, 600], values=[0.1, 0.05, 0.01])",
    "polynomial_decay": "polynomial_decay(0.1, decay_steps=300, end_learning_rate=0.01, power=0.5, cycle=True)",
    "cosine_decay": "cosine_decay(0.1, decay_steps=800, alpha=0.1)",
    "cosine_decay_restarts": "cosine_decay_restarts(0.1, first_decay_steps=100, t_mul=2.0, m_mul=0.8)",
    "linear_cosine_decay": "linear_cosine_decay(0.1, decay_steps=800, num_periods=3.0)",
    "noisy_linear_cosine_decay": "noisy_linear_cosine_decay(0.1, decay_steps=800, num_periods=3.0)",
    # PyTorch
    "constant": "constant(0.1)",
    "linear": "linear(0.01, 0.1, steps=500)",
    "step_decay": "step_decay(0.1, step_size=300, gamma=0.5)",
    "multistep_decay": "multistep_decay(0.1, milestones=[300, 700], gamma=0.2)",
    "exponential": "exponential(0.1, gamma=0.997)",
    "polynomial": "polynomial(0.1, total_iters=800, power=2.0)",
    "cosine_annealing": "cosine_annealing(0.1, t_max=400, eta_min=0.01)",
    "cosine_annealing_warm_restarts": "cosine_annealing_warm_restarts(0.1, t_0=100, t_mult=2, eta_min=0.01)",
    "one_cycle": "one_cycle(0.1, total_steps=1000)",
    "one_cycle_momentum": "one_cycle_momentum(total_steps=1000)",
    "cyclic": "cyclic(0.01, 0.1, step_size_up=200, mode='triangular2')",
    # Optax, Hugging Face, timm, Megatron, darknet
    "warmup_cosine_decay": "warmup_cosine_decay(0.0, 0.1, warmup_steps=100, decay_steps=1000, end_value=0.01)",
    "warmup_exponential_decay": "warmup_exponential_decay(0.0, 0.1, warmup_steps=100, transition_steps=100, decay_rate=0.7)",
    "sgdr": "sgdr([warmup_cosine_decay(0.0, 0.1, 50, 300), warmup_cosine_decay(0.0, 0.07, 50, 300), "
            "warmup_cosine_decay(0.0, 0.05, 50, 400)])",
    "linear_onecycle": "linear_onecycle(1000, 0.1)",
    "cosine_onecycle": "cosine_onecycle(1000, 0.1)",
    "piecewise_interpolate": "piecewise_interpolate('linear', 0.1, boundaries=[200, 600], scales=[0.5, 0.2])",
    "piecewise_linear": "piecewise_linear(steps=[0, 100, 700, 1000], values=[0.0, 0.1, 0.08, 0.0])",
    "inverse_sqrt": "inverse_sqrt(0.1, warmup_steps=100)",
    "cosine_with_min_lr": "cosine_with_min_lr(0.1, warmup_steps=100, training_steps=1000, min_lr=0.01)",
    "warmup_stable_decay": "warmup_stable_decay(0.1, warmup_steps=100, stable_steps=600, decay_steps=300)",
    "tanh_decay": "tanh_decay(0.1, t_initial=300, lr_min=0.01, cycle_limit=3, warmup_t=50, warmup_lr_init=0.01)",
    "timm_cosine": "timm_cosine(0.1, t_initial=200, lr_min=0.01, cycle_mul=1.5, cycle_decay=0.7, cycle_limit=3, warmup_t=50)",
    "megatron_lr": "megatron_lr(0.1, decay_steps=1000, min_lr=0.01, warmup_steps=100, decay_style='cosine')",
    "exponential_decay_with_burnin": "exponential_decay_with_burnin(0.1, decay_steps=100, decay_rate=0.8, burnin_steps=200)",
    "timm_poly": "timm_poly(0.1, t_initial=300, power=2.0, lr_min=0.01, cycle_limit=3, warmup_t=50)",
    "timm_noise": "timm_noise(timm_cosine(0.1, t_initial=800, lr_min=0.01), noise_range_t=[100, 700])",
    "swalr": "swalr(0.1, swa_lr=0.02, anneal_epochs=300)",
    "cosine_decay_warmup": "cosine_decay_warmup(0.0, decay_steps=800, warmup_target=0.1, warmup_steps=100, alpha=0.1)",
    "megatron_wd": "megatron_wd(0.01, 0.1, wd_incr_steps=800, wd_incr_style='cosine')",
    # large-scale training: batch ramps, clocks, scaling rules, re-planning
    "batch_ramp": "batch_ramp(32, 256, 32, ramp_samples=50000, value='batch_size')",
    "on_clock": "on_clock(cosine_decay(0.1, 150000), batch_ramp(32, 256, 32, ramp_samples=50000))",
    "scale_by_batch": "scale_by_batch(cosine_decay(0.1, 800), 'sqrt', base_batch=256, "
                      "batch=batch_ramp(32, 256, 32, ramp_samples=50000))",
    "clock_join": "clock_join([linear(0.0, 0.1, 100), cosine_decay(0.1, 900)], clocks=['steps', 'tokens'], boundaries=[100])",
    "extend": "extend(cosine_decay(0.1, 600), total=1000, at=300)",
    "cooldown": "cooldown(warmup_stable_decay(0.1, 100, 1000000, 0, min_lr_ratio=0.1), step=600, length=300, shape='1-sqrt')",
    # composition
    "warmup": "warmup(cosine_decay(0.1, 800), steps=200)",
    "join": "join([constant(0.1), exponential_decay(0.1, 100, 0.5)], boundaries=[300])",
    "sequence": "sequence(linear(0.0, 0.1, 200), cosine_decay(0.1, 800))",
    "cycle": "cycle(cosine_decay(0.1, 200), period=200, period_mul=1.5, peak_mul=0.7)",
    "per_epoch": "per_epoch(exponential_decay(0.1, 10, 0.5), steps_per_epoch=100)",
    "multiply": "0.5 * cosine_decay(0.1, 800)",
    "add": "cosine_decay(0.1, 800) + 0.02",
    "divide": "cosine_decay(0.1, 800) / 2",
    "clip": "cosine_decay(0.1, 800).clip(min=0.03)",
    "shift": "cosine_decay(0.1, 800).shift(200)",
}

#: Typical values for required parameters, by name, for kinds without an entry in EXAMPLES.
_TYPICAL = (
    (("schedules",), None),
    (("schedule",), None),
    (("boundaries", "milestones"), (300, 600)),
    (("values",), (0.1, 0.05, 0.01)),
    (("rate", "gamma", "decay", "mul", "factor"), 0.5),
    (("start", "init", "min", "end"), 0.01),
    (("lr", "learning_rate", "value", "peak", "base", "max", "scale"), 0.1),
    (("steps", "period", "size", "iters", "t_max", "t_0", "total", "burn", "shift", "epoch"), 200),
)


def _typical(name: str):
    if name == "schedules":
        return (parse(EXAMPLES["exponential_decay"]), parse("exponential_decay(0.05, 100, 0.5)"))
    if name == "schedule":
        return parse(EXAMPLES["exponential_decay"])
    for words, value in _TYPICAL:
        if any(word in name for word in words):
            return value
    return 1.0


def example(kind: str) -> Schedule | None:
    """A representative instance of ``kind``, or None when none can be built."""
    cls = registry().get(kind)
    if cls is None:
        return None
    if kind in EXAMPLES:
        try:
            return parse(EXAMPLES[kind])
        except SpecError:
            pass
    required = {
        f.name: _typical(f.name)
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    try:
        return cls(**required)
    except (TypeError, ValueError, SpecError):
        return None


def examples() -> dict[str, Schedule | None]:
    """``example(kind)`` for every registered kind."""
    return {kind: example(kind) for kind in registry()}


def span(schedule: Schedule, default: int = 1000, limit: int = 10**6) -> int:
    """How many steps to show: the duration and a quarter more (the tail), else ``default``."""
    duration = schedule.duration
    if duration is None or not math.isfinite(duration):
        return default
    return int(min(max(math.ceil(duration * 1.25) + 1, 10), limit))


#: What the value of a kind is, when it is not a learning rate (the y axis of its figure).
_VALUE_LABELS = {
    "one_cycle_momentum": "momentum",
    "megatron_wd": "weight decay",
}
_BATCH_RAMP_LABELS = {"samples": "samples consumed", "tokens": "tokens consumed", "batch_size": "global batch size"}


def value_label(schedule: Schedule) -> str:
    """The y-axis label for ``schedule``: what its value is (a learning rate for most kinds)."""
    if schedule.kind == "batch_ramp":
        return _BATCH_RAMP_LABELS.get(getattr(schedule, "value", ""), "batch size")
    return _VALUE_LABELS.get(schedule.kind, "learning rate")
