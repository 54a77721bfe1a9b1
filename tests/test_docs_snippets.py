"""Every Python example in the README and docs either runs as written or is marked as a fragment.

A ```python block is a complete example: the blocks of a page run in order in one namespace
(tests/_guides.py). A ```python fragment block is a piece of a larger program and is only
compiled. Pages whose examples need a framework are run by that framework's tests (RUN_BY, checked
below); every other page is run here, so a new page is covered without a new test."""

import re

import pytest
from _guides import ROOT, run_markdown

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
OPENING = re.compile(r"^```python(.*)$", re.M)
FRAGMENT = re.compile(r"^```python fragment\n(.*?)^```", re.S | re.M)

#: page -> (test module, the text in it that runs the page)
RUN_BY = {
    "README.md": ("test_readme.py", '"README.md"'),
    "docs/finder.md": ("test_finder_guide.py", '"finder.md"'),
    "docs/forecast.md": ("forecast/test_docs_page.py", '"forecast.md"'),
    "docs/internals.md": ("test_fast_paths.py", '"internals.md"'),
    "docs/guide/jax.md": ("test_optax_adapter.py", 'run_guide("jax")'),
    "docs/guide/keras.md": ("test_keras_adapter.py", 'run_guide("keras")'),
    "docs/guide/large-scale.md": ("test_largescale.py", 'run_guide("large-scale")'),
    "docs/guide/pytorch.md": ("test_torch_adapter.py", 'run_guide("pytorch")'),
    "docs/guide/tensorflow1.md": ("test_tf1.py", 'run_guide("tensorflow1")'),
    "docs/guide/trainers.md": ("test_lightning.py", 'run_guide("trainers")'),
}


def _name(page) -> str:
    return page.relative_to(ROOT).as_posix()


def _has_examples(page) -> bool:
    return any(info == "" for info in OPENING.findall(page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_python_blocks_are_examples_or_marked_fragments(page):
    text = page.read_text(encoding="utf-8")
    for info in OPENING.findall(text):
        assert info in ("", " fragment"), f"{_name(page)}: ```python{info} (write ```python or ```python fragment)"
    for number, block in enumerate(FRAGMENT.findall(text), 1):
        compile(block, f"{_name(page)} (fragment {number})", "exec")  # valid Python, not run


def test_pages_run_elsewhere_are_run_there():
    for page, (module, call) in RUN_BY.items():
        assert (ROOT / page).is_file(), page
        assert call in (ROOT / "tests" / module).read_text(encoding="utf-8"), f"{module} does not run {page}"


OTHERS = [page for page in PAGES if _name(page) not in RUN_BY and _has_examples(page)]


def test_the_pages_run_here_are_the_expected_ones():
    assert {_name(page) for page in OTHERS} >= {"docs/composition.md", "docs/ema.md", "docs/plateau.md",
                                                  "docs/tensorflow.md", "docs/gallery.md"}


@pytest.mark.parametrize("page", OTHERS, ids=_name)
def test_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files (lr.yaml) write them here
    run_markdown(page)
