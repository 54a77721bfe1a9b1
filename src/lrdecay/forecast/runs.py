"""Logged training runs: the per-step learning rate and the loss at logged steps.

A learning-rate schedule is either a 1-D array holding the rate at every step from 0, or a
callable mapping an int64 array of steps to a float64 array of rates (``s(np.arange(T))``).
"""
from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass, field

import numpy as np

from lrdecay.core.schedule import Schedule

MAX_CSV_BYTES = 64 * 2**20
#: The longest schedule a run or a prediction covers (80 MB of float64 rates).
MAX_STEPS = 10_000_000


def _numeric(name: str, value, ndim: int = 1) -> np.ndarray:
    """``value`` as an array of real numbers (not bool) with ``ndim`` dimensions."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name}: must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: must be {ndim}-D, got shape {arr.shape}")
    return arr


def lr_array(lr, length: int) -> np.ndarray:
    """The learning rate at steps ``0 .. length-1`` as a float64 array.

    ``lr`` is an array with at least ``length`` entries (extra ones are dropped) or a callable
    evaluated on ``np.arange(length, dtype=np.int64)``.  Rates must be finite and >= 0.
    """
    if isinstance(length, (bool, np.bool_)) or not isinstance(length, (int, np.integer)):
        raise TypeError(f"length: must be an int, got {type(length).__name__}")
    if length < 1:
        raise ValueError(f"length: must be >= 1, got {length}")
    if length > MAX_STEPS:
        raise ValueError(f"steps: at most {MAX_STEPS} steps from 0 are supported, got {length}")
    if isinstance(lr, Schedule):
        out = lr.curve(length)
        where = f"lr: {lr!r} on steps 0..{length - 1}"
    elif callable(lr) and not isinstance(lr, np.ndarray):
        out = lr(np.arange(length, dtype=np.int64))
        where = f"lr: the schedule's value on np.arange({length})"
        out = _numeric(where, out)
        if out.shape != (length,):
            raise ValueError(f"{where}: must have shape ({length},), got {out.shape}")
    else:
        where = "lr"
        out = _numeric(where, lr)
        if out.size < length:
            raise ValueError(f"lr: has {out.size} steps, {length} are needed "
                             "(steps past the end of the schedule)")
        out = out[:length]
    out = np.array(out, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{where}: must be finite (no NaN or inf)")
    if np.any(out < 0):
        raise ValueError(f"{where}: must be >= 0, found {out.min()!r}")
    return out


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class Run:
    """One logged run: ``lr`` per step from 0 (array or callable), ``loss`` at ``steps``.

    Rules: ``steps`` and ``loss`` are 1-D, non-empty and of equal length; ``steps`` are integers
    >= 0, strictly increasing; ``loss`` is finite and > 0; an ``lr`` array covers every step up to
    ``max(steps)`` (a callable is evaluated on ``0 .. max(steps)``).  Arrays are stored read-only,
    ``lr`` as float64 of length ``max(steps) + 1`` at least.
    """

    lr: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    name: str = field(default="")

    def __post_init__(self):
        steps = _numeric("steps", self.steps)
        if steps.size == 0:
            raise ValueError("steps: must not be empty")
        if steps.dtype.kind == "f":
            if not np.all(np.isfinite(steps)) or np.any(steps != np.round(steps)):
                raise ValueError("steps: must be integers")
        if np.any(steps < 0):
            raise ValueError("steps: must be >= 0")
        steps = steps.astype(np.int64)
        if np.any(np.diff(steps) <= 0):
            raise ValueError("steps: must be strictly increasing")
        loss = _numeric("loss", self.loss).astype(np.float64)
        if loss.shape != steps.shape:
            raise ValueError(f"loss: must have one value per step ({steps.size}), got {loss.size}")
        if not np.all(np.isfinite(loss)):
            raise ValueError("loss: must be finite (no NaN or inf)")
        if np.any(loss <= 0):
            raise ValueError("loss: must be > 0")
        if not isinstance(self.name, str):
            raise TypeError(f"name: must be a str, got {type(self.name).__name__}")
        if callable(self.lr) and not isinstance(self.lr, np.ndarray):
            lr = lr_array(self.lr, int(steps[-1]) + 1)
        else:
            n = np.asarray(self.lr).size
            if np.asarray(self.lr).ndim == 1 and n <= steps[-1]:
                raise ValueError(f"lr: has {n} steps but steps go up to {steps[-1]} "
                                 "(steps past the end of lr)")
            lr = lr_array(self.lr, max(n, 1))
        object.__setattr__(self, "lr", _readonly(lr))
        object.__setattr__(self, "steps", _readonly(steps))
        object.__setattr__(self, "loss", _readonly(loss))

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (f"<Run {name}{len(self.steps)} losses at steps {int(self.steps[0])}..{int(self.steps[-1])}, "
                f"rates for {len(self.lr)} steps>")

    def truncate(self, stop: int) -> Run:
        """The run restricted to logged steps < ``stop``."""
        keep = self.steps < stop
        if not keep.any():
            raise ValueError(f"stop: no logged step is < {stop}")
        return Run(self.lr, self.steps[keep], self.loss[keep], self.name)


def _read_text(path, max_bytes: int) -> str:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"path: {path!s} is not a regular file")
    if st.st_size > max_bytes:
        raise ValueError(f"path: {path!s} has {st.st_size} bytes, more than the limit {max_bytes}")
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"path: {path!s} grew past the limit of {max_bytes} bytes")
    return data.decode("utf-8")


def read_csv(path, schedule=None, *, name: str | None = None,
             max_bytes: int = MAX_CSV_BYTES) -> Run:
    """Read a run from a CSV with header ``step,lr,loss`` or ``step,loss``.

    The per-step rate comes from ``schedule`` (array or callable) when given; a file's ``lr``
    column is then checked against it (relative 1e-6).  Without ``schedule`` the file must have
    an ``lr`` column and log every step ``0 .. T-1`` (a dense file).  Files that are not regular
    or are larger than ``max_bytes`` are refused.
    """
    rows = list(csv.reader(io.StringIO(_read_text(path, max_bytes))))
    if not rows:
        raise ValueError(f"{path!s}: empty file")
    header = [h.strip() for h in rows[0]]
    if header not in (["step", "lr", "loss"], ["step", "loss"]):
        raise ValueError(f"{path!s}: header must be 'step,lr,loss' or 'step,loss', got {rows[0]}")
    body = [r for r in rows[1:] if r]
    if not body:
        raise ValueError(f"{path!s}: no data rows")
    if any(len(r) != len(header) for r in body):
        raise ValueError(f"{path!s}: every row must have {len(header)} fields")
    try:
        table = np.array(body, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path!s}: non-numeric field ({exc})") from None
    cols = dict(zip(header, table.T))
    steps, loss = cols["step"], cols["loss"]
    name = os.path.splitext(os.path.basename(str(path)))[0] if name is None else name
    if schedule is not None:
        run = Run(schedule, steps, loss, name)
        if "lr" in cols and not np.allclose(run.lr[run.steps], cols["lr"], rtol=1e-6, atol=0):
            raise ValueError(f"{path!s}: the lr column disagrees with schedule at logged steps")
        return run
    if "lr" not in cols:
        raise ValueError(f"{path!s}: no lr column; pass schedule= (array or callable) "
                         "giving the rate at every step")
    if not np.array_equal(steps, np.arange(steps.size)):
        raise ValueError(f"{path!s}: lr is logged at {steps.size} steps, not at every step "
                         f"0..{int(steps.max())}; pass schedule= (array or callable) giving "
                         "the rate at every step")
    return Run(cols["lr"], steps, loss, name)
