"""Lightning: a tiny CPU model trained with gradient accumulation and resumed from a Lightning
checkpoint applies ``schedule(n)`` to its n-th optimizer update; a plateau fed by ``monitor``
reduces like torch's ReduceLROnPlateau; ScheduleMonitor logs every scheduled hyperparameter."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

import lrdecay  # noqa: E402
from lrdecay.lightning import ScheduleMonitor, lr_scheduler_config  # noqa: E402

SCHEDULE = lrdecay.parse("warmup(exponential_decay(0.1, decay_steps=2, decay_rate=0.5), steps=3)")
WEIGHT_DECAY = lrdecay.parse("linear(0.0, 0.01, steps=10)")
BATCHES = 12  # per epoch; with accumulate_grad_batches=2, 6 updates per epoch
UPDATES_PER_EPOCH = BATCHES // 2


class Recorder(pl.loggers.Logger):
    """A logger that keeps what it is given."""

    def __init__(self):
        super().__init__()
        self.rows = []

    @property
    def name(self):
        return "recorder"

    @property
    def version(self):
        return 0

    def log_hyperparams(self, params, *args, **kwargs):
        pass

    def log_metrics(self, metrics, step=None):
        self.rows.append((step, dict(metrics)))


class Tiny(pl.LightningModule):
    def __init__(self, plateau=None, val_losses=None):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.plateau = plateau
        self.val_losses = val_losses
        self.applied = []  # (lr, weight_decay) of every real optimizer update

    def training_step(self, batch, index):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, index):
        self.log("val_loss", self.val_losses[self.current_epoch])

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=1.0, momentum=0.9, weight_decay=0.0)
        optimizer.register_step_pre_hook(
            lambda opt, args, kwargs: self.applied.append((opt.param_groups[0]["lr"], opt.param_groups[0]["weight_decay"])))
        if self.plateau is None:
            config = lr_scheduler_config(optimizer, SCHEDULE, hyperparams={"weight_decay": WEIGHT_DECAY})
        else:
            config = lr_scheduler_config(optimizer, SCHEDULE, plateau=self.plateau, monitor="val_loss")
        return {"optimizer": optimizer, "lr_scheduler": config}


def loader():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCHES * 4, 4, generator=generator)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=4)


def trainer(tmp_path, epochs, logger=None, validate=False, **kwargs):
    return pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=epochs, accumulate_grad_batches=2, logger=logger or False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1,
        limit_val_batches=1 if validate else 0, num_sanity_val_steps=0, default_root_dir=tmp_path, **kwargs,
    )


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU available|TPU|LitLogger|val_dataloader).*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        yield


def test_accumulation_and_resume_follow_the_schedule(tmp_path):
    first, recorder = Tiny(), Recorder()
    run = trainer(tmp_path, epochs=1, logger=recorder, callbacks=[ScheduleMonitor()])
    run.fit(first, loader())
    assert run.global_step == UPDATES_PER_EPOCH  # 12 batches, accumulated by 2
    assert first.applied == [(SCHEDULE(n), WEIGHT_DECAY(n)) for n in range(UPDATES_PER_EPOCH)]
    checkpoint = tmp_path / "epoch1.ckpt"
    run.save_checkpoint(checkpoint)

    resumed, recorder2 = Tiny(), Recorder()
    run2 = trainer(tmp_path, epochs=2, logger=recorder2, callbacks=[ScheduleMonitor()])
    run2.fit(resumed, loader(), ckpt_path=str(checkpoint))
    updates = range(UPDATES_PER_EPOCH, 2 * UPDATES_PER_EPOCH)
    assert resumed.applied == [(SCHEDULE(n), WEIGHT_DECAY(n)) for n in updates]
    assert SCHEDULE(UPDATES_PER_EPOCH) != SCHEDULE(0)  # a fresh clock would have shown

    # the callback logged what each update applied, at the update's index
    logged = {step: m for step, m in recorder.rows + recorder2.rows if "lr" in m}
    assert sorted(logged) == list(range(2 * UPDATES_PER_EPOCH))
    for step, metrics in logged.items():
        assert metrics == {"lr": SCHEDULE(step), "weight_decay": WEIGHT_DECAY(step)}


def test_plateau_with_monitor_reduces_like_torch(tmp_path):
    val_losses = [1.0, 1.0, 1.0, 0.5]
    plateau = lrdecay.Plateau(mode="min", factor=0.5, patience=0, sync="none")
    model = Tiny(plateau=plateau, val_losses=val_losses)
    trainer(tmp_path, epochs=len(val_losses), validate=True).fit(model, loader(), loader())

    # torch's ReduceLROnPlateau fed the same metrics, one per epoch, on an lr of 1
    reference_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(reference_optimizer, mode="min", factor=0.5, patience=0)
    factors = []
    for loss in val_losses:
        factors.append(reference_optimizer.param_groups[0]["lr"])  # in force during this epoch
        reference.step(loss)
    expected = [SCHEDULE(n) * factors[n // UPDATES_PER_EPOCH] for n in range(len(val_losses) * UPDATES_PER_EPOCH)]
    assert [lr for lr, _ in model.applied] == pytest.approx(expected, rel=1e-15, abs=0)
    assert factors == [1.0, 1.0, 0.5, 0.25]


def test_bad_arguments():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    plateau = lrdecay.Plateau(sync="none")
    with pytest.raises(ValueError, match="monitor='val_loss' needs a plateau"):
        lr_scheduler_config(optimizer, SCHEDULE, monitor="val_loss")
    with pytest.raises(ValueError, match="a plateau needs monitor="):
        lr_scheduler_config(optimizer, SCHEDULE, plateau=plateau)
    with pytest.raises(TypeError, match="monitor must be the name of a logged metric"):
        lr_scheduler_config(optimizer, SCHEDULE, plateau=plateau, monitor=3)
    with pytest.raises(ValueError, match="interval must be 'step' or 'epoch', got 'batch'"):
        lr_scheduler_config(optimizer, SCHEDULE, interval="batch")
    for frequency in (0, 1.5, True):
        with pytest.raises(ValueError, match="frequency must be an int >= 1"):
            lr_scheduler_config(optimizer, SCHEDULE, frequency=frequency)
    with pytest.raises(TypeError, match="clock is fixed to 'updates'"):
        lr_scheduler_config(optimizer, SCHEDULE, clock="calls")
    with pytest.raises(TypeError, match="schedule must be an lrdecay Schedule"):
        lr_scheduler_config(optimizer, 3)
    for every in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="every_n_steps must be an int >= 1 or None"):
            ScheduleMonitor(every_n_steps=every)
    config = lr_scheduler_config(optimizer, SCHEDULE, plateau=plateau, monitor="val_loss")
    assert (config["interval"], config["monitor"], config["reduce_on_plateau"]) == ("epoch", "val_loss", True)
    assert lr_scheduler_config(optimizer, SCHEDULE)["interval"] == "step"


def test_guide_examples_run():
    pytest.importorskip("transformers")
    from tests._guides import run_guide

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = run_guide("trainers")
    assert namespace["trainer"].state.global_step == 8


def test_monitor_names_groups_hyperparameters_and_schedulers():
    from types import SimpleNamespace

    model = torch.nn.Linear(4, 1)
    adam = torch.optim.Adam([{"params": [model.weight], "name": "weights"}, {"params": [model.bias]}], lr=0.1)
    first = lr_scheduler_config(adam, [SCHEDULE, None], hyperparams={"beta1": lrdecay.constant(0.8)})
    sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    second = lr_scheduler_config(sgd, WEIGHT_DECAY + 0.5, name="head")
    configs = [SimpleNamespace(scheduler=c["scheduler"], name=c["name"]) for c in (first, second)]
    values = ScheduleMonitor.values(SimpleNamespace(lr_scheduler_configs=configs))
    assert values == {
        "scheduler0/lr/weights": SCHEDULE(0),
        "scheduler0/beta1/weights": 0.8,
        "scheduler0/beta1/pg1": 0.8,
        "head/lr": WEIGHT_DECAY(0) + 0.5,
    }


# -- the schedule's length against the trainer's plan (issue 17) ------------------------------

from lrdecay.lightning import HorizonWarning, check_horizon  # noqa: E402


class Planned(pl.LightningModule):
    """A model whose scheduler is built in configure_optimizers, told the trainer or not."""

    def __init__(self, schedule, tell_trainer):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.schedule, self.tell_trainer = schedule, tell_trainer

    def training_step(self, batch, index):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        trainer = self.trainer if self.tell_trainer else None
        return {"optimizer": optimizer, "lr_scheduler": lr_scheduler_config(optimizer, self.schedule, trainer=trainer)}


class Stream(torch.utils.data.IterableDataset):
    """A streaming dataset: no length, so Lightning cannot count its batches."""

    def __iter__(self):
        generator = torch.Generator().manual_seed(0)
        for _ in range(BATCHES * 4):
            x = torch.randn(4, generator=generator)
            yield x, x.sum(dim=0, keepdim=True)


def horizon_warnings(tmp_path, schedule, *, tell_trainer=True, monitor=True, data=None, **options):
    """The HorizonWarnings of a real fit (2 epochs of 12 batches, accumulation 2: 12 updates)."""
    options.setdefault("epochs", 2)
    run = trainer(tmp_path, callbacks=[ScheduleMonitor()] if monitor else [], **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.fit(Planned(schedule, tell_trainer), loader() if data is None else data)
    return run, [str(w.message) for w in caught if issubclass(w.category, HorizonWarning)]


@pytest.mark.parametrize("tell_trainer, monitor", [(True, False), (False, True), (True, True)])
def test_a_schedule_counted_in_batches_warns_once_with_both_numbers(tmp_path, tell_trainer, monitor):
    # 24 batches, but accumulation 2 makes 12 optimizer steps: the cosine would stop at half-way
    run, found = horizon_warnings(tmp_path, lrdecay.cosine_decay(0.1, 24), tell_trainer=tell_trainer, monitor=monitor)
    assert run.estimated_stepping_batches == run.global_step == 12
    assert len(found) == 1, found
    text = found[0]
    assert "runs for 24 steps but training makes 12 optimizer steps" in text and "cut off at 50%" in text
    assert "trainer.estimated_stepping_batches is 12" in text and "accumulate_grad_batches" in text


def test_epochs_given_as_steps_warn(tmp_path):
    _, found = horizon_warnings(tmp_path, lrdecay.warmup(lrdecay.cosine_decay(0.1, 1), steps=1))  # 2 "epochs"
    assert len(found) == 1 and "stops changing at step 2 but training makes 12 optimizer steps" in found[0]
    assert "epochs given where steps are counted?" in found[0]


def test_max_steps_is_the_plan(tmp_path):
    run, found = horizon_warnings(tmp_path, lrdecay.cosine_decay(0.1, 12), max_steps=5)
    assert run.global_step == 5 and len(found) == 1
    assert "training makes 5 optimizer steps" in found[0] and "cut off at 41.7%" in found[0]


@pytest.mark.parametrize("schedule", [
    lrdecay.cosine_decay(0.1, 12),  # exactly the plan
    lrdecay.cosine_decay(0.1, 11),  # within one step: ends on the last update
    SCHEDULE,  # never stops changing: no length to compare
    lrdecay.warmup(lrdecay.constant(0.1), steps=3),  # ends early at its peak, by design
])
def test_a_schedule_that_fits_the_plan_is_quiet(tmp_path, schedule):
    assert horizon_warnings(tmp_path, schedule)[1] == []


def test_a_stream_without_a_length_warns_and_says_max_steps(tmp_path):
    run, found = horizon_warnings(tmp_path, lrdecay.cosine_decay(0.1, 12), data=torch.utils.data.DataLoader(Stream(), batch_size=None))
    assert run.estimated_stepping_batches == -1  # Lightning's answer for a dataloader without a length
    assert len(found) == 1 and "training has no planned end" in found[0] and "max_steps=12" in found[0]
    _, found = horizon_warnings(tmp_path, lrdecay.cosine_decay(0.1, 12), max_steps=12,
                                data=torch.utils.data.DataLoader(Stream(), batch_size=None))
    assert found == []


def test_check_horizon_refuses_what_is_not_a_trainer():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="trainer must be a Lightning Trainer"):
        lr_scheduler_config(optimizer, SCHEDULE, trainer=object())
    with pytest.raises(TypeError, match="trainer must be a Lightning Trainer"):
        check_horizon(12, lr_scheduler_config(optimizer, SCHEDULE)["scheduler"])
