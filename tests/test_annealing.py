"""cosine_annealing, cosine_annealing_warm_restarts (real torch), warmup_cosine_decay,
warmup_exponential_decay (real optax), cosine_with_min_lr (real transformers), timm_cosine and
tanh_decay (loop transcriptions of timm's source).

Tolerances: float64 against PyTorch's closed form within rel 1e-12 (relative to the schedule's
peak); PyTorch's recursive ``CosineAnnealingLR.step()`` drifts from its closed form by at most
1.6e-14 of the peak over 6 periods (measured), asserted < 1e-12; ``CosineAnnealingWarmRestarts``
and Hugging Face's ``LambdaLR`` lambdas are the same formula as ours (rel 1e-15); float32
against Optax within ``F32_RTOL``.
"""

import math

import mpmath
import numpy as np
import optax
import pytest
import torch
from examples.annealing import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st
from leaf_checks import F32_RTOL, assert_rel, check_example, jax_values, optax_values, torch_trace
from transformers.optimization import (
    get_cosine_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
)

from lrdecay import (
    cosine_annealing,
    cosine_annealing_warm_restarts,
    cosine_with_min_lr,
    tanh_decay,
    timm_cosine,
    warmup_cosine_decay,
    warmup_exponential_decay,
)

S = torch.optim.lr_scheduler


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


# -- PyTorch -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lr, t_max, eta_min", [(0.1, 100, 0.001), (0.1, 100, 0.0), (0.1, 10, 0.0), (1.0, 1, 0.0), (0.5, 7, 0.05), (0.1, 3, 0.2)]
)
def test_cosine_annealing_matches_torch_including_past_t_max(lr, t_max, eta_min):
    steps = 6 * t_max + 3
    trace = torch_trace(lambda o: S.CosineAnnealingLR(o, t_max, eta_min), lr, steps)
    ours = cosine_annealing(lr, t_max, eta_min)
    values = ours(np.arange(steps + 1))
    assert_rel(values, trace["closed"], 1e-12, "closed form")
    drift = assert_rel(values, trace["lr"], 1e-12, "recursive step()")
    assert drift < 1e-12
    # periodic past t_max: back to the peak at 2 t_max, eta_min at odd multiples
    assert math.isclose(ours(2 * t_max), lr, rel_tol=1e-15)
    assert math.isclose(ours(3 * t_max), eta_min, rel_tol=1e-12, abs_tol=1e-17)


WARM_RESTARTS = [(0.1, 10, 1, 0.0), (0.1, 3, 2, 1e-4), (0.05, 1, 3, 0.0), (0.1, 2, 5, 0.01), (0.1, 1, 10, 0.0), (0.3, 7, 4, 0.0)]


@pytest.mark.parametrize("lr, t_0, t_mult, eta_min", WARM_RESTARTS)
def test_cosine_annealing_warm_restarts_matches_torch_step(lr, t_0, t_mult, eta_min):
    ours = cosine_annealing_warm_restarts(lr, t_0, t_mult, eta_min)
    last_restart = t_0 * sum(t_mult**k for k in range(5 if t_mult < 5 else 3))
    steps = min(last_restart + 2 * t_0, 3000)
    trace = torch_trace(lambda o: S.CosineAnnealingWarmRestarts(o, t_0, t_mult, eta_min), lr, steps)
    assert_rel(ours(np.arange(steps + 1)), trace["lr"], 1e-15, repr(ours))


def test_warm_restarts_exact_where_torchs_explicit_epoch_path_misindexes():
    # step(epoch) uses int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult)): log(243, 3) is
    # 4.999..., so epoch 121 lands at the very end of cycle 4 (eta_min) instead of restarting.
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = S.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=3)
    scheduler.step(121)
    assert optimizer.param_groups[0]["lr"] == 0.0
    incremental = torch_trace(lambda o: S.CosineAnnealingWarmRestarts(o, 1, 3), 0.1, 121)["lr"]
    assert incremental[121] == 0.1
    assert cosine_annealing_warm_restarts(0.1, 1, 3)(121) == 0.1


@pytest.mark.parametrize("lr, t_0, t_mult, eta_min", WARM_RESTARTS)
def test_warm_restarts_fractional_steps_match_torch_explicit_epochs(lr, t_0, t_mult, eta_min):
    ours = cosine_annealing_warm_restarts(lr, t_0, t_mult, eta_min)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = S.CosineAnnealingWarmRestarts(optimizer, t_0, t_mult, eta_min)
    epochs = np.arange(0.0, 60.0, 0.37) + 0.01  # off the restart boundaries
    ref = []
    for epoch in epochs:
        scheduler.step(float(epoch))
        ref.append(optimizer.param_groups[0]["lr"])
    assert_rel(ours(epochs), np.array(ref), 1e-12, repr(ours))


def _restart_loop(t, t_0, t_mult):
    """PyTorch's incremental bookkeeping (T_cur += 1; restart when T_cur >= T_i), jumped ahead
    one whole cycle at a time."""
    if t_mult == 1:
        return t % t_0, t_0
    start, length = 0, t_0
    while start + length <= t:
        start, length = start + length, length * t_mult
    return t - start, length


@given(st.integers(1, 50), st.integers(1, 6), st.integers(0, 2**40))
def test_warm_restarts_cycle_index_is_exact_up_to_2_40(t_0, t_mult, t):
    t_cur, t_i = _restart_loop(t, t_0, t_mult)
    with mpmath.workdps(40):
        expected = (1 + mpmath.cos(mpmath.pi * t_cur / t_i)) / 2
        for value in (cosine_annealing_warm_restarts(1.0, t_0, t_mult)(t),
                      cosine_annealing_warm_restarts(1.0, t_0, t_mult)(np.array([t]))[0]):
            assert abs(value - expected) <= 1e-15 * expected, (value, expected)


@given(st.integers(1, 20), st.integers(2, 10), st.integers(1, 12))
def test_warm_restarts_restart_exactly_on_every_boundary(t_0, t_mult, k):
    boundary = t_0 * (t_mult**k - 1) // (t_mult - 1)
    s = cosine_annealing_warm_restarts(0.1, t_0, t_mult)
    assert s(boundary) == 0.1
    assert s(np.array([boundary], dtype=np.int64))[0] == 0.1
    if t_0 * t_mult ** (k - 1) > 1:  # the cycle before is longer than one step
        assert s(boundary - 1) < 0.1


# -- Optax ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "init, peak, warmup, decay, end, exponent",
    [(0.0, 1.0, 10, 100, 0.0, 1.0), (0.01, 0.5, 0, 50, 0.05, 2.0), (0.1, 1.0, 5, 6, 0.0, 1.0),
     (0.0, 1.0, 1, 10, 0.1, 0.5), (0.2, 0.0, 3, 10, 0.0, 1.0), (1e-4, 3e-3, 250, 1000, 3e-5, 1.0)],
)
def test_warmup_cosine_decay_matches_optax(init, peak, warmup, decay, end, exponent):
    ours = warmup_cosine_decay(init, peak, warmup, decay, end, exponent)
    ref_fn = optax.warmup_cosine_decay_schedule(init, peak, warmup, decay, end, exponent)
    t = np.arange(decay + 30)
    ref = optax_values(ref_fn, t)
    assert_rel(ours(t), ref, F32_RTOL, f"numpy {ours!r}")
    assert_rel(jax_values(ours, t), ref, F32_RTOL, f"jax {ours!r}")
    assert ours(decay) == ours(10 * decay) and math.isclose(ours(decay), end if peak else 0.0, abs_tol=1e-18)


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 10, 20, 0.5), (0.0, 0.1, 5, 10, 0.9, 5, True, 0.01), (0.0, 0.1, 5, 10, 0.9, 5, False, 0.01),
     (0.05, 0.1, 0, 3, 0.7), (0.0, 0.1, 5, 10, 1.5, 0, False, 0.4), (0.0, 0.1, 5, 10, 1.5, 3, True, 0.4),
     (0.0, 1.0, 7, 1, 0.99, 0, True), (0.0, 1.0, 2, 4, 1.0, 1, False, 0.5), (0.1, 1.0, 0, 10, 0.5, 0, False, 2.0)],
)
def test_warmup_exponential_decay_matches_optax(args):
    ours = warmup_exponential_decay(*args)
    ref_fn = optax.warmup_exponential_decay_schedule(*args)
    t = np.arange(300)
    ref = optax_values(ref_fn, t)
    assert_rel(ours(t), ref, 1.5e-6, f"numpy {ours!r}")  # float32 pow of a growing exponent
    assert_rel(jax_values(ours, t), ref, F32_RTOL, f"jax {ours!r}")


# -- Hugging Face transformers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "lr, warmup, total, cycles, min_lr, rate",
    [(0.1, 10, 100, 0.5, 0.001, None), (0.1, 0, 50, 1.5, None, 0.1), (1.0, 5, 5, 0.5, None, 0.2),
     (3e-4, 100, 1000, 0.5, 3e-5, None), (0.1, 7, 30, 0.25, None, 0.0)],
)
def test_cosine_with_min_lr_matches_transformers(lr, warmup, total, cycles, min_lr, rate):
    ours = cosine_with_min_lr(lr, warmup, total, cycles, min_lr=min_lr, min_lr_rate=rate)
    make = lambda o: get_cosine_with_min_lr_schedule_with_warmup(  # noqa: E731
        o, warmup, total, cycles, min_lr=min_lr, min_lr_rate=rate
    )
    steps = 2 * total + 10
    trace = torch_trace(make, lr, steps)
    assert_rel(ours(np.arange(steps + 1)), trace["lr"], 1e-15, repr(ours))
    if rate == 0.0:
        plain = torch_trace(lambda o: get_cosine_schedule_with_warmup(o, warmup, total, cycles), lr, steps)
        assert_rel(ours(np.arange(steps + 1)), plain["lr"], 1e-15, "get_cosine_schedule_with_warmup")


# -- timm (no timm here: it needs torchvision) ---------------------------------------------------


def _timm_reference(t, base, t_initial, lr_min=0.0, cycle_mul=1.0, cycle_decay=1.0, cycle_limit=1,
                    warmup_t=0, warmup_lr_init=0.0, warmup_prefix=False, k_decay=None, lb=-7.0, ub=3.0,
                    exact=True):
    """``_get_lr`` of huggingface/pytorch-image-models timm/scheduler/cosine_lr.py
    (``CosineLRScheduler``; ``k_decay`` given) or timm/scheduler/tanh_lr.py (``TanhLRScheduler``;
    ``k_decay=None``), transcribed line by line. ``exact=False`` keeps timm's
    ``math.floor(math.log(..., cycle_mul))`` cycle index; ``exact=True`` walks the cycles."""

    def after_warmup(t):
        if warmup_prefix:
            t = t - warmup_t
        if cycle_mul != 1:
            if exact:
                i, start, t_i = 0, 0.0, t_initial
                while start + t_i <= t:
                    i, start, t_i = i + 1, start + t_i, t_i * cycle_mul
                t_curr = t - start
            else:
                i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
                t_i = cycle_mul**i * t_initial
                t_curr = t - (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial
        else:
            i = t // t_initial
            t_i = t_initial
            t_curr = t - (t_initial * i)
        if i >= cycle_limit:
            return lr_min
        lr_max = base * cycle_decay**i
        if k_decay is not None:
            return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t_curr**k_decay / t_i**k_decay))
        tr = t_curr / t_i
        return lr_min + 0.5 * (lr_max - lr_min) * (1 - math.tanh(lb * (1.0 - tr) + ub * tr))

    if t < warmup_t:
        if k_decay is not None or warmup_prefix:
            target = base
        else:  # TanhLRScheduler warms up to _get_lr(warmup_t)
            target = after_warmup(warmup_t)
        return warmup_lr_init + t * ((target - warmup_lr_init) / warmup_t)
    return after_warmup(t)


TIMM = [
    dict(t_initial=50),
    dict(t_initial=10, lr_min=1e-4, cycle_limit=5),
    dict(t_initial=10, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=4, warmup_t=5, warmup_lr_init=1e-3),
    dict(t_initial=10, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=4, warmup_t=5, warmup_lr_init=1e-3, warmup_prefix=True),
    dict(t_initial=7, cycle_mul=1.5, cycle_limit=6, lr_min=0.01),
    dict(t_initial=1, cycle_mul=3.0, cycle_limit=7),
    dict(t_initial=2, cycle_mul=10.0, cycle_limit=4, cycle_decay=0.9),
    dict(t_initial=20, warmup_t=30, warmup_lr_init=0.2),
    dict(t_initial=5, cycle_limit=0, warmup_t=3),
]


def _timm_case(kind, params):
    if kind == "cosine":
        k = params.get("k_decay", 1.0)
        return timm_cosine(0.1, **params), dict(params, k_decay=k)
    return tanh_decay(0.1, **params), params


@pytest.mark.parametrize("kind", ["cosine", "cosine_k2", "tanh"])
@pytest.mark.parametrize("params", TIMM, ids=str)
def test_timm_schedules_match_timm_formulas(kind, params):
    if kind == "cosine_k2":
        kind, params = "cosine", dict(params, k_decay=2.0)
    ours, ref_params = _timm_case(kind, params)
    if kind == "tanh":
        ref_params = dict(ref_params, k_decay=None)
    steps = np.arange(2000)
    exact = np.array([_timm_reference(int(t), 0.1, **ref_params) for t in steps])
    assert_rel(ours(steps), exact, 1e-12, repr(ours))
    timm = np.array([_timm_reference(int(t), 0.1, exact=False, **ref_params) for t in steps])
    differ = set(np.flatnonzero(~np.isclose(timm, exact, rtol=1e-12, atol=1e-15)).tolist())
    # only where timm's log estimate lands one cycle short on a restart step
    assert differ <= _restart_steps(params, steps.size), sorted(differ - _restart_steps(params, steps.size))


def _restart_steps(params, limit):
    """The steps where a new cycle (after the first) starts."""
    mul, length = params.get("cycle_mul", 1.0), params["t_initial"]
    start = params.get("warmup_t", 0) if params.get("warmup_prefix") else 0
    restarts = set()
    while start + length < limit:
        start, length = start + length, length * mul
        restarts.add(start)
    return restarts


def test_timm_off_by_one_cases_are_restarts_in_ours():
    s = timm_cosine(0.1, t_initial=1, cycle_mul=3.0, cycle_limit=10)
    assert _timm_reference(121, 0.1, 1, cycle_mul=3.0, cycle_limit=10, k_decay=1.0, exact=False) == 0.0
    assert s(121) == 0.1 and s(120) > 0.0
    s = timm_cosine(0.1, t_initial=1, cycle_mul=10.0, cycle_limit=10)
    assert _timm_reference(111, 0.1, 1, cycle_mul=10.0, cycle_limit=10, k_decay=1.0, exact=False) == 0.0
    assert s(111) == 0.1


def test_timm_default_is_one_cycle_then_lr_min():
    s = timm_cosine(0.1, 100, lr_min=0.001)
    assert s(0) == 0.1 and s(100) == 0.001 and s(10**6) == 0.001 and s.duration == 100


def test_tanh_warmup_hands_off_continuously_without_prefix():
    s = tanh_decay(0.1, 20, warmup_t=5, warmup_lr_init=0.0)
    after = _timm_reference(5, 0.1, 20, warmup_t=5, k_decay=None)
    assert math.isclose(s(5), after, rel_tol=1e-15)
    assert math.isclose(s(4), 4 * after / 5, rel_tol=1e-14)


BAD = [
    (cosine_annealing, (0.1, 0), {}, ValueError, "t_max must be > 0"),
    (cosine_annealing_warm_restarts, (0.1, 0), {}, ValueError, "t_0 must be >= 1"),
    (cosine_annealing_warm_restarts, (0.1, 2.5), {}, ValueError, "t_0 must be a whole number"),
    (cosine_annealing_warm_restarts, (0.1, 2, 0), {}, ValueError, "t_mult must be >= 1"),
    (cosine_annealing_warm_restarts, (0.1, 2, 1.5), {}, ValueError, "t_mult must be a whole number"),
    (warmup_cosine_decay, (0.0, 1.0, 10, 10), {}, ValueError, "decay_steps must be > warmup_steps"),
    (warmup_cosine_decay, (0.0, 1.0, -1, 10), {}, ValueError, "warmup_steps must be >= 0"),
    (warmup_cosine_decay, (0.0, 1.0, 1, 10), {"exponent": 0}, ValueError, "exponent must be > 0"),
    (warmup_exponential_decay, (0.0, 1.0, 1, 0, 0.5), {}, ValueError, "transition_steps must be > 0"),
    (warmup_exponential_decay, (0.0, 1.0, 1, 5, 0.0), {}, ValueError, "decay_rate must be > 0"),
    (warmup_exponential_decay, (0.0, 1.0, 1, 5, 1.1), {}, ValueError, "needs an end_value"),
    (warmup_exponential_decay, (0.0, 1.0, 1, 5, 0.5), {"transition_begin": -1}, ValueError, "transition_begin must be >= 0"),
    (warmup_exponential_decay, (0.0, 1.0, 1, 5, 0.5), {"staircase": 1}, TypeError, "staircase must be True or False"),
    (cosine_with_min_lr, (0.1, 10, 100), {}, ValueError, "exactly one of min_lr and min_lr_rate"),
    (cosine_with_min_lr, (0.1, 10, 100), {"min_lr": 0.0, "min_lr_rate": 0.0}, ValueError, "exactly one"),
    (cosine_with_min_lr, (0.0, 10, 100), {"min_lr": 0.01}, ValueError, "non-zero learning_rate"),
    (timm_cosine, (0.1, 0), {}, ValueError, "t_initial must be > 0"),
    (timm_cosine, (0.1, 10), {"lr_min": -1.0}, ValueError, "lr_min must be >= 0"),
    (timm_cosine, (0.1, 10), {"cycle_mul": 0.5}, ValueError, "cycle_mul must be >= 1"),
    (timm_cosine, (0.1, 10), {"cycle_limit": 1.5}, ValueError, "cycle_limit must be a whole number"),
    (timm_cosine, (0.1, 10), {"k_decay": 0}, ValueError, "k_decay must be > 0"),
    (timm_cosine, (0.1, 10), {"warmup_prefix": "yes"}, TypeError, "warmup_prefix must be True or False"),
    (tanh_decay, (0.1, 10), {"lb": 3.0, "ub": 3.0}, ValueError, "lb must be < ub"),
    (tanh_decay, (0.1, 10), {"warmup_t": -2}, ValueError, "warmup_t must be >= 0"),
]


@pytest.mark.parametrize("factory, args, kwargs, error, message", BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input(factory, args, kwargs, error, message):
    with pytest.raises(error) as info:
        factory(*args, **kwargs)
    assert message in str(info.value)
