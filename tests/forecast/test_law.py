import json
import math

import mpmath
import numpy as np
import pytest

import lrdecay.forecast.law as law_module
from lrdecay.forecast import AnnealingLaw, MultiPowerLaw, from_dict, load

MPL = dict(L0=3.04, A=0.52, alpha=0.51, B=364.0, C=2.07, beta=0.58, gamma=0.64)


def random_schedule(rng, total=300, warmup=40, peak=3e-4):
    """Warm-up, then random rates with flat stretches, a jump up and a jump down."""
    lr = np.empty(total)
    lr[:warmup] = np.linspace(0, peak, warmup)
    body = peak * rng.uniform(0.05, 1.0, total - warmup)
    body[20:60] = body[20]          # flat stretch: no rate change
    body[100:140] = 0.3 * peak      # jump down then flat
    body[140:160] = 0.9 * peak      # jump up
    lr[warmup:] = body
    return lr


def naive_mpl(p, lr, t):
    """The law term by term, O(t^2): S_k(t) summed afresh for every k."""
    drop = []
    for k in range(1, t + 1):
        s = math.fsum(lr[k:t + 1])
        if s == 0:
            g = 0.0                      # no progress since the change
        elif lr[k] == 0:
            g = 1.0                      # x infinite
        else:
            g = 1 - (p["C"] * lr[k] ** -p["gamma"] * s + 1) ** -p["beta"]
        drop.append((lr[k - 1] - lr[k]) * g)
    return p["L0"] + p["A"] * math.fsum(lr[:t + 1]) ** -p["alpha"] - p["B"] * math.fsum(drop)


def naive_annealing(p, lr, t):
    m = s2 = 0.0
    for i in range(1, t + 1):
        m = p["lam"] * m + (lr[i - 1] - lr[i])
        s2 += m
    return p["L0"] + p["A"] * math.fsum(lr[:t + 1]) ** -p["alpha"] - p["C"] * s2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multi_power_matches_naive_sum(seed):
    rng = np.random.default_rng(seed)
    lr = random_schedule(rng)
    steps = np.array(sorted(rng.choice(np.arange(1, lr.size), 40, replace=False)))
    want = np.array([naive_mpl(MPL, lr, t) for t in steps])
    got = MultiPowerLaw(**MPL).predict(lr, steps)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_multi_power_matches_mpmath():
    lr = random_schedule(np.random.default_rng(5), total=120, warmup=20)
    mpmath.mp.dps = 40
    p = {k: mpmath.mpf(v) for k, v in MPL.items()}
    eta = [mpmath.mpf(float(v)) for v in lr]
    for t in (25, 80, 119):
        drop = sum((eta[k - 1] - eta[k]) * (1 - (p["C"] * eta[k] ** -p["gamma"]
                   * sum(eta[k:t + 1]) + 1) ** -p["beta"]) for k in range(1, t + 1))
        want = p["L0"] + p["A"] * sum(eta[:t + 1]) ** -p["alpha"] - p["B"] * drop
        got = MultiPowerLaw(**MPL).predict(lr, [t])[0]
        assert abs(got - float(want)) <= 1e-13 * float(want)


def test_zero_rate_conventions_match_naive():
    lr = np.concatenate([np.linspace(0, 1e-3, 10), np.zeros(10), np.full(10, 5e-4)])
    steps = np.arange(1, lr.size)
    want = [naive_mpl(MPL, lr, t) for t in steps]
    np.testing.assert_allclose(MultiPowerLaw(**MPL).predict(lr, steps), want, rtol=1e-12)


def test_annealing_matches_naive_recursion():
    p = dict(L0=3.0, A=0.5, alpha=0.5, C=0.4, lam=0.99)
    lr = random_schedule(np.random.default_rng(3))
    steps = np.arange(1, lr.size, 7)
    want = [naive_annealing(p, lr, t) for t in steps]
    np.testing.assert_allclose(AnnealingLaw(**p).predict(lr, steps), want, rtol=1e-12)


def test_chunking_and_step_order_do_not_change_predictions(monkeypatch):
    lr = random_schedule(np.random.default_rng(4), total=2000, warmup=100)
    steps = np.arange(5, 2000, 3)
    law = MultiPowerLaw(**MPL)
    whole = law.predict(lr, steps)
    monkeypatch.setattr(law_module, "MAX_PAIRS", 5000)
    np.testing.assert_allclose(law.predict(lr, steps), whole, rtol=1e-14)
    np.testing.assert_allclose(law.predict(lr, steps[::-1]), whole[::-1], rtol=1e-14)


@pytest.mark.parametrize("law", [MultiPowerLaw(**MPL),
                                 AnnealingLaw(L0=3.0, A=0.5, alpha=0.5, C=0.4)])
def test_predict_on_callable_equals_predict_on_array(law):
    class Schedule:
        def __call__(self, steps):
            assert steps.dtype == np.int64
            return 3e-4 * np.minimum(1.0, (steps + 1) / 100) * 0.5 * (1 + np.cos(steps / 3000))

    steps = np.arange(0, 3000, 37)
    arr = Schedule()(np.arange(3000, dtype=np.int64))
    np.testing.assert_array_equal(law.predict(Schedule(), steps), law.predict(arr, steps))


@pytest.mark.parametrize("law", [MultiPowerLaw(**MPL),
                                 AnnealingLaw(L0=3.0, A=0.5, alpha=0.5, C=0.4, lam=0.995)])
def test_final_loss_and_gradient(law):
    lr = random_schedule(np.random.default_rng(6), total=400)
    loss, grad = law.final_loss(lr, grad=True)
    assert loss == pytest.approx(law.predict(lr, [lr.size - 1])[0], rel=1e-13)
    for j in (1, 39, 40, 100, 139, 140, 250, 399):
        h = 1e-4 * lr[j]
        up, down = lr.copy(), lr.copy()
        up[j] += h
        down[j] -= h
        fd = (law.final_loss(up) - law.final_loss(down)) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_prediction_before_any_training_is_infinite():
    assert MultiPowerLaw(**MPL).predict(np.linspace(0, 1e-3, 10), [0, 5])[0] == np.inf


@pytest.mark.parametrize("law", [
    MultiPowerLaw(L0=0.1 + 0.2, A=1 / 3, alpha=2 ** -0.5, B=1e300, C=5e-324, beta=np.pi,
                  gamma=0.0),
    AnnealingLaw(L0=-1 / 7, A=1e-300, alpha=np.e, C=0.1 + 0.7, lam=1.0),
])
def test_serialisation_round_trip_is_exact(law, tmp_path):
    assert type(law).from_json(law.to_json()) == law
    assert from_dict(law.to_dict()) == law
    assert from_dict(json.loads(law.to_json())).params == law.params
    path = tmp_path / "law.json"
    law.save(path)
    assert load(path) == law and type(law).load(path) == law


@pytest.mark.parametrize("change, err, match", [
    (dict(A=0.0), ValueError, "A: must be > 0"),
    (dict(alpha=-1.0), ValueError, "alpha: must be > 0"),
    (dict(B=-1.0), ValueError, "B: must be > 0"),
    (dict(C=0.0), ValueError, "C: must be > 0"),
    (dict(beta=0.0), ValueError, "beta: must be > 0"),
    (dict(gamma=-0.1), ValueError, "gamma: must be >= 0"),
    (dict(L0=np.nan), ValueError, "L0: must be finite"),
    (dict(B=np.inf), ValueError, "B: must be finite"),
    (dict(L0="3"), TypeError, "L0: must be a real number"),
    (dict(gamma=True), TypeError, "gamma: must be a real number"),
])
def test_multi_power_parameter_validation(change, err, match):
    with pytest.raises(err, match=match):
        MultiPowerLaw(**(MPL | change))


@pytest.mark.parametrize("change, match", [
    (dict(lam=1.5), "lam: must be in"), (dict(lam=-0.1), "lam: must be in"),
    (dict(C=-1.0), "C: must be > 0"), (dict(alpha=0.0), "alpha: must be > 0"),
])
def test_annealing_parameter_validation(change, match):
    with pytest.raises(ValueError, match=match):
        AnnealingLaw(**(dict(L0=3.0, A=0.5, alpha=0.5, C=0.4) | change))


@pytest.mark.parametrize("data, err, match", [
    (MPL, ValueError, "law: must be one of"),
    ({"law": "multi_power"} | {k: v for k, v in MPL.items() if k != "B"}, ValueError, "missing"),
    ({"law": "multi_power", "D": 1.0} | MPL, ValueError, "unknown"),
    ({"law": "annealing"} | MPL, ValueError, "unknown"),
    ([1, 2], TypeError, "must be a dict"),
])
def test_from_dict_errors(data, err, match):
    with pytest.raises(err, match=match):
        from_dict(data)


def test_class_from_json_refuses_the_other_law():
    with pytest.raises(ValueError, match="law: must be 'annealing'"):
        AnnealingLaw.from_json(MultiPowerLaw(**MPL).to_json())
    with pytest.raises(TypeError, match="text: must be a str"):
        MultiPowerLaw.from_json(b"{}")


@pytest.mark.parametrize("steps, err, match", [
    ([], ValueError, "steps: must not be empty"), ([1.5], ValueError, "steps: must be integers"),
    ([-1], ValueError, "steps: must be >= 0"), ([["a"]], TypeError, "steps: must hold"),
    ([10], ValueError, "past the end"),
])
def test_predict_errors(steps, err, match):
    with pytest.raises(err, match=match):
        MultiPowerLaw(**MPL).predict(np.full(5, 1e-4), steps)
