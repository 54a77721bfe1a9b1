"""Switching from Hugging Face, timm and Keras: from_hf, from_timm and from_keras against the
real packages (every transformers SchedulerType, timm's schedulers and create_scheduler_v2,
every Keras schedule class)."""

import warnings

import numpy as np
import pytest
import torch

import lrdecay
from tests._timm import timm_scheduler


def optimizer(lr=0.1, groups=1):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr * (i + 1)} for i in range(groups)]
    return torch.optim.SGD(params, lr=lr)


# -- Hugging Face ------------------------------------------------------------------------------

HF_CASES = [
    ("linear", 10, 100, {}),
    ("linear", 0, 100, {}),
    ("linear", 10, 10, {}),
    ("linear", 20, 10, {}),
    ("cosine", 20, 10, {}),
    ("cosine", 10, 100, {}),
    ("cosine", 10, 100, {"num_cycles": 1.5}),
    ("cosine_with_restarts", 10, 100, {}),
    ("cosine_with_restarts", 10, 100, {"num_cycles": 3}),
    ("cosine_with_restarts", 0, 97, {"num_cycles": 4}),
    ("polynomial", 10, 100, {}),
    ("polynomial", 10, 100, {"lr_end": 1e-3, "power": 2.0}),
    ("constant", None, None, {}),
    ("constant_with_warmup", 10, None, {}),
    ("constant_with_warmup", 0, None, {}),
    ("inverse_sqrt", 10, None, {}),
    ("inverse_sqrt", 0, None, {}),
    ("inverse_sqrt", 10, None, {"timescale": 30}),
    ("cosine_with_min_lr", 10, 100, {"min_lr": 1e-3}),
    ("cosine_with_min_lr", 10, 100, {"min_lr_rate": 0.05, "num_cycles": 0.75}),
    ("cosine_warmup_with_min_lr", 10, 100, {"min_lr": 1e-3}),
    ("cosine_warmup_with_min_lr", 10, 100, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2}),
    ("cosine_warmup_with_min_lr", 0, 100, {"min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", 1, 100, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.3}),
    ("warmup_stable_decay", 10, 100, {"num_decay_steps": 30}),
    ("warmup_stable_decay", 10, None, {"num_decay_steps": 20, "num_stable_steps": 50, "min_lr_ratio": 0.1,
                                       "warmup_type": "cosine", "decay_type": "1-sqrt"}),
    ("warmup_stable_decay", 5, 100, {"num_decay_steps": 30, "warmup_type": "1-sqrt", "decay_type": "linear"}),
]


def hf_rates(name, warmup, total, kwargs, steps=130, lr=0.1):
    transformers = pytest.importorskip("transformers")
    opt = optimizer(lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = transformers.get_scheduler(name, opt, warmup, total, scheduler_specific_kwargs=dict(kwargs))
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize("name, warmup, total, kwargs", HF_CASES)
def test_from_hf_gives_hugging_face_rates(name, warmup, total, kwargs):
    schedule = lrdecay.from_hf(name, warmup, total, learning_rate=0.1, **kwargs)
    assert lrdecay.parse(repr(schedule)) == schedule
    np.testing.assert_allclose(schedule(np.arange(130.0)), hf_rates(name, warmup, total, kwargs),
                               rtol=1e-12, atol=1e-16)


def test_every_scheduler_type_is_covered():
    from transformers import SchedulerType

    names = {t.value for t in SchedulerType}
    assert names == set(lrdecay.migrate.hf.HF_NAMES)
    assert {case[0] for case in HF_CASES} == names - {"reduce_lr_on_plateau", "greedy"}
    assert lrdecay.from_hf(SchedulerType.COSINE, 10, 100, learning_rate=0.1) == lrdecay.from_hf(
        "cosine", 10, 100, learning_rate=0.1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: lrdecay.from_hf("cosine_annealing", 10, 100, learning_rate=0.1), ValueError, "name must be one of linear"),
    (lambda: lrdecay.from_hf("cosine", 10, 100), TypeError, "from_hf needs learning_rate"),
    (lambda: lrdecay.from_hf("cosine", 10, 100, learning_rate=0), ValueError, "learning_rate must be a number > 0"),
    (lambda: lrdecay.from_hf("cosine", None, 100, learning_rate=0.1), ValueError, "cosine requires num_warmup_steps"),
    (lambda: lrdecay.from_hf("linear", 10, None, learning_rate=0.1), ValueError, "linear requires num_training_steps"),
    (lambda: lrdecay.from_hf("linear", -1, 100, learning_rate=0.1), ValueError, "num_warmup_steps must be an int >= 0"),
    (lambda: lrdecay.from_hf("linear", 10, 100, learning_rate=0.1, power=2), TypeError, "linear has no argument 'power'"),
    (lambda: lrdecay.from_hf("polynomial", 10, 100, learning_rate=1e-8), ValueError, "lr_end .* must be smaller"),
    (lambda: lrdecay.from_hf("reduce_lr_on_plateau", learning_rate=0.1), ValueError, "follows a metric"),
    (lambda: lrdecay.from_hf("greedy", learning_rate=0.1), ValueError, "plateau=lrdecay.Plateau"),
    (lambda: lrdecay.from_hf("warmup_stable_decay", 10, 100, learning_rate=0.1), ValueError, "needs num_decay_steps"),
    (lambda: lrdecay.from_hf("warmup_stable_decay", 10, 20, learning_rate=0.1, num_decay_steps=15), ValueError,
     r"num_warmup_steps \+ num_decay_steps \(10 \+ 15\) exceed num_training_steps \(20\)"),
    (lambda: lrdecay.from_hf("polynomial", 10, 10, learning_rate=0.1), ValueError,
     "polynomial needs num_training_steps > num_warmup_steps, got 10 and 10"),
    (lambda: lrdecay.from_hf("warmup_stable_decay", 10, None, learning_rate=0.1, num_decay_steps=5), ValueError,
     "needs num_training_steps or num_stable_steps"),
])
def test_from_hf_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name, warmup, total, kwargs", HF_CASES)
def test_from_hf_reads_the_scheduler_get_scheduler_returns(name, warmup, total, kwargs):
    """from_hf(get_scheduler(...)): the object, read as from_torch reads it, gives the same
    schedule as the name and arguments, and Hugging Face's rates."""
    transformers = pytest.importorskip("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = transformers.get_scheduler(name, optimizer(), warmup, total,
                                               scheduler_specific_kwargs=dict(kwargs))
    schedule, steps = lrdecay.from_hf(scheduler), np.arange(130.0)
    np.testing.assert_array_equal(schedule(steps), lrdecay.from_hf(name, warmup, total, learning_rate=0.1,
                                                                   **kwargs)(steps))
    np.testing.assert_allclose(schedule(steps), hf_rates(name, warmup, total, kwargs), rtol=1e-12, atol=1e-16)


def test_from_hf_object_per_group_and_refusals():
    transformers = pytest.importorskip("transformers")
    scheduler = transformers.get_scheduler("linear", optimizer(groups=2), 10, 100)
    assert lrdecay.from_hf(scheduler) == [lrdecay.from_hf("linear", 10, 100, learning_rate=lr) for lr in (0.1, 0.2)]
    with pytest.raises(TypeError, match="reads everything from the scheduler; drop num_warmup_steps, learning_rate"):
        lrdecay.from_hf(scheduler, 10, learning_rate=0.1)
    for other in (torch.optim.lr_scheduler.StepLR(optimizer(), 3),
                  torch.optim.lr_scheduler.LambdaLR(optimizer(), lambda t: 1.0),
                  transformers.get_scheduler("reduce_lr_on_plateau", optimizer())):
        with pytest.raises(TypeError, match=rf"this {type(other).__name__} is not one of transformers' LambdaLRs: "
                                            r"lrdecay.from_torch\(scheduler\) reads"):
            lrdecay.from_hf(other)
    scheduler.optimizer.param_groups[1]["lr"] = 0.5  # set by hand: taking it over would jump
    with pytest.raises(ValueError, match="param group 1: its lr is 0.5 but the Hugging Face scheduler gives 0.0"):
        lrdecay.from_hf(scheduler)


# -- timm --------------------------------------------------------------------------------------

def timm_rates(scheduler, steps, on_epochs=True):
    opt = scheduler.optimizer
    rates = []
    for t in range(steps):
        if on_epochs:
            scheduler.step(t)
        else:
            scheduler.step_update(t)
        rates.append([g["lr"] for g in opt.param_groups])
    return np.array(rates)


TIMM_OBJECTS = {
    "cosine": lambda ts, o: ts.CosineLRScheduler(o, t_initial=30, lr_min=1e-3, warmup_t=5, warmup_lr_init=1e-4,
                                                 cycle_limit=3, cycle_mul=1.5, cycle_decay=0.5),
    "cosine-prefix-k": lambda ts, o: ts.CosineLRScheduler(o, t_initial=40, warmup_t=3, warmup_prefix=True,
                                                          k_decay=2.0),
    "tanh": lambda ts, o: ts.TanhLRScheduler(o, t_initial=40, lr_min=1e-4, warmup_t=4, warmup_lr_init=1e-3),
    "step": lambda ts, o: ts.StepLRScheduler(o, decay_t=7, decay_rate=0.5, warmup_t=3, warmup_lr_init=1e-3),
    "step-prefix": lambda ts, o: ts.StepLRScheduler(o, decay_t=7, decay_rate=0.5, warmup_t=3,
                                                    warmup_lr_init=1e-3, warmup_prefix=True),
    "multistep": lambda ts, o: ts.MultiStepLRScheduler(o, decay_t=[10, 20, 45], decay_rate=0.3, warmup_t=2,
                                                       warmup_lr_init=1e-3),
    "poly": lambda ts, o: ts.PolyLRScheduler(o, t_initial=30, power=2.0, lr_min=1e-4, warmup_t=3,
                                             cycle_limit=2),
    "cosine-noise": lambda ts, o: ts.CosineLRScheduler(o, t_initial=50, noise_range_t=(10, 40), noise_pct=0.1),
    "cosine-updates": lambda ts, o: ts.CosineLRScheduler(o, t_initial=60, warmup_t=6, t_in_epochs=False),
}


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("name", sorted(TIMM_OBJECTS))
def test_from_timm_object_gives_timm_rates(name, groups):
    ts = timm_scheduler()
    scheduler = TIMM_OBJECTS[name](ts, optimizer(groups=groups))
    schedule = lrdecay.from_timm(scheduler)
    per_group = schedule if isinstance(schedule, list) else [schedule] * groups
    assert isinstance(schedule, list) == (groups == 2)
    expected = timm_rates(scheduler, 80, on_epochs=scheduler.t_in_epochs)
    got = np.array([[s(t) for s in per_group] for t in range(80)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-16)


FACTORY_CASES = [
    ("cosine", dict(num_epochs=30, warmup_epochs=3, min_lr=1e-4, warmup_lr=1e-5)),
    ("cosine", dict(num_epochs=20, cycle_limit=3, cycle_decay=0.5, warmup_epochs=2, warmup_prefix=True)),
    ("cosine", dict(num_epochs=10, warmup_epochs=1, step_on_epochs=False, updates_per_epoch=7)),
    ("tanh", dict(num_epochs=30, warmup_epochs=3)),
    ("step", dict(num_epochs=60, decay_epochs=10, decay_rate=0.5, warmup_epochs=2)),
    ("multistep", dict(num_epochs=60, decay_milestones=[15, 30, 45], warmup_epochs=4)),
    ("multistep", dict(num_epochs=8, decay_milestones=[2, 5], step_on_epochs=False, updates_per_epoch=5)),
    ("poly", dict(num_epochs=40, decay_rate=0.9, warmup_epochs=5, min_lr=1e-5)),
    ("cosine", dict(num_epochs=50, noise=[0.2, 0.8], noise_pct=0.2, noise_seed=7)),
]


@pytest.mark.parametrize("sched, kwargs", FACTORY_CASES)
def test_from_timm_name_matches_create_scheduler_v2(sched, kwargs):
    ts = timm_scheduler()
    scheduler, _ = ts.create_scheduler_v2(optimizer(0.05), sched=sched, **kwargs)
    schedule = lrdecay.from_timm(sched, learning_rate=0.05, **kwargs)
    expected = timm_rates(scheduler, 90, on_epochs=kwargs.get("step_on_epochs", True))[:, 0]
    np.testing.assert_allclose([schedule(t) for t in range(90)], expected, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("make, error, message", [
    (lambda ts: ts.PlateauLRScheduler(optimizer()), ValueError, "PlateauLRScheduler follows a metric"),
    (lambda ts: "plateau", ValueError, "needs learning_rate|follows a metric"),
    (lambda ts: "cosine_annealing", ValueError, "sched must be one of cosine, tanh"),
    (lambda ts: torch.optim.lr_scheduler.StepLR(optimizer(), 3), TypeError, "must be a timm.scheduler object"),
])
def test_from_timm_refusals(make, error, message):
    scheduler = make(timm_scheduler())
    with pytest.raises((error, TypeError), match=message):
        lrdecay.from_timm(scheduler, **({"learning_rate": 0.1} if scheduler == "plateau" else {}))


def test_from_timm_bad_arguments():
    with pytest.raises(TypeError, match="needs learning_rate"):
        lrdecay.from_timm("cosine", num_epochs=10)
    with pytest.raises(TypeError, match="create_scheduler_v2 has no argument 'epochs'"):
        lrdecay.from_timm("cosine", learning_rate=0.1, epochs=10)
    with pytest.raises(ValueError, match="updates_per_epoch must be an int > 0"):
        lrdecay.from_timm("cosine", learning_rate=0.1, step_on_epochs=False)
    ts = timm_scheduler()
    with pytest.raises(TypeError, match="takes no other arguments"):
        lrdecay.from_timm(ts.CosineLRScheduler(optimizer(), t_initial=10), learning_rate=0.1)


# -- Keras -------------------------------------------------------------------------------------

def keras_schedules():
    keras = pytest.importorskip("keras")
    S = keras.optimizers.schedules
    return [
        S.ExponentialDecay(0.1, 20, 0.8),
        S.ExponentialDecay(0.1, 20, 0.8, staircase=True),
        S.InverseTimeDecay(0.1, 10, 0.5),
        S.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
        S.PiecewiseConstantDecay([10, 30], [0.1, 0.05, 0.01]),
        S.PolynomialDecay(0.1, 50, 0.001, power=2.0),
        S.PolynomialDecay(0.1, 30, 0.001, cycle=True),
        S.CosineDecay(0.1, 60, alpha=0.1),
        S.CosineDecay(0.0, 60, warmup_target=0.1, warmup_steps=15),
        S.CosineDecay(0.01, 60, alpha=0.05, warmup_target=0.2, warmup_steps=10),
        S.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.01),
    ]


@pytest.mark.parametrize("index", range(11))
def test_from_keras_gives_keras_rates(index):
    keras = pytest.importorskip("keras")
    schedule_k = keras_schedules()[index]
    steps = np.arange(0, 150)
    expected = np.array([float(keras.ops.convert_to_numpy(schedule_k(int(t)))) for t in steps])
    for source in (schedule_k, schedule_k.get_config(), keras.optimizers.schedules.serialize(schedule_k)):
        schedule = lrdecay.from_keras(source)
        np.testing.assert_allclose(schedule(steps), expected, rtol=2e-6, atol=2e-8)  # float32 near 0
    assert lrdecay.from_keras(schedule_k.get_config(), type(schedule_k).__name__) == lrdecay.from_keras(schedule_k)


def test_every_keras_schedule_class_is_covered():
    keras = pytest.importorskip("keras")
    classes = {name for name, cls in vars(keras.optimizers.schedules).items()
               if isinstance(cls, type) and issubclass(cls, keras.optimizers.schedules.LearningRateSchedule)
               and cls is not keras.optimizers.schedules.LearningRateSchedule}
    assert classes == set(lrdecay.migrate.keras.KERAS_CLASSES)
    assert {type(s).__name__ for s in keras_schedules()} == classes


def test_from_keras_refusals():
    keras = pytest.importorskip("keras")
    renamed = keras.optimizers.schedules.InverseTimeDecay(0.1, 10, 0.5, name="mine").get_config()
    with pytest.raises(ValueError, match="can't tell the Keras schedule class"):
        lrdecay.from_keras(renamed)
    assert lrdecay.from_keras(renamed, "InverseTimeDecay") == lrdecay.inverse_time_decay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="class_name must be one of ExponentialDecay"):
        lrdecay.from_keras(renamed, "Cosine")
    with pytest.raises(ValueError, match="ExponentialDecay config is missing 'decay_rate'"):
        lrdecay.from_keras({"initial_learning_rate": 0.1, "decay_steps": 3}, "ExponentialDecay")
    with pytest.raises(TypeError, match="must be a Keras schedule or its config dict, got float"):
        lrdecay.from_keras(0.1)
    from lrdecay.keras import KerasSchedule

    assert lrdecay.from_keras(KerasSchedule("cosine_decay(0.1, 10)")) == lrdecay.cosine_decay(0.1, 10)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_HF_RANDOM = st.one_of(
    st.tuples(st.just("linear"), st.just({})),
    st.tuples(st.just("cosine"), st.fixed_dictionaries({}, optional={"num_cycles": st.floats(0.25, 3.0)})),
    st.tuples(st.just("cosine_with_restarts"), st.fixed_dictionaries({"num_cycles": st.integers(1, 5)})),
    st.tuples(st.just("polynomial"), st.fixed_dictionaries({"power": st.floats(0.5, 3.0), "lr_end": st.floats(0, 0.01)})),
    st.tuples(st.just("constant_with_warmup"), st.just({})),
    st.tuples(st.just("inverse_sqrt"), st.just({})),
    st.tuples(st.just("cosine_with_min_lr"), st.fixed_dictionaries({"min_lr_rate": st.floats(0, 0.5)})),
    st.tuples(st.just("cosine_warmup_with_min_lr"),
              st.fixed_dictionaries({"min_lr_rate": st.floats(0, 0.5)},
                                    optional={"warmup_lr_rate": st.floats(0.0, 0.9)})),
)


@settings(max_examples=80, deadline=None)
@given(_HF_RANDOM, st.integers(0, 40), st.integers(1, 100))
def test_from_hf_matches_hugging_face_for_random_arguments(case, warmup, extra):
    name, kwargs = case
    total = warmup + extra  # HF's schedules assume the warm-up ends before training does
    schedule = lrdecay.from_hf(name, warmup, total, learning_rate=0.1, **kwargs)
    np.testing.assert_allclose(schedule(np.arange(130.0)), hf_rates(name, warmup, total, kwargs),
                               rtol=1e-11, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.integers(1, 12), st.lists(st.integers(1, 60), max_size=4).map(sorted),
       st.floats(0.1, 0.9), st.integers(0, 10), st.floats(0.0, 0.05), st.booleans())
def test_from_timm_step_schedulers_for_random_arguments(multi, decay_t, milestones, rate, warmup_t, warmup_lr, prefix):
    ts = timm_scheduler()
    cls, decay = (ts.MultiStepLRScheduler, milestones) if multi else (ts.StepLRScheduler, decay_t)
    scheduler = cls(optimizer(), decay_t=decay, decay_rate=rate, warmup_t=warmup_t, warmup_lr_init=warmup_lr,
                    warmup_prefix=prefix)
    schedule = lrdecay.from_timm(scheduler)
    expected = timm_rates(scheduler, 80)[:, 0]
    np.testing.assert_allclose([schedule(t) for t in range(80)], expected, rtol=1e-12, atol=1e-16)
