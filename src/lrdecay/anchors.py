"""The remaining anchors' schedules: timm's ``PolyLRScheduler``, PyTorch's ``SWALR``, Keras'
``CosineDecay`` with its warm-up, and Megatron-LM's weight-decay increment.

Step convention: ``t`` is the count each framework passes or keeps (timm's ``t``, PyTorch's
``last_epoch``, Keras' ``iterations``, Megatron's ``num_steps``, which counts samples): 0 on the
first update.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validate import check_choice, check_int, check_nonnegative, check_number, check_positive
from .annealing import _TimmCycles
from .schedule import Schedule, register

__all__ = [
    "TimmPoly",
    "timm_poly",
    "SWALR",
    "swalr",
    "CosineDecayWarmup",
    "cosine_decay_warmup",
    "MegatronWD",
    "megatron_wd",
]


@register
@dataclass(frozen=True, repr=False)
class TimmPoly(_TimmCycles, Schedule):
    """timm's polynomial decay with restarts: in cycle ``i`` (lengths ``t_initial *
    cycle_mul**i``), ``lr_min + (lr_max - lr_min) * (1 - (t_curr / t_i)**k_decay)**power`` with
    ``lr_max = learning_rate * cycle_decay**i``; ``lr_min`` once ``i >= cycle_limit``; warm-up
    from ``warmup_lr_init`` for ``t < warmup_t`` as in :class:`~lrdecay.TimmCosine`.

    Same as ``timm.scheduler.PolyLRScheduler`` without noise (wrap it in
    :func:`~lrdecay.timm_noise` for timm's ``noise_*``), with an exact cycle index on restarts."""

    kind = "timm_poly"
    matches = "timm PolyLRScheduler"

    learning_rate: float
    t_initial: float
    power: float = 0.5
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: float = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    k_decay: float = 1.0

    def __post_init__(self):
        self._check_cycles()
        check_nonnegative("power", self.power)
        check_positive("k_decay", self.k_decay)

    def _curve(self, offset, length, lr_max, xp):
        remaining = 1.0 - xp.pow(offset / length, float(self.k_decay))
        return self.lr_min + (lr_max - self.lr_min) * xp.pow(remaining, float(self.power))


SWA_STRATEGIES = ("cos", "linear")


@register
@dataclass(frozen=True, repr=False)
class SWALR(Schedule):
    """Anneal from ``start`` to ``swa_lr`` over ``anneal_epochs`` steps, then hold ``swa_lr``:
    ``swa_lr * a + start * (1 - a)`` with ``a = f(min(t / max(1, anneal_epochs), 1))``,
    ``f(p) = (1 - cos(pi p)) / 2`` (``"cos"``) or ``p`` (``"linear"``); ``anneal_epochs=0``
    gives ``swa_lr`` from step 0.

    Same as ``torch.optim.swa_utils.SWALR``, whose recursive ``get_lr`` recovers, at every step,
    the rate the group had when SWALR took over: that rate is ``start`` here. To anneal from the
    rate another schedule has reached, use :meth:`after` (the SWA phase starts from that
    schedule's value at the switch step, so there is no jump)."""

    kind = "swalr"
    matches = "torch.optim.swa_utils.SWALR"

    start: float
    swa_lr: float
    anneal_epochs: int = 10
    anneal_strategy: str = "cos"

    def __post_init__(self):
        check_number("start", self.start)
        check_number("swa_lr", self.swa_lr)
        check_int("anneal_epochs", self.anneal_epochs, 0)
        check_choice("anneal_strategy", self.anneal_strategy, SWA_STRATEGIES)

    @classmethod
    def after(cls, schedule: Schedule, swa_start, swa_lr, anneal_epochs=10, anneal_strategy="cos"):
        """``schedule`` until step ``swa_start``, then SWALR from ``schedule(swa_start)`` (the
        current rate) to ``swa_lr``: ``join([schedule, swalr(...)], [swa_start])``."""
        from .compose import Join

        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a schedule, got {type(schedule).__name__} {schedule!r}")
        swa_start = check_nonnegative("swa_start", swa_start)
        swa = cls(schedule(swa_start), swa_lr, anneal_epochs, anneal_strategy)
        return Join((schedule, swa), (swa_start,))

    def _eval(self, t, xp):
        length = max(1, self.anneal_epochs)  # p = done / length = min(t / max(1, E), 1); 1 when E = 0
        done = xp.minimum(t, length) if self.anneal_epochs else 1.0 + 0.0 * t
        if self.anneal_strategy == "linear":
            p = done / length
            return self.swa_lr * p + self.start * (1.0 - p)
        # (1 - cos(pi p)) / 2 and its complement, each without cancellation (Backend.half_cosine)
        return self.swa_lr * xp.half_cosine(done, length, rising=True) + self.start * xp.half_cosine(done, length)

    @property
    def duration(self):
        return self.anneal_epochs


@register
@dataclass(frozen=True, repr=False)
class CosineDecayWarmup(Schedule):
    """Keras' cosine decay with warm-up: ``learning_rate + (warmup_target - learning_rate) *
    t / warmup_steps`` for ``t < warmup_steps``, then ``warmup_target * ((1 - alpha) * c +
    alpha)`` with ``c = (1 + cos(pi * min(t - warmup_steps, decay_steps) / decay_steps)) / 2``.

    Same as ``keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha,
    warmup_target=..., warmup_steps=...)`` (``decay_steps`` counts after the warm-up); without a
    warm-up target use :class:`~lrdecay.CosineDecay`."""

    kind = "cosine_decay_warmup"
    matches = "keras CosineDecay(warmup_target, warmup_steps)"

    learning_rate: float
    decay_steps: float
    warmup_target: float
    warmup_steps: float
    alpha: float = 0.0

    def __post_init__(self):
        check_number("learning_rate", self.learning_rate)
        check_positive("decay_steps", self.decay_steps)
        check_number("warmup_target", self.warmup_target)
        check_nonnegative("warmup_steps", self.warmup_steps)
        check_number("alpha", self.alpha)

    def _eval(self, t, xp):
        w = self.warmup_steps
        t = xp.minimum(t, self.decay_steps + w)
        ramp = (self.warmup_target - self.learning_rate) * (t / max(w, 1)) + self.learning_rate
        cosine = xp.half_cosine(xp.maximum(t - w, 0.0), self.decay_steps)
        decayed = self.warmup_target * ((1 - self.alpha) * cosine + self.alpha)
        return xp.where(t < w, ramp, decayed)

    @property
    def duration(self):
        return self.warmup_steps + self.decay_steps


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
        r = xp.minimum(t / self.wd_incr_steps, 1.0)
        coeff = r if self.wd_incr_style == "linear" else 0.5 * (xp.cos(xp.pi * (1 - r)) + 1.0)
        value = self.start_wd + coeff * (self.end_wd - self.start_wd)
        return xp.where(t > self.wd_incr_steps, self.end_wd, value)

    @property
    def duration(self):
        return 0 if self.wd_incr_style == "constant" else self.wd_incr_steps


timm_poly = TimmPoly
swalr = SWALR
cosine_decay_warmup = CosineDecayWarmup
megatron_wd = MegatronWD
