"""Metric-driven reduction: a Plateau controller whose factor multiplies any schedule.

``Plateau`` watches a metric (a validation loss, an accuracy) and keeps a multiplicative
``factor``, 1.0 at the start, multiplied by ``factor`` at each reduction. The learning rate of a
run is ``plateau.effective(schedule(step))`` = ``max(schedule(step) * plateau.factor, min_lr)``
once a reduction has happened (``schedule(step)`` before), so it composes with warm-up, cosine,
WSD or any other schedule.

Two counting rules:

* ``rule="torch"``: ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (reduce when the number of bad
  epochs exceeds ``patience``; a reduction that would lower a group's lr by ``eps`` or less is
  skipped for that group).
* ``rule="keras"``: ``keras.callbacks.ReduceLROnPlateau`` (reduce when it reaches ``patience``;
  the cooldown counter is decremented before the improvement test; ``threshold`` is Keras's
  ``min_delta``, compared in float32 like Keras; no reduction while the lr is at ``min_lr``).

With a constant schedule of value ``lr`` both reproduce the framework's learning rates:
``lr * factor`` (floored at ``min_lr``) after every metric.

Param groups: like torch's, one plateau drives several learning rates (one per param group).
The counters are shared; each group keeps its own factor (``plateau.factors``), because torch's
``eps`` test and a per-group ``min_lr`` list decide for each group whether a reduction applies.
"""

from __future__ import annotations

import copy
import math
import numbers
import sys
import warnings

import numpy as np

from lrdecay.core.backends import get_backend
from lrdecay.core.spec import as_schedule, is_spec
from lrdecay.core.validate import (
    check_choice,
    check_int,
    check_nonnegative,
    check_number,
    check_numbers,
    check_range,
)

__all__ = ["Plateau", "simulate"]

_MODES = ("min", "max")
_RULES = ("torch", "keras")
_THRESHOLD_MODES = ("rel", "abs", "rel_magnitude")
_NAN_POLICIES = ("ignore", "bad_epoch", "raise")
_SYNCS = ("mean", "min", "max", "rank0", "none")
_STATE_KEYS = ("best", "num_bad_epochs", "cooldown_counter", "factors", "num_reductions", "num_metrics")


class Plateau:
    """Reduce-on-plateau as a factor: ``update(metric)`` -> the factor to multiply the lr by.

    Parameters (torch's names and defaults):

    - ``mode``: ``"min"`` (the metric should fall) or ``"max"`` (it should rise).
    - ``factor``: multiplier applied at each reduction, ``0 < factor < 1``.
    - ``patience``: bad metrics tolerated before a reduction (torch: reduce when the count
      exceeds it; keras: when it reaches it, so keras ``patience=p`` is torch ``p - 1``).
    - ``threshold``, ``threshold_mode``: what counts as an improvement over ``best``. In mode min
      (mode max mirrors it), ``"rel"``: ``metric < best * (1 - threshold)`` (torch; assumes a
      positive metric: with a negative best a slightly worse value counts as better);
      ``"abs"``: ``metric < best - threshold``; ``"rel_magnitude"``: ``metric < best -
      threshold * |best|``, sign-robust, for losses that go negative. Default: ``"rel"`` with
      rule torch, ``"abs"`` with rule keras (Keras's ``min_delta``).
    - ``cooldown``: metrics to skip after a reduction (keras counts one fewer, as Keras does).
    - ``min_lr``: absolute floor on the effective learning rate, once a reduction has happened;
      a list gives one floor per param group (torch's ``min_lr`` list).
    - ``eps``: rule torch skips, for a group, a reduction that lowers its lr by ``eps`` or less
      (needs ``value`` in :meth:`update`).
    - ``rule``: ``"torch"`` or ``"keras"`` counting rules (see the module docstring).
    - ``nan_policy``: a NaN or infinite metric is ``"ignore"``-d with a warning (no counter
      moves), counted as a ``"bad_epoch"`` (never an improvement), or ``"raise"``-s ValueError.
    - ``sync``: with ``torch.distributed`` initialized, the metric is reduced across processes
      before the decision: ``"mean"``, ``"min"``, ``"max"``, ``"rank0"`` (rank 0's metric), or
      ``"none"`` (each process decides alone).
    """

    def __init__(self, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode=None,
                 cooldown=0, min_lr=0.0, eps=1e-8, rule="torch", nan_policy="ignore", sync="mean"):
        self.rule = check_choice("rule", rule, _RULES)
        self.mode = check_choice("mode", mode, _MODES)
        self.factor_per_reduction = check_range("factor", factor, 0, 1, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, minimum=0)
        if threshold_mode is None:
            threshold_mode = "abs" if rule == "keras" else "rel"
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, _THRESHOLD_MODES)
        if threshold_mode == "abs":
            self.threshold = check_nonnegative("threshold", threshold)
        else:  # a relative threshold of 1 or more makes every metric a non-improvement
            self.threshold = check_range("threshold", threshold, 0, 1, high_open=True)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        if isinstance(min_lr, (list, tuple)):
            if not min_lr:
                raise ValueError("min_lr must be a number or a non-empty list (one per param group), got []")
            self.min_lr = tuple(float(v) for v in check_numbers("min_lr", min_lr, check_nonnegative))
        else:
            self.min_lr = float(check_nonnegative("min_lr", min_lr))
        self.eps = float(check_nonnegative("eps", eps))
        self.nan_policy = check_choice("nan_policy", nan_policy, _NAN_POLICIES)
        self.sync = check_choice("sync", sync, _SYNCS)
        self.reset()

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: factor 1, no best value, every counter 0."""
        self.reset_counters()
        self.factors = [1.0] * self.num_groups
        self.num_reductions = 0
        self.num_metrics = 0

    def reset_counters(self) -> None:
        """Forget the best value and the bad-epoch and cooldown counters; the factors stay
        (what Keras's ReduceLROnPlateau does at the start of each ``fit``)."""
        self.best = None
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    @property
    def num_groups(self) -> int:
        """How many learning rates (param groups) the plateau keeps a factor for: the length of
        a ``min_lr`` list, else 1 until :meth:`update` is given a list of values."""
        if isinstance(self.min_lr, tuple):
            return len(self.min_lr)
        return len(getattr(self, "factors", ())) or 1

    @property
    def factor(self) -> float:
        """The current factor of the first group (of every group, unless ``eps`` or a ``min_lr``
        list made them differ: see :attr:`factors`)."""
        return self.factors[0]

    def state_dict(self) -> dict:
        """Every counter, as plain Python data (``best`` is None before the first metric,
        ``factors`` has one entry per group)."""
        state = {key: getattr(self, key) for key in _STATE_KEYS}
        state["factors"] = list(self.factors)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore the counters saved by :meth:`state_dict`; the run continues identically.
        A field that is missing, of the wrong type or out of range is refused, naming it."""
        if not isinstance(state, dict):
            raise TypeError(f"Plateau state must be a dict, got {type(state).__name__}")
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"Plateau state is missing {', '.join(missing)}")
        unknown = sorted(map(str, set(state) - set(_STATE_KEYS)))
        if unknown:
            raise ValueError(f"Plateau state has unknown fields {', '.join(unknown)} "
                             f"(expected {', '.join(_STATE_KEYS)})")
        best = state["best"]
        if best is not None:
            best = _finite("Plateau state best", best)
        factors = state["factors"]
        if not isinstance(factors, (list, tuple)) or not factors:
            raise TypeError(f"Plateau state factors must be a non-empty list of numbers, got {factors!r}")
        # a zero factor would silence the learning rate for good; update() never produces one
        factors = [float(check_range(f"Plateau state factors[{i}]", f, 0, 1, low_open=True))
                   for i, f in enumerate(factors)]
        if isinstance(self.min_lr, tuple) and len(factors) != len(self.min_lr):
            raise ValueError(f"Plateau state factors has {len(factors)} entries, min_lr {len(self.min_lr)} "
                             "(one per param group)")
        counters = {key: check_int(f"Plateau state {key}", state[key], minimum=0)
                    for key in ("num_bad_epochs", "cooldown_counter", "num_reductions", "num_metrics")}
        self.best, self.factors = best, factors
        for key, value in counters.items():
            setattr(self, key, value)

    # -- configuration ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The configuration (not the counters), JSON-able; ``Plateau.from_dict`` rebuilds it."""
        return {
            "kind": "plateau", "mode": self.mode, "factor": self.factor_per_reduction,
            "patience": self.patience, "threshold": self.threshold,
            "threshold_mode": self.threshold_mode, "cooldown": self.cooldown,
            "min_lr": list(self.min_lr) if isinstance(self.min_lr, tuple) else self.min_lr,
            "eps": self.eps, "rule": self.rule,
            "nan_policy": self.nan_policy, "sync": self.sync,
        }

    @classmethod
    def from_dict(cls, config: dict) -> Plateau:
        config = dict(config)
        kind = config.pop("kind", "plateau")
        if kind != "plateau":
            raise ValueError(f"kind must be 'plateau', got {kind!r}")
        return cls(**config)

    def __repr__(self) -> str:
        """The call that builds this configuration; parameters left at their default are omitted."""
        config, defaults = self.to_dict(), Plateau(rule=self.rule).to_dict()
        defaults["rule"] = "torch"
        parts = [f"{k}={v!r}" for k, v in config.items() if k != "kind" and v != defaults[k]]
        return f"Plateau({', '.join(parts)})"

    def __eq__(self, other):
        if not isinstance(other, Plateau):
            return NotImplemented
        return self.to_dict() == other.to_dict() and self.state_dict() == other.state_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable

    # -- the learning rate ------------------------------------------------------------------

    def effective(self, value, xp=None, group=0):
        """The learning rate to apply to param group ``group``: ``max(value * factor, min_lr)``
        once a reduction has happened to it, else ``value`` (a Python float, NumPy array or
        framework tensor)."""
        factors = self.factors
        factor = factors[group] if len(factors) > 1 else factors[0]  # one factor: every group's
        if factor == 1.0:  # factor_per_reduction < 1: a reduced group's factor is < 1
            return value
        if xp is None:
            xp = get_backend(value)
        return xp.maximum(value * factor, self._min_lr(group))

    def _min_lr(self, group):
        return self.min_lr[group] if isinstance(self.min_lr, tuple) else self.min_lr

    # -- the decision -----------------------------------------------------------------------

    def update(self, metric, value=None) -> float:
        """See one metric; returns the new factor (of the first group).

        ``metric``: a number or a 0-d array/tensor. ``value``: the un-factored schedule value
        the decision applies to, or a list of them, one per param group (used by torch's
        ``eps`` rule and by keras's "no reduction at ``min_lr``" rule; without it every
        reduction that is due happens)."""
        current = self._synced(_scalar("metric", metric))
        values = self._group_values(value)
        if not math.isfinite(current):
            if self.nan_policy == "raise":
                raise ValueError(f"metric must be finite, got {current!r} (nan_policy='raise')")
            if self.nan_policy == "ignore":
                warnings.warn(f"Plateau ignores the metric {current!r} (nan_policy='ignore')",
                              RuntimeWarning, stacklevel=2)
                return self.factor
        self.num_metrics += 1
        if self.rule == "torch":
            self._torch_step(current, values)
        else:
            self._keras_step(current, values)
        return self.factor

    def _group_values(self, value) -> list:
        """``value`` as one entry per group (None: no value, the reduction applies)."""
        if not isinstance(value, (list, tuple)):
            if value is not None:
                value = _finite("value", value)
            return [value] * self.num_groups
        if not value:
            raise ValueError("value must be a number or a non-empty list (one per param group), got []")
        values = list(value)
        for i, v in enumerate(values):
            if type(v) is not float or not math.isfinite(v):  # checked (and named) only off the common case
                values[i] = None if v is None else _finite(f"value[{i}]", v)
        if len(values) != self.num_groups:
            if isinstance(self.min_lr, tuple):
                raise ValueError(f"value has {len(values)} entries but min_lr has {len(self.min_lr)} "
                                 "(one per param group)")
            if len(self.factors) != 1:
                raise ValueError(f"value has {len(values)} entries but this plateau keeps "
                                 f"{len(self.factors)} groups")
            self.factors = self.factors * len(values)  # one factor so far: it was every group's
        return values

    def _torch_step(self, current, values):
        # torch.optim.lr_scheduler.ReduceLROnPlateau.step
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            # torch's _reduce_lr, per group: old - max(old * factor, min_lr) > eps
            self._reduce([i for i, v in enumerate(values)
                          if v is None or self.effective(v, group=i) - self._reduced_lr(v, i) > self.eps])
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _keras_step(self, current, values):
        # keras.callbacks.ReduceLROnPlateau.on_epoch_end
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        elif self.cooldown_counter == 0:
            self.num_bad_epochs += 1
            # Keras holds the lr in a float32 variable and compares it with float32(min_lr).
            if self.num_bad_epochs >= self.patience and self._reduce(
                [i for i, v in enumerate(values)
                 if v is None or np.float32(self.effective(v, group=i)) > np.float32(self._min_lr(i))]
            ):
                self.cooldown_counter = self.cooldown
                self.num_bad_epochs = 0

    def _reduce(self, groups) -> bool:
        """Multiply the factors of ``groups`` by ``factor``; True if any changed. A factor
        never underflows to 0 (the lr is then ``min_lr`` for good anyway)."""
        reduced = False
        for i in groups:
            factor = self.factors[i] * self.factor_per_reduction
            if factor > 0.0:
                self.factors[i] = factor
                reduced = True
        self.num_reductions += reduced
        return reduced

    def _reduced_lr(self, value, group):
        return max(value * self.factors[group] * self.factor_per_reduction, self._min_lr(group))

    def _is_better(self, current) -> bool:
        if not math.isfinite(current):  # nan_policy "bad_epoch"
            return False
        if self.best is None:
            return True
        best, threshold, lower = self.best, self.threshold, self.mode == "min"
        if self.rule == "keras" and self.threshold_mode == "abs":
            # Keras: monitor_op(current - min_delta, best), min_delta negated in mode min,
            # evaluated by keras.ops on float32 tensors.
            a = np.float32(current + threshold if lower else current - threshold)
            return bool(a < np.float32(best) if lower else a > np.float32(best))
        if self.threshold_mode == "rel":
            bound = best * (1.0 - threshold) if lower else best * (threshold + 1.0)
        elif self.threshold_mode == "abs":
            bound = best - threshold if lower else best + threshold
        else:
            bound = best - threshold * abs(best) if lower else best + threshold * abs(best)
        return current < bound if lower else current > bound

    def _synced(self, current: float) -> float:
        """The metric reduced across processes when torch.distributed is initialized."""
        torch = sys.modules.get("torch")  # never import torch: if it isn't loaded, no process group
        if self.sync == "none" or torch is None:
            return current
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            return current
        device = "cpu"
        if "nccl" in str(dist.get_backend()):
            device = torch.device("cuda", torch.cuda.current_device())
        tensor = torch.tensor([current], dtype=torch.float64, device=device)
        if self.sync == "rank0":
            dist.broadcast(tensor, src=0)
        else:
            op = {"mean": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[self.sync]
            dist.all_reduce(tensor, op=op)
            if self.sync == "mean":
                tensor /= dist.get_world_size()
        return float(tensor.item())


def _scalar(name, metric) -> float:
    """``metric`` as a Python float: a real number or a 0-d array/tensor, else TypeError."""
    if type(metric) is float:  # the common case, without the ABC check below
        return metric
    if isinstance(metric, numbers.Real) and not isinstance(metric, bool):
        try:
            return float(metric)
        except OverflowError:
            raise ValueError(f"{name} must fit in a float, got {metric!r}") from None
    shape = getattr(metric, "shape", None)
    dtype = str(getattr(metric, "dtype", ""))
    if shape is not None and tuple(shape) == () and "bool" not in dtype:
        try:
            return float(metric)
        except (TypeError, ValueError):
            pass
    shown = repr(metric) if len(repr(metric)) < 80 else type(metric).__name__
    raise TypeError(f"{name} must be a number or a 0-d array/tensor, got {shown}")


def _finite(name, value) -> float:
    value = _scalar(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def simulate(schedule, metrics, steps_per_metric, plateau=None, total_steps=None) -> np.ndarray:
    """The per-step learning rates a metric trace produces: ``plateau.effective(schedule(t))``.

    Metric ``i`` is observed after ``(i + 1) * steps_per_metric`` steps, so it changes the lr
    from step ``(i + 1) * steps_per_metric`` on (its decision uses the schedule value there).
    ``schedule``: a Schedule or spec (call syntax, dict, file path), any callable on a NumPy
    array of steps, or a number (a constant lr). ``plateau``: its configuration and current
    state are used (default ``Plateau()``); it is not modified, and processes are not
    synchronized. Returns a float64 array of ``total_steps`` values (default
    ``len(metrics) * steps_per_metric``).
    """
    steps_per_metric = check_int("steps_per_metric", steps_per_metric, minimum=1)
    metrics = [float(m) for m in metrics]  # NaN/inf allowed: the plateau's nan_policy decides
    if total_steps is None:
        total_steps = len(metrics) * steps_per_metric
    total_steps = check_int("total_steps", total_steps, minimum=0)
    if plateau is None:
        plateau = Plateau()
    if plateau.num_groups != 1:
        raise ValueError(f"simulate previews one learning rate: plateau has {plateau.num_groups} param groups "
                         "(a min_lr list); give it one min_lr")
    state = plateau.state_dict()
    plateau = Plateau.from_dict({**plateau.to_dict(), "sync": "none"})
    plateau.load_state_dict(copy.deepcopy(state))
    steps = np.arange(total_steps, dtype=np.float64)
    if is_spec(schedule):
        schedule = as_schedule(schedule, "schedule")
    if callable(schedule):
        values = np.asarray(schedule(steps), dtype=np.float64)
    else:
        values = np.full(total_steps, float(check_number("schedule", schedule)))
    lrs = np.empty(total_steps)
    start = 0
    for i in range(len(metrics) + 1):
        end = total_steps if i == len(metrics) else min((i + 1) * steps_per_metric, total_steps)
        lrs[start:end] = plateau.effective(values[start:end])
        if end == total_steps:
            break
        plateau.update(metrics[i], value=float(values[end]))
        start = end
    return lrs

