"""The math namespaces (``xp``) that schedule formulas are written against, and the dispatch on
the step's type.

A formula uses only the operations of :class:`Backend` (``floor``, ``exp``, ``pow``, ``where``,
...), so the same code runs on

========================  ===========================  =========================================
step                      backend                      result
========================  ===========================  =========================================
``int``, ``float``        ``math``                     Python ``float``
NumPy array or scalar     NumPy, float64               float64 array of the step's shape
JAX array or tracer       ``jax.numpy``                step's float dtype, else float32 (jit-safe)
``tf.Tensor``/``Variable``  ``tf.math``                float32 like TensorFlow (graph-safe)
torch tensor              torch                        step's float dtype, else torch's default
========================  ===========================  =========================================

A framework is imported only when a step of its type shows up (the einops pattern: a backend
is created only if its framework is already in ``sys.modules``).
"""

from __future__ import annotations

import bisect
import math
import sys
import threading
from collections.abc import Callable
from typing import Any, cast

__all__ = ["Backend", "MathBackend", "NumpyBackend", "get_backend"]


class Backend:
    """Operations shared by every backend, with NumPy-style names.

    ``prepare(step)`` converts and checks a step; ``finalize(value, t)`` gives the value the
    step's type and shape. Formulas must keep both sides of ``where`` finite and free of
    exceptions (the ``math`` backend evaluates both)."""

    name = "abstract"
    framework: str | None = None
    pi = math.pi
    # the math functions each backend binds (its framework's): declared for type checkers
    floor: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    log: Callable[[Any], Any]
    cos: Callable[[Any], Any]
    pow: Callable[[Any, Any], Any]

    def is_step(self, step) -> bool:  # pragma: no cover - overridden
        return False

    def prepare(self, step):  # pragma: no cover - overridden
        raise NotImplementedError

    def finalize(self, value, t):
        return value

    def ipow(self, base, exponent):
        """``base ** exponent`` where ``exponent`` holds whole numbers (a staircase)."""
        return self.pow(base, exponent)

    def const(self, value, like):
        """``value`` as a constant of ``like``'s dtype. TensorFlow casts every parameter to the
        learning rate's dtype before combining them; formulas that combine parameters (``1 - alpha``,
        ``exp(-decay_rate)``) use this to round like TensorFlow does in float32."""
        return value

    #: Formulas that reproduce a TensorFlow function keep TensorFlow's own order of operations
    #: on this backend (the TensorFlow backend: its float32 results are TensorFlow's, bit for bit);
    #: elsewhere they use forms without cancellation (e.g. :meth:`half_cosine`).
    tensorflow_order = False

    def half_cosine(self, done, length, *, rising=False, fraction=None):
        """The cosine anneal ``(1 + cos(pi * done / length)) / 2``: 1 at ``done = 0``, 0 at
        ``done = length``, periodic with period ``2 * length`` (``rising``: its complement
        ``(1 - cos(pi * done / length)) / 2``, from 0 up to 1). ``done`` is a number or array of
        this backend, ``length > 0``.

        ``1 + cos(x)`` cancels near a zero of the curve: in the last steps of a cycle it keeps
        only the absolute accuracy of ``cos``. Here the distances from ``done`` to the nearest
        zero and to the nearest one are found with an exact ``fmod``, and the value is
        ``sin(pi / 2 * zero / length) ** 2`` within ``length / 2`` of a zero, else
        ``(1 + sin(pi / 2 * (length - 2 * one) / length)) / 2`` (``= (1 + cos(pi * one / length)) / 2``,
        exactly 1/2 at mid-cycle): within a few ulps relative everywhere, troughs included,
        whenever ``done`` and ``length`` are exact (whole steps and periods).

        ``fraction`` is ``done / length`` as TensorFlow computes it, given by the formulas that
        reproduce TensorFlow where that differs from ``done / length``: the TensorFlow backend
        evaluates TensorFlow's own ``0.5 * (1 + cos(pi * fraction))``."""
        period = 2.0 * length
        y = self.fmod(self.abs(done), period)
        even = self.minimum(y, period - y)  # distance to the nearest even multiple of length
        odd = self.abs(length - y)  # ... and to the nearest odd one
        zero, one = (even, odd) if rising else (odd, even)
        near_zero = zero < 0.5 * length
        s = self.sin(_HALF_PI * (self.where(near_zero, zero, length - 2.0 * one) / length))
        return self.where(near_zero, s * s, 0.5 + 0.5 * s)

    def one_minus_pow(self, x, one_minus_x, exponent):
        """``1 - x ** exponent`` for ``0 <= x <= 1``, given ``x`` and ``1 - x`` (each accurate; e.g.
        the two sides of :meth:`half_cosine`) and a Python number ``exponent >= 0``, without the
        cancellation of ``1 - pow(x, exponent)`` near ``x = 1``: ``-expm1(exponent * log(x))``,
        the logarithm taken as ``log1p(-(1 - x))`` where ``x > 1/2``."""
        log_x = self.where(
            x > 0.5, self.log1p(-self.minimum(one_minus_x, 0.5)), self.log(self.maximum(x, _TINY))
        )
        return self.where(x > 0.0, -self.expm1(exponent * log_x), 1.0 if exponent > 0 else 0.0)

    def piecewise(self, parts, boundaries, t):
        """``parts[i](t - boundaries[i-1], xp)`` on ``[boundaries[i-1], boundaries[i])`` (part 0
        at ``t`` itself, below ``boundaries[0]``); ``boundaries`` never decrease.

        This generic form (JAX, TensorFlow, torch: traceable) evaluates every part at
        ``maximum(t - boundary, 0)`` (finite where unused) and selects with a chain of ``where``
        (optax ``join_schedules``); Python numbers and NumPy arrays evaluate each part only
        where it is active."""
        out = parts[0](t, self)
        for boundary, part in zip(boundaries, parts[1:]):
            out = self.where(t < boundary, out, part(self.maximum(t - boundary, 0.0), self))
        return out

    def evaluate(self, formula, step):
        """``formula(t, xp)`` at ``step`` (any shape), with the step checked and converted and
        the value given the step's type, dtype and shape."""
        t = self.prepare(step)
        return self.finalize(formula(t, self), t)

    # -- counter-based noise ------------------------------------------------------------------
    # Integer primitives on unsigned 32-bit values (each backend picks a dtype it fully supports
    # and keeps products exact or wrapping mod 2**32), and the hash built from them once here.

    def hashed_normal(self, t, key: int):
        """Standard normal numbers that are a fixed function of ``(key, floor(t))``: the same on
        every backend up to float round-off, and the same whenever they are recomputed.

        The whole step is split into three 16-bit limbs (exact float ops), hashed with two rounds
        of the ``lowbias32`` mixer per uniform, and the two uniforms (24 bits each) go through
        Box-Muller: ``sqrt(-2 log u1) * cos(2 pi u2)``, ``u1`` in (0, 1], ``u2`` in [0, 1)."""
        n0 = self.floor(t)
        n1 = self.floor(n0 / 65536.0)
        n2 = self.floor(n1 / 65536.0)
        limbs = [n0 - n1 * 65536.0, n1 - n2 * 65536.0, n2 - self.floor(n2 / 65536.0) * 65536.0]
        limbs = [self._uint(limb) for limb in limbs]
        low_word = self._ixor(limbs[0], self._imul(limbs[1], 65536))
        uniforms = []
        for stream in (0, 1):
            h = _lowbias32(self, self._ixor(limbs[2], _lowbias32(MATH, (2 * key + stream) & _MASK32)))
            h = _lowbias32(self, self._ixor(low_word, h))
            uniforms.append(self._ufloat(self._ishr(h, 8), t) * (1.0 / 16777216.0))
        u1 = 1.0 - uniforms[0]  # (0, 1]: the log stays finite
        return self.sqrt(-2.0 * self.log(u1)) * self.cos((2.0 * math.pi) * uniforms[1])

    def _uint(self, x):  # whole-valued float in [0, 2**16) -> integer type
        raise NotImplementedError

    def _ufloat(self, i, like):  # integer < 2**24 -> float of like's dtype (exact)
        raise NotImplementedError

    def _iand(self, a, mask: int):
        raise NotImplementedError

    def _ixor(self, a, b):
        return a ^ b

    def _ishr(self, a, k: int):
        return a >> k

    def _imul(self, a, c: int):
        """``a * c mod 2**32`` for ``a`` < 2**32, with every product below 2**49 (exact in int64)."""
        low = a * (c & 0xFFFF)
        high = self._iand(a * (c >> 16), 0xFFFF)
        return self._iand(low + high * 65536, _MASK32)


_MASK32 = 0xFFFFFFFF
_HALF_PI = 0.5 * math.pi
_TINY = 2.0**-1074
_NEGATIVE_STEP = "step must hold finite numbers >= 0"


def _lowbias32(xp, x):
    """Chris Wellons' ``lowbias32`` 32-bit integer mixer."""
    x = xp._ixor(x, xp._ishr(x, 16))
    x = xp._imul(x, 0x7FEB352D)
    x = xp._ixor(x, xp._ishr(x, 15))
    x = xp._imul(x, 0x846CA68B)
    return xp._ixor(x, xp._ishr(x, 16))


class MathBackend(Backend):
    """Python scalars with the ``math`` module; results are Python floats."""

    name = "math"

    def __init__(self):
        # instance attributes: the scalar hot path finds them without the descriptor protocol
        for op in ("floor", "ceil", "exp", "expm1", "log", "log1p", "cos", "sin", "tanh", "sqrt", "pow",
                   "minimum", "maximum", "abs", "where", "clip", "ipow", "const", "fmod"):
            setattr(self, op, getattr(self, op))

    floor = staticmethod(math.floor)
    ceil = staticmethod(math.ceil)
    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)
    tanh = staticmethod(math.tanh)
    sqrt = staticmethod(math.sqrt)
    pow = staticmethod(math.pow)
    fmod = staticmethod(math.fmod)
    minimum = staticmethod(min)
    maximum = staticmethod(max)
    abs = staticmethod(abs)

    @staticmethod
    def where(condition, if_true, if_false):
        return if_true if condition else if_false

    @staticmethod
    def clip(x, low, high):
        return min(max(x, low), high)

    def piecewise(self, parts, boundaries, t):
        i = bisect.bisect_right(boundaries, t)  # only the active part is evaluated
        return parts[i](t - boundaries[i - 1] if i else t, self)

    def is_step(self, step):
        return isinstance(step, (int, float)) and not isinstance(step, bool)

    def prepare(self, step):
        t = float(step)
        if not 0.0 <= t < math.inf:
            raise ValueError(f"step must be a finite number >= 0, got {step!r}")
        return t

    def finalize(self, value, t):
        return float(value)

    _uint = staticmethod(int)

    @staticmethod
    def _ufloat(i, like):
        return float(i)

    @staticmethod
    def _iand(a, mask):
        return a & mask

    @staticmethod
    def _imul(a, c):
        return (a * c) & _MASK32


class NumpyBackend(Backend):
    """NumPy arrays and scalars, computed in float64."""

    name = "numpy"
    framework = "numpy"

    def __init__(self):
        import numpy as np

        self.np = np
        self._local = threading.local()
        for op in ("floor", "ceil", "exp", "expm1", "log", "log1p", "cos", "sin", "tanh", "sqrt",
                   "minimum", "maximum", "where", "clip", "abs"):
            setattr(self, op, getattr(np, op))
        self.pow, self.fmod = np.power, np.fmod

    def is_step(self, step):
        return isinstance(step, (self.np.ndarray, self.np.generic)) and not isinstance(
            step, self.np.bool_
        )

    #: Long arrays are evaluated in blocks of this many steps: the formula's temporaries stay in
    #: the CPU cache and none of them is as long as the array (peak memory: the result plus a
    #: few blocks).
    block = 1 << 15

    def prepare(self, step):
        self._check(step)
        return self.np.asarray(step, dtype=self.np.float64)

    def finalize(self, value, t):
        np = self.np
        value = np.asarray(value, dtype=np.float64)
        if value.shape != t.shape:
            value = np.broadcast_to(value, t.shape).copy()
        return value if value.ndim else value[()]

    def _check(self, step):
        """Type and range of the steps, read in place (no converted copy)."""
        kind = step.dtype.kind
        if kind not in "iuf":
            raise TypeError(f"step must hold integers or floats, got a {step.dtype} array")
        if step.size and kind != "u" and not (step.min() >= 0 and (kind == "i" or step.max() < self.np.inf)):
            raise ValueError(_NEGATIVE_STEP)

    def evaluate(self, formula, step):
        value = self.values(formula, step)
        return value if value.ndim else value[()]

    def values(self, formula, step, out=None, dtype=None):
        """``formula`` at every step of the array ``step`` (or, for an int ``step``, at
        ``0, 1, ..., step - 1``), block by block, written into ``out`` (a new array of ``dtype``,
        float64 by default, unless given). The values are the float64 formula, rounded once to
        ``out``'s dtype. Steps are checked block by block: after a ``ValueError`` for a bad
        step, a given ``out`` may hold the values of the blocks before it."""
        np = self.np
        counting = not isinstance(step, (np.ndarray, np.generic))
        if not counting and step.dtype.kind not in "iuf":
            raise TypeError(f"step must hold integers or floats, got a {step.dtype} array")
        shape = (step,) if counting else step.shape
        if out is None:
            out = np.empty(shape, dtype=np.float64 if dtype is None else dtype)
        direct = out.flags.c_contiguous
        target = out.reshape(-1) if direct else np.empty(out.size, out.dtype)
        steps = None if counting else step.reshape(-1)
        known_sorted = self._known_sorted()
        start, size = 0, target.size
        while start < size:
            stop = min(start + self.block, size)
            if counting:
                t = np.arange(start, stop, dtype=np.float64)
            else:  # checked and converted a block at a time, while it is in the cache
                self._check(steps[start:stop])
                t = np.asarray(steps[start:stop], dtype=np.float64)
                # Steps that start out of order (not a curve) go in one block: a ``piecewise``
                # then groups each segment's steps once, not once per block.
                if not start and stop < size and not self._is_sorted(t, ()):
                    stop = size
                    self._check(steps[start:stop])
                    t = np.asarray(steps, dtype=np.float64)
            if counting:  # known to be sorted: a ``piecewise`` need not check
                known_sorted.append(t)
            try:
                target[start:stop] = formula(t, self)
            finally:
                if counting:
                    known_sorted.pop()
            start = stop
        if not direct:
            out[...] = target.reshape(out.shape)
        return out

    def _known_sorted(self) -> list:
        """Arrays (per thread) known to be sorted: blocks of ``0..n-1`` and the segments cut
        from sorted arrays, so that nested ``piecewise`` calls need not check again."""
        local = self._local
        stack = getattr(local, "sorted", None)
        if stack is None:
            stack = local.sorted = []
        return stack

    def _is_sorted(self, flat, known) -> bool:
        if any(flat is k for k in known):
            return True
        return flat.size < 2 or bool((flat[1:] >= flat[:-1]).all())

    def piecewise(self, parts, boundaries, t):
        """Each part on its segment only. Sorted steps (curves) are cut into slices with one
        ``searchsorted`` of the boundaries into the steps; other steps are grouped by segment
        with one ``searchsorted`` into the boundaries and a stable (radix) sort of the segment
        numbers. Cost ``O(N log S + N)`` plus one formula call per non-empty segment."""
        np = self.np
        if len(parts) == 1:
            return parts[0](t, self)
        known = self._known_sorted()
        flat = t if t.ndim == 1 else t.reshape(-1)
        if self._is_sorted(flat, known):
            # the segments of the first and last steps: the same one for most blocks of a curve
            first = bisect.bisect_right(boundaries, flat[0]) if flat.size else 0
            if flat.size and first == bisect.bisect_right(boundaries, flat[-1]):
                active = [first]
            else:
                cuts = [0, *np.searchsorted(flat, np.asarray(boundaries, dtype=np.float64)).tolist(), flat.size]
                active = [i for i in range(len(parts)) if cuts[i] < cuts[i + 1]]
            if len(active) == 1:  # one segment holds every step: no copy
                i = active[0]
                local = flat - boundaries[i - 1] if i else flat
                known.append(local)
                try:
                    value = parts[i](local, self)
                finally:
                    known.pop()
                return value if np.ndim(value) == 0 else np.reshape(value, t.shape)
            out = np.empty(flat.shape, dtype=np.float64)
            for i in active:
                a, b = cuts[i], cuts[i + 1]
                local = flat[a:b] - boundaries[i - 1] if i else flat[a:b]
                known.append(local)
                try:
                    out[a:b] = parts[i](local, self)
                finally:
                    known.pop()
        else:
            out = np.empty(flat.shape, dtype=np.float64)
            segment = np.searchsorted(np.asarray(boundaries, dtype=np.float64), flat, side="right")
            segment = segment.astype(np.int16 if len(parts) < 2**15 else np.intp)
            order = np.argsort(segment, kind="stable")
            ends = np.cumsum(np.bincount(segment, minlength=len(parts))).tolist()
            a = 0
            for i, part in enumerate(parts):
                b = ends[i]
                if a < b:
                    index = order[a:b]
                    local = flat[index]
                    out[index] = part(local - boundaries[i - 1] if i else local, self)
                a = b
        return out.reshape(t.shape)

    def _uint(self, x):
        return self.np.asarray(x).astype(self.np.uint64)

    def _ufloat(self, i, like):
        return i.astype(self.np.float64)

    def _iand(self, a, mask):
        return a & self.np.uint64(mask)

    def _imul(self, a, c):
        return (a * self.np.uint64(c)) & self.np.uint64(_MASK32)  # < 2**64: exact in uint64

    def ipow(self, base, exponent):
        # A staircase takes few distinct exponents: look them up in a small table instead of
        # calling pow per element. Same values as np.power on an array (NumPy's scalar kernel
        # may differ from its SIMD one in the last bit, here as everywhere).
        np = self.np
        if isinstance(exponent, np.ndarray) and exponent.size > 64 and np.ndim(base) == 0:
            lo, hi = exponent.min(), exponent.max()
            if hi - lo < exponent.size // 8:
                table = np.power(base, np.arange(lo, hi + 1.0))
                return table[(exponent - lo).astype(np.intp)]
        return np.power(base, exponent)


class JaxBackend(Backend):
    """JAX arrays and tracers (jit/vmap safe); the step's float dtype, float32 otherwise."""

    name = "jax"
    framework = "jax"

    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        for op in ("floor", "ceil", "exp", "expm1", "log", "log1p", "cos", "sin", "tanh", "sqrt",
                   "minimum", "maximum", "where", "clip", "abs"):
            setattr(self, op, getattr(jnp, op))
        self.pow, self.fmod = jnp.power, jnp.fmod

    def is_step(self, step):
        return isinstance(step, self.jax.Array)

    def prepare(self, step):
        jnp = self.jnp
        dtype = step.dtype if jnp.issubdtype(step.dtype, jnp.floating) else jnp.float32
        if not (jnp.issubdtype(step.dtype, jnp.number) and not jnp.issubdtype(step.dtype, jnp.complexfloating)):
            raise TypeError(f"step must hold integers or floats, got a {step.dtype} array")
        t = step.astype(dtype)
        if not isinstance(t, self.jax.core.Tracer) and t.size:  # concrete: check; traced: can't
            if not bool((t.min() >= 0) & (t.max() < jnp.inf)):
                raise ValueError(_NEGATIVE_STEP)
        return t

    def finalize(self, value, t):
        return self.jnp.broadcast_to(self.jnp.asarray(value, dtype=t.dtype), t.shape)

    def const(self, value, like):
        return self.jnp.asarray(value, dtype=like.dtype)

    # uint32 arithmetic wraps mod 2**32 in XLA, and needs no 64-bit mode.
    def _uint(self, x):
        return x.astype(self.jnp.uint32)

    def _ufloat(self, i, like):
        return i.astype(like.dtype)

    def _ixor(self, a, b):
        return a ^ (self.jnp.uint32(b) if isinstance(b, int) else b)

    def _imul(self, a, c):
        return a * self.jnp.uint32(c)


class TensorflowBackend(Backend):
    """``tf.Tensor`` and ``tf.Variable`` (graph safe); float32 like TensorFlow's schedules,
    or the step's own float dtype."""

    name = "tensorflow"
    framework = "tensorflow"

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        m = tf.math
        self.floor, self.ceil, self.exp, self.log = m.floor, m.ceil, m.exp, m.log
        self.log1p, self.cos, self.sin, self.tanh = m.log1p, m.cos, m.sin, m.tanh
        self.expm1 = m.expm1
        self.sqrt, self.abs = m.sqrt, m.abs
        self.minimum, self.maximum = m.minimum, m.maximum
        self.fmod = m.floormod  # = fmod for the non-negative arguments formulas give it

    tensorflow_order = True

    def half_cosine(self, done, length, *, rising=False, fraction=None):
        """TensorFlow's ``0.5 * (1 + cos(pi * fraction))`` (``fraction = done / length`` unless
        given): the float32 path rounds like TensorFlow's cosine schedules."""
        if fraction is None:
            fraction = done / length
        cosine = self.cos(self.pi * fraction)
        return 0.5 * ((1.0 - cosine) if rising else (1.0 + cosine))

    def pow(self, base, exponent):
        tf = self.tf
        if not tf.is_tensor(base) and tf.is_tensor(exponent):  # a Python int base would be int32
            base = tf.constant(base, exponent.dtype)
        return tf.math.pow(base, exponent)

    def where(self, condition, if_true, if_false):
        tf = self.tf
        if_true, if_false = tf.convert_to_tensor(if_true), tf.convert_to_tensor(if_false)
        if if_true.dtype != if_false.dtype:  # Python numbers next to tensors: keep the float tensor's
            floating = [x for x in (if_true, if_false) if x.dtype.is_floating] or [if_true]
            dtype = max(floating, key=lambda x: x.shape.rank or 0).dtype
            if_true, if_false = tf.cast(if_true, dtype), tf.cast(if_false, dtype)
        return tf.where(condition, if_true, if_false)

    def clip(self, x, low, high):
        return self.tf.clip_by_value(x, low, high)

    def const(self, value, like):
        return self.tf.constant(value, like.dtype)

    def _uint(self, x):
        return self.tf.cast(x, self.tf.int64)

    def _ufloat(self, i, like):
        return self.tf.cast(i, like.dtype)

    def _iand(self, a, mask):
        return self.tf.bitwise.bitwise_and(a, self.tf.constant(mask, self.tf.int64))

    def _ixor(self, a, b):
        tf = self.tf
        return tf.bitwise.bitwise_xor(a, tf.constant(b, tf.int64) if isinstance(b, int) else b)

    def _ishr(self, a, k):
        return self.tf.bitwise.right_shift(a, self.tf.constant(k, self.tf.int64))

    def is_step(self, step):
        return isinstance(step, (self.tf.Tensor, self.tf.Variable))

    def prepare(self, step):
        tf = self.tf
        dtype = step.dtype if step.dtype.is_floating else tf.float32
        if not (step.dtype.is_floating or step.dtype.is_integer):
            raise TypeError(f"step must hold integers or floats, got a {step.dtype.name} tensor")
        t = tf.cast(step, dtype)
        if tf.executing_eagerly():  # inside tf.function the step is symbolic: no check
            if not bool(tf.reduce_all((t >= 0) & (t < float("inf")))):
                raise ValueError(_NEGATIVE_STEP)
        return t

    def finalize(self, value, t):
        tf = self.tf
        value = tf.cast(value, t.dtype) if tf.is_tensor(value) else tf.constant(value, t.dtype)
        return value if value.shape == t.shape else tf.broadcast_to(value, tf.shape(t))


class TorchBackend(Backend):
    """torch tensors; the step's float dtype, else torch's default float dtype."""

    name = "torch"
    framework = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        for op in ("floor", "ceil", "exp", "expm1", "log", "log1p", "cos", "sin", "tanh", "sqrt", "abs"):
            setattr(self, op, self._unary(getattr(torch, op), getattr(MathBackend, op)))
        self.clip = torch.clip

    def _unary(self, tensor_op, scalar_op):
        tensor = self.torch.Tensor
        return lambda x: tensor_op(x) if isinstance(x, tensor) else scalar_op(x)

    def pow(self, base, exponent):
        torch = self.torch
        if not isinstance(base, torch.Tensor) and not isinstance(exponent, torch.Tensor):
            return math.pow(base, exponent)
        return torch.pow(base, exponent)

    def minimum(self, a, b):
        return self._binary(self.torch.minimum, a, b)

    def fmod(self, a, b):
        return self._binary(self.torch.fmod, a, b)

    def maximum(self, a, b):
        return self._binary(self.torch.maximum, a, b)

    def where(self, condition, if_true, if_false):
        torch = self.torch
        if not isinstance(if_true, torch.Tensor) and not isinstance(if_false, torch.Tensor):
            # two Python numbers: keep them in float64 (finalize casts to the step's dtype)
            if_true = torch.tensor(if_true, dtype=torch.float64, device=condition.device)
        return torch.where(condition, if_true, if_false)

    def const(self, value, like):
        return self.torch.tensor(value, dtype=like.dtype, device=like.device)

    def _uint(self, x):
        return x.to(self.torch.int64)

    def _ufloat(self, i, like):
        return i.to(like.dtype)

    def _iand(self, a, mask):
        return a & mask

    def _binary(self, op, a, b):
        torch = self.torch
        if not isinstance(a, torch.Tensor):
            a = torch.as_tensor(a, dtype=b.dtype, device=b.device)
        elif not isinstance(b, torch.Tensor):
            b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
        return op(a, b)

    def is_step(self, step):
        return isinstance(step, self.torch.Tensor)

    def prepare(self, step):
        torch = self.torch
        if step.dtype == torch.bool or step.is_complex():
            raise TypeError(f"step must hold integers or floats, got a {step.dtype} tensor")
        dtype = step.dtype if step.is_floating_point() else torch.get_default_dtype()
        t = step.to(dtype)
        if t.numel() and not bool(((t >= 0) & (t < float("inf"))).all()):
            raise ValueError(_NEGATIVE_STEP)
        return t

    def finalize(self, value, t):
        torch = self.torch
        value = torch.as_tensor(value, dtype=t.dtype, device=t.device)
        return value if value.shape == t.shape else value.expand(t.shape).clone()


MATH = MathBackend()
_BACKEND_CLASSES = (NumpyBackend, JaxBackend, TensorflowBackend, TorchBackend)
_type_to_backend: dict[type, Backend] = {int: MATH, float: MATH}
_loaded: dict[str, Backend] = {}


def get_backend(step) -> Backend:
    """The backend for ``step``'s type. Frameworks that aren't imported yet are never imported:
    a step can only be a tensor of a framework that is already loaded."""
    backend = _type_to_backend.get(type(step))
    if backend is not None:
        return backend
    candidates: list[Backend] = [MATH]
    for cls in _BACKEND_CLASSES:
        if cls.framework in sys.modules:
            if cls.framework not in _loaded:
                _loaded[cls.framework] = cls()
            candidates.append(_loaded[cls.framework])
    for backend in candidates:
        if backend.is_step(step):
            _type_to_backend[type(step)] = backend
            return backend
    raise TypeError(
        f"step must be an int, a float, or a NumPy, JAX, TensorFlow or torch array; "
        f"got {type(step).__module__}.{type(step).__qualname__}"
    )


def numpy_backend() -> NumpyBackend:
    """The NumPy backend (imports NumPy)."""
    if "numpy" not in _loaded:
        import numpy  # noqa: F401

        _loaded["numpy"] = NumpyBackend()
    return cast(NumpyBackend, _loaded["numpy"])
