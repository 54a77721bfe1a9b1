"""The framework-free range test: the sweep's rates, the running average, the stop rules, the
suggestion rules (against closed forms and fastai's own valley loop), the result's schedule, plot
and JSON, bad input, and the claim on a real model: on scikit-learn's digits the suggested rate
beats ten times less and ten times more over five seeds."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay.report import digits
from lrdecay.tools.finder import RULES, RangeTestResult, _valley, range_test, sweep


def quadratic_bowl(lr_best=0.01):
    """``loss(lr) = (log10(lr / lr_best))^2 + 1``: one step's loss as a deterministic function
    of its rate (a valley at ``lr_best``)."""
    return lambda lr: math.log10(lr / lr_best) ** 2 + 1.0


# -- the sweep -------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end, n", [(1e-7, 10.0, 100), (1e-4, 1.0, 2), (0.5, 3.0, 37)])
def test_exponential_sweep_is_torch_lr_finders_rates(start, end, n):
    # torch-lr-finder's ExponentialLR: base * (end / base) ** (i / (num_iter - 1))
    rates = np.asarray(sweep(start, end, n)(np.arange(n)))
    expected = [start * (end / start) ** (i / (n - 1)) for i in range(n)]
    np.testing.assert_allclose(rates, expected, rtol=1e-14)
    assert rates[0] == start and rates[-1] == end


def test_linear_sweep_and_the_sweep_is_a_schedule():
    s = sweep(0.001, 1.0, 11, mode="linear")
    assert isinstance(s, lrdecay.Schedule)
    np.testing.assert_allclose(np.asarray(s(np.arange(11))), np.linspace(0.001, 1.0, 11), rtol=1e-15)
    assert lrdecay.parse(repr(s)) == s
    assert s.kind == "warmup"


def test_range_test_calls_step_fn_with_the_sweep_in_order():
    seen = []
    result = range_test(lambda lr: seen.append(lr) or 1.0, 1e-3, 1.0, 7, diverge=math.inf)
    assert seen == np.asarray(sweep(1e-3, 1.0, 7)(np.arange(7))).tolist() == result.rates.tolist()
    assert result.stopped == "completed" and result.steps_run == 7 == result.num_steps


# -- running average and stops ---------------------------------------------------------------


def test_smoothed_is_the_debiased_running_average():
    rng = np.random.default_rng(3)
    raw = rng.uniform(1.0, 2.0, 50)
    result = range_test(lambda lr, it=iter(raw): next(it), 1e-3, 1.0, 50,
                        smooth=0.2, diverge=math.inf)
    a = 0.2
    for i in (0, 1, 10, 49):  # sum_k a (1 - a)^(i - k) loss_k, over the weights' sum
        weights = a * (1 - a) ** (i - np.arange(i + 1))
        assert result.smoothed[i] == pytest.approx(float(weights @ raw[: i + 1] / weights.sum()), rel=1e-13)
    assert result.smoothed[0] == raw[0]
    np.testing.assert_array_equal(range_test(lambda lr, it=iter(raw): next(it), 1e-3, 1.0, 50, smooth=1.0,
                                             diverge=math.inf).smoothed, raw)


def test_stops_when_the_smoothed_loss_passes_diverge_times_its_minimum():
    losses = [4.0, 2.0, 1.0, 1.5, 3.0, 6.0, 50.0, 1.0, 1.0, 1.0]
    result = range_test(lambda lr, it=iter(losses): next(it), 1e-3, 1.0, 10, smooth=1.0, diverge=5.0)
    assert result.stopped == "diverged"
    assert result.steps_run == 6  # 6.0 > 5 * 1.0: the step that diverged is recorded, then it stops
    assert result.losses.tolist() == losses[:6]


def test_a_nan_loss_stops_the_test_and_says_why():
    result = range_test(lambda lr: float("nan"), 1e-5, 1.0, 50)
    assert result.stopped == "non-finite" and result.steps_run == 1
    assert result.suggestion is None and result.spread is None
    assert set(result.suggestions) == set(RULES) and all(v is None for v in result.suggestions.values())
    assert "NaN/inf" in result.summary()
    with pytest.raises(ValueError, match="no suggestion .* NaN/inf loss after 1 of 50 steps"):
        result.to_schedule("one_cycle", total_steps=1000)


def test_inf_later_keeps_the_steps_before_it():
    losses = [3.0] * 20 + [2.0] * 20 + [math.inf]
    result = range_test(lambda lr, it=iter(losses): next(it), 1e-4, 1.0, 60)
    assert result.stopped == "non-finite" and result.steps_run == 41
    assert result.suggestion is not None and math.isfinite(result.suggestion)


def test_loss_may_be_an_array_or_tensor():
    import torch

    result = range_test(lambda lr: torch.tensor(2.0 - lr), 1e-3, 1.0, 5, diverge=math.inf)
    result_np = range_test(lambda lr: np.float32(2.0 - lr), 1e-3, 1.0, 5, diverge=math.inf)
    np.testing.assert_allclose(result.losses, result_np.losses, rtol=1e-7)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(start_lr=1.0, end_lr=1.0), ValueError, "end_lr must be > start_lr, got start_lr=1.0 and end_lr=1.0"),
    (dict(start_lr=1.0, end_lr=0.1), ValueError, "end_lr must be > start_lr"),
    (dict(start_lr=0.0), ValueError, "start_lr must be > 0, got 0"),
    (dict(start_lr=-1e-3), ValueError, "start_lr must be > 0"),
    (dict(end_lr=float("inf")), ValueError, "end_lr must be finite"),
    (dict(num_steps=1), ValueError, "num_steps must be >= 2, got 1"),
    (dict(num_steps=10.5), ValueError, "num_steps must be a whole number, got 10.5"),
    (dict(num_steps="100"), TypeError, "num_steps must be an integer"),
    (dict(mode="cosine"), ValueError, "mode must be one of 'exp', 'linear'; got 'cosine'"),
    (dict(smooth=0.0), ValueError, "smooth must be > 0.0, got 0.0"),
    (dict(smooth=1.5), ValueError, "smooth must be <= 1.0, got 1.5"),
    (dict(diverge=1.0), ValueError, "diverge must be a number > 1"),
    (dict(diverge="5"), ValueError, "diverge must be a number > 1"),
])
def test_bad_arguments_name_the_parameter(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        range_test(quadratic_bowl(), **{"start_lr": 1e-5, "end_lr": 10.0, **kwargs})


def test_bad_step_fn():
    with pytest.raises(TypeError, match="step_fn must be callable"):
        range_test(0.1, 1e-5, 1.0)
    with pytest.raises(TypeError, match=r"step_fn must return the loss as a number .* got str 'x' at step 0"):
        range_test(lambda lr: "x", 1e-5, 1.0)
    with pytest.raises(TypeError, match="got NoneType None at step 0"):
        range_test(lambda lr: None, 1e-5, 1.0)


# -- the suggestion rules --------------------------------------------------------------------


def test_rules_on_a_known_curve():
    # loss = 2 - tanh(2 (x + 2)) + exp(3 (x - 0.5)), x = log10(lr): it falls fastest near lr = 1e-2
    # and is lowest where its derivative -2 sech^2(2 (x + 2)) + 3 exp(3 (x - 0.5)) crosses zero.
    def loss(x):
        return 2.0 - np.tanh(2.0 * (x + 2.0)) + np.exp(3.0 * (x - 0.5))

    n = 401
    result = range_test(lambda lr: float(loss(math.log10(lr))), 1e-6, 10.0, n, smooth=1.0, diverge=math.inf)
    x = np.log10(result.rates)
    derivative = -2.0 / np.cosh(2.0 * (x + 2.0)) ** 2 + 3.0 * np.exp(3.0 * (x - 0.5))
    window = slice(n // 10, None)
    step = (10.0 / 1e-6) ** (1 / (n - 1))  # one step of the sweep
    assert result.suggestions["steepest"] == pytest.approx(result.rates[window][np.argmin(derivative[window])],
                                                           rel=step - 1 + 1e-9)
    assert result.suggestions["steepest"] == pytest.approx(1e-2, rel=step - 1)
    crossing = result.rates[np.argmax(derivative > 0)]
    assert result.suggestions["minimum"] == pytest.approx(crossing / 10, rel=step - 1 + 1e-9)
    assert result.suggestion == result.suggestions["steepest"]
    values = list(result.suggestions.values())
    assert result.spread == pytest.approx(math.log10(max(values) / min(values)), rel=1e-12)


def fastai_valley(losses):
    """fastai.callback.schedule.valley, its loop as written there (lrs and the final lookup left out)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=2, max_size=60))
def test_valley_is_fastais(losses):
    assert _valley(np.array(losses)) == max(fastai_valley(losses), 0)


def test_valley_of_a_decreasing_run_is_its_middle():
    losses = np.concatenate([np.full(10, 5.0), np.linspace(5.0, 1.0, 31)[1:], np.linspace(1.0, 9.0, 10)[1:]])
    # the decreasing run covers indices 9..39 (length 31); fastai counts it from 39 - 31 = 8 and
    # goes int(31 / 3) + int(31 / 6) steps in: about half-way
    assert _valley(losses) == 8 + 10 + 5


def test_zero_lag_smoothing_does_not_shift_the_steepest_point():
    # noisy samples of a curve falling fastest at lr = 1e-3: the heavy running average trails it
    rng = np.random.default_rng(0)
    def curve(lr):
        return 2.0 - math.tanh(3.0 * (math.log10(lr) + 3.0)) + rng.normal(0.0, 0.02)
    result = range_test(curve, 1e-6, 1.0, 100, smooth=0.05, diverge=math.inf)
    assert result.suggestions["steepest"] == pytest.approx(1e-3, rel=0.1)
    lagging = result.rates[10 + np.argmin(np.gradient(result.smoothed[10:], np.log(result.rates[10:])))]
    assert lagging > 1.7e-3  # what the running average would have said


# -- the result ------------------------------------------------------------------------------


def bowl_result():
    return range_test(quadratic_bowl(0.01), 1e-5, 10.0, 120)


def test_deterministic():
    a, b = bowl_result(), bowl_result()
    assert a == b and a.suggestions == b.suggestions
    data = digits.load_data()
    c, d = (range_test(digits.sgd_stepper(data, seed=3), 1e-4, 10.0, 60) for _ in range(2))
    np.testing.assert_array_equal(c.losses, d.losses)
    assert c.suggestions == d.suggestions


@pytest.mark.parametrize("kind, rule", [("one_cycle", None), ("warmup_cosine", "valley"), ("one_cycle", "minimum")])
def test_to_schedule(kind, rule):
    result = bowl_result()
    lr = result.suggestions[rule or "steepest"]
    s = result.to_schedule(kind, total_steps=1000, rule=rule)
    if kind == "one_cycle":
        assert s == lrdecay.one_cycle(max_lr=lr, total_steps=1000)
        assert max(s(np.arange(1000))) == pytest.approx(lr, rel=1e-12)
    else:
        assert s == lrdecay.warmup_cosine_decay(init_value=0.0, peak_value=lr, warmup_steps=100, decay_steps=1000)
        assert s(100) == lr
    assert lrdecay.from_dict(s.to_dict()) == s
    custom = result.to_schedule("one_cycle", total_steps=500, pct_start=0.1)
    assert custom.pct_start == 0.1 and custom.total_steps == 500


def test_to_schedule_bad_arguments():
    result = bowl_result()
    with pytest.raises(ValueError, match="kind must be one of 'one_cycle', 'warmup_cosine'; got 'cosine'"):
        result.to_schedule("cosine", total_steps=100)
    with pytest.raises(ValueError, match="total_steps must be >= 2, got 1"):
        result.to_schedule("one_cycle", total_steps=1)
    with pytest.raises(ValueError, match="rule must be one of 'steepest', 'minimum', 'valley'; got 'best'"):
        result.to_schedule("one_cycle", total_steps=100, rule="best")
    with pytest.raises(TypeError):
        result.to_schedule("one_cycle", total_steps=100, bogus=1)


def test_json_round_trip_keeps_nan():
    losses = [3.0] * 20 + [2.0] * 20 + [math.nan]
    result = range_test(lambda lr, it=iter(losses): next(it), 1e-4, 1.0, 60)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["stopped"] == "non-finite" and data["losses"][-1] == "nan"
    back = RangeTestResult.from_dict(data)
    np.testing.assert_array_equal(back.losses, result.losses)
    assert back.suggestions == result.suggestions and back.schedule == result.schedule


def test_result_checks_its_fields():
    with pytest.raises(ValueError, match="stopped must be one of 'completed', 'diverged', 'non-finite'"):
        RangeTestResult([1.0], [1.0], [1.0], "done", sweep(1e-3, 1.0, 2), 2, 0.05)
    with pytest.raises(ValueError, match="one value per step, got lengths 2, 1 and 1"):
        RangeTestResult([1.0, 2.0], [1.0], [1.0], "completed", sweep(1e-3, 1.0, 2), 2, 0.05)


def test_plot_marks_every_suggestion(tmp_path):
    from PIL import Image

    from lrdecay.tools import plot as plotting

    result = bowl_result()
    fig, ax = plotting.new_figure()
    assert result.plot(ax=ax) is ax
    lines = {line.get_label(): line for line in ax.get_lines()}
    for name, rule in (("steepest", "steepest"), ("minimum / 10", "minimum"), ("valley", "valley")):
        (label,) = [k for k in lines if k.startswith(f"{name}: ")]
        assert lines[label].get_xdata()[0] == result.suggestions[rule]
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(lines["running average (decides the stop)"].get_ydata(), result.smoothed)
    np.testing.assert_array_equal(lines["loss (each step)"].get_ydata(), result.losses)
    rates, centred = result.rules_curve
    np.testing.assert_array_equal(lines["centred average (the rules read it)"].get_xdata(), rates)
    path = result.plot(tmp_path / "range.png")
    assert Image.open(path).size == (750, 400)
    with pytest.raises(ValueError, match="path must end with one of .png"):
        result.plot(tmp_path / "range.jpg")


def test_progress_bar_on_request_and_off_when_not_a_terminal(capsys):
    range_test(quadratic_bowl(), 1e-5, 1.0, 20, progress=True)
    assert "range test" in capsys.readouterr().err
    range_test(quadratic_bowl(), 1e-5, 1.0, 20)  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ""


# -- on a real model -------------------------------------------------------------------------

BUDGET_EPOCHS = 3


def test_suggested_rate_beats_ten_times_less_and_more_on_digits():
    """The numpy network of the demo report on scikit-learn's digits: a range test per seed, then
    a training of a fixed budget at the suggested rate, a tenth of it and ten times it (same
    initial weights and minibatches): the suggestion reaches the lowest validation loss."""
    data = digits.load_data()
    for seed in range(5):
        lr = range_test(digits.sgd_stepper(data, seed), 1e-5, 10.0, 100).suggestion
        final = {factor: digits.train("x", f"constant({lr * factor!r})", data, BUDGET_EPOCHS, seed=seed).val_loss[-1]
                 for factor in (0.1, 1.0, 10.0)}
        assert final[1.0] < final[0.1] and final[1.0] < final[10.0], (seed, lr, final)


def test_digits_stepper_is_the_training_of_the_report():
    """``sgd_stepper`` takes the same updates as ``digits.train`` (weights, minibatches, order):
    its first epoch's mean loss at a constant rate is the training's."""
    data = digits.load_data()
    step = digits.sgd_stepper(data, seed=2)
    per_epoch = math.ceil(len(data.x_train) / digits.BATCH)
    losses = [step(0.3) for _ in range(2 * per_epoch)]
    run = digits.train("c", "constant(0.3)", data, epochs=2, seed=2)
    assert run.train_loss == [float(np.mean(losses[:per_epoch])), float(np.mean(losses[per_epoch:]))]


def test_reachable_from_the_package():
    import subprocess
    import sys

    code = "import lrdecay; print(lrdecay.finder.range_test.__module__, 'finder' in lrdecay.__all__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["lrdecay.tools.finder", "True"]


@settings(max_examples=100, deadline=None)
@given(start=st.floats(1e-9, 1.0), ratio=st.floats(1.0001, 1e9), n=st.integers(2, 300),
       mode=st.sampled_from(["exp", "linear"]), smooth=st.floats(0.01, 1.0), seed=st.integers(0, 2**32 - 1))
def test_any_valid_sweep_runs_rises_and_ends_at_end_lr(start, ratio, n, mode, smooth, seed):
    end = start * ratio
    rng = np.random.default_rng(seed)
    result = range_test(lambda lr: 1.0 + rng.random(), start, end, n, mode=mode, smooth=smooth, diverge=math.inf)
    assert result.stopped == "completed" and result.steps_run == n
    assert result.rates[0] == start and result.rates[-1] == end
    assert (np.diff(result.rates) > 0).all()
    assert np.isfinite(result.smoothed).all() and (result.smoothed >= 1.0 - 1e-12).all() and (result.smoothed <= 2.0 + 1e-12).all()
    for value in result.suggestions.values():
        assert value is None or start / 10 <= value <= end


def test_repr_is_a_short_summary_without_the_arrays():
    result = range_test(lambda lr: (lr - 0.1) ** 2 + 1.0, 1e-4, 10.0, 2000, smooth=1.0, diverge=math.inf)
    text = repr(result)
    assert "\n" not in text and len(text) < 160, text
    assert text.startswith("<RangeTestResult: 2000 of 2000 steps, rates 0.0001..10, completed, suggestion ")
    assert "array" not in text and "[" not in text
    assert f"{result.suggestion:.4g}" in text
