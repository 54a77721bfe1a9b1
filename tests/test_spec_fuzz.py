"""Fuzzing parse, from_dict and load: whatever the input, the result is a Schedule or a
SpecError, and nothing in the input is ever run (no exec, no import, no process, no file)."""

import string
import sys
import tempfile
from pathlib import Path

from examples import all_examples
from hypothesis import given, settings
from hypothesis import strategies as st

import lrdecay
from lrdecay import Schedule, SpecError, from_dict, load, parse

SENTINEL = Path(tempfile.gettempdir()) / "lrdecay-spec-fuzz-sentinel"
EXAMPLES = all_examples()
KINDS = sorted(lrdecay.registry())

# Audit events that mean "input was executed": watched only while a spec is being read.
_FORBIDDEN = {"exec", "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "ctypes.dlopen",
              "os.remove", "os.rename", "open", "socket.connect", "shutil.rmtree"}
_events: list[str] = []
_watching = False


def _audit(event, args):
    if _watching and event in _FORBIDDEN:
        _events.append(event)


sys.addaudithook(_audit)


def only_spec_errors(build, data):
    global _watching
    _events.clear()
    _watching = True
    try:
        result = build(data)
    except SpecError as error:
        result = error
    finally:
        _watching = False
    assert not _events, f"reading a spec ran {_events}"
    assert not SENTINEL.exists(), "a spec ran code"
    assert isinstance(result, (Schedule, SpecError))
    if isinstance(result, SpecError):
        assert str(result)
    return result


# -- parse: arbitrary text and ast-ish text --------------------------------------------------

PAYLOADS = [
    f"__import__('pathlib').Path({str(SENTINEL)!r}).touch()",
    f"open({str(SENTINEL)!r}, 'w').write('x')",
    "__import__('os').system('touch " + str(SENTINEL) + "')",
    "exec('import os')",
    "eval('1')",
    "exponential_decay.__init__.__globals__['__builtins__']['exec']('1')",
    "().__class__.__base__.__subclasses__()",
    "exponential_decay(0.1, 20, 0.8).__reduce__()",
    "lambda: __import__('os')",
    "[x for x in ().__class__.__mro__]",
    "globals()",
    "breakpoint()",
    "f'{__import__(\"os\").system(\"true\")}'",
]

atoms = st.one_of(
    st.sampled_from(KINDS),
    st.sampled_from(["__import__", "eval", "exec", "open", "os", "sys", "getattr", "compile", "x", "None",
                     "True", "False", "inf", "nan", "clip", "shift", "sequence", "__class__"]),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["1e999", "-1e999", "0x" + "f" * 2000, "9" * 5000, "1j", "b'x'", "...", "-0.0", "5e-324"]),
    st.text(max_size=8).map(repr),
    st.sampled_from(PAYLOADS),
    st.sampled_from([repr(s) for s in EXAMPLES]),
)


def compound(children):
    args = st.lists(children, max_size=4).map(", ".join)
    kwargs = st.lists(st.tuples(st.sampled_from(["learning_rate", "steps", "schedule", "schedules", "boundaries",
                                                 "min", "max", "shape", "kind", "x", "__class__"]), children),
                      max_size=3).map(lambda kv: ", ".join(f"{k}={v}" for k, v in kv))
    name = st.one_of(st.sampled_from(KINDS), children)
    return st.one_of(
        st.builds(lambda f, a, k: f"{f}({a}{', ' if a and k else ''}{k})", name, args, kwargs),
        st.builds(lambda a, m, x: f"{a}.{m}({x})", children, st.sampled_from(["clip", "shift", "to_dict", "__init__", "_eval"]), args),
        st.builds(lambda a, b, op: f"({a}) {op} ({b})", children, children,
                  st.sampled_from(["+", "-", "*", "/", "**", "//", "%", "@", "and", "or", "<", "==", "if 1 else"])),
        st.builds(lambda a, op: f"{op}{a}", children, st.sampled_from(["-", "+", "not ", "~", "*", "**", "await "])),
        args.map(lambda a: f"[{a}]"),
        args.map(lambda a: f"({a},)"),
        args.map(lambda a: f"{{{a}}}"),
        st.builds(lambda a, b: f"{a}[{b}]", children, children),
        st.builds(lambda a: f"lambda: {a}", children),
        st.builds(lambda a, b: f"({a} := {b})", children, children),
    )


expressions = st.recursive(atoms, compound, max_leaves=12)


@given(st.text(max_size=400))
def test_parse_arbitrary_text(text):
    only_spec_errors(parse, text)


@given(st.text(alphabet=string.printable + "()[]{},.=*+-/'\"éñ∞𝟘\u200b\ufeff\x00", max_size=300))
def test_parse_text_made_of_syntax(text):
    only_spec_errors(parse, text)


@settings(max_examples=300)
@given(expressions)
def test_parse_ast_like_text(text):
    only_spec_errors(parse, text)


@given(st.sampled_from(PAYLOADS), st.sampled_from([repr(s) for s in EXAMPLES]))
def test_payloads_never_run(payload, good):
    for text in (payload, f"warmup({good}, {payload})", f"{good}.clip(min={payload})", f"[{good}, {payload}]",
                 f"{good} * ({payload})"):
        assert isinstance(only_spec_errors(parse, text), SpecError)


@given(st.binary(max_size=200))
def test_parse_refuses_non_text(data):
    assert isinstance(only_spec_errors(parse, data), SpecError)


# -- from_dict: arbitrary JSON-like values ---------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**2000), 2**2000), st.floats(),
    st.text(max_size=10), st.sampled_from(KINDS), st.sampled_from(PAYLOADS),
)


def containers(children):
    keys = st.one_of(st.sampled_from(["kind", "schedule", "schedules", "boundaries", "steps", "learning_rate",
                                      "period", "min", "max", "shape", "decay_steps", "decay_rate"]), st.text(max_size=6))
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5))


json_values = st.recursive(scalars, containers, max_leaves=20)


@st.composite
def near_specs(draw, children):
    """A mapping with a real kind and some of its real parameter names, with random values."""
    kind = draw(st.sampled_from(KINDS))
    names = [f.name for f in lrdecay.registry()[kind].__dataclass_fields__.values()]
    params = draw(st.dictionaries(st.sampled_from(names), children, max_size=len(names)))
    return {"kind": kind, **params}


spec_like = st.recursive(scalars | st.sampled_from([s.to_dict() for s in EXAMPLES]),
                         lambda c: near_specs(c) | containers(c), max_leaves=12)


@given(json_values)
def test_from_dict_arbitrary_values(value):
    only_spec_errors(from_dict, value)


@settings(max_examples=300)
@given(spec_like)
def test_from_dict_near_specs(value):
    only_spec_errors(from_dict, value)


@st.composite
def mutated(draw):
    """A valid spec with one value somewhere replaced by something random."""
    spec = draw(st.sampled_from(EXAMPLES)).to_dict()
    slots = []

    def collect(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            slots.append((node, key))
            collect(value)

    collect(spec)
    node, key = draw(st.sampled_from(slots))
    node[key] = draw(json_values)
    return spec


@settings(max_examples=300)
@given(mutated())
def test_from_dict_mutated_specs(spec):
    only_spec_errors(from_dict, spec)


# -- load: arbitrary file contents -----------------------------------------------------------


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode), st.sampled_from([".json", ".yaml", ".yml", ".txt"]))
def test_load_arbitrary_files(content, suffix):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"spec{suffix}"
        path.write_bytes(content)
        result = only_spec_errors_load(path)
        assert isinstance(result, (Schedule, SpecError))


def only_spec_errors_load(path):
    try:
        return load(path)
    except SpecError as error:
        return error
    finally:
        assert not SENTINEL.exists()


def test_yaml_python_tags_never_run(tmp_path):
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system", "!!python/name:os.system"):
        path = tmp_path / "spec.yaml"
        path.write_text(f"{tag} ['touch {SENTINEL}']\n")
        assert isinstance(only_spec_errors_load(path), SpecError)
        path.write_text(f"kind: exponential_decay\nlearning_rate: {tag} ['touch {SENTINEL}']\n")
        assert isinstance(only_spec_errors_load(path), SpecError)
    assert not SENTINEL.exists()
