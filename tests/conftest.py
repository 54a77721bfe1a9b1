import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hypothesis import HealthCheck, settings  # noqa: E402

_COMMON = dict(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", **_COMMON)
# CI explores the same examples on every run, so that a red build always reproduces.
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """``lrdecay demo --quick --no-progress`` run once for the session: ``(folder, CompletedProcess)``
    (tests/test_report.py and tests/test_report_forecast.py read it)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("report") / "lrdecay-report"
    result = subprocess.run([sys.executable, "-m", "lrdecay", "demo", "--quick", "--no-progress", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    return out, result
