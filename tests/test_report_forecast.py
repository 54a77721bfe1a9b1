"""The demo report's loss-forecast section (lrdecay/report/forecast_demo.py): real trainings of the
digits network with noisy labels, logged as forecast.Run, the multi-power law fitted on them, the
plan, and the planned schedules trained and measured against the law's predictions; on a tiny
budget here, and in the quick report."""

import dataclasses
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

import lrdecay
from lrdecay import forecast
from lrdecay.report import _Report, digits, forecast_demo
from lrdecay.report.forecast_demo import PEAK_LR, PILOTS, TRAINED, Setup

TINY = Setup(steps=240, runs=2, points=12)


@pytest.fixture(scope="module")
def data():
    return digits.load_data()


@pytest.fixture(scope="module")
def tiny(data):
    calls = []
    result = forecast_demo.study(data, TINY, lambda: calls.append(1))
    assert len(calls) == forecast_demo.PIECES  # the progress bar's count
    return result


def _by_hand(data, rates, seed):
    """The noise-free training of digits.train's network, written out: its training-set loss after the last update."""
    params = digits._init(np.random.default_rng([seed, 0]), data.x_train.shape[1], 10)
    batches = digits._minibatches(len(data.x_train), np.random.default_rng([seed, 1]))
    for lr in rates:
        batch = next(batches)
        digits._sgd_step(params, data.x_train[batch], data.y_train[batch], lr)
    return digits._loss(digits._forward(params, data.x_train)[1], data.y_train)


def test_loss_curve_is_a_real_training(data):
    rates = np.full(60, 0.5)
    steps = np.array([0, 9, 29, 59])
    clean = digits.loss_curve(data, rates, steps, seed=3)
    assert clean[-1] == pytest.approx(_by_hand(data, rates, 3), rel=1e-12)  # the same network and minibatches
    assert clean[-1] < clean[0] / 2  # it learns
    np.testing.assert_array_equal(clean, digits.loss_curve(data, rates, steps, seed=3))  # deterministic
    assert not np.array_equal(clean, digits.loss_curve(data, rates, steps, seed=4))  # another run
    frozen = digits.loss_curve(data, np.zeros(60), steps, seed=3)
    assert np.ptp(frozen) == 0  # rate 0: the weights never move
    noisy = digits.loss_curve(data, rates, steps, seed=3, label_noise=0.2)
    assert not np.array_equal(noisy, digits.loss_curve(data, rates, steps, seed=3, label_noise=0.1))
    # cross-entropy against the noisy labels is at least their entropy
    floor = -(0.8 * np.log(0.8) + 0.2 * np.log(0.2 / 9))
    assert digits.noise_floor(0.2) == pytest.approx(floor, rel=1e-12) and digits.noise_floor(0.0) == 0.0
    assert np.all(noisy > floor) and noisy[-1] < noisy[0]
    with pytest.raises(ValueError):
        digits.loss_curve(data, rates, np.array([0, 60]))  # past the rates
    with pytest.raises(ValueError):
        digits.loss_curve(data, rates, np.array([5, 5]))


def test_pilots_are_logged_as_forecast_runs(data, tiny):
    assert [run.name for run in tiny.pilots] == list(PILOTS)
    schedules = forecast_demo.pilot_schedules(TINY)
    warm = TINY.warmup_steps
    for run in tiny.pilots:
        assert isinstance(run, forecast.Run)
        np.testing.assert_array_equal(run.steps, TINY.logged)
        assert run.steps[0] == warm and run.steps[-1] == TINY.steps - 1
        schedule = schedules[run.name][1]
        np.testing.assert_array_equal(run.lr, schedule.curve(TINY.steps))
        np.testing.assert_allclose(run.lr[:warm], PEAK_LR * np.arange(warm) / warm, rtol=1e-12)  # one warm-up
        # the mean of the pilot trainings (runs 0 and 1), trained again here
        again = forecast_demo.measure(data, schedule, TINY, 0)
        np.testing.assert_array_equal(run.loss, again.mean(axis=0))
    step = tiny.pilots[PILOTS.index("step")].lr
    assert step[TINY.steps // 2 - 1] == PEAK_LR and step[TINY.steps // 2] == pytest.approx(0.3 * PEAK_LR)


def test_the_fit_and_the_plan(tiny):
    law = tiny.law
    assert isinstance(law, forecast.MultiPowerLaw)
    assert law.params == forecast.fit(tiny.pilots).params  # deterministic, on the pilots alone
    fits = tiny.fit_metrics()
    assert set(fits) == set(PILOTS) and all(m["mean_rel"] < 0.05 for m in fits.values())
    plans = forecast.plan(law, TINY.steps, PEAK_LR, TINY.warmup_steps)
    assert [(p.name, p.final_loss) for p in plans] == [(p.name, p.final_loss) for p in tiny.plans]
    planned = {p.name: p for p in tiny.plans}
    assert [t.name for t in tiny.trained] == list(TRAINED)
    for t in tiny.trained:
        assert t.schedule == planned[t.name].schedule and t.description == planned[t.name].description
        assert lrdecay.parse(repr(t.schedule)) == t.schedule  # an ordinary schedule


def test_predictions_are_the_laws(tiny):
    for t in tiny.trained:
        np.testing.assert_array_equal(t.predicted, tiny.law.predict(t.schedule, TINY.logged))
        assert t.predicted[-1] == pytest.approx(tiny.law.final_loss(t.schedule.curve(TINY.steps)), rel=1e-9)
        assert t.error == t.predicted[-1] - t.final


def test_measured_losses_come_from_trainings(data, tiny):
    for t in tiny.trained:
        assert t.losses.shape == (TINY.runs, TINY.logged.size)
        assert t.final == pytest.approx(t.losses[:, -1].mean()) and t.final > tiny.floor
    optimized = tiny.trained[TRAINED.index("optimized")]
    rates = optimized.schedule.curve(TINY.steps)
    for k in range(TINY.runs):  # fresh runs: the ones after the pilots'
        again = digits.loss_curve(data, rates, TINY.logged, seed=TINY.runs + k, label_noise=forecast_demo.LABEL_NOISE)
        np.testing.assert_array_equal(optimized.losses[k], again)
    cosine = tiny.trained[TRAINED.index("cosine")]
    assert not np.array_equal(cosine.losses, optimized.losses)
    # the cosine is a pilot's schedule, trained again on other runs: not the pilot's curve
    assert not np.array_equal(cosine.measured, tiny.pilots[PILOTS.index("cosine")].loss)
    assert set(tiny.clean) == {"constant", "cosine"} and all(v < 1.0 for v in tiny.clean.values())


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, text):
        if self.cell is not None:
            self.cell += text


def test_the_table_shows_the_prediction_and_the_measurement(tiny, tmp_path):
    report = _Report(tmp_path, quick=True)
    forecast_demo.render(report, tiny)
    (anchor, heading, body), = report.sections
    assert anchor == "forecast" and heading == "Forecasting the loss of a schedule"
    parser = _Text()
    parser.feed(body.split("<h3>The plan, trained</h3>")[1])  # the table of the trained schedules
    rows = {row[0].split(" (")[0]: row for row in parser.rows[1:]}
    assert set(rows) == set(TRAINED)
    for t in tiny.trained:
        row = rows[t.name]
        assert row[2] == f"{tiny.law.predict(t.schedule, [TINY.steps - 1])[0]:.4f}"
        mean, sd = (float(x) for x in row[3].split(" ± "))
        assert mean == pytest.approx(t.losses[:, -1].mean(), abs=5e-5)
        assert sd == pytest.approx(t.losses[:, -1].std(ddof=1), abs=5e-5)
        assert float(row[4]) == pytest.approx(float(row[2]) - mean, abs=2e-4)
    assert "arXiv:2503.12811" in body and "Luo et al." in body
    assert not re.search(r"\bseeds?\b", body, re.I)
    for name in ("forecast_fit", "forecast_check"):
        assert f'src="figures/{name}.png"' in body and (tmp_path / "figures" / f"{name}.png").is_file()


def test_verdict_follows_the_numbers(tiny):
    # the same study with the measurements moved: the verdict moves with them
    text = " ".join(forecast_demo._verdict(tiny))
    assert "The plan: the law expects its optimized schedule" in text

    def moved(optimized, others):
        trained = [forecast_demo.Trained(t.name, t.description, t.schedule, t.predicted,
                                         t.losses + (optimized if t.name == "optimized" else others))
                   for t in tiny.trained]
        return " ".join(forecast_demo._verdict(dataclasses.replace(tiny, trained=trained)))

    assert "measurably worse" in moved(0.05, -0.05)
    assert "the gain holds" in moved(-0.05, 0.05)
    assert "Every one of these predictions is too high" in moved(-0.1, -0.1)
    assert "Every one of these predictions is too low" in moved(0.1, 0.1)


def test_quick_report_has_the_section(quick_report):
    out, result = quick_report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="forecast">Forecasting the loss of a schedule</h2>' in page
    assert "- Forecasting the loss of a schedule" in " ".join(result.stderr.split())
    section = page.split('<h2 id="forecast">')[1].split("<h2 ")[0]
    for name in ("forecast_fit", "forecast_check"):
        assert f'src="figures/{name}.png"' in section
        with Image.open(out / "figures" / f"{name}.png") as image:
            assert image.size[0] >= 600 and np.asarray(image.convert("L")).std() > 5
    for name in TRAINED:
        assert f"<td class=\"text\">{name}" in section
    assert "measured final loss (mean ± sd, 2 runs)" in section
