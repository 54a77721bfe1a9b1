"""TensorFlow's cosine family: cosine_decay, cosine_decay_restarts, linear_cosine_decay,
noisy_linear_cosine_decay, exactly as ``tf.compat.v1.train.*`` / the Keras schedules compute
them (``t`` = ``global_step``, 0 on the first update; TensorFlow's order of operations, so the
float32 path rounds like TensorFlow; see docs/tensorflow.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_finite,
    check_int,
    check_nonnegative,
    check_number,
    check_period,
    check_positive,
)

__all__ = [
    "CosineDecay",
    "cosine_decay",
    "CosineDecayRestarts",
    "cosine_decay_restarts",
    "LinearCosineDecay",
    "linear_cosine_decay",
    "NoisyLinearCosineDecay",
    "noisy_linear_cosine_decay",
    "CosineDecayWarmup",
    "cosine_decay_warmup",
]


def _floored(alpha, done, length, xp):
    """TensorFlow's ``(1 - alpha) * c + alpha`` (``c`` the cosine anneal over ``length``); on float64
    backends the mix ``c + alpha * (1 - c)``, which does not cancel for an ``alpha`` above 1."""
    if xp.tensorflow_order:
        return (1 - alpha) * xp.half_cosine(done, length) + alpha
    return xp.half_cosine(done, length) + alpha * xp.half_cosine(done, length, rising=True)


@register
@dataclass(frozen=True, repr=False)
class CosineDecay(Schedule):
    """``learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(t, decay_steps) / decay_steps)) + alpha)``:
    from ``learning_rate`` down to ``alpha * learning_rate`` at ``decay_steps``, then flat.

    Same as ``tf.compat.v1.train.cosine_decay`` and ``keras.optimizers.schedules.CosineDecay``
    without warm-up (float32 path bit-identical)."""

    kind = "cosine_decay"
    matches = "tf.compat.v1.train.cosine_decay, keras CosineDecay"

    learning_rate: float
    decay_steps: float
    alpha: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("decay_steps", self.decay_steps)
        check_number("alpha", self.alpha)

    def _eval(self, t, xp):
        done = xp.minimum(t, self.decay_steps)
        return self.learning_rate * _floored(self.alpha, done, self.decay_steps, xp)

    @property
    def duration(self):
        return self.decay_steps


@register
@dataclass(frozen=True, repr=False)
class CosineDecayRestarts(Schedule):
    """SGDR: cosine cycles from ``m_mul ** i * (1 - alpha) + alpha`` (times ``learning_rate``)
    down to ``alpha * learning_rate``; cycle ``i`` lasts ``first_decay_steps * t_mul ** i`` steps
    and the restart step itself already has the new peak.

    With ``f = t / first_decay_steps``, the cycle is ``i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))``
    (``floor(f)`` when ``t_mul == 1``) and the position in it ``(f - (1 - t_mul**i) / (1 - t_mul)) /
    t_mul**i``. TensorFlow takes ``i`` from the logarithm alone, whose round-off can put a restart
    step at the very end (position 1) of the previous cycle: TensorFlow's float32 gives
    ``alpha * learning_rate`` at step 8191 for ``first_decay_steps=1``, and float64 does the same at
    step 121 with ``t_mul=3``. Here such a position >= 1 moves on to the next cycle, so every restart
    step has its peak; everywhere else the float32 path is bit-identical to TensorFlow's.

    Like Keras, any ``m_mul`` (peaks grow when it is > 1, alternate when < 0) and any ``t_mul >= 1``
    are accepted wherever the values stay finite up to step 2**63; a ``t_mul`` that the step's
    float type rounds to 1 (``1 + 1e-9`` in float32) is 1 on that step, as in Keras.

    Same as ``tf.compat.v1.train.cosine_decay_restarts`` and ``keras.optimizers.schedules.CosineDecayRestarts``."""

    kind = "cosine_decay_restarts"
    matches = "tf.compat.v1.train.cosine_decay_restarts, keras CosineDecayRestarts"

    learning_rate: float
    first_decay_steps: float
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        first = check_period("first_decay_steps", self.first_decay_steps)
        t_mul = check_number("t_mul", self.t_mul)
        if t_mul < 1 and not first / (1.0 - t_mul) > _LAST_STEP:
            raise ValueError(
                f"t_mul must be >= 1, got {t_mul!r}: with t_mul < 1 the cycles shrink and end at step "
                f"first_decay_steps / (1 - t_mul) = {first / (1.0 - t_mul):.6g}, after which they are undefined (NaN)"
            )
        m_mul = check_number("m_mul", self.m_mul)
        alpha = check_number("alpha", self.alpha)
        if abs(m_mul) > 1:  # the peaks grow: the largest are those of the last cycles
            try:
                last = float(self._cycle(_LAST_STEP, MATH)[0])
            except ArithmeticError:  # the cycle itself overflows (a huge t_mul): the probe refuses it
                return
            for i in (last - 1.0, last) if last >= 1 else (last,):
                try:
                    power = math.pow(m_mul, i)
                except OverflowError:
                    power = math.copysign(math.inf, m_mul) if i % 2 else math.inf
                peak = self.learning_rate * ((1 - alpha) * power + alpha)  # the formula's order
                if not math.isfinite(peak):
                    raise ValueError(
                        f"m_mul must keep every peak finite up to step 2**63, got {m_mul!r}: at the restart of cycle "
                        f"i = {i:.0f} (one of the last two to start by step 2**63, with first_decay_steps={first!r} and "
                        f"t_mul={t_mul!r}), m_mul ** i = {power!r} and the value learning_rate * ((1 - alpha) * "
                        f"m_mul ** i + alpha) = {peak!r} (learning_rate={self.learning_rate!r}, alpha={alpha!r})"
                    )

    def _cycle(self, t, xp):
        """``(cycle, start, length, fraction)`` at step ``t``: the cycle's index, first step and
        length in steps, and the position in it as TensorFlow computes it."""
        first = self.first_decay_steps
        fraction = t / first
        if _rounded_like(self.t_mul, t) == 1:
            cycle = xp.floor(fraction)
            return cycle, first * cycle, first, fraction - cycle
        t_mul = xp.const(self.t_mul, t)
        cycle = xp.floor(xp.log(1.0 - fraction * (1.0 - t_mul)) / xp.log(t_mul))
        length = t_mul**cycle  # of this cycle, in units of first_decay_steps
        fraction = (fraction - (1.0 - length) / (1.0 - t_mul)) / length
        # The logarithm can round a restart step into the end of the previous cycle.
        late = fraction >= 1.0
        cycle = xp.where(late, cycle + 1.0, cycle)
        fraction = xp.where(late, (fraction - 1.0) / t_mul, fraction)
        # the cycle in steps (exact for whole first_decay_steps and t_mul): its last steps keep
        # their digits, which the position as a fraction of the cycle does not
        length = t_mul**cycle
        return cycle, first * ((1.0 - length) / (1.0 - t_mul)), first * length, fraction

    def _eval(self, t, xp):
        cycle, start, length, fraction = self._cycle(t, xp)
        alpha = xp.const(self.alpha, t)
        cosine = xp.const(self.m_mul, t) ** cycle * xp.half_cosine(t - start, length, fraction=fraction)
        return self.learning_rate * ((1 - alpha) * cosine + alpha)


#: The last step every schedule must be finite at (see :mod:`lrdecay.core.schedule`).
_LAST_STEP = 2.0**63


def _rounded_like(value: float, t) -> float:
    """``value`` as the float type of the step ``t`` holds it: itself for Python numbers and
    float64, e.g. ``1.0`` for ``1 + 1e-9`` and a float32 step (what Keras compares in float32)."""
    dtype = getattr(t, "dtype", None)
    if dtype is None:
        return value
    dtype = getattr(dtype, "as_numpy_dtype", dtype)  # TensorFlow's dtype
    if type(dtype).__module__ == "torch":
        import torch

        return torch.tensor(value, dtype=dtype).item()
    import numpy as np

    return float(np.asarray(value, dtype=dtype))


@dataclass(frozen=True, repr=False)
class _LinearCosine(Schedule):
    """Parameters and formula shared by the linear-cosine schedules."""

    learning_rate: float
    decay_steps: float

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("decay_steps", self.decay_steps)
        check_nonnegative("num_periods", self.num_periods)
        check_finite(f"the phase 2 * num_periods * decay_steps = 2 * {self.num_periods!r} * {self.decay_steps!r}",
                     lambda: 2.0 * self.num_periods * self.decay_steps)
        check_number("alpha", self.alpha)
        check_number("beta", self.beta)

    def _linear_cosine(self, t, xp, noise=None):
        """``learning_rate * ((alpha + linear + noise) * cosine + beta)`` at ``t = min(t, decay_steps)``;
        ``noise(t_clamped)`` is added to the linear term."""
        t = xp.minimum(t, self.decay_steps)
        linear = (self.decay_steps - t) / self.decay_steps
        if noise is not None:
            linear = linear + noise(t)
        cosine = xp.half_cosine(
            2.0 * self.num_periods * t, self.decay_steps,
            fraction=2.0 * self.num_periods * (t / self.decay_steps),
        )
        return self.learning_rate * ((self.alpha + linear) * cosine + self.beta)


@register
@dataclass(frozen=True, repr=False)
class LinearCosineDecay(_LinearCosine):
    """``learning_rate * ((alpha + linear) * cosine + beta)`` with ``t = min(t, decay_steps)``,
    ``linear = (decay_steps - t) / decay_steps`` and ``cosine = 0.5 * (1 + cos(pi * 2 * num_periods
    * t / decay_steps))``; ends at ``beta * learning_rate``.

    Same as ``tf.compat.v1.train.linear_cosine_decay`` (Keras 2 ``LinearCosineDecay``; float32 path
    bit-identical)."""

    kind = "linear_cosine_decay"
    matches = "tf.compat.v1.train.linear_cosine_decay"

    num_periods: float = 0.5
    alpha: float = 0.0
    beta: float = 0.001

    def _eval(self, t, xp):
        return self._linear_cosine(t, xp)

    @property
    def duration(self):
        return self.decay_steps


@register
@dataclass(frozen=True, repr=False)
class NoisyLinearCosineDecay(_LinearCosine):
    """:class:`LinearCosineDecay` with Gaussian noise on the linear term:
    ``linear + eps * sqrt(initial_variance / (1 + t) ** variance_decay)`` (``t`` clamped at
    ``decay_steps``, TensorFlow's variance law), ``eps`` standard normal.

    ``eps`` is a fixed function of ``(seed, floor(step))`` (a counter-based integer hash and
    Box-Muller, :meth:`lrdecay.core.backends.Backend.hashed_normal`): every backend gives the same
    numbers to float round-off, and a resumed run sees exactly the values it would have seen.
    TensorFlow draws unseeded random numbers instead, which nothing can reproduce; parity with
    ``tf.compat.v1.train.noisy_linear_cosine_decay`` means the same noise-free part (bit-identical
    in float32 with ``initial_variance=0``) and the same noise distribution."""

    kind = "noisy_linear_cosine_decay"
    matches = "tf.compat.v1.train.noisy_linear_cosine_decay"

    initial_variance: float = 1.0
    variance_decay: float = 0.55
    num_periods: float = 0.5
    alpha: float = 0.0
    beta: float = 0.001
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        check_nonnegative("initial_variance", self.initial_variance)
        check_nonnegative("variance_decay", self.variance_decay)
        check_int("seed", self.seed, 0)
        if self.seed >= 2**32:
            raise ValueError(f"seed must be < 2**32, got {self.seed!r}")

    def _eval(self, t, xp):
        def noise(clamped):
            # (1 + t) ** -variance_decay: underflows to 0 where (1 + t) ** variance_decay would overflow
            variance = self.initial_variance * xp.pow(1.0 + clamped, -self.variance_decay)
            return xp.hashed_normal(t, self.seed) * xp.sqrt(variance)

        return self._linear_cosine(t, xp, noise)


@register
@dataclass(frozen=True, repr=False)
class CosineDecayWarmup(Schedule):
    """Keras' cosine decay with warm-up: ``learning_rate + (warmup_target - learning_rate) *
    t / warmup_steps`` for ``t < warmup_steps``, then ``warmup_target * ((1 - alpha) * c +
    alpha)`` with ``c = (1 + cos(pi * min(t - warmup_steps, decay_steps) / decay_steps)) / 2``.

    Same as ``keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha,
    warmup_target=..., warmup_steps=...)`` (``decay_steps`` counts after the warm-up); without a
    warm-up target use :class:`~lrdecay.CosineDecay`."""

    kind = "cosine_decay_warmup"
    matches = "keras CosineDecay(warmup_target, warmup_steps)"

    learning_rate: float
    decay_steps: float
    warmup_target: float
    warmup_steps: float
    alpha: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_positive("decay_steps", self.decay_steps)
        check_number("warmup_target", self.warmup_target)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_number("alpha", self.alpha)

    def _eval(self, t, xp):
        w = self.warmup_steps
        t = xp.minimum(t, self.decay_steps + w)
        ramp = (self.warmup_target - self.learning_rate) * (t / max(w, 1)) + self.learning_rate
        decayed = self.warmup_target * _floored(self.alpha, xp.maximum(t - w, 0.0), self.decay_steps, xp)
        return xp.where(t < w, ramp, decayed)

    @property
    def duration(self):
        return self.warmup_steps + self.decay_steps


cosine_decay = CosineDecay
cosine_decay_restarts = CosineDecayRestarts
linear_cosine_decay = LinearCosineDecay
noisy_linear_cosine_decay = NoisyLinearCosineDecay
cosine_decay_warmup = CosineDecayWarmup
