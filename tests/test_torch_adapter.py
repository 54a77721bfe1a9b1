"""lrdecay.torch.ScheduleLR against real torch optimizers and schedulers."""

import copy
import io
import math
import warnings

import pytest
import torch

import lrdecay
from lrdecay.torch import ScheduleLR

EXP = lrdecay.exponential_decay(0.1, 20, 0.8)
STAIR = lrdecay.exponential_decay(0.5, 3, 0.5, staircase=True)


def make_model(seed=0, groups=1, dtype=torch.float64):
    torch.manual_seed(seed)
    layers = torch.nn.ModuleList([torch.nn.Linear(3, 1).to(dtype) for _ in range(groups)])
    return layers


def sgd(model, lr=0.05, names=None, **kwargs):
    groups = [{"params": layer.parameters()} for layer in model]
    for group, name in zip(groups, names or []):
        group["name"] = name
    return torch.optim.SGD(groups, lr=lr, **kwargs)


def train_step(model, opt, x):
    opt.zero_grad()
    sum(layer(x).pow(2).sum() for layer in model).backward()
    opt.step()


def applied_lrs(model, opt, steps, sched=None, call_step=True):
    """The learning rate each real SGD update used, recovered from the parameter change
    (float64 parameters, no momentum, a linear loss so the gradient stays put: delta = -lr * grad)."""
    x = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(4, 3)
    seen = []
    for _ in range(steps):
        before = model[0].bias.detach().clone()
        opt.zero_grad()
        sum(layer(x).sum() for layer in model).backward()
        grad = model[0].bias.grad.detach().clone()
        opt.step()
        if sched is not None and call_step:
            sched.step()
        seen.append(((before - model[0].bias.detach()) / grad).item())
    return seen


def test_import_gets_the_real_torch():
    import lrdecay.torch.adapter as adapter

    assert adapter.torch is torch and hasattr(torch.optim, "SGD")


def test_is_a_torch_scheduler_and_sgd_sees_the_schedule():
    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, EXP)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    seen = applied_lrs(model, opt, 30, sched)
    assert seen == pytest.approx([EXP(k) for k in range(30)], rel=1e-9)
    assert sched.get_last_lr() == [EXP(30)]
    assert sched.last_epoch == 30


@pytest.mark.filterwarnings("ignore:Detected call of .lr_scheduler.step")
def test_calls_clock_matches_torch_exponential_lr():
    gamma = 0.93
    ours_model, ref_model = make_model(), make_model()
    ours_opt, ref_opt = sgd(ours_model, lr=0.1), sgd(ref_model, lr=0.1)
    ours = ScheduleLR(ours_opt, lrdecay.exponential_decay(0.1, 1, gamma), clock="calls")
    ref = torch.optim.lr_scheduler.ExponentialLR(ref_opt, gamma)
    for _ in range(50):
        assert ours.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
        ours.step()
        ref.step()


def test_extra_step_calls_do_not_push_the_updates_clock_ahead():
    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, STAIR)
    x = torch.ones(2, 3, dtype=torch.float64)
    for k in range(10):
        train_step(model, opt, x)
        for _ in range(3):
            sched.step()
        assert sched.last_epoch == k + 1
        assert opt.param_groups[0]["lr"] == STAIR(k + 1)


def test_amp_skipped_updates_are_not_counted_and_nothing_warns():
    model = make_model(dtype=torch.float32)
    opt = sgd(model)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    x = torch.ones(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = ScheduleLR(opt, STAIR)
        skipped = 0
        for k in range(12):
            opt.zero_grad()
            scaler.scale(model[0](x).pow(2).sum()).backward()
            if k % 3 == 0:  # an overflow: GradScaler skips optimizer.step()
                model[0].weight.grad[0, 0] = math.inf
                skipped += 1
            scaler.step(opt)
            scaler.update()
            sched.step()
            assert sched.last_epoch == k + 1 - skipped
    assert skipped == 4 and opt.param_groups[0]["lr"] == STAIR(8)


def test_calls_clock_advances_on_step_only():
    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, STAIR, clock="calls")
    seen = applied_lrs(model, opt, 10, sched)
    assert seen == pytest.approx([STAIR(k) for k in range(10)], rel=1e-9)
    sched.step()
    assert sched.get_last_lr() == [STAIR(11)]


@pytest.mark.parametrize("clock", ["samples", "tokens"])
def test_sample_clock_advances_by_n(clock):
    per_sample = lrdecay.exponential_decay(0.1, 640, 0.5)
    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, per_sample, clock=clock)
    total = 0
    for batch in (32, 32, 64, 16, 128):
        train_step(model, opt, torch.ones(1, 3, dtype=torch.float64))
        sched.step(batch)
        total += batch
        assert sched.get_last_lr() == [per_sample(total)]
    with pytest.raises(TypeError, match="step"):
        sched.step()


def test_one_schedule_list_and_dict_per_group_and_factor_mode():
    a, b = lrdecay.exponential_decay(0.2, 5, 0.5), lrdecay.exponential_decay(0.01, 2, 0.9)
    model = make_model(groups=3)
    opt = sgd(model, names=["body", "head", "frozen"])
    for i, lr in enumerate((0.3, 0.03, 0.7)):
        opt.param_groups[i]["lr"] = lr
    sched = ScheduleLR(opt, {"body": a, "head": b})
    x = torch.ones(2, 3, dtype=torch.float64)
    for k in range(1, 6):
        train_step(model, opt, x)
        assert sched.get_last_lr() == [a(k), b(k), 0.7]
    model = make_model(groups=2)
    opt = sgd(model)
    opt.param_groups[0]["lr"], opt.param_groups[1]["lr"] = 0.5, 0.05
    sched = ScheduleLR(opt, [STAIR, None])
    assert sched.get_last_lr() == [STAIR(0), 0.05]
    model = make_model(groups=2)
    opt = sgd(model)
    opt.param_groups[0]["lr"], opt.param_groups[1]["lr"] = 1.0, 0.25
    sched = ScheduleLR(opt, EXP, mode="factor")
    for k in range(1, 6):
        train_step(model, opt, x)
        assert sched.get_last_lr() == [1.0 * EXP(k), 0.25 * EXP(k)]
    assert sched.base_lrs == [1.0, 0.25]


def test_scheduled_weight_decay_momentum_and_betas():
    wd, mom = lrdecay.exponential_decay(1e-2, 4, 0.5), lrdecay.exponential_decay(0.9, 10, 0.99)
    model = make_model()
    opt = sgd(model, momentum=0.9, weight_decay=1e-2)
    sched = ScheduleLR(opt, EXP, hyperparams={"weight_decay": wd, "momentum": mom})
    x = torch.ones(2, 3, dtype=torch.float64)
    for k in range(1, 8):
        train_step(model, opt, x)
        group = opt.param_groups[0]
        assert (group["lr"], group["weight_decay"], group["momentum"]) == (EXP(k), wd(k), mom(k))
    beta2 = lrdecay.exponential_decay(0.999, 100, 0.99)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = ScheduleLR(opt, EXP, hyperparams={"beta2": beta2})
    for k in range(1, 4):
        train_step(model, opt, x)
        assert opt.param_groups[0]["betas"] == (0.9, beta2(k))
    assert sched.get_last_lr() == [EXP(3)]


def _run(steps_before, steps_after, compile_safe=False, load_order="scheduler_first", stop=None):
    """Train ``steps_before`` updates, checkpoint through bytes with weights_only=True, rebuild
    everything from scratch, load, train ``steps_after`` more. Returns params and lrs."""
    schedule = lrdecay.exponential_decay(0.1, 7, 0.6, staircase=False)
    model = make_model(seed=1, dtype=torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-3)
    sched = ScheduleLR(opt, schedule, hyperparams={"momentum": lrdecay.exponential_decay(0.9, 5, 0.97)},
                       compile_safe=compile_safe)
    torch.manual_seed(5)
    data = [torch.randn(4, 3) for _ in range(steps_before + steps_after)]
    lrs = []
    for x in data[:steps_before]:
        train_step(model, opt, x)
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    if stop is not None:
        buffer = io.BytesIO()
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
        buffer.seek(0)
        checkpoint = torch.load(buffer, weights_only=True)
        model = make_model(seed=99, dtype=torch.float32)
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.1, weight_decay=1e-3)
        model.load_state_dict(checkpoint["model"])
        if load_order == "optimizer_first":
            opt.load_state_dict(checkpoint["opt"])
        sched = ScheduleLR(opt, schedule, hyperparams={"momentum": lrdecay.exponential_decay(0.9, 5, 0.97)},
                           compile_safe=compile_safe)
        if load_order == "scheduler_first":
            sched.load_state_dict(checkpoint["sched"])
            opt.load_state_dict(checkpoint["opt"])
        else:
            sched.load_state_dict(checkpoint["sched"])
    for x in data[steps_before:]:
        train_step(model, opt, x)
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return [p.detach().clone() for p in model.parameters()], lrs


@pytest.mark.parametrize("compile_safe", [False, True])
@pytest.mark.parametrize("load_order", ["scheduler_first", "optimizer_first"])
def test_resume_is_bit_for_bit(compile_safe, load_order):
    straight_params, straight_lrs = _run(9, 11, compile_safe)
    resumed_params, resumed_lrs = _run(9, 11, compile_safe, load_order, stop=9)
    assert resumed_lrs == straight_lrs
    assert len(straight_params) == 2
    for a, b in zip(straight_params, resumed_params):
        assert torch.equal(a, b)


def test_state_dict_is_plain_data_with_the_spec():
    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, EXP)
    state = sched.state_dict()
    assert state["spec"]["schedules"]["lr"] == [EXP.to_dict()]
    assert lrdecay.from_dict(state["spec"]["schedules"]["lr"][0]) == EXP

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (bool, int, float, str))

    assert plain(state)


def test_load_refuses_a_different_spec_unless_told():
    model = make_model()
    saved = ScheduleLR(sgd(model), EXP)
    for _ in range(4):
        saved.step(), saved._after_update(None, (), {})
    state = saved.state_dict()
    other = ScheduleLR(sgd(make_model()), STAIR)
    with pytest.raises(ValueError, match="on_mismatch"):
        other.load_state_dict(state)
    other.load_state_dict(state, on_mismatch="use_new")
    assert other.get_last_lr() == [STAIR(4)]
    other = ScheduleLR(sgd(make_model()), STAIR)
    other.load_state_dict(state, on_mismatch="use_saved")
    assert other.get_last_lr() == [EXP(4)] and other.state_dict()["spec"] == state["spec"]
    with pytest.raises(ValueError, match="on_mismatch"):
        other.load_state_dict(state, on_mismatch="maybe")


def test_construction_leaves_the_optimizer_state_restorable():
    model = make_model()
    opt = sgd(model, momentum=0.9)
    train_step(model, opt, torch.ones(2, 3, dtype=torch.float64))
    before = copy.deepcopy(opt.state_dict())
    ScheduleLR(opt, EXP, hyperparams={"momentum": lrdecay.exponential_decay(0.5, 3, 0.5)}, compile_safe=True)
    after = opt.state_dict()
    assert after["state"].keys() == before["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key]["momentum_buffer"], value["momentum_buffer"])
    assert set(after["param_groups"][0]) == set(before["param_groups"][0])
    changed = {k for k in before["param_groups"][0] if str(after["param_groups"][0][k]) != str(before["param_groups"][0][k])}
    assert changed == {"lr", "momentum"}


def test_compile_safe_keeps_tensors_filled_in_place():
    model = make_model(dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = ScheduleLR(opt, EXP, hyperparams={"beta1": lrdecay.exponential_decay(0.9, 10, 0.9)}, compile_safe=True)
    lr_tensor, beta_tensor = opt.param_groups[0]["lr"], opt.param_groups[0]["betas"][0]
    assert isinstance(lr_tensor, torch.Tensor) and lr_tensor.dim() == 0 and lr_tensor.dtype == torch.float32
    for k in range(1, 5):
        train_step(model, opt, torch.ones(2, 3))
        assert opt.param_groups[0]["lr"] is lr_tensor and opt.param_groups[0]["betas"][0] is beta_tensor
        assert lr_tensor.item() == torch.tensor(EXP(k), dtype=torch.float32).item()
    assert sched.get_last_lr() == [lr_tensor.item()]  # the value the next update uses


def _graphs_over_100_steps(compile_safe):
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    model = make_model(dtype=torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = ScheduleLR(opt, lrdecay.exponential_decay(0.1, 5, 0.5), compile_safe=compile_safe)

    @torch.compile
    def compiled_update():
        opt.step()

    x = torch.randn(8, 3)
    lrs = set()
    for _ in range(100):
        opt.zero_grad()
        model[0](x).pow(2).mean().backward()
        compiled_update()
        sched.step()
        lrs.add(sched.get_last_lr()[0])
    assert len(lrs) == 100
    return counters["stats"]["unique_graphs"]


def test_compiled_step_does_not_recompile_with_compile_safe():
    assert _graphs_over_100_steps(compile_safe=True) == 1  # compiled once, zero recompiles
    # Plain float lrs are guarded as constants: torch 2.13 recompiles until its cache limit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _graphs_over_100_steps(compile_safe=False) > 1


def test_plateau_wiring_matches_torch_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]
    ref_opt = sgd(make_model(), lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(ref_opt, patience=1, factor=0.5)
    ours_opt = sgd(make_model(), lr=0.1)
    ours = ScheduleLR(ours_opt, lrdecay.exponential_decay(0.1, 1, 1.0), clock="calls",
                      plateau=lrdecay.Plateau(patience=1, factor=0.5))
    for i, metric in enumerate(metrics):
        ref.step(metric)
        if i % 2:
            ours.step(metrics=metric)
        else:
            ours.step(metric)  # positional, as Lightning passes it
        assert ours.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
    assert ours.plateau.num_reductions >= 2
    factor = ours.observe(torch.tensor(5.0))
    assert factor == ours.plateau.factor
    state = ours.state_dict()
    assert state["plateau"]["num_reductions"] == ours.plateau.num_reductions
    fresh = ScheduleLR(sgd(make_model(), lr=0.1), lrdecay.exponential_decay(0.1, 1, 1.0), clock="calls",
                       plateau=lrdecay.Plateau(patience=1, factor=0.5))
    fresh.load_state_dict(state)
    assert fresh.get_last_lr() == ours.get_last_lr() and fresh.plateau.factor == ours.plateau.factor


BAD = [
    (dict(optimizer="sgd"), TypeError, "optimizer"),
    (dict(schedule=lambda t: 0.1), TypeError, "schedule"),
    (dict(schedule=[EXP, EXP]), ValueError, "param groups"),
    (dict(schedule={"nope": EXP}), ValueError, "nope"),
    (dict(schedule=[3.0]), TypeError, r"schedule\[0\] must be an lrdecay Schedule, a spec"),
    (dict(mode="relative"), ValueError, "mode"),
    (dict(clock="epochs"), ValueError, "clock"),
    (dict(compile_safe=1), TypeError, "compile_safe"),
    (dict(hyperparams={"dampening_x": EXP}), ValueError, "dampening_x"),
    (dict(hyperparams={"lr": EXP}), ValueError, "lr"),
    (dict(hyperparams=[EXP]), TypeError, "hyperparams"),
    (dict(plateau=0.5), TypeError, "plateau"),
]


@pytest.mark.parametrize("kwargs, error, word", BAD)
def test_bad_input(kwargs, error, word):
    kwargs = {"optimizer": sgd(make_model()), "schedule": EXP, **kwargs}
    with pytest.raises(error, match=word):
        ScheduleLR(kwargs.pop("optimizer"), kwargs.pop("schedule"), **kwargs)


def test_bad_step_and_state():
    sched = ScheduleLR(sgd(make_model()), EXP, clock="samples")
    sched.step(torch.tensor(3))
    assert sched.last_epoch == 3
    for n, error in ((-1, ValueError), (1.5, TypeError), (True, TypeError), (torch.tensor(1.5), TypeError)):
        with pytest.raises(error, match="n"):
            sched.step(n)
    with pytest.raises(TypeError, match="count"):
        ScheduleLR(sgd(make_model()), EXP).step(3)
    with pytest.raises(ValueError, match="plateau"):
        ScheduleLR(sgd(make_model()), EXP).observe(1.0)
    with pytest.raises(ValueError, match="format"):
        sched.load_state_dict({"clock": 3})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (GPU-only check)")
def test_cuda_graphs_compile_safe_no_recompiles():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    model = torch.nn.Linear(64, 64).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(1e-3, device="cuda"), capturable=True)
    schedule = lrdecay.exponential_decay(1e-3, 5, 0.5)
    ScheduleLR(opt, schedule, compile_safe=True)
    assert opt.param_groups[0]["lr"].device.type == "cuda"

    @torch.compile(mode="reduce-overhead")
    def compiled_update():
        opt.step()

    x = torch.randn(32, 64, device="cuda")
    for k in range(100):
        opt.zero_grad(set_to_none=False)
        model(x).pow(2).mean().backward()
        compiled_update()
        assert opt.param_groups[0]["lr"].item() == torch.tensor(schedule(k + 1), dtype=torch.float32).item()
    assert counters["stats"]["unique_graphs"] == 1


def test_guide_examples_run():
    from tests._guides import run_guide

    namespace = run_guide("pytorch")
    assert namespace["scheduler"].plateau.factor == 0.5


def test_deepcopy_and_pickle_keep_a_working_scheduler():
    import pickle

    model = make_model()
    opt = sgd(model)
    sched = ScheduleLR(opt, STAIR)
    train_step(model, opt, torch.ones(2, 3, dtype=torch.float64))
    for copied in (copy.deepcopy(sched), pickle.loads(pickle.dumps(sched))):
        assert copied.last_epoch == 1 and copied.optimizer is not opt
        copied.optimizer.step()  # the copy's optimizer drives the copy's clock
        assert copied.last_epoch == 2 and copied.get_last_lr() == [STAIR(2)]
    assert sched.last_epoch == 1
