"""TensorFlow's learning-rate decay functions drawn as the blog posts on learning-rate decay
(退化学习率) that the demo reproduces draw them, rebuilt from the real schedules. Each figure
lists its curves as call syntax, so the report can print the exact spec next to the picture.
Captions name curves by their legend labels, never by colour."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DecayFigure", "FIGURES"]


@dataclass(frozen=True)
class DecayFigure:
    slug: str
    title: str
    caption: str
    steps: int
    curves: tuple[tuple[str, str], ...]  # (label, call syntax)
    log: bool = False


FIGURES = (
    DecayFigure(
        "exponential", "Exponential decay: staircase vs continuous",
        "tf.train.exponential_decay: lr * decay_rate ^ (step / decay_steps). With staircase=True the "
        "exponent is floored, so the rate is held for decay_steps steps (the staircase=True curve); "
        "without it the decay is continuous (staircase=False).",
        100,
        (("staircase=True", "exponential_decay(0.1, decay_steps=10, decay_rate=0.8, staircase=True)"),
         ("staircase=False", "exponential_decay(0.1, decay_steps=10, decay_rate=0.8)")),
    ),
    DecayFigure(
        "natural_exp", "Natural-exponential vs exponential decay",
        "tf.train.natural_exp_decay: lr * exp(-decay_rate * step / decay_steps). The blog posts' formula "
        "omits the division by decay_steps; TensorFlow divides, and so does lrdecay. With the same "
        "parameters the natural-exponential curves (lower left) fall much faster than the exponential "
        "ones (upper right).",
        100,
        (("natural_exp staircase", "natural_exp_decay(0.1, decay_steps=10, decay_rate=0.8, staircase=True)"),
         ("natural_exp", "natural_exp_decay(0.1, decay_steps=10, decay_rate=0.8)"),
         ("exponential staircase", "exponential_decay(0.1, decay_steps=10, decay_rate=0.8, staircase=True)"),
         ("exponential", "exponential_decay(0.1, decay_steps=10, decay_rate=0.8)")),
    ),
    DecayFigure(
        "inverse_time", "Inverse-time decay: staircase vs continuous",
        "tf.train.inverse_time_decay: lr / (1 + decay_rate * step / decay_steps), the ratio floored "
        "with staircase=True. It has no floor: the more steps, the smaller the rate.",
        100,
        (("staircase=True", "inverse_time_decay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)"),
         ("staircase=False", "inverse_time_decay(0.1, decay_steps=10, decay_rate=0.5)")),
    ),
    DecayFigure(
        "piecewise_constant", "Piecewise-constant decay",
        "tf.train.piecewise_constant(boundaries, values): one value per interval, len(values) = "
        "len(boundaries) + 1; a boundary step still belongs to the interval on its left.",
        40,
        (("boundaries=[10, 20, 30]", "piecewise_constant(boundaries=[10, 20, 30], values=[0.1, 0.07, 0.025, 0.0125])"),),
    ),
    DecayFigure(
        "polynomial", "Polynomial decay: power < 1, = 1, > 1",
        "tf.train.polynomial_decay: (lr - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end. "
        "power = 1 is the straight line, power < 1 stays high longer (the 1/power root), power > 1 "
        "drops early; after decay_steps the rate stays at end_learning_rate.",
        150,
        (("power=0.5", "polynomial_decay(0.1, decay_steps=100, end_learning_rate=0.01, power=0.5)"),
         ("power=1", "polynomial_decay(0.1, decay_steps=100, end_learning_rate=0.01, power=1.0)"),
         ("power=2", "polynomial_decay(0.1, decay_steps=100, end_learning_rate=0.01, power=2.0)")),
    ),
    DecayFigure(
        "polynomial_cycle", "Polynomial decay with and without cycle",
        "With cycle=True, decay_steps is stretched to the next multiple of decay_steps past the step "
        "(decay_steps * ceil(step / decay_steps)), so the rate jumps back up and decays again, "
        "each time more slowly; with cycle=False it stays at the end value.",
        200,
        (("cycle=False", "polynomial_decay(0.1, decay_steps=40, end_learning_rate=0.01, power=1.0)"),
         ("cycle=True", "polynomial_decay(0.1, decay_steps=40, end_learning_rate=0.01, power=1.0, cycle=True)"),
         ("cycle=True, power=0.5", "polynomial_decay(0.1, decay_steps=40, end_learning_rate=0.01, power=0.5, cycle=True)"),
         ("cycle=True, power=2", "polynomial_decay(0.1, decay_steps=40, end_learning_rate=0.01, power=2.0, cycle=True)")),
    ),
    DecayFigure(
        "cosine_restarts", "Cosine decay with restarts",
        "tf.train.cosine_decay_restarts (SGDR): a cosine from lr down to alpha * lr over "
        "first_decay_steps, then a restart; each period is t_mul times longer and each peak m_mul "
        "times lower. The restarts let training leave a poor local minimum.",
        310,
        (("t_mul=2, m_mul=1", "cosine_decay_restarts(0.1, first_decay_steps=20, t_mul=2.0, m_mul=1.0)"),
         ("t_mul=1, m_mul=0.8", "cosine_decay_restarts(0.1, first_decay_steps=50, t_mul=1.0, m_mul=0.8, alpha=0.1)"),
         ("cosine_decay (no restart)", "cosine_decay(0.1, decay_steps=300)")),
    ),
    DecayFigure(
        "burnin", "Burn-in, then exponential decay",
        "exponential_decay_with_burnin, as the blog posts describe it: a short ramp (burn-in) "
        "before the exponential decay takes over. Shown with the values of their example (lr 0.01, decay_steps 1000, "
        "decay_rate 0.96, 500 burn-in steps) and with darknet's burn-in ramp (lr * (step / "
        "burn_in) ^ 4) in front of the same decay: the two curves coincide (the dashed one lies on "
        "the solid one), since exponential_decay_with_burnin is that warm-up. The decay restarts "
        "its clock at the end of the burn-in, so it stays above the curve without burn-in.",
        3000,
        (("exponential_decay_with_burnin", "exponential_decay_with_burnin(0.01, decay_steps=1000, decay_rate=0.96, burnin_steps=500)"),
         ("warmup(shape='burnin')", "warmup(exponential_decay(0.01, decay_steps=1000, decay_rate=0.96), steps=500, shape='burnin')"),
         ("no burn-in", "exponential_decay(0.01, decay_steps=1000, decay_rate=0.96)")),
    ),
)
