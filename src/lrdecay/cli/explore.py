"""``lrdecay explore``: the local page where the curve follows as you type."""

from __future__ import annotations

from typing import Annotated

import typer

from lrdecay.cli.app import _Command, _fail, _specs, _steps_option, app


@app.command(cls=_Command)
def explore(
    specs: Annotated[list[str] | None, typer.Argument(metavar="SPEC", help="Schedules to open the page with (call syntax or files).")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", metavar="PORT", help="Port on 127.0.0.1 [default: 8765, else a free one, said on stderr].")] = None,
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", help="Training length in steps [default: duration+1, else 100].")] = None,
    log: Annotated[bool, typer.Option("--log", help="Start with a logarithmic value axis.")] = False,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", show_default=False, help="Open the page in the web browser [default: open it].")] = True,
):
    """A local web page to write schedules and see their curves live, with check's warnings,
    the spec as text/YAML/JSON and code for PyTorch, Keras and Optax (Ctrl+C stops it)."""
    try:
        from lrdecay.explore import serve
    except ImportError as error:
        raise _fail(f"explore needs {error.name}: pip install 'lrdecay[explore]'") from None
    schedules = _specs(specs or [])
    if steps is not None:
        _steps_option(steps, schedules)
    if port is not None and not 0 <= port <= 65535:
        raise _fail(f"--port must be between 0 and 65535, got {port}")
    try:
        serve([repr(s) for s in schedules], port=port, steps=steps, log=log, open_browser=browser)
    except OSError as error:
        raise _fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
    except RuntimeError as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        pass
