"""The public surface of 0.2 stays importable where it was: every name of ``lrdecay`` and of
its framework modules (a later version may add names, never drop one)."""

import importlib

import pytest

#: The names each module exported in lrdecay 0.2 (its ``__all__``).
SURFACE_0_2 = {
    "lrdecay": [
        "Add", "BatchRamp", "Clip", "ClockJoin", "Constant", "Cooldown", "CosineAnnealing",
        "CosineAnnealingWarmRestarts", "CosineDecay", "CosineDecayRestarts", "CosineDecayWarmup",
        "CosineOnecycle", "CosineWithMinLR", "Cycle", "Cyclic", "Divide", "Exponential",
        "ExponentialDecay", "ExponentialDecayWithBurnin", "Extend", "InverseSqrt",
        "InverseTimeDecay", "Join", "Linear", "LinearCosineDecay", "LinearOnecycle", "MegatronLR",
        "MegatronWD", "Multiply", "MultistepDecay", "NaturalExpDecay", "NoisyLinearCosineDecay",
        "OnClock", "OneCycle", "OneCycleMomentum", "PerEpoch", "PiecewiseConstant",
        "PiecewiseInterpolate", "Plateau", "Polynomial", "PolynomialDecay", "SGDR", "SWALR",
        "ScaleByBatch", "Schedule", "ScheduleSequence", "Shift", "SpecError", "StepDecay",
        "TanhDecay", "TimmCosine", "TimmNoise", "TimmPoly", "Warmup", "WarmupCosineDecay",
        "WarmupExponentialDecay", "WarmupStableDecay", "add", "as_schedule", "batch_ramp", "clip",
        "clock_join", "constant", "cooldown", "cosine_annealing", "cosine_annealing_warm_restarts",
        "cosine_decay", "cosine_decay_restarts", "cosine_decay_warmup", "cosine_onecycle",
        "cosine_with_min_lr", "cycle", "cyclic", "divide", "dump", "ema", "exponential",
        "exponential_decay", "exponential_decay_with_burnin", "extend", "finder", "from_dict",
        "from_hf", "from_keras", "from_timm", "from_torch", "inverse_sqrt", "inverse_time_decay",
        "join", "linear", "linear_cosine_decay", "linear_onecycle", "load", "megatron_lr",
        "megatron_wd", "multiply", "multistep_decay", "natural_exp_decay",
        "noisy_linear_cosine_decay", "on_clock", "one_cycle", "one_cycle_momentum", "parse",
        "per_epoch", "piecewise_constant", "piecewise_interpolate", "polynomial",
        "polynomial_decay", "register", "registry", "scale_by_batch", "scale_lr", "scale_wd",
        "sequence", "sgdr", "shift", "simulate", "step_decay", "swalr", "tanh_decay", "timm_cosine",
        "timm_noise", "timm_poly", "warmup", "warmup_cosine_decay", "warmup_exponential_decay",
        "warmup_stable_decay",
    ],
    "lrdecay.torch": [
        "ScheduleLR", "lr_find",
    ],
    "lrdecay.keras": [
        "KerasSchedule", "PlateauCallback", "lr_find",
    ],
    "lrdecay.optax": [
        "ClockScheduleState", "PlateauScheduleState", "as_optax", "scale_by_clock_schedule",
        "scale_by_plateau_schedule", "set_plateau_factor",
    ],
    "lrdecay.compat.tf1": [
        "cosine_decay", "cosine_decay_restarts", "exponential_decay", "inverse_time_decay",
        "linear_cosine_decay", "natural_exp_decay", "noisy_linear_cosine_decay",
        "piecewise_constant", "polynomial_decay",
    ],
    "lrdecay.lightning": [
        "ScheduleMonitor", "lr_scheduler_config",
    ],
    "lrdecay.hf": [
        "PLACEHOLDERS", "PlateauCallback", "scheduler_for_trainer", "training_steps",
    ],
    "lrdecay.finder": [
        "RULES", "RangeTestResult", "STOP_REASONS", "TARGETS", "range_test", "sweep",
    ],
    "lrdecay.ema": [
        "ExponentialMovingAverage",
    ],
    "lrdecay.plateau": [
        "Plateau", "simulate",
    ],
    "lrdecay.migrate": [
        "from_hf", "from_keras", "from_timm", "from_torch", "plateau_from_torch",
        "torch_hyperparams",
    ],
}


@pytest.mark.parametrize("module_name", sorted(SURFACE_0_2))
def test_every_0_2_name_is_importable_where_it_was(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in SURFACE_0_2[module_name] if not hasattr(module, name)]
    assert not missing, f"{module_name} lost {missing}"
    assert set(SURFACE_0_2[module_name]) <= set(module.__all__), module_name


def test_star_import_gives_the_whole_surface():
    namespace: dict = {}
    exec("from lrdecay import *", namespace)  # noqa: S102 - the statement under test
    assert set(SURFACE_0_2["lrdecay"]) <= set(namespace)
