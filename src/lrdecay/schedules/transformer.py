"""Schedules of the transformer era: inverse square root (Hugging Face), warmup-stable-decay
(Hugging Face, with Megatron's extra cool-down shape) and Megatron-LM's
``OptimizerParamScheduler`` learning rate.

Step convention: ``t`` is the ``current_step`` of Hugging Face's ``LambdaLR`` lambdas (0 on the
first update) and Megatron's ``num_steps`` (which Megatron counts in samples, not updates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_choice,
    check_int,
    check_nonnegative,
    check_number,
    check_period,
    check_positive,
    check_range,
)

__all__ = [
    "InverseSqrt",
    "inverse_sqrt",
    "WarmupStableDecay",
    "warmup_stable_decay",
    "MegatronLR",
    "megatron_lr",
    "MegatronWD",
    "megatron_wd",
]


@register
@dataclass(frozen=True, repr=False)
class InverseSqrt(Schedule):
    """``learning_rate * t / max(1, warmup_steps)`` during warm-up, then
    ``learning_rate / sqrt((t - warmup_steps + timescale) / timescale)``; ``timescale``
    defaults to ``warmup_steps`` (10000 when that is 0).

    Same as Hugging Face's ``get_inverse_sqrt_schedule``."""

    kind = "inverse_sqrt"
    matches = "transformers get_inverse_sqrt_schedule"

    learning_rate: float
    warmup_steps: float
    timescale: float | None = None

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_nonnegative("warmup_steps", self.warmup_steps)
        if self.timescale is not None:
            check_period("timescale", self.timescale)

    def _eval(self, t, xp):
        timescale = self.timescale
        if timescale is None:
            timescale = self.warmup_steps or 10_000
        ramp = t / max(1, self.warmup_steps)
        shift = timescale - self.warmup_steps
        decay = 1.0 / xp.sqrt((xp.maximum(t, self.warmup_steps) + shift) / timescale)
        return self.learning_rate * xp.where(t < self.warmup_steps, ramp, decay)


WARMUP_SHAPES = ("linear", "cosine", "1-sqrt")
DECAY_SHAPES = ("linear", "cosine", "1-sqrt", "exponential")


def _warmup_factor(shape, done, length, xp):
    """Hugging Face WSD warm-up shapes, rising from 0 to 1 as ``p = done / length`` goes from 0
    to 1: ``p``, ``(1 - cos(pi p)) / 2``, ``1 - sqrt(1 - p)`` (as ``p / (1 + sqrt(1 - p))``, with
    ``1 - p = (length - done) / length``: no cancellation near either end)."""
    if shape == "linear":
        return done / length
    if shape == "cosine":
        return xp.half_cosine(done, length, rising=True)
    return (done / length) / (1.0 + xp.sqrt((length - done) / length))


def _decay_factor(shape, done, length, xp):
    """Cool-down shapes, falling from 1 to 0 as ``p = done / length`` goes from 0 to 1: Hugging
    Face's linear ``1 - p``, cosine ``(1 + cos(pi p)) / 2`` and 1-sqrt ``1 - sqrt(p)``, and
    Megatron's exponential ``2 * 0.5 ** p - 1``, each computed from the remaining fraction
    ``(length - done) / length`` so that the last steps keep their digits."""
    if shape == "cosine":
        return xp.half_cosine(done, length)
    rest = (length - done) / length
    if shape == "linear":
        return rest
    if shape == "1-sqrt":
        return rest / (1.0 + xp.sqrt(done / length))
    return xp.expm1(rest * _LN2)  # 2 * 0.5 ** p - 1 = 2 ** (1 - p) - 1


_LN2 = math.log(2.0)


@register
@dataclass(frozen=True, repr=False)
class WarmupStableDecay(Schedule):
    """Warm-up, stable, decay (WSD) as factors of ``learning_rate``, with ``m = min_lr_ratio``:
    ``m + (1 - m) * warm(t / max(1, W))`` for ``t < W``; 1 for ``t < W + S``;
    ``m + (1 - m) * decay((t - W - S) / max(1, D))`` for ``t < W + S + D``; ``m`` after.
    Shapes: ``warmup_shape`` linear, cosine or 1-sqrt; ``decay_shape`` linear, cosine, 1-sqrt
    or exponential (Megatron's ``2 * 0.5 ** p - 1``).

    ``num_cycles`` (cosine decay only) makes the cosine ``(1 + cos(2 pi num_cycles p)) / 2``.
    Same as Hugging Face's ``get_wsd_schedule`` (including ``num_cycles``; note the warm-up starts
    at ``m``, not 0). Build it from a total and fractions with :meth:`from_fractions`, or from a
    total and phase lengths with :meth:`from_total`."""

    kind = "warmup_stable_decay"
    matches = "transformers get_wsd_schedule"

    learning_rate: float
    warmup_steps: float
    stable_steps: float
    decay_steps: float
    min_lr_ratio: float = 0.0
    decay_shape: str = "linear"
    warmup_shape: str = "linear"
    num_cycles: float = 0.5

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_nonnegative("stable_steps", self.stable_steps)
        check_nonnegative("decay_steps", self.decay_steps)
        check_range("min_lr_ratio", self.min_lr_ratio, 0, 1)
        check_choice("decay_shape", self.decay_shape, DECAY_SHAPES)
        check_choice("warmup_shape", self.warmup_shape, WARMUP_SHAPES)
        check_number("num_cycles", self.num_cycles)
        if self.num_cycles != 0.5 and self.decay_shape != "cosine":
            raise ValueError(
                f'num_cycles only applies to decay_shape="cosine", got num_cycles={self.num_cycles!r} '
                f"with decay_shape={self.decay_shape!r}"
            )

    @classmethod
    def from_total(cls, learning_rate, total_steps, warmup_steps, decay_steps, stable_steps=None,
                   **options):
        """Phases in steps; ``stable_steps`` defaults to what is left of ``total_steps``.
        Raises ``ValueError`` when the phases don't add up to ``total_steps``."""
        total_steps = check_nonnegative("total_steps", total_steps)
        warmup_steps = check_nonnegative("warmup_steps", warmup_steps)
        decay_steps = check_nonnegative("decay_steps", decay_steps)
        if stable_steps is None:
            stable_steps = total_steps - warmup_steps - decay_steps
            if stable_steps < 0:
                raise ValueError(
                    f"warmup_steps + decay_steps must be <= total_steps, got {warmup_steps!r} + "
                    f"{decay_steps!r} > {total_steps!r}"
                )
        elif warmup_steps + check_nonnegative("stable_steps", stable_steps) + decay_steps != total_steps:
            raise ValueError(
                f"warmup_steps + stable_steps + decay_steps must equal total_steps, got "
                f"{warmup_steps!r} + {stable_steps!r} + {decay_steps!r} != {total_steps!r}"
            )
        return cls(learning_rate, warmup_steps, stable_steps, decay_steps, **options)

    @classmethod
    def from_fractions(cls, learning_rate, total_steps, warmup, decay, stable=None, **options):
        """Phases as fractions of ``total_steps`` (``stable`` defaults to ``1 - warmup -
        decay``); warm-up and decay are rounded to whole steps and the stable phase takes the
        rest, so the phases add up to ``total_steps`` exactly. Raises ``ValueError`` when the
        fractions don't add up to 1."""
        total_steps = check_int("total_steps", total_steps, 1)
        warmup = check_range("warmup", warmup, 0, 1)
        decay = check_range("decay", decay, 0, 1)
        if stable is None:
            stable = 1.0 - warmup - decay
            if stable < -1e-12:
                raise ValueError(f"warmup + decay must be <= 1, got {warmup!r} + {decay!r}")
        elif abs(warmup + check_range("stable", stable, 0, 1) + decay - 1.0) > 1e-9:
            raise ValueError(
                f"warmup + stable + decay must be 1, got {warmup!r} + {stable!r} + {decay!r} "
                f"= {warmup + stable + decay!r}"
            )
        warmup_steps = round(warmup * total_steps)
        decay_steps = min(round(decay * total_steps), total_steps - warmup_steps)
        return cls(learning_rate, warmup_steps, total_steps - warmup_steps - decay_steps,
                   decay_steps, **options)

    def _eval(self, t, xp):
        m = self.min_lr_ratio
        w, s, d = self.warmup_steps, self.stable_steps, self.decay_steps
        rise = _warmup_factor(self.warmup_shape, xp.minimum(t, w), max(1, w), xp)
        done = xp.clip(t - w - s, 0.0, max(1, d))
        if self.num_cycles != 0.5:  # Hugging Face: cos(pi * num_cycles * 2 * progress)
            done = done * (2.0 * self.num_cycles)
        fall = _decay_factor(self.decay_shape, done, max(1, d), xp)
        factor = xp.where(
            t < w,
            xp.maximum(rise * (1.0 - m) + m, 0.0),
            xp.where(t < w + s, 1.0, xp.where(t < w + s + d, xp.maximum(fall * (1.0 - m) + m, 0.0), m)),
        )
        return self.learning_rate * factor

    @property
    def duration(self):
        return self.warmup_steps + self.stable_steps + self.decay_steps


MEGATRON_STYLES = ("linear", "cosine", "inverse-square-root", "constant", "WSD")
MEGATRON_WSD_STYLES = ("linear", "cosine", "exponential", "minus_sqrt")


@register
@dataclass(frozen=True, repr=False)
class MegatronLR(Schedule):
    """Megatron-LM's learning rate: ``init_lr + (max_lr - init_lr) * t / W`` for
    ``t <= W = warmup_steps`` (when ``W > 0``); then by ``decay_style``: ``"constant"``
    ``max_lr``; past ``decay_steps`` ``min_lr``; ``"inverse-square-root"``
    ``max(min_lr, max_lr * sqrt(max(W, 1)) / sqrt(max(t, 1)))``; otherwise
    ``min_lr + c * (max_lr - min_lr)`` with ``c = 1 - r`` (linear) or ``(cos(pi r) + 1) / 2``
    (cosine), ``r = (t - W) / (decay_steps - W)``; ``"WSD"`` keeps ``c = 1`` until the last
    ``wsd_decay_steps`` and then cools down by ``wsd_decay_style`` (linear, cosine,
    exponential ``2 * 0.5 ** r - 1``, minus_sqrt ``1 - sqrt(r)``).

    Same as ``megatron.core.optimizer_param_scheduler.OptimizerParamScheduler.get_lr``."""

    kind = "megatron_lr"
    matches = "Megatron-LM OptimizerParamScheduler (lr)"

    max_lr: float
    decay_steps: float
    min_lr: float = 0.0
    warmup_steps: float = 0
    init_lr: float = 0.0
    decay_style: str = "linear"
    wsd_decay_steps: float | None = None
    wsd_decay_style: str = "exponential"

    def __post_init__(self):
        check_nonnegative("min_lr", self.min_lr)
        check_number("max_lr", self.max_lr)
        if not self.max_lr >= self.min_lr:
            raise ValueError(f"max_lr must be >= min_lr, got {self.max_lr!r} < {self.min_lr!r}")
        check_number("init_lr", self.init_lr)
        if not self.init_lr <= self.max_lr:
            raise ValueError(f"init_lr must be <= max_lr, got {self.init_lr!r} > {self.max_lr!r}")
        check_period("decay_steps", self.decay_steps)
        check_nonnegative("warmup_steps", self.warmup_steps)
        if not self.warmup_steps < self.decay_steps:
            raise ValueError(
                f"warmup_steps must be < decay_steps, got {self.warmup_steps!r} >= "
                f"{self.decay_steps!r}"
            )
        check_choice("decay_style", self.decay_style, MEGATRON_STYLES)
        check_choice("wsd_decay_style", self.wsd_decay_style, MEGATRON_WSD_STYLES)
        if self.decay_style == "WSD":
            if self.wsd_decay_steps is None:
                raise ValueError('decay_style="WSD" needs wsd_decay_steps')
            check_range("wsd_decay_steps", self.wsd_decay_steps, 0, self.decay_steps, low_open=True)
        elif self.wsd_decay_steps is not None:
            raise ValueError(
                f'wsd_decay_steps is only used with decay_style="WSD", got '
                f"decay_style={self.decay_style!r}"
            )

    def _coefficient(self, t, xp):
        w, d = self.warmup_steps, self.decay_steps
        if self.decay_style == "WSD":
            anneal_start = d - self.wsd_decay_steps
            done = xp.clip(t - anneal_start, 0.0, self.wsd_decay_steps)
            style = {"minus_sqrt": "1-sqrt"}.get(self.wsd_decay_style, self.wsd_decay_style)
            return xp.where(t <= anneal_start, 1.0, _decay_factor(style, done, self.wsd_decay_steps, xp))
        return _decay_factor(self.decay_style, xp.clip(t - w, 0.0, d - w), d - w, xp)

    def _eval(self, t, xp):
        if self.decay_style == "constant":
            lr = self.max_lr
        elif self.decay_style == "inverse-square-root":
            lr = xp.maximum(
                self.max_lr * (max(self.warmup_steps, 1) ** 0.5) / xp.sqrt(xp.maximum(t, 1.0)),
                self.min_lr,
            )
        else:
            lr = self.min_lr + self._coefficient(t, xp) * (self.max_lr - self.min_lr)
        if self.decay_style != "constant":
            lr = xp.where(t > self.decay_steps, self.min_lr, lr)
        if self.warmup_steps > 0:
            ramp = self.init_lr + (self.max_lr - self.init_lr) * t / self.warmup_steps
            lr = xp.where(t <= self.warmup_steps, ramp, lr)
        return lr

    @property
    def duration(self):
        if self.decay_style == "constant":
            return self.warmup_steps
        if self.decay_style == "inverse-square-root":
            return self.decay_steps + 1
        return self.decay_steps


WD_STYLES = ("constant", "linear", "cosine")


@register
@dataclass(frozen=True, repr=False)
class MegatronWD(Schedule):
    """Megatron-LM's weight-decay increment: ``start_wd + c * (end_wd - start_wd)`` with
    ``r = t / wd_incr_steps`` and ``c = r`` (``"linear"``) or ``(cos(pi (1 - r)) + 1) / 2``
    (``"cosine"``); ``end_wd`` for ``t > wd_incr_steps`` and for ``"constant"`` (which needs
    ``start_wd == end_wd``).

    Same as ``OptimizerParamScheduler.get_wd`` in Megatron-LM
    (``megatron/core/optimizer_param_scheduler.py``), which counts ``t`` in samples; its checks:
    ``start_wd >= 0``, ``end_wd >= start_wd``."""

    kind = "megatron_wd"
    matches = "Megatron-LM OptimizerParamScheduler (weight decay)"

    start_wd: float
    end_wd: float
    wd_incr_steps: float
    wd_incr_style: str = "linear"

    def __post_init__(self):
        check_nonnegative("start_wd", self.start_wd)
        check_number("end_wd", self.end_wd)
        if not self.end_wd >= self.start_wd:
            raise ValueError(f"end_wd must be >= start_wd, got end_wd={self.end_wd!r} < start_wd={self.start_wd!r}")
        check_positive("wd_incr_steps", self.wd_incr_steps)
        check_choice("wd_incr_style", self.wd_incr_style, WD_STYLES)
        if self.wd_incr_style == "constant" and self.start_wd != self.end_wd:
            raise ValueError(
                f'wd_incr_style="constant" needs start_wd == end_wd, got {self.start_wd!r} and {self.end_wd!r}'
            )

    def _eval(self, t, xp):
        if self.wd_incr_style == "constant":
            return self.end_wd
        if self.wd_incr_style == "linear":
            r = xp.minimum(t / self.wd_incr_steps, 1.0)
            value = self.start_wd + r * (self.end_wd - self.start_wd)
        else:  # (cos(pi (1 - r)) + 1) / 2 is the rising half cosine: without cancellation at r = 0
            done = xp.minimum(t, self.wd_incr_steps)
            value = (self.start_wd * xp.half_cosine(done, self.wd_incr_steps)
                     + self.end_wd * xp.half_cosine(done, self.wd_incr_steps, rising=True))
        return xp.where(t > self.wd_incr_steps, self.end_wd, value)

    @property
    def duration(self):
        return 0 if self.wd_incr_style == "constant" else self.wd_incr_steps


inverse_sqrt = InverseSqrt
warmup_stable_decay = WarmupStableDecay
megatron_lr = MegatronLR
megatron_wd = MegatronWD
