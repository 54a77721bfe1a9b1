"""What ``lrdecay check``, ``lrdecay list`` and the explorer say about a schedule: how long to
look at it, its exact start, peak, end and minimum, the likely mistakes in it, and a kind's
parameters and formula in one line."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import numpy as np

from lrdecay.core.schedule import Schedule

__all__ = ["DEFAULT_STEPS", "MAX_STEP", "CHECK_POINTS", "HORIZON_TOLERANCE", "HorizonWarning", "default_steps",
           "horizon_mismatch", "summarize", "parameters", "formula", "short_number", "values_at", "walk"]

#: Steps shown for a schedule that never stops changing.
DEFAULT_STEPS = 100
#: Steps are whole numbers that float64 holds exactly.
MAX_STEP = 2**53
#: ``summarize`` evaluates at most this many evenly spaced steps (first and last included).
CHECK_POINTS = 1_000_000
#: A schedule's duration and a run's length agree when they differ by at most this fraction of
#: the run, or by one step (a schedule may reach its end at the last update or just after it).
HORIZON_TOLERANCE = 0.01


class HorizonWarning(UserWarning):
    """The schedule's duration and the optimizer steps training makes differ (see
    :func:`horizon_mismatch`); the trainer integrations warn with it."""


def short_number(value: float) -> str:
    """``value`` with up to 10 significant digits, as the command line prints rates."""
    return f"{value:.10g}"


def default_steps(schedules: list[Schedule]) -> int:
    """Steps to show: the longest duration plus one (its last change included), else
    ``DEFAULT_STEPS`` when none of ``schedules`` ever stops changing."""
    durations = [s.duration for s in schedules if s.duration is not None and math.isfinite(s.duration)]
    return int(math.ceil(max(durations))) + 1 if durations else DEFAULT_STEPS


def values_at(schedule: Schedule, steps: list[int] | np.ndarray) -> np.ndarray:
    """The values of ``schedule`` at whole ``steps``, as a float64 array."""
    return np.asarray(schedule(np.asarray(steps, dtype=np.int64)), dtype=np.float64)


def _grid(steps: int) -> np.ndarray:
    """Steps ``0 .. steps - 1``, or ``CHECK_POINTS`` of them evenly spaced when there are more."""
    if steps <= CHECK_POINTS:
        return np.arange(steps, dtype=np.int64)
    grid = np.linspace(0, steps - 1, CHECK_POINTS).round().astype(np.int64)
    return grid[np.r_[True, np.diff(grid) != 0]]  # sorted already: drop repeats without np.unique's sort


def walk(schedule: Schedule):
    """The schedule and every schedule nested in it."""
    yield schedule
    for value in schedule.params().values():
        children = value if isinstance(value, (tuple, list)) else (value,)
        for child in children:
            if isinstance(child, Schedule):
                yield from walk(child)


def parameters(cls) -> str:
    """The parameters of a schedule class as ``lrdecay list`` shows them: required ones by name,
    the others as ``name=default``."""
    parts = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            parts.append(f"{f.name}={f.default!r}")
        elif f.default_factory is not dataclasses.MISSING:
            parts.append(f"{f.name}={f.default_factory()!r}")
        else:
            parts.append(f.name)
    return ", ".join(parts)


def formula(cls) -> str:
    """The first paragraph of a schedule class's docstring (its formula), on one line, in plain
    text (no ``code`` quotes or Sphinx roles)."""
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    doc = re.sub(r":[a-z]+:`~?\.?([^`]+)`", r"\1", doc)
    return " ".join(doc.replace("``", "").split())


def summarize(schedule: Schedule, steps: int) -> tuple[dict, list[str]]:
    """The summary ``lrdecay check`` prints over steps ``0 .. steps - 1``, and its warnings about
    likely mistakes. Peak and minimum are exact (every step where the value can change is
    evaluated) unless ``summary["sampled"]``: then they are those of ``CHECK_POINTS`` evenly
    spaced steps."""
    x, exact = _check_steps(schedule, steps)
    y = values_at(schedule, x)
    finite = np.isfinite(y)
    summary: dict[str, Any] = {
        "schedule": repr(schedule),
        "steps": steps,
        "sampled": not exact,  # True: peak/minimum steps are those of a CHECK_POINTS grid
        "start": float(y[0]),
        "peak": float(np.nanmax(y)) if finite.any() else math.nan,
        "peak_step": int(x[np.nanargmax(y)]) if finite.any() else None,
        "end": float(y[-1]),
        "minimum": float(np.nanmin(y)) if finite.any() else math.nan,
        "minimum_step": int(x[np.nanargmin(y)]) if finite.any() else None,
        "duration": schedule.duration,
    }
    warnings = []
    if not finite.all():
        warnings.append(f"the value is not finite at step {int(x[np.argmin(finite)])}")
    if (y[finite] < 0).any():
        warnings.append(f"the value is negative from step {int(x[np.argmax(finite & (y < 0))])}")
    # a schedule that stops early at its peak (a warm-up into a constant) does so by design
    at_peak = not (finite.all() and y[-1] < summary["peak"] * (1 - 1e-12))
    mismatch = horizon_mismatch(schedule, steps, ends_at_peak=at_peak)
    if mismatch is not None:
        warnings.append(f"{mismatch}; build the schedule over {steps} steps, or give the run's real length as --steps")
    for node in walk(schedule):
        warnings += _node_warnings(node, steps)
    return summary, list(dict.fromkeys(warnings))


def horizon_mismatch(schedule: Schedule, steps: float, *, ends_at_peak: bool | None = None) -> str | None:
    """What is wrong when ``schedule``'s duration and ``steps``, the optimizer steps a run makes
    (``math.inf``: no planned end), differ by more than :data:`HORIZON_TOLERANCE` of the run and
    more than one step; None when they agree, when the schedule never stops changing (``duration``
    None), or when it stops early at its peak (``ends_at_peak``, found from its values when not
    given), which a warm-up into a constant does by design. Names both numbers."""
    duration = schedule.duration
    if duration is None or not math.isfinite(duration):
        return None
    gap = abs(duration - steps)
    if gap <= 1 or (math.isfinite(steps) and gap <= HORIZON_TOLERANCE * steps):
        return None
    if duration < steps:
        if ends_at_peak is None:
            ends_at_peak = _ends_at_peak(schedule)
        if ends_at_peak:
            return None
        if math.isinf(steps):
            return (f"the schedule stops changing at step {short_number(duration)} but training has no planned end "
                    f"(its number of optimizer steps is unknown)")
        return (f"the schedule stops changing at step {short_number(duration)} but training makes {steps} optimizer "
                f"steps: it is over at {100 * duration / steps:.3g}% of training"
                + (" (epochs given where steps are counted?)" if duration <= steps / 2 else ""))
    return (f"the schedule runs for {short_number(duration)} steps but training makes {steps} optimizer steps: it is "
            f"cut off at {100 * steps / duration:.3g}% of its course"
            + (" (batches counted where optimizer steps are, as with gradient accumulation?)" if duration >= 2 * steps else ""))


def _ends_at_peak(schedule: Schedule) -> bool:
    """Whether the value at the schedule's duration is its largest up to there (10,001 steps
    sampled when there are more)."""
    end = float(schedule.duration or 0)
    x = np.unique(np.append(np.linspace(0.0, end, 10_001).round(), end)) if end > 10_000 else np.arange(end + 1.0)
    x = np.append(x[x < end], end)
    y = np.asarray(schedule(x), dtype=np.float64)
    return bool(np.isfinite(y).all() and y[-1] >= y.max() * (1 - 1e-12))


def _check_steps(schedule: Schedule, steps: int) -> tuple[np.ndarray, bool]:
    """The steps ``check`` evaluates, and whether they are all those where the value can
    change: every step up to the schedule's duration (after it the value stays put) and the
    last one, or, past ``CHECK_POINTS`` of them, an evenly spaced sample."""
    duration = schedule.duration
    if duration is not None and math.isfinite(duration) and math.ceil(duration) < min(steps, CHECK_POINTS):
        changing = np.arange(math.ceil(duration) + 1, dtype=np.int64)
        return (changing if changing[-1] == steps - 1 else np.append(changing, steps - 1)), True
    return _grid(steps), steps <= CHECK_POINTS


def _node_warnings(node: Schedule, steps: int) -> list[str]:
    warnings = []
    for name, value in node.params().items():
        if isinstance(value, bool) or not isinstance(value, (int, float, tuple)):
            continue
        if ("warmup" in name or "burn" in name or (node.kind == "warmup" and name == "steps")) \
                and not isinstance(value, tuple) and value >= steps:
            warnings.append(f"{node.kind}: warm-up {name}={short_number(value)} is not shorter than training ({steps} steps)")
        if name in ("boundaries", "milestones") and isinstance(value, tuple):
            late = [b for b in value if isinstance(b, (int, float)) and b >= steps]
            if late:
                warnings.append(
                    f"{node.kind}: {name} {', '.join(short_number(b) for b in late)} at or past the end of "
                    f"training ({steps} steps) are never reached"
                )
    if ("decay" in node.kind or "annealing" in node.kind) and not node.kind.startswith("warmup"):
        length = steps if node.duration is None or not math.isfinite(node.duration) else int(min(node.duration, steps - 1)) + 1
        y = values_at(node, _grid(max(length, 2)))
        if np.isfinite(y).all() and y[-1] > y[0] and y[-1] >= y.max():
            warnings.append(
                f"{node.kind}: ends at {short_number(y[-1])}, above its start {short_number(y[0])}: a decay that grows "
                f"(end value and start swapped?)"
            )
    return warnings
