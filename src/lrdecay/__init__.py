"""lrdecay: learning-rate schedules written once, exact in every framework.

``import lrdecay`` needs only NumPy; framework adapters (``lrdecay.torch``, ``lrdecay.keras``,
``lrdecay.optax``, ``lrdecay.compat.tf1``) and plotting are imported on use.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

# ``import lrdecay`` runs only this file: the schedule modules (and NumPy) are loaded together on
# the first use of any public name (``lrdecay.cosine_decay``, ``from lrdecay import parse``,
# ``lrdecay.registry()``), by the module ``__getattr__`` below. Creating the schedule classes is
# most of the import cost; a script that only imports ``lrdecay.torch`` or runs ``--help`` skips it.

#: The modules whose ``__all__`` make up lrdecay's public names (a later module's name wins).
_MODULES = ("anchors", "annealing", "compose", "cosine", "cyclic", "decay", "largescale", "noise", "plateau", "replan",
            "schedule", "simple", "spec", "transformer")
#: Public names from other modules: name -> (module, attribute; None for the module itself).
_OTHER_NAMES = {
    "ema": ("ema", None),
    "finder": ("finder", None),
    "from_hf": ("migrate", "from_hf"),
    "from_keras": ("migrate", "from_keras"),
    "from_timm": ("migrate", "from_timm"),
    "from_torch": ("migrate", "from_torch"),
}
_loaded = False


def _load() -> None:
    """Import every schedule module and bind the public names here (once)."""
    global _loaded, __all__
    if _loaded:
        return
    names, public = {}, []
    for module_name in _MODULES:
        module = importlib.import_module(f".{module_name}", __name__)
        names.update((name, getattr(module, name)) for name in module.__all__)
        public.extend(module.__all__)
    for name, (module_name, attribute) in _OTHER_NAMES.items():
        module = importlib.import_module(f".{module_name}", __name__)
        names[name] = module if attribute is None else getattr(module, attribute)
    globals().update(names)  # ``cyclic`` the schedule replaces ``cyclic`` the module
    __all__ = list(dict.fromkeys(public + list(_OTHER_NAMES)))
    _loaded = True


def __getattr__(name):
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    _load()
    return sorted(globals())


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        # ``lrdecay.cyclic`` is the schedule: importing the module of that name (which another
        # submodule may do before the public names are loaded) must not bind the module here
        if name == "cyclic" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
