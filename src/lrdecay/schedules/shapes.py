"""Simple shapes with PyTorch's semantics (constant, linear, step, multistep, exponential,
polynomial) and Optax's piecewise interpolation.

Step convention: ``t`` is PyTorch's ``scheduler.last_epoch`` (the number of ``scheduler.step()``
calls so far; the value at ``t`` is the learning rate of the ``(t + 1)``-th update), which is
also Optax's ``count``. Every formula here is PyTorch's closed form (``_get_closed_form_lr``),
not its recursive ``step()``; see ``docs/semantics.md`` for how far the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from lrdecay.core.schedule import Schedule, register, registry
from lrdecay.core.validate import (
    check_choice,
    check_increasing,
    check_int,
    check_nonnegative,
    check_number,
    check_numbers,
    check_period,
    check_positive,
    check_range,
)

__all__ = [
    "Constant",
    "constant",
    "Linear",
    "linear",
    "StepDecay",
    "step_decay",
    "MultistepDecay",
    "multistep_decay",
    "Exponential",
    "exponential",
    "Polynomial",
    "polynomial",
    "PiecewiseInterpolate",
    "piecewise_interpolate",
    "PiecewiseLinear",
    "piecewise_linear",
    "SWALR",
    "swalr",
]

INTERPOLATE_TYPES = ("linear", "cosine")


def anneal(kind: str, start, end, done, length, xp):
    """Move from ``start`` to ``end`` as ``pct = done / length`` goes from 0 to 1, the way
    PyTorch's ``OneCycleLR`` and Optax's ``piecewise_interpolate_schedule`` do it: linear
    ``(end - start) * pct + start``; cosine ``end + (start - end) / 2 * (cos(pi pct) + 1)``, computed
    as the mix ``start * c + end * (1 - c)`` of the two sides of
    :meth:`~lrdecay.core.backends.Backend.half_cosine`: exact at both ends, even from a tiny ``start``
    to a large ``end``."""
    if kind == "linear":
        return (end - start) * (done / length) + start
    return start * xp.half_cosine(done, length) + end * xp.half_cosine(done, length, rising=True)


def interpolate_values(t, xp, kind: str, bounds, values):
    """``values[i]`` at step ``bounds[i]``; between two bounds ``anneal(kind, ...)`` moves from
    one value to the next over ``max(b[i+1] - b[i], 1)`` steps; ``values[0]`` before the first
    bound, ``values[-1]`` after the last."""
    out = values[-1]
    for i in reversed(range(len(bounds) - 1)):
        length = max(bounds[i + 1] - bounds[i], 1)
        done = xp.clip(t - bounds[i], 0.0, length)  # the same where the piece is used; no overflow elsewhere
        out = xp.where(t < bounds[i + 1], anneal(kind, values[i], values[i + 1], done, length, xp), out)
    return out


def interpolate_pieces(t, xp, kind: str, init_value, boundaries, scales):
    """Optax's ``piecewise_interpolate_schedule`` for ``t >= 0``: the values are the running
    products ``init_value * scales[0] * ... * scales[i]``, reached at ``boundaries[i]``
    (:func:`interpolate_values` from ``init_value`` at step 0)."""
    values = [init_value]
    for scale in scales:
        values.append(values[-1] * scale)
    return interpolate_values(t, xp, kind, (0, *boundaries), values)


@register
@dataclass(frozen=True, repr=False)
class Constant(Schedule):
    """``value`` at every step.

    Same as ``optax.constant_schedule`` and HF ``get_constant_schedule`` (times the lr)."""

    kind = "constant"
    matches = "optax.constant_schedule, transformers get_constant_schedule"

    value: float

    def __post_init__(self):
        check_number("value", self.value)

    def _eval(self, t, xp):
        return self.value

    @property
    def duration(self):
        return 0


@register
@dataclass(frozen=True, repr=False)
class Linear(Schedule):
    """A ramp: ``start + (end - start) * min(t, steps) / steps``, then ``end``.

    Same as ``optax.linear_schedule(start, end, steps)`` and PyTorch's
    ``LinearLR(start_factor, end_factor, total_iters)`` on a base lr ``lr`` as
    ``linear(lr * start_factor, lr * end_factor, total_iters)``."""

    kind = "linear"
    matches = "torch LinearLR (start=lr*start_factor, end=lr*end_factor), optax.linear_schedule"

    start: float
    end: float
    steps: float

    def __post_init__(self):
        check_number("start", self.start)
        check_number("end", self.end)
        check_period("steps", self.steps)

    def _eval(self, t, xp):
        return self.start + (self.end - self.start) * xp.minimum(t, self.steps) / self.steps

    @property
    def duration(self):
        return self.steps


@register
@dataclass(frozen=True, repr=False)
class StepDecay(Schedule):
    """``learning_rate * gamma ** floor(t / step_size)``.

    Same as PyTorch's ``StepLR`` (closed form)."""

    kind = "step_decay"
    matches = "torch StepLR"

    learning_rate: float
    step_size: float
    gamma: float = 0.1

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("step_size", self.step_size)
        check_range("gamma", self.gamma, 0, 1)

    def _eval(self, t, xp):
        return self.learning_rate * xp.ipow(float(self.gamma), xp.floor(t / self.step_size))


@register
@dataclass(frozen=True, repr=False)
class MultistepDecay(Schedule):
    """``learning_rate * gamma ** (number of milestones <= t)``: each milestone multiplies by
    ``gamma`` from that step on; a milestone listed twice multiplies twice.

    Same as PyTorch's ``MultiStepLR`` (closed form, ``bisect_right``). Milestones must be whole
    numbers (``30.0`` is taken as 30, ``30.5`` is an error: PyTorch would silently never decay);
    they are stored sorted."""

    kind = "multistep_decay"
    matches = "torch MultiStepLR"

    learning_rate: float
    milestones: tuple
    gamma: float = 0.1

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        milestones = check_numbers("milestones", self.milestones, lambda n, v: check_int(n, v, 0))
        object.__setattr__(self, "milestones", tuple(sorted(milestones)))
        check_nonnegative("gamma", self.gamma)

    def _eval(self, t, xp):
        count = 0.0
        for milestone in self.milestones:  # whole numbers: floor(t) - milestone + 1 >= 1 iff t >= milestone
            count = count + xp.clip(xp.floor(t) - (milestone - 1), 0.0, 1.0)
        return self.learning_rate * xp.ipow(float(self.gamma), count)

    @property
    def duration(self):
        return self.milestones[-1] if self.milestones else 0


@register
@dataclass(frozen=True, repr=False)
class Exponential(Schedule):
    """``learning_rate * gamma ** t``.

    Same as PyTorch's ``ExponentialLR`` (closed form). ``gamma`` is limited to ``[0, 1]`` so
    the value stays finite for every step."""

    kind = "exponential"
    matches = "torch ExponentialLR"

    learning_rate: float
    gamma: float

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_range("gamma", self.gamma, 0, 1)

    def _eval(self, t, xp):
        return self.learning_rate * xp.pow(float(self.gamma), t)


@register
@dataclass(frozen=True, repr=False)
class Polynomial(Schedule):
    """``learning_rate * (1 - min(t, total_iters) / total_iters) ** power``: reaches 0 at
    ``total_iters`` and stays there.

    Same as PyTorch's ``PolynomialLR`` (closed form)."""

    kind = "polynomial"
    matches = "torch PolynomialLR"

    learning_rate: float
    total_iters: float = 5
    power: float = 1.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_period("total_iters", self.total_iters)
        check_positive("power", self.power)

    def _eval(self, t, xp):
        remaining = 1.0 - xp.minimum(t, self.total_iters) / self.total_iters
        return self.learning_rate * xp.pow(remaining, float(self.power))

    @property
    def duration(self):
        return self.total_iters


@register
@dataclass(frozen=True, repr=False)
class PiecewiseInterpolate(Schedule):
    """Interpolate (``"linear"`` or ``"cosine"``) between running products of ``scales``:
    ``init_value`` at 0, ``init_value * scales[0]`` at ``boundaries[0]``, ``... * scales[1]``
    at ``boundaries[1]``, ...; the last value holds after the last boundary.

    Same as ``optax.piecewise_interpolate_schedule(interpolate_type, init_value,
    dict(zip(boundaries, scales)))`` (see :meth:`from_optax`)."""

    kind = "piecewise_interpolate"
    matches = "optax.piecewise_interpolate_schedule"

    interpolate_type: str
    init_value: float
    boundaries: tuple = ()
    scales: tuple = ()

    def __post_init__(self):
        check_choice("interpolate_type", self.interpolate_type, INTERPOLATE_TYPES)
        check_number("init_value", self.init_value)
        boundaries = check_increasing("boundaries", self.boundaries)
        if boundaries:
            check_nonnegative("boundaries[0]", boundaries[0])
        scales = check_numbers("scales", self.scales, check_nonnegative)
        if len(scales) != len(boundaries):
            raise ValueError(
                f"scales must have one entry per boundary: got {len(boundaries)} boundaries "
                f"and {len(scales)} scales"
            )
        object.__setattr__(self, "boundaries", boundaries)
        object.__setattr__(self, "scales", scales)

    @classmethod
    def from_optax(cls, interpolate_type, init_value, boundaries_and_scales=None):
        """Build from Optax's ``{boundary: scale}`` dict."""
        items = sorted((boundaries_and_scales or {}).items())
        return cls(interpolate_type, init_value, [b for b, _ in items], [s for _, s in items])

    def _eval(self, t, xp):
        return interpolate_pieces(
            t, xp, self.interpolate_type, self.init_value, self.boundaries, self.scales
        )

    @property
    def duration(self):
        return self.boundaries[-1] if self.boundaries else 0


@register
@dataclass(frozen=True, repr=False)
class PiecewiseLinear(Schedule):
    """Straight lines through the points ``(steps[i], values[i])``: ``values[0]`` until
    ``steps[0]``, ``values[-1]`` from ``steps[-1]`` on (``interpolate_type="cosine"``: half-cosine
    arcs between the points instead of lines).

    The form of a schedule given by its values at a few steps, such as the one
    :func:`lrdecay.tools.forecast.optimize` finds; Optax's ``piecewise_interpolate_schedule``
    with absolute values instead of running products (:class:`PiecewiseInterpolate`)."""

    kind = "piecewise_linear"
    matches = "optax.piecewise_interpolate_schedule (absolute values)"

    steps: tuple
    values: tuple
    interpolate_type: str = "linear"

    def __post_init__(self):
        steps = check_increasing("steps", self.steps)
        if not steps:
            raise ValueError("steps must hold at least one step, got an empty list")
        check_nonnegative("steps[0]", steps[0])
        values = check_numbers("values", self.values)
        if len(values) != len(steps):
            raise ValueError(f"values must have one entry per step: got {len(steps)} steps and {len(values)} values")
        check_choice("interpolate_type", self.interpolate_type, INTERPOLATE_TYPES)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "values", values)

    def _eval(self, t, xp):
        return interpolate_values(t, xp, self.interpolate_type, self.steps, self.values)

    @property
    def duration(self):
        return self.steps[-1]


SWA_STRATEGIES = ("cos", "linear")


@register
@dataclass(frozen=True, repr=False)
class SWALR(Schedule):
    """Anneal from ``start`` to ``swa_lr`` over ``anneal_epochs`` steps, then hold ``swa_lr``:
    ``swa_lr * a + start * (1 - a)`` with ``a = f(min(t / max(1, anneal_epochs), 1))``,
    ``f(p) = (1 - cos(pi p)) / 2`` (``"cos"``) or ``p`` (``"linear"``); ``anneal_epochs=0``
    gives ``swa_lr`` from step 0.

    Same as ``torch.optim.swa_utils.SWALR``, whose recursive ``get_lr`` recovers, at every step,
    the rate the group had when SWALR took over: that rate is ``start`` here. To anneal from the
    rate another schedule has reached, use :meth:`after` (the SWA phase starts from that
    schedule's value at the switch step, so there is no jump)."""

    kind = "swalr"
    matches = "torch.optim.swa_utils.SWALR"

    start: float
    swa_lr: float
    anneal_epochs: int = 10
    anneal_strategy: str = "cos"

    def __post_init__(self):
        check_number("start", self.start)
        check_number("swa_lr", self.swa_lr)
        check_int("anneal_epochs", self.anneal_epochs, 0)
        check_choice("anneal_strategy", self.anneal_strategy, SWA_STRATEGIES)

    @classmethod
    def after(cls, schedule: Schedule, swa_start, swa_lr, anneal_epochs=10, anneal_strategy="cos"):
        """``schedule`` until step ``swa_start``, then SWALR from ``schedule(swa_start)`` (the
        current rate) to ``swa_lr``: ``join([schedule, swalr(...)], [swa_start])``."""
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a schedule, got {type(schedule).__name__} {schedule!r}")
        swa_start = check_nonnegative("swa_start", swa_start)
        swa = cls(schedule(swa_start), swa_lr, anneal_epochs, anneal_strategy)
        return registry()["join"]((schedule, swa), (swa_start,))

    def _eval(self, t, xp):
        length = max(1, self.anneal_epochs)  # p = done / length = min(t / max(1, E), 1); 1 when E = 0
        done = xp.minimum(t, length) if self.anneal_epochs else 1.0 + 0.0 * t
        if self.anneal_strategy == "linear":
            p = done / length
            return self.swa_lr * p + self.start * (1.0 - p)
        # (1 - cos(pi p)) / 2 and its complement, each without cancellation (Backend.half_cosine)
        return self.swa_lr * xp.half_cosine(done, length, rising=True) + self.start * xp.half_cosine(done, length)

    @property
    def duration(self):
        return self.anneal_epochs


constant = Constant
linear = Linear
step_decay = StepDecay
multistep_decay = MultistepDecay
exponential = Exponential
polynomial = Polynomial
piecewise_interpolate = PiecewiseInterpolate
piecewise_linear = PiecewiseLinear
swalr = SWALR
