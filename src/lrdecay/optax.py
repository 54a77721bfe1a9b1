"""Optax adapter.

A schedule already maps a step count to a value, so an optax schedule is the schedule itself,
evaluated on the optimizer's ``count`` (0 on the first update, optax's convention)::

    tx = optax.sgd(learning_rate=lrdecay.optax.as_optax(s))

To see the current value in the optimizer state, inject it as a hyperparameter (one line)::

    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=lrdecay.optax.as_optax(s))
    # state.hyperparams["learning_rate"] == s(step) at each update

The value is computed from the traced ``count``, so changing values never retrace a jitted
update. With a metric-driven :class:`lrdecay.Plateau`, use :func:`scale_by_plateau_schedule`,
whose state holds the factor as an array that the host writes between steps.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp  # absolute imports: the real jax and optax
import optax

from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import as_schedule

__all__ = ["as_optax", "scale_by_plateau_schedule", "PlateauScheduleState", "set_plateau_factor",
           "scale_by_clock_schedule", "ClockScheduleState"]


class _OptaxSchedule:
    """``count -> schedule(count)`` as a JAX array (float32 for integer counts); a plain
    picklable object rather than a lambda."""

    __slots__ = ("schedule", "__weakref__")

    def __init__(self, schedule: Schedule):
        self.schedule = schedule

    def __call__(self, count):
        return self.schedule(jnp.asarray(count))

    def __repr__(self):
        return f"as_optax({self.schedule!r})"


def as_optax(schedule):
    """An optax schedule (``count -> value``, jit and vmap safe) for ``schedule`` (a Schedule
    or a spec: call syntax, dict or file path)."""
    return _OptaxSchedule(as_schedule(schedule, "schedule"))


class PlateauScheduleState(NamedTuple):
    count: jnp.ndarray  # type: ignore[assignment]  #: updates done so far (a field named like tuple.count)
    learning_rate: jnp.ndarray  #: the effective value used by the last update
    plateau_factor: jnp.ndarray  #: the plateau's factor, written by the host


def scale_by_plateau_schedule(schedule, plateau) -> optax.GradientTransformation:
    """Scale updates by ``-plateau.effective(schedule(count))``: put it last in an
    ``optax.chain`` in place of ``optax.scale_by_learning_rate``. After each evaluation, write
    the plateau's new factor with :func:`set_plateau_factor`; the effective value is
    ``max(value * factor, plateau.min_lr)`` once a reduction has happened, else ``value``."""
    fn = as_optax(schedule)
    if not all(hasattr(plateau, a) for a in ("update", "factor", "min_lr")):
        raise TypeError(f"plateau must be an lrdecay.Plateau (update/factor/min_lr), got {type(plateau).__name__}")
    if isinstance(plateau.min_lr, (list, tuple)):
        raise ValueError(f"plateau min_lr must be one number here (one learning rate), got the list "
                         f"{list(plateau.min_lr)!r}")
    min_lr = float(plateau.min_lr)

    def init(params):
        del params
        return PlateauScheduleState(jnp.zeros([], jnp.int32), jnp.asarray(fn(0)),
                                    jnp.asarray(float(plateau.factor), jnp.float32))

    def update(updates, state, params=None):
        del params
        value = fn(state.count)
        factor = state.plateau_factor.astype(value.dtype)
        lr = jnp.where(factor < 1.0, jnp.maximum(value * factor, min_lr), value)
        updates = optax.tree_utils.tree_scale(-lr, updates)
        return updates, PlateauScheduleState(state.count + 1, lr, state.plateau_factor)

    return optax.GradientTransformation(init, update)


def set_plateau_factor(state, factor):
    """``state`` (any optax state containing a :class:`PlateauScheduleState`) with the factor
    replaced, e.g. ``set_plateau_factor(state, plateau.update(val_loss))``."""
    return optax.tree_utils.tree_set(state, plateau_factor=jnp.asarray(float(factor), jnp.float32))


_LIMB = 2**20


class ClockScheduleState(NamedTuple):
    count: jnp.ndarray  # type: ignore[assignment]  #: updates done so far (the ``"steps"`` clock)
    clocks: dict  #: the other clocks so far, each as int32 ``[high, low]``: ``high * 2**20 + low``
    learning_rate: jnp.ndarray  #: the value used by the last update


def scale_by_clock_schedule(schedule) -> optax.GradientTransformationExtraArgs:
    """Scale updates by ``-schedule.at(steps=count, **clocks)`` for a
    :func:`lrdecay.clock_join` that reads other clocks than the update count (e.g. warm-up in
    steps, decay in tokens): pass what each update consumes as extra arguments,
    ``tx.update(grads, state, params, tokens=n)`` (as with ``optax.chain`` of
    ``GradientTransformationExtraArgs``). Each update uses the clocks before it (optax's
    convention); put it last in an ``optax.chain`` in place of ``optax.scale_by_learning_rate``."""
    schedule = as_schedule(schedule, "schedule")
    names = [name for name in getattr(schedule, "clock_names", ()) if name != "steps"]
    if not names:
        raise TypeError(f"schedule must be a clock_join reading clocks other than 'steps', got {schedule!r}")

    def value(count, clocks):  # int32 limbs: exact counts up to 2**51 without 64-bit mode
        totals = {name: c[0].astype(jnp.float32) * float(_LIMB) + c[1].astype(jnp.float32) for name, c in clocks.items()}
        return schedule.at(steps=count, **totals)

    def add(clock, n):
        low = clock[1] + jnp.asarray(n, jnp.int32)
        return jnp.stack([clock[0] + low // _LIMB, low % _LIMB])

    def init(params):
        del params
        clocks = {name: jnp.zeros([2], jnp.int32) for name in names}
        return ClockScheduleState(jnp.zeros([], jnp.int32), clocks, jnp.asarray(value(jnp.zeros([], jnp.int32), clocks)))

    def update(updates, state, params=None, **extra_args):
        del params
        missing = [name for name in names if name not in extra_args]
        if missing:
            raise TypeError(f"update() needs the amount of each clock per update as extra arguments, missing {missing}")
        lr = value(state.count, state.clocks)
        updates = optax.tree_utils.tree_scale(-lr, updates)
        clocks = {name: add(state.clocks[name], extra_args[name]) for name in names}
        return updates, ClockScheduleState(state.count + 1, clocks, lr)

    return optax.GradientTransformationExtraArgs(init, update)
