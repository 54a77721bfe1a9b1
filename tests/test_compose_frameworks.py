"""Composition nodes in every backend, and against the real optax, torch and keras."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from examples.compose import EXAMPLES  # noqa: E402

from lrdecay import constant, cosine_annealing, cycle, join, linear, sgdr, warmup  # noqa: E402

STEPS = np.array([0, 1, 2, 5, 9, 10, 11, 19, 20, 21, 49, 50, 51, 99, 100, 101, 399, 400, 401, 5000], dtype=np.float64)
F32 = dict(rtol=1e-5, atol=1e-8)  # float32: cos of arguments up to ~300 rad loses ~1e-6


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_backends_agree(schedule):
    expected = schedule(STEPS)
    jitted = jax.jit(schedule)(jnp.asarray(STEPS, dtype=jnp.float32))
    np.testing.assert_allclose(np.asarray(jitted), expected, **F32)
    vmapped = jax.vmap(schedule)(jnp.asarray(STEPS, dtype=jnp.float32))
    np.testing.assert_allclose(np.asarray(vmapped), expected, **F32)
    graph = tf.function(schedule)(tf.constant(STEPS, dtype=tf.float32))
    np.testing.assert_allclose(graph.numpy(), expected, **F32)
    tensor = schedule(torch.tensor(STEPS, dtype=torch.float64))
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-15, atol=0)


def test_join_matches_optax_join_schedules():
    ours = join([linear(0.0, 0.1, 10), constant(0.1), cosine_annealing(0.1, 90, eta_min=0.001)], [10, 25])
    theirs = optax.join_schedules(
        [
            optax.linear_schedule(0.0, 0.1, 10),
            optax.constant_schedule(0.1),
            lambda n: 0.001 + (0.1 - 0.001) * (1 + jnp.cos(jnp.pi * n / 90)) / 2,
        ],
        [10, 25],
    )
    steps = jnp.arange(0, 140, dtype=jnp.int32)
    np.testing.assert_allclose(np.asarray(ours(steps)), np.asarray(theirs(steps)), **F32)
    np.testing.assert_allclose([ours(n) for n in range(140)], np.asarray(theirs(steps)), **F32)


def test_warmup_matches_optax_linear_warmup():
    # optax.warmup_constant_schedule-style: linear init -> peak over warmup_steps, then the schedule
    ours = warmup(constant(0.3), 17, start=0.01)
    theirs = optax.join_schedules([optax.linear_schedule(0.01, 0.3, 17), optax.constant_schedule(0.3)], [17])
    steps = jnp.arange(0, 40, dtype=jnp.int32)
    np.testing.assert_allclose(np.asarray(ours(steps)), np.asarray(theirs(steps)), **F32)


@pytest.mark.parametrize("t_0, t_mult, eta_min", [(10, 1, 0.0), (7, 2, 0.001), (3, 3, 0.01)])
def test_cycle_matches_torch_cosine_annealing_warm_restarts(t_0, t_mult, eta_min):
    lr = 0.1
    ours = cycle(cosine_annealing(lr, t_0, eta_min=eta_min), t_0, period_mul=t_mult)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, t_0, T_mult=t_mult, eta_min=eta_min)
    got, expected = [], []
    for step in range(300):
        expected.append(optimizer.param_groups[0]["lr"])
        got.append(ours(step))
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 1.0, 0.0), (2.0, 0.5, 0.1), (1.0, 0.8, 0.05), (3.0, 0.9, 0.0)])
def test_cycle_matches_keras_cosine_decay_restarts(t_mul, m_mul, alpha):
    lr, first = 0.1, 20
    ours = cycle(cosine_annealing(lr, first, eta_min=alpha * lr), first, period_mul=t_mul, peak_mul=m_mul)
    theirs = keras.optimizers.schedules.CosineDecayRestarts(lr, first, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    steps = np.arange(0, 600, dtype=np.float64)
    expected = np.array([float(theirs(int(n))) for n in steps[::7]])
    np.testing.assert_allclose(ours(steps[::7]), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "cosine_kwargs",
    [
        [dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100)] * 3,
        [
            dict(init_value=0.01, peak_value=0.1, warmup_steps=5, decay_steps=40, end_value=0.001),
            dict(init_value=0.0, peak_value=0.05, warmup_steps=0, decay_steps=80, exponent=2.0),
            dict(init_value=0.001, peak_value=0.02, warmup_steps=20, decay_steps=160, end_value=0.002),
        ],
    ],
)
def test_sgdr_matches_optax(cosine_kwargs):
    ours = sgdr(cosine_kwargs)
    theirs = optax.sgdr_schedule(cosine_kwargs)
    steps = jnp.arange(0, sum(k["decay_steps"] for k in cosine_kwargs) + 50, dtype=jnp.int32)
    expected = np.asarray(theirs(steps))
    np.testing.assert_allclose(np.asarray(ours(steps)), expected, **F32)
    np.testing.assert_allclose(ours(np.asarray(steps, dtype=np.float64)), expected, **F32)
    assert ours.duration == sum(k["decay_steps"] for k in cosine_kwargs)


@pytest.mark.parametrize("period, period_mul", [(1, 2), (1, 3), (2, 3), (5, 2), (100, 10), (7, 4), (1, 10)])
def test_cycle_restarts_are_exact_in_float32(period, period_mul):
    # float32 steps are whole numbers up to 2**24; vectorised pow kernels may be an ulp off
    c = cycle(linear(1.0, 0.0, period), period, period_mul=period_mul, peak_mul=0.5)
    starts, start, length = [], 0, period
    while period_mul * start < 2**22:
        starts.append(start)
        start, length = start + length, length * period_mul
    steps = np.array(starts, dtype=np.float32)
    expected = (0.5 ** np.arange(len(starts))).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(jax.jit(c)(jnp.asarray(steps))), expected)
    np.testing.assert_array_equal(c(torch.tensor(steps)).numpy(), expected)
    np.testing.assert_array_equal(c(tf.constant(steps)).numpy(), expected)
