import time

import numpy as np
import pytest
from curves import fitted

import lrdecay
from lrdecay.forecast import AnnealingLaw, MultiPowerLaw, cosine, optimize, plan, wsd

PEAK, WARM, TOTAL = 3e-4, 2160, 24000
LAW = MultiPowerLaw(L0=3.04, A=0.52, alpha=0.51, B=364.0, C=2.07, beta=0.58, gamma=0.64)


def test_wsd_and_cosine_follow_their_formulas():
    t = np.arange(TOTAL)
    warm = PEAK * np.arange(WARM) / WARM  # the shared warm-up: from 0, the peak at step WARM
    s = wsd(TOTAL, PEAK, WARM, 3e-5, 0.2, "1-sqrt")
    assert isinstance(s, lrdecay.Schedule) and lrdecay.parse(repr(s)) == s
    lr = s.curve(TOTAL)
    start = TOTAL - 4800
    x = (t[start:] - start) / 4800
    np.testing.assert_allclose(lr[:WARM], warm, rtol=1e-15)
    np.testing.assert_allclose(lr[WARM:start], PEAK)
    np.testing.assert_allclose(lr[start:], 3e-5 + 2.7e-4 * (1 - np.sqrt(x)), rtol=1e-14)
    lr = wsd(TOTAL, PEAK, WARM, 0.0, 0.1, "cosine").curve(TOTAL)
    np.testing.assert_allclose(lr[-2400:], PEAK * 0.5 * (1 + np.cos(np.pi * np.arange(2400) / 2400)))
    lr = cosine(TOTAL, PEAK, WARM, 3e-5).curve(TOTAL)
    y = (t[WARM:] - WARM) / (TOTAL - WARM)
    np.testing.assert_allclose(lr[WARM:], 3e-5 + 2.7e-4 * 0.5 * (1 + np.cos(np.pi * y)), rtol=1e-14)


@pytest.mark.parametrize("law", [LAW, AnnealingLaw(L0=3.0, A=0.5, alpha=0.5, C=0.4)])
def test_optimized_schedule_is_valid_and_beats_the_start(law):
    res = optimize(law, 6000, PEAK, 500, min_lr=1e-5, knots=24)
    assert lrdecay.parse(repr(res)) == res and lrdecay.from_dict(res.to_dict()) == res  # an ordinary schedule
    lr = res.curve(6000)
    np.testing.assert_allclose(lr[:500], PEAK * np.arange(500) / 500, rtol=1e-15)
    assert np.all(np.diff(lr[500:]) <= 1e-18) and lr[500:].max() <= PEAK and lr.min() >= 0
    assert lr[500:].min() >= 1e-5
    body = res.schedule  # warmup(piecewise_linear(steps, values), 500)
    assert body.kind == "piecewise_linear" and len(body.steps) == len(body.values) == 24
    assert body.steps[0] == 0 and body.steps[-1] == 5499
    np.testing.assert_allclose(np.interp(np.arange(5500), body.steps, body.values), lr[500:], rtol=1e-12)
    final = law.final_loss(lr)
    assert final == pytest.approx(law.predict(res, [5999])[0], rel=1e-12)
    assert final < law.final_loss(wsd(6000, PEAK, 500, 1e-5, 0.2, "linear").curve(6000))


def test_under_the_fitted_law_optimize_beats_cosine_and_every_wsd(size, runs):
    law, _ = fitted(size, runs)
    t0 = time.perf_counter()
    best = law.final_loss(optimize(law, TOTAL, PEAK, WARM).curve(TOTAL))
    assert time.perf_counter() - t0 < 60
    assert best < law.final_loss(cosine(TOTAL, PEAK, WARM, 3e-5).curve(TOTAL))
    for min_lr in (0.0, 3e-5):
        rows = plan(law, TOTAL, PEAK, WARM, min_lr)
        names = [r.name for r in rows]
        assert len(rows) == 18 and {"constant", "cosine", "optimized"} <= set(names)
        assert [r.final_loss for r in rows] == sorted(r.final_loss for r in rows)
        for r in rows:
            assert r.final_loss == pytest.approx(law.predict(r.schedule, [TOTAL - 1])[0], rel=1e-12)
        opt = rows[names.index("optimized")].final_loss
        assert all(opt < r.final_loss for r in rows if r.name.startswith("wsd"))
        if min_lr == 0.0:
            assert best <= opt + 1e-9


@pytest.mark.parametrize("args, kwargs, err, match", [
    ((None, TOTAL, PEAK, WARM), {}, TypeError, "law"),
    ((LAW, 100, PEAK, 100), {}, ValueError, "warmup_steps"),
    ((LAW, 100.5, PEAK, 10), {}, ValueError, "total_steps"),
    ((LAW, 100, 1e-4, 10), dict(min_lr=2e-4), ValueError, "min_lr"),
    ((LAW, 100, np.nan, 10), {}, ValueError, "peak_lr"),
    ((LAW, 100, PEAK, 10), dict(knots=1), ValueError, "knots"),
])
def test_optimize_errors(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        optimize(*args, **kwargs)


def test_wsd_errors():
    with pytest.raises(ValueError, match="shape"):
        wsd(100, PEAK, 10, shape="step")
    with pytest.raises(ValueError, match="fraction"):
        wsd(100, PEAK, 10, fraction=0.0)


def test_schedule_builders_validate():
    with pytest.raises(ValueError, match="warmup_steps"):
        cosine(100, PEAK, 100)
    with pytest.raises(ValueError, match="min_lr"):
        wsd(100, PEAK, 10, min_lr=PEAK)
