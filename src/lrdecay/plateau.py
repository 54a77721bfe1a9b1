"""Metric-driven reduction: a Plateau controller whose factor multiplies any schedule.

``Plateau`` watches a metric (a validation loss, an accuracy) and keeps a multiplicative
``factor``, 1.0 at the start, multiplied by ``factor`` at each reduction. The learning rate of a
run is ``plateau.effective(schedule(step))`` = ``max(schedule(step) * plateau.factor, min_lr)``
once a reduction has happened (``schedule(step)`` before), so it composes with warm-up, cosine,
WSD or any other schedule.

Two counting rules:

* ``rule="torch"``: ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (reduce when the number of bad
  epochs exceeds ``patience``; a reduction that would lower the lr by ``eps`` or less is skipped).
* ``rule="keras"``: ``keras.callbacks.ReduceLROnPlateau`` (reduce when it reaches ``patience``;
  the cooldown counter is decremented before the improvement test; ``threshold`` is Keras's
  ``min_delta``, compared in float32 like Keras; no reduction while the lr is at ``min_lr``).

With a constant schedule of value ``lr`` both reproduce the framework's learning rates:
``lr * factor`` (floored at ``min_lr``) after every metric.
"""

from __future__ import annotations

import copy
import math
import sys
import warnings

import numpy as np

from ._validate import check_choice, check_int, check_nonnegative, check_number, check_range
from .backends import get_backend
from .spec import as_schedule, is_spec

__all__ = ["Plateau", "simulate"]

_MODES = ("min", "max")
_RULES = ("torch", "keras")
_THRESHOLD_MODES = ("rel", "abs", "rel_magnitude")
_NAN_POLICIES = ("ignore", "bad_epoch", "raise")
_SYNCS = ("mean", "min", "max", "rank0", "none")
_STATE_KEYS = ("best", "num_bad_epochs", "cooldown_counter", "factor", "num_reductions", "num_metrics")


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
    - ``min_lr``: absolute floor on the effective learning rate, once a reduction has happened.
    - ``eps``: rule torch skips a reduction that lowers the lr by ``eps`` or less (needs
      ``value`` in :meth:`update`).
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
        self.min_lr = float(check_nonnegative("min_lr", min_lr))
        self.eps = float(check_nonnegative("eps", eps))
        self.nan_policy = check_choice("nan_policy", nan_policy, _NAN_POLICIES)
        self.sync = check_choice("sync", sync, _SYNCS)
        self.reset()

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: factor 1, no best value, every counter 0."""
        self.best: float | None = None
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.factor = 1.0
        self.num_reductions = 0
        self.num_metrics = 0

    def state_dict(self) -> dict:
        """Every counter, as plain Python scalars (``best`` is None before the first metric)."""
        return {key: getattr(self, key) for key in _STATE_KEYS}

    def load_state_dict(self, state: dict) -> None:
        """Restore the counters saved by :meth:`state_dict`; the run continues identically."""
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"Plateau state is missing {', '.join(missing)}")
        best = state["best"]
        self.best = None if best is None else float(best)
        self.num_bad_epochs = check_int("num_bad_epochs", state["num_bad_epochs"], minimum=0)
        self.cooldown_counter = check_int("cooldown_counter", state["cooldown_counter"], minimum=0)
        self.factor = float(check_range("factor", state["factor"], 0, 1))
        self.num_reductions = check_int("num_reductions", state["num_reductions"], minimum=0)
        self.num_metrics = check_int("num_metrics", state["num_metrics"], minimum=0)

    # -- configuration ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The configuration (not the counters), JSON-able; ``Plateau.from_dict`` rebuilds it."""
        return {
            "kind": "plateau", "mode": self.mode, "factor": self.factor_per_reduction,
            "patience": self.patience, "threshold": self.threshold,
            "threshold_mode": self.threshold_mode, "cooldown": self.cooldown,
            "min_lr": self.min_lr, "eps": self.eps, "rule": self.rule,
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

    __hash__ = None

    # -- the learning rate ------------------------------------------------------------------

    def effective(self, value, xp=None):
        """The learning rate to apply: ``max(value * factor, min_lr)`` once a reduction has
        happened, else ``value`` (a Python float, NumPy array or framework tensor)."""
        if self.num_reductions == 0:
            return value
        if xp is None:
            xp = get_backend(value)
        return xp.maximum(value * self.factor, self.min_lr)

    # -- the decision -----------------------------------------------------------------------

    def update(self, metric, value=None) -> float:
        """See one metric; returns the new factor.

        ``metric``: a number or a 0-d array/tensor. ``value``: the un-factored schedule value
        the decision applies to (used by torch's ``eps`` rule and by keras's "no reduction at
        ``min_lr``" rule; without it every reduction that is due happens)."""
        if isinstance(metric, (str, bytes, bool)):
            raise TypeError(f"metric must be a number or a 0-d array/tensor, got {metric!r}")
        current = self._synced(float(metric))
        if not math.isfinite(current):
            if self.nan_policy == "raise":
                raise ValueError(f"metric must be finite, got {current!r} (nan_policy='raise')")
            if self.nan_policy == "ignore":
                warnings.warn(f"Plateau ignores the metric {current!r} (nan_policy='ignore')",
                              RuntimeWarning, stacklevel=2)
                return self.factor
        self.num_metrics += 1
        if self.rule == "torch":
            self._torch_step(current, value)
        else:
            self._keras_step(current, value)
        return self.factor

    def _torch_step(self, current, value):
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
            if value is None or self.effective(value) - self._reduced_lr(value) > self.eps:
                self._reduce()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _keras_step(self, current, value):
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
            if self.num_bad_epochs >= self.patience and (
                value is None or np.float32(self.effective(value)) > np.float32(self.min_lr)
            ):
                self._reduce()
                self.cooldown_counter = self.cooldown
                self.num_bad_epochs = 0

    def _reduce(self):
        self.factor *= self.factor_per_reduction
        self.num_reductions += 1

    def _reduced_lr(self, value):
        return max(value * self.factor * self.factor_per_reduction, self.min_lr)

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

