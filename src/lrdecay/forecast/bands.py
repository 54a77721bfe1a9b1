"""Uncertainty band of a law's prediction, by a moving-block bootstrap of the fit's residuals."""
from __future__ import annotations

import numpy as np

from lrdecay.forecast.fitting import _check_runs, _model, fit, refine
from lrdecay.forecast.law import AnnealingLaw, MultiPowerLaw, _as_steps
from lrdecay.forecast.runs import Run, lr_array


def band(runs, lr, steps, law: str = "multi_power", *, fitted: MultiPowerLaw | AnnealingLaw | None = None, n: int = 40,
         level: float = 0.9, block: int = 16, coarse: int = 32, seed: int = 0,
         objective: str = "huber", delta: float = 1e-3):
    """Lower and upper predicted loss at ``steps`` for the schedule ``lr``, a ``level`` band.

    1. ``fitted`` (default ``fit(runs, law)``) gives each fitted run's log residuals
       ``r = log L_obs - log L_fit``.
    2. ``n`` times: every run's residuals are resampled in circular blocks of ``block``
       consecutive logged points (keeping their serial correlation), the run's loss is replaced by
       ``L_fit * exp(r*)``, and the law is refitted from ``fitted``'s parameters (warm start),
       for speed on rates averaged over blocks of ``coarse`` steps (see ``fit``).
    3. The original losses are refitted the same way; each bootstrap prediction's deviation from
       that refit's prediction is added to ``fitted``'s prediction, so the coarse refits shift
       nothing but the spread.  The band is the ``(1 -/+ level) / 2`` quantiles over the ``n``.

    The band is the fit's statistical uncertainty given its residuals, not the law's own
    misspecification: far out (the paper's 72,000-step runs fitted on 24,000) the measured
    loss can lie outside it.  Deterministic for a given ``seed``.  Cost: ``n + 1``
    warm-started refits (each at most 60 evaluations), 5-15 s for n = 40 and the paper's runs.
    """
    runs = _check_runs(runs)
    kind: type[MultiPowerLaw] | type[AnnealingLaw] | None = {"multi_power": MultiPowerLaw,
                                                             "annealing": AnnealingLaw}.get(law)
    if kind is None:
        raise ValueError(f"law: must be 'multi_power' or 'annealing', got {law!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level}")
    if any(int(v) != v for v in (n, block, coarse)) or n < 2 or block < 1 or coarse < 1:
        raise ValueError(f"n, block, coarse: need integers n >= 2, block >= 1, coarse >= 1, "
                         f"got {n}, {block}, {coarse}")
    steps = _as_steps(steps)
    uniq, inverse = np.unique(steps, return_inverse=True)
    eta = lr_array(lr, int(uniq[-1]) + 1)
    if fitted is None:
        fitted = fit(runs, law, objective=objective, delta=delta)
    if not isinstance(fitted, kind):
        raise TypeError(f"fitted: must be the law named by law={law!r}, got {type(fitted).__name__}")
    lam = getattr(fitted, "lam", 0.999)
    target = _model([Run(eta, uniq, np.ones(uniq.size))], law, coarse, lam)
    model = _model(runs, law, coarse, lam)
    th = model.to_theta(fitted)
    fits = [fitted.predict(r.lr, r.steps) for r in runs]
    resid = [np.log(r.loss / f) for r, f in zip(runs, fits)]
    rng = np.random.default_rng(seed)

    def refit(y):
        return target.evaluate(refine(model, th, y, objective, delta, tol=1e-8, max_nfev=60)[0])[0]

    base = refit(np.concatenate([r.loss for r in runs]))
    draws = []
    for _ in range(n):
        ys = []
        for f, r in zip(fits, resid):
            m = r.size
            starts = rng.integers(0, m, -(-m // block))
            idx = (starts[:, None] + np.arange(block)).ravel()[:m] % m
            ys.append(f * np.exp(r[idx]))
        draws.append(refit(np.concatenate(ys)) - base)
    lo, hi = np.quantile(np.array(draws), [(1 - level) / 2, (1 + level) / 2], axis=0)
    center = fitted.predict(eta, uniq)
    return (center + lo)[inverse], (center + hi)[inverse]
