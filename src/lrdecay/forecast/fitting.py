"""Fitting a law to logged runs (Luo et al. 2025, sec. 4; Tissue et al. 2024).

Objective (default, as in the multi-power-law paper): Huber loss with ``delta`` on the log-loss
residuals ``log L_pred - log L_obs`` summed over every logged point of every run;
``objective="relative"`` is plain least squares on ``L_pred / L_obs - 1``.  Minimised with
``scipy.optimize.least_squares`` (trust-region reflective, analytic Jacobian), in float64, over
``theta = (L0, log A, log alpha, log B, log C, log beta, gamma)`` for the multi-power law and
``(L0, log A, log alpha, log C)`` for the annealing law (``lam`` fixed), in a wide box
(``|log| <= 30``, ``alpha <= e^3``, ``beta <= e^5``, ``0 <= gamma <= 10``) that keeps
under-determined fits (one run for the multi-power law) finite.

Start (deterministic, no random draws): a grid over the nonlinear parameters
(alpha, C, beta, gamma); at each point the linear ones (L0, A, B) come from non-negative least
squares on relative residuals (variable projection); the ``starts`` best grid points are refined.

Speed: the loss-drop sum has one term per (logged step t, step k <= t where the rate changes);
the ``S_k(t)`` are computed once per fit, vectorised (``law.Pairs``), and each evaluation then
costs a gather, a log and an exp per term (30-45 ns), Jacobian included, in cache-sized chunks.
Smooth schedules change at every step (the warm-up, a cosine), so the search runs
coarse-to-fine: first on the runs with each rate replaced by its means over blocks of
``levels[0]`` steps (a staircase: that many times fewer terms), then on finer blocks, the last
level (1) being the exact law.  The paper's three runs (2.8 M terms) fit in 1-3 s of CPU.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, nnls

from lrdecay.forecast.law import AnnealingLaw, MultiPowerLaw, pairs_chunks
from lrdecay.forecast.runs import Run

ALPHAS = np.geomspace(0.1, 1.5, 12)
GRID_C = np.geomspace(0.3, 10.0, 4)
GRID_BETA = np.geomspace(0.25, 1.5, 4)
GRID_GAMMA = np.linspace(0.2, 1.0, 4)


class _MultiPower:
    """The multi-power law at the logged points of ``runs``, as a function of ``theta``."""

    law = MultiPowerLaw
    lower = np.array([-np.inf, -30.0, -10.0, -30.0, -30.0, -10.0, 0.0])
    upper = np.array([np.inf, 30.0, 3.0, 30.0, 30.0, 5.0, 10.0])

    def __init__(self, runs, block: int = 1):
        self.chunks = []
        for run in runs:
            lr = _staircase(run.lr[: run.steps[-1] + 1], block)
            self.chunks += [p for _, p in pairs_chunks(lr, run.steps)]
        self.p = np.concatenate([c.p for c in self.chunks])

    @staticmethod
    def to_law(th):
        return MultiPowerLaw(th[0], *np.exp(th[1:6]), th[6])

    @staticmethod
    def to_theta(law):
        return np.array([law.L0, *np.log([law.A, law.alpha, law.B, law.C, law.beta]), law.gamma])

    def drop(self, C, beta, gamma, jac=False):
        return np.concatenate([c.sums(C, beta, gamma, jac) for c in self.chunks], axis=-1)

    def evaluate(self, th):
        """Prediction at every logged point and its Jacobian with respect to ``theta``."""
        L0, (A, alpha, B, C, beta), gamma = th[0], np.exp(th[1:6]), th[6]
        F, Q, U, V = self.drop(C, beta, gamma, jac=True)
        power = A * self.p ** -alpha
        pred = L0 + power - B * F
        J = np.column_stack([np.ones_like(pred), power, -alpha * power * np.log(self.p),
                             -B * F, -B * beta * Q, -B * beta * U, B * beta * V])
        return pred, J

    def starts(self, y, count):
        """The ``count`` best grid points (variable projection on relative residuals)."""
        cands = []
        for C in GRID_C:
            for beta in GRID_BETA:
                for gamma in GRID_GAMMA:
                    F = self.drop(C, beta, gamma)
                    for alpha in ALPHAS:
                        X = np.column_stack([np.ones_like(y), self.p ** -alpha, -F]) / y[:, None]
                        (L0, A, B), rnorm = nnls(X, np.ones_like(y))
                        if A > 0 and B > 0:
                            cands.append((rnorm, [L0, np.log(A), np.log(alpha), np.log(B),
                                                  np.log(C), np.log(beta), gamma]))
        if not cands:
            raise ValueError("runs: no multi-power start fits (does the rate ever change?)")
        cands.sort(key=lambda c: c[0])
        return [np.array(c[1]) for c in cands[:count]]


class _Annealing:
    """The annealing law at the logged points of ``runs`` (``lam`` fixed)."""

    law = AnnealingLaw
    lower = np.array([-np.inf, -30.0, -10.0, -30.0])
    upper = np.array([np.inf, 30.0, 3.0, 30.0])

    def __init__(self, runs, lam: float = 0.999):
        self.lam = lam
        areas = [AnnealingLaw(1.0, 1.0, 1.0, 1.0, lam).areas(r.lr[: r.steps[-1] + 1]) for r in runs]
        self.p = np.concatenate([s1[r.steps] for (s1, _), r in zip(areas, runs)])
        self.s2 = np.concatenate([s2[r.steps] for (_, s2), r in zip(areas, runs)])

    def to_law(self, th):
        return AnnealingLaw(th[0], *np.exp(th[1:4]), self.lam)

    @staticmethod
    def to_theta(law):
        return np.array([law.L0, *np.log([law.A, law.alpha, law.C])])

    def evaluate(self, th):
        L0, (A, alpha, C) = th[0], np.exp(th[1:4])
        power = A * self.p ** -alpha
        pred = L0 + power - C * self.s2
        J = np.column_stack([np.ones_like(pred), power, -alpha * power * np.log(self.p),
                             -C * self.s2])
        return pred, J

    def starts(self, y, count):
        cands = []
        for alpha in np.geomspace(0.05, 2.0, 40):
            X = np.column_stack([np.ones_like(y), self.p ** -alpha, -self.s2]) / y[:, None]
            (L0, A, C), rnorm = nnls(X, np.ones_like(y))
            if A > 0 and C > 0:
                cands.append((rnorm, [L0, np.log(A), np.log(alpha), np.log(C)]))
        if not cands:
            raise ValueError("runs: no annealing-law start fits (no loss drop with the rate?)")
        cands.sort(key=lambda c: c[0])
        return [np.array(c[1]) for c in cands[:count]]


def _staircase(lr: np.ndarray, block: int) -> np.ndarray:
    """``lr`` replaced by its mean over each block of ``block`` steps (same total area)."""
    if block == 1:
        return lr
    pad = np.pad(lr, (0, -lr.size % block), mode="edge")
    return np.repeat(pad.reshape(-1, block).mean(axis=1), block)[: lr.size]


def _model(runs, law, block=1, lam=0.999):
    if law == "multi_power":
        return _MultiPower(runs, block)
    if law == "annealing":
        return _Annealing(runs, lam)
    raise ValueError(f"law: must be 'multi_power' or 'annealing', got {law!r}")


def _check_runs(runs):
    runs = [runs] if isinstance(runs, Run) else list(runs)
    if not runs:
        raise ValueError("runs: need at least one Run")
    for r in runs:
        if not isinstance(r, Run):
            raise TypeError(f"runs: every item must be a Run, got {type(r).__name__}")
        if r.lr[: r.steps[0] + 1].sum() == 0:
            raise ValueError(f"runs: {r.name or 'a run'} logs step {r.steps[0]} before any "
                             "training (rates all 0 so far), where the laws are infinite; "
                             "drop that point")
    return runs


def refine(model, th0, y, objective="huber", delta=1e-3, tol=1e-10, max_nfev=None):
    """Minimise the objective from ``th0``; returns ``(theta, cost)``."""
    if objective not in ("huber", "relative"):
        raise ValueError(f"objective: must be 'huber' or 'relative', got {objective!r}")
    cache = {}

    def evaluate(th):
        key = th.tobytes()
        if key not in cache:
            cache.clear()
            pred, J = model.evaluate(th)
            pred = np.maximum(pred, 1e-12 * y)  # keep log finite far from the data
            if objective == "huber":
                cache[key] = (np.log(pred / y), np.nan_to_num(J / pred[:, None]))
            else:
                cache[key] = (pred / y - 1.0, np.nan_to_num(J / y[:, None]))
        return cache[key]

    res = least_squares(lambda th: evaluate(th)[0], th0, jac=lambda th: evaluate(th)[1],
                        bounds=(model.lower, model.upper), method="trf", x_scale="jac",
                        loss="huber" if objective == "huber" else "linear", f_scale=delta,
                        ftol=tol, xtol=tol, gtol=1e-12, max_nfev=max_nfev)
    return res.x, res.cost


def fit(runs, law: str = "multi_power", *, objective: str = "huber", delta: float = 1e-3,
        lam: float = 0.999, starts: int = 3, levels=(32, 8, 1), init=None):
    """Fit ``law`` ("multi_power" or "annealing") to ``runs`` (a Run or a list of them).

    The ``starts`` best grid points are refined at block size ``levels[0]``, the best result
    at each further level in turn (the last must be 1: the exact law).  ``init`` (a law of the
    same kind) replaces the grid and the coarse levels.  ``lam`` is the annealing law's fixed
    momentum (``init.lam`` when ``init`` is given).  Returns the fitted ``MultiPowerLaw`` or
    ``AnnealingLaw``.
    """
    runs = _check_runs(runs)
    lam = getattr(init, "lam", lam)
    if law == "annealing" or init is not None:
        levels = (1,)
    if not levels or levels[-1] != 1 or any(int(b) != b or b < 1 for b in levels):
        raise ValueError(f"levels: must be block sizes >= 1 ending with 1, got {levels!r}")
    y = np.concatenate([r.loss for r in runs])
    models = [_model(runs, law, b, lam) for b in levels]
    if init is None:
        ths = models[0].starts(y, starts)
    elif isinstance(init, models[0].law):
        ths = [models[0].to_theta(init)]
    else:
        raise TypeError(f"init: must be a {models[0].law.__name__}, got {type(init).__name__}")
    for model in models:
        ths = [min((refine(model, th, y, objective, delta) for th in ths), key=lambda f: f[1])[0]]
    return models[-1].to_law(ths[0])
