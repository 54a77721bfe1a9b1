"""Operators on schedules: ``a + b``, ``0.5 * s``, ``s / 2``, ``s.clip(min, max)``,
``s.shift(steps)``. Each is a registered node like every composite, whose ``repr`` is the
expression (``0.5 * cosine_decay(...)``) and reads back with :func:`lrdecay.parse`."""

from __future__ import annotations

from dataclasses import dataclass

from lrdecay.core.schedule import (
    Schedule,
    bound_of,
    cached_duration,
    check_schedule,
    register,
    steps_after,
    value_bound,
)
from lrdecay.core.validate import (
    check_number,
)

__all__ = ["Add", "add", "Multiply", "multiply", "Divide", "divide", "Clip", "clip", "Shift", "shift"]


def _check_operand(name: str, value):
    if isinstance(value, Schedule):
        return value
    return check_number(name, value)


def _operand_duration(left: Schedule, right):
    first = left.duration
    if not isinstance(right, Schedule):
        return first
    second = right.duration
    if first is None or second is None:
        return None
    return max(first, second)


def _operand_value(operand, t, xp):
    return operand._eval(t, xp) if isinstance(operand, Schedule) else operand


@dataclass(frozen=True, repr=False)
class _Binary(Schedule):
    left: Schedule
    right: Schedule | float

    def __post_init__(self):
        check_schedule("left", self.left)
        _check_operand("right", self.right)

    @cached_duration
    def duration(self):
        return _operand_duration(self.left, self.right)


#: Binding strength of the operator each arithmetic node is written with (``repr``).
_ADDITIVE, _MULTIPLICATIVE = 1, 2


def _operand_repr(value, precedence: int) -> str:
    """``repr`` of an operand of an operator of ``precedence``, parenthesized when it binds less
    tightly (``0.5 * (a + b)``)."""
    text = repr(value)
    inner = getattr(value, "_precedence", None)
    return f"({text})" if inner is not None and inner < precedence else text


@register
@dataclass(frozen=True, repr=False)
class Add(_Binary):
    """``left(t) + right`` (``right`` a number or a schedule); ``s + k``, ``k + s``, ``s - k``,
    ``s1 + s2``, ``s1 - s2`` build it."""

    kind = "add"
    matches = "s + k, s1 + s2"
    _precedence = _ADDITIVE

    def _eval(self, t, xp):
        return self.left._eval(t, xp) + _operand_value(self.right, t, xp)

    def _bound_from_children(self):
        bounds = value_bound(self.left), value_bound(self.right)
        return None if None in bounds else bounds[0] + bounds[1]

    def __repr__(self):
        """Operator syntax that :func:`lrdecay.parse` reads back: ``s + k``, ``s - k``,
        ``s1 - s2`` (for ``add(s1, -1.0 * s2)``)."""
        left, right = _operand_repr(self.left, _ADDITIVE), self.right
        if not isinstance(right, Schedule) and right < 0:
            return f"{left} - {-right!r}"
        if isinstance(right, Multiply) and not isinstance(right.right, Schedule) and right.right == -1.0 \
                and type(right.right) is float:
            return f"{left} - {_operand_repr(right.left, _ADDITIVE + 1)}"
        return f"{left} + {_operand_repr(right, _ADDITIVE + 1)}"


@register
@dataclass(frozen=True, repr=False)
class Multiply(_Binary):
    """``left(t) * right`` (``right`` a number or a schedule); ``k * s``, ``s * k``, ``s1 * s2``
    build it (torch ``ChainedScheduler``/``LambdaLR`` factors, optax ``chain`` of scales)."""

    kind = "multiply"
    matches = "k * s, s1 * s2, torch ChainedScheduler of factors"
    _precedence = _MULTIPLICATIVE

    def _eval(self, t, xp):
        return self.left._eval(t, xp) * _operand_value(self.right, t, xp)

    def _bound_from_children(self):
        bounds = value_bound(self.left), value_bound(self.right)
        return None if None in bounds else bounds[0] * bounds[1]

    def __repr__(self):
        """Operator syntax that :func:`lrdecay.parse` reads back: ``k * s`` or ``s1 * s2``."""
        if isinstance(self.right, Schedule):
            # the right operand of * binds like a parenthesized term: a * (b * c), a * (b / k)
            return f"{_operand_repr(self.left, _MULTIPLICATIVE)} * {_operand_repr(self.right, _MULTIPLICATIVE + 1)}"
        return f"{self.right!r} * {_operand_repr(self.left, _MULTIPLICATIVE + 1)}"


@register
@dataclass(frozen=True, repr=False)
class Divide(Schedule):
    """``schedule(t) / divisor`` (``s / k``), divided, not multiplied by ``1/k``, so no extra
    rounding."""

    kind = "divide"
    matches = "s / k"
    _precedence = _MULTIPLICATIVE

    schedule: Schedule
    divisor: float

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_number("divisor", self.divisor)
        if self.divisor == 0:
            raise ValueError("divisor must be != 0, got 0")

    def _eval(self, t, xp):
        return self.schedule._eval(t, xp) / self.divisor

    def _bound_from_children(self):
        bound = value_bound(self.schedule)
        return None if bound is None else bound / abs(self.divisor)

    def __repr__(self):
        """Operator syntax that :func:`lrdecay.parse` reads back: ``s / k``."""
        return f"{_operand_repr(self.schedule, _MULTIPLICATIVE)} / {self.divisor!r}"

    @cached_duration
    def duration(self):
        return self.schedule.duration


add, multiply, divide = Add, Multiply, Divide


@register
@dataclass(frozen=True, repr=False)
class Clip(Schedule):
    """``min(max(schedule(t), min), max)``; either bound may be None (``s.clip(min=1e-6)``)."""

    kind = "clip"
    matches = "s.clip(min=, max=), timm/HF lr floors"

    schedule: Schedule
    min: float | None = None
    max: float | None = None

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        if self.min is None and self.max is None:
            raise ValueError("clip needs min, max or both; got neither")
        low = None if self.min is None else check_number("min", self.min)
        high = None if self.max is None else check_number("max", self.max)
        if low is not None and high is not None and low > high:
            raise ValueError(f"min must be <= max, got min={low!r} and max={high!r}")

    def _eval(self, t, xp):
        value = self.schedule._eval(t, xp)
        if self.min is not None:
            value = xp.maximum(value, self.min)
        if self.max is not None:
            value = xp.minimum(value, self.max)
        return value

    def _bound_from_children(self):  # between the bounds, or the schedule's value
        return bound_of(self.schedule, *(b for b in (self.min, self.max) if b is not None))

    @cached_duration
    def duration(self):
        return self.schedule.duration


clip = Clip


@register
@dataclass(frozen=True, repr=False)
class Shift(Schedule):
    """``schedule(max(t - steps, 0))``: delayed by ``steps`` (holding ``schedule(0)`` meanwhile);
    a negative ``steps`` starts the schedule ``-steps`` steps in (``s.shift(-100)(0) == s(100)``)."""

    kind = "shift"
    matches = "s.shift(n); timm warmup_prefix=False clock, darknet's absolute clock after burn-in"

    schedule: Schedule
    steps: float

    def __post_init__(self):
        check_schedule("schedule", self.schedule)
        check_number("steps", self.steps)

    def _eval(self, t, xp):
        return self.schedule._eval(xp.maximum(t - self.steps, 0.0), xp)

    @cached_duration
    def duration(self):
        d = self.schedule.duration
        return None if d is None else max(steps_after(d, self.steps), 0)


shift = Shift
