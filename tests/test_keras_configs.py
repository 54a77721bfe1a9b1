"""from_keras imports every config Keras can save (issue 17): each Keras schedule class built with
random valid parameters (hypothesis), ``keras.optimizers.schedules.serialize()``, ``from_keras``,
then the values compared with Keras's at many steps:

* in float32, Keras as it trains (a Python float ``initial_learning_rate``) against
  ``KerasSchedule(schedule)`` (lrdecay's TensorFlow path): a few float32 ulps;
* in float64, Keras with an ``np.float64`` learning rate (it then computes in float64, but with
  its other parameters cast through float32: ``t_mul=1 + 1e-9`` is 1 there) against the
  Python-float path of the same config with its parameters rounded to float32: round-off only.

The one known difference is excused step by step: at a restart step that TensorFlow's logarithm
puts at the end of the previous cycle, Keras gives the trough and lrdecay the new peak.
A config lrdecay refuses must really overflow float64 by step 2**63 (computed here with mpmath).
"""

import math

import keras
import mpmath
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay.keras import KerasSchedule
from lrdecay.migrate.keras import KERAS_CLASSES

S = keras.optimizers.schedules
F32_EPS = 2.0**-23
F64_MAX = 1.7976931348623157e308


def f32(low, high):
    """float32 values: Keras casts every parameter to float32, so both sides see the same number."""
    return st.floats(float(np.float32(low)), float(np.float32(high)), width=32)


LR = f32(1e-4, 10.0)
PERIOD = st.one_of(st.integers(1, 10**5), f32(0.5, 1e5))
T_MUL = st.one_of(st.just(1.0), f32(1.0, 10.0), st.sampled_from([1 + 1e-9, 1 + 2**-23, 1 + 2**-20, 1.5, 2.0, 3.0]))

CONFIGS = {
    "ExponentialDecay": st.fixed_dictionaries({
        "initial_learning_rate": LR, "decay_steps": PERIOD, "decay_rate": f32(0.01, 1.0), "staircase": st.booleans()}),
    "InverseTimeDecay": st.fixed_dictionaries({
        "initial_learning_rate": LR, "decay_steps": PERIOD, "decay_rate": f32(0.0, 10.0), "staircase": st.booleans()}),
    "PiecewiseConstantDecay": st.lists(st.integers(0, 10**5), min_size=1, max_size=5, unique=True).flatmap(
        lambda b: st.fixed_dictionaries({
            "boundaries": st.just(sorted(b)),
            "values": st.lists(f32(0.0, 1.0), min_size=len(b) + 1, max_size=len(b) + 1)})),
    "PolynomialDecay": st.fixed_dictionaries({
        "initial_learning_rate": LR, "decay_steps": PERIOD, "end_learning_rate": f32(0.0, 1.0),
        "power": f32(0.0, 5.0), "cycle": st.booleans()}),
    "CosineDecay": st.fixed_dictionaries(
        {"initial_learning_rate": LR, "decay_steps": PERIOD, "alpha": f32(0.0, 1.0)},
        optional={"warmup_target": st.one_of(st.none(), st.just(0.0), LR),
                  "warmup_steps": st.one_of(st.integers(0, 10**4), f32(0.5, 1e4))}),
    "CosineDecayRestarts": st.fixed_dictionaries({
        "initial_learning_rate": LR, "first_decay_steps": PERIOD, "t_mul": T_MUL,
        "m_mul": st.one_of(f32(-2.0, 8.0), st.sampled_from([0.0, 1.0, 4.0, -1.0, 0.5])), "alpha": f32(0.0, 1.0)}),
}


def test_every_keras_class_is_drawn():
    classes = {name for name, cls in vars(S).items()
               if isinstance(cls, type) and issubclass(cls, S.LearningRateSchedule) and cls is not S.LearningRateSchedule}
    assert classes == set(CONFIGS) == set(KERAS_CLASSES)


def _restart_starts(config, limit):
    """The restart steps of a CosineDecayRestarts config up to ``limit``, exactly (mpmath)."""
    first, t_mul = mpmath.mpf(config["first_decay_steps"]), mpmath.mpf(config["t_mul"])
    starts, start, length = [], mpmath.mpf(0), first
    while start + length <= limit and len(starts) < 200:
        start, length = start + length, length * t_mul
        starts.append(start)
    return starts


def _steps(name, config, drawn):
    """The drawn steps, 0 and 1, and both sides of every boundary of the config (< 2**24: float32
    holds them exactly)."""
    marks = {0, 1, 10**6}
    if name == "PiecewiseConstantDecay":
        marks.update(config["boundaries"])
    for key in ("decay_steps", "first_decay_steps", "warmup_steps"):
        if key in config:
            marks.update({config[key], config[key] * 2, config[key] + config.get("warmup_steps", 0)})
    if name == "CosineDecayRestarts":
        marks.update(float(s) for s in _restart_starts(config, 10**6)[:40])
    steps = set(drawn)
    for mark in marks:
        steps.update(int(math.floor(mark)) + d for d in (-1, 0, 1))
    return sorted(s for s in steps if 0 <= s < 2**24)


def _keras_position(config, step, dtype):
    """Where Keras's CosineDecayRestarts puts ``step`` in its cycle (its own ops, in ``dtype``)."""
    ops = keras.ops
    t_mul = ops.cast(config["t_mul"], dtype)
    fraction = ops.cast(step, dtype) / ops.cast(config["first_decay_steps"], dtype)
    cycle = ops.floor(ops.log(1.0 - fraction * (1.0 - t_mul)) / ops.log(t_mul))
    return float((fraction - (1.0 - t_mul**cycle) / (1.0 - t_mul)) / t_mul**cycle)


def _misplaced_restart(name, config, step, dtype):
    """Keras's logarithm (in ``dtype``) puts ``step`` into the previous cycle, at a position >= 1
    (past its end), where lrdecay moves on to the next cycle (docs/tensorflow.md)."""
    if name != "CosineDecayRestarts" or np.float32(config["t_mul"]) == 1:
        return False
    return _keras_position(config, step, dtype) >= 1.0


def _exact_restarts(config, step):
    """CosineDecayRestarts at ``step`` from its definition (mpmath), and the peak of that cycle."""
    with mpmath.workdps(40):
        lr, first, t_mul, m_mul, alpha = (mpmath.mpf(config[k]) for k in (
            "initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha"))
        if t_mul == 1:
            cycle = mpmath.floor(step / first)
            start, length = cycle * first, first
        else:
            cycle = mpmath.floor(mpmath.log(1 + step / first * (t_mul - 1)) / mpmath.log(t_mul))
            while first * (t_mul ** (cycle + 1) - 1) / (t_mul - 1) <= step:
                cycle += 1
            while first * (t_mul**cycle - 1) / (t_mul - 1) > step:
                cycle -= 1
            start, length = first * (t_mul**cycle - 1) / (t_mul - 1), first * t_mul**cycle
        peak = lr * (1 - alpha) * m_mul**cycle
        value = peak * (1 + mpmath.cos(mpmath.pi * (step - start) / length)) / 2 + lr * alpha
        return float(value), float(abs(peak) + abs(lr * alpha))


def _really_overflows(config):
    """``m_mul ** i`` or the peak of one of the last two cycles to start by step 2**63 overflows
    float64 (exact)."""
    with mpmath.workdps(60):
        first, t_mul = mpmath.mpf(config["first_decay_steps"]), mpmath.mpf(config["t_mul"])
        limit = mpmath.mpf(2) ** 63
        if t_mul == 1:
            last = mpmath.floor(limit / first)
        else:
            last = mpmath.floor(mpmath.log(1 + limit / first * (t_mul - 1)) / mpmath.log(t_mul))
            while first * (t_mul ** (last + 1) - 1) / (t_mul - 1) <= limit:
                last += 1
            while first * (t_mul**last - 1) / (t_mul - 1) > limit:
                last -= 1
        lr, m, alpha = (mpmath.mpf(config[k]) for k in ("initial_learning_rate", "m_mul", "alpha"))
        # the formula computes m_mul ** i first (Keras and TensorFlow too): that alone may overflow
        terms = [abs(m) ** i for i in (last - 1, last) if i >= 0]
        terms += [abs(lr * ((1 - alpha) * m**i + alpha)) for i in (last - 1, last) if i >= 0]
        return max(terms) > F64_MAX


def _keras(name, config, dtype):
    """The Keras schedule, computing in ``dtype`` (the dtype of its learning rate, or values)."""
    config = dict(config)
    if name == "PiecewiseConstantDecay":
        config["values"] = [dtype(v) for v in config["values"]]
    else:
        config["initial_learning_rate"] = dtype(config["initial_learning_rate"])
    return getattr(S, name)(**config)


def _value(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_from_keras_imports_every_config_and_gives_keras_values(name, data):
    config = data.draw(CONFIGS[name], label="config")
    drawn = data.draw(st.lists(st.integers(0, 10**6), min_size=3, max_size=12), label="steps")
    check_config(name, config, drawn)


def check_config(name, config, drawn):
    """from_keras(serialize(...)) of ``config``: refused only where it overflows, else Keras's values."""
    saved = S.serialize(getattr(S, name)(**config))
    try:
        schedule = lrdecay.from_keras(saved)
    except ValueError as error:
        # refused: only a growing restart peak that really overflows float64 by step 2**63
        assert name == "CosineDecayRestarts" and abs(config["m_mul"]) > 1, error
        assert str(error).startswith("m_mul must keep every peak finite")
        assert _really_overflows(config), (config, error)
        return
    if name == "CosineDecayRestarts" and abs(config["m_mul"]) > 1:
        assert not _really_overflows(config)
    steps = _steps(name, config, drawn)
    adapter = KerasSchedule(schedule)
    rounded = lrdecay.from_keras({k: float(np.float32(v)) if type(v) is float else v for k, v in config.items()},
                                 name)
    theirs32, theirs64 = _keras(name, config, float), _keras(name, config, np.float64)
    for step in steps:
        # float round-off is relative to the largest term: a restart's peak when they grow
        peak = _exact_restarts(config, step)[1] if name == "CosineDecayRestarts" else 0.0
        ours, theirs = float(adapter(tf.constant(step, tf.int64)).numpy()), _value(theirs32, step)
        tolerance = 8 * F32_EPS * max(abs(theirs), abs(_value(theirs32, 0)), peak, 1e-30)
        if not math.isfinite(theirs):  # float32 overflow of a growing peak: float64 is the reference
            assert name == "CosineDecayRestarts" and abs(config["m_mul"]) > 1
        elif abs(ours - theirs) > tolerance:
            assert _misplaced_restart(name, config, step, "float32"), (config, step, ours, theirs)
        ours, theirs = rounded(step), _value(theirs64, step)
        tolerance = 1e-9 * max(abs(theirs), abs(_value(theirs64, 0)), peak) + 1e-300
        if abs(ours - theirs) > tolerance:
            assert _misplaced_restart(name, config, step, "float64"), (config, step, ours, theirs)
            assert ours == pytest.approx(_exact_restarts(config, step)[0], rel=1e-9, abs=tolerance)


@pytest.mark.parametrize("wrap", [np.float32, np.float64, tf.constant, keras.Variable, np.array])
def test_parameters_saved_as_tensors_and_arrays(wrap):
    """Keras saves a tensor or NumPy parameter as {"class_name": "__tensor__"/"__numpy__", ...}."""
    pieces = (lambda xs: [wrap(x) for x in xs]) if wrap is keras.Variable else wrap  # a list of variables
    rates = [S.ExponentialDecay(wrap(0.5), 10, 0.5), S.CosineDecayRestarts(wrap(0.5), 10, m_mul=wrap(4.0)),
             S.PiecewiseConstantDecay(pieces([10, 20]), pieces([0.5, 0.25, 0.125]))]
    for keras_schedule in rates:
        for source in (keras_schedule, keras_schedule.get_config(), S.serialize(keras_schedule)):
            schedule = lrdecay.from_keras(source, type(keras_schedule).__name__)
            for step in (0, 9, 10, 11, 25, 100):
                assert schedule(step) == pytest.approx(_value(keras_schedule, step), rel=1e-6)


def test_cosine_decay_warmup_target_zero_is_a_target():
    """``warmup_target=0.0`` warms up to 0 (was read as "no warm-up": decay from the initial rate)."""
    keras_schedule = S.CosineDecay(0.1, 10, warmup_target=0.0, warmup_steps=5)
    schedule = lrdecay.from_keras(S.serialize(keras_schedule))
    for step in range(20):
        assert schedule(step) == pytest.approx(_value(keras_schedule, step), rel=1e-6, abs=1e-9)
    assert schedule(5) == 0.0 and schedule(19) == 0.0


def test_a_saved_keras_schedule_of_lrdecay_is_its_spec():
    saved = S.serialize(KerasSchedule("cosine_decay_restarts(0.1, 10, m_mul=4.0)"))
    assert lrdecay.from_keras(saved) == lrdecay.cosine_decay_restarts(0.1, 10, m_mul=4.0)
