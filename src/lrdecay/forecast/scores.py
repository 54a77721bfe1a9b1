"""Goodness of a predicted loss curve, as in the multi-power-law paper's table."""
from __future__ import annotations

import numpy as np


def metrics(pred, measured) -> dict:
    """``r2`` = 1 - SS_res / SS_tot, ``mean_rel`` and ``max_rel`` = mean and largest
    ``|pred - measured| / measured`` (fractions, not percent)."""
    pred = np.asarray(pred, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    if pred.shape != measured.shape or pred.ndim != 1 or pred.size < 2:
        raise ValueError(f"pred, measured: need two 1-D arrays of one length >= 2, got shapes "
                         f"{pred.shape}, {measured.shape}")
    if not (np.all(np.isfinite(pred)) and np.all(np.isfinite(measured))):
        raise ValueError("pred, measured: must be finite")
    if np.any(measured <= 0):
        raise ValueError("measured: must be > 0")
    rel = np.abs(pred - measured) / measured
    ss_tot = np.sum((measured - measured.mean()) ** 2)
    r2 = 1.0 - np.sum((pred - measured) ** 2) / ss_tot if ss_tot > 0 else float("nan")
    return {"r2": float(r2), "mean_rel": float(rel.mean()), "max_rel": float(rel.max())}
