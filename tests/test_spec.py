"""Specs: every schedule and random nested compositions round-trip through to_dict/from_dict,
parse(repr(s)), JSON and YAML files; bad specs are SpecErrors that say where."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from examples import all_examples
from hypothesis import given
from hypothesis import strategies as st

import lrdecay
from lrdecay import (
    SpecError,
    cycle,
    dump,
    exponential_decay,
    from_dict,
    join,
    linear,
    load,
    parse,
    per_epoch,
    sequence,
    warmup,
)
from lrdecay.core.spec import MAX_DEPTH, MAX_NODES, MAX_TEXT

EXAMPLES = all_examples()
STEPS = np.array([0, 1, 3, 10, 17, 50, 99, 100, 101, 333, 1000, 12345], dtype=np.float64)


def assert_round_trips(schedule, directory: Path):
    data = schedule.to_dict()
    assert from_dict(data) == schedule
    assert from_dict(json.loads(json.dumps(data))) == schedule
    assert from_dict(yaml.safe_load(yaml.safe_dump(data))) == schedule
    assert parse(repr(schedule)) == schedule
    for name in ("spec.json", "spec.yaml", "spec.yml"):
        dump(schedule, directory / name)
        assert load(directory / name) == schedule
    (directory / "spec.txt").write_text(repr(schedule) + "\n", encoding="utf-8")
    loaded = load(directory / "spec.txt")
    assert loaded == schedule
    np.testing.assert_array_equal(loaded(STEPS), schedule(STEPS))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_every_example_round_trips(schedule, tmp_path):
    assert_round_trips(schedule, tmp_path)


def test_every_registered_kind_has_an_example():
    covered = {type(s).kind for s in EXAMPLES}
    nested = set()

    def visit(data):
        if isinstance(data, dict):
            nested.add(data["kind"])
            for value in data.values():
                visit(value)
        elif isinstance(data, list):
            for value in data:
                visit(value)

    for s in EXAMPLES:
        visit(s.to_dict())
    missing = set(lrdecay.registry()) - covered - nested
    assert not missing


# -- random nested compositions --------------------------------------------------------------

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-300, 5e-324, 123456.789e3, -0.0, 0.1 + 0.2]),
)
positive = st.one_of(st.integers(1, 500), st.floats(0.5, 500.0))


def bounded(schedule):
    """A part that ends, so it can stand before another in a sequence."""
    return schedule if schedule.duration is not None else cycle(schedule, 10, limit=1)


@st.composite
def warmups(draw, children):
    child = draw(children)
    shape = draw(st.sampled_from(["linear", "cosine", "burnin", "exponential"]))
    start = draw(st.floats(0.0, 1.0))
    if shape == "exponential" and not child(0) > 0:
        shape = "linear"
    if shape == "exponential":
        start = max(start, 1e-3)
    return warmup(child, draw(st.integers(0, 200)), start=start, shape=shape, power=draw(st.floats(0.5, 6.0)))


@st.composite
def joins(draw, children):
    parts = draw(st.lists(children, min_size=1, max_size=4))
    boundaries = sorted(draw(st.lists(st.integers(0, 500), min_size=len(parts) - 1, max_size=len(parts) - 1)))
    return join(parts, boundaries)


@st.composite
def sequences(draw, children):
    parts = draw(st.lists(children, min_size=1, max_size=4))
    return sequence(*map(bounded, parts[:-1]), parts[-1])


@st.composite
def cycles(draw, children):
    limit = draw(st.sampled_from([None, 1, 3]))
    peak = draw(st.sampled_from([1.0, 0.5, 0.9]))
    return cycle(draw(children), draw(positive), period_mul=draw(st.sampled_from([1, 1.5, 2])), peak_mul=peak, limit=limit)


@st.composite
def shaped(draw, children):
    child = draw(children)
    how = draw(st.integers(0, 9))
    if how == 0:
        return draw(numbers) * child
    if how == 1:
        return child * draw(children)
    if how == 2:
        return child + draw(st.one_of(numbers, children))
    if how == 3:
        return child - draw(st.one_of(numbers, children))
    if how == 4:
        return child / draw(numbers.filter(lambda x: abs(x) >= 1e-3))
    if how == 5:
        low = draw(numbers)
        return child.clip(min=low, max=draw(st.one_of(st.none(), st.just(low + 1.0))))
    if how == 6:
        return child.clip(max=draw(numbers))
    if how == 7:
        return child.shift(draw(st.integers(-100, 100)))
    if how == 8:
        return per_epoch(child, draw(positive), staircase=draw(st.booleans()))
    return 1 - child


def extend(children):
    return st.one_of(warmups(children), joins(children), sequences(children), cycles(children), shaped(children))


compositions = st.recursive(st.sampled_from(EXAMPLES), extend, max_leaves=6)


@given(compositions)
def test_random_nested_compositions_round_trip(schedule):
    with tempfile.TemporaryDirectory() as directory:
        assert_round_trips(schedule, Path(directory))


@given(compositions)
def test_random_compositions_survive_json_text(schedule):
    text = json.dumps(schedule.to_dict())
    rebuilt = from_dict(json.loads(text))
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    assert repr(rebuilt) == repr(schedule)


def test_call_syntax_accepts_operators_and_positional_sequence():
    decay = exponential_decay(0.1, 20, 0.8)
    assert parse("0.5 * exponential_decay(0.1, 20, 0.8)") == 0.5 * decay
    assert parse("exponential_decay(0.1, 20, 0.8) / 4 + 1e-5") == decay / 4 + 1e-5
    assert parse("exponential_decay(0.1, 20, 0.8).clip(min=0.01).shift(5)") == decay.clip(min=0.01).shift(5)
    assert parse("-exponential_decay(0.1, 20, 0.8)") == -decay
    text = "sequence(linear(0, 1, 10), linear(1, 0, 10))"
    assert parse(text) == sequence(linear(0, 1, 10), linear(1, 0, 10))
    assert parse("sequence(schedules=[linear(0, 1, 10), linear(1, 0, 10)])") == parse(text)
    assert parse("  \n exponential_decay(\n  0.1,\n  20,\n  0.8)\n") == decay


def test_numpy_numbers_are_stored_as_python_numbers():
    decay = exponential_decay(0.1, 20, 0.8)
    built = [
        np.float64(0.5) * decay, decay * np.float32(0.5), decay - np.float64(0.25), decay / np.int64(4),
        decay.shift(np.int64(3)), decay.clip(min=np.float64(0.01)), join([decay, decay], [np.int64(4)]),
        warmup(decay, np.int64(5), start=np.float64(0.01), power=np.float64(2)), per_epoch(decay, np.int32(3)),
        cycle(decay, np.int32(5), period_mul=np.float64(2), peak_mul=np.float64(0.5), limit=np.int64(2)),
        lrdecay.exponential_decay_with_burnin(np.float64(0.1), np.int64(10), np.float64(0.5), np.int64(5)),
    ]
    for schedule in built:
        assert "np." not in repr(schedule)
        assert parse(repr(schedule)) == schedule


# -- bad specs -------------------------------------------------------------------------------

GOOD = exponential_decay(0.1, 20, 0.8).to_dict()


def nested_warmups(depth):
    spec = GOOD
    for _ in range(depth):
        spec = {"kind": "warmup", "schedule": spec, "steps": 1}
    return spec


BAD_DICTS = [
    ({**GOOD, "kind": "exponential_decy"}, r"^\$\.kind: unknown schedule kind 'exponential_decy' \(did you mean 'exponential_decay'\?\)"),
    ({"learning_rate": 0.1}, r"^\$: a mapping here must be a schedule with a 'kind' key"),
    ({**GOOD, "kind": 3}, r"^\$\.kind: a schedule kind must be a string, got int 3"),
    ({k: v for k, v in GOOD.items() if k != "decay_rate"}, r"^\$: exponential_decay is missing required parameter 'decay_rate'"),
    ({**GOOD, "decay_rat": 0.5}, r"^\$: exponential_decay has no parameter 'decay_rat'"),
    ({**GOOD, "decay_steps": "20"}, r"^\$\.decay_steps: exponential_decay: decay_steps must be a real number"),
    ({**GOOD, "decay_steps": 0}, r"^\$\.decay_steps: exponential_decay: decay_steps must be > 0, got 0"),
    ({**GOOD, "decay_steps": 10**400}, r"^\$\.decay_steps: a 1329-bit integer is too large"),
    ({"kind": "join", "schedules": [GOOD, {**GOOD, "decay_rate": None}], "boundaries": [5]},
     r"^\$\.schedules\[1\]\.decay_rate: exponential_decay: decay_rate must be a real number, got NoneType"),
    ({"kind": "join", "schedules": [GOOD, GOOD], "boundaries": [5, 6]}, r"^\$\.boundaries: join: boundaries must have one entry fewer"),
    ({"kind": "sequence", "schedules": [GOOD, GOOD]}, r"^\$\.schedules: sequence: schedules\[0\] \(exponential_decay\(.*never ends"),
    ({"kind": "warmup", "schedule": {"kind": "warmup", "schedule": [GOOD], "steps": 1}, "steps": 1},
     r"^\$\.schedule\.schedule: warmup: schedule must be a schedule, got tuple"),
    (nested_warmups(MAX_DEPTH), r"nested deeper than 64 levels"),
    ({**GOOD, "decay_steps": {1, 2}}, r"^\$\.decay_steps: unsupported value of type set"),
    ({**GOOD, 7: 1}, r"^\$: parameter names must be strings, got 7"),
    ({"kind": "cycle", "schedule": GOOD, "period": 10, "limit": 2.5}, r"^\$\.limit: cycle: limit must be a whole number"),
]


@pytest.mark.parametrize("spec, message", BAD_DICTS, ids=[m[:40] for _, m in BAD_DICTS])
def test_bad_dicts_say_where(spec, message):
    with pytest.raises(SpecError, match=message):
        from_dict(spec)


BAD_TEXT = [
    ("exponential_decy(0.1, 20, 0.8)", r"^line 1, column 1: unknown schedule kind 'exponential_decy' \(did you mean"),
    ("warmup(exponential_decay(0.1, 20, 0.8), steps=-1)", r"^line 1, column 47: warmup: steps must be >= 0, got -1"),
    ("join([exponential_decay(0.1, 20, 0.8),\n      exponential_decay(0.1, 20, x)], [5])", r"^line 2, column 34: unknown name 'x'"),
    ("exponential_decay(0.1, 20, 0.8, True, 5)", r"takes at most 4 positional arguments, got 5"),
    ("exponential_decay(0.1, 20, 0.8, learning_rate=1)", r"got two values for 'learning_rate'"),
    ("exponential_decay(0.1, 20, 0.8,", r"^line 1, column \d+: invalid syntax"),
    ("exponential_decay(0.1, 20, 0.8).__class__", r"Attribute is not allowed"),
    ("exponential_decay(0.1, 20, 0.8).to_dict()", r"\.to_dict\(\) can't be called; a spec may call only the "
     r"schedule kinds \(\d+ of them, e\.g\. cosine_decay, .*`lrdecay list` shows them all\) and the methods "
     r"\.clip\(\), \.shift\(\)$"),
    ("__import__('os').system('true')", r"^line 1, column 1: \.system\(\) can't be called; a spec may call only the "
     r"schedule kinds .* and the methods \.clip\(\), \.shift\(\)$"),
    ("__import__('os')", r"^line 1, column 1: unknown schedule kind '__import__'; a spec may call the schedule kinds"),
    ("(lambda: 1)()", r"^line 1, column 1: a spec may call only the schedule kinds"),
    ("cosine_decay(0.1, 10)[0](1)", r"a spec may call only the schedule kinds"),
    ("'a' * 100", r"\+ - \* / apply to numbers and schedules, got str and int"),
    ("[exponential_decay(0.1, 20, 0.8)] * 3", r"apply to numbers and schedules, got tuple"),
    ("exponential_decay(0.1, 20, 0.8) / 0", r"divisor must be != 0"),
    ("exponential_decay(0.1, 20, 1 / 0)", r"division by zero"),
    ("exponential_decay(0.1, 20, 0.8) ** 2", r"BinOp is not allowed"),
    ("exponential_decay(*[0.1, 20, 0.8])", r"\*args are not allowed"),
    ("exponential_decay(**{'learning_rate': 0.1})", r"\*\*kwargs are not allowed"),
    ("exponential_decay(0.1, 20, 0.8j)", r"complex literals are not allowed"),
    ("exponential_decay(0x" + "f" * 400 + ", 20, 0.8)", r"^line 1, column 19: a 1600-bit integer is too large"),
    ("exponential_decay(1e999, 20, 0.8)", r"learning_rate must be finite, got inf"),
    ("0.5", r"spec must describe a schedule, got float 0.5"),
    ("é_decay(0.1)", r"^line 1, column 1: unknown schedule kind"),
    ("exponential_decay(0.1, 20, 'é').clip(min=0)", r"^line 1, column 28: exponential_decay: decay_rate must be a real number"),
    ("(" * 300 + "1" + ")" * 300, r"invalid syntax|nested"),
    ("warmup(" * 70 + "exponential_decay(0.1, 20, 0.8)" + ", 1)" * 70, r"nested deeper than 64 levels"),
    ("- " * 30_000 + "1", r"nested"),
    ("a" * (MAX_TEXT + 1), rf"spec is {MAX_TEXT + 1} characters long; the limit is {MAX_TEXT}"),
    ("exponential_decay(0.1, 20, 0.8)\x00", r"not valid text|null bytes"),
    ("sequence(linear(0, 1, 1), schedules=[linear(0, 1, 1)])", r"sequence got 'schedules' both positionally and by name"),
]


@pytest.mark.parametrize("text, message", BAD_TEXT, ids=[t[:30] for t, _ in BAD_TEXT])
def test_bad_text_says_where(text, message):
    with pytest.raises(SpecError, match=message):
        parse(text)


def test_positions_refer_to_the_text_as_given():
    with pytest.raises(SpecError, match=r"^line 3, column 5: unknown name 'oops'"):
        parse("\n\n    oops")
    with pytest.raises(SpecError, match=r"^line 2, column 7: unknown name 'oops'"):
        parse("  add(\n      oops, 1)")


def test_parse_wants_text():
    with pytest.raises(SpecError, match="must be text"):
        parse(b"exponential_decay(0.1, 20, 0.8)")


def test_positions_count_characters_not_bytes():
    with pytest.raises(SpecError, match=r"^line 1, column 11: unknown name 'ééé'"):
        parse('add("éé", ééé)')


BAD_FILES = [
    ("spec.json", b'{"kind": "exponential_decay", "learning_rate": 0.1,}', r"spec\.json: invalid JSON \(Expecting property name"),
    ("spec.json", b"[1, 2]", r"spec\.json: \$: a schedule spec must be a mapping with a 'kind', got list"),
    ("spec.json", b"1" * 5000, r"spec\.json: invalid JSON"),
    ("spec.json", b"[" * 100_000 + b"]" * 100_000, r"spec\.json: invalid JSON \(nested too deeply\)|nested deeper"),
    ("spec.json", b"\xff\xfe\x00", r"spec\.json: not UTF-8 text"),
    ("spec.yaml", b"kind: exponential_decay\nlearning_rate: 0.1\ndecay_steps: [1\n", r"spec\.yaml: line \d+, column \d+: invalid YAML"),
    ("spec.yaml", b"!!python/object/apply:os.system ['true']\n", r"spec\.yaml: line 1, column 1: invalid YAML"),
    ("spec.yaml", b"kind: exponential_decay\nlearning_rate: 2024-01-01\ndecay_steps: 1\ndecay_rate: 1\n",
     r"spec\.yaml: \$\.learning_rate: unsupported value of type date"),
    ("spec.yaml", b"- 1\n- 2\n", r"spec\.yaml: \$: a schedule spec must be a mapping"),
    ("spec.yaml", b"", r"spec\.yaml: \$: a schedule spec must be a mapping with a 'kind', got NoneType"),
    ("spec.yml", b"exponential_decay(0.1, 20, \n", r"spec\.yml: line 1, column \d+: invalid syntax"),
    ("spec.txt", b"exponential_decay(0.1, 20, 0.8).__init__(1)", r"spec\.txt: line 1, column 1: \.__init__\(\) can't be called"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES, ids=[m[:40] for _, _, m in BAD_FILES])
def test_bad_files_say_where(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SpecError, match=message):
        load(path)


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("kind: exponential_decay\nlearning_rate: *a8\ndecay_steps: 1\ndecay_rate: 1")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    with pytest.raises(SpecError, match=rf"holds more than {MAX_NODES} values"):
        load(path)


def test_load_errors(tmp_path):
    with pytest.raises(SpecError, match=r"missing\.json: cannot read"):
        load(tmp_path / "missing.json")
    with pytest.raises(SpecError, match="cannot read"):
        load(tmp_path)
    with pytest.raises(SpecError, match="takes a file path, got NoneType"):
        load(None)
    big = tmp_path / "big.txt"
    big.write_text(" " * (MAX_TEXT * 10 + 1))
    with pytest.raises(SpecError, match="larger than"):
        load(big)


def test_load_accepts_a_byte_order_mark_and_a_yaml_string(tmp_path):
    path = tmp_path / "spec.txt"
    path.write_text("\ufeffexponential_decay(0.1, 20, 0.8)", encoding="utf-8")
    assert load(path) == exponential_decay(0.1, 20, 0.8)
    path = tmp_path / "spec.yaml"
    path.write_text("'0.5 * exponential_decay(0.1, 20, 0.8)'\n")
    assert load(path) == 0.5 * exponential_decay(0.1, 20, 0.8)


@pytest.mark.parametrize(
    "text, meant",
    [
        ("cosin(0.1, 100)", ["cosine_decay", "cosine_onecycle", "cosine_annealing"]),
        ("Exponential_Decay(0.1, 20, 0.8)", ["exponential_decay"]),
        ("warmpu(constant(0.1), steps=10)", ["warmup"]),
    ],
)
def test_unknown_kind_suggests_the_kinds_it_may_mean(text, meant):
    with pytest.raises(SpecError) as info:
        lrdecay.parse(text)
    assert str(info.value).endswith("(did you mean " + " or ".join(map(repr, meant)) + "?)")
