"""Switching to lrdecay: importers that build the lrdecay schedule giving the same numbers as a
PyTorch, Hugging Face, timm or Keras schedule.

* :func:`from_torch` reads a live ``torch.optim.lr_scheduler`` object (its ``state_dict()`` goes
  to ``ScheduleLR.load_state_dict``, see :func:`read_torch_state`); :func:`from_hf` takes
  ``transformers.get_scheduler``'s arguments or the scheduler it returns; :func:`from_timm` a
  timm scheduler object or ``create_scheduler_v2``'s arguments; :func:`from_keras` a Keras
  schedule, its ``get_config()`` or ``serialize()`` output.
* Each returns absolute learning rates (a schedule of the rate, not of a factor). A torch or timm
  scheduler whose param groups have different rates gives one schedule per group (a list, which
  :class:`lrdecay.torch.ScheduleLR` takes as it is).
* The clock: a torch scheduler's step is the number of ``scheduler.step()`` calls; run the
  schedule with ``ScheduleLR(..., clock="calls")`` wherever ``step()`` was called (once per epoch
  or once per batch). When ``step()`` followed every ``optimizer.step()``, ``clock="updates"``
  (the default) gives the same numbers and also skips the updates AMP drops. Hugging Face and
  Optax count optimizer updates (``"updates"``); Keras its optimizer's ``iterations``; timm counts
  epochs (``t_in_epochs=True``: ``clock="calls"`` with one ``step()`` per epoch, or
  ``per_epoch(schedule, steps_per_epoch)`` on updates) or updates (``step_update``).

``docs/migration.md`` (``python scripts/make_migration_table.py``) maps every scheduler of those
frameworks and Optax's to its lrdecay call, with the importers' output for examples.
"""

from lrdecay.migrate.hf import from_hf
from lrdecay.migrate.keras import from_keras
from lrdecay.migrate.timm import from_timm
from lrdecay.migrate.torch import from_torch, plateau_from_torch, torch_hyperparams

__all__ = ["from_torch", "from_hf", "from_timm", "from_keras", "plateau_from_torch", "torch_hyperparams"]
