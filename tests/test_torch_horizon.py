"""ScheduleLR warns once when its clock runs past the end a schedule was planned for and the value
climbs back (torch's CosineAnnealingLR past T_max, Hugging Face's cosine past its training
steps: epochs passed as steps, a dataset without a length, accumulation); a schedule that holds
its value after its end, or that cycles by design, never warns."""

import warnings

import pytest
import torch
from torch.optim import lr_scheduler as L

import lrdecay
from lrdecay.torch import ScheduleLR


def optimizer(groups=1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(2))]} for _ in range(groups)], lr=0.1,
                           momentum=0.9)


def run(scheduler, steps, n=None):
    """The clock after each step() that warned, with the warnings' messages."""
    caught = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(steps):
            before = len(seen)
            scheduler.step() if n is None else scheduler.step(n)
            caught += [(scheduler.last_epoch, str(w.message)) for w in seen[before:]
                       if issubclass(w.category, UserWarning)]
    return caught


@pytest.mark.parametrize("schedule, end, first_rise", [
    (lrdecay.cosine_annealing(0.1, 10), 10, 11),
    (lrdecay.cosine_annealing(0.1, 10, eta_min=0.01), 10, 11),
    (lrdecay.join([lrdecay.linear(0.01, 0.1, 5), lrdecay.cosine_annealing(0.1, 20)], [5]), 25, 26),
    (lrdecay.per_epoch(lrdecay.cosine_annealing(0.1, 3), 10), 30, 40),  # holds each epoch's value
    (lrdecay.warmup(lrdecay.cosine_annealing(0.1, 12), 4), 16, 17),
    (lrdecay.cosine_annealing(0.1, 10).clip(0.0, 0.05), 10, 11),
    (lrdecay.from_hf("cosine", 5, 30, learning_rate=0.1), 30, 31),
])
def test_climbing_back_past_the_planned_end_warns_once_naming_schedule_and_step(schedule, end, first_rise):
    scheduler = ScheduleLR(optimizer(), schedule, clock="calls")
    caught = run(scheduler, 4 * end)
    assert len(caught) == 1, caught
    step, message = caught[0]
    assert step == first_rise
    assert message.startswith(f"ScheduleLR: {schedule!r} was planned to end at step {end} and climbs back after it")
    assert f"at step {first_rise})" in message and "clock ('calls')" in message


def test_torch_cosine_annealing_epochs_given_as_steps():
    """CosineAnnealingLR(T_max=epochs) taken over and stepped once per update: the rate climbs
    back after T_max updates, as torch's would; ScheduleLR says so at the first climbing step."""
    opt = optimizer()
    torch_scheduler = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 3), L.CosineAnnealingLR(opt, 7)], [3])
    scheduler = ScheduleLR(opt, lrdecay.from_torch(torch_scheduler))  # clock="updates"
    caught = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(30):
            opt.step()
            if seen and not caught:
                caught.append(scheduler.last_epoch)
    assert caught == [11] and len(seen) == 1 and "join(" in str(seen[0].message)


def test_a_count_clock_jumping_past_the_end():
    scheduler = ScheduleLR(optimizer(), lrdecay.cosine_annealing(0.1, 1000), clock="samples")
    caught = run(scheduler, 40, n=64)
    assert [step for step, _ in caught] == [1024]
    assert "at step 1000 and climbs back" in caught[0][1] and "clock ('samples')" in caught[0][1]


def test_once_per_scheduler_even_after_reloading():
    opt = optimizer(2)
    scheduler = ScheduleLR(opt, [lrdecay.cosine_annealing(0.1, 5), lrdecay.cosine_annealing(0.2, 8)], clock="calls",
                           hyperparams={"momentum": lrdecay.cosine_annealing(0.9, 6, 0.85)})
    assert [step for step, _ in run(scheduler, 7)] == [6]  # the momentum's and the first lr's end
    opt.load_state_dict(opt.state_dict())
    scheduler.load_state_dict(scheduler.state_dict())
    assert run(scheduler, 30) == []


@pytest.mark.parametrize("schedule", [
    lrdecay.cosine_decay(0.1, 10),  # holds its end value
    lrdecay.cosine_annealing(0.1, 10, eta_min=0.1),  # never climbs
    lrdecay.join([lrdecay.cosine_annealing(0.1, 10), lrdecay.constant(0.0)], [10]),  # held after t_max
    lrdecay.cosine_annealing_warm_restarts(0.1, 4, 2),  # cycles by design
    lrdecay.cyclic(0.01, 0.1, 3),
    lrdecay.one_cycle(0.1, 20),
    lrdecay.exponential(0.1, 0.9),
    lrdecay.from_hf("cosine_with_restarts", 5, 30, learning_rate=0.1, num_cycles=2),
    lrdecay.from_hf("linear", 5, 30, learning_rate=0.1),
    lrdecay.cycle(lrdecay.cosine_decay(0.1, 5), 5, period_mul=2),
])
def test_schedules_that_hold_or_cycle_by_design_do_not_warn(schedule):
    scheduler = ScheduleLR(optimizer(), schedule, clock="calls",
                           hyperparams={"momentum": lrdecay.one_cycle(0.1, 20).momentum()})
    assert run(scheduler, 120) == []


def test_stopping_at_the_end_does_not_warn():
    scheduler = ScheduleLR(optimizer(), lrdecay.cosine_annealing(0.1, 10), clock="calls")
    assert run(scheduler, 10) == [] and scheduler.last_epoch == 10
    assert run(scheduler, 1)[0][0] == 11
