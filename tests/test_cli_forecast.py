"""`lrdecay forecast fit | predict | plan`, run for real in subprocesses on the loss curves of Luo et al.
(ICLR 2025, MIT license, data/loss-curves/README.md), each number checked against the library call
that gives it; and every bad input as one line on stderr with status 2."""

import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrdecay
from lrdecay.forecast import AnnealingLaw, MultiPowerLaw, Run, fit, load, metrics, plan, read_csv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "loss-curves" / "25M"
SCRIPT = shutil.which("lrdecay", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "lrdecay"]

WARMUP = "piecewise_linear([0, 2159], [0.0, 3e-4])"  # linspace(0, 3e-4, 2160), then 3e-4
#: The README's schedules of the runs as specs (tests/forecast/test_docs_page.py checks them).
SPECS = {
    "cosine_24000": f"join([{WARMUP}, cosine_annealing(3e-4, 21840, eta_min=3e-5)], [2160])",
    "constant_24000": WARMUP,
    "wsdcon_9": "piecewise_linear([0, 2159, 7999, 8000], [0.0, 3e-4, 3e-4, 9e-5])",
}
FIT_ARGS = [*(DATA / f"{name}.csv" for name in SPECS), *(a for spec in SPECS.values() for a in ("--schedule", spec)),
            "--before", "24000"]
COSINE_72000 = f"join([{WARMUP}, cosine_annealing(3e-4, 69840, eta_min=3e-5)], [2160])"


def run(*args, cwd=None, prefix=COMMAND):
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def ok(*args, **kwargs):
    result = run(*args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


def library_runs():
    return [read_csv(DATA / f"{name}.csv", lrdecay.parse(spec)).truncate(24000) for name, spec in SPECS.items()]


def page_commands() -> dict[str, list[str]]:
    """The `lrdecay forecast` commands of docs/forecast.md, by subcommand, as argument lists."""
    text = (ROOT / "docs" / "forecast.md").read_text(encoding="utf-8")
    commands = {}
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("lrdecay forecast "):
                args = shlex.split(line)[1:]
                commands[args[1]] = args
    return commands


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The page's fit of the paper's three runs, run as written (in a folder where data/ is the
    checkout's) with -f json: its output, the folder (law.json, fit.png), the library's fit of the
    same runs, and what it wrote on stderr."""
    folder = tmp_path_factory.mktemp("forecast")
    (folder / "data").symlink_to(ROOT / "data")
    args = page_commands()["fit"]
    assert args[2:5] == [f"data/loss-curves/25M/{name}.csv" for name in SPECS]
    assert [args[i + 1] for i, a in enumerate(args) if a == "--schedule"] == list(SPECS.values())
    assert args[-6:] == ["--before", "24000", "-o", "law.json", "--plot", "fit.png"]
    result = ok(*args, "-f", "json", cwd=folder)
    return json.loads(result.stdout), folder, fit(library_runs()), result.stderr


def test_fit_gives_the_librarys_law_and_scores(fitted):
    out, folder, law, stderr = fitted
    assert out["law"]["law"] == "multi_power" and out["output"] == "law.json"
    for name, value in law.params.items():
        assert out["law"][name] == pytest.approx(value, rel=1e-6), name
    saved = load(folder / "law.json")
    assert isinstance(saved, MultiPowerLaw) and saved.to_dict() == out["law"]
    assert [row["name"] for row in out["runs"]] == list(SPECS)
    for row, name in zip(out["runs"], SPECS):
        full = read_csv(DATA / f"{name}.csv", lrdecay.parse(SPECS[name]))  # every logged loss is scored
        expected = metrics(saved.predict(full.lr, full.steps), full.loss)
        for key in ("r2", "mean_rel", "max_rel"):
            assert row[key] == pytest.approx(expected[key], rel=1e-9), (name, key)
        assert row["losses"] == full.steps.size and row["first_step"] == full.steps[0]
        assert row["fitted"] == (full.steps < 24000).sum() and row["scored"] == row["losses"]
        assert row["r2"] > 0.99 and row["mean_rel"] < 0.002
    assert (folder / "fit.png").stat().st_size > 10_000
    assert "wrote law.json" in stderr and "wrote fit.png" in stderr


def test_fit_table_shows_the_parameters_and_each_run(tmp_path):
    """The annealing law (fast) in the default table format, against the library."""
    out = ok("forecast", "fit", *FIT_ARGS, "--law", "annealing").stdout
    law = fit(library_runs(), "annealing")
    assert "annealing law (Tissue et al. 2024) fitted on 3 runs (437 logged losses)" in out
    for name, value in law.params.items():
        assert f"{value:.6g}" in out, name
    for name, spec in SPECS.items():
        full = read_csv(DATA / f"{name}.csv", lrdecay.parse(spec))
        m = metrics(law.predict(full.lr, full.steps), full.loss)
        line = next(line for line in out.splitlines() if f" {name} " in line)
        assert f"{m['r2']:.4f}" in line and f"{100 * m['mean_rel']:.3f}%" in line and f"{100 * m['max_rel']:.3f}%" in line


def test_predict_gives_the_laws_predictions(fitted):
    _, folder, _, _ = fitted
    law = load(folder / "law.json")
    args = page_commands()["predict"]
    assert args[2:] == ["law.json", COSINE_72000, "--steps", "72000"]
    out = json.loads(ok(*args, "-f", "json", cwd=folder).stdout)
    assert out["steps"] == [7200 * i for i in range(1, 10)] + [71999]  # nine evenly spaced, then the last
    assert out["law"] == law.to_dict()
    (row,) = out["schedules"]
    schedule = lrdecay.parse(COSINE_72000)
    assert row["schedule"] == repr(schedule)
    assert row["lr"] == schedule(np.array(out["steps"])).tolist()
    np.testing.assert_allclose(row["loss"], law.predict(schedule, out["steps"]), rtol=1e-12)
    # the 72,000-step cosine run, three times longer than any fitted run: within 2% of its measured end
    measured = read_csv(DATA / "cosine_72000.csv", schedule)
    assert abs(row["loss"][-1] / measured.loss[-1] - 1) < 0.02
    table = ok(*args, cwd=folder).stdout  # as written: a table
    for step, value in zip(out["steps"], row["loss"]):
        assert re.search(rf"^\W*{step}\W.*\b{value:.4f}\b", table, flags=re.M), step


def test_predict_csv_table_and_plot(fitted, tmp_path):
    _, folder, _, _ = fitted
    law = load(folder / "law.json")
    out = ok("forecast", "predict", folder / "law.json", WARMUP, "-n", 24000, "--at", "0,5000,23999", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["step"]) for r in rows] == [0, 5000, 23999]
    assert rows[0]["loss"] == "inf"  # no training yet: the laws are infinite at step 0 of a warm-up from 0
    assert [float(r["loss"]) for r in rows[1:]] == law.predict(lrdecay.parse(WARMUP), [5000, 23999]).tolist()
    cosine = SPECS["cosine_24000"]
    result = ok("forecast", "predict", folder / "law.json", WARMUP, cosine, "-n", 24000, "--plot", tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 10_000 and "wrote" in result.stderr
    assert f"1: {lrdecay.parse(WARMUP)!r}" in result.stdout and f"2: {lrdecay.parse(cosine)!r}" in result.stdout
    final = law.predict(lrdecay.parse(WARMUP), [23999])[0], law.predict(lrdecay.parse(cosine), [23999])[0]
    line = next(line for line in result.stdout.splitlines() if re.match(r"\W*23999\b", line))
    assert re.search(rf"\b{final[0]:.4f}\b.*\b{final[1]:.4f}\b", line), line


def test_plan_gives_the_planners_table_and_a_spec_to_paste(fitted):
    _, folder, _, _ = fitted
    law = load(folder / "law.json")
    args = page_commands()["plan"]
    assert args[2:] == ["law.json", "--steps", "24000", "--peak", "3e-4", "--warmup", "2160", "--min-lr", "3e-5",
                        "--plot", "plan.png"]
    expected = plan(law, 24000, 3e-4, 2160, 3e-5)
    result = ok(*args, "-f", "json", cwd=folder)
    assert (folder / "plan.png").stat().st_size > 10_000 and "wrote plan.png" in result.stderr
    out = json.loads(result.stdout)
    assert out["law"] == law.to_dict() and (out["steps"], out["peak"], out["warmup"], out["min_lr"]) == (24000, 3e-4, 2160, 3e-5)
    assert [p["name"] for p in out["plans"]] == [p.name for p in expected]
    for got, want in zip(out["plans"], expected):
        assert got["final_loss"] == pytest.approx(want.final_loss, rel=1e-9)
        assert lrdecay.parse(got["schedule"]) == want.schedule and got["description"] == want.description


def test_plan_table_ends_with_the_spec_to_paste(fitted):
    """The table (a shorter run: the same code, faster), then the optimized schedule's SPEC on a
    line of its own, ready for ScheduleLR."""
    _, folder, _, _ = fitted
    law = load(folder / "law.json")
    expected = plan(law, 3000, 3e-4, 300)
    out = ok("forecast", "plan", "law.json", "-n", 3000, "--peak", 3e-4, "--warmup", 300, cwd=folder).stdout
    optimized = next(p for p in expected if p.name == "optimized")
    assert lrdecay.parse(out.split("optimized SPEC: ", 1)[1].strip()) == optimized.schedule
    rows = [line for line in out.splitlines() if re.match(r"\W*\d+\W", line)]
    assert len(rows) == len(expected) == 18
    for i, (line, p) in enumerate(zip(rows, expected), 1):
        assert re.search(rf"^\W*{i}\W+{re.escape(p.name)}\W.*\b{p.final_loss:.4f}\b", line), (line, p)
        assert f"+{p.final_loss - expected[0].final_loss:.4f}" in line


def test_a_dense_file_fits_without_schedule(tmp_path):
    """step,lr,loss at every step from 0: the rate comes from the file; the loss logged at step 0,
    before any training, is left out (the laws are infinite there)."""
    truth = AnnealingLaw(L0=2.5, A=0.8, alpha=0.4, C=0.3)
    rates = lrdecay.warmup(lrdecay.cosine_decay(1e-3, 1800, alpha=0.1), 200).curve(2000)
    loss = np.concatenate([[9.0], truth.predict(rates, np.arange(1, 2000))])
    path = tmp_path / "run.csv"
    path.write_text("step,lr,loss\n" + "".join(f"{i},{r!r},{v!r}\n" for i, (r, v) in enumerate(zip(rates.tolist(), loss.tolist()))))
    result = ok("forecast", "fit", path, "--law", "annealing", "-f", "json")
    assert "left out the 1 loss(es) logged before any training" in result.stderr
    out = json.loads(result.stdout)
    law = fit(Run(rates, np.arange(1, 2000), loss[1:]), "annealing")
    for name, value in law.params.items():
        assert out["law"][name] == pytest.approx(value, rel=1e-6), name
    assert out["runs"][0]["losses"] == 1999 and out["runs"][0]["max_rel"] < 1e-6  # the law it was made with


def test_a_fit_too_large_keeps_one_loss_in_k(tmp_path, monkeypatch, capsys):
    """The multi-power fit has one term per (logged loss, earlier change of the rate): past
    MAX_TERMS the command fits one logged loss in K and says so (here with a small budget)."""
    from lrdecay.cli import forecast as command
    from lrdecay.cli import main

    schedule = lrdecay.warmup(lrdecay.cosine_decay(1e-3, 300), 100)
    loss = MultiPowerLaw(L0=2.5, A=0.6, alpha=0.5, B=300.0, C=2.0, beta=0.6, gamma=0.6).predict(schedule, np.arange(1, 400))
    path = _write(tmp_path / "run.csv", "step,loss\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(loss.tolist(), 1)))
    monkeypatch.setattr(command, "MAX_TERMS", 20_000)
    with pytest.raises(SystemExit) as exit_info:
        main(["forecast", "fit", str(path), "--schedule", repr(schedule), "-f", "json"])
    assert exit_info.value.code in (0, None)
    captured = capsys.readouterr()
    # the rate changes at every step 1..399: the loss logged at step t has t terms
    every = next(k for k in range(1, 400) if np.arange(399, 0, -k).sum() <= 20_000)
    assert f"fitting and scoring one logged loss in {every} (--every {every})" in captured.err
    out = json.loads(captured.out)
    assert out["runs"][0]["fitted"] == out["runs"][0]["scored"] == len(range(399, 0, -every))
    assert out["runs"][0]["losses"] == 399 and (out["runs"][0]["first_step"], out["runs"][0]["last_step"]) == (1, 399)
    with pytest.raises(SystemExit) as exit_info:
        main(["forecast", "fit", str(path), "--schedule", repr(schedule), "--every", "2"])
    assert exit_info.value.code == 2 and "give a larger --every" in capsys.readouterr().err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ERRORS = [
    (["fit", "missing.csv"], "RUN file 'missing.csv': cannot read"),
    (["fit", "{header}"], "RUN file {header}: header must be 'step,lr,loss' or 'step,loss'"),
    (["fit", "{sparse}"], "RUN file {sparse}: no lr column; give its --schedule SPEC"),
    (["fit", "{dense}", "{sparse}", "-s", "constant(0.1)"], "--schedule: give one per RUN file, in their order (2 files, 1 --schedule)"),
    (["fit", "{sparse}", "-s", "cosine_decay(0.1, -3)"], "--schedule 1 (sparse.csv): bad SPEC"),
    (["fit", "{dense}", "-s", "constant(0.5)"], "RUN file {dense}: the lr column disagrees with its --schedule"),
    (["fit", "{huge}", "-s", "constant(0.1)"], "RUN file {huge}: steps: at most 10000000 steps"),
    (["fit", "{dense}", "--law", "cubic"], "--law must be multi_power or annealing, got 'cubic'"),
    (["fit", "{dense}", "-o", "law.txt"], "--output must end with .json"),
    (["fit", "{dense}", "-o", "nowhere/law.json"], "--output 'nowhere/law.json': the folder 'nowhere' does not exist"),
    (["fit", "{dense}", "--before", "0"], "--before 0: {dense} logs no loss before step 0"),
    (["fit", "{dense}", "--every", "0"], "--every must be >= 1"),
    (["predict", "missing.json", "constant(0.1)", "-n", "10"], "LAW 'missing.json': cannot read"),
    (["predict", "{notjson}", "constant(0.1)", "-n", "10"], "LAW '{notjson}': not JSON"),
    (["predict", "{badlaw}", "constant(0.1)", "-n", "10"], "LAW '{badlaw}': not a saved law (parameters: need exactly"),
    (["predict", "{law}", "constant(0.1)"], "--steps is required"),
    (["predict", "{law}", "constant(0.1)", "-n", "10000001"], "--steps must be between 1 and 10000000"),
    (["predict", "{law}", "constant(0.1)", "-n", "10", "--at", "3,10"], "--at: step 10 is past the run's last step 9"),
    (["predict", "{law}", "nonsense(1)", "-n", "10"], "SPEC 1: bad SPEC 'nonsense(1)'"),
    (["predict", "{law}", "constant(0.1)", "-n", "10", "--plot", "p.gif"], "--plot must end with .png, .svg, .pdf"),
    (["plan", "{law}", "-n", "100", "--warmup", "10"], "--peak is required"),
    (["plan", "{law}", "-n", "100", "--peak", "0.1"], "--warmup is required"),
    (["plan", "{law}", "-n", "100", "--peak", "0.1", "--warmup", "99"], "--warmup must be from 0 to 98"),
    (["plan", "{law}", "-n", "100", "--peak", "0.1", "--warmup", "5", "--min-lr", "0.2"], "--min-lr must be >= 0 and below --peak"),
    (["plan", "{law}", "-n", "20000000", "--peak", "0.1", "--warmup", "5"], "--steps must be between 2 and 10000000"),
    (["plan", "{law}", "-n", "100", "--peak", "-1", "--warmup", "5"], "--peak must be a positive number"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a)[:60] for a, _ in ERRORS])
def test_bad_input_is_one_line_with_status_2(args, message, tmp_path):
    files = {
        "header": _write(tmp_path / "header.csv", "step,value\n1,2.0\n"),
        "sparse": _write(tmp_path / "sparse.csv", "step,loss\n10,3.0\n20,2.9\n"),
        "dense": _write(tmp_path / "dense.csv", "step,lr,loss\n0,0.1,3.0\n1,0.1,2.9\n2,0.1,2.8\n"),
        "huge": _write(tmp_path / "huge.csv", "step,loss\n10,3.0\n20000000,2.9\n"),
        "notjson": _write(tmp_path / "law.json.txt", "L0 = 3\n"),
        "badlaw": _write(tmp_path / "bad.json", '{"law": "multi_power", "L0": 3.0}'),
        "law": _write(tmp_path / "law.json", MultiPowerLaw(3.0, 0.5, 0.5, 300.0, 2.0, 0.6, 0.6).to_json()),
    }
    names = {key: str(path.name) for key, path in files.items()}
    result = run("forecast", *(a.format(**names) for a in args), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lrdecay: error: "), result.stderr
    assert message.format(**names) in lines[0]


def test_without_scipy_it_says_what_to_install(tmp_path):
    law = _write(tmp_path / "law.json", MultiPowerLaw(3.0, 0.5, 0.5, 300.0, 2.0, 0.6, 0.6).to_json())
    prefix = [sys.executable, "-c", "import sys; sys.modules['scipy'] = None; from lrdecay.cli import main; main(sys.argv[1:])"]
    for args in (["forecast", "predict", law, "constant(0.1)", "-n", "10"], ["forecast", "fit", DATA / "cosine_24000.csv"]):
        result = run(*args, prefix=prefix)
        assert result.returncode == 2
        assert result.stderr == "lrdecay: error: lrdecay forecast needs scipy: pip install 'lrdecay[forecast]'\n"
    assert run("forecast", "--help", prefix=prefix).returncode == 0
    assert run("show", "constant(0.1)", "-n", "3", prefix=prefix).returncode == 0


@pytest.mark.parametrize("command", ["fit", "predict", "plan"])
def test_help_is_plain_and_every_option_explained(command):
    text = ok("forecast", command, "--help").stdout
    for markup in ("<", ">", "{", "}", "list[", ":func:", ":class:", "``", "`"):
        assert markup not in text, (markup, text)
    records = re.split(r"\n  (?=-)", "\n" + text.split("Options:", 1)[1])
    for record in records[1:]:
        head, _, rest = record.partition("  ")
        assert re.sub(r"\[default: [^\]]*\]", "", " ".join(rest.split())).strip(), f"{command} {head.strip()} has no help"
    assert "forecast" in ok("--help").stdout
