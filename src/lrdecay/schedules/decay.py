"""TensorFlow's decay family (``tf.compat.v1.train.*`` and the Keras schedules), exactly as
TensorFlow computes them.

Step convention: ``t`` is TensorFlow's ``global_step`` / Keras's ``optimizer.iterations``: 0 on
the first update. Each formula follows TensorFlow's order of operations, so the float32 path
(a ``tf.Tensor`` step) rounds like TensorFlow; see docs/tensorflow.md for the per-function
parity statement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_bool,
    check_increasing,
    check_nonnegative,
    check_number,
    check_numbers,
    check_period,
    check_range,
)

__all__ = [
    "ExponentialDecay",
    "exponential_decay",
    "NaturalExpDecay",
    "natural_exp_decay",
    "InverseTimeDecay",
    "inverse_time_decay",
    "PiecewiseConstant",
    "piecewise_constant",
    "PolynomialDecay",
    "polynomial_decay",
]


@dataclass(frozen=True, repr=False)
class _StepDecay(Schedule):
    """Parameters shared by the ``p = t / decay_steps`` family (``p`` floored when ``staircase``)."""

    learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("decay_steps", self.decay_steps)
        check_bool("staircase", self.staircase)

    def _decayed(self, rate, t, xp):
        """``rate ** (t / decay_steps)``; a staircase floors the exponent and looks its few
        whole powers up (``xp.ipow``)."""
        if self.staircase:
            return xp.ipow(rate, xp.floor(t / self.decay_steps))
        return xp.pow(rate, t / self.decay_steps)


@register
@dataclass(frozen=True, repr=False)
class ExponentialDecay(_StepDecay):
    """``learning_rate * decay_rate ** (t / decay_steps)``; the exponent is floored when
    ``staircase``.

    Same as ``tf.compat.v1.train.exponential_decay`` and ``keras.optimizers.schedules.ExponentialDecay``
    (the float32 path is bit-identical to TensorFlow's)."""

    kind = "exponential_decay"
    matches = "tf.compat.v1.train.exponential_decay, keras ExponentialDecay"

    def __post_init__(self):
        super().__post_init__()
        # > 1 would grow without bound: inf long before step 2**40
        check_range("decay_rate", self.decay_rate, 0.0, 1.0, low_open=True)

    def _eval(self, t, xp):
        return self.learning_rate * self._decayed(self.decay_rate, t, xp)


@register
@dataclass(frozen=True, repr=False)
class NaturalExpDecay(_StepDecay):
    """``learning_rate * exp(-decay_rate) ** (t / decay_steps)`` (= ``learning_rate *
    exp(-decay_rate * t / decay_steps)``); the exponent is floored when ``staircase``.

    Same as ``tf.compat.v1.train.natural_exp_decay``, which TensorFlow 2 computes as
    ``exponential_decay`` with the rate ``exp(-decay_rate)`` rounded to the working dtype, as here
    (float32 path bit-identical). TensorFlow's docstring, and blog posts copying it, omit
    ``/ decay_steps``; the code divides, and so does this."""

    kind = "natural_exp_decay"
    matches = "tf.compat.v1.train.natural_exp_decay"

    def __post_init__(self):
        super().__post_init__()
        check_nonnegative("decay_rate", self.decay_rate)

    def _eval(self, t, xp):
        if xp.tensorflow_order:  # TensorFlow: the rate exp(-decay_rate), rounded, to the power p
            return self.learning_rate * self._decayed(xp.exp(-xp.const(self.decay_rate, t)), t, xp)
        if not self.decay_rate:
            return self.learning_rate
        # float64: exp(-decay_rate * p), not the rounded exp(-decay_rate) to the power p, whose
        # one rounding error grows p-fold (a staircase at step 2**40 keeps no digit of it)
        p = t / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return self.learning_rate * xp.exp(-self.decay_rate * p)


@register
@dataclass(frozen=True, repr=False)
class InverseTimeDecay(_StepDecay):
    """``learning_rate / (1 + decay_rate * t / decay_steps)``; ``t / decay_steps`` is floored when
    ``staircase``.

    Same as ``tf.compat.v1.train.inverse_time_decay`` and ``keras.optimizers.schedules.InverseTimeDecay``
    (float32 path bit-identical)."""

    kind = "inverse_time_decay"
    matches = "tf.compat.v1.train.inverse_time_decay, keras InverseTimeDecay"

    def __post_init__(self):
        super().__post_init__()
        check_nonnegative("decay_rate", self.decay_rate)

    def _eval(self, t, xp):
        p = t / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return self.learning_rate / (1 + self.decay_rate * p)


@register
@dataclass(frozen=True, repr=False)
class PiecewiseConstant(Schedule):
    """``values[0]`` while ``t <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < t <=
    boundaries[i]``, ``values[-1]`` after the last boundary: a boundary step still gets the value
    on its left.

    Same as ``tf.compat.v1.train.piecewise_constant`` and ``keras.optimizers.schedules.PiecewiseConstantDecay``
    (float32 path bit-identical for steps below 2**24, where float32 holds every integer)."""

    kind = "piecewise_constant"
    matches = "tf.compat.v1.train.piecewise_constant, keras PiecewiseConstantDecay"

    boundaries: tuple
    values: tuple

    def __post_init__(self):
        boundaries = check_increasing("boundaries", self.boundaries)
        values = tuple(float(v) for v in check_numbers("values", self.values))
        if not boundaries:
            raise ValueError("boundaries must hold at least one step, got []")
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values must hold one more entry than boundaries ({len(boundaries) + 1}), "
                f"got {len(values)}"
            )
        object.__setattr__(self, "boundaries", boundaries)
        object.__setattr__(self, "values", values)

    def _eval(self, t, xp):
        value = self.values[0]
        for boundary, after in zip(self.boundaries, self.values[1:]):
            value = xp.where(t > boundary, after, value)
        return value

    @property
    def duration(self):
        return max(math.floor(self.boundaries[-1]) + 1, 0)  # a boundary < 0 is behind step 0


@register
@dataclass(frozen=True, repr=False)
class PolynomialDecay(Schedule):
    """``(learning_rate - end_learning_rate) * (1 - t / decay_steps) ** power + end_learning_rate``
    with ``t`` clamped at ``decay_steps``.

    With ``cycle``, ``t`` is not clamped: ``decay_steps`` is stretched to the first multiple
    ``decay_steps * max(ceil(t / decay_steps), 1)`` that is >= ``t`` (the multiplier is 1 at step 0),
    so each cycle restarts from a lower peak and reaches ``end_learning_rate`` at every multiple.

    Same as ``tf.compat.v1.train.polynomial_decay`` and ``keras.optimizers.schedules.PolynomialDecay``
    (float32 path bit-identical)."""

    kind = "polynomial_decay"
    matches = "tf.compat.v1.train.polynomial_decay, keras PolynomialDecay"

    learning_rate: float
    decay_steps: float
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("decay_steps", self.decay_steps)
        check_number("end_learning_rate", self.end_learning_rate)
        check_nonnegative("power", self.power)
        check_bool("cycle", self.cycle)

    def _eval(self, t, xp):
        decay_steps = self.decay_steps
        if self.cycle:
            multiplier = xp.maximum(xp.ceil(t / self.decay_steps), 1.0)
            # XLA's float32 division is not correctly rounded: ceil can overshoot at a multiple.
            overshoot = (multiplier > 1.0) & (self.decay_steps * (multiplier - 1.0) >= t)
            decay_steps = decay_steps * xp.where(overshoot, multiplier - 1.0, multiplier)
        # With cycle, t <= decay_steps already except after float round-off far out (t > 2**24 in
        # float32), where the clamp keeps 1 - p >= 0.
        done = xp.minimum(t, decay_steps)
        if xp.tensorflow_order:
            p = done / decay_steps
            span = xp.const(self.learning_rate, t) - xp.const(self.end_learning_rate, t)
            return span * xp.pow(1 - p, self.power) + self.end_learning_rate
        # float64: lr * w + end * (1 - w) with w = (1 - p) ** power, 1 - p = (D - t) / D and
        # 1 - w = -expm1(power * log1p(-p)): TensorFlow's span * w + end cancels where end >> lr
        # and w is near 1, leaving the last bits of pow (which NumPy's vector kernel and math.pow
        # round differently) as a visible error.
        rest = (decay_steps - done) / decay_steps
        weight = xp.pow(rest, float(self.power))
        return self.learning_rate * weight + self.end_learning_rate * xp.one_minus_pow(
            rest, done / decay_steps, float(self.power)
        )

    @property
    def duration(self):
        return None if self.cycle else self.decay_steps


exponential_decay = ExponentialDecay
natural_exp_decay = NaturalExpDecay
inverse_time_decay = InverseTimeDecay
piecewise_constant = PiecewiseConstant
polynomial_decay = PolynomialDecay
