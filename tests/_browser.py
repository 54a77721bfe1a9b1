"""Headless Chromium for the browser tests: Debian's ``chromium`` and ``chromium-driver`` (no
browser download), driven by Selenium. Tests skip, saying why, only when they are not installed
(.ci/run installs them when it runs as root)."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

#: Quiet, isolated, offline: no sandbox (root in CI), no GPU, no background traffic.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,950",
)


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def chromium_paths() -> tuple[str, str] | None:
    browser = _find("/usr/bin/chromium", "chromium", "chromium-browser")
    driver = _find("/usr/bin/chromedriver", "chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium():
    """A Selenium driver for headless Chromium with a fresh profile; skips the test when no
    Chromium and chromedriver are installed."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        pytest.skip("no Chromium browser could be installed: browser tests need Debian's chromium and "
                    "chromium-driver (apt-get install -y chromium chromium-driver, which .ci/run does as root)")
    browser, driver_path = paths
    with tempfile.TemporaryDirectory(prefix="lrdecay-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        try:
            driver.set_page_load_timeout(60)
            yield driver
        finally:
            driver.quit()
