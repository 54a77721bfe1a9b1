"""The demo report (``lrdecay demo``): an ``index.html`` with PNG figures and tables.

Sections: TensorFlow's decay functions drawn as the blog posts on learning-rate decay
(退化学习率) that the demo reproduces draw them, those posts' toy training ``loss = (w + 1)^2``
and their moving average of weights, a training comparison of seven schedules on scikit-learn's
bundled digits, the learning-rate range test on the same network, the multi-power law of Luo et al.
(arXiv:2503.12811) fitted on pilot trainings of that network and checked against trainings of the
schedules it plans, and a gallery of every schedule kind. Needs the ``demo`` extra (matplotlib, scikit-learn, rich).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lrdecay.core.schedule import registry
from lrdecay.core.spec import SpecError, parse
from lrdecay.report import digits, finder_demo, html
from lrdecay.report.ema_demo import (
    DECAY,
    SHADOWS,
    follow,
    oscillating_weight,
    tensorflow_example,
)
from lrdecay.report.gallery import example, span, value_label
from lrdecay.report.tensorflow_figures import FIGURES as DECAY_FIGURES
from lrdecay.report.toy import RUNS, STEPS, W0, descend
from lrdecay.tools import plot as plotting
from lrdecay.tools.summary import formula
from lrdecay.training.plateau import Plateau

__all__ = ["build"]

FIGURES = "figures"
EPOCHS = 30
QUICK_EPOCHS = 4
#: Training runs per schedule (each its own initial weights and minibatch order).
RUNS_PER_SCHEDULE = 5
QUICK_RUNS_PER_SCHEDULE = 2


class _Report:
    def __init__(self, out: Path, quick: bool):
        self.out = out
        self.quick = quick
        self.sections: list[tuple[str, str, str]] = []
        self.summary: list[tuple[str, str, str]] = []  # digits results for the terminal
        self.missing: list[str] = []
        (out / FIGURES).mkdir(parents=True, exist_ok=True)

    def save(self, fig, name: str, dpi: int = 80) -> str:
        """Write a figure under figures/ and return its path relative to index.html (``dpi``
        with --quick, else 100)."""
        relative = f"{FIGURES}/{name}.png"
        plotting.save(fig, self.out / relative, dpi=dpi if self.quick else 100)
        return relative

    def schedule(self, spec: str):
        """The schedule, or None (noted in the report) when this version can't build it."""
        try:
            return parse(spec)
        except SpecError as error:
            self.missing.append(f"{spec}: {error}")
            return None


# -- sections --------------------------------------------------------------------------------


def _explore_command(schedules, steps: int, log: bool) -> str:
    """The ``lrdecay explore`` command line that opens ``schedules`` in the explorer page."""
    import shlex

    words = ["lrdecay", "explore", *(repr(s) for s in schedules), "--steps", str(steps)]
    return shlex.join(words + (["--log"] if log else []))


def _decay_figures(report: _Report, advance: Callable[[], None]) -> None:
    body = [html.paragraph(
        "TensorFlow's learning-rate decay functions (tf.train.exponential_decay and its family), "
        "drawn the way the blog posts on learning-rate decay (退化学习率) that this demo reproduces "
        "draw them, but from the schedules themselves (step on the x axis, learning rate on the y "
        "axis). Each figure lists the exact specs; paste one into `lrdecay show` or `lrdecay plot` "
        "to look closer, or run the `lrdecay explore` command under it to open the figure's curves in "
        "the explorer, a local page where they change as you edit them "
        "(pip install 'lrdecay[explore]').")]
    for figure in DECAY_FIGURES:
        curves = [(label, report.schedule(spec), spec) for label, spec in figure.curves]
        curves = [c for c in curves if c[1] is not None]
        if curves:
            fig, ax = plotting.new_figure(7.5, 4.0)
            plotting.draw(ax, [s for _, s, _ in curves], figure.steps, labels=[lab for lab, _, _ in curves],
                          log=figure.log, title=figure.title)
            src = report.save(fig, f"decay_{figure.slug}")
            body.append(html.heading(figure.title))
            body.append(html.figure(src, figure.caption))
            body.append(html.code("\n".join(repr(s) for _, s, _ in curves)))
            body.append(html.code(_explore_command([s for _, s, _ in curves], figure.steps, figure.log)))
        advance()
    report.sections.append(("tensorflow-decay", "TensorFlow's decay functions", "".join(body)))


def _toy(report: _Report, advance: Callable[[], None]) -> None:
    runs = [descend(label, spec) for label, spec in RUNS.items() if report.schedule(spec) is not None]
    body = [html.paragraph(
        f"Gradient descent on loss = (w + 1)^2 from w = {W0:g}, {STEPS} updates (the blog posts' "
        "example; the minimum is w = -1). A rate that is too large overshoots further each time "
        "(|1 - 2 lr| > 1: it oscillates and diverges), one that is too small crawls; an "
        "exponentially decaying rate starts fast and settles.")]
    fig, (ax_loss, ax_w) = plotting.new_figure(10.0, 4.0, ncols=2)
    for run in runs:
        x = np.arange(len(run.w))
        ax_loss.plot(x, run.loss, label=run.label)
        ax_w.plot(x, run.w, label=run.label)
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="step", ylabel="loss (log scale)", title="loss = (w + 1)^2")
    ax_w.set(xlabel="step", ylabel="w", title="w (optimum -1)", ylim=(-8, 8))
    ax_w.axhline(-1.0, color="gray", linewidth=0.8, linestyle=":")
    for ax in (ax_loss, ax_w):
        ax.grid(True, alpha=0.3)
    ax_loss.legend(fontsize="small", frameon=False)
    body.append(html.figure(report.save(fig, "toy_training"),
                            "Loss and w per update for the four learning rates."))
    body.append(html.table(
        ["learning rate", f"w after {STEPS} steps", "loss"],
        [(run.label, f"{run.w[-1]:.6g}", f"{run.loss[-1]:.6g}") for run in runs]))
    decayed = [run for run in runs if run.spec.startswith("exponential_decay")]
    if decayed:
        run = decayed[0]
        body.append(html.heading(f"{run.label}, step by step"))
        body.append(html.paragraph(
            "lr is the rate used by that update: TensorFlow reads learning_rate at the current "
            "global_step, then minimize() increments it (the blog posts print the rate "
            "after the increment, i.e. the next update's rate). Computed in float64."))
        body.append(html.code(repr(parse(run.spec))))
        body.append(html.table(["step", "lr", "w", "loss"],
                               [(i, f"{run.lr[i]:.6f}", f"{run.w[i]:.6f}", f"{run.loss[i]:.6f}")
                                for i in range(len(run.w))], text_columns=()))
    report.sections.append(("toy", "Toy training: loss = (w + 1)^2", "".join(body)))
    advance()


def _ema(report: _Report, advance: Callable[[], None]) -> None:
    rows = tensorflow_example()
    body = [html.paragraph(
        f"The blog posts' example of tf.train.ExponentialMovingAverage({DECAY}, global_step): each "
        "update moves the shadow towards the weight, shadow -= (1 - d) * (shadow - w1), with "
        "d = min(decay, (1 + step) / (10 + step)), so the average follows quickly at the start "
        "and slowly later. The posts print 0.9 after the first update and 1.6445453 after the "
        "second."),
        html.code("ema = lrdecay.ema.ExponentialMovingAverage(0.99)\nema.register({'w1': w1})\n"
                  "ema.update({'w1': w1}, num_updates=global_step)\nema.average('w1')"),
        html.table(["what happened", "global step", "decay used", "w1", "shadow"],
                   [(what, step, "" if math.isnan(d) else f"{d:.6g}", f"{w:g}", f"{s:.7g}")
                    for what, step, d, w, s in rows])]
    weights = oscillating_weight()
    fig, ax = plotting.new_figure(7.5, 4.0)
    ax.plot(weights, label="w (gradient descent, lr 0.95: oscillates)", linewidth=1.0, color="0.6")
    for (decay, with_step), style in zip(SHADOWS, plotting.LINE_STYLES):
        label = f"shadow, decay {decay}" + (", num_updates = step" if with_step else "")
        ax.plot(follow(weights, decay, with_step), label=label, linewidth=1.6, linestyle=style)
    ax.set(xlabel="step", ylabel="value", title="The moving average smooths a noisy weight")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    body.append(html.figure(report.save(fig, "ema"),
                            "A weight oscillating towards -1 and its moving averages. With decay 0.99 "
                            "alone the average lags far behind at the start; num_updates = step lowers "
                            "the decay early on ((1 + step) / (10 + step)), so it follows at once."))
    report.sections.append(("ema", "Moving average of weights", "".join(body)))
    advance()


def _digits(report: _Report, advance: Callable[[], None]) -> None:
    data = digits.load_data()
    epochs = QUICK_EPOCHS if report.quick else EPOCHS
    repeats = QUICK_RUNS_PER_SCHEDULE if report.quick else RUNS_PER_SCHEDULE
    steps_per_epoch = math.ceil(len(data.x_train) / digits.BATCH)
    total = epochs * steps_per_epoch
    specs = digits.comparison_specs(total)
    runs: dict[str, list] = {}
    for name, spec in specs.items():
        if report.schedule(spec) is None:
            advance()
            continue
        runs[name] = []
        for run in range(repeats):
            plateau = Plateau(factor=0.3, patience=1, sync="none") if name == "plateau" else None
            runs[name].append(digits.train(name, spec, data, epochs, seed=run, plateau=plateau))
        advance()
    rows = []
    for name, group in runs.items():
        accuracy = np.array([r.final_accuracy for r in group])
        val = np.array([r.val_loss[-1] for r in group])
        best_epoch = int(np.mean([np.argmin(r.val_loss) for r in group])) + 1
        spec = group[0].spec + (" x Plateau(factor=0.3, patience=1)" if name == "plateau" else "")
        rows.append((name, f"{100 * accuracy.mean():.2f} ± {100 * accuracy.std():.2f}",
                     f"{val.mean():.4f}", f"{group[0].train_loss[-1]:.4f}", best_epoch, spec))
        report.summary.append((name, rows[-1][1], rows[-1][2]))
    x_epoch = np.arange(1, epochs + 1)
    fig, (ax_train, ax_val) = plotting.new_figure(10.0, 4.0, ncols=2)
    for name, group in runs.items():
        ax_train.plot(x_epoch, np.mean([r.train_loss for r in group], axis=0), label=name)
        ax_val.plot(x_epoch, np.mean([r.val_loss for r in group], axis=0), label=name)
    for ax, title in ((ax_train, "training loss (mean over minibatches)"), (ax_val, "validation loss")):
        ax.set(xlabel="epoch", ylabel="cross-entropy", title=title, yscale="log")
        ax.grid(True, alpha=0.3)
    ax_train.legend(fontsize="small", frameon=False)
    loss_src = report.save(fig, "digits_loss")
    fig, ax = plotting.new_figure(10.0, 4.0)
    for name, group in runs.items():
        ax.plot(np.arange(total), group[0].lrs, label=name, linewidth=1.4)
    ax.set(xlabel="step", ylabel="learning rate", title="learning rate used at each update (first run)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", frameon=False, ncols=2)
    lr_src = report.save(fig, "digits_lr")
    fig, ax = plotting.new_figure(7.5, 4.0)
    for name, group in runs.items():
        ax.plot(x_epoch, 100 * np.mean([r.test_accuracy for r in group], axis=0), label=name)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy", ylim=(85, 100))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    accuracy_src = report.save(fig, "digits_accuracy")
    body = [
        html.paragraph(
            f"scikit-learn's bundled digits (8x8 images, 10 classes; {len(data.x_train)} training, "
            f"{len(data.x_val)} validation, {len(data.x_test)} test images). The same network "
            f"(64 inputs, {digits.HIDDEN} ReLU units, softmax; NumPy, minibatch SGD, batch "
            f"{digits.BATCH}) is trained for {epochs} epochs ({total} updates) with each schedule "
            f"{repeats} times (run k starts from the same random initial weights and draws the same "
            "minibatch order for every schedule, so only the schedule differs). The plateau run multiplies "
            "a constant rate by the factor of "
            "lrdecay.Plateau, decided on the validation loss after each epoch."),
        html.table(["schedule", "test accuracy % (mean ± sd)", "validation loss", "training loss (first run)",
                    "best epoch (val)", "spec"], rows, text_columns=(0, 5)),
        html.figure(loss_src, f"Loss per epoch, mean over the {repeats} runs (log scale)."),
        html.figure(accuracy_src, f"Test accuracy per epoch, mean over the {repeats} runs."),
        html.figure(lr_src, "The learning-rate curves (the plateau curve shows the reductions it decided)."),
    ]
    report.sections.append(("digits", "Training comparison on digits", "".join(body)))


def _gallery(report: _Report, advance: Callable[[], None]) -> None:
    body = [html.paragraph("One representative instance of every registered schedule kind.")]
    for kind, cls in registry().items():
        schedule = example(kind)
        if schedule is not None:
            if report.quick:  # fixed margins: half the time of a fitted layout, for 50-odd figures
                fig, ax = plotting.new_figure(6.0, 2.6, layout=None)
                fig.subplots_adjust(left=0.13, right=0.97, bottom=0.19, top=0.95)
            else:
                fig, ax = plotting.new_figure(6.0, 2.6)
            plotting.draw(ax, schedule, span(schedule), labels=[kind], ylabel=value_label(schedule))
            src = report.save(fig, f"gallery_{kind}", dpi=60)
            body.append(html.heading(kind))
            caption = formula(cls) + (f" Matches: {cls.matches}." if cls.matches else "")
            body.append(html.figure(src, caption.strip() or kind))
            body.append(html.code(repr(schedule)))
        advance()
    report.sections.append(("gallery", "Every schedule", "".join(body)))


# -- the report ------------------------------------------------------------------------------


def build(out="lrdecay-report", quick: bool = False, progress: bool = True, summary: bool = True) -> Path:
    """Write the report into the folder ``out`` and return the path of its ``index.html``.

    ``quick`` trains for fewer epochs and runs and draws smaller figures (a smoke test);
    ``progress`` shows a progress bar and ``summary`` the digits results, both on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from lrdecay.report import forecast_demo  # SciPy: loaded for the report, not by its other modules

    started = time.perf_counter()
    out = Path(out)
    report = _Report(out, quick)
    parts = [
        ("decay figures", _decay_figures, len(DECAY_FIGURES)),
        ("toy training", _toy, 1),
        ("moving average", _ema, 1),
        ("digits training", _digits, len(digits.comparison_specs(1000))),
        ("range test", finder_demo.section, 1),
        ("loss forecast", forecast_demo.section, forecast_demo.PIECES),
        ("gallery", _gallery, len(registry())),
    ]
    console = Console(stderr=True, highlight=False)
    # the bar counts pieces of work (a figure, a training), not figures: it shows a percentage
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=console, disable=not progress, transient=False) as bar:
        task = bar.add_task("report", total=sum(n for _, _, n in parts))
        for description, part, _ in parts:
            bar.update(task, description=description)
            part(report, lambda: bar.advance(task))
    elapsed = time.perf_counter() - started
    intro = html.paragraph(
        f"Generated by `lrdecay demo{' --quick' if quick else ''}` in {elapsed:.1f} s. Every "
        "curve is the schedule evaluated with NumPy, the same code that drives training.")
    if report.missing:
        intro += html.paragraph("Not available in this version: " + "; ".join(report.missing))
    index = out / "index.html"
    index.write_text(html.page("lrdecay: learning-rate schedules, seen before training", intro, report.sections),
                     encoding="utf-8")
    if summary:
        figures = len(list((out / FIGURES).glob("*.png")))
        console.print(f"The report has {len(report.sections)} sections and {figures} figures ({elapsed:.1f} s):")
        for _, heading, _ in report.sections:
            console.print(f"  - {heading}")
        runs = QUICK_RUNS_PER_SCHEDULE if quick else RUNS_PER_SCHEDULE
        table = Table(title="Training comparison on digits (scikit-learn's 8x8 images of handwritten digits): "
                            f"final test accuracy, mean ± standard deviation over {runs} runs per schedule",
                      title_justify="left")
        table.add_column("schedule")
        table.add_column("accuracy %", justify="right")
        table.add_column("validation loss", justify="right")
        for row in report.summary:
            table.add_row(*row)
        console.print(table)
    return index
