"""Composition nodes: schedules built from schedules.

Every node is itself a frozen, registered schedule: it has a ``duration``, a ``repr`` that
:func:`lrdecay.parse` reads back, and a ``to_dict`` that nests its children.

Time conventions (the same everywhere):

* A child that starts later sees *local* time: ``join``/``sequence`` segments see
  ``step - boundary``, the schedule behind a ``warmup`` sees ``step - steps``, each ``cycle``
  sees the time since its restart. The boundary step belongs to the next segment (optax's
  ``join_schedules``).
* Children are never evaluated at a negative step. Python scalars and NumPy arrays evaluate
  only the active segment; JAX, TensorFlow and torch evaluate every segment at
  ``maximum(t - b, 0)`` (finite even where unused) and select with ``where``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import (
    Schedule,
    bound_of,
    cached_duration,
    check_schedule,
    check_schedules,
    register,
    steps_after,
)
from lrdecay.core.validate import (
    check_bool,
    check_choice,
    check_int,
    check_nonnegative,
    check_number,
    check_period,
    check_positive,
    check_range,
)
from lrdecay.schedules.annealing import WarmupCosineDecay
from lrdecay.schedules.decay import ExponentialDecay

__all__ = [
    "Warmup", "warmup",
    "Join", "join",
    "ScheduleSequence", "sequence",
    "Cycle", "cycle",
    "PerEpoch", "per_epoch",
    "ExponentialDecayWithBurnin", "exponential_decay_with_burnin",
    "SGDR", "sgdr",
]

WARMUP_SHAPES = ("linear", "exponential", "cosine", "burnin")


def _set(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)


def _join_eval(schedules, boundaries, t, xp):
    """Segment ``i`` on ``[boundaries[i-1], boundaries[i])``, at local time ``t - boundaries[i-1]``
    (:meth:`lrdecay.core.backends.Backend.piecewise`)."""
    return xp.piecewise([s._eval for s in schedules], boundaries, t)


def _add_durations(*durations):
    return None if any(d is None for d in durations) else steps_after(*durations)


# -- warm-up ---------------------------------------------------------------------------------


@register
@dataclass(frozen=True, repr=False)
class Warmup(Schedule):
    """Ramp from ``start`` to ``schedule(0)`` over ``steps`` steps, then ``schedule(t - steps)``.

    With ``p = t / steps`` and ``target = schedule(0)``, the ramp is

    * ``linear``: ``start + (target - start) * p`` (optax ``linear_schedule``, timm/HF warm-up);
    * ``cosine``: ``start + (target - start) * (1 - cos(pi * p)) / 2``;
    * ``burnin``: ``start + (target - start) * p ** power``; with ``start=0`` this is darknet's
      burn-in ``learning_rate * pow(batch_num / burn_in, power)`` (``get_current_rate`` in
      pjreddie/darknet ``src/network.c``; ``power`` defaults to darknet's 4). Darknet's policy
      keeps the absolute clock after the burn-in; here the wrapped schedule starts at its own
      step 0 (use ``join`` with a ``shift`` to keep the clock);
    * ``exponential``: ``start * (target / start) ** p`` (geometric; needs ``start > 0`` and a
      positive target).

    The ramp is clipped to ``[min(start, target), max(start, target)]``, so it is monotone and
    never passes the target; at ``t == steps`` the value is exactly ``schedule(0)``.
    """

    kind = "warmup"
    matches = "optax warmup_*_schedule warm-up, timm warmup_t (warmup_prefix), darknet burn_in"

    schedule: Schedule
    steps: float
    start: float = 0.0
    shape: str = "linear"
    power: float = 4.0

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_nonnegative("steps", self.steps)
        check_number("start", self.start)
        check_choice("shape", self.shape, WARMUP_SHAPES)
        check_positive("power", self.power)
        target = self.schedule(0)
        if not math.isfinite(target):
            raise ValueError(f"schedule must start at a finite value, got {target!r}")
        if self.shape == "exponential":
            if not self.start > 0:
                raise ValueError(f"start must be > 0 for an exponential warm-up, got {self.start!r}")
            if not target > 0:
                raise ValueError(
                    f"an exponential warm-up needs a schedule that starts > 0, got schedule(0)={target!r}"
                )
        _set(self, "_target", target)

    def _ramp(self, t, xp):
        p = xp.minimum(t / self.steps, 1.0)
        start, target = self.start, self._target
        if self.shape == "exponential":  # log(target) - log(start) where target / start overflows
            ratio = target / start
            log_ratio = math.log(ratio) if ratio < math.inf else math.log(target) - math.log(start)
            value = start * xp.exp(p * log_ratio)
        else:
            if self.shape == "linear":
                fraction = p
            elif self.shape == "cosine":
                fraction = xp.half_cosine(xp.minimum(t, self.steps), self.steps, rising=True)
            else:
                fraction = xp.pow(p, float(self.power))
            value = start + (target - start) * fraction
        return xp.clip(value, min(start, target), max(start, target))

    def _eval(self, t, xp):
        if not self.steps:
            return self.schedule._eval(t, xp)
        return xp.piecewise((self._ramp, self.schedule._eval), (self.steps,), t)

    @cached_duration
    def duration(self):
        return _add_durations(self.steps, self.schedule.duration)


warmup = Warmup


# -- joining ---------------------------------------------------------------------------------


@register
@dataclass(frozen=True, repr=False)
class Join(Schedule):
    """``schedules[i](t - boundaries[i-1])`` for ``boundaries[i-1] <= t < boundaries[i]``.

    Same as ``optax.join_schedules``: the boundary step belongs to the next segment, which sees
    local time ``t - boundary``. ``boundaries`` has one entry fewer than ``schedules`` and never
    decreases (a repeated boundary gives an empty segment)."""

    kind = "join"
    matches = "optax.join_schedules, torch SequentialLR (closed form)"

    schedules: tuple
    boundaries: tuple

    def __post_init__(self):
        schedules = check_schedules("schedules", self.schedules)
        boundaries = _check_boundaries("boundaries", self.boundaries)
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                f"boundaries must have one entry fewer than schedules ({len(schedules) - 1}), "
                f"got {len(boundaries)}"
            )
        _set(self, "schedules", schedules)
        _set(self, "boundaries", boundaries)

    def _eval(self, t, xp):
        return _join_eval(self.schedules, self.boundaries, t, xp)

    def _bound_from_children(self):
        return bound_of(*self.schedules)

    @cached_duration
    def duration(self):
        last = self.schedules[-1].duration
        return _add_durations(self.boundaries[-1] if self.boundaries else 0, last)


def _check_boundaries(name: str, values) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__} {values!r}")
    values = tuple(check_nonnegative(f"{name}[{i}]", v) for i, v in enumerate(values))
    for i in range(1, len(values)):
        if values[i] < values[i - 1]:
            raise ValueError(
                f"{name} must not decrease, got {name}[{i - 1}]={values[i - 1]!r} and {name}[{i}]={values[i]!r}"
            )
    return values


join = Join


@register
@dataclass(frozen=True, repr=False, init=False)
class ScheduleSequence(Schedule):
    """``sequence(a, b, c)``: ``join`` with boundaries at the running sum of the durations.

    Each part starts at its own step 0 when the previous one ends; every part but the last must
    end (``duration`` not None). A flat phase of ``n`` steps is ``linear(v, v, n)`` (a
    ``constant`` lasts 0 steps)."""

    kind = "sequence"
    matches = "torch SequentialLR, lrsched sequential, optax join_schedules with derived boundaries"
    #: ``parse``/``from_dict``: positional arguments fill ``schedules``.
    varargs = "schedules"

    schedules: tuple

    def __init__(self, *parts, schedules=None):
        if parts and schedules is not None:
            raise TypeError("give the parts either positionally or as schedules=[...], not both")
        _set(self, "schedules", parts if schedules is None else schedules)
        self.__post_init__()

    def __post_init__(self):
        schedules = check_schedules("schedules", self.schedules)
        boundaries, end = [], 0
        for i, part in enumerate(schedules[:-1]):
            if part.duration is None:
                raise ValueError(
                    f"schedules[{i}] ({part!r}) never ends (duration None); only the last part may be unbounded"
                )
            end += part.duration
            boundaries.append(end)
        _set(self, "schedules", schedules)
        _set(self, "_boundaries", tuple(boundaries))

    def __repr__(self):
        return f"sequence({', '.join(map(repr, self.schedules))})"

    @property
    def boundaries(self) -> tuple:
        """The derived join boundaries."""
        return self._boundaries

    def _eval(self, t, xp):
        return _join_eval(self.schedules, self._boundaries, t, xp)

    def _bound_from_children(self):
        return bound_of(*self.schedules)

    @cached_duration
    def duration(self):
        return _add_durations(self._boundaries[-1] if self._boundaries else 0, self.schedules[-1].duration)


sequence = ScheduleSequence


@register
@dataclass(frozen=True, repr=False)
class SGDR(Schedule):
    """Cycles of ``warmup_cosine_decay`` one after the other, cycle ``i`` starting at the sum of
    the earlier cycles' ``decay_steps`` (its total length, warm-up included) at its own step 0.

    Same as ``optax.sgdr_schedule(cosine_kwargs)``, a ``join_schedules`` of
    ``warmup_cosine_decay_schedule(**kwargs)`` at the cumulative ``decay_steps``; like optax, a
    cycle may be given as the dict of its arguments. After the last cycle: its ``end_value``."""

    kind = "sgdr"
    matches = "optax.sgdr_schedule"

    cycles: tuple

    def __post_init__(self):
        if isinstance(self.cycles, Schedule) or not isinstance(self.cycles, (list, tuple)):
            raise TypeError(
                f"cycles must be a list of warmup_cosine_decay schedules or of their arguments (dicts), "
                f"got {type(self.cycles).__name__} {self.cycles!r}"
            )
        if not self.cycles:
            raise ValueError("cycles must hold at least one cycle, got an empty list")
        cycles = tuple(_warmup_cosine_cycle(f"cycles[{i}]", c) for i, c in enumerate(self.cycles))
        ends = [0]
        for c in cycles:
            ends.append(ends[-1] + c.decay_steps)
        _set(self, "cycles", cycles)
        _set(self, "_boundaries", tuple(ends[1:-1]))

    def _eval(self, t, xp):
        return _join_eval(self.cycles, self._boundaries, t, xp)

    def _bound_from_children(self):
        return bound_of(*self.cycles)

    @property
    def duration(self):
        return sum(c.decay_steps for c in self.cycles)


def _warmup_cosine_cycle(name: str, value) -> WarmupCosineDecay:
    if isinstance(value, WarmupCosineDecay):
        return value
    if isinstance(value, dict):
        try:
            return WarmupCosineDecay(**value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}: {error}") from None
    raise TypeError(f"{name} must be a warmup_cosine_decay schedule or a dict of its arguments, got {value!r}")


sgdr = SGDR


# -- restarts --------------------------------------------------------------------------------


@register
@dataclass(frozen=True, repr=False)
class Cycle(Schedule):
    """Restart ``schedule`` every cycle (SGDR, timm ``cycle_mul``/``cycle_decay``/``cycle_limit``).

    Cycle ``i`` starts at ``period * (period_mul**i - 1) / (period_mul - 1)`` (``period * i`` when
    ``period_mul == 1``) and lasts ``period * period_mul**i`` steps. It plays the schedule's first
    ``period`` steps, stretched in time by ``period_mul**i``: at local time ``u`` the value is
    ``end + peak_mul**i * (schedule(u / period_mul**i) - end)`` with ``end = schedule(period)``.

    ``peak_mul`` scales the distance from the value a cycle ends on, not the whole value, so the
    floor stays put: this is TF/Keras ``cosine_decay_restarts`` ``m_mul`` (the ``alpha`` floor is not
    scaled) and ``CyclicLR`` triangular2 (the base stays, the amplitude halves); scaling the whole
    value would also lower the floor. With a zero floor (``eta_min=0``) both rules agree, and so
    does timm's ``cycle_decay``.

    After ``limit`` cycles the value holds ``schedule(period)``, the value every cycle ends on
    (timm returns ``lr_min`` once ``cycle >= cycle_limit``). The cycle index is exact at
    restarts: a log-based first guess is corrected against the restart steps themselves, so
    ``t == start of cycle i`` is in cycle ``i`` even where ``log`` rounds the wrong way (timm's
    off-by-one at ``cycle_mul=3, t=121``); for a whole ``period_mul`` this holds up to step
    2**50 in float64 and about 2**22 in float32.
    """

    kind = "cycle"
    matches = "SGDR restarts: tf cosine_decay_restarts t_mul/m_mul, torch CosineAnnealingWarmRestarts, timm cycles"

    schedule: Schedule
    period: float
    period_mul: float = 1.0
    peak_mul: float = 1.0
    limit: int | None = None

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_period("period", self.period)
        check_range("period_mul", self.period_mul, 1.0)
        check_positive("peak_mul", self.peak_mul)
        if self.limit is not None:
            _set(self, "limit", check_int("limit", self.limit, minimum=1))
            try:
                self._start(self.limit, math)
            except OverflowError:
                raise ValueError(f"limit={self.limit!r} cycles of period_mul={self.period_mul!r} overflow") from None
            try:
                math.pow(self.peak_mul, self.limit - 1)
            except OverflowError:
                raise ValueError(
                    f"peak_mul ** (limit - 1) overflows: peak_mul={self.peak_mul!r}, limit={self.limit!r}"
                ) from None
        elif self.peak_mul > 1:
            raise ValueError(
                f"peak_mul must be <= 1 when limit is None (it would grow without end), got {self.peak_mul!r}"
            )
        end = self.schedule(self.period)
        if not math.isfinite(end):
            raise ValueError(f"schedule(period) must be finite, got {end!r}")
        _set(self, "_end", end)

    def _growth(self, i, xp):
        """``period_mul ** i``, the length of cycle ``i`` in periods."""
        if self.period_mul == 1:
            return 1.0
        return self._whole(xp.pow(float(self.period_mul), i), xp)

    def _whole(self, x, xp):
        # With a whole period_mul, cycle lengths and starts (in periods) are whole numbers; rounding
        # them absorbs float32 pow kernels an ulp off and XLA's division-by-reciprocal, which would
        # otherwise move a restart by one step.
        return xp.floor(x + 0.5) if float(self.period_mul).is_integer() else x

    def _start(self, i, xp, growth=None):
        """First step of cycle ``i``: ``period * (1 + m + ... + m**(i-1))``."""
        if self.period_mul == 1:
            return self.period * i
        growth = self._growth(i, xp) if growth is None else growth
        return self.period * self._whole((growth - 1.0) / (self.period_mul - 1.0), xp)

    def _index(self, t, xp):
        """The cycle holding step ``t``: a guess from ``log``, checked against the cycle's own
        first step and the next one (``start + period * m**i``)."""
        if self.period_mul == 1:
            i = xp.floor(t / self.period)
        else:
            i = xp.floor(xp.log1p(t * ((self.period_mul - 1.0) / self.period)) / math.log(self.period_mul))
        growth = self._growth(i, xp)
        start = self._start(i, xp, growth)
        return xp.where(t >= start + self.period * growth, i + 1, xp.where(t < start, i - 1, i))

    def _eval(self, t, xp):
        i = self._index(t, xp)
        if self.limit is not None:
            i = xp.minimum(i, self.limit - 1)
        growth = self._growth(i, xp)
        local = xp.maximum(t - self._start(i, xp, growth), 0.0)
        if self.period_mul != 1:
            local = xp.minimum(local / growth, self.period)
        value = self.schedule._eval(local, xp)
        if self.peak_mul != 1:
            value = self._end + xp.pow(float(self.peak_mul), i) * (value - self._end)
        if self.limit is not None:
            value = xp.where(t < self._start(self.limit, MATH), value, self._end)
        return value

    @property
    def duration(self):
        return None if self.limit is None else self._start(self.limit, MATH)


cycle = Cycle


@register
@dataclass(frozen=True, repr=False)
class PerEpoch(Schedule):
    """A schedule written in epochs, evaluated at steps: ``schedule(floor(t / steps_per_epoch))``
    (``staircase=True``: the value changes once per epoch, like timm ``t_in_epochs=True``, keras
    ``LearningRateScheduler`` or torch schedulers stepped per epoch), or
    ``schedule(t / steps_per_epoch)`` (fractional epochs, smooth)."""

    kind = "per_epoch"
    matches = "timm t_in_epochs, keras LearningRateScheduler, torch per-epoch stepping"

    schedule: Schedule
    steps_per_epoch: float
    staircase: bool = True

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_period("steps_per_epoch", self.steps_per_epoch)
        check_bool("staircase", self.staircase)

    def _eval(self, t, xp):
        epoch = t / self.steps_per_epoch
        return self.schedule._eval(xp.floor(epoch) if self.staircase else epoch, xp)

    @cached_duration
    def duration(self):
        d = self.schedule.duration
        if d is None:
            return None
        # staircase: epoch floor(t / steps_per_epoch) reaches d at the start of epoch ceil(d)
        return steps_after(math.ceil(d) if self.staircase else d, times=self.steps_per_epoch)


per_epoch = PerEpoch


# -- the blog posts' burn-in decay --------------------------------------------------------


@register
@dataclass(frozen=True, repr=False)
class ExponentialDecayWithBurnin(Schedule):
    """A burn-in ramp ``learning_rate * (t / burnin_steps) ** power``, then exponential decay
    from the burn-in's end: ``learning_rate * decay_rate ** ((t - burnin_steps) / decay_steps)``
    (exponent floored when ``staircase``). Same as
    ``warmup(exponential_decay(...), burnin_steps, shape="burnin", power=power)``.

    This is what the blog post's ``exponential_decay_with_burnin`` describes ("the learning rate
    first rises slowly for a while", then decays). Its code does something else: during the
    burn-in it calls ``tf.train.exponential_decay(lr, global_step, ...)``, which *decays* from
    ``lr`` (no ramp at all), and afterwards it calls
    ``exponential_decay(lr * decay_rate, global_step - burnin_steps, decay_steps, 1.0)``, whose
    rate 1.0 makes it a constant ``lr * decay_rate`` (no decay at all), with a jump at
    ``burnin_steps``. The ramp's shape is darknet's burn-in (power 4 by default).
    """

    kind = "exponential_decay_with_burnin"
    matches = "exponential_decay_with_burnin of the blog posts on TensorFlow's learning-rate decay, darknet burn_in + exp policy"

    learning_rate: float
    decay_steps: float
    decay_rate: float
    burnin_steps: float
    staircase: bool = False
    power: float = 4.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("decay_steps", self.decay_steps)
        check_positive("decay_rate", self.decay_rate)
        check_nonnegative("burnin_steps", self.burnin_steps)
        check_positive("power", self.power)
        decay = ExponentialDecay(self.learning_rate, self.decay_steps, self.decay_rate, self.staircase)
        _set(self, "_composed", Warmup(decay, self.burnin_steps, shape="burnin", power=self.power))

    def _eval(self, t, xp):
        return self._composed._eval(t, xp)


exponential_decay_with_burnin = ExponentialDecayWithBurnin
