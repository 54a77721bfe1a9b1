"""A real training comparison: one small network on scikit-learn's bundled digits (8x8 images of
handwritten digits, 1797 samples, shipped with scikit-learn: no download), trained once per
learning-rate schedule with everything else fixed.

The network is written in NumPy so the comparison needs no deep-learning framework: one hidden
layer of ReLU units, a softmax output, cross-entropy loss, plain minibatch SGD. Every run starts
from the same weights and sees the same minibatches in the same order (fixed seeds): only the
learning rate differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import parse
from lrdecay.training.plateau import Plateau

__all__ = ["Data", "Run", "load_data", "comparison_specs", "train", "sgd_stepper", "loss_curve", "label_targets",
           "noise_floor", "PEAK_LR"]

PEAK_LR = 0.2
HIDDEN = 64
BATCH = 32
SEED = 0


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class Run:
    name: str
    spec: str
    lrs: np.ndarray  # the rate used for each update
    train_loss: list = field(default_factory=list)  # mean minibatch loss per epoch
    val_loss: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    reductions: int = 0

    @property
    def final_accuracy(self) -> float:
        return self.test_accuracy[-1]


def load_data() -> Data:
    """Digits scaled to [0, 1]; 60% train, 15% validation (watched by the plateau rule), 25% test,
    stratified, fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float64)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=SEED)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.2, stratify=y_rest,
                                                      random_state=SEED)
    return Data(x_train, y_train, x_val, y_val, x_test, y_test)


def comparison_specs(total_steps: int) -> dict[str, str]:
    """The schedules compared, as call syntax, for a run of ``total_steps`` updates."""
    lr, t = PEAK_LR, total_steps
    warm = max(1, t // 10)
    return {
        "constant": f"constant({lr})",
        "step": f"step_decay({lr}, step_size={t // 3}, gamma=0.2)",
        "exponential": f"exponential_decay({lr}, decay_steps={t}, decay_rate=0.02)",
        "cosine": f"cosine_decay({lr}, decay_steps={t})",
        "warm-up + cosine": f"warmup(cosine_decay({lr}, decay_steps={t - warm}), steps={warm})",
        "one-cycle": f"one_cycle({2 * lr}, total_steps={t})",
        "plateau": f"constant({lr})",  # times the factor of Plateau(factor=0.3, patience=1)
    }


def _init(rng: np.random.Generator, n_in: int, n_out: int) -> list[np.ndarray]:
    w1 = rng.normal(0.0, math.sqrt(2.0 / n_in), (n_in, HIDDEN))
    w2 = rng.normal(0.0, math.sqrt(1.0 / HIDDEN), (HIDDEN, n_out))
    return [w1, np.zeros(HIDDEN), w2, np.zeros(n_out)]


def _forward(params, x):
    w1, b1, w2, b2 = params
    h = np.maximum(x @ w1 + b1, 0.0)
    logits = h @ w2 + b2
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return h, p


def _loss(p, y) -> float:
    return float(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-300)).mean())


def _sgd_step(params, x, y, lr: float) -> float:
    w1, b1, w2, b2 = params
    h, p = _forward(params, x)
    loss = _loss(p, y)
    g = p.copy()
    g[np.arange(len(y)), y] -= 1.0
    g /= len(y)
    gw2, gb2 = h.T @ g, g.sum(axis=0)
    gh = (g @ w2.T) * (h > 0)
    gw1, gb1 = x.T @ gh, gh.sum(axis=0)
    for param, grad in zip(params, (gw1, gb1, gw2, gb2)):
        param -= lr * grad
    return loss


def _minibatches(n: int, order_rng: np.random.Generator):
    """Index arrays of the minibatches, epoch after epoch, each epoch in a fresh random order."""
    while True:
        order = order_rng.permutation(n)
        for start in range(0, n, BATCH):
            yield order[start:start + BATCH]


def sgd_stepper(data: Data, seed: int = SEED):
    """``step(lr) -> loss``: one SGD update at rate ``lr`` on the next training minibatch of a
    fresh network, the same initial weights and minibatch order as :func:`train` with ``seed``
    (the ``step_fn`` of ``lrdecay.finder.range_test``)."""
    params = _init(np.random.default_rng([seed, 0]), data.x_train.shape[1], 10)
    batches = _minibatches(len(data.x_train), np.random.default_rng([seed, 1]))

    def step(lr: float) -> float:
        batch = next(batches)
        return _sgd_step(params, data.x_train[batch], data.y_train[batch], lr)

    return step


def train(name: str, spec: str, data: Data, epochs: int, seed: int = SEED,
          plateau: Plateau | None = None) -> Run:
    """Train the network for ``epochs`` with the schedule ``spec`` (optionally times a plateau
    factor decided on the validation loss after each epoch). ``seed`` fixes the initial weights
    and the minibatch order."""
    n = len(data.x_train)
    steps_per_epoch = math.ceil(n / BATCH)
    schedule: Schedule = parse(spec)
    planned = np.asarray(schedule(np.arange(epochs * steps_per_epoch)), dtype=np.float64)
    params = _init(np.random.default_rng([seed, 0]), data.x_train.shape[1], 10)
    order_rng = np.random.default_rng([seed, 1])
    run = Run(name, spec, np.empty_like(planned))
    step = 0
    for _ in range(epochs):
        order = order_rng.permutation(n)
        losses = []
        for start in range(0, n, BATCH):
            batch = order[start:start + BATCH]
            lr = planned[step] if plateau is None else float(plateau.effective(planned[step]))
            run.lrs[step] = lr
            losses.append(_sgd_step(params, data.x_train[batch], data.y_train[batch], lr))
            step += 1
        run.train_loss.append(float(np.mean(losses)))
        run.val_loss.append(_loss(_forward(params, data.x_val)[1], data.y_val))
        run.test_accuracy.append(float((_forward(params, data.x_test)[1].argmax(axis=1) == data.y_test).mean()))
        if plateau is not None:
            plateau.update(run.val_loss[-1])
    run.reductions = plateau.num_reductions if plateau is not None else 0
    return run


def label_targets(y: np.ndarray, label_noise: float) -> np.ndarray:
    """Each image's label distribution when, with probability ``label_noise``, its label is replaced
    by one of the nine others at random: ``1 - label_noise`` on the true digit, ``label_noise / 9``
    on each other (one row per image)."""
    if not 0.0 <= label_noise < 0.9:
        raise ValueError(f"label_noise must be in [0, 0.9) (the true digit stays the likeliest), got {label_noise!r}")
    targets = np.full((len(y), 10), label_noise / 9.0)
    targets[np.arange(len(y)), y] = 1.0 - label_noise
    return targets


def noise_floor(label_noise: float) -> float:
    """The lowest expected loss with noisy labels: the entropy of :func:`label_targets`' rows (nats)."""
    p = label_targets(np.zeros(1, dtype=np.int64), label_noise)[0]
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0  # 0.0, not -0.0, without noise


def loss_curve(data: Data, lrs, steps, seed: int = SEED, label_noise: float = 0.0) -> np.ndarray:
    """Train a fresh network (the initial weights and minibatch order of :func:`train` with ``seed``)
    with the rate ``lrs[t]`` at update ``t``, and return its expected training loss right after each
    update ``t`` in ``steps`` (increasing; training stops after the last one).

    With ``label_noise``, each label drawn into a minibatch is replaced with that probability by one
    of the nine other digits at random, drawn afresh each time (from ``seed``): no network can
    memorise such labels, and the minibatch gradient stays noisy at the optimum. The expected loss
    is the cross-entropy over every training image against :func:`label_targets` (the plain
    training loss when ``label_noise`` is 0): what the minibatch losses average to, without their
    sampling noise. Its minimum is :func:`noise_floor`."""
    lrs = np.asarray(lrs, dtype=np.float64)
    steps = np.asarray(steps)
    if (steps.ndim != 1 or steps.size == 0 or steps.dtype.kind not in "iu" or steps[0] < 0
            or np.any(np.diff(steps) <= 0)):
        raise ValueError("steps must be a non-empty increasing 1-D array of update numbers >= 0")
    if lrs.ndim != 1 or lrs.size <= steps[-1]:
        raise ValueError(f"lrs must give a rate for every update up to {steps[-1]}, got shape {lrs.shape}")
    x, y = data.x_train, data.y_train
    targets = label_targets(y, label_noise)
    params = _init(np.random.default_rng([seed, 0]), x.shape[1], 10)
    batches = _minibatches(len(x), np.random.default_rng([seed, 1]))
    draws = np.random.default_rng([seed, 2])
    logged = np.zeros(steps[-1] + 1, dtype=bool)
    logged[steps] = True
    out = []
    for t in range(steps[-1] + 1):
        batch = next(batches)
        labels = y[batch]
        if label_noise:
            flip = draws.random(batch.size) < label_noise
            labels = np.where(flip, (labels + draws.integers(1, 10, batch.size)) % 10, labels)
        _sgd_step(params, x[batch], labels, float(lrs[t]))
        if logged[t]:
            p = _forward(params, x)[1]
            out.append(float(-(targets * np.log(np.maximum(p, 1e-300))).sum(axis=1).mean()))
    return np.array(out)
