"""The examples of docs/finder.md run (framework-free, PyTorch, Keras and the JAX/Optax form)."""

import math

import numpy as np

from tests._guides import ROOT, run_markdown


def test_finder_page_examples_run():
    namespace = run_markdown(ROOT / "docs" / "finder.md")
    result = namespace["result"]  # the JAX/Optax range test, the last one on the page
    assert result.steps_run >= 10 and math.isfinite(result.suggestion)
    # the JAX form leaves the initial parameters alone: they are immutable arrays
    params = namespace["params"]
    assert params["w1"].shape == (8, 32)
    schedule = namespace["schedule"]
    assert schedule.max_lr == result.suggestion
    assert np.isclose(float(schedule(0)), result.suggestion / 25)
