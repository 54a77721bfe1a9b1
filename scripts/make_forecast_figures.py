"""Regenerate the figures of docs/forecast.md (in docs/forecast/) and print its tables.

The multi-power law of Luo et al. ("A Multi-Power Law for Loss Curve Prediction Across Learning
Rate Schedules", ICLR 2025, arXiv:2503.12811) fitted with their protocol on the loss curves of
their 25M and 100M models (data/loss-curves, MIT license; its README describes the runs): fit on
cosine_24000, constant_24000 and wsdcon_9 (steps < 24000), score the six other runs; then the same
law fitted on two runs only (constant_24000 and cosine_24000), extrapolated to the 72,000-step
runs with a 90% band; and the planner on the fitted 25M law.

    python scripts/make_forecast_figures.py [--out docs/forecast] [--no-figures]

Every table is printed in the Markdown docs/forecast.md holds (tests/forecast/test_docs_page.py
checks that the page has them). About a minute of CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import lrdecay
from lrdecay.forecast import MultiPowerLaw, band, fit, metrics, plan, read_csv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "loss-curves"
SIZES = ("25M", "100M")
PEAK, FLOOR, WARMUP_STEPS, STEPS = 3e-4, 3e-5, 2160, 24000

WARMUP = "piecewise_linear([0, 2159], [0.0, 3e-4])"  # NumPy's linspace(0, 3e-4, 2160), then 3e-4
#: Each run's schedule (data/loss-curves/README.md) as a spec: what lrdecay forecast fit --schedule takes.
SPECS = {
    "constant_24000": WARMUP,
    "constant_72000": WARMUP,
    "cosine_24000": f"join([{WARMUP}, cosine_annealing(3e-4, 21840, eta_min=3e-5)], [2160])",
    "cosine_72000": f"join([{WARMUP}, cosine_annealing(3e-4, 69840, eta_min=3e-5)], [2160])",
    "wsd_20000_24000": f"join([{WARMUP}, exponential_decay(3e-4, 4000, 0.1)], [20000])",
    "wsdld_20000_24000": "piecewise_linear([0, 2159, 20000, 24000], [0.0, 3e-4, 3e-4, 3e-5])",
    "wsdcon_3": "piecewise_linear([0, 2159, 7999, 8000], [0.0, 3e-4, 3e-4, 3e-5])",
    "wsdcon_9": "piecewise_linear([0, 2159, 7999, 8000], [0.0, 3e-4, 3e-4, 9e-5])",
    "wsdcon_18": "piecewise_linear([0, 2159, 7999, 8000], [0.0, 3e-4, 3e-4, 1.8e-4])",
}
FIT_RUNS = ("cosine_24000", "constant_24000", "wsdcon_9")
HELD_OUT = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18")
TWO_RUNS = ("constant_24000", "cosine_24000")
LONG_RUNS = ("cosine_72000", "constant_72000")
#: The repository's table (R², mean and worst relative error in %, averaged over the six held-out
#: runs) and the authors' parameters, from data/loss-curves/README.md.
PAPER = {"25M": (0.9988, 0.110, 0.409), "100M": (0.9983, 0.142, 0.583)}
AUTHORS = {
    "25M": MultiPowerLaw(L0=3.04045406, A=0.52468604, alpha=0.50786857, B=363.78751622, C=2.06560812,
                         beta=0.58279013, gamma=0.64142257),
    "100M": MultiPowerLaw(L0=2.6514477, A=0.60115152, alpha=0.45295811, B=437.9464276, C=2.13245612,
                          beta=0.59785199, gamma=0.65523644),
}
LEVEL = 0.9  # the band's level
BAND_POINTS = 48  # steps of the long runs where the figure draws the band


def load_runs(size: str) -> dict:
    """Every run of ``size``, as the paper's protocol uses it (runs ending at 24000: steps < 24000)."""
    runs = {}
    for name, spec in SPECS.items():
        run = read_csv(DATA / size / f"{name}.csv", lrdecay.parse(spec))
        runs[name] = run.truncate(24000) if name.endswith("24000") else run
    return runs


def scores(law, runs) -> tuple[dict, dict]:
    """Per held-out run and averaged over them (the paper's way): R², mean and worst relative error."""
    per_run = {name: metrics(law.predict(runs[name].lr, runs[name].steps), runs[name].loss) for name in HELD_OUT}
    mean = {key: float(np.mean([m[key] for m in per_run.values()])) for key in ("r2", "mean_rel", "max_rel")}
    return per_run, mean


def compute() -> dict:
    """Everything the page's tables and figures show."""
    results = {}
    for size in SIZES:
        runs = load_runs(size)
        law = fit([runs[name] for name in FIT_RUNS])
        two = fit([runs[name] for name in TWO_RUNS])
        bands = {}
        for name in LONG_RUNS:
            run = runs[name]
            steps = np.unique(np.concatenate([np.linspace(run.steps[0], run.steps[-1], BAND_POINTS).round(), run.steps[-1:]]))
            steps = steps.astype(np.int64)
            low, high = band([runs[n] for n in TWO_RUNS], run.lr, steps, fitted=two, level=LEVEL)
            bands[name] = (steps, low, high)
        results[size] = {"runs": runs, "law": law, "two": two, "bands": bands,
                         "ours": scores(law, runs), "authors": scores(AUTHORS[size], runs)}
    results["plan"] = plan(results["25M"]["law"], STEPS, PEAK, WARMUP_STEPS, FLOOR)
    return results


def _final(law, run) -> float:
    return float(law.predict(run.lr, run.steps[-1:])[0])


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def tables(results: dict) -> dict[str, str]:
    """The page's tables, Markdown, by name."""
    out = {}
    rows = []
    for size in SIZES:
        r2, mean, worst = PAPER[size]
        rows.append([size, "the paper's table", f"{r2:.4f}", f"{mean:.3f}%", f"{worst:.3f}%"])
        for key, what in (("authors", "the authors' parameters, evaluated by lrdecay"),
                          ("ours", "fitted by `lrdecay.forecast.fit`")):
            m = results[size][key][1]
            rows.append([size, what, f"{m['r2']:.4f}", f"{100 * m['mean_rel']:.3f}%", f"{100 * m['max_rel']:.3f}%"])
    out["held-out"] = _table(["model", "law", "R²", "mean relative error", "worst relative error"], rows)

    rows = []
    for size in SIZES:
        for what, law in (("the authors'", AUTHORS[size]), ("fitted here", results[size]["law"])):
            rows.append([size, what, *(f"{v:.4g}" for v in law.params.values())])
    out["parameters"] = _table(["model", "parameters", "L0", "A", "alpha", "B", "C", "beta", "gamma"], rows)

    rows = []
    for name in HELD_OUT:
        row = [f"`{name}`"]
        for size in SIZES:
            run, law = results[size]["runs"][name], results[size]["law"]
            m = results[size]["ours"][0][name]
            row += [f"{m['r2']:.4f}", f"{100 * m['max_rel']:.2f}%", f"{run.loss[-1]:.4f} / {_final(law, run):.4f}"]
        rows.append(row)
    out["per-run"] = _table(["held-out run", "25M R²", "25M worst", "25M final: measured / predicted",
                             "100M R²", "100M worst", "100M final: measured / predicted"], rows)

    rows = []
    for size in SIZES:
        for name in LONG_RUNS:
            run = results[size]["runs"][name]
            steps, low, high = results[size]["bands"][name]
            two, three = _final(results[size]["two"], run), _final(results[size]["law"], run)
            rows.append([size, f"`{name}`", f"{run.loss[-1]:.4f}", f"{two:.4f} ({100 * (two / run.loss[-1] - 1):+.2f}%)",
                         f"{low[-1]:.4f} .. {high[-1]:.4f}", f"{three:.4f} ({100 * (three / run.loss[-1] - 1):+.2f}%)"])
    out["extrapolation"] = _table(["model", "run (to step 72,000)", "measured final loss", "two-run fit",
                                   f"its {LEVEL:.0%} band", "three-run fit"], rows)

    plans = results["plan"]
    best = plans[0].final_loss
    out["plan"] = _table(["#", "name", "predicted final loss", "vs best"],
                         [[str(i), f"`{p.name}`", f"{p.final_loss:.4f}", f"+{p.final_loss - best:.4f}"]
                          for i, p in enumerate(plans, 1)])
    return out


# -- figures ---------------------------------------------------------------------------------


def _held_out_figure(results: dict, size: str, path: Path) -> None:
    from lrdecay.tools import plot as plotting

    runs, law = results[size]["runs"], results[size]["law"]
    fig, (short, long) = plotting.new_figure(12.0, 4.6, ncols=2)
    for i, name in enumerate(HELD_OUT):
        ax = long if name in LONG_RUNS else short
        run, color = runs[name], f"C{i}"
        ax.plot(run.steps, run.loss, ".", markersize=3, color=color, alpha=0.5)
        ax.plot(run.steps, law.predict(run.lr, run.steps), linewidth=1.4, color=color, label=name)
    for ax, title in ((short, "the runs up to 24,000 steps"), (long, "the runs of 72,000 steps (3x the fitted ones)")):
        ax.set(xlabel="step", ylabel="loss", title=title)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize="small", frameon=False)
    short.set_ylim(3.25 if size == "25M" else 2.9, 3.75 if size == "25M" else 3.4)
    long.set_ylim(3.15 if size == "25M" else 2.8, 3.65 if size == "25M" else 3.3)
    fig.suptitle(f"{size}: the six held-out runs, measured (dots) and predicted by the law fitted on three others (lines)")
    plotting.save(fig, path)


def _extrapolation_figure(results: dict, path: Path) -> None:
    from lrdecay.tools import plot as plotting

    fig, axes = plotting.new_figure(12.0, 4.6, ncols=2)
    for ax, size in zip(axes, SIZES):
        runs, two = results[size]["runs"], results[size]["two"]
        for i, name in enumerate(LONG_RUNS, 2):
            run, (steps, low, high) = runs[name], results[size]["bands"][name]
            ax.plot(run.steps, run.loss, ".", markersize=3, color=f"C{i}", alpha=0.5, label=f"{name} (measured)")
            ax.plot(run.steps, two.predict(run.lr, run.steps), linewidth=1.4, color=f"C{i}", label=f"{name} (predicted)")
            ax.fill_between(steps, low, high, color=f"C{i}", alpha=0.25, linewidth=0, label=f"{name} ({LEVEL:.0%} band)")
        for i, name in enumerate(TWO_RUNS):  # drawn last: on top of the long runs' first 24,000 steps
            run = runs[name]
            ax.plot(run.steps, run.loss, ".", markersize=3, color=f"C{i}", alpha=0.5, label=f"{name} (fitted)")
        ax.axvline(24000, color="0.5", linewidth=0.8, linestyle=":")
        ax.set(xlabel="step", ylabel="loss", title=f"{size}: fitted on the two runs that end at the dotted line")
        ax.set_ylim(*((3.1, 3.7) if size == "25M" else (2.75, 3.35)))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize="small", frameon=False)
    fig.suptitle("Extrapolating to 72,000 steps: measured (dots), predicted (lines), the 90% bands (shaded)")
    plotting.save(fig, path)


def figures(results: dict, out: Path) -> list[Path]:
    from lrdecay.cli.forecast import plan_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in SIZES:
        paths.append(out / f"held-out-{size}.png")
        _held_out_figure(results, size, paths[-1])
    paths.append(out / "extrapolation.png")
    _extrapolation_figure(results, paths[-1])
    paths.append(out / "plan-25M.png")
    plan_figure(results["25M"]["law"], results["plan"], STEPS, paths[-1],
                f"the planner on the fitted 25M law: {STEPS} steps, peak {PEAK:g}, warm-up {WARMUP_STEPS}, min {FLOOR:g}")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "forecast")
    parser.add_argument("--no-figures", action="store_true", help="print the tables only")
    args = parser.parse_args()
    results = compute()
    for name, table in tables(results).items():
        print(f"<!-- {name} -->\n{table}\n")
    if not args.no_figures:
        for path in figures(results, args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
