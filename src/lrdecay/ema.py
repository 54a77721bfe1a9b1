"""``lrdecay.ema``, as in 0.2: the moving average of weights lives in :mod:`lrdecay.training.ema`."""

from lrdecay.training.ema import *  # noqa: F403
from lrdecay.training.ema import __all__ as __all__
