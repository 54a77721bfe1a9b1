"""Loss-curve laws: the multi-power law (Luo et al., ICLR 2025, arXiv:2503.12811) and the
scaling law with learning-rate annealing (Tissue et al., arXiv:2408.11029).

Conventions, with ``eta_k`` the learning rate at step ``k`` (steps from 0, warm-up included):

* ``P(t) = sum_{tau=0..t} eta_tau`` is the plain sum of the rate over steps 0..t (this is
  ``S1(t) + S_W`` of the multi-power law and ``S1`` of the annealing law).
* ``d_k = eta_{k-1} - eta_k`` for k >= 1; the warm-up's rising rate gives negative ``d_k``.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np
from scipy.signal import lfilter

from lrdecay.forecast.runs import _numeric, _read_text, lr_array

MAX_PAIRS = 2**16  # (logged step, rate change) terms evaluated at once (cache-sized)


def _as_steps(steps) -> np.ndarray:
    arr = _numeric("steps", steps)
    if arr.size == 0:
        raise ValueError("steps: must not be empty")
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError("steps: must be integers")
    if np.any(arr < 0):
        raise ValueError("steps: must be >= 0")
    return arr.astype(np.int64)


class Pairs:
    """The terms of the multi-power law's loss-drop sum for a set of logged steps.

    For each logged step ``t`` only the steps ``k <= t`` where the rate changes (``d_k != 0``)
    are kept, flattened: ``kidx`` = which change (into ``eta`` = eta_k and ``d`` = d_k),
    ``s`` = S_k(t), ``starts`` = offset of each logged step's terms; ``p`` = P(t).  The rate is
    constant between changes, so ``S_k(t)`` is a sum of (rate x length) pieces, accumulated
    from ``t`` backwards for each ``t``: no difference of large prefix sums, hence full relative
    precision even for tiny late rates.  Memory: 16 bytes a term.
    """

    def __init__(self, eta: np.ndarray, steps: np.ndarray):
        ks = np.flatnonzero(eta[1:] != eta[:-1]) + 1
        counts = np.searchsorted(ks, steps, side="right")
        offsets = np.concatenate(([0], np.cumsum(counts)))
        self.kidx = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
        self.eta = eta[ks]
        pieces = self.eta[:-1] * np.diff(ks)  # rate x length between consecutive changes
        self.s = np.empty(offsets[-1])
        for t, c, o in zip(steps, counts, offsets):
            if c:
                seg = self.s[o:o + c]
                seg[:-1] = pieces[:c - 1]
                seg[-1] = self.eta[c - 1] * (t + 1 - ks[c - 1])
                np.add.accumulate(seg[::-1], out=seg[::-1])
        self.d = eta[ks - 1] - self.eta
        with np.errstate(divide="ignore"):
            self.log_eta = np.log(self.eta)
        self.has_zero = bool(np.any(self.eta == 0))
        self.starts = offsets[:-1]
        self.nonempty = counts > 0
        self.dsum = np.zeros(steps.size)
        self.dsum[self.nonempty] = np.cumsum(self.d)[counts[self.nonempty] - 1]
        self.p = np.cumsum(eta)[steps]

    def _reduce(self, terms: np.ndarray) -> np.ndarray:
        out = np.zeros((len(terms), self.p.size))
        if terms.shape[1]:
            out[:, self.nonempty] = np.add.reduceat(terms, self.starts[self.nonempty], axis=1)
        return out

    def sums(self, C: float, beta: float, gamma: float, jac: bool = False) -> np.ndarray:
        """Per logged step: ``F = sum d_k G(x)``, ``x = eta_k^-gamma S_k(t)``, and with ``jac``
        also ``sum d g q``, ``sum d g log(1+Cx)``, ``sum d g q log eta_k`` where
        ``g = (1+Cx)^-beta = 1 - G`` and ``q = Cx/(1+Cx)`` (the pieces of the analytic gradient).
        Per term: a gather, a log and an exp, in a reused per-thread workspace.
        ``F = sum d - sum d g``.

        ``S = 0`` (no progress since the change) gives G = 0; ``eta_k = 0`` with S > 0 gives G = 1.
        """
        n = self.kidx.size
        cx, u, lu, tmp, terms = _workspace(n)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            np.take(C * self.eta ** -gamma, self.kidx, out=cx)
            cx *= self.s
            if self.has_zero:
                cx[np.isnan(cx)] = 0.0
            np.add(cx, 1.0, out=u)
            np.log(u, out=lu)
            dg = np.multiply(lu, -beta, out=terms[0])
            np.exp(dg, out=dg)
            dg *= np.take(self.d, self.kidx, out=tmp)
            if not jac:
                return self.dsum - self._reduce(terms[:1])[0]
            np.multiply(dg, np.divide(cx, u, out=cx), out=terms[1])
            np.multiply(dg, lu, out=terms[2])
            np.multiply(terms[1], np.take(self.log_eta, self.kidx, out=tmp), out=terms[3])
            if self.has_zero:
                terms[np.isnan(terms)] = 0.0
        out = self._reduce(terms)
        out[0] = self.dsum - out[0]
        return out


_local = threading.local()


def _workspace(n: int):
    """Per-thread scratch arrays (reused: fresh large arrays cost page faults each call)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.shape[1] < n:
        buf = _local.buf = np.empty((8, max(n, 1)))
    return buf[0, :n], buf[1, :n], buf[2, :n], buf[3, :n], buf[4:, :n]


def pairs_chunks(eta: np.ndarray, steps: np.ndarray):
    """``(indices, Pairs)`` for ``steps`` in chunks of at most ``MAX_PAIRS`` terms (or one
    step's terms, if more)."""
    ks = np.flatnonzero(eta[1:] != eta[:-1]) + 1
    counts = np.searchsorted(ks, steps, side="right")
    chunk: list[int] = []
    size = 0
    for i, c in enumerate(counts):
        if chunk and size + c > MAX_PAIRS:
            yield chunk, Pairs(eta[: steps[chunk].max() + 1], steps[chunk])
            chunk, size = [], 0
        chunk.append(i)
        size += c
    yield chunk, Pairs(eta[: steps[chunk].max() + 1], steps[chunk])


@dataclass(frozen=True)
class _Law:
    """Shared interface: parameters, serialisation, prediction."""

    name: ClassVar[str] = ""

    @property
    def params(self) -> dict:
        return asdict(self)

    def to_dict(self) -> dict:
        return {"law": self.name, **self.params}

    @classmethod
    def from_dict(cls, data: dict):
        if not isinstance(data, dict):
            raise TypeError(f"data: must be a dict, got {type(data).__name__}")
        if cls is _Law:
            laws = {c.name: c for c in (MultiPowerLaw, AnnealingLaw)}
            if data.get("law") not in laws:
                raise ValueError(f"law: must be one of {sorted(laws)}, got {data.get('law')!r}")
            return laws[data["law"]].from_dict(data)
        if data.get("law") != cls.name:
            raise ValueError(f"law: must be {cls.name!r}, got {data.get('law')!r}")
        names = {f.name for f in fields(cls)}
        given = set(data) - {"law"}
        if given != names:
            raise ValueError(f"parameters: need exactly {sorted(names)}; missing "
                             f"{sorted(names - given)}, unknown {sorted(given - names)}")
        return cls(**{k: data[k] for k in names})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text: must be a str, got {type(text).__name__}")
        return cls.from_dict(json.loads(text))

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path, max_bytes: int = 2**16):
        return cls.from_json(_read_text(path, max_bytes))

    def _check(self, positive=(), nonnegative=(), unit=()):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                                      np.floating)):
                raise TypeError(f"{f.name}: must be a real number, got {type(v).__name__}")
            v = float(v)
            if not math.isfinite(v):
                raise ValueError(f"{f.name}: must be finite, got {v}")
            if f.name in positive and v <= 0:
                raise ValueError(f"{f.name}: must be > 0, got {v}")
            if f.name in nonnegative and v < 0:
                raise ValueError(f"{f.name}: must be >= 0, got {v}")
            if f.name in unit and not 0 <= v <= 1:
                raise ValueError(f"{f.name}: must be in [0, 1], got {v}")
            object.__setattr__(self, f.name, v)

    def predict(self, lr, steps) -> np.ndarray:
        """Predicted loss (float64) at ``steps`` for the schedule ``lr`` (array or callable).
        Where ``P(t) = 0`` (no training yet) the prediction is ``inf``."""
        steps = _as_steps(steps)
        return self._predict(lr_array(lr, int(steps.max()) + 1), steps)

    def _predict(self, eta: np.ndarray, steps: np.ndarray) -> np.ndarray:  # pragma: no cover - each law's
        raise NotImplementedError

    def _power(self, p):
        with np.errstate(divide="ignore"):
            return self.L0 + self.A * p ** -self.alpha


@dataclass(frozen=True)
class MultiPowerLaw(_Law):
    """Multi-power law (Luo et al. 2025, eq. 3), with the README's conventions::

        L(t)  = L0 + A * P(t)^-alpha - LD(t)
        LD(t) = B * sum_{k=1..t} d_k * G(eta_k^-gamma * S_k(t)),  S_k(t) = sum_{tau=k..t} eta_tau
        G(x)  = 1 - (C x + 1)^-beta

    ``LD`` runs over the warm-up too.  Rules: all finite; A, alpha, B, C, beta > 0; gamma >= 0.

    Cost of ``predict``: O(n_steps * n_changes), n_changes = the steps where the rate changes
    (the only non-zero terms of ``LD``), vectorised over terms (``Pairs``) in chunks of
    ``MAX_PAIRS``; no Python loop over terms.  ``final_loss`` costs O(T).
    """

    L0: float
    A: float
    alpha: float
    B: float
    C: float
    beta: float
    gamma: float
    name = "multi_power"

    def __post_init__(self):
        self._check(positive=("A", "alpha", "B", "C", "beta"), nonnegative=("gamma",))

    def _predict(self, eta, steps):
        out = np.empty(steps.size)
        for idx, pairs in pairs_chunks(eta, steps):
            out[idx] = self._power(pairs.p) - self.B * pairs.sums(self.C, self.beta, self.gamma)
        return out

    def final_loss(self, eta: np.ndarray, grad: bool = False):
        """Loss at the last step of the per-step array ``eta`` (all > 0 past step 0), and with
        ``grad`` its gradient with respect to every ``eta_j`` -- O(T), by suffix sums."""
        q = np.cumsum(eta[::-1])[::-1]  # S_k(T-1) for every k
        p = q[0]
        e, d = eta[1:], eta[:-1] - eta[1:]
        x = e ** -self.gamma * q[1:]
        lu = np.log1p(self.C * x)
        G = -np.expm1(-self.beta * lu)
        loss = self.L0 + self.A * p ** -self.alpha - self.B * (d * G).sum()
        if not grad:
            return loss
        dG = d * self.beta * self.C * np.exp((-self.beta - 1.0) * lu)  # d_k G'(x_k)
        g = np.full(eta.size, -self.alpha * self.A * p ** (-self.alpha - 1.0))
        g[:-1] -= self.B * G
        g[1:] += self.B * G
        g[1:] -= self.B * (np.cumsum(dG * e ** -self.gamma) - self.gamma * dG * x / e)
        return loss, g


@dataclass(frozen=True)
class AnnealingLaw(_Law):
    """Scaling law with learning-rate annealing (Tissue et al. 2024, eq. 1)::

        L(t) = L0 + A * S1(t)^-alpha - C * S2(t)
        S1(t) = P(t),  S2(t) = sum_{i=1..t} m_i,  m_i = lam * m_{i-1} + d_i,  m_0 = 0

    ``S1`` is the forward area (warm-up included, as for the multi-power law), ``S2`` the
    annealing area with momentum ``lam`` (the paper's default 0.999; ``fit`` keeps it fixed).
    Our convention, as for the multi-power law here: the warm-up's rising rate enters ``S2``
    with negative ``d_i`` (it fades at rate ``lam``; the constant it leaves is absorbed by L0).
    Rules: all finite; A, alpha, C > 0; lam in [0, 1].  ``predict`` costs O(T).
    """

    L0: float
    A: float
    alpha: float
    C: float
    lam: float = 0.999
    name = "annealing"

    def __post_init__(self):
        self._check(positive=("A", "alpha", "C"), unit=("lam",))

    def areas(self, eta: np.ndarray):
        """``S1`` and ``S2`` at every step of ``eta``."""
        d = np.concatenate(([0.0], eta[:-1] - eta[1:]))
        return np.cumsum(eta), np.cumsum(lfilter([1.0], [1.0, -self.lam], d))

    def _predict(self, eta, steps):
        s1, s2 = self.areas(eta)
        return self._power(s1[steps]) - self.C * s2[steps]

    def final_loss(self, eta: np.ndarray, grad: bool = False):
        """Loss at the last step of ``eta`` and, with ``grad``, its gradient -- O(T):
        ``S2(T-1) = sum_k d_k w_k`` with ``w_k = sum_{n<T-k} lam^n``."""
        n = eta.size - np.arange(1, eta.size)
        w = n.astype(float) if self.lam == 1 else (1.0 - self.lam ** n) / (1.0 - self.lam)
        p = eta.sum()
        loss = self.L0 + self.A * p ** -self.alpha - self.C * ((eta[:-1] - eta[1:]) * w).sum()
        if not grad:
            return loss
        g = np.full(eta.size, -self.alpha * self.A * p ** (-self.alpha - 1.0))
        g[:-1] -= self.C * w
        g[1:] += self.C * w
        return loss, g


def from_dict(data: dict):
    """A law from ``to_dict()`` output, of the class its ``"law"`` key names."""
    return _Law.from_dict(data)


def load(path):
    """A law saved with ``save(path)``."""
    return _Law.load(path)
