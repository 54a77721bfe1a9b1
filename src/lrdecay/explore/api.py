"""What the explorer page asks the library, as JSON-able data: read a spec (call syntax, JSON or
YAML), the curve of schedules over a window of steps, the warnings of ``lrdecay check``, the
schedule kinds with their parameters, and the spec rewritten as text, YAML, JSON and code.

No HTTP here (see :mod:`lrdecay.explore.server`) and no formula: values are the schedules' own,
and the check is the one ``lrdecay check`` runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np

from lrdecay.core.schedule import Schedule, _repr, registry
from lrdecay.core.spec import SpecError, _load_yaml, from_dict, parse
from lrdecay.explore.snippets import snippets
from lrdecay.tools.summary import MAX_STEP, default_steps, formula, summarize

__all__ = ["MAX_POINTS", "read_spec", "spec_error", "training_steps", "grid", "values", "check", "describe", "kinds"]

#: Most points of a curve one request may ask for (per schedule).
MAX_POINTS = 4000

_POSITION = re.compile(r"line (\d+), column (\d+)")
_YAML_START = re.compile(r"^\s*(#.*\n\s*)*[\w-]+\s*:", re.M)


def read_spec(text: str) -> Schedule:
    """A schedule from call syntax, JSON (text starting with ``{``) or YAML (``kind: ...``).

    Raises only :class:`SpecError`, whose message starts with where the problem is."""
    if not isinstance(text, str):
        raise SpecError(f"a spec must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise SpecError("line 1, column 1: the spec is empty (write e.g. cosine_decay(0.1, 1000))")
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except RecursionError:
            raise SpecError("JSON: nested too deeply") from None
        except json.JSONDecodeError as error:
            raise SpecError(f"line {error.lineno}, column {error.colno}: invalid JSON ({error.msg})") from None
        except ValueError as error:  # an integer with too many digits
            raise SpecError(f"JSON: {error}") from None
        return from_dict(data)
    if _YAML_START.match(text) and "(" not in text.split(":", 1)[0]:
        data = _load_yaml("YAML", text)
        return parse(data) if isinstance(data, str) else from_dict(data)
    return parse(text)


def spec_error(error: SpecError) -> dict:
    """The parser's message and, when it names one, the position (1-based line and column)."""
    message = str(error)
    found = _POSITION.search(message)
    line, column = (int(found.group(1)), int(found.group(2))) if found else (None, None)
    return {"message": message, "line": line, "column": column}


def training_steps(schedules: list[Schedule], steps: int | None) -> int:
    """The training length: ``steps`` when given, else what ``lrdecay show`` would take."""
    if steps is None:
        return min(default_steps(schedules), MAX_STEP)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEP:
        raise ValueError(f"steps must be a whole number from 1 to 2**53, got {steps!r}")
    return steps


def grid(start: int, stop: int, points: int) -> np.ndarray:
    """Whole steps from ``start`` to ``stop`` (both included): all of them when there are at most
    ``points``, else ``points`` of them evenly spaced."""
    if stop - start + 1 <= points:
        return np.arange(start, stop + 1, dtype=np.int64)
    return np.unique(np.linspace(start, stop, points).round().astype(np.int64))


def values(schedule: Schedule, steps: np.ndarray) -> list:
    """The schedule's values at ``steps`` (None where not finite)."""
    y = np.asarray(schedule(steps), dtype=np.float64)
    return [v if math.isfinite(v) else None for v in y.tolist()]


def check(schedule: Schedule, steps: int) -> dict:
    """``lrdecay check``'s summary and warnings over ``steps`` steps (JSON-able)."""
    summary, warnings = summarize(schedule, steps)
    summary = {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in summary.items()}
    return {"summary": summary, "warnings": warnings}


def describe(schedule: Schedule) -> dict:
    """The spec written out: call syntax, JSON, YAML, and code for PyTorch, Keras and Optax."""
    import yaml

    data = schedule.to_dict()
    return {
        "text": repr(schedule),
        "json": json.dumps(data, indent=2),
        "yaml": yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False),  # C: faster
        "duration": schedule.duration,
        "code": snippets(schedule),
    }


def kinds() -> list[dict]:
    """Every schedule kind, for the page's form: a summary, the framework function it matches,
    an example and its parameters (name, input type, the example's value as spec text, the
    default as spec text or None when required)."""
    from lrdecay.report.gallery import example

    rows = []
    for name, cls in registry().items():
        instance = example(name)
        values = instance.params() if instance is not None and instance.kind == name else {}
        fields = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = dataclasses.MISSING
            value = values.get(f.name, None if default is dataclasses.MISSING else default)
            fields.append({
                "name": f.name,
                "input": _input_type(str(f.type), value),
                "optional": "None" in str(f.type),
                "value": None if value is None and default is dataclasses.MISSING else _repr(value),
                "default": None if default is dataclasses.MISSING else _repr(default),
            })
        rows.append({
            "kind": name,
            "matches": cls.matches,
            "summary": formula(cls),
            "example": repr(instance) if instance is not None else None,
            "fields": fields,
        })
    return rows


def _input_type(annotation: str, value) -> str:
    if "Schedule" in annotation and not isinstance(value, (int, float)):
        return "schedule"
    if annotation == "bool":
        return "bool"
    if annotation == "str":
        return "text"
    if annotation == "tuple":
        return "list"
    if annotation.startswith("int") and "float" not in annotation:
        return "integer"
    return "number"
