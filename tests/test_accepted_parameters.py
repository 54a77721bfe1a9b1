"""Property: whatever parameters a constructor accepts, the schedule is finite and its Python-float
and NumPy paths agree, at every step up to 2**40 (docs/semantics.md, "Parameters").

Every registered kind is drawn, around its examples (tests/examples): any number in a schedule,
its children included, may be replaced by a random one, from tiny to huge, of either sign, and
the schedule may be wrapped in a warm-up, restarting cycles, epochs or a shift. A constructor may
refuse the draw (``ValueError``/``TypeError`` naming the parameter); any other exception at
construction is a defect, and so is an accepted schedule that gives inf, NaN or an exception at
some step, or that still changes after its ``duration``, or whose scalar and array values
differ by more than 1e-12 relative: at every node
of the tree, relative to the node's value or, for a composite, to its children's values (a sum
may cancel; a formula of its own may not). tests/test_mpmath_reference.py holds the formulas to
the exact values.
"""

import math

import numpy as np
import pytest
from examples import all_examples
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay.core.schedule import CALLS_BEFORE_COMPILING

BY_KIND = {}
for _example in all_examples():
    BY_KIND.setdefault(_example.kind, []).append(_example)
KINDS = sorted(lrdecay.registry())
STEP = st.one_of(st.integers(0, 2**40), st.floats(0, 2**40), st.integers(0, 300), st.integers(0, 40).map(lambda k: 2**k))
STEPS = st.lists(STEP, min_size=1, max_size=6)
TOLERANCE = 1e-12
WRAPS = ("none", "none", "warmup", "cycle", "per_epoch", "shift")


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


def _wrapped(data, schedule):
    """``schedule``, or a warm-up into it, restarts of it, it in epochs, or it shifted."""
    wrap = data.draw(st.sampled_from(WRAPS))
    count = st.one_of(st.integers(1, 1000), st.integers(1, 2**40), st.floats(0.5, 1e4))
    if wrap == "warmup":
        shape = data.draw(st.sampled_from(["linear", "cosine", "burnin", "exponential"]))
        return lrdecay.warmup(schedule, data.draw(count), start=data.draw(st.floats(0, 1)), shape=shape)
    if wrap == "cycle":
        limit = data.draw(st.one_of(st.none(), st.integers(1, 50)))
        return lrdecay.cycle(schedule, data.draw(count), period_mul=data.draw(st.sampled_from([1, 2, 1.5, 3.7])),
                             peak_mul=data.draw(st.floats(0.1, 1.0)), limit=limit)
    if wrap == "per_epoch":
        return lrdecay.per_epoch(schedule, data.draw(count), staircase=data.draw(st.booleans()))
    if wrap == "shift":
        return schedule.shift(data.draw(st.integers(-1000, 2**40)))
    return schedule


def _nodes(schedule):
    """``schedule`` and every schedule below it, each once."""
    found, todo = {}, [schedule]
    while todo:
        node = todo.pop()
        if isinstance(node, lrdecay.Schedule) and id(node) not in found:
            found[id(node)] = node
            todo += _children(node)
    return list(found.values())


def _children(schedule):
    children = []
    for value in schedule.params().values():
        values = value if isinstance(value, (list, tuple)) else [value]
        children += [v for v in values if isinstance(v, lrdecay.Schedule)]
    return children


def _scalars(schedule, steps):
    """``schedule(step)`` through the compiled function (compiled on the 16th call)."""
    for _ in range(CALLS_BEFORE_COMPILING):
        schedule(0)
    return np.array([schedule(s) for s in steps])


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), steps=STEPS)
def test_accepted_parameters_give_finite_values_and_scalar_equals_array(kind, data, steps):
    if kind not in BY_KIND:
        pytest.fail(f"no example of {kind!r} in tests/examples: it can't be drawn")
    example = data.draw(st.sampled_from(BY_KIND[kind]))
    try:
        schedule = _wrapped(data, _perturbed(data, example))
    except (ValueError, TypeError):
        return  # refused by a constructor, with a message (tests/test_validation.py checks those)
    duration = schedule.duration
    assert duration is None or duration >= 0, (schedule, duration)
    if duration is not None and duration < 2**40:
        ends = [schedule(x) for x in (math.floor(duration) + 1, math.floor(2 * duration) + 1, 2**40)]
        assert ends == ends[:1] * 3, (schedule, duration, ends)  # it no longer changes
        steps = steps + [duration, math.floor(duration) + 1]
    steps = steps + [2**40]
    array = np.array(steps, dtype=np.float64)
    with np.errstate(all="ignore"):
        vectors = {id(node): node(array) for node in _nodes(schedule)}
    for node in _nodes(schedule):
        vector, scalars = vectors[id(node)], _scalars(node, steps)
        assert np.isfinite(vector).all() and np.isfinite(scalars).all(), (node, steps, vector, scalars)
        scale = np.max([np.abs(vector)] + [np.abs(vectors[id(c)]) for c in _children(node)], axis=0)
        assert (np.abs(scalars - vector) <= TOLERANCE * scale).all(), (node, steps, scalars, vector)
