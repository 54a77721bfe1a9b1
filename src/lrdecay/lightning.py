"""Lightning integration: :func:`lr_scheduler_config` for ``configure_optimizers`` and the
:class:`ScheduleMonitor` callback.

The scheduler is a :class:`lrdecay.torch.ScheduleLR` on the ``"updates"`` clock: it follows the
optimizer's real updates (an optimizer step hook), so the value applied to update ``n`` is
``schedule(n)`` whatever Lightning's ``interval``, with gradient accumulation (``n`` counts
updates, not batches) and with an update skipped by AMP. Lightning saves its ``state_dict`` in
checkpoints and restores it on ``fit(ckpt_path=...)``, so a resumed run goes on where it stopped::

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=schedule(0))
        return {"optimizer": optimizer, "lr_scheduler": lrdecay.lightning.lr_scheduler_config(optimizer, schedule)}

With a metric-driven :class:`lrdecay.Plateau`, give the logged metric it watches as ``monitor``:
Lightning passes that metric to the scheduler at the end of each epoch (``interval="epoch"``) or
every ``frequency`` updates (``interval="step"``).

With ``trainer=self.trainer`` (or the :class:`ScheduleMonitor` callback), the schedule's duration is
compared with the optimizer steps the trainer plans, ``trainer.estimated_stepping_batches``
(gradient accumulation included): a mismatch over 1% warns once (:class:`HorizonWarning`).
"""

from __future__ import annotations

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the standalone package
    from pytorch_lightning.callbacks import Callback  # type: ignore[assignment, unused-ignore]

import math
import warnings
import weakref

from lrdecay.core.spec import from_dict
from lrdecay.tools.summary import HorizonWarning, horizon_mismatch
from lrdecay.torch.adapter import _BETAS, ScheduleLR

__all__ = ["lr_scheduler_config", "ScheduleMonitor", "check_horizon", "HorizonWarning"]

_INTERVALS = ("step", "epoch")


def lr_scheduler_config(optimizer, schedule, *, monitor=None, plateau=None, interval=None, frequency=1,
                        name=None, trainer=None, **options) -> dict:
    """The ``"lr_scheduler"`` entry of ``configure_optimizers``' answer: a ``ScheduleLR`` that
    follows every optimizer update.

    ``schedule``, ``hyperparams``, ``mode``, ``compile_safe``: as :class:`ScheduleLR` (given as
    keyword ``options``). ``plateau`` (an :class:`lrdecay.Plateau`) needs ``monitor``, the name of
    a metric logged with ``self.log``; ``interval`` (``"epoch"`` by default with a plateau) and
    ``frequency`` say how often Lightning gives it that metric. ``name`` names the scheduler for
    loggers. ``trainer`` (``self.trainer`` in ``configure_optimizers``): warn now when the schedule's
    duration and the trainer's planned optimizer steps differ (:func:`check_horizon`)."""
    if monitor is not None and not isinstance(monitor, str):
        raise TypeError(f"monitor must be the name of a logged metric (str), got {type(monitor).__name__}")
    if plateau is None and monitor is not None:
        raise ValueError(f"monitor={monitor!r} needs a plateau to feed: lr_scheduler_config(..., plateau=lrdecay.Plateau(...))")
    if plateau is not None and monitor is None:
        raise ValueError("a plateau needs monitor=, the name of the logged metric it watches (e.g. 'val_loss')")
    if interval is None:
        interval = "step" if plateau is None else "epoch"
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be 'step' or 'epoch', got {interval!r}")
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise ValueError(f"frequency must be an int >= 1, got {frequency!r}")
    if "clock" in options:
        raise TypeError("clock is fixed to 'updates' here: Lightning steps the optimizer, the scheduler follows it")
    scheduler = ScheduleLR(optimizer, schedule, plateau=plateau, clock="updates", **options)
    if trainer is not None:
        check_horizon(trainer, scheduler)
    config = {"scheduler": scheduler, "interval": interval, "frequency": frequency, "name": name}
    if plateau is not None:
        config.update(monitor=monitor, reduce_on_plateau=True, strict=True)
    return config


#: schedulers already compared with their trainer's plan (each warns once)
_CHECKED: weakref.WeakSet = weakref.WeakSet()


def check_horizon(trainer, scheduler) -> list[str]:
    """Compare the duration of each learning-rate schedule of ``scheduler`` (a :class:`ScheduleLR`)
    with ``trainer.estimated_stepping_batches``, the optimizer steps the trainer plans (epochs times
    batches per epoch over ``accumulate_grad_batches``, or ``max_steps``), and warn
    (:class:`HorizonWarning`) where they differ by more than 1%: once per scheduler. Returns the
    warnings given (none for a schedule that never ends, or one checked before)."""
    if not hasattr(trainer, "estimated_stepping_batches"):
        raise TypeError(f"trainer must be a Lightning Trainer, got {type(trainer).__name__}")
    if scheduler in _CHECKED:
        return []
    _CHECKED.add(scheduler)
    specs = {repr(s): s for s in scheduler.spec()["schedules"]["lr"] if s is not None}  # each once
    schedules = [from_dict(s) for s in specs.values()]
    if all(s.duration is None for s in schedules):
        return []
    planned = trainer.estimated_stepping_batches
    planned = math.inf if planned is None or planned < 0 else planned  # -1: a dataloader without a length
    given = []
    for schedule in schedules:
        mismatch = horizon_mismatch(schedule, planned)
        if mismatch is None:
            continue
        if math.isinf(planned):
            fix = (f"set Trainer(max_steps={math.ceil(schedule.duration or 0)}) (a train dataloader without a length, "
                   "or max_epochs=-1, leaves trainer.estimated_stepping_batches unknown)")
        else:
            fix = (f"trainer.estimated_stepping_batches is {planned} (epochs x batches per epoch / "
                   f"accumulate_grad_batches, or max_steps): build the schedule over self.trainer.estimated_stepping_batches "
                   f"steps in configure_optimizers, or change max_epochs, max_steps or accumulate_grad_batches")
        given.append(f"lrdecay: {schedule!r}: {mismatch}; {fix}")
        warnings.warn(given[-1], HorizonWarning, stacklevel=3)
    return given


class ScheduleMonitor(Callback):
    """Log every hyperparameter that a :class:`ScheduleLR` schedules (``lr``, ``weight_decay``,
    ``momentum``, ``beta1``, ...), as applied to each optimizer update, to the trainer's loggers.

    Names: the hyperparameter (``lr``), then ``/<group name>`` (or ``/pg<i>``) when the optimizer
    has several param groups, prefixed by ``<scheduler name>/`` (or ``scheduler<k>/``) when there
    are several schedulers. The step logged is the update's index, ``trainer.global_step``.
    ``every_n_steps``: log every that many updates [default: the trainer's ``log_every_n_steps``].
    When training starts, it also runs :func:`check_horizon` on each of them."""

    def __init__(self, every_n_steps: int | None = None):
        if every_n_steps is not None and (isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int)
                                          or every_n_steps < 1):
            raise ValueError(f"every_n_steps must be an int >= 1 or None, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps

    def on_train_start(self, trainer, pl_module):
        for config in trainer.lr_scheduler_configs:
            if isinstance(config.scheduler, ScheduleLR):
                check_horizon(trainer, config.scheduler)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        every = self.every_n_steps or trainer.log_every_n_steps or 1
        if trainer.global_step % every or not trainer.loggers:
            return
        values = self.values(trainer)
        if values:
            for logger in trainer.loggers:
                logger.log_metrics(values, step=trainer.global_step)

    @staticmethod
    def values(trainer) -> dict[str, float]:
        """The scheduled hyperparameters' current values, by logged name."""
        configs = [c for c in trainer.lr_scheduler_configs if isinstance(c.scheduler, ScheduleLR)]
        values = {}
        for k, config in enumerate(configs):
            scheduler = config.scheduler
            prefix = f"{config.name}/" if config.name else (f"scheduler{k}/" if len(configs) > 1 else "")
            groups = scheduler.optimizer.param_groups
            for name, per_group in scheduler.spec()["schedules"].items():
                key, index = _BETAS.get(name, (name, None))
                for i, group in enumerate(groups):
                    if per_group[i] is None:
                        continue
                    value = group[key] if index is None else group[key][index]
                    suffix = "" if len(groups) == 1 else f"/{group.get('name') or f'pg{i}'}"
                    values[f"{prefix}{name}{suffix}"] = float(value)
        return values
