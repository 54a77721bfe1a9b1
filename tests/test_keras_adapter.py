"""lrdecay.keras.KerasSchedule and PlateauCallback in real Keras training."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import lrdecay
from lrdecay.keras import KerasSchedule, PlateauCallback

EXP = lrdecay.exponential_decay(0.1, 20, 0.8)


class RecordLR(keras.callbacks.Callback):
    """The learning rate the optimizer uses for each batch, read back from the optimizer."""

    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(np.float32(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def fit(learning_rate, epochs=3, callbacks=(), seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    x = np.linspace(-1, 1, 48, dtype=np.float32).reshape(16, 3)
    record = RecordLR()
    history = model.fit(x, x[:, :1], batch_size=4, epochs=epochs, verbose=0, callbacks=[record, *callbacks])
    return model, record.lrs, history


def test_fit_sees_the_schedule_like_keras_own_exponential_decay():
    _, ours, _ = fit(KerasSchedule(EXP))
    _, theirs, _ = fit(keras.optimizers.schedules.ExponentialDecay(0.1, 20, 0.8))
    assert len(ours) == 12 and all(v.dtype == np.float32 for v in ours)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(ours, [EXP(k) for k in range(12)], rtol=1e-6)


def test_values_are_float32_tensors_for_ints_and_iterations():
    schedule = KerasSchedule(EXP)
    assert schedule(5).dtype == tf.float32
    assert schedule(keras.Variable(5, dtype="int64")).numpy() == np.float32(schedule(5).numpy())
    tf_fn = tf.function(lambda step: schedule(step))
    assert tf_fn(tf.constant(7, tf.int64)).numpy() == schedule(7).numpy()


def test_get_config_is_the_spec_and_from_config_round_trips():
    schedule = KerasSchedule(lrdecay.exponential_decay(0.3, 7, 0.5, staircase=True))
    assert schedule.get_config() == schedule.schedule.to_dict()
    again = KerasSchedule.from_config(schedule.get_config())
    assert again.schedule == schedule.schedule
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(restored, KerasSchedule) and restored.schedule == schedule.schedule


def test_fit_save_load_round_trip(tmp_path):
    model, lrs, _ = fit(KerasSchedule(EXP), epochs=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    restored = loaded.optimizer._learning_rate
    assert isinstance(restored, KerasSchedule) and restored.schedule == EXP
    assert int(loaded.optimizer.iterations.numpy()) == 8
    assert np.float32(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == np.float32(
        keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    x = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # and in a fresh process that only imports lrdecay.keras (the registration)
    program = (f"import keras, lrdecay.keras\nm = keras.models.load_model({str(path)!r})\n"
               "print(type(m.optimizer._learning_rate).__name__, m.optimizer._learning_rate.schedule)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"KerasSchedule {EXP!r}"


METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]


def _model_with(learning_rate):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def _lr(model):
    return np.float32(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def test_plateau_callback_matches_keras_reduce_lr_on_plateau():
    reference = _model_with(0.1)
    keras_callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    keras_callback.set_model(reference)
    schedule = KerasSchedule(lrdecay.exponential_decay(0.1, 1, 1.0),
                             plateau=lrdecay.Plateau(factor=0.5, patience=2, min_lr=0.02, rule="keras"))
    ours = _model_with(schedule)
    callback = PlateauCallback(monitor="val_loss")
    callback.set_model(ours)
    reductions = 0
    for epoch, metric in enumerate(METRICS):
        before = _lr(reference)
        keras_callback.on_epoch_end(epoch, {"val_loss": metric})
        logs = {"val_loss": metric}
        callback.on_epoch_end(epoch, logs)
        reductions += _lr(reference) < before
        assert _lr(ours) == _lr(reference) and logs["learning_rate"] == pytest.approx(float(_lr(reference)))
    assert reductions >= 2 and _lr(ours) == np.float32(0.02)


def test_keras_own_callback_refuses_a_schedule_and_ours_works_in_fit():
    model = _model_with(KerasSchedule(EXP))
    callback = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0)
    callback.set_model(model)
    with pytest.raises(TypeError, match="not settable"):
        callback.on_epoch_end(0, {"loss": 1.0})
        callback.on_epoch_end(1, {"loss": 2.0})
    schedule = KerasSchedule(EXP, plateau=lrdecay.Plateau(factor=0.5, patience=0, rule="keras"))
    keras.utils.set_random_seed(1)
    model = _model_with(schedule)
    x = np.zeros((8, 2), np.float32)
    y = np.tile([[1.0], [-1.0]], (4, 1)).astype(np.float32)  # the loss stays at exactly 1
    record = RecordLR()
    model.fit(x, y, batch_size=4, epochs=6, verbose=0, callbacks=[PlateauCallback(monitor="loss"), record])
    assert schedule.plateau.num_reductions >= 1
    expected = [np.float32(EXP(k)) for k in range(12)]
    assert record.lrs[:2] == expected[:2]
    assert any(seen < want for seen, want in zip(record.lrs, expected))
    assert schedule.get_config()["plateau"] == schedule.plateau.to_dict()
    again = KerasSchedule.from_config(schedule.get_config())
    assert again.plateau.to_dict() == schedule.plateau.to_dict()


def test_missing_metric_warns_and_leaves_the_rate():
    model = _model_with(KerasSchedule(EXP, plateau=lrdecay.Plateau(rule="keras")))
    callback = PlateauCallback(monitor="val_acc")
    callback.set_model(model)
    with pytest.warns(UserWarning, match="val_acc"):
        callback.on_epoch_end(0, {"loss": 1.0})
    assert _lr(model) == np.float32(EXP(0))


@pytest.mark.parametrize("build, error, word", [
    (lambda: KerasSchedule(lambda step: 0.1), TypeError, "schedule"),
    (lambda: KerasSchedule(0.1), TypeError, "schedule"),
    (lambda: KerasSchedule(EXP, plateau="min"), TypeError, "plateau"),
    (lambda: PlateauCallback(monitor=3), TypeError, "monitor"),
    (lambda: PlateauCallback(schedule=EXP), TypeError, "schedule"),
])
def test_bad_input(build, error, word):
    with pytest.raises(error, match=word):
        build()


def test_plateau_callback_needs_a_plateau_schedule():
    model = _model_with(KerasSchedule(EXP))
    callback = PlateauCallback(monitor="loss")
    callback.set_model(model)
    with pytest.raises(ValueError, match="plateau"):
        callback.on_epoch_end(0, {"loss": 1.0})


def test_guide_examples_run():
    from tests._guides import run_guide

    namespace = run_guide("keras")
    assert namespace["plateau"].num_reductions >= 1


class ScriptedLoss(keras.callbacks.Callback):
    """Puts the next scripted value into logs["val_loss"] at each epoch end (runs first)."""

    def __init__(self, values):
        super().__init__()
        self.values = iter(values)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = next(self.values)


def _two_fits(learning_rate, callback, fits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3)
    lrs = []
    for metrics in fits:
        record = RecordLR()
        model.fit(x, x[:, :1], batch_size=8, epochs=len(metrics), verbose=0,
                  callbacks=[ScriptedLoss(metrics), callback, record])
        lrs += record.lrs
    lrs.append(np.float32(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return lrs


# fit 1 ends with wait = 1 and best = 1.0; fit 2's metrics are all above 1.0. Keras resets best,
# wait and cooldown at the start of each fit: 1.2 becomes the new best and the reduction comes
# two epochs later; carried over, 1.2 would be a bad epoch reducing the lr at once.
FITS = [[1.0, 0.6, 0.7, 0.8, 1.0], [1.2, 1.3, 1.25, 1.3, 1.4, 1.5, 1.6]]


@pytest.mark.parametrize("cooldown", [0, 2])
def test_plateau_callback_resets_on_each_fit_like_keras(cooldown):
    config = dict(factor=0.5, patience=2, cooldown=cooldown, min_lr=0.001)
    expected = _two_fits(0.1, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **config), FITS)
    schedule = KerasSchedule(lrdecay.constant(0.1), plateau=lrdecay.Plateau(rule="keras", **config))
    got = _two_fits(schedule, PlateauCallback(monitor="val_loss"), FITS)
    assert got == expected and len(set(expected)) >= 3
    carried = KerasSchedule(lrdecay.constant(0.1), plateau=lrdecay.Plateau(rule="keras", **config))
    assert _two_fits(carried, PlateauCallback(monitor="val_loss", reset_on_fit=False), FITS) != expected
    assert schedule.plateau.factor < 1.0  # the reduced rate carries over, as Keras's does


def test_plateau_callback_reset_on_fit_must_be_a_bool():
    with pytest.raises(TypeError, match="reset_on_fit must be True or False"):
        PlateauCallback(reset_on_fit="yes")


# -- negative steps (issue 17) -----------------------------------------------------------------

S = keras.optimizers.schedules
ONE_OF_EACH_CLASS = [
    S.ExponentialDecay(0.1, 20, 0.8),
    S.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
    S.PiecewiseConstantDecay([10, 30], [0.1, 0.05, 0.01]),
    S.PolynomialDecay(0.1, 50, 0.001, power=2.0),
    S.PolynomialDecay(0.1, 30, 0.001, cycle=True),
    S.CosineDecay(0.1, 60, alpha=0.1),
    S.CosineDecay(0.01, 60, alpha=0.05, warmup_target=0.2, warmup_steps=10),
    S.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.01),
    S.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.25),
]


def test_every_keras_class_is_tried_at_negative_steps():
    from lrdecay.migrate.keras import KERAS_CLASSES

    assert {type(s).__name__ for s in ONE_OF_EACH_CLASS} == set(KERAS_CLASSES)


@pytest.mark.parametrize("theirs", ONE_OF_EACH_CLASS, ids=lambda s: type(s).__name__)
def test_negative_step_gives_the_value_at_step_0(theirs):
    ours = KerasSchedule(lrdecay.from_keras(theirs))
    first = np.float32(keras.ops.convert_to_numpy(theirs(0)))
    steps = [-999, -1, -0.5, tf.constant(-5, tf.int64), tf.constant(-2.5), keras.Variable(-3, dtype="int64")]
    for step in steps:
        assert ours(step).numpy() == first, step
    assert tf.function(ours)(tf.constant(-7, tf.int64)).numpy() == first  # traced: no eager check
    assert ours(tf.constant([-4, 0, 3], tf.int64)).numpy()[0] == first
    # the lrdecay schedule itself keeps refusing a negative Python step
    with pytest.raises(ValueError, match="step must be a finite number >= 0"):
        ours.schedule(-999)
    # Keras: PiecewiseConstantDecay gives its first value (its own test uses -999); the others
    # evaluate their formula there (docs/semantics.md): a rate above the first, a mirror, or NaN
    keras_value = np.float32(keras.ops.convert_to_numpy(theirs(-999)))
    if isinstance(theirs, S.PiecewiseConstantDecay):
        assert keras_value == first
    else:
        assert keras_value != first
