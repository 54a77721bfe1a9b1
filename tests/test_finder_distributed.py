"""``lrdecay.torch.lr_find`` across two real processes (torch.distributed, gloo on 127.0.0.1, a
DistributedDataParallel model): each rank sees different data, the loss is averaged over the
ranks, so both ranks record the same curve and get the same suggestions -- the curve of one
process training on both ranks' batches together -- and both models are restored."""


import numpy as np
import torch
import torch.distributed as dist

from lrdecay.torch.finder import lr_find
from tests._gloo import finish, run_ranks, start

SETTINGS = dict(start_lr=1e-4, end_lr=50.0, num_steps=60)


def batches(rank, count=8, size=16):
    """Rank ``rank``'s batches: its own slice of one fixed data set (float64)."""
    generator = torch.Generator().manual_seed(42)
    x = torch.randn(2 * count * size, 5, generator=generator, dtype=torch.float64)
    y = torch.sin(x[:, :1]) + x[:, 1:2] + 0.1 * torch.randn(len(x), 1, generator=generator, dtype=torch.float64)
    return [(x[i:i + size], y[i:i + size]) for i in range(rank * count * size, (rank + 1) * count * size, size)]


def model_and_optimizer():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def worker():
    start()
    model, optimizer = model_and_optimizer()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    before = [p.detach().clone() for p in model.parameters()]
    result = lr_find(ddp, optimizer, torch.nn.functional.mse_loss, batches(dist.get_rank()), **SETTINGS)
    restored = all(torch.equal(a, b) for a, b in zip(before, model.parameters())) and not optimizer.state
    finish({**result.to_dict(), "restored": restored})


def test_two_gloo_processes_get_the_same_suggestion():
    rank0, rank1 = run_ranks(__file__, 2)
    assert rank0["restored"] and rank1["restored"]
    assert rank0 == rank1  # the same curve, stop and suggestions, to the bit
    assert rank0["suggestion"] is not None

    # one process on both ranks' batches at once: DDP averages the gradients, lr_find the losses
    model, optimizer = model_and_optimizer()
    together = [(torch.cat([a[0], b[0]]), torch.cat([a[1], b[1]])) for a, b in zip(batches(0), batches(1))]
    single = lr_find(model, optimizer, torch.nn.functional.mse_loss, together, **SETTINGS)
    assert single.stopped == rank0["stopped"] and single.steps_run == len(rank0["losses"])
    np.testing.assert_allclose(rank0["losses"], single.losses, rtol=1e-9)
    # and each rank alone would have seen a different curve
    alone = lr_find(model, optimizer, torch.nn.functional.mse_loss, batches(0), **SETTINGS)
    assert not np.allclose(alone.losses[:5], single.losses[:5])


if __name__ == "__main__":
    worker()
