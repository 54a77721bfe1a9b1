"""Composition nodes: exact values (mpmath, worked out from the definitions in
src/lrdecay/compose.py), properties (hypothesis) and bad inputs."""

import math

import mpmath
import numpy as np
import pytest
from examples.compose import EXAMPLES
from hypothesis import assume, given
from hypothesis import strategies as st

import lrdecay
from lrdecay import (
    Schedule,
    add,
    clip,
    constant,
    cosine_annealing,
    cycle,
    divide,
    exponential_decay,
    exponential_decay_with_burnin,
    join,
    linear,
    multiply,
    per_epoch,
    sequence,
    sgdr,
    shift,
    warmup,
    warmup_cosine_decay,
)

mpmath.mp.prec = 113
REL = 1e-14

DECAY = exponential_decay(0.1, 20, 0.8)
COSINE = cosine_annealing(0.1, 50, eta_min=0.001)


def exact_decay(t, lr=0.1, steps=20, rate=0.8, staircase=False):
    p = mpmath.mpf(t) / steps
    return mpmath.mpf(lr) * mpmath.mpf(rate) ** (mpmath.floor(p) if staircase else p)


def exact_cosine(t, lr=0.1, t_max=50, eta_min=0.001):
    lr, eta_min = mpmath.mpf(lr), mpmath.mpf(eta_min)
    return eta_min + (lr - eta_min) * (1 + mpmath.cos(mpmath.pi * mpmath.mpf(t) / t_max)) / 2


def assert_close(schedule, steps, expected, rel=REL):
    steps, expected = list(steps), [float(e) for e in expected]
    assert len(steps) == len(expected) > 0
    got = [schedule(t) for t in steps]
    np.testing.assert_allclose(got, expected, rtol=rel, atol=0)
    np.testing.assert_allclose(schedule(np.asarray(steps, dtype=np.float64)), expected, rtol=rel, atol=0)
    return len(steps)


# -- warm-up ---------------------------------------------------------------------------------

RAMPS = {
    "linear": lambda p, start, target, power: start + (target - start) * p,
    "cosine": lambda p, start, target, power: start + (target - start) * (1 - mpmath.cos(mpmath.pi * p)) / 2,
    "burnin": lambda p, start, target, power: start + (target - start) * p**power,
    "exponential": lambda p, start, target, power: start * (target / start) ** p,
}


@pytest.mark.parametrize(
    "shape, start",
    [(shape, start) for shape in sorted(RAMPS) for start in (0.0, 0.001, 0.3) if start or shape != "exponential"],
)
def test_warmup_exact_values(shape, start):
    steps, power = 16, 3.0
    w = warmup(DECAY, steps, start=start, shape=shape, power=power)
    ts = list(range(0, 40))
    ramp = RAMPS[shape]
    expected = [
        ramp(mpmath.mpf(t) / steps, mpmath.mpf(start), mpmath.mpf(0.1), power) if t < steps else exact_decay(t - steps)
        for t in ts
    ]
    assert_close(w, ts, expected)


def test_burnin_is_darknets_get_current_rate():
    # darknet src/network.c get_current_rate: batch_num < burn_in ->
    #   learning_rate * pow((float)batch_num / burn_in, power), power defaults to 4.
    lr, burn_in = 0.001, 1000
    w = warmup(constant(lr), burn_in, shape="burnin")
    assert w.power == 4.0
    ts = [0, 1, 10, 250, 500, 999, 1000, 5000]
    expected = [mpmath.mpf(lr) * (mpmath.mpf(t) / burn_in) ** 4 if t < burn_in else lr for t in ts]
    assert_close(w, ts, expected)


@given(
    steps=st.integers(1, 10_000),
    start=st.floats(0.0, 1.0),
    shape=st.sampled_from(sorted(RAMPS)),
    power=st.floats(0.1, 8.0),
    lr=st.floats(1e-6, 10.0),
)
def test_warmup_monotone_and_reaches_target_exactly(steps, start, shape, power, lr):
    if shape == "exponential":
        start = max(start, 1e-8)
    target_schedule = exponential_decay(lr, 100, 0.5)
    w = warmup(target_schedule, steps, start=start, shape=shape, power=power)
    ts = np.unique(np.linspace(0, steps, num=min(steps + 1, 2000)).round())
    values = w(ts)
    diffs = np.diff(values)
    if lr >= start:
        assert (diffs >= 0).all()
        assert values.max() == lr
    else:
        assert (diffs <= 0).all()
        assert values.min() == lr
    assert w(steps) == target_schedule(0) == lr  # exactly, at the boundary
    assert w(steps + 7) == target_schedule(7)
    assert w(0) == start


def test_warmup_zero_steps_is_the_schedule():
    w = warmup(DECAY, 0, start=0.5)
    assert [w(t) for t in (0, 3, 100)] == [DECAY(t) for t in (0, 3, 100)]
    assert w.duration is None
    assert warmup(linear(1.0, 0.0, 30), 0).duration == 30


def test_warmup_duration():
    assert warmup(linear(1.0, 0.0, 30), 10).duration == 40
    assert warmup(DECAY, 10).duration is None
    assert warmup(constant(1e-3), 100).duration == 100  # a constant lasts 0 steps: it never changes


@pytest.mark.parametrize("s", [
    warmup(linear(0.0, 1.0, 1e-20), 5),  # 5 + 1e-20 rounds to 5, where the ramp still starts
    sequence(linear(0.0, 0.1, 10), linear(0.1, 0.0, 1e-4)),
    linear(1.0, 0.0, 1e-13).shift(3),
    lrdecay.cosine_decay(1.0, 1000).cooldown_from(0.5, 1e-17),
    lrdecay.timm_cosine(0.1, 2**-100, lr_min=1e-4, cycle_limit=4, warmup_t=5, warmup_prefix=True),
    per_epoch(linear(0.0, 1.0, 2.5), 10),  # epoch floor(t / 10) reaches 2.5 at step 30
    per_epoch(linear(0.0, 1.0, 1 / 3), 3.0, staircase=False),
])
def test_a_composite_no_longer_changes_from_its_duration_on(s):
    """``duration`` is where the value is final: sums of durations round up, never down."""
    d = s.duration
    final = s(2**40)
    assert s(d) == final and s(math.ceil(d) + 1) == final, (s, d, s(d), final)
    assert d <= 30 and s(max(d - 1, 0)) != final


# -- join and sequence -----------------------------------------------------------------------


def test_join_boundary_belongs_to_the_next_segment_with_local_time():
    a, b, c = linear(0.0, 1.0, 10), exponential_decay(1.0, 5, 0.5), constant(0.25)
    j = join([a, b, c], [10, 30])
    ts = [0, 5, 9, 10, 11, 29, 30, 31, 1000]
    expected = [mpmath.mpf(t) / 10 for t in (0, 5, 9)]
    expected += [mpmath.mpf(0.5) ** (mpmath.mpf(t - 10) / 5) for t in (10, 11, 29)]
    expected += [0.25] * 3
    assert_close(j, ts, expected)
    assert j.duration == 30


def test_join_matches_optax_join_schedules_definition():
    # optax/schedules/_join.py: out = s0(step); for b, s: out = where(step < b, out, s(step - b))
    parts = [DECAY, COSINE, 2.0 * DECAY]
    boundaries = [7, 7.5]
    j = join(parts, boundaries)
    ts = np.arange(0, 30, 0.25)
    expected = parts[0](ts)
    for boundary, part in zip(boundaries, parts[1:]):
        expected = np.where(ts < boundary, expected, part(np.maximum(ts - boundary, 0)))
    np.testing.assert_array_equal(j(ts), expected)
    np.testing.assert_allclose([j(float(t)) for t in ts], expected, rtol=1e-15, atol=0)  # math.pow vs np.power


@given(
    n=st.integers(1, 5),
    lengths=st.lists(st.integers(1, 50), min_size=5, max_size=5),
    values=st.lists(st.floats(-10, 10), min_size=6, max_size=6),
)
def test_join_is_continuous_where_the_endpoints_match(n, lengths, values):
    parts = [linear(values[i], values[i + 1], lengths[i]) for i in range(n)]
    boundaries = list(np.cumsum(lengths[: n - 1]))
    j = join(parts, boundaries)
    s = sequence(*parts)
    assert s.boundaries == tuple(boundaries)
    ts = np.arange(0, sum(lengths[:n]) + 3, 1.0)
    np.testing.assert_array_equal(j(ts), s(ts))
    slope = max(abs(p.end - p.start) / p.steps for p in parts)
    for b, left, right in zip(boundaries, parts, parts[1:]):
        # the boundary step is the right segment's step 0, which is where the left one ends
        assert j(b) == right(0)
        assert abs(j(b) - left(left.steps)) <= 1e-15 * max(map(abs, values))
        assert abs(j(b) - j(b - 1)) <= slope * (1 + 1e-12) + 1e-15 * max(map(abs, values))


def test_segments_never_see_negative_local_time():
    class Probe(Schedule):  # a schedule that fails loudly on a negative step
        def _eval(self, t, xp):
            assert np.all(np.asarray(t) >= 0), t
            return xp.sqrt(t) + 1.0

    probe = Probe()
    for node in (join([DECAY, probe, probe], [5, 9]), warmup(probe, 8), probe.shift(3), cycle(probe, 4.5, period_mul=1.5)):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            values = node(np.arange(0, 50, 0.5))
        assert np.isfinite(values).all()
        np.testing.assert_allclose([node(t) for t in (0, 4, 5, 9, 12)], node(np.array([0, 4, 5, 9, 12.0])), rtol=1e-15)


def test_sequence_boundaries_repr_and_duration():
    wsd = sequence(linear(0.0, 1.0, 10), linear(1.0, 1.0, 80), linear(1.0, 0.0, 10))
    assert wsd.boundaries == (10, 90)
    assert wsd.duration == 100
    assert repr(wsd).startswith("sequence(linear(")
    assert [wsd(t) for t in (0, 5, 10, 50, 90, 95, 100, 200)] == [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    assert sequence(schedules=[DECAY]) == sequence(DECAY)
    assert sequence(linear(0, 1, 10), DECAY).duration is None


def test_sequence_error_names_the_unbounded_part():
    with pytest.raises(ValueError, match=r"schedules\[1\] \(exponential_decay\(.*never ends"):
        sequence(linear(0, 1, 10), DECAY, linear(1, 0, 5))


# -- cycle -----------------------------------------------------------------------------------


@given(t=st.integers(0, 10**6), k=st.integers(1, 1000), period=st.integers(1, 500))
def test_cycle_is_periodic(t, k, period):
    c = cycle(cosine_annealing(1.0, period, eta_min=0.1), period)
    assert c(t + k * period) == c(t)
    assert c(t) == COSINE_OF(period)(t % period)


def COSINE_OF(period):
    return cosine_annealing(1.0, period, eta_min=0.1)


@pytest.mark.parametrize("period", [1, 2, 5, 10, 100])
@pytest.mark.parametrize("period_mul", [2, 3, 4, 5, 10])
def test_cycle_index_is_exact_at_every_restart(period, period_mul):
    # timm's math.log(x, base) puts t_initial=1, cycle_mul=3, t=121 in the wrong cycle.
    c = cycle(linear(1.0, 0.0, period), period, period_mul=period_mul, peak_mul=0.5)
    start, length, previous = 0, period, period
    for i in range(10):
        assert c(start) == 0.5**i, (i, start)  # the restart value, exactly
        assert c(np.array([float(start)]))[0] == 0.5**i
        if i:  # one step earlier is the last step of the previous cycle: 0.5**(i-1) * (1 - (L-1)/L)
            assert c(start - 1) == pytest.approx(0.5 ** (i - 1) / previous, rel=1e-12)
        start, length, previous = start + length, length * period_mul, length
    while start < 2**50:  # every later restart, as Python integers, on both float64 paths
        i += 1
        assert c(start) == 0.5**i and c(np.array([float(start)]))[0] == 0.5**i, (i, start)
        start, length = start + length, length * period_mul


def test_cycle_stretches_peak_scales_and_limit_holds():
    base = linear(1.0, 0.2, 10)
    c = cycle(base, 10, period_mul=2, peak_mul=0.5, limit=3)
    # cycles: [0, 10), [10, 30), [30, 70); end value 0.2; then hold 0.2
    end = mpmath.mpf(0.2)

    def expected(t):
        for i, (start, length) in enumerate([(0, 10), (10, 20), (30, 40)]):
            if start <= t < start + length:
                u = mpmath.mpf(t - start) / 2**i
                value = 1 + (end - 1) * u / 10
                return end + mpmath.mpf(0.5) ** i * (value - end)
        return end

    ts = [0, 5, 9, 10, 11, 20, 29, 30, 50, 69, 70, 71, 10**9]
    assert_close(c, ts, [expected(t) for t in ts])
    assert c.duration == 70


def test_cycle_equals_keras_cosine_decay_restarts_formula():
    # keras CosineDecayRestarts: lr0 * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi f)) + alpha)
    lr0, first, t_mul, m_mul, alpha = 0.1, 10, 2.0, 0.6, 0.05
    c = cycle(cosine_annealing(lr0, first, eta_min=alpha * lr0), first, period_mul=t_mul, peak_mul=m_mul)
    ts = list(range(0, 160, 3)) + [10, 30, 70, 150]

    def expected(t):
        i, start, length = 0, 0, first
        while t >= start + length:
            i, start, length = i + 1, start + length, length * t_mul
        f = mpmath.mpf(t - start) / length
        return lr0 * ((1 - mpmath.mpf(alpha)) * mpmath.mpf(0.5) * mpmath.mpf(m_mul) ** i * (1 + mpmath.cos(mpmath.pi * f)) + alpha)

    assert_close(c, ts, [expected(t) for t in ts], rel=1e-13)


def test_cycle_reproduces_the_restart_leaves():
    # the leaves are compared with keras / timm in their own tests; here cycle must agree with them
    ts = np.arange(0.0, 400.0)
    restarts = lrdecay.cosine_decay_restarts(0.1, 10, t_mul=2.0, m_mul=0.5, alpha=0.1)
    composed = cycle(lrdecay.cosine_decay(0.1, 10, alpha=0.1), 10, period_mul=2.0, peak_mul=0.5)
    np.testing.assert_allclose(composed(ts), restarts(ts), rtol=1e-14, atol=1e-17)
    timm = lrdecay.timm_cosine(0.1, 10, lr_min=0.0, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3)
    composed = cycle(cosine_annealing(0.1, 10), 10, period_mul=2.0, peak_mul=0.5, limit=3)
    np.testing.assert_allclose(composed(ts), timm(ts), rtol=1e-14, atol=1e-17)
    assert composed.duration == timm.duration == 70


def test_cycle_without_limit_never_ends_and_huge_steps_are_finite():
    c = cycle(COSINE, 50, period_mul=1.5, peak_mul=0.9)
    assert c.duration is None
    values = c(np.array([0, 2.0**20, 2.0**30, 2.0**40]))
    assert np.isfinite(values).all()
    assert (values >= 0.001 - 1e-18).all()


# -- arithmetic and shaping ------------------------------------------------------------------


def test_operators_build_nodes_with_exact_values():
    ts = [0, 1, 7, 33, 100]
    cases = {
        "k*s": (0.5 * DECAY, lambda t: 0.5 * exact_decay(t)),
        "s*k": (DECAY * 3, lambda t: 3 * exact_decay(t)),
        "s1*s2": (DECAY * COSINE, lambda t: exact_decay(t) * exact_cosine(t)),
        "s+k": (DECAY + 0.25, lambda t: exact_decay(t) + 0.25),
        "k+s": (0.25 + DECAY, lambda t: exact_decay(t) + 0.25),
        "s+s2": (DECAY + COSINE, lambda t: exact_decay(t) + exact_cosine(t)),
        "s-k": (DECAY - 0.01, lambda t: exact_decay(t) - mpmath.mpf(0.01)),
        "s-s2": (DECAY - COSINE, lambda t: exact_decay(t) - exact_cosine(t)),
        "k-s": (1 - DECAY, lambda t: 1 - exact_decay(t)),
        "-s": (-DECAY, lambda t: -exact_decay(t)),
        "s/k": (DECAY / 3, lambda t: exact_decay(t) / 3),
    }
    for name, (node, exact) in cases.items():
        assert isinstance(node, Schedule), name
        assert_close(node, ts, [exact(t) for t in ts])
    assert (DECAY / 3)(5) == DECAY(5) / 3  # divided, not multiplied by a rounded 1/3
    assert 0.5 * DECAY == multiply(DECAY, 0.5)
    assert DECAY + COSINE == add(DECAY, COSINE)
    assert DECAY / 4 == divide(DECAY, 4)


@pytest.mark.parametrize("bad", ["x", None, [1], True])
def test_operators_reject_non_numbers(bad):
    for op in (lambda: DECAY * bad, lambda: bad * DECAY, lambda: DECAY + bad, lambda: DECAY - bad, lambda: DECAY / bad):
        with pytest.raises(TypeError):
            op()


@given(
    low=st.floats(0, 0.05),
    width=st.floats(0, 0.1),
    t=st.floats(0, 1e6),
)
def test_clip_bounds(low, width, t):
    high = low + width
    assume(high >= low)
    c = DECAY.clip(min=low, max=high)
    assert low <= c(t) <= high
    assert c(t) == min(max(DECAY(t), low), high)
    assert DECAY.clip(min=low)(t) == max(DECAY(t), low)
    assert DECAY.clip(max=high)(t) == min(DECAY(t), high)


@given(n=st.integers(-1000, 1000), t=st.integers(0, 10**6))
def test_shift(n, t):
    s = DECAY.shift(n)
    assert s == shift(DECAY, n)
    assert s(t) == DECAY(max(t - n, 0))
    assert linear(1, 0, 100).shift(n).duration == max(100 + n, 0)


@given(spe=st.integers(1, 1000), t=st.integers(0, 10**7))
def test_per_epoch(spe, t):
    epochs = exponential_decay(0.1, 3, 0.5, staircase=False)
    assert per_epoch(epochs, spe)(t) == epochs(t // spe)
    assert per_epoch(epochs, spe, staircase=False)(t) == epochs(t / spe)
    assert per_epoch(linear(1, 0, 10), spe).duration == 10 * spe


def test_durations_compose():
    ramp, fall = linear(0.0, 1.0, 10), linear(1.0, 0.0, 90)
    assert sequence(ramp, fall).duration == 100
    assert warmup(fall, 10).duration == 100
    assert join([ramp, fall], [25]).duration == 115
    assert join([DECAY, fall], [25]).duration == 115
    assert join([ramp, DECAY], [25]).duration is None
    assert cycle(fall, 90, limit=3).duration == 270
    assert cycle(fall, 10, period_mul=2, limit=3).duration == 70
    assert cycle(fall, 90).duration is None
    assert (ramp * fall).duration == 90
    assert (ramp + 1).duration == 10
    assert (ramp * DECAY).duration is None
    assert (fall / 2).duration == fall.clip(min=0.1).duration == 90
    assert per_epoch(sequence(ramp, fall), 5).duration == 500


# -- the seed's burn-in decay ----------------------------------------------------------------


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_with_burnin(staircase):
    lr, decay_steps, rate, burnin = 0.01, 1000, 0.96, 500
    s = exponential_decay_with_burnin(lr, decay_steps, rate, burnin, staircase=staircase)
    ts = [0, 1, 100, 499, 500, 501, 1499, 1500, 2500, 10**7]
    expected = [
        mpmath.mpf(lr) * (mpmath.mpf(t) / burnin) ** 4 if t < burnin
        else exact_decay(t - burnin, lr, decay_steps, rate, staircase)
        for t in ts
    ]
    assert_close(s, ts, expected)
    composed = warmup(exponential_decay(lr, decay_steps, rate, staircase), burnin, shape="burnin")
    np.testing.assert_array_equal(s(np.arange(3000.0)), composed(np.arange(3000.0)))
    assert s.duration is None


def test_sgdr_is_a_join_at_the_cumulative_decay_steps():
    cycles = [warmup_cosine_decay(0.0, 0.1, 5, 30), warmup_cosine_decay(0.01, 0.05, 0, 20, end_value=0.001)]
    s = sgdr(cycles)
    assert s == sgdr([dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=30), cycles[1]])
    ts = np.arange(0.0, 80.0)
    np.testing.assert_array_equal(s(ts), join(cycles, [30])(ts))
    assert s(30) == cycles[1](0) == 0.05
    assert s(29) == cycles[0](29)
    assert s.duration == 50 and s(50) == s(10**9) == 0.001


# -- every example ---------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_examples_are_finite_and_scalar_equals_vector(schedule):
    ts = np.array([0, 1, 2, 9, 10, 11, 49, 50, 51, 99, 100, 101, 399, 400, 10**6, 2**31, 2**40], dtype=np.float64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        vector = schedule(ts)
    assert np.isfinite(vector).all()
    np.testing.assert_allclose([schedule(float(t)) for t in ts], vector, rtol=1e-15, atol=0)
    np.testing.assert_allclose([schedule(int(t)) for t in ts], vector, rtol=1e-15, atol=0)


def test_every_node_is_registered_and_exported():
    kinds = lrdecay.registry()
    for name in ("warmup", "join", "sequence", "cycle", "add", "multiply", "divide", "clip", "shift",
                 "per_epoch", "exponential_decay_with_burnin", "sgdr"):
        assert name in kinds
        assert getattr(lrdecay, name) is kinds[name]


# -- bad input -------------------------------------------------------------------------------

BAD = [
    (lambda: warmup("cosine", 10), TypeError, "schedule must be a schedule"),
    (lambda: warmup(DECAY, -1), ValueError, "steps must be >= 0"),
    (lambda: warmup(DECAY, 10, shape="sqrt"), ValueError, "shape must be one of"),
    (lambda: warmup(DECAY, 10, shape="exponential"), ValueError, "start must be > 0"),
    (lambda: warmup(-1 * DECAY, 10, start=0.1, shape="exponential"), ValueError, "starts > 0"),
    (lambda: warmup(DECAY, 10, power=0), ValueError, "power must be > 0"),
    (lambda: warmup(DECAY, 10, start=float("nan")), ValueError, "start must be finite"),
    (lambda: join([], []), ValueError, "at least one schedule"),
    (lambda: join(DECAY, []), TypeError, "schedules must be a list"),
    (lambda: join([DECAY, 3], [5]), TypeError, r"schedules\[1\] must be a schedule"),
    (lambda: join([DECAY, DECAY], []), ValueError, "one entry fewer"),
    (lambda: join([DECAY, DECAY, DECAY], [5, 3]), ValueError, "must not decrease"),
    (lambda: join([DECAY, DECAY], [-1]), ValueError, r"boundaries\[0\] must be >= 0"),
    (lambda: join([DECAY, DECAY], "5"), TypeError, "boundaries must be a list"),
    (lambda: sequence(), ValueError, "at least one schedule"),
    (lambda: sequence(DECAY, schedules=[DECAY]), TypeError, "not both"),
    (lambda: cycle(DECAY, 0), ValueError, "period must be > 0"),
    (lambda: cycle(DECAY, 10, period_mul=0.5), ValueError, "period_mul must be >= 1"),
    (lambda: cycle(DECAY, 10, peak_mul=0), ValueError, "peak_mul must be > 0"),
    (lambda: cycle(DECAY, 10, peak_mul=2.0), ValueError, "peak_mul must be <= 1 when limit is None"),
    (lambda: cycle(DECAY, 10, limit=0), ValueError, "limit must be >= 1"),
    (lambda: cycle(DECAY, 10, limit=2.5), ValueError, "limit must be a whole number"),
    (lambda: cycle(DECAY, 10, period_mul=10, limit=400), ValueError, "overflow"),
    (lambda: cycle(DECAY, 10, peak_mul=1e10, limit=400), ValueError, "overflows"),
    (lambda: add(3, DECAY), TypeError, "left must be a schedule"),
    (lambda: multiply(DECAY, "2"), TypeError, "right must be a real number"),
    (lambda: divide(DECAY, 0), ValueError, "divisor must be != 0"),
    (lambda: DECAY / 0, ValueError, "divisor must be != 0"),
    (lambda: clip(DECAY), ValueError, "needs min, max or both"),
    (lambda: DECAY.clip(min=1, max=0), ValueError, "min must be <= max"),
    (lambda: DECAY.clip(min="0"), TypeError, "min must be a real number"),
    (lambda: DECAY.shift(float("inf")), ValueError, "steps must be finite"),
    (lambda: per_epoch(DECAY, 0), ValueError, "steps_per_epoch must be > 0"),
    (lambda: per_epoch(DECAY, 10, staircase=1), TypeError, "staircase must be True or False"),
    (lambda: exponential_decay_with_burnin(0.1, 10, 0.5, -1), ValueError, "burnin_steps must be >= 0"),
    (lambda: sgdr([]), ValueError, "at least one cycle"),
    (lambda: sgdr(DECAY), TypeError, "cycles must be a list"),
    (lambda: sgdr([DECAY]), TypeError, r"cycles\[0\] must be a warmup_cosine_decay"),
    (lambda: sgdr([dict(init_value=0, peak_value=1, warmup_steps=5)]), TypeError, r"cycles\[0\]: .*decay_steps"),
    (lambda: sgdr([dict(init_value=0, peak_value=1, warmup_steps=5, decay_steps=5)]), ValueError,
     r"cycles\[0\]: decay_steps must be > warmup_steps"),
    (lambda: exponential_decay_with_burnin(0.1, 0, 0.5, 10), ValueError, "decay_steps must be > 0"),
    (lambda: exponential_decay_with_burnin(0.1, 10, 0.5, 10, power=-1), ValueError, "power must be > 0"),
]


@pytest.mark.parametrize("build, error, message", BAD, ids=[m for _, _, m in BAD])
def test_bad_input(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_math_constants_stay_finite():
    assert math.isfinite(cycle(DECAY, 3, period_mul=1.0001)(2**40))


# -- operator syntax in repr ---------------------------------------------------------------

_A, _B, _C = exponential_decay(0.1, 10, 0.5), linear(0.0, 1.0, 10), cosine_annealing(0.2, 30)


@pytest.mark.parametrize("schedule, text", [
    (0.5 * _A, "0.5 * A"),
    (_A + 1e-5, "A + 1e-05"),
    (_A - 1e-5, "A - 1e-05"),
    (_A - 1, "A - 1"),
    (_A - _B, "A - B"),
    (2 - _A, "-1.0 * A + 2"),
    (0.5 * (_A + _B), "0.5 * (A + B)"),
    (_A * (_B + _C), "A * (B + C)"),
    (_A + (_B + _C), "A + (B + C)"),
    (_A - (_B + _C), "A - (B + C)"),
    (_A * _B * _C, "A * B * C"),
    (_A * (_B * _C), "A * (B * C)"),
    (_A * (_B / 2), "A * (B / 2)"),
    (0.5 * (0.25 * _A), "0.5 * (0.25 * A)"),
    ((0.5 * _A) / 2, "0.5 * A / 2"),
    ((_A + _B) / 2, "(A + B) / 2"),
    (_A / 2 / 4, "A / 2 / 4"),
])
def test_arithmetic_nodes_repr_as_operators_and_parse_back(schedule, text):
    names = {"A": repr(_A), "B": repr(_B), "C": repr(_C)}
    assert repr(schedule) == "".join(names.get(ch, ch) for ch in text)
    assert lrdecay.parse(repr(schedule)) == schedule


_LEAVES = st.sampled_from([_A, _B, _C])
_NUMBERS = st.one_of(st.integers(-3, 3), st.floats(-4, 4, allow_nan=False)).filter(lambda x: x != 0)


def _extend(children):
    return st.one_of(
        st.builds(add, children, st.one_of(children, _NUMBERS)),
        st.builds(multiply, children, st.one_of(children, _NUMBERS)),
        st.builds(divide, children, _NUMBERS),
        st.builds(lambda a, b: a - b, children, st.one_of(children, _NUMBERS)),
        st.builds(lambda k, a: k - a, _NUMBERS, children),
    )


@given(st.recursive(_LEAVES, _extend, max_leaves=8))
def test_any_arithmetic_tree_round_trips_through_its_repr(schedule):
    assert lrdecay.parse(repr(schedule)) == schedule
