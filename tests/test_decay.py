"""The TensorFlow decay family against the real tf.compat.v1.train functions and against mpmath.

Parity statement (docs/tensorflow.md): for exponential_decay, natural_exp_decay,
inverse_time_decay, piecewise_constant and polynomial_decay our float32 path (a tf.Tensor step)
is bit-identical to TensorFlow's at every tested step; the one exception is polynomial_decay with
cycle=True far out in float32, where TensorFlow's round-off gives NaN and we give
end_learning_rate.
"""

import json
import math

import mpmath
import numpy as np
import pytest
import tensorflow as tf
from _tf_parity import (
    V1,
    assert_bit_identical,
    assert_float64_exact,
    assert_float64_near_tf,
    parity_steps,
)

from lrdecay import (
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)

STEP_DECAY_PARAMS = [
    # learning_rate, decay_steps, decay_rate, staircase
    (0.1, 20, 0.8, False),
    (0.1, 20, 0.8, True),
    (1.0, 7, 0.3, True),
    (0.05, 1000, 0.96, False),
    (0.05, 1000, 0.96, True),
    (3.0, 1, 0.5, True),
    (0.01, 2.5, 0.99, False),
    (0.2, 100000, 0.5, True),
]


def _step_decay_steps(decay_steps):
    return parity_steps([decay_steps * k for k in range(1, 6)], end=100 * decay_steps)


def _p(t, decay_steps, staircase):
    p = t / mpmath.mpf(decay_steps)
    return mpmath.floor(p) if staircase else p


STEP_DECAY = {
    "exponential_decay": (
        exponential_decay,
        lambda lr, ds, r, st: lambda g: V1.exponential_decay(lr, g, ds, r, st),
        lambda lr, ds, r, st: lambda t: mpmath.mpf(lr) * mpmath.power(mpmath.mpf(r), _p(t, ds, st)),
    ),
    "natural_exp_decay": (
        natural_exp_decay,
        lambda lr, ds, r, st: lambda g: V1.natural_exp_decay(lr, g, ds, r, st),
        # TensorFlow 2's formula: exponential_decay with the rate exp(-decay_rate) rounded to the
        # working dtype (here float64, the path under test).
        lambda lr, ds, r, st: lambda t: mpmath.mpf(lr) * mpmath.power(mpmath.mpf(math.exp(-r)), _p(t, ds, st)),
    ),
    "inverse_time_decay": (
        inverse_time_decay,
        lambda lr, ds, r, st: lambda g: V1.inverse_time_decay(lr, g, ds, r, st),
        lambda lr, ds, r, st: lambda t: mpmath.mpf(lr) / (1 + mpmath.mpf(r) * _p(t, ds, st)),
    ),
}


@pytest.mark.parametrize("kind", sorted(STEP_DECAY))
@pytest.mark.parametrize("params", STEP_DECAY_PARAMS, ids=str)
def test_step_decay_family_matches_tensorflow(kind, params):
    ours, make_tf, exact = STEP_DECAY[kind]
    schedule = ours(*params)
    steps = _step_decay_steps(params[1])
    assert assert_bit_identical(schedule, make_tf(*params), steps) == []
    assert assert_float64_near_tf(schedule, make_tf(*params), steps, scale=params[0]) > 10
    assert assert_float64_exact(schedule, exact(*params), steps) > 10


def test_natural_exp_decay_divides_by_decay_steps():
    # The seed (and TensorFlow's docstring) write lr * exp(-k * t); TensorFlow's code and this
    # library use t / decay_steps.
    schedule = natural_exp_decay(0.1, decay_steps=10, decay_rate=0.5)
    assert schedule(10) == pytest.approx(0.1 * math.exp(-0.5), rel=1e-15)
    assert schedule(10) != pytest.approx(0.1 * math.exp(-0.5 * 10))
    assert float(V1.natural_exp_decay(0.1, 10, 10, 0.5)()) == pytest.approx(schedule(10), rel=1e-6)


def test_seed_example_exponential_decay():
    # The seed's table: 0.1 * 0.8 ** (step / 20).
    schedule = exponential_decay(0.1, 20, 0.8)
    assert [schedule(s) for s in (0, 10, 20)] == pytest.approx([0.1, 0.1 * 0.8**0.5, 0.08], rel=1e-15)
    stairs = exponential_decay(0.1, 20, 0.8, staircase=True)
    assert stairs(19) == 0.1 and stairs(20) == pytest.approx(0.08, rel=1e-15)


PIECEWISE_PARAMS = [
    ([10, 20], [1.0, 0.5, 0.1]),
    ([100000, 110000, 5000000], [0.1, 0.01, 0.001, 0.0001]),
    ([5], [0.3, 0.7]),
    ([1, 2, 3, 4], [5.0, 4.0, 3.0, 2.0, 1.0]),
]


@pytest.mark.parametrize("boundaries, values", PIECEWISE_PARAMS)
def test_piecewise_constant_matches_tensorflow(boundaries, values):
    schedule = piecewise_constant(boundaries, values)
    make = lambda g: V1.piecewise_constant(g, boundaries, values)  # noqa: E731
    steps = parity_steps(boundaries)
    steps = steps[steps < 2**24]  # float32 holds every integer step below 2**24
    # TensorFlow's tf.case rejects a vector step (exclusive check), so compare scalar calls.
    ours32 = np.array([schedule(tf.constant(int(s), "int64")).numpy() for s in steps])
    theirs = np.array([float(make(tf.constant(int(s), "int64"))()) for s in steps])
    assert (ours32.astype(np.float32).view(np.int32) == theirs.astype(np.float32).view(np.int32)).all()

    def exact(t):
        index = sum(1 for b in boundaries if t > b)
        return mpmath.mpf(values[index])

    assert assert_float64_exact(schedule, exact, steps) == len(steps)


def test_piecewise_boundary_step_belongs_to_the_left():
    schedule = piecewise_constant([10, 20], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in (9, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    assert schedule.duration == 21


POLY_PARAMS = [
    # learning_rate, decay_steps, end_learning_rate, power, cycle
    (0.1, 100, 0.0001, 1.0, False),
    (0.1, 100, 0.0001, 1.0, True),
    (0.3, 17, 0.01, 0.5, True),
    (1.0, 10, 0.0, 2.0, True),
    (0.1, 1000, 0.001, 3.0, False),
    (0.1, 7, 0.0001, 1.7, True),
    (0.01, 2.5, 0.02, 1.0, False),  # increasing towards end_learning_rate
]


@pytest.mark.parametrize("params", POLY_PARAMS, ids=str)
def test_polynomial_decay_matches_tensorflow(params):
    lr, ds, end, power, cycle = params
    schedule = polynomial_decay(*params)
    make = lambda g: V1.polynomial_decay(lr, g, ds, end, power, cycle)  # noqa: E731
    steps = parity_steps([ds * k for k in range(1, 6)], end=ds)

    def nan_in_tensorflow(step, ours, theirs):
        # cycle=True far out: float32 rounds ceil(t / D) * D below t, 1 - p < 0 and a fractional
        # power gives NaN in TensorFlow; we clamp p at 1 and give end_learning_rate.
        assert cycle and step > 2**24 and math.isnan(theirs) and ours == np.float32(end)

    assert_bit_identical(schedule, make, steps, exception=nan_in_tensorflow)
    # Past 2**24, float32 cannot place a step inside its cycle: TensorFlow's value is not a
    # float32 rounding of the true one there.
    beyond_float32 = steps[steps > 2**24] if cycle else ()
    assert assert_float64_near_tf(schedule, make, steps, scale=max(lr, end), skip=beyond_float32) > 10

    def exact(t):
        d = mpmath.mpf(ds)
        if cycle:
            d = d * max(mpmath.ceil(t / d), 1)
        else:
            t = min(t, d)
        return (mpmath.mpf(lr) - end) * (1 - t / d) ** mpmath.mpf(power) + end

    def cancellation_scale(t):
        # 1 - p carries an absolute error of ~1 ulp; (1 - p) ** power magnifies it by
        # power * (1 - p) ** (power - 1), which is large near the end when power < 1.
        d = mpmath.mpf(ds) * (max(mpmath.ceil(t / ds), 1) if cycle else 1)
        rest = 1 - min(t, d) / d
        gain = power * rest ** (power - 1) if rest > 0 else 1
        return max(lr, end) * max(1, gain)

    assert assert_float64_exact(schedule, exact, steps, scale=cancellation_scale) > 10


def test_polynomial_cycle_rule():
    schedule = polynomial_decay(0.1, 10, end_learning_rate=0.0, cycle=True)
    assert schedule(0) == 0.1  # multiplier 1 at step 0, not 0/0
    assert schedule(10) == 0.0 and schedule(20) == 0.0  # end at every multiple
    assert schedule(11) == pytest.approx(0.1 * (1 - 11 / 20), rel=1e-15)  # lower peak, no restart
    assert schedule.duration is None and polynomial_decay(0.1, 10).duration == 10


def test_polynomial_cycle_is_finite_where_tensorflow_is_nan():
    schedule = polynomial_decay(0.1, 7, power=1.7, cycle=True)
    theirs = float(V1.polynomial_decay(0.1, tf.constant(10**9, "int64"), 7, 0.0001, 1.7, True)())
    assert math.isnan(theirs)
    assert math.isfinite(float(schedule(tf.constant(10**9, "int64"))))


# -- random parameters ------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lrdecay  # noqa: E402

_lr = st.floats(1e-6, 10.0)
_steps = st.one_of(st.integers(1, 10**6), st.floats(0.5, 1e6))
_rate = st.floats(1e-3, 1.0)
DECAY_SCHEDULES = st.one_of(
    st.builds(exponential_decay, _lr, _steps, _rate, st.booleans()),
    st.builds(natural_exp_decay, _lr, _steps, st.floats(0.0, 20.0), st.booleans()),
    st.builds(inverse_time_decay, _lr, _steps, st.floats(0.0, 100.0), st.booleans()),
    st.builds(
        lambda b, v: piecewise_constant(sorted(set(b)), v[: len(set(b)) + 1]),
        st.lists(st.integers(0, 10**6), min_size=1, max_size=6),
        st.lists(_lr, min_size=7, max_size=7),
    ),
    st.builds(polynomial_decay, _lr, _steps, st.floats(0.0, 1e-2), st.floats(0.0, 5.0), st.booleans()),
)


@settings(max_examples=40)
@given(schedule=DECAY_SCHEDULES, steps=st.lists(st.integers(0, 2**40), min_size=1, max_size=6))
def test_random_parameters_round_trip_and_agree(schedule, steps):
    assert lrdecay.parse(repr(schedule)) == schedule
    assert lrdecay.from_dict(json.loads(json.dumps(schedule.to_dict()))) == schedule
    vector = schedule(np.array(steps, dtype=np.float64))
    scalars = np.array([schedule(s) for s in steps])
    assert np.isfinite(vector).all()
    np.testing.assert_allclose(scalars, vector, rtol=1e-12, atol=1e-300)
