"""Re-planning at a checkpoint: ``extend`` and ``cooldown_from`` are continuous at the switch
step, serializable, and a cool-down started from a WSD's stable phase is Hugging Face's WSD
decay (real transformers); ``ScheduleLR.replan`` switches without a jump (checked)."""

import json

import numpy as np
import pytest
import torch
from examples.replan import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from leaf_checks import assert_rel, check_example
from transformers.optimization import get_wsd_schedule

import lrdecay
from lrdecay import cosine_decay, warmup_stable_decay
from lrdecay.torch import ScheduleLR


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


def _round_trip(s):
    again = lrdecay.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and lrdecay.parse(repr(s)) == s
    return again


@settings(max_examples=60, deadline=None)
@given(at=st.integers(0, 999), total=st.integers(1, 10**7), alpha=st.floats(0, 0.5))
def test_extend_is_continuous_and_ends_on_the_final_value(at, total, alpha):
    s = cosine_decay(0.1, 1000, alpha=alpha)
    if total <= at:
        with pytest.raises(ValueError, match="total must be > at"):
            s.extend(total, at=at)
        return
    e = _round_trip(s.extend(total, at=at))
    assert e(at) == s(at)  # the value at the resume step is the old one, exactly
    assert all(e(t) == s(t) for t in range(max(at - 3, 0), at))
    assert e(total) == s(1000) and e(total + 10**6) == s(1000)
    # what is left keeps its shape: halfway through the rest is the old halfway
    middle = at + (total - at) / 2
    assert e(middle) == pytest.approx(s(at + (1000 - at) / 2), rel=1e-12, abs=1e-15)


def test_extend_bad_arguments():
    s = cosine_decay(0.1, 1000)
    with pytest.raises(ValueError, match="extend needs a schedule that ends"):
        lrdecay.exponential_decay(0.1, 10, 0.5).extend(100, at=5)
    with pytest.raises(ValueError, match=r"at must be before the schedule's end \(1000\)"):
        s.extend(3000, at=1000)
    with pytest.raises(ValueError, match="at must be >= 0"):
        s.extend(3000, at=-1)
    with pytest.raises(TypeError, match="total must be a real number"):
        s.extend("3000", at=1)
    with pytest.raises(TypeError, match="schedule must be a schedule"):
        lrdecay.extend(0.1, 10, 5)


@pytest.mark.parametrize("shape", ["linear", "1-sqrt", "cosine"])
@pytest.mark.parametrize("step, length", [(200, 100), (57, 13), (1000, 1)])
def test_cooldown_from_the_stable_phase_is_hugging_faces_wsd(shape, step, length):
    """A WSD planned with a stable phase that never ends, cooled down from a checkpoint at
    ``step``, is get_wsd_schedule(warmup, stable=step - warmup, decay=length)."""
    lr, warmup, m = 0.1, 10, 0.1
    plan = warmup_stable_decay(lr, warmup, 10**9, 0, min_lr_ratio=m)
    ours = _round_trip(plan.cooldown_from(step, length, shape))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    factor = get_wsd_schedule(optimizer, warmup, length, num_stable_steps=step - warmup, decay_type=shape,
                              min_lr_ratio=m).lr_lambdas[0]
    ts = np.concatenate([np.arange(step + length + 20), [10**6, 2**40]])
    assert_rel(ours(ts.astype(np.float64)), [lr * factor(int(t)) for t in ts], 1e-15, repr(ours))
    assert ours(step) == plan(step) and ours(step + length) == lr * m


def test_cooldown_shapes_and_default_target():
    s = cosine_decay(0.1, 1000, alpha=0.1)
    c = s.cooldown_from(300, 100)
    assert c.target == s(1000) and c(300) == s(300) and c(400) == s(1000)
    assert c(350) == pytest.approx((s(300) + s(1000)) / 2, rel=1e-15)
    e = s.cooldown_from(300, 100, "exponential")
    assert e(350) == pytest.approx(s(1000) + (s(300) - s(1000)) * (2 * 0.5**0.5 - 1), rel=1e-14)
    assert lrdecay.exponential_decay(0.1, 10, 0.5).cooldown_from(5, 10).target == 0.0


def test_cooldown_bad_arguments():
    s = cosine_decay(0.1, 1000)
    with pytest.raises(ValueError, match="length must be > 0, got 0"):
        s.cooldown_from(10, 0)
    with pytest.raises(ValueError, match="shape must be one of"):
        s.cooldown_from(10, 5, "sqrt")
    with pytest.raises(ValueError, match="step must be >= 0"):
        s.cooldown_from(-1, 5)
    with pytest.raises(TypeError, match="to must be a real number"):
        s.cooldown_from(1, 5, to="0")


# -- ScheduleLR ---------------------------------------------------------------------------------


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def _train(scheduler, optimizer, steps):
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        optimizer.step()
    return lrs


def test_schedule_lr_switches_to_a_cooldown_at_a_checkpoint_without_a_jump():
    plan = warmup_stable_decay(3e-4, 100, 10**9, 0, min_lr_ratio=0.1)
    model = _model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.0)
    scheduler = ScheduleLR(optimizer, plan)
    before = _train(scheduler, optimizer, 500)
    saved = scheduler.state_dict()
    last = optimizer.param_groups[0]["lr"]

    # resume in a new process: the old plan, its state, then the cool-down from here
    optimizer2 = torch.optim.AdamW(_model().parameters(), lr=1.0)
    resumed = ScheduleLR(optimizer2, plan)
    resumed.load_state_dict(saved)
    assert optimizer2.param_groups[0]["lr"] == last
    cooled = plan.cooldown_from(resumed.last_epoch, 200, "1-sqrt")
    resumed.replan(cooled)
    assert optimizer2.param_groups[0]["lr"] == last  # no jump at the checkpoint
    after = _train(resumed, optimizer2, 300)
    np.testing.assert_array_equal(before + after, [cooled(t) for t in range(800)])
    assert after[-1] == pytest.approx(3e-5, rel=1e-15)

    # the re-planned spec is what the next checkpoint holds
    state = resumed.state_dict()
    fresh = ScheduleLR(torch.optim.AdamW(_model().parameters(), lr=1.0), cooled)
    fresh.load_state_dict(state)
    assert fresh.get_last_lr() == resumed.get_last_lr()


def test_schedule_lr_replan_refuses_a_jump():
    plan = cosine_decay(0.1, 1000)
    optimizer = torch.optim.SGD(_model().parameters(), lr=1.0)
    scheduler = ScheduleLR(optimizer, plan, clock="calls")
    for _ in range(300):
        scheduler.step()
    with pytest.raises(ValueError, match="jumps at step 300 in param group 0"):
        scheduler.replan(cosine_decay(0.1, 3000))  # a naive longer plan: the rate jumps up
    assert optimizer.param_groups[0]["lr"] == plan(300)
    scheduler.replan(plan.extend(3000, at=300))
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == plan.extend(3000, at=300)(301)
    with pytest.raises(ValueError, match="hyperparam must be one of"):
        scheduler.replan(plan, hyperparam="momentum")
    with pytest.raises(TypeError, match="schedule must be an lrdecay Schedule"):
        scheduler.replan(0.1)


# -- cool-down defaults (tracker issue 17) ------------------------------------------------------


@pytest.mark.parametrize("shape", ["linear", "1-sqrt", "cosine", "exponential"])
def test_a_cooldown_from_a_constant_phase_cools_down_to_zero(shape):
    """The main use of a cool-down: from any checkpoint of a constant phase (a warm-up into a
    constant has ended at step 100: from step 5000 it stays at 1e-3, so the cool-down goes to 0)."""
    plan = lrdecay.warmup(lrdecay.constant(1e-3), steps=100)
    c = _round_trip(plan.cooldown_from(5000, 1000, shape=shape))
    assert c.target == 0.0 and c(5000) == 1e-3 and c(6000) == 0.0 and c(10**9) == 0.0
    assert c(4999) == plan(4999) and 0.0 < c(5500) < 1e-3
    assert c.duration == 6000
    assert lrdecay.constant(0.5).cooldown_from(10, 10).target == 0.0
    assert cosine_decay(0.1, 1000, alpha=0.1).cooldown_from(2000, 10).target == 0.0  # the decay is over


def test_a_cooldown_of_a_schedule_that_still_changes_ends_where_it_would():
    s = cosine_decay(0.1, 1000, alpha=0.1)
    assert s.cooldown_from(999, 10).target == s(1000)
    wsd = warmup_stable_decay(0.1, 10, 10**6, 0, min_lr_ratio=0.1)
    assert wsd.cooldown_from(200, 100).target == wsd(wsd.duration) == 0.1 * 0.1


def test_a_cooldown_that_changes_nothing_is_refused():
    with pytest.raises(ValueError, match=r"to \(left out: 0.0 after a constant phase\) must differ from the "
                                         r"value at step=10: a cool-down from 0.0 to 0.0 changes nothing"):
        lrdecay.constant(0.0).cooldown_from(10, 5)
    with pytest.raises(ValueError, match=r"^to must differ from the value at step=10: a cool-down from 0.001 to 0.001"):
        lrdecay.constant(1e-3).cooldown_from(10, 5, to=1e-3)
    s = lrdecay.linear(0.1, 0.1, 100)  # changes nothing even before it ends
    with pytest.raises(ValueError, match=r"to \(left out: the schedule's final value\) must differ"):
        s.cooldown_from(10, 5)
    assert s.cooldown_from(10, 5, to=0.0)(15) == 0.0
