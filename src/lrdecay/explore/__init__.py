"""The explorer (``lrdecay explore``): a local page to write a schedule and see its curve live,
with ``lrdecay check``'s warnings, the spec as text/YAML/JSON, code for PyTorch, Keras and
Optax, and a link that restores the view. Needs ``pip install 'lrdecay[explore]'``.
"""

from lrdecay.explore.server import create_app, serve

__all__ = ["create_app", "serve"]
