"""``lrdecay.finder``, as in 0.2: the range test lives in :mod:`lrdecay.tools.finder`."""

from lrdecay.tools.finder import *  # noqa: F403
from lrdecay.tools.finder import __all__ as __all__
