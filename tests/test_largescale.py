"""Batch-size ramps (against a transcription of Megatron-LM's RampupBatchsizeNumMicroBatchesCalculator,
NVIDIA/Megatron-LM megatron/core/num_microbatches_calculator.py; Megatron is not installable here),
schedules on a samples/tokens clock, and the linear / square-root scaling rules."""

import json

import numpy as np
import pytest
from examples.largescale import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from leaf_checks import check_example

import lrdecay
from lrdecay import batch_ramp, on_clock, scale_lr, scale_wd


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_example(s):
    check_example(s)


class MegatronRampup:
    """``RampupBatchsizeNumMicroBatchesCalculator.__init__``/``update``, transcribed."""

    def __init__(self, global_batch_size, micro_batch_size, data_parallel_size, start_global_batch_size,
                 batch_size_increment, ramup_samples):
        self.global_batch_size = global_batch_size
        self.start_global_batch_size = start_global_batch_size
        self.batch_size_increment = batch_size_increment
        self.ramup_samples = ramup_samples
        self.micro_batch_times_data_parallel_size = micro_batch_size * data_parallel_size
        diff_batch_size = self.global_batch_size - self.start_global_batch_size
        assert diff_batch_size >= 0
        assert diff_batch_size % batch_size_increment == 0
        num_increments = diff_batch_size // self.batch_size_increment
        self.rampup_samples_per_increment = self.ramup_samples / num_increments
        self.update(0, False)

    def update(self, consumed_samples, consistency_check):
        if consumed_samples > self.ramup_samples:
            self.current_global_batch_size = self.global_batch_size
        else:
            steps = int(consumed_samples / self.rampup_samples_per_increment)
            self.current_global_batch_size = self.start_global_batch_size + steps * self.batch_size_increment
            assert self.current_global_batch_size <= self.global_batch_size
        if consistency_check:
            assert self.current_global_batch_size % self.micro_batch_times_data_parallel_size == 0
        self.num_micro_batches = self.current_global_batch_size // self.micro_batch_times_data_parallel_size


def _megatron_run(start, end, increment, ramp_samples, steps, micro=1, dp=1):
    """What Megatron's training loop does: update(consumed) before each step, then consume."""
    calc = MegatronRampup(end, micro, dp, start, increment, ramp_samples)
    consumed, samples, batches, micro_batches = 0, [], [], []
    for _ in range(steps):
        calc.update(consumed, True)
        samples.append(consumed)
        batches.append(calc.current_global_batch_size)
        micro_batches.append(calc.num_micro_batches)
        consumed += calc.current_global_batch_size
    return samples, batches, micro_batches


RAMPS = [(32, 256, 32, 10_000), (16, 1024, 16, 300_000), (8, 32, 8, 600), (4, 8, 4, 3), (2, 1026, 8, 5_000_000)]


@pytest.mark.parametrize("start, end, increment, ramp_samples", RAMPS)
def test_ramp_matches_megatron_at_every_step(start, end, increment, ramp_samples):
    ramp = batch_ramp(start, end, increment, ramp_samples, seq_length=4096)
    steps = ramp.ramp_steps + 50
    samples, batches, _ = _megatron_run(start, end, increment, ramp_samples, steps)
    assert [ramp.samples(k) for k in range(steps)] == samples
    assert [ramp.batch_size_at(k) for k in range(steps)] == batches
    assert [ramp.batch_size(s) for s in samples] == batches
    assert [ramp.step_at(s) for s in samples] == list(range(steps))
    assert [ramp.step_at(tokens=4096 * s) for s in samples] == list(range(steps))
    assert [ramp.tokens(k) for k in range(steps)] == [4096 * s for s in samples]
    assert batches[ramp.ramp_steps - 1] < end == batches[ramp.ramp_steps]
    np.testing.assert_array_equal(ramp(np.arange(steps)), samples)  # the ramp as a schedule (a clock)
    far = 10**9
    assert ramp.samples(far) == samples[-1] + (far - steps + 1) * end
    assert ramp.step_at(ramp.samples(far) + end // 2) == far + (end // 2) / end


@settings(max_examples=80, deadline=None)
@given(start=st.integers(1, 64), increments=st.integers(1, 40), increment=st.integers(1, 32),
       ramp_samples=st.integers(1, 200_000))
def test_ramp_matches_megatron_hypothesis(start, increments, increment, ramp_samples):
    end = start + increments * increment
    ramp = batch_ramp(start, end, increment, ramp_samples)
    steps = ramp.ramp_steps + 3
    samples, batches, _ = _megatron_run(start, end, increment, ramp_samples, steps)
    assert [ramp.samples(k) for k in range(steps)] == samples
    assert [ramp.batch_size_at(k) for k in range(steps)] == batches


def test_micro_batches_change_with_the_world_size_not_the_position():
    ramp = batch_ramp(64, 512, 64, 20_000)
    for dp in (1, 2, 4, 8):
        samples, _, micro = _megatron_run(64, 512, 64, 20_000, ramp.ramp_steps + 5, micro=8, dp=dp)
        assert [ramp.micro_batches(k, 8, dp) for k in range(len(samples))] == micro
        assert [ramp.samples(k) for k in range(len(samples))] == samples  # the same for every dp
    with pytest.raises(ValueError, match=r"the global batch 64 at step 0 is not divisible by micro_batch_size \* data_parallel_size = 8 \* 16"):
        ramp.micro_batches(0, 8, 16)


def test_constant_batch_and_the_value_kinds():
    flat = batch_ramp(128, 128, 1, 0)
    assert flat.samples(10) == 1280 and flat.ramp_steps == 0 and flat.step_at(1290) == 10 + 10 / 128
    ramp = batch_ramp(8, 32, 8, 600, seq_length=16)
    tokens = batch_ramp(8, 32, 8, 600, seq_length=16, value="tokens")
    batch = batch_ramp(8, 32, 8, 600, value="batch_size")
    steps = np.arange(ramp.ramp_steps + 10)
    np.testing.assert_array_equal(tokens(steps), [ramp.tokens(int(k)) for k in steps])
    np.testing.assert_array_equal(batch(steps), [ramp.batch_size_at(int(k)) for k in steps])
    assert batch.duration == ramp.ramp_steps and ramp.duration is None


def test_batch_ramp_bad_arguments():
    with pytest.raises(ValueError, match="end must be >= start"):
        batch_ramp(64, 32, 8, 100)
    with pytest.raises(ValueError, match="end - start must be a multiple of increment"):
        batch_ramp(32, 100, 8, 100)
    with pytest.raises(ValueError, match="start must be >= 1, got 0"):
        batch_ramp(0, 32, 8, 100)
    with pytest.raises(ValueError, match="ramp_samples must be > 0 for a ramp from 8 to 32"):
        batch_ramp(8, 32, 8, 0)
    with pytest.raises(ValueError, match='value="tokens" needs seq_length'):
        batch_ramp(8, 32, 8, 100, value="tokens")
    with pytest.raises(ValueError, match="has 1000000000 batch sizes; at most 10000"):
        batch_ramp(1, 10**9 + 1, 1, 10**12)  # planned size by size: refused, not an endless plan
    ramp = batch_ramp(8, 32, 8, 100)
    with pytest.raises(ValueError, match="tokens need seq_length"):
        ramp.tokens(3)
    with pytest.raises(TypeError, match="give samples or tokens"):
        ramp.step_at()
    with pytest.raises(ValueError, match="step must be >= 0"):
        ramp.samples(-1)
    with pytest.raises(ValueError, match="step must be a whole number"):
        ramp.samples(1.5)


# -- schedules on a clock -----------------------------------------------------------------------


def test_a_schedule_in_samples_runs_on_the_ramp_clock():
    ramp = batch_ramp(32, 256, 32, 10_000)
    in_samples = lrdecay.megatron_lr(3e-4, 200_000, min_lr=3e-5, warmup_steps=2_000, decay_style="cosine")
    s = on_clock(in_samples, ramp)
    steps = np.arange(2_000)
    expected = [in_samples(ramp.samples(int(k))) for k in steps]
    np.testing.assert_array_equal(s(steps), expected)
    assert [s(int(k)) for k in steps[::37]] == expected[::37]
    assert json.loads(json.dumps(s.to_dict())) and lrdecay.from_dict(s.to_dict()) == s


def test_join_over_clocks_warmup_in_steps_decay_in_tokens():
    ramp = batch_ramp(8, 64, 8, 5_000, seq_length=1024, value="tokens")
    warmup_steps = 100
    decay = lrdecay.cosine_decay(1e-3, 50_000_000)
    s = lrdecay.join([lrdecay.linear(0.0, 1e-3, warmup_steps), on_clock(decay, ramp, since=warmup_steps)],
                     [warmup_steps])
    tokens = lambda k: 1024 * batch_ramp(8, 64, 8, 5_000).samples(k)  # noqa: E731
    assert s(50) == 1e-3 * 50 / 100
    for k in (100, 101, 150, 333, 10_000, 10**6):
        assert s(k) == decay(tokens(k) - tokens(warmup_steps))
    assert s(100) == 1e-3  # continuous at the switch of clocks
    assert lrdecay.parse(repr(s)) == s


def test_on_clock_bad_arguments():
    with pytest.raises(TypeError, match="clock must be a schedule"):
        on_clock(lrdecay.constant(1.0), 3)
    with pytest.raises(ValueError, match="since must be >= 0"):
        on_clock(lrdecay.constant(1.0), batch_ramp(8, 8, 1, 0), since=-1)


# -- scaling rules ------------------------------------------------------------------------------


def test_scaling_rules():
    base = lrdecay.cosine_decay(0.1, 1000)
    linear = scale_lr(base, "linear", base_batch=256, batch=1024)
    sqrt = scale_lr(base, "sqrt", base_batch=256, batch=1024)
    for t in (0, 10, 500, 999, 5000):
        assert linear(t) == base(t) * 4.0
        assert sqrt(t) == base(t) * 2.0
    wd = scale_wd(lrdecay.constant(0.1), base_batch=256, batch=64)
    assert wd(0) == pytest.approx(0.05, rel=1e-15)
    assert lrdecay.parse(repr(sqrt)) == sqrt and lrdecay.from_dict(sqrt.to_dict()) == sqrt


def test_scaled_rate_follows_the_ramp():
    ramp = batch_ramp(64, 1024, 64, 100_000)
    base = lrdecay.constant(3e-4)
    s = scale_lr(base, "sqrt", base_batch=1024, batch=ramp)
    for k in range(0, ramp.ramp_steps + 20, 7):
        assert s(k) == pytest.approx(3e-4 * (ramp.batch_size_at(k) / 1024) ** 0.5, rel=1e-15)
    assert s(10**9) == 3e-4 and s.duration == ramp.ramp_steps
    linear = scale_lr(base, "linear", base_batch=1024, batch=ramp)
    np.testing.assert_allclose(linear(np.arange(300)), [3e-4 * ramp.batch_size_at(k) / 1024 for k in range(300)],
                               rtol=1e-15)


def test_scaling_bad_arguments():
    base = lrdecay.constant(0.1)
    with pytest.raises(ValueError, match="rule must be one of 'linear', 'sqrt'"):
        scale_lr(base, "square", base_batch=1, batch=2)
    with pytest.raises(ValueError, match="base_batch must be > 0, got 0"):
        scale_lr(base, base_batch=0, batch=2)
    with pytest.raises(ValueError, match="batch must be > 0, got -2"):
        scale_wd(base, base_batch=1, batch=-2)
    with pytest.raises(TypeError, match="batch must be a number or a batch_ramp"):
        scale_lr(base, base_batch=1, batch=lrdecay.constant(2.0))
    with pytest.raises(TypeError, match="schedule must be a schedule"):
        scale_lr(0.1, base_batch=1, batch=2)


def test_large_scale_guide_runs():
    from tests._guides import run_guide

    namespace = run_guide("large-scale")
    resumed, ramp = namespace["resumed"], namespace["ramp"]
    assert resumed.last_epoch == ramp.tokens(310)
    assert namespace["cooldown"].kind == "cooldown" and namespace["longer"].kind == "extend"
