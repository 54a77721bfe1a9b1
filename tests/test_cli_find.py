"""`lrdecay find`, run for real in a subprocess: the range test on the demo's digits network,
its table, JSON, plot and saved result, and one-line errors that name the option."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import lrdecay
from lrdecay.finder import RangeTestResult
from lrdecay.report import digits, finder_demo


def run(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "lrdecay", "find", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


def test_find_prints_suggestions_and_schedules_and_writes_plot_and_json(tmp_path):
    result = run("--steps", 60, "--seed", 1, "-o", tmp_path / "range.png", "--save", tmp_path / "range.json",
                 "--total-steps", 500)
    assert result.returncode == 0, result.stderr
    saved = RangeTestResult.from_dict(json.loads((tmp_path / "range.json").read_text()))
    # the same test as the library call on the same data and seed
    expected = finder_demo.find(digits.load_data(), 1, num_steps=60, progress=False)
    assert saved == expected and saved.suggestions == expected.suggestions
    out = result.stdout
    assert f"steepest      {expected.suggestions['steepest']:.4g}" in out
    assert f"minimum / 10  {expected.suggestions['minimum']:.4g}" in out
    assert f"one_cycle (500 steps): {expected.to_schedule('one_cycle', total_steps=500)!r}" in out
    assert "warmup_cosine (500 steps): warmup_cosine_decay(" in out
    assert f"lrdecay: wrote {tmp_path / 'range.png'}" in result.stderr
    with Image.open(tmp_path / "range.png") as image:
        assert image.format == "PNG" and np.asarray(image.convert("L")).std() > 5
    assert "range test" not in result.stderr  # no progress bar when stderr is not a terminal


def test_find_json_on_stdout():
    result = run("--steps", 30, "--mode", "linear", "--start", 1e-3, "--end", 3, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["num_steps"] == 30 and len(data["rates"]) == len(data["losses"])
    np.testing.assert_allclose(data["rates"][: len(data["losses"])], np.linspace(1e-3, 3, 30)[: len(data["losses"])],
                               rtol=1e-14)
    assert data["stopped"] in ("completed", "diverged", "non-finite")
    if data["suggestion"] is not None:
        assert lrdecay.parse(data["schedules"]["one_cycle"]).max_lr == data["suggestion"]


@pytest.mark.parametrize("args, message", [
    (["--start", 1, "--end", 0.1], "--end must be > --start, got --start=1.0 and --end=0.1"),
    (["--steps", 1], "--steps must be >= 2, got 1"),
    (["--smooth", 0], "--smooth must be > 0.0, got 0.0"),
    (["--diverge", 1], "--diverge must be a number > 1"),
    (["--start", 0], "--start must be > 0, got 0.0"),
    (["--total-steps", 1], "--total-steps must be >= 2, got 1"),
    (["-o", "range.jpg"], "--output must end with .png, .svg, .pdf, got 'range.jpg'"),
])
def test_find_errors_are_one_line_with_status_2(args, message, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"lrdecay: error: {message}") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_find_is_listed_and_documents_its_options():
    listing = subprocess.run([sys.executable, "-m", "lrdecay", "--help"], capture_output=True, text=True, timeout=60)
    assert "find" in listing.stdout.split()
    result = run("--help")
    assert result.returncode == 0
    for option in ("--start", "--end", "--steps", "--mode", "--smooth", "--diverge", "--seed", "--total-steps",
                   "--output", "--save", "--format", "--progress"):
        assert option in result.stdout, option


def test_the_default_demo_problem_is_one_where_the_rules_agree():
    result = run("--no-progress")
    assert result.returncode == 0, result.stderr
    assert "range test: 300 of 300 steps" in result.stdout
    spread = float(result.stdout.split("the rules are ")[1].split(" decades")[0])
    assert spread < 1.0, result.stdout  # within a decade: no warning to look at the plot
    assert "note:" not in result.stdout


def test_a_short_sweep_says_why_its_rules_disagree():
    result = run("--steps", 100)  # the rules are 1.9 decades apart on this noisier curve
    assert result.returncode == 0, result.stderr
    assert "note: the rules disagree by 1.9 decades: the loss curve has no single clear descent" in " ".join(
        result.stdout.split())
