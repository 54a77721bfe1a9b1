"""The range test on a compiled Keras model: :func:`lr_find` (exposed as ``lrdecay.keras.lr_find``).

Every sweep step is one ``model.train_on_batch`` (one optimizer update) at the sweep's rate.
Afterwards every model variable (weights, BatchNorm statistics, dropout seed states), the
compiled metrics, every optimizer variable (iterations, moments, the learning rate) and the
global random states (Python, NumPy, Keras's global seed generator) hold their values from
before, and the optimizer's learning rate (a float or, on the TensorFlow backend, a ``LearningRateSchedule``) is the same.
"""

from __future__ import annotations

import random

import keras  # absolute import: the real keras
import numpy as np

from lrdecay.core.validate import check_bool, check_int
from lrdecay.tools.finder import RangeTestResult, range_test

__all__ = ["lr_find"]


def lr_find(model, x, y, *, batch_size: int = 32, start_lr=1e-7, end_lr=10.0, num_steps: int = 100,
            mode: str = "exp", smooth: float = 0.05, diverge: float = 5.0, shuffle: bool = True,
            seed: int = 0, progress: bool | None = None) -> RangeTestResult:
    """Run :func:`lrdecay.finder.range_test` on a compiled Keras ``model`` with minibatches of
    ``batch_size`` from the arrays ``x`` and ``y`` (in a random order from ``seed`` each pass
    when ``shuffle``, else in order; passes repeat as needed), then restore the model and its
    optimizer (see the module docstring). Returns the :class:`~lrdecay.finder.RangeTestResult`."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        raise ValueError("model must be compiled with an optimizer and a loss (model.compile(...)) before lr_find")
    batch_size = check_int("batch_size", batch_size, 1)
    check_bool("shuffle", shuffle)
    seed = check_int("seed", seed, 0)
    n = len(x)
    if n == 0 or len(y) != n:
        raise ValueError(f"x and y must hold the same number (> 0) of samples, got {n} and {len(y)}")
    optimizer = model.optimizer
    if not model.built:
        model(x[:1])
    if not optimizer.built:
        optimizer.build(model.trainable_variables)

    saved = _Snapshot(model)
    learning_rate, train_function = optimizer._learning_rate, model.train_function
    if isinstance(learning_rate, keras.Variable):
        rate = learning_rate  # an optimizer variable: every backend reads it at each update
    elif keras.backend.backend() == "tensorflow":
        rate = keras.Variable(0.0, dtype="float32", trainable=False, name="lr_find_rate")
    else:
        raise ValueError(
            f"on the {keras.backend.backend()} backend lr_find needs an optimizer with a float learning "
            f"rate (got {type(learning_rate).__name__}): compile the model with one for the test"
        )
    try:
        if rate is not learning_rate:
            optimizer._learning_rate = lambda: rate  # read at every update instead of the schedule
            model.train_function = None  # traced again with the rate above
        batches = _batches(n, batch_size, shuffle, seed)

        def step(lr):
            rate.assign(lr)
            index = next(batches)
            return model.train_on_batch(x[index], y[index], return_dict=True)["loss"]

        return range_test(step, start_lr, end_lr, num_steps, mode, smooth, diverge, progress)
    finally:
        optimizer._learning_rate, model.train_function = learning_rate, train_function
        saved.restore()


def _batches(n: int, batch_size: int, shuffle: bool, seed: int):
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


class _Snapshot:
    def __init__(self, model):
        optimizer = model.optimizer
        self.variables = list(model.variables) + list(model.metrics_variables) + list(optimizer.variables)
        if isinstance(optimizer._learning_rate, keras.Variable):
            self.variables.append(optimizer._learning_rate)
        generator = _global_seed_generator()
        if generator is not None:
            self.variables += list(generator.variables)
        self.values = [np.array(keras.ops.convert_to_numpy(v.value), copy=True) for v in self.variables]
        self.random, self.numpy = random.getstate(), np.random.get_state()

    def restore(self):
        for variable, value in zip(self.variables, self.values):
            variable.assign(value)
        random.setstate(self.random)
        np.random.set_state(self.numpy)


def _global_seed_generator():
    """Keras's global seed generator (used by ``keras.random`` calls without a seed), if made."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:
        return None
    return global_state.get_global_attribute("global_seed_generator")
