"""Parameters as stored: NumPy scalars become Python numbers at construction (one mechanism, in
Schedule's shared checks), integers too large for a float are refused, and parameter
combinations that overflow are refused at construction (see docs/semantics.md, "Parameters")."""

import io
import json
import math

import numpy as np
import pytest
import torch
from examples import all_examples

import lrdecay
from lrdecay import (
    constant,
    cosine_decay,
    cosine_onecycle,
    cosine_with_min_lr,
    linear_cosine_decay,
    noisy_linear_cosine_decay,
    polynomial_decay,
    timm_cosine,
    warmup_cosine_decay,
)
from lrdecay.torch import ScheduleLR

EXAMPLES = all_examples()
IDS = [repr(s)[:70] for s in EXAMPLES]


def _numpy_number(value):
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value) if abs(value) < 2**63 else value
    if isinstance(value, float):
        return np.float64(value)
    return value


def _with_numpy_parameters(schedule):
    """The same schedule, built with every number given as a NumPy scalar (children too)."""

    def convert(value):
        if isinstance(value, lrdecay.Schedule):
            return _with_numpy_parameters(value)
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return _numpy_number(value)

    params = {name: convert(value) for name, value in schedule.params().items()}
    return type(schedule)(**params)


def _plain(value):
    """Only Python values (and schedules made of them) all the way down."""
    if isinstance(value, lrdecay.Schedule):
        return all(_plain(v) for v in value.params().values())
    if isinstance(value, (list, tuple)):
        return isinstance(value, tuple) and all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return type(value) in (int, float, bool, str, type(None))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
def test_numpy_scalar_parameters_are_stored_as_python_numbers(schedule, tmp_path):
    built = _with_numpy_parameters(schedule)
    assert built == schedule and hash(built) == hash(schedule)
    assert _plain(built), built.params()
    assert "np." not in repr(built) and "numpy" not in repr(built)
    assert lrdecay.parse(repr(built)) == schedule
    assert lrdecay.from_dict(json.loads(json.dumps(built.to_dict()))) == schedule
    for name in ("spec.json", "spec.yaml"):  # yaml.safe_dump refuses NumPy objects
        lrdecay.dump(built, tmp_path / name)
        assert lrdecay.load(tmp_path / name) == schedule
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = ScheduleLR(optimizer, built)
    optimizer.step()
    scheduler.step()
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    restored = ScheduleLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), schedule)
    restored.load_state_dict(state)
    assert restored.optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


def test_float32_parameters_keep_their_exact_value():
    # np.float32(0.1) is 0.100000001490116...: stored as that Python float, computed in float64
    schedule = cosine_decay(np.float32(0.1), np.int32(1000), alpha=np.float16(0.5))
    assert type(schedule.learning_rate) is float and schedule.learning_rate == float(np.float32(0.1))
    assert type(schedule.decay_steps) is int and type(schedule.alpha) is float
    assert schedule(500) == pytest.approx(float(np.float32(0.1)) * 0.75, rel=1e-15)
    one_cycle = lrdecay.one_cycle(np.float32(0.1), np.int64(100), div_factor=np.float32(3.0))
    assert all(type(v) is float for phase in one_cycle._plan for v in phase[2:])


def test_numpy_arrays_of_boundaries_are_stored_as_tuples():
    join = lrdecay.join([constant(0.1), constant(0.01), constant(0.001)], np.array([10, 20]))
    assert join.boundaries == (10, 20) and all(type(b) is int for b in join.boundaries)
    piecewise = lrdecay.piecewise_constant(np.array([5.0, 9.0]), np.array([1.0, 0.5, 0.25], dtype=np.float32))
    assert lrdecay.parse(repr(piecewise)) == piecewise and type(piecewise.values[0]) is float


def test_numpy_booleans_and_strings_are_accepted_as_python_values():
    schedule = lrdecay.exponential_decay(0.1, 10, 0.5, staircase=np.bool_(True))
    assert schedule.staircase is True
    cyclic = lrdecay.cyclic(0.1, 1.0, mode=np.str_("triangular2"))
    assert type(cyclic.mode) is str and repr(cyclic) == "cyclic(base_lr=0.1, max_lr=1.0, mode='triangular2')"


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: cosine_decay(10**400, 1000), "learning_rate"),
        (lambda: cosine_decay(0.1, 10**400), "decay_steps"),
        (lambda: lrdecay.one_cycle(0.1, 10**400), "total_steps"),
        (lambda: lrdecay.piecewise_constant([10, 10**400], [1.0, 0.5, 0.1]), "boundaries[1]"),
        (lambda: lrdecay.multistep_decay(0.1, [10, -(10**400)]), "milestones[1]"),
        (lambda: constant(0.1) * 10**400, "right"),
    ],
)
def test_integers_too_large_for_a_float_are_refused_by_name(build, name):
    with pytest.raises(ValueError, match=rf"{name.replace('[', '.').replace(']', '.')} must be a finite number that fits in a float"):
        build()
    with pytest.raises(ValueError, match="too large"):  # the spec parser refuses such a literal itself
        lrdecay.parse("cosine_decay(0.1, " + "9" * 400 + ")")


# -- combinations that overflow --------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: timm_cosine(0.1, 10, cycle_decay=2.0, cycle_limit=100000), "cycle_decay"),
        (lambda: lrdecay.tanh_decay(0.1, 10, cycle_decay=2.0, cycle_limit=100000), "cycle_decay"),
        (lambda: cosine_onecycle(1000, 0.1, div_factor=1e-200, final_div_factor=1e-200), "final_div_factor"),
        (lambda: lrdecay.linear_onecycle(1000, 0.1, div_factor=1e-200, final_div_factor=1e-200), "final_div_factor"),
        (lambda: lrdecay.one_cycle(1e300, 1000, div_factor=1e-200), "div_factor"),
        (lambda: lrdecay.one_cycle(0.1, 1000, div_factor=1e-200, final_div_factor=1e-200), "overflow"),
        (lambda: linear_cosine_decay(0.1, 1000, num_periods=1e308), "num_periods"),
        (lambda: noisy_linear_cosine_decay(0.1, 1000, num_periods=1e308), "num_periods"),
        (lambda: cosine_with_min_lr(1e300, 0, 100, min_lr_rate=1e10), "min_lr_rate"),
        (lambda: 1e308 * constant(1e308), "overflow"),
        (lambda: constant(1e308) + 1e308, "overflow"),
        (lambda: constant(1e308) + constant(1e308), "overflow"),
        (lambda: constant(1e308) / 1e-308, "overflow"),
        (lambda: constant(1e308) - (-1e308), "overflow"),
        (lambda: cosine_decay(1e308, 10, alpha=-1e308), "overflow"),
        (lambda: lrdecay.warmup(constant(1e308), 10, start=-1e308), "overflow"),
    ],
)
def test_parameters_that_overflow_are_refused_at_construction(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def test_large_but_finite_combinations_are_computed_safely():
    # min 1e308 above a tiny peak: no min_lr / lr (= inf) on the way
    hf = cosine_with_min_lr(1e-10, 10, 1000, min_lr=1e308)
    assert hf(1000) == 1e308 and math.isfinite(hf(505)) and hf(0) == 0.0
    optax_like = warmup_cosine_decay(0.0, 1e-10, 10, 1000, end_value=1e308)
    assert optax_like(1000) == 1e308 and optax_like(10) == 1e-10
    assert optax_like(505) == pytest.approx(0.5 * 1e308, rel=1e-13)
    # variance_decay=200: (1 + t) ** 200 overflows from t = 35; t ** -200 underflows to 0 instead
    noisy = noisy_linear_cosine_decay(0.1, 10**6, variance_decay=200)
    steps = [0, 1, 34, 35, 36, 1000, 10**6, 2**40]
    assert np.array_equal([noisy(s) for s in steps], noisy(np.array(steps, dtype=np.float64)))
    assert noisy(10**6) == pytest.approx(0.1 * 0.001, rel=1e-12)


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda p: lrdecay.exponential_decay(0.1, p, 0.5), "decay_steps"),
        (lambda p: lrdecay.step_decay(0.1, p), "step_size"),
        (lambda p: cosine_decay(0.1, p), "decay_steps"),
        (lambda p: lrdecay.cosine_decay_restarts(0.1, p), "first_decay_steps"),
        (lambda p: lrdecay.cosine_annealing(0.1, p), "t_max"),
        (lambda p: lrdecay.cyclic(0.1, 1.0, p), "step_size_up"),
        (lambda p: lrdecay.cycle(constant(0.1), p), "period"),
        (lambda p: lrdecay.per_epoch(constant(0.1), p), "steps_per_epoch"),
        (lambda p: timm_cosine(0.1, p), "t_initial"),
    ],
)
def test_periods_too_short_for_step_2_63_are_refused(build, name):
    # step / 1e-300 overflows from step 1.8e8 on: refused by name, with the rule
    with pytest.raises(ValueError, match=rf"{name} must be >= 5.13e-290 \(step / {name} must stay finite up to step 2\*\*63\), got 1e-300"):
        build(1e-300)
    schedule = build(1e-280)
    values = [schedule(2**31), schedule(np.array([2.0**31]))[0], schedule(2**63), schedule(np.array([2.0**63]))[0]]
    assert all(math.isfinite(v) for v in values) and values[0] == values[1] and values[2] == values[3]


def test_polynomial_decay_scalar_equals_array_where_it_cancels():
    # (lr - end) * (1 - p) ** power + end with end >> lr and (1 - p) ** power = 1 - 4.7e-14: the
    # one-ulp difference between NumPy's vector pow and math.pow came out as 0.25% of the value.
    # The float64 path computes end * (1 - (1 - p) ** power) + lr * (1 - p) ** power instead,
    # with 1 - (1 - p) ** power = -expm1(power * log1p(-p)).
    schedule = polynomial_decay(1e-12, 2**31, end_learning_rate=1e6, power=1e-6, cycle=True)
    p = 100 / 2**31
    exact = 1e6 * -math.expm1(1e-6 * math.log1p(-p)) + 1e-12 * (1 - p) ** 1e-6
    scalar, vector = schedule(100), schedule(np.array([100.0]))[0]
    assert scalar == pytest.approx(exact, rel=1e-13) and vector == pytest.approx(exact, rel=1e-13)
    assert abs(scalar - vector) <= 4e-16 * exact
