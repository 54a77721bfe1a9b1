"""Resume across a change of world size and micro-batch size in the middle of a batch-size ramp:
two gloo processes (micro-batches of 4) train for a while and save a checkpoint, one process
(micro-batches of 8) resumes it. The learning rate of every step
and the sample position (which samples each step consumed) are exactly those of the plan: the
ramp's clock is in samples, so it does not depend on the world size or the micro-batch size."""

import sys

import torch
import torch.distributed as dist

import lrdecay
from lrdecay.torch import ScheduleLR
from tests._gloo import finish, run_ranks, start

RAMP = lrdecay.batch_ramp(8, 32, 8, 600)
#: Megatron's rate, counted in samples: warm-up over 300 samples, cosine decay to 20 000
SCHEDULE = lrdecay.megatron_lr(0.1, 20_000, min_lr=0.01, warmup_steps=300, decay_style="cosine")
MICRO_BATCHES = (4, 8)  # micro-batch size before and after the resume
FIRST_STEPS, RESUMED_STEPS = 17, 46  # the ramp ends at step 46: the switch is mid-ramp


def sample(i):
    x = torch.tensor([float(i % 7), float(i % 11), 1.0])
    return x, x.sum() * 0.1


def train(steps, load, save, micro_batch):
    """Data-parallel SGD: each rank takes its micro-batches of the global batch, gradients are
    all-reduced; the scheduler's clock counts samples (step(global batch))."""
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = ScheduleLR(optimizer, SCHEDULE, clock="samples")
    if load:
        state = torch.load(load, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    log = []
    for _ in range(steps):
        consumed = scheduler.last_epoch
        step = RAMP.step_at(consumed)
        batch = RAMP.batch_size(consumed)
        indices = []
        optimizer.zero_grad()
        for m in range(RAMP.micro_batches(step, micro_batch, world)):
            first = consumed + (m * world + rank) * micro_batch
            for i in range(first, first + micro_batch):
                x, y = sample(i)
                ((model(x) - y) ** 2).sum().div(batch).backward()
                indices.append(i)
        for p in model.parameters():
            dist.all_reduce(p.grad)
        log.append({"step": step, "samples": consumed, "lr": optimizer.param_groups[0]["lr"], "indices": indices})
        optimizer.step()
        scheduler.step(batch)
    if save and rank == 0:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict()}, save)
    return log


def worker(steps, load, save, micro_batch):
    start()
    log = train(steps, load or None, save or None, micro_batch)
    finish(log)


def run(world, steps, micro_batch, load="", save=""):
    return run_ranks(__file__, world, (steps, load, save, micro_batch))


def test_resume_on_fewer_processes_mid_ramp_keeps_rate_and_sample_position(tmp_path):
    checkpoint = str(tmp_path / "checkpoint.pt")
    two = run(2, FIRST_STEPS, MICRO_BATCHES[0], save=checkpoint)
    (one,) = run(1, RESUMED_STEPS - FIRST_STEPS + 10, MICRO_BATCHES[1], load=checkpoint)
    assert 0 < FIRST_STEPS < RAMP.ramp_steps <= RESUMED_STEPS  # switched mid-ramp, resumed past its end

    steps = [entry["step"] for entry in two[0] + one]
    assert steps == list(range(RESUMED_STEPS + 10))
    for log in (two[0], two[1], one):
        for entry in log:
            assert entry["samples"] == RAMP.samples(entry["step"])
            assert entry["lr"] == SCHEDULE(RAMP.samples(entry["step"]))  # exact: the plan's rate
    assert two[0][-1]["samples"] + RAMP.batch_size_at(FIRST_STEPS - 1) == one[0]["samples"] == RAMP.samples(FIRST_STEPS)
    # every sample consumed exactly once, in order of steps, across the change of world size
    consumed = sorted(i for log in (two[0], two[1]) for entry in log for i in entry["indices"])
    consumed += [i for entry in one for i in entry["indices"]]
    assert consumed == list(range(RAMP.samples(RESUMED_STEPS + 10)))
    assert [len(e["indices"]) for e in two[0]] == [RAMP.batch_size_at(k) // 2 for k in range(FIRST_STEPS)]


if __name__ == "__main__":
    worker(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]))
