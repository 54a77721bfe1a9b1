"""The learning-rate range test (Smith 2015, "Cyclical Learning Rates for Training Neural
Networks"; fastai's ``lr_find``, torch-lr-finder's ``range_test``): raise the rate step by step
over a short run, record the loss, and read a good starting rate off the curve.

:func:`range_test` is framework-free: it calls ``step_fn(lr) -> loss`` once per step, ``lr``
coming from an lrdecay schedule, the sweep (:func:`sweep`). ``lrdecay.torch.lr_find`` and
``lrdecay.keras.lr_find`` build ``step_fn`` from a model and restore the model afterwards; with
JAX/Optax, a pure train step is the ``step_fn`` (see docs/finder.md).

Smoothing and stopping follow torch-lr-finder (``smooth_f``, ``diverge_th``): the running
average of the losses (the exponential average with weight ``smooth`` per new loss, debiased like
fastai's ``AvgSmoothLoss``, so ``s_0 = loss_0``) stops the test once
``s_i > diverge * min(s_0..s_i)``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lrdecay.compose.nodes import warmup
from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import parse
from lrdecay.core.validate import (
    check_choice,
    check_int,
    check_number,
    check_positive,
    check_range,
)
from lrdecay.schedules.annealing import WarmupCosineDecay
from lrdecay.schedules.cyclical import OneCycle
from lrdecay.schedules.shapes import constant

__all__ = ["range_test", "sweep", "RangeTestResult", "RULES", "STOP_REASONS", "TARGETS"]

#: mode -> the warm-up shape that ramps from start_lr to end_lr
_SHAPES = {"exp": "exponential", "linear": "linear"}
#: The suggestion rules, in the order they are reported.
RULES = ("steepest", "minimum", "valley")
#: How each rule's suggestion is labelled (the minimum rule suggests a tenth of the minimum's rate).
RULE_NAMES = {"steepest": "steepest", "minimum": "minimum / 10", "valley": "valley"}
#: Why a test stops: every step ran, the smoothed loss diverged, or a loss was NaN/inf.
STOP_REASONS = ("completed", "diverged", "non-finite")
#: The fewest steps the rules need to read (else no suggestion).
MIN_WINDOW = 3
#: Schedule kinds :meth:`RangeTestResult.to_schedule` builds.
TARGETS = ("one_cycle", "warmup_cosine")


def sweep(start_lr, end_lr, num_steps, mode: str = "exp") -> Schedule:
    """The rates of a range test: ``start_lr`` at step 0 to ``end_lr`` at step ``num_steps - 1``,
    geometrically (``mode="exp"``: ``start_lr * (end_lr / start_lr) ** (t / (num_steps - 1))``)
    or linearly. It is a warm-up of ``constant(end_lr)`` over ``num_steps - 1`` steps (the
    ``exponential`` or ``linear`` ramp of :class:`lrdecay.Warmup`), the rates torch-lr-finder's
    ``ExponentialLR``/``LinearLR`` sweeps produce."""
    start_lr = check_positive("start_lr", start_lr)
    end_lr = check_number("end_lr", end_lr)
    if not end_lr > start_lr:
        raise ValueError(f"end_lr must be > start_lr, got start_lr={start_lr!r} and end_lr={end_lr!r}")
    num_steps = check_int("num_steps", num_steps, 2)
    check_choice("mode", mode, _SHAPES)
    return warmup(constant(end_lr), steps=num_steps - 1, start=start_lr, shape=_SHAPES[mode])


def range_test(step_fn: Callable[[float], float], start_lr=1e-7, end_lr=10.0, num_steps: int = 100,
               mode: str = "exp", smooth: float = 0.05, diverge: float = 5.0,
               progress: bool | None = None) -> RangeTestResult:
    """Call ``step_fn(lr)`` (one training step at rate ``lr``, returning its loss) for the
    ``num_steps`` rates of :func:`sweep`, and stop early when the smoothed loss exceeds
    ``diverge`` times its minimum or a loss is NaN/inf.

    ``smooth``: the weight of each new loss in the running average, in ``(0, 1]`` (1: no
    smoothing). ``diverge``: > 1, or ``math.inf`` to never stop early. ``progress``: a tqdm bar on
    stderr; ``None`` shows one when stderr is a terminal and tqdm is installed.
    The loss may be a Python or NumPy number or a 0-d array/tensor of any framework."""
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable (lr -> loss), got {type(step_fn).__name__}")
    schedule = sweep(start_lr, end_lr, num_steps, mode)
    smooth = check_range("smooth", smooth, 0.0, 1.0, low_open=True)
    if not (isinstance(diverge, numbers.Real) and not isinstance(diverge, bool) and diverge > 1):
        raise ValueError(f"diverge must be a number > 1 (math.inf: never stop early), got {diverge!r}")
    rates = np.asarray(schedule(np.arange(int(num_steps))), dtype=np.float64)
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, stopped = _RunningAverage(smooth), math.inf, "completed"
    bar = _progress_bar(len(rates), progress)
    try:
        for i, lr in enumerate(rates.tolist()):
            loss = _as_float(step_fn(lr), i)
            losses.append(loss)
            value = average(loss)
            smoothed.append(value)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(lr=f"{lr:.3g}", loss=f"{value:.4g}", refresh=False)
            if not math.isfinite(loss):
                stopped = "non-finite"
                break
            best = min(best, value)
            if value > diverge * best:
                stopped = "diverged"
                break
    finally:
        if bar is not None:
            bar.close()
    count = len(losses)
    return RangeTestResult(rates[:count], np.array(losses), np.array(smoothed), stopped, schedule, int(num_steps),
                           smooth)


def _as_float(loss, step: int) -> float:
    try:
        value = loss.item() if hasattr(loss, "item") else loss
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"step_fn must return the loss as a number (a float or a 0-d array/tensor), got "
            f"{type(loss).__name__} {loss!r} at step {step}"
        ) from None


def _progress_bar(total: int, progress: bool | None):
    if progress is False:
        return None
    if progress is None and not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            import warnings

            warnings.warn("progress=True needs tqdm (pip install tqdm); running without a progress bar",
                          stacklevel=3)
        return None
    return tqdm(total=total, desc="range test", unit="step", leave=False, file=sys.stderr)


# -- suggestions -----------------------------------------------------------------------------


def _steepest(log_lr: np.ndarray, loss: np.ndarray) -> int:
    """Where the loss falls fastest per decade of rate: ``argmin d loss / d log lr``
    (central differences, one-sided at the ends; torch-lr-finder and fastai's ``steep``)."""
    return int(np.argmin(np.gradient(loss, log_lr)))


def _minimum(loss: np.ndarray) -> int:
    return int(np.argmin(loss))


def _valley(loss: np.ndarray) -> int:
    """fastai's ``valley``: with ``lds[i]`` the length of the longest strictly decreasing
    subsequence ending at ``i`` and ``end`` the first index of the longest, ``start = end -
    lds[end]`` and the answer ``start + int(d / 3) + int(d / 6)``, ``d = end - start``
    (about half-way; fastai's index arithmetic, kept so that the rule means the same)."""
    lds = np.ones(len(loss), dtype=np.int64)
    for i in range(1, len(loss)):
        above = lds[:i][loss[:i] > loss[i]]
        if len(above):
            lds[i] = above.max() + 1
    end = int(np.argmax(lds))
    start = end - int(lds[end])
    sections = (end - start) / 3
    return max(start + int(sections) + int(sections / 2), 0)


class _RunningAverage:
    """fastai's ``AvgSmoothLoss``: ``a_i = (1 - smooth) * a_{i-1} + smooth * loss_i`` (``a_-1 = 0``)
    debiased, ``a_i / (1 - (1 - smooth)^(i + 1))``; computed as the weighted mean it is,
    ``s_i = s_{i-1} + w_i (loss_i - s_{i-1})`` with ``w_i = smooth / (1 - (1 - smooth)^(i + 1))``,
    so that ``s_0 = loss_0`` and ``smooth = 1`` give the losses exactly."""

    def __init__(self, smooth: float):
        self.smooth, self.count, self.value = smooth, 0, 0.0

    def __call__(self, loss: float) -> float:
        self.count += 1
        weight = self.smooth / -math.expm1(self.count * math.log1p(-self.smooth)) if self.smooth < 1 else 1.0
        self.value = loss if self.count == 1 else self.value + weight * (loss - self.value)
        return self.value


def _zero_lag(values: np.ndarray, smooth: float) -> np.ndarray:
    """The running average run forwards, then backwards over the result: a smoothing centred on
    each step, where the forward average alone trails the loss by about ``1 / smooth`` steps."""
    def run(x):
        average = _RunningAverage(smooth)
        return np.array([average(v) for v in x.tolist()])

    return run(run(values)[::-1])[::-1]


@dataclass(frozen=True, eq=False, repr=False)
class RangeTestResult:
    """What a range test recorded: the rate of each step run (``rates``), its loss (``losses``),
    the running average (``smoothed``) that decided the stop, why it stopped (``stopped``, one of
    :data:`STOP_REASONS`), the sweep schedule, the planned number of steps and the smoothing weight.

    ``suggestions`` holds one rate per rule (:data:`RULES`), read off the finite part of the
    curve before the stop (see ``_window``) with the loss smoothed without lag
    (:attr:`rules_curve`): ``steepest`` is where the loss falls fastest per decade
    of rate (Smith's choice, torch-lr-finder's suggestion), ``minimum`` a tenth of the rate at the
    lowest loss, ``valley`` fastai's middle of the longest decreasing stretch. ``suggestion`` is
    the steepest rule's; ``spread`` says how far the rules disagree, in decades
    (``log10(max / min)``): a confidence measure.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped: str
    schedule: Schedule
    num_steps: int
    smooth: float
    suggestions: dict = field(init=False, compare=False)

    def __post_init__(self):
        check_choice("stopped", self.stopped, STOP_REASONS)
        for name in ("rates", "losses", "smoothed"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        if not len(self.rates) == len(self.losses) == len(self.smoothed):
            raise ValueError(
                f"rates, losses and smoothed must have one value per step, got lengths "
                f"{len(self.rates)}, {len(self.losses)} and {len(self.smoothed)}"
            )
        object.__setattr__(self, "suggestions", self._suggest())

    def __eq__(self, other):
        if not isinstance(other, RangeTestResult):
            return NotImplemented
        return (self.stopped, self.schedule, self.num_steps, self.smooth) == (
            other.stopped, other.schedule, other.num_steps, other.smooth) and all(
            np.array_equal(getattr(self, name), getattr(other, name), equal_nan=True)
            for name in ("rates", "losses", "smoothed"))

    __hash__ = None  # type: ignore[assignment]  # holds arrays: unhashable

    @property
    def steps_run(self) -> int:
        return len(self.rates)

    def _window(self) -> tuple[int, int]:
        """The steps the rules read: from ``num_steps // 10`` (fastai skips the start, where the
        first losses are noise) to the lowest point of the running average after it, which
        trails the loss by about ``1 / smooth`` steps, so the loss's own minimum and the start of
        its rise lie inside; never past a NaN/inf loss."""
        finite = np.isfinite(self.smoothed)
        end = len(finite) if finite.all() else int(np.argmin(finite))
        skip = self.num_steps // 10
        if end <= skip:
            return skip, skip
        return skip, skip + int(np.argmin(self.smoothed[skip:end])) + 1

    @property
    def rules_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rates, loss)``: the part of the curve the rules read, the loss smoothed without lag:
        the running average at weight ``min(2 smooth, 1)`` run forwards, then backwards (two
        passes at twice the weight smooth about as much as one pass at ``smooth``)."""
        skip, end = self._window()
        return self.rates[skip:end], _zero_lag(self.losses[:end], min(2.0 * self.smooth, 1.0))[skip:]

    def _suggest(self) -> dict:
        rates, loss = self.rules_curve
        if len(rates) < MIN_WINDOW:
            return dict.fromkeys(RULES)
        return {
            "steepest": float(rates[_steepest(np.log(rates), loss)]),
            "minimum": float(rates[_minimum(loss)] / 10.0),
            "valley": float(rates[_valley(loss)]),
        }

    @property
    def suggestion(self) -> float | None:
        """The steepest rule's rate (None when the test stopped too early to tell)."""
        return self.suggestions["steepest"]

    @property
    def spread(self) -> float | None:
        """How far the rules disagree: ``log10(max / min)`` of their suggestions, in decades
        (0: they agree; above 1: more than a factor of 10 apart, read the plot)."""
        values = [v for v in self.suggestions.values() if v is not None]
        return float(math.log10(max(values) / min(values))) if values else None

    def to_schedule(self, kind: str, total_steps: int, *, rule: str | None = None, **params) -> Schedule:
        """A schedule peaking at the suggestion (or at the rule ``rule``'s suggestion):

        * ``"one_cycle"``: ``one_cycle(max_lr=lr, total_steps=total_steps, **params)``;
        * ``"warmup_cosine"``: ``warmup_cosine_decay(init_value=0, peak_value=lr,
          warmup_steps=total_steps // 10, decay_steps=total_steps, **params)``.
        """
        check_choice("kind", kind, TARGETS)
        total_steps = check_int("total_steps", total_steps, 2)
        if rule is not None:
            check_choice("rule", rule, RULES)
        lr = self.suggestion if rule is None else self.suggestions[rule]
        if lr is None:
            raise ValueError(
                f"no suggestion to build a schedule from: the range test {self._stop_text()} after "
                f"{self.steps_run} of {self.num_steps} steps (run it from a lower start_lr?)"
            )
        if kind == "one_cycle":
            return OneCycle(**{"max_lr": lr, "total_steps": total_steps, **params})
        defaults = {"init_value": 0.0, "peak_value": lr, "warmup_steps": max(1, total_steps // 10),
                    "decay_steps": total_steps}
        return WarmupCosineDecay(**{**defaults, **params})

    def _stop_text(self) -> str:
        return {"completed": "completed", "diverged": "diverged",
                "non-finite": "met a NaN/inf loss"}[self.stopped]

    def __repr__(self) -> str:
        """One line: steps run, the rates swept, the stop, the suggestion (the arrays are not shown)."""
        swept = f"rates {self.rates[0]:.3g}..{self.rates[-1]:.3g}, " if self.steps_run else ""
        suggestion = "None" if self.suggestion is None else f"{self.suggestion:.4g}"
        return (f"<RangeTestResult: {self.steps_run} of {self.num_steps} steps, {swept}{self.stopped}, "
                f"suggestion {suggestion}>")

    def summary(self) -> str:
        """A few lines: the rates swept, why the test stopped, each rule's suggestion, the spread."""
        lines = [f"range test: {self.steps_run} of {self.num_steps} steps, rates "
                 f"{self.rates[0]:.3g} .. {self.rates[-1]:.3g}, {self._stop_text()}"
                 if self.steps_run else f"range test: no step run ({self.stopped})"]
        for rule, value in self.suggestions.items():
            lines.append(f"  {RULE_NAMES[rule]:<13} {'-' if value is None else format(value, '.4g')}")
        if self.suggestion is not None:
            lines.append(f"  suggestion    {self.suggestion:.4g} (steepest; the rules are {self.spread:.2f} decades apart)")
        else:
            lines.append("  no suggestion: too few steps before the stop")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready: the recorded curve, the stop reason, the sweep spec and the suggestions."""
        return {
            "schedule": repr(self.schedule), "num_steps": self.num_steps, "smooth": self.smooth,
            "stopped": self.stopped,
            "rates": self.rates.tolist(), "losses": [_json_number(v) for v in self.losses.tolist()],
            "smoothed": [_json_number(v) for v in self.smoothed.tolist()],
            "suggestions": self.suggestions, "suggestion": self.suggestion, "spread": self.spread,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RangeTestResult:
        """The result :meth:`to_dict` wrote (suggestions are recomputed from the curve)."""
        return cls(np.asarray(data["rates"], dtype=float), np.array([float(v) for v in data["losses"]]),
                   np.array([float(v) for v in data["smoothed"]]), data["stopped"], parse(data["schedule"]),
                   data["num_steps"], data["smooth"])

    def plot(self, path=None, *, ax=None, log_lr: bool = True, title: str | None = None,
             width: float = 7.5, height: float = 4.0, dpi: int = 100):
        """The loss against the rate (raw and smoothed) with a vertical line at each rule's
        suggestion. With ``path`` (``.png``/``.svg``/``.pdf``) writes the figure and returns the
        path; otherwise draws on ``ax`` (a new figure when None) and returns ``ax``."""
        from lrdecay.tools import plot as plotting

        if path is not None:
            path = plotting._check_path(path)
        fig = None
        if ax is None:
            fig, ax = plotting.new_figure(width, height)
        ax.plot(self.rates, self.losses, color="0.7", linewidth=0.9, label="loss (each step)")
        ax.plot(self.rates, self.smoothed, color="C0", linewidth=1.0, alpha=0.6,
                label="running average (decides the stop)")
        rates, centred = self.rules_curve
        ax.plot(rates, centred, color="C0", linewidth=2.2, label="centred average (the rules read it)")
        styles = {"steepest": ("C1", "--"), "minimum": ("C2", ":"), "valley": ("C3", "-.")}
        for rule, value in self.suggestions.items():
            if value is not None:
                color, style = styles[rule]
                ax.axvline(value, color=color, linestyle=style, linewidth=1.4, label=f"{RULE_NAMES[rule]}: {value:.3g}")
        shown = self.losses[: max(self._window()[1], 1)]
        shown = shown[np.isfinite(shown)]
        if len(shown):  # the curve up to where the rules stop reading; the diverging tail goes off the top
            low, high = shown.min(), shown.max()
            pad = 0.05 * max(high - low, abs(high) * 1e-3, 1e-12)
            ax.set_ylim(low - pad, high + pad)
        ax.set(xlabel="learning rate" + (" (log scale)" if log_lr else ""), ylabel="loss",
               title=title or f"range test ({self._stop_text()} after {self.steps_run} steps)")
        if log_lr:
            ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", frameon=False)
        if path is None:
            return ax
        if fig is None:
            fig = ax.figure
        return plotting.save(fig, path, dpi)


def _json_number(value: float):
    return value if math.isfinite(value) else str(value)

