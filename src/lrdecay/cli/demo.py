"""``lrdecay demo`` and ``lrdecay find``: the report, and the range test on the report's digits network."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lrdecay.cli.app import (
    CheckFormat,
    _check_output,
    _Command,
    _console,
    _fail,
    _styled,
    app,
)


@app.command(cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER", help="Folder for index.html and the figures (created if missing).")] = Path("lrdecay-report"),
    quick: Annotated[bool, typer.Option("--quick", help="Shorter trainings and smaller figures (a quick look, or a smoke test).")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", show_default=False, help="Show a progress bar [default: shown]; the summary is printed either way.")] = True,
):
    """Write the demo report to a folder: TensorFlow's decay functions as the blog posts on
    learning-rate decay that the demo reproduces draw them, their toy training and moving
    average, a training comparison on scikit-learn's digits, the range test, a loss-curve
    forecast checked against real trainings, and every kind."""
    import importlib.util

    missing = [package for module, package in (("matplotlib", "matplotlib"), ("sklearn", "scikit-learn"))
               if importlib.util.find_spec(module) is None]
    if missing:
        raise _fail(f"the demo report needs {' and '.join(missing)}: pip install 'lrdecay[demo]'")
    from lrdecay.report import build

    index = build(out, quick=quick, progress=progress, summary=True)
    print(f"report: {index.resolve()}")


# -- find ------------------------------------------------------------------------------------


class SweepMode(str, Enum):
    exp = "exp"
    linear = "linear"


@app.command(cls=_Command)
def find(
    start: Annotated[float, typer.Option("--start", metavar="LR", help="First rate of the sweep.")] = 1e-5,
    end: Annotated[float, typer.Option("--end", metavar="LR", help="Last rate of the sweep.")] = 10.0,
    steps: Annotated[int, typer.Option("--steps", "-n", metavar="N", help="Steps (SGD updates) of the sweep.")] = 300,
    mode: Annotated[SweepMode, typer.Option("--mode", metavar="MODE", help="exp (geometric) or linear sweep.")] = SweepMode.exp,
    smooth: Annotated[float, typer.Option("--smooth", metavar="X", help="Weight of each new loss in the running average, (0, 1].")] = 0.05,
    diverge: Annotated[float, typer.Option("--diverge", metavar="X", help="Stop when the average passes this times its minimum.")] = 5.0,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed of the initial weights and the minibatch order.")] = 0,
    total_steps: Annotated[int, typer.Option("--total-steps", metavar="N", show_default=False, help="Training length for the suggested schedules [default: 30 epochs].")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Plot to out.png/out.svg/out.pdf (its folder must exist).")] = None,
    save: Annotated[Path | None, typer.Option("--save", metavar="FILE", help="Write the result as JSON to this file.")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")] = CheckFormat.table,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", show_default=False, help="Progress bar [default: on a terminal].")] = None,
):
    """The learning-rate range test on a built-in demo problem (the digits network of the demo
    report: NumPy, plain SGD): sweep the rate, print each rule's suggestion and schedules built
    from it, and optionally plot and save the result."""
    try:
        from lrdecay.report import digits, finder_demo
    except ImportError as error:
        raise _fail(f"find needs {error.name}: pip install 'lrdecay[demo]'") from None
    if total_steps < 0 or total_steps == 1:
        raise _fail(f"--total-steps must be >= 2, got {total_steps}")
    if output is not None:
        from lrdecay.tools import plot as plotting

        _check_output(output, "--output", plotting.FILE_FORMATS)
    if save is not None:
        _check_output(save, "--save")
    try:
        data = digits.load_data()
        result = finder_demo.find(data, seed, start_lr=start, end_lr=end, num_steps=steps, mode=mode.value,
                                  smooth=smooth, diverge=diverge, progress=progress)
    except (TypeError, ValueError) as error:
        import re

        options = {"start_lr": "--start", "end_lr": "--end", "num_steps": "--steps", "smooth": "--smooth",
                   "diverge": "--diverge", "mode": "--mode"}
        raise _fail(re.sub(r"\b(" + "|".join(options) + r")\b", lambda m: options[m.group(1)], str(error))) from None
    total = total_steps or 30 * finder_demo.steps_per_epoch(data)
    schedules = {}
    if result.suggestion is not None:
        schedules = {kind: repr(result.to_schedule(kind, total_steps=total)) for kind in ("one_cycle", "warmup_cosine")}
    if save is not None:
        try:
            save.write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
        except OSError as error:
            raise _fail(f"{save}: cannot write ({error.strerror or error})") from None
    if output is not None:
        try:
            result.plot(output, title=f"range test on the digits network (seed {seed})")
        except OSError as error:
            raise _fail(f"{output}: cannot write ({error.strerror or error})") from None
    if format is CheckFormat.json:
        print(json.dumps({**result.to_dict(), "schedules": schedules}))
    else:
        console = _console()
        console.print(result.summary(), soft_wrap=True)
        for kind, spec in schedules.items():
            console.print(_styled(f"{kind} ({total} steps): ", "bold", spec), soft_wrap=True)
        if result.spread is not None and result.spread > 1:
            console.print(_styled("note: ", "bold yellow", f"the rules disagree by {result.spread:.1f} decades: the "
                                  "loss curve has no single clear descent (a short sweep is noisy: more --steps "
                                  "smooths it); look at the plot (-o range.png) before trusting the suggestion"),
                          soft_wrap=True)
    sys.stdout.flush()
    for path in (save, output):
        if path is not None:
            sys.stderr.write(f"lrdecay: wrote {path}\n")


# -- explore ---------------------------------------------------------------------------------
