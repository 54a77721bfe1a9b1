"""Properties every schedule kind must have, run over tests/examples (all_examples()).

- every registered kind has an example;
- scalar == NumPy (float64) and NumPy == JAX (jit) == TensorFlow == torch (float32) to float32
  round-off: |a - b| <= 1e-5 * |b| + 1e-5 * scale + 16 * 2**-23 * t * slope(t), with ``scale`` the
  schedule's largest magnitude on a probe grid (float32 round-off is absolute where a formula
  cancels, e.g. 1 + cos at a trough) and ``slope`` its change per step around ``t`` (float32
  computes ``t / period`` with a relative error, so periodic and fast-moving schedules carry an
  error that grows with ``t``); float32 steps are integers below 2**24, exact in float32;
- to_dict/from_dict (through JSON) and parse(repr) round trips, equality and hashing by value;
- no NaN or inf for steps in [0, 2**40].
"""

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
import torch
from examples import all_examples
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay

EXAMPLES = all_examples()
IDS = [repr(s)[:80] for s in EXAMPLES]
F32_STEPS = st.lists(st.integers(0, 2**24 - 1), min_size=16, max_size=16).map(np.array)
PROBE = np.unique(np.concatenate([np.arange(0, 200), np.geomspace(1, 2**24 - 1, 400).astype(np.int64)]))


def test_every_registered_kind_has_an_example():
    covered = {s.kind for s in EXAMPLES}
    missing = sorted(set(lrdecay.registry()) - covered)
    assert not missing, f"kinds without an example in tests/examples: {missing}"


@functools.cache
def _scale(schedule):
    return float(np.max(np.abs(schedule(PROBE.astype(np.float64)))))


@functools.cache
def _jitted(schedule):
    return jax.jit(schedule)


def _assert_close(actual, expected, schedule, rtol, atol_factor, what):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_factor * _scale(schedule), err_msg=f"{what}: {schedule!r}")


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
@settings(max_examples=20)
@given(steps=st.lists(st.one_of(st.integers(0, 2**40), st.floats(0, 2**40)), min_size=1, max_size=8))
def test_scalar_equals_numpy_and_is_finite(schedule, steps):
    vector = schedule(np.array(steps, dtype=np.float64))
    scalars = np.array([schedule(s) for s in steps])
    assert np.isfinite(vector).all() and np.isfinite(scalars).all(), (schedule, steps)
    _assert_close(scalars, vector, schedule, 1e-9, 1e-12, "Python float vs NumPy")


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
@settings(max_examples=8)
@given(steps=F32_STEPS)
def test_float32_backends_agree_with_numpy(schedule, steps):
    expected = schedule(steps.astype(np.float64))
    jitted = _jitted(schedule)(jnp.asarray(steps, dtype=jnp.int32))
    assert jitted.dtype == jnp.float32
    tensorflow = schedule(tf.constant(steps, tf.int64))
    assert tensorflow.dtype == tf.float32
    torch_values = schedule(torch.from_numpy(steps))
    assert torch_values.dtype == torch.float32
    t = steps.astype(np.float64)
    slope = np.maximum(np.abs(schedule(t + 1) - expected), np.abs(expected - schedule(np.maximum(t - 1, 0))))
    tolerance = 1e-5 * np.abs(expected) + 1e-5 * _scale(schedule) + 16 * 2.0**-23 * t * slope
    for name, values in (("jax.jit", jitted), ("tensorflow", tensorflow.numpy()), ("torch", torch_values.numpy())):
        error = np.abs(np.asarray(values, np.float64) - expected)
        assert (error <= tolerance).all(), (name, schedule, steps[error > tolerance], error[error > tolerance])


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
def test_round_trips_equality_and_hash(schedule):
    spec = json.loads(json.dumps(schedule.to_dict()))
    assert spec["kind"] == schedule.kind
    rebuilt = lrdecay.from_dict(spec)
    parsed = lrdecay.parse(repr(schedule))
    for other in (rebuilt, parsed):
        assert other == schedule and hash(other) == hash(schedule)
        assert type(other) is type(schedule)
        assert repr(other) == repr(schedule)
    steps = PROBE[::7].astype(np.float64)
    np.testing.assert_array_equal(rebuilt(steps), schedule(steps))
    assert schedule != object() and all(schedule != e for e in EXAMPLES if e is not schedule and repr(e) != repr(schedule))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
def test_finite_at_large_steps_and_resumable(schedule):
    large = np.array([0, 1, 2**20, 2**24, 2**31 - 1, 2**32, 10**12, 2**40 - 1, 2**40], dtype=np.float64)
    assert np.isfinite(schedule(large)).all()
    assert all(np.isfinite(schedule(int(s))) for s in large)
    curve = schedule(PROBE.astype(np.float64))
    np.testing.assert_array_equal(schedule(PROBE[100:].astype(np.float64)), curve[100:])
    duration = schedule.duration
    if duration is not None:  # constant from its duration on
        after = schedule(np.array([duration, duration + 1, 10 * duration + 3, 2**40], dtype=np.float64))
        assert np.all(after == after[0]), schedule
        # (NumPy's scalar and SIMD kernels may differ in the last bit: compare across shapes loosely)
        assert schedule(float(duration)) == pytest.approx(after[0], rel=1e-14, abs=1e-300)
