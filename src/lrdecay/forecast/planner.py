"""Planning a schedule with a fitted law: the schedule that minimises the predicted final loss
(Luo et al. 2025, sec. 5), and a table that compares it with constant, cosine and
warmup-stable-decay (WSD) schedules of the same length, peak and warm-up.

Every candidate is an ordinary lrdecay schedule (serializable, and it runs in PyTorch, Keras
and Optax): ``warmup(body, warmup_steps)``, a linear ramp from 0 to the peak, then the body in
local time. Cosine and WSD decays reach ``min_lr`` at step ``total_steps`` (one past the last
step, the convention of the runs the law is fitted on).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from lrdecay.compose.nodes import warmup
from lrdecay.core.schedule import Schedule
from lrdecay.core.validate import check_choice, check_int, check_range
from lrdecay.forecast.law import AnnealingLaw, MultiPowerLaw
from lrdecay.schedules.annealing import cosine_annealing
from lrdecay.schedules.shapes import constant, piecewise_linear
from lrdecay.schedules.transformer import warmup_stable_decay

__all__ = ["Plan", "wsd", "cosine", "optimize", "plan", "SHAPES", "FRACTIONS"]

#: The cool-down shapes the planner compares (``warmup_stable_decay``'s ``decay_shape``).
SHAPES = ("linear", "cosine", "1-sqrt")
#: The cool-down fractions of the run the planner compares.
FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5)
#: Optimised rates stay >= ``min_lr + FLOOR * (peak_lr - min_lr)``: the law's ``eta ** -gamma``
#: stays finite when ``min_lr`` is 0.
FLOOR = 1e-6


@dataclass(frozen=True)
class Plan:
    """A candidate schedule, what it is, and the law's predicted loss at its last step."""

    name: str
    description: str
    schedule: Schedule
    final_loss: float


def _check_law(law) -> None:
    if not isinstance(law, (MultiPowerLaw, AnnealingLaw)):
        raise TypeError(f"law must be a MultiPowerLaw or an AnnealingLaw, got {type(law).__name__}")


def _check(total_steps, peak_lr, warmup_steps, min_lr) -> tuple[int, float, int, float]:
    total_steps = check_int("total_steps", total_steps, 2)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    if not warmup_steps < total_steps - 1:
        raise ValueError(f"warmup_steps must leave at least 2 steps of the {total_steps} total_steps, "
                         f"got {warmup_steps}")
    peak_lr = check_range("peak_lr", peak_lr, 0.0, low_open=True)
    min_lr = check_range("min_lr", min_lr, 0.0)
    if not min_lr < peak_lr:
        raise ValueError(f"min_lr must be < peak_lr, got min_lr={min_lr!r} and peak_lr={peak_lr!r}")
    return total_steps, float(peak_lr), warmup_steps, float(min_lr)


def _with_warmup(body: Schedule, warmup_steps: int) -> Schedule:
    return warmup(body, warmup_steps) if warmup_steps else body


def wsd(total_steps, peak_lr, warmup_steps, min_lr=0.0, fraction=0.2, shape="linear") -> Schedule:
    """Warm-up, the peak, then a cool-down over the last ``round(fraction * total_steps)`` steps
    (at least 1, at most every step after the warm-up) to ``min_lr``, of ``shape`` (``SHAPES``)."""
    total_steps, peak_lr, warmup_steps, min_lr = _check(total_steps, peak_lr, warmup_steps, min_lr)
    check_range("fraction", fraction, 0.0, 1.0, low_open=True)
    check_choice("shape", shape, SHAPES)
    after = total_steps - warmup_steps
    decay = min(max(round(fraction * total_steps), 1), after)
    body = warmup_stable_decay(peak_lr, 0, after - decay, decay, min_lr_ratio=min_lr / peak_lr, decay_shape=shape)
    return _with_warmup(body, warmup_steps)


def cosine(total_steps, peak_lr, warmup_steps, min_lr=0.0) -> Schedule:
    """Warm-up, then a cosine from the peak to ``min_lr`` at ``total_steps``."""
    total_steps, peak_lr, warmup_steps, min_lr = _check(total_steps, peak_lr, warmup_steps, min_lr)
    return _with_warmup(cosine_annealing(peak_lr, total_steps - warmup_steps, eta_min=min_lr), warmup_steps)


def _knots(after: int, knots: int) -> np.ndarray:
    """Knot steps (local, after the warm-up) from 0 to ``after - 1``, denser near the end:
    ``(after - 1) * (1 - (1 - u) ** 2)`` rounded, for ``u`` evenly spaced in [0, 1]."""
    u = np.linspace(0.0, 1.0, knots)
    return np.unique(np.round((after - 1) * (1.0 - (1.0 - u) ** 2)).astype(np.int64))


def optimize(law, total_steps, peak_lr, warmup_steps, min_lr=0.0, knots=40, maxiter=1000) -> Schedule:
    """The non-increasing schedule after the warm-up that minimises ``law``'s predicted loss at
    step ``total_steps - 1``: ``warmup(piecewise_linear(steps, values), warmup_steps)``.

    The body interpolates linearly through up to ``knots`` knots (denser near the end, where the
    decay happens); knot ``i`` is ``min + (peak - min) * f_i`` with ``f_i = F + (1 - F) *
    exp(-(e_0 + ... + e_i))``, every ``e`` in [0, 40] and ``F = FLOOR``: any such schedule is
    non-increasing and within [min_lr, peak_lr]. The ``e`` are found by L-BFGS-B from WSD with a
    20% linear cool-down, with the law's exact gradient of the final loss (O(T) per step)."""
    _check_law(law)
    total_steps, peak_lr, warmup_steps, min_lr = _check(total_steps, peak_lr, warmup_steps, min_lr)
    knots = check_int("knots", knots, 2)
    maxiter = check_int("maxiter", maxiter, 1)
    after = total_steps - warmup_steps
    xk = _knots(after, knots)
    count = len(xk)
    local = np.arange(after)
    j = np.clip(np.searchsorted(xk, local, side="right") - 1, 0, count - 2)
    w = (local - xk[j]) / (xk[j + 1] - xk[j])
    span = peak_lr - min_lr
    ramp = _with_warmup(constant(peak_lr), warmup_steps).curve(warmup_steps)

    def rates(e):
        f = FLOOR + (1.0 - FLOOR) * np.exp(-np.cumsum(e))
        values = np.minimum(min_lr + span * f, peak_lr)
        return f - FLOOR, values, np.concatenate([ramp, values[j] + w * (values[j + 1] - values[j])])

    start = wsd(total_steps, peak_lr, warmup_steps, min_lr, 0.2, "linear").curve(total_steps)[warmup_steps:]
    f0 = np.clip((start[xk] - min_lr) / span, 1e-3, 1.0)
    e0 = -np.diff(np.log((f0 - FLOOR) / (1.0 - FLOOR)), prepend=0.0)
    base = law.final_loss(rates(e0)[2])

    def objective(e):
        f, _, eta = rates(e)
        loss, gradient = law.final_loss(eta, grad=True)
        g = gradient[warmup_steps:]
        g_values = np.bincount(j, (1 - w) * g, count) + np.bincount(j + 1, w * g, count)
        g_e = -np.cumsum((g_values * span * f)[::-1])[::-1]
        return 1e3 * (loss - base), 1e3 * g_e  # values of order 1 for L-BFGS-B's tolerances

    result = minimize(objective, e0, jac=True, method="L-BFGS-B", bounds=[(0.0, 40.0)] * count,
                      options={"maxiter": maxiter, "ftol": 1e-8, "gtol": 1e-8})
    _, values, _ = rates(result.x)
    body = piecewise_linear(tuple(int(s) for s in xk), tuple(float(v) for v in values))
    return _with_warmup(body, warmup_steps)


def plan(law, total_steps, peak_lr, warmup_steps, min_lr=0.0, fractions=FRACTIONS, shapes=SHAPES,
         knots=40) -> list[Plan]:
    """Candidates with the same warm-up, best (lowest predicted final loss) first: constant,
    cosine to ``min_lr``, WSD for every cool-down fraction and shape, and :func:`optimize`'s."""
    _check_law(law)
    total_steps, peak_lr, warmup_steps, min_lr = _check(total_steps, peak_lr, warmup_steps, min_lr)
    if isinstance(fractions, (str, numbers.Number)) or isinstance(shapes, str):
        raise TypeError("fractions and shapes must be lists (of numbers; of shape names)")
    args = (total_steps, peak_lr, warmup_steps, min_lr)
    candidates = [("constant", f"the peak {peak_lr:g} after the warm-up, no decay",
                   _with_warmup(constant(peak_lr), warmup_steps)),
                  ("cosine", f"cosine to {min_lr:g}", cosine(*args))]
    for shape in shapes:
        for fraction in fractions:
            candidates.append((f"wsd-{shape}-{fraction:g}",
                               f"the peak, then a {shape} cool-down to {min_lr:g} over the last {fraction:.0%}",
                               wsd(*args, fraction, shape)))
    candidates.append(("optimized", "non-increasing, the lowest predicted final loss (piecewise linear)",
                       optimize(law, *args, knots=knots)))
    plans = [Plan(name, text, s, float(law.final_loss(s.curve(total_steps)))) for name, text, s in candidates]
    return sorted(plans, key=lambda p: p.final_loss)
