"""one_cycle (+ its momentum curve) and cyclic against the real torch OneCycleLR/CyclicLR;
linear_onecycle and cosine_onecycle against the real optax.

Tolerances: float64 against PyTorch within rel 1e-12 of the peak (OneCycleLR and CyclicLR have
no recursive form: ``step()`` evaluates the same closed formula, so there is no drift); float32
against Optax within ``F32_RTOL``.
"""

import math

import numpy as np
import optax
import pytest
import torch
from examples.cyclic import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st
from leaf_checks import F32_RTOL, assert_rel, check_example, jax_values, optax_values, torch_trace

from lrdecay import cosine_onecycle, linear_onecycle, one_cycle, one_cycle_momentum
from lrdecay.schedules.cyclical import cyclic

S = torch.optim.lr_scheduler


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


ONE_CYCLE = [
    dict(total_steps=100),
    dict(total_steps=100, anneal_strategy="linear"),
    dict(total_steps=50, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True),
    dict(total_steps=77, pct_start=0.4, three_phase=True),
    dict(total_steps=10, pct_start=0.5),
    dict(total_steps=1),
    dict(total_steps=3, pct_start=0.0),
    dict(total_steps=12, pct_start=1.0, anneal_strategy="linear"),
    dict(total_steps=1000, pct_start=0.05, div_factor=1.0, final_div_factor=1.0),
]


@pytest.mark.parametrize("betas", [False, True], ids=["momentum", "adam-betas"])
@pytest.mark.parametrize("params", ONE_CYCLE, ids=str)
def test_one_cycle_and_its_momentum_match_torch(params, betas):
    total = params["total_steps"]
    momentum = dict(base_momentum=0.8, max_momentum=0.9) if betas else {}
    trace = torch_trace(lambda o: S.OneCycleLR(o, 0.1, **params, **momentum), 0.1, total - 1, betas=betas)
    ours = one_cycle(0.1, **params)
    steps = np.arange(total)  # torch: step t in [0, total_steps - 1] is an update's lr
    assert_rel(ours(steps), trace["lr"], 1e-12, repr(ours))
    curve = ours.momentum(**momentum)
    assert curve == one_cycle_momentum(total, params.get("pct_start", 0.3), params.get("anneal_strategy", "cos"),
                                       three_phase=params.get("three_phase", False), **momentum)
    assert_rel(curve(steps), trace["momentum"], 1e-12, repr(curve))
    # at total_steps (never used by an update) torch extrapolates the last phase; past it torch
    # raises. Ours holds the final value from total_steps - 1 on.
    final = 0.1 / params.get("div_factor", 25.0) / params.get("final_div_factor", 1e4)
    assert ours(total) == ours(total - 1) == ours(10 * total) == ours(total - 1.0)
    if params.get("pct_start", 0.3) < 1.0 and total > 1:
        assert math.isclose(ours(total - 1), final, rel_tol=1e-12, abs_tol=1e-13)


def test_torch_one_cycle_at_total_steps_can_go_negative_ours_holds():
    params = dict(total_steps=50, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True)
    trace = torch_trace(lambda o: S.OneCycleLR(o, 0.1, **params), 0.1, 50)
    assert trace["lr"][50] < 0
    assert one_cycle(0.1, **params)(50) == pytest.approx(1e-4, rel=1e-12)


def test_one_cycle_zero_length_phase_is_finite_where_torch_divides_by_zero():
    # pct_start * total_steps == 1: the first phase ends at step 0, where torch computes 0 / 0
    param = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ZeroDivisionError):
        S.OneCycleLR(torch.optim.SGD([param], lr=0.1, momentum=0.9), 0.1, total_steps=10, pct_start=0.1)
    s = one_cycle(0.1, 10, pct_start=0.1)
    assert s(0) == 0.1 and np.all(np.isfinite(s(np.arange(20))))


CYCLIC = [
    dict(step_size_up=10),
    dict(step_size_up=5, step_size_down=15, mode="triangular2"),
    dict(step_size_up=4, mode="exp_range", gamma=0.99),
    dict(step_size_up=7, step_size_down=3, mode="exp_range", gamma=0.9995),
    dict(step_size_up=1),
    dict(step_size_up=2000),
    dict(step_size_up=6, step_size_down=0, mode="triangular2"),
]


@pytest.mark.parametrize("params", CYCLIC, ids=str)
@pytest.mark.parametrize("betas", [False, True], ids=["momentum", "adam-betas"])
def test_cyclic_and_its_momentum_match_torch(params, betas):
    steps = 4100 if params["step_size_up"] == 2000 else 400
    momentum = dict(base_momentum=0.85, max_momentum=0.95) if betas else {}
    trace = torch_trace(lambda o: S.CyclicLR(o, 0.001, 0.1, **params, **momentum), 0.1, steps, betas=betas)
    ours = cyclic(0.001, 0.1, **params)
    t = np.arange(steps + 1)
    assert_rel(ours(t), trace["lr"], 1e-12, repr(ours))
    assert_rel(ours.momentum(**momentum)(t), trace["momentum"], 1e-12, "momentum")


def test_cyclic_triangular2_far_out_underflows_to_base_instead_of_overflowing():
    s = cyclic(0.001, 0.1, 3, mode="triangular2")
    assert s(2**40) == 0.001 and s(3) == 0.1 and s(9) == pytest.approx(0.001 + 0.099 / 2)


@given(st.floats(1, 500), st.floats(1, 500), st.floats(0, 1e5))
def test_cyclic_triangular_stays_between_base_and_max(up, down, t):
    value = cyclic(0.01, 0.1, up, down)(t)
    assert 0.01 - 1e-15 <= value <= 0.1 + 1e-15


@pytest.mark.parametrize("total", [1, 2, 3, 7, 10, 30, 100, 1001])
@pytest.mark.parametrize("pct_start, pct_final", [(0.3, 0.85), (0.2, 0.9), (0.5, 0.5), (0.0, 1.0), (0.9, 0.1)])
def test_linear_onecycle_matches_optax(total, pct_start, pct_final):
    ours = linear_onecycle(total, 0.7, pct_start, pct_final, div_factor=10.0, final_div_factor=100.0)
    ref = optax_values(optax.linear_onecycle_schedule(total, 0.7, pct_start, pct_final, 10.0, 100.0), np.arange(total + 20))
    assert_rel(ours(np.arange(total + 20)), ref, F32_RTOL, repr(ours))
    assert_rel(jax_values(ours, np.arange(total + 20)), ref, F32_RTOL, repr(ours))


@pytest.mark.parametrize("total", [1, 2, 3, 7, 10, 30, 100, 1001])
@pytest.mark.parametrize("pct_start", [0.3, 0.0, 0.5, 1.0, 0.25])
def test_cosine_onecycle_matches_optax(total, pct_start):
    ours = cosine_onecycle(total, 0.7, pct_start)
    ref = optax_values(optax.cosine_onecycle_schedule(total, 0.7, pct_start), np.arange(total + 20))
    assert_rel(ours(np.arange(total + 20)), ref, F32_RTOL, repr(ours))
    if int(pct_start * total) < total:  # else Optax's dict keeps only the last scale at `total`
        assert ours(total) == ours(2**40) == pytest.approx(0.7 / 25.0 / 1e4, rel=1e-12)


BAD = [
    (one_cycle, (0.1, 0), {}, ValueError, "total_steps must be >= 1"),
    (one_cycle, (0.1, 10.5), {}, ValueError, "total_steps must be a whole number"),
    (one_cycle, (0.1, 10), {"pct_start": 1.5}, ValueError, "pct_start must be <= 1"),
    (one_cycle, (0.1, 10), {"anneal_strategy": "cosine"}, ValueError, "anneal_strategy must be one of"),
    (one_cycle, (0.1, 10), {"div_factor": 0}, ValueError, "div_factor must be > 0"),
    (one_cycle, (0.1, 10), {"final_div_factor": -1.0}, ValueError, "final_div_factor must be > 0"),
    (one_cycle, (0.1, 10), {"three_phase": "no"}, TypeError, "three_phase must be True or False"),
    (one_cycle_momentum, (10,), {"base_momentum": None}, TypeError, "base_momentum must be a real number"),
    (cyclic, (0.001, 0.1, 0), {}, ValueError, "step_size_up must be > 0"),
    (cyclic, (0.001, 0.1, 5, -1), {}, ValueError, "step_size_down must be >= 0"),
    (cyclic, (0.001, 0.1), {"mode": "sawtooth"}, ValueError, "mode must be one of"),
    (cyclic, (0.001, 0.1), {"mode": "exp_range", "gamma": 1.2}, ValueError, "gamma must be <= 1"),
    (cyclic, (0.001, 0.1), {"gamma": 0.0}, ValueError, "gamma must be > 0"),
    (linear_onecycle, (0, 0.1), {}, ValueError, "transition_steps must be >= 1"),
    (linear_onecycle, (10, 0.1), {"pct_final": 2.0}, ValueError, "pct_final must be <= 1"),
    (cosine_onecycle, (10, 0.1), {"pct_start": -0.1}, ValueError, "pct_start must be >= 0"),
    (cosine_onecycle, (10, "0.1"), {}, TypeError, "peak_value must be a real number"),
]


@pytest.mark.parametrize("factory, args, kwargs, error, message", BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input(factory, args, kwargs, error, message):
    with pytest.raises(error) as info:
        factory(*args, **kwargs)
    assert message in str(info.value)
