"""Hugging Face Trainer: ``optimizers=(optimizer, scheduler_for_trainer(...))`` on a tiny CPU model
with gradient accumulation 2 and a resume from a checkpoint applies ``schedule(n)`` to the n-th
update, counts the run's updates as the Trainer does, and matches transformers' own linear
schedule with warm-up."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

import lrdecay  # noqa: E402
from lrdecay.hf import scheduler_for_trainer, training_steps  # noqa: E402

SAMPLES = 26  # 7 batches of 4 (the last one short) -> 4 updates per epoch with accumulation 2


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def forward(self, x, labels=None):
        out = self.layer(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def dataset():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 4, generator=generator)
    return [{"x": row, "labels": row.sum().reshape(1)} for row in x]


def arguments(tmp_path, **kwargs):
    options = dict(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, gradient_accumulation_steps=2,
        num_train_epochs=2, learning_rate=0.05, warmup_steps=3, report_to="none", use_cpu=True,
        disable_tqdm=True, logging_strategy="no", save_strategy="steps", save_steps=4,
        dataloader_num_workers=0, seed=0,
    )
    options.update(kwargs)
    return transformers.TrainingArguments(**options)


def train(args, data, spec, resume=None, **kwargs):
    """The learning rate of every real optimizer update, and the trainer."""
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
    applied = []
    optimizer.register_step_pre_hook(lambda opt, a, k: applied.append(opt.param_groups[0]["lr"]))
    scheduler = scheduler_for_trainer(spec, optimizer, args, train_dataset=data, **kwargs)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data, optimizers=(optimizer, scheduler))
    trainer.train(resume_from_checkpoint=resume)
    return applied, trainer, scheduler


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_accumulation_and_resume_follow_the_schedule(tmp_path):
    args, data = arguments(tmp_path), dataset()
    spec = "cosine_decay({lr}, decay_steps={decay_steps}, alpha=0.1)"
    applied, trainer, scheduler = train(args, data, spec)
    total = training_steps(args, data)
    assert total == trainer.state.max_steps == trainer.state.global_step == 8  # 2 epochs x 4 updates
    expected = lrdecay.warmup(lrdecay.cosine_decay(0.05, decay_steps=5, alpha=0.1), steps=3)
    assert scheduler.spec()["schedules"]["lr"] == [expected.to_dict()]
    assert applied == [expected(n) for n in range(8)]

    checkpoint = tmp_path / "out" / "checkpoint-4"
    assert (checkpoint / "scheduler.pt").is_file()
    resumed, trainer2, _ = train(args, data, spec, resume=str(checkpoint))
    assert resumed == [expected(n) for n in range(4, 8)]  # the clock came back from the checkpoint
    assert trainer2.state.global_step == 8


def test_matches_transformers_linear_schedule_with_warmup(tmp_path):
    args, data = arguments(tmp_path, num_train_epochs=3, warmup_steps=0.25, save_strategy="no"), dataset()
    applied, trainer, _ = train(args, data, "linear({lr}, 0.0, steps={decay_steps})")
    total = trainer.state.max_steps
    assert total == 12 and args.get_warmup_steps(total) == 3

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=args.learning_rate)
    reference = transformers.get_linear_schedule_with_warmup(optimizer, 3, total)
    expected = []
    for _ in range(total):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        reference.step()
    assert applied == pytest.approx(expected, rel=1e-14, abs=1e-18)


@pytest.mark.parametrize("options, samples, expected", [
    ({"max_steps": 17}, 26, 17),
    ({}, 26, 8),
    ({"dataloader_drop_last": True}, 26, 6),  # 6 full batches -> 3 updates per epoch
    ({"num_train_epochs": 1.5}, 26, 6),
    ({"gradient_accumulation_steps": 100}, 26, 2),  # at least one update per epoch
])
def test_training_steps_counts_like_the_trainer(tmp_path, options, samples, expected):
    args = arguments(tmp_path, save_strategy="no", **options)
    data = dataset()[:samples]
    assert training_steps(args, data) == expected
    model = Tiny()
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data)
    trainer.train()
    assert trainer.state.max_steps == expected


def test_bad_arguments(tmp_path):
    args = arguments(tmp_path)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="give the train_dataset"):
        scheduler_for_trainer("constant(0.1)", optimizer, args)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="num_training_steps must be an int >= 1"):
            scheduler_for_trainer("constant(0.1)", optimizer, args, num_training_steps=bad)
    with pytest.raises(lrdecay.SpecError, match=r"unknown placeholder .*\{training_steps\}"):
        scheduler_for_trainer("cosine_decay({lr}, {total})", optimizer, args, num_training_steps=10)
    with pytest.raises(TypeError, match="schedule must be an lrdecay Schedule, a dict spec or call-syntax text"):
        scheduler_for_trainer(3, optimizer, args, num_training_steps=10)
    with pytest.raises(TypeError, match="args must be transformers.TrainingArguments"):
        scheduler_for_trainer("constant(0.1)", optimizer, object(), num_training_steps=10)
    with pytest.raises(TypeError, match="clock is fixed to 'updates'"):
        scheduler_for_trainer("constant(0.1)", optimizer, args, num_training_steps=10, clock="calls")
    made = scheduler_for_trainer({"kind": "constant", "value": 0.2}, optimizer, args, num_training_steps=10)
    assert made.spec()["schedules"]["lr"] == [lrdecay.warmup(lrdecay.constant(0.2), steps=3).to_dict()]


def test_plateau_callback_reduces_like_torch_on_the_evaluation_metric(tmp_path):
    from lrdecay.hf import PlateauCallback

    args = arguments(tmp_path, num_train_epochs=4, eval_strategy="epoch", save_strategy="no", warmup_steps=0)
    data = dataset()
    model = Tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
    applied = []
    optimizer.register_step_pre_hook(lambda opt, a, k: applied.append(opt.param_groups[0]["lr"]))
    # mode="max" on a falling loss: every evaluation after the first is a bad one
    plateau = lrdecay.Plateau(mode="max", factor=0.5, patience=0, sync="none")
    scheduler = scheduler_for_trainer("cosine_decay({lr}, {decay_steps})", optimizer, args, train_dataset=data,
                                      plateau=plateau)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data, eval_dataset=data[:8],
                                   optimizers=(optimizer, scheduler), callbacks=[PlateauCallback(scheduler)])
    trainer.train()
    losses = [row["eval_loss"] for row in trainer.state.log_history if "eval_loss" in row]
    assert len(losses) == 4

    reference_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(reference_optimizer, mode="max", factor=0.5, patience=0)
    factors = []
    for loss in losses:
        factors.append(reference_optimizer.param_groups[0]["lr"])  # in force during this epoch
        reference.step(loss)
    assert factors[-1] < 1.0  # the reference did reduce
    schedule = lrdecay.cosine_decay(args.learning_rate, 16)
    assert applied == pytest.approx([schedule(n) * factors[n // 4] for n in range(16)], rel=1e-15, abs=0)


def test_plateau_callback_refuses_bad_arguments(tmp_path):
    from lrdecay.hf import PlateauCallback

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    plain = scheduler_for_trainer("constant(0.1)", optimizer, arguments(tmp_path), num_training_steps=5)
    with pytest.raises(TypeError, match="scheduler must be a ScheduleLR with a plateau"):
        PlateauCallback(plain)
    with_plateau = lrdecay.torch.ScheduleLR(optimizer, lrdecay.constant(0.1), plateau=lrdecay.Plateau(sync="none"))
    with pytest.raises(TypeError, match="metric must be a metric name"):
        PlateauCallback(with_plateau, metric=3)
    callback = PlateauCallback(with_plateau, metric="accuracy")
    with pytest.raises(KeyError, match="watches 'eval_accuracy', which the evaluation did not report"):
        callback.on_evaluate(arguments(tmp_path), None, None, metrics={"eval_loss": 1.0})


# -- the schedule's length against the Trainer's count (issue 17) -----------------------------

from lrdecay.hf import HorizonWarning  # noqa: E402


def horizon_warnings(build):
    """The HorizonWarnings given while ``build()`` runs, and what it returned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = build()
    return made, [str(w.message) for w in caught if issubclass(w.category, HorizonWarning)]


def test_a_schedule_counted_in_batches_warns_with_the_trainers_count(tmp_path):
    # 7 batches per epoch, 2 epochs: 14 batches, but accumulation 2 makes 8 optimizer updates
    args, data = arguments(tmp_path, warmup_steps=0, save_strategy="no"), dataset()
    (applied, trainer, _), found = horizon_warnings(lambda: train(args, data, lrdecay.cosine_decay(0.05, 14)))
    assert trainer.state.max_steps == len(applied) == 8
    assert len(found) == 1, found
    assert "runs for 14 steps but training makes 8 optimizer steps" in found[0] and "cut off at 57.1%" in found[0]
    assert "the Trainer's count" in found[0] and "{decay_steps}" in found[0] and "max_steps" in found[0]


def test_max_steps_is_the_count(tmp_path):
    args, data = arguments(tmp_path, warmup_steps=0, save_strategy="no", max_steps=5), dataset()
    (applied, trainer, _), found = horizon_warnings(lambda: train(args, data, lrdecay.cosine_decay(0.05, 8)))
    assert trainer.state.max_steps == len(applied) == 5
    assert len(found) == 1 and "runs for 8 steps but training makes 5 optimizer steps" in found[0]
    _, found = horizon_warnings(lambda: train(args, data, "cosine_decay({lr}, {decay_steps})"))
    assert found == []


def test_num_training_steps_that_the_trainer_will_not_make_warns(tmp_path):
    args, data = arguments(tmp_path), dataset()
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    spec = "cosine_decay({lr}, {decay_steps})"
    _, found = horizon_warnings(lambda: scheduler_for_trainer(spec, optimizer, args, num_training_steps=20,
                                                              train_dataset=data))
    assert len(found) == 1 and "runs for 20 steps but training makes 8 optimizer steps" in found[0]
    # without a dataset to count, num_training_steps is the run's length
    _, found = horizon_warnings(lambda: scheduler_for_trainer(lrdecay.cosine_decay(0.1, 40), optimizer, args,
                                                              num_training_steps=20))
    assert len(found) == 1 and "runs for 43 steps but training makes 20" in found[0]  # 3 warm-up steps
    assert "20 optimizer steps is num_training_steps" in found[0]


@pytest.mark.parametrize("spec", [
    "cosine_decay({lr}, {decay_steps})",
    "linear({lr}, 0.0, steps={decay_steps})",
    "constant({lr})",  # a warm-up into a constant ends early at its peak, by design
    "exponential_decay({lr}, 10, 0.5)",  # never stops changing
])
def test_a_schedule_written_with_the_run_numbers_is_quiet(tmp_path, spec):
    args, data = arguments(tmp_path), dataset()
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    _, found = horizon_warnings(lambda: scheduler_for_trainer(spec, optimizer, args, train_dataset=data))
    assert found == []
