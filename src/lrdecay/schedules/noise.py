"""timm's seeded learning-rate noise, with timm's own numbers.

timm (``timm.scheduler.scheduler.Scheduler._add_noise``) multiplies the learning rate at step
``t`` by ``1 + noise`` inside ``noise_range_t``, where ``noise`` is drawn from a fresh
``torch.Generator`` seeded with ``noise_seed + t``: ``torch.randn(1) * noise_std``, drawn again
until ``|noise| < noise_pct`` (``noise_type="normal"``), or ``2 * (torch.rand(1) - 0.5) *
noise_pct`` (``"uniform"``).

Torch is not needed to get the same numbers: its CPU generator is a 32-bit Mersenne Twister
(MT19937) seeded with the low 32 bits of the seed; a float64 uniform takes two words
(``((w0 << 32 | w1) & (2**53 - 1)) / 2**53``), ``randn`` is Box-Muller on two such uniforms,
``r * cos(theta)`` then, from the generator's cache, ``r * sin(theta)``
(``r = sqrt(-2 log1p(-u2))``, ``theta = 2 pi u1``), rounded to float32; ``rand`` is
``(w0 & (2**24 - 1)) / 2**24``. This module replays those steps:

* Python numbers and NumPy arrays: exactly timm's values (NumPy's legacy-seeded MT19937 is the
  same generator), however many draws the rejection loop takes;
* JAX, TensorFlow and torch tensors (jit/graph safe): the generator written with the backend's
  integer operations and Box-Muller in the step's float dtype (float32 steps: equal to float32
  round-off; float64 steps: to float64 round-off). They draw a
  fixed number of candidates per step, enough that timm needs more with probability below
  ``2**-40``, at most 112 (``noise_pct / noise_std`` below about 0.3 needs more: such steps,
  rare, get no noise on tensors).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from lrdecay.core.backends import MATH
from lrdecay.core.schedule import Schedule, register
from lrdecay.core.validate import (
    check_choice,
    check_int,
    check_nonnegative,
    check_number,
)

__all__ = ["TimmNoise", "timm_noise"]

NOISE_TYPES = ("normal", "uniform")
_MASK32 = 0xFFFFFFFF
#: candidates a traced backend draws at most: 224 words, 4 per pair, within the generator's
#: first 227 words (those need only the seeded state)
_MAX_CANDIDATES = 112
#: the least ``noise_pct / noise_std`` of normal noise: one draw in 100 lands inside ``noise_pct``
#: (timm draws until one does; a smaller ratio means thousands of draws a step, or forever)
MIN_NOISE_RATIO = 0.0125


def _check_range_t(value):
    """timm's ``noise_range_t``: a start step (noise from there on) or ``[start, end)``."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"noise_range_t must be a step or a [start, end] pair, got {value!r}")
        start = check_nonnegative("noise_range_t[0]", value[0])
        end = check_nonnegative("noise_range_t[1]", value[1])
        if not end >= start:
            raise ValueError(f"noise_range_t must have end >= start, got {value!r}")
        return (start, end)
    return check_nonnegative("noise_range_t", value)


@register
@dataclass(frozen=True, repr=False)
class TimmNoise(Schedule):
    """``schedule(t) + schedule(t) * noise(t)`` inside ``noise_range_t`` (``start <= t < end`` for
    a pair, ``t >= start`` for a single step), ``schedule(t)`` elsewhere; ``noise(t)`` is drawn
    from torch's generator seeded with ``noise_seed + floor(t)`` (see the module docstring).

    Same as the noise of timm's schedulers (``noise_range_t``, ``noise_type``, ``noise_pct``,
    ``noise_std``, ``noise_seed``; timm's default seed is 42), e.g.
    ``timm_noise(timm_cosine(...), noise_range_t=[10, 90])`` is ``CosineLRScheduler(...,
    noise_range_t=(10, 90))``."""

    kind = "timm_noise"
    matches = "timm noise_range_t/noise_pct/noise_std/noise_type/noise_seed"

    schedule: Schedule
    noise_range_t: object
    noise_type: str = "normal"
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42

    def __post_init__(self):
        if not isinstance(self.schedule, Schedule):
            raise TypeError(f"schedule must be a schedule, got {type(self.schedule).__name__} {self.schedule!r}")
        object.__setattr__(self, "noise_range_t", _check_range_t(self.noise_range_t))
        check_choice("noise_type", self.noise_type, NOISE_TYPES)
        check_nonnegative("noise_std", self.noise_std)
        if self.noise_type == "normal":
            pct = check_number("noise_pct", self.noise_pct)
            if not pct > 0:  # timm would draw forever
                raise ValueError(f"noise_pct must be > 0 for normal noise, got {pct!r}")
            if pct < MIN_NOISE_RATIO * self.noise_std:
                raise ValueError(
                    f"noise_pct must be >= {MIN_NOISE_RATIO} * noise_std for normal noise (timm draws until "
                    f"|noise| < noise_pct: about 100 draws a step at that ratio, more below it), got "
                    f"noise_pct={pct!r} and noise_std={self.noise_std!r}"
                )
        else:
            check_nonnegative("noise_pct", self.noise_pct)
        check_int("noise_seed", self.noise_seed)

    @property
    def _range(self):
        if isinstance(self.noise_range_t, tuple):
            return self.noise_range_t
        return self.noise_range_t, math.inf

    def noise(self, step) -> float:
        """timm's ``_calculate_noise(step)`` (whether or not ``step`` is in the noise range)."""
        return _host_noise(self, math.floor(check_nonnegative("step", step)))

    def _eval(self, t, xp):
        value = self.schedule._eval(t, xp)
        start, end = self._range
        if xp is MATH:
            if start <= t < end:
                return value + value * _host_noise(self, math.floor(t))
            return value
        if xp.name == "numpy":
            return _numpy_noisy(self, value, t, start, end)
        in_range = (t >= float(start)) & (t < float(end)) if end < math.inf else t >= float(start)
        noisy = value + value * _traced_noise(self, t, xp)
        return xp.where(in_range, noisy, value)

    @property
    def duration(self):
        start, end = self._range
        inner = self.schedule.duration
        if end == math.inf or inner is None:
            return None
        return max(inner, end) if end > start else inner

    def _candidates(self) -> int:
        """How many normal candidates a traced backend draws: timm needs more with probability
        below ``2**-40``."""
        if self.noise_std == 0:
            return 2
        accept = math.erf(self.noise_pct / self.noise_std / math.sqrt(2.0))
        if accept >= 1.0:
            return 2
        needed = math.ceil(40 * math.log(2.0) / -math.log1p(-accept))
        return min(_MAX_CANDIDATES, needed + needed % 2)


timm_noise = TimmNoise


# -- exact draws on the host ---------------------------------------------------------------


def _float32(x: float) -> float:
    return float(_np().float32(x))


def _uniform53(hi, lo):
    return ((int(hi) << 32 | int(lo)) & ((1 << 53) - 1)) * 2.0**-53


_GENERATORS = threading.local()  # one reseeded generator per thread (seeding is the cost)


def _host_noise(noise: TimmNoise, n: int) -> float:
    """timm's ``_calculate_noise(n)``: NumPy's legacy-seeded MT19937 is torch's CPU generator."""
    np = _np()
    words = getattr(_GENERATORS, "state", None)
    if words is None:
        words = _GENERATORS.state = np.random.RandomState(0)
    words.seed((noise.noise_seed + n) & _MASK32)

    def draw(count):
        return words.randint(0, 2**32, size=count, dtype=np.uint64).tolist()

    if noise.noise_type == "uniform":
        (w,) = draw(1)
        return 2 * ((w & 0xFFFFFF) * 2.0**-24 - 0.5) * noise.noise_pct
    while True:
        w0, w1, w2, w3 = draw(4)
        u1, u2 = _uniform53(w0, w1), _uniform53(w2, w3)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        for normal in (r * math.cos(theta), r * math.sin(theta)):
            value = _float32(normal) * noise.noise_std
            if abs(value) < noise.noise_pct:
                return value


def _numpy_noisy(noise: TimmNoise, value, t, start, end):
    np = _np()
    value = np.broadcast_to(np.asarray(value, dtype=np.float64), t.shape).copy()
    active = (t >= start) & (t < end)
    if not active.any():
        return value
    steps = np.floor(t[active])
    # a few candidates vectorized; the rare steps that need more are replayed exactly
    draws, accepted = _generated_noise(noise, steps, _NumpyWords(), min(noise._candidates(), 8))
    if not accepted.all():
        draws[~accepted] = [_host_noise(noise, int(n)) for n in steps[~accepted]]
    value[active] = value[active] + value[active] * draws
    return value


def _np():
    import numpy as np  # imported on use, like every framework

    return np


# -- the generator on any backend ----------------------------------------------------------


class _NumpyWords:
    """NumPy's integer primitives on uint64 arrays holding 32-bit words."""

    name = "numpy"

    def __init__(self):
        self.np = _np()

    def uint(self, x):
        return self.np.asarray(x).astype(self.np.uint64)

    def band(self, a, mask):
        return a & self.np.uint64(mask)

    def add(self, a, b):
        return (a + self.np.uint64(b) if isinstance(b, int) else a + b) & self.np.uint64(_MASK32)

    def mul(self, a, c):
        return (a * self.np.uint64(c)) & self.np.uint64(_MASK32)

    def xor(self, a, b):
        return a ^ (self.np.uint64(b) if isinstance(b, int) else b)

    def shr(self, a, k):
        return a >> self.np.uint64(k)

    def to_float(self, i, like):
        return i.astype(self.np.float64)

    def seeded_state(self, seed, count):
        return self.np.stack(_seeded_state_list(self, seed, count))

    def float32(self, x):
        return x.astype(self.np.float32).astype(self.np.float64)

    def math(self):
        np = self.np
        return np.floor, np.log1p, np.cos, np.sin, np.sqrt, np.abs, np.where


class _BackendWords:
    """The same primitives on a traced backend (its own integer dtype, see backends.py)."""

    def __init__(self, xp):
        self.xp, self.name = xp, xp.name

    def uint(self, x):
        return self.xp._uint(x)

    def band(self, a, mask):
        if self.name == "jax":
            return a & self.xp.jnp.uint32(mask)
        return self.xp._iand(a, mask)

    def add(self, a, b):
        if self.name == "jax":  # uint32 wraps
            return a + (self.xp.jnp.uint32(b) if isinstance(b, int) else b)
        return self.xp._iand(a + b, _MASK32)

    def mul(self, a, c):
        return self.xp._imul(a, c)

    def xor(self, a, b):
        return self.xp._ixor(a, b)

    def shr(self, a, k):
        return self.xp._ishr(a, k)

    def to_float(self, i, like):
        return self.xp._ufloat(i, like)

    def seeded_state(self, seed, count):
        """``init_genrand``'s first ``count`` state words, stacked; a scan under JAX and
        TensorFlow (one traced loop, not ``count`` unrolled steps)."""
        xp = self.xp
        if self.name == "jax":
            jnp, lax = xp.jnp, xp.jax.lax

            def body(previous, j):
                word = self.add(self.mul(self.xor(previous, self.shr(previous, 30)), 1812433253), j)
                return word, word

            _, rest = lax.scan(body, seed, jnp.arange(1, count, dtype=jnp.uint32))
            return jnp.concatenate([seed[None], rest])
        if self.name == "tensorflow":
            tf = xp.tf

            def step(previous, j):
                return self.add(self.mul(self.xor(previous, self.shr(previous, 30)), 1812433253), j)

            rest = tf.scan(step, tf.range(1, count, dtype=tf.int64), initializer=seed)
            return tf.concat([seed[None], rest], 0)
        return xp.torch.stack(_seeded_state_list(self, seed, count))

    def float32(self, x):
        """Round to float32 (torch's ``randn`` output dtype), keeping ``x``'s dtype."""
        xp = self.xp
        if self.name == "jax":
            return x.astype(xp.jnp.float32).astype(x.dtype)
        if self.name == "tensorflow":
            return xp.tf.cast(xp.tf.cast(x, xp.tf.float32), x.dtype)
        return x.to(xp.torch.float32).to(x.dtype)

    def math(self):
        xp = self.xp
        return xp.floor, xp.log1p, xp.cos, xp.sin, xp.sqrt, xp.abs, xp.where


def _seeded_state_list(ops, seed, count):
    """MT19937's ``init_genrand``: ``s[j] = 1812433253 * (s[j-1] ^ (s[j-1] >> 30)) + j``."""
    state = [seed]
    for j in range(1, count):
        previous = state[-1]
        state.append(ops.add(ops.mul(ops.xor(previous, ops.shr(previous, 30)), 1812433253), j))
    return state


def _seed_words(ops, n, seed):
    """The low 32 bits of ``seed + n`` for whole ``n`` (split in 16-bit limbs: exact in float)."""
    floor = ops.math()[0]
    n1 = floor(n / 65536.0)
    n2 = floor(n1 / 65536.0)
    low = ops.uint(n - n1 * 65536.0)
    high = ops.uint(n1 - n2 * 65536.0)
    return ops.add(ops.add(low, ops.mul(high, 65536)), seed & _MASK32)


def _mt19937_words(ops, seed, count):
    """The first ``count`` (<= 227) outputs of MT19937 seeded with ``seed`` (``init_genrand``),
    stacked on a new leading axis. Word ``i`` of the first twist needs only the seeded state at
    ``i``, ``i + 1`` and ``i + 397``."""
    state = ops.seeded_state(seed, count + 397)
    y = ops.add(ops.band(state[:count], 0x80000000), ops.band(state[1:count + 1], 0x7FFFFFFF))
    words = ops.xor(ops.xor(state[397:397 + count], ops.shr(y, 1)), ops.mul(ops.band(y, 1), 0x9908B0DF))
    return _temper(ops, words)


def _temper(ops, y):
    y = ops.xor(y, ops.shr(y, 11))
    y = ops.xor(y, ops.band(ops.mul(y, 1 << 7), 0x9D2C5680))
    y = ops.xor(y, ops.band(ops.mul(y, 1 << 15), 0xEFC60000))
    return ops.xor(y, ops.shr(y, 18))


def _uniform53_words(ops, hi, lo, like):
    """``((hi << 32 | lo) & (2**53 - 1)) / 2**53`` from float conversions of < 2**24 integers."""
    top = ops.to_float(ops.band(hi, 0x1FFFFF), like) * 2.0**-21
    middle = ops.to_float(ops.shr(lo, 16), like) * 2.0**-37
    bottom = ops.to_float(ops.band(lo, 0xFFFF), like) * 2.0**-53
    return top + middle + bottom


def _generated_noise(noise: TimmNoise, n, ops, candidates):
    """timm's noise for whole steps ``n`` drawing at most ``candidates`` normals; returns the
    noise and whether a candidate was accepted (always, for uniform noise)."""
    _, log1p, cos, sin, sqrt, absolute, where = ops.math()
    seed = _seed_words(ops, n, noise.noise_seed)
    if noise.noise_type == "uniform":
        w = _mt19937_words(ops, seed, 1)[0]
        u = ops.to_float(ops.band(w, 0xFFFFFF), n) * 2.0**-24
        return 2.0 * (u - 0.5) * noise.noise_pct, n >= 0
    words = _mt19937_words(ops, seed, 2 * candidates)  # 4 words per Box-Muller pair
    u1 = _uniform53_words(ops, words[0::4], words[1::4], n)
    u2 = _uniform53_words(ops, words[2::4], words[3::4], n)
    r = sqrt(-2.0 * log1p(-u2))
    theta = (2.0 * math.pi) * u1
    normals = (ops.float32(r * cos(theta)) * noise.noise_std, ops.float32(r * sin(theta)) * noise.noise_std)
    result, accepted = n * 0.0, n < 0
    for pair in reversed(range(candidates // 2)):  # the first accepted candidate wins
        for value in (normals[1][pair], normals[0][pair]):
            ok = absolute(value) < noise.noise_pct
            result = where(ok, value, result)
            accepted = accepted | ok
    return result, accepted


def _traced_noise(noise: TimmNoise, t, xp):
    draws, _ = _generated_noise(noise, xp.floor(t), _BackendWords(xp), noise._candidates())
    return draws
