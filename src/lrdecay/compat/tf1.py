"""Drop-ins for the nine ``tf.compat.v1.train`` decay functions, with TensorFlow's signatures.

Change ``tf.train.exponential_decay(...)`` / ``tf.compat.v1.train.exponential_decay(...)`` into
``lrdecay.compat.tf1.exponential_decay(...)`` and nothing else:

- ``global_step`` a TF tensor or variable, graph mode: a float32 tensor op (run it with
  ``Session.run``), named ``name`` like TensorFlow's;
- ``global_step`` a TF tensor or variable, eager mode: like TensorFlow, a function of no
  arguments that returns the value at the variable's current step;
- ``global_step`` a Python int or float: the value, a Python float (float64 arithmetic);
- ``global_step`` None: ``ValueError``, as in TensorFlow.

The formulas are lrdecay's schedules (:func:`lrdecay.exponential_decay` and friends); this module
only converts arguments. The schedule parameters must be Python numbers (TensorFlow also accepts
tensors there). TensorFlow is imported only when a TF tensor is given.
"""

from __future__ import annotations

import functools

from lrdecay.core.kinds import registry

__all__ = [
    "exponential_decay", "natural_exp_decay", "inverse_time_decay", "piecewise_constant",
    "polynomial_decay", "cosine_decay", "cosine_decay_restarts", "linear_cosine_decay",
    "noisy_linear_cosine_decay",
]


def _decayed(kind, default_name, name, global_step, **params):
    """The schedule ``kind`` built from ``params``, evaluated at ``global_step`` the way
    ``tf.compat.v1.train`` returns it."""
    if global_step is None:
        raise ValueError(f"global_step is required for {kind}.")
    schedule = registry()[kind](**params)
    if isinstance(global_step, (int, float)) and not isinstance(global_step, bool):
        return schedule(global_step)
    import tensorflow as tf

    if not isinstance(global_step, (tf.Tensor, tf.Variable)):
        global_step = tf.convert_to_tensor(global_step)

    def evaluate():
        with tf.name_scope(name or default_name) as scope:
            return tf.identity(schedule(global_step), name=scope)

    if tf.executing_eagerly():
        return functools.partial(_call, evaluate)
    return evaluate()


def _call(function):
    return function()


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate * decay_rate ** (global_step / decay_steps)`` (floored exponent when
    ``staircase``), like ``tf.compat.v1.train.exponential_decay``."""
    return _decayed("exponential_decay", "ExponentialDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)``, like
    ``tf.compat.v1.train.natural_exp_decay``."""
    return _decayed("natural_exp_decay", "NaturalExpDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``, like
    ``tf.compat.v1.train.inverse_time_decay``."""
    return _decayed("inverse_time_decay", "InverseTimeDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[i]`` for ``boundaries[i-1] < x <= boundaries[i]``, like
    ``tf.compat.v1.train.piecewise_constant`` (the value is float32 even for integer values)."""
    return _decayed("piecewise_constant", "PiecewiseConstant", name, x, boundaries=boundaries, values=values)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                     name=None):
    """``(learning_rate - end) * (1 - step / decay_steps) ** power + end``, like
    ``tf.compat.v1.train.polynomial_decay`` (with its ``cycle`` rule)."""
    return _decayed("polynomial_decay", "PolynomialDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, end_learning_rate=end_learning_rate, power=power, cycle=cycle)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """``learning_rate * ((1 - alpha) * (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2
    + alpha)``, like ``tf.compat.v1.train.cosine_decay``."""
    return _decayed("cosine_decay", "CosineDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, alpha=alpha)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                          name=None):
    """SGDR cosine restarts, like ``tf.compat.v1.train.cosine_decay_restarts``."""
    return _decayed("cosine_decay_restarts", "SGDRDecay", name, global_step, learning_rate=learning_rate,
                    first_decay_steps=first_decay_steps, t_mul=t_mul, m_mul=m_mul, alpha=alpha)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001,
                        name=None):
    """Linear times cosine decay, like ``tf.compat.v1.train.linear_cosine_decay``."""
    return _decayed("linear_cosine_decay", "LinearCosineDecay", name, global_step, learning_rate=learning_rate,
                    decay_steps=decay_steps, num_periods=num_periods, alpha=alpha, beta=beta)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0, variance_decay=0.55,
                              num_periods=0.5, alpha=0.0, beta=0.001, name=None):
    """Linear cosine decay with Gaussian noise of variance ``initial_variance / (1 + step) **
    variance_decay``, like ``tf.compat.v1.train.noisy_linear_cosine_decay``. The noise is a
    deterministic function of the step (lrdecay's ``seed=0``), not TensorFlow's random draws."""
    return _decayed("noisy_linear_cosine_decay", "NoisyLinearCosineDecay", name, global_step,
                    learning_rate=learning_rate, decay_steps=decay_steps, initial_variance=initial_variance,
                    variance_decay=variance_decay, num_periods=num_periods, alpha=alpha, beta=beta)
