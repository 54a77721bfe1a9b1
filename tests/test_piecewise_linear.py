"""piecewise_linear: straight lines (or half-cosine arcs) through given points, checked against
NumPy's ``interp`` and exact arithmetic, on every backend, with clear errors."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrdecay


@st.composite
def points(draw):
    n = draw(st.integers(1, 12))
    gaps = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n))
    steps = list(np.cumsum(gaps) - gaps[0] + draw(st.integers(0, 100)))
    values = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n))
    return [int(s) for s in steps], values


@given(points())
def test_linear_is_numpy_interp_and_exact(data):
    steps, values = data
    s = lrdecay.piecewise_linear(steps, values)
    t = np.arange(0, steps[-1] + 50, max(1, steps[-1] // 500))
    np.testing.assert_allclose(s(t.astype(float)), np.interp(t, steps, values), rtol=1e-12, atol=1e-12)
    for step in (0, steps[0], steps[-1], steps[-1] + 10**9, *steps, *(a + 1 for a in steps)):
        i = int(np.searchsorted(steps, step, side="right")) - 1
        if i < 0:
            exact = values[0]
        elif i >= len(steps) - 1:
            exact = values[-1]
        else:
            p = mpmath.mpf(step - steps[i]) / (steps[i + 1] - steps[i])
            exact = values[i] + (mpmath.mpf(values[i + 1]) - values[i]) * p
        assert s(step) == pytest.approx(float(exact), rel=1e-14, abs=1e-14)
        assert s(np.array([float(step)]))[0] == s(step)


def test_cosine_arcs_meet_the_points():
    s = lrdecay.piecewise_linear([0, 100, 300], [1.0, 0.2, 0.0], interpolate_type="cosine")
    assert [s(0), s(100), s(300), s(10**6)] == [1.0, 0.2, 0.0, 0.0]
    assert s(50) == pytest.approx(0.6, rel=1e-15)  # the middle of a half-cosine arc
    assert s(200) == pytest.approx(0.1, rel=1e-15)


def test_frameworks_give_the_same_numbers():
    import jax.numpy as jnp
    import torch

    s = lrdecay.piecewise_linear([10, 100, 1000], [0.1, 0.05, 1e-4])
    t = np.arange(0, 1200, 7, dtype=np.float64)
    expected = np.interp(t, [10, 100, 1000], [0.1, 0.05, 1e-4])
    np.testing.assert_allclose(np.asarray(s(torch.tensor(t))), expected, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(s(jnp.asarray(t, dtype=jnp.float32))), expected, rtol=1e-5)


def test_round_trips_and_duration():
    s = lrdecay.piecewise_linear([0, 100, 700], [0.0, 0.1, 0.0])
    assert lrdecay.parse(repr(s)) == s and lrdecay.from_dict(s.to_dict()) == s
    assert s.duration == 700 and math.isclose(s(400), 0.05)


@pytest.mark.parametrize("args, message", [
    (([], []), "steps must hold at least one step"),
    (([0, 10], [1.0]), "values must have one entry per step: got 2 steps and 1 values"),
    (([10, 5], [1.0, 2.0]), "steps"),
    (([-1, 5], [1.0, 2.0]), "steps[0] must be >= 0"),
    (([0, 5], [1.0, float("nan")]), "values"),
    (([0, 5], [1.0, 2.0], "spline"), "interpolate_type must be one of"),
])
def test_bad_input_names_the_parameter(args, message):
    with pytest.raises(ValueError, match=None) as error:
        lrdecay.piecewise_linear(*args)
    assert message in str(error.value)
