"""Plateau per param group: torch's eps and min_lr lists against the real ReduceLROnPlateau,
and the checks on its state and metric."""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay import Plateau
from lrdecay.torch import ScheduleLR


def torch_group_lrs(base_lrs, trace, **config):
    """Each group's lr after each metric, from the real torch ReduceLROnPlateau."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in base_lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs)])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **config)
    lrs = []
    for metric in trace:
        scheduler.step(metric)
        lrs.append([group["lr"] for group in optimizer.param_groups])
    return lrs


def plateau_group_lrs(base_lrs, trace, **config):
    plateau = Plateau(**config)
    lrs = []
    for metric in trace:
        plateau.update(metric, value=list(base_lrs))
        lrs.append([plateau.effective(lr, group=i) for i, lr in enumerate(base_lrs)])
    return lrs


def schedule_lr_group_lrs(base_lrs, trace, mode="absolute", **config):
    """The same through ScheduleLR: constant schedules (absolute), or constant(1) times each
    group's own lr (factor mode)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in base_lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs)])
    schedule = [lrdecay.constant(lr) for lr in base_lrs] if mode == "absolute" else lrdecay.constant(1.0)
    scheduler = ScheduleLR(optimizer, schedule, mode=mode, clock="calls", plateau=Plateau(**config))
    lrs = []
    for metric in trace:
        scheduler.step(metrics=metric)
        lrs.append(scheduler.get_last_lr())
    return lrs


# The issue's setting: small lrs, factor 0.3, patience 0, cooldown 1, a flat metric. Reductions
# come every other epoch until a group's reduction would be <= eps = 1e-8; each group stops at
# its own epoch (torch tests eps per group), and a group with a min_lr stops there.
FLAT = [1.0] * 80
SMALL_LRS = [1e-3, 3e-6, 4.7e-8]
EPS_CONFIG = dict(factor=0.3, patience=0, cooldown=1)


@pytest.mark.parametrize("min_lr", [0.0, [0.0, 1e-9, 2e-8], [1e-5, 0.0, 0.0]])
@pytest.mark.parametrize("run", [plateau_group_lrs, schedule_lr_group_lrs,
                                 lambda *a, **k: schedule_lr_group_lrs(*a, mode="factor", **k)])
def test_eps_per_group_matches_torch(run, min_lr):
    expected = torch_group_lrs(SMALL_LRS, FLAT, min_lr=min_lr, **EPS_CONFIG)
    got = run(SMALL_LRS, FLAT, min_lr=min_lr, **EPS_CONFIG)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    # the trace does reach eps: each group's lr settles, at a different epoch
    floors = np.broadcast_to(min_lr, 3)
    assert all(0.7 * lr <= 1e-8 or lr == floor for lr, floor in zip(expected[-1], floors))
    settled = [min(i for i in range(len(FLAT)) if expected[i][g] == expected[-1][g]) for g in range(3)]
    assert len(set(settled)) == 3 and max(settled) < len(FLAT) - 10


def test_a_small_group_stops_at_eps_while_a_large_one_goes_on():
    # torch: the second group's lr stops at 4.30e-09 (0.7 * 4.30e-09 <= eps); one factor for
    # both groups, decided on the first group's lr, took it on to 1.29e-09.
    lrs = [1.0, 0.09]
    expected = torch_group_lrs(lrs, [1.0] * 51, **EPS_CONFIG)
    got = schedule_lr_group_lrs(lrs, [1.0] * 51, **EPS_CONFIG)
    assert expected[50][1] == pytest.approx(4.30e-9, rel=2e-3) and expected[50][0] < 2e-8
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@st.composite
def traces(draw):
    return draw(st.lists(st.sampled_from([1.0, 0.9, 1.1, 0.5, 2.0]), min_size=1, max_size=60))


@settings(max_examples=60)
@given(
    st.lists(st.sampled_from([1e-3, 3e-4, 2e-6, 5e-8, 1.5e-8, 1e-2]), min_size=1, max_size=3),
    traces(),
    st.sampled_from([0.3, 0.5, 0.1]),
    st.integers(0, 2),
    st.integers(0, 2),
    st.sampled_from([1e-8, 0.0, 1e-7, 1e-9]),
    st.data(),
)
def test_groups_match_torch_on_random_traces(lrs, trace, factor, patience, cooldown, eps, data):
    min_lr = data.draw(st.one_of(st.just(0.0), st.lists(st.sampled_from([0.0, 1e-9, 1e-6]),
                                                        min_size=len(lrs), max_size=len(lrs))))
    config = dict(factor=factor, patience=patience, cooldown=cooldown, eps=eps, min_lr=min_lr)
    expected = torch_group_lrs(lrs, trace, **config)
    np.testing.assert_allclose(plateau_group_lrs(lrs, trace, **config), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(schedule_lr_group_lrs(lrs, trace, **config), expected, rtol=1e-12, atol=0)


def test_eps_and_min_lr_list_are_configuration():
    plateau = Plateau(eps=1e-6, min_lr=[0.0, 1e-5])
    assert plateau.to_dict()["eps"] == 1e-6 and plateau.to_dict()["min_lr"] == [0.0, 1e-5]
    assert Plateau.from_dict(json.loads(json.dumps(plateau.to_dict()))) == plateau
    assert repr(plateau) == "Plateau(min_lr=[0.0, 1e-05], eps=1e-06)"
    assert plateau.num_groups == 2 and plateau.factors == [1.0, 1.0]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"eps": math.nan}, ValueError, "eps must be finite"),
    ({"eps": "1e-8"}, TypeError, "eps must be a real number"),
    ({"min_lr": []}, ValueError, "min_lr must be a number or a non-empty list"),
    ({"min_lr": [0.0, -1.0]}, ValueError, r"min_lr\[1\] must be >= 0"),
    ({"min_lr": [0.0, math.inf]}, ValueError, r"min_lr\[1\] must be finite"),
    ({"min_lr": [0.0, None]}, TypeError, r"min_lr\[1\] must be a real number"),
])
def test_bad_eps_and_min_lr(kwargs, error, match):
    with pytest.raises(error, match=match):
        Plateau(**kwargs)


def test_value_list_must_match_the_groups():
    with pytest.raises(ValueError, match="value has 3 entries but min_lr has 2"):
        Plateau(min_lr=[0.0, 0.0]).update(1.0, value=[0.1, 0.1, 0.1])
    plateau = Plateau(patience=0, factor=0.5)
    plateau.update(1.0, value=[0.1, 1e-8])
    plateau.update(1.0, value=[0.1, 1e-8])  # group 1: 1e-8 - 5e-9 <= eps, not reduced
    assert plateau.factors == [0.5, 1.0] and plateau.factor == 0.5
    with pytest.raises(ValueError, match="value has 3 entries but this plateau keeps 2 groups"):
        plateau.update(1.0, value=[0.1, 0.1, 0.1])
    for bad, error in ((math.nan, ValueError), ("0.1", TypeError), ([], ValueError)):
        with pytest.raises(error, match="value"):
            plateau.update(1.0, value=bad)


def test_one_min_lr_per_group_needs_as_many_groups():
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    optimizer = torch.optim.SGD([{"params": [p]} for p in params], lr=0.1)
    with pytest.raises(ValueError, match="min_lr has 3 entries, the optimizer 2 param groups"):
        ScheduleLR(optimizer, lrdecay.constant(0.1), plateau=Plateau(min_lr=[0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="simulate previews one learning rate"):
        lrdecay.simulate(0.1, [1.0], 1, plateau=Plateau(min_lr=[0.0, 0.0]))


def test_keras_and_optax_refuse_a_min_lr_list():
    pytest.importorskip("keras")
    from lrdecay.keras import KerasSchedule
    from lrdecay.optax import scale_by_plateau_schedule

    for build in (lambda p: KerasSchedule(lrdecay.constant(0.1), plateau=p),
                  lambda p: scale_by_plateau_schedule(lrdecay.constant(0.1), p)):
        with pytest.raises(ValueError, match="min_lr must be one number"):
            build(Plateau(min_lr=[0.0, 0.0]))


# -- update(metric): a clear error naming metric ------------------------------------------------


@pytest.mark.parametrize("metric, error", [
    (None, TypeError), ([1.0], TypeError), ("0.5", TypeError), (True, TypeError), ({}, TypeError),
    (np.array([1.0, 2.0]), TypeError), (torch.tensor([1.0]), TypeError), (np.bool_(True), TypeError),
    (10**400, ValueError),
])
def test_bad_metric_names_metric(metric, error):
    plateau = Plateau()
    with pytest.raises(error, match="metric must"):
        plateau.update(metric)
    assert plateau.num_metrics == 0


def test_zero_dim_metrics_are_accepted():
    plateau = Plateau()
    for metric in (np.float32(1.0), np.array(0.5), torch.tensor(0.25), 10**20):
        plateau.update(metric)
    assert plateau.num_metrics == 4 and plateau.best == 0.25


# -- Plateau.load_state_dict: one test per corruption --------------------------------------------


def saved_state():
    plateau = Plateau(patience=0, factor=0.5)
    for metric in (1.0, 1.0, 0.5):
        plateau.update(metric)
    return plateau.state_dict()


PLATEAU_CORRUPTIONS = [
    ("not a dict", lambda s: [s], TypeError, "Plateau state must be a dict"),
    ("unknown field", lambda s: {**s, "factor": 0.5}, ValueError, "unknown fields factor"),
    ("best NaN", lambda s: {**s, "best": math.nan}, ValueError, "best must be finite"),
    ("best inf", lambda s: {**s, "best": -math.inf}, ValueError, "best must be finite"),
    ("best str", lambda s: {**s, "best": "0.5"}, TypeError, "best must be a number"),
    ("best huge", lambda s: {**s, "best": 10**400}, ValueError, "best must fit in a float"),
    ("factors not a list", lambda s: {**s, "factors": 0.5}, TypeError, "factors must be a non-empty list"),
    ("factors empty", lambda s: {**s, "factors": []}, TypeError, "factors must be a non-empty list"),
    ("factor 0", lambda s: {**s, "factors": [0.0]}, ValueError, r"factors\[0\] must be > 0"),
    ("factor > 1", lambda s: {**s, "factors": [2.0]}, ValueError, r"factors\[0\] must be <= 1"),
    ("factor NaN", lambda s: {**s, "factors": [math.nan]}, ValueError, r"factors\[0\] must be finite"),
    ("factor str", lambda s: {**s, "factors": ["0.5"]}, TypeError, r"factors\[0\] must be a real number"),
] + [
    (f"{key} {name}", (lambda key, v: lambda s: {**s, key: v})(key, value), error, f"{key} must")
    for key in ("num_bad_epochs", "cooldown_counter", "num_reductions", "num_metrics")
    for name, value, error in (("negative", -1, ValueError), ("fraction", 1.5, ValueError),
                               ("str", "1", TypeError), ("None", None, TypeError), ("bool", True, TypeError))
] + [
    (f"missing {key}", (lambda key: lambda s: {k: v for k, v in s.items() if k != key})(key), ValueError,
     f"missing {key}")
    for key in ("best", "num_bad_epochs", "cooldown_counter", "factors", "num_reductions", "num_metrics")
]


@pytest.mark.parametrize("name, corrupt, error, match", PLATEAU_CORRUPTIONS, ids=[c[0] for c in PLATEAU_CORRUPTIONS])
def test_plateau_load_state_dict_refuses(name, corrupt, error, match):
    plateau = Plateau(patience=0, factor=0.5)
    before = plateau.state_dict()
    with pytest.raises(error, match=match):
        plateau.load_state_dict(corrupt(saved_state()))
    assert plateau.state_dict() == before  # nothing half-loaded


def test_plateau_state_factors_length_must_match_min_lr_list():
    with pytest.raises(ValueError, match="factors has 1 entries, min_lr 2"):
        Plateau(min_lr=[0.0, 0.0]).load_state_dict(saved_state())


def test_factor_never_underflows_to_zero():
    plateau = Plateau(patience=0, factor=1e-100, eps=0.0)
    for _ in range(10):
        plateau.update(1.0)
    assert plateau.factor > 0.0 and plateau.num_reductions == 3
    Plateau(factor=1e-100).load_state_dict(plateau.state_dict())  # a state it made always loads


def test_keras_rule_per_group_skips_a_group_at_its_min_lr():
    # Keras's rule reduces the groups above their min_lr; the counters reset if any was reduced
    plateau = Plateau(rule="keras", patience=1, factor=0.5, min_lr=[0.0, 0.1])
    plateau.update(1.0, value=[1.0, 0.1])
    assert plateau.update(1.0, value=[1.0, 0.1]) == 0.5
    assert plateau.factors == [0.5, 1.0] and plateau.num_bad_epochs == 0
    only_floor = Plateau(rule="keras", patience=1, factor=0.5, min_lr=[0.1])
    for _ in range(3):
        only_floor.update(1.0, value=[0.1])
    assert only_floor.factors == [1.0] and only_floor.num_bad_epochs == 2  # Keras: wait keeps growing
