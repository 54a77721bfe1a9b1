"""The learning-rate range test on the digits network of the training comparison: what
``lrdecay find`` runs, and the check the report shows (the suggested rate against a tenth of it
and ten times it, trained for the same budget)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrdecay.report import digits
from lrdecay.tools.finder import RangeTestResult, range_test

__all__ = ["START_LR", "END_LR", "NUM_STEPS", "BUDGET_EPOCHS", "FACTORS", "find", "steps_per_epoch", "Check",
           "check"]

START_LR = 1e-5
END_LR = 10.0
NUM_STEPS = 300  # about nine epochs of the digits training set: a curve smooth enough for the rules to agree
#: Epochs each rate trains for in :func:`check`.
BUDGET_EPOCHS = 3
#: The suggested rate times these factors is trained in :func:`check`.
FACTORS = (0.1, 1.0, 10.0)


def steps_per_epoch(data: digits.Data) -> int:
    return math.ceil(len(data.x_train) / digits.BATCH)


def find(data: digits.Data, seed: int = digits.SEED, *, start_lr=START_LR, end_lr=END_LR,
         num_steps: int = NUM_STEPS, mode: str = "exp", smooth: float = 0.05, diverge: float = 5.0,
         progress: bool | None = None) -> RangeTestResult:
    """The range test on a fresh digits network (initial weights and minibatch order from
    ``seed``, as in the training comparison), plain SGD."""
    return range_test(digits.sgd_stepper(data, seed), start_lr, end_lr, num_steps, mode, smooth, diverge, progress)


@dataclass
class Check:
    seed: int
    result: RangeTestResult
    runs: dict  # factor -> digits.Run at constant(factor * suggestion)

    def val_loss(self, factor: float, epochs: int = BUDGET_EPOCHS) -> float:
        """Validation loss after ``epochs`` at ``factor`` times the suggestion."""
        return self.runs[factor].val_loss[epochs - 1]

    def suggestion_wins(self, epochs: int = BUDGET_EPOCHS) -> bool:
        return all(self.val_loss(1.0, epochs) < self.val_loss(f, epochs) for f in FACTORS if f != 1.0)


def check(data: digits.Data, seed: int, epochs: int = BUDGET_EPOCHS) -> Check:
    """A range test, then ``epochs`` of training at a constant rate for each of the suggestion
    times :data:`FACTORS`, from the same initial weights and minibatches."""
    if epochs < BUDGET_EPOCHS:
        raise ValueError(f"epochs must be >= BUDGET_EPOCHS ({BUDGET_EPOCHS}), got {epochs}")
    result = find(data, seed, progress=False)
    lr = result.suggestion
    if lr is None:
        raise RuntimeError(f"the range test on the digits network gave no suggestion ({result.stopped})")
    runs = {factor: digits.train(f"{factor:g} x suggestion", f"constant({factor * lr!r})", data, epochs, seed=seed)
            for factor in FACTORS}
    return Check(seed, result, runs)


def loss_table(checks: list[Check]) -> tuple[list[str], list[tuple]]:
    headers = ["run", "steepest (suggestion)", "minimum / 10", "valley", "spread (decades)", "stopped"] + [
        f"val loss, {f:g} x" for f in FACTORS]
    rows = []
    for c in checks:
        s = c.result.suggestions
        rows.append((c.seed + 1, f"{s['steepest']:.3g}", f"{s['minimum']:.3g}", f"{s['valley']:.3g}",
                     f"{c.result.spread:.2f}", f"{c.result.stopped} at step {c.result.steps_run}",
                     *(f"{c.val_loss(f):.4g}" for f in FACTORS)))
    return headers, rows


def mean_curves(checks: list[Check]) -> dict[float, np.ndarray]:
    """Validation loss per epoch for each factor, mean over the checks."""
    return {f: np.mean([c.runs[f].val_loss for c in checks], axis=0) for f in FACTORS}


def section(report, advance) -> None:
    """The report's section: the range test of the first run with its suggestions, and the check
    over all runs (``report`` is the report being built; ``advance`` moves its progress bar)."""
    from lrdecay.report import html
    from lrdecay.tools import plot as plotting

    data = digits.load_data()
    repeats = 2 if report.quick else 5
    epochs = BUDGET_EPOCHS if report.quick else 10
    checks = [check(data, run, epochs) for run in range(repeats)]
    first = checks[0].result
    fig, (ax_find, ax_train) = plotting.new_figure(11.0, 4.2, ncols=2)
    first.plot(ax=ax_find, title=f"range test, first run ({first.steps_run} SGD steps)")
    x_epoch = np.arange(1, epochs + 1)
    for factor, curve in mean_curves(checks).items():
        ax_train.plot(x_epoch, curve, label=f"{factor:g} x suggestion", marker="o", markersize=3)
    ax_train.axvline(BUDGET_EPOCHS, color="0.6", linestyle=":", linewidth=1.0)
    ax_train.set(xlabel="epoch", ylabel="validation loss (log scale)", yscale="log",
                 title=f"constant rate, mean of {repeats} runs")
    ax_train.set_xticks(x_epoch if epochs <= 10 else x_epoch[::max(1, epochs // 10)])
    ax_train.grid(True, alpha=0.3)
    ax_train.legend(fontsize="small", frameon=False)
    src = report.save(fig, "range_test")
    wins = sum(c.suggestion_wins() for c in checks)
    wins_longer = sum(c.suggestion_wins(epochs) for c in checks)
    schedule = first.to_schedule("one_cycle", total_steps=epochs * steps_per_epoch(data))
    headers, rows = loss_table(checks)
    body = [
        html.paragraph(
            "The learning-rate range test (Smith 2015; fastai's lr_find, torch-lr-finder) raises the "
            f"rate geometrically from {START_LR:g} to {END_LR:g} over {NUM_STEPS} SGD steps of a fresh "
            "digits network and records the loss; lrdecay.finder.range_test stops it once the running "
            "average of the loss exceeds 5 times its minimum. Three rules read a rate off the curve: "
            "steepest descent (the suggestion), the minimum divided by 10, and fastai's valley; their "
            "spread, log10(largest / smallest), says how far they disagree. lrdecay.torch.lr_find and "
            "lrdecay.keras.lr_find run the same test on a model and put the model, its optimizer and "
            "the random number generators back exactly as they were."),
        html.figure(src, f"Left: loss against rate in the first run (the thin curves: each step's loss "
                         f"and the running average that decides the stop; the thick one: the centred "
                         f"average the rules read), with the three rules' rates as vertical lines. Right: "
                         f"validation loss per epoch when training at a constant rate of the suggestion, a "
                         f"tenth of it and ten times it (each run with its own suggestion), mean of "
                         f"{repeats} runs; the dotted line "
                         f"marks the {BUDGET_EPOCHS}-epoch budget of the table."),
        html.paragraph(
            f"After the {BUDGET_EPOCHS}-epoch budget the suggested rate reaches a lower validation loss "
            f"than both a tenth and ten times itself in {wins} of {repeats} runs"
            + (f" (after {epochs} epochs: {wins_longer} of {repeats})." if epochs != BUDGET_EPOCHS else ".")
            + f" The table lists each run's rules and the validation loss after {BUDGET_EPOCHS} epochs."),
        html.table(headers, rows, text_columns=(5,)),
        html.paragraph("The suggestion of the first run as a one-cycle schedule for the same training "
                       "(RangeTestResult.to_schedule):"),
        html.code(repr(schedule)),
    ]
    report.sections.append(("range-test", "Learning-rate range test", "".join(body)))
    advance()
