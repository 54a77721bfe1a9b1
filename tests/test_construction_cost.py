"""Building a schedule costs time linear in its nodes (tracker issue 17): a node's duration reads
its children's (cached), a sum, product, quotient, clip or join of probed children is not probed
again (its children's bounds keep it finite), and a spec's shared mappings (YAML anchors) count
at their expanded size against MAX_NODES and are built once. The guarantee stays: no accepted
schedule gives inf or NaN.
"""

import json
import time

import pytest
import yaml

import lrdecay
from lrdecay import SpecError
from lrdecay.compose import operators
from lrdecay.core import schedule as base
from lrdecay.core.spec import MAX_NODES
from lrdecay.schedules import shapes

LEAF = {"kind": "linear", "start": 0.1, "end": 0.01, "steps": 100}


def _balanced_sum(k: int) -> dict:
    """A sum of 2**k leaves, every mapping its own (as JSON gives it)."""
    tree = LEAF
    for _ in range(k):
        tree = {"kind": "add", "left": tree, "right": tree}
    return json.loads(json.dumps(tree))


@pytest.fixture
def operations(monkeypatch):
    """Counts what building costs: leaf evaluations, sum evaluations, duration computations."""
    counts = {"leaf": 0, "add": 0, "duration": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(shapes.Linear, "_eval", counted("leaf", shapes.Linear._eval))
    monkeypatch.setattr(operators.Add, "_eval", counted("add", operators.Add._eval))
    monkeypatch.setattr(operators, "_operand_duration", counted("duration", operators._operand_duration))
    return counts


def test_building_a_balanced_sum_is_linear_in_its_leaves(operations):
    costs = {}
    for k in (8, 10, 12):
        for key in operations:
            operations[key] = 0
        schedule = lrdecay.from_dict(_balanced_sum(k))
        assert schedule.duration == 100
        costs[k] = sum(operations.values())
    # 4 times the leaves, about 4 times the work (quadratic: 16 times, n log n: 4.8 and 4.7)
    assert costs[10] <= 4.4 * costs[8] and costs[12] <= 4.4 * costs[10], costs


def test_building_a_sum_with_operators_is_linear_in_its_terms(operations):
    costs = {}
    for n in (256, 1024, 4096):
        for key in operations:
            operations[key] = 0
        parts = [lrdecay.linear(0.1, 0.01, 100 + i) for i in range(n)]
        while len(parts) > 1:
            parts = [a + b for a, b in zip(parts[::2], parts[1::2])]
        assert parts[0].duration == 100 + n - 1
        costs[n] = sum(operations.values())
    assert costs[1024] <= 4.4 * costs[256] and costs[4096] <= 4.4 * costs[1024], costs


def test_building_is_fast_in_wall_time():
    """Generous: 4096 leaves took 4-9 s when every level probed its whole subtree."""
    start = time.perf_counter()
    lrdecay.from_dict(_balanced_sum(8))
    small = time.perf_counter() - start
    start = time.perf_counter()
    lrdecay.from_dict(_balanced_sum(12))
    large = time.perf_counter() - start
    assert large <= 16 * 3 * small + 0.5, (small, large)


def _anchor_bomb(levels: int) -> str:
    """Nested YAML anchors, each a sum of the previous one with itself: 2**levels leaves."""
    text = "{kind: linear, start: 0.1, end: 0.01, steps: 100}"
    for i in range(levels):
        text = f"{{kind: add, left: &a{i} {text}, right: *a{i}}}"
    return text


def test_the_yaml_anchor_bomb_is_refused_at_its_expanded_size(tmp_path):
    text = _anchor_bomb(17)
    assert len(text.encode()) < 700
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(SpecError, match=rf"holds more than {MAX_NODES} values \(655359 once its aliases are expanded\)"):
        lrdecay.load(path)
    assert time.perf_counter() - start < 5


def test_a_spec_with_anchors_below_the_limit_is_built_once_per_mapping(tmp_path, monkeypatch):
    probes = []
    real = base._check_finite
    monkeypatch.setattr(base, "_check_finite", lambda s: (probes.append(s.kind), real(s)))
    path = tmp_path / "anchors.yaml"
    path.write_text(_anchor_bomb(14))  # 16384 leaves, 81919 values
    start = time.perf_counter()
    schedule = lrdecay.load(path)
    assert time.perf_counter() - start < 5
    assert sorted(probes) == ["add"] * 14 + ["linear"]  # one node per anchor
    assert schedule(0) == 16384 * 0.1 and schedule.duration == 100


def test_expanded_size_counts_every_appearance_and_refuses_a_value_that_holds_itself():
    data = yaml.safe_load(_anchor_bomb(3))
    assert lrdecay.from_dict(data)(100) == pytest.approx(8 * 0.01)
    looped = yaml.safe_load("&a {kind: add, left: {kind: constant, value: 1}, right: *a}")
    with pytest.raises(SpecError, match="nested deeper than"):
        lrdecay.from_dict(looped)


# -- the guarantee: no accepted schedule gives inf or NaN ----------------------------------------


@pytest.mark.parametrize("build", [
    lambda: lrdecay.constant(1e308) + lrdecay.constant(1e308),
    lambda: lrdecay.exponential_decay(1e300, 10, 0.5) * lrdecay.constant(1e10),
    lambda: lrdecay.exponential_decay(1e300, 10, 0.5) / 1e-10,
    lambda: lrdecay.join([lrdecay.constant(1.0), lrdecay.constant(1e308) * 10.0], [5]),
])
def test_a_composite_whose_bounds_could_overflow_is_probed_and_refused(build):
    with pytest.raises(ValueError, match="overflow"):
        build()


def test_bounds_are_kept_and_inherited():
    leaf = lrdecay.cosine_decay(2.0, 100)
    assert leaf.__dict__["_bound"] == 2.0
    total = (leaf + 3.0).clip(max=4.0) * -2.0
    assert total.__dict__["_bound"] == 10.0  # (2 + 3) * 2: a bound, not the largest value
    assert total(0) == -8.0


def test_a_warm_up_a_shift_and_epochs_are_probed():
    """They move the step where the children were not probed, or compute a ramp of their own."""
    with pytest.raises(ValueError, match="overflow|cannot be evaluated"):
        lrdecay.cosine_with_min_lr(0.1, 0, 1000, num_cycles=1e288, min_lr_rate=0.0).shift(-1e300)
    ramp = lrdecay.warmup(lrdecay.exponential_decay(0.1, 20, 0.8), 1, start=2.225073858507e-311, shape="exponential")
    assert ramp(0) == 2.225073858507e-311 and ramp(1) == 0.1
