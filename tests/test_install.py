"""The base package, without extras, in a fresh virtual environment: the command it installs runs.

Never skipped: a base install whose `lrdecay` command crashes is a broken release. pip reuses its
cache, so after the first run this needs no network.
"""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_base_install_runs_the_command(tmp_path):
    # a copy of what the wheel is built from, so that the build leaves nothing in the checkout
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)  # pip runs from here, into the new environment
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    command = env_dir / "bin" / "lrdecay"

    def run(*args):
        return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)

    help_ = run("--help")
    assert help_.returncode == 0, help_.stderr
    for name in ("show", "plot", "check", "simulate"):
        assert name in help_.stdout
    assert "pip install 'lrdecay[plot]'" in " ".join(help_.stdout.split())

    shown = run("show", "cosine_decay(0.1, 100)", "--at", "0,50,100", "-f", "csv")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split(",") for line in shown.stdout.split()]
    assert rows[0] == ["step", "value"] and [r[0] for r in rows[1:]] == ["0", "50", "100"]
    assert [float(r[1]) for r in rows[1:]] == [0.1, 0.05, 0.0]  # 0.05 * (1 + cos(pi t / 100)), t = 0, 50, 100
    table = run("show", "cosine_decay(0.1, 100)")
    assert table.returncode == 0 and "cosine_decay(learning_rate=0.1, decay_steps=100)" in table.stdout

    # the optional part says what to install, in one line
    png = run("plot", "cosine_decay(0.1, 100)", "-o", "out.png")
    assert png.returncode == 2 and "Traceback" not in png.stderr
    assert png.stderr.strip() == ("lrdecay: error: writing .png files needs matplotlib: pip install "
                                  "'lrdecay[plot]' (or draw in the terminal with -t)")
    assert run("plot", "cosine_decay(0.1, 100)", "-t").returncode == 0
    demo = run("demo", "--quick", "--out", "report")
    assert demo.returncode == 2 and demo.stderr.strip() == (
        "lrdecay: error: the demo report needs matplotlib and scikit-learn: pip install 'lrdecay[demo]'")
    assert not (tmp_path / "report").exists()
    forecast = run("forecast", "predict", "law.json", "constant(0.1)", "-n", "10")
    assert forecast.returncode == 2 and forecast.stderr.strip() == (
        "lrdecay: error: lrdecay forecast needs scipy: pip install 'lrdecay[forecast]'")

    # only the base dependencies, and `import lrdecay` loads none of the command's
    code = ("import importlib.util as u, sys, lrdecay; "
            "print([m for m in ('matplotlib', 'torch', 'tensorflow', 'jax') if u.find_spec(m)], "
            "[m for m in ('typer', 'rich', 'plotext', 'yaml', 'tqdm') if m in sys.modules])")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[] []", out.stderr
