"""Regenerate docs/migration.md: for every PyTorch lr_scheduler class, Keras schedule, Optax
schedule, Hugging Face get_scheduler name and timm scheduler, the lrdecay call with each argument
mapped, the clock to run it on and any difference in the numbers, with a worked example per row.

    python scripts/make_migration_table.py [--out docs/migration.md]

The examples' lrdecay column is computed by the importers (lrdecay.from_torch, from_hf,
from_timm, from_keras) from the real framework objects, so it needs torch, transformers, keras
and timm; Optax has no importer (its schedules are closures), so its examples are written here.
tests/test_migration_table.py checks that the checked-in page is this script's output and that
every example gives the framework's numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CLOCKS = {
    "calls": '`clock="calls"`: one step per `scheduler.step()` call, wherever torch called it (per epoch or per batch)',
    "updates": '`clock="updates"`: one step per optimizer update',
    "epochs": '`clock="calls"` with one `step()` per epoch, or `per_epoch(s, steps_per_epoch)` on updates '
              '(timm `t_in_epochs=True`); `clock="updates"` for `t_in_epochs=False`',
    "metric": "a metric, not the step: `ScheduleLR(..., plateau=...)` / `step(metrics=...)`",
}

# (source, lrdecay call with each argument mapped, clock, difference in the numbers, example source
# or None); `lr` is the optimizer's learning rate.
TORCH = [
    ("StepLR(optimizer, step_size, gamma=0.1)", "step_decay(lr, step_size, gamma)", "calls", "equal",
     "StepLR(optimizer, step_size=3, gamma=0.5)"),
    ("MultiStepLR(optimizer, milestones, gamma=0.1)", "multistep_decay(lr, milestones, gamma)", "calls",
     "equal; a milestone must be a whole number (torch silently never fires `30.5`)",
     "MultiStepLR(optimizer, [5, 12, 12], gamma=0.5)"),
    ("ConstantLR(optimizer, factor=1/3, total_iters=5)", "join([constant(lr * factor), constant(lr)], [total_iters])",
     "calls", "equal; with `total_iters=0` torch's `step()` keeps the factor for good: `constant(lr * factor)`",
     "ConstantLR(optimizer, factor=0.5, total_iters=4)"),
    ("LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)",
     "linear(lr * start_factor, lr * end_factor, total_iters)", "calls",
     "equal; with `total_iters=0` torch keeps `lr * start_factor` for good",
     "LinearLR(optimizer, start_factor=0.25, total_iters=8)"),
    ("ExponentialLR(optimizer, gamma)", "exponential(lr, gamma)", "calls",
     "equal; `gamma > 1` is refused (it overflows)", "ExponentialLR(optimizer, gamma=0.9)"),
    ("PolynomialLR(optimizer, total_iters=5, power=1.0)", "polynomial(lr, total_iters, power)", "calls", "equal",
     "PolynomialLR(optimizer, total_iters=10, power=2.0)"),
    ("CosineAnnealingLR(optimizer, T_max, eta_min=0.0)", "cosine_annealing(lr, T_max, eta_min)", "calls",
     "torch's closed form; its recursive `step()` drifts from it by up to ~1e-12 (relative) over many periods; "
     "not clamped after `T_max` (as in torch)", "CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)"),
    ("CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0)",
     "cosine_annealing_warm_restarts(lr, T_0, T_mult, eta_min)", "calls",
     "equal to torch's `step()`; its `step(epoch)` can miss a restart (`T_mult=3`, epoch 121), lrdecay doesn't",
     "CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2, eta_min=0.001)"),
    ("CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode='triangular', gamma=1.0, "
     "cycle_momentum=True, base_momentum=0.8, max_momentum=0.9)",
     "`cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma)`; momentum: "
     "`hyperparams={'momentum': cyclic(...).momentum(base_momentum, max_momentum)}`", "calls",
     "equal; a custom `scale_fn` is refused (multiply by a schedule instead)",
     "CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=4, mode='triangular2')"),
    ("OneCycleLR(optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy='cos', div_factor=25.0, "
     "final_div_factor=1e4, three_phase=False, cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)",
     "`one_cycle(max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)`; "
     "momentum: `one_cycle(...).momentum(base_momentum, max_momentum)`", "calls",
     "equal up to `total_steps - 1`; torch raises past `total_steps`, lrdecay holds the final value",
     "OneCycleLR(optimizer, max_lr=1.0, total_steps=20)"),
    ("SequentialLR(optimizer, schedulers, milestones)", "join([each scheduler's schedule], milestones)", "calls",
     "equal (each scheduler restarts at its milestone, at local step 0)",
     "SequentialLR(optimizer, [LinearLR(optimizer, 0.1, total_iters=5), CosineAnnealingLR(optimizer, 20)], [5])"),
    ("ChainedScheduler(schedulers)", "the first scheduler's schedule `*` the others' at `lr=1`", "calls",
     "equal for chains of StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR; a scheduler "
     "that sets the lr (cosine, one-cycle, ...) has no closed form in a chain and is refused",
     "ChainedScheduler([ConstantLR(optimizer, 0.5, 4), ExponentialLR(optimizer, 0.9)])"),
    ("LambdaLR(optimizer, lr_lambda)", "the lambda written as a schedule `f`: `ScheduleLR(optimizer, f, "
     "mode='factor')` (or `lr * f`)", "calls",
     "a Python function: `from_torch` refuses it, except Hugging Face's own lambdas (read as `from_hf`)", None),
    ("MultiplicativeLR(optimizer, lr_lambda)", "the product of the factors, e.g. a constant factor `k`: "
     "`exponential(lr, k)`", "calls", "a Python function: `from_torch` refuses it", None),
    ("ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4, threshold_mode='rel', "
     "cooldown=0, min_lr=0, eps=1e-8)",
     "`ScheduleLR(optimizer, constant(lr), plateau=Plateau(mode, factor, patience, threshold, threshold_mode, "
     "cooldown, min_lr, eps))`, or a plateau on any schedule; `ScheduleLR.from_torch(scheduler)` carries a "
     "running one on (`lrdecay.migrate.plateau_from_torch`)", "metric",
     "equal (the same counting rules ([plateau.md](plateau.md)))", None),
    ("swa_utils.SWALR(optimizer, swa_lr, anneal_epochs=10, anneal_strategy='cos')",
     "`swalr(lr, swa_lr, anneal_epochs, anneal_strategy)` (`lr`: the rate when SWALR took over), or "
     "`swalr.after(schedule, swa_start, swa_lr)`", "calls",
     "equal; torch recovers the starting rate from the current one at every step, `from_torch` does it once",
     "SWALR(optimizer, swa_lr=0.01, anneal_epochs=5)"),
]

HF = [
    ("linear", "warmup(linear(lr, 0.0, N - W), W)", "equal", "get_scheduler('linear', optimizer, 10, 100)"),
    ("cosine (num_cycles=0.5)", "cosine_with_min_lr(lr, W, N, num_cycles, min_lr_rate=0.0)",
     "equal; rises again after N when `num_cycles=0.5` (as HF)", "get_scheduler('cosine', optimizer, 10, 100)"),
    ("cosine_with_restarts (num_cycles=1)",
     "`warmup(join([cycle(cosine_decay(lr, P), P, limit=ceil(num_cycles)), constant(0.0)], [N - W]), W)` "
     "with `P = (N - W) / num_cycles`", "equal (HF computes the phase with `%`)",
     "get_scheduler('cosine_with_restarts', optimizer, 10, 100, scheduler_specific_kwargs={'num_cycles': 3})"),
    ("polynomial (lr_end=1e-7, power=1.0)", "warmup(polynomial_decay(lr, N - W, lr_end, power), W)", "equal",
     "get_scheduler('polynomial', optimizer, 10, 100, scheduler_specific_kwargs={'power': 2.0})"),
    ("constant", "constant(lr)", "equal", "get_scheduler('constant', optimizer)"),
    ("constant_with_warmup", "warmup(constant(lr), W)", "equal", "get_scheduler('constant_with_warmup', optimizer, 10)"),
    ("inverse_sqrt (timescale=None)", "inverse_sqrt(lr, W, timescale)",
     "equal; an explicit `timescale=0` (a division by zero in HF) is refused", "get_scheduler('inverse_sqrt', optimizer, 10)"),
    ("reduce_lr_on_plateau", "`ScheduleLR(optimizer, constant(lr), plateau=Plateau(...))`",
     "metric-driven: `from_hf` refuses it", None),
    ("cosine_with_min_lr (num_cycles=0.5, min_lr or min_lr_rate)",
     "cosine_with_min_lr(lr, W, N, num_cycles, min_lr, min_lr_rate)", "equal",
     "get_scheduler('cosine_with_min_lr', optimizer, 10, 100, scheduler_specific_kwargs={'min_lr': 0.001})"),
    ("cosine_warmup_with_min_lr (…, warmup_lr_rate=None)",
     "`cosine_with_min_lr(lr, W, N, num_cycles, min_lr, min_lr_rate).shift(-1)` (HF counts one step ahead); "
     "with `warmup_lr_rate=r`: `join([linear(r * lr, lr, W - 1), cosine.shift(-(W + 1))], [W])`", "equal",
     "get_scheduler('cosine_warmup_with_min_lr', optimizer, 10, 100, scheduler_specific_kwargs={'min_lr_rate': 0.1})"),
    ("warmup_stable_decay (num_decay_steps, num_stable_steps=None, warmup_type='linear', decay_type='cosine', "
     "min_lr_ratio=0)", "`warmup_stable_decay(lr, W, S, num_decay_steps, min_lr_ratio, decay_type, warmup_type)` "
     "with `S = num_stable_steps or N - W - num_decay_steps`", "equal",
     "get_scheduler('warmup_stable_decay', optimizer, 10, 100, scheduler_specific_kwargs={'num_decay_steps': 30})"),
    ("greedy", "`Plateau` (a metric-driven factor)", "metric-driven (GreedyLR adapts to the loss): `from_hf` refuses it",
     None),
]

KERAS = [
    ("ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)",
     "exponential_decay(initial_learning_rate, decay_steps, decay_rate, staircase)", "ExponentialDecay(0.1, 20, 0.8)"),
    ("InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)",
     "inverse_time_decay(initial_learning_rate, decay_steps, decay_rate, staircase)",
     "InverseTimeDecay(0.1, 10, 0.5, staircase=True)"),
    ("PiecewiseConstantDecay(boundaries, values)", "piecewise_constant(boundaries, values)",
     "PiecewiseConstantDecay([10, 30], [0.1, 0.05, 0.01])"),
    ("PolynomialDecay(initial_learning_rate, decay_steps, end_learning_rate=1e-4, power=1.0, cycle=False)",
     "polynomial_decay(initial_learning_rate, decay_steps, end_learning_rate, power, cycle)",
     "PolynomialDecay(0.1, 30, 0.001, power=2.0)"),
    ("CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0)",
     "`cosine_decay(initial_learning_rate, decay_steps, alpha)`; with a warm-up: "
     "`warmup(cosine_decay(warmup_target, decay_steps, alpha), warmup_steps, start=initial_learning_rate)`",
     "CosineDecay(0.0, 60, warmup_target=0.1, warmup_steps=15)"),
    ("CosineDecayRestarts(initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0)",
     "cosine_decay_restarts(initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha)",
     "CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8)"),
    ("callbacks.LearningRateScheduler(schedule)", "`KerasSchedule(per_epoch(s, steps_per_epoch))` (the epoch "
     "function written as a schedule `s`)", None),
    ("callbacks.ReduceLROnPlateau(monitor, factor, patience, min_delta, cooldown, min_lr)",
     "`KerasSchedule(s, plateau=Plateau(rule='keras', ...))` and `PlateauCallback(monitor)`", None),
]

# (source, lrdecay call, difference, example source, example lrdecay spec)
OPTAX = [
    ("constant_schedule(value)", "constant(value)", "optax.constant_schedule(0.1)", "constant(0.1)"),
    ("linear_schedule(init_value, end_value, transition_steps, transition_begin=0)",
     "linear(init_value, end_value, transition_steps).shift(transition_begin)",
     "optax.linear_schedule(0.1, 0.001, 50, transition_begin=10)", "linear(0.1, 0.001, 50).shift(10)"),
    ("polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0)",
     "polynomial_decay(init_value, transition_steps, end_value, power).shift(transition_begin)",
     "optax.polynomial_schedule(0.1, 0.001, 2.0, 40, transition_begin=5)",
     "polynomial_decay(0.1, 40, 0.001, 2.0).shift(5)"),
    ("piecewise_constant_schedule(init_value, {boundary: scale})",
     "`join([constant(v0), constant(v1), ...], boundaries)`, `v[i] = init_value * scale[0] * ... * scale[i-1]`",
     "optax.piecewise_constant_schedule(0.1, {10: 0.5, 30: 0.2})",
     "join([constant(0.1), constant(0.05), constant(0.01)], [10, 30])"),
    ("piecewise_interpolate_schedule(interpolate_type, init_value, {boundary: scale})",
     "`piecewise_interpolate(interpolate_type, init_value, boundaries, scales)` (or `piecewise_interpolate.from_optax`)",
     "optax.piecewise_interpolate_schedule('cosine', 0.1, {10: 0.5, 30: 0.2})",
     "piecewise_interpolate('cosine', 0.1, [10, 30], [0.5, 0.2])"),
    ("exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0, staircase=False, end_value=None)",
     "`exponential_decay(init_value, transition_steps, decay_rate, staircase)`; with `transition_begin` or "
     "`end_value`: `warmup_exponential_decay(init_value, init_value, 0, transition_steps, decay_rate, "
     "transition_begin, staircase, end_value)`",
     "optax.exponential_decay(0.1, 10, 0.5, transition_begin=5, end_value=0.01)",
     "warmup_exponential_decay(0.1, 0.1, 0, 10, 0.5, transition_begin=5, end_value=0.01)"),
    ("cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0)",
     "`cosine_decay(init_value, decay_steps, alpha)`; with `exponent`: `warmup_cosine_decay(init_value, init_value, "
     "0, decay_steps, alpha * init_value, exponent)`",
     "optax.cosine_decay_schedule(0.1, 50, alpha=0.1)", "cosine_decay(0.1, 50, 0.1)"),
    ("warmup_constant_schedule(init_value, peak_value, warmup_steps)",
     "warmup(constant(peak_value), warmup_steps, start=init_value)",
     "optax.warmup_constant_schedule(0.0, 0.1, 10)", "warmup(constant(0.1), 10)"),
    ("warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0)",
     "warmup_cosine_decay(init_value, peak_value, warmup_steps, decay_steps, end_value, exponent)",
     "optax.warmup_cosine_decay_schedule(0.0, 0.1, 10, 60, end_value=0.001)",
     "warmup_cosine_decay(0.0, 0.1, 10, 60, 0.001)"),
    ("warmup_exponential_decay_schedule(init_value, peak_value, warmup_steps, transition_steps, decay_rate, "
     "transition_begin=0, staircase=False, end_value=None)",
     "warmup_exponential_decay(init_value, peak_value, warmup_steps, transition_steps, decay_rate, "
     "transition_begin, staircase, end_value)",
     "optax.warmup_exponential_decay_schedule(0.0, 0.1, 10, 20, 0.5, staircase=True)",
     "warmup_exponential_decay(0.0, 0.1, 10, 20, 0.5, staircase=True)"),
    ("join_schedules(schedules, boundaries)", "join([...], boundaries)",
     "optax.join_schedules([optax.linear_schedule(0.0, 0.1, 10), optax.cosine_decay_schedule(0.1, 50)], [10])",
     "join([linear(0.0, 0.1, 10), cosine_decay(0.1, 50)], [10])"),
    ("linear_onecycle_schedule(transition_steps, peak_value, pct_start=0.3, pct_final=0.85, div_factor=25.0, "
     "final_div_factor=1e4)", "linear_onecycle(transition_steps, peak_value, pct_start, pct_final, div_factor, "
     "final_div_factor)", "optax.linear_onecycle_schedule(60, 0.1)", "linear_onecycle(60, 0.1)"),
    ("cosine_onecycle_schedule(transition_steps, peak_value, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)",
     "cosine_onecycle(transition_steps, peak_value, pct_start, div_factor, final_div_factor)",
     "optax.cosine_onecycle_schedule(60, 0.1)", "cosine_onecycle(60, 0.1)"),
    ("sgdr_schedule(cosine_kwargs)", "sgdr([warmup_cosine_decay(**kwargs) for each cycle])",
     "optax.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=30), "
     "dict(init_value=0.0, peak_value=0.05, warmup_steps=5, decay_steps=30)])",
     "sgdr([warmup_cosine_decay(0.0, 0.1, 5, 30), warmup_cosine_decay(0.0, 0.05, 5, 30)])"),
]

TIMM = [
    ("CosineLRScheduler(optimizer, t_initial, lr_min=0, cycle_mul=1, cycle_decay=1, cycle_limit=1, warmup_t=0, "
     "warmup_lr_init=0, warmup_prefix=False, k_decay=1, noise_range_t=None, ...)",
     "`timm_cosine(lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, "
     "warmup_prefix, k_decay)`; noise: `timm_noise(s, noise_range_t, noise_type, noise_pct, noise_std, noise_seed)`",
     "equal, except that timm's cycle index (a float `log`) lands one cycle short on some restart steps",
     "CosineLRScheduler(optimizer, t_initial=30, lr_min=0.001, warmup_t=5, warmup_lr_init=0.0001)"),
    ("TanhLRScheduler(optimizer, t_initial, lb=-7, ub=3, lr_min=0, cycle_*, warmup_*)",
     "tanh_decay(lr, t_initial, lb, ub, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, "
     "warmup_prefix)", "equal (restart index as above)", "TanhLRScheduler(optimizer, t_initial=40, warmup_t=4)"),
    ("StepLRScheduler(optimizer, decay_t, decay_rate=1.0, warmup_t=0, warmup_lr_init=0, warmup_prefix=True)",
     "`step_decay(lr, decay_t, decay_rate)`; with a warm-up: `join([linear(warmup_lr_init, lr, warmup_t), s], "
     "[warmup_t])` (`s.shift(-warmup_t)` when `warmup_prefix=False`)", "equal",
     "StepLRScheduler(optimizer, decay_t=7, decay_rate=0.5, warmup_t=3, warmup_lr_init=0.001)"),
    ("MultiStepLRScheduler(optimizer, decay_t, decay_rate=1.0, warmup_*)",
     "`multistep_decay(lr, [m - 1 for m in decay_t], decay_rate)` (timm decays once `t + 1` reaches a "
     "milestone), warm-up as StepLRScheduler", "equal",
     "MultiStepLRScheduler(optimizer, decay_t=[10, 20], decay_rate=0.3, warmup_t=2)"),
    ("PolyLRScheduler(optimizer, t_initial, power=0.5, lr_min=0, cycle_*, warmup_*, k_decay=1)",
     "timm_poly(lr, t_initial, power, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, "
     "warmup_prefix, k_decay)", "equal (restart index as above)",
     "PolyLRScheduler(optimizer, t_initial=30, power=2.0, warmup_t=3)"),
    ("PlateauLRScheduler(optimizer, decay_rate=0.1, patience_t=10, mode='max', ...)",
     "`ScheduleLR(optimizer, s, plateau=Plateau(mode, factor=decay_rate, patience=patience_t, ...))`",
     "metric-driven: `from_timm` refuses it", None),
    ("WSDLRScheduler(optimizer, t_initial, decay_t, stable_fn, decay_fn, ...); create_scheduler_v2's wsd, rsqrt, "
     "constant", "`warmup_stable_decay(...)` or `sequence(...)` (the stable and decay functions written out)",
     "no closed form yet: `from_timm` refuses it", None),
    ("create_scheduler_v2(optimizer, sched, num_epochs, decay_epochs, ..., step_on_epochs, updates_per_epoch)",
     "`from_timm(sched, learning_rate=lr, num_epochs=..., ...)` (`cosine`, `tanh`, `step`, `multistep`, `poly`)",
     "equal to the scheduler it creates", "create_scheduler_v2(optimizer, sched='cosine', num_epochs=30, "
     "warmup_epochs=3, min_lr=0.0001)"),
]

LR = 0.1  # the optimizer's learning rate in the examples


def torch_optimizer():
    import torch

    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR, momentum=0.9)


def build(framework: str, source: str):
    """The framework object an example's source builds (with ``optimizer`` at lr 0.1)."""
    names = {}
    if framework in ("torch", "hf", "timm"):
        names["optimizer"] = torch_optimizer()
    if framework == "torch":
        from torch.optim import lr_scheduler, swa_utils

        names.update(vars(lr_scheduler), SWALR=swa_utils.SWALR)
    elif framework == "hf":
        from transformers import get_scheduler

        names["get_scheduler"] = get_scheduler
    elif framework == "timm":
        sys.path.insert(0, str(ROOT))
        from tests._timm import timm_scheduler

        names.update(vars(timm_scheduler()))
    elif framework == "keras":
        import keras

        names.update(vars(keras.optimizers.schedules))
    else:
        import optax

        names["optax"] = optax
    return eval(source, names)  # noqa: S307 - the fixed example strings of this file


def imported(framework: str, source: str):
    """The lrdecay schedule the importer makes of an example."""
    import lrdecay

    obj = build(framework, source)
    if framework == "torch":
        return lrdecay.from_torch(obj)
    if framework == "hf":
        return lrdecay.from_torch(obj)  # Hugging Face's LambdaLRs are read as from_hf
    if framework == "timm":
        if isinstance(obj, tuple):  # create_scheduler_v2 returns (scheduler, num_epochs)
            obj = obj[0]
        return lrdecay.from_timm(obj)
    return lrdecay.from_keras(obj)


def examples():
    """(framework, example source, lrdecay spec) for every row with an example."""
    rows = []
    for framework, table in (("torch", TORCH), ("hf", HF), ("keras", KERAS), ("timm", TIMM)):
        for row in table:
            if row[-1] is not None:
                rows.append((framework, row[-1], repr(imported(framework, row[-1]))))
    rows += [("optax", source, spec) for *_, source, spec in OPTAX]
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """A table cell: code as code, unless the text already marks its code."""
    return text if "`" in text else f"`{text}`"


def render() -> str:
    specs = {(f, source): spec for f, source, spec in examples()}
    lines = [
        "# Migrating to lrdecay",
        "",
        "Generated by `python scripts/make_migration_table.py` (tests/test_migration_table.py checks that this",
        "page is its output and that every example gives the framework's numbers). `lr` is the optimizer's",
        "learning rate; each lrdecay schedule gives absolute rates. Clocks:",
        "",
        *[f"- **{name}**: {text}" for name, text in CLOCKS.items()],
        "",
        "In the *numbers* columns, **equal** means the same values as the framework up to float64 round-off",
        "(a relative difference of at most 1e-13, in practice 0 or 1 unit in the last place), checked at every",
        "step of the examples; what follows it says where lrdecay differs on purpose.",
        "",
        "The importers build these schedules from the framework's own objects: `lrdecay.from_torch(scheduler)`,",
        "`lrdecay.from_hf(name, num_warmup_steps, num_training_steps, learning_rate=lr, **kwargs)`,",
        "`lrdecay.from_timm(scheduler)` or `lrdecay.from_timm(sched, learning_rate=lr, **create_scheduler_v2_kwargs)`,",
        "`lrdecay.from_keras(schedule_or_config)`. `ScheduleLR.from_torch(scheduler)` takes over a running torch",
        "scheduler (same step, same rates, momentum curves included), and `ScheduleLR.load_state_dict` accepts",
        "a torch scheduler's own `state_dict()`, so a run started with torch's scheduler resumes under lrdecay.",
        "",
    ]

    def section(title, intro, header, rows, framework=None):
        lines.extend([f"## {title}", "", intro, "", header, "| " + " | ".join("---" for _ in header.split("|")[1:-1]) + " |"])
        for row in rows:
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        if framework:
            pairs = [(s, specs[(framework, s)]) for s in (r[-1] for r in rows_source[framework]) if s is not None]
            lines.extend(["", "Examples (`lr = 0.1`; the lrdecay column is what the importer returns):", "",
                          "| framework | lrdecay |", "| --- | --- |"])
            lines.extend(f"| `{_cell(s)}` | `{_cell(spec)}` |" for s, spec in pairs)
        lines.append("")

    rows_source = {"torch": TORCH, "hf": HF, "keras": KERAS, "timm": TIMM}
    section("PyTorch (`torch.optim.lr_scheduler`)",
            "Run on `ScheduleLR(optimizer, schedule, clock=\"calls\")`: torch's step is the number of "
            "`scheduler.step()` calls, once per epoch or once per batch. When `step()` followed every "
            "`optimizer.step()`, the default `clock=\"updates\"` gives the same numbers.",
            "| torch | lrdecay | clock | numbers |",
            [(f"`{s}`", _code(c), k, n) for s, c, k, n, _ in TORCH], "torch")
    section("Hugging Face (`transformers.get_scheduler`)",
            "`W` = `num_warmup_steps`, `N` = `num_training_steps`; run on optimizer updates "
            "(`clock=\"updates\"`). `lrdecay.from_hf` accepts every `SchedulerType`; Hugging Face's "
            "schedulers are `LambdaLR`s, which `from_torch` also reads. Their `state_dict()` holds no "
            "readable function: a run resumes with `ScheduleLR(optimizer, from_hf(...))."
            "load_state_dict(state, on_mismatch=\"use_new\")` (the step count is taken as it is).",
            "| name | lrdecay | numbers |",
            [(f"`{s}`", _code(c), n) for s, c, n, _ in HF], "hf")
    section("Keras (`keras.optimizers.schedules`)",
            "Run on optimizer updates (Keras passes `optimizer.iterations`; `KerasSchedule(s)` in Keras). "
            "Keras computes in float32, lrdecay in float64 (float32 on TensorFlow tensors): the numbers "
            "agree to float32 round-off.",
            "| Keras | lrdecay |",
            [(f"`{s}`", _code(c)) for s, c, _ in KERAS], "keras")
    section("Optax (`optax.schedules`)",
            "Run on the optimizer's `count` (`as_optax(s)`: the schedule itself). Optax computes in float32 "
            "with int32 counts: the numbers agree to float32 round-off. Optax's schedules are closures, so "
            "there is no importer; the examples are checked against Optax's values.",
            "| Optax | lrdecay | example | lrdecay |",
            [(f"`{s}`", _code(c), f"`{e}`", f"`{spec}`") for s, c, e, spec in OPTAX])
    section("timm (`timm.scheduler`)",
            "timm's `t` counts epochs (`t_in_epochs=True`: `clock=\"calls\"` with one `step()` per epoch, "
            "or `per_epoch(s, steps_per_epoch)` on updates) or updates (`t_in_epochs=False`, "
            "`step_update`: `clock=\"updates\"`).",
            "| timm | lrdecay | numbers |",
            [(f"`{s}`", _code(c), n) for s, c, n, _ in TIMM], "timm")
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "migration.md")
    out = parser.parse_args().out
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
