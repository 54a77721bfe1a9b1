"""The toy training of the blog posts on TensorFlow's learning-rate decay: minimise
``loss = (w + 1) ** 2`` from ``w = 5`` by gradient descent (the gradient is ``2 (w + 1)``, the
optimum ``w = -1``), with different learning rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdecay.core.spec import parse

__all__ = ["RUNS", "ToyRun", "descend", "W0", "STEPS"]

W0 = 5.0
STEPS = 40

#: label -> call syntax. The blog posts' constant 0.2, a rate too large (each update overshoots by
#: more than it corrects: |1 - 2 lr| > 1, it oscillates and diverges), one too small (it crawls),
#: and their exponential decay (0.1, 0.99, decayed every step, staircase).
RUNS = {
    "constant 0.2 (the blog posts' rate)": "constant(0.2)",
    "too large: constant 1.05": "constant(1.05)",
    "too small: constant 0.005": "constant(0.005)",
    "exponential decay 0.1 * 0.99^step": "exponential_decay(0.1, decay_steps=1, decay_rate=0.99, staircase=True)",
}


@dataclass
class ToyRun:
    label: str
    spec: str
    lr: np.ndarray  # rate used by update i (TensorFlow's global_step = i when it runs)
    w: np.ndarray  # w after update i
    loss: np.ndarray  # loss after update i


def descend(label: str, spec: str, steps: int = STEPS, w0: float = W0) -> ToyRun:
    schedule = parse(spec)
    lr = np.asarray(schedule(np.arange(steps)), dtype=np.float64)
    w = np.empty(steps)
    value = w0
    for i in range(steps):
        value = value - lr[i] * 2.0 * (value + 1.0)
        w[i] = value
    return ToyRun(label, spec, lr, w, (w + 1.0) ** 2)
