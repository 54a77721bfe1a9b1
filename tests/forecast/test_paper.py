"""The paper's protocol on every model size in the data (Luo et al., ICLR 2025, sec. 4)."""
import numpy as np
import pytest
from curves import AUTHORS, FIT_RUNS, HELD_OUT, TABLE, fitted

from lrdecay.forecast import MultiPowerLaw, metrics


def held_out_metrics(law, runs):
    per_run = {n: metrics(law.predict(runs[n].lr, runs[n].steps), runs[n].loss) for n in HELD_OUT}
    mean = {k: np.mean([m[k] for m in per_run.values()]) for k in ("r2", "mean_rel", "max_rel")}
    return per_run, mean


def test_authors_parameters_reproduce_the_table(size, runs):
    if size not in AUTHORS:
        pytest.skip(f"no published parameters for {size}")
    _, mean = held_out_metrics(MultiPowerLaw(**AUTHORS[size]), runs)
    r2, mean_rel, worst = TABLE[size]
    assert abs(mean["r2"] - r2) <= 0.001
    assert abs(100 * mean["mean_rel"] - mean_rel) <= 0.01
    assert abs(100 * mean["max_rel"] - worst) <= 0.05


def test_own_fit_predicts_the_held_out_runs(size, runs):
    law, seconds = fitted(size, runs)
    per_run, mean = held_out_metrics(law, runs)
    assert seconds < 60
    assert mean["mean_rel"] <= 0.0025
    assert mean["max_rel"] <= 0.010
    assert mean["r2"] >= 0.995
    for name in HELD_OUT:
        final = law.predict(runs[name].lr, runs[name].steps[-1:])[0]
        assert abs(final / runs[name].loss[-1] - 1) <= 0.015, name


def test_fit_reaches_the_same_optimum_from_the_authors_start(size, runs):
    """The grid start is not worse than starting at published parameters (or, for a size
    without them, at the 25M ones)."""
    from lrdecay.forecast.fitting import _MultiPower, refine

    law, _ = fitted(size, runs)
    start = MultiPowerLaw(**AUTHORS.get(size, AUTHORS["25M"]))
    data = [runs[n] for n in FIT_RUNS]
    model, y = _MultiPower(data), np.concatenate([r.loss for r in data])
    ours = refine(model, model.to_theta(law), y, max_nfev=1)[1]
    theirs = refine(model, model.to_theta(start), y)[1]
    assert ours <= theirs * (1 + 1e-6)


def test_two_runs_extrapolate_the_final_loss(size, runs):
    law, seconds = fitted(size, runs, ("constant_24000", "cosine_24000"))
    assert seconds < 60
    for name in ("cosine_72000", "wsd_20000_24000"):
        final = law.predict(runs[name].lr, runs[name].steps[-1:])[0]
        assert abs(final / runs[name].loss[-1] - 1) <= 0.025, name


@pytest.mark.parametrize("names", [("cosine_24000",), ("constant_24000", "cosine_24000"), FIT_RUNS])
def test_annealing_law_fits_one_two_or_three_runs(size, runs, names):
    law, seconds = fitted(size, runs, names, "annealing")
    assert seconds < 10
    for name in ("cosine_72000", "wsd_20000_24000"):
        m = metrics(law.predict(runs[name].lr, runs[name].steps), runs[name].loss)
        assert m["mean_rel"] <= 0.01 and m["r2"] >= 0.98, name
