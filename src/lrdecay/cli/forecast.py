"""``lrdecay forecast fit | predict | plan``: fit a loss law on logged runs, predict the loss of
other schedules with it, and plan the schedule with the lowest predicted final loss.

The laws and the planner are :mod:`lrdecay.forecast` (the multi-power law of Luo et al., ICLR 2025,
arXiv:2503.12811; the annealing law of Tissue et al., arXiv:2408.11029); they need scipy, the
``forecast`` extra. ``lrdecay.forecast`` is imported by these commands only, so ``lrdecay --help``
and the other commands work without scipy.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from lrdecay.cli.app import (
    CheckFormat,
    Format,
    _check_output,
    _Command,
    _console,
    _fail,
    _parse_at,
    _short,
    _styled,
    app,
    load_spec,
)
from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import SpecError

#: The multi-power fit costs one term per (logged loss, earlier step where the rate changes),
#: 16 bytes and ~40 ns an evaluation each: above this many, ``fit`` keeps one logged loss in K.
MAX_TERMS = 2**24
#: Points of a predicted curve in a figure: at most ``PLOT_POINTS``, fewer for long schedules that
#: change at every step (a point costs O(steps)), so that a figure costs at most ``PLOT_TERMS``.
PLOT_POINTS, MIN_PLOT_POINTS, PLOT_TERMS = 200, 24, 2**26
#: ``predict`` without ``--at``: this many evenly spaced steps, then the last one.
PREDICT_ROWS = 9
LAWS = ("multi_power", "annealing")
LAW_NAMES = {"multi_power": "multi-power law (Luo et al. 2025)",
             "annealing": "annealing law (Tissue et al. 2024)"}

forecast_app = typer.Typer(
    name="forecast",
    help="Fit a loss law (Luo et al.'s multi-power law, or Tissue et al.'s annealing law) on logged "
         "runs, predict the loss curve of other schedules, and plan the schedule with the lowest "
         "predicted final loss. Needs scipy: pip install 'lrdecay[forecast]'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(forecast_app, name="forecast")


def _forecast():
    """The ``lrdecay.forecast`` package, or a one-line error when scipy is missing."""
    try:
        import lrdecay.forecast as forecast
    except ImportError as error:
        missing = (error.name or "scipy").split(".")[0]
        raise _fail(f"lrdecay forecast needs {missing}: pip install 'lrdecay[forecast]'") from None
    return forecast


def _check_plot(path: Path | None) -> None:
    if path is None:
        return
    from lrdecay.tools.plot import FILE_FORMATS

    _check_output(path, "--plot", FILE_FORMATS)
    if importlib.util.find_spec("matplotlib") is None:
        raise _fail(f"--plot: writing {path.suffix} files needs matplotlib: pip install 'lrdecay[plot]'")


def _load_law(path: Path):
    forecast = _forecast()
    try:
        return forecast.load(path)
    except OSError as error:
        raise _fail(f"LAW {str(path)!r}: cannot read ({error.strerror or error})") from None
    except json.JSONDecodeError as error:
        raise _fail(f"LAW {str(path)!r}: not JSON ({error}); write it with lrdecay forecast fit -o") from None
    except (TypeError, ValueError) as error:
        raise _fail(f"LAW {str(path)!r}: not a saved law ({error})") from None


def _check_steps(steps: int | None, low: int = 1) -> int:
    limit = _forecast().runs.MAX_STEPS

    if steps is None:
        raise _fail("--steps is required: the length of the run in steps, e.g. --steps 24000")
    if not low <= steps <= limit:
        raise _fail(f"--steps must be between {low} and {limit} (lrdecay.forecast's limit), got {steps}")
    return steps


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _percent(value: float) -> str:
    return f"{100 * value:.3f}%"


# -- fit -------------------------------------------------------------------------------------


def _read_runs(paths: list[Path], specs: list[str] | None) -> list:
    forecast = _forecast()
    if specs and len(specs) != len(paths):
        raise _fail(f"--schedule: give one per RUN file, in their order ({len(paths)} files, {len(specs)} "
                    "--schedule), or none when every file logs the rate at every step; - stands for a "
                    "file's own lr column")
    runs = []
    for i, path in enumerate(paths):
        text = specs[i] if specs else "-"
        schedule = None
        if text != "-":
            try:
                schedule = load_spec(text)
            except SpecError as error:
                raise _fail(f"--schedule {i + 1} ({path.name}): bad SPEC {_short(text)}: {error}") from None
        try:
            run = forecast.read_csv(path, schedule)
        except OSError as error:
            raise _fail(f"RUN file {str(path)!r}: cannot read ({error.strerror or error})") from None
        except (TypeError, ValueError) as error:
            message = (str(error).replace("pass schedule= (array or callable) giving the rate at every step",
                                          "give its --schedule SPEC")
                       .replace("disagrees with schedule", "disagrees with its --schedule"))
            if not message.startswith(str(path)):
                message = f"{path}: {message}"
            raise _fail(f"RUN file {message}") from None
        # losses logged before any training (the rate all 0 so far) are where the laws are infinite
        untrained = np.cumsum(run.lr)[run.steps] == 0
        if untrained.all():
            raise _fail(f"RUN file {path}: every loss is logged before any training (the rate is 0 up to "
                        f"step {int(run.steps[-1])})")
        if untrained.any():
            keep = ~untrained
            sys.stderr.write(f"lrdecay: note: {path}: left out the {int(untrained.sum())} loss(es) logged before "
                             "any training (the rate is 0 up to there)\n")
            run = forecast.Run(run.lr, run.steps[keep], run.loss[keep], run.name)
        runs.append(run)
    return runs


def _terms(runs) -> int:
    """The multi-power fit's number of (logged loss, earlier rate change) terms."""
    total = 0
    for run in runs:
        lr = run.lr[: run.steps[-1] + 1]
        changes = np.flatnonzero(lr[1:] != lr[:-1]) + 1
        total += int(np.searchsorted(changes, run.steps, side="right").sum())
    return total


def _thin(runs, every: int) -> list:
    from lrdecay.forecast import Run

    if every == 1:
        return runs
    return [Run(r.lr, r.steps[::-1][::every][::-1], r.loss[::-1][::every][::-1], r.name) for r in runs]


@forecast_app.command("fit", cls=_Command)
def fit_command(
    files: Annotated[list[Path], typer.Argument(metavar="RUN.csv", help="Logged runs, CSV with a header: step,lr,loss logged at every step 0, 1, 2, ... (the rate comes from the file), or step,loss or step,lr,loss at some steps with a --schedule for each file.")],
    schedule: Annotated[list[str] | None, typer.Option("--schedule", "-s", metavar="SPEC", help="The rate of a run at every step: repeat it, one per RUN file in their order (- for a file that logs every step's rate), or leave it out when every file does.")] = None,
    law: Annotated[str, typer.Option("--law", metavar="LAW", help="multi_power (Luo et al. 2025) or annealing (Tissue et al. 2024).")] = "multi_power",
    before: Annotated[int | None, typer.Option("--before", metavar="STEP", help="Fit only the losses logged before STEP (the later ones are still scored).")] = None,
    every: Annotated[int | None, typer.Option("--every", metavar="K", help="Fit and score one logged loss in K, counted back from the last [default: 1, or what keeps a multi-power fit under 16.7 million terms].")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the fitted law to this .json file (its folder must exist), for predict and plan.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="FILE", help="Draw the measured and the fitted losses to out.png/out.svg/out.pdf.")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")] = CheckFormat.table,
):
    """Fit a loss law on logged runs: print its parameters and, for every run, how well it fits
    (R squared, mean and worst relative error of the predicted loss over the logged losses)."""
    if law not in LAWS:
        raise _fail(f"--law must be multi_power or annealing, got {law!r}")
    if output is not None:
        _check_output(output, "--output", (".json",))
    _check_plot(plot)
    if every is not None and every < 1:
        raise _fail(f"--every must be >= 1, got {every}")
    forecast = _forecast()
    runs = _read_runs(files, schedule)
    fitted_runs = runs
    if before is not None:
        for path, run in zip(files, runs):
            if run.steps[0] >= before:
                raise _fail(f"--before {before}: {path} logs no loss before step {before} (its first is at "
                            f"step {int(run.steps[0])})")
        fitted_runs = [run.truncate(before) for run in runs]
    if every is not None:
        fitted_runs = _thin(fitted_runs, every)
    if law == "multi_power":
        terms = _terms(fitted_runs)
        if terms > MAX_TERMS:
            if every is not None:
                raise _fail(f"--every {every}: the multi-power fit would still have {terms} terms (one per logged "
                            f"loss and earlier change of the rate), more than {MAX_TERMS}: give a larger --every")
            every = math.ceil(terms / MAX_TERMS)
            while _terms(_thin(fitted_runs, every)) > MAX_TERMS:
                every += 1
            sys.stderr.write(f"lrdecay: note: the multi-power fit would have {terms} terms (one per logged loss and "
                             f"earlier change of the rate): fitting and scoring one logged loss in {every} "
                             f"(--every {every})\n")
            fitted_runs = _thin(fitted_runs, every)
    scored_runs = runs if every is None else _thin(runs, every)  # scoring every loss would cost what fitting them does
    try:
        result = forecast.fit(fitted_runs, law)
    except (TypeError, ValueError) as error:
        raise _fail(f"the fit failed: {error}") from None
    rows = []
    for path, all_losses, run, used in zip(files, runs, scored_runs, fitted_runs):
        predicted = result.predict(run.lr, run.steps)
        score = forecast.metrics(predicted, run.loss) if run.steps.size >= 2 else {
            "r2": float("nan"), "mean_rel": float(abs(predicted[0] / run.loss[0] - 1)),
            "max_rel": float(abs(predicted[0] / run.loss[0] - 1))}
        rows.append({"file": str(path), "name": run.name, "losses": int(all_losses.steps.size),
                     "fitted": int(used.steps.size), "scored": int(run.steps.size),
                     "first_step": int(all_losses.steps[0]), "last_step": int(all_losses.steps[-1]), **score,
                     "predicted": predicted, "run": run})
    if output is not None:
        try:
            result.save(output)
        except OSError as error:
            raise _fail(f"--output {output}: cannot write ({error.strerror or error})") from None
    if format is CheckFormat.json:
        print(json.dumps({"law": result.to_dict(), "output": None if output is None else str(output),
                          "runs": [{k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()
                                    if k not in ("predicted", "run")} for row in rows]}))
    else:
        from rich.table import Table

        console = _console()
        count = sum(row["fitted"] for row in rows)
        console.print(f"{LAW_NAMES[law]} fitted on {len(rows)} run{'s' if len(rows) > 1 else ''} "
                      f"({count} logged losses)", soft_wrap=True)
        params = Table()
        for name in result.params:
            params.add_column(name, justify="right")
        params.add_row(*(f"{value:.6g}" for value in result.params.values()))
        console.print(params)
        table = Table()
        for name in ("run", "losses", "steps", "R²", "mean rel. error", "worst rel. error"):
            table.add_column(name, justify="left" if name == "run" else "right")
        for row in rows:
            losses = str(row["losses"])
            if row["fitted"] != row["losses"]:
                losses += f" ({row['fitted']} fitted" + (f", {row['scored']} scored)" if row["scored"] != row["losses"] else ")")
            table.add_row(row["name"], losses, f"{row['first_step']}..{row['last_step']}",
                          f"{row['r2']:.4f}", _percent(row["mean_rel"]), _percent(row["max_rel"]))
        console.print(table)
    sys.stdout.flush()
    if plot is not None:
        _write_fit_plot(rows, plot, f"{LAW_NAMES[law]} fitted on {len(rows)} run{'s' if len(rows) > 1 else ''}",
                        before)
    if output is not None:
        sys.stderr.write(f"lrdecay: wrote {output}\n")


# -- predict ---------------------------------------------------------------------------------


def _default_points(steps: int) -> list[int]:
    """``PREDICT_ROWS`` evenly spaced steps after 0, and the last one."""
    points = {round(steps * i / (PREDICT_ROWS + 1)) for i in range(1, PREDICT_ROWS + 1)} | {steps - 1}
    return sorted(p for p in points if 0 < p < steps) or [steps - 1]


def _specs_option(texts: list[str]) -> list[Schedule]:
    schedules = []
    for i, text in enumerate(texts):
        try:
            schedules.append(load_spec(text))
        except SpecError as error:
            raise _fail(f"SPEC {i + 1}: bad SPEC {_short(text)}: {error}") from None
    return schedules


@forecast_app.command("predict", cls=_Command)
def predict_command(
    law_file: Annotated[Path, typer.Argument(metavar="LAW.json", help="A law written by lrdecay forecast fit -o.")],
    specs: Annotated[list[str], typer.Argument(metavar="SPEC", help="One or more schedules (call syntax or .json/.yaml files).")],
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", show_default=False, help="Length of the run: steps 0..N-1 (required).")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="STEPS", help="Comma-separated steps, e.g. 1000,5000 [default: 9 evenly spaced steps and the last].")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="FILE", help="Draw the schedules and their predicted loss to out.png/out.svg/out.pdf.")] = None,
):
    """The loss a fitted law predicts for one or more schedules: at a few steps and at the last
    step of the run (N - 1)."""
    count = _check_steps(steps)
    _check_plot(plot)
    law = _load_law(law_file)
    schedules = _specs_option(specs)
    if at is not None:
        points = sorted(set(_parse_at(at)))
        if points[-1] >= count:
            raise _fail(f"--at: step {points[-1]} is past the run's last step {count - 1} (--steps {count})")
    else:
        points = _default_points(count)
    results = []
    for schedule in schedules:
        try:
            rates = schedule.curve(count)
            loss = law.predict(rates, points)
        except (TypeError, ValueError) as error:
            raise _fail(f"SPEC {schedule!r}: {error}") from None
        results.append((schedule, rates[points], loss))
    if format is Format.json:
        print(json.dumps({"law": law.to_dict(), "steps": points, "schedules": [
            {"schedule": repr(s), "lr": lr.tolist(), "loss": [_finite(v) for v in loss.tolist()]}
            for s, lr, loss in results]}))
    elif format is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["schedule", "step", "lr", "loss"])
        for s, lr, loss in results:
            for step, rate, value in zip(points, lr.tolist(), loss.tolist()):
                writer.writerow([repr(s), step, repr(rate), repr(value)])
    else:
        from rich.table import Table

        console = _console()
        console.print(f"{LAW_NAMES[law.name]} from {law_file}: predicted loss, steps 0..{count - 1}", soft_wrap=True)
        several = len(results) > 1
        for i, (s, _, _) in enumerate(results, 1):
            console.print(_styled(f"{i}: " if several else "", "bold", repr(s)), soft_wrap=True)
        table = Table()
        table.add_column("step", justify="right", style="cyan")
        for i in range(1, len(results) + 1):
            table.add_column(f"lr {i}" if several else "lr", justify="right")
            table.add_column(f"loss {i}" if several else "loss", justify="right")
        for row, step in enumerate(points):
            cells = [str(step)]
            for _, lr, loss in results:
                cells += [f"{lr[row]:.4g}", f"{loss[row]:.4f}"]
            table.add_row(*cells)
        console.print(table)
    sys.stdout.flush()
    if plot is not None:
        labels = [f"{i}: {s!r}" if len(schedules) > 1 else repr(s) for i, s in enumerate(schedules, 1)]
        panels(law, dict(zip(labels, schedules)), count, plot,
                      f"{LAW_NAMES[law.name]} from {law_file.name}")


# -- plan ------------------------------------------------------------------------------------


@forecast_app.command("plan", cls=_Command)
def plan_command(
    law_file: Annotated[Path, typer.Argument(metavar="LAW.json", help="A law written by lrdecay forecast fit -o.")],
    steps: Annotated[int | None, typer.Option("--steps", "-n", metavar="N", show_default=False, help="Length of the run: steps 0..N-1 (required).")] = None,
    peak: Annotated[float | None, typer.Option("--peak", metavar="LR", show_default=False, help="The rate after the warm-up (required).")] = None,
    warmup: Annotated[int | None, typer.Option("--warmup", metavar="W", show_default=False, help="Steps of the linear warm-up from 0 to the peak (required; 0 for none).")] = None,
    min_lr: Annotated[float, typer.Option("--min-lr", metavar="X", help="The rate cosine and the cool-downs end at, and the optimized schedule's floor.")] = 0.0,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, csv or json.")] = Format.table,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="FILE", help="Draw the main candidates and their predicted loss to out.png/out.svg/out.pdf.")] = None,
):
    """The schedules of one run length, peak and warm-up, best first by the loss a fitted law
    predicts at the last step: constant, cosine, warmup-stable-decay with every cool-down shape
    (linear, cosine, 1-sqrt) and length (5% to 50% of the run), and the optimized schedule (the
    non-increasing one with the lowest predicted loss), whose SPEC can be pasted into
    ScheduleLR, KerasSchedule or lrdecay show."""
    count = _check_steps(steps, low=2)
    if peak is None:
        raise _fail("--peak is required: the rate after the warm-up, e.g. --peak 3e-4")
    if warmup is None:
        raise _fail("--warmup is required: the warm-up's steps, e.g. --warmup 2000 (0 for none)")
    if not (math.isfinite(peak) and peak > 0):
        raise _fail(f"--peak must be a positive number, got {peak:g}")
    if not (math.isfinite(min_lr) and 0 <= min_lr < peak):
        raise _fail(f"--min-lr must be >= 0 and below --peak {peak:g}, got {min_lr:g}")
    if not 0 <= warmup < count - 1:
        raise _fail(f"--warmup must be from 0 to {count - 2} (at least 2 steps after it in --steps {count}), got {warmup}")
    _check_plot(plot)
    law = _load_law(law_file)
    forecast = _forecast()
    try:
        plans = forecast.plan(law, count, peak, warmup, min_lr)
    except (TypeError, ValueError) as error:
        options = {"total_steps": "--steps", "peak_lr": "--peak", "warmup_steps": "--warmup", "min_lr": "--min-lr"}
        raise _fail(re.sub(r"\b(" + "|".join(options) + r")\b", lambda m: options[m.group(1)], str(error))) from None
    best = plans[0].final_loss
    optimized = next(p for p in plans if p.name == "optimized")
    if format is Format.json:
        print(json.dumps({"law": law.to_dict(), "steps": count, "peak": peak, "warmup": warmup, "min_lr": min_lr,
                          "plans": [{"name": p.name, "description": p.description, "final_loss": p.final_loss,
                                     "schedule": repr(p.schedule)} for p in plans]}))
    elif format is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["name", "description", "final_loss", "schedule"])
        for p in plans:
            writer.writerow([p.name, p.description, repr(p.final_loss), repr(p.schedule)])
    else:
        from rich.table import Table

        console = _console()
        console.print(f"{LAW_NAMES[law.name]} from {law_file}: predicted loss at step {count - 1}, peak {peak:g}, "
                      f"warm-up {warmup} steps, min {min_lr:g}", soft_wrap=True)
        table = Table()
        for name in ("#", "name", "description", "final loss", "vs best"):
            table.add_column(name, justify="right" if name in ("#", "final loss", "vs best") else "left")
        for i, p in enumerate(plans, 1):
            table.add_row(str(i), p.name, p.description, f"{p.final_loss:.4f}", f"+{p.final_loss - best:.4f}")
        console.print(table)
        console.print(_styled("optimized SPEC: ", "bold", repr(optimized.schedule)), soft_wrap=True)
    sys.stdout.flush()
    if plot is not None:
        plan_figure(law, plans, count, plot, f"{LAW_NAMES[law.name]} from {law_file.name}: {count} steps, peak {peak:g}, "
                                             f"warm-up {warmup}")


# -- figures ---------------------------------------------------------------------------------


def loss_curve(law, rates: np.ndarray, points: int = PLOT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, predicted loss)`` at up to ``points`` steps from the first trained one to the last
    of ``rates``; fewer when the rate changes at many steps (a point costs O(changes))."""
    count = rates.size
    changes = int(np.count_nonzero(rates[1:] != rates[:-1])) if law.name == "multi_power" else 0
    points = max(MIN_PLOT_POINTS, min(points, PLOT_TERMS // max(changes, 1)))
    first = int(np.argmax(np.cumsum(rates) > 0))
    x = np.unique(np.linspace(first, count - 1, points).round().astype(np.int64))
    return x, law.predict(rates, x)


def plan_figure(law, plans: list, count: int, path: Path, title: str) -> None:
    """``plan --plot``: constant, cosine, the best cool-down of each shape and the optimized
    schedule of ``plans`` (``lrdecay.forecast.plan``'s rows), labelled with their predicted final loss."""
    by_name = {p.name: p for p in plans}
    chosen = [by_name["constant"], by_name["cosine"]]
    for shape in ("linear", "cosine", "1-sqrt"):
        chosen += [min((p for p in plans if p.name.startswith(f"wsd-{shape}-")), key=lambda p: p.final_loss)]
    chosen.append(by_name["optimized"])
    panels(law, {f"{p.name}: {p.final_loss:.4f}": p.schedule for p in chosen}, count, path,
           f"{title} (in the legend: the predicted loss at step {count - 1})")


def panels(law, schedules: dict, count: int, path: Path, title: str) -> None:
    """Two panels: the rates of ``schedules`` (label -> schedule) over steps ``0..count-1`` and the
    loss ``law`` predicts for each, written to ``path``."""
    from lrdecay.tools import plot as plotting

    fig, (left, right) = plotting.new_figure(12.0, 4.8, ncols=2)
    low, high = math.inf, -math.inf
    for i, (label, schedule) in enumerate(schedules.items()):
        style = plotting.LINE_STYLES[i % len(plotting.LINE_STYLES)]
        x, y = plotting.curve(schedule, count)
        left.plot(x, y, linewidth=1.6, linestyle=style, drawstyle="steps-post", label=plotting._shorten(label))
        steps, loss = loss_curve(law, schedule.curve(count))
        right.plot(steps, loss, linewidth=1.6, linestyle=style, label=plotting._shorten(label))
        late = loss[steps >= count // 5]  # the first fifth is the steep start: off the scale
        low, high = min(low, late.min()), max(high, late.max())
    left.set(xlabel="step", ylabel="learning rate", title="schedules", xlim=(0, max(count - 1, 1)))
    right.set(xlabel="step", ylabel="predicted loss", title=f"predicted loss (y range: steps {count // 5} on)",
              xlim=(0, max(count - 1, 1)))
    if math.isfinite(low) and high > low:
        right.set_ylim(low - 0.15 * (high - low), high + 0.1 * (high - low))
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small", frameon=False)
    fig.suptitle(title)
    _save(plotting, fig, path)


def _write_fit_plot(rows: list[dict], path: Path, title: str, before: int | None) -> None:
    """Measured and predicted loss of every run (left), the relative error in percent (right)."""
    from lrdecay.tools import plot as plotting

    fig, (left, right) = plotting.new_figure(12.0, 4.8, ncols=2)
    for i, row in enumerate(rows):
        run, predicted = row["run"], row["predicted"]
        color = f"C{i % 10}"
        left.plot(run.steps, run.loss, ".", markersize=3, color=color, alpha=0.6)
        left.plot(run.steps, predicted, linewidth=1.4, color=color, label=plotting._shorten(row["name"]))
        right.plot(run.steps, 100 * (predicted / run.loss - 1), linewidth=1.2, color=color,
                   label=plotting._shorten(row["name"]))
    if before is not None:
        for ax in (left, right):
            ax.axvline(before, color="0.5", linewidth=0.8, linestyle=":")
    right.axhline(0.0, color="0.3", linewidth=0.8)
    left.set(xlabel="step", ylabel="loss", title="measured (dots) and fitted (lines)")
    right.set(xlabel="step", ylabel="predicted / measured - 1 (%)", title="relative error"
              + (f" (fitted before step {before}, dotted)" if before is not None else ""))
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small", frameon=False)
    fig.suptitle(title)
    _save(plotting, fig, path)


def _save(plotting, fig, path: Path) -> None:
    try:
        plotting.save(fig, path)
    except OSError as error:
        raise _fail(f"--plot {path}: cannot write ({error.strerror or error})") from None
    sys.stderr.write(f"lrdecay: wrote {path}\n")
