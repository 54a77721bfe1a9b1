"""The Schedule base class and the registry of schedule kinds.

A schedule is an immutable value (a frozen dataclass) that maps a step to a number. It holds no
counter and no optimizer; resuming a run is evaluating it at the saved step. Each subclass writes
its formula once, in ``_eval(t, xp)``, against the backend namespace ``xp`` (see
:mod:`lrdecay.core.backends`), and registers under a ``kind`` used by ``to_dict``/``from_dict``/``parse``
and by ``repr``.
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import inspect
import math
import numbers
import operator
from typing import ClassVar

from lrdecay.core.backends import MATH, get_backend
from lrdecay.core.kinds import kind_class, register, registry
from lrdecay.core.validate import plain_value

__all__ = ["Schedule", "register", "registry"]  # the registry's functions, where 0.2 had them

class _CallSignature:
    """``(step)`` for a schedule, None for a schedule class (whose signature is its parameters)."""

    def __get__(self, schedule, owner=None):
        if schedule is None:
            return None
        return inspect.Signature([inspect.Parameter("step", inspect.Parameter.POSITIONAL_OR_KEYWORD)])


#: Scalar calls a schedule answers from its formula directly before it compiles its scalar
#: function: a schedule called only a few times (by a parent at construction, in a check, in a
#: plot of a few points) never pays for compiling (about 0.5 ms).
CALLS_BEFORE_COMPILING = 16


def compiled_call(schedule):
    """``schedule``'s compiled scalar function (:mod:`lrdecay.core.compile`), compiled now if it
    isn't yet: for callers that will evaluate it many times (the torch adapter's step)."""
    function = schedule.__dict__.get("_compiled")
    if function is None:
        from lrdecay.core.compile import scalar_function

        function = schedule.__dict__["_compiled"] = schedule.__dict__["_call"] = scalar_function(schedule)
    return function


class _CompiledOnFirstUse:
    """``schedule._call``: on first access, a function that evaluates ``_eval`` on the ``math``
    backend for the first :data:`CALLS_BEFORE_COMPILING` calls and then puts the compiled
    function in its place; stored in the instance's ``__dict__`` (a non-data descriptor: later
    reads find the function there directly)."""

    def __get__(self, schedule, owner=None):
        if schedule is None:
            return self
        remaining = CALLS_BEFORE_COMPILING

        def call(step):  # a caller may hold on to it: once compiled, it hands every call over
            nonlocal remaining
            remaining -= 1
            if remaining <= 0:
                return compiled_call(schedule)(step)
            cls = type(step)
            if (cls is int or cls is float) and 0 <= step < math.inf:
                return float(schedule._eval(float(step) + 0.0, MATH))  # a step of -0.0 is step 0
            return schedule._call_other(step)

        schedule.__dict__["_call"] = call
        return call


class Schedule:
    """Base of every schedule: ``s(step) -> value``.

    ``step`` may be a Python int/float (gives a float), a NumPy array (float64 array of the same
    shape), a JAX array or tracer, a ``tf.Tensor``/``tf.Variable`` (float32) or a torch tensor.
    Subclasses are frozen dataclasses that define ``kind``, ``_eval`` and, when they end,
    ``duration``.
    """

    kind: ClassVar[str] = ""
    #: The framework functions this schedule reproduces (shown by ``lrdecay list``).
    matches: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is not None and not getattr(own, "_shared_checks", False):
            cls.__post_init__ = _with_shared_checks(own)

    def __post_init__(self):
        """Checks shared by every kind, around each kind's own ``__post_init__`` (wrapped when the
        class is defined): first every parameter becomes a plain Python value
        (:func:`~lrdecay.core.validate.plain_value`: NumPy scalars as ints, floats, bools; lists as
        tuples), so the kind's checks and its stored values see only those; last, the finished
        schedule is evaluated at probe steps (:func:`_check_finite`)."""

    #: ``s(step)``: the schedule's compiled function (:mod:`lrdecay.core.compile`), read from the
    #: instance by a C-level getter, so that a call runs no Python frame besides the formula's.
    __call__ = property(operator.attrgetter("_call"), doc="s(step) -> the value at step")
    #: what ``inspect.signature(s)`` reports (``__call__`` being a property, it can't find it)
    __signature__ = _CallSignature()

    def _call_other(self, step):
        """``s(step)`` for every step that is not a Python int or float >= 0."""
        cls = type(step)
        if cls is int or cls is float:
            raise ValueError(f"step must be a finite number >= 0, got {step!r}")
        return get_backend(step).evaluate(self._eval, step)

    def curve(self, steps, *, dtype=None, out=None):
        """The values at ``0, 1, ..., steps - 1`` (an int ``steps``) or at every step of a NumPy
        array, as a NumPy array: float64, or ``dtype`` (``np.float32`` halves the memory), or
        written into ``out`` (an array of the steps' shape and a float dtype), which is returned.
        Values are the float64 formula rounded once to the result's dtype; no float64 copy of
        the whole curve is made."""
        from lrdecay.core.backends import numpy_backend

        return numpy_backend().values(self._eval, *_curve_args(steps, dtype, out))

    #: ``step -> value``: ``_eval`` traced and compiled once the schedule is in use
    #: (:mod:`lrdecay.core.compile`); equal to ``float(self._eval(float(step), MATH))`` for Python numbers.
    _call = _CompiledOnFirstUse()

    def __getstate__(self):  # pickle / deepcopy: the compiled function is rebuilt on use
        state = dict(self.__dict__)
        state.pop("_call", None)
        state.pop("_compiled", None)
        return state

    def _eval(self, t, xp):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def duration(self) -> int | float | None:
        """Number of steps until the schedule stops changing; None if it never does."""
        return None

    def _bound_from_children(self) -> float | None:
        """A bound on ``|self(t)|`` from the bounds of its children (each probed when it was
        built), for a composite that only adds, multiplies, divides by a number, clips or selects
        its children's values at steps from 0 to ``t`` (``a + b``, ``clip``, ``join``): finite
        values within bounds stay finite, so it needs no probe of its own
        (:func:`_check_finite`). None, the default: probe it (a warm-up's ramp, a shift or
        ``per_epoch``, which move the step beyond the children's probes, are probed)."""
        return None

    # -- composition (the nodes live in lrdecay.compose, found by kind) -----------------------

    def __mul__(self, other):
        return kind_class("multiply")(self, other) if _operand(other) else NotImplemented

    __rmul__ = __mul__

    def __add__(self, other):
        return kind_class("add")(self, other) if _operand(other) else NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if not _operand(other):
            return NotImplemented
        return kind_class("add")(self, -other if _is_number(other) else -1.0 * other)

    def __rsub__(self, other):
        return kind_class("add")(-1.0 * self, other) if _is_number(other) else NotImplemented

    def __neg__(self):
        return -1.0 * self

    def __truediv__(self, other):
        return kind_class("divide")(self, other) if _is_number(other) else NotImplemented

    def clip(self, min=None, max=None):  # noqa: A002 - the natural names
        """This schedule bounded to ``[min, max]`` (either may be None)."""
        return kind_class("clip")(self, min=min, max=max)

    def shift(self, steps):
        """This schedule delayed by ``steps``: value ``self(max(t - steps, 0))``."""
        return kind_class("shift")(self, steps)

    # -- re-planning at a checkpoint (the nodes live in lrdecay.compose.replan) --------------

    def extend(self, total, at):
        """This schedule until step ``at``, then what is left of it stretched to end at
        ``total`` (continuous at ``at``): see :class:`lrdecay.Extend`."""
        return kind_class("extend")(self, total, at)

    def cooldown_from(self, step, length, shape="linear", to=None):
        """This schedule until ``step``, then a cool-down of ``length`` steps from its value at
        ``step`` to ``to`` (default: its final value if it still changes after ``step``, else 0.0,
        as for a constant phase): see :class:`lrdecay.Cooldown`."""
        return kind_class("cooldown")(self, step, length, shape, to)

    # -- specs ------------------------------------------------------------------------------

    def params(self) -> dict:
        """The constructor arguments, as given (children are schedules)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict:
        """A JSON-able dict with ``kind`` and every parameter; composites nest their children."""
        return {"kind": self.kind, **{k: _encode(v) for k, v in self.params().items()}}

    def __repr__(self) -> str:
        """The call that builds this schedule; parameters left at their default are omitted."""
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and _same(value, f.default):
                continue
            parts.append(f"{f.name}={_repr(value)}")
        return f"{self.kind}({', '.join(parts)})"


def _curve_args(steps, dtype, out):
    """Checked ``(steps, out, dtype)`` for :meth:`Schedule.curve`."""
    import numpy as np

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer, np.ndarray)):
        raise TypeError(f"steps must be an int (the number of steps) or a NumPy array of steps, got {steps!r}")
    if not isinstance(steps, np.ndarray):
        steps = int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
    shape = steps.shape if isinstance(steps, np.ndarray) else (steps,)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a NumPy array, got {type(out).__name__}")
        if out.shape != shape:
            raise ValueError(f"out must have the steps' shape {shape}, got {out.shape}")
        if dtype is not None and np.dtype(dtype) != out.dtype:
            raise ValueError(f"dtype={np.dtype(dtype)} differs from out's dtype {out.dtype}; give one of them")
        dtype = out.dtype
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a NumPy float dtype, got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a float dtype (float32, float64), got {dtype}")
    return steps, out, dtype


def _with_shared_checks(check):
    """``check`` (a kind's ``__post_init__``) between the shared checks; these run once, in the
    outermost ``__post_init__`` (a kind's check may call its base's)."""

    @functools.wraps(check)
    def __post_init__(self):
        outermost = type(self).__post_init__ is __post_init__
        if outermost:
            for field in dataclasses.fields(self):
                value = getattr(self, field.name)
                plain = plain_value(field.name, value)
                if plain is not value:
                    object.__setattr__(self, field.name, plain)
        check(self)
        if outermost:
            _check_finite(self)

    __post_init__._shared_checks = True
    return __post_init__


Schedule.__post_init__ = _with_shared_checks(Schedule.__post_init__)

#: Steps where every schedule is evaluated once it is built: the first steps, powers of 2 and of
#: 10 and their neighbours up to 2**63, and (added per schedule) around its duration.
_PROBE_STEPS = sorted(
    {0, 1, 2, 3, 5, 7, 10}
    | {2**k + d for k in range(1, 64) for d in (-1, 0, 1)}
    | {10**k for k in range(1, 19)}
)
_SCALAR_PROBES = [0, 1, 2**20 + 1, 2**31, 2**40 - 1, 2**53 + 2, 2**63]
_PROBE_ARRAY = None  # _PROBE_STEPS as a float64 array, made on first use (NumPy loads lazily)


#: A composite whose children's bounds keep its values below this (16 times below the largest
#: float, room for round-off) is finite wherever its children are: it is not probed again.
BOUND_LIMIT = 2.0**1020


def value_bound(value) -> float | None:
    """``|value|`` for a number; for a schedule, the bound on ``|s(t)|`` found when it was built
    (the largest magnitude at its probe steps, or its children's bound); None if unknown."""
    if isinstance(value, Schedule):
        return value.__dict__.get("_bound")
    return abs(float(value))


def bound_of(*values) -> float | None:
    """The largest :func:`value_bound` of ``values``; None if one is unknown."""
    bounds = [value_bound(v) for v in values]
    return None if None in bounds else max(bounds)


def cached_duration(compute):
    """``duration`` as a property computed once per schedule (children are immutable): a parent's
    duration reads its children's in constant time, so building a tree stays linear. Cached only
    once the schedule is built (probed)."""

    def duration(self):
        state = self.__dict__
        if "_duration" in state:
            return state["_duration"]
        value = compute(self)
        if "_bound" in state:
            state["_duration"] = value
        return value

    duration.__doc__ = compute.__doc__ or Schedule.duration.__doc__
    return property(duration)


def steps_after(*terms, times=None):
    """``sum(terms)`` (times ``times``), exact for ints; for floats the float at or just above the
    exact result, never below it: a duration that rounded down would name a step where the
    schedule still changes (``warmup`` of 5 steps into a 1e-20-step ramp ends after step 5)."""
    exact = sum(fractions.Fraction(x) for x in terms) * (1 if times is None else fractions.Fraction(times))
    if exact.denominator == 1 and all(type(x) is int for x in (*terms, 1 if times is None else times)):
        return int(exact)
    value = float(exact)
    return math.nextafter(value, math.inf) if fractions.Fraction(value) < exact else value


def _check_finite(schedule) -> None:
    """Refuse parameters whose values overflow or are undefined (inf, NaN, an exception) at the
    probe steps: at every step of the steps 0, 1, 2, ..., powers of 2 and 10 up to 2**63 and
    around the duration, in float64 (NumPy) and at a few of them as Python floats.

    A composite that keeps finite values finite (``_bound_from_children``) is not probed when its
    children's bounds keep it below :data:`BOUND_LIMIT`: each node of a tree is probed at most
    once, and building a tree costs time linear in its nodes. Every schedule keeps the bound
    (``_bound``) its parents use."""
    bound = schedule._bound_from_children()
    if bound is not None and bound <= BOUND_LIMIT:
        schedule.__dict__["_bound"] = float(bound)
        return
    from lrdecay.core.backends import numpy_backend

    extra = []
    duration = schedule.duration
    if duration is not None and 0 <= duration < 2.0**63:
        extra = [max(duration + d, 0) for d in (-1, 0, 1)] + [2 * duration, 10 * duration]
    xp = numpy_backend()
    np = xp.np
    if _PROBE_ARRAY is None:
        globals()["_PROBE_ARRAY"] = np.array(_PROBE_STEPS, dtype=np.float64)
    t = np.sort(np.concatenate([_PROBE_ARRAY, np.array(extra, dtype=np.float64)])) if extra else _PROBE_ARRAY.copy()
    try:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(schedule._eval(t, xp), dtype=np.float64), t.shape)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            step, value = float(t[bad[0]]), float(values[bad[0]])
            raise ValueError(f"{schedule!r} is {value!r} at step {step:.17g}: its parameters overflow float64")
        bound = float(np.max(np.abs(values))) if values.size else 0.0
        for step in _SCALAR_PROBES + extra:
            value = float(schedule._eval(float(step), MATH))
            if not math.isfinite(value):
                raise ValueError(f"{schedule!r} is {value!r} at step {step!r}: its parameters overflow float64")
            bound = max(bound, abs(value))
    except (OverflowError, ZeroDivisionError, ArithmeticError) as error:
        raise ValueError(f"{schedule!r} cannot be evaluated: its parameters overflow float64 ({error})") from None
    schedule.__dict__["_bound"] = bound


def check_schedule(name: str, value) -> Schedule:
    """``value`` if it is a schedule, else a TypeError naming ``name`` (for composites)."""
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be a schedule, got {type(value).__name__} {value!r}")
    return value


def check_schedules(name: str, values) -> tuple:
    """``values`` as a tuple of schedules (at least one), else an error naming ``name``."""
    if isinstance(values, Schedule) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of schedules, got {type(values).__name__} {values!r}")
    if not values:
        raise ValueError(f"{name} must hold at least one schedule, got an empty list")
    return tuple(check_schedule(f"{name}[{i}]", v) for i, v in enumerate(values))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _operand(value) -> bool:
    return isinstance(value, Schedule) or _is_number(value)


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _encode(value):
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


def _repr(value) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_repr(v) for v in value) + "]"
    return repr(value)
