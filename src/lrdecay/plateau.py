"""``lrdecay.plateau``, as in 0.2: the plateau controller lives in :mod:`lrdecay.training.plateau`."""

from lrdecay.training.plateau import *  # noqa: F403
from lrdecay.training.plateau import __all__ as __all__
