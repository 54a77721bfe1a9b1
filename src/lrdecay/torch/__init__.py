"""PyTorch: :class:`ScheduleLR`, a ``torch.optim.lr_scheduler.LRScheduler`` driven by lrdecay
schedules, and :func:`lr_find`, the learning-rate range test on a PyTorch model."""

from lrdecay.torch.adapter import ScheduleLR
from lrdecay.torch.finder import lr_find

__all__ = ["ScheduleLR", "lr_find"]
