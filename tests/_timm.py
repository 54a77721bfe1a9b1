"""timm's schedulers without the rest of timm.

``import timm`` loads its model zoo, which needs torchvision (not installable beside the CPU build
of torch the tests use). Its ``timm.scheduler`` package needs only torch, so it is imported here
under an empty ``timm`` package that points at the installed files. ``.ci/run`` installs timm with
``--no-deps``; the tests that need it fail (not skip) when it is missing.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types


def timm_scheduler():
    """The real ``timm.scheduler`` module."""
    if "timm.scheduler" not in sys.modules:
        spec = importlib.util.find_spec("timm")
        if spec is None or spec.origin is None:
            raise ImportError("timm is not installed: pip install --no-deps 'timm>=1.0'")
        if "timm" not in sys.modules:
            package = types.ModuleType("timm")
            package.__path__ = [os.path.dirname(spec.origin)]
            sys.modules["timm"] = package
    import timm.scheduler

    return timm.scheduler
