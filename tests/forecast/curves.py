"""Shared data for the forecast tests: the loss curves of Luo et al. (ICLR 2025) and their schedules,
rebuilt from the data's README (not from the package)."""
import os
import time
from pathlib import Path

import numpy as np

from lrdecay.forecast import fit, read_csv

#: The curves of Luo et al. (MIT license, data/loss-curves/README.md); another folder of the same
#: layout (one folder per model size) can be given in LOSS_CURVES_DIR.
DATA = Path(os.environ.get("LOSS_CURVES_DIR", Path(__file__).resolve().parents[2] / "data" / "loss-curves"))
PEAK, FLOOR, WARMUP = 3e-4, 3e-5, 2160
FIT_RUNS = ("cosine_24000", "constant_24000", "wsdcon_9")
HELD_OUT = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000",
            "wsdcon_3", "wsdcon_18")
# The README's table (R^2, mean and worst relative error in %) and the authors' parameters.
TABLE = {"25M": (0.9988, 0.110, 0.409), "100M": (0.9983, 0.142, 0.583),
         "400M": (0.9978, 0.168, 0.995)}
AUTHORS = {
    "25M": dict(L0=3.04045406, A=0.52468604, alpha=0.50786857, B=363.78751622, C=2.06560812,
                beta=0.58279013, gamma=0.64142257),
    "100M": dict(L0=2.6514477, A=0.60115152, alpha=0.45295811, B=437.9464276, C=2.13245612,
                 beta=0.59785199, gamma=0.65523644),
}
SIZES = sorted(p.name for p in DATA.iterdir() if p.is_dir())
assert SIZES, f"no model sizes in {DATA}"


def schedule(name: str) -> np.ndarray:
    """The per-step rate of a run, from the README's table."""
    total = {"constant_72000": 72000, "cosine_72000": 72000}.get(
        name, 16000 if name.startswith("wsdcon") else 24000)
    t = np.arange(total, dtype=np.float64)
    lr = np.full(total, PEAK)
    lr[:WARMUP] = np.linspace(0, PEAK, WARMUP)
    if name.startswith("cosine"):
        x = (t[WARMUP:] - WARMUP) / (total - WARMUP)
        lr[WARMUP:] = FLOOR + (PEAK - FLOOR) * 0.5 * (1 + np.cos(np.pi * x))
    elif name.startswith("wsdld"):
        late = t >= 20000
        lr[late] = PEAK + (FLOOR - PEAK) * (t[late] - 20000) / 4000
    elif name.startswith("wsd_"):
        late = t >= 20000
        lr[late] = PEAK ** ((24000 - t[late]) / 4000) * FLOOR ** ((t[late] - 20000) / 4000)
    elif name.startswith("wsdcon"):
        lr[8000:] = {"3": PEAK * 0.1, "9": 9e-5, "18": 1.8e-4}[name.split("_")[1]]
    return lr


def load_run(size: str, name: str):
    """A run as the paper's protocol uses it: runs ending at 24000 keep steps < 24000."""
    run = read_csv(DATA / size / f"{name}.csv", schedule(name))
    return run.truncate(24000) if name.endswith("24000") else run


_FITS = {}


def fitted(size, runs, names=FIT_RUNS, law="multi_power"):
    """``(law, seconds)``, cached across tests."""
    key = (size, tuple(names), law)
    if key not in _FITS:
        t0 = time.perf_counter()
        result = fit([runs[n] for n in names], law)
        _FITS[key] = (result, time.perf_counter() - t0)
    return _FITS[key]
