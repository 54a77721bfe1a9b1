"""User-facing text names its sources in words a reader understands: the README, every docs page,
every command's --help and `lrdecay list` never call the blog posts on TensorFlow's learning-rate
decay (that the demo reproduces) "the seed(s)". A random-number seed is fine where it is one
(`--seed`, `seed=0`, "random seed"). The generated report is checked in tests/test_report.py."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
COMMANDS = ("list", "show", "plot", "check", "simulate", "demo", "find", "explore", "forecast fit",
            "forecast predict", "forecast plan")

#: "seed" as a word, except as an option or parameter name (--seed, noise_seed, seed=0, `seed`)
SEED = re.compile(r"(?<![-_`])\bseeds?\b(?![_=`])", re.I)
#: where "seed" is a random-number seed
RANDOM_SEED = re.compile(r"(random|dropout|default) seeds?|seeds? states|seeds? (is|of|=) ?\d", re.I)


def jargon(text: str) -> list[str]:
    """Each use of "seed" that is not a random-number seed, with some context."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # code blocks: code, not prose
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code
    found = []
    for match in SEED.finditer(text):
        context = text[max(0, match.start() - 40): match.end() + 40]
        if not RANDOM_SEED.search(text[max(0, match.start() - 8): match.end() + 7]):
            found.append(" ".join(context.split()))
    return found


def cli(*args) -> str:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "lrdecay", *args], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_the_detector_finds_jargon_and_spares_random_seeds():
    assert jargon("the seeds' decay figures") and jargon("The seed writes") and jargon("Seed 000 calls it")
    assert jargon("as the seed articles show")
    assert not jargon("--seed N  Random seed of the initial weights; noise_seed; seed=0; `seed`")
    assert not jargon("dropout seed states\n```python\nseed = 1  # the seed\n```")
    assert not jargon("timm's default seed is 42") and not jargon("a seed of 0")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_pages_name_their_sources(page):
    assert jargon(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("command", (None, *COMMANDS))
def test_help_names_its_sources(command):
    assert jargon(cli(*(command.split() if command else []), "--help")) == []


def test_list_names_its_sources():
    assert jargon(cli("list")) == []
    assert jargon(cli("list", "--format", "json")) == []
