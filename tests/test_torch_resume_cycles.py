"""OneCycleLR and CyclicLR with cycle_momentum=True, against real torch: a run resumed from torch's
own state_dict the way the README and the PyTorch guide teach follows the uninterrupted torch run
(lr, momentum or betas, weight decay at every step, and the final loss), or is refused with a
message that says what to write; ``hyperparams={"momentum": ...}`` drives Adam's ``betas[0]`` as
torch's OneCycleLR does."""

import ast
import io
import re

import pytest
import torch
from torch.optim import lr_scheduler as L

import lrdecay
from lrdecay.torch import ScheduleLR

SCHEDULERS = {
    "OneCycleLR": lambda o: L.OneCycleLR(o, max_lr=0.05, total_steps=60, pct_start=0.3),
    "OneCycleLR-three-phase": lambda o: L.OneCycleLR(o, max_lr=0.05, total_steps=60, three_phase=True,
                                                     anneal_strategy="linear"),
    "CyclicLR": lambda o: L.CyclicLR(o, 0.005, 0.05, step_size_up=4, step_size_down=6, mode="triangular2",
                                     base_momentum=0.8, max_momentum=0.9),
}
OPTIMIZERS = {
    "SGD": lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "AdamW": lambda params: torch.optim.AdamW(params, lr=0.05, weight_decay=1e-2),
}
BEFORE, AFTER = 17, 40

X = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(8, 3)
Y = torch.sin(3 * X.sum(1, keepdim=True))


def model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


def update(net, optimizer):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(net(X), Y)
    loss.backward()
    optimizer.step()
    return loss.item()


def values(optimizer):
    """What the torch scheduler drives and what it must leave alone, per group."""
    return [(g["lr"], g.get("momentum"), tuple(g.get("betas", ())), g["weight_decay"]) for g in optimizer.param_groups]


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def loaded(data: bytes):
    """A fresh copy of a checkpoint: a resumed optimizer updates its state tensors in place."""
    return torch.load(io.BytesIO(data), weights_only=True)


def torch_run(make_scheduler, make_optimizer):
    """BEFORE updates with torch's scheduler, a checkpoint, then AFTER more: the checkpoint, the
    values before each later update and the final loss."""
    net = model()
    optimizer = make_optimizer(net.parameters())
    scheduler = make_scheduler(optimizer)
    for _ in range(BEFORE):
        update(net, optimizer), scheduler.step()
    checkpoint = saved({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()})
    seen = []
    for _ in range(AFTER):
        seen.append(values(optimizer))
        update(net, optimizer), scheduler.step()
    return checkpoint, seen, torch.nn.functional.mse_loss(net(X), Y).item()


def resumed_run(data, scheduler):
    """AFTER updates with ``scheduler(build) -> ScheduleLR`` (``build(make_optimizer)``: the
    resumed optimizer), from the checkpoint."""
    checkpoint = loaded(data)
    net = model(seed=1)
    net.load_state_dict(checkpoint["model"])
    optimizer = None

    def build(make_optimizer):
        nonlocal optimizer
        optimizer = make_optimizer(net.parameters())
        optimizer.load_state_dict(checkpoint["optimizer"])
        return optimizer

    sched = scheduler(build)
    assert sched.last_epoch == BEFORE
    seen = []
    for _ in range(AFTER):
        seen.append(values(optimizer))
        update(net, optimizer), sched.step()
    return seen, torch.nn.functional.mse_loss(net(X), Y).item()


def assert_same_run(resumed, reference):
    (seen, loss), (expected, expected_loss) = resumed, reference
    for step, (mine, theirs) in enumerate(zip(seen, expected)):
        for (lr, momentum, betas, wd), (t_lr, t_momentum, t_betas, t_wd) in zip(mine, theirs):
            assert lr == pytest.approx(t_lr, rel=1e-12), step
            assert (momentum is None) == (t_momentum is None)
            if momentum is not None:
                assert momentum == pytest.approx(t_momentum, rel=1e-12), step
            assert betas == pytest.approx(t_betas, rel=1e-12), step
            assert wd == t_wd
    assert loss == pytest.approx(expected_loss, rel=1e-9)


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_the_guides_resume_pattern_is_exact_or_says_what_to_write(name, optimizer_name):
    """ScheduleLR(optimizer, lrdecay.from_torch(old), clock="calls") + load_state_dict(torch's
    state): the momentum torch cycles is compared too. Left unscheduled, it is refused with the
    hyperparams to write; written so, the run is torch's, momentum (or betas[0]) included."""
    make_scheduler, make_optimizer = SCHEDULERS[name], OPTIMIZERS[optimizer_name]
    data, expected, expected_loss = torch_run(make_scheduler, make_optimizer)
    checkpoint = loaded(data)
    message = []

    def readme_pattern(build):
        optimizer = build(make_optimizer)
        old = make_scheduler(optimizer)  # the scheduler the run was started with
        scheduler = ScheduleLR(optimizer, lrdecay.from_torch(old), clock="calls")
        try:
            scheduler.load_state_dict(checkpoint["scheduler"])
            return scheduler
        except ValueError as error:
            message.append(str(error))
        written = re.search(r"hyperparams=(\{.*?\})", message[0])
        assert written, message[0]
        hyperparams = ast.literal_eval(written.group(1))
        assert list(hyperparams) == ["beta1" if optimizer_name == "AdamW" else "momentum"]
        scheduler = ScheduleLR(optimizer, lrdecay.from_torch(old), hyperparams=hyperparams, clock="calls")
        scheduler.load_state_dict(checkpoint["scheduler"])
        return scheduler

    assert_same_run(resumed_run(data, readme_pattern), (expected, expected_loss))
    assert message and "frozen" in message[0] and "on_mismatch='use_saved'" in message[0]


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_use_saved_and_from_torch_resume_exactly(name, optimizer_name):
    make_scheduler, make_optimizer = SCHEDULERS[name], OPTIMIZERS[optimizer_name]
    data, *reference = torch_run(make_scheduler, make_optimizer)
    checkpoint = loaded(data)

    def use_saved(build):
        optimizer = build(make_optimizer)
        scheduler = ScheduleLR(optimizer, lrdecay.from_torch(make_scheduler(optimizer)), clock="calls")
        scheduler.load_state_dict(checkpoint["scheduler"], on_mismatch="use_saved")
        return scheduler

    def taken_over(build):
        optimizer = build(make_optimizer)
        scheduler = ScheduleLR.from_torch(make_scheduler(optimizer))
        scheduler.load_state_dict(checkpoint["scheduler"])
        return scheduler

    assert_same_run(resumed_run(data, use_saved), reference)
    assert_same_run(resumed_run(data, taken_over), reference)


def test_a_different_momentum_curve_is_refused_and_use_new_keeps_it():
    checkpoint = loaded(torch_run(SCHEDULERS["OneCycleLR"], OPTIMIZERS["SGD"])[0])
    net = model()
    optimizer = OPTIMIZERS["SGD"](net.parameters())
    optimizer.load_state_dict(checkpoint["optimizer"])
    one_cycle = lrdecay.from_torch(SCHEDULERS["OneCycleLR"](optimizer))
    other = one_cycle.momentum(0.8, 0.9)
    scheduler = ScheduleLR(optimizer, one_cycle, hyperparams={"momentum": other}, clock="calls")
    with pytest.raises(ValueError, match=r"drives param group 0's momentum with one_cycle_momentum\(.*this "
                                         r"ScheduleLR with one_cycle_momentum\(.*base_momentum=0.8"):
        scheduler.load_state_dict(checkpoint["scheduler"])
    assert scheduler.last_epoch == 0
    scheduler.load_state_dict(checkpoint["scheduler"], on_mismatch="use_new")
    assert scheduler.last_epoch == BEFORE and optimizer.param_groups[0]["momentum"] == other(BEFORE)


def test_use_new_leaves_the_momentum_alone_and_the_spec_as_it_was():
    checkpoint = loaded(torch_run(SCHEDULERS["CyclicLR"], OPTIMIZERS["AdamW"])[0])
    optimizer = OPTIMIZERS["AdamW"](model().parameters())
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler = ScheduleLR(optimizer, lrdecay.from_torch(SCHEDULERS["CyclicLR"](optimizer)), clock="calls")
    spec, betas = scheduler.spec(), optimizer.param_groups[0]["betas"]
    scheduler.load_state_dict(checkpoint["scheduler"], on_mismatch="use_new")
    assert scheduler.spec() == spec and list(scheduler.state_dict()["bases"]) == ["lr"]
    assert scheduler.last_epoch == BEFORE and optimizer.param_groups[0]["betas"] == betas


# -- Adam's momentum is betas[0] ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@pytest.mark.parametrize("adam", [torch.optim.Adam, torch.optim.AdamW])
def test_momentum_drives_adams_beta1_as_torch_does(name, adam):
    """hyperparams={"momentum": ...} on Adam: torch's OneCycleLR/CyclicLR cycle betas[0]; so does
    ScheduleLR, step by step, with beta2 left alone."""
    reference_net, net = model(), model()
    reference = adam(reference_net.parameters(), lr=0.05, betas=(0.9, 0.99))
    optimizer = adam(net.parameters(), lr=0.05, betas=(0.9, 0.99))
    torch_scheduler = SCHEDULERS[name](reference)
    schedule = lrdecay.from_torch(torch_scheduler)
    group = reference.param_groups[0]
    momentum = schedule.momentum(group["base_momentum"], group["max_momentum"])
    scheduler = ScheduleLR(optimizer, schedule, hyperparams={"momentum": momentum}, clock="calls")
    for step in range(55):
        lr, (beta1, beta2) = optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"]
        t_lr, (t_beta1, t_beta2) = reference.param_groups[0]["lr"], reference.param_groups[0]["betas"]
        assert (lr, beta1) == pytest.approx((t_lr, t_beta1), rel=1e-12), step
        assert beta2 == t_beta2 == 0.99
        update(reference_net, reference), torch_scheduler.step()
        update(net, optimizer), scheduler.step()
    for mine, theirs in zip(net.parameters(), reference_net.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-9, atol=1e-12)


def test_momentum_and_beta1_together_are_refused():
    optimizer = torch.optim.Adam(model().parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"'momentum' and 'beta1' both schedule betas\[0\] of param group 0"):
        ScheduleLR(optimizer, lrdecay.constant(0.01),
                   hyperparams={"momentum": lrdecay.constant(0.9), "beta1": lrdecay.constant(0.8)})
    with pytest.raises(ValueError, match="param group 0 has no 'momentum' to schedule"):
        ScheduleLR(torch.optim.Adagrad(model().parameters(), lr=0.01), lrdecay.constant(0.01),
                   hyperparams={"momentum": lrdecay.constant(0.9)})
