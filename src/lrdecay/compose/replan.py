"""Re-planning a run at a checkpoint: extend (or shorten) what is left of a schedule, or start a
cool-down from the current rate. Both are schedules (serializable, resumable) that equal the
original before the switch step and continue from its value at the switch step, so the rate
never jumps when a run is resumed with a new plan (``Schedule.extend``, ``Schedule.cooldown_from``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.schedule import Schedule, check_schedule, register, steps_after
from lrdecay.core.validate import (
    check_choice,
    check_nonnegative,
    check_number,
    check_positive,
)
from lrdecay.schedules.transformer import _decay_factor

__all__ = ["Extend", "extend", "Cooldown", "cooldown"]

COOLDOWN_SHAPES = ("linear", "1-sqrt", "cosine", "exponential")


@register
@dataclass(frozen=True, repr=False)
class Extend(Schedule):
    """``schedule(t)`` for ``t < at``; then the rest of ``schedule`` stretched to end at
    ``total``: ``schedule(at + (t - at) * (D - at) / (total - at))`` with ``D =
    schedule.duration``.

    The value at ``at`` is ``schedule(at)`` exactly (no jump on resume), the shape of what was
    left is kept, and the final value is reached at ``total`` instead of ``D`` (``total < D``
    shortens the run). Build it with ``schedule.extend(total, at=step)``."""

    kind = "extend"
    matches = "resume with a longer or shorter run (OLMo-core, open_clip: no jump at the resume step)"

    schedule: Schedule
    total: float
    at: float

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        end = self.schedule.duration
        if end is None:
            raise ValueError(f"extend needs a schedule that ends (duration not None), got {self.schedule!r}")
        at = check_nonnegative("at", self.at)
        total = check_number("total", self.total)
        if not at < end:
            raise ValueError(
                f"at must be before the schedule's end ({end!r}): there is nothing left to stretch, got at={at!r}"
            )
        if not total > at:
            raise ValueError(f"total must be > at, got total={total!r} and at={at!r}")

    @property
    def ratio(self) -> float:
        """Original steps per new step after ``at``."""
        return (self.schedule.duration - self.at) / (self.total - self.at)

    def _eval(self, t, xp):
        end = self.schedule.duration
        stretched = xp.minimum(self.at + xp.maximum(t - self.at, 0.0) * self.ratio, end)
        stretched = xp.where(t < self.total, stretched, end)  # the end exactly at ``total``
        return self.schedule._eval(xp.where(t < self.at, t, stretched), xp)

    @property
    def duration(self):
        return self.total


@register
@dataclass(frozen=True, repr=False)
class Cooldown(Schedule):
    """``schedule(t)`` for ``t < step``; then from ``v = schedule(step)`` down to ``to`` over
    ``length`` steps: ``v * f(p) + to * (1 - f(p))`` with ``p = (t - step) / length`` and
    ``f`` the cool-down shape (``linear`` ``1 - p``, ``1-sqrt`` ``1 - sqrt(p)``, ``cosine``
    ``(1 + cos(pi p)) / 2``, Megatron's ``exponential`` ``2 * 0.5**p - 1``); ``to`` after.

    The value at ``step`` is ``schedule(step)`` exactly. ``to`` defaults to the value the
    schedule ends on when it still changes after ``step`` (``schedule(duration)``, e.g.
    ``learning_rate * min_lr_ratio`` for a WSD), else to 0.0: a schedule that never ends (an
    exponential decay), or that is flat from ``step`` on (a constant, a warm-up into a constant,
    a decay already over), cools down to 0. A cool-down that would stay where it starts
    (``to == schedule(step)``) is refused. Build it with ``schedule.cooldown_from(step, length,
    shape)``: the WSD cool-down started from any checkpoint of the stable phase."""

    kind = "cooldown"
    matches = "WSD cool-down from a checkpoint (linear, 1-sqrt, cosine; Megatron exponential)"

    schedule: Schedule
    step: float
    length: float
    shape: str = "linear"
    to: float | None = None

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_nonnegative("step", self.step)
        check_positive("length", self.length)
        check_choice("shape", self.shape, COOLDOWN_SHAPES)
        if self.to is not None:
            check_number("to", self.to)
        start = self.schedule(self.step)
        if not math.isfinite(start):
            raise ValueError(f"schedule({self.step!r}) must be finite, got {start!r}")
        object.__setattr__(self, "_start", start)
        end = self.schedule.duration
        if self.to is not None:
            target, given = self.to, "to"
        elif end is not None and self.step < end:  # it still changes: cool down to where it ends
            target, given = self.schedule(end), "to (left out: the schedule's final value)"
        else:  # it never ends, or it stays at schedule(step) from step on
            target, given = 0.0, "to (left out: 0.0 after a constant phase)"
        if target == start:
            raise ValueError(
                f"{given} must differ from the value at step={self.step!r}: a cool-down from {start!r} "
                f"to {target!r} changes nothing (give another to=)"
            )
        object.__setattr__(self, "target", target)  # the value the cool-down ends on

    def _eval(self, t, xp):
        f = _decay_factor(self.shape, xp.clip(t - self.step, 0.0, self.length), self.length, xp)
        cooled = self._start * f + self.target * (1.0 - f)
        return xp.where(t < self.step, self.schedule._eval(xp.minimum(t, self.step), xp), cooled)

    @property
    def duration(self):
        return steps_after(self.step, self.length)


extend = Extend
cooldown = Cooldown
