"""Argument checks shared by every constructor.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad value)
with a message that names the parameter, the value and the rule, e.g.
``decay_steps must be > 0, got 0``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable
from typing import cast

__all__ = [
    "plain_value",
    "check_number",
    "check_positive",
    "check_period",
    "check_finite",
    "check_nonnegative",
    "check_range",
    "check_int",
    "check_bool",
    "check_choice",
    "check_numbers",
    "check_increasing",
]


_PLAIN = (int, float, bool, str, type(None))


def plain_value(name: str, value):
    """``value`` as the Python value a spec can hold: NumPy scalars (``np.int64``, ``np.float32``,
    ``np.bool_``, ``np.str_``) and other numbers become Python ints, floats, bools and strings,
    lists, tuples and 1-d NumPy arrays become tuples of plain values; anything else (schedules, dicts, values of
    the wrong kind, which the checks then refuse) is returned as it is. An integer too large for
    a float is refused here: ``ValueError`` naming ``name``."""
    kind = type(value)
    if kind in _PLAIN:
        if kind is int:
            _check_int_fits(name, value)
        return value
    if isinstance(value, (list, tuple)):
        return tuple(plain_value(f"{name}[{i}]", v) for i, v in enumerate(value))
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.generic, numpy.ndarray)) and value.dtype.kind in "biufU":
        if value.ndim == 1:  # boundaries=np.array([...]): a tuple, like a list
            return tuple(plain_value(f"{name}[{i}]", v) for i, v in enumerate(value))
        if value.ndim == 0:
            return plain_value(name, value.item())
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return plain_value(name, int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def _check_int_fits(name: str, value: int) -> None:
    if not -sys.float_info.max <= value <= sys.float_info.max:
        raise ValueError(
            f"{name} must be a finite number that fits in a float (|value| <= {sys.float_info.max!r}), "
            f"got an integer of {len(str(abs(value)))} digits"
        )


def check_number(name: str, value) -> float | int:
    """A finite real number (bool and NaN/inf rejected, and integers too large for a float).
    Returns it as a Python int or float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    if isinstance(value, numbers.Integral):
        value = int(value)
        _check_int_fits(name, value)
        return value
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(name: str, value) -> float | int:
    value = check_number(name, value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


#: The shortest period (a length in steps that a step is divided by): ``step / period`` stays
#: finite for every step up to 2**63.
MIN_PERIOD = 2.0**63 / sys.float_info.max


def check_period(name: str, value) -> float | int:
    """A length in steps that steps are divided by: ``> 0``, and at least :data:`MIN_PERIOD` so
    that ``step / value`` is finite for every step up to 2**63."""
    value = check_positive(name, value)
    if value < MIN_PERIOD:
        raise ValueError(
            f"{name} must be >= {MIN_PERIOD:.3g} (step / {name} must stay finite up to step 2**63), got {value!r}"
        )
    return value


def check_finite(what: str, compute) -> float:
    """``compute()``, a value derived from parameters (a peak, a final value): finite, else a
    ``ValueError`` that says which combination overflows."""
    try:
        value = compute()
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{what} overflows float64 (got {value!r}); these parameters are refused")
    return value


def check_nonnegative(name: str, value) -> float | int:
    value = check_number(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_range(name: str, value, low=None, high=None, *, low_open=False, high_open=False):
    """``low <(=) value <(=) high``; either bound may be None."""
    value = check_number(name, value)
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low!r}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high!r}, got {value!r}")
    return value


def check_int(name: str, value, minimum: int | None = None) -> int:
    """A whole number (an int, or a float with no fraction), optionally ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Integral):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(cast(float, value))  # a numbers.Real: an int, or a float with no fraction
    _check_int_fits(name, value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_numbers(name: str, values, check=check_number) -> tuple:
    """A list or tuple of numbers, each passing ``check``; returned as a tuple."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__} {values!r}")
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(values))


def check_increasing(name: str, values) -> tuple:
    """Numbers in strictly increasing order."""
    values = check_numbers(name, values)
    for i in range(1, len(values)):
        if not values[i] > values[i - 1]:
            raise ValueError(
                f"{name} must be strictly increasing, got {name}[{i - 1}]={values[i - 1]!r} "
                f"and {name}[{i}]={values[i]!r}"
            )
    return values
