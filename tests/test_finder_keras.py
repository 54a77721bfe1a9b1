"""``lrdecay.keras.lr_find`` on a tiny real Keras model (Dense, Dropout, BatchNormalization):
the sweep's rates drive the updates, and afterwards weights, BatchNorm statistics, dropout seed
state, optimizer variables, the learning rate (a float or a schedule) and the global RNGs are as
before; the model trains on as if nothing had happened."""

import random

import keras
import numpy as np
import pytest

import lrdecay
from lrdecay.finder import sweep
from lrdecay.keras import KerasSchedule, lr_find


def make_model(learning_rate=1e-3, optimizer="adam"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.2),
                              keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    opt = keras.optimizers.Adam(learning_rate) if optimizer == "adam" else keras.optimizers.SGD(learning_rate)
    model.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = (x[:, :1] - 2 * x[:, 1:2] + 0.1 * rng.normal(size=(256, 1))).astype("float32")
    return model, x, y


def values(model):
    variables = list(model.variables) + list(model.optimizer.variables)
    return [np.array(v.numpy(), copy=True) for v in variables]


def assert_same(before, after):
    assert len(before) == len(after)
    for i, (a, b) in enumerate(zip(before, after)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b, err_msg=f"variable {i}")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_weights_and_optimizer_are_restored(optimizer):
    model, x, y = make_model(optimizer=optimizer)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # some optimizer state to restore
    random.seed(1)
    np.random.seed(2)
    before, py_state, np_state = values(model), random.getstate(), np.random.get_state()
    result = lr_find(model, x, y, batch_size=32, start_lr=1e-5, end_lr=1.0, num_steps=25)
    assert result.steps_run > 5
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert_same(before, values(model))
    assert random.getstate() == py_state and np.random.get_state()[1].tolist() == np_state[1].tolist()


def test_training_afterwards_is_as_without_the_test():
    trained = []
    for run_finder in (False, True):
        model, x, y = make_model()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        if run_finder:
            lr_find(model, x, y, start_lr=1e-5, end_lr=1.0, num_steps=20)
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        trained.append(values(model))
    assert_same(*trained)


def test_an_unbuilt_optimizer_and_a_schedule_learning_rate():
    schedule = lrdecay.cosine_decay(0.01, 100)
    model, x, y = make_model(learning_rate=KerasSchedule(schedule))
    result = lr_find(model, x, y, start_lr=1e-4, end_lr=1.0, num_steps=15)
    assert result.steps_run == 15 or result.stopped != "completed"
    assert model.optimizer.iterations.numpy() == 0
    assert all(not np.any(v.numpy()) for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path)
    assert isinstance(model.optimizer._learning_rate, KerasSchedule)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(schedule(8), rel=1e-6)  # 256 / 32 updates


def test_each_step_is_one_update_at_the_sweep_rate():
    model, x, y = make_model(optimizer="sgd")
    seen = []
    original = model.optimizer.apply

    def apply(grads, trainable_variables=None):
        seen.append(float(model.optimizer.learning_rate))
        return original(grads, trainable_variables)

    model.optimizer.apply = apply
    model.train_function = None
    model.run_eagerly = True  # the recording wrapper runs on every update
    result = lr_find(model, x, y, start_lr=1e-4, end_lr=1e-1, num_steps=6, diverge=float("inf"))
    np.testing.assert_allclose(seen, np.asarray(sweep(1e-4, 1e-1, 6)(np.arange(6))), rtol=1e-6)
    np.testing.assert_allclose(result.rates, seen, rtol=1e-6)


def test_deterministic():
    results = []
    for _ in range(2):
        model, x, y = make_model()
        results.append(lr_find(model, x, y, start_lr=1e-5, end_lr=1.0, num_steps=20))
    np.testing.assert_array_equal(results[0].losses, results[1].losses)


def test_bad_arguments():
    model, x, y = make_model()
    with pytest.raises(TypeError, match="model must be a keras.Model, got str"):
        lr_find("model", x, y)
    uncompiled = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="model must be compiled"):
        lr_find(uncompiled, x, y)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        lr_find(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="x and y must hold the same number"):
        lr_find(model, x, y[:10])
    with pytest.raises(ValueError, match="num_steps must be >= 2"):
        lr_find(model, x, y, num_steps=1)


JAX_BACKEND_CHECK = """
import keras, numpy as np
from lrdecay.finder import sweep
from lrdecay.keras import lr_find
assert keras.backend.backend() == "jax"
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
x = np.random.default_rng(0).normal(size=(256, 6)).astype("float32")
y = x[:, :1] - 2 * x[:, 1:2]
weights = [w.copy() for w in model.get_weights()]
result = lr_find(model, x, y, start_lr=1e-4, end_lr=1e3, num_steps=60)
assert result.stopped == "diverged" and result.suggestion is not None, result.summary()
assert all((a == b).all() for a, b in zip(weights, model.get_weights()))
assert abs(float(model.optimizer.learning_rate) - 0.01) < 1e-9 and int(model.optimizer.iterations) == 0
model.compile(optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)), loss="mse")
try:
    lr_find(model, x, y, num_steps=10)
except ValueError as error:
    assert "on the jax backend lr_find needs an optimizer with a float learning rate" in str(error), error
else:
    raise AssertionError("a schedule on the JAX backend must be refused")
print("ok")
"""


def test_jax_backend_reads_the_sweep_rate():
    """On Keras's JAX backend the train step is a pure function of the optimizer's variables: the
    sweep's rate must be one of them (a rate read from elsewhere would be a traced constant and
    the test would never diverge)."""
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", JAX_BACKEND_CHECK], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "KERAS_BACKEND": "jax"})
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
