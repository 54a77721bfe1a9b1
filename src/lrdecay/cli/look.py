"""``lrdecay list``, ``show`` and ``check``: what a schedule is, its values, and what to check before training."""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated

import typer

from lrdecay.cli.app import (
    MAX_ROWS,
    TABLE_ROWS,
    CheckFormat,
    Format,
    _Command,
    _console,
    _fail,
    _parse_at,
    _round_stride,
    _specs,
    _steps_option,
    _styled,
    app,
)
from lrdecay.core.schedule import registry
from lrdecay.tools.summary import (
    CHECK_POINTS,
    formula,
    parameters,
    short_number,
    summarize,
    values_at,
)


@app.command("list", cls=_Command)
def list_(
    word: Annotated[str | None, typer.Argument(metavar="WORD", help="Only the kinds whose name contains WORD, underscores aside (a kind's exact name also shows it in detail).")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
):
    """Every schedule kind and composition node: parameters, defaults, the framework function it
    matches, and an example. With WORD: the kinds whose name contains it (lrdecay list cosine)."""
    from lrdecay.report.gallery import example

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
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", help="Steps 0..N-1 [default: duration+1, else 100].")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="STEPS", help="Comma-separated steps, e.g. 0,10,100.")] = None,
    every: Annotated[int | None, typer.Option("--every", "-e", metavar="K", help="Every K-th step of 0..N-1.")] = None,
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
def check(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="Call syntax or a .json/.yaml file.")],
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", help="Training length in steps [default: duration+1, else 100].")] = None,
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
