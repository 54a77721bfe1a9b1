"""The ``lrdecay`` command: look at a schedule before training with it.

``lrdecay list | show | plot | check | simulate | demo | find | explore | forecast`` (see ``lrdecay --help`` and docs/cli.md).
A SPEC is the call syntax (``"warmup(cosine_decay(0.1, 10000), steps=500)"``) or a ``.json``,
``.yaml``/``.yml`` (or call-syntax text) file. A SPEC that can't be built prints one line on stderr
and exits with status 2.
"""

from lrdecay.cli import demo, explore, forecast, look, plot, simulation  # noqa: F401  (each registers its commands)
from lrdecay.cli.app import app, load_spec

__all__ = ["app", "main", "load_spec"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lrdecay`` script and ``python -m lrdecay``."""
    app(args=argv, prog_name="lrdecay")
