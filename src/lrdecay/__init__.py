"""lrdecay: learning-rate schedules written once, exact in every framework.

``import lrdecay`` needs only NumPy; framework adapters (``lrdecay.torch``, ``lrdecay.keras``,
``lrdecay.optax``, ``lrdecay.compat.tf1``) and plotting are imported on use.
"""

from . import anchors, annealing, compose, cosine, cyclic, decay, ema, noise, plateau, replan, schedule, simple, spec, transformer

# Taken before the star imports: ``cyclic`` the schedule replaces ``cyclic`` the module below.
_MODULES = (schedule, spec, decay, cosine, simple, annealing, cyclic, transformer, compose, plateau, anchors, noise, replan)
from .anchors import *  # noqa: F403
from .annealing import *  # noqa: F403
from .compose import *  # noqa: F403
from .cosine import *  # noqa: F403
from .cyclic import *  # noqa: F403
from .decay import *  # noqa: F403
from .noise import *  # noqa: F403
from .plateau import *  # noqa: F403
from .replan import *  # noqa: F403
from .schedule import *  # noqa: F403
from .simple import *  # noqa: F403
from .spec import *  # noqa: F403
from .transformer import *  # noqa: F403
from .migrate import from_hf, from_keras, from_timm, from_torch  # noqa: E402 - switching from other libraries

__version__ = "0.1.0"

__all__ = [name for module in _MODULES for name in module.__all__] + [
    "ema", "from_hf", "from_keras", "from_timm", "from_torch",
]
