"""Regenerate docs/api.md: every public name of lrdecay and of its framework modules, with its
signature and docstring.

    python scripts/make_api_reference.py [--out docs/api.md]

The framework modules are imported, so this needs the test extra (torch, keras, optax,
lightning, transformers): ``pip install -e '.[test]'``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Module -> one line on what it is for, in the order of the page.
MODULES = {
    "lrdecay": "schedules, composition, specs, reduce-on-plateau and importers; needs only NumPy",
    "lrdecay.torch": "PyTorch: an LR scheduler driven by a schedule, and the range test on a model",
    "lrdecay.keras": "Keras 3: a LearningRateSchedule, the plateau callback and the range test",
    "lrdecay.optax": "JAX/Optax: schedules as Optax schedules and gradient transformations",
    "lrdecay.lightning": "PyTorch Lightning: the scheduler config and a learning-rate monitor",
    "lrdecay.hf": "Hugging Face Trainer: a scheduler for the Trainer and the plateau callback",
    "lrdecay.compat.tf1": "TensorFlow 1 code: the nine tf.compat.v1.train decay functions",
    "lrdecay.finder": "the learning-rate range test and the rates it suggests",
    "lrdecay.summary": "what lrdecay check, lrdecay list and the explorer say about a schedule",
    "lrdecay.ema": "the exponential moving average of weights (tf.train.ExponentialMovingAverage)",
}

#: The top-level names grouped by the module that defines them, in this order, under these titles.
LRDECAY_GROUPS = {
    "lrdecay.schedule": "The schedule base class and the registry",
    "lrdecay.spec": "Specs: schedules as text, dicts and files",
    "lrdecay.compose": "Composition: schedules built from schedules",
    "lrdecay.simple": "Simple shapes (PyTorch's semantics)",
    "lrdecay.decay": "TensorFlow's decay family",
    "lrdecay.cosine": "TensorFlow's cosine family",
    "lrdecay.annealing": "Cosine annealing from PyTorch, Optax, Hugging Face and timm",
    "lrdecay.cyclic": "One-cycle and cyclic schedules",
    "lrdecay.transformer": "Transformer-era schedules",
    "lrdecay.anchors": "More framework schedules (timm, PyTorch SWALR, Keras, Megatron-LM)",
    "lrdecay.largescale": "Large-scale training: batch ramps, clocks and scaling rules",
    "lrdecay.noise": "timm's learning-rate noise",
    "lrdecay.replan": "Re-planning a run at a checkpoint",
    "lrdecay.plateau": "Reduce-on-plateau",
    "lrdecay.migrate": "Importers: from torch, Hugging Face, timm and Keras",
}

#: Sphinx roles in docstrings, written as Markdown code.
_ROLE = re.compile(r":(?:func|class|meth|attr|data|mod|obj|exc):`~?\.?([^`]+)`")


def markdown(text: str) -> str:
    """A docstring as Markdown: ``code`` and Sphinx roles become `code`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def signature(name: str, obj, method: bool = False) -> str:
    """``name(parameters)`` without annotations (they repeat the docstring and vary between
    Python versions), and without ``self`` for a ``method``."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return name
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    if method and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    plain = sig.replace(parameters=parameters, return_annotation=inspect.Signature.empty)
    return f"{name}{plain}"


def _doc(obj) -> str:
    return markdown(inspect.getdoc(obj) or "").strip()


def _public_members(cls) -> list[tuple[str, object]]:
    """Methods and properties defined by ``cls`` itself, with a docstring, public names only."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_") and name not in ("__call__",):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            if inspect.getdoc(value) and (value.__doc__ or "").strip():
                members.append((name, value))
    return members


def _is_schedule_kind(obj) -> bool:
    from lrdecay.schedule import Schedule

    return inspect.isclass(obj) and issubclass(obj, Schedule) and obj is not Schedule


def constant_doc(module, name: str) -> str:
    """The ``#:`` comment lines right above ``name = ...`` in ``module``'s source."""
    found = re.search(rf"((?:^#:.*\n)+)^{re.escape(name)}\b", inspect.getsource(module), flags=re.M)
    if found is None:
        return ""
    return markdown(" ".join(line.removeprefix("#:").strip() for line in found.group(1).splitlines()))


def _entry(qualified: str, obj, aliases: list[str], level: str = "###") -> list[str]:
    lines = [f"{level} `{qualified}`", ""]
    if not (inspect.isclass(obj) or callable(obj)):  # a constant
        module_name, name = qualified.rsplit(".", 1)
        doc = constant_doc(importlib.import_module(module_name), name)
        return lines + ["```text", f"{name} = {obj!r}", "```", ""] + ([doc, ""] if doc else [])
    if inspect.isclass(obj) or callable(obj):
        lines += ["```text", signature(qualified.rsplit(".", 1)[-1], obj), "```", ""]
    if aliases:
        lines += ["Also: " + ", ".join(f"`{a}`" for a in aliases) + " (the same object).", ""]
    doc = _doc(obj)
    if doc:
        lines += [doc, ""]
    if inspect.isclass(obj) and not _is_schedule_kind(obj):
        for name, member in _public_members(obj):
            if name == "__call__":
                head = "`schedule(step)`"
            elif isinstance(member, property):
                head = f"`{name}` (property)"
            else:
                head = f"`{signature(name, member, method=True)}`"
            body = "\n".join(f"  {line}" if line else "" for line in _doc(member).splitlines())
            lines += [f"- {head}: " + body.lstrip(), ""]
    return lines


def _public_names(module) -> list[str]:
    import types

    return [name for name in module.__all__ if not isinstance(getattr(module, name), types.ModuleType)]


def _anchor(module: str) -> str:
    return module.replace(".", "")


def render() -> str:
    lines = [
        "# API reference",
        "",
        "Every public name of lrdecay and of its framework modules, with its signature and docstring,",
        "generated by `python scripts/make_api_reference.py` (the checked-in page is tested to be its",
        "output). The schedule kinds' formulas side by side are in [schedules.md](schedules.md), their",
        "curves in [gallery.md](gallery.md); the guides under [guide/](guide/) show them at work.",
        "",
    ]
    lines += [f"- [`{module}`](#{_anchor(module)}): {about}" for module, about in MODULES.items()]
    lines.append("")
    for module_name, about in MODULES.items():
        module = importlib.import_module(module_name)
        lines += [f"## `{module_name}`", "", about[0].upper() + about[1:] + ".", ""]
        aliases: dict[int, list[str]] = {}
        order = []
        for name in _public_names(module):
            obj = getattr(module, name)
            if id(obj) in aliases:  # a second name for the same class (cosine_decay is CosineDecay)
                aliases[id(obj)].append(f"{module_name}.{name}")
                continue
            aliases[id(obj)] = []
            order.append((name, obj))
        if module_name != "lrdecay":
            for name, obj in order:
                lines += _entry(f"{module_name}.{name}", obj, aliases[id(obj)])
            continue
        groups = {source: [] for source in LRDECAY_GROUPS}
        for name, obj in order:
            groups.setdefault(getattr(obj, "__module__", "lrdecay"), []).append((name, obj))
        for source, members in groups.items():
            if members:
                lines += [f"### {LRDECAY_GROUPS.get(source, source)}", ""]
                for name, obj in members:
                    lines += _entry(f"lrdecay.{name}", obj, aliases[id(obj)], level="####")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "api.md")
    out = parser.parse_args().out
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
