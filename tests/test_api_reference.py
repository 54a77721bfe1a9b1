"""docs/api.md: the checked-in page is scripts/make_api_reference.py's output, and it covers every
public name of lrdecay and of its framework modules."""

import importlib
import importlib.util
import re
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_api_reference", ROOT / "scripts" / "make_api_reference.py")
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)


@pytest.fixture(scope="module")
def page():
    return api.render()


def test_checked_in_page_is_the_generated_one(page):
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == page, "run python scripts/make_api_reference.py"


def test_every_public_name_is_documented(page):
    assert set(api.MODULES) == {"lrdecay", "lrdecay.torch", "lrdecay.keras", "lrdecay.optax", "lrdecay.finder",
                                "lrdecay.summary", "lrdecay.compat.tf1", "lrdecay.lightning", "lrdecay.hf",
                                "lrdecay.ema"}
    headings = set(re.findall(r"^#+ `([\w.]+)`$", page, flags=re.M))
    aliases = set(re.findall(r"`([\w.]+)`", " ".join(re.findall(r"^Also: .*$", page, flags=re.M))))
    for module_name in api.MODULES:
        module = importlib.import_module(module_name)
        assert f"## `{module_name}`" in page
        for name in module.__all__:
            if isinstance(getattr(module, name), types.ModuleType):
                assert module_name == "lrdecay" and f"lrdecay.{name}" in api.MODULES, name
                continue
            qualified = f"{module_name}.{name}"
            assert qualified in headings | aliases, qualified


def test_every_entry_has_a_description(page):
    entries = re.split(r"^#+ `[\w.]+`$", page, flags=re.M)[1:]
    for entry in entries:
        prose = re.sub(r"```text\n.*?```", "", entry, flags=re.S)
        prose = re.sub(r"^Also: .*$", "", prose, flags=re.M)
        assert prose.split("\n## ")[0].strip(), entry[:200]


def test_docstring_markup_becomes_markdown(page):
    prose = re.sub(r"^```.*?^```", "", page, flags=re.S | re.M)
    for leftover in ("``", ":func:", ":class:", ":meth:", ":data:", ":attr:"):
        assert leftover not in prose, leftover
    assert api.markdown("see :func:`~lrdecay.parse` and ``x + 1``") == "see `lrdecay.parse` and `x + 1`"
    assert api.signature("f", lambda self, a, b=2, *, c=None: 0, method=True) == "f(a, b=2, *, c=None)"
