"""The TensorFlow cosine family against the real tf.compat.v1.train functions and mpmath.

Parity statement (docs/tensorflow.md): cosine_decay, linear_cosine_decay and the noise-free part
of noisy_linear_cosine_decay are bit-identical to TensorFlow in float32 at every tested step.
cosine_decay_restarts is bit-identical except at restart steps that TensorFlow's float32
logarithm puts at the end of the previous cycle (TensorFlow gives the trough alpha * lr there,
we give the restart's peak); those steps are listed and checked one by one.
"""

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
from scipy import stats

from lrdecay import cosine_decay, cosine_decay_restarts, linear_cosine_decay, noisy_linear_cosine_decay


def _half_cosine(fraction):
    return (1 + mpmath.cos(mpmath.pi * fraction)) / 2


# -- cosine_decay -------------------------------------------------------------------------------

COSINE_PARAMS = [(0.1, 100, 0.0), (0.1, 1000, 0.1), (1.0, 7, 0.3), (0.05, 12345, 0.01), (0.1, 2.5, 0.0)]


@pytest.mark.parametrize("params", COSINE_PARAMS, ids=str)
def test_cosine_decay_matches_tensorflow(params):
    lr, ds, alpha = params
    schedule = cosine_decay(*params)
    make = lambda g: V1.cosine_decay(lr, g, ds, alpha)  # noqa: E731
    steps = parity_steps([ds, ds / 2], end=ds)
    assert assert_bit_identical(schedule, make, steps) == []
    assert assert_float64_near_tf(schedule, make, steps, scale=lr) > 10

    def exact(t):
        t = min(t, mpmath.mpf(ds))
        return lr * ((1 - mpmath.mpf(alpha)) * _half_cosine(t / ds) + alpha)

    assert assert_float64_exact(schedule, exact, steps, scale=lr) > 10
    assert schedule(10**12) == schedule(ds) == pytest.approx(lr * alpha, abs=1e-18)


# -- cosine_decay_restarts ------------------------------------------------------------------------

RESTART_PARAMS = [
    # learning_rate, first_decay_steps, t_mul, m_mul, alpha
    (0.1, 100, 2.0, 1.0, 0.0),
    (0.1, 10, 1.0, 0.9, 0.1),
    (1.0, 1, 2.0, 1.0, 0.0),
    (1.0, 1, 3.0, 0.5, 0.0),
    (0.1, 10, 1.5, 0.8, 0.05),
    (0.1, 13, 10.0, 1.0, 0.2),
    (0.1, 5, 1.1, 0.7, 0.01),
    (0.1, 3, 3.0, 0.0, 0.0),
]


def _restart_starts(ds, t_mul, limit=2**24):
    """The first (at most 40) restart steps up to ``limit``."""
    starts, start, period = [], 0.0, float(ds)
    while start + period <= limit and len(starts) < 40:
        start, period = start + period, period * t_mul
        starts.append(start)
    return starts


def _exact_restarts(lr, ds, t_mul, m_mul, alpha):
    """The schedule's definition: cycle i starts at ds * (1 + t_mul + ... + t_mul**(i-1))."""
    t_mul, m_mul, alpha = mpmath.mpf(t_mul), mpmath.mpf(m_mul), mpmath.mpf(alpha)

    def value(t):
        f = t / ds
        if t_mul == 1:
            cycle = mpmath.floor(f)
            fraction = f - cycle
        else:
            cycle, start, length = 0, mpmath.mpf(0), mpmath.mpf(1)
            while start + length <= f:
                cycle, start, length = cycle + 1, start + length, length * t_mul
            fraction = (f - start) / length
        return lr * ((1 - alpha) * m_mul**cycle * _half_cosine(fraction) + alpha)

    return value


@pytest.mark.parametrize("params", RESTART_PARAMS, ids=str)
def test_cosine_decay_restarts_matches_tensorflow(params):
    lr, ds, t_mul, m_mul, alpha = params
    schedule = cosine_decay_restarts(*params)
    make = lambda g: V1.cosine_decay_restarts(lr, g, ds, t_mul, m_mul, alpha)  # noqa: E731
    exact = _exact_restarts(*params)
    steps = parity_steps(_restart_starts(ds, t_mul))

    def tensorflow_misplaces_restart(step, ours, theirs):
        # TensorFlow's float32 logarithm put this (float32) step at the end of the previous cycle:
        # it gives the trough, we give the value of the true position, just after a restart.
        with mpmath.workdps(30):
            true_value = float(exact(mpmath.mpf(float(np.float32(step)))))
        trough = lr * alpha
        assert theirs == pytest.approx(trough, rel=1e-6, abs=1e-6 * lr)
        assert ours == pytest.approx(true_value, rel=1e-5, abs=1e-6 * lr)
        assert ours > trough + 0.5 * lr * (1 - alpha) * m_mul ** math.log(step + 2, t_mul)

    excused = assert_bit_identical(schedule, make, steps, exception=tensorflow_misplaces_restart)
    assert len(set(excused)) <= 4
    # Past 2**24 float32 cannot place a step within its cycle; excused steps differ by design.
    # Beyond ~2**17 steps the float32 logarithm (TensorFlow's, and so ours: bit-identical) can
    # also start a cycle early: it cannot resolve steps within ~start * 2**-20 before a restart.
    starts = [s for s in _restart_starts(ds, t_mul) if s > 2**17]
    early = [s for s in steps if any(0 < b - s <= max(1, b * 2**-20) for b in starts)]
    skip = [*excused, *early, *steps[steps > 2**24]]
    assert assert_float64_near_tf(schedule, make, steps, scale=lr, skip=skip) > 10
    assert assert_float64_exact(schedule, exact, steps, scale=lr * (1 + abs(alpha))) > 10


def test_tensorflow_float32_misplaces_restart_8191_and_we_do_not():
    make = lambda g: V1.cosine_decay_restarts(1.0, g, 1)  # noqa: E731
    step = tf.constant(8191, tf.int64)
    assert float(make(step)()) == 0.0  # TensorFlow: end of cycle 12
    assert float(cosine_decay_restarts(1.0, 1)(step)) == 1.0  # cycle 13 starts at 8191
    # The float64 logarithm misplaces step 121 for t_mul=3 (log(243) / log(3) < 5).
    assert math.floor(math.log(1 + 2 * 121) / math.log(3)) == 4
    assert cosine_decay_restarts(1.0, 1, t_mul=3.0)(121) == 1.0


def test_restart_step_has_the_peak_every_time():
    for t_mul in (2.0, 3.0, 1.5):
        schedule = cosine_decay_restarts(1.0, 4, t_mul=t_mul, m_mul=0.5, alpha=0.1)
        for i, start in enumerate(_restart_starts(4, t_mul, limit=2**40)):
            if start == int(start):
                assert schedule(int(start)) == pytest.approx(0.9 * 0.5 ** (i + 1) + 0.1, rel=1e-12)


# -- every m_mul and t_mul Keras accepts where the values stay finite (issue 17) ---------------------

GROWING_PARAMS = [
    # learning_rate, first_decay_steps, t_mul, m_mul, alpha: peaks that grow or alternate in sign
    (0.1, 10, 2.0, 4.0, 0.0),
    (0.1, 7, 1.5, -0.5, 0.1),
    (0.5, 3, 3.0, 2.0, 0.2),
    (0.1, 10, 1.0, -1.0, 0.05),
]


@pytest.mark.parametrize("params", GROWING_PARAMS, ids=str)
def test_growing_and_alternating_peaks_match_tensorflow(params):
    lr, ds, t_mul, m_mul, alpha = params
    schedule = cosine_decay_restarts(*params)  # refused before: m_mul had to be in [0, 1]
    make = lambda g: V1.cosine_decay_restarts(lr, g, ds, t_mul, m_mul, alpha)  # noqa: E731
    exact = _exact_restarts(*params)
    steps = parity_steps(_restart_starts(ds, t_mul, limit=2**20))
    steps = steps[steps <= 2**20]  # float32 places every step of these cycles

    def peak(t):  # the largest term at step t: its cycle's peak
        cycle = mpmath.floor(t / ds) if t_mul == 1 else mpmath.floor(mpmath.log(1 + t / ds * (t_mul - 1), t_mul)) + 1
        return lr * (abs(1 - alpha) * abs(m_mul) ** cycle + abs(alpha))

    def tensorflow_misplaces_restart(step, ours, theirs):
        assert theirs == pytest.approx(lr * alpha, rel=1e-6, abs=1e-7 * lr)  # the previous cycle's end
        with mpmath.workdps(30):
            assert ours == pytest.approx(float(exact(mpmath.mpf(step))), rel=1e-5)  # the restart's peak

    excused = assert_bit_identical(schedule, make, steps, exception=tensorflow_misplaces_restart)
    assert len(excused) <= 4
    assert assert_float64_exact(schedule, exact, steps, scale=peak) > 10
    assert all(math.isfinite(schedule(2**k)) for k in range(64))


def test_a_t_mul_that_float32_rounds_to_1_is_1_on_float32_steps():
    """Keras casts t_mul to float32 and compares it with 1: 1 + 1e-9 restarts every
    first_decay_steps there. Float64 steps keep the cycles that lengthen by 1e-9 each time."""
    schedule = cosine_decay_restarts(0.1, 10, t_mul=1 + 1e-9)  # refused before: t_mul < 1 + 2**-20
    periodic = cosine_decay_restarts(0.1, 10, t_mul=1.0)
    steps = np.array([0, 1, 9, 10, 11, 25, 10**4, 10**6 + 3], dtype=np.int64)
    ours = schedule(tf.constant(steps)).numpy()
    np.testing.assert_array_equal(ours, periodic(tf.constant(steps)).numpy())
    np.testing.assert_array_equal(ours, V1.cosine_decay_restarts(0.1, tf.constant(steps), 10, 1 + 1e-9)())
    torch = pytest.importorskip("torch")
    steps32 = torch.tensor(steps, dtype=torch.float32)
    np.testing.assert_array_equal(schedule(steps32).numpy(), periodic(steps32).numpy())
    # float64: the geometric cycles (their restarts drift from the periodic ones). TensorFlow's cycle
    # starts (1 - t_mul**i) / (1 - t_mul) cancel for a t_mul this near 1: 1e-8 steps off at step 25,
    # 1.2e-7 of the peak at step 10**6
    exact = _exact_restarts(0.1, 10, 1 + 1e-9, 1.0, 0.0)
    with mpmath.workdps(50):
        for step in (0, 25, 10**4, 10**6 + 3):
            assert schedule(step) == pytest.approx(float(exact(mpmath.mpf(step))), rel=1e-9, abs=2e-8)
    assert math.isfinite(schedule(2**63))
    assert schedule(10**8 + 3) != pytest.approx(periodic(10**8 + 3), rel=0.1)


def test_refuses_exactly_the_m_mul_whose_peaks_overflow():
    # t_mul == 1: a cycle every first_decay_steps, so any |m_mul| > 1 overflows long before 2**63
    for m_mul in (1.0000001, 4.0, -1.5):
        with pytest.raises(ValueError, match=r"m_mul must keep every peak finite up to step 2\*\*63"):
            cosine_decay_restarts(0.1, 10, t_mul=1.0, m_mul=m_mul)
    for m_mul in (1.0, -1.0, 0.0, -0.99):
        assert math.isfinite(cosine_decay_restarts(0.1, 10, t_mul=1.0, m_mul=m_mul)(2**63))
    # t_mul > 1: about log(2**63 / first_decay_steps, t_mul) cycles; m_mul=100 peaks near 1e116
    assert cosine_decay_restarts(0.1, 10, m_mul=100.0)(2**63) == pytest.approx(3.4549150281e116, rel=1e-9)

    # Where the probe steps (powers of 2 and 10) all fall near the end of a cycle, the overflowing
    # peak lies between them: at the restart of cycle 61, step 2.000001 * (2**61 - 1).
    lr, first = 1e308 / 2**58, 2.000001
    with pytest.raises(ValueError, match=r"m_mul must keep .* cycle i = 60 .* first_decay_steps=2.000001"):
        cosine_decay_restarts(lr, first, t_mul=2.0, m_mul=2.0)
    sixteenth = cosine_decay_restarts(lr / 16, first, t_mul=2.0, m_mul=2.0)  # accepted: peaks 16 times lower
    restart = first * (2**61 - 1)
    assert sixteenth(restart) == pytest.approx(lr / 16 * 2**61, rel=1e-12)
    assert math.isinf(16 * sixteenth(restart))  # the refused one is inf there ...
    probes = [2**k + d for k in range(1, 64) for d in (-1, 0, 1)] + [10**k for k in range(1, 19)]
    assert all(math.isfinite(16 * sixteenth(step)) for step in probes)  # ... and finite at every probe


def test_t_mul_below_1_is_refused_where_the_cycles_end_by_step_2_63():
    with pytest.raises(ValueError, match=r"t_mul must be >= 1, got 0.5: .* end at step .* = 20,"):
        cosine_decay_restarts(0.1, 10, t_mul=0.5)
    # 1 - 2**-53: the cycles would end at step 2048 * 2**53 = 2**64, past every step
    schedule = cosine_decay_restarts(0.1, 2048, t_mul=1 - 2**-53)
    assert all(math.isfinite(schedule(2**k)) for k in range(64))
    with pytest.raises(ValueError, match="t_mul must be >= 1"):
        cosine_decay_restarts(0.1, 1024, t_mul=1 - 2**-53)  # ... and at step 2**63 here


# -- linear_cosine_decay and noisy_linear_cosine_decay ------------------------------------------

LINEAR_COSINE_PARAMS = [
    # learning_rate, decay_steps, num_periods, alpha, beta
    (0.1, 100, 0.5, 0.0, 0.001),
    (0.1, 1000, 2.0, 0.1, 0.01),
    (1.0, 7, 3.5, 0.3, 0.0),
    (0.2, 2.5, 0.0, 0.0, 0.5),
]


def _exact_linear_cosine(lr, ds, num_periods, alpha, beta, noise=lambda t, clamped: 0):
    def value(t):
        clamped = min(t, mpmath.mpf(ds))
        linear = (ds - clamped) / mpmath.mpf(ds) + noise(t, clamped)
        cosine = _half_cosine(2 * mpmath.mpf(num_periods) * clamped / ds)
        return lr * ((alpha + linear) * cosine + beta)

    return value


@pytest.mark.parametrize("params", LINEAR_COSINE_PARAMS, ids=str)
def test_linear_cosine_decay_matches_tensorflow(params):
    lr, ds, num_periods, alpha, beta = params
    schedule = linear_cosine_decay(*params)
    make = lambda g: V1.linear_cosine_decay(lr, g, ds, num_periods, alpha, beta)  # noqa: E731
    steps = parity_steps([ds, ds / 4, ds / 2], end=ds)
    assert assert_bit_identical(schedule, make, steps) == []
    assert assert_float64_near_tf(schedule, make, steps, scale=lr) > 10
    exact = _exact_linear_cosine(*params)
    assert assert_float64_exact(schedule, exact, steps, scale=lr * (1 + abs(alpha))) > 10
    end = lr * (alpha * (1 + math.cos(math.pi * 2 * num_periods)) / 2 + beta)
    assert schedule(10**9) == schedule(ds) == pytest.approx(end, rel=1e-12, abs=1e-17)


@pytest.mark.parametrize("params", LINEAR_COSINE_PARAMS, ids=str)
def test_noisy_linear_cosine_noise_free_part_matches_tensorflow(params):
    # With initial_variance=0, TensorFlow's random_normal has stddev 0 and adds exactly 0.
    lr, ds, num_periods, alpha, beta = params
    schedule = noisy_linear_cosine_decay(lr, ds, 0.0, 0.55, num_periods, alpha, beta, seed=3)
    make = lambda g: V1.noisy_linear_cosine_decay(lr, g, ds, 0.0, 0.55, num_periods, alpha, beta)  # noqa: E731
    steps = parity_steps([ds, ds / 4, ds / 2], end=ds)
    assert assert_bit_identical(schedule, make, steps) == []
    assert assert_float64_near_tf(schedule, make, steps, scale=lr) > 10


def _reference_normal(seed, step):
    """The documented noise, written out independently: lowbias32 over the step's 16-bit limbs,
    24-bit uniforms, Box-Muller (in mpmath)."""
    mask = 0xFFFFFFFF

    def mix(x):
        x ^= x >> 16
        x = (x * 0x7FEB352D) & mask
        x ^= x >> 15
        x = (x * 0x846CA68B) & mask
        return x ^ (x >> 16)

    n = int(step)
    low_word, high = n & mask, (n >> 32) & 0xFFFF
    u = []
    for stream in (0, 1):
        h = mix(low_word ^ mix(high ^ mix((2 * seed + stream) & mask)))
        u.append(mpmath.mpf(h >> 8) / 2**24)
    return mpmath.sqrt(-2 * mpmath.log(1 - u[0])) * mpmath.cos(2 * mpmath.pi * u[1])


@pytest.mark.parametrize("seed", [0, 12345, 2**32 - 1])
def test_noisy_linear_cosine_float64_matches_mpmath(seed):
    lr, ds, iv, vd = 0.1, 1000, 1.0, 0.55
    schedule = noisy_linear_cosine_decay(lr, ds, iv, vd, seed=seed)

    def noise(t, clamped):
        return _reference_normal(seed, t) * mpmath.sqrt(iv / (1 + clamped) ** vd)

    exact = _exact_linear_cosine(lr, ds, 0.5, 0.0, 0.001, noise)
    steps = parity_steps([ds, 65535, 65536, 2**32 - 1, 2**32, 2**32 + 65536], end=ds)
    assert assert_float64_exact(schedule, exact, steps, scale=lr * 8) > 10


def _standardised_noise(values, lr, ds, iv, vd, steps):
    """(value - noise-free value) / (lr * cosine * std): standard normal if the noise is right."""
    clamped = np.minimum(steps, ds)
    noise_free = linear_cosine_decay(lr, ds)(clamped.astype(np.float64))
    cosine = 0.5 * (1 + np.cos(np.pi * clamped / ds))
    std = np.sqrt(iv / (1 + clamped) ** vd)
    return (np.asarray(values, np.float64) - noise_free) / (lr * cosine * std)


def test_noise_statistics_match_tensorflow():
    lr, ds, iv, vd = 0.1, 10**6, 1.0, 0.55
    steps = np.arange(0, 200_000, 10, dtype=np.int64)  # cosine > 0.97: the noise is well resolved
    ours = noisy_linear_cosine_decay(lr, ds, iv, vd)(steps.astype(np.float64))
    theirs = V1.noisy_linear_cosine_decay(lr, tf.constant(steps), ds, iv, vd)().numpy()
    z_ours = _standardised_noise(ours, lr, ds, iv, vd, steps)
    z_theirs = _standardised_noise(theirs, lr, ds, iv, vd, steps)
    for z in (z_ours, z_theirs):
        assert abs(z.mean()) < 5 / math.sqrt(z.size)
        assert abs(z.var() - 1) < 0.05
        assert stats.kstest(z, "norm").pvalue > 1e-4
    assert stats.ks_2samp(z_ours, z_theirs).pvalue > 1e-4
    # The variance law: the raw noise shrinks like (1 + t) ** -(vd / 2).
    raw = (ours - linear_cosine_decay(lr, ds)(steps.astype(np.float64))) / lr
    early, late = raw[:1000].std(), raw[-1000:].std()
    expected = ((1 + steps[-1000:].mean()) / (1 + steps[:1000].mean())) ** (-vd / 2)
    assert late / early == pytest.approx(expected, rel=0.5)


def test_noise_is_a_function_of_seed_and_step():
    steps = np.arange(0, 5000, dtype=np.float64)
    schedule = noisy_linear_cosine_decay(0.1, 1000, seed=5)
    curve = schedule(steps)
    # resuming at any step sees the same values, whichever way they are evaluated
    assert np.array_equal(schedule(steps[1234:]), curve[1234:])
    assert [schedule(int(s)) for s in (0, 999, 4321)] == pytest.approx(curve[[0, 999, 4321]], rel=1e-15)
    assert np.array_equal(noisy_linear_cosine_decay(0.1, 1000, seed=5)(steps), curve)
    other = noisy_linear_cosine_decay(0.1, 1000, seed=6)(steps)
    assert np.mean(other[:1000] != curve[:1000]) > 0.99
    # Past the end the cosine factor is 0 for num_periods=0.5 (beta * lr exactly); with whole
    # periods it is 1 and the noise keeps being drawn, like TensorFlow's.
    assert (curve[1000:] == 0.1 * 0.001).all()
    periodic = noisy_linear_cosine_decay(0.1, 1000, num_periods=1.0, seed=5)(steps)
    assert len(np.unique(periodic[1000:])) > 3900
    assert schedule.duration is None and linear_cosine_decay(0.1, 1000).duration == 1000


# -- random parameters ------------------------------------------------------------------------

import json  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lrdecay  # noqa: E402

_lr = st.floats(1e-6, 10.0)
_steps = st.one_of(st.integers(1, 10**6), st.floats(0.5, 1e6))
_alpha = st.floats(0.0, 1.0)
COSINE_SCHEDULES = st.one_of(
    st.builds(cosine_decay, _lr, _steps, _alpha),
    st.builds(cosine_decay_restarts, _lr, _steps, st.one_of(st.just(1.0), st.floats(1.001, 10.0)),
              st.floats(0.0, 1.0), _alpha),
    st.builds(linear_cosine_decay, _lr, _steps, st.floats(0.0, 10.0), _alpha, st.floats(0.0, 0.1)),
    st.builds(noisy_linear_cosine_decay, _lr, _steps, st.floats(0.0, 2.0), st.floats(0.0, 2.0),
              st.floats(0.0, 10.0), _alpha, st.floats(0.0, 0.1), st.integers(0, 2**32 - 1)),
)


@settings(max_examples=40)
@given(schedule=COSINE_SCHEDULES, steps=st.lists(st.integers(0, 2**40), min_size=1, max_size=6))
def test_random_parameters_round_trip_and_agree(schedule, steps):
    assert lrdecay.parse(repr(schedule)) == schedule
    assert lrdecay.from_dict(json.loads(json.dumps(schedule.to_dict()))) == schedule
    vector = schedule(np.array(steps, dtype=np.float64))
    scalars = np.array([schedule(s) for s in steps])
    assert np.isfinite(vector).all()
    scale = schedule.learning_rate * 20
    np.testing.assert_allclose(scalars, vector, rtol=1e-9, atol=1e-12 * scale)


@settings(max_examples=40)
@given(lr=_lr, first=_steps, t_mul=st.floats(1.5, 10.0), m_mul=st.floats(-4.0, 4.0), alpha=_alpha,
       steps=st.lists(st.integers(0, 2**40), min_size=1, max_size=6))
def test_growing_peaks_are_accepted_finite_and_agree(lr, first, t_mul, m_mul, alpha, steps):
    schedule = cosine_decay_restarts(lr, first, t_mul, m_mul, alpha)  # |m_mul| <= 4 stays finite here
    assert lrdecay.parse(repr(schedule)) == schedule
    vector = schedule(np.array(steps, dtype=np.float64))
    scalars = np.array([schedule(s) for s in steps])
    assert np.isfinite(vector).all() and math.isfinite(schedule(2**63))
    cycles = math.log(1 + 2**40 / first * (t_mul - 1), t_mul) + 1  # at most, up to step 2**40
    peak = lr * (max(1.0, abs(m_mul)) ** cycles + 1)
    np.testing.assert_allclose(scalars, vector, rtol=1e-9, atol=1e-12 * peak)
