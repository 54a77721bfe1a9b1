"""The ``lrdecay`` command's application object and what its commands share: reading SPECs,
refusing bad input with one line on stderr (status 2), styled terminal output."""

from __future__ import annotations

import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import SpecError, load, parse
from lrdecay.tools.summary import (
    MAX_STEP,
    default_steps,
)

#: ``show`` prints at most this many rows as a table unless --at/--every say otherwise.
TABLE_ROWS = 60
#: ``show`` prints at most this many rows (csv, json, or a table with --every).
MAX_ROWS = 1_000_000
#: ``simulate`` computes every step's rate: at most this many steps.
MAX_SIMULATED_STEPS = 10_000_000
#: Image files: (min, max) inches a side and dots per inch, at most this many pixels; terminal
#: plots: (min, max) columns and lines.
FILE_INCHES, FILE_DPI, MAX_PIXELS = (2, 200), (10, 2000), 40_000_000
TERMINAL_WIDTH, TERMINAL_HEIGHT = (10, 1000), (3, 500)

app = typer.Typer(
    name="lrdecay",
    help="Look at learning-rate schedules before training with them. "
         "Image files (plot -o out.png) need matplotlib: pip install 'lrdecay[plot]'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _Command(typer.core.TyperCommand):
    """A command whose help reads like click's: arguments as ``SPEC`` or ``SPEC...`` with their
    help, options with their own metavar; no Python type names."""

    def collect_usage_pieces(self, ctx):
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx, formatter):
        arguments = [(_argument_name(p), p.help or "") for p in self.get_params(ctx)
                     if p.param_type_name == "argument"]
        options = [p.get_help_record(ctx) for p in self.get_params(ctx) if p.param_type_name == "option"]
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        with formatter.section("Options"):
            formatter.write_dl([record for record in options if record is not None])


def _argument_name(param) -> str:
    return (param.metavar or param.name.upper()) + ("..." if param.nargs != 1 else "")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"lrdecay {version('lrdecay')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
):
    """Look at learning-rate schedules before training with them."""


# -- helpers ---------------------------------------------------------------------------------


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"lrdecay: error: {' '.join(str(message).split())}\n")
    return typer.Exit(2)


def _console():
    from rich.console import Console

    # piped output is not wrapped at 80 columns: it is read by programs and wide terminals
    # markup off: specs and docstrings hold [brackets] that must print as they are
    return Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 240)


def _styled(label: str, style: str, text: str):
    from rich.text import Text

    return Text.assemble((label, style), text)


def load_spec(text: str) -> Schedule:
    """A schedule from the call syntax or from a ``.json``/``.yaml``/``.yml``/text file."""
    return load(Path(text)) if _names_a_file(text) else parse(text)


def _names_a_file(text: str) -> bool:
    path = Path(text)
    return path.suffix.lower() in (".json", ".yaml", ".yml", ".txt") or ("(" not in text and path.is_file())


def _specs(texts: list[str]) -> list[Schedule]:
    schedules = []
    for text in texts:
        try:
            schedules.append(load_spec(text))
        except SpecError as error:
            if _names_a_file(text):  # the error starts with the file's path
                raise _fail(f"bad SPEC file {error}") from None
            raise _fail(f"bad SPEC {_short(text)}: {error}") from None
    return schedules


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _steps_option(steps: int | None, schedules: list[Schedule]) -> int:
    steps = default_steps(schedules) if steps is None else steps
    if not 1 <= steps <= MAX_STEP:
        raise _fail(f"--steps must be between 1 and 2**53, got {steps}")
    return steps


def _round_stride(stride: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is >= ``stride``."""
    power = 10 ** (len(str(stride)) - 1)
    return next(k * power for k in (1, 2, 5, 10) if k * power >= stride)


def _parse_at(text: str) -> list[int]:
    steps = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise _fail(f"--at: {part!r} is not a step number (write e.g. --at 0,10,100)") from None
        if not (0 <= value <= MAX_STEP and value.is_integer()):
            raise _fail(f"--at: steps must be whole numbers from 0 to 2**53, got {part!r}")
        steps.append(int(value))
    if not steps:
        raise _fail("--at: give at least one step, e.g. --at 0,10,100")
    return steps


# -- list ------------------------------------------------------------------------------------


def _draw_series(series: dict, output: Path | None, terminal: bool, *, log: bool = False, title=None,
                 width=None, height=None, dpi: int = 100) -> None:
    from lrdecay.tools import plot as plotting

    if output is not None:
        _check_output(output, "--output", plotting.FILE_FORMATS)
    _check_size(width, height, dpi, terminal, output is not None)
    if terminal:
        import shutil

        columns, lines = shutil.get_terminal_size((100, 30))
        print(plotting.terminal_series(
            series, log=log, title=title,
            width=int(width or min(columns, 120)), height=int(height or min(max(lines - 6, 12), 30)),
            color=sys.stdout.isatty(),
        ))
    if output is not None:
        try:
            path = plotting.plot_series(series, output, log=log, title=title,
                                        width=width or 8.0, height=height or 4.5, dpi=dpi)
        except ImportError as error:
            raise _fail(f"writing {output.suffix} files needs {error.name or 'matplotlib'}: "
                        "pip install 'lrdecay[plot]' (or draw in the terminal with -t)") from None
        except OSError as error:
            raise _fail(f"{output}: cannot write ({error.strerror or error})") from None
        sys.stderr.write(f"lrdecay: wrote {path}\n")


def _check_output(path: Path, option: str, suffixes: tuple[str, ...] | None = None) -> None:
    """A file to write: the right suffix, in a folder that exists (no folder is made silently)."""
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise _fail(f"{option} must end with {', '.join(suffixes)}, got {str(path)!r}")
    folder = path.parent
    if not folder.is_dir():
        raise _fail(f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist (create it first)")


def _check_size(width, height, dpi: int, terminal: bool, to_file: bool) -> None:
    """Sizes that draw: positive, and bounded so that memory stays small."""
    for name, value in (("--width", width), ("--height", height)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise _fail(f"{name} must be a positive number, got {value:g}")
    if terminal:
        for name, value, (low, high), unit in (("--width", width, TERMINAL_WIDTH, "columns"),
                                               ("--height", height, TERMINAL_HEIGHT, "lines")):
            if value is not None and not low <= value <= high:
                raise _fail(f"{name} in the terminal must be between {low} and {high} {unit}, got {value:g}")
    if to_file:
        if not FILE_DPI[0] <= dpi <= FILE_DPI[1]:
            raise _fail(f"--dpi must be between {FILE_DPI[0]} and {FILE_DPI[1]}, got {dpi}")
        inches = (width or 8.0, height or 4.5)
        for name, value in zip(("--width", "--height"), inches):
            if not FILE_INCHES[0] <= value <= FILE_INCHES[1]:
                raise _fail(f"{name} of an image file must be between {FILE_INCHES[0]} and "
                            f"{FILE_INCHES[1]} inches, got {value:g}")
        pixels = (inches[0] * dpi, inches[1] * dpi)
        if pixels[0] * pixels[1] > MAX_PIXELS:
            raise _fail(f"--dpi {dpi} with a {inches[0]:g} x {inches[1]:g} inch figure makes "
                        f"{pixels[0]:.0f} x {pixels[1]:.0f} pixels, more than {MAX_PIXELS // 10**6} million: "
                        "lower --dpi, --width or --height")


# -- check -----------------------------------------------------------------------------------
