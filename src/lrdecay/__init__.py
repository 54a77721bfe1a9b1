"""lrdecay: learning-rate schedules written once, exact in every framework.

``import lrdecay`` needs no NumPy and loads no schedule module: the public names below are bound
on first use (``lrdecay.cosine_decay``, ``from lrdecay import parse``), which imports the
schedule modules and NumPy together. The framework adapters (``lrdecay.torch``,
``lrdecay.keras``, ``lrdecay.optax``, ``lrdecay.compat.tf1``) and plotting are imported on use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lrdecay.core.kinds import load_kinds_with

__version__ = "0.3.0"

#: The modules whose ``__all__`` make up lrdecay's public names; importing them registers every
#: schedule kind.
_PUBLIC_MODULES = (
    "lrdecay.core.schedule",
    "lrdecay.core.spec",
    "lrdecay.schedules.decay",
    "lrdecay.schedules.cosine",
    "lrdecay.schedules.annealing",
    "lrdecay.schedules.cyclical",
    "lrdecay.schedules.shapes",
    "lrdecay.schedules.noise",
    "lrdecay.schedules.transformer",
    "lrdecay.compose.nodes",
    "lrdecay.compose.operators",
    "lrdecay.compose.replan",
    "lrdecay.training.batch_size",
    "lrdecay.training.plateau",
)
#: Other public names: name -> (module, attribute; None for the module itself).
_OTHER_NAMES = {
    "ema": ("lrdecay.ema", None),
    "finder": ("lrdecay.finder", None),
    "from_hf": ("lrdecay.migrate", "from_hf"),
    "from_keras": ("lrdecay.migrate", "from_keras"),
    "from_timm": ("lrdecay.migrate", "from_timm"),
    "from_torch": ("lrdecay.migrate", "from_torch"),
}

if TYPE_CHECKING:  # the same names, for type checkers
    __all__: list[str]
    from lrdecay import ema as ema
    from lrdecay import finder as finder
    from lrdecay.compose.nodes import *  # noqa: F403
    from lrdecay.compose.operators import *  # noqa: F403
    from lrdecay.compose.replan import *  # noqa: F403
    from lrdecay.core.schedule import *  # noqa: F403
    from lrdecay.core.spec import *  # noqa: F403
    from lrdecay.migrate import from_hf as from_hf
    from lrdecay.migrate import from_keras as from_keras
    from lrdecay.migrate import from_timm as from_timm
    from lrdecay.migrate import from_torch as from_torch
    from lrdecay.schedules.annealing import *  # noqa: F403
    from lrdecay.schedules.cosine import *  # noqa: F403
    from lrdecay.schedules.cyclical import *  # noqa: F403
    from lrdecay.schedules.decay import *  # noqa: F403
    from lrdecay.schedules.noise import *  # noqa: F403
    from lrdecay.schedules.shapes import *  # noqa: F403
    from lrdecay.schedules.transformer import *  # noqa: F403
    from lrdecay.training.batch_size import *  # noqa: F403
    from lrdecay.training.plateau import *  # noqa: F403

#: Submodules that 0.2 made attributes of the package once its names were loaded (not in
#: ``__all__``): ``lrdecay.plateau.simulate``, ``lrdecay.migrate.plateau_from_torch``.
_MODULE_ATTRIBUTES = ("lrdecay.plateau", "lrdecay.migrate")

_public: dict[str, Any] = {}
_loading = False


def _load() -> dict[str, Any]:
    """Import every public module once and return the public names (while that import runs, a
    lookup from inside it gets the names bound so far)."""
    global _loading, __all__
    if _public or _loading:
        return _public
    _loading = True
    try:
        names: dict[str, Any] = {}
        for module_name in _PUBLIC_MODULES:
            module = importlib.import_module(module_name)
            names.update((name, getattr(module, name)) for name in module.__all__)
        for name, (module_name, attribute) in _OTHER_NAMES.items():
            module = importlib.import_module(module_name)
            names[name] = module if attribute is None else getattr(module, attribute)
        for module_name in _MODULE_ATTRIBUTES:  # importing a submodule binds it on the package
            importlib.import_module(module_name)
    finally:
        _loading = False
    __all__ = list(names)
    _public.update(names)
    return _public


def _load_kinds() -> None:
    _load()


load_kinds_with(_load_kinds)


def __getattr__(name: str) -> Any:
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    names = _load()
    if name == "__all__":
        return __all__
    try:
        value = names[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_load()))
