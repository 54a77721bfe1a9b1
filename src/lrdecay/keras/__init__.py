"""Keras: :class:`KerasSchedule`, a serializable Keras learning-rate schedule driven by an lrdecay
schedule; :class:`PlateauCallback`, metric-driven reduction on top; :func:`lr_find`, the
learning-rate range test on a compiled Keras model."""

from lrdecay.keras.adapter import KerasSchedule, PlateauCallback
from lrdecay.keras.finder import lr_find

__all__ = ["KerasSchedule", "PlateauCallback", "lr_find"]
