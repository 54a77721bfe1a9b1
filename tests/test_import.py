"""``import lrdecay`` is light: the schedule modules load on the first use of a public name, and
the registry always knows every kind (each check in a fresh interpreter)."""

import subprocess
import sys

import pytest


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_loads_neither_numpy_nor_the_schedule_modules():
    out = run("import sys, lrdecay\n"
              "print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('lrdecay.')))")
    assert out.strip() == "['lrdecay.core', 'lrdecay.core.kinds']", out  # the registry, without NumPy


def test_first_public_name_loads_every_kind():
    out = run("import lrdecay\n"
              "s = lrdecay.cosine_decay(0.1, 100)\n"
              "import sys\n"
              "print(s(50), 'lrdecay.schedules.cyclical' in sys.modules, 'lrdecay.training.plateau' in sys.modules, len(lrdecay.__all__) > 50)")
    assert out.split() == ["0.05", "True", "True", "True"], out


@pytest.mark.parametrize("code", [
    # a spec read through a submodule, before any public name was used
    "from lrdecay.core.spec import from_dict\nprint(from_dict({'kind': 'one_cycle', 'max_lr': 0.1, 'total_steps': 10}).kind)",
    "from lrdecay.core.spec import parse\nprint(parse('warmup(cosine_decay(0.1, 100), steps=10)').kind)",
    "from lrdecay.core.schedule import registry\nprint('cyclic' in registry() and 'warmup' in registry() and 'sgdr')",
    "from lrdecay.schedules.decay import exponential_decay\nprint((0.5 * exponential_decay(0.1, 10, 0.5)).kind)",
])
def test_the_registry_knows_every_kind_without_the_package_names(code):
    assert run(code).strip() in ("one_cycle", "warmup", "sgdr", "multiply"), code


def test_star_import_dir_and_the_cyclic_schedule():
    out = run("import lrdecay.schedules.cyclical  # the module of the cyclic schedule, imported first\n"
              "import lrdecay\n"
              "from lrdecay import *\n"
              "print(lrdecay.cyclic is lrdecay.Cyclic, callable(cosine_decay), 'warmup' in dir(lrdecay))")
    assert out.split() == ["True", "True", "True"], out


def test_unknown_names_raise_attribute_error():
    out = run("import lrdecay\n"
              "try:\n    lrdecay.no_such_schedule\nexcept AttributeError as e:\n    print(e)")
    assert "has no attribute 'no_such_schedule'" in out
