from lrdecay import (
    constant,
    exponential,
    linear,
    multistep_decay,
    piecewise_interpolate,
    piecewise_linear,
    polynomial,
    step_decay,
)

EXAMPLES = [
    constant(0.1),
    linear(0.0, 0.1, 10),
    linear(0.1, 0.001, 7.5),
    step_decay(0.1, 30),
    step_decay(0.5, 3, gamma=0.5),
    multistep_decay(0.1, [30, 80]),
    multistep_decay(0.1, [5, 5, 2], gamma=0.5),
    multistep_decay(1, [2, 4], gamma=0),
    exponential(1, 1),
    exponential(0.1, 0.95),
    polynomial(0.1),
    polynomial(0.1, total_iters=50, power=2.0),
    piecewise_interpolate("linear", 0.1, [10, 20], [10.0, 0.01]),
    piecewise_interpolate("cosine", 1.0, [0, 5, 50], [0.5, 2.0, 0.1]),
    piecewise_linear([0, 100, 300], [1.0, 0.2, 0.0]),
    piecewise_linear([10, 100, 1000], [0.1, 0.05, 1e-4], interpolate_type="cosine"),
]
