"""Importer of Keras schedules: :func:`from_keras` takes a Keras schedule, its ``get_config()``
or ``serialize()`` output. Keras counts its optimizer's ``iterations`` (``clock="updates"``).

A parameter Keras saved as a tensor or NumPy value (``{"class_name": "__tensor__" | "__numpy__",
"config": {"value": ...}}``) or holds as one (``tf.constant(0.1)``, ``np.float32(0.1)``) is read
as its number or list of numbers."""

from __future__ import annotations

from lrdecay.compose.nodes import Warmup
from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import from_dict
from lrdecay.schedules.cosine import cosine_decay, cosine_decay_restarts
from lrdecay.schedules.decay import (
    exponential_decay,
    inverse_time_decay,
    piecewise_constant,
    polynomial_decay,
)

_KERAS_KEYS = [
    ("PiecewiseConstantDecay", {"boundaries", "values"}),
    ("CosineDecayRestarts", {"first_decay_steps"}),
    ("CosineDecay", {"initial_learning_rate", "decay_steps", "alpha"}),
    ("PolynomialDecay", {"end_learning_rate", "power"}),
]
KERAS_CLASSES = ("ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay", "PolynomialDecay",
                 "CosineDecay", "CosineDecayRestarts")


def from_keras(config, class_name: str | None = None) -> Schedule:
    """The lrdecay schedule of a Keras learning-rate schedule: the schedule object, its
    ``keras.optimizers.schedules.serialize()`` dict, or its ``get_config()`` dict (the class is
    told by the keys and the ``name``; give ``class_name`` when they don't tell it, e.g. a
    renamed ExponentialDecay or InverseTimeDecay). Keras counts the optimizer's
    ``iterations`` (``clock="updates"``) and computes in float32; lrdecay in float64."""
    if not isinstance(config, dict):
        get_config = getattr(config, "get_config", None)
        if get_config is None:
            raise TypeError(f"config must be a Keras schedule or its config dict, got {type(config).__name__}")
        if isinstance(getattr(config, "schedule", None), Schedule):  # lrdecay.keras.KerasSchedule
            return config.schedule
        class_name = class_name or type(config).__name__
        config = get_config()
    if "class_name" in config and "config" in config:  # serialize() output
        class_name = class_name or config["class_name"]
        config = config["config"]
    if class_name == "KerasSchedule" or "kind" in config:  # lrdecay.keras.KerasSchedule's config: a spec
        return from_dict({k: v for k, v in config.items() if k not in ("plateau", "adapter_clocks")})
    if class_name is None:
        class_name = _keras_class(config)
    config = {k: _number(v) for k, v in config.items() if k != "name"}
    if class_name not in KERAS_CLASSES:
        raise ValueError(f"class_name must be one of {', '.join(KERAS_CLASSES)}, got {class_name!r}")
    c = config
    try:
        if class_name == "ExponentialDecay":
            return exponential_decay(c["initial_learning_rate"], c["decay_steps"], c["decay_rate"],
                                     c.get("staircase", False))
        if class_name == "InverseTimeDecay":
            return inverse_time_decay(c["initial_learning_rate"], c["decay_steps"], c["decay_rate"],
                                      c.get("staircase", False))
        if class_name == "PiecewiseConstantDecay":
            return piecewise_constant(tuple(c["boundaries"]), tuple(c["values"]))
        if class_name == "PolynomialDecay":
            return polynomial_decay(c["initial_learning_rate"], c["decay_steps"], c.get("end_learning_rate", 1e-4),
                                    c.get("power", 1.0), c.get("cycle", False))
        if class_name == "CosineDecayRestarts":
            return cosine_decay_restarts(c["initial_learning_rate"], c["first_decay_steps"], c.get("t_mul", 2.0),
                                         c.get("m_mul", 1.0), c.get("alpha", 0.0))
        target = c.get("warmup_target")  # None: no warm-up (0.0 is a target)
        decay = cosine_decay(c["initial_learning_rate"] if target is None else target, c["decay_steps"],
                             c.get("alpha", 0.0))
        if target is None:
            return decay
        return Warmup(decay, c.get("warmup_steps", 0), start=c["initial_learning_rate"])
    except KeyError as error:
        raise ValueError(f"{class_name} config is missing {error.args[0]!r}") from None


def _number(value):
    """A parameter as a Python number, bool or list: Keras's serialized tensors and arrays
    (``{"class_name": "__tensor__", "config": {"value": ...}}``) and live tensors, variables and
    NumPy values are unwrapped; anything else is returned as it is."""
    if isinstance(value, dict) and value.get("class_name") in ("__tensor__", "__numpy__") and "config" in value:
        return _number(value["config"].get("value"))
    if isinstance(value, (list, tuple)):
        return [_number(v) for v in value]
    to_numpy = getattr(value, "numpy", None)  # tf.Tensor, keras.Variable, torch.Tensor
    if callable(to_numpy) and not isinstance(value, (int, float)):
        value = to_numpy()
    return value.tolist() if hasattr(value, "tolist") and hasattr(value, "dtype") else value


def _keras_class(config: dict) -> str:
    name = config.get("name")
    if name in KERAS_CLASSES:
        return name
    for class_name, keys in _KERAS_KEYS:
        if keys <= config.keys():
            return class_name
    raise ValueError("can't tell the Keras schedule class from this config (ExponentialDecay and "
                     "InverseTimeDecay have the same keys): pass class_name=..., the schedule itself, "
                     "or keras.optimizers.schedules.serialize(schedule)")
