import numpy as np
import pytest

from lrdecay.forecast import AnnealingLaw, MultiPowerLaw, Run, band, cosine, fit, metrics, wsd

TRUE = MultiPowerLaw(L0=2.8, A=0.55, alpha=0.47, B=420.0, C=1.8, beta=0.6, gamma=0.62)
TOTAL, WARM, PEAK = 4000, 200, 3e-4


def synthetic(law, noise=0.0, seed=0):
    """Three runs (constant, cosine, a step drop) logged every 25 steps, loss from ``law``."""
    rng = np.random.default_rng(seed)
    drop = wsd(TOTAL, PEAK, WARM, 0.0, 1.0, "linear").curve(TOTAL)
    drop[WARM:] = PEAK
    drop[2000:] = 0.3 * PEAK
    runs = []
    for name, lr in (("constant", wsd(TOTAL, PEAK, WARM, 0.0, 1e-4)), ("cosine",
                     cosine(TOTAL, PEAK, WARM, 3e-5)), ("drop", drop)):
        steps = np.arange(WARM, TOTAL, 25)
        loss = law.predict(lr, steps) * np.exp(noise * rng.standard_normal(steps.size))
        runs.append(Run(lr, steps, loss, name))
    return runs


def test_fit_recovers_a_noise_free_law():
    law = fit(synthetic(TRUE))
    target = wsd(TOTAL, PEAK, WARM, 3e-5, 0.3, "cosine")
    steps = np.arange(WARM, TOTAL, 10)
    np.testing.assert_allclose(law.predict(target, steps), TRUE.predict(target, steps), rtol=2e-5)


def test_fit_is_deterministic_and_objectives_agree_on_clean_data():
    runs = synthetic(TRUE, noise=1e-3)
    assert fit(runs) == fit(runs)
    a, b = fit(runs), fit(runs, objective="relative")
    steps = np.arange(WARM, TOTAL, 50)
    lr = runs[1].lr
    assert metrics(a.predict(lr, steps), b.predict(lr, steps))["max_rel"] < 2e-3


def test_annealing_fit_recovers_its_own_law():
    true = AnnealingLaw(L0=2.9, A=0.5, alpha=0.55, C=0.45, lam=0.999)
    runs = synthetic(true)
    got = fit(runs[1], "annealing")      # a single run
    np.testing.assert_allclose(got.predict(runs[2].lr, runs[2].steps),
                               true.predict(runs[2].lr, runs[2].steps), rtol=1e-6)
    assert fit(runs[:2], "annealing", lam=0.99).lam == 0.99


@pytest.mark.parametrize("args, kwargs, err, match", [
    ([], {}, ValueError, "at least one Run"),
    ([1], {}, TypeError, "must be a Run"),
    (None, dict(law="power"), ValueError, "law: must be"),
    (None, dict(objective="l1"), ValueError, "objective: must be"),
    (None, dict(levels=(8, 2)), ValueError, "levels"),
    (None, dict(init=AnnealingLaw(3.0, 0.5, 0.5, 0.4)), TypeError, "init: must be a MultiPowerLaw"),
])
def test_fit_errors(args, kwargs, err, match):
    runs = synthetic(TRUE)[:1] if args is None else args
    with pytest.raises(err, match=match):
        fit(runs, **kwargs)


def test_fit_refuses_a_point_with_no_training():
    lr = np.linspace(0, 1e-3, 50)
    with pytest.raises(ValueError, match="logs step 0 before any training"):
        fit(Run(lr, [0, 10, 20], [5.0, 4.0, 3.0]), "annealing")
    with pytest.raises(ValueError, match="does the rate ever change"):
        fit(Run(np.full(50, 1e-3), [10, 20, 30], [5.0, 4.0, 3.0]))


def test_band_brackets_the_fit_and_is_reproducible():
    runs = synthetic(TRUE, noise=2e-3, seed=1)
    law = fit(runs)
    target = wsd(6000, PEAK, WARM, 0.0, 0.2, "1-sqrt")
    steps = np.arange(WARM, 6000, 200)
    lo, hi = band(runs, target, steps, fitted=law, n=12)
    pred = law.predict(target, steps)
    assert np.all(lo <= pred) and np.all(pred <= hi) and np.all(hi - lo > 0)
    again = band(runs, target, steps, fitted=law, n=12)
    np.testing.assert_array_equal(again[0], lo)
    narrow = band(runs, target, steps, fitted=law, n=12, level=0.5)
    assert np.all(narrow[0] >= lo) and np.all(narrow[1] <= hi)
    # The truth lies within a few band widths of the fit on these clean synthetic runs.
    assert np.all(np.abs(TRUE.predict(target, steps) - pred) <= 3 * (hi - lo) + 1e-4)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(level=1.0), ValueError, "level"), (dict(n=1), ValueError, "n, block, coarse"),
    (dict(law="power"), ValueError, "law: must be"),
    (dict(fitted=AnnealingLaw(3.0, 0.5, 0.5, 0.4)), TypeError, "fitted"),
])
def test_band_errors(kwargs, err, match):
    runs = synthetic(TRUE)
    with pytest.raises(err, match=match):
        band(runs, runs[0].lr, [300], **({"fitted": TRUE} | kwargs))


def test_band_for_the_annealing_law():
    true = AnnealingLaw(L0=2.9, A=0.5, alpha=0.55, C=0.45)
    runs = synthetic(true, noise=2e-3, seed=2)
    steps = np.arange(WARM, TOTAL, 100)
    lo, hi = band(runs, runs[1].lr, steps, "annealing", n=20)
    pred = fit(runs, "annealing").predict(runs[1].lr, steps)
    assert np.all(lo <= pred + 1e-12) and np.all(pred <= hi + 1e-12) and np.all(hi > lo)
