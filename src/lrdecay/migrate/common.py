"""What the importers share: the error for a scheduler with no closed form, one schedule for all
param groups when they agree, the range of exact steps, and the check that a live scheduler's
rates are those of the imported schedules at its step."""

from __future__ import annotations

import numbers

#: Steps are whole numbers that float64 holds exactly: every integer up to 2**53, not all above.
MAX_STEP = 2**53
_ON_MISMATCH = ("raise", "rescale")


class Unsupported(ValueError):
    """A scheduler that has no closed form lrdecay can read."""


def same_for_all(schedules: list):
    """The one schedule when every param group has the same, else the list."""
    return schedules[0] if all(s == schedules[0] for s in schedules) else schedules


def check_step(field: str, value) -> int:
    """``value`` as a step: an int in ``[0, 2**53]``, else ``ValueError`` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= MAX_STEP:
        raise ValueError(f"{field} must be an int in [0, 2**53] (float64 steps are exact up to there), got {value!r}")
    return int(value)


def same_rate(a: float, b: float, scale: float = 0.0) -> bool:
    """Equal rates up to the rounding of a framework's step-by-step products: relative 1e-6, or
    1e-9 of ``scale`` (the schedule's initial rate) near 0, where a recurrence like torch's
    CosineAnnealingLR loses relative accuracy."""
    return abs(a - b) <= max(1e-6 * max(abs(a), abs(b)), 1e-9 * abs(scale), 1e-300)


def live_schedules(schedules: list, groups: list, step: int, on_mismatch: str, what: str) -> list:
    """``schedules`` (one per param group) checked against each group's live lr at ``step``: a
    group whose lr was set by hand, whose scheduler's ``last_epoch`` was changed or whose
    ``initial_lr`` is not its lr would jump to the schedule's value; that is refused, naming the
    group and both values, unless ``on_mismatch="rescale"``, which scales its schedule so that
    it continues from the live lr (what torch's multiplicative schedulers do)."""
    if on_mismatch not in _ON_MISMATCH:
        raise ValueError(f"on_mismatch must be one of {', '.join(map(repr, _ON_MISMATCH))}, got {on_mismatch!r}")
    out = list(schedules)
    for i, (schedule, group) in enumerate(zip(schedules, groups)):
        live, expected = float(group["lr"]), schedule(step)
        if same_rate(live, expected, float(group.get("initial_lr", 0.0))):
            continue
        if on_mismatch == "raise" or expected == 0:
            reason = ("; it can't be rescaled: the schedule is 0 there" if on_mismatch == "rescale" else
                      "; pass on_mismatch='rescale' to scale the schedule so that it continues from the live lr")
            raise ValueError(f"param group {i}: its lr is {live!r} but {what} gives {expected!r} at step {step} "
                             "(the lr was set by hand, last_epoch was changed, or initial_lr differs from lr): "
                             f"taking over would make the rate jump{reason}")
        out[i] = schedule * (live / expected)
    return out
