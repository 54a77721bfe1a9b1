"""inverse_sqrt and warmup_stable_decay against the real transformers schedules; megatron_lr
against a line-by-line transcription of Megatron-LM's ``OptimizerParamScheduler.get_lr``
(NVIDIA/Megatron-LM megatron/core/optimizer_param_scheduler.py; Megatron is not installable here).

Tolerances: Hugging Face's ``LambdaLR`` multiplies the base lr by the same float64 factor we
compute (rel 1e-15); Megatron within rel 1e-12 of its peak.
"""

import math

import numpy as np
import pytest
from examples.transformer import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st
from leaf_checks import assert_rel, check_example, torch_trace
from transformers.optimization import get_inverse_sqrt_schedule, get_wsd_schedule

from lrdecay import inverse_sqrt, megatron_lr, warmup_stable_decay


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


FAR = np.array([10**4, 10**6 + 3, 2**31, 2**40])


def _against_lambda_lr(ours, make, lr, steps):
    """Compare with the real scheduler's ``step()`` trace, then with its lambda far out."""
    captured = {}

    def build(optimizer):
        captured["scheduler"] = make(optimizer)
        return captured["scheduler"]

    trace = torch_trace(build, lr, steps)
    assert_rel(ours(np.arange(steps + 1)), trace["lr"], 1e-15, repr(ours))
    factor = captured["scheduler"].lr_lambdas[0]
    assert_rel(ours(FAR), [lr * factor(int(t)) for t in FAR], 1e-15, f"{ours!r} far out")


@pytest.mark.parametrize(
    "lr, warmup, timescale", [(0.1, 10, None), (0.1, 0, None), (0.1, 100, 10), (0.1, 5, 1000), (1.0, 1, None), (3e-4, 4000, None)]
)
def test_inverse_sqrt_matches_transformers(lr, warmup, timescale):
    make = lambda o: get_inverse_sqrt_schedule(o, warmup, timescale)  # noqa: E731
    _against_lambda_lr(inverse_sqrt(lr, warmup, timescale), make, lr, max(3 * warmup, 300))


WSD = [
    (10, 50, 40, "linear", "linear", 0.0),
    (10, 50, 40, "cosine", "cosine", 0.1),
    (0, 30, 10, "1-sqrt", "1-sqrt", 0.0),
    (5, 0, 20, "linear", "cosine", 0.05),
    (3, 3, 9, "cosine", "1-sqrt", 0.5),
    (1, 1, 1, "linear", "linear", 0.2),
    (7, 13, 0, "1-sqrt", "linear", 0.3),
]


@pytest.mark.parametrize("warmup, stable, decay, warmup_shape, decay_shape, ratio", WSD)
def test_warmup_stable_decay_matches_transformers(warmup, stable, decay, warmup_shape, decay_shape, ratio):
    ours = warmup_stable_decay(0.1, warmup, stable, decay, ratio, decay_shape, warmup_shape)
    make = lambda o: get_wsd_schedule(  # noqa: E731
        o, warmup, decay, num_stable_steps=stable, warmup_type=warmup_shape, decay_type=decay_shape, min_lr_ratio=ratio
    )
    _against_lambda_lr(ours, make, 0.1, warmup + stable + decay + 20)


def test_wsd_from_total_matches_transformers_num_training_steps():
    ours = warmup_stable_decay.from_total(0.1, 1000, 100, 200, decay_shape="1-sqrt")
    assert ours == warmup_stable_decay(0.1, 100, 700, 200, decay_shape="1-sqrt")
    make = lambda o: get_wsd_schedule(o, 100, 200, num_training_steps=1000, decay_type="1-sqrt")  # noqa: E731
    _against_lambda_lr(ours, make, 0.1, 1020)


def test_wsd_from_fractions():
    s = warmup_stable_decay.from_fractions(3e-4, 1000, warmup=0.01, decay=0.2)
    assert (s.warmup_steps, s.stable_steps, s.decay_steps) == (10, 790, 200)
    assert s.duration == 1000 and s(1000) == s(2**40) == 0.0
    s = warmup_stable_decay.from_fractions(1.0, 7, warmup=0.3, decay=0.3, stable=0.4, decay_shape="cosine")
    assert (s.warmup_steps, s.stable_steps, s.decay_steps, s.decay_shape) == (2, 3, 2, "cosine")


@given(st.integers(1, 10**6), st.floats(0, 1), st.floats(0, 1))
def test_wsd_fraction_phases_always_add_up_to_the_total(total, warmup, decay):
    if warmup + decay > 1:
        with pytest.raises(ValueError, match="warmup \\+ decay must be <= 1"):
            warmup_stable_decay.from_fractions(1.0, total, warmup, decay)
        return
    s = warmup_stable_decay.from_fractions(1.0, total, warmup, decay)
    assert s.warmup_steps + s.stable_steps + s.decay_steps == total
    assert min(s.warmup_steps, s.stable_steps, s.decay_steps) >= 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: warmup_stable_decay.from_fractions(1.0, 100, 0.1, 0.2, stable=0.5), "warmup + stable + decay must be 1"),
        (lambda: warmup_stable_decay.from_fractions(1.0, 100, 0.6, 0.6), "warmup + decay must be <= 1"),
        (lambda: warmup_stable_decay.from_fractions(1.0, 100, 1.5, 0.0), "warmup must be <= 1"),
        (lambda: warmup_stable_decay.from_fractions(1.0, 0, 0.1, 0.1), "total_steps must be >= 1"),
        (lambda: warmup_stable_decay.from_total(1.0, 100, 60, 50), "warmup_steps + decay_steps must be <= total_steps"),
        (lambda: warmup_stable_decay.from_total(1.0, 100, 10, 20, stable_steps=60), "must equal total_steps"),
    ],
)
def test_wsd_phases_that_dont_add_up(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_wsd_exponential_cooldown_is_megatrons():
    s = warmup_stable_decay(1.0, 0, 0, 10, decay_shape="exponential")
    assert s(0) == 1.0 and s(10) == 0.0
    assert s(5) == pytest.approx(2**0.5 - 1, rel=2e-16)  # 2 * 0.5 ** 0.5 - 1, without its cancellation


def _megatron_get_lr(num_steps, init_lr, max_lr, min_lr, lr_warmup_steps, lr_decay_steps, lr_decay_style,
                     wsd_decay_steps=None, lr_wsd_decay_style=None):
    """OptimizerParamScheduler.get_lr, transcribed (asserts kept)."""
    if lr_warmup_steps > 0 and num_steps <= lr_warmup_steps:
        return init_lr + ((max_lr - init_lr) * float(num_steps) / float(lr_warmup_steps))
    if lr_decay_style == "constant":
        return max_lr
    if num_steps > lr_decay_steps:
        return min_lr
    if lr_decay_style == "inverse-square-root":
        warmup_steps = max(lr_warmup_steps, 1)
        num_steps = max(num_steps, 1)
        lr = max_lr * warmup_steps**0.5 / (num_steps**0.5)
        return max(min_lr, lr)
    num_steps_ = num_steps - lr_warmup_steps
    decay_steps_ = lr_decay_steps - lr_warmup_steps
    decay_ratio = float(num_steps_) / float(decay_steps_)
    assert 0.0 <= decay_ratio <= 1.0
    delta_lr = max_lr - min_lr
    coeff = None
    if lr_decay_style == "linear":
        coeff = 1.0 - decay_ratio
    elif lr_decay_style == "cosine":
        coeff = 0.5 * (math.cos(math.pi * decay_ratio) + 1.0)
    elif lr_decay_style == "WSD":
        wsd_anneal_start_ = lr_decay_steps - wsd_decay_steps
        if num_steps <= wsd_anneal_start_:
            coeff = 1.0
        else:
            wsd_steps = num_steps - wsd_anneal_start_
            wsd_decay_ratio = float(wsd_steps) / float(wsd_decay_steps)
            if lr_wsd_decay_style == "linear":
                coeff = 1.0 - wsd_decay_ratio
            elif lr_wsd_decay_style == "cosine":
                coeff = 0.5 * (math.cos(math.pi * wsd_decay_ratio) + 1.0)
            elif lr_wsd_decay_style == "exponential":
                coeff = (2.0 * math.pow(0.5, wsd_decay_ratio)) - 1.0
            elif lr_wsd_decay_style == "minus_sqrt":
                coeff = 1.0 - math.sqrt(wsd_decay_ratio)
    assert coeff is not None
    return min_lr + coeff * delta_lr


MEGATRON = [
    dict(decay_steps=100),
    dict(decay_steps=100, min_lr=0.01, warmup_steps=10, init_lr=0.001, decay_style="cosine"),
    dict(decay_steps=100, min_lr=0.01, warmup_steps=10, decay_style="inverse-square-root"),
    dict(decay_steps=100, min_lr=0.0, warmup_steps=0, decay_style="inverse-square-root"),
    dict(decay_steps=100, min_lr=0.01, warmup_steps=10, decay_style="constant"),
    dict(decay_steps=64, min_lr=0.001, warmup_steps=8, decay_style="linear"),
    *[dict(decay_steps=100, min_lr=0.01, warmup_steps=10, decay_style="WSD", wsd_decay_steps=w, wsd_decay_style=style)
      for style in ("linear", "cosine", "exponential", "minus_sqrt") for w in (30, 90, 100)],
]


@pytest.mark.parametrize("params", MEGATRON, ids=str)
def test_megatron_lr_matches_megatron_get_lr(params):
    ours = megatron_lr(0.1, **params)
    ref_args = dict(
        init_lr=params.get("init_lr", 0.0), max_lr=0.1, min_lr=params.get("min_lr", 0.0),
        lr_warmup_steps=params.get("warmup_steps", 0), lr_decay_steps=params["decay_steps"],
        lr_decay_style=params.get("decay_style", "linear"), wsd_decay_steps=params.get("wsd_decay_steps"),
        lr_wsd_decay_style=params.get("wsd_decay_style", "exponential"),
    )
    steps = np.arange(params["decay_steps"] + 30)
    ref = [_megatron_get_lr(int(t), **ref_args) for t in steps]
    assert_rel(ours(steps), ref, 1e-12, repr(ours))
    assert ours(2**40) == (0.1 if params.get("decay_style") == "constant" else params.get("min_lr", 0.0))


BAD = [
    (inverse_sqrt, (0.1, -1), {}, ValueError, "warmup_steps must be >= 0"),
    (inverse_sqrt, (0.1, 10), {"timescale": 0}, ValueError, "timescale must be > 0"),
    (warmup_stable_decay, (0.1, 1, 1, 1), {"min_lr_ratio": 1.5}, ValueError, "min_lr_ratio must be <= 1"),
    (warmup_stable_decay, (0.1, 1, 1, 1), {"decay_shape": "sqrt"}, ValueError, "decay_shape must be one of"),
    (warmup_stable_decay, (0.1, 1, 1, 1), {"warmup_shape": "exponential"}, ValueError, "warmup_shape must be one of"),
    (warmup_stable_decay, (0.1, 1, -1, 1), {}, ValueError, "stable_steps must be >= 0"),
    (megatron_lr, (0.1, 0), {}, ValueError, "decay_steps must be > 0"),
    (megatron_lr, (0.1, 100), {"min_lr": 0.2}, ValueError, "max_lr must be >= min_lr"),
    (megatron_lr, (0.1, 100), {"init_lr": 0.2}, ValueError, "init_lr must be <= max_lr"),
    (megatron_lr, (0.1, 100), {"warmup_steps": 100}, ValueError, "warmup_steps must be < decay_steps"),
    (megatron_lr, (0.1, 100), {"decay_style": "WSD"}, ValueError, "needs wsd_decay_steps"),
    (megatron_lr, (0.1, 100), {"decay_style": "WSD", "wsd_decay_steps": 101}, ValueError, "wsd_decay_steps must be <= 100"),
    (megatron_lr, (0.1, 100), {"wsd_decay_steps": 10}, ValueError, 'only used with decay_style="WSD"'),
    (megatron_lr, (0.1, 100), {"decay_style": "poly"}, ValueError, "decay_style must be one of"),
    (megatron_lr, (0.1, 100), {"wsd_decay_style": "1-sqrt"}, ValueError, "wsd_decay_style must be one of"),
]


@pytest.mark.parametrize("factory, args, kwargs, error, message", BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input(factory, args, kwargs, error, message):
    with pytest.raises(error) as info:
        factory(*args, **kwargs)
    assert message in str(info.value)
