"""``lrdecay simulate``: a schedule with plateau reduction driven by a file of metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from lrdecay.cli.app import (
    MAX_SIMULATED_STEPS,
    Format,
    _Command,
    _console,
    _draw_series,
    _fail,
    _specs,
    app,
)
from lrdecay.tools.summary import (
    short_number,
    values_at,
)


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

        rows = list(csv.reader(line for line in text.splitlines()
                                          if line.strip() and not line.lstrip().startswith("#")))
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
    column: Annotated[str | None, typer.Option("--column", metavar="COLUMN", help="CSV column name or index [default: last].")] = None,
    mode: Annotated[str, typer.Option("--mode", metavar="MODE", help="min (the metric should fall) or max.")] = "min",
    factor: Annotated[float, typer.Option("--factor", metavar="X", help="Multiplier at each reduction.")] = 0.1,
    patience: Annotated[int, typer.Option("--patience", metavar="N", help="Metrics without improvement before a reduction.")] = 10,
    threshold: Annotated[float, typer.Option("--threshold", metavar="X", help="Smallest change that counts as an improvement.")] = 1e-4,
    threshold_mode: Annotated[str | None, typer.Option("--threshold-mode", metavar="MODE", help="rel, abs or rel_magnitude [default: by rule].")] = None,
    cooldown: Annotated[int, typer.Option("--cooldown", metavar="N", help="Metrics to wait after a reduction before counting again.")] = 0,
    min_lr: Annotated[float, typer.Option("--min-lr", metavar="LR", help="Floor on the effective rate.")] = 0.0,
    eps: Annotated[float, typer.Option("--eps", metavar="X", help="torch rule: skip a reduction of eps or less.")] = 1e-8,
    rule: Annotated[str, typer.Option("--rule", metavar="RULE", help="torch or keras counting rules.")] = "torch",
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Also plot to out.png/out.svg/out.pdf (its folder must exist).")] = None,
    terminal: Annotated[bool, typer.Option("--terminal", "-t", help="Also plot in the terminal.")] = False,
):
    """The learning rates a metric trace produces with a reduce-on-plateau rule
    (lrdecay.Plateau) on top of a schedule: one row per metric."""
    from lrdecay.training.plateau import Plateau
    from lrdecay.training.plateau import simulate as run_simulation

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
