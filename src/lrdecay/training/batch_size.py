"""Large-scale training: a batch-size ramp as a value (a clock from steps to samples or tokens),
schedules evaluated on such a clock, and learning-rate / weight-decay scaling rules.

``batch_ramp(start, end, increment, ramp_samples)`` has Megatron-LM's ``rampup_batch_size``
semantics (``RampupBatchsizeNumMicroBatchesCalculator`` in
``megatron/core/num_microbatches_calculator.py``): after ``consumed`` samples the global batch is
``start + int(consumed / (ramp_samples / n)) * increment`` (``n = (end - start) / increment``
increments), and ``end`` once ``consumed > ramp_samples``. Each training step consumes the batch
of the samples consumed before it, so steps, samples and tokens convert exactly at any point of
the ramp, and a run resumed on another world size or micro-batch size keeps its position in
samples (the ramp does not depend on them; only the number of micro-batches does).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lrdecay.core.backends import MATH as _MATH
from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "BatchRamp",
    "batch_ramp",
    "OnClock",
    "on_clock",
    "ScaleByBatch",
    "scale_by_batch",
    "scale_lr",
    "scale_wd",
    "ClockJoin",
    "clock_join",
]

RAMP_VALUES = ("samples", "tokens", "batch_size")
SCALING_RULES = ("linear", "sqrt")
#: A ramp is planned batch size by batch size (Megatron's ramps have tens to hundreds).
MAX_RAMP_INCREMENTS = 10_000


@register
@dataclass(frozen=True, repr=False)
class BatchRamp(Schedule):
    """A global batch size ramp, as a schedule of training steps: its value at step ``t`` is
    the number of samples consumed before step ``t`` (``value="samples"``), that times
    ``seq_length`` (``"tokens"``), or the global batch of step ``t`` (``"batch_size"``).

    The batch after ``consumed`` samples is Megatron-LM's
    ``start + int(consumed / (ramp_samples / n)) * increment`` (``n = (end - start) /
    increment``), and ``end`` once ``consumed > ramp_samples`` (``start == end``: a constant
    batch). Use it as the clock of a schedule written in samples or tokens with
    :func:`on_clock`, and convert with :meth:`samples`, :meth:`tokens`, :meth:`step_at`,
    :meth:`batch_size`, :meth:`micro_batches`."""

    kind = "batch_ramp"
    if TYPE_CHECKING:  # set in __post_init__, not a field
        _segments: tuple[list[int], list[int], list[int]]
    matches = "Megatron-LM rampup_batch_size (RampupBatchsizeNumMicroBatchesCalculator)"

    start: int
    end: int
    increment: int
    ramp_samples: int
    seq_length: int | None = None
    value: str = "samples"

    def __post_init__(self):
        check_int("start", self.start, 1)
        check_int("end", self.end, 1)
        check_int("increment", self.increment, 1)
        check_nonnegative("ramp_samples", self.ramp_samples)
        if self.ramp_samples > 2**53:  # beyond, one batch more no longer moves Megatron's float quotient
            raise ValueError(f"ramp_samples must be <= 2**53 (samples counted exactly in float64), got {self.ramp_samples!r}")
        if self.end < self.start:
            raise ValueError(f"end must be >= start, got end={self.end!r} < start={self.start!r}")
        if (self.end - self.start) % self.increment:
            raise ValueError(
                f"end - start must be a multiple of increment, got {self.end!r} - {self.start!r} = "
                f"{self.end - self.start!r} and increment={self.increment!r}"
            )
        if (self.end - self.start) // self.increment > MAX_RAMP_INCREMENTS:
            raise ValueError(
                f"a ramp from start={self.start!r} to end={self.end!r} by increment={self.increment!r} has "
                f"{(self.end - self.start) // self.increment} batch sizes; at most {MAX_RAMP_INCREMENTS} are "
                "supported (use a larger increment)"
            )
        if self.end > self.start and not self.ramp_samples > 0:
            raise ValueError(f"ramp_samples must be > 0 for a ramp from {self.start} to {self.end}, got {self.ramp_samples!r}")
        if self.seq_length is not None:
            check_int("seq_length", self.seq_length, 1)
        check_choice("value", self.value, RAMP_VALUES)
        if self.value == "tokens" and self.seq_length is None:
            raise ValueError('value="tokens" needs seq_length')
        object.__setattr__(self, "_segments", self._plan())

    # -- Megatron's rule and the plan of steps ---------------------------------------------------

    def batch_size(self, consumed) -> int:
        """The global batch after ``consumed`` samples (Megatron's ``update(consumed_samples)``)."""
        return self._batch(check_nonnegative("consumed", consumed))

    def _batch(self, consumed) -> int:
        if consumed > self.ramp_samples or self.end == self.start:
            return self.end
        increments = (self.end - self.start) // self.increment
        steps = int(consumed / (self.ramp_samples / increments))
        return self.start + steps * self.increment

    def _plan(self):
        """``(first_step, first_sample, batch)`` of each run of steps with the same batch."""
        first_steps, first_samples, batches = [], [], []
        step, consumed = 0, 0
        while True:
            batch = self._batch(consumed)
            first_steps.append(step)
            first_samples.append(consumed)
            batches.append(batch)
            if batch == self.end:
                return tuple(first_steps), tuple(first_samples), tuple(batches)
            increments = (self.end - self.start) // self.increment
            threshold = (batch - self.start) // self.increment + 1  # the next increment starts here
            k = max(1, math.ceil((threshold * (self.ramp_samples / increments) - consumed) / batch))
            while k > 1 and self._batch(consumed + (k - 1) * batch) != batch:
                k -= 1
            while self._batch(consumed + k * batch) == batch:
                k += 1
            step += k
            consumed += k * batch

    @property
    def ramp_steps(self) -> int:
        """The first step that runs with the full batch ``end``."""
        return self._segments[0][-1]

    def samples(self, step) -> int:
        """Samples consumed before step ``step`` (a whole number of steps), exactly."""
        step = check_int("step", step, 0)
        first_steps, first_samples, batches = self._segments
        i = bisect.bisect_right(first_steps, step) - 1
        return first_samples[i] + (step - first_steps[i]) * batches[i]

    def tokens(self, step) -> int:
        """Tokens consumed before step ``step``: ``samples(step) * seq_length``."""
        if self.seq_length is None:
            raise ValueError("tokens need seq_length: batch_ramp(..., seq_length=...)")
        return self.samples(step) * self.seq_length

    def step_at(self, samples=None, *, tokens=None):
        """The step at which ``samples`` (or ``tokens``) have been consumed: an int on a step
        boundary, else a fraction of the step in progress (the inverse of :meth:`samples`)."""
        if (samples is None) == (tokens is None):
            raise TypeError("give samples or tokens (one of them)")
        if tokens is not None:
            if self.seq_length is None:
                raise ValueError("tokens need seq_length: batch_ramp(..., seq_length=...)")
            samples = check_nonnegative("tokens", tokens) / self.seq_length
        samples = check_nonnegative("samples", samples)
        first_steps, first_samples, batches = self._segments
        i = bisect.bisect_right(first_samples, samples) - 1
        whole, rest = divmod(samples - first_samples[i], batches[i])
        step = first_steps[i] + int(whole)
        return step if rest == 0 else step + rest / batches[i]

    def batch_size_at(self, step) -> int:
        """The global batch of step ``step``."""
        first_steps, _, batches = self._segments
        return batches[bisect.bisect_right(first_steps, check_int("step", step, 0)) - 1]

    def micro_batches(self, step, micro_batch_size, data_parallel_size) -> int:
        """Micro-batches per data-parallel rank at step ``step``: the global batch divided by
        ``micro_batch_size * data_parallel_size``, which must divide it (Megatron's
        consistency check)."""
        per_step = check_int("micro_batch_size", micro_batch_size, 1) * check_int(
            "data_parallel_size", data_parallel_size, 1
        )
        batch = self.batch_size_at(step)
        if batch % per_step:
            raise ValueError(
                f"the global batch {batch} at step {step} is not divisible by micro_batch_size * "
                f"data_parallel_size = {micro_batch_size} * {data_parallel_size}"
            )
        return batch // per_step

    # -- as a schedule ------------------------------------------------------------------------------

    def _eval(self, t, xp):
        first_steps, first_samples, batches = self._segments
        if self.value == "batch_size":
            parts = [_constant(b) for b in batches]
        else:
            scale = self.seq_length if self.value == "tokens" else 1
            parts = [_ramp_part(s * scale, b * scale) for s, b in zip(first_samples, batches)]
        return xp.piecewise(parts, first_steps[1:], t)

    @property
    def duration(self):
        return self.ramp_steps if self.value == "batch_size" else None


def _constant(value):
    return lambda u, xp: value + 0.0 * u


def _ramp_part(first, per_step):
    return lambda u, xp: first + per_step * u


batch_ramp = BatchRamp


@register
@dataclass(frozen=True, repr=False)
class OnClock(Schedule):
    """``schedule(clock(t) - clock(since))``: a schedule written in another unit (samples,
    tokens) evaluated at training steps through ``clock`` (e.g. a :class:`BatchRamp`, or
    ``seq_length * batch_ramp(...)``). With ``since``, the schedule's time starts at step
    ``since``: in ``join([warmup_in_steps, on_clock(decay_in_tokens, tokens, since=W)], [W])``
    the decay sees the tokens consumed since the warm-up ended (a join over clocks)."""

    kind = "on_clock"
    matches = "Megatron sample-based schedules (lr_decay_samples) with rampup_batch_size; warm-up in steps, decay in tokens"

    schedule: Schedule
    clock: Schedule
    since: float = 0

    def __post_init__(self):
        for name in ("schedule", "clock"):
            value = getattr(self, name)
            if not isinstance(value, Schedule):
                raise TypeError(f"{name} must be a schedule, got {type(value).__name__} {value!r}")
        check_nonnegative("since", self.since)
        object.__setattr__(self, "_origin", float(self.clock(self.since)) if self.since else 0.0)

    def _eval(self, t, xp):
        clock = self.clock._eval(t + self.since if self.since else t, xp)
        return self.schedule._eval(xp.maximum(clock - self._origin, 0.0) if self.since else clock, xp)


on_clock = OnClock


@register
@dataclass(frozen=True, repr=False)
class ScaleByBatch(Schedule):
    """``schedule(t) * (batch / base_batch)`` (``rule="linear"``, Goyal et al.) or
    ``schedule(t) * sqrt(batch / base_batch)`` (``"sqrt"``, Krizhevsky; Adam-family), where
    ``batch`` is a number or a :class:`BatchRamp` (its batch at step ``t``: the rate follows
    the ramp). Build it with :func:`scale_lr` or :func:`scale_wd`."""

    kind = "scale_by_batch"
    matches = "linear / square-root learning-rate scaling with the batch size"

    schedule: Schedule
    rule: str
    base_batch: float
    batch: object

    def __post_init__(self):
        if not isinstance(self.schedule, Schedule):
            raise TypeError(f"schedule must be a schedule, got {type(self.schedule).__name__} {self.schedule!r}")
        check_choice("rule", self.rule, SCALING_RULES)
        check_positive("base_batch", self.base_batch)
        if isinstance(self.batch, BatchRamp):
            if self.batch.value != "batch_size":
                object.__setattr__(self, "batch", BatchRamp(**{**self.batch.params(), "value": "batch_size"}))
        elif isinstance(self.batch, Schedule):
            raise TypeError(f"batch must be a number or a batch_ramp, got {self.batch!r}")
        else:
            check_positive("batch", self.batch)

    def _factor(self, ratio, xp):
        return ratio if self.rule == "linear" else xp.sqrt(ratio)

    def _eval(self, t, xp):
        value = self.schedule._eval(t, xp)
        if isinstance(self.batch, BatchRamp):
            return value * self._factor(self.batch._eval(t, xp) / self.base_batch, xp)
        return value * self._factor(self.batch / self.base_batch, _SCALAR)

    @property
    def duration(self):
        inner = self.schedule.duration
        if not isinstance(self.batch, BatchRamp) or inner is None:
            return inner
        return max(inner, self.batch.duration)


scale_by_batch = ScaleByBatch  # the kind's name, as every kind has one (its repr is a call of it)


class _Scalar:
    sqrt = staticmethod(math.sqrt)


_SCALAR = _Scalar()


def scale_lr(schedule, rule="linear", *, base_batch, batch) -> ScaleByBatch:
    """A learning-rate schedule tuned at ``base_batch`` moved to ``batch`` (a number or a
    :class:`BatchRamp`): times ``batch / base_batch`` (``"linear"``) or its square root
    (``"sqrt"``)."""
    return ScaleByBatch(schedule, rule, base_batch, batch)


def scale_wd(schedule, rule="sqrt", *, base_batch, batch) -> ScaleByBatch:
    """A weight-decay schedule tuned at ``base_batch`` moved to ``batch``, by the same rules as
    :func:`scale_lr`; the default ``"sqrt"`` is the normalized weight decay of Loshchilov &
    Hutter (AdamW: ``lambda ~ sqrt(batch)`` for a fixed number of epochs)."""
    return ScaleByBatch(schedule, rule, base_batch, batch)


@register
@dataclass(frozen=True, repr=False)
class ClockJoin(Schedule):
    """A join over clocks: ``schedules[i]`` runs on clock ``clocks[i]`` (e.g. ``"steps"``,
    ``"samples"``, ``"tokens"``) until ``clocks[i]`` reaches ``boundaries[i]``; then the next
    one takes over. A segment on the same clock as the boundary before it sees local time
    ``clock - boundary`` (as in :class:`~lrdecay.Join`); on another clock it sees that clock's
    absolute value (its plan counts from 0, warm-up included, like Megatron's
    ``lr_decay_samples``), since where that clock stood at the switch is not known in advance.

    Evaluate it with the value of each clock: ``s.at(steps=2500, tokens=1.2e10)`` (numbers,
    NumPy, JAX, TensorFlow or torch values); the PyTorch, Keras and Optax adapters count the
    extra clocks (``ScheduleLR.count(tokens=n)``, ``KerasSchedule(..., clocks=...)``,
    ``lrdecay.optax.scale_by_clock_schedule``). As a plain schedule, ``s(t)`` reads every
    clock as ``t``. When the clocks are tied by a batch ramp, :func:`on_clock` is simpler."""

    kind = "clock_join"
    matches = "warm-up in steps, decay in tokens (Megatron-DeepSpeed token-based decay)"

    schedules: tuple
    clocks: tuple
    boundaries: tuple

    def __post_init__(self):
        schedules = tuple(self.schedules) if isinstance(self.schedules, (list, tuple)) else None
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise TypeError(f"schedules must be a non-empty list of schedules, got {self.schedules!r}")
        clocks = tuple(self.clocks) if isinstance(self.clocks, (list, tuple)) else None
        if clocks is None or len(clocks) != len(schedules) or not all(isinstance(c, str) and c.isidentifier()
                                                                       for c in clocks):
            raise ValueError(f"clocks must name one clock per schedule ({len(schedules)}), got {self.clocks!r}")
        boundaries = tuple(self.boundaries) if isinstance(self.boundaries, (list, tuple)) else None
        if boundaries is None or len(boundaries) != len(schedules) - 1:
            raise ValueError(f"boundaries must have one entry fewer than schedules ({len(schedules) - 1}), "
                             f"got {self.boundaries!r}")
        for i, b in enumerate(boundaries):
            check_nonnegative(f"boundaries[{i}]", b)
            if i and clocks[i] == clocks[i - 1] and b < boundaries[i - 1]:
                raise ValueError(f"boundaries on one clock must not decrease, got {boundaries!r}")
        object.__setattr__(self, "schedules", schedules)
        object.__setattr__(self, "clocks", clocks)
        object.__setattr__(self, "boundaries", boundaries)

    @property
    def clock_names(self) -> tuple:
        """The clocks it reads, each once."""
        return tuple(dict.fromkeys(self.clocks))

    def at(self, **clocks):
        """The value when each clock (by name) reads the given value."""
        missing = [name for name in self.clock_names if name not in clocks]
        if missing:
            raise TypeError(f"at() needs the value of every clock {list(self.clock_names)}, missing {missing}")
        first = clocks[self.clocks[0]]
        if type(first) in (int, float):
            values = {name: check_nonnegative(name, clocks[name]) for name in self.clock_names}
            return float(self._eval_clocks(values, _MATH))
        from lrdecay.core.backends import get_backend

        xp = get_backend(first)
        values = {name: xp.prepare(clocks[name]) for name in self.clock_names}
        return xp.finalize(self._eval_clocks(values, xp), values[self.clocks[0]])

    def _local(self, i, values, xp):
        value = values[self.clocks[i]]
        if i and self.clocks[i] == self.clocks[i - 1]:
            return xp.maximum(value - self.boundaries[i - 1], 0.0)
        return value

    def _eval_clocks(self, values, xp):
        last = len(self.schedules) - 1
        out = self.schedules[last]._eval(self._local(last, values, xp), xp)
        for i in reversed(range(last)):
            active = values[self.clocks[i]] < self.boundaries[i]
            if xp is _MATH:
                if active:
                    out = self.schedules[i]._eval(self._local(i, values, xp), xp)
                continue
            out = xp.where(active, self.schedules[i]._eval(self._local(i, values, xp), xp), out)
        return out

    def _eval(self, t, xp):
        return self._eval_clocks(dict.fromkeys(self.clock_names, t), xp)


clock_join = ClockJoin
