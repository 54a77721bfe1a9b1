"""``lrdecay.torch.lr_find`` on real torch models: the sweep's rates reach the optimizer, updates
are counted (accumulation, GradScaler skips), and afterwards every parameter, buffer, gradient,
optimizer state tensor, param-group value, scaler state and RNG state is bit-identical to what
it was, also with accumulation and bfloat16 autocast on CPU."""

import math
import random

import numpy as np
import pytest
import torch

import lrdecay
from lrdecay.finder import sweep
from lrdecay.torch.finder import lr_find


def make_problem(seed=0, optimizer="adamw"):
    """A small MLP with BatchNorm and dropout (buffers and RNG use) on a fixed regression task."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
                                torch.nn.Dropout(0.1), torch.nn.Linear(32, 1))
    x = torch.randn(256, 8)
    y = x[:, :1] * 2.0 - x[:, 1:2] + 0.1 * torch.randn(256, 1)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    if optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt, torch.nn.functional.mse_loss, data


def train_a_little(model, opt, loss_fn, data, steps=3):
    """Some optimizer state, gradients and moved BatchNorm statistics to restore."""
    for _, (x, y) in zip(range(steps), data):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


def everything(model, opt, scaler=None):
    """Every tensor and value lr_find must leave as it was, copied."""
    state = {
        "params": [p.detach().clone() for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "buffers": [b.clone() for b in model.buffers()],
        "training": [m.training for m in model.modules()],
        "opt_state": {i: {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()}
                      for i, s in enumerate(opt.state.get(p, {}) for p in model.parameters()) if s},
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
        "torch_rng": torch.get_rng_state(),
        "random": random.getstate(),
        "numpy": np.random.get_state(),
        "scaler": None if scaler is None else scaler.state_dict(),
    }
    return state


def assert_identical(before, after):
    for key in ("params", "grads", "buffers"):
        assert len(before[key]) == len(after[key])
        for a, b in zip(before[key], after[key]):
            assert (a is None) == (b is None), key
            if a is not None:
                assert a.dtype == b.dtype and torch.equal(a, b), key  # bit-identical, not close
    assert before["training"] == after["training"]
    assert before["opt_state"].keys() == after["opt_state"].keys()
    for i, state in before["opt_state"].items():
        assert state.keys() == after["opt_state"][i].keys()
        for k, v in state.items():
            w = after["opt_state"][i][k]
            assert torch.equal(v, w) and v.dtype == w.dtype if torch.is_tensor(v) else v == w, (i, k)
    assert before["groups"] == after["groups"]
    assert torch.equal(before["torch_rng"], after["torch_rng"])
    assert before["random"] == after["random"]
    b, a = before["numpy"], after["numpy"]
    assert b[0] == a[0] and np.array_equal(b[1], a[1]) and b[2:] == a[2:]
    assert before["scaler"] == after["scaler"]


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
@pytest.mark.parametrize("accumulation_steps, amp", [(1, None), (3, None), (1, torch.bfloat16), (2, torch.bfloat16)])
def test_everything_is_restored_bit_for_bit(optimizer, accumulation_steps, amp):
    model, opt, loss_fn, data = make_problem(optimizer=optimizer)
    train_a_little(model, opt, loss_fn, data)
    model.eval()
    model[1].train()  # mixed training flags are restored module by module
    torch.manual_seed(123)
    random.seed(5)
    np.random.seed(7)
    before = everything(model, opt)
    param_ids = [id(p) for p in model.parameters()]
    state_ids = {k: id(v) for k, v in opt.state[model[0].weight].items()}
    result = lr_find(model, opt, loss_fn, data, start_lr=1e-5, end_lr=1.0, num_steps=30,
                     accumulation_steps=accumulation_steps, amp=amp)
    assert result.steps_run > 5 and np.isfinite(result.losses).all()
    assert_identical(before, everything(model, opt))
    # the same objects: the optimizer still drives the model's parameters
    assert [id(p) for p in model.parameters()] == param_ids
    assert {k: id(v) for k, v in opt.state[model[0].weight].items()} == state_ids
    assert [id(p) for p in opt.param_groups[0]["params"]] == param_ids


def test_a_fresh_optimizer_stays_fresh():
    model, opt, loss_fn, data = make_problem()
    before = everything(model, opt)
    lr_find(model, opt, loss_fn, data, start_lr=1e-5, end_lr=1.0, num_steps=10)
    assert len(opt.state) == 0 and all(p.grad is None for p in model.parameters())
    assert_identical(before, everything(model, opt))


def test_grad_scaler_state_is_restored_and_skipped_updates_do_not_count():
    model, opt, loss_fn, data = make_problem(optimizer="sgd")
    # on CPU a GradScaler works like on CUDA; an enormous initial scale overflows the float32
    # gradients, so the first updates are skipped (the scale halves each time) until it fits
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**120, growth_interval=3)
    before = everything(model, opt, scaler)
    steps = []
    original = opt.step

    def counting_step(*args, **kwargs):
        steps.append(opt.param_groups[0]["lr"])
        return original(*args, **kwargs)

    opt.step = counting_step
    result = lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=0.1, num_steps=12, scaler=scaler,
                     diverge=math.inf)
    del opt.step
    assert result.steps_run == 12
    assert steps == result.rates.tolist()  # one real update per sweep step, none for the skips
    assert scaler.get_scale() == 2.0**120
    assert_identical(before, everything(model, opt, scaler))


def test_each_sweep_step_is_one_update_of_accumulated_micro_batches():
    model, opt, loss_fn, data = make_problem(optimizer="sgd")
    calls, rates = [], []
    forward = model.forward

    def counting_forward(x):
        calls.append(len(x))
        return forward(x)

    model.forward = counting_forward
    original = opt.step
    opt.step = lambda *a, **k: (rates.append(opt.param_groups[0]["lr"]), original(*a, **k))[1]
    result = lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=1e-2, num_steps=7, accumulation_steps=4,
                     diverge=math.inf)
    del opt.step, model.forward
    assert len(calls) == 4 * 7 and len(rates) == 7
    np.testing.assert_array_equal(rates, np.asarray(sweep(1e-4, 1e-2, 7)(np.arange(7))))
    np.testing.assert_array_equal(result.rates, rates)


def test_accumulated_loss_and_gradient_match_one_big_batch():
    """With accumulation the recorded loss is the mean over the micro-batches, and the update is
    the one of their concatenation (mean losses): the same first loss and the same parameters
    after the first update as a plain step on the big batch."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    x, y = torch.randn(32, 4, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64)
    model = model.double()
    micro = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8)]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.functional.mse_loss
    result = lr_find(model, opt, loss_fn, micro, start_lr=0.1, end_lr=0.2, num_steps=2, accumulation_steps=4,
                     diverge=math.inf)
    with torch.no_grad():
        assert result.losses[0] == pytest.approx(float(loss_fn(model(x), y)), rel=1e-12)
    # second sweep step: its loss is measured on the parameters after one big-batch update at 0.1
    big = torch.nn.Linear(4, 1).double()
    big.load_state_dict(model.state_dict())
    big_opt = torch.optim.SGD(big.parameters(), lr=0.1)
    loss_fn(big(x), y).backward()
    big_opt.step()
    with torch.no_grad():
        assert result.losses[1] == pytest.approx(float(loss_fn(big(x), y)), rel=1e-12)


def test_exposed_as_lrdecay_torch_lr_find():
    import lrdecay.torch

    assert lrdecay.torch.lr_find is lr_find and "lr_find" in lrdecay.torch.__all__


def test_a_scheduler_attached_to_the_optimizer_does_not_see_the_sweep():
    from lrdecay.torch import ScheduleLR

    model, opt, loss_fn, data = make_problem(optimizer="sgd")
    scheduler = ScheduleLR(opt, lrdecay.cosine_decay(0.05, 100))
    train_a_little(model, opt, loss_fn, data, steps=4)
    state = scheduler.state_dict()
    lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=1.0, num_steps=10)
    assert scheduler.state_dict() == state
    assert opt.param_groups[0]["lr"] == lrdecay.cosine_decay(0.05, 100)(4)
    train_a_little(model, opt, loss_fn, data, steps=1)  # the hook still counts real updates
    assert opt.param_groups[0]["lr"] == lrdecay.cosine_decay(0.05, 100)(5)


def test_deterministic_for_a_fixed_seed_and_repeatable():
    results = []
    for _ in range(2):
        model, opt, loss_fn, data = make_problem(seed=3)
        torch.manual_seed(11)
        results.append(lr_find(model, opt, loss_fn, data, start_lr=1e-5, end_lr=1.0, num_steps=25))
    assert results[0] == results[1]
    # RNG restored: running it again on the same objects gives the same curve again
    again = lr_find(model, opt, loss_fn, data, start_lr=1e-5, end_lr=1.0, num_steps=25)
    torch.manual_seed(11)
    assert lr_find(model, opt, loss_fn, data, start_lr=1e-5, end_lr=1.0, num_steps=25) == results[1]
    assert again.steps_run == results[1].steps_run


def test_suggestion_is_below_the_stability_limit_of_least_squares():
    """Plain SGD on mean squared error of a linear model is stable for lr < 1 / lambda_max(X^T X / n)
    (the loss's Hessian is 2 X^T X / n): the test must diverge above that limit and suggest a rate
    below it, within two decades."""
    torch.manual_seed(0)
    x = torch.randn(512, 6) * torch.tensor([3.0, 1.0, 1.0, 0.5, 0.5, 0.2])
    y = x @ torch.randn(6, 1) + 0.01 * torch.randn(512, 1)
    limit = 1.0 / float(torch.linalg.eigvalsh(x.T @ x / len(x)).max())
    model = torch.nn.Linear(6, 1, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = lr_find(model, opt, torch.nn.functional.mse_loss, [(x, y)], start_lr=1e-5, end_lr=10.0, num_steps=100)
    assert result.stopped == "diverged" and result.rates[-1] > limit
    assert limit / 100 < result.suggestion < limit, (result.suggestions, limit)


def test_nan_loss_stops_and_restores():
    model, opt, _, data = make_problem()
    before = everything(model, opt)
    result = lr_find(model, opt, lambda out, y: (out - y).mean() * float("nan"), data, num_steps=20)
    assert result.stopped == "non-finite" and result.steps_run == 1 and result.suggestion is None
    assert_identical(before, everything(model, opt))


def test_bad_arguments():
    model, opt, loss_fn, data = make_problem()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        lr_find("model", opt, loss_fn, data)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got dict"):
        lr_find(model, {}, loss_fn, data)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        lr_find(model, opt, 1.0, data)
    with pytest.raises(TypeError, match="data must be an iterable of .* batches, got int"):
        lr_find(model, opt, loss_fn, 3)
    with pytest.raises(ValueError, match="accumulation_steps must be >= 1, got 0"):
        lr_find(model, opt, loss_fn, data, accumulation_steps=0)
    with pytest.raises(TypeError, match="amp must be a floating torch.dtype"):
        lr_find(model, opt, loss_fn, data, amp="bf16")
    with pytest.raises(ValueError, match="end_lr must be > start_lr"):
        lr_find(model, opt, loss_fn, data, start_lr=1.0, end_lr=0.1)
    before = everything(model, opt)
    with pytest.raises(ValueError, match="data must yield at least one batch"):
        lr_find(model, opt, loss_fn, [])
    with pytest.raises(TypeError, match=r"each batch must be an \(inputs, targets\) pair, got Tensor"):
        lr_find(model, opt, loss_fn, [torch.zeros(4, 8)])
    assert_identical(before, everything(model, opt))  # restored after an error too


def test_a_tensor_learning_rate_stays_the_same_tensor():
    """Optimizers given a 0-dim tensor lr (for torch.compile) get the sweep written into it and
    the same tensor, with its value, back."""
    model, _, loss_fn, data = make_problem()
    lr = torch.tensor(0.003)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    seen = []
    original = opt.step
    opt.step = lambda *a, **k: (seen.append(float(opt.param_groups[0]["lr"])), original(*a, **k))[1]
    result = lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=1e-2, num_steps=5, diverge=math.inf)
    del opt.step
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.003) and lr.item() == torch.tensor(0.003).item()
    np.testing.assert_allclose(seen, result.rates, rtol=1e-6)  # float32 tensor


def test_keep_ratios_scales_every_group_by_its_ratio():
    model, _, loss_fn, data = make_problem()
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                           {"params": model[4].parameters(), "lr": 0.01},
                           {"params": model[1].parameters(), "lr": 0.05}], lr=0.1)
    seen = []
    original = opt.step
    opt.step = lambda *a, **k: (seen.append([g["lr"] for g in opt.param_groups]), original(*a, **k))[1]
    result = lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=1e-2, num_steps=4, keep_ratios=True,
                     diverge=math.inf)
    same = lr_find(model, opt, loss_fn, data, start_lr=1e-4, end_lr=1e-2, num_steps=4, diverge=math.inf)
    del opt.step
    rates = result.rates.tolist()
    assert seen[:4] == [[lr, lr * (0.01 / 0.1), lr * (0.05 / 0.1)] for lr in rates]
    assert seen[4:] == [[lr, lr, lr] for lr in same.rates.tolist()]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01, 0.05]
    opt.param_groups[0]["lr"] = 0.0
    with pytest.raises(ValueError, match="keep_ratios needs the first param group's lr > 0, got 0.0"):
        lr_find(model, opt, loss_fn, data, keep_ratios=True)
    with pytest.raises(TypeError, match="keep_ratios must be True or False, got str 'yes'"):
        lr_find(model, opt, loss_fn, data, keep_ratios="yes")
