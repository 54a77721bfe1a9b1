"""The registry of schedule kinds: ``kind`` name -> schedule class.

Specs (``from_dict``, ``parse``), ``repr`` and the base class's composite methods (``s.clip()``,
``0.5 * s``, ``s.extend()``) find every kind here by name, so no module has to import the module
that defines a kind. The kinds are defined in the layers above (:mod:`lrdecay.schedules`,
:mod:`lrdecay.compose`, :mod:`lrdecay.training`) and register themselves when imported; the
package (``lrdecay/__init__.py``) installs the function that imports them all on the first
lookup, so the registry is complete whatever was imported first. This module imports nothing of
lrdecay and no NumPy: ``import lrdecay`` stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["register", "registry", "kind_class", "load_kinds_with"]

_REGISTRY: dict[str, Any] = {}
_load_every_kind: Callable[[], None] | None = None


def register(cls):
    """Class decorator: make ``cls`` reachable by its ``kind`` from specs (apply it above
    ``@dataclass(frozen=True, repr=False)``)."""
    kind = cls.__dict__.get("kind")
    if not kind or not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} needs a `kind` class attribute and @dataclass(frozen=True)")
    if kind in _REGISTRY and _REGISTRY[kind] is not cls:
        raise ValueError(f"schedule kind {kind!r} is registered twice")
    _REGISTRY[kind] = cls
    return cls


def registry() -> dict[str, Any]:
    """Every registered schedule kind, sorted by name (the kinds' modules imported first)."""
    if _load_every_kind is not None:
        _load_every_kind()
    return dict(sorted(_REGISTRY.items()))


def kind_class(name: str) -> Any:
    """The schedule class registered as ``name`` (KeyError if there is none)."""
    if name not in _REGISTRY:
        registry()
    return _REGISTRY[name]


def load_kinds_with(loader: Callable[[], None]) -> None:
    """Install ``loader``, which imports every module that defines kinds; the package calls it
    once, at import (it must be idempotent and cheap once done)."""
    global _load_every_kind
    _load_every_kind = loader
