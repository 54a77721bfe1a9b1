"""The README's examples run, and its first two commands are the ones CI and users rely on."""

import re

from tests._guides import ROOT, run_markdown


def test_readme_examples_run():
    namespace = run_markdown(ROOT / "README.md")
    assert namespace["s"](25) == 0.1 * 0.8 ** 1  # staircase: floor(25 / 20) = 1


def test_readme_opens_with_the_demo_and_the_test_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```bash\n(.*?)\n```", text, flags=re.S | re.M)[:2]
    assert commands == ["pip install -e '.[demo]' && lrdecay demo", "pip install -e '.[test]' && pip install --no-deps 'timm>=1.0' && python -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
