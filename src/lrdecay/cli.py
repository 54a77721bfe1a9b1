"""The ``lrdecay`` command: look at a schedule before training with it.

``lrdecay list | show | plot | check | simulate | demo | find | explore`` (see ``lrdecay --help`` and docs/cli.md).
A SPEC is the call syntax (``"warmup(cosine_decay(0.1, 10000), steps=500)"``) or a ``.json``,
``.yaml``/``.yml`` (or call-syntax text) file. A SPEC that can't be built prints one line on stderr
and exits with status 2.
"""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from .schedule import Schedule, registry
from .spec import SpecError, load, parse
from .summary import (
    CHECK_POINTS,
    MAX_STEP,
    default_steps,
    formula,
    parameters,
    short_number,
    summarize,
    values_at,
)

__all__ = ["app", "main", "load_spec"]

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
        from . import __version__

        print(f"lrdecay {__version__}")
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


def _steps_option(steps: Optional[int], schedules: list[Schedule]) -> int:
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


@app.command("list", cls=_Command)
def list_(
    word: Annotated[Optional[str], typer.Argument(metavar="WORD", help="Only the kinds whose name contains WORD, underscores aside (a kind's exact name also shows it in detail).")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
):
    """Every schedule kind and composition node: parameters, defaults, the framework function it
    matches, and an example. With WORD: the kinds whose name contains it (lrdecay list cosine)."""
    from .report.gallery import example

    kinds = registry()
    exact = None
    if word is not None:
        def plain(text: str) -> str:  # one_cycle, one-cycle and onecycle are the same word
            return text.lower().replace("_", "").replace("-", "")

        found = [name for name in kinds if plain(word) in plain(name)]
        if not found:
            import difflib

            hint = difflib.get_close_matches(word.lower(), kinds, n=1)
            raise _fail(f"no schedule kind contains {word!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + "; lrdecay list shows them all")
        exact = next((name for name in found if plain(name) == plain(word)), found[0] if len(found) == 1 else None)
        found.sort(key=lambda name: name != exact)  # the exact name first
        kinds = {name: kinds[name] for name in found}
    rows = []
    for name, cls in kinds.items():
        instance = example(name)
        rows.append({
            "kind": name,
            "parameters": parameters(cls),
            "matches": cls.matches,
            "formula": formula(cls),
            "example": repr(instance) if instance is not None else "",
        })
    if format is Format.json:
        print(json.dumps(rows, indent=2))
        return
    if format is Format.csv:
        _write_csv(rows)
        return
    console = _console()
    if exact is not None:
        row, rows = rows[0], rows[1:]
        for key in ("kind", "parameters", "matches", "formula", "example"):
            console.print(_styled(f"{key:>10}  ", "bold", row[key]), soft_wrap=True)
        if not rows:
            return
        console.print()
    from rich.table import Table

    if word is None:
        title = f"{len(rows)} schedule kinds"
    else:
        title = f"{len(rows)} {'more ' if exact else ''}schedule kind{'s' if len(rows) > 1 else ''} containing {word!r}"
    table = Table(title=title, title_justify="left")
    table.add_column("kind", style="bold cyan", no_wrap=True)
    table.add_column("parameters (defaults)")
    table.add_column("matches", style="green")
    for row in rows:
        table.add_row(row["kind"], row["parameters"], row["matches"])
    console.print(table)


def _write_csv(rows: list[dict]) -> None:
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["kind"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


# -- show ------------------------------------------------------------------------------------


@app.command(cls=_Command)
def show(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="Call syntax or a .json/.yaml file.")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", metavar="N", help="Steps 0..N-1 [default: duration+1, else 100].")] = None,
    at: Annotated[Optional[str], typer.Option("--at", metavar="STEPS", help="Comma-separated steps, e.g. 0,10,100.")] = None,
    every: Annotated[Optional[int], typer.Option("--every", "-e", metavar="K", help="Every K-th step of 0..N-1.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
):
    """The values of a schedule, step by step."""
    (schedule,) = _specs([spec])
    if at is not None and every is not None:
        raise _fail("give either --at or --every, not both")
    if at is not None:
        points = _parse_at(at)
    else:
        count = _steps_option(steps, [schedule])
        if every is not None and every < 1:
            raise _fail(f"--every must be >= 1, got {every}")
        stride = every or 1
        if every is None and format is Format.table and count > TABLE_ROWS:
            stride = _round_stride(math.ceil(count / TABLE_ROWS))
            sys.stderr.write(f"lrdecay: showing one step in {stride} of {count} (--every 1 shows all)\n")
        rows = -(-count // stride)
        if rows > MAX_ROWS:
            raise _fail(f"--steps {count} with --every {stride} would print {rows} rows, more than {MAX_ROWS}: "
                        "give a larger --every, or --at")
        points = list(range(0, count, stride))
        if stride > 1 and every is None and points[-1] != count - 1:
            points.append(count - 1)
    rates = values_at(schedule, points)
    if format is Format.json:
        print(json.dumps({"schedule": repr(schedule), "steps": points, "values": rates.tolist()}))
    elif format is Format.csv:
        print("step,value")
        for step, value in zip(points, rates.tolist()):
            print(f"{step},{value!r}")
    else:
        from rich.table import Table

        table = Table()
        table.add_column("step", justify="right", style="cyan")
        table.add_column("value", justify="right")
        for step, value in zip(points, rates.tolist()):
            table.add_row(str(step), short_number(value))
        console = _console()
        console.print(repr(schedule), soft_wrap=True)
        console.print(table)


# -- plot ------------------------------------------------------------------------------------


@app.command(cls=_Command)
def plot(
    specs: Annotated[list[str], typer.Argument(metavar="SPEC", help="One or more schedules (call syntax or .json/.yaml files), overlaid.")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", metavar="N", help="Steps 0..N-1 [default: longest duration+1, else 100].")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write out.png, out.svg or out.pdf (its folder must exist).")] = None,
    log: Annotated[bool, typer.Option("--log", help="Logarithmic value axis.")] = False,
    labels: Annotated[Optional[list[str]], typer.Option("--labels", "--label", "-l", metavar="LABEL", help="Legend labels: repeat, or one comma-separated list.")] = None,
    title: Annotated[Optional[str], typer.Option("--title", metavar="TEXT", help="Title above the plot.")] = None,
    terminal: Annotated[bool, typer.Option("--terminal", "-t", help="Draw in the terminal (also the default without -o).")] = False,
    width: Annotated[Optional[float], typer.Option("--width", metavar="SIZE", help="Inches for files [default: 8], characters in the terminal.")] = None,
    height: Annotated[Optional[float], typer.Option("--height", metavar="SIZE", help="Inches for files [default: 4.5], lines in the terminal.")] = None,
    dpi: Annotated[int, typer.Option("--dpi", metavar="DPI", help="Dots per inch of a .png file.")] = 100,
):
    """Overlaid curves of one or more schedules, to a PNG/SVG/PDF file or the terminal."""
    from . import plot as plotting

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


def _draw_series(series: dict, output: Path | None, terminal: bool, *, log: bool = False, title=None,
                 width=None, height=None, dpi: int = 100) -> None:
    from . import plot as plotting

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


@app.command(cls=_Command)
def check(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="Call syntax or a .json/.yaml file.")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", metavar="N", help="Training length in steps [default: duration+1, else 100].")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")] = CheckFormat.table,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when there are warnings.")] = False,
):
    """Validate a schedule, summarize it over a training run and warn about likely mistakes."""
    (schedule,) = _specs([spec])
    count = _steps_option(steps, [schedule])
    summary, warnings = summarize(schedule, count)
    if format is CheckFormat.json:
        print(json.dumps({**summary, "warnings": warnings}))
    else:
        from rich.table import Table

        table = Table(show_header=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        sampled = f" (of {CHECK_POINTS} sampled steps)" if summary["sampled"] else ""
        table.add_row("steps", f"0 .. {count - 1}" + (f" ({CHECK_POINTS} evenly spaced)" if summary["sampled"] else ""))
        table.add_row("start", short_number(summary["start"]))
        table.add_row("peak", f"{short_number(summary['peak'])} at step {summary['peak_step']}{sampled}")
        table.add_row("end", short_number(summary["end"]))
        table.add_row("minimum", f"{short_number(summary['minimum'])} first at step {summary['minimum_step']}{sampled}")
        duration = summary["duration"]
        table.add_row("duration", "unbounded (never stops changing)" if duration is None else f"{short_number(duration)} steps")
        console = _console()
        console.print(summary["schedule"], soft_wrap=True)
        console.print(table)
        for warning in warnings:
            console.print(_styled("warning: ", "bold yellow", warning), soft_wrap=True)
        if not warnings:
            console.print(_styled("ok: ", "green", "no likely mistakes found"))
    if strict and warnings:
        raise typer.Exit(1)


# -- simulate --------------------------------------------------------------------------------


def read_metrics(path: Path, column: str | None = None) -> list[float]:
    """Metric values from a file: a JSON list (or ``{"metrics": [...]}``), or text with one value
    per line, or CSV with a header (``column`` picks the column by name or index; default: the
    last). Blank lines and lines starting with ``#`` are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(f"{path}: cannot read metrics ({getattr(error, 'strerror', None) or error})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise _fail(f"{path}: invalid JSON ({error})") from None
        if isinstance(data, dict):
            data = data.get("metrics")
        if not isinstance(data, list):
            raise _fail(f'{path}: expected a JSON list of numbers or {{"metrics": [...]}}')
        rows = [[str(v)] for v in data]
    else:
        import csv

        rows = [row for row in csv.reader(line for line in text.splitlines()
                                          if line.strip() and not line.lstrip().startswith("#"))]
    if rows and not _is_number(rows[0][-1]):
        header, rows = [h.strip() for h in rows[0]], rows[1:]
    else:
        header = None
    index = -1
    if column is not None:
        if header is not None and column in header:
            index = header.index(column)
        elif column.lstrip("-").isdigit():
            index = int(column)
        else:
            raise _fail(f"--column: no column {column!r}" + (f" (columns: {', '.join(header)})" if header else ""))
    values = []
    for number, row in enumerate(rows, 1):
        try:
            values.append(float(row[index]))
        except (IndexError, ValueError):
            raise _fail(f"{path}: metric {number} is not a number: {','.join(row)!r}") from None
    if not values:
        raise _fail(f"{path}: no metric values")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@app.command(cls=_Command)
def simulate(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="Call syntax or a .json/.yaml file (the un-reduced schedule).")],
    metrics: Annotated[Path, typer.Argument(metavar="METRICS", help="Metric file: one value per line, CSV, or a JSON list.")],
    steps_per_metric: Annotated[int, typer.Option("--steps-per-metric", "-k", metavar="K", help="Steps between two metrics (e.g. steps per epoch).")] = 1,
    column: Annotated[Optional[str], typer.Option("--column", metavar="COLUMN", help="CSV column name or index [default: last].")] = None,
    mode: Annotated[str, typer.Option("--mode", metavar="MODE", help="min (the metric should fall) or max.")] = "min",
    factor: Annotated[float, typer.Option("--factor", metavar="X", help="Multiplier at each reduction.")] = 0.1,
    patience: Annotated[int, typer.Option("--patience", metavar="N", help="Metrics without improvement before a reduction.")] = 10,
    threshold: Annotated[float, typer.Option("--threshold", metavar="X", help="Smallest change that counts as an improvement.")] = 1e-4,
    threshold_mode: Annotated[Optional[str], typer.Option("--threshold-mode", metavar="MODE", help="rel, abs or rel_magnitude [default: by rule].")] = None,
    cooldown: Annotated[int, typer.Option("--cooldown", metavar="N", help="Metrics to wait after a reduction before counting again.")] = 0,
    min_lr: Annotated[float, typer.Option("--min-lr", metavar="LR", help="Floor on the effective rate.")] = 0.0,
    eps: Annotated[float, typer.Option("--eps", metavar="X", help="torch rule: skip a reduction of eps or less.")] = 1e-8,
    rule: Annotated[str, typer.Option("--rule", metavar="RULE", help="torch or keras counting rules.")] = "torch",
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Also plot to out.png/out.svg/out.pdf (its folder must exist).")] = None,
    terminal: Annotated[bool, typer.Option("--terminal", "-t", help="Also plot in the terminal.")] = False,
):
    """The learning rates a metric trace produces with a reduce-on-plateau rule
    (lrdecay.Plateau) on top of a schedule: one row per metric."""
    from .plateau import Plateau
    from .plateau import simulate as run_simulation

    (schedule,) = _specs([spec])
    values = read_metrics(metrics, column)
    total = (len(values) + 1) * steps_per_metric
    if total > MAX_SIMULATED_STEPS:
        raise _fail(f"--steps-per-metric {steps_per_metric} with {len(values)} metrics makes {total} steps "
                    f"to simulate, more than {MAX_SIMULATED_STEPS}: count the steps in larger units")
    try:
        plateau = Plateau(mode=mode, factor=factor, patience=patience, threshold=threshold,
                          threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps, rule=rule,
                          sync="none")
        # one metric interval past the last metric, so that its decision shows
        lrs = run_simulation(schedule, values, steps_per_metric, plateau=plateau,
                             total_steps=(len(values) + 1) * steps_per_metric)
    except (TypeError, ValueError) as error:
        raise _fail(str(error)) from None
    # metric i is seen after (i + 1) * k steps and sets the rate from that step on
    rows = [(i, (i + 1) * steps_per_metric, metric, float(lrs[(i + 1) * steps_per_metric]))
            for i, metric in enumerate(values)]
    if format is Format.json:
        print(json.dumps({
            "schedule": repr(schedule), "plateau": repr(plateau), "steps_per_metric": steps_per_metric,
            "metrics": values, "steps": [r[1] for r in rows], "lr_after": [r[3] for r in rows],
            "lr": lrs.tolist(),
        }))
    elif format is Format.csv:
        print("metric_index,step,metric,lr")
        for i, step, metric, rate in rows:
            print(f"{i},{step},{metric!r},{rate!r}")
    else:
        from rich.table import Table

        table = Table()
        for name in ("metric", "seen at step", "value", "lr from then on"):
            table.add_column(name, justify="right")
        for i, step, metric, rate in rows:
            table.add_row(str(i), str(step), short_number(metric), short_number(rate))
        console = _console()
        console.print(f"{schedule!r} x {plateau!r}", soft_wrap=True)
        console.print(table)
    if output is not None or terminal:
        steps = np.arange(len(lrs))
        series = {"with plateau": (steps, lrs), "schedule alone": (steps, values_at(schedule, steps))}
        _draw_series(series, output, terminal, title="simulated reduce-on-plateau")


# -- demo ------------------------------------------------------------------------------------


@app.command(cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER", help="Folder for index.html and the figures (created if missing).")] = Path("lrdecay-report"),
    quick: Annotated[bool, typer.Option("--quick", help="Shorter trainings and smaller figures (a quick look, or a smoke test).")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", show_default=False, help="Show a progress bar [default: shown]; the summary is printed either way.")] = True,
):
    """Write the demo report to a folder: TensorFlow's decay functions as the blog posts on
    learning-rate decay that the demo reproduces draw them, their toy training and moving
    average, a training comparison on scikit-learn's digits, the range test and every kind."""
    import importlib.util

    missing = [package for module, package in (("matplotlib", "matplotlib"), ("sklearn", "scikit-learn"))
               if importlib.util.find_spec(module) is None]
    if missing:
        raise _fail(f"the demo report needs {' and '.join(missing)}: pip install 'lrdecay[demo]'")
    from .report import build

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
    steps: Annotated[int, typer.Option("--steps", "-n", metavar="N", help="Steps (SGD updates) of the sweep.")] = 100,
    mode: Annotated[SweepMode, typer.Option("--mode", metavar="MODE", help="exp (geometric) or linear sweep.")] = SweepMode.exp,
    smooth: Annotated[float, typer.Option("--smooth", metavar="X", help="Weight of each new loss in the running average, (0, 1].")] = 0.05,
    diverge: Annotated[float, typer.Option("--diverge", metavar="X", help="Stop when the average passes this times its minimum.")] = 5.0,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed of the initial weights and the minibatch order.")] = 0,
    total_steps: Annotated[int, typer.Option("--total-steps", metavar="N", show_default=False, help="Training length for the suggested schedules [default: 30 epochs].")] = 0,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Plot to out.png/out.svg/out.pdf (its folder must exist).")] = None,
    save: Annotated[Optional[Path], typer.Option("--save", metavar="FILE", help="Write the result as JSON to this file.")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")] = CheckFormat.table,
    progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", show_default=False, help="Progress bar [default: on a terminal].")] = None,
):
    """The learning-rate range test on a built-in demo problem (the digits network of the demo
    report: NumPy, plain SGD): sweep the rate, print each rule's suggestion and schedules built
    from it, and optionally plot and save the result."""
    try:
        from .report import digits, finder_demo
    except ImportError as error:
        raise _fail(f"find needs {error.name}: pip install 'lrdecay[demo]'") from None
    if total_steps < 0 or total_steps == 1:
        raise _fail(f"--total-steps must be >= 2, got {total_steps}")
    if output is not None:
        from . import plot as plotting

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
            console.print(_styled("note: ", "bold yellow", "the rules disagree by more than a decade: "
                                  "look at the plot (-o range.png) before trusting the suggestion"), soft_wrap=True)
    sys.stdout.flush()
    for path in (save, output):
        if path is not None:
            sys.stderr.write(f"lrdecay: wrote {path}\n")


# -- explore ---------------------------------------------------------------------------------


@app.command(cls=_Command)
def explore(
    specs: Annotated[Optional[list[str]], typer.Argument(metavar="SPEC", help="Schedules to open the page with (call syntax or files).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", "-p", metavar="PORT", help="Port on 127.0.0.1 [default: 8765, else a free one].")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", metavar="N", help="Training length in steps [default: duration+1, else 100].")] = None,
    log: Annotated[bool, typer.Option("--log", help="Start with a logarithmic value axis.")] = False,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", show_default=False, help="Open the page in the web browser [default: open it].")] = True,
):
    """A local web page to write schedules and see their curves live, with check's warnings,
    the spec as text/YAML/JSON and code for PyTorch, Keras and Optax (Ctrl+C stops it)."""
    try:
        from .explore import serve
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
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lrdecay`` script and ``python -m lrdecay``."""
    app(args=argv, prog_name="lrdecay")
