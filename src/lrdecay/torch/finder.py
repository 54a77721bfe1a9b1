"""The range test on a PyTorch model: :func:`lr_find` (exposed as ``lrdecay.torch.lr_find``).

Every sweep step is one optimizer update (``accumulation_steps`` micro-batches, each
``loss_fn(model(inputs), targets) / accumulation_steps``; an update that a ``GradScaler``
skips for inf/NaN gradients is retried on the next batch and not counted). Afterwards the model
(every parameter, buffer, gradient and training flag), the optimizer (state tensors, param-group
values), the scaler and the random number generators (torch CPU and CUDA, Python's ``random``,
NumPy's global one) are exactly as before, the same tensor objects holding the same bits.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import torch

from lrdecay.core.validate import check_bool, check_int

if TYPE_CHECKING:  # imported when lr_find runs: importing lrdecay.torch stays light
    from lrdecay.tools.finder import RangeTestResult

__all__ = ["lr_find"]

#: Updates in a row a GradScaler may skip before the test stops with a non-finite loss.
MAX_SKIPPED = 30


def lr_find(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn, data: Iterable, *,
            start_lr=1e-7, end_lr=10.0, num_steps: int = 100, mode: str = "exp", smooth: float = 0.05,
            diverge: float = 5.0, accumulation_steps: int = 1, amp: torch.dtype | None = None,
            scaler=None, device=None, keep_ratios: bool = False, progress: bool | None = None) -> RangeTestResult:
    """Run :func:`lrdecay.finder.range_test` on ``model`` trained by ``optimizer`` and restore
    both afterwards (see the module docstring); returns the :class:`~lrdecay.finder.RangeTestResult`.

    ``data``: an iterable of ``(inputs, targets)`` batches (a ``DataLoader``), started again when
    it runs out; tensors are moved to ``device`` (default: the device of the model's first
    parameter). Every param group gets the sweep's rate, or with ``keep_ratios`` the rate times
    its lr over the first group's (the rates recorded and suggested are the first group's). ``amp``: a dtype for
    ``torch.autocast`` (``torch.bfloat16`` on CPU, ``torch.float16`` on CUDA with a ``scaler``).
    Under ``torch.distributed`` the loss is averaged over the ranks, so all ranks see the same
    curve, stop together and get the same suggestions.
    The optimizer's step hooks (e.g. a :class:`lrdecay.torch.ScheduleLR` counting updates) do not
    run during the sweep."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    from lrdecay.tools.finder import range_test

    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (outputs, targets) -> loss, got {type(loss_fn).__name__}")
    if not isinstance(data, Iterable):
        raise TypeError(f"data must be an iterable of (inputs, targets) batches, got {type(data).__name__}")
    accumulation_steps = check_int("accumulation_steps", accumulation_steps, 1)
    ratios = _group_ratios(optimizer) if check_bool("keep_ratios", keep_ratios) else [1.0] * len(optimizer.param_groups)
    if amp is not None and not (isinstance(amp, torch.dtype) and amp.is_floating_point):
        raise TypeError(f"amp must be a floating torch.dtype (torch.bfloat16, torch.float16) or None, got {amp!r}")
    if scaler is not None and not all(hasattr(scaler, a) for a in ("scale", "step", "update", "state_dict")):
        raise TypeError(f"scaler must be a torch.amp.GradScaler, got {type(scaler).__name__}")
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    device = torch.device(device)

    snapshot = _Snapshot(model, optimizer, scaler)
    hooks = _suspend_step_hooks(optimizer)
    try:
        model.train()
        step = _Updater(model, optimizer, loss_fn, data, accumulation_steps, amp, scaler, device, ratios)
        return range_test(step, start_lr, end_lr, num_steps, mode, smooth, diverge, progress)
    finally:
        hooks.restore()
        snapshot.restore()


class _Updater:
    """``step(lr) -> loss``: one optimizer update at ``lr``, the mean loss of its micro-batches
    (averaged over the ranks under torch.distributed)."""

    def __init__(self, model, optimizer, loss_fn, data, accumulation_steps, amp, scaler, device, ratios):
        self.model, self.optimizer, self.loss_fn, self.data, self.ratios = model, optimizer, loss_fn, data, ratios
        self.accumulation_steps, self.amp, self.scaler, self.device = accumulation_steps, amp, scaler, device
        self.batches = iter(data)

    def _next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self.data)
            try:
                return next(self.batches)
            except StopIteration:
                raise ValueError("data must yield at least one batch, got an empty iterable") from None

    def _micro_step(self) -> torch.Tensor:
        batch = self._next_batch()
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise TypeError(f"each batch must be an (inputs, targets) pair, got {type(batch).__name__}")
        inputs, targets = (_to(part, self.device) for part in batch)
        with torch.autocast(self.device.type, dtype=self.amp, enabled=self.amp is not None):
            loss = self.loss_fn(self.model(inputs), targets)
        scaled = loss / self.accumulation_steps
        (scaled if self.scaler is None else self.scaler.scale(scaled)).backward()
        loss = loss.detach()
        return loss.float() if loss.dtype in (torch.float16, torch.bfloat16) else loss

    def __call__(self, lr: float) -> float:
        for group, ratio in zip(self.optimizer.param_groups, self.ratios):
            _set_value(group, "lr", lr * ratio)
        for _ in range(MAX_SKIPPED):
            self.optimizer.zero_grad(set_to_none=True)
            loss = sum(self._micro_step() for _ in range(self.accumulation_steps)) / self.accumulation_steps
            if self._update():
                return _mean_over_ranks(loss)
        return float("nan")  # the scaler kept finding inf/NaN gradients: the loss has diverged

    def _update(self) -> bool:
        """One optimizer step; False when the scaler skipped it (its scale went down)."""
        if self.scaler is None:
            self.optimizer.step()
            return True
        scale = self.scaler.get_scale()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return not self.scaler.get_scale() < scale


def _group_ratios(optimizer) -> list[float]:
    """Each group's lr over the first group's."""
    rates = [float(group["lr"]) for group in optimizer.param_groups]
    if not rates[0] > 0:
        raise ValueError(f"keep_ratios needs the first param group's lr > 0, got {rates[0]!r}")
    return [rate / rates[0] for rate in rates]


def _to(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def _mean_over_ranks(loss: torch.Tensor) -> float:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        loss = loss.clone()
        dist.all_reduce(loss, op=dist.ReduceOp.SUM)
        loss /= dist.get_world_size()
    return float(loss)


def _set_value(group: dict, key: str, value: float) -> None:
    if isinstance(group.get(key), torch.Tensor):
        group[key].fill_(value)  # a tensor lr (compile-friendly optimizers) stays the same tensor
    else:
        group[key] = value


# -- snapshot and restore --------------------------------------------------------------------


def _save(value):
    """A copy of ``value`` that restores the same tensor objects: tensors as (tensor, clone)."""
    if isinstance(value, torch.Tensor):
        return ("tensor", value, value.detach().clone())
    if isinstance(value, dict):
        return ("dict", {k: _save(v) for k, v in value.items()})
    if isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value):
        return ("seq", type(value), [_save(v) for v in value])
    return ("value", copy.deepcopy(value))


@torch.no_grad()
def _load(saved):
    kind = saved[0]
    if kind == "tensor":
        _, tensor, clone = saved
        tensor.copy_(clone)
        return tensor
    if kind == "dict":
        return {k: _load(v) for k, v in saved[1].items()}
    if kind == "seq":
        return saved[1](_load(v) for v in saved[2])
    return copy.deepcopy(saved[1])


class _Snapshot:
    def __init__(self, model, optimizer, scaler):
        self.model, self.optimizer, self.scaler = model, optimizer, scaler
        self.parameters = [(p, _save(p), p.grad, None if p.grad is None else p.grad.detach().clone())
                           for p in _unique(model.parameters())]
        self.buffers = [(b, _save(b)) for b in _unique(model.buffers())]
        self.training = [(m, m.training) for m in model.modules()]
        self.state = {p: _save(state) for p, state in optimizer.state.items()}
        self.groups = [_save({k: v for k, v in g.items() if k != "params"}) for g in optimizer.param_groups]
        self.scaler_state = None if scaler is None else copy.deepcopy(scaler.state_dict())
        self.rng = _rng_state()

    @torch.no_grad()
    def restore(self):
        for p, saved, grad, grad_copy in self.parameters:
            _load(saved)
            if grad is not None:
                grad.copy_(grad_copy)
            p.grad = grad
        for _, saved in self.buffers:
            _load(saved)
        for module, training in self.training:
            module.training = training
        state = self.optimizer.state
        for p in list(state):
            if p not in self.state:
                del state[p]
        for p, saved in self.state.items():
            state[p] = _load(saved)
        for group, saved in zip(self.optimizer.param_groups, self.groups):
            values = _load(saved)
            for key in [k for k in group if k != "params" and k not in values]:
                del group[key]
            group.update(values)
        if self.scaler is not None:
            self.scaler.load_state_dict(self.scaler_state)
        _set_rng_state(self.rng)


def _unique(tensors):
    seen = set()
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            yield t


def _rng_state():
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None,
        "random": random.getstate(),
        "numpy": np.random.get_state(),
    }


def _set_rng_state(state):
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["random"])
    np.random.set_state(state["numpy"])


class _suspend_step_hooks:
    """Take the optimizer's own step pre/post hooks off for the sweep; ``restore`` puts them back."""

    NAMES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.saved = {}
        for name in self.NAMES:
            hooks = getattr(optimizer, name, None)
            if hooks is not None:
                self.saved[name] = hooks.copy()
                hooks.clear()

    def restore(self):
        for name, hooks in self.saved.items():
            current = getattr(self.optimizer, name)
            current.clear()
            current.update(hooks)
