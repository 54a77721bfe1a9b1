"""Every function that takes a schedule also takes a spec: call syntax, a dict with a "kind" or
a spec file path (lrdecay.as_schedule), with errors that name the parameter."""

import json

import numpy as np
import pytest

import lrdecay
from lrdecay import SpecError, as_schedule

TEXT = "warmup(cosine_decay(0.1, 90), steps=10)"
SCHEDULE = lrdecay.parse(TEXT)


@pytest.fixture
def spec_files(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(SCHEDULE.to_dict()))
    (tmp_path / "s.yaml").write_text("kind: cosine_decay\nlearning_rate: 0.1\ndecay_steps: 90\n")
    (tmp_path / "s.txt").write_text(TEXT)
    return tmp_path


def test_as_schedule_reads_every_form(spec_files):
    assert as_schedule(SCHEDULE) is SCHEDULE
    assert as_schedule(TEXT) == SCHEDULE
    assert as_schedule(SCHEDULE.to_dict()) == SCHEDULE
    assert as_schedule(spec_files / "s.json") == SCHEDULE
    assert as_schedule(str(spec_files / "s.json")) == SCHEDULE
    assert as_schedule(str(spec_files / "s.txt")) == SCHEDULE  # an existing file, any suffix
    assert as_schedule(spec_files / "s.yaml") == lrdecay.cosine_decay(0.1, 90)


@pytest.mark.parametrize("value, error, message", [
    (3, TypeError, "lr must be an lrdecay Schedule, a spec"),
    (None, TypeError, "lr must be an lrdecay Schedule, a spec"),
    ([TEXT], TypeError, "got list"),
    ("cosine_decay(0.1, -5)", SpecError, "lr: line 1, column 19: cosine_decay: decay_steps must be > 0, got -5"),
    ("missing.yaml", SpecError, "lr: missing.yaml: cannot read"),
    ({"learning_rate": 0.1}, SpecError, "lr: $: a mapping here must be a schedule with a 'kind' key"),
    ("0.1", SpecError, "lr: line 1, column 1: spec must describe a schedule, got float 0.1"),
])
def test_as_schedule_errors_name_the_parameter(value, error, message):
    with pytest.raises(error) as info:
        as_schedule(value, "lr")
    assert message in str(info.value)
    assert isinstance(info.value, (TypeError, ValueError))


def test_torch_schedulelr_takes_specs(spec_files):
    torch = pytest.importorskip("torch")
    from lrdecay.torch import ScheduleLR

    def optimizer(groups=1):
        params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "name": f"g{i}"} for i in range(groups)]
        return torch.optim.SGD(params, lr=1.0, momentum=0.9)

    for value in (TEXT, SCHEDULE.to_dict(), spec_files / "s.json", str(spec_files / "s.txt")):
        sched = ScheduleLR(optimizer(), value, clock="calls")
        for _ in range(15):
            sched.step()
        assert sched.get_last_lr() == [SCHEDULE(15)]
        assert sched.spec()["schedules"]["lr"] == [SCHEDULE.to_dict()]
    sched = ScheduleLR(optimizer(2), [TEXT, None], hyperparams={"momentum": {"g1": "constant(0.5)"}})
    assert sched.get_last_lr() == [SCHEDULE(0), 1.0]
    assert [g["momentum"] for g in sched.optimizer.param_groups] == [0.9, 0.5]
    with pytest.raises(SpecError, match=r"hyperparams\['momentum'\]\['g1'\]: line 1, column 10: constant"):
        ScheduleLR(optimizer(2), TEXT, hyperparams={"momentum": {"g1": "constant(None)"}})
    with pytest.raises(SpecError, match=r"schedule\[1\]: line 1, column 1: unknown schedule kind 'cosine'"):
        ScheduleLR(optimizer(2), [TEXT, "cosine(0.1)"])
    with pytest.raises(TypeError, match="schedule must be an lrdecay Schedule or spec, a list or a dict of them, got float"):
        ScheduleLR(optimizer(), 0.1)


def test_keras_schedule_takes_specs(spec_files):
    pytest.importorskip("keras")
    from lrdecay.keras import KerasSchedule

    for value in (TEXT, SCHEDULE.to_dict(), spec_files / "s.json"):
        keras_schedule = KerasSchedule(value)
        assert keras_schedule.schedule == SCHEDULE
        assert KerasSchedule.from_config(keras_schedule.get_config()).schedule == SCHEDULE
        np.testing.assert_allclose(float(keras_schedule(40)), SCHEDULE(40), rtol=1e-6)
    with pytest.raises(SpecError, match="schedule: line 1, column 1: unknown schedule kind"):
        KerasSchedule("cosine(0.1)")
    with pytest.raises(TypeError, match="schedule must be an lrdecay Schedule, a spec"):
        KerasSchedule(0.1)


def test_optax_and_plateau_wiring_take_specs(spec_files):
    pytest.importorskip("optax")
    import jax.numpy as jnp
    import optax

    from lrdecay.optax import as_optax, scale_by_plateau_schedule

    for value in (TEXT, SCHEDULE.to_dict(), spec_files / "s.json"):
        fn = as_optax(value)
        assert fn.schedule == SCHEDULE
        np.testing.assert_allclose(float(fn(jnp.asarray(40))), SCHEDULE(40), rtol=1e-6)
    tx = scale_by_plateau_schedule(TEXT, lrdecay.Plateau())
    updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
    np.testing.assert_allclose(np.asarray(updates["w"]), [-SCHEDULE(0)])
    assert isinstance(tx, optax.GradientTransformation)
    with pytest.raises(SpecError, match="schedule: line 1"):
        as_optax("cosine_decay(0.1)")
    lrs = lrdecay.plateau.simulate(TEXT, [1.0, 1.0, 1.0], 10, lrdecay.Plateau(patience=0))
    expected = lrdecay.plateau.simulate(SCHEDULE, [1.0, 1.0, 1.0], 10, lrdecay.Plateau(patience=0))
    np.testing.assert_array_equal(lrs, expected)
    with pytest.raises(SpecError, match="schedule: line 1"):
        lrdecay.plateau.simulate("cosine_decay(0.1)", [1.0], 10)


def test_plots_take_specs(tmp_path):
    pytest.importorskip("matplotlib")
    from lrdecay.tools import plot

    path = plot.plot([TEXT, SCHEDULE.to_dict()], 100, tmp_path / "curves.svg")
    assert path.read_text(encoding="utf-8").count("<path") > 2
    assert "learning" in plot.terminal_plot(TEXT, 100)
    with pytest.raises(SpecError, match=r"schedules\[1\]: line 1, column 1: unknown schedule kind"):
        plot.plot([TEXT, "cosine(0.1)"], 100, tmp_path / "bad.svg")
    with pytest.raises(TypeError, match="schedules: expected an lrdecay schedule, a spec or a list of them, got int"):
        plot.plot(3, 100, tmp_path / "bad.svg")
