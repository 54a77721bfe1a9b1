"""Plateau against the real torch ReduceLROnPlateau and the real Keras callback, step by step."""

import json
import math
import sys
import warnings

import keras
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay import Plateau, simulate

# -- metric traces: plateaus, exact ties at the threshold, negative losses --------------------

# Multiples of 1/8 make "metric == best - threshold" (and best * (1 - 0.5)) exact ties.
GRID = [k / 8 for k in range(-24, 25)]


@st.composite
def traces(draw, allow_nan=False):
    segments = draw(st.lists(st.sampled_from(["plateau", "fall", "rise", "noise"]), min_size=1, max_size=6))
    value = draw(st.sampled_from(GRID))
    trace = []
    for kind in segments:
        length = draw(st.integers(1, 8))
        if kind == "plateau":
            trace += [value] * length
        elif kind == "noise":
            trace += draw(st.lists(st.sampled_from(GRID), min_size=length, max_size=length))
        else:
            step = draw(st.sampled_from([0.125, 0.25, 0.5, 1.0, 1e-5]))
            for _ in range(length):
                value += -step if kind == "fall" else step
                trace.append(value)
    if allow_nan:
        positions = draw(st.lists(st.integers(0, len(trace) - 1), max_size=3))
        for i in positions:
            trace[i] = math.nan
    return trace


def configs(rule):
    modes = ["rel", "abs"] if rule == "torch" else ["abs"]
    return st.fixed_dictionaries({
        "mode": st.sampled_from(["min", "max"]),
        "factor": st.sampled_from([0.1, 0.5, 0.25, 0.3, 0.9]),
        "patience": st.integers(0, 4),
        "threshold": st.sampled_from([0.0, 1e-4, 0.125, 0.25, 0.5]),
        "threshold_mode": st.sampled_from(modes),
        "cooldown": st.integers(0, 3),
        "min_lr": st.sampled_from([0.0, 0.0, 0.01, 0.025, 1e-3]),
    })


BASE_LRS = st.sampled_from([0.1, 1.0, 0.4, 3e-4])


def ours(config, base_lr, trace, **extra):
    plateau = Plateau(**config, **extra)
    lrs = []
    for metric in trace:
        plateau.update(metric, value=base_lr)
        lrs.append(plateau.effective(base_lr))
    return lrs


def torch_lrs(config, base_lr, trace, eps=1e-8):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, eps=eps, **config)
    lrs = []
    for metric in trace:
        scheduler.step(metric)
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


@pytest.fixture(scope="module")
def keras_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def keras_lrs(model, config, base_lr, trace):
    config = dict(config)
    config.pop("threshold_mode")
    model.optimizer.learning_rate = base_lr
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", min_delta=config.pop("threshold"), **config)
    callback.set_model(model)
    callback.on_train_begin()
    lrs = []
    for epoch, metric in enumerate(trace):
        callback.on_epoch_end(epoch, {"val_loss": metric})
        lrs.append(float(model.optimizer.learning_rate))
    return lrs


@given(configs("torch"), BASE_LRS, traces())
def test_torch_rule_matches_real_reduce_lr_on_plateau(config, base_lr, trace):
    expected = torch_lrs(config, base_lr, trace)
    np.testing.assert_allclose(ours(config, base_lr, trace, rule="torch"), expected, rtol=1e-12, atol=0)


@given(configs("torch"), BASE_LRS, traces(allow_nan=True))
def test_torch_rule_nan_as_bad_epoch_matches_torch(config, base_lr, trace):
    # torch counts a NaN metric as a bad epoch: our nan_policy="bad_epoch".
    expected = torch_lrs(config, base_lr, trace)
    got = ours(config, base_lr, trace, rule="torch", nan_policy="bad_epoch")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert not np.isnan(got).any()


@settings(max_examples=40)
@given(configs("keras"), BASE_LRS, traces())
def test_keras_rule_matches_real_keras_callback(keras_model, config, base_lr, trace):
    expected = keras_lrs(keras_model, config, base_lr, trace)
    # Keras keeps the lr in a float32 variable: round-off of float32, compounded per reduction.
    np.testing.assert_allclose(ours(config, base_lr, trace, rule="keras"), expected, rtol=2e-6, atol=0)


@pytest.mark.parametrize("eps", [0.0, 0.125, 0.25, 0.2500001, 1e-8, 0.5])
@pytest.mark.parametrize("min_lr", [0.0, 0.125, 0.3])
def test_torch_eps_and_min_lr_edges(eps, min_lr):
    # base 1, factor 1/2: lrs 1, 1/2, 1/4, ... exactly, so "old - new == eps" is an exact tie.
    config = dict(mode="min", factor=0.5, patience=0, threshold=0.0, threshold_mode="abs", cooldown=0, min_lr=min_lr)
    trace = [1.0] * 12
    expected = torch_lrs(config, 1.0, trace, eps=eps)
    assert ours(config, 1.0, trace, eps=eps) == expected


@pytest.mark.parametrize("min_lr", [0.0, 0.125, 0.3, 1.0, 2.0, 0.001])
@pytest.mark.parametrize("factor", [0.5, 0.1])
def test_keras_min_lr_edges(keras_model, min_lr, factor):
    config = dict(mode="min", factor=factor, patience=1, threshold=0.0, threshold_mode="abs", cooldown=1, min_lr=min_lr)
    trace = [1.0] * 12
    expected = keras_lrs(keras_model, config, 1.0, trace)
    np.testing.assert_allclose(ours(config, 1.0, trace, rule="keras"), expected, rtol=2e-6, atol=0)


def test_keras_compares_in_float32_like_keras(keras_model):
    # 1 - 1e-9 is no improvement over 1 in float32: Keras reduces, a float64 test would not.
    config = dict(mode="min", factor=0.5, patience=0, threshold=0.0, threshold_mode="abs", cooldown=0, min_lr=0.0)
    trace = [1.0, 1.0 - 1e-9, 1.0 - 2e-9]
    expected = keras_lrs(keras_model, config, 0.5, trace)
    np.testing.assert_allclose(ours(config, 0.5, trace, rule="keras"), expected, rtol=2e-6)
    assert expected[-1] < 0.2
    # Both sides are rounded: 0.1 is below this best in float64, equal to it in float32.
    trace = [float(np.float32(0.1)) + 1e-12, 0.1]
    expected = keras_lrs(keras_model, config, 0.5, trace)
    np.testing.assert_allclose(ours(config, 0.5, trace, rule="keras"), expected, rtol=2e-6)
    assert expected[-1] == 0.25


@given(st.sampled_from(["min", "max"]), st.sampled_from(["rel", "abs"]), st.floats(-1e3, 1e3),
       st.floats(1e-6, 0.9), st.integers(-2, 2))
def test_torch_rule_ties_at_the_dynamic_threshold(mode, threshold_mode, best, threshold, ulps):
    # The metric lands exactly on torch's dynamic threshold, or a few ulps either side of it.
    if threshold_mode == "rel":
        bound = best * (1.0 - threshold) if mode == "min" else best * (threshold + 1.0)
    else:
        bound = best - threshold if mode == "min" else best + threshold
    metric = bound
    for _ in range(abs(ulps)):
        metric = math.nextafter(metric, math.copysign(math.inf, ulps))
    config = dict(mode=mode, factor=0.5, patience=0, threshold=threshold, threshold_mode=threshold_mode,
                  cooldown=0, min_lr=0.0)
    trace = [best, metric, metric]
    assert ours(config, 1.0, trace) == torch_lrs(config, 1.0, trace)


# -- the counters, documented differences ------------------------------------------------------


@pytest.mark.parametrize("rule, patience, cooldown, reductions_at", [
    ("torch", 0, 0, [1, 2, 3]),
    ("torch", 2, 0, [3, 6, 9]),
    ("torch", 2, 1, [3, 7, 11]),
    ("keras", 2, 0, [2, 4, 6]),
    ("keras", 2, 1, [2, 4, 6]),
    ("keras", 2, 2, [2, 5, 8]),
])
def test_flat_metric_reduction_epochs(rule, patience, cooldown, reductions_at):
    plateau = Plateau(rule=rule, patience=patience, cooldown=cooldown, factor=0.5)
    reductions = []
    for epoch in range(12):
        before = plateau.factor
        if plateau.update(1.0) < before:
            reductions.append(epoch)
    assert reductions[:3] == reductions_at


@pytest.mark.parametrize("mode, trace", [("min", [-1.0, -1.00005, -1.00009]), ("max", [1.0, 1.00005, 1.00009])])
def test_rel_magnitude_is_sign_robust(mode, trace):
    # torch's "rel" counts -1.00005 as no improvement over -1 (threshold 1e-4 of |best|);
    # a negative best makes "rel" accept values that are slightly worse:
    worse = [-1.0, -0.99995] if mode == "min" else [-1.0, -1.00005]
    rel = Plateau(mode=mode, threshold=1e-4, threshold_mode="rel", patience=0)
    rel.update(worse[0])
    rel.update(worse[1])
    assert rel.best == worse[1]  # the torch formula's known defect
    robust = Plateau(mode=mode, threshold=1e-4, threshold_mode="rel_magnitude", patience=0)
    robust.update(worse[0])
    robust.update(worse[1])
    assert robust.best == worse[0] and robust.num_reductions == 1
    plateau = Plateau(mode=mode, threshold=1e-4, threshold_mode="rel_magnitude", patience=5)
    for metric in trace:
        plateau.update(metric)
    assert plateau.best == trace[0] and plateau.num_bad_epochs == 2  # both changes below 1e-4 * |best|


@given(st.sampled_from(["torch", "keras"]), st.sampled_from(["min", "max"]),
       st.lists(st.floats(-100, 100), min_size=2, max_size=20))
def test_rel_magnitude_formula(rule, mode, trace):
    plateau = Plateau(mode=mode, threshold=0.01, threshold_mode="rel_magnitude", patience=100, rule=rule)
    best = None
    for metric in trace:
        if best is None:
            better = True
        elif mode == "min":
            better = metric < best - 0.01 * abs(best)
        else:
            better = metric > best + 0.01 * abs(best)
        best = metric if better else best
        plateau.update(metric)
        assert plateau.best == best


# -- non-finite metrics -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_policy_ignore_warns_and_changes_nothing(bad):
    plateau = Plateau(patience=0)
    plateau.update(1.0)
    state = plateau.state_dict()
    with pytest.warns(RuntimeWarning, match="ignores"):
        assert plateau.update(bad, value=0.1) == 1.0
    assert plateau.state_dict() == state


@pytest.mark.parametrize("rule", ["torch", "keras"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_policy_bad_epoch_and_raise(rule, bad):
    plateau = Plateau(patience=0, nan_policy="bad_epoch", rule=rule)
    plateau.update(1.0)
    plateau.update(bad, value=0.1)
    assert plateau.num_reductions == 1 and plateau.best == 1.0
    assert not math.isnan(plateau.effective(0.1))
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        Plateau(nan_policy="raise").update(bad)


def test_lr_never_nan_or_negative_after_many_reductions():
    plateau = Plateau(patience=0, factor=0.01, min_lr=0.0)
    for _ in range(400):
        plateau.update(1.0)  # no value: every reduction happens; the factor underflows to 0
    for value in (0.1, np.array([0.0, 1.0, 1e300])):
        out = plateau.effective(value)
        assert np.all(np.isfinite(out)) and np.all(np.asarray(out) >= 0)


# -- resume ----------------------------------------------------------------------------------


@given(st.sampled_from(["torch", "keras"]), configs("torch"), traces(allow_nan=True), st.data())
def test_resume_makes_identical_decisions(rule, config, trace, data):
    if rule == "keras":
        config = {**config, "threshold_mode": "abs"}
    split = data.draw(st.integers(0, len(trace)))
    whole = Plateau(**config, rule=rule, nan_policy="bad_epoch")
    first = Plateau(**config, rule=rule, nan_policy="bad_epoch")
    for metric in trace[:split]:
        first.update(metric, value=0.5)
    saved = json.loads(json.dumps({"config": first.to_dict(), "state": first.state_dict()}))
    resumed = Plateau.from_dict(saved["config"])
    resumed.load_state_dict(saved["state"])
    assert resumed == first
    for metric in trace[:split]:
        whole.update(metric, value=0.5)
    for metric in trace[split:]:
        assert resumed.update(metric, value=0.5) == whole.update(metric, value=0.5)
        assert resumed.state_dict() == whole.state_dict()


def test_state_dict_keeps_every_counter():
    plateau = Plateau(patience=1, cooldown=3, factor=0.5)
    for metric in [3.0, 2.0, 2.0, 2.0, 2.0]:
        plateau.update(metric)
    assert plateau.state_dict() == {"best": 2.0, "num_bad_epochs": 0, "cooldown_counter": 2,
                                    "factors": [0.5], "num_reductions": 1, "num_metrics": 5}
    with pytest.raises(ValueError, match="missing num_bad_epochs"):
        Plateau().load_state_dict({"best": None})


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"factor": 1.0}, ValueError, "factor must be < 1"),
    ({"factor": 0.0}, ValueError, "factor must be > 0"),
    ({"factor": -0.5}, ValueError, "factor must be > 0"),
    ({"factor": "0.1"}, TypeError, "factor must be a real number"),
    ({"patience": -1}, ValueError, "patience must be >= 0"),
    ({"patience": 1.5}, ValueError, "patience must be a whole number"),
    ({"cooldown": -2}, ValueError, "cooldown must be >= 0"),
    ({"threshold": -1e-4}, ValueError, "threshold must be >= 0"),
    ({"threshold": 1.0}, ValueError, "threshold must be < 1"),
    ({"threshold": 2.0, "threshold_mode": "rel_magnitude"}, ValueError, "threshold must be < 1"),
    ({"threshold": math.nan, "threshold_mode": "abs"}, ValueError, "threshold must be finite"),
    ({"threshold_mode": "relative"}, ValueError, "threshold_mode must be one of"),
    ({"mode": "auto"}, ValueError, "mode must be one of"),
    ({"min_lr": -1e-6}, ValueError, "min_lr must be >= 0"),
    ({"min_lr": math.inf}, ValueError, "min_lr must be finite"),
    ({"eps": -1.0}, ValueError, "eps must be >= 0"),
    ({"rule": "optax"}, ValueError, "rule must be one of"),
    ({"nan_policy": "skip"}, ValueError, "nan_policy must be one of"),
    ({"sync": "sum"}, ValueError, "sync must be one of"),
])
def test_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Plateau(**kwargs)


@pytest.mark.parametrize("metric", ["0.5", b"1", True, None, [1.0]])
def test_bad_metric(metric):
    with pytest.raises(TypeError, match="metric|float"):
        Plateau().update(metric)


def test_config_round_trip_and_repr():
    plateau = Plateau(mode="max", factor=0.5, patience=3, rule="keras", cooldown=2, min_lr=1e-5, sync="rank0")
    assert plateau.threshold_mode == "abs"  # Keras's min_delta is absolute
    assert Plateau.from_dict(json.loads(json.dumps(plateau.to_dict()))) == plateau
    assert repr(plateau) == ("Plateau(mode='max', factor=0.5, patience=3, cooldown=2, min_lr=1e-05, "
                             "rule='keras', sync='rank0')")
    assert repr(Plateau()) == "Plateau()"
    with pytest.raises(ValueError, match="kind must be 'plateau'"):
        Plateau.from_dict({"kind": "exponential_decay"})


def test_effective_on_arrays_and_tensors():
    plateau = Plateau(patience=0, factor=0.5, min_lr=0.1)
    assert plateau.effective(0.05) == 0.05  # no reduction yet: the schedule's value, even below min_lr
    plateau.update(1.0)
    plateau.update(1.0)
    np.testing.assert_array_equal(plateau.effective(np.array([0.1, 0.4, 1.0])), [0.1, 0.2, 0.5])
    assert torch.equal(plateau.effective(torch.tensor([0.1, 0.4])), torch.tensor([0.1, 0.2]))
    assert plateau.update(torch.tensor(1.0)) == 0.25 and plateau.update(np.float32(1.0)) == 0.125


def test_import_does_not_load_torch():
    import subprocess

    code = "import sys, lrdecay; lrdecay.Plateau().update(1.0); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- simulate ------------------------------------------------------------------------------------


@given(configs("torch"), traces(), st.integers(1, 4))
def test_simulate_constant_matches_torch(config, trace, steps_per_metric):
    plateau = Plateau(**config)
    lrs = simulate(0.1, trace, steps_per_metric, plateau=plateau)
    # The lr of epoch i+1 is the one torch's optimizer holds after step(metrics[i]).
    expected = np.repeat([0.1] + torch_lrs(config, 0.1, trace)[:-1], steps_per_metric)
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=0)
    assert plateau.num_metrics == 0  # not modified


def test_simulate_with_a_schedule():
    schedule = lrdecay.exponential_decay(learning_rate=1.0, decay_steps=10, decay_rate=0.5)
    plateau = Plateau(patience=0, factor=0.1, min_lr=0.01)
    lrs = simulate(schedule, [5.0, 4.0, 4.0, 4.0], 5, plateau=plateau, total_steps=25)
    steps = np.arange(25)
    factors = np.repeat([1.0, 1.0, 1.0, 0.1, 0.1 * 0.1], 5)
    reduced = np.repeat([False, False, False, True, True], 5)
    values = 0.5 ** (steps / 10)
    expected = np.where(reduced, np.maximum(values * factors, 0.01), values)
    np.testing.assert_allclose(lrs, expected, rtol=1e-14)
    assert lrs.dtype == np.float64 and lrs.shape == (25,)


def test_simulate_continues_from_the_plateau_state():
    plateau = Plateau(patience=0, factor=0.5)
    plateau.update(1.0)
    plateau.update(1.0)
    np.testing.assert_array_equal(simulate(1.0, [1.0], 2, plateau=plateau), [0.5, 0.5])
    assert simulate(1.0, [], 3).shape == (0,)
    with pytest.raises(ValueError, match="steps_per_metric must be >= 1"):
        simulate(1.0, [1.0], 0)


def test_simulate_ignored_nan_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lrs = simulate(1.0, [1.0, math.nan, 1.0], 1, plateau=Plateau(patience=0))
    assert any("ignores" in str(w.message) for w in caught)
    np.testing.assert_array_equal(lrs, [1.0, 1.0, 1.0])
