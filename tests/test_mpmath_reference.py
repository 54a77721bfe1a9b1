"""The float64 paths (Python numbers, compiled; NumPy arrays) against the formulas evaluated exactly
with mpmath, for the kinds whose formula is short enough to write again here.

Parameters are drawn where the float64 formula can be exact to a few ulps: cycles of whole
lengths (their restarts are exact), floors far above the peak (``lr_min >> lr_max``, where
``lr_min + (lr_max - lr_min) * w`` cancels), decays over up to 2**40 steps (where a rounded
``exp(-decay_rate)`` raised to the power ``p`` keeps none of its digits). A value must be within
``TOLERANCE`` of the exact one, relative.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay.core.schedule import CALLS_BEFORE_COMPILING

mpmath.mp.prec = 200
TOLERANCE = 1e-12
TINY = 1e-290  # values below this (underflowing) are compared absolutely

STEP = st.one_of(st.integers(0, 2**40), st.integers(0, 5000), st.floats(0, 2**40).map(float))
STEPS = st.lists(STEP, min_size=1, max_size=8)
RATE = st.floats(1e-6, 10.0)


def _log_uniform(low_exponent, high_exponent):
    return st.floats(low_exponent, high_exponent).map(lambda e: 10.0**e)


def _mp(x):
    return mpmath.mpf(float(x))


def _check(schedule, exact, steps):
    """``schedule`` at ``steps`` (scalar and NumPy) within TOLERANCE of ``exact(t)`` (mpmath)."""
    steps = list(steps)
    vector = schedule(np.array(steps, dtype=np.float64))
    for _ in range(CALLS_BEFORE_COMPILING):  # the compiled function too
        schedule(0)
    for t, array_value in zip(steps, vector):
        want = exact(_mp(t))
        for got in (schedule(t), float(array_value)):
            error = abs(_mp(got) - want)
            assert error <= TOLERANCE * abs(want) + TINY, (schedule, t, got, float(want), float(error / abs(want)))


def _cycle(t, first, mul):
    """timm's cycle index, length and offset, exactly (whole first and mul)."""
    i = 0
    if mul == 1:
        i = int(mpmath.floor(t / first))
        return i, _mp(first), t - first * i
    start = 0
    while start + first * mpmath.mpf(mul) ** i <= t:
        start += first * mpmath.mpf(mul) ** i
        i += 1
    return i, first * mpmath.mpf(mul) ** i, t - start


def _timm(schedule, curve):
    """timm's warm-up and cycles around ``curve(x, lr_max)`` (``x = t_curr / t_i``), exactly."""

    def exact(t):
        lr, init, warmup_t = _mp(schedule.learning_rate), _mp(schedule.warmup_lr_init), schedule.warmup_t
        if warmup_t and t < warmup_t:
            target = lr if schedule.warmup_prefix or not hasattr(schedule, "lb") else cycles(_mp(warmup_t))
            return init + t * ((target - init) / warmup_t)
        return cycles(t)

    def cycles(t):
        if schedule.warmup_prefix:
            t = max(t - schedule.warmup_t, 0)
        i, length, offset = _cycle(t, schedule.t_initial, schedule.cycle_mul)
        if i >= schedule.cycle_limit:
            return _mp(schedule.lr_min)
        lr_max = _mp(schedule.learning_rate) * _mp(schedule.cycle_decay) ** i
        return curve(offset / length, lr_max)

    return exact


TIMM = dict(
    learning_rate=_log_uniform(-6, 1),
    t_initial=st.integers(1, 10**6),
    cycle_mul=st.integers(1, 4),
    cycle_decay=st.floats(0.01, 1.0),
    cycle_limit=st.integers(1, 30),
    warmup_t=st.sampled_from([0, 0, 3, 100]),
    warmup_prefix=st.booleans(),
)


@st.composite
def _timm_params(draw):
    params = {name: draw(strategy) for name, strategy in TIMM.items()}
    lr = params["learning_rate"]
    params["lr_min"] = draw(st.sampled_from([0.0, lr * 1e-3, lr * 0.7, lr * 1e6, 0.69]))  # floors far above the peak too
    params["warmup_lr_init"] = draw(st.sampled_from([0.0, 1e-8, lr]))
    return params


def _cycle_steps(data, params):
    """Steps anywhere in the first cycles (their ends included), and anywhere up to 2**40."""
    first, mul = params["t_initial"], params["cycle_mul"]
    steps = data.draw(STEPS)
    for _ in range(4):
        i = data.draw(st.integers(0, min(params["cycle_limit"], 8)))
        start = first * i if mul == 1 else first * (mul**i - 1) // (mul - 1)
        length = first * mul**i
        offset = data.draw(st.one_of(st.integers(0, length), st.integers(max(length - 3, 0), length)))
        steps.append(start + offset + (params["warmup_t"] if params["warmup_prefix"] else 0))
    return steps


@settings(max_examples=60, deadline=None)
@given(params=_timm_params(), power=st.floats(0.01, 5.0), k_decay=st.floats(0.2, 8.0), data=st.data())
def test_timm_poly(params, power, k_decay, data):
    s, steps = lrdecay.timm_poly(**params, power=power, k_decay=k_decay), _cycle_steps(data, params)
    lr_min = _mp(s.lr_min)
    _check(s, _timm(s, lambda x, lr_max: lr_min + (lr_max - lr_min) * (1 - x ** _mp(k_decay)) ** _mp(power)), steps)


def test_timm_poly_of_the_report():
    """lr_min far above the peak of a late cycle: the value lr_max * w + lr_min * (1 - w) with w
    within 1e-16 of 1 (tracker issue 17: scalar and NumPy 1.5e-7 apart, both 4.5e-8 off)."""
    s = lrdecay.from_dict({
        "kind": "timm_poly", "learning_rate": 1.0112353711499074, "t_initial": 35, "power": 0.02651999383552365,
        "lr_min": 0.6920516451049319, "cycle_mul": 13.523505807487817, "cycle_decay": 0.04970680211399318,
        "cycle_limit": 12, "warmup_t": 7, "warmup_lr_init": 1e-08, "warmup_prefix": True,
        "k_decay": 6.755235540158341,
    })
    t, i, mul = 250280552, 7, _mp(s.cycle_mul)  # cycle 7 holds the step
    length, start = 35 * mul**i, 35 * (mul**i - 1) / (mul - 1)
    offset = (t - s.warmup_t) - start
    assert 0 <= offset < length
    lr_max, lr_min = _mp(s.learning_rate) * _mp(s.cycle_decay) ** i, _mp(s.lr_min)
    want = lr_min + (lr_max - lr_min) * (1 - (offset / length) ** _mp(s.k_decay)) ** _mp(s.power)
    for got in (s(t), float(s(np.array([t]))[0])):
        assert abs(got - want) <= 1e-14 * want, (got, float(want))


@settings(max_examples=60, deadline=None)
@given(params=_timm_params(), data=st.data())
def test_timm_cosine(params, data):
    s, steps = lrdecay.timm_cosine(**params), _cycle_steps(data, params)
    lr_min = _mp(s.lr_min)
    _check(s, _timm(s, lambda x, lr_max: lr_min + (lr_max - lr_min) * (1 + mpmath.cospi(x)) / 2), steps)


@settings(max_examples=60, deadline=None)
@given(params=_timm_params(), lb=st.floats(-10, 2), width=st.floats(0.5, 14), data=st.data())
def test_tanh_decay(params, lb, width, data):
    s, steps = lrdecay.tanh_decay(**params, lb=lb, ub=lb + width), _cycle_steps(data, params)
    lr_min, low, high = _mp(s.lr_min), _mp(s.lb), _mp(s.ub)

    def curve(x, lr_max):
        return lr_min + (lr_max - lr_min) * (1 - mpmath.tanh(low * (1 - x) + high * x)) / 2

    _check(s, _timm(s, curve), steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), decay_steps=st.sampled_from([1, 7, 100, 1000.5, 10**6]), rate=_log_uniform(-9, 0.5),
       staircase=st.booleans(), steps=STEPS)
def test_natural_exp_decay(lr, decay_steps, rate, staircase, steps):
    s = lrdecay.natural_exp_decay(lr, decay_steps, rate, staircase=staircase)

    def exact(t):
        p = t / _mp(decay_steps)
        return _mp(lr) * mpmath.exp(-_mp(rate) * (mpmath.floor(p) if staircase else p))

    _check(s, exact, steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), decay_steps=st.sampled_from([1, 7, 100, 1000.5, 10**6]), rate=st.floats(0.01, 1.0),
       staircase=st.booleans(), steps=STEPS)
def test_exponential_decay(lr, decay_steps, rate, staircase, steps):
    s = lrdecay.exponential_decay(lr, decay_steps, rate, staircase=staircase)

    def exact(t):
        p = t / _mp(decay_steps)
        return _mp(lr) * _mp(rate) ** (mpmath.floor(p) if staircase else p)

    _check(s, exact, steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), decay_steps=st.sampled_from([1, 7, 100, 1000.5, 10**6]), rate=RATE,
       staircase=st.booleans(), steps=STEPS)
def test_inverse_time_decay(lr, decay_steps, rate, staircase, steps):
    s = lrdecay.inverse_time_decay(lr, decay_steps, rate, staircase=staircase)

    def exact(t):
        p = t / _mp(decay_steps)
        return _mp(lr) / (1 + _mp(rate) * (mpmath.floor(p) if staircase else p))

    _check(s, exact, steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), decay_steps=st.integers(1, 10**7), end=st.sampled_from([0.0, 1e-7, 0.5, 30.0]),
       power=st.floats(0.1, 5.0), steps=STEPS)
def test_polynomial_decay(lr, decay_steps, end, power, steps):
    s = lrdecay.polynomial_decay(lr, decay_steps, end, power)

    def exact(t):
        return (_mp(lr) - _mp(end)) * (1 - min(t, decay_steps) / _mp(decay_steps)) ** _mp(power) + _mp(end)

    _check(s, exact, steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), decay_steps=st.integers(1, 10**7), alpha=st.sampled_from([0.0, 1e-3, 0.5, 1e6]),
       steps=STEPS)
def test_cosine_decay(lr, decay_steps, alpha, steps):
    s = lrdecay.cosine_decay(lr, decay_steps, alpha)

    def exact(t):
        c = (1 + mpmath.cospi(min(t, decay_steps) / _mp(decay_steps))) / 2
        return _mp(lr) * ((1 - _mp(alpha)) * c + _mp(alpha))

    _check(s, exact, steps)


@settings(max_examples=60, deadline=None)
@given(lr=_log_uniform(-6, 1), t_max=st.integers(1, 10**7), floor=st.sampled_from([0.0, 1e-3, 0.5, 1e6]),
       steps=STEPS)
def test_cosine_annealing(lr, t_max, floor, steps):
    s = lrdecay.cosine_annealing(lr, t_max, eta_min=floor * lr)
    eta_min = _mp(s.eta_min)
    _check(s, lambda t: eta_min + (_mp(lr) - eta_min) * (1 + mpmath.cospi(t / t_max)) / 2, steps)


@pytest.mark.parametrize("t_0, t_mult", [(1, 1), (7, 2), (10, 3)])
def test_cosine_annealing_warm_restarts_far_above_its_peak(t_0, t_mult):
    s = lrdecay.cosine_annealing_warm_restarts(1e-9, t_0, t_mult, eta_min=0.7)
    steps = [0, 1, t_0 - 1, t_0, 5 * t_0 + 1, 2**20 + 3, 2**40 - 1]

    def exact(t):
        _, length, offset = _cycle(t, t_0, t_mult)
        return _mp(0.7) + (_mp(1e-9) - _mp(0.7)) * (1 + mpmath.cospi(offset / length)) / 2

    _check(s, exact, steps)


def test_natural_exp_decay_staircase_keeps_its_digits_after_many_stairs():
    """A rounded ``exp(-decay_rate)`` to the power 10**6 would be 1e-10 off."""
    s = lrdecay.natural_exp_decay(0.1, 1, 1e-4, staircase=True)
    _check(s, lambda t: _mp(0.1) * mpmath.exp(-_mp(1e-4) * mpmath.floor(t)), [10**6, 10**6 + 1, 3 * 10**6 + 7])
