"""Plateau across two real processes (torch.distributed, gloo on 127.0.0.1): every rank applies the
same factor and learning rate although each sees a different local metric."""


import numpy as np
import torch
import torch.distributed as dist

from lrdecay import Plateau
from tests._gloo import finish, run_ranks, start

SYNCS = ["mean", "min", "max", "rank0", "none"]
CONFIG = dict(patience=1, factor=0.5, threshold=0.1, threshold_mode="abs", cooldown=1)
BASE_LR = 0.1


def local_trace(rank):
    """A different metric on each rank; the decision depends on how they are reduced."""
    rng = np.random.default_rng(1234 + rank)
    return [float(v) for v in 4.0 - np.arange(24) * 0.05 * (rank + 1) + rng.normal(0, 0.3, 24)]


def run_rank(sync):
    """One rank: drive a Plateau and a real optimizer; the lrs it applied, step by step."""
    plateau = Plateau(**CONFIG, sync=sync)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=BASE_LR)
    factors, lrs = [], []
    for metric in local_trace(dist.get_rank()):
        factors.append(plateau.update(torch.tensor(metric), value=BASE_LR))
        optimizer.param_groups[0]["lr"] = plateau.effective(BASE_LR)
        lrs.append(optimizer.param_groups[0]["lr"])
    return {"factors": factors, "lrs": lrs}


def worker():
    start()
    results = {sync: run_rank(sync) for sync in SYNCS}
    finish(results)


def expected(trace):
    plateau = Plateau(**CONFIG, sync="none")
    return [plateau.update(m, value=BASE_LR) for m in trace]


def test_two_gloo_processes_apply_identical_factors():
    rank0, rank1 = run_ranks(__file__, 2, timeout=120)

    traces = np.array([local_trace(0), local_trace(1)])
    reduced = {"mean": (traces[0] + traces[1]) / 2, "min": traces.min(0), "max": traces.max(0), "rank0": traces[0]}
    for sync, trace in reduced.items():
        assert rank0[sync] == rank1[sync], sync
        np.testing.assert_allclose(rank0[sync]["factors"], expected(trace), rtol=1e-15, err_msg=sync)
        np.testing.assert_allclose(rank0[sync]["lrs"], BASE_LR * np.array(rank0[sync]["factors"]), rtol=1e-15)
    # Different decisions per reduction, and without sync each rank decides alone (and differs).
    assert len({tuple(rank0[sync]["factors"]) for sync in reduced}) > 2
    assert rank0["none"]["factors"] == expected(local_trace(0))
    assert rank1["none"]["factors"] == expected(local_trace(1))
    assert rank0["none"]["factors"] != rank1["none"]["factors"]


def test_no_process_group_means_no_sync():
    assert not dist.is_initialized()
    assert Plateau(sync="mean").update(1.0) == 1.0


if __name__ == "__main__":
    worker()
