"""Cosine annealing and its relatives from PyTorch, Optax, Hugging Face and timm, and timm's
tanh decay.

Step convention: ``t`` is PyTorch's ``last_epoch`` / Optax's ``count`` / the ``current_step`` of
Hugging Face's lambdas / the ``t`` timm's ``step``/``step_update`` receives: 0 on the first update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import Schedule, register, steps_after
from lrdecay.core.validate import (
    check_bool,
    check_finite,
    check_int,
    check_nonnegative,
    check_number,
    check_period,
    check_positive,
    check_range,
)

__all__ = [
    "CosineAnnealing",
    "cosine_annealing",
    "CosineAnnealingWarmRestarts",
    "cosine_annealing_warm_restarts",
    "WarmupCosineDecay",
    "warmup_cosine_decay",
    "WarmupExponentialDecay",
    "warmup_exponential_decay",
    "CosineWithMinLR",
    "cosine_with_min_lr",
    "TimmCosine",
    "timm_cosine",
    "TanhDecay",
    "tanh_decay",
    "TimmPoly",
    "timm_poly",
]


def geometric_cycle(t, first, mul, xp):
    """Locate ``t`` in cycles of lengths ``first, first * mul, first * mul**2, ...``.

    Returns ``(i, length, offset)``: the cycle index, its length and ``t`` minus the cycle's
    start ``first * (mul**i - 1) / (mul - 1)``. For ``mul > 1`` the index starts from the log
    estimate and is corrected by one either way with exact comparisons against the cycle
    starts, so ``t`` on a restart boundary always opens the new cycle (``0 <= offset < length``
    whenever the starts are exact, e.g. integer ``first`` and ``mul``; the offset is kept in
    ``[0, length]`` where rounding would put it outside, e.g. past 2**53 cycles)."""
    if mul == 1:  # t / first may round up to the next whole number: check against first * i
        i = xp.floor(t / first)
        i = xp.where(first * i > t, i - 1.0, i)
        # past 2**53 cycles, i - 1 == i: the offset is kept inside the cycle
        return i, first, xp.minimum(xp.maximum(t - first * i, 0.0), first)

    mul = float(mul)

    def start(k):
        return first * (xp.ipow(mul, k) - 1.0) / (mul - 1.0)

    i = xp.floor(xp.log(t / first * (mul - 1.0) + 1.0) / math.log(mul))
    i = xp.maximum(xp.where(start(i) > t, i - 1.0, i), 0.0)
    i = xp.where(start(i + 1.0) <= t, i + 1.0, i)
    length = first * xp.ipow(mul, i)
    return i, length, xp.minimum(xp.maximum(t - start(i), 0.0), length)  # inside the cycle, whatever the rounding


def _anneal(high, low, done, length, xp):
    """``low + (high - low) * (1 + cos(pi * done / length)) / 2`` written as the mix ``high * c +
    low * (1 - c)`` of the two sides of :meth:`~lrdecay.core.backends.Backend.half_cosine`: no
    cancellation when ``low`` is far above ``high`` (the last bits of ``cos``, which NumPy's
    vector kernels and ``math`` round differently, stay in the last bits of the value)."""
    return high * xp.half_cosine(done, length) + low * xp.half_cosine(done, length, rising=True)


def cycle_end(first, mul, cycles: int):
    """Where cycle number ``cycles`` starts (the end of the first ``cycles`` cycles); None
    when that is beyond float range."""
    try:
        # in floats: a whole ``mul`` to a whole ``cycles`` up to 2**40 would be a huge Python int
        return first * cycles if mul == 1 else first * (math.pow(float(mul), cycles) - 1) / (mul - 1)
    except OverflowError:
        return None


@register
@dataclass(frozen=True, repr=False)
class CosineAnnealing(Schedule):
    """``eta_min + (learning_rate - eta_min) * (1 + cos(pi * t / t_max)) / 2``.

    Same as PyTorch's ``CosineAnnealingLR`` closed form, including past ``t_max``: it is not
    clamped, it rises back to ``learning_rate`` at ``2 * t_max`` (period ``2 * t_max``)."""

    kind = "cosine_annealing"
    matches = "torch CosineAnnealingLR"

    learning_rate: float
    t_max: float
    eta_min: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("t_max", self.t_max)
        check_number("eta_min", self.eta_min)

    def _eval(self, t, xp):
        return _anneal(self.learning_rate, self.eta_min, t, self.t_max, xp)


@register
@dataclass(frozen=True, repr=False)
class CosineAnnealingWarmRestarts(Schedule):
    """SGDR: ``eta_min + (learning_rate - eta_min) * (1 + cos(pi * t_cur / t_i)) / 2`` with
    cycles of ``t_0, t_0 * t_mult, t_0 * t_mult**2, ...`` steps; ``t_cur`` is the step within
    the cycle, which restarts at exactly ``learning_rate``.

    Same as PyTorch's ``CosineAnnealingWarmRestarts`` (its exact integer bookkeeping of
    ``step()``; the cycle index is exact at every restart, see :func:`geometric_cycle`)."""

    kind = "cosine_annealing_warm_restarts"
    matches = "torch CosineAnnealingWarmRestarts"

    learning_rate: float
    t_0: int
    t_mult: int = 1
    eta_min: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_int("t_0", self.t_0, 1)
        check_int("t_mult", self.t_mult, 1)
        check_number("eta_min", self.eta_min)

    def _eval(self, t, xp):
        _, length, offset = geometric_cycle(t, self.t_0, self.t_mult, xp)
        return _anneal(self.learning_rate, self.eta_min, offset, length, xp)


@register
@dataclass(frozen=True, repr=False)
class WarmupCosineDecay(Schedule):
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then
    ``peak_value * ((1 - a) * c ** exponent + a)`` with ``a = end_value / peak_value`` and
    ``c = (1 + cos(pi * min(t - warmup_steps, n) / n)) / 2``, ``n = decay_steps - warmup_steps``.

    Same as ``optax.warmup_cosine_decay_schedule``: ``decay_steps`` is the total length,
    warm-up included; the value is ``end_value`` from ``decay_steps`` on."""

    kind = "warmup_cosine_decay"
    matches = "optax.warmup_cosine_decay_schedule"

    init_value: float
    peak_value: float
    warmup_steps: float
    decay_steps: float
    end_value: float = 0.0
    exponent: float = 1.0

    def __post_init__(self):
        check_number("init_value", self.init_value)
        check_number("peak_value", self.peak_value)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_number("decay_steps", self.decay_steps)
        if not self.decay_steps > self.warmup_steps:
            raise ValueError(
                f"decay_steps must be > warmup_steps (it includes the warm-up), got "
                f"decay_steps={self.decay_steps!r} and warmup_steps={self.warmup_steps!r}"
            )
        check_number("end_value", self.end_value)
        check_positive("exponent", self.exponent)

    def _eval(self, t, xp):
        warmup = self.warmup_steps or 1
        ramp = (self.init_value - self.peak_value) * (
            1.0 - xp.minimum(t, self.warmup_steps) / warmup
        ) + self.peak_value
        span = self.decay_steps - self.warmup_steps
        done = xp.clip(t - self.warmup_steps, 0.0, span)
        if self.peak_value == 0.0:  # optax: alpha = 0, so the decay is 0 whatever end_value is
            return xp.where(t < self.warmup_steps, ramp, 0.0)
        # optax's peak * ((1 - alpha) * c**exponent + alpha), alpha = end / peak, written as the
        # mix peak * w + end * (1 - w): no end / peak to overflow, 1 - w without cancellation
        falling = xp.half_cosine(done, span)
        rising = xp.half_cosine(done, span, rising=True)
        weight, rest = falling, rising
        if self.exponent != 1:
            weight = xp.pow(falling, float(self.exponent))
            rest = xp.one_minus_pow(falling, rising, float(self.exponent))
        decayed = self.peak_value * weight + self.end_value * rest
        return xp.where(t < self.warmup_steps, ramp, decayed)

    @property
    def duration(self):
        return self.decay_steps


@register
@dataclass(frozen=True, repr=False)
class WarmupExponentialDecay(Schedule):
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then
    ``peak_value * decay_rate ** (max(t - warmup_steps - transition_begin, 0) /
    transition_steps)`` (exponent floored when ``staircase``), clipped at ``end_value``
    (a floor when ``decay_rate < 1``, a cap when ``decay_rate > 1``).

    Same as ``optax.warmup_exponential_decay_schedule``. A ``decay_rate > 1`` needs an
    ``end_value`` (the value would otherwise overflow)."""

    kind = "warmup_exponential_decay"
    matches = "optax.warmup_exponential_decay_schedule"

    init_value: float
    peak_value: float
    warmup_steps: float
    transition_steps: float
    decay_rate: float
    transition_begin: float = 0
    staircase: bool = False
    end_value: float | None = None

    def __post_init__(self):
        check_number("init_value", self.init_value)
        check_number("peak_value", self.peak_value)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_period("transition_steps", self.transition_steps)
        check_positive("decay_rate", self.decay_rate)
        check_nonnegative("transition_begin", self.transition_begin)
        check_bool("staircase", self.staircase)
        if self.end_value is not None:
            check_number("end_value", self.end_value)
        elif self.decay_rate > 1:
            raise ValueError(
                f"a decay_rate > 1 needs an end_value to cap the growth, got "
                f"decay_rate={self.decay_rate!r} and end_value=None"
            )

    def _eval(self, t, xp):
        warmup = self.warmup_steps or 1
        ramp = (self.init_value - self.peak_value) * (
            1.0 - xp.minimum(t, self.warmup_steps) / warmup
        ) + self.peak_value
        p = xp.maximum(t - self.warmup_steps - self.transition_begin, 0.0) / self.transition_steps
        if self.decay_rate > 1:  # past this exponent the cap end_value holds: stop before overflow
            p = xp.minimum(p, self._growth_limit())
        if self.staircase:
            decayed = self.peak_value * xp.ipow(float(self.decay_rate), xp.floor(p))
        else:
            decayed = self.peak_value * xp.pow(float(self.decay_rate), p)
        if self.end_value is not None:
            clip = xp.maximum if self.decay_rate < 1 else xp.minimum
            decayed = clip(decayed, self.end_value)
        return xp.where(t < self.warmup_steps, ramp, decayed)

    def _growth_limit(self) -> float:
        ratio = abs(self.end_value / self.peak_value) if self.peak_value else 1.0
        return math.log(max(ratio, 1.0)) / math.log(self.decay_rate) + 1.0

    @property
    def duration(self):
        if self.decay_rate == 1 or self.peak_value == 0:
            return self.warmup_steps
        if self.end_value is None:
            return None
        peak, end_value, rate = self.peak_value, self.end_value, self.decay_rate
        if peak > 0 and end_value > 0:  # the clip holds from where the decay (growth) reaches it
            p = max(math.log(end_value / peak) / math.log(rate), 0.0)
        elif rate > 1:  # growth stops where the exponent is capped, if the clip has not held before
            p = 0.0 if peak > 0 else self._growth_limit()
        else:  # a decay toward 0 that the floor never holds: it changes forever
            return None
        end = self.warmup_steps + self.transition_begin + self.transition_steps * (math.ceil(p) if self.staircase else p)
        return math.ceil(end) if end < math.inf else None  # reached beyond float range: never


@register
@dataclass(frozen=True, repr=False)
class CosineWithMinLR(Schedule):
    """``learning_rate * t / max(1, warmup_steps)`` during warm-up, then
    ``learning_rate * max(0, c * (1 - r) + r)`` with
    ``c = (1 + cos(2 pi num_cycles p)) / 2``, ``p = (t - warmup_steps) / max(1, training_steps -
    warmup_steps)`` and ``r = min_lr_rate`` (or ``min_lr / learning_rate``; give exactly one).

    Same as Hugging Face's ``get_cosine_with_min_lr_schedule_with_warmup`` (and, with
    ``min_lr_rate=0``, ``get_cosine_schedule_with_warmup``). Like them it is not clamped at
    ``training_steps``: with ``num_cycles=0.5`` it rises again after the end."""

    kind = "cosine_with_min_lr"
    matches = "transformers get_cosine_with_min_lr_schedule_with_warmup, get_cosine_schedule_with_warmup"

    learning_rate: float
    warmup_steps: float
    training_steps: float
    num_cycles: float = 0.5
    min_lr: float | None = None
    min_lr_rate: float | None = None

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_nonnegative("training_steps", self.training_steps)
        check_number("num_cycles", self.num_cycles)
        check_finite(f"the phase 2 * num_cycles * step = 2 * {self.num_cycles!r} * step at step 2**63",
                     lambda: 2.0 * self.num_cycles * 2.0**63)
        if (self.min_lr is None) == (self.min_lr_rate is None):
            raise ValueError(
                f"give exactly one of min_lr and min_lr_rate, got min_lr={self.min_lr!r} and "
                f"min_lr_rate={self.min_lr_rate!r}"
            )
        if self.min_lr is not None:
            check_number("min_lr", self.min_lr)
            if self.learning_rate == 0:
                raise ValueError("min_lr needs a non-zero learning_rate (use min_lr_rate)")
        else:
            check_number("min_lr_rate", self.min_lr_rate)
            check_finite(f"min_lr_rate * learning_rate = {self.min_lr_rate!r} * {self.learning_rate!r}",
                         lambda: self.min_lr_rate * self.learning_rate)

    @property
    def rate(self) -> float:
        """``min_lr_rate``, or ``min_lr / learning_rate`` as Hugging Face computes it."""
        return self.min_lr_rate if self.min_lr is None else self.min_lr / self.learning_rate

    @property
    def floor(self) -> float:
        """``min_lr``, or ``min_lr_rate * learning_rate``: the value the cosine falls to."""
        return self.min_lr if self.min_lr is not None else self.min_lr_rate * self.learning_rate

    def _eval(self, t, xp):
        lr = self.learning_rate
        ramp = lr * (t / max(1, self.warmup_steps))
        # HF: lr * max(c * (1 - rate) + rate, 0) with c = (1 + cos(pi * num_cycles * 2 * progress)) / 2,
        # written as lr * c + floor * (1 - c) (no min_lr / lr to overflow, no cancellation)
        done = 2.0 * self.num_cycles * (t - self.warmup_steps)
        span = max(1, self.training_steps - self.warmup_steps)
        decayed = lr * xp.half_cosine(done, span) + self.floor * xp.half_cosine(done, span, rising=True)
        # the factor is clamped at 0: the value does not cross 0 to the other side of lr
        decayed = xp.maximum(decayed, 0.0) if lr > 0 else xp.minimum(decayed, 0.0) if lr < 0 else 0.0
        return xp.where(t < self.warmup_steps, ramp, decayed)


class _TimmCycles:
    """What timm's ``CosineLRScheduler`` and ``TanhLRScheduler`` share: linear warm-up from
    ``warmup_lr_init``, optional shift of the clock by the warm-up (``warmup_prefix``), cycles
    growing by ``cycle_mul`` with peaks scaled by ``cycle_decay``, ``lr_min`` after
    ``cycle_limit`` cycles."""

    def _check_cycles(self):
        check_number("learning_rate", self.learning_rate)
        check_period("t_initial", self.t_initial)
        check_nonnegative("lr_min", self.lr_min)
        check_range("cycle_mul", self.cycle_mul, 1)
        check_nonnegative("cycle_decay", self.cycle_decay)
        check_int("cycle_limit", self.cycle_limit, 0)
        check_nonnegative("warmup_t", self.warmup_t)
        check_nonnegative("warmup_lr_init", self.warmup_lr_init)
        check_bool("warmup_prefix", self.warmup_prefix)
        if self.cycle_decay > 1:
            check_finite(
                f"the last cycle's peak learning_rate * cycle_decay ** (cycle_limit - 1) = "
                f"{self.learning_rate!r} * {self.cycle_decay!r} ** {self.cycle_limit - 1}",
                lambda: self.learning_rate * math.pow(self.cycle_decay, self.cycle_limit - 1),
            )

    def _curve(self, offset, length, lr_max, xp):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _warmup_target(self) -> float:
        return self.learning_rate

    def _cycles(self, t, xp):
        if self.warmup_prefix:
            t = xp.maximum(t - self.warmup_t, 0.0)
        i, length, offset = geometric_cycle(t, self.t_initial, self.cycle_mul, xp)
        lr_max = self.learning_rate * xp.ipow(float(self.cycle_decay), i)
        return xp.where(i < self.cycle_limit, self._curve(offset, length, lr_max, xp), self.lr_min)

    def _eval(self, t, xp):
        decayed = self._cycles(t, xp)
        if not self.warmup_t:
            return decayed
        step = (self._warmup_target() - self.warmup_lr_init) / self.warmup_t
        return xp.where(t < self.warmup_t, self.warmup_lr_init + t * step, decayed)

    @property
    def duration(self):
        end = cycle_end(self.t_initial, self.cycle_mul, self.cycle_limit)
        if end is None:
            return None
        return max(steps_after(end, self.warmup_t) if self.warmup_prefix else end, self.warmup_t)


@register
@dataclass(frozen=True, repr=False)
class TimmCosine(_TimmCycles, Schedule):
    """timm's cosine with restarts: in cycle ``i`` (lengths ``t_initial * cycle_mul**i``),
    ``lr_min + (lr_max - lr_min) / 2 * (1 + cos(pi * t_curr**k_decay / t_i**k_decay))`` with
    ``lr_max = learning_rate * cycle_decay**i``; ``lr_min`` once ``i >= cycle_limit``; a linear
    warm-up from ``warmup_lr_init`` to ``learning_rate`` for ``t < warmup_t``, and the cycles'
    clock starts after it only when ``warmup_prefix``.

    Same as ``timm.scheduler.CosineLRScheduler`` without noise, except that the cycle index is
    exact on restart boundaries (timm's ``math.log`` estimate is one too small for some of
    them, e.g. ``t_initial=1, cycle_mul=3, t=121``)."""

    kind = "timm_cosine"
    matches = "timm CosineLRScheduler"

    learning_rate: float
    t_initial: float
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: float = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    k_decay: float = 1.0

    def __post_init__(self):
        self._check_cycles()
        check_positive("k_decay", self.k_decay)

    def _curve(self, offset, length, lr_max, xp):
        if self.k_decay != 1:  # timm: t_curr**k / t_i**k
            offset, length = xp.pow(offset, float(self.k_decay)), xp.pow(length, float(self.k_decay))
        return _anneal(lr_max, self.lr_min, offset, length, xp)


@register
@dataclass(frozen=True, repr=False)
class TanhDecay(_TimmCycles, Schedule):
    """timm's tanh decay with restarts: in cycle ``i``, with ``r = t_curr / t_i``,
    ``lr_min + (lr_max - lr_min) / 2 * (1 - tanh(lb * (1 - r) + ub * r))``; cycles, peaks,
    ``cycle_limit`` and warm-up as in :class:`TimmCosine`, except that without
    ``warmup_prefix`` the warm-up ends at the curve's own value at ``warmup_t``.

    Same as ``timm.scheduler.TanhLRScheduler`` without noise (exact cycle index)."""

    kind = "tanh_decay"
    matches = "timm TanhLRScheduler"

    learning_rate: float
    t_initial: float
    lb: float = -7.0
    ub: float = 3.0
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: float = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False

    def __post_init__(self):
        self._check_cycles()
        check_number("lb", self.lb)
        check_number("ub", self.ub)
        if not self.lb < self.ub:
            raise ValueError(f"lb must be < ub, got lb={self.lb!r} and ub={self.ub!r}")

    def _curve(self, offset, length, lr_max, xp):
        r = offset / length
        z = self.lb * (1.0 - r) + self.ub * r
        # (1 - tanh(z)) / 2 = 1 / (1 + exp(2 z)) and (1 + tanh(z)) / 2 = 1 / (1 + exp(-2 z)), each
        # from e = exp(-2 |z|) <= 1: no 1 - tanh(z) cancelling for z > 0, no overflow
        e = xp.exp(-2.0 * xp.abs(z))
        small, large = e / (1.0 + e), 1.0 / (1.0 + e)
        positive = z >= 0.0
        return lr_max * xp.where(positive, small, large) + self.lr_min * xp.where(positive, large, small)

    def _warmup_target(self) -> float:
        if self.warmup_prefix:
            return self.learning_rate
        return float(self._cycles(float(self.warmup_t), MATH))


@register
@dataclass(frozen=True, repr=False)
class TimmPoly(_TimmCycles, Schedule):
    """timm's polynomial decay with restarts: in cycle ``i`` (lengths ``t_initial *
    cycle_mul**i``), ``lr_min + (lr_max - lr_min) * (1 - (t_curr / t_i)**k_decay)**power`` with
    ``lr_max = learning_rate * cycle_decay**i``; ``lr_min`` once ``i >= cycle_limit``; warm-up
    from ``warmup_lr_init`` for ``t < warmup_t`` as in :class:`~lrdecay.TimmCosine`.

    Same as ``timm.scheduler.PolyLRScheduler`` without noise (wrap it in
    :func:`~lrdecay.timm_noise` for timm's ``noise_*``), with an exact cycle index on restarts."""

    kind = "timm_poly"
    matches = "timm PolyLRScheduler"

    learning_rate: float
    t_initial: float
    power: float = 0.5
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: float = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    k_decay: float = 1.0

    def __post_init__(self):
        self._check_cycles()
        check_nonnegative("power", self.power)
        check_positive("k_decay", self.k_decay)

    def _curve(self, offset, length, lr_max, xp):
        # lr_max * w + lr_min * (1 - w) with w = (1 - x**k)**power, x = t_curr / t_i: 1 - x**k and
        # 1 - w each without cancellation (Backend.one_minus_pow), so lr_min >> lr_max stays exact
        x = xp.minimum(offset / length, 1.0)
        rest = xp.maximum(length - offset, 0.0) / length  # 1 - x
        k, power = float(self.k_decay), float(self.power)
        x_k = xp.pow(x, k)
        remaining = xp.one_minus_pow(x, rest, k)  # 1 - x**k
        weight = xp.pow(remaining, power)
        return lr_max * weight + self.lr_min * xp.one_minus_pow(remaining, x_k, power)


cosine_annealing = CosineAnnealing
cosine_annealing_warm_restarts = CosineAnnealingWarmRestarts
warmup_cosine_decay = WarmupCosineDecay
warmup_exponential_decay = WarmupExponentialDecay
cosine_with_min_lr = CosineWithMinLR
timm_cosine = TimmCosine
tanh_decay = TanhDecay
timm_poly = TimmPoly
