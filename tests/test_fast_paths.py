"""The fast paths equal the reference formula, for every example of every registered kind.

- scalar: ``s(step)`` runs ``_eval`` traced and compiled into one Python function
  (lrdecay.core.compile); it must give exactly ``float(s._eval(float(step), MATH))``, the formula
  evaluated directly on the math backend, bit for bit;
- arrays: ``s(array)`` and ``s.curve(...)`` evaluate in blocks, and ``piecewise`` nodes (join,
  sequence, warm-up, SGDR) evaluate each segment on its own slice (sorted steps) or its own
  group (unsorted steps); they must equal the scalar reference at every step, to NumPy's
  element-wise round-off (its SIMD kernels and ``math`` may differ in the last bit).
"""

import ast
import math
import pickle

import numpy as np
import pytest
from examples import all_examples
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay.core.backends import MATH, Backend, numpy_backend
from lrdecay.core.compile import scalar_function, scalar_source
from lrdecay.core.schedule import CALLS_BEFORE_COMPILING

EXAMPLES = all_examples()
IDS = [repr(s)[:80] for s in EXAMPLES]
#: Kinds whose formula the tracer cannot follow: they keep the reference path (and say why).
UNTRACEABLE = {"noisy_linear_cosine_decay", "timm_noise"}
STEPS = st.one_of(st.integers(0, 2**40), st.floats(0, 2**40), st.integers(0, 3000))


def reference(schedule, step):
    return float(schedule._eval(float(step) + 0.0, MATH))  # a step of -0.0 is step 0


def same(a, b):
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (math.isnan(a) and math.isnan(b))


def test_every_kind_is_compiled_except_the_known_ones():
    untraced = {s.kind for s in EXAMPLES if scalar_source(s) is None}
    assert untraced <= UNTRACEABLE, f"kinds that fell back to the reference path: {sorted(untraced - UNTRACEABLE)}"
    assert len({s.kind for s in EXAMPLES} - untraced) > 30  # every example's kind (tests/examples covers the registry)


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
@settings(max_examples=40)
@given(steps=st.lists(STEPS, min_size=1, max_size=10))
def test_compiled_scalar_is_the_formula_bit_for_bit(schedule, steps):
    compiled = scalar_function(schedule)
    for step in steps:
        fast, ref = compiled(step), reference(schedule, step)
        assert type(fast) is float
        assert same(fast, ref), (schedule, step, fast, ref, scalar_source(schedule))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
def test_compiled_scalar_at_every_boundary(schedule):
    # around every step where a segment, phase or cycle could change (dense near 0), and far out
    steps = list(range(1200)) + [2**k + d for k in range(10, 41, 3) for d in (-1, 0, 1)]
    compiled = scalar_function(schedule)
    mismatches = [(t, compiled(t), reference(schedule, t)) for t in steps
                  if not same(compiled(t), reference(schedule, t))]
    assert not mismatches, (schedule, mismatches[:5])


def _scalar_reference(schedule, steps):
    return np.array([reference(schedule, t) for t in np.asarray(steps).reshape(-1)]).reshape(np.shape(steps))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
@settings(max_examples=15)
@given(steps=st.lists(st.integers(0, 5000), min_size=1, max_size=300), sort=st.booleans())
def test_arrays_equal_the_formula(schedule, steps, sort):
    steps = np.array(sorted(steps) if sort else steps, dtype=np.int64)
    expected = _scalar_reference(schedule, steps)
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-13, atol=1e-300, err_msg=repr(schedule))
    np.testing.assert_allclose(schedule(steps.reshape(1, -1).astype(np.float64)), expected.reshape(1, -1),
                               rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("schedule", EXAMPLES, ids=IDS)
def test_curves_in_blocks_equal_the_formula(schedule, monkeypatch):
    # small blocks: a curve crosses many blocks, and segments straddle block edges
    monkeypatch.setattr(numpy_backend(), "block", 37)
    n = 1500
    expected = _scalar_reference(schedule, np.arange(n))
    np.testing.assert_allclose(schedule.curve(n), expected, rtol=1e-13, atol=1e-300, err_msg=repr(schedule))
    np.testing.assert_allclose(schedule(np.arange(n)[::-1]), expected[::-1], rtol=1e-13, atol=1e-300)
    f32 = schedule.curve(n, dtype=np.float32)
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(f32, schedule.curve(n).astype(np.float32))


def test_numpy_piecewise_equals_the_generic_where_chain():
    # the same parts and boundaries through the traced backends' where chain, on NumPy
    numpy = numpy_backend()
    parts = [lrdecay.cosine_decay(1.0, 50)._eval, lrdecay.linear(0.5, 2.0, 30)._eval,
             lrdecay.constant(0.25)._eval, lrdecay.exponential_decay(1.0, 7, 0.5)._eval]
    boundaries = (10, 10, 60.5)  # an empty segment and a fractional boundary
    rng = np.random.default_rng(0)
    for t in (np.arange(200.0), rng.uniform(0, 200, 500), rng.integers(0, 200, (7, 9)).astype(float)):
        fast = numpy.piecewise(parts, boundaries, t)
        generic = Backend.piecewise(numpy, parts, boundaries, t)
        np.testing.assert_allclose(fast, generic, rtol=1e-15, atol=0)
        assert fast.shape == t.shape


def test_long_joins_and_nested_warmups_equal_the_formula():
    segments = [lrdecay.cosine_decay(1.0 + i, 7 + i) for i in range(200)]
    long_join = lrdecay.join(segments, list(range(5, 1000, 5)))
    nested = lrdecay.cosine_decay(1.0, 500)
    for depth in range(10):
        nested = lrdecay.warmup(nested, 3 + depth, shape=("linear", "cosine")[depth % 2])
    for schedule in (long_join, nested):
        steps = np.arange(1200)
        expected = _scalar_reference(schedule, steps)
        np.testing.assert_allclose(schedule(steps), expected, rtol=1e-13)
        np.testing.assert_allclose(schedule(steps[::-1]), expected[::-1], rtol=1e-13)
        assert all(same(schedule(int(t)), e) for t, e in zip(steps, expected))


def test_compiled_function_reads_as_the_formula():
    source = scalar_source(lrdecay.exponential_decay(0.1, 1000, 0.96, staircase=True))
    assert "return 0.1 * pow(0.96, floor(t / 1000))" in source, source
    join = scalar_source(lrdecay.join([lrdecay.constant(float(i)) for i in range(8)], list(range(1, 8))))
    outermost = ast.parse(join).body[0].body[-1].value
    assert join.count("if t < ") == 7 and outermost.test.comparators[0].value == 4, join  # a balanced tree


def test_a_schedule_compiles_once_it_is_in_use():
    inner = lrdecay.cosine_decay(0.1, 100)
    outer = lrdecay.warmup(inner, 10)  # the warm-up reads inner(0) when it is built
    answers = [outer(t) for t in range(CALLS_BEFORE_COMPILING - 1)]
    assert outer._call.__name__ == inner._call.__name__ == "call"  # not compiled yet: the formula itself
    assert answers == [reference(outer, t) for t in range(CALLS_BEFORE_COMPILING - 1)]
    assert outer(50) == reference(outer, 50) and outer._call.__name__ == "warmup_at"  # compiled now
    assert outer(50) == reference(outer, 50) and outer(-0.0) == reference(outer, 0)
    with pytest.raises(ValueError, match="step must be a finite number >= 0"):
        lrdecay.cosine_decay(0.1, 100)(-1)  # checked before compiling too
    np.testing.assert_array_equal(inner(np.arange(5.0)), lrdecay.cosine_decay(0.1, 100)(np.arange(5.0)))


def test_schedules_with_compiled_functions_pickle():
    s = lrdecay.warmup(lrdecay.cosine_decay(0.1, 100), 10)
    for t in range(CALLS_BEFORE_COMPILING):
        s(t)  # compiles
    assert s._call.__name__ == "warmup_at"
    again = pickle.loads(pickle.dumps(s))
    assert again == s and again(5) == s(5)


def test_scalar_steps_are_checked():
    s = lrdecay.cosine_decay(0.1, 100)
    for bad in (-1, -0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="step must be a finite number >= 0"):
            s(bad)


def test_curve_options():
    s = lrdecay.cosine_decay(0.1, 100)
    out = np.empty(150, np.float32)
    assert s.curve(150, out=out) is out
    np.testing.assert_array_equal(out, s(np.arange(150)).astype(np.float32))
    grid = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(s.curve(grid), s(grid))
    strided = np.empty((150, 2))[:, 0]
    s.curve(150, out=strided)
    np.testing.assert_array_equal(strided, s(np.arange(150)))
    assert s.curve(0).shape == (0,)


@pytest.mark.parametrize("steps, options, error, match", [
    (-1, {}, ValueError, "steps must be >= 0, got -1"),
    (2.5, {}, TypeError, "steps must be an int"),
    (True, {}, TypeError, "steps must be an int"),
    ([1, 2], {}, TypeError, "steps must be an int"),
    (10, {"dtype": np.int32}, TypeError, "dtype must be a float dtype"),
    (10, {"dtype": "bogus"}, TypeError, "dtype must be a NumPy float dtype"),
    (10, {"out": [0.0] * 10}, TypeError, "out must be a NumPy array"),
    (10, {"out": np.empty(9)}, ValueError, r"out must have the steps' shape \(10,\)"),
    (10, {"out": np.empty(10), "dtype": np.float32}, ValueError, "differs from out's dtype"),
    (np.array([-1, 2]), {}, ValueError, "step must hold finite numbers >= 0"),
    (np.array([True]), {}, TypeError, "step must hold integers or floats"),
])
def test_curve_rejects_bad_arguments(steps, options, error, match):
    with pytest.raises(error, match=match):
        lrdecay.cosine_decay(0.1, 100).curve(steps, **options)


def test_internals_page_examples_run():
    from _guides import ROOT, run_markdown

    page = ROOT / "docs" / "internals.md"
    namespace = run_markdown(page)
    assert namespace["half"].dtype == np.float32
    shown = page.read_text().split("```text\n", 1)[1].split("```", 1)[0]
    assert shown.strip() == scalar_source(namespace["staircase"]).strip()  # the page shows what runs


def test_a_schedule_is_an_ordinary_callable():
    import inspect

    s = lrdecay.warmup(lrdecay.cosine_decay(0.1, 100), 10)
    assert callable(s) and s(step=5) == s(5)
    assert str(inspect.signature(s)) == "(step)"
    assert list(inspect.signature(lrdecay.CosineDecay).parameters) == ["learning_rate", "decay_steps", "alpha"]
