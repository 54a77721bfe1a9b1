"""Bad constructor arguments of the TensorFlow decay and cosine families: each raises at
construction, with the right error type and a message that names the parameter."""

import math

import pytest

from lrdecay import (
    cosine_decay,
    cosine_decay_restarts,
    exponential_decay,
    inverse_time_decay,
    linear_cosine_decay,
    natural_exp_decay,
    noisy_linear_cosine_decay,
    piecewise_constant,
    polynomial_decay,
)

STEP_DECAYS = [exponential_decay, natural_exp_decay, inverse_time_decay]

CASES = [
    # (constructor, kwargs, error type, parameter named in the message)
    *[
        case
        for make in STEP_DECAYS
        for case in [
            (make, dict(learning_rate=0.1, decay_steps=0, decay_rate=0.5), ValueError, "decay_steps"),
            (make, dict(learning_rate=0.1, decay_steps=-5, decay_rate=0.5), ValueError, "decay_steps"),
            (make, dict(learning_rate=0.1, decay_steps=math.inf, decay_rate=0.5), ValueError, "decay_steps"),
            (make, dict(learning_rate=0.1, decay_steps=math.nan, decay_rate=0.5), ValueError, "decay_steps"),
            (make, dict(learning_rate=0.1, decay_steps="10", decay_rate=0.5), TypeError, "decay_steps"),
            (make, dict(learning_rate=0.1, decay_steps=True, decay_rate=0.5), TypeError, "decay_steps"),
            (make, dict(learning_rate=math.nan, decay_steps=10, decay_rate=0.5), ValueError, "learning_rate"),
            (make, dict(learning_rate=None, decay_steps=10, decay_rate=0.5), TypeError, "learning_rate"),
            (make, dict(learning_rate=0.1, decay_steps=10, decay_rate=-0.5), ValueError, "decay_rate"),
            (make, dict(learning_rate=0.1, decay_steps=10, decay_rate=math.inf), ValueError, "decay_rate"),
            (make, dict(learning_rate=0.1, decay_steps=10, decay_rate=[0.5]), TypeError, "decay_rate"),
            (make, dict(learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=1), TypeError, "staircase"),
            (make, dict(learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase="yes"), TypeError, "staircase"),
        ]
    ],
    (exponential_decay, dict(learning_rate=0.1, decay_steps=10, decay_rate=0), ValueError, "decay_rate"),
    (exponential_decay, dict(learning_rate=0.1, decay_steps=10, decay_rate=1.5), ValueError, "decay_rate"),
    (piecewise_constant, dict(boundaries=[10, 5], values=[1.0, 0.5, 0.1]), ValueError, "boundaries"),
    (piecewise_constant, dict(boundaries=[10, 10], values=[1.0, 0.5, 0.1]), ValueError, "boundaries"),
    (piecewise_constant, dict(boundaries=[10, 20], values=[1.0, 0.5]), ValueError, "values"),
    (piecewise_constant, dict(boundaries=[10], values=[1.0, 0.5, 0.1]), ValueError, "values"),
    (piecewise_constant, dict(boundaries=[], values=[1.0]), ValueError, "boundaries"),
    (piecewise_constant, dict(boundaries=10, values=[1.0, 0.5]), TypeError, "boundaries"),
    (piecewise_constant, dict(boundaries="10", values=[1.0, 0.5]), TypeError, "boundaries"),
    (piecewise_constant, dict(boundaries=[10], values=[1.0, "0.5"]), TypeError, "values[1]"),
    (piecewise_constant, dict(boundaries=[10], values=[1.0, math.inf]), ValueError, "values[1]"),
    (piecewise_constant, dict(boundaries=[math.nan], values=[1.0, 0.5]), ValueError, "boundaries[0]"),
    (piecewise_constant, dict(boundaries=[True], values=[1.0, 0.5]), TypeError, "boundaries[0]"),
    (polynomial_decay, dict(learning_rate=0.1, decay_steps=0), ValueError, "decay_steps"),
    (polynomial_decay, dict(learning_rate=0.1, decay_steps=10, end_learning_rate=math.nan), ValueError, "end_learning_rate"),
    (polynomial_decay, dict(learning_rate=0.1, decay_steps=10, power=-1.0), ValueError, "power"),
    (polynomial_decay, dict(learning_rate=0.1, decay_steps=10, power="2"), TypeError, "power"),
    (polynomial_decay, dict(learning_rate=0.1, decay_steps=10, cycle=None), TypeError, "cycle"),
    (polynomial_decay, dict(learning_rate=math.inf, decay_steps=10), ValueError, "learning_rate"),
    (cosine_decay, dict(learning_rate=0.1, decay_steps=0), ValueError, "decay_steps"),
    (cosine_decay, dict(learning_rate=0.1, decay_steps=10, alpha=math.nan), ValueError, "alpha"),
    (cosine_decay, dict(learning_rate=0.1, decay_steps=10, alpha=False), TypeError, "alpha"),
    (cosine_decay, dict(learning_rate="0.1", decay_steps=10), TypeError, "learning_rate"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=0), ValueError, "first_decay_steps"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, t_mul=0.5), ValueError, "t_mul"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, t_mul=1 - 1e-9), ValueError, "t_mul"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, t_mul=math.inf), ValueError, "t_mul"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, t_mul=1.0, m_mul=1.5), ValueError, "m_mul"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, t_mul=1.0, m_mul=-1.5), ValueError, "m_mul"),
    (cosine_decay_restarts, dict(learning_rate=0.1, first_decay_steps=10, alpha=math.inf), ValueError, "alpha"),
    (linear_cosine_decay, dict(learning_rate=0.1, decay_steps=-1), ValueError, "decay_steps"),
    (linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, num_periods=-0.5), ValueError, "num_periods"),
    (linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, beta=math.nan), ValueError, "beta"),
    (linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, alpha=None), TypeError, "alpha"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, initial_variance=-1.0), ValueError, "initial_variance"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, variance_decay=-0.1), ValueError, "variance_decay"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, seed=-1), ValueError, "seed"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, seed=1.5), ValueError, "seed"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, seed=2**32), ValueError, "seed"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, seed="0"), TypeError, "seed"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=0), ValueError, "decay_steps"),
    (noisy_linear_cosine_decay, dict(learning_rate=0.1, decay_steps=10, num_periods=math.inf), ValueError, "num_periods"),
]


@pytest.mark.parametrize(
    "make, kwargs, error, parameter",
    CASES,
    ids=[f"{c[0].kind}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_bad_argument_is_rejected_at_construction(make, kwargs, error, parameter):
    with pytest.raises(error) as raised:
        make(**kwargs)
    message = str(raised.value)
    assert type(raised.value) is error
    assert message.startswith(parameter) or f" {parameter} " in message, message
    assert "must" in message  # states the rule


def test_good_edge_values_are_accepted():
    # The boundaries of each rule are themselves valid.
    natural_exp_decay(0.1, 10, 0.0)
    inverse_time_decay(0.1, 10, 0.0)
    polynomial_decay(0.1, 10, power=0.0)
    cosine_decay_restarts(0.1, 10, t_mul=1.0, m_mul=0.0)
    cosine_decay_restarts(0.1, 10, t_mul=1 + 2**-20, m_mul=1.0)
    cosine_decay_restarts(0.1, 10, t_mul=1 + 1e-9, m_mul=-0.5)  # Keras accepts both (issue 17)
    cosine_decay_restarts(0.1, 10, t_mul=2.0, m_mul=4.0)
    noisy_linear_cosine_decay(0.1, 10, initial_variance=0.0, seed=2**32 - 1)
    linear_cosine_decay(0.1, 10, num_periods=0.0)
    assert piecewise_constant((1, 2.5), (3, 2, 1)).values == (3.0, 2.0, 1.0)
