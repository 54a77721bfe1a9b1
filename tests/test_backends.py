"""Backend dispatch on the step's type, shapes and dtypes, framework tracing (jax.jit/vmap,
tf.function), step errors, and the light import."""

import math
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
import torch

from lrdecay import (
    cosine_decay,
    cosine_decay_restarts,
    exponential_decay,
    noisy_linear_cosine_decay,
    piecewise_constant,
)
from lrdecay.core.backends import MATH, get_backend

SCHEDULES = [
    exponential_decay(0.1, 20, 0.8, staircase=True),
    cosine_decay_restarts(0.1, 10, alpha=0.1),
    piecewise_constant([3, 6], [0.3, 0.2, 0.1]),
    noisy_linear_cosine_decay(0.1, 20, seed=4),
]
STEPS = np.arange(12)


def _reference(schedule):
    return np.array([schedule(int(s)) for s in STEPS])


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_python_numbers_give_python_floats(schedule):
    for step in (0, 7, 7.0, 2**40):
        value = schedule(step)
        assert type(value) is float and math.isfinite(value)
    assert schedule(5) == schedule(5.0)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
@pytest.mark.parametrize("shape", [(), (12,), (3, 4), (2, 1, 6)])
def test_numpy_keeps_shape_and_gives_float64(schedule, shape):
    for dtype in (np.int32, np.int64, np.float32, np.float64, np.uint16):
        steps = STEPS[: int(np.prod(shape))].reshape(shape).astype(dtype)
        values = schedule(steps)
        assert values.dtype == np.float64 and values.shape == shape
        np.testing.assert_allclose(np.ravel(values), _reference(schedule)[: values.size], rtol=1e-15)
    assert isinstance(schedule(np.int64(3)), np.float64)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_jax_arrays_jit_and_vmap(schedule):
    steps = jnp.asarray(STEPS, dtype=jnp.int32)
    eager = schedule(steps)
    assert isinstance(eager, jax.Array) and eager.dtype == jnp.float32 and eager.shape == (12,)
    jitted = jax.jit(schedule)(steps)
    mapped = jax.jit(jax.vmap(schedule))(steps.reshape(3, 4))
    assert mapped.shape == (3, 4)
    for values in (eager, jitted, mapped.reshape(-1)):
        np.testing.assert_allclose(np.asarray(values), _reference(schedule), rtol=1e-5, atol=1e-7)
    assert schedule(jnp.float32(3.0)).shape == ()


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_tensorflow_tensors_variables_and_tf_function(schedule):
    step = tf.Variable(0, dtype=tf.int64)
    traced = tf.function(lambda: schedule(step))
    for s in STEPS:
        step.assign(int(s))
        for value in (schedule(step), traced(), schedule(tf.constant(int(s)))):
            assert value.dtype == tf.float32 and value.shape == ()
            assert float(value) == pytest.approx(schedule(int(s)), rel=1e-5, abs=1e-7)
    matrix = schedule(tf.reshape(tf.constant(STEPS), (3, 4)))
    assert matrix.shape == (3, 4) and matrix.dtype == tf.float32
    assert schedule(tf.constant(STEPS, tf.float64)).dtype == tf.float64


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_torch_tensors(schedule):
    values = schedule(torch.arange(12))
    assert isinstance(values, torch.Tensor) and values.dtype == torch.get_default_dtype()
    np.testing.assert_allclose(values.numpy(), _reference(schedule), rtol=1e-5, atol=1e-7)
    double = schedule(torch.arange(12, dtype=torch.float64).reshape(3, 4))
    assert double.dtype == torch.float64 and double.shape == (3, 4)
    np.testing.assert_allclose(double.reshape(-1).numpy(), _reference(schedule), rtol=1e-12)
    assert schedule(torch.tensor(5)).shape == ()


def test_dispatch_picks_the_backend_from_the_type():
    assert get_backend(3) is MATH and get_backend(3.5) is MATH
    assert get_backend(np.arange(3)).name == "numpy"
    assert get_backend(jnp.arange(3)).name == "jax"
    assert get_backend(tf.constant(3)).name == "tensorflow"
    assert get_backend(tf.Variable(3)).name == "tensorflow"
    assert get_backend(torch.tensor(3)).name == "torch"


@pytest.mark.parametrize("step", ["3", [1, 2], None, True, 3 + 0j, b"1", {1}], ids=repr)
def test_unsupported_step_types_raise_type_error(step):
    with pytest.raises(TypeError, match="step must be"):
        cosine_decay(0.1, 10)(step)


@pytest.mark.parametrize(
    "step",
    [
        np.array([True, False]),
        np.array([1 + 1j]),
        np.array(["1"]),
        jnp.array([True]),
        tf.constant([True]),
        tf.constant(["1"]),
        torch.tensor([True]),
        torch.tensor([1 + 1j]),
    ],
    ids=lambda s: f"{type(s).__module__}-{s.dtype}",
)
def test_arrays_of_non_numbers_raise_type_error(step):
    with pytest.raises(TypeError, match="step must hold integers or floats"):
        cosine_decay(0.1, 10)(step)


@pytest.mark.parametrize(
    "step",
    [
        -1,
        -0.5,
        math.nan,
        math.inf,
        np.array([0, -1]),
        np.array([np.nan]),
        np.float64(-2.0),
        jnp.array([1.0, -1.0]),
        jnp.array([jnp.nan]),
        tf.constant([-3]),
        tf.constant(math.nan),
        torch.tensor([-1]),
        torch.tensor([math.inf]),
    ],
    ids=repr,
)
def test_negative_or_nan_steps_raise_value_error(step):
    with pytest.raises(ValueError, match="step must"):
        exponential_decay(0.1, 20, 0.8)(step)


def test_empty_arrays_give_empty_results():
    assert exponential_decay(0.1, 20, 0.8)(np.zeros((0, 3))).shape == (0, 3)
    assert cosine_decay(0.1, 10)(torch.zeros(0)).shape == (0,)


def test_staircase_lookup_table_matches_pow():
    schedule = exponential_decay(0.1, 20, 0.8, staircase=True)
    steps = np.arange(0, 10**5, dtype=np.float64)
    np.testing.assert_array_equal(schedule(steps), 0.1 * np.power(0.8, np.floor(steps / 20)))
    sparse = np.array([0.0, 2.0**40, 3.0, 10**9], dtype=np.float64)  # wide range: no table
    np.testing.assert_array_equal(schedule(np.repeat(sparse, 40)), 0.1 * np.power(0.8, np.floor(np.repeat(sparse, 40) / 20)))


def test_import_is_light_and_fast():
    # Time of `import lrdecay` itself (NumPy, its one dependency, is imported first). The limit
    # is on CPU time, which a busy machine does not inflate; wall time gets a looser bound.
    script = textwrap.dedent(
        """
        import sys, time
        import numpy
        wall, cpu = time.perf_counter(), time.process_time()
        import lrdecay
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        heavy = [m for m in ("torch", "tensorflow", "jax", "matplotlib", "keras", "optax") if m in sys.modules]
        print(wall, cpu, *heavy)
        """
    )
    walls, cpus = [], []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        wall, cpu, *heavy = out.stdout.split()
        assert heavy == [], f"import lrdecay imported {heavy}"
        walls.append(float(wall))
        cpus.append(float(cpu))
    assert min(cpus) < 0.100, cpus
    assert min(walls) < 0.250, walls
