import dataclasses
import os

import numpy as np
import pytest
from curves import DATA, SIZES, load_run, schedule

from lrdecay.forecast import Run, lr_array, read_csv


def test_lr_array_from_array_and_callable():
    arr = np.linspace(1.0, 0.0, 10)
    np.testing.assert_array_equal(lr_array(arr, 6), arr[:6])
    got = lr_array(lambda s: 1.0 / (1.0 + s), 5)
    np.testing.assert_array_equal(got, 1.0 / (1.0 + np.arange(5)))
    assert got.dtype == np.float64
    seen = []
    lr_array(lambda s: seen.append(s) or np.ones(s.size), 3)
    assert seen[0].dtype == np.int64


@pytest.mark.parametrize("lr, length, err, match", [
    (np.ones(3), 4, ValueError, "past the end"),
    (np.ones((2, 2)), 2, ValueError, "1-D"),
    (np.array([1.0, np.nan]), 2, ValueError, "finite"),
    (np.array([1.0, -1.0]), 2, ValueError, ">= 0"),
    (np.array(["a", "b"]), 2, TypeError, "real numbers"),
    (np.array([True, False]), 2, TypeError, "real numbers"),
    (lambda s: np.ones(s.size + 1), 3, ValueError, "shape"),
    (lambda s: "x", 3, TypeError, "real numbers"),
    (np.ones(3), 0, ValueError, "length"),
    (np.ones(3), 2.0, TypeError, "length"),
])
def test_lr_array_errors(lr, length, err, match):
    with pytest.raises(err, match=match):
        lr_array(lr, length)


def test_run_stores_readonly_arrays_and_evaluates_callables():
    run = Run(lambda s: 0.1 / (1 + s), [1, 3, 7], [3.0, 2.0, 1.5], "r")
    assert run.lr.shape == (8,) and run.steps.dtype == np.int64
    assert not run.lr.flags.writeable and not run.loss.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.name = "other"  # frozen
    short = run.truncate(4)
    np.testing.assert_array_equal(short.steps, [1, 3])


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(steps=[1, 2], loss=[1.0]), ValueError, "loss: must have one value per step"),
    (dict(steps=[[1, 2]], loss=[1.0, 1.0]), ValueError, "steps: must be 1-D"),
    (dict(steps=[], loss=[]), ValueError, "steps: must not be empty"),
    (dict(steps=[1.5, 2], loss=[1.0, 1.0]), ValueError, "steps: must be integers"),
    (dict(steps=[-1, 2], loss=[1.0, 1.0]), ValueError, "steps: must be >= 0"),
    (dict(steps=[2, 2], loss=[1.0, 1.0]), ValueError, "strictly increasing"),
    (dict(steps=[3, 2], loss=[1.0, 1.0]), ValueError, "strictly increasing"),
    (dict(steps=[1, 2], loss=[1.0, np.nan]), ValueError, "loss: must be finite"),
    (dict(steps=[1, 2], loss=[1.0, np.inf]), ValueError, "loss: must be finite"),
    (dict(steps=[1, 2], loss=[1.0, 0.0]), ValueError, "loss: must be > 0"),
    (dict(steps=[1, 2], loss=["a", "b"]), TypeError, "loss: must hold real numbers"),
    (dict(steps=[True, False], loss=[1.0, 1.0]), TypeError, "steps: must hold real numbers"),
    (dict(steps=[1, 20], loss=[1.0, 1.0]), ValueError, "steps past the end of lr"),
    (dict(steps=[1, 2], loss=[1.0, 1.0], lr=[0.1, np.nan, 0.1]), ValueError, "lr: must be finite"),
    (dict(steps=[1, 2], loss=[1.0, 1.0], lr=[0.1, -0.1, 0.1]), ValueError, "lr: must be >= 0"),
    (dict(steps=[1, 2], loss=[1.0, 1.0], name=3), TypeError, "name: must be a str"),
])
def test_run_validation(kwargs, err, match):
    args = dict(lr=np.full(10, 0.1)) | kwargs
    with pytest.raises(err, match=match):
        Run(**args)


def _write(tmp_path, text, name="run.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_csv_dense_and_with_schedule(tmp_path):
    dense = _write(tmp_path, "step,lr,loss\n0,0.1,3.0\n1,0.1,2.5\n2,0.05,2.0\n")
    run = read_csv(dense)
    np.testing.assert_array_equal(run.lr, [0.1, 0.1, 0.05])
    assert run.name == "run"
    sparse = _write(tmp_path, "step,loss\n2,3.0\n5,2.0\n", "sparse.csv")
    run = read_csv(sparse, schedule=lambda s: 0.1 * np.ones(s.size))
    assert run.lr.size == 6 and run.steps.tolist() == [2, 5]


@pytest.mark.parametrize("text, match", [
    ("step,lr,loss\n0,0.1,3.0\n5,0.1,2.0\n", "not at every step"),
    ("step,loss\n0,3.0\n1,2.0\n", "no lr column"),
    ("step,rate,loss\n0,0.1,3.0\n", "header"),
    ("step,lr,loss\n0,0.1\n", "every row"),
    ("step,lr,loss\n0,x,3.0\n", "non-numeric"),
    ("step,lr,loss\n", "no data rows"),
    ("", "empty file"),
    ("step,lr,loss\n0,0.1,-3.0\n1,0.1,2.0\n", "loss: must be > 0"),
])
def test_read_csv_errors(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_csv(_write(tmp_path, text))


def test_read_csv_checks_lr_column_against_schedule(tmp_path):
    path = _write(tmp_path, "step,lr,loss\n1,0.1,3.0\n4,0.2,2.0\n")
    with pytest.raises(ValueError, match="disagrees with schedule"):
        read_csv(path, schedule=np.full(5, 0.1))


def test_read_csv_bounds_the_read(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        read_csv(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        read_csv(fifo)
    big = _write(tmp_path, "step,lr,loss\n" + "0,0.1,3.0\n" * 100)
    with pytest.raises(ValueError, match="more than the limit"):
        read_csv(big, max_bytes=100)


@pytest.mark.parametrize("size", SIZES)
def test_rebuilt_schedules_match_the_logged_rates(size):
    for path in sorted((DATA / size).glob("*.csv")):
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        lr = schedule(path.stem)
        steps = table[:, 0].astype(int)
        np.testing.assert_allclose(lr[steps], table[:, 1], rtol=1e-12, atol=0, err_msg=path.name)
        run = load_run(size, path.stem)
        assert run.steps.max() < 24000 or path.stem.endswith("72000")


def test_repr_is_a_short_summary():
    run = Run(np.full(100, 1e-3), [10, 20, 99], [3.0, 2.5, 2.2], "pilot")
    assert repr(run) == "<Run 'pilot', 3 losses at steps 10..99, rates for 100 steps>"
