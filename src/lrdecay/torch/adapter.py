"""PyTorch adapter: :class:`ScheduleLR`, a ``torch.optim.lr_scheduler.LRScheduler`` driven by
lrdecay schedules.

No formula lives here: the scheduler keeps a step counter (the *clock*), evaluates the schedules
at it with Python floats, and writes the values into the optimizer's param groups.

Step convention: the value applied to an update is ``schedule(n)`` where ``n`` is the number of
updates (or ``scheduler.step()`` calls, or samples) counted before it -- 0 for the first update,
like TensorFlow's ``global_step`` and like a torch scheduler stepped after each ``optimizer.step()``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import operator
import sys
import warnings

import torch  # absolute import: this is the real torch, not this module
from torch.optim.lr_scheduler import LRScheduler

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import Schedule, compiled_call
from lrdecay.core.spec import as_schedule, from_dict, is_spec

__all__ = ["ScheduleLR"]

_CLOCKS = ("updates", "calls", "samples", "tokens")
_MODES = ("absolute", "factor")
_ON_MISMATCH = ("raise", "use_saved", "use_new")
#: hyperparameter name -> (param-group key, element index for tuple-valued keys)
_BETAS = {"beta1": ("betas", 0), "beta2": ("betas", 1)}
#: the largest clock: float64 holds every integer up to 2**53 exactly, not all of those above
MAX_CLOCK = 2**53
#: kinds whose closed form climbs back past the end it was planned for (torch's
#: CosineAnnealingLR, Hugging Face's cosine) -> the parameter that holds that end
_PLANNED_ENDS = {"cosine_annealing": "t_max", "cosine_with_min_lr": "training_steps"}
#: keys that torch's optimizers accept as 0-dim tensors (so compile_safe applies to them)
_TENSOR_KEYS = ("lr", "betas")
_STATE_FORMAT = 1
#: clock="updates": step() after this many updates (or this many step() calls with the clock at 0)
#: warns; at most this many calls are watched.
_CLOCK_RATIO, _WATCH_CALLS = 10, 1000


class ScheduleLR(LRScheduler):
    """Drive an optimizer's learning rate (and any other hyperparameter) with lrdecay schedules.

    ``schedule``: one :class:`~lrdecay.Schedule` for every param group, a list (one per group,
    ``None`` = leave that group alone) or a dict keyed by the groups' ``"name"`` entries.
    ``hyperparams``: ``{"weight_decay": s, "momentum": s, "beta1": s, "beta2": s, ...}``, each
    value in the same three forms (``beta1``/``beta2`` are the elements of Adam's ``betas``;
    ``momentum`` is ``betas[0]`` where a group has ``betas`` and no ``momentum``, as torch's
    OneCycleLR cycles it).
    ``mode="absolute"``: the group value is the schedule's value; ``"factor"``: the group's
    initial value times the schedule's value (keeps the ratios between groups).
    ``clock``: ``"updates"`` counts real optimizer updates (an optimizer step hook; an update
    skipped by AMP's GradScaler does not count, and ``step()`` only re-applies the values);
    ``"calls"`` counts ``step()`` calls (torch's convention); ``"samples"``/``"tokens"``:
    ``step(n)`` advances the clock by ``n``.
    ``compile_safe=True``: ``lr`` and ``betas`` become 0-dim tensors (the dtype of the group's
    parameters, at least float32, on their device) updated in place with ``fill_``, so a
    ``torch.compile``'d optimizer step is not recompiled when they change.
    ``plateau``: an :class:`lrdecay.Plateau` whose factor multiplies the learning rate; feed it
    with ``step(metrics=...)`` or ``observe(metric)``.
    The clock stays within ``2**53`` (float64 steps are exact up to there). A warning, once, when
    the clock passes the end a schedule was planned for and its value climbs back (a
    ``cosine_annealing`` past ``t_max``: a length in epochs counted in steps?).
    """

    def __init__(self, optimizer, schedule, *, hyperparams=None, mode="absolute", clock="updates",
                 compile_safe=False, plateau=None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        _check_choice("mode", mode, _MODES)
        _check_choice("clock", clock, _CLOCKS)
        if not isinstance(compile_safe, bool):
            raise TypeError(f"compile_safe must be a bool, got {compile_safe!r}")
        if plateau is not None and not all(hasattr(plateau, a) for a in ("update", "effective", "factor")):
            raise TypeError(f"plateau must be an lrdecay.Plateau (update/effective/factor), got {type(plateau).__name__}")
        if hyperparams is not None and not isinstance(hyperparams, dict):
            raise TypeError(f"hyperparams must be a dict of name -> schedule, got {type(hyperparams).__name__}")
        self.optimizer = optimizer
        self.mode, self.clock, self.compile_safe, self.plateau = mode, clock, compile_safe, plateau
        self._advances_on_call, self._counts = clock == "calls", clock in ("samples", "tokens")
        groups = optimizer.param_groups
        if plateau is not None:
            _check_plateau_groups(plateau, len(groups))
        self._schedules = {"lr": _per_group("schedule", schedule, groups)}
        for name, value in (hyperparams or {}).items():
            if name == "lr" or name == "betas" or not isinstance(name, str):
                raise ValueError(f"hyperparams: {name!r} can't be scheduled here (use schedule= for lr, "
                                 "beta1/beta2 for the elements of betas)")
            missing = [i for i, g in enumerate(groups) if _target(name, g)[0] not in g]
            if missing:
                raise ValueError(f"hyperparams: param group {missing[0]} has no {_target(name, groups[0])[0]!r} "
                                 "to schedule")
            self._schedules[name] = _per_group(f"hyperparams[{name!r}]", value, groups)
        _check_targets(self._schedules, groups)
        # The initial values (factor mode) are read as torch does: "initial_<key>" when a previous
        # scheduler recorded it, else the group's current value; they are kept in our state too.
        self._bases = {name: [self._initial_value(g, name) for g in groups] for name in self._schedules}
        self._count = 0
        self._extra_clocks = {}  # other clocks a clock_join reads, counted by count(**amounts)
        self._horizon_warned = False  # see _check_horizon
        # once-per-epoch trap (clock="updates"): see _watch_clock
        self._clock_watch, self._updates_since_call, self._sparse_calls = clock == "updates", 0, False
        self._quiet_calls = self._watched_calls = 0
        self._build_slots()
        self._register_hooks()
        self._apply()

    @classmethod
    def from_torch(cls, scheduler, *, on_mismatch="raise", **kwargs) -> ScheduleLR:
        """The ScheduleLR that takes over from ``scheduler`` (a live torch scheduler) on its
        optimizer, at the same step and with the same rates: :func:`lrdecay.from_torch`'s
        schedule, the momentum curves of OneCycleLR/CyclicLR, and ``clock="calls"`` (torch's
        convention) unless ``kwargs`` say otherwise; a ReduceLROnPlateau becomes the current
        rates with an :class:`lrdecay.Plateau` that carries on its counters (``step(metric)`` as
        in torch). Stop stepping ``scheduler`` afterwards. A group whose live lr is not the
        schedule's at that step is refused unless ``on_mismatch="rescale"`` (see
        :func:`lrdecay.from_torch`)."""
        from lrdecay.migrate.torch import takeover_arguments

        arguments = takeover_arguments(scheduler, on_mismatch=on_mismatch)  # checks scheduler first
        step = arguments.pop("step")
        new = cls(scheduler.optimizer, **{"clock": "calls", **arguments, **kwargs})
        new._count = step
        new._build_slots()
        new._apply()
        return new

    # -- torch's scheduler interface ------------------------------------------------------

    @property
    def last_epoch(self) -> int:
        """The clock (torch's name): updates, calls or samples counted so far."""
        return self._count

    @property
    def base_lrs(self) -> list[float]:
        return [float(b) for b in self._bases["lr"]]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each param group for the next update (Python floats)."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        return self.get_last_lr()

    def step(self, n=None, *, metrics=None):
        """Advance the clock and write the new values.

        ``clock="calls"``: by one. ``clock="samples"``/``"tokens"``: by ``n`` (required).
        ``clock="updates"``: not at all (the optimizer's step hook advances it); the values are
        re-applied. ``metrics`` (or, with a plateau and no count clock, a positional value, as
        Lightning passes it) is given to the plateau first."""
        if n is None and metrics is None:  # the hot path
            if self._advances_on_call:
                self._count += 1
            elif self._counts:
                raise TypeError(f"step(n) needs the number of {self.clock} with clock={self.clock!r}")
            elif self._clock_watch:
                self._watch_clock()
            self._apply()
            return
        counts = self._counts
        if n is not None and not counts:
            if self.plateau is None or metrics is not None:
                raise TypeError(f"step() takes a count only with clock='samples' or 'tokens' (clock={self.clock!r}); "
                                "torch's step(epoch) form isn't supported: call step() once per epoch with "
                                "clock='calls', or resume at an epoch with load_state_dict")
            n, metrics = None, n
        if metrics is not None:
            self._observe(metrics)
        if counts:
            if n is None:
                raise TypeError(f"step(n) needs the number of {self.clock} with clock={self.clock!r}")
            if type(n) is not int:
                try:
                    if isinstance(n, bool):
                        raise TypeError
                    n = operator.index(n)  # ints, NumPy and torch integer scalars
                except TypeError:
                    raise TypeError(f"n must be an int, got {n!r}") from None
            if n < 0:
                raise ValueError(f"n must be >= 0, got {n}")
            if self._count + n > MAX_CLOCK:
                raise ValueError(f"n: the clock would pass 2**53 ({self._count} + {n}), beyond which float64 "
                                 "steps are not exact")
            self._count += n
        elif self.clock == "calls":
            self._count += 1
        self._apply()

    def observe(self, metric) -> float:
        """Give ``metric`` to the plateau and apply the new factor now; returns the factor."""
        if self.plateau is None:
            raise ValueError("observe() needs a plateau: ScheduleLR(..., plateau=lrdecay.Plateau(...))")
        factor = self._observe(metric)
        self._apply()
        return factor

    def replan(self, schedule, *, hyperparam="lr", rtol=1e-12):
        """Switch to a re-planned schedule at the current clock (e.g. right after
        ``load_state_dict``, with ``s.extend(...)`` or ``s.cooldown_from(...)``), keeping the
        clock. Refused (``ValueError``) when the new schedule's value at the clock differs from
        the current one by more than ``rtol`` (relative): a re-plan must not make the rate jump.
        ``schedule`` takes the same forms as in the constructor; the new spec is saved by
        :meth:`state_dict` from now on."""
        if hyperparam not in self._schedules:
            raise ValueError(f"hyperparam must be one of {sorted(self._schedules)}, got {hyperparam!r}")
        label = "schedule" if hyperparam == "lr" else f"hyperparams[{hyperparam!r}]"
        new = _per_group(label, schedule, self.optimizer.param_groups)
        for i, (old, replanned) in enumerate(zip(self._schedules[hyperparam], new)):
            if (old is None) != (replanned is None):
                raise ValueError(f"{label}: param group {i} can't change between scheduled and unscheduled")
            if old is None:
                continue
            before, after = old(self._count), replanned(self._count)
            if not abs(after - before) <= rtol * max(abs(before), abs(after)):
                raise ValueError(f"{label}: the new schedule jumps at step {self._count} in param group {i}: "
                                 f"{before!r} -> {after!r} (build it with extend() or cooldown_from())")
        self._schedules[hyperparam] = new
        self._build_slots()
        self._apply()

    def count(self, **amounts):
        """Advance the other clocks a :func:`lrdecay.clock_join` reads (e.g.
        ``scheduler.count(tokens=n)`` once per update, before the update's ``step()``) and
        re-apply the values. This scheduler's own ``clock`` is the join's ``"steps"`` clock
        (``"updates"``/``"calls"``), or its ``"samples"``/``"tokens"``."""
        for name, n in amounts.items():
            if name in (self.clock, "steps"):
                raise ValueError(f"{name!r} is this scheduler's own clock: it advances with step()")
            if isinstance(n, bool):
                raise TypeError(f"{name} must be an int, got {n!r}")
            try:
                n = operator.index(n)
            except TypeError:
                raise TypeError(f"{name} must be an int, got {n!r}") from None
            if n < 0:
                raise ValueError(f"{name} must be >= 0, got {n}")
            if self._extra_clocks.get(name, 0) + n > MAX_CLOCK:
                raise ValueError(f"{name}: the clock would pass 2**53, beyond which float64 steps are not exact")
            self._extra_clocks[name] = self._extra_clocks.get(name, 0) + n
        self._apply()

    def _evaluator(self, schedule):
        """``t -> value`` for the clock ``t``; a clock_join reads the other clocks too."""
        names = getattr(schedule, "clock_names", None)
        if names is None:
            return compiled_call(schedule)
        own = "steps" if self.clock in ("updates", "calls") else self.clock

        def evaluate(t):
            values = {name: self._extra_clocks.get(name, 0) for name in names}
            values[own] = t
            return schedule.at(**values)

        return evaluate

    # -- state ----------------------------------------------------------------------------

    def spec(self) -> dict:
        """What defines the run: the schedules (as specs), mode, clock and plateau configuration."""
        return {
            "schedules": {name: [None if s is None else s.to_dict() for s in per_group]
                          for name, per_group in self._schedules.items()},
            "mode": self.mode,
            "clock": self.clock,
            "plateau": None if self.plateau is None else self.plateau.to_dict(),
        }

    def state_dict(self) -> dict:
        """Plain Python data only (loads with ``torch.load(weights_only=True)``): the spec, the
        clock, the initial group values and the plateau's counters."""
        return {
            "format": _STATE_FORMAT,
            "spec": self.spec(),
            "clock": self._count,
            "clocks": dict(self._extra_clocks),
            "bases": {name: [float(b) for b in values] for name, values in self._bases.items()},
            "plateau": None if self.plateau is None else self.plateau.state_dict(),
        }

    def load_state_dict(self, state_dict, on_mismatch="raise"):
        """Resume from :meth:`state_dict`. A state whose spec differs from this scheduler's is
        refused unless ``on_mismatch="use_saved"`` (adopt the saved schedules) or ``"use_new"``
        (keep this scheduler's schedules, take the saved clock).
        Every field is checked before anything changes: a missing, mistyped or out-of-range
        field is refused with an error that names it.

        A torch scheduler's own ``state_dict()`` (StepLR, OneCycleLR, SequentialLR, ...) is
        accepted too: its ``last_epoch`` becomes the clock once this scheduler is checked to give
        every group the same values as torch's for all it drives (the rates, and the momentum or
        ``betas[0]`` OneCycleLR/CyclicLR cycle; ``on_mismatch`` as above) and the rates torch set
        last, so a run started with torch's scheduler resumes here (load the optimizer's state
        first: OneCycleLR and CyclicLR keep their peaks and momentum bounds there)."""
        _check_choice("on_mismatch", on_mismatch, _ON_MISMATCH)
        if isinstance(state_dict, dict) and "format" not in state_dict:
            from lrdecay.migrate.torch import torch_state_class

            if torch_state_class(state_dict):
                return self._load_torch_state(state_dict, on_mismatch)  # a torch scheduler's own state
        _check_state(state_dict, len(self.optimizer.param_groups))
        saved, own = state_dict["spec"], self.spec()
        use_saved = saved != own and on_mismatch == "use_saved"
        if saved != own and on_mismatch == "raise":
            diff = sorted(k for k in own if own[k] != saved.get(k))
            raise ValueError(f"saved schedule spec differs from this scheduler's in {diff}; pass "
                             "on_mismatch='use_saved' or 'use_new' to choose")
        schedules, mode, plateau = self._schedules, self.mode, self.plateau
        if use_saved:
            schedules, mode, plateau = self._adopted(saved)
        bases = state_dict["bases"]
        if use_saved or set(bases) == set(self._bases):
            bases = {name: [float(b) for b in values] for name, values in bases.items()}
        else:
            bases = self._bases
        plateau_state = state_dict["plateau"] if plateau is not None else None
        if plateau_state is not None:
            probe = copy.deepcopy(plateau)  # loaded aside first: a refused state changes nothing
            try:
                probe.load_state_dict(plateau_state)
            except (TypeError, ValueError) as error:
                raise type(error)(f"state_dict['plateau']: {error}") from None
            _check_plateau_groups(probe, len(self.optimizer.param_groups), "state_dict['plateau']")
            plateau.load_state_dict(plateau_state)
        self._schedules, self.mode, self.plateau = schedules, mode, plateau
        self._bases, self._count = bases, state_dict["clock"]
        self._extra_clocks = _check_extra_clocks(state_dict.get("clocks") or {})
        self._build_slots()
        self._apply()

    def _adopted(self, saved: dict):
        """The schedules, mode and plateau of a saved spec (already checked by _check_state)."""
        schedules = {}
        for name, per_group in saved["schedules"].items():
            schedules[name] = []
            for i, d in enumerate(per_group):
                try:
                    schedules[name].append(None if d is None else from_dict(d))
                except (TypeError, ValueError, KeyError) as error:
                    raise ValueError(f"state_dict['spec']['schedules'][{name!r}][{i}]: {error}") from None
        if saved["clock"] != self.clock:
            raise ValueError(f"saved clock {saved['clock']!r} differs from {self.clock!r}; "
                             "rebuild the scheduler with the saved clock")
        plateau = self.plateau
        if saved["plateau"] is not None and plateau is not None:
            try:
                plateau = type(plateau).from_dict(saved["plateau"])
            except (TypeError, ValueError) as error:
                raise type(error)(f"state_dict['spec']['plateau']: {error}") from None
        return schedules, saved["mode"], plateau

    def _load_torch_state(self, state: dict, on_mismatch: str) -> None:
        """``load_state_dict`` for a torch scheduler's own ``state_dict()``: every value torch's
        scheduler drives (the lr and OneCycleLR/CyclicLR's momentum or ``betas[0]``) must come out
        the same here, at every step up to well past the saved one, and the rates torch set last
        must be this schedule's at the saved step; then torch's ``last_epoch`` becomes the clock.
        ``on_mismatch``: ``"raise"``, ``"use_saved"`` (adopt torch's curves) or ``"use_new"`` (keep
        these, take the count)."""
        from lrdecay.migrate.common import Unsupported, same_rate
        from lrdecay.migrate.torch import read_torch_state, same_values

        groups = self.optimizer.param_groups
        plan = read_torch_state(state, groups)  # refuses a damaged state, naming the field
        count, name = plan["count"], plan["name"]
        if plan["unsupported"] and on_mismatch != "use_new":
            raise Unsupported(f"{plan['unsupported']}; to resume with this ScheduleLR's schedule at torch's step, "
                              "pass on_mismatch='use_new'")
        factor = self.mode == "factor"
        schedules = {key: list(per_group) for key, per_group in self._schedules.items()}
        bases = {key: list(values) for key, values in self._bases.items()}
        if factor:
            bases["lr"] = plan["bases"]
        driven = {"lr": plan["lr"], **plan["hyperparams"]}
        for hyperparam, curves in driven.items():
            for i, (group, theirs) in enumerate(zip(groups, curves or ())):
                own = "lr" if hyperparam == "lr" else _owner(schedules, hyperparam, group)
                mine = schedules[own][i] if own in schedules else None
                base = bases[own][i] if factor and own in bases else 1.0
                values = None if mine is None else (mine * base if factor else mine)
                if values is not None and same_values(values, theirs, count):
                    continue
                if on_mismatch == "raise":
                    raise ValueError(_torch_mismatch(name, hyperparam, own, i, theirs, values, driven))
                if on_mismatch == "use_saved":
                    if own not in schedules:  # torch's curve for a value this scheduler left alone
                        schedules[own] = [None] * len(groups)
                        bases[own] = [self._initial_value(g, own) for g in groups]
                        base = bases[own][i] if factor else 1.0
                    schedules[own][i] = theirs / base if factor else theirs
        if on_mismatch != "use_new" and plan["last_lr"] is not None:
            for i, (mine, rate) in enumerate(zip(schedules["lr"], plan["last_lr"])):
                value = None if mine is None else mine(count) * (bases["lr"][i] if factor else 1.0)
                if value is not None and not same_rate(value, rate, plan["bases"][i]):
                    raise ValueError(f"the torch {name} state set param group {i}'s lr to {rate!r} at step {count}, "
                                     f"the schedule gives {value!r} there (the lr was changed by hand during the "
                                     "run, or its initial_lr differs from its lr): resuming would make the rate "
                                     "jump; pass on_mismatch='use_new' to accept the jump")
        _check_targets(schedules, groups)
        self._schedules, self._bases, self._count = schedules, bases, count
        self._build_slots()
        self._apply()

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _initial_value(group, name):
        key, index = _target(name, group)
        value = group.get("initial_" + key, group[key])
        value = value[index] if index is not None else value
        return float(_scalar_value(key, value))

    def _build_slots(self):
        """Precompute where each scheduled (group, hyperparameter) value goes, so that ``_apply``
        does no dict building or lookups by name. Plain slots are written directly; slots with a
        plateau, a tensor or a tuple element take the general path."""
        groups = self.optimizer.param_groups
        unique: dict = {}  # equal schedules are evaluated once per step
        self._unique_schedules = []
        plain, special = [], []
        for name, per_group in self._schedules.items():
            for i, (group, schedule) in enumerate(zip(groups, per_group)):
                if schedule is None:
                    continue
                key, index = _target(name, group)
                if schedule not in unique:
                    unique[schedule] = len(self._unique_schedules)
                    self._unique_schedules.append(schedule)
                base = self._bases[name][i] if self.mode == "factor" else 1.0
                tensor = self._tensor_for(group, key, index)
                plateau = self.plateau if name == "lr" else None
                if tensor is None and index is None and plateau is None:
                    plain.append((unique[schedule], base, group, key))
                else:
                    special.append((unique[schedule], base, group, key, index, tensor, plateau, i))
        self._plain, self._special = plain, special
        self._evaluators = [self._evaluator(schedule) for schedule in self._unique_schedules]  # compiled formulas
        # (evaluator, base) of each group's lr, for the plateau's per-group decisions
        self._lr_slots = [(None, None) if schedule is None else
                          (unique[schedule], self._bases["lr"][i] if self.mode == "factor" else 1.0)
                          for i, schedule in enumerate(self._schedules["lr"])]
        # schedules planned to end that climb back after it: (index, end), checked from the end on
        self._ends = [] if getattr(self, "_horizon_warned", False) else [
            (k, end) for k, schedule in enumerate(self._unique_schedules)
            if getattr(schedule, "clock_names", None) is None and (end := _planned_end(schedule)) is not None]
        self._horizon = min((end for _, end in self._ends), default=math.inf)

    def _tensor_for(self, group, key, index):
        """The 0-dim tensor to fill in place for this slot, or None to write Python floats. A
        value the user gave as a tensor stays that tensor (as torch's schedulers keep it);
        with ``compile_safe``, ``lr`` and ``betas`` become tensors."""
        current = _scalar_value(key, group[key] if index is None else group[key][index])
        if isinstance(current, torch.Tensor):
            return current
        if not (self.compile_safe and key in _TENSOR_KEYS):
            return None
        params = group["params"]
        dtype = params[0].dtype if params and params[0].dtype == torch.float64 else torch.float32
        device = params[0].device if params else None
        return torch.tensor(float(current), dtype=dtype, device=device)

    def _apply(self):
        # The clock is an int >= 0: each schedule's compiled formula gives a Python float.
        t = self._count
        values = [evaluate(t) for evaluate in self._evaluators]
        for k, base, group, key in self._plain:
            group[key] = values[k] * base
        for k, base, group, key, index, tensor, plateau, i in self._special:
            v = values[k] * base
            if plateau is not None:
                v = plateau.effective(v, MATH, i)
            if tensor is not None:
                tensor.fill_(v)
                v = tensor
            if index is None:
                group[key] = v
            else:
                pair = list(group[key])
                pair[index] = v
                group[key] = tuple(pair)
        if t > self._horizon:  # inf unless a schedule planned to end is watched
            self._check_horizon(t, values)

    def _check_horizon(self, t, values):
        """Warn once when the clock is past the end a schedule was planned for and its value
        climbs back above its end value; else look again an eighth of the distance to the end
        later (every step at first: a staircase may hold the end value for a while)."""
        upcoming = []
        for k, end in self._ends:
            if t <= end:
                upcoming.append(end)
                continue
            schedule, final = self._unique_schedules[k], self._evaluators[k](end)
            if values[k] > final:
                self._horizon_warned, self._ends, self._horizon = True, [], math.inf
                warnings.warn(
                    f"ScheduleLR: {schedule!r} was planned to end at step {end} and climbs back after it "
                    f"({final!r} at step {end}, {values[k]!r} at step {t}). Is its length in other units than "
                    f"the clock ({self.clock!r}): epochs given as steps, a dataset without a length, gradient "
                    "accumulation? Give the real length, or hold the end value: join([schedule, "
                    "constant(end_value)], [end])", stacklevel=4)
                return
            upcoming.append(t + (t - end) // 8)
        self._horizon = min(upcoming, default=math.inf)

    @property
    def _last_lr(self) -> list[float]:
        # read from the groups: exactly what the next update uses (torch keeps a list instead)
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def _observe(self, metric) -> float:
        if self.plateau is None:
            raise ValueError("metrics given but this ScheduleLR has no plateau")
        # each group's un-factored lr: torch's eps and min_lr tests are made per group
        t, evaluators = self._count, self._evaluators
        values = [None if k is None else evaluators[k](t) * base for k, base in self._lr_slots]
        return self.plateau.update(metric, value=values)

    def _after_update(self, optimizer, args, kwargs):
        # The optimizer's step post-hook. Under torch.compile (or once the compiler is loaded)
        # the update is counted eagerly, outside the compiled graph, so that the clock puts no
        # guard on it; before that nothing compiles, and the compiler is not imported.
        if _is_compiling() or "torch._dynamo" in sys.modules:
            _count_update_eagerly(self)
        else:
            _count_update(self)

    def _watch_clock(self):
        """clock="updates", at a plain ``step()``: warn once when ``step()`` comes after many
        updates (torch code stepping an epoch-based schedule once per epoch) or when it keeps
        being called and the clock never moves (the optimizer is stepped without
        ``Optimizer.step``'s hooks). Stops watching after a warning or ``_WATCH_CALLS`` calls."""
        since, self._updates_since_call = self._updates_since_call, 0
        sparse = since >= 2 and (since >= _CLOCK_RATIO or self._sparse_calls)
        self._sparse_calls = since >= 2
        self._quiet_calls = 0 if self._count else self._quiet_calls + 1
        self._watched_calls += 1
        if sparse:
            message = (f"ScheduleLR(clock='updates') counts optimizer updates itself, and step() came after "
                       f"{since} of them. If step() runs once per epoch because the schedule counts epochs, "
                       "use clock='calls' (or per_epoch(schedule, steps_per_epoch)); if it counts updates, "
                       "this step() call is not needed")
        elif self._quiet_calls >= _CLOCK_RATIO:
            message = (f"ScheduleLR(clock='updates'): step() was called {self._quiet_calls} times and no "
                       "optimizer update was counted, so the schedule has not moved. If the optimizer is "
                       "stepped without torch.optim.Optimizer.step's hooks, use clock='calls'")
        else:
            self._clock_watch = self._watched_calls < _WATCH_CALLS
            return
        self._clock_watch = False
        warnings.warn(message, stacklevel=3)

    def _after_optimizer_load(self, optimizer):
        # optimizer.load_state_dict replaces the param groups: write our values (and, with
        # compile_safe, our tensors) into the new groups.
        self._build_slots()
        self._apply()

    def _register_hooks(self):
        self._hook_handles = [self.optimizer.register_load_state_dict_post_hook(self._after_optimizer_load)]
        if self.clock == "updates":
            self._hook_handles.append(self.optimizer.register_step_post_hook(self._after_update))

    def __getstate__(self):  # pickle / deepcopy: hooks are re-registered on the copy's optimizer
        state = dict(self.__dict__)
        for key in ("_hook_handles", "_plain", "_special", "_evaluators"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._build_slots()
        self._register_hooks()


def _count_update(scheduler):
    scheduler._count += 1
    scheduler._updates_since_call += 1
    scheduler._apply()


#: ``_count_update`` outside torch.compile: torch's lazy ``disable`` (its module is one dynamo
#: never traces) imports the compiler on its first call, not when this module is imported.
_count_update_eagerly = torch._disable_dynamo(_count_update)
_is_compiling = getattr(torch.compiler, "is_compiling", None) or (lambda: True)


def _target(name, group):
    """The (param-group key, element index) ``name`` writes: ``beta1``/``beta2`` are the elements
    of ``betas``, and ``momentum`` is ``betas[0]`` in a group with ``betas`` and no ``momentum``
    (Adam's, as torch's OneCycleLR and CyclicLR cycle it)."""
    if name in _BETAS:
        return _BETAS[name]
    if name == "momentum" and "momentum" not in group and "betas" in group:
        return _BETAS["beta1"]
    return name, None


def _owner(schedules, name, group):
    """The scheduled hyperparameter that writes what ``name`` writes in ``group`` (else ``name``)."""
    slot = _target(name, group)
    return next((own for own in schedules if own != "lr" and _target(own, group) == slot), name)


def _check_targets(schedules, groups):
    for i, group in enumerate(groups):
        seen = {}
        for name, per_group in schedules.items():
            if name == "lr" or per_group[i] is None:
                continue
            key, index = slot = _target(name, group)
            if slot in seen:
                where = key if index is None else f"{key}[{index}]"
                raise ValueError(f"hyperparams: {seen[slot]!r} and {name!r} both schedule {where} of param group {i}; "
                                 "give one of them")
            seen[slot] = name


def _torch_mismatch(name, hyperparam, own, i, theirs, mine, driven) -> str:
    choices = ("pass on_mismatch='use_saved' (adopt torch's curves) or 'use_new' (keep this scheduler's, "
               "take torch's step count)")
    if hyperparam == "lr":
        return (f"the torch {name} state gives param group {i} the rates of {theirs!r}, this ScheduleLR "
                f"{mine!r}; build the ScheduleLR with lrdecay.from_torch's schedule, or {choices}")
    curves = [repr(s) for s in driven[hyperparam]]
    spec = curves[0] if len(set(curves)) == 1 else curves
    write = f"hyperparams={{{hyperparam!r}: {spec!r}}}"
    what = f"param group {i}'s {own if own != 'beta1' else 'betas[0]'}"
    if mine is None:
        return (f"the torch {name} state (cycle_momentum=True) also drives {what} with {theirs!r}, which this "
                f"ScheduleLR leaves alone, so it would stay frozen: build the ScheduleLR with {write} (as "
                f"ScheduleLR.from_torch does), or {choices}")
    return f"the torch {name} state drives {what} with {theirs!r}, this ScheduleLR with {mine!r}: use {write}, or {choices}"


def _planned_end(schedule) -> float | None:
    """The step ``schedule`` was planned to end at, when its value may climb back after it (a
    ``cosine_annealing`` past ``t_max``, in any composite): the duration it would have with each
    such part ending there. None for every other schedule."""
    if schedule.duration is not None:
        return None  # it stops changing: nothing climbs back
    try:
        ended = _ended(schedule)
    except (TypeError, ValueError):
        return None
    end = None if ended is schedule else ended.duration
    return end if end is not None and math.isfinite(end) else None


def _ended(node):
    """``node`` with each part that climbs back past its planned end replaced by a line that ends there."""
    field = _PLANNED_ENDS.get(node.kind)
    if field is not None:
        from lrdecay.schedules.shapes import linear

        return linear(1.0, 0.0, getattr(node, field))
    changes = {}
    for name, value in node.params().items():
        if isinstance(value, Schedule):
            new = _ended(value)
        elif isinstance(value, (tuple, list)) and any(isinstance(v, Schedule) for v in value):
            new = type(value)(_ended(v) if isinstance(v, Schedule) else v for v in value)
            if all(a is b for a, b in zip(new, value)):
                new = value
        else:
            continue
        if new is not value:
            changes[name] = new
    return dataclasses.replace(node, **changes) if changes else node


_STATE_KEYS = ("format", "spec", "clock", "bases", "plateau")
_SPEC_KEYS = ("schedules", "mode", "clock", "plateau")


def _check_state(state, num_groups):
    """Refuse a ScheduleLR state with a missing, mistyped or out-of-range field, naming it."""
    if not isinstance(state, dict):
        raise TypeError(f"state_dict must be a dict from ScheduleLR.state_dict(), got {type(state).__name__}")
    if state.get("format") != _STATE_FORMAT:
        raise ValueError(f"state_dict is not a ScheduleLR state: state_dict['format'] must be "
                         f"{_STATE_FORMAT}, got {state.get('format')!r}")
    _check_fields("state_dict", state, _STATE_KEYS)
    spec = state["spec"]
    _check_fields("state_dict['spec']", spec, _SPEC_KEYS)
    schedules = spec["schedules"]
    if not isinstance(schedules, dict) or "lr" not in schedules:
        raise ValueError(f"state_dict['spec']['schedules'] must be a dict with an 'lr' entry, got {schedules!r}")
    for name, per_group in schedules.items():
        field = f"state_dict['spec']['schedules'][{name!r}]"
        _check_per_group(field, per_group, num_groups)
        for i, d in enumerate(per_group):
            if d is not None and not isinstance(d, dict):
                raise TypeError(f"{field}[{i}] must be a schedule spec (a dict) or None, got {d!r}")
    if spec["mode"] not in _MODES:
        raise ValueError(f"state_dict['spec']['mode'] must be one of {', '.join(map(repr, _MODES))}, "
                         f"got {spec['mode']!r}")
    if spec["clock"] not in _CLOCKS:
        raise ValueError(f"state_dict['spec']['clock'] must be one of {', '.join(map(repr, _CLOCKS))}, "
                         f"got {spec['clock']!r}")
    for field, value in (("state_dict['spec']['plateau']", spec["plateau"]), ("state_dict['plateau']", state["plateau"])):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{field} must be a dict or None, got {value!r}")
    count = state["clock"]
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_CLOCK:
        raise ValueError(f"state_dict['clock'] must be an int >= 0 and <= 2**53 (float64 steps are exact up to "
                         f"there), got {count!r}")
    _check_extra_clocks(state.get("clocks") or {})
    bases = state["bases"]
    if not isinstance(bases, dict):
        raise TypeError(f"state_dict['bases'] must be a dict of name -> list of numbers, got {bases!r}")
    if set(bases) != set(schedules):
        raise ValueError(f"state_dict['bases'] has entries {sorted(map(str, bases))}, "
                         f"the saved schedules {sorted(map(str, schedules))}")
    for name, values in bases.items():
        field = f"state_dict['bases'][{name!r}]"
        _check_per_group(field, values, num_groups)
        for i, b in enumerate(values):
            if isinstance(b, bool) or not isinstance(b, (int, float)):
                raise TypeError(f"{field}[{i}] must be a number, got {b!r}")
            if not (math.isfinite(b) and b >= 0):
                raise ValueError(f"{field}[{i}] must be a finite number >= 0, got {b!r}")


def _check_fields(field, value, keys):
    if not isinstance(value, dict):
        raise TypeError(f"{field} must be a dict, got {type(value).__name__}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{field} is missing {', '.join(map(repr, missing))}")


def _check_per_group(field, values, num_groups):
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{field} must be a list (one entry per param group), got {values!r}")
    if len(values) != num_groups:
        raise ValueError(f"{field} has {len(values)} entries, the optimizer {num_groups} param groups")


def _scalar_value(key, value):
    if isinstance(value, torch.Tensor) and value.dim() != 0:
        raise ValueError(f"param group {key!r} is a tensor of shape {tuple(value.shape)}; "
                         "a scheduled value must be a number or a 0-dim tensor")
    return value


def _check_plateau_groups(plateau, num_groups, field="plateau"):
    """A plateau with one ``min_lr`` (or factor) per group must have as many as the optimizer."""
    min_lr = getattr(plateau, "min_lr", None)
    if isinstance(min_lr, (list, tuple)) and len(min_lr) != num_groups:
        raise ValueError(f"{field}: min_lr has {len(min_lr)} entries, the optimizer {num_groups} param groups")
    factors = getattr(plateau, "factors", None)
    if isinstance(factors, (list, tuple)) and len(factors) not in (1, num_groups):
        raise ValueError(f"{field}: factors has {len(factors)} entries, the optimizer {num_groups} param groups")


def _check_extra_clocks(clocks):
    if not isinstance(clocks, dict) or not all(
        isinstance(k, str) and type(v) is int and 0 <= v <= MAX_CLOCK for k, v in clocks.items()
    ):
        raise ValueError(f"state_dict['clocks'] must map clock names to ints >= 0 and <= 2**53, got {clocks!r}")
    return dict(clocks)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _per_group(name, value, groups):
    """One schedule, a list (one per group) or a dict by group name -> a list per group. Each
    schedule may be given as a spec (call syntax, dict with a ``"kind"``, file path)."""
    names = [g.get("name") for g in groups]
    if is_spec(value) and not (isinstance(value, dict) and "kind" in names):
        return [as_schedule(value, name)] * len(groups)
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name}: got {len(value)} schedules for {len(groups)} param groups")
        return [None if s is None else as_schedule(s, f"{name}[{i}]") for i, s in enumerate(value)]
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"{name}: no param group named {unknown[0]!r} (group names: {names})")
        return [None if value.get(n) is None else as_schedule(value[n], f"{name}[{n!r}]") for n in names]
    raise TypeError(f"{name} must be an lrdecay Schedule or spec, a list or a dict of them, got {type(value).__name__}")

