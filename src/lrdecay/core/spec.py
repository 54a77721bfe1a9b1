"""Schedules as data: ``from_dict``, ``parse`` (the ``repr`` call syntax) and ``load``/``dump``
(JSON, YAML or call-syntax files).

``parse`` walks Python's ``ast`` with a whitelist (calls of registered kinds, numbers, strings,
booleans, None, lists, ``+ - * /`` between numbers and schedules, and the ``.clip``/``.shift``
methods); it never evaluates code. YAML is read with ``yaml.safe_load`` only.

Whatever the input (any text, bytes, any JSON/YAML value, deep nesting, huge numbers, huge
text), the only exception these functions raise is :class:`SpecError`, and its message starts
with where the problem is: ``$.schedules[1].decay_steps`` for dicts, ``line 1, column 17`` for
call syntax, the file name for files.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json
import numbers
import operator
import os
import re
import reprlib
import stat
from pathlib import Path

from lrdecay.core.kinds import kind_class
from lrdecay.core.schedule import Schedule, registry

__all__ = ["SpecError", "from_dict", "parse", "load", "dump", "as_schedule"]

#: Deepest nesting accepted (calls, lists, mappings, operators each count one level).
MAX_DEPTH = 64
#: Longest call-syntax text accepted, in characters; files may be 10 times larger.
MAX_TEXT = 100_000
#: Most values (mappings, lists, scalars) one spec may hold; stops YAML alias bombs.
MAX_NODES = 100_000
_METHODS = ("clip", "shift")
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxtuple = _short.maxdict = 6
_short.maxlevel = 3


class SpecError(ValueError):
    """A schedule spec that can't be built; the message says where and why."""


def _number(value, where: str):
    """A spec number as a Python int or float; ints too large for a float are refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        try:
            float(value)
        except OverflowError:
            raise SpecError(f"{where}: a {value.bit_length()}-bit integer is too large") from None
        return value
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        raise SpecError(f"{where}: number {_short.repr(value)} can't be a float") from None


# -- dicts -----------------------------------------------------------------------------------


def from_dict(spec) -> Schedule:
    """Build a schedule from ``Schedule.to_dict()`` output (or any dict of that shape).

    A mapping that appears more than once (a YAML alias) counts once per appearance against
    :data:`MAX_NODES` (the spec's expanded size) and is built once."""
    if not isinstance(spec, dict):
        raise SpecError(f"$: a schedule spec must be a mapping with a 'kind', got {type(spec).__name__}")
    size = _expanded_size(spec)
    if size > MAX_NODES:
        raise SpecError(f"$: the spec holds more than {MAX_NODES} values ({size} once its aliases are expanded)")
    return _Decoder().decode(spec, "$", 0)


def _expanded_size(spec) -> int:
    """How many values (mappings, lists, scalars; not the ``kind``) ``spec`` holds with every
    shared mapping or list counted at each place it appears, in time linear in the distinct
    ones. Nesting deeper than :data:`MAX_DEPTH` (a recursive alias included) is a SpecError."""
    sizes: dict[int, tuple[int, int]] = {}  # id -> (size, height)
    open_ids: set[int] = set()

    def visit(value, path: str, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            items = [(f"{path}.{k}", v) for k, v in value.items() if k != "kind"]
        elif isinstance(value, (list, tuple)):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            return 1, 0
        known = sizes.get(id(value))
        if known is None:
            if id(value) in open_ids:  # it holds itself
                raise SpecError(f"{path}: nested deeper than {MAX_DEPTH} levels (the value holds itself)")
            open_ids.add(id(value))
            size, height = 1, 0
            for where, item in items:
                item_size, item_height = visit(item, where, depth + 1)
                size, height = size + item_size, max(height, item_height + 1)
            open_ids.discard(id(value))
            known = sizes[id(value)] = (size, height)
        if depth + known[1] > MAX_DEPTH:
            raise SpecError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        return known

    return visit(spec, "$", 0)[0]


class _Decoder:
    def __init__(self):
        self.built: dict[int, Schedule] = {}  # id of a mapping -> its schedule (aliases share it)

    def decode(self, value, path: str, depth: int):
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            if id(value) in self.built:
                return self.built[id(value)]
            if "kind" not in value:
                raise SpecError(f"{path}: a mapping here must be a schedule with a 'kind' key")
            params = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise SpecError(f"{path}: parameter names must be strings, got {_short.repr(key)}")
                if key != "kind":
                    params[key] = self.decode(item, f"{path}.{key}", depth + 1)
            places = {key: f"{path}.{key}" for key in params}
            schedule = self.built[id(value)] = _build(value["kind"], (), params, path, f"{path}.kind", places=places)
            return schedule
        if isinstance(value, (list, tuple)):
            return tuple(self.decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, numbers.Real):
            return _number(value, path)
        raise SpecError(f"{path}: unsupported value of type {type(value).__name__}")


def _schedule_class(kind, where: str):
    if not isinstance(kind, str):
        raise SpecError(f"{where}: a schedule kind must be a string, got {type(kind).__name__} {_short.repr(kind)}")
    try:
        return kind_class(kind)
    except KeyError:
        kinds = registry()
        hint = _close_kinds(kind[:100], kinds)
        raise SpecError(
            f"{where}: unknown schedule kind {_short.repr(kind)}"
            + (f" (did you mean {' or '.join(map(repr, hint))}?)" if hint else f"; a spec may call {_allowed_calls()}")
        ) from None


def _close_kinds(name: str, kinds) -> list[str]:
    """The kinds a mistyped ``name`` may mean: one near-identical spelling, else up to three of the
    kinds that start with it or contain it (``cosine`` -> ``cosine_decay``) and close spellings."""
    name = name.lower()
    close = difflib.get_close_matches(name, kinds, n=3)
    if close and difflib.SequenceMatcher(None, name, close[0]).ratio() >= 0.9:
        return close[:1]
    containing = sorted((k for k in kinds if name and name in k), key=lambda k: (not k.startswith(name), len(k)))
    return list(dict.fromkeys(containing + close))[:3]


def _allowed_calls() -> str:
    """What a spec may call, for the messages that refuse anything else."""
    kinds = registry()
    examples = [k for k in ("cosine_decay", "exponential_decay", "warmup", "join") if k in kinds]
    return (f"the schedule kinds ({len(kinds)} of them, e.g. {', '.join(examples)}; "
            f"`lrdecay list` shows them all) and the methods {', '.join(f'.{m}()' for m in _METHODS)}")


def _build(kind, args: tuple, kwargs: dict, where: str, kind_where: str | None = None, *,
           arg_places: tuple = (), places: dict | None = None) -> Schedule:
    """``kind(*args, **kwargs)``; ``places`` (and ``arg_places`` for positional arguments) say
    where each argument is written, so an error about a parameter points at its value."""
    cls = _schedule_class(kind, kind_where or where)
    places = dict(places or {})
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = [f.name for f in fields]
    varargs = getattr(cls, "varargs", None)
    if varargs and args:
        if varargs in kwargs:
            raise SpecError(f"{where}: {kind} got {varargs!r} both positionally and by name")
        kwargs[varargs], args = args, ()
        places.setdefault(varargs, arg_places[0] if arg_places else where)
    if len(args) > len(names):
        raise SpecError(f"{where}: {kind} takes at most {len(names)} positional arguments, got {len(args)}")
    for i, (name, arg) in enumerate(zip(names, args)):
        if name in kwargs:
            raise SpecError(f"{places.get(name, where)}: {kind} got two values for {name!r} (positionally and as a keyword)")
        kwargs[name] = arg
        if i < len(arg_places):
            places[name] = arg_places[i]
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise SpecError(
            f"{where}: {kind} has no parameter {_short.repr(unknown[0])} (parameters: {', '.join(names)})"
        )
    missing = [
        f.name for f in fields
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise SpecError(f"{where}: {kind} is missing required parameter {missing[0]!r}")
    return _construct(kind, lambda: cls(**kwargs), where, places)


def _construct(what: str, build, where: str, places: dict | None = None):
    """Run a constructor; any error it raises becomes a SpecError at ``where``, or at the
    argument the message starts with (``steps must be >= 0`` -> where ``steps`` is written)."""
    try:
        return build()
    except SpecError:
        raise
    except (TypeError, ValueError, ArithmeticError) as error:
        parameter = re.match(r"\w+", str(error))
        if places and parameter and parameter.group() in places:
            where = places[parameter.group()]
        raise SpecError(f"{where}: {what}: {_message(error)}") from None
    except RecursionError:
        raise SpecError(f"{where}: {what}: nested too deeply") from None
    except Exception as error:  # a spec is untrusted data: nothing but SpecError may escape
        raise SpecError(f"{where}: {what}: {type(error).__name__}: {_message(error)}") from None


def _message(error: BaseException) -> str:
    text = str(error)
    return text if len(text) <= 500 else text[:500] + "..."


# -- call syntax -----------------------------------------------------------------------------


def parse(text: str) -> Schedule:
    """Build a schedule from its call syntax, e.g. ``"exponential_decay(0.1, 20, 0.8)"``.

    ``parse(repr(s)) == s`` for every schedule. Nothing is evaluated: only calls of registered
    kinds, literals, lists, ``+ - * /`` between numbers and schedules (``0.5 * s``, ``s + 1e-5``)
    and the ``.clip()``/``.shift()`` methods are accepted."""
    if not isinstance(text, str):
        raise SpecError(f"a schedule spec must be text (str), got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise SpecError(f"spec is {len(text)} characters long; the limit is {MAX_TEXT}")
    walker = _Walker(text)
    try:
        tree = ast.parse(walker.text, mode="eval")
    except SyntaxError as error:
        where = walker.position(error.lineno or 1, (error.offset or 1) - 1, chars=True)
        raise SpecError(f"{where}: invalid syntax ({error.msg})") from None
    except (RecursionError, MemoryError):
        raise SpecError("spec is nested too deeply") from None
    except Exception as error:  # e.g. ValueError for null bytes
        raise SpecError(f"spec is not valid text ({_message(error)})") from None
    value = walker.walk(tree.body, 0)
    if not isinstance(value, Schedule):
        raise SpecError(
            f"{walker.where(tree.body)}: spec must describe a schedule, got {type(value).__name__} {_short.repr(value)}"
        )
    return value


class _Walker:
    """Builds the schedule from the tree; positions refer to the text as given."""

    def __init__(self, text: str):
        self.text = text.strip()  # eval mode refuses leading indentation
        leading = text[: len(text) - len(text.lstrip())]
        self.line_shift = leading.count("\n")
        self.column_shift = len(leading) - (leading.rfind("\n") + 1)
        self.lines = self.text.split("\n")

    def position(self, line: int, offset: int, chars: bool = False) -> str:
        """``line N, column M`` in the original text; ast offsets count UTF-8 bytes."""
        if not chars and 1 <= line <= len(self.lines):
            offset = len(self.lines[line - 1].encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
        if line == 1:
            offset += self.column_shift
        return f"line {line + self.line_shift}, column {offset + 1}"

    def where(self, node) -> str:
        return self.position(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def walk(self, node, depth: int):
        where = self.where(node)
        if depth > MAX_DEPTH:
            raise SpecError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, str):
                return value
            if isinstance(value, (bool, int, float)):
                return _number(value, where)
            raise SpecError(f"{where}: {type(value).__name__} literals are not allowed")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.walk(node.operand, depth + 1)
            if not _is_operand(operand):
                raise SpecError(f"{where}: a sign can only stand before a number or a schedule")
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, (ast.List, ast.Tuple)):
            return tuple(self.walk(e, depth + 1) for e in node.elts)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = self.walk(node.left, depth + 1), self.walk(node.right, depth + 1)
            if not (_is_operand(left) and _is_operand(right)):
                raise SpecError(
                    f"{where}: + - * / apply to numbers and schedules, got {type(left).__name__} "
                    f"and {type(right).__name__}"
                )
            value = _construct(type(node.op).__name__.lower(), lambda: _BINOPS[type(node.op)](left, right), where)
            if isinstance(value, (int, float)):
                value = _number(value, where)
            return value
        if isinstance(node, ast.Call):
            return self.call(node, where, depth)
        if isinstance(node, ast.Name):
            raise SpecError(f"{where}: unknown name {_short.repr(node.id)} (write a schedule call or a literal)")
        raise SpecError(f"{where}: {type(node).__name__} is not allowed in a schedule spec")

    def call(self, node: ast.Call, where: str, depth: int):
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise SpecError(f"{where}: *args are not allowed")
        if isinstance(node.func, ast.Attribute) and node.func.attr not in _METHODS:
            raise SpecError(f"{where}: .{_short.repr(node.func.attr)[1:-1]}() can't be called; "
                            f"a spec may call only {_allowed_calls()}")
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise SpecError(f"{where}: a spec may call only {_allowed_calls()}")
        args = tuple(self.walk(a, depth + 1) for a in node.args)
        kwargs, places = {}, {}
        for kw in node.keywords:
            if kw.arg is None:
                raise SpecError(f"{where}: **kwargs are not allowed")
            if kw.arg in kwargs:  # Python refuses it too ("keyword argument repeated")
                raise SpecError(f"{self.where(kw)}: keyword argument {kw.arg!r} is given twice")
            kwargs[kw.arg] = self.walk(kw.value, depth + 1)
            places[kw.arg] = self.where(kw.value)
        if isinstance(node.func, ast.Name):
            arg_places = tuple(self.where(a) for a in node.args)
            return _build(node.func.id, args, kwargs, where, arg_places=arg_places, places=places)
        method = node.func.attr
        target = self.walk(node.func.value, depth + 1)
        if not isinstance(target, Schedule):
            raise SpecError(f"{where}: .{method}() applies to a schedule, not to {type(target).__name__}")
        return _construct(method, lambda: getattr(target, method)(*args, **kwargs), where, places)


def _is_operand(value) -> bool:
    return isinstance(value, Schedule) or (isinstance(value, (int, float)) and not isinstance(value, bool))


# -- files -----------------------------------------------------------------------------------


def load(source: str | os.PathLike) -> Schedule:
    """A schedule from a ``.json``, ``.yaml``/``.yml`` file or a file holding the call syntax.

    YAML is read with ``yaml.safe_load`` only (tags such as ``!!python/object`` are refused)."""
    try:
        path = Path(source)
    except TypeError:
        raise SpecError(f"load() takes a file path, got {type(source).__name__}") from None
    try:
        text = _read_text(path, MAX_TEXT * 10).decode("utf-8-sig")
    except SpecError:
        raise
    except OSError as error:
        raise SpecError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    except ValueError as error:  # e.g. a null byte in the path
        raise SpecError(f"{_short.repr(str(source))}: cannot read ({error})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except RecursionError:
            raise SpecError(f"{path}: invalid JSON (nested too deeply)") from None
        except ValueError as error:  # JSONDecodeError, or an integer with too many digits
            raise SpecError(f"{path}: invalid JSON ({_message(error)})") from None
    elif suffix in (".yaml", ".yml"):
        data = _load_yaml(path, text)
    else:
        return _located(path, parse, text)
    if isinstance(data, str):
        return _located(path, parse, data)
    return _located(path, from_dict, data)


def _read_text(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``limit``: a device
    (``/dev/zero``), a FIFO, a directory or a socket is refused, and a file is read with bounded
    reads, never more than ``limit + 1`` bytes (its size may change while it is read)."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode  # of what was opened: no race with a swapped path
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a file")
            real = os.path.realpath(path)
            kind += f" at {real}" if real != os.path.abspath(path) else ""
            raise SpecError(f"{path}: cannot read (not a regular file: {kind}); a spec is read from a file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise SpecError(f"{path}: file is larger than {limit} bytes")
    return b"".join(chunks)


def _load_yaml(path: Path, text: str):
    try:
        import yaml
    except ImportError:
        raise SpecError(f"{path}: reading YAML needs PyYAML (pip install pyyaml)") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpecError(f"{path}: {at}invalid YAML ({error.problem or error.context})") from None
    except RecursionError:
        raise SpecError(f"{path}: invalid YAML (nested too deeply)") from None
    except Exception as error:  # YAMLError, or a scalar that can't be converted
        reason = _message(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(f"{path}: invalid YAML ({reason})") from None


def _located(path, build, data):
    try:
        return build(data)
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None


def dump(schedule: Schedule, path: str | os.PathLike) -> None:
    """Write ``schedule.to_dict()`` as JSON, or YAML for a ``.yaml``/``.yml`` path;
    ``load(path) == schedule``."""
    path = Path(path)
    data = schedule.to_dict()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- any of the above ------------------------------------------------------------------------

#: File suffixes that make a string a file name rather than call syntax.
SPEC_SUFFIXES = (".json", ".yaml", ".yml")


def as_schedule(value, name: str = "schedule") -> Schedule:
    """``value`` as a schedule, for every function that takes one: a :class:`Schedule` as is,
    a dict (``from_dict``), a path (``os.PathLike``, or a string without ``(`` that names an
    existing file or ends in .json/.yaml/.yml: ``load``) or call syntax (``parse``).

    A spec that can't be built raises :class:`SpecError` (a ``ValueError``) whose message starts
    with ``name``; any other type raises ``TypeError``."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, dict):
        build = from_dict
    elif isinstance(value, os.PathLike):
        build = load
    elif isinstance(value, str):
        build = load if _names_file(value) else parse
    else:
        raise TypeError(f"{name} must be an lrdecay Schedule, a spec (call syntax such as "
                        f"'cosine_decay(0.1, 1000)', or a dict with a 'kind') or a spec file path, "
                        f"got {type(value).__name__} {_short.repr(value)}")
    try:
        return build(value)
    except SpecError as error:
        raise SpecError(f"{name}: {error}") from None


def is_spec(value) -> bool:
    """Whether ``value`` is a schedule or something :func:`as_schedule` reads as one (a dict
    only when it has a ``"kind"``)."""
    return isinstance(value, (Schedule, str, os.PathLike)) or (isinstance(value, dict) and "kind" in value)


def _names_file(text: str) -> bool:
    text = text.strip()
    if "(" in text or not text or len(text) > 4096:
        return False
    return text.lower().endswith(SPEC_SUFFIXES) or os.path.isfile(text)
