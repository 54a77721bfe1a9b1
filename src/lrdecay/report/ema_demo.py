"""The blog posts' moving-average example (滑动平均, TensorFlow 1): ``tf.train.ExponentialMovingAverage(0.99,
global_step)`` shadowing one weight ``w1``, reproduced with ``lrdecay.ema``."""

from __future__ import annotations

import numpy as np

from lrdecay.training.ema import ExponentialMovingAverage

__all__ = ["DECAY", "SHADOWS", "tensorflow_example", "follow", "oscillating_weight"]

DECAY = 0.99
#: The moving averages the report draws: (decay, num_updates = step?). Decay 0.9 follows
#: quickly; 0.99 alone lags far behind at the start; 0.99 with num_updates follows quickly at the
#: start and smooths later. (0.9 with num_updates is left out: up to step 80 it is the same curve
#: as 0.99 with num_updates, since min(decay, (1 + step) / (10 + step)) is then the ratio.)
SHADOWS = ((0.9, False), (0.99, False), (0.99, True))


def tensorflow_example(repeats: int = 6) -> list[tuple[str, int, float, float, float]]:
    """The blog posts' sequence: w1 = 0 at global step 0; then w1 = 1 and an update; then global step
    100, w1 = 10 and ``repeats`` more updates. Rows: (what happened, global step, decay used,
    w1, shadow of w1), in float32 like TensorFlow."""
    params = {"w1": np.array(0.0, dtype=np.float32)}
    ema = ExponentialMovingAverage(DECAY)
    ema.register(params)
    rows = [("start", 0, float("nan"), 0.0, float(ema.average("w1")))]

    def update(what: str, step: int):
        decay = ema.decay_at(step)
        ema.update(params, num_updates=step)
        rows.append((what, step, decay, float(params["w1"]), float(ema.average("w1"))))

    params["w1"] = np.array(1.0, dtype=np.float32)
    update("w1 = 1, update", 0)
    params["w1"] = np.array(10.0, dtype=np.float32)
    update("global step 100, w1 = 10, update", 100)
    for _ in range(repeats):
        update("update again", 100)
    return rows


def follow(weights: np.ndarray, decay: float, with_num_updates: bool) -> np.ndarray:
    """The shadow of a weight trajectory, updated once per step (``num_updates`` = the step when
    ``with_num_updates``)."""
    params = {"w": np.array(weights[0])}
    ema = ExponentialMovingAverage(decay)
    ema.register(params)
    shadow = np.empty(len(weights))
    for step, w in enumerate(weights):
        params["w"] = np.array(w)
        ema.update(params, num_updates=step if with_num_updates else None)
        shadow[step] = float(ema.average("w"))
    return shadow


def oscillating_weight(steps: int = 80, lr: float = 0.95) -> np.ndarray:
    """``w`` along gradient descent on ``(w + 1) ** 2`` from ``w = 5`` with a rate so large that
    it overshoots every time (``|1 - 2 lr| = 0.9``): a weight that oscillates towards -1."""
    from lrdecay.report.toy import descend

    return descend("oscillating", f"constant({lr})", steps=steps).w
