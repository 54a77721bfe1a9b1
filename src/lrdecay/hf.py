"""Hugging Face ``Trainer`` integration: :func:`scheduler_for_trainer` builds the
:class:`lrdecay.torch.ScheduleLR` to pass as ``Trainer(..., optimizers=(optimizer, scheduler))``
from a spec and the ``TrainingArguments``.

The scheduler follows the optimizer's real updates (the ``"updates"`` clock), which is what the
Trainer counts as a step: with ``gradient_accumulation_steps=k`` one update per ``k`` batches, and
an update skipped by the fp16 scaler does not count. The Trainer saves the scheduler's state in
each checkpoint and restores it on ``train(resume_from_checkpoint=...)``::

    args = TrainingArguments(output_dir="out", num_train_epochs=3, warmup_steps=100, ...)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    scheduler = lrdecay.hf.scheduler_for_trainer(
        "cosine_decay({lr}, decay_steps={decay_steps})", optimizer, args, train_dataset=train_data)
    Trainer(model=model, args=args, train_dataset=train_data, optimizers=(optimizer, scheduler)).train()

Reduce on plateau on top of the schedule: build the scheduler with ``plateau=lrdecay.Plateau(...)``
and add ``PlateauCallback(scheduler)``, which gives it the evaluation metric after each evaluation
(the Trainer itself feeds only torch's ``ReduceLROnPlateau``).

A schedule whose duration differs by more than 1% from the updates the Trainer will make warns
once, when the scheduler is built (:class:`HorizonWarning`).
"""

from __future__ import annotations

import math
import warnings

from transformers import TrainerCallback

from lrdecay.compose.nodes import warmup
from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import SpecError, from_dict, parse
from lrdecay.tools.summary import HorizonWarning, horizon_mismatch
from lrdecay.torch.adapter import ScheduleLR

__all__ = ["scheduler_for_trainer", "training_steps", "PlateauCallback", "PLACEHOLDERS", "HorizonWarning"]

#: Names a text spec may use in braces; they are replaced by the run's numbers.
PLACEHOLDERS = ("training_steps", "warmup_steps", "decay_steps", "lr")


def training_steps(args, train_dataset=None) -> int:
    """The number of optimizer updates the Trainer makes with ``args``: ``max_steps`` when it is
    set, else ``ceil(num_train_epochs * updates_per_epoch)`` with
    ``updates_per_epoch = ceil(batches / gradient_accumulation_steps)`` (at least 1) and the
    batches of one process's dataloader (``train_batch_size``, ``dataloader_drop_last``, shared
    among ``world_size`` processes) -- Trainer's own count."""
    if getattr(args, "max_steps", -1) > 0:
        return int(args.max_steps)
    if train_dataset is None or not hasattr(train_dataset, "__len__"):
        raise ValueError("training_steps: with max_steps unset, give the train_dataset (with a length) "
                         "or num_training_steps")
    samples, batch = len(train_dataset), args.train_batch_size
    batches = samples // batch if args.dataloader_drop_last else math.ceil(samples / batch)
    batches = math.ceil(batches / max(1, getattr(args, "world_size", 1)))
    updates_per_epoch = max(math.ceil(batches / args.gradient_accumulation_steps), 1)
    return math.ceil(args.num_train_epochs * updates_per_epoch)


def scheduler_for_trainer(schedule, optimizer, args, *, num_training_steps=None, train_dataset=None,
                          **options) -> ScheduleLR:
    """A ``ScheduleLR`` for ``Trainer(optimizers=(optimizer, scheduler))``.

    ``schedule``: the schedule after warm-up, as a :class:`Schedule`, a dict spec, or call-syntax
    text that may use ``{training_steps}``, ``{warmup_steps}``, ``{decay_steps}`` (training minus
    warm-up) and ``{lr}`` (``args.learning_rate``), e.g. ``"cosine_decay({lr}, {decay_steps})"``.
    The run's length is ``num_training_steps``, else :func:`training_steps` of ``args`` and
    ``train_dataset``. When ``args`` ask for a warm-up (``warmup_steps``: a count, or below 1 a
    fraction of the run; ``warmup_ratio`` before transformers 5; as ``args.get_warmup_steps``
    counts it), the schedule is wrapped in
    ``warmup(schedule, steps=W)``: a linear ramp from 0 over ``W`` updates, then
    ``schedule(t - W)`` (Hugging Face's warm-up). Other keyword ``options`` go to ``ScheduleLR``
    (``hyperparams``, ``mode``, ...).

    The finished schedule's duration is compared with the updates the Trainer will make
    (:func:`training_steps`, else ``num_training_steps``): a difference over 1% warns
    (:class:`HorizonWarning`), naming both numbers."""
    if num_training_steps is None:
        num_training_steps = training_steps(args, train_dataset)
    if isinstance(num_training_steps, bool) or not isinstance(num_training_steps, int) or num_training_steps < 1:
        raise ValueError(f"num_training_steps must be an int >= 1, got {num_training_steps!r}")
    warmup_steps = _warmup_steps(args, num_training_steps)
    planned = _planned_steps(args, train_dataset)
    numbers = {
        "training_steps": num_training_steps,
        "warmup_steps": warmup_steps,
        "decay_steps": max(num_training_steps - warmup_steps, 1),
        "lr": float(args.learning_rate),
    }
    schedule = _read(schedule, numbers)
    if warmup_steps > 0:
        schedule = warmup(schedule, steps=warmup_steps)
    if "clock" in options:
        raise TypeError("clock is fixed to 'updates' here: the Trainer's steps are optimizer updates")
    scheduler = ScheduleLR(optimizer, schedule, clock="updates", **options)
    _check_horizon(schedule, num_training_steps if planned is None else planned, planned is not None)
    return scheduler


def _planned_steps(args, train_dataset) -> int | None:
    """The Trainer's own count of updates, when ``args`` and ``train_dataset`` tell it."""
    if getattr(args, "max_steps", -1) > 0 or (train_dataset is not None and hasattr(train_dataset, "__len__")):
        return training_steps(args, train_dataset)
    return None


def _check_horizon(schedule: Schedule, steps: int, counted: bool) -> None:
    """Warn when ``schedule`` does not last ``steps`` updates (``counted``: the Trainer's count)."""
    mismatch = horizon_mismatch(schedule, steps)
    if mismatch is None:
        return
    where = ("the Trainer's count (lrdecay.hf.training_steps: max_steps, else num_train_epochs x "
             "ceil(batches / gradient_accumulation_steps))" if counted else "num_training_steps")
    warnings.warn(
        f"lrdecay: {schedule!r}: {mismatch}; {steps} optimizer steps is {where}: write the schedule with "
        f"{{decay_steps}} or {{training_steps}} (filled in from the run), or set TrainingArguments(max_steps=...) "
        f"to the schedule's length",
        HorizonWarning, stacklevel=3,
    )


def _warmup_steps(args, num_training_steps: int) -> int:
    if not hasattr(args, "get_warmup_steps"):
        raise TypeError(f"args must be transformers.TrainingArguments, got {type(args).__name__}")
    return int(args.get_warmup_steps(num_training_steps))


def _read(schedule, numbers: dict) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, dict):
        return from_dict(schedule)
    if isinstance(schedule, str):
        text = schedule
        for name, value in numbers.items():
            text = text.replace("{" + name + "}", repr(value))
        if "{" in text and not text.lstrip().startswith("{"):
            raise SpecError(f"schedule: unknown placeholder in {schedule!r} "
                            f"(known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)})")
        return parse(text)
    raise TypeError(f"schedule must be an lrdecay Schedule, a dict spec or call-syntax text, "
                    f"got {type(schedule).__name__}")


class PlateauCallback(TrainerCallback):
    """Give an evaluation metric to the scheduler's :class:`lrdecay.Plateau` after each of the
    Trainer's evaluations: ``Trainer(..., callbacks=[PlateauCallback(scheduler)])``.

    ``metric``: the metric's name (``"eval_"`` is prepended when missing, as the Trainer does)
    [default: ``args.metric_for_best_model``, else ``"eval_loss"``]."""

    def __init__(self, scheduler, metric: str | None = None):
        if not isinstance(scheduler, ScheduleLR) or scheduler.plateau is None:
            raise TypeError("scheduler must be a ScheduleLR with a plateau: "
                            "scheduler_for_trainer(..., plateau=lrdecay.Plateau(...))")
        if metric is not None and not isinstance(metric, str):
            raise TypeError(f"metric must be a metric name (str) or None, got {type(metric).__name__}")
        self.scheduler, self.metric = scheduler, metric

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        name = self.metric or getattr(args, "metric_for_best_model", None) or "eval_loss"
        if not name.startswith("eval_"):
            name = f"eval_{name}"
        metrics = metrics or {}
        if name not in metrics:
            raise KeyError(f"PlateauCallback watches {name!r}, which the evaluation did not report "
                           f"(it reported: {', '.join(sorted(metrics)) or 'nothing'})")
        self.scheduler.observe(metrics[name])
