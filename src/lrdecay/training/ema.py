"""The exponential moving average of weights (滑动平均, shadow values), with TensorFlow's semantics.

``ExponentialMovingAverage`` reproduces ``tf.compat.v1.train.ExponentialMovingAverage``: each
update does ``shadow -= (1 - decay) * (shadow - value)``; with ``num_updates`` = n the decay used
is ``min(decay, (1 + n) / (10 + n))``; with ``zero_debias`` the average starts from zero and is
divided by ``1 - decay ** k`` after k updates (TensorFlow's rule for non-variable tensors). It
works on a torch module (its floating-point parameters) and on a mapping or pytree (nested
dicts, lists, tuples) of NumPy arrays, numbers, or JAX/torch arrays.

Float32 (and narrower) values are updated with the decay computed in float32 exactly as
TensorFlow computes it, so they match TensorFlow bit for bit; float64 values (Python numbers
become float64) use a float64 decay.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping

import numpy as np

from lrdecay.core.validate import check_bool, check_int, check_range

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """Shadow copies of parameters that follow them with an exponential decay.

    ``decay``: a number in [0, 1], or a schedule (any callable of the step) evaluated at
    ``num_updates`` (or, without it, at the number of updates done so far).
    ``num_updates``: None, a number, or a callable returning the current step (like TF's
    ``global_step`` tensor); when known, the decay used is ``min(decay, (1 + n) / (10 + n))``
    (small at the start, so that the average first follows the weights quickly).
    ``update(params, num_updates=n)`` overrides it for one update.
    ``zero_debias``: start the average from zero and divide by ``1 - decay ** k`` (k = updates
    done); before the first update the average is the registered value.

    Same as ``tf.compat.v1.train.ExponentialMovingAverage(decay, num_updates, zero_debias)``:
    ``zero_debias=False`` follows TensorFlow's rule for ``tf.Variable`` (the shadow starts as a
    copy), ``zero_debias=True`` its rule for tensors with ``zero_debias=True``.
    """

    def __init__(self, decay, num_updates=None, zero_debias=False):
        if not callable(decay):
            decay = check_range("decay", decay, 0, 1)
        if not (num_updates is None or callable(num_updates)):
            num_updates = check_int("num_updates", num_updates, minimum=0)
        self.decay = decay
        self.num_updates = num_updates
        self.zero_debias = check_bool("zero_debias", zero_debias)
        self._shadows: dict = {}
        self._biased: dict = {}
        self.updates_done = 0

    # -- registration and access ------------------------------------------------------------

    def register(self, params) -> ExponentialMovingAverage:
        """Start shadows as copies of ``params`` (a torch module or a mapping/pytree)."""
        self._shadows = {name: _copy(value, name) for name, value in _named_leaves(params)}
        self._biased = {name: shadow * 0 for name, shadow in self._shadows.items()} if self.zero_debias else {}
        self.updates_done = 0
        return self

    def average(self, name):
        """The shadow value of the parameter ``name`` (dotted path in a pytree, or the module's
        parameter name)."""
        try:
            return self._shadows[name]
        except KeyError:
            raise KeyError(f"no moving average named {name!r}; registered: {', '.join(self._shadows)}") from None

    def averages(self) -> dict:
        """Every shadow value, by name."""
        return dict(self._shadows)

    def decay_at(self, num_updates=None) -> float:
        """The decay the next update uses (TensorFlow's ``min(decay, (1 + n) / (10 + n))``)."""
        return _tf_decay(*self._decay_and_step(num_updates), float)

    def _decay_and_step(self, num_updates) -> tuple[float, int]:
        n = self._step(num_updates)
        decay = self.decay(self.updates_done if n is None else n) if callable(self.decay) else self.decay
        decay = float(decay)
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"decay must be in [0, 1], got {decay!r} from the decay schedule")
        return decay, n

    def _step(self, num_updates):
        if num_updates is None:
            num_updates = self.num_updates() if callable(self.num_updates) else self.num_updates
        if num_updates is None:
            return None
        return check_int("num_updates", num_updates, minimum=0)

    # -- the update -------------------------------------------------------------------------

    def update(self, params, num_updates=None) -> None:
        """Move every shadow towards the current ``params``: ``shadow -= (1 - d) * (shadow - value)``.

        The first call registers ``params`` if :meth:`register` was not called."""
        if not self._shadows:
            self.register(params)
        # 1 - decay in float64, and in float32 as TensorFlow computes it (used for float32 and
        # narrower values: TensorFlow's exact arithmetic there).
        decay, n = self._decay_and_step(num_updates)
        one_minus = tuple(real(1.0) - _tf_decay(decay, n, real) for real in (float, np.float32))
        values = dict(_named_leaves(params))
        unknown = set(values) ^ set(self._shadows)
        if unknown:
            raise ValueError(f"params do not match the registered ones: {', '.join(sorted(unknown))}")
        k = self.updates_done + 1
        with _no_grad():
            for name, shadow in self._shadows.items():
                one_minus_decay = one_minus[_is_single(shadow)]
                if not self.zero_debias:
                    shadow -= (shadow - _like(values[name], shadow)) * one_minus_decay
                    continue
                # TensorFlow's _zero_debias: the bias factor uses the current decay, 1 - (1 - d).
                biased = self._biased[name]
                biased -= (biased - _like(values[name], biased)) * one_minus_decay
                bias = 1.0 - (1.0 - one_minus_decay) ** type(one_minus_decay)(k)
                if bias > 0.0:  # decay 1 leaves the average where it was (never 0 / 0)
                    _assign(shadow, biased / bias)
        self.updates_done += 1

    # -- using the averages -----------------------------------------------------------------

    def copy_to(self, target) -> None:
        """Write the averages into ``target``: a torch module's parameters, or the NumPy arrays
        of a mapping/pytree (in place)."""
        with _no_grad():
            for name, leaf in _named_leaves(target):
                _assign(leaf, self.average(name))

    @contextlib.contextmanager
    def swapped(self, target):
        """``with ema.swapped(model): evaluate(model)``: the averages in, the weights back after."""
        saved = {name: _copy(leaf, name) for name, leaf in _named_leaves(target)}
        self.copy_to(target)
        try:
            yield target
        finally:
            with _no_grad():
                for name, leaf in _named_leaves(target):
                    _assign(leaf, saved[name])

    # -- checkpoints ------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Shadows (and zero-debias accumulators) by name, plus the update count."""
        return {
            "updates_done": self.updates_done,
            "shadows": {name: _copy(v, name) for name, v in self._shadows.items()},
            "biased": {name: _copy(v, name) for name, v in self._biased.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (into a fresh or registered EMA)."""
        self.updates_done = check_int("updates_done", state["updates_done"], minimum=0)
        self._shadows = {name: _copy(v, name) for name, v in state["shadows"].items()}
        self._biased = {name: _copy(v, name) for name, v in state["biased"].items()}
        if self.zero_debias and set(self._biased) != set(self._shadows):
            raise ValueError("state has no zero-debias accumulators but this average uses zero_debias=True")


# -- helpers: parameters as (name, leaf) pairs, copies and in-place writes ------------------


def _tf_decay(decay, n, real):
    """``min(decay, (1 + n) / (10 + n))`` computed in the type ``real``; ``decay`` without n."""
    if n is None:
        return real(decay)
    return min(real(decay), (real(1.0) + real(n)) / (real(10.0) + real(n)))


def _torch():
    return sys.modules.get("torch")


def _named_leaves(params, prefix=""):
    torch = _torch()
    if torch is not None and isinstance(params, torch.nn.Module):
        yield from ((name, p) for name, p in params.named_parameters() if p.is_floating_point())
    elif isinstance(params, Mapping):
        for key, value in params.items():
            yield from _named_leaves(value, f"{prefix}{key}.")
    elif isinstance(params, (list, tuple)):
        for i, value in enumerate(params):
            yield from _named_leaves(value, f"{prefix}{i}.")
    else:
        yield prefix[:-1], params


def _is_tensor(value) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _copy(value, name):
    """A float copy of a leaf: a detached torch tensor, or a NumPy array (numbers -> float64)."""
    if _is_tensor(value):
        if not value.is_floating_point():
            raise TypeError(f"{name} must hold floats, got a {value.dtype} tensor")
        return value.detach().clone()
    array = np.array(value, copy=True)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f":
        raise TypeError(f"{name} must hold numbers, got {type(value).__name__} {value!r}")
    return array


def _like(value, shadow):
    """``value`` as the shadow's kind of array (a torch tensor on its device, or NumPy)."""
    if _is_tensor(shadow):
        return value.detach() if _is_tensor(value) else _torch().as_tensor(value, device=shadow.device)
    return np.asarray(value)


def _assign(leaf, value) -> None:
    if _is_tensor(leaf):
        leaf.copy_(value if _is_tensor(value) else _torch().as_tensor(value))
    elif isinstance(leaf, np.ndarray):
        np.copyto(leaf, np.asarray(value), casting="same_kind")
    else:
        raise TypeError(f"cannot write into a {type(leaf).__name__}: use NumPy arrays or a torch module")


def _is_single(array) -> bool:
    """Float32 or narrower (TensorFlow computes the decay of those in float32)."""
    return (array.element_size() if _is_tensor(array) else array.itemsize) <= 4


def _no_grad():
    torch = _torch()
    return torch.no_grad() if torch is not None else contextlib.nullcontext()

