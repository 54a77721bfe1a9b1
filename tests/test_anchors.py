"""The remaining anchors' schedules against the real packages: timm's PolyLRScheduler and seeded
noise (real timm), torch's SWALR, Keras' CosineDecay with warm-up, Hugging Face's WSD with
``num_cycles``; Megatron's weight-decay increment against a line-by-line transcription of
``OptimizerParamScheduler.get_wd`` (NVIDIA/Megatron-LM megatron/core/optimizer_param_scheduler.py;
Megatron is not installable here)."""

import math
import warnings

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from examples.anchors import EXAMPLES
from leaf_checks import assert_rel, check_example, torch_trace
from transformers.optimization import get_wsd_schedule

import lrdecay
from lrdecay import cosine_decay_warmup, megatron_wd, swalr, timm_cosine, timm_noise, timm_poly, warmup_stable_decay
from tests._timm import timm_scheduler

FAR = [10**4, 10**6 + 3, 2**31 - 1, 2**32 - 43, 2**32 + 5, 2**40]


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


def _optimizer(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _timm_values(make, steps, lr=0.1, **attributes):
    """The real timm scheduler's ``step_update(t)`` (t_in_epochs=False) at each step."""
    optimizer = _optimizer(lr)
    scheduler = make(optimizer)
    for name, value in attributes.items():
        setattr(scheduler, name, value)
    out = []
    for t in steps:
        scheduler.step_update(int(t))
        out.append(optimizer.param_groups[0]["lr"])
    return np.array(out)


STEPS = np.concatenate([np.arange(400), FAR]).astype(np.int64)

# -- timm PolyLRScheduler -----------------------------------------------------------------------

POLY = [
    dict(t_initial=100),
    dict(t_initial=100, power=2.0, lr_min=0.001, k_decay=1.5),
    dict(t_initial=30, power=1.0, cycle_limit=4, cycle_decay=0.5, warmup_t=7, warmup_lr_init=0.001),
    dict(t_initial=30, power=0.7, cycle_limit=3, warmup_t=5, warmup_prefix=True, k_decay=0.5),
    dict(t_initial=20, cycle_mul=2.0, cycle_limit=4, lr_min=0.002, cycle_decay=0.8),
]


@pytest.mark.parametrize("params", POLY, ids=str)
def test_timm_poly_matches_timm(params):
    ts = timm_scheduler()
    ref = _timm_values(lambda o: ts.PolyLRScheduler(o, t_in_epochs=False, **params), STEPS)
    ours = timm_poly(0.1, **params)(STEPS.astype(np.float64))
    assert_rel(ours, ref, 1e-14, repr(params))
    assert ref[-1] == pytest.approx(params.get("lr_min", 0.0))  # far out: lr_min after the cycles


# -- timm noise ---------------------------------------------------------------------------------

NOISE = [
    dict(noise_range_t=(10, 300)),
    dict(noise_range_t=0, noise_pct=0.2, noise_std=1.5, noise_seed=7),
    dict(noise_range_t=50, noise_pct=0.05, noise_seed=12345),  # many rejected draws per step
    dict(noise_range_t=[3, 2**41], noise_pct=1.0, noise_std=0.5, noise_seed=2**32 - 10),
]


@pytest.mark.parametrize("params", NOISE, ids=str)
@pytest.mark.parametrize("noise_type", ["normal", "uniform"])
def test_timm_noise_matches_timm(params, noise_type):
    ts = timm_scheduler()
    make = lambda o: ts.CosineLRScheduler(o, t_initial=200, lr_min=0.001, t_in_epochs=False,  # noqa: E731
                                          cycle_limit=10**9, **params)
    ref = _timm_values(make, STEPS, noise_type=noise_type)  # CosineLRScheduler has no noise_type argument
    base = timm_cosine(0.1, 200, lr_min=0.001, cycle_limit=10**9)
    s = timm_noise(base, noise_type=noise_type, **params)
    values = s(STEPS.astype(np.float64))
    np.testing.assert_array_equal(values, [s(int(t)) for t in STEPS])
    assert_rel(values, ref, 1e-15, repr(s))
    clean = base(STEPS.astype(np.float64))
    assert np.count_nonzero(values != clean) > 250, "the noise must change most values"
    scheduler = make(_optimizer())
    scheduler.noise_type = noise_type
    assert [s.noise(t) for t in FAR] == [scheduler._calculate_noise(t) for t in FAR]


@pytest.mark.parametrize("params", [p for p in NOISE if p.get("noise_pct", 0.67) >= 0.2], ids=str)
def test_timm_noise_on_tensors(params):
    """JAX (jit), TensorFlow (tf.function) and torch draw the same numbers: float32 steps to
    float32 round-off, float64 torch steps to float64 round-off."""
    s = timm_noise(timm_poly(0.1, 500, lr_min=0.001), **params)
    steps = np.arange(0, 1000, 3)
    expected = s(steps.astype(np.float64))
    assert_rel(s(torch.from_numpy(steps.astype(np.float64))).numpy(), expected, 1e-14, "torch float64")
    assert_rel(s(torch.from_numpy(steps)).numpy(), expected, 2e-6, "torch float32")
    assert_rel(jax.jit(s)(jnp.asarray(steps, dtype=jnp.int32)), expected, 2e-6, "jax")
    graph = tf.function(lambda t: s(t))(tf.constant(steps, tf.int64)).numpy()
    assert_rel(graph, expected, 2e-6, "tf.function")


def test_timm_noise_on_tensors_with_a_narrow_band():
    """noise_pct / noise_std = 0.05: timm may draw more than the 112 candidates tensors draw;
    those rare steps get no noise, every other step timm's value."""
    s = timm_noise(timm_poly(0.1, 500, lr_min=0.001), noise_range_t=0, noise_pct=0.05, noise_seed=12345)
    steps = np.arange(0, 3000)
    exact, clean = s(steps.astype(np.float64)), s.schedule(steps.astype(np.float64))
    tensor = s(torch.from_numpy(steps.astype(np.float64))).numpy()
    same = np.isclose(tensor, exact, rtol=1e-14, atol=0)
    assert np.all(same | (tensor == clean))
    assert 0 < np.count_nonzero(~same) < 0.03 * steps.size  # about 1%: 0.96 ** 112


def test_timm_noise_of_an_epoch_schedule_and_duration():
    inner = timm_cosine(0.1, 50)
    assert timm_noise(inner, noise_range_t=[5, 80]).duration == 80
    assert timm_noise(inner, noise_range_t=[5, 20]).duration == 50
    assert timm_noise(inner, noise_range_t=5).duration is None
    s = timm_noise(inner, noise_range_t=[5, 20])
    assert s(4) == inner(4) and s(20) == inner(20) and s(5) != inner(5)
    assert s(7.9) == inner(7.9) * (1 + s.noise(7))  # the noise of floor(t), as timm's int t


def test_timm_noise_bad_arguments():
    inner = timm_cosine(0.1, 50)
    with pytest.raises(TypeError, match="schedule must be a schedule"):
        timm_noise(0.1, noise_range_t=3)
    with pytest.raises(ValueError, match=r"noise_range_t must have end >= start"):
        timm_noise(inner, noise_range_t=[10, 5])
    with pytest.raises(ValueError, match=r"noise_range_t must be a step or a \[start, end\] pair"):
        timm_noise(inner, noise_range_t=[1, 2, 3])
    with pytest.raises(ValueError, match="noise_range_t must be >= 0"):
        timm_noise(inner, noise_range_t=-1)
    with pytest.raises(ValueError, match="noise_type must be one of"):
        timm_noise(inner, noise_range_t=1, noise_type="gauss")
    with pytest.raises(ValueError, match="noise_pct must be > 0 for normal noise, got 0"):
        timm_noise(inner, noise_range_t=1, noise_pct=0)
    with pytest.raises(ValueError, match="noise_std must be >= 0"):
        timm_noise(inner, noise_range_t=1, noise_std=-1.0)
    with pytest.raises(ValueError, match="noise_seed must be a whole number"):
        timm_noise(inner, noise_range_t=1, noise_seed=1.5)
    with pytest.raises(ValueError, match="step must be >= 0"):
        timm_noise(inner, noise_range_t=1).noise(-1)


# -- torch SWALR --------------------------------------------------------------------------------


@pytest.mark.parametrize("anneal_epochs", [0, 1, 5, 10])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_matches_torch(anneal_epochs, strategy):
    from torch.optim.swa_utils import SWALR

    make = lambda o: SWALR(o, swa_lr=0.01, anneal_epochs=anneal_epochs, anneal_strategy=strategy)  # noqa: E731
    trace = torch_trace(make, lr=0.1, steps=40)
    ours = swalr(0.1, 0.01, anneal_epochs, strategy)
    # torch's first value (construction) is the untouched rate; its recursion drifts by round-off
    assert_rel(ours(np.arange(1, 41)), trace["lr"][1:], 1e-14, repr(ours))
    if anneal_epochs:
        assert ours(0) == trace["lr"][0] == 0.1
    assert ours(10**9) == 0.01


def test_swalr_far_out_matches_torch():
    from torch.optim.swa_utils import SWALR

    trace = torch_trace(lambda o: SWALR(o, swa_lr=0.013, anneal_epochs=37), lr=0.1, steps=3000)
    ours = swalr(0.1, 0.013, 37)
    steps = np.array([36, 37, 38, 100, 2999, 3000])
    assert_rel(ours(steps.astype(np.float64)), trace["lr"][steps], 1e-14, repr(ours))


def test_swalr_after_anneals_from_the_current_rate():
    """torch's recipe: a main scheduler until swa_start, then SWALR.step() (which anneals from the
    rate the group has then)."""
    from torch.optim.lr_scheduler import CosineAnnealingLR
    from torch.optim.swa_utils import SWALR

    optimizer = _optimizer(0.1)
    main = CosineAnnealingLR(optimizer, T_max=100)
    swa = SWALR(optimizer, swa_lr=0.01, anneal_epochs=5)
    swa_start, ref = 30, [optimizer.param_groups[0]["lr"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in range(1, 60):
            optimizer.step()
            (main if t <= swa_start else swa).step()
            ref.append(optimizer.param_groups[0]["lr"])
    ours = swalr.after(lrdecay.cosine_annealing(0.1, 100), swa_start, 0.01, anneal_epochs=5)
    assert_rel(ours(np.arange(60)), ref, 1e-13, repr(ours))
    assert lrdecay.parse(repr(ours)) == ours


def test_swalr_bad_arguments():
    with pytest.raises(ValueError, match="anneal_epochs must be >= 0, got -1"):
        swalr(0.1, 0.01, -1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos', 'linear'"):
        swalr(0.1, 0.01, 3, "cosine")
    with pytest.raises(TypeError, match="start must be a real number"):
        swalr("0.1", 0.01)
    with pytest.raises(TypeError, match="schedule must be a schedule"):
        swalr.after(0.1, 10, 0.01)
    with pytest.raises(ValueError, match="swa_start must be >= 0"):
        swalr.after(timm_cosine(0.1, 10), -1, 0.01)


# -- Keras CosineDecay with warm-up -------------------------------------------------------------


@pytest.mark.parametrize(
    "lr, decay_steps, alpha, target, warmup",
    [(0.0, 100, 0.0, 0.1, 10), (0.01, 50, 0.1, 0.2, 0), (0.001, 1000, 0.05, 0.01, 250), (0.2, 30, 0.0, 0.1, 7)],
)
def test_cosine_decay_warmup_matches_keras(lr, decay_steps, alpha, target, warmup):
    reference = keras.optimizers.schedules.CosineDecay(lr, decay_steps, alpha=alpha, warmup_target=target,
                                                       warmup_steps=warmup)
    steps = np.concatenate([np.arange(0, decay_steps + warmup + 20), [10**6, 2**31 - 1]])
    ref = np.array([float(reference(int(t))) for t in steps])  # keras computes in float32
    ours = cosine_decay_warmup(lr, decay_steps, target, warmup, alpha=alpha)
    assert_rel(ours(steps.astype(np.float64)), ref, 1e-6, repr(ours))
    float32 = ours(tf.constant(steps, tf.int64)).numpy()
    assert_rel(float32, ref, 4e-7, f"float32 {ours!r}")


def test_cosine_decay_warmup_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps must be > 0, got 0"):
        cosine_decay_warmup(0.0, 0, 0.1, 10)
    with pytest.raises(ValueError, match="warmup_steps must be >= 0, got -1"):
        cosine_decay_warmup(0.0, 10, 0.1, -1)
    with pytest.raises(TypeError, match="warmup_target must be a real number"):
        cosine_decay_warmup(0.0, 10, None, 1)


# -- Megatron weight decay ----------------------------------------------------------------------


def _megatron_get_wd(num_steps, start_wd, end_wd, wd_incr_steps, wd_incr_style):
    """``OptimizerParamScheduler.get_wd``, transcribed line by line."""
    if num_steps > wd_incr_steps:
        return end_wd
    if wd_incr_style == "constant":
        assert start_wd == end_wd
        return end_wd
    incr_ratio = float(num_steps) / float(wd_incr_steps)
    assert incr_ratio >= 0.0
    assert incr_ratio <= 1.0
    delta_wd = end_wd - start_wd
    if wd_incr_style == "linear":
        coeff = incr_ratio
    elif wd_incr_style == "cosine":
        coeff = 0.5 * (math.cos(math.pi * (1 - incr_ratio)) + 1.0)
    else:
        raise Exception(f"{wd_incr_style} weight decay increment style is not supported.")
    return start_wd + coeff * delta_wd


@pytest.mark.parametrize(
    "start, end, steps, style",
    [(0.01, 0.1, 1000, "linear"), (0.0, 0.1, 500, "cosine"), (0.05, 0.05, 500, "constant"), (0.0, 0.3, 7, "cosine")],
)
def test_megatron_wd_matches_get_wd(start, end, steps, style):
    ts = np.concatenate([np.arange(2 * steps + 3), [steps - 1, steps, steps + 1, 10**9, 2**40]])
    ours = megatron_wd(start, end, steps, style)
    ref = [_megatron_get_wd(int(t), start, end, steps, style) for t in ts]
    # Megatron's 0.5 * (cos(pi * (1 - r)) + 1) cancels near r = 0 (rel 1e-12 there); lrdecay's
    # cosine does not (tests/test_cycle_ends.py checks it against mpmath at rel 1e-13)
    rel = 1e-15 if style != "cosine" else 1e-11
    assert_rel([ours(int(t)) for t in ts], ref, rel, repr(ours))
    assert_rel(ours(ts.astype(np.float64)), ref, rel, repr(ours))


def test_megatron_wd_bad_arguments():
    with pytest.raises(ValueError, match="start_wd must be >= 0"):
        megatron_wd(-0.1, 0.1, 10)
    with pytest.raises(ValueError, match="end_wd must be >= start_wd"):
        megatron_wd(0.1, 0.01, 10)
    with pytest.raises(ValueError, match="wd_incr_steps must be > 0, got 0"):
        megatron_wd(0.0, 0.1, 0)
    with pytest.raises(ValueError, match='wd_incr_style="constant" needs start_wd == end_wd'):
        megatron_wd(0.0, 0.1, 10, "constant")
    with pytest.raises(ValueError, match="wd_incr_style must be one of"):
        megatron_wd(0.0, 0.1, 10, "exponential")


# -- Hugging Face WSD num_cycles ----------------------------------------------------------------


@pytest.mark.parametrize("num_cycles", [0.25, 0.5, 1.0, 1.5, 3.0])
def test_wsd_num_cycles_matches_transformers(num_cycles):
    optimizer = _optimizer(0.1)
    scheduler = get_wsd_schedule(optimizer, 10, 40, num_stable_steps=20, decay_type="cosine",
                                 min_lr_ratio=0.1, num_cycles=num_cycles)
    factor = scheduler.lr_lambdas[0]
    ts = np.concatenate([np.arange(100), FAR])
    ours = warmup_stable_decay(0.1, 10, 20, 40, min_lr_ratio=0.1, decay_shape="cosine", num_cycles=num_cycles)
    assert_rel(ours(ts.astype(np.float64)), [0.1 * factor(int(t)) for t in ts], 1e-15, repr(ours))


def test_wsd_num_cycles_needs_a_cosine_decay():
    with pytest.raises(ValueError, match='num_cycles only applies to decay_shape="cosine"'):
        warmup_stable_decay(0.1, 10, 20, 40, num_cycles=1.0)
