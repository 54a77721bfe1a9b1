"""The `lrdecay` command, run for real in a subprocess: exit codes, output formats, errors."""

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
import torch

import lrdecay

SCRIPT = shutil.which("lrdecay", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "lrdecay"]
ROW = re.compile(r"^\W*(\d+)\W+([-+0-9.eE]+)\W*$")


def run(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def ok(*args, **kwargs):
    result = run(*args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


def exact_exponential(lr, decay_steps, rate, step):
    """TensorFlow's exponential_decay, in 50-digit arithmetic."""
    with mpmath.workdps(50):
        return float(mpmath.mpf(lr) * mpmath.mpf(rate) ** (mpmath.mpf(step) / decay_steps))


def table_rows(text):
    rows = [ROW.match(line) for line in text.splitlines()]
    return [(int(m[1]), float(m[2])) for m in rows if m]


def test_show_prints_the_tensorflow_example_table():
    # The TensorFlow example of the blog posts the demo reproduces: exponential_decay(0.1, global_step, 20, 0.8), steps 0..20.
    out = ok("show", "exponential_decay(0.1, 20, 0.8)", "--steps", "21").stdout
    rows = table_rows(out)
    assert [step for step, _ in rows] == list(range(21))
    for step, value in rows:
        assert value == pytest.approx(exact_exponential("0.1", 20, "0.8", step), rel=1e-9), step
    assert rows[20][1] == pytest.approx(0.08, rel=1e-12)


def test_show_csv_and_json_give_full_precision():
    spec = "exponential_decay(0.1, 20, 0.8, staircase=True)"
    reader = csv.reader(io.StringIO(ok("show", spec, "--steps", "50", "--format", "csv").stdout))
    assert next(reader) == ["step", "value"]
    rows = [(int(s), float(v)) for s, v in reader]
    assert [s for s, _ in rows] == list(range(50))
    for step, value in rows:
        assert value == pytest.approx(exact_exponential("0.1", 1, "0.8", step // 20), rel=1e-15)
    data = json.loads(ok("show", spec, "--steps", "50", "-f", "json").stdout)
    assert data["steps"] == list(range(50))
    assert data["values"] == [v for _, v in rows]
    assert lrdecay.parse(data["schedule"]) == lrdecay.parse(spec)


def test_show_at_and_every():
    spec = "exponential_decay(0.1, 20, 0.8)"
    data = json.loads(ok("show", spec, "--at", "0,10,100,12345", "-f", "json").stdout)
    assert data["steps"] == [0, 10, 100, 12345]
    assert data["values"] == pytest.approx([exact_exponential("0.1", 20, "0.8", s) for s in data["steps"]], rel=1e-14)
    data = json.loads(ok("show", spec, "--steps", "100", "--every", "25", "-f", "json").stdout)
    assert data["steps"] == [0, 25, 50, 75]
    rows = table_rows(ok("show", spec, "--steps", "11", "--every", "5").stdout)
    assert [s for s, _ in rows] == [0, 5, 10]


def test_show_thins_long_tables_and_says_so():
    result = ok("show", "cosine_decay(0.1, 10000)")
    steps = [s for s, _ in table_rows(result.stdout)]
    assert steps[0] == 0 and steps[-1] == 10000 and 20 < len(steps) < 100
    assert "--every 1" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["show", "exponential_decay(0.1, 0, 0.8)"],  # bad value
        ["show", "exponential_deca(0.1, 20, 0.8)"],  # unknown kind
        ["show", "exponential_decay(0.1, 20, 0.8"],  # syntax
        ["show", "exponential_decay(0.1, 20, 0.8, foo=1)"],  # unknown parameter
        ["show", "__import__('os').system('echo hi')"],  # never evaluated
        ["show", "missing.json"],  # no such file
        ["plot", "constant(0.1)", "cosine_decay(0.1)", "-o", "x.png"],  # second SPEC missing a parameter
        ["check", "warmup(constant(0.1), steps=-5)"],
        ["simulate", "constant(0.1", "metrics.txt"],
        ["show", "constant(0.1)", "--at", "1,x"],
        ["show", "constant(0.1)", "--at", "1", "--every", "2"],
        ["plot", "constant(0.1)", "-o", "out.jpg"],
        ["list", "no_such_kind"],
    ],
)
def test_errors_are_one_line_with_status_2(args, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lrdecay: error:")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not list(tmp_path.iterdir())


def test_bad_spec_says_where():
    spec = "warmup(cosine_decay(0.1, -3), steps=10)"
    line = run("show", spec).stderr
    column = int(re.search(r"column (\d+)", line)[1])
    assert spec[column - 1:].startswith(("cosine_decay", "-3")), line  # the call or the bad value
    assert "decay_steps" in line and "-3" in line
    line = run("show", "exponential_deca(0.1, 20, 0.8)").stderr
    assert "did you mean 'exponential_decay'" in line


def test_bad_file_spec_names_the_file(tmp_path):
    (tmp_path / "bad.json").write_text('{"kind": "exponential_decay", "learning_rate": 0.1}')
    result = run("show", tmp_path / "bad.json")
    assert result.returncode == 2 and "bad.json" in result.stderr and "decay_steps" in result.stderr


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_spec_files(tmp_path, suffix):
    schedule = lrdecay.parse("warmup(exponential_decay(0.1, 20, 0.8), steps=5)")
    path = tmp_path / f"spec{suffix}"
    lrdecay.dump(schedule, path)
    data = json.loads(ok("show", path, "--steps", "30", "-f", "json").stdout)
    assert lrdecay.parse(data["schedule"]) == schedule
    for step, value in zip(data["steps"], data["values"]):
        expected = 0.1 * step / 5 if step < 5 else exact_exponential("0.1", 20, "0.8", step - 5)
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_list_shows_every_kind_with_parameters_and_matches():
    kinds = lrdecay.registry()
    rows = json.loads(ok("list", "--format", "json").stdout)
    assert [row["kind"] for row in rows] == list(kinds)
    by_kind = {row["kind"]: row for row in rows}
    assert by_kind["exponential_decay"]["parameters"] == "learning_rate, decay_steps, decay_rate, staircase=False"
    assert "tf.compat.v1.train.exponential_decay" in by_kind["exponential_decay"]["matches"]
    for kind, row in by_kind.items():
        assert row["matches"] == kinds[kind].matches
        assert row["example"], f"{kind} has no example"
        assert lrdecay.parse(row["example"]).kind == kind
    table = ok("list").stdout
    for kind in kinds:
        assert kind in table
    detail = ok("list", "cosine_decay").stdout
    assert "decay_steps" in detail and "alpha=0.0" in detail


def test_check_summary():
    data = json.loads(ok("check", "cosine_decay(0.1, 100, alpha=0.1)", "--steps", "101", "-f", "json").stdout)
    assert data["start"] == pytest.approx(0.1) and data["peak_step"] == 0
    assert data["end"] == pytest.approx(0.01) and data["minimum_step"] == 100
    assert data["duration"] == 100 and data["warnings"] == []
    text = ok("check", "cosine_decay(0.1, 100, alpha=0.1)", "--steps", "101").stdout
    assert "no likely mistakes" in text and "warning" not in text


@pytest.mark.parametrize(
    "spec, steps, expected",
    [
        ("cosine_decay(0.1, 90)", 10_000, "it is over at 0.9% of training (epochs given where steps are counted?)"),
        ("warmup(cosine_decay(0.1, 1000), steps=2000)", 1500, "warm-up steps=2000"),
        ("warmup_cosine_decay(0.0, 0.1, warmup_steps=500, decay_steps=1000)", 400, "warm-up warmup_steps=500"),
        ("polynomial_decay(0.01, 100, end_learning_rate=0.1)", 100, "above its start"),
        ("piecewise_constant([100, 2000], [0.1, 0.01, 0.001])", 1000, "boundaries 2000"),
        ("multistep_decay(0.1, milestones=[50, 500])", 200, "milestones 500"),
        ("one_cycle(0.1, 10000)", 1000, "cut off at 10%"),
    ],
)
def test_check_warns_about_likely_mistakes(spec, steps, expected):
    result = ok("check", spec, "--steps", steps)
    assert expected in " ".join(result.stdout.split())
    data = json.loads(ok("check", spec, "--steps", steps, "-f", "json").stdout)
    assert any(expected in w for w in data["warnings"])
    assert run("check", spec, "--steps", steps, "--strict").returncode == 1


@pytest.mark.parametrize("spec, steps, expected", [
    # more than 1% (and one step) apart: the same rule as the Lightning and Hugging Face warnings
    ("cosine_decay(0.1, 1000)", 1050, "stops changing at step 1000 but training makes 1050 optimizer steps: "
                                      "it is over at 95.2% of training"),
    ("one_cycle(0.1, 1000)", 989, "runs for 1000 steps but training makes 989 optimizer steps: it is cut off at 98.9%"),
    ("warmup(cosine_decay(0.1, 900), steps=100)", 500, "runs for 1000 steps but training makes 500"),
    ("cosine_decay(0.1, 1000)", 1005, None),  # 0.5%
    ("cosine_decay(0.1, 1000)", 995, None),
    ("cosine_decay(0.1, 10)", 11, None),  # one step: ends on the last update
    ("cosine_decay(0.1, 10)", 9, None),
    ("warmup(constant(0.1), steps=100)", 1000, None),  # ends early at its peak, by design
    ("exponential_decay(0.1, 100, 0.5)", 1000, None),  # never stops changing
])
def test_check_reports_a_horizon_mismatch_in_table_and_json(spec, steps, expected):
    data = json.loads(ok("check", spec, "--steps", steps, "-f", "json").stdout)
    text = " ".join(ok("check", spec, "--steps", steps).stdout.split())
    mismatches = [w for w in data["warnings"] if "optimizer steps" in w]
    if expected is None:
        assert mismatches == [] and "optimizer steps" not in text
        return
    assert len(mismatches) == 1 and expected in mismatches[0]
    assert f"build the schedule over {steps} steps, or give the run's real length as --steps" in mismatches[0]
    assert "warning: " + mismatches[0] in text


def test_simulate_matches_torch_reduce_on_plateau(tmp_path):
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.85, 0.8, 0.8, 0.79, 0.8]
    (tmp_path / "metrics.csv").write_text("epoch,val_loss\n" + "".join(f"{i},{m}\n" for i, m in enumerate(metrics)))
    out = ok("simulate", "constant(0.1)", tmp_path / "metrics.csv", "--column", "val_loss",
             "--steps-per-metric", "10", "--patience", "2", "--factor", "0.5", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    assert len(rows) == len(metrics)
    for i, (row, metric) in enumerate(zip(rows, metrics)):
        scheduler.step(metric)
        assert int(row["step"]) == 10 * (i + 1)
        assert float(row["metric"]) == metric
        assert float(row["lr"]) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-15)
    assert {float(r["lr"]) for r in rows} == {0.1, 0.05, 0.025}  # the trace made it reduce twice
    plain = tmp_path / "metrics.txt"
    plain.write_text("\n".join(map(str, metrics)))
    table = ok("simulate", "constant(0.1)", plain, "-k", "10", "--patience", "2", "--factor", "0.5").stdout
    assert "0.025" in table


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "lrdecay", "show", "constant(0.5)", "--steps", "2", "-f", "csv"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.splitlines() == ["step,value", "0,0.5", "1,0.5"]


def test_help_lists_the_commands():
    out = ok("--help").stdout
    for command in ("list", "show", "plot", "check", "simulate", "demo"):
        assert command in out


def test_import_lrdecay_stays_light():
    code = "import sys, lrdecay; print([m for m in ('matplotlib', 'typer', 'rich', 'plotext', 'yaml', 'tqdm', 'sklearn') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


# -- no traceback, bounded memory ------------------------------------------------------------


def run_limited(*args, cwd=None, memory=3 * 2**30):
    """``run`` with the address space capped: a command that tried to build a 10**12-step
    array would fail with a MemoryError traceback instead of printing its one-line error."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=env, preexec_fn=cap)


@pytest.mark.parametrize("args, words", [
    (["show", "cosine_decay(0.1, 100)", "--steps", "1000000000000", "--format", "json"], "larger --every"),
    (["show", "cosine_decay(0.1, 100)", "--steps", "1000000000000", "--format", "csv", "--every", "2"], "rows"),
    (["simulate", "cosine_decay(0.1, 100)", "metrics.txt", "--steps-per-metric", "1000000000000"],
     "--steps-per-metric 1000000000000 with 3 metrics"),
    (["plot", "cosine_decay(0.1, 100)", "--width", "-1"], "--width must be a positive number, got -1"),
    (["plot", "cosine_decay(0.1, 100)", "--height", "nan"], "--height must be a positive number"),
    (["plot", "cosine_decay(0.1, 100)", "-t", "--width", "5000"], "--width in the terminal must be between"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.png", "--dpi", "0"], "--dpi must be between 10 and 2000, got 0"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.png", "--dpi", "100000"], "--dpi must be between"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.png", "--dpi", "1"], "--dpi must be between"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.png", "--dpi", "2000", "--width", "100"], "pixels, more than 40 million"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.png", "--width", "1e6"], "--width of an image file must be between"),
    (["plot", "cosine_decay(0.1, 100)", "-o", "out.pdf", "--height", "0.0001"], "--height of an image file"),
])
def test_huge_or_bad_sizes_are_one_line_errors(args, words, tmp_path):
    (tmp_path / "metrics.txt").write_text("1.0\n0.9\n0.8\n")
    result = run_limited(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("lrdecay: error:"), result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.txt"]


def test_show_large_steps_with_a_stride_still_works():
    data = json.loads(ok("show", "cosine_decay(0.1, 100)", "--steps", "1000000000000", "--every", "10000000",
                         "-f", "json").stdout)
    assert len(data["steps"]) == 100_000 and data["values"][-1] == 0.0


def test_disallowed_call_says_what_is_allowed():
    result = run("show", "__import__('os').system('echo hi')")
    assert result.returncode == 2 and "hi" not in result.stdout
    assert ".system() can't be called" in result.stderr
    assert "schedule kinds" in result.stderr and "lrdecay list" in result.stderr and ".clip(), .shift()" in result.stderr


def test_file_errors_name_the_file_once(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(" " * 2_000_000)
    missing = tmp_path / "missing.yaml"
    for path, words in ((big, "file is larger than"), (missing, "cannot read")):
        result = run("show", path)
        assert result.returncode == 2 and words in result.stderr
        assert result.stderr.count(path.name) == 1, result.stderr


@pytest.mark.parametrize("spec", ["constant(0.1)", "warmup(constant(0.1), steps=100)",
                                  "warmup(linear(0.0, 0.1, 200), steps=10)"])
def test_check_a_schedule_that_ends_at_a_constant_by_design_is_fine(spec):
    data = json.loads(ok("check", spec, "--steps", "1000", "-f", "json").stdout)
    assert data["warnings"] == []
    assert run("check", spec, "--steps", "1000", "--strict").returncode == 0


@pytest.mark.parametrize("spec, key, value, step", [
    # a one-step peak (TensorFlow's piecewise_constant: 0.5 for 3 < step <= 4), a minimum
    # reached at step 999999, a clipped minimum first reached where 0.05 (1 + cos(pi t / 1000))
    # falls below 0.02: a sample of 10**6 of 10**12 steps misses each of them
    ("piecewise_constant([3, 4], [0.1, 0.5, 0.1])", "peak", 0.5, 4),
    ("cosine_decay(0.1, 999999, alpha=0.0)", "minimum", 0.0, 999_999),
    ("cosine_decay(0.1, 1000).clip(min=0.02)", "minimum", 0.02, math.ceil(1000 * math.acos(-0.6) / math.pi)),
])
def test_check_finds_extrema_exactly_with_huge_steps(spec, key, value, step):
    data = json.loads(ok("check", spec, "--steps", "1000000000000", "-f", "json").stdout)
    assert data["sampled"] is False
    assert data[key] == value and data[f"{key}_step"] == step
    assert data["end"] == lrdecay.parse(spec)(10**12 - 1)


def test_check_says_when_extrema_are_sampled():
    spec = "cosine_decay_restarts(0.1, 1000)"  # never stops changing: 10**12 steps are sampled
    data = json.loads(ok("check", spec, "--steps", "1000000000000", "-f", "json").stdout)
    assert data["sampled"] is True
    text = " ".join(ok("check", spec, "--steps", "1000000000000").stdout.split())
    assert "first at step" in text and "(of 1000000 sampled steps)" in text


def test_help_and_missing_matplotlib_hint(tmp_path):
    assert "pip install 'lrdecay[plot]'" in " ".join(ok("--help").stdout.split())
    code = ("import sys; sys.modules['matplotlib'] = None; from lrdecay.cli import main; "
            "main(['plot', 'constant(0.1)', '-o', 'out.png'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "lrdecay: error: writing .png files needs matplotlib: pip install 'lrdecay[plot]' (or draw in the terminal with -t)"]


@pytest.mark.parametrize("eps", ["1e-8", "0"])
def test_simulate_reaches_torch_eps(tmp_path, eps):
    metrics = [1.0] * 30  # flat: a reduction every other metric until the lr is within eps
    (tmp_path / "m.txt").write_text("\n".join(map(str, metrics)))
    out = ok("simulate", "constant(3e-7)", tmp_path / "m.txt", "--factor", "0.3", "--patience", "0",
             "--cooldown", "1", "--eps", eps, "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3e-7)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=0, cooldown=1,
                                                           eps=float(eps))
    for row, metric in zip(rows, metrics):
        scheduler.step(metric)
        assert float(row["lr"]) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
    assert (float(rows[-1]["lr"]) > 1e-9) == (eps == "1e-8")  # eps stopped it, or it went on


COMMANDS = ("list", "show", "plot", "check", "simulate", "demo", "find", "explore", "forecast fit",
            "forecast predict", "forecast plan")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_plain_and_every_option_explained(command):
    text = ok(*command.split(), "--help").stdout
    # no Python type names, no {required} braces, no Sphinx or Markdown markup
    for markup in ("<", ">", "{", "}", "list[", ":func:", ":class:", "``", "`"):
        assert markup not in text, (markup, text)
    options = text.split("Options:", 1)[1]
    records = re.split(r"\n  (?=-)", "\n" + options)
    for record in records[1:]:
        head, _, rest = record.partition("  ")
        help_text = re.sub(r"\[default: [^\]]*\]", "", " ".join(rest.split())).strip()
        assert help_text, f"{command} {head.strip()} has no help text"
        assert help_text.count("[default:") <= 1


def test_top_level_help_is_plain():
    text = ok("--help").stdout
    for markup in ("<", "{", "list[", ":func:", ":class:", "``"):
        assert markup not in text, markup


def test_list_word_finds_every_kind_containing_it():
    rows = json.loads(ok("list", "cosine", "-f", "json").stdout)
    assert {row["kind"] for row in rows} == {kind for kind in lrdecay.registry() if "cosine" in kind}
    assert len(rows) >= 8
    table = ok("list", "cosine").stdout
    assert f"{len(rows)} schedule kinds containing 'cosine'" in table
    for row in rows:
        assert row["kind"] in table
    # an exact name shows that kind in detail, then the others that contain it
    detail = ok("list", "cosine_decay").stdout
    assert detail.splitlines()[0].split() == ["kind", "cosine_decay"]
    assert "more schedule kinds containing 'cosine_decay'" in detail and "warmup_cosine_decay" in detail
    rows = json.loads(ok("list", "cosine_decay", "-f", "json").stdout)
    assert rows[0]["kind"] == "cosine_decay" and "cosine_decay_restarts" in {r["kind"] for r in rows}
    rows = json.loads(ok("list", "one-cycle", "-f", "json").stdout)  # underscores and dashes aside
    assert {row["kind"] for row in rows} == {"one_cycle", "one_cycle_momentum", "cosine_onecycle", "linear_onecycle"}
    assert rows[0]["kind"] == "one_cycle"
    result = run("list", "cosinus")
    assert result.returncode == 2 and "no schedule kind contains 'cosinus'" in result.stderr


def test_list_prints_plain_text():
    for row in json.loads(ok("list", "--format", "json").stdout):
        for key in ("formula", "matches", "parameters"):
            for markup in ("``", ":class:", ":func:", ":meth:", ":data:", ":attr:"):
                assert markup not in row[key], (row["kind"], key, row[key])
    assert "same phases as OneCycle." in ok("list", "one_cycle_momentum").stdout


def test_check_refuses_csv():
    result = run("check", "constant(0.1)", "-f", "csv")
    assert result.returncode == 2 and "csv" in result.stderr
