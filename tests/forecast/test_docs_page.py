"""docs/forecast.md: its examples run as written (from a checkout's root, where data/loss-curves is),
its tables are what scripts/make_forecast_figures.py computes, its figures exist, and the SPECs it
gives for the runs of Luo et al. (ICLR 2025; data/loss-curves, MIT license) are the README's schedules."""
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from curves import schedule

import lrdecay

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "forecast.md"
sys.path.insert(0, str(ROOT / "tests"))
from _guides import run_markdown  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_forecast_figures", ROOT / "scripts" / "make_forecast_figures.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


def test_the_specs_are_the_readmes_schedules():
    for name, spec in script.SPECS.items():
        expected = schedule(name)
        np.testing.assert_allclose(lrdecay.parse(spec).curve(expected.size), expected, rtol=0, atol=1e-18, err_msg=name)


def test_the_page_gives_the_scripts_specs():
    text = PAGE.read_text(encoding="utf-8")
    for name in ("cosine_24000", "constant_24000", "wsdcon_9", "cosine_72000"):
        inner = script.SPECS[name].replace(script.WARMUP, "{WARMUP}")
        assert script.SPECS[name] in text or inner in text, name


def test_the_pages_examples_run(tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(ROOT / "data")  # the page's paths are relative to a checkout
    monkeypatch.chdir(tmp_path)
    namespace = run_markdown(PAGE)
    assert (tmp_path / "law.json").is_file() and namespace["plans"][0].name == "optimized"


def test_the_pages_figures_exist():
    figures = re.findall(r"!\[[^\]]*\]\((forecast/[^)]+)\)", PAGE.read_text(encoding="utf-8"))
    assert {Path(f).name for f in figures} == {"held-out-25M.png", "held-out-100M.png", "extrapolation.png", "plan-25M.png"}
    for figure in figures:
        assert (ROOT / "docs" / figure).stat().st_size > 10_000, figure


@pytest.fixture(scope="module")
def tables():
    return script.tables(script.compute())


@pytest.mark.parametrize("name", ["held-out", "parameters", "per-run", "extrapolation", "plan"])
def test_the_pages_tables_are_the_scripts(tables, name):
    """Every number of the page's tables, as the script rounds it (python scripts/make_forecast_figures.py
    prints them)."""
    assert f"<!-- {name} -->\n{tables[name]}\n" in PAGE.read_text(encoding="utf-8"), \
        f"docs/forecast.md's {name} table is not the script's:\n{tables[name]}"
