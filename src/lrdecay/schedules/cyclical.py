"""One-cycle and cyclic schedules (PyTorch ``OneCycleLR``/``CyclicLR``, Optax one-cycle).

Step convention: ``t`` is PyTorch's ``last_epoch`` / Optax's ``count``: 0 on the first update.
"""

from __future__ import annotations

from dataclasses import dataclass

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_nonnegative,
    check_number,
    check_period,
    check_positive,
    check_range,
)
from lrdecay.schedules.shapes import anneal, interpolate_pieces

__all__ = [
    "OneCycle",
    "one_cycle",
    "OneCycleMomentum",
    "one_cycle_momentum",
    "Cyclic",
    "cyclic",
    "LinearOnecycle",
    "linear_onecycle",
    "CosineOnecycle",
    "cosine_onecycle",
]

ANNEAL_STRATEGIES = ("cos", "linear")
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def _phase_plan(s, values) -> tuple:
    """PyTorch ``OneCycleLR``'s phases as ``(start, end, from, to)``: phase ``k`` ends at
    ``pct_start * total - 1`` (three-phase: then ``2 * pct_start * total - 2``), the last at
    ``total - 1``, and anneals ``values[k]`` over it."""
    ends = [float(s.pct_start * s.total_steps) - 1]
    if s.three_phase:
        ends.append(float(2 * s.pct_start * s.total_steps) - 2)
    ends.append(s.total_steps - 1)
    starts = [0.0, *ends[:-1]]
    return tuple((a, b, *v) for a, b, v in zip(starts, ends, values))


def _phases(s, t, xp):
    """The phase walk of :func:`_phase_plan` (``s._plan``): ``t`` uses the first phase whose end
    is ``>= t`` (else the last). ``t`` is held at ``total - 1`` (PyTorch raises past
    ``total_steps``); a phase of length 0 gives its end value (PyTorch divides by zero)."""
    plan = s._plan
    t = xp.minimum(t, s.total_steps - 1)
    kind = "linear" if s.anneal_strategy == "linear" else "cosine"

    def phase(start, end, begin_value, end_value):
        if not end > start:
            return end_value
        return anneal(kind, begin_value, end_value, t - start, end - start, xp)

    if xp is MATH:  # a Python number: evaluate only its phase
        k = 0
        while k < len(plan) - 1 and t > plan[k][1]:
            k += 1
        return phase(*plan[k])
    out = phase(*plan[-1])
    for k in reversed(range(len(plan) - 1)):
        out = xp.where(t <= plan[k][1], phase(*plan[k]), out)
    return out


class _OneCyclePhases(Schedule):
    """Shared by the learning-rate and momentum curves of one-cycle: ``__post_init__`` sets
    ``_plan`` (see :func:`_phase_plan`); the walk and the duration are the same."""

    def _eval(self, t, xp):
        return _phases(self, t, xp)

    @property
    def duration(self):
        return self.total_steps


def _check_one_cycle(s):
    check_int("total_steps", s.total_steps, 1)
    check_range("pct_start", s.pct_start, 0, 1)
    check_choice("anneal_strategy", s.anneal_strategy, ANNEAL_STRATEGIES)
    check_bool("three_phase", s.three_phase)


@register
@dataclass(frozen=True, repr=False)
class OneCycle(_OneCyclePhases):
    """One cycle from ``max_lr / div_factor`` up to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then down to ``max_lr / div_factor / final_div_factor`` (three-phase: back
    to ``max_lr / div_factor`` first, over a phase as long as the rise), annealing by cosine or
    linearly; the final value holds from ``total_steps - 1`` on.

    Same as PyTorch's ``OneCycleLR`` for ``t <= total_steps - 1`` (PyTorch raises past
    ``total_steps`` and extrapolates the last phase at ``t == total_steps``). The momentum (or
    Adam ``beta1``) curve it schedules is :meth:`momentum`."""

    kind = "one_cycle"
    matches = "torch OneCycleLR"

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False

    def __post_init__(self):
        check_number("max_lr", self.max_lr)
        _check_one_cycle(self)
        check_positive("div_factor", self.div_factor)
        check_positive("final_div_factor", self.final_div_factor)
        initial = check_finite(f"max_lr / div_factor = {self.max_lr!r} / {self.div_factor!r}",
                               lambda: self.max_lr / self.div_factor)
        final = check_finite(f"the final value max_lr / div_factor / final_div_factor = {initial!r} / "
                             f"{self.final_div_factor!r}", lambda: initial / self.final_div_factor)
        if self.three_phase:
            values = [(initial, self.max_lr), (self.max_lr, initial), (initial, final)]
        else:
            values = [(initial, self.max_lr), (self.max_lr, final)]
        object.__setattr__(self, "_plan", _phase_plan(self, values))

    def momentum(self, base_momentum=0.85, max_momentum=0.95) -> OneCycleMomentum:
        """The momentum curve PyTorch's ``OneCycleLR(cycle_momentum=True)`` writes next to this
        learning rate (``momentum``, or ``betas[0]`` for Adam-like optimizers)."""
        return OneCycleMomentum(
            self.total_steps, self.pct_start, self.anneal_strategy, base_momentum,
            max_momentum, self.three_phase,
        )


@register
@dataclass(frozen=True, repr=False)
class OneCycleMomentum(_OneCyclePhases):
    """The momentum curve of PyTorch's ``OneCycleLR``: from ``max_momentum`` down to
    ``base_momentum`` while the learning rate rises, and back while it falls (three-phase: held
    at ``max_momentum`` in the last phase); same phases as :class:`OneCycle`."""

    kind = "one_cycle_momentum"
    matches = "torch OneCycleLR (cycle_momentum: momentum / betas[0])"

    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    three_phase: bool = False

    def __post_init__(self):
        _check_one_cycle(self)
        check_number("base_momentum", self.base_momentum)
        check_number("max_momentum", self.max_momentum)
        low, high = self.base_momentum, self.max_momentum
        values = [(high, low), (low, high)] + ([(high, high)] if self.three_phase else [])
        object.__setattr__(self, "_plan", _phase_plan(self, values))


@register
@dataclass(frozen=True, repr=False)
class Cyclic(Schedule):
    """Triangular cycles between ``base_lr`` and ``max_lr``: up over ``step_size_up`` steps,
    down over ``step_size_down`` (default: the same). The height is scaled by 1
    (``"triangular"``), by ``0.5 ** (cycle - 1)`` (``"triangular2"``, ``cycle`` counted from 1)
    or by ``gamma ** t`` (``"exp_range"``).

    Same as PyTorch's ``CyclicLR`` with its built-in modes; its momentum curve is
    :meth:`momentum`."""

    kind = "cyclic"
    matches = "torch CyclicLR"

    base_lr: float
    max_lr: float
    step_size_up: float = 2000
    step_size_down: float | None = None
    mode: str = "triangular"
    gamma: float = 1.0

    def __post_init__(self):
        check_number("base_lr", self.base_lr)
        check_number("max_lr", self.max_lr)
        check_period("step_size_up", self.step_size_up)
        if self.step_size_down is not None:
            check_nonnegative("step_size_down", self.step_size_down)
        check_choice("mode", self.mode, CYCLIC_MODES)
        check_range("gamma", self.gamma, 0, 1, low_open=True)

    def momentum(self, base_momentum=0.8, max_momentum=0.9) -> Cyclic:
        """The momentum curve PyTorch's ``CyclicLR(cycle_momentum=True)`` writes next to this
        learning rate: ``max_momentum - (max_momentum - base_momentum) * scale``, i.e. the same
        cycles from ``max_momentum`` towards ``base_momentum``."""
        return Cyclic(max_momentum, base_momentum, self.step_size_up, self.step_size_down,
                      self.mode, self.gamma)

    def _eval(self, t, xp):
        up = float(self.step_size_up)
        down = up if self.step_size_down is None else float(self.step_size_down)
        total = up + down
        ratio = up / total
        cycle = xp.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        scale = x / ratio
        if down:
            scale = xp.where(x <= ratio, scale, (x - 1) / (ratio - 1))
        height = (self.max_lr - self.base_lr) * scale
        if self.mode == "triangular2":
            height = height * xp.ipow(0.5, cycle - 1.0)
        elif self.mode == "exp_range":
            height = height * xp.pow(float(self.gamma), t)
        return self.base_lr + height


def _optax_boundaries(pairs):
    """Optax's one-cycle boundaries ``{int(pct * steps): scale, ...}``, sorted, as two lists
    (a later equal key wins, as in Optax's dict literal)."""
    table = {}
    for boundary, scale in pairs:
        table[int(boundary)] = scale
    items = sorted(table.items())
    return [b for b, _ in items], [s for _, s in items]


def _check_onecycle_common(s):
    check_int("transition_steps", s.transition_steps, 1)
    check_number("peak_value", s.peak_value)
    check_range("pct_start", s.pct_start, 0, 1)
    check_positive("div_factor", s.div_factor)
    check_positive("final_div_factor", s.final_div_factor)
    check_finite(f"peak_value / div_factor = {s.peak_value!r} / {s.div_factor!r}", lambda: s.peak_value / s.div_factor)
    check_finite(
        f"the final value peak_value / (div_factor * final_div_factor) = {s.peak_value!r} / "
        f"({s.div_factor!r} * {s.final_div_factor!r})",
        lambda: s.peak_value / (s.div_factor * s.final_div_factor),
    )


@register
@dataclass(frozen=True, repr=False)
class LinearOnecycle(Schedule):
    """Linear from ``peak_value / div_factor`` up to ``peak_value`` at
    ``int(pct_start * transition_steps)``, back to ``peak_value / div_factor`` at
    ``int(pct_final * transition_steps)``, then to ``peak_value / div_factor /
    final_div_factor`` at ``transition_steps``.

    Same as ``optax.linear_onecycle_schedule``."""

    kind = "linear_onecycle"
    matches = "optax.linear_onecycle_schedule"

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    pct_final: float = 0.85
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self):
        _check_onecycle_common(self)
        check_range("pct_final", self.pct_final, 0, 1)

    def _eval(self, t, xp):
        T = self.transition_steps
        boundaries, scales = _optax_boundaries(
            [(self.pct_start * T, self.div_factor), (self.pct_final * T, 1.0 / self.div_factor),
             (T, 1.0 / self.final_div_factor)],
        )
        init = self.peak_value / self.div_factor
        return interpolate_pieces(t, xp, "linear", init, boundaries, scales)

    @property
    def duration(self):
        return self.transition_steps


@register
@dataclass(frozen=True, repr=False)
class CosineOnecycle(Schedule):
    """Cosine from ``peak_value / div_factor`` up to ``peak_value`` at
    ``int(pct_start * transition_steps)``, then down to ``peak_value / (div_factor *
    final_div_factor)`` at ``transition_steps``.

    Same as ``optax.cosine_onecycle_schedule``."""

    kind = "cosine_onecycle"
    matches = "optax.cosine_onecycle_schedule"

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self):
        _check_onecycle_common(self)

    def _eval(self, t, xp):
        T = self.transition_steps
        boundaries, scales = _optax_boundaries(
            [(self.pct_start * T, self.div_factor),
             (T, 1.0 / (self.div_factor * self.final_div_factor))],
        )
        init = self.peak_value / self.div_factor
        return interpolate_pieces(t, xp, "cosine", init, boundaries, scales)

    @property
    def duration(self):
        return self.transition_steps


one_cycle = OneCycle
one_cycle_momentum = OneCycleMomentum
cyclic = Cyclic
linear_onecycle = LinearOnecycle
cosine_onecycle = CosineOnecycle
