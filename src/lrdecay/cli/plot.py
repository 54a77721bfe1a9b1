"""``lrdecay plot``: curves as an image file or in the terminal, with the size limits every picture obeys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lrdecay.cli.app import _Command, _draw_series, _fail, _specs, _steps_option, app


@app.command(cls=_Command)
def plot(
    specs: Annotated[list[str], typer.Argument(metavar="SPEC", help="One or more schedules (call syntax or .json/.yaml files), overlaid.")],
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", help="Steps 0..N-1 [default: longest duration+1, else 100].")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write out.png, out.svg or out.pdf (its folder must exist).")] = None,
    log: Annotated[bool, typer.Option("--log", help="Logarithmic value axis.")] = False,
    labels: Annotated[list[str] | None, typer.Option("--labels", "--label", "-l", metavar="LABEL", help="Legend labels: repeat, or one comma-separated list.")] = None,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="Title above the plot.")] = None,
    terminal: Annotated[bool, typer.Option("--terminal", "-t", help="Draw in the terminal (also the default without -o).")] = False,
    width: Annotated[float | None, typer.Option("--width", metavar="SIZE", help="Inches for files [default: 8], characters in the terminal.")] = None,
    height: Annotated[float | None, typer.Option("--height", metavar="SIZE", help="Inches for files [default: 4.5], lines in the terminal.")] = None,
    dpi: Annotated[int, typer.Option("--dpi", metavar="DPI", help="Dots per inch of a .png file.")] = 100,
):
    """Overlaid curves of one or more schedules, to a PNG/SVG/PDF file or the terminal."""
    from lrdecay.tools import plot as plotting

    schedules = _specs(specs)
    count = _steps_option(steps, schedules)
    if labels and len(labels) == 1 and len(schedules) > 1:
        labels = [part.strip() for part in labels[0].split(",")]
    if labels and len(labels) != len(schedules):
        raise _fail(f"--labels: got {len(labels)} labels for {len(schedules)} SPECs")
    labels = labels or specs
    labels = plotting.unique_labels(schedules, labels)
    series = {label: plotting.curve(s, count) for s, label in zip(schedules, labels)}
    _draw_series(series, output, terminal or output is None, log=log, title=title, width=width, height=height,
                 dpi=dpi)
