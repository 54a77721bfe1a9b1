"""constant, linear, step_decay, multistep_decay, exponential, polynomial, piecewise_interpolate
against the real torch.optim.lr_scheduler and optax.

Tolerances: float64 against PyTorch's closed form (``_get_closed_form_lr``) within rel 1e-12;
PyTorch's recursive ``step()`` values within rel 1e-12 too (measured drift for these shapes:
<= 4e-16, i.e. none beyond round-off); float32 against Optax within ``F32_RTOL`` (a few float32 ulps).
"""

import math

import numpy as np
import optax
import pytest
import torch
from examples.simple import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st
from leaf_checks import F32_RTOL, assert_rel, check_example, jax_values, optax_values, torch_trace

from lrdecay import (
    constant,
    exponential,
    linear,
    multistep_decay,
    piecewise_interpolate,
    polynomial,
    step_decay,
)

S = torch.optim.lr_scheduler


def _against_torch(ours, make, lr, steps):
    trace = torch_trace(make, lr, steps)
    values = ours(np.arange(steps + 1))
    assert_rel(values, trace["closed"], 1e-12, f"{ours!r} vs closed form")
    return assert_rel(values, trace["lr"], 1e-12, f"{ours!r} vs step()")


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


@pytest.mark.parametrize(
    "lr, step_size, gamma",
    [(0.1, 30, 0.1), (0.5, 3, 0.5), (1.0, 1, 0.9), (0.2, 7, 0.0), (3e-4, 10, 1.0)],
)
def test_step_decay_matches_torch_steplr(lr, step_size, gamma):
    _against_torch(step_decay(lr, step_size, gamma), lambda o: S.StepLR(o, step_size, gamma), lr, 10 * step_size + 5)


@pytest.mark.parametrize(
    "lr, milestones, gamma",
    [(0.1, [30, 80], 0.1), (0.1, [5, 5, 2], 0.5), (1.0, [1], 0.3), (0.1, [0, 3], 0.1), (0.1, [], 0.1),
     (0.05, [10, 20, 20, 20, 40], 0.7)],
)
def test_multistep_decay_matches_torch_multisteplr(lr, milestones, gamma):
    ours = multistep_decay(lr, milestones, gamma)
    _against_torch(ours, lambda o: S.MultiStepLR(o, milestones, gamma), lr, max(milestones, default=5) + 10)


@pytest.mark.parametrize("lr, gamma", [(0.1, 0.9), (1.0, 0.5), (0.1, 1.0), (2e-3, 0.999), (0.1, 0.0)])
def test_exponential_matches_torch_exponentiallr(lr, gamma):
    drift = _against_torch(exponential(lr, gamma), lambda o: S.ExponentialLR(o, gamma), lr, 300)
    assert drift < 1e-13  # the recursive product of 300 gammas stays within round-off


@pytest.mark.parametrize("lr, total_iters, power", [(0.1, 5, 1.0), (0.1, 10, 2.0), (1.0, 1, 1.0), (0.3, 20, 0.5), (0.1, 7, 3.0)])
def test_polynomial_matches_torch_polynomiallr(lr, total_iters, power):
    ours = polynomial(lr, total_iters, power)
    trace = torch_trace(lambda o: S.PolynomialLR(o, total_iters, power), lr, 2 * total_iters + 3)
    values = ours(np.arange(2 * total_iters + 4))
    assert_rel(values, trace["closed"], 1e-12, "closed")
    assert_rel(values, trace["lr"], 1e-12, "step()")
    assert values[total_iters] == 0.0 and np.all(values[total_iters:] == 0.0)


@pytest.mark.parametrize(
    "lr, start_factor, end_factor, total_iters",
    [(0.1, 1 / 3, 1.0, 5), (0.1, 0.1, 1.0, 10), (1.0, 1.0, 0.01, 7), (0.05, 0.5, 0.0, 4), (0.1, 0.25, 0.75, 1)],
)
def test_linear_matches_torch_linearlr_given_as_factors(lr, start_factor, end_factor, total_iters):
    ours = linear(lr * start_factor, lr * end_factor, total_iters)
    make = lambda o: S.LinearLR(o, start_factor, end_factor, total_iters)  # noqa: E731
    _against_torch(ours, make, lr, 3 * total_iters)


@pytest.mark.parametrize("start, end, steps", [(0.0, 1.0, 10), (1e-3, 0.1, 100), (0.1, 0.0, 7), (0.5, 0.5, 3)])
def test_linear_matches_optax_linear_schedule(start, end, steps):
    t = np.arange(3 * steps)
    ours = linear(start, end, steps)
    ref = optax_values(optax.linear_schedule(start, end, steps), t)
    assert_rel(ours(t), ref, F32_RTOL, "numpy vs optax")
    assert_rel(jax_values(ours, t), ref, F32_RTOL, "jax vs optax")


def test_constant_matches_optax_and_holds():
    t = np.arange(50)
    ref = optax_values(lambda c: optax.constant_schedule(0.3)(c) + 0.0 * c, t)
    assert_rel(constant(0.3)(t), ref, F32_RTOL)
    assert constant(0.3)(2**40) == 0.3 and constant(0.3).duration == 0


PIECEWISE = [
    ("linear", 0.1, {10: 10.0, 20: 0.01}),
    ("cosine", 0.1, {10: 10.0, 20: 0.01}),
    ("cosine", 1.0, {0: 0.5, 5: 2.0, 50: 0.1}),
    ("linear", 2.0, {1: 0.5, 2: 0.5, 3: 0.5, 4: 0.0}),
    ("linear", 0.7, {}),
    ("cosine", 3.0, {17: 1.0, 40: 0.25, 41: 4.0}),
]


@pytest.mark.parametrize("kind, init, table", PIECEWISE)
def test_piecewise_interpolate_matches_optax(kind, init, table):
    ours = piecewise_interpolate.from_optax(kind, init, table)
    assert ours == piecewise_interpolate(kind, init, sorted(table), [table[b] for b in sorted(table)])
    t = np.arange(max(table, default=5) + 20)
    ref = optax_values(optax.piecewise_interpolate_schedule(kind, init, table or None), t)
    assert_rel(ours(t), ref, F32_RTOL, f"{ours!r}")
    assert_rel(jax_values(ours, t), ref, F32_RTOL, f"jax {ours!r}")


def test_piecewise_interpolate_reaches_each_value_at_its_boundary():
    s = piecewise_interpolate("cosine", 1.0, [4, 10], [3.0, 0.5])
    assert s(0) == 1.0 and s(4) == 3.0 and s(10) == 1.5 and s(10**9) == 1.5


def test_multistep_milestones_are_sorted_and_whole():
    s = multistep_decay(0.1, [80, 30.0, 30])
    assert s.milestones == (30, 30, 80)
    assert repr(s) == "multistep_decay(learning_rate=0.1, milestones=[30, 30, 80])"
    assert math.isclose(s(30), 0.1 * 0.01, rel_tol=1e-15) and s(29) == 0.1


@given(
    st.floats(1e-6, 10), st.lists(st.integers(0, 200), max_size=6), st.floats(0, 1), st.integers(0, 400)
)
def test_multistep_is_gamma_to_the_number_of_milestones_passed(lr, milestones, gamma, t):
    passed = sum(m <= t for m in milestones)
    assert math.isclose(multistep_decay(lr, milestones, gamma)(t), lr * gamma**passed, rel_tol=1e-15)


@given(st.floats(-10, 10), st.floats(-10, 10), st.floats(0.5, 1e6), st.floats(0, 2e6))
def test_linear_stays_between_its_ends(start, end, steps, t):
    value = linear(start, end, steps)(t)
    assert min(start, end) - 1e-12 <= value <= max(start, end) + 1e-12
    if t >= steps:
        assert math.isclose(value, end, rel_tol=1e-12, abs_tol=1e-12)


BAD = [
    (constant, ("x",), TypeError, "value must be a real number"),
    (constant, (math.nan,), ValueError, "value must be finite"),
    (linear, (0.0, 1.0, 0), ValueError, "steps must be > 0"),
    (linear, (0.0, True, 3), TypeError, "end must be a real number"),
    (step_decay, (0.1, 0), ValueError, "step_size must be > 0"),
    (step_decay, (0.1, 3, 1.5), ValueError, "gamma must be <= 1"),
    (step_decay, (0.1, 3, -0.1), ValueError, "gamma must be >= 0"),
    (multistep_decay, (0.1, [10, 20.5]), ValueError, "milestones[1] must be a whole number"),
    (multistep_decay, (0.1, [-1]), ValueError, "milestones[0] must be >= 0"),
    (multistep_decay, (0.1, 30), TypeError, "milestones must be a list"),
    (multistep_decay, (0.1, [3], -2.0), ValueError, "gamma must be >= 0"),
    (exponential, (0.1, 1.01), ValueError, "gamma must be <= 1"),
    (exponential, (0.1, -0.5), ValueError, "gamma must be >= 0"),
    (exponential, (math.inf, 0.5), ValueError, "learning_rate must be finite"),
    (polynomial, (0.1, 0), ValueError, "total_iters must be > 0"),
    (polynomial, (0.1, 5, 0.0), ValueError, "power must be > 0"),
    (piecewise_interpolate, ("cubic", 0.1, [1], [1.0]), ValueError, "interpolate_type must be one of"),
    (piecewise_interpolate, ("linear", 0.1, [5, 5], [1.0, 1.0]), ValueError, "boundaries must be strictly increasing"),
    (piecewise_interpolate, ("linear", 0.1, [-1], [1.0]), ValueError, "boundaries[0] must be >= 0"),
    (piecewise_interpolate, ("linear", 0.1, [1], [-1.0]), ValueError, "scales[0] must be >= 0"),
    (piecewise_interpolate, ("linear", 0.1, [1, 2], [1.0]), ValueError, "one entry per boundary"),
]


@pytest.mark.parametrize("factory, args, error, message", BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input(factory, args, error, message):
    with pytest.raises(error) as info:
        factory(*args)
    assert message in str(info.value)
