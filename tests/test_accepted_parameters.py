"""Property: whatever parameters a constructor accepts, the schedule is finite and its Python-float
and NumPy paths agree, at every step up to 2**40 (docs/semantics.md, "Parameters").

Parameters are drawn around every kind's examples (tests/examples): any number in a schedule,
its children included, may be replaced by a random one, from tiny to huge, of either sign. A
constructor may refuse the draw (``ValueError``/``TypeError`` naming the parameter); any other
exception at construction is a defect, and so is an accepted schedule that gives inf, NaN or an
exception at some step, or whose scalar and array values differ beyond round-off.
"""

import math

import numpy as np
import pytest
from examples import all_examples
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay

BY_KIND = {}
for _example in all_examples():
    BY_KIND.setdefault(_example.kind, []).append(_example)
KINDS = sorted(BY_KIND)
STEPS = st.lists(st.one_of(st.integers(0, 2**40), st.floats(0, 2**40)), min_size=1, max_size=6)
PROBE = np.unique(np.concatenate([np.arange(0.0, 64.0), np.geomspace(1.0, 2.0**40, 200).round()]))


def _random_number(data, value):
    """A replacement for the number ``value``: a nearby one, a power of 10 from 1e-300 to 1e300
    of either sign, a small whole number, or (for integers) any count up to 2**40."""
    choice = data.draw(st.integers(0, 4 if isinstance(value, int) else 3))
    if choice == 0:
        return value * 2.0 ** data.draw(st.integers(-30, 30))
    if choice == 1:
        sign = data.draw(st.sampled_from([1.0, -1.0]))
        return sign * 10.0 ** data.draw(st.integers(-300, 300))
    if choice == 2:
        return data.draw(st.integers(0, 10))
    if choice == 3:
        return data.draw(st.floats(-1e6, 1e6, allow_nan=False))
    return data.draw(st.integers(0, 2**40))


def _perturbed(data, value):
    if isinstance(value, lrdecay.Schedule):
        params = {name: _perturbed(data, v) for name, v in value.params().items()}
        return type(value)(**params)
    if isinstance(value, (list, tuple)):
        return [_perturbed(data, v) for v in value]
    if isinstance(value, dict):
        return {k: _perturbed(data, v) for k, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and data.draw(st.booleans()):
        return _random_number(data, value)
    return value


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25)
@given(data=st.data(), steps=STEPS)
def test_accepted_parameters_give_finite_values_and_scalar_equals_array(kind, data, steps):
    example = data.draw(st.sampled_from(BY_KIND[kind]))
    try:
        schedule = _perturbed(data, example)
    except (ValueError, TypeError):
        return  # refused by a constructor, with a message (tests/test_validation.py checks those)
    steps = steps + [2**40]
    vector = schedule(np.array(steps, dtype=np.float64))
    scalars = np.array([schedule(s) for s in steps])
    assert np.isfinite(vector).all() and np.isfinite(scalars).all(), (schedule, steps, vector, scalars)
    with np.errstate(all="ignore"):
        scale = float(np.max(np.abs(schedule(PROBE))))
    assert math.isfinite(scale), schedule
    tolerance = 1e-9 * np.abs(vector) + 1e-12 * scale
    assert (np.abs(scalars - vector) <= tolerance).all(), (schedule, steps, scalars, vector)
