"""Switching from PyTorch: lrdecay.from_torch against the real schedulers, ScheduleLR.from_torch,
resuming a run started with torch's scheduler from its own state_dict, and the once-per-epoch
clock warning."""

import io
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR

import lrdecay
from lrdecay.torch import ScheduleLR

warnings.filterwarnings("ignore", message=".*epoch parameter in `scheduler.step", category=UserWarning)


def model_and_optimizer(groups=1, lr=0.1, momentum=0.9, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.ModuleList([torch.nn.Linear(3, 1).double() for _ in range(groups)])
    params = [{"params": layer.parameters(), "lr": lr * (i + 1)} for i, layer in enumerate(model)]
    return model, torch.optim.SGD(params, lr=lr, momentum=momentum)


def train_step(model, optimizer, step):
    x = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(4, 3) * (0.1 + 0.1 * (step % 3))
    optimizer.zero_grad()
    sum(layer(x).sum() for layer in model).backward()  # linear: an ulp of lr stays an ulp of weight
    optimizer.step()


SCHEDULERS = {
    "StepLR": lambda o: L.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda o: L.MultiStepLR(o, [5, 10, 10, 20], 0.7),
    "ConstantLR": lambda o: L.ConstantLR(o, 0.25, 7),
    "ConstantLR-0": lambda o: L.ConstantLR(o, 0.25, 0),  # torch never lifts the factor
    "LinearLR-0": lambda o: L.LinearLR(o, 0.5, 1.0, 0),
    "PolynomialLR-0": lambda o: L.PolynomialLR(o, 0),
    "LinearLR": lambda o: L.LinearLR(o, 0.1, 1.0, 10),
    "ExponentialLR": lambda o: L.ExponentialLR(o, 0.97),
    "PolynomialLR": lambda o: L.PolynomialLR(o, 20, 2.0),
    "CosineAnnealingLR": lambda o: L.CosineAnnealingLR(o, 15, 0.001),
    "CosineAnnealingWarmRestarts": lambda o: L.CosineAnnealingWarmRestarts(o, 5, 2, 0.001),
    "CyclicLR": lambda o: L.CyclicLR(o, 0.01, 0.1, 4, 6, mode="triangular2"),
    "CyclicLR-exp_range": lambda o: L.CyclicLR(o, 0.01, 0.1, 5, mode="exp_range", gamma=0.99),
    "OneCycleLR": lambda o: L.OneCycleLR(o, [0.5, 0.7][: len(o.param_groups)], total_steps=70, pct_start=0.25),
    "OneCycleLR-linear-3": lambda o: L.OneCycleLR(o, 0.5, total_steps=70, anneal_strategy="linear",
                                                 three_phase=True),
    "SequentialLR": lambda o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, 1.0, 5), L.CosineAnnealingLR(o, 30), L.StepLR(o, 4)], [5, 20]),
    "ChainedScheduler": lambda o: L.ChainedScheduler(
        [L.ConstantLR(o, 0.5, 4), L.ExponentialLR(o, 0.9), L.StepLR(o, 5, 0.5)]),
    "SWALR": lambda o: SWALR(o, swa_lr=0.01, anneal_epochs=12),
    "SWALR-linear-0": lambda o: SWALR(o, swa_lr=0.01, anneal_epochs=0, anneal_strategy="linear"),
}


def torch_rates(scheduler, steps):
    """The rate of every group after 0, 1, ..., steps - 1 calls of scheduler.step()."""
    rates = []
    for _ in range(steps):
        rates.append([g["lr"] for g in scheduler.optimizer.param_groups])
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_from_torch_gives_torch_rates(name, groups):
    _, optimizer = model_and_optimizer(groups)
    scheduler = SCHEDULERS[name](optimizer)
    schedule = lrdecay.from_torch(scheduler)
    per_group = schedule if isinstance(schedule, list) else [schedule] * groups
    same = ("CyclicLR", "CyclicLR-exp_range", "OneCycleLR-linear-3", "SWALR-linear-0")
    assert isinstance(schedule, list) == (groups == 2 and name not in same)
    assert [lrdecay.from_torch(scheduler, group=i) for i in range(groups)] == per_group
    for s in per_group:
        assert lrdecay.parse(repr(s)) == s  # a spec like any other
    expected = torch_rates(scheduler, 70)
    got = np.array([[s(t) for s in per_group] for t in range(70)])
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)


def test_from_torch_reads_hugging_face_lambdas():
    transformers = pytest.importorskip("transformers")
    for name, kwargs in [("linear", {}), ("cosine", {}), ("cosine_with_restarts", {"num_cycles": 3}),
                         ("polynomial", {"power": 2.0}), ("constant", {}), ("constant_with_warmup", {}),
                         ("inverse_sqrt", {}), ("cosine_with_min_lr", {"min_lr_rate": 0.1}),
                         ("cosine_warmup_with_min_lr", {"min_lr": 0.001, "warmup_lr_rate": 0.2}),
                         ("warmup_stable_decay", {"num_decay_steps": 20, "decay_type": "1-sqrt"})]:
        _, optimizer = model_and_optimizer()
        scheduler = transformers.get_scheduler(name, optimizer, 10, 60, scheduler_specific_kwargs=kwargs)
        expected = torch_rates(scheduler, 70)[:, 0]
        for schedule in (lrdecay.from_torch(scheduler), lrdecay.from_hf(name, 10, 60, learning_rate=0.1, **kwargs)):
            np.testing.assert_allclose([schedule(t) for t in range(70)], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: L.LambdaLR(o, lambda t: 0.9 ** t), ValueError, "LambdaLR holds a Python function"),
    (lambda o: L.MultiplicativeLR(o, lambda t: 0.9), ValueError, "MultiplicativeLR holds a Python function"),
    (lambda o: L.ReduceLROnPlateau(o), ValueError, "plateau=lrdecay.Plateau"),
    (lambda o: L.ChainedScheduler([L.OneCycleLR(o, 0.5, total_steps=60), L.ExponentialLR(o, 0.99)]),
     ValueError, r"_schedulers\[0\]: OneCycleLR inside a ChainedScheduler sets the lr"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 3), L.LambdaLR(o, lambda t: 1.0)], [4]),
     ValueError, r"scheduler._schedulers\[1\]: LambdaLR holds a Python function"),
    (lambda o: L.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 0.5), ValueError, "custom scale_fn"),
    (lambda o: type("MyStepLR", (L.StepLR,), {})(o, 3), ValueError, "MyStepLR subclasses torch's StepLR"),
    (lambda o: o, TypeError, "must be a torch.optim.lr_scheduler object, got SGD"),
    (lambda o: L.StepLR(o, 3).state_dict(), TypeError, "give it to ScheduleLR.load_state_dict"),
])
def test_from_torch_refuses_what_it_cannot_read(make, error, message):
    _, optimizer = model_and_optimizer()
    with pytest.raises(error, match=message):
        lrdecay.from_torch(make(optimizer))


def test_from_torch_group_argument():
    _, optimizer = model_and_optimizer(2)
    scheduler = L.StepLR(optimizer, 3)
    assert lrdecay.from_torch(scheduler, group=1) == lrdecay.step_decay(0.2, 3)
    for bad in (2, -1, 0.5, True):
        with pytest.raises(ValueError, match=r"group must be an int in \[0, 2\)"):
            lrdecay.from_torch(scheduler, group=bad)


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR", "SequentialLR", "CosineAnnealingWarmRestarts", "SWALR"])
def test_schedulelr_from_torch_takes_over_mid_run(name):
    """Half the run with torch's scheduler, then ScheduleLR.from_torch on the same optimizer: the
    rates (and OneCycleLR/CyclicLR's momentum) continue as torch's would."""
    model, optimizer = model_and_optimizer(2)
    reference = SCHEDULERS[name](optimizer)
    twin_model, twin = model_and_optimizer(2)
    scheduler = SCHEDULERS[name](twin)
    for step in range(23):
        train_step(model, optimizer, step), reference.step()
        train_step(twin_model, twin, step), scheduler.step()
    taken_over = ScheduleLR.from_torch(scheduler)
    assert taken_over.clock == "calls" and taken_over.last_epoch == 23
    for step in range(23, 69):
        assert taken_over.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-13)
        for mine, theirs in zip(twin.param_groups, optimizer.param_groups):
            assert mine["momentum"] == pytest.approx(theirs["momentum"], rel=1e-13)
        train_step(model, optimizer, step), reference.step()
        train_step(twin_model, twin, step), taken_over.step()


# -- a live lr that is not the schedule's -----------------------------------------------------------

LIVE = {  # what was changed by hand: (the live lr, the schedule's value, the step)
    "lr": (0.05, 0.1, 0),
    "last_epoch": (0.1, 0.05, 50),
    "initial_lr": (0.1, 0.2, 0),
}


def hand_set(case, groups=1):
    _, optimizer = model_and_optimizer(groups)
    if case == "initial_lr":  # left by an earlier scheduler: torch keeps it as its base_lr
        optimizer.param_groups[-1]["initial_lr"] = 0.2 * groups
    scheduler = L.StepLR(optimizer, 30, 0.5)
    if case == "lr":
        optimizer.param_groups[-1]["lr"] = 0.05 * groups
    if case == "last_epoch":
        scheduler.last_epoch = 50
    return optimizer, scheduler


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("case", sorted(LIVE))
def test_a_live_lr_that_is_not_the_schedules_is_refused_naming_both(case, groups):
    group = 0 if case == "last_epoch" else groups - 1  # the first group that differs (the last one set)
    live, scheduled, step = LIVE[case]
    live, scheduled = live * (group + 1), scheduled * (group + 1)
    message = (rf"param group {group}: its lr is {live} but the StepLR gives {scheduled} at step {step} .*"
               r"pass on_mismatch='rescale'")
    for take_over in (lrdecay.from_torch, ScheduleLR.from_torch):
        optimizer, scheduler = hand_set(case, groups)
        with pytest.raises(ValueError, match=message):
            take_over(scheduler)
        assert optimizer.param_groups[group]["lr"] == live  # nothing was written


@pytest.mark.parametrize("case", sorted(LIVE))
def test_rescale_continues_as_torch_does(case):
    """on_mismatch='rescale': the schedule scaled to the live lr, which is what torch's StepLR
    (it multiplies the live lr) goes on with."""
    optimizer, scheduler = hand_set(case)
    expected = torch_rates(scheduler, 70)[:, 0]
    twin_optimizer, twin = hand_set(case)
    assert lrdecay.from_torch(twin, on_mismatch="rescale")(LIVE[case][2]) == LIVE[case][0]
    taken_over = ScheduleLR.from_torch(twin, on_mismatch="rescale")
    got = []
    for _ in range(70):
        got.append(twin_optimizer.param_groups[0]["lr"])
        twin_optimizer.step(), taken_over.step()
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert len(set(expected)) > 1
    with pytest.raises(ValueError, match="on_mismatch must be one of 'raise', 'rescale', got 'use_saved'"):
        lrdecay.from_torch(twin, on_mismatch="use_saved")


def test_a_torch_state_whose_rates_left_the_schedule_is_refused():
    """torch's state says which rate it set last: a run whose lr was changed by hand does not
    resume at the closed form's rate without a word."""
    _, optimizer = model_and_optimizer()
    scheduler = L.StepLR(optimizer, 7, 0.5)
    optimizer.param_groups[0]["lr"] = 0.05  # by hand: torch's StepLR goes on from it
    for _ in range(9):
        optimizer.step(), scheduler.step()
    state = saved(scheduler.state_dict())
    own = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 7, 0.5), clock="calls")
    with pytest.raises(ValueError, match=r"torch StepLR state set param group 0's lr to 0.025 at step 9, the "
                                         r"schedule gives 0.05 there .*on_mismatch='use_new'"):
        own.load_state_dict(state)
    assert own.last_epoch == 0
    own.load_state_dict(state, on_mismatch="use_new")
    assert own.last_epoch == 9 and own.get_last_lr() == [0.05]


# -- resuming a torch run under lrdecay -------------------------------------------------------------

RESUMABLE = {  # torch's scheduler, and the lrdecay schedule a user would write for it
    "StepLR": (lambda o: L.StepLR(o, 7, 0.5), lambda lr: lrdecay.step_decay(lr, 7, 0.5)),
    "MultiStepLR": (lambda o: L.MultiStepLR(o, [10, 25], 0.1), lambda lr: lrdecay.multistep_decay(lr, [10, 25])),
    "CosineAnnealingLR": (lambda o: L.CosineAnnealingLR(o, 40, 1e-4),
                          lambda lr: lrdecay.cosine_annealing(lr, 40, 1e-4)),
    "OneCycleLR": (lambda o: L.OneCycleLR(o, [0.4, 0.8], total_steps=60, cycle_momentum=False),
                   lambda lr: lrdecay.one_cycle(4 * lr, 60)),
    "SequentialLR": (lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, 10), L.CosineAnnealingLR(o, 50)], [10]),
                     lambda lr: lrdecay.join([lrdecay.linear(0.01 * lr, lr, 10), lrdecay.cosine_annealing(lr, 50)],
                                             [10])),
    "ChainedScheduler": (lambda o: L.ChainedScheduler([L.LinearLR(o, 0.1, 1.0, 5), L.ExponentialLR(o, 0.95)]),
                         lambda lr: lrdecay.linear(0.1 * lr, lr, 5) * lrdecay.exponential(1.0, 0.95)),
    "CosineAnnealingWarmRestarts": (lambda o: L.CosineAnnealingWarmRestarts(o, 4, 2),
                                    lambda lr: lrdecay.cosine_annealing_warm_restarts(lr, 4, 2)),
    "CyclicLR": (lambda o: L.CyclicLR(o, [0.01, 0.02], [0.1, 0.2], 5, 3, cycle_momentum=False),
                 lambda lr: lrdecay.cyclic(lr / 10, lr, 5, 3)),
    "ConstantLR": (lambda o: L.ConstantLR(o, 0.5, 20), lambda lr: lrdecay.piecewise_constant([19], [lr / 2, lr])),
    "SWALR": (lambda o: SWALR(o, 0.01, anneal_epochs=30), lambda lr: lrdecay.swalr(lr, 0.01, 30)),
}


def saved(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.filterwarnings("ignore:ScheduleLR.*climbs back:UserWarning")  # CosineAnnealingLR past T_max, as torch's
@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_a_run_started_with_torch_resumes_under_lrdecay(name):
    """Train N steps with torch's scheduler, save, resume with ScheduleLR from torch's own
    state_dict: the rates and the weights follow the uninterrupted torch run."""
    make_torch, make_schedule = RESUMABLE[name]
    model, optimizer = model_and_optimizer(2)
    scheduler = make_torch(optimizer)
    n, total = 17, 55
    for step in range(n):
        train_step(model, optimizer, step), scheduler.step()
    checkpoint = saved({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()})
    uninterrupted = []
    for step in range(n, total):
        uninterrupted.append(scheduler.get_last_lr())
        train_step(model, optimizer, step), scheduler.step()

    resumed_model, resumed_optimizer = model_and_optimizer(2, seed=1)
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    lrs = [make_schedule(0.1), make_schedule(0.2)]
    resumed = ScheduleLR(resumed_optimizer, lrs, clock="calls")
    resumed.load_state_dict(checkpoint["scheduler"])
    assert resumed.last_epoch == n
    trajectory = []
    for step in range(n, total):
        trajectory.append(resumed.get_last_lr())
        train_step(resumed_model, resumed_optimizer, step), resumed.step()
    np.testing.assert_allclose(trajectory, uninterrupted, rtol=1e-13)
    for mine, theirs in zip(resumed_model.parameters(), model.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-14)


def test_torch_state_with_another_schedule_is_refused_unless_told():
    _, optimizer = model_and_optimizer()
    scheduler = L.StepLR(optimizer, 7, 0.5)
    for _ in range(9):
        optimizer.step(), scheduler.step()
    state = saved(scheduler.state_dict())
    own = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 8, 0.5), clock="calls")
    with pytest.raises(ValueError, match=r"torch StepLR state gives param group 0 the rates of step_decay\("
                                         r"learning_rate=0.1, step_size=7, gamma=0.5\), this ScheduleLR step_decay"):
        own.load_state_dict(state)
    assert own.last_epoch == 0
    own.load_state_dict(state, on_mismatch="use_new")
    assert own.last_epoch == 9 and own.get_last_lr() == [lrdecay.step_decay(0.1, 8, 0.5)(9)]
    own.load_state_dict(state, on_mismatch="use_saved")
    assert own.get_last_lr() == [0.05] and own.spec()["schedules"]["lr"] == [lrdecay.step_decay(0.1, 7, 0.5).to_dict()]


def test_a_hugging_face_run_resumes_with_use_new():
    """An HF scheduler's state holds no readable lambda: refused unless on_mismatch='use_new',
    which keeps the ScheduleLR's schedule (from_hf's) and takes HF's step count."""
    transformers = pytest.importorskip("transformers")
    _, optimizer = model_and_optimizer()
    scheduler = transformers.get_scheduler("cosine", optimizer, 10, 100)
    for _ in range(23):
        optimizer.step(), scheduler.step()
    state = saved({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    expected = torch_rates(scheduler, 30)[:, 0]
    _, twin = model_and_optimizer()
    twin.load_state_dict(state["optimizer"])
    resumed = ScheduleLR(twin, lrdecay.from_hf("cosine", 10, 100, learning_rate=0.1))
    with pytest.raises(ValueError, match="LambdaLR holds a Python function.*pass on_mismatch='use_new'"):
        resumed.load_state_dict(state["scheduler"])
    resumed.load_state_dict(state["scheduler"], on_mismatch="use_new")
    got = []
    for _ in range(30):
        got.append(resumed.get_last_lr()[0])
        twin.step()
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_torch_state_in_factor_mode_and_bad_states():
    _, optimizer = model_and_optimizer(2)
    scheduler = L.ExponentialLR(optimizer, 0.9)
    for _ in range(4):
        optimizer.step(), scheduler.step()
    state = saved(scheduler.state_dict())
    own = ScheduleLR(optimizer, lrdecay.exponential(1.0, 0.9), mode="factor", clock="calls")
    own.load_state_dict(state)
    assert own.get_last_lr() == pytest.approx([0.1 * 0.9 ** 4, 0.2 * 0.9 ** 4], rel=1e-14)
    with pytest.raises(ValueError, match=r"last_epoch'\] must be an int in \[0, 2\*\*53\].*got -3"):
        own.load_state_dict({**state, "last_epoch": -3})
    with pytest.raises(ValueError, match="state_dict is not a ScheduleLR state|ScheduleLR state"):
        own.load_state_dict({"last_epoch": 3})
    fresh_model, fresh = model_and_optimizer()
    one_cycle = L.OneCycleLR(model_and_optimizer()[1], 0.5, total_steps=20).state_dict()
    with pytest.raises(ValueError, match="OneCycleLR keeps 'max_lr' in the optimizer's param groups"):
        ScheduleLR(fresh, lrdecay.one_cycle(0.5, 20), clock="calls").load_state_dict(one_cycle)


# -- the once-per-epoch trap ------------------------------------------------------------------------


def run_epochs(scheduler, optimizer, model, epochs=4, batches=20, step_every_batch=False):
    for epoch in range(epochs):
        for batch in range(batches):
            train_step(model, optimizer, batch)
            if step_every_batch:
                scheduler.step()
        if not step_every_batch:
            scheduler.step()


def test_stepping_once_per_epoch_on_the_update_clock_warns_once_with_the_fix():
    """A torch user ports StepLR(step_size=2) and calls step() once per epoch: the default clock
    counts updates, so the rate collapses; the first step() call says so and how to fix it."""
    model, optimizer = model_and_optimizer()
    scheduler = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 2))
    with pytest.warns(UserWarning, match=r"step\(\) came after 20 of them.*use clock='calls'") as caught:
        run_epochs(scheduler, optimizer, model)
    assert len([w for w in caught if "clock=" in str(w.message)]) == 1
    model, optimizer = model_and_optimizer()
    fixed = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 2), clock="calls")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_epochs(fixed, optimizer, model)
    assert fixed.get_last_lr() == pytest.approx([1e-3])


def test_small_epochs_warn_at_the_second_sparse_call():
    model, optimizer = model_and_optimizer()
    scheduler = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_epochs(scheduler, optimizer, model, epochs=1, batches=3)
    with pytest.warns(UserWarning, match=r"came after 3 of them"):
        run_epochs(scheduler, optimizer, model, epochs=1, batches=3)


def test_stepping_after_every_update_does_not_warn():
    model, optimizer = model_and_optimizer()
    scheduler = ScheduleLR(optimizer, lrdecay.cosine_decay(0.1, 100))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_epochs(scheduler, optimizer, model, epochs=3, step_every_batch=True)
        scheduler.step()  # one extra call (e.g. at the end of an epoch) is fine
        run_epochs(scheduler, optimizer, model, epochs=1, step_every_batch=True)


def test_step_without_any_update_warns_that_the_clock_does_not_move():
    _, optimizer = model_and_optimizer()
    scheduler = ScheduleLR(optimizer, lrdecay.cosine_decay(0.1, 100))
    with pytest.warns(UserWarning, match=r"step\(\) was called 10 times and no optimizer update was counted"):
        for _ in range(12):
            scheduler.step()


def test_torch_explicit_epoch_form_is_refused_with_what_to_use():
    _, optimizer = model_and_optimizer()
    for clock in ("calls", "updates"):
        scheduler = ScheduleLR(optimizer, lrdecay.step_decay(0.1, 2), clock=clock)
        with pytest.raises(TypeError, match=r"torch's step\(epoch\) form isn't supported: call step\(\) once per "
                                            r"epoch with clock='calls'"):
            scheduler.step(3)


# -- random parameters ------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FRACTION = st.floats(0.05, 0.95)
_RANDOM = st.one_of(
    st.builds(lambda n, g: lambda o: L.StepLR(o, n, g), st.integers(1, 9), _FRACTION),
    st.builds(lambda ms, g: lambda o: L.MultiStepLR(o, ms, g), st.lists(st.integers(0, 40), max_size=5), _FRACTION),
    st.builds(lambda f, n: lambda o: L.ConstantLR(o, f, n), _FRACTION, st.integers(0, 30)),
    st.builds(lambda a, b, n: lambda o: L.LinearLR(o, a, b, n), _FRACTION, _FRACTION, st.integers(0, 30)),
    st.builds(lambda g: lambda o: L.ExponentialLR(o, g), st.floats(0.5, 1.0)),
    st.builds(lambda n, p: lambda o: L.PolynomialLR(o, n, p), st.integers(0, 40), st.floats(0.1, 3.0)),
    st.builds(lambda n, e: lambda o: L.CosineAnnealingLR(o, n, e), st.integers(1, 40), st.floats(0.0, 0.01)),
    st.builds(lambda n, m, e: lambda o: L.CosineAnnealingWarmRestarts(o, n, m, e), st.integers(1, 9),
              st.integers(1, 3), st.floats(0.0, 0.01)),
    st.builds(lambda up, down, mode, g: lambda o: L.CyclicLR(o, 0.01, 0.2, up, down, mode, g), st.integers(1, 9),
              st.integers(1, 9), st.sampled_from(["triangular", "triangular2", "exp_range"]), st.floats(0.9, 1.0)),
    st.builds(lambda p, a, d, f, three: lambda o: L.OneCycleLR(o, 0.5, total_steps=60, pct_start=p, anneal_strategy=a,
                                                               div_factor=d, final_div_factor=f, three_phase=three),
              st.floats(0.1, 0.45), st.sampled_from(["cos", "linear"]), st.floats(2.0, 50.0), st.floats(10.0, 1e5),
              st.booleans()),
)


@settings(max_examples=100, deadline=None)
@given(_RANDOM)
def test_from_torch_matches_torch_for_random_parameters(make):
    _, optimizer = model_and_optimizer()
    scheduler = make(optimizer)
    schedule = lrdecay.from_torch(scheduler)
    expected = torch_rates(scheduler, 59)[:, 0]
    np.testing.assert_allclose([schedule(t) for t in range(59)], expected, rtol=1e-12, atol=1e-17)


def test_schedulelr_from_torch_bad_input():
    _, optimizer = model_and_optimizer()
    with pytest.raises(TypeError, match="must be a torch.optim.lr_scheduler object, got SGD"):
        ScheduleLR.from_torch(optimizer)
    with pytest.raises(ValueError, match="LambdaLR holds a Python function"):
        ScheduleLR.from_torch(L.LambdaLR(optimizer, lambda t: 1.0))
    with pytest.raises(ValueError, match="clock must be one of"):
        ScheduleLR.from_torch(L.StepLR(optimizer, 3), clock="epochs")


def test_a_torch_run_stepped_per_batch_resumes_on_the_update_clock():
    model, optimizer = model_and_optimizer()
    scheduler = L.CosineAnnealingLR(optimizer, 30)
    for step in range(11):
        train_step(model, optimizer, step), scheduler.step()
    state = saved({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    expected = torch_rates(scheduler, 15)[:, 0]
    twin_model, twin = model_and_optimizer()
    twin.load_state_dict(state["optimizer"])
    resumed = ScheduleLR(twin, lrdecay.cosine_annealing(0.1, 30))  # clock="updates"
    resumed.load_state_dict(state["scheduler"])
    got = []
    for step in range(15):
        got.append(resumed.get_last_lr()[0])
        train_step(twin_model, twin, step)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


@pytest.mark.parametrize("kwargs", [
    dict(factor=0.5, patience=2, cooldown=1, min_lr=[0.01, 0.02]),
    dict(mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs"),
    dict(factor=0.9, patience=0, min_lr=0.06, eps=0.004),
])
def test_reduce_on_plateau_is_carried_on(kwargs):
    """ReduceLROnPlateau half-way through a metric trace, then ScheduleLR.from_torch: the same
    rates as torch's for the rest of the trace (counters, cooldown, min_lr, eps carried over)."""
    rng = np.random.default_rng(0)
    metrics = list(np.cumsum(rng.normal(0.0, 0.05, 60)) + 1.0)
    rates = []
    for switch in (None, 25):
        _, optimizer = model_and_optimizer(2)
        scheduler = L.ReduceLROnPlateau(optimizer, **kwargs)
        run = []
        for i, metric in enumerate(metrics):
            if i == switch:
                scheduler = ScheduleLR.from_torch(scheduler)
                assert scheduler.plateau.sync == "none"
            optimizer.step()
            scheduler.step(metric)
            run.append(scheduler.get_last_lr())
        rates.append(run)
    np.testing.assert_allclose(rates[1], rates[0], rtol=1e-14)
    assert len({tuple(r) for r in rates[0]}) > 2  # the trace did reduce


def test_plateau_from_torch_bad_input():
    _, optimizer = model_and_optimizer()
    with pytest.raises(TypeError, match="must be a torch ReduceLROnPlateau, got StepLR"):
        lrdecay.migrate.plateau_from_torch(L.StepLR(optimizer, 3))
