"""The report's loss-forecast section: the multi-power law of Luo et al. ("A Multi-Power Law for Loss
Curve Prediction Across Learning Rate Schedules", ICLR 2025, arXiv:2503.12811) fitted on pilot
trainings of the digits network, the schedules it plans, and those schedules trained for real and
measured against the law's predictions.

The training is the digits network of the training comparison (``report/digits.py``, plain minibatch
SGD) with noisy labels: each label drawn into a minibatch is replaced, with probability
:data:`LABEL_NOISE`, by another digit. The loss then has a floor above 0 and the gradient stays noisy
at the optimum, the regime the law was made for (language-model pretraining); with clean labels the
network memorises its 1078 images and decaying the rate raises the final loss (the section measures
this too). The logged loss is the expected training loss (``digits.loss_curve``), averaged over runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import lrdecay.forecast as forecast
from lrdecay.compose.nodes import warmup
from lrdecay.core.schedule import Schedule
from lrdecay.report import digits
from lrdecay.schedules.decay import piecewise_constant
from lrdecay.schedules.shapes import constant

__all__ = ["PEAK_LR", "LABEL_NOISE", "WARMUP_FRACTION", "STEP_FACTOR", "PILOTS", "TRAINED", "Setup", "FULL",
           "QUICK", "PIECES", "pilot_schedules", "measure", "Trained", "Study", "study", "section", "render"]

PEAK_LR = 0.5
#: Probability that a label drawn into a minibatch is replaced by one of the nine other digits.
LABEL_NOISE = 0.2
#: Every schedule warms up linearly from 0 over this fraction of the updates; losses are logged after it.
WARMUP_FRACTION = 0.1
#: The step pilot: the peak, then this times the peak from half way (the third run Luo et al. fit on).
STEP_FACTOR = 0.3
#: The pilot schedules the law is fitted on (the paper's: constant, cosine, a step down half way).
PILOTS = ("constant", "cosine", "step")
#: The planned schedules trained and measured against the prediction (names of ``forecast.plan``).
TRAINED = ("optimized", "cosine", "wsd-linear-0.1", "wsd-linear-0.2", "wsd-1-sqrt-0.2", "wsd-linear-0.5")


@dataclass(frozen=True)
class Setup:
    """The budget: ``steps`` updates per training, ``runs`` trainings per schedule, ``points``
    logged losses per training (evenly spaced from the end of the warm-up to the last update)."""

    steps: int
    runs: int
    points: int

    @property
    def warmup_steps(self) -> int:
        return round(WARMUP_FRACTION * self.steps)

    @property
    def logged(self) -> np.ndarray:
        return np.unique(np.linspace(self.warmup_steps, self.steps - 1, self.points).round().astype(np.int64))


FULL = Setup(steps=3000, runs=3, points=90)
QUICK = Setup(steps=600, runs=2, points=40)
#: Pieces of work the section counts on the progress bar: each pilot, the fit and plan, each trained
#: schedule, and the check with clean labels.
PIECES = len(PILOTS) + 1 + len(TRAINED) + 1


def pilot_schedules(setup: Setup) -> dict[str, tuple[str, Schedule]]:
    """``name -> (description, schedule)`` of the pilots, all with the same warm-up."""
    total, warm = setup.steps, setup.warmup_steps
    step = warmup(piecewise_constant((total // 2 - warm - 1,), (PEAK_LR, STEP_FACTOR * PEAK_LR)), warm)
    return {
        "constant": (f"the peak {PEAK_LR:g} after the warm-up", warmup(constant(PEAK_LR), warm)),
        "cosine": ("cosine from the peak to 0", forecast.cosine(total, PEAK_LR, warm)),
        "step": (f"the peak, then {STEP_FACTOR:g} x the peak from update {total // 2}", step),
    }


def measure(data: digits.Data, schedule: Schedule, setup: Setup, first_run: int,
            label_noise: float = LABEL_NOISE) -> np.ndarray:
    """The expected training loss at ``setup.logged`` of ``setup.runs`` trainings with ``schedule``
    (runs ``first_run``, ``first_run + 1``, ...: each its initial weights, minibatch order and label
    draws), one row per run."""
    rates = schedule.curve(setup.steps)
    return np.array([digits.loss_curve(data, rates, setup.logged, seed=first_run + k, label_noise=label_noise)
                     for k in range(setup.runs)])


@dataclass
class Trained:
    """A planned schedule trained ``runs`` times: the law's prediction and the measured losses."""

    name: str
    description: str
    schedule: Schedule
    predicted: np.ndarray  # the law's loss at the logged steps
    losses: np.ndarray  # runs x logged steps

    @property
    def measured(self) -> np.ndarray:
        return self.losses.mean(axis=0)

    @property
    def final(self) -> float:
        return float(self.losses[:, -1].mean())

    @property
    def final_sd(self) -> float:
        return float(self.losses[:, -1].std(ddof=1)) if len(self.losses) > 1 else 0.0

    @property
    def error(self) -> float:
        """Predicted minus measured final loss."""
        return float(self.predicted[-1]) - self.final


@dataclass
class Study:
    setup: Setup
    pilots: list[forecast.Run]  # the mean loss of the pilot trainings, as fitted
    law: forecast.MultiPowerLaw
    plans: list[forecast.Plan]  # every candidate of forecast.plan, best predicted first
    trained: list[Trained]
    clean: dict[str, float]  # final loss of one training of a pilot schedule without label noise
    floor: float  # the lowest expected loss possible with the noisy labels
    images: int  # training images
    seconds: float

    def fit_metrics(self) -> dict[str, dict]:
        return {run.name: forecast.metrics(self.law.predict(run.lr, run.steps), run.loss) for run in self.pilots}


def study(data: digits.Data, setup: Setup, advance: Callable[[], None] = lambda: None) -> Study:
    """The whole loop: train the pilots (runs 0 .. runs-1), fit the multi-power law on their mean
    loss, plan, train every schedule of :data:`TRAINED` on fresh runs (runs .. 2 runs-1), and one
    clean-label training of the constant and cosine pilots."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    total, warm = setup.steps, setup.warmup_steps
    pilots = pilot_schedules(setup)
    with threadpool_limits(1):  # matrices of 32 x 64: one BLAS thread is the fastest, and cores are shared
        runs = []
        for name in PILOTS:
            losses = measure(data, pilots[name][1], setup, 0)
            runs.append(forecast.Run(pilots[name][1].curve(total), setup.logged, losses.mean(axis=0), name))
            advance()
        law = forecast.fit(runs)
        plans = forecast.plan(law, total, PEAK_LR, warm)
        advance()
        by_name = {p.name: p for p in plans}
        trained = []
        for name in TRAINED:
            plan = by_name[name]
            trained.append(Trained(name, plan.description, plan.schedule, law.predict(plan.schedule, setup.logged),
                                   measure(data, plan.schedule, setup, setup.runs)))
            advance()
        clean = {name: float(digits.loss_curve(data, pilots[name][1].curve(total), setup.logged[-1:], seed=0)[0])
                 for name in ("constant", "cosine")}
        advance()
    return Study(setup, runs, law, plans, trained, clean, digits.noise_floor(LABEL_NOISE), len(data.x_train),
                 time.perf_counter() - started)


# -- the section -----------------------------------------------------------------------------


def _runs(first: int, last: int) -> str:
    return f"runs {first} and {last}" if last == first + 1 else f"runs {first} to {last}"


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _fit_figure(report, result: Study) -> str:
    from lrdecay.tools import plot as plotting

    fig, (ax_loss, ax_lr) = plotting.new_figure(10.0, 4.0, ncols=2)
    steps = result.setup.logged
    for i, run in enumerate(result.pilots):
        color = f"C{i}"
        ax_loss.plot(steps, run.loss, color=color, linewidth=1.2, label=f"{run.name}: measured")
        ax_loss.plot(steps, result.law.predict(run.lr, steps), color=color, linestyle="--", linewidth=1.6,
                     label=f"{run.name}: fitted law")
        ax_lr.plot(np.arange(result.setup.steps), run.lr[:result.setup.steps], color=color, label=run.name,
                   linewidth=3.0 if i == 0 else 1.5)  # the step pilot's line runs on the constant one until half way
    ax_loss.axhline(result.floor, color="0.5", linestyle=":", linewidth=1.0, label="floor (label noise)")
    ax_loss.set(xlabel="update", ylabel="expected training loss (nats)",
                title=f"pilots: measured (mean of {result.setup.runs} runs) and fitted")
    ax_lr.set(xlabel="update", ylabel="learning rate", title="the pilot schedules")
    for ax in (ax_loss, ax_lr):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", frameon=False)
    return report.save(fig, "forecast_fit")


def _check_figure(report, result: Study) -> str:
    from matplotlib.lines import Line2D

    from lrdecay.tools import plot as plotting

    fig, (ax_loss, ax_zoom, ax_lr) = plotting.new_figure(13.0, 4.3, ncols=3)
    steps = result.setup.logged
    late = steps >= 0.7 * result.setup.steps
    for i, t in enumerate(result.trained):
        color = f"C{i}"
        for ax, keep in ((ax_loss, slice(None)), (ax_zoom, late)):
            ax.plot(steps[keep], t.measured[keep], color=color, linewidth=1.2)
            ax.plot(steps[keep], t.predicted[keep], color=color, linestyle="--", linewidth=1.6)
        ax_lr.plot(np.arange(result.setup.steps), t.schedule.curve(result.setup.steps), color=color, label=t.name)
    ax_loss.set(xlabel="update", ylabel="expected training loss (nats)",
                title=f"measured (mean of {result.setup.runs} runs) and predicted")
    ax_zoom.set(xlabel="update", ylabel="expected training loss (nats)", title="the last 30% of the updates")
    ax_lr.set(xlabel="update", ylabel="learning rate", title="the trained schedules")
    for ax in (ax_loss, ax_zoom, ax_lr):
        ax.grid(True, alpha=0.3)
    styles = [Line2D([], [], color="0.2", linewidth=1.2, label=f"measured (mean of {result.setup.runs} runs)"),
              Line2D([], [], color="0.2", linewidth=1.6, linestyle="--", label="predicted by the law")]
    ax_loss.legend(handles=styles, fontsize="small", frameon=False)
    ax_zoom.legend(handles=styles, fontsize="small", frameon=False)
    ax_lr.legend(fontsize="small", frameon=False, loc="lower left", bbox_to_anchor=(0.12, 0.0))
    return report.save(fig, "forecast_check")


def _verdict(result: Study) -> list[str]:
    """Paragraphs on what holds and what does not, each from the numbers."""
    runs = result.setup.runs
    fits = result.fit_metrics()
    by_name = {t.name: t for t in result.trained}
    held_out = [t for t in result.trained if t.name not in PILOTS]
    errors = np.array([t.error for t in held_out])
    finals = np.array([t.final for t in held_out])
    above = np.abs(errors) / (finals - result.floor)
    sd = float(np.median([t.final_sd for t in result.trained]))
    curves = [forecast.metrics(t.predicted, t.measured) for t in result.trained]
    if np.all(errors < 0):
        bias = " Every one of these predictions is too low: the law is too optimistic about them."
    elif np.all(errors > 0):
        bias = " Every one of these predictions is too high: the law is too pessimistic about them."
    else:
        bias = ""
    text = [
        f"The fit: on the pilots the law's loss is within {_pct(np.mean([m['mean_rel'] for m in fits.values()]))} "
        f"of the measured one on average, {_pct(max(m['max_rel'] for m in fits.values()))} at the worst logged point "
        f"(R² {min(m['r2'] for m in fits.values()):.3f} to {max(m['r2'] for m in fits.values()):.3f}). On the "
        f"trained schedules the predicted curves are within {_pct(np.mean([m['mean_rel'] for m in curves]))} of the "
        f"measured ones on average, {_pct(max(m['max_rel'] for m in curves))} at the worst point.",
        f"The final losses: for the {len(held_out)} schedules the law was not fitted on, the predicted final "
        f"loss is off by {errors.min():+.4f} to {errors.max():+.4f}, at most "
        f"{_pct(np.max(np.abs(errors) / finals))} of the loss, while the standard deviation of a final loss "
        f"over {runs} runs is about {sd:.4f}. Counted from the floor ({result.floor:.3f}, the lowest loss "
        f"possible with these labels), the error is {np.mean(above):.0%} of the loss left to gain on average, "
        f"up to {np.max(above):.0%}." + bias,
    ]
    cosine = by_name.get("cosine")
    if cosine is not None and held_out:
        promised = np.array([cosine.predicted[-1] - t.predicted[-1] for t in held_out])
        seen = np.array([cosine.final - t.final for t in held_out])
        sentence = (f"Against the cosine: the law expects {int(np.sum(promised > 0))} of these {len(held_out)} "
                    f"schedules to end below it, by {promised.mean():.4f} on average; measured, "
                    f"{int(np.sum(seen > 0))} of them do, by {seen.mean():.4f} on average")
        if seen.mean() > 0 and promised.mean() > 0:
            sentence += f": the law expects {promised.mean() / seen.mean():.1f} times the gain the trainings show."
        else:
            sentence += "."
        text.append(sentence)
    optimized = by_name.get("optimized")
    wsds = [t for t in result.trained if t.name.startswith("wsd")]
    if optimized is not None and wsds:
        best_predicted = min(wsds, key=lambda t: t.predicted[-1])
        best_measured = min(wsds, key=lambda t: t.final)
        promised_gain = float(best_predicted.predicted[-1] - optimized.predicted[-1])
        seen_gain = best_measured.final - optimized.final
        se = float(np.hypot(optimized.final_sd, best_measured.final_sd) / np.sqrt(runs))
        if seen_gain > 2 * se and seen_gain >= 0.5 * promised_gain:
            outcome = "the gain holds."
        elif seen_gain > 2 * se:
            outcome = f"a real gain, but {seen_gain / promised_gain:.0%} of the promised one."
        elif seen_gain < -2 * se:
            outcome = "the optimized schedule is measurably worse than the best cool-down: the promised gain is not there."
        else:
            outcome = ("no gain beyond the run-to-run noise: measured, the optimized schedule is as good as the best "
                       "cool-down, not better.")
        text.append(
            f"The plan: the law expects its optimized schedule to end {promised_gain:.4f} below the best trained WSD "
            f"cool-down ({best_predicted.name}, by its prediction); measured, it ends {abs(seen_gain):.4f} "
            f"{'below' if seen_gain >= 0 else 'above'} the best one ({best_measured.name}), with a standard error "
            f"of {se:.4f} on that difference: {outcome}")
        spread = float(finals.max() - finals.min())
        typical = float(np.mean(np.abs(errors)))
        summary = (f"In short: the law describes this small problem to within {_pct(np.max(np.abs(errors) / finals))} "
                   f"of the final loss ({np.max(above):.0%} of the loss above the floor) and follows the shape of "
                   "every curve")
        if cosine is not None and all(t.final < cosine.final for t in held_out):
            summary += ", and it rightly puts every cool-down ahead of the cosine"
        if typical > spread:
            summary += (f"; but the {len(held_out)} schedules it ranks end within {spread:.4f} of each other when "
                        f"trained, less than its typical error of {typical:.4f}, so at this precision its ranking "
                        "among them, and the optimized schedule it plans, are not borne out.")
        else:
            summary += (f"; its typical error ({typical:.4f}) is below the measured spread of the {len(held_out)} "
                        f"schedules it ranks ({spread:.4f}).")
        text.append(summary)
    return text


def section(report, advance: Callable[[], None]) -> None:
    """The report's section (``report`` is the report being built; ``advance`` moves its progress bar):
    :func:`study` on the :data:`QUICK` or :data:`FULL` budget, then :func:`render`."""
    render(report, study(digits.load_data(), QUICK if report.quick else FULL, advance))


def render(report, result: Study) -> None:
    """Append the section showing ``result`` to ``report`` (its figures saved by ``report.save``)."""
    from lrdecay.report import html

    setup = result.setup
    runs, total, warm = setup.runs, setup.steps, setup.warmup_steps
    every = int(np.median(np.diff(setup.logged)))
    fits = result.fit_metrics()
    fit_rows = [(run.name, description, f"{fits[run.name]['r2']:.3f}", _pct(fits[run.name]['mean_rel']),
                 _pct(fits[run.name]['max_rel']), f"{run.loss[-1]:.4f}",
                 f"{result.law.predict(run.lr, run.steps[-1:])[0]:.4f}")
                for run, (description, _) in zip(result.pilots, (pilot_schedules(setup)[n] for n in PILOTS))]
    predicted_rank = {t.name: i + 1 for i, t in enumerate(sorted(result.trained, key=lambda t: t.predicted[-1]))}
    measured_rank = {t.name: i + 1 for i, t in enumerate(sorted(result.trained, key=lambda t: t.final))}
    rows = []
    for t in result.trained:
        curve = forecast.metrics(t.predicted, t.measured)
        rows.append((t.name + (" (a pilot's schedule)" if t.name in PILOTS else ""), t.description,
                     f"{t.predicted[-1]:.4f}", f"{t.final:.4f} ± {t.final_sd:.4f}", f"{t.error:+.4f}",
                     f"{100 * t.error / t.final:+.2f}%", f"{predicted_rank[t.name]} / {measured_rank[t.name]}",
                     _pct(curve["mean_rel"])))
    ranking = ", ".join(f"{p.name} {p.final_loss:.4f}" for p in result.plans[:4])
    names = {p.name: p.final_loss for p in result.plans}
    clean = result.clean
    if clean["cosine"] > clean["constant"]:
        clean_text = (f"decaying the rate raises the final loss, {clean['cosine'] / clean['constant']:.1f} times the "
                      "constant rate's: in the law a lower rate can only lower the loss, so it has nothing to fit there")
    else:
        clean_text = f"decaying the rate lowers the final loss by {_pct(1 - clean['cosine'] / clean['constant'])}"
    body = [
        html.paragraph(
            "Luo et al. (\"A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules\", ICLR 2025, "
            "arXiv:2503.12811) describe the loss of a training as a function of its whole learning-rate schedule: "
            "L(t) = L0 + A P(t)^-alpha - LD(t), a power law in the sum P(t) of the rates so far, minus a loss drop "
            "LD(t) that every decrease of the rate adds, growing after the decrease. Fitted on a few runs, it "
            "predicts the loss curve of any other schedule (lrdecay.forecast), and `lrdecay.forecast.optimize` "
            "finds the schedule with the lowest predicted final loss. This section runs the whole loop on a real "
            "training: pilot runs, the fit, the plan, then the planned schedule, cosine and warmup-stable-decay "
            "(WSD) cool-downs trained and measured against what the law predicted."),
        html.paragraph(
            f"The training: the digits network of the training comparison (64 inputs, {digits.HIDDEN} ReLU units, "
            f"softmax; NumPy, minibatch SGD, batch {digits.BATCH}), {total} updates at a peak rate of {PEAK_LR:g} "
            f"after a linear warm-up over the first {warm}. Each label drawn into a minibatch is replaced, with "
            f"probability {LABEL_NOISE:g}, by one of the nine other digits at random, drawn afresh each time: no "
            f"network can memorise such labels, the loss has a floor ({result.floor:.3f} nats, the entropy of the "
            "label noise) and the gradient stays noisy at the optimum, as in the language-model pretraining the law "
            "was made for, where the next token is uncertain. With the true labels the network memorises its "
            f"{result.images} images instead: one training with the constant pilot's schedule ends at a loss of "
            f"{clean['constant']:.4f}, one with the cosine at {clean['cosine']:.4f}; {clean_text}."),
        html.paragraph(
            "The loss logged is the expected training loss: the cross-entropy over all training images against "
            f"the noisy labels' distribution ({1 - LABEL_NOISE:g} on the true digit, {LABEL_NOISE:g}/9 on each "
            f"other), after every {every}th update from the end of the warm-up (as in the paper's runs), averaged "
            f"over {runs} runs per schedule (each its own initial weights, minibatch order and label draws; run k "
            "is the same for every schedule)."),
        html.heading("The pilots and the fit"),
        html.paragraph(
            f"As in the paper, the law is fitted on three pilot schedules, each trained {runs} times ({_runs(1, runs)}): "
            f"a constant rate, a cosine to 0, and a step from the peak down to {STEP_FACTOR:g} x the peak "
            "half way, all with the same warm-up. `lrdecay.forecast.fit` fits the seven parameters on their mean "
            "loss curves (a Huber loss on the log residuals, as in the paper)."),
        html.figure(_fit_figure(report, result),
                    f"Left: the expected training loss of each pilot, measured (solid, mean of {runs} runs) and by "
                    "the fitted law (dashed); the dotted line is the floor set by the label noise. Right: the pilot "
                    "schedules."),
        html.table(["pilot", "schedule", "R²", "mean error", "worst error", "final loss, measured",
                    "final loss, fitted"], fit_rows, text_columns=(0, 1)),
        html.code("lrdecay.forecast.MultiPowerLaw(" + ", ".join(f"{k}={v:.6g}" for k, v in result.law.params.items())
                  + ")"),
        html.heading("The plan, trained"),
        html.paragraph(
            f"`lrdecay.forecast.plan` ranks constant, cosine, WSD with linear, cosine and 1-sqrt cool-downs over "
            f"the last 5% to 50% of the updates, and the optimized schedule, by the law's final loss; its best: "
            f"{ranking}; cosine {names['cosine']:.4f}, constant {names['constant']:.4f}. The optimized "
            f"schedule, cosine and four WSD variants were then each trained {runs} more times ({_runs(runs + 1, 2 * runs)}, "
            "none of them used in the fit). The cosine is a pilot's schedule: its row checks the "
            "fit on fresh runs; the others are predictions."),
        html.table(["schedule", "what it is", "predicted final loss", f"measured final loss (mean ± sd, {runs} runs)",
                    "error (predicted - measured)", "error %", "rank predicted / measured",
                    "curve: mean error"], rows, text_columns=(0, 1)),
        html.figure(_check_figure(report, result),
                    f"Left: the expected training loss of each trained schedule, measured (solid, mean of {runs} "
                    "runs) and predicted by the law fitted on the pilots (dashed), one colour per schedule as on "
                    "the right. Middle: the same over the last 30% of the updates, where the schedules cool down. "
                    "Right: the trained schedules."),
        html.heading("What holds and what does not"),
        *(html.paragraph(sentence) for sentence in _verdict(result)),
        html.paragraph(f"This section trained {(len(PILOTS) + len(TRAINED)) * runs + 2} networks, fitted the law and "
                       f"planned in {result.seconds:.0f} s."),
    ]
    report.sections.append(("forecast", "Forecasting the loss of a schedule", "".join(body)))
