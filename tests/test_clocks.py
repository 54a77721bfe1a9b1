"""Several clocks in one schedule (warm-up in steps, decay in tokens): clock_join, and the
PyTorch, Keras and Optax adapters counting the extra clock."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import lrdecay
from lrdecay import clock_join, constant, cosine_decay, linear
from lrdecay.torch import ScheduleLR

WARMUP = 50
DECAY = cosine_decay(1e-3, 2e6, alpha=0.1)
S = clock_join([linear(1e-5, 1e-3, WARMUP), DECAY], ["steps", "tokens"], [WARMUP])


def tokens_per_update(k):
    return 1000 + (k * 7919) % 3000  # variable-length batches: tokens are not a multiple of steps


def expected(k, tokens):
    return linear(1e-5, 1e-3, WARMUP)(k) if k < WARMUP else DECAY(tokens)


def test_clock_join_reads_each_clock():
    for k, tokens in [(0, 0), (10, 10**6), (49, 5e5), (50, 123_456), (10_000, 1.5e6), (10**9, 1e12)]:
        assert S.at(steps=k, tokens=tokens) == expected(k, tokens)
    three = clock_join([linear(0.0, 1.0, 10), constant(1.0), cosine_decay(1.0, 100)], ["steps", "tokens", "tokens"],
                       [10, 500])
    assert three.at(steps=11, tokens=499) == 1.0
    assert three.at(steps=11, tokens=550) == cosine_decay(1.0, 100)(50)  # same clock: local time
    steps, tokens = np.array([0, 10, 60, 70]), np.array([0.0, 100.0, 250.0, 5e5])
    values = S.at(steps=steps, tokens=tokens)
    assert list(values) == [S.at(steps=int(k), tokens=float(n)) for k, n in zip(steps, tokens)]
    np.testing.assert_allclose(S.at(steps=torch.tensor(steps), tokens=torch.tensor(tokens)).numpy(), values, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda a, b: S.at(steps=a, tokens=b))(jnp.asarray(steps), jnp.asarray(tokens)),
                               values, rtol=1e-6)
    np.testing.assert_allclose(S.at(steps=tf.constant(steps), tokens=tf.constant(tokens, tf.float32)).numpy(),
                               values, rtol=1e-6)
    assert lrdecay.parse(repr(S)) == S and lrdecay.from_dict(S.to_dict()) == S


def test_clock_join_bad_arguments():
    with pytest.raises(ValueError, match=r"clocks must name one clock per schedule \(2\)"):
        clock_join([constant(1.0), constant(2.0)], ["steps"], [3])
    with pytest.raises(ValueError, match="boundaries must have one entry fewer than schedules"):
        clock_join([constant(1.0), constant(2.0)], ["steps", "tokens"], [])
    with pytest.raises(TypeError, match="schedules must be a non-empty list of schedules"):
        clock_join([1.0, constant(2.0)], ["steps", "tokens"], [3])
    with pytest.raises(ValueError, match=r"boundaries\[0\] must be >= 0"):
        clock_join([constant(1.0), constant(2.0)], ["steps", "tokens"], [-3])
    with pytest.raises(TypeError, match=r"at\(\) needs the value of every clock \['steps', 'tokens'\], missing \['tokens'\]"):
        S.at(steps=3)
    with pytest.raises(ValueError, match="tokens must be >= 0"):
        S.at(steps=3, tokens=-1)


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(2, 1)


def test_schedule_lr_counts_tokens_beside_updates():
    model = _model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.0)
    scheduler = ScheduleLR(optimizer, S)
    tokens, seen = 0, []
    for k in range(120):
        assert optimizer.param_groups[0]["lr"] == expected(k, tokens)
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        n = tokens_per_update(k)
        scheduler.count(tokens=n)
        tokens += n
        scheduler.step()
        if k == 70:  # resume from a checkpoint: the token clock comes back too
            state = scheduler.state_dict()
            optimizer = torch.optim.AdamW(_model().parameters(), lr=1.0)
            scheduler = ScheduleLR(optimizer, S)
            scheduler.load_state_dict(state)
    assert len(set(seen[WARMUP:])) > 60
    assert state["clocks"] == {"tokens": sum(tokens_per_update(k) for k in range(71))}
    with pytest.raises(ValueError, match="'updates' is this scheduler's own clock"):
        scheduler.count(updates=3)
    with pytest.raises(ValueError, match="tokens must be >= 0, got -1"):
        scheduler.count(tokens=-1)
    with pytest.raises(TypeError, match="tokens must be an int, got 1.5"):
        scheduler.count(tokens=1.5)
    with pytest.raises(ValueError, match=r"state_dict\['clocks'\] must map clock names to ints >= 0"):
        scheduler.load_state_dict({**scheduler.state_dict(), "clocks": {"tokens": -5}})


def test_keras_schedule_reads_a_token_variable():
    from lrdecay.keras import KerasSchedule

    tokens = keras.Variable(0, dtype="int64", trainable=False)
    schedule = KerasSchedule(S, clocks={"tokens": tokens})
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    weight = keras.Variable(np.zeros(2, np.float32))
    total = 0
    for k in range(80):
        lr = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        assert lr == pytest.approx(expected(k, total), rel=2e-6)
        optimizer.apply_gradients([(keras.ops.ones(2), weight)])
        n = tokens_per_update(k)
        tokens.assign_add(n)
        total += n
    config = schedule.get_config()
    assert config["adapter_clocks"] == ["tokens"]
    again = KerasSchedule.from_config(config)
    assert again.schedule == S and int(keras.ops.convert_to_numpy(again.clocks["tokens"])) == 0
    with pytest.raises(ValueError, match=r"clocks must give the clocks \['tokens'\]"):
        KerasSchedule(S)


def test_optax_counts_tokens_as_extra_arguments():
    from lrdecay.optax import scale_by_clock_schedule

    tx = scale_by_clock_schedule(S)
    params = jnp.zeros(2)
    state = tx.init(params)
    update = jax.jit(lambda g, s, n: tx.update(g, s, params, tokens=n))
    total = 0
    for k in range(80):
        n = tokens_per_update(k)
        updates, state = update(jnp.ones(2), state, n)
        assert float(state.learning_rate) == pytest.approx(expected(k, total), rel=2e-6)
        assert float(updates[0]) == -float(state.learning_rate)
        total += n
    # counts past int32 stay exact (two int32 limbs)
    big = clock_join([constant(0.0), linear(0.0, 1.0, 2.0**42)], ["steps", "tokens"], [0])
    tx = scale_by_clock_schedule(big)
    state = tx.init(params)
    step = jax.jit(lambda s: tx.update(jnp.ones(2), s, params, tokens=2**30 + 12345))
    for _ in range(1025):
        _, state = step(state)
    _, state = step(state)
    assert float(state.learning_rate) == pytest.approx(1025 * (2**30 + 12345) / 2.0**42, rel=1e-7)
    with pytest.raises(TypeError, match=r"missing \['tokens'\]"):
        tx.update(jnp.ones(2), state, params)
    with pytest.raises(TypeError, match="schedule must be a clock_join"):
        scale_by_clock_schedule(constant(1.0))
