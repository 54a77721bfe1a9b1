"""Every cosine-bearing kind in float64 against mpmath at the steps where ``1 + cos`` cancels: the
last three steps of every cycle (and the first steps, where a rising cosine starts at 0).

Each reference is the schedule's definition written out in mpmath at 50 digits, independently of
the library's formulas. The float64 paths (Python float, NumPy, float64 torch tensors, float64
JAX arrays) must be within rel 1e-13 of it at every listed step, with no absolute slack: near a
trough the value is tiny, and a cancelling ``1 + cos(pi * x)`` misses it by rel 1e-11 or worse
(docs/semantics.md, "Accuracy").
"""

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import torch

import lrdecay
from lrdecay import (
    constant,
    cosine_annealing,
    cosine_annealing_warm_restarts,
    cosine_decay,
    cosine_decay_restarts,
    cosine_decay_warmup,
    cosine_onecycle,
    cosine_with_min_lr,
    cycle,
    linear_cosine_decay,
    megatron_lr,
    megatron_wd,
    noisy_linear_cosine_decay,
    one_cycle,
    piecewise_interpolate,
    piecewise_linear,
    swalr,
    timm_cosine,
    warmup,
    warmup_cosine_decay,
    warmup_stable_decay,
)

mpf = mpmath.mpf


def hc(x):
    """The falling half cosine (1 + cos(pi x)) / 2."""
    return (1 + mpmath.cos(mpmath.pi * x)) / 2


def around(*ends, width=3):
    """The steps ``end - width .. end + width - 1`` of every ``end`` (the last ``width`` steps
    of a cycle and the first ones of the next), and 0, 1, 2."""
    steps = {0, 1, 2}
    for end in ends:
        steps.update(int(end) + d for d in range(-width, width))
    return sorted(s for s in steps if s >= 0)


def geometric_starts(first, mul, count):
    starts, start, length = [], 0, first
    for _ in range(count):
        start, length = start + length, length * mul
        starts.append(start)
    return starts


def locate(t, first, mul):
    """(cycle, start, length) of step t in cycles first, first*mul, ..., exactly."""
    i, start, length = 0, mpf(0), mpf(first)
    while start + length <= t:
        i, start, length = i + 1, start + length, length * mul
    return i, start, length


# -- the exact definitions -----------------------------------------------------------------------


def exact_cosine_decay(lr, ds, alpha):
    return lambda t: lr * ((1 - mpf(alpha)) * hc(min(t, mpf(ds)) / ds) + alpha)


def exact_restarts(lr, first, t_mul, m_mul, alpha):
    def value(t):
        i, start, length = locate(t, first, mpf(t_mul))
        return lr * ((1 - mpf(alpha)) * mpf(m_mul) ** i * hc((t - start) / length) + alpha)

    return value


def exact_linear_cosine(lr, ds, periods, alpha, beta):
    def value(t):
        g = min(t, mpf(ds))
        return lr * ((alpha + (ds - g) / mpf(ds)) * hc(2 * mpf(periods) * g / ds) + beta)

    return value


def exact_annealing(lr, t_max, eta_min):
    return lambda t: eta_min + (mpf(lr) - eta_min) * hc(t / mpf(t_max))


def exact_warm_restarts(lr, t_0, t_mult, eta_min):
    def value(t):
        _, start, length = locate(t, t_0, t_mult)
        return eta_min + (mpf(lr) - eta_min) * hc((t - start) / length)

    return value


def exact_warmup_cosine(init, peak, warmup_steps, decay_steps, end, exponent):
    def value(t):
        if t < warmup_steps:
            return init + (mpf(peak) - init) * t / warmup_steps
        c = hc(min(t - warmup_steps, mpf(decay_steps - warmup_steps)) / (decay_steps - warmup_steps)) ** exponent
        return peak * c + end * (1 - c)

    return value


def exact_cosine_with_min_lr(lr, warmup_steps, training_steps, num_cycles, rate):
    def value(t):
        if t < warmup_steps:
            return lr * t / mpf(max(1, warmup_steps))
        progress = (t - warmup_steps) / mpf(max(1, training_steps - warmup_steps))
        return lr * max(hc(2 * mpf(num_cycles) * progress) * (1 - mpf(rate)) + rate, 0)

    return value


def exact_timm(lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, k_decay):
    def value(t):
        if t < warmup_t:
            return warmup_lr_init + t * (mpf(lr) - warmup_lr_init) / warmup_t
        i, start, length = locate(t, t_initial, mpf(cycle_mul))
        if i >= cycle_limit:
            return mpf(lr_min)
        peak = lr * mpf(cycle_decay) ** i
        return lr_min + (peak - lr_min) * hc((t - start) ** k_decay / length**k_decay)

    return value


def exact_one_cycle(max_lr, total, pct_start, div_factor, final_div_factor):
    initial = mpf(max_lr) / div_factor
    final = initial / final_div_factor
    e1, e2 = mpf(float(pct_start * total)) - 1, mpf(total - 1)

    def value(t):
        t = min(t, e2)
        if t <= e1:
            return max_lr + (initial - max_lr) * hc(t / e1)
        return final + (max_lr - final) * hc((t - e1) / (e2 - e1))

    return value


def exact_interpolate(init, boundaries, scales):
    values = [mpf(init)]
    for scale in scales:
        values.append(values[-1] * mpf(scale))
    bounds = [0, *boundaries]

    def value(t):
        for i in range(len(boundaries)):
            if t < bounds[i + 1]:
                size = max(bounds[i + 1] - bounds[i], 1)
                return values[i + 1] + (values[i] - values[i + 1]) * hc((t - bounds[i]) / size)
        return values[-1]

    return value


def exact_wsd(lr, w, s, d, m):
    def value(t):
        if t < w:
            return lr * (m + (1 - mpf(m)) * (1 - hc(t / mpf(w))))
        if t < w + s:
            return mpf(lr)
        if t < w + s + d:
            return lr * (m + (1 - mpf(m)) * hc((t - w - s) / mpf(d)))
        return lr * mpf(m)

    return value


def exact_megatron(max_lr, decay_steps, min_lr, warmup_steps, wsd_decay_steps=None):
    def value(t):
        if t <= warmup_steps:
            return mpf(max_lr) * t / warmup_steps
        if t > decay_steps:
            return mpf(min_lr)
        if wsd_decay_steps is None:
            c = hc((t - warmup_steps) / mpf(decay_steps - warmup_steps))
        else:
            start = decay_steps - wsd_decay_steps
            c = 1 if t <= start else hc((t - start) / mpf(wsd_decay_steps))
        return min_lr + c * (mpf(max_lr) - min_lr)

    return value


def exact_cosine_warmup(steps, target):
    return lambda t: target * (1 - hc(t / mpf(steps))) if t < steps else mpf(target)


def exact_cycled_cosine(lr, period, period_mul):
    def value(t):
        i, start, _ = locate(t, period, mpf(period_mul))
        return lr * hc(min((t - start) / mpf(period_mul) ** i, mpf(period)) / period)

    return value


def exact_keras_warmup_cosine(lr, decay_steps, target, warmup_steps, alpha):
    def value(t):
        if t < warmup_steps:
            return lr + (mpf(target) - lr) * t / warmup_steps
        return target * ((1 - mpf(alpha)) * hc(min(t - warmup_steps, mpf(decay_steps)) / decay_steps) + alpha)

    return value


def exact_megatron_wd(start, end, steps):
    return lambda t: start + (1 - hc(min(t, mpf(steps)) / steps)) * (mpf(end) - start)


def exact_swalr(start, swa_lr, epochs):
    return lambda t: swa_lr + (mpf(start) - swa_lr) * hc(min(t, mpf(epochs)) / epochs)


def exact_piecewise_cosine(steps, values):
    def value(t):
        if t >= steps[-1]:
            return mpf(values[-1])
        i = max(k for k in range(len(steps)) if steps[k] <= t) if t >= steps[0] else 0
        done = max(t - steps[i], 0)
        return values[i + 1] + (mpf(values[i]) - values[i + 1]) * hc(done / mpf(steps[i + 1] - steps[i]))

    return value


# -- the cases -----------------------------------------------------------------------------------

RESTART_STARTS = geometric_starts(100, 2, 6)  # 100, 300, 700, 1500, 3100, 6300

CASES = [
    (cosine_decay(0.0003, 1000), exact_cosine_decay(0.0003, 1000, 0.0), around(1000)),
    (cosine_decay(0.1, 7), exact_cosine_decay(0.1, 7, 0.0), around(7)),
    (cosine_decay_restarts(0.1, 100, t_mul=2.0), exact_restarts(0.1, 100, 2.0, 1.0, 0.0), around(*RESTART_STARTS)),
    (cosine_decay_restarts(1.0, 1, t_mul=3.0, m_mul=0.5), exact_restarts(1.0, 1, 3.0, 0.5, 0.0),
     around(*geometric_starts(1, 3, 8))),
    (cosine_decay_restarts(0.1, 8, t_mul=1.5, m_mul=0.9), exact_restarts(0.1, 8, 1.5, 0.9, 0.0),
     around(*geometric_starts(8, 1.5, 3))),
    (cosine_decay_restarts(0.1, 10, t_mul=1.0, m_mul=0.9), exact_restarts(0.1, 10, 1.0, 0.9, 0.0),
     around(10, 20, 30, 1000)),
    (linear_cosine_decay(0.1, 1000, num_periods=2.0, beta=0.0), exact_linear_cosine(0.1, 1000, 2.0, 0.0, 0.0),
     around(250, 750)),
    (noisy_linear_cosine_decay(0.1, 1000, initial_variance=0.0, num_periods=1.5, beta=0.0),
     exact_linear_cosine(0.1, 1000, 1.5, 0.0, 0.0), around(1000 / 3, 1000)),
    (cosine_annealing(0.1, 100), exact_annealing(0.1, 100, 0.0), around(100, 300, 10**6 + 100)),
    (cosine_annealing_warm_restarts(0.1, 10, 2), exact_warm_restarts(0.1, 10, 2, 0.0), around(*geometric_starts(10, 2, 6))),
    (warmup_cosine_decay(0.0, 0.1, 10, 1000), exact_warmup_cosine(0.0, 0.1, 10, 1000, 0.0, 1), around(10, 1000)),
    (warmup_cosine_decay(0.0, 0.1, 10, 1000, end_value=0.5, exponent=2.0),
     exact_warmup_cosine(0.0, 0.1, 10, 1000, 0.5, 2), around(10, 1000)),
    (warmup_cosine_decay(0.0, 0.1, 10, 1000, end_value=1e-5, exponent=0.5),
     exact_warmup_cosine(0.0, 0.1, 10, 1000, 1e-5, mpf(0.5)), around(10, 1000)),
    (cosine_with_min_lr(0.1, 10, 1010, min_lr_rate=0.0), exact_cosine_with_min_lr(0.1, 10, 1010, 0.5, 0.0),
     around(1010, 3010)),
    (cosine_with_min_lr(0.1, 0, 1000, num_cycles=1.5, min_lr_rate=0.0), exact_cosine_with_min_lr(0.1, 0, 1000, 1.5, 0.0),
     around(1000 / 3, 1000)),
    (timm_cosine(0.1, 100, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=5, warmup_t=5, warmup_lr_init=1e-4),
     exact_timm(0.1, 100, 0.0, 2, 0.5, 5, 5, 1e-4, 1), around(*geometric_starts(100, 2, 5))),
    (timm_cosine(0.1, 100, cycle_limit=3, k_decay=2.0), exact_timm(0.1, 100, 0.0, 1, 1.0, 3, 0, 0.0, 2),
     around(100, 200, 300)),
    (one_cycle(0.1, 1000), exact_one_cycle(0.1, 1000, 0.3, 25.0, 1e4), around(299, 999)),
    (one_cycle(0.1, 1000, div_factor=1e4, final_div_factor=1.0),
     exact_one_cycle(0.1, 1000, 0.3, 1e4, 1.0), around(299, 999)),
    (cosine_onecycle(1000, 0.1, div_factor=1e4, final_div_factor=1.0),
     exact_interpolate(0.1 / 1e4, [300, 1000], [1e4, 1 / 1e4]), around(300, 1000)),
    (piecewise_interpolate("cosine", 1.0, [100, 200], [1e-6, 1e6]),
     exact_interpolate(1.0, [100, 200], [1e-6, 1e6]), around(100, 200)),
    (warmup_stable_decay(0.1, 100, 200, 300, decay_shape="cosine", warmup_shape="cosine"),
     exact_wsd(0.1, 100, 200, 300, 0.0), around(100, 300, 600)),
    (megatron_lr(0.1, 1000, warmup_steps=100, decay_style="cosine"), exact_megatron(0.1, 1000, 0.0, 100),
     around(100, 1000)),
    (megatron_lr(0.1, 1000, warmup_steps=100, decay_style="WSD", wsd_decay_steps=200, wsd_decay_style="cosine"),
     exact_megatron(0.1, 1000, 0.0, 100, 200), around(800, 1000)),
    (warmup(constant(0.1), 500, shape="cosine"), exact_cosine_warmup(500, 0.1), around(0, 500)),
    (cycle(cosine_decay(0.1, 100), 100, period_mul=2.0), exact_cycled_cosine(0.1, 100, 2.0),
     around(*geometric_starts(100, 2, 5))),
    (cosine_decay_warmup(0.0, 1000, 0.1, 100, alpha=0.0), exact_keras_warmup_cosine(0.0, 1000, 0.1, 100, 0.0),
     around(100, 1100)),
    (megatron_wd(0.0, 0.1, 1000, "cosine"), exact_megatron_wd(0.0, 0.1, 1000), around(0, 1000)),
    (megatron_wd(1e-6, 0.1, 7, "cosine"), exact_megatron_wd(1e-6, 0.1, 7), around(7)),
    (swalr(0.1, 1e-5, 100, "cos"), exact_swalr(0.1, 1e-5, 100), around(100)),
    (piecewise_linear([0, 100, 300], [1.0, 1e-6, 1.0], interpolate_type="cosine"),
     exact_piecewise_cosine([0, 100, 300], [1.0, 1e-6, 1.0]), around(100, 300)),
]
IDS = [repr(s)[:70] for s, _, _ in CASES]


def _check(values, schedule, exact, steps, what):
    with mpmath.workdps(50):
        for step, value in zip(steps, values):
            reference = exact(mpf(step))
            error = abs(mpf(float(value)) - reference)
            assert error <= 1e-13 * abs(reference), (what, schedule, step, float(value), float(reference))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float64_exact_at_the_ends_of_every_cycle(case):
    schedule, exact, steps = case
    assert len(steps) > 8
    _check([schedule(s) for s in steps], schedule, exact, steps, "Python float")
    _check(schedule(np.array(steps, dtype=np.float64)), schedule, exact, steps, "NumPy")
    _check(schedule(torch.tensor(steps, dtype=torch.float64)).numpy(), schedule, exact, steps, "torch float64")
    with jax.enable_x64(True):
        values = schedule(jnp.asarray(steps, dtype=jnp.float64))
        assert values.dtype == jnp.float64
        _check(np.asarray(values), schedule, exact, steps, "JAX float64")


def test_the_reported_steps():
    # 1 + cos(pi * 999 / 1000) keeps only ~rel 1e-11 of cosine_decay(0.0003, 1000)(999)
    with mpmath.workdps(50):
        exact = exact_cosine_decay(0.0003, 1000, 0.0)(mpf(999))
        assert abs(cosine_decay(0.0003, 1000)(999) - exact) <= 1e-15 * exact
        restarts = exact_restarts(0.1, 100, 2.0, 1.0, 0.0)
        for step in (699, 1499):
            value = cosine_decay_restarts(0.1, 100, t_mul=2.0)(step)
            assert abs(value - restarts(mpf(step))) <= 1e-15 * restarts(mpf(step))


def test_cancelling_form_misses_the_trough():
    # What the tests above guard against: the textbook form is off by far more than 1e-13.
    with mpmath.workdps(50):
        exact = exact_cosine_decay(0.0003, 1000, 0.0)(mpf(999))
        textbook = 0.0003 * 0.5 * (1.0 + math.cos(math.pi * (999 / 1000)))
        assert abs(textbook - exact) > 1e-12 * exact


MODULES = {"lrdecay.schedules." + m for m in ("cosine", "annealing", "cyclical", "transformer", "shapes", "decay")}
NOT_COSINE = {"tanh_decay", "cyclic", "linear_onecycle", "one_cycle_momentum"}  # name a cosine, use none of their own


def test_every_cosine_kind_is_covered():
    kinds = {s.kind for s, _, _ in CASES}
    cosine_kinds = {
        kind for kind, cls in lrdecay.registry().items()
        if cls.__module__ in MODULES and "cos" in (cls.__doc__ or "") + kind
    }
    assert cosine_kinds > {"cosine_decay", "timm_cosine", "one_cycle"}
    missing = cosine_kinds - kinds - NOT_COSINE
    assert not missing, missing


# -- the helpers themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("length", [1.0, 3.0, 7.0, 100.0, 1000.0, 12345.0, 2.0**20 + 1])
def test_half_cosine_is_exact_on_whole_steps_of_every_period(length):
    from lrdecay.core.backends import MATH, numpy_backend

    n = int(length)
    steps = sorted({0, 1, 2, *range(0, 4 * n + 1, max(1, n // 40)), *(k * n + d for k in range(1, 4) for d in (-2, -1, 1, 2))})
    done = np.array([s for s in steps if s >= 0], dtype=np.float64)
    for rising in (False, True):
        vector = numpy_backend().half_cosine(done, length, rising=rising)
        with mpmath.workdps(50):
            for d, value in zip(done, vector):
                exact = (1 + (-1 if rising else 1) * mpmath.cos(mpmath.pi * mpf(d) / length)) / 2
                for ours in (value, MATH.half_cosine(float(d), length, rising=rising), MATH.half_cosine(-float(d), length, rising=rising)):
                    assert abs(mpf(float(ours)) - exact) <= 1e-15 * exact, (d, length, rising, ours)
    assert MATH.half_cosine(length / 2, length) == 0.5 and MATH.half_cosine(0.0, length) == 1.0
    assert MATH.half_cosine(length, length) == 0.0 and MATH.half_cosine(0.0, length, rising=True) == 0.0


def test_one_minus_pow_keeps_its_digits_near_both_ends():
    from lrdecay.core.backends import MATH, numpy_backend

    xs = [0.0, 1e-300, 0.25, 0.5, 0.75, 1 - 2**-40, 1.0]
    for exponent in (0.0, 1e-6, 0.5, 1.0, 2.0, 7.5):
        vector = numpy_backend().one_minus_pow(np.array(xs), np.array([1.0 - x for x in xs]), exponent)
        with mpmath.workdps(50):
            for x, value in zip(xs, vector):
                exact = 1 - mpf(x) ** exponent if (x or exponent) else mpf(0)
                for ours in (value, MATH.one_minus_pow(x, 1.0 - x, exponent)):
                    assert abs(mpf(float(ours)) - exact) <= 1e-15 * abs(exact), (x, exponent, ours, exact)
