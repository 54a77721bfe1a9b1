"""docs/migration.md: the checked-in page is scripts/make_migration_table.py's output, it covers
every scheduler of every framework, and every example gives the framework's numbers."""

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

import lrdecay

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_migration_table", ROOT / "scripts" / "make_migration_table.py")
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)


def test_checked_in_page_is_the_generated_one():
    text = (ROOT / "docs" / "migration.md").read_text(encoding="utf-8")
    assert text == table.render(), "run python scripts/make_migration_table.py"


def _names(rows):
    return {row[0].split("(")[0].split(" ")[0].removeprefix("swa_utils.").removeprefix("callbacks.") for row in rows}


def test_every_framework_scheduler_has_a_row():
    from torch.optim import lr_scheduler

    torch_classes = {name for name, cls in vars(lr_scheduler).items()
                     if inspect.isclass(cls) and issubclass(cls, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau))
                     and not name.startswith("_") and name != "LRScheduler"}
    assert torch_classes | {"SWALR"} == _names(table.TORCH)

    import optax

    optax_schedules = {name for name in dir(optax.schedules) if not name.startswith("_") and name.endswith("_schedule") or name in
                       ("exponential_decay", "join_schedules")}
    assert optax_schedules == _names(table.OPTAX)

    from transformers import SchedulerType

    assert {t.value for t in SchedulerType} == _names(table.HF)
    assert set(lrdecay.migrate.keras.KERAS_CLASSES) | {"LearningRateScheduler", "ReduceLROnPlateau"} == _names(table.KERAS)

    from tests._timm import timm_scheduler

    timm = timm_scheduler()
    timm_classes = {name for name, cls in vars(timm).items() if inspect.isclass(cls) and name.endswith("LRScheduler")}
    assert timm_classes <= _names(table.TIMM) and "create_scheduler_v2" in _names(table.TIMM)


def framework_rates(framework, obj, steps):
    if framework == "keras":
        import keras

        return np.array([float(keras.ops.convert_to_numpy(obj(t))) for t in range(steps)])
    if framework == "optax":
        return np.array([float(obj(t)) for t in range(steps)])
    if framework == "timm":
        scheduler = obj[0] if isinstance(obj, tuple) else obj
        rates = []
        for t in range(steps):
            scheduler.step(t)
            rates.append(scheduler.optimizer.param_groups[0]["lr"])
        return np.array(rates)
    rates = []
    for _ in range(steps):
        rates.append(obj.optimizer.param_groups[0]["lr"])
        obj.optimizer.step()
        obj.step()
    return np.array(rates)


@pytest.mark.parametrize("framework, source, spec", table.examples(), ids=lambda v: str(v)[:60])
def test_every_example_gives_the_framework_numbers(framework, source, spec):
    obj = table.build(framework, source)
    steps = {"torch": 20, "hf": 120}.get(framework, 100)
    expected = framework_rates(framework, obj, steps)
    schedule = lrdecay.parse(spec)
    float32 = framework in ("keras", "optax")
    np.testing.assert_allclose(schedule(np.arange(steps, dtype=np.float64)), expected,
                               rtol=2e-6 if float32 else 1e-13, atol=2e-8 if float32 else 1e-16)
