"""Keras adapter: :class:`KerasSchedule`, a ``keras.optimizers.schedules.LearningRateSchedule``
driven by an lrdecay schedule, and :class:`PlateauCallback` for metric-driven reduction on top.

``keras.optimizers.SGD(learning_rate=KerasSchedule(s))`` trains in ``model.fit``; the optimizer
calls the schedule with its ``iterations`` (0 on the first update, TensorFlow's convention) and
gets ``s(iterations)`` in float32, computed with the backend's ops (graph safe). Like Keras's own
schedules it takes any step: a negative one gives the value at step 0 (the lrdecay schedule itself
refuses negative steps; docs/semantics.md). The class is
registered serializable: once ``lrdecay.keras`` is imported, ``keras.models.load_model`` restores
it without ``custom_objects``.
"""

from __future__ import annotations

import warnings

import keras  # absolute import: the real keras

from lrdecay.core.spec import as_schedule, from_dict

__all__ = ["KerasSchedule", "PlateauCallback"]


@keras.saving.register_keras_serializable(package="lrdecay", name="KerasSchedule")
class KerasSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule(step)`` as a Keras learning-rate schedule (``schedule``: a Schedule or a spec:
    call syntax, dict or file path); with ``plateau``, the value is
    ``plateau.effective(schedule(step))``, the factor being held in a ``tf.Variable`` that
    :class:`PlateauCallback` writes (TensorFlow backend).

    ``clocks``: for a :func:`lrdecay.clock_join`, the other clocks it reads, by name, as
    variables the training loop advances (``{"tokens": keras.Variable(0, dtype="int64")}``;
    names only, e.g. ``["tokens"]``, create them at 0); the optimizer's ``iterations`` is the
    ``"steps"`` clock."""

    def __init__(self, schedule, plateau=None, clocks=None):
        schedule = as_schedule(schedule, "schedule")
        if plateau is not None and not all(hasattr(plateau, a) for a in ("update", "factor", "min_lr")):
            raise TypeError(f"plateau must be an lrdecay.Plateau (update/factor/min_lr), got {type(plateau).__name__}")
        if plateau is not None and isinstance(plateau.min_lr, (list, tuple)):
            raise ValueError(f"plateau min_lr must be one number here (a Keras optimizer has one learning "
                             f"rate), got the list {list(plateau.min_lr)!r}")
        self.schedule = schedule
        self.plateau = plateau
        self.factor = None
        self.clocks = _clock_variables(schedule, clocks)
        if plateau is not None:
            import tensorflow as tf

            self.factor = tf.Variable(float(plateau.factor), trainable=False, dtype=tf.float32,
                                      name="lrdecay_plateau_factor")

    def __call__(self, step):
        if isinstance(step, keras.Variable):  # optimizer.iterations
            step = step.value
        step = keras.ops.convert_to_tensor(step)
        # Keras's schedules take negative steps (PiecewiseConstantDecay gives its first value): step 0's value
        step = keras.ops.where(step < 0, keras.ops.zeros_like(step), step)
        if self.clocks:
            extra = {name: keras.ops.convert_to_tensor(v.value if isinstance(v, keras.Variable) else v)
                     for name, v in self.clocks.items()}
            value = self.schedule.at(steps=step, **extra)
        else:
            value = self.schedule(step)
        if self.factor is None:
            return value
        import tensorflow as tf

        factor = tf.cast(self.factor, value.dtype)
        reduced = tf.maximum(value * factor, tf.cast(self.plateau.min_lr, value.dtype))
        return tf.where(factor < 1.0, reduced, value)

    def get_config(self):
        """The schedule's spec (``Schedule.to_dict()``), plus ``"plateau"`` when there is one."""
        config = self.schedule.to_dict()
        if self.plateau is not None:
            config["plateau"] = self.plateau.to_dict()
        if self.clocks:
            config["adapter_clocks"] = list(self.clocks)  # the variables start again at 0
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        plateau = config.pop("plateau", None)
        clocks = config.pop("adapter_clocks", None)
        if plateau is not None:
            from lrdecay.training.plateau import Plateau

            plateau = Plateau.from_dict(plateau)
        return cls(from_dict(config), plateau=plateau, clocks=clocks)


def _clock_variables(schedule, clocks):
    """The extra clocks of a clock_join as ``{name: variable}``; checked against its clocks."""
    needed = [name for name in getattr(schedule, "clock_names", ()) if name != "steps"]
    if clocks is None:
        clocks = {}
    if isinstance(clocks, (list, tuple)):
        clocks = {name: keras.Variable(0, dtype="int64", trainable=False, name=f"lrdecay_{name}") for name in clocks}
    if not isinstance(clocks, dict):
        raise TypeError(f"clocks must be a dict of name -> variable or a list of names, got {clocks!r}")
    if sorted(clocks) != sorted(needed):
        raise ValueError(f"clocks must give the clocks {needed} the schedule reads besides 'steps', got {sorted(clocks)}")
    for name, variable in clocks.items():
        if not hasattr(variable, "assign_add"):
            raise TypeError(f"clocks[{name!r}] must be a variable (keras.Variable or tf.Variable), got {variable!r}")
    return clocks


class PlateauCallback(keras.callbacks.Callback):
    """At each epoch end, give ``logs[monitor]`` to the schedule's plateau and write the new
    factor into the schedule (instead of setting the optimizer's learning rate, which Keras
    refuses for a schedule). ``schedule`` defaults to the model optimizer's learning rate.

    ``reset_on_fit=True``: like ``keras.callbacks.ReduceLROnPlateau``, each ``fit`` call starts
    with no best value and zero wait and cooldown counters (the factor, like Keras's reduced
    learning rate, stays). ``False`` carries them over, for ``fit`` called once per epoch."""

    def __init__(self, monitor="val_loss", schedule=None, reset_on_fit=True):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {monitor!r}")
        if schedule is not None and not isinstance(schedule, KerasSchedule):
            raise TypeError(f"schedule must be a KerasSchedule, got {type(schedule).__name__}")
        if not isinstance(reset_on_fit, bool):
            raise TypeError(f"reset_on_fit must be True or False, got {reset_on_fit!r}")
        self.monitor = monitor
        self.schedule = schedule
        self.reset_on_fit = reset_on_fit

    def on_train_begin(self, logs=None):
        if self.reset_on_fit:
            self._target().plateau.reset_counters()

    def _target(self) -> KerasSchedule:
        schedule = self.schedule or getattr(self.model.optimizer, "_learning_rate", None)
        if not isinstance(schedule, KerasSchedule) or schedule.plateau is None:
            raise ValueError("PlateauCallback needs the optimizer's learning rate to be "
                             "KerasSchedule(schedule, plateau=lrdecay.Plateau(...))")
        return schedule

    def on_epoch_end(self, epoch, logs=None):
        schedule = self._target()
        logs = logs if logs is not None else {}
        metric = logs.get(self.monitor)
        if metric is None:
            warnings.warn(f"PlateauCallback: metric {self.monitor!r} is not in the logs "
                          f"(available: {', '.join(logs)}); the learning rate is left as it is",
                          stacklevel=2)
            return
        step = int(self.model.optimizer.iterations.numpy())
        schedule.plateau.update(float(metric), value=schedule.schedule(step))
        schedule.factor.assign(float(schedule.plateau.factor))
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
